/**
 * The data plane of one stack: the layers wired together, the interfaces, the
 * protocol table, timers, buffers, the loopback queue and the deferred
 * wake-ups. It implements {@linkcode StackContext}, the one contract the
 * layers see. Addresses here are binary (numbers, 16-byte arrays, {@linkcode IpAddr});
 * text belongs to the control plane (`control/stack_control.ts`).
 *
 * Every entry from outside (a received frame, a poll, a send from a program or
 * the control plane) runs as one *turn*: when the outermost entry returns,
 * packets looped back through lo0 during the turn are processed (a bounded
 * queue, no macrotask per packet), then the wake-ups queued for sockets are
 * delivered. So no callback runs while a packet is half processed.
 *
 * Not exported from `mod.ts`: embedding programs use {@linkcode Stack}.
 *
 * @module
 */

import { type Errno, ErrnoError } from "./errno.ts";
import { DEFAULT_STACK_CONFIG, type StackConfig, sysctlOverrides } from "./config.ts";
import type { AttachedInterface, InterfaceSpec } from "./link/driver.ts";
import { IFF, IFF_CANTCHANGE } from "./link/if_flags.ts";
import { allocateIfName } from "./link/if_naming.ts";
import { formatLladdr, NetInterface } from "./link/interface.ts";
import { RouteTable4, RouteTable6 } from "./net/route.ts";
import { ProtoCounters } from "./stats.ts";
import { SysctlTree } from "./sysctl.ts";
import { Tunables } from "./tunables.ts";
import { TimerQueue } from "./time/timers.ts";
import { type PacketBuffer, PacketPool } from "./buf/packet_pool.ts";
import type { StackContext } from "./stack_context.ts";
import { RawSockets } from "./socket/raw.ts";
import { EtherLayer } from "./link/ether.ts";
import { ArpLayer } from "./link/arp.ts";
import { Ipv4Layer } from "./net/ipv4.ts";
import { Ipv6Layer } from "./net/ipv6.ts";
import { ProtocolTable } from "./net/protocols.ts";
import { WakeQueue } from "./event/wake_queue.ts";
import { UdpProtocol } from "./transport/udp.ts";
import { IgmpLayer } from "./net/igmp.ts";
import { MldLayer } from "./net/mld.ts";
import { UdpSockets } from "./socket/udp_sockets.ts";
import { TcpSockets } from "./socket/tcp_sockets.ts";
import { TcpProtocol } from "./transport/tcp/tcp.ts";
import { GroupMemberships } from "./socket/groups.ts";
import { IPPROTO } from "./wire/ipv4.ts";
import type { IpAddr } from "./net/inet_addr.ts";
import type { RouteOut } from "./net/route_out.ts";
import type { TcpPcbSource } from "./control/tcp_pcb_info.ts";

/** Most raw sockets open at once. */
const MAX_RAW_SOCKETS = 256;
/**
 * Packets looped back through lo0 and waiting for the end of the turn. Past
 * it, a loopback drops (counted as the interface's input drops), as a full
 * `ifq` does: a program that floods lo0 cannot grow memory without bound.
 */
export const LOOP_QUEUE_MAX = 1024;
/** Rounds of loopback and wake-ups one turn may run before leaving the rest to the next. */
const SETTLE_ROUNDS = 64;

/** Options for a {@linkcode StackCore}. */
export interface StackCoreOptions {
  /** IPv6 as well as IPv4 (io-pkt-v6-hc); false for io-pkt-v4-hc. */
  inet6: boolean;
  /** `-p tcpip` options, parsed. */
  config?: StackConfig;
  /** `-i` instance number. */
  instance?: number;
  /** `kern.hostname`. */
  hostname?: string;
  /** Where log lines go. */
  log?: (line: string) => void;
  /** Monotonic milliseconds; without one, time is virtual and moves with {@linkcode StackCore.poll}. */
  clock?: () => number;
}

