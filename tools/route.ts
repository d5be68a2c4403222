/**
 * `route`: NetBSD 4's route(8) (the one QNX ships) over the control socket.
 *
 * ```
 * route [-dfnqst] command [[modifiers] args]
 *   add | change | delete [-net | -host] [-inet | -inet6] dst [gateway [netmask]]
 *       [-netmask mask | -prefixlen n] [-interface | -iface] [-ifp if]
 *       [-reject] [-blackhole] [-mtu n] [-static | -nostatic] [-link]
 *       [-cloning] [-llinfo] [-xresolve] [-proto1] [-proto2] [-proxy]
 *   get [-inet | -inet6] dst       show [-inet | -inet6]       flush [-inet | -inet6]
 * ```
 *
 * Messages follow route.c: `add net 192.0.2.0: gateway 198.51.100.1`, and on
 * failure `route: writing to routing socket: <error>` on stderr then the same
 * line ending in `: <error>`, where ESRCH, EBUSY and ENOBUFS read `not in
 * table`, `entry in use` and `routing table overflow`. `-q` silences stdout.
 * Exit status 0, or 1 on any failure.
 *
 * Choices, with their reasons:
 *
 * - Destinations are read as route.c's getaddr() reads them: `-net` numbers
 *   through inet_network() and the classful inet_makenetandmask(), plain
 *   addresses through inet_aton() with a zero classful host part making a
 *   network, `a/len` and `-prefixlen`, KAME's /64 and /0 defaults for IPv6.
 *   There is no resolver: names other than `localhost` are `bad value`.
 * - `-interface` (`-iface`) takes the gateway word as the interface's address,
 *   as BSD does, or (an extension) as the interface's name.
 * - `route show` prints show.c's table: `Destination`, `Gateway` and the
 *   `U G H R L` flag letters only; networks print as the full address with
 *   `/len` (none for `default`), hosts as addresses; only `127.0.0.1`/`::1`
 *   become `localhost` without `-n`, as netstat here does. Rows are in the
 *   radix tree's key order.
 * - `route get` prints print_getmsg()'s block; the metrics row shows the MTU
 *   and zeros for the metrics this stack does not keep. DONE is among the
 *   flags, as the kernel marks an answered request.
 * - Requests that need data the control protocol does not carry are refused
 *   with `route: <what>: not supported` and exit status 1: `-v` (message
 *   dumps), `monitor`, metrics other than `-mtu`, `-ifa`, `-genmask`,
 *   `-lock`, `-lockrest`, `-cloned`, `-sa`, and address families other than
 *   inet, inet6 and (for a gateway) link. Keywords NetBSD 4 does not have
 *   (`-connected`, NetBSD 8) are `botched keyword`, as that route says.
 * - `-cloning`, `-llinfo`, `-xresolve`, `-proto1`, `-proto2` and `-proxy`
 *   (RTF_ANNOUNCE, which is RTF_PROTO2) mark the route with their flag;
 *   `-nostatic` leaves RTF_STATIC off. `-link` reads the gateway as a
 *   link-level address, `[ifname:]x.x.x.x.x.x` as link_addr(3) does (or with
 *   colons); the interface comes from the name or `-ifp`.
 * - A `-reject` or `-blackhole` route takes any gateway: one that is not
 *   reachable puts the route on lo0, as it only marks the destination.
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { routeMain } from "./route.ts";
 * await runTool("route", routeMain); // route add -net 224.0.0.0/4 192.0.2.1
 * ```
 * @module
 */

import { ErrnoError, strerror } from "../core/errno.ts";
import type { IfInfo, RouteInfo, RouteSpec } from "../core/control/ops.ts";
import { RTF } from "../core/net/route_flags.ts";
import {
  formatIp4,
  formatIp6,
  maskIp6,
  parseIp4,
  parseIp4Strict,
  parseIp6,
  prefixToMask4,
  splitZone,
} from "../core/net/ip_addr.ts";
import { getopt, getoptMessage } from "./getopt.ts";
import {
  compareRadix,
  inet6HostName,
  inetHostName,
  isHostRoute,
  radixEntry,
  routeBlockHead,
  routeColumns,
} from "./route_format.ts";
import type { ControlClient, ToolContext } from "./tool_context.ts";

