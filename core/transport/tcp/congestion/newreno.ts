/**
 * NewReno's window arithmetic (RFC 5681, RFC 6582), with Appropriate Byte
 * Counting (RFC 3465) as NetBSD's `net.inet.tcp.abc.enable` and
 * `net.inet.tcp.abc.aggressive` (both 1 by default) have it, and the initial
 * window of RFC 6928.
 *
 * Only the window: the sender detects loss, retransmits, and paces recovery
 * (with PRR, `prr.ts`, or RFC 6582's inflation); this module is told what
 * happened and answers with `cwnd` and `ssthresh` in bytes. Every method is
 * a few arithmetic steps on number fields: nothing is allocated per call.
 *
 * `NewReno` is also the base CUBIC builds on (slow start, timeouts, idle
 * restart and undo are the same); the protected members are that seam.
 *
 * @module
 */

import type { CongestionControl } from "./congestion.ts";

/** `ssthresh` before the first loss: "arbitrarily high" (RFC 5681 §3.1), as the interface spells it. */
export const SSTHRESH_INITIAL = 0x3fffffff;
/** The largest window kept: TCP's largest scaled window (65535 << 14) rounded up, as `SSTHRESH_INITIAL`. */
export const CWND_MAX = 0x3fffffff;

/** What every algorithm is created with (`createCongestion` in `registry.ts` takes the same). */
export interface CongestionOptions {
  /** The sender's MSS in bytes (SMSS). */
  mss: number;
  /**
   * Initial window in segments, as `net.inet.tcp.init_win`; 0 or absent
   * means RFC 6928's min(10*MSS, max(2*MSS, 14600)) bytes.
   */
  initialWindowSegments?: number;
  /** RFC 3465 byte counting (`net.inet.tcp.abc.enable`). Default true. */
  abc?: boolean;
  /** ABC's L = 2*SMSS rather than 1*SMSS (`net.inet.tcp.abc.aggressive`). Default true. */
  abcAggressive?: boolean;
}

/**
 * The initial window in bytes for a sender MSS: `segments * mss` when
 * `segments` is positive, else RFC 6928's min(10*MSS, max(2*MSS, 14600)).
 *
 * @example
 * ```ts
 * initialWindow(1460, 0); // 14600: ten segments
 * initialWindow(9000, 0); // 18000: two jumbo segments
 * initialWindow(1460, 4); // 5840: net.inet.tcp.init_win=4
 * ```
 */
export function initialWindow(mss: number, segments: number): number {
  if (segments > 0) return segments * mss;
  return Math.min(10 * mss, Math.max(2 * mss, 14600));
}

/**
 * NewReno's congestion window for one connection.
 *
 * Slow start grows `cwnd` by the bytes each ACK covers, at most L (2*SMSS,
 * 1*SMSS while repairing a timeout, RFC 3465 §2.3) and never past
 * `ssthresh`; congestion avoidance adds one SMSS per `cwnd` bytes acked (RFC
 * 3465 §2.1), so one SMSS per round trip. Without ABC, slow start adds one
 * SMSS per ACK and congestion avoidance SMSS*SMSS/cwnd (RFC 5681 eq. 3).
 * Loss sets `ssthresh = max(flight/2, 2*SMSS)` and `cwnd = ssthresh` (the
 * target PRR steers toward); recovery's end sets `cwnd = ssthresh` again; a
 * timeout drops `cwnd` to one SMSS. `undo` puts back the window from before
 * the last reduction; an application-limited ACK grows nothing (RFC 7661).
 *
 * @example
 * ```ts
 * const cc = new NewReno({ mss: 1000 });
 * cc.cwnd; // 10000 (RFC 6928)
 * cc.onAck(2000, 10000, false, 5, 40, 40); // a delayed ACK of two segments
 * cc.cwnd; // 12000: slow start
 * cc.onLoss(12000, 50);
 * [cc.ssthresh, cc.cwnd]; // [6000, 6000]
 * cc.undo(60); // the retransmission was spurious (DSACK)
 * [cc.ssthresh, cc.cwnd]; // [0x3fffffff, 12000]
 * ```
 */
