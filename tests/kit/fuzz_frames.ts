/**
 * Structure-aware fuzzing, the common part: a seeded random source, a frame
 * builder that remembers where each field lies and what kind of value it
 * holds, a mutator that changes those fields to values that matter
 * (lengths off by one, option lengths past the end, other protocol numbers,
 * multicast, broadcast, loopback and our own addresses), and a fixer that
 * recomputes every checksum afterwards, so a mutated packet gets past the
 * checksum and reaches the code behind it. The frame generators are in
 * `fuzz_gen4.ts` and `fuzz_gen6.ts`.
 *
 * @example
 * ```ts ignore
 * const rng = new FuzzRng(1);
 * const f = new FrameBuilder();
 * // ... f.u8(..), f.u16(.., "len") ...
 * mutateFields(rng, f, addresses);
 * const frame = f.frame();
 * fixChecksums(frame);
 * ```
 * @module
 */

import { finishChecksum, pseudoSum4, pseudoSum6, sumWords } from "../../core/wire/checksum.ts";
import { prng } from "./bytes.ts";

/** A seeded random source (the kit's mulberry32 underneath). */
export class FuzzRng {
  readonly #next: (n: number) => number;
  constructor(seed: number) {
    this.#next = prng(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.#next(n);
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.#next(1_000_000) < p * 1_000_000;
  }
  /** One element of `a`. */
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}

/** What a field holds, which decides the values the mutator tries. */
export type FieldKind =
  | "len" // a length or offset
  | "optlen" // an option's length byte
  | "type" // a message or option type
  | "code"
  | "proto" // an IP protocol / next-header number
  | "frag" // IPv4 flags + fragment offset, or IPv6 offset + M
  | "ttl" // TTL / hop limit
  | "addr4"
  | "addr6"
  | "word"; // anything else

/** One mutable field of a built frame. */
export interface Field {
  at: number;
  size: 1 | 2 | 4 | 16;
  kind: FieldKind;
}

/** Addresses worth putting in address fields. */
export interface AddressPool {
  v4: readonly number[];
  v6: readonly Uint8Array[];
}

/** Builds a frame byte by byte, recording its fields. */
export class FrameBuilder {
  bytes = new Uint8Array(4096);
  len = 0;
  readonly fields: Field[] = [];

  /** Starts again, empty. */
  reset(): this {
    this.len = 0;
    this.fields.length = 0;
    return this;
  }

  #room(n: number): void {
    if (this.len + n <= this.bytes.length) return;
    const b = new Uint8Array(Math.max(this.bytes.length * 2, this.len + n));
    b.set(this.bytes.subarray(0, this.len));
    this.bytes = b;
  }

  #field(size: 1 | 2 | 4 | 16, kind?: FieldKind): void {
    if (kind) this.fields.push({ at: this.len, size, kind });
  }

  u8(v: number, kind?: FieldKind): this {
    this.#room(1);
    this.#field(1, kind);
    this.bytes[this.len++] = v & 0xff;
    return this;
  }

  u16(v: number, kind?: FieldKind): this {
    this.#room(2);
    this.#field(2, kind);
    this.bytes[this.len++] = (v >> 8) & 0xff;
    this.bytes[this.len++] = v & 0xff;
    return this;
  }

  u32(v: number, kind?: FieldKind): this {
    this.#room(4);
    this.#field(4, kind);
    for (let s = 24; s >= 0; s -= 8) this.bytes[this.len++] = (v >>> s) & 0xff;
    return this;
  }

  /** 16 bytes of an IPv6 address. */
  addr6(a: Uint8Array, kind: FieldKind | undefined = "addr6"): this {
    this.#room(16);
    this.#field(16, kind);
    this.bytes.set(a.subarray(0, 16), this.len);
    this.len += 16;
    return this;
  }

  /** Raw bytes, no field recorded. */
  raw(b: Uint8Array | readonly number[]): this {
    this.#room(b.length);
    this.bytes.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** `n` bytes of a pattern (not zeros: zero bytes read as Pad1 / EOL options). */
  fill(n: number, rng: FuzzRng): this {
    this.#room(n);
    for (let i = 0; i < n; i++) this.bytes[this.len++] = rng.int(256);
    return this;
  }

  put16(at: number, v: number): void {
    this.bytes[at] = (v >> 8) & 0xff;
    this.bytes[at + 1] = v & 0xff;
  }

  /** A copy of what was built. */
  frame(): Uint8Array {
    return this.bytes.slice(0, this.len);
  }
}

const PROTOS = [0, 1, 2, 4, 6, 17, 41, 43, 44, 50, 51, 58, 59, 60, 103, 135, 139, 253, 255];

/** A value worth trying in a field of this kind, given what it holds now. */
function mutantValue(rng: FuzzRng, kind: FieldKind, size: number, now: number): number {
  const max = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  switch (kind) {
    case "len":
    case "optlen":
      return rng.pick([
        0,
        1,
        2,
        3,
        now - 1,
        now + 1,
        now - 8,
        now + 8,
        now * 2,
        max,
        max - 1,
        rng.int(max + 1),
        rng.int(64),
      ]) & max;
    case "type":
    case "code":
      return rng.pick([now + 1, now - 1, 0, max, rng.int(256), rng.int(max + 1)]) & max;
    case "proto":
      return rng.pick([...PROTOS, rng.int(256)]);
    case "frag":
      return rng.pick([
        0,
        1,
        0x2000,
        0x4000,
        0x6000,
        0x8000,
        now ^ 0x2000,
        now ^ 1,
        now + 1,
        now + 8,
        max,
        0x1fff,
        0xfff8,
        0xfff9,
        rng.int(max + 1),
      ]) & max;
    case "ttl":
      return rng.pick([0, 1, 2, 64, 254, 255, rng.int(256)]);
    default:
      return rng.chance(0.5) ? rng.int(max + 1) : (now ^ (1 << rng.int(size * 8))) >>> 0;
  }
}

