/**
 * The routing tables as they were before per-length maps: one list sorted by
 * prefix length (longest first), searched front to back. Kept as the reference
 * the property tests compare core/net/route.ts against, and as the baseline of
 * bench/route_bench.ts. Same API and semantics as RouteTable4/RouteTable6.
 * @module
 */

import type { NetInterface } from "../../core/link/interface.ts";
import { ip6Equal, maskIp6, prefixToMask4 } from "../../core/net/ip_addr.ts";
import type { Route4, Route6, RouteEntry } from "../../core/net/route.ts";
import { RTF } from "../../core/net/route_flags.ts";

/** IPv4 table, linear. */
export class LinearRouteTable4 {
  #routes: RouteEntry<Route4>[] = [];
  /** Bumped on every change. */
  generation = 0;

  /** Adds a route; false when the same destination exists. */
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

  /**
   * Adds distinct routes at once, skipping `add`'s duplicate search (which
   * makes filling a large table quadratic): for benchmarks.
   */
  load(routes: readonly Route4[]): void {
    for (const r of routes) {
      this.#routes.push({ refs: 0, use: 0, ...r, dst: (r.dst & prefixToMask4(r.prefixlen)) >>> 0 });
    }
    this.#routes.sort((a, b) => b.prefixlen - a.prefixlen);
    this.generation++;
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
  deleteByInterface(iface: NetInterface): void {
    this.#routes = this.#routes.filter((r) => r.iface !== iface);
    this.generation++;
  }

  /** Longest-prefix match, first UP route in the list. */
  lookup(addr: number): RouteEntry<Route4> | undefined {
    for (const r of this.#routes) {
      if (((addr & prefixToMask4(r.prefixlen)) >>> 0) === r.dst && (r.flags & RTF.UP)) return r;
    }
    return undefined;
  }

  /** Every route, in numeric destination order. */
  list(): readonly RouteEntry<Route4>[] {
    return [...this.#routes].sort((a, b) => a.dst - b.dst || a.prefixlen - b.prefixlen);
  }
}

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

/** IPv6 table, linear. */
export class LinearRouteTable6 {
  #routes: RouteEntry<Route6>[] = [];
  /** Bumped on every change. */
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

  /**
   * Adds distinct routes at once, skipping `add`'s duplicate search (which
   * makes filling a large table quadratic): for benchmarks.
   */
  load(routes: readonly Route6[]): void {
    for (const r of routes) {
      this.#routes.push({ refs: 0, use: 0, ...r, dst: maskIp6(r.dst, r.prefixlen) });
    }
    this.#routes.sort((a, b) => b.prefixlen - a.prefixlen);
    this.generation++;
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
  deleteByInterface(iface: NetInterface): void {
    this.#routes = this.#routes.filter((r) => r.iface !== iface && r.zone !== iface.index);
    this.generation++;
  }

  /** Longest-prefix match; scoped routes match only their zone. */
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
