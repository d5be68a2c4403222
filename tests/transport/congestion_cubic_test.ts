import assert from "node:assert/strict";
import {
  Cubic,
  CUBIC_ALPHA,
  CUBIC_BETA,
  CUBIC_C,
} from "../../core/transport/tcp/congestion/cubic.ts";
import { SSTHRESH_INITIAL } from "../../core/transport/tcp/congestion/newreno.ts";

const MSS = 1000;

/** RFC 9438 eq. 1 in segments and seconds: W_cubic(t) = C*(t-K)^3 + W_max. */
function wCubicSegments(t: number, k: number, wMaxSegments: number): number {
  return CUBIC_C * (t - k) ** 3 + wMaxSegments;
}

/** A CUBIC at 100 segments that just lost: W_max 100 segments, cwnd = ssthresh = 70. */
function afterLoss(options: { fastConvergence?: boolean } = {}): Cubic {
  const cc = new Cubic({ mss: MSS, initialWindowSegments: 100, ...options });
  cc.onLoss(100 * MSS, 0);
  cc.onRecoveryEnd(0);
  return cc;
}

/**
 * Runs `rounds` round trips of `rttMs`: each acks the window at its start in
 * one-segment ACKs spread evenly over the RTT. Calls `look` after each round.
 */
function run(
  cc: Cubic,
  startMs: number,
  rttMs: number,
  rounds: number,
  look: (round: number, now: number) => void,
): number {
  let now = startMs;
  for (let r = 0; r < rounds; r++) {
    const acks = Math.floor(cc.cwnd / MSS);
    const from = now;
    for (let i = 1; i <= acks; i++) {
      now = from + i * rttMs / acks;
      cc.onAck(MSS, acks * MSS, false, now, rttMs, rttMs);
    }
    look(r, now);
  }
  return now;
}

Deno.test("CUBIC constants are RFC 9438's", () => {
  assert.equal(CUBIC_C, 0.4);
  assert.equal(CUBIC_BETA, 0.7);
  assert.ok(Math.abs(CUBIC_ALPHA - 0.9 / 1.7) < 1e-15); // 3*(1-0.7)/(1+0.7) = 0.5294...
  const cc = new Cubic({ mss: 1460 });
  assert.deepEqual([cc.name, cc.cwnd, cc.ssthresh, cc.wMax], ["cubic", 14600, SSTHRESH_INITIAL, 0]);
});

Deno.test("CUBIC loss: W_max = cwnd, ssthresh = cwnd = 0.7*flight (floor 2 SMSS)", () => {
  const cc = afterLoss();
  assert.deepEqual([cc.cwnd, cc.ssthresh, cc.wMax], [70000, 70000, 100000]);
  assert.equal(cc.epochStart, -1); // the epoch starts with congestion avoidance
  const small = new Cubic({ mss: MSS });
  small.onLoss(2500, 0);
  assert.deepEqual([small.cwnd, small.ssthresh], [2000, 2000]); // 1750 raised to 2*SMSS
});

Deno.test("CUBIC epoch: K = cbrt((W_max - cwnd_epoch)/C), W_cubic(0) = cwnd_epoch, W_cubic(K) = W_max", () => {
  const cc = afterLoss();
  cc.onAck(MSS, 70000, false, 1000, 100, 100);
  assert.equal(cc.epochStart, 1000);
  const k = Math.cbrt((100 - 70) / 0.4); // cbrt(75) = 4.2172 s
  assert.ok(Math.abs(cc.k - k) < 1e-12);
  assert.ok(Math.abs(cc.k - 4.217163326508746) < 1e-12);
  assert.ok(Math.abs(cc.curve(0) - 70000) < 1e-6);
  assert.ok(Math.abs(cc.curve(k) - 100000) < 1e-6);
  assert.ok(Math.abs(cc.curve(2 * k) - 130000) < 1e-6); // symmetric: convex beyond W_max
  // At t = 0 the curve (70000) is below W_est = 70000 + alpha*SMSS*1000/70000: Reno-friendly.
  assert.ok(Math.abs(cc.wEst - (70000 + CUBIC_ALPHA * 1000 * 1000 / 70000)) < 1e-9);
  assert.equal(cc.cwnd, 70007);
});

