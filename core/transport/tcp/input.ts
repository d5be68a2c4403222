/**
 * TCP input for synchronized states (RFC 9293 §3.10.7.4, with RFC 7323's
 * PAWS and timestamp rules and RFC 5961's defences): a segment for an
 * existing connection is checked for sequence acceptability, then its RST,
 * SYN, ACK, text and FIN are processed in the RFC's order. The handshake
 * states (LISTEN, SYN_SENT, SYN_RECEIVED's ACK) are in `handshake.ts`; the
 * ACK's effect on the sender in `sender.ts`; the text and FIN in
 * `receiver.ts`.
 *
 * @module
 */

import { TCP_FLAG } from "../../wire/tcp.ts";
import { segmentAcceptable, seqGeq, seqLeq, seqLt } from "./seq.ts";
import { TCPS } from "./state.ts";
import type { TcpConnection } from "./tcb.ts";
import type { TcpSegment } from "./segment.ts";
import type { TcpProtocol } from "./tcp.ts";

/** 24 days in ms: a timestamp older than this is not compared (RFC 7323 §5.5). */
const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;

/** Processes segments for connections past LISTEN and SYN_SENT. */
export class TcpInput {
  readonly #tcp: TcpProtocol;

  constructor(tcp: TcpProtocol) {
    this.#tcp = tcp;
  }

  /** One segment for `c` (state SYN_RECEIVED or later). */
  segmentArrives(c: TcpConnection, seg: TcpSegment, now: number): void {
    const tcp = this.#tcp, st = tcp.ctx.stats.tcp;
    const rst = seg.has(TCP_FLAG.RST);
    c.lastReceive = now;
    c.keepProbes = 0;
    // RFC 7323 §5.3 PAWS: an old timestamp marks an old duplicate.
    if (c.tsOk && seg.opts.timestamp && !rst && seqLt(seg.opts.tsVal, c.tsRecent)) {
      if (now - c.tsRecentAge > PAWS_IDLE_MS) {
        c.tsRecent = 0; // the peer was idle long enough for its clock to wrap: forget
      } else {
        st.pawsdrop++;
        st.rcvduppack++;
        st.rcvdupbyte += seg.dataLength;
        c.ackNow = true;
        tcp.outputLater(c);
        return;
      }
    }
    const rcvWnd = c.recv === null
      ? c.rcvBufSize
      : Math.max(c.recv.window, (c.rcvAdv - c.rcvNxt) | 0);
    if (!segmentAcceptable(seg.seq, seg.seqLength, c.rcvNxt, rcvWnd)) {
      if (rst) return;
      st.rcvduppack++;
      st.rcvdupbyte += seg.dataLength;
      if (c.sackOk && seg.dataLength > 0 && seqLeq((seg.seq + seg.dataLength) >>> 0, c.rcvNxt)) {
        // RFC 2883: the ACK names the duplicate, so the sender can tell its retransmission was not needed.
        c.dsackPending = true;
        c.dsackStart = seg.seq;
        c.dsackEnd = (seg.seq + seg.dataLength) >>> 0;
      }
      c.ackNow = true;
      if (
        c.state === TCPS.TIME_WAIT && seg.has(TCP_FLAG.FIN) &&
        ((seg.seq + seg.seqLength) >>> 0) === c.rcvNxt
      ) {
        tcp.timers.startTimeWait(c, now); // the peer's FIN again: our ACK was lost; 2·MSL again
      }
      tcp.outputLater(c);
      return;
    }
    // RFC 5961 §3.2: a reset is taken only at exactly rcv_nxt; in window, it earns a challenge ACK.
    if (rst) {
      if (seg.seq === c.rcvNxt || c.state === TCPS.SYN_RECEIVED && seg.seq === c.irs + 1) {
        this.#reset(c);
      } else {
        st.rcvbadrst++;
        tcp.challengeAck(c);
      }
      return;
    }
    // RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK, never a reset.
    if (seg.has(TCP_FLAG.SYN) && c.state !== TCPS.SYN_RECEIVED) {
      st.badsyn++;
      st.rcvbadsynest++;
      tcp.challengeAck(c);
      return;
    }
    if (!seg.has(TCP_FLAG.ACK)) return;
    // RFC 7323 §4.3: remember the timestamp to echo when the segment covers lastAckSent.
    if (
      c.tsOk && seg.opts.timestamp && seqLeq(seg.seq, c.lastAckSent) &&
      seqGeq((seg.seq + seg.seqLength) >>> 0, c.lastAckSent)
    ) {
      c.tsRecent = seg.opts.tsVal;
      c.tsRecentAge = now;
    }
    if (c.state === TCPS.SYN_RECEIVED) {
      if (!tcp.handshake.synReceivedAck(c, seg, now)) return;
    }
    if (!this.#ackStates(c, seg, now)) return;
    if (c.dead) return;
    if (
      c.state === TCPS.ESTABLISHED || c.state === TCPS.FIN_WAIT_1 || c.state === TCPS.FIN_WAIT_2
    ) {
      tcp.receiver.processData(c, seg, now);
    } else if (seg.has(TCP_FLAG.FIN) && c.state === TCPS.TIME_WAIT) {
      c.ackNow = true; // a retransmitted FIN: acknowledge again, wait 2·MSL again
      tcp.timers.startTimeWait(c, now);
    }
    if (c.dead) return;
    tcp.timers.restartKeepalive(c, now);
    tcp.outputLater(c);
  }

  /** The ACK field in each synchronized state; false when the segment ends here. */
  #ackStates(c: TcpConnection, seg: TcpSegment, now: number): boolean {
    const tcp = this.#tcp;
    switch (c.state) {
      case TCPS.ESTABLISHED:
      case TCPS.CLOSE_WAIT:
      case TCPS.FIN_WAIT_1:
      case TCPS.FIN_WAIT_2:
      case TCPS.CLOSING:
      case TCPS.LAST_ACK: {
        if (!tcp.sender.processAck(c, seg, now)) {
          tcp.outputLater(c);
          return false;
        }
        const finAcked = c.finSent && c.sndUna === c.sndMax;
        if (!finAcked) return true;
        if (c.state === TCPS.FIN_WAIT_1) {
          c.state = TCPS.FIN_WAIT_2;
          // Closed by its owner: the peer gets tcp_maxidle to finish (BSD's FIN_WAIT_2 timer).
          if (c.userClosed) tcp.timers.startKeep(c, now, tcp.maxIdleMs(c));
        } else if (c.state === TCPS.CLOSING) {
          tcp.enterTimeWait(c, now);
          return false;
        } else if (c.state === TCPS.LAST_ACK) {
          tcp.close(c);
          return false;
        }
        return true;
      }
      case TCPS.TIME_WAIT:
        return true;
    }
    return true;
  }

  /** An acceptable reset: the connection ends (RFC 9293 §3.10.7.4 "second"). */
  #reset(c: TcpConnection): void {
    const tcp = this.#tcp;
    switch (c.state) {
      case TCPS.SYN_RECEIVED:
        // Passive open: back to LISTEN means just forgetting the embryo.
        tcp.close(c);
        return;
      case TCPS.ESTABLISHED:
      case TCPS.FIN_WAIT_1:
      case TCPS.FIN_WAIT_2:
      case TCPS.CLOSE_WAIT:
        tcp.drop(c, "ECONNRESET", false);
        return;
      default:
        tcp.close(c);
    }
  }
}
