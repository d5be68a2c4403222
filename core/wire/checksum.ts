/**
 * The Internet checksum (RFC 1071) and its pseudo-headers, in one place.
 *
 * Sums are kept unfolded as plain numbers while adding (a JS number holds far
 * more than any packet's 16-bit words), folded once at the end. Incremental
 * update follows RFC 1624.
 *
 * Long ranges are read four bytes at a time through a big-endian `DataView`
 * (about twice the speed of two bytes per word); each 32-bit word adds its two
 * 16-bit halves, so the unfolded sum is exactly the sum of 16-bit words. One
 * `DataView` is kept per underlying buffer (the last one used, then a
 * `WeakMap`), so summing a pooled buffer or a ring slot allocates nothing.
 *
 * @example Check an IPv4 header
 * ```ts
 * import { checksum } from "./checksum.ts";
 * const hdr = new Uint8Array([0x45,0,0,0x54,0,0,0x40,0,0x40,1,0xb6,0xa5,192,0,2,1,192,0,2,2]);
 * console.log(checksum(hdr) === 0); // a valid header sums to zero
 * ```
 * @module
 */

/**
 * Ranges up to this many bytes are summed two bytes at a time: below it the
 * look-up of a buffer's `DataView` costs more than it saves, and short arrays
 * (V8 keeps those of 64 bytes or less inside the heap) never have their
 * `buffer` materialised.
 */
const WORD_SUM_MIN = 64;

/** `DataView`s over whole buffers, by buffer: made once per buffer, not per call. */
const viewByBuffer = new WeakMap<ArrayBufferLike, DataView>();
/**
 * The last few buffers summed and their views: a stream alternates between
 * a handful of packet buffers (the segment sent, the ACK received), and a
 * WeakMap probe per call costs more than the words it saves.
 */
const RECENT = 4;
const recentBuffers: (ArrayBufferLike | null)[] = [null, null, null, null];
const recentViews: (DataView | null)[] = [null, null, null, null];
let recentNext = 0;

function viewOf(buffer: ArrayBufferLike): DataView {
  for (let i = 0; i < RECENT; i++) if (recentBuffers[i] === buffer) return recentViews[i]!;
  let view = viewByBuffer.get(buffer);
  if (view === undefined) {
    view = new DataView(buffer);
    viewByBuffer.set(buffer, view);
  }
  recentBuffers[recentNext] = buffer;
  recentViews[recentNext] = view;
  recentNext = (recentNext + 1) & (RECENT - 1);
  return view;
}

/** Adds the 16-bit big-endian words of `bytes[start, end)` to `sum` (an odd tail is padded). */
export function sumWords(bytes: Uint8Array, start = 0, end = bytes.length, sum = 0): number {
  // Bytes past the end count as zero, as indexing past a typed array reads them.
  if (end > bytes.length) end = bytes.length;
  if (end - start <= WORD_SUM_MIN || start < 0) return sumPairs(bytes, start, end, sum);
  const view = viewOf(bytes.buffer);
  let i = bytes.byteOffset + start;
  const stop = bytes.byteOffset + end;
  const last4 = stop - 3;
  // Each addend is at most 0x1fffe: the running sum stays a small integer for
  // any realistic packet and is exact as a double far beyond that.
  for (; i < last4; i += 4) {
    const word = view.getUint32(i);
    sum += (word >>> 16) + (word & 0xffff);
  }
  if (i < stop - 1) {
    sum += view.getUint16(i);
    i += 2;
  }
  if (i < stop) sum += view.getUint8(i) << 8;
  return sum;
}

/** Two bytes per word: short ranges, and the reference the word loop must match. */
function sumPairs(bytes: Uint8Array, start: number, end: number, sum: number): number {
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
