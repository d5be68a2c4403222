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
import { seqDiff, seqGt, seqLeq, seqLt } from "./seq.ts";
import type { TcpConnection } from "./tcb.ts";
import { TCP_EVENT } from "./tcb.ts";
import type { TcpSegment } from "./segment.ts";
import type { TcpProtocol } from "./tcp.ts";

/** What acknowledgements do to a connection's sending side. */
export class TcpSender {
  readonly #tcp: TcpProtocol;

  constructor(tcp: TcpProtocol) {
    this.#tcp = tcp;
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
    const flightBefore = c.flight;
    let acked = 0;
    if (seqLeq(ack, c.sndUna)) {
      this.#countDuplicate(c, seg, window);
    } else {
      acked = seqDiff(ack, c.sndUna);
      st.rcvackpack++;
      st.rcvackbyte += acked;
      c.dupAcks = 0;
    }
    // RTT from the timestamp echo (RFC 7323 §4.1), else the record's Karn-safe sample.
    let tsSampled = false;
    if (acked > 0 && c.tsOk && seg.opts.timestamp && seg.opts.tsEcr !== 0) {
      tsSampled = c.rtt.timestampSample((seg.opts.tsEcr - c.tsOffset) >>> 0, Math.floor(now) >>> 0);
      if (tsSampled) st.rttupdated++;
    } else if (acked > 0 && c.loss === null && c.rtt.ackReceived(ack, now)) {
      st.rttupdated++;
    }
    if (acked > 0) {
      const dataAcked = Math.min(acked, c.send.length);
      c.send.consume(dataAcked);
      c.sndUna = ack;
      if (seqLt(c.sndNxt, c.sndUna)) c.sndNxt = c.sndUna;
      c.rexmtShift = 0;
      if (dataAcked > 0 && c.send.space > 0) c.post(TCP_EVENT.WRITABLE, tcp.ctx.wakes);
    }
    tcp.recovery.onAck(c, seg, now, acked, flightBefore, tsSampled);
    this.#updateWindow(c, seg, window);
    if (c.sndUna === c.sndMax) {
      tcp.timers.stopRetransmit(c);
      tcp.recovery.stop(c);
    } else if (acked > 0 && !c.persisting) {
      tcp.timers.startRetransmit(c, now);
    }
    if (acked > 0) tcp.autotuneSend(c);
    return true;
  }

  /** RFC 5681 §3.2 duplicate ACKs (counted for peers without SACK, and for netstat). */
  #countDuplicate(c: TcpConnection, seg: TcpSegment, window: number): void {
    const st = this.#tcp.ctx.stats.tcp;
    if (seg.dataLength !== 0 || seg.ack !== c.sndUna) return;
    st.rcvdupack++;
    const dup = !seg.has(TCP_FLAG.SYN | TCP_FLAG.FIN) && window === c.sndWnd &&
      c.sndMax !== c.sndUna;
    if (dup) c.dupAcks++;
    else c.dupAcks = 0;
  }

  /** RFC 9293 §3.10.7.4: take the window from the newest segment (SND.WL1/WL2). */
  #updateWindow(c: TcpConnection, seg: TcpSegment, window: number): void {
    if (
      seqLt(c.sndWl1, seg.seq) || (c.sndWl1 === seg.seq && seqLeq(c.sndWl2, seg.ack))
    ) {
      if (window > c.sndWnd && c.sndWnd === 0 && c.persisting) {
        this.#tcp.timers.stopRetransmit(c);
        // The window opened with the probe byte still unacknowledged (the peer dropped it, as
        // it may): resend from snd_una now, as BSD does, not after a retransmission timeout.
        const segs = c.loss?.segs;
        if (segs !== undefined && c.sndMax !== c.sndUna && segs.count > 0) {
          segs.markLostAt(0, false);
        }
      }
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
