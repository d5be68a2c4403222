/**
 * Timers as data: the stack never sleeps or reads a clock itself. Code asks for
 * a callback at a time; whoever drives the stack (the daemon, a test) calls
 * {@linkcode TimerQueue.runDue} with the current time and asks
 * {@linkcode TimerQueue.nextDeadline} when to come back.
 *
 * A binary min-heap keyed by deadline; cancelling marks a timer dead (it is
 * dropped when it reaches the top), so cancel is O(1).
 *
 * @example
 * ```ts
 * import { TimerQueue } from "./timers.ts";
 * const q = new TimerQueue();
 * q.schedule(50, () => console.log("fired"));
 * q.runDue(49); // nothing
 * q.runDue(50); // fired
 * ```
 * @module
 */

/** A scheduled callback; keep it to cancel. */
export interface Timer {
  readonly at: number;
  cancelled: boolean;
}

interface Entry extends Timer {
  seq: number;
  fn: () => void;
}

/** A queue of timers in virtual or real milliseconds. */
export class TimerQueue {
  #heap: Entry[] = [];
  #seq = 0;
  /** Called when a timer is scheduled earlier than every other: the driver may need to wake sooner. */
  onEarlier: (() => void) | null = null;

  /** Schedules `fn` at time `at` (ms). */
  schedule(at: number, fn: () => void): Timer {
    const e: Entry = { at, fn, cancelled: false, seq: this.#seq++ };
    const earlier = this.#heap.length === 0 || at < this.#heap[0].at;
    this.#heap.push(e);
    this.#up(this.#heap.length - 1);
    if (earlier) this.onEarlier?.();
    return e;
  }

  /** Cancels a timer (no effect once it fired). */
  cancel(t: Timer | null | undefined): void {
    if (t) t.cancelled = true;
  }

  /** The earliest live deadline, or `null` when nothing is scheduled. */
  nextDeadline(): number | null {
    while (this.#heap.length > 0 && this.#heap[0].cancelled) this.#pop();
    return this.#heap.length > 0 ? this.#heap[0].at : null;
  }

  /** Runs every timer due at `now`, earliest first (timers they schedule for `now` run too). */
  runDue(now: number): number {
    let ran = 0;
    // Bounded: a timer that keeps rescheduling itself at `now` cannot spin forever.
    for (let guard = 0; guard < 100_000; guard++) {
      const next = this.nextDeadline();
      if (next === null || next > now) break;
      const e = this.#pop();
      e.cancelled = true;
      e.fn();
      ran++;
    }
    return ran;
  }

  /** Number of live and dead entries held (for tests and statistics). */
  get size(): number {
    return this.#heap.length;
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #up(i: number): void {
    const h = this.#heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l], h[m])) m = l;
        if (r < h.length && this.#less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
