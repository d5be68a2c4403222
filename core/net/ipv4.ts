/**
 * IPv4 (RFC 791, RFC 1122, RFC 1812): input validation and delivery,
 * reassembly, output with routing, source selection and fragmentation, and
 * forwarding (with its fast path) when `net.inet.ip.forwarding` is on. Counters
 * are NetBSD's `ipstat`.
 *
 * @example
 * ```ts ignore
 * ip4.input(iface, frame, payloadOffset, length, linkBcast);
 * ip4.output(pkt, dst, IPPROTO.ICMP, {});
 * ```
 * @module
 */

import type { Errno } from "../errno.ts";
import type { PacketBuffer } from "../buf/packet_pool.ts";
import type { StackContext } from "../stack_context.ts";
import type { NetInterface } from "../link/interface.ts";
import { IFF } from "../link/if_flags.ts";
import {
  emitIpv4Header,
  IP_DF,
  IPPROTO,
  IPV4_HEADER_LEN,
  ipv4HasSourceRoute,
  ipv4OptionsProblem,
  type Ipv4Repr,
  Ipv4View,
} from "../wire/ipv4.ts";
import { emitIpv4RouterAlert, IPOPT_RA_LEN } from "../wire/igmp.ts";
import { ICMP_PARAMPROB, ICMP_TIMXCEED, ICMP_TYPE, ICMP_UNREACH } from "../wire/icmp.ts";
import { Icmp4Layer } from "./icmp4.ts";
import { Reassembler } from "./reassembly.ts";
import { RTF } from "./route_flags.ts";
import { FlowCache } from "./flow_cache.ts";
import { NetHeader, type NetLayer, type UnreachableReason } from "./protocols.ts";
import { RouteOut } from "./route_out.ts";
import { formatIp4 } from "./ip_addr.ts";
import { copyBytes } from "../wire/bytes.ts";
import { IntPairMap } from "../lib/int_pair_map.ts";
import { learnPathMtu } from "./path_mtu.ts";

/** How long an incomplete datagram is kept (NetBSD IPFRAGTTL: 60 half-second ticks). */
export const IPFRAG_TIMEOUT_MS = 30_000;

/** Per-send choices (socket options, ping's flags). */
export interface Ip4SendOptions {
  /** Source address; chosen from the outgoing interface when absent. */
  src?: number | null;
  ttl?: number;
  tos?: number;
  df?: boolean;
  /** Send out of this interface (broadcast and multicast need one). */
  iface?: NetInterface;
  /** Carry the Router Alert option (RFC 2113), as IGMP messages do (RFC 2236 §2). */
  routerAlert?: boolean;
}

/** Where IPv4 sends frames (the link layers of the stack). */
export interface Ip4Link {
  /**
   * Sends `pkt` (IP header at `pkt.start`) to `nextHop` on an Ethernet
   * interface; frees it. Returns why it could not (EHOSTDOWN), else null.
   */
  ethernet(iface: NetInterface, nextHop: number, pkt: PacketBuffer): Errno | null;
  /** Loops `pkt` back to this stack through `iface` (a loopback); frees it. */
  loop(iface: NetInterface, pkt: PacketBuffer): void;
  /** Hands `pkt` to an IP-only link (TUN); frees it. */
  raw(iface: NetInterface, pkt: PacketBuffer): void;
}

