/**
 * A sender built from SentSegments, SackScoreboard, Rack and RttEstimator,
 * driving a receiver built on Reassembly over a simulated link with delay,
 * jitter (reordering) and loss, in virtual time. The congestion window is
 * fixed: only loss detection and repair are under test. It also shows the
 * order in which an engine calls these modules per ACK and per timer.
 */
import assert from "node:assert/strict";
import { Rack, type RackOptions } from "../../core/transport/tcp/rack.ts";
import { Reassembly } from "../../core/transport/tcp/reassembly.ts";
import { RttEstimator } from "../../core/transport/tcp/rtt.ts";
import { SackScoreboard } from "../../core/transport/tcp/sack_scoreboard.ts";
import { SentSegments } from "../../core/transport/tcp/sent_segments.ts";
import { seqGeq } from "../../core/transport/tcp/seq.ts";
import { prng } from "../kit/bytes.ts";

interface Packet {
  at: number;
  data: boolean;
  seq: number; // data: first byte; ACK: cumulative ACK
  len: number;
  blocks: number[]; // ACK: SACK blocks as l, r, l, r...
}

interface Link {
  delayMs: number;
  /** Every data segment is delayed by a further uniform 0 to jitterMs. */
  jitterMs: number;
  /** Probability a data segment is held back a further `holdMs` (occasional reordering). */
  hold?: number;
  holdMs?: number;
  loss: number;
  /** Data segments (by sequence number, first transmission only) to drop once. */
  dropOnce?: Set<number>;
}

interface Result {
  delivered: number;
  retransmissions: number;
  spurious: number;
  lostOnLink: number;
  rtos: number;
  probes: number;
  reorderingSeen: boolean;
  reoWndMult: number;
  endMs: number;
}