Deno.test("CUBIC concave region: one ACK grows cwnd by (W_cubic(t+RTT) - cwnd)/cwnd per segment", () => {
  const cc = afterLoss();
  cc.onAck(MSS, 70000, false, 1000, 100, 100); // epoch at 1000 ms; cwnd = W_est = 70007.56
  const before = 70000 + CUBIC_ALPHA * 1000 * 1000 / 70000;
  cc.onAck(MSS, 70000, false, 2000, 100, 100); // t = 1 s, RTT = 0.1 s
  const k = Math.cbrt(75);
  const target = wCubicSegments(1.1, k, 100) * MSS; // 87884.6 bytes
  assert.ok(Math.abs(target - 87884.6) < 0.1);
  const expected = before + (target - before) / before * MSS; // +255.4 bytes
  assert.equal(cc.cwnd, Math.floor(expected));
  assert.equal(cc.cwnd, 70262);
  assert.ok(cc.wEst < cc.curve(1)); // the cubic region, not the Reno-friendly one
});

Deno.test("CUBIC target is clamped to 1.5*cwnd per RTT (RFC 9438 §4.2)", () => {
  const cc = afterLoss();
  cc.onAck(MSS, 70000, false, 0, 100, 100); // epoch at 0; cwnd 70007
  const start = cc.cwnd;
  // 20 s later W_cubic(20.1) is 1.7 million bytes: far past 1.5*cwnd, so each
  // segment acked adds half a segment: (1.5*cwnd - cwnd)/cwnd = 0.5.
  const exact = 70000 + CUBIC_ALPHA * 1000 * 1000 / 70000;
  cc.onAck(MSS, 70000, false, 20000, 100, 100);
  assert.equal(cc.cwnd, Math.floor(exact + 500));
  assert.equal(cc.cwnd, start + 500);
});

Deno.test("CUBIC follows W_cubic(t) through the concave and convex regions at RTT 100 ms", () => {
  const cc = afterLoss();
  const k = Math.cbrt(75);
  let flatGrowth = 0;
  let earlyGrowth = 0;
  let lateGrowth = 0;
  let previous = cc.cwnd;
  run(cc, 0, 100, 100, (round, now) => {
    const t = (now - cc.epochStart) / 1000;
    const w = wCubicSegments(t, k, 100) * MSS;
    const grew = cc.cwnd - previous;
    previous = cc.cwnd;
    if (round < 45 || round >= 85) {
      // Cubic regions: cwnd within 0.1% of the curve, above the Reno estimate.
      assert.ok(Math.abs(cc.cwnd - w) / w < 0.001, `round ${round}: cwnd ${cc.cwnd} W ${w}`);
      assert.ok(cc.cwnd > cc.wEst, `round ${round}`);
    }
    if (round < 5) earlyGrowth += grew;
    if (Math.abs(t - k) < 0.25) flatGrowth += grew; // the plateau around W_max
    if (round >= 95) lateGrowth += grew;
  });
  // Concave: fast at first, flat near W_max; convex: accelerating beyond it.
  assert.ok(earlyGrowth > 8000, `early ${earlyGrowth}`); // ~9 segments in 5 RTTs
  assert.ok(flatGrowth < 200, `plateau ${flatGrowth}`); // under a fifth of a segment
  assert.ok(lateGrowth > 15000, `late ${lateGrowth}`);
});

