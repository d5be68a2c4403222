/**
 * `ping`: QNX's ping (NetBSD's command line, QNX's integer-millisecond
 * output), sending ICMP echo requests through the stack's raw ICMP socket.
 *
 * ```
 * ping [-adfnoQqv] [-B interface] [-c count] [-h host] [-I ifaddr] [-i interval]
 *      [-l preload] [-p pattern] [-S srcaddr] [-s packetsize] [-T ttl] [-w maxwait] host
 * ```
 *
 * Output (§5.6 of the reference):
 * ```
 * PING 192.0.2.3 (192.0.2.3): 56 data bytes
 * 64 bytes from 192.0.2.3: icmp_seq=0 ttl=64 time=4 ms
 *
 * ----192.0.2.3 PING Statistics----
 * 1 packets transmitted, 1 packets received, 0% packet loss
 * round-trip min/avg/max = 4/4/4 ms   variance = 0 ms^2
 * ```
 *
 * Choices, with their reasons:
 *
 * - The tool builds each request itself (type 8, id = pid & 0xffff, seq from 0,
 *   a `tv32` timestamp and the index fill, its own checksum) and reads the
 *   whole IPv4 datagram back from the raw socket, as BSD ping does.
 * - Requests go out with TTL 255 unless `-T` says otherwise: NetBSD's ping
 *   writes its own IP header with `ttl ? ttl : MAXTTL`.
 * - `-w maxwait` is NetBSD's: how long to wait after the last request
 *   (default 10 s); a run also ends as soon as `-c` replies have arrived.
 * - ICMP errors that quote one of our requests print as
 *   `92 bytes from 192.0.2.1: Destination Host Unreachable` unless `-Q`;
 *   `-v` adds BSD's quoted-header dump and shows ICMP messages not meant for us.
 * - There is no resolver: hosts are numeric (and `localhost`); names print numeric.
 * - Exit status: 0 when any reply came, 1 when none did, 2 on an error (bad
 *   arguments, no stack, no raw socket), so scripts can tell a silent host
 *   from a broken ping.
 * - `-D`, `-E`, `-g`, `-L`, `-P`, `-R`, `-r`, `-t` need packet options or
 *   socket options the control protocol does not carry: they are refused with
 *   `ping: -X: not supported` rather than ignored. `-d` (SO_DEBUG) is accepted
 *   and changes nothing; `-S srcaddr` is accepted as another spelling of a
 *   source address.
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { pingMain } from "./ping.ts";
 * import { DENO_SIGINT } from "./ping_engine.ts";
 * await runTool("ping", (args, ctx) => pingMain(args, ctx, { onInterrupt: DENO_SIGINT }));
 * ```
 * @module
 */

import { toBase64 } from "../core/control/base64.ts";
import type { SocketEvent } from "../core/control/ops.ts";
import { formatIp4, parseIp4 } from "../core/net/ip_addr.ts";
import { checksum } from "../core/wire/checksum.ts";
import { getopt, getoptMessage } from "./getopt.ts";
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

const ICMP_ECHOREPLY = 0;
const ICMP_UNREACH = 3;
const ICMP_SOURCEQUENCH = 4;
const ICMP_REDIRECT = 5;
const ICMP_ECHO = 8;
const ICMP_TIMXCEED = 11;
const ICMP_PARAMPROB = 12;
const ICMP_HEADER_LEN = 8;
const IP_MAXPACKET = 65535;
const DEFAULT_TTL = 255;

/** The parsed command line. */
interface PingArgs {
  host: string;
  count: number;
  intervalMs: number;
  preload: number;
  datalen: number;
  ttl: number;
  maxwaitMs: number;
  pattern: Uint8Array | null;
  src?: string;
  ifname?: string;
  audible: boolean;
  flood: boolean;
  numeric: boolean;
  once: boolean;
  quiet: boolean;
  quietErrors: boolean;
  verbose: boolean;
}

const SPEC = "aB:c:DdE:fg:h:I:i:Ll:nop:PQqRrS:s:T:t:vw:";
const UNSUPPORTED = "DEgLPRrt";

