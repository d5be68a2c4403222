/**
 * Neighbour Discovery (RFC 4861, with the RFC 4862 prefix fields) and MLDv1
 * (RFC 2710) message bodies, which ride in ICMPv6. Conventions as in
 * `ethernet.ts`: reusable views re-targeted by `wrap`, offsets in frozen
 * tables, emitters writing into buffers the caller sized.
 *
 * Receiving: `wrap` the message view (it checks the length and that the code
 * is 0), then {@link parseNdOptions} over `optionsOffset..optionsEnd` into a
 * caller-owned {@link NdOptions}; a refusal from either drops the whole
 * message, as RFC 4861 §6.1 and §7.1 require. The IPv6-level checks (hop limit
 * 255, checksum, source address rules) are the caller's.
 *
 * Sending: emit the fixed part, append options with the `emitNd*Opt`
 * functions, then fill the checksum with `fillIcmp6Checksum` from
 * `icmpv6.ts` over the whole message.
 *
 * @example Build a Neighbor Solicitation with a source link-layer address
 * ```ts
 * import { fillIcmp6Checksum } from "./icmpv6.ts";
 * import {
 *   emitNdLinkAddrOpt, emitNeighborSolicit, ND_OPT, NdOptions, NeighborSolicitView,
 *   parseNdOptions, solicitedNode,
 * } from "./ndp.ts";
 * const src = new Uint8Array(16), target = new Uint8Array(16), dst = new Uint8Array(16);
 * src[15] = 1;
 * target[15] = 2;
 * solicitedNode(target, dst);
 * const msg = new Uint8Array(32);
 * let n = emitNeighborSolicit(msg, 0, target);
 * n += emitNdLinkAddrOpt(msg, n, ND_OPT.SOURCE_LINKADDR, new Uint8Array([2, 0, 0, 0, 0, 1]));
 * fillIcmp6Checksum(msg, 0, n, src, dst);
 * const ns = new NeighborSolicitView();
 * const opts = new NdOptions();
 * console.log(ns.wrap(msg, 0, n), parseNdOptions(msg, ns.optionsOffset, ns.optionsEnd, opts));
 * console.log(opts.sourceLinkAddr); // 24: the option's offset
 * ```
 * @module
 */

import { fillIcmp6Checksum, ICMP6_TYPE, icmp6ChecksumOk } from "./icmpv6.ts";
import { readU32, writeU16, writeU32 } from "./bytes.ts";

/** Neighbour Discovery option types this stack names; others are skipped. */
export const ND_OPT = {
  SOURCE_LINKADDR: 1,
  TARGET_LINKADDR: 2,
  PREFIX_INFORMATION: 3,
  REDIRECTED_HEADER: 4,
  MTU: 5,
  NONCE: 14,
  ROUTE_INFO: 24,
  RDNSS: 25,
  DNSSL: 31,
} as const;

/** Printable names of option types. */
export const ND_OPT_NAME: Readonly<Record<number, string>> = {
  [ND_OPT.SOURCE_LINKADDR]: "source link-layer address",
  [ND_OPT.TARGET_LINKADDR]: "target link-layer address",
  [ND_OPT.PREFIX_INFORMATION]: "prefix information",
  [ND_OPT.REDIRECTED_HEADER]: "redirected header",
  [ND_OPT.MTU]: "mtu",
  [ND_OPT.NONCE]: "nonce",
  [ND_OPT.ROUTE_INFO]: "route information",
  [ND_OPT.RDNSS]: "rdnss",
  [ND_OPT.DNSSL]: "dnssl",
};

/** Router Advertisement flag bits (byte 5). */
export const ND_RA_FLAG = { MANAGED: 0x80, OTHER: 0x40, HOME_AGENT: 0x20 } as const;
/** Neighbor Advertisement flag bits (byte 4). */
export const ND_NA_FLAG = { ROUTER: 0x80, SOLICITED: 0x40, OVERRIDE: 0x20 } as const;
/** Prefix Information flag bits. */
export const ND_PREFIX_FLAG = { ONLINK: 0x80, AUTO: 0x40, ROUTER_ADDR: 0x20 } as const;

