/**
 * The answer to "where does a datagram to this destination go?", for senders.
 *
 * A transport needs the outgoing interface, the source address, the next hop
 * and the path MTU *before* it builds a segment (the pseudo-header checksum,
 * the MSS), and wants to keep the answer per connection. A {@linkcode RouteOut}
 * is that answer, filled in place by the IP layer's `route()` (no allocation),
 * stamped with the stack's route generation: while
 * {@linkcode RouteOut.isCurrent} holds (no route, address, interface or path
 * MTU changed since), a socket may send with it without looking up again.
 *
 * @example
 * ```ts ignore
 * const out = new RouteOut();               // one per socket
 * const err = stack.routeFor(dst, out);     // null, or an errno name
 * if (err === null) console.log(out.iface!.name, out.src.toString(), out.mtu);
 * if (!out.isCurrent(stack.routeGeneration)) stack.routeFor(dst, out);
 * ```
 * @module
 */

import type { NetInterface } from "../link/interface.ts";
import { IpAddr } from "./inet_addr.ts";

/** Where datagrams to one destination go. */
export class RouteOut {
  /** The interface to send by (lo0 for our own addresses). */
  iface: NetInterface | null = null;
  /** The source address to use. */
  readonly src: IpAddr = new IpAddr();
  /** Who gets the frame on the link: the gateway, or the destination itself. */
  readonly nextHop: IpAddr = new IpAddr();
  /** The path MTU: the route's, else the link's. */
  mtu = 0;
  /** The route's flags (RTF_*), 0 for a forced interface. */
  flags = 0;
  /** The stack's route generation when this was filled; -1 when never. */
  generation = -1;

  /** Whether nothing that could change this answer has changed since. */
  isCurrent(generation: number): boolean {
    return this.generation === generation && this.iface !== null;
  }

  /** Forgets the answer. */
  clear(): void {
    this.iface = null;
    this.generation = -1;
    this.mtu = 0;
    this.flags = 0;
  }
}
