import assert from "node:assert/strict";
import {
  CWND_MAX,
  initialWindow,
  NewReno,
  SSTHRESH_INITIAL,
} from "../../core/transport/tcp/congestion/newreno.ts";
import { Cubic } from "../../core/transport/tcp/congestion/cubic.ts";
import {
  CONGESTION_ALGORITHMS,
  CONGESTION_AVAILABLE,
  createCongestion,
  DEFAULT_CONGESTION,
} from "../../core/transport/tcp/congestion/registry.ts";
import type { CongestionControl } from "../../core/transport/tcp/congestion/congestion.ts";

/** Acks one window's worth (cwnd at the start of the round) in ACKs of `ackBytes`, the last one short. */
function ackRound(cc: CongestionControl, ackBytes: number, now: number): void {
  let left = cc.cwnd;
  while (left > 0) {
    const acked = Math.min(ackBytes, left);
    cc.onAck(acked, left, false, now, 40, 40);
    left -= acked;
  }
}

/** A NewReno in congestion avoidance at `cwnd` bytes (reached through a loss of twice that flight). */
function inAvoidance(cwnd: number, options: { abc?: boolean } = {}): NewReno {
  const cc = new NewReno({ mss: 1000, ...options });
  cc.onLoss(2 * cwnd, 0);
  cc.onRecoveryEnd(10);
  assert.deepEqual([cc.cwnd, cc.ssthresh], [cwnd, cwnd]);
  return cc;
}

Deno.test("initialWindow follows RFC 6928 unless net.inet.tcp.init_win gives segments", () => {
  assert.equal(initialWindow(1460, 0), 14600); // min(14600, max(2920, 14600))
  assert.equal(initialWindow(536, 0), 5360); // ten small segments
  assert.equal(initialWindow(1000, 0), 10000);
  assert.equal(initialWindow(9000, 0), 18000); // two jumbo segments beat 14600
  assert.equal(initialWindow(1460, 4), 5840);
  assert.equal(initialWindow(1460, 1), 1460);
  const cc = new NewReno({ mss: 1460 });
  assert.deepEqual([cc.name, cc.cwnd, cc.ssthresh, cc.mss], [
    "newreno",
    14600,
    SSTHRESH_INITIAL,
    1460,
  ]);
  assert.equal(new NewReno({ mss: 1460, initialWindowSegments: 3 }).cwnd, 4380);
});

Deno.test("NewReno: a new MSS before any traffic recomputes the initial window, after it keeps the bytes", () => {
  const cc = new NewReno({ mss: 536 });
  assert.equal(cc.cwnd, 5360);
  cc.setMss(1460); // the peer's MSS option arrived
  assert.deepEqual([cc.cwnd, cc.mss], [14600, 1460]);
  cc.onAck(1460, 1460, false, 10, 40, 40);
  assert.equal(cc.cwnd, 16060);
  cc.setMss(1200); // PMTU shrank
  assert.deepEqual([cc.cwnd, cc.mss], [16060, 1200]);
  cc.setMss(0); // ignored
  assert.equal(cc.mss, 1200);
});

Deno.test("NewReno slow start with ABC (L = 2*SMSS) doubles cwnd per RTT under delayed ACKs", () => {
  const cc = new NewReno({ mss: 1000 });
  const seen: number[] = [];
  for (let rtt = 0; rtt < 4; rtt++) {
    ackRound(cc, 2000, rtt * 40);
    seen.push(cc.cwnd);
  }
  assert.deepEqual(seen, [20000, 40000, 80000, 160000]);
  // A stretch ACK of six segments counts as L = 2*SMSS only.
  cc.onAck(6000, 160000, false, 200, 40, 40);
  assert.equal(cc.cwnd, 162000);
});

