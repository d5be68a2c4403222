/**
 * TCP headers and options (RFC 9293, 7323, 2018), in the shape of `ipv4.ts`:
 * a reusable view whose `wrap` checks once, accessors in place, an option
 * parser into a reusable object, and emitters that write into a buffer the
 * caller sized.
 *
 * The checksum covers a pseudo-header the IP layer knows: callers pass its sum
 * (`pseudoSum4` / `pseudoSum6`, or `NetHeader.pseudoSum()` on input) to
 * `checksumOk` and `fillChecksum`. Sequence and acknowledgement numbers are
 * unsigned 32-bit numbers.
 *
 * Options are walked without allocating into a `TcpOptions` the caller keeps;
 * emitting writes what a sender uses, in Linux's order and padding, so our
 * segments look like Linux's on the wire.
 *
 * @example Build a SYN, then read it back
 * ```ts
 * import { emitTcpHeader, TCP_FLAG, TcpOptions, TcpView, tcpOptionsLength } from "./tcp.ts";
 * import { pseudoSum4 } from "./checksum.ts";
 * const opts = new TcpOptions();
 * opts.mss = 1460;
 * opts.sackPermitted = true;
 * opts.wscale = 7;
 * const seg = new Uint8Array(20 + tcpOptionsLength(opts));
 * emitTcpHeader(seg, 0, { srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags: TCP_FLAG.SYN, window: 65535 }, opts);
 * const tcp = new TcpView();
 * console.log(tcp.wrap(seg, 0, seg.length)); // null
 * tcp.fillChecksum(pseudoSum4(0xc0000201, 0xc0000202, 6, seg.length));
 * const back = new TcpOptions();
 * console.log(tcp.parseOptions(back), back.mss, back.wscale); // null 1460 7
 * ```
 * @module
 */

import { finishChecksum, sumWords } from "./checksum.ts";
import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";

/** Header length without options. */
export const TCP_HEADER_LEN = 20;
/** Largest header (data offset 15). */
export const TCP_MAX_HEADER_LEN = 60;
/** Most option bytes a header holds. */
export const TCP_MAX_OPTIONS_LEN = 40;
/** Most SACK blocks one option carries (RFC 2018: 4 fill the 40 option bytes). */
export const TCP_MAX_SACK_BLOCKS = 4;

/** The flag bits of the 13th header byte. */
export const TCP_FLAG = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** TCP option kinds (IANA); others are skipped by their length. */
export const TCPOPT = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMP: 8,
} as const;

/** Lengths of the fixed-size options. */
export const TCPOLEN = {
  MSS: 4,
  WINDOW: 3,
  SACK_PERMITTED: 2,
  TIMESTAMP: 10,
} as const;

/** Largest window shift (RFC 7323 §2.3); larger values are used as 14. */
export const TCP_MAX_WINSHIFT = 14;

const F = Object.freeze({
  SPORT: 0,
  DPORT: 2,
  SEQ: 4,
  ACK: 8,
  OFF: 12,
  FLAGS: 13,
  WIN: 14,
  SUM: 16,
  URP: 18,
  OPTIONS: 20,
});

/**
 * Why a segment was refused, one reason per NetBSD `tcpstat` counter:
 * - "tooshort": fewer than 20 bytes (`tcps_rcvshort`);
 * - "badoff": data offset below 5, or the header runs past the segment
 *   (`tcps_rcvbadoff`).
 */
export type TcpError = "tooshort" | "badoff";

/**
 * Why an option list was refused:
 * - "badoptlen": an option's length byte is 0 or 1;
 * - "truncated": an option (or its length byte) runs past the header;
 * - "badmss", "badwscale", "badsackperm", "badtimestamp": a known option
 *   with the wrong length;
 * - "badsack": a SACK option whose length is not 2 + 8n for n of 1 to 4.
 *
 * Linux and NetBSD skip a known option with a wrong length and keep going;
 * the reason lets the caller count it and decide.
 */
export type TcpOptionsError =
  | "badoptlen"
  | "truncated"
  | "badmss"
  | "badwscale"
  | "badsackperm"
  | "badtimestamp"
  | "badsack";

/** The fixed header fields, for `emitTcpHeader`. */
export interface TcpRepr {
  /** Source port. */
  srcPort: number;
  /** Destination port. */
  dstPort: number;
  /** Sequence number (uint32). */
  seq: number;
  /** Acknowledgement number (uint32; 0 without ACK). */
  ack: number;
  /** `TCP_FLAG` bits. */
  flags: number;
  /** Window, already scaled down by the sender's shift. */
  window: number;
  /** Urgent pointer (0 when omitted). */
  urgentPointer?: number;
}

