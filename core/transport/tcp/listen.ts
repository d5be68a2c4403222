/**
 * A listener's input (RFC 9293 §3.10.7.2) through NetBSD's SYN cache and,
 * when the cache is under a flood, SYN cookies (RFC 4987 §3.6): a SYN costs
 * a small cache entry (or nothing, with a cookie), never a connection; the
 * connection is made when the ACK of the SYN-ACK arrives, so memory goes
 * only to peers that completed the handshake, and a flood of spoofed SYNs
 * evicts old entries instead of stopping new clients.
 *
 * The SYN-ACK is built by the normal output path from a scratch control
 * block filled from the entry. Initial sequence numbers follow RFC 6528
 * and timestamp offsets are a keyed hash of the 4-tuple, so a cookie's
 * connection gets the same values its SYN-ACK carried.
 *
 * @module
 */

import type { IpAddr } from "../../net/inet_addr.ts";
import type { TimerHandle } from "../../time/timers.ts";
import { TCP_FLAG, TCP_MAX_WINSHIFT } from "../../wire/tcp.ts";
import { DEFAULT_MSS4, DEFAULT_MSS6 } from "./handshake.ts";
import { IsnSource } from "./isn.ts";
import { SynCache, type SynCacheEntry } from "./syn_cache.ts";
import { SynCookies } from "./syn_cookie.ts";
import { TCPS } from "./state.ts";
import { TcpConnection } from "./tcb.ts";
import type { TcpSegment } from "./segment.ts";
import type { TcpProtocol } from "./tcp.ts";

/** The listeners' half of TCP: SYN cache, SYN cookies, RFC 6528 numbers. */
export class TcpListen {
  readonly #tcp: TcpProtocol;
  readonly cache: SynCache<TcpConnection>;
  readonly cookies: SynCookies;
  readonly isn: IsnSource;
  /** Builds SYN-ACKs for entries and cookies (never in a table). */
  readonly #scratch: TcpConnection;
  #timer: TimerHandle | null = null;
  readonly #resend = (e: SynCacheEntry<TcpConnection>) => this.#sendSynAck(e, null);

  constructor(tcp: TcpProtocol, secret: Uint8Array) {
    this.#tcp = tcp;
    const t = tcp.ctx.tunables.tcp;
    this.cache = new SynCache<TcpConnection>({
      secret,
      limit: t.synCacheLimit,
      bucketLimit: t.synBucketLimit,
      keepInitMs: Math.max(1, t.keepinit) * 500,
      counters: tcp.ctx.stats.tcp,
    });
    this.cookies = new SynCookies(secret);
    this.isn = new IsnSource(secret);
    this.#scratch = new TcpConnection(4, false, 0, 0, 200);
  }

  /** The timestamp offset of a 4-tuple (RFC 7323 §5.4: per connection, not guessable). */
  tsOffset(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number): number {
    return (this.isn.ephemeralPortOffset(local, remote, remotePort) ^
      Math.imul(localPort + 1, 0x9e3779b1)) >>> 0;
  }

  /** A segment for `l`'s port with no connection of its own. */
  input(l: TcpConnection, seg: TcpSegment, now: number): void {
    const tcp = this.#tcp, st = tcp.ctx.stats.tcp;
    const cache = this.cache;
    const e = cache.lookup(seg.dst, seg.dstPort, seg.src, seg.srcPort);
    if (seg.has(TCP_FLAG.RST)) {
      if (e !== null) cache.reset(e, seg.seq);
      return;
    }
    if (seg.has(TCP_FLAG.SYN)) {
      if (seg.has(TCP_FLAG.ACK)) {
        tcp.output.respondReset(seg);
        return;
      }
      if (seg.has(TCP_FLAG.FIN) && tcp.settings.dropSynFin) {
        st.badsyn++;
        return;
      }
      if (e !== null) {
        cache.duplicateSyn(e);
        if (e.timestamp && seg.opts.timestamp) e.tsRecent = seg.opts.tsVal;
        this.#sendSynAck(e, null);
        return;
      }
      this.#syn(l, seg, now);
      return;
    }
    if (!seg.has(TCP_FLAG.ACK)) return;
    if (e !== null) {
      if (!cache.ackAcceptable(e, seg.seq, seg.ack)) {
        tcp.output.respondReset(seg);
        return;
      }
      if ((l.acceptQueue?.length ?? 0) >= l.backlog) {
        // Nobody has room: keep the entry; its SYN-ACK goes again and the peer's answer may
        // find room then (Linux's way; NetBSD resets).
        l.listenOverflows++;
        return;
      }
      const c = this.#establish(l, seg, now, e, null);
      cache.complete(e);
      if (c !== null) tcp.synchronizedInput.segmentArrives(c, seg, now);
      return;
    }
    // No entry: perhaps a cookie's ACK (the SYN came while the cache was flooded).
    const opts = this.cookies.decode(
      (seg.ack - 1) >>> 0,
      (seg.seq - 1) >>> 0,
      seg.dst,
      seg.dstPort,
      seg.src,
      seg.srcPort,
      now,
    );
    if (opts === null) {
      tcp.output.respondReset(seg);
      return;
    }
    const c = this.#establish(l, seg, now, null, opts);
    if (c !== null) tcp.synchronizedInput.segmentArrives(c, seg, now);
  }

