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
 * The first slow start uses HyStart++ (RFC 9406) when the sender passes
 * per-ACK RTT samples: a rise in the round's minimum RTT moves it to
 * Conservative Slow Start, and after CSS_ROUNDS rounds there to congestion
 * avoidance with ssthresh = cwnd, before the queue overflows. Rounds are
 * counted in bytes: a round ends when the flight at its start has been
 * acked (RFC 9406's windowEnd = SND.NXT). Without samples it never fires
 * and slow start runs until loss, as before.
 *
 * @module
 */

import { type CongestionOptions, CWND_MAX, NewReno, SSTHRESH_INITIAL } from "./newreno.ts";

/** C: the curve's aggressiveness, segments per second cubed (RFC 9438 §5.1). */
export const CUBIC_C = 0.4;
/** beta_cubic: the multiplicative decrease (RFC 9438 §4.6). */
export const CUBIC_BETA = 0.7;
/** alpha_cubic = 3*(1-beta)/(1+beta): W_est's growth per RTT until it reaches cwnd_prior (RFC 9438 §4.3). */
export const CUBIC_ALPHA = 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);

/** RFC 9406 §4.3's constants: RTT thresholds in ms, samples per round, CSS growth and length. */
export const HYSTART = Object.freeze({
  MIN_RTT_THRESH_MS: 4,
  MAX_RTT_THRESH_MS: 16,
  MIN_RTT_DIVISOR: 8,
  N_RTT_SAMPLE: 8,
  CSS_GROWTH_DIVISOR: 4,
  CSS_ROUNDS: 5,
});

/** What `HyStartPlusPlus.onAck` says the sender is in. */
export const HYSTART_PHASE = Object.freeze({
  /** Standard slow start. */
  SLOW_START: 0,
  /** Conservative Slow Start: grow by a quarter of slow start's increment. */
  CONSERVATIVE: 1,
  /** CSS is over: set ssthresh = cwnd and enter congestion avoidance. */
  EXIT: 2,
});

/**
 * HyStart++ (RFC 9406) as a pure round tracker: told each slow-start ACK
 * (bytes acked, flight before it, its RTT sample), it answers the phase.
 * The caller applies it (a quarter of the growth in CSS; ssthresh = cwnd on
 * EXIT) and calls `reset` when a loss ends slow start.
 *
 * @example
 * ```ts
 * const hs = new HyStartPlusPlus();
 * hs.onAck(1000, 10000, 40) === HYSTART_PHASE.SLOW_START; // true
 * ```
 */
export class HyStartPlusPlus {
  /** Bytes still to be acked before the current round ends (0: the next ACK starts one). */
  #roundBytesLeft = 0;
  #lastRoundMinRtt = Infinity;
  #currentRoundMinRtt = Infinity;
  #samples = 0;
  #cssBaselineMinRtt = Infinity;
  /** Rounds ended while in CSS, the partial first one included. */
  #cssRounds = 0;
  #phase: number = HYSTART_PHASE.SLOW_START;

  /** The current phase (`HYSTART_PHASE`). */
  get phase(): number {
    return this.#phase;
  }

  /** The minimum RTT of the round in progress (Infinity before a sample). */
  get currentRoundMinRtt(): number {
    return this.#currentRoundMinRtt;
  }

  /** The minimum RTT of the round before. */
  get lastRoundMinRtt(): number {
    return this.#lastRoundMinRtt;
  }

  /** Back to standard slow start with no history. */
  reset(): void {
    this.#roundBytesLeft = 0;
    this.#lastRoundMinRtt = Infinity;
    this.#currentRoundMinRtt = Infinity;
    this.#samples = 0;
    this.#cssBaselineMinRtt = Infinity;
    this.#cssRounds = 0;
    this.#phase = HYSTART_PHASE.SLOW_START;
  }

