/**
 * TCP output (NetBSD's `tcp_output` and `tcp_respond`): decides what a
 * connection may send now and builds each segment in a pooled packet.
 *
 * What goes out is bounded by the peer's window and the congestion window,
 * shaped by Nagle (RFC 9293 §3.7.4, off with `TCP_NODELAY`) and sender SWS
 * avoidance; a pure ACK goes out when input asked for one (`ackNow`) or the
 * receive window opened far enough to be worth telling. Segments carry the
 * timestamp option when agreed (RFC 7323) and SACK blocks for the data held
 * beyond a hole (RFC 2018). The payload is copied once, from the send buffer
 * into the packet; the header is written in place and summed with the
 * pseudo-header.
 *
 * @module
 */

import type { Errno } from "../../errno.ts";
import type { PacketBuffer } from "../../buf/packet_pool.ts";
import { RouteOut } from "../../net/route_out.ts";
import { finishChecksum, pseudoSum4, sumWords } from "../../wire/checksum.ts";
import {
  emitTcpHeader,
  TCP_FLAG,
  TCP_HEADER_LEN,
  TcpOptions,
  tcpOptionsLength,
  type TcpRepr,
} from "../../wire/tcp.ts";
import { seqDiff, seqGt } from "./seq.ts";
import { TCPS } from "./state.ts";
import type { TcpConnection } from "./tcb.ts";
import type { TcpSegment } from "./segment.ts";
import type { TcpProtocol } from "./tcp.ts";

const IPPROTO_TCP = 6;
/** Most segments one output call sends (the window bounds it first, normally). */
const MAX_BURST = 256;
/** Largest window field (before scaling). */
const MAX_WIN_FIELD = 0xffff;

/** Builds and sends the segments of every connection of one stack. */
export class TcpOutput {
  readonly #tcp: TcpProtocol;
  readonly #opts = new TcpOptions();
  readonly #repr: TcpRepr = { srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0 };
  readonly #sack = new Uint32Array(8);
  readonly #respondRoute = new RouteOut();

  constructor(tcp: TcpProtocol) {
    this.#tcp = tcp;
  }

