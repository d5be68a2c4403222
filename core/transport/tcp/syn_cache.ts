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
 * Costs: a lookup hashes the tuple once and walks one bucket, allocating
 * nothing; entries are recycled through a free list, so after warm-up an
 * `add` allocates nothing either; timers are one FIFO list per retransmission
 * step (all entries of one step share the interval, so each list is already
 * in deadline order), so arming, cancelling and finding the next deadline are
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

/** NetBSD's hash size, `TCP_SYN_HASH_SIZE`. */
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

// Which link of an entry a chain uses.
const BUCKET = 0, AGE = 1, TIMER = 2;

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
  /** The keyed hash of the tuple. */
  hash = 0;
  /** Internal: the chains' links (bucket, age, timer). */
  readonly prev: (SynCacheEntry<L> | null)[] = [null, null, null];
  /** Internal: the chains' links (bucket, age, timer). */
  readonly next: (SynCacheEntry<L> | null)[] = [null, null, null];
  /** Internal: whether the entry is in the cache. */
  inCache = false;

  constructor(local: IpAddr, remote: IpAddr) {
    this.local = local;
    this.remote = remote;
  }

  /** Back to a blank entry (keeps the address holders). */
  reset(): void {
    this.listener = null;
    this.iss = this.irs = 0;
    this.peerMss = this.ourMss = 0;
    this.peerWscale = this.ourWscale = -1;
    this.sackPermitted =
      this.timestamp =
      this.ecnPermitted =
      this.unreachSeen =
        false;
    this.tsRecent = this.window = 0;
    this.rxtShift = this.rxtTotal = 0;
  }
}

/** A doubly linked list threaded through one of the entries' link pairs. */
class Chain<L> {
  head: SynCacheEntry<L> | null = null;
  tail: SynCacheEntry<L> | null = null;
  length = 0;

  append(e: SynCacheEntry<L>, k: number): void {
    e.prev[k] = this.tail;
    e.next[k] = null;
    if (this.tail) this.tail.next[k] = e;
    else this.head = e;
    this.tail = e;
    this.length++;
  }

