/**
 * The Internet checksum's sum, side by side: today's `sumWords` (four bytes at
 * a time through a cached `DataView`) beside the function it replaced (two
 * bytes per 16-bit word, kept below as the baseline), over 64, 576, 1500 and
 * 9000 bytes. Sums rotate over 16 buffers at odd and even offsets, as a
 * stack's pool and receive rings would hand them. Reports MB/s (median of
 * interleaved runs), the ratio, and heap bytes allocated per call (with
 * `--v8-flags=--expose-gc`; a `DataView` made per call is shown as the control
 * that the measurement sees allocation). Asserts nothing.
 *
 *   bin/deno run --allow-all --v8-flags=--expose-gc bench/checksum_bench.ts [runs]
 * @module
 */

import { sumWords } from "../core/wire/checksum.ts";

const RUNS = Number(Deno.args[0] ?? 9);
const SIZES = [64, 576, 1500, 9000];
/** Bytes summed per timed run, so every size runs about as long. */
const BYTES_PER_RUN = 32 * 1024 * 1024;

/** The sum as it was before the word-at-a-time loop: the baseline. */
function sumWordsBaseline(bytes: Uint8Array, start = 0, end = bytes.length, sum = 0): number {
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i === last) sum += bytes[i] << 8;
  return sum;
}

/** The control for the allocation figure: the word loop with a `DataView` made per call. */
function sumWordsViewPerCall(bytes: Uint8Array, start = 0, end = bytes.length, sum = 0): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = start;
  for (; i < end - 3; i += 4) {
    const word = view.getUint32(i);
    sum += (word >>> 16) + (word & 0xffff);
  }
  if (i < end - 1) {
    sum += view.getUint16(i);
    i += 2;
  }
  if (i < end) sum += view.getUint8(i) << 8;
  return sum;
}

type Sum = (bytes: Uint8Array, start?: number, end?: number, sum?: number) => number;

const buffers = Array.from({ length: 16 }, (_, k) => {
  const b = new Uint8Array(9216);
  for (let i = 0; i < b.length; i++) b[i] = (i * 131 + k * 7) & 0xff;
  return b;
});

let sink = 0;

/**
 * MB/s of one timed run over `size`-byte ranges. One loop per function, so
 * each call site sees one callee (a shared loop would call both megamorphically).
 */
const runs: Record<"baseline" | "sumWords", (size: number) => number> = {
  baseline(size) {
    const calls = Math.ceil(BYTES_PER_RUN / size);
    let acc = 0;
    const t0 = performance.now();
    for (let k = 0; k < calls; k++) {
      const at = 14 + (k & 1); // after an Ethernet header, at even and odd offsets
      acc = (acc + sumWordsBaseline(buffers[k & 15], at, at + size)) & 0xffffff;
    }
    const ms = performance.now() - t0;
    sink += acc;
    return (calls * size) / (ms * 1000);
  },
  sumWords(size) {
    const calls = Math.ceil(BYTES_PER_RUN / size);
    let acc = 0;
    const t0 = performance.now();
    for (let k = 0; k < calls; k++) {
      const at = 14 + (k & 1);
      acc = (acc + sumWords(buffers[k & 15], at, at + size)) & 0xffffff;
    }
    const ms = performance.now() - t0;
    sink += acc;
    return (calls * size) / (ms * 1000);
  },
};

/** Heap bytes per call (NaN without --expose-gc). */
function allocatedPerCall(fn: Sum, size: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return NaN;
  const calls = 2000;
  let acc = 0, least = Infinity;
  for (let k = 0; k < calls; k++) acc = (acc + fn(buffers[k & 15], 14, 14 + size)) & 0xffffff;
  // The least of a few tries: a re-optimisation may allocate once, a DataView per call always.
  for (let attempt = 0; attempt < 5; attempt++) {
    gc();
    const before = Deno.memoryUsage().heapUsed;
    for (let k = 0; k < calls; k++) acc = (acc + fn(buffers[k & 15], 14, 14 + size)) & 0xffffff;
    least = Math.min(least, Deno.memoryUsage().heapUsed - before);
  }
  sink += acc;
  return Math.max(0, least) / calls;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

console.log(`checksum sum, MB/s (median of ${RUNS} interleaved runs, 16 buffers)`);
console.log(
  `${pad("bytes", 6)} ${pad("baseline", 9)} ${pad("sumWords", 9)} ${pad("ratio", 6)}` +
    `   heap B/call: ${pad("baseline", 8)} ${pad("sumWords", 8)} ${pad("view/call", 9)}`,
);
for (const size of SIZES) {
  runs.baseline(size); // warm both before timing
  runs.sumWords(size);
  const old: number[] = [], now: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    old.push(runs.baseline(size));
    now.push(runs.sumWords(size));
  }
  const a = median(old), b = median(now);
  const alloc = [sumWordsBaseline, sumWords, sumWordsViewPerCall].map((f) =>
    allocatedPerCall(f, size).toFixed(1)
  );
  console.log(
    `${pad(size, 6)} ${pad(a.toFixed(0), 9)} ${pad(b.toFixed(0), 9)} ${
      pad((b / a).toFixed(2), 6)
    }` +
      `                ${pad(alloc[0], 8)} ${pad(alloc[1], 8)} ${pad(alloc[2], 9)}`,
  );
}
if (sink === 0.5) console.log(sink); // keeps the sums observable
