/**
 * Route lookups side by side: the tables of core/net/route.ts (one map per
 * prefix length in use, probed longest first) against the linear tables they
 * replaced (tests/kit/linear_routes.ts, kept as the baseline: one list sorted
 * by prefix length, searched front to back), with 10, 1 000 and 100 000 routes
 * per family.
 *
 * The routes: a default route, then random prefixes with the length mix of a
 * large table (IPv4 mostly /24, some /16-/22 and host routes; IPv6 mostly /48,
 * some /32-/64 and host routes). The destinations: 4 096 addresses, three in
 * four inside a random route's prefix, the rest random (they fall to the
 * default). Both tables must give the same answer for the first 256, or the
 * run fails. Reports median lookups per second over the rounds, the ratio,
 * and bytes allocated per lookup (V8's `total_allocated_bytes`, read around
 * the timed loop, less what a reading allocates by itself). Asserts nothing
 * about speed.
 *
 *   bin/deno run --allow-all bench/route_bench.ts [rounds] [sizes, comma-separated]
 * @module
 */

import { getHeapStatistics } from "node:v8";
import { NetInterface } from "../core/link/interface.ts";
import { type Route4, type Route6, RouteTable4, RouteTable6 } from "../core/net/route.ts";
import { RTF } from "../core/net/route_flags.ts";
import { prng } from "../tests/kit/bytes.ts";
import { LinearRouteTable4, LinearRouteTable6 } from "../tests/kit/linear_routes.ts";

const ROUNDS = Number(Deno.args[0] ?? 3);
const SIZES = (Deno.args[1] ?? "10,1000,100000").split(",").map(Number);
const DESTINATIONS = 4096;
/** Destinations both tables answer before timing (the linear one is slow at 100 000 routes). */
const CHECKED = 256;
/** Each measurement runs whole passes over the destinations for at least this long. */
const MIN_SECONDS = 0.3;

const en0 = new NetInterface({
  name: "en0",
  index: 2,
  driver: "bench",
  flags: 0,
  spec: { mtu: 1500, transmit() {} },
});
const gateway = { kind: "link", ifIndex: 2 } as const;

/** A length from a weighted list of [length, weight]. */
function pickLength(rand: (n: number) => number, mix: readonly [number, number][]): number {
  let x = rand(100);
  for (const [len, weight] of mix) {
    if (x < weight) return len;
    x -= weight;
  }
  return mix[mix.length - 1][0];
}

const MIX4: [number, number][] = [[16, 5], [20, 10], [22, 10], [24, 60], [32, 15]];
const MIX6: [number, number][] = [[32, 5], [40, 10], [48, 60], [56, 10], [64, 10], [128, 5]];

function routes4(n: number, rand: (n: number) => number): Route4[] {
  const out: Route4[] = [{ dst: 0, prefixlen: 0, gateway, flags: RTF.UP, iface: en0, mtu: 0 }];
  const seen = new Set<string>(["0/0"]);
  while (out.length < n) {
    const prefixlen = pickLength(rand, MIX4);
    const dst = (rand(0x100000000) & (prefixlen === 0 ? 0 : -1 << (32 - prefixlen))) >>> 0;
    const key = `${dst}/${prefixlen}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ dst, prefixlen, gateway, flags: RTF.UP, iface: en0, mtu: 0 });
  }
  return out;
}

function masked6(a: Uint8Array, len: number): Uint8Array {
  const m = a.slice();
  for (let bit = len; bit < 128; bit++) m[bit >> 3] &= ~(0x80 >> (bit & 7));
  return m;
}

function routes6(n: number, rand: (n: number) => number): Route6[] {
  const dflt = new Uint8Array(16);
  const out: Route6[] = [{ dst: dflt, prefixlen: 0, gateway, flags: RTF.UP, iface: en0, mtu: 0 }];
  const seen = new Set<string>(["/0"]);
  while (out.length < n) {
    const prefixlen = pickLength(rand, MIX6);
    const a = new Uint8Array(16).map(() => rand(256));
    a[0] = 0x20; // global unicast, as real tables hold
    const dst = masked6(a, prefixlen);
    const key = `${dst.join(".")}/${prefixlen}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ dst, prefixlen, gateway, flags: RTF.UP, iface: en0, mtu: 0 });
  }
  return out;
}

function destinations4(routes: Route4[], rand: (n: number) => number): Uint32Array {
  return new Uint32Array(DESTINATIONS).map(() => {
    if (rand(4) === 0) return rand(0x100000000);
    const r = routes[rand(routes.length)];
    return (r.dst | (r.prefixlen === 32 ? 0 : rand(2 ** (32 - r.prefixlen)))) >>> 0;
  });
}

function destinations6(routes: Route6[], rand: (n: number) => number): Uint8Array[] {
  return Array.from({ length: DESTINATIONS }, () => {
    const r = routes[rand(routes.length)];
    const a = new Uint8Array(16).map(() => rand(256));
    if (rand(4) === 0) return a;
    for (let bit = 0; bit < r.prefixlen; bit++) {
      const m = 0x80 >> (bit & 7);
      a[bit >> 3] = (a[bit >> 3] & ~m) | (r.dst[bit >> 3] & m);
    }
    return a;
  });
}

