/**
 * The stack context: interfaces, addresses, routes, sysctl values and counters,
 * and the operations the control socket performs on them. Sans-I/O: drivers and
 * the daemon call in; nothing here touches the outside world.
 *
 * @example An embedded stack with loopback only
 * ```ts
 * import { Stack } from "./stack.ts";
 * const stack = new Stack({ inet6: true });
 * console.log(stack.interfaces().map((i) => i.name)); // ["lo0"]
 * ```
 * @module
 */

import { ErrnoError } from "./errno.ts";
import type { AddrSpec, IfInfo, NeighborInfo, RouteInfo, StackInfo } from "./control/ops.ts";
import { DEFAULT_STACK_CONFIG, type StackConfig, sysctlOverrides } from "./config.ts";
import type { AttachedInterface, InterfaceSpec } from "./link/driver.ts";
import { IFF, IFF_CANTCHANGE } from "./link/if_flags.ts";
import { allocateIfName } from "./link/if_naming.ts";
import { formatLladdr, NetInterface } from "./link/interface.ts";
import { loopbackSpec } from "./link/loopback.ts";
import { addInet, addInet6, deleteInet, deleteInet6 } from "./net/addresses.ts";
import { RouteTable4, RouteTable6 } from "./net/route.ts";
import { formatIp4, parseIp4, parseIp6, splitZone } from "./net/ip_addr.ts";
import { listRoutes } from "./net/route_ops.ts";
import { createProtoStats } from "./stats.ts";
import type { ProtoStats } from "./control/ops.ts";
import { SysctlTree } from "./sysctl.ts";
import { TimerQueue } from "./time/timers.ts";
import { type PacketBuffer, PacketPool } from "./buf/packet_pool.ts";
import type { StackContext } from "./stack_context.ts";
import { type RawDatagram, RawSockets } from "./socket/raw.ts";
import { RTF } from "./net/route_flags.ts";
import { EtherLayer } from "./link/ether.ts";
import { ArpLayer } from "./link/arp.ts";
import { Ipv4Layer } from "./net/ipv4.ts";
import { Ipv6Layer } from "./net/ipv6.ts";
import { addLinkAddress, deleteLinkAddress, linkAddresses } from "./link/lladdr.ts";
import type { Nd6Layer } from "./net/nd6.ts";

/** This suite's version, reported by `info`. */
export const VERSION = "0.1.0";

/** Options for a {@linkcode Stack}. */
export interface StackOptions {
  /** IPv6 as well as IPv4 (io-pkt-v6-hc); false for io-pkt-v4-hc. */
  inet6: boolean;
  /** `-p tcpip` options, parsed. */
  config?: StackConfig;
  /** `-i` instance number. */
  instance?: number;
  /** Reported by `info`; the daemon passes its process id. */
  pid?: number;
  hostname?: string;
  /** Where log lines go (the daemon's log). */
  log?: (line: string) => void;
  /**
   * The clock, in monotonic milliseconds. Without one, time is virtual: it
   * moves only when {@linkcode Stack.poll} is given a time (tests).
   */
  clock?: () => number;
}

/** Creates interfaces of one cloner (`ifconfig <prefix>N create`). */
export type Cloner = (unit: number) => void | Promise<void>;

/** Loads a module into the running stack (`mount -T io-pkt`); resolves to the new interfaces' names. */
export type ModuleLoader = (module: string, options: string) => Promise<string[]>;

/** Per-send choices of a raw socket. */
export interface RawSendOptions {
  ttl?: number;
  src?: string;
  ifname?: string;
}

/** Parses `xx:xx:xx:xx:xx:xx` (one or two hex digits a part). */
export function parseLladdr(text: string): Uint8Array | null {
  const parts = text.split(":");
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-f]{1,2}$/i.test(p))) return null;
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/** Where naming comes from when an interface attaches. */
export interface AttachNaming {
  /** Name prefix (`name=` or the driver's default). */
  prefix: string;
  /** Explicit unit (`unit=`/`lan=`), else the lowest free one. */
  unit?: number;
}

/** Most raw sockets open at once. */
const MAX_RAW_SOCKETS = 256;

