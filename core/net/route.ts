/**
 * The routing tables of both families, with longest-prefix match.
 *
 * A route holds its interface itself, not its name. Each table keeps one map
 * per prefix length, keyed by the masked destination (IPv4: the 32-bit number;
 * IPv6: a 32-bit hash of the masked 16 bytes, whose small bucket is compared
 * exactly), and the list of lengths in use, longest first. A lookup probes
 * those lengths: at most 33 (IPv4) or 129 (IPv6) probes, typically 3-4,
 * whatever the number of routes, and it allocates nothing. `list()` (netstat,
 * flush) is the slow path.
 *
 * @example
 * ```ts
 * import { RouteTable4 } from "./route.ts";
 * import { RTF } from "./route_flags.ts";
 * import { NetInterface } from "../link/interface.ts";
 * const en0 = new NetInterface({ name: "en0", index: 2, driver: "test", flags: 0,
 *   spec: { mtu: 1500, transmit: () => {} } });
 * const t = new RouteTable4();
 * t.add({ dst: 0xc0000200, prefixlen: 24, gateway: { kind: "link", ifIndex: 2 },
 *   flags: RTF.UP | RTF.CLONING, iface: en0, mtu: 0 });
 * console.log(t.lookup(0xc0000209)?.iface.name); // en0
 * ```
 * @module
 */

import type { NetInterface } from "../link/interface.ts";
import { RTF } from "./route_flags.ts";
import { maskIp6, prefixToMask4 } from "./ip_addr.ts";

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
  /** The interface packets leave by. */
  iface: NetInterface;
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

/** The prefix lengths that have routes, longest first: the probes of a lookup. */
class PrefixLengths {
  readonly #count: Int32Array;
  /** The lengths in use, longest first; `size` of them are valid. */
  readonly order: Uint8Array;
  size = 0;

  constructor(readonly max: number) {
    this.#count = new Int32Array(max + 1);
    this.order = new Uint8Array(max + 1);
  }

