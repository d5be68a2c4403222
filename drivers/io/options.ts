/**
 * Option parsing shared by the drivers: `key=value` items separated by commas
 * (what is left after the stack took `name=`, `unit=`, `lan=`), link addresses,
 * MTUs, ring sizes. A bad or unknown option fails the attach with EINVAL, as
 * io-pkt's drivers refuse options they do not know.
 *
 * @example
 * ```ts
 * import { parseDriverOptions, parseMac, parseMtu } from "./options.ts";
 * let mtu = 1500;
 * let mac: Uint8Array | null = null;
 * parseDriverOptions("tap", "mtu=9000,mac=02:00:00:00:00:01", {
 *   mtu: (v) => { mtu = parseMtu("tap", v); },
 *   mac: (v) => { mac = parseMac(v ?? ""); },
 * });
 * console.log(mtu, mac); // 9000 Uint8Array(6) [2, 0, 0, 0, 0, 1]
 * ```
 * @module
 */

import { ErrnoError } from "../../core/errno.ts";

/** Parses a link address in colon (or dash) form or as 12 bare hex digits; null if malformed. */
export function parseMac(text: string): Uint8Array | null {
  const hex = text.includes(":") || text.includes("-")
    ? (/^([0-9a-f]{1,2}[:-]){5}[0-9a-f]{1,2}$/i.test(text)
      ? text.split(/[:-]/).map((p) => p.padStart(2, "0")).join("")
      : "")
    : text;
  if (!/^[0-9a-f]{12}$/i.test(hex)) return null;
  return Uint8Array.from({ length: 6 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

/** A random unicast, locally administered link address. */
export function randomMac(): Uint8Array {
  const mac = crypto.getRandomValues(new Uint8Array(6));
  mac[0] = (mac[0] & 0xfe) | 0x02;
  return mac;
}

/** Handles one option's value (`undefined` for a bare word such as `capture`). */
export type OptionHandler = (value: string | undefined) => void;

/** The EINVAL an attach fails with for a bad option value. */
export function badOption(driver: string, key: string, value: string | undefined): ErrnoError {
  return new ErrnoError("EINVAL", `${driver}: bad ${key} "${value ?? ""}"`);
}

/** Calls the handler of each item in order; throws EINVAL for an unknown key. */
export function parseDriverOptions(
  driver: string,
  options: string,
  handlers: Record<string, OptionHandler>,
): void {
  for (const item of options.split(",")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    const key = eq === -1 ? item : item.slice(0, eq);
    const value = eq === -1 ? undefined : item.slice(eq + 1);
    const handler = Object.hasOwn(handlers, key) ? handlers[key] : undefined;
    if (!handler) throw new ErrnoError("EINVAL", `${driver}: unknown option "${key}"`);
    handler(value);
  }
}

/** A decimal integer in `[min, max]`, or EINVAL naming the option. */
export function parseIntOption(
  driver: string,
  key: string,
  value: string | undefined,
  min: number,
  max: number,
): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || n < min || n > max) {
    throw badOption(driver, key, value);
  }
  return n;
}

/** `mtu=`: 68..65535. */
export function parseMtu(driver: string, value: string | undefined): number {
  return parseIntOption(driver, "mtu", value, 68, 65535);
}

/** `mac=`: a link address, unicast. */
export function parseMacOption(driver: string, value: string | undefined): Uint8Array {
  const mac = parseMac(value ?? "");
  if (!mac || (mac[0] & 1) !== 0) throw badOption(driver, "mac", value);
  return mac;
}

/** `ring=`: receive ring slots, 2..65536 (rounded up to a power of two). */
export function parseRing(driver: string, value: string | undefined): number {
  return parseIntOption(driver, "ring", value, 2, 65536);
}

/** Receive ring slots when `ring=` is not given. */
export const DEFAULT_RING_SLOTS = 256;
