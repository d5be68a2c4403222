/**
 * The SYN cache: NetBSD's compressed state for half-open connections (the
 * `syn_cache_*` functions of its tcp_input.c, later tcp_syncache.c). A SYN to
 * a listener creates a small entry here, not a connection; the entry answers
 * with a SYN-ACK, retransmits it on a fixed schedule, and turns into a real
 * connection only when the handshake's last ACK arrives. A SYN flood thus
 * costs a bounded table, not sockets.
 *
 * Behaviour follows NetBSD:
 * - a hash table keyed by the 4-tuple under a secret key (SipHash here), with
 *   a total limit (`net.inet.tcp.syn_cache_limit`) and a per-bucket limit
 *   (`net.inet.tcp.syn_bucket_limit`);
 * - a new entry for a full bucket evicts that bucket's oldest entry
 *   (`sc_bucketoverflow`); for a full cache, the oldest entry of the whole
 *   cache (`sc_overflowed`; NetBSD takes the oldest of the first non-empty
 *   bucket it finds and says it would rather take the oldest overall, which
 *   an age list makes cheap here);
 * - SYN-ACKs are retransmitted 3, 6, 12, 24 s apart (`TCPTV_SRTTDFLT` times
 *   the back-off table, clamped to 1-64 s) until the time spent reaches the
 *   connection-establishment limit (75 s, `tcp_keepinit`): four
 *   retransmissions, and the entry times out 93 s after the SYN;
 * - an RST whose sequence number is the client's ISN or the next one removes
 *   its entry (`sc_reset`); an ICMP unreachable quoting our SYN-ACK removes it
 *   only on the second such error after three retransmissions (`sc_unreach`);
 * - the last ACK must acknowledge our ISN + 1 and carry a sequence number in
 *   `(irs, irs + 1 + window]`, else the SYN-ACK is sent again.
 *
 * Every entry that enters (`sc_added`) leaves by exactly one way:
 * `sc_completed`, `sc_aborted`, `sc_dropped`, `sc_timed_out`, `sc_reset`,
 * `sc_unreach`, `sc_overflowed`, `sc_bucketoverflow`, or its listener
 * closing ({@linkcode SynCache.removeListener}, not counted, as in NetBSD).
 *
 * When even eviction would hurt (the cache is full of entries still waiting
 * for their first retransmission, so it turns over faster than a handshake
 * completes) {@linkcode SynCache.shouldUseCookies} says so, and the listener
 * answers with a SYN cookie instead (syn_cookie.ts), as Linux does with a full
 * SYN queue.
 *
 * Costs: a lookup hashes the tuple once (an `add` right after a missed
 * lookup of the same tuple reuses that hash) and walks one bucket, allocating
 * nothing. Entries live in numbered slots: the bucket, age and timer lists
 * and the tuple hashes are typed arrays indexed by slot, so a bucket walk
 * reads a few cache lines of numbers instead of an entry object per step
 * (with object links, a full cache of 10 000 held a flood to some 20 000
 * SYNs a second; with slots, about 40 times that). Entry objects are
 * recycled with their slots, so after warm-up `add` allocates nothing.
 * Timers are one FIFO list per retransmission step (all entries of one step
 * share the interval, so each list is already in deadline order), so arming,
 * cancelling and finding the next deadline are
 * O(1) (13 list heads). The caller owns the one timer: it asks
 * {@linkcode SynCache.nextDeadline} and calls {@linkcode SynCache.expire}.
 *
 * @example
 * ```ts
 * import { IpAddr } from "../../net/inet_addr.ts";
 * import { SynCache } from "./syn_cache.ts";
 * const cache = new SynCache<string>({ secret: new Uint8Array(16), limit: 100 });
 * const local = IpAddr.v4(0xc0000201), remote = IpAddr.v4(0xc6336407);
 * const e = cache.add(local, 80, remote, 40000, "listener on :80", 0);
 * e.iss = 1000; e.irs = 5000; // ... and the options; then send the SYN-ACK
 * console.log(cache.size, cache.nextDeadline()); // 1 3000
 * cache.expire(3000, (x) => console.log("resend SYN-ACK", x.iss)); // resend SYN-ACK 1000
 * ```
 * @module
 */

