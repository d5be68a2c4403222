/**
 * The host side of router discovery (RFC 4861 §6.3), stateless address
 * autoconfiguration (RFC 4862 §5.5) and redirects (RFC 4861 §8.3), for a
 * stack with `net.inet6.ip6.accept_rtadv` on and forwarding off (routers do
 * not autoconfigure, §6.2.8):
 *
 * - Router Solicitations when an interface comes up (once its link-local
 *   address passed DAD; up to 3, 4 s apart, until an advertisement comes).
 * - Router Advertisements: the default router list (a default route through
 *   the first router, `UG`, via its link-local address with its zone), the
 *   prefix list (an on-link prefix route, `UC`, per prefix with the L flag),
 *   SLAAC addresses (prefix + EUI-64) for prefixes with the A flag, with their
 *   preferred and valid lifetimes (deprecated, then removed) and the two-hour
 *   rule, CurHopLimit, ReachableTime, RetransTimer and the MTU option.
 * - Redirects (`net.inet6.icmp6.rediraccept`): a dynamic host route.
 *
 * A router answers nothing here: Router Advertisements are rtadvd's work (a
 * raw ICMPv6 socket), as on NetBSD. Bad messages are counted (badrs, badra,
 * badredirect) and dropped.
 *
 * @example
 * ```ts ignore
 * router.input(iface, ip, offset, length); // an RS, RA or Redirect
 * ```
 * @module
 */

import type { PacketBuffer } from "../buf/packet_pool.ts";
import type { StackContext } from "../stack_context.ts";
import type { Timer } from "../time/timers.ts";
import type { Inet6Addr, NetInterface } from "../link/interface.ts";
import { ICMP6_TYPE } from "../wire/icmpv6.ts";
import type { Ipv6View } from "../wire/ipv6.ts";
import {
  emitNdLinkAddrOpt,
  emitRouterSolicit,
  IP6_ALL_ROUTERS,
  IP6_UNSPECIFIED,
  ND_HOP_LIMIT,
  ND_INFINITE_LIFETIME,
  ND_OPT,
  ND_RS_LEN,
  NdOptions,
  ndOptLength,
  ndOptLinkAddr,
  ndOptMtu,
  parseNdOptions,
  PrefixInfoView,
  RedirectView,
  RouterAdvertView,
  RouterSolicitView,
} from "../wire/ndp.ts";
import { deleteInet6 } from "./addresses.ts";
import { formatIp6, ip6Equal, isLinkLocal6, maskIp6 } from "./ip_addr.ts";
import type { Nd6Entry } from "./nd6_cache.ts";
import { RTF } from "./route_flags.ts";

/** MAX_RTR_SOLICITATIONS (RFC 4861 §10). */
export const ND6_MAX_RTR_SOLICITATIONS = 3;
/** RTR_SOLICITATION_INTERVAL (RFC 4861 §10). */
export const ND6_RTR_SOLICITATION_INTERVAL_MS = 4000;
/** How long a redirect's host route lives (NetBSD's icmp6 redirtimeout). */
export const ND6_REDIRECT_TIMEOUT_MS = 600_000;
/** RFC 4862 §5.5.3 e): the two hours a valid lifetime cannot be cut below by an RA. */
const TWO_HOURS = 7200;

const ZERO16 = new Uint8Array(16);

/** What router discovery needs of the ND layer. */
export interface Nd6RouterHost {
  /** The ND variables of an interface. */
  ifInfo(ifIndex: number): {
    baseReachable: number;
    reachable: number;
    retrans: number;
    chlim: number;
    linkMtu: number;
  };
  /** Creates or updates the neighbour entry of a message's sender. */
  learn(iface: NetInterface, addr: Uint8Array, mac: Uint8Array, router: boolean): void;
  /** Sends an ND message (see `Nd6Lower.send`). */
  send(pkt: PacketBuffer, dst: Uint8Array, src: Uint8Array | null, iface: NetInterface): void;
  /** Adds an autoconfigured address and starts its DAD. */
  addAddress(
    iface: NetInterface,
    addr: Uint8Array,
    prefixlen: number,
    lifetimes: { pltime?: number; vltime?: number },
  ): Inet6Addr;
  /** The neighbour entry of an address, if any. */
  entry(ifIndex: number, addr: Uint8Array): Nd6Entry | undefined;
}

