/**
 * TCP for both families (RFC 9293), registered in the stack's protocol
 * table: the demultiplexer from IP, the connection table, and the services
 * the per-concern modules share — route and MSS, initial sequence numbers,
 * the end of a connection, rate limits, and the sysctl knobs they read.
 *
 * The modules, by concern (gVisor's split, NetBSD's names):
 * `handshake.ts` (opening), `input.ts` (synchronized states),
 * `sender.ts` (ACKs, recovery, congestion), `receiver.ts` (text, FIN,
 * receive auto-tuning), `output.ts` (what to send, building segments),
 * `timers.ts`, with `tcb.ts` the control block, `tcp_table.ts` the lookup,
 * and `congestion/` the plug-ins. The socket calls are in
 * `core/socket/tcp_sockets.ts`.
 *
 * @example
 * ```ts ignore
 * const tcp = new TcpProtocol(ctx, net);
 * ctx.protocols.register(IPPROTO.TCP, [4, 6], tcp);
 * ```
 * @module
 */

import type { Errno } from "../../errno.ts";
import type { PacketBuffer } from "../../buf/packet_pool.ts";
import type { StackContext } from "../../stack_context.ts";
import type { NetError, NetHeader, TransportProtocol } from "../../net/protocols.ts";
import { IpAddr } from "../../net/inet_addr.ts";
import type { RouteOut } from "../../net/route_out.ts";
import type { Ip4SendOptions, Ipv4Layer } from "../../net/ipv4.ts";
import type { Ip6SendOptions, Ipv6Layer } from "../../net/ipv6.ts";
import { finishChecksum, sumWords } from "../../wire/checksum.ts";
import { TCP_FLAG, TCP_HEADER_LEN, TcpView } from "../../wire/tcp.ts";
import type { CongestionControl } from "./congestion/congestion.ts";
import { createCongestion } from "./congestion/registry.ts";
import { TcpHandshake } from "./handshake.ts";
import { TcpInput } from "./input.ts";
import { TcpOutput } from "./output.ts";
import { TcpReceiver } from "./receiver.ts";
import { TcpRecovery } from "./recovery.ts";
import { TcpListen } from "./listen.ts";
import { TcpSegment } from "./segment.ts";
import { TcpSender } from "./sender.ts";
import { TCPS } from "./state.ts";
import { TCP_EVENT, TcpConnection } from "./tcb.ts";
import { TcpTable } from "./tcp_table.ts";
import { TcpTimers } from "./timers.ts";
import { PpsRateLimit } from "./rate_limit.ts";

const IPPROTO_TCP = 6;
/** The minimum RTO (ms): Linux's 200 ms rather than RFC 6298's 1 s (RACK and TLP make early timeouts cheap to undo). */
export const TCP_RTO_MIN_MS = 200;

/** What TCP needs of the stack beyond {@linkcode StackContext}: the IP layers. */
export interface TcpNetwork {
  readonly ip4: Ipv4Layer;
  readonly ip6: Ipv6Layer | null;
  /** Whether the route's next hop has a link address now (netstat's "neighbour" limit). */
  neighbourResolved?(route: RouteOut): boolean;
}

/**
 * The `net.inet.tcp.*` knobs TCP reads, as plain fields of the stack's
 * tunables (kept current by the sysctl tree), in the forms TCP uses.
 */
