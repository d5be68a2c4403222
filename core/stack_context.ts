/**
 * What the protocol layers see of the stack (gVisor's "every contract in one
 * file"): the clock and timers, sysctl values, counters, interfaces, routes,
 * buffers, raw sockets, the protocol table, and each other. The {@linkcode Stack} implements it; a
 * layer takes it in its constructor and keeps no other reference.
 *
 * @module
 */

import type { StackConfig } from "./config.ts";
import type { PacketPool } from "./buf/packet_pool.ts";
import type { NetInterface } from "./link/interface.ts";
import type { RouteTable4, RouteTable6 } from "./net/route.ts";
import type { RawSockets } from "./socket/raw.ts";
import type { ProtoCounters } from "./stats.ts";
import type { SysctlTree } from "./sysctl.ts";
import type { TimerQueue } from "./time/timers.ts";
import type { ProtocolTable } from "./net/protocols.ts";
import type { WakeQueue } from "./event/wake_queue.ts";
import type { ReadonlyTunables } from "./tunables.ts";
import type { GroupMemberships } from "./socket/groups.ts";

/** The stack as its layers use it. */
export interface StackContext {
  readonly inet6: boolean;
  /** The `-p tcpip` options. */
  readonly config: StackConfig;
  readonly sysctl: SysctlTree;
  /** The knobs the data path reads per packet, kept current by {@linkcode sysctl}. */
  readonly tunables: ReadonlyTunables;
  readonly stats: ProtoCounters;
  readonly pool: PacketPool;
  readonly timers: TimerQueue;
  readonly routes4: RouteTable4;
  readonly routes6: RouteTable6;
  readonly raw: RawSockets;
  /** Transport protocols by number, per family: where IP delivers and ICMP reports errors. */
  readonly protocols: ProtocolTable;
  /** Multicast groups joined by sockets, per interface (IP input accepts them). */
  readonly groups: GroupMemberships;
  /** Socket wake-ups, delivered once the current turn is done. */
  readonly wakes: WakeQueue;
  /** Changes whenever a {@linkcode RouteOut} may be stale (routes, addresses, interfaces, PMTU). */
  readonly routeGeneration: number;
  /** lo0: where packets to our own addresses go. */
  readonly loopbackInterface: NetInterface;
  /** Monotonic milliseconds. */
  now(): number;
  log(line: string): void;
  interfaces(): readonly NetInterface[];
  /** The interface with this index, if any. */
  interfaceByIndex(index: number): NetInterface | undefined;
  /** The interface with this name, if any. */
  interfaceByName(name: string): NetInterface | undefined;
}