type Family = "inet" | "inet6";

/** The global flags. */
interface RouteFlags {
  /** `-d`/`-t`: build the request, send nothing. */
  dryRun: boolean;
  flushFirst: boolean;
  numeric: boolean;
  quiet: boolean;
  /** `-s`: `get` prints the gateway only. */
  short: boolean;
}

/** Ends the run with an exit status after printing `route: <message>`. */
class RouteExit extends Error {
  /**
   * @param message printed after `route: ` on stderr (nothing when empty)
   * @param usage whether the usage line follows
   */
  constructor(message: string, readonly usage = false) {
    super(message);
  }
}

function usageText(tool: string): string {
  return `Usage: ${tool} [ -fnqvs ] cmd [[ -<qualifers> ] args ]\n`;
}

function botched(word: string): never {
  throw new RouteExit(`botched keyword: ${word}`, true);
}

function notSupported(what: string): never {
  throw new RouteExit(`${what}: not supported`);
}

/** route_strerror(): the routing socket's words for three errnos. */
export function routeStrerror(e: unknown): string {
  if (!(e instanceof ErrnoError)) return e instanceof Error ? e.message : String(e);
  switch (e.code) {
    case "ESRCH":
      return "not in table";
    case "EBUSY":
      return "entry in use";
    case "ENOBUFS":
      return "routing table overflow";
    default:
      return strerror(e.code);
  }
}

// ---------------------------------------------------------------------------
// inet address forms (libc's inet_network and route.c's classful rules)

/** inet_network(3): up to four dotted parts, joined right-aligned; null when malformed. */
export function inetNetwork(text: string): number | null {
  const parts = text.split(".");
  if (parts.length > 4 || parts.some((p) => p === "")) return null;
  let v = 0;
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]+$/i.test(p)) n = parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = parseInt(p, 8);
    else if (/^[1-9]\d*$/.test(p)) n = Number(p);
    else return null;
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** route.c's inet_makenetandmask(): a network number to an address and classful mask. */
export function makeNetAndMask(net: number): { addr: number; len: number } {
  if (net === 0) return { addr: 0, len: 0 };
  const byTop = (shift: number, len: number) => ({ addr: (net << shift) >>> 0, len });
  if (net < 128) return byTop(24, 8);
  if (net < 192) return byTop(24, 16);
  if (net < 224) return byTop(24, 24);
  if (net < 256) return byTop(24, 4);
  if (net < 49152) return byTop(16, 16);
  if (net < 57344) return byTop(16, 24);
  if (net < 65536) return byTop(16, 16);
  if (net < 14680064) return byTop(8, 24);
  if (net < 16777216) return byTop(8, 4);
  if ((net & 0x00ffffff) === 0) return { addr: net, len: 8 };
  if ((net & 0x0000ffff) === 0) return { addr: net, len: 16 };
  if ((net & 0x000000ff) === 0) return { addr: net, len: 24 };
  return { addr: net, len: 32 };
}

/** inet_lnaof(3): the classful host part. */
function hostPart(addr: number): number {
  if (addr >>> 31 === 0) return addr & 0x00ffffff;
  if (addr >>> 30 === 2) return addr & 0x0000ffff;
  return addr & 0xff;
}

// ---------------------------------------------------------------------------
// newroute(): the argument grammar

/** What newroute() has gathered from the words. */
interface NewRoute {
  cmd: string;
  family: Family | null;
  dest: string;
  gateway: string;
  /** The destination: an IPv4 number or IPv6 bytes, with its zone. */
  dst4?: number;
  dst6?: Uint8Array;
  zone?: string;
  /** Prefix length of the netmask, once one is known. */
  masklen: number | null;
  ishost: boolean;
  forcehost: boolean;
  forcenet: boolean;
  iflag: boolean;
  reject: boolean;
  blackhole: boolean;
  mtu?: number;
  ifp?: string;
  /** RTF marks from `-cloning`, `-llinfo`, `-xresolve`, `-proto1`, `-proto2`, `-proxy`. */
  marks: number;
  nostatic: boolean;
  /** `-link`: the gateway is a link-level address (link_addr(3) form). */
  link: boolean;
}

