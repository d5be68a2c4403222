/**
 * Reception for one file descriptor: a reader Worker fills a
 * {@linkcode FrameRing}, a {@linkcode FrameRingReader} on this (the stack)
 * thread hands each frame to a callback, in batches.
 *
 * {@linkcode FdReader.stop} is synchronous and leaves nothing behind: it wakes
 * the Worker through an eventfd, waits (bounded) until the Worker has stopped
 * touching the descriptor, terminates it and closes the eventfd. A Worker keeps
 * Deno's event loop alive, so a detached interface must call `stop()`; the
 * pending `Atomics.waitAsync` alone does not keep it alive.
 *
 * @example
 * ```ts ignore
 * const reader = new FdReader(fd, { slots: 256, maxFrame: 1518, onFrame: (f) => iface.receive(f) });
 * // ... later, on detach:
 * reader.stop();
 * libc().close(fd);
 * ```
 * @module
 */

import { type FrameCallback, FrameRing, FrameRingReader, W } from "./frame_ring.ts";
import { closeQuietly, E, EFD, libc, throwErrno } from "./libc.ts";
import type { ReaderStart } from "./reader_worker.ts";

/** Options of an {@linkcode FdReader}. */
export interface FdReaderOptions {
  /** Ring slots (rounded up to a power of two). */
  slots: number;
  /** Largest frame to receive whole. */
  maxFrame: number;
  /** The descriptor is a datagram socket (datagrams longer than `maxFrame` are dropped, counted). */
  datagram?: boolean;
  /** Called per frame on this thread; the view is valid only during the call. */
  onFrame: FrameCallback;
  /** Called once if reading ends by itself; the Linux errno (0: end of file). */
  onExit?: (linuxErrno: number) => void;
  /** Where problems are told (a throwing `onFrame`, a Worker that fails); default console.error. */
  log?: (message: string) => void;
}

/** How long `stop()` waits for the Worker to leave its system call. */
const STOP_WAIT_MS = 2000;
/** How long an attach waits for its reader Worker to run. */
const READY_WAIT_MS = 15_000;
const WAKE = new Uint8Array(new BigUint64Array([1n]).buffer);

/** Reads frames from a descriptor in a Worker and delivers them here in batches. */
export class FdReader {
  /** The ring (for its counters). */
  readonly ring: FrameRing;
  /**
   * Resolves once the Worker reads (or has failed to start): frames that came
   * earlier waited in the kernel. Starting a Worker takes ~50-100 ms, longer
   * when `deno test` type-checks it first. Never rejects.
   */
  readonly ready: Promise<void>;
  readonly #reader: FrameRingReader;
  readonly #worker: Worker;
  readonly #wakeFd: number;
  readonly #log: (message: string) => void;
  readonly #resolveReady: () => void;
  #stopped = false;

  /**
   * Starts reading `fd` (which must be non-blocking). The caller keeps owning
   * `fd` and closes it after {@linkcode stop}. Throws an ErrnoError if no
   * eventfd can be made.
   */
  constructor(fd: number, opts: FdReaderOptions) {
    const log = opts.log ?? ((m: string) => console.error(m));
    this.#log = log;
    this.ring = FrameRing.create({ slots: opts.slots, maxFrame: opts.maxFrame });
    this.#wakeFd = libc().eventfd(0, EFD.CLOEXEC | EFD.NONBLOCK);
    if (this.#wakeFd < 0) throwErrno("eventfd");
    this.#reader = new FrameRingReader(this.ring, opts.onFrame, {
      onProducerExit: opts.onExit,
      onError: (e) => log(`frame callback threw: ${e instanceof Error ? e.stack : e}`),
    });
    try {
      this.#worker = new Worker(new URL("./reader_worker.ts", import.meta.url), {
        type: "module",
      });
    } catch (e) {
      closeQuietly(this.#wakeFd); // e.g. no --allow-read for the Worker's module
      throw e;
    }
    const ready = Promise.withResolvers<void>();
    this.ready = ready.promise;
    this.#resolveReady = ready.resolve;
    this.#worker.onmessage = () => ready.resolve();
    this.#worker.onerror = (e) => {
      // A Worker that fails to load never reads; report it as the producer ending.
      e.preventDefault();
      log(`reader worker failed: ${e.message}`);
      ready.resolve();
      opts.onExit?.(E.EIO);
    };
    const start: ReaderStart = {
      ring: this.ring.buffer,
      fd,
      wakeFd: this.#wakeFd,
      datagram: opts.datagram ?? false,
    };
    this.#worker.postMessage(start);
    this.#reader.start();
  }

  /** Waits (bounded) for {@linkcode ready}; resolves false if `timeoutMs` passed first. */
  async whenReady(timeoutMs = READY_WAIT_MS): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([this.ready.then(() => true as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether {@linkcode stop} has run. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Stops the Worker and frees what this reader holds (not the descriptor).
   * When it returns, the Worker no longer uses the descriptor. Idempotent.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reader.stop();
    const c = this.ring.ctrl;
    Atomics.store(c, W.STOP, 1);
    Atomics.notify(c, W.TAIL); // a Worker waiting for ring space
    libc().write(this.#wakeFd, WAKE, 8); // a Worker sleeping in poll()
    // STOP-then-READY pairs with the Worker's READY-then-STOP: if READY is still 0
    // here, the Worker will see STOP before its first read and never touch the fd.
    if (Atomics.load(c, W.READY) === 1 && Atomics.load(c, W.STOPPED) === 0) {
      if (Atomics.wait(c, W.STOPPED, 0, STOP_WAIT_MS) === "timed-out") {
        this.#log(`reader worker did not stop within ${STOP_WAIT_MS} ms`);
      }
    }
    this.#worker.terminate();
    closeQuietly(this.#wakeFd);
    this.#resolveReady();
  }
}