function usage(tool: string): string {
  return `usage: ${tool} [-aDdfLnoPQqRrv] [-B interface] [-c count] [-E policy] [-g gateway]\n` +
    `     [-h host] [-I ifaddr] [-i interval] [-l preload] [-p pattern] [-s packetsize]\n` +
    `     [-t tos] [-T ttl] [-w maxwait] host\n`;
}

/** A usage or argument error: message, exit status 2. */
class PingUsageError extends Error {
  /**
   * @param message what to print after `ping: ` (nothing when empty)
   * @param showUsage whether the usage text follows
   */
  constructor(message: string, readonly showUsage = false) {
    super(message);
  }
}

function defaults(): PingArgs {
  return {
    host: "",
    count: 0,
    intervalMs: 1000,
    preload: 0,
    datalen: 56,
    ttl: DEFAULT_TTL,
    maxwaitMs: 10_000,
    pattern: null,
    audible: false,
    flood: false,
    numeric: false,
    once: false,
    quiet: false,
    quietErrors: false,
    verbose: false,
  };
}

/** Applies one numeric option; NetBSD's messages for bad values. */
function applyValue(a: PingArgs, opt: string, arg: string): void {
  const bad = (m: string): never => {
    throw new PingUsageError(m);
  };
  switch (opt) {
    case "c":
      a.count = parseCount(arg, 1, 2 ** 31 - 1) ?? bad("Bad/invalid number of packets");
      break;
    case "i": {
      const s = parseSeconds(arg);
      if (s === null || s <= 0) bad(`Bad/invalid interval ${arg}`);
      a.intervalMs = s! * 1000;
      break;
    }
    case "l":
      a.preload = parseCount(arg, 0, 2 ** 31 - 1) ?? bad(`Bad/invalid preload value ${arg}`);
      break;
    case "s":
      a.datalen = parseCount(arg, 1, 2 ** 31 - 1) ?? bad(`Bad/invalid packet size ${arg}`);
      if (a.datalen > IP_MAXPACKET - 20 - ICMP_HEADER_LEN) bad("packet size is too large");
      break;
    case "T":
      a.ttl = parseCount(arg, 1, 255) ?? bad("ttl out of range");
      break;
    case "w": {
      const s = parseSeconds(arg);
      if (s === null || s <= 0) bad(`Bad/invalid maxwait time ${arg}`);
      a.maxwaitMs = s! * 1000;
      break;
    }
    case "p":
      a.pattern = parsePattern(arg) ?? bad("patterns must be specified with 1-16 hex digits");
      break;
  }
}

/** `-I`/`-S`: an address is the source; anything else names the interface. */
function applySource(a: PingArgs, arg: string): void {
  const addr = parseIp4(arg);
  if (addr !== null) a.src = formatIp4(addr);
  else a.ifname = arg;
}

function applyOpt(a: PingArgs, opt: string, arg: string): void {
  if (UNSUPPORTED.includes(opt)) throw new PingUsageError(`-${opt}: not supported`);
  const flags: Record<string, keyof PingArgs> = {
    a: "audible",
    f: "flood",
    n: "numeric",
    o: "once",
    q: "quiet",
    Q: "quietErrors",
    v: "verbose",
  };
  if (opt in flags) {
    (a[flags[opt]] as boolean) = true;
    return;
  }
  if (opt === "d") return; // SO_DEBUG: nothing to debug in a user-space socket
  if (opt === "h") a.host = arg;
  else if (opt === "B") a.ifname = arg;
  else if (opt === "I" || opt === "S") applySource(a, arg);
  else applyValue(a, opt, arg);
}

function parseArgs(args: string[], tool: string): PingArgs {
  const g = getopt(args, SPEC);
  if (!g.ok) throw new PingUsageError(getoptMessage(tool, g), true);
  const a = defaults();
  for (const { opt, arg } of g.opts) applyOpt(a, opt, arg ?? "");
  if (g.operands.length > 1 || (g.operands.length === 0 && a.host === "")) {
    throw new PingUsageError("", true);
  }
  if (g.operands.length === 1) a.host = g.operands[0];
  if (a.flood) a.intervalMs = 10;
  return a;
}

