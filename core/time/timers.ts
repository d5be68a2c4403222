/**
 * Timers as data: the stack never sleeps or reads a clock itself. Code asks for
 * a callback at a time; whoever drives the stack (the daemon, a test) calls
 * {@linkcode TimerQueue.runDue} with the current time and asks
 * {@linkcode TimerQueue.nextDeadline} when to come back.
 *
 * Two ways in. An object that re-arms often (a TCP connection: retransmit,
 * delayed ACK, keepalive) takes a re-armable handle once with
 * {@linkcode TimerQueue.timer} and then arms, re-arms and disarms it as often as
 * it likes: nothing is allocated per arm, and a disarm removes the entry at once.
 * Rare control-plane timers use {@linkcode TimerQueue.schedule}, a one-shot
 * handle per call.
 *
 * Shape: a 4-ary min-heap indexed by handle (each handle knows its slot), keyed
 * by (deadline, arm sequence). Re-arm moves the entry up or down in place and
 * disarm removes it, both O(log₄ n); the keys sit in two `Float64Array`s beside
 * the handle array, so a sift compares contiguous numbers rather than chasing
 * objects; the arrays grow by doubling and are then reused, so arming allocates
 * nothing.
 *
 * Why a heap and not a hashed timing wheel: the stack runs in virtual time and
 * relies on exact order (deadline, then the order timers were armed) and on
 * `nextDeadline()` being the exact earliest deadline, to the fraction of a
 * millisecond. A wheel is O(1) per operation but rounds deadlines to its tick,
 * or must sort a bucket to stay exact, and needs cascading levels for long
 * timeouts (keepalive is two hours). With 10 000 connections holding three
 * timers each the heap is eight levels deep: a re-arm is a few dozen number
 * comparisons, and the earliest deadline is always at the top.
 *
 * Callbacks may arm or disarm any timer, themselves included: a timer is taken
 * off the heap before its callback runs. A callback that throws leaves the
 * queue consistent: its own timer stays disarmed, the exception propagates out
 * of `runDue`, and the timers still due run at the next `runDue`.
 *
 * @example
 * ```ts
 * import { TimerQueue } from "./timers.ts";
 * const q = new TimerQueue();
 * q.schedule(50, () => console.log("fired"));
 * q.runDue(49); // nothing
 * q.runDue(50); // fired
 *
 * const retransmit = q.timer(() => console.log("retransmit"));
 * retransmit.arm(200);
 * retransmit.arm(300); // moved, not duplicated
 * retransmit.disarm(); // gone at once: q.size === 0
 * ```
 * @module
 */

/** A scheduled callback (the one-shot view); keep it to cancel. */
export interface Timer {
  /** The deadline (ms) it was last armed for. */
  readonly at: number;
  /** True once it has fired or been cancelled (not armed). */
  readonly cancelled: boolean;
}

/** A re-armable timer, taken once per object with {@linkcode TimerQueue.timer}. */
export interface TimerHandle extends Timer {
  /** True while it waits in the queue. */
  readonly armed: boolean;
  /** The deadline (ms) it was last armed for (`NaN` before the first arm). */
  readonly deadline: number;
  /** Arms it for `at` (ms), moving it if already armed; it then ranks after timers armed earlier for the same time. */
  arm(at: number): void;
  /** Takes it out of the queue (no effect when not armed). */
  disarm(): void;
}

/** Most callbacks one `runDue` runs, so timers that keep re-arming at `now` cannot spin forever. */
const RUN_DUE_LIMIT = 100_000;
const INITIAL_CAPACITY = 16;

/** A handle: its callback, its slot in the heap (-1: not armed) and its last deadline. */
class Handle implements TimerHandle {
  slot = -1;
  deadline = NaN;
  constructor(readonly heap: TimerHeap, readonly fn: () => void) {}

  get armed(): boolean {
    return this.slot >= 0;
  }

  get at(): number {
    return this.deadline;
  }

  get cancelled(): boolean {
    return this.slot < 0;
  }

  arm(at: number): void {
    this.heap.arm(this, at);
  }

  disarm(): void {
    if (this.slot >= 0) this.heap.removeAt(this.slot);
  }
}

/**
 * The 4-ary indexed min-heap: slot i holds `items[i]` with key (`deadlines[i]`,
 * `seqs[i]`); the children of i are 4i+1 … 4i+4. Sifts move a hole rather than
 * swapping, writing each moved handle's new slot.
 */
class TimerHeap {
  deadlines = new Float64Array(INITIAL_CAPACITY);
  seqs = new Float64Array(INITIAL_CAPACITY);
  items: (Handle | null)[] = new Array(INITIAL_CAPACITY).fill(null);
  size = 0;
  #nextSeq = 0;

