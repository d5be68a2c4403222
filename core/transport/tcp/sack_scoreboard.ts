/**
 * RFC 6675's conservative SACK-based loss recovery over the record of sent
 * segments (`SentSegments`): IsLost(), NextSeg() rules 1, 3 and 4, SetPipe(),
 * and the marking of IsLost records as lost so the O(1) `inFlight` count and
 * RACK see them.
 *
 * RFC 6675's HighRxt is an inclusive octet number; here it is passed as
 * `highRxt`, one past the highest octet retransmitted in this recovery
 * (HighRxt + 1), so "S2 > HighRxt" reads `S2 >= highRxt`. At the start of
 * recovery pass SND.UNA.
 *
 * IsLost counts SACKed records above a sequence number as its "discontiguous
 * SACKed sequences": one record is one segment sent. Records are SACKed whole
 * (`SentSegments` splits a record a block cuts), so every octet of an
 * unSACKed record has the same answer, and the answers fall into one
 * boundary: below it every unSACKed record is lost, above it none is.
 *
 * @module
 */

import { SEG_LOST, SEG_RETRANS, SEG_SACKED, SentSegments } from "./sent_segments.ts";
import { seqGeq, seqGt, seqLt, seqMax } from "./seq.ts";

/** RFC 6675 §2 DupThresh: duplicate ACKs (or SACKed segments) that signal a loss. */
export const DUP_THRESH = 3;

/** What `nextSeg` chose (RFC 6675 §4 NextSeg rule numbers). */
export const NEXT_SEG = {
  /** Nothing to send. */
  NONE: 0,
  /** Rule 1: a lost segment to retransmit (`segStart`, `segEnd`). */
  LOST: 1,
  /** Rule 2: send new data (the caller's own segment). */
  NEW_DATA: 2,
  /** Rule 3: an unSACKed, not yet lost segment below the highest SACK. */
  UNSACKED: 3,
} as const;

/** RFC 6675 loss recovery on one connection's `SentSegments`. */
export class SackScoreboard {
  /** The record it reads and marks. */
  readonly segments: SentSegments;
  /** DupThresh (RFC 6675 §2; `net.inet.tcp` has no knob for it). */
  readonly dupThresh: number;
  /** The range chosen by the last successful `nextSeg`, `nextLost` or `rescue`: start. */
  segStart = 0;
  /** ...and end (exclusive). */
  segEnd = 0;

  // Every unSACKed record below #boundary is IsLost and marked lost; it only
  // rises while SACK state only grows (`generation` says when it did not).
  #boundary: number;
  #generation: number;

  /** A scoreboard over `segments`. */
  constructor(segments: SentSegments, dupThresh = DUP_THRESH) {
    this.segments = segments;
    this.dupThresh = dupThresh;
    this.#boundary = segments.sndUna;
    this.#generation = segments.generation;
  }

  /**
   * RFC 6675 §4 IsLost(seq): true when `dupThresh` SACKed segments lie above
   * `seq`, or more than (DupThresh - 1) * SMSS SACKed bytes do. A query
   * (O(records above)); recovery code uses `markLost` and the flags.
   */
  isLost(seq: number, smss: number): boolean {
    const segs = this.segments;
    const i = segs.indexOf(seq);
    if (i < 0 || segs.sackedBytes === 0) return false;
    const limit = (this.dupThresh - 1) * smss;
    let count = 0, bytes = 0;
    for (let k = segs.indexOf((segs.highestSacked - 1) >>> 0); k > i; k--) {
      if (!(segs.flagsAt(k) & SEG_SACKED)) continue;
      count++;
      bytes += segs.lengthAt(k);
      if (count >= this.dupThresh || bytes > limit) return true;
    }
    // Octets of seq's own record that lie above it count as SACKed bytes.
    if (segs.flagsAt(i) & SEG_SACKED) bytes += (segs.endAt(i) - seq - 1) >>> 0;
    return bytes > limit;
  }

  /**
   * The index below which every unSACKed record is IsLost (0: none is).
   * Walks down from the highest SACKed record until the threshold is met.
   */
  lostBelowIndex(smss: number): number {
    const segs = this.segments;
    if (segs.sackedBytes === 0) return 0;
    const stop = this.#boundaryIndex();
    const limit = (this.dupThresh - 1) * smss;
    let count = 0, bytes = 0;
    for (let k = segs.indexOf((segs.highestSacked - 1) >>> 0); k > stop; k--) {
      if (!(segs.flagsAt(k) & SEG_SACKED)) continue;
      count++;
      bytes += segs.lengthAt(k);
      if (count >= this.dupThresh || bytes > limit) return k;
    }
    return stop;
  }

  /**
   * Marks lost (SEG_LOST, keeping any retransmission in flight) every
   * unSACKed record IsLost holds lost. Call after each ACK's `onAck` when
   * using RFC 6675 loss detection. Returns the bytes newly marked.
   */
  markLost(smss: number): number {
    const segs = this.segments;
    const j = this.lostBelowIndex(smss);
    const from = this.#boundaryIndex();
    const before = segs.lostBytes;
    for (let k = from; k < j; k++) {
      if (!(segs.flagsAt(k) & (SEG_SACKED | SEG_LOST))) segs.markLostAt(k, false);
    }
    if (j > 0) this.#boundary = segs.startAt(j);
    return segs.lostBytes - before;
  }