import { IpAddr } from "../../net/inet_addr.ts";
import { sipHash24Low32 } from "../../lib/siphash.ts";
import { deriveKey, KEY_PURPOSE, packTuple, TUPLE_WORDS_MAX } from "./isn.ts";
import { seqAdd, seqGt, seqLeq } from "./seq.ts";

/**
 * Hash buckets, NetBSD's `TCP_SYN_HASH_SIZE`: chains of 35 at the default
 * limit, which `syn_bucket_limit` (three times that) is scaled to. The chains
 * are typed arrays of slot numbers, so walking 35 costs little: a full cache
 * under a flood of new tuples took 0.75-1.0 million SYNs a second here, 0.9-1.6
 * million with 4096 buckets (bench/siphash_bench.ts), far beyond what a
 * network interface of this stack delivers.
 */
export const SYN_CACHE_BUCKETS = 293;
/** `net.inet.tcp.syn_cache_limit`'s default: 293 buckets of 35. */
export const SYN_CACHE_LIMIT = 293 * 35;
/** `net.inet.tcp.syn_bucket_limit`'s default: three times 35. */
export const SYN_BUCKET_LIMIT = 3 * 35;
/** The first SYN-ACK retransmission interval, `TCPTV_SRTTDFLT` (ms). */
export const SYN_CACHE_REXMT_MS = 3000;
/** Connection-establishment limit, `tcp_keepinit` (`TCPTV_KEEP_INIT`, ms). */
export const SYN_CACHE_KEEPINIT_MS = 75_000;
/** Most retransmissions, `TCP_MAXRXTSHIFT`. */
export const SYN_CACHE_MAX_RXT_SHIFT = 12;
/** `tcp_backoff[]`: multipliers of the retransmission interval by step. */
const BACKOFF = [1, 2, 4, 8, 16, 32, 64, 64, 64, 64, 64, 64, 64];
/** `TCPTV_MIN` and `TCPTV_REXMTMAX` (ms). */
const REXMT_MIN_MS = 1000, REXMT_MAX_MS = 64_000;

/** The `tcps_sc_*` counters the cache keeps; `TcpStats` (core/stats.ts) has them all. */
export interface SynCacheCounters {
  sc_added: number;
  sc_completed: number;
  sc_timed_out: number;
  sc_overflowed: number;
  sc_reset: number;
  sc_unreach: number;
  sc_bucketoverflow: number;
  sc_aborted: number;
  sc_dupesyn: number;
  sc_dropped: number;
  sc_collisions: number;
  sc_retransmitted: number;
}

/** Stand-alone SYN cache counters, for a cache not wired to a stack's `TcpStats`. */
export class SynCacheStats implements SynCacheCounters {
  sc_added = 0;
  sc_completed = 0;
  sc_timed_out = 0;
  sc_overflowed = 0;
  sc_reset = 0;
  sc_unreach = 0;
  sc_bucketoverflow = 0;
  sc_aborted = 0;
  sc_dupesyn = 0;
  sc_dropped = 0;
  sc_collisions = 0;
  sc_retransmitted = 0;
}

/**
 * One half-open connection. The cache fills the tuple and the listener; the
 * caller fills the rest from the SYN and its own settings before sending the
 * SYN-ACK. Entries are recycled: once removed from the cache an entry stays
 * readable only until the next {@linkcode SynCache.add}.
 */
export class SynCacheEntry<L> {
  /** Our address (the SYN's destination). */
  readonly local: IpAddr;
  /** Our port. */
  localPort = 0;
  /** The client's address. */
  readonly remote: IpAddr;
  /** The client's port. */
  remotePort = 0;
  /** The listener the SYN came to. */
  listener: L | null = null;
  /** Our initial sequence number (the SYN-ACK's). */
  iss = 0;
  /** The client's initial sequence number (the SYN's). */
  irs = 0;
  /** The MSS the client offered (its default when it sent none). */
  peerMss = 0;
  /** The MSS we offer in the SYN-ACK. */
  ourMss = 0;
  /** The client's window shift; -1 when it sent none (then no scaling either way). */
  peerWscale = -1;
  /** The window shift we offer; -1 when none. */
  ourWscale = -1;
  /** SACK agreed. */
  sackPermitted = false;
  /** Timestamps agreed. */
  timestamp = false;
  /** The client's last timestamp value (`ts_recent`), echoed in the SYN-ACK. */
  tsRecent = 0;
  /** The SYN asked for ECN (ECE and CWR set) and we allow it. */
  ecnPermitted = false;
  /** The receive window offered in the SYN-ACK (unscaled, as a SYN's window is). */
  window = 0;
  /** When the entry was added (ms). */
  addedAt = 0;
  /** SYN-ACK retransmissions so far. */
  rxtShift = 0;
  /** Time waited so far by the retransmission schedule (ms). */
  rxtTotal = 0;
  /** When the next retransmission is due (ms). */
  deadline = 0;
  /** An ICMP unreachable was seen for it already. */
  unreachSeen = false;
  /** Internal: the entry's slot in the cache's arrays (fixed for the object's life). */
  readonly slot: number;
  /** Internal: whether the entry is in the cache. */
  inCache = false;

