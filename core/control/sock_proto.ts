/**
 * The socket hop's wire format: how one program socket, carried by its own
 * Unix stream connection to `<prefix>/dev/socket/{config,2,24}`, talks to the
 * daemon. `docs/socket-protocol.md` specifies it for other languages; this
 * module is the one implementation both ends (daemon and `libsocket/`) use.
 *
 * Every frame is a 4-byte header and a body:
 * ```
 *  0       1                       4
 *  +-------+-----------------------+-----------------
 *  | kind  | body length (24 bits) | body
 *  +-------+-----------------------+-----------------
 * ```
 * Integers are big-endian. Kinds: {@linkcode HOP_KIND}. A socket connection
 * opens with the `socket` request, whose header is always `51 00 00 05`: that
 * is how the daemon tells it from a control connection on the same socket file
 * (a control frame starting so would announce more than 1 GiB).
 *
 * Addresses (`sockaddr`) in bodies: `family` (0 none, 2 AF_INET, 24 AF_INET6),
 * one zero byte, the port (16 bits); then for AF_INET the 4 address bytes, for
 * AF_INET6 the scope id (32 bits) and the 16 address bytes. So 4, 8 or 24 bytes.
 *
 * @example A datagram frame and its decoding
 * ```ts
 * import { Endpoint, IpAddr } from "../net/inet_addr.ts";
 * import { encodeData, HopDecoder, HOP_KIND, readSockaddr } from "./sock_proto.ts";
 * const to = new Endpoint();
 * to.addr.set(IpAddr.parse("192.0.2.7")!);
 * to.port = 53;
 * const dec = new HopDecoder();
 * dec.push(encodeData(to, new Uint8Array([1, 2, 3])));
 * dec.next();
 * const from = new Endpoint();
 * const at = readSockaddr(dec.buf, dec.start, dec.end, from);
 * console.log(dec.kind === HOP_KIND.data, from.toString(), dec.end - at); // true 192.0.2.7:53 3
 * ```
 * @module
 */

import type { Endpoint } from "../net/inet_addr.ts";

/** Bytes before a frame's body. */
export const HOP_HEADER = 4;
/** Largest body accepted: a 65 535-byte datagram with an IPv6 address, and some slack. */
export const HOP_MAX_BODY = 65_535 + 64;
/** The protocol version a `socket` request carries. */
export const HOP_VERSION = 1;
/** Body bytes of the `socket` request: op, version, domain, type, protocol. */
export const SOCKET_REQUEST_BODY = 5;

/** Frame kinds (the first byte of a frame). */
export const HOP_KIND = {
  /** Program to daemon: a setup request (`op` byte, then its arguments). */
  request: 0x51,
  /** Daemon to program: the answer to the oldest unanswered request. */
  reply: 0x52,
  /**
   * Both ways: one datagram (sockaddr, then payload); on a stream socket,
   * the next bytes of the stream (no sockaddr), and an empty body is the end
   * of the stream (the program's `shutdown(SHUT_WR)`, the peer's FIN).
   */
  data: 0x44,
  /** Daemon to program: an error beside the data. */
  error: 0x45,
} as const;

/** Request operations (the body's first byte). */
export const HOP_OP = {
  socket: 1,
  bind: 2,
  connect: 3,
  setsockopt: 4,
  getsockopt: 5,
  getsockname: 6,
  getpeername: 7,
  /** Stream sockets: `listen(backlog)`. */
  listen: 8,
  /** Stream sockets: the next connection from the accept queue, held for a `claim`. */
  accept: 9,
  /** Stream sockets: this connection takes the accepted socket named by a token. */
  claim: 10,
} as const;

/** What an error frame reports. */
export const HOP_ERROR = {
  /** A `data` frame could not be sent; `seq` says which (the first is 1). */
  send: 1,
  /** An asynchronous socket error (ICMP port unreachable: ECONNREFUSED...). */
  socket: 2,
  /** The stream broke the protocol; the daemon closes the connection after this. */
  protocol: 3,
} as const;

/** Address families as NetBSD and QNX number them (and as the socket files are named). */
export const AF_INET = 2;
export const AF_INET6 = 24;
/** `SOCK_DGRAM`. */
export const SOCK_DGRAM = 2;
/** `IPPROTO_UDP`. */
export const IPPROTO_UDP = 17;
/** `SOCK_STREAM`. */
export const SOCK_STREAM = 1;
/** `IPPROTO_TCP` (also the option level of TCP's options). */
export const IPPROTO_TCP = 6;
/** Largest data frame body on a stream socket: a 64 KiB write is one frame. */
export const HOP_STREAM_MAX_DATA = 65_536;
/** Bytes of an accept token (random, so no other program can claim the socket). */
export const HOP_TOKEN = 8;