/** One io-pkt stack. */
export class Stack implements StackContext {
  readonly inet6: boolean;
  readonly config: StackConfig;
  readonly instance: number;
  readonly sysctl: SysctlTree;
  readonly stats: ProtoStats;
  readonly routes4 = new RouteTable4();
  readonly routes6 = new RouteTable6();
  /** Loads modules for `mount`; set by the daemon. */
  moduleLoader?: ModuleLoader;
  /** Every timer of the stack; the driver of the stack runs them through {@linkcode Stack.poll}. */
  readonly timers = new TimerQueue();
  readonly pool: PacketPool;
  readonly raw: RawSockets = new RawSockets(MAX_RAW_SOCKETS);
  readonly ether: EtherLayer;
  readonly arp: ArpLayer;
  readonly ip4: Ipv4Layer;
  /** IPv6, ICMPv6 and Neighbour Discovery; null on a v4 stack (io-pkt-v4-hc). */
  readonly ip6: Ipv6Layer | null;
  #clock: (() => number) | null;
  #loopQueue: { iface: NetInterface; frame: Uint8Array }[] = [];
  #virtualNow = 0;
  #ifaces: NetInterface[] = [];
  #cloners = new Map<string, Cloner>();
  #log: (line: string) => void;
  #pid: number;

  constructor(opts: StackOptions) {
    this.inet6 = opts.inet6;
    this.config = opts.config ?? DEFAULT_STACK_CONFIG;
    this.instance = opts.instance ?? 0;
    this.#pid = opts.pid ?? 0;
    this.#log = opts.log ?? (() => {});
    this.#clock = opts.clock ?? null;
    this.pool = new PacketPool({
      mclbytes: this.config.mclbytes,
      cache: this.config.cache,
      pktCache: this.config.pktCache,
    });
    this.sysctl = new SysctlTree({
      inet6: opts.inet6,
      hostname: opts.hostname,
      overrides: sysctlOverrides(this.config, { inet6: opts.inet6 }),
    });
    this.stats = createProtoStats(opts.inet6);
    this.ether = new EtherLayer({
      arpInput: (iface, bytes, off, len) => this.arp.input(iface, bytes, off, len),
      ip4Input: (iface, bytes, off, len, bcast) => this.ip4.input(iface, bytes, off, len, bcast),
      // A v4 stack has no IPv6 input: its frames count as noproto.
      ...(opts.inet6
        ? {
          ip6Input: (iface: NetInterface, b: Uint8Array, off: number, len: number, m: boolean) =>
            this.ip6!.input(iface, b, off, len, m),
        }
        : {}),
    });
    this.arp = new ArpLayer(this, this.ether);
    this.ip4 = new Ipv4Layer(this, {
      ethernet: (iface, nextHop, pkt) => this.arp.resolveAndSend(iface, nextHop, pkt),
      loop: (iface, pkt) => this.#sendAndFree(iface, pkt),
      raw: (iface, pkt) => this.#sendAndFree(iface, pkt),
    });
    this.ip6 = opts.inet6
      ? new Ipv6Layer(this, this.ether, {
        loop: (iface, pkt) => this.#sendAndFree(iface, pkt),
        raw: (iface, pkt) => this.#sendAndFree(iface, pkt),
      })
      : null;
    this.registerCloner("lo", (unit) => {
      this.#createLoopback(unit);
    });
    this.#createLoopback(0);
  }

  /** The current time in milliseconds (the clock, or the virtual time of the last poll). */
  now(): number {
    return this.#clock ? this.#clock() : this.#virtualNow;
  }

