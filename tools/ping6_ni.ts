/**
 * ping6's Node Information side (RFC 4620): the queries of `-w`, `-W`, `-a`
 * and `-t` as KAME's pinger() builds them, and the replies as its pr_pack(),
 * pr_suptypes(), pr_nodeaddr() and dnsdecode() print them.
 *
 * @example
 * ```ts ignore
 * const q = buildNiQuery("fqdn", seq, nonce, dstBytes, 0);
 * if (isMyNiReply(msg, nonce)) out += niReplyText(msg, verbose);
 * ```
 * @module
 */

import { formatIp4, formatIp6 } from "../core/net/ip_addr.ts";
import {
  ICMP6_NI_QUERY,
  NI_FQDN_FLAG_VALIDTTL,
  NI_HEADER_LEN,
  NI_NODEADDR_FLAG,
  NI_QTYPE,
  NI_SUBJ,
  NI_SUPTYPE_FLAG_COMPRESS,
} from "../core/net/icmp6_ni.ts";

/** Which query `-w` (fqdn), `-W` (fqdnold), `-a` (nodeaddr) or `-t` (suptypes) sends. */
export type NiMode = "fqdn" | "fqdnold" | "nodeaddr" | "suptypes";

/** `-a`'s letters and the flags they set; anything else is a usage error. */
export function parseAddrType(text: string): number | null {
  let flags = 0;
  for (const c of text) {
    switch (c) {
      case "a":
        flags |= NI_NODEADDR_FLAG.ALL;
        break;
      case "c":
      case "C":
        flags |= NI_NODEADDR_FLAG.COMPAT;
        break;
      case "l":
      case "L":
        flags |= NI_NODEADDR_FLAG.LINKLOCAL;
        break;
      case "s":
      case "S":
        flags |= NI_NODEADDR_FLAG.SITELOCAL;
        break;
      case "g":
      case "G":
        flags |= NI_NODEADDR_FLAG.GLOBAL;
        break;
      case "A":
        flags |= NI_NODEADDR_FLAG.ANYCAST;
        break;
      default:
        return null;
    }
  }
  return flags;
}

/** pingerlen() of a query: the header and nonce, plus an IPv6 Subject for -w and -a. */
export function niQueryLength(mode: NiMode): number {
  return mode === "fqdn" || mode === "nodeaddr" ? NI_HEADER_LEN + 16 : NI_HEADER_LEN;
}

/** A query as pinger() writes it: the nonce's first two bytes carry the sequence. */
export function buildNiQuery(
  mode: NiMode,
  seq: number,
  nonce: Uint8Array,
  dst: Uint8Array,
  naflags: number,
): Uint8Array {
  const q = new Uint8Array(niQueryLength(mode));
  q[0] = ICMP6_NI_QUERY;
  const qtype = mode === "nodeaddr"
    ? NI_QTYPE.NODEADDR
    : mode === "suptypes"
    ? NI_QTYPE.SUPTYPES
    : NI_QTYPE.FQDN;
  q[1] = mode === "suptypes" ? NI_SUBJ.FQDN : NI_SUBJ.IPV6;
  q[5] = qtype;
  const flags = mode === "nodeaddr" ? naflags : mode === "suptypes" ? NI_SUPTYPE_FLAG_COMPRESS : 0;
  q[6] = flags >> 8;
  q[7] = flags & 0xff;
  q.set(nonce, 8);
  q[8] = (seq >> 8) & 0xff;
  q[9] = seq & 0xff;
  if (q.length > NI_HEADER_LEN) q.set(dst, NI_HEADER_LEN);
  return q;
}

/** mynireply(): the nonce after its sequence bytes is ours. */
export function isMyNiReply(msg: Uint8Array, nonce: Uint8Array): boolean {
  if (msg.length < NI_HEADER_LEN) return false;
  for (let i = 2; i < 8; i++) if (msg[8 + i] !== nonce[i]) return false;
  return true;
}

/** The sequence a reply answers. */
export function niSequence(msg: Uint8Array): number {
  return (msg[8] << 8) | msg[9];
}