  added(len: number): void {
    if (this.#count[len]++ === 0) this.#rebuild();
  }

  removed(len: number): void {
    if (--this.#count[len] === 0) this.#rebuild();
  }

  #rebuild(): void {
    let n = 0;
    for (let len = this.max; len >= 0; len--) if (this.#count[len] > 0) this.order[n++] = len;
    this.size = n;
  }
}

function checkPrefixLength(len: number, max: number): void {
  if (!Number.isInteger(len) || len < 0 || len > max) {
    throw new RangeError(`prefix length ${len} outside 0..${max}`);
  }
}

/** IPv4 netmasks by prefix length, as int32 (map keys stay small integers: no boxing). */
const MASK4 = Int32Array.from({ length: 33 }, (_, len) => prefixToMask4(len) | 0);

/** IPv4 routing table. */
export class RouteTable4 {
  /** Per prefix length: masked destination (as int32) to route. */
  readonly #byLen: Map<number, RouteEntry<Route4>>[] = Array.from({ length: 33 }, () => new Map());
  readonly #lens = new PrefixLengths(32);
  /** Bumped on every change, so cached decisions (the flow cache) know they are stale. */
  generation = 0;

  /** Adds a route; returns false (and changes nothing) when the same destination exists. */
  add(route: Route4): boolean {
    checkPrefixLength(route.prefixlen, 32);
    const key = route.dst & MASK4[route.prefixlen];
    const map = this.#byLen[route.prefixlen];
    if (map.has(key)) return false;
    map.set(key, { refs: 0, use: 0, ...route, dst: key >>> 0 });
    this.#lens.added(route.prefixlen);
    this.generation++;
    return true;
  }

  /** The route for exactly this destination and prefix length. */
  find(dst: number, prefixlen: number): RouteEntry<Route4> | undefined {
    return this.#byLen[prefixlen]?.get(dst & MASK4[prefixlen]);
  }

  /** Removes a route; false when there was none. */
  delete(dst: number, prefixlen: number): boolean {
    const map = this.#byLen[prefixlen];
    if (map === undefined || !map.delete(dst & MASK4[prefixlen])) return false;
    this.#lens.removed(prefixlen);
    this.generation++;
    return true;
  }

  /** Removes every route through an interface. */
  deleteByInterface(iface: NetInterface): void {
    for (let len = 0; len <= 32; len++) {
      const map = this.#byLen[len];
      for (const [key, r] of map) {
        if (r.iface !== iface) continue;
        map.delete(key);
        this.#lens.removed(len);
      }
    }
    this.generation++;
  }

  /**
   * Longest-prefix match; a route that is not RTF_UP is passed over for a
   * shorter one, reject and blackhole routes are returned. Allocates nothing.
   */
  lookup(addr: number): RouteEntry<Route4> | undefined {
    const lens = this.#lens, order = lens.order, byLen = this.#byLen;
    for (let i = 0, n = lens.size; i < n; i++) {
      const len = order[i];
      const r = byLen[len].get(addr & MASK4[len]);
      if (r !== undefined && (r.flags & RTF.UP) !== 0) return r;
    }
    return undefined;
  }

  /** Every route, in numeric destination order, as netstat lists them (the slow path). */
  list(): readonly RouteEntry<Route4>[] {
    const out: RouteEntry<Route4>[] = [];
    for (const map of this.#byLen) for (const r of map.values()) out.push(r);
    return out.sort((a, b) => a.dst - b.dst || a.prefixlen - b.prefixlen);
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

/** IPv6 netmasks by prefix length: four big-endian int32 words per length. */
const MASK6 = new Int32Array(129 * 4);
for (let len = 0; len <= 128; len++) {
  for (let w = 0; w < 4; w++) {
    const bits = Math.min(32, Math.max(0, len - 32 * w));
    MASK6[len * 4 + w] = bits === 0 ? 0 : (-1 << (32 - bits)) | 0;
  }
}

/** The big-endian 32-bit word at `at` of an address. */
function word6(a: Uint8Array, at: number): number {
  return (a[at] << 24) | (a[at + 1] << 16) | (a[at + 2] << 8) | a[at + 3];
}

/** A 32-bit hash of four masked words (murmur3-style mixing); collisions share a bucket. */
function hash6(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ w1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ w3, 0xc2b2ae35);
  return (h ^ (h >>> 15)) | 0;
}

/**
 * The 32-bit hash of `addr`'s first `len` bits: the key of its bucket in the
 * IPv6 table (exported so tests can build colliding destinations).
 */
export function prefixHash6(addr: Uint8Array, len: number): number {
  const m = len * 4;
  return hash6(
    word6(addr, 0) & MASK6[m],
    word6(addr, 4) & MASK6[m + 1],
    word6(addr, 8) & MASK6[m + 2],
    word6(addr, 12) & MASK6[m + 3],
  );
}

type Bucket6 = RouteEntry<Route6>[];

/** IPv6 routing table. */
export class RouteTable6 {
  /**
   * Per prefix length: hash of the masked destination to the routes with that
   * hash, in the order they were added (same destination in several zones, or
   * a collision).
   */
  readonly #byLen: Map<number, Bucket6>[] = Array.from({ length: 129 }, () => new Map());
  readonly #lens = new PrefixLengths(128);
  /** Bumped on every change, so cached decisions (senders' routes) know they are stale. */
  generation = 0;

  /** Adds a route; false when the same destination (and zone) exists. */
  add(route: Route6): boolean {
    checkPrefixLength(route.prefixlen, 128);
    if (this.find(route.dst, route.prefixlen, route.zone)) return false;
    const dst = maskIp6(route.dst, route.prefixlen);
    const map = this.#byLen[route.prefixlen];
    const h = prefixHash6(dst, route.prefixlen);
    const entry = { refs: 0, use: 0, ...route, dst };
    const bucket = map.get(h);
    if (bucket === undefined) map.set(h, [entry]);
    else bucket.push(entry);
    this.#lens.added(route.prefixlen);
    this.generation++;
    return true;
  }

  /** The route for exactly this destination, prefix length and zone. */
  find(dst: Uint8Array, prefixlen: number, zone?: number): RouteEntry<Route6> | undefined {
    const bucket = this.#byLen[prefixlen]?.get(prefixHash6(dst, prefixlen));
    if (bucket === undefined) return undefined;
    for (let j = 0; j < bucket.length; j++) {
      const r = bucket[j];
      if (r.zone === zone && prefixMatch6(dst, r.dst, prefixlen)) return r;
    }
    return undefined;
  }

  /** Removes a route; false when there was none. */
  delete(dst: Uint8Array, prefixlen: number, zone?: number): boolean {
    const r = this.find(dst, prefixlen, zone);
    if (!r) return false;
    const map = this.#byLen[prefixlen];
    const h = prefixHash6(r.dst, prefixlen);
    const bucket = map.get(h)!;
    bucket.splice(bucket.indexOf(r), 1);
    if (bucket.length === 0) map.delete(h);
    this.#lens.removed(prefixlen);
    this.generation++;
    return true;
  }

  /** Removes every route through an interface or scoped to it. */
  deleteByInterface(iface: NetInterface): void {
    for (let len = 0; len <= 128; len++) {
      const map = this.#byLen[len];
      for (const [h, bucket] of map) {
        const kept = bucket.filter((r) => r.iface !== iface && r.zone !== iface.index);
        for (let gone = bucket.length - kept.length; gone > 0; gone--) this.#lens.removed(len);
        if (kept.length === 0) map.delete(h);
        else if (kept.length !== bucket.length) map.set(h, kept);
      }
    }
    this.generation++;
  }

  /**
   * Longest-prefix match; scoped routes match only their zone, a route that is
   * not RTF_UP is passed over for a shorter one, reject and blackhole routes
   * are returned. Allocates nothing.
   */
  lookup(addr: Uint8Array, zone?: number): RouteEntry<Route6> | undefined {
    const w0 = word6(addr, 0), w1 = word6(addr, 4), w2 = word6(addr, 8), w3 = word6(addr, 12);
    const lens = this.#lens, order = lens.order, byLen = this.#byLen;
    for (let i = 0, n = lens.size; i < n; i++) {
      const len = order[i];
      const m = len * 4;
      const bucket = byLen[len].get(
        hash6(w0 & MASK6[m], w1 & MASK6[m + 1], w2 & MASK6[m + 2], w3 & MASK6[m + 3]),
      );
      if (bucket === undefined) continue;
      for (let j = 0; j < bucket.length; j++) {
        const r = bucket[j];
        if (r.zone !== undefined && r.zone !== zone) continue;
        if ((r.flags & RTF.UP) !== 0 && prefixMatch6(addr, r.dst, len)) return r;
      }
    }
    return undefined;
  }

  /** Every route, in numeric destination order (the slow path). */
  list(): readonly RouteEntry<Route6>[] {
    const out: RouteEntry<Route6>[] = [];
    for (const map of this.#byLen) for (const bucket of map.values()) out.push(...bucket);
    return out.sort((a, b) =>
      compare6(a.dst, b.dst) || a.prefixlen - b.prefixlen || (a.zone ?? 0) - (b.zone ?? 0)
    );
  }
}