const UNSUPPORTED_KEYWORDS = new Set([
  "hopcount",
  "expire",
  "recvpipe",
  "sendpipe",
  "ssthresh",
  "rtt",
  "rttvar",
  "ifa",
  "genmask",
  "lock",
  "lockrest",
  "cloned",
  "sa",
  "atalk",
  "iso",
  "osi",
  "x25",
  "xns",
]);

function familyOf(r: NewRoute): Family {
  r.family ??= "inet";
  return r.family;
}

/** prefixlen(): `atoi` of the text, checked against the family's width. */
function prefixLength(r: NewRoute, text: string): boolean {
  const max = familyOf(r) === "inet" ? 32 : 128;
  const m = /^\s*[+-]?\d+/.exec(text);
  const len = m ? parseInt(m[0], 10) : 0;
  if (len < 0 || len > max) throw new RouteExit(`${text}: bad value`);
  r.masklen = len;
  return len === max;
}

/** getaddr(RTA_DST): sets the destination; returns whether it names a host. */
function getDst(r: NewRoute, s: string): boolean {
  if (s === "default") {
    r.forcenet = true;
    if (familyOf(r) === "inet") r.dst4 = 0;
    else r.dst6 = new Uint8Array(16);
    r.masklen = 0;
    return false;
  }
  return familyOf(r) === "inet" ? getDst4(r, s) : getDst6(r, s);
}

function getDst4(r: NewRoute, s: string): boolean {
  const slash = s.indexOf("/");
  if (slash !== -1) {
    const head = s.slice(0, slash);
    const val = r.forcenet ? inetNetwork(head) : parseIp4(head);
    if (val !== null) {
      r.dst4 = makeNetAndMask(val).addr;
      return prefixLength(r, s.slice(slash + 1));
    }
  }
  const a = s === "localhost" ? 0x7f000001 : parseIp4(s);
  if (a !== null && !r.forcenet) {
    r.dst4 = a;
    if (hostPart(a) !== 0 || s === "localhost") return true;
    return netDone(r, a);
  }
  const net = inetNetwork(s);
  if (net === null) throw new RouteExit(`${s}: bad value`);
  return netDone(r, net);
}

function netDone(r: NewRoute, net: number): boolean {
  const { addr, len } = makeNetAndMask(net);
  r.dst4 = addr;
  r.masklen = len;
  return false;
}

function getDst6(r: NewRoute, s: string): boolean {
  const slash = s.lastIndexOf("/");
  const head = slash === -1 ? s : s.slice(0, slash);
  const { addr, zone } = splitZone(head === "localhost" ? "::1" : head);
  const a = parseIp6(addr);
  if (a === null) throw new RouteExit(`${s}: bad value`);
  r.dst6 = a;
  r.zone = zone;
  if (head === "localhost") return true;
  if (slash !== -1) return prefixLength(r, s.slice(slash + 1));
  // inet6_makenetandmask(): :: is /0, a global address with a zero low half /64.
  const unspecified = a.every((b) => b === 0) && zone === undefined;
  const global64 = (a[0] & 0xe0) === 0x20 && a.subarray(8).every((b) => b === 0);
  if (!unspecified && !global64) return true;
  r.masklen = unspecified ? 0 : 64;
  return false;
}

/**
 * link_addr(3) as route's `-link` reads a gateway: `[ifname:]x.x.x.x.x.x`
 * (hex bytes between dots), and for convenience `[ifname:]xx:xx:xx:xx:xx:xx`.
 */
export function parseLinkGateway(s: string): { ifname?: string; mac: string } | null {
  const hex = (parts: string[]) =>
    parts.length === 6 && parts.every((p) => /^[0-9a-f]{1,2}$/i.test(p))
      ? parts.map((p) => p.toLowerCase().padStart(2, "0")).join(":")
      : null;
  const colon = s.split(":");
  if (s.includes(".")) {
    const at = s.indexOf(":");
    const mac = hex(s.slice(at + 1).split("."));
    if (mac === null) return null;
    return at > 0 ? { ifname: s.slice(0, at), mac } : { mac };
  }
  if (colon.length === 6) return hex(colon) === null ? null : { mac: hex(colon)! };
  if (colon.length === 7 && colon[0] !== "") {
    const mac = hex(colon.slice(1));
    return mac === null ? null : { ifname: colon[0], mac };
  }
  return null;
}

