/**
 * Checkers for the packets a stack under test sends, in the style of gVisor's
 * `checker` package: a packet is decoded once ({@linkcode decodeIpPacket}) and
 * then a list of small checks runs over it, each returning `null` or what was
 * wrong. A failed check reports the whole packet on one line, tcpdump-like:
 *
 * ```
 * expected ack 1001: 192.0.2.1.80 > 192.0.2.2.40000: Flags [S.], seq 7, ack 1, win 65535, len 0, options [mss 1460,sackOK,TS val 1 ecr 0,wscale 7] (ttl 64, t=0)
 * ```
 *
 * @example
 * ```ts
 * ctx.expect(ipv4(src("192.0.2.1"), ttl(64), tcp(flags("SA"), ack(1001), mss(1460), wscale(7))));
 * ctx.expect(tcp(flags("A"), seq(101), payloadLen(0), noOptions()));
 * ```
 * @module
 */

import { TCP_FLAG, TcpOptions, type TcpOptionsError, TcpView } from "../../core/wire/tcp.ts";
import { IPPROTO, Ipv4View } from "../../core/wire/ipv4.ts";
import { Ipv6View } from "../../core/wire/ipv6.ts";
import { IPPROTO_ICMPV6 } from "../../core/wire/icmpv6.ts";
import { pseudoSum4, pseudoSum6 } from "../../core/wire/checksum.ts";
import { formatIp4, formatIp6, parseIp4, parseIp6 } from "../../core/net/ip_addr.ts";

/** The TCP part of a decoded packet (copies: the packet may be reused). */
export interface DecodedTcp {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** `TCP_FLAG` bits. */
  flags: number;
  /** Window as sent (not scaled). */
  window: number;
  urgentPointer: number;
  /** Header length in bytes (options included). */
  headerLen: number;
  options: TcpOptions;
  /** Why the options failed to parse, or null. */
  optionsError: TcpOptionsError | null;
  payload: Uint8Array;
  checksumOk: boolean;
}

/** One IP packet a stack sent, decoded. */
export interface DecodedPacket {
  /** Virtual time (ms, the context's clock) when the stack sent it. */
  at: number;
  family: 4 | 6;
  /** Source and destination addresses as text. */
  src: string;
  dst: string;
  /** TTL or hop limit. */
  ttl: number;
  /** TOS byte or traffic class. */
  tos: number;
  /** IPv4 don't-fragment (false for IPv6). */
  df: boolean;
  /** IPv4 identification (0 for IPv6). */
  id: number;
  /** The IPv4 protocol or the IPv6 next header. */
  protocol: number;
  /** IPv4 header checksum (true for IPv6, which has none). */
  ipChecksumOk: boolean;
  /** Null when not TCP or not a well-formed TCP header. */
  tcp: DecodedTcp | null;
  /** ICMP or ICMPv6 type and code; -1 when not ICMP. */
  icmpType: number;
  icmpCode: number;
  /** The IP packet (a copy). */
  ip: Uint8Array;
}

/** A check over a decoded packet: null when it holds, else what was expected. */
export type Checker = (p: DecodedPacket) => string | null;

const ip4View = new Ipv4View(), ip6View = new Ipv6View(), tcpView = new TcpView();

/**
 * Decodes the IP packet at `bytes[offset, offset + length)` (copied). IPv6
 * extension headers are not walked: `protocol` is the first next header.
 * Returns null when it is not a well-formed IPv4 or IPv6 header.
 */
