/**
 * Packet buffers with headroom, from a pool (io-pkt's mbuf clusters).
 *
 * A packet is built back to front: the payload is written at `start`, then each
 * layer *prepends* its header into the headroom ({@linkcode HEADROOM} bytes,
 * enough for the deepest header stack the stack emits).
 *
 * Two size classes, each with its own free list:
 * - normal: `mclbytes` long (the `-p tcpip mclbytes=` option); freed ones are
 *   kept for reuse up to `pkt_cache` of them;
 * - large: {@linkcode LARGE_BUFFER_BYTES} long, for anything that does not fit
 *   a cluster up to the largest IP datagram (lo0 at MTU 33192, 64 KiB UDP);
 *   kept up to `largeCache` of them.
 *
 * `cache=0` turns reuse off for both. Anything bigger still (none of the
 * stack's own packets) gets a one-off buffer.
 *
 * Ownership: a buffer belongs to its holder between `alloc` and `free`. A
 * second `free` is counted in `stats.doubleFrees` and ignored (it would
 * otherwise hand the same buffer to two owners). In checked mode (tests:
 * {@linkcode PacketPool.checkedByDefault}) a double free throws
 * {@linkcode PacketOwnershipError}, and a freed buffer is poisoned: its bytes
 * are filled with {@linkcode POISON_BYTE} and its `start`/`end` made invalid,
 * so `prepend`, `consume`, `view` and `bytes.set(…, start)` throw until it is
 * allocated again, and a write into a freed cached buffer is caught when the
 * buffer is handed out next. Production pays one flag test per `free`.
 *
 * @example
 * ```ts
 * import { PacketPool } from "./packet_pool.ts";
 * const pool = new PacketPool({ mclbytes: 2048, cache: true, pktCache: 64 });
 * const pkt = pool.alloc(100);
 * pkt.bytes.fill(1, pkt.start, pkt.end);      // 100 payload bytes
 * const ip = pkt.prepend(20);                    // offset of a 20-byte header
 * console.log(pkt.end - pkt.start, ip === pkt.start); // 120 true
 * pool.free(pkt);
 * console.log(pool.stats.outstanding); // 0
 * ```
 * @module
 */

/** Ethernet header (14) and one 802.1Q tag (4). */
const LINK_HEADER_MAX = 14 + 4;
/** IPv4 header with the most options (IHL 15). */
const IPV4_HEADER_MAX = 60;
/** IPv6 header (40) plus the extension headers we emit: hop-by-hop with router alert (8), fragment (8). */
const IPV6_HEADER_MAX = 40 + 8 + 8;
/** TCP header with the most options (data offset 15). */
const TCP_HEADER_MAX = 60;
/** Headroom is a multiple of this, so the payload starts aligned. */
const HEADROOM_ALIGN = 16;
/** The largest IP datagram without jumbograms: IPv6's header plus a 65535-byte payload. */
const IP_DATAGRAM_MAX = 40 + 0xffff;

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/**
 * Room kept before the payload for the deepest header stack we emit: link
 * (Ethernet + 802.1Q) + network (IPv4 with options, or IPv6 with hop-by-hop
 * and fragment headers) + TCP with options: 18 + 60 + 60 = 138, rounded up to 144.
 */
export const HEADROOM = roundUp(
  LINK_HEADER_MAX + Math.max(IPV4_HEADER_MAX, IPV6_HEADER_MAX) + TCP_HEADER_MAX,
  HEADROOM_ALIGN,
);

/** Size of a large-class buffer: the largest IP datagram after the headroom (65728). */
export const LARGE_BUFFER_BYTES = roundUp(HEADROOM + IP_DATAGRAM_MAX, HEADROOM_ALIGN);

/** Large buffers kept for reuse when the options do not say (16 × 64 KiB ≈ 1 MiB). */
export const LARGE_CACHE_DEFAULT = 16;

/** What a freed buffer is filled with in checked mode. */
export const POISON_BYTE = 0xdb;

/** `start` and `end` of a freed buffer in checked mode: negative, and `end < start`. */
const POISON_START = -1;
const POISON_END = -2;

/** A packet buffer used against its ownership: freed twice, or written after its free. */
export class PacketOwnershipError extends Error {
  override name = "PacketOwnershipError";
}

/** One packet under construction or in flight. */
export class PacketBuffer {
  /** The whole buffer. */
  readonly bytes: Uint8Array;
  /** First byte of the packet. */
  start = HEADROOM;
  /** One past the last byte. */
  end = HEADROOM;
  /** True between `alloc` and `free`; kept by the pool. */
  inUse = true;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  /** Length of the packet. */
  get length(): number {
    return this.end - this.start;
  }

  /** Makes room for `n` bytes of header in front; returns their offset. */
  prepend(n: number): number {
    if (n > this.start) throw new RangeError("Packet headroom exhausted");
    this.start -= n;
    return this.start;
  }

  /** Drops `n` bytes from the front (a consumed header). */
  consume(n: number): void {
    if (n > this.end - this.start) throw new RangeError("Consumed past the end of the packet");
    this.start += n;
  }

  /** The packet as a view (no copy). */
  view(): Uint8Array {
    if (this.end < this.start) throw new RangeError("Packet has no valid range (freed?)");
    // A pooled buffer carries packets of the same shape again and again (a stream of
    // equal-sized segments): the last view is kept and handed out while it still fits.
    const v = this.#view;
    if (
      v !== null && v.byteOffset === this.bytes.byteOffset + this.start && v.length === this.length
    ) {
      return v;
    }
    return this.#view = this.bytes.subarray(this.start, this.end);
  }

