/**
 * The Internet checksum (RFC 1071) and its pseudo-headers, in one place.
 *
 * Sums are kept unfolded as plain numbers while adding (a JS number holds far
 * more than any packet's 16-bit words), folded once at the end. Incremental
 * update follows RFC 1624.
 *
 * @example Check an IPv4 header
 * ```ts
 * import { checksum } from "./checksum.ts";
 * const hdr = new Uint8Array([0x45,0,0,0x54,0,0,0x40,0,0x40,1,0xb6,0xa5,192,0,2,1,192,0,2,2]);
 * console.log(checksum(hdr) === 0); // a valid header sums to zero
 * ```
 * @module
 */

/** Adds the 16-bit big-endian words of `bytes[start, end)` to `sum` (an odd tail is padded). */
export function sumWords(bytes: Uint8Array, start = 0, end = bytes.length, sum = 0): number {
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i === last) sum += bytes[i] << 8;
  return sum;
}

/** Folds a sum to 16 bits and complements it: the value to store in a checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The checksum of `bytes[start, end)`; 0 when verifying a range that includes a correct checksum. */
export function checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return finishChecksum(sumWords(bytes, start, end));
}

/** The IPv4 pseudo-header sum (RFC 793/768): addresses, protocol, upper-layer length. */
export function pseudoSum4(src: number, dst: number, proto: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + length;
}

/** The IPv6 pseudo-header sum (RFC 8200 §8.1). `src`/`dst` are 16-byte views. */
export function pseudoSum6(
  src: Uint8Array,
  dst: Uint8Array,
  proto: number,
  length: number,
): number {
  return sumWords(src, 0, 16) + sumWords(dst, 0, 16) + (length >>> 16) + (length & 0xffff) + proto;
}

/**
 * RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered data
 * changes from `oldWord` to `newWord`.
 */
export function updateChecksum(oldChecksum: number, oldWord: number, newWord: number): number {
  let sum = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + newWord;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