/** A default router (RFC 4861 §6.3.4). */
export interface DefaultRouter {
  readonly addr: Uint8Array;
  readonly iface: NetInterface;
  /** When its lifetime ends (ms). */
  expire: number;
  timer: Timer | null;
}

/** An advertised prefix. */
export interface Nd6Prefix {
  readonly prefix: Uint8Array;
  readonly prefixlen: number;
  readonly iface: NetInterface;
  /** When the on-link prefix expires (ms; Infinity for ever). */
  expire: number;
  /** Whether the prefix route was added for this prefix (and is removed with it). */
  routeAdded: boolean;
  timer: Timer | null;
}

interface AutoAddr {
  iface: NetInterface;
  addr: Inet6Addr;
  validUntil: number;
  preferTimer: Timer | null;
  validTimer: Timer | null;
}

interface Solicitation {
  sent: number;
  timer: Timer | null;
  /** Waiting for the link-local address to pass DAD. */
  waiting: boolean;
}

/** Router discovery, SLAAC and redirects of one stack. */
export class Nd6Router {
  readonly #ctx: StackContext;
  readonly #host: Nd6RouterHost;
  readonly #routers: DefaultRouter[] = [];
  readonly #prefixes: Nd6Prefix[] = [];
  readonly #auto = new Map<Inet6Addr, AutoAddr>();
  readonly #rs = new Map<number, Solicitation>();
  readonly #rsView = new RouterSolicitView();
  readonly #raView = new RouterAdvertView();
  readonly #rdView = new RedirectView();
  readonly #pi = new PrefixInfoView();
  readonly #opts = new NdOptions();
  /** The router whose default route this layer installed. */
  #installed: DefaultRouter | null = null;

  constructor(ctx: StackContext, host: Nd6RouterHost) {
    this.#ctx = ctx;
    this.#host = host;
  }

  /** The default router list. */
  routers(): readonly DefaultRouter[] {
    return this.#routers;
  }

  /** The prefix list. */
  prefixes(): readonly Nd6Prefix[] {
    return this.#prefixes;
  }