/** Option levels as NetBSD numbers them. */
export const SOL_SOCKET = 0xffff;
export const IPPROTO_IP = 0;
export const IPPROTO_IPV6 = 41;

/** Options by NetBSD's (level, name) numbers, with the core's names; `member` ones take a group. */
export const HOP_OPTIONS: readonly {
  level: number;
  name: number;
  option: string;
  member?: "join" | "leave";
}[] = [
  { level: SOL_SOCKET, name: 0x0004, option: "SO_REUSEADDR" },
  { level: SOL_SOCKET, name: 0x0008, option: "SO_KEEPALIVE" },
  { level: SOL_SOCKET, name: 0x0020, option: "SO_BROADCAST" },
  { level: SOL_SOCKET, name: 0x0080, option: "SO_LINGER" },
  { level: SOL_SOCKET, name: 0x0200, option: "SO_REUSEPORT" },
  { level: SOL_SOCKET, name: 0x1001, option: "SO_SNDBUF" },
  { level: SOL_SOCKET, name: 0x1002, option: "SO_RCVBUF" },
  { level: SOL_SOCKET, name: 0x1007, option: "SO_ERROR" },
  { level: SOL_SOCKET, name: 0x1008, option: "SO_TYPE" },
  { level: IPPROTO_IP, name: 3, option: "IP_TOS" },
  { level: IPPROTO_IP, name: 4, option: "IP_TTL" },
  { level: IPPROTO_IP, name: 9, option: "IP_MULTICAST_IF" },
  { level: IPPROTO_IP, name: 10, option: "IP_MULTICAST_TTL" },
  { level: IPPROTO_IP, name: 11, option: "IP_MULTICAST_LOOP" },
  { level: IPPROTO_IP, name: 12, option: "IP_ADD_MEMBERSHIP", member: "join" },
  { level: IPPROTO_IP, name: 13, option: "IP_DROP_MEMBERSHIP", member: "leave" },
  { level: IPPROTO_IPV6, name: 4, option: "IPV6_UNICAST_HOPS" },
  { level: IPPROTO_IPV6, name: 9, option: "IPV6_MULTICAST_IF" },
  { level: IPPROTO_IPV6, name: 10, option: "IPV6_MULTICAST_HOPS" },
  { level: IPPROTO_IPV6, name: 11, option: "IPV6_MULTICAST_LOOP" },
  { level: IPPROTO_IPV6, name: 12, option: "IPV6_JOIN_GROUP", member: "join" },
  { level: IPPROTO_IPV6, name: 13, option: "IPV6_LEAVE_GROUP", member: "leave" },
  { level: IPPROTO_IPV6, name: 27, option: "IPV6_V6ONLY" },
  { level: IPPROTO_TCP, name: 0x01, option: "TCP_NODELAY" },
  { level: IPPROTO_TCP, name: 0x02, option: "TCP_MAXSEG" },
  { level: IPPROTO_TCP, name: 0x03, option: "TCP_KEEPIDLE" },
  { level: IPPROTO_TCP, name: 0x05, option: "TCP_KEEPINTVL" },
  { level: IPPROTO_TCP, name: 0x06, option: "TCP_KEEPCNT" },
];

/** The option with these numbers, or undefined. */
export function hopOption(level: number, name: number): (typeof HOP_OPTIONS)[number] | undefined {
  return HOP_OPTIONS.find((o) => o.level === level && o.name === name);
}

/** The (level, name) numbers of a named option; throws on a name not in the table. */
export function hopOptionNumbers(option: string): { level: number; name: number } {
  const o = HOP_OPTIONS.find((x) => x.option === option);
  if (!o) throw new TypeError(`Unknown socket option ${option}`);
  return o;
}

/** Bytes a sockaddr of `ep` takes (null: none). */
export function sockaddrLen(ep: Endpoint | null): number {
  return ep === null ? 4 : ep.addr.family === 4 ? 8 : 24;
}

