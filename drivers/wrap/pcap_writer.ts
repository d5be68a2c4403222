/**
 * A pcap writer that wraps any interface (smoltcp's `phy::PcapWriter`, gVisor's
 * `link/sniffer`): every frame transmitted or received is recorded in a
 * libpcap file that tcpdump, tshark and Wireshark read.
 *
 * Writes are synchronous but batched: records collect in one preallocated
 * buffer, written out with `writeSync` when it passes `flushBytes`, after
 * `flushMs`, and on close. Recording a frame costs one copy into that buffer —
 * no syscall, no Promise, no object per frame.
 *
 * @example Capture a driver's traffic into /tmp/en0.pcap
 * ```ts ignore
 * import { wrapWithPcap } from "./pcap_writer.ts";
 * const w = wrapWithPcap(spec, "/tmp/en0.pcap", {});
 * const receive = w.wrapReceive((frame) => attached.receive(frame));
 * // ... on detach: w.close();
 * ```
 * @module
 */

import { type Errno, ErrnoError } from "../../core/errno.ts";
import type { InterfaceSpec } from "../../core/link/driver.ts";
import type { Scheduler, WrappedInterface } from "./options.ts";
import {
  encodePcapHeader,
  encodePcapRecord,
  LINKTYPE,
  PCAP_DEFAULT_SNAPLEN,
  PCAP_RECORD_HEADER_LEN,
  type PcapRecordOptions,
} from "./pcap_format.ts";

/** Where the bytes go: an open `Deno.FsFile`, or a fake in tests. */
export interface PcapSink {
  /** Writes some of `p`; returns how many bytes were written. */
  writeSync(p: Uint8Array): number;
  /** Releases the file. */
  close(): void;
}

/** Settings of a {@linkcode PcapWriter}. */
export interface PcapWriterOptions {
  /** Link-layer header type ({@linkcode LINKTYPE}). */
  linktype: number;
  /** Bytes kept of each frame; default 65535. */
  snaplen?: number;
  /** Write out once this many bytes are buffered; default 64 KiB. */
  flushBytes?: number;
  /** Write out at most this long after a frame was recorded; default 250 ms. */
  flushMs?: number;
  /** Wall clock in epoch milliseconds (fractions give the microseconds). */
  clock?: () => number;
  /** Timers for the time-based flush; default the real ones. */
  scheduler?: Scheduler;
  /** Told once when writing fails; capturing then stops. */
  log?: (message: string) => void;
}

const REAL_SCHEDULER: Scheduler = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout(handle) {
    if (typeof handle === "number") clearTimeout(handle);
  },
};

/** Epoch milliseconds with sub-millisecond precision, unlike `Date.now`. */
function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

/** Buffers pcap records and writes them out in batches. */
export class PcapWriter {
  /** Frames recorded. */
  frames = 0;
  /** Frames cut to the snapshot length. */
  truncated = 0;
  /** Bytes handed to the sink (header included). */
  bytesWritten = 0;
  /** Frames lost because a write failed. */
  lost = 0;
  #sink: PcapSink;
  #buf: Uint8Array;
  #used = 0;
  #flushBytes: number;
  #flushMs: number;
  #snaplen: number;
  #clock: () => number;
  #sched: Scheduler;
  #log: (message: string) => void;
  #timer: unknown = null;
  #failed = false;
  #closed = false;
  /** Reused for every record: no object per frame. */
  #rec: PcapRecordOptions = { timestampUs: 0, snaplen: 0 };

  /**
   * Writes the file header at once (so even an idle capture is a valid file).
   *
   * @param sink where the bytes go; closed by {@linkcode PcapWriter.close}
   * @param options link type, snapshot length, flush policy, clock
   */
  constructor(sink: PcapSink, options: PcapWriterOptions) {
    this.#sink = sink;
    this.#snaplen = options.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    this.#flushBytes = options.flushBytes ?? 64 << 10;
    this.#flushMs = options.flushMs ?? 250;
    this.#clock = options.clock ?? wallClock;
    this.#sched = options.scheduler ?? REAL_SCHEDULER;
    this.#log = options.log ?? (() => {});
    this.#rec.snaplen = this.#snaplen;
    // Room for a full batch plus one largest record: a record never waits for space.
    this.#buf = new Uint8Array(this.#flushBytes + PCAP_RECORD_HEADER_LEN + this.#snaplen);
    this.#used = encodePcapHeader(this.#buf, 0, {
      linktype: options.linktype,
      snaplen: this.#snaplen,
    });
    this.flush();
  }

  /**
   * Opens (creating or truncating) a capture file.
   *
   * @throws {ErrnoError} ENOENT, EACCES, ENOTDIR... when the file cannot be opened
   */
  static open(path: string, options: PcapWriterOptions): PcapWriter {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { write: true, create: true, truncate: true });
    } catch (e) {
      throw new ErrnoError(errnoOf(e), `pcap=${path}`);
    }
    try {
      return new PcapWriter(file, options);
    } catch (e) {
      file.close();
      throw new ErrnoError(errnoOf(e), `pcap=${path}`);
    }
  }

  /** Records one frame (copied; the frame need only be valid during the call). */
  record(frame: Uint8Array): void {
    if (this.#failed || this.#closed) {
      if (this.#failed) this.lost++;
      return;
    }
    this.#rec.timestampUs = this.#clock() * 1000;
    this.#used = encodePcapRecord(this.#buf, this.#used, frame, this.#rec);
    this.frames++;
    if (frame.length > this.#snaplen) this.truncated++;
    if (this.#used >= this.#flushBytes) this.flush();
    else if (this.#timer === null) {
      this.#timer = this.#sched.setTimeout(() => this.#timerFired(), this.#flushMs);
    }
  }

  /** Writes out what is buffered now. */
  flush(): void {
    if (this.#timer !== null) this.#sched.clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#used === 0 || this.#failed) return;
    try {
      this.#writeAll(this.#buf.subarray(0, this.#used));
    } catch (e) {
      this.#failed = true;
      this.#log(`pcap: write failed, capture stopped: ${e instanceof Error ? e.message : e}`);
    }
    this.#used = 0;
  }

  /** Flushes and closes the sink; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    try {
      this.#sink.close();
    } catch { /* already closed: nothing left to release */ }
  }

  #timerFired(): void {
    this.#timer = null;
    this.flush();
  }

  #writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      const n = this.#sink.writeSync(bytes.subarray(off));
      if (n <= 0) throw new Error("Short write: the file took no bytes");
      off += n;
    }
    this.bytesWritten += off;
  }
}

