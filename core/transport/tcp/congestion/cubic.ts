/**
 * CUBIC (RFC 9438): after a congestion event the window follows
 * W_cubic(t) = C*(t-K)^3 + W_max, concave up to the old maximum, flat near
 * it, convex beyond; a Reno estimate W_est keeps it at least as fast as
 * Reno where Reno would win (short RTTs, small windows).
 *
 * Slow start, the timeout's 1 SMSS, idle restart and byte counting come
 * from `NewReno`; this file adds the curve, beta_cubic = 0.7 for ssthresh,
 * fast convergence, and undo of the curve's state. Windows are bytes here;
 * the RFC's formulas are in segments, so W_cubic is scaled by SMSS and C is
 * segments/s^3. Nothing is allocated per call.
 *
 * Not here: HyStart++ (RFC 9406; it needs per-ACK RTT samples and round
 * boundaries the interface does not carry): slow start runs until ssthresh
 * or loss, as RFC 9438 §4.10 allows.
 *
 * @module
 */

import { type CongestionOptions, CWND_MAX, NewReno } from "./newreno.ts";

/** C: the curve's aggressiveness, segments per second cubed (RFC 9438 §5.1). */
export const CUBIC_C = 0.4;
/** beta_cubic: the multiplicative decrease (RFC 9438 §4.6). */
export const CUBIC_BETA = 0.7;
/** alpha_cubic = 3*(1-beta)/(1+beta): W_est's growth per RTT until it reaches cwnd_prior (RFC 9438 §4.3). */
export const CUBIC_ALPHA = 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);

/** CUBIC's options beyond the common ones. */
export interface CubicOptions extends CongestionOptions {
  /** Fast convergence (RFC 9438 §4.7): release bandwidth to newer flows. Default true. */
  fastConvergence?: boolean;
}

/**
 * CUBIC's congestion window for one connection.
 *
 * The epoch (t = 0) begins at the first ACK in congestion avoidance after a
 * reduction, with cwnd_epoch = cwnd then and K = cbrt((W_max -
 * cwnd_epoch)/C) seconds; when W_max <= cwnd_epoch (no loss yet, or the
 * first avoidance after a timeout, §4.8) W_max = cwnd_epoch and K = 0. Per
 * ACK of `acked` bytes: W_est += alpha * SMSS * acked / cwnd; if
 * W_cubic(t) < W_est, cwnd = W_est (Reno-friendly), else cwnd grows by
 * (target - cwnd)/cwnd * acked with target = W_cubic(t + SRTT) clamped to
 * [cwnd, 1.5*cwnd] (§4.2). Time spent application-limited or idle is left
 * out of t (§5.8), and such ACKs grow nothing.
 *
 * @example
 * ```ts
 * const cc = new Cubic({ mss: 1000, initialWindowSegments: 100 });
 * cc.onLoss(100000, 0);
 * [cc.ssthresh, cc.cwnd, cc.wMax]; // [70000, 70000, 100000]
 * cc.onRecoveryEnd(100);
 * cc.onAck(1000, 70000, false, 100, 50, 50); // the epoch starts
 * cc.k; // cbrt((100 - 70) / 0.4) = 4.217 s: back at W_max after K
 * ```
 */
export class Cubic extends NewReno {
  /** W_max in bytes: the window at the last congestion event (less with fast convergence). */
  #wMax = 0;
  /** K in seconds. */
  #k = 0;
  /** When the epoch began (ms), or -1 until the next congestion-avoidance ACK. */
  #epochStart = -1;
  /** W_est, the Reno-friendly estimate, bytes. */
  #wEst = 0;
  /** cwnd just before the last congestion event: where alpha becomes 1 (§4.3). */
  #cwndPrior = 0;
  /** After a timeout the next epoch starts with W_max = cwnd_epoch and K = 0 (§4.8). */
  #flattenNextEpoch = false;
  /** `now` of the last ACK, to leave application-limited and idle time out of t. */
  #lastAckAt = 0;
  readonly #fastConvergence: boolean;

  #priorWMax = 0;
  #priorK = 0;
  #priorEpochStart = -1;
  #priorWEst = 0;
  #priorCwndPrior = 0;
  #priorFlatten = false;

  /** A window at the initial size for `options.mss`. */
  constructor(options: CubicOptions) {
    super(options, CUBIC_BETA);
    this.#fastConvergence = options.fastConvergence ?? true;
  }

  /** "cubic", as `net.inet.tcp.congctl.selected` spells it. */
  override get name(): string {
    return "cubic";
  }

  /** W_max in bytes (0 before the first congestion event). */
  get wMax(): number {
    return this.#wMax;
  }

