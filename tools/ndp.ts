/**
 * `ndp`: KAME's ndp(8) as NetBSD (and so QNX) ships it, over the control socket.
 *
 * ```
 * ndp [-n] hostname     ndp [-n] -a     ndp [-n] -c     ndp [-n] -d hostname
 * ndp [-n] -s nodename etheraddr [temp] [proxy]
 * ```
 *
 * `ndp -a` prints KAME's table (W_ADDR 36, W_LL 17, W_IF 6, columns widened
 * for long values as dump() does):
 * ```
 * Neighbor                             Linklayer Address  Netif Expire    S Flags
 * 2001:db8::1                          00:11:22:33:44:55    en0 23h59m59s R R
 * ```
 * Expiry is sec2str()'s `1d2h3m4s` form, `permanent` or `expired`; the state
 * letter is N (no state), I, R, S, D or P; the flags are `R` (router) and `p`
 * (proxy). `-c` and `-d` print `host (address) deleted` per entry.
 *
 * Choices, with their reasons:
 *
 * - There is no resolver: names print numeric (link-local ones with their
 *   `%zone`, as getnameinfo() gives them), only `::1` becomes `localhost`.
 * - `-c` deletes the entries that are not permanent (KAME's "not static"),
 *   one by one, as ndp's clear loop does.
 * - Exit statuses are ndp's: a lookup without an entry exits 1 (`-- no
 *   entry` on stderr), `-s` failures exit 1, while `-d` of an entry that is not
 *   there, and an unresolvable name for a lookup or `-d`, only warn (exit 0),
 *   as ndp's main() ignores those results.
 * - `-A`, `-f`, `-H`, `-I`, `-i`, `-P`, `-p`, `-R`, `-r`, `-t` need router,
 *   prefix or interface data the control protocol does not carry: refused
 *   with `ndp: -X: not supported` and exit status 1.
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { ndpMain } from "./ndp.ts";
 * await runTool("ndp", ndpMain); // ndp -an
 * ```
 * @module
 */

import { ErrnoError, strerror } from "../core/errno.ts";
import type { NeighborInfo } from "../core/control/ops.ts";
import { formatIp6, isLinkLocal6, parseIp6, splitZone } from "../core/net/ip_addr.ts";
import { getopt, getoptMessage } from "./getopt.ts";
import { parseEther } from "./arp.ts";
import type { ControlClient, ToolContext } from "./tool_context.ts";

const W_ADDR = 36;
const W_LL = 17;
const W_IF = 6;

/** Ends the run with status `code` after `ndp: <message>` (and the usage, when asked). */
class NdpExit extends Error {
  /**
   * @param message printed after `ndp: ` (nothing when empty)
   * @param code the exit status
   * @param usage whether the usage text follows
   */
  constructor(message: string, readonly code = 1, readonly usage = false) {
    super(message);
  }
}

function usageText(tool: string): string {
  return [
    "[-nt] hostname",
    "[-nt] -a | -c | -p | -r | -H | -P | -R",
    "[-nt] -A wait",
    "[-nt] -d hostname",
    "[-nt] -f filename",
    "[-nt] -i interface [flags...]",
    "[-nt] -s nodename etheraddr [temp] [proxy]",
  ].map((u, i) => `${i === 0 ? "Usage:" : "      "} ${tool} ${u}\n`).join("");
}

function message(e: unknown): string {
  if (e instanceof ErrnoError) return strerror(e.code);
  return e instanceof Error ? e.message : String(e);
}

/** sec2str(): `1d2h3m4s`, leading zero units left out. */
export function sec2str(total: number): string {
  const days = Math.trunc(total / 86400);
  const hours = Math.trunc(total / 3600) % 24;
  const mins = Math.trunc(total / 60) % 60;
  const secs = total % 60;
  let out = "";
  if (days) out += `${days}d`;
  if (out || hours) out += `${hours}h`;
  if (out || mins) out += `${mins}m`;
  return `${out}${secs}s`;
}

/** getaddrinfo() for AF_INET6 without a resolver: numeric (zone kept) or `localhost`. */
function inet6Addr(host: string): string | null {
  if (host === "localhost") return "::1";
  const { addr, zone } = splitZone(host);
  const a = parseIp6(addr);
  return a === null ? null : formatIp6(a) + (zone === undefined ? "" : `%${zone}`);
}