/** A lifetime meaning forever (RFC 4861 §4.6.2). */
export const ND_INFINITE_LIFETIME = 0xffffffff;
/** Hop limit every ND message must carry. */
export const ND_HOP_LIMIT = 255;

/** Fixed lengths of the message bodies (ICMPv6 header included). */
export const ND_RS_LEN = 8;
/** Router Advertisement fixed length. */
export const ND_RA_LEN = 16;
/** Neighbor Solicitation fixed length. */
export const ND_NS_LEN = 24;
/** Neighbor Advertisement fixed length. */
export const ND_NA_LEN = 24;
/** Redirect fixed length. */
export const ND_REDIRECT_LEN = 40;
/** MLDv1 message length. */
export const MLD_LEN = 24;
/** Prefix Information option length. */
export const ND_PREFIX_OPT_LEN = 32;
/** Offset of the quoted packet inside a Redirected Header option. */
export const ND_REDIRECTED_DATA = 8;

const RA = Object.freeze({ CURHOPLIMIT: 4, FLAGS: 5, LIFETIME: 6, REACHABLE: 8, RETRANS: 12 });
const NS = Object.freeze({ FLAGS: 4, TARGET: 8 });
const RD = Object.freeze({ TARGET: 8, DST: 24 });
const MLD = Object.freeze({ MAXDELAY: 4, GROUP: 8 });
const PI = Object.freeze({ PLEN: 2, FLAGS: 3, VALID: 4, PREFERRED: 8, PREFIX: 16 });

/** Why a message was refused: shorter than its fixed part, or a non-zero code. */
export type NdError = "tooshort" | "badcode";

/** Why a message's options were refused: a zero length, or an option past the end. */
export type NdOptError = "badoptlen" | "truncated";

function zero(b: Uint8Array, from: number, to: number): void {
  b.fill(0, from, to);
}

/**
 * The reusable base of the message views: the ICMPv6 header, the length
 * check, and where the options are.
 */
export class NdMessageView {
  #b: Uint8Array = new Uint8Array(0);
  #o = 0;
  #len = 0;
  readonly #fixed: number;
  readonly #checkCode: boolean;

  /** A view whose messages have `fixed` bytes before the options. */
  constructor(fixed: number, checkCode = true) {
    this.#fixed = fixed;
    this.#checkCode = checkCode;
  }