function simulate(total: number, link: Link, seed: number, rackOptions: RackOptions = {}): Result {
  const rand = prng(seed);
  const mss = 1000, window = 16 * mss, iss = 0xfffe0000;
  const segs = new SentSegments({ initialSeq: iss, maxSegments: 256 });
  const board = new SackScoreboard(segs);
  const rack = new Rack({ minPtoMs: 0, ...rackOptions });
  const rtt = new RttEstimator({ minRtoMs: 200 });
  const rcv = new Reassembly({ capacity: 1 << 20, initialSeq: iss });
  const zeros = new Uint8Array(mss);
  const sackOut = new Uint32Array(8);
  const left = new Uint32Array(4), right = new Uint32Array(4);
  const queue: Packet[] = [];
  const received = new Set<number>(); // first bytes the receiver has had, for spurious counts
  const res: Result = {
    delivered: 0,
    retransmissions: 0,
    spurious: 0,
    lostOnLink: 0,
    rtos: 0,
    probes: 0,
    reorderingSeen: false,
    reoWndMult: 1,
    endMs: 0,
  };
  let now = 0, sentBytes = 0;
  let inRecovery = false, recoveryPoint = iss;
  let rtoAt = -1, ptoAt = -1, reorderAt = -1;
  const end = (iss + total) >>> 0;

  const push = (p: Packet) => {
    let i = queue.length;
    while (i > 0 && queue[i - 1].at > p.at) i--;
    queue.splice(i, 0, p);
  };
  const transmit = (seq: number, len: number, first: boolean) => {
    if (first && link.dropOnce?.delete(seq)) return void res.lostOnLink++;
    if (rand(1_000_000) < link.loss * 1_000_000) return void res.lostOnLink++;
    let at = now + link.delayMs + rand(link.jitterMs * 1000 + 1) / 1000;
    if (link.hold && rand(1_000_000) < link.hold * 1_000_000) at += link.holdMs ?? 0;
    push({ at, data: true, seq, len, blocks: [] });
  };
  const armTimers = () => {
    if (segs.outstanding === 0) {
      rtoAt = ptoAt = -1;
      return;
    }
    if (rtoAt < 0) rtoAt = now + rtt.rto;
    // RFC 8985 §7.2: a probe timer while not in recovery and no reorder timer runs.
    ptoAt = !inRecovery && reorderAt < 0 && !rack.tlpInProgress
      ? now + rack.probeTimeout(rtt.srtt, segs.inFlight, mss, rtoAt - now)
      : -1;
  };
  const trySend = () => {
    for (let guard = 0; guard < 64; guard++) {
      if (segs.inFlight + mss > window) break;
      if (board.nextLost(segs.sndUna, mss)) {
        const { segStart, segEnd } = board;
        segs.retransmitted(segStart, (segEnd - segStart) >>> 0, now);
        res.retransmissions++;
        if (received.has(segStart)) res.spurious++;
        transmit(segStart, (segEnd - segStart) >>> 0, false);
      } else if (sentBytes < total) {
        const len = Math.min(mss, total - sentBytes);
        const seq = segs.sndMax;
        segs.sent(seq, len, now);
        sentBytes += len;
        transmit(seq, len, true);
      } else break;
    }
    armTimers();
  };
  const enterRecoveryIfLost = (deadline: number) => {
    reorderAt = deadline;
    if (rack.lostSegments > 0 && !inRecovery) {
      inRecovery = true;
      recoveryPoint = segs.sndMax;
    }
  };

  // The receiver: one ACK per segment, D-SACK first for a duplicate.
  const receive = (p: Packet) => {
    const dup = rcv.insert(p.seq, zeros.subarray(0, p.len)) === 0;
    received.add(p.seq);
    while (rcv.readable > 0) res.delivered += rcv.take(new Uint8Array(rcv.readable));
    const blocks: number[] = dup ? [p.seq, (p.seq + p.len) >>> 0] : [];
    const n = rcv.sackBlocks(sackOut, dup ? 3 : 4);
    for (let k = 0; k < 2 * n; k++) blocks.push(sackOut[k]);
    push({ at: now + link.delayMs, data: false, seq: rcv.ackSeq, len: 0, blocks });
  };

  // The sender, per ACK.
  const onAck = (p: Packet) => {
    const n = p.blocks.length / 2;
    for (let k = 0; k < n; k++) {
      left[k] = p.blocks[2 * k];
      right[k] = p.blocks[2 * k + 1];
    }
    const acked = seqGeq(p.seq, segs.sndUna) && p.seq !== segs.sndUna;
    segs.onAck(p.seq, left, right, n, now, rack.retransmitXmitLimit(now));
    if (segs.rttSampleMs >= 0) rtt.sample(segs.rttSampleMs); // Karn-safe, SACKed segments too
    let exiting = false;
    if (inRecovery && seqGeq(segs.sndUna, recoveryPoint)) {
      inRecovery = false;
      exiting = true;
    }
    rack.update(segs, now, segs.sndMax, exiting);
    rack.tlpOnAck(segs, p.seq);
    enterRecoveryIfLost(rack.detectLoss(segs, now, inRecovery, rtt.srtt));
    if (acked) rtoAt = -1; // restart the RTO on forward progress
    trySend();
  };

  trySend();
  for (let step = 0; step < 1_000_000 && segs.sndUna !== end; step++) {
    const timers = [reorderAt, ptoAt, rtoAt].filter((t) => t >= 0);
    const nextTimer = timers.length ? Math.min(...timers) : Infinity;
    if (queue.length > 0 && queue[0].at <= nextTimer) {
      const p = queue.shift()!;
      now = p.at;
      if (p.data) receive(p);
      else onAck(p);
    } else if (nextTimer < Infinity) {
      now = nextTimer;
      if (now === reorderAt) {
        enterRecoveryIfLost(rack.detectLoss(segs, now, inRecovery, rtt.srtt));
        trySend();
      } else if (now === ptoAt) {
        // RFC 8985 §7.3: new data if any, else the highest segment sent again.
        ptoAt = -1;
        res.probes++;
        if (sentBytes < total) {
          const len = Math.min(mss, total - sentBytes), seq = segs.sndMax;
          segs.sent(seq, len, now, true);
          sentBytes += len;
          rack.probeSent(seq, (seq + len) >>> 0, segs.sndMax, false);
          transmit(seq, len, true);
        } else {
          const i = segs.count - 1, s = segs.startAt(i), l = segs.lengthAt(i);
          segs.retransmitted(s, l, now, true);
          rack.probeSent(s, (s + l) >>> 0, segs.sndMax, true);
          res.retransmissions++;
          if (received.has(s)) res.spurious++;
          transmit(s, l, false);
        }
        rtoAt = now + rtt.rto; // after a probe the RTO, not another probe
      } else {
        res.rtos++;
        rtt.timedOut();
        segs.resetAfterRto();
        rack.tlpCancel();
        inRecovery = true;
        recoveryPoint = segs.sndMax;
        rtoAt = reorderAt = -1;
        trySend();
      }
    } else break;
  }
  assert.equal(segs.sndUna, end, "the transfer completes");
  res.reorderingSeen = rack.reorderingSeen;
  res.reoWndMult = rack.reoWndMult;
  res.endMs = now;
  return res;
}

