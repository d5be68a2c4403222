import assert from "node:assert/strict";
import {
  SEG_EVER_RETRANS,
  SEG_LOST,
  SEG_RETRANS,
  SEG_SACKED,
  SEG_TLP,
  SentSegments,
  type SentSegmentsOptions,
} from "../../core/transport/tcp/sent_segments.ts";
import { NEXT_SEG, SackScoreboard } from "../../core/transport/tcp/sack_scoreboard.ts";

const left = new Uint32Array(4);
const right = new Uint32Array(4);

/** One ACK: cumulative `cum`, SACK blocks as [l, r] pairs. */
function ack(
  segs: SentSegments,
  cum: number,
  blocks: number[][],
  now: number,
  limit?: number,
): void {
  blocks.forEach(([l, r], k) => {
    left[k] = l >>> 0;
    right[k] = r >>> 0;
  });
  segs.onAck(cum >>> 0, left, right, blocks.length, now, limit);
}

/** Sends `n` segments of `mss` from SND.MAX, the k-th at time `t0 + k`. */
function sendN(segs: SentSegments, n: number, mss: number, t0 = 0): void {
  for (let k = 0; k < n; k++) assert.ok(segs.sent(segs.sndMax, mss, t0 + k));
}

/** The records as [start, end, flags]. */
function records(segs: SentSegments): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < segs.count; i++) out.push([segs.startAt(i), segs.endAt(i), segs.flagsAt(i)]);
  return out;
}

function make(initialSeq: number, extra: Partial<SentSegmentsOptions> = {}): SentSegments {
  return new SentSegments({ initialSeq, ...extra });
}

Deno.test("SentSegments: a cumulative ACK removes records and reports bytes and an RTT sample", () => {
  const s = make(1000);
  sendN(s, 5, 1000, 10); // [1000,2000) at 10 ... [5000,6000) at 14
  assert.equal(s.outstanding, 5000);
  assert.equal(s.inFlight, 5000);
  ack(s, 3000, [], 60);
  assert.equal(s.ackedBytes, 2000);
  assert.equal(s.deliveredBytes, 2000);
  assert.equal(s.newlySackedBytes, 0);
  assert.equal(s.rttSampleMs, 49); // latest sent of the two: at 11
  assert.equal(s.rackXmitTs, 11);
  assert.equal(s.rackEndSeq, 3000);
  assert.equal(s.dsack, false);
  assert.equal(s.sndUna, 3000);
  assert.equal(s.count, 3);
  // A partial ACK of a record trims it; it gives no sample (the record is not whole).
  ack(s, 3500, [], 70);
  assert.deepEqual([s.ackedBytes, s.deliveredBytes, s.rttSampleMs], [500, 500, -1]);
  assert.deepEqual(records(s)[0], [3500, 4000, 0]);
  // An old ACK changes nothing.
  ack(s, 2000, [], 80);
  assert.deepEqual([s.ackedBytes, s.sndUna, s.count], [0, 3500, 3]);
  // An ACK beyond SND.MAX is ignored here (the caller judges it).
  ack(s, 7000, [], 80);
  assert.deepEqual([s.ackedBytes, s.sndUna], [0, 3500]);
  ack(s, 6000, [], 90);
  assert.deepEqual([s.count, s.outstanding, s.inFlight], [0, 0, 0]);
});

