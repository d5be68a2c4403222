/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash, fast on
 * short inputs, for the places where an attacker must not predict or steer a
 * value: initial sequence numbers (RFC 6528), ephemeral ports (RFC 6056), SYN
 * cookies and the SYN cache's buckets. Linux keys the same hash for the same
 * jobs.
 *
 * JavaScript has no 64-bit integer short of BigInt (which allocates), so each
 * 64-bit lane is a pair of 32-bit halves in local variables, and
 * a result is written into a caller's `Uint32Array` (`[low, high]`): hashing
 * allocates nothing (the byte form grows one scratch array for a longer message
 * than any before). Additions carry from the low half by hand; nothing here
 * multiplies.
 *
 * Input is either bytes (the reference form, checked against the paper's test
 * vectors) or 32-bit words, each taken as its four bytes in little-endian
 * order, so hashing `words` equals hashing those bytes. The word form is what
 * the stack uses: an address and two ports are a handful of words.
 *
 * @example
 * ```ts
 * import { sipHash24Bytes, sipKey } from "./siphash.ts";
 * const key = sipKey(Uint8Array.from({ length: 16 }, (_, i) => i));
 * const out = new Uint32Array(2);
 * sipHash24Bytes(key, Uint8Array.from({ length: 15 }, (_, i) => i), out);
 * console.log(out[1].toString(16), out[0].toString(16)); // a129ca61 49be45e5
 * ```
 * @module
 */

/**
 * A key for {@linkcode sipHash24}: the 16 key bytes as four words, k0 low,
 * k0 high, k1 low, k1 high (k0 and k1 read little-endian, as the reference).
 */
export function sipKey(bytes: Uint8Array): Uint32Array {
  if (bytes.length !== 16) throw new RangeError(`a SipHash key is 16 bytes, not ${bytes.length}`);
  const k = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    k[i] = (bytes[4 * i] | (bytes[4 * i + 1] << 8) | (bytes[4 * i + 2] << 16) |
      (bytes[4 * i + 3] << 24)) >>> 0;
  }
  return k;
}

/**
 * SipHash-2-4 of a message held as little-endian words: `byteLength` bytes,
 * `words[0]` holding bytes 0-3 and so on (bytes past the length are ignored).
 * Every lane lives in local variables, which V8 keeps in registers: about
 * twice as fast as state kept in module variables.
 */
function sipCore(
  key: Uint32Array,
  words: ArrayLike<number>,
  byteLength: number,
  out: Uint32Array,
): Uint32Array {
  const k0l = key[0] | 0, k0h = key[1] | 0, k1l = key[2] | 0, k1h = key[3] | 0;
  // v0 = k0 ^ "somepseu", v1 = k1 ^ "dorandom", v2 = k0 ^ "lygenera", v3 = k1 ^ "tedbytes"
  let v0h = k0h ^ 0x736f6d65, v0l = k0l ^ 0x70736575;
  let v1h = k1h ^ 0x646f7261, v1l = k1l ^ 0x6e646f6d;
  let v2h = k0h ^ 0x6c796765, v2l = k0l ^ 0x6e657261;
  let v3h = k1h ^ 0x74656462, v3l = k1l ^ 0x79746573;
  const blocks = byteLength >>> 3;
  // Blocks 0 ... blocks - 1 are whole; block `blocks` carries the tail and the
  // length; one more pass is the finalisation (v2 ^= 0xff, four rounds).
  for (let b = 0;; b++) {
    let mh = 0, ml = 0, rounds = 2;
    if (b < blocks) {
      ml = words[2 * b] | 0;
      mh = words[2 * b + 1] | 0;
    } else if (b === blocks) {
      const tail = byteLength & 7;
      if (tail > 0) ml = words[2 * b] & (tail >= 4 ? -1 : (1 << (8 * tail)) - 1);
      if (tail > 4) mh = words[2 * b + 1] & ((1 << (8 * (tail - 4))) - 1);
      mh |= (byteLength & 0xff) << 24;
    } else {
      v2l ^= 0xff;
      rounds = 4;
    }
    v3h ^= mh;
    v3l ^= ml;
    for (let r = 0; r < rounds; r++) {
      // One SipRound on 64-bit lanes as (high, low) halves: add with carry, rotate, xor.
      let l = (v0l + v1l) | 0; // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
      v0h = (v0h + v1h + ((l >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
      v0l = l;
      let t = (v1h << 13) | (v1l >>> 19);
      v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
      v1h = t ^ v0h;
      t = v0h, v0h = v0l, v0l = t;
      l = (v2l + v3l) | 0; // v2 += v3; v3 <<<= 16; v3 ^= v2
      v2h = (v2h + v3h + ((l >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
      v2l = l;
      t = (v3h << 16) | (v3l >>> 16);
      v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
      v3h = t ^ v2h;
      l = (v0l + v3l) | 0; // v0 += v3; v3 <<<= 21; v3 ^= v0
      v0h = (v0h + v3h + ((l >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
      v0l = l;
      t = (v3h << 21) | (v3l >>> 11);
      v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
      v3h = t ^ v0h;
      l = (v2l + v1l) | 0; // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
      v2h = (v2h + v1h + ((l >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
      v2l = l;
      t = (v1h << 17) | (v1l >>> 15);
      v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
      v1h = t ^ v2h;
      t = v2h, v2h = v2l, v2l = t;
    }
    if (rounds === 4) break;
    v0h ^= mh;
    v0l ^= ml;
  }
  out[0] = v0l ^ v1l ^ v2l ^ v3l;
  out[1] = v0h ^ v1h ^ v2h ^ v3h;
  return out;
}

/**
 * SipHash-2-4 of the first `count` words of `words`, each word taken as its
 * four little-endian bytes (so the message is `4 * count` bytes long). Writes
 * the 64-bit result into `out` as `[low, high]` and returns `out`.
 */
export function sipHash24(
  key: Uint32Array,
  words: ArrayLike<number>,
  count: number,
  out: Uint32Array,
): Uint32Array {
  return sipCore(key, words, 4 * count, out);
}

/** The low 32 bits of {@linkcode sipHash24}, as an unsigned number. */
export function sipHash24Low32(key: Uint32Array, words: ArrayLike<number>, count: number): number {
  return sipCore(key, words, 4 * count, scratch)[0];
}
const scratch = new Uint32Array(2);

/** Bytes gathered into words for {@linkcode sipHash24Bytes}; grows when a longer message comes. */
let byteWords = new Uint32Array(16);

/**
 * SipHash-2-4 of `bytes` (the reference definition, any length). Writes the
 * 64-bit result into `out` as `[low, high]` and returns `out`.
 */
export function sipHash24Bytes(key: Uint32Array, bytes: Uint8Array, out: Uint32Array): Uint32Array {
  const n = bytes.length;
  const need = ((n + 7) >>> 3) * 2 + 2;
  if (byteWords.length < need) byteWords = new Uint32Array(need * 2);
  const w = byteWords;
  for (let i = 0; i < need; i++) w[i] = 0;
  for (let i = 0; i < n; i++) w[i >>> 2] |= bytes[i] << (8 * (i & 3));
  return sipCore(key, w, n, out);
}
