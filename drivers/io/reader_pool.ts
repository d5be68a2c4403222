/**
 * io-pkt's layer-2 threads (`-t N`): at most N reader Workers
 * (`reader_worker.ts`) shared by every descriptor the drivers read. Each
 * descriptor keeps its own {@linkcode FrameRing} and its own consumer on the
 * stack thread; only the Worker that fills the ring is shared. A new descriptor
 * goes to a new Worker while there are fewer than N, then to the Worker with
 * the fewest descriptors. A Worker left with no descriptor is terminated (a
 * live Worker keeps Deno's event loop alive, so a process whose interfaces are
 * all detached can exit).
 *
 * How a running Worker, busy in a synchronous loop that cannot take messages,
 * learns of changes: a small command area in a `SharedArrayBuffer` plus an
 * eventfd it polls (see `reader_worker.ts`). A descriptor is added by message
 * (its ring must travel as one) announced in the command area, so the Worker
 * leaves its loop to take it; a descriptor is stopped through its ring's STOP
 * word, answered by STOPPED without leaving the loop, which keeps
 * {@linkcode ReaderLease.release} synchronous and bounded.
 *
 * @example Two descriptors, one thread
 * ```ts ignore
 * const pool = new ReaderPool(1);
 * const a = pool.attach(fdA, ringA, { datagram: true, onReady() {}, onFail() {} });
 * const b = pool.attach(fdB, ringB, { datagram: true, onReady() {}, onFail() {} });
 * pool.workerLoads(); // [2]
 * a.release();
 * b.release(); // the Worker is terminated
 * ```
 * @module
 */

import type { ReaderPoolRef } from "../../core/link/driver.ts";
import { type FrameRing, W } from "./frame_ring.ts";
import { closeQuietly, E, EFD, libc, throwErrno } from "./libc.ts";
import { C, COMMAND_WORDS, type ReaderCommand, type ReaderReady } from "./reader_worker.ts";

/** How one descriptor is read, and what the pool tells its owner. */
export interface ReaderLeaseOptions {
  /** A datagram socket: read with `recvfrom(MSG_TRUNC)`. */
  datagram?: boolean;
  /** The Worker reads the descriptor now. */
  onReady(): void;
  /** The Worker failed (it never read, or it died): reception is over. */
  onFail(message: string): void;
}

/** One descriptor's place in the pool. */
export interface ReaderLease {
  /** Wakes the Worker (the consumer freed space in a ring it found full). */
  wake(): void;
  /**
   * Stops reading the descriptor: when it returns, the Worker no longer uses
   * it (bounded wait), and a Worker left with none is terminated. Idempotent.
   */
  release(): void;
}

/** Options of a {@linkcode ReaderPool}. */
export interface ReaderPoolOptions {
  /** Where problems are told (a Worker that fails or does not stop); default console.error. */
  log?: (message: string) => void;
  /**
   * Frames each new Worker reads from a scratch socket pair once it has taken
   * its first descriptor (which it reads meanwhile), so its read loop is
   * optimised code from the first frames of an idle link (the daemon's JIT
   * warm-up); default 0.
   */
  warmUpRounds?: number;
}

/** How long a release waits for the Worker to leave the descriptor (or its loop). */
const STOP_WAIT_MS = 2000;
const WAKE = new Uint8Array(new BigUint64Array([1n]).buffer);

/** One descriptor as its Worker's record keeps it. */
interface Member {
  ring: FrameRing;
  events: ReaderLeaseOptions;
}

/** One reader Worker and what it reads. */
class PoolWorker {
  readonly members = new Map<number, Member>();
  retired = false;
  /** The eventfd; -1 once closed (or given up), so it is never written or closed again. */
  wakeFd: number;

  constructor(
    readonly worker: Worker,
    wakeFd: number,
    readonly cmd: Int32Array<SharedArrayBuffer>,
  ) {
    this.wakeFd = wakeFd;
  }

  /** Makes the Worker look at its command words and rings. */
  wake(): void {
    if (!this.retired && this.wakeFd >= 0) libc().write(this.wakeFd, WAKE, 8);
  }
}

/** At most `size` reader Workers, shared by the descriptors given to {@linkcode attach}. */
export class ReaderPool implements ReaderPoolRef {
  /** Most Workers at once (`-t`). */
  readonly size: number;
  #workers: PoolWorker[] = [];
  #nextId = 1;
  readonly #log: (message: string) => void;
  readonly #warmUpRounds: number;

