/**
 * ICMPv6 Node Information queries (RFC 4620; types 139 and 140), answered as
 * KAME's `ni6_input` answers them in NetBSD and QNX io-pkt:
 *
 * - nothing at all unless `net.inet6.icmp6.nodeinfo` is non-zero (QNX ships
 *   it 0; NetBSD 1); bit 1 allows the node name (FQDN) query, bit 2 the node
 *   addresses query; NOOP and Supported Qtypes need only a non-zero value;
 * - the query must be to one of our unicast addresses or a link-local
 *   multicast group we joined (the Node Information group of our name:
 *   {@linkcode nodeInfoGroup});
 * - an IPv6-address Subject must equal the destination; a name Subject must
 *   match `kern.hostname` (a name truncated with `\0\0` matches its prefix);
 *   IPv4 Subjects and the IPv4 addresses qtype are not supported (dropped);
 * - the node name is `kern.hostname` in DNS wire form, lower case, with two
 *   terminating zeros for a name of fewer than two dots, TTL 0 (meaningless);
 *   the 03-draft query without Subject, and any unknown qtype, get the old
 *   length-prefixed form;
 * - node addresses are those of the interface holding the Subject, or of
 *   every interface with the `A` flag, filtered by the L/S/G flags (anycast
 *   ones only with the experimental anycast flag), preferred before
 *   deprecated ones, each with its valid lifetime (at most 2^31-1), cut at
 *   2048 bytes with the `T` flag;
 * - anything refused is silently dropped (KAME never sends the Refused or
 *   Unknown codes). The reply goes to the querier from the address asked (a
 *   selected one for a group), and the query still reaches raw sockets.
 *
 * @example
 * ```ts ignore
 * const ni = new NodeInfoResponder(ctx, lower);
 * if (icmpType === 139) ni.input(iface, ip, offset, length);
 * ```
 * @module
 */

import type { StackContext } from "../stack_context.ts";
import type { NetInterface } from "../link/interface.ts";
import type { Ipv6View } from "../wire/ipv6.ts";
import { IPV6_HEADER_LEN } from "../wire/ipv6.ts";
import { md5 } from "../lib/md5.ts";
import type { Icmp6SendOptions } from "./icmp6.ts";
import type { PacketBuffer } from "../buf/packet_pool.ts";

/** ICMPv6 Node Information Query / Reply types. */
export const ICMP6_NI_QUERY = 139;
export const ICMP6_NI_REPLY = 140;
/** Query codes: what the Subject is. */
export const NI_SUBJ = { IPV6: 0, FQDN: 1, IPV4: 2 } as const;
/** Qtypes. */
export const NI_QTYPE = { NOOP: 0, SUPTYPES: 1, FQDN: 2, NODEADDR: 3, IPV4ADDR: 4 } as const;
/** Node Addresses flags, as the 16-bit field carries them. */
export const NI_NODEADDR_FLAG = {
  TRUNCATE: 0x0001,
  ALL: 0x0002,
  COMPAT: 0x0004,
  LINKLOCAL: 0x0008,
  SITELOCAL: 0x0010,
  GLOBAL: 0x0020,
  /** KAME's experimental anycast flag, not in the RFC. */
  ANYCAST: 0x0040,
} as const;
/** Supported Qtypes flag: the bitmap is compressed. */
export const NI_SUPTYPE_FLAG_COMPRESS = 0x0001;
/** Node Name flag: the TTL means something. */
export const NI_FQDN_FLAG_VALIDTTL = 0x0001;
/** The Node Information header: ICMPv6's 4 bytes, qtype, flags, 8-byte nonce. */
export const NI_HEADER_LEN = 16;

/** A reply's size limit, NetBSD's MCLBYTES (IPv6 header included). */
const NI_REPLY_MAX = 2048;
const INFINITE_TTL = 0x7fffffff;

