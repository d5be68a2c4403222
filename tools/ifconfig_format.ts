/**
 * How `ifconfig` prints an interface: NetBSD 4's `status()`, `in_alias()` and
 * `in6_alias()` (ifconfig.c 1.181, af_inet.c, af_inet6.c) with QNX's changes
 * (reference §5.3 [R]): the rx/tx split of `capabilities=`/`enabled=`, the
 * QNX flag names, and `inet alias` for every IPv4 address after the first.
 *
 * Pure functions from {@linkcode IfInfo} to text, so every line is tested by
 * comparing whole outputs.
 *
 * @example
 * ```ts
 * import { formatInterface } from "./ifconfig_format.ts";
 * import { IFF } from "../core/link/if_flags.ts";
 * const stats = { ipackets: 0, ierrors: 0, opackets: 0, oerrors: 0, collisions: 0,
 *   ibytes: 0, obytes: 0, imcasts: 0, omcasts: 0, iqdrops: 0, noproto: 0 };
 * const text = formatInterface({
 *   name: "lo0", index: 1, flags: IFF.UP | IFF.LOOPBACK | IFF.RUNNING | IFF.MULTICAST,
 *   mtu: 33192, metric: 0, driver: "lo", stats,
 *   addrs: [{ family: "inet", addr: "127.0.0.1", netmask: "255.0.0.0" }],
 * }, {});
 * console.log(text);
 * // lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 33192
 * // 	inet 127.0.0.1 netmask 0xff000000
 * ```
 * @module
 */

import type {
  IfCapabilities,
  IfInfo,
  IfStats,
  Inet6AddrFlag,
  Inet6AddrInfo,
  InetAddrInfo,
} from "../core/control/ops.ts";
import { formatCaps, formatFlags, IFF } from "../core/link/if_flags.ts";
import { parseIp4 } from "../core/net/ip_addr.ts";

/** What to show besides the interface itself. */
export interface StatusOptions {
  /** Show only this family's addresses (`ifconfig -a inet6`, `ifconfig en0 inet`). */
  family?: "inet" | "inet6";
  /** `-v`/`-z`: the `input:`/`output:` counter lines. */
  stats?: boolean;
  /** `-h`: byte counts in humanize_number(3) form. */
  human?: boolean;
  /** `-L`: IPv6 address lifetimes. */
  lifetimes?: boolean;
  /** Inactive link-layer addresses, printed as `link xx:...` lines after the addresses. */
  links?: readonly string[];
}

/** The whole status block of one interface, every line ending in `\n`. */
export function formatInterface(ifp: IfInfo, opts: StatusOptions): string {
  let out = headerLine(ifp);
  out += capabilityLines(ifp);
  if (ifp.lladdr) out += `\taddress: ${ifp.lladdr}\n`;
  out += mediaLines(ifp);
  if (opts.stats) out += statsLines(ifp.stats, opts.human ?? false);
  if (opts.family !== "inet6") out += inetLines(ifp);
  if (opts.family !== "inet") out += inet6Lines(ifp, opts.lifetimes ?? false);
  // NetBSD 6's af_link status: print_link_addresses(env, false), the inactive ones.
  if (opts.family === undefined) { for (const l of opts.links ?? []) out += `\tlink ${l}\n`; }
  return out;
}

/** `name: flags=hex<NAMES>[ metric N][ mtu N]`. */
function headerLine(ifp: IfInfo): string {
  // NetBSD prints metric and mtu with %lu, and only when non-zero.
  const metric = ifp.metric !== 0 ? ` metric ${ifp.metric >>> 0}` : "";
  const mtu = ifp.mtu !== 0 ? ` mtu ${ifp.mtu >>> 0}` : "";
  return `${ifp.name}: flags=${formatFlags(ifp.flags)}${metric}${mtu}\n`;
}

/** `label=caps`, or QNX's two lines `label rx=...`/`label tx=...` when the directions differ. */
function capsLines(label: string, caps: IfCapabilities): string {
  if (caps.rx === caps.tx) return `\t${label}=${formatCaps(caps.rx)}\n`;
  return `\t${label} rx=${formatCaps(caps.rx)}\n\t${label} tx=${formatCaps(caps.tx)}\n`;
}

/** The capability lines: only when the driver reports a non-empty set; `enabled` then always. */
function capabilityLines(ifp: IfInfo): string {
  const caps = ifp.capabilities;
  if (!caps || (caps.rx | caps.tx) === 0) return "";
  return capsLines("capabilities", caps) + capsLines("enabled", ifp.enabled ?? { rx: 0, tx: 0 });
}

/**
 * `media:` (when the driver answers the media ioctl) and `status:` (when it
 * reports link state). `current` already carries the media type
 * (`Ethernet autoselect`); `active` is the word NetBSD prints in parentheses.
 */
function mediaLines(ifp: IfInfo): string {
  let out = "";
  if (ifp.media) {
    const active = ifp.media.active;
    // Accept an `active` that already carries its parentheses, so no driver's choice doubles them.
    const shown = active === undefined
      ? ""
      : active.startsWith("(")
      ? ` ${active}`
      : ` (${active})`;
    out += `\tmedia: ${ifp.media.current}${shown}\n`;
  }
  if (ifp.linkState) out += `\tstatus: ${ifp.linkState}\n`;
  return out;
}

/** NetBSD's PLURAL(): no `s` for exactly one. */
function plural(n: number): string {
  return n === 1 ? "" : "s";
}

