/**
 * IPv4 headers (RFC 791), in the shape of `ethernet.ts`: a reusable view whose
 * `wrap` checks once, accessors in place, and an `emit` that writes into a
 * buffer the caller sized.
 *
 * `wrap` refuses a header for the reasons NetBSD's `ip_input` counts
 * separately (see `Ipv4Error`). The header checksum is not verified by `wrap`:
 * `checksumOk()` does that when the stack decides to (`do_loopback_cksum`).
 * Bytes after `totalLength` (Ethernet padding) are legal and ignored: use
 * `totalLength` / `payloadLength`, never the length given to `wrap`.
 *
 * @example Forward a packet: check it, then decrement its TTL in place
 * ```ts
 * import { emitIpv4Header, IPPROTO, Ipv4View } from "./ipv4.ts";
 * const pkt = new Uint8Array(60); // a 28-byte datagram padded to a minimum frame
 * emitIpv4Header(pkt, 0, {
 *   tos: 0, totalLength: 28, id: 1, df: true, mf: false, fragOffset: 0,
 *   ttl: 64, protocol: IPPROTO.UDP, src: 0xc0000201, dst: 0xc0000282,
 * });
 * const ip = new Ipv4View();
 * console.log(ip.wrap(pkt, 0, pkt.length), ip.checksumOk()); // null true
 * ip.setTtl(ip.ttl - 1);
 * console.log(ip.ttl, ip.checksumOk(), ip.payloadLength); // 63 true 8
 * ```
 * @module
 */

import { checksum, updateChecksum } from "./checksum.ts";
import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";

/** IP protocol numbers (IANA); others pass through as numbers. */
export const IPPROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  IGMP: 2,
  IPV4: 4,
  TCP: 6,
  EGP: 8,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  RSVP: 46,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  ETHERIP: 97,
  ENCAP: 98,
  PIM: 103,
  IPCOMP: 108,
  VRRP: 112,
  SCTP: 132,
  RAW: 255,
} as const;

/** Printable names of IP protocols (IANA keywords, as tcpdump prints them). */
export const IPPROTO_NAME: Readonly<Record<number, string>> = {
  [IPPROTO.HOPOPTS]: "HOPOPT",
  [IPPROTO.ICMP]: "ICMP",
  [IPPROTO.IGMP]: "IGMP",
  [IPPROTO.IPV4]: "IPv4",
  [IPPROTO.TCP]: "TCP",
  [IPPROTO.EGP]: "EGP",
  [IPPROTO.UDP]: "UDP",
  [IPPROTO.IPV6]: "IPv6",
  [IPPROTO.ROUTING]: "IPv6-Route",
  [IPPROTO.FRAGMENT]: "IPv6-Frag",
  [IPPROTO.RSVP]: "RSVP",
  [IPPROTO.GRE]: "GRE",
  [IPPROTO.ESP]: "ESP",
  [IPPROTO.AH]: "AH",
  [IPPROTO.ICMPV6]: "ICMPv6",
  [IPPROTO.NONE]: "IPv6-NoNxt",
  [IPPROTO.DSTOPTS]: "IPv6-Opts",
  [IPPROTO.ETHERIP]: "ETHERIP",
  [IPPROTO.ENCAP]: "ENCAP",
  [IPPROTO.PIM]: "PIM",
  [IPPROTO.IPCOMP]: "IPComp",
  [IPPROTO.VRRP]: "VRRP",
  [IPPROTO.SCTP]: "SCTP",
  [IPPROTO.RAW]: "RAW",
};

/** IPv4 option types (RFC 791 and successors); others pass through as numbers. */
export const IPOPT = {
  EOL: 0,
  NOP: 1,
  RR: 7,
  TS: 68,
  SECURITY: 130,
  LSRR: 131,
  SATID: 136,
  SSRR: 137,
  RA: 148,
} as const;

/** Printable names of IPv4 options. */
export const IPOPT_NAME: Readonly<Record<number, string>> = {
  [IPOPT.EOL]: "EOL",
  [IPOPT.NOP]: "NOP",
  [IPOPT.RR]: "RR",
  [IPOPT.TS]: "TS",
  [IPOPT.SECURITY]: "SEC",
  [IPOPT.LSRR]: "LSRR",
  [IPOPT.SATID]: "SATID",
  [IPOPT.SSRR]: "SSRR",
  [IPOPT.RA]: "RA",
};

