/**
 * SYN cookies (RFC 4987 §3.6): when the SYN cache is full under a flood, a
 * listener answers a SYN without keeping any state, folding what it must
 * remember into the initial sequence number of its SYN-ACK. A real client's
 * ACK returns that number plus one; a recomputed keyed hash tells a genuine
 * cookie from a forged or stale one.
 *
 * What the 32-bit ISN carries (low bits first):
 *
 * | bits  | field                                                         |
 * |-------|---------------------------------------------------------------|
 * | 0-2   | peer MSS, as an index into {@linkcode SYN_COOKIE_MSS}         |
 * | 3-5   | peer window scale: 0 none, else an index + 1 into {@linkcode SYN_COOKIE_WSCALE} |
 * | 6     | SACK permitted                                                |
 * | 7     | timestamps in use                                             |
 * | 8     | parity of the time slot the cookie was made in                |
 * | 9-31  | 23 bits of SipHash-2-4 over the 4-tuple, the client's ISN, the slot number and bits 0-7 |
 *
 * So, as in FreeBSD since 2013, the options survive even without timestamps
 * (Linux keeps window scale and SACK in the timestamp value instead, and loses
 * them when the peer does not do timestamps). Time runs in slots of
 * `slotMs` (64 s unless told otherwise); a cookie is accepted in its own slot
 * and the next, so it lives between one and two slots. The parity bit says
 * which of the two to hash with; a cookie from an older slot fails the hash.
 * A guessed cookie passes with probability 2^-23 (about one in 8.4 million).
 *
 * Values are rounded down to what the tables hold (a smaller MSS or window
 * scale is always safe), except an MSS below the smallest entry, which is
 * raised to it, as Linux and FreeBSD do.
 *
 * Nothing is allocated per SYN or per ACK: {@linkcode SynCookies.decode}
 * fills one reusable result object.
 *
 * @example
 * ```ts
 * import { IpAddr } from "../../net/inet_addr.ts";
 * import { SynCookies } from "./syn_cookie.ts";
 * const cookies = new SynCookies(new Uint8Array(16).fill(9));
 * const local = IpAddr.v4(0xc0000201), remote = IpAddr.v4(0xc6336407);
 * const syn = { mss: 1460, wscale: 7, sackPermitted: true, timestamp: true };
 * const iss = cookies.encode(local, 80, remote, 40000, 12345, syn, 1000);
 * // ... the ACK arrives: seq = 12346, ack = iss + 1
 * const got = cookies.decode(iss, 12345, local, 80, remote, 40000, 2000);
 * console.log(got?.mss, got?.wscale, got?.sackPermitted); // 1460 7 true
 * ```
 * @module
 */

import type { IpAddr } from "../../net/inet_addr.ts";
import { sipHash24Low32 } from "../../lib/siphash.ts";
import { deriveKey, KEY_PURPOSE, packTuple, TUPLE_WORDS_MAX } from "./isn.ts";

/**
 * The MSS values a cookie can carry (ascending): 216 for tiny paths, 536 the
 * IPv4 default, 1220 the IPv6 minimum-MTU value, and the common Ethernet,
 * PPPoE and tunnel values up to 1460.
 */
export const SYN_COOKIE_MSS: readonly number[] = [216, 536, 1220, 1360, 1400, 1440, 1452, 1460];

/**
 * The peer window scales a cookie can carry (ascending): 3 is what a
 * NetBSD-style stack picks for a 256 KiB buffer limit, 6-9 what BSD, macOS,
 * Linux and Windows send, 14 the maximum.
 */
export const SYN_COOKIE_WSCALE: readonly number[] = [0, 3, 6, 7, 8, 9, 14];

/** How long a time slot is unless told otherwise (ms); a cookie lives one to two slots. */
export const SYN_COOKIE_SLOT_MS = 64_000;

/** Defaults RFC 9293 gives a peer that sent no MSS option. */
const DEFAULT_MSS_V4 = 536;
const DEFAULT_MSS_V6 = 1220;

/** MSS index bits 0-2, window scale 3-5, SACK 6, timestamps 7, slot parity 8. */
const WSCALE_SHIFT = 3;
const SACK_BIT = 1 << 6;
const TS_BIT = 1 << 7;
const PARITY_BIT = 1 << 8;
/** The bits the hash covers: everything below the parity bit. */
const OPTION_MASK = 0xff;
/** The hash occupies bits 9-31. */
const MAC_MASK = 0xfffffe00;

/** The SYN's options a cookie keeps (`TcpOptions` from core/wire/tcp.ts fits). */
export interface SynCookieInput {
  /** The peer's MSS; 0 when it sent none (the family's default is used). */
  mss: number;
  /** The peer's window shift, -1 when it sent none. */
  wscale: number;
  /** Whether SACK will be used (the peer offered it and we allow it). */
  sackPermitted: boolean;
  /** Whether timestamps will be used. */
  timestamp: boolean;
}

