/**
 * Opening connections (RFC 9293 §3.5, §3.10.7.2-3): the active open's SYN,
 * SYN_SENT's input (including simultaneous open), a listener's input (a SYN
 * makes an embryonic connection in SYN_RECEIVED, bounded by the listen
 * queue), and the ACK that completes a passive open and queues it for
 * `accept`. The options of the SYN decide MSS, window scaling, SACK and
 * timestamps for the connection's life (RFC 7323, RFC 2018).
 *
 * @module
 */

import { TCP_FLAG, TCP_MAX_WINSHIFT, type TcpOptions } from "../../wire/tcp.ts";
import { seqGt, seqLeq } from "./seq.ts";
import { TCPS } from "./state.ts";
import { TCP_EVENT, type TcpConnection } from "./tcb.ts";
import type { TcpSegment } from "./segment.ts";
import type { TcpProtocol } from "./tcp.ts";

/** The MSS assumed when a peer sends none (RFC 9293 §3.7.1, RFC 8200 §5 less headers). */
export const DEFAULT_MSS4 = 536;
export const DEFAULT_MSS6 = 1220;

/** The connection-opening half of TCP. */
export class TcpHandshake {
  readonly #tcp: TcpProtocol;

  constructor(tcp: TcpProtocol) {
    this.#tcp = tcp;
  }

  /** Sends the SYN of an active open (`c` has its endpoints and route). */
  activeOpen(c: TcpConnection, now: number): void {
    const tcp = this.#tcp;
    c.iss = tcp.initialSequence(c, now);
    c.sndUna = c.iss;
    c.sndNxt = c.iss;
    c.sndMax = c.iss;
    c.rcvScale = tcp.settings.winScale ? tcp.windowShiftFor(c) : 0;
    c.state = TCPS.SYN_SENT;
    tcp.ctx.stats.tcp.connattempt++;
    tcp.output.sendSyn(c);
    // The SYN is timed like data (BSD's t_rtttime): without timestamps its SYN-ACK is the
    // first RTT sample; a retransmitted SYN is not (the timeout drops the timing, Karn).
    c.rtt.startTiming(c.iss, now);
    tcp.timers.startKeep(c, now, tcp.keepInitMs());
  }

  /** A segment in SYN_SENT (RFC 9293 §3.10.7.3). */
  synSentInput(c: TcpConnection, seg: TcpSegment, now: number): void {
    const tcp = this.#tcp;
    const ackFlag = seg.has(TCP_FLAG.ACK);
    if (ackFlag && (seqLeq(seg.ack, c.iss) || seqGt(seg.ack, c.sndMax))) {
      if (!seg.has(TCP_FLAG.RST)) tcp.output.respondReset(seg);
      return;
    }
    if (seg.has(TCP_FLAG.RST)) {
      if (ackFlag) tcp.drop(c, "ECONNREFUSED", false);
      return;
    }
    if (!seg.has(TCP_FLAG.SYN)) return;
    c.irs = seg.seq;
    c.rcvNxt = (seg.seq + 1) >>> 0;
    c.rcvAdv = c.rcvNxt;
    this.#applySynOptions(c, seg.opts, seg.optionsOk, false, now);
    c.lastReceive = now;
    if (ackFlag) {
      c.sndUna = seg.ack;
      c.sndWnd = seg.window << c.sndScale;
      c.maxSndWnd = c.sndWnd;
      c.sndWl1 = seg.seq;
      c.sndWl2 = seg.ack;
      if (c.tsOk && seg.opts.tsEcr !== 0) {
        c.rtt.timestampSample((seg.opts.tsEcr - c.tsOffset) >>> 0, Math.floor(now) >>> 0);
      } else {
        c.rtt.ackReceived(seg.ack, now);
      }
      this.#established(c, now);
      tcp.ctx.stats.tcp.connects++;
      c.post(TCP_EVENT.CONNECTED | TCP_EVENT.WRITABLE, tcp.ctx.wakes);
      c.ackNow = true;
      // Data or a FIN riding on the SYN-ACK.
      if (seg.dataLength > 0 || seg.has(TCP_FLAG.FIN)) {
        seg.seq = (seg.seq + 1) >>> 0;
        tcp.receiver.processData(c, seg, now);
      }
      tcp.output.output(c);
      return;
    }
    // Simultaneous open: our SYN crossed theirs.
    c.state = TCPS.SYN_RECEIVED;
    c.sndWnd = seg.window;
    c.sndWl1 = seg.seq;
    c.ackNow = true;
    tcp.output.sendSyn(c);
  }

