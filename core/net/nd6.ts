/**
 * Neighbour Discovery for IPv6 (RFC 4861) and address autoconfiguration
 * (RFC 4862) on Ethernet interfaces: address resolution with the NUD state
 * machine of {@linkcode Nd6Cache} (packets held while INCOMPLETE), answers to
 * Neighbor Solicitations for our addresses (DAD probes from `::` included;
 * with the R flag when forwarding), Duplicate Address Detection
 * (`net.inet6.ip6.dad_count` probes a RetransTimer apart; `tentative` until
 * done, `duplicated` and a log line when another node has the address), the
 * EUI-64 link-local address when an interface is brought up, and, through
 * {@linkcode Nd6Router}, Router Solicitation, Router Advertisements, SLAAC and
 * Redirects. Counters are NetBSD's `icmp6stat` (badns, badna, nd_badopt...).
 *
 * Every ND message is checked as RFC 4861 §6.1, §7.1 and §8.1 say (hop limit
 * 255, code 0, length, option lengths, address rules); a bad one is counted and
 * dropped.
 *
 * @example
 * ```ts ignore
 * nd.resolveAndSend(iface, nextHop, pkt); // sends now or once the answer comes
 * nd.ifUp(iface); // link-local address, DAD, Router Solicitation
 * ```
 * @module
 */

import { ErrnoError } from "../errno.ts";
import type { PacketBuffer } from "../buf/packet_pool.ts";
import type { NeighborInfo } from "../control/ops.ts";
import type { StackContext } from "../stack_context.ts";
import type { Timer } from "../time/timers.ts";
import type { EtherLayer } from "../link/ether.ts";
import { formatLladdr, type Inet6Addr, type NetInterface } from "../link/interface.ts";
import { IFF } from "../link/if_flags.ts";
import { ETHERTYPE } from "../wire/ethernet.ts";
import { ICMP6_TYPE } from "../wire/icmpv6.ts";
import type { Ipv6View } from "../wire/ipv6.ts";
import {
  emitNdLinkAddrOpt,
  emitNeighborAdvert,
  emitNeighborSolicit,
  IP6_ALL_NODES,
  IP6_UNSPECIFIED,
  isSolicitedNode,
  ND_HOP_LIMIT,
  ND_NA_FLAG,
  ND_NA_LEN,
  ND_NS_LEN,
  ND_OPT,
  NdOptions,
  ndOptLength,
  ndOptLinkAddr,
  NeighborAdvertView,
  NeighborSolicitView,
  parseNdOptions,
  solicitedNode,
} from "../wire/ndp.ts";
import { addInet6 } from "./addresses.ts";
import { formatIp6, ip6Equal, isLinkLocal6, isUnspecified6 } from "./ip_addr.ts";
import { addrUsable } from "./ip6_source.ts";
import { Nd6Cache, type Nd6Entry, type Nd6Timing } from "./nd6_cache.ts";
import { Nd6Router } from "./nd6_router.ts";
import { RTF } from "./route_flags.ts";

/** RetransTimer default (RFC 4861 §10). */
export const ND6_RETRANS_MS = 1000;
/** BaseReachableTime default (RFC 4861 §10). */
export const ND6_REACHABLE_MS = 30_000;

/** How ND sends its messages (the IPv6 layer). */
export interface Nd6Lower {
  /**
   * Sends the ICMPv6 message in `pkt` out of `iface` to `dst` with hop limit
   * 255, filling its checksum; `src` null selects one, and may be `::` for
   * DAD. Frees `pkt`; never throws.
   */
  send(pkt: PacketBuffer, dst: Uint8Array, src: Uint8Array | null, iface: NetInterface): void;
  /** Sends ICMPv6 address unreachable about a held packet whose resolution failed. */
  unreachable(iface: NetInterface, packet: Uint8Array): void;
}

/** Per-interface ND variables (RFC 4861 §6.3.2), changed by Router Advertisements. */
export interface Nd6IfInfo {
  baseReachable: number;
  reachable: number;
  retrans: number;
  /** CurHopLimit from a Router Advertisement; 0 until one says. */
  chlim: number;
  /** The link MTU from a Router Advertisement; 0 until one says. */
  linkMtu: number;
}

