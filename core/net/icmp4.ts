/**
 * ICMP for IPv4 (RFC 792, RFC 1122 §3.2.2): answers echo, timestamp and (when
 * `net.inet.icmp.maskrepl` says so) mask requests; sends errors for the IP
 * layer, rate limited by `net.inet.icmp.errppslimit` and never in reply to an
 * ICMP error, a broadcast or multicast, a non-first fragment, or a packet from
 * an address that names no single host. Every ICMP message received is also
 * copied to the raw ICMP sockets (that is how `ping` sees its replies).
 *
 * An error (destination unreachable, time exceeded, parameter problem, source
 * quench) about a datagram this node sent goes up to the protocol of the
 * quoted datagram as a {@linkcode NetError}, with the errno NetBSD's
 * `inetctlerrmap` gives its `PRC_*` code (see {@linkcode errorKind4}).
 *
 * @example
 * ```ts ignore
 * icmp.error(iface, view, ICMP_TYPE.TIMXCEED, ICMP_TIMXCEED.INTRANS, 0, linkBcast);
 * ```
 * @module
 */

import type { StackContext } from "../stack_context.ts";
import type { NetInterface } from "../link/interface.ts";
import {
  emitIcmpError,
  ICMP_MINLEN,
  ICMP_TYPE,
  ICMP_UNREACH,
  IcmpView,
  isIcmpError,
} from "../wire/icmp.ts";
import { IPPROTO, type Ipv4View } from "../wire/ipv4.ts";
import { checksum } from "../wire/checksum.ts";
import { copyBytes, readU32, writeU32 } from "../wire/bytes.ts";
import type { PacketBuffer } from "../buf/packet_pool.ts";
import { formatIp4 } from "./ip_addr.ts";
import { IpAddr } from "./inet_addr.ts";
import { NetError, type NetErrorKind, unreachErrno4 } from "./protocols.ts";
import type { Errno } from "../errno.ts";

/** What ICMP needs of the IPv4 layer. */
export interface Icmp4Lower {
  /** Sends the ICMP message in `pkt` (and frees it); failures are counted, not thrown. */
  sendIcmp(pkt: PacketBuffer, dst: number, src: number | null): void;
  /** Whether `addr` is one of this stack's addresses. */
  isLocal(addr: number): boolean;
  /** Whether `addr` is a broadcast address on any interface. */
  isBroadcast(addr: number, iface: NetInterface): boolean;
  /** Records a smaller path MTU towards `dst` (RFC 1191). */
  pathMtu(dst: number, mtu: number): void;
}

/** RFC 1191 §7 plateaus, for routers that send "fragmentation needed" without an MTU. */
const MTU_PLATEAUS = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

/** The quoted IPv4 header and the 8 bytes of its transport header an error must hold. */
const QUOTE_MIN = 20 + 8;
/** An empty buffer, so the error object holds no packet between deliveries. */
const NO_BYTES = new Uint8Array(0);

/**
 * What an ICMP error reports, as NetBSD's `icmp_input` sorts it into `PRC_*`
 * codes; null for a code it calls bad (`badcode`): unreachable codes past 15,
 * time exceeded and parameter problem past 1, source quench other than 0.
 */
export function errorKind4(type: number, code: number): NetErrorKind | null {
  switch (type) {
    case ICMP_TYPE.UNREACH:
      if (code === ICMP_UNREACH.NEEDFRAG) return "needfrag";
      return code <= ICMP_UNREACH.PRECEDENCE_CUTOFF ? "unreach" : null;
    case ICMP_TYPE.TIMXCEED:
      return code <= 1 ? "timex" : null;
    case ICMP_TYPE.PARAMPROB:
      return code <= 1 ? "paramprob" : null;
    case ICMP_TYPE.SOURCEQUENCH:
      return code === 0 ? "quench" : null;
    default:
      return null;
  }
}