const GAI_NONAME = "hostname nor servname provided, or not known";

/** The name getnameinfo() gives an entry: numeric, a link-local one with its zone. */
function entryName(n: NeighborInfo, numeric: boolean): string {
  const { addr, zone } = splitZone(n.addr);
  const a = parseIp6(addr);
  if (a === null) return n.addr;
  if (!numeric && a.every((b, i) => b === (i === 15 ? 1 : 0))) return "localhost";
  const scope = zone ?? (isLinkLocal6(a) ? n.ifname : undefined);
  return formatIp6(a) + (scope === undefined ? "" : `%${scope}`);
}

const STATE_LETTER: Readonly<Record<string, string>> = {
  INCOMPLETE: "I",
  REACHABLE: "R",
  STALE: "S",
  DELAY: "D",
  PROBE: "P",
};

/** One row of dump(): the columns widen so a long value pushes the next ones along. */
export function ndpRow(n: NeighborInfo, numeric: boolean): string {
  const host = entryName(n, numeric);
  const ll = n.lladdr ?? "(incomplete)";
  const addrw = Math.max(host.length, W_ADDR);
  const llw = Math.max(ll.length, W_ADDR + W_LL - addrw);
  const ifw = Math.max(n.ifname.length, W_ADDR + W_LL + W_IF - addrw - llw);
  let expire: string;
  if (n.expire === undefined) expire = "permanent";
  else expire = n.expire > 0 ? sec2str(Math.trunc(n.expire)) : "expired";
  const state = n.state === undefined ? "N" : STATE_LETTER[n.state];
  const flags = `${n.router ? "R" : ""}${n.published ? "p" : ""}`;
  return `${host.padEnd(addrw)} ${ll.padEnd(llw)} ${n.ifname.padStart(ifw)}` +
    ` ${expire.slice(0, 9).padEnd(9)} ${state} ${flags}\n`;
}

const HEADER = `${"Neighbor".padEnd(W_ADDR)} ${"Linklayer Address".padEnd(W_LL)} ${
  "Netif".padStart(W_IF)
} ${"Expire".padEnd(9)} S Flags\n`;

function sortKey(n: NeighborInfo): string {
  const a = parseIp6(splitZone(n.addr).addr) ?? new Uint8Array(16);
  return [...a].map((b) => b.toString(16).padStart(2, "0")).join("") + n.ifname;
}

async function entries(client: ControlClient): Promise<NeighborInfo[]> {
  const list = await client.call({ op: "neighborList", family: "inet6" });
  return [...list].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
}

function sameAddr(n: NeighborInfo, addr: string): boolean {
  const want = splitZone(addr);
  const have = splitZone(n.addr);
  if (have.addr !== want.addr) return false;
  return want.zone === undefined || (have.zone ?? n.ifname) === want.zone;
}

async function get(host: string, ctx: ToolContext, client: ControlClient, numeric: boolean) {
  const addr = inet6Addr(host);
  if (addr === null) throw new NdpExit(`${host}: ${GAI_NONAME}`, 0);
  const list = await entries(client);
  ctx.stdout(HEADER);
  const found = list.filter((n) => sameAddr(n, addr));
  ctx.stdout(found.map((n) => ndpRow(n, numeric)).join(""));
  if (found.length === 0) throw new NdpExit(`${host} (${addr}) -- no entry`);
  return 0;
}

/** delete(): prints `host (name) deleted`; a missing entry only warns. */
async function deleteEntry(
  host: string,
  ctx: ToolContext,
  client: ControlClient,
  numeric: boolean,
): Promise<number> {
  const addr = inet6Addr(host);
  if (addr === null) throw new NdpExit(`${host}: ${GAI_NONAME}`, 0);
  let gone: NeighborInfo;
  try {
    gone = await client.call({ op: "neighborDelete", family: "inet6", addr });
  } catch (e) {
    if (e instanceof ErrnoError && ["ESRCH", "ENOENT", "EADDRNOTAVAIL"].includes(e.code)) {
      throw new NdpExit("delete: cannot delete non-NDP entry", 0);
    }
    throw new NdpExit(`writing to routing socket: ${message(e)}`);
  }
  ctx.stdout(`${host} (${entryName({ ...gone, addr: gone.addr || addr }, numeric)}) deleted\n`);
  return 0;
}