export class TcpSettings {
  readonly #ctx: StackContext;
  constructor(ctx: StackContext) {
    this.#ctx = ctx;
  }
  get winScale(): boolean {
    const t = this.#ctx.tunables.tcp;
    return t.rfc1323 !== 0 && t.winScale !== 0;
  }
  get timestamps(): boolean {
    const t = this.#ctx.tunables.tcp;
    return t.rfc1323 !== 0 && t.timestamps !== 0;
  }
  get sack(): boolean {
    return this.#ctx.tunables.tcp.sackEnable !== 0;
  }
  get ackOnPush(): boolean {
    return this.#ctx.tunables.tcp.ackOnPush !== 0;
  }
  get dropSynFin(): boolean {
    return this.#ctx.tunables.tcp.dropSynfin !== 0;
  }
  get sendspace(): number {
    return this.#ctx.tunables.tcp.sendspace;
  }
  get recvspace(): number {
    return this.#ctx.tunables.tcp.recvspace;
  }
  get mssdflt(): number {
    return this.#ctx.tunables.tcp.mssdflt;
  }
  get recvbufAuto(): boolean {
    return this.#ctx.tunables.tcp.recvbufAuto !== 0;
  }
  get recvbufInc(): number {
    return this.#ctx.tunables.tcp.recvbufInc;
  }
  get recvbufMax(): number {
    return this.#ctx.tunables.tcp.recvbufMax;
  }
  get sendbufAuto(): boolean {
    return this.#ctx.tunables.tcp.sendbufAuto !== 0;
  }
  get sendbufInc(): number {
    return this.#ctx.tunables.tcp.sendbufInc;
  }
  get sendbufMax(): number {
    return this.#ctx.tunables.tcp.sendbufMax;
  }
  get initWin(): number {
    return this.#ctx.tunables.tcp.initWin;
  }
  get delackTicks(): number {
    return this.#ctx.tunables.tcp.delackTicks;
  }
  /** Half-second ticks (`slowhz` 2), as NetBSD keeps keepidle/keepintvl/keepinit. */
  get keepidle(): number {
    return this.#ctx.tunables.tcp.keepidle;
  }
  get keepintvl(): number {
    return this.#ctx.tunables.tcp.keepintvl;
  }
  get keepcnt(): number {
    return this.#ctx.tunables.tcp.keepcnt;
  }
  get keepinit(): number {
    return this.#ctx.tunables.tcp.keepinit;
  }
  get rstppslimit(): number {
    return this.#ctx.tunables.tcp.rstppslimit;
  }
  /** RFC 5961 challenge ACKs per second. */
  get ackdropppslimit(): number {
    return this.#ctx.tunables.tcp.ackdropppslimit;
  }
  get doLoopbackCksum(): number {
    return this.#ctx.tunables.tcp.doLoopbackCksum;
  }
  /** Maximum segment lifetime, seconds. */
  get msl(): number {
    return this.#ctx.tunables.tcp.msl;
  }
  /** The congestion control new connections get. */
  get congestion(): string {
    return this.#ctx.tunables.tcp.congctl;
  }
  /** `-p tcpip somaxconn`: the longest listen queue. */
  get somaxconn(): number {
    return this.#ctx.config.somaxconn;
  }
}

/** TCP, registered for both families; holds the stack's connections. */
export class TcpProtocol implements TransportProtocol {
  readonly name = "tcp";
  readonly ctx: StackContext;
  readonly net: TcpNetwork;
  readonly table: TcpTable = new TcpTable();
  readonly settings: TcpSettings;
  readonly output: TcpOutput;
  /** Input for connections past the handshake (input.ts). */
  readonly synchronizedInput: TcpInput;
  readonly handshake: TcpHandshake;
  readonly sender: TcpSender;
  readonly receiver: TcpReceiver;
  readonly timers: TcpTimers;
  readonly recovery: TcpRecovery;
  #listen: TcpListen;
  #random: () => number = Math.random;
  /** `net.inet.tcp.do_loopback_cksum`, read once per turn of input. */
  doLoopbackChecksum = 0;

  readonly #view = new TcpView();
  readonly #seg = new TcpSegment();
  readonly #opts4: Ip4SendOptions = { src: null };
  readonly #opts6: Ip6SendOptions = { src: null };
  readonly #scratch = new IpAddr();
  /** Connections input wants output from, served once at the end of the turn. */
  readonly #pending: TcpConnection[] = [];
  /** `rstppslimit` and `ackdropppslimit` (their limits follow the sysctls at each use). */
  readonly #resets = new PpsRateLimit(-1);
  readonly #challenges = new PpsRateLimit(-1);

  constructor(ctx: StackContext, net: TcpNetwork) {
    this.ctx = ctx;
    this.net = net;
    this.settings = new TcpSettings(ctx);
    this.output = new TcpOutput(this);
    this.synchronizedInput = new TcpInput(this);
    this.handshake = new TcpHandshake(this);
    this.sender = new TcpSender(this);
    this.receiver = new TcpReceiver(this);
    this.timers = new TcpTimers(this);
    this.recovery = new TcpRecovery(this);
    const secret = new Uint8Array(16);
    crypto.getRandomValues(secret);
    this.#listen = new TcpListen(this, secret);
    this.doLoopbackChecksum = this.settings.doLoopbackCksum;
  }