interface DadState {
  iface: NetInterface;
  addr: Inet6Addr;
  sent: number;
  nsIn: number;
  naIn: number;
  timer: Timer | null;
}

/** ReachableTime: BaseReachableTime times a random factor in [0.5, 1.5) (RFC 4861 §6.3.2). */
export function randomReachable(base: number): number {
  return Math.floor(base * (0.5 + Math.random()));
}

/** The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A) into `out[8..16)`. */
export function eui64(mac: Uint8Array, out: Uint8Array): void {
  out[8] = mac[0] ^ 0x02;
  out[9] = mac[1];
  out[10] = mac[2];
  out[11] = 0xff;
  out[12] = 0xfe;
  out[13] = mac[3];
  out[14] = mac[4];
  out[15] = mac[5];
}

function dropFlag(a: Inet6Addr, flag: Inet6Addr["flags"][number]): void {
  const i = a.flags.indexOf(flag);
  if (i >= 0) a.flags.splice(i, 1);
}

/** The Neighbour Discovery layer of a stack. */
export class Nd6Layer {
  readonly cache: Nd6Cache;
  readonly router: Nd6Router;
  /** Told as DAD of an address starts (or is skipped), before any probe: MLD joins its groups. */
  dadStarting: ((iface: NetInterface) => void) | null = null;
  readonly #ctx: StackContext;
  readonly #ether: EtherLayer;
  readonly #lower: Nd6Lower;
  readonly #ifInfo = new Map<number, Nd6IfInfo>();
  readonly #dad = new Map<Inet6Addr, DadState>();
  readonly #ns = new NeighborSolicitView();
  readonly #na = new NeighborAdvertView();
  readonly #opts = new NdOptions();
  readonly #mcastMac = new Uint8Array(6);
  #timer: Timer | null = null;
  #timerAt = Infinity;

  constructor(ctx: StackContext, ether: EtherLayer, lower: Nd6Lower) {
    this.#ctx = ctx;
    this.#ether = ether;
    this.#lower = lower;
    this.cache = new Nd6Cache((ifIndex): Nd6Timing => {
      const info = this.ifInfo(ifIndex);
      return {
        retrans: info.retrans,
        reachable: info.reachable,
        delay: ctx.tunables.icmp6.nd6Delay * 1000,
        mmaxtries: ctx.tunables.icmp6.nd6Mmaxtries,
        umaxtries: ctx.tunables.icmp6.nd6Umaxtries,
      };
    });
    this.router = new Nd6Router(ctx, {
      ifInfo: (i) => this.ifInfo(i),
      learn: (iface, addr, mac, router) => this.#learn(iface, addr, mac, router),
      send: (pkt, dst, src, iface) => lower.send(pkt, dst, src, iface),
      addAddress: (iface, addr, prefixlen, lifetimes) =>
        this.#addAuto(iface, addr, prefixlen, lifetimes),
      entry: (ifIndex, addr) => this.cache.get(ifIndex, addr),
    });
  }

  /** The ND variables of an interface (created with the defaults on first use). */
  ifInfo(ifIndex: number): Nd6IfInfo {
    let info = this.#ifInfo.get(ifIndex);
    if (!info) {
      info = {
        baseReachable: ND6_REACHABLE_MS,
        reachable: randomReachable(ND6_REACHABLE_MS),
        retrans: ND6_RETRANS_MS,
        chlim: 0,
        linkMtu: 0,
      };
      this.#ifInfo.set(ifIndex, info);
    }
    return info;
  }

  /** Whether this stack acts as a router (`net.inet6.ip6.forwarding`). */
  get forwarding(): boolean {
    return this.#ctx.tunables.ip6.forwarding !== 0;
  }