Deno.test("SentSegments: SACK blocks mark whole records, split cut ones, and count holes", () => {
  const s = make(1000);
  sendN(s, 5, 1000, 0);
  ack(s, 1000, [[3000, 5000]], 50);
  assert.deepEqual(
    [s.newlySackedBytes, s.deliveredBytes, s.sackedBytes, s.sackedSegments, s.holes],
    [2000, 2000, 2000, 2, 1],
  );
  assert.equal(s.highestSacked, 5000);
  assert.equal(s.rttSampleMs, 47); // [4000,5000) sent at 3
  assert.deepEqual([s.rackXmitTs, s.rackEndSeq], [3, 5000]);
  assert.equal(s.inFlight, 3000);
  // The same blocks again: nothing new. A block cutting the last record splits it.
  ack(s, 1000, [[3000, 5500]], 60);
  assert.deepEqual([s.newlySackedBytes, s.sackedBytes, s.count, s.holes], [500, 2500, 6, 1]);
  assert.deepEqual(records(s).slice(4), [[5000, 5500, SEG_SACKED], [5500, 6000, 0]]);
  assert.equal(s.highestSacked, 5500);
  // [2000,3000) SACKed: an original delivered below fack (5500) is reordering (RFC 8985 §6.2 step 3).
  ack(s, 1000, [[2000, 3000], [3000, 5500]], 70);
  assert.deepEqual([s.newlySackedBytes, s.holes, s.reorderSeen], [1000, 1, true]);
  // Filling the hole with the original transmission: delivered below fack, never resent.
  ack(s, 5500, [], 80);
  assert.deepEqual([s.ackedBytes, s.deliveredBytes, s.reorderSeen, s.holes], [4500, 1000, true, 0]);
  assert.deepEqual([s.sackedBytes, s.sackedSegments, s.count], [0, 0, 1]);
});

Deno.test("SentSegments: invalid SACK blocks are ignored and parts below SND.UNA clipped", () => {
  const s = make(1000);
  sendN(s, 4, 1000, 0); // to 5000
  ack(s, 2000, [[1500, 2500], [5000, 6000], [3000, 2500]], 10);
  // [1500, 2500) is a D-SACK (below the ACK), clipped to [2000, 2500); beyond SND.MAX, inverted: ignored.
  assert.equal(s.dsack, true);
  assert.deepEqual([s.newlySackedBytes, s.sackedBytes], [500, 500]);
  assert.deepEqual(records(s).slice(0, 2), [[2000, 2500, SEG_SACKED], [2500, 3000, 0]]);
  assert.equal(s.holes, 0); // SACKed right at SND.UNA: no hole below it
});

// RFC 2883 §4 examples, from the sender's side.
Deno.test("SentSegments: D-SACK, RFC 2883 §4.1.1 (a duplicate below the cumulative ACK)", () => {
  const s = make(3000);
  s.sent(3000, 500, 0);
  s.sent(3500, 500, 1);
  s.retransmitted(3000, 500, 300); // the ACKs were lost; RTO resends 3000-3499
  ack(s, 4000, [[3000, 3500]], 310);
  assert.deepEqual([s.dsack, s.dsackStart, s.dsackEnd], [true, 3000, 3500]);
  assert.equal(s.ackedBytes, 1000);
  assert.equal(s.newlySackedBytes, 0);
  // Karn: the ACK also covers resent data, so even [3500, 4000) gives no sample.
  assert.equal(s.rttSampleMs, -1);
});

Deno.test("SentSegments: a SACKed original still gives a sample when the cumulative part was resent", () => {
  const s = make(0);
  sendN(s, 3, 100, 0);
  s.retransmitted(0, 100, 50);
  ack(s, 100, [[200, 300]], 80);
  assert.equal(s.rttSampleMs, 78); // [200, 300), sent at 2
  ack(s, 300, [], 90); // [100, 200) is cumulatively acked, no resent data with it
  assert.equal(s.rttSampleMs, 89);
});

Deno.test("SentSegments: D-SACK, RFC 2883 §4.1.2 (a duplicate plus an out-of-order block)", () => {
  const s = make(3000);
  for (let k = 0; k < 4; k++) s.sent(3000 + 500 * k, 500, k); // to 5000; 4000-4499 is dropped
  s.retransmitted(3000, 500, 300);
  ack(s, 4000, [[3000, 3500], [4500, 5000]], 310);
  assert.deepEqual([s.dsack, s.dsackStart, s.dsackEnd], [true, 3000, 3500]);
  assert.deepEqual([s.newlySackedBytes, s.sackedBytes, s.holes], [500, 500, 1]);
});