function printable(c: number): string {
  return c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\${c.toString(8).padStart(3, "0")}`;
}

/** dnsdecode(): one name from `b[at]`, and where it ended; null when malformed. */
function dnsDecode(b: Uint8Array, at: number, base: number): { name: string; next: number } | null {
  let name = "";
  let cp = at;
  if (cp >= b.length) return null;
  let i = 0;
  while (cp < b.length) {
    i = b[cp];
    if (i === 0 || cp !== at) name += ".";
    if (i === 0) break;
    cp++;
    if ((i & 0xc0) === 0xc0 && cp - base > (i & 0x3f)) {
      if (base < 0) return null; // no compression base: a query's Subject
      const inner = dnsDecode(b.subarray(0, cp), base + (i & 0x3f), base);
      if (!inner) return null;
      name += inner.name;
      break;
    } else if ((i & 0x3f) === i) {
      if (i > b.length - cp) return null;
      for (; i > 0; i--) name += printable(b[cp++]);
    } else return null;
  }
  if (i !== 0) return null;
  return { name, next: cp + 1 };
}

/** pr_bitrange(): the runs of set bits of `v` (bit 0 first) from `soff`; returns the open run. */
function bitRange(v: number, soff: number, ii: number, out: string[]): number {
  let off = 0;
  while (off < 32) {
    if ((v & 1) === 0) {
      if (ii > 1) out.push(`-${soff + off - 1}`);
      ii = 0;
      const step = (v & 0x0f) === 0 ? 4 : (v & 0x0f) === 8 ? 3 : (v & 0x03) === 0 ? 2 : 1;
      v >>>= step;
      off += step;
      continue;
    }
    let i = 0;
    while (i < 32 - off && (v >>> i) & 1) i++;
    if (!ii) out.push(` ${soff + off}`);
    ii += i;
    v = i >= 32 ? 0 : v >>> i;
    off += i;
  }
  return ii;
}

/** pr_suptypes(). */
function supTypesText(msg: Uint8Array, verbose: boolean): string {
  const flags = (msg[6] << 8) | msg[7];
  const compressed = (flags & NI_SUPTYPE_FLAG_COMPRESS) !== 0;
  let out = "NodeInfo Supported Qtypes";
  if (verbose) out += compressed ? ", compressed bitmap" : ", raw bitmap";
  const parts: string[] = [];
  let cp = NI_HEADER_LEN, cur = 0, b = 0;
  const u32 = (at: number) =>
    ((msg[at] << 24) | (msg[at + 1] << 16) | (msg[at + 2] << 8) | msg[at + 3]) >>> 0;
  while (cp < msg.length) {
    let clen = msg.length - cp;
    let skip = 0;
    if (!compressed) {
      if (clen === 0 || clen > 65536 / 8 || clen % 4) return out + parts.join("") + "???";
    } else {
      if (clen < 4 || clen % 4) break;
      const words = (msg[cp] << 8) | msg[cp + 1];
      skip = (msg[cp + 2] << 8) | msg[cp + 3];
      if (4 + words * 4 > clen) break;
      cp += 4;
      clen = words * 4;
      if (cur + clen * 8 + skip * 32 > 65536) break;
    }
    let off = 0;
    for (; off < clen; off += 4) b = bitRange(u32(cp + off), cur + off * 8, b, parts);
    b = bitRange(0, cur + off * 8, b, parts);
    cp += clen;
    cur += clen * 8 + (compressed ? skip * 32 : 0);
  }
  return out + parts.join("");
}

/** pr_nodeaddr(): its own line break, then an address a line. */
function nodeAddrText(msg: Uint8Array, verbose: boolean): string {
  let out = "";
  if (verbose) {
    if (msg[1] === 1) out += "refused";
    else if (msg[1] === 2) out += "unknown qtype";
    if (((msg[6] << 8) | msg[7]) & NI_NODEADDR_FLAG.TRUNCATE) out += " truncated";
  }
  out += "\n";
  let n = msg.length - NI_HEADER_LEN;
  if (n <= 0) out += "  no address\n";
  const withTtl = n % 20 === 0;
  let cp = NI_HEADER_LEN;
  while (n > 0) {
    let ttl = 0;
    if (withTtl) {
      ttl = ((msg[cp] << 24) | (msg[cp + 1] << 16) | (msg[cp + 2] << 8) | msg[cp + 3]) >>> 0;
      cp += 4;
      n -= 4;
    }
    out += `  ${cp + 16 <= msg.length ? formatIp6(msg.subarray(cp, cp + 16)) : "?"}`;
    if (withTtl) out += ttl === 0xffffffff ? "(TTL=infty)" : `(TTL=${ttl})`;
    out += "\n";
    n -= 16;
    cp += 16;
  }
  return out;
}

/** The node name part of pr_pack(), with -v's parenthesis. */
function fqdnText(msg: Uint8Array, verbose: boolean): string {
  const NIRLEN = 20;
  const cc = msg.length;
  const oldFqdn = msg[NIRLEN] === cc - NIRLEN - 1;
  let out = "";
  let cp = NIRLEN;
  if (oldFqdn) {
    for (cp++; cp < cc; cp++) out += printable(msg[cp]);
  } else {
    while (cp < cc) {
      const d = dnsDecode(msg, cp, NI_HEADER_LEN);
      if (!d) {
        out += "???";
        break;
      }
      let name = d.name;
      cp = d.next;
      // A truncated name (\0\0) loses its last dot.
      if (cp + 1 <= cc && msg[cp] === 0 && name.length > 0) {
        name = name.slice(0, -1);
        cp++;
      }
      out += name; // KAME never advances its comma counter: names run together
    }
  }
  if (!verbose) return out;
  const notes: string[] = [];
  if (msg[1] === 1) notes.push("refused");
  else if (msg[1] === 2) notes.push("unknown qtype");
  if (cc < NIRLEN) return `${out} (${notes.join(",")})`;
  const ttl = ((msg[16] << 24) | (msg[17] << 16) | (msg[18] << 8) | msg[19]) | 0;
  const flags = (msg[6] << 8) | msg[7];
  if (!(flags & NI_FQDN_FLAG_VALIDTTL)) notes.push(`TTL=${ttl}:meaningless`);
  else notes.push(ttl < 0 ? `TTL=${ttl}:invalid` : `TTL=${ttl}`);
  if (oldFqdn) notes.push("03 draft");
  else if (cc === NIRLEN) notes.push("no name");
  if (msg[NIRLEN] !== cc - NIRLEN - 1 && oldFqdn) {
    notes.push(`invalid namelen:${msg[NIRLEN]}/${cc - NIRLEN - 1}`);
  }
  return `${out} (${notes.join(",")})`;
}

/**
 * What pr_pack() prints for a Node Information reply after
 * `%d bytes from %s: ` (its closing line break excluded). The code and type
 * of a failure go through ntohs() on one byte, so a little-endian host (QNX
 * on x86) prints them shifted: `unknown code 0x100, type 0x8c00`.
 */
export function niReplyText(msg: Uint8Array, verbose: boolean): string {
  const code = msg[1];
  if (code !== 0) {
    const c = (code << 8).toString(16), t = (msg[0] << 8).toString(16);
    return `unknown code 0x${c}, type 0x${t}`;
  }
  switch ((msg[4] << 8) | msg[5]) {
    case NI_QTYPE.NOOP:
      return "NodeInfo NOOP";
    case NI_QTYPE.SUPTYPES:
      return supTypesText(msg, verbose);
    case NI_QTYPE.NODEADDR:
      return nodeAddrText(msg, verbose);
    default:
      return fqdnText(msg, verbose);
  }
}

const QTYPE_TEXT = ["NOOP", "Supported qtypes", "DNS name", "nodeaddr", "IPv4 nodeaddr"];
const SUBJECT_TEXT = ["IPv6 address", "DNS label", "IPv4 address"];
const RESULT_TEXT = ["Success", "Refused", "Unknown"];

/** pr_icmph() for a query or reply that is not ours (printed with -v). */
export function niIcmpText(msg: Uint8Array, verbose: boolean): string {
  const query = msg[0] === ICMP6_NI_QUERY;
  const qtype = msg.length >= 6 ? (msg[4] << 8) | msg[5] : -1;
  let out = `Node Information ${query ? "Query" : "Reply"}, ${
    QTYPE_TEXT[qtype] ?? "unknown qtype"
  }`;
  if (!verbose) return out;
  const code = msg[1];
  if (!query) return out + (code > 3 ? ", invalid" : `, ${RESULT_TEXT[code] ?? "invalid"}`);
  const subj = msg.subarray(NI_HEADER_LEN);
  if (code === NI_SUBJ.IPV6) {
    out += subj.length === 16 ? `, subject=${SUBJECT_TEXT[0]}(${formatIp6(subj)})` : ", oldfqdn";
  } else if (code === NI_SUBJ.FQDN) {
    if (subj.length === 0) return out + ", no subject";
    const d = dnsDecode(msg, NI_HEADER_LEN, -1);
    out += `, subject=${SUBJECT_TEXT[1]}${d ? `(${d.name})` : "(invalid)"}`;
  } else if (code === NI_SUBJ.IPV4) {
    out += subj.length === 4
      ? `, subject=${SUBJECT_TEXT[2]}(${
        formatIp4((subj[0] << 24 | subj[1] << 16 | subj[2] << 8 | subj[3]) >>> 0)
      })`
      : ", invalid";
  } else out += ", invalid";
  return out;
}