Deno.test("NewReno slow start: L = 1*SMSS with abc.aggressive=0; one SMSS per ACK without ABC", () => {
  const modest = new NewReno({ mss: 1000, abcAggressive: false });
  modest.onAck(2000, 10000, false, 0, 40, 40);
  assert.equal(modest.cwnd, 11000);
  modest.onAck(500, 10000, false, 0, 40, 40); // a partial segment counts as what it acked
  assert.equal(modest.cwnd, 11500);

  // RFC 5681 without byte counting: delayed ACKs give 1.5x per RTT.
  const counting = new NewReno({ mss: 1000, abc: false });
  ackRound(counting, 2000, 0);
  assert.equal(counting.cwnd, 15000);
  ackRound(counting, 2000, 40); // 15000 bytes = 7 ACKs of 2000 and one of 1000: +8000
  assert.equal(counting.cwnd, 23000);
});

Deno.test("NewReno slow start stops at ssthresh", () => {
  const cc = inAvoidance(5000);
  cc.onRetransmitTimeout(9000, 20); // ssthresh 4500, cwnd 1000
  assert.deepEqual([cc.cwnd, cc.ssthresh], [1000, 4500]);
  cc.onAck(1000, 1000, false, 30, 40, 40);
  cc.onAck(1000, 1000, false, 30, 40, 40);
  cc.onAck(1000, 1000, false, 30, 40, 40);
  assert.equal(cc.cwnd, 4000);
  cc.onAck(1000, 4000, false, 30, 40, 40);
  assert.equal(cc.cwnd, 4500); // not 5000: capped at ssthresh
  assert.equal(cc.inSlowStart, false);
});

Deno.test("NewReno congestion avoidance with byte counting grows exactly one SMSS per RTT", () => {
  const cc = inAvoidance(20000);
  const seen: number[] = [];
  for (let rtt = 0; rtt < 5; rtt++) {
    ackRound(cc, 2000, 100 + rtt * 40);
    seen.push(cc.cwnd);
  }
  assert.deepEqual(seen, [21000, 22000, 23000, 24000, 25000]);
  // Per-segment ACKs give the same figure: counting is in bytes.
  const single = inAvoidance(20000);
  ackRound(single, 1000, 100);
  assert.equal(single.cwnd, 21000);
});

Deno.test("NewReno congestion avoidance without ABC adds SMSS*SMSS/cwnd per ACK (RFC 5681 eq. 3)", () => {
  const cc = inAvoidance(20000, { abc: false });
  // Hand-computed, +floor(1000*1000/cwnd) per ACK: +50, eight times +49, then +48:
  // 20000 20050 20099 20148 20197 20246 20295 20344 20393 20442 20490.
  for (let i = 0; i < 10; i++) cc.onAck(2000, 20000, false, 100, 40, 40);
  assert.equal(cc.cwnd, 20490); // delayed ACKs halve Reno's growth: about half an SMSS per RTT
});

Deno.test("NewReno: an application-limited sender does not grow cwnd (RFC 7661)", () => {
  const ss = new NewReno({ mss: 1000 });
  for (let i = 0; i < 5; i++) ss.onAck(2000, 4000, true, i, 40, 40);
  assert.equal(ss.cwnd, 10000);
  const ca = inAvoidance(20000);
  for (let i = 0; i < 30; i++) ca.onAck(2000, 5000, true, 100 + i, 40, 40);
  assert.equal(ca.cwnd, 20000);
  // Bytes acked while application-limited do not count toward the next increment either.
  ackRound(ca, 2000, 200);
  assert.equal(ca.cwnd, 21000);
});