/**
 * KAME's ni6_nametodns(): `name` in DNS wire form, lower case, no
 * compression; a name with fewer than two dots ends in two zeros (taken as
 * truncated). `old` gives the 03 draft's length-prefixed string instead.
 * Null when a label is empty, longer than 63, does not start with a letter,
 * does not end with a letter or digit, or holds other than those and `-`.
 * An empty name gives an empty buffer.
 */
export function nameToDns(name: string, old: boolean): Uint8Array | null {
  const raw = new TextEncoder().encode(name);
  if (old) {
    const out = new Uint8Array(raw.length + 1);
    out[0] = raw.length & 0xff;
    out.set(raw, 1);
    return out;
  }
  if (raw.length === 0) return new Uint8Array(0);
  let dots = 0;
  for (const c of raw) if (c === 0x2e) dots++;
  const out: number[] = [];
  let p = 0;
  while (p < raw.length) {
    let q = p;
    while (q < raw.length && raw[q] !== 0 && raw[q] !== 0x2e) q++;
    const n = q - p;
    if (n <= 0 || n >= 64) return null;
    if (!isAlpha(raw[p]) || !isAlnum(raw[q - 1])) return null;
    out.push(n);
    for (let i = p; i < q; i++) {
      const c = raw[i];
      if (!isAlnum(c) && c !== 0x2d) return null;
      out.push(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    }
    p = q < raw.length && raw[q] === 0x2e ? q + 1 : q;
  }
  out.push(0);
  if (dots < 2) out.push(0);
  return Uint8Array.from(out);
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39);
}

/** KAME's ni6_dnsmatch(): equal DNS names, or one a `\0\0`-truncated prefix of the other. */
export function dnsMatch(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length === b.length && a.every((x, i) => x === b[i])) return true;
  if (a.length < 2 || b.length < 2) return false;
  if (a[a.length - 1] !== 0 || b[b.length - 1] !== 0) return false;
  const alen = a.length - 1, blen = b.length - 1;
  let i = 0, j = 0;
  while (i < alen && j < blen) {
    if (a[i] >= 64 || b[j] >= 64) return false;
    if (a[i] === 0 && i === alen - 1) return true;
    if (b[j] === 0 && j === blen - 1) return true;
    if (a[i] === 0 || b[j] === 0 || a[i] !== b[j]) return false;
    const l = a[i];
    if (i + 1 + l > alen || j + 1 + l > blen) return false;
    for (let k = 1; k <= l; k++) if (a[i + k] !== b[j + k]) return false;
    i += 1 + l;
    j += 1 + l;
  }
  return i === alen && j === blen;
}

/**
 * The Node Information group of a host name (RFC 4620 §4, KAME's nigroup()):
 * ff02::2:xxxx:xxxx, the first 4 bytes of the MD5 of the first label
 * (lower case) prefixed by its length. Null for a label over 63 bytes.
 */
export function nodeInfoGroup(name: string): Uint8Array | null {
  const dot = name.indexOf(".");
  const label = new TextEncoder().encode((dot < 0 ? name : name.slice(0, dot)).toLowerCase());
  if (label.length > 63) return null;
  const input = new Uint8Array(label.length + 1);
  input[0] = label.length;
  input.set(label, 1);
  const group = new Uint8Array(16);
  group[0] = 0xff;
  group[1] = 0x02;
  group[11] = 0x02;
  group.set(md5(input).subarray(0, 4), 12);
  return group;
}

/** What the responder needs of ICMPv6 and IPv6 (the ICMPv6 layer's lower half). */
export interface NodeInfoLower {
  /** Sends the ICMPv6 message in `pkt` (checksum filled on the way), frees it. */
  send(pkt: PacketBuffer, dst: Uint8Array, opts: Icmp6SendOptions): void;
  /** Whether `addr` is a usable unicast address of this stack. */
  isLocal(addr: Uint8Array): boolean;
  /** The zone (interface index) of `addr` as seen on `iface`, for link-local addresses. */
  zoneOf(iface: NetInterface, addr: Uint8Array): number | undefined;
}