/** getaddr(RTA_GATEWAY): any address of the family, or (for -interface) a word. */
function checkGateway(r: NewRoute, s: string): void {
  if (r.iflag) return; // decided when the request is built, once every word is in
  if (r.link) {
    if (parseLinkGateway(s) === null) throw new RouteExit(`${s}: bad value`);
    return;
  }
  if (gatewayText(familyOf(r), s) === null) throw new RouteExit(`${s}: bad value`);
}

/** The gateway as address text, or null when it is not an address of the family. */
function gatewayText(family: Family, s: string): string | null {
  if (family === "inet") {
    const a = s === "localhost" ? 0x7f000001 : parseIp4(s);
    return a === null ? null : formatIp4(a);
  }
  const { addr, zone } = splitZone(s === "localhost" ? "::1" : s);
  const a = parseIp6(addr);
  return a === null ? null : formatIp6(a) + (zone === undefined ? "" : `%${zone}`);
}

/** getaddr(RTA_NETMASK) for inet: a dotted mask; it must be contiguous here. */
function getNetmask(r: NewRoute, s: string): void {
  if (familyOf(r) === "inet6") {
    const a = parseIp6(s);
    if (a === null) throw new RouteExit(`${s}: bad value`);
    r.masklen = contiguous6(a) ?? notSupported(`${s}: non-contiguous netmask`);
    return;
  }
  if (s === "default") {
    r.masklen = 0;
    return;
  }
  const m = parseIp4(s) ?? inetNetwork(s);
  if (m === null) throw new RouteExit(`${s}: bad value`);
  const len = Math.clz32(~m >>> 0);
  if (prefixToMask4(len) !== m) notSupported(`${s}: non-contiguous netmask`);
  r.masklen = len;
}

function contiguous6(a: Uint8Array): number | null {
  let len = 0;
  while (len < 128 && (a[len >> 3] & (0x80 >> (len & 7)))) len++;
  return maskIp6(a, len).every((b, i) => b === a[i]) ? len : null;
}

/** One `-keyword` of newroute(); returns how many following words it took. */
function keyword(r: NewRoute, key: string, next: string | undefined): number {
  const arg = (): string => next ?? botched(key);
  if (UNSUPPORTED_KEYWORDS.has(key)) notSupported(`-${key}`);
  switch (key) {
    case "inet":
    case "inet6":
      r.family = key;
      return 0;
    case "interface":
    case "iface":
      r.iflag = true;
      return 0;
    case "static":
      r.nostatic = false; // the default for routes added here
      return 0;
    case "nostatic":
      r.nostatic = true;
      return 0;
    case "link":
      r.link = true;
      return 0;
    case "cloning":
      r.marks |= RTF.CLONING;
      return 0;
    case "llinfo":
      r.marks |= RTF.LLINFO;
      return 0;
    case "xresolve":
      r.marks |= RTF.XRESOLVE;
      return 0;
    case "proto1":
      r.marks |= RTF.PROTO1;
      return 0;
    case "proto2":
    case "proxy": // RTF_ANNOUNCE is RTF_PROTO2
      r.marks |= RTF.PROTO2;
      return 0;
    case "host":
      r.forcehost = true;
      return 0;
    case "net":
      r.forcenet = true;
      return 0;
    case "reject":
      r.reject = true;
      return 0;
    case "blackhole":
      r.blackhole = true;
      return 0;
    case "netmask":
      getNetmask(r, arg());
      r.forcenet = true;
      return 1;
    case "prefixlen":
      r.ishost = prefixLength(r, arg());
      return 1;
    case "mtu":
      r.mtu = Number.parseInt(arg(), 10) || 0;
      return 1;
    case "ifp":
      r.ifp = arg();
      return 1;
    case "gateway":
      r.gateway = arg();
      checkGateway(r, r.gateway);
      return 1;
    case "dst":
      r.dest = arg();
      r.ishost = getDst(r, r.dest);
      return 1;
    default:
      return botched(key);
  }
}

