/**
 * Route flags (RTF_*) with NetBSD's bit values and the letters `netstat -r` prints.
 *
 * @example
 * ```ts
 * import { routeFlagLetters, RTF } from "./route_flags.ts";
 * console.log(routeFlagLetters(RTF.UP | RTF.GATEWAY | RTF.STATIC)); // UGS
 * ```
 * @module
 */

/** RTF_* bits. */
export const RTF = {
  UP: 0x1,
  GATEWAY: 0x2,
  HOST: 0x4,
  REJECT: 0x8,
  DYNAMIC: 0x10,
  MODIFIED: 0x20,
  DONE: 0x40,
  MASK: 0x80,
  CLONING: 0x100,
  XRESOLVE: 0x200,
  LLINFO: 0x400,
  STATIC: 0x800,
  BLACKHOLE: 0x1000,
  CLONED: 0x2000,
  PROTO2: 0x4000,
  PROTO1: 0x8000,
} as const;

/** NetBSD 4 netstat's letter table (show.c), in its printing order. */
const LETTERS: readonly (readonly [number, string])[] = [
  [RTF.UP, "U"],
  [RTF.GATEWAY, "G"],
  [RTF.HOST, "H"],
  [RTF.REJECT, "R"],
  [RTF.BLACKHOLE, "B"],
  [RTF.DYNAMIC, "D"],
  [RTF.MODIFIED, "M"],
  [RTF.DONE, "d"],
  [RTF.MASK, "m"],
  [RTF.CLONING, "C"],
  [RTF.XRESOLVE, "X"],
  [RTF.LLINFO, "L"],
  [RTF.STATIC, "S"],
  [RTF.PROTO1, "1"],
  [RTF.PROTO2, "2"],
  [RTF.CLONED, "c"],
];

/** The flag letters of a route, as the `Flags` column shows them. */
export function routeFlagLetters(flags: number): string {
  let s = "";
  for (const [bit, letter] of LETTERS) if (flags & bit) s += letter;
  return s;
}