  /**
   * The ACK in SYN_RECEIVED (RFC 9293 §3.10.7.4 "fifth"): acceptable, the
   * connection is established and queued for accept; otherwise a reset.
   * Returns false when the segment ends here.
   */
  synReceivedAck(c: TcpConnection, seg: TcpSegment, now: number): boolean {
    const tcp = this.#tcp;
    if (!(seqGt(seg.ack, c.sndUna) && seqLeq(seg.ack, c.sndMax))) {
      tcp.output.respondReset(seg);
      return false;
    }
    if (c.tsOk && seg.opts.timestamp && seg.opts.tsEcr !== 0) {
      c.rtt.timestampSample((seg.opts.tsEcr - c.tsOffset) >>> 0, Math.floor(now) >>> 0);
    } else {
      c.rtt.ackReceived(seg.ack, now);
    }
    c.sndWnd = seg.window << c.sndScale;
    c.maxSndWnd = c.sndWnd;
    c.sndWl1 = seg.seq;
    c.sndWl2 = seg.ack;
    this.#established(c, now);
    const l = c.listener;
    if (l !== null) {
      l.embryonic--;
      tcp.ctx.stats.tcp.accepts++;
      if (l.state === TCPS.LISTEN && l.acceptQueue !== null) {
        l.acceptQueue.push(c);
        l.post(TCP_EVENT.ACCEPTABLE, tcp.ctx.wakes);
      }
    } else {
      tcp.ctx.stats.tcp.connects++;
      c.post(TCP_EVENT.CONNECTED | TCP_EVENT.WRITABLE, tcp.ctx.wakes);
    }
    return true;
  }

  /** ESTABLISHED: buffers, congestion control, timers for the data phase. */
  #established(c: TcpConnection, now: number): void {
    const tcp = this.#tcp;
    c.state = TCPS.ESTABLISHED;
    c.rexmtShift = 0;
    tcp.timers.stopRetransmit(c);
    c.keepTimer?.disarm();
    tcp.updateMss(c);
    c.cc = tcp.createCongestion(c);
    c.rcvAutoStart = now;
    c.lastSend = now;
    tcp.timers.restartKeepalive(c, now);
  }

  /** What the peer's SYN options decide (RFC 7323 §2.2, §3.2; RFC 2018 §2). */
  #applySynOptions(
    c: TcpConnection,
    o: TcpOptions,
    ok: boolean,
    passive: boolean,
    now: number,
  ): void {
    const tcp = this.#tcp, s = tcp.settings;
    c.peerMss = ok && o.mss > 0
      ? o.mss
      : c.family === 6 && c.remote.addr.family === 6
      ? DEFAULT_MSS6
      : DEFAULT_MSS4;
    const offeredWs = passive ? s.winScale : c.rcvScale >= 0 && s.winScale;
    if (ok && o.wscale >= 0 && offeredWs) {
      c.wsOk = true;
      c.sndScale = Math.min(o.wscale, TCP_MAX_WINSHIFT);
      if (passive) c.rcvScale = tcp.windowShiftFor(c);
    } else {
      c.wsOk = false;
      c.sndScale = 0;
      c.rcvScale = 0;
    }
    c.sackOk = ok && o.sackPermitted && s.sack;
    c.tsOk = ok && o.timestamp && s.timestamps;
    if (c.tsOk) {
      c.tsRecent = o.tsVal;
      c.tsRecentAge = now;
    }
  }
}