Deno.test("NewReno loss: ssthresh = max(flight/2, 2*SMSS), cwnd = ssthresh, and again at recovery's end", () => {
  const cc = new NewReno({ mss: 1000 });
  ackRound(cc, 2000, 0); // cwnd 20000
  cc.onLoss(19000, 50);
  assert.deepEqual([cc.cwnd, cc.ssthresh], [9500, 9500]);
  cc.onRecoveryEnd(90);
  assert.deepEqual([cc.cwnd, cc.ssthresh], [9500, 9500]);
  cc.onAck(2000, 9500, false, 100, 40, 40);
  assert.equal(cc.cwnd, 9500); // congestion avoidance now: 2000 of 9500 counted
  cc.onRecoveryEnd(110); // not in recovery: nothing to end
  assert.equal(cc.cwnd, 9500);

  // A second loss inside the same recovery is not a second reduction.
  const twice = new NewReno({ mss: 1000 });
  twice.onLoss(20000, 0);
  twice.onLoss(10000, 10);
  assert.deepEqual([twice.cwnd, twice.ssthresh], [10000, 10000]);
  twice.onRecoveryEnd(50);
  twice.onLoss(10000, 60); // a new recovery: halves again
  assert.deepEqual([twice.cwnd, twice.ssthresh], [5000, 5000]);

  const small = new NewReno({ mss: 1000 });
  small.onLoss(3000, 0);
  assert.deepEqual([small.cwnd, small.ssthresh], [2000, 2000]); // the 2*SMSS floor
  small.onRecoveryEnd(10);
  small.onLoss(1001, 20);
  assert.equal(small.ssthresh, 2000);
});

Deno.test("NewReno timeout: cwnd = 1 SMSS; a repeated timeout keeps ssthresh; one in recovery keeps recovery's", () => {
  const cc = new NewReno({ mss: 1000 });
  ackRound(cc, 2000, 0); // 20000
  cc.onRetransmitTimeout(20000, 1000);
  assert.deepEqual([cc.cwnd, cc.ssthresh], [1000, 10000]);
  cc.onRetransmitTimeout(20000, 3000); // backoff: the same segment again
  assert.deepEqual([cc.cwnd, cc.ssthresh], [1000, 10000]);
  cc.onAck(1000, 20000, false, 3100, 40, 40);
  cc.onRetransmitTimeout(6000, 5000); // after progress, a new timeout computes afresh
  assert.deepEqual([cc.cwnd, cc.ssthresh], [1000, 3000]);

  const rec = new NewReno({ mss: 1000 });
  ackRound(rec, 2000, 0); // 20000
  rec.onLoss(20000, 100); // ssthresh 10000
  rec.onRetransmitTimeout(18000, 1100); // recovery failed: ssthresh from the recovery stands
  assert.deepEqual([rec.cwnd, rec.ssthresh], [1000, 10000]);
  rec.onRecoveryEnd(1200); // the timeout ended recovery; cwnd stays in slow start
  assert.equal(rec.cwnd, 1000);
});

Deno.test("NewReno after a timeout: L = 1*SMSS until the flight at the timeout is acked (RFC 3465 §2.3)", () => {
  const cc = new NewReno({ mss: 1000 });
  ackRound(cc, 2000, 0);
  ackRound(cc, 2000, 40); // 40000
  cc.onRetransmitTimeout(40000, 1000); // ssthresh 20000
  for (let i = 0; i < 3; i++) cc.onAck(2000, 1000, false, 1100, 40, 40);
  assert.equal(cc.cwnd, 4000); // +1000 per ACK of two segments
  cc.onAck(34000, 4000, false, 1200, 40, 40); // the hole filled: everything left of the 40000
  assert.equal(cc.cwnd, 5000);
  cc.onAck(2000, 5000, false, 1300, 40, 40); // new data now: L = 2*SMSS again
  assert.equal(cc.cwnd, 7000);
});

