import assert from "node:assert/strict";
import { Rack, TLP_ACK, WindowedMin } from "../../core/transport/tcp/rack.ts";
import {
  SEG_EVER_RETRANS,
  SEG_LOST,
  SEG_RETRANS,
  SEG_SACKED,
  SentSegments,
} from "../../core/transport/tcp/sent_segments.ts";
import { prng } from "../kit/bytes.ts";

const left = new Uint32Array(4);
const right = new Uint32Array(4);

/** One ACK through SentSegments then Rack.update, as the engine does it. */
function ack(
  segs: SentSegments,
  rack: Rack,
  cum: number,
  blocks: number[][],
  now: number,
  exitingRecovery = false,
): void {
  blocks.forEach(([l, r], k) => {
    left[k] = l >>> 0;
    right[k] = r >>> 0;
  });
  segs.onAck(cum >>> 0, left, right, blocks.length, now, rack.retransmitXmitLimit(now));
  rack.update(segs, now, segs.sndMax, exitingRecovery);
}

/** Five 100-byte segments from 0, sent at 0, 1, 2, 3, 4. */
function flight(): SentSegments {
  const s = new SentSegments({ initialSeq: 0 });
  for (let k = 0; k < 5; k++) s.sent(100 * k, 100, k);
  return s;
}

function lostFlags(s: SentSegments): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < s.count; i++) out.push((s.flagsAt(i) & SEG_LOST) !== 0);
  return out;
}

Deno.test("Rack: a segment is lost once RACK.rtt + reo_wnd has passed since it was sent", () => {
  const s = flight();
  const r = new Rack();
  ack(s, r, 0, [[100, 200]], 100); // segment 1 (sent at 1) SACKed: RTT 99
  assert.deepEqual([r.xmitTs, r.endSeq, r.rtt, r.minRtt], [1, 200, 99, 99]);
  // reo_wnd = min_RTT / 4 = 24.75; segment 0 waits until 0 + 99 + 24.75.
  assert.equal(r.detectLoss(s, 100, false, 99), 123.75);
  assert.equal(r.reoWnd, 24.75);
  assert.deepEqual(lostFlags(s), [false, false, false, false, false]);
  assert.equal(r.detectLoss(s, 123.5, false, 99), 123.75);
  // The reorder timer fires.
  assert.equal(r.detectLoss(s, 123.75, false, 99), -1);
  assert.deepEqual([r.lostSegments, r.lostBytes], [1, 100]);
  assert.deepEqual(lostFlags(s), [true, false, false, false, false]);
  assert.equal(s.lostBytes, 100);
  // Lost and not resent: not judged again.
  assert.equal(r.detectLoss(s, 200, false, 99), -1);
  assert.equal(r.lostSegments, 0);
});

Deno.test("Rack: one segment reordered within the window is not marked lost", () => {
  const s = flight();
  const r = new Rack();
  ack(s, r, 0, [[100, 200]], 100);
  assert.equal(r.detectLoss(s, 100, false, 99), 123.75);
  ack(s, r, 200, [], 110); // segment 0 arrives late: an original below fack
  assert.equal(r.reorderingSeen, true);
  assert.equal(r.detectLoss(s, 110, false, 99), -1);
  assert.deepEqual([r.lostSegments, s.lostBytes], [0, 0]);
  // Once reordering is seen the window stays open even in recovery.
  assert.equal(r.reorderWindow(s, true, 99), 24.75);
});

Deno.test("Rack: reo_wnd is 0 in recovery, or with DupThresh SACKed segments, before reordering is seen", () => {
  const s = flight();
  const r = new Rack();
  ack(s, r, 0, [[100, 200]], 100);
  assert.equal(r.reorderWindow(s, true, 99), 0);
  assert.equal(r.detectLoss(s, 100, true, 99), -1); // 0 + 99 + 0 <= 100: lost at once
  assert.deepEqual(lostFlags(s), [true, false, false, false, false]);
  const t = flight();
  const q = new Rack();
  ack(t, q, 0, [[100, 400]], 100);
  assert.equal(t.sackedSegments, 3);
  assert.equal(q.reorderWindow(t, false, 99), 0);
  // And never more than SRTT.
  const u = flight();
  const v = new Rack();
  ack(u, v, 0, [[100, 200]], 100);
  assert.equal(v.reorderWindow(u, false, 20), 20);
});

