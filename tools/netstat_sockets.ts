/**
 * `netstat` without a mode letter: the active-socket tables, as QNX 6.6/7.0's
 * padded rows of NetBSD 4's `protopr()`/`ip6protopr()` print them. Every
 * socket is listed, listeners included; `-a` only changes the title (see
 * `netstat.ts`).
 *
 * @example
 * ```ts ignore
 * import { sockets } from "./netstat_sockets.ts";
 * const text = await sockets(opts, client); // "Active Internet connections\n..."
 * ```
 * @module
 */

import type { SocketInfo } from "../core/control/ops.ts";
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
  else host = inetHostName(a, o.numericAddr);
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
