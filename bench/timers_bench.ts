/**
 * Timer re-arming at TCP scale, side by side in one run: the core's indexed heap
 * with re-armable handles against the binary heap it replaced (kept below as
 * the baseline), which re-arms by cancel (a dead entry left in the heap) plus a
 * new schedule (an entry and a closure). 100 000 timers are re-armed 1 000 000
 * times at random, each 200-249 ms ahead; time advances 1 ms every 1 000
 * re-arms and due timers run, so the timers not re-armed in time fire (about a
 * tenth). Reports median re-arms per second, the ratio, entries held at the
 * end, and bytes allocated per re-arm (V8's running total of allocated bytes,
 * `total_allocated_bytes` from `node:v8`, which counts garbage collected during
 * the run too; read over the second half of each run, when the loop has been
 * compiled, so compiled code is not counted; checked first against an allocation of known size, less what a
 * reading of the counter allocates by itself). Asserts nothing.
 *
 *   bin/deno run --allow-all bench/timers_bench.ts [timers] [rearms] [rounds]
 * @module
 */

import { getHeapStatistics } from "node:v8";
import { TimerQueue } from "../core/time/timers.ts";
import { prng } from "../tests/kit/bytes.ts";

const TIMERS = Number(Deno.args[0] ?? 100_000);
const REARMS = Number(Deno.args[1] ?? 1_000_000);
const ROUNDS = Number(Deno.args[2] ?? 5);
const REARMS_PER_MS = 1_000;
/** Allocation is counted over the second half of each run, once its loop is compiled. */
const HALF = REARMS >> 1;

// ---------------------------------------------------------------- the baseline: the heap as it was

interface OldTimer {
  readonly at: number;
  cancelled: boolean;
}

interface OldEntry extends OldTimer {
  seq: number;
  fn: () => void;
}

/** core/time/timers.ts before re-armable handles: a binary heap, cancel marks entries dead. */
class OldTimerQueue {
  #heap: OldEntry[] = [];
  #seq = 0;
  onEarlier: (() => void) | null = null;