  /**
   * Runs what is due (timers, looped-back packets) and returns when to be polled
   * again, or `null` when nothing is pending. `now` moves virtual time.
   */
  poll(now?: number): number | null {
    if (now !== undefined && !this.#clock) this.#virtualNow = Math.max(this.#virtualNow, now);
    this.timers.runDue(this.now());
    return this.timers.nextDeadline();
  }

  /** `io-pkt` for instance 0, `io-pktN` otherwise: the type `mount -T` answers to. */
  get mountType(): string {
    return this.instance === 0 ? "io-pkt" : `io-pkt${this.instance}`;
  }

  /** Facts for `info`. */
  info(): StackInfo {
    return {
      version: VERSION,
      instance: this.instance,
      mountType: this.mountType,
      inet6: this.inet6,
      pid: this.#pid,
      prefix: this.config.prefix,
    };
  }

  /** Writes a line to the log. */
  log(line: string): void {
    this.#log(line);
  }

  /** Interfaces in creation order. */
  interfaces(): readonly NetInterface[] {
    return this.#ifaces;
  }

  /** The interface with this index, if any. */
  interfaceByIndex(index: number): NetInterface | undefined {
    return this.#ifaces.find((i) => i.index === index);
  }

  /** The interface named `name`; ENXIO when there is none. */
  interface(name: string): NetInterface {
    const iface = this.#ifaces.find((i) => i.name === name);
    if (!iface) throw new ErrnoError("ENXIO", name);
    return iface;
  }

  /** Interfaces as the tools see them. */
  ifInfo(name?: string): IfInfo[] {
    return name === undefined ? this.#ifaces.map((i) => i.info()) : [this.interface(name).info()];
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
    if (this.#ifaces.some((i) => i.name === name)) throw new ErrnoError("EEXIST", "SIOCIFCREATE");
    await cloner(Number(m[2]));
    return this.interface(name).info();
  }

  /** Attaches a driver's interface, naming it per the generic options. */
  attachInterface(driver: string, spec: InterfaceSpec, naming: AttachNaming): AttachedInterface {
    const named = allocateIfName(
      naming.prefix,
      naming.unit,
      (n) => this.#ifaces.some((i) => i.name === n),
    );
    if (!named.ok) throw new ErrnoError(named.errno, `attach ${naming.prefix}`);
    const iface = new NetInterface({
      name: named.name,
      index: this.#freeIndex(),
      driver,
      flags: 0,
      spec,
    });
    this.#ifaces.push(iface);
    this.#log(
      `${iface.name}: attached (driver ${driver}${
        spec.lladdr ? `, address ${formatLladdr(spec.lladdr)}` : ""
      })`,
    );
    return {
      name: iface.name,
      index: iface.index,
      receive: (frame) => this.#receive(iface, frame),
      setLinkActive: (active) => {
        iface.linkActive = active;
      },
    };
  }

  /** `ifconfig NAME destroy`: detaches the interface, its addresses and routes. */
  destroyInterface(name: string): void {
    const iface = this.interface(name);
    if (iface.name === "lo0") throw new ErrnoError("EPERM", "SIOCIFDESTROY");
    this.routes4.deleteByInterface(iface.name);
    this.routes6.deleteByInterface(iface.name, iface.index);
    this.arp.forgetInterface(iface.index);
    this.ip4.flows.clear();
    this.ip6?.nd.forgetInterface(iface);
    this.#ifaces.splice(this.#ifaces.indexOf(iface), 1);
    iface.spec.detach?.();
    this.#log(`${iface.name}: detached`);
  }

  /** Sets and clears flags a client may change (SIOCSIFFLAGS). */
  setFlags(name: string, set: number, clear: number): IfInfo {
    return this.#setFlags(name, set, clear, true);
  }

  /**
   * `explicit`: SIOCSIFFLAGS (NetBSD's if_up, which runs in6_if_up: the
   * link-local address, DAD, router solicitation); an address bringing the
   * interface up (SIOCAIFADDR) does not.
   */
  #setFlags(name: string, set: number, clear: number, explicit: boolean): IfInfo {
    const iface = this.interface(name);
    const wasUp = (iface.flags & IFF.UP) !== 0;
    iface.flags = ((iface.flags | (set & ~IFF_CANTCHANGE)) & ~(clear & ~IFF_CANTCHANGE)) >>> 0;
    const isUp = (iface.flags & IFF.UP) !== 0;
    if (wasUp !== isUp) this.#upDown(iface, isUp);
    if (this.ip6 && wasUp !== isUp) {
      if (!isUp) this.ip6.nd.ifDown(iface);
      else if (explicit) this.ip6.nd.ifUp(iface);
    }
    return iface.info();
  }