  /** Whether hosts rules apply: RAs accepted and not forwarding. */
  get #accepting(): boolean {
    const s = this.#ctx.sysctl;
    return s.int("net.inet6.ip6.accept_rtadv") !== 0 && s.int("net.inet6.ip6.forwarding") === 0;
  }

  /** A Router Solicitation, Router Advertisement or Redirect. */
  input(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    switch (ip.bytes[offset]) {
      case ICMP6_TYPE.ROUTER_SOLICIT:
        this.#rsInput(iface, ip, offset, length);
        return;
      case ICMP6_TYPE.ROUTER_ADVERT:
        this.#raInput(iface, ip, offset, length);
        return;
      case ICMP6_TYPE.REDIRECT:
        this.#redirectInput(iface, ip, offset, length);
        return;
    }
  }

  /** The interface came up: solicit routers once its link-local address is usable. */
  ifUp(iface: NetInterface, linkLocalReady: boolean): void {
    this.ifDown(iface);
    if (!this.#accepting) return;
    const s: Solicitation = { sent: 0, timer: null, waiting: !linkLocalReady };
    this.#rs.set(iface.index, s);
    if (linkLocalReady) this.#solicitStep(iface, s);
  }

  /** The link-local address of `iface` passed DAD. */
  linkLocalReady(iface: NetInterface): void {
    const s = this.#rs.get(iface.index);
    if (!s || !s.waiting) return;
    s.waiting = false;
    this.#solicitStep(iface, s);
  }

  /** The interface went down: no more solicitations. */
  ifDown(iface: NetInterface): void {
    const s = this.#rs.get(iface.index);
    if (!s) return;
    this.#ctx.timers.cancel(s.timer);
    this.#rs.delete(iface.index);
  }

  /** A neighbour stopped being a router (its NA cleared R, or NUD lost it). */
  routerLost(iface: NetInterface, addr: Uint8Array): void {
    const r = this.#routers.find((x) => x.iface === iface && ip6Equal(x.addr, addr));
    if (r) this.#removeRouter(r);
  }

  /** Forgets the routers, prefixes and addresses learned on an interface. */
  forgetInterface(iface: NetInterface): void {
    this.ifDown(iface);
    for (const r of this.#routers.filter((x) => x.iface === iface)) this.#removeRouter(r);
    for (const p of this.#prefixes.filter((x) => x.iface === iface)) {
      this.#ctx.timers.cancel(p.timer);
      this.#prefixes.splice(this.#prefixes.indexOf(p), 1);
    }
    for (const a of [...this.#auto.values()]) {
      if (a.iface !== iface) continue;
      this.#ctx.timers.cancel(a.preferTimer);
      this.#ctx.timers.cancel(a.validTimer);
      this.#auto.delete(a.addr);
    }
  }

  #solicitStep(iface: NetInterface, s: Solicitation): void {
    s.timer = null;
    if (this.#rs.get(iface.index) !== s || !iface.isUp || !this.#accepting) return;
    if (s.sent >= ND6_MAX_RTR_SOLICITATIONS) {
      this.#rs.delete(iface.index);
      return;
    }
    s.sent++;
    this.#sendRs(iface);
    s.timer = this.#ctx.timers.schedule(
      this.#ctx.now() + ND6_RTR_SOLICITATION_INTERVAL_MS,
      () => this.#solicitStep(iface, s),
    );
  }

  #sendRs(iface: NetInterface): void {
    const mac = iface.spec.lladdr;
    const ll = iface.inet6.find((a) => isLinkLocal6(a.addr) && a.flags.length === 0);
    const pkt = this.#ctx.pool.alloc(ND_RS_LEN + 8);
    let n = emitRouterSolicit(pkt.bytes, pkt.start);
    // From :: a solicitation carries no link-layer address (RFC 4861 §4.1).
    if (ll && mac) n += emitNdLinkAddrOpt(pkt.bytes, pkt.start + n, ND_OPT.SOURCE_LINKADDR, mac);
    pkt.end = pkt.start + n;
    this.#ctx.stats.icmp6.outhist[ICMP6_TYPE.ROUTER_SOLICIT]++;
    this.#host.send(pkt, IP6_ALL_ROUTERS, ll ? ll.addr.slice() : IP6_UNSPECIFIED, iface);
  }

  /** Parses the options; counts and returns false when they are bad. */
  #options(offset: number, end: number, bytes: Uint8Array): boolean {
    if (parseNdOptions(bytes, offset, end, this.#opts) !== null) {
      this.#ctx.stats.icmp6.nd_badopt++;
      return false;
    }
    if (this.#opts.prefixOverflow > 0) this.#ctx.stats.icmp6.nd_toomanyopt++;
    return true;
  }

  /** The 6-byte address of a link-layer option; `undefined` when absent, `null` when malformed. */
  #linkAddr(bytes: Uint8Array, at: number): Uint8Array | null | undefined {
    if (at < 0) return undefined;
    return ndOptLength(bytes, at) === 8 ? ndOptLinkAddr(bytes, at).subarray(0, 6) : null;
  }

  /** RFC 4861 §6.1.1, §6.2.6: a router learns the soliciting host; a host ignores it. */
  #rsInput(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    if (this.#ctx.tunables.ip6.forwarding === 0) return;
    const v = this.#rsView, b = ip.bytes;
    const unspec = ip6Equal(ip.src, ZERO16);
    let mac: Uint8Array | null | undefined = null;
    const ok = ip.hopLimit === ND_HOP_LIMIT && v.wrap(b, offset, length) === null &&
      this.#options(v.optionsOffset, v.optionsEnd, b) &&
      (mac = this.#linkAddr(b, this.#opts.sourceLinkAddr)) !== null && !(unspec && mac);
    if (!ok) {
      this.#ctx.stats.icmp6.badrs++;
      return;
    }
    if (mac && !unspec) this.#host.learn(iface, ip.src, mac, false);
  }

  /** RFC 4861 §6.1.2, §6.3.4; RFC 4862 §5.5.3. */
  #raInput(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    // NetBSD checks acceptance first, then validity.
    if (!this.#accepting) return;
    const v = this.#raView, b = ip.bytes;
    let mac: Uint8Array | null | undefined = null;
    const ok = ip.hopLimit === ND_HOP_LIMIT && isLinkLocal6(ip.src) &&
      v.wrap(b, offset, length) === null && this.#options(v.optionsOffset, v.optionsEnd, b) &&
      (mac = this.#linkAddr(b, this.#opts.sourceLinkAddr)) !== null;
    if (!ok) {
      this.#ctx.stats.icmp6.badra++;
      return;
    }
    this.ifDown(iface); // an answer: stop soliciting
    const info = this.#host.ifInfo(iface.index);
    if (v.curHopLimit !== 0) info.chlim = v.curHopLimit;
    const reachable = v.reachableTime;
    if (reachable !== 0 && reachable !== info.baseReachable) {
      info.baseReachable = reachable;
      info.reachable = Math.floor(reachable * (0.5 + Math.random()));
    }
    if (v.retransTimer !== 0) info.retrans = v.retransTimer;
    const opts = this.#opts;
    if (opts.mtu >= 0) {
      const mtu = ndOptMtu(b, opts.mtu);
      if (mtu >= 1280 && mtu <= (iface.spec.maxMtu ?? iface.mtu)) info.linkMtu = mtu;
    }
    const src = ip.src.slice();
    if (mac) this.#host.learn(iface, src, mac, true);
    else {
      const e = this.#host.entry(iface.index, src);
      if (e) e.router = true;
    }
    this.#defaultRouter(iface, src, v.routerLifetime);
    // Prefix offsets are kept in opts; nothing below parses options again.
    for (let i = 0; i < opts.prefixCount; i++) {
      const at = opts.prefixes[i];
      if (this.#pi.wrap(b, at, v.optionsEnd - at) === null) this.#prefix(iface);
    }
  }

  #defaultRouter(iface: NetInterface, addr: Uint8Array, lifetime: number): void {
    let r = this.#routers.find((x) => x.iface === iface && ip6Equal(x.addr, addr));
    if (lifetime === 0) {
      if (r) this.#removeRouter(r);
      return;
    }
    if (!r) {
      r = { addr, iface, expire: 0, timer: null };
      this.#routers.push(r);
    }
    const router = r;
    this.#ctx.timers.cancel(router.timer);
    router.expire = this.#ctx.now() + lifetime * 1000;
    router.timer = this.#ctx.timers.schedule(router.expire, () => this.#removeRouter(router));
    this.#installDefault();
  }

  #removeRouter(r: DefaultRouter): void {
    this.#ctx.timers.cancel(r.timer);
    const i = this.#routers.indexOf(r);
    if (i >= 0) this.#routers.splice(i, 1);
    if (this.#installed === r) {
      const route = this.#ctx.routes6.find(ZERO16, 0);
      if (
        route && route.gateway.kind === "inet6" && ip6Equal(route.gateway.addr, r.addr) &&
        route.gatewayZone === r.iface.index
      ) {
        this.#ctx.routes6.delete(ZERO16, 0);
      }
      this.#installed = null;
    }
    this.#installDefault();
  }

  /** The default route goes through the first router of the list, unless one is configured. */
  #installDefault(): void {
    if (this.#installed) return;
    const r = this.#routers[0];
    if (!r || this.#ctx.routes6.find(ZERO16, 0)) return;
    this.#ctx.routes6.add({
      dst: new Uint8Array(16),
      prefixlen: 0,
      gateway: { kind: "inet6", addr: r.addr },
      gatewayZone: r.iface.index,
      flags: RTF.UP | RTF.GATEWAY,
      iface: r.iface,
      mtu: 0,
    });
    this.#installed = r;
  }

  /** One Prefix Information option (in `#pi`). */
  #prefix(iface: NetInterface): void {
    const pi = this.#pi;
    const plen = pi.prefixLength;
    if (plen > 128) return;
    const prefix = maskIp6(pi.prefix, plen);
    if (isLinkLocal6(prefix)) return;
    const valid = pi.validLifetime, preferred = pi.preferredLifetime;
    if (preferred > valid) return; // RFC 4862 §5.5.3 c)
    if (pi.onLink) this.#onLink(iface, prefix, plen, valid);
    if (pi.autonomous) this.#autoconf(iface, prefix, plen, valid, preferred);
  }

  #onLink(iface: NetInterface, prefix: Uint8Array, plen: number, valid: number): void {
    let p = this.#prefixes.find((x) =>
      x.iface === iface && x.prefixlen === plen && ip6Equal(x.prefix, prefix)
    );
    if (valid === 0) {
      if (p) this.#removePrefix(p);
      return;
    }
    if (!p) {
      const routeAdded = this.#ctx.routes6.add({
        dst: prefix,
        prefixlen: plen,
        gateway: { kind: "link", ifIndex: iface.index },
        flags: RTF.UP | RTF.CLONING,
        iface,
        mtu: 0,
      });
      p = { prefix, prefixlen: plen, iface, expire: Infinity, routeAdded, timer: null };
      this.#prefixes.push(p);
    }
    const entry = p;
    this.#ctx.timers.cancel(entry.timer);
    entry.timer = null;
    entry.expire = valid === ND_INFINITE_LIFETIME ? Infinity : this.#ctx.now() + valid * 1000;
    if (Number.isFinite(entry.expire)) {
      entry.timer = this.#ctx.timers.schedule(entry.expire, () => this.#removePrefix(entry));
    }
  }

  #removePrefix(p: Nd6Prefix): void {
    this.#ctx.timers.cancel(p.timer);
    const i = this.#prefixes.indexOf(p);
    if (i >= 0) this.#prefixes.splice(i, 1);
    const covered = p.iface.inet6.some((a) =>
      a.prefixlen === p.prefixlen && ip6Equal(maskIp6(a.addr, p.prefixlen), p.prefix)
    );
    if (p.routeAdded && !covered) this.#ctx.routes6.delete(p.prefix, p.prefixlen);
  }

  /** RFC 4862 §5.5.3 d), e). */
  #autoconf(
    iface: NetInterface,
    prefix: Uint8Array,
    plen: number,
    valid: number,
    preferred: number,
  ): void {
    // The interface identifier is 64 bits (EUI-64): other prefix lengths cannot form an address.
    if (plen !== 64 || !iface.spec.lladdr) return;
    const now = this.#ctx.now();
    let auto: AutoAddr | undefined;
    for (const x of [...this.#auto.values()]) {
      if (x.iface !== iface || !ip6Equal(maskIp6(x.addr.addr, 64), prefix)) continue;
      if (iface.inet6.includes(x.addr)) auto = x;
      else {
        // Deleted by hand (ifconfig -alias): forget it, and configure afresh.
        this.#ctx.timers.cancel(x.preferTimer);
        this.#ctx.timers.cancel(x.validTimer);
        this.#auto.delete(x.addr);
      }
    }
    if (auto) {
      const remaining = (auto.validUntil - now) / 1000;
      let newValid: number | null;
      if (valid === ND_INFINITE_LIFETIME || valid > TWO_HOURS || valid > remaining) {
        newValid = valid;
      } else if (remaining <= TWO_HOURS) newValid = null;
      else newValid = TWO_HOURS;
      this.#setLifetimes(auto, newValid, preferred);
      return;
    }
    if (valid === 0) return;
    const addr = new Uint8Array(16);
    addr.set(prefix.subarray(0, 8));
    const mac = iface.spec.lladdr;
    addr[8] = mac[0] ^ 0x02;
    addr[9] = mac[1];
    addr[10] = mac[2];
    addr[11] = 0xff;
    addr[12] = 0xfe;
    addr[13] = mac[3];
    addr[14] = mac[4];
    addr[15] = mac[5];
    if (iface.inet6.some((a) => ip6Equal(a.addr, addr))) return; // configured by hand already
    const entry = this.#host.addAddress(iface, addr, plen, {});
    const a: AutoAddr = {
      iface,
      addr: entry,
      validUntil: Infinity,
      preferTimer: null,
      validTimer: null,
    };
    this.#auto.set(entry, a);
    this.#setLifetimes(a, valid, preferred);
  }

  /** Sets an autoconfigured address's lifetimes (`valid` null: keep) and its timers. */
  #setLifetimes(a: AutoAddr, valid: number | null, preferred: number): void {
    const now = this.#ctx.now();
    const timers = this.#ctx.timers;
    const entry = a.addr;
    timers.cancel(a.preferTimer);
    a.preferTimer = null;
    entry.pltime = preferred === ND_INFINITE_LIFETIME ? undefined : preferred;
    if (preferred === 0) {
      if (!entry.flags.includes("deprecated")) entry.flags.push("deprecated");
    } else {
      const i = entry.flags.indexOf("deprecated");
      if (i >= 0) entry.flags.splice(i, 1);
      if (preferred !== ND_INFINITE_LIFETIME) {
        a.preferTimer = timers.schedule(now + preferred * 1000, () => {
          a.preferTimer = null;
          if (!entry.flags.includes("deprecated")) entry.flags.push("deprecated");
        });
      }
    }
    if (valid === null) return;
    timers.cancel(a.validTimer);
    a.validTimer = null;
    entry.vltime = valid === ND_INFINITE_LIFETIME ? undefined : valid;
    a.validUntil = valid === ND_INFINITE_LIFETIME ? Infinity : now + valid * 1000;
    if (Number.isFinite(a.validUntil)) {
      a.validTimer = timers.schedule(a.validUntil, () => this.#expireAddress(a));
    }
  }

  #expireAddress(a: AutoAddr): void {
    this.#ctx.timers.cancel(a.preferTimer);
    this.#auto.delete(a.addr);
    if (!a.iface.inet6.includes(a.addr)) return;
    deleteInet6(a.iface, formatIp6(a.addr.addr), this.#ctx.routes6);
  }

  /** RFC 4861 §8.1, §8.3. */
  #redirectInput(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    const ctx = this.#ctx;
    const v = this.#rdView, b = ip.bytes;
    let mac: Uint8Array | null | undefined = null;
    const ok = ip.hopLimit === ND_HOP_LIMIT && isLinkLocal6(ip.src) &&
      v.wrap(b, offset, length) === null && v.destination[0] !== 0xff &&
      (isLinkLocal6(v.target) || ip6Equal(v.target, v.destination)) &&
      this.#options(v.optionsOffset, v.optionsEnd, b) &&
      (mac = this.#linkAddr(b, this.#opts.targetLinkAddr)) !== null;
    if (!ok) {
      ctx.stats.icmp6.badredirect++;
      return;
    }
    if (
      ctx.tunables.icmp6.rediraccept === 0 ||
      ctx.tunables.ip6.forwarding !== 0
    ) return;
    const dst = v.destination.slice(), target = v.target.slice();
    const zone = isLinkLocal6(dst) ? iface.index : undefined;
    // Only the current first hop for the destination may redirect it.
    const route = ctx.routes6.lookup(dst, zone);
    if (
      !route || !(route.flags & RTF.GATEWAY) || route.gateway.kind !== "inet6" ||
      !ip6Equal(route.gateway.addr, ip.src) || route.iface !== iface
    ) {
      ctx.stats.icmp6.badredirect++;
      return;
    }
    const onLink = ip6Equal(target, dst);
    const old = ctx.routes6.find(dst, 128, zone);
    if (old) {
      if (!(old.flags & RTF.DYNAMIC)) return; // a static host route wins
      ctx.routes6.delete(dst, 128, zone);
    }
    ctx.routes6.add({
      dst,
      prefixlen: 128,
      zone,
      gateway: onLink ? { kind: "link", ifIndex: iface.index } : { kind: "inet6", addr: target },
      gatewayZone: onLink ? undefined : iface.index,
      flags: RTF.UP | RTF.HOST | RTF.DYNAMIC | (onLink ? 0 : RTF.GATEWAY),
      iface,
      mtu: 0,
    });
    ctx.stats.route.dynamic++;
    const added = ctx.routes6.find(dst, 128, zone);
    ctx.timers.schedule(ctx.now() + ND6_REDIRECT_TIMEOUT_MS, () => {
      if (added && ctx.routes6.find(dst, 128, zone) === added) ctx.routes6.delete(dst, 128, zone);
    });
    if (mac) this.#host.learn(iface, target, mac, !onLink);
  }
}
