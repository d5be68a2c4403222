/**
 * IPv6 (RFC 8200, RFC 4291): input validation and delivery, the
 * extension-header walk (bounded by `net.inet6.ip6.hdrnestlimit`; options
 * acted on by their action bits, Parameter Problem with the pointer RFC 8200
 * asks for), multicast group acceptance (all-nodes, the solicited-node groups
 * of our addresses, all-routers when forwarding), output with routing
 * (link-local destinations need a zone), source selection ({@linkcode
 * selectSource6}), fragmentation of locally originated packets and
 * reassembly ({@linkcode Ip6Reassembly}), path MTU from Packet Too Big,
 * loopback through lo0, and forwarding ({@linkcode Ip6Forwarder}) when
 * `net.inet6.ip6.forwarding` is on. Neighbour Discovery ({@linkcode Nd6Layer})
 * resolves next hops on Ethernet; ICMPv6 ({@linkcode Icmp6Layer}) answers and
 * sends the errors. Counters are NetBSD's `ip6stat` (and `udp6stat` for the
 * UDP datagrams that find no socket).
 *
 * @example
 * ```ts ignore
 * ip6.input(iface, frame, payloadOffset, length, linkMcast);
 * ip6.output(pkt, dst, IPPROTO6.ICMPV6, { zone: iface.index, icmp6Cksum: true });
 * ```
 * @module
 */

import { ErrnoError } from "../errno.ts";
import type { PacketBuffer } from "../buf/packet_pool.ts";
import type { StackContext } from "../stack_context.ts";
import type { NetInterface } from "../link/interface.ts";
import type { EtherLayer } from "../link/ether.ts";
import {
  emitIpv6Header,
  FragmentView,
  IP6OPT_ACTION,
  IPPROTO6,
  IPV6_FRAG_HEADER_LEN,
  IPV6_HEADER_LEN,
  type Ipv6ExtError,
  Ipv6HeaderWalk,
  Ipv6View,
  walkIpv6Headers,
  walkIpv6Options,
} from "../wire/ipv6.ts";
import { isSolicitedNode, ND_HOP_LIMIT } from "../wire/ndp.ts";
import { fillIcmp6Checksum, ICMP6_PARAMPROB, ICMP6_TYPE, ICMP6_UNREACH } from "../wire/icmpv6.ts";
import { finishChecksum, pseudoSum6, sumWords } from "../wire/checksum.ts";
import { Icmp6Layer, type Icmp6SendOptions } from "./icmp6.ts";
import { Nd6Layer } from "./nd6.ts";
import { fragment6, Ip6Reassembly } from "./ip6_frag.ts";
import { Ip6Forwarder } from "./ip6_forward.ts";
import { addrUsable, isLoopback6, selectSource6 } from "./ip6_source.ts";
import { RTF } from "./route_flags.ts";
import { formatIp6, ip6Equal, isLinkLocal6 } from "./ip_addr.ts";
import type { Route6, RouteEntry } from "./route.ts";

/** How long a path MTU learned from Packet Too Big is kept (NetBSD: 10 minutes). */
export const IP6_PMTU_TIMEOUT_MS = 600_000;

/** Per-send choices (socket options, ping6's flags, the protocol layers). */
export interface Ip6SendOptions {
  /** Source address; selected (RFC 6724) when absent or null. */
  src?: Uint8Array | null;
  /** Hop limit; `net.inet6.ip6.hlim` (multicast: `defmcasthlim`) when absent. */
  hlim?: number;
  /** Interface index of a scoped (link-local) destination: the `%zone`. */
  zone?: number;
  /** Send out of this interface (multicast and link-local need one, or a zone). */
  ifname?: string;
  /** Fill the ICMPv6 checksum once the source is known (RFC 3542: raw ICMPv6 sockets). */
  icmp6Cksum?: boolean;
  /** Allow `::` as the source (DAD probes). */
  allowUnspecified?: boolean;
  /** Refuse to fragment: EMSGSIZE instead (IPV6_DONTFRAG). */
  dontFrag?: boolean;
}