  constructor(readonly queue: TimerQueue) {}

  arm(h: Handle, at: number): void {
    if (Number.isNaN(at)) throw new RangeError("Timer deadline is NaN");
    const top = this.size > 0 ? this.deadlines[0] : Infinity;
    const seq = this.#nextSeq++;
    h.deadline = at;
    let i = h.slot;
    if (i < 0) {
      if (this.size === this.deadlines.length) this.#grow();
      i = this.size++;
      this.#up(i, at, seq, h);
    } else if (at < this.deadlines[i]) {
      this.#up(i, at, seq, h);
    } else {
      // Same or later deadline: the newer sequence ranks it later too.
      this.#down(i, at, seq, h);
    }
    if (at < top) this.queue.onEarlier?.();
  }

  removeAt(i: number): void {
    const d = this.deadlines, s = this.seqs, items = this.items;
    items[i]!.slot = -1;
    const last = --this.size;
    const moved = items[last]!;
    items[last] = null;
    if (i === last) return;
    const at = d[last], seq = s[last];
    if (i > 0) {
      const p = (i - 1) >> 2;
      if (at < d[p] || (at === d[p] && seq < s[p])) {
        this.#up(i, at, seq, moved);
        return;
      }
    }
    this.#down(i, at, seq, moved);
  }

  /** Places (at, seq, h) at hole `i` or above it. */
  #up(i: number, at: number, seq: number, h: Handle): void {
    const d = this.deadlines, s = this.seqs, items = this.items;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pa = d[p];
      if (pa < at || (pa === at && s[p] < seq)) break;
      d[i] = pa;
      s[i] = s[p];
      const ph = items[p]!;
      items[i] = ph;
      ph.slot = i;
      i = p;
    }
    d[i] = at;
    s[i] = seq;
    items[i] = h;
    h.slot = i;
  }

  /** Places (at, seq, h) at hole `i` or below it. */
  #down(i: number, at: number, seq: number, h: Handle): void {
    const d = this.deadlines, s = this.seqs, items = this.items, n = this.size;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      let m = first, ma = d[first], ms = s[first];
      const end = first + 4 < n ? first + 4 : n;
      for (let c = first + 1; c < end; c++) {
        const ca = d[c];
        if (ca < ma || (ca === ma && s[c] < ms)) {
          m = c;
          ma = ca;
          ms = s[c];
        }
      }
      if (at < ma || (at === ma && seq < ms)) break;
      d[i] = ma;
      s[i] = ms;
      const mh = items[m]!;
      items[i] = mh;
      mh.slot = i;
      i = m;
    }
    d[i] = at;
    s[i] = seq;
    items[i] = h;
    h.slot = i;
  }

  #grow(): void {
    const cap = this.deadlines.length * 2;
    const d = new Float64Array(cap), s = new Float64Array(cap);
    d.set(this.deadlines);
    s.set(this.seqs);
    this.deadlines = d;
    this.seqs = s;
    for (let i = this.items.length; i < cap; i++) this.items.push(null);
  }
}

/** A queue of timers in virtual or real milliseconds. */
export class TimerQueue {
  #heap = new TimerHeap(this);
  /** Called when a timer is armed earlier than every other: the driver may need to wake sooner. */
  onEarlier: (() => void) | null = null;

  /** A re-armable timer that calls `fn` when due; take one per object and re-arm it freely. */
  timer(fn: () => void): TimerHandle {
    return new Handle(this.#heap, fn);
  }

  /** Schedules `fn` at time `at` (ms): a one-shot handle per call. */
  schedule(at: number, fn: () => void): Timer {
    const h = new Handle(this.#heap, fn);
    h.arm(at);
    return h;
  }

  /** Cancels a timer (no effect once it fired or when `t` is null). */
  cancel(t: Timer | null | undefined): void {
    if (t instanceof Handle) t.disarm();
  }

  /** The earliest armed deadline, or `null` when nothing is armed. */
  nextDeadline(): number | null {
    return this.#heap.size > 0 ? this.#heap.deadlines[0] : null;
  }

  /**
   * Runs every timer due at `now`, earliest first (timers they arm for `now` run
   * too), at most 100 000 per call; returns how many ran.
   */
  runDue(now: number): number {
    const heap = this.#heap;
    let ran = 0;
    while (ran < RUN_DUE_LIMIT && heap.size > 0 && heap.deadlines[0] <= now) {
      const h = heap.items[0]!;
      heap.removeAt(0);
      ran++;
      h.fn();
    }
    return ran;
  }

  /** Number of armed timers (cancelled ones leave nothing behind). */
  get size(): number {
    return this.#heap.size;
  }
}
