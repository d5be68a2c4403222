/**
 * Interface flags (IFF_*) with QNX's bit values and the names ifconfig prints.
 *
 * @example Print flags as ifconfig does
 * ```ts
 * import { formatFlags, IFF } from "./if_flags.ts";
 * console.log(formatFlags(IFF.UP | IFF.LOOPBACK | IFF.RUNNING | IFF.MULTICAST));
 * // 8049<UP,LOOPBACK,RUNNING,MULTICAST>
 * ```
 * @module
 */

/** IFF_* bits. */
export const IFF = {
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  OACTIVE: 0x400,
  SIMPLEX: 0x800,
  LINK0: 0x1000,
  LINK1: 0x2000,
  LINK2: 0x4000,
  MULTICAST: 0x8000,
  IP6FORWARDING: 0x20000000,
  ACCEPTRTADV: 0x40000000,
  SHIM: 0x80000000,
} as const;

/** Flags a client may change with SIOCSIFFLAGS; the rest belong to the stack and driver. */
export const IFF_CANTCHANGE = IFF.BROADCAST | IFF.POINTOPOINT | IFF.RUNNING | IFF.OACTIVE |
  IFF.SIMPLEX | IFF.MULTICAST | IFF.ALLMULTI | IFF.LOOPBACK;

const FLAG_ORDER = Object.entries(IFF) as [string, number][];

/** `hex<NAME,...>` as ifconfig prints it; `0` alone when no flag is set. */
export function formatFlags(flags: number): string {
  const hex = (flags >>> 0).toString(16);
  if (flags === 0) return "0";
  const names = FLAG_ORDER.filter(([, bit]) => (flags & bit) !== 0).map(([n]) => n);
  return `${hex}<${names.join(",")}>`;
}

/** Interface capability bits (IFCAP_*), as `capabilities=` prints them. */
export const IFCAP = {
  IP4CSUM: 0x1,
  TCP4CSUM: 0x2,
  UDP4CSUM: 0x4,
  TCP6CSUM: 0x8,
  UDP6CSUM: 0x10,
  TSO4: 0x20,
  TSO6: 0x40,
} as const;

/** `hex<NAME,...>` for capability bits; `0` when none. */
export function formatCaps(caps: number): string {
  if (caps === 0) return "0";
  const names = Object.entries(IFCAP).filter(([, bit]) => (caps & bit) !== 0).map(([n]) => n);
  return `${caps.toString(16)}<${names.join(",")}>`;
}
