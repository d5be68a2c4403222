/**
 * The protocol table both IP layers deliver through (NetBSD's `inetsw`,
 * gVisor's transport protocol registration): a transport registers a handler
 * for its protocol number and families, IP input hands it a family-neutral
 * {@linkcode NetHeader}, and ICMP/ICMPv6 hand it the errors that quote its
 * packets as a {@linkcode NetError}. Adding a protocol touches no `switch` in IP.
 *
 * Both objects are reused for every packet (one per IP layer): a handler reads
 * them during the call and copies what it keeps.
 *
 * @example Register a protocol
 * ```ts
 * import { ProtocolTable, type TransportProtocol } from "./protocols.ts";
 * const table = new ProtocolTable();
 * const udp: TransportProtocol = { name: "udp", input(h) { console.log(h.length); } };
 * table.register(17, [4, 6], udp);
 * console.log(table.get(6, 17) === udp, table.get(4, 6)); // true null
 * ```
 * @module
 */

import type { Errno } from "../errno.ts";
import type { NetInterface } from "../link/interface.ts";
import { pseudoSum4, sumWords } from "../wire/checksum.ts";
import type { IpAddr, IpFamily } from "./inet_addr.ts";

/** Why an IP layer answers a datagram no one takes. */
export type UnreachableReason = "port" | "protocol";

/** What a transport may ask of the IP layer that delivered a datagram. */
export interface NetLayer {
  /**
   * Answers the datagram behind `h` with destination unreachable (IPv4
   * port/protocol unreachable; IPv6 port unreachable, or a parameter problem
   * at the Next Header field), unless it went to a group or the rate limit says no.
   */
  unreachable(h: NetHeader, reason: UnreachableReason): void;
}

/** A received datagram for this node, as a transport sees it (either family). */
export class NetHeader {
  family: IpFamily = 4;
  /** The layer that delivered it (for unreachable answers). */
  layer: NetLayer | null = null;
  /** The interface it came in by. */
  iface: NetInterface | null = null;
  /** The buffer holding the datagram (borrowed for the call). */
  bytes: Uint8Array = new Uint8Array(0);
  /** First byte of the IP header. */
  ipOffset = 0;
  /** Bytes from the IP header to the end of the datagram. */
  ipLength = 0;
  /** The transport protocol number. */
  proto = 0;
  /** First byte of the transport header (after any IPv6 extension headers). */
  offset = 0;
  /** Transport header and payload length. */
  length = 0;
  /** TTL or hop limit as received. */
  hopLimit = 0;
  /** Sent to a broadcast or multicast address (no unreachable answers). */
  toGroup = false;
  /** Came in by a loopback: a protocol may skip its checksum (its `do_loopback_cksum` says). */
  viaLoopback = false;
  /** IPv4 source and destination as numbers (0 for IPv6). */
  src4 = 0;
  dst4 = 0;
  /** Zone of a scoped IPv6 source (the arrival interface's index), else 0. */
  zone = 0;
  /** Offset of the IPv6 field naming this protocol (for parameter problems); -1 for IPv4. */
  nextHeaderField = -1;

  /** The pseudo-header sum for a transport checksum over `length` bytes (RFC 768/793/8200). */
  pseudoSum(length = this.length): number {
    if (this.family === 4) return pseudoSum4(this.src4, this.dst4, this.proto, length);
    // Source and destination lie side by side in the IPv6 header: one pass, no views.
    const at = this.ipOffset;
    return sumWords(this.bytes, at + 8, at + 40) + (length >>> 16) + (length & 0xffff) + this.proto;
  }

  /** Copies the source address into `out`. */
  copySource(out: IpAddr): IpAddr {
    return this.family === 4
      ? out.setV4(this.src4)
      : out.setV6(this.bytes, this.ipOffset + 8, this.zone);
  }

  /** Copies the destination address into `out`. */
  copyDestination(out: IpAddr): IpAddr {
    const b = this.bytes, at = this.ipOffset + 24;
    const scoped = b[at] === 0xfe && (b[at + 1] & 0xc0) === 0x80 ||
      b[at] === 0xff && (b[at + 1] & 0x0f) <= 2;
    return this.family === 4 ? out.setV4(this.dst4) : out.setV6(b, at, scoped ? this.zone : 0);
  }
}

/** What an ICMP or ICMPv6 error reported, in family-neutral terms. */
export type NetErrorKind =
  | "unreach" // destination unreachable (net, host, protocol, port, admin...)
  | "needfrag" // IPv4 fragmentation needed / IPv6 packet too big: `mtu` says the new size
  | "timex" // time exceeded in transit or reassembly
  | "paramprob" // parameter problem
  | "quench"; // source quench (deprecated; soft)

