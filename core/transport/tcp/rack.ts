/**
 * RACK-TLP loss detection (RFC 8985) over the record of sent segments.
 *
 * RACK (§6) marks a segment lost when a segment sent after it has been
 * delivered and more than RACK.rtt + RACK.reo_wnd has passed since it was
 * sent; the reordering window starts at min_RTT / 4, is 0 in recovery until
 * reordering has been seen, and grows by a quarter min_RTT per round trip
 * that brings a D-SACK (§6.2 step 4). TLP (§7) sends one probe when a
 * flight's tail gets no ACK within the probe timeout, and tells from the
 * ACKs that follow whether the probe repaired a loss.
 *
 * `Rack` holds the connection's RACK and TLP state; `SentSegments` carries
 * the per-segment state (transmit time, flags) and works out per ACK which
 * delivered record RACK should use. Nothing here sends or reads the clock.
 *
 * One departure from the RFC's pseudocode: "sent after" compares a send
 * counter kept per transmission instead of (xmit_ts, end_seq). Every segment
 * sent in one stack turn shares one `now`, and a retransmission sent after
 * new data in the same turn has the lower end_seq, so the RFC's tie-break
 * would take it for older and declare it lost as soon as that data is
 * delivered. With distinct times both orders agree.
 *
 * @example Per ACK, then on the reorder timer
 * ```ts
 * const limit = rack.retransmitXmitLimit(now, tsEcrMs);
 * segs.onAck(ack, opts.sackLeft, opts.sackRight, opts.sackCount, now, limit);
 * rack.update(segs, now, sndNxt, exitingRecovery);
 * const deadline = rack.detectLoss(segs, now, inRecovery, rtt.srtt); // -1: no reorder timer
 * ```
 *
 * @module
 */

import {
  SEG_EVER_RETRANS,
  SEG_LOST,
  SEG_RETRANS,
  SEG_SACKED,
  SentSegments,
} from "./sent_segments.ts";
import { seqGeq, seqGt, seqLt } from "./seq.ts";

/** RFC 8985 §7.2 WCDelAckT: the worst-case delayed-ACK time a probe allows for (ms). */
export const TLP_WC_DEL_ACK_MS = 200;
/** RFC 8985 §6.2 step 4: recoveries without D-SACK before the reordering window shrinks back. */
export const RACK_REO_WND_PERSIST = 16;

/** What `Rack.tlpOnAck` concluded about a tail loss probe episode (RFC 8985 §7.4). */
export const TLP_ACK = {
  /** No episode ended. */
  NONE: 0,
  /** The episode ended with nothing lost (the probe was new data, or a duplicate). */
  NO_LOSS: 1,
  /** The probe repaired a loss: respond as to a fast recovery (reduce cwnd and ssthresh). */
  LOSS_REPAIRED: 2,
} as const;

/** Tuning for `Rack`. */
export interface RackOptions {
  /** Window of the min_RTT filter in ms. Default 300 000 (Linux's `tcp_min_rtt_wlen`). */
  minRttWindowMs?: number;
  /** WCDelAckT in ms, added to the PTO when one segment is in flight. Default 200. */
  wcDelAckMs?: number;
  /**
   * Floor of 2 * SRTT in the PTO, in ms. Default 10 (the TLP draft's
   * max(2 * SRTT, 10 ms): a busy host delays ACKs by a few ms, and a needless
   * probe costs a D-SACK that widens the reordering window). 0 gives RFC 8985's
   * plain 2 * SRTT.
   */
  minPtoMs?: number;
  /** DupThresh for the reordering window rule (§6.2 step 4). Default 3. */
  dupThresh?: number;
  /**
   * A D-SACK (other than for a loss probe) counts as reordering seen. Default
   * true. RFC 8985 learns reordering only from a never-retransmitted segment
   * delivered below RACK.fack, so reordering deeper than DupThresh segments
   * (each such segment resent before its original arrives) is never learned
   * and keeps drawing spurious retransmissions; a D-SACK shows the original
   * arrived after all (as Linux reads a D-SACK of a SACKed retransmission).
   * false gives the RFC's rule alone.
   */
  dsackMeansReordering?: boolean;
}

