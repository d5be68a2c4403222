/**
 * One io-pkt stack, for embedding in a program: the public API.
 *
 * A stack is sans-I/O. Frames go in through the interfaces you attach
 * ({@linkcode Stack.attachInterface} gives back a `receive` function); frames
 * come out through the `transmit` function you gave; time goes in through
 * {@linkcode Stack.poll}, which runs what is due and says when to call it
 * again. Configuration takes text, as the tools do. The daemon is one such
 * program: it attaches drivers, serves the control socket with the same
 * methods, and drives `poll` with one host timer.
 *
 * The layers inside (IP, ARP, ND, timers, buffers, routing tables) are not
 * part of this API and may change.
 *
 * @example Two stacks on a virtual Ethernet, pinging in virtual time
 * ```ts
 * import { Stack } from "./stack.ts";
 * import { IFF } from "./link/if_flags.ts";
 * let now = 0;
 * const a = new Stack({ inet6: false, clock: () => now });
 * const b = new Stack({ inet6: false, clock: () => now });
 * const wire: [Stack, Uint8Array][] = [];
 * const portA = a.attachInterface("sim", {
 *   mtu: 1500, lladdr: new Uint8Array([2, 0, 0, 0, 0, 1]), flags: IFF.BROADCAST,
 *   transmit: (frame) => void wire.push([b, frame.slice()]),
 * }, { prefix: "en" });
 * const portB = b.attachInterface("sim", {
 *   mtu: 1500, lladdr: new Uint8Array([2, 0, 0, 0, 0, 2]), flags: IFF.BROADCAST,
 *   transmit: (frame) => void wire.push([a, frame.slice()]),
 * }, { prefix: "en" });
 * a.addAddress("en0", { family: "inet", addr: "192.0.2.1", netmask: "255.255.255.0" });
 * b.addAddress("en0", { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" });
 * const replies: string[] = [];
 * const sock = a.openRawSocket("inet", 1, (d) => { if (d.data[20] === 0) replies.push(d.from); });
 * a.sendRaw(sock, "192.0.2.2", new Uint8Array([8, 0, 0xf7, 0xfe, 0, 1, 0, 0]), {});
 * for (let i = 0; i < 10 && wire.length > 0; i++) {
 *   for (const [to, frame] of wire.splice(0)) (to === a ? portA : portB).receive(frame);
 * }
 * console.log(replies); // ["192.0.2.2"]
 * ```
 * @module
 */

import type { Errno } from "./errno.ts";
import type {
  AddrSpec,
  IfInfo,
  NeighborInfo,
  RouteGetInfo,
  RouteInfo,
  RouteSpec,
  StackInfo,
} from "./control/ops.ts";
import type { StackConfig } from "./config.ts";
import type { AttachedInterface, InterfaceSpec } from "./link/driver.ts";
import type { ProtoCounters } from "./stats.ts";
import type { SysctlTree } from "./sysctl.ts";
import type { RawDatagram } from "./socket/raw.ts";
import type { UdpHandle } from "./socket/udp_handle.ts";
import type { TcpHandle } from "./socket/tcp_handle.ts";
import type { IpAddr } from "./net/inet_addr.ts";
import type { RouteOut } from "./net/route_out.ts";
import { type AttachNaming, StackCore } from "./stack_core.ts";
import {
  type Cloner,
  type ModuleLoader,
  parseLladdr,
  type RawSendOptions,
  StackControl,
  VERSION,
} from "./control/stack_control.ts";

export { parseLladdr, VERSION };
export type { AttachNaming, Cloner, ModuleLoader, RawSendOptions };

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

/** The sysctl MIB as a program sees it: read, write, list. */
export type StackSysctl = Pick<SysctlTree, "int" | "get" | "set" | "list" | "onChange">;

const cores = new WeakMap<Stack, StackCore>();

/**
 * The data plane behind a {@linkcode Stack}: for the daemon and white-box
 * tests of the layers, not for programs (it is not exported from `mod.ts`
 * and changes without notice).
 */
export function stackCore(stack: Stack): StackCore {
  return cores.get(stack)!;
}

/** One io-pkt stack. */
export class Stack {
  readonly #core: StackCore;
  readonly #control: StackControl;

