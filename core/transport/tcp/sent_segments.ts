/**
 * The sender's record of transmitted segments: one record per segment sent,
 * `[start, end)` in sequence order from SND.UNA to SND.MAX, each with its
 * latest transmit time and flags (SACKed, lost, retransmitted). It is the
 * SACK scoreboard of RFC 2018 / RFC 6675 (marking, D-SACK detection of
 * RFC 2883 / RFC 3708, hole bound) and the per-segment state RACK (RFC 8985)
 * reads; the loss rules built on it live in `sack_scoreboard.ts` and
 * `rack.ts`.
 *
 * Records are contiguous (each one ends where the next begins), so only the
 * starts are stored; the last one ends at `sndMax`. They sit in typed arrays
 * used as a ring (a power-of-two capacity, doubled when full, never beyond
 * `maxSegments` records), so sending, acknowledging and SACK marking allocate
 * nothing. Per-ACK results come back in fields of the object, not in a new
 * object per call.
 *
 * Sequence numbers are uint32 compared modulo 2^32 (`seq.ts`); times are ms
 * on the caller's clock (fractional allowed).
 *
 * @example
 * ```ts
 * const segs = new SentSegments({ initialSeq: 1000 });
 * segs.sent(1000, 1460, 0);
 * segs.sent(2460, 1460, 0);
 * const left = Uint32Array.of(2460), right = Uint32Array.of(3920);
 * segs.onAck(1000, left, right, 1, 40); // first segment missing, second SACKed
 * segs.sackedBytes; // 1460
 * ```
 *
 * @module
 */

import { seqGeq, seqGt, seqLeq, seqLt, seqMax } from "./seq.ts";

/** Record flag: covered by a SACK block (and not yet cumulatively acknowledged). */
export const SEG_SACKED = 1;
/** Record flag: considered lost (by RFC 6675 IsLost, RACK, RTO or the caller) and not SACKed since. */
export const SEG_LOST = 2;
/** Record flag: retransmitted, and that retransmission is still believed in flight. */
export const SEG_RETRANS = 4;
/** Record flag: retransmitted at least once (Karn's rule: its ACK gives no RTT sample). */
export const SEG_EVER_RETRANS = 8;
/** Record flag: last sent as a tail loss probe (RFC 8985 §7). */
export const SEG_TLP = 16;

/** Construction options for `SentSegments`. */
export interface SentSegmentsOptions {
  /** SND.UNA at the start (the first sequence number the record will hold). */
  initialSeq: number;
  /** Most records held at once. Default 65536. */
  maxSegments?: number;
  /** Records allocated at first (rounded up to a power of two). Default 64. */
  initialCapacity?: number;
  /** Most SACK holes tracked (`net.inet.tcp.sack.maxholes`). Default 32. */
  maxHoles?: number;
}

/** The transmitted segments of one connection, with their SACK state. */
export class SentSegments {
  /** Most records held at once. */
  readonly maxSegments: number;
  /** Most holes (unSACKed runs below a SACKed record) tracked; SACK information that would add more is ignored. */
  readonly maxHoles: number;

  /** Bytes covered by SACKed records. */
  sackedBytes = 0;
  /** SACKed records (RACK's segs_sacked, RFC 8985 §6.2 step 4). */
  sackedSegments = 0;
  /** Bytes in records marked lost (never SACKed ones only). */
  lostBytes = 0;
  /** Bytes in records whose retransmission is believed in flight. */
  retransBytes = 0;
  /** Holes: unSACKed runs of records that end just below a SACKed record. */
  holes = 0;
  /** The end of the highest SACKed byte seen, or SND.UNA when that is later. */
  highestSacked: number;
  /** RACK.fack (RFC 8985 §6.2 step 3): the end of the highest byte ever delivered (acked or SACKed). */
  fack: number;
  /** Bumped by `reset` and `resetAfterRto`, so cached conclusions drawn from SACK state can be dropped. */
  generation = 0;

