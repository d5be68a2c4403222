/**
 * `if_up`: waits until network interfaces exist and are configured, as QNX's
 * `/usr/sbin/if_up` does in boot scripts.
 *
 * ```
 * if_up [-alp] [-m ms] [-r retries] [-s secs] [-6] [-i] interface...
 * ```
 *
 * The tool walks the stack's interface list up to `-r` times (default 5),
 * sleeping `-m` milliseconds or `-s` seconds between walks (default 1000 ms;
 * the last of `-m`/`-s` wins). A walk succeeds when any listed interface (all
 * of them with `-a`) is:
 *
 * - present (`-p`: nothing more is asked), else
 * - configured: IFF_UP and a non-zero IPv4 address, or with `-6` a non-zero
 *   IPv6 address (`-i` additionally ignores link-local `fe80::/10` ones);
 * - with `-l`, also link-up: the driver reports its link state as `active`.
 *   As in io-pkt, where `-l` needs the media word to carry IFM_AVALID|IFM_ACTIVE,
 *   an interface whose driver reports no link state (lo0, tun, ...) never
 *   satisfies `-l`; the wait then runs out.
 *
 * Each walk opens a fresh connection to the stack chosen by `$SOCK` and closes
 * it afterwards, so a stack that starts later is found: a walk on which no
 * stack answers counts as one more retry (libsocket's socket() failing with
 * EAFNOSUPPORT on QNX). Success prints nothing (scripts test `` `if_up ...` ``
 * for empty output). Exit codes: 0 success, 1 bad option, 2 no interface,
 * 3 `socket:` (no stack answered on any walk), 4 `getifaddrs:`, 7 retries
 * exhausted.
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { ifUpMain } from "./if_up.ts";
 * await runTool("if_up", ifUpMain); // if_up -p -r 200 -m 10 eth0
 * ```
 * @module
 */

import { ErrnoError, strerror } from "../core/errno.ts";
import type { IfInfo } from "../core/control/ops.ts";
import { IFF } from "../core/link/if_flags.ts";
import { getopt, getoptMessage } from "./getopt.ts";
import { StackUnreachableError } from "./client.ts";
import type { ToolContext } from "./tool_context.ts";

/** What `if_up` waits for, from its command line. */
export interface IfUpOptions {
  /** `-a`: every listed interface must qualify (default: any one). */
  all: boolean;
  /** `-l`: the link must also be up. */
  link: boolean;
  /** `-p`: presence is enough. */
  presence: boolean;
  /** `-6`: wait for an IPv6 address instead of an IPv4 one. */
  inet6: boolean;
  /** `-i`: link-local IPv6 addresses don't count (needs `-6`). */
  ignoreLinkLocal: boolean;
  /** How many walks of the interface list, at least 1. */
  walks: number;
  /** Milliseconds between walks, at least 1. */
  intervalMs: number;
  /** Interface names, basenames of any `/path` arguments. */
  names: string[];
}

/** Injected effects, so tests don't wait. */
export interface IfUpEffects {
  /** Waits between walks; defaults to a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_WALKS = 5;
const DEFAULT_INTERVAL_MS = 1000;

/** A parse outcome: options, or an exit code with its message. */
type ParseResult =
  | { ok: true; options: IfUpOptions; warnings: string[] }
  | { ok: false; code: number; message: string };

/** C `atoi`: leading blanks, optional sign, digits; anything else gives 0. */
function atoi(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? Number.parseInt(m[1], 10) : 0;
}

/** `/dev/foo/en0` → `en0`; plain names are unchanged. */
function basename(arg: string): string {
  const trimmed = arg.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1) || arg;
}

/** Parses the command line the way io-pkt's if_up does (getopt `6ailm:pr:s:`). */
export function parseIfUpArgs(args: string[]): ParseResult {
  const r = getopt(args, "6ailm:pr:s:");
  if (!r.ok) return { ok: false, code: 1, message: getoptMessage("if_up", r) };
  const o: IfUpOptions = {
    all: false,
    link: false,
    presence: false,
    inet6: false,
    ignoreLinkLocal: false,
    walks: DEFAULT_WALKS,
    intervalMs: DEFAULT_INTERVAL_MS,
    names: r.operands.map(basename),
  };
  for (const { opt, arg = "" } of r.opts) {
    if (opt === "a") o.all = true;
    else if (opt === "l") o.link = true;
    else if (opt === "p") o.presence = true;
    else if (opt === "6") o.inet6 = true;
    else if (opt === "i") o.ignoreLinkLocal = true;
    else if (opt === "r") o.walks = atoi(arg);
    else if (opt === "m") o.intervalMs = atoi(arg);
    else if (opt === "s") o.intervalMs = atoi(arg) * 1000;
  }
  return validate(o);
}

