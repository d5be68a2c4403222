/**
 * One address type for both families, and the endpoint (address and port)
 * built on it: what routes for senders, the protocol table, sockets and ops
 * share.
 *
 * An {@linkcode IpAddr} is a small mutable holder, meant to be allocated once
 * (per socket, per cached route) and overwritten in place, so the data path
 * never allocates an address. An IPv4 address is kept as a number (`v4`) and
 * also in `bytes` as `::ffff:a.b.c.d`, so code that hashes or compares bytes
 * treats both families alike; an IPv6 address is its 16 bytes, with a `zone`
 * (interface index) when it is scoped.
 *
 * @example
 * ```ts
 * import { IpAddr } from "./inet_addr.ts";
 * const a = IpAddr.parse("192.0.2.7")!;
 * const b = new IpAddr();
 * b.setV4(0xc0000207);
 * console.log(a.equals(b), a.toString(), IpAddr.parse("2001:db8::1%3")!.zone); // true 192.0.2.7 3
 * ```
 * @module
 */

import { formatIp4, formatIp6, isLinkLocal6, parseIp4Strict, parseIp6 } from "./ip_addr.ts";

/** The two Internet families, by IP version. */
export type IpFamily = 4 | 6;

/** An IPv4 or IPv6 address, overwritten in place rather than reallocated. */
export class IpAddr {
  /** 4 or 6. */
  family: IpFamily = 4;
  /** The IPv4 address as an unsigned 32-bit number (0 for IPv6). */
  v4 = 0;
  readonly #bytes: Uint8Array = new Uint8Array(16);
  #bytesStale = false;

  /** 16 bytes: the IPv6 address, or `::ffff:` and the IPv4 address (the same array each time). */
  get bytes(): Uint8Array {
    const b = this.#bytes;
    if (this.#bytesStale) {
      const addr = this.v4;
      for (let i = 0; i < 10; i++) b[i] = 0;
      b[10] = b[11] = 0xff;
      b[12] = addr >>> 24;
      b[13] = (addr >>> 16) & 0xff;
      b[14] = (addr >>> 8) & 0xff;
      b[15] = addr & 0xff;
      this.#bytesStale = false;
    }
    return b;
  }
  /** Interface index of a scoped (link-local) IPv6 address; 0 when none. */
  zone = 0;

  /** Sets an IPv4 address. */
  setV4(addr: number): this {
    this.family = 4;
    this.v4 = addr >>> 0;
    this.zone = 0;
    // The mapped form is written when `bytes` is read: a sender's route lookup need not pay for it.
    this.#bytesStale = true;
    return this;
  }

  /** Sets an IPv6 address from 16 bytes at `at` (a packet's field, say). */
  setV6(src: Uint8Array, at = 0, zone = 0): this {
    this.family = 6;
    this.v4 = 0;
    this.#bytesStale = false;
    const b = this.#bytes;
    for (let i = 0; i < 16; i++) b[i] = src[at + i];
    this.zone = zone;
    return this;
  }

  /** Copies another address. */
  set(other: IpAddr): this {
    this.family = other.family;
    this.v4 = other.v4;
    this.#bytes.set(other.bytes);
    this.#bytesStale = false;
    this.zone = other.zone;
    return this;
  }

  /** Whether both hold the same family, address and zone. */
  equals(other: IpAddr): boolean {
    if (this.family !== other.family) return false;
    if (this.family === 4) return this.v4 === other.v4;
    if (this.zone !== other.zone) return false;
    const a = this.bytes, b = other.bytes;
    for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** `0.0.0.0` or `::`. */
  get isUnspecified(): boolean {
    if (this.family === 4) return this.v4 === 0;
    const b = this.bytes;
    for (let i = 0; i < 16; i++) if (b[i] !== 0) return false;
    return true;
  }

  /** Class D (224/4) or ff00::/8. */
  get isMulticast(): boolean {
    return this.family === 4 ? this.v4 >>> 28 === 0xe : this.bytes[0] === 0xff;
  }

  /** A 31-bit hash of the address (family included), for hashed tables. */
  hash(): number {
    if (this.family === 4) return (Math.imul(this.v4, 0x9e3779b1) >>> 1) ^ 4;
    const b = this.bytes;
    let h = 6;
    for (let i = 0; i < 16; i += 4) {
      h = Math.imul(h ^ ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]), 0x9e3779b1);
    }
    return (h >>> 1) ^ this.zone;
  }

  /** A copy. */
  clone(): IpAddr {
    return new IpAddr().set(this);
  }

  /** Text: dotted quad, or RFC 5952 IPv6 (without the zone). */
  toString(): string {
    return this.family === 4 ? formatIp4(this.v4) : formatIp6(this.bytes);
  }

  /**
   * Parses `a.b.c.d`, or an IPv6 address with an optional numeric `%zone`;
   * null when it is neither. (Zones by interface name are resolved by the
   * control plane, which knows the names.)
   */
  static parse(text: string): IpAddr | null {
    const v4 = parseIp4Strict(text);
    if (v4 !== null) return new IpAddr().setV4(v4);
    const pct = text.indexOf("%");
    const v6 = parseIp6(pct < 0 ? text : text.slice(0, pct));
    if (v6 === null) return null;
    let zone = 0;
    if (pct >= 0) {
      const z = text.slice(pct + 1);
      if (!/^\d+$/.test(z)) return null;
      zone = Number(z);
    }
    return new IpAddr().setV6(v6, 0, isLinkLocal6(v6) || v6[0] === 0xff ? zone : 0);
  }

  /** An IPv4 address. */
  static v4(addr: number): IpAddr {
    return new IpAddr().setV4(addr);
  }

  /** An IPv6 address (copied). */
  static v6(bytes: Uint8Array, zone = 0): IpAddr {
    return new IpAddr().setV6(bytes, 0, zone);
  }
}

/** An address and a transport port: one end of a flow. */
export class Endpoint {
  readonly addr: IpAddr = new IpAddr();
  port = 0;

  /** Copies another endpoint. */
  set(other: Endpoint): this {
    this.addr.set(other.addr);
    this.port = other.port;
    return this;
  }

  /** Whether address and port are equal. */
  equals(other: Endpoint): boolean {
    return this.port === other.port && this.addr.equals(other.addr);
  }

  /** `a.b.c.d:port` or `[v6]:port`, for logs and tools. */
  toString(): string {
    return this.addr.family === 4
      ? `${this.addr}:${this.port}`
      : `[${this.addr}${this.addr.zone ? `%${this.addr.zone}` : ""}]:${this.port}`;
  }
}