/** A word without a dash: destination, gateway, then netmask (or the old trailing digit). */
function positional(r: NewRoute, word: string, ctx: ToolContext, quiet: boolean): void {
  if (r.dst4 === undefined && r.dst6 === undefined) {
    r.dest = word;
    r.ishost = getDst(r, word);
  } else if (r.gateway === "") {
    r.gateway = word;
    checkGateway(r, word);
  } else {
    const n = Number.parseInt(word, 10) || 0;
    if (n === 0 && word !== "0") throw new RouteExit("", true);
    if (n >= 0 && n < 10) {
      if (!quiet) {
        ctx.stderr(
          n === 0
            ? `${ctx.name}: old usage of trailing 0, assuming route to if\n`
            : `${ctx.name}: old usage of trailing digit, assuming route via gateway\n`,
        );
      }
      r.iflag = n === 0;
      return;
    }
    getNetmask(r, word);
  }
}

function parseNewRoute(words: string[], ctx: ToolContext, quiet: boolean): NewRoute {
  const r: NewRoute = {
    cmd: words[0],
    family: null,
    dest: "",
    gateway: "",
    masklen: null,
    ishost: false,
    forcehost: false,
    forcenet: false,
    iflag: false,
    reject: false,
    blackhole: false,
    marks: 0,
    nostatic: false,
    link: false,
  };
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (w.startsWith("-")) i += keyword(r, w.slice(1), words[i + 1]);
    else positional(r, w, ctx, quiet);
  }
  if (r.dst4 === undefined && r.dst6 === undefined) {
    throw new RouteExit("missing destination specification");
  }
  if (r.cmd === "add" && r.gateway === "") throw new RouteExit("missing gateway specification");
  if (r.forcehost && r.forcenet) throw new RouteExit("-host and -net conflict");
  if (r.forcehost) r.ishost = true;
  else if (r.forcenet) r.ishost = false;
  return r;
}

/** The destination address text, masked for a network as the kernel stores it. */
function destinationText(r: NewRoute): string {
  if (r.family === "inet6") {
    const a = r.ishost || r.masklen === null ? r.dst6! : maskIp6(r.dst6!, r.masklen);
    return formatIp6(a) + (r.zone === undefined ? "" : `%${r.zone}`);
  }
  const a = r.ishost || r.masklen === null ? r.dst4! : (r.dst4! & prefixToMask4(r.masklen)) >>> 0;
  return formatIp4(a);
}

function prefixOf(r: NewRoute): number | null {
  if (r.ishost) return null;
  return r.masklen ?? (r.family === "inet6" ? 128 : 32);
}

/** The interface an `-interface` gateway word names: by name, or by one of its addresses. */
async function interfaceFor(client: ControlClient, r: NewRoute): Promise<string> {
  const list = await client.call({ op: "ifList" });
  if (list.some((i) => i.name === r.gateway)) return r.gateway;
  const want = gatewayText(familyOf(r), r.gateway);
  if (want === null) throw new RouteExit(`${r.gateway}: bad value`);
  const owner = list.find((i: IfInfo) =>
    i.addrs.some((a) => a.family === r.family && gatewayText(a.family, a.addr) === want)
  );
  // The kernel finds no interface address for the gateway: ENETUNREACH.
  if (owner === undefined) throw new ErrnoError("ENETUNREACH");
  return owner.name;
}

async function routeSpec(client: ControlClient, r: NewRoute): Promise<RouteSpec> {
  const spec: RouteSpec = {
    family: familyOf(r),
    dst: destinationText(r),
    prefixlen: prefixOf(r),
  };
  if (r.gateway !== "" && r.link) {
    const gw = parseLinkGateway(r.gateway)!;
    spec.linkGateway = gw.mac;
    if (gw.ifname !== undefined) spec.ifname = gw.ifname;
  } else if (r.gateway !== "" && r.iflag) spec.ifname = await interfaceFor(client, r);
  else if (r.gateway !== "") spec.gateway = gatewayText(spec.family, r.gateway)!;
  if (r.ifp !== undefined) spec.ifname = r.ifp;
  if (r.marks !== 0) spec.flags = r.marks;
  if (r.nostatic) spec.nostatic = true;
  if (r.reject) spec.reject = true;
  if (r.blackhole) spec.blackhole = true;
  if (r.mtu !== undefined) spec.mtu = r.mtu;
  return spec;
}

