/**
 * The IPv6 neighbour cache and its Neighbour Unreachability Detection state
 * machine (RFC 4861 §7.3), over time passed in, in the shape of the ARP cache.
 *
 * An entry is INCOMPLETE while multicast solicitations go out (one every
 * RetransTimer, `nd6_mmaxtries` of them), REACHABLE for ReachableTime after a
 * confirmation, STALE after that (usable, unconfirmed), DELAY for
 * DELAY_FIRST_PROBE_TIME (`nd6_delay`) after a packet went to a STALE entry,
 * then PROBE while unicast solicitations go out (`nd6_umaxtries`). A probe
 * round that gets no answer removes the entry. Static entries (`ndp -s`) are
 * permanent. Packets waiting for resolution are held, a bounded number per
 * entry, oldest dropped first.
 *
 * The cache sends nothing itself: it returns what to do and the ND layer does
 * it. Lookups allocate nothing: entries are bucketed by a number made from the
 * interface index and the address's last bytes.
 *
 * @example
 * ```ts ignore
 * const action = cache.resolve(iface.index, nextHop, packet, now);
 * ```
 * @module
 */

import { ARP_MAXHOLD } from "../link/arp_cache.ts";
import { ip6Equal } from "./ip_addr.ts";
import { sameMac } from "../wire/ethernet.ts";

/** Packets held per unresolved entry (the same bound as ARP's). */
export const ND6_MAXHOLD = ARP_MAXHOLD;
/** How long a STALE entry is kept unused before it is collected (NetBSD nd6_gctimer: 1 day). */
export const ND6_GC_MS = 24 * 3600 * 1000;

/** NUD states (RFC 4861 §7.3.2). */
export type NudState = "INCOMPLETE" | "REACHABLE" | "STALE" | "DELAY" | "PROBE";

/** The timing of one interface's entries, in milliseconds or tries. */
export interface Nd6Timing {
  /** RetransTimer. */
  retrans: number;
  /** ReachableTime (already randomised). */
  reachable: number;
  /** DELAY_FIRST_PROBE_TIME. */
  delay: number;
  /** MAX_MULTICAST_SOLICIT. */
  mmaxtries: number;
  /** MAX_UNICAST_SOLICIT. */
  umaxtries: number;
}

/** One neighbour. */
export interface Nd6Entry {
  /** The neighbour's address (the entry's own copy). */
  readonly addr: Uint8Array;
  readonly ifIndex: number;
  mac: Uint8Array | null;
  state: NudState;
  /** `ndp -s`: never expires, never probed. */
  permanent: boolean;
  /** Answer solicitations for this address (proxy, `ndp -s ... proxy`). */
  published: boolean;
  /** IsRouter (RFC 4861 §7.3.1). */
  router: boolean;
  /** When the state changes or the next solicitation is due (ms); Infinity when never. */
  expire: number;
  /** Solicitations sent in this round. */
  asked: number;
  /** IPv6 packets (copies) waiting for the link address. */
  held: Uint8Array[];
}

/** What the caller must do after {@linkcode Nd6Cache.resolve}. */
export type Nd6Action =
  | { kind: "send"; mac: Uint8Array }
  | { kind: "held"; solicit: boolean };

/** What a timer tick asks for. */
export type Nd6TickAction =
  /** Send a multicast solicitation (INCOMPLETE). */
  | { kind: "solicit"; entry: Nd6Entry }
  /** Send a unicast solicitation to the cached address (PROBE). */
  | { kind: "probe"; entry: Nd6Entry }
  /** Resolution failed: the entry is gone; `held` are the packets that waited. */
  | { kind: "failed"; entry: Nd6Entry; held: Uint8Array[] };

/** What an advertisement changed (for the router list). */
export interface Nd6Update {
  /** Packets that were waiting, now sendable to `entry.mac`. */
  held: Uint8Array[];
  /** The neighbour said it is no longer a router. */
  routerLost: boolean;
}

const NO_UPDATE: Nd6Update = Object.freeze({ held: [], routerLost: false }) as Nd6Update;

function bucketKey(ifIndex: number, addr: Uint8Array): number {
  const low = ((addr[12] << 24) | (addr[13] << 16) | (addr[14] << 8) | addr[15]) >>> 0;
  // Interface indexes are small: one number keys the map without allocation.
  return low * 1024 + (ifIndex & 1023);
}

/** The neighbour cache of one stack. */
export class Nd6Cache {
  #buckets = new Map<number, Nd6Entry[]>();
  #count = 0;
  readonly #timing: (ifIndex: number) => Nd6Timing;
  /** Packets dropped because a hold queue was full or resolution failed. */
  dropped = 0;
  /** Entries answered for (`published`), so group membership checks can skip the walk. */
  published = 0;

  /** @param timing the current timing of an interface */
  constructor(timing: (ifIndex: number) => Nd6Timing) {
    this.#timing = timing;
  }

