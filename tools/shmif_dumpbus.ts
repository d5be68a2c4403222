/**
 * `shmif_dumpbus`: shows or converts the traffic of a shmif bus, as NetBSD's
 * `shmif_dumpbus` does for its bus files. It reads the bus's capture ring,
 * `BUS/capture.old` then `BUS/capture` merged in time order (or BUS itself
 * when BUS is a file): the records its members appended (see
 * `drivers/io/shmif_capture_ring.ts`; every bus has one unless its members
 * were started with `capture=0`). It needs no stack and no control socket.
 *
 * ```
 * shmif_dumpbus [-h] [-p pcapfile] bus
 *   -h            print only the summary line
 *   -p pcapfile   write a libpcap file (DLT_EN10MB); "-" is standard output
 * ```
 * Without `-p` it prints a summary line and one line per frame.
 *
 * @example Into tcpdump
 * ```sh
 * shmif_dumpbus -p - /tmp/bus1 | tcpdump -n -r -
 * ```
 * @module
 */

import { getopt } from "./getopt.ts";
import { CAPTURE_FILE, readCaptureRecords } from "../drivers/io/shmif_capture.ts";
import type { CaptureRecord } from "../drivers/io/shmif_capture.ts";
import { CAPTURE_OLD_FILE } from "../drivers/io/shmif_capture_ring.ts";
import {
  encodePcapHeader,
  encodePcapRecord,
  LINKTYPE,
  PCAP_HEADER_LEN,
  pcapRecordLength,
} from "../drivers/wrap/pcap_format.ts";

/** The world as `shmif_dumpbus` sees it: files and output streams (fakes in tests). */
export interface DumpbusIO {
  /** Writes text to standard output. */
  stdout(text: string): void;
  /** Writes text to standard error. */
  stderr(text: string): void;
  /** Writes bytes to standard output (`-p -`). */
  stdoutBytes(bytes: Uint8Array): void;
  /** Whether `path` is a directory; throws (Deno.errors.NotFound...) when it is missing. */
  isDirectory(path: string): boolean;
  readFile(path: string): Uint8Array;
  writeFile(path: string, bytes: Uint8Array): void;
}

/** The real file system and streams. */
export const DENO_DUMPBUS_IO: DumpbusIO = {
  stdout: (text) => writeAll(Deno.stdout, new TextEncoder().encode(text)),
  stderr: (text) => writeAll(Deno.stderr, new TextEncoder().encode(text)),
  stdoutBytes: (bytes) => writeAll(Deno.stdout, bytes),
  isDirectory: (path) => Deno.statSync(path).isDirectory,
  readFile: (path) => Deno.readFileSync(path),
  writeFile: (path, bytes) => Deno.writeFileSync(path, bytes),
};

function writeAll(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}

const USAGE = "usage: shmif_dumpbus [-h] [-p pcapfile] bus\n";

/** The whole pcap file for `records`: one allocation, Ethernet link type. */
export function capturesToPcap(records: readonly CaptureRecord[]): Uint8Array {
  let size = PCAP_HEADER_LEN;
  for (const r of records) size += pcapRecordLength(r.frame.length);
  const out = new Uint8Array(size);
  let at = encodePcapHeader(out, 0, { linktype: LINKTYPE.ETHERNET });
  for (const r of records) {
    at = encodePcapRecord(out, at, r.frame, { timestampUs: r.sec * 1e6 + r.usec });
  }
  return out;
}

function mac(bytes: Uint8Array, at: number): string {
  return Array.from(bytes.subarray(at, at + 6), (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** One line per frame: index, time, length, addresses and EtherType. */
export function describeRecord(i: number, r: CaptureRecord): string {
  const f = r.frame;
  const time = `${r.sec}.${String(r.usec).padStart(6, "0")}`;
  if (f.length < 14) return `frame ${i}: ${time} len ${f.length} (runt)\n`;
  const type = ((f[12] << 8) | f[13]).toString(16).padStart(4, "0");
  return `frame ${i}: ${time} len ${f.length} ${mac(f, 6)} > ${mac(f, 0)} type 0x${type}\n`;
}

/** Runs `shmif_dumpbus` with its arguments; returns the exit code. */
export function shmifDumpbusMain(args: string[], io: DumpbusIO = DENO_DUMPBUS_IO): number {
  const r = getopt(args, "hp:");
  if (!r.ok || r.operands.length !== 1) {
    if (!r.ok) io.stderr(`shmif_dumpbus: ${r.kind} option -- ${r.opt}\n`);
    io.stderr(USAGE);
    return 1;
  }
  const summaryOnly = r.opts.some((o) => o.opt === "h");
  const pcapOut = r.opts.findLast((o) => o.opt === "p")?.arg;
  const bus = r.operands[0];
  let path = bus;
  const records: CaptureRecord[] = [];
  try {
    if (io.isDirectory(bus)) {
      const dir = bus.replace(/\/+$/, "");
      path = `${dir}/${CAPTURE_OLD_FILE}`;
      // The older generation exists only once the ring has turned over.
      const older = readOptional(io, path);
      if (older) records.push(...readReporting(io, path, older));
      path = `${dir}/${CAPTURE_FILE}`;
    }
    records.push(...readReporting(io, path, io.readFile(path)));
  } catch (e) {
    io.stderr(`shmif_dumpbus: ${path}: ${e instanceof Error ? e.message : e}\n`);
    return 1;
  }
  // Members append concurrently and the ring has two files: show the bus in time order.
  records.sort((a, b) => a.sec - b.sec || a.usec - b.usec);
  if (pcapOut !== undefined) return writePcap(io, pcapOut, records);
  const total = records.reduce((n, rec) => n + rec.frame.length, 0);
  io.stdout(`bus ${bus}: ${records.length} frames, ${total} bytes\n`);
  if (!summaryOnly) records.forEach((rec, i) => io.stdout(describeRecord(i, rec)));
  return 0;
}

/** The file's bytes, or null when it is missing. */
function readOptional(io: DumpbusIO, path: string): Uint8Array | null {
  try {
    return io.readFile(path);
  } catch {
    return null;
  }
}

/** The records of one capture file; a cut-off last record is reported and skipped. */
function readReporting(io: DumpbusIO, path: string, bytes: Uint8Array): CaptureRecord[] {
  const { records, trailing } = readCaptureRecords(bytes);
  if (trailing > 0) io.stderr(`shmif_dumpbus: ${path}: ${trailing} bytes of a cut-off record\n`);
  return records;
}

function writePcap(io: DumpbusIO, out: string, records: readonly CaptureRecord[]): number {
  const pcap = capturesToPcap(records);
  try {
    if (out === "-") io.stdoutBytes(pcap);
    else io.writeFile(out, pcap);
  } catch (e) {
    io.stderr(`shmif_dumpbus: ${out}: ${e instanceof Error ? e.message : e}\n`);
    return 1;
  }
  return 0;
}
