/**
 * Loss detection and recovery for one stack's connections: the record of
 * sent segments with the SACK scoreboard (RFC 2018, RFC 6675), RACK-TLP
 * (RFC 8985), Proportional Rate Reduction (RFC 6937), undo of a spurious
 * recovery on D-SACK evidence (RFC 2883, RFC 3708), and the response to a
 * retransmission timeout (RFC 6298 §5, RFC 6675 §5.1).
 *
 * A segment is retransmitted because it is marked lost: by RACK (a segment
 * sent after it was delivered and the reordering window has passed), by
 * RFC 6675's IsLost (three segments SACKed above it), for a peer without
 * SACK by three duplicate ACKs and then each partial ACK (RFC 6582), or by
 * the RTO (everything unSACKed). Output sends lost segments first, within
 * the budget this module gives it: in recovery PRR's `sndcnt`, otherwise
 * the congestion window less the pipe.
 *
 * @module
 */

import { ProportionalRateReduction } from "./congestion/prr.ts";
import { Rack, TLP_ACK } from "./rack.ts";
import { SackScoreboard } from "./sack_scoreboard.ts";
import { SentSegments } from "./sent_segments.ts";
import { seqGeq, seqLt } from "./seq.ts";
import type { TcpConnection } from "./tcb.ts";
import type { TcpSegment } from "./segment.ts";
import type { TcpProtocol } from "./tcp.ts";

/** Duplicate ACKs that mark the first segment lost on a connection without SACK. */
const DUP_THRESH = 3;
/** Retransmissions of one episode that undo can account for; beyond it the episode is not undone. */
const UNDO_TRACKED = 64;

/** The per-connection loss state, made when a connection first sends data. */
export class LossState {
  readonly segs: SentSegments;
  readonly board: SackScoreboard;
  readonly rack: Rack;
  readonly prr = new ProportionalRateReduction();
  /** Bytes output may still send in this recovery (PRR's sndcnt), when in recovery. */
  budget = 0;
  /** Retransmissions of the current episode not yet shown spurious by a D-SACK (undo when none is left). */
  undoRetrans = 0;
  /** The episode may still be undone (no retransmission shown needed). */
  undoPossible = false;
  /** Where the episode's retransmissions started, so a D-SACK of a network duplicate is not taken for one. */
  readonly undoStarts = new Uint32Array(UNDO_TRACKED);
  undoCount = 0;

  constructor(sndUna: number, maxHoles: number) {
    this.segs = new SentSegments({ initialSeq: sndUna, maxHoles });
    this.board = new SackScoreboard(this.segs);
    this.rack = new Rack();
  }
}

/** Loss detection and recovery for the connections of one stack. */
export class TcpRecovery {
  readonly #tcp: TcpProtocol;

  constructor(tcp: TcpProtocol) {
    this.#tcp = tcp;
  }