/** Where naming comes from when an interface attaches. */
export interface AttachNaming {
  /** Name prefix (`name=` or the driver's default). */
  prefix: string;
  /** Explicit unit (`unit=`/`lan=`), else the lowest free one. */
  unit?: number;
}

/** The data plane of a stack. */
export class StackCore implements StackContext {
  readonly inet6: boolean;
  readonly config: StackConfig;
  readonly instance: number;
  readonly sysctl: SysctlTree;
  readonly tunables: Tunables;
  readonly stats: ProtoCounters;
  readonly routes4 = new RouteTable4();
  readonly routes6 = new RouteTable6();
  readonly timers = new TimerQueue();
  readonly pool: PacketPool;
  readonly wakes = new WakeQueue();
  readonly raw: RawSockets = new RawSockets(MAX_RAW_SOCKETS, this.wakes);
  readonly protocols = new ProtocolTable();
  readonly groups = new GroupMemberships();
  /** UDP sockets: `udp.open(4 | 6)` gives a socket handle (core/socket/udp_handle.ts). */
  readonly udp: UdpSockets;
  /** TCP sockets: `tcp.open(4 | 6)` gives a socket handle (core/socket/tcp_handle.ts). */
  readonly tcp: TcpSockets;
  readonly ether: EtherLayer;
  readonly arp: ArpLayer;
  readonly ip4: Ipv4Layer;
  /** IPv6, ICMPv6 and Neighbour Discovery; null on a v4 stack (io-pkt-v4-hc). */
  readonly ip6: Ipv6Layer | null;
  /** IGMPv2 host reports for the groups sockets join. */
  readonly igmp: IgmpLayer;
  /** MLDv1 host reports (socket groups, solicited-node groups); null on a v4 stack. */
  readonly mld: MldLayer | null;
  /** Where `netstat` reads TCP connections: the TCP side registers itself here (none: no TCP rows). */
  tcpPcbSource: TcpPcbSource | null = null;
  #clock: (() => number) | null;
  #virtualNow = 0;
  #ifaces: NetInterface[] = [];
  #byIndex: (NetInterface | undefined)[] = [];
  #byName = new Map<string, NetInterface>();
  #log: (line: string) => void;
  #depth = 0;
  /** The loopback queue: a ring of packets and the interface each came by. */
  #loopPkts: (PacketBuffer | null)[] = new Array(LOOP_QUEUE_MAX).fill(null);
  #loopIfaces: (NetInterface | null)[] = new Array(LOOP_QUEUE_MAX).fill(null);
  #loopHead = 0;
  #loopCount = 0;
  /** Bumped when an interface's addresses, flags or MTU change (see {@linkcode routeGeneration}). */
  #ifGeneration = 0;