  /** Number of entries. */
  get size(): number {
    return this.#count;
  }

  /** The entry for an address on an interface. */
  get(ifIndex: number, addr: Uint8Array): Nd6Entry | undefined {
    const b = this.#buckets.get(bucketKey(ifIndex, addr));
    if (!b) return undefined;
    for (const e of b) if (e.ifIndex === ifIndex && ip6Equal(e.addr, addr)) return e;
    return undefined;
  }

  /** Every entry. */
  *entries(): IterableIterator<Nd6Entry> {
    for (const b of this.#buckets.values()) yield* b;
  }

  /**
   * The fast path: the link address when the entry is usable now (a STALE
   * entry moves to DELAY, RFC 4861 §7.3.3), else `null`. Allocates nothing.
   */
  lookup(ifIndex: number, addr: Uint8Array, now: number): Uint8Array | null {
    this.movedDeadline = -1;
    const e = this.get(ifIndex, addr);
    if (!e || !e.mac || e.state === "INCOMPLETE") return null;
    if (!e.permanent) {
      if (e.state === "REACHABLE" && now >= e.expire) e.state = "STALE";
      if (e.state === "STALE") {
        e.state = "DELAY";
        e.expire = now + this.#timing(ifIndex).delay;
        this.movedDeadline = e.expire;
      }
    }
    return e.mac;
  }

  /**
   * The new deadline of the entry the last {@linkcode Nd6Cache.lookup} moved
   * (STALE to DELAY), or -1 when it moved none: the caller re-arms its timer
   * only then, instead of scanning the cache per packet.
   */
  movedDeadline = -1;

  /**
   * Finds the link address to send a packet to `addr`: at once when known
   * (a STALE entry moves to DELAY), else holds a copy of `packet` (if given)
   * and says whether to solicit now (a new entry).
   */
  resolve(ifIndex: number, addr: Uint8Array, packet: Uint8Array | null, now: number): Nd6Action {
    const mac = this.lookup(ifIndex, addr, now);
    if (mac) return { kind: "send", mac };
    let e = this.get(ifIndex, addr);
    let solicit = false;
    if (!e) {
      e = this.#fresh(ifIndex, addr);
      e.asked = 1;
      e.expire = now + this.#timing(ifIndex).retrans;
      solicit = true;
    }
    if (packet) {
      if (e.held.length >= ND6_MAXHOLD) {
        e.held.shift();
        this.dropped++;
      }
      e.held.push(packet.slice());
    }
    return { kind: "held", solicit };
  }

  /**
   * What a solicitation, a router message or a redirect says about its sender
   * (RFC 4861 §7.2.3, §6.3.4, §8.3): creates a STALE entry, or makes an
   * existing one STALE when the link address changed; fills an INCOMPLETE one.
   * `router` sets IsRouter (from a Router Advertisement or a Redirect target);
   * `create` false only updates an existing entry.
   */
  learn(
    ifIndex: number,
    addr: Uint8Array,
    mac: Uint8Array,
    now: number,
    opts: { router?: boolean; create?: boolean } = {},
  ): Nd6Update {
    let e = this.get(ifIndex, addr);
    if (!e) {
      if (opts.create === false) return NO_UPDATE;
      e = this.#fresh(ifIndex, addr);
    }
    if (opts.router) e.router = true;
    if (e.permanent) return NO_UPDATE;
    if (e.mac && e.state !== "INCOMPLETE" && sameMac(e.mac, 0, mac)) return NO_UPDATE;
    e.mac = mac.slice(0, 6);
    e.state = "STALE";
    e.expire = now + ND6_GC_MS;
    e.asked = 0;
    return this.#release(e);
  }

  /** A Neighbor Advertisement for an entry that exists (RFC 4861 §7.2.5). */
  advert(
    e: Nd6Entry,
    mac: Uint8Array | null,
    flags: { solicited: boolean; override: boolean; router: boolean },
    now: number,
  ): Nd6Update {
    if (e.permanent) return NO_UPDATE;
    const t = this.#timing(e.ifIndex);
    const wasRouter = e.router;
    if (e.state === "INCOMPLETE") {
      if (!mac) return NO_UPDATE;
      e.mac = mac.slice(0, 6);
      this.#confirmOrStale(e, flags.solicited, now, t);
      e.router = flags.router;
      return this.#release(e, wasRouter && !flags.router);
    }
    const differs = mac !== null && e.mac !== null && !sameMac(e.mac, 0, mac);
    if (!flags.override && differs) {
      // Keep the old address; only doubt it (§7.2.5, the "O flag clear" rule).
      if (e.state === "REACHABLE") {
        e.state = "STALE";
        e.expire = now + ND6_GC_MS;
      }
      return NO_UPDATE;
    }
    if (mac && differs) e.mac = mac.slice(0, 6);
    if (flags.solicited) this.#confirmOrStale(e, true, now, t);
    else if (differs) {
      e.state = "STALE";
      e.expire = now + ND6_GC_MS;
    }
    e.router = flags.router;
    return { held: [], routerLost: wasRouter && !flags.router };
  }

  /** Upper-layer reachability confirmation (RFC 4861 §7.3.1): the entry becomes REACHABLE. */
  confirm(ifIndex: number, addr: Uint8Array, now: number): void {
    const e = this.get(ifIndex, addr);
    if (!e || e.permanent || !e.mac) return;
    this.#confirmOrStale(e, true, now, this.#timing(ifIndex));
  }

  /** `ndp -s`: a permanent (or, with `temp`, an expiring REACHABLE) entry. */
  set(
    ifIndex: number,
    addr: Uint8Array,
    mac: Uint8Array,
    opts: { temp: boolean; pub: boolean },
    now: number,
  ): Nd6Entry {
    const e = this.get(ifIndex, addr) ?? this.#fresh(ifIndex, addr);
    e.mac = mac.slice(0, 6);
    e.permanent = !opts.temp;
    this.published += (opts.pub ? 1 : 0) - (e.published ? 1 : 0);
    e.published = opts.pub;
    e.state = "REACHABLE";
    e.expire = opts.temp ? now + ND6_GC_MS : Infinity;
    e.asked = 0;
    this.dropped += e.held.length;
    e.held = [];
    return e;
  }

  /** Removes an entry; false when there was none. */
  delete(ifIndex: number, addr: Uint8Array): boolean {
    const key = bucketKey(ifIndex, addr);
    const b = this.#buckets.get(key);
    if (!b) return false;
    const i = b.findIndex((e) => e.ifIndex === ifIndex && ip6Equal(e.addr, addr));
    if (i < 0) return false;
    this.dropped += b[i].held.length;
    if (b[i].published) this.published--;
    b.splice(i, 1);
    if (b.length === 0) this.#buckets.delete(key);
    this.#count--;
    return true;
  }

  /** Removes every entry of an interface. */
  deleteInterface(ifIndex: number): void {
    for (const e of [...this.entries()]) if (e.ifIndex === ifIndex) this.delete(ifIndex, e.addr);
  }

  /** Runs the clock; returns what to send and what failed. */
  tick(now: number): Nd6TickAction[] {
    const out: Nd6TickAction[] = [];
    for (const e of [...this.entries()]) {
      if (e.permanent || now < e.expire) continue;
      const t = this.#timing(e.ifIndex);
      switch (e.state) {
        case "INCOMPLETE":
          if (e.asked >= t.mmaxtries) {
            const held = e.held;
            e.held = [];
            this.dropped += held.length;
            this.delete(e.ifIndex, e.addr);
            out.push({ kind: "failed", entry: e, held });
          } else {
            e.asked++;
            e.expire = now + t.retrans;
            out.push({ kind: "solicit", entry: e });
          }
          break;
        case "REACHABLE":
          e.state = "STALE";
          e.expire = now + ND6_GC_MS;
          break;
        case "STALE":
          this.delete(e.ifIndex, e.addr);
          break;
        case "DELAY":
          e.state = "PROBE";
          e.asked = 1;
          e.expire = now + t.retrans;
          out.push({ kind: "probe", entry: e });
          break;
        case "PROBE":
          if (e.asked >= t.umaxtries) {
            this.delete(e.ifIndex, e.addr);
            out.push({ kind: "failed", entry: e, held: [] });
          } else {
            e.asked++;
            e.expire = now + t.retrans;
            out.push({ kind: "probe", entry: e });
          }
          break;
      }
    }
    return out;
  }

  /** The earliest time {@linkcode Nd6Cache.tick} has work, or `null`. */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const b of this.#buckets.values()) {
      for (const e of b) if (!e.permanent && (next === null || e.expire < next)) next = e.expire;
    }
    return next;
  }

  #confirmOrStale(e: Nd6Entry, solicited: boolean, now: number, t: Nd6Timing): void {
    e.asked = 0;
    if (solicited) {
      e.state = "REACHABLE";
      e.expire = now + t.reachable;
    } else {
      e.state = "STALE";
      e.expire = now + ND6_GC_MS;
    }
  }

  #release(e: Nd6Entry, routerLost = false): Nd6Update {
    const held = e.held;
    e.held = [];
    return { held, routerLost };
  }

  #fresh(ifIndex: number, addr: Uint8Array): Nd6Entry {
    const e: Nd6Entry = {
      addr: addr.slice(0, 16),
      ifIndex,
      mac: null,
      state: "INCOMPLETE",
      permanent: false,
      published: false,
      router: false,
      expire: 0,
      asked: 0,
      held: [],
    };
    const key = bucketKey(ifIndex, addr);
    const b = this.#buckets.get(key);
    if (b) b.push(e);
    else this.#buckets.set(key, [e]);
    this.#count++;
    return e;
  }
}
