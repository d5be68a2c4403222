/**
 * The ARP cache (NetBSD's llinfo_arp), as a state machine over time passed in.
 *
 * An entry is *incomplete* while requests go out (one a second, `maxtries` of
 * them), *resolved* for `keep` seconds after an answer, *down* for `down`
 * seconds after resolution failed (packets to it fail at once with EHOSTDOWN),
 * or *permanent* (`arp -s`). A resolved entry still in use during its last
 * `refresh` seconds is asked for again (a unicast request) so it does not lapse
 * under traffic; expired entries are swept every `prune` seconds, and are not
 * used in between. Packets waiting for resolution are held, a bounded
 * number per entry; older ones are dropped first. The `net.inet.arp.*` sysctls
 * are read each time they are needed, so writes act at once.
 *
 * The cache sends nothing itself: it returns what to do ({@linkcode ArpAction})
 * and the ARP layer does it.
 *
 * @example
 * ```ts ignore
 * const action = cache.resolve(iface.index, nextHop, packet, now);
 * ```
 * @module
 */

import { IntPairMap } from "../lib/int_pair_map.ts";

/** The `net.inet.arp.*` values, in seconds or tries. */
export interface ArpTimers {
  keep: number;
  down: number;
  maxtries: number;
  refresh: number;
  prune: number;
}

/** Packets held per unresolved entry (NetBSD holds one; Linux 101). */
export const ARP_MAXHOLD = 16;

/** Entry states. */
export type ArpState = "incomplete" | "resolved" | "down" | "permanent";

/** One cache entry. */
export interface ArpEntry {
  addr: number;
  ifIndex: number;
  mac: Uint8Array | null;
  state: ArpState;
  /** When the entry expires or the next request is due (ms). */
  expire: number;
  /** Requests sent in this resolution round. */
  asked: number;
  lastAsked: number;
  /** IP packets (copies) waiting for the address. */
  held: Uint8Array[];
  /** Answer requests for this address on its interface (`arp -s ... pub`). */
  published: boolean;
  /** Set by `arp -s ... temp`: expires like a learned entry. */
  temp: boolean;
}

/** What the caller must do after {@linkcode ArpCache.resolve}. */
export type ArpAction =
  | { kind: "send"; mac: Uint8Array }
  | { kind: "held"; request: boolean }
  | { kind: "fail"; errno: "EHOSTDOWN" | "EHOSTUNREACH" };

function key(ifIndex: number, addr: number): number {
  // Interface indexes are small: one number keys the ordered map (control path only).
  return ifIndex * 0x100000000 + addr;
}

/** The ARP cache of one stack. */
export class ArpCache {
  /** Every entry in insertion order (what `arp -a` lists). */
  #entries = new Map<number, ArpEntry>();
  /** The same entries, for the per-packet lookups: no key boxed per call. */
  #index = new IntPairMap<ArpEntry>();
  readonly #timers: () => ArpTimers;
  #nextPrune = 0;
  /** Packets dropped because an entry's hold queue was full or resolution failed. */
  dropped = 0;

  /** @param timers reads the current `net.inet.arp.*` values */
  constructor(timers: () => ArpTimers) {
    this.#timers = timers;
  }

  /** The entry for an address on an interface. */
  get(ifIndex: number, addr: number): ArpEntry | undefined {
    return this.#index.get(ifIndex, addr);
  }

  /** Every entry, in insertion order. */
  entries(): IterableIterator<ArpEntry> {
    return this.#entries.values();
  }

  /** The fast path: the link address when the entry is usable now, else `null` (no allocation). */
  lookup(ifIndex: number, addr: number, now: number): Uint8Array | null {
    const e = this.#index.get(ifIndex, addr);
    if (!e || !e.mac) return null;
    return e.state === "permanent" || (e.state === "resolved" && now < e.expire) ? e.mac : null;
  }