  /** A listener closes: its embryos go. */
  removeListener(l: TcpConnection): void {
    this.cache.removeListener(l);
  }

  /** An ICMP error quoting a SYN-ACK of ours. */
  unreach(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number, seq: number): void {
    const e = this.cache.lookup(local, localPort, remote, remotePort);
    if (e !== null) this.cache.unreach(e, seq);
  }

  /** A SYN with no entry: an entry and a SYN-ACK, or under a flood a cookie. */
  #syn(l: TcpConnection, seg: TcpSegment, now: number): void {
    const tcp = this.#tcp;
    if ((l.acceptQueue?.length ?? 0) >= l.backlog) {
      l.listenOverflows++; // nobody accepts: dropping the SYN makes the peer try again later
      return;
    }
    const cache = this.cache;
    const t = tcp.ctx.tunables.tcp;
    cache.limit = t.synCacheLimit;
    cache.bucketLimit = t.synBucketLimit;
    const o = seg.opts, ok = seg.optionsOk;
    if (cache.shouldUseCookies(now)) {
      const iss = this.cookies.encode(seg.dst, seg.dstPort, seg.src, seg.srcPort, seg.seq, {
        mss: ok ? o.mss : 0,
        wscale: ok && tcp.settings.winScale ? o.wscale : -1,
        sackPermitted: ok && o.sackPermitted && tcp.settings.sack,
        timestamp: ok && o.timestamp && tcp.settings.timestamps,
      }, now);
      this.#sendCookie(l, seg, iss, now);
      return;
    }
    const e = cache.add(seg.dst, seg.dstPort, seg.src, seg.srcPort, l, now);
    e.irs = seg.seq;
    e.iss = this.isn.isn(seg.dst, seg.dstPort, seg.src, seg.srcPort, now);
    e.peerMss = ok && o.mss > 0 ? o.mss : 0;
    e.peerWscale = ok && o.wscale >= 0 && tcp.settings.winScale
      ? Math.min(o.wscale, TCP_MAX_WINSHIFT)
      : -1;
    e.ourWscale = e.peerWscale >= 0 ? tcp.windowShiftFor(l) : -1;
    e.sackPermitted = ok && o.sackPermitted && tcp.settings.sack;
    e.timestamp = ok && o.timestamp && tcp.settings.timestamps;
    e.tsRecent = e.timestamp ? o.tsVal : 0;
    e.window = seg.window;
    if (!this.#sendSynAck(e, l)) cache.drop(e);
    this.#armTimer();
  }