/** Writes `ep` (null: family 0) at `at`; returns the offset after it. */
export function writeSockaddr(buf: Uint8Array, at: number, ep: Endpoint | null): number {
  if (ep === null) {
    buf[at] =
      buf[at + 1] =
      buf[at + 2] =
      buf[at + 3] =
        0;
    return at + 4;
  }
  const a = ep.addr;
  buf[at] = a.family === 4 ? AF_INET : AF_INET6;
  buf[at + 1] = 0;
  buf[at + 2] = ep.port >>> 8;
  buf[at + 3] = ep.port & 0xff;
  if (a.family === 4) {
    const v = a.v4;
    buf[at + 4] = v >>> 24;
    buf[at + 5] = (v >>> 16) & 0xff;
    buf[at + 6] = (v >>> 8) & 0xff;
    buf[at + 7] = v & 0xff;
    return at + 8;
  }
  const z = a.zone;
  buf[at + 4] = z >>> 24;
  buf[at + 5] = (z >>> 16) & 0xff;
  buf[at + 6] = (z >>> 8) & 0xff;
  buf[at + 7] = z & 0xff;
  buf.set(a.bytes, at + 8);
  return at + 24;
}

/** A sockaddr for `ep` in a new buffer of its own size (`null`: AF_UNSPEC). */
export function sockaddrBytes(ep: Endpoint | null): Uint8Array {
  const out = new Uint8Array(sockaddrLen(ep));
  writeSockaddr(out, 0, ep);
  return out;
}

/** A request's name for messages (`connect`, `bind`...), or `request N` for an unknown one. */
export function hopOpName(op: number): string {
  for (const [name, n] of Object.entries(HOP_OP)) if (n === op) return name;
  return `request ${op}`;
}

/**
 * Reads a sockaddr at `at` (not past `end`) into `out`; returns the offset
 * after it, -1 when it is truncated or of an unknown family, and -2 for
 * family 0 (none; `out` unchanged, 4 bytes consumed: the caller adds 4).
 */
export function readSockaddr(buf: Uint8Array, at: number, end: number, out: Endpoint): number {
  if (end - at < 4) return -1;
  const family = buf[at];
  if (family === 0) return -2;
  const port = (buf[at + 2] << 8) | buf[at + 3];
  if (family === AF_INET) {
    if (end - at < 8) return -1;
    out.addr.setV4(
      ((buf[at + 4] << 24) | (buf[at + 5] << 16) | (buf[at + 6] << 8) | buf[at + 7]) >>> 0,
    );
    out.port = port;
    return at + 8;
  }
  if (family === AF_INET6) {
    if (end - at < 24) return -1;
    const zone = ((buf[at + 4] << 24) | (buf[at + 5] << 16) | (buf[at + 6] << 8) | buf[at + 7]) >>>
      0;
    out.addr.setV6(buf, at + 8, zone);
    out.port = port;
    return at + 24;
  }
  return -1;
}

/** Writes a frame header (kind and body length) at `at`. */
export function writeHopHeader(buf: Uint8Array, at: number, kind: number, bodyLen: number): void {
  buf[at] = kind;
  buf[at + 1] = (bodyLen >>> 16) & 0xff;
  buf[at + 2] = (bodyLen >>> 8) & 0xff;
  buf[at + 3] = bodyLen & 0xff;
}

/** Bytes a data frame for `payloadLen` bytes to or from `ep` takes. */
export function dataFrameLen(ep: Endpoint | null, payloadLen: number): number {
  return HOP_HEADER + sockaddrLen(ep) + payloadLen;
}

/** Writes a data frame at `at` (the caller checked the room); returns the offset after it. */
export function writeData(
  buf: Uint8Array,
  at: number,
  ep: Endpoint | null,
  payload: Uint8Array,
): number {
  const body = sockaddrLen(ep) + payload.length;
  writeHopHeader(buf, at, HOP_KIND.data, body);
  const p = writeSockaddr(buf, at + HOP_HEADER, ep);
  buf.set(payload, p);
  return p + payload.length;
}

/** A data frame in a new array. */
export function encodeData(ep: Endpoint | null, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(dataFrameLen(ep, payload.length));
  writeData(out, 0, ep, payload);
  return out;
}

/** A request frame: `op` and its argument bytes. */
export function encodeRequest(op: number, args: Uint8Array = EMPTY): Uint8Array {
  const out = new Uint8Array(HOP_HEADER + 1 + args.length);
  writeHopHeader(out, 0, HOP_KIND.request, 1 + args.length);
  out[HOP_HEADER] = op;
  out.set(args, HOP_HEADER + 1);
  return out;
}

/** A reply frame: `op`, errno number (0: success), then result bytes. */
export function encodeReply(op: number, errno: number, result: Uint8Array = EMPTY): Uint8Array {
  const out = new Uint8Array(HOP_HEADER + 4 + result.length);
  writeHopHeader(out, 0, HOP_KIND.reply, 4 + result.length);
  out[HOP_HEADER] = op;
  out[HOP_HEADER + 2] = errno >>> 8;
  out[HOP_HEADER + 3] = errno & 0xff;
  out.set(result, HOP_HEADER + 4);
  return out;
}