/** Header length without options. */
export const IPV4_HEADER_LEN = 20;
/** Largest header (IHL 15). */
export const IPV4_MAX_HEADER_LEN = 60;
/** Largest datagram. */
export const IPV4_MAX_PACKET = 65535;
/** The reserved flag bit in the flags/fragment word. */
export const IP_RF = 0x8000;
/** Don't fragment, in the flags/fragment word. */
export const IP_DF = 0x4000;
/** More fragments, in the flags/fragment word. */
export const IP_MF = 0x2000;
/** The fragment offset (in 8-byte units) in the flags/fragment word. */
export const IP_OFFMASK = 0x1fff;

const F = Object.freeze({
  VHL: 0,
  TOS: 1,
  LEN: 2,
  ID: 4,
  OFF: 6,
  TTL: 8,
  PROTO: 9,
  SUM: 10,
  SRC: 12,
  DST: 16,
  OPTIONS: 20,
});

/**
 * Why a header was refused, one reason per NetBSD `ipstat` counter:
 * - "toosmall": fewer than 20 bytes (`ips_toosmall`);
 * - "badvers": version is not 4 (`ips_badvers`);
 * - "badhlen": IHL below 5, or the header runs past the data (`ips_badhlen`);
 * - "badlen": total length below the header length (`ips_badlen`);
 * - "tooshort": total length beyond the data (`ips_tooshort`).
 */
export type Ipv4Error = "toosmall" | "badvers" | "badhlen" | "badlen" | "tooshort";

/** The fields of an option-less IPv4 header, for `emitIpv4Header`. */
export interface Ipv4Repr {
  /** Type of service byte (DSCP << 2 | ECN). */
  tos: number;
  /** Header plus payload, in bytes. */
  totalLength: number;
  /** Identification. */
  id: number;
  /** Don't fragment. */
  df: boolean;
  /** More fragments. */
  mf: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset: number;
  /** Time to live. */
  ttl: number;
  /** Protocol (`IPPROTO`). */
  protocol: number;
  /** Source address. */
  src: number;
  /** Destination address. */
  dst: number;
}

/** A reusable view over an IPv4 datagram. */
export class Ipv4View {
  #b: Uint8Array = new Uint8Array(0);
  #o = 0;
  #len = 0;

  /**
   * Re-targets the view; `null` on success, else why the datagram is refused.
   * `length` is what the link delivered; it may exceed `totalLength` (padding).
   */
  wrap(bytes: Uint8Array, offset: number, length: number): Ipv4Error | null {
    this.#b = bytes;
    this.#o = offset;
    this.#len = length;
    if (length < IPV4_HEADER_LEN) return "toosmall";
    if (this.version !== 4) return "badvers";
    const hlen = this.headerLen;
    if (hlen < IPV4_HEADER_LEN || hlen > length) return "badhlen";
    const total = this.totalLength;
    if (total < hlen) return "badlen";
    if (total > length) return "tooshort";
    return null;
  }

  /** The bytes this view looks at. */
  get bytes(): Uint8Array {
    return this.#b;
  }

  /** Offset of the datagram in `bytes`. */
  get offset(): number {
    return this.#o;
  }

  /** Length given to `wrap` (may include link padding; see `totalLength`). */
  get length(): number {
    return this.#len;
  }

  /** Version (4). */
  get version(): number {
    return this.#b[this.#o + F.VHL] >>> 4;
  }

  /** Internet header length in 32-bit words. */
  get ihl(): number {
    return this.#b[this.#o + F.VHL] & 0x0f;
  }

