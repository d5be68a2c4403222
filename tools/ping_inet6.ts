/**
 * `ping6`: KAME's ping6 as QNX ships it, sending ICMPv6 echo requests through
 * the stack's raw ICMPv6 socket.
 *
 * ```
 * ping6 [-dfHmnNqtvwW] [-a [aAclsg]] [-b sockbufsiz] [-c count]
 *       [-I interface] [-i wait] [-l preload] [-p pattern] [-S sourceaddr]
 *       [-s packetsize] [-h hoplimit] [hops...] [-g gateway] host
 * ```
 * The options of NetBSD 4's KAME ping6 (ping6.c 1.6x, KAME 1.164), which has
 * no `-X` or `-e`: those are unknown options, with the usage.
 *
 * Output (§5.6 of the reference; integer milliseconds, as QNX 7.0 prints them):
 * ```
 * PING6(104=40+8+56 bytes) 2001:db8::2 --> 2001:db8::1
 * 64 bytes from 2001:db8::1, icmp_seq=0 hlim=64 time=4 ms
 *
 * --- 2001:db8::1 ping6 statistics ---
 * 1 packets transmitted, 1 packets received, 0.0% packet loss
 * round-trip min/avg/max = 4/4/4 ms
 * ```
 *
 * Choices, with their reasons:
 *
 * - The request carries KAME's payload: a `tv32` timestamp, then each byte's
 *   offset from the ICMPv6 header. Its checksum is left 0: on a raw ICMPv6
 *   socket the stack computes it (RFC 3542), as the kernel does for KAME.
 * - Replies arrive as bare ICMPv6 messages with the hop limit beside them.
 * - The source in the `PING6(...)` line is the one the stack would choose:
 *   `routeGet` for the destination gives it (`-S` overrides), where KAME
 *   connects a UDP socket and asks getsockname().
 * - Reply times are whole milliseconds like the statistics (QNX 7.0's
 *   `round-trip min/avg/max = %d/%d/%d ms`).
 * - After the last request the wait is KAME's: twice the longest round trip
 *   (at least 1 s) once something answered, else 10 s.
 * - ICMPv6 errors print only with `-v`, as KAME does, with KAME's dump of the
 *   quoted header. `-v`'s ` dst=` on reply lines needs the reply's
 *   destination, which the raw-socket event does not carry, so it is left out.
 * - Exit status: 0 when any reply came, 1 when none did, 2 on an error.
 * - `-w`, `-W`, `-a`, `-t` send Node Information queries ({@linkcode
 *   buildNiQuery}) and print the replies as KAME does; `-N` sends to the Node
 *   Information group of the name; `-g` is IPV6_NEXTHOP and `-m` IPV6_USE_MIN_MTU
 *   (KAME's default asks for 1280-byte fragments; `-m` the kernel's default,
 *   `-mm` the path MTU even for multicast), both carried by `sockSendTo`.
 * - `-H` asks for names, but with no resolver to ask the addresses print
 *   numerically, as getnameinfo() does when a lookup fails. `-b` sets a socket
 *   buffer size, which raw sockets here do not have: accepted, no effect.
 * - `-R` fails as on NetBSD (no IPV6_REACHCONF); intermediate hops (a type 0
 *   routing header) are refused.
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { ping6Main } from "./ping_inet6.ts";
 * import { DENO_SIGINT } from "./ping_engine.ts";
 * await runTool("ping6", (args, ctx) => ping6Main(args, ctx, { onInterrupt: DENO_SIGINT }));
 * ```
 * @module
 */

import { toBase64 } from "../core/control/base64.ts";
import type { SocketEvent } from "../core/control/ops.ts";
import { ErrnoError } from "../core/errno.ts";
import { formatIp6, isLinkLocal6, parseIp6, splitZone } from "../core/net/ip_addr.ts";
import { getopt, getoptMessage } from "./getopt.ts";
import { nodeInfoGroup } from "../core/net/icmp6_ni.ts";
import {
  buildNiQuery,
  isMyNiReply,
  niIcmpText,
  type NiMode,
  niQueryLength,
  niReplyText,
  niSequence,
  parseAddrType,
} from "./ping6_ni.ts";
import {
  errorText,
  fillEchoData,
  fromBase64,
  parseCount,
  parsePattern,
  parseSeconds,
  type PingOptions,
  readEchoTimestamp,
  roundTripMs,
  RttStats,
  runPingLoop,
  SYSTEM_CLOCK,
  Waker,
  withRawSocket,
} from "./ping_engine.ts";
import type { ControlClient, ToolContext } from "./tool_context.ts";

