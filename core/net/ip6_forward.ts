/**
 * IPv6 forwarding (RFC 8200, RFC 4291, RFC 4861 §8.2) when
 * `net.inet6.ip6.forwarding` is on: the hop limit is decremented (Time
 * Exceeded at 1), a packet bigger than the next hop's MTU gets Packet Too Big
 * (never fragmented), link-local destinations are never forwarded and
 * link-local sources never leave their link (Destination Unreachable, beyond
 * scope), and a packet leaving by the interface it came in on makes the router
 * send the source a Redirect (`net.inet6.ip6.redirect`). Counters are
 * `ip6stat`'s forward, cantforward, noroute, cantfrag, redirectsent.
 *
 * @example
 * ```ts ignore
 * forwarder.forward(inIface, ipView, length, linkMcast);
 * ```
 * @module
 */

import type { PacketBuffer } from "../buf/packet_pool.ts";
import type { StackContext } from "../stack_context.ts";
import type { NetInterface } from "../link/interface.ts";
import { IPV6_HEADER_LEN, IPV6_MIN_MTU, type Ipv6View } from "../wire/ipv6.ts";
import {
  emitNdLinkAddrOpt,
  emitNdRedirectedHeaderOpt,
  emitRedirect,
  ND_HOP_LIMIT,
  ND_OPT,
  ND_REDIRECT_LEN,
} from "../wire/ndp.ts";
import { ICMP6_TIME_EXCEED, ICMP6_TYPE, ICMP6_UNREACH } from "../wire/icmpv6.ts";
import type { Icmp6Layer, Icmp6SendOptions } from "./icmp6.ts";
import type { Nd6Layer } from "./nd6.ts";
import { addrUsable, commonPrefix } from "./ip6_source.ts";
import { isLinkLocal6, isUnspecified6 } from "./ip_addr.ts";
import { RTF } from "./route_flags.ts";
import { copyBytes } from "../wire/bytes.ts";

/** What forwarding needs of the IPv6 layer. */
export interface Ip6ForwardHost {
  readonly icmp: Icmp6Layer;
  readonly nd: Nd6Layer;
  /** The MTU of an interface (a Router Advertisement's, else its own). */
  linkMtu(iface: NetInterface): number;
  /** Sends a forwarded packet to `nextHop` on `iface`; frees it. */
  toLink(iface: NetInterface, nextHop: Uint8Array, pkt: PacketBuffer): void;
  /** Sends an ICMPv6 message (checksum filled), frees it; never throws. */
  sendIcmp(pkt: PacketBuffer, dst: Uint8Array, opts: Icmp6SendOptions): void;
}

/** IPv6 forwarding of one stack. */
export class Ip6Forwarder {
  readonly #ctx: StackContext;
  readonly #host: Ip6ForwardHost;

  constructor(ctx: StackContext, host: Ip6ForwardHost) {
    this.#ctx = ctx;
    this.#host = host;
  }

