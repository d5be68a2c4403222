/**
 * ICMPv6 (RFC 4443): answers echo requests (to multicast too, from a unicast
 * address of the receiving interface, as §4.1 says a node SHOULD), sends
 * errors for the IPv6 layer under the §2.4 rules (never about an ICMPv6 error
 * or redirect, about a packet to a multicast address or sent as link-layer
 * multicast, except Packet Too Big and Parameter Problem code 2, nor about a
 * packet whose source names no single node), rate limited to
 * `net.inet6.icmp6.errppslimit` a second when the MIB has that name (else 100),
 * quoting as much of the packet as fits the 1280-byte minimum MTU. Packet Too
 * Big messages update the path MTU; Neighbour Discovery messages go to the ND
 * layer. Every message received is also copied to the raw ICMPv6 sockets,
 * without its IPv6 header (RFC 3542). Counters are NetBSD's `icmp6stat`.
 * An error about a packet this node sent goes up to the protocol of the quoted
 * packet as a {@linkcode NetError}, with the errno NetBSD's `inet6ctlerrmap`
 * gives its `PRC_*` code (see {@linkcode errorKind6}).
 *
 * @example
 * ```ts ignore
 * icmp6.error(iface, bytes, ipOffset, ipLength, ICMP6_TYPE.TIME_EXCEEDED, 0, 0, false);
 * ```
 * @module
 */

import type { StackContext } from "../stack_context.ts";
import { copyBytes } from "../wire/bytes.ts";
import type { NetInterface } from "../link/interface.ts";
import type { PacketBuffer } from "../buf/packet_pool.ts";
import {
  emitIcmp6Error,
  ICMP6_ERROR_MAX_LEN,
  ICMP6_HEADER_LEN,
  ICMP6_TYPE,
  Icmp6View,
  IPPROTO_ICMPV6,
} from "../wire/icmpv6.ts";
import {
  IPPROTO6,
  IPV6_HEADER_LEN,
  IPV6_MIN_MTU,
  Ipv6HeaderWalk,
  type Ipv6View,
  walkIpv6Headers,
} from "../wire/ipv6.ts";
import { formatIp6, isLinkLocal6, isUnspecified6 } from "./ip_addr.ts";
import type { CounterName, Icmp6Stats } from "../stats.ts";
import { IpAddr } from "./inet_addr.ts";
import { NetError, type NetErrorKind, unreachErrno6 } from "./protocols.ts";
import type { Errno } from "../errno.ts";
import { ICMP6_NI_QUERY, NodeInfoResponder } from "./icmp6_ni.ts";

/** An ICMPv6 counter. */
type Icmp6Counter = CounterName<Icmp6Stats>;

/** NetBSD's icmp6_errcount: the per-type-and-code output counter of an error. */
function errCounter(type: number, code: number): Icmp6Counter {
  switch (type) {
    case ICMP6_TYPE.DST_UNREACH:
      return ([
        "odst_unreach_noroute",
        "odst_unreach_admin",
        "odst_unreach_beyondscope",
        "odst_unreach_addr",
        "odst_unreach_noport",
      ] as const)[code] ?? "ounknown";
    case ICMP6_TYPE.PACKET_TOO_BIG:
      return "opacket_too_big";
    case ICMP6_TYPE.TIME_EXCEEDED:
      return (["otime_exceed_transit", "otime_exceed_reassembly"] as const)[code] ?? "ounknown";
    case ICMP6_TYPE.PARAM_PROB:
      return (["oparamprob_header", "oparamprob_nextheader", "oparamprob_option"] as const)[code] ??
        "ounknown";
    case ICMP6_TYPE.REDIRECT:
      return "oredirect";
    default:
      return "ounknown";
  }
}
const ERR_COUNTERS = Array.from(
  { length: 5 },
  (_, type) => Array.from({ length: 8 }, (_, code) => errCounter(type, code)),
);

/** An empty buffer, so the error object holds no packet between deliveries. */
const NO_BYTES = new Uint8Array(0);

/**
 * What an ICMPv6 error reports, as NetBSD's `icmp6_input` sorts it into
 * `PRC_*` codes; null for a code it calls bad (`badcode`): unreachable past 4,
 * time exceeded past 1, parameter problem past 2.
 */
export function errorKind6(type: number, code: number): NetErrorKind | null {
  switch (type) {
    case ICMP6_TYPE.DST_UNREACH:
      return code <= 4 ? "unreach" : null;
    case ICMP6_TYPE.PACKET_TOO_BIG:
      return "needfrag";
    case ICMP6_TYPE.TIME_EXCEEDED:
      return code <= 1 ? "timex" : null;
    case ICMP6_TYPE.PARAM_PROB:
      return code <= 2 ? "paramprob" : null;
    default:
      return null;
  }
}