/** RACK-TLP state of one connection. */
export class Rack {
  /** RACK.xmit_ts: transmit time of the most recently sent segment delivered; -1 before any. */
  xmitTs = -1;
  /** RACK.end_seq: that segment's end. */
  endSeq = 0;
  /**
   * That segment's send order (`SentSegments.sendOrderAt`), which decides
   * RACK_sent_after here in place of the RFC's (xmit_ts, end_seq) pair.
   */
  sendOrder = 0;
  /** RACK.rtt: round-trip time of that segment (ms). */
  rtt = 0;
  /** RACK.reo_wnd as last computed by `detectLoss` (ms). */
  reoWnd = 0;
  /** RACK.reo_wnd_mult. */
  reoWndMult = 1;
  /** RACK.reo_wnd_persist. */
  reoWndPersist = 0;
  /** RACK.reordering_seen. */
  reorderingSeen = false;
  /** RACK.dsack_round (valid while `dsackRoundActive`): SND.NXT when a D-SACK last widened the window. */
  dsackRound = 0;
  /** Whether a D-SACK round is open. */
  dsackRoundActive = false;
  /** Records the last `detectLoss` marked lost. */
  lostSegments = 0;
  /** Bytes the last `detectLoss` marked lost. */
  lostBytes = 0;

  /** TLP.end_seq (valid while `tlpInProgress`): SND.NXT when the probe was sent. */
  tlpEndSeq = 0;
  /** TLP.is_retrans: the probe resent old data. */
  tlpIsRetrans = false;
  /** The probe's own range, for matching a D-SACK: start... */
  tlpProbeStart = 0;
  /** ...and end. */
  tlpProbeEnd = 0;
  #tlpActive = false;

  readonly #minRtt: WindowedMin;
  readonly #wcDelAck: number;
  readonly #minPto: number;
  readonly #dupThresh: number;
  readonly #dsackMeansReordering: boolean;

  /** Fresh state: nothing delivered, reordering not seen. */
  constructor(options: RackOptions = {}) {
    this.#minRtt = new WindowedMin(options.minRttWindowMs ?? 300_000);
    this.#wcDelAck = options.wcDelAckMs ?? TLP_WC_DEL_ACK_MS;
    this.#minPto = options.minPtoMs ?? 10;
    this.#dupThresh = options.dupThresh ?? 3;
    this.#dsackMeansReordering = options.dsackMeansReordering ?? true;
  }

  /** RACK.min_RTT (ms), windowed; `Infinity` before the first sample. */
  get minRtt(): number {
    return this.#minRtt.value;
  }

  /** A TLP episode is in progress (TLP.end_seq is set). */
  get tlpInProgress(): boolean {
    return this.#tlpActive;
  }

  /** Back to a new connection's state. */
  reset(): void {
    this.xmitTs = -1;
    this.endSeq =
      this.rtt =
      this.reoWnd =
      this.reoWndPersist =
        0;
    this.reoWndMult = 1;
    this.reorderingSeen = this.dsackRoundActive = this.#tlpActive = false;
    this.#minRtt.reset();
  }

  /** Feeds an RTT sample (ms) taken elsewhere (a timestamp echo) into min_RTT. */
  rttSample(ms: number, now: number): void {
    if (ms >= 0) this.#minRtt.update(ms, now);
  }

