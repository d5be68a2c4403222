/**
 * UDP for both families (RFC 768, RFC 8200 §8.1, RFC 8085), as NetBSD's
 * `udp_input`/`udp6_input`, `udp_output`/`udp6_output` and `udp_ctlinput`
 * behave.
 *
 * Input checks the header, the length (over IPv4 a UDP length shorter than
 * the IP payload trims it; over IPv6 they must agree), the checksum (optional
 * over IPv4, mandatory over IPv6; skipped on a loopback when
 * `net.inet.udp.do_loopback_cksum` is 0), then delivers: a unicast datagram
 * to the one socket the port table finds (every `SO_REUSEPORT` socket on the
 * endpoint with the `reuseport_unicast` option), a broadcast or multicast one
 * to every matching socket (multicast only to sockets that joined the group
 * on the arrival interface, but for the all-hosts/all-nodes groups). No
 * socket: `noport` and port unreachable through the IP layer (rate-limited
 * there), or for a datagram to a group `noportbcast`/`noportmcast` alone, as
 * NetBSD counts them (so `netstat -s` computes "delivered" right). Input only copies into the socket and
 * marks it; its owner is woken after the turn.
 *
 * Output builds the header in the packet's headroom, sums it (always over
 * IPv6; over IPv4 when `net.inet.udp.checksum` is 1) and hands it to the IP
 * layer with the socket's cached route, which fragments what exceeds the
 * path MTU. A broadcast, and a multicast to a group joined here with
 * `IP_MULTICAST_LOOP`, is also delivered to this host's sockets (BSD's
 * `ip_mloopback` on a simplex interface).
 *
 * ICMP errors quoting a datagram of a connected socket set its `SO_ERROR`
 * (NetBSD's `in_pcbnotify`), reported on the socket's next operation.
 *
 * The socket operations (bind, connect, options) are in
 * `socket/udp_control.ts`; the API programs use is `socket/udp_handle.ts`.
 *
 * @example
 * ```ts ignore
 * const udp = new UdpProtocol(ctx, net);
 * ctx.protocols.register(IPPROTO.UDP, [4, 6], udp);
 * ```
 * @module
 */

import type { Errno } from "../errno.ts";
import type { StackContext } from "../stack_context.ts";
import type { NetError, NetHeader, TransportProtocol } from "../net/protocols.ts";
import { Endpoint, IpAddr, type IpFamily } from "../net/inet_addr.ts";
import type { Ip4SendOptions, Ipv4Layer } from "../net/ipv4.ts";
import type { Ip6SendOptions, Ipv6Layer } from "../net/ipv6.ts";
import type { NetInterface } from "../link/interface.ts";
import { IFF } from "../link/if_flags.ts";
import { finishChecksum, pseudoSum4, sumWords } from "../wire/checksum.ts";
import { UdpPortTable } from "../socket/port_table.ts";
import type { UdpSocket } from "../socket/udp_socket.ts";

/** The UDP header's length. */
export const UDP_HEADER_LEN = 8;
/** The largest UDP payload over IPv4: 65 535 less the IP and UDP headers. */
export const UDP_MAX_PAYLOAD4 = 65_507;
/** The largest UDP payload over IPv6 (no jumbograms): 65 535 less the UDP header. */
export const UDP_MAX_PAYLOAD6 = 65_527;
const IPPROTO_UDP = 17;
const ALL_HOSTS4 = 0xe0000001;

/** What UDP needs of the stack beyond {@linkcode StackContext}: the IP layers. */
export interface UdpNetwork {
  readonly ip4: Ipv4Layer;
  readonly ip6: Ipv6Layer | null;
}

/** UDP, registered for both families; holds the stack's UDP sockets. */
export class UdpProtocol implements TransportProtocol {
  readonly name = "udp";
  readonly table: UdpPortTable = new UdpPortTable();
  readonly ctx: StackContext;
  readonly net: UdpNetwork;
  /** Where the source and destination of the datagram at hand are kept (reused). */
  readonly #src = new IpAddr();
  readonly #dst = new IpAddr();
  readonly #target = new Endpoint();
  /** The sockets a datagram fans out to (reused). */
  readonly #matches: UdpSocket[] = [];
  readonly #opts4: Ip4SendOptions = { src: null };
  readonly #opts6: Ip6SendOptions = { src: null };