export class NewReno implements CongestionControl {
  /** The bytes `cwnd` holds, possibly fractional (CUBIC); `cwnd` reads it rounded down. */
  protected window: number;
  /** `ssthresh` in bytes. */
  protected threshold = SSTHRESH_INITIAL;
  /** SMSS in bytes. */
  protected segment: number;
  /** The multiplicative decrease: ssthresh = flight * beta (1/2 here, 0.7 for CUBIC). */
  protected readonly beta: number;
  /** Between `onLoss` and `onRecoveryEnd` (or a timeout, or `undo`). */
  protected inRecovery = false;
  /** A timeout fired and no ACK has advanced since: a repeated timeout keeps ssthresh (RFC 5681 §3.1). */
  protected inTimeoutBackoff = false;

  readonly #initialSegments: number;
  readonly #abc: boolean;
  readonly #abcLimitSegments: number;
  /** RFC 3465 §2.1's bytes_acked in congestion avoidance. */
  #bytesAcked = 0;
  /** Bytes outstanding at the last timeout not yet acked again: L is 1*SMSS until they are (RFC 3465 §2.3). */
  #timeoutBytesLeft = 0;
  /** Nothing has happened yet, so a new MSS recomputes the initial window. */
  #untouched = true;
  #canUndo = false;
  #priorWindow = 0;
  #priorThreshold = 0;

