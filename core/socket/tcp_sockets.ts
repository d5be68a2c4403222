/**
 * The TCP sockets of one stack: the operations behind the socket calls
 * (NetBSD's `tcp_usrreq` with `in_pcbbind`/`in_pcbconnect`, `soaccept`,
 * `sosend`/`soreceive` for a stream), each returning null or an errno name.
 * {@linkcode TcpHandle} (the API edge) turns errors into `ErrnoError`s and
 * runs each call as a turn of the stack.
 *
 * Rules kept from BSD: bind checks the address is ours (EADDRNOTAVAIL),
 * reserved ports need privilege (EACCES), a taken port is EADDRINUSE;
 * listen's backlog is capped by `kern.somaxconn`; connect on a connected
 * socket is EISCONN, on a listener EOPNOTSUPP; write after shutdown is
 * EPIPE; close with unread data, or with `SO_LINGER` 0, resets the
 * connection (RFC 2525 §2.17) instead of a FIN.
 *
 * @module
 */

import { type Errno, ErrnoError } from "../errno.ts";
import { TcpHandle } from "./tcp_handle.ts";
import { normalizeSocketAddr, setWildcard } from "./sock_addr.ts";
import type { StackTurns } from "./udp_handle.ts";
import { Endpoint, IpAddr, type IpFamily } from "../net/inet_addr.ts";
import type { TcpPcbInfo, TcpPcbSource } from "../control/tcp_pcb_info.ts";
import { TCP_FLAG } from "../wire/tcp.ts";
import { createCongestion } from "../transport/tcp/congestion/registry.ts";
import { TCPS } from "../transport/tcp/state.ts";
import { TcpConnection } from "../transport/tcp/tcb.ts";
import { PortCounter, selectEphemeralPort } from "../transport/tcp/isn.ts";
import { TCP_RTO_MIN_MS, type TcpProtocol } from "../transport/tcp/tcp.ts";

/** Ports below this need a privileged opener. */
const IPPORT_RESERVED = 1024;

/** The socket options a TCP socket takes. */
export type TcpOption =
  | "SO_KEEPALIVE"
  | "TCP_NODELAY"
  | "SO_LINGER"
  | "SO_RCVBUF"
  | "SO_SNDBUF"
  | "SO_REUSEADDR"
  | "TCP_KEEPIDLE"
  | "TCP_KEEPINTVL"
  | "TCP_KEEPCNT"
  | "TCP_MAXSEG"
  | "IPV6_V6ONLY"
  | "SO_ERROR"
  | "SO_TYPE";

/** The TCP sockets of a stack and the operations on them. */
export class TcpSockets implements TcpPcbSource {
  readonly protocol: TcpProtocol;
  /** Every socket opened and not yet freed, oldest first. */
  readonly #open = new Set<TcpConnection>();
  readonly #turns: StackTurns;
  /** RFC 6056 Algorithm 3's counter, and the keyed offset connect chose for the bind it makes (-1: none). */
  readonly #ports = new PortCounter();
  #portOffset = -1;

  /** @param turns how calls from programs enter the stack (its `run`) */
  constructor(protocol: TcpProtocol, turns: StackTurns) {
    this.protocol = protocol;
    this.#turns = turns;
  }