  /** Sends the SYN-ACK of an entry; false when there is no route back. */
  #sendSynAck(e: SynCacheEntry<TcpConnection>, listener: TcpConnection | null): boolean {
    const l = listener ?? e.listener;
    if (l === null) return false;
    const c = this.#fill(l, e.local, e.localPort, e.remote, e.remotePort);
    c.iss = e.iss;
    c.irs = e.irs;
    c.wsOk = e.peerWscale >= 0;
    c.rcvScale = c.wsOk ? e.ourWscale : 0;
    c.sackOk = e.sackPermitted;
    c.tsOk = e.timestamp;
    c.tsRecent = e.tsRecent;
    return this.#emit(c);
  }

  #sendCookie(l: TcpConnection, seg: TcpSegment, iss: number, _now: number): void {
    const tcp = this.#tcp, o = seg.opts, ok = seg.optionsOk;
    const c = this.#fill(l, seg.dst, seg.dstPort, seg.src, seg.srcPort);
    c.iss = iss;
    c.irs = seg.seq;
    c.wsOk = ok && o.wscale >= 0 && tcp.settings.winScale;
    c.rcvScale = c.wsOk ? tcp.windowShiftFor(l) : 0;
    c.sackOk = ok && o.sackPermitted && tcp.settings.sack;
    c.tsOk = ok && o.timestamp && tcp.settings.timestamps;
    c.tsRecent = c.tsOk ? o.tsVal : 0;
    this.#emit(c);
  }

  /** The scratch block set up for a SYN-ACK from `local` to `remote`. */
  #fill(
    l: TcpConnection,
    local: IpAddr,
    lport: number,
    remote: IpAddr,
    rport: number,
  ): TcpConnection {
    const c = this.#scratch;
    c.local.addr.set(local);
    c.local.port = lport;
    c.remote.addr.set(remote);
    c.remote.port = rport;
    c.route.clear();
    c.state = TCPS.SYN_RECEIVED;
    c.rcvBufSize = l.rcvBufSize;
    c.userMss = l.userMss;
    c.recv = null;
    c.rcvAdv = 0;
    c.tsOffset = this.tsOffset(local, lport, remote, rport);
    return c;
  }

  #emit(c: TcpConnection): boolean {
    c.rcvNxt = (c.irs + 1) >>> 0;
    c.rcvAdv = c.rcvNxt;
    return this.#tcp.output.emitSynAck(c);
  }

  /**
   * The ACK of a SYN-ACK: the connection, in SYN_RECEIVED, from the entry
   * or the cookie; the segment then completes it through normal input.
   */
  #establish(
    l: TcpConnection,
    seg: TcpSegment,
    now: number,
    e: SynCacheEntry<TcpConnection> | null,
    cookie: { mss: number; wscale: number; sackPermitted: boolean; timestamp: boolean } | null,
  ): TcpConnection | null {
    const tcp = this.#tcp;
    if (l.state !== TCPS.LISTEN || (l.acceptQueue?.length ?? 0) >= l.backlog) {
      l.listenOverflows++;
      tcp.output.respondReset(seg);
      return null;
    }
    const c = tcp.createChild(l, seg);
    if (c === null) return null;
    const six = seg.src.family === 6;
    if (e !== null) {
      c.iss = e.iss;
      c.irs = e.irs;
      c.peerMss = e.peerMss > 0 ? e.peerMss : six ? DEFAULT_MSS6 : DEFAULT_MSS4;
      c.wsOk = e.peerWscale >= 0;
      c.sndScale = c.wsOk ? e.peerWscale : 0;
      c.rcvScale = c.wsOk ? e.ourWscale : 0;
      c.sackOk = e.sackPermitted;
      c.tsOk = e.timestamp;
      c.tsRecent = e.tsRecent;
    } else {
      c.iss = (seg.ack - 1) >>> 0;
      c.irs = (seg.seq - 1) >>> 0;
      c.peerMss = cookie!.mss;
      c.wsOk = cookie!.wscale >= 0;
      c.sndScale = c.wsOk ? cookie!.wscale : 0;
      c.rcvScale = c.wsOk ? tcp.windowShiftFor(l) : 0;
      c.sackOk = cookie!.sackPermitted;
      c.tsOk = cookie!.timestamp;
      c.tsRecent = c.tsOk && seg.opts.timestamp ? seg.opts.tsVal : 0;
    }
    c.tsRecentAge = now;
    c.tsOffset = this.tsOffset(seg.dst, seg.dstPort, seg.src, seg.srcPort);
    c.rcvNxt = (c.irs + 1) >>> 0;
    // What the SYN-ACK told the peer: the window it offered (unscaled) and the ACK the
    // timestamp rule compares with (RFC 7323 §4.3), so the first segment's TSval is echoed.
    c.rcvAdv = (c.rcvNxt + Math.min(l.rcvBufSize, 0xffff)) >>> 0;
    c.lastAckSent = c.rcvNxt;
    c.sndUna = c.iss;
    c.sndNxt = c.sndMax = (c.iss + 1) >>> 0;
    c.sndWl1 = seg.seq;
    c.state = TCPS.SYN_RECEIVED;
    c.lastReceive = now;
    l.embryonic++;
    return c;
  }

  /** One stack timer runs the cache's SYN-ACK retransmissions. */
  #armTimer(): void {
    const tcp = this.#tcp;
    const t = this.#timer ??= tcp.ctx.timers.timer(() => {
      this.cache.expire(tcp.ctx.now(), this.#resend);
      this.#armTimer();
    });
    const at = this.cache.nextDeadline();
    if (at === Infinity) t.disarm();
    else if (!t.armed || t.deadline !== at) t.arm(at);
  }
}