  /** The listeners' SYN cache, cookies and keyed numbers. */
  get listen(): TcpListen {
    return this.#listen;
  }

  /** Random numbers in [0, 1): ephemeral port starts, and the secret keying ISNs and cookies. */
  get random(): () => number {
    return this.#random;
  }

  /**
   * Replaces the random source (tests and simulations seed it, so runs repeat):
   * the secret behind ISNs, timestamp offsets, SYN cookies and the SYN cache
   * is drawn from it anew (the SYN cache starts empty).
   */
  set random(fn: () => number) {
    this.#random = fn;
    const secret = new Uint8Array(16);
    for (let i = 0; i < 16; i++) secret[i] = Math.floor(fn() * 256);
    this.#listen = new TcpListen(this, secret);
  }

  // -------------------------------------------------------------------------
  // Input

  /** One segment for this node. */
  input(h: NetHeader): void {
    const ctx = this.ctx, st = ctx.stats.tcp;
    st.rcvtotal++;
    const v = this.#view;
    const err = v.wrap(h.bytes, h.offset, h.length);
    if (err !== null) {
      if (err === "tooshort") st.rcvshort++;
      else st.rcvbadoff++;
      return;
    }
    if (h.toGroup) return; // TCP is unicast only (RFC 1122 §4.2.3.10)
    this.doLoopbackChecksum = this.settings.doLoopbackCksum;
    if (
      !(h.viaLoopback && this.doLoopbackChecksum === 0) &&
      finishChecksum(sumWords(h.bytes, h.offset, h.offset + h.length, h.pseudoSum())) !== 0
    ) {
      st.rcvbadsum++;
      return;
    }
    const seg = this.#seg;
    seg.family = h.family;
    h.copySource(seg.src);
    h.copyDestination(seg.dst);
    seg.srcPort = v.srcPort;
    seg.dstPort = v.dstPort;
    seg.seq = v.seq;
    seg.ack = v.ack;
    seg.flags = v.flags;
    seg.window = v.window;
    seg.optionsOk = v.optionsLength === 0 || v.parseOptions(seg.opts) === null;
    if (v.optionsLength === 0) seg.opts.reset();
    seg.bytes = h.bytes;
    seg.dataOffset = v.payloadOffset;
    seg.dataLength = v.payloadLength;
    seg.iface = h.iface;
    const now = ctx.now();
    const c = this.table.lookupConnection(seg.dst, seg.dstPort, seg.src, seg.srcPort);
    if (c !== null) {
      if (c.state === TCPS.SYN_SENT) this.handshake.synSentInput(c, seg, now);
      else this.synchronizedInput.segmentArrives(c, seg, now);
      return;
    }
    const l = this.table.lookupListener(seg.family, seg.dst, seg.dstPort);
    if (l !== null) {
      this.listen.input(l, seg, now);
      return;
    }
    st.noport++;
    this.output.respondReset(seg);
  }

  /**
   * An ICMP error about a segment we sent (NetBSD's `tcp_ctlinput`): a
   * smaller path MTU shrinks the MSS and resends; hard errors before the
   * connection is up end it once retransmissions showed the peer is not
   * answering; otherwise the error is kept as the soft error a timeout reports.
   */
  controlInput(e: NetError): void {
    if (e.length < 8) return;
    const b = e.bytes, at = e.offset + 4;
    const seq = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
    const c = this.table.lookupConnection(e.src, e.srcPort, e.dst, e.dstPort);
    if (c === null) {
      if (e.errno !== null && e.kind === "unreach") {
        this.listen.unreach(e.src, e.srcPort, e.dst, e.dstPort, seq);
      }
      return;
    }
    // RFC 5927 §4.1: the quoted sequence number must be one in flight.
    if (((seq - c.sndUna) | 0) < 0 || ((seq - c.sndMax) | 0) > 0) return;
    if (e.kind === "needfrag") {
      c.route.clear();
      const before = c.maxSeg;
      this.updateMss(c);
      if (c.maxSeg < before && c.loss !== null) {
        // tcp_mtudisc: what is in flight is resent at the new size.
        c.loss.segs.resetAfterRto();
        this.output.output(c);
      }
      return;
    }
    if (e.errno === null) return;
    if (
      c.state === TCPS.ESTABLISHED &&
      (e.errno === "EHOSTUNREACH" || e.errno === "ENETUNREACH" || e.errno === "EHOSTDOWN")
    ) return; // transient on an established connection (RFC 1122 §4.2.3.9)
    if (c.state < TCPS.ESTABLISHED && c.rexmtShift > 3 && c.softError !== null) {
      this.drop(c, e.errno);
      return;
    }
    c.softError = e.errno;
  }