  /**
   * Sends the IPv6 packet in `pkt` (IPv6 header at `pkt.start`) to `nextHop`
   * on Ethernet interface `iface`, resolving its link address first (multicast
   * maps straight to 33:33:xx:xx:xx:xx). Frees `pkt` in every case.
   */
  resolveAndSend(iface: NetInterface, nextHop: Uint8Array, pkt: PacketBuffer): void {
    const ctx = this.#ctx;
    try {
      if (nextHop[0] === 0xff) {
        const m = this.#mcastMac;
        m[0] = m[1] = 0x33;
        m[2] = nextHop[12];
        m[3] = nextHop[13];
        m[4] = nextHop[14];
        m[5] = nextHop[15];
        this.#ether.send(iface, pkt, ETHERTYPE.IPV6, m);
        return;
      }
      const now = ctx.now();
      const mac = this.cache.lookup(iface.index, nextHop, now);
      if (mac) {
        this.#ether.send(iface, pkt, ETHERTYPE.IPV6, mac);
        // O(1) per send: the timer moves only when this lookup moved an entry's deadline.
        const moved = this.cache.movedDeadline;
        if (moved >= 0 && moved < this.#timerAt) this.#armTimer();
        return;
      }
      const action = this.cache.resolve(iface.index, nextHop, pkt.view(), now);
      if (action.kind === "send") {
        this.#ether.send(iface, pkt, ETHERTYPE.IPV6, action.mac);
      } else if (action.solicit) {
        // RFC 4861 §7.2.2: ask from the source of the packet that prompted it, when ours.
        const src = pkt.bytes.subarray(pkt.start + 8, pkt.start + 24);
        this.#solicit(iface, nextHop, this.#ownUsable(iface, src) ? src.slice() : null, false);
      }
      this.#armTimer();
    } finally {
      ctx.pool.free(pkt);
    }
  }

  /** A Neighbour Discovery message (checksum already verified by ICMPv6). */
  input(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    if (iface.linkType !== "ethernet") return;
    switch (ip.bytes[offset]) {
      case ICMP6_TYPE.NEIGHBOR_SOLICIT:
        this.#nsInput(iface, ip, offset, length);
        return;
      case ICMP6_TYPE.NEIGHBOR_ADVERT:
        this.#naInput(iface, ip, offset, length);
        return;
      default:
        this.router.input(iface, ip, offset, length);
    }
  }

  /**
   * The interface was brought up (SIOCSIFFLAGS, as NetBSD's in6_if_up): adds
   * the EUI-64 link-local address if it has none, starts DAD on tentative
   * addresses, and solicits routers when `accept_rtadv` is on.
   */
  ifUp(iface: NetInterface): void {
    if (!this.#ndCapable(iface)) return;
    const autoLinkLocal = this.#ctx.sysctl.int("net.inet6.ip6.auto_linklocal") !== 0;
    if (autoLinkLocal && !iface.inet6.some((a) => isLinkLocal6(a.addr))) {
      const ll = new Uint8Array(16);
      ll[0] = 0xfe;
      ll[1] = 0x80;
      eui64(iface.spec.lladdr!, ll);
      const entry = addInet6(
        iface,
        { family: "inet6", addr: formatIp6(ll), prefixlen: 64 },
        this.#ctx.routes6,
        this.#ctx.interfaces()[0],
      );
      this.startDad(iface, entry);
    }
    for (const a of iface.inet6) {
      if (a.flags.includes("tentative") && !this.#dad.has(a)) this.startDad(iface, a);
    }
    this.router.ifUp(iface, this.#linkLocalReady(iface));
  }

  /** The interface went down: DAD and router solicitation stop. */
  ifDown(iface: NetInterface): void {
    for (const d of [...this.#dad.values()]) {
      if (d.iface !== iface) continue;
      this.#ctx.timers.cancel(d.timer);
      this.#dad.delete(d.addr);
    }
    this.router.ifDown(iface);
  }

  /**
   * A new address on `iface`: DAD runs when the interface was already up and
   * running (NetBSD's in6if_do_dad) and `dad_count` is above 0.
   */
  addressAdded(iface: NetInterface, a: Inet6Addr, wasRunning: boolean): void {
    if (!wasRunning || !this.#ndCapable(iface)) return;
    this.startDad(iface, a);
  }

  /** Starts Duplicate Address Detection of `a` (RFC 4862 §5.4): tentative until it passes. */
  startDad(iface: NetInterface, a: Inet6Addr): void {
    const count = this.#ctx.sysctl.int("net.inet6.ip6.dad_count");
    const old = this.#dad.get(a);
    if (old) this.#ctx.timers.cancel(old.timer);
    if (count <= 0 || !this.#ndCapable(iface)) {
      dropFlag(a, "tentative");
      this.#dad.delete(a);
      this.dadStarting?.(iface);
      return;
    }
    dropFlag(a, "duplicated");
    if (!a.flags.includes("tentative")) a.flags.push("tentative");
    const d: DadState = { iface, addr: a, sent: 0, nsIn: 0, naIn: 0, timer: null };
    this.#dad.set(a, d);
    this.dadStarting?.(iface);
    this.#dadStep(d);
  }

  /** Entries as `ndp -a` lists them. */
  list(): NeighborInfo[] {
    const now = this.#ctx.now();
    const out: NeighborInfo[] = [];
    for (const e of this.cache.entries()) {
      const iface = this.#ctx.interfaceByIndex(e.ifIndex);
      if (!iface) continue;
      out.push(this.info(e, iface, now));
    }
    return out;
  }

  /** One entry as the tools see it. */
  info(e: Nd6Entry, iface: NetInterface, now: number): NeighborInfo {
    const addr = formatIp6(e.addr) + (isLinkLocal6(e.addr) ? `%${iface.name}` : "");
    const n: NeighborInfo = { family: "inet6", addr, ifname: iface.name, state: e.state };
    if (e.mac) n.lladdr = formatLladdr(e.mac);
    if (!e.permanent && Number.isFinite(e.expire)) {
      n.expire = Math.max(0, Math.round((e.expire - now) / 1000));
    }
    if (e.router) n.router = true;
    if (e.published) n.published = true;
    return n;
  }

  /**
   * `ndp -s`: a static entry on the interface of `zone`, or (a global address)
   * on the interface whose on-link prefix holds it; ENETUNREACH when none.
   */
  setStatic(
    addr: Uint8Array,
    zone: number | undefined,
    mac: Uint8Array,
    opts: { temp: boolean; pub: boolean },
  ): NeighborInfo {
    const ctx = this.#ctx;
    let iface: NetInterface | undefined;
    if (zone !== undefined) iface = ctx.interfaceByIndex(zone);
    else if (!isLinkLocal6(addr)) {
      const route = ctx.routes6.lookup(addr);
      if (route && !(route.flags & RTF.GATEWAY)) {
        iface = route.iface;
      }
    }
    if (!iface || iface.linkType !== "ethernet") {
      throw new ErrnoError("ENETUNREACH", formatIp6(addr));
    }
    const now = ctx.now();
    const e = this.cache.set(iface.index, addr, mac, opts, now);
    this.#armTimer();
    return this.info(e, iface, now);
  }

  /** `ndp -d`: removes the entry of `addr` (on `zone`, if given); what it was, or null. */
  delete(addr: Uint8Array, zone?: number): NeighborInfo | null {
    for (const e of this.cache.entries()) {
      if (!ip6Equal(e.addr, addr) || (zone !== undefined && e.ifIndex !== zone)) continue;
      const iface = this.#ctx.interfaceByIndex(e.ifIndex);
      const info = iface ? this.info(e, iface, this.#ctx.now()) : null;
      this.cache.delete(e.ifIndex, e.addr);
      return info;
    }
    return null;
  }

  /** `ndp -c`: removes every entry; returns them. */
  flush(): NeighborInfo[] {
    const all = this.list();
    for (const e of [...this.cache.entries()]) this.cache.delete(e.ifIndex, e.addr);
    return all;
  }

  /** Removes every entry, router and prefix of an interface (it is going away). */
  forgetInterface(iface: NetInterface): void {
    this.ifDown(iface);
    this.cache.deleteInterface(iface.index);
    this.router.forgetInterface(iface);
    this.#ifInfo.delete(iface.index);
  }

  /** Whether ND runs on this interface: Ethernet with a link address, multicast, MTU ≥ 1280. */
  #ndCapable(iface: NetInterface): boolean {
    return iface.linkType === "ethernet" && !!iface.spec.lladdr &&
      (iface.flags & IFF.MULTICAST) !== 0 && iface.mtu >= 1280 && !iface.isLoopback;
  }

  #linkLocalReady(iface: NetInterface): boolean {
    return iface.inet6.some((a) => isLinkLocal6(a.addr) && addrUsable(a));
  }

  /** Whether `addr` is a usable address of `iface`. */
  #ownUsable(iface: NetInterface, addr: Uint8Array): boolean {
    for (const a of iface.inet6) if (ip6Equal(a.addr, addr)) return addrUsable(a);
    return false;
  }

  #own(iface: NetInterface, addr: Uint8Array): Inet6Addr | undefined {
    for (const a of iface.inet6) if (ip6Equal(a.addr, addr)) return a;
    return undefined;
  }

  /** Adds an autoconfigured address (SLAAC) and starts its DAD. */
  #addAuto(
    iface: NetInterface,
    addr: Uint8Array,
    prefixlen: number,
    lifetimes: { pltime?: number; vltime?: number },
  ): Inet6Addr {
    const entry = addInet6(
      iface,
      { family: "inet6", addr: formatIp6(addr), prefixlen, ...lifetimes },
      this.#ctx.routes6,
      this.#ctx.interfaces()[0],
    );
    this.startDad(iface, entry);
    return entry;
  }

  #dadStep(d: DadState): void {
    d.timer = null;
    const { iface, addr: a } = d;
    if (!iface.inet6.includes(a) || !iface.isUp) {
      this.#dad.delete(a);
      return;
    }
    const count = this.#ctx.sysctl.int("net.inet6.ip6.dad_count");
    if (d.sent >= count) {
      this.#dad.delete(a);
      dropFlag(a, "tentative");
      if (isLinkLocal6(a.addr)) this.router.linkLocalReady(iface);
      return;
    }
    d.sent++;
    this.#solicit(iface, a.addr, IP6_UNSPECIFIED, false);
    d.timer = this.#ctx.timers.schedule(
      this.#ctx.now() + this.ifInfo(iface.index).retrans,
      () => this.#dadStep(d),
    );
  }