Deno.test("SentSegments: D-SACK, RFC 2883 §4.1.3 (a duplicate inside the second block)", () => {
  const s = make(3000);
  for (let k = 0; k < 5; k++) s.sent(3000 + 500 * k, 500, k); // to 5500; 4000-4499 dropped
  ack(s, 4000, [[4500, 5000]], 100); // arrives
  // "4000, SACK=4500-5500" was lost; 4500-4999 is resent and reported as a duplicate.
  s.retransmitted(4500, 500, 300);
  ack(s, 4000, [[4500, 5000], [4500, 5500]], 310);
  assert.deepEqual([s.dsack, s.dsackStart, s.dsackEnd], [true, 4500, 5000]);
  assert.deepEqual([s.newlySackedBytes, s.sackedBytes], [500, 1000]);
});

Deno.test("SentSegments: D-SACK, RFC 2883 §4.2 (duplicate subsegments of a repacketized resend)", () => {
  // 1000-1499 and 2000-2499 delayed, 1500-1999 and 2500-2999 dropped, 3000-3499
  // arrives; the sender resends 1000-2499 as one segment; the delayed originals
  // then arrive below the cumulative ACK, each reported as a duplicate.
  const s = make(500);
  for (let k = 0; k < 6; k++) s.sent(500 + 500 * k, 500, k);
  ack(s, 1000, [], 50);
  ack(s, 1000, [[3000, 3500]], 60);
  assert.equal(s.retransmitted(1000, 1500, 70), 1500);
  assert.equal(s.retransBytes, 1500);
  ack(s, 2500, [[3000, 3500]], 80);
  assert.deepEqual([s.dsack, s.ackedBytes, s.retransBytes, s.rttSampleMs], [false, 1500, 0, -1]);
  ack(s, 2500, [[1000, 1500], [3000, 3500]], 85);
  assert.deepEqual([s.dsack, s.dsackStart, s.dsackEnd, s.newlySackedBytes], [true, 1000, 1500, 0]);
  ack(s, 2500, [[2000, 2500], [3000, 3500]], 90);
  assert.deepEqual([s.dsack, s.dsackStart, s.dsackEnd], [true, 2000, 2500]);
  assert.deepEqual([s.sackedBytes, s.holes], [500, 1]);
});

Deno.test("SentSegments: an ordinary first block is no D-SACK, even overlapping the second", () => {
  const s = make(4000);
  sendN(s, 4, 500, 0); // to 6000
  ack(s, 4000, [[5000, 5500], [4500, 5000]], 10);
  assert.equal(s.dsack, false);
  ack(s, 4000, [[4500, 5600], [4500, 5500]], 10); // not inside the second: no D-SACK
  assert.equal(s.dsack, false);
  assert.equal(s.sackedBytes, 1100); // [5500,6000) split at 5600
});