/** Sends the add/change/delete request; an error reply is thrown. */
async function sendRoute(client: ControlClient, r: NewRoute): Promise<void> {
  if (r.cmd === "delete") {
    await client.call({
      op: "routeDelete",
      family: familyOf(r),
      dst: destinationText(r),
      prefixlen: prefixOf(r),
    });
    return;
  }
  const route = await routeSpec(client, r);
  if (r.cmd === "add") await client.call({ op: "routeAdd", route });
  else await client.call({ op: "routeChange", route });
}

async function newRoute(
  words: string[],
  ctx: ToolContext,
  client: ControlClient,
  f: RouteFlags,
): Promise<number> {
  const r = parseNewRoute(words, ctx, f.quiet);
  if (r.cmd === "get") return await getRoute(r, ctx, client, f);
  let error: string | null = null;
  try {
    if (!f.dryRun) await sendRoute(client, r);
  } catch (e) {
    if (e instanceof RouteExit) throw e;
    error = routeStrerror(e);
    ctx.stderr(`${ctx.name}: writing to routing socket: ${error}\n`);
  }
  if (!f.quiet) {
    ctx.stdout(
      `${r.cmd} ${r.ishost ? "host" : "net"} ${r.dest}` +
        (r.gateway ? `: gateway ${r.gateway}` : "") + (error === null ? "\n" : `: ${error}\n`),
    );
  }
  return error === null ? 0 : 1;
}

// ---------------------------------------------------------------------------
// Names

/**
 * routename() for a host: numeric, `localhost` for the loopback address unless -n.
 * Unlike netstat's (netstat_names.ts), 0.0.0.0 and a zoned `::1` stay numeric.
 */
export function hostName(text: string, numeric: boolean): string {
  const a4 = parseIp4Strict(text);
  if (a4 !== null) return inetHostName(a4, numeric);
  const { addr, zone } = splitZone(text);
  const a6 = parseIp6(addr);
  if (a6 === null) return text;
  return inet6HostName(a6, zone, numeric || zone !== undefined);
}

/**
 * A route's destination as `route show` and `route flush` print it: show.c's full
 * address and `/len`, where NetBSD's netstat -r prints netname()'s `10.0.0/24`.
 */
export function routeDestinationName(r: RouteInfo, numeric: boolean): string {
  if (isHostRoute(r)) return hostName(r.dst, numeric);
  const len = r.prefixlen ?? 0;
  if (len === 0) return "default";
  const max = r.family === "inet" ? 32 : 128;
  return `${hostName(r.dst, true)}${len < max ? `/${len}` : ""}`;
}

/** A gateway: addresses by routename(), `link#N` and link-level addresses as they are. */
export function gatewayName(gw: string, numeric: boolean): string {
  return hostName(gw, numeric);
}

// ---------------------------------------------------------------------------
// get

/** bprintf() with route.c's routeflags names. */
const FLAG_NAMES: readonly (readonly [number, string])[] = [
  [RTF.UP, "UP"],
  [RTF.GATEWAY, "GATEWAY"],
  [RTF.HOST, "HOST"],
  [RTF.REJECT, "REJECT"],
  [RTF.DYNAMIC, "DYNAMIC"],
  [RTF.MODIFIED, "MODIFIED"],
  [RTF.DONE, "DONE"],
  [RTF.MASK, "MASK_PRESENT"],
  [RTF.CLONING, "CLONING"],
  [RTF.XRESOLVE, "XRESOLVE"],
  [RTF.LLINFO, "LLINFO"],
  [RTF.STATIC, "STATIC"],
  [RTF.BLACKHOLE, "BLACKHOLE"],
  [RTF.CLONED, "CLONED"],
  [RTF.PROTO2, "PROTO2"],
  [RTF.PROTO1, "PROTO1"],
];

function flagNames(flags: number): string {
  const names = FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n);
  return names.length === 0 ? "" : `<${names.join(",")}>`;
}

const METRICS_HEADER =
  " recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire";

/** The metrics row: `%8ld%c ` for each, the last without the trailing space. */
function metricsRow(mtu: number): string {
  const cols = [0, 0, 0, 0, 0, 0, mtu, 0].map((v) => String(v).padStart(8) + " ");
  return cols.join(" ") + "\n";
}

