/**
 * The routing tables of both families, with longest-prefix match.
 *
 * Entries are kept per family, sorted by prefix length (longest first), so a
 * lookup is the first entry whose masked destination matches.
 *
 * @example
 * ```ts
 * import { RouteTable4 } from "./route.ts";
 * import { RTF } from "./route_flags.ts";
 * const t = new RouteTable4();
 * t.add({ dst: 0xc0000200, prefixlen: 24, gateway: { kind: "link", ifIndex: 2 },
 *   flags: RTF.UP | RTF.CLONING, ifName: "en0", mtu: 0 });
 * console.log(t.lookup(0xc0000209)?.ifName); // en0
 * ```
 * @module
 */

import { RTF } from "./route_flags.ts";
import { ip6Equal, maskIp6, prefixToMask4 } from "./ip_addr.ts";

/** Where a route sends packets. */
export type RouteGateway =
  | { kind: "link"; ifIndex: number }
  | { kind: "inet"; addr: number }
  | { kind: "inet6"; addr: Uint8Array }
  | { kind: "lladdr"; mac: Uint8Array };

/** What both families' routes have. */
export interface RouteBase {
  /** Prefix length; 32 or 128 with RTF.HOST for a host route. */
  prefixlen: number;
  gateway: RouteGateway;
  flags: number;
  ifName: string;
  /** Route MTU; 0 when unset. */
  mtu: number;
  refs?: number;
  use?: number;
}

/** An IPv4 route. */
export interface Route4 extends RouteBase {
  dst: number;
}

/** An IPv6 route; `zone` is the interface index of scoped destinations. */
export interface Route6 extends RouteBase {
  dst: Uint8Array;
  zone?: number;
  /** Interface index of a link-local gateway. */
  gatewayZone?: number;
}

/** A route as the table stores it, with its counters. */
export type RouteEntry<R extends RouteBase> = R & { refs: number; use: number };

/** IPv4 routing table. */
export class RouteTable4 {
  #routes: RouteEntry<Route4>[] = [];
  /** Bumped on every change, so cached decisions (the flow cache) know they are stale. */
  generation = 0;

  /** Adds a route; returns false (and changes nothing) when the same destination exists. */
  add(route: Route4): boolean {
    const dst = (route.dst & prefixToMask4(route.prefixlen)) >>> 0;
    if (this.find(dst, route.prefixlen)) return false;
    const entry = { refs: 0, use: 0, ...route, dst };
    const at = this.#routes.findIndex((r) => r.prefixlen < entry.prefixlen);
    if (at === -1) this.#routes.push(entry);
    else this.#routes.splice(at, 0, entry);
    this.generation++;
    return true;
  }

  /** The route for exactly this destination and prefix length. */
  find(dst: number, prefixlen: number): RouteEntry<Route4> | undefined {
    const d = (dst & prefixToMask4(prefixlen)) >>> 0;
    return this.#routes.find((r) => r.prefixlen === prefixlen && r.dst === d);
  }

  /** Removes a route; false when there was none. */
  delete(dst: number, prefixlen: number): boolean {
    const r = this.find(dst, prefixlen);
    if (!r) return false;
    this.#routes.splice(this.#routes.indexOf(r), 1);
    this.generation++;
    return true;
  }

  /** Removes every route through an interface. */
  deleteByInterface(ifName: string): void {
    this.#routes = this.#routes.filter((r) => r.ifName !== ifName);
    this.generation++;
  }

  /** Longest-prefix match; reject and blackhole routes are returned too. */
  lookup(addr: number): RouteEntry<Route4> | undefined {
    for (const r of this.#routes) {
      if (((addr & prefixToMask4(r.prefixlen)) >>> 0) === r.dst && (r.flags & RTF.UP)) return r;
    }
    return undefined;
  }

  /** Every route, in table order (numeric destination order, as netstat lists them). */
  list(): readonly RouteEntry<Route4>[] {
    return [...this.#routes].sort((a, b) => a.dst - b.dst || a.prefixlen - b.prefixlen);
  }
}

/** Whether the first `len` bits of `addr` equal those of `prefix`. */
function prefixMatch6(addr: Uint8Array, prefix: Uint8Array, len: number): boolean {
  const whole = len >> 3;
  for (let i = 0; i < whole; i++) if (addr[i] !== prefix[i]) return false;
  const bits = len & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (addr[whole] & mask) === (prefix[whole] & mask);
}

function compare6(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** IPv6 routing table. */
export class RouteTable6 {
  #routes: RouteEntry<Route6>[] = [];
  /** Bumped on every change, so cached decisions (senders' routes) know they are stale. */
  generation = 0;

  /** Adds a route; false when the same destination (and zone) exists. */
  add(route: Route6): boolean {
    const dst = maskIp6(route.dst, route.prefixlen);
    if (this.find(dst, route.prefixlen, route.zone)) return false;
    const entry = { refs: 0, use: 0, ...route, dst };
    const at = this.#routes.findIndex((r) => r.prefixlen < entry.prefixlen);
    if (at === -1) this.#routes.push(entry);
    else this.#routes.splice(at, 0, entry);
    this.generation++;
    return true;
  }

  /** The route for exactly this destination, prefix length and zone. */
  find(dst: Uint8Array, prefixlen: number, zone?: number): RouteEntry<Route6> | undefined {
    const d = maskIp6(dst, prefixlen);
    return this.#routes.find((r) =>
      r.prefixlen === prefixlen && r.zone === zone && ip6Equal(r.dst, d)
    );
  }

  /** Removes a route; false when there was none. */
  delete(dst: Uint8Array, prefixlen: number, zone?: number): boolean {
    const r = this.find(dst, prefixlen, zone);
    if (!r) return false;
    this.#routes.splice(this.#routes.indexOf(r), 1);
    this.generation++;
    return true;
  }

  /** Removes every route through an interface or scoped to it. */
  deleteByInterface(ifName: string, ifIndex: number): void {
    this.#routes = this.#routes.filter((r) => r.ifName !== ifName && r.zone !== ifIndex);
    this.generation++;
  }

  /** Longest-prefix match; scoped routes match only their zone. Allocates nothing. */
  lookup(addr: Uint8Array, zone?: number): RouteEntry<Route6> | undefined {
    for (const r of this.#routes) {
      if (r.zone !== undefined && r.zone !== zone) continue;
      if ((r.flags & RTF.UP) && prefixMatch6(addr, r.dst, r.prefixlen)) return r;
    }
    return undefined;
  }

  /** Every route, in numeric destination order. */
  list(): readonly RouteEntry<Route6>[] {
    return [...this.#routes].sort((a, b) =>
      compare6(a.dst, b.dst) || a.prefixlen - b.prefixlen || (a.zone ?? 0) - (b.zone ?? 0)
    );
  }
}
