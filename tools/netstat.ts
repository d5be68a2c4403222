/**
 * `netstat`: sockets, routing tables, interfaces and protocol counters, as QNX
 * Neutrino's io-pkt `netstat` (NetBSD 4's, with QNX's padded socket rows) prints them.
 *
 * ```
 * netstat [-anST] [-f address_family]            active sockets
 * netstat -r [-LnT] [-f address_family]          routing tables
 * netstat -rs                                    routing statistics
 * netstat -i [-bdnv] [-I interface]              interfaces
 * netstat -s[s] [-f address_family] | -p proto   protocol statistics
 * ```
 *
 * Choices, with their reasons:
 *
 * - Sockets: QNX 6.5-7.0 list every socket, listeners included, with or without
 *   `-a` (they use the pcblist sysctl path of NetBSD 4's `protopr`, which has no
 *   `-a` filter); `-a` only adds ` (including servers)` to the title. Rows use
 *   QNX 6.6/7.0's padded formats (78 bytes a line). TCP rows come before UDP
 *   rows, as NetBSD walks one protocol after the other. A block's title and
 *   header print with its first row, so an empty block prints nothing: NetBSD
 *   4's `protopr`/`ip6protopr` print them from inside the row loop.
 * - Names: this suite has no resolver (no hosts, networks or services
 *   database), so without `-n` only `127.0.0.1` and `::1` become `localhost`;
 *   other addresses, networks and ports stay numeric, as NetBSD prints them
 *   when a lookup fails.
 * - Routes: listed as NetBSD's kernel walk would (the radix tree: destination
 *   key ascending, link-local keys carrying their zone's interface index as
 *   KAME embeds it, more specific routes first among equal keys, ` =>` on a
 *   route followed by one with the same key), whatever order the stack keeps.
 * - Protocol statistics print NetBSD 4's lines and pluralisation (`inet.c`
 *   1.77, `inet6.c`), in NetBSD's protocol order: ip, icmp, igmp, tcp, udp,
 *   then ip6, icmp6, udp6 on an IPv6 stack, then arp.
 * - Options that need data this stack does not keep are refused with
 *   `netstat: -X: not supported` and exit status 1 rather than faked: `-A`,
 *   `-B`, `-F`, `-g`, `-l`, `-M`, `-m`, `-N`, `-P`, `-q`, `-t`, `-w` (and an
 *   interval operand), `-ia` (multicast memberships), `-rv` (route metrics),
 *   per-interface ip6/icmp6 statistics. `-T` (TCP for name lookups) is
 *   accepted and has nothing to change.
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { netstatMain } from "./netstat.ts";
 * await runTool("netstat", netstatMain); // netstat -rn
 * ```
 * @module
 */

import { ErrnoError } from "../core/errno.ts";
import type {
  ControlOp,
  ControlResults,
  IfAddrInfo,
  IfInfo,
  IfStats,
  ProtoStats,
  RouteInfo,
  SocketInfo,
} from "../core/control/ops.ts";
import { IFF } from "../core/link/if_flags.ts";
import { routeFlagLetters, RTF } from "../core/net/route_flags.ts";
import {
  formatIp4,
  formatIp6,
  maskIp6,
  parseIp4Strict,
  parseIp6,
  splitZone,
} from "../core/net/ip_addr.ts";
import { getopt, getoptMessage } from "./getopt.ts";
import type { ControlClient, RequestOf, ToolContext } from "./tool_context.ts";

// ---------------------------------------------------------------------------
// Command line

type Family = "inet" | "inet6" | "local" | "arp";

interface Options {
  /** `-a`: the socket titles say ` (including servers)`. */
  all: boolean;
  /** `-b`: byte counters in `-i`. */
  bytes: boolean;
  /** `-d`: drops column in `-i`. */
  drops: boolean;
  /** `-f` / `-u`. */
  family: Family | null;
  /** `-I`. */
  iface: string | null;
  /** `-i` (also set by `-I`). */
  ifaces: boolean;
  /** `-L`: hide link-layer (RTF_LLINFO) routes. */
  noLinkRoutes: boolean;
  /** `-n` or `-S`: numeric socket addresses. */
  numericAddr: boolean;
  /** `-n` alone: numeric route and interface names, wide untruncated route columns. */
  nflag: boolean;
  /** `-p`, resolved to its canonical name. */
  proto: string | null;
  /** `-r`. */
  routes: boolean;
  /** How many `-s`. */
  sflag: number;
  /** `-v`. */
  verbose: boolean;
}

const SPEC = "AaBbdF:f:gI:iLlM:mN:nP:p:qrSsTtuvw:";
/** Letters NetBSD/QNX know but this netstat cannot honour (see the module doc). */
const UNSUPPORTED = "ABFglMmNPqtw";

const FAMILIES: Readonly<Record<string, Family>> = {
  inet: "inet",
  inet6: "inet6",
  arp: "arp",
  local: "local",
  unix: "local",
};

/** The counter sets `-s` prints, in NetBSD's order, by address family. */
const FAMILY_STATS: Readonly<Record<Family, readonly string[]>> = {
  inet: ["ip", "icmp", "igmp", "tcp", "udp"],
  inet6: ["ip6", "icmp6", "udp6"],
  arp: ["arp"],
  local: [],
};
const ALL_STATS = [...FAMILY_STATS.inet, ...FAMILY_STATS.inet6, ...FAMILY_STATS.arp];
/** `/etc/protocols` aliases that NetBSD's `-p` also accepts. */
const PROTO_ALIASES: Readonly<Record<string, string>> = {
  IP: "ip",
  ICMP: "icmp",
  IGMP: "igmp",
  TCP: "tcp",
  UDP: "udp",
};

function usage(tool: string): string {
  return [
    `usage: ${tool} [-AanT] [-f address_family]`,
    `       ${tool} [-dgiLmnrsTv] [-f address_family] [-F fib]`,
    `       ${tool} [-dnbT] [-I interface] [-w wait]`,
    `       ${tool} [-T] [-p protocol]`,
    `       ${tool} [-T] [-p protocol] -P pcbaddr`,
    `       ${tool} [-p protocol] [-iT] [-I interface]`,
    `       ${tool} [-sT] [-f address_family] [-i] [-I interface]`,
  ].map((line) => `${line}\n`).join("");
}

type Parsed = { ok: true; opts: Options } | { ok: false; message: string };

function defaults(): Options {
  return {
    all: false,
    bytes: false,
    drops: false,
    family: null,
    iface: null,
    ifaces: false,
    noLinkRoutes: false,
    numericAddr: false,
    nflag: false,
    proto: null,
    routes: false,
    sflag: 0,
    verbose: false,
  };
}