  /** Sets the MTU (SIOCSIFMTU); EINVAL outside what the link allows. */
  setMtu(name: string, mtu: number): IfInfo {
    const iface = this.interface(name);
    const max = iface.spec.maxMtu ?? iface.spec.mtu;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > max) {
      throw new ErrnoError("EINVAL", "SIOCSIFMTU");
    }
    iface.mtu = mtu;
    return iface.info();
  }

  /** Hands a link string to the driver (SIOCSLINKSTR); EOPNOTSUPP when it takes none. */
  setLinkStr(name: string, linkstr: string): IfInfo {
    const iface = this.interface(name);
    if (!iface.spec.setLinkStr) throw new ErrnoError("EOPNOTSUPP", "SIOCSLINKSTR");
    iface.spec.setLinkStr(linkstr);
    return iface.info();
  }

  /** Sets the routing metric (SIOCSIFMETRIC). */
  setMetric(name: string, metric: number): IfInfo {
    const iface = this.interface(name);
    if (!Number.isInteger(metric) || metric < 0) throw new ErrnoError("EINVAL", "SIOCSIFMETRIC");
    iface.metric = metric;
    return iface.info();
  }

  /** Zeroes an interface's counters (SIOCZIFDATA). */
  zeroStats(name: string): void {
    const iface = this.interface(name);
    for (const k of Object.keys(iface.stats) as (keyof typeof iface.stats)[]) iface.stats[k] = 0;
  }

  /** Adds or updates an address; a new address brings the interface up, as SIOCAIFADDR does. */
  addAddress(name: string, spec: AddrSpec): IfInfo {
    const iface = this.interface(name);
    if (spec.family === "inet6") {
      if (!this.inet6) throw new ErrnoError("EAFNOSUPPORT", "SIOCAIFADDR_IN6");
      const running = (iface.flags & (IFF.UP | IFF.RUNNING)) === (IFF.UP | IFF.RUNNING);
      const before = iface.inet6.length;
      const entry = addInet6(iface, spec, this.routes6, this.#ifaces[0].name);
      // A new address on a running interface is tentative until DAD passes.
      if (iface.inet6.length > before) this.ip6?.nd.addressAdded(iface, entry, running);
    } else {
      addInet(iface, spec, this.routes4);
    }
    if (!(iface.flags & IFF.UP)) this.#setFlags(name, IFF.UP, 0, false);
    if (spec.family === "inet") {
      const want = parseIp4(spec.addr);
      const added = iface.inet.find((a) => a.addr === want);
      if (added) this.arp.announce(iface, added.addr);
    }
    return iface.info();
  }

  /** Deletes an address, or the first of its family when `addr` is undefined. */
  deleteAddress(name: string, family: "inet" | "inet6", addr?: string): IfInfo {
    const iface = this.interface(name);
    if (family === "inet6") {
      if (!this.inet6) throw new ErrnoError("EAFNOSUPPORT", "SIOCDIFADDR_IN6");
      deleteInet6(iface, addr, this.routes6);
    } else {
      deleteInet(iface, addr, this.routes4);
    }
    return iface.info();
  }

  /** Both routing tables as `netstat -r` sees them. */
  routeInfo(): RouteInfo[] {
    return listRoutes(this);
  }

  /** Opens a raw socket whose datagrams go to `deliver` (ping's ICMP socket). */
  openRawSocket(
    domain: "inet" | "inet6",
    proto: number,
    deliver: (d: RawDatagram) => void,
  ): number {
    if (domain === "inet6" && !this.inet6) throw new ErrnoError("EAFNOSUPPORT", "socket");
    return this.raw.open(domain, proto, deliver);
  }

  /** Sends `data` (the message after the IP header) from a raw socket to `addr`; returns bytes sent. */
  sendRaw(sock: number, addr: string, data: Uint8Array, opts: RawSendOptions): number {
    const { domain, proto } = this.raw.get(sock);
    if (domain === "inet6") return this.#sendRaw6(proto, addr, data, opts);
    if (domain !== "inet") throw new ErrnoError("EAFNOSUPPORT", "sendto");
    const dst = parseIp4(addr);
    if (dst === null) throw new ErrnoError("EINVAL", `address ${addr}`);
    if (data.length > 0xffff - 20) throw new ErrnoError("EMSGSIZE", "sendto");
    let src: number | null = null;
    if (opts.src !== undefined) {
      src = parseIp4(opts.src);
      if (src === null) throw new ErrnoError("EINVAL", `source ${opts.src}`);
    }
    if (opts.ttl !== undefined && (!Number.isInteger(opts.ttl) || opts.ttl < 0 || opts.ttl > 255)) {
      throw new ErrnoError("EINVAL", "ttl");
    }
    const pkt = this.pool.alloc(data.length);
    pkt.bytes.set(data, pkt.start);
    this.stats.ip.rawout++;
    this.ip4.output(pkt, dst, proto, { src, ttl: opts.ttl, ifname: opts.ifname });
    return data.length;
  }

  /**
   * A raw IPv6 socket's send (RFC 3542): `data` is what follows the IPv6
   * header; for ICMPv6 the stack fills the checksum. `addr` may carry a
   * `%zone`; `opts.ifname` picks the interface for multicast and link-local.
   */
  #sendRaw6(proto: number, addr: string, data: Uint8Array, opts: RawSendOptions): number {
    const ip6 = this.ip6;
    if (!ip6) throw new ErrnoError("EAFNOSUPPORT", "sendto");
    const dst = this.#parseIp6Zoned(addr);
    const src = opts.src === undefined ? null : this.#parseIp6Zoned(opts.src).addr;
    if (opts.ttl !== undefined && (!Number.isInteger(opts.ttl) || opts.ttl < 0 || opts.ttl > 255)) {
      throw new ErrnoError("EINVAL", "hoplimit");
    }
    if (data.length > 0xffff) throw new ErrnoError("EMSGSIZE", "sendto");
    if (opts.ifname !== undefined) this.interface(opts.ifname);
    const pkt = this.pool.alloc(data.length);
    pkt.bytes.set(data, pkt.start);
    this.stats.ip6.rawout++;
    ip6.output(pkt, dst.addr, proto, {
      src,
      hlim: opts.ttl,
      zone: dst.zone,
      ifname: opts.ifname,
      icmp6Cksum: proto === 58,
    });
    return data.length;
  }

  /** `addr[%zone]`: the zone is an interface name or index; EINVAL/ENXIO when bad. */
  #parseIp6Zoned(text: string): { addr: Uint8Array; zone?: number } {
    const { addr, zone } = splitZone(text);
    const a = parseIp6(addr);
    if (a === null) throw new ErrnoError("EINVAL", `address ${text}`);
    if (zone === undefined) return { addr: a };
    const iface = /^\d+$/.test(zone) ? this.interfaceByIndex(Number(zone)) : undefined;
    return { addr: a, zone: (iface ?? this.interface(zone)).index };
  }

  /** Closes a raw socket. */
  closeRawSocket(sock: number): void {
    this.raw.close(sock);
  }

  /** The neighbour cache of a family, as `arp -a` / `ndp -a` list it. */
  neighborList(family: "inet" | "inet6"): NeighborInfo[] {
    if (family === "inet6") return this.#nd6().list();
    return this.arp.list();
  }

  /** `arp -s`: a static entry on the interface whose subnet holds `addr`. */
  neighborSet(
    family: "inet" | "inet6",
    addr: string,
    lladdr: string,
    opts: { temp: boolean; pub: boolean },
  ): NeighborInfo {
    if (family === "inet6") return this.#neighborSet6(addr, lladdr, opts);
    const a = parseIp4(addr);
    const mac = parseLladdr(lladdr);
    if (a === null) throw new ErrnoError("EINVAL", `address ${addr}`);
    if (!mac) throw new ErrnoError("EINVAL", `link address ${lladdr}`);
    const route = this.routes4.lookup(a);
    const iface = route && !(route.flags & RTF.GATEWAY) ? this.interface(route.ifName) : null;
    if (!iface || iface.linkType !== "ethernet") throw new ErrnoError("ENETUNREACH", addr);
    this.arp.cache.set(iface.index, a, mac, opts, this.now());
    return this.arp.list().find((n) => n.addr === formatIp4(a) && n.ifname === iface.name)!;
  }

  /** `arp -d`: ESRCH when there is no entry. */
  neighborDelete(family: "inet" | "inet6", addr: string): NeighborInfo {
    if (family === "inet6") {
      const { addr: a, zone } = this.#parseIp6Zoned(addr);
      const gone = this.#nd6().delete(a, zone);
      if (!gone) throw new ErrnoError("ESRCH", addr);
      return gone;
    }
    const a = parseIp4(addr);
    if (a === null) throw new ErrnoError("EINVAL", `address ${addr}`);
    const entry = this.arp.list().find((n) => n.addr === formatIp4(a));
    const e = [...this.arp.cache.entries()].find((x) => x.addr === a);
    if (!entry || !e) throw new ErrnoError("ESRCH", addr);
    this.arp.cache.delete(e.ifIndex, a);
    return entry;
  }

  /** `arp -d -a`: deletes every entry; returns them. */
  neighborFlush(family: "inet" | "inet6"): NeighborInfo[] {
    if (family === "inet6") return this.#nd6().flush();
    const all = this.arp.list();
    for (const e of [...this.arp.cache.entries()]) this.arp.cache.delete(e.ifIndex, e.addr);
    return all;
  }

  /** The ND layer; EAFNOSUPPORT on a v4 stack. */
  #nd6(): Nd6Layer {
    if (!this.ip6) throw new ErrnoError("EAFNOSUPPORT", "inet6");
    return this.ip6.nd;
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
    return nd.setStatic(a, zone, mac, opts);
  }

  /** Loads a module into the running stack (`mount -T <type>`). */
  async mount(type: string, module: string, options: string): Promise<string[]> {
    if (type !== this.mountType && type !== "tcpip") {
      throw new ErrnoError("ENOENT", `mount type ${type}`);
    }
    if (!this.moduleLoader) throw new ErrnoError("ENOSYS", "mount");
    return await this.moduleLoader(module, options);
  }

  #freeIndex(): number {
    let index = 1;
    while (this.#ifaces.some((i) => i.index === index)) index++;
    return index;
  }

  #upDown(iface: NetInterface, up: boolean): void {
    // Drivers set RUNNING when started; a loopback is always running.
    if (!iface.isLoopback) {
      iface.flags = up ? (iface.flags | IFF.RUNNING) >>> 0 : (iface.flags & ~IFF.RUNNING) >>> 0;
    }
    iface.spec.setUp?.(up);
  }

  #receive(iface: NetInterface, frame: Uint8Array): void {
    iface.stats.ipackets++;
    iface.stats.ibytes += frame.length;
    if (!(iface.flags & IFF.UP)) {
      iface.stats.iqdrops++;
      return;
    }
    if (iface.linkType === "ethernet") {
      this.ether.input(iface, frame, 0, frame.length);
      return;
    }
    // Loopback and IP-only links carry bare IP packets: the version nibble says which.
    const version = frame.length > 0 ? frame[0] >> 4 : 0;
    if (version === 4) this.ip4.input(iface, frame, 0, frame.length, false);
    else if (version === 6 && this.ip6) this.ip6.input(iface, frame, 0, frame.length, false);
    else iface.stats.noproto++;
  }

  #sendAndFree(iface: NetInterface, pkt: PacketBuffer): void {
    iface.send(pkt.view());
    this.pool.free(pkt);
  }

  /** Looped-back frames wait for the next turn: output never re-enters input. */
  #drainLoop(): void {
    const queue = this.#loopQueue;
    this.#loopQueue = [];
    for (const { iface, frame } of queue) this.#receive(iface, frame);
  }

  #createLoopback(unit: number): void {
    let attached: AttachedInterface | null = null;
    const spec = loopbackSpec((frame) => {
      const iface = attached && this.interfaceByIndex(attached.index);
      if (!iface) return;
      if (this.#loopQueue.length === 0) this.timers.schedule(this.now(), () => this.#drainLoop());
      this.#loopQueue.push({ iface, frame: frame.slice() });
    });
    attached = this.attachInterface("lo", spec, { prefix: "lo", unit });
    const iface = this.interface(attached.name);
    iface.flags |= IFF.RUNNING;
    if (unit !== 0) return;
    this.addAddress(attached.name, { family: "inet", addr: "127.0.0.1" });
    if (this.inet6) {
      this.addAddress(attached.name, { family: "inet6", addr: "::1", prefixlen: 128 });
      this.addAddress(attached.name, { family: "inet6", addr: "fe80::1", prefixlen: 64 });
    }
  }
  /**
   * `ifconfig NAME link ADDR [active]`: adds a link-layer address; `active`
   * makes it the one in use and announces every address of the interface
   * (gratuitous ARP, unsolicited NA), as NetBSD does.
   */
  linkAddressAdd(name: string, lladdr: string, active: boolean): IfInfo {
    addLinkAddress(this.interface(name), lladdr, active, (iface) => {
      for (const a of iface.inet) this.arp.announce(iface, a.addr);
      if (this.ip6) { for (const a of iface.inet6) this.ip6.nd.announce(iface, a); }
    });
    return this.interface(name).info();
  }

  /** `ifconfig NAME -link ADDR`: deletes an inactive link-layer address. */
  linkAddressDelete(name: string, lladdr: string): IfInfo {
    deleteLinkAddress(this.interface(name), lladdr);
    return this.interface(name).info();
  }

  /** The link-layer addresses of each interface (or of `name`): the active one and the others. */
  linkAddressList(name?: string): { name: string; active: string; inactive: string[] }[] {
    const out: { name: string; active: string; inactive: string[] }[] = [];
    for (const iface of name === undefined ? this.#ifaces : [this.interface(name)]) {
      const l = linkAddresses(iface);
      if (l) out.push({ name: iface.name, ...l });
    }
    return out;
  }
}
