/**
 * IPv4 and IPv6 addresses: text forms in and out, masks and prefixes.
 *
 * IPv4 addresses are unsigned 32-bit numbers; IPv6 addresses are 16-byte arrays.
 * Parsers return `null` for bad input instead of throwing, so callers choose
 * their own error message.
 *
 * @example
 * ```ts
 * import { formatIp4, parseIp4, parseIp6, formatIp6 } from "./ip_addr.ts";
 * console.log(formatIp4(parseIp4("192.0.2.1")!)); // 192.0.2.1
 * console.log(formatIp6(parseIp6("2001:db8:0:0::1")!)); // 2001:db8::1
 * ```
 * @module
 */

/**
 * Parses IPv4 text. Accepts the dotted quad and, as inet_aton(3) does, fewer
 * parts (`127.1`) and hex/octal parts; returns the address as an unsigned number.
 */
export function parseIp4(text: string): number | null {
  if (text.length === 0 || text.length > 31) return null;
  const parts = text.split(".");
  if (parts.length > 4) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]+$/i.test(p)) n = parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = parseInt(p, 8);
    else if (/^[1-9][0-9]*$/.test(p)) n = parseInt(p, 10);
    else return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  for (const n of nums) if (n > 255) return null;
  const lastMax = [0xffffffff, 0xffffff, 0xffff, 0xff][nums.length];
  if (last > lastMax) return null;
  let v = 0;
  nums.forEach((n, i) => {
    v |= n << (24 - 8 * i);
  });
  return ((v | last) >>> 0);
}

/** Strict dotted quad only (`a.b.c.d`, decimal), as addresses are printed. */
export function parseIp4Strict(text: string): number | null {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return null;
  const parts = text.split(".").map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** Dotted-quad text of an IPv4 address. */
export function formatIp4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** The netmask of a prefix length (0..32). */
export function prefixToMask4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** The prefix length of a contiguous netmask, or `null` when the mask has holes. */
export function maskToPrefix4(mask: number): number | null {
  const len = Math.clz32(~mask >>> 0);
  return prefixToMask4(len) === (mask >>> 0) ? len : null;
}

/** The classful netmask of an address (A /8, B /16, C /24), as NetBSD defaults it. */
export function classfulMask4(addr: number): number {
  if ((addr >>> 31) === 0) return 0xff000000;
  if ((addr >>> 30) === 2) return 0xffff0000;
  if ((addr >>> 29) === 6) return 0xffffff00;
  return 0xffffffff;
}

/** Parses IPv6 text (with embedded IPv4 allowed); a `%zone` suffix is not accepted here. */
export function parseIp6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  let body = text;
  const lastColon = body.lastIndexOf(":");
  if (lastColon !== -1 && body.indexOf(".", lastColon) !== -1) {
    // An embedded IPv4 tail stands for the last two groups.
    const v4 = parseIp4Strict(body.slice(lastColon + 1));
    if (v4 === null) return null;
    body = `${body.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${
      (v4 & 0xffff).toString(16)
    }`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (s: string): number[] | null => {
    if (s === "") return [];
    const nums: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      nums.push(parseInt(g, 16));
    }
    return nums;
  };
  const left = groupsOf(halves[0]);
  const right = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (!left || !right) return null;
  let groups: number[];
  if (halves.length === 1) {
    if (left.length !== 8) return null;
    groups = left;
  } else {
    if (left.length + right.length > 7) return null;
    groups = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 255;
  });
  return out;
}

/** RFC 5952 text of an IPv6 address (`::ffff:a.b.c.d` for mapped addresses). */
export function formatIp6(a: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((a[i] << 8) | a[i + 1]);
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) return `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  let bestStart = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLen).join(":");
  return `${left}::${right}`;
}

/** Splits `addr%zone` into its parts. */
export function splitZone(text: string): { addr: string; zone?: string } {
  const i = text.indexOf("%");
  return i === -1 ? { addr: text } : { addr: text.slice(0, i), zone: text.slice(i + 1) };
}

/** The IPv6 mask of a prefix length (0..128). */
export function prefixToMask6(len: number): Uint8Array {
  const m = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, len - 8 * i));
    m[i] = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return m;
}

/** `a` masked to its first `len` bits (a new array). */
export function maskIp6(a: Uint8Array, len: number): Uint8Array {
  const m = prefixToMask6(len);
  return a.map((b, i) => b & m[i]);
}

/** Whether two IPv6 addresses are equal. */
export function ip6Equal(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether an IPv6 address is `::`. */
export function isUnspecified6(a: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== 0) return false;
  return true;
}

/** Whether an IPv6 address is IPv4-mapped (`::ffff:a.b.c.d`). */
export function isV4Mapped6(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

/** Whether an IPv6 address is link-local (fe80::/10). */
export function isLinkLocal6(a: Uint8Array): boolean {
  return a[0] === 0xfe && (a[1] & 0xc0) === 0x80;
}