  /** The loss state of `c`, made on first use (when it first sends data). */
  state(c: TcpConnection): LossState {
    return c.loss ??= new LossState(c.sndMax, Math.max(1, this.#tcp.ctx.tunables.tcp.maxholes));
  }

  /** Bytes in flight as RFC 6675's pipe counts them (sent, not SACKed, not lost, plus retransmitted). */
  pipe(c: TcpConnection): number {
    return c.loss === null ? c.flight : c.loss.segs.inFlight;
  }

  /** What output may send now, in bytes (`Infinity` means no congestion limit). */
  budget(c: TcpConnection): number {
    const cc = c.cc;
    if (cc === null) return c.maxSeg;
    if (c.inRecovery && c.loss !== null) return c.loss.budget;
    return cc.cwnd - this.pipe(c);
  }

  /** Output sent `bytes` (new or again): PRR counts what recovery sends. */
  sent(c: TcpConnection, bytes: number): void {
    const loss = c.loss;
    if (loss === null || !c.inRecovery) return;
    loss.prr.onSent(bytes);
    loss.budget -= bytes;
  }

  /**
   * After the sender took an ACK's cumulative part: the scoreboard, RTT from
   * the record (Karn-safe) when timestamps gave none, RACK, TLP, recovery
   * entry and exit, undo, and the budget. `acked` is how far SND.UNA moved;
   * `flightBefore` the flight before the ACK.
   */
  onAck(
    c: TcpConnection,
    seg: TcpSegment,
    now: number,
    acked: number,
    flightBefore: number,
    tsSampled: boolean,
  ): void {
    const tcp = this.#tcp, st = tcp.ctx.stats.tcp;
    const loss = c.loss;
    const cc = c.cc;
    if (loss === null || cc === null) return;
    const segs = loss.segs, rack = loss.rack, opts = seg.opts;
    const blocks = c.sackOk && seg.optionsOk ? opts.sackCount : 0;
    if (blocks > 0) st.sack_rcv_blocks += blocks;
    // RFC 8985 §6.2 step 2: a retransmission counts as delivered only if sent at least min_RTT ago
    // (Linux's rule; the timestamp echo is not used: out-of-order ACKs echo an older one).
    segs.onAck(seg.ack, opts.sackLeft, opts.sackRight, blocks, now, rack.retransmitXmitLimit(now));
    let rttSample = -1;
    if (tsSampled) {
      rttSample = c.rtt.lastSample;
      rack.rttSample(rttSample, now);
    } else if (segs.rttSampleMs >= 0) {
      rttSample = segs.rttSampleMs;
      c.rtt.sample(rttSample);
      st.rttupdated++;
    }
    // D-SACK for a retransmission of the last episode (during it or after, as its ACKs come
    // back): one fewer that was needed; none needed means it was reordering (RFC 3708).
    if (segs.dsack && loss.undoPossible && this.#takeUndoStart(loss, segs.dsackStart)) {
      loss.undoRetrans--;
      if (loss.undoRetrans <= 0) this.#undo(c, now);
    }
    let exiting = false;
    if ((c.inRecovery || c.rtoRecovery) && seqGeq(seg.ack, c.recover)) {
      exiting = true;
      this.#endRecovery(c, now);
    }
    rack.update(segs, now, c.sndMax, exiting);
    const tlp = rack.tlpOnAck(segs, seg.ack, blocks === 0 && acked === 0);
    if (tlp === TLP_ACK.LOSS_REPAIRED && !c.inRecovery) {
      // RFC 8985 §7.4.2: the probe repaired a loss: reduce as a recovery that ended at once.
      cc.onLoss(flightBefore, now);
      cc.onRecoveryEnd(now);
    }
    // Loss marking: RACK with SACK (it replaces RFC 6675's three-segment rule, which reordering
    // of three segments fools: RFC 8985 §4), duplicate and partial ACKs without.
    const deadline = rack.detectLoss(segs, now, c.inRecovery, c.rtt.srtt);
    if (!c.sackOk && segs.count > 0) {
      if (acked === 0 && c.dupAcks >= DUP_THRESH && !c.inRecovery) segs.markLostAt(0, false);
      else if (acked > 0 && c.inRecovery) segs.markLostAt(0, false); // RFC 6582 partial ACK
    }
    this.#armLossTimer(c, now, deadline);
    if (segs.lostBytes > 0 && !c.inRecovery && !(c.rtoRecovery && seqLt(seg.ack, c.recover))) {
      this.#enterRecovery(c, now, flightBefore);
    }
    if (c.inRecovery) {
      loss.budget = loss.prr.onAck(segs.deliveredBytes, segs.inFlight);
    } else if (acked > 0) {
      const appLimited = cc.cwnd < cc.ssthresh
        ? flightBefore * 2 < cc.cwnd
        : flightBefore + c.maxSeg < cc.cwnd;
      cc.onAck(
        acked,
        flightBefore,
        appLimited,
        now,
        c.rtt.srtt,
        tcp.minRtt(c),
        rttSample >= 0 ? rttSample : undefined,
      );
    }
  }

  /** The retransmission timer fired (RFC 6298 §5.4-5.6, RFC 6675 §5.1): everything unSACKed is lost. */
  onRetransmitTimeout(c: TcpConnection, now: number): void {
    c.cc?.onRetransmitTimeout(c.flight, now);
    const loss = c.loss;
    if (loss !== null) {
      // A second timeout in a row: the receiver may have reneged on what it SACKed; forget it all.
      loss.segs.resetAfterRto(c.rexmtShift >= 2);
      loss.rack.tlpCancel();
      loss.prr.end();
      loss.undoRetrans = 0;
      loss.undoPossible = false;
    }
    c.inRecovery = false;
    c.rtoRecovery = true;
    c.recover = c.sndMax;
    c.dupAcks = 0;
    c.lossTimer?.disarm();
  }

  /** Whether output has a lost segment to resend; its range is then `board.segStart/segEnd`. */
  nextLost(c: TcpConnection, from: number): boolean {
    const loss = c.loss;
    // At most one MSS: a FIN that shared a record with a full segment goes again on its own.
    return loss !== null && loss.segs.lostBytes > 0 && loss.board.nextLost(from, c.maxSeg);
  }

  /** Output resent `[start, start + len)`. */
  retransmitted(c: TcpConnection, start: number, len: number, now: number, probe = false): void {
    const loss = c.loss!;
    loss.segs.retransmitted(start, len, now, probe);
    if (!loss.undoPossible) return;
    if (loss.undoCount === UNDO_TRACKED) {
      loss.undoPossible = false; // too many to account for: the episode stands
      return;
    }
    loss.undoStarts[loss.undoCount++] = start;
    loss.undoRetrans++;
  }

  /** Whether `start` began a retransmission of the episode (forgotten once matched). */
  #takeUndoStart(loss: LossState, start: number): boolean {
    const a = loss.undoStarts;
    for (let i = 0; i < loss.undoCount; i++) {
      if (a[i] !== start) continue;
      a[i] = a[--loss.undoCount];
      return true;
    }
    return false;
  }

  /** Output sent new data `[start, start + len)` (a FIN counts one). */
  sentNew(c: TcpConnection, start: number, len: number, now: number, probe = false): void {
    this.state(c).segs.sent(start, len, now, probe);
  }

  /** Stops the loss timer (everything acknowledged, or the connection ends). */
  stop(c: TcpConnection): void {
    c.lossTimer?.disarm();
  }

  #enterRecovery(c: TcpConnection, now: number, flightBefore: number): void {
    const loss = c.loss!, cc = c.cc!;
    const st = this.#tcp.ctx.stats.tcp;
    c.inRecovery = true;
    c.rtoRecovery = false;
    c.recover = c.sndMax;
    cc.onLoss(flightBefore, now);
    loss.prr.start(flightBefore, cc.ssthresh, c.maxSeg);
    loss.budget = 0;
    loss.undoRetrans = 0;
    loss.undoCount = 0;
    loss.undoPossible = true;
    if (c.sackOk) st.sack_recovery_episode++;
    else st.sndrexmitfast++;
  }