/** -c: deletes every entry that is not permanent. */
async function clear(ctx: ToolContext, client: ControlClient, numeric: boolean) {
  for (const n of await entries(client)) {
    if (n.expire === undefined) continue;
    const name = entryName(n, numeric);
    try {
      await client.call({ op: "neighborDelete", family: "inet6", addr: n.addr });
    } catch (e) {
      throw new NdpExit(`writing to routing socket: ${message(e)}`);
    }
    ctx.stdout(`${name} (${name}) deleted\n`);
  }
  return 0;
}

async function set(words: string[], client: ControlClient): Promise<number> {
  const [host, eaddr, ...rest] = words;
  const addr = inet6Addr(host);
  if (addr === null) throw new NdpExit(`${host}: ${GAI_NONAME}`);
  const lladdr = parseEther(eaddr);
  if (lladdr === null) throw new NdpExit(`invalid Ethernet address '${eaddr}'`);
  const temp = rest.some((w) => w.startsWith("temp"));
  const pub = rest.some((w) => w.startsWith("proxy"));
  try {
    await client.call({ op: "neighborSet", family: "inet6", addr, lladdr, temp, pub });
  } catch (e) {
    throw new NdpExit(`writing to routing socket: ${message(e)}`);
  }
  return 0;
}

interface NdpArgs {
  mode: string;
  arg?: string;
  numeric: boolean;
  words: string[];
}

function parseArgs(args: string[], tool: string): NdpArgs {
  const g = getopt(args, "aA:cd:f:HIi:nPpRrst");
  if (!g.ok) throw new NdpExit(getoptMessage(tool, g).slice(tool.length + 2, -1), 1, true);
  const a: NdpArgs = { mode: "", numeric: false, words: g.operands };
  for (const { opt, arg } of g.opts) {
    if (opt === "n") a.numeric = true;
    else if ("AfHIiPpRrt".includes(opt)) throw new NdpExit(`-${opt}: not supported`);
    else {
      if (a.mode !== "") throw new NdpExit("", 1, true);
      a.mode = opt;
      a.arg = arg;
    }
  }
  const n = a.words.length;
  const bad = (a.mode === "" && n !== 1) || ("acd".includes(a.mode) && a.mode !== "" && n !== 0) ||
    (a.mode === "s" && (n < 2 || n > 4));
  if (bad) throw new NdpExit("", 1, true);
  return a;
}

async function run(a: NdpArgs, ctx: ToolContext, client: ControlClient): Promise<number> {
  switch (a.mode) {
    case "a": {
      const list = await entries(client);
      ctx.stdout(HEADER + list.map((n) => ndpRow(n, a.numeric)).join(""));
      return 0;
    }
    case "c":
      return await clear(ctx, client, a.numeric);
    case "d":
      return await deleteEntry(a.arg!, ctx, client, a.numeric);
    case "s":
      return await set(a.words, client);
    default:
      return await get(a.words[0], ctx, client, a.numeric);
  }
}

/**
 * Runs ndp: shows, sets, deletes and clears IPv6 neighbour cache entries.
 *
 * @param args the command-line arguments after the tool name
 * @param ctx streams, environment and the way to the stack
 * @returns the exit status, as ndp's (see the module doc)
 */
export async function ndpMain(args: string[], ctx: ToolContext): Promise<number> {
  let client: ControlClient | null = null;
  try {
    const a = parseArgs(args, ctx.name);
    try {
      client = await ctx.connect();
    } catch (e) {
      throw new NdpExit(`socket: ${message(e)}`);
    }
    return await run(a, ctx, client);
  } catch (e) {
    if (e instanceof NdpExit) {
      if (e.message) ctx.stderr(`${ctx.name}: ${e.message}\n`);
      if (e.usage) ctx.stderr(usageText(ctx.name));
      return e.code;
    }
    if (e instanceof ErrnoError) {
      ctx.stderr(`${ctx.name}: sysctl(PF_ROUTE, NET_RT_FLAGS): ${strerror(e.code)}\n`);
      return 1;
    }
    throw e;
  } finally {
    client?.close();
  }
}