Deno.test("SentSegments: retransmissions set flags, split cut records and count in inFlight once", () => {
  const s = make(0);
  sendN(s, 4, 100, 0);
  assert.equal(s.retransmitted(150, 100, 20), 100); // cuts [100,200) and [200,300)
  assert.deepEqual(records(s), [
    [0, 100, 0],
    [100, 150, 0],
    [150, 200, SEG_RETRANS | SEG_EVER_RETRANS],
    [200, 250, SEG_RETRANS | SEG_EVER_RETRANS],
    [250, 300, 0],
    [300, 400, 0],
  ]);
  assert.deepEqual([s.retransBytes, s.inFlight], [100, 500]);
  // Lost and then resent: counts once. Lost again (RACK): its resend is lost too.
  assert.ok(s.markLostAt(0, true));
  assert.equal(s.inFlight, 400);
  s.retransmitted(0, 100, 30, true);
  assert.equal(s.flagsAt(0), SEG_LOST | SEG_RETRANS | SEG_EVER_RETRANS | SEG_TLP);
  assert.equal(s.inFlight, 500);
  assert.ok(s.markLostAt(0, true));
  assert.equal(s.flagsAt(0), SEG_LOST | SEG_EVER_RETRANS | SEG_TLP);
  assert.equal(s.inFlight, 400);
  assert.equal(s.markLostAt(0, true), false); // nothing more to change
  // RFC 6675 IsLost keeps a resend in flight.
  assert.ok(s.markLostAt(2, false));
  assert.equal(s.flagsAt(2), SEG_LOST | SEG_RETRANS | SEG_EVER_RETRANS);
  // A SACK clears lost and retransmitted.
  ack(s, 0, [[150, 200]], 40);
  assert.equal(s.flagsAt(2), SEG_SACKED | SEG_EVER_RETRANS);
  assert.deepEqual([s.lostBytes, s.retransBytes, s.sackedBytes], [100, 50, 50]);
  assert.equal(s.inFlight, 400 - 50 - 100 + 50);
  // Karn: a resent record's delivery gives no RTT sample and no RACK sample by default.
  assert.deepEqual([s.rttSampleMs, s.rackXmitTs], [-1, -1]);
});

Deno.test("SentSegments: a retransmission counts for RACK only up to the given transmit time", () => {
  const s = make(0);
  sendN(s, 2, 100, 0);
  s.retransmitted(0, 100, 50);
  ack(s, 0, [[0, 100]], 60, 49); // sent at 50, limit 49: not used
  assert.deepEqual([s.rackXmitTs, s.rttSampleMs], [-1, -1]);
  const t = make(0);
  sendN(t, 2, 100, 0);
  t.retransmitted(0, 100, 50);
  ack(t, 100, [], 80, 60);
  assert.deepEqual([t.rackXmitTs, t.rackEndSeq, t.rttSampleMs], [50, 100, -1]);
});

Deno.test("SentSegments: after an RTO every unSACKed record is lost and nothing is in flight", () => {
  const s = make(0);
  sendN(s, 6, 100, 0);
  s.retransmitted(100, 100, 5);
  ack(s, 0, [[300, 400]], 10);
  s.resetAfterRto();
  assert.deepEqual([s.lostBytes, s.retransBytes, s.sackedBytes, s.inFlight], [500, 0, 100, 0]);
  s.retransmitted(0, 100, 20);
  assert.equal(s.inFlight, 100);
  s.resetAfterRto(true); // the receiver may have reneged: SACK marks go too
  assert.deepEqual([s.lostBytes, s.sackedBytes, s.holes, s.highestSacked], [600, 0, 0, 0]);
  // The next ACK's SACK blocks are applied afresh (no stale cache).
  ack(s, 0, [[300, 400]], 30);
  assert.deepEqual([s.newlySackedBytes, s.lostBytes, s.holes], [100, 500, 1]);
});

Deno.test("SentSegments: sequence numbers wrap around 2^32", () => {
  const base = 0xffffff00;
  const s = make(base);
  sendN(s, 4, 100, 0); // [ffffff00, ffffff64) [ffffff64, ffffffc8) [ffffffc8, 2c) [2c, 90)
  assert.equal(s.sndMax, (base + 400) >>> 0);
  assert.equal(s.indexOf(0x10), 2);
  assert.equal(s.indexOf(0xfffffeff), -1);
  ack(s, base, [[0xffffffe0, 0x20]], 10); // cuts the record across the wrap at both ends
  assert.equal(s.sackedBytes, 64);
  assert.equal(s.highestSacked, 0x20);
  assert.equal(s.holes, 1);
  ack(s, 0x40, [], 20);
  assert.deepEqual([s.ackedBytes, s.sndUna, s.sackedBytes, s.holes], [320, 0x40, 0, 0]);
  assert.equal(s.deliveredBytes, 256);
  assert.equal(s.fack, 0x40);
});

