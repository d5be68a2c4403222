/**
 * The contract between a TCP sender and its congestion control, so NewReno
 * and CUBIC (RFC 9438) are plug-ins chosen by `net.inet.tcp.congctl.selected`
 * or per socket (`TCP_CONGESTION`), as gVisor's `congestionControl` and
 * NetBSD's `tcp_congctl`.
 *
 * The sender owns loss detection (duplicate ACKs, the SACK scoreboard,
 * RACK) and recovery; it tells the algorithm what happened and reads back
 * `cwnd` and `ssthresh` (bytes). The algorithm never sends and never reads
 * the clock: `now` (ms) comes with each call.
 *
 * @module
 */

/** What a congestion-control algorithm is told, and what it decides. */
export interface CongestionControl {
  /** Its name as `net.inet.tcp.congctl.selected` spells it. */
  readonly name: string;
  /** The congestion window in bytes. */
  readonly cwnd: number;
  /** The slow-start threshold in bytes (`Infinity`-like 0x3fffffff until the first loss). */
  readonly ssthresh: number;
  /** The connection's sender MSS changed (after the handshake, or PMTU). */
  setMss(mss: number): void;
  /**
   * A cumulative ACK advanced `snd_una` by `acked` bytes outside recovery.
   * `flightBefore` is the bytes in flight before this ACK; `appLimited` is
   * true when the sender had less to send than the window allowed (RFC 7661:
   * the window should then not grow). `srttMs`/`minRttMs` are 0 before the
   * first RTT sample. `rttSampleMs` is the RTT this ACK measured (timestamp
   * echo or the timed segment; 0 or absent when none): HyStart++ needs it.
   */
  onAck(
    acked: number,
    flightBefore: number,
    appLimited: boolean,
    now: number,
    srttMs: number,
    minRttMs: number,
    rttSampleMs?: number,
  ): void;
  /** Loss detected (fast retransmit, SACK or RACK): recovery begins; sets `ssthresh` and `cwnd`. */
  onLoss(flight: number, now: number): void;
  /** Recovery ended (a cumulative ACK at or past the recovery point). */
  onRecoveryEnd(now: number): void;
  /** The retransmission timer fired: `cwnd` falls to one segment (RFC 5681 §3.1). */
  onRetransmitTimeout(flight: number, now: number): void;
  /** The last reduction was spurious (DSACK or timestamps showed it): restore the state before it. */
  undo(now: number): void;
  /** The connection was idle for more than an RTO (RFC 5681 §4.1): restart from the restart window. */
  onIdleRestart(now: number): void;
}