/** Applies the checks that follow option parsing, in io-pkt's order. */
function validate(o: IfUpOptions): ParseResult {
  const warnings: string[] = [];
  if (o.intervalMs < 1) {
    warnings.push("if_up: must specify a polling interval more than 1ms. Using 1000ms now.\n");
    o.intervalMs = DEFAULT_INTERVAL_MS;
  }
  // A walk count below 1 (`-r0`, `-r x`) still walks once: the caller asked to check.
  if (o.walks < 1) o.walks = 1;
  if (o.ignoreLinkLocal && !o.inet6) {
    return { ok: false, code: 1, message: "if_up: -i requires -6.\n" };
  }
  if (o.names.length === 0) {
    return { ok: false, code: 2, message: "if_up: must specify interface(s).\n" };
  }
  return { ok: true, options: o, warnings };
}

/** Whether an IPv6 address text is in fe80::/10. */
function isLinkLocal6(addr: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(addr);
}

/** Whether `ifp` carries an address of the kind `o` waits for. */
function hasAddress(ifp: IfInfo, o: IfUpOptions): boolean {
  return ifp.addrs.some((a) => {
    if (!o.inet6) return a.family === "inet" && a.addr !== "0.0.0.0";
    if (a.family !== "inet6" || a.addr === "::") return false;
    // An address still in (or failed) duplicate address detection can't be used yet.
    if (a.flags.includes("tentative") || a.flags.includes("duplicated")) return false;
    return !(o.ignoreLinkLocal && isLinkLocal6(a.addr));
  });
}

/** Whether one interface satisfies what `o` waits for. */
export function interfaceReady(ifp: IfInfo, o: IfUpOptions): boolean {
  if (o.link && ifp.linkState !== "active") return false;
  if (o.presence) return true;
  return (ifp.flags & IFF.UP) !== 0 && hasAddress(ifp, o);
}

/** Whether the interface list satisfies `o` (any listed name, or all with `-a`). */
export function listReady(list: IfInfo[], o: IfUpOptions): boolean {
  const byName = new Map(list.map((ifp) => [ifp.name, ifp]));
  const ready = (name: string) => {
    const ifp = byName.get(name);
    return ifp !== undefined && interfaceReady(ifp, o);
  };
  return o.all ? o.names.every(ready) : o.names.some(ready);
}

/** `<strerror> (<detail>)`, or just `<strerror>` when the error carries no detail. */
function describeErrno(e: ErrnoError): string {
  const text = strerror(e.code);
  if (e instanceof StackUnreachableError) return `${text} (no stack answers at ${e.path})`;
  const suffix = `: ${text}`;
  const detail = e.message.endsWith(suffix) ? e.message.slice(0, -suffix.length) : e.message;
  return detail === "" || detail === text ? text : `${text} (${detail})`;
}

/** One walk's outcome. */
type Walk =
  | { kind: "ready" }
  | { kind: "notYet" }
  | { kind: "noStack"; error: ErrnoError }
  | { kind: "fail"; code: number; message: string };

/** Connects, lists the interfaces once, and closes. */
async function walkOnce(ctx: ToolContext, o: IfUpOptions): Promise<Walk> {
  let client;
  try {
    client = await ctx.connect();
  } catch (e) {
    if (!(e instanceof ErrnoError)) throw e;
    if (e.code === "EAFNOSUPPORT") return { kind: "noStack", error: e };
    return { kind: "fail", code: 3, message: `if_up: socket: ${describeErrno(e)}\n` };
  }
  try {
    const list = await client.call({ op: "ifList" });
    return listReady(list, o) ? { kind: "ready" } : { kind: "notYet" };
  } catch (e) {
    if (!(e instanceof ErrnoError)) throw e;
    return { kind: "fail", code: 4, message: `if_up: getifaddrs: ${describeErrno(e)}\n` };
  } finally {
    client.close();
  }
}

/** Walks until ready, a hard failure, or the walks run out. */
async function waitReady(
  ctx: ToolContext,
  o: IfUpOptions,
  sleep: (ms: number) => Promise<void>,
): Promise<number> {
  let lastNoStack: ErrnoError | null = null;
  let stackAnswered = false;
  for (let walk = 1; walk <= o.walks; walk++) {
    const r = await walkOnce(ctx, o);
    if (r.kind === "ready") return 0;
    if (r.kind === "fail") {
      ctx.stderr(r.message);
      return r.code;
    }
    if (r.kind === "noStack") lastNoStack = r.error;
    else stackAnswered = true;
    // No sleep after the last walk: `if_up -r1` must answer at once.
    if (walk < o.walks) await sleep(o.intervalMs);
  }
  if (!stackAnswered && lastNoStack) {
    ctx.stderr(`if_up: socket: ${describeErrno(lastNoStack)}\n`);
    return 3;
  }
  ctx.stderr("if_up: retries exhausted\n");
  return 7;
}

function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The `if_up` tool: waits for interfaces and returns the exit code
 * (0 ready, 1 bad option, 2 no interface, 3 no stack, 4 list failed, 7 timed out).
 */
export async function ifUpMain(
  args: string[],
  ctx: ToolContext,
  opts: IfUpEffects = {},
): Promise<number> {
  const parsed = parseIfUpArgs(args);
  if (!parsed.ok) {
    ctx.stderr(parsed.message);
    return parsed.code;
  }
  for (const w of parsed.warnings) ctx.stderr(w);
  return await waitReady(ctx, parsed.options, opts.sleep ?? realSleep);
}