  /** A window at the initial size for `options.mss`. */
  constructor(options: CongestionOptions, beta = 0.5) {
    this.segment = Math.max(1, options.mss);
    this.#initialSegments = Math.max(0, options.initialWindowSegments ?? 0);
    this.#abc = options.abc ?? true;
    this.#abcLimitSegments = (options.abcAggressive ?? true) ? 2 : 1;
    this.beta = beta;
    this.window = initialWindow(this.segment, this.#initialSegments);
  }

  /** "newreno", as `net.inet.tcp.congctl.selected` spells it. */
  get name(): string {
    return "newreno";
  }

  /** The congestion window in bytes. */
  get cwnd(): number {
    return Math.floor(this.window);
  }

  /** The slow-start threshold in bytes. */
  get ssthresh(): number {
    return this.threshold;
  }

  /** The sender MSS in bytes. */
  get mss(): number {
    return this.segment;
  }

  /** True while `cwnd < ssthresh`. */
  get inSlowStart(): boolean {
    return this.window < this.threshold;
  }

  /** Before any ACK or loss the initial window follows the new MSS; after, `cwnd` keeps its bytes. */
  setMss(mss: number): void {
    if (!(mss > 0)) return;
    this.segment = mss;
    if (this.#untouched) this.window = initialWindow(mss, this.#initialSegments);
  }

  /** Slow start or congestion avoidance for `acked` new bytes (none when application-limited). */
  onAck(
    acked: number,
    flightBefore: number,
    appLimited: boolean,
    now: number,
    srttMs: number,
    minRttMs: number,
    rttSampleMs = 0,
  ): void {
    if (!(acked > 0)) return;
    this.#untouched = false;
    this.inTimeoutBackoff = false;
    let limit = this.#abcLimitSegments * this.segment;
    if (this.#timeoutBytesLeft > 0) {
      limit = this.segment;
      this.#timeoutBytesLeft = Math.max(0, this.#timeoutBytesLeft - acked);
    }
    if (appLimited) return;
    if (this.window < this.threshold) {
      this.slowStart(
        this.#abc ? Math.min(acked, limit) : this.segment,
        acked,
        flightBefore,
        rttSampleMs,
      );
      return;
    }
    this.congestionAvoidance(acked, now, srttMs > 0 ? srttMs : minRttMs);
  }

  /**
   * Recovery begins: ssthresh = max(flight * beta, 2*SMSS), cwnd = ssthresh.
   * Ignored while a recovery is already running: one reduction per window of
   * data (RFC 6582 §3.2, RFC 6675 §5).
   */
  onLoss(flight: number, _now: number): void {
    if (this.inRecovery) return;
    this.#untouched = false;
    this.saveUndoState();
    this.threshold = this.reducedThreshold(flight);
    this.window = this.threshold;
    this.#bytesAcked = 0;
    this.inRecovery = true;
  }

  /** Recovery is over: cwnd = ssthresh (RFC 6582 §3.2 step 3, option 1). Ignored outside recovery. */
  onRecoveryEnd(_now: number): void {
    if (!this.inRecovery) return;
    this.inRecovery = false;
    this.window = this.threshold;
    this.#bytesAcked = 0;
  }

  /**
   * cwnd = 1 SMSS (RFC 5681 §3.1). The first timeout sets ssthresh from
   * `flight` (kept when the timeout cuts short a recovery, whose ssthresh
   * stands, as Linux does); later ones for the same data keep it.
   */
  onRetransmitTimeout(flight: number, _now: number): void {
    this.#untouched = false;
    if (!this.inTimeoutBackoff) {
      if (!this.inRecovery) {
        this.saveUndoState();
        this.threshold = this.reducedThreshold(flight);
      }
      this.inTimeoutBackoff = true;
      this.#timeoutBytesLeft = flight;
    }
    this.inRecovery = false;
    this.window = this.segment;
    this.#bytesAcked = 0;
  }

  /**
   * The last reduction was spurious: cwnd and ssthresh go back to at least
   * what they were before it. Once per reduction; a no-op otherwise.
   */
  undo(_now: number): void {
    if (!this.#canUndo) return;
    this.#canUndo = false;
    this.restoreUndoState();
    this.inRecovery = false;
    this.inTimeoutBackoff = false;
    this.#timeoutBytesLeft = 0;
    this.#bytesAcked = 0;
  }

  /** After an idle period: cwnd = min(cwnd, RW) with RW = IW (RFC 5681 §4.1). */
  onIdleRestart(_now: number): void {
    this.window = Math.min(this.window, initialWindow(this.segment, this.#initialSegments));
    this.#bytesAcked = 0;
  }

  /**
   * One ACK's growth with cwnd < ssthresh: `grow` bytes (ABC's min(acked, L),
   * or one SMSS without ABC), never past ssthresh. CUBIC's HyStart++ hooks here.
   */
  protected slowStart(
    grow: number,
    _acked: number,
    _flightBefore: number,
    _rttSampleMs: number,
  ): void {
    this.window = Math.min(this.window + grow, this.threshold, CWND_MAX);
  }

  /** One ACK's growth with cwnd >= ssthresh; `rttMs` is SRTT (or the min RTT, or 0). */
  protected congestionAvoidance(acked: number, _now: number, _rttMs: number): void {
    if (this.#abc) {
      this.#bytesAcked += acked;
      if (this.#bytesAcked < this.window) return;
      this.#bytesAcked -= this.window;
      this.window = Math.min(this.window + this.segment, CWND_MAX);
      return;
    }
    const grow = Math.max(1, Math.floor(this.segment * this.segment / this.window));
    this.window = Math.min(this.window + grow, CWND_MAX);
  }

  /** max(flight * beta, 2*SMSS), whole bytes. */
  protected reducedThreshold(flight: number): number {
    return Math.max(Math.floor(flight * this.beta), 2 * this.segment);
  }

  /** Remembers the state `undo` restores; subclasses add theirs and call this. */
  protected saveUndoState(): void {
    this.#canUndo = true;
    this.#priorWindow = this.window;
    this.#priorThreshold = this.threshold;
  }

  /** Puts back what `saveUndoState` kept (never lowering either figure). */
  protected restoreUndoState(): void {
    this.window = Math.max(this.window, this.#priorWindow);
    this.threshold = Math.max(this.threshold, this.#priorThreshold);
  }
}
