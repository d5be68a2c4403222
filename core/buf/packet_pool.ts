/**
 * Packet buffers with headroom, from a pool (io-pkt's mbuf clusters).
 *
 * A packet is built back to front: the payload is written at `start`, then each
 * layer *prepends* its header into the headroom. Buffers are `mclbytes` long
 * (the `-p tcpip mclbytes=` option; larger packets get a one-off buffer), and
 * freed buffers are kept for reuse up to `pkt_cache` of them unless `cache=0`
 * turns caching off.
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
 * ```
 * @module
 */

/** Room kept before the payload for link + network + transport headers. */
export const HEADROOM = 128;

/** One packet under construction or in flight. */
export class PacketBuffer {
  /** The whole buffer. */
  readonly bytes: Uint8Array;
  /** First byte of the packet. */
  start = HEADROOM;
  /** One past the last byte. */
  end = HEADROOM;

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
    this.start += n;
  }

  /** The packet as a view (no copy). */
  view(): Uint8Array {
    return this.bytes.subarray(this.start, this.end);
  }
}

/** Pool settings, from the `-p tcpip` options. */
export interface PoolOptions {
  mclbytes: number;
  /** `cache=0` turns reuse off. */
  cache: boolean;
  /** `pkt_cache`: freed buffers kept for reuse. */
  pktCache: number;
}

/** Counters `netstat -m`-style. */
export interface PoolStats {
  allocs: number;
  reused: number;
  oversize: number;
  cached: number;
}

/** A pool of {@linkcode PacketBuffer}s. */
export class PacketPool {
  readonly #opts: PoolOptions;
  readonly #free: PacketBuffer[] = [];
  readonly stats: PoolStats = { allocs: 0, reused: 0, oversize: 0, cached: 0 };

  constructor(opts: PoolOptions) {
    this.#opts = opts;
  }

  /** A buffer with room for `payload` bytes after the headroom, `start = end` at the payload. */
  alloc(payload: number): PacketBuffer {
    this.stats.allocs++;
    const need = HEADROOM + payload;
    let pkt: PacketBuffer;
    if (need > this.#opts.mclbytes) {
      this.stats.oversize++;
      pkt = new PacketBuffer(need);
    } else if (this.#free.length > 0) {
      this.stats.reused++;
      pkt = this.#free.pop()!;
      this.stats.cached = this.#free.length;
    } else {
      pkt = new PacketBuffer(this.#opts.mclbytes);
    }
    pkt.start = HEADROOM;
    pkt.end = HEADROOM + payload;
    return pkt;
  }

  /** Returns a buffer; kept for reuse when caching is on and the cache has room. */
  free(pkt: PacketBuffer): void {
    if (!this.#opts.cache || pkt.bytes.length !== this.#opts.mclbytes) return;
    if (this.#free.length >= this.#opts.pktCache) return;
    this.#free.push(pkt);
    this.stats.cached = this.#free.length;
  }
}