/** The destination's address text, or null when it cannot be resolved (no resolver). */
function resolveHost(host: string): string | null {
  if (host === "localhost") return "127.0.0.1";
  const a = parseIp4(host);
  return a === null ? null : formatIp4(a);
}

// ---------------------------------------------------------------------------
// Packets

/** An ICMP echo request with BSD's data and our checksum. */
export function buildEchoRequest4(
  id: number,
  seq: number,
  datalen: number,
  nowMs: number,
  pattern: Uint8Array | null,
): Uint8Array {
  const pkt = new Uint8Array(ICMP_HEADER_LEN + datalen);
  pkt[0] = ICMP_ECHO;
  pkt[4] = (id >> 8) & 0xff;
  pkt[5] = id & 0xff;
  pkt[6] = (seq >> 8) & 0xff;
  pkt[7] = seq & 0xff;
  fillEchoData(pkt.subarray(ICMP_HEADER_LEN), nowMs, pattern, 0);
  const sum = checksum(pkt);
  pkt[2] = sum >> 8;
  pkt[3] = sum & 0xff;
  return pkt;
}

/** One IPv4 datagram as a raw socket returns it. */
interface Ip4View {
  ttl: number;
  src: string;
  /** The ICMP message (after the IP header). */
  icmp: Uint8Array;
  /** The IP header bytes. */
  header: Uint8Array;
}

function parseIp4Datagram(bytes: Uint8Array): Ip4View | null {
  if (bytes.length < 20 || bytes[0] >> 4 !== 4) return null;
  const hlen = (bytes[0] & 0x0f) * 4;
  if (hlen < 20 || bytes.length < hlen) return null;
  return {
    ttl: bytes[8],
    src: `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`,
    icmp: bytes.subarray(hlen),
    header: bytes.subarray(0, hlen),
  };
}

function u16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

/** Whether an ICMP error quotes one of our echo requests (inner ICMP echo with our id). */
function quotesOurEcho(icmp: Uint8Array, id: number): boolean {
  const inner = parseIp4Datagram(icmp.subarray(ICMP_HEADER_LEN));
  if (inner === null || inner.header[9] !== 1 || inner.icmp.length < ICMP_HEADER_LEN) return false;
  return inner.icmp[0] === ICMP_ECHO && u16(inner.icmp, 4) === id;
}

const UNREACH_TEXT: readonly string[] = [
  "Destination Net Unreachable",
  "Destination Host Unreachable",
  "Destination Protocol Unreachable",
  "Destination Port Unreachable",
  "frag needed and DF set",
  "Source Route Failed",
];

const REDIRECT_TEXT: readonly string[] = [
  "Redirect Network",
  "Redirect Host",
  "Redirect Type of Service and Network",
  "Redirect Type of Service and Host",
];

const OTHER_TEXT: Readonly<Record<number, string>> = {
  0: "Echo Reply",
  8: "Echo Request",
  13: "Timestamp",
  14: "Timestamp Reply",
  15: "Information Request",
  16: "Information Reply",
  17: "Address Mask Request",
  18: "Address Mask Reply",
};

