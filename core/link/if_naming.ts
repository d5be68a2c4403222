/**
 * Interface naming from io-pkt's generic driver options (reference §3), sans I/O.
 *
 * The stack takes `name=`, `unit=` and its synonym `lan=` out of a driver's
 * option string before the driver sees it (io-pkt's `dev_attach()`), then names
 * the interface `<name><unit>`: the lowest free unit from 0 unless a unit was
 * given, and an explicit unit already in use fails with EALREADY.
 *
 * @example `-d tap name=en,host=tap7` while `en0` exists
 * ```ts
 * import { allocateIfName, splitGenericDriverOptions } from "./if_naming.ts";
 * const opts = splitGenericDriverOptions("name=en,host=tap7");
 * console.log(opts); // { name: "en", rest: "host=tap7" }
 * const r = allocateIfName(opts.name ?? "tap", opts.unit, (n) => n === "en0");
 * console.log(r); // { ok: true, name: "en1" }
 * ```
 * @module
 */

import { parseCInteger } from "../config.ts";

/** IFNAMSIZ: interface names hold at most 15 characters plus the NUL. */
export const IFNAMSIZ = 16;

/** What {@linkcode splitGenericDriverOptions} found. */
export interface GenericDriverOptions {
  /** `name=`: the interface name prefix instead of the driver's default. */
  name?: string;
  /** `unit=` / `lan=`: the unit number; absent (or negative, which means absent) = lowest free. */
  unit?: number;
  /** The driver's own options, in their original order, comma-separated. */
  rest: string;
  /** Set when a generic option had a bad value (`unit=x`); the attach should fail EINVAL. */
  error?: string;
}

/**
 * Takes the generic options (`name=`, `unit=`, `lan=`) out of a driver option
 * string. The last of each wins; `unit`/`lan`/`name` without a value are consumed
 * and ignored, as io-pkt does.
 *
 * @example
 * ```ts
 * import { splitGenericDriverOptions } from "./if_naming.ts";
 * console.log(splitGenericDriverOptions("pci=0,lan=1,mac=0011223344"));
 * // { unit: 1, rest: "pci=0,mac=0011223344" }
 * ```
 */
export function splitGenericDriverOptions(options: string): GenericDriverOptions {
  const rest: string[] = [];
  let name: string | undefined;
  let unit: number | undefined;
  let error: string | undefined;
  for (const word of options.split(",")) {
    if (word === "") continue;
    const eq = word.indexOf("=");
    const key = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? undefined : word.slice(eq + 1);
    if (key === "name") {
      if (value) name = value;
    } else if (key === "unit" || key === "lan") {
      if (value === undefined) continue;
      const n = parseCInteger(value);
      if (n === undefined) error = `${key}: invalid unit "${value}"`;
      else unit = n < 0 ? undefined : n; // negative = ignored: lowest free unit
    } else {
      rest.push(word);
    }
  }
  return {
    ...(name !== undefined && { name }),
    ...(unit !== undefined && { unit }),
    rest: rest.join(","),
    ...(error !== undefined && { error }),
  };
}

/** The result of {@linkcode allocateIfName}. */
export type IfNameResult =
  | { ok: true; name: string }
  | { ok: false; errno: "EALREADY" | "ENAMETOOLONG" | "EINVAL" };

/** Letters, digits and underscores, not ending in a digit (else `en1` + unit 0 is ambiguous). */
const PREFIX_RE = /^[A-Za-z0-9_]*[A-Za-z_]$/;

/**
 * Picks `<prefix><unit>` for a new interface.
 *
 * @param prefix the name prefix (`name=` or the driver's default, e.g. `"en"`)
 * @param unit an explicit unit, or `undefined` (or negative) for the lowest free one from 0
 * @param taken whether an interface of that full name already exists
 * @returns the name, or EALREADY (explicit unit in use), ENAMETOOLONG (> 15
 *   characters) or EINVAL (bad prefix or unit)
 *
 * @example
 * ```ts
 * import { allocateIfName } from "./if_naming.ts";
 * const taken = (n: string) => n === "wm0";
 * console.log(allocateIfName("wm", undefined, taken)); // { ok: true, name: "wm1" }
 * console.log(allocateIfName("wm", 0, taken)); // { ok: false, errno: "EALREADY" }
 * ```
 */
export function allocateIfName(
  prefix: string,
  unit: number | undefined,
  taken: (name: string) => boolean,
): IfNameResult {
  if (!PREFIX_RE.test(prefix)) return { ok: false, errno: "EINVAL" };
  if (unit !== undefined && unit >= 0) {
    if (!Number.isSafeInteger(unit)) return { ok: false, errno: "EINVAL" };
    const name = `${prefix}${unit}`;
    if (name.length >= IFNAMSIZ) return { ok: false, errno: "ENAMETOOLONG" };
    return taken(name) ? { ok: false, errno: "EALREADY" } : { ok: true, name };
  }
  for (let u = 0;; u++) {
    const name = `${prefix}${u}`;
    if (name.length >= IFNAMSIZ) return { ok: false, errno: "ENAMETOOLONG" };
    if (!taken(name)) return { ok: true, name };
  }
}