  // Results of the last onAck (reused; valid until the next call).
  /** Bytes newly acknowledged cumulatively (SND.UNA advance). */
  ackedBytes = 0;
  /** Bytes newly SACKed. */
  newlySackedBytes = 0;
  /** Bytes newly delivered: cumulatively acked bytes that were not SACKed before, plus newly SACKed ones. */
  deliveredBytes = 0;
  /** The first SACK block was a D-SACK (RFC 2883 §4, RFC 3708 §2). */
  dsack = false;
  /** The D-SACK block's start (valid when `dsack`). */
  dsackStart = 0;
  /** The D-SACK block's end (valid when `dsack`). */
  dsackEnd = 0;
  /**
   * ms from the latest-sent, never retransmitted, newly and fully delivered
   * record to `now`; -1 if none. Karn's rule as Linux applies it: records this
   * ACK covers cumulatively give no sample when it also covers retransmitted
   * data (the ACK may answer the retransmission that filled a hole).
   */
  rttSampleMs = -1;
  /**
   * RACK: transmit time of the last-sent (by send order) newly delivered
   * record RACK may use (RFC 8985 §6.2 step 2); -1 if none.
   */
  rackXmitTs = -1;
  /** RACK: that record's end sequence number. */
  rackEndSeq = 0;
  /** RACK: that record's send order (see `sendOrderAt`). */
  rackSendOrder = 0;
  /** RACK: a never-retransmitted record below the previous `fack` was newly delivered (step 3). */
  reorderSeen = false;
  /** SACK information this ACK carried that was ignored (the hole bound or the record bound). */
  sackIgnored = false;

  #una: number;
  #max: number;
  #cap: number;
  #mask: number;
  #head = 0;
  #n = 0;
  #start: Uint32Array;
  #xmit: Float64Array;
  #order: Float64Array;
  /** Transmissions so far (the last one's send order). */
  #sends = 0;
  #flags: Uint8Array;
  // Blocks of the previous ACK that were applied completely: their records are all SACKed.
  readonly #cacheLeft = new Uint32Array(4);
  readonly #cacheRight = new Uint32Array(4);
  #cacheCount = 0;
  readonly #nextLeft = new Uint32Array(4);
  readonly #nextRight = new Uint32Array(4);
  #nextCount = 0;
  // Per-ACK scratch.
  #fackBefore = 0;
  #rackLimit = -Infinity;
  #rttXmit = -Infinity;

  /** An empty record starting at `options.initialSeq`. */
  constructor(options: SentSegmentsOptions) {
    this.maxSegments = Math.max(2, Math.floor(options.maxSegments ?? 65536));
    this.maxHoles = Math.max(0, Math.floor(options.maxHoles ?? 32));
    let cap = 4;
    const want = Math.min(options.initialCapacity ?? 64, this.maxSegments);
    while (cap < want) cap *= 2;
    this.#cap = cap;
    this.#mask = cap - 1;
    this.#start = new Uint32Array(cap);
    this.#xmit = new Float64Array(cap);
    this.#order = new Float64Array(cap);
    this.#flags = new Uint8Array(cap);
    this.#una = this.#max = options.initialSeq >>> 0;
    this.highestSacked = this.fack = this.#una;
  }

  /** SND.UNA: the first unacknowledged sequence number. */
  get sndUna(): number {
    return this.#una;
  }

  /** SND.MAX: one past the highest sequence number sent. */
  get sndMax(): number {
    return this.#max;
  }

  /** Records held. */
  get count(): number {
    return this.#n;
  }

  /** Records the arrays can hold before they grow. */
  get capacity(): number {
    return this.#cap;
  }