Deno.test("SentSegments: maxHoles bounds the holes; SACK data past the bound is ignored until room frees", () => {
  const s = make(0, { maxHoles: 2 });
  sendN(s, 10, 100, 0);
  ack(s, 0, [[100, 200], [300, 400], [500, 600], [700, 800]], 10);
  assert.deepEqual([s.holes, s.sackedBytes, s.sackIgnored], [2, 200, true]);
  assert.equal(s.highestSacked, 400);
  // Growing a block or filling a hole adds no hole: allowed at the bound.
  ack(s, 0, [[300, 500], [100, 200]], 20);
  assert.deepEqual([s.holes, s.sackedBytes, s.sackIgnored], [2, 300, false]);
  ack(s, 0, [[200, 300], [100, 500]], 30);
  assert.deepEqual([s.holes, s.sackedBytes], [1, 400]);
  // Now one more hole fits: [700, 800) after the hole [500, 700).
  ack(s, 0, [[700, 800], [100, 500]], 40);
  assert.deepEqual([s.holes, s.sackedBytes, s.highestSacked], [2, 500, 800]);
  ack(s, 0, [[900, 1000], [700, 800], [100, 500]], 50);
  assert.deepEqual([s.holes, s.sackedBytes, s.sackIgnored], [2, 500, true]);
  // The ignored block is applied once the cumulative ACK frees a hole.
  ack(s, 500, [[900, 1000], [700, 800]], 60);
  assert.deepEqual([s.holes, s.sackedBytes, s.sackIgnored], [2, 200, false]);
});

Deno.test("SentSegments: 100 000 records pass through the ring without growing past maxSegments", () => {
  const s = make(0xfff00000, { maxSegments: 64, initialCapacity: 4 });
  let now = 0;
  for (let k = 0; k < 100_000; k++) {
    assert.ok(s.sent(s.sndMax, 1448, now++));
    if (s.count === 48) ack(s, s.startAt(40), [[s.startAt(44), s.startAt(46)]], now);
  }
  assert.equal(s.capacity, 64);
  ack(s, s.sndMax, [], now);
  assert.equal(s.count, 0);
  assert.equal(s.sackedBytes, 0);
  assert.equal(s.sndUna, (0xfff00000 + 100_000 * 1448) >>> 0);
});

Deno.test("SentSegments: a full record joins plain segments to the last one, and refuses otherwise", () => {
  const s = make(0, { maxSegments: 4, initialCapacity: 2 });
  sendN(s, 4, 100, 0);
  assert.equal(s.capacity, 4);
  assert.ok(s.sent(400, 100, 9)); // joins [300, 500)
  assert.deepEqual(records(s)[3], [300, 500, 0]);
  assert.equal(s.xmitAt(3), 9);
  assert.equal(s.split(350), false); // no room to split
  s.retransmitted(300, 200, 10);
  assert.equal(s.sent(500, 100, 11), false); // the last record is flagged
  assert.equal(s.sndMax, 500);
  // A block cutting a record that cannot split is ignored, and said so.
  ack(s, 0, [[350, 500]], 12);
  assert.deepEqual([s.sackedBytes, s.sackIgnored], [0, true]);
});

Deno.test("SentSegments: new data must start at SND.MAX", () => {
  const s = make(0);
  s.sent(0, 100, 0);
  assert.throws(() => s.sent(50, 10, 1), RangeError);
});

// ---- RFC 6675 on hand-made scoreboards ----

/** Ten 100-byte segments from 0, with segments 2, 4 and 6 SACKed. */
function board(): { s: SentSegments; b: SackScoreboard } {
  const s = make(0);
  sendN(s, 10, 100, 0);
  ack(s, 0, [[200, 300], [400, 500], [600, 700]], 10);
  return { s, b: new SackScoreboard(s) };
}

