/**
 * The receiver's segment queue: bytes of the receive sequence space held in
 * one fixed ring buffer, in order or not, with the out-of-order ranges kept as
 * a small sorted table of [start, end) sequence numbers.
 *
 * The buffer covers `[readSeq, readSeq + capacity)`: bytes the application
 * has not taken yet plus anything received beyond a hole. Arriving bytes
 * before `readSeq` or already held are duplicates and are not copied again;
 * bytes at or beyond `readSeq + capacity` are dropped, as is a segment that
 * would need a new range when the table is full. Every insert reports these
 * figures in `lastDuplicate` / `lastDropped` and in running totals.
 *
 * Allocation: the range table is made once at construction. The ring grows
 * by doubling as bytes arrive (up to `capacity`, which auto-tuning may raise
 * with `setCapacity`) and is let go when empty (`release`), so an idle
 * connection holds none; inserting, taking and listing SACK blocks allocate
 * nothing else.
 */

import { copyBytes } from "../../wire/bytes.ts";

const EMPTY = new Uint8Array(0);

/** Construction options for `Reassembly`. */
export interface ReassemblyOptions {
  /** Bytes held at most (in order plus out of order): the receive buffer size. */
  capacity: number;
  /** Initial `readSeq` (the receiver's IRS + 1). */
  initialSeq: number;
  /** Range records in the table (distinct held runs). Default 32, like net.inet.tcp.sack.maxholes. */
  maxRanges?: number;
}

/** An out-of-order queue and receive buffer for one TCP connection. */
export class Reassembly {
  /** Buffer size in bytes: the most held at once (the receive buffer). */
  #capacity: number;
  /** The first sequence number the application has not taken. */
  readSeq: number;
  /** Duplicate bytes in the last `insert` (before `readSeq`, or held already). */
  lastDuplicate = 0;
  /** Bytes dropped by the last `insert` (beyond the buffer, or no range record free). */
  lastDropped = 0;
  /** Running total of duplicate bytes. */
  duplicateBytes = 0;
  /** Running total of segments that brought no new byte (and were not dropped). */
  duplicateSegments = 0;
  /** Running total of dropped bytes. */
  droppedBytes = 0;
  /** Bytes held beyond a hole that were given up to make room nearer the reader. */
  renegedBytes = 0;

  #buf: Uint8Array = EMPTY;
  readonly #maxRanges: number;
  /** Ring index of `readSeq`. */
  #head = 0;
  /** Held runs sorted by sequence, disjoint and never adjacent: [start, end). */
  readonly #start: Uint32Array;
  readonly #end: Uint32Array;
  /** Insert counter value when each run last grew (for SACK order). */
  readonly #stamp: Float64Array;
  #count = 0;
  #clock = 0;

  /** A queue whose buffer starts at `initialSeq`. */
  constructor(options: ReassemblyOptions) {
    if (!(options.capacity > 0 && options.capacity < 0x40000000)) {
      throw new RangeError("Reassembly capacity must be between 1 and 2^30 - 1");
    }
    this.#capacity = options.capacity;
    this.readSeq = options.initialSeq >>> 0;
    this.#maxRanges = Math.max(1, options.maxRanges ?? 32);
    this.#start = new Uint32Array(this.#maxRanges);
    this.#end = new Uint32Array(this.#maxRanges);
    this.#stamp = new Float64Array(this.#maxRanges);
  }

  /** The most bytes held at once (the receive buffer size). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Raises (or lowers, not below what is held) the buffer size; the ring follows on demand. */
  setCapacity(bytes: number): void {
    if (!(bytes > 0 && bytes < 0x40000000)) {
      throw new RangeError("Reassembly capacity out of range");
    }
    const held = this.#count > 0 ? this.#off(this.#end[this.#count - 1]) : 0;
    this.#capacity = Math.max(bytes, held);
  }

  /** Bytes of memory the ring holds now. */
  get memory(): number {
    return this.#buf.length;
  }

  /** Lets the ring go when nothing is held (an idle connection keeps no buffer). */
  release(): void {
    if (this.#count === 0) {
      this.#buf = EMPTY;
      this.#head = 0;
    }
  }

