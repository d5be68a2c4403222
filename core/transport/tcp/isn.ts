/**
 * Numbers an off-path attacker must not guess: initial sequence numbers
 * (RFC 6528) and ephemeral ports (RFC 6056, Algorithm 3), both a clock or a
 * counter plus a keyed hash of the connection's addresses.
 *
 * RFC 6528: `ISN = M + F(localip, localport, remoteip, remoteport, secretkey)`,
 * where M is a clock ticking every 4 microseconds (2^32 ticks wrap in about
 * 4.8 hours) and F is SipHash-2-4 of the 4-tuple. Connections to different
 * peers get unrelated numbers, while successive incarnations of one 4-tuple
 * still get increasing ones, which is what TIME_WAIT recycling relies on.
 *
 * RFC 6056 Algorithm 3: a port search starts at `min + (offset + counter) %
 * range`, where the offset hashes the local and remote address and the
 * remote port: for one destination the ports a host picks follow each other
 * (few collisions, quick reuse), while a different destination sees an
 * unrelated sequence.
 *
 * The secret comes from the caller (random bytes from the stack; fixed bytes
 * in tests); the clock comes in as `now` (milliseconds), as everywhere in the
 * core. Nothing here allocates per call.
 *
 * @example
 * ```ts
 * import { IpAddr } from "../../net/inet_addr.ts";
 * import { IsnSource, PortCounter, selectEphemeralPort } from "./isn.ts";
 * const src = new IsnSource(new Uint8Array(16).fill(7));
 * const local = IpAddr.v4(0xc0000201), remote = IpAddr.v4(0xc6336407);
 * const iss = src.isn(local, 80, remote, 40000, 1234.5); // a uint32
 * const offset = src.ephemeralPortOffset(local, remote, 80);
 * const port = selectEphemeralPort(offset, 49152, 65535, new PortCounter(), () => true);
 * console.log(iss >>> 0 === iss, port >= 49152); // true true
 * ```
 * @module
 */

import type { IpAddr } from "../../net/inet_addr.ts";
import { sipHash24, sipHash24Low32, sipKey } from "../../lib/siphash.ts";

/** Ticks of the RFC 6528 clock M per millisecond (one tick every 4 µs). */
export const ISN_TICKS_PER_MS = 250;

/** Words the longest tuple takes: two IPv6 addresses and the ports. */
export const TUPLE_WORDS_MAX = 9;

/**
 * Writes a connection's 4-tuple into `words` as 32-bit words, for hashing:
 * IPv4 `[local, remote, localPort << 16 | remotePort]` (3 words), IPv6 the
 * two 16-byte addresses then the ports (9 words). Returns the word count
 * (from which the family can be told apart). `words` holds at least
 * {@linkcode TUPLE_WORDS_MAX}.
 */
export function packTuple(
  words: Uint32Array,
  local: IpAddr,
  localPort: number,
  remote: IpAddr,
  remotePort: number,
): number {
  const ports = (((localPort & 0xffff) << 16) | (remotePort & 0xffff)) >>> 0;
  if (local.family === 4) {
    words[0] = local.v4;
    words[1] = remote.v4;
    words[2] = ports;
    return 3;
  }
  packAddr6(words, 0, local.bytes);
  packAddr6(words, 4, remote.bytes);
  words[8] = ports;
  return 9;
}

/** Writes 16 address bytes as four big-endian words at `at`. */
export function packAddr6(words: Uint32Array, at: number, b: Uint8Array): void {
  for (let i = 0; i < 4; i++) {
    words[at + i] = (b[4 * i] << 24) | (b[4 * i + 1] << 16) | (b[4 * i + 2] << 8) | b[4 * i + 3];
  }
}

/**
 * Derives an independent SipHash key for one purpose from a 16-byte secret,
 * so one random secret can key several uses without one hash leaking
 * another's values.
 */
export function deriveKey(secret: Uint8Array, purpose: number): Uint32Array {
  const master = sipKey(secret);
  const out = new Uint32Array(2);
  const key = new Uint32Array(4);
  for (let half = 0; half < 2; half++) {
    sipHash24(master, [0x6b657973, purpose, half], 3, out); // "keys", purpose, which half
    key[2 * half] = out[0];
    key[2 * half + 1] = out[1];
  }
  return key;
}

/** Key purposes for {@linkcode deriveKey}. */
export const KEY_PURPOSE = { isn: 1, ephemeralPort: 2, synCookie: 3, synCache: 4 } as const;

/**
 * The secret-keyed numbers of a stack: RFC 6528 initial sequence numbers and
 * RFC 6056 port offsets. One per stack, keyed once.
 */
export class IsnSource {
  readonly #isnKey: Uint32Array;
  readonly #portKey: Uint32Array;
  readonly #words = new Uint32Array(TUPLE_WORDS_MAX);

  /** @param secret 16 random bytes (tests pass fixed ones) */
  constructor(secret: Uint8Array) {
    this.#isnKey = deriveKey(secret, KEY_PURPOSE.isn);
    this.#portKey = deriveKey(secret, KEY_PURPOSE.ephemeralPort);
  }

  /**
   * RFC 6528's ISN for a connection at time `now` (ms): the 4 µs clock plus
   * the keyed hash of the 4-tuple, modulo 2^32.
   */
  isn(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number, now: number): number {
    const n = packTuple(this.#words, local, localPort, remote, remotePort);
    return (isnClock(now) + sipHash24Low32(this.#isnKey, this.#words, n)) >>> 0;
  }

  /**
   * RFC 6056 Algorithm 3's `F(local_IP, remote_IP, remote_port, secret)`: the
   * offset at which {@linkcode selectEphemeralPort} starts for this
   * destination (a uint32).
   */
  ephemeralPortOffset(local: IpAddr, remote: IpAddr, remotePort: number): number {
    // The local port is what is being chosen: hash the tuple with it as 0.
    const n = packTuple(this.#words, local, 0, remote, remotePort);
    return sipHash24Low32(this.#portKey, this.#words, n);
  }
}

/** RFC 6528's M: `now` (ms) in 4 µs ticks, modulo 2^32. */
export function isnClock(now: number): number {
  return Math.floor(now * ISN_TICKS_PER_MS) % 0x1_0000_0000 >>> 0;
}

/**
 * RFC 6056's `next_ephemeral`: one per port table (per protocol), advanced by
 * every probe so consecutive connections to one destination take
 * consecutive ports.
 */
export class PortCounter {
  /** Probes made so far (wraps at 2^32). */
  next = 0;
}

/**
 * RFC 6056 Algorithm 3's search: tries `min + (offset + counter) % range`,
 * advancing the counter by one each probe, until `isFree(port)` says a port
 * is usable; gives up after every port of `[min, max]` was tried once.
 * Returns the port, or -1 when none is free (the caller's EAGAIN, as BSD's
 * `in_pcbsetport`).
 */
export function selectEphemeralPort(
  offset: number,
  min: number,
  max: number,
  counter: PortCounter,
  isFree: (port: number) => boolean,
): number {
  const range = max - min + 1;
  if (range <= 0) return -1;
  const base = (offset >>> 0) % range;
  for (let tried = 0; tried < range; tried++) {
    const port = min + (base + (counter.next % range)) % range;
    counter.next = (counter.next + 1) >>> 0;
    if (isFree(port)) return port;
  }
  return -1;
}