function errnoOf(e: unknown): Errno {
  if (e instanceof Deno.errors.NotFound) return "ENOENT";
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
    return "EACCES";
  }
  if (e instanceof Deno.errors.NotADirectory) return "ENOTDIR";
  if (e instanceof Deno.errors.IsADirectory) return "EINVAL";
  return "EIO";
}

/** Options of {@linkcode wrapWithPcap}. */
export interface PcapWrapOptions extends Partial<PcapWriterOptions> {
  /** Write here instead of opening `path` (tests); `path` is then only a label. */
  sink?: PcapSink;
}

/** A {@linkcode WrappedInterface} that also exposes its writer. */
export interface PcapWrappedInterface extends WrappedInterface {
  /** The writer, for its counters. */
  readonly writer: PcapWriter;
}

/**
 * The link type for an interface: Ethernet when it has a 6-byte link address,
 * raw IP (LINKTYPE_RAW, TUN-like links) otherwise.
 *
 * @example
 * ```ts
 * import { linktypeFor } from "./pcap_writer.ts";
 * console.log(linktypeFor({ mtu: 1500, transmit() {} })); // 101
 * ```
 */
export function linktypeFor(spec: InterfaceSpec): number {
  return spec.lladdr?.length === 6 ? LINKTYPE.ETHERNET : LINKTYPE.RAW;
}

/**
 * Wraps `spec` so that both directions are recorded into a pcap file at `path`.
 * Transmit records, then forwards; received frames are recorded before they are
 * delivered. Detaching the wrapped spec closes the file.
 *
 * @param spec the interface spec to wrap
 * @param path the capture file (created or truncated)
 * @param options link type (default from {@linkcode linktypeFor}), flush policy, clock
 * @returns the wrapped interface and its writer
 * @throws {ErrnoError} when the file cannot be opened
 *
 * @example Record into memory
 * ```ts
 * import { wrapWithPcap } from "./pcap_writer.ts";
 * const chunks: Uint8Array[] = [];
 * const sink = { writeSync: (p: Uint8Array) => (chunks.push(p.slice()), p.length), close() {} };
 * const w = wrapWithPcap({ mtu: 1500, transmit() {} }, "mem", { sink });
 * w.spec.transmit(new Uint8Array([0x45, 0, 0, 20]));
 * w.close();
 * console.log(w.writer.frames, w.writer.bytesWritten); // 1 44
 * ```
 */
export function wrapWithPcap(
  spec: InterfaceSpec,
  path: string,
  options: PcapWrapOptions = {},
): PcapWrappedInterface {
  const settings = { ...options, linktype: options.linktype ?? linktypeFor(spec) };
  const writer = options.sink
    ? new PcapWriter(options.sink, settings)
    : PcapWriter.open(path, settings);
  return {
    writer,
    spec: {
      ...spec,
      transmitAt: undefined, // every frame goes through the capture
      transmit(frame) {
        writer.record(frame);
        return spec.transmit(frame);
      },
      detach() {
        writer.close();
        spec.detach?.();
      },
    },
    wrapReceive: (deliver) => (frame) => {
      writer.record(frame);
      deliver(frame);
    },
    close: () => writer.close(),
    summary: () => [
      `pcap ${path}: ${writer.frames} frames, ${writer.bytesWritten} bytes` +
      (writer.truncated ? `, ${writer.truncated} cut to the snaplen` : "") +
      (writer.lost ? `, ${writer.lost} lost after a write error` : ""),
    ],
  };
}
