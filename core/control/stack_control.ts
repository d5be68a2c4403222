/**
 * The control plane of one stack: every operation the control socket serves
 * (and an embedding program configures with), taking and giving text where
 * the tools do (`"192.0.2.1"`, `"fe80::1%en0"`, `"02:00:00:00:00:01"`), checked
 * and turned into the binary forms the data plane ({@linkcode StackCore})
 * works with. Each change runs as one turn of the core, so what it sends (a
 * gratuitous ARP, a DAD probe) and what it wakes are settled before it returns.
 *
 * @example
 * ```ts ignore
 * const control = new StackControl(core, { pid: 4242 }); // the daemon passes its process id
 * control.addAddress("en0", { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" });
 * ```
 * @module
 */

import { ErrnoError } from "../errno.ts";
import type {
  AddrSpec,
  IfInfo,
  NeighborInfo,
  RouteGetInfo,
  RouteInfo,
  RouteSpec,
  StackInfo,
} from "./ops.ts";
import type { StackCore } from "../stack_core.ts";
import { IFF } from "../link/if_flags.ts";
import { type NetInterface, parseLladdr } from "../link/interface.ts";
import { loopbackSpec } from "../link/loopback.ts";
import type { AttachedInterface } from "../link/driver.ts";
import { addInet, addInet6, deleteInet, deleteInet6 } from "../net/addresses.ts";
import { formatIp4, parseIp4, parseIp6, splitZone } from "../net/ip_addr.ts";
import {
  addRoute,
  changeRoute,
  deleteRoute,
  flushRoutes,
  getRoute,
  listRoutes,
} from "../net/route_ops.ts";
import { RTF } from "../net/route_flags.ts";
import type { RawDatagram } from "../socket/raw.ts";
import type { Nd6Layer } from "../net/nd6.ts";
import { addLinkAddress, deleteLinkAddress, linkAddresses } from "../link/lladdr.ts";

/** This suite's version, reported by `info`. */
export const VERSION = "0.1.0";

/** Creates interfaces of one cloner (`ifconfig <prefix>N create`). */
export type Cloner = (unit: number) => void | Promise<void>;

/** Loads a module into the running stack (`mount -T io-pkt`); resolves to the new interfaces' names. */
export type ModuleLoader = (module: string, options: string) => Promise<string[]>;

/** Per-send choices of a raw socket. */
export interface RawSendOptions {
  ttl?: number;
  src?: string;
  ifname?: string;
  /** inet6: IPV6_NEXTHOP, a neighbour to hand the packet to (`ping6 -g`); `%zone` allowed. */
  nexthop?: string;
  /** inet6: IPV6_USE_MIN_MTU, -1 (multicast only), 0 or 1 (`ping6` without/with `-m`). */
  minMtu?: number;
}

export { parseLladdr };

/** What the control plane is told at construction. */
export interface StackControlOptions {
  /** Reported by `info`; the daemon passes its process id. */
  pid?: number;
}

/** The control plane over a {@linkcode StackCore}. */
export class StackControl {
  readonly #core: StackCore;
  readonly #pid: number;
  #cloners = new Map<string, Cloner>();
  /** Loads modules for `mount`; set by the daemon. */
  moduleLoader?: ModuleLoader;

  constructor(core: StackCore, opts: StackControlOptions = {}) {
    this.#core = core;
    this.#pid = opts.pid ?? 0;
    this.registerCloner("lo", (unit) => {
      this.#createLoopback(unit);
    });
    this.#createLoopback(0);
  }

  /** `io-pkt` for instance 0, `io-pktN` otherwise: the type `mount -T` answers to. */
  get mountType(): string {
    return this.#core.instance === 0 ? "io-pkt" : `io-pkt${this.#core.instance}`;
  }

  /** Facts for `info`. */
  info(): StackInfo {
    const core = this.#core;
    return {
      version: VERSION,
      instance: core.instance,
      mountType: this.mountType,
      inet6: core.inet6,
      pid: this.#pid,
      prefix: core.config.prefix,
    };
  }

  /** Interfaces as the tools see them. */
  ifInfo(name?: string): IfInfo[] {
    const core = this.#core;
    return name === undefined
      ? core.interfaces().map((i) => i.info())
      : [core.interface(name).info()];
  }

