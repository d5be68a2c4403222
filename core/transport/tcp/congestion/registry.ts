/**
 * The congestion-control algorithms by name, for
 * `net.inet.tcp.congctl.available` / `net.inet.tcp.congctl.selected` and the
 * per-socket `TCP_CONGESTION` option.
 *
 * @module
 */

import type { CongestionControl } from "./congestion.ts";
import { Cubic } from "./cubic.ts";
import { type CongestionOptions, NewReno } from "./newreno.ts";

export type { CongestionOptions } from "./newreno.ts";

/** The algorithms this stack has, in `net.inet.tcp.congctl.available` order. */
export const CONGESTION_ALGORITHMS: readonly string[] = Object.freeze(["newreno", "cubic"]);

/**
 * `net.inet.tcp.congctl.available` as NetBSD prints it: the names, space separated.
 *
 * @example
 * ```ts
 * CONGESTION_AVAILABLE; // "newreno cubic"
 * ```
 */
export const CONGESTION_AVAILABLE: string = CONGESTION_ALGORITHMS.join(" ");

/** The algorithm a new connection gets unless told otherwise (`net.inet.tcp.congctl.selected`). */
export const DEFAULT_CONGESTION = "cubic";

/**
 * A fresh algorithm state for one connection, or null when `name` is not one
 * of `CONGESTION_ALGORITHMS` (the caller answers that with EINVAL, as NetBSD's
 * `tcp_congctl_select` does).
 *
 * @example
 * ```ts
 * const cc = createCongestion("cubic", { mss: 1460 });
 * cc?.cwnd; // 14600
 * createCongestion("vegas", { mss: 1460 }); // null
 * ```
 */
export function createCongestion(
  name: string,
  options: CongestionOptions,
): CongestionControl | null {
  switch (name) {
    case "newreno":
      return new NewReno(options);
    case "cubic":
      return new Cubic(options);
    default:
      return null;
  }
}