/**
 * Changes `count` (1 to 3 when absent) recorded fields of `f` to values worth
 * trying; addresses come from `pool`.
 */
export function mutateFields(rng: FuzzRng, f: FrameBuilder, pool: AddressPool, count?: number) {
  const n = count ?? 1 + rng.int(3);
  const b = f.bytes;
  for (let i = 0; i < n && f.fields.length > 0; i++) {
    const { at, size, kind } = rng.pick(f.fields);
    if (at + size > f.len) continue;
    if (kind === "addr4" && size === 4) {
      const a = rng.pick(pool.v4);
      for (let k = 0; k < 4; k++) b[at + k] = (a >>> (24 - 8 * k)) & 0xff;
      continue;
    }
    if (kind === "addr6" && size === 16) {
      b.set(rng.pick(pool.v6), at);
      continue;
    }
    if (size === 16) {
      b[at + rng.int(16)] ^= 1 << rng.int(8);
      continue;
    }
    let now = 0;
    for (let k = 0; k < size; k++) now = now * 256 + b[at + k];
    const v = mutantValue(rng, kind, size, now);
    for (let k = 0; k < size; k++) b[at + k] = Math.floor(v / 2 ** (8 * (size - 1 - k))) & 0xff;
  }
}

/** Rarely, damage without regard to structure: a flipped bit, a cut, extra bytes. */
export function mutateBytes(rng: FuzzRng, f: FrameBuilder): void {
  const r = rng.int(3);
  if (r === 0 && f.len > 14) f.bytes[14 + rng.int(f.len - 14)] ^= 1 << rng.int(8);
  else if (r === 1 && f.len > 15) f.len = 14 + rng.int(f.len - 14);
  else f.fill(1 + rng.int(40), rng);
}

function store16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >> 8;
  b[at + 1] = v & 0xff;
}

/** The ICMP, UDP or ICMPv6 checksum of `b[at, end)` in place; `pseudo` is the pseudo-header sum. */
function fillL4(b: Uint8Array, proto: number, at: number, end: number, pseudo: number): void {
  if (proto === 17) {
    if (end - at < 8) return;
    store16(b, at + 6, 0);
    const c = finishChecksum(sumWords(b, at, end, pseudo));
    store16(b, at + 6, c === 0 ? 0xffff : c);
  } else if (end - at >= 4) {
    store16(b, at + 2, 0);
    store16(b, at + 2, finishChecksum(sumWords(b, at, end, pseudo)));
  }
}

const V6_EXT = new Set([0, 43, 44, 51, 60]);

/**
 * Recomputes the checksums of an Ethernet frame as a receiver would read the
 * headers: the IPv4 header's (over the length its IHL says), and the ICMP,
 * UDP (with pseudo-header) or ICMPv6 checksum of an unfragmented datagram,
 * found through the extension headers as they now are. A fragment keeps the
 * checksum its whole datagram was given before it was cut.
 */
export function fixChecksums(b: Uint8Array): void {
  if (b.length < 14) return;
  const type = (b[12] << 8) | b[13];
  if (type === 0x0800 && b.length >= 34 && b[14] >> 4 === 4) {
    const hlen = (b[14] & 0x0f) * 4;
    if (hlen < 20 || 14 + hlen > b.length) return;
    store16(b, 24, 0);
    store16(b, 24, finishChecksum(sumWords(b, 14, 14 + hlen)));
    if (((b[20] << 8) | b[21]) & 0x3fff) return; // a fragment
    const end = Math.min(14 + ((b[16] << 8) | b[17]), b.length);
    const at = 14 + hlen, proto = b[23];
    if (proto === 1) fillL4(b, 1, at, end, 0);
    else if (proto === 17 && end - at >= 0) {
      const src = ((b[26] << 24) | (b[27] << 16) | (b[28] << 8) | b[29]) >>> 0;
      const dst = ((b[30] << 24) | (b[31] << 16) | (b[32] << 8) | b[33]) >>> 0;
      fillL4(b, 17, at, end, pseudoSum4(src, dst, 17, end - at));
    }
    return;
  }
  if (type !== 0x86dd || b.length < 54 || b[14] >> 4 !== 6) return;
  const end = Math.min(54 + ((b[18] << 8) | b[19]), b.length);
  let next = b[20], at = 54;
  for (let n = 0; V6_EXT.has(next) && n < 64; n++) {
    if (at + 2 > end) return;
    if (next === 44) {
      if (at + 8 > end || ((b[at + 2] << 8) | b[at + 3]) & 0xfff9) return; // a real fragment
    }
    const hlen = next === 44 ? 8 : next === 51 ? (b[at + 1] + 2) * 4 : (b[at + 1] + 1) * 8;
    next = b[at];
    at += hlen;
  }
  if (at > end || (next !== 58 && next !== 17)) return;
  fillL4(b, next, at, end, pseudoSum6(b.subarray(22, 38), b.subarray(38, 54), next, end - at));
}
