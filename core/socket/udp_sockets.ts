/**
 * The UDP sockets of one stack: the operations behind the socket calls
 * (NetBSD's `udp_usrreq` with `in_pcbbind`, `in_pcbconnect`, `ip_setmoptions`
 * and friends), each returning null or an errno name. Nothing here throws;
 * {@linkcode UdpHandle} (the API edge) turns the errno into an `ErrnoError`
 * and runs each call as a turn of the stack.
 *
 * Rules kept from NetBSD: a bound socket cannot bind again (EINVAL); the
 * address must be one of ours, a broadcast or a multicast address
 * (EADDRNOTAVAIL); ports below 1024 need a privileged opener (EACCES); a
 * taken endpoint is EADDRINUSE; an ephemeral port comes from
 * `net.inet.ip.anonportmin..anonportmax` (EAGAIN when none is free);
 * `connect` on a connected socket is EISCONN, `disconnect` on an unconnected
 * one ENOTCONN; `SO_RCVBUF`/`SO_SNDBUF` beyond `kern.sbmax` are ENOBUFS; a
 * datagram longer than `SO_SNDBUF` (default `net.inet.udp.sendspace`, 9216)
 * is EMSGSIZE, as `sosend` says for atomic protocols.
 *
 * @module
 */

import { type Errno, ErrnoError } from "../errno.ts";
import { Endpoint, IpAddr, type IpFamily } from "../net/inet_addr.ts";
import type { UdpProtocol } from "../transport/udp.ts";
import { normalizeSocketAddr, setWildcard } from "./sock_addr.ts";
import { type UdpOption, UdpSocket } from "./udp_socket.ts";
import { type StackTurns, UdpHandle } from "./udp_handle.ts";

/** Ports below this need a privileged opener. */
export const IPPORT_RESERVED = 1024;

/** The UDP sockets of a stack and the operations on them. */
export class UdpSockets {
  readonly protocol: UdpProtocol;
  /** Random numbers in [0, 1) for ephemeral port starts (replaceable for tests). */
  random: () => number = Math.random;
  readonly #scratch = new IpAddr();

  readonly #turns: StackTurns;
  /** Every open socket, bound or not, oldest first (NetBSD's `inpt_queue`, walked backwards). */
  readonly #open = new Set<UdpSocket>();

  /** @param turns how calls from programs enter the stack (its `run`) */
  constructor(protocol: UdpProtocol, turns: StackTurns) {
    this.protocol = protocol;
    this.#turns = turns;
  }