/** KAME's in6_addrscope() for unicast: 2 link-local (::1 too), 5 site-local, 14 global, 0 other. */
function unicastScope(a: Uint8Array): number {
  if (a[0] === 0xfe) {
    if ((a[1] & 0xc0) === 0x80) return 2;
    if ((a[1] & 0xc0) === 0xc0) return 5;
    return 14;
  }
  let zero = true;
  for (let i = 0; i < 15; i++) if (a[i] !== 0) zero = false;
  if (zero && a[15] === 1) return 2;
  return 14;
}

function scopeAllowed(a: Uint8Array, flags: number): boolean {
  switch (unicastScope(a)) {
    case 2:
      return (flags & NI_NODEADDR_FLAG.LINKLOCAL) !== 0;
    case 5:
      return (flags & NI_NODEADDR_FLAG.SITELOCAL) !== 0;
    case 14:
      return (flags & NI_NODEADDR_FLAG.GLOBAL) !== 0;
    default:
      return false;
  }
}

/** Answers Node Information queries for one stack. */
export class NodeInfoResponder {
  readonly #ctx: StackContext;
  readonly #lower: NodeInfoLower;
  #groupOf: string | null = null;
  #group: Uint8Array | null = null;

  constructor(ctx: StackContext, lower: NodeInfoLower) {
    this.#ctx = ctx;
    this.#lower = lower;
  }

  #hostname(): string {
    return String(this.#ctx.sysctl.get("kern.hostname"));
  }

  /** Whether `dst` is the Node Information group of `kern.hostname` (joined on every interface). */
  isGroup(dst: Uint8Array): boolean {
    const name = this.#hostname();
    if (name !== this.#groupOf) {
      this.#groupOf = name;
      this.#group = nodeInfoGroup(name);
    }
    const g = this.#group;
    if (!g) return false;
    for (let i = 0; i < 16; i++) if (g[i] !== dst[i]) return false;
    return true;
  }