export function decodeIpPacket(
  bytes: Uint8Array,
  offset: number,
  length: number,
  at: number,
): DecodedPacket | null {
  const ip = bytes.slice(offset, offset + length);
  const version = length > 0 ? ip[0] >> 4 : 0;
  let p: DecodedPacket;
  let payloadOffset: number, payloadLength: number, pseudo: number;
  if (version === 4) {
    if (ip4View.wrap(ip, 0, ip.length) !== null) return null;
    const v = ip4View;
    payloadOffset = v.payloadOffset;
    payloadLength = v.payloadLength;
    pseudo = pseudoSum4(v.src, v.dst, v.protocol, payloadLength);
    p = {
      at,
      family: 4,
      src: formatIp4(v.src),
      dst: formatIp4(v.dst),
      ttl: v.ttl,
      tos: v.tos,
      df: v.df,
      id: v.id,
      protocol: v.protocol,
      ipChecksumOk: v.checksumOk(),
      tcp: null,
      icmpType: -1,
      icmpCode: -1,
      ip,
    };
    if (v.isFragment) return p;
  } else if (version === 6) {
    if (ip6View.wrap(ip, 0, ip.length) !== null) return null;
    const v = ip6View;
    payloadOffset = v.payloadOffset;
    payloadLength = v.payloadLength;
    pseudo = pseudoSum6(v.src, v.dst, v.nextHeader, payloadLength);
    p = {
      at,
      family: 6,
      src: formatIp6(v.src),
      dst: formatIp6(v.dst),
      ttl: v.hopLimit,
      tos: v.trafficClass,
      df: false,
      id: 0,
      protocol: v.nextHeader,
      ipChecksumOk: true,
      tcp: null,
      icmpType: -1,
      icmpCode: -1,
      ip,
    };
  } else {
    return null;
  }
  const icmpProto = p.family === 4 ? IPPROTO.ICMP : IPPROTO_ICMPV6;
  if (p.protocol === icmpProto && payloadLength >= 4) {
    p.icmpType = ip[payloadOffset];
    p.icmpCode = ip[payloadOffset + 1];
  }
  if (p.protocol !== IPPROTO.TCP) return p;
  if (tcpView.wrap(ip, payloadOffset, payloadLength) !== null) return p;
  const t = tcpView;
  const options = new TcpOptions();
  p.tcp = {
    srcPort: t.srcPort,
    dstPort: t.dstPort,
    seq: t.seq,
    ack: t.ack,
    flags: t.flags,
    window: t.window,
    urgentPointer: t.urgentPointer,
    headerLen: t.headerLen,
    options,
    optionsError: t.parseOptions(options),
    payload: ip.slice(t.payloadOffset, t.payloadOffset + t.payloadLength),
    checksumOk: t.checksumOk(pseudo),
  };
  return p;
}

// ---------------------------------------------------------------------------
// Formatting

const FLAG_LETTERS: [number, string][] = [
  [TCP_FLAG.SYN, "S"],
  [TCP_FLAG.FIN, "F"],
  [TCP_FLAG.RST, "R"],
  [TCP_FLAG.PSH, "P"],
  [TCP_FLAG.URG, "U"],
  [TCP_FLAG.ECE, "E"],
  [TCP_FLAG.CWR, "W"],
  [TCP_FLAG.ACK, "."],
];

/** Flag bits as tcpdump prints them: `S.` for SYN+ACK, `.` for a bare ACK, `none` for none. */
export function formatFlags(bits: number): string {
  let s = "";
  for (const [bit, letter] of FLAG_LETTERS) if (bits & bit) s += letter;
  return s === "" ? "none" : s;
}

/** The options as tcpdump prints them, without the brackets. */
export function formatOptions(o: TcpOptions): string {
  const parts: string[] = [];
  if (o.mss > 0) parts.push(`mss ${o.mss}`);
  if (o.sackPermitted) parts.push("sackOK");
  if (o.timestamp) parts.push(`TS val ${o.tsVal} ecr ${o.tsEcr}`);
  if (o.wscale >= 0) parts.push(`wscale ${o.wscale}`);
  if (o.sackCount > 0) {
    const blocks = [];
    for (let i = 0; i < o.sackCount; i++) blocks.push(`{${o.sackLeft[i]}:${o.sackRight[i]}}`);
    parts.push(`sack ${o.sackCount} ${blocks.join("")}`);
  }
  return parts.join(",");
}

/** One line describing the packet: addresses, ports, flags, seq, ack, window, length, options. */
export function formatPacket(p: DecodedPacket): string {
  const tail = `(ttl ${p.ttl}, t=${p.at})`;
  const t = p.tcp;
  if (t === null) {
    const icmp = p.icmpType >= 0 ? `, ICMP type ${p.icmpType} code ${p.icmpCode}` : "";
    return `IPv${p.family} ${p.src} > ${p.dst}: proto ${p.protocol}${icmp}, length ${p.ip.length} ${tail}`;
  }
  const opts = formatOptions(t.options);
  return `${p.src}.${t.srcPort} > ${p.dst}.${t.dstPort}: Flags [${formatFlags(t.flags)}], ` +
    `seq ${t.seq}, ack ${t.ack}, win ${t.window}, len ${t.payload.length}` +
    (opts === "" ? "" : `, options [${opts}]`) +
    (t.optionsError ? `, options error ${t.optionsError}` : "") +
    (t.checksumOk ? "" : ", BAD TCP CHECKSUM") + ` ${tail}`;
}