  constructor(slot: number) {
    this.slot = slot;
    this.local = new IpAddr();
    this.remote = new IpAddr();
  }

  /** Back to a blank entry (keeps the address holders); the cache does this on reuse. */
  clear(): void {
    this.listener = null;
    this.iss = this.irs = 0;
    this.peerMss = this.ourMss = 0;
    this.peerWscale = this.ourWscale = -1;
    this.sackPermitted = false;
    this.timestamp = false;
    this.ecnPermitted = false;
    this.unreachSeen = false;
    this.tsRecent = this.window = 0;
    this.rxtShift = this.rxtTotal = 0;
  }
}

/**
 * Doubly linked lists of slot numbers, several lists sharing one pair of link
 * arrays (each slot is on at most one of them). Typed arrays rather than
 * object links: a bucket walk under a flood touches a few kilobytes of
 * numbers, not an entry object per step.
 */
class SlotLists {
  next: Int32Array;
  prev: Int32Array;
  readonly head: Int32Array;
  readonly tail: Int32Array;
  readonly length: Int32Array;

  constructor(lists: number, capacity: number) {
    this.head = new Int32Array(lists).fill(-1);
    this.tail = new Int32Array(lists).fill(-1);
    this.length = new Int32Array(lists);
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-1);
  }

  grow(capacity: number): void {
    const next = new Int32Array(capacity).fill(-1), prev = new Int32Array(capacity).fill(-1);
    next.set(this.next);
    prev.set(this.prev);
    this.next = next;
    this.prev = prev;
  }

  append(list: number, slot: number): void {
    const tail = this.tail[list];
    this.prev[slot] = tail;
    this.next[slot] = -1;
    if (tail >= 0) this.next[tail] = slot;
    else this.head[list] = slot;
    this.tail[list] = slot;
    this.length[list]++;
  }

  unlink(list: number, slot: number): void {
    const p = this.prev[slot], n = this.next[slot];
    if (p >= 0) this.next[p] = n;
    else this.head[list] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail[list] = p;
    this.next[slot] = this.prev[slot] = -1;
    this.length[list]--;
  }
}

/** Settings of a {@linkcode SynCache}. */
export interface SynCacheOptions {
  /** 16 random bytes keying the bucket hash (tests pass fixed ones). */
  secret: Uint8Array;
  /** Most entries in all (`net.inet.tcp.syn_cache_limit`). */
  limit?: number;
  /** Most entries per bucket (`net.inet.tcp.syn_bucket_limit`). */
  bucketLimit?: number;
  /** Hash buckets ({@linkcode SYN_CACHE_BUCKETS}). */
  buckets?: number;
  /** First retransmission interval (ms, {@linkcode SYN_CACHE_REXMT_MS}). */
  rexmtMs?: number;
  /** Give up after this much waiting (ms, {@linkcode SYN_CACHE_KEEPINIT_MS}). */
  keepInitMs?: number;
  /** Where to count (`stack.stats.tcp` fits); a fresh {@linkcode SynCacheStats} by default. */
  counters?: SynCacheCounters;
}