  /** A Node Information Query at `bytes[offset, offset + length)` of `ip`, checksum verified. */
  input(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    const ctx = this.#ctx;
    const mode = ctx.tunables.icmp6.nodeinfo;
    if (mode === 0) return;
    const st = ctx.stats.icmp6;
    // The pre-RFC Who-Are-You query (4 bytes after the header) is not answered.
    if (length === 8 + 4) return;
    if (length < NI_HEADER_LEN) {
      st.badlen++;
      return;
    }
    const src = ip.src, dst = ip.dst;
    if (src[0] === 0xff || src.every((b) => b === 0)) return;
    const linkMcast = dst[0] === 0xff && (dst[1] & 0x0f) === 2;
    if (!linkMcast && !this.#lower.isLocal(dst)) return;
    const b = ip.bytes;
    const q = b.subarray(offset, offset + length);
    const code = q[1];
    let qtype = (q[4] << 8) | q[5];
    const subject = q.subarray(NI_HEADER_LEN);
    let oldFqdn = false;
    let subjectAddr: Uint8Array | null = null;
    const checkSubject = !(
      (qtype === NI_QTYPE.NOOP || qtype === NI_QTYPE.SUPTYPES) &&
      code === NI_SUBJ.FQDN && subject.length === 0
    ) && qtype <= NI_QTYPE.IPV4ADDR;
    if (checkSubject) {
      if (code === NI_SUBJ.IPV6) {
        if (qtype === NI_QTYPE.FQDN && subject.length === 0) oldFqdn = true;
        else {
          if (subject.length !== 16) return;
          for (let i = 0; i < 16; i++) if (subject[i] !== dst[i]) return;
          subjectAddr = subject;
        }
      } else if (code === NI_SUBJ.FQDN) {
        const mine = nameToDns(this.#hostname(), false);
        if (!mine || mine.length === 0 || !dnsMatch(subject, mine)) return;
      } else return;
    }
    if (qtype === NI_QTYPE.FQDN && (mode & 1) === 0) return;
    if ((qtype === NI_QTYPE.NODEADDR || qtype === NI_QTYPE.IPV4ADDR) && (mode & 2) === 0) return;
    if (qtype === NI_QTYPE.IPV4ADDR) return;
    if (qtype > NI_QTYPE.IPV4ADDR) {
      // KAME answers an unknown qtype as an old-style name query, for old queriers.
      qtype = NI_QTYPE.FQDN;
      oldFqdn = true;
    }
    let data: Uint8Array;
    let flags = (q[6] << 8) | q[7];
    switch (qtype) {
      case NI_QTYPE.NOOP:
        data = new Uint8Array(0);
        flags = 0;
        break;
      case NI_QTYPE.SUPTYPES:
        data = Uint8Array.of(0, 0, 0, 0x0f); // raw bitmap: NOOP, SUPTYPES, FQDN, NODEADDR
        flags = 0;
        break;
      case NI_QTYPE.FQDN: {
        const name = nameToDns(this.#hostname(), oldFqdn);
        if (!name) return;
        data = new Uint8Array(4 + name.length); // TTL 0: meaningless
        data.set(name, 4);
        flags = 0;
        break;
      }
      default: {
        const r = this.#nodeAddresses(flags, subjectAddr);
        data = r.data;
        if (r.truncated) flags |= NI_NODEADDR_FLAG.TRUNCATE;
      }
    }
    const pkt = ctx.pool.alloc(NI_HEADER_LEN + data.length);
    const out = pkt.bytes, at = pkt.start;
    out.set(q.subarray(0, NI_HEADER_LEN), at);
    out[at] = ICMP6_NI_REPLY;
    out[at + 1] = 0;
    out[at + 2] = 0;
    out[at + 3] = 0;
    out[at + 6] = flags >> 8;
    out[at + 7] = flags & 0xff;
    out.set(data, at + NI_HEADER_LEN);
    st.reflect++;
    st.outhist[ICMP6_NI_REPLY]++;
    this.#lower.send(pkt, src.slice(), {
      src: dst[0] === 0xff ? null : dst.slice(),
      zone: this.#lower.zoneOf(iface, src),
    });
  }

  /** ni6_addrs() and ni6_store_addrs(): TTL and address pairs, and whether they were cut. */
  #nodeAddresses(
    flags: number,
    subject: Uint8Array | null,
  ): { data: Uint8Array; truncated: boolean } {
    const none = { data: new Uint8Array(0), truncated: false };
    let ifaces: readonly NetInterface[] = this.#ctx.interfaces();
    if ((flags & NI_NODEADDR_FLAG.ALL) === 0) {
      if (!subject) return none;
      const holder = ifaces.find((i) => i.inet6.some((a) => sameAddr(a.addr, subject)));
      if (!holder) return none;
      ifaces = [holder];
    }
    const room = NI_REPLY_MAX - IPV6_HEADER_LEN - NI_HEADER_LEN;
    const out: number[] = [];
    for (const deprecated of [false, true]) {
      for (const iface of ifaces) {
        for (const a of iface.inet6) {
          if (a.flags.includes("deprecated") !== deprecated) continue;
          if (!scopeAllowed(a.addr, flags)) continue;
          if (a.flags.includes("anycast") && (flags & NI_NODEADDR_FLAG.ANYCAST) === 0) continue;
          if (out.length + 20 > room) return { data: Uint8Array.from(out), truncated: true };
          const ttl = Math.min(a.vltime ?? INFINITE_TTL, INFINITE_TTL);
          out.push(ttl >>> 24, (ttl >>> 16) & 0xff, (ttl >>> 8) & 0xff, ttl & 0xff, ...a.addr);
        }
      }
    }
    return { data: Uint8Array.from(out), truncated: false };
  }
}

function sameAddr(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}
