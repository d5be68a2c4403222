/**
 * How `netstat` names hosts and networks: NetBSD's routename() and netname()
 * over this suite's numeric-only lookups (see `netstat.ts`). The loopback
 * rule itself is route_format.ts's, shared with `route`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { netName4 } from "./netstat_names.ts";
 * assert.equal(netName4(0x0a000000, 8), "10/8");
 * ```
 * @module
 */

import { maskIp6, parseIp4Strict, parseIp6, splitZone } from "../core/net/ip_addr.ts";
import { inet6HostName, inetHostName, isLoopback6, isZero6 } from "./route_format.ts";

/**
 * routename4(): a host, `default` for 0.0.0.0 (which route's names leave numeric).
 *
 * @param text the address text
 * @param numeric `-n`
 * @returns the name, or the text as given when it is not an IPv4 address
 */
export function hostName4(text: string, numeric: boolean): string {
  const a = parseIp4Strict(text);
  if (a === null) return text;
  if (a === 0) return "default";
  return inetHostName(a, numeric);
}

/**
 * routename6(): a host, its zone kept (`fe80::1%lo0`); `::1` is `localhost`
 * with or without a zone (route's names keep a zoned `::1` numeric).
 *
 * @param text the address text, maybe with `%zone`
 * @param numeric `-n`
 * @returns the name, or the text as given when it is not an IPv6 address
 */
export function hostName6(text: string, numeric: boolean): string {
  const { addr, zone } = splitZone(text);
  const a = parseIp6(addr);
  if (a === null) return text;
  return inet6HostName(a, zone, numeric);
}

/**
 * The mask width netname4() prints: 33 - ffs(mask).
 *
 * @param mask the IPv4 netmask
 * @returns the width, 0 for a zero mask
 */
export function maskBits(mask: number): number {
  if (mask === 0) return 0;
  const lowest = (mask & -mask) >>> 0;
  return 32 - (31 - Math.clz32(lowest));
}

/**
 * netname4(): a network shortened to its significant octets (`10.0.0/24`, `10/8`).
 *
 * @param addr the network number
 * @param bits the prefix length
 * @returns the name, `default` for 0/0
 */
export function netName4(addr: number, bits: number): string {
  if (addr === 0 && bits === 0) return "default";
  const octets = [addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255];
  const keep = bits < 9 ? 1 : bits < 17 ? 2 : bits < 25 ? 3 : 4;
  return `${octets.slice(0, keep).join(".")}/${bits}`;
}

/**
 * netname6(): the masked prefix with its zone and length (`fe80::%lo0/64`).
 *
 * @param text the address text, maybe with `%zone`
 * @param len the prefix length
 * @param numeric `-n`
 * @returns the name, `default` for ::/0
 */
export function netName6(text: string, len: number, numeric: boolean): string {
  const { addr, zone } = splitZone(text);
  const a = parseIp6(addr);
  if (a === null) return `${text}/${len}`;
  const net = maskIp6(a, len);
  if (len === 0 && isZero6(net)) return "default";
  if (!numeric && isLoopback6(net)) return `localhost/${len}`;
  return `${inet6HostName(net, zone, true)}/${len}`;
}