/** An error frame: what failed ({@linkcode HOP_ERROR}), the errno number, the send's sequence number. */
export function encodeError(what: number, errno: number, seq: number): Uint8Array {
  const out = new Uint8Array(HOP_HEADER + 8);
  writeHopHeader(out, 0, HOP_KIND.error, 8);
  const dv = new DataView(out.buffer);
  out[HOP_HEADER] = what;
  dv.setUint16(HOP_HEADER + 2, errno);
  dv.setUint32(HOP_HEADER + 4, seq >>> 0);
  return out;
}

/** A 32-bit big-endian integer. */
export function int32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, v);
  return out;
}

/** Reads a signed 32-bit big-endian integer. */
export function readInt32(buf: Uint8Array, at: number): number {
  return (buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3];
}

/** Why a hop stream stopped making sense. */
export type HopStreamError = "EPROTO" | "EMSGSIZE";

/**
 * Splits a hop byte stream into frames without copying them out: after
 * {@linkcode HopDecoder.next} returns true, the frame is `kind` with its body
 * at `buf[start, end)`, valid until the next {@linkcode HopDecoder.space} or
 * {@linkcode HopDecoder.push}. The buffer starts small (an idle socket costs
 * little), grows while reads fill it, up to 256 KiB, and goes back to its
 * first size when it is empty after a small read.
 */
export class HopDecoder {
  buf: Uint8Array;
  /** The current frame's kind. */
  kind = 0;
  /** The current frame's body. */
  start = 0;
  end = 0;
  /** Set once the stream is unusable (kind 0 or an oversized body). */
  error: HopStreamError | null = null;
  #at = 0;
  #fill = 0;
  #offered = 0;
  #grow = false;
  readonly #initial: number;
  #lastRead = 0;

  constructor(initial = 16 * 1024) {
    this.buf = new Uint8Array(initial);
    this.#initial = initial;
  }

  /** Free bytes at the tail, after compacting (and growing when needed): read straight into this. */
  space(): Uint8Array {
    if (this.#at === this.#fill) {
      this.#at = this.#fill = 0;
      // Back to the initial size once the traffic is small again (an idle socket costs little).
      if (this.#lastRead < SMALL_READ && this.buf.length > this.#initial) {
        this.buf = new Uint8Array(this.#initial);
      }
    }
    const live = this.#fill - this.#at;
    let need = 4096;
    if (live >= HOP_HEADER) {
      const b = this.buf, at = this.#at;
      const len = (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
      need = Math.max(need, HOP_HEADER + Math.min(len, HOP_MAX_BODY) - live);
    }
    if (this.buf.length - this.#fill < need || this.#grow) {
      let size = this.buf.length;
      if (this.#grow && size < MAX_DECODER) size *= 2;
      while (size - live < need) size *= 2;
      const next = size === this.buf.length ? this.buf : new Uint8Array(size);
      if (next === this.buf) next.copyWithin(0, this.#at, this.#fill);
      else next.set(this.buf.subarray(this.#at, this.#fill));
      this.buf = next;
      this.#fill = live;
      this.#at = 0;
      this.#grow = false;
    }
    const room = this.buf.subarray(this.#fill);
    this.#offered = room.length;
    return room;
  }

  /** Accounts for `n` bytes written into {@linkcode space}. */
  commit(n: number): void {
    this.#fill += n;
    this.#lastRead = n;
    if (n === this.#offered && this.buf.length < MAX_DECODER) this.#grow = true;
  }

  /** Appends bytes (copying them). */
  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      const room = this.space();
      const n = Math.min(room.length, chunk.length - off);
      room.set(chunk.subarray(off, off + n));
      this.commit(n);
      off += n;
    }
  }

  /** Steps to the next complete frame; false when more bytes are needed or the stream is bad. */
  next(): boolean {
    if (this.error) return false;
    const b = this.buf, at = this.#at;
    if (this.#fill - at < HOP_HEADER) return false;
    const kind = b[at];
    const len = (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
    if (kind === 0) {
      this.error = "EPROTO";
      return false;
    }
    if (len > HOP_MAX_BODY) {
      this.error = "EMSGSIZE";
      return false;
    }
    if (this.#fill - at < HOP_HEADER + len) return false;
    this.kind = kind;
    this.start = at + HOP_HEADER;
    this.end = this.start + len;
    this.#at = this.end;
    return true;
  }
}

const MAX_DECODER = 256 * 1024;
/** A read this small, into an empty buffer, lets a grown buffer go. */
const SMALL_READ = 4096;
const EMPTY = new Uint8Array(0);
