/**
 * `arp`: NetBSD's arp(8) (the 4.x-era one QNX ships) over the control socket.
 *
 * ```
 * arp [-n] hostname           arp [-nv] -a           arp [-v] -d [-a|hostname]
 * arp -s hostname ether_addr [temp] [pub]            arp -f filename
 * ```
 *
 * Output follows arp.c's dump():
 * `? (192.0.2.1) at 00:11:22:33:44:55 on en0 permanent published`, with
 * `(incomplete)` for an unresolved entry; `192.0.2.9 (192.0.2.9) -- no entry`
 * (exit 1) when a named host has none; `192.0.2.9 (192.0.2.9) deleted` after
 * `-d`.
 *
 * Choices, with their reasons:
 *
 * - Names: there is no resolver, so the name column is `?`, as arp prints it
 *   when gethostbyaddr() fails; hosts on the command line must be numeric.
 * - NetBSD's arp prints ` permanent` for entries that do not expire and
 *   nothing for those that do (FreeBSD's `expires in N seconds` is not
 *   NetBSD's); published entries say ` published`.
 * - `-d -a` prints a `deleted` line per entry with the address as the host,
 *   as deleting them one by one with `-d` would.
 * - `-f` lines are `host ether_addr [temp] [pub]`; blank lines and `#`
 *   comments are skipped; a line with fewer than two words is `bad line`.
 * - Exit status: 0, or 1 when anything failed.
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { arpMain } from "./arp.ts";
 * await runTool("arp", arpMain); // arp -an
 * ```
 * @module
 */

import { ErrnoError, strerror } from "../core/errno.ts";
import type { NeighborInfo } from "../core/control/ops.ts";
import { formatIp4, parseIp4, parseIp4Strict } from "../core/net/ip_addr.ts";
import { getopt, getoptMessage } from "./getopt.ts";
import type { ControlClient, ToolContext } from "./tool_context.ts";

/** Options for {@linkcode arpMain}, for tests and embedders. */
export interface ArpOptions {
  /** Reads the `-f` file; default `Deno.readTextFile`. */
  readTextFile?: (path: string) => Promise<string>;
}

/** Ends the run: prints `arp: <message>` (when any) and the usage (when asked). */
class ArpExit extends Error {
  /**
   * @param message printed after `arp: `
   * @param usage whether the usage text follows
   */
  constructor(message: string, readonly usage = false) {
    super(message);
  }
}

function usageText(tool: string): string {
  return [
    "[-n] hostname",
    "[-nv] -a",
    "[-v] -d [-a|hostname [proxy]]",
    "-s hostname ether_addr [temp] [pub [proxy]]",
    "-f filename",
  ].map((u, i) => `${i === 0 ? "Usage:" : "      "} ${tool} ${u}\n`).join("");
}

function message(e: unknown): string {
  if (e instanceof ErrnoError) return strerror(e.code);
  return e instanceof Error ? e.message : String(e);
}

/** getinetaddr(): numeric, or `localhost`; otherwise the resolver's `Unknown host`. */
function inetAddr(host: string): string {
  if (host === "localhost") return "127.0.0.1";
  const a = parseIp4(host);
  if (a === null) throw new ArpExit(`${host}: Unknown host`);
  return formatIp4(a);
}

/** An Ethernet address, `x:x:x:x:x:x` with one or two hex digits a byte, normalized. */
export function parseEther(text: string): string | null {
  const parts = text.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return null;
  return parts.map((p) => p.toLowerCase().padStart(2, "0")).join(":");
}

function addrKey(n: NeighborInfo): number {
  return parseIp4Strict(n.addr) ?? 0;
}

/** One line of dump(). */
export function arpLine(n: NeighborInfo): string {
  let line = `? (${n.addr}) at ${n.lladdr ?? "(incomplete)"}`;
  if (n.ifname) line += ` on ${n.ifname}`;
  if (n.expire === undefined) line += " permanent";
  if (n.published) line += " published";
  return line + "\n";
}

async function dump(client: ControlClient, only?: string): Promise<string[]> {
  const list = await client.call({ op: "neighborList", family: "inet" });
  return [...list]
    .filter((n) => only === undefined || n.addr === only)
    .sort((a, b) => addrKey(a) - addrKey(b))
    .map(arpLine);
}

async function get(host: string, ctx: ToolContext, client: ControlClient): Promise<number> {
  const addr = inetAddr(host);
  const lines = await dump(client, addr);
  if (lines.length === 0) {
    ctx.stdout(`${host} (${addr}) -- no entry\n`);
    return 1;
  }
  ctx.stdout(lines.join(""));
  return 0;
}

const NOT_FOUND = new Set(["ESRCH", "ENOENT", "EADDRNOTAVAIL"]);

async function deleteOne(host: string, ctx: ToolContext, client: ControlClient) {
  const addr = inetAddr(host);
  try {
    await client.call({ op: "neighborDelete", family: "inet", addr });
  } catch (e) {
    if (e instanceof ErrnoError && NOT_FOUND.has(e.code)) {
      throw new ArpExit(`delete: can't locate ${host}`);
    }
    throw new ArpExit(`writing to routing socket: ${message(e)}`);
  }
  ctx.stdout(`${host} (${addr}) deleted\n`);
  return 0;
}

