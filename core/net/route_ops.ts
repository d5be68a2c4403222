/**
 * What `route add/change/delete/get/flush` and `netstat -r` do to the routing
 * tables (NetBSD's rtrequest over the routing socket, in one module).
 *
 * @example
 * ```ts ignore
 * addRoute(stack, { family: "inet", dst: "default", prefixlen: 0, gateway: "192.0.2.1" });
 * ```
 * @module
 */

import { ErrnoError } from "../errno.ts";
import type { RouteGetInfo, RouteInfo, RouteSpec } from "../control/ops.ts";
import type { NetInterface } from "../link/interface.ts";
import { formatLladdr, parseLladdr } from "../link/interface.ts";
import {
  formatIp4,
  formatIp6,
  isLinkLocal6,
  parseIp4,
  parseIp6,
  prefixToMask4,
  splitZone,
} from "./ip_addr.ts";
import type {
  Route4,
  Route6,
  RouteEntry,
  RouteGateway,
  RouteTable4,
  RouteTable6,
} from "./route.ts";
import { RTF } from "./route_flags.ts";

/** What route operations need of the stack. */
export interface RouteContext {
  readonly inet6: boolean;
  readonly routes4: RouteTable4;
  readonly routes6: RouteTable6;
  interfaces(): readonly NetInterface[];
}

function gatewayText(gw: RouteGateway): string {
  switch (gw.kind) {
    case "link":
      return `link#${gw.ifIndex}`;
    case "inet":
      return formatIp4(gw.addr);
    case "inet6":
      return formatIp6(gw.addr);
    case "lladdr":
      return formatLladdr(gw.mac);
  }
}

function zoneName(ctx: RouteContext, zone: number | undefined): string | undefined {
  return zone === undefined ? undefined : ctx.interfaces().find((i) => i.index === zone)?.name;
}

/** A table entry as the tools see it. */
export function route4Info(r: RouteEntry<Route4>): RouteInfo {
  return {
    family: "inet",
    dst: formatIp4(r.dst),
    prefixlen: r.flags & RTF.HOST ? null : r.prefixlen,
    gateway: gatewayText(r.gateway),
    flags: r.flags,
    refs: r.refs,
    use: r.use,
    mtu: r.mtu,
    ifname: r.iface.name,
  };
}

/** An IPv6 table entry as the tools see it; scoped addresses carry their `%zone`. */
export function route6Info(ctx: RouteContext, r: RouteEntry<Route6>): RouteInfo {
  const zone = zoneName(ctx, r.zone);
  const gw = gatewayText(r.gateway);
  const gwZone = r.gateway.kind === "inet6" && isLinkLocal6(r.gateway.addr)
    ? zoneName(ctx, r.zone ?? r.gatewayZone)
    : undefined;
  return {
    family: "inet6",
    dst: zone ? `${formatIp6(r.dst)}%${zone}` : formatIp6(r.dst),
    prefixlen: r.flags & RTF.HOST ? null : r.prefixlen,
    gateway: gwZone ? `${gw}%${gwZone}` : gw,
    flags: r.flags,
    refs: r.refs,
    use: r.use,
    mtu: r.mtu,
    ifname: r.iface.name,
  };
}

/** Both tables, IPv4 first. */
export function listRoutes(ctx: RouteContext): RouteInfo[] {
  const out = ctx.routes4.list().map(route4Info);
  if (ctx.inet6) out.push(...ctx.routes6.list().map((r) => route6Info(ctx, r)));
  return out;
}

function ifaceByName(ctx: RouteContext, name: string): NetInterface {
  const iface = ctx.interfaces().find((i) => i.name === name);
  if (!iface) throw new ErrnoError("ENXIO", name);
  return iface;
}

function dst4(spec: { dst: string; prefixlen: number | null }): { dst: number; len: number } {
  if (spec.dst === "default") return { dst: 0, len: 0 };
  const dst = parseIp4(spec.dst);
  const len = spec.prefixlen ?? 32;
  if (dst === null || !Number.isInteger(len) || len < 0 || len > 32) {
    throw new ErrnoError("EINVAL", `destination ${spec.dst}`);
  }
  return { dst: (dst & prefixToMask4(len)) >>> 0, len };
}

