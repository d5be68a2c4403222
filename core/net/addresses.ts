/**
 * Interface addresses and the connected routes that come with them
 * (SIOCAIFADDR / SIOCDIFADDR and NetBSD's in_ifinit / in6_update_ifa).
 *
 * @example
 * ```ts ignore
 * addInet(iface, routes, { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" });
 * ```
 * @module
 */

import { ErrnoError } from "../errno.ts";
import type { AddrSpec } from "../control/ops.ts";
import { IFF } from "../link/if_flags.ts";
import type { Inet4Addr, Inet6Addr, NetInterface } from "../link/interface.ts";
import {
  classfulMask4,
  ip6Equal,
  isLinkLocal6,
  maskToPrefix4,
  parseIp4,
  parseIp6,
  splitZone,
} from "./ip_addr.ts";
import type { RouteTable4, RouteTable6 } from "./route.ts";
import { RTF } from "./route_flags.ts";

type Inet4Spec = Extract<AddrSpec, { family: "inet" }>;
type Inet6Spec = Extract<AddrSpec, { family: "inet6" }>;

function ip4OrThrow(text: string, what: string): number {
  const v = parseIp4(text);
  if (v === null) throw new ErrnoError("EINVAL", `${what} ${text}`);
  return v;
}

function ip6OrThrow(text: string, iface: NetInterface): Uint8Array {
  const { addr, zone } = splitZone(text);
  const v = parseIp6(addr);
  if (v === null) throw new ErrnoError("EINVAL", `inet6 ${text}`);
  if (zone !== undefined && zone !== iface.name && zone !== String(iface.index)) {
    throw new ErrnoError("EINVAL", `zone of ${text}`);
  }
  return v;
}

/** The routes a new IPv4 address brings: a host route on loopback and point-to-point, else the subnet. */
function addInet4Route(iface: NetInterface, a: Inet4Addr, routes: RouteTable4): void {
  const mtu = iface.isLoopback ? iface.mtu : 0;
  if (iface.isLoopback || (iface.flags & IFF.POINTOPOINT)) {
    const dst = a.dst ?? a.addr;
    const gateway = { kind: "inet", addr: a.addr } as const;
    routes.add({ dst, prefixlen: 32, gateway, flags: RTF.UP | RTF.HOST, iface, mtu });
    return;
  }
  const prefixlen = maskToPrefix4(a.mask) ?? 32;
  routes.add({
    dst: a.addr,
    prefixlen,
    gateway: { kind: "link", ifIndex: iface.index },
    flags: RTF.UP | (prefixlen === 32 ? RTF.HOST : RTF.CLONING),
    iface,
    mtu,
  });
}

function deleteInet4Route(iface: NetInterface, a: Inet4Addr, routes: RouteTable4): void {
  if (iface.isLoopback || (iface.flags & IFF.POINTOPOINT)) {
    const r = routes.find(a.dst ?? a.addr, 32);
    if (r?.iface === iface) routes.delete(a.dst ?? a.addr, 32);
    return;
  }
  const prefixlen = maskToPrefix4(a.mask) ?? 32;
  const r = routes.find(a.addr, prefixlen);
  if (r?.iface === iface) routes.delete(a.addr, prefixlen);
}

/** Adds or updates an IPv4 address (SIOCAIFADDR). */
export function addInet(iface: NetInterface, spec: Inet4Spec, routes: RouteTable4): void {
  const addr = ip4OrThrow(spec.addr, "inet");
  const existing = iface.inet.find((a) => a.addr === addr);
  const mask = spec.netmask !== undefined
    ? ip4OrThrow(spec.netmask, "netmask")
    : (existing?.mask ?? classfulMask4(addr));
  if (maskToPrefix4(mask) === null) throw new ErrnoError("EINVAL", `netmask ${spec.netmask}`);
  const entry: Inet4Addr = { addr, mask };
  if (iface.flags & IFF.BROADCAST) {
    entry.broadcast = spec.broadcast !== undefined
      ? ip4OrThrow(spec.broadcast, "broadcast")
      : ((addr | ~mask) >>> 0);
  }
  if (spec.dst !== undefined) {
    if (!(iface.flags & IFF.POINTOPOINT)) throw new ErrnoError("EINVAL", "destination address");
    entry.dst = ip4OrThrow(spec.dst, "destination");
  }
  if (existing) {
    deleteInet4Route(iface, existing, routes);
    Object.assign(existing, entry);
    if (entry.broadcast === undefined) delete existing.broadcast;
    addInet4Route(iface, existing, routes);
    return;
  }
  iface.inet.push(entry);
  addInet4Route(iface, entry, routes);
}