async function deleteAll(ctx: ToolContext, client: ControlClient): Promise<number> {
  let gone: NeighborInfo[];
  try {
    gone = await client.call({ op: "neighborFlush", family: "inet" });
  } catch (e) {
    throw new ArpExit(`writing to routing socket: ${message(e)}`);
  }
  for (const n of [...gone].sort((a, b) => addrKey(a) - addrKey(b))) {
    ctx.stdout(`${n.addr} (${n.addr}) deleted\n`);
  }
  return 0;
}

/** set(): `host ether_addr [temp] [pub [proxy]] [trail]`; returns the exit status. */
async function set(words: string[], ctx: ToolContext, client: ControlClient): Promise<number> {
  const [host, eaddr, ...rest] = words;
  let addr: string;
  try {
    addr = inetAddr(host);
  } catch (e) {
    if (!(e instanceof ArpExit)) throw e;
    ctx.stderr(`${ctx.name}: ${e.message}\n`);
    return 1;
  }
  const lladdr = parseEther(eaddr);
  if (lladdr === null) {
    ctx.stderr(`${ctx.name}: invalid Ethernet address '${eaddr}'\n`);
    return 1;
  }
  let temp = false;
  let pub = false;
  for (const w of rest) {
    if (w.startsWith("temp")) temp = true;
    else if (w.startsWith("pub")) pub = true;
    else if (w.startsWith("trail")) {
      ctx.stderr(`${ctx.name}: ${host}: Sending trailers is no longer supported\n`);
    }
  }
  try {
    await client.call({ op: "neighborSet", family: "inet", addr, lladdr, temp, pub });
  } catch (e) {
    ctx.stderr(`${ctx.name}: writing to routing socket: ${message(e)}\n`);
    return 1;
  }
  return 0;
}

function fileError(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return strerror("ENOENT");
  if (e instanceof Deno.errors.PermissionDenied) return strerror("EACCES");
  return message(e);
}

/** file(): one set() per line; any failing line makes the status 1. */
async function file(
  name: string,
  ctx: ToolContext,
  client: ControlClient,
  opts: ArpOptions,
): Promise<number> {
  let text: string;
  try {
    text = await (opts.readTextFile ?? Deno.readTextFile)(name);
  } catch (e) {
    throw new ArpExit(`Cannot open ${name}: ${fileError(e)}`);
  }
  let status = 0;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const words = line.split(/[ \t]+/).slice(0, 5);
    if (words.length < 2) {
      ctx.stderr(`${ctx.name}: bad line: ${line}\n`);
      status = 1;
    } else if (await set(words, ctx, client) !== 0) status = 1;
  }
  return status;
}

interface ArpArgs {
  op: "a" | "d" | "s" | "f" | "";
  all: boolean;
  words: string[];
}

function parseArgs(args: string[], tool: string): ArpArgs {
  const g = getopt(args, "adfnsv");
  if (!g.ok) throw new ArpExit(getoptMessage(tool, g).slice(tool.length + 2, -1), true);
  const a: ArpArgs = { op: "", all: false, words: g.operands };
  for (const { opt } of g.opts) {
    if (opt === "a") a.all = true;
    else if (opt === "d" || opt === "s" || opt === "f") {
      if (a.op !== "") throw new ArpExit("", true);
      a.op = opt;
    }
    // -n: names are never looked up here; -v: the lines print anyway.
  }
  if (a.op === "" && a.all) a.op = "a";
  const n = a.words.length;
  const bad = (a.op === "a" && n !== 0) || (a.op === "" && n !== 1) ||
    (a.op === "d" && (a.all ? n !== 0 : n < 1 || n > 2)) ||
    (a.op === "s" && (n < 2 || n > 7)) || (a.op === "f" && n !== 1);
  if (bad) throw new ArpExit("", true);
  return a;
}

function run(a: ArpArgs, ctx: ToolContext, client: ControlClient, opts: ArpOptions) {
  switch (a.op) {
    case "a":
      return dump(client).then((lines) => {
        ctx.stdout(lines.join(""));
        return 0;
      });
    case "d":
      return a.all ? deleteAll(ctx, client) : deleteOne(a.words[0], ctx, client);
    case "s":
      return set(a.words, ctx, client);
    case "f":
      return file(a.words[0], ctx, client, opts);
    default:
      return get(a.words[0], ctx, client);
  }
}

/**
 * Runs arp: shows, sets and deletes ARP entries.
 *
 * @param args the command-line arguments after the tool name
 * @param ctx streams, environment and the way to the stack
 * @param opts the `-f` file reader, for tests
 * @returns 0, or 1 on a usage error, a missing entry or a refused request
 */
export async function arpMain(
  args: string[],
  ctx: ToolContext,
  opts: ArpOptions = {},
): Promise<number> {
  let client: ControlClient | null = null;
  try {
    const a = parseArgs(args, ctx.name);
    try {
      client = await ctx.connect();
    } catch (e) {
      throw new ArpExit(`socket: ${message(e)}`);
    }
    return await run(a, ctx, client, opts);
  } catch (e) {
    if (e instanceof ArpExit) {
      if (e.message) ctx.stderr(`${ctx.name}: ${e.message}\n`);
      if (e.usage) ctx.stderr(usageText(ctx.name));
      return 1;
    }
    // A listing the stack refuses: NetBSD's err(1, "actual retrieval of routing table").
    if (e instanceof ErrnoError) {
      ctx.stderr(`${ctx.name}: actual retrieval of routing table: ${strerror(e.code)}\n`);
      return 1;
    }
    throw e;
  } finally {
    client?.close();
  }
}