  constructor(opts: StackCoreOptions) {
    this.inet6 = opts.inet6;
    this.config = opts.config ?? DEFAULT_STACK_CONFIG;
    this.instance = opts.instance ?? 0;
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
    this.tunables = new Tunables(this.sysctl);
    this.stats = new ProtoCounters(opts.inet6);
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
      loop: (iface, pkt) => this.loopback(iface, pkt),
      raw: (iface, pkt) => this.#sendAndFree(iface, pkt),
    });
    this.ip6 = opts.inet6
      ? new Ipv6Layer(this, this.ether, {
        loop: (iface, pkt) => this.loopback(iface, pkt),
        raw: (iface, pkt) => this.#sendAndFree(iface, pkt),
      })
      : null;
    const udp = new UdpProtocol(this, this);
    this.protocols.register(IPPROTO.UDP, opts.inet6 ? [4, 6] : [4], udp);
    this.udp = new UdpSockets(udp, this);
    const tcp = new TcpProtocol(this, this);
    this.protocols.register(IPPROTO.TCP, opts.inet6 ? [4, 6] : [4], tcp);
    this.tcp = new TcpSockets(tcp, this);
    this.tcpPcbSource = this.tcp;
    this.igmp = new IgmpLayer(this, this.ip4);
    this.protocols.register(IPPROTO.IGMP, [4], this.igmp);
    this.mld = this.ip6 ? new MldLayer(this, this.ip6) : null;
    if (this.ip6) {
      this.ip6.icmp.mld = this.mld;
      this.ip6.nd.dadStarting = (iface) => this.mld!.sync(iface);
    }
    const igmp = this.igmp, mld = this.mld;
    this.groups.listener = {
      joined: (ifIndex, group) =>
        group.family === 4 ? igmp.joined(ifIndex, group) : mld?.joined(ifIndex, group),
      left: (ifIndex, group) =>
        group.family === 4 ? igmp.left(ifIndex, group) : mld?.left(ifIndex, group),
    };
  }

  /** The current time in milliseconds (the clock, or the virtual time of the last poll). */
  now(): number {
    return this.#clock ? this.#clock() : this.#virtualNow;
  }

  /** Runs what is due and returns the next deadline, or `null`. `now` moves virtual time. */
  poll(now?: number): number | null {
    if (now !== undefined && !this.#clock) this.#virtualNow = Math.max(this.#virtualNow, now);
    this.enter();
    try {
      this.timers.runDue(this.now());
    } finally {
      this.leave();
    }
    return this.timers.nextDeadline();
  }

  /** Writes a line to the log. */
  log(line: string): void {
    this.#log(line);
  }

  /**
   * Changes whenever a route, an address, an interface's flags or MTU, or a
   * learned path MTU changes: a {@linkcode RouteOut} filled under another
   * generation must be looked up again.
   */
  get routeGeneration(): number {
    return this.routes4.generation + this.routes6.generation + this.#ifGeneration;
  }

  /** Records a change that may alter routing answers (addresses, flags, MTU). */
  interfacesChanged(): void {
    this.#ifGeneration++;
    // Addresses may have come or gone: their solicited-node groups follow.
    if (this.mld) { for (const iface of this.#ifaces) this.mld.sync(iface); }
  }

  /**
   * Where a datagram to `dst` goes (interface, source, next hop, path MTU), in
   * `out`; null, or the errno a send would fail with (ENETUNREACH,
   * EHOSTUNREACH, EADDRNOTAVAIL, EAFNOSUPPORT). Allocates nothing.
   */
  routeFor(dst: IpAddr, out: RouteOut): Errno | null {
    if (dst.family === 4) return this.ip4.route(dst.v4, null, null, out);
    if (!this.ip6) return "EAFNOSUPPORT";
    return this.ip6.route(dst.bytes, dst.zone || undefined, null, null, out);
  }

  /**
   * Whether the next hop of `route` has a link address now (ARP or ND); true
   * on links that need none (loopback, point-to-point). For netstat's
   * "what limits the sender", never on the data path.
   */
  neighbourResolved(route: RouteOut): boolean {
    const iface = route.iface;
    if (iface === null || iface.isLoopback || (iface.flags & (IFF.POINTOPOINT | IFF.NOARP)) !== 0) {
      return true;
    }
    const hop = route.nextHop;
    if (hop.family === 4) return this.arp.cache.get(iface.index, hop.v4)?.mac != null;
    return this.ip6?.nd.cache.get(iface.index, hop.bytes)?.mac != null;
  }

  // -------------------------------------------------------------------------
  // Turns

  /** Starts a turn (re-entrant). */
  enter(): void {
    this.#depth++;
  }

  /** Ends a turn; the outermost end processes looped-back packets, then wake-ups. */
  leave(): void {
    if (--this.#depth > 0) return;
    this.#depth = 0;
    const tcp = this.tcp.protocol;
    for (let round = 0; round < SETTLE_ROUNDS; round++) {
      if (this.#loopCount === 0 && !this.wakes.pending && !tcp.outputWaiting) return;
      this.#depth = 1;
      try {
        tcp.flushPending();
        this.#drainLoop();
        tcp.flushPending();
      } finally {
        this.#depth = 0;
      }
      this.wakes.flush();
    }
  }

  /** Runs `fn` as a turn. */
  run<T>(fn: () => T): T {
    this.enter();
    try {
      return fn();
    } finally {
      this.leave();
    }
  }

  // -------------------------------------------------------------------------
  // Interfaces

  /** Interfaces in creation order. */
  interfaces(): readonly NetInterface[] {
    return this.#ifaces;
  }

  /** The interface with this index, if any. */
  interfaceByIndex(index: number): NetInterface | undefined {
    return this.#byIndex[index];
  }

  /** The interface named `name`, if any. */
  interfaceByName(name: string): NetInterface | undefined {
    return this.#byName.get(name);
  }

  /** The interface named `name`; ENXIO when there is none. */
  interface(name: string): NetInterface {
    const iface = this.#byName.get(name);
    if (!iface) throw new ErrnoError("ENXIO", name);
    return iface;
  }

  /** The first loopback (lo0): where packets to our own addresses go. */
  get loopbackInterface(): NetInterface {
    return this.#ifaces[0];
  }

  /** Attaches a driver's interface, naming it per the generic options. */
  attachInterface(driver: string, spec: InterfaceSpec, naming: AttachNaming): AttachedInterface {
    const named = allocateIfName(naming.prefix, naming.unit, (n) => this.#byName.has(n));
    if (!named.ok) throw new ErrnoError(named.errno, `attach ${naming.prefix}`);
    const iface = new NetInterface({
      name: named.name,
      index: this.#freeIndex(),
      driver,
      flags: 0,
      spec,
    });
    this.#ifaces.push(iface);
    this.#byIndex[iface.index] = iface;
    this.#byName.set(iface.name, iface);
    this.#ifGeneration++;
    this.#log(
      `${iface.name}: attached (driver ${driver}${
        spec.lladdr ? `, address ${formatLladdr(spec.lladdr)}` : ""
      })`,
    );
    return {
      name: iface.name,
      index: iface.index,
      receive: (frame) => this.receive(iface, frame, 0, frame.length),
      batch: (fn) => this.run(fn),
      setLinkActive: (active) => {
        iface.linkActive = active;
      },
    };
  }

  /** Detaches an interface with its addresses, routes and neighbours. */
  detachInterface(iface: NetInterface): void {
    this.routes4.deleteByInterface(iface);
    this.routes6.deleteByInterface(iface);
    this.arp.forgetInterface(iface.index);
    this.ip4.flows.clear();
    this.ip6?.nd.forgetInterface(iface);
    this.igmp.forget(iface);
    this.mld?.forget(iface);
    this.#ifaces.splice(this.#ifaces.indexOf(iface), 1);
    this.#byIndex[iface.index] = undefined;
    this.#byName.delete(iface.name);
    this.#ifGeneration++;
    iface.spec.detach?.();
    this.#log(`${iface.name}: detached`);
  }

  /**
   * Sets and clears interface flags. `explicit`: SIOCSIFFLAGS (NetBSD's
   * if_up, which runs in6_if_up: the link-local address, DAD, router
   * solicitation); an address bringing the interface up (SIOCAIFADDR) does not.
   */
  setFlags(iface: NetInterface, set: number, clear: number, explicit: boolean): void {
    const wasUp = (iface.flags & IFF.UP) !== 0;
    iface.flags = ((iface.flags | (set & ~IFF_CANTCHANGE)) & ~(clear & ~IFF_CANTCHANGE)) >>> 0;
    const isUp = (iface.flags & IFF.UP) !== 0;
    this.#ifGeneration++;
    if (wasUp === isUp) return;
    // Drivers set RUNNING when started; a loopback is always running.
    if (!iface.isLoopback) {
      iface.flags = isUp ? (iface.flags | IFF.RUNNING) >>> 0 : (iface.flags & ~IFF.RUNNING) >>> 0;
    }
    iface.spec.setUp?.(isUp);
    // Groups are announced again on the way up, before ND probes (DAD joins its groups itself).
    if (isUp) {
      this.igmp.ifUp(iface);
      this.mld?.ifUp(iface);
    } else {
      this.igmp.ifDown(iface);
      this.mld?.ifDown(iface);
    }
    if (this.ip6) {
      if (!isUp) this.ip6.nd.ifDown(iface);
      else if (explicit) this.ip6.nd.ifUp(iface);
    }
  }

  // -------------------------------------------------------------------------
  // Frames

  /** One received frame, `bytes[offset, offset + length)`, borrowed for the call. */
  receive(iface: NetInterface, bytes: Uint8Array, offset: number, length: number): void {
    this.#depth++;
    try {
      this.#input(iface, bytes, offset, length);
    } finally {
      this.leave();
    }
  }

  #input(iface: NetInterface, bytes: Uint8Array, offset: number, length: number): void {
    iface.stats.ipackets++;
    iface.stats.ibytes += length;
    if (!(iface.flags & IFF.UP)) {
      iface.stats.iqdrops++;
      return;
    }
    if (iface.linkType === "ethernet") {
      this.ether.input(iface, bytes, offset, length);
      return;
    }
    // Loopback and IP-only links carry bare IP packets: the version nibble says which.
    const version = length > 0 ? bytes[offset] >> 4 : 0;
    if (version === 4) this.ip4.input(iface, bytes, offset, length, false);
    else if (version === 6 && this.ip6) this.ip6.input(iface, bytes, offset, length, false);
    else iface.stats.noproto++;
  }

  /**
   * Sends `pkt` through a loopback interface: it is queued (the buffer moves,
   * nothing is copied) and taken in before the current turn ends. Frees `pkt`
   * (now or once processed).
   */
  loopback(iface: NetInterface, pkt: PacketBuffer): void {
    const len = pkt.length;
    if (!(iface.flags & IFF.UP)) {
      iface.stats.oerrors++;
      this.pool.free(pkt);
      return;
    }
    iface.stats.opackets++;
    iface.stats.obytes += len;
    if (this.#loopCount >= LOOP_QUEUE_MAX) {
      iface.stats.iqdrops++;
      this.pool.free(pkt);
      return;
    }
    const at = (this.#loopHead + this.#loopCount) % LOOP_QUEUE_MAX;
    this.#loopPkts[at] = pkt;
    this.#loopIfaces[at] = iface;
    this.#loopCount++;
    // Outside any turn (a layer sending from a timer the driver ran without poll): settle now.
    if (this.#depth === 0) this.leave();
  }

  /** Packets waiting in the loopback queue. */
  get loopbackQueued(): number {
    return this.#loopCount;
  }

  /** Takes in what was looped back, including what that processing loops back in turn (bounded). */
  #drainLoop(): void {
    for (let n = 0; n < LOOP_QUEUE_MAX * 4 && this.#loopCount > 0; n++) {
      const at = this.#loopHead;
      const pkt = this.#loopPkts[at]!, iface = this.#loopIfaces[at]!;
      this.#loopPkts[at] = null;
      this.#loopIfaces[at] = null;
      this.#loopHead = (at + 1) % LOOP_QUEUE_MAX;
      this.#loopCount--;
      try {
        if (this.#byIndex[iface.index] === iface) {
          this.#input(iface, pkt.bytes, pkt.start, pkt.length);
        }
      } finally {
        this.pool.free(pkt);
      }
    }
  }

  #sendAndFree(iface: NetInterface, pkt: PacketBuffer): void {
    iface.sendPacket(pkt);
    this.pool.free(pkt);
  }

  #freeIndex(): number {
    let index = 1;
    while (this.#byIndex[index]) index++;
    return index;
  }
}
