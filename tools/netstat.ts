/**
 * `netstat`: sockets, routing tables, interfaces and protocol counters, as QNX
 * Neutrino's io-pkt `netstat` (NetBSD 4's, with QNX's padded socket rows) prints them.
 *
 * ```
 * netstat [-AanSTv] [-f address_family]         active sockets (-v: TCP figures)
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
 *   QNX 6.6/7.0's padded formats (78 bytes a line). `-A` adds NetBSD's PCB
 *   column (the `pcblist` sysctl's protocol block address: 0 for UDP, which
 *   has none) and narrows the address columns to 18 (21, one space less and
 *   a 6-wide state with `-n`/`-S`). TCP rows come before UDP rows, as NetBSD
 *   walks one protocol after the other; within a protocol, rows keep the
 *   stack's order (NetBSD's pcb queue: newest first). A block's title and
 *   header print with its first row, so an empty block prints nothing: NetBSD
 *   4's `protopr`/`ip6protopr` print them from inside the row loop.
 * - `-v` with the socket tables (NetBSD: only wider IPv6 columns) also
 *   prints, under each TCP row, one line of the connection's figures,
 *   starting with a tab so that scripts reading rows can skip it:
 *   `cwnd 14480 ssthresh - srtt 1.2ms rttvar 0.6ms rto 201ms rexmt 0 holes 0
 *   sndwnd 65535 rcvwnd 65535 mss 1448 cc cubic limit: cwnd` (congestion
 *   window and slow-start threshold in bytes, `-` until the first loss;
 *   smoothed RTT and its variation, `-` before the first sample;
 *   retransmission timeout; segments retransmitted; SACK holes; the peer's
 *   and our windows; the sender's MSS; the congestion control; what limits
 *   the sender now: `rwnd` the peer's window, `cwnd`, `zerownd` (persist),
 *   `app` (nothing to send), `neighbour` (next hop unresolved), or `-`).
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
 *   `netstat: -X: not supported` and exit status 1 rather than faked:
 *   `-B`, `-F`, `-g`, `-l`, `-M`, `-m`, `-N`, `-P`, `-q`, `-t`, `-w` (and an
 *   interval operand), `-ia` (multicast memberships), `-rv` (route metrics),
 *   `-rA` (route entry addresses), per-interface ip6/icmp6 statistics. `-T` (TCP for name lookups) is
 *   accepted and has nothing to change.
 *
 * The parts: this module parses the options and picks the mode;
 * `netstat_sockets.ts`, `netstat_routes.ts`, `netstat_ifaces.ts` and
 * `netstat_stats.ts` print the tables; `netstat_common.ts` and
 * `netstat_names.ts` hold what they share, and `route_format.ts` what
 * `netstat -r` shares with `route show`.
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { netstatMain } from "./netstat.ts";
 * await runTool("netstat", netstatMain); // netstat -rn
 * ```
 * @module
 */

import type { ControlClient, ToolContext } from "./tool_context.ts";
import { getopt, getoptMessage } from "./getopt.ts";
import { type Family, NetstatError, type Options } from "./netstat_common.ts";
import { interfaces } from "./netstat_ifaces.ts";
import { routeTables } from "./netstat_routes.ts";
import { sockets } from "./netstat_sockets.ts";
import { ALL_STATS, FAMILY_STATS, routeStats, stats } from "./netstat_stats.ts";

// ---------------------------------------------------------------------------
// Command line

const SPEC = "AaBbdF:f:gI:iLlM:mN:nP:p:qrSsTtuvw:";
/** Letters NetBSD/QNX know but this netstat cannot honour (see the module doc). */
const UNSUPPORTED = "BFglMmNPqtw";

const FAMILIES: Readonly<Record<string, Family>> = {
  inet: "inet",
  inet6: "inet6",
  arp: "arp",
  local: "local",
  unix: "local",
};

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
    `usage: ${tool} [-AanTv] [-f address_family]`,
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
    pcbAddrs: false,
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
    case "A":
      o.pcbAddrs = true;
      break;
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
  if (listsRoutes && o.pcbAddrs) {
    return `${tool}: -A with -r (route entry addresses): not supported\n`;
  }
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