Deno.test("CUBIC Reno-friendly region: at small RTT cwnd follows W_est, alpha until cwnd_prior then 1", () => {
  const cc = afterLoss();
  const k = Math.cbrt(75);
  const seen: number[] = [];
  run(cc, 0, 2, 100, (round, now) => {
    const t = (now - cc.epochStart) / 1000;
    // W_cubic is still near 70 segments; Reno would be far ahead, and CUBIC keeps up with it.
    assert.ok(cc.curve(t) < cc.wEst);
    assert.ok(cc.curve(t) < wCubicSegments(0.25, k, 100) * MSS);
    assert.equal(cc.cwnd, Math.floor(cc.wEst), `round ${round}`);
    seen.push(cc.cwnd);
  });
  // Below cwnd_prior (100 segments) W_est grows ~alpha = 0.53 segment per RTT,
  // beyond it one segment per RTT (RFC 9438 §4.3).
  const first10 = seen[9] - 70000;
  assert.ok(first10 > 10 * 0.5 * MSS && first10 < 10 * CUBIC_ALPHA * MSS + 100, `${first10}`);
  const last10 = seen[99] - seen[89];
  assert.ok(last10 > 9.9 * MSS && last10 <= 10 * MSS + 1, `${last10}`);
});

Deno.test("CUBIC fast convergence: a loss below W_max lowers W_max to cwnd*(1+beta)/2", () => {
  const cc = afterLoss(); // W_max 100000, cwnd 70000
  cc.onLoss(70000, 100);
  assert.equal(cc.wMax, 70000 * 0.85); // 59500: leave room for a newer flow
  assert.deepEqual([cc.cwnd, cc.ssthresh], [49000, 49000]);
  const again = afterLoss();
  again.onLoss(70000, 100);
  again.onLoss(49000, 150); // the same recovery: no second reduction, W_max kept
  assert.deepEqual([again.cwnd, again.wMax], [49000, 59500]);
  const plain = afterLoss({ fastConvergence: false });
  plain.onLoss(70000, 100);
  assert.equal(plain.wMax, 70000);
  // A loss at or above W_max sets W_max to cwnd either way.
  const above = new Cubic({ mss: MSS, initialWindowSegments: 100 });
  above.onLoss(100000, 0);
  above.onRecoveryEnd(10);
  run(above, 10, 100, 80, () => {}); // beyond the old W_max
  const cwnd = above.cwnd;
  assert.ok(cwnd > 100000);
  above.onLoss(cwnd, 9000);
  assert.ok(Math.abs(above.wMax - cwnd) < 1); // the unrounded window
});

Deno.test("CUBIC after a timeout: cwnd 1 SMSS, ssthresh 0.7*flight, then an epoch with K = 0 at its own cwnd", () => {
  const cc = afterLoss(); // W_max 100000
  cc.onRetransmitTimeout(70000, 1000);
  assert.deepEqual([cc.cwnd, cc.ssthresh], [1000, 49000]);
  cc.onRetransmitTimeout(70000, 3000); // backoff keeps ssthresh
  assert.deepEqual([cc.cwnd, cc.ssthresh], [1000, 49000]);
  let now = 3000;
  while (cc.cwnd < cc.ssthresh) cc.onAck(MSS, cc.cwnd, false, ++now, 100, 100);
  assert.equal(cc.cwnd, 49000);
  cc.onAck(MSS, 49000, false, 5000, 100, 100); // first ACK of congestion avoidance
  assert.deepEqual([cc.epochStart, cc.k, cc.wMax], [5000, 0, 49000]); // §4.8, not the old 100000
  assert.ok(Math.abs(cc.curve(1) - (49000 + 400)) < 1e-9); // convex from the start
});