Deno.test("Rack: D-SACKs widen the window once per round trip; 16 quiet recoveries reset it", () => {
  const s = new SentSegments({ initialSeq: 0 });
  const r = new Rack();
  for (let k = 0; k < 10; k++) s.sent(100 * k, 100, k);
  ack(s, r, 100, [], 40); // RTT 40: min_RTT 40
  assert.equal(r.reorderWindow(s, false, 40), 10);
  s.retransmitted(100, 100, 50); // a spurious retransmission
  ack(s, r, 200, [[100, 200]], 60); // D-SACK below the ACK
  assert.equal(s.dsack, true);
  assert.deepEqual([r.reoWndMult, r.reoWndPersist, r.dsackRoundActive, r.dsackRound], [
    2,
    16,
    true,
    1000,
  ]);
  assert.equal(r.reorderWindow(s, false, 40), 20);
  ack(s, r, 300, [[150, 200]], 70); // another D-SACK in the same round: no change
  assert.equal(r.reoWndMult, 2);
  s.sent(1000, 100, 80);
  ack(s, r, 1000, [], 90); // the round ends at SND.NXT 1000
  ack(s, r, 1000, [[900, 1000]], 100); // a D-SACK in the next round
  assert.deepEqual([r.reoWndMult, r.dsackRound], [3, 1100]);
  assert.equal(r.reorderWindow(s, false, 40), 30);
  assert.equal(r.reorderWindow(s, false, 25), 25); // capped by SRTT
  for (let k = 0; k < 15; k++) ack(s, r, 1000, [], 110 + k, true);
  assert.deepEqual([r.reoWndMult, r.reoWndPersist], [3, 1]);
  ack(s, r, 1000, [], 130, true);
  assert.deepEqual([r.reoWndMult, r.reoWndPersist], [1, 0]);
});

Deno.test("Rack: a lost retransmission is detected, and its in-flight count dropped", () => {
  const s = flight();
  const r = new Rack();
  ack(s, r, 0, [[100, 500]], 100); // 0 missing
  assert.equal(r.detectLoss(s, 100, true, 99), -1);
  s.retransmitted(0, 100, 100);
  assert.equal(s.flagsAt(0), SEG_LOST | SEG_RETRANS | SEG_EVER_RETRANS);
  assert.equal(s.inFlight, 100);
  s.sent(500, 100, 110);
  ack(s, r, 0, [[100, 600]], 210); // new data sent after the resend arrived; the resend did not
  assert.deepEqual([r.xmitTs, r.endSeq], [110, 600]);
  assert.equal(r.detectLoss(s, 210, true, 100), -1); // 100 + 100 <= 210
  assert.equal(s.flagsAt(0), SEG_LOST | SEG_EVER_RETRANS);
  assert.equal(s.inFlight, 0);
});

Deno.test("Rack: a retransmission's delivery counts only after min_RTT (or the echoed timestamp)", () => {
  const s = flight();
  const r = new Rack();
  ack(s, r, 100, [], 50); // min_RTT 50
  s.retransmitted(100, 100, 60);
  assert.equal(r.retransmitXmitLimit(100), 50);
  assert.equal(r.retransmitXmitLimit(100, 40), 40);
  ack(s, r, 200, [], 70); // 10 ms after the resend: it must be the original's ACK
  assert.deepEqual([r.xmitTs, r.rtt], [0, 50]);
  s.retransmitted(200, 100, 80);
  ack(s, r, 300, [], 140); // 60 ms after: counts
  assert.deepEqual([r.xmitTs, r.endSeq, r.rtt], [80, 300, 60]);
  assert.equal(r.minRtt, 50); // no Karn-unsafe sample reaches min_RTT
});