/** The SYN cache of a stack (one for all listeners, as in NetBSD). */
export class SynCache<L> {
  /** Most entries in all (a hot sysctl: lowering it evicts on the next add). */
  limit: number;
  /** Most entries per bucket (a hot sysctl). */
  bucketLimit: number;
  /** The `tcps_sc_*` counters. */
  readonly counters: SynCacheCounters;
  readonly #key: Uint32Array;
  readonly #words = new Uint32Array(TUPLE_WORDS_MAX);
  /** The last tuple hashed and its hash: `add` right after a missed `lookup` hashes nothing. */
  readonly #lastWords = new Uint32Array(TUPLE_WORDS_MAX);
  #lastCount = 0;
  #lastHash = 0;
  readonly #bucketCount: number;
  readonly #rexmtMs: number;
  readonly #keepInitMs: number;
  /** Entry objects by slot (created when a slot is first used). */
  readonly #entries: SynCacheEntry<L>[] = [];
  /** The tuple hash by slot, so a bucket walk reads no entry object. */
  #hashes: Uint32Array;
  /** Slots free for reuse (a stack), and slots ever used. */
  #free: Int32Array;
  #freeCount = 0;
  #used = 0;
  /** One list per bucket, oldest first. */
  readonly #buckets: SlotLists;
  /** All entries, oldest first (list 0). */
  readonly #age: SlotLists;
  /** One list per retransmission step, in deadline order. */
  readonly #timers: SlotLists;

  constructor(options: SynCacheOptions) {
    this.limit = options.limit ?? SYN_CACHE_LIMIT;
    this.bucketLimit = options.bucketLimit ?? SYN_BUCKET_LIMIT;
    this.counters = options.counters ?? new SynCacheStats();
    this.#key = deriveKey(options.secret, KEY_PURPOSE.synCache);
    const n = options.buckets ?? SYN_CACHE_BUCKETS;
    if (!(n >= 1)) throw new RangeError(`a SYN cache needs at least one bucket, not ${n}`);
    this.#bucketCount = n;
    this.#rexmtMs = options.rexmtMs ?? SYN_CACHE_REXMT_MS;
    this.#keepInitMs = options.keepInitMs ?? SYN_CACHE_KEEPINIT_MS;
    const capacity = 64;
    this.#hashes = new Uint32Array(capacity);
    this.#free = new Int32Array(capacity);
    this.#buckets = new SlotLists(n, capacity);
    this.#age = new SlotLists(1, capacity);
    this.#timers = new SlotLists(SYN_CACHE_MAX_RXT_SHIFT + 1, capacity);
  }

  /** Entries held. */
  get size(): number {
    return this.#age.length[0];
  }

  /** Whether the next {@linkcode add} must evict an entry to stay within `limit`. */
  get full(): boolean {
    return this.#age.length[0] >= this.limit;
  }

  /** Entry objects ever created (they are recycled: this stays at the peak size). */
  get allocatedEntries(): number {
    return this.#used;
  }

  /**
   * Whether a new SYN should get a SYN cookie rather than an entry: the cache
   * is full and even its oldest entry is younger than the first SYN-ACK
   * retransmission, so evicting would cut off handshakes that still stand a
   * chance. (When the oldest entries are stale, evicting them, as NetBSD
   * does, costs nothing.) The engine asks only when cookies are enabled.
   */
  shouldUseCookies(now: number): boolean {
    const oldest = this.#age.head[0];
    return this.full && oldest >= 0 && now - this.#entries[oldest].addedAt < this.#rexmtMs;
  }

  /** The entry for a 4-tuple, or null. Allocates nothing. */
  lookup(
    local: IpAddr,
    localPort: number,
    remote: IpAddr,
    remotePort: number,
  ): SynCacheEntry<L> | null {
    const hash = this.#hash(local, localPort, remote, remotePort);
    const hashes = this.#hashes, next = this.#buckets.next;
    for (let s = this.#buckets.head[hash % this.#bucketCount]; s >= 0; s = next[s]) {
      if (hashes[s] !== hash) continue;
      const e = this.#entries[s];
      if (
        e.localPort === localPort && e.remotePort === remotePort && e.local.equals(local) &&
        e.remote.equals(remote)
      ) {
        return e;
      }
      this.counters.sc_collisions++;
    }
    return null;
  }

