/**
 * What `route show` and `netstat -r` print alike: routename()'s host names
 * (numeric, `localhost` for the loopback addresses unless `-n`, as this suite
 * has no resolver), the radix tree's walk order, and the Destination, Gateway
 * and Flags columns of p_sockaddr()/p_flags().
 *
 * Where the two tools print differently, the difference stays in the tool
 * and says why there. On purpose, as NetBSD's route and netstat differ:
 * netstat shortens networks with netname() where route's show.c prints the
 * full address and `/len`; show.c prints five flag letters and never cuts an
 * IPv6 number (the `wholeIp6` option here). Kept as they were, not from
 * NetBSD: netstat names 0.0.0.0 `default` and a zoned `::1` `localhost`,
 * which route leaves numeric, and route orders link-local keys without their
 * zone's interface index (it does not fetch the interface list).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inetHostName, routeColumns } from "./route_format.ts";
 * const dst = inetHostName(0x7f000001, false);
 * const text = routeColumns({ family: "inet", dst, gateway: "link#1", flags: 0 }, {
 *   numeric: false,
 * });
 * assert.equal(text, "localhost          link#1                    ");
 * ```
 * @module
 */

import type { RouteInfo } from "../core/control/ops.ts";
import { routeFlagLetters, RTF } from "../core/net/route_flags.ts";
import { formatIp4, formatIp6, parseIp4Strict, parseIp6, splitZone } from "../core/net/ip_addr.ts";

/** 127.0.0.1 as a number. */
export const LOOPBACK4 = 0x7f000001;

/**
 * Whether an IPv6 address is `::`.
 *
 * @param a the address bytes
 * @returns true when every byte is 0
 */
export function isZero6(a: Uint8Array): boolean {
  return a.every((b) => b === 0);
}

/**
 * Whether an IPv6 address is `::1`.
 *
 * @param a the address bytes
 * @returns true for the loopback address
 */
export function isLoopback6(a: Uint8Array): boolean {
  return a.every((b, i) => b === (i === 15 ? 1 : 0));
}

/**
 * routename() for an IPv4 host: numeric, `localhost` for 127.0.0.1 unless numeric.
 *
 * @param a the address as a number
 * @param numeric `-n`: never a name
 * @returns the host's text
 */
export function inetHostName(a: number, numeric: boolean): string {
  return !numeric && a === LOOPBACK4 ? "localhost" : formatIp4(a);
}

/**
 * routename() for an IPv6 host: numeric with its zone kept (`fe80::1%lo0`),
 * `localhost` for `::1` unless numeric.
 *
 * @param a the address bytes
 * @param zone the zone after `%`, if any
 * @param numeric `-n`: never a name
 * @returns the host's text
 */
export function inet6HostName(a: Uint8Array, zone: string | undefined, numeric: boolean): string {
  if (!numeric && isLoopback6(a)) return "localhost";
  return formatIp6(a) + (zone === undefined ? "" : `%${zone}`);
}

/**
 * Whether a route is a host route: no prefix length, or RTF_HOST.
 *
 * @param r the route
 * @returns true for a host route
 */
export function isHostRoute(r: RouteInfo): boolean {
  return r.prefixlen === null || (r.flags & RTF.HOST) !== 0;
}

/** A route with what the radix walk orders it by. */
export interface RadixEntry {
  route: RouteInfo;
  /** The radix key: address bytes, a link-local zone's index in bytes 2-3 when known. */
  key: Uint8Array;
  /** Host routes first (129), then longer prefixes. */
  specificity: number;
}

/**
 * A route's radix key and specificity.
 *
 * @param route the route
 * @param zones interface indexes by name: when given, an IPv6 destination's
 *   zone index goes into key bytes 2-3 as KAME embeds it (an unknown zone as 0)
 * @returns the entry to sort with {@linkcode compareRadix}
 */
export function radixEntry(route: RouteInfo, zones?: ReadonlyMap<string, number>): RadixEntry {
  const specificity = isHostRoute(route) ? 129 : route.prefixlen ?? 0;
  const { addr, zone } = splitZone(route.dst);
  if (route.family === "inet") {
    const a = parseIp4Strict(addr) ?? 0;
    const key = new Uint8Array([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255]);
    return { route, key, specificity };
  }
  const key = parseIp6(addr) ?? new Uint8Array(16);
  if (zones !== undefined && zone !== undefined) {
    const index = zones.get(zone) ?? 0;
    key[2] = index >> 8;
    key[3] = index & 255;
  }
  return { route, key, specificity };
}

/**
 * Byte-wise order of two radix keys, the shorter first on a common prefix.
 *
 * @param a one key
 * @param b the other
 * @returns negative, 0 or positive as for `Array.prototype.sort`
 */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * The radix walk's order within one family: keys ascending, more specific first.
 *
 * @param a one entry
 * @param b the other
 * @returns negative, 0 or positive as for `Array.prototype.sort`
 */
export function compareRadix(a: RadixEntry, b: RadixEntry): number {
  return compareKeys(a.key, b.key) || b.specificity - a.specificity;
}

/**
 * A family block's title and the header's Destination and Gateway columns;
 * the caller adds the rest of its header.
 *
 * @param family the block's family
 * @param numeric `-n`: the IPv6 columns are wider
 * @returns `\nInternet:\nDestination        Gateway            `
 */
export function routeBlockHead(family: RouteInfo["family"], numeric: boolean): string {
  const [wd, wg] = columnWidths(family, numeric);
  return `\n${family === "inet" ? "Internet" : "Internet6"}:\n` +
    column("Destination", wd, false) + column("Gateway", wg, false);
}

/** The texts of a row's first three columns. */
export interface RouteRowStart {
  family: RouteInfo["family"];
  /** The destination's name. */
  dst: string;
  /** The gateway's name. */
  gateway: string;
  /** The RTF bits whose letters print. */
  flags: number;
}

/** How {@linkcode routeColumns} lays the columns out. */
export interface RouteColumnsOptions {
  /** `-n`: the IPv6 columns are wider, and pad without cutting. */
  numeric: boolean;
  /** route's show.c: an IPv6 number is never cut, whatever its column's width. */
  wholeIp6?: boolean;
}

/**
 * p_sockaddr() twice and p_flags(): the Destination, Gateway and Flags
 * columns of a row, each followed by a space.
 *
 * @param row the three columns' texts
 * @param opts the layout
 * @returns the start of the row
 */
export function routeColumns(row: RouteRowStart, opts: RouteColumnsOptions): string {
  const [wd, wg] = columnWidths(row.family, opts.numeric);
  const cell = (text: string, width: number): string => {
    const whole = opts.wholeIp6 && row.family === "inet6" && text.includes(":");
    return column(text, whole ? Math.max(width, text.length) : width, opts.numeric);
  };
  return cell(row.dst, wd) + cell(row.gateway, wg) +
    routeFlagLetters(row.flags).slice(0, 6).padEnd(6) + " ";
}

/** The Destination and Gateway widths: wider for IPv6 under `-n`. */
function columnWidths(family: RouteInfo["family"], numeric: boolean): [number, number] {
  return family === "inet6" && numeric ? [34, 30] : [18, 18];
}

/** `-n` pads without cutting, otherwise the column cuts; then a space. */
function column(text: string, width: number, numeric: boolean): string {
  return (numeric ? text.padEnd(width) : text.slice(0, width).padEnd(width)) + " ";
}