const ICMP6_DST_UNREACH = 1;
const ICMP6_PACKET_TOO_BIG = 2;
const ICMP6_TIME_EXCEEDED = 3;
const ICMP6_PARAM_PROB = 4;
const ICMP6_ECHO_REQUEST = 128;
const ICMP6_ECHO_REPLY = 129;
const ICMP6_NI_QUERY = 139;
const ICMP6_NI_REPLY = 140;
const ICMP6_HEADER_LEN = 8;
const IPPROTO_ICMPV6 = 58;
const MAXWAIT_MS = 10_000;

interface Ping6Args {
  host: string;
  count: number;
  intervalMs: number;
  preload: number;
  datalen: number;
  hoplimit?: number;
  pattern: Uint8Array | null;
  src?: string;
  ifname?: string;
  flood: boolean;
  quiet: boolean;
  verbose: boolean;
  /** The Node Information query sent instead of echo requests (-w, -W, -a, -t). */
  ni: NiMode | null;
  /** -a's flags. */
  naflags: number;
  /** -g: the next hop. */
  gateway?: string;
  /** How many -m. */
  mflag: number;
  /** -N: send to the host name's Node Information group. */
  nigroup: boolean;
}

const SPEC = "a:b:c:dfHg:h:I:i:l:mnNp:qRS:s:tvwW";

/** KAME's usage() as NetBSD builds it (IPV6_USE_MIN_MTU, no IPV6_REACHCONF, no IPsec). */
function usage(tool: string): string {
  return `usage: ${tool} [-dfHmnNqtvwW] [-a [aAclsg]] [-b sockbufsiz] [-c count] \n` +
    "\t[-I interface] [-i wait] [-l preload] [-p pattern] [-S sourceaddr]\n" +
    "\t[-s packetsize] [-h hoplimit] [hops...] [-g gateway] host\n";
}

/** A usage or argument error (exit status 2). */
class Ping6UsageError extends Error {
  /**
   * @param message what follows `ping6: `, or the whole getopt message with `showUsage`
   * @param showUsage whether the usage text follows
   */
  constructor(message: string, readonly showUsage = false) {
    super(message);
  }
}

/** Applies an option with a value; KAME's messages for bad ones. */
function applyValue(a: Ping6Args, opt: string, arg: string): void {
  const bad = (m: string): never => {
    throw new Ping6UsageError(m);
  };
  switch (opt) {
    case "c":
      a.count = parseCount(arg, 1, 2 ** 31 - 1) ?? bad(`illegal number of packets -- ${arg}`);
      break;
    case "h":
      a.hoplimit = parseCount(arg, 0, 255) ?? bad(`illegal hoplimit ${arg}`);
      break;
    case "i": {
      const s = parseSeconds(arg);
      if (s === null || s <= 0) bad(`illegal timing interval ${arg}`);
      a.intervalMs = s! * 1000;
      break;
    }
    case "l":
      a.preload = parseCount(arg, 0, 2 ** 31 - 1) ?? bad(`illegal preload value -- ${arg}`);
      break;
    case "s":
      a.datalen = parseCount(arg, 0, 65535 - 40 - ICMP6_HEADER_LEN) ??
        bad(`illegal datalen value -- ${arg}`);
      break;
    case "p":
      a.pattern = parsePattern(arg) ?? bad("patterns must be specified as hex digits");
      break;
    case "S": {
      const { addr, zone } = splitZone(arg);
      const v = parseIp6(addr);
      if (v === null) bad(`${arg}: hostname nor servname provided, or not known`);
      a.src = formatIp6(v!) + (zone === undefined ? "" : `%${zone}`);
      break;
    }
    case "I":
      a.ifname = arg;
      break;
    case "a": {
      const flags = parseAddrType(arg);
      if (flags === null) throw new Ping6UsageError("", true);
      a.ni = "nodeaddr";
      a.naflags |= flags;
      break;
    }
    case "g":
      a.gateway = arg;
      break;
  }
}

