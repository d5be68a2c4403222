/**
 * DNS messages (RFC 1035, RFC 3596 for AAAA, RFC 2782 for SRV): a query to
 * send, and the answers of a response read back into the shapes
 * `Deno.resolveDns` returns. Names are decompressed with a bound on pointer
 * hops, and every read is checked against the message's length: a hostile
 * or broken response is an error, never an exception past this module.
 *
 * @example
 * ```ts
 * import { buildQuery, DNS_TYPE } from "./dns_wire.ts";
 * const q = buildQuery(0x1234, "example.test", DNS_TYPE.A);
 * console.log(q.length); // 30: 12 header + 14 name + 4
 * ```
 * @module
 */

/** Record types `resolveDns` asks for, by Deno's names. */
export const DNS_TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
} as const;

/** A record type name `resolveDns` takes. */
export type DnsRecordType = keyof typeof DNS_TYPE;

/** An MX record, as Deno gives it. */
export interface MxRecord {
  preference: number;
  exchange: string;
}

/** An SRV record, as Deno gives it. */
export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** An SOA record, as Deno gives it. */
export interface SoaRecord {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** One answer, by type. */
export type DnsAnswer = string | string[] | MxRecord | SrvRecord | SoaRecord;

/** What a response says. */
export type DnsResult =
  | { kind: "answers"; answers: DnsAnswer[] }
  /** RCODE 3: the name does not exist. */
  | { kind: "nxdomain" }
  /** Another RCODE (2 SERVFAIL, 5 REFUSED...). */
  | { kind: "error"; rcode: number }
  /** TC set: the answer did not fit in a datagram. */
  | { kind: "truncated" }
  /** Not a response to this query (wrong id, question, or malformed): keep waiting. */
  | { kind: "ignore"; why: string };

const CLASS_IN = 1;
/** Pointer hops allowed while reading one name (a loop is an error). */
const MAX_POINTERS = 32;
const MAX_NAME = 255;

/** Encodes `name` (dotted, an optional final dot) as DNS labels; null when a label is too long. */
export function encodeName(name: string): Uint8Array | null {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  const labels = trimmed === "" ? [] : trimmed.split(".");
  const parts = labels.map((l) => new TextEncoder().encode(l));
  if (parts.some((p) => p.length === 0 || p.length > 63)) return null;
  const out = new Uint8Array(parts.reduce((n, p) => n + 1 + p.length, 1));
  if (out.length > MAX_NAME) return null;
  let at = 0;
  for (const p of parts) {
    out[at++] = p.length;
    out.set(p, at);
    at += p.length;
  }
  out[at] = 0;
  return out;
}

/** A standard query with recursion desired, one question of `type` in class IN. */
export function buildQuery(id: number, name: string, type: number): Uint8Array {
  const qname = encodeName(name);
  if (!qname) throw new RangeError(`Not a valid domain name: ${name}`);
  const msg = new Uint8Array(12 + qname.length + 4);
  msg[0] = id >> 8;
  msg[1] = id & 0xff;
  msg[2] = 0x01; // RD
  msg[5] = 1; // QDCOUNT
  msg.set(qname, 12);
  const at = 12 + qname.length;
  msg[at] = type >> 8;
  msg[at + 1] = type & 0xff;
  msg[at + 3] = CLASS_IN;
  return msg;
}

/** Reads a possibly compressed name at `at`; the name and the offset after it, or null. */
function readName(msg: Uint8Array, at: number): { name: string; next: number } | null {
  const labels: string[] = [];
  let next = -1;
  let length = 0;
  for (let hops = 0; hops <= MAX_POINTERS;) {
    if (at >= msg.length) return null;
    const len = msg[at];
    if (len === 0) {
      if (next < 0) next = at + 1;
      return { name: labels.join(".") + ".", next }; // absolute, as Deno.resolveDns prints names
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= msg.length) return null;
      if (next < 0) next = at + 2;
      at = ((len & 0x3f) << 8) | msg[at + 1];
      hops++;
      continue;
    }
    if (len & 0xc0) return null; // the extended label types are not in use
    if (at + 1 + len > msg.length) return null;
    length += len + 1;
    if (length > MAX_NAME) return null;
    labels.push(new TextDecoder().decode(msg.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  return null;
}

function u16(msg: Uint8Array, at: number): number {
  return (msg[at] << 8) | msg[at + 1];
}

function u32(msg: Uint8Array, at: number): number {
  return ((msg[at] << 24) | (msg[at + 1] << 16) | (msg[at + 2] << 8) | msg[at + 3]) >>> 0;
}

function ipv6Text(b: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
  // RFC 5952: the longest run of two or more zero words becomes "::".
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** Reads the record data of one answer of `type`; null when malformed. */
function readRdata(msg: Uint8Array, type: number, at: number, len: number): DnsAnswer | null {
  const end = at + len;
  switch (type) {
    case DNS_TYPE.A:
      return len === 4 ? `${msg[at]}.${msg[at + 1]}.${msg[at + 2]}.${msg[at + 3]}` : null;
    case DNS_TYPE.AAAA:
      return len === 16 ? ipv6Text(msg.subarray(at, end)) : null;
    case DNS_TYPE.NS:
    case DNS_TYPE.CNAME:
    case DNS_TYPE.PTR: {
      const n = readName(msg, at);
      return n && n.next <= end ? n.name : null;
    }
    case DNS_TYPE.MX: {
      if (len < 3) return null;
      const n = readName(msg, at + 2);
      return n && n.next <= end ? { preference: u16(msg, at), exchange: n.name } : null;
    }
    case DNS_TYPE.SRV: {
      if (len < 7) return null;
      const n = readName(msg, at + 6);
      if (!n || n.next > end) return null;
      return {
        priority: u16(msg, at),
        weight: u16(msg, at + 2),
        port: u16(msg, at + 4),
        target: n.name,
      };
    }
    case DNS_TYPE.TXT: {
      const strings: string[] = [];
      for (let p = at; p < end;) {
        const l = msg[p];
        if (p + 1 + l > end) return null;
        strings.push(new TextDecoder().decode(msg.subarray(p + 1, p + 1 + l)));
        p += 1 + l;
      }
      return strings;
    }
    case DNS_TYPE.SOA: {
      const m = readName(msg, at);
      const r = m && readName(msg, m.next);
      if (!m || !r || r.next + 20 > end) return null;
      const p = r.next;
      return {
        mname: m.name,
        rname: r.name,
        serial: u32(msg, p),
        refresh: u32(msg, p + 4),
        retry: u32(msg, p + 8),
        expire: u32(msg, p + 12),
        minimum: u32(msg, p + 16),
      };
    }
  }
  return null;
}

/**
 * Reads a response to the query (`id`, `name`, `type`): its answers of that
 * type (CNAMEs followed, as a stub resolver's caller sees them), or what went
 * wrong. A message that does not answer this query is `ignore`, so the caller
 * keeps waiting (RFC 5452: id, question and source must all match).
 */
export function parseResponse(msg: Uint8Array, id: number, name: string, type: number): DnsResult {
  if (msg.length < 12) return { kind: "ignore", why: "short" };
  if (u16(msg, 0) !== id) return { kind: "ignore", why: "id" };
  const flags = u16(msg, 2);
  if (!(flags & 0x8000)) return { kind: "ignore", why: "not a response" };
  if (u16(msg, 4) !== 1) return { kind: "ignore", why: "question count" };
  const q = readName(msg, 12);
  const want = name.endsWith(".") ? name : `${name}.`;
  if (!q || q.next + 4 > msg.length) return { kind: "ignore", why: "question" };
  if (q.name.toLowerCase() !== want.toLowerCase() || u16(msg, q.next) !== type) {
    return { kind: "ignore", why: "question" };
  }
  if (flags & 0x0200) return { kind: "truncated" };
  const rcode = flags & 0x0f;
  if (rcode === 3) return { kind: "nxdomain" };
  if (rcode !== 0) return { kind: "error", rcode };
  const answers: DnsAnswer[] = [];
  let at = q.next + 4;
  for (let i = 0, count = u16(msg, 6); i < count; i++) {
    const n = readName(msg, at);
    if (!n || n.next + 10 > msg.length) return { kind: "error", rcode: -1 };
    const rtype = u16(msg, n.next), rclass = u16(msg, n.next + 2), rdlen = u16(msg, n.next + 8);
    const rdata = n.next + 10;
    if (rdata + rdlen > msg.length) return { kind: "error", rcode: -1 };
    if (rtype === type && rclass === CLASS_IN) {
      const a = readRdata(msg, rtype, rdata, rdlen);
      if (a === null) return { kind: "error", rcode: -1 };
      answers.push(a);
    }
    at = rdata + rdlen;
  }
  return { kind: "answers", answers };
}
