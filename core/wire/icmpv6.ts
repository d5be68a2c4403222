/**
 * ICMPv6 (RFC 4443): the common header, types and codes, the checksum over the
 * IPv6 pseudo-header, and emitters for echo and error messages. Neighbour
 * Discovery and MLD bodies live in `ndp.ts`. Conventions as in `ethernet.ts`.
 *
 * @example Answer an echo request in place, then check it
 * ```ts
 * import { emitIcmp6Echo, ICMP6_TYPE, Icmp6View } from "./icmpv6.ts";
 * const src = new Uint8Array(16), dst = new Uint8Array(16);
 * src[15] = 1;
 * dst[15] = 2;
 * const msg = new Uint8Array(12);
 * msg.set([0x70, 0x69, 0x6e, 0x67], 8); // the data is already in place
 * const n = emitIcmp6Echo(msg, 0, ICMP6_TYPE.ECHO_REPLY, 0x1234, 1, 4, src, dst);
 * const icmp = new Icmp6View();
 * icmp.wrap(msg, 0, n);
 * console.log(icmp.id, icmp.seq, icmp.checksumOk(src, dst)); // 4660 1 true
 * ```
 * @module
 */

import { finishChecksum, pseudoSum6, sumWords } from "./checksum.ts";

/** The IPv6 Next Header value of ICMPv6. */
export const IPPROTO_ICMPV6 = 58;

/** ICMPv6 types this stack names; others pass through as numbers. */
export const ICMP6_TYPE = {
  DST_UNREACH: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAM_PROB: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  MLD_QUERY: 130,
  MLD_REPORT: 131,
  MLD_DONE: 132,
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
  REDIRECT: 137,
  MLDV2_REPORT: 143,
} as const;

/** Printable names of ICMPv6 types (1-137 as NetBSD `netstat -s` spells them). */
export const ICMP6_TYPE_NAME: Readonly<Record<number, string>> = {
  [ICMP6_TYPE.DST_UNREACH]: "unreach",
  [ICMP6_TYPE.PACKET_TOO_BIG]: "packet too big",
  [ICMP6_TYPE.TIME_EXCEEDED]: "time exceed",
  [ICMP6_TYPE.PARAM_PROB]: "parameter problem",
  [ICMP6_TYPE.ECHO_REQUEST]: "echo",
  [ICMP6_TYPE.ECHO_REPLY]: "echo reply",
  [ICMP6_TYPE.MLD_QUERY]: "multicast listener query",
  [ICMP6_TYPE.MLD_REPORT]: "multicast listener report",
  [ICMP6_TYPE.MLD_DONE]: "multicast listener done",
  [ICMP6_TYPE.ROUTER_SOLICIT]: "router solicitation",
  [ICMP6_TYPE.ROUTER_ADVERT]: "router advertisement",
  [ICMP6_TYPE.NEIGHBOR_SOLICIT]: "neighbor solicitation",
  [ICMP6_TYPE.NEIGHBOR_ADVERT]: "neighbor advertisement",
  [ICMP6_TYPE.REDIRECT]: "redirect",
  [ICMP6_TYPE.MLDV2_REPORT]: "MLDv2 listener report",
};

/** Destination Unreachable codes (RFC 4443 §3.1). */
export const ICMP6_UNREACH = {
  NOROUTE: 0,
  ADMIN: 1,
  BEYONDSCOPE: 2,
  ADDR: 3,
  NOPORT: 4,
  POLICY: 5,
  REJECT_ROUTE: 6,
} as const;

/** Printable names of Destination Unreachable codes. */
export const ICMP6_UNREACH_NAME: Readonly<Record<number, string>> = {
  [ICMP6_UNREACH.NOROUTE]: "no route to destination",
  [ICMP6_UNREACH.ADMIN]: "administratively prohibited",
  [ICMP6_UNREACH.BEYONDSCOPE]: "beyond scope of source address",
  [ICMP6_UNREACH.ADDR]: "address unreachable",
  [ICMP6_UNREACH.NOPORT]: "port unreachable",
  [ICMP6_UNREACH.POLICY]: "source address failed ingress/egress policy",
  [ICMP6_UNREACH.REJECT_ROUTE]: "reject route to destination",
};

/** Time Exceeded codes (RFC 4443 §3.3). */
export const ICMP6_TIME_EXCEED = { TRANSIT: 0, REASSEMBLY: 1 } as const;

/** Printable names of Time Exceeded codes. */
export const ICMP6_TIME_EXCEED_NAME: Readonly<Record<number, string>> = {
  [ICMP6_TIME_EXCEED.TRANSIT]: "hop limit exceeded in transit",
  [ICMP6_TIME_EXCEED.REASSEMBLY]: "fragment reassembly time exceeded",
};