/**
 * The errno of an ICMP error, from NetBSD's `inetctlerrmap`: unreachable as
 * {@linkcode unreachErrno4} (PRC_UNREACH_*), fragmentation needed EMSGSIZE
 * (PRC_MSGSIZE), parameter problem ENOPROTOOPT (PRC_PARAMPROB); time exceeded
 * (PRC_TIMXCEED_*) and source quench (PRC_QUENCH) map to 0 there: soft, null.
 */
export function errorErrno4(kind: NetErrorKind, code: number): Errno | null {
  switch (kind) {
    case "unreach":
      return unreachErrno4(code);
    case "needfrag":
      return "EMSGSIZE";
    case "paramprob":
      return "ENOPROTOOPT";
    default:
      return null;
  }
}

/** The ICMP layer of a stack. */
export class Icmp4Layer {
  readonly #ctx: StackContext;
  readonly #lower: Icmp4Lower;
  readonly #view = new IcmpView();
  /** The error handed to transports: one object, overwritten per error. */
  readonly #err = new NetError(new IpAddr(), new IpAddr());
  #errSecond = -1;
  #errCount = 0;

  constructor(ctx: StackContext, lower: Icmp4Lower) {
    this.#ctx = ctx;
    this.#lower = lower;
  }

  /**
   * A received ICMP message; `ip` is the (reassembled) datagram's view, and
   * `toGroup` says it went to a broadcast or multicast address (link or IP).
   */
  input(iface: NetInterface, ip: Ipv4View, toGroup: boolean): void {
    const st = this.#ctx.stats.icmp;
    const v = this.#view;
    if (v.wrap(ip.bytes, ip.payloadOffset, ip.payloadLength) !== null) {
      st.tooshort++;
      return;
    }
    const skipSum = iface.isLoopback && this.#ctx.tunables.ip.doLoopbackCksum === 0;
    if (!skipSum && !v.checksumOk()) {
      st.checksum++;
      return;
    }
    const type = v.type;
    if (type <= 18) st.inhist[type]++;
    this.#toRawSockets(iface, ip);
    switch (type) {
      case ICMP_TYPE.ECHO:
        if (toGroup && this.#ctx.tunables.icmp.bmcastecho === 0) return;
        this.#reflect(iface, ip, ICMP_TYPE.ECHOREPLY, toGroup);
        return;
      case ICMP_TYPE.TSTAMP:
        if (toGroup || this.#ctx.tunables.icmp.tstamprepl === 0) return;
        if (v.length < 20) {
          st.badlen++;
          return;
        }
        this.#timestampReply(iface, ip);
        return;
      case ICMP_TYPE.MASKREQ:
        if (this.#ctx.tunables.icmp.maskrepl === 0 || v.length < 12) return;
        this.#maskReply(iface, ip, toGroup);
        return;
      case ICMP_TYPE.UNREACH:
      case ICMP_TYPE.TIMXCEED:
      case ICMP_TYPE.PARAMPROB:
      case ICMP_TYPE.SOURCEQUENCH:
        this.#errorInput(v);
        return;
      default:
        if (isIcmpError(type) && v.payloadLength < QUOTE_MIN) st.badlen++;
        // Redirects and replies go to the raw sockets only (done above).
    }
  }

  /**
   * Sends an error about the datagram in `ip`, unless RFC 1122 forbids it or the
   * rate limit is reached. `extra` is the 4-byte field (MTU, pointer, gateway).
   */
  error(
    iface: NetInterface,
    ip: Ipv4View,
    type: number,
    code: number,
    extra: number,
    linkBcast: boolean,
  ): void {
    const st = this.#ctx.stats.icmp;
    if (!this.#mayAnswer(iface, ip, linkBcast)) return;
    if (ip.protocol === IPPROTO.ICMP && ip.fragOffset === 0) {
      const inner = ip.payloadOffset;
      if (ip.payloadLength < ICMP_MINLEN || isIcmpError(ip.bytes[inner])) {
        st.oldicmp++;
        return;
      }
    }
    if (!this.#rateOk()) return;
    st.error++;
    const returned = this.#ctx.tunables.icmp.returndatabytes;
    // Never past the bytes actually held (a stored first fragment may be cut short).
    const keep = Math.min(ip.totalLength, ip.length, ip.headerLen + returned);
    const pkt = this.#ctx.pool.alloc(ICMP_MINLEN + keep);
    const quoted = ip.bytes.subarray(ip.offset, ip.offset + keep);
    emitIcmpError(pkt.bytes, pkt.start, { type, code, extra }, quoted);
    if (type <= 18) st.outhist[type]++;
    this.#lower.sendIcmp(pkt, ip.src, this.#lower.isLocal(ip.dst) ? ip.dst : null);
  }

  /**
   * An error about a datagram (RFC 792, RFC 1122 §3.2.2.1): the quote must
   * hold an IPv4 header and 8 bytes of what followed it (else `badlen`, as
   * NetBSD's ICMP_ADVLEN check), be about a unicast destination, and come from
   * one of our addresses (we sent it). Then "fragmentation needed" teaches the
   * path MTU, and the protocol of the quoted datagram gets the error.
   */
  #errorInput(v: IcmpView): void {
    const st = this.#ctx.stats.icmp;
    const type = v.type, code = v.code;
    const kind = errorKind4(type, code);
    if (kind === null) {
      st.badcode++;
      return;
    }
    const b = v.bytes, q = v.payloadOffset, quoted = v.payloadLength;
    const hl = (b[q] & 0x0f) << 2;
    if (quoted < QUOTE_MIN || b[q] >> 4 !== 4 || hl < 20 || hl + 8 > quoted) {
      st.badlen++;
      return;
    }
    const src = readU32(b, q + 12), dst = readU32(b, q + 16);
    if (dst >>> 28 === 0xe) {
      st.badcode++; // NetBSD: an error about a multicast names no single peer
      return;
    }
    if (!this.#lower.isLocal(src)) return;
    const mtu = kind === "needfrag" ? this.#needFrag(v, dst) : 0;
    const e = this.#err;
    e.family = 4;
    e.kind = kind;
    e.type = type;
    e.code = code;
    e.errno = errorErrno4(kind, code);
    e.mtu = mtu;
    e.bytes = b;
    e.offset = q + hl;
    e.length = quoted - hl;
    e.proto = b[q + 9];
    e.src.setV4(src);
    e.dst.setV4(dst);
    try {
      this.#ctx.protocols.get(4, e.proto)?.controlInput?.(e);
    } finally {
      e.bytes = NO_BYTES;
    }
  }

  /**
   * "Fragmentation needed" about a datagram we sent to `dst` (quote checked):
   * the next-hop MTU, or for an old router that gives none the next plateau
   * below what was sent; remembered as the path MTU when `mtudisc` is on.
   */
  #needFrag(v: IcmpView, dst: number): number {
    const q = v.payloadOffset, b = v.bytes;
    let mtu = v.nextHopMtu;
    if (mtu < 68) {
      const sent = (b[q + 2] << 8) | b[q + 3];
      mtu = 68;
      for (let i = 0; i < MTU_PLATEAUS.length; i++) {
        if (MTU_PLATEAUS[i] < sent) {
          mtu = MTU_PLATEAUS[i];
          break;
        }
      }
    }
    if (this.#ctx.tunables.ip.mtudisc !== 0) {
      this.#ctx.stats.icmp.pmtuchg++;
      this.#lower.pathMtu(dst, mtu);
    }
    return mtu;
  }

  /** Copies the message, IP header included, to raw ICMP sockets (BSD rip_input). */
  #toRawSockets(iface: NetInterface, ip: Ipv4View): void {
    const raw = this.#ctx.raw;
    if (!raw.wants("inet", IPPROTO.ICMP)) return;
    const packet = ip.bytes.subarray(ip.offset, ip.offset + ip.totalLength);
    raw.deliver("inet", IPPROTO.ICMP, packet, formatIp4(ip.src), ip.ttl, iface.name);
  }

  /** RFC 1122: no error to broadcasts, multicasts, non-first fragments, or non-host sources. */
  #mayAnswer(iface: NetInterface, ip: Ipv4View, linkBcast: boolean): boolean {
    if (linkBcast || ip.fragOffset !== 0) return false;
    const dst = ip.dst, src = ip.src;
    if (dst >>> 28 === 0xe || this.#lower.isBroadcast(dst, iface)) return false;
    if (src === 0 || src >>> 28 >= 0xe || this.#lower.isBroadcast(src, iface)) return false;
    return true;
  }

  /** At most `errppslimit` errors a second (0 or less: no limit). */
  #rateOk(): boolean {
    const limit = this.#ctx.tunables.icmp.errppslimit;
    if (limit <= 0) return true;
    const second = Math.floor(this.#ctx.now() / 1000);
    if (second !== this.#errSecond) {
      this.#errSecond = second;
      this.#errCount = 0;
    }
    return ++this.#errCount <= limit;
  }

  /** Copies the query into a packet buffer, ready to be turned around. */
  #copyQuery(ip: Ipv4View, length: number): PacketBuffer {
    const pkt = this.#ctx.pool.alloc(length);
    copyBytes(pkt.bytes, pkt.start, ip.bytes, ip.payloadOffset, length);
    return pkt;
  }

  /** Turns a query around: same body, new type, checksum refilled. */
  #reflect(iface: NetInterface, ip: Ipv4View, type: number, toGroup: boolean): void {
    const pkt = this.#copyQuery(ip, ip.payloadLength);
    pkt.bytes[pkt.start] = type;
    pkt.bytes[pkt.start + 1] = 0;
    this.#sendReply(iface, ip, pkt, toGroup);
  }

  #timestampReply(iface: NetInterface, ip: Ipv4View): void {
    const pkt = this.#copyQuery(ip, 20);
    const b = pkt.bytes, at = pkt.start;
    // Milliseconds since midnight UT would need a wall clock; the stack has only
    // a monotonic one, so it sets the high bit ("non-standard time", RFC 792).
    const ms = (Math.floor(this.#ctx.now()) % 86_400_000) | 0x80000000;
    b[at] = ICMP_TYPE.TSTAMPREPLY;
    for (const field of [12, 16]) writeU32(b, at + field, ms);
    this.#sendReply(iface, ip, pkt, false);
  }

  #maskReply(iface: NetInterface, ip: Ipv4View, toGroup: boolean): void {
    const a = iface.inet.find((x) => ((x.addr ^ ip.src) & x.mask) === 0) ?? iface.inet[0];
    if (!a) return;
    const pkt = this.#copyQuery(ip, 12);
    pkt.bytes[pkt.start] = ICMP_TYPE.MASKREPLY;
    writeU32(pkt.bytes, pkt.start + 8, a.mask);
    this.#sendReply(iface, ip, pkt, toGroup);
  }

  #sendReply(iface: NetInterface, ip: Ipv4View, pkt: PacketBuffer, toGroup: boolean): void {
    const b = pkt.bytes, at = pkt.start;
    b[at + 2] = b[at + 3] = 0;
    const sum = checksum(b, at, pkt.end);
    b[at + 2] = sum >> 8;
    b[at + 3] = sum & 0xff;
    if (ip.src === 0 || ip.src >>> 28 >= 0xe) {
      this.#ctx.pool.free(pkt);
      return;
    }
    this.#ctx.stats.icmp.reflect++;
    if (b[at] <= 18) this.#ctx.stats.icmp.outhist[b[at]]++;
    // Reply from the address asked, or (to a broadcast) from the interface's own.
    const src = toGroup ? (iface.inet[0]?.addr ?? null) : ip.dst | 0;
    // Signed addresses: the IPv4 layer takes either, and these stay unboxed (see isBroadcast).
    this.#lower.sendIcmp(pkt, ip.src | 0, src);
  }
}