  /** One ACK in slow start or CSS; `rttSampleMs` 0 when it measured nothing. Returns the phase. */
  onAck(acked: number, flightBefore: number, rttSampleMs: number): number {
    if (this.#phase === HYSTART_PHASE.EXIT) return this.#phase;
    if (this.#roundBytesLeft <= 0) {
      if (this.#phase === HYSTART_PHASE.CONSERVATIVE && ++this.#cssRounds >= HYSTART.CSS_ROUNDS) {
        this.#phase = HYSTART_PHASE.EXIT;
        return this.#phase;
      }
      this.#lastRoundMinRtt = this.#currentRoundMinRtt;
      this.#currentRoundMinRtt = Infinity;
      this.#samples = 0;
      this.#roundBytesLeft = flightBefore;
    }
    this.#roundBytesLeft -= acked;
    if (rttSampleMs > 0) {
      if (rttSampleMs < this.#currentRoundMinRtt) this.#currentRoundMinRtt = rttSampleMs;
      this.#samples++;
    }
    if (this.#samples < HYSTART.N_RTT_SAMPLE) return this.#phase;
    if (this.#phase === HYSTART_PHASE.SLOW_START) {
      if (this.#lastRoundMinRtt === Infinity) return this.#phase;
      const threshold = Math.max(
        HYSTART.MIN_RTT_THRESH_MS,
        Math.min(this.#lastRoundMinRtt / HYSTART.MIN_RTT_DIVISOR, HYSTART.MAX_RTT_THRESH_MS),
      );
      if (this.#currentRoundMinRtt >= this.#lastRoundMinRtt + threshold) {
        this.#cssBaselineMinRtt = this.#currentRoundMinRtt;
        this.#cssRounds = 0;
        this.#phase = HYSTART_PHASE.CONSERVATIVE;
      }
    } else if (this.#currentRoundMinRtt < this.#cssBaselineMinRtt) {
      // The delay rise was spurious: back to slow start (RFC 9406 §4.2).
      this.#cssBaselineMinRtt = Infinity;
      this.#phase = HYSTART_PHASE.SLOW_START;
    }
    return this.#phase;
  }
}

/** CUBIC's options beyond the common ones. */
export interface CubicOptions extends CongestionOptions {
  /** Fast convergence (RFC 9438 §4.7): release bandwidth to newer flows. Default true. */
  fastConvergence?: boolean;
  /** HyStart++ (RFC 9406) in the first slow start, when ACKs carry RTT samples. Default true. */
  hystart?: boolean;
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
  /** Null when HyStart++ is off. */
  readonly #hystart: HyStartPlusPlus | null;

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
    this.#hystart = (options.hystart ?? true) ? new HyStartPlusPlus() : null;
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

  /** HyStart++'s phase (`HYSTART_PHASE`), SLOW_START when it is off or over. */
  get hystartPhase(): number {
    return this.#hystart?.phase ?? HYSTART_PHASE.SLOW_START;
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
    rttSampleMs = 0,
  ): void {
    if (appLimited && this.#epochStart >= 0 && now > this.#lastAckAt) {
      this.#epochStart += now - this.#lastAckAt;
    }
    this.#lastAckAt = now;
    super.onAck(acked, flightBefore, appLimited, now, srttMs, minRttMs, rttSampleMs);
  }

  /** W_max from cwnd (with fast convergence), ssthresh = max(0.7 * flight, 2*SMSS), cwnd = ssthresh. */
  override onLoss(flight: number, now: number): void {
    if (this.inRecovery) return; // one reduction per recovery, as NewReno
    const cwnd = this.window;
    super.onLoss(flight, now); // saves the undo state first, from the fields still unchanged
    this.#cwndPrior = cwnd;
    this.#wMax = this.#fastConvergence && cwnd < this.#wMax ? cwnd * (1 + CUBIC_BETA) / 2 : cwnd;
    this.#epochStart = -1;
    this.#flattenNextEpoch = false;
    this.#hystart?.reset();
  }

  /** As NewReno (ssthresh with beta_cubic); the next epoch starts flat at its own cwnd (§4.8). */
  override onRetransmitTimeout(flight: number, now: number): void {
    if (!this.inTimeoutBackoff && !this.inRecovery) this.#cwndPrior = this.window;
    super.onRetransmitTimeout(flight, now);
    this.#epochStart = -1;
    this.#flattenNextEpoch = true;
    this.#hystart?.reset();
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

  /** HyStart++ in the first slow start (ssthresh still at its initial value); standard after. */
  protected override slowStart(
    grow: number,
    acked: number,
    flightBefore: number,
    rttSampleMs: number,
  ): void {
    const hystart = this.#hystart;
    if (hystart === null || this.threshold !== SSTHRESH_INITIAL) {
      super.slowStart(grow, acked, flightBefore, rttSampleMs);
      return;
    }
    const phase = hystart.onAck(acked, flightBefore, rttSampleMs);
    if (phase === HYSTART_PHASE.EXIT) {
      this.threshold = Math.max(Math.floor(this.window), 2 * this.segment);
      return;
    }
    if (phase === HYSTART_PHASE.CONSERVATIVE) grow /= HYSTART.CSS_GROWTH_DIVISOR;
    super.slowStart(grow, acked, flightBefore, rttSampleMs);
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
