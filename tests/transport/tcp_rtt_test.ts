import assert from "node:assert/strict";
import { RTO_MAX_MS, RttEstimator } from "../../core/transport/tcp/rtt.ts";

Deno.test("RttEstimator starts at the initial RTO of 1 s with no sample", () => {
  const e = new RttEstimator();
  assert.equal(e.rto, 1000);
  assert.equal(e.hasSample, false);
  assert.equal(e.srtt, 0);
  assert.equal(e.timing, false);
});

Deno.test("RttEstimator: first and later samples match hand-computed RFC 6298 values", () => {
  const e = new RttEstimator({ minRtoMs: 100, granularityMs: 1 });
  // §2.2, R = 100: SRTT = 100, RTTVAR = 100/2 = 50, RTO = 100 + max(1, 4*50) = 300.
  e.sample(100);
  assert.deepEqual([e.srtt, e.rttvar, e.rto], [100, 50, 300]);
  // §2.3, R' = 140: RTTVAR = 3/4*50 + 1/4*|100-140| = 37.5 + 10 = 47.5;
  // SRTT = 7/8*100 + 1/8*140 = 87.5 + 17.5 = 105; RTO = 105 + 4*47.5 = 295.
  e.sample(140);
  assert.deepEqual([e.srtt, e.rttvar, e.rto], [105, 47.5, 295]);
  // R' = 105 (equal to SRTT): RTTVAR = 3/4*47.5 = 35.625; SRTT stays 105; RTO = 105 + 142.5 = 247.5.
  e.sample(105);
  assert.deepEqual([e.srtt, e.rttvar, e.rto], [105, 35.625, 247.5]);
  // R' = 25: RTTVAR = 3/4*35.625 + 1/4*80 = 26.71875 + 20 = 46.71875;
  // SRTT = 7/8*105 + 1/8*25 = 91.875 + 3.125 = 95; RTO = 95 + 186.875 = 281.875.
  e.sample(25);
  assert.deepEqual([e.srtt, e.rttvar, e.rto], [95, 46.71875, 281.875]);
});

Deno.test("RttEstimator: granularity G floors the variance term", () => {
  // BSD's 500 ms slow tick as G. R = 100: SRTT 100, RTTVAR 50, 4*RTTVAR = 200 < G = 500,
  // so RTO = 100 + 500 = 600.
  const e = new RttEstimator({ minRtoMs: 0, granularityMs: 500 });
  e.sample(100);
  assert.equal(e.rto, 600);
  // With G = 1 the same sample gives 100 + 200 = 300.
  const f = new RttEstimator({ minRtoMs: 0, granularityMs: 1 });
  f.sample(100);
  assert.equal(f.rto, 300);
});

Deno.test("RttEstimator clamps RTO to the minimum (1 s by default) and the maximum", () => {
  const e = new RttEstimator();
  e.sample(100); // 300 computed, raised to the 1 s floor
  assert.equal(e.rto, 1000);
  assert.equal(e.srtt, 100); // the estimate itself is not clamped
  const g = new RttEstimator({ maxRtoMs: 60000 });
  g.sample(50000); // 50000 + 4*25000 = 150000, capped at 60 s
  assert.equal(g.rto, 60000);
  const h = new RttEstimator({ minRtoMs: 200 }); // a Linux-like floor
  h.sample(10); // 10 + 4*5 = 30, raised to 200
  assert.equal(h.rto, 200);
});

Deno.test("RttEstimator: timeout doubles RTO up to the 60 s cap; a new sample ends backoff", () => {
  const e = new RttEstimator();
  const seen: number[] = [];
  for (let i = 0; i < 8; i++) seen.push(e.timedOut());
  // 1 s doubled: 2, 4, 8, 16, 32, then 64 capped to 60, and it stays there.
  assert.deepEqual(seen, [2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  assert.equal(e.rto, RTO_MAX_MS);
  assert.equal(e.backoffs, 8);
  // §5.7 note: the backed-off RTO holds until a valid sample; the sample recomputes it.
  e.sample(2000); // first sample: SRTT 2000, RTTVAR 1000, RTO = 2000 + 4000 = 6000
  assert.equal(e.rto, 6000);
  assert.equal(e.backoffs, 0);
  assert.equal(e.timedOut(), 12000);
});

Deno.test("RttEstimator: timed segment gives a sample when an ACK covers it", () => {
  const e = new RttEstimator({ minRtoMs: 0 });
  assert.ok(e.startTiming(0xfffffff0, 1000)); // timed segment straddles the wrap
  assert.ok(!e.startTiming(0x10, 1100)); // one at a time: the first timing is kept
  assert.ok(!e.ackReceived(0xfffffff0, 1200)); // ACK of earlier data does not cover it
  assert.ok(e.ackReceived(0x5, 1250)); // covers it across the wrap: R = 250
  assert.deepEqual([e.srtt, e.rttvar, e.rto], [250, 125, 750]);
  assert.equal(e.timing, false);
  assert.ok(!e.ackReceived(0x100, 1300)); // nothing timed now
});

Deno.test("RttEstimator: Karn's rule drops the sample of a retransmitted segment", () => {
  const e = new RttEstimator({ minRtoMs: 0 });
  e.startTiming(1000, 0);
  e.timedOut(); // RTO 1000 -> 2000; the timed segment goes out again
  assert.ok(!e.ackReceived(2000, 3000)); // ambiguous ACK: no sample
  assert.equal(e.hasSample, false);
  assert.equal(e.rto, 2000); // backed-off RTO kept
  // Same after a fast retransmit, which does not back off.
  e.startTiming(2000, 3000);
  e.retransmitted();
  assert.ok(!e.ackReceived(3000, 3100));
  assert.equal(e.rto, 2000);
  // A segment first sent after the retransmission is timed normally and ends the backoff.
  e.startTiming(3000, 4000);
  assert.ok(e.ackReceived(3500, 4080)); // R = 80: 80 + 4*40 = 240
  assert.equal(e.rto, 240);
});

Deno.test("RttEstimator: timestamp echoes give samples even after retransmission", () => {
  const e = new RttEstimator({ minRtoMs: 0 });
  e.startTiming(1, 0);
  e.timedOut(); // RTO 2000, timing dropped
  // TSecr 0xfffffff0 echoed at TSval 0x00000010: 0x20 = 32 ticks across the wrap, 1 ms each.
  assert.ok(e.timestampSample(0xfffffff0, 0x10));
  assert.deepEqual([e.srtt, e.rttvar, e.rto, e.backoffs], [32, 16, 96, 0]);
  // Ticks of 10 ms: 5 ticks = 50 ms. RTTVAR = 3/4*16 + 1/4*18 = 12 + 4.5 = 16.5;
  // SRTT = 7/8*32 + 1/8*50 = 28 + 6.25 = 34.25; RTO = 34.25 + 66 = 100.25.
  assert.ok(e.timestampSample(100, 105, 10));
  assert.deepEqual([e.srtt, e.rttvar, e.rto], [34.25, 16.5, 100.25]);
  // An echo from the future is ignored.
  assert.ok(!e.timestampSample(200, 150));
  assert.equal(e.srtt, 34.25);
});

Deno.test("RttEstimator.reset returns to a new connection's state, optionally at 3 s", () => {
  const e = new RttEstimator();
  e.sample(500);
  e.timedOut();
  e.startTiming(9, 9);
  e.reset(3000);
  assert.deepEqual([e.srtt, e.rttvar, e.hasSample, e.rto, e.backoffs, e.timing], [
    0,
    0,
    false,
    3000,
    0,
    false,
  ]);
  e.reset();
  assert.equal(e.rto, 1000);
});