/** The flags without a value. */
function applyFlag(a: Ping6Args, opt: string): boolean {
  switch (opt) {
    case "f":
      a.flood = true;
      return true;
    case "q":
      a.quiet = true;
      return true;
    case "v":
      a.verbose = true;
      return true;
    case "m":
      a.mflag++;
      return true;
    case "N":
      a.nigroup = true;
      return true;
    case "t":
      a.ni = "suptypes";
      return true;
    case "w":
      a.ni = "fqdn";
      return true;
    case "W":
      a.ni = "fqdnold";
      return true;
    case "R":
      throw new Ping6UsageError("-R is not supported in this configuration");
    case "b": // SO_SNDBUF/SO_RCVBUF: raw sockets here have no buffer to size
    case "d":
    case "H": // names wanted, but with no resolver the addresses print as numbers
    case "n":
      return true;
  }
  return false;
}

function parseArgs(args: string[], tool: string): Ping6Args {
  const g = getopt(args, SPEC);
  if (!g.ok) throw new Ping6UsageError(getoptMessage(tool, g), true);
  const a: Ping6Args = {
    host: "",
    count: 0,
    intervalMs: 1000,
    preload: 0,
    datalen: 56,
    pattern: null,
    flood: false,
    quiet: false,
    verbose: false,
    ni: null,
    naflags: 0,
    mflag: 0,
    nigroup: false,
  };
  for (const { opt, arg } of g.opts) {
    if (!applyFlag(a, opt)) applyValue(a, opt, arg ?? "");
  }
  if (g.operands.length === 0) throw new Ping6UsageError("", true);
  if (g.operands.length > 1) throw new Ping6UsageError("intermediate hops: not supported");
  a.host = g.operands[0];
  if (a.flood) a.intervalMs = 10;
  return a;
}

/** The destination text (zone kept), or null without a resolver to ask. */
function resolveHost6(host: string): string | null {
  if (host === "localhost") return "::1";
  const { addr, zone } = splitZone(host);
  const a = parseIp6(addr);
  if (a === null) return null;
  return formatIp6(a) + (zone === undefined ? "" : `%${zone}`);
}

// ---------------------------------------------------------------------------
// Packets

/** An ICMPv6 echo request with KAME's payload; the stack fills the checksum. */
export function buildEchoRequest6(
  id: number,
  seq: number,
  datalen: number,
  nowMs: number,
  pattern: Uint8Array | null,
): Uint8Array {
  const pkt = new Uint8Array(ICMP6_HEADER_LEN + datalen);
  pkt[0] = ICMP6_ECHO_REQUEST;
  pkt[4] = (id >> 8) & 0xff;
  pkt[5] = id & 0xff;
  pkt[6] = (seq >> 8) & 0xff;
  pkt[7] = seq & 0xff;
  fillEchoData(pkt.subarray(ICMP6_HEADER_LEN), nowMs, pattern, ICMP6_HEADER_LEN);
  return pkt;
}

function u16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

function u32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

const UNREACH6_TEXT: readonly string[] = [
  "No Route to Destination",
  "Destination Administratively Unreachable",
  "Destination Unreachable Beyond Scope",
  "Destination Host Unreachable",
  "Destination Port Unreachable",
];

const PARAMPROB_TEXT: readonly string[] = [
  "Erroneous Header ",
  "Unknown Nextheader ",
  "Unrecognized Option ",
];

const INFO_TEXT: Readonly<Record<number, string>> = {
  130: "Listener Query",
  131: "Listener Report",
  132: "Listener Done",
  133: "Router Solicitation",
  134: "Router Advertisement",
  135: "Neighbor Solicitation",
  136: "Neighbor Advertisement",
};