  /** Bytes sent and not cumulatively acknowledged (SND.MAX - SND.UNA). */
  get outstanding(): number {
    return (this.#max - this.#una) >>> 0;
  }

  /**
   * Bytes believed in the network: outstanding - SACKed - lost + retransmitted
   * in flight (RFC 6675's pipe with per-record flags, as Linux counts it).
   */
  get inFlight(): number {
    return this.outstanding - this.sackedBytes - this.lostBytes + this.retransBytes;
  }

  /** Starts over, empty, at `seq` (a new connection). */
  reset(seq: number): void {
    this.#una = this.#max = seq >>> 0;
    this.#head = 0;
    this.#n = 0;
    this.sackedBytes =
      this.sackedSegments =
      this.lostBytes =
      this.retransBytes =
      this.holes =
        0;
    this.highestSacked = this.fack = this.#una;
    this.#cacheCount = 0;
    this.generation++;
  }

  // ---- Records by index (0 = the one at SND.UNA) ----

  /** Start of record `i`. */
  startAt(i: number): number {
    return this.#start[(this.#head + i) & this.#mask];
  }

  /** End (exclusive) of record `i`. */
  endAt(i: number): number {
    return i + 1 < this.#n ? this.#start[(this.#head + i + 1) & this.#mask] : this.#max;
  }

  /** Length in bytes of record `i`. */
  lengthAt(i: number): number {
    return (this.endAt(i) - this.startAt(i)) >>> 0;
  }

  /** Latest transmit time of record `i` (ms). */
  xmitAt(i: number): number {
    return this.#xmit[(this.#head + i) & this.#mask];
  }

  /**
   * Send order of record `i`'s latest transmission: a counter over every
   * `sent` and `retransmitted` call. RACK's "sent after" compares these
   * rather than (time, end sequence): many segments share one `now` (one
   * stack turn), and a retransmission sent after new data in the same turn
   * has the lower end sequence.
   */
  sendOrderAt(i: number): number {
    return this.#order[(this.#head + i) & this.#mask];
  }

  /** Flags of record `i` (SEG_*). */
  flagsAt(i: number): number {
    return this.#flags[(this.#head + i) & this.#mask];
  }

  /** Index of the record holding `seq`, or -1 when `seq` is outside [SND.UNA, SND.MAX). */
  indexOf(seq: number): number {
    seq >>>= 0;
    if (this.#n === 0 || seqLt(seq, this.#una) || seqGeq(seq, this.#max)) return -1;
    let lo = 0, hi = this.#n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (seqLeq(this.startAt(mid), seq)) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  // ---- Sending ----

  /**
   * New data `[seq, seq + len)` went out at `now`; `seq` must be SND.MAX (a
   * FIN counts as one byte). `probe` marks a tail loss probe of new data.
   * When the record is full the segment joins the last record if that one
   * is plain (never SACKed, lost or retransmitted); otherwise nothing is
   * recorded and false is returned: the caller must not send it.
   */
  sent(seq: number, len: number, now: number, probe = false): boolean {
    if ((seq >>> 0) !== this.#max) throw new RangeError("SentSegments.sent: seq must be SND.MAX");
    if (len <= 0) return true;
    if (!this.#room()) {
      const last = (this.#head + this.#n - 1) & this.#mask;
      if (this.#n === 0 || this.#flags[last] !== 0 || probe) return false;
      this.#xmit[last] = now;
      this.#order[last] = ++this.#sends;
      this.#max = (this.#max + len) >>> 0;
      return true;
    }
    const p = (this.#head + this.#n) & this.#mask;
    this.#start[p] = this.#max;
    this.#xmit[p] = now;
    this.#order[p] = ++this.#sends;
    this.#flags[p] = probe ? SEG_TLP : 0;
    this.#n++;
    this.#max = (this.#max + len) >>> 0;
    return true;
  }

  /**
   * `[seq, seq + len)` was sent again at `now` (fast retransmit, RACK, RTO,
   * or a TLP when `probe`): records there get the new time, SEG_EVER_RETRANS
   * and, unless SACKed, SEG_RETRANS (a lost record stays lost: it then counts
   * once in `inFlight`). Records are split at both ends when the range cuts
   * one; if no room is left for a split the whole record is taken as resent.
   * Returns the bytes of the records touched.
   */
  retransmitted(seq: number, len: number, now: number, probe = false): number {
    seq >>>= 0;
    const end = (seq + len) >>> 0;
    let i = this.indexOf(seq);
    if (i < 0 || len <= 0) return 0;
    if (this.startAt(i) !== seq && this.split(seq)) i++;
    if (seqLt(end, this.#max)) this.split(end);
    let bytes = 0;
    const order = ++this.#sends;
    for (; i < this.#n && seqLt(this.startAt(i), end); i++) {
      const p = (this.#head + i) & this.#mask;
      const l = this.lengthAt(i);
      let f = this.#flags[p] | SEG_EVER_RETRANS;
      f = probe ? f | SEG_TLP : f & ~SEG_TLP;
      if (!(f & SEG_SACKED) && !(f & SEG_RETRANS)) {
        f |= SEG_RETRANS;
        this.retransBytes += l;
      }
      this.#flags[p] = f;
      this.#xmit[p] = now;
      this.#order[p] = order;
      bytes += l;
    }
    return bytes;
  }

  /**
   * Splits the record holding `seq` in two at `seq` (both halves keep its time
   * and flags). True when `seq` is now a record start; false when it lies
   * outside the record or no room is left.
   */
  split(seq: number): boolean {
    seq >>>= 0;
    const i = this.indexOf(seq);
    if (i < 0) return false;
    if (this.startAt(i) === seq) return true;
    if (!this.#room()) return false;
    const k = i + 1; // the new record's index
    const mask = this.#mask;
    if (k > this.#n >> 1) {
      // Shift records [k, n) up by one.
      for (let j = this.#n; j > k; j--) {
        this.#copy((this.#head + j - 1) & mask, (this.#head + j) & mask);
      }
    } else {
      // Shift records [0, k) down by one.
      const h = (this.#head - 1) & mask;
      for (let j = 0; j < k; j++) this.#copy((this.#head + j) & mask, (h + j) & mask);
      this.#head = h;
    }
    const from = (this.#head + i) & mask, to = (this.#head + k) & mask;
    this.#copy(from, to);
    this.#start[to] = seq;
    this.#n++;
    if (this.#flags[to] & SEG_SACKED) this.sackedSegments++;
    return true;
  }

  // ---- Loss marks ----

  /**
   * Marks record `i` lost. With `retransmissionLost` (RACK, RTO) its
   * retransmission in flight is taken as lost too; without it (RFC 6675
   * IsLost, which judges the original transmission) a retransmission stays
   * in flight. Returns whether anything changed. SACKed records are never lost.
   */
  markLostAt(i: number, retransmissionLost: boolean): boolean {
    const p = (this.#head + i) & this.#mask;
    let f = this.#flags[p];
    if (f & SEG_SACKED) return false;
    const l = this.lengthAt(i);
    let changed = false;
    if (!(f & SEG_LOST)) {
      f |= SEG_LOST;
      this.lostBytes += l;
      changed = true;
    }
    if (retransmissionLost && f & SEG_RETRANS) {
      f &= ~SEG_RETRANS;
      this.retransBytes -= l;
      changed = true;
    }
    this.#flags[p] = f;
    return changed;
  }

  /**
   * RFC 6675 §5.1 (and RFC 5681 §3.1's go-back-N): after a retransmission
   * timeout every unSACKed record is lost and no retransmission is in
   * flight any more. With `forgetSacks` (RFC 2018 §8: the receiver may have
   * reneged) SACK marks are dropped first, so everything outstanding is lost.
   */
  resetAfterRto(forgetSacks = false): void {
    const mask = this.#mask;
    this.lostBytes = this.retransBytes = 0;
    if (forgetSacks) {
      this.sackedBytes = this.sackedSegments = this.holes = 0;
      this.highestSacked = this.#una;
      this.#cacheCount = 0;
    }
    for (let i = 0; i < this.#n; i++) {
      const p = (this.#head + i) & mask;
      let f = this.#flags[p] & ~SEG_RETRANS;
      if (forgetSacks) f &= ~SEG_SACKED;
      if (!(f & SEG_SACKED)) {
        f |= SEG_LOST;
        this.lostBytes += this.lengthAt(i);
      }
      this.#flags[p] = f;
    }
    this.generation++;
  }

  // ---- Acknowledgements ----

  /**
   * Processes one ACK: the cumulative acknowledgement `cumAck` and the first
   * `sackCount` SACK blocks `[sackLeft[k], sackRight[k])` as `TcpOptions`
   * holds them. Removes acknowledged records, marks SACKed ones, detects a
   * D-SACK, and leaves the results in `ackedBytes`, `newlySackedBytes`,
   * `deliveredBytes`, `dsack*`, `rttSampleMs`, `rackXmitTs`/`rackEndSeq`,
   * `reorderSeen`, `sackIgnored`.
   *
   * `rackRetransmitXmitLimit`: a retransmitted record's delivery counts for
   * RACK only when its transmit time is at most this (RFC 8985 §6.2 step 2;
   * `Rack.retransmitXmitLimit` computes it); the default counts none.
   *
   * A `cumAck` outside [SND.UNA, SND.MAX] moves nothing (the caller has
   * already judged such an ACK). SACK blocks beyond SND.MAX or inverted are
   * ignored; parts below SND.UNA are clipped.
   */
  onAck(
    cumAck: number,
    sackLeft: Uint32Array,
    sackRight: Uint32Array,
    sackCount: number,
    now: number,
    rackRetransmitXmitLimit = -Infinity,
  ): void {
    cumAck >>>= 0;
    this.ackedBytes = this.newlySackedBytes = this.deliveredBytes = 0;
    this.dsack = this.reorderSeen = this.sackIgnored = false;
    this.rttSampleMs = this.rackXmitTs = -1;
    this.#rttXmit = -Infinity;
    this.#fackBefore = this.fack;
    this.#rackLimit = rackRetransmitXmitLimit;

    // RFC 2883 §4 / RFC 3708 §2: the first block reports a duplicate when it
    // lies below the cumulative ACK or inside the second block.
    if (sackCount > 0) {
      const l0 = sackLeft[0], r0 = sackRight[0];
      if (
        seqLt(l0, cumAck) ||
        (sackCount > 1 && seqGeq(l0, sackLeft[1]) && seqLeq(r0, sackRight[1]))
      ) {
        this.dsack = true;
        this.dsackStart = l0;
        this.dsackEnd = r0;
      }
    }

    if (seqGt(cumAck, this.#una) && seqLeq(cumAck, this.#max)) this.#ackTo(cumAck);

    this.#nextCount = 0;
    // A D-SACK block is applied like the others: below SND.UNA it clips to
    // nothing, inside the second block it finds everything SACKed already.
    for (let k = 0; k < sackCount; k++) {
      let l = sackLeft[k] >>> 0;
      const r = sackRight[k] >>> 0;
      if (!seqLt(l, r) || seqGt(r, this.#max) || ((r - l) | 0) < 0) continue;
      if (seqLt(l, this.#una)) l = this.#una;
      if (!seqLt(l, r)) continue;
      if (this.#sackBlock(l, r) && this.#nextCount < 4) {
        this.#nextLeft[this.#nextCount] = l;
        this.#nextRight[this.#nextCount] = r;
        this.#nextCount++;
      }
    }
    this.#cacheLeft.set(this.#nextLeft);
    this.#cacheRight.set(this.#nextRight);
    this.#cacheCount = this.#nextCount;

    if (this.#rttXmit > -Infinity) this.rttSampleMs = now - this.#rttXmit;
    this.highestSacked = seqMax(this.highestSacked, this.#una);
  }

  // ---- Internals ----

  /** Removes everything below `ack` (SND.UNA < ack <= SND.MAX). */
  #ackTo(ack: number): void {
    const mask = this.#mask;
    this.ackedBytes = (ack - this.#una) >>> 0;
    let resentAcked = false;
    while (this.#n > 0) {
      const p = this.#head;
      const s = this.#start[p];
      const e = this.endAt(0);
      const f = this.#flags[p];
      if (seqLt(s, ack) && f & SEG_EVER_RETRANS) resentAcked = true;
      if (seqLeq(e, ack)) {
        const l = (e - s) >>> 0;
        if (f & SEG_SACKED) {
          this.sackedBytes -= l;
          this.sackedSegments--;
        } else {
          this.deliveredBytes += l;
          this.#delivered(p, e);
          // An unSACKed record followed by a SACKed one ended a hole.
          if (this.#n > 1 && this.#flags[(p + 1) & mask] & SEG_SACKED) this.holes--;
        }
        if (f & SEG_LOST) this.lostBytes -= l;
        if (f & SEG_RETRANS) this.retransBytes -= l;
        this.#head = (p + 1) & mask;
        this.#n--;
        if (seqLeq(ack, e)) break;
      } else {
        if (seqGt(ack, s)) {
          // A partial acknowledgement of the head record: trim it.
          const l = (ack - s) >>> 0;
          if (f & SEG_SACKED) this.sackedBytes -= l;
          else this.deliveredBytes += l;
          if (f & SEG_LOST) this.lostBytes -= l;
          if (f & SEG_RETRANS) this.retransBytes -= l;
          this.#start[p] = ack;
        }
        break;
      }
    }
    this.#una = ack;
    if (this.#n === 0) this.#head = 0;
    if (resentAcked) this.#rttXmit = -Infinity;
    this.fack = seqMax(this.fack, ack);
  }

  /**
   * Marks `[l, r)` SACKed, skipping parts a complete block of the previous
   * ACK covered. Returns whether every record in it is now SACKED.
   */
  #sackBlock(l: number, r: number): boolean {
    let complete = true;
    let cursor = l;
    // Each pass skips what cached blocks cover, then marks up to the next
    // cached block; the cursor only moves forward, so this ends.
    while (seqLt(cursor, r)) {
      for (let moved = true; moved;) {
        moved = false;
        for (let c = 0; c < this.#cacheCount; c++) {
          if (seqLeq(this.#cacheLeft[c], cursor) && seqLt(cursor, this.#cacheRight[c])) {
            cursor = this.#cacheRight[c];
            moved = true;
          }
        }
      }
      if (!seqLt(cursor, r)) break;
      let pieceEnd = r;
      for (let c = 0; c < this.#cacheCount; c++) {
        const cl = this.#cacheLeft[c];
        if (seqGt(cl, cursor) && seqLt(cl, pieceEnd)) pieceEnd = cl;
      }
      if (!this.#markRange(cursor, pieceEnd)) complete = false;
      cursor = pieceEnd;
    }
    return complete;
  }

  /** Marks every record in `[l, r)` SACKed, splitting at the ends. Returns whether all are. */
  #markRange(l: number, r: number): boolean {
    let i = this.indexOf(l);
    if (i < 0) return true;
    let complete = true;
    while (i < this.#n) {
      const s = this.startAt(i);
      if (!seqLt(s, r)) break;
      // A split may grow the ring: no physical index or mask outlives one.
      if (this.flagsAt(i) & SEG_SACKED) {
        i++;
        continue;
      }
      if (seqLt(s, l)) {
        // Only the tail of this record is covered.
        if (!this.split(l)) complete = false;
        i++;
        continue;
      }
      if (seqGt(this.endAt(i), r) && !this.split(r)) {
        complete = false;
        break;
      }
      if (!this.#markSacked(i)) complete = false;
      i++;
    }
    if (!complete) this.sackIgnored = true;
    return complete;
  }

  /** Marks record `i` SACKed unless that would exceed `maxHoles`. */
  #markSacked(i: number): boolean {
    const mask = this.#mask;
    const p = (this.#head + i) & mask;
    // Holes are counted as "unSACKed record followed by a SACKed one".
    const prevOpen = i > 0 && !(this.#flags[(p - 1) & mask] & SEG_SACKED) ? 1 : 0;
    const nextSacked = i + 1 < this.#n && this.#flags[(p + 1) & mask] & SEG_SACKED ? 1 : 0;
    const delta = prevOpen - nextSacked;
    if (delta > 0 && this.holes + delta > this.maxHoles) return false;
    this.holes += delta;
    const f = this.#flags[p];
    const e = this.endAt(i);
    const l = (e - this.#start[p]) >>> 0;
    if (f & SEG_LOST) this.lostBytes -= l;
    if (f & SEG_RETRANS) this.retransBytes -= l;
    this.#flags[p] = (f & ~(SEG_LOST | SEG_RETRANS)) | SEG_SACKED;
    this.sackedBytes += l;
    this.sackedSegments++;
    this.newlySackedBytes += l;
    this.deliveredBytes += l;
    this.highestSacked = seqMax(this.highestSacked, e);
    this.#delivered(p, e);
    return true;
  }

  /** Notes a record (physical `p`, ending at `e`) newly and fully delivered by this ACK. */
  #delivered(p: number, e: number): void {
    const x = this.#xmit[p];
    const f = this.#flags[p];
    if (!(f & SEG_EVER_RETRANS)) {
      if (seqLt(e, this.#fackBefore)) this.reorderSeen = true;
      if (x > this.#rttXmit) this.#rttXmit = x;
    } else if (!(x <= this.#rackLimit)) {
      this.fack = seqMax(this.fack, e);
      return;
    }
    const o = this.#order[p];
    if (this.rackXmitTs < 0 || o > this.rackSendOrder) {
      this.rackXmitTs = x;
      this.rackEndSeq = e;
      this.rackSendOrder = o;
    }
    this.fack = seqMax(this.fack, e);
  }

  #copy(from: number, to: number): void {
    this.#start[to] = this.#start[from];
    this.#xmit[to] = this.#xmit[from];
    this.#order[to] = this.#order[from];
    this.#flags[to] = this.#flags[from];
  }

  /** Whether one more record fits (growing the arrays when they are full). */
  #room(): boolean {
    if (this.#n >= this.maxSegments) return false;
    if (this.#n < this.#cap) return true;
    const cap = this.#cap * 2;
    const start = new Uint32Array(cap), flags = new Uint8Array(cap);
    const xmit = new Float64Array(cap), order = new Float64Array(cap);
    for (let i = 0; i < this.#n; i++) {
      const p = (this.#head + i) & this.#mask;
      start[i] = this.#start[p];
      xmit[i] = this.#xmit[p];
      order[i] = this.#order[p];
      flags[i] = this.#flags[p];
    }
    this.#start = start;
    this.#xmit = xmit;
    this.#order = order;
    this.#flags = flags;
    this.#cap = cap;
    this.#mask = cap - 1;
    this.#head = 0;
    return true;
  }
}
