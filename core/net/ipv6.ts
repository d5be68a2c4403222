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

import type { Errno } from "../errno.ts";
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
  IPV6_MIN_MTU,
  type Ipv6ExtError,
  Ipv6HeaderWalk,
  Ipv6View,
  walkIpv6Headers,
  walkIpv6Options,
} from "../wire/ipv6.ts";
import { isSolicitedNode, ND_HOP_LIMIT } from "../wire/ndp.ts";
import { fillIcmp6Checksum, ICMP6_PARAMPROB, ICMP6_TYPE, ICMP6_UNREACH } from "../wire/icmpv6.ts";
import { Icmp6Layer, type Icmp6SendOptions } from "./icmp6.ts";
import { Nd6Layer } from "./nd6.ts";
import { fragment6, Ip6Reassembly } from "./ip6_frag.ts";
import { Ip6Forwarder } from "./ip6_forward.ts";
import { addrUsable, isLoopback6, selectSource6 } from "./ip6_source.ts";
import { RTF } from "./route_flags.ts";
import { formatIp6, ip6Equal, isLinkLocal6, isUnspecified6, isV4Mapped6 } from "./ip_addr.ts";
import { NetHeader, type NetLayer, type UnreachableReason } from "./protocols.ts";
import { RouteOut } from "./route_out.ts";
import { learnPathMtu } from "./path_mtu.ts";
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
  iface?: NetInterface;
  /** Fill the ICMPv6 checksum once the source is known (RFC 3542: raw ICMPv6 sockets). */
  icmp6Cksum?: boolean;
  /** Allow `::` as the source (DAD probes). */
  allowUnspecified?: boolean;
  /** Refuse to fragment: EMSGSIZE instead (IPV6_DONTFRAG). */
  dontFrag?: boolean;
  /**
   * IPV6_NEXTHOP (RFC 3542 §6.1): send a unicast packet to this neighbour
   * instead of the route's next hop; a route to it must exist and not be
   * through a gateway (else EHOSTUNREACH), and gives the interface.
   */
  nextHop?: Uint8Array | null;
  /** The zone of a link-local `nextHop` (else the destination's or the interface's). */
  nextHopZone?: number;
  /**
   * IPV6_USE_MIN_MTU (RFC 3542 §11.1): 1 fragments at 1280 bytes whatever the
   * path MTU, -1 only multicast, 0 (as absent) uses the path MTU.
   */
  useMinMtu?: -1 | 0 | 1;
}

/** Where IPv6 sends packets that are not for Ethernet. */
export interface Ip6Link {
  /** Loops `pkt` back to this stack through `iface` (a loopback); frees it. */
  loop(iface: NetInterface, pkt: PacketBuffer): void;
  /** Hands `pkt` to an IP-only link (TUN); frees it. */
  raw(iface: NetInterface, pkt: PacketBuffer): void;
}

/** ff0X::1 (all nodes) and, `routers`, ff0X::2. */
function isAllNodesOrRouters(a: Uint8Array, routers: boolean): boolean {
  for (let i = 2; i < 15; i++) if (a[i] !== 0) return false;
  return a[15] === 1 || (routers && a[15] === 2);
}