  /**
   * Output for `c` once the current turn's input is done: a batch of
   * segments from the driver gets one answer (one ACK for many segments, as
   * Linux's GRO gives; one burst of data for many ACKs).
   */
  outputLater(c: TcpConnection): void {
    if (c.outputPending) return;
    c.outputPending = true;
    this.#pending.push(c);
  }

  /** Runs the output input deferred (the stack calls it as a turn ends); whether any ran. */
  flushPending(): boolean {
    const q = this.#pending;
    if (q.length === 0) return false;
    for (let i = 0; i < q.length; i++) {
      const c = q[i];
      c.outputPending = false;
      if (!c.dead) this.output.output(c);
    }
    q.length = 0;
    return true;
  }

  /** Whether output waits for the end of the turn. */
  get outputWaiting(): boolean {
    return this.#pending.length > 0;
  }

  // -------------------------------------------------------------------------
  // Route, MSS, sending

  /** Fills `c.route` unless the cached answer still holds. */
  routeFor(c: TcpConnection): Errno | null {
    if (c.route.isCurrent(this.ctx.routeGeneration)) return null;
    return this.routeTo(c.remote.addr, c.local.addr, c.route);
  }

  /** Looks up the route to `dst` from our address `src` (unspecified: chosen). */
  routeTo(dst: IpAddr, src: IpAddr, out: RouteOut): Errno | null {
    let err: Errno | null;
    if (dst.family === 4) {
      err = this.net.ip4.route(
        dst.v4,
        null,
        src.family === 4 && !src.isUnspecified ? src.v4 : null,
        out,
      );
    } else {
      if (this.net.ip6 === null) return "EAFNOSUPPORT";
      err = this.net.ip6.route(
        dst.bytes,
        dst.zone || undefined,
        null,
        src.family === 6 && !src.isUnspecified ? src.bytes : null,
        out,
      );
    }
    if (err !== null) out.clear();
    return err;
  }

