/**
 * Reception for one file descriptor: a reader Worker of a
 * {@linkcode ReaderPool} (io-pkt's `-t` threads, shared among descriptors)
 * fills a {@linkcode FrameRing}, a {@linkcode FrameRingReader} on this (the
 * stack) thread hands each frame to a callback, in batches.
 *
 * {@linkcode FdReader.stop} is synchronous and leaves nothing behind: it tells
 * the Worker through the ring and an eventfd, waits (bounded) until the Worker
 * has stopped touching the descriptor, and the pool terminates a Worker left
 * with no descriptor. A Worker keeps Deno's event loop alive, so a detached
 * interface must call `stop()`; the pending `Atomics.waitAsync` alone does not
 * keep it alive.
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

import type { ReaderPoolRef } from "../../core/link/driver.ts";
import { type FrameCallback, FrameRing, FrameRingReader } from "./frame_ring.ts";
import { E } from "./libc.ts";
import { type ReaderLease, readerPoolFor } from "./reader_pool.ts";

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
  /** Runs each batch of deliveries (the interface's `batch`: one stack turn per batch). */
  batch?: (deliver: () => void) => void;
  /** Called once if reading ends by itself; the Linux errno (0: end of file). */
  onExit?: (linuxErrno: number) => void;
  /** Where problems are told (a throwing `onFrame`, a Worker that fails); default console.error. */
  log?: (message: string) => void;
  /** The reader threads to use (`DriverHost.readerPool`); default one Worker per CPU. */
  pool?: ReaderPoolRef;
}

/** How long an attach waits for its reader Worker to run. */
const READY_WAIT_MS = 15_000;

/** Reads frames from a descriptor in a pooled Worker and delivers them here in batches. */
export class FdReader {
  /** The ring (for its counters). */
  readonly ring: FrameRing;
  /**
   * Resolves once the Worker reads (or has failed to start): frames that came
   * earlier waited in the kernel. Starting a Worker takes ~50-100 ms, longer
   * when `deno test` type-checks it first; joining a running one is quick.
   * Never rejects.
   */
  readonly ready: Promise<void>;
  readonly #reader: FrameRingReader;
  readonly #lease: ReaderLease;
  readonly #resolveReady: () => void;
  #stopped = false;

  /**
   * Starts reading `fd` (which must be non-blocking). The caller keeps owning
   * `fd` and closes it after {@linkcode stop}. Throws an ErrnoError if no
   * eventfd can be made, or what `new Worker` throws.
   */
  constructor(fd: number, opts: FdReaderOptions) {
    const log = opts.log ?? ((m: string) => console.error(m));
    this.ring = FrameRing.create({ slots: opts.slots, maxFrame: opts.maxFrame });
    const ready = Promise.withResolvers<void>();
    this.ready = ready.promise;
    this.#resolveReady = ready.resolve;
    // The consumer first, the lease last: once the pool has the descriptor, nothing here throws
    // (a lease lost to an exception would leave a Worker reading a descriptor its owner closes).
    this.#reader = new FrameRingReader(this.ring, opts.onFrame, {
      wrap: opts.batch,
      onProducerExit: opts.onExit,
      onError: (e) => log(`frame callback threw: ${e instanceof Error ? e.stack : e}`),
      onSpace: () => this.#lease.wake(),
    });
    this.#lease = readerPoolFor(opts.pool).attach(fd, this.ring, {
      datagram: opts.datagram,
      onReady: () => ready.resolve(),
      onFail: () => {
        // A Worker that fails to load never reads; report it as the producer ending.
        ready.resolve();
        opts.onExit?.(E.EIO);
      },
    });
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
   * Stops reading and frees what this reader holds (not the descriptor).
   * When it returns, the Worker no longer uses the descriptor (and is gone if
   * it read no other). Idempotent.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reader.stop();
    this.#lease.release();
    this.#resolveReady();
  }
}