/** KAME's pr_icmph() first line. */
function icmp6Text(icmp: Uint8Array, verbose = false): string {
  if (INFO_TEXT[icmp[0]]) return INFO_TEXT[icmp[0]];
  if (icmp[0] === ICMP6_NI_QUERY || icmp[0] === ICMP6_NI_REPLY) return niIcmpText(icmp, verbose);
  if (icmp[0] === 137 && icmp.length >= 40) {
    return `Redirect\nDestination: ${formatIp6(icmp.subarray(24, 40))} New Target: ${
      formatIp6(icmp.subarray(8, 24))
    }`;
  }
  const [type, code] = [icmp[0], icmp[1]];
  switch (type) {
    case ICMP6_DST_UNREACH:
      return UNREACH6_TEXT[code] ?? `Destination Unreachable, Bad Code: ${code}`;
    case ICMP6_PACKET_TOO_BIG:
      return `Packet too big mtu = ${u32(icmp, 4) | 0}`;
    case ICMP6_TIME_EXCEEDED:
      if (code === 0) return "Time to live exceeded";
      return code === 1 ? "Frag reassembly time exceeded" : `Time exceeded, Bad Code: ${code}`;
    case ICMP6_PARAM_PROB:
      return `Parameter problem: ${PARAMPROB_TEXT[code] ?? `Bad code(${code}) `}pointer = 0x${
        u32(icmp, 4).toString(16).padStart(2, "0")
      }`;
    case ICMP6_ECHO_REQUEST:
      return "Echo Request";
    case ICMP6_ECHO_REPLY:
      return "Echo Reply";
    default:
      return `Bad ICMP type: ${type}`;
  }
}

/** KAME's pr_iph() and the upper-layer line of pr_retip() for a quoted IPv6 header. */
function quotedHeader6(icmp: Uint8Array): string {
  const ip = icmp.subarray(ICMP6_HEADER_LEN);
  if (ip.length < 40) return "";
  const tc = ((ip[0] & 0x0f) << 4) | (ip[1] >> 4);
  const flow = u32(ip, 0) & 0xfffff;
  const hex = (n: number, w: number) => n.toString(16).padStart(w, "0");
  let out = "Vr TC  Flow Plen Nxt Hlim\n" +
    ` ${hex(ip[0] >> 4, 1)} ${hex(tc, 2)} ${hex(flow, 5)} ${hex(u16(ip, 4), 4)}  ${hex(ip[6], 2)} ${
      String(ip[7]).padStart(3)
    }\n` +
    `${formatIp6(ip.subarray(8, 24))}->${formatIp6(ip.subarray(24, 40))}\n`;
  const l4 = ip.subarray(40);
  if (ip[6] === IPPROTO_ICMPV6 && l4.length >= 2) {
    out += `ICMP6: type = ${l4[0]}, code = ${l4[1]}\n`;
  } else if ((ip[6] === 6 || ip[6] === 17) && l4.length >= 4) {
    out += `${ip[6] === 6 ? "TCP" : "UDP"}: from port ${u16(l4, 0)}, to port ${
      u16(l4, 2)
    } (decimal)\n`;
  } else out += `Unknown Header(${ip[6]})\n`;
  return out;
}

function quotesHeader(type: number): boolean {
  return type >= ICMP6_DST_UNREACH && type <= ICMP6_PARAM_PROB;
}

// ---------------------------------------------------------------------------
// The run

interface Ping6Run {
  a: Ping6Args;
  ctx: ToolContext;
  client: ControlClient;
  clock: NonNullable<PingOptions["clock"]>;
  sock: number;
  dst: string;
  ident: number;
  stats: RttStats;
  waker: Waker;
  /** The Node Information nonce: its first two bytes carry each query's sequence. */
  nonce: Uint8Array;
  /** The destination without its zone, a query's Subject. */
  dstBytes: Uint8Array;
  /** -g's next hop, resolved. */
  nexthop?: string;
}

async function sendOne(r: Ping6Run): Promise<void> {
  const seq = r.stats.transmitted & 0xffff;
  const pkt = r.a.ni
    ? buildNiQuery(r.a.ni, seq, r.nonce, r.dstBytes, r.a.naflags)
    : buildEchoRequest6(r.ident, seq, r.a.datalen, r.clock.now(), r.a.pattern);
  r.stats.transmitted++;
  // KAME asks for IPV6_USE_MIN_MTU 1; -m leaves the kernel's default (-1); -mm sets 0.
  const minmtu = r.a.mflag === 0 ? 1 : r.a.mflag === 1 ? -1 : 0;
  try {
    await r.client.call({
      op: "sockSendTo",
      sock: r.sock,
      addr: r.dst,
      data: toBase64(pkt),
      ...(r.a.hoplimit !== undefined ? { ttl: r.a.hoplimit } : {}),
      ...(r.a.src ? { src: r.a.src } : {}),
      ...(r.a.ifname ? { ifname: r.a.ifname } : {}),
      ...(r.nexthop ? { nexthop: r.nexthop } : {}),
      minmtu,
    });
  } catch (e) {
    r.ctx.stderr(`${r.ctx.name}: sendmsg: ${errorText(e)}\n`);
    r.ctx.stdout(`ping6: wrote ${r.a.host} ${pkt.length} chars, ret=-1\n`);
    return;
  }
  if (r.a.flood && !r.a.quiet) r.ctx.stdout(".");
}

