/**
 * The sender's half of input (RFC 9293 §3.10.7.4 "fifth, check the ACK
 * field", RFC 5681, RFC 6582): what an acknowledgement does to the send
 * queue, the RTT estimate, the congestion window and loss recovery, and
 * the peer's window.
 *
 * Loss is found by three duplicate ACKs (NewReno's partial-ACK rule then
 * repairs one hole per RTT); the congestion-control plug-in decides the
 * window sizes.
 *
 * @module
 */

import { TCP_FLAG } from "../../wire/tcp.ts";
import { seqDiff, seqGeq, seqGt, seqLeq, seqLt } from "./seq.ts";
import type { TcpConnection } from "./tcb.ts";
import { TCP_EVENT } from "./tcb.ts";
import type { TcpSegment } from "./segment.ts";
import type { TcpProtocol } from "./tcp.ts";

/** Duplicate ACKs that signal a loss (RFC 5681 §3.2). */
export const DUP_THRESH = 3;

/** What acknowledgements do to a connection's sending side. */
export class TcpSender {
  readonly #tcp: TcpProtocol;

  constructor(tcp: TcpProtocol) {
    this.#tcp = tcp;
  }

  /** The window the congestion state allows, bytes (NewReno inflation during recovery). */
  congestionWindow(c: TcpConnection): number {
    const cc = c.cc;
    if (cc === null) return c.maxSeg;
    return c.inRecovery ? cc.cwnd + c.dupAcks * c.maxSeg : cc.cwnd;
  }

  /**
   * Processes the ACK field of an acceptable segment in a synchronized
   * state. Returns false when the segment must be dropped (an ACK for data
   * never sent: RFC 5961 §5 answers it with an ACK).
   */
  processAck(c: TcpConnection, seg: TcpSegment, now: number): boolean {
    const tcp = this.#tcp, st = tcp.ctx.stats.tcp;
    const ack = seg.ack;
    if (seqGt(ack, c.sndMax)) {
      st.rcvacktoomuch++;
      c.ackNow = true;
      return false;
    }
    // RFC 5961 §5.2: an ACK older than what the peer could have seen is answered and dropped.
    if (seqLt(ack, (c.sndUna - c.maxSndWnd) >>> 0)) {
      tcp.challengeAck(c);
      return false;
    }
    const window = seg.has(TCP_FLAG.SYN) ? seg.window : seg.window << c.sndScale;
    if (seqLeq(ack, c.sndUna)) {
      this.#duplicateAck(c, seg, window, now);
      this.#updateWindow(c, seg, window);
      return true;
    }
    // New data acknowledged.
    const acked = seqDiff(ack, c.sndUna);
    const flightBefore = c.flight;
    st.rcvackpack++;
    st.rcvackbyte += acked;
    if (c.tsOk && seg.opts.timestamp && seg.opts.tsEcr !== 0) {
      if (c.rtt.timestampSample((seg.opts.tsEcr - c.tsOffset) >>> 0, Math.floor(now) >>> 0)) {
        st.rttupdated++;
      }
    } else if (c.rtt.ackReceived(ack, now)) {
      st.rttupdated++;
    }
    const dataAcked = Math.min(acked, c.send.length);
    c.send.consume(dataAcked);
    c.sndUna = ack;
    if (seqLt(c.sndNxt, c.sndUna)) c.sndNxt = c.sndUna;
    c.rexmtShift = 0;
    const cc = c.cc;
    if (c.inRecovery) {
      if (seqGeq(ack, c.recover)) {
        c.inRecovery = false;
        c.dupAcks = 0;
        cc?.onRecoveryEnd(now);
      } else {
        // RFC 6582 §3.2 step 5: a partial ACK; resend the next hole, deflate by what was acked.
        c.dupAcks = Math.max(0, c.dupAcks - Math.floor(acked / c.maxSeg));
        this.#retransmitFirst(c, now);
      }
    } else {
      c.dupAcks = 0;
      const appLimited = c.limit === "app";
      cc?.onAck(acked, flightBefore, appLimited, now, c.rtt.srtt, tcp.minRtt(c));
    }
    this.#updateWindow(c, seg, window);
    if (c.sndUna === c.sndMax) {
      tcp.timers.stopRetransmit(c);
      c.send.shrinkIfEmpty();
    } else if (!c.persisting) {
      tcp.timers.startRetransmit(c, now);
    }
    tcp.autotuneSend(c);
    if (dataAcked > 0 && c.send.space > 0) c.post(TCP_EVENT.WRITABLE, tcp.ctx.wakes);
    return true;
  }

  /** The retransmission timer fired: the window collapses, recovery ends (RFC 5681 §3.1, 6582). */
  onRetransmitTimeout(c: TcpConnection, now: number): void {
    c.cc?.onRetransmitTimeout(c.flight, now);
    c.inRecovery = false;
    c.dupAcks = 0;
    c.recover = c.sndMax;
  }

  /** RFC 5681 §3.2 duplicate ACKs: the third begins fast retransmit. */
  #duplicateAck(c: TcpConnection, seg: TcpSegment, window: number, now: number): void {
    const st = this.#tcp.ctx.stats.tcp;
    const dup = seg.ack === c.sndUna && seg.dataLength === 0 &&
      !seg.has(TCP_FLAG.SYN | TCP_FLAG.FIN) &&
      window === c.sndWnd && c.sndMax !== c.sndUna;
    if (!dup) {
      if (seg.dataLength === 0 && seg.ack === c.sndUna) st.rcvdupack++;
      if (!c.inRecovery) c.dupAcks = 0;
      return;
    }
    st.rcvdupack++;
    c.dupAcks++;
    if (c.inRecovery) {
      this.#tcp.output.output(c); // inflation lets new data out
      return;
    }
    if (c.dupAcks < DUP_THRESH) {
      // RFC 3042 limited transmit: a new segment for each of the first two.
      this.#tcp.output.output(c);
      return;
    }
    // RFC 6582 §3.2 step 2: no new recovery for a loss in the window already repaired.
    if (!seqGt(c.sndUna, c.recover) && c.recover !== c.sndUna && seqLt(c.sndUna, c.recover)) {
      return;
    }
    c.inRecovery = true;
    c.recover = c.sndMax;
    c.cc?.onLoss(c.flight, now);
    this.#retransmitFirst(c, now);
  }

  /** Resends the segment at snd_una, then lets the window send what it allows. */
  #retransmitFirst(c: TcpConnection, now: number): void {
    const next = c.sndNxt;
    c.sndNxt = c.sndUna;
    this.#tcp.timers.startRetransmit(c, now);
    this.#tcp.output.output(c, false, 1);
    if (seqGt(next, c.sndNxt)) c.sndNxt = next;
    this.#tcp.output.output(c);
  }

  /** RFC 9293 §3.10.7.4: take the window from the newest segment (SND.WL1/WL2). */
  #updateWindow(c: TcpConnection, seg: TcpSegment, window: number): void {
    if (
      seqLt(c.sndWl1, seg.seq) || (c.sndWl1 === seg.seq && seqLeq(c.sndWl2, seg.ack))
    ) {
      if (window > c.sndWnd && c.sndWnd === 0 && c.persisting) this.#tcp.timers.stopRetransmit(c);
      if (window !== c.sndWnd && seg.dataLength === 0 && seg.ack === c.sndWl2) {
        this.#tcp.ctx.stats.tcp.rcvwinupd++;
      }
      c.sndWnd = window;
      c.sndWl1 = seg.seq;
      c.sndWl2 = seg.ack;
      if (window > c.maxSndWnd) c.maxSndWnd = window;
    }
  }
}
