/**
 * IPv6 (RFC 8200): the fixed header, the extension-header chain, option TLVs
 * and the Fragment header. Follows the conventions of `ethernet.ts`: reusable
 * views re-targeted by `wrap`, offsets in frozen tables, accessors in place,
 * emitters writing into buffers the caller sized.
 *
 * The extension-header walk reports into a caller-owned {@link Ipv6HeaderWalk},
 * so a hot path keeps one of each and allocates nothing per packet. Offsets it
 * reports are absolute positions in the walked `bytes`; an ICMPv6 Parameter
 * Problem pointer is such an offset minus the offset of the IPv6 header.
 *
 * @example Parse a header, walk its chain, build a header
 * ```ts
 * import {
 *   emitIpv6Header, IPPROTO6, IPV6_HEADER_LEN, Ipv6HeaderWalk, Ipv6View, walkIpv6Headers,
 * } from "./ipv6.ts";
 * const src = new Uint8Array(16), dst = new Uint8Array(16);
 * src[15] = 1;
 * dst[15] = 2;
 * const pkt = new Uint8Array(IPV6_HEADER_LEN + 8);
 * emitIpv6Header(pkt, 0, src, dst, IPPROTO6.NONE, 8, 64);
 * const ip = new Ipv6View();
 * console.log(ip.wrap(pkt, 0, pkt.length)); // null
 * const walk = new Ipv6HeaderWalk();
 * walkIpv6Headers(pkt, IPV6_HEADER_LEN, ip.payloadLength, ip.nextHeader, 15, walk);
 * console.log(walk.proto === IPPROTO6.NONE, walk.protoOffset); // true 40
 * ```
 * @module
 */

/** Next Header values this stack names; others pass through as numbers. */
export const IPPROTO6 = {
  HOPOPTS: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
} as const;

/** Printable names of Next Header values. */
export const IPPROTO6_NAME: Readonly<Record<number, string>> = {
  [IPPROTO6.HOPOPTS]: "hop-by-hop",
  [IPPROTO6.ICMP]: "icmp",
  [IPPROTO6.TCP]: "tcp",
  [IPPROTO6.UDP]: "udp",
  [IPPROTO6.IPV6]: "ipv6",
  [IPPROTO6.ROUTING]: "routing",
  [IPPROTO6.FRAGMENT]: "fragment",
  [IPPROTO6.ESP]: "esp",
  [IPPROTO6.AH]: "ah",
  [IPPROTO6.ICMPV6]: "icmp6",
  [IPPROTO6.NONE]: "no-next-header",
  [IPPROTO6.DSTOPTS]: "dst-options",
};

/** Length of the fixed header. */
export const IPV6_HEADER_LEN = 40;
/** The version number in the first nibble. */
export const IPV6_VERSION = 6;
/** The minimum link MTU every IPv6 link must carry (RFC 8200 §5). */
export const IPV6_MIN_MTU = 1280;
/** Length of a Fragment header. */
export const IPV6_FRAG_HEADER_LEN = 8;
/** The default `net.inet6.ip6.hdrnestlimit` (NetBSD). */
export const IPV6_HDRNEST_LIMIT = 15;

const F = Object.freeze({ VTC: 0, PLEN: 4, NXT: 6, HLIM: 7, SRC: 8, DST: 24 });
const FRAG = Object.freeze({ NXT: 0, OFFLG: 2, ID: 4 });

/** Why a packet was refused: shorter than 40 bytes, not version 6, payload past the end. */
export type Ipv6Error = "tooshort" | "badvers" | "badlen";

/**
 * A reusable view over an IPv6 fixed header. `wrap` accepts trailing bytes past
 * `40 + payloadLength` (link padding) and ignores them; jumbograms (RFC 2675,
 * payload length 0 with a Jumbo option) are not supported and read as empty.
 */