  /**
   * RFC 6675 §4 NextSeg() rules 1 to 3: rule 1, the first unSACKed octet at
   * or after `highRxt` that IsLost (below the highest SACK), else rule 2,
   * new data, when `newDataReady` (the caller has it and the window allows),
   * else rule 3, the first unSACKed octet at or after `highRxt` below the
   * highest SACK. Rules 1 and 3 leave `[segStart, segEnd)`: at most `smss`
   * bytes, stopping before SACKed data. Returns a `NEXT_SEG` value.
   * Rule 4 (the rescue retransmission) is `rescue`.
   */
  nextSeg(highRxt: number, smss: number, newDataReady: boolean): number {
    const segs = this.segments;
    const from = seqMax(highRxt >>> 0, segs.sndUna);
    const j = this.lostBelowIndex(smss);
    if (j > 0 && this.#firstUnsacked(from, j, smss)) return NEXT_SEG.LOST;
    if (newDataReady) return NEXT_SEG.NEW_DATA;
    if (segs.sackedBytes > 0) {
      const top = segs.indexOf((segs.highestSacked - 1) >>> 0);
      if (this.#firstUnsacked(from, top, smss)) return NEXT_SEG.UNSACKED;
    }
    return NEXT_SEG.NONE;
  }

  /**
   * RFC 6675 §4 NextSeg() rule 4: the segment of at most `smss` bytes ending
   * with the highest unSACKed octet (the caller checks HighACK > RescueRxt
   * and sets RescueRxt). False when nothing outstanding is unSACKed.
   */
  rescue(smss: number): boolean {
    const segs = this.segments;
    for (let i = segs.count - 1; i >= 0; i--) {
      if (segs.flagsAt(i) & SEG_SACKED) continue;
      const end = segs.endAt(i);
      let k = i;
      while (
        k > 0 && ((end - segs.startAt(k)) >>> 0) < smss && !(segs.flagsAt(k - 1) & SEG_SACKED)
      ) k--;
      const low = (end - smss) >>> 0;
      this.segStart = ((end - segs.startAt(k)) >>> 0) > smss ? low : segs.startAt(k);
      this.segEnd = end;
      return true;
    }
    return false;
  }

  /**
   * The first record at or after `fromSeq` that is lost, unSACKed and not
   * retransmitted since (RACK's or the RTO's marks as well as IsLost's),
   * as `[segStart, segEnd)` of at most `smss` bytes over such records in a
   * row. A retransmission loop passes the previous `segEnd` to go on from
   * there. False when there is none.
   */
  nextLost(fromSeq: number, smss: number): boolean {
    const segs = this.segments;
    const from = seqMax(fromSeq >>> 0, segs.sndUna);
    let i = segs.indexOf(from);
    if (i < 0) return false;
    for (; i < segs.count; i++) {
      if ((segs.flagsAt(i) & (SEG_LOST | SEG_SACKED | SEG_RETRANS)) !== SEG_LOST) continue;
      const s = seqMax(segs.startAt(i), from);
      this.#extend(s, i, smss, SEG_LOST | SEG_SACKED | SEG_RETRANS, SEG_LOST);
      return true;
    }
    return false;
  }

  /**
   * RFC 6675 §4 SetPipe(): unSACKed bytes not IsLost, plus unSACKed bytes
   * below `highRxt` (retransmitted in this recovery). O(records); the
   * flag-based `SentSegments.inFlight` is the O(1) equivalent when lost and
   * retransmitted marks are kept (`markLost`, `retransmitted`).
   */
  pipe(highRxt: number, smss: number): number {
    const segs = this.segments;
    const j = this.lostBelowIndex(smss);
    highRxt >>>= 0;
    let pipe = 0;
    for (let i = 0; i < segs.count; i++) {
      if (segs.flagsAt(i) & SEG_SACKED) continue;
      const s = segs.startAt(i), e = segs.endAt(i);
      if (i >= j) pipe += (e - s) >>> 0;
      if (seqLt(s, highRxt)) pipe += ((seqLt(e, highRxt) ? e : highRxt) - s) >>> 0;
    }
    return pipe;
  }

  /** Index of the record at the lost boundary (0 after any reset or when it fell below SND.UNA). */
  #boundaryIndex(): number {
    const segs = this.segments;
    if (this.#generation !== segs.generation || !seqGt(this.#boundary, segs.sndUna)) {
      this.#generation = segs.generation;
      this.#boundary = segs.sndUna;
      return 0;
    }
    const i = segs.indexOf(this.#boundary);
    return i < 0 ? 0 : i;
  }

  /** First unSACKed octet at or after `from` in records below index `limit`. */
  #firstUnsacked(from: number, limit: number, smss: number): boolean {
    const segs = this.segments;
    let i = segs.indexOf(from);
    if (i < 0) return false;
    for (; i < limit; i++) {
      if (segs.flagsAt(i) & SEG_SACKED) continue;
      this.#extend(seqMax(segs.startAt(i), from), i, smss, SEG_SACKED, 0);
      return true;
    }
    return false;
  }

  /** Sets [segStart, segEnd) from `start` in record `i` over following records whose flags & mask === want. */
  #extend(start: number, i: number, smss: number, mask: number, want: number): void {
    const segs = this.segments;
    const cap = (start + smss) >>> 0;
    let end = segs.endAt(i);
    while (seqLt(end, cap) && i + 1 < segs.count && (segs.flagsAt(i + 1) & mask) === want) {
      i++;
      end = segs.endAt(i);
    }
    this.segStart = start;
    this.segEnd = seqGeq(end, cap) ? cap : end;
  }
}