  /**
   * RFC 8985 §6.2 step 2's filter for retransmitted segments, as a bound on
   * their transmit time: a retransmission counts only if sent at least
   * min_RTT ago and, with timestamps, not after the echoed one (`tsEcrMs`:
   * TSecr on the caller's ms clock; omit without timestamps). Pass the result
   * to `SentSegments.onAck`.
   */
  retransmitXmitLimit(now: number, tsEcrMs = Infinity): number {
    return Math.min(now - this.#minRtt.value, tsEcrMs);
  }

  /**
   * Steps 1 to 4 of RFC 8985 §6.2 from what `segs.onAck` found: min_RTT from
   * the Karn-safe sample, RACK.xmit_ts / end_seq / rtt from the latest-sent
   * delivered segment, reordering seen, and the D-SACK rounds that widen the
   * window. `sndNxt` opens a D-SACK round; `exitingRecovery` when this ACK
   * ends fast or RTO recovery.
   */
  update(segs: SentSegments, now: number, sndNxt: number, exitingRecovery = false): void {
    if (segs.rttSampleMs >= 0) this.#minRtt.update(segs.rttSampleMs, now);
    const x = segs.rackXmitTs;
    if (x >= 0) {
      this.rtt = now - x;
      if (this.xmitTs < 0 || segs.rackSendOrder > this.sendOrder) {
        this.xmitTs = x;
        this.endSeq = segs.rackEndSeq;
        this.sendOrder = segs.rackSendOrder;
      }
    }
    if (segs.reorderSeen) this.reorderingSeen = true;
    if (
      segs.dsack && this.#dsackMeansReordering &&
      !(seqLt(segs.dsackStart, this.tlpProbeEnd) && seqGt(segs.dsackEnd, this.tlpProbeStart))
    ) {
      this.reorderingSeen = true;
    }
    if (this.dsackRoundActive && seqGeq(segs.sndUna, this.dsackRound)) {
      this.dsackRoundActive = false;
    }
    if (!this.dsackRoundActive && segs.dsack) {
      this.dsackRoundActive = true;
      this.dsackRound = sndNxt >>> 0;
      this.reoWndMult++;
      this.reoWndPersist = RACK_REO_WND_PERSIST;
    } else if (exitingRecovery) {
      this.reoWndPersist--;
      if (this.reoWndPersist <= 0) this.reoWndMult = 1;
    }
  }

  /**
   * RFC 8985 §6.2 step 4, RACK_update_reo_wnd(): 0 while no reordering has
   * been seen and the sender is in recovery or DupThresh segments are
   * SACKed; else min(reo_wnd_mult * min_RTT / 4, SRTT). `srtt` 0 means no
   * estimate yet: no cap (a window of 0 then would call every reordering a loss).
   */
  reorderWindow(segs: SentSegments, inRecovery: boolean, srtt: number): number {
    if (!this.reorderingSeen && (inRecovery || segs.sackedSegments >= this.#dupThresh)) return 0;
    const w = this.reoWndMult * this.#minRtt.value / 4;
    if (srtt > 0 && w > srtt) return srtt;
    return Number.isFinite(w) ? w : 0;
  }

  /**
   * RFC 8985 §6.2 step 5, RACK_detect_loss(): marks lost (SEG_LOST, its
   * retransmission too) every unSACKed segment sent before RACK's segment
   * whose xmit_ts + RACK.rtt + reo_wnd is at or before `now`, counting them
   * in `lostSegments` / `lostBytes`. Returns the reorder timer's deadline
   * (ms, when the last waiting segment's window ends) or -1 for none. Call
   * after `update` on each ACK and when the reorder timer fires.
   */
  detectLoss(segs: SentSegments, now: number, inRecovery: boolean, srtt: number): number {
    this.reoWnd = this.reorderWindow(segs, inRecovery, srtt);
    this.lostSegments = this.lostBytes = 0;
    if (this.xmitTs < 0) return -1;
    let wait = 0;
    for (let i = 0; i < segs.count; i++) {
      const f = segs.flagsAt(i);
      if (segs.sendOrderAt(i) >= this.sendOrder) {
        // Not sent before RACK's segment. Records never resent went out in
        // sequence order, so none further on was sent before it either.
        if (!(f & SEG_EVER_RETRANS)) break;
        continue;
      }
      // SACKed, or lost and not resent since (RFC: xmit_ts = INFINITE_TS).
      if (f & SEG_SACKED || (f & (SEG_LOST | SEG_RETRANS)) === SEG_LOST) continue;
      const remaining = segs.xmitAt(i) + this.rtt + this.reoWnd - now;
      if (remaining <= 0) {
        const l = segs.lengthAt(i);
        segs.markLostAt(i, true);
        this.lostSegments++;
        this.lostBytes += l;
      } else if (remaining > wait) {
        wait = remaining;
      }
    }
    return wait > 0 ? now + wait : -1;
  }

  // ---- Tail loss probe (§7) ----

  /**
   * RFC 8985 §7.2 PTO (ms): 2 * SRTT (at least `minPtoMs`), plus WCDelAckT
   * when no more than one segment (`smss`) is in flight; 1 s without an RTT
   * sample (`srtt` 0); never past the RTO's expiry `rtoRemainingMs` from now.
   */
  probeTimeout(srtt: number, flightBytes: number, smss: number, rtoRemainingMs = Infinity): number {
    let pto = 1000;
    if (srtt > 0) {
      pto = Math.max(2 * srtt, this.#minPto);
      if (flightBytes <= smss) pto += this.#wcDelAck;
    }
    return Math.min(pto, Math.max(0, rtoRemainingMs));
  }

  /**
   * A probe `[start, end)` went out (§7.3): `sndNxt` is SND.NXT after it
   * (TLP.end_seq), `isRetransmission` when it resent the highest segment
   * rather than new data. Starts the TLP episode.
   */
  probeSent(start: number, end: number, sndNxt: number, isRetransmission: boolean): void {
    this.#tlpActive = true;
    this.tlpEndSeq = sndNxt >>> 0;
    this.tlpIsRetrans = isRetransmission;
    this.tlpProbeStart = start >>> 0;
    this.tlpProbeEnd = end >>> 0;
  }

  /** Ends any TLP episode without a verdict (an RTO fired, or the connection reset). */
  tlpCancel(): void {
    this.#tlpActive = false;
  }

  /**
   * RFC 8985 §7.4 TLP_process_ack() for an ACK `segs.onAck` just processed
   * (its cumulative ACK `cumAck` and D-SACK fields). `dupAckWithoutSack`: the
   * ACK was a duplicate carrying no SACK option (a non-SACK peer's answer to
   * a duplicate). Returns a `TLP_ACK` value; on LOSS_REPAIRED the caller
   * reduces cwnd as for a fast recovery that ends at once.
   */
  tlpOnAck(segs: SentSegments, cumAck: number, dupAckWithoutSack = false): number {
    if (!this.#tlpActive || !seqGeq(cumAck >>> 0, this.tlpEndSeq)) return TLP_ACK.NONE;
    if (!this.tlpIsRetrans) {
      this.#tlpActive = false;
      return TLP_ACK.NO_LOSS;
    }
    if (
      segs.dsack && seqLt(segs.dsackStart, this.tlpProbeEnd) &&
      seqGt(segs.dsackEnd, this.tlpProbeStart)
    ) {
      this.#tlpActive = false; // the original and the probe both arrived
      return TLP_ACK.NO_LOSS;
    }
    if (seqGt(cumAck >>> 0, this.tlpEndSeq)) {
      this.#tlpActive = false; // later data acknowledged and no D-SACK: one copy was lost
      return TLP_ACK.LOSS_REPAIRED;
    }
    if (dupAckWithoutSack) {
      this.#tlpActive = false;
      return TLP_ACK.NO_LOSS;
    }
    return TLP_ACK.NONE;
  }
}

/**
 * A running minimum over a time window, kept as the best three samples of
 * successive sub-windows (Kathleen Nichols' algorithm, as Linux's
 * `win_minmax`): O(1) per sample, exact when the minimum is recent, at worst
 * a value from up to one window back.
 */
export class WindowedMin {
  readonly #window: number;
  readonly #t = new Float64Array(3);
  readonly #v = new Float64Array(3).fill(Infinity);

  /** A filter over `windowMs`. */
  constructor(windowMs: number) {
    this.#window = windowMs;
  }

  /** The windowed minimum; `Infinity` before any sample. */
  get value(): number {
    return this.#v[0];
  }

  /** Forgets every sample. */
  reset(): void {
    this.#v.fill(Infinity);
  }

  /** Adds sample `v` taken at time `t` (non-decreasing). */
  update(v: number, t: number): void {
    const ts = this.#t, vs = this.#v, w = this.#window;
    if (v <= vs[0] || t - ts[2] > w) {
      ts.fill(t);
      vs.fill(v);
      return;
    }
    if (v <= vs[1]) {
      ts[1] = ts[2] = t;
      vs[1] = vs[2] = v;
    } else if (v <= vs[2]) {
      ts[2] = t;
      vs[2] = v;
    }
    const age = t - ts[0];
    if (age > w) {
      // The best sample expired: promote the others, and again if the next one is stale too.
      this.#shift(t, v);
      if (t - ts[0] > w) this.#shift(t, v);
    } else if (ts[1] === ts[0] && age > w / 4) {
      // A quarter window passed with one best: take a fresh second choice.
      ts[1] = ts[2] = t;
      vs[1] = vs[2] = v;
    } else if (ts[2] === ts[1] && age > w / 2) {
      ts[2] = t;
      vs[2] = v;
    }
  }

  #shift(t: number, v: number): void {
    const ts = this.#t, vs = this.#v;
    ts[0] = ts[1];
    vs[0] = vs[1];
    ts[1] = ts[2];
    vs[1] = vs[2];
    ts[2] = t;
    vs[2] = v;
  }
}
