/**
 * `netstat` without a mode letter: the active-socket tables, as QNX 6.6/7.0's
 * padded rows of NetBSD 4's `protopr()`/`ip6protopr()` print them. Every
 * socket is listed, listeners included; `-a` only changes the title (see
 * `netstat.ts`). `-v` adds a line of TCP figures under each TCP row.
 *
 * @example
 * ```ts ignore
 * import { sockets } from "./netstat_sockets.ts";
 * const text = await sockets(opts, client); // "Active Internet connections\n..."
 * ```
 * @module
 */

import type { SocketInfo } from "../core/control/ops.ts";
import type { TcpConnStats } from "../core/control/tcp_pcb_info.ts";
import { parseIp4Strict, parseIp6, splitZone } from "../core/net/ip_addr.ts";
import { call, left, type Options, right } from "./netstat_common.ts";
import { hostName6 } from "./netstat_names.ts";
import { inetHostName, isZero6 } from "./route_format.ts";
import type { ControlClient } from "./tool_context.ts";

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

/**
 * The socket tables: TCP then UDP, IPv4 then (on an IPv6 stack) IPv6.
 *
 * @param o the options (`-f`, `-a`, `-n`/`-S`, `-v` matter here)
 * @param client the stack's control connection
 * @returns the text; a block without sockets prints nothing
 */