  schedule(at: number, fn: () => void): OldTimer {
    const e: OldEntry = { at, fn, cancelled: false, seq: this.#seq++ };
    const earlier = this.#heap.length === 0 || at < this.#heap[0].at;
    this.#heap.push(e);
    this.#up(this.#heap.length - 1);
    if (earlier) this.onEarlier?.();
    return e;
  }

  cancel(t: OldTimer | null | undefined): void {
    if (t) t.cancelled = true;
  }

  nextDeadline(): number | null {
    while (this.#heap.length > 0 && this.#heap[0].cancelled) this.#pop();
    return this.#heap.length > 0 ? this.#heap[0].at : null;
  }

  runDue(now: number): number {
    let ran = 0;
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

  get size(): number {
    return this.#heap.length;
  }

  #less(a: OldEntry, b: OldEntry): boolean {
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

  #pop(): OldEntry {
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

// ---------------------------------------------------------------- the workload

/** The same random choices for both queues: which timer, and how far ahead. */
const rand = prng(2026);
const ids = new Int32Array(REARMS).map(() => rand(TIMERS));
const delays = new Int32Array(REARMS).map(() => 200 + rand(50));
const initial = new Int32Array(TIMERS).map(() => rand(250));

interface Outcome {
  seconds: number;
  bytes: number;
  fired: number;
  held: number;
  live: number;
}

/** V8's running total of bytes allocated (present in Deno 2.9, not yet in the Node typings). */
const allocated = () =>
  (getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { total_allocated_bytes: number })
    .total_allocated_bytes;

function runNew(): Outcome {
  const q = new TimerQueue();
  let fired = 0;
  const handles = [];
  for (let i = 0; i < TIMERS; i++) {
    const t = q.timer(() => fired++);
    t.arm(initial[i]);
    handles.push(t);
  }
  let now = 0;
  let b1 = 0;
  const t0 = performance.now();
  for (let k = 0; k < REARMS; k++) {
    if (k === HALF) b1 = allocated();
    handles[ids[k]].arm(now + delays[k]);
    if ((k + 1) % REARMS_PER_MS === 0) q.runDue(++now);
  }
  const seconds = (performance.now() - t0) / 1000, bytes = allocated() - b1;
  return { seconds, bytes, fired, held: q.size, live: q.size };
}

function runOld(): Outcome {
  const q = new OldTimerQueue();
  let fired = 0;
  const fire = () => fired++;
  const timers: OldTimer[] = [];
  // Callers today pass a fresh closure to each schedule (`() => this.#tick()`); so does this.
  for (let i = 0; i < TIMERS; i++) timers.push(q.schedule(initial[i], () => fire()));
  let now = 0;
  let b1 = 0;
  const t0 = performance.now();
  for (let k = 0; k < REARMS; k++) {
    if (k === HALF) b1 = allocated();
    const id = ids[k];
    q.cancel(timers[id]);
    timers[id] = q.schedule(now + delays[k], () => fire());
    if ((k + 1) % REARMS_PER_MS === 0) q.runDue(++now);
  }
  const seconds = (performance.now() - t0) / 1000, bytes = allocated() - b1;
  const live = timers.filter((t) => !t.cancelled).length;
  return { seconds, bytes, fired, held: q.size, live };
}

/** Bytes V8 reports for a million two-element arrays: 64 each on a 64-bit V8 without pointer compression. */
function calibrate(): number {
  let sink: number[] = [];
  const n = 1_000_000;
  const b0 = allocated();
  for (let i = 0; i < n; i++) sink = [i, i + 1];
  const per = (allocated() - b0) / n;
  return sink.length === 2 ? per : NaN;
}

/**
 * What two readings of the counter differ by with nothing in between: the
 * reading allocates, and the counter moves in chunks. The median is subtracted
 * from each figure; the largest bounds its resolution.
 */
function counterFloor(): { median: number; max: number } {
  const xs = [];
  for (let i = 0; i < 21; i++) {
    const b0 = allocated();
    xs.push(allocated() - b0);
  }
  return { median: median(xs), max: Math.max(...xs) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

calibrate(); // warm the loop up so the figure counts the arrays only
const calibration = calibrate();
const floor = counterFloor();
const news: Outcome[] = [], olds: Outcome[] = [];
runNew(); // warm-up rounds, not counted
runOld();
for (let r = 0; r < ROUNDS; r++) {
  news.push(runNew());
  olds.push(runOld());
}

const rate = (o: Outcome[]) => REARMS / median(o.map((x) => x.seconds));
const perRearm = (o: Outcome[]) =>
  Math.max(0, median(o.map((x) => x.bytes)) - floor.median) / (REARMS - HALF);
const [n, o] = [news[news.length - 1], olds[olds.length - 1]];
const fmt = (x: number, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d });

console.log(
  `timers: ${fmt(TIMERS)} re-armed ${fmt(REARMS)} times, 1 ms per ${fmt(REARMS_PER_MS)} ` +
    `re-arms, ${ROUNDS} rounds (medians)`,
);
console.log(
  `  allocation counter check: ${fmt(calibration, 2)} bytes per [i, i + 1] (expect 64); ` +
    `${fmt(floor.median / 1024)} KiB per reading subtracted, ` +
    `resolution ±${fmt(floor.max / (REARMS - HALF), 2)} bytes/re-arm`,
);
console.log(
  `  indexed 4-ary heap, handles : ${fmt(rate(news))} re-arms/s, ` +
    `${fmt(perRearm(news), 2)} bytes/re-arm, ${fmt(n.held)} entries held ` +
    `(${fmt(n.live)} live), ${fmt(n.fired)} fired`,
);
console.log(
  `  old binary heap (baseline)  : ${fmt(rate(olds))} re-arms/s, ` +
    `${fmt(perRearm(olds), 2)} bytes/re-arm, ${fmt(o.held)} entries held ` +
    `(${fmt(o.live)} live), ${fmt(o.fired)} fired`,
);
console.log(`  ratio new/old: ${fmt(rate(news) / rate(olds), 2)}x re-arms/s`);