/** The IPv6 layer of a stack. */
export class Ipv6Layer implements NetLayer {
  readonly icmp: Icmp6Layer;
  readonly nd: Nd6Layer;
  readonly frags: Ip6Reassembly;
  readonly #forwarder: Ip6Forwarder;
  readonly #ctx: StackContext;
  readonly #link: Ip6Link;
  readonly #view = new Ipv6View();
  readonly #walk = new Ipv6HeaderWalk();
  readonly #frag = new FragmentView();
  /** Where the datagram being sent goes: one object, overwritten per packet. */
  readonly #routeOut = new RouteOut();
  readonly #icmpOpts: Ip6SendOptions = { src: null, icmp6Cksum: true };
  /** The datagram being delivered, as transports see it: one object, overwritten per packet. */
  readonly #delivered = new NetHeader();
  /** The view of that datagram (the input view, or a reassembled one), for ICMPv6. */
  #deliveredView = this.#view;

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
          iface,
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
    ctx.protocols.register(IPPROTO6.ICMPV6, [6], {
      name: "icmp6",
      // `h` is the datagram #deliver just described: its view is already wrapped and checked.
      input: (h) => this.icmp.input(h.iface!, this.#deliveredView, h.offset, h.length),
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
      src[0] === 0xff || isUnspecified6(dst) || isV4Mapped6(src) || isV4Mapped6(dst) ||
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
   * Sends the transport payload in `pkt` (at `pkt.start`) to `dst`. Frees
   * `pkt`. Returns null, or the errno of a failure (counted, never thrown):
   * those of {@linkcode Ipv6Layer.route}, and EMSGSIZE (over 65535 bytes, or
   * too big with `dontFrag`).
   */
  output(pkt: PacketBuffer, dst: Uint8Array, proto: number, opts: Ip6SendOptions): Errno | null {
    const ctx = this.#ctx;
    const out = this.#routeOut;
    const err = this.route(dst, opts.zone, opts.iface ?? null, opts.src ?? null, out, opts);
    if (err !== null) {
      ctx.pool.free(pkt);
      if (err === "ENETUNREACH" || err === "EHOSTUNREACH") ctx.stats.ip6.noroute++;
      return err;
    }
    return this.outputRouted(pkt, dst, proto, out, opts);
  }

  /**
   * Sends with a route already looked up (a socket's cached {@linkcode RouteOut},
   * current for the stack's route generation). Frees `pkt`; null or EMSGSIZE.
   */
  outputRouted(
    pkt: PacketBuffer,
    dst: Uint8Array,
    proto: number,
    route: RouteOut,
    opts: Ip6SendOptions,
  ): Errno | null {
    const ctx = this.#ctx;
    const iface = route.iface!;
    const payload = pkt.length;
    if (payload > 0xffff) {
      ctx.pool.free(pkt);
      return "EMSGSIZE";
    }
    const hlim = opts.hlim ??
      (dst[0] === 0xff
        ? ctx.tunables.ip6.defmcasthlim
        : (this.nd.ifInfo(iface.index).chlim || ctx.tunables.ip6.hlim));
    const src = route.src.bytes;
    if (opts.icmp6Cksum) fillIcmp6Checksum(pkt.bytes, pkt.start, payload, src, dst);
    emitIpv6Header(pkt.bytes, pkt.prepend(IPV6_HEADER_LEN), src, dst, proto, payload, hlim);
    ctx.stats.ip6.localout++;
    const minMtu = opts.useMinMtu === 1 || (opts.useMinMtu === -1 && dst[0] === 0xff);
    const mtu = minMtu ? Math.min(route.mtu, IPV6_MIN_MTU) : route.mtu;
    return this.#transmit(iface, route.nextHop.bytes, pkt, mtu, true, opts.dontFrag ?? false);
  }

  /** What a transport asks the layer that delivered `h` to answer (NetLayer). */
  unreachable(h: NetHeader, reason: UnreachableReason): void {
    if (reason === "port") {
      this.icmp.error(
        h.iface!,
        h.bytes,
        h.ipOffset,
        h.ipLength,
        ICMP6_TYPE.DST_UNREACH,
        ICMP6_UNREACH.NOPORT,
        0,
        h.toGroup,
      );
      return;
    }
    // No such protocol: RFC 8200 points a parameter problem at the Next Header field naming it.
    const field = h.nextHeaderField < 0 ? h.ipOffset + 6 : h.nextHeaderField;
    this.icmp.error(
      h.iface!,
      h.bytes,
      h.ipOffset,
      h.ipLength,
      ICMP6_TYPE.PARAM_PROB,
      ICMP6_PARAMPROB.NEXTHEADER,
      field - h.ipOffset,
      h.toGroup,
    );
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
    // KAME joins the Node Information group of the host name on every interface.
    if (scope === 2 && dst[11] === 2 && this.icmp.nodeInfo.isGroup(dst)) return true;
    if (this.#ctx.groups.has6(iface.index, dst)) return true; // joined by a socket
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

  /** Hands a datagram for this node to its protocol (the protocol table), else to raw sockets. */
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
    if (proto === IPPROTO6.NONE) {
      st.delivered++; // No Next Header: nothing follows, nothing to do.
      return;
    }
    this.#deliveredView = ip;
    const h = this.#delivered;
    h.family = 6;
    h.layer = this;
    h.iface = iface;
    h.bytes = ip.bytes;
    h.ipOffset = ip.offset;
    h.ipLength = len;
    h.proto = proto;
    h.offset = at;
    h.length = end - at;
    h.hopLimit = ip.hopLimit;
    h.toGroup = linkMcast || ip.isMulticast;
    h.viaLoopback = iface.isLoopback;
    h.src4 = h.dst4 = 0;
    h.zone = isLinkLocal6(ip.src) ? (this.zoneOf(iface, ip.src) ?? iface.index) : 0;
    h.nextHeaderField = nextField < 0 ? ip.offset + 6 : nextField;
    const protocol = ctx.protocols.get(6, proto);
    if (protocol !== null) {
      st.delivered++;
      protocol.input(h);
      return;
    }
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
    // No transport for it: as IPv4 answers protocol unreachable, IPv6 points at the Next Header field.
    this.unreachable(h, "protocol");
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

  /** Sends an ICMPv6 message; one that cannot go out is simply not sent (output counted why). */
  #sendIcmp(
    pkt: PacketBuffer,
    dst: Uint8Array,
    opts: Icmp6SendOptions,
    allowUnspecified = false,
  ): void {
    // One options object, overwritten per message: output reads it before it hands the
    // packet to the link, so a message sent from below (a neighbour solicitation) may reuse it.
    const o = this.#icmpOpts;
    o.src = opts.src;
    o.zone = opts.zone;
    o.hlim = opts.hlim;
    o.iface = opts.iface;
    o.allowUnspecified = allowUnspecified;
    this.output(pkt, dst, IPPROTO6.ICMPV6, o);
  }

  /**
   * Where a datagram to `dst` goes, into `out` (allocates nothing): the
   * interface (`iface` forces one; a scoped destination needs a `zone` or an
   * interface), the next hop, the path MTU, and the source (`src` when given,
   * which must be ours and usable; else RFC 6724 selection). Packets to our
   * own addresses go through lo0. Returns null, or ENETUNREACH (no route),
   * EHOSTUNREACH (a reject route, a link-local destination without a zone),
   * ENXIO (no interface for the zone), EADDRNOTAVAIL (no usable source).
   */
  route(
    dst: Uint8Array,
    zone: number | undefined,
    iface: NetInterface | null,
    src: Uint8Array | null,
    out: RouteOut,
    opts?: { allowUnspecified?: boolean; nextHop?: Uint8Array | null; nextHopZone?: number },
  ): Errno | null {
    const ctx = this.#ctx;
    const multicast = dst[0] === 0xff;
    const scoped = isLinkLocal6(dst) || (multicast && (dst[1] & 0x0f) <= 2);
    let forced = iface ?? undefined;
    const z = scoped ? (zone ?? forced?.index) : undefined;
    if (z !== undefined && !forced) {
      forced = ctx.interfaceByIndex(z);
      if (!forced) return "ENXIO";
    }
    let via: NetInterface | undefined;
    let nextHop = dst, mtu = 0, flags = 0, srcZone = z;
    if (multicast) {
      via = forced;
      if (!via) {
        const r = ctx.routes6.lookup(dst);
        via = r?.iface;
        if (!via) return "ENETUNREACH";
      }
      srcZone = via.index;
    } else {
      if (scoped && z === undefined) return "EHOSTUNREACH"; // a link-local destination needs a %zone
      const gw = opts?.nextHop;
      const hop = gw ? this.#nextHopRoute(gw, opts?.nextHopZone ?? z ?? forced?.index) : undefined;
      if (gw && !hop) return "EHOSTUNREACH";
      const route = hop ?? ctx.routes6.lookup(dst, z);
      if (gw && hop) {
        via = hop.iface;
        nextHop = gw;
        mtu = hop.mtu;
        flags = hop.flags;
        hop.use++;
      } else if (route && (!forced || route.iface === forced || this.isLocal(dst))) {
        if (route.flags & RTF.REJECT) return "EHOSTUNREACH";
        via = route.iface;
        if (route.flags & RTF.GATEWAY && route.gateway.kind === "inet6") {
          nextHop = route.gateway.addr;
        }
        mtu = route.mtu;
        flags = route.flags;
        route.use++;
      } else if (forced) {
        via = forced; // on-link through the interface asked for
      } else {
        return "ENETUNREACH";
      }
      if (!via) return "ENETUNREACH";
      if (!via.isLoopback && this.isLocal(dst)) {
        via = ctx.loopbackInterface;
        nextHop = dst;
        mtu = 0;
      }
    }
    if (src) {
      if (isUnspecified6(src) ? !opts?.allowUnspecified : !this.isLocal(src)) {
        return "EADDRNOTAVAIL";
      }
      out.src.setV6(src, 0, isLinkLocal6(src) ? (srcZone ?? 0) : 0);
    } else {
      const a = this.selectSource(dst, via, srcZone);
      if (!a) {
        ctx.stats.ip6.sources_none++;
        return "EADDRNOTAVAIL";
      }
      out.src.setV6(a, 0, isLinkLocal6(a) ? (srcZone ?? via.index) : 0);
    }
    out.iface = via;
    out.nextHop.setV6(nextHop, 0, isLinkLocal6(nextHop) ? via.index : 0);
    out.mtu = mtu || this.linkMtu(via);
    out.flags = flags;
    out.generation = ctx.routeGeneration;
    return null;
  }

  /** selectroute()'s IPV6_NEXTHOP check: the route to a next hop given by the sender, if on-link. */
  #nextHopRoute(gw: Uint8Array, zone: number | undefined): RouteEntry<Route6> | undefined {
    if (isLinkLocal6(gw) && zone === undefined) return undefined;
    const r = this.#ctx.routes6.lookup(gw, isLinkLocal6(gw) ? zone : undefined);
    if (!r || (r.flags & (RTF.GATEWAY | RTF.REJECT)) !== 0) return undefined;
    return r;
  }

  /** RFC 6724 source selection (see {@linkcode selectSource6}). */
  selectSource(dst: Uint8Array, out: NetInterface, zone?: number): Uint8Array | null {
    return selectSource6(this.#ctx, dst, out, zone);
  }

  /** Records a smaller path MTU to `dst` on a host route (NetBSD's icmp6_mtudisc_update). */
  #pathMtu(dst: Uint8Array, zone: number | undefined, mtu: number): void {
    const ctx = this.#ctx, table = ctx.routes6;
    const z = isLinkLocal6(dst) ? zone : undefined;
    const key = dst.slice(); // kept by the expiry timer: the caller's array is reused
    const changed = learnPathMtu(
      ctx,
      {
        hostPrefix: 128,
        lookup: () => table.lookup(key, z),
        host: () => table.find(key, 128, z),
        addHost: (from, mtu) =>
          table.add({
            dst: key,
            prefixlen: 128,
            zone: z,
            gateway: from.gateway,
            gatewayZone: from.gatewayZone,
            flags: RTF.UP | RTF.HOST | RTF.DYNAMIC | (from.flags & RTF.GATEWAY),
            iface: from.iface,
            mtu,
          }),
        deleteHost: () => void table.delete(key, 128, z),
        touch: () => void table.generation++,
      },
      mtu,
      (iface) => this.linkMtu(iface),
      IP6_PMTU_TIMEOUT_MS,
    );
    if (changed) ctx.stats.icmp6.pmtuchg++;
  }

  /** Hands a finished packet to the link, fragmenting a local one that exceeds `mtu`. */
  #transmit(
    iface: NetInterface,
    nextHop: Uint8Array,
    pkt: PacketBuffer,
    mtu: number,
    local: boolean,
    dontFrag: boolean,
  ): Errno | null {
    if (pkt.length <= mtu) {
      this.#toLink(iface, nextHop, pkt);
      return null;
    }
    if (!local || dontFrag) {
      this.#ctx.stats.ip6.cantfrag++;
      this.#ctx.pool.free(pkt);
      return local ? "EMSGSIZE" : null;
    }
    fragment6(this.#ctx, pkt, mtu, (frag) => this.#toLink(iface, nextHop, frag));
    return null;
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