  /** K in seconds for the current epoch. */
  get k(): number {
    return this.#k;
  }

  /** W_est in bytes (the Reno-friendly estimate) for the current epoch. */
  get wEst(): number {
    return this.#wEst;
  }

  /** When the current epoch began (ms), or -1 when none is running. */
  get epochStart(): number {
    return this.#epochStart;
  }

  /** W_cubic(t) in bytes for `t` seconds into the current epoch (RFC 9438 eq. 1). */
  curve(t: number): number {
    const d = t - this.#k;
    return CUBIC_C * d * d * d * this.segment + this.#wMax;
  }

  /** As NewReno's, but time the application held the sender back does not advance the curve. */
  override onAck(
    acked: number,
    flightBefore: number,
    appLimited: boolean,
    now: number,
    srttMs: number,
    minRttMs: number,
  ): void {
    if (appLimited && this.#epochStart >= 0 && now > this.#lastAckAt) {
      this.#epochStart += now - this.#lastAckAt;
    }
    this.#lastAckAt = now;
    super.onAck(acked, flightBefore, appLimited, now, srttMs, minRttMs);
  }

  /** W_max from cwnd (with fast convergence), ssthresh = max(0.7 * flight, 2*SMSS), cwnd = ssthresh. */
  override onLoss(flight: number, now: number): void {
    const cwnd = this.window;
    super.onLoss(flight, now); // saves the undo state first, from the fields still unchanged
    this.#cwndPrior = cwnd;
    this.#wMax = this.#fastConvergence && cwnd < this.#wMax ? cwnd * (1 + CUBIC_BETA) / 2 : cwnd;
    this.#epochStart = -1;
    this.#flattenNextEpoch = false;
  }

  /** As NewReno (ssthresh with beta_cubic); the next epoch starts flat at its own cwnd (§4.8). */
  override onRetransmitTimeout(flight: number, now: number): void {
    if (!this.inTimeoutBackoff && !this.inRecovery) this.#cwndPrior = this.window;
    super.onRetransmitTimeout(flight, now);
    this.#epochStart = -1;
    this.#flattenNextEpoch = true;
  }

  /** cwnd = min(cwnd, IW); a reduced window starts a new epoch, an unchanged one leaves the idle time out of t. */
  override onIdleRestart(now: number): void {
    const before = this.window;
    super.onIdleRestart(now);
    if (this.window < before) {
      this.#epochStart = -1;
    } else if (this.#epochStart >= 0 && now > this.#lastAckAt) {
      this.#epochStart += now - this.#lastAckAt;
    }
    this.#lastAckAt = now;
  }

  protected override congestionAvoidance(acked: number, now: number, rttMs: number): void {
    if (this.#epochStart < 0) this.#startEpoch(now);
    const mss = this.segment;
    const alpha = this.#wEst >= this.#cwndPrior ? 1 : CUBIC_ALPHA;
    this.#wEst += alpha * mss * acked / this.window;
    const t = (now - this.#epochStart) / 1000;
    if (this.curve(t) < this.#wEst) {
      this.window = Math.min(Math.max(this.window, this.#wEst), CWND_MAX);
      return;
    }
    let target = this.curve(t + rttMs / 1000);
    if (target < this.window) target = this.window;
    else if (target > 1.5 * this.window) target = 1.5 * this.window;
    this.window = Math.min(this.window + (target - this.window) / this.window * acked, CWND_MAX);
  }

  protected override saveUndoState(): void {
    super.saveUndoState();
    this.#priorWMax = this.#wMax;
    this.#priorK = this.#k;
    this.#priorEpochStart = this.#epochStart;
    this.#priorWEst = this.#wEst;
    this.#priorCwndPrior = this.#cwndPrior;
    this.#priorFlatten = this.#flattenNextEpoch;
  }

  /** RFC 9438 §4.9: W_max, K, the epoch and W_est as they were, with cwnd and ssthresh. */
  protected override restoreUndoState(): void {
    super.restoreUndoState();
    this.#wMax = this.#priorWMax;
    this.#k = this.#priorK;
    this.#epochStart = this.#priorEpochStart;
    this.#wEst = this.#priorWEst;
    this.#cwndPrior = this.#priorCwndPrior;
    this.#flattenNextEpoch = this.#priorFlatten;
  }

  #startEpoch(now: number): void {
    this.#epochStart = now;
    this.#lastAckAt = now;
    this.#wEst = this.window;
    if (this.#flattenNextEpoch || this.#wMax <= this.window) {
      this.#wMax = this.window;
      this.#k = 0;
    } else {
      this.#k = Math.cbrt((this.#wMax - this.window) / this.segment / CUBIC_C);
    }
    this.#flattenNextEpoch = false;
  }
}