/** Where IPv6 sends packets that are not for Ethernet. */
export interface Ip6Link {
  /** Loops `pkt` back to this stack through `iface` (a loopback); frees it. */
  loop(iface: NetInterface, pkt: PacketBuffer): void;
  /** Hands `pkt` to an IP-only link (TUN); frees it. */
  raw(iface: NetInterface, pkt: PacketBuffer): void;
}

function isUnspecified(a: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== 0) return false;
  return true;
}

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

/** ff0X::1 (all nodes) and, `routers`, ff0X::2. */
function isAllNodesOrRouters(a: Uint8Array, routers: boolean): boolean {
  for (let i = 2; i < 15; i++) if (a[i] !== 0) return false;
  return a[15] === 1 || (routers && a[15] === 2);
}

/** The IPv6 layer of a stack. */
export class Ipv6Layer {
  readonly icmp: Icmp6Layer;
  readonly nd: Nd6Layer;
  readonly frags: Ip6Reassembly;
  readonly #forwarder: Ip6Forwarder;
  readonly #ctx: StackContext;
  readonly #link: Ip6Link;
  readonly #view = new Ipv6View();
  readonly #walk = new Ipv6HeaderWalk();
  readonly #frag = new FragmentView();
  // The result of #routeOut, kept in fields: no object per packet.
  #outIface: NetInterface | null = null;
  #outNextHop: Uint8Array = new Uint8Array(16);
  #outMtu = 0;
  #outZone: number | undefined = undefined;