/** Applies one option; returns an error message, or null. */
function applyOpt(o: Options, opt: string, arg: string, tool: string): string | null {
  if (UNSUPPORTED.includes(opt)) return `${tool}: -${opt}: not supported\n`;
  switch (opt) {
    case "a":
      o.all = true;
      break;
    case "b":
      o.bytes = true;
      break;
    case "d":
      o.drops = true;
      break;
    case "f":
      if (!Object.hasOwn(FAMILIES, arg)) return `${tool}: ${arg}: unknown address family\n`;
      o.family = FAMILIES[arg];
      break;
    case "I":
      o.ifaces = true;
      o.iface = arg;
      break;
    case "i":
      o.ifaces = true;
      break;
    case "L":
      o.noLinkRoutes = true;
      break;
    case "n":
      o.numericAddr = o.nflag = true;
      break;
    case "p":
      if (ALL_STATS.includes(arg)) o.proto = arg;
      else o.proto = Object.hasOwn(PROTO_ALIASES, arg) ? PROTO_ALIASES[arg] : null;
      if (o.proto === null) return `${tool}: ${arg}: unknown or uninstrumented protocol\n`;
      break;
    case "r":
      o.routes = true;
      break;
    case "S":
      o.numericAddr = true;
      break;
    case "s":
      o.sflag++;
      break;
    case "u":
      o.family = "local";
      break;
    case "v":
      o.verbose = true;
      break;
    case "T":
      // Name lookups over TCP: with no resolver there is nothing to change.
      break;
  }
  return null;
}

/** Refuses combinations whose output needs data this stack does not keep. */
function unsupportedCombination(o: Options, tool: string): string | null {
  const perIf6 = o.ifaces &&
    (o.proto === "ip6" || o.proto === "icmp6" || (o.proto === null && o.sflag > 0 &&
      o.family === "inet6"));
  if (perIf6) return `${tool}: per-interface ip6/icmp6 statistics: not supported\n`;
  const listsIfaces = o.proto === null && o.ifaces && o.family === null;
  if (listsIfaces && o.all) return `${tool}: -a with -i (multicast memberships): not supported\n`;
  const listsRoutes = o.proto === null && !o.ifaces && o.routes && o.sflag === 0;
  if (listsRoutes && o.verbose) return `${tool}: -v with -r (route metrics): not supported\n`;
  return null;
}

function parseArgs(args: string[], tool: string): Parsed {
  const r = getopt(args, SPEC);
  if (!r.ok) return { ok: false, message: getoptMessage(tool, r) + usage(tool) };
  const o = defaults();
  for (const { opt, arg } of r.opts) {
    const err = applyOpt(o, opt, arg ?? "", tool);
    if (err) return { ok: false, message: err };
  }
  // NetBSD reads a numeric operand as an interval and others as kernel/core files.
  if (r.operands.length > 0) {
    return { ok: false, message: `${tool}: ${r.operands[0]}: not supported\n` };
  }
  const err = unsupportedCombination(o, tool);
  return err ? { ok: false, message: err } : { ok: true, opts: o };
}

// ---------------------------------------------------------------------------
// Running

/** A failure reported as `netstat: <message>` with exit status 1. */
class NetstatError extends Error {}

/**
 * Runs netstat: options per QNX's `netstat`, output per the module doc.
 *
 * @param args the command-line arguments after the tool name
 * @param ctx streams, environment and the way to the stack
 * @returns the exit status: 0, or 1 on a usage error, an unsupported request
 *   or a stack that does not answer
 */