  constructor(ctx: StackContext, net: UdpNetwork) {
    this.ctx = ctx;
    this.net = net;
  }

  // -------------------------------------------------------------------------
  // Input

  /** One datagram for this node. */
  input(h: NetHeader): void {
    const ctx = this.ctx;
    const six = h.family === 6;
    const st = six ? ctx.stats.udp6 : ctx.stats.udp;
    st.ipackets++;
    if (h.length < UDP_HEADER_LEN) {
      st.hdrops++;
      return;
    }
    const b = h.bytes, at = h.offset;
    const ulen = (b[at + 4] << 8) | b[at + 5];
    if (six ? ulen !== h.length : ulen > h.length || ulen < UDP_HEADER_LEN) {
      st.badlen++;
      return;
    }
    const sum = (b[at + 6] << 8) | b[at + 7];
    if (sum === 0 && six) {
      ctx.stats.udp6.nosum++; // RFC 8200 §8.1: a zero UDP checksum is invalid over IPv6
      return;
    }
    const skip = sum === 0 || (h.viaLoopback && ctx.tunables.udp.doLoopbackCksum === 0);
    if (!skip && finishChecksum(sumWords(b, at, at + ulen, h.pseudoSum(ulen))) !== 0) {
      st.badsum++;
      return;
    }
    const sport = (b[at] << 8) | b[at + 1], dport = (b[at + 2] << 8) | b[at + 3];
    const src = h.copySource(this.#src), dst = h.copyDestination(this.#dst);
    const data = at + UDP_HEADER_LEN, len = ulen - UDP_HEADER_LEN;
    if (h.toGroup) {
      if (this.#fanOut(h.family, dst, dport, src, sport, b, data, len, h.iface!.index) > 0) return;
      // NetBSD counts a group datagram nobody takes here only, not also as noport.
      if (six) ctx.stats.udp6.noportmcast++;
      else ctx.stats.udp.noportbcast++;
      return;
    }
    const s = this.table.lookup(h.family, dst, dport, src, sport);
    if (!six && this.table.connectedMiss) ctx.stats.udp.pcbhashmiss++;
    if (s === null) {
      st.noport++;
      h.layer?.unreachable(h, "port");
      return;
    }
    if (s.reusePort && !s.connected && ctx.config.reuseportUnicast) {
      // `reuseport_unicast`: every SO_REUSEPORT socket on the endpoint gets a copy.
      const m = this.#matches;
      const n = this.table.collect(h.family, dst, dport, src, sport, m);
      for (let i = 0; i < n; i++) {
        if (m[i].reusePort) this.#append(m[i], b, data, len, src, sport, six);
        m[i] = null!;
      }
      return;
    }
    this.#append(s, b, data, len, src, sport, six);
  }

  /** Copies a datagram into `s`, or counts it as dropped on a full receive buffer. */
  #append(
    s: UdpSocket,
    b: Uint8Array,
    at: number,
    len: number,
    src: IpAddr,
    sport: number,
    six: boolean,
  ): void {
    if (s.enqueue(b, at, len, src, sport)) this.ctx.wakes.mark(s);
    else if (six) this.ctx.stats.udp6.fullsock++;
    else this.ctx.stats.udp.fullsock++;
  }

  /**
   * Delivers a broadcast or multicast datagram to every socket it matches;
   * returns how many matched (a full socket still counts as matched).
   */
  #fanOut(
    family: IpFamily,
    dst: IpAddr,
    dport: number,
    src: IpAddr,
    sport: number,
    b: Uint8Array,
    at: number,
    len: number,
    ifIndex: number,
  ): number {
    const m = this.#matches;
    const n = this.table.collect(family, dst, dport, src, sport, m);
    const multicast = dst.isMulticast && !isAlwaysJoined(dst);
    let delivered = 0;
    for (let i = 0; i < n; i++) {
      const s = m[i];
      m[i] = null!;
      if (multicast && !joined(s, dst, ifIndex)) continue;
      delivered++;
      this.#append(s, b, at, len, src, sport, family === 6);
    }
    return delivered;
  }

