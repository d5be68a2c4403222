/**
 * ICMP for IPv4 (RFC 792), in the shape of `ethernet.ts`: a reusable view
 * whose `wrap` checks once, accessors in place, and emitters that write into a
 * buffer the caller sized and fill the checksum.
 *
 * The second header word means different things per type; the view names each
 * reading (`id`/`seq`, `nextHopMtu`, `pointer`, `gateway`) and `rest` gives
 * the raw word. Unknown types and codes pass through as numbers.
 *
 * @example Turn an echo request into its reply in place
 * ```ts
 * import { emitIcmpEcho, ICMP_TYPE, IcmpView } from "./icmp.ts";
 * const msg = new Uint8Array(8 + 4);
 * emitIcmpEcho(msg, 0, { type: ICMP_TYPE.ECHO, id: 7, seq: 1 }, new Uint8Array([1, 2, 3, 4]));
 * const icmp = new IcmpView();
 * console.log(icmp.wrap(msg, 0, msg.length), icmp.checksumOk()); // null true
 * icmp.setType(ICMP_TYPE.ECHOREPLY);
 * icmp.fillChecksum();
 * console.log(icmp.type, icmp.id, icmp.seq, icmp.checksumOk()); // 0 7 1 true
 * ```
 * @module
 */

import { checksum } from "./checksum.ts";
import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";

/** ICMP message types; others pass through as numbers. */
export const ICMP_TYPE = {
  ECHOREPLY: 0,
  UNREACH: 3,
  SOURCEQUENCH: 4,
  REDIRECT: 5,
  ALTHOSTADDR: 6,
  ECHO: 8,
  ROUTERADVERT: 9,
  ROUTERSOLICIT: 10,
  TIMXCEED: 11,
  PARAMPROB: 12,
  TSTAMP: 13,
  TSTAMPREPLY: 14,
  IREQ: 15,
  IREQREPLY: 16,
  MASKREQ: 17,
  MASKREPLY: 18,
} as const;

/** Printable names of ICMP types (the words NetBSD's `netstat -s` prints in its histograms). */
export const ICMP_TYPE_NAME: Readonly<Record<number, string>> = {
  [ICMP_TYPE.ECHOREPLY]: "echo reply",
  [ICMP_TYPE.UNREACH]: "destination unreachable",
  [ICMP_TYPE.SOURCEQUENCH]: "source quench",
  [ICMP_TYPE.REDIRECT]: "routing redirect",
  [ICMP_TYPE.ALTHOSTADDR]: "alternate host address",
  [ICMP_TYPE.ECHO]: "echo",
  [ICMP_TYPE.ROUTERADVERT]: "router advertisement",
  [ICMP_TYPE.ROUTERSOLICIT]: "router solicitation",
  [ICMP_TYPE.TIMXCEED]: "time exceeded",
  [ICMP_TYPE.PARAMPROB]: "parameter problem",
  [ICMP_TYPE.TSTAMP]: "time stamp",
  [ICMP_TYPE.TSTAMPREPLY]: "time stamp reply",
  [ICMP_TYPE.IREQ]: "information request",
  [ICMP_TYPE.IREQREPLY]: "information request reply",
  [ICMP_TYPE.MASKREQ]: "address mask request",
  [ICMP_TYPE.MASKREPLY]: "address mask reply",
};

/** Codes of destination unreachable (type 3; RFC 792, 1122, 1812). */
export const ICMP_UNREACH = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  NEEDFRAG: 4,
  SRCFAIL: 5,
  NET_UNKNOWN: 6,
  HOST_UNKNOWN: 7,
  ISOLATED: 8,
  NET_PROHIB: 9,
  HOST_PROHIB: 10,
  TOSNET: 11,
  TOSHOST: 12,
  FILTER_PROHIB: 13,
  HOST_PRECEDENCE: 14,
  PRECEDENCE_CUTOFF: 15,
} as const;