  constructor(opts: StackOptions) {
    this.#core = new StackCore(opts);
    this.#control = new StackControl(this.#core, { pid: opts.pid });
    cores.set(this, this.#core);
  }

  /** IPv6 as well as IPv4. */
  get inet6(): boolean {
    return this.#core.inet6;
  }

  /** The `-p tcpip` options the stack runs with. */
  get config(): StackConfig {
    return this.#core.config;
  }

  /** The `-i` instance number. */
  get instance(): number {
    return this.#core.instance;
  }

  /** The protocol counters (NetBSD's `ipstat`, `icmpstat`...): read them, do not write them. */
  get stats(): ProtoCounters {
    return this.#core.stats;
  }

  /** The sysctl MIB (`net.inet.ip.forwarding`, ...). */
  get sysctl(): StackSysctl {
    return this.#core.sysctl;
  }

  /** The current time in milliseconds (the clock, or the virtual time of the last poll). */
  now(): number {
    return this.#core.now();
  }

  /**
   * Runs what is due (timers, and what they send) and returns when to be
   * polled again, or `null` when nothing is pending. `now` moves virtual time.
   */
  poll(now?: number): number | null {
    return this.#core.poll(now);
  }

  /** When {@linkcode Stack.poll} should next run, or `null`: the earliest timer. */
  nextTimeout(): number | null {
    return this.#core.timers.nextDeadline();
  }

  /**
   * Called whenever something is scheduled earlier than every pending timer:
   * whoever drives the stack may need to wake sooner. `null` to stop.
   */
  set onTimeoutChanged(fn: (() => void) | null) {
    this.#core.timers.onEarlier = fn;
  }

  /** Loads modules for `mount`; set by the daemon. */
  set moduleLoader(loader: ModuleLoader | undefined) {
    this.#control.moduleLoader = loader;
  }

  /** `io-pkt` for instance 0, `io-pktN` otherwise: the type `mount -T` answers to. */
  get mountType(): string {
    return this.#control.mountType;
  }

  /** Facts for `info`. */
  info(): StackInfo {
    return this.#control.info();
  }

  /** Writes a line to the log. */
  log(line: string): void {
    this.#core.log(line);
  }

  /** The names of the interfaces, in creation order. */
  interfaceNames(): string[] {
    return this.#core.interfaces().map((i) => i.name);
  }

  /** Interfaces as the tools see them (all, or the one named; ENXIO when it does not exist). */
  ifInfo(name?: string): IfInfo[] {
    return this.#control.ifInfo(name);
  }

  /**
   * Attaches an interface: `spec.transmit` receives the frames the stack
   * sends; the returned `receive` takes the frames the link delivers.
   * Named from `naming` (`{ prefix: "en" }` gives `en0`, the lowest free unit).
   */
  attachInterface(driver: string, spec: InterfaceSpec, naming: AttachNaming): AttachedInterface {
    return this.#core.attachInterface(driver, spec, naming);
  }

  /** Registers a cloner for `ifconfig <prefix>N create`. */
  registerCloner(prefix: string, create: Cloner): void {
    this.#control.registerCloner(prefix, create);
  }

  /** Cloner names, as `ifconfig -C` lists them. */
  clonerNames(): string[] {
    return this.#control.clonerNames();
  }

  /** `ifconfig NAME create`. */
  createInterface(name: string): Promise<IfInfo> {
    return this.#control.createInterface(name);
  }

  /** `ifconfig NAME destroy`: detaches the interface, its addresses and routes. */
  destroyInterface(name: string): void {
    this.#control.destroyInterface(name);
  }

  /** Sets and clears interface flags (SIOCSIFFLAGS; `IFF.UP` brings it up). */
  setFlags(name: string, set: number, clear: number): IfInfo {
    return this.#control.setFlags(name, set, clear);
  }

  /** Sets the MTU (SIOCSIFMTU). */
  setMtu(name: string, mtu: number): IfInfo {
    return this.#control.setMtu(name, mtu);
  }

  /** Hands a link string to the driver (SIOCSLINKSTR). */
  setLinkStr(name: string, linkstr: string): IfInfo {
    return this.#control.setLinkStr(name, linkstr);
  }

  /** Sets the routing metric (SIOCSIFMETRIC). */
  setMetric(name: string, metric: number): IfInfo {
    return this.#control.setMetric(name, metric);
  }

  /** Zeroes an interface's counters. */
  zeroStats(name: string): void {
    this.#control.zeroStats(name);
  }

  /** Adds an address (`{ family: "inet", addr: "192.0.2.1", netmask: "255.255.255.0" }`). */
  addAddress(name: string, spec: AddrSpec): IfInfo {
    return this.#control.addAddress(name, spec);
  }

  /** Deletes an address, or the first of its family when `addr` is undefined. */
  deleteAddress(name: string, family: "inet" | "inet6", addr?: string): IfInfo {
    return this.#control.deleteAddress(name, family, addr);
  }

  /** Both routing tables as `netstat -r` sees them. */
  routeInfo(): RouteInfo[] {
    return this.#control.routeInfo();
  }

  /** `route add` (`{ family: "inet", dst: "default", prefixlen: 0, gateway: "192.0.2.1" }`). */
  addRoute(spec: RouteSpec): RouteInfo {
    return this.#control.addRoute(spec);
  }

  /** `route change`. */
  changeRoute(spec: RouteSpec): RouteInfo {
    return this.#control.changeRoute(spec);
  }

  /** `route delete`. */
  deleteRoute(family: "inet" | "inet6", dst: string, prefixlen: number | null = null): RouteInfo {
    return this.#control.deleteRoute(family, dst, prefixlen);
  }

  /** `route get`. */
  getRoute(family: "inet" | "inet6", dst: string): RouteGetInfo {
    return this.#control.getRoute(family, dst);
  }

  /** `route flush`. */
  flushRoutes(family?: "inet" | "inet6"): RouteInfo[] {
    return this.#control.flushRoutes(family);
  }

  /**
   * Where a datagram to `dst` goes, in `out` (interface, source, next hop,
   * path MTU): null, or the errno a send would fail with. Keep `out` and look
   * up again only when `out.isCurrent(stack.routeGeneration)` is false.
   */
  routeFor(dst: IpAddr, out: RouteOut): Errno | null {
    return this.#core.routeFor(dst, out);
  }

  /** Changes whenever an answer of {@linkcode Stack.routeFor} may have changed. */
  get routeGeneration(): number {
    return this.#core.routeGeneration;
  }

  /**
   * Opens a raw socket (`SOCK_RAW`): every datagram of protocol `proto`
   * (ICMP: 1, ICMPv6: 58) is copied to `deliver`, once the packet that
   * brought it has been processed. Returns the socket's number.
   */
  openRawSocket(
    domain: "inet" | "inet6",
    proto: number,
    deliver: (d: RawDatagram) => void,
  ): number {
    return this.#control.openRawSocket(domain, proto, deliver);
  }

  /**
   * Opens a UDP socket (`family` 4 or 6; EAFNOSUPPORT for 6 on a v4 stack):
   * bind, connect, sendTo, receive with an `onReadable` wake-up, options,
   * multicast groups, close; each call is a turn of the stack and throws an
   * `ErrnoError` on failure (see `core/socket/udp_handle.ts`). The program owns
   * its stack, so it is privileged (ports below 1024) unless it says otherwise.
   */
  openUdp(family: 4 | 6, opts: { privileged?: boolean } = {}): UdpHandle {
    return this.#core.udp.open(family, { privileged: opts.privileged ?? true });
  }

  /**
   * Opens a TCP socket (`family` 4 or 6): bind, listen, accept, connect,
   * read, write, shutdownWrite, close, options, with an `onEvent` wake-up;
   * nothing blocks, each call is a turn of the stack and throws an
   * `ErrnoError` on failure (see `core/socket/tcp_handle.ts`). Privileged
   * (ports below 1024) unless the program says otherwise.
   */
  openTcp(family: 4 | 6, opts: { privileged?: boolean } = {}): TcpHandle {
    return this.#core.tcp.open(family, { privileged: opts.privileged ?? true });
  }

  /** Sends `data` (what follows the IP header) from a raw socket to `addr`; returns bytes sent. */
  sendRaw(sock: number, addr: string, data: Uint8Array, opts: RawSendOptions): number {
    return this.#control.sendRaw(sock, addr, data, opts);
  }

  /** Closes a raw socket. */
  closeRawSocket(sock: number): void {
    this.#control.closeRawSocket(sock);
  }

  /** The neighbour cache of a family, as `arp -a` / `ndp -a` list it. */
  neighborList(family: "inet" | "inet6"): NeighborInfo[] {
    return this.#control.neighborList(family);
  }

  /** `arp -s` / `ndp -s`. */
  neighborSet(
    family: "inet" | "inet6",
    addr: string,
    lladdr: string,
    opts: { temp: boolean; pub: boolean },
  ): NeighborInfo {
    return this.#control.neighborSet(family, addr, lladdr, opts);
  }

  /** `arp -d` / `ndp -d`: ESRCH when there is no entry. */
  neighborDelete(family: "inet" | "inet6", addr: string): NeighborInfo {
    return this.#control.neighborDelete(family, addr);
  }

  /** `arp -d -a` / `ndp -c`: deletes every entry; returns them. */
  neighborFlush(family: "inet" | "inet6"): NeighborInfo[] {
    return this.#control.neighborFlush(family);
  }

  /** `ifconfig NAME link ADDR [active]`: adds a link-layer address, `active` making it the one in use. */
  linkAddressAdd(name: string, lladdr: string, active: boolean): IfInfo {
    return this.#control.linkAddressAdd(name, lladdr, active);
  }

  /** `ifconfig NAME -link ADDR`: deletes an inactive link-layer address. */
  linkAddressDelete(name: string, lladdr: string): IfInfo {
    return this.#control.linkAddressDelete(name, lladdr);
  }

  /** The link-layer addresses of each interface (or of `name`). */
  linkAddressList(name?: string): { name: string; active: string; inactive: string[] }[] {
    return this.#control.linkAddressList(name);
  }

  /** Loads a module into the running stack (`mount -T <type>`). */
  mount(type: string, module: string, options: string): Promise<string[]> {
    return this.#control.mount(type, module, options);
  }
}