Deno.test("Rack: the probe timeout follows RFC 8985 §7.2", () => {
  const r = new Rack();
  assert.equal(r.probeTimeout(100, 3000, 1000), 200); // 2 * SRTT
  assert.equal(r.probeTimeout(100, 1000, 1000), 400); // one segment: + WCDelAckT 200
  assert.equal(r.probeTimeout(0, 3000, 1000), 1000); // no SRTT yet
  assert.equal(r.probeTimeout(100, 3000, 1000, 150), 150); // never past the RTO
  assert.equal(r.probeTimeout(2, 3000, 1000), 10); // the 10 ms floor
  assert.equal(r.probeTimeout(2, 500, 1000), 210);
  const plain = new Rack({ minPtoMs: 0, wcDelAckMs: 40 });
  assert.equal(plain.probeTimeout(2, 3000, 1000), 4);
  assert.equal(plain.probeTimeout(2, 500, 1000), 44);
});

Deno.test("Rack: TLP episodes end with the right verdict (RFC 8985 §7.4)", () => {
  const s = flight();
  const r = new Rack();
  // A probe of new data: delivered, nothing lost.
  s.sent(500, 100, 10);
  r.probeSent(500, 600, 600, false);
  assert.equal(r.tlpInProgress, true);
  ack(s, r, 500, [], 20);
  assert.equal(r.tlpOnAck(s, 500), TLP_ACK.NONE);
  ack(s, r, 600, [], 30);
  assert.equal(r.tlpOnAck(s, 600), TLP_ACK.NO_LOSS);
  assert.equal(r.tlpInProgress, false);

  // A resent tail segment reported as a duplicate: both copies arrived, no loss.
  const t = flight();
  const q = new Rack();
  t.retransmitted(400, 100, 50, true);
  q.probeSent(400, 500, 500, true);
  ack(t, q, 500, [], 60);
  assert.equal(q.tlpOnAck(t, 500), TLP_ACK.NONE); // maybe the original: wait for more
  ack(t, q, 500, [[400, 500]], 61);
  assert.equal(q.tlpOnAck(t, 500), TLP_ACK.NO_LOSS);

  // No D-SACK and later data acknowledged: the probe repaired a loss.
  const u = flight();
  const v = new Rack();
  u.retransmitted(400, 100, 50, true);
  v.probeSent(400, 500, 500, true);
  ack(u, v, 500, [], 60);
  assert.equal(v.tlpOnAck(u, 500), TLP_ACK.NONE);
  u.sent(500, 100, 70);
  ack(u, v, 600, [], 80);
  assert.equal(v.tlpOnAck(u, 600), TLP_ACK.LOSS_REPAIRED);
  assert.equal(v.tlpOnAck(u, 600), TLP_ACK.NONE); // the episode is over

  // A non-SACK peer's duplicate ACK at the probe's end: no loss. Below the end: nothing yet.
  const w = new Rack();
  w.probeSent(400, 500, 500, true);
  assert.equal(w.tlpOnAck(u, 400, true), TLP_ACK.NONE);
  assert.equal(w.tlpOnAck(u, 500, true), TLP_ACK.NO_LOSS);
  w.probeSent(400, 500, 500, true);
  w.tlpCancel();
  assert.equal(w.tlpOnAck(u, 600), TLP_ACK.NONE);
});

Deno.test("WindowedMin keeps the minimum of the last window", () => {
  const m = new WindowedMin(100);
  assert.equal(m.value, Infinity);
  m.update(10, 0);
  m.update(20, 50);
  assert.equal(m.value, 10);
  m.update(30, 120); // 10 expired; 20 (at 50) is the best left
  assert.equal(m.value, 20);
  m.update(40, 200); // 20 expired too
  assert.equal(m.value, 30);
  m.update(5, 210);
  assert.equal(m.value, 5);
  m.reset();
  assert.equal(m.value, Infinity);
});