function dst6(
  ctx: RouteContext,
  spec: { dst: string; prefixlen: number | null },
): { dst: Uint8Array; len: number; zone?: number } {
  if (spec.dst === "default") return { dst: new Uint8Array(16), len: 0 };
  const { addr, zone } = splitZone(spec.dst);
  const dst = parseIp6(addr);
  const len = spec.prefixlen ?? 128;
  if (dst === null || !Number.isInteger(len) || len < 0 || len > 128) {
    throw new ErrnoError("EINVAL", `destination ${spec.dst}`);
  }
  const zoneIndex = zone !== undefined ? ifaceByName(ctx, zone).index : undefined;
  return { dst, len, zone: isLinkLocal6(dst) ? zoneIndex : undefined };
}

/** A reject/blackhole route's interface: the gateway's if it is reachable, else lo0. */
function discardIface4(ctx: RouteContext, gw: number): NetInterface {
  const r = ctx.routes4.lookup(gw);
  return r && !(r.flags & RTF.GATEWAY) ? r.iface : ctx.interfaces()[0];
}

/** The interface whose connected (non-gateway) route covers an IPv4 address. */
function ifaceForGateway4(ctx: RouteContext, gw: number): NetInterface {
  const r = ctx.routes4.lookup(gw);
  if (!r || (r.flags & RTF.GATEWAY)) throw new ErrnoError("ENETUNREACH", "gateway");
  return r.iface;
}

/** The marks route(8) may set besides UP, GATEWAY, HOST, STATIC, REJECT and BLACKHOLE. */
export const ROUTE_MARKS = RTF.CLONING | RTF.LLINFO | RTF.XRESOLVE | RTF.PROTO1 | RTF.PROTO2;

function flagsOf(spec: RouteSpec, base: number): number {
  const marks = spec.flags ?? 0;
  if ((marks & ~ROUTE_MARKS) !== 0) throw new ErrnoError("EINVAL", "route flags");
  let flags = base | RTF.UP | (spec.nostatic ? 0 : RTF.STATIC) | marks;
  if (spec.reject) flags |= RTF.REJECT;
  if (spec.blackhole) flags |= RTF.BLACKHOLE;
  return flags;
}

/** A reject or blackhole route only marks its destination: its gateway need not be reachable. */
function isDiscard(spec: RouteSpec): boolean {
  return spec.reject === true || spec.blackhole === true;
}

/** `-link`: the route's gateway is a link-layer address on a named interface. */
function linkGateway(
  ctx: RouteContext,
  spec: RouteSpec,
): { gateway: { kind: "lladdr"; mac: Uint8Array }; iface: NetInterface } {
  const mac = parseLladdr(spec.linkGateway ?? "", true);
  if (!mac) throw new ErrnoError("EINVAL", `gateway ${spec.linkGateway}`);
  if (!spec.ifname) throw new ErrnoError("EINVAL", "a link gateway needs an interface");
  return { gateway: { kind: "lladdr", mac }, iface: ifaceByName(ctx, spec.ifname) };
}

function build4(ctx: RouteContext, spec: RouteSpec): Route4 {
  const { dst, len } = dst4(spec);
  const host = len === 32 && spec.prefixlen === null ? RTF.HOST : 0;
  const mtu = spec.mtu ?? 0;
  if (spec.linkGateway !== undefined) {
    const { gateway, iface } = linkGateway(ctx, spec);
    return { dst, prefixlen: len, gateway, flags: flagsOf(spec, host), iface, mtu };
  }
  if (spec.gateway === undefined || spec.gateway === "") {
    // An interface route (`-interface`): destinations are on the link itself.
    const lo = ctx.interfaces()[0];
    const iface = spec.ifname
      ? ifaceByName(ctx, spec.ifname)
      : spec.reject || spec.blackhole
      ? lo
      : null;
    if (!iface) throw new ErrnoError("EINVAL", "gateway");
    const gateway = { kind: "link", ifIndex: iface.index } as const;
    return { dst, prefixlen: len, gateway, flags: flagsOf(spec, host), iface, mtu };
  }
  const gw = parseIp4(spec.gateway);
  if (gw === null) throw new ErrnoError("EINVAL", `gateway ${spec.gateway}`);
  const iface = spec.ifname
    ? ifaceByName(ctx, spec.ifname)
    : isDiscard(spec)
    ? discardIface4(ctx, gw)
    : ifaceForGateway4(ctx, gw);
  const gateway = { kind: "inet", addr: gw } as const;
  // A gateway that is one of the interface's own addresses makes an interface route (NetBSD).
  const own = iface.inet.some((a) => a.addr === gw);
  const flags = flagsOf(spec, host | (own ? 0 : RTF.GATEWAY));
  return { dst, prefixlen: len, gateway, flags, iface, mtu };
}