function onDatagram6(r: Ping6Run, ev: SocketEvent): void {
  if (ev.sock !== r.sock) return;
  const icmp = fromBase64(ev.data);
  if (icmp.length < ICMP6_HEADER_LEN) return;
  // ICMP6_FILTER: without -v only the replies of the mode asked pass.
  const type = icmp[0];
  if (!r.a.verbose && type !== (r.a.ni ? ICMP6_NI_REPLY : ICMP6_ECHO_REPLY)) return;
  if (type === ICMP6_ECHO_REPLY && u16(icmp, 4) === r.ident) {
    onEchoReply6(r, icmp, ev);
    return;
  }
  if (type === ICMP6_NI_REPLY && isMyNiReply(icmp, r.nonce)) {
    onNiReply6(r, icmp, ev);
    return;
  }
  if (!r.a.verbose) return;
  let text = `${icmp.length} bytes from ${ev.from}: ${icmp6Text(icmp, r.a.verbose)}\n`;
  if (quotesHeader(icmp[0])) text += quotedHeader6(icmp);
  r.ctx.stdout(text);
}

function onNiReply6(r: Ping6Run, icmp: Uint8Array, ev: SocketEvent): void {
  r.stats.record(niSequence(icmp), null);
  r.waker.wake();
  if (r.a.quiet) return;
  const text = `${icmp.length} bytes from ${ev.from}: ${niReplyText(icmp, r.a.verbose)}`;
  r.ctx.stdout(r.a.flood ? text : text + "\n");
}

function onEchoReply6(r: Ping6Run, icmp: Uint8Array, ev: SocketEvent): void {
  const sent = r.a.datalen >= 8 ? readEchoTimestamp(icmp.subarray(ICMP6_HEADER_LEN)) : null;
  const rtt = sent === null ? null : roundTripMs(sent, r.clock.now());
  const seq = u16(icmp, 6);
  const dup = r.stats.record(seq, rtt);
  r.waker.wake();
  if (r.a.quiet) return;
  if (r.a.flood) {
    r.ctx.stdout("\b");
    return;
  }
  r.ctx.stdout(
    `${icmp.length} bytes from ${ev.from}, icmp_seq=${seq} hlim=${ev.ttl}` +
      `${rtt === null ? "" : ` time=${rtt} ms`}${dup ? "(DUP!)" : ""}\n`,
  );
}

function summary6(r: Ping6Run): string {
  const s = r.stats;
  let out = `\n--- ${r.a.host} ping6 statistics ---\n` +
    `${s.transmitted} packets transmitted, ${s.received} packets received, `;
  if (s.repeats) out += `+${s.repeats} duplicates, `;
  if (s.transmitted) {
    out += s.received > s.transmitted
      ? "-- somebody's duplicating packets!"
      : `${s.lossPercent().toFixed(1)}% packet loss`;
  }
  out += "\n";
  if (s.received && s.timed) {
    out += `round-trip min/avg/max = ${s.min}/${s.average()}/${s.max} ms\n`;
  }
  return out;
}

/** KAME's wait after the last request: 2 × the longest round trip (≥ 1 s), else MAXWAIT. */
function finalWait6(s: RttStats): number {
  if (s.received === 0) return MAXWAIT_MS;
  return Math.max(1, Math.trunc((2 * s.max) / 1000)) * 1000;
}