  /**
   * Sends what `c` may send now: lost segments first, then new data and the
   * FIN, a window update or a requested ACK. `force` sends one byte into a
   * zero window (a persist probe); `probe` marks new data sent as a tail
   * loss probe, allowed past the congestion window (RFC 8985 §7.3).
   */
  output(c: TcpConnection, force = false, maxSegments = MAX_BURST, probe = false): void {
    if (c.state < TCPS.ESTABLISHED && c.state !== TCPS.SYN_RECEIVED) return;
    if (c.state === TCPS.SYN_RECEIVED) {
      if (c.ackNow) this.sendSyn(c);
      return;
    }
    if (c.state === TCPS.TIME_WAIT) {
      if (c.ackNow) this.sendControl(c, TCP_FLAG.ACK, c.sndMax);
      return;
    }
    const tcp = this.#tcp, recovery = tcp.recovery;
    const now = tcp.ctx.now();
    let budget = recovery.budget(c);
    let from = c.sndUna;
    for (let burst = 0; burst < maxSegments; burst++) {
      // Lost segments first (RFC 6675 NextSeg rule 1, RACK's marks, the RTO's).
      if (recovery.nextLost(c, from)) {
        const loss = c.loss!;
        const start = loss.board.segStart, len = (loss.board.segEnd - start) >>> 0;
        if (len > budget && !probe) {
          c.limit = "cwnd";
          break;
        }
        if (this.resend(c, start, len, false) !== null) return;
        budget -= len;
        from = (start + len) >>> 0;
        continue;
      }
      const held = c.send.length;
      const off = seqDiff(c.sndMax, c.sndUna);
      let avail = held - off; // unsent bytes (negative once the FIN went)
      if (avail < 0) avail = 0;
      // Linux's tcp_bound_to_half_wnd: a segment never exceeds half the largest window the peer
      // offered, so a small receive buffer still gets full segments (a loopback's MSS can exceed it).
      const full = c.maxSndWnd > 536 ? Math.min(c.maxSeg, c.maxSndWnd >>> 1) : c.maxSeg;
      let len = Math.min(avail, c.sndWnd - off, full);
      if (force && len <= 0 && avail > 0 && c.sndWnd - off <= 0) len = 1; // zero-window probe
      if (len < 0) len = 0;
      if (len > budget && !force && !probe) {
        // The congestion window allows less than this segment: wait for it to open.
        len = budget >= full ? full : 0;
        if (len === 0 && avail > 0) {
          c.limit = "cwnd";
          if (!(c.ackNow || this.#windowUpdateDue(c))) break;
        }
      }
      const dataEnd = (c.sndUna + held) >>> 0;
      const fin = c.finQueued && !c.finSent && ((c.sndMax + len) >>> 0) === dataEnd;
      let send = false;
      if (len > 0) {
        if (
          len === full || force || probe ||
          // Nothing in flight: nothing would bring an ACK to wait for (Linux's Nagle; the
          // receiver's SWS avoidance keeps windows from going silly).
          c.sndMax === c.sndUna || (len === avail && c.noDelay) ||
          (c.maxSndWnd > 0 && len >= c.maxSndWnd >>> 1)
        ) send = true;
      }
      if (fin) send = true;
      if (!send && (c.ackNow || this.#windowUpdateDue(c))) send = true;
      if (!send) {
        if (avail === 0) c.limit = "app";
        else if (c.sndWnd - off <= 0) c.limit = c.sndWnd === 0 ? "zerownd" : "rwnd";
        else if (c.limit !== "cwnd") c.limit = len < avail ? "rwnd" : "app";
        // Data waits and nothing is in flight to bring an ACK: the persist timer forces it out
        // (BSD's tcp_setpersist, for a small window as for a zero one).
        if (avail > 0 && c.sndMax === c.sndUna) tcp.timers.startPersist(c, now);
        break;
      }
      if (len > 0 || fin) c.limit = "none";
      let flags = TCP_FLAG.ACK;
      if (fin) flags |= TCP_FLAG.FIN;
      if (len > 0 && off + len === held) flags |= TCP_FLAG.PSH;
      const seq = c.sndMax;
      const err = this.#emit(c, seq, len, flags, now);
      if (err !== null) {
        tcp.outputFailed(c, err);
        return;
      }
      const st = tcp.ctx.stats.tcp;
      if (len > 0) {
        st.sndpack++;
        st.sndbyte += len;
        c.lastSend = now;
      } else if (!fin) {
        st.sndacks++;
      }
      const used = len + (fin ? 1 : 0);
      if (used > 0) {
        recovery.sentNew(c, seq, used, now, probe);
        recovery.sent(c, used);
        budget -= used;
        c.sndMax = c.sndNxt = (seq + used) >>> 0;
        if (fin) c.finSent = true;
        if (!c.tsOk && !c.rtt.timing) c.rtt.startTiming(seq, now);
        if (c.rexmtTimer === null || !c.rexmtTimer.armed || c.persisting) {
          tcp.timers.startRetransmit(c, now);
        }
        recovery.afterSend(c, now);
      }
      if (used === 0) break; // one ACK is enough
      if (force || probe) break; // one probe
    }
  }

  /**
   * Sends `[start, start + len)` again (a lost segment, or the last one as a
   * loss probe); the FIN goes with it when the range covers the FIN's number.
   */
  resend(c: TcpConnection, start: number, len: number, probe: boolean): Errno | null {
    const tcp = this.#tcp, now = tcp.ctx.now();
    const dataEnd = (c.sndUna + c.send.length) >>> 0;
    let dataLen = len, flags = TCP_FLAG.ACK;
    if (c.finSent && ((start + len) >>> 0) === ((dataEnd + 1) >>> 0)) {
      dataLen = len - 1;
      flags |= TCP_FLAG.FIN;
    }
    if (dataLen > c.maxSeg) {
      // One segment's worth (the range may carry the FIN's extra number, or the MSS shrank).
      dataLen = len = c.maxSeg;
      flags = TCP_FLAG.ACK;
    }
    if (dataLen > 0 && ((start + dataLen) >>> 0) === dataEnd) flags |= TCP_FLAG.PSH;
    const err = this.#emit(c, start, dataLen, flags, now);
    if (err !== null) {
      tcp.outputFailed(c, err);
      return err;
    }
    const st = tcp.ctx.stats.tcp;
    st.sndrexmitpack++;
    st.sndrexmitbyte += dataLen;
    if (c.sackOk && c.inRecovery) {
      st.sack_rexmits++;
      st.sack_rexmit_bytes += dataLen;
    }
    c.retransmits++;
    c.rtt.retransmitted();
    tcp.recovery.retransmitted(c, start, len, now, probe);
    tcp.recovery.sent(c, len);
    if (c.rexmtTimer === null || !c.rexmtTimer.armed) tcp.timers.startRetransmit(c, now);
    return null;
  }

  /** A SYN-ACK for a connection that exists only as a SYN cache entry or a cookie (`c` is scratch). */
  emitSynAck(c: TcpConnection): boolean {
    const err = this.#emit(c, c.iss, 0, TCP_FLAG.SYN | TCP_FLAG.ACK, this.#tcp.ctx.now());
    if (err !== null) return false;
    this.#tcp.ctx.stats.tcp.sndctrl++;
    return true;
  }

  /** SYN (SYN_SENT) or SYN-ACK (SYN_RECEIVED) with our options, at `iss`. */
  sendSyn(c: TcpConnection): void {
    const now = this.#tcp.ctx.now();
    const synAck = c.state === TCPS.SYN_RECEIVED;
    const err = this.#emit(c, c.iss, 0, synAck ? TCP_FLAG.SYN | TCP_FLAG.ACK : TCP_FLAG.SYN, now);
    if (err !== null) {
      this.#tcp.outputFailed(c, err);
      return;
    }
    c.sndNxt = (c.iss + 1) >>> 0;
    if (seqGt(c.sndNxt, c.sndMax)) c.sndMax = c.sndNxt;
    this.#tcp.ctx.stats.tcp.sndctrl++;
    this.#tcp.timers.startRetransmit(c, now);
  }

  /** A segment with no data: an ACK (at `seq`), a keepalive probe, or RST (|ACK). */
  sendControl(c: TcpConnection, flags: number, seq: number): void {
    const err = this.#emit(c, seq, 0, flags, this.#tcp.ctx.now());
    if (err !== null) return;
    const st = this.#tcp.ctx.stats.tcp;
    if (flags === TCP_FLAG.ACK) st.sndacks++;
    else st.sndctrl++;
  }

  /**
   * Answers a segment that has no connection (or an unacceptable one in
   * SYN_SENT/SYN_RECEIVED/LISTEN) with a reset, as RFC 9293 §3.10.7.1 says:
   * `<SEQ=SEG.ACK><CTL=RST>` when it carried an ACK, else
   * `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`.
   */
  respondReset(seg: TcpSegment): void {
    if (seg.has(TCP_FLAG.RST)) return;
    if (seg.has(TCP_FLAG.ACK)) this.respond(seg, seg.ack, 0, TCP_FLAG.RST);
    else this.respond(seg, 0, (seg.seq + seg.seqLength) >>> 0, TCP_FLAG.RST | TCP_FLAG.ACK);
  }

  /** Sends a bare segment back to the sender of `seg` (no connection state). */
  respond(seg: TcpSegment, seq: number, ack: number, flags: number): void {
    const tcp = this.#tcp;
    if (!tcp.allowReset()) return;
    const route = this.#respondRoute;
    if (tcp.routeTo(seg.src, seg.dst, route) !== null) return;
    const r = this.#repr;
    r.srcPort = seg.dstPort;
    r.dstPort = seg.srcPort;
    r.seq = seq;
    r.ack = ack;
    r.flags = flags;
    r.window = 0;
    const pkt = tcp.ctx.pool.alloc(TCP_HEADER_LEN);
    emitTcpHeader(pkt.bytes, pkt.start, r, null);
    this.#finish(
      pkt,
      TCP_HEADER_LEN,
      route,
      seg.src.family === 4,
      seg.src.v4,
      seg.src.bytes,
      false,
    );
    tcp.ctx.stats.tcp.sndtotal++;
    tcp.ctx.stats.tcp.sndctrl++;
    tcp.sendPacket(pkt, route, seg.src);
  }

  /** Builds one segment of `c` and hands it to IP. */
  #emit(c: TcpConnection, seq: number, len: number, flags: number, now: number): Errno | null {
    const tcp = this.#tcp;
    const err = tcp.routeFor(c);
    if (err !== null) return err;
    const opts = this.#opts.reset();
    const syn = (flags & TCP_FLAG.SYN) !== 0;
    if (syn) this.#synOptions(c, opts);
    else if (c.tsOk) {
      opts.timestamp = true;
      opts.tsVal = (Math.floor(now) + c.tsOffset) >>> 0;
      opts.tsEcr = c.tsRecent;
    }
    if (!syn && c.sackOk && c.recv !== null && (flags & TCP_FLAG.RST) === 0) {
      const max = c.tsOk ? 3 : 4;
      let k = 0;
      if (c.dsackPending) {
        opts.sackLeft[0] = c.dsackStart;
        opts.sackRight[0] = c.dsackEnd;
        k = 1;
        c.dsackPending = false;
      }
      const n = c.recv.sackBlocks(this.#sack, max - k);
      for (let i = 0; i < n; i++) {
        opts.sackLeft[k + i] = this.#sack[2 * i];
        opts.sackRight[k + i] = this.#sack[2 * i + 1];
      }
      opts.sackCount = k + n;
    }
    const optLen = tcpOptionsLength(opts);
    const hlen = TCP_HEADER_LEN + optLen;
    const r = this.#repr;
    r.srcPort = c.local.port;
    r.dstPort = c.remote.port;
    r.seq = seq;
    r.flags = flags;
    if (flags & TCP_FLAG.ACK) {
      r.ack = c.rcvNxt;
      c.lastAckSent = c.rcvNxt;
    } else r.ack = 0;
    r.window = (flags & TCP_FLAG.RST) ? 0 : this.#advertise(c, syn);
    const pkt = tcp.ctx.pool.alloc(hlen + len);
    const b = pkt.bytes, at = pkt.start;
    emitTcpHeader(b, at, r, optLen > 0 ? opts : null);
    if (len > 0) c.send.copyOut(seqDiff(seq, c.sndUna), b, at + hlen, len);
    const dst = c.remote.addr;
    this.#finish(
      pkt,
      hlen + len,
      c.route,
      dst.family === 4,
      dst.v4,
      dst.bytes,
      c.route.iface!.isLoopback,
    );
    if (flags & TCP_FLAG.ACK) {
      c.ackNow = false;
      c.unackedSegments = 0;
      tcp.timers.stopDelayedAck(c);
    }
    tcp.ctx.stats.tcp.sndtotal++;
    return tcp.sendPacket(pkt, c.route, dst);
  }

  /** Sums the segment (unless a loopback lets it skip) and writes the checksum. */
  #finish(
    pkt: PacketBuffer,
    tcpLen: number,
    route: RouteOut,
    v4: boolean,
    dst4: number,
    dst6: Uint8Array,
    loopback: boolean,
  ): void {
    const b = pkt.bytes, at = pkt.start;
    if (loopback && this.#tcp.doLoopbackChecksum === 0) return;
    const pseudo = v4
      ? pseudoSum4(route.src.v4, dst4, IPPROTO_TCP, tcpLen)
      : sumWords(route.src.bytes, 0, 16, sumWords(dst6, 0, 16)) + tcpLen + IPPROTO_TCP;
    const sum = finishChecksum(sumWords(b, at, at + tcpLen, pseudo));
    b[at + 16] = sum >>> 8;
    b[at + 17] = sum & 0xff;
  }

  /** The options of our SYN or SYN-ACK: MSS, and what we offer or the peer offered. */
  #synOptions(c: TcpConnection, opts: TcpOptions): void {
    const tcp = this.#tcp;
    opts.mss = tcp.mssToAdvertise(c);
    const active = c.state === TCPS.SYN_SENT;
    if (active ? tcp.settings.winScale : c.wsOk) opts.wscale = c.rcvScale;
    if (active ? tcp.settings.sack : c.sackOk) opts.sackPermitted = true;
    if (active ? tcp.settings.timestamps : c.tsOk) {
      opts.timestamp = true;
      opts.tsVal = (Math.floor(tcp.ctx.now()) + c.tsOffset) >>> 0;
      opts.tsEcr = active ? 0 : c.tsRecent;
    }
  }

  /** The window field to send (scaled), never moving the advertised right edge left. */
  #advertise(c: TcpConnection, syn: boolean): number {
    let win = c.recv === null ? c.rcvBufSize : c.recv.window;
    const promised = seqDiff(c.rcvAdv, c.rcvNxt);
    if (promised > win) win = promised;
    if (syn) return Math.min(win, MAX_WIN_FIELD); // RFC 7323 §2.2: a SYN's window is never scaled
    let field = win >>> c.rcvScale;
    if (field > MAX_WIN_FIELD) field = MAX_WIN_FIELD;
    const edge = (c.rcvNxt + (field << c.rcvScale)) >>> 0;
    if (seqGt(edge, c.rcvAdv)) c.rcvAdv = edge;
    return field;
  }

  /** Whether the receive window opened enough to be worth a segment of its own. */
  #windowUpdateDue(c: TcpConnection): boolean {
    if (c.recv === null) return false;
    const win = c.recv.window;
    const promised = seqDiff(c.rcvAdv, c.rcvNxt);
    const opening = win - promised;
    if (opening <= 0) return false;
    return opening >= 2 * c.maxSeg || opening * 2 >= c.recv.capacity;
  }
}
