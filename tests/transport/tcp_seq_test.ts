import assert from "node:assert/strict";
import {
  inWindow,
  segmentAcceptable,
  seqAdd,
  seqDiff,
  seqGeq,
  seqGt,
  seqLeq,
  seqLt,
  seqMax,
  seqMin,
} from "../../core/transport/tcp/seq.ts";
import { prng } from "../kit/bytes.ts";

const TOP = 0xffffffff;
const HALF = 0x80000000;

Deno.test("seqAdd wraps 0xffffffff -> 0 and stays uint32 for negative steps", () => {
  assert.equal(seqAdd(TOP, 1), 0);
  assert.equal(seqAdd(TOP, 2), 1);
  assert.equal(seqAdd(0, -1), TOP);
  assert.equal(seqAdd(5, -10), TOP - 4);
  assert.equal(seqAdd(0x7fffffff, 1), HALF);
  assert.equal(seqAdd(1, 0), 1);
});

Deno.test("seqDiff gives the signed distance across the wrap", () => {
  assert.equal(seqDiff(0, TOP), 1);
  assert.equal(seqDiff(TOP, 0), -1);
  assert.equal(seqDiff(10, TOP - 9), 20);
  assert.equal(seqDiff(TOP - 9, 10), -20);
  assert.equal(seqDiff(0x7fffffff, 0), 0x7fffffff);
  assert.equal(seqDiff(HALF, 0), -HALF); // the incomparable point folds to -2^31
});

Deno.test("comparisons around the wrap", () => {
  assert.ok(seqLt(TOP, 0));
  assert.ok(seqGt(0, TOP));
  assert.ok(seqLeq(TOP, 0) && seqLeq(0, 0) && !seqLeq(1, 0));
  assert.ok(seqGeq(0, TOP) && seqGeq(7, 7) && !seqGeq(TOP, 0));
  assert.ok(!seqLt(5, 5) && !seqGt(5, 5));
  assert.equal(seqMax(TOP, 3), 3);
  assert.equal(seqMin(TOP, 3), TOP);
});

Deno.test("comparisons at the half-space boundary", () => {
  // 2^31 - 1 ahead is after; 2^31 + 1 ahead is really 2^31 - 1 behind.
  assert.ok(seqGt(0x7fffffff, 0));
  assert.ok(seqLt(0x80000001, 0));
  assert.ok(seqGt(0, 0x80000001));
  assert.ok(seqGt(0x7fffffff + 100, 100));
  // Exactly 2^31 apart: RFC 1982 leaves it undefined; like BSD, each is before the other.
  assert.ok(seqLt(HALF, 0) && seqLt(0, HALF));
  assert.ok(!seqGt(HALF, 0) && !seqGt(0, HALF));
});

Deno.test("inWindow: half-open, across the wrap, empty when len is 0", () => {
  assert.ok(inWindow(TOP, TOP - 1, 4));
  assert.ok(inWindow(0, TOP - 1, 4));
  assert.ok(inWindow(1, TOP - 1, 4));
  assert.ok(!inWindow(2, TOP - 1, 4)); // start + len is outside
  assert.ok(!inWindow(TOP - 2, TOP - 1, 4)); // just before
  assert.ok(inWindow(TOP - 1, TOP - 1, 1));
  assert.ok(!inWindow(TOP - 1, TOP - 1, 0));
});

Deno.test("segmentAcceptable: the four cases of RFC 9293 §3.10.7.4", () => {
  const nxt = TOP - 2; // the window straddles the wrap
  // length 0, window 0: only seq = RCV.NXT
  assert.ok(segmentAcceptable(nxt, 0, nxt, 0));
  assert.ok(!segmentAcceptable(seqAdd(nxt, 1), 0, nxt, 0));
  assert.ok(!segmentAcceptable(seqAdd(nxt, -1), 0, nxt, 0));
  // length 0, window > 0: RCV.NXT <= seq < RCV.NXT + RCV.WND
  assert.ok(segmentAcceptable(nxt, 0, nxt, 10));
  assert.ok(segmentAcceptable(seqAdd(nxt, 9), 0, nxt, 10));
  assert.ok(!segmentAcceptable(seqAdd(nxt, 10), 0, nxt, 10));
  assert.ok(!segmentAcceptable(seqAdd(nxt, -1), 0, nxt, 10));
  // length > 0, window 0: never, even at RCV.NXT
  assert.ok(!segmentAcceptable(nxt, 1, nxt, 0));
  assert.ok(!segmentAcceptable(nxt, 100, nxt, 0));
  // length > 0, window > 0: first or last number inside
  assert.ok(segmentAcceptable(nxt, 5, nxt, 10)); // wholly inside
  assert.ok(segmentAcceptable(seqAdd(nxt, -3), 4, nxt, 10)); // last number = RCV.NXT
  assert.ok(!segmentAcceptable(seqAdd(nxt, -3), 3, nxt, 10)); // old duplicate, ends at RCV.NXT - 1
  assert.ok(segmentAcceptable(seqAdd(nxt, 9), 50, nxt, 10)); // first number is the last in window
  assert.ok(!segmentAcceptable(seqAdd(nxt, 10), 1, nxt, 10)); // just beyond the window
  // A segment covering the whole window with both ends outside fails the RFC's test too.
  assert.ok(!segmentAcceptable(seqAdd(nxt, -1), 12, nxt, 10));
});

/** Reference: BigInt arithmetic on true integers, reduced modulo 2^32 only at the end. */
const M = 1n << 32n;
function refDiff(a: number, b: number): bigint {
  let d = ((BigInt(a) - BigInt(b)) % M + M) % M; // in [0, 2^32)
  if (d >= 1n << 31n) d -= M; // signed representative in [-2^31, 2^31)
  return d;
}

Deno.test("property: arithmetic agrees with BigInt reference (seeded)", () => {
  const rnd = prng(0x5e90);
  const near = [0, 1, TOP, TOP - 1, HALF, HALF - 1, HALF + 1];
  for (let i = 0; i < 20000; i++) {
    // Mix uniform values with values near the wrap and the half-space boundary.
    const a = i % 3 === 0 ? (near[rnd(near.length)] + rnd(5) - 2) >>> 0 : rnd(0x100000000);
    const b = i % 5 === 0 ? (a + HALF + rnd(7) - 3) >>> 0 : rnd(0x100000000);
    const n = rnd(0x100000000) - 0x80000000;
    assert.equal(seqAdd(a, n), Number(((BigInt(a) + BigInt(n)) % M + M) % M));
    const d = refDiff(a, b);
    assert.equal(seqDiff(a, b), Number(d));
    assert.equal(seqLt(a, b), d < 0n);
    assert.equal(seqLeq(a, b), d <= 0n);
    assert.equal(seqGt(a, b), d > 0n);
    assert.equal(seqGeq(a, b), d >= 0n);
    const len = rnd(1 << 20);
    const off = ((BigInt(a) - BigInt(b)) % M + M) % M;
    assert.equal(inWindow(a, b, len), off < BigInt(len));
    // The acceptability table, with the window and segment ends taken from true offsets.
    const segLen = i % 4 === 0 ? 0 : rnd(3000);
    const wnd = i % 7 === 0 ? 0 : rnd(1 << 16);
    const first = off; // offset of the segment's first number from RCV.NXT = b
    const last = (off + BigInt(segLen) - 1n + M) % M;
    const want = segLen === 0
      ? (wnd === 0 ? first === 0n : first < BigInt(wnd))
      : wnd !== 0 && (first < BigInt(wnd) || last < BigInt(wnd));
    assert.equal(segmentAcceptable(a, segLen, b, wnd), want);
  }
});
