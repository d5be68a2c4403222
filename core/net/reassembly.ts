/**
 * Fragment reassembly shared by IPv4 (RFC 791) and IPv6 (RFC 8200 §4.5).
 *
 * A datagram is keyed by the caller (source, destination, identification and,
 * for IPv4, protocol). Fragments are copied in (their input buffers are only
 * borrowed) and kept sorted by offset. Any overlap drops the whole datagram,
 * as RFC 5722 requires for IPv6 and as is safest for IPv4 (overlaps are how
 * fragment attacks smuggle data past filters). At most `maxPackets` datagrams
 * are in progress (`net.inet.ip.maxfragpackets`); each lives at most
 * `timeoutMs`; each is at most 65535 bytes of payload.
 *
 * @example
 * ```ts
 * import { Reassembler } from "./reassembly.ts";
 * const r = new Reassembler(() => 200, 30_000);
 * r.add("k", 0, true, new Uint8Array(8), null, 0);
 * const done = r.add("k", 8, false, new Uint8Array(4), null, 0);
 * console.log(done?.payload.length); // 12
 * ```
 * @module
 */

/** Largest reassembled payload. */
export const MAX_REASSEMBLED = 65535;

interface Piece {
  off: number;
  data: Uint8Array;
}

interface Pending {
  key: string;
  pieces: Piece[];
  /** Payload length once the last fragment (MF clear) arrived, else -1. */
  total: number;
  /** Header and anything else the caller keeps from the first fragment (offset 0). */
  first: Uint8Array | null;
  expire: number;
  bytes: number;
}

/** A datagram put back together. */
export interface Reassembled {
  /** What the caller stored with the first fragment (its header). */
  first: Uint8Array;
  payload: Uint8Array;
}

/** Why a fragment was dropped. */
export type FragDrop = "overlap" | "toolong" | "full" | "badlen";

/** Reassembly of one family's datagrams. */
export class Reassembler {
  #pending = new Map<string, Pending>();
  readonly #maxPackets: () => number;
  readonly #timeoutMs: number;
  /** The reason the last `add` returning `null` dropped its fragment, or `null` when it was kept. */
  lastDrop: FragDrop | null = null;

  /**
   * @param maxPackets reads the current limit of datagrams in progress
   * @param timeoutMs how long an incomplete datagram is kept
   */
  constructor(maxPackets: () => number, timeoutMs: number) {
    this.#maxPackets = maxPackets;
    this.#timeoutMs = timeoutMs;
  }

  /** Datagrams in progress. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Adds one fragment: payload bytes `data` at byte offset `off`; `more` is the
   * MF flag; `first` is what to keep from the offset-0 fragment. Returns the
   * whole datagram once complete, else `null` (see `lastDrop`).
   */
  add(
    key: string,
    off: number,
    more: boolean,
    data: Uint8Array,
    first: Uint8Array | null,
    now: number,
  ): Reassembled | null {
    this.lastDrop = null;
    let p = this.#pending.get(key);
    if (!p) {
      if (this.#pending.size >= this.#maxPackets()) return this.#drop("full");
      p = { key, pieces: [], total: -1, first: null, expire: now + this.#timeoutMs, bytes: 0 };
      this.#pending.set(key, p);
    }
    const end = off + data.length;
    if (end > MAX_REASSEMBLED) return this.#kill(p, "toolong");
    if (more && data.length % 8 !== 0) return this.#kill(p, "badlen");
    if (!more) {
      if (
        (p.total !== -1 && p.total !== end) || p.pieces.some((x) => x.off + x.data.length > end)
      ) {
        return this.#kill(p, "overlap");
      }
      p.total = end;
    } else if (p.total !== -1 && end > p.total) {
      return this.#kill(p, "overlap");
    }
    let at = 0;
    while (at < p.pieces.length && p.pieces[at].off < off) at++;
    const before = p.pieces[at - 1], after = p.pieces[at];
    if ((before && before.off + before.data.length > off) || (after && after.off < end)) {
      // An exact duplicate is harmless (retransmission); anything else overlaps.
      const dup = after && after.off === off && after.data.length === data.length;
      if (dup) return null;
      return this.#kill(p, "overlap");
    }
    p.pieces.splice(at, 0, { off, data: data.slice() });
    p.bytes += data.length;
    if (off === 0 && first) p.first = first.slice();
    if (p.total === -1 || p.bytes !== p.total || !p.first) return null;
    this.#pending.delete(key);
    const payload = new Uint8Array(p.total);
    for (const piece of p.pieces) payload.set(piece.data, piece.off);
    return { first: p.first, payload };
  }

  /**
   * Drops datagrams older than their deadline; calls `expired` with what each
   * kept from its first fragment (for an ICMP "reassembly time exceeded").
   */
  expire(now: number, expired: (first: Uint8Array | null) => void): void {
    for (const p of [...this.#pending.values()]) {
      if (p.expire > now) continue;
      this.#pending.delete(p.key);
      expired(p.first);
    }
  }

  /** The earliest deadline, or `null` when nothing is pending. */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const p of this.#pending.values()) if (next === null || p.expire < next) next = p.expire;
    return next;
  }

  #drop(reason: FragDrop): null {
    this.lastDrop = reason;
    return null;
  }

  #kill(p: Pending, reason: FragDrop): null {
    this.#pending.delete(p.key);
    return this.#drop(reason);
  }
}