  /** Bytes ready to take, in order from `readSeq`. */
  get readable(): number {
    return this.#count > 0 && this.#start[0] === this.readSeq ? this.#off(this.#end[0]) : 0;
  }

  /** The cumulative acknowledgement point: `readSeq` plus the in-order bytes held. */
  get ackSeq(): number {
    return (this.readSeq + this.readable) >>> 0;
  }

  /** Free space from the ACK point to the buffer's end: the window to advertise. */
  get window(): number {
    return this.capacity - this.readable;
  }

  /** Number of held runs (the in-order run, if any, included). */
  get rangeCount(): number {
    return this.#count;
  }

  /** Bytes held beyond a hole. */
  get outOfOrderBytes(): number {
    let n = 0;
    for (let i = 0; i < this.#count; i++) n += (this.#end[i] - this.#start[i]) >>> 0;
    return n - this.readable;
  }

  /**
   * Stores the bytes of a segment whose first data byte is `seq`. Returns the
   * count of new bytes stored; `lastDuplicate` and `lastDropped` say where
   * the rest went.
   */
  insert(seq: number, data: Uint8Array): number {
    return this.insertFrom(seq, data, 0, data.length);
  }

  /** {@linkcode insert} for the `len` bytes of `bytes` from `start` (no view needed). */
  insertFrom(seq: number, bytes: Uint8Array, start: number, len: number): number {
    this.lastDuplicate = 0;
    this.lastDropped = 0;
    const data = bytes, total = len;
    let from = start;
    let off = this.#off(seq >>> 0);
    // Bytes before readSeq (offset "negative", i.e. in the upper half) are old duplicates.
    if (off >= 0x80000000) {
      const old = Math.min(len, 0x100000000 - off);
      from += old;
      len -= old;
      off = 0;
      this.lastDuplicate += old;
    }
    if (off + len > this.capacity) {
      const over = Math.min(len, off + len - this.capacity);
      len -= over;
      this.lastDropped += over;
    }
    if (len > 0) {
      if (off + len > this.#buf.length) this.#grow(off + len);
      this.#store(off, data, from, len);
    }
    this.duplicateBytes += this.lastDuplicate;
    this.droppedBytes += this.lastDropped;
    const added = total - this.lastDuplicate - this.lastDropped;
    if (added === 0 && this.lastDropped === 0 && total > 0) this.duplicateSegments++;
    return added;
  }

  /**
   * Copies up to `dst.length` in-order bytes into `dst` from its start and
   * advances `readSeq` past them. Returns the count copied.
   */
  take(dst: Uint8Array, at = 0, max: number = dst.length - at): number {
    const n = Math.min(this.readable, max);
    if (n <= 0) return 0;
    const ring = this.#buf.length;
    const first = Math.min(n, ring - this.#head);
    copyBytes(dst, at, this.#buf, this.#head, first);
    copyBytes(dst, at + first, this.#buf, 0, n - first);
    this.#head = (this.#head + n) % ring;
    this.readSeq = (this.readSeq + n) >>> 0;
    if (this.#end[0] === this.readSeq) this.#removeRuns(0, 1);
    else this.#start[0] = this.readSeq;
    return n;
  }

  /**
   * Writes the SACK blocks to advertise into `out` as pairs (left edge, right
   * edge) and returns the number of blocks: out-of-order runs only, the run
   * that changed most recently first (RFC 2018 §4), at most `max` of them
   * (3 beside timestamps, 4 without) and at most `out.length / 2`.
   */
  sackBlocks(out: Uint32Array, max = 4): number {
    const limit = Math.min(max, out.length >> 1);
    const skip = this.readable > 0 ? 1 : 0;
    let n = 0;
    let ceiling = Infinity; // stamps are distinct, so pick the newest below the last one picked
    while (n < limit) {
      let best = -1;
      for (let i = skip; i < this.#count; i++) {
        const s = this.#stamp[i];
        if (s < ceiling && (best < 0 || s > this.#stamp[best])) best = i;
      }
      if (best < 0) break;
      out[2 * n] = this.#start[best];
      out[2 * n + 1] = this.#end[best];
      ceiling = this.#stamp[best];
      n++;
    }
    return n;
  }

  /** Offset of `seq` from `readSeq`, as uint32. */
  #off(seq: number): number {
    return (seq - this.readSeq) >>> 0;
  }

  /** Copies the gaps of [off, off + len) from `data[from]` and merges the run table. */
  #store(off: number, data: Uint8Array, from: number, len: number): void {
    const end = off + len;
    // Runs i..j-1 overlap or touch [off, end).
    let i = 0;
    while (i < this.#count && this.#off(this.#end[i]) < off) i++;
    let j = i;
    while (j < this.#count && this.#off(this.#start[j]) <= end) j++;
    if (i === j && this.#count === this.#maxRanges) {
      if (i === this.#count) {
        this.lastDropped += len; // a new run beyond every held one, and no record free
        return;
      }
      // Bytes nearer the reader matter more: give up the last held run (reneging on what was
      // SACKed there, RFC 2018 §8 allows it) rather than refuse a hole's filling forever.
      this.renegedBytes += (this.#end[this.#count - 1] - this.#start[this.#count - 1]) >>> 0;
      this.#count--;
    }
    // Copy only the parts not held yet; what is held counts as duplicate.
    let at = off;
    let dup = 0;
    for (let k = i; k < j && at < end; k++) {
      const s = this.#off(this.#start[k]);
      const e = this.#off(this.#end[k]);
      if (s > at) this.#write(at, data, from + at - off, Math.min(s, end) - at);
      const held = Math.min(e, end) - Math.max(s, at);
      if (held > 0) dup += held;
      if (e > at) at = e;
    }
    if (at < end) this.#write(at, data, from + at - off, end - at);
    this.lastDuplicate += dup;
    if (dup === len) return; // nothing new: the run table is unchanged
    const stamp = ++this.#clock;
    if (i === j) {
      this.#insertRun(i, (this.readSeq + off) >>> 0, (this.readSeq + end) >>> 0, stamp);
      return;
    }
    if (this.#off(this.#start[i]) > off) this.#start[i] = (this.readSeq + off) >>> 0;
    const lastEnd = this.#off(this.#end[j - 1]);
    this.#end[i] = (this.readSeq + Math.max(lastEnd, end)) >>> 0;
    this.#stamp[i] = stamp;
    this.#removeRuns(i + 1, j - i - 1);
  }

  /** Makes the ring hold at least `need` bytes from `readSeq` (doubling, at most `capacity`). */
  #grow(need: number): void {
    const old = this.#buf;
    let size = Math.max(4096, old.length);
    while (size < need) size *= 2;
    size = Math.max(need, Math.min(size, this.#capacity));
    const next = new Uint8Array(size);
    if (old.length > 0) {
      // Linearise from the head: offsets from readSeq stay what they were.
      const first = old.length - this.#head;
      copyBytes(next, 0, old, this.#head, first);
      copyBytes(next, first, old, 0, this.#head);
    }
    this.#buf = next;
    this.#head = 0;
  }

  /** Copies `n` bytes into the ring at offset `off` from `readSeq`. */
  #write(off: number, data: Uint8Array, from: number, n: number): void {
    const ring = this.#buf.length;
    const pos = (this.#head + off) % ring;
    const first = Math.min(n, ring - pos);
    copyBytes(this.#buf, pos, data, from, first);
    copyBytes(this.#buf, 0, data, from + first, n - first);
  }

  #insertRun(at: number, start: number, end: number, stamp: number): void {
    for (let k = this.#count; k > at; k--) {
      this.#start[k] = this.#start[k - 1];
      this.#end[k] = this.#end[k - 1];
      this.#stamp[k] = this.#stamp[k - 1];
    }
    this.#start[at] = start;
    this.#end[at] = end;
    this.#stamp[at] = stamp;
    this.#count++;
  }

  #removeRuns(at: number, n: number): void {
    if (n <= 0) return;
    for (let k = at; k + n < this.#count; k++) {
      this.#start[k] = this.#start[k + n];
      this.#end[k] = this.#end[k + n];
      this.#stamp[k] = this.#stamp[k + n];
    }
    this.#count -= n;
  }
}