  /**
   * Whether a resolved entry in use should be asked for again now: it is within
   * `refresh` seconds of expiring and was not asked in the last second.
   */
  wantsRefresh(ifIndex: number, addr: number, now: number): boolean {
    const e = this.#index.get(ifIndex, addr);
    if (!e || e.state !== "resolved" || e.temp) return false;
    if (e.expire - now > this.#timers().refresh * 1000 || now - e.lastAsked < 1000) return false;
    e.lastAsked = now;
    return true;
  }

  /**
   * Finds the link address for `addr`. When it is unknown, holds a copy of
   * `packet` (if given) and says whether a request should go out now.
   */
  resolve(ifIndex: number, addr: number, packet: Uint8Array | null, now: number): ArpAction {
    const t = this.#timers();
    let e = this.get(ifIndex, addr);
    if (e && e.mac && (e.state === "permanent" || (e.state === "resolved" && now < e.expire))) {
      return { kind: "send", mac: e.mac };
    }
    if (e && e.state === "down") {
      if (now < e.expire) return { kind: "fail", errno: "EHOSTDOWN" };
      e.state = "incomplete";
      e.asked = 0;
    }
    if (!e || e.state === "resolved") {
      e = this.#fresh(ifIndex, addr);
    }
    if (packet) {
      if (e.held.length >= ARP_MAXHOLD) {
        e.held.shift();
        this.dropped++;
      }
      e.held.push(packet.slice());
    }
    // At most one request a second while incomplete (arpresolve's rate limit).
    const request = e.asked === 0 || now - e.lastAsked >= 1000;
    if (request) {
      if (e.asked >= t.maxtries) return this.#giveUp(e, now);
      e.asked++;
      e.lastAsked = now;
      e.expire = now + 1000;
    }
    return { kind: "held", request };
  }

  /**
   * Records what an ARP packet says about its sender. Creates an entry only
   * when `create` (the packet was for us), as RFC 826's merge rule says.
   * Returns the packets that were waiting for this address.
   */
  learn(
    ifIndex: number,
    addr: number,
    mac: Uint8Array,
    create: boolean,
    now: number,
  ): Uint8Array[] {
    let e = this.get(ifIndex, addr);
    if (!e) {
      if (!create) return [];
      e = this.#fresh(ifIndex, addr);
    }
    if (e.state === "permanent") return [];
    e.mac = mac.slice(0, 6);
    e.state = "resolved";
    e.expire = now + this.#timers().keep * 1000;
    e.asked = 0;
    const held = e.held;
    e.held = [];
    return held;
  }

  /** `arp -s`: a permanent (or `temp`) entry, optionally published. */
  set(
    ifIndex: number,
    addr: number,
    mac: Uint8Array,
    opts: { temp: boolean; pub: boolean },
    now: number,
  ): ArpEntry {
    const e = this.get(ifIndex, addr) ?? this.#fresh(ifIndex, addr);
    e.mac = mac.slice(0, 6);
    e.state = opts.temp ? "resolved" : "permanent";
    e.temp = opts.temp;
    e.published = opts.pub;
    e.expire = opts.temp ? now + this.#timers().keep * 1000 : Infinity;
    return e;
  }

  /** Removes an entry; false when there was none. */
  delete(ifIndex: number, addr: number): boolean {
    const e = this.get(ifIndex, addr);
    if (!e) return false;
    this.dropped += e.held.length;
    this.#index.delete(ifIndex, addr);
    return this.#entries.delete(key(ifIndex, addr));
  }

  /** Removes every entry of an interface (it went away). */
  deleteInterface(ifIndex: number): void {
    for (const e of [...this.#entries.values()]) {
      if (e.ifIndex === ifIndex) this.delete(ifIndex, e.addr);
    }
  }

  /**
   * Runs the clock: sweeps expired entries (at most every `prune` seconds),
   * gives up on silent ones. Returns the incomplete entries due another request
   * (the caller sends them).
   */
  tick(now: number): ArpEntry[] {
    const again: ArpEntry[] = [];
    const sweep = now >= this.#nextPrune;
    if (sweep) this.#nextPrune = now + this.#timers().prune * 1000;
    for (const e of [...this.#entries.values()]) {
      if (e.state === "permanent" || now < e.expire) continue;
      if (e.state === "resolved" || e.state === "down") {
        if (sweep) this.delete(e.ifIndex, e.addr);
      } else if (e.asked >= this.#timers().maxtries) {
        this.#giveUp(e, now);
      } else {
        e.asked++;
        e.lastAsked = now;
        e.expire = now + 1000;
        again.push(e);
      }
    }
    return again;
  }

  /** The earliest time {@linkcode ArpCache.tick} has work, or `null`. */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const e of this.#entries.values()) {
      if (e.state === "permanent") continue;
      // Lapsed resolved and down entries wait for the next prune sweep.
      const at = e.state === "incomplete" ? e.expire : Math.max(e.expire, this.#nextPrune);
      if (next === null || at < next) next = at;
    }
    return next;
  }

  #fresh(ifIndex: number, addr: number): ArpEntry {
    const e: ArpEntry = {
      addr,
      ifIndex,
      mac: null,
      state: "incomplete",
      expire: 0,
      asked: 0,
      lastAsked: 0,
      held: [],
      published: false,
      temp: false,
    };
    this.#entries.set(key(ifIndex, addr), e);
    this.#index.set(ifIndex, addr, e);
    return e;
  }

  #giveUp(e: ArpEntry, now: number): ArpAction {
    this.dropped += e.held.length;
    e.held = [];
    e.state = "down";
    e.mac = null;
    e.expire = now + this.#timers().down * 1000;
    return { kind: "fail", errno: "EHOSTDOWN" };
  }
}