  /** Header length in bytes, options included. */
  get headerLen(): number {
    return (this.#b[this.#o + F.VHL] & 0x0f) << 2;
  }

  /** Type of service byte. */
  get tos(): number {
    return this.#b[this.#o + F.TOS];
  }

  /** Differentiated services code point (upper 6 bits of `tos`). */
  get dscp(): number {
    return this.#b[this.#o + F.TOS] >>> 2;
  }

  /** Explicit congestion notification (lower 2 bits of `tos`). */
  get ecn(): number {
    return this.#b[this.#o + F.TOS] & 3;
  }

  /** Total length of the datagram (the true packet length, without link padding). */
  get totalLength(): number {
    return readU16(this.#b, this.#o + F.LEN);
  }

  /** Identification. */
  get id(): number {
    return readU16(this.#b, this.#o + F.ID);
  }

  /** The three flag bits (reserved, DF, MF) as a number 0-7. */
  get flags(): number {
    return this.#b[this.#o + F.OFF] >>> 5;
  }

  /** Don't fragment. */
  get df(): boolean {
    return (this.#b[this.#o + F.OFF] & 0x40) !== 0;
  }

  /** More fragments. */
  get mf(): boolean {
    return (this.#b[this.#o + F.OFF] & 0x20) !== 0;
  }

  /** Fragment offset in bytes. */
  get fragOffset(): number {
    return (readU16(this.#b, this.#o + F.OFF) & IP_OFFMASK) << 3;
  }

  /** Whether this is a fragment (MF set or a non-zero offset). */
  get isFragment(): boolean {
    return (readU16(this.#b, this.#o + F.OFF) & (IP_MF | IP_OFFMASK)) !== 0;
  }

  /** Time to live. */
  get ttl(): number {
    return this.#b[this.#o + F.TTL];
  }

  /** Protocol (`IPPROTO`). */
  get protocol(): number {
    return this.#b[this.#o + F.PROTO];
  }

  /** Header checksum as stored. */
  get checksum(): number {
    return readU16(this.#b, this.#o + F.SUM);
  }

  /** Source address. */
  get src(): number {
    return readU32(this.#b, this.#o + F.SRC);
  }

  /** Destination address. */
  get dst(): number {
    return readU32(this.#b, this.#o + F.DST);
  }

  /** Offset of the options in `bytes`. */
  get optionsOffset(): number {
    return this.#o + F.OPTIONS;
  }

  /** Length of the options in bytes (0 to 40). */
  get optionsLength(): number {
    return this.headerLen - IPV4_HEADER_LEN;
  }

  /** Offset of the payload in `bytes`. */
  get payloadOffset(): number {
    return this.#o + this.headerLen;
  }

  /** Length of the payload: `totalLength - headerLen` (padding excluded). */
  get payloadLength(): number {
    return this.totalLength - this.headerLen;
  }

  /** Whether the header checksum is correct. */
  checksumOk(): boolean {
    return checksum(this.#b, this.#o, this.#o + this.headerLen) === 0;
  }

  /** Sets the TTL and updates the checksum incrementally (RFC 1624). */
  setTtl(ttl: number): void {
    const at = this.#o + F.TTL;
    const old = readU16(this.#b, at);
    this.#b[at] = ttl;
    const sumAt = this.#o + F.SUM;
    writeU16(this.#b, sumAt, updateChecksum(readU16(this.#b, sumAt), old, readU16(this.#b, at)));
  }

  /** Sets the type of service byte (checksum not updated). */
  setTos(tos: number): void {
    this.#b[this.#o + F.TOS] = tos;
  }

  /** Sets the total length (checksum not updated). */
  setTotalLength(length: number): void {
    writeU16(this.#b, this.#o + F.LEN, length);
  }

  /** Sets the identification (checksum not updated). */
  setId(id: number): void {
    writeU16(this.#b, this.#o + F.ID, id);
  }

  /** Sets DF, MF and the fragment offset in bytes (checksum not updated). */
  setFragment(df: boolean, mf: boolean, fragOffset: number): void {
    writeU16(
      this.#b,
      this.#o + F.OFF,
      (df ? IP_DF : 0) | (mf ? IP_MF : 0) | ((fragOffset >>> 3) & IP_OFFMASK),
    );
  }

  /** Sets the protocol (checksum not updated). */
  setProtocol(protocol: number): void {
    this.#b[this.#o + F.PROTO] = protocol;
  }

  /** Sets the source address (checksum not updated). */
  setSrc(addr: number): void {
    writeU32(this.#b, this.#o + F.SRC, addr);
  }

  /** Sets the destination address (checksum not updated). */
  setDst(addr: number): void {
    writeU32(this.#b, this.#o + F.DST, addr);
  }

  /** Stores a checksum value as is. */
  setChecksum(sum: number): void {
    writeU16(this.#b, this.#o + F.SUM, sum);
  }

  /** Computes the header checksum over the header (options included) and stores it. */
  fillChecksum(): void {
    const sumAt = this.#o + F.SUM;
    this.#b[sumAt] = 0;
    this.#b[sumAt + 1] = 0;
    writeU16(this.#b, sumAt, checksum(this.#b, this.#o, this.#o + this.headerLen));
  }
}

/**
 * The first structural fault in the option list of a wrapped datagram, as the
 * octet pointer a parameter problem (ICMP type 12 code 0) carries: the offset
 * from the start of the IP header of the offending byte. -1 when the list is
 * well formed. Checked, as NetBSD's `ip_dooptions` does before acting on an
 * option: EOL ends the list, NOP is one byte, every other option has a length
 * of at least 2 that stays within the header; RR, LSRR and SSRR have a length
 * of at least 3 and a pointer of at least 4; TS has a length of 4 to 40 and a
 * pointer of at least 5. Faults that depend on routing state or free room
 * (unreachable hops, a full timestamp, an unknown timestamp flag) are left to
 * the option processing.
 */
export function ipv4OptionsProblem(view: Ipv4View): number {
  const b = view.bytes;
  const ip = view.offset;
  const end = ip + view.headerLen;
  let at = view.optionsOffset;
  while (at < end) {
    const type = b[at];
    if (type === IPOPT.EOL) break;
    if (type === IPOPT.NOP) {
      at++;
      continue;
    }
    if (end - at < 2) return at + 1 - ip;
    const olen = b[at + 1];
    if (olen < 2 || olen > end - at) return at + 1 - ip;
    if (type === IPOPT.RR || type === IPOPT.LSRR || type === IPOPT.SSRR) {
      if (olen < 3) return at + 1 - ip;
      if (b[at + 2] < 4) return at + 2 - ip;
    } else if (type === IPOPT.TS) {
      if (olen < 4 || olen > 40) return at + 1 - ip;
      if (b[at + 2] < 5) return at + 2 - ip;
    }
    at += olen;
  }
  return -1;
}

/**
 * Whether the option list of a wrapped datagram is well formed; when not,
 * NetBSD counts `ips_badoptions` (and answers with a parameter problem
 * pointing at `ipv4OptionsProblem(view)`).
 */
export function ipv4OptionsOk(view: Ipv4View): boolean {
  return ipv4OptionsProblem(view) < 0;
}

/**
 * Walks the options of a wrapped datagram: the offset in `view.bytes` of the
 * first option whose type is `a` or `c`, or -1 when there is none before the
 * end, an EOL, or a malformed option.
 */
function scanOptions(view: Ipv4View, a: number, c: number): number {
  const b = view.bytes;
  const end = view.offset + view.headerLen;
  let at = view.optionsOffset;
  while (at < end) {
    const type = b[at];
    if (type === IPOPT.EOL) return -1;
    if (type === IPOPT.NOP) {
      if (type === a || type === c) return at;
      at++;
      continue;
    }
    if (end - at < 2) return -1;
    const olen = b[at + 1];
    if (olen < 2 || olen > end - at) return -1;
    if (type === a || type === c) return at;
    at += olen;
  }
  return -1;
}

/**
 * The offset in `view.bytes` of the first option of type `type` (its type
 * byte), or -1 when absent or when the list is malformed before it. EOL is
 * never reported.
 */
export function ipv4FindOption(view: Ipv4View, type: number): number {
  return scanOptions(view, type, type);
}

/** Whether a wrapped datagram carries a source-route option (LSRR or SSRR). */
export function ipv4HasSourceRoute(view: Ipv4View): boolean {
  return scanOptions(view, IPOPT.LSRR, IPOPT.SSRR) >= 0;
}

/** Whether an option of this type is copied into every fragment (RFC 791). */
export function ipv4OptionCopied(type: number): boolean {
  return (type & 0x80) !== 0;
}

/**
 * Writes an IPv4 header at `offset`, checksum included. `headerLen` above 20
 * (a multiple of 4, at most 60) says options follow the fixed part: the
 * caller writes them at `offset + 20` before this call, as the checksum
 * covers them.
 */
export function emitIpv4Header(
  bytes: Uint8Array,
  offset: number,
  ip: Ipv4Repr,
  headerLen = IPV4_HEADER_LEN,
): void {
  bytes[offset + F.VHL] = 0x40 | (headerLen >>> 2);
  bytes[offset + F.TOS] = ip.tos;
  writeU16(bytes, offset + F.LEN, ip.totalLength);
  writeU16(bytes, offset + F.ID, ip.id);
  writeU16(
    bytes,
    offset + F.OFF,
    (ip.df ? IP_DF : 0) | (ip.mf ? IP_MF : 0) | ((ip.fragOffset >>> 3) & IP_OFFMASK),
  );
  bytes[offset + F.TTL] = ip.ttl;
  bytes[offset + F.PROTO] = ip.protocol;
  bytes[offset + F.SUM] = 0;
  bytes[offset + F.SUM + 1] = 0;
  writeU32(bytes, offset + F.SRC, ip.src);
  writeU32(bytes, offset + F.DST, ip.dst);
  writeU16(bytes, offset + F.SUM, checksum(bytes, offset, offset + headerLen));
}