export async function sockets(o: Options, client: ControlClient): Promise<string> {
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

/** Column layout of one block (protopr()/ip6protopr() set `width` and `compact` from -A and -n). */
interface Layout {
  /** Address column width in the rows. */
  width: number;
  /** Address column width in the header: ip6protoprhdr() resets it to 18 under -A. */
  headerWidth: number;
  /** `-A -n`: one space less before the addresses, short TCP state names. */
  compact: boolean;
  /** How many characters of a host name are kept. */
  hostWidth: number;
  /** QNX pads the state to 11 (6 for the short names of `-A -n`). */
  stateWidth: number;
}

function layout(o: Options, inet6: boolean): Layout {
  const compact = o.pcbAddrs && o.numericAddr;
  const width = o.pcbAddrs ? (compact && !inet6 ? 21 : 18) : 22;
  return {
    width,
    headerWidth: o.pcbAddrs ? (inet6 ? 18 : width) : 22,
    compact,
    hostWidth: o.pcbAddrs && (inet6 || !o.numericAddr) ? 12 : 16,
    stateWidth: compact ? 6 : 11,
  };
}

function socketBlock(o: Options, socks: readonly SocketInfo[], block: SocketBlock): string {
  const l = layout(o, block.inet6);
  let rows = "";
  for (const proto of block.protos) {
    for (const s of socks) {
      if (s.proto !== proto) continue;
      rows += socketRow(o, l, s, block.inet6);
      if (o.verbose && s.tcp) rows += tcpDetail(s.tcp);
    }
  }
  if (rows === "") return "";
  const title = `${block.title}${o.all ? " (including servers)" : ""}\n`;
  // protoprhdr() drops a space under -A -n; ip6protoprhdr() always prints two.
  const gap = l.compact && !block.inet6 ? " " : "  ";
  const header = (o.pcbAddrs ? `${left("PCB", 8, 8)} ` : "") +
    `${left("Proto", 5, 5)} ${left("Recv-Q", 6, 6)} ${left("Send-Q", 6, 6)}${gap}` +
    `${left("Local Address", l.headerWidth, l.headerWidth)} ` +
    `${left("Foreign Address", l.headerWidth, l.headerWidth)} ` +
    `${left(block.stateWord, l.stateWidth)}\n`;
  return title + header + rows;
}

/**
 * QNX 6.6/7.0: `"%-5.5s %6ld %6ld%s"`, two endpoints, `" %-11.11s"` (empty for
 * UDP); `-A` puts `"%8lx "` of the PCB address first.
 */
function socketRow(o: Options, l: Layout, s: SocketInfo, inet6: boolean): string {
  let state = s.proto === "tcp" || s.proto === "tcp6" ? s.state ?? "" : "";
  if (l.compact) state = SHORT_TCP_STATES[state] ?? state;
  const endpoint = inet6 ? endpoint6 : endpoint4;
  const pcb = o.pcbAddrs ? `${right((s.pcb ?? 0).toString(16), 8)} ` : "";
  return pcb + `${left(s.proto, 5, 5)} ${right(s.recvQ, 6)} ${right(s.sendQ, 6)}` +
    (l.compact ? "" : " ") +
    endpoint(o, l, s.localAddr, s.localPort) + endpoint(o, l, s.foreignAddr, s.foreignPort) +
    ` ${left(state, l.stateWidth, l.stateWidth)}\n`;
}

/**
 * `-v`: the connection's figures on a line of their own under its row, a tab
 * first, so scripts reading the rows skip it by its leading blank:
 * `\tcwnd 14480 ssthresh - srtt 1.2ms rttvar 0.6ms rto 201ms rexmt 0 holes 0
 * sndwnd 65535 rcvwnd 65535 mss 1448 cc cubic limit: cwnd`.
 */
function tcpDetail(t: TcpConnStats): string {
  const noSample = t.srttMs === 0 && t.rttvarMs === 0;
  const ssthresh = t.ssthresh >= SSTHRESH_UNSET ? "-" : String(t.ssthresh);
  return `\tcwnd ${t.cwnd} ssthresh ${ssthresh}` +
    ` srtt ${noSample ? "-" : millis(t.srttMs)} rttvar ${noSample ? "-" : millis(t.rttvarMs)}` +
    ` rto ${millis(t.rtoMs)} rexmt ${t.retransmits} holes ${t.sackHoles}` +
    ` sndwnd ${t.sndWnd} rcvwnd ${t.rcvWnd} mss ${t.mss} cc ${t.congestion || "-"}` +
    ` limit: ${t.limit === "none" ? "-" : t.limit}\n`;
}

/** A slow-start threshold this high is NetBSD's initial one (TCP_MAXWIN << TCP_MAX_WINSHIFT): not set by a loss yet. */
const SSTHRESH_UNSET = 65535 * 2 ** 14;

/** Milliseconds: one decimal below 10 ms (`1.2ms`), whole above (`201ms`). */
function millis(ms: number): string {
  return `${ms < 10 ? (Math.round(ms * 10) / 10).toFixed(1) : Math.round(ms)}ms`;
}

/** The `shorttcpstates[]` of `-A -n`. */
const SHORT_TCP_STATES: Readonly<Record<string, string>> = {
  SYN_SENT: "SYNSEN",
  SYN_RCVD: "SYSRCV",
  ESTABLISHED: "ESTABL",
  CLOSE_WAIT: "CLWAIT",
  FIN_WAIT_1: "FWAIT1",
  CLOSING: "CLOSNG",
  LAST_ACK: "LASTAK",
  FIN_WAIT_2: "FWAIT2",
  TIME_WAIT: "TMWAIT",
};

function portText(port: number): string {
  return port === 0 ? "*" : String(port);
}

/** inetprint(): `" %-W.Ws"` of host (cut to 16, 12 under -A without -n) `.` port. */
function endpoint4(o: Options, l: Layout, addr: string, port: number): string {
  const a = parseIp4Strict(addr);
  let host: string;
  if (a === null) host = addr === "" ? "*" : addr;
  else if (a === 0) host = "*";
  else host = inetHostName(a, o.numericAddr);
  return ` ${left(`${host.slice(0, l.hostWidth)}.${portText(port)}`, l.width, l.width)}`;
}

/** inet6print(): host cut to 16 (12 under -A) in 22 (18); `-v` widens both to fit. */
function endpoint6(o: Options, l: Layout, addr: string, port: number): string {
  const a = parseIp6(splitZone(addr).addr);
  let host: string;
  if (addr === "" || addr === "*" || (a !== null && isZero6(a))) host = "*";
  else if (a !== null && !o.numericAddr && isV4Mapped(a)) {
    // NetBSD's gethostbyaddr() looks a v4-mapped address up as the IPv4 one.
    host = inetHostName(((a[12] << 24) | (a[13] << 16) | (a[14] << 8) | a[15]) >>> 0, false);
  } else host = hostName6(addr, o.numericAddr);
  const hostWidth = o.verbose ? Math.max(l.hostWidth, host.length) : l.hostWidth;
  const line = `${host.slice(0, hostWidth)}.${portText(port)}`;
  const base = o.pcbAddrs ? 18 : 22;
  const width = o.verbose ? Math.max(base, line.length) : base;
  return ` ${left(line, width, width)}`;
}

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}