function build6(ctx: RouteContext, spec: RouteSpec): Route6 {
  if (!ctx.inet6) throw new ErrnoError("EAFNOSUPPORT", "inet6");
  const { dst, len, zone } = dst6(ctx, spec);
  const host = len === 128 && spec.prefixlen === null ? RTF.HOST : 0;
  const mtu = spec.mtu ?? 0;
  if (spec.linkGateway !== undefined) {
    const { gateway, iface } = linkGateway(ctx, spec);
    const flags = flagsOf(spec, host);
    return { dst, prefixlen: len, zone, gateway, flags, iface, mtu };
  }
  if (spec.gateway === undefined || spec.gateway === "") {
    const lo = ctx.interfaces()[0];
    const iface = spec.ifname
      ? ifaceByName(ctx, spec.ifname)
      : spec.reject || spec.blackhole
      ? lo
      : null;
    if (!iface) throw new ErrnoError("EINVAL", "gateway");
    const gateway = { kind: "link", ifIndex: iface.index } as const;
    return { dst, prefixlen: len, zone, gateway, flags: flagsOf(spec, host), iface, mtu };
  }
  const { addr: gwText, zone: gwZoneName } = splitZone(spec.gateway);
  const gw = parseIp6(gwText);
  if (gw === null) throw new ErrnoError("EINVAL", `gateway ${spec.gateway}`);
  let iface: NetInterface;
  if (spec.ifname) iface = ifaceByName(ctx, spec.ifname);
  else if (gwZoneName !== undefined) iface = ifaceByName(ctx, gwZoneName);
  else if (isLinkLocal6(gw) && !isDiscard(spec)) {
    throw new ErrnoError("EINVAL", "link-local gateway needs a %zone");
  } else if (isLinkLocal6(gw)) iface = ctx.interfaces()[0];
  else {
    const r = ctx.routes6.lookup(gw);
    const onLink = r !== null && r !== undefined && !(r.flags & RTF.GATEWAY);
    if (onLink) iface = r.iface;
    else if (isDiscard(spec)) iface = ctx.interfaces()[0];
    else throw new ErrnoError("ENETUNREACH", "gateway");
  }
  const gateway = { kind: "inet6", addr: gw } as const;
  return {
    dst,
    prefixlen: len,
    zone,
    gatewayZone: isLinkLocal6(gw) ? iface.index : undefined,
    gateway,
    flags: flagsOf(spec, host | RTF.GATEWAY),
    iface,
    mtu,
  };
}

/** `route add`: EEXIST when the destination is there already. */
export function addRoute(ctx: RouteContext, spec: RouteSpec): RouteInfo {
  if (spec.family === "inet6") {
    const r = build6(ctx, spec);
    if (!ctx.routes6.add(r)) throw new ErrnoError("EEXIST", "route add");
    return route6Info(ctx, ctx.routes6.find(r.dst, r.prefixlen, r.zone)!);
  }
  const r = build4(ctx, spec);
  if (!ctx.routes4.add(r)) throw new ErrnoError("EEXIST", "route add");
  return route4Info(ctx.routes4.find(r.dst, r.prefixlen)!);
}

