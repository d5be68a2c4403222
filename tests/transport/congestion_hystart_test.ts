import assert from "node:assert/strict";
import {
  Cubic,
  HYSTART,
  HYSTART_PHASE,
  HyStartPlusPlus,
} from "../../core/transport/tcp/congestion/cubic.ts";
import { SSTHRESH_INITIAL } from "../../core/transport/tcp/congestion/newreno.ts";

const { SLOW_START, CONSERVATIVE, EXIT } = HYSTART_PHASE;

/** One round: `acks` ACKs of 1000 bytes, each with the flight at the round's start and one RTT sample. Returns the phases seen. */
function round(h: HyStartPlusPlus, acks: number, sampleMs: number): number[] {
  const phases: number[] = [];
  for (let i = 0; i < acks; i++) phases.push(h.onAck(1000, acks * 1000, sampleMs));
  return phases;
}

Deno.test("HyStart++ constants are RFC 9406's", () => {
  assert.deepEqual(
    { ...HYSTART },
    {
      MIN_RTT_THRESH_MS: 4,
      MAX_RTT_THRESH_MS: 16,
      MIN_RTT_DIVISOR: 8,
      N_RTT_SAMPLE: 8,
      CSS_GROWTH_DIVISOR: 4,
      CSS_ROUNDS: 5,
    },
  );
});

Deno.test("HyStart++: a round's minimum RTT up by RttThresh moves to CSS, after the eighth sample", () => {
  const h = new HyStartPlusPlus();
  assert.ok(round(h, 10, 40).every((p) => p === SLOW_START)); // no previous round yet
  assert.ok(round(h, 10, 40).every((p) => p === SLOW_START));
  assert.equal(h.lastRoundMinRtt, 40);
  // RttThresh = max(4, min(40/8, 16)) = 5: 44.9 is not enough.
  assert.ok(round(h, 10, 44.9).every((p) => p === SLOW_START));
  // Now lastRoundMinRTT is 44.9, RttThresh 5.6125: 50.5125 is; it counts from the 8th sample.
  assert.deepEqual(round(h, 10, 50.52), [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
  assert.equal(h.phase, CONSERVATIVE);
});

Deno.test("HyStart++: RttThresh is clamped to [4, 16] ms", () => {
  const short = new HyStartPlusPlus(); // 20 ms: 20/8 = 2.5 -> 4
  round(short, 8, 20);
  assert.equal(round(short, 8, 23.9).at(-1), SLOW_START);
  round(short, 8, 20); // minimum back down to 20
  assert.equal(round(short, 8, 24).at(-1), CONSERVATIVE);
  const long = new HyStartPlusPlus(); // 200 ms: 200/8 = 25 -> 16
  round(long, 8, 200);
  assert.equal(round(long, 8, 215.9).at(-1), SLOW_START);
  round(long, 8, 200);
  assert.equal(round(long, 8, 216).at(-1), CONSERVATIVE);
});

Deno.test("HyStart++: fewer than N_RTT_SAMPLE samples in a round decide nothing", () => {
  const h = new HyStartPlusPlus();
  round(h, 10, 40);
  // Ten ACKs, only seven with a sample (the rest 0), all far above: no exit.
  const phases: number[] = [];
  for (let i = 0; i < 10; i++) phases.push(h.onAck(1000, 10000, i < 7 ? 90 : 0));
  assert.ok(phases.every((p) => p === SLOW_START));
});

Deno.test("HyStart++: CSS lasts CSS_ROUNDS rounds, the partial first one included, then EXIT", () => {
  const h = new HyStartPlusPlus();
  round(h, 10, 40);
  round(h, 10, 50); // CSS from the 8th ACK of this round (round 1 of 5)
  assert.equal(h.phase, CONSERVATIVE);
  for (let r = 2; r <= 5; r++) {
    assert.ok(round(h, 10, 50).every((p) => p === CONSERVATIVE), `CSS round ${r}`);
  }
  assert.equal(h.onAck(1000, 10000, 50), EXIT); // the first ACK after the fifth round
  assert.equal(h.onAck(1000, 10000, 10), EXIT); // and it stays there
  h.reset();
  assert.equal(h.phase, SLOW_START);
});

Deno.test("HyStart++: a CSS round whose minimum falls below the baseline resumes slow start", () => {
  const h = new HyStartPlusPlus();
  round(h, 10, 40);
  round(h, 10, 50); // baseline 50
  const phases = round(h, 10, 49);
  assert.deepEqual(phases, [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]); // spurious: back on the 8th sample
  assert.equal(h.phase, SLOW_START);
});

Deno.test("CUBIC with HyStart++: a quarter of the growth in CSS, then ssthresh = cwnd and a flat epoch", () => {
  const cc = new Cubic({ mss: 1000 });
  let now = 0;
  const ackRound = (sampleMs: number) => {
    const flight = cc.cwnd;
    for (let acked = 0; acked < flight; acked += 2000) {
      now += 1;
      cc.onAck(2000, flight, false, now, sampleMs, 40, sampleMs);
    }
  };
  ackRound(40); // 10000 -> 20000
  ackRound(40); // -> 40000
  assert.equal(cc.cwnd, 40000);
  // The queue builds: samples at 50 ms. The round has 20 ACKs; CSS from the 8th,
  // so 7 * 2000 at full rate and 13 * 500 at a quarter.
  ackRound(50);
  assert.equal(cc.hystartPhase, CONSERVATIVE);
  assert.equal(cc.cwnd, 40000 + 7 * 2000 + 13 * 500);
  assert.equal(cc.ssthresh, SSTHRESH_INITIAL);
  for (let r = 0; r < 4; r++) ackRound(50); // CSS rounds 2..5
  const before = cc.cwnd;
  assert.equal(cc.hystartPhase, CONSERVATIVE);
  cc.onAck(2000, before, false, ++now, 50, 40, 50); // the round after: EXIT, no growth
  assert.equal(cc.hystartPhase, EXIT);
  assert.deepEqual([cc.cwnd, cc.ssthresh], [before, before]);
  cc.onAck(2000, before, false, ++now, 50, 40, 50); // congestion avoidance: W_max = cwnd, K = 0 (RFC 9438 §4.10)
  assert.deepEqual([cc.epochStart, cc.k, cc.wMax], [now, 0, before]);
});

Deno.test("CUBIC: HyStart++ is off without samples, with hystart: false, and after the first loss", () => {
  const grow = (cc: Cubic, sampleMs: number, rounds: number) => {
    for (let r = 0; r < rounds; r++) {
      const flight = cc.cwnd;
      for (let acked = 0; acked < flight; acked += 2000) {
        cc.onAck(2000, flight, false, r, sampleMs, 40, sampleMs === 0 ? 0 : sampleMs + r * 20);
      }
    }
    return cc.cwnd;
  };
  assert.equal(grow(new Cubic({ mss: 1000 }), 0, 4), 160000); // doubling, no samples
  assert.equal(grow(new Cubic({ mss: 1000, hystart: false }), 40, 4), 160000); // rising RTT ignored
  assert.ok(grow(new Cubic({ mss: 1000 }), 40, 4) < 160000); // the same rise with HyStart++
  const afterLoss = new Cubic({ mss: 1000 });
  afterLoss.onRetransmitTimeout(10000000, 0); // ssthresh 7000000: slow start after the timeout is standard
  afterLoss.onAck(10000000, 1000, false, 0, 40, 40, 40); // L = 1 SMSS until the old flight is acked
  assert.equal(grow(afterLoss, 40, 4), 2000 * 16);
});