/** The mask line's text: `default` for a zero-length mask, else the mask in numbers. */
function maskName(family: Family, len: number, given?: string): string {
  if (len === 0) return "default";
  if (given) return given;
  return family === "inet"
    ? formatIp4(prefixToMask4(len))
    : formatIp6(maskIp6(new Uint8Array(16).fill(0xff), len));
}

async function getRoute(
  r: NewRoute,
  ctx: ToolContext,
  client: ControlClient,
  f: RouteFlags,
): Promise<number> {
  if (f.dryRun) return 0;
  const family = familyOf(r);
  let info;
  try {
    info = await client.call({
      op: "routeGet",
      family,
      dst: destinationText({ ...r, ishost: true }),
    });
  } catch (e) {
    ctx.stderr(`${ctx.name}: writing to routing socket: ${routeStrerror(e)}\n`);
    return 1;
  }
  const rt = info.route;
  const gateway = (rt.flags & RTF.GATEWAY) !== 0;
  if (f.short) {
    if (gateway) ctx.stdout(`${gatewayName(rt.gateway, f.numeric)}\n`);
    return 0;
  }
  const toAddr = destinationText({ ...r, ishost: true });
  const isDefault = family === "inet" ? r.dst4 === 0 : r.dst6!.every((b) => b === 0);
  let out = `   route to: ${
    isDefault && family === "inet" ? "default" : hostName(toAddr, f.numeric)
  }\n`;
  const host = isHostRoute(rt);
  const dstDefault = !host && rt.prefixlen === 0;
  out += `destination: ${dstDefault ? "default" : hostName(rt.dst, f.numeric)}\n`;
  if (!host) out += `       mask: ${maskName(family, rt.prefixlen ?? 0, info.mask)}\n`;
  if (gateway) out += `    gateway: ${gatewayName(rt.gateway, f.numeric)}\n`;
  if (info.ifaddr) out += ` local addr: ${hostName(info.ifaddr, f.numeric)}\n`;
  if (rt.ifname) out += `  interface: ${rt.ifname}\n`;
  out += `      flags: ${flagNames(rt.flags | RTF.DONE)}\n${METRICS_HEADER}\n${metricsRow(rt.mtu)}`;
  ctx.stdout(out);
  return 0;
}

// ---------------------------------------------------------------------------
// show and flush

/** parse_show_opts(): `-inet`, `-inet6`, `-host`, `-llinfo`; anything else is botched. */
function showOpts(words: string[]): { family: Family | null; flags: number } {
  let family: Family | null = null;
  let flags = 0;
  for (const w of words.slice(1)) {
    if (!w.startsWith("-")) botched(w);
    const k = w.slice(1);
    if (k === "inet" || k === "inet6") family = k;
    else if (k === "host") flags |= RTF.HOST;
    else if (k === "llinfo") flags |= RTF.LLINFO;
    else if (k === "link" || k === "atalk" || k === "iso" || k === "osi") notSupported(w);
    else botched(w);
  }
  return { family, flags };
}

/**
 * The radix walk's order: inet first, keys ascending, more specific first, then the
 * text. Unlike netstat -r's keys, these leave out a link-local zone's index.
 */
export function radixOrder(routes: readonly RouteInfo[]): RouteInfo[] {
  const rank = (e: { route: RouteInfo }) => e.route.family === "inet" ? 0 : 1;
  return routes.map((r) => radixEntry(r))
    .sort((a, b) =>
      rank(a) - rank(b) || compareRadix(a, b) || a.route.dst.localeCompare(b.route.dst)
    )
    .map((e) => e.route);
}

const SHOW_LETTERS = RTF.UP | RTF.GATEWAY | RTF.HOST | RTF.REJECT | RTF.LLINFO;

function showTable(routes: RouteInfo[], family: Family | null, numeric: boolean): string {
  let out = `Routing table${family === null ? "s" : ""}\n`;
  let current: Family | null = null;
  for (const r of radixOrder(routes)) {
    if (r.family !== current) {
      current = r.family;
      out += routeBlockHead(r.family, numeric) + "Flags \n";
    }
    // show.c prints only the U, G, H, R and L letters, where netstat prints them
    // all, and never cuts an IPv6 number, where netstat cuts it to the column.
    const dst = routeDestinationName(r, numeric);
    const gateway = gatewayName(r.gateway, numeric);
    const flags = r.flags & SHOW_LETTERS;
    out += routeColumns({ ...r, dst, gateway, flags }, { numeric, wholeIp6: true }) + "\n";
  }
  return out;
}

