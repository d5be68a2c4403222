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
}

/** Flows by destination address. */
export class FlowCache {
  // A Map iterates in insertion order: re-inserting on use makes it an LRU.
  #flows = new Map<number, Cached>();
  readonly #max: () => number;

  /** @param max reads `net.inet.ip.maxflows` */
  constructor(max: () => number) {
    this.#max = max;
  }

  /** The flow for `dst` if still valid under `generation`. */
  get(dst: number, generation: number): Flow | undefined {
    const c = this.#flows.get(dst);
    if (!c) return undefined;
    if (c.generation !== generation) {
      this.#flows.delete(dst);
      return undefined;
    }
    this.#flows.delete(dst);
    this.#flows.set(dst, c);
    return c.flow;
  }

  /** Remembers a decision. */
  put(dst: number, flow: Flow, generation: number): void {
    const max = this.#max();
    if (max <= 0) return;
    this.#flows.delete(dst);
    while (this.#flows.size >= max) this.#flows.delete(this.#flows.keys().next().value!);
    this.#flows.set(dst, { flow, generation });
  }

  /** Entries held. */
  get size(): number {
    return this.#flows.size;
  }

  /** Forgets everything (an interface went away). */
  clear(): void {
    this.#flows.clear();
  }
}