/**
 * Parsed options, reused from segment to segment (`parseTcpOptions` resets it
 * first). The same object says what `emitTcpOptions` writes. Absent options
 * read as `mss` 0, `wscale` -1, `sackPermitted` false, `timestamp` false,
 * `sackCount` 0.
 */
export class TcpOptions {
  /** Maximum segment size; 0 when absent. */
  mss = 0;
  /** Window shift count as sent (may exceed 14; see `TCP_MAX_WINSHIFT`); -1 when absent. */
  wscale = -1;
  /** SACK permitted (SYN only). */
  sackPermitted = false;
  /** Whether a timestamp option is present. */
  timestamp = false;
  /** Timestamp value (uint32). */
  tsVal = 0;
  /** Timestamp echo reply (uint32). */
  tsEcr = 0;
  /** Number of SACK blocks (0 to 4). */
  sackCount = 0;
  /** Left edges of the SACK blocks (first `sackCount` used). */
  readonly sackLeft: Uint32Array = new Uint32Array(TCP_MAX_SACK_BLOCKS);
  /** Right edges of the SACK blocks (first `sackCount` used). */
  readonly sackRight: Uint32Array = new Uint32Array(TCP_MAX_SACK_BLOCKS);

  /** Back to "no options". */
  reset(): this {
    this.mss = 0;
    this.wscale = -1;
    this.sackPermitted = false;
    this.timestamp = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0;
    return this;
  }
}

/** A reusable view over a TCP segment (the whole IP payload). */
export class TcpView {
  #b: Uint8Array = new Uint8Array(0);
  #o = 0;
  #len = 0;

  /** Re-targets the view; `null` on success, else why the segment is refused. */
  wrap(bytes: Uint8Array, offset: number, length: number): TcpError | null {
    this.#b = bytes;
    this.#o = offset;
    this.#len = length;
    if (length < TCP_HEADER_LEN) return "tooshort";
    const hlen = this.headerLen;
    if (hlen < TCP_HEADER_LEN || hlen > length) return "badoff";
    return null;
  }

  /** The bytes this view looks at. */
  get bytes(): Uint8Array {
    return this.#b;
  }

  /** Offset of the segment in `bytes`. */
  get offset(): number {
    return this.#o;
  }

  /** Length of the segment (header and payload; the checksum covers all of it). */
  get length(): number {
    return this.#len;
  }