export class Ipv6View {
  #b: Uint8Array = new Uint8Array(0);
  #o = 0;
  #len = 0;
  readonly #src = new Uint8Array(16);
  readonly #dst = new Uint8Array(16);

  /** Re-targets the view; `null` on success, else why the packet is refused. */
  wrap(bytes: Uint8Array, offset: number, length: number): Ipv6Error | null {
    this.#b = bytes;
    this.#o = offset;
    this.#len = length;
    if (length < IPV6_HEADER_LEN) return "tooshort";
    // The addresses are copied out (32 bytes) rather than viewed: no view object per packet.
    const s = this.#src, d = this.#dst;
    for (let i = 0, at = offset + F.SRC; i < 16; i++) {
      s[i] = bytes[at + i];
      d[i] = bytes[at + 16 + i];
    }
    if (bytes[offset] >> 4 !== IPV6_VERSION) return "badvers";
    if (IPV6_HEADER_LEN + this.payloadLength > length) return "badlen";
    return null;
  }

  /** The bytes this view looks at. */
  get bytes(): Uint8Array {
    return this.#b;
  }

  /** Offset of the header in `bytes`. */
  get offset(): number {
    return this.#o;
  }

  /** Length given to `wrap` (may include trailing padding). */
  get length(): number {
    return this.#len;
  }

  /** The version nibble. */
  get version(): number {
    return this.#b[this.#o] >> 4;
  }