  /**
   * A new UDP socket for a program: `family` 4 or 6; `privileged` callers may
   * bind ports below 1024 (the daemon says who is; an embedding program owns
   * its stack and is).
   */
  open(family: IpFamily, opts: { privileged?: boolean } = {}): UdpHandle {
    if (family === 6 && this.protocol.net.ip6 === null) {
      throw new ErrnoError("EAFNOSUPPORT", "socket");
    }
    return new UdpHandle(this.#turns, this, this.create(family, opts.privileged ?? false));
  }

  /** A new, unbound socket with the default buffer sizes. */
  create(family: IpFamily, privileged: boolean): UdpSocket {
    const sysctl = this.protocol.ctx.sysctl;
    const s = new UdpSocket(
      family,
      privileged,
      sysctl.int("net.inet.udp.sendspace"),
      sysctl.int("net.inet.udp.recvspace"),
    );
    this.#open.add(s);
    return s;
  }

  /**
   * Every open socket, bound or not, newest first: the order NetBSD's pcb
   * list gives `netstat` (`in_pcballoc` inserts at the head of the queue).
   * A snapshot, for tools; not for the data path.
   */
  list(): UdpSocket[] {
    return [...this.#open].reverse();
  }

  /** Open sockets in the port table (bound ones). */
  get bound(): number {
    return this.protocol.table.size;
  }

  /**
   * Brings `addr` into the form the socket keeps (IPv4-mapped to IPv4 for a
   * dual-stack IPv6 socket) in `out`; EAFNOSUPPORT or EINVAL when the family
   * does not fit the socket.
   */
  normalize(s: UdpSocket, addr: IpAddr, out: IpAddr): Errno | null {
    return normalizeSocketAddr(s.family, s.v6only, addr, out);
  }

  /** `bind(addr, port)`; `addr` null: the wildcard; port 0: an ephemeral one. */
  bind(s: UdpSocket, addr: IpAddr | null, port: number): Errno | null {
    if (s.closed) return "EBADF";
    if (s.local.port !== 0) return "EINVAL";
    if (!Number.isInteger(port) || port < 0 || port > 65535) return "EINVAL";
    const a = this.#scratch;
    if (addr === null) setWildcard(s.family, a);
    else {
      const err = this.normalize(s, addr, a);
      if (err !== null) return err;
      if (a.family === 4 && a.v4 === 0 && s.family === 6) setWildcard(s.family, a); // ::ffff:0.0.0.0
    }
    if (!a.isUnspecified && !a.isMulticast && !this.#isOurs(a)) return "EADDRNOTAVAIL";
    const table = this.protocol.table;
    if (port === 0) {
      const p = this.#ephemeral(s, a);
      if (typeof p !== "number") return p;
      port = p;
    } else {
      if (port < IPPORT_RESERVED && !s.privileged) return "EACCES";
      if (table.conflicts(s, a, port)) return "EADDRINUSE";
    }
    s.local.addr.set(a);
    s.local.port = port;
    s.boundAddr.set(a);
    table.insert(s);
    return null;
  }

  /** Binds an unbound socket to the wildcard and an ephemeral port (before a send or connect). */
  bindEphemeral(s: UdpSocket): Errno | null {
    return s.local.port !== 0 ? null : this.bind(s, null, 0);
  }

  /** `connect(addr, port)`: fixes the peer and, when unbound, the local address from the route. */
  connect(s: UdpSocket, addr: IpAddr, port: number): Errno | null {
    if (s.closed) return "EBADF";
    if (s.connected) return "EISCONN";
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return "EADDRNOTAVAIL";
    const to = new Endpoint();
    const err = this.normalize(s, addr, to.addr);
    if (err !== null) return err;
    if (to.addr.isUnspecified) return "EADDRNOTAVAIL";
    to.port = port;
    const bindErr = this.bindEphemeral(s);
    if (bindErr !== null) return bindErr;
    const routeErr = this.protocol.routeFor(s, to);
    if (routeErr !== null) return routeErr;
    const table = this.protocol.table;
    table.remove(s);
    if (s.local.addr.isUnspecified || s.local.addr.family !== to.addr.family) {
      s.local.addr.set(s.route.src);
    }
    s.remote.set(to);
    s.connected = true;
    s.error = null;
    table.insert(s);
    return null;
  }

  /** Forgets the peer; the local address goes back to what `bind` gave. */
  disconnect(s: UdpSocket): Errno | null {
    if (s.closed) return "EBADF";
    if (!s.connected) return "ENOTCONN";
    const table = this.protocol.table;
    table.remove(s);
    s.connected = false;
    s.remote.port = 0;
    setWildcard(s.family, s.remote.addr);
    s.local.addr.set(s.boundAddr);
    s.route.clear();
    table.insert(s);
    return null;
  }

  /**
   * Sends `data` to `addr`:`port` (null: the connected peer). Reports and
   * clears a pending error first, as `sosend` does.
   */
  send(s: UdpSocket, data: Uint8Array, addr: IpAddr | null, port: number): Errno | null {
    if (s.closed) return "EBADF";
    const pending = s.error;
    if (pending !== null) {
      s.error = null;
      return pending;
    }
    const to = this.protocol.scratchTarget;
    if (addr !== null) {
      if (s.connected) return "EISCONN";
      const err = this.normalize(s, addr, to.addr);
      if (err !== null) return err;
      if (!Number.isInteger(port) || port <= 0 || port > 65535) return "EADDRNOTAVAIL";
      to.port = port;
    } else {
      if (!s.connected) return "ENOTCONN";
      to.set(s.remote);
    }
    const bindErr = this.bindEphemeral(s);
    if (bindErr !== null) return bindErr;
    return this.protocol.output(s, data, to);
  }

  /** Closes `s`: out of the table, groups left, queue dropped. */
  close(s: UdpSocket): void {
    if (s.closed) return;
    this.protocol.table.remove(s);
    const groups = this.protocol.ctx.groups;
    for (const g of s.groups) groups.leave(g.ifIndex, g.group);
    s.groups.length = 0;
    s.clearQueue();
    this.#open.delete(s);
    s.closed = true;
    s.onWake = null;
  }

  /**
   * Joins `group` on interface `ifIndex` (0: the one the routing table
   * gives for the group). EADDRNOTAVAIL without such an interface or for a
   * group joined already, EINVAL for an address that is no group.
   */
  joinGroup(s: UdpSocket, group: IpAddr, ifIndex: number): Errno | null {
    if (s.closed) return "EBADF";
    const g = new IpAddr();
    const err = this.normalize(s, group, g);
    if (err !== null) return err;
    if (!g.isMulticast) return "EINVAL";
    const index = this.#groupInterface(g, ifIndex);
    if (typeof index !== "number") return index;
    if (s.groups.some((j) => j.ifIndex === index && j.group.equals(withZone(g, index)))) {
      return "EADDRINUSE";
    }
    s.groups.push({ group: withZone(g, index).clone(), ifIndex: index });
    this.protocol.ctx.groups.join(index, g);
    return null;
  }

  /** Leaves a group joined with {@linkcode joinGroup}; EADDRNOTAVAIL when it was not. */
  leaveGroup(s: UdpSocket, group: IpAddr, ifIndex: number): Errno | null {
    if (s.closed) return "EBADF";
    const g = new IpAddr();
    const err = this.normalize(s, group, g);
    if (err !== null) return err;
    const index = this.#groupInterface(g, ifIndex);
    if (typeof index !== "number") return index;
    const i = s.groups.findIndex((j) => j.ifIndex === index && j.group.equals(withZone(g, index)));
    if (i < 0) return "EADDRNOTAVAIL";
    s.groups.splice(i, 1);
    this.protocol.ctx.groups.leave(index, g);
    return null;
  }

  /** Sets an option; EINVAL for a bad value, ENOPROTOOPT for one of the other family. */
  setOption(s: UdpSocket, name: UdpOption, value: number): Errno | null {
    if (s.closed) return "EBADF";
    if (!Number.isInteger(value)) return "EINVAL";
    const v4opt = name.startsWith("IP_"), v6opt = name.startsWith("IPV6_");
    if ((v4opt && s.family !== 4) || (v6opt && s.family !== 6)) return "ENOPROTOOPT";
    const on = value !== 0;
    switch (name) {
      case "SO_REUSEADDR":
        s.reuseAddr = on;
        return null;
      case "SO_REUSEPORT":
        s.reusePort = on;
        return null;
      case "SO_BROADCAST":
        s.broadcast = on;
        return null;
      case "SO_SNDBUF":
      case "SO_RCVBUF": {
        if (value <= 0) return "EINVAL";
        if (value > this.protocol.ctx.sysctl.int("kern.sbmax")) return "ENOBUFS";
        if (name === "SO_SNDBUF") s.sndbuf = value;
        else s.rcvbuf = value;
        return null;
      }
      case "IP_TTL":
      case "IPV6_UNICAST_HOPS":
        if (value < -1 || value > 255) return "EINVAL";
        s.ttl = value;
        return null;
      case "IP_TOS":
        if (value < 0 || value > 255) return "EINVAL";
        s.tos = value;
        return null;
      case "IP_MULTICAST_TTL":
      case "IPV6_MULTICAST_HOPS":
        if (value < -1 || value > 255) return "EINVAL";
        s.multicastTtl = value === -1 ? 1 : value;
        return null;
      case "IP_MULTICAST_LOOP":
      case "IPV6_MULTICAST_LOOP":
        s.multicastLoop = on;
        return null;
      case "IP_MULTICAST_IF":
      case "IPV6_MULTICAST_IF":
        if (value !== 0 && !this.protocol.ctx.interfaceByIndex(value)) return "EADDRNOTAVAIL";
        s.multicastIf = value;
        s.route.clear();
        return null;
      case "IPV6_V6ONLY":
        if (s.local.port !== 0) return "EINVAL"; // fixed once bound
        s.v6only = on;
        return null;
      case "SO_ERROR":
      case "SO_TYPE":
        return "ENOPROTOOPT";
    }
  }

  /** Reads an option; `SO_ERROR` returns the pending error's number and clears it. */
  getOption(s: UdpSocket, name: UdpOption): number | Errno {
    const v4opt = name.startsWith("IP_"), v6opt = name.startsWith("IPV6_");
    if ((v4opt && s.family !== 4) || (v6opt && s.family !== 6)) return "ENOPROTOOPT";
    const ctx = this.protocol.ctx;
    switch (name) {
      case "SO_REUSEADDR":
        return s.reuseAddr ? 1 : 0;
      case "SO_REUSEPORT":
        return s.reusePort ? 1 : 0;
      case "SO_BROADCAST":
        return s.broadcast ? 1 : 0;
      case "SO_SNDBUF":
        return s.sndbuf;
      case "SO_RCVBUF":
        return s.rcvbuf;
      case "SO_TYPE":
        return 2; // SOCK_DGRAM
      case "SO_ERROR":
        return 0; // answered by the handle, which has the number table
      case "IP_TTL":
        return s.ttl >= 0 ? s.ttl : ctx.tunables.ip.ttl;
      case "IPV6_UNICAST_HOPS":
        return s.ttl >= 0 ? s.ttl : ctx.tunables.ip6.hlim;
      case "IP_TOS":
        return s.tos;
      case "IP_MULTICAST_TTL":
      case "IPV6_MULTICAST_HOPS":
        return s.multicastTtl;
      case "IP_MULTICAST_LOOP":
      case "IPV6_MULTICAST_LOOP":
        return s.multicastLoop ? 1 : 0;
      case "IP_MULTICAST_IF":
      case "IPV6_MULTICAST_IF":
        return s.multicastIf;
      case "IPV6_V6ONLY":
        return s.v6only ? 1 : 0;
    }
  }

  /** Whether `a` (normalised) is an address of ours or a broadcast address of one of our interfaces. */
  #isOurs(a: IpAddr): boolean {
    const net = this.protocol.net;
    if (a.family === 6) return net.ip6 !== null && net.ip6.isLocal(a.bytes);
    if (net.ip4.isLocal(a.v4)) return true;
    for (const i of this.protocol.ctx.interfaces()) if (net.ip4.isBroadcast(a.v4, i)) return true;
    return false;
  }

  #ephemeral(s: UdpSocket, a: IpAddr): number | Errno {
    const sysctl = this.protocol.ctx.sysctl;
    const min = sysctl.int("net.inet.ip.anonportmin"), max = sysctl.int("net.inet.ip.anonportmax");
    return this.protocol.table.ephemeral(s, a, min, max, this.random());
  }

  /** The interface index a group is joined on: the one given, else the route's. */
  #groupInterface(g: IpAddr, ifIndex: number): number | Errno {
    const ctx = this.protocol.ctx;
    if (ifIndex !== 0) return ctx.interfaceByIndex(ifIndex) ? ifIndex : "EADDRNOTAVAIL";
    if (g.family === 6 && g.zone !== 0) {
      return ctx.interfaceByIndex(g.zone) ? g.zone : "EADDRNOTAVAIL";
    }
    const probe = new UdpSocket(g.family, false, 0, 0);
    const to = new Endpoint();
    to.addr.set(g);
    return this.protocol.routeFor(probe, to) === null ? probe.route.iface!.index : "EADDRNOTAVAIL";
  }
}

/** A group as a socket records it: scoped IPv6 groups carry their interface as the zone. */
function withZone(g: IpAddr, ifIndex: number): IpAddr {
  if (g.family === 6 && (g.bytes[1] & 0x0f) <= 2) g.zone = ifIndex;
  else if (g.family === 6) g.zone = 0;
  return g;
}