/** Printable names of destination-unreachable codes. */
export const ICMP_UNREACH_NAME: Readonly<Record<number, string>> = {
  [ICMP_UNREACH.NET]: "net unreachable",
  [ICMP_UNREACH.HOST]: "host unreachable",
  [ICMP_UNREACH.PROTOCOL]: "protocol unreachable",
  [ICMP_UNREACH.PORT]: "port unreachable",
  [ICMP_UNREACH.NEEDFRAG]: "need to frag",
  [ICMP_UNREACH.SRCFAIL]: "source route failed",
  [ICMP_UNREACH.NET_UNKNOWN]: "net unknown",
  [ICMP_UNREACH.HOST_UNKNOWN]: "host unknown",
  [ICMP_UNREACH.ISOLATED]: "source host isolated",
  [ICMP_UNREACH.NET_PROHIB]: "net prohibited",
  [ICMP_UNREACH.HOST_PROHIB]: "host prohibited",
  [ICMP_UNREACH.TOSNET]: "tos net unreachable",
  [ICMP_UNREACH.TOSHOST]: "tos host unreachable",
  [ICMP_UNREACH.FILTER_PROHIB]: "filter prohibited",
  [ICMP_UNREACH.HOST_PRECEDENCE]: "host precedence violation",
  [ICMP_UNREACH.PRECEDENCE_CUTOFF]: "precedence cutoff",
};

/** Codes of redirect (type 5). */
export const ICMP_REDIRECT = { NET: 0, HOST: 1, TOSNET: 2, TOSHOST: 3 } as const;

/** Codes of time exceeded (type 11). */
export const ICMP_TIMXCEED = { INTRANS: 0, REASS: 1 } as const;

/** Codes of parameter problem (type 12). */
export const ICMP_PARAMPROB = { ERRATPTR: 0, OPTABSENT: 1, LENGTH: 2 } as const;

/** Smallest ICMP message: the 8-byte header. */
export const ICMP_MINLEN = 8;
/** Smallest error message: header, a quoted 20-byte IP header and 8 bytes of its data. */
export const ICMP_ADVLENMIN = 36;
/** Length of a timestamp request or reply. */
export const ICMP_TSLEN = 20;
/** Length of an address mask request or reply. */
export const ICMP_MASKLEN = 12;

const F = Object.freeze({
  TYPE: 0,
  CODE: 1,
  SUM: 2,
  REST: 4,
  ID: 4,
  SEQ: 6,
  POINTER: 4,
  MTU: 6,
  DATA: 8,
});

/** Why an ICMP message was refused (NetBSD `icps_tooshort`). */
export type IcmpError = "tooshort";

/** The fields of an echo request or reply (or any message with id and sequence). */
export interface IcmpEchoRepr {
  /** `ICMP_TYPE.ECHO` or `ICMP_TYPE.ECHOREPLY`. */
  type: number;
  /** Code (0 for echo; 0 when omitted). */
  code?: number;
  /** Identifier. */
  id: number;
  /** Sequence number. */
  seq: number;
}

/** The fields of an error message's header. */
export interface IcmpErrorRepr {
  /** Type (3, 4, 5, 11 or 12). */
  type: number;
  /** Code. */
  code: number;
  /**
   * The second header word: the next-hop MTU for needfrag (in the low 16 bits),
   * `pointer << 24` for parameter problem, the gateway for redirect, else 0.
   */
  extra: number;
}

/** A reusable view over an ICMP message (the whole IP payload). */
export class IcmpView {
  #b: Uint8Array = new Uint8Array(0);
  #o = 0;
  #len = 0;

  /** Re-targets the view; `null` on success, else why the message is refused. */
  wrap(bytes: Uint8Array, offset: number, length: number): IcmpError | null {
    this.#b = bytes;
    this.#o = offset;
    this.#len = length;
    if (length < ICMP_MINLEN) return "tooshort";
    return null;
  }

  /** The bytes this view looks at. */
  get bytes(): Uint8Array {
    return this.#b;
  }

  /** Offset of the message in `bytes`. */
  get offset(): number {
    return this.#o;
  }

  /** Length of the message (header and data; the checksum covers all of it). */
  get length(): number {
    return this.#len;
  }

  /** Type (`ICMP_TYPE`). */
  get type(): number {
    return this.#b[this.#o + F.TYPE];
  }

  /** Code (meaning depends on the type). */
  get code(): number {
    return this.#b[this.#o + F.CODE];
  }