  /** A datagram (`len` bytes in `ip`, borrowed) not addressed to this node. */
  forward(inIface: NetInterface, ip: Ipv6View, len: number, linkMcast: boolean): void {
    const ctx = this.#ctx, st = ctx.stats.ip6, icmp = this.#host.icmp;
    const src = ip.src, dst = ip.dst;
    if (
      !this.#host.nd.forwarding || linkMcast || inIface.isLoopback || isUnspecified6(src) ||
      isLinkLocal6(dst)
    ) {
      st.cantforward++;
      return;
    }
    if (ip.hopLimit <= 1) {
      this.#error(inIface, ip, len, ICMP6_TYPE.TIME_EXCEEDED, ICMP6_TIME_EXCEED.TRANSIT, 0);
      return;
    }
    const route = ctx.routes6.lookup(dst);
    if (!route) {
      st.noroute++;
      st.cantforward++;
      this.#error(inIface, ip, len, ICMP6_TYPE.DST_UNREACH, ICMP6_UNREACH.NOROUTE, 0);
      return;
    }
    if (route.flags & RTF.BLACKHOLE) return;
    if (route.flags & RTF.REJECT) {
      st.cantforward++;
      this.#error(inIface, ip, len, ICMP6_TYPE.DST_UNREACH, ICMP6_UNREACH.REJECT_ROUTE, 0);
      return;
    }
    const out = route.iface;
    if (!out || out.isLoopback) {
      st.cantforward++;
      return;
    }
    if (isLinkLocal6(src) && out !== inIface) {
      // RFC 4291 §2.5.6: a link-local source never leaves its link.
      st.cantforward++;
      st.badscope++;
      this.#error(inIface, ip, len, ICMP6_TYPE.DST_UNREACH, ICMP6_UNREACH.BEYONDSCOPE, 0);
      return;
    }
    const gw = route.flags & RTF.GATEWAY && route.gateway.kind === "inet6"
      ? route.gateway.addr
      : null;
    const nextHop = gw ?? dst;
    const mtu = route.mtu || this.#host.linkMtu(out);
    if (len > mtu) {
      st.cantfrag++;
      icmp.error(inIface, ip.bytes, ip.offset, len, ICMP6_TYPE.PACKET_TOO_BIG, 0, mtu, linkMcast);
      return;
    }
    route.use++;
    if (out === inIface) this.#maybeRedirect(inIface, ip, len, nextHop, gw !== null);
    // The frame is borrowed: copy the datagram into a buffer of our own.
    const pkt = ctx.pool.alloc(len);
    copyBytes(pkt.bytes, pkt.start, ip.bytes, ip.offset, len);
    pkt.bytes[pkt.start + 7] = ip.hopLimit - 1;
    st.forward++;
    this.#host.toLink(out, nextHop, pkt);
  }

  #error(iface: NetInterface, ip: Ipv6View, len: number, type: number, code: number, word: number) {
    this.#host.icmp.error(iface, ip.bytes, ip.offset, len, type, code, word, false);
  }

  /**
   * RFC 4861 §8.2: tells a neighbour that sent a packet which leaves by the
   * interface it came in on of a better first hop: the next-hop router (by its
   * link-local address) or the destination itself when it is on-link.
   */
  #maybeRedirect(
    iface: NetInterface,
    ip: Ipv6View,
    len: number,
    nextHop: Uint8Array,
    viaGateway: boolean,
  ): void {
    const ctx = this.#ctx;
    if (ctx.tunables.ip6.redirect === 0) return;
    const src = ip.src;
    const neighbour = isLinkLocal6(src) ||
      iface.inet6.some((a) => a.prefixlen < 128 && commonPrefix(a.addr, src) >= a.prefixlen);
    if (!neighbour || (viaGateway && !isLinkLocal6(nextHop))) return;
    const ll = iface.inet6.find((a) => isLinkLocal6(a.addr) && addrUsable(a));
    if (!ll || !this.#host.icmp.allowError()) return;
    const entry = this.#host.nd.cache.get(iface.index, nextHop);
    const max = IPV6_MIN_MTU - IPV6_HEADER_LEN;
    const room = max - ND_REDIRECT_LEN - (entry?.mac ? 8 : 0);
    const pkt = ctx.pool.alloc(max);
    const b = pkt.bytes, at = pkt.start;
    let n = emitRedirect(b, at, viaGateway ? nextHop : ip.dst, ip.dst);
    if (entry?.mac) n += emitNdLinkAddrOpt(b, at + n, ND_OPT.TARGET_LINKADDR, entry.mac);
    n += emitNdRedirectedHeaderOpt(b, at + n, ip.bytes.subarray(ip.offset, ip.offset + len), room);
    pkt.end = at + n;
    ctx.stats.ip6.redirectsent++;
    ctx.stats.icmp6.outhist[ICMP6_TYPE.REDIRECT]++;
    this.#host.sendIcmp(pkt, src.slice(), {
      src: ll.addr,
      hlim: ND_HOP_LIMIT,
      iface,
      zone: iface.index,
    });
  }
}