async function show(words: string[], ctx: ToolContext, client: ControlClient, f: RouteFlags) {
  const { family, flags } = showOpts(words);
  let routes: RouteInfo[];
  try {
    routes = await client.call({ op: "routeList" });
  } catch (e) {
    throw new RouteExit(`route-sysctl-estimate: ${routeStrerror(e)}`);
  }
  routes = routes.filter((r) =>
    (family === null || r.family === family) && (r.flags & flags) === flags
  );
  ctx.stdout(showTable(routes, family, f.numeric));
  return 0;
}

/** flushroutes(): deletes the gateway and static routes, one `done` line each. */
async function flush(words: string[], ctx: ToolContext, client: ControlClient, f: RouteFlags) {
  const { family } = showOpts(words);
  if (f.dryRun) return 0;
  let gone: RouteInfo[];
  try {
    gone = await client.call({ op: "routeFlush", ...(family ? { family } : {}) });
  } catch (e) {
    ctx.stderr(`${ctx.name}: writing to routing socket: ${routeStrerror(e)}\n`);
    return 1;
  }
  if (f.quiet) return 0;
  for (const r of radixOrder(gone)) {
    const dst = routeDestinationName(r, f.numeric).slice(0, 20).padEnd(20);
    const gw = gatewayName(r.gateway, f.numeric).slice(0, 20).padEnd(20);
    ctx.stdout(`${dst} ${gw} done\n`);
  }
  return 0;
}

// ---------------------------------------------------------------------------
// main

function parseFlags(args: string[], tool: string): { f: RouteFlags; words: string[] } {
  const g = getopt(args, "dfnqstv");
  if (!g.ok) throw new RouteExit(getoptMessage(tool, g).slice(tool.length + 2, -1), true);
  const f: RouteFlags = {
    dryRun: false,
    flushFirst: false,
    numeric: false,
    quiet: false,
    short: false,
  };
  for (const { opt } of g.opts) {
    if (opt === "v") notSupported("-v");
    if (opt === "d" || opt === "t") f.dryRun = true;
    else if (opt === "f") f.flushFirst = true;
    else if (opt === "n") f.numeric = true;
    else if (opt === "q") f.quiet = true;
    else if (opt === "s") f.short = true;
  }
  return { f, words: g.operands };
}

async function dispatch(words: string[], ctx: ToolContext, client: ControlClient, f: RouteFlags) {
  const cmd = words[0] ?? (f.flushFirst ? "flush" : "");
  switch (cmd) {
    case "add":
    case "change":
    case "delete":
    case "get":
      if (f.flushFirst) await flush(["flush"], ctx, client, f);
      return await newRoute(words, ctx, client, f);
    case "show":
      return await show(words, ctx, client, f);
    case "flush":
      return await flush(words.length ? words : ["flush"], ctx, client, f);
    case "monitor":
      return notSupported("monitor");
    default:
      return botched(cmd);
  }
}

/**
 * Runs route: adds, changes, deletes, looks up, lists and flushes routes.
 *
 * @param args the command-line arguments after the tool name
 * @param ctx streams, environment and the way to the stack
 * @returns 0, or 1 on a usage error or a refused request
 */
export async function routeMain(args: string[], ctx: ToolContext): Promise<number> {
  let client: ControlClient | null = null;
  try {
    const { f, words } = parseFlags(args, ctx.name);
    if (words.length === 0 && !f.flushFirst) throw new RouteExit("", true);
    try {
      client = await ctx.connect();
    } catch (e) {
      throw new RouteExit(`socket: ${routeStrerror(e)}`);
    }
    return await dispatch(words, ctx, client, f);
  } catch (e) {
    if (!(e instanceof RouteExit)) throw e;
    if (e.message) ctx.stderr(`${ctx.name}: ${e.message}\n`);
    if (e.usage) ctx.stderr(usageText(ctx.name));
    return 1;
  } finally {
    client?.close();
  }
}