  /** Checksum as stored. */
  get checksum(): number {
    return readU16(this.#b, this.#o + F.SUM);
  }

  /** The raw second header word. */
  get rest(): number {
    return readU32(this.#b, this.#o + F.REST);
  }

  /** Identifier (echo, timestamp, information, mask messages). */
  get id(): number {
    return readU16(this.#b, this.#o + F.ID);
  }

  /** Sequence number (echo, timestamp, information, mask messages). */
  get seq(): number {
    return readU16(this.#b, this.#o + F.SEQ);
  }

  /** Next-hop MTU of "fragmentation needed" (type 3 code 4, RFC 1191); 0 from old routers. */
  get nextHopMtu(): number {
    return readU16(this.#b, this.#o + F.MTU);
  }

  /** Octet pointer of parameter problem (type 12). */
  get pointer(): number {
    return this.#b[this.#o + F.POINTER];
  }

  /** Gateway address of redirect (type 5). */
  get gateway(): number {
    return readU32(this.#b, this.#o + F.REST);
  }

  /** Offset of the data after the 8-byte header (for errors: the quoted datagram). */
  get payloadOffset(): number {
    return this.#o + F.DATA;
  }

  /** Length of the data after the 8-byte header. */
  get payloadLength(): number {
    return this.#len - F.DATA;
  }

  /** Whether the checksum over the whole message is correct. */
  checksumOk(): boolean {
    return checksum(this.#b, this.#o, this.#o + this.#len) === 0;
  }

  /** Sets the type (checksum not updated). */
  setType(type: number): void {
    this.#b[this.#o + F.TYPE] = type;
  }

  /** Sets the code (checksum not updated). */
  setCode(code: number): void {
    this.#b[this.#o + F.CODE] = code;
  }

  /** Sets the identifier (checksum not updated). */
  setId(id: number): void {
    writeU16(this.#b, this.#o + F.ID, id);
  }

  /** Sets the sequence number (checksum not updated). */
  setSeq(seq: number): void {
    writeU16(this.#b, this.#o + F.SEQ, seq);
  }

  /** Sets the raw second header word (checksum not updated). */
  setRest(word: number): void {
    writeU32(this.#b, this.#o + F.REST, word);
  }

  /** Stores a checksum value as is. */
  setChecksum(sum: number): void {
    writeU16(this.#b, this.#o + F.SUM, sum);
  }

  /** Computes the checksum over the whole message and stores it. */
  fillChecksum(): void {
    fill(this.#b, this.#o, this.#len);
  }
}

function fill(b: Uint8Array, at: number, length: number): void {
  b[at + F.SUM] = 0;
  b[at + F.SUM + 1] = 0;
  writeU16(b, at + F.SUM, checksum(b, at, at + length));
}

/** Copies `data` after the header, or leaves `data` bytes already there; returns the length. */
function place(bytes: Uint8Array, at: number, data: Uint8Array | number): number {
  if (typeof data === "number") return data;
  bytes.set(data, at);
  return data.length;
}

/**
 * Writes an echo request or reply at `offset` and fills its checksum.
 * `payload` is copied after the 8-byte header; a number instead says that many
 * bytes are already in place there (no copy).
 */
export function emitIcmpEcho(
  bytes: Uint8Array,
  offset: number,
  echo: IcmpEchoRepr,
  payload: Uint8Array | number,
): void {
  bytes[offset + F.TYPE] = echo.type;
  bytes[offset + F.CODE] = echo.code ?? 0;
  writeU16(bytes, offset + F.ID, echo.id);
  writeU16(bytes, offset + F.SEQ, echo.seq);
  fill(bytes, offset, F.DATA + place(bytes, offset + F.DATA, payload));
}

/**
 * Writes an error message at `offset`: header, then the quoted original
 * datagram (its IP header and leading data, as much as the caller chose), and
 * fills the checksum. `quoted` as a number says that many bytes are already in
 * place after the header (no copy).
 */
export function emitIcmpError(
  bytes: Uint8Array,
  offset: number,
  err: IcmpErrorRepr,
  quoted: Uint8Array | number,
): void {
  bytes[offset + F.TYPE] = err.type;
  bytes[offset + F.CODE] = err.code;
  writeU32(bytes, offset + F.REST, err.extra);
  fill(bytes, offset, F.DATA + place(bytes, offset + F.DATA, quoted));
}

/** Whether a type is an error (3, 4, 5, 11, 12): never answer one with another (RFC 1122 §3.2.2). */
export function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** Whether a type is a query or its reply (NetBSD `ICMP_INFOTYPE`). */
export function isIcmpInfo(type: number): boolean {
  return type === 0 || (type >= 8 && type <= 10) || (type >= 13 && type <= 18);
}