  /** Source port. */
  get srcPort(): number {
    return readU16(this.#b, this.#o + F.SPORT);
  }

  /** Destination port. */
  get dstPort(): number {
    return readU16(this.#b, this.#o + F.DPORT);
  }

  /** Sequence number (uint32). */
  get seq(): number {
    return readU32(this.#b, this.#o + F.SEQ);
  }

  /** Acknowledgement number (uint32). */
  get ack(): number {
    return readU32(this.#b, this.#o + F.ACK);
  }

  /** Data offset in 32-bit words. */
  get dataOffset(): number {
    return this.#b[this.#o + F.OFF] >>> 4;
  }

  /** Header length in bytes, options included. */
  get headerLen(): number {
    return (this.#b[this.#o + F.OFF] >>> 4) << 2;
  }

  /** The flag byte (`TCP_FLAG` bits). */
  get flags(): number {
    return this.#b[this.#o + F.FLAGS];
  }

  /** Whether every bit of `mask` (`TCP_FLAG`) is set. */
  hasFlags(mask: number): boolean {
    return (this.#b[this.#o + F.FLAGS] & mask) === mask;
  }

  /** Window as sent (before scaling). */
  get window(): number {
    return readU16(this.#b, this.#o + F.WIN);
  }

  /** Checksum as stored. */
  get checksum(): number {
    return readU16(this.#b, this.#o + F.SUM);
  }

  /** Urgent pointer. */
  get urgentPointer(): number {
    return readU16(this.#b, this.#o + F.URP);
  }

  /** Offset of the options in `bytes`. */
  get optionsOffset(): number {
    return this.#o + F.OPTIONS;
  }

  /** Length of the options in bytes (0 to 40). */
  get optionsLength(): number {
    return this.headerLen - TCP_HEADER_LEN;
  }

  /** Offset of the payload in `bytes`. */
  get payloadOffset(): number {
    return this.#o + this.headerLen;
  }

  /** Length of the payload. */
  get payloadLength(): number {
    return this.#len - this.headerLen;
  }

  /** Sets the source port (checksum not updated). */
  setSrcPort(port: number): void {
    writeU16(this.#b, this.#o + F.SPORT, port);
  }

  /** Sets the destination port (checksum not updated). */
  setDstPort(port: number): void {
    writeU16(this.#b, this.#o + F.DPORT, port);
  }

  /** Sets the sequence number (checksum not updated). */
  setSeq(seq: number): void {
    writeU32(this.#b, this.#o + F.SEQ, seq >>> 0);
  }

  /** Sets the acknowledgement number (checksum not updated). */
  setAck(ack: number): void {
    writeU32(this.#b, this.#o + F.ACK, ack >>> 0);
  }

  /** Sets the header length in bytes (a multiple of 4, 20 to 60; checksum not updated). */
  setHeaderLen(headerLen: number): void {
    this.#b[this.#o + F.OFF] = (headerLen >>> 2) << 4;
  }

  /** Sets the flag byte (checksum not updated). */
  setFlags(flags: number): void {
    this.#b[this.#o + F.FLAGS] = flags;
  }

  /** Sets the window (checksum not updated). */
  setWindow(window: number): void {
    writeU16(this.#b, this.#o + F.WIN, window);
  }

  /** Sets the urgent pointer (checksum not updated). */
  setUrgentPointer(pointer: number): void {
    writeU16(this.#b, this.#o + F.URP, pointer);
  }

  /** Stores a checksum value as is. */
  setChecksum(sum: number): void {
    writeU16(this.#b, this.#o + F.SUM, sum);
  }

  /** Whether the checksum over the segment and the pseudo-header whose sum is `pseudo` is correct. */
  checksumOk(pseudo: number): boolean {
    return finishChecksum(sumWords(this.#b, this.#o, this.#o + this.#len, pseudo)) === 0;
  }

  /** Computes the checksum over the segment and the pseudo-header whose sum is `pseudo`, and stores it. */
  fillChecksum(pseudo: number): void {
    const sumAt = this.#o + F.SUM;
    this.#b[sumAt] = 0;
    this.#b[sumAt + 1] = 0;
    writeU16(
      this.#b,
      sumAt,
      finishChecksum(sumWords(this.#b, this.#o, this.#o + this.#len, pseudo)),
    );
  }

  /** Parses the options of the wrapped segment into `out` (see `parseTcpOptions`). */
  parseOptions(out: TcpOptions): TcpOptionsError | null {
    return parseTcpOptions(this.#b, this.#o + F.OPTIONS, this.#o + this.headerLen, out);
  }
}

/**
 * Walks the options in `bytes[start, end)` into `out` (reset first); `null`
 * when well formed, else the first fault (what was read before it stays in
 * `out`). EOL ends the list, NOP is one byte, unknown kinds are skipped by
 * their length. Allocates nothing.
 */
export function parseTcpOptions(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: TcpOptions,
): TcpOptionsError | null {
  out.reset();
  let at = start;
  while (at < end) {
    const kind = bytes[at];
    if (kind === TCPOPT.EOL) break;
    if (kind === TCPOPT.NOP) {
      at++;
      continue;
    }
    if (end - at < 2) return "truncated";
    const olen = bytes[at + 1];
    if (olen < 2) return "badoptlen";
    if (olen > end - at) return "truncated";
    switch (kind) {
      case TCPOPT.MSS:
        if (olen !== TCPOLEN.MSS) return "badmss";
        out.mss = readU16(bytes, at + 2);
        break;
      case TCPOPT.WINDOW:
        if (olen !== TCPOLEN.WINDOW) return "badwscale";
        out.wscale = bytes[at + 2];
        break;
      case TCPOPT.SACK_PERMITTED:
        if (olen !== TCPOLEN.SACK_PERMITTED) return "badsackperm";
        out.sackPermitted = true;
        break;
      case TCPOPT.TIMESTAMP:
        if (olen !== TCPOLEN.TIMESTAMP) return "badtimestamp";
        out.timestamp = true;
        out.tsVal = readU32(bytes, at + 2);
        out.tsEcr = readU32(bytes, at + 6);
        break;
      case TCPOPT.SACK: {
        const blocks = (olen - 2) >>> 3;
        if ((olen - 2) & 7 || blocks < 1 || blocks > TCP_MAX_SACK_BLOCKS) return "badsack";
        for (let i = 0; i < blocks; i++) {
          out.sackLeft[i] = readU32(bytes, at + 2 + 8 * i);
          out.sackRight[i] = readU32(bytes, at + 6 + 8 * i);
        }
        out.sackCount = blocks;
        break;
      }
    }
    at += olen;
  }
  return null;
}

/**
 * How many SACK blocks `emitTcpOptions` writes for `opts`: `sackCount`, cut
 * to what fits beside the other options (3 with timestamps, as Linux sends).
 */
export function tcpSackBlocksToSend(opts: TcpOptions): number {
  const room = TCP_MAX_OPTIONS_LEN - (tcpOptionsLength(opts, 0) + 4);
  const fit = room < 0 ? 0 : room >>> 3;
  return Math.min(opts.sackCount, fit, TCP_MAX_SACK_BLOCKS);
}

/**
 * Bytes `emitTcpOptions` writes for `opts` (a multiple of 4, at most 40).
 * `sackBlocks` overrides the number of SACK blocks counted.
 */
export function tcpOptionsLength(opts: TcpOptions, sackBlocks = tcpSackBlocksToSend(opts)): number {
  let n = 0;
  if (opts.mss > 0) n += 4;
  if (opts.timestamp) n += 12;
  else if (opts.sackPermitted) n += 4;
  if (opts.wscale >= 0) n += 4;
  if (sackBlocks > 0) n += 4 + 8 * sackBlocks;
  return n;
}

/**
 * Writes the options of `opts` at `at`, in Linux's order and padding
 * (`tcp_options_write`): MSS; SACK-permitted folded into the timestamp's two
 * leading bytes, or NOP NOP before a lone timestamp or SACK-permitted; NOP
 * and window scale; NOP NOP and the SACK blocks that fit. Returns the bytes
 * written (a multiple of 4). Nothing is validated: SYN-only options in `opts`
 * are written whatever the flags.
 */
export function emitTcpOptions(bytes: Uint8Array, at: number, opts: TcpOptions): number {
  const start = at;
  if (opts.mss > 0) {
    bytes[at] = TCPOPT.MSS;
    bytes[at + 1] = TCPOLEN.MSS;
    writeU16(bytes, at + 2, opts.mss);
    at += 4;
  }
  if (opts.timestamp) {
    if (opts.sackPermitted) {
      bytes[at] = TCPOPT.SACK_PERMITTED;
      bytes[at + 1] = TCPOLEN.SACK_PERMITTED;
    } else {
      bytes[at] = TCPOPT.NOP;
      bytes[at + 1] = TCPOPT.NOP;
    }
    bytes[at + 2] = TCPOPT.TIMESTAMP;
    bytes[at + 3] = TCPOLEN.TIMESTAMP;
    writeU32(bytes, at + 4, opts.tsVal >>> 0);
    writeU32(bytes, at + 8, opts.tsEcr >>> 0);
    at += 12;
  } else if (opts.sackPermitted) {
    bytes[at] = TCPOPT.NOP;
    bytes[at + 1] = TCPOPT.NOP;
    bytes[at + 2] = TCPOPT.SACK_PERMITTED;
    bytes[at + 3] = TCPOLEN.SACK_PERMITTED;
    at += 4;
  }
  if (opts.wscale >= 0) {
    bytes[at] = TCPOPT.NOP;
    bytes[at + 1] = TCPOPT.WINDOW;
    bytes[at + 2] = TCPOLEN.WINDOW;
    bytes[at + 3] = opts.wscale;
    at += 4;
  }
  const blocks = tcpSackBlocksToSend(opts);
  if (blocks > 0) {
    bytes[at] = TCPOPT.NOP;
    bytes[at + 1] = TCPOPT.NOP;
    bytes[at + 2] = TCPOPT.SACK;
    bytes[at + 3] = 2 + 8 * blocks;
    at += 4;
    for (let i = 0; i < blocks; i++) {
      writeU32(bytes, at, opts.sackLeft[i]);
      writeU32(bytes, at + 4, opts.sackRight[i]);
      at += 8;
    }
  }
  return at - start;
}

/**
 * Writes a TCP header at `offset`: the fixed part from `tcp`, then the
 * options of `opts` (none when `null`). The checksum is left zero: once the
 * payload is in place, wrap the segment and call `fillChecksum`. Returns the
 * header length.
 */
export function emitTcpHeader(
  bytes: Uint8Array,
  offset: number,
  tcp: TcpRepr,
  opts: TcpOptions | null = null,
): number {
  const headerLen = TCP_HEADER_LEN +
    (opts === null ? 0 : emitTcpOptions(bytes, offset + F.OPTIONS, opts));
  writeU16(bytes, offset + F.SPORT, tcp.srcPort);
  writeU16(bytes, offset + F.DPORT, tcp.dstPort);
  writeU32(bytes, offset + F.SEQ, tcp.seq >>> 0);
  writeU32(bytes, offset + F.ACK, tcp.ack >>> 0);
  bytes[offset + F.OFF] = (headerLen >>> 2) << 4;
  bytes[offset + F.FLAGS] = tcp.flags;
  writeU16(bytes, offset + F.WIN, tcp.window);
  bytes[offset + F.SUM] = 0;
  bytes[offset + F.SUM + 1] = 0;
  writeU16(bytes, offset + F.URP, tcp.urgentPointer ?? 0);
  return headerLen;
}