/** V8's running total of bytes allocated (present in Deno 2.9, not yet in the Node typings). */
const allocated = () =>
  (getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { total_allocated_bytes: number })
    .total_allocated_bytes;

/** What two readings of the allocation counter differ by with nothing in between (median). */
function counterFloor(): number {
  const xs = [];
  for (let i = 0; i < 21; i++) {
    const b0 = allocated();
    xs.push(allocated() - b0);
  }
  return median(xs);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Measure {
  rate: number;
  /** Bytes per lookup; NaN when too few lookups ran for the counter's resolution. */
  bytes: number;
}

/** Below this many lookups a round's allocation figure is the counter's noise. */
const MIN_COUNTED = 100_000;

/**
 * Lookups per second and bytes per lookup of `lookups(from, count)` (one
 * lookup per destination in that slice; returns a count so the work is not
 * optimised away). Slices double from 16 destinations while they take under
 * 20 ms, so a slow table is timed over a few lookups rather than 4 096 passes.
 */
function measure(lookups: (from: number, count: number) => number): Measure {
  lookups(0, 64); // warm-up
  const floor = counterFloor();
  const rates: number[] = [], bytes: number[] = [];
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let done = 0, chunk = 16;
    const b0 = allocated();
    const t0 = performance.now();
    let t = t0;
    do {
      const from = done % DESTINATIONS, count = Math.min(chunk, DESTINATIONS - from);
      const c0 = t;
      sink += lookups(from, count);
      done += count;
      t = performance.now();
      if (t - c0 < 20 && chunk < DESTINATIONS) chunk *= 2;
    } while (t - t0 < MIN_SECONDS * 1000);
    const used = allocated() - b0;
    rates.push(done / ((t - t0) / 1000));
    bytes.push(done < MIN_COUNTED ? NaN : Math.max(0, used - floor) / done);
  }
  if (sink < 0) console.log(sink);
  return { rate: median(rates), bytes: median(bytes) };
}

const fmt = (x: number, d = 0) =>
  Number.isNaN(x) ? "n/a" : x.toLocaleString("en-US", { maximumFractionDigits: d });

function report(family: string, n: number, lens: number, fast: Measure, slow: Measure): void {
  console.log(
    `  ${family} ${fmt(n).padStart(7)} routes (${lens} lengths): ` +
      `per-length maps ${fmt(fast.rate).padStart(11)} lookups/s ${fmt(fast.bytes, 2)} B/lookup | ` +
      `linear ${fmt(slow.rate).padStart(11)} lookups/s ${fmt(slow.bytes, 2)} B/lookup | ` +
      `ratio ${fmt(fast.rate / slow.rate, 1)}x`,
  );
}

console.log(
  `route lookups: ${fmt(DESTINATIONS)} destinations (3/4 inside a route's prefix), ` +
    `median of ${ROUNDS} rounds of >= ${MIN_SECONDS} s`,
);
for (const n of SIZES) {
  const rand = prng(n);
  const rs = routes4(n, rand);
  const dsts = destinations4(rs, rand);
  const fast = new RouteTable4(), slow = new LinearRouteTable4();
  for (const r of rs) fast.add(r);
  slow.load(rs);
  for (const d of dsts.slice(0, CHECKED)) {
    const a = fast.lookup(d), b = slow.lookup(d);
    if (a?.dst !== b?.dst || a?.prefixlen !== b?.prefixlen) {
      throw new Error(`inet: tables disagree on ${d}`);
    }
  }
  const lens = new Set(rs.map((r) => r.prefixlen)).size;
  const mFast = measure((from, count) => {
    let hits = 0;
    for (let i = from; i < from + count; i++) if (fast.lookup(dsts[i]) !== undefined) hits++;
    return hits;
  });
  const mSlow = measure((from, count) => {
    let hits = 0;
    for (let i = from; i < from + count; i++) if (slow.lookup(dsts[i]) !== undefined) hits++;
    return hits;
  });
  report("inet ", n, lens, mFast, mSlow);
}
for (const n of SIZES) {
  const rand = prng(n + 6);
  const rs = routes6(n, rand);
  const dsts = destinations6(rs, rand);
  const fast = new RouteTable6(), slow = new LinearRouteTable6();
  for (const r of rs) fast.add(r);
  slow.load(rs);
  for (const d of dsts.slice(0, CHECKED)) {
    const a = fast.lookup(d), b = slow.lookup(d);
    if (a?.prefixlen !== b?.prefixlen || a?.dst.join() !== b?.dst.join()) {
      throw new Error(`inet6: tables disagree on ${d.join(".")}`);
    }
  }
  const lens = new Set(rs.map((r) => r.prefixlen)).size;
  const mFast = measure((from, count) => {
    let hits = 0;
    for (let i = from; i < from + count; i++) if (fast.lookup(dsts[i]) !== undefined) hits++;
    return hits;
  });
  const mSlow = measure((from, count) => {
    let hits = 0;
    for (let i = from; i < from + count; i++) if (slow.lookup(dsts[i]) !== undefined) hits++;
    return hits;
  });
  report("inet6", n, lens, mFast, mSlow);
}