/** Parameter Problem codes (RFC 4443 §3.4; 3 from RFC 7112). */
export const ICMP6_PARAMPROB = { HEADER: 0, NEXTHEADER: 1, OPTION: 2, FIRSTFRAG: 3 } as const;

/** Printable names of Parameter Problem codes. */
export const ICMP6_PARAMPROB_NAME: Readonly<Record<number, string>> = {
  [ICMP6_PARAMPROB.HEADER]: "erroneous header field",
  [ICMP6_PARAMPROB.NEXTHEADER]: "unrecognized next header",
  [ICMP6_PARAMPROB.OPTION]: "unrecognized option",
  [ICMP6_PARAMPROB.FIRSTFRAG]: "incomplete header chain",
};

/** Length of the ICMPv6 header (type, code, checksum, one 32-bit word). */
export const ICMP6_HEADER_LEN = 8;
/** Largest error message: it and a 40-byte IPv6 header fit the 1280-byte minimum MTU. */
export const ICMP6_ERROR_MAX_LEN = 1280 - 40;

const F = Object.freeze({ TYPE: 0, CODE: 1, CKSUM: 2, WORD: 4, ID: 4, SEQ: 6 });

/** Why a message was refused. */
export type Icmp6Error = "tooshort";

/** Whether a type is an error message (types below 128, RFC 4443 §2.1). */
export function isIcmp6Error(type: number): boolean {
  return type < 128;
}

/**
 * The value to store in the checksum field of the message at
 * `bytes[offset, offset + length)`, whatever the field holds now.
 */
export function icmp6Checksum(
  bytes: Uint8Array,
  offset: number,
  length: number,
  src: Uint8Array,
  dst: Uint8Array,
): number {
  let sum = pseudoSum6(src, dst, IPPROTO_ICMPV6, length);
  sum = sumWords(bytes, offset, offset + F.CKSUM, sum);
  sum = sumWords(bytes, offset + F.CKSUM + 2, offset + length, sum);
  return finishChecksum(sum);
}

/** Computes and stores the checksum of the message at `bytes[offset, offset + length)`. */
export function fillIcmp6Checksum(
  bytes: Uint8Array,
  offset: number,
  length: number,
  src: Uint8Array,
  dst: Uint8Array,
): void {
  const c = icmp6Checksum(bytes, offset, length, src, dst);
  bytes[offset + F.CKSUM] = c >> 8;
  bytes[offset + F.CKSUM + 1] = c & 0xff;
}

/** Whether the message at `bytes[offset, offset + length)` carries a correct checksum. */
export function icmp6ChecksumOk(
  bytes: Uint8Array,
  offset: number,
  length: number,
  src: Uint8Array,
  dst: Uint8Array,
): boolean {
  const sum = sumWords(
    bytes,
    offset,
    offset + length,
    pseudoSum6(src, dst, IPPROTO_ICMPV6, length),
  );
  return finishChecksum(sum) === 0;
}

/** A reusable view over an ICMPv6 message. */
export class Icmp6View {
  #b: Uint8Array = new Uint8Array(0);
  #o = 0;
  #len = 0;

  /** Re-targets the view; `null` on success, `"tooshort"` under 8 bytes. */
  wrap(bytes: Uint8Array, offset: number, length: number): Icmp6Error | null {
    this.#b = bytes;
    this.#o = offset;
    this.#len = length;
    return length < ICMP6_HEADER_LEN ? "tooshort" : null;
  }

  /** The bytes this view looks at. */
  get bytes(): Uint8Array {
    return this.#b;
  }

  /** Offset of the message in `bytes`. */
  get offset(): number {
    return this.#o;
  }

  /** Length of the message. */
  get length(): number {
    return this.#len;
  }

  /** Type. */
  get type(): number {
    return this.#b[this.#o + F.TYPE];
  }

  /** Code. */
  get code(): number {
    return this.#b[this.#o + F.CODE];
  }