  /** An ICMP error about a datagram we sent: connected sockets on that 4-tuple get it as SO_ERROR. */
  controlInput(e: NetError): void {
    if (e.errno === null || e.length < 4) return;
    const m = this.#matches;
    const n = this.table.collect(e.family, e.src, e.srcPort, e.dst, e.dstPort, m);
    for (let i = 0; i < n; i++) {
      const s = m[i];
      m[i] = null!;
      if (!s.connected) continue;
      s.error = e.errno;
      this.ctx.wakes.mark(s);
    }
  }

  // -------------------------------------------------------------------------
  // Output

  /**
   * Sends `data` from `s` to `to` (null: the connected peer). The socket is
   * bound (`bindEphemeral`) and its address checks done by the caller;
   * `to` is in its real family. Returns null or an errno: EMSGSIZE,
   * EACCES (broadcast without SO_BROADCAST), and those of the route lookup
   * and IP output.
   */
  output(s: UdpSocket, data: Uint8Array, to: Endpoint): Errno | null {
    const ctx = this.ctx;
    const v4 = to.addr.family === 4;
    const len = data.length;
    if (len > (v4 ? UDP_MAX_PAYLOAD4 : UDP_MAX_PAYLOAD6) || len > s.sndbuf) return "EMSGSIZE";
    const err = this.routeFor(s, to);
    if (err !== null) return err;
    const route = s.route, iface = route.iface!;
    const dst = to.addr;
    const bcast = v4 && this.#isBroadcast4(dst.v4, iface);
    if (bcast && !s.broadcast) return "EACCES";
    const pkt = ctx.pool.alloc(UDP_HEADER_LEN + len);
    const b = pkt.bytes, at = pkt.start;
    const sport = s.local.port, dport = to.port, ulen = UDP_HEADER_LEN + len;
    b[at] = sport >>> 8;
    b[at + 1] = sport & 0xff;
    b[at + 2] = dport >>> 8;
    b[at + 3] = dport & 0xff;
    b[at + 4] = ulen >>> 8;
    b[at + 5] = ulen & 0xff;
    b[at + 6] = b[at + 7] = 0;
    b.set(data, at + UDP_HEADER_LEN);
    if (!v4 || ctx.tunables.udp.checksum !== 0) {
      const pseudo = v4
        ? pseudoSum4(route.src.v4, dst.v4, IPPROTO_UDP, ulen)
        : sumWords(route.src.bytes, 0, 16, sumWords(dst.bytes, 0, 16)) + ulen + IPPROTO_UDP;
      // RFC 768: a computed zero is sent as all ones (zero means "no checksum").
      const sum = finishChecksum(sumWords(b, at, at + ulen, pseudo)) || 0xffff;
      b[at + 6] = sum >>> 8;
      b[at + 7] = sum & 0xff;
    }
    const multicast = dst.isMulticast;
    if (bcast || (multicast && s.multicastLoop && this.#joinedHere(dst, iface))) {
      // The looped copy of a broadcast or a joined group, as if it came in by `iface`.
      const st = v4 ? ctx.stats.udp : ctx.stats.udp6;
      st.ipackets++;
      const taken = this.#fanOut(
        dst.family,
        dst,
        dport,
        route.src,
        sport,
        b,
        at + UDP_HEADER_LEN,
        len,
        iface.index,
      );
      if (taken === 0 && v4) ctx.stats.udp.noportbcast++;
      else if (taken === 0) ctx.stats.udp6.noportmcast++;
    }
    if (v4) {
      ctx.stats.udp.opackets++;
      const o = this.#opts4;
      o.ttl = multicast ? s.multicastTtl : s.ttl >= 0 ? s.ttl : undefined;
      o.tos = s.tos;
      return this.net.ip4.outputRouted(pkt, dst.v4, IPPROTO_UDP, route, o);
    }
    ctx.stats.udp6.opackets++;
    const o = this.#opts6;
    o.hlim = multicast ? s.multicastTtl : s.ttl >= 0 ? s.ttl : undefined;
    return this.net.ip6!.outputRouted(pkt, dst.bytes, IPPROTO_UDP, route, o);
  }