  /** Registers a cloner for `ifconfig <prefix>N create`. */
  registerCloner(prefix: string, create: Cloner): void {
    this.#cloners.set(prefix, create);
  }

  /** Cloner names, as `ifconfig -C` lists them. */
  clonerNames(): string[] {
    return [...this.#cloners.keys()];
  }

  /** `ifconfig NAME create`: finds the cloner by the name's prefix and makes unit N. */
  async createInterface(name: string): Promise<IfInfo> {
    const m = /^([a-z_]+?)(\d+)$/i.exec(name);
    const cloner = m ? this.#cloners.get(m[1]) : undefined;
    if (!m || !cloner) throw new ErrnoError("EINVAL", "SIOCIFCREATE");
    if (this.#core.interfaceByName(name)) throw new ErrnoError("EEXIST", "SIOCIFCREATE");
    await cloner(Number(m[2]));
    return this.#core.interface(name).info();
  }

  /** `ifconfig NAME destroy`: detaches the interface, its addresses and routes. */
  destroyInterface(name: string): void {
    const iface = this.#core.interface(name);
    if (iface.name === "lo0") throw new ErrnoError("EPERM", "SIOCIFDESTROY");
    this.#core.run(() => this.#core.detachInterface(iface));
  }

  /** Sets and clears flags a client may change (SIOCSIFFLAGS). */
  setFlags(name: string, set: number, clear: number): IfInfo {
    const iface = this.#core.interface(name);
    this.#core.run(() => this.#core.setFlags(iface, set, clear, true));
    return iface.info();
  }

  /** Sets the MTU (SIOCSIFMTU); EINVAL outside what the link allows. */
  setMtu(name: string, mtu: number): IfInfo {
    const iface = this.#core.interface(name);
    const max = iface.spec.maxMtu ?? iface.spec.mtu;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > max) {
      throw new ErrnoError("EINVAL", "SIOCSIFMTU");
    }
    iface.mtu = mtu;
    this.#core.interfacesChanged();
    return iface.info();
  }

  /** Hands a link string to the driver (SIOCSLINKSTR); EOPNOTSUPP when it takes none. */
  setLinkStr(name: string, linkstr: string): IfInfo {
    const iface = this.#core.interface(name);
    if (!iface.spec.setLinkStr) throw new ErrnoError("EOPNOTSUPP", "SIOCSLINKSTR");
    iface.spec.setLinkStr(linkstr);
    return iface.info();
  }

  /** Sets the routing metric (SIOCSIFMETRIC). */
  setMetric(name: string, metric: number): IfInfo {
    const iface = this.#core.interface(name);
    if (!Number.isInteger(metric) || metric < 0) throw new ErrnoError("EINVAL", "SIOCSIFMETRIC");
    iface.metric = metric;
    return iface.info();
  }

  /** Zeroes an interface's counters (SIOCZIFDATA). */
  zeroStats(name: string): void {
    const iface = this.#core.interface(name);
    for (const k of Object.keys(iface.stats) as (keyof typeof iface.stats)[]) iface.stats[k] = 0;
  }

  /** Adds or updates an address; a new address brings the interface up, as SIOCAIFADDR does. */
  addAddress(name: string, spec: AddrSpec): IfInfo {
    const core = this.#core;
    const iface = core.interface(name);
    if (spec.family === "inet6" && !core.inet6) {
      throw new ErrnoError("EAFNOSUPPORT", "SIOCAIFADDR_IN6");
    }
    core.run(() => {
      if (spec.family === "inet6") {
        const running = (iface.flags & (IFF.UP | IFF.RUNNING)) === (IFF.UP | IFF.RUNNING);
        const before = iface.inet6.length;
        const entry = addInet6(iface, spec, core.routes6, core.loopbackInterface);
        // A new address on a running interface is tentative until DAD passes.
        if (iface.inet6.length > before) core.ip6?.nd.addressAdded(iface, entry, running);
      } else {
        addInet(iface, spec, core.routes4);
      }
      core.interfacesChanged();
      if (!(iface.flags & IFF.UP)) core.setFlags(iface, IFF.UP, 0, false);
      if (spec.family === "inet") {
        const want = parseIp4(spec.addr);
        const added = iface.inet.find((a) => a.addr === want);
        if (added) core.arp.announce(iface, added.addr);
      }
    });
    return iface.info();
  }

  /** Deletes an address, or the first of its family when `addr` is undefined. */
  deleteAddress(name: string, family: "inet" | "inet6", addr?: string): IfInfo {
    const core = this.#core;
    const iface = core.interface(name);
    if (family === "inet6") {
      if (!core.inet6) throw new ErrnoError("EAFNOSUPPORT", "SIOCDIFADDR_IN6");
      deleteInet6(iface, addr, core.routes6);
    } else {
      deleteInet(iface, addr, core.routes4);
    }
    core.interfacesChanged();
    return iface.info();
  }

  /** Both routing tables as `netstat -r` sees them. */
  routeInfo(): RouteInfo[] {
    return listRoutes(this.#core);
  }

  /** `route add`. */
  addRoute(spec: RouteSpec): RouteInfo {
    return addRoute(this.#core, spec);
  }

  /** `route change`. */
  changeRoute(spec: RouteSpec): RouteInfo {
    return changeRoute(this.#core, spec);
  }

  /** `route delete`. */
  deleteRoute(family: "inet" | "inet6", dst: string, prefixlen: number | null = null): RouteInfo {
    return deleteRoute(this.#core, family, dst, prefixlen);
  }

  /** `route get`. */
  getRoute(family: "inet" | "inet6", dst: string): RouteGetInfo {
    return getRoute(this.#core, family, dst);
  }

  /** `route flush`. */
  flushRoutes(family?: "inet" | "inet6"): RouteInfo[] {
    return flushRoutes(this.#core, family);
  }

  /** Opens a raw socket whose datagrams go to `deliver` (ping's ICMP socket), after each turn. */
  openRawSocket(
    domain: "inet" | "inet6",
    proto: number,
    deliver: (d: RawDatagram) => void,
  ): number {
    if (domain === "inet6" && !this.#core.inet6) throw new ErrnoError("EAFNOSUPPORT", "socket");
    return this.#core.raw.open(domain, proto, deliver);
  }

  /** Sends `data` (the message after the IP header) from a raw socket to `addr`; returns bytes sent. */
  sendRaw(sock: number, addr: string, data: Uint8Array, opts: RawSendOptions): number {
    const core = this.#core;
    const { domain, proto } = core.raw.get(sock);
    if (domain === "inet6") return this.#sendRaw6(proto, addr, data, opts);
    if (domain !== "inet") throw new ErrnoError("EAFNOSUPPORT", "sendto");
    if (opts.nexthop !== undefined || opts.minMtu !== undefined) {
      throw new ErrnoError("ENOPROTOOPT", "an IPv6 option on an inet socket");
    }
    const dst = parseIp4(addr);
    if (dst === null) throw new ErrnoError("EINVAL", `address ${addr}`);
    if (data.length > 0xffff - 20) throw new ErrnoError("EMSGSIZE", "sendto");
    let src: number | null = null;
    if (opts.src !== undefined) {
      src = parseIp4(opts.src);
      if (src === null) throw new ErrnoError("EINVAL", `source ${opts.src}`);
    }
    checkTtl(opts.ttl, "ttl");
    const iface = opts.ifname === undefined ? null : core.interface(opts.ifname);
    const pkt = core.pool.alloc(data.length);
    pkt.bytes.set(data, pkt.start);
    core.stats.ip.rawout++;
    const err = core.run(() =>
      core.ip4.output(pkt, dst, proto, { src, ttl: opts.ttl, iface: iface ?? undefined })
    );
    if (err !== null) throw new ErrnoError(err, "sendto");
    return data.length;
  }

  /**
   * A raw IPv6 socket's send (RFC 3542): `data` is what follows the IPv6
   * header; for ICMPv6 the stack fills the checksum. `addr` may carry a
   * `%zone`; `opts.ifname` picks the interface for multicast and link-local.
   */
  #sendRaw6(proto: number, addr: string, data: Uint8Array, opts: RawSendOptions): number {
    const core = this.#core;
    const ip6 = core.ip6;
    if (!ip6) throw new ErrnoError("EAFNOSUPPORT", "sendto");
    const dst = this.#parseIp6Zoned(addr);
    const src = opts.src === undefined ? null : this.#parseIp6Zoned(opts.src).addr;
    checkTtl(opts.ttl, "hoplimit");
    if (data.length > 0xffff) throw new ErrnoError("EMSGSIZE", "sendto");
    const iface = opts.ifname === undefined ? undefined : core.interface(opts.ifname);
    const hop = opts.nexthop === undefined ? undefined : this.#parseIp6Zoned(opts.nexthop);
    const minMtu = opts.minMtu;
    if (minMtu !== undefined && minMtu !== -1 && minMtu !== 0 && minMtu !== 1) {
      throw new ErrnoError("EINVAL", "IPV6_USE_MIN_MTU");
    }
    const pkt = core.pool.alloc(data.length);
    pkt.bytes.set(data, pkt.start);
    core.stats.ip6.rawout++;
    const err = core.run(() =>
      ip6.output(pkt, dst.addr, proto, {
        src,
        hlim: opts.ttl,
        zone: dst.zone,
        iface,
        icmp6Cksum: proto === 58,
        nextHop: hop?.addr,
        nextHopZone: hop?.zone,
        useMinMtu: minMtu,
      })
    );
    if (err !== null) throw new ErrnoError(err, "sendto");
    return data.length;
  }

  /** Closes a raw socket. */
  closeRawSocket(sock: number): void {
    this.#core.raw.close(sock);
  }

  /** `addr[%zone]`: the zone is an interface name or index; EINVAL/ENXIO when bad. */
  #parseIp6Zoned(text: string): { addr: Uint8Array; zone?: number } {
    const { addr, zone } = splitZone(text);
    const a = parseIp6(addr);
    if (a === null) throw new ErrnoError("EINVAL", `address ${text}`);
    if (zone === undefined) return { addr: a };
    const iface = /^\d+$/.test(zone) ? this.#core.interfaceByIndex(Number(zone)) : undefined;
    return { addr: a, zone: (iface ?? this.#core.interface(zone)).index };
  }

  /** The neighbour cache of a family, as `arp -a` / `ndp -a` list it. */
  neighborList(family: "inet" | "inet6"): NeighborInfo[] {
    if (family === "inet6") return this.#nd6().list();
    return this.#core.arp.list();
  }

  /** `arp -s`: a static entry on the interface whose subnet holds `addr`. */
  neighborSet(
    family: "inet" | "inet6",
    addr: string,
    lladdr: string,
    opts: { temp: boolean; pub: boolean },
  ): NeighborInfo {
    const core = this.#core;
    if (family === "inet6") return this.#neighborSet6(addr, lladdr, opts);
    const a = parseIp4(addr);
    const mac = parseLladdr(lladdr);
    if (a === null) throw new ErrnoError("EINVAL", `address ${addr}`);
    if (!mac) throw new ErrnoError("EINVAL", `link address ${lladdr}`);
    const route = core.routes4.lookup(a);
    const iface: NetInterface | null = route && !(route.flags & RTF.GATEWAY) ? route.iface : null;
    if (!iface || iface.linkType !== "ethernet") throw new ErrnoError("ENETUNREACH", addr);
    core.run(() => core.arp.cache.set(iface.index, a, mac, opts, core.now()));
    return core.arp.list().find((n) => n.addr === formatIp4(a) && n.ifname === iface.name)!;
  }

  /** `arp -d`: ESRCH when there is no entry. */
  neighborDelete(family: "inet" | "inet6", addr: string): NeighborInfo {
    const core = this.#core;
    if (family === "inet6") {
      const { addr: a, zone } = this.#parseIp6Zoned(addr);
      const gone = this.#nd6().delete(a, zone);
      if (!gone) throw new ErrnoError("ESRCH", addr);
      return gone;
    }
    const a = parseIp4(addr);
    if (a === null) throw new ErrnoError("EINVAL", `address ${addr}`);
    const entry = core.arp.list().find((n) => n.addr === formatIp4(a));
    const e = [...core.arp.cache.entries()].find((x) => x.addr === a);
    if (!entry || !e) throw new ErrnoError("ESRCH", addr);
    core.arp.cache.delete(e.ifIndex, a);
    return entry;
  }

  /** `arp -d -a`: deletes every entry; returns them. */
  neighborFlush(family: "inet" | "inet6"): NeighborInfo[] {
    const core = this.#core;
    if (family === "inet6") return this.#nd6().flush();
    const all = core.arp.list();
    for (const e of [...core.arp.cache.entries()]) core.arp.cache.delete(e.ifIndex, e.addr);
    return all;
  }

  /**
   * `ifconfig NAME link ADDR [active]`: adds a link-layer address; `active`
   * makes it the one in use and announces every address of the interface
   * (gratuitous ARP, unsolicited NA), as NetBSD does.
   */
  linkAddressAdd(name: string, lladdr: string, active: boolean): IfInfo {
    const core = this.#core;
    const iface = core.interface(name);
    core.run(() =>
      addLinkAddress(iface, lladdr, active, (i) => {
        for (const a of i.inet) core.arp.announce(i, a.addr);
        if (core.ip6) { for (const a of i.inet6) core.ip6.nd.announce(i, a); }
      })
    );
    return iface.info();
  }

  /** `ifconfig NAME -link ADDR`: deletes an inactive link-layer address. */
  linkAddressDelete(name: string, lladdr: string): IfInfo {
    const iface = this.#core.interface(name);
    deleteLinkAddress(iface, lladdr);
    return iface.info();
  }

  /** The link-layer addresses of each interface (or of `name`): the active one and the others. */
  linkAddressList(name?: string): { name: string; active: string; inactive: string[] }[] {
    const out: { name: string; active: string; inactive: string[] }[] = [];
    const core = this.#core;
    for (const iface of name === undefined ? core.interfaces() : [core.interface(name)]) {
      const l = linkAddresses(iface);
      if (l) out.push({ name: iface.name, ...l });
    }
    return out;
  }

  /** Loads a module into the running stack (`mount -T <type>`). */
  async mount(type: string, module: string, options: string): Promise<string[]> {
    if (type !== this.mountType && type !== "tcpip") {
      throw new ErrnoError("ENOENT", `mount type ${type}`);
    }
    if (!this.moduleLoader) throw new ErrnoError("ENOSYS", "mount");
    return await this.moduleLoader(module, options);
  }

  /** The ND layer; EAFNOSUPPORT on a v4 stack. */
  #nd6(): Nd6Layer {
    if (!this.#core.ip6) throw new ErrnoError("EAFNOSUPPORT", "inet6");
    return this.#core.ip6.nd;
  }

  /** `ndp -s`: `addr` may carry a `%zone`. */
  #neighborSet6(
    addr: string,
    lladdr: string,
    opts: { temp: boolean; pub: boolean },
  ): NeighborInfo {
    const nd = this.#nd6();
    const { addr: a, zone } = this.#parseIp6Zoned(addr);
    const mac = parseLladdr(lladdr);
    if (!mac) throw new ErrnoError("EINVAL", `link address ${lladdr}`);
    return this.#core.run(() => nd.setStatic(a, zone, mac, opts));
  }

  #createLoopback(unit: number): void {
    const core = this.#core;
    let attached: AttachedInterface | null = null;
    // lo0's frames never reach this transmit: IP hands them to the core's loopback queue.
    const spec = loopbackSpec((frame) => {
      const iface = attached && core.interfaceByIndex(attached.index);
      if (iface) attached!.receive(frame);
    });
    attached = core.attachInterface("lo", spec, { prefix: "lo", unit });
    const iface = core.interface(attached.name);
    iface.flags |= IFF.RUNNING;
    if (unit !== 0) return;
    this.addAddress(attached.name, { family: "inet", addr: "127.0.0.1" });
    if (core.inet6) {
      this.addAddress(attached.name, { family: "inet6", addr: "::1", prefixlen: 128 });
      this.addAddress(attached.name, { family: "inet6", addr: "fe80::1", prefixlen: 64 });
    }
  }
}

function checkTtl(ttl: number | undefined, what: string): void {
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0 || ttl > 255)) {
    throw new ErrnoError("EINVAL", what);
  }
}
