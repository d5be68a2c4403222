/**
 * A seeded fault injector that wraps any interface (smoltcp's `phy::FaultInjector`):
 * it drops, duplicates, reorders, corrupts and delays frames, in either
 * direction, and counts what it did.
 *
 * Each frame goes through the same steps: drop? → corrupt? (one bit of a copy)
 * → send it, and a second time if duplicated; each send passes the reorder step
 * (hold the frame until the next one has gone, or until `reorderTimeoutMs`),
 * then the delay step (wait `delayMs` plus a uniform 0..`jitterMs`; jitter can
 * reorder frames, as with netem). Frames it holds are copies, since a frame is
 * only valid during the call; at most `maxHeldFrames` / `maxHeldBytes` per
 * direction are held, and a frame over the bound is dropped and counted as
 * `overflowed`.
 *
 * Every fault and direction draws from its own PRNG stream derived from the
 * seed, so with a given seed the n-th frame of a direction meets the same fate
 * whatever else is configured or however the two directions interleave.
 *
 * @example Drop half the frames, reproducibly
 * ```ts
 * import { wrapWithFaults } from "./fault_injector.ts";
 * let sent = 0;
 * const w = wrapWithFaults({ mtu: 1500, transmit() { sent++; } }, { drop: 0.5, seed: 42 });
 * for (let i = 0; i < 1000; i++) w.spec.transmit(new Uint8Array(64));
 * console.log(sent + (w.stats().tx?.dropped ?? 0)); // 1000
 * ```
 * @module
 */

import type { InterfaceSpec } from "../../core/link/driver.ts";
import type { FaultOptions, Scheduler, WrappedInterface } from "./options.ts";

/** Settings of {@linkcode wrapWithFaults}: the parsed options plus bounds. */
export interface FaultInjectorOptions extends Partial<FaultOptions> {
  /** Frames held at once per direction (reorder and delay); default 1024. */
  maxHeldFrames?: number;
  /** Bytes held at once per direction; default 8 MiB. */
  maxHeldBytes?: number;
  /** Longest a reordered frame waits for a next one before it goes anyway; default 100 ms. */
  reorderTimeoutMs?: number;
}

/** What the injector did in one direction. */
export interface FaultCounters {
  /** Frames that entered. */
  frames: number;
  /** Frames dropped by the `drop` rate. */
  dropped: number;
  /** Extra copies sent. */
  duplicated: number;
  /** Held frames that went out after a later one. */
  reordered: number;
  /** Frames sent with one bit flipped. */
  corrupted: number;
  /** Frame sends that waited in the delay queue. */
  delayed: number;
  /** Frames dropped because the held-frame bound was reached. */
  overflowed: number;
}

/** Counters of both directions; a direction without faults is absent. */
export interface FaultStats {
  /** The seed in use (the random one when none was given). */
  seed: number;
  /** Transmitted frames (stack → driver). */
  tx?: FaultCounters;
  /** Received frames (driver → stack). */
  rx?: FaultCounters;
}

/** A {@linkcode WrappedInterface} that also reports its counters. */
export interface FaultWrappedInterface extends WrappedInterface {
  /** A snapshot of the counters. */
  stats(): FaultStats;
}

/**
 * mulberry32: a small, fast 32-bit PRNG; deterministic for a seed.
 *
 * @example
 * ```ts
 * import { Mulberry32 } from "./fault_injector.ts";
 * const a = new Mulberry32(1), b = new Mulberry32(1);
 * console.log(a.next() === b.next()); // true
 * ```
 */
export class Mulberry32 {
  #state: number;

  /**
   * Starts a stream.
   *
   * @param seed any 32-bit integer
   */
  constructor(seed: number) {
    this.#state = seed | 0;
  }