const TOTAL = 400_000;

Deno.test("Loss recovery sim: a clean path needs no retransmission, probe or RTO", () => {
  const r = simulate(TOTAL, { delayMs: 10, jitterMs: 0, loss: 0 }, 1);
  assert.deepEqual([r.delivered, r.retransmissions, r.probes, r.rtos], [TOTAL, 0, 0, 0]);
});

Deno.test("Loss recovery sim: occasional reordering is learned and then tolerated", () => {
  const r = simulate(TOTAL, { delayMs: 10, jitterMs: 0, hold: 0.05, holdMs: 3, loss: 0 }, 2);
  assert.equal(r.delivered, TOTAL);
  assert.equal(r.reorderingSeen, true);
  assert.equal(r.rtos, 0);
  assert.equal(r.spurious, r.retransmissions); // nothing was lost
  // Only a segment held back in the first burst (all sent at one time, with
  // three SACKed past it before reordering is known) can be resent.
  assert.ok(r.retransmissions <= 2, `${r.retransmissions} spurious retransmissions`);
});

Deno.test("Loss recovery sim: heavy reordering is learned from D-SACKs", () => {
  // Up to 4 ms jitter, whole bursts sent at one time: often 3 or more overtake one.
  const link = { delayMs: 10, jitterMs: 4, loss: 0 };
  const r = simulate(TOTAL, link, 2);
  assert.equal(r.delivered, TOTAL);
  assert.equal(r.rtos, 0);
  assert.ok(r.reorderingSeen && r.reoWndMult > 1, JSON.stringify(r));
  assert.ok(r.spurious < 20, `${r.spurious} spurious retransmissions of 400 segments`);
  // RFC 8985's own rule never learns it here: every overtaken segment is resent first.
  const rfc = simulate(TOTAL, link, 2, { dsackMeansReordering: false });
  assert.equal(rfc.delivered, TOTAL);
  assert.ok(rfc.spurious > r.spurious, `${rfc.spurious} vs ${r.spurious}`);
});

Deno.test("Loss recovery sim: random loss is repaired without RTO or spurious retransmission", () => {
  const r = simulate(TOTAL, { delayMs: 10, jitterMs: 0, loss: 0.03 }, 3);
  assert.equal(r.delivered, TOTAL);
  assert.ok(r.lostOnLink > 5, `${r.lostOnLink} lost`);
  assert.equal(r.retransmissions, r.lostOnLink);
  assert.deepEqual([r.rtos, r.spurious], [0, 0]);
});

Deno.test("Loss recovery sim: random loss with occasional reordering", () => {
  const r = simulate(TOTAL, { delayMs: 10, jitterMs: 0, hold: 0.05, holdMs: 3, loss: 0.03 }, 5);
  assert.equal(r.delivered, TOTAL);
  assert.ok(r.lostOnLink > 5, `${r.lostOnLink} lost`);
  assert.ok(r.rtos === 0 && r.spurious <= 2, JSON.stringify(r));
});

Deno.test("Loss recovery sim: a lost tail is repaired by the loss probe, not the RTO", () => {
  const last = (0xfffe0000 + TOTAL - 1000) >>> 0, before = (last - 1000) >>> 0;
  const r = simulate(TOTAL, {
    delayMs: 10,
    jitterMs: 0,
    loss: 0,
    dropOnce: new Set([last, before]),
  }, 4);
  assert.deepEqual([r.delivered, r.lostOnLink, r.probes, r.rtos], [TOTAL, 2, 1, 0]);
  assert.equal(r.retransmissions, 2); // the probe (last) and the segment RACK then found lost
  assert.equal(r.spurious, 0);
});