/**
 * The errno of an ICMPv6 error, from NetBSD's `inet6ctlerrmap`: unreachable as
 * {@linkcode unreachErrno6}, Packet Too Big EMSGSIZE (PRC_MSGSIZE), time
 * exceeded soft (PRC_TIMXCEED_*: 0, so null), parameter problem ECONNREFUSED
 * for an unrecognised Next Header (PRC_UNREACH_PROTOCOL) and ENOPROTOOPT for
 * the rest (PRC_PARAMPROB).
 */
export function errorErrno6(kind: NetErrorKind, code: number): Errno | null {
  switch (kind) {
    case "unreach":
      return unreachErrno6(code);
    case "needfrag":
      return "EMSGSIZE";
    case "paramprob":
      return code === 1 ? "ECONNREFUSED" : "ENOPROTOOPT";
    default:
      return null;
  }
}

/** Where an ICMPv6 message goes out. */
export interface Icmp6SendOptions {
  /** Source; chosen by the IPv6 layer when `null`. */
  src: Uint8Array | null;
  /** Interface index of a link-local destination. */
  zone?: number;
  hlim?: number;
  /** Send out of this interface. */
  iface?: NetInterface;
}

/** What ICMPv6 needs of the IPv6 layer. */
export interface Icmp6Lower {
  /** Sends the ICMPv6 message in `pkt` (checksum filled on the way), frees it; never throws. */
  send(pkt: PacketBuffer, dst: Uint8Array, opts: Icmp6SendOptions): void;
  /** Whether `addr` is a usable unicast address of this stack. */
  isLocal(addr: Uint8Array): boolean;
  /** The zone (interface index) of `addr` as seen on `iface`, for link-local addresses. */
  zoneOf(iface: NetInterface, addr: Uint8Array): number | undefined;
  /** Records a smaller path MTU towards `dst` (a Packet Too Big arrived). */
  pathMtu(dst: Uint8Array, zone: number | undefined, mtu: number): void;
  /** A Neighbour Discovery message (types 133-137), checksum already verified. */
  ndInput(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void;
}

/** The MLD layer as ICMPv6 sees it. */
export interface Icmp6MldInput {
  /** An MLD message at `ip.bytes[offset, offset + length)`. */
  input(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void;
}

/** The ICMPv6 layer of a stack. */
export class Icmp6Layer {
  readonly #ctx: StackContext;
  readonly #lower: Icmp6Lower;
  /** Node Information queries (RFC 4620), answered as `net.inet6.icmp6.nodeinfo` allows. */
  readonly nodeInfo: NodeInfoResponder;
  /** Where MLD messages (types 130-132) go, checksum verified; the stack sets it. */
  mld: Icmp6MldInput | null = null;
  readonly #view = new Icmp6View();
  readonly #replyTo = new Uint8Array(16);
  readonly #replyFrom = new Uint8Array(16);
  readonly #replyOpts: Icmp6SendOptions = { src: null };
  /** The error handed to transports, the walk of its quote, a PTB's destination: reused. */
  readonly #err = new NetError(new IpAddr(), new IpAddr());
  readonly #quoteWalk = new Ipv6HeaderWalk();
  readonly #ptbDst = new Uint8Array(16);
  #errSecond = -1;
  #errCount = 0;

  constructor(ctx: StackContext, lower: Icmp6Lower) {
    this.#ctx = ctx;
    this.#lower = lower;
    this.nodeInfo = new NodeInfoResponder(ctx, lower);
  }

  /**
   * A received ICMPv6 message at `bytes[offset, offset + length)` of the
   * datagram `ip` (reassembled, extension headers already walked).
   */
  input(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    const st = this.#ctx.stats.icmp6;
    const v = this.#view;
    if (v.wrap(ip.bytes, offset, length) !== null) {
      st.tooshort++;
      return;
    }
    if (!v.checksumOk(ip.src, ip.dst)) {
      st.checksum++;
      return;
    }
    const type = v.type;
    st.inhist[type]++;
    this.#toRawSockets(iface, ip, offset, length);
    switch (type) {
      case ICMP6_TYPE.ECHO_REQUEST:
        this.#echoReply(iface, ip, offset, length);
        return;
      case ICMP6_NI_QUERY:
        this.nodeInfo.input(iface, ip, offset, length);
        return;
      case ICMP6_TYPE.PACKET_TOO_BIG:
        if (v.bodyLength < IPV6_HEADER_LEN) {
          st.badlen++;
          return;
        }
        this.#packetTooBig(iface, v);
        this.#errorInput(iface, v);
        return;
      case ICMP6_TYPE.DST_UNREACH:
      case ICMP6_TYPE.TIME_EXCEEDED:
      case ICMP6_TYPE.PARAM_PROB:
        if (v.bodyLength < IPV6_HEADER_LEN) {
          st.badlen++;
          return;
        }
        this.#errorInput(iface, v);
        return;
      case ICMP6_TYPE.ROUTER_SOLICIT:
      case ICMP6_TYPE.ROUTER_ADVERT:
      case ICMP6_TYPE.NEIGHBOR_SOLICIT:
      case ICMP6_TYPE.NEIGHBOR_ADVERT:
      case ICMP6_TYPE.REDIRECT:
        this.#lower.ndInput(iface, ip, offset, length);
        return;
      case ICMP6_TYPE.MLD_QUERY:
      case ICMP6_TYPE.MLD_REPORT:
      case ICMP6_TYPE.MLD_DONE:
        this.mld?.input(iface, ip, offset, length);
        return;
      default:
        if (type < 128 && v.bodyLength < IPV6_HEADER_LEN) {
          st.badlen++;
          return;
        }
        // Other errors and replies go to the raw sockets only (done above).
    }
  }