/**
 * An ICMP/ICMPv6 error about a datagram this node sent, handed to the
 * protocol of the quoted datagram. `errno` follows NetBSD's `inetctlerrmap`
 * (and `inet6ctlerrmap`): what a connected socket reports.
 */
export class NetError {
  family: IpFamily = 4;
  kind: NetErrorKind = "unreach";
  /** The ICMP type and code as received. */
  type = 0;
  code = 0;
  /** The error a socket sees; null for soft errors that only inform. */
  errno: Errno | null = null;
  /** The next-hop MTU (needfrag / packet too big), else 0. */
  mtu = 0;
  /** The buffer with the quoted datagram. */
  bytes: Uint8Array = new Uint8Array(0);
  /** The quoted transport header: its offset and how many bytes of it are held (at least 8). */
  offset = 0;
  length = 0;
  /** The quoted datagram's protocol, source (our address) and destination (the peer). */
  proto = 0;
  readonly src: IpAddr;
  readonly dst: IpAddr;

  constructor(src: IpAddr, dst: IpAddr) {
    this.src = src;
    this.dst = dst;
  }

  /** The quoted source port (the first 16 bits of a TCP or UDP header). */
  get srcPort(): number {
    return (this.bytes[this.offset] << 8) | this.bytes[this.offset + 1];
  }

  /** The quoted destination port. */
  get dstPort(): number {
    return (this.bytes[this.offset + 2] << 8) | this.bytes[this.offset + 3];
  }
}

/** A transport protocol as the IP layers see it. */
export interface TransportProtocol {
  /** For logs and diagnostics. */
  readonly name: string;
  /** A datagram for this node; `h` and its bytes are borrowed for the call. */
  input(h: NetHeader): void;
  /** An ICMP error quoting a datagram of this protocol (NetBSD's `pr_ctlinput`). */
  controlInput?(e: NetError): void;
}

/** Protocol number to handler, per family. */
export class ProtocolTable {
  readonly #v4: (TransportProtocol | null)[] = new Array(256).fill(null);
  readonly #v6: (TransportProtocol | null)[] = new Array(256).fill(null);

  /** Registers `handler` for `proto` on each family given; throws when the slot is taken. */
  register(proto: number, families: readonly IpFamily[], handler: TransportProtocol): void {
    if (!Number.isInteger(proto) || proto < 0 || proto > 255) {
      throw new RangeError(`Protocol number ${proto} is out of range`);
    }
    for (const f of families) {
      const slots = f === 4 ? this.#v4 : this.#v6;
      if (slots[proto]) throw new Error(`Protocol ${proto} is already registered for IPv${f}`);
    }
    for (const f of families) (f === 4 ? this.#v4 : this.#v6)[proto] = handler;
  }

  /** The handler for `proto` in `family`, or null. */
  get(family: IpFamily, proto: number): TransportProtocol | null {
    return (family === 4 ? this.#v4 : this.#v6)[proto];
  }
}

/**
 * NetBSD's `inetctlerrmap` for ICMP destination unreachable codes: net and
 * host (and their variants) are EHOSTUNREACH, protocol and port ECONNREFUSED,
 * source route failed EHOSTUNREACH, administratively prohibited (13) EHOSTUNREACH.
 */
export function unreachErrno4(code: number): Errno {
  return code === 2 || code === 3 ? "ECONNREFUSED" : "EHOSTUNREACH";
}

/**
 * `inet6ctlerrmap` for ICMPv6 destination unreachable codes, through the
 * `PRC_*` code NetBSD's icmp6_input gives each: no route (0, PRC_UNREACH_NET)
 * EHOSTUNREACH, administratively prohibited (1, PRC_UNREACH_PROTOCOL) and port
 * (4, PRC_UNREACH_PORT) ECONNREFUSED, beyond scope (2, PRC_PARAMPROB)
 * ENOPROTOOPT, address unreachable (3, PRC_HOSTDEAD) EHOSTDOWN; others
 * (NetBSD drops them as bad codes) EHOSTUNREACH.
 */
export function unreachErrno6(code: number): Errno {
  switch (code) {
    case 1:
    case 4:
      return "ECONNREFUSED";
    case 2:
      return "ENOPROTOOPT";
    case 3:
      return "EHOSTDOWN";
    default:
      return "EHOSTUNREACH";
  }
}
