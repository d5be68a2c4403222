/**
 * Big-endian reads and writes at an offset, shared by the wire views. Plain
 * functions over `Uint8Array` (no DataView per packet).
 *
 * @example
 * ```ts
 * import { readU16, writeU16 } from "./bytes.ts";
 * const b = new Uint8Array(2);
 * writeU16(b, 0, 0x86dd);
 * console.log(readU16(b, 0).toString(16)); // 86dd
 * ```
 * @module
 */

/** The unsigned 16-bit value at `at`. */
export function readU16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

/** The unsigned 32-bit value at `at`. */
export function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** Writes a 16-bit value at `at`. */
export function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v;
}

/** Writes a 32-bit value at `at`. */
export function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

/** At or below this many bytes, {@linkcode copyBytes} copies in a loop rather than through a view. */
const COPY_LOOP_MAX = 256;

/**
 * Copies `src[from, from + length)` to `to[at..]`. Short ranges (headers,
 * small datagrams) are copied in a loop, so no view object is made per
 * packet; longer ones go through `set` on a view, where the copy itself costs
 * far more than the view.
 */
export function copyBytes(
  to: Uint8Array,
  at: number,
  src: Uint8Array,
  from: number,
  length: number,
): void {
  if (length <= COPY_LOOP_MAX) {
    for (let i = 0; i < length; i++) to[at + i] = src[from + i];
  } else {
    to.set(src.subarray(from, from + length), at);
  }
}
