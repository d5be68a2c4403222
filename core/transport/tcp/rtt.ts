/**
 * The retransmission-timeout estimator of RFC 6298, with Karn's rule
 * (RFC 6298 §3) and the timestamp sample path of RFC 7323 §4.
 *
 * One `RttEstimator` per connection; it holds plain number fields and
 * allocates nothing per sample. Times are milliseconds on the caller's
 * monotonic clock (sans-I/O: `now` always comes in as a parameter) and may be
 * fractional, since SRTT and RTTVAR are kept exactly as the RFC's formulas give
 * them (alpha = 1/8 and beta = 1/4 are exact in binary).
 *
 * Not here: RFC 7323 §4.2's per-window scaling of alpha and beta for
 * timestamp samples (every sample counts fully, as in BSD), and RFC 6298
 * §5.7's reset to 3 s after a lost SYN (callers can call `reset` with that).
 */

import { seqGt } from "./seq.ts";

/** RFC 6298 §2.1: the RTO before any sample. */
export const RTO_INITIAL_MS = 1000;
/** RFC 6298 §2.4: the lower bound ("SHOULD be rounded up to 1 second"; NetBSD's TCPTV_MIN is also 1 s). */
export const RTO_MIN_MS = 1000;
/** RFC 6298 §2.5: an upper bound "at least 60 seconds". */
export const RTO_MAX_MS = 60000;

/** Tuning for one estimator; QNX's sysctl tree names no RTO knobs, so these are options only. */
export interface RttOptions {
  /** Clock granularity G in ms (RFC 6298 §2): the floor of the variance term. Default 1. */
  granularityMs?: number;
  /** Lower bound on RTO in ms. Default 1000 (RFC 6298 §2.4); Linux uses 200. */
  minRtoMs?: number;
  /** Upper bound on RTO in ms, also capping backoff. Default 60000 (RFC 6298 §2.5). */
  maxRtoMs?: number;
  /** RTO before the first sample in ms. Default 1000 (RFC 6298 §2.1). */
  initialRtoMs?: number;
}

/**
 * SRTT, RTTVAR and RTO for one connection, with one timed segment at a time
 * (the classic single-timer measurement) and the timestamp path beside it.
 *
 * Usage: call `startTiming(seq, now)` when sending new data (it keeps an
 * earlier timing), `ackReceived(ack, now)` on each ACK, `timestampSample`
 * when an ACK that advances SND.UNA carries a TSecr, `timedOut()` when the
 * retransmission timer fires, and `retransmitted()` on any other retransmission
 * (fast retransmit) so Karn's rule holds.
 */
export class RttEstimator {
  /** Smoothed round-trip time in ms (0 until the first sample). */
  srtt = 0;
  /** Round-trip time variation in ms (0 until the first sample). */
  rttvar = 0;
  /** Whether any sample has been taken. */
  hasSample = false;
  /** The current RTO in ms, backoff included. */
  rto: number;
  /** Timeouts since the last valid sample: the backoff exponent (for R1/R2 give-up thresholds). */
  backoffs = 0;
  /** The last RTT sample and the smallest seen (ms; Infinity before any). */
  lastSample = 0;
  minSample = Infinity;

  readonly #granularity: number;
  readonly #minRto: number;
  readonly #maxRto: number;
  readonly #initialRto: number;
  #timing = false;
  #timedSeq = 0;
  #timedAt = 0;

  /** A fresh estimator: RTO at its initial value, no sample, nothing timed. */
  constructor(options: RttOptions = {}) {
    this.#granularity = options.granularityMs ?? 1;
    this.#minRto = options.minRtoMs ?? RTO_MIN_MS;
    this.#maxRto = options.maxRtoMs ?? RTO_MAX_MS;
    this.#initialRto = options.initialRtoMs ?? RTO_INITIAL_MS;
    this.rto = this.#clamp(this.#initialRto);
  }

  /** Whether a segment is being timed. */
  get timing(): boolean {
    return this.#timing;
  }

  /** Back to the state of a new connection; `initialRtoMs` overrides the configured start value. */
  reset(initialRtoMs: number = this.#initialRto): void {
    this.srtt = 0;
    this.rttvar = 0;
    this.hasSample = false;
    this.backoffs = 0;
    this.#timing = false;
    this.rto = this.#clamp(initialRtoMs);
  }

  /**
   * Folds one round-trip measurement `r` (ms) in (RFC 6298 §2.2, §2.3) and
   * recomputes RTO, which also ends any backoff. Negative samples are ignored.
   */
  sample(r: number): void {
    if (!(r >= 0)) return;
    this.lastSample = r;
    if (r < this.minSample) this.minSample = r;
    if (!this.hasSample) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasSample = true;
    } else {
      // RTTVAR first: it uses the SRTT from before this sample.
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.backoffs = 0;
    this.rto = this.#clamp(this.srtt + Math.max(this.#granularity, 4 * this.rttvar));
  }

  /**
   * Starts timing the segment whose first sequence number is `seq`, sent at
   * `now`, unless one is being timed already. Returns whether timing started.
   * Call it only for segments sent for the first time (Karn's rule).
   */
  startTiming(seq: number, now: number): boolean {
    if (this.#timing) return false;
    this.#timing = true;
    this.#timedSeq = seq >>> 0;
    this.#timedAt = now;
    return true;
  }

  /**
   * An ACK for `ack` arrived at `now`: when it covers the timed segment's
   * first number, takes the sample and stops timing. Returns whether a sample
   * was taken.
   */
  ackReceived(ack: number, now: number): boolean {
    if (!this.#timing || !seqGt(ack >>> 0, this.#timedSeq)) return false;
    this.#timing = false;
    this.sample(now - this.#timedAt);
    return true;
  }

  /**
   * RFC 7323 §4: a sample from an ACK's echoed timestamp `tsecr`, with
   * `nowTs` our current TSval clock reading (both uint32 on the same clock,
   * `tsUnitMs` ms per tick). Unambiguous even after retransmission, because the
   * echo names the copy that reached the peer; the caller takes it only from
   * ACKs that advance SND.UNA (§4.1). Cancels the single-segment timing, whose
   * sample would duplicate this one. Returns whether a sample was taken (an
   * echo from the future, i.e. a negative distance, is ignored).
   */
  timestampSample(tsecr: number, nowTs: number, tsUnitMs = 1): boolean {
    const ticks = (nowTs - tsecr) | 0;
    if (ticks < 0) return false;
    this.#timing = false;
    this.sample(ticks * tsUnitMs);
    return true;
  }

  /**
   * The retransmission timer fired (RFC 6298 §5.5): doubles RTO up to the
   * maximum and drops the timed segment (it is being retransmitted, so its
   * ACK would be ambiguous). Returns the new RTO.
   */
  timedOut(): number {
    this.#timing = false;
    this.backoffs++;
    this.rto = Math.min(this.rto * 2, this.#maxRto);
    return this.rto;
  }

  /** A segment was retransmitted other than by timeout: Karn's rule drops the timing. */
  retransmitted(): void {
    this.#timing = false;
  }

  #clamp(rto: number): number {
    return Math.min(Math.max(rto, this.#minRto), this.#maxRto);
  }
}