  constructor(ctx: StackContext, ether: EtherLayer, link: Ip6Link) {
    this.#ctx = ctx;
    this.#link = link;
    this.icmp = new Icmp6Layer(ctx, {
      send: (pkt, dst, opts) => this.#sendIcmp(pkt, dst, opts),
      isLocal: (a) => this.isLocal(a),
      zoneOf: (iface, a) => this.zoneOf(iface, a),
      pathMtu: (dst, zone, mtu) => this.#pathMtu(dst, zone, mtu),
      ndInput: (iface, ip, off, len) => this.nd.input(iface, ip, off, len),
    });
    this.nd = new Nd6Layer(ctx, ether, {
      send: (pkt, dst, src, iface) =>
        this.#sendIcmp(pkt, dst, {
          src,
          hlim: ND_HOP_LIMIT,
          ifname: iface.name,
          zone: iface.index,
        }, true),
      unreachable: (iface, packet) =>
        this.icmp.error(
          iface,
          packet,
          0,
          packet.length,
          ICMP6_TYPE.DST_UNREACH,
          ICMP6_UNREACH.ADDR,
          0,
          false,
        ),
    });
    this.frags = new Ip6Reassembly(ctx, this.icmp, (iface, ip, len, mcast) => {
      this.#local(iface, ip, len, mcast);
    });
    this.#forwarder = new Ip6Forwarder(ctx, {
      icmp: this.icmp,
      nd: this.nd,
      linkMtu: (iface) => this.linkMtu(iface),
      toLink: (iface, nextHop, pkt) => this.#toLink(iface, nextHop, pkt),
      sendIcmp: (pkt, dst, opts) => this.#sendIcmp(pkt, dst, opts),
    });
  }

  /** Whether `addr` is a usable (not tentative, not duplicated) address of this stack. */
  isLocal(addr: Uint8Array): boolean {
    for (const iface of this.#ctx.interfaces()) {
      for (const a of iface.inet6) if (ip6Equal(a.addr, addr)) return addrUsable(a);
    }
    return false;
  }

  /**
   * The zone (interface index) of a scoped address seen on `iface`; for a
   * packet looped through lo0, the interface that holds the address.
   */
  zoneOf(iface: NetInterface, addr: Uint8Array): number | undefined {
    const linkScope = isLinkLocal6(addr) || (addr[0] === 0xff && (addr[1] & 0x0f) <= 2);
    if (!linkScope) return undefined;
    if (!iface.isLoopback) return iface.index;
    for (const i of this.#ctx.interfaces()) {
      for (const a of i.inet6) if (ip6Equal(a.addr, addr)) return i.index;
    }
    return iface.index;
  }

  /** One received datagram (`bytes[offset, offset + length)`, borrowed for the call). */
  input(
    iface: NetInterface,
    bytes: Uint8Array,
    offset: number,
    length: number,
    linkMcast: boolean,
  ): void {
    const ctx = this.#ctx, st = ctx.stats.ip6, ip = this.#view;
    st.total++;
    const err = ip.wrap(bytes, offset, length);
    if (err !== null) {
      st[err === "tooshort" ? "toosmall" : err === "badvers" ? "badvers" : "tooshort"]++;
      return;
    }
    st.nxthist[ip.nextHeader]++;
    const src = ip.src, dst = ip.dst;
    if (
      src[0] === 0xff || isUnspecified(dst) || isV4Mapped(src) || isV4Mapped(dst) ||
      (!iface.isLoopback && (isLoopback6(src) || isLoopback6(dst))) ||
      (dst[0] === 0xff && ((dst[1] & 0x0f) === 0 || ((dst[1] & 0x0f) === 1 && !iface.isLoopback)))
    ) {
      st.badscope++;
      return;
    }
    const len = ip.packetLength;
    // Hop-by-Hop options are for every node on the path (RFC 8200 §4.3).
    if (ip.nextHeader === IPPROTO6.HOPOPTS && !this.#hopByHop(iface, ip, len, linkMcast)) return;
    if (dst[0] === 0xff) {
      if (!this.#isMember(iface, dst)) {
        st.notmember++;
        return;
      }
      this.#local(iface, ip, len, linkMcast);
      return;
    }
    const mine = this.#acceptsFor(iface, dst);
    if (mine === 0) this.#forwarder.forward(iface, ip, len, linkMcast);
    else if (mine === 1) this.#local(iface, ip, len, linkMcast);
    // 2: an address that is not ready (tentative, duplicated): dropped (RFC 4862 §5.4).
  }

  /**
   * Sends the transport payload in `pkt` (at `pkt.start`) to `dst`. Frees `pkt`.
   * Throws ENETUNREACH/EHOSTUNREACH (no route, a reject route, a link-local
   * destination without a zone), EADDRNOTAVAIL (no usable source, or a source
   * not ours), EMSGSIZE (too big with `dontFrag`).
   */
  output(pkt: PacketBuffer, dst: Uint8Array, proto: number, opts: Ip6SendOptions): void {
    const ctx = this.#ctx;
    let iface: NetInterface;
    try {
      this.#routeOut(dst, opts);
      iface = this.#outIface!;
      const src = this.#source(dst, iface, opts);
      const payload = pkt.length;
      if (payload > 0xffff) throw new ErrnoError("EMSGSIZE", "payload over 65535 bytes");
      const multicast = dst[0] === 0xff;
      const hlim = opts.hlim ??
        (multicast
          ? ctx.tunables.ip6.defmcasthlim
          : (this.nd.ifInfo(iface.index).chlim || ctx.tunables.ip6.hlim));
      if (opts.icmp6Cksum) fillIcmp6Checksum(pkt.bytes, pkt.start, payload, src, dst);
      const at = pkt.prepend(IPV6_HEADER_LEN);
      emitIpv6Header(pkt.bytes, at, src, dst, proto, payload, hlim);
    } catch (e) {
      ctx.pool.free(pkt);
      if (e instanceof ErrnoError && (e.code === "ENETUNREACH" || e.code === "EHOSTUNREACH")) {
        ctx.stats.ip6.noroute++;
      }
      throw e;
    }
    ctx.stats.ip6.localout++;
    this.#transmit(iface, this.#outNextHop, pkt, this.#outMtu, true, opts.dontFrag ?? false);
  }

  /** The MTU of an interface: what a Router Advertisement said, else the interface's. */
  linkMtu(iface: NetInterface): number {
    const ra = this.nd.ifInfo(iface.index).linkMtu;
    return ra > 0 && ra < iface.mtu ? ra : iface.mtu;
  }

  // -------------------------------------------------------------------------
  // Input

  /** Processes a Hop-by-Hop header (first after the fixed header); false when the packet is dropped. */
  #hopByHop(iface: NetInterface, ip: Ipv6View, len: number, linkMcast: boolean): boolean {
    const b = ip.bytes, at = ip.payloadOffset, end = ip.offset + len;
    const w = this.#walk;
    if (at + 2 > end || at + (b[at + 1] + 1) * 8 > end) {
      this.#ctx.stats.ip6.tooshort++;
      return false;
    }
    w.reset();
    const err = walkIpv6Options(b, at, at + (b[at + 1] + 1) * 8, true, w);
    if (err === null) return true;
    this.#optionError(iface, ip, len, err, linkMcast);
    return false;
  }

  /** RFC 8200 §4.2: a malformed option, or an unrecognised one whose action bits say drop. */
  #optionError(
    iface: NetInterface,
    ip: Ipv6View,
    len: number,
    err: "badopt" | "unknownopt",
    linkMcast: boolean,
  ): void {
    const w = this.#walk;
    this.#ctx.stats.ip6.badoptions++;
    const ptr = w.errorOffset - ip.offset;
    if (err === "badopt") {
      this.#paramProb(iface, ip, len, ICMP6_PARAMPROB.HEADER, ptr, linkMcast);
      return;
    }
    switch (w.optAction) {
      case IP6OPT_ACTION.ICMP_UNLESS_MULTICAST:
        if (ip.isMulticast) return;
        this.#paramProb(iface, ip, len, ICMP6_PARAMPROB.OPTION, ptr, linkMcast);
        return;
      case IP6OPT_ACTION.ICMP:
        this.#paramProb(iface, ip, len, ICMP6_PARAMPROB.OPTION, ptr, linkMcast);
        return;
      default:
        // DISCARD: dropped silently.
    }
  }

  #paramProb(
    iface: NetInterface,
    ip: Ipv6View,
    len: number,
    code: number,
    ptr: number,
    linkMcast: boolean,
  ): void {
    this.icmp.error(iface, ip.bytes, ip.offset, len, ICMP6_TYPE.PARAM_PROB, code, ptr, linkMcast);
  }

  /** Groups joined on `iface`: all-nodes, the solicited-node groups of its addresses, all-routers when forwarding. */
  #isMember(iface: NetInterface, dst: Uint8Array): boolean {
    const scope = dst[1] & 0x0f;
    if ((scope === 1 || scope === 2) && isAllNodesOrRouters(dst, this.nd.forwarding)) return true;
    if (!isSolicitedNode(dst)) return false;
    for (const a of iface.inet6) {
      const x = a.addr;
      if (x[13] === dst[13] && x[14] === dst[14] && x[15] === dst[15]) return true;
    }
    return this.nd.proxiesGroup(iface, dst);
  }

  /**
   * Whether a unicast `dst` is ours (weak host model; a link-local one only on
   * the interface it arrived by): 0 no, 1 yes, 2 ours but not ready.
   */
  #acceptsFor(iface: NetInterface, dst: Uint8Array): number {
    const linkLocal = isLinkLocal6(dst);
    if (linkLocal && !iface.isLoopback) return this.#ownOn(iface, dst);
    for (const i of this.#ctx.interfaces()) {
      const r = this.#ownOn(i, dst);
      if (r !== 0) return r;
    }
    return 0;
  }

  #ownOn(iface: NetInterface, dst: Uint8Array): number {
    for (const a of iface.inet6) if (ip6Equal(a.addr, dst)) return addrUsable(a) ? 1 : 2;
    return 0;
  }

  /** A datagram for this node: walks its headers, reassembles, delivers. */
  #local(iface: NetInterface, ip: Ipv6View, len: number, linkMcast: boolean): void {
    const st = this.#ctx.stats.ip6;
    const w = this.#walk;
    const limit = this.#ctx.tunables.ip6.hdrnestlimit;
    const err = walkIpv6Headers(
      ip.bytes,
      ip.payloadOffset,
      len - IPV6_HEADER_LEN,
      ip.nextHeader,
      limit,
      w,
    );
    if (w.fragOffset >= 0 && (err === null || w.errorOffset > w.fragOffset)) {
      const f = this.#frag;
      f.wrap(ip.bytes, w.fragOffset, IPV6_FRAG_HEADER_LEN);
      if (!f.atomic) {
        this.frags.input(iface, ip, len, w, f, err, linkMcast);
        return;
      }
    }
    if (err !== null) {
      this.#chainError(iface, ip, len, err, linkMcast);
      return;
    }
    if (w.routingOffset >= 0 && ip.bytes[w.routingOffset + 3] !== 0) {
      // Segments left but no routing type this node implements (RH0 is gone, RFC 5095).
      st.badoptions++;
      this.#paramProb(
        iface,
        ip,
        len,
        ICMP6_PARAMPROB.HEADER,
        w.routingOffset + 2 - ip.offset,
        linkMcast,
      );
      return;
    }
    this.#deliver(iface, ip, len, w.proto, w.protoOffset, w.nextFieldOffset, linkMcast);
  }

  #chainError(
    iface: NetInterface,
    ip: Ipv6View,
    len: number,
    err: Ipv6ExtError,
    linkMcast: boolean,
  ): void {
    const st = this.#ctx.stats.ip6;
    switch (err) {
      case "toomany":
        st.toomanyhdr++;
        return;
      case "truncated":
        st.tooshort++;
        return;
      case "badopt":
      case "unknownopt":
        this.#optionError(iface, ip, len, err, linkMcast);
        return;
      case "hbhnotfirst":
        // RFC 8200 §4: Next Header 0 anywhere but the fixed header is unrecognised.
        st.badoptions++;
        this.#paramProb(
          iface,
          ip,
          len,
          ICMP6_PARAMPROB.NEXTHEADER,
          this.#walk.errorOffset - ip.offset,
          linkMcast,
        );
        return;
    }
  }

  #deliver(
    iface: NetInterface,
    ip: Ipv6View,
    len: number,
    proto: number,
    at: number,
    nextField: number,
    linkMcast: boolean,
  ): void {
    const ctx = this.#ctx, st = ctx.stats.ip6;
    const end = ip.offset + len;
    switch (proto) {
      case IPPROTO6.ICMPV6:
        st.delivered++;
        this.icmp.input(iface, ip, at, end - at);
        return;
      case IPPROTO6.NONE:
        st.delivered++;
        return;
      case IPPROTO6.UDP:
        st.delivered++;
        this.#udp(iface, ip, at, end, linkMcast);
        return;
      default: {
        if (ctx.raw.wants("inet6", proto)) {
          st.delivered++;
          ctx.raw.deliver(
            "inet6",
            proto,
            ip.bytes.subarray(at, end),
            this.#sourceText(iface, ip.src),
            ip.hopLimit,
            iface.name,
          );
          return;
        }
        // No transport for it (TCP included, until there is one): as IPv4
        // answers protocol unreachable, IPv6 points at the Next Header field.
        const field = nextField < 0 ? ip.offset + 6 : nextField;
        this.#paramProb(
          iface,
          ip,
          len,
          ICMP6_PARAMPROB.NEXTHEADER,
          field - ip.offset,
          linkMcast,
        );
      }
    }
  }

  /** UDP with no sockets yet: checks the datagram, then answers port unreachable. */
  #udp(iface: NetInterface, ip: Ipv6View, at: number, end: number, linkMcast: boolean): void {
    const ctx = this.#ctx, u = ctx.stats.udp6;
    const b = ip.bytes, ulen = end - at;
    u.ipackets++;
    if (ulen < 8) {
      u.hdrops++;
      return;
    }
    if (((b[at + 4] << 8) | b[at + 5]) !== ulen) {
      u.badlen++;
      return;
    }
    if (b[at + 6] === 0 && b[at + 7] === 0) {
      u.nosum++; // RFC 8200 §8.1: a zero UDP checksum is invalid over IPv6
      return;
    }
    const skip = iface.isLoopback && ctx.tunables.udp.doLoopbackCksum === 0;
    if (!skip && finishChecksum(sumWords(b, at, end, pseudoSum6(ip.src, ip.dst, 17, ulen))) !== 0) {
      u.badsum++;
      return;
    }
    u.noport++;
    if (ip.isMulticast) {
      u.noportmcast++;
      return;
    }
    this.icmp.error(
      iface,
      b,
      ip.offset,
      end - ip.offset,
      ICMP6_TYPE.DST_UNREACH,
      ICMP6_UNREACH.NOPORT,
      0,
      linkMcast,
    );
  }

  /** The source as raw sockets see it: with `%zone` when link-local. */
  #sourceText(iface: NetInterface, src: Uint8Array): string {
    const text = formatIp6(src);
    if (!isLinkLocal6(src)) return text;
    const zone = this.zoneOf(iface, src);
    const name = zone === undefined ? undefined : this.#ctx.interfaceByIndex(zone)?.name;
    return name ? `${text}%${name}` : text;
  }

  // -------------------------------------------------------------------------
  // Output

  #sendIcmp(
    pkt: PacketBuffer,
    dst: Uint8Array,
    opts: Icmp6SendOptions,
    allowUnspecified = false,
  ): void {
    try {
      this.output(pkt, dst, IPPROTO6.ICMPV6, {
        src: opts.src,
        zone: opts.zone,
        hlim: opts.hlim,
        ifname: opts.ifname,
        icmp6Cksum: true,
        allowUnspecified,
      });
    } catch {
      // A message that cannot go out is simply not sent (counted by output).
    }
  }

  #ifaceByName(name: string): NetInterface | undefined {
    for (const i of this.#ctx.interfaces()) if (i.name === name) return i;
    return undefined;
  }

  /** Chooses the interface, next hop and MTU into the `#out*` fields. */
  #routeOut(dst: Uint8Array, opts: Ip6SendOptions): void {
    const ctx = this.#ctx;
    const multicast = dst[0] === 0xff;
    const scoped = isLinkLocal6(dst) || (multicast && (dst[1] & 0x0f) <= 2);
    let forced: NetInterface | undefined;
    if (opts.ifname !== undefined) {
      forced = this.#ifaceByName(opts.ifname);
      if (!forced) throw new ErrnoError("ENXIO", opts.ifname);
    }
    const zone = scoped ? (opts.zone ?? forced?.index) : undefined;
    if (zone !== undefined && !forced && scoped) {
      forced = ctx.interfaceByIndex(zone);
      if (!forced) throw new ErrnoError("ENXIO", `zone ${zone}`);
    }
    this.#outNextHop = dst;
    if (multicast) {
      let iface = forced;
      if (!iface) {
        const r = ctx.routes6.lookup(dst);
        iface = r ? this.#ifaceByName(r.ifName) : undefined;
        if (!iface) throw new ErrnoError("ENETUNREACH", formatIp6(dst));
      }
      this.#outIface = iface;
      this.#outMtu = this.linkMtu(iface);
      this.#outZone = iface.index;
      return;
    }
    if (scoped && zone === undefined) {
      throw new ErrnoError("EHOSTUNREACH", `${formatIp6(dst)} needs a %zone`);
    }
    const route = ctx.routes6.lookup(dst, zone);
    let iface: NetInterface | undefined;
    let mtu = 0;
    if (route && (!forced || route.ifName === forced.name || this.isLocal(dst))) {
      if (route.flags & RTF.REJECT) throw new ErrnoError("EHOSTUNREACH", formatIp6(dst));
      iface = this.#ifaceByName(route.ifName);
      if (route.flags & RTF.GATEWAY && route.gateway.kind === "inet6") {
        this.#outNextHop = route.gateway.addr;
      }
      mtu = route.mtu;
      route.use++;
    } else if (forced) {
      iface = forced; // on-link through the interface asked for
    } else {
      throw new ErrnoError("ENETUNREACH", formatIp6(dst));
    }
    if (!iface) throw new ErrnoError("ENETUNREACH", formatIp6(dst));
    // Packets to our own addresses go through the loopback, as BSD routes them.
    if (!iface.isLoopback && this.isLocal(dst)) {
      iface = ctx.interfaces()[0];
      this.#outNextHop = dst;
      mtu = 0;
    }
    this.#outIface = iface;
    this.#outMtu = mtu || this.linkMtu(iface);
    this.#outZone = zone;
  }

  /** The source of a packet to `dst` out of `iface`: the one asked for, else selected. */
  #source(dst: Uint8Array, iface: NetInterface, opts: Ip6SendOptions): Uint8Array {
    const want = opts.src;
    if (want) {
      if (isUnspecified(want)) {
        if (opts.allowUnspecified) return want;
        throw new ErrnoError("EADDRNOTAVAIL", "source ::");
      }
      if (!this.isLocal(want)) throw new ErrnoError("EADDRNOTAVAIL", "source");
      return want;
    }
    const a = this.selectSource(dst, iface, this.#outZone);
    if (!a) {
      this.#ctx.stats.ip6.sources_none++;
      throw new ErrnoError("EADDRNOTAVAIL", "no source address");
    }
    return a;
  }

  /** RFC 6724 source selection (see {@linkcode selectSource6}). */
  selectSource(dst: Uint8Array, out: NetInterface, zone?: number): Uint8Array | null {
    return selectSource6(this.#ctx, dst, out, zone);
  }

  /** Records a smaller path MTU to `dst` as a dynamic host route (NetBSD's icmp6_mtudisc_update). */
  #pathMtu(dst: Uint8Array, zone: number | undefined, mtu: number): void {
    const ctx = this.#ctx;
    const scoped = isLinkLocal6(dst);
    const route = ctx.routes6.lookup(dst, scoped ? zone : undefined);
    if (!route) return;
    const iface = this.#ifaceByName(route.ifName);
    if (!iface || iface.isLoopback) return;
    const current = route.mtu || this.linkMtu(iface);
    if (mtu >= current) return;
    ctx.stats.icmp6.pmtuchg++;
    if (route.prefixlen === 128) {
      route.mtu = mtu;
      return;
    }
    const host: Route6 = {
      dst: dst.slice(),
      prefixlen: 128,
      zone: scoped ? zone : undefined,
      gateway: route.gateway,
      gatewayZone: route.gatewayZone,
      flags: RTF.UP | RTF.HOST | RTF.DYNAMIC | (route.flags & RTF.GATEWAY),
      ifName: route.ifName,
      mtu,
    };
    if (!ctx.routes6.add(host)) return;
    const added: RouteEntry<Route6> | undefined = ctx.routes6.find(host.dst, 128, host.zone);
    ctx.timers.schedule(ctx.now() + IP6_PMTU_TIMEOUT_MS, () => {
      if (added && ctx.routes6.find(host.dst, 128, host.zone) === added) {
        ctx.routes6.delete(host.dst, 128, host.zone);
      }
    });
  }

  /** Hands a finished packet to the link, fragmenting a local one that exceeds `mtu`. */
  #transmit(
    iface: NetInterface,
    nextHop: Uint8Array,
    pkt: PacketBuffer,
    mtu: number,
    local: boolean,
    dontFrag: boolean,
  ): void {
    if (pkt.length <= mtu) {
      this.#toLink(iface, nextHop, pkt);
      return;
    }
    if (!local || dontFrag) {
      this.#ctx.stats.ip6.cantfrag++;
      this.#ctx.pool.free(pkt);
      if (local) throw new ErrnoError("EMSGSIZE", "packet larger than the path MTU");
      return;
    }
    fragment6(this.#ctx, pkt, mtu, (frag) => this.#toLink(iface, nextHop, frag));
  }

  #toLink(iface: NetInterface, nextHop: Uint8Array, pkt: PacketBuffer): void {
    switch (iface.linkType) {
      case "ethernet":
        this.nd.resolveAndSend(iface, nextHop, pkt);
        return;
      case "loopback":
        this.#link.loop(iface, pkt);
        return;
      case "ip":
        this.#link.raw(iface, pkt);
    }
  }
}