/** Deletes an IPv4 address, or the primary one when `text` is undefined (SIOCDIFADDR). */
export function deleteInet(
  iface: NetInterface,
  text: string | undefined,
  routes: RouteTable4,
): void {
  const i = text === undefined ? 0 : iface.inet.findIndex((a) => a.addr === parseIp4(text));
  if (i < 0 || i >= iface.inet.length) throw new ErrnoError("EADDRNOTAVAIL", "SIOCDIFADDR");
  const [gone] = iface.inet.splice(i, 1);
  deleteInet4Route(iface, gone, routes);
}

/** The routes an IPv6 address brings (NetBSD 4: prefix route, and a local host route via lo0). */
function addInet6Routes(
  iface: NetInterface,
  a: Inet6Addr,
  routes: RouteTable6,
  lo0: NetInterface,
): void {
  const zone = isLinkLocal6(a.addr) ? iface.index : undefined;
  const mtu = iface.isLoopback ? iface.mtu : 0;
  if (iface.isLoopback && a.prefixlen === 128) {
    const gateway = { kind: "inet6", addr: a.addr } as const;
    routes.add({
      dst: a.addr,
      prefixlen: 128,
      gateway,
      flags: RTF.UP | RTF.HOST,
      iface,
      mtu,
    });
    return;
  }
  if (a.prefixlen < 128) {
    const gateway = iface.isLoopback
      ? { kind: "inet6", addr: a.addr } as const
      : { kind: "link", ifIndex: iface.index } as const;
    const flags = RTF.UP | (iface.isLoopback ? 0 : RTF.CLONING);
    routes.add({
      dst: a.addr,
      prefixlen: a.prefixlen,
      zone,
      gateway,
      flags,
      iface,
      mtu,
    });
  }
  const gateway = iface.spec.lladdr
    ? { kind: "lladdr", mac: iface.spec.lladdr } as const
    : { kind: "link", ifIndex: iface.index } as const;
  routes.add({
    dst: a.addr,
    prefixlen: 128,
    zone,
    gateway,
    flags: RTF.UP | RTF.HOST | RTF.LLINFO,
    iface: iface.isLoopback ? iface : lo0,
    mtu: 0,
  });
}

function deleteInet6Routes(iface: NetInterface, a: Inet6Addr, routes: RouteTable6): void {
  const zone = isLinkLocal6(a.addr) ? iface.index : undefined;
  routes.delete(a.addr, 128, zone);
  const stillCovered = iface.inet6.some((o) =>
    o.prefixlen === a.prefixlen && ip6Equal(o.addr.subarray(0, 8), a.addr.subarray(0, 8))
  );
  if (a.prefixlen < 128 && !stillCovered) routes.delete(a.addr, a.prefixlen, zone);
}

/** Adds or updates an IPv6 address (SIOCAIFADDR_IN6); returns its entry (for DAD). */
export function addInet6(
  iface: NetInterface,
  spec: Inet6Spec,
  routes: RouteTable6,
  lo0: NetInterface,
): Inet6Addr {
  const addr = ip6OrThrow(spec.addr, iface);
  const prefixlen = spec.prefixlen ?? 64;
  if (!Number.isInteger(prefixlen) || prefixlen < 0 || prefixlen > 128) {
    throw new ErrnoError("EINVAL", `prefixlen ${prefixlen}`);
  }
  const existing = iface.inet6.find((a) => ip6Equal(a.addr, addr));
  if (existing) deleteInet6Routes(iface, existing, routes);
  const entry: Inet6Addr = existing ?? { addr, prefixlen, flags: [] };
  entry.prefixlen = prefixlen;
  entry.flags = [...(spec.flags ?? [])];
  if (spec.dst !== undefined) entry.dst = ip6OrThrow(spec.dst, iface);
  for (const key of ["pltime", "vltime"] as const) {
    const v = spec[key];
    if (v !== undefined && (v < 0 || v > 0xffffffff)) throw new ErrnoError("EINVAL", key);
    // 0xffffffff is ND6_INFINITE_LIFETIME.
    entry[key] = v === undefined || v === 0xffffffff ? undefined : v;
  }
  if (!existing) iface.inet6.push(entry);
  addInet6Routes(iface, entry, routes, lo0);
  return entry;
}

/** Deletes an IPv6 address, or the first one when `text` is undefined. */
export function deleteInet6(
  iface: NetInterface,
  text: string | undefined,
  routes: RouteTable6,
): void {
  let i = 0;
  if (text !== undefined) {
    const addr = ip6OrThrow(text, iface);
    i = iface.inet6.findIndex((a) => ip6Equal(a.addr, addr));
  }
  if (i < 0 || i >= iface.inet6.length) throw new ErrnoError("EADDRNOTAVAIL", "SIOCDIFADDR_IN6");
  const [gone] = iface.inet6.splice(i, 1);
  deleteInet6Routes(iface, gone, routes);
}