  /** The checksum field. */
  get checksum(): number {
    return (this.#b[this.#o + F.CKSUM] << 8) | this.#b[this.#o + F.CKSUM + 1];
  }

  /** The 32-bit word after the checksum (unsigned). */
  get word(): number {
    const b = this.#b, o = this.#o + F.WORD;
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }

  /** The MTU of a Packet Too Big message. */
  get mtu(): number {
    return this.word;
  }

  /** The pointer of a Parameter Problem message. */
  get pointer(): number {
    return this.word;
  }

  /** Identifier of an echo message. */
  get id(): number {
    return (this.#b[this.#o + F.ID] << 8) | this.#b[this.#o + F.ID + 1];
  }

  /** Sequence number of an echo message. */
  get seq(): number {
    return (this.#b[this.#o + F.SEQ] << 8) | this.#b[this.#o + F.SEQ + 1];
  }

  /** Offset of the body after the 8-byte header (echo data, or the invoking packet). */
  get bodyOffset(): number {
    return this.#o + ICMP6_HEADER_LEN;
  }

  /** Length of the body. */
  get bodyLength(): number {
    return this.#len - ICMP6_HEADER_LEN;
  }

  /** Whether this is an error message. */
  get isError(): boolean {
    return isIcmp6Error(this.type);
  }

  /** Whether the checksum is correct for these IPv6 addresses. */
  checksumOk(src: Uint8Array, dst: Uint8Array): boolean {
    return icmp6ChecksumOk(this.#b, this.#o, this.#len, src, dst);
  }

  /** Sets the type. */
  setType(type: number): void {
    this.#b[this.#o + F.TYPE] = type;
  }

  /** Sets the code. */
  setCode(code: number): void {
    this.#b[this.#o + F.CODE] = code;
  }

  /** Sets the checksum field. */
  setChecksum(sum: number): void {
    this.#b[this.#o + F.CKSUM] = sum >> 8;
    this.#b[this.#o + F.CKSUM + 1] = sum & 0xff;
  }

  /** Computes and stores the checksum for these IPv6 addresses. */
  fillChecksum(src: Uint8Array, dst: Uint8Array): void {
    fillIcmp6Checksum(this.#b, this.#o, this.#len, src, dst);
  }
}

function putWord(bytes: Uint8Array, at: number, word: number): void {
  bytes[at] = (word >>> 24) & 0xff;
  bytes[at + 1] = (word >>> 16) & 0xff;
  bytes[at + 2] = (word >>> 8) & 0xff;
  bytes[at + 3] = word & 0xff;
}

/** Writes type, code and the 32-bit word, and zeroes the checksum; returns 8. */
export function emitIcmp6Header(
  bytes: Uint8Array,
  offset: number,
  type: number,
  code: number,
  word: number,
): number {
  bytes[offset + F.TYPE] = type;
  bytes[offset + F.CODE] = code;
  bytes[offset + F.CKSUM] = 0;
  bytes[offset + F.CKSUM + 1] = 0;
  putWord(bytes, offset + F.WORD, word);
  return ICMP6_HEADER_LEN;
}

/**
 * Writes an echo request or reply header whose `dataLength` bytes of data are
 * already in place after it (so a reply can reuse the request's buffer with
 * no copy), and fills the checksum. Returns the message length.
 */
export function emitIcmp6Echo(
  bytes: Uint8Array,
  offset: number,
  type: number,
  id: number,
  seq: number,
  dataLength: number,
  src: Uint8Array,
  dst: Uint8Array,
): number {
  const length = ICMP6_HEADER_LEN + dataLength;
  bytes[offset + F.TYPE] = type;
  bytes[offset + F.CODE] = 0;
  bytes[offset + F.ID] = id >> 8;
  bytes[offset + F.ID + 1] = id & 0xff;
  bytes[offset + F.SEQ] = seq >> 8;
  bytes[offset + F.SEQ + 1] = seq & 0xff;
  fillIcmp6Checksum(bytes, offset, length, src, dst);
  return length;
}

/**
 * Writes an error message (type < 128) quoting as much of the `invoking`
 * packet (from its IPv6 header on) as fits in `maxLength` bytes of ICMPv6
 * (default 1240, so that with a 40-byte IPv6 header it fits 1280; pass less
 * when extension headers go in front) and in `bytes`. `word` is the MTU, the
 * pointer, or 0. Fills the checksum; returns the message length.
 */
export function emitIcmp6Error(
  bytes: Uint8Array,
  offset: number,
  type: number,
  code: number,
  word: number,
  invoking: Uint8Array,
  src: Uint8Array,
  dst: Uint8Array,
  maxLength: number = ICMP6_ERROR_MAX_LEN,
): number {
  const room = Math.min(maxLength, bytes.length - offset) - ICMP6_HEADER_LEN;
  const quoted = Math.max(0, Math.min(invoking.length, room));
  bytes[offset + F.TYPE] = type;
  bytes[offset + F.CODE] = code;
  putWord(bytes, offset + F.WORD, word);
  bytes.set(invoking.subarray(0, quoted), offset + ICMP6_HEADER_LEN);
  const length = ICMP6_HEADER_LEN + quoted;
  fillIcmp6Checksum(bytes, offset, length, src, dst);
  return length;
}