  /**
   * A new TCP socket for a program: `privileged` callers may bind ports
   * below 1024 (the daemon says who is; an embedding program owns its stack).
   */
  open(family: IpFamily, opts: { privileged?: boolean } = {}): TcpHandle {
    if (family === 6 && this.protocol.net.ip6 === null) {
      throw new ErrnoError("EAFNOSUPPORT", "socket");
    }
    return new TcpHandle(this.#turns, this, this.create(family, opts.privileged ?? false));
  }

  /** A new socket (CLOSED) with the default buffer sizes. */
  create(family: IpFamily, privileged: boolean): TcpConnection {
    const s = this.protocol.settings;
    const c = new TcpConnection(family, privileged, s.sendspace, s.recvspace, TCP_RTO_MIN_MS);
    c.v6only = family === 6 ? this.protocol.ctx.sysctl.int("net.inet6.ip6.v6only") !== 0 : false;
    this.#open.add(c);
    return c;
  }

  /** Adopts a connection a listener made (on accept). */
  adopt(c: TcpConnection): void {
    this.#open.add(c);
  }

  /** Every socket, newest first (for tools). */
  list(): TcpConnection[] {
    return [...this.#open].reverse();
  }

  /** Every live control block for netstat, newest first (sockets, embryos, TIME_WAIT). */
  tcpPcbs(): TcpPcbInfo[] {
    const all = new Set<TcpConnection>(this.#open);
    for (const c of this.protocol.table.all()) all.add(c);
    const live = [...all].filter((c) => !c.dead).sort((a, b) => b.id - a.id);
    return live.map((c) => pcbInfo(c, this.protocol));
  }

  /** Brings `addr` into the socket's form (IPv4-mapped to IPv4 on a dual-stack socket). */
  normalize(c: TcpConnection, addr: IpAddr, out: IpAddr): Errno | null {
    return normalizeSocketAddr(c.family, c.v6only, addr, out);
  }

  /** `bind(addr, port)`: null address is the wildcard, port 0 an ephemeral one. */
  bind(c: TcpConnection, addr: IpAddr | null, port: number): Errno | null {
    if (c.dead) return "EBADF";
    if (c.bound || c.state !== TCPS.CLOSED) return "EINVAL";
    if (!Number.isInteger(port) || port < 0 || port > 65535) return "EINVAL";
    const a = this.protocol.scratchAddr;
    if (addr === null) setWildcard(c.family, a);
    else {
      const err = this.normalize(c, addr, a);
      if (err !== null) return err;
      if (a.family === 4 && a.v4 === 0 && c.family === 6) setWildcard(c.family, a);
    }
    if (!a.isUnspecified && !this.#isOurs(a)) return "EADDRNOTAVAIL";
    const table = this.protocol.table;
    if (port === 0) {
      const p = this.#ephemeral(c, a);
      if (typeof p !== "number") return p;
      port = p;
    } else {
      if (port < IPPORT_RESERVED && !c.privileged) return "EACCES";
      if (table.conflicts(c, a, port)) return "EADDRINUSE";
    }
    c.local.addr.set(a);
    c.local.port = port;
    table.bind(c);
    return null;
  }

  /** `listen(backlog)`: the socket takes connections (bound to an ephemeral port if unbound). */
  listen(c: TcpConnection, backlog: number): Errno | null {
    if (c.dead) return "EBADF";
    if (c.state === TCPS.LISTEN) {
      c.backlog = this.#backlog(backlog);
      return null;
    }
    if (c.state !== TCPS.CLOSED) return "EINVAL";
    if (!c.bound) {
      const err = this.bind(c, null, 0);
      if (err !== null) return err;
    }
    c.state = TCPS.LISTEN;
    c.acceptQueue = [];
    c.backlog = this.#backlog(backlog);
    return null;
  }

  /** Takes the oldest established connection off a listener's queue. */
  accept(l: TcpConnection): TcpConnection | Errno | null {
    if (l.dead) return "EBADF";
    if (l.state !== TCPS.LISTEN || l.acceptQueue === null) return "EINVAL";
    const c = l.acceptQueue.shift();
    if (c === undefined) return null;
    c.listener = null;
    this.adopt(c);
    return c;
  }

  /** `connect(addr, port)`: starts the handshake; completion and errors come as events. */
  connect(c: TcpConnection, addr: IpAddr, port: number): Errno | null {
    const tcp = this.protocol;
    if (c.dead) return "EBADF";
    if (c.state === TCPS.LISTEN) return "EOPNOTSUPP";
    if (c.state === TCPS.SYN_SENT) return "EALREADY";
    if (c.state !== TCPS.CLOSED) return "EISCONN";
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return "EADDRNOTAVAIL";
    const err = this.normalize(c, addr, c.remote.addr);
    if (err !== null) return err;
    if (c.remote.addr.isUnspecified || c.remote.addr.isMulticast) return "EADDRNOTAVAIL";
    if (c.remote.addr.family === 4 && this.#isBroadcast4(c.remote.addr.v4)) return "EADDRNOTAVAIL";
    c.remote.port = port;
    c.route.clear();
    const routeErr = tcp.routeTo(
      c.remote.addr,
      c.bound ? c.local.addr : c.remote.addr.family === 4 ? ANY4 : ANY6,
      c.route,
    );
    if (routeErr !== null) return routeErr;
    if (!c.bound) {
      // RFC 6056 Algorithm 3: the port search starts at a keyed hash of the 4-tuple plus a counter.
      const offset = tcp.listen.isn.ephemeralPortOffset(c.route.src, c.remote.addr, port);
      this.#portOffset = offset;
      const bindErr = this.bind(c, null, 0);
      this.#portOffset = -1;
      if (bindErr !== null) return bindErr;
    }
    if (c.local.addr.isUnspecified || c.local.addr.family !== c.remote.addr.family) {
      c.local.addr.set(c.route.src);
    }
    if (tcp.table.tupleInUse(c.local.addr, c.local.port, c.remote.addr, c.remote.port)) {
      return "EADDRINUSE";
    }
    tcp.table.insertConnection(c);
    c.error = null;
    tcp.handshake.activeOpen(c, tcp.ctx.now());
    return null;
  }

  /** Copies what fits of `data` into the send buffer and sends; the count taken (0: full or not yet connected). */
  write(c: TcpConnection, data: Uint8Array, from: number, len: number): number | Errno {
    const pending = takeError(c);
    if (pending !== null) return pending;
    if (c.dead || c.state === TCPS.CLOSED) return c.remote.port !== 0 ? "EPIPE" : "ENOTCONN";
    if (c.state === TCPS.LISTEN) return "ENOTCONN";
    if (c.finQueued) return "EPIPE";
    if (c.state === TCPS.SYN_SENT || c.state === TCPS.SYN_RECEIVED) return 0;
    const n = c.send.append(data, from, len);
    if (n > 0) {
      const tcp = this.protocol;
      const now = tcp.ctx.now();
      // RFC 5681 §4.1: after an idle period longer than an RTO, restart from the restart window.
      if (c.sndMax === c.sndUna && c.cc !== null && now - c.lastSend > c.rtt.rto) {
        c.cc.onIdleRestart(now);
      }
      tcp.output.output(c);
      tcp.autotuneSend(c);
    }
    return n;
  }

  /** Copies received bytes into `dst`; 0 when none now, -1 at the end of the stream. */
  read(c: TcpConnection, dst: Uint8Array, at: number, max: number): number | Errno {
    const recv = c.recv;
    const n = recv === null ? 0 : recv.take(dst, at, max);
    if (n > 0) {
      if (!c.dead) this.protocol.output.output(c); // a window update when the window opened enough
      return n;
    }
    const pending = takeError(c);
    if (pending !== null) return pending;
    if (c.rcvFinDone) return -1;
    if (c.dead) return c.remote.port !== 0 ? -1 : "ENOTCONN";
    if (c.state === TCPS.LISTEN || c.state === TCPS.CLOSED) return "ENOTCONN";
    return 0;
  }

  /** `shutdown(SHUT_WR)`: a FIN after the queued bytes. */
  shutdownWrite(c: TcpConnection): Errno | null {
    if (c.dead) return "ENOTCONN";
    switch (c.state) {
      case TCPS.CLOSED:
      case TCPS.LISTEN:
        return "ENOTCONN";
      case TCPS.SYN_SENT:
        this.protocol.close(c);
        return null;
      case TCPS.SYN_RECEIVED:
      case TCPS.ESTABLISHED:
        c.finQueued = true;
        c.state = TCPS.FIN_WAIT_1;
        break;
      case TCPS.CLOSE_WAIT:
        c.finQueued = true;
        c.state = TCPS.LAST_ACK;
        break;
      default:
        return null; // already shut
    }
    this.protocol.output.output(c);
    return null;
  }

  /** `close()`: a graceful close, or a reset (linger 0, unread data, a listener's queue). */
  close(c: TcpConnection): void {
    const tcp = this.protocol;
    c.onEvent = null;
    c.userClosed = true;
    this.#open.delete(c);
    if (c.dead) return;
    if (c.state === TCPS.LISTEN) {
      for (const child of c.acceptQueue ?? []) {
        child.listener = null;
        tcp.drop(child, "ECONNABORTED");
      }
      c.acceptQueue = null;
      tcp.close(c);
      return;
    }
    if (c.state === TCPS.CLOSED || c.state === TCPS.SYN_SENT) {
      tcp.close(c);
      return;
    }
    if (c.linger === 0 || c.readable > 0) {
      tcp.drop(c, "ECONNRESET");
      return;
    }
    this.shutdownWrite(c);
    if (c.state === TCPS.FIN_WAIT_2) tcp.timers.startKeep(c, tcp.ctx.now(), tcp.maxIdleMs(c));
  }

  /** Resets the connection at once (`SO_LINGER` 0 then close). */
  abort(c: TcpConnection): void {
    c.linger = 0;
    this.close(c);
  }

  /** Sets an option; EINVAL for a bad value. */
  setOption(c: TcpConnection, name: TcpOption, value: number): Errno | null {
    if (c.dead && name !== "SO_LINGER") return "EBADF";
    if (!Number.isInteger(value)) return "EINVAL";
    const on = value !== 0;
    const tcp = this.protocol;
    switch (name) {
      case "SO_KEEPALIVE":
        c.keepAlive = on;
        tcp.timers.restartKeepalive(c, tcp.ctx.now());
        return null;
      case "TCP_NODELAY":
        c.noDelay = on;
        if (on) tcp.output.output(c);
        return null;
      case "SO_LINGER":
        if (value < -1) return "EINVAL";
        c.linger = value;
        return null;
      case "SO_SNDBUF":
      case "SO_RCVBUF": {
        if (value <= 0) return "EINVAL";
        if (value > tcp.ctx.sysctl.int("kern.sbmax")) return "ENOBUFS";
        if (name === "SO_SNDBUF") {
          c.sndBufSize = value;
          c.send.limit = value;
          c.sndBufFixed = true;
        } else {
          c.rcvBufSize = value;
          c.rcvBufFixed = true;
          c.recv?.setCapacity(value);
        }
        return null;
      }
      case "SO_REUSEADDR":
        c.reuseAddr = on;
        return null;
      case "TCP_KEEPIDLE":
      case "TCP_KEEPINTVL":
        if (value <= 0) return "EINVAL";
        if (name === "TCP_KEEPIDLE") c.keepIdleMs = value * 1000;
        else c.keepIntvlMs = value * 1000;
        tcp.timers.restartKeepalive(c, tcp.ctx.now());
        return null;
      case "TCP_KEEPCNT":
        if (value <= 0) return "EINVAL";
        c.keepCnt = value;
        return null;
      case "TCP_MAXSEG":
        if (value < 64 || value > 65535) return "EINVAL";
        c.userMss = value;
        if (c.state >= TCPS.ESTABLISHED) tcp.updateMss(c);
        return null;
      case "IPV6_V6ONLY":
        if (c.family !== 6) return "ENOPROTOOPT";
        if (c.bound) return "EINVAL";
        c.v6only = on;
        return null;
      case "SO_ERROR":
      case "SO_TYPE":
        return "ENOPROTOOPT";
    }
  }

  /** Reads an option (SO_ERROR is answered by the handle, which knows the numbers). */
  getOption(c: TcpConnection, name: TcpOption): number | Errno {
    const tcp = this.protocol;
    switch (name) {
      case "SO_KEEPALIVE":
        return c.keepAlive ? 1 : 0;
      case "TCP_NODELAY":
        return c.noDelay ? 1 : 0;
      case "SO_LINGER":
        return c.linger;
      case "SO_SNDBUF":
        return c.sndBufSize;
      case "SO_RCVBUF":
        return c.rcvBufSize;
      case "SO_REUSEADDR":
        return c.reuseAddr ? 1 : 0;
      case "TCP_KEEPIDLE":
        return Math.round(tcp.keepIdleMs(c) / 1000);
      case "TCP_KEEPINTVL":
        return Math.round(tcp.keepIntervalMs(c) / 1000);
      case "TCP_KEEPCNT":
        return tcp.keepCount(c);
      case "TCP_MAXSEG":
        return c.state >= TCPS.ESTABLISHED ? c.maxSeg : c.userMss || tcp.settings.mssdflt;
      case "IPV6_V6ONLY":
        return c.family === 6 ? (c.v6only ? 1 : 0) : "ENOPROTOOPT";
      case "SO_TYPE":
        return 1; // SOCK_STREAM
      case "SO_ERROR":
        return 0;
    }
  }

  /** TCP_CONGESTION: the algorithm for this socket; ENOENT for an unknown name. */
  setCongestion(c: TcpConnection, name: string): Errno | null {
    const probe = createCongestion(name, { mss: c.maxSeg });
    if (probe === null) return "ENOENT";
    c.ccName = name;
    if (c.cc !== null) {
      c.cc = probe;
    }
    return null;
  }

  /** Sends a reset if synchronized and frees the connection at once. */
  reset(c: TcpConnection): void {
    if (c.dead) return;
    if (c.state >= TCPS.SYN_RECEIVED && c.state !== TCPS.TIME_WAIT) {
      this.protocol.output.sendControl(c, TCP_FLAG.RST | TCP_FLAG.ACK, c.sndNxt);
    }
    this.protocol.close(c);
  }

  #backlog(n: number): number {
    const max = this.protocol.ctx.sysctl.has("kern.somaxconn")
      ? this.protocol.ctx.sysctl.int("kern.somaxconn")
      : 128;
    if (!Number.isInteger(n) || n < 0) n = 0;
    // BSD: a backlog of 0 still takes one connection; beyond somaxconn is clamped.
    return Math.max(1, Math.min(n, max));
  }

  #isBroadcast4(a: number): boolean {
    if (a === 0xffffffff) return true;
    for (const i of this.protocol.ctx.interfaces()) {
      if (this.protocol.net.ip4.isBroadcast(a, i)) return true;
    }
    return false;
  }

  #isOurs(a: IpAddr): boolean {
    const net = this.protocol.net;
    if (a.family === 6) return net.ip6 !== null && net.ip6.isLocal(a.bytes);
    return net.ip4.isLocal(a.v4);
  }

  #ephemeral(c: TcpConnection, a: IpAddr): number | Errno {
    const sysctl = this.protocol.ctx.sysctl;
    const min = sysctl.int("net.inet.ip.anonportmin"), max = sysctl.int("net.inet.ip.anonportmax");
    // connect: RFC 6056's keyed offset; bind(port 0) and listen: a random one (no peer yet).
    const offset = this.#portOffset >= 0
      ? this.#portOffset
      : Math.floor(this.protocol.random() * 0x100000000);
    const table = this.protocol.table;
    const port = selectEphemeralPort(
      offset,
      min,
      max,
      this.#ports,
      (p) => !table.conflicts(c, a, p),
    );
    return port < 0 ? "EAGAIN" : port;
  }
}

/** The netstat view of one control block. */
function pcbInfo(c: TcpConnection, tcp: TcpProtocol): TcpPcbInfo {
  const remote = new Endpoint();
  if (c.remote.port === 0) setWildcard(c.family, remote.addr);
  else remote.set(c.remote);
  const cc = c.cc;
  return {
    family: c.family,
    local: c.local,
    remote,
    state: c.stateName,
    recvQ: c.readable,
    sendQ: c.send.length,
    pcb: c.id,
    cwnd: cc?.cwnd ?? 0,
    ssthresh: cc?.ssthresh ?? 0x3fffffff,
    srttMs: c.rtt.hasSample ? c.rtt.srtt : 0,
    rttvarMs: c.rtt.hasSample ? c.rtt.rttvar : 0,
    rtoMs: c.rtt.rto,
    retransmits: c.retransmits,
    sackHoles: tcp.sackHoles(c),
    sndWnd: c.sndWnd,
    rcvWnd: c.recv === null ? c.rcvBufSize : c.recv.window,
    mss: c.maxSeg,
    congestion: cc?.name ?? c.ccName ?? tcp.settings.congestion,
    limit: sendLimit(c, tcp),
  };
}

/** What limits the sender of `c` now: an unresolved next hop first, then what output found. */
function sendLimit(c: TcpConnection, tcp: TcpProtocol): TcpPcbInfo["limit"] {
  if (c.state !== TCPS.ESTABLISHED && c.state !== TCPS.CLOSE_WAIT) return "none";
  const resolved = tcp.net.neighbourResolved;
  if (resolved !== undefined && c.route.iface !== null && !resolved.call(tcp.net, c.route)) {
    return "neighbour";
  }
  return c.limit;
}

/** Takes the pending error of `c`, if any. */
function takeError(c: TcpConnection): Errno | null {
  const e = c.error;
  if (e !== null) c.error = null;
  return e;
}

const ANY4 = setWildcard(4, new IpAddr());
const ANY6 = setWildcard(6, new IpAddr());