  /** The next number, uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** murmur3's finaliser: spreads a seed and stream number over unrelated states. */
function mix32(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** PRNG streams of one direction. */
const STREAM = { drop: 0, dup: 1, reorder: 2, corrupt: 3, jitter: 4 } as const;
const STREAMS_PER_LANE = 5;

function emptyCounters(): FaultCounters {
  return {
    frames: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    delayed: 0,
    overflowed: 0,
  };
}

interface LaneConfig {
  drop: number;
  dup: number;
  reorder: number;
  corrupt: number;
  delayMs: number;
  jitterMs: number;
  maxHeldFrames: number;
  maxHeldBytes: number;
  reorderTimeoutMs: number;
}

interface Delayed {
  due: number;
  frame: Uint8Array;
}

/** One direction's pipeline: drop → corrupt → dup → reorder → delay → sink. */
class FaultLane {
  readonly counters = emptyCounters();
  sink: (frame: Uint8Array) => void;
  #cfg: LaneConfig;
  #sched: Scheduler;
  #rng: Mulberry32[];
  #closed = false;
  #heldFrames = 0;
  #heldBytes = 0;
  #reorderHeld: Uint8Array | null = null;
  #reorderTimer: unknown = null;
  #queue: Delayed[] = [];
  #delayTimer: unknown = null;

  constructor(cfg: LaneConfig, sched: Scheduler, seeds: number[]) {
    this.#cfg = cfg;
    this.#sched = sched;
    this.#rng = seeds.map((s) => new Mulberry32(s));
    this.sink = () => {};
  }

  /** Takes one frame, valid only during the call. */
  input(frame: Uint8Array): void {
    if (this.#closed) return this.sink(frame);
    const c = this.counters;
    c.frames++;
    if (this.#hit(STREAM.drop, this.#cfg.drop)) {
      c.dropped++;
      return;
    }
    let f = frame;
    if (frame.length > 0 && this.#hit(STREAM.corrupt, this.#cfg.corrupt)) {
      f = this.#corrupt(frame);
      c.corrupted++;
    }
    const twice = this.#hit(STREAM.dup, this.#cfg.dup);
    this.#reorderStep(f);
    if (twice && !this.#closed) {
      c.duplicated++;
      this.#reorderStep(f);
    }
  }

  /** Drops what is held and stops the timers; later frames pass untouched. */
  close(): void {
    this.#closed = true;
    if (this.#reorderTimer !== null) this.#sched.clearTimeout(this.#reorderTimer);
    if (this.#delayTimer !== null) this.#sched.clearTimeout(this.#delayTimer);
    this.#reorderTimer = this.#delayTimer = this.#reorderHeld = null;
    this.#queue = [];
    this.#heldFrames = this.#heldBytes = 0;
  }

  /** Whether a fault with probability `p` strikes; draws only when it can. */
  #hit(stream: number, p: number): boolean {
    return p > 0 && this.#rng[stream].next() < p;
  }

  /** A copy with one random bit of one random byte flipped: the caller's bytes stay intact. */
  #corrupt(frame: Uint8Array): Uint8Array {
    const rng = this.#rng[STREAM.corrupt];
    const copy = frame.slice();
    const at = Math.floor(rng.next() * copy.length);
    copy[at] ^= 1 << Math.floor(rng.next() * 8);
    return copy;
  }

  #reorderStep(f: Uint8Array): void {
    const held = this.#reorderHeld;
    if (held !== null) {
      // The frame held back goes right after this one: that is the reordering.
      this.#releaseReorder();
      this.#delayStep(f);
      this.counters.reordered++;
      this.#delayStep(held);
    } else if (this.#hit(STREAM.reorder, this.#cfg.reorder)) {
      if (!this.#reserve(f.length)) return;
      this.#reorderHeld = f.slice();
      this.#reorderTimer = this.#sched.setTimeout(
        () => this.#reorderTimedOut(),
        this.#cfg.reorderTimeoutMs,
      );
    } else {
      this.#delayStep(f);
    }
  }

  /** Empties the reorder slot (the caller sends what was in it). */
  #releaseReorder(): void {
    if (this.#reorderTimer !== null) this.#sched.clearTimeout(this.#reorderTimer);
    this.#reorderTimer = null;
    this.#unreserve(this.#reorderHeld?.length ?? 0);
    this.#reorderHeld = null;
  }

  /** No next frame came: send the held one anyway, in order after all. */
  #reorderTimedOut(): void {
    const held = this.#reorderHeld;
    this.#reorderTimer = null;
    if (held === null) return;
    this.#releaseReorder();
    this.#delayStep(held);
  }

  #delayStep(f: Uint8Array): void {
    const cfg = this.#cfg;
    if (cfg.delayMs === 0 && cfg.jitterMs === 0) return this.sink(f);
    if (!this.#reserve(f.length)) return;
    const jitter = cfg.jitterMs > 0 ? this.#rng[STREAM.jitter].next() * cfg.jitterMs : 0;
    const entry = { due: this.#sched.now() + cfg.delayMs + jitter, frame: f.slice() };
    this.counters.delayed++;
    if (this.#insert(entry) === 0) this.#armDelay();
  }

  /** Inserts by due time, after equal ones (FIFO); returns the index. */
  #insert(entry: Delayed): number {
    const q = this.#queue;
    let i = q.length;
    while (i > 0 && q[i - 1].due > entry.due) i--;
    if (i === q.length) q.push(entry);
    else q.splice(i, 0, entry);
    return i;
  }

  /** (Re)arms the one delay timer for the head of the queue. */
  #armDelay(): void {
    if (this.#delayTimer !== null) this.#sched.clearTimeout(this.#delayTimer);
    this.#delayTimer = null;
    if (this.#queue.length === 0) return;
    const ms = Math.max(0, this.#queue[0].due - this.#sched.now());
    this.#delayTimer = this.#sched.setTimeout(() => this.#delayFired(), ms);
  }

  /**
   * Sends the head (the timer was set for it, even if a real timer fires a
   * hair early) and everything else due, then re-arms.
   */
  #delayFired(): void {
    this.#delayTimer = null;
    const now = this.#sched.now();
    try {
      let first = true;
      while (this.#queue.length > 0 && (first || this.#queue[0].due <= now)) {
        first = false;
        const { frame } = this.#queue.shift()!;
        this.#unreserve(frame.length);
        this.sink(frame);
        if (this.#closed) return;
      }
    } finally {
      // Re-armed even if the sink threw, so later frames are not stranded.
      if (!this.#closed && this.#delayTimer === null) this.#armDelay();
    }
  }

  #reserve(bytes: number): boolean {
    const cfg = this.#cfg;
    if (this.#heldFrames + 1 > cfg.maxHeldFrames || this.#heldBytes + bytes > cfg.maxHeldBytes) {
      this.counters.overflowed++;
      return false;
    }
    this.#heldFrames++;
    this.#heldBytes += bytes;
    return true;
  }

  #unreserve(bytes: number): void {
    this.#heldFrames--;
    this.#heldBytes -= bytes;
  }
}

/** The real clock and timers (monotonic milliseconds). */
const REAL_SCHEDULER: Scheduler = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout(handle) {
    if (typeof handle === "number") clearTimeout(handle);
  },
};

function laneConfig(opts: FaultInjectorOptions): LaneConfig {
  return {
    drop: opts.drop ?? 0,
    dup: opts.dup ?? 0,
    reorder: opts.reorder ?? 0,
    corrupt: opts.corrupt ?? 0,
    delayMs: opts.delayMs ?? 0,
    jitterMs: opts.jitterMs ?? 0,
    maxHeldFrames: opts.maxHeldFrames ?? 1024,
    maxHeldBytes: opts.maxHeldBytes ?? 8 << 20,
    reorderTimeoutMs: opts.reorderTimeoutMs ?? 100,
  };
}

function makeLane(cfg: LaneConfig, sched: Scheduler, seed: number, lane: number): FaultLane {
  const seeds = Array.from(
    { length: STREAMS_PER_LANE },
    (_, i) => mix32(seed, lane * STREAMS_PER_LANE + i),
  );
  return new FaultLane(cfg, sched, seeds);
}

/**
 * Wraps `spec` so that frames it transmits (and, through `wrapReceive`, frames
 * it receives) meet the configured faults.
 *
 * @param spec the driver's interface spec
 * @param opts fault rates, delays, seed, direction and held-frame bounds
 * @param scheduler clock and timers for delays; default the real ones
 * @returns the wrapped interface with its counters
 *
 * @example Duplicate every received frame
 * ```ts
 * import { wrapWithFaults } from "./fault_injector.ts";
 * const w = wrapWithFaults({ mtu: 1500, transmit() {} }, { dup: 1, dir: "rx" });
 * let got = 0;
 * const receive = w.wrapReceive(() => got++);
 * receive(new Uint8Array(60));
 * console.log(got); // 2
 * ```
 */
export function wrapWithFaults(
  spec: InterfaceSpec,
  opts: FaultInjectorOptions,
  scheduler: Scheduler = REAL_SCHEDULER,
): FaultWrappedInterface {
  const seed = opts.seed ?? crypto.getRandomValues(new Uint32Array(1))[0];
  const dir = opts.dir ?? "both";
  const cfg = laneConfig(opts);
  const tx = dir === "rx" ? null : makeLane(cfg, scheduler, seed, 0);
  const rx = dir === "tx" ? null : makeLane(cfg, scheduler, seed, 1);
  // A frame the driver refuses while the stack's transmit call runs is reported back (Oerrs);
  // one a delay or reorder timer hands over later has already been counted as sent.
  let txRefused = false;
  if (tx) tx.sink = (frame) => void (spec.transmit(frame) === false && (txRefused = true));
  const transmitThroughFaults = (frame: Uint8Array): boolean => {
    txRefused = false;
    tx!.input(frame);
    return !txRefused;
  };
  const close = () => {
    tx?.close();
    rx?.close();
  };
  const stats = (): FaultStats => ({
    seed,
    ...(tx && { tx: { ...tx.counters } }),
    ...(rx && { rx: { ...rx.counters } }),
  });
  return {
    spec: {
      ...spec,
      transmitAt: undefined, // every frame goes through the faults
      transmit: tx ? transmitThroughFaults : (frame) => spec.transmit(frame),
      detach() {
        close();
        spec.detach?.();
      },
    },
    wrapReceive(deliver) {
      if (!rx) return deliver;
      rx.sink = deliver;
      return (frame) => rx.input(frame);
    },
    close,
    stats,
    summary: () => [formatFaultStats(stats())],
  };
}

function formatCounters(name: string, c: FaultCounters): string {
  return `${name} ${c.frames} frames: ${c.dropped} dropped, ${c.duplicated} duplicated, ` +
    `${c.reordered} reordered, ${c.corrupted} corrupted, ${c.delayed} delayed, ` +
    `${c.overflowed} over the held-frame bound`;
}

/**
 * One log line for the counters.
 *
 * @example
 * ```ts
 * import { formatFaultStats, wrapWithFaults } from "./fault_injector.ts";
 * const w = wrapWithFaults({ mtu: 1500, transmit() {} }, { drop: 1, seed: 3, dir: "tx" });
 * w.spec.transmit(new Uint8Array(1));
 * console.log(formatFaultStats(w.stats()));
 * // faults (fault_seed=3): tx 1 frames: 1 dropped, 0 duplicated, 0 reordered, ...
 * ```
 */
export function formatFaultStats(stats: FaultStats): string {
  const parts = [];
  if (stats.tx) parts.push(formatCounters("tx", stats.tx));
  if (stats.rx) parts.push(formatCounters("rx", stats.rx));
  return `faults (fault_seed=${stats.seed}): ${parts.join("; ")}`;
}
