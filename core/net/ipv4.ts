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

import { ErrnoError } from "../errno.ts";
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
  Ipv4View,
} from "../wire/ipv4.ts";
import { ICMP_PARAMPROB, ICMP_TIMXCEED, ICMP_TYPE, ICMP_UNREACH } from "../wire/icmp.ts";
import { Icmp4Layer } from "./icmp4.ts";
import { Reassembler } from "./reassembly.ts";
import { RTF } from "./route_flags.ts";
import type { Route4, RouteEntry } from "./route.ts";
import { FlowCache } from "./flow_cache.ts";
import { formatIp4 } from "./ip_addr.ts";

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
  ifname?: string;
}

/** Where IPv4 sends frames (the link layers of the stack). */
export interface Ip4Link {
  /** Sends `pkt` (IP header at `pkt.start`) to `nextHop` on an Ethernet interface; frees it. */
  ethernet(iface: NetInterface, nextHop: number, pkt: PacketBuffer): void;
  /** Loops `pkt` back to this stack through `iface` (a loopback); frees it. */
  loop(iface: NetInterface, pkt: PacketBuffer): void;
  /** Hands `pkt` to an IP-only link (TUN); frees it. */
  raw(iface: NetInterface, pkt: PacketBuffer): void;
}

/** The IPv4 layer of a stack. */
export class Ipv4Layer {
  readonly icmp: Icmp4Layer;
  readonly reassembly: Reassembler;
  readonly flows: FlowCache;
  readonly #ctx: StackContext;
  readonly #link: Ip4Link;
  readonly #view = new Ipv4View();
  readonly #innerView = new Ipv4View();
  readonly #fragView = new Ipv4View();
  #nextId = 1;
  #fragTimer = false;

  constructor(ctx: StackContext, link: Ip4Link) {
    this.#ctx = ctx;
    this.#link = link;
    this.icmp = new Icmp4Layer(ctx, {
      sendIcmp: (pkt, dst, src) => this.#sendQuietly(pkt, dst, IPPROTO.ICMP, { src }),
      isLocal: (a) => this.isLocal(a),
      isBroadcast: (a, iface) => this.isBroadcast(a, iface),
      pathMtu: (dst, mtu) => this.#learnPathMtu(dst, mtu),
    });
    this.reassembly = new Reassembler(
      () => ctx.sysctl.int("net.inet.ip.maxfragpackets"),
      IPFRAG_TIMEOUT_MS,
    );
    this.flows = new FlowCache(() => ctx.sysctl.int("net.inet.ip.maxflows"));
  }

  /** Whether `addr` is an address of one of our interfaces. */
  isLocal(addr: number): boolean {
    for (const iface of this.#ctx.interfaces()) {
      for (const a of iface.inet) if (a.addr === addr) return true;
    }
    return false;
  }

  /** Whether `addr` is a broadcast address on `iface` (limited, directed, or the old zero-host form). */
  isBroadcast(addr: number, iface: NetInterface): boolean {
    if (addr === 0xffffffff || addr === 0) return true;
    if (!(iface.flags & IFF.BROADCAST)) return false;
    const zero = this.#ctx.sysctl.int("net.inet.ip.hostzerobroadcast") !== 0;
    for (const a of iface.inet) {
      if (a.broadcast === addr) return true;
      if (zero && a.mask !== 0xffffffff && addr === ((a.addr & a.mask) >>> 0)) return true;
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
    const skipSum = iface.isLoopback && ctx.sysctl.int("net.inet.ip.do_loopback_cksum") === 0;
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
      ctx.sysctl.int("net.inet.ip.allowsrcrt") === 0
    ) {
      st.badoptions++;
      this.icmp.error(iface, ip, ICMP_TYPE.UNREACH, ICMP_UNREACH.SRCFAIL, 0, linkBcast);
      return;
    }
    const forUs = this.#acceptsFor(iface, dst);
    if (!forUs) {
      this.#forward(iface, ip, linkBcast);
      return;
    }
    if (ip.isFragment) {
      this.#reassemble(iface, ip, linkBcast);
      return;
    }
    this.#deliver(iface, ip, linkBcast || this.isBroadcast(dst, iface) || dst >>> 28 === 0xe);
  }