/** `route change`: replaces gateway, interface and flags of an existing route (ESRCH if none). */
export function changeRoute(ctx: RouteContext, spec: RouteSpec): RouteInfo {
  const old = deleteRoute(ctx, spec.family, spec.dst, spec.prefixlen);
  try {
    return addRoute(ctx, spec);
  } catch (e) {
    // Put the old route back: a failed change changes nothing.
    addRoute(ctx, {
      family: old.family,
      dst: old.dst,
      prefixlen: old.prefixlen,
      gateway: old.gateway.startsWith("link#") ? undefined : old.gateway,
      ifname: old.ifname,
    });
    throw e;
  }
}

/** `route delete`: ESRCH when there is no such route. */
export function deleteRoute(
  ctx: RouteContext,
  family: "inet" | "inet6",
  dstText: string,
  prefixlen: number | null,
): RouteInfo {
  if (family === "inet6") {
    if (!ctx.inet6) throw new ErrnoError("EAFNOSUPPORT", "inet6");
    const { dst, len, zone } = dst6(ctx, { dst: dstText, prefixlen });
    const r = ctx.routes6.find(dst, len, zone);
    if (!r) throw new ErrnoError("ESRCH", "route delete");
    const info = route6Info(ctx, r);
    ctx.routes6.delete(dst, len, zone);
    return info;
  }
  const { dst, len } = dst4({ dst: dstText, prefixlen });
  const r = ctx.routes4.find(dst, len);
  if (!r) throw new ErrnoError("ESRCH", "route delete");
  const info = route4Info(r);
  ctx.routes4.delete(dst, len);
  return info;
}

/** `route get`: the route a packet to `dstText` would take (ESRCH when none). */
export function getRoute(
  ctx: RouteContext,
  family: "inet" | "inet6",
  dstText: string,
): RouteGetInfo {
  if (family === "inet6") {
    if (!ctx.inet6) throw new ErrnoError("EAFNOSUPPORT", "inet6");
    const { addr, zone } = splitZone(dstText);
    const dst = parseIp6(addr);
    if (!dst) throw new ErrnoError("EINVAL", `destination ${dstText}`);
    const zoneIndex = zone !== undefined ? ifaceByName(ctx, zone).index : undefined;
    const r = ctx.routes6.lookup(dst, zoneIndex);
    if (!r) throw new ErrnoError("ESRCH", "route get");
    r.use++;
    const iface = r.iface;
    const src = iface.inet6.find((a) => isLinkLocal6(a.addr) === isLinkLocal6(dst)) ??
      iface.inet6[0];
    const out: RouteGetInfo = { route: route6Info(ctx, r) };
    if (src) out.ifaddr = formatIp6(src.addr);
    return out;
  }
  const dst = parseIp4(dstText);
  if (dst === null) throw new ErrnoError("EINVAL", `destination ${dstText}`);
  const r = ctx.routes4.lookup(dst);
  if (!r) throw new ErrnoError("ESRCH", "route get");
  r.use++;
  const iface = r.iface;
  const out: RouteGetInfo = { route: route4Info(r) };
  if (!(r.flags & RTF.HOST)) out.mask = formatIp4(prefixToMask4(r.prefixlen));
  if (iface.inet.length > 0) out.ifaddr = formatIp4(iface.inet[0].addr);
  return out;
}

/** `route flush`: deletes every gateway route, as NetBSD's route(8) does; returns what went. */
export function flushRoutes(ctx: RouteContext, family?: "inet" | "inet6"): RouteInfo[] {
  const gone: RouteInfo[] = [];
  if (family !== "inet6") {
    for (const r of ctx.routes4.list()) {
      if (!(r.flags & RTF.GATEWAY)) continue;
      gone.push(route4Info(r));
      ctx.routes4.delete(r.dst, r.prefixlen);
    }
  }
  if (family !== "inet" && ctx.inet6) {
    for (const r of ctx.routes6.list()) {
      if (!(r.flags & RTF.GATEWAY)) continue;
      gone.push(route6Info(ctx, r));
      ctx.routes6.delete(r.dst, r.prefixlen, r.zone);
    }
  }
  return gone;
}