export async function netstatMain(args: string[], ctx: ToolContext): Promise<number> {
  const parsed = parseArgs(args, ctx.name);
  if (!parsed.ok) {
    ctx.stderr(parsed.message);
    return 1;
  }
  let client: ControlClient;
  try {
    client = await ctx.connect();
  } catch (e) {
    ctx.stderr(`${ctx.name}: socket: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  try {
    ctx.stdout(await run(parsed.opts, client));
    return 0;
  } catch (e) {
    if (!(e instanceof NetstatError)) throw e;
    ctx.stderr(`${ctx.name}: ${e.message}\n`);
    return 1;
  } finally {
    client.close();
  }
}

/** The mode selection of NetBSD 4's `main()`, in its order. */
function run(o: Options, client: ControlClient): Promise<string> {
  if (o.proto !== null) return stats(client, [o.proto], o.sflag);
  if (o.ifaces) {
    if (o.family === null) return interfaces(o, client);
    // NetBSD goes on to the per-protocol output when -i meets -f: sockets, or
    // with -s the per-interface statistics, which only ip6/icmp6 have.
    return o.sflag > 0 ? Promise.resolve("") : sockets(o, client);
  }
  if (o.routes) return o.sflag > 0 ? routeStats(client) : routeTables(o, client);
  if (o.sflag > 0) return stats(client, o.family ? FAMILY_STATS[o.family] : ALL_STATS, o.sflag);
  return sockets(o, client);
}

/** Sends one request; an error reply becomes `netstat: <context>: <message>`. */
async function call<O extends ControlOp>(
  client: ControlClient,
  req: RequestOf<O>,
  context: string,
): Promise<ControlResults[O]> {
  try {
    return await client.call(req);
  } catch (e) {
    if (e instanceof ErrnoError) throw new NetstatError(`${context}: ${e.message}`);
    throw e;
  }
}

// ---------------------------------------------------------------------------
// printf pieces

/** `%-W.Ps`: left-justified in `width`, cut to `prec` characters when given. */
function left(s: string, width: number, prec?: number): string {
  return (prec === undefined ? s : s.slice(0, prec)).padEnd(width);
}

/** `%Wd` / `%W.Ws`: right-justified in `width`. */
function right(v: string | number, width: number): string {
  return String(v).padStart(width);
}

/** Substitutes `%llu`, `%s` and `%x` in order, as printf would. */
function fmt(template: string, args: readonly (string | number)[]): string {
  let i = 0;
  return template.replace(/%llu|%s|%x/g, (spec) => {
    const v = args[i++];
    return spec === "%x" ? Number(v).toString(16) : String(v);
  });
}

function plural(n: number): string {
  return n !== 1 ? "s" : "";
}

// ---------------------------------------------------------------------------
// Names: numeric, except the loopback addresses (see the module doc)

const LOOPBACK4 = 0x7f000001;

function isZero6(a: Uint8Array): boolean {
  return a.every((b) => b === 0);
}

function isLoopback6(a: Uint8Array): boolean {
  return a.every((b, i) => b === (i === 15 ? 1 : 0));
}

/** routename4(): a host, `default` for 0.0.0.0. */
function hostName4(text: string, numeric: boolean): string {
  const a = parseIp4Strict(text);
  if (a === null) return text;
  if (a === 0) return "default";
  return !numeric && a === LOOPBACK4 ? "localhost" : formatIp4(a);
}

/** routename6(): a host, its zone kept (`fe80::1%lo0`). */
function hostName6(text: string, numeric: boolean): string {
  const { addr, zone } = splitZone(text);
  const a = parseIp6(addr);
  if (a === null) return text;
  if (!numeric && isLoopback6(a)) return "localhost";
  return formatIp6(a) + (zone === undefined ? "" : `%${zone}`);
}

/** The mask width netname4() prints: 33 - ffs(mask). */
function maskBits(mask: number): number {
  if (mask === 0) return 0;
  const lowest = (mask & -mask) >>> 0;
  return 32 - (31 - Math.clz32(lowest));
}

/** netname4(): a network shortened to its significant octets (`10.0.0/24`, `10/8`). */
function netName4(addr: number, bits: number): string {
  if (addr === 0 && bits === 0) return "default";
  const octets = [addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255];
  const keep = bits < 9 ? 1 : bits < 17 ? 2 : bits < 25 ? 3 : 4;
  return `${octets.slice(0, keep).join(".")}/${bits}`;
}

/** netname6(): the masked prefix with its zone and length (`fe80::%lo0/64`). */
function netName6(text: string, len: number, numeric: boolean): string {
  const { addr, zone } = splitZone(text);
  const a = parseIp6(addr);
  if (a === null) return `${text}/${len}`;
  const net = maskIp6(a, len);
  if (len === 0 && isZero6(net)) return "default";
  if (!numeric && isLoopback6(net)) return `localhost/${len}`;
  return `${formatIp6(net)}${zone === undefined ? "" : `%${zone}`}/${len}`;
}

// ---------------------------------------------------------------------------
// Sockets

interface SocketBlock {
  title: string;
  /** The last header word: `State` for IPv4, `(state)` for IPv6 (QNX 6.6/7.0). */
  stateWord: string;
  protos: readonly SocketInfo["proto"][];
  inet6: boolean;
}

const INET_BLOCK: SocketBlock = {
  title: "Active Internet connections",
  stateWord: "State",
  protos: ["tcp", "udp"],
  inet6: false,
};
const INET6_BLOCK: SocketBlock = {
  title: "Active Internet6 connections",
  stateWord: "(state)",
  protos: ["tcp6", "udp6"],
  inet6: true,
};

async function sockets(o: Options, client: ControlClient): Promise<string> {
  const info = await call(client, { op: "info" }, "socket");
  const socks = await call(client, { op: "sockList" }, "sysctl (query)");
  let out = "";
  if (o.family === null || o.family === "inet") out += socketBlock(o, socks, INET_BLOCK);
  if (info.inet6 && (o.family === null || o.family === "inet6")) {
    out += socketBlock(o, socks, INET6_BLOCK);
  }
  // AF_LOCAL (-f local, -u): this stack has no UNIX-domain sockets, so there is
  // nothing for NetBSD's unixpr() to print; -f arp has no control blocks at all.
  return out;
}

function socketBlock(o: Options, socks: readonly SocketInfo[], block: SocketBlock): string {
  let rows = "";
  for (const proto of block.protos) {
    for (const s of socks) if (s.proto === proto) rows += socketRow(o, s, block.inet6);
  }
  if (rows === "") return "";
  const title = `${block.title}${o.all ? " (including servers)" : ""}\n`;
  const header = `${left("Proto", 5, 5)} ${left("Recv-Q", 6, 6)} ${left("Send-Q", 6, 6)}  ` +
    `${left("Local Address", 22, 22)} ${left("Foreign Address", 22, 22)} ` +
    `${left(block.stateWord, 11, 11)}\n`;
  return title + header + rows;
}

/** QNX 6.6/7.0: `"%-5.5s %6ld %6ld%s"`, two endpoints, `" %-11.11s"` (empty for UDP). */
function socketRow(o: Options, s: SocketInfo, inet6: boolean): string {
  const state = s.proto === "tcp" || s.proto === "tcp6" ? s.state ?? "" : "";
  const endpoint = inet6 ? endpoint6 : endpoint4;
  return `${left(s.proto, 5, 5)} ${right(s.recvQ, 6)} ${right(s.sendQ, 6)} ` +
    endpoint(o, s.localAddr, s.localPort) + endpoint(o, s.foreignAddr, s.foreignPort) +
    ` ${left(state, 11, 11)}\n`;
}

function portText(port: number): string {
  return port === 0 ? "*" : String(port);
}

/** inetprint(): `" %-22.22s"` of host (cut to 16) `.` port. */
function endpoint4(o: Options, addr: string, port: number): string {
  const a = parseIp4Strict(addr);
  let host: string;
  if (a === null) host = addr === "" ? "*" : addr;
  else if (a === 0) host = "*";
  else host = !o.numericAddr && a === LOOPBACK4 ? "localhost" : formatIp4(a);
  return ` ${left(`${host.slice(0, 16)}.${portText(port)}`, 22, 22)}`;
}

/** inet6print(): as inetprint(), but `-v` widens the host and the column. */
function endpoint6(o: Options, addr: string, port: number): string {
  const a = parseIp6(splitZone(addr).addr);
  let host: string;
  if (addr === "" || addr === "*" || (a !== null && isZero6(a))) host = "*";
  else host = hostName6(addr, o.numericAddr);
  const hostWidth = o.verbose ? Math.max(16, host.length) : 16;
  const line = `${host.slice(0, hostWidth)}.${portText(port)}`;
  const width = o.verbose ? Math.max(22, line.length) : 22;
  return ` ${left(line, width, width)}`;
}

// ---------------------------------------------------------------------------
// Routing tables

interface SortedRoute {
  route: RouteInfo;
  /** The radix key: address bytes, a link-local zone's index in bytes 2-3. */
  key: Uint8Array;
  /** Host routes first (129), then longer prefixes. */
  specificity: number;
}

async function routeTables(o: Options, client: ControlClient): Promise<string> {
  const info = await call(client, { op: "info" }, "socket");
  const routes = await call(client, { op: "routeList" }, "sysctl of routing table");
  const zoned = routes.some((r) => r.family === "inet6" && r.dst.includes("%"));
  const zones = zoned ? await zoneIndexes(client) : new Map<string, number>();
  let out = "Routing tables\n";
  if (o.family === null || o.family === "inet") out += routeBlock(o, "inet", routes, zones);
  if (info.inet6 && (o.family === null || o.family === "inet6")) {
    out += routeBlock(o, "inet6", routes, zones);
  }
  return out;
}

async function zoneIndexes(client: ControlClient): Promise<Map<string, number>> {
  const list = await call(client, { op: "ifList" }, "sysctl of routing table");
  return new Map(list.map((i) => [i.name, i.index]));
}

function routeKey(r: RouteInfo, zones: ReadonlyMap<string, number>): Uint8Array {
  if (r.family === "inet") {
    const a = parseIp4Strict(r.dst) ?? 0;
    return new Uint8Array([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255]);
  }
  const { addr, zone } = splitZone(r.dst);
  const key = parseIp6(addr) ?? new Uint8Array(16);
  if (zone !== undefined) {
    const index = zones.get(zone) ?? 0;
    key[2] = index >> 8;
    key[3] = index & 255;
  }
  return key;
}

function isHostRoute(r: RouteInfo): boolean {
  return r.prefixlen === null || (r.flags & RTF.HOST) !== 0;
}

function compareKeys(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function sortRoutes(routes: readonly RouteInfo[], zones: ReadonlyMap<string, number>) {
  const sorted: SortedRoute[] = routes.map((route) => ({
    route,
    key: routeKey(route, zones),
    specificity: isHostRoute(route) ? 129 : route.prefixlen ?? 0,
  }));
  return sorted.sort((a, b) => compareKeys(a.key, b.key) || b.specificity - a.specificity);
}

function routeBlock(
  o: Options,
  family: RouteInfo["family"],
  routes: readonly RouteInfo[],
  zones: ReadonlyMap<string, number>,
): string {
  const sorted = sortRoutes(routes.filter((r) => r.family === family), zones);
  let out = `\n${family === "inet" ? "Internet" : "Internet6"}:\n` + routeHeader(o, family);
  sorted.forEach((s, i) => {
    // " =>" follows the radix duplicate-key chain, which -L does not shorten.
    const dup = i + 1 < sorted.length && compareKeys(s.key, sorted[i + 1].key) === 0;
    if (o.noLinkRoutes && (s.route.flags & RTF.LLINFO)) return;
    out += routeRow(o, s.route, dup);
  });
  return out;
}

function columnWidths(o: Options, family: RouteInfo["family"]): [number, number] {
  return family === "inet6" && o.nflag ? [34, 30] : [18, 18];
}

function routeHeader(o: Options, family: RouteInfo["family"]): string {
  const [wd, wg] = columnWidths(o, family);
  return `${left("Destination", wd, wd)} ${left("Gateway", wg, wg)} ${left("Flags", 6, 6)} ` +
    `${right("Refs", 6)} ${right("Use", 8)} ${right("Mtu", 6)}  Interface\n`;
}

/** p_sockaddr(): `-n` pads without truncating, otherwise the column cuts. */
function routeField(o: Options, text: string, width: number): string {
  return (o.nflag ? text.padEnd(width) : left(text, width, width)) + " ";
}

function routeDestination(o: Options, r: RouteInfo): string {
  if (r.family === "inet6") {
    return isHostRoute(r) ? hostName6(r.dst, o.nflag) : netName6(r.dst, r.prefixlen ?? 0, o.nflag);
  }
  if (isHostRoute(r)) return hostName4(r.dst, o.nflag);
  const a = parseIp4Strict(r.dst);
  return a === null ? r.dst : netName4(a, r.prefixlen ?? 0);
}

/** An address gateway is a host name; `link#N` and link-level addresses print as they are. */
function routeGateway(o: Options, r: RouteInfo): string {
  if (parseIp4Strict(r.gateway) !== null) return hostName4(r.gateway, o.nflag);
  if (parseIp6(splitZone(r.gateway).addr) !== null) return hostName6(r.gateway, o.nflag);
  return r.gateway;
}

/** p_krtentry(): dst, gw, `%-6.6s ` flags, `%6d %8lu ` refs/use, mtu or `-`, lock, ` %.16s`. */
function routeRow(o: Options, r: RouteInfo, dup: boolean): string {
  const [wd, wg] = columnWidths(o, r.family);
  const mtu = r.mtu ? right(r.mtu, 6) : right("-", 6);
  // No route metric is ever locked here, so the RTV_MTU lock column is a space.
  return routeField(o, routeDestination(o, r), wd) + routeField(o, routeGateway(o, r), wg) +
    `${left(routeFlagLetters(r.flags), 6, 6)} ${right(r.refs, 6)} ${right(r.use, 8)} ` +
    `${mtu}  ${r.ifname.slice(0, 16)}${dup ? " =>" : ""}\n`;
}

const ROUTE_STAT_LINES: readonly (readonly [string, string])[] = [
  ["badredirect", "\t%llu bad routing redirect%s\n"],
  ["dynamic", "\t%llu dynamically created route%s\n"],
  ["newgateway", "\t%llu new gateway%s due to redirects\n"],
  ["unreach", "\t%llu destination%s found unreachable\n"],
  ["wildcard", "\t%llu use%s of a wildcard route\n"],
];

/** rt_stats(): every line, whatever -s says. */
async function routeStats(client: ControlClient): Promise<string> {
  const all = await call(client, { op: "stats" }, "rt_stats: sysctl");
  const rt = all.route;
  if (rt === undefined) throw new NetstatError("routing statistics: not supported by this stack");
  return "routing:\n" +
    ROUTE_STAT_LINES.map(([f, m]) => fmt(m, [rt[f] ?? 0, plural(rt[f] ?? 0)])).join("");
}

// ---------------------------------------------------------------------------
// Interfaces

async function interfaces(o: Options, client: ControlClient): Promise<string> {
  let list = await call(client, { op: "ifList" }, "getifaddrs");
  if (o.iface !== null) {
    list = list.filter((i) => i.name === o.iface);
    if (list.length === 0) throw new NetstatError(`${o.iface}: unknown interface`);
  }
  // NetBSD 4's intpr() leaves the header out under -s.
  let out = o.sflag > 0 ? "" : interfaceHeader(o);
  for (const ifp of list) out += interfaceRows(o, ifp);
  return out;
}

function interfaceHeader(o: Options): string {
  let h = `${left("Name", 5, 5)} ${left("Mtu", 5, 5)} ${left("Network", 13, 13)} ` +
    `${left("Address", 17, 17)} `;
  if (o.bytes) h += `${right("Ibytes", 10)} ${right("Obytes", 10)}`;
  else {
    h += `${right("Ipkts", 8)} ${right("Ierrs", 5)} ${right("Opkts", 8)} ${right("Oerrs", 5)} ` +
      right("Colls", 5);
  }
  return h + (o.drops ? ` ${right("Drops", 5)}` : "") + "\n";
}

/** `%-*.*s `: `-v` widens the column to the text instead of cutting it. */
function ifColumn(o: Options, text: string, width: number): string {
  const w = o.verbose ? Math.max(width, text.length) : width;
  return left(text, w, w) + " ";
}

/** One row per address, the link-level (`<Link>`) row first. */
function interfaceRows(o: Options, ifp: IfInfo): string {
  const name = ifp.name + (ifp.flags & IFF.UP ? "" : "*");
  const head = `${ifColumn(o, name, 5)}${left(String(ifp.mtu), 5)} `;
  const tail = interfaceCounters(o, ifp.stats);
  // A loopback's link address is empty; getnameinfo() prints it as "".
  let out = head + left("<Link>", 13, 13) + " " + ifColumn(o, ifp.lladdr ?? "", 17) + tail;
  for (const a of ifp.addrs) out += head + addressColumns(o, ifp, a) + tail;
  return out;
}

function addressColumns(o: Options, ifp: IfInfo, a: IfAddrInfo): string {
  if (a.family === "inet") {
    const addr = parseIp4Strict(a.addr) ?? 0;
    const mask = parseIp4Strict(a.netmask) ?? 0;
    const net = netName4((addr & mask) >>> 0, maskBits(mask));
    return ifColumn(o, net, 13) + ifColumn(o, hostName4(a.addr, o.nflag), 17);
  }
  // KAME clears the scope of a link-local address unless -v asks for it.
  const zoned = o.verbose && a.scopeid !== undefined ? `${a.addr}%${ifp.name}` : a.addr;
  return ifColumn(o, netName6(zoned, a.prefixlen, o.nflag), 13) +
    ifColumn(o, hostName6(zoned, true), 17);
}

function interfaceCounters(o: Options, st: IfStats): string {
  const counters = o.bytes
    ? `${right(st.ibytes, 10)} ${right(st.obytes, 10)}`
    : `${right(st.ipackets, 8)} ${right(st.ierrors, 5)} ${right(st.opackets, 8)} ` +
      `${right(st.oerrors, 5)} ${right(st.collisions, 5)}`;
  // The drops column: the input queue's, as newer NetBSD's sysctl path prints.
  return counters + (o.drops ? ` ${right(st.iqdrops, 5)}` : "") + "\n";
}

// ---------------------------------------------------------------------------
// Protocol statistics: NetBSD 4's lines

/**
 * One printed line. `p`: value and plural `s`; `ps`: value only; `p3`: plural
 * `es`; `py`: `y`/`ies`; `p2`/`p2s`: two values (the second without plural for
 * `p2s`). All of these hide under `-ss` when their values are 0. `nl` ends a
 * line when its counter shows; `text` always prints; `hist`, `scopes` and
 * `m2m` print their non-zero entries; `delivered` prints a difference.
 */
type StatLine =
  | readonly ["p" | "ps" | "p3" | "py", string, string]
  | readonly ["p2" | "p2s", string, string, string]
  | readonly ["nl", string]
  | readonly ["text", string]
  | readonly ["hist", string, string, number, (i: number) => string]
  | readonly ["delivered", string, readonly string[], string]
  | readonly ["scopes", string, string]
  | readonly ["m2m", string];

const ICMP_NAMES = [
  "echo reply",
  "#1",
  "#2",
  "destination unreachable",
  "source quench",
  "routing redirect",
  "alternate host address",
  "#7",
  "echo",
  "router advertisement",
  "router solicitation",
  "time exceeded",
  "parameter problem",
  "time stamp",
  "time stamp reply",
  "information request",
  "information request reply",
  "address mask request",
  "address mask reply",
];

const ICMP6_NAMES: Readonly<Record<number, string>> = {
  1: "unreach",
  2: "packet too big",
  3: "time exceed",
  4: "parameter problem",
  // NetBSD's table misspells these two entries; QNX's netstat carries the same table.
  90: "#80",
  190: "#180",
  128: "echo",
  129: "echo reply",
  130: "multicast listener query",
  131: "multicast listener report",
  132: "multicast listener done",
  133: "router solicitation",
  134: "router advertisement",
  135: "neighbor solicitation",
  136: "neighbor advertisement",
  137: "redirect",
  138: "router renumbering",
  139: "node information request",
  140: "node information reply",
};

/** inet6.c's ip6nh[]; NetBSD falls back to /etc/protocols, which we lack, then `#N`. */
const IP6_NXT_NAMES: Readonly<Record<number, string>> = {
  0: "hop by hop",
  1: "ICMP",
  2: "IGMP",
  4: "IP",
  6: "TCP",
  17: "UDP",
  22: "IDP",
  29: "TP",
  41: "IP6",
  43: "routing",
  44: "fragment",
  50: "ESP",
  51: "AH",
  58: "ICMP6",
  59: "no next header",
  60: "destination option",
  80: "ISOIP",
  89: "OSPF",
  97: "Ethernet",
  103: "PIM",
  132: "SCTP",
};

/** KAME's ICMP6_MAXTYPE: the input histogram stops below it. */
const ICMP6_MAXTYPE = 201;

const icmpName = (i: number): string => ICMP_NAMES[i];
const icmp6Name = (i: number): string => ICMP6_NAMES[i] ?? `#${i}`;
const ip6NxtName = (i: number): string => IP6_NXT_NAMES[i] ?? `#${i}`;

// deno-fmt-ignore
const IP_LINES: readonly StatLine[] = [
  ["p", "total", "\t%llu total packet%s received\n"],
  ["p", "badsum", "\t%llu bad header checksum%s\n"],
  ["ps", "toosmall", "\t%llu with size smaller than minimum\n"],
  ["ps", "tooshort", "\t%llu with data size < data length\n"],
  ["ps", "toolong", "\t%llu with length > max ip packet size\n"],
  ["ps", "badhlen", "\t%llu with header length < data size\n"],
  ["ps", "badlen", "\t%llu with data length < header length\n"],
  ["ps", "badoptions", "\t%llu with bad options\n"],
  ["ps", "badvers", "\t%llu with incorrect version number\n"],
  ["p", "fragments", "\t%llu fragment%s received\n"],
  ["p", "fragdropped", "\t%llu fragment%s dropped (dup or out of space)\n"],
  ["p", "rcvmemdrop", "\t%llu fragment%s dropped (out of ipqent)\n"],
  ["p", "badfrags", "\t%llu malformed fragment%s dropped\n"],
  ["p", "fragtimeout", "\t%llu fragment%s dropped after timeout\n"],
  ["p", "reassembled", "\t%llu packet%s reassembled ok\n"],
  ["p", "delivered", "\t%llu packet%s for this host\n"],
  ["p", "noproto", "\t%llu packet%s for unknown/unsupported protocol\n"],
  ["p", "forward", "\t%llu packet%s forwarded"],
  ["p", "fastforward", " (%llu packet%s fast forwarded)"],
  ["nl", "forward"],
  ["p", "cantforward", "\t%llu packet%s not forwardable\n"],
  ["p", "redirectsent", "\t%llu redirect%s sent\n"],
  ["p", "nogif", "\t%llu packet%s no matching gif found\n"],
  ["p", "localout", "\t%llu packet%s sent from this host\n"],
  ["p", "rawout", "\t%llu packet%s sent with fabricated ip header\n"],
  ["p", "odropped", "\t%llu output packet%s dropped due to no bufs, etc.\n"],
  ["p", "noroute", "\t%llu output packet%s discarded due to no route\n"],
  ["p", "fragmented", "\t%llu output datagram%s fragmented\n"],
  ["p", "ofragments", "\t%llu fragment%s created\n"],
  ["p", "cantfrag", "\t%llu datagram%s that can't be fragmented\n"],
  ["p", "badaddr", "\t%llu datagram%s with bad address in header\n"],
];

// deno-fmt-ignore
const ICMP_LINES: readonly StatLine[] = [
  ["p", "error", "\t%llu call%s to icmp_error\n"],
  ["p", "oldicmp", "\t%llu error%s not generated because old message was icmp\n"],
  ["hist", "outhist", "\tOutput histogram:\n", ICMP_NAMES.length, icmpName],
  ["p", "badcode", "\t%llu message%s with bad code fields\n"],
  ["p", "tooshort", "\t%llu message%s < minimum length\n"],
  ["p", "checksum", "\t%llu bad checksum%s\n"],
  ["p", "badlen", "\t%llu message%s with bad length\n"],
  ["hist", "inhist", "\tInput histogram:\n", ICMP_NAMES.length, icmpName],
  ["p", "reflect", "\t%llu message response%s generated\n"],
  ["p", "pmtuchg", "\t%llu path MTU change%s\n"],
];

// deno-fmt-ignore
const IGMP_LINES: readonly StatLine[] = [
  ["p", "rcv_total", "\t%llu message%s received\n"],
  ["p", "rcv_tooshort", "\t%llu message%s received with too few bytes\n"],
  ["p", "rcv_badsum", "\t%llu message%s received with bad checksum\n"],
  ["py", "rcv_queries", "\t%llu membership quer%s received\n"],
  ["py", "rcv_badqueries", "\t%llu membership quer%s received with invalid field(s)\n"],
  ["p", "rcv_reports", "\t%llu membership report%s received\n"],
  ["p", "rcv_badreports", "\t%llu membership report%s received with invalid field(s)\n"],
  ["p", "rcv_ourreports",
    "\t%llu membership report%s received for groups to which we belong\n"],
  ["p", "snd_reports", "\t%llu membership report%s sent\n"],
];

// deno-fmt-ignore
const TCP_LINES: readonly StatLine[] = [
  ["p", "sndtotal", "\t%llu packet%s sent\n"],
  ["p2", "sndpack", "sndbyte", "\t\t%llu data packet%s (%llu byte%s)\n"],
  ["p2", "sndrexmitpack", "sndrexmitbyte", "\t\t%llu data packet%s (%llu byte%s) retransmitted\n"],
  ["p2s", "sndacks", "delack", "\t\t%llu ack-only packet%s (%llu delayed)\n"],
  ["p", "sndurg", "\t\t%llu URG only packet%s\n"],
  ["p", "sndprobe", "\t\t%llu window probe packet%s\n"],
  ["p", "sndwinup", "\t\t%llu window update packet%s\n"],
  ["p", "sndctrl", "\t\t%llu control packet%s\n"],
  ["p", "selfquench", "\t\t%llu send attempt%s resulted in self-quench\n"],
  ["p", "rcvtotal", "\t%llu packet%s received\n"],
  ["p2", "rcvackpack", "rcvackbyte", "\t\t%llu ack%s (for %llu byte%s)\n"],
  ["p", "rcvdupack", "\t\t%llu duplicate ack%s\n"],
  ["p", "rcvacktoomuch", "\t\t%llu ack%s for unsent data\n"],
  ["p2", "rcvpack", "rcvbyte", "\t\t%llu packet%s (%llu byte%s) received in-sequence\n"],
  ["p2", "rcvduppack", "rcvdupbyte", "\t\t%llu completely duplicate packet%s (%llu byte%s)\n"],
  ["p", "pawsdrop", "\t\t%llu old duplicate packet%s\n"],
  ["p2", "rcvpartduppack", "rcvpartdupbyte",
    "\t\t%llu packet%s with some dup. data (%llu byte%s duped)\n"],
  ["p2", "rcvoopack", "rcvoobyte", "\t\t%llu out-of-order packet%s (%llu byte%s)\n"],
  ["p2", "rcvpackafterwin", "rcvbyteafterwin",
    "\t\t%llu packet%s (%llu byte%s) of data after window\n"],
  ["p", "rcvwinprobe", "\t\t%llu window probe%s\n"],
  ["p", "rcvwinupd", "\t\t%llu window update packet%s\n"],
  ["p", "rcvafterclose", "\t\t%llu packet%s received after close\n"],
  ["p", "rcvbadsum", "\t\t%llu discarded for bad checksum%s\n"],
  ["p", "rcvbadoff", "\t\t%llu discarded for bad header offset field%s\n"],
  ["ps", "rcvshort", "\t\t%llu discarded because packet too short\n"],
  ["p", "connattempt", "\t%llu connection request%s\n"],
  ["p", "accepts", "\t%llu connection accept%s\n"],
  ["p", "connects", "\t%llu connection%s established (including accepts)\n"],
  ["p2", "closed", "drops", "\t%llu connection%s closed (including %llu drop%s)\n"],
  ["p", "conndrops", "\t%llu embryonic connection%s dropped\n"],
  ["p", "delayed_free", "\t%llu delayed free%s of tcpcb\n"],
  ["p2", "rttupdated", "segstimed", "\t%llu segment%s updated rtt (of %llu attempt%s)\n"],
  ["p", "rexmttimeo", "\t%llu retransmit timeout%s\n"],
  ["p", "timeoutdrop", "\t\t%llu connection%s dropped by rexmit timeout\n"],
  ["p2", "persisttimeo", "persistdrops",
    "\t%llu persist timeout%s (resulting in %llu dropped connection%s)\n"],
  ["p", "keeptimeo", "\t%llu keepalive timeout%s\n"],
  ["p", "keepprobe", "\t\t%llu keepalive probe%s sent\n"],
  ["p", "keepdrops", "\t\t%llu connection%s dropped by keepalive\n"],
  ["p", "predack", "\t%llu correct ACK header prediction%s\n"],
  ["p", "preddat", "\t%llu correct data packet header prediction%s\n"],
  ["p3", "pcbhashmiss", "\t%llu PCB hash miss%s\n"],
  ["ps", "noport", "\t%llu dropped due to no socket\n"],
  ["p", "connsdrained", "\t%llu connection%s drained due to memory shortage\n"],
  ["p", "pmtublackhole", "\t%llu PMTUD blackhole%s detected\n"],
  ["p", "badsyn", "\t%llu bad connection attempt%s\n"],
  ["ps", "sc_added", "\t%llu SYN cache entries added\n"],
  ["p", "sc_collisions", "\t\t%llu hash collision%s\n"],
  ["ps", "sc_completed", "\t\t%llu completed\n"],
  ["ps", "sc_aborted", "\t\t%llu aborted (no space to build PCB)\n"],
  ["ps", "sc_timed_out", "\t\t%llu timed out\n"],
  ["ps", "sc_overflowed", "\t\t%llu dropped due to overflow\n"],
  ["ps", "sc_bucketoverflow", "\t\t%llu dropped due to bucket overflow\n"],
  ["ps", "sc_reset", "\t\t%llu dropped due to RST\n"],
  ["ps", "sc_unreach", "\t\t%llu dropped due to ICMP unreachable\n"],
  ["ps", "sc_delayed_free", "\t\t%llu delayed free of SYN cache entries\n"],
  ["p", "sc_retransmitted", "\t%llu SYN,ACK%s retransmitted\n"],
  ["p", "sc_dupesyn", "\t%llu duplicate SYN%s received for entries already in the cache\n"],
  ["p", "sc_dropped", "\t%llu SYN%s dropped (no route or no space)\n"],
  ["p", "badsig", "\t%llu packet%s with bad signature\n"],
  ["p", "goodsig", "\t%llu packet%s with good signature\n"],
  // "sucessful" is NetBSD's spelling.
  ["p", "ecn_shs", "\t%llu sucessful ECN handshake%s\n"],
  ["p", "ecn_ce", "\t%llu packet%s with ECN CE bit\n"],
  ["p", "ecn_ect", "\t%llu packet%s ECN ECT(0) bit\n"],
];

// deno-fmt-ignore
const UDP_LINES: readonly StatLine[] = [
  ["p", "ipackets", "\t%llu datagram%s received\n"],
  ["ps", "hdrops", "\t%llu with incomplete header\n"],
  ["ps", "badlen", "\t%llu with bad data length field\n"],
  ["ps", "badsum", "\t%llu with bad checksum\n"],
  ["ps", "noport", "\t%llu dropped due to no socket\n"],
  ["p", "noportbcast", "\t%llu broadcast/multicast datagram%s dropped due to no socket\n"],
  ["ps", "fullsock", "\t%llu dropped due to full socket buffers\n"],
  ["delivered", "ipackets",
    ["hdrops", "badlen", "badsum", "noport", "noportbcast", "fullsock"], "\t%llu delivered\n"],
  ["p3", "pcbhashmiss", "\t%llu PCB hash miss%s\n"],
  ["p", "opackets", "\t%llu datagram%s output\n"],
];

// deno-fmt-ignore
const ARP_LINES: readonly StatLine[] = [
  ["p", "sndtotal", "\t%llu packet%s sent\n"],
  ["p", "sndreply", "\t\t%llu reply packet%s\n"],
  ["p", "sndrequest", "\t\t%llu request packet%s\n"],
  ["p", "rcvtotal", "\t%llu packet%s received\n"],
  ["p", "rcvreply", "\t\t%llu reply packet%s\n"],
  ["p", "rcvrequest", "\t\t%llu valid request packet%s\n"],
  ["p", "rcvmcast", "\t\t%llu broadcast/multicast packet%s\n"],
  ["p", "rcvbadproto", "\t\t%llu packet%s with unknown protocol type\n"],
  ["p", "rcvbadlen", "\t\t%llu packet%s with bad (short) length\n"],
  ["p", "rcvzerotpa", "\t\t%llu packet%s with null target IP address\n"],
  ["p", "rcvzerospa", "\t\t%llu packet%s with null source IP address\n"],
  ["ps", "rcvnoint", "\t\t%llu could not be mapped to an interface\n"],
  ["p", "rcvlocalsha", "\t\t%llu packet%s sourced from a local hardware address\n"],
  ["p", "rcvbcastsha", "\t\t%llu packet%s with a broadcast source hardware address\n"],
  ["p", "rcvlocalspa", "\t\t%llu duplicate%s for a local IP address\n"],
  ["p", "rcvoverperm", "\t\t%llu attempt%s to overwrite a static entry\n"],
  ["p", "rcvoverint", "\t\t%llu packet%s received on wrong interface\n"],
  // NetBSD pluralises this one as "entrys".
  ["p", "rcvover", "\t\t%llu entry%s overwritten\n"],
  ["p", "rcvlenchg", "\t\t%llu change%s in hardware address length\n"],
  ["p", "dfrtotal", "\t%llu packet%s deferred pending ARP resolution\n"],
  ["ps", "dfrsent", "\t\t%llu sent\n"],
  ["ps", "dfrdropped", "\t\t%llu dropped\n"],
  ["p", "allocfail", "\t%llu failure%s to allocate llinfo\n"],
];

// deno-fmt-ignore
const IP6_LINES: readonly StatLine[] = [
  ["p", "total", "\t%llu total packet%s received\n"],
  ["ps", "toosmall", "\t%llu with size smaller than minimum\n"],
  ["ps", "tooshort", "\t%llu with data size < data length\n"],
  ["ps", "badoptions", "\t%llu with bad options\n"],
  ["ps", "badvers", "\t%llu with incorrect version number\n"],
  ["p", "fragments", "\t%llu fragment%s received\n"],
  ["p", "fragdropped", "\t%llu fragment%s dropped (dup or out of space)\n"],
  ["p", "fragtimeout", "\t%llu fragment%s dropped after timeout\n"],
  ["p", "fragoverflow", "\t%llu fragment%s that exceeded limit\n"],
  ["p", "reassembled", "\t%llu packet%s reassembled ok\n"],
  ["p", "delivered", "\t%llu packet%s for this host\n"],
  ["p", "forward", "\t%llu packet%s forwarded\n"],
  ["p", "cantforward", "\t%llu packet%s not forwardable\n"],
  ["p", "redirectsent", "\t%llu redirect%s sent\n"],
  ["p", "localout", "\t%llu packet%s sent from this host\n"],
  ["p", "rawout", "\t%llu packet%s sent with fabricated ip header\n"],
  ["p", "odropped", "\t%llu output packet%s dropped due to no bufs, etc.\n"],
  ["p", "noroute", "\t%llu output packet%s discarded due to no route\n"],
  ["p", "fragmented", "\t%llu output datagram%s fragmented\n"],
  ["p", "ofragments", "\t%llu fragment%s created\n"],
  ["p", "cantfrag", "\t%llu datagram%s that can't be fragmented\n"],
  ["p", "badscope", "\t%llu packet%s that violated scope rules\n"],
  ["p", "notmember", "\t%llu multicast packet%s which we don't join\n"],
  ["hist", "nxthist", "\tInput packet histogram:\n", 256, ip6NxtName],
  ["text", "\tMbuf statistics:\n"],
  ["p", "m1", "\t\t%llu one mbuf%s\n"],
  ["m2m", "m2m"],
  ["p", "mext1", "\t\t%llu one ext mbuf%s\n"],
  ["p", "mext2m", "\t\t%llu two or more ext mbuf%s\n"],
  ["p", "exthdrtoolong", "\t%llu packet%s whose headers are not continuous\n"],
  ["p", "nogif", "\t%llu tunneling packet%s that can't find gif\n"],
  ["p", "toomanyhdr", "\t%llu packet%s discarded due to too many headers\n"],
  ["p", "sources_none", "\t%llu failure%s of source address selection\n"],
  ["scopes", "sources_sameif", "\tsource addresses on an outgoing I/F\n"],
  ["scopes", "sources_otherif", "\tsource addresses on a non-outgoing I/F\n"],
  ["scopes", "sources_samescope", "\tsource addresses of same scope\n"],
  ["scopes", "sources_otherscope", "\tsource addresses of a different scope\n"],
  ["scopes", "sources_deprecated", "\tdeprecated source addresses\n"],
  ["ps", "forward_cachehit", "\t%llu forward cache hit\n"],
  ["ps", "forward_cachemiss", "\t%llu forward cache miss\n"],
];

// deno-fmt-ignore
const ICMP6_LINES: readonly StatLine[] = [
  ["p", "error", "\t%llu call%s to icmp6_error\n"],
  ["p", "canterror", "\t%llu error%s not generated because old message was icmp6 or so\n"],
  ["p", "toofreq", "\t%llu error%s not generated because of rate limitation\n"],
  ["hist", "outhist", "\tOutput packet histogram:\n", 256, icmp6Name],
  ["p", "badcode", "\t%llu message%s with bad code fields\n"],
  ["p", "tooshort", "\t%llu message%s < minimum length\n"],
  ["p", "checksum", "\t%llu bad checksum%s\n"],
  ["p", "badlen", "\t%llu message%s with bad length\n"],
  ["hist", "inhist", "\tInput packet histogram:\n", ICMP6_MAXTYPE, icmp6Name],
  ["text", "\tHistogram of error messages to be generated:\n"],
  ["ps", "odst_unreach_noroute", "\t\t%llu no route\n"],
  ["ps", "odst_unreach_admin", "\t\t%llu administratively prohibited\n"],
  ["ps", "odst_unreach_beyondscope", "\t\t%llu beyond scope\n"],
  ["ps", "odst_unreach_addr", "\t\t%llu address unreachable\n"],
  ["ps", "odst_unreach_noport", "\t\t%llu port unreachable\n"],
  ["ps", "opacket_too_big", "\t\t%llu packet too big\n"],
  ["ps", "otime_exceed_transit", "\t\t%llu time exceed transit\n"],
  ["ps", "otime_exceed_reassembly", "\t\t%llu time exceed reassembly\n"],
  ["ps", "oparamprob_header", "\t\t%llu erroneous header field\n"],
  ["ps", "oparamprob_nextheader", "\t\t%llu unrecognized next header\n"],
  ["ps", "oparamprob_option", "\t\t%llu unrecognized option\n"],
  ["ps", "oredirect", "\t\t%llu redirect\n"],
  ["ps", "ounknown", "\t\t%llu unknown\n"],
  ["p", "reflect", "\t%llu message response%s generated\n"],
  ["p", "nd_toomanyopt", "\t%llu message%s with too many ND options\n"],
  ["p", "nd_badopt", "\t%llu message%s with bad ND options\n"],
  ["p", "badns", "\t%llu bad neighbor solicitation message%s\n"],
  ["p", "badna", "\t%llu bad neighbor advertisement message%s\n"],
  ["p", "badrs", "\t%llu bad router solicitation message%s\n"],
  ["p", "badra", "\t%llu bad router advertisement message%s\n"],
  ["p", "badredirect", "\t%llu bad redirect message%s\n"],
  ["p", "pmtuchg", "\t%llu path MTU change%s\n"],
];

// deno-fmt-ignore
const UDP6_LINES: readonly StatLine[] = [
  ["p", "ipackets", "\t%llu datagram%s received\n"],
  ["ps", "hdrops", "\t%llu with incomplete header\n"],
  ["ps", "badlen", "\t%llu with bad data length field\n"],
  ["ps", "badsum", "\t%llu with bad checksum\n"],
  ["ps", "nosum", "\t%llu with no checksum\n"],
  ["ps", "noport", "\t%llu dropped due to no socket\n"],
  ["p", "noportmcast", "\t%llu multicast datagram%s dropped due to no socket\n"],
  ["ps", "fullsock", "\t%llu dropped due to full socket buffers\n"],
  ["delivered", "ipackets",
    ["hdrops", "badlen", "badsum", "noport", "noportmcast", "fullsock"], "\t%llu delivered\n"],
  ["p", "opackets", "\t%llu datagram%s output\n"],
];

const STAT_LINES: Readonly<Record<string, readonly StatLine[]>> = {
  ip: IP_LINES,
  icmp: ICMP_LINES,
  igmp: IGMP_LINES,
  tcp: TCP_LINES,
  udp: UDP_LINES,
  ip6: IP6_LINES,
  icmp6: ICMP6_LINES,
  udp6: UDP6_LINES,
  arp: ARP_LINES,
};

/** What rendering a counter set needs besides the set. */
interface StatContext {
  set: Readonly<Record<string, number>>;
  sflag: number;
  /** if_indextoname() for the ip6 mbuf counters: `(null)` when unknown, as printf shows NULL. */
  ifName(index: number): string;
}

/**
 * Prints each named counter set the stack keeps; a set it lacks prints
 * nothing, as NetBSD prints nothing for a protocol the kernel lacks (ip6 on
 * io-pkt-v4-hc).
 */
async function stats(client: ControlClient, protos: readonly string[], sflag: number) {
  const all = await call(client, { op: "stats" }, "sysctl");
  const names = await m2mInterfaceNames(client, all, protos);
  let out = "";
  for (const proto of protos) {
    const set = all[proto];
    if (set === undefined) continue;
    const c: StatContext = { set, sflag, ifName: (i) => names.get(i) ?? "(null)" };
    out += `${proto}:\n` + STAT_LINES[proto].map((line) => statLine(line, c)).join("");
  }
  return out;
}

/** Interface names by index, fetched only when an ip6 mbuf counter will print them. */
async function m2mInterfaceNames(
  client: ControlClient,
  all: ProtoStats,
  protos: readonly string[],
): Promise<Map<number, string>> {
  const ip6 = all.ip6;
  const needed = protos.includes("ip6") && ip6 !== undefined &&
    Object.entries(ip6).some(([k, v]) => k.startsWith("m2m.") && v !== 0);
  if (!needed) return new Map();
  const list = await call(client, { op: "ifList" }, "if_indextoname");
  return new Map(list.map((i) => [i.index, i.name]));
}

function statLine(line: StatLine, c: StatContext): string {
  const v = (f: string): number => c.set[f] ?? 0;
  const shows = (...fs: string[]): boolean => c.sflag <= 1 || fs.some((f) => v(f) !== 0);
  switch (line[0]) {
    case "p":
      return shows(line[1]) ? fmt(line[2], [v(line[1]), plural(v(line[1]))]) : "";
    case "ps":
      return shows(line[1]) ? fmt(line[2], [v(line[1])]) : "";
    case "p3":
      return shows(line[1]) ? fmt(line[2], [v(line[1]), v(line[1]) !== 1 ? "es" : ""]) : "";
    case "py":
      return shows(line[1]) ? fmt(line[2], [v(line[1]), v(line[1]) !== 1 ? "ies" : "y"]) : "";
    case "p2":
    case "p2s": {
      const [a, b] = [v(line[1]), v(line[2])];
      const args = line[0] === "p2" ? [a, plural(a), b, plural(b)] : [a, plural(a), b];
      return shows(line[1], line[2]) ? fmt(line[3], args) : "";
    }
    case "nl":
      return shows(line[1]) ? "\n" : "";
    case "text":
      return line[1];
    case "hist":
      return histogram(c, line[1], line[2], line[3], line[4]);
    case "delivered":
      return delivered(c, line[1], line[2], line[3]);
    case "scopes":
      return sourceScopes(c, line[1], line[2]);
    case "m2m":
      return histogram(c, line[1], "\t\ttwo or more mbuf:\n", 32, c.ifName, "\t\t\t%s = %llu\n");
  }
}

/** The non-zero entries of `prefix.N`, under `title` printed once. */
function histogram(
  c: StatContext,
  prefix: string,
  title: string,
  len: number,
  name: (i: number) => string,
  entry = "\t\t%s: %llu\n",
): string {
  let out = "";
  for (let i = 0; i < len; i++) {
    const n = c.set[`${prefix}.${i}`] ?? 0;
    if (n !== 0) out += (out === "" ? title : "") + fmt(entry, [name(i), n]);
  }
  return out;
}

/** `total` minus `minus`, computed in u_quad_t as NetBSD does (so it wraps, never goes below 0). */
function delivered(c: StatContext, total: string, minus: readonly string[], m: string): string {
  let d = BigInt(c.set[total] ?? 0);
  for (const f of minus) d -= BigInt(c.set[f] ?? 0);
  d = BigInt.asUintN(64, d);
  return d !== 0n || c.sflag <= 1 ? fmt(m, [d.toString()]) : "";
}

const SCOPE_LINES: Readonly<Record<number, string>> = {
  1: "\t\t%llu node-local%s\n",
  2: "\t\t%llu link-local%s\n",
  5: "\t\t%llu site-local%s\n",
  14: "\t\t%llu global%s\n",
};

/** PRINT_SCOPESTAT over the 16 scopes of one source-selection counter. */
function sourceScopes(c: StatContext, prefix: string, title: string): string {
  let out = "";
  for (let i = 0; i < 16; i++) {
    const n = c.set[`${prefix}.${i}`] ?? 0;
    if (n === 0) continue;
    const m = SCOPE_LINES[i];
    out += (out === "" ? title : "") +
      (m ? fmt(m, [n, plural(n)]) : fmt("\t\t%llu addresses scope=%x\n", [n, i]));
  }
  return out;
}