  /**
   * A new entry for a SYN (the caller found none with {@linkcode lookup}),
   * inserted and with its first retransmission armed `rexmtMs` after `now`.
   * Evicts to make room (counted). The caller fills iss, irs and the options,
   * then sends the SYN-ACK, or calls {@linkcode drop} when it cannot.
   */
  add(
    local: IpAddr,
    localPort: number,
    remote: IpAddr,
    remotePort: number,
    listener: L,
    now: number,
  ): SynCacheEntry<L> {
    const hash = this.#hash(local, localPort, remote, remotePort);
    const bucket = hash % this.#bucketCount;
    const buckets = this.#buckets;
    if (buckets.length[bucket] >= this.bucketLimit && buckets.head[bucket] >= 0) {
      this.counters.sc_bucketoverflow++;
      this.#remove(this.#entries[buckets.head[bucket]]);
    }
    while (this.#age.length[0] >= this.limit && this.#age.head[0] >= 0) {
      this.counters.sc_overflowed++;
      this.#remove(this.#entries[this.#age.head[0]]);
    }
    const e = this.#takeEntry();
    e.clear();
    copyAddr(e.local, local);
    e.localPort = localPort;
    copyAddr(e.remote, remote);
    e.remotePort = remotePort;
    e.listener = listener;
    e.addedAt = now;
    e.deadline = now + this.#interval(0);
    e.inCache = true;
    this.#hashes[e.slot] = hash;
    buckets.append(bucket, e.slot);
    this.#age.append(0, e.slot);
    this.#timers.append(0, e.slot);
    this.counters.sc_added++;
    return e;
  }

  /**
   * Counts a repeated SYN for an existing entry (`sc_dupesyn`); the caller
   * updates `tsRecent` and sends the SYN-ACK again (not a retransmission: the
   * schedule is unchanged, as in NetBSD).
   */
  duplicateSyn(_entry: SynCacheEntry<L>): void {
    this.counters.sc_dupesyn++;
  }

  /**
   * Whether the handshake's last ACK fits the entry: it acknowledges our ISN
   * + 1 and its sequence number lies in `(irs, irs + 1 + window]`. When not,
   * the caller drops the segment and sends the SYN-ACK again (NetBSD's
   * `syn_cache_get`).
   */
  ackAcceptable(entry: SynCacheEntry<L>, seq: number, ack: number): boolean {
    return ack === seqAdd(entry.iss, 1) && seqGt(seq, entry.irs) &&
      seqLeq(seq, seqAdd(entry.irs, 1 + entry.window));
  }