Deno.test("CUBIC undo restores cwnd, ssthresh, W_max, K, the epoch and W_est (RFC 9438 §4.9)", () => {
  const cc = afterLoss();
  run(cc, 0, 100, 10, () => {});
  const before = [cc.cwnd, cc.ssthresh, cc.wMax, cc.k, cc.epochStart, cc.wEst];
  cc.onLoss(cc.cwnd, 1500);
  assert.notDeepEqual([cc.cwnd, cc.wMax, cc.epochStart], [before[0], before[2], before[4]]);
  cc.onRecoveryEnd(1600);
  cc.undo(1700);
  assert.deepEqual([cc.cwnd, cc.ssthresh, cc.wMax, cc.k, cc.epochStart, cc.wEst], before);
  // The curve carries on where it was: the next ACK is in the same epoch.
  cc.onAck(MSS, cc.cwnd, false, 1800, 100, 100);
  assert.equal(cc.epochStart, before[4]);

  const rto = afterLoss();
  run(rto, 0, 100, 10, () => {});
  const saved = [rto.cwnd, rto.ssthresh, rto.wMax, rto.k, rto.epochStart, rto.wEst];
  rto.onRetransmitTimeout(rto.cwnd, 2000);
  rto.undo(2100); // a spurious timeout
  assert.deepEqual([rto.cwnd, rto.ssthresh, rto.wMax, rto.k, rto.epochStart, rto.wEst], saved);
});

Deno.test("CUBIC: application-limited time does not advance t, and such ACKs grow nothing", () => {
  const cc = afterLoss();
  cc.onAck(MSS, 70000, false, 1000, 100, 100); // epoch at 1000
  const cwnd = cc.cwnd;
  cc.onAck(MSS, 20000, true, 1500, 100, 100);
  cc.onAck(MSS, 20000, true, 3000, 100, 100);
  assert.equal(cc.cwnd, cwnd);
  assert.equal(cc.epochStart, 3000); // 2000 ms application-limited left out
  // The next full ACK sees t = 0.1 s, as if the pause had not happened.
  const ahead = afterLoss();
  ahead.onAck(MSS, 70000, false, 1000, 100, 100);
  ahead.onAck(MSS, 70000, false, 1100, 100, 100);
  cc.onAck(MSS, 70000, false, 3100, 100, 100);
  assert.equal(cc.cwnd, ahead.cwnd);
});

Deno.test("CUBIC after idle: cwnd = min(cwnd, IW); a cut window starts a new epoch, else idle time is left out", () => {
  const cc = new Cubic({ mss: MSS }); // IW 10 segments
  cc.onLoss(40000, 0); // ssthresh = cwnd = 28000
  cc.onRecoveryEnd(0);
  run(cc, 0, 100, 10, () => {});
  assert.equal(cc.epochStart > 0, true);
  cc.onIdleRestart(9000);
  assert.deepEqual([cc.cwnd, cc.ssthresh, cc.epochStart], [10000, 28000, -1]);
  run(cc, 9000, 100, 1, () => {});
  assert.equal(cc.cwnd, 20000); // slow start back toward ssthresh

  const tiny = new Cubic({ mss: MSS, initialWindowSegments: 10 });
  tiny.onLoss(4000, 0); // cwnd 2800 <= IW 10000
  tiny.onRecoveryEnd(0);
  tiny.onAck(MSS, 2800, false, 1000, 100, 100); // epoch at 1000
  const cwnd = tiny.cwnd; // 2989: W_est after one segment
  assert.equal(cwnd, Math.floor(2800 + CUBIC_ALPHA * 1000 * 1000 / 2800));
  tiny.onIdleRestart(6000); // not cut: the 5 s idle shifts the epoch
  assert.equal(tiny.epochStart, 6000);
  assert.equal(tiny.cwnd, cwnd);
});

Deno.test("CUBIC slow start is NewReno's (ABC, L = 2*SMSS), up to ssthresh", () => {
  const cc = new Cubic({ mss: MSS });
  for (let i = 0; i < 5; i++) cc.onAck(2000, 10000, false, i, 40, 40);
  assert.equal(cc.cwnd, 20000);
  cc.onAck(5000, 20000, false, 10, 40, 40);
  assert.equal(cc.cwnd, 22000);
  assert.equal(cc.epochStart, -1); // no epoch while in slow start
});
