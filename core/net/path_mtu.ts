/**
 * Path MTU learning, once for both families (RFC 1191, RFC 8201; NetBSD's
 * `icmp_mtudisc` and `icmp6_mtudisc_update`): a smaller MTU towards a
 * destination is kept on a host route, cloned from the route in use as a
 * dynamic one when there is none, for a while; when the time is up a dynamic
 * host route goes away and a static one forgets its MTU. Each change moves the
 * route generation, so senders holding a {@linkcode RouteOut} look up again.
 *
 * @example
 * ```ts ignore
 * learnPathMtu(ctx, routesFor(dst), 1400, (iface) => iface.mtu, 600_000);
 * ```
 * @module
 */

import type { NetInterface } from "../link/interface.ts";
import type { StackContext } from "../stack_context.ts";
import type { RouteBase, RouteEntry } from "./route.ts";
import { RTF } from "./route_flags.ts";

/** One family's routing table, for one destination, as path MTU learning uses it. */
export interface PathMtuRoutes<R extends RouteBase> {
  /** 32 or 128: the prefix length of a host route. */
  readonly hostPrefix: number;
  /** The route in use towards the destination. */
  lookup(): RouteEntry<R> | undefined;
  /** The host route for the destination, if there is one. */
  host(): RouteEntry<R> | undefined;
  /** Adds a dynamic host route cloned from `from`, with `mtu`; false when it could not. */
  addHost(from: RouteEntry<R>, mtu: number): boolean;
  /** Deletes the host route. */
  deleteHost(): void;
  /** Says the table changed in place (an MTU), so its generation moves. */
  touch(): void;
}

/**
 * Records `mtu` towards the destination of `routes` when it is smaller than
 * the path's; returns whether it changed anything. `linkMtu` gives an
 * interface's MTU (IPv6: the one a Router Advertisement set); the learned
 * value is kept `timeoutMs`.
 */
export function learnPathMtu<R extends RouteBase>(
  ctx: StackContext,
  routes: PathMtuRoutes<R>,
  mtu: number,
  linkMtu: (iface: NetInterface) => number,
  timeoutMs: number,
): boolean {
  const route = routes.lookup();
  if (!route || route.flags & (RTF.REJECT | RTF.BLACKHOLE) || route.iface.isLoopback) return false;
  if (mtu >= (route.mtu || linkMtu(route.iface))) return false;
  if (route.prefixlen === routes.hostPrefix) {
    route.mtu = mtu;
    routes.touch();
  } else if (!routes.addHost(route, mtu)) {
    return false;
  }
  const made = routes.host();
  ctx.timers.schedule(ctx.now() + timeoutMs, () => {
    const r = routes.host();
    if (!r || r !== made) return;
    if (r.flags & RTF.DYNAMIC) {
      routes.deleteHost();
    } else {
      r.mtu = 0;
      routes.touch();
    }
  });
  return true;
}