  /**
   * Sends an error about the packet at `bytes[ipOffset, ipOffset + ipLength)`
   * received on `iface`, unless RFC 4443 §2.4 forbids it or the rate limit is
   * reached. `word` is the MTU, the pointer, or 0; `linkMcast` says the packet
   * came as a link-layer multicast or broadcast.
   */
  error(
    iface: NetInterface,
    bytes: Uint8Array,
    ipOffset: number,
    ipLength: number,
    type: number,
    code: number,
    word: number,
    linkMcast: boolean,
  ): void {
    const st = this.#ctx.stats.icmp6;
    st.error++;
    st[ERR_COUNTERS[type]?.[code] ?? "ounknown"]++;
    if (ipLength < IPV6_HEADER_LEN) return;
    const dst = bytes.subarray(ipOffset + 24, ipOffset + 40);
    const src = bytes.subarray(ipOffset + 8, ipOffset + 24);
    const exempt = type === ICMP6_TYPE.PACKET_TOO_BIG ||
      (type === ICMP6_TYPE.PARAM_PROB && code === 2);
    if ((linkMcast || dst[0] === 0xff) && !exempt) return;
    if (src[0] === 0xff || isUnspecified6(src)) return;
    if (aboutIcmpError(bytes, ipOffset, ipLength)) {
      st.canterror++;
      return;
    }
    if (!this.allowError()) return;
    const pkt = this.#ctx.pool.alloc(Math.min(ICMP6_ERROR_MAX_LEN, ICMP6_HEADER_LEN + ipLength));
    const zone = this.#lower.zoneOf(iface, src);
    // The source is the address the packet was sent to when it is ours; else
    // the IPv6 layer selects one. The checksum is filled once it is known.
    const from = this.#lower.isLocal(dst) ? dst.slice() : null;
    const to = src.slice();
    emitIcmp6Error(
      pkt.bytes,
      pkt.start,
      type,
      code,
      word,
      bytes.subarray(ipOffset, ipOffset + ipLength),
      to,
      from ?? to,
      pkt.length,
    );
    st.outhist[type]++;
    this.#lower.send(pkt, to, { src: from, zone });
  }

  /** Copies the message, without its IPv6 header, to the raw ICMPv6 sockets (rip6_input). */
  #toRawSockets(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    const raw = this.#ctx.raw;
    if (!raw.wants("inet6", IPPROTO_ICMPV6)) return;
    const src = ip.src;
    let from = formatIp6(src);
    if (isLinkLocal6(src)) {
      const zone = this.#lower.zoneOf(iface, src);
      const name = zone === undefined ? undefined : this.#ctx.interfaceByIndex(zone)?.name;
      if (name) from += `%${name}`;
    }
    const msg = ip.bytes.subarray(offset, offset + length);
    raw.deliver("inet6", IPPROTO_ICMPV6, msg, from, ip.hopLimit, iface.name);
  }

  /** Echo reply with the request's body, from the address asked (or a unicast one for a group). */
  #echoReply(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    const src = ip.src;
    if (src[0] === 0xff || isUnspecified6(src)) return;
    const pkt = this.#ctx.pool.alloc(length);
    copyBytes(pkt.bytes, pkt.start, ip.bytes, offset, length);
    pkt.bytes[pkt.start] = ICMP6_TYPE.ECHO_REPLY;
    pkt.bytes[pkt.start + 1] = 0;
    const dst = ip.dst;
    // The addresses are the input view's: copied into arrays of this layer, reused per reply.
    const to = this.#replyTo, from = this.#replyFrom, opts = this.#replyOpts;
    to.set(src);
    from.set(dst);
    opts.src = dst[0] === 0xff ? null : from;
    opts.zone = this.#lower.zoneOf(iface, src);
    const st = this.#ctx.stats.icmp6;
    st.reflect++;
    st.outhist[ICMP6_TYPE.ECHO_REPLY]++;
    this.#lower.send(pkt, to, opts);
  }