/** What a valid cookie gave back (one object, refilled by every decode). */
export class SynCookieOptions implements SynCookieInput {
  /** The peer's MSS, rounded down to a table value. */
  mss = 0;
  /** The peer's window shift, rounded down to a table value; -1 for no window scaling. */
  wscale = -1;
  /** SACK was agreed. */
  sackPermitted = false;
  /** Timestamps were agreed: the ACK must carry one. */
  timestamp = false;
}

/** Stateless SYN-ACKs for a flooded listener. One per stack. */
export class SynCookies {
  readonly #key: Uint32Array;
  readonly #words = new Uint32Array(TUPLE_WORDS_MAX + 3);
  readonly #result = new SynCookieOptions();
  /** Slot length in ms. */
  readonly slotMs: number;
  /** Cookies sent (`encode` calls). */
  sent = 0;
  /** Cookies that came back valid. */
  accepted = 0;
  /** ACKs whose cookie was forged, damaged or too old. */
  rejected = 0;

  /**
   * @param secret 16 random bytes (tests pass fixed ones)
   * @param slotMs the time slot (ms); cookies are accepted for one to two slots
   */
  constructor(secret: Uint8Array, slotMs: number = SYN_COOKIE_SLOT_MS) {
    if (!(slotMs > 0)) throw new RangeError(`slotMs must be positive, not ${slotMs}`);
    this.#key = deriveKey(secret, KEY_PURPOSE.synCookie);
    this.slotMs = slotMs;
  }

  /**
   * The ISN for the SYN-ACK answering a SYN with sequence number `irs` and
   * options `syn`, made at `now` (ms).
   */
  encode(
    local: IpAddr,
    localPort: number,
    remote: IpAddr,
    remotePort: number,
    irs: number,
    syn: SynCookieInput,
    now: number,
  ): number {
    const mss = syn.mss > 0 ? syn.mss : local.family === 4 ? DEFAULT_MSS_V4 : DEFAULT_MSS_V6;
    let bits = floorIndex(SYN_COOKIE_MSS, mss);
    if (syn.wscale >= 0) {
      bits |= (floorIndex(SYN_COOKIE_WSCALE, Math.min(syn.wscale, 14)) + 1) << WSCALE_SHIFT;
    }
    if (syn.sackPermitted) bits |= SACK_BIT;
    if (syn.timestamp) bits |= TS_BIT;
    const slot = Math.floor(now / this.slotMs);
    if (slot & 1) bits |= PARITY_BIT;
    this.sent++;
    return ((this.#mac(local, localPort, remote, remotePort, irs, slot, bits) & MAC_MASK) |
      bits) >>> 0;
  }

  /**
   * Checks the cookie an ACK returns (`cookie` = the ACK's acknowledgment
   * number - 1; `irs` = its sequence number - 1) at `now` (ms). Returns the
   * options the SYN had (the same object each call), or null when the cookie
   * is forged, damaged, or older than two slots.
   */
  decode(
    cookie: number,
    irs: number,
    local: IpAddr,
    localPort: number,
    remote: IpAddr,
    remotePort: number,
    now: number,
  ): SynCookieOptions | null {
    const current = Math.floor(now / this.slotMs);
    const parity = (cookie & PARITY_BIT) !== 0 ? 1 : 0;
    const slot = (current & 1) === parity ? current : current - 1;
    const bits = cookie & (OPTION_MASK | PARITY_BIT);
    const mac = this.#mac(local, localPort, remote, remotePort, irs, slot, bits);
    if (((mac ^ cookie) & MAC_MASK) !== 0) {
      this.rejected++;
      return null;
    }
    const r = this.#result;
    r.mss = SYN_COOKIE_MSS[cookie & 7];
    const wscaleIndex = (cookie >>> WSCALE_SHIFT) & 7; // 0 = none, else 1 + an index (7 entries)
    r.wscale = wscaleIndex === 0 ? -1 : SYN_COOKIE_WSCALE[wscaleIndex - 1];
    r.sackPermitted = (cookie & SACK_BIT) !== 0;
    r.timestamp = (cookie & TS_BIT) !== 0;
    this.accepted++;
    return r;
  }

  #mac(
    local: IpAddr,
    localPort: number,
    remote: IpAddr,
    remotePort: number,
    irs: number,
    slot: number,
    bits: number,
  ): number {
    const w = this.#words;
    let n = packTuple(w, local, localPort, remote, remotePort);
    w[n++] = irs;
    w[n++] = slot;
    w[n++] = bits;
    return sipHash24Low32(this.#key, w, n);
  }
}

/** The index of the largest table entry <= `value` (0 when all are larger). */
function floorIndex(table: readonly number[], value: number): number {
  let i = table.length - 1;
  while (i > 0 && table[i] > value) i--;
  return i;
}
