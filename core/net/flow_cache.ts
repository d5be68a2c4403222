/**
 * The fast-forward flow cache (NetBSD's ipflow, `-p tcpip fastforward`): the
 * forwarding decision for a destination, kept so the next packet skips the
 * route lookup. Entries are valid while the routing table's generation is the
 * one they were made under; at most `net.inet.ip.maxflows` are kept, the least
 * recently used going first.
 *
 * @example
 * ```ts ignore
 * const flow = flows.get(dst, routes.generation) ?? lookUpAndPut();
 * ```
 * @module
 */

import type { NetInterface } from "../link/interface.ts";
import { IntPairMap } from "../lib/int_pair_map.ts";

/** A forwarding decision. */
export interface Flow {
  iface: NetInterface;
  nextHop: number;
  mtu: number;
  /** The route was through a gateway (redirects are possible). */
  gatewayRoute: boolean;
}

interface Cached {
  flow: Flow;
  generation: number;
  /** When it was last used (a tick of the cache), for eviction. */
  used: number;
  dst: number;
}

/** Flows by destination address. */
export class FlowCache {
  // Keyed by (0, dst) without boxing; a hit only stamps its entry (no re-insertion), and
  // eviction, when full, looks for the least recently used (rare: a new destination).
  #flows = new IntPairMap<Cached>();
  #tick = 0;
  readonly #max: () => number;

  /** @param max reads `net.inet.ip.maxflows` */
  constructor(max: () => number) {
    this.#max = max;
  }

  /** The flow for `dst` if still valid under `generation`. */
  get(dst: number, generation: number): Flow | undefined {
    const c = this.#flows.get(0, dst);
    if (!c) return undefined;
    if (c.generation !== generation) {
      this.#flows.delete(0, dst);
      return undefined;
    }
    c.used = ++this.#tick;
    return c.flow;
  }

  /** Remembers a decision. */
  put(dst: number, flow: Flow, generation: number): void {
    const max = this.#max();
    if (max <= 0) return;
    this.#flows.delete(0, dst);
    while (this.#flows.size >= max) this.#evictOldest();
    this.#flows.set(0, dst, { flow, generation, used: ++this.#tick, dst });
  }

  /** Entries held. */
  get size(): number {
    return this.#flows.size;
  }

  #evictOldest(): void {
    let oldest: Cached | null = null;
    for (const c of this.#flows.values()) {
      if (oldest === null || c.used < oldest.used) oldest = c;
    }
    if (oldest) this.#flows.delete(0, oldest.dst);
  }

  /** Forgets everything (an interface went away). */
  clear(): void {
    this.#flows.clear();
  }
}