/** pr_icmph(): the one-line description of an ICMP message. */
function icmpText(icmp: Uint8Array): string {
  const [type, code] = [icmp[0], icmp[1]];
  switch (type) {
    case ICMP_UNREACH:
      return UNREACH_TEXT[code] ?? `Dest Unreachable, Bad Code: ${code}`;
    case ICMP_SOURCEQUENCH:
      return "Source Quench";
    case ICMP_REDIRECT: {
      const gw = `${icmp[4]}.${icmp[5]}.${icmp[6]}.${icmp[7]}`;
      return `${REDIRECT_TEXT[code] ?? `Redirect, Bad Code: ${code}`}(New addr: ${gw})`;
    }
    case ICMP_TIMXCEED:
      if (code === 0) return "Time to live exceeded";
      return code === 1 ? "Frag reassembly time exceeded" : `Time exceeded, Bad Code: ${code}`;
    case ICMP_PARAMPROB:
      return `Parameter problem: pointer = 0x${icmp[4].toString(16).padStart(2, "0")}`;
    default:
      return OTHER_TEXT[type] ?? `Bad ICMP type: ${type}`;
  }
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** pr_retip(): BSD's dump of the IP header an ICMP error quotes, and its ports. */
function quotedHeaderDump(icmp: Uint8Array): string {
  const ip = icmp.subarray(ICMP_HEADER_LEN);
  if (ip.length < 20) return "";
  const hlen = (ip[0] & 0x0f) * 4;
  const off = u16(ip, 6);
  let out = "Vr HL TOS  Len   ID Flg  off TTL Pro  cks      Src      Dst\n" +
    ` ${hex(ip[0] >> 4, 1)}  ${hex(ip[0] & 15, 1)}  ${hex(ip[1], 2)} ${hex(u16(ip, 2), 4)} ` +
    `${hex(u16(ip, 4), 4)}   ${hex(off >> 13, 1)} ${hex(off & 0x1fff, 4)}` +
    `  ${hex(ip[8], 2)}  ${hex(ip[9], 2)} ${hex(u16(ip, 10), 4)}` +
    ` ${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}  ${ip[16]}.${ip[17]}.${ip[18]}.${ip[19]} `;
  for (let i = 20; i < hlen && i < ip.length; i++) out += hex(ip[i], 2);
  out += "\n";
  const l4 = ip.subarray(hlen);
  if ((ip[9] === 6 || ip[9] === 17) && l4.length >= 4) {
    out += `${ip[9] === 6 ? "TCP" : "UDP"}: from port ${u16(l4, 0)}, to port ${
      u16(l4, 2)
    } (decimal)\n`;
  }
  return out;
}

/** Whether a type is one of the errors that quote the offending datagram. */
function isQuotingError(type: number): boolean {
  return [ICMP_UNREACH, ICMP_SOURCEQUENCH, ICMP_REDIRECT, ICMP_TIMXCEED, ICMP_PARAMPROB]
    .includes(type);
}

// ---------------------------------------------------------------------------
// The run

/** Everything one run keeps. */
interface PingRun {
  a: PingArgs;
  ctx: ToolContext;
  client: ControlClient;
  clock: NonNullable<PingOptions["clock"]>;
  sock: number;
  dst: string;
  ident: number;
  stats: RttStats;
  waker: Waker;
}

async function sendOne(r: PingRun): Promise<void> {
  const seq = r.stats.transmitted & 0xffff;
  const pkt = buildEchoRequest4(r.ident, seq, r.a.datalen, r.clock.now(), r.a.pattern);
  r.stats.transmitted++;
  try {
    await r.client.call({
      op: "sockSendTo",
      sock: r.sock,
      addr: r.dst,
      data: toBase64(pkt),
      ttl: r.a.ttl,
      ...(r.a.src ? { src: r.a.src } : {}),
      ...(r.a.ifname ? { ifname: r.a.ifname } : {}),
    });
  } catch (e) {
    r.ctx.stderr(`${r.ctx.name}: sendto: ${errorText(e)}\n`);
    return;
  }
  if (r.a.flood && !r.a.quiet) r.ctx.stdout(".");
}

function onDatagram(r: PingRun, ev: SocketEvent): void {
  if (ev.sock !== r.sock) return;
  const ip = parseIp4Datagram(fromBase64(ev.data));
  if (ip === null || ip.icmp.length < ICMP_HEADER_LEN) return;
  const icmp = ip.icmp;
  if (icmp[0] === ICMP_ECHOREPLY) {
    if (u16(icmp, 4) === r.ident) onEchoReply(r, ip, ev.from);
    return;
  }
  const ours = isQuotingError(icmp[0]) && quotesOurEcho(icmp, r.ident);
  if (!(ours ? !r.a.quietErrors : r.a.verbose)) return;
  let text = `${icmp.length} bytes from ${ev.from}: ${icmpText(icmp)}\n`;
  if (r.a.verbose && isQuotingError(icmp[0])) text += quotedHeaderDump(icmp);
  r.ctx.stdout(text);
}

function onEchoReply(r: PingRun, ip: Ip4View, from: string): void {
  const icmp = ip.icmp;
  const data = icmp.subarray(ICMP_HEADER_LEN);
  const sent = r.a.datalen >= 8 ? readEchoTimestamp(data) : null;
  const rtt = sent === null ? null : roundTripMs(sent, r.clock.now());
  const seq = u16(icmp, 6);
  const dup = r.stats.record(seq, rtt);
  if (!dup && r.a.audible && !r.a.flood) r.ctx.stderr("\x07");
  r.waker.wake();
  if (r.a.quiet) return;
  if (r.a.flood) {
    r.ctx.stdout("\b");
    return;
  }
  r.ctx.stdout(
    `${icmp.length} bytes from ${from}: icmp_seq=${seq}${dup ? " DUP!" : ""} ttl=${ip.ttl}` +
      `${rtt === null ? "" : ` time=${rtt} ms`}\n`,
  );
}

/** The closing block: QNX's integer statistics with the variance. */
function summary(r: PingRun): string {
  const s = r.stats;
  let out = `\n----${r.a.host} PING Statistics----\n` +
    `${s.transmitted} packets transmitted, ${s.received} packets received, `;
  if (s.repeats) out += `+${s.repeats} duplicates, `;
  if (s.transmitted) {
    out += s.received > s.transmitted
      ? "-- somebody's printing up packets!"
      : `${Math.trunc(s.lossPercent())}% packet loss`;
  }
  out += "\n";
  if (s.received && s.timed) {
    out +=
      `round-trip min/avg/max = ${s.min}/${s.average()}/${s.max} ms   variance = ${s.variance()} ms^2\n`;
  }
  return out;
}

async function runPing(r: PingRun, opts: PingOptions): Promise<number> {
  r.ctx.stdout(`PING ${r.a.host} (${r.dst}): ${r.a.datalen} data bytes\n`);
  r.client.onEvent((ev) => onDatagram(r, ev));
  await runPingLoop({
    clock: r.clock,
    count: r.a.count,
    intervalMs: r.a.intervalMs,
    preload: r.a.preload,
    finalWaitMs: () => r.a.maxwaitMs,
    send: () => sendOne(r),
    finished: () =>
      (r.a.count > 0 && r.stats.received >= r.a.count) || (r.a.once && r.stats.received > 0),
    onInterrupt: opts.onInterrupt ?? (() => () => {}),
    waker: r.waker,
  });
  r.ctx.stdout(summary(r));
  return r.stats.received > 0 ? 0 : 1;
}

/**
 * Runs ping: sends echo requests through the stack and reports the replies.
 *
 * @param args the command-line arguments after the tool name
 * @param ctx streams, environment and the way to the stack
 * @param opts the clock, SIGINT hook and pid, for tests and the command entry
 * @returns 0 when any reply came, 1 when none did, 2 on an error
 */
export async function pingMain(
  args: string[],
  ctx: ToolContext,
  opts: PingOptions = {},
): Promise<number> {
  let a: PingArgs;
  try {
    a = parseArgs(args, ctx.name);
  } catch (e) {
    if (!(e instanceof PingUsageError)) throw e;
    ctx.stderr(e.showUsage ? e.message + usage(ctx.name) : `${ctx.name}: ${e.message}\n`);
    return 2;
  }
  const dst = resolveHost(a.host);
  if (dst === null) {
    ctx.stderr(`${ctx.name}: Cannot resolve "${a.host}" (Unknown host)\n`);
    return 2;
  }
  return await withRawSocket(ctx, "inet", 1, (client, sock) =>
    runPing({
      a,
      ctx,
      client,
      clock: opts.clock ?? SYSTEM_CLOCK,
      sock,
      dst,
      ident: (opts.pid ?? Deno.pid) & 0xffff,
      stats: new RttStats(),
      waker: new Waker(),
    }, opts));
}