/** Runs `checks` over `p`: null when all hold, else the first failure followed by the packet. */
export function runChecks(p: DecodedPacket, checks: Checker[]): string | null {
  for (const c of checks) {
    const why = c(p);
    if (why !== null) return `${why}: ${formatPacket(p)}`;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Network-layer checks

/** An IPv4 packet with a correct header checksum, and `checks`. */
export function ipv4(...checks: Checker[]): Checker {
  return (p) => {
    if (p.family !== 4) return "expected IPv4";
    if (!p.ipChecksumOk) return "bad IPv4 header checksum";
    return first(p, checks);
  };
}

/** An IPv6 packet, and `checks`. */
export function ipv6(...checks: Checker[]): Checker {
  return (p) => p.family !== 6 ? "expected IPv6" : first(p, checks);
}

/** Source address (text, compared after normalising). */
export function src(addr: string): Checker {
  const want = normalise(addr);
  return (p) => p.src === want ? null : `expected source ${want}`;
}

/** Destination address. */
export function dst(addr: string): Checker {
  const want = normalise(addr);
  return (p) => p.dst === want ? null : `expected destination ${want}`;
}

/** TTL (IPv4) or hop limit (IPv6). */
export function ttl(n: number): Checker {
  return (p) => p.ttl === n ? null : `expected ttl ${n}`;
}

/** TOS byte or traffic class. */
export function tos(n: number): Checker {
  return (p) => p.tos === n ? null : `expected tos ${n}`;
}

/** IPv4 don't-fragment bit. */
export function df(set = true): Checker {
  return (p) => p.df === set ? null : `expected DF ${set ? "set" : "clear"}`;
}

/** Upper-layer protocol (IPv4 protocol, IPv6 first next header). */
export function protocol(n: number): Checker {
  return (p) => p.protocol === n ? null : `expected protocol ${n}`;
}

/** An ICMP (IPv4) or ICMPv6 (IPv6) message of this type, and code when given. */
export function icmp(type: number, code?: number): Checker {
  return (p) =>
    p.icmpType === type && (code === undefined || p.icmpCode === code)
      ? null
      : `expected ICMP type ${type}${code === undefined ? "" : ` code ${code}`}`;
}

/** Sent at this virtual time (ms). */
export function sentAt(t: number): Checker {
  return (p) => p.at === t ? null : `expected to be sent at t=${t}`;
}

// ---------------------------------------------------------------------------
// TCP checks

/** A well-formed TCP segment with a correct checksum and well-formed options, and `checks`. */
export function tcp(...checks: Checker[]): Checker {
  return (p) => {
    if (p.tcp === null) return "expected a TCP segment";
    if (!p.tcp.checksumOk) return "bad TCP checksum";
    if (p.tcp.optionsError !== null) return `malformed options (${p.tcp.optionsError})`;
    return first(p, checks);
  };
}

/** Flag bits from letters: S SYN, A or `.` ACK, F FIN, R RST, P PSH, U URG, E ECE, C or W CWR. */
export function parseFlags(letters: string): number {
  let bits = 0;
  for (const ch of letters.toUpperCase()) {
    const bit = ({
      S: TCP_FLAG.SYN,
      A: TCP_FLAG.ACK,
      ".": TCP_FLAG.ACK,
      F: TCP_FLAG.FIN,
      R: TCP_FLAG.RST,
      P: TCP_FLAG.PSH,
      U: TCP_FLAG.URG,
      E: TCP_FLAG.ECE,
      C: TCP_FLAG.CWR,
      W: TCP_FLAG.CWR,
    } as Record<string, number>)[ch];
    if (bit === undefined) throw new Error(`unknown TCP flag letter ${ch}`);
    bits |= bit;
  }
  return bits;
}

/** Exactly these flags (letters as `parseFlags`, or bits). */
export function flags(want: string | number): Checker {
  const bits = typeof want === "string" ? parseFlags(want) : want;
  return (p) => p.tcp!.flags === bits ? null : `expected flags [${formatFlags(bits)}]`;
}

/** At least these flags set (others may be). */
export function flagsInclude(want: string | number): Checker {
  const bits = typeof want === "string" ? parseFlags(want) : want;
  return (p) =>
    (p.tcp!.flags & bits) === bits ? null : `expected flags including [${formatFlags(bits)}]`;
}

/** Sequence number. */
export function seq(n: number): Checker {
  const want = n >>> 0;
  return (p) => p.tcp!.seq === want ? null : `expected seq ${want}`;
}

/** Acknowledgement number (and the ACK flag). */
export function ack(n: number): Checker {
  const want = n >>> 0;
  return (p) =>
    (p.tcp!.flags & TCP_FLAG.ACK) && p.tcp!.ack === want ? null : `expected ack ${want}`;
}

/** Window field as sent (unscaled). */
export function window(w: number): Checker {
  return (p) => p.tcp!.window === w ? null : `expected win ${w}`;
}

/** Source port. */
export function srcPort(n: number): Checker {
  return (p) => p.tcp!.srcPort === n ? null : `expected source port ${n}`;
}

/** Destination port. */
export function dstPort(n: number): Checker {
  return (p) => p.tcp!.dstPort === n ? null : `expected destination port ${n}`;
}

/** MSS option with this value. */
export function mss(n: number): Checker {
  return (p) => p.tcp!.options.mss === n ? null : `expected mss ${n}`;
}

/** Window scale option with this shift. */
export function wscale(n: number): Checker {
  return (p) => p.tcp!.options.wscale === n ? null : `expected wscale ${n}`;
}

/** SACK-permitted option present (or absent with `false`). */
export function sackPermitted(present = true): Checker {
  return (p) =>
    p.tcp!.options.sackPermitted === present ? null : `expected sackOK ${present ? "" : "absent"}`;
}

/**
 * Timestamp option present; `val`/`ecr` checked when given. `false` says
 * the option must be absent.
 */
export function timestamps(want: { val?: number; ecr?: number } | false = {}): Checker {
  return (p) => {
    const o = p.tcp!.options;
    if (want === false) return o.timestamp ? "expected no timestamps" : null;
    if (!o.timestamp) return "expected timestamps";
    if (want.val !== undefined && o.tsVal !== want.val >>> 0) return `expected TS val ${want.val}`;
    if (want.ecr !== undefined && o.tsEcr !== want.ecr >>> 0) return `expected TS ecr ${want.ecr}`;
    return null;
  };
}

/** Exactly these SACK blocks, as `[left, right]` pairs (none: `[]`). */
export function sackBlocks(blocks: [number, number][]): Checker {
  const text = blocks.map(([l, r]) => `{${l >>> 0}:${r >>> 0}}`).join("");
  return (p) => {
    const o = p.tcp!.options;
    let ok = o.sackCount === blocks.length;
    for (let i = 0; ok && i < blocks.length; i++) {
      ok = o.sackLeft[i] === blocks[i][0] >>> 0 && o.sackRight[i] === blocks[i][1] >>> 0;
    }
    return ok ? null : `expected sack blocks [${text}]`;
  };
}

/** No options at all (header length 20). */
export function noOptions(): Checker {
  return (p) => p.tcp!.headerLen === 20 ? null : "expected no options";
}

/** Payload length. */
export function payloadLen(n: number): Checker {
  return (p) => p.tcp!.payload.length === n ? null : `expected len ${n}`;
}

/** Payload bytes. */
export function payload(bytes: Uint8Array | string): Checker {
  const want = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  return (p) => {
    const got = p.tcp!.payload;
    const same = got.length === want.length && got.every((b, i) => b === want[i]);
    return same ? null : `expected payload of ${want.length} bytes as given`;
  };
}

function first(p: DecodedPacket, checks: Checker[]): string | null {
  for (const c of checks) {
    const why = c(p);
    if (why !== null) return why;
  }
  return null;
}

function normalise(addr: string): string {
  const v4 = parseIp4(addr);
  if (v4 !== null && addr.includes(".") && !addr.includes(":")) return formatIp4(v4);
  const v6 = parseIp6(addr);
  if (v6 !== null) return formatIp6(v6);
  throw new Error(`not an address: ${addr}`);
}