/** The IPv4 layer of a stack. */
export class Ipv4Layer implements NetLayer {
  readonly icmp: Icmp4Layer;
  readonly reassembly: Reassembler;
  readonly flows: FlowCache;
  readonly #ctx: StackContext;
  readonly #link: Ip4Link;
  readonly #view = new Ipv4View();
  readonly #innerView = new Ipv4View();
  readonly #wholeView = new Ipv4View();
  readonly #fragView = new Ipv4View();
  readonly #errView = new Ipv4View();
  /** The options of ICMP's sends: one object, overwritten per message. */
  readonly #icmpOpts: Ip4SendOptions = { src: null };
  readonly #routeOut = new RouteOut();
  /** The header fields of the datagram being sent: one object, overwritten per packet. */
  readonly #repr: Ipv4Repr = {
    tos: 0,
    totalLength: 0,
    id: 0,
    df: false,
    mf: false,
    fragOffset: 0,
    ttl: 0,
    protocol: 0,
    src: 0,
    dst: 0,
  };
  /** The datagram being delivered, as transports see it: one object, overwritten per packet. */
  readonly #delivered = new NetHeader();
  /** The view of that datagram (the input view, or the reassembled one), for ICMP. */
  #deliveredView = this.#view;
  #nextId = 1;
  #fragTimer = false;

  constructor(ctx: StackContext, link: Ip4Link) {
    this.#ctx = ctx;
    this.#link = link;
    this.icmp = new Icmp4Layer(ctx, {
      // An ICMP message that cannot go out is simply not sent (output counted why).
      sendIcmp: (pkt, dst, src) => {
        this.#icmpOpts.src = src;
        this.output(pkt, dst, IPPROTO.ICMP, this.#icmpOpts);
      },
      isLocal: (a) => this.isLocal(a),
      isBroadcast: (a, iface) => this.isBroadcast(a, iface),
      pathMtu: (dst, mtu) => this.#learnPathMtu(dst, mtu),
    });
    this.reassembly = new Reassembler(
      () => ctx.tunables.ip.maxfragpackets,
      IPFRAG_TIMEOUT_MS,
    );
    this.flows = new FlowCache(() => ctx.tunables.ip.maxflows);
    ctx.protocols.register(IPPROTO.ICMP, [4], {
      name: "icmp",
      // `h` is the datagram #deliver just described: its view is already wrapped and checked.
      input: (h) => this.icmp.input(h.iface!, this.#deliveredView, h.toGroup),
    });
  }

  /** Whether `addr` is an address of one of our interfaces (a hashed lookup). */
  isLocal(addr: number): boolean {
    const gen = this.#ctx.routeGeneration;
    // Every address change moves the route generation: rebuild the index then, not per packet.
    if (gen !== this.#localGeneration) {
      this.#local.clear();
      for (const iface of this.#ctx.interfaces()) {
        for (const a of iface.inet) this.#local.set(0, a.addr, iface);
      }
      this.#localGeneration = gen;
    }
    return this.#local.has(0, addr);
  }

  /** Our IPv4 addresses, and the route generation they were gathered under. */
  readonly #local = new IntPairMap<NetInterface>();
  #localGeneration = -1;

  /** Whether `addr` is a broadcast address on `iface` (limited, directed, or the old zero-host form). */
  isBroadcast(addr: number, iface: NetInterface): boolean {
    // Compared as signed 32-bit values: callers on the data path pass `addr | 0`, which
    // V8 can keep unboxed, where an unsigned address above 2^30 becomes a heap number.
    const a32 = addr | 0;
    if (a32 === -1 || a32 === 0) return true;
    if (!(iface.flags & IFF.BROADCAST)) return false;
    const zero = this.#ctx.tunables.ip.hostzerobroadcast !== 0;
    for (const a of iface.inet) {
      if (a.broadcast !== undefined && (a.broadcast | 0) === a32) return true;
      if (zero && a.mask !== 0xffffffff && a32 === (a.addr & a.mask)) return true;
    }
    return false;
  }

  /** One received datagram (`bytes[offset, offset + length)`, borrowed for the call). */
  input(
    iface: NetInterface,
    bytes: Uint8Array,
    offset: number,
    length: number,
    linkBcast: boolean,
  ): void {
    const ctx = this.#ctx, st = ctx.stats.ip, ip = this.#view;
    st.total++;
    const err = ip.wrap(bytes, offset, length);
    if (err !== null) {
      st[err]++;
      return;
    }
    const skipSum = iface.isLoopback && ctx.tunables.ip.doLoopbackCksum === 0;
    if (!skipSum && !ip.checksumOk()) {
      st.badsum++;
      return;
    }
    if (ip.optionsLength > 0) {
      const pointer = ipv4OptionsProblem(ip);
      if (pointer >= 0) {
        st.badoptions++;
        this.icmp.error(
          iface,
          ip,
          ICMP_TYPE.PARAMPROB,
          ICMP_PARAMPROB.ERRATPTR,
          pointer << 24,
          linkBcast,
        );
        return;
      }
    }
    const src = ip.src, dst = ip.dst;
    if (src >>> 28 === 0xe || src === 0xffffffff || (src >>> 24 === 127 && !iface.isLoopback)) {
      st.badaddr++;
      return;
    }
    if (
      ip.optionsLength > 0 && ipv4HasSourceRoute(ip) &&
      ctx.tunables.ip.allowsrcrt === 0
    ) {
      st.badoptions++;
      this.icmp.error(iface, ip, ICMP_TYPE.UNREACH, ICMP_UNREACH.SRCFAIL, 0, linkBcast);
      return;
    }
    const bcast = this.isBroadcast(dst | 0, iface);
    const forUs = this.#acceptsFor(iface, dst | 0, bcast);
    if (!forUs) {
      this.#forward(iface, ip, linkBcast);
      return;
    }
    if (ip.isFragment) {
      this.#reassemble(iface, ip, linkBcast);
      return;
    }
    this.#deliver(iface, ip, linkBcast || bcast || dst >>> 28 === 0xe);
  }

  /**
   * Where a datagram to `dst` goes, into `out` (allocates nothing): the
   * interface (`iface` forces one, as ping's `-I` and multicast do), the next
   * hop, the path MTU, and the source (`src` when given, which must be ours).
   * Packets to our own addresses go through lo0, as BSD routes them. Returns
   * null, or ENETUNREACH (no route) / EHOSTUNREACH (a reject route) /
   * EADDRNOTAVAIL (no usable source, or one that is not ours).
   */
  route(
    dst: number,
    iface: NetInterface | null,
    src: number | null,
    out: RouteOut,
  ): Errno | null {
    const ctx = this.#ctx;
    let via = iface;
    let nextHop = dst, mtu = 0, flags = 0;
    if (via !== null) {
      mtu = via.mtu;
    } else {
      const route = ctx.routes4.lookup(dst);
      if (!route) return "ENETUNREACH";
      if (route.flags & RTF.REJECT) return "EHOSTUNREACH";
      via = route.iface;
      if (route.flags & RTF.GATEWAY && route.gateway.kind === "inet") nextHop = route.gateway.addr;
      mtu = route.mtu || via.mtu;
      flags = route.flags;
      route.use++;
    }
    if (!via.isLoopback && this.isLocal(dst)) {
      via = ctx.loopbackInterface;
      mtu = via.mtu;
    }
    const source = src ?? this.#sourceFor(via, dst);
    if (source === null || (src !== null && !this.isLocal(src))) return "EADDRNOTAVAIL";
    out.iface = via;
    out.src.setV4(source);
    out.nextHop.setV4(nextHop);
    out.mtu = mtu;
    out.flags = flags;
    out.generation = ctx.routeGeneration;
    return null;
  }

  /**
   * Sends the transport payload in `pkt` (at `pkt.start`) to `dst` (unsigned,
   * or signed as `dst | 0`: both work, and the signed form stays unboxed). Frees
   * `pkt`. Returns null, or the errno of a failure (counted, never thrown):
   * those of {@linkcode Ipv4Layer.route}, and EMSGSIZE (too big with DF).
   */
  output(pkt: PacketBuffer, dst: number, proto: number, opts: Ip4SendOptions): Errno | null {
    const out = this.#routeOut;
    const err = this.route(dst, opts.iface ?? null, opts.src ?? null, out);
    if (err !== null) {
      this.#ctx.pool.free(pkt);
      if (err !== "EADDRNOTAVAIL") this.#ctx.stats.ip.noroute++;
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
    dst: number,
    proto: number,
    route: RouteOut,
    opts: Ip4SendOptions,
  ): Errno | null {
    const r = this.#repr;
    let hlen = IPV4_HEADER_LEN;
    if (opts.routerAlert) hlen += emitIpv4RouterAlert(pkt.bytes, pkt.prepend(IPOPT_RA_LEN));
    r.tos = opts.tos ?? 0;
    r.totalLength = pkt.length + IPV4_HEADER_LEN;
    r.id = this.#newId();
    r.df = opts.df ?? false;
    r.ttl = opts.ttl ?? this.#ctx.tunables.ip.ttl;
    r.protocol = proto;
    r.src = route.src.v4;
    r.dst = dst;
    emitIpv4Header(pkt.bytes, pkt.prepend(IPV4_HEADER_LEN), r, hlen);
    this.#ctx.stats.ip.localout++;
    return this.#transmit(route.iface!, route.nextHop.v4, pkt, route.mtu, true);
  }

  /** What a transport asks the layer that delivered `h` to answer (NetLayer). */
  unreachable(h: NetHeader, reason: UnreachableReason): void {
    const v = this.#errView;
    if (v.wrap(h.bytes, h.ipOffset, h.ipLength) !== null) return;
    const code = reason === "port" ? ICMP_UNREACH.PORT : ICMP_UNREACH.PROTOCOL;
    this.icmp.error(h.iface!, v, ICMP_TYPE.UNREACH, code, 0, h.toGroup);
  }

  /** Drops expired partial datagrams, sending "reassembly time exceeded" for those whose first fragment came. */
  expireFragments(): void {
    this.reassembly.expire(this.#ctx.now(), (first) => {
      this.#ctx.stats.ip.fragtimeout++;
      if (!first) return;
      const v = this.#innerView;
      // The stored piece is cut after 8 bytes of data, so "tooshort" is expected here.
      const err = v.wrap(first, 0, first.length);
      if (err !== null && err !== "tooshort") return;
      const iface = this.#ctx.loopbackInterface;
      this.icmp.error(iface, v, ICMP_TYPE.TIMXCEED, ICMP_TIMXCEED.REASS, 0, false);
    });
  }

  /**
   * A smaller path MTU towards `dst`: kept on a host route (cloned from the
   * route in use) for `net.inet.ip.mtudisctimeout` seconds.
   */
  #learnPathMtu(dst: number, mtu: number): void {
    const table = this.#ctx.routes4;
    learnPathMtu(
      this.#ctx,
      {
        hostPrefix: 32,
        lookup: () => table.lookup(dst),
        host: () => table.find(dst, 32),
        addHost: (from, mtu) =>
          table.add({
            dst,
            prefixlen: 32,
            gateway: from.gateway,
            flags: (from.flags & (RTF.UP | RTF.GATEWAY)) | RTF.HOST | RTF.DYNAMIC,
            iface: from.iface,
            mtu,
          }),
        deleteHost: () => void table.delete(dst, 32),
        touch: () => void table.generation++,
      },
      mtu,
      (iface) => iface.mtu,
      this.#ctx.tunables.ip.mtudisctimeout * 1000,
    );
  }

  /** The source for a packet out of `iface` to `dst`: an address on dst's subnet, else the primary. */
  #sourceFor(iface: NetInterface, dst: number): number | null {
    if (iface.isLoopback && this.isLocal(dst)) return dst;
    for (const a of iface.inet) if (((a.addr ^ dst) & a.mask) === 0) return a.addr;
    return iface.inet[0]?.addr ?? null;
  }

  #newId(): number {
    if (this.#ctx.tunables.ip.randomId !== 0) return (Math.random() * 0x10000) | 0;
    this.#nextId = (this.#nextId + 1) & 0xffff;
    return this.#nextId;
  }

  /** Weak host model unless `checkinterface`: any of our addresses on any interface. */
  /** `dst` is signed (`| 0`), as {@linkcode Ipv4Layer.isBroadcast} explains. */
  #acceptsFor(iface: NetInterface, dst: number, bcast: boolean): boolean {
    if (dst >>> 28 === 0xe) {
      return dst === (0xe0000001 | 0) || this.#ctx.groups.has4(iface.index, dst);
    }
    if (bcast) return true;
    if (this.#ctx.tunables.ip.checkinterface !== 0 && !iface.isLoopback) {
      for (const a of iface.inet) if ((a.addr | 0) === dst) return true;
      return false;
    }
    return this.isLocal(dst);
  }

  #reassemble(iface: NetInterface, ip: Ipv4View, linkBcast: boolean): void {
    const ctx = this.#ctx, st = ctx.stats.ip;
    st.fragments++;
    const key = `${ip.src}|${ip.dst}|${ip.id}|${ip.protocol}`;
    // Keep the header and 8 bytes of the first fragment: enough to quote in a time exceeded.
    const first = ip.fragOffset === 0
      ? ip.bytes.subarray(ip.offset, ip.payloadOffset + Math.min(8, ip.payloadLength))
      : null;
    const payload = ip.bytes.subarray(ip.payloadOffset, ip.payloadOffset + ip.payloadLength);
    const done = this.reassembly.add(key, ip.fragOffset, ip.mf, payload, first, ctx.now());
    this.#armFragTimer();
    if (!done) {
      if (this.reassembly.lastDrop === "full") st.fragdropped++;
      else if (this.reassembly.lastDrop !== null) st.badfrags++;
      return;
    }
    st.reassembled++;
    const header = done.first.subarray(0, (done.first[0] & 0x0f) * 4);
    const whole = new Uint8Array(header.length + done.payload.length);
    whole.set(header, 0);
    whole.set(done.payload, header.length);
    // Rewrite the header as that of an unfragmented datagram, then deliver it. Its own view:
    // ICMP reads it while answering, and output wraps #innerView over what it sends.
    const v = this.#wholeView;
    v.wrap(whole, 0, whole.length);
    v.setTotalLength(whole.length <= 0xffff ? whole.length : 0xffff);
    v.setFragment(false, false, 0);
    v.fillChecksum();
    if (v.wrap(whole, 0, whole.length) !== null) {
      st.toolong++;
      return;
    }
    this.#deliver(iface, v, linkBcast);
  }

  #armFragTimer(): void {
    if (this.#fragTimer) return;
    const next = this.reassembly.nextDeadline();
    if (next === null) return;
    this.#fragTimer = true;
    this.#ctx.timers.schedule(next, () => {
      this.#fragTimer = false;
      this.expireFragments();
      this.#armFragTimer();
    });
  }

  /** Hands a datagram for this node to its protocol (the protocol table), else to raw sockets. */
  #deliver(iface: NetInterface, ip: Ipv4View, toGroup: boolean): void {
    const ctx = this.#ctx, st = ctx.stats.ip;
    st.delivered++;
    this.#deliveredView = ip;
    const h = this.#delivered;
    h.family = 4;
    h.layer = this;
    h.iface = iface;
    h.bytes = ip.bytes;
    h.ipOffset = ip.offset;
    h.ipLength = ip.totalLength;
    h.proto = ip.protocol;
    h.offset = ip.payloadOffset;
    h.length = ip.payloadLength;
    h.hopLimit = ip.ttl;
    h.toGroup = toGroup;
    h.viaLoopback = iface.isLoopback;
    h.src4 = ip.src;
    h.dst4 = ip.dst;
    h.zone = 0;
    h.nextHeaderField = -1;
    const protocol = ctx.protocols.get(4, ip.protocol);
    if (protocol !== null) {
      protocol.input(h);
      return;
    }
    st.noproto++;
    if (ctx.raw.wants("inet", ip.protocol)) {
      const packet = ip.bytes.subarray(ip.offset, ip.offset + ip.totalLength);
      ctx.raw.deliver("inet", ip.protocol, packet, formatIp4(ip.src), ip.ttl, iface.name);
      return;
    }
    this.icmp.error(iface, ip, ICMP_TYPE.UNREACH, ICMP_UNREACH.PROTOCOL, 0, toGroup);
  }

  #forward(inIface: NetInterface, ip: Ipv4View, linkBcast: boolean): void {
    const ctx = this.#ctx, st = ctx.stats.ip;
    const dst = ip.dst;
    if (
      ctx.tunables.ip.forwarding === 0 || linkBcast || dst >>> 28 >= 0xe ||
      dst >>> 24 === 127 || dst >>> 24 === 0 || inIface.isLoopback
    ) {
      st.cantforward++;
      return;
    }
    if (ip.ttl <= 1) {
      this.icmp.error(inIface, ip, ICMP_TYPE.TIMXCEED, ICMP_TIMXCEED.INTRANS, 0, linkBcast);
      return;
    }
    const fast = ctx.tunables.ip.maxflows > 0 && this.#fastforwardOn();
    let flow = fast ? this.flows.get(dst | 0, ctx.routes4.generation) : undefined;
    if (flow) st.fastforward++;
    if (!flow) {
      const route = ctx.routes4.lookup(dst);
      if (!route) {
        st.noroute++;
        st.cantforward++;
        this.icmp.error(inIface, ip, ICMP_TYPE.UNREACH, ICMP_UNREACH.NET, 0, linkBcast);
        return;
      }
      if (route.flags & RTF.BLACKHOLE) return;
      if (route.flags & RTF.REJECT) {
        st.cantforward++;
        this.icmp.error(inIface, ip, ICMP_TYPE.UNREACH, ICMP_UNREACH.HOST, 0, linkBcast);
        return;
      }
      const out = route.iface;
      if (out.isLoopback) {
        st.cantforward++;
        return;
      }
      if (this.isBroadcast(dst, out) && ctx.tunables.ip.directedBroadcast === 0) {
        st.cantforward++;
        return;
      }
      const nextHop = route.flags & RTF.GATEWAY && route.gateway.kind === "inet"
        ? route.gateway.addr
        : dst;
      flow = {
        iface: out,
        nextHop,
        mtu: route.mtu || out.mtu,
        gatewayRoute: (route.flags & RTF.GATEWAY) !== 0,
      };
      route.use++;
      if (fast) this.flows.put(dst | 0, flow, ctx.routes4.generation);
    }
    if (flow.iface === inIface) this.#maybeRedirect(inIface, ip, flow.nextHop, flow.gatewayRoute);
    const len = ip.totalLength;
    if (len > flow.mtu && ip.df) {
      st.cantfrag++;
      this.icmp.error(
        inIface,
        ip,
        ICMP_TYPE.UNREACH,
        ICMP_UNREACH.NEEDFRAG,
        flow.mtu & 0xffff,
        linkBcast,
      );
      return;
    }
    // The frame is borrowed: copy the datagram into a buffer of our own.
    const pkt = ctx.pool.alloc(len);
    copyBytes(pkt.bytes, pkt.start, ip.bytes, ip.offset, len);
    const out = this.#innerView;
    out.wrap(pkt.bytes, pkt.start, len);
    out.setTtl(ip.ttl - 1);
    st.forward++;
    if (this.#transmit(flow.iface, flow.nextHop, pkt, flow.mtu, false) !== null) {
      // A next hop whose resolution failed (EHOSTDOWN): NetBSD's ip_forward answers host unreachable.
      st.cantforward++;
      this.icmp.error(inIface, ip, ICMP_TYPE.UNREACH, ICMP_UNREACH.HOST, 0, linkBcast);
    }
  }

  /** `fastforward` (on by default, effective only while forwarding; reference §2). */
  #fastforwardOn(): boolean {
    return this.#ctx.config.fastforward;
  }

  /** RFC 1812 §5.2.7.2: tell a sender on the same subnet about a better first hop. */
  #maybeRedirect(iface: NetInterface, ip: Ipv4View, nextHop: number, viaGateway: boolean): void {
    if (this.#ctx.tunables.ip.redirect === 0 || !viaGateway) return;
    if (ip.optionsLength > 0 && ipv4HasSourceRoute(ip)) return;
    const onLink = iface.inet.some((a) =>
      ((a.addr ^ ip.src) & a.mask) === 0 && ((a.addr ^ nextHop) & a.mask) === 0
    );
    if (!onLink) return;
    this.#ctx.stats.ip.redirectsent++;
    this.icmp.error(iface, ip, ICMP_TYPE.REDIRECT, 1, nextHop, false);
  }

  /** Hands a finished datagram to the link, fragmenting it when it exceeds `mtu`. */
  #transmit(
    iface: NetInterface,
    nextHop: number,
    pkt: PacketBuffer,
    mtu: number,
    local: boolean,
  ): Errno | null {
    const ctx = this.#ctx;
    const ip = this.#innerView;
    ip.wrap(pkt.bytes, pkt.start, pkt.length);
    if (pkt.length <= mtu) {
      const skipSum = iface.isLoopback && ctx.tunables.ip.doLoopbackCksum === 0;
      if (local && !skipSum) ip.fillChecksum();
      return this.#toLink(iface, nextHop, pkt);
    }
    if (pkt.bytes[pkt.start + 6] & (IP_DF >> 8)) {
      ctx.stats.ip.cantfrag++;
      ctx.pool.free(pkt);
      return local ? "EMSGSIZE" : null;
    }
    this.#fragment(iface, nextHop, pkt, mtu);
    return null;
  }

  #toLink(iface: NetInterface, nextHop: number, pkt: PacketBuffer): Errno | null {
    switch (iface.linkType) {
      case "ethernet":
        return this.#link.ethernet(iface, nextHop, pkt);
      case "loopback":
        this.#link.loop(iface, pkt);
        return null;
      case "ip":
        this.#link.raw(iface, pkt);
        return null;
    }
  }

  /** RFC 791 fragmentation: 8-byte aligned pieces, each with a copy of the whole header. */
  #fragment(iface: NetInterface, nextHop: number, pkt: PacketBuffer, mtu: number): void {
    const ctx = this.#ctx, st = ctx.stats.ip;
    const ip = this.#innerView;
    ip.wrap(pkt.bytes, pkt.start, pkt.length);
    const hlen = ip.headerLen;
    const payload = ip.totalLength - hlen;
    const chunk = (mtu - hlen) & ~7;
    if (chunk < 8) {
      st.cantfrag++;
      ctx.pool.free(pkt);
      return;
    }
    const baseOff = ip.fragOffset, baseMf = ip.mf;
    st.fragmented++;
    try {
      for (let off = 0; off < payload; off += chunk) {
        const size = Math.min(chunk, payload - off);
        const frag = ctx.pool.alloc(hlen + size);
        frag.bytes.set(pkt.bytes.subarray(pkt.start, pkt.start + hlen), frag.start);
        frag.bytes.set(
          pkt.bytes.subarray(pkt.start + hlen + off, pkt.start + hlen + off + size),
          frag.start + hlen,
        );
        const f = this.#fragView;
        f.wrap(frag.bytes, frag.start, hlen + size);
        f.setTotalLength(hlen + size);
        f.setFragment(false, baseMf || off + size < payload, baseOff + off);
        f.fillChecksum();
        st.ofragments++;
        this.#toLink(iface, nextHop, frag);
      }
    } finally {
      ctx.pool.free(pkt);
    }
  }
}