  /** Re-targets the view; `null` on success, else why the message is refused. */
  wrap(bytes: Uint8Array, offset: number, length: number): NdError | null {
    this.#b = bytes;
    this.#o = offset;
    this.#len = length;
    if (length < this.#fixed) return "tooshort";
    if (this.#checkCode && bytes[offset + 1] !== 0) return "badcode";
    return null;
  }

  /** The bytes this view looks at. */
  get bytes(): Uint8Array {
    return this.#b;
  }

  /** Offset of the ICMPv6 message in `bytes`. */
  get offset(): number {
    return this.#o;
  }

  /** Length of the message. */
  get length(): number {
    return this.#len;
  }

  /** ICMPv6 type. */
  get type(): number {
    return this.#b[this.#o];
  }

  /** ICMPv6 code. */
  get code(): number {
    return this.#b[this.#o + 1];
  }

  /** Offset of the first option in `bytes`. */
  get optionsOffset(): number {
    return this.#o + this.#fixed;
  }

  /** End of the options (the end of the message) in `bytes`. */
  get optionsEnd(): number {
    return this.#o + this.#len;
  }

  /** Whether the ICMPv6 checksum is correct for these IPv6 addresses. */
  checksumOk(src: Uint8Array, dst: Uint8Array): boolean {
    return icmp6ChecksumOk(this.#b, this.#o, this.#len, src, dst);
  }

  /** A 16-byte address at `at` from the message start (a subarray: no copy). */
  protected addrAt(at: number): Uint8Array {
    return this.#b.subarray(this.#o + at, this.#o + at + 16);
  }

  /** The byte at `at` from the message start. */
  protected u8At(at: number): number {
    return this.#b[this.#o + at];
  }

  /** The 16-bit word at `at` from the message start. */
  protected u16At(at: number): number {
    return (this.#b[this.#o + at] << 8) | this.#b[this.#o + at + 1];
  }

  /** The 32-bit word at `at` from the message start. */
  protected u32At(at: number): number {
    return readU32(this.#b, this.#o + at);
  }
}

/** A Router Solicitation (type 133). */
export class RouterSolicitView extends NdMessageView {
  constructor() {
    super(ND_RS_LEN);
  }
}

/** A Router Advertisement (type 134). */
export class RouterAdvertView extends NdMessageView {
  constructor() {
    super(ND_RA_LEN);
  }

  /** Hop limit hosts should use (0: unspecified). */
  get curHopLimit(): number {
    return this.u8At(RA.CURHOPLIMIT);
  }

  /** The flags byte (see {@link ND_RA_FLAG}). */
  get flags(): number {
    return this.u8At(RA.FLAGS);
  }

  /** M: addresses are available from DHCPv6. */
  get managed(): boolean {
    return (this.flags & ND_RA_FLAG.MANAGED) !== 0;
  }

  /** O: other configuration is available from DHCPv6. */
  get other(): boolean {
    return (this.flags & ND_RA_FLAG.OTHER) !== 0;
  }

  /** Default router preference (RFC 4191): 1 high, 0 medium, -1 low (reserved reads 0). */
  get preference(): number {
    const p = (this.flags >> 3) & 3;
    return p === 1 ? 1 : p === 3 ? -1 : 0;
  }

  /** Router lifetime in seconds (0: not a default router). */
  get routerLifetime(): number {
    return this.u16At(RA.LIFETIME);
  }

  /** Reachable time in milliseconds (0: unspecified). */
  get reachableTime(): number {
    return this.u32At(RA.REACHABLE);
  }

  /** Retransmission timer in milliseconds (0: unspecified). */
  get retransTimer(): number {
    return this.u32At(RA.RETRANS);
  }
}

/** A Neighbor Solicitation (type 135). */
export class NeighborSolicitView extends NdMessageView {
  constructor() {
    super(ND_NS_LEN);
  }

  /** The target address (a subarray: no copy). */
  get target(): Uint8Array {
    return this.addrAt(NS.TARGET);
  }
}

/** A Neighbor Advertisement (type 136). */
export class NeighborAdvertView extends NdMessageView {
  constructor() {
    super(ND_NA_LEN);
  }

  /** The flags byte (see {@link ND_NA_FLAG}). */
  get flags(): number {
    return this.u8At(NS.FLAGS);
  }

  /** R: the sender is a router. */
  get router(): boolean {
    return (this.flags & ND_NA_FLAG.ROUTER) !== 0;
  }

  /** S: sent in answer to a solicitation. */
  get solicited(): boolean {
    return (this.flags & ND_NA_FLAG.SOLICITED) !== 0;
  }

  /** O: override an existing cache entry. */
  get override(): boolean {
    return (this.flags & ND_NA_FLAG.OVERRIDE) !== 0;
  }

  /** The target address (a subarray: no copy). */
  get target(): Uint8Array {
    return this.addrAt(NS.TARGET);
  }
}

/** A Redirect (type 137). */
export class RedirectView extends NdMessageView {
  constructor() {
    super(ND_REDIRECT_LEN);
  }

  /** The better first hop (a subarray: no copy). */
  get target(): Uint8Array {
    return this.addrAt(RD.TARGET);
  }

  /** The destination being redirected (a subarray: no copy). */
  get destination(): Uint8Array {
    return this.addrAt(RD.DST);
  }
}

/**
 * An MLDv1 message (RFC 2710: query 130, report 131, done 132). The code is
 * ignored on receipt, as the RFC says. A longer query is MLDv2's (RFC 3810).
 */
export class MldView extends NdMessageView {
  constructor() {
    super(MLD_LEN, false);
  }

  /** Maximum response delay in milliseconds (queries). */
  get maxDelay(): number {
    return this.u16At(MLD.MAXDELAY);
  }

  /** The multicast address (`::` in a general query; a subarray: no copy). */
  get group(): Uint8Array {
    return this.addrAt(MLD.GROUP);
  }
}

// ---------------------------------------------------------------------------
// Options

/**
 * The options of one message, by offset of each option's type byte in the
 * walked bytes (-1: absent). A caller-owned object, overwritten by each
 * {@link parseNdOptions}. Of a single-instance option the first is kept
 * (later duplicates are ignored, as NetBSD does); Prefix Information options
 * fill the `prefixes` slots, and those beyond its capacity are counted in
 * `prefixOverflow`. Known options with a wrong length (an MTU option not 8
 * bytes, a Prefix option not 32) are ignored, as RFC 4861 §4.6 and NetBSD do.
 */
export class NdOptions {
  /** Source Link-Layer Address option. */
  sourceLinkAddr: number = -1;
  /** Target Link-Layer Address option. */
  targetLinkAddr: number = -1;
  /** MTU option. */
  mtu: number = -1;
  /** Redirected Header option. */
  redirectedHeader: number = -1;
  /** Nonce option (RFC 3971, used by RFC 7527 enhanced DAD). */
  nonce: number = -1;
  /** Offsets of Prefix Information options; the first `prefixCount` are valid. */
  readonly prefixes: Int32Array;
  /** How many `prefixes` slots are filled. */
  prefixCount: number = 0;
  /** Prefix Information options that did not fit the slots. */
  prefixOverflow: number = 0;
  /** Options seen (all types). */
  count: number = 0;
  /** Offset of the option at fault when the walk failed, else -1. */
  errorOffset: number = -1;

  /** Slots for up to `maxPrefixes` Prefix Information options. */
  constructor(maxPrefixes = 8) {
    this.prefixes = new Int32Array(maxPrefixes);
  }

  /** Clears every field before a walk. */
  reset(): void {
    this.sourceLinkAddr = -1;
    this.targetLinkAddr = -1;
    this.mtu = -1;
    this.redirectedHeader = -1;
    this.nonce = -1;
    this.prefixCount = 0;
    this.prefixOverflow = 0;
    this.count = 0;
    this.errorOffset = -1;
  }
}

/**
 * Walks the options in `bytes[start, end)` into `out`. Returns `null`, or why
 * the message must be dropped: an option of length 0 (`badoptlen`), or one
 * running past `end` (`truncated`). Unknown options are skipped.
 */
export function parseNdOptions(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: NdOptions,
): NdOptError | null {
  out.reset();
  let at = start;
  while (at < end) {
    if (at + 2 > end) {
      out.errorOffset = at;
      return "truncated";
    }
    const len = bytes[at + 1] * 8;
    if (len === 0) {
      out.errorOffset = at;
      return "badoptlen";
    }
    if (at + len > end) {
      out.errorOffset = at;
      return "truncated";
    }
    out.count++;
    switch (bytes[at]) {
      case ND_OPT.SOURCE_LINKADDR:
        if (out.sourceLinkAddr < 0) out.sourceLinkAddr = at;
        break;
      case ND_OPT.TARGET_LINKADDR:
        if (out.targetLinkAddr < 0) out.targetLinkAddr = at;
        break;
      case ND_OPT.MTU:
        if (len === 8 && out.mtu < 0) out.mtu = at;
        break;
      case ND_OPT.REDIRECTED_HEADER:
        if (out.redirectedHeader < 0) out.redirectedHeader = at;
        break;
      case ND_OPT.NONCE:
        if (out.nonce < 0) out.nonce = at;
        break;
      case ND_OPT.PREFIX_INFORMATION:
        if (len !== ND_PREFIX_OPT_LEN) break;
        if (out.prefixCount < out.prefixes.length) out.prefixes[out.prefixCount++] = at;
        else out.prefixOverflow++;
        break;
    }
    at += len;
  }
  return null;
}

/** The total length in bytes of the option at `at` (its length field times 8). */
export function ndOptLength(bytes: Uint8Array, at: number): number {
  return bytes[at + 1] * 8;
}

/**
 * The address of a Source/Target Link-Layer Address option at `at` (a
 * subarray: no copy). For Ethernet (an 8-byte option) it is the 6-byte MAC;
 * for other links it includes the option's padding.
 */
export function ndOptLinkAddr(bytes: Uint8Array, at: number): Uint8Array {
  return bytes.subarray(at + 2, at + bytes[at + 1] * 8);
}

/** The MTU carried by an MTU option at `at`. */
export function ndOptMtu(bytes: Uint8Array, at: number): number {
  return readU32(bytes, at + 4);
}

/** The 6 (or more) nonce bytes of a Nonce option at `at` (a subarray: no copy). */
export function ndOptNonce(bytes: Uint8Array, at: number): Uint8Array {
  return bytes.subarray(at + 2, at + bytes[at + 1] * 8);
}

/** A reusable view over a Prefix Information option (RFC 4861 §4.6.2). */
export class PrefixInfoView {
  #b: Uint8Array = new Uint8Array(0);
  #o = 0;

  /** Re-targets the view; `"badoptlen"` unless `length` and the length field say 32 bytes. */
  wrap(bytes: Uint8Array, offset: number, length: number): "badoptlen" | null {
    this.#b = bytes;
    this.#o = offset;
    if (length < ND_PREFIX_OPT_LEN || bytes[offset + 1] * 8 !== ND_PREFIX_OPT_LEN) {
      return "badoptlen";
    }
    return null;
  }

  /** Offset of the option in `bytes`. */
  get offset(): number {
    return this.#o;
  }

  /** Prefix length in bits. */
  get prefixLength(): number {
    return this.#b[this.#o + PI.PLEN];
  }

  /** The flags byte (see {@link ND_PREFIX_FLAG}). */
  get flags(): number {
    return this.#b[this.#o + PI.FLAGS];
  }

  /** L: the prefix is on-link. */
  get onLink(): boolean {
    return (this.flags & ND_PREFIX_FLAG.ONLINK) !== 0;
  }

  /** A: the prefix may be used for stateless address autoconfiguration. */
  get autonomous(): boolean {
    return (this.flags & ND_PREFIX_FLAG.AUTO) !== 0;
  }

  /** Valid lifetime in seconds ({@link ND_INFINITE_LIFETIME}: forever). */
  get validLifetime(): number {
    return readU32(this.#b, this.#o + PI.VALID);
  }

  /** Preferred lifetime in seconds ({@link ND_INFINITE_LIFETIME}: forever). */
  get preferredLifetime(): number {
    return readU32(this.#b, this.#o + PI.PREFERRED);
  }

  /** The prefix (a subarray: no copy; bits past the length are not cleared). */
  get prefix(): Uint8Array {
    return this.#b.subarray(this.#o + PI.PREFIX, this.#o + PI.PREFIX + 16);
  }
}

// ---------------------------------------------------------------------------
// Emitters (checksums: fillIcmp6Checksum over the finished message)

function emitNdHead(bytes: Uint8Array, offset: number, type: number): void {
  bytes[offset] = type;
  bytes[offset + 1] = 0;
  bytes[offset + 2] = 0;
  bytes[offset + 3] = 0;
}

/** Writes a Router Solicitation's fixed part; returns 8. */
export function emitRouterSolicit(bytes: Uint8Array, offset: number): number {
  emitNdHead(bytes, offset, ICMP6_TYPE.ROUTER_SOLICIT);
  zero(bytes, offset + 4, offset + ND_RS_LEN);
  return ND_RS_LEN;
}

/** Writes a Router Advertisement's fixed part (`flags` from {@link ND_RA_FLAG}); returns 16. */
export function emitRouterAdvert(
  bytes: Uint8Array,
  offset: number,
  curHopLimit: number,
  flags: number,
  routerLifetime: number,
  reachableTime: number,
  retransTimer: number,
): number {
  emitNdHead(bytes, offset, ICMP6_TYPE.ROUTER_ADVERT);
  bytes[offset + RA.CURHOPLIMIT] = curHopLimit;
  bytes[offset + RA.FLAGS] = flags;
  writeU16(bytes, offset + RA.LIFETIME, routerLifetime);
  writeU32(bytes, offset + RA.REACHABLE, reachableTime);
  writeU32(bytes, offset + RA.RETRANS, retransTimer);
  return ND_RA_LEN;
}

/** Writes a Neighbor Solicitation's fixed part; returns 24. */
export function emitNeighborSolicit(bytes: Uint8Array, offset: number, target: Uint8Array): number {
  emitNdHead(bytes, offset, ICMP6_TYPE.NEIGHBOR_SOLICIT);
  zero(bytes, offset + 4, offset + NS.TARGET);
  bytes.set(target.subarray(0, 16), offset + NS.TARGET);
  return ND_NS_LEN;
}

/** Writes a Neighbor Advertisement's fixed part (`flags` from {@link ND_NA_FLAG}); returns 24. */
export function emitNeighborAdvert(
  bytes: Uint8Array,
  offset: number,
  flags: number,
  target: Uint8Array,
): number {
  emitNdHead(bytes, offset, ICMP6_TYPE.NEIGHBOR_ADVERT);
  bytes[offset + NS.FLAGS] = flags;
  zero(bytes, offset + 5, offset + NS.TARGET);
  bytes.set(target.subarray(0, 16), offset + NS.TARGET);
  return ND_NA_LEN;
}

/** Writes a Redirect's fixed part; returns 40. */
export function emitRedirect(
  bytes: Uint8Array,
  offset: number,
  target: Uint8Array,
  destination: Uint8Array,
): number {
  emitNdHead(bytes, offset, ICMP6_TYPE.REDIRECT);
  zero(bytes, offset + 4, offset + RD.TARGET);
  bytes.set(target.subarray(0, 16), offset + RD.TARGET);
  bytes.set(destination.subarray(0, 16), offset + RD.DST);
  return ND_REDIRECT_LEN;
}

/**
 * Writes a Source (1) or Target (2) Link-Layer Address option, padded with
 * zeros to a multiple of 8 bytes; returns its length (8 for a MAC).
 */
export function emitNdLinkAddrOpt(
  bytes: Uint8Array,
  offset: number,
  type: number,
  addr: Uint8Array,
): number {
  const len = (addr.length + 2 + 7) & ~7;
  bytes[offset] = type;
  bytes[offset + 1] = len / 8;
  bytes.set(addr, offset + 2);
  zero(bytes, offset + 2 + addr.length, offset + len);
  return len;
}

/** Writes a Prefix Information option (`flags` from {@link ND_PREFIX_FLAG}); returns 32. */
export function emitNdPrefixOpt(
  bytes: Uint8Array,
  offset: number,
  prefixLength: number,
  flags: number,
  validLifetime: number,
  preferredLifetime: number,
  prefix: Uint8Array,
): number {
  bytes[offset] = ND_OPT.PREFIX_INFORMATION;
  bytes[offset + 1] = ND_PREFIX_OPT_LEN / 8;
  bytes[offset + PI.PLEN] = prefixLength;
  bytes[offset + PI.FLAGS] = flags;
  writeU32(bytes, offset + PI.VALID, validLifetime);
  writeU32(bytes, offset + PI.PREFERRED, preferredLifetime);
  zero(bytes, offset + 12, offset + PI.PREFIX);
  bytes.set(prefix.subarray(0, 16), offset + PI.PREFIX);
  return ND_PREFIX_OPT_LEN;
}

/** Writes an MTU option; returns 8. */
export function emitNdMtuOpt(bytes: Uint8Array, offset: number, mtu: number): number {
  bytes[offset] = ND_OPT.MTU;
  bytes[offset + 1] = 1;
  bytes[offset + 2] = 0;
  bytes[offset + 3] = 0;
  writeU32(bytes, offset + 4, mtu);
  return 8;
}

/** Writes a Nonce option around `nonce` (6 bytes for RFC 7527), zero-padded; returns its length. */
export function emitNdNonceOpt(bytes: Uint8Array, offset: number, nonce: Uint8Array): number {
  return emitNdLinkAddrOpt(bytes, offset, ND_OPT.NONCE, nonce);
}

/**
 * Writes a Redirected Header option quoting as much of `packet` (from its
 * IPv6 header on) as lets the option fit `maxLength` bytes and `bytes`,
 * zero-padded to a multiple of 8; returns its length (0 when not even the
 * 8-byte head fits). For a Redirect within the 1280-byte minimum MTU pass
 * `1280 - 40 - 40 - (other options)`.
 */
export function emitNdRedirectedHeaderOpt(
  bytes: Uint8Array,
  offset: number,
  packet: Uint8Array,
  maxLength: number,
): number {
  const room = (Math.min(maxLength, bytes.length - offset) - ND_REDIRECTED_DATA) & ~7;
  if (room < 0) return 0;
  const quoted = Math.min(packet.length, room);
  const len = ND_REDIRECTED_DATA + ((quoted + 7) & ~7);
  bytes[offset] = ND_OPT.REDIRECTED_HEADER;
  bytes[offset + 1] = len / 8;
  zero(bytes, offset + 2, offset + ND_REDIRECTED_DATA);
  bytes.set(packet.subarray(0, quoted), offset + ND_REDIRECTED_DATA);
  zero(bytes, offset + ND_REDIRECTED_DATA + quoted, offset + len);
  return len;
}

/**
 * Writes a whole MLDv1 message (`type` 130, 131 or 132) and fills its
 * checksum; returns 24. Reports go to the group, Done to all-routers, each
 * with hop limit 1 behind a Router Alert Hop-by-Hop header
 * (`emitRouterAlertHbh` in `ipv6.ts`).
 */
export function emitMld(
  bytes: Uint8Array,
  offset: number,
  type: number,
  maxDelay: number,
  group: Uint8Array,
  src: Uint8Array,
  dst: Uint8Array,
): number {
  emitNdHead(bytes, offset, type);
  writeU16(bytes, offset + MLD.MAXDELAY, maxDelay);
  bytes[offset + 6] = 0;
  bytes[offset + 7] = 0;
  bytes.set(group.subarray(0, 16), offset + MLD.GROUP);
  fillIcmp6Checksum(bytes, offset, MLD_LEN, src, dst);
  return MLD_LEN;
}

/** Writes an MLDv1 Report for `group` (sent to the group itself); returns 24. */
export function emitMldReport(
  bytes: Uint8Array,
  offset: number,
  group: Uint8Array,
  src: Uint8Array,
): number {
  return emitMld(bytes, offset, ICMP6_TYPE.MLD_REPORT, 0, group, src, group);
}

/** Writes an MLDv1 Done for `group` (sent to all-routers); returns 24. */
export function emitMldDone(
  bytes: Uint8Array,
  offset: number,
  group: Uint8Array,
  src: Uint8Array,
): number {
  return emitMld(bytes, offset, ICMP6_TYPE.MLD_DONE, 0, group, src, IP6_ALL_ROUTERS);
}

// ---------------------------------------------------------------------------
// Addresses

/** ff02::1, all nodes on the link. */
export const IP6_ALL_NODES: Uint8Array = new Uint8Array([
  0xff,
  0x02,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  1,
]);
/** ff02::2, all routers on the link. */
export const IP6_ALL_ROUTERS: Uint8Array = new Uint8Array([
  0xff,
  0x02,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  2,
]);
/** ff02::16, all MLDv2-capable routers (RFC 3810). */
export const IP6_ALL_MLDV2_ROUTERS: Uint8Array = new Uint8Array([
  0xff,
  0x02,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0x16,
]);
/** ::, the unspecified address (the source of DAD probes). */
export const IP6_UNSPECIFIED: Uint8Array = new Uint8Array(16);

/**
 * Writes the solicited-node multicast address of `addr` (ff02::1:ffXX:XXXX,
 * RFC 4291 §2.7.1) into `out` at `outOffset`.
 */
export function solicitedNode(addr: Uint8Array, out: Uint8Array, outOffset = 0): void {
  out[outOffset] = 0xff;
  out[outOffset + 1] = 0x02;
  out.fill(0, outOffset + 2, outOffset + 11);
  out[outOffset + 11] = 0x01;
  out[outOffset + 12] = 0xff;
  out[outOffset + 13] = addr[13];
  out[outOffset + 14] = addr[14];
  out[outOffset + 15] = addr[15];
}

/** Whether `addr` is a solicited-node multicast address (ff02::1:ff00:0/104). */
export function isSolicitedNode(addr: Uint8Array): boolean {
  if (addr[0] !== 0xff || addr[1] !== 0x02 || addr[11] !== 0x01 || addr[12] !== 0xff) {
    return false;
  }
  for (let i = 2; i < 11; i++) if (addr[i] !== 0) return false;
  return true;
}