  unlink(e: SynCacheEntry<L>, k: number): void {
    const p = e.prev[k], n = e.next[k];
    if (p) p.next[k] = n;
    else this.head = n;
    if (n) n.prev[k] = p;
    else this.tail = p;
    e.prev[k] = e.next[k] = null;
    this.length--;
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
  readonly #buckets: Chain<L>[];
  readonly #age = new Chain<L>();
  readonly #timers: Chain<L>[];
  readonly #free: SynCacheEntry<L>[] = [];
  readonly #rexmtMs: number;
  readonly #keepInitMs: number;
  #allocated = 0;

  constructor(options: SynCacheOptions) {
    this.limit = options.limit ?? SYN_CACHE_LIMIT;
    this.bucketLimit = options.bucketLimit ?? SYN_BUCKET_LIMIT;
    this.counters = options.counters ?? new SynCacheStats();
    this.#key = deriveKey(options.secret, KEY_PURPOSE.synCache);
    const n = options.buckets ?? SYN_CACHE_BUCKETS;
    if (!(n >= 1)) throw new RangeError(`a SYN cache needs at least one bucket, not ${n}`);
    this.#buckets = Array.from({ length: n }, () => new Chain<L>());
    this.#timers = Array.from({ length: SYN_CACHE_MAX_RXT_SHIFT + 1 }, () => new Chain<L>());
    this.#rexmtMs = options.rexmtMs ?? SYN_CACHE_REXMT_MS;
    this.#keepInitMs = options.keepInitMs ?? SYN_CACHE_KEEPINIT_MS;
  }

  /** Entries held. */
  get size(): number {
    return this.#age.length;
  }

  /** Whether the next {@linkcode add} must evict an entry to stay within `limit`. */
  get full(): boolean {
    return this.#age.length >= this.limit;
  }

  /** Entry objects ever created (they are recycled: this stays near the peak size). */
  get allocatedEntries(): number {
    return this.#allocated;
  }

  /**
   * Whether a new SYN should get a SYN cookie rather than an entry: the cache
   * is full and even its oldest entry is younger than the first SYN-ACK
   * retransmission, so evicting would cut off handshakes that still stand a
   * chance. (When the oldest entries are stale, evicting them, as NetBSD
   * does, costs nothing.) The engine asks only when cookies are enabled.
   */
  shouldUseCookies(now: number): boolean {
    const oldest = this.#age.head;
    return this.full && oldest !== null && now - oldest.addedAt < this.#rexmtMs;
  }

  /** The entry for a 4-tuple, or null. Allocates nothing. */
  lookup(
    local: IpAddr,
    localPort: number,
    remote: IpAddr,
    remotePort: number,
  ): SynCacheEntry<L> | null {
    const hash = this.#hash(local, localPort, remote, remotePort);
    for (let e = this.#buckets[hash % this.#buckets.length].head; e; e = e.next[BUCKET]) {
      if (e.hash !== hash) continue;
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
    const bucket = this.#buckets[hash % this.#buckets.length];
    if (bucket.length >= this.bucketLimit && bucket.head) {
      this.counters.sc_bucketoverflow++;
      this.#remove(bucket.head);
    }
    while (this.#age.length >= this.limit && this.#age.head) {
      this.counters.sc_overflowed++;
      this.#remove(this.#age.head);
    }
    const e = this.#free.pop() ?? this.#newEntry();
    e.reset();
    e.local.set(local);
    e.localPort = localPort;
    e.remote.set(remote);
    e.remotePort = remotePort;
    e.listener = listener;
    e.hash = hash;
    e.addedAt = now;
    e.deadline = now + this.#interval(0);
    e.inCache = true;
    bucket.append(e, BUCKET);
    this.#age.append(e, AGE);
    this.#timers[0].append(e, TIMER);
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
    for (let e = this.#age.head; e;) {
      const next = e.next[AGE];
      if (e.listener === listener) {
        this.#remove(e);
        e.listener = null; // a closed listener must not live on in the free list
        removed++;
      }
      e = next;
    }
    return removed;
  }

  /** Removes everything (uncounted). */
  clear(): void {
    for (let e = this.#age.head; e; e = this.#age.head) {
      this.#remove(e);
      e.listener = null;
    }
  }

  /** When {@linkcode expire} next has work (ms); `Infinity` when the cache is empty. */
  nextDeadline(): number {
    let next = Infinity;
    for (const chain of this.#timers) {
      if (chain.head && chain.head.deadline < next) next = chain.head.deadline;
    }
    return next;
  }

  /**
   * Runs the retransmission schedule up to `now`: each due entry either times
   * out (removed, `sc_timed_out`) or is re-armed one step further and handed
   * to `onRetransmit`, which sends its SYN-ACK again (`sc_retransmitted`).
   * `onRetransmit` may call back into the cache (to `drop` the entry, say).
   */
  expire(now: number, onRetransmit: (entry: SynCacheEntry<L>) => void): void {
    const timers = this.#timers;
    for (;;) {
      let due: SynCacheEntry<L> | null = null;
      for (let i = 0; i < timers.length; i++) {
        const h = timers[i].head;
        if (h && (due === null || h.deadline < due.deadline)) due = h;
      }
      if (due === null || due.deadline > now) return;
      const e = due;
      e.rxtTotal += this.#interval(e.rxtShift);
      if (e.rxtShift >= SYN_CACHE_MAX_RXT_SHIFT || e.rxtTotal >= this.#keepInitMs) {
        this.#remove(e);
        this.counters.sc_timed_out++;
        continue;
      }
      timers[e.rxtShift].unlink(e, TIMER);
      e.rxtShift++;
      // From the deadline, not from `now`, unless the caller came late: keeps each step's list in order.
      e.deadline = Math.max(e.deadline, now) + this.#interval(e.rxtShift);
      timers[e.rxtShift].append(e, TIMER);
      this.counters.sc_retransmitted++;
      onRetransmit(e);
    }
  }

  /** The retransmission interval after `shift` retransmissions (ms). */
  #interval(shift: number): number {
    return Math.min(Math.max(this.#rexmtMs * BACKOFF[shift], REXMT_MIN_MS), REXMT_MAX_MS);
  }

  #hash(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number): number {
    const n = packTuple(this.#words, local, localPort, remote, remotePort);
    return sipHash24Low32(this.#key, this.#words, n);
  }

  /** Unlinks an entry and recycles it; false when it was not in the cache. */
  #remove(e: SynCacheEntry<L>): boolean {
    if (!e.inCache) return false;
    this.#buckets[e.hash % this.#buckets.length].unlink(e, BUCKET);
    this.#age.unlink(e, AGE);
    this.#timers[e.rxtShift].unlink(e, TIMER);
    e.inCache = false; // the fields stay readable until the entry is reused
    this.#free.push(e);
    return true;
  }

  #newEntry(): SynCacheEntry<L> {
    this.#allocated++;
    return new SynCacheEntry<L>(new IpAddr(), new IpAddr());
  }
}