  #endRecovery(c: TcpConnection, now: number): void {
    const loss = c.loss!;
    if (c.inRecovery) c.cc?.onRecoveryEnd(now);
    c.inRecovery = false;
    c.rtoRecovery = false;
    c.dupAcks = 0;
    loss.prr.end();
  }

  /** Every retransmission of the episode was D-SACKed: the loss was reordering; restore the window. */
  #undo(c: TcpConnection, now: number): void {
    const loss = c.loss!;
    c.cc?.undo(now);
    loss.undoPossible = false;
    if (c.inRecovery) {
      c.inRecovery = false;
      loss.prr.end();
    }
    c.rtoRecovery = false;
    c.undos++;
  }

  /**
   * One timer per connection for RACK's reorder deadline or, when nothing
   * waits on that and recovery is not running, TLP's probe timeout
   * (RFC 8985 §7.2), capped by the RTO.
   */
  #armLossTimer(c: TcpConnection, now: number, deadline: number): void {
    const tcp = this.#tcp;
    const loss = c.loss!;
    const t = c.lossTimer ??= tcp.ctx.timers.timer(() => this.#lossTimeout(c));
    c.lossTimerIsProbe = false;
    if (deadline >= 0) {
      t.arm(deadline);
      return;
    }
    if (
      c.sackOk && !c.inRecovery && !c.rtoRecovery && !loss.rack.tlpInProgress &&
      loss.segs.outstanding > 0 &&
      c.rexmtTimer !== null && c.rexmtTimer.armed
    ) {
      const rtoLeft = c.rexmtTimer.deadline - now;
      const pto = loss.rack.probeTimeout(c.rtt.srtt, loss.segs.inFlight, c.maxSeg, rtoLeft);
      if (pto < rtoLeft) {
        c.lossTimerIsProbe = true;
        t.arm(now + pto);
        return;
      }
    }
    t.disarm();
  }

  /** Arms the probe timer after new data went out (RFC 8985 §7.2). */
  afterSend(c: TcpConnection, now: number): void {
    if (c.loss === null || c.lossTimer?.armed && !c.lossTimerIsProbe) return;
    this.#armLossTimer(c, now, -1);
  }

  #lossTimeout(c: TcpConnection): void {
    const tcp = this.#tcp, now = tcp.ctx.now();
    if (c.dead || c.loss === null) return;
    const loss = c.loss;
    if (c.lossTimerIsProbe) {
      c.lossTimerIsProbe = false;
      this.#probe(c, now);
      return;
    }
    const flight = c.flight;
    const deadline = loss.rack.detectLoss(loss.segs, now, c.inRecovery, c.rtt.srtt);
    if (loss.segs.lostBytes > 0 && !c.inRecovery) this.#enterRecovery(c, now, flight);
    if (c.inRecovery) loss.budget = Math.max(loss.budget, c.maxSeg);
    this.#armLossTimer(c, now, deadline);
    tcp.output.output(c);
  }

  /** RFC 8985 §7.3: a tail loss probe: new data if the windows allow, else the last segment again. */
  #probe(c: TcpConnection, now: number): void {
    const tcp = this.#tcp, loss = c.loss!;
    tcp.ctx.stats.tcp.sndprobe++;
    const before = c.sndMax;
    tcp.output.output(c, false, 1, true);
    if (c.sndMax !== before) {
      loss.rack.probeSent(before, c.sndMax, c.sndMax, false);
    } else if (loss.segs.count > 0) {
      // The last segment's worth: a record may hold more than one segment (the record joins
      // segments when full), and a probe larger than the MSS would not pass a DF path.
      const i = loss.segs.count - 1, end = loss.segs.endAt(i);
      const most = c.maxSeg + (c.finSent ? 1 : 0);
      const l = Math.min(loss.segs.lengthAt(i), most), s = (end - l) >>> 0;
      tcp.output.resend(c, s, l, true);
      loss.rack.probeSent(s, end, c.sndMax, true);
    }
    // §7.3: one probe per episode, then the RTO. Output re-armed the probe timer for the new
    // data it sent (before the probe was recorded); a second probe would follow at once.
    c.lossTimer?.disarm();
    c.lossTimerIsProbe = false;
    tcp.timers.startRetransmit(c, now);
  }
}