  /** Hands a built segment to IP. */
  sendPacket(pkt: PacketBuffer, route: RouteOut, dst: IpAddr): Errno | null {
    if (dst.family === 4) {
      // RFC 1191: segments go with DF while path MTU discovery is on (net.inet.ip.mtudisc).
      this.#opts4.df = this.ctx.tunables.ip.mtudisc !== 0;
      return this.net.ip4.outputRouted(pkt, dst.v4, IPPROTO_TCP, route, this.#opts4);
    }
    return this.net.ip6!.outputRouted(pkt, dst.bytes, IPPROTO_TCP, route, this.#opts6);
  }

  /** An output failure: errors that mean "no way there" are kept for a timeout to report. */
  outputFailed(c: TcpConnection, err: Errno): void {
    c.softError = err;
  }

  /** The MSS we advertise: the route's interface MTU less the headers (NetBSD's tcp_mss_to_advertise). */
  mssToAdvertise(c: TcpConnection): number {
    const iface = c.route.iface;
    const hdrs = (c.remote.addr.family === 4 ? 20 : 40) + TCP_HEADER_LEN;
    const mtu = iface ? iface.mtu : 0;
    let mss = mtu > hdrs ? mtu - hdrs : this.settings.mssdflt;
    if (c.userMss > 0 && c.userMss < mss) mss = c.userMss;
    return Math.min(mss, 0xffff);
  }

  /** The send MSS: path MTU and peer's MSS, less the timestamp option when used. */
  updateMss(c: TcpConnection): void {
    this.routeFor(c);
    const hdrs = (c.remote.addr.family === 4 ? 20 : 40) + TCP_HEADER_LEN;
    const mtu = c.route.mtu || (c.route.iface?.mtu ?? 0);
    let mss = mtu > hdrs ? mtu - hdrs : this.settings.mssdflt;
    if (c.peerMss > 0 && c.peerMss < mss) mss = c.peerMss;
    if (c.userMss > 0 && c.userMss < mss) mss = c.userMss;
    if (c.tsOk) mss -= 12;
    c.maxSeg = Math.max(mss, 64);
    c.cc?.setMss(c.maxSeg);
  }

  /** Our window shift: enough for the largest receive buffer the connection may grow to (RFC 7323 §2.3). */
  windowShiftFor(c: TcpConnection): number {
    const s = this.settings;
    const most = Math.max(c.rcvBufSize, s.recvbufAuto && !c.rcvBufFixed ? s.recvbufMax : 0);
    let shift = 0;
    while (shift < 14 && (0xffff << shift) < most) shift++;
    return shift;
  }

  /** The initial sequence number (RFC 6528: a clock plus a keyed hash of the 4-tuple). */
  initialSequence(c: TcpConnection, now: number): number {
    const l = this.listen;
    c.tsOffset = l.tsOffset(c.local.addr, c.local.port, c.remote.addr, c.remote.port);
    return l.isn.isn(c.local.addr, c.local.port, c.remote.addr, c.remote.port, now);
  }

  /** A congestion controller for a connection entering ESTABLISHED. */
  createCongestion(c: TcpConnection): CongestionControl {
    const name = c.ccName ?? this.settings.congestion;
    const initWin = this.settings.initWin;
    return createCongestion(name, {
      mss: c.maxSeg,
      initialWindowSegments: initWin > 0 ? initWin : undefined,
    }) ??
      createCongestion("newreno", { mss: c.maxSeg })!;
  }

  /** The smallest RTT seen (0 before a sample). */
  minRtt(c: TcpConnection): number {
    return c.rtt.hasSample ? c.rtt.minSample : 0;
  }

  /** A new connection in SYN_RECEIVED for a listener's SYN; null when none can be made. */
  createChild(l: TcpConnection, seg: TcpSegment): TcpConnection | null {
    const c = new TcpConnection(l.family, l.privileged, l.sndBufSize, l.rcvBufSize, TCP_RTO_MIN_MS);
    c.sndBufFixed = l.sndBufFixed;
    c.rcvBufFixed = l.rcvBufFixed;
    c.noDelay = l.noDelay;
    c.keepAlive = l.keepAlive;
    c.linger = l.linger;
    c.keepIdleMs = l.keepIdleMs;
    c.keepIntvlMs = l.keepIntvlMs;
    c.keepCnt = l.keepCnt;
    c.userMss = l.userMss;
    c.ccName = l.ccName;
    c.local.addr.set(seg.dst);
    c.local.port = seg.dstPort;
    c.remote.addr.set(seg.src);
    c.remote.port = seg.srcPort;
    c.listener = l;
    if (this.routeFor(c) !== null) return null;
    this.table.insertConnection(c);
    return c;
  }

  // -------------------------------------------------------------------------
  // The end of a connection

  /** Enters TIME_WAIT (2·MSL). */
  enterTimeWait(c: TcpConnection, now: number): void {
    c.state = TCPS.TIME_WAIT;
    // Nothing more will be sent; what the reader has not taken stays readable.
    c.send.shrinkIfEmpty();
    this.timers.startTimeWait(c, now);
    c.post(TCP_EVENT.CLOSED, this.ctx.wakes);
  }

  /**
   * Drops a connection with an error (NetBSD's `tcp_drop`): a reset goes to
   * the peer when the connection was synchronized and `reset` allows.
   */
  drop(c: TcpConnection, err: Errno, reset = true): void {
    const st = this.ctx.stats.tcp;
    if (c.state >= TCPS.SYN_RECEIVED && c.state !== TCPS.TIME_WAIT && reset) {
      this.output.sendControl(c, TCP_FLAG.RST | TCP_FLAG.ACK, c.sndNxt);
    }
    if (c.state >= TCPS.ESTABLISHED) st.drops++;
    else st.conndrops++;
    c.error = err;
    c.post(TCP_EVENT.ERROR, this.ctx.wakes);
    this.close(c);
  }

  /** Frees a connection (NetBSD's `tcp_close`): out of the tables, timers stopped. */
  close(c: TcpConnection): void {
    if (c.dead) return;
    this.timers.stopAll(c);
    if (c.state !== TCPS.CLOSED && c.state !== TCPS.LISTEN && c.remote.port !== 0) {
      this.table.removeConnection(c);
    }
    if (c.state === TCPS.SYN_SENT || c.state === TCPS.SYN_RECEIVED) {
      if (c.listener !== null) c.listener.embryonic--;
    }
    const l = c.listener;
    if (l !== null && l.acceptQueue !== null) {
      const i = l.acceptQueue.indexOf(c);
      if (i >= 0) l.acceptQueue.splice(i, 1);
    }
    c.listener = null;
    if (c.state === TCPS.LISTEN) this.listen.removeListener(c);
    else this.ctx.stats.tcp.closed++;
    c.state = TCPS.CLOSED;
    this.table.unbind(c);
    c.dead = true;
    c.post(TCP_EVENT.CLOSED | TCP_EVENT.READABLE | TCP_EVENT.WRITABLE, this.ctx.wakes);
  }

  // -------------------------------------------------------------------------
  // Rate limits and defences

  /** RFC 5961 §7: a challenge ACK, at most `ackdropppslimit` per second. */
  challengeAck(c: TcpConnection): void {
    const st = this.ctx.stats.tcp;
    this.#challenges.limit = this.settings.ackdropppslimit;
    if (!this.#challenges.allow(this.ctx.now())) {
      st.challenge_ack_limited++;
      return;
    }
    st.challenge_ack++;
    this.output.sendControl(c, TCP_FLAG.ACK, c.sndNxt);
  }

  /** Whether a reset may go out now (`rstppslimit` per second; negative: unlimited). */
  allowReset(): boolean {
    this.#resets.limit = this.settings.rstppslimit;
    return this.#resets.allow(this.ctx.now());
  }

  // -------------------------------------------------------------------------
  // Buffers and timer lengths

  /**
   * Send-buffer auto-tuning (`net.inet.tcp.sendbuf_auto`): while the
   * congestion window could use more than the buffer holds, the buffer
   * grows (doubling, at least `sendbuf_inc`) up to `sendbuf_max`.
   */
  autotuneSend(c: TcpConnection): void {
    const s = this.settings;
    if (c.sndBufFixed || c.cc === null || !s.sendbufAuto) return;
    const limit = c.send.limit;
    if (c.cc.cwnd * 2 <= limit || limit >= s.sendbufMax) return;
    const next = Math.min(s.sendbufMax, Math.max(limit * 2, limit + s.sendbufInc));
    c.send.limit = next;
    c.sndBufSize = next;
  }

  /** The delayed-ACK time: `delack_ticks` at 100 Hz, 0 meaning NetBSD's default of hz/5 (200 ms). */
  delayedAckMs(): number {
    const t = this.settings.delackTicks;
    return t > 0 ? t * 10 : 200;
  }

  /** Keepalive idle time (TCP_KEEPIDLE, else `keepidle` half-seconds). */
  keepIdleMs(c: TcpConnection): number {
    return c.keepIdleMs > 0 ? c.keepIdleMs : this.settings.keepidle * 500;
  }

  /** Time between keepalive probes. */
  keepIntervalMs(c: TcpConnection): number {
    return c.keepIntvlMs > 0 ? c.keepIntvlMs : this.settings.keepintvl * 500;
  }

  /** Keepalive probes before the connection is dropped. */
  keepCount(c: TcpConnection): number {
    return c.keepCnt > 0 ? c.keepCnt : this.settings.keepcnt;
  }

  /** How long a connection may take to open (`keepinit`, default 75 s). */
  keepInitMs(): number {
    return this.settings.keepinit * 500;
  }

  /** How long FIN_WAIT_2 may idle after close (NetBSD's tcp_maxidle: keepcnt × keepintvl). */
  maxIdleMs(c: TcpConnection): number {
    return this.keepCount(c) * this.keepIntervalMs(c);
  }

  /** The maximum segment lifetime (`net.inet.tcp.msl` seconds, NetBSD's 30 s by default). */
  mslMs(): number {
    return this.settings.msl * 1000;
  }

  /** Holes in the SACK scoreboard of `c` (netstat's verbose form). */
  sackHoles(c: TcpConnection): number {
    return c.loss === null ? 0 : c.loss.segs.holes;
  }

  /** A scratch address for callers that need one briefly. */
  get scratchAddr(): IpAddr {
    return this.#scratch;
  }
}