  /**
   * Sends the transport payload in `pkt` (at `pkt.start`) to `dst`. Frees `pkt`.
   * Throws ENETUNREACH/EHOSTUNREACH (no route or a reject route), EMSGSIZE (too
   * big with DF), EHOSTDOWN (resolution failed), EADDRNOTAVAIL (bad source).
   */
  output(pkt: PacketBuffer, dst: number, proto: number, opts: Ip4SendOptions): void {
    const ctx = this.#ctx;
    let iface: NetInterface;
    let nextHop = dst;
    let mtu: number;
    try {
      if (opts.ifname !== undefined) {
        iface = this.#ifaceByName(opts.ifname);
        mtu = iface.mtu;
      } else {
        const route = this.#route(dst);
        iface = this.#ifaceByName(route.ifName);
        if (route.flags & RTF.GATEWAY && route.gateway.kind === "inet") {
          nextHop = route.gateway.addr;
        }
        mtu = route.mtu || iface.mtu;
        route.use++;
      }
      // Packets to our own addresses go through the loopback, as BSD routes them.
      if (!iface.isLoopback && this.isLocal(dst)) {
        iface = ctx.interfaces()[0];
        mtu = iface.mtu;
      }
      const src = opts.src ?? this.#sourceFor(iface, dst);
      if (src === null) throw new ErrnoError("EADDRNOTAVAIL", "no source address");
      if (opts.src != null && !this.isLocal(opts.src)) {
        throw new ErrnoError("EADDRNOTAVAIL", "source");
      }
      const total = pkt.length + IPV4_HEADER_LEN;
      const at = pkt.prepend(IPV4_HEADER_LEN);
      emitIpv4Header(pkt.bytes, at, {
        tos: opts.tos ?? 0,
        totalLength: total,
        id: this.#newId(),
        df: opts.df ?? false,
        mf: false,
        fragOffset: 0,
        ttl: opts.ttl ?? ctx.sysctl.int("net.inet.ip.ttl"),
        protocol: proto,
        src,
        dst,
      });
    } catch (e) {
      ctx.pool.free(pkt);
      if (e instanceof ErrnoError && (e.code === "ENETUNREACH" || e.code === "EHOSTUNREACH")) {
        ctx.stats.ip.noroute++;
      }
      throw e;
    }
    ctx.stats.ip.localout++;
    this.#transmit(iface, nextHop, pkt, mtu, true);
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
      const iface = this.#ctx.interfaces()[0];
      this.icmp.error(iface, v, ICMP_TYPE.TIMXCEED, ICMP_TIMXCEED.REASS, 0, false);
    });
  }

  /**
   * A smaller path MTU towards `dst`: kept on a dynamic host route (cloned from
   * the route in use) for `net.inet.ip.mtudisctimeout` seconds.
   */
  #learnPathMtu(dst: number, mtu: number): void {
    const ctx = this.#ctx;
    const route = ctx.routes4.lookup(dst);
    if (!route || route.flags & (RTF.REJECT | RTF.BLACKHOLE)) return;
    const iface = ctx.interfaces().find((i) => i.name === route.ifName);
    if (!iface || mtu >= (route.mtu || iface.mtu)) return;
    if (route.prefixlen === 32) {
      route.mtu = mtu;
    } else {
      ctx.routes4.add({
        dst,
        prefixlen: 32,
        gateway: route.gateway,
        flags: (route.flags & (RTF.UP | RTF.GATEWAY)) | RTF.HOST | RTF.DYNAMIC,
        ifName: route.ifName,
        mtu,
      });
    }
    const made = ctx.routes4.find(dst, 32);
    const timeout = ctx.sysctl.int("net.inet.ip.mtudisctimeout") * 1000;
    ctx.timers.schedule(ctx.now() + timeout, () => {
      const r = ctx.routes4.find(dst, 32);
      if (r !== made || !r) return;
      if (r.flags & RTF.DYNAMIC) ctx.routes4.delete(dst, 32);
      else r.mtu = 0;
    });
  }

  #sendQuietly(pkt: PacketBuffer, dst: number, proto: number, opts: Ip4SendOptions): void {
    try {
      this.output(pkt, dst, proto, opts);
    } catch {
      // An ICMP message that cannot go out is simply not sent (counted by output).
    }
  }

  #ifaceByName(name: string): NetInterface {
    const iface = this.#ctx.interfaces().find((i) => i.name === name);
    if (!iface) throw new ErrnoError("ENXIO", name);
    return iface;
  }

  #route(dst: number): RouteEntry<Route4> {
    const route = this.#ctx.routes4.lookup(dst);
    if (!route) throw new ErrnoError("ENETUNREACH", formatIp4(dst));
    if (route.flags & RTF.REJECT) throw new ErrnoError("EHOSTUNREACH", formatIp4(dst));
    return route;
  }

  /** The source for a packet out of `iface` to `dst`: an address on dst's subnet, else the primary. */
  #sourceFor(iface: NetInterface, dst: number): number | null {
    if (iface.isLoopback && this.isLocal(dst)) return dst;
    for (const a of iface.inet) if (((a.addr ^ dst) & a.mask) === 0) return a.addr;
    return iface.inet[0]?.addr ?? null;
  }

  #newId(): number {
    if (this.#ctx.sysctl.int("net.inet.ip.random_id") !== 0) return (Math.random() * 0x10000) | 0;
    this.#nextId = (this.#nextId + 1) & 0xffff;
    return this.#nextId;
  }

  /** Weak host model unless `checkinterface`: any of our addresses on any interface. */
  #acceptsFor(iface: NetInterface, dst: number): boolean {
    if (dst >>> 28 === 0xe) return dst === 0xe0000001; // all-hosts; no other groups joined yet
    if (this.isBroadcast(dst, iface)) return true;
    if (this.#ctx.sysctl.int("net.inet.ip.checkinterface") !== 0 && !iface.isLoopback) {
      return iface.inet.some((a) => a.addr === dst);
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
    // Rewrite the header as that of an unfragmented datagram, then deliver it.
    const v = this.#innerView;
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

  #deliver(iface: NetInterface, ip: Ipv4View, toGroup: boolean): void {
    const st = this.#ctx.stats.ip;
    st.delivered++;
    switch (ip.protocol) {
      case IPPROTO.ICMP:
        this.icmp.input(iface, ip, toGroup);
        return;
      case IPPROTO.UDP:
        // No UDP sockets yet, so no port is open: answer as a host with none.
        this.#ctx.stats.udp.ipackets++;
        this.#ctx.stats.udp.noport++;
        if (toGroup) this.#ctx.stats.udp.noportbcast++;
        else this.icmp.error(iface, ip, ICMP_TYPE.UNREACH, ICMP_UNREACH.PORT, 0, toGroup);
        return;
      default:
        st.noproto++;
        if (this.#ctx.raw.wants("inet", ip.protocol)) {
          const packet = ip.bytes.subarray(ip.offset, ip.offset + ip.totalLength);
          this.#ctx.raw.deliver("inet", ip.protocol, packet, formatIp4(ip.src), ip.ttl, iface.name);
          return;
        }
        this.icmp.error(iface, ip, ICMP_TYPE.UNREACH, ICMP_UNREACH.PROTOCOL, 0, toGroup);
    }
  }

  #forward(inIface: NetInterface, ip: Ipv4View, linkBcast: boolean): void {
    const ctx = this.#ctx, st = ctx.stats.ip;
    const dst = ip.dst;
    if (
      ctx.sysctl.int("net.inet.ip.forwarding") === 0 || linkBcast || dst >>> 28 >= 0xe ||
      dst >>> 24 === 127 || dst >>> 24 === 0 || inIface.isLoopback
    ) {
      st.cantforward++;
      return;
    }
    if (ip.ttl <= 1) {
      this.icmp.error(inIface, ip, ICMP_TYPE.TIMXCEED, ICMP_TIMXCEED.INTRANS, 0, linkBcast);
      return;
    }
    const fast = ctx.sysctl.int("net.inet.ip.maxflows") > 0 && this.#fastforwardOn();
    let flow = fast ? this.flows.get(dst, ctx.routes4.generation) : undefined;
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
      const out = this.#ctx.interfaces().find((i) => i.name === route.ifName);
      if (!out || out.isLoopback) {
        st.cantforward++;
        return;
      }
      if (this.isBroadcast(dst, out) && ctx.sysctl.int("net.inet.ip.directed-broadcast") === 0) {
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
      if (fast) this.flows.put(dst, flow, ctx.routes4.generation);
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
    pkt.bytes.set(ip.bytes.subarray(ip.offset, ip.offset + len), pkt.start);
    const out = this.#innerView;
    out.wrap(pkt.bytes, pkt.start, len);
    out.setTtl(ip.ttl - 1);
    st.forward++;
    try {
      this.#transmit(flow.iface, flow.nextHop, pkt, flow.mtu, false);
    } catch (e) {
      // A next hop whose resolution failed (EHOSTDOWN): NetBSD's ip_forward answers host unreachable.
      if (!(e instanceof ErrnoError)) throw e;
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
    if (this.#ctx.sysctl.int("net.inet.ip.redirect") === 0 || !viaGateway) return;
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
  ): void {
    const ctx = this.#ctx;
    const ip = this.#innerView;
    ip.wrap(pkt.bytes, pkt.start, pkt.length);
    if (pkt.length <= mtu) {
      const skipSum = iface.isLoopback && ctx.sysctl.int("net.inet.ip.do_loopback_cksum") === 0;
      if (local && !skipSum) ip.fillChecksum();
      this.#toLink(iface, nextHop, pkt);
      return;
    }
    if (pkt.bytes[pkt.start + 6] & (IP_DF >> 8)) {
      ctx.stats.ip.cantfrag++;
      ctx.pool.free(pkt);
      if (local) throw new ErrnoError("EMSGSIZE", "datagram larger than the path MTU with DF");
      return;
    }
    this.#fragment(iface, nextHop, pkt, mtu);
  }

  #toLink(iface: NetInterface, nextHop: number, pkt: PacketBuffer): void {
    switch (iface.linkType) {
      case "ethernet":
        this.#link.ethernet(iface, nextHop, pkt);
        return;
      case "loopback":
        this.#link.loop(iface, pkt);
        return;
      case "ip":
        this.#link.raw(iface, pkt);
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