/** The source the stack would use: `-S`, else the route's interface address. */
async function sourceAddress(a: Ping6Args, client: ControlClient, dst: string): Promise<string> {
  if (a.src) return a.src;
  // -I is KAME's IPV6_PKTINFO on the UDP socket it connects to learn the source.
  // A link-local group has no route: its source is the interface's link-local address.
  const group = dst.startsWith("ff02:");
  const at = group && a.ifname ? `fe80::%${a.ifname}` : dst;
  const scoped = a.ifname && !at.includes("%") ? `${at}%${a.ifname}` : at;
  const got = await client.call({ op: "routeGet", family: "inet6", dst: scoped });
  const src = got.ifaddr;
  if (src === undefined) throw new ErrnoError("EADDRNOTAVAIL");
  const parsed = parseIp6(splitZone(src).addr);
  // KAME prints a link-local source with its zone, as getnameinfo() does.
  if (parsed && isLinkLocal6(parsed) && !src.includes("%")) return `${src}%${got.route.ifname}`;
  return src;
}

async function runPing6(r: Ping6Run, opts: PingOptions): Promise<number> {
  let src: string;
  try {
    src = await sourceAddress(r.a, r.client, r.dst);
  } catch (e) {
    r.ctx.stderr(`${r.ctx.name}: UDP connect: ${errorText(e)}\n`);
    return 2;
  }
  const len = r.a.ni ? niQueryLength(r.a.ni) : ICMP6_HEADER_LEN + r.a.datalen;
  r.ctx.stdout(`PING6(${40 + len}=40+8+${len - 8} bytes) ${src} --> ${r.dst}\n`);
  r.client.onEvent((ev) => onDatagram6(r, ev));
  await runPingLoop({
    clock: r.clock,
    count: r.a.count,
    intervalMs: r.a.intervalMs,
    preload: r.a.preload,
    finalWaitMs: () => finalWait6(r.stats),
    send: () => sendOne(r),
    finished: () => r.a.count > 0 && r.stats.received >= r.a.count,
    onInterrupt: opts.onInterrupt ?? (() => () => {}),
    waker: r.waker,
  });
  r.ctx.stdout(summary6(r));
  return r.stats.received > 0 ? 0 : 1;
}

/**
 * Runs ping6: sends ICMPv6 echo requests through the stack and reports the replies.
 *
 * @param args the command-line arguments after the tool name
 * @param ctx streams, environment and the way to the stack
 * @param opts the clock, SIGINT hook and pid, for tests and the command entry
 * @returns 0 when any reply came, 1 when none did, 2 on an error
 */
export async function ping6Main(
  args: string[],
  ctx: ToolContext,
  opts: PingOptions = {},
): Promise<number> {
  let a: Ping6Args;
  try {
    a = parseArgs(args, ctx.name);
  } catch (e) {
    if (!(e instanceof Ping6UsageError)) throw e;
    ctx.stderr(e.showUsage ? e.message + usage(ctx.name) : `${ctx.name}: ${e.message}\n`);
    return 2;
  }
  if (a.nigroup) {
    const group = nodeInfoGroup(a.host);
    if (!group) {
      ctx.stderr(usage(ctx.name));
      return 2;
    }
    a.host = formatIp6(group); // getaddrinfo() gives no canonical name for a number
  }
  const dst = resolveHost6(a.host);
  if (dst === null) {
    ctx.stderr(`${ctx.name}: hostname nor servname provided, or not known\n`);
    return 2;
  }
  let nexthop: string | undefined;
  if (a.gateway !== undefined) {
    nexthop = resolveHost6(a.gateway) ?? undefined;
    if (nexthop === undefined) {
      ctx.stderr(
        `${ctx.name}: getaddrinfo for the gateway ${a.gateway}: ` +
          "hostname nor servname provided, or not known\n",
      );
      return 2;
    }
  }
  const nonce = crypto.getRandomValues(new Uint8Array(8));
  return await withRawSocket(ctx, "inet6", IPPROTO_ICMPV6, (client, sock) =>
    runPing6({
      a,
      ctx,
      client,
      clock: opts.clock ?? SYSTEM_CLOCK,
      sock,
      dst,
      ident: (opts.pid ?? Deno.pid) & 0xffff,
      stats: new RttStats(),
      waker: new Waker(),
      nonce,
      dstBytes: parseIp6(splitZone(dst).addr)!,
      nexthop,
    }, opts));
}