  /** Removes an entry whose handshake completed into a connection (`sc_completed`). */
  complete(entry: SynCacheEntry<L>): void {
    if (this.#remove(entry)) this.counters.sc_completed++;
  }

  /**
   * Removes an entry whose handshake completed but whose connection could not
   * be made (accept queue full, no memory): `sc_aborted`; the caller answers
   * the ACK with an RST.
   */
  abort(entry: SynCacheEntry<L>): void {
    if (this.#remove(entry)) this.counters.sc_aborted++;
  }

  /** Removes a fresh entry whose SYN-ACK could not be sent (`sc_dropped`). */
  drop(entry: SynCacheEntry<L>): void {
    if (this.#remove(entry)) this.counters.sc_dropped++;
  }

  /**
   * An RST for the entry's tuple: removes the entry when `seq` is the
   * client's ISN or the next number (`sc_reset`). Whether it was removed.
   */
  reset(entry: SynCacheEntry<L>, seq: number): boolean {
    if (!entry.inCache || !(seq === entry.irs || seq === seqAdd(entry.irs, 1))) return false;
    this.#remove(entry);
    this.counters.sc_reset++;
    return true;
  }

  /**
   * An ICMP unreachable quoting a segment of ours with sequence number `seq`
   * to the entry's client. Bogus unless `seq` is our ISN; otherwise the first
   * error only marks the entry, and a later one removes it once three
   * SYN-ACK retransmissions have gone unanswered (`sc_unreach`), so a brief
   * outage does not kill the handshake. Whether it was removed.
   */
  unreach(entry: SynCacheEntry<L>, seq: number): boolean {
    if (!entry.inCache || seq !== entry.iss) return false;
    if (!entry.unreachSeen || entry.rxtShift < 3) {
      entry.unreachSeen = true;
      return false;
    }
    this.#remove(entry);
    this.counters.sc_unreach++;
    return true;
  }

  /** Removes every entry of a listener that closed (uncounted); how many. */
  removeListener(listener: L): number {
    let removed = 0;
    const next = this.#age.next;
    for (let s = this.#age.head[0]; s >= 0;) {
      const e = this.#entries[s];
      s = next[s];
      if (e.listener === listener) {
        this.#remove(e);
        e.listener = null; // a closed listener must not live on in a free entry
        removed++;
      }
    }
    return removed;
  }

  /** Removes everything (uncounted). */
  clear(): void {
    for (let s = this.#age.head[0]; s >= 0; s = this.#age.head[0]) {
      const e = this.#entries[s];
      this.#remove(e);
      e.listener = null;
    }
  }

  /** When {@linkcode expire} next has work (ms); `Infinity` when the cache is empty. */
  nextDeadline(): number {
    const due = this.#earliest();
    return due < 0 ? Infinity : this.#entries[due].deadline;
  }

  /**
   * Runs the retransmission schedule up to `now`: each due entry either times
   * out (removed, `sc_timed_out`) or is re-armed one step further and handed
   * to `onRetransmit`, which sends its SYN-ACK again (`sc_retransmitted`).
   * `onRetransmit` may call back into the cache (to `drop` the entry, say).
   */
  expire(now: number, onRetransmit: (entry: SynCacheEntry<L>) => void): void {
    for (;;) {
      const due = this.#earliest();
      if (due < 0) return;
      const e = this.#entries[due];
      if (e.deadline > now) return;
      e.rxtTotal += this.#interval(e.rxtShift);
      if (e.rxtShift >= SYN_CACHE_MAX_RXT_SHIFT || e.rxtTotal >= this.#keepInitMs) {
        this.#remove(e);
        this.counters.sc_timed_out++;
        continue;
      }
      this.#timers.unlink(e.rxtShift, e.slot);
      e.rxtShift++;
      // From the deadline, not from `now`, unless the caller came late: keeps each step's list in order.
      e.deadline = Math.max(e.deadline, now) + this.#interval(e.rxtShift);
      this.#timers.append(e.rxtShift, e.slot);
      this.counters.sc_retransmitted++;
      onRetransmit(e);
    }
  }

  /** The slot whose retransmission is due first (the earliest of the step lists' heads), or -1. */
  #earliest(): number {
    const head = this.#timers.head, entries = this.#entries;
    let best = -1, bestAt = Infinity;
    for (let i = 0; i <= SYN_CACHE_MAX_RXT_SHIFT; i++) {
      const s = head[i];
      if (s >= 0 && entries[s].deadline < bestAt) {
        best = s;
        bestAt = entries[s].deadline;
      }
    }
    return best;
  }

  /** The retransmission interval after `shift` retransmissions (ms). */
  #interval(shift: number): number {
    return Math.min(Math.max(this.#rexmtMs * BACKOFF[shift], REXMT_MIN_MS), REXMT_MAX_MS);
  }

  #hash(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number): number {
    const w = this.#words, last = this.#lastWords;
    const n = packTuple(w, local, localPort, remote, remotePort);
    let same = n === this.#lastCount;
    for (let i = 0; same && i < n; i++) same = w[i] === last[i];
    if (same) return this.#lastHash;
    last.set(w);
    this.#lastCount = n;
    return this.#lastHash = sipHash24Low32(this.#key, w, n);
  }

  /** A free entry: a recycled one, else a new one in a new slot. */
  #takeEntry(): SynCacheEntry<L> {
    if (this.#freeCount > 0) return this.#entries[this.#free[--this.#freeCount]];
    const slot = this.#used++;
    if (slot >= this.#hashes.length) this.#grow(this.#hashes.length * 2);
    const e = new SynCacheEntry<L>(slot);
    this.#entries.push(e);
    return e;
  }

  #grow(capacity: number): void {
    const hashes = new Uint32Array(capacity);
    hashes.set(this.#hashes);
    this.#hashes = hashes;
    const free = new Int32Array(capacity);
    free.set(this.#free);
    this.#free = free;
    this.#buckets.grow(capacity);
    this.#age.grow(capacity);
    this.#timers.grow(capacity);
  }

  /** Unlinks an entry and frees its slot; false when it was not in the cache. */
  #remove(e: SynCacheEntry<L>): boolean {
    if (!e.inCache) return false;
    const slot = e.slot;
    this.#buckets.unlink(this.#hashes[slot] % this.#bucketCount, slot);
    this.#age.unlink(0, slot);
    this.#timers.unlink(e.rxtShift, slot);
    e.inCache = false; // the fields stay readable until the entry is reused
    this.#free[this.#freeCount++] = slot;
    return true;
  }
}

/** `dst.set(src)`, but an IPv4 address without touching its 16-byte form (a flood's common case). */
function copyAddr(dst: IpAddr, src: IpAddr): void {
  if (src.family === 4) dst.setV4(src.v4);
  else dst.set(src);
}