Deno.test("SackScoreboard: IsLost counts SACKed segments and bytes above", () => {
  const { b } = board();
  assert.equal(b.isLost(0, 100), true); // 3 SACKed segments above
  assert.equal(b.isLost(199, 100), true);
  assert.equal(b.isLost(300, 100), false); // 2 segments, 200 bytes: not more than 2 * SMSS
  assert.equal(b.isLost(300, 99), true); // 200 > 2 * 99
  assert.equal(b.isLost(500, 100), false);
  assert.equal(b.isLost(900, 100), false);
  assert.equal(b.lostBelowIndex(100), 2);
  // The byte rule alone: one SACKed segment of 250 bytes.
  const s = make(0);
  s.sent(0, 100, 0);
  s.sent(100, 100, 0);
  s.sent(200, 250, 0);
  ack(s, 0, [[200, 450]], 5);
  const c = new SackScoreboard(s);
  assert.equal(c.isLost(0, 100), true);
  assert.equal(c.isLost(100, 125), false); // 250 is not more than 250
});

Deno.test("SackScoreboard: markLost, NextSeg rules 1-3, rescue and pipe", () => {
  const { s, b } = board();
  assert.equal(b.pipe(0, 100), 500); // SetPipe judges IsLost itself: 5 unSACKed segments not lost
  assert.equal(b.markLost(100), 200);
  assert.deepEqual([s.lostBytes, s.inFlight], [200, 500]);
  assert.equal(b.markLost(100), 0); // nothing new
  assert.equal(b.pipe(0, 100), 500);
  assert.equal(b.nextSeg(0, 100, false), NEXT_SEG.LOST);
  assert.deepEqual([b.segStart, b.segEnd], [0, 100]);
  s.retransmitted(0, 100, 20);
  assert.equal(s.inFlight, 600);
  assert.equal(b.pipe(100, 100), 600);
  assert.equal(b.nextSeg(100, 150, false), NEXT_SEG.LOST);
  assert.deepEqual([b.segStart, b.segEnd], [100, 200]); // stops before SACKed data
  assert.equal(b.nextSeg(200, 100, true), NEXT_SEG.NEW_DATA);
  assert.equal(b.nextSeg(200, 100, false), NEXT_SEG.UNSACKED);
  assert.deepEqual([b.segStart, b.segEnd], [300, 400]);
  assert.equal(b.nextSeg(550, 100, false), NEXT_SEG.UNSACKED);
  assert.deepEqual([b.segStart, b.segEnd], [550, 600]);
  assert.equal(b.nextSeg(700, 100, false), NEXT_SEG.NONE);
  assert.equal(b.pipe(200, 100), 700);
  assert.ok(b.rescue(100));
  assert.deepEqual([b.segStart, b.segEnd], [900, 1000]);
  assert.ok(b.rescue(250));
  assert.deepEqual([b.segStart, b.segEnd], [750, 1000]);
  // nextLost finds lost records not resent since.
  assert.ok(b.nextLost(0, 100));
  assert.deepEqual([b.segStart, b.segEnd], [100, 200]);
  assert.equal(b.nextLost(200, 100), false);
  // More SACKs move the boundary up; the cumulative ACK below it is fine.
  ack(s, 200, [[400, 500], [600, 700], [800, 900]], 30);
  assert.equal(b.markLost(100), 100); // [300,400) now has 3 SACKed segments above
  assert.equal(b.lostBelowIndex(100), 2);
  assert.equal(b.nextSeg(200, 100, false), NEXT_SEG.LOST);
  assert.deepEqual([b.segStart, b.segEnd], [300, 400]);
});

Deno.test("SackScoreboard: with no SACK nothing is lost and nothing is chosen", () => {
  const s = make(0);
  sendN(s, 3, 100, 0);
  const b = new SackScoreboard(s);
  assert.equal(b.isLost(0, 100), false);
  assert.equal(b.markLost(100), 0);
  assert.equal(b.nextSeg(0, 100, false), NEXT_SEG.NONE);
  assert.equal(b.pipe(0, 100), 300);
  assert.ok(b.rescue(100));
  assert.deepEqual([b.segStart, b.segEnd], [200, 300]);
  ack(s, 300, [], 5);
  assert.equal(b.rescue(100), false);
});