  #view: Uint8Array | null = null;
}

/** Pool settings, from the `-p tcpip` options. */
export interface PoolOptions {
  mclbytes: number;
  /** `cache=0` turns reuse off (both size classes). */
  cache: boolean;
  /** `pkt_cache`: freed normal (`mclbytes`) buffers kept for reuse. */
  pktCache: number;
  /** Freed large buffers kept for reuse; {@linkcode LARGE_CACHE_DEFAULT} when absent. */
  largeCache?: number;
  /** Ownership checks and poisoning; {@linkcode PacketPool.checkedByDefault} when absent. */
  checked?: boolean;
}

/** Counters `netstat -m`-style. */
export interface PoolStats {
  /** Every `alloc`. */
  allocs: number;
  /** Allocations served from the normal free list. */
  reused: number;
  /** Allocations larger than `mclbytes` (large class or one-off). */
  oversize: number;
  /** Normal buffers on the free list. */
  cached: number;
  /** Allocations served by the large class. */
  large: number;
  /** Large allocations served from the large free list. */
  largeReused: number;
  /** Large buffers on the free list. */
  largeCached: number;
  /** Every accepted `free`. */
  frees: number;
  /** Buffers allocated and not yet freed: 0 once every packet of an exchange is done. */
  outstanding: number;
  /** Frees of a buffer already free (ignored; they throw in checked mode). */
  doubleFrees: number;
}

/** A pool of {@linkcode PacketBuffer}s. */
export class PacketPool {
  /**
   * Whether pools made without an explicit `checked` option run checked. Off
   * in production; the test kit switches it on for every virtual network.
   */
  static checkedByDefault = false;

  readonly #mclbytes: number;
  readonly #cache: boolean;
  readonly #pktCache: number;
  readonly #largeCache: number;
  readonly #checked: boolean;
  readonly #free: PacketBuffer[] = objectList();
  readonly #largeFree: PacketBuffer[] = objectList();
  readonly stats: PoolStats = {
    allocs: 0,
    reused: 0,
    oversize: 0,
    cached: 0,
    large: 0,
    largeReused: 0,
    largeCached: 0,
    frees: 0,
    outstanding: 0,
    doubleFrees: 0,
  };

  constructor(opts: PoolOptions) {
    this.#mclbytes = opts.mclbytes;
    this.#cache = opts.cache;
    this.#pktCache = opts.pktCache;
    this.#largeCache = opts.largeCache ?? LARGE_CACHE_DEFAULT;
    this.#checked = opts.checked ?? PacketPool.checkedByDefault;
  }

  /** Whether this pool checks ownership and poisons freed buffers. */
  get checked(): boolean {
    return this.#checked;
  }

  /** A buffer with room for `payload` bytes after the headroom, `start = end` at the payload. */
  alloc(payload: number): PacketBuffer {
    const stats = this.stats;
    stats.allocs++;
    stats.outstanding++;
    const need = HEADROOM + payload;
    let pkt: PacketBuffer | undefined;
    if (need <= this.#mclbytes) {
      pkt = this.#free.pop();
      if (pkt === undefined) {
        pkt = new PacketBuffer(this.#mclbytes);
      } else {
        stats.reused++;
        stats.cached = this.#free.length;
      }
    } else {
      stats.oversize++;
      if (need <= LARGE_BUFFER_BYTES) {
        stats.large++;
        pkt = this.#largeFree.pop();
        if (pkt === undefined) {
          pkt = new PacketBuffer(LARGE_BUFFER_BYTES);
        } else {
          stats.largeReused++;
          stats.largeCached = this.#largeFree.length;
        }
      } else {
        pkt = new PacketBuffer(need);
      }
    }
    if (this.#checked && !pkt.inUse) checkPoisoned(pkt);
    pkt.inUse = true;
    pkt.start = HEADROOM;
    pkt.end = need;
    return pkt;
  }

  /** Returns a buffer; kept for reuse when caching is on and its class's cache has room. */
  free(pkt: PacketBuffer): void {
    if (!pkt.inUse) {
      this.stats.doubleFrees++;
      if (this.#checked) throw new PacketOwnershipError("PacketBuffer freed twice");
      return;
    }
    pkt.inUse = false;
    this.stats.frees++;
    this.stats.outstanding--;
    if (this.#checked) {
      pkt.bytes.fill(POISON_BYTE);
      pkt.start = POISON_START;
      pkt.end = POISON_END;
    }
    if (!this.#cache) return;
    const size = pkt.bytes.length;
    if (size === this.#mclbytes) {
      if (this.#free.length >= this.#pktCache) return;
      this.#free.push(pkt);
      this.stats.cached = this.#free.length;
    } else if (size === LARGE_BUFFER_BYTES) {
      if (this.#largeFree.length >= this.#largeCache) return;
      this.#largeFree.push(pkt);
      this.stats.largeCached = this.#largeFree.length;
    }
  }
}

/** A cached buffer must come back as it was poisoned: anything else was written after its free. */
function checkPoisoned(pkt: PacketBuffer): void {
  const bytes = pkt.bytes;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== POISON_BYTE) {
      throw new PacketOwnershipError(`PacketBuffer written after free (byte ${i})`);
    }
  }
}

/**
 * An empty array whose elements kind is already "objects": a plain `[]`
 * starts as small integers, and its first push of a buffer would throw away
 * code V8 optimised on other pools' lists (seen as a deoptimisation per new
 * stack).
 */
function objectList(): PacketBuffer[] {
  const list: PacketBuffer[] = [null as unknown as PacketBuffer];
  list.pop();
  return list;
}
