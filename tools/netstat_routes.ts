/**
 * `netstat -r`: the routing tables as NetBSD's kernel walk lists them (the
 * radix tree: key ascending, link-local keys carrying their zone's interface
 * index as KAME embeds it, more specific routes first among equal keys, ` =>`
 * on a route followed by one with the same key), whatever order the stack
 * keeps. The walk order and the columns are route_format.ts's, shared with
 * `route show`; the names are netstat's own (netname(), see below).
 *
 * @example
 * ```ts ignore
 * import { routeTables } from "./netstat_routes.ts";
 * const text = await routeTables(opts, client); // "Routing tables\n\nInternet:\n..."
 * ```
 * @module
 */

import type { RouteInfo } from "../core/control/ops.ts";
import { RTF } from "../core/net/route_flags.ts";
import { parseIp4Strict, parseIp6, splitZone } from "../core/net/ip_addr.ts";
import { call, left, type Options, right } from "./netstat_common.ts";
import { hostName4, hostName6, netName4, netName6 } from "./netstat_names.ts";
import {
  compareKeys,
  compareRadix,
  isHostRoute,
  radixEntry,
  routeBlockHead,
  routeColumns,
} from "./route_format.ts";
import type { ControlClient } from "./tool_context.ts";

/**
 * The routing tables: `Routing tables`, then the inet and (on an IPv6 stack)
 * inet6 blocks that `-f` lets through.
 *
 * @param o the options (`-f`, `-n`, `-L` matter here)
 * @param client the stack's control connection
 * @returns the text
 */
export async function routeTables(o: Options, client: ControlClient): Promise<string> {
  const info = await call(client, { op: "info" }, "socket");
  const routes = await call(client, { op: "routeList" }, "sysctl of routing table");
  const zoned = routes.some((r) => r.family === "inet6" && r.dst.includes("%"));
  const zones = zoned ? await zoneIndexes(client) : new Map<string, number>();
  let out = "Routing tables\n";
  if (o.family === null || o.family === "inet") out += routeBlock(o, "inet", routes, zones);
  if (info.inet6 && (o.family === null || o.family === "inet6")) {
    out += routeBlock(o, "inet6", routes, zones);
  }
  return out;
}

async function zoneIndexes(client: ControlClient): Promise<Map<string, number>> {
  const list = await call(client, { op: "ifList" }, "sysctl of routing table");
  return new Map(list.map((i) => [i.name, i.index]));
}

function routeBlock(
  o: Options,
  family: RouteInfo["family"],
  routes: readonly RouteInfo[],
  zones: ReadonlyMap<string, number>,
): string {
  const sorted = routes.filter((r) => r.family === family).map((r) => radixEntry(r, zones))
    .sort(compareRadix);
  let out = routeBlockHead(family, o.nflag) + routeHeader();
  sorted.forEach((s, i) => {
    // " =>" follows the radix duplicate-key chain, which -L does not shorten.
    const dup = i + 1 < sorted.length && compareKeys(s.key, sorted[i + 1].key) === 0;
    if (o.noLinkRoutes && (s.route.flags & RTF.LLINFO)) return;
    out += routeRow(o, s.route, dup);
  });
  return out;
}

/** The header after Destination and Gateway. */
function routeHeader(): string {
  return `${left("Flags", 6, 6)} ` +
    `${right("Refs", 6)} ${right("Use", 8)} ${right("Mtu", 6)}  Interface\n`;
}

/**
 * netstat's p_rtnode() names: networks through netname(), which shortens an
 * IPv4 network to its significant octets (`10.0.0/24`) and masks an IPv6
 * prefix; hosts through routename(), `default` for 0.0.0.0. `route show`
 * (show.c) prints the full address and `/len` instead, so route.ts keeps its
 * own routeDestinationName().
 */
function routeDestination(o: Options, r: RouteInfo): string {
  if (r.family === "inet6") {
    return isHostRoute(r) ? hostName6(r.dst, o.nflag) : netName6(r.dst, r.prefixlen ?? 0, o.nflag);
  }
  if (isHostRoute(r)) return hostName4(r.dst, o.nflag);
  const a = parseIp4Strict(r.dst);
  return a === null ? r.dst : netName4(a, r.prefixlen ?? 0);
}

/**
 * An address gateway is a host name; `link#N` and link-level addresses print
 * as they are. Through netstat's routename(), so 0.0.0.0 is `default` here
 * where route's gatewayName() leaves it numeric.
 */
function routeGateway(o: Options, r: RouteInfo): string {
  if (parseIp4Strict(r.gateway) !== null) return hostName4(r.gateway, o.nflag);
  if (parseIp6(splitZone(r.gateway).addr) !== null) return hostName6(r.gateway, o.nflag);
  return r.gateway;
}

/** p_krtentry(): dst, gw, `%-6.6s ` flags, `%6d %8lu ` refs/use, mtu or `-`, lock, ` %.16s`. */
function routeRow(o: Options, r: RouteInfo, dup: boolean): string {
  const dst = routeDestination(o, r);
  const mtu = r.mtu ? right(r.mtu, 6) : right("-", 6);
  // No route metric is ever locked here, so the RTV_MTU lock column is a space.
  return routeColumns({ ...r, dst, gateway: routeGateway(o, r) }, { numeric: o.nflag }) +
    `${right(r.refs, 6)} ${right(r.use, 8)} ${mtu}  ${r.ifname.slice(0, 16)}${dup ? " =>" : ""}\n`;
}