Deno.test("NewReno undo restores the window from before the last reduction, once", () => {
  const cc = new NewReno({ mss: 1000 });
  ackRound(cc, 2000, 0); // 20000
  cc.onLoss(20000, 50);
  assert.deepEqual([cc.cwnd, cc.ssthresh], [10000, 10000]);
  cc.undo(60); // DSACK: the retransmission was spurious
  assert.deepEqual([cc.cwnd, cc.ssthresh], [20000, SSTHRESH_INITIAL]);
  cc.onRecoveryEnd(70); // recovery was undone: no drop to ssthresh
  assert.equal(cc.cwnd, 20000);
  cc.undo(80); // nothing left to undo
  assert.deepEqual([cc.cwnd, cc.ssthresh], [20000, SSTHRESH_INITIAL]);

  // A timeout inside recovery is undone back to before the loss.
  cc.onLoss(20000, 100);
  cc.onRetransmitTimeout(20000, 1100);
  assert.deepEqual([cc.cwnd, cc.ssthresh], [1000, 10000]);
  cc.undo(1200);
  assert.deepEqual([cc.cwnd, cc.ssthresh], [20000, SSTHRESH_INITIAL]);

  // A spurious timeout (Eifel/F-RTO) in congestion avoidance.
  const ca = inAvoidance(30000);
  ca.onRetransmitTimeout(30000, 500);
  assert.deepEqual([ca.cwnd, ca.ssthresh], [1000, 15000]);
  ca.onAck(1000, 30000, false, 600, 40, 40);
  ca.undo(610);
  assert.deepEqual([ca.cwnd, ca.ssthresh], [30000, 30000]);
  // Undo never lowers: figures above the saved ones stay.
  const grown = new NewReno({ mss: 1000 });
  grown.onRetransmitTimeout(4000, 0); // cwnd 1000, ssthresh 2000
  grown.onAck(1000, 4000, false, 10, 40, 40); // cwnd 2000
  grown.onLoss(8000, 20); // saves 2000 / 2000; now 4000 / 4000
  grown.undo(30);
  assert.deepEqual([grown.cwnd, grown.ssthresh], [4000, 4000]);
});

Deno.test("NewReno after idle: cwnd = min(cwnd, IW), ssthresh kept (RFC 5681 §4.1)", () => {
  const cc = inAvoidance(40000);
  cc.onIdleRestart(5000);
  assert.deepEqual([cc.cwnd, cc.ssthresh], [10000, 40000]);
  ackRound(cc, 2000, 5100);
  assert.equal(cc.cwnd, 20000); // slow start back toward ssthresh
  const small = new NewReno({ mss: 1000 });
  small.onLoss(8000, 0); // cwnd 4000
  small.onIdleRestart(5000);
  assert.equal(small.cwnd, 4000); // below the restart window: unchanged
});

Deno.test("NewReno never grows past CWND_MAX", () => {
  const cc = new NewReno({ mss: 65000, initialWindowSegments: 16000 }); // 1.04e9 bytes
  assert.ok(cc.cwnd < CWND_MAX);
  for (let i = 0; i < 300; i++) cc.onAck(130000, cc.cwnd, false, i, 40, 40); // +130000 each
  assert.equal(cc.cwnd, CWND_MAX);
});

Deno.test("registry: names as net.inet.tcp.congctl.available prints them, cubic by default", () => {
  assert.deepEqual([...CONGESTION_ALGORITHMS], ["newreno", "cubic"]);
  assert.equal(CONGESTION_AVAILABLE, "newreno cubic");
  assert.equal(DEFAULT_CONGESTION, "cubic");
  for (const name of CONGESTION_ALGORITHMS) {
    const cc = createCongestion(name, { mss: 1460 });
    assert.ok(cc !== null);
    assert.equal(cc.name, name);
    assert.equal(cc.cwnd, 14600);
    assert.equal(cc.ssthresh, SSTHRESH_INITIAL);
  }
  assert.ok(createCongestion("cubic", { mss: 1000 }) instanceof Cubic);
  assert.ok(createCongestion("newreno", { mss: 1000 }) instanceof NewReno);
  const four = createCongestion(DEFAULT_CONGESTION, { mss: 1000, initialWindowSegments: 4 });
  assert.equal(four?.cwnd, 4000);
  assert.equal(createCongestion("reno", { mss: 1000 }), null);
  assert.equal(createCongestion("CUBIC", { mss: 1000 }), null);
  assert.equal(createCongestion("", { mss: 1000 }), null);
});