  #dadDuplicated(iface: NetInterface, a: Inet6Addr): void {
    const d = this.#dad.get(a);
    if (d) {
      this.#ctx.timers.cancel(d.timer);
      this.#dad.delete(a);
    }
    dropFlag(a, "tentative");
    if (!a.flags.includes("duplicated")) a.flags.push("duplicated");
    const text = formatIp6(a.addr);
    this.#ctx.log(
      `${iface.name}: DAD detected duplicate IPv6 address ${text}: NS in/out=${d?.nsIn ?? 0}/${
        d?.sent ?? 0
      }, NA in=${d?.naIn ?? 0}`,
    );
    this.#ctx.log(`${iface.name}: DAD complete for ${text} - duplicate found`);
    this.#ctx.log(`${iface.name}: manual intervention required`);
  }

  /**
   * Sends a Neighbor Solicitation for `target`: to its solicited-node group,
   * or (`unicast`, NUD probes) to the target itself. `src` `::` is a DAD
   * probe, which carries no link-layer address option.
   */
  #solicit(
    iface: NetInterface,
    target: Uint8Array,
    src: Uint8Array | null,
    unicast: boolean,
  ): void {
    const mac = iface.spec.lladdr;
    if (!mac) return;
    const dad = src !== null && isUnspecified6(src);
    const pkt = this.#ctx.pool.alloc(ND_NS_LEN + (dad ? 0 : 8));
    let n = emitNeighborSolicit(pkt.bytes, pkt.start, target);
    if (!dad) n += emitNdLinkAddrOpt(pkt.bytes, pkt.start + n, ND_OPT.SOURCE_LINKADDR, mac);
    pkt.end = pkt.start + n;
    let dst: Uint8Array;
    if (unicast) dst = target.slice();
    else {
      dst = new Uint8Array(16);
      solicitedNode(target, dst);
    }
    this.#ctx.stats.icmp6.outhist[ICMP6_TYPE.NEIGHBOR_SOLICIT]++;
    this.#lower.send(pkt, dst, src, iface);
  }

  #advertise(
    iface: NetInterface,
    target: Uint8Array,
    dst: Uint8Array,
    flags: number,
    mac: Uint8Array,
    src: Uint8Array | null,
  ): void {
    const pkt = this.#ctx.pool.alloc(ND_NA_LEN + 8);
    let n = emitNeighborAdvert(pkt.bytes, pkt.start, flags, target);
    n += emitNdLinkAddrOpt(pkt.bytes, pkt.start + n, ND_OPT.TARGET_LINKADDR, mac);
    pkt.end = pkt.start + n;
    this.#ctx.stats.icmp6.outhist[ICMP6_TYPE.NEIGHBOR_ADVERT]++;
    this.#lower.send(pkt, dst, src, iface);
  }

  /** Parses the options; counts and returns false when they are bad. */
  #options(offset: number, end: number, bytes: Uint8Array): boolean {
    const err = parseNdOptions(bytes, offset, end, this.#opts);
    if (err !== null) {
      this.#ctx.stats.icmp6.nd_badopt++;
      return false;
    }
    if (this.#opts.prefixOverflow > 0) this.#ctx.stats.icmp6.nd_toomanyopt++;
    return true;
  }

  /** The Ethernet address of a link-layer address option, or null when it is not 6 bytes. */
  #linkAddr(bytes: Uint8Array, at: number): Uint8Array | null {
    return ndOptLength(bytes, at) === 8 ? ndOptLinkAddr(bytes, at).subarray(0, 6) : null;
  }

  /** RFC 4861 §7.1.1 and §7.2.3; RFC 4862 §5.4.3. */
  #nsInput(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    const st = this.#ctx.stats.icmp6;
    const v = this.#ns;
    const b = ip.bytes;
    const src = ip.src;
    const unspec = isUnspecified6(src);
    if (
      ip.hopLimit !== ND_HOP_LIMIT || v.wrap(b, offset, length) !== null ||
      v.target[0] === 0xff || !this.#options(v.optionsOffset, v.optionsEnd, b)
    ) {
      st.badns++;
      return;
    }
    const slla = this.#opts.sourceLinkAddr;
    const mac = slla >= 0 ? this.#linkAddr(b, slla) : null;
    if ((slla >= 0 && !mac) || (unspec && (!isSolicitedNode(ip.dst) || slla >= 0))) {
      st.badns++;
      return;
    }
    const target = v.target;
    const a = this.#own(iface, target);
    const own = iface.spec.lladdr;
    if (!own) return;
    let answerMac = own;
    let proxy = false;
    if (!a) {
      const e = this.cache.get(iface.index, target);
      if (!e || !e.published || !e.mac) return; // not ours: silently ignored
      answerMac = e.mac;
      proxy = true;
    } else if (!addrUsable(a)) {
      const d = this.#dad.get(a);
      if (d) d.nsIn++;
      // Another node probing the same tentative address: a duplicate (§5.4.3).
      if (unspec && a.flags.includes("tentative")) this.#dadDuplicated(iface, a);
      return;
    }
    if (!unspec && mac) this.#learn(iface, src, mac, false);
    const flags = (this.forwarding ? ND_NA_FLAG.ROUTER : 0) |
      (unspec ? 0 : ND_NA_FLAG.SOLICITED) |
      (proxy || a?.flags.includes("anycast") ? 0 : ND_NA_FLAG.OVERRIDE);
    // A proxy answers from an address of its own (the target is not ours).
    const from = proxy ? null : target.slice();
    this.#advertise(iface, target, unspec ? IP6_ALL_NODES : src.slice(), flags, answerMac, from);
  }

  /** RFC 4861 §7.1.2 and §7.2.5. */
  #naInput(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    const st = this.#ctx.stats.icmp6;
    const v = this.#na;
    const b = ip.bytes;
    if (
      ip.hopLimit !== ND_HOP_LIMIT || v.wrap(b, offset, length) !== null ||
      v.target[0] === 0xff || (ip.isMulticast && v.solicited) ||
      !this.#options(v.optionsOffset, v.optionsEnd, b)
    ) {
      st.badna++;
      return;
    }
    const tlla = this.#opts.targetLinkAddr;
    const mac = tlla >= 0 ? this.#linkAddr(b, tlla) : null;
    if (tlla >= 0 && !mac) {
      st.badna++;
      return;
    }
    const target = v.target;
    const a = this.#own(iface, target);
    if (a) {
      const d = this.#dad.get(a);
      if (d) d.naIn++;
      if (a.flags.includes("tentative")) this.#dadDuplicated(iface, a);
      else {
        this.#ctx.log(
          `${iface.name}: duplicate IPv6 address ${formatIp6(target)} advertised by ${
            mac ? formatLladdr(mac) : "?"
          }`,
        );
      }
      return;
    }
    const e = this.cache.get(iface.index, target);
    if (!e) return; // unsolicited news of a stranger: nothing to update
    const upd = this.cache.advert(
      e,
      mac,
      { solicited: v.solicited, override: v.override, router: v.router },
      this.#ctx.now(),
    );
    this.#flush(iface, e, upd.held);
    if (upd.routerLost) this.router.routerLost(iface, e.addr);
    this.#armTimer();
  }

  /** Records what a message says about its sender; sends what waited for it. */
  #learn(iface: NetInterface, addr: Uint8Array, mac: Uint8Array, router: boolean): void {
    const upd = this.cache.learn(iface.index, addr, mac, this.#ctx.now(), { router });
    const e = this.cache.get(iface.index, addr);
    if (e) this.#flush(iface, e, upd.held);
    this.#armTimer();
  }

  /** Sends the packets that waited for `e`'s link address. */
  #flush(iface: NetInterface, e: Nd6Entry, held: Uint8Array[]): void {
    if (held.length === 0 || !e.mac) return;
    for (const p of held) {
      const pkt = this.#ctx.pool.alloc(p.length);
      pkt.bytes.set(p, pkt.start);
      this.#ether.send(iface, pkt, ETHERTYPE.IPV6, e.mac);
      this.#ctx.pool.free(pkt);
    }
    // Sending to a STALE entry starts NUD (§7.3.3).
    if (e.state === "STALE") {
      this.cache.lookup(e.ifIndex, e.addr, this.#ctx.now());
    }
  }

  #armTimer(): void {
    const next = this.cache.nextDeadline();
    if (next === null || next >= this.#timerAt) return;
    this.#ctx.timers.cancel(this.#timer);
    this.#timerAt = next;
    this.#timer = this.#ctx.timers.schedule(next, () => this.#tick());
  }

  #tick(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    for (const action of this.cache.tick(this.#ctx.now())) {
      const iface = this.#ctx.interfaceByIndex(action.entry.ifIndex);
      if (!iface) continue;
      switch (action.kind) {
        case "solicit": {
          // Ask again from the source of the newest packet waiting, when ours (§7.2.2).
          const held = action.entry.held.at(-1);
          const src = held?.subarray(8, 24);
          this.#solicit(
            iface,
            action.entry.addr,
            src && this.#ownUsable(iface, src) ? src : null,
            false,
          );
          break;
        }
        case "probe":
          this.#probe(iface, action.entry);
          break;
        case "failed":
          // RFC 4861 §7.2.2: address unreachable for each packet that waited.
          for (const p of action.held) this.#lower.unreachable(iface, p);
          if (action.entry.router) this.router.routerLost(iface, action.entry.addr);
          break;
      }
    }
    this.#armTimer();
  }

  /** A unicast NUD probe straight to the cached link address. */
  #probe(iface: NetInterface, e: Nd6Entry): void {
    this.#solicit(iface, e.addr, null, true);
  }

  /** Whether a proxy entry (`ndp -s ... pub`) on `iface` makes us listen to the solicited-node `group`. */
  proxiesGroup(iface: NetInterface, group: Uint8Array): boolean {
    if (this.cache.published === 0) return false;
    for (const e of this.cache.entries()) {
      if (!e.published || e.ifIndex !== iface.index) continue;
      const a = e.addr;
      if (a[13] === group[13] && a[14] === group[14] && a[15] === group[15]) return true;
    }
    return false;
  }
  /**
   * Announces `target`, one of our addresses on `iface`, with an unsolicited
   * Neighbor Advertisement to all nodes (RFC 4861 §7.2.6), as NetBSD does when
   * the interface's link address changes. Tentative and duplicated addresses
   * are not announced.
   */
  announce(iface: NetInterface, target: Inet6Addr): void {
    const mac = iface.spec.lladdr;
    if (!mac || !this.#ndCapable(iface) || !iface.isUp) return;
    if (target.flags.includes("tentative") || target.flags.includes("duplicated")) return;
    const flags = (this.forwarding ? ND_NA_FLAG.ROUTER : 0) |
      (target.flags.includes("anycast") ? 0 : ND_NA_FLAG.OVERRIDE);
    this.#advertise(iface, target.addr, IP6_ALL_NODES, flags, mac, target.addr.slice());
  }
}