  /** @param size most Workers, an integer from 1 */
  constructor(size: number, opts: ReaderPoolOptions = {}) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`reader pool: size ${size}`);
    this.size = size;
    this.#log = opts.log ?? ((m: string) => console.error(m));
    this.#warmUpRounds = opts.warmUpRounds ?? 0;
  }

  /** Descriptors per live Worker, in start order (for tests and diagnostics). */
  workerLoads(): number[] {
    return this.#workers.map((w) => w.members.size);
  }

  /** poll() calls each live Worker has made, in start order (a busy Worker shows here). */
  workerPolls(): number[] {
    return this.#workers.map((w) => Atomics.load(w.cmd, C.POLLS) >>> 0);
  }

  /**
   * Starts reading `fd` (non-blocking; the caller keeps owning it) into
   * `ring`. Throws an ErrnoError if no eventfd can be made, or what `new
   * Worker` throws (no permission to read the Worker's module).
   */
  attach(fd: number, ring: FrameRing, opts: ReaderLeaseOptions): ReaderLease {
    const pw = this.#pick();
    const id = this.#nextId++;
    pw.members.set(id, { ring, events: opts });
    const add: ReaderCommand = {
      kind: "add",
      id,
      ring: ring.buffer,
      fd,
      datagram: opts.datagram ?? false,
    };
    pw.worker.postMessage(add);
    // Posted first, announced second: a Worker that sees POSTED move finds the message queued.
    Atomics.add(pw.cmd, C.POSTED, 1);
    pw.wake();
    let released = false;
    return {
      wake: () => {
        if (!released) pw.wake();
      },
      release: () => {
        if (released) return;
        released = true;
        this.#release(pw, id, ring);
      },
    };
  }

  /** A new Worker while fewer than `size` run, else the least loaded. */
  #pick(): PoolWorker {
    if (this.#workers.length < this.size) {
      const pw = this.#start();
      this.#workers.push(pw);
      return pw;
    }
    return this.#workers.reduce((a, b) => b.members.size < a.members.size ? b : a);
  }

  #start(): PoolWorker {
    const wakeFd = libc().eventfd(0, EFD.CLOEXEC | EFD.NONBLOCK);
    if (wakeFd < 0) throwErrno("eventfd");
    let worker: Worker;
    try {
      worker = new Worker(new URL("./reader_worker.ts", import.meta.url), { type: "module" });
    } catch (e) {
      closeQuietly(wakeFd); // e.g. no --allow-read for the Worker's module
      throw e;
    }
    const cmd = new Int32Array(new SharedArrayBuffer(COMMAND_WORDS * 4));
    const pw = new PoolWorker(worker, wakeFd, cmd);
    worker.onmessage = (e: MessageEvent<ReaderReady>) =>
      pw.members.get(e.data.ready)?.events.onReady();
    worker.onerror = (e) => {
      // A Worker that fails to load never reads; one that dies reads no more.
      e.preventDefault();
      this.#log(`reader worker failed: ${e.message}`);
      this.#fail(pw, e.message);
    };
    worker.postMessage(
      {
        kind: "init",
        cmd: cmd.buffer,
        wakeFd,
        warmUpRounds: this.#warmUpRounds,
      } satisfies ReaderCommand,
    );
    return pw;
  }

  /** No new descriptors for `pw`; its members hear that reception is over. */
  #fail(pw: PoolWorker, message: string): void {
    this.#workers = this.#workers.filter((w) => w !== pw);
    for (const m of pw.members.values()) m.events.onFail(message);
  }

  #release(pw: PoolWorker, id: number, ring: FrameRing): void {
    const c = ring.ctrl;
    Atomics.store(c, W.STOP, 1);
    pw.wake(); // a Worker sleeping in poll()
    // STOP-then-READY pairs with the Worker's READY-then-STOP: if READY is still 0 here, the
    // Worker will see STOP when it takes the descriptor and never touch it.
    let stuck = false;
    if (Atomics.load(c, W.READY) === 1 && Atomics.load(c, W.STOPPED) === 0) {
      stuck = Atomics.wait(c, W.STOPPED, 0, STOP_WAIT_MS) === "timed-out";
      if (stuck) this.#log(`reader worker did not stop within ${STOP_WAIT_MS} ms`);
    }
    pw.members.delete(id);
    if (stuck) this.#abandon(pw);
    else if (pw.members.size === 0) this.#retire(pw, true);
  }

  /** A Worker that does not answer: its other descriptors end with EIO, and it goes. */
  #abandon(pw: PoolWorker): void {
    for (const m of pw.members.values()) {
      const c = m.ring.ctrl;
      Atomics.store(c, W.ERRNO, E.EIO);
      Atomics.store(c, W.STOPPED, 1);
      Atomics.notify(c, W.HEAD); // each consumer reports its producer's exit
    }
    this.#retire(pw, false);
  }

  /**
   * Ends `pw`: out of its loop (waiting for that when `wait`), terminated,
   * eventfd closed. Runs once per Worker. The eventfd is closed only when the
   * Worker is known to be out of its loop: a Worker that may still sit in
   * `poll()` on it, or be about to `read()` it, keeps it (a few bytes leaked),
   * since closing it then would let the number go to the next descriptor the
   * process opens (a Worker's own epoll instance, a socket) and the Worker
   * would read that one.
   */
  #retire(pw: PoolWorker, wait: boolean): void {
    if (pw.retired) return;
    this.#workers = this.#workers.filter((w) => w !== pw);
    const c = pw.cmd;
    Atomics.store(c, C.CLOSING, 1);
    pw.wake();
    pw.retired = true;
    // CLOSING-then-RUNNING pairs with the Worker's RUNNING-then-CLOSING: a Worker entering its
    // loop after this load sees CLOSING and leaves it without touching a descriptor.
    let out = Atomics.load(c, C.RUNNING) === 0;
    if (!out && wait) {
      out = Atomics.wait(c, C.RUNNING, 1, STOP_WAIT_MS) !== "timed-out";
      if (!out) this.#log(`reader worker did not leave its loop within ${STOP_WAIT_MS} ms`);
    }
    pw.worker.terminate();
    const fd = pw.wakeFd;
    pw.wakeFd = -1;
    if (out) closeQuietly(fd);
  }
}

let shared: ReaderPool | undefined;

/**
 * The pool `ref` stands for (a driver passes `DriverHost.readerPool`); without
 * one, a private pool of one Worker per CPU, made on first use (tests, an
 * embedded stack).
 */
export function readerPoolFor(ref?: ReaderPoolRef): ReaderPool {
  if (ref instanceof ReaderPool) return ref;
  shared ??= new ReaderPool(Math.max(1, navigator.hardwareConcurrency || 1));
  return shared;
}