  /**
   * Fills `s.route` for sending to `to`, unless the cached answer still holds
   * (same destination and interface, route generation unchanged).
   */
  routeFor(s: UdpSocket, to: Endpoint): Errno | null {
    const ctx = this.ctx, dst = to.addr, out = s.route;
    const forcedIndex = dst.isMulticast ? s.multicastIf : 0;
    if (
      out.isCurrent(ctx.routeGeneration) && s.routeIf === forcedIndex &&
      s.routeDst.addr.equals(dst)
    ) return null;
    let forced: NetInterface | null = null;
    if (forcedIndex !== 0) {
      forced = ctx.interfaceByIndex(forcedIndex) ?? null;
      if (forced === null) return "EADDRNOTAVAIL";
    }
    const local = s.local.addr;
    let err: Errno | null;
    if (dst.family === 4) {
      const src = local.family === 4 && !local.isUnspecified ? local.v4 : null;
      err = this.net.ip4.route(dst.v4, forced, src, out);
      if (err === "ENETUNREACH" && dst.v4 === 0xffffffff) {
        // The limited broadcast leaves by the first broadcast interface when no route covers it.
        forced = firstBroadcastInterface(ctx);
        if (forced !== null) err = this.net.ip4.route(dst.v4, forced, src, out);
      }
    } else {
      if (!this.net.ip6) return "EAFNOSUPPORT";
      const src = local.family === 6 && !local.isUnspecified ? local.bytes : null;
      err = this.net.ip6.route(dst.bytes, dst.zone || undefined, forced, src, out);
    }
    if (err !== null) {
      out.clear();
      return err;
    }
    s.routeDst.addr.set(dst);
    s.routeIf = forcedIndex;
    return null;
  }

  #isBroadcast4(addr: number, iface: NetInterface): boolean {
    return addr === 0xffffffff || this.net.ip4.isBroadcast(addr, iface);
  }

  /** Whether group `dst` is joined on `iface` by some socket here. */
  #joinedHere(dst: IpAddr, iface: NetInterface): boolean {
    const g = this.ctx.groups;
    return dst.family === 4 ? g.has4(iface.index, dst.v4) : g.has6(iface.index, dst.bytes);
  }

  /** The reused endpoint senders normalise a destination into. */
  get scratchTarget(): Endpoint {
    return this.#target;
  }
}

/** 224.0.0.1 and ff0X::1: groups every host is in, no join needed. */
function isAlwaysJoined(a: IpAddr): boolean {
  if (a.family === 4) return a.v4 === ALL_HOSTS4;
  const b = a.bytes;
  for (let i = 2; i < 15; i++) if (b[i] !== 0) return false;
  return b[15] === 1;
}

/** Whether `s` joined `group` on interface `ifIndex`. */
function joined(s: UdpSocket, group: IpAddr, ifIndex: number): boolean {
  const gs = s.groups;
  for (let i = 0; i < gs.length; i++) {
    const g = gs[i];
    if (g.ifIndex !== ifIndex) continue;
    if (
      group.family === 4
        ? g.group.family === 4 && g.group.v4 === group.v4
        : sameBytes(g.group, group)
    ) {
      return true;
    }
  }
  return false;
}

function sameBytes(a: IpAddr, b: IpAddr): boolean {
  if (a.family !== b.family) return false;
  const x = a.bytes, y = b.bytes;
  for (let i = 0; i < 16; i++) if (x[i] !== y[i]) return false;
  return true;
}

function firstBroadcastInterface(ctx: StackContext): NetInterface | null {
  for (const i of ctx.interfaces()) {
    if (!i.isLoopback && i.flags & IFF.UP && i.flags & IFF.BROADCAST && i.inet.length > 0) return i;
  }
  return null;
}
