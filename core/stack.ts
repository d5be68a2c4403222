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
import type { AddrSpec, IfInfo, RouteInfo, StackInfo } from "./control/ops.ts";
import { DEFAULT_STACK_CONFIG, type StackConfig, sysctlOverrides } from "./config.ts";
import type { AttachedInterface, InterfaceSpec } from "./link/driver.ts";
import { IFF, IFF_CANTCHANGE } from "./link/if_flags.ts";
import { allocateIfName } from "./link/if_naming.ts";
import { formatLladdr, NetInterface } from "./link/interface.ts";
import { loopbackSpec } from "./link/loopback.ts";
import { addInet, addInet6, deleteInet, deleteInet6 } from "./net/addresses.ts";
import { RouteTable4, RouteTable6 } from "./net/route.ts";
import { listRoutes } from "./net/route_ops.ts";
import { createProtoStats } from "./stats.ts";
import type { ProtoStats } from "./control/ops.ts";
import { SysctlTree } from "./sysctl.ts";
import { TimerQueue } from "./time/timers.ts";
import { PacketPool } from "./buf/packet_pool.ts";

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

/** Where naming comes from when an interface attaches. */
export interface AttachNaming {
  /** Name prefix (`name=` or the driver's default). */
  prefix: string;
  /** Explicit unit (`unit=`/`lan=`), else the lowest free one. */
  unit?: number;
}

/** One io-pkt stack. */
export class Stack {
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
  #clock: (() => number) | null;
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
    this.#ifaces.splice(this.#ifaces.indexOf(iface), 1);
    iface.spec.detach?.();
    this.#log(`${iface.name}: detached`);
  }

  /** Sets and clears flags a client may change (SIOCSIFFLAGS). */
  setFlags(name: string, set: number, clear: number): IfInfo {
    const iface = this.interface(name);
    const wasUp = (iface.flags & IFF.UP) !== 0;
    iface.flags = ((iface.flags | (set & ~IFF_CANTCHANGE)) & ~(clear & ~IFF_CANTCHANGE)) >>> 0;
    const isUp = (iface.flags & IFF.UP) !== 0;
    if (wasUp !== isUp) this.#upDown(iface, isUp);
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
      addInet6(iface, spec, this.routes6, this.#ifaces[0].name);
    } else {
      addInet(iface, spec, this.routes4);
    }
    if (!(iface.flags & IFF.UP)) this.setFlags(name, IFF.UP, 0);
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
    // No protocol above the link layer is attached yet: count the frame as undeliverable.
    iface.stats.noproto++;
  }

  #createLoopback(unit: number): void {
    const spec = loopbackSpec((frame) => {
      const iface = this.interface(attached.name);
      iface.stats.opackets++;
      iface.stats.obytes += frame.length;
      attached.receive(frame);
    });
    const attached = this.attachInterface("lo", spec, { prefix: "lo", unit });
    const iface = this.interface(attached.name);
    iface.flags |= IFF.RUNNING;
    if (unit !== 0) return;
    this.addAddress(attached.name, { family: "inet", addr: "127.0.0.1" });
    if (this.inet6) {
      this.addAddress(attached.name, { family: "inet6", addr: "::1", prefixlen: 128 });
      this.addAddress(attached.name, { family: "inet6", addr: "fe80::1", prefixlen: 64 });
    }
  }
}