/** `N byte[s]`, or with `-h` the humanized form, made plural as NetBSD's PLURALSTR() does. */
function bytesText(n: number, human: boolean): string {
  if (!human) return `${n} byte${plural(n)}`;
  const text = humanizeNumber(n);
  // PLURALSTR compares atof() of the text with 1.0, so "1.0K" reads as one byte.
  return `${text} byte${Number.parseFloat(text) === 1 ? "" : "s"}`;
}

/** `, N word[s]` when `n` is non-zero. */
function optionalCount(n: number, word: string): string {
  return n !== 0 ? `, ${n} ${word}${plural(n)}` : "";
}

/** The `-v` counter lines. */
function statsLines(s: IfStats, human: boolean): string {
  let input = `\tinput: ${s.ipackets} packet${plural(s.ipackets)}, ${bytesText(s.ibytes, human)}`;
  input += optionalCount(s.imcasts, "multicast");
  input += optionalCount(s.ierrors, "error");
  input += optionalCount(s.iqdrops, "queue drop");
  // "unknown protocol" has no plural in NetBSD.
  if (s.noproto !== 0) input += `, ${s.noproto} unknown protocol`;
  let output = `\toutput: ${s.opackets} packet${plural(s.opackets)}, ${bytesText(s.obytes, human)}`;
  output += optionalCount(s.omcasts, "multicast");
  output += optionalCount(s.oerrors, "error");
  output += optionalCount(s.collisions, "collision");
  return `${input}\n${output}\n`;
}

const SCALE_PREFIXES = ["", "K", "M", "G", "T", "P", "E"];

/**
 * NetBSD's `humanize_number(buf, 5, n, "", HN_AUTOSCALE, HN_NOSPACE | HN_DECIMAL)`,
 * as `ifconfig -h` calls it: at most four characters, powers of 1024, one
 * decimal below 10 (`0`, `999`, `1.0K`, `12K`, `1.5M`).
 */
export function humanizeNumber(n: number): string {
  // The C code works in hundredths of a unit with 64-bit integer division.
  let v = BigInt(Math.max(0, Math.trunc(n))) * 100n;
  // Room for 5 - 2 = 3 more digits: scale until the rounded value fits.
  const max = 100000n;
  let scale = 0;
  while (v >= max - 50n && scale < SCALE_PREFIXES.length) {
    v /= 1024n;
    scale++;
  }
  if (v < 995n && scale > 0) {
    const b = (v + 5n) / 10n;
    return `${b / 10n}.${b % 10n}${SCALE_PREFIXES[scale]}`;
  }
  return `${(v + 50n) / 100n}${SCALE_PREFIXES[scale]}`;
}

/** `0x` and the mask in lowercase hex without padding, as `printf("0x%x")` gives. */
function hexMask(netmask: string): string {
  return `0x${(parseIp4(netmask) ?? 0).toString(16)}`;
}

/** The IPv4 lines: the first address plain, every later one as `inet alias`. */
function inetLines(ifp: IfInfo): string {
  const addrs = ifp.addrs.filter((a): a is InetAddrInfo => a.family === "inet");
  return addrs.map((a, i) => inetLine(ifp.flags, a, i > 0)).join("");
}

function inetLine(flags: number, a: InetAddrInfo, alias: boolean): string {
  let line = `\tinet ${alias ? "alias " : ""}${a.addr}`;
  // NetBSD prints whatever the request slot holds, so a missing address shows as zeros.
  if (flags & IFF.POINTOPOINT) line += ` -> ${a.dst ?? "0.0.0.0"}`;
  line += ` netmask ${hexMask(a.netmask)}`;
  if (flags & IFF.BROADCAST) line += ` broadcast ${a.broadcast ?? "0.0.0.0"}`;
  return `${line}\n`;
}

/** IPv6 address flags in the order in6_alias() tests them. */
const INET6_FLAG_ORDER: readonly Inet6AddrFlag[] = [
  "anycast",
  "tentative",
  "duplicated",
  "detached",
  "deprecated",
];

/** The IPv6 lines, scoped addresses with their `%ifname` zone. */
function inet6Lines(ifp: IfInfo, lifetimes: boolean): string {
  const addrs = ifp.addrs.filter((a): a is Inet6AddrInfo => a.family === "inet6");
  return addrs.map((a) => inet6Line(ifp, a, lifetimes)).join("");
}

function inet6Line(ifp: IfInfo, a: Inet6AddrInfo, lifetimes: boolean): string {
  // getnameinfo(NI_WITHSCOPEID) appends the zone of a scoped address: the interface itself.
  const zone = a.scopeid ? `%${ifp.name}` : "";
  let line = `\tinet6 ${a.addr}${zone}`;
  if (ifp.flags & IFF.POINTOPOINT) line += ` -> ${a.dst ?? "::"}`;
  line += ` prefixlen ${a.prefixlen}`;
  for (const f of INET6_FLAG_ORDER) if (a.flags.includes(f)) line += ` ${f}`;
  if (a.scopeid) line += ` scopeid 0x${a.scopeid.toString(16)}`;
  // -L prints lifetimes only when one of them is finite.
  if (lifetimes && (a.pltime !== undefined || a.vltime !== undefined)) {
    line += ` pltime ${a.pltime ?? "infty"} vltime ${a.vltime ?? "infty"}`;
  }
  return `${line}\n`;
}