Deno.test("Rack.detectLoss agrees with a scan of every record (random flights)", () => {
  const rand = prng(8985);
  let marked = 0, timers = 0;
  for (let round = 0; round < 300; round++) {
    const s = new SentSegments({ initialSeq: 0xffff0000 + rand(0x20000) });
    const r = new Rack();
    let now = 0;
    const n = 3 + rand(30);
    for (let k = 0; k < n; k++) s.sent(s.sndMax, 50 + rand(100), now += rand(3));
    for (let step = 0; step < 8; step++) {
      now += 5 + rand(40);
      const op = rand(3);
      if (op === 0 && s.count > 0) {
        const i = rand(s.count);
        s.retransmitted(s.startAt(i), s.lengthAt(i), now);
      } else if (op === 1 && s.count > 1) {
        const i = 1 + rand(s.count - 1);
        const j = i + rand(s.count - i);
        ack(s, r, s.sndUna, [[s.startAt(i), s.endAt(j)]], now);
      } else if (s.count > 0) {
        ack(s, r, s.startAt(rand(s.count)), [], now);
      }
      const srtt = 30;
      // Expected by the RFC's loop over every record, before detectLoss marks anything.
      const reo = r.reorderWindow(s, false, srtt);
      const expectLost: boolean[] = [];
      let expectWait = 0;
      for (let i = 0; i < s.count; i++) {
        const f = s.flagsAt(i), x = s.xmitAt(i);
        const before = s.sendOrderAt(i) < r.sendOrder;
        const skip = (f & SEG_SACKED) !== 0 || (f & (SEG_LOST | SEG_RETRANS)) === SEG_LOST;
        const remaining = x + r.rtt + reo - now;
        const lost = r.xmitTs >= 0 && before && !skip && remaining <= 0;
        if (r.xmitTs >= 0 && before && !skip && remaining > 0) {
          expectWait = Math.max(expectWait, remaining);
        }
        expectLost.push(lost || (f & SEG_LOST) !== 0);
      }
      const deadline = r.detectLoss(s, now, false, srtt);
      assert.deepEqual(lostFlags(s), expectLost, `round ${round} step ${step}`);
      assert.equal(deadline, expectWait > 0 ? now + expectWait : -1);
      marked += r.lostSegments;
      if (deadline >= 0) timers++;
    }
  }
  assert.ok(
    marked > 100 && timers > 100,
    `${marked} marked, ${timers} timers: the flights exercise both`,
  );
});

Deno.test("Rack: a resend after new data in the same turn is not older than that data", () => {
  // RFC 8985's (xmit_ts, end_seq) tie-break would call the resend of [0, 100)
  // older than [500, 600) sent at the same time, and lose it on that delivery.
  const s = flight();
  const r = new Rack();
  ack(s, r, 0, [[100, 500]], 100);
  r.detectLoss(s, 100, true, 99);
  s.sent(500, 100, 100); // new data first...
  s.retransmitted(0, 100, 100); // ...then the resend, in the same turn
  ack(s, r, 0, [[100, 600]], 150);
  assert.deepEqual([r.xmitTs, r.endSeq], [100, 600]);
  assert.equal(r.detectLoss(s, 150, true, 99), -1);
  assert.equal(s.flagsAt(0), SEG_LOST | SEG_RETRANS | SEG_EVER_RETRANS); // still in flight
  assert.ok(s.sendOrderAt(0) > s.sendOrderAt(s.count - 1));
});

Deno.test("Rack: a D-SACK counts as reordering seen, unless it answers a loss probe or the option is off", () => {
  const mk = (dsackMeansReordering: boolean, probe: boolean) => {
    const s = flight();
    const r = new Rack({ dsackMeansReordering });
    s.retransmitted(400, 100, 20, probe);
    if (probe) r.probeSent(400, 500, 500, true);
    ack(s, r, 500, [[400, 500]], 30);
    assert.equal(s.dsack, true);
    return r.reorderingSeen;
  };
  assert.equal(mk(true, false), true);
  assert.equal(mk(true, true), false);
  assert.equal(mk(false, false), false);
});