  #packetTooBig(iface: NetInterface, v: Icmp6View): void {
    const mtu = v.mtu;
    // RFC 8200 §5: a PTB below the minimum MTU changes nothing.
    if (mtu < IPV6_MIN_MTU) return;
    const b = v.bytes, at = v.bodyOffset + 24, dst = this.#ptbDst;
    for (let i = 0; i < 16; i++) dst[i] = b[at + i];
    this.#lower.pathMtu(dst, this.#lower.zoneOf(iface, dst), mtu);
  }

  /**
   * An error about a packet (RFC 4443 §2.4 (f), §3): the quoted packet's
   * upper-layer header is found by walking its extension headers within the
   * quote (a chain or header cut short counts `tooshort` and goes nowhere, as
   * in NetBSD's icmp6_notify_error; so does a later fragment), its source must
   * be one of our addresses (we sent it), and its protocol gets the error.
   * Runs after Packet Too Big has updated the path MTU; `mtu` is never below
   * 1280 (RFC 8201 §4).
   */
  #errorInput(iface: NetInterface, v: Icmp6View): void {
    const st = this.#ctx.stats.icmp6;
    const type = v.type, code = v.code;
    const kind = errorKind6(type, code);
    if (kind === null) {
      st.badcode++;
      return;
    }
    const b = v.bytes, q = v.bodyOffset, end = q + v.bodyLength;
    if (b[q] >> 4 !== 6) {
      st.badlen++;
      return;
    }
    const w = this.#quoteWalk;
    const bad = walkIpv6Headers(b, q + IPV6_HEADER_LEN, end - q - IPV6_HEADER_LEN, b[q + 6], 0, w);
    if (bad !== null || w.laterFragment || w.protoOffset + 8 > end) {
      if (bad === "truncated" || (bad === null && !w.laterFragment)) st.tooshort++;
      return;
    }
    const e = this.#err;
    const src = e.src.setV6(b, q + 8), dst = e.dst.setV6(b, q + 24);
    if (!this.#lower.isLocal(src.bytes)) return;
    src.zone = this.#lower.zoneOf(iface, src.bytes) ?? 0;
    dst.zone = this.#lower.zoneOf(iface, dst.bytes) ?? 0;
    e.family = 6;
    e.kind = kind;
    e.type = type;
    e.code = code;
    e.errno = errorErrno6(kind, code);
    e.mtu = kind === "needfrag" ? Math.max(v.mtu, IPV6_MIN_MTU) : 0;
    e.bytes = b;
    e.offset = w.protoOffset;
    e.length = end - w.protoOffset;
    e.proto = w.proto;
    try {
      this.#ctx.protocols.get(6, e.proto)?.controlInput?.(e);
    } finally {
      e.bytes = NO_BYTES;
    }
  }

  /**
   * The rate limit shared by errors and redirects (NetBSD's icmp6_ratelimit):
   * at most `errppslimit` a second (0 or less: no limit). Counts `toofreq`
   * when it says no.
   */
  allowError(): boolean {
    const limit = this.#ctx.tunables.icmp6.errppslimit;
    if (limit <= 0) return true;
    const second = Math.floor(this.#ctx.now() / 1000);
    if (second !== this.#errSecond) {
      this.#errSecond = second;
      this.#errCount = 0;
    }
    if (++this.#errCount <= limit) return true;
    this.#ctx.stats.icmp6.toofreq++;
    return false;
  }
}

/**
 * Whether the packet carries an ICMPv6 error or a Redirect (RFC 4443
 * §2.4 (e.1), (e.2)): follows the extension headers without judging them.
 */
function aboutIcmpError(bytes: Uint8Array, ipOffset: number, ipLength: number): boolean {
  const end = ipOffset + ipLength;
  let next = bytes[ipOffset + 6];
  let at = ipOffset + IPV6_HEADER_LEN;
  for (let n = 0; n < 64 && at + 2 <= end; n++) {
    switch (next) {
      case IPPROTO6.HOPOPTS:
      case IPPROTO6.ROUTING:
      case IPPROTO6.DSTOPTS:
        next = bytes[at];
        at += (bytes[at + 1] + 1) * 8;
        continue;
      case IPPROTO6.AH:
        next = bytes[at];
        at += (bytes[at + 1] + 2) * 4;
        continue;
      case IPPROTO6.FRAGMENT:
        // A later fragment's upper-layer header is elsewhere: nothing to see.
        if (((bytes[at + 2] << 8) | bytes[at + 3]) & 0xfff8) return false;
        next = bytes[at];
        at += 8;
        continue;
      case IPPROTO_ICMPV6:
        return at < end && (bytes[at] < 128 || bytes[at] === ICMP6_TYPE.REDIRECT);
      default:
        return false;
    }
  }
  return false;
}