  /** Traffic class (DSCP and ECN). */
  get trafficClass(): number {
    return ((this.#b[this.#o] & 0x0f) << 4) | (this.#b[this.#o + 1] >> 4);
  }

  /** The 20-bit flow label. */
  get flowLabel(): number {
    const b = this.#b, o = this.#o;
    return ((b[o + 1] & 0x0f) << 16) | (b[o + 2] << 8) | b[o + 3];
  }

  /** Payload length: bytes after the fixed header, extension headers included. */
  get payloadLength(): number {
    return (this.#b[this.#o + F.PLEN] << 8) | this.#b[this.#o + F.PLEN + 1];
  }

  /** The Next Header field of the fixed header. */
  get nextHeader(): number {
    return this.#b[this.#o + F.NXT];
  }

  /** Hop limit. */
  get hopLimit(): number {
    return this.#b[this.#o + F.HLIM];
  }

  /**
   * Source address: a copy taken at `wrap`, owned by this view (the same array
   * each time; copy it to keep it past the next `wrap`).
   */
  get src(): Uint8Array {
    return this.#src;
  }

  /** Destination address: a copy taken at `wrap`, owned by this view (see `src`). */
  get dst(): Uint8Array {
    return this.#dst;
  }

  /** Offset of the source address in `bytes` (the destination follows at +16). */
  get srcOffset(): number {
    return this.#o + F.SRC;
  }

  /** Offset of the payload (the first extension header, if any) in `bytes`. */
  get payloadOffset(): number {
    return this.#o + IPV6_HEADER_LEN;
  }

  /** The packet's length by its header: `40 + payloadLength`. */
  get packetLength(): number {
    return IPV6_HEADER_LEN + this.payloadLength;
  }

  /** Whether the destination is multicast (ff00::/8). */
  get isMulticast(): boolean {
    return this.#b[this.#o + F.DST] === 0xff;
  }

  /** Sets the hop limit. */
  setHopLimit(hopLimit: number): void {
    this.#b[this.#o + F.HLIM] = hopLimit;
  }

  /** Sets the payload length. */
  setPayloadLength(length: number): void {
    this.#b[this.#o + F.PLEN] = length >> 8;
    this.#b[this.#o + F.PLEN + 1] = length & 0xff;
  }

  /** Sets the Next Header field of the fixed header. */
  setNextHeader(next: number): void {
    this.#b[this.#o + F.NXT] = next;
  }

  /** Sets the traffic class. */
  setTrafficClass(tc: number): void {
    const b = this.#b, o = this.#o;
    b[o] = (IPV6_VERSION << 4) | ((tc >> 4) & 0x0f);
    b[o + 1] = ((tc & 0x0f) << 4) | (b[o + 1] & 0x0f);
  }

  /** Sets the flow label. */
  setFlowLabel(label: number): void {
    const b = this.#b, o = this.#o;
    b[o + 1] = (b[o + 1] & 0xf0) | ((label >> 16) & 0x0f);
    b[o + 2] = (label >> 8) & 0xff;
    b[o + 3] = label & 0xff;
  }

  /** Sets the source address. */
  setSrc(addr: Uint8Array): void {
    copy16(this.#b, this.#o + F.SRC, addr);
    copy16(this.#src, 0, addr);
  }

  /** Sets the destination address. */
  setDst(addr: Uint8Array): void {
    copy16(this.#b, this.#o + F.DST, addr);
    copy16(this.#dst, 0, addr);
  }
}

/** Writes a fixed IPv6 header at `offset`; returns its length (40). */
export function emitIpv6Header(
  bytes: Uint8Array,
  offset: number,
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  payloadLength: number,
  hopLimit: number,
  trafficClass = 0,
  flowLabel = 0,
): number {
  bytes[offset] = (IPV6_VERSION << 4) | ((trafficClass >> 4) & 0x0f);
  bytes[offset + 1] = ((trafficClass & 0x0f) << 4) | ((flowLabel >> 16) & 0x0f);
  bytes[offset + 2] = (flowLabel >> 8) & 0xff;
  bytes[offset + 3] = flowLabel & 0xff;
  bytes[offset + F.PLEN] = payloadLength >> 8;
  bytes[offset + F.PLEN + 1] = payloadLength & 0xff;
  bytes[offset + F.NXT] = nextHeader;
  bytes[offset + F.HLIM] = hopLimit;
  copy16(bytes, offset + F.SRC, src);
  copy16(bytes, offset + F.DST, dst);
  return IPV6_HEADER_LEN;
}

/** Copies a 16-byte address to `to[at..]` (a loop: no view object). */
function copy16(to: Uint8Array, at: number, addr: Uint8Array): void {
  for (let i = 0; i < 16; i++) to[at + i] = addr[i];
}

// ---------------------------------------------------------------------------
// Options (Hop-by-Hop and Destination Options, RFC 8200 §4.2)

/** Option types this stack names. */
export const IP6OPT = {
  PAD1: 0x00,
  PADN: 0x01,
  TUNNEL_LIMIT: 0x04,
  ROUTER_ALERT: 0x05,
  JUMBO: 0xc2,
  HOME_ADDRESS: 0xc9,
} as const;

/** Printable names of option types. */
export const IP6OPT_NAME: Readonly<Record<number, string>> = {
  [IP6OPT.PAD1]: "Pad1",
  [IP6OPT.PADN]: "PadN",
  [IP6OPT.TUNNEL_LIMIT]: "tunnel-limit",
  [IP6OPT.ROUTER_ALERT]: "router-alert",
  [IP6OPT.JUMBO]: "jumbo",
  [IP6OPT.HOME_ADDRESS]: "home-address",
};

/**
 * What to do with an unrecognised option: the two high bits of its type.
 * SKIP: skip it and go on. DISCARD: drop the packet silently. ICMP: drop and
 * send a Parameter Problem (code 2). ICMP_UNLESS_MULTICAST: the same, but only
 * when the destination is not multicast.
 */
export const IP6OPT_ACTION = {
  SKIP: 0,
  DISCARD: 1,
  ICMP: 2,
  ICMP_UNLESS_MULTICAST: 3,
} as const;

/** Printable names of option actions. */
export const IP6OPT_ACTION_NAME: Readonly<Record<number, string>> = {
  [IP6OPT_ACTION.SKIP]: "skip",
  [IP6OPT_ACTION.DISCARD]: "discard",
  [IP6OPT_ACTION.ICMP]: "discard+icmp",
  [IP6OPT_ACTION.ICMP_UNLESS_MULTICAST]: "discard+icmp-unless-multicast",
};

/** The action bits of an option type (0..3, see {@link IP6OPT_ACTION}). */
export function ip6OptAction(type: number): number {
  return (type >> 6) & 3;
}

/** Whether an option's data may change en route (the third-highest bit). */
export function ip6OptMayChange(type: number): boolean {
  return (type & 0x20) !== 0;
}

/**
 * Writes an 8-byte Hop-by-Hop header holding a Router Alert option (RFC 2711)
 * and a 0-length PadN, as MLD messages carry; returns 8.
 */
export function emitRouterAlertHbh(
  bytes: Uint8Array,
  offset: number,
  nextHeader: number,
  value = 0,
): number {
  bytes[offset] = nextHeader;
  bytes[offset + 1] = 0;
  bytes[offset + 2] = IP6OPT.ROUTER_ALERT;
  bytes[offset + 3] = 2;
  bytes[offset + 4] = value >> 8;
  bytes[offset + 5] = value & 0xff;
  bytes[offset + 6] = IP6OPT.PADN;
  bytes[offset + 7] = 0;
  return 8;
}

// ---------------------------------------------------------------------------
// The extension-header walk

/**
 * Why a header chain was refused.
 * - `truncated`: a header runs past the bytes given (or a first fragment does
 *   not hold the whole chain).
 * - `toomany`: more extension headers than the limit (net.inet6.ip6.hdrnestlimit).
 * - `badopt`: a malformed option TLV (its length runs past its header).
 * - `unknownopt`: an unrecognised option whose action bits say discard;
 *   `optAction` says whether to answer with ICMPv6 (Parameter Problem code 2).
 * - `hbhnotfirst`: a Hop-by-Hop header anywhere but first (Parameter Problem
 *   code 1, pointing at the Next Header field that named it).
 *
 * In every case `errorOffset` is the offset of the byte at fault in `bytes`
 * (for `truncated`, the start of the header that does not fit).
 */
export type Ipv6ExtError = "truncated" | "toomany" | "badopt" | "unknownopt" | "hbhnotfirst";

/** The result of {@link walkIpv6Headers}: a caller-owned object, overwritten by each walk. */
export class Ipv6HeaderWalk {
  /** The protocol after the chain: upper layer, NONE (59), or an unknown number. */
  proto: number = 0;
  /** Offset of that protocol's header (or, for a later fragment, of its data). */
  protoOffset: number = 0;
  /** Offset of the Next Header field that named `proto`; -1 when it was `firstNext`. */
  nextFieldOffset: number = -1;
  /** Extension headers walked. */
  count: number = 0;
  /** Offset of the first Fragment header, or -1. */
  fragOffset: number = -1;
  /** The walk stopped at a Fragment header with a non-zero offset: what follows is data. */
  laterFragment: boolean = false;
  /** Offset of the first Routing header, or -1 (its type and segments left are the caller's). */
  routingOffset: number = -1;
  /** The Router Alert value of the Hop-by-Hop header, or -1. */
  routerAlert: number = -1;
  /** Whether a Hop-by-Hop header appeared anywhere but first. */
  hbhNotFirst: boolean = false;
  /** Offset of the byte at fault when the walk failed, else -1. */
  errorOffset: number = -1;
  /** The option type behind `unknownopt`, else -1. */
  optType: number = -1;
  /** The action of that option (see {@link IP6OPT_ACTION}). */
  optAction: number = 0;

  /** Clears every field before a walk. */
  reset(): void {
    this.proto = 0;
    this.protoOffset = 0;
    this.nextFieldOffset = -1;
    this.count = 0;
    this.fragOffset = -1;
    this.laterFragment = false;
    this.routingOffset = -1;
    this.routerAlert = -1;
    this.hbhNotFirst = false;
    this.errorOffset = -1;
    this.optType = -1;
    this.optAction = 0;
  }
}

/** Whether a Next Header value names an extension header this walk follows. */
export function isIpv6ExtHeader(next: number): boolean {
  return next === IPPROTO6.HOPOPTS || next === IPPROTO6.ROUTING ||
    next === IPPROTO6.FRAGMENT || next === IPPROTO6.DSTOPTS || next === IPPROTO6.AH;
}

/**
 * Walks the options of a Hop-by-Hop or Destination Options header occupying
 * `bytes[start, end)` (its 2-byte head included). Pad1, PadN and, in
 * Hop-by-Hop, Router Alert are recognised; others follow their action bits.
 * Returns `null`, `"badopt"` or `"unknownopt"`, filling `out`'s error fields
 * and `routerAlert`.
 */
export function walkIpv6Options(
  bytes: Uint8Array,
  start: number,
  end: number,
  hopByHop: boolean,
  out: Ipv6HeaderWalk,
): "badopt" | "unknownopt" | null {
  let i = start + 2;
  while (i < end) {
    const type = bytes[i];
    if (type === IP6OPT.PAD1) {
      i++;
      continue;
    }
    if (i + 2 > end || i + 2 + bytes[i + 1] > end) {
      out.errorOffset = i + (i + 2 > end ? 0 : 1);
      return "badopt";
    }
    const len = bytes[i + 1];
    if (type === IP6OPT.PADN) {
      // Nothing to check: receivers ignore PadN contents.
    } else if (hopByHop && type === IP6OPT.ROUTER_ALERT) {
      if (len !== 2) {
        out.errorOffset = i + 1;
        return "badopt";
      }
      out.routerAlert = (bytes[i + 2] << 8) | bytes[i + 3];
    } else {
      const action = ip6OptAction(type);
      if (action !== IP6OPT_ACTION.SKIP) {
        out.errorOffset = i;
        out.optType = type;
        out.optAction = action;
        return "unknownopt";
      }
    }
    i += 2 + len;
  }
  return null;
}

/**
 * Follows the extension headers from `bytes[offset]`, the first being of type
 * `firstNext`, through at most `length` bytes (normally `payloadLength`).
 * Stops at an upper-layer protocol (anything not Hop-by-Hop, Routing,
 * Fragment, Destination Options or AH), at No Next Header, or after a Fragment
 * header with a non-zero offset (`laterFragment`). `limit` is the most
 * extension headers allowed (0: no limit; the walk stays bounded by `length`).
 * Fills `out` and returns `null` or why the chain is refused; the first
 * problem in packet order wins, as a stack processing headers in turn finds it.
 */
export function walkIpv6Headers(
  bytes: Uint8Array,
  offset: number,
  length: number,
  firstNext: number,
  limit: number,
  out: Ipv6HeaderWalk,
): Ipv6ExtError | null {
  out.reset();
  const end = offset + length;
  let next = firstNext;
  let at = offset;
  while (isIpv6ExtHeader(next)) {
    if (next === IPPROTO6.HOPOPTS && out.count > 0) {
      out.hbhNotFirst = true;
      out.errorOffset = out.nextFieldOffset;
      return "hbhnotfirst";
    }
    if (limit > 0 && out.count >= limit) {
      out.errorOffset = at;
      return "toomany";
    }
    if (at + 2 > end) {
      out.errorOffset = at;
      return "truncated";
    }
    let hlen: number;
    if (next === IPPROTO6.FRAGMENT) hlen = IPV6_FRAG_HEADER_LEN;
    else if (next === IPPROTO6.AH) hlen = (bytes[at + 1] + 2) * 4;
    else hlen = (bytes[at + 1] + 1) * 8;
    if (at + hlen > end) {
      out.errorOffset = at;
      return "truncated";
    }
    out.count++;
    if (next === IPPROTO6.HOPOPTS || next === IPPROTO6.DSTOPTS) {
      const err = walkIpv6Options(bytes, at, at + hlen, next === IPPROTO6.HOPOPTS, out);
      if (err !== null) return err;
    } else if (next === IPPROTO6.ROUTING) {
      if (out.routingOffset < 0) out.routingOffset = at;
    } else if (next === IPPROTO6.FRAGMENT) {
      if (out.fragOffset < 0) out.fragOffset = at;
      if (((bytes[at + FRAG.OFFLG] << 8) | bytes[at + FRAG.OFFLG + 1]) & 0xfff8) {
        out.laterFragment = true;
        out.proto = bytes[at];
        out.nextFieldOffset = at;
        out.protoOffset = at + hlen;
        return null;
      }
    }
    next = bytes[at];
    out.nextFieldOffset = at;
    at += hlen;
  }
  out.proto = next;
  out.protoOffset = at;
  return null;
}

// ---------------------------------------------------------------------------
// The Fragment header (RFC 8200 §4.5)

/** A reusable view over a Fragment header. */
export class FragmentView {
  #b: Uint8Array = new Uint8Array(0);
  #o = 0;

  /** Re-targets the view; `null` on success, `"truncated"` when under 8 bytes. */
  wrap(bytes: Uint8Array, offset: number, length: number): "truncated" | null {
    this.#b = bytes;
    this.#o = offset;
    return length < IPV6_FRAG_HEADER_LEN ? "truncated" : null;
  }

  /** The bytes this view looks at. */
  get bytes(): Uint8Array {
    return this.#b;
  }

  /** Offset of the header in `bytes`. */
  get offset(): number {
    return this.#o;
  }

  /** Next Header of the fragmented part. */
  get nextHeader(): number {
    return this.#b[this.#o + FRAG.NXT];
  }

  /** Fragment offset in bytes (a multiple of 8). */
  get fragmentOffset(): number {
    return ((this.#b[this.#o + FRAG.OFFLG] << 8) | this.#b[this.#o + FRAG.OFFLG + 1]) & 0xfff8;
  }

  /** The M flag: more fragments follow. */
  get more(): boolean {
    return (this.#b[this.#o + FRAG.OFFLG + 1] & 1) !== 0;
  }

  /** Identification. */
  get id(): number {
    const b = this.#b, o = this.#o + FRAG.ID;
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }

  /** Whether this is an atomic fragment (offset 0, no more: RFC 6946). */
  get atomic(): boolean {
    return this.fragmentOffset === 0 && !this.more;
  }

  /** Offset of the fragment data in `bytes`. */
  get dataOffset(): number {
    return this.#o + IPV6_FRAG_HEADER_LEN;
  }

  /** Sets the Next Header field. */
  setNextHeader(next: number): void {
    this.#b[this.#o + FRAG.NXT] = next;
  }
}

/** Writes a Fragment header (`fragOffset` in bytes, a multiple of 8); returns 8. */
export function emitFragmentHeader(
  bytes: Uint8Array,
  offset: number,
  nextHeader: number,
  fragOffset: number,
  more: boolean,
  id: number,
): number {
  bytes[offset + FRAG.NXT] = nextHeader;
  bytes[offset + 1] = 0;
  bytes[offset + FRAG.OFFLG] = (fragOffset >> 8) & 0xff;
  bytes[offset + FRAG.OFFLG + 1] = (fragOffset & 0xf8) | (more ? 1 : 0);
  bytes[offset + FRAG.ID] = (id >>> 24) & 0xff;
  bytes[offset + FRAG.ID + 1] = (id >>> 16) & 0xff;
  bytes[offset + FRAG.ID + 2] = (id >>> 8) & 0xff;
  bytes[offset + FRAG.ID + 3] = id & 0xff;
  return IPV6_FRAG_HEADER_LEN;
}
