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
import { seqDiff, seqGt, seqLt } from "./seq.ts";
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

  /** Sends what `c` may send now: data, FIN, window updates, a requested ACK. */
  output(c: TcpConnection, force = false, maxSegments = MAX_BURST): void {
    if (c.state < TCPS.ESTABLISHED && c.state !== TCPS.SYN_RECEIVED) return;
    if (c.state === TCPS.SYN_RECEIVED) {
      if (c.ackNow) this.sendSyn(c);
      return;
    }
    if (c.state === TCPS.TIME_WAIT) {
      if (c.ackNow) this.sendControl(c, TCP_FLAG.ACK, c.sndMax);
      return;
    }
    const now = this.#tcp.ctx.now();
    const cwnd = this.#tcp.sender.congestionWindow(c);
    for (let burst = 0; burst < maxSegments; burst++) {
      const held = c.send.length;
      const off = seqDiff(c.sndNxt, c.sndUna);
      const wnd = Math.min(c.sndWnd, cwnd);
      let avail = held - off; // unsent bytes from snd_nxt (negative once the FIN went)
      if (avail < 0) avail = 0;
      let len = Math.min(avail, wnd - off);
      if (force && len <= 0 && avail > 0 && c.sndWnd === 0) len = 1; // zero-window probe
      if (len < 0) len = 0;
      if (len > c.maxSeg) len = c.maxSeg;
      const retransmitting = seqLt(c.sndNxt, c.sndMax);
      const dataEnd = (c.sndUna + held) >>> 0;
      const fin = c.finQueued && ((c.sndNxt + len) >>> 0) === dataEnd &&
        (!c.finSent || retransmitting);
      let send = false;
      if (len > 0) {
        if (
          len === c.maxSeg || retransmitting || force ||
          (len === avail && (c.noDelay || c.sndMax === c.sndUna)) ||
          (c.maxSndWnd > 0 && len >= c.maxSndWnd >>> 1)
        ) send = true;
      }
      if (fin) send = true;
      if (!send && (c.ackNow || this.#windowUpdateDue(c))) send = true;
      if (!send) {
        c.limit = avail === 0
          ? "app"
          : c.sndWnd === 0
          ? "zerownd"
          : wnd === c.sndWnd
          ? "rwnd"
          : "cwnd";
        if (avail > 0 && c.sndWnd === 0 && c.sndMax === c.sndUna) {
          this.#tcp.timers.startPersist(c, now);
        }
        return;
      }
      c.limit = "none";
      let flags = TCP_FLAG.ACK;
      if (fin) flags |= TCP_FLAG.FIN;
      if (len > 0 && off + len === held) flags |= TCP_FLAG.PSH;
      const err = this.#emit(c, c.sndNxt, len, flags, now);
      if (err !== null) {
        this.#tcp.outputFailed(c, err);
        return;
      }
      const st = this.#tcp.ctx.stats.tcp;
      if (len > 0) {
        if (retransmitting) {
          st.sndrexmitpack++;
          st.sndrexmitbyte += len;
          c.retransmits++;
        } else {
          st.sndpack++;
          st.sndbyte += len;
        }
        c.lastSend = now;
      } else if (!fin) {
        st.sndacks++;
      }
      const startSeq = c.sndNxt;
      c.sndNxt = (c.sndNxt + len + (fin ? 1 : 0)) >>> 0;
      if (fin) c.finSent = true;
      if (seqGt(c.sndNxt, c.sndMax)) {
        c.sndMax = c.sndNxt;
        if (!c.tsOk && !c.rtt.timing && !retransmitting) c.rtt.startTiming(startSeq, now);
      }
      if ((len > 0 || fin) && c.rexmtTimer !== null && !c.rexmtTimer.armed) {
        this.#tcp.timers.startRetransmit(c, now);
      } else if ((len > 0 || fin) && c.rexmtTimer === null) {
        this.#tcp.timers.startRetransmit(c, now);
      }
      if (len === 0 && !fin) return; // one ACK is enough
      if (force) return; // one probe
    }
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
      const n = c.recv.sackBlocks(this.#sack, c.tsOk ? 3 : 4);
      for (let i = 0; i < n; i++) {
        opts.sackLeft[i] = this.#sack[2 * i];
        opts.sackRight[i] = this.#sack[2 * i + 1];
      }
      opts.sackCount = n;
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
