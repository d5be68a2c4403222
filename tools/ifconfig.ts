/**
 * `ifconfig`: shows and configures network interfaces, as the NetBSD 4-era
 * ifconfig that QNX ships with io-pkt (reference §5.3).
 *
 * ```
 * ifconfig interface [af] [address [dest_address]] [parameters]
 * ifconfig [-hLmvz] interface [af]
 * ifconfig -a [-bdhLmsuvz] [af]
 * ifconfig -l [-bdsu]
 * ifconfig -s interface
 * ifconfig -C
 * ifconfig interface create|destroy
 * ifconfig -w secs [-W secs] [interface [parameters]]
 * ifconfig interface link xx:xx:xx:xx:xx:xx [active]   (also lladdr; -link ADDR deletes)
 * ifconfig
 * ```
 *
 * With no arguments at all it lists every interface, as `-a` does (QNX 6.5
 * and BB10 captures; NetBSD's `aflag = argc == 1`). `-w secs` waits, after
 * any configuration on the line, until no address (of the named interface, or
 * of any) is `tentative`, polling every 10 ms as NetBSD 6's wait_dad_exec()
 * does; `-W secs` then waits for no address to be `detached`. 0 waits without
 * a limit; running out prints `ifconfig: timed out` and exits 1.
 *
 * Each ioctl NetBSD makes becomes one control request, and a failed request is
 * reported under the ioctl's name (`ifconfig: SIOCAIFADDR: File exists`), so
 * scripts written against QNX see the same messages. Failures exit 1; usage
 * errors print NetBSD's usage text and exit 1.
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { ifconfigMain } from "./ifconfig.ts";
 * await runTool("ifconfig", ifconfigMain); // ifconfig en0 192.0.2.2/24
 * ```
 * @module
 */

import type { ControlOp, ControlResults, IfInfo } from "../core/control/ops.ts";
import { ErrnoError, strerror } from "../core/errno.ts";
import { IFF } from "../core/link/if_flags.ts";
import { getopt, getoptMessage } from "./getopt.ts";
import { formatInterface } from "./ifconfig_format.ts";
import {
  fail,
  IfconfigExit,
  type IfconfigFamily,
  type IfconfigPlan,
  type IfconfigStep,
  lookupFamily,
  parseParams,
} from "./ifconfig_params.ts";
import type { ControlClient, RequestOf, ToolContext } from "./tool_context.ts";

/** NetBSD 4's usage text (ifconfig.c 1.181, built with INET6). */
const USAGE = `usage: ifconfig [-h] [-m] [-v] [-z] [-L] interface
\t[ af [ address [ dest_addr ] ] [ netmask mask ] [ prefixlen n ]
\t\t[ alias | -alias ] ]
\t[ up ] [ down ] [ metric n ] [ mtu n ]
\t[ nwid network_id ] [ nwkey network_key | -nwkey ]
\t[ list scan ]
\t[ powersave | -powersave ] [ powersavesleep duration ]
\t[ hidessid | -hidessid ] [ apbridge | -apbridge ]
\t[ [ af ] tunnel src_addr dest_addr ] [ deletetunnel ]
\t[ arp | -arp ]
\t[ media type ] [ mediaopt opts ] [ -mediaopt opts ] [ instance minst ]
\t[ preference n ]
\t[ vlan n vlanif i ]
\t[ agrport i ] [ -agrport i ]
\t[ anycast | -anycast ] [ deprecated | -deprecated ]
\t[ tentative | -tentative ] [ pltime n ] [ vltime n ] [ eui64 ]
\t[ link0 | -link0 ] [ link1 | -link1 ] [ link2 | -link2 ]
       ifconfig -a [-b] [-h] [-m] [-d] [-u] [-v] [-z] [ af ]
       ifconfig -l [-b] [-d] [-u] [-s]
       ifconfig -C
       ifconfig -w n [-W n] [interface]
       ifconfig interface create
       ifconfig interface destroy
`;

/** IFNAMSIZ: names this long or longer do not fit `ifr_name`. */
const IFNAMSIZ = 16;

/** The command-line flags (getopt `AabCdhlmsuvzLw:W:`). */
interface Flags {
  /** `-w secs`: wait for DAD (null when not given; 0 waits without a limit). */
  w: number | null;
  /** `-W secs`: wait for the detached flag to clear. */
  W: number | null;
  a: boolean;
  b: boolean;
  C: boolean;
  d: boolean;
  h: boolean;
  l: boolean;
  m: boolean;
  s: boolean;
  u: boolean;
  v: boolean;
  z: boolean;
  L: boolean;
}

function usage(): never {
  throw new IfconfigExit(USAGE);
}

/** One run's connection to the stack, made on first use. */
class Session {
  #ctx: ToolContext;
  #client: ControlClient | null = null;

  constructor(ctx: ToolContext) {
    this.#ctx = ctx;
  }

  async #connect(): Promise<ControlClient> {
    if (this.#client) return this.#client;
    try {
      this.#client = await this.#ctx.connect();
    } catch (e) {
      fail(`socket: ${e instanceof Error ? e.message : String(e)}`);
    }
    return this.#client;
  }

  /** Makes a request; an error reply ends the tool as `ifconfig: <ioctl>: <strerror>`. */
  async call<O extends ControlOp>(req: RequestOf<O>, ioctl: string): Promise<ControlResults[O]> {
    const client = await this.#connect();
    try {
      return await client.call(req);
    } catch (e) {
      fail(`${ioctl}: ${describe(e)}`);
    }
  }

  /** Makes a request, handing an errno reply back instead of failing. */
  async tryCall<O extends ControlOp>(
    req: RequestOf<O>,
    ioctl: string,
    tolerated: ErrnoError["code"],
  ): Promise<ControlResults[O] | null> {
    const client = await this.#connect();
    try {
      return await client.call(req);
    } catch (e) {
      if (e instanceof ErrnoError && e.code === tolerated) return null;
      fail(`${ioctl}: ${describe(e)}`);
    }
  }

  close(): void {
    this.#client?.close();
  }
}

/** strerror() of an errno reply; the message of anything else. */
function describe(e: unknown): string {
  if (e instanceof ErrnoError) return strerror(e.code);
  return e instanceof Error ? e.message : String(e);
}

/** The socket for `family` can be made: a v4-only stack has no AF_INET6 socket. */
async function requireFamily(s: Session, family: IfconfigFamily | null): Promise<void> {
  if (family !== "inet6") return;
  const info = await s.call({ op: "info" }, "socket");
  if (!info.inet6) fail(`socket: ${strerror("EAFNOSUPPORT")}`);
}

/** getinfo(): the interface, or `SIOCGIFFLAGS <name>: <strerror>`. */
async function getInfo(s: Session, name: string): Promise<IfInfo> {
  const list = await s.call({ op: "ifList", name }, `SIOCGIFFLAGS ${name}`);
  const ifp = list.find((i) => i.name === name);
  return ifp ?? fail(`SIOCGIFFLAGS ${name}: ${strerror("ENXIO")}`);
}

/** carrier(): 1 when the driver reports no carrier, 0 otherwise (no report counts as up). */
function carrier(ifp: IfInfo): number {
  return ifp.linkState === "no carrier" ? 1 : 0;
}

/** Whether `-b`, `-d`, `-u` and `-s` let `ifp` through. */
function selected(ifp: IfInfo, f: Flags): boolean {
  if (f.b && (ifp.flags & IFF.BROADCAST) === 0) return false;
  if (f.d && (ifp.flags & IFF.UP) !== 0) return false;
  if (f.u && (ifp.flags & IFF.UP) === 0) return false;
  return !(f.s && carrier(ifp) !== 0);
}

/** printall(): `-l` names, or the status of each selected interface. */
async function printAll(
  s: Session,
  ctx: ToolContext,
  f: Flags,
  list: IfInfo[],
  family: IfconfigFamily | null,
): Promise<void> {
  const chosen = list.filter((ifp) => selected(ifp, f));
  if (f.l) {
    ctx.stdout(`${chosen.map((ifp) => ifp.name).join(" ")}\n`);
    return;
  }
  // Only interfaces with a link-layer address can have inactive ones.
  const links = chosen.some((ifp) => ifp.lladdr !== undefined)
    ? await inactiveLinks(s, chosen.length === 1 ? chosen[0].name : undefined)
    : new Map<string, string[]>();
  for (const ifp of chosen) {
    // -z reads and zeroes in one ioctl; the counters shown are those read just before.
    if (f.z) await s.call({ op: "ifZeroStats", name: ifp.name }, "SIOCZIFDATA");
    ctx.stdout(formatInterface(ifp, {
      links: links.get(ifp.name),
      family: family ?? undefined,
      stats: f.v || f.z,
      human: f.h,
      lifetimes: f.L,
    }));
  }
}

/** The inactive link-layer addresses by interface name (printed as `link` lines). */
async function inactiveLinks(s: Session, name?: string): Promise<Map<string, string[]>> {
  const req: RequestOf<"lladdrList"> = name === undefined ? { op: "lladdrList" } : {
    op: "lladdrList",
    name,
  };
  // A stack without the request (an older daemon) simply has no inactive addresses to show.
  const list = await s.tryCall(req, "SIOCGLIFADDR", "ENOSYS") ?? [];
  return new Map(list.map((l) => [l.name, l.inactive]));
}

/** Carries out one in-line change. */
async function runStep(s: Session, ctx: ToolContext, name: string, step: IfconfigStep) {
  switch (step.kind) {
    case "flags":
      if (step.set) await s.call({ op: "ifSet", name, flagsSet: step.set }, "SIOCSIFFLAGS");
      if (step.clear) await s.call({ op: "ifSet", name, flagsClear: step.clear }, "SIOCSIFFLAGS");
      return;
    case "mtu":
      await s.call({ op: "ifSet", name, mtu: step.value }, "SIOCSIFMTU");
      return;
    case "metric":
      await s.call({ op: "ifSet", name, metric: step.value }, "SIOCSIFMETRIC");
      return;
    case "linkstr":
      await s.call({ op: "ifSet", name, linkstr: step.value }, "SIOCSLINKSTR");
      return;
    case "destroy":
      await s.call({ op: "ifDestroy", name }, "SIOCIFDESTROY");
      return;
    case "note":
      ctx.stdout(step.text);
      return;
    case "lladdr":
      if (step.op === "add") {
        await s.call(
          { op: "lladdrAdd", name, lladdr: step.addr, active: step.active },
          "SIOCALIFADDR",
        );
      } else {
        await s.call({ op: "lladdrDelete", name, lladdr: step.addr }, "SIOCDLIFADDR");
      }
      return;
    default:
      step satisfies never;
  }
}

/** Carries out a plan: in-line changes, then delete, add, and bring up. */
async function execute(s: Session, ctx: ToolContext, name: string, plan: IfconfigPlan) {
  for (const step of plan.steps) await runStep(s, ctx, name, step);
  const del = plan.deletion;
  if (del) {
    const req: RequestOf<"addrDelete"> = { op: "addrDelete", name, family: del.family };
    if (del.addr !== undefined) req.addr = del.addr;
    if (del.ignoreMissing) await s.tryCall(req, "SIOCDIFADDR", "EADDRNOTAVAIL");
    else await s.call(req, "SIOCDIFADDR");
  }
  if (!plan.addition) return;
  const after = await s.call({ op: "addrAdd", name, spec: plan.addition }, "SIOCAIFADDR");
  // check_ifflags_up(): only an interface that is still down is brought up.
  if (plan.upAfterAdd && (after.flags & IFF.UP) === 0) {
    await s.call({ op: "ifSet", name, flagsSet: IFF.UP }, "SIOCSIFFLAGS");
  }
}

/** `ifconfig -C`: the cloner names. */
async function listCloners(s: Session, ctx: ToolContext): Promise<number> {
  const names = await s.call({ op: "clonerList" }, "SIOCIFGCLONERS for count");
  ctx.stdout(`${names.join(" ")}\n`);
  return 0;
}

/** `ifconfig -a`/`-l` with an optional family. */
async function listAll(s: Session, ctx: ToolContext, f: Flags, operands: string[]) {
  if (operands.length > 1) usage();
  const family = operands.length === 1 ? lookupFamily(operands[0]) ?? usage() : null;
  await requireFamily(s, family);
  const list = await s.call({ op: "ifList" }, "getifaddrs");
  await printAll(s, ctx, f, list, family);
  return 0;
}

/** `ifconfig interface ...`: status, `-s`, or configuration. */
async function oneInterface(s: Session, ctx: ToolContext, f: Flags, operands: string[]) {
  const name = operands[0];
  if (name.length >= IFNAMSIZ) fail(`interface name '${name}' too long`);
  let rest = operands.slice(1);
  // `create` comes before the interface exists, so before getinfo().
  if (rest[0] === "create") {
    await s.call({ op: "ifCreate", name }, "SIOCIFCREATE");
    rest = rest.slice(1);
    if (rest.length === 0) return 0;
  }
  const family = rest.length > 0 ? lookupFamily(rest[0]) : null;
  if (family) rest = rest.slice(1);
  await requireFamily(s, family);
  const ifp = await getInfo(s, name);
  if (f.s) return rest.length === 0 ? carrier(ifp) : usage();
  if (rest.length === 0) {
    await printAll(s, ctx, f, [ifp], family);
    return 0;
  }
  const plan = parseParams(rest, family ?? "inet", ifp);
  await execute(s, ctx, name, plan);
  return 0;
}

/** Parses the flags; a bad one prints getopt's complaint and the usage. */
function parseFlags(args: string[], ctx: ToolContext): { f: Flags; operands: string[] } {
  const r = getopt(args, "AabCdhlmsuvzLw:W:");
  if (!r.ok) throw new IfconfigExit(getoptMessage("ifconfig", r) + USAGE);
  const f: Flags = {
    w: null,
    W: null,
    a: false,
    b: false,
    C: false,
    d: false,
    h: false,
    l: false,
    m: false,
    s: false,
    u: false,
    v: false,
    z: false,
    L: false,
  };
  for (const { opt, arg } of r.opts) {
    if (opt === "A") ctx.stderr("ifconfig: -A is deprecated\n");
    else if (opt === "w" || opt === "W") f[opt] = waitSeconds(arg ?? "");
    else f[opt as Exclude<keyof Flags, "w" | "W">] = true;
  }
  return { f, operands: r.operands };
}

/** `-w`/`-W`'s argument: strtol() base 10, whole, 0 .. INT32_MAX-1. */
function waitSeconds(text: string): number {
  const n = /^\s*[+-]?\d+$/.test(text) ? Number.parseInt(text, 10) : NaN;
  if (!Number.isFinite(n) || n < 0 || n >= 0x7fffffff) fail(`${text}: not a number`);
  return n;
}

/** How often wait_dad_exec() looks again. */
const WAIT_POLL_MS = 10;

/**
 * wait_dad_exec(): polls until no address (of `name`, or of any interface)
 * carries `flag`; `secs` 0 waits without a limit, otherwise the wait ends
 * with `ifconfig: timed out`.
 */
async function waitWhileFlagged(
  s: Session,
  name: string | undefined,
  flag: "tentative" | "detached",
  secs: number,
): Promise<void> {
  const end = performance.now() + secs * 1000;
  for (;;) {
    const req: RequestOf<"ifList"> = name === undefined ? { op: "ifList" } : { op: "ifList", name };
    const list = await s.call(req, "getifaddrs");
    const waiting = list.some((ifp) =>
      ifp.addrs.some((a) => a.family === "inet6" && a.flags.includes(flag))
    );
    if (!waiting) return;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    if (secs > 0 && performance.now() > end) fail("timed out");
  }
}

async function run(args: string[], ctx: ToolContext, s: Session): Promise<number> {
  // NetBSD: `aflag = argc == 1`; only a bare `ifconfig` lists everything.
  if (args.length === 0) args = ["-a"];
  const { f, operands } = parseFlags(args, ctx);
  if (f.w !== null || f.W !== null) return await waitRun(s, ctx, f, operands);
  // -l and -C are mutually exclusive with each other and with everything that prints status.
  if ((f.l || f.C) && (f.a || f.m || f.v || f.z || f.L || operands.length > 0)) usage();
  if (f.l && f.C) usage();
  if (f.C) return await listCloners(s, ctx);
  if (f.a || f.l) return await listAll(s, ctx, f, operands);
  if (operands.length < 1) usage();
  return await oneInterface(s, ctx, f, operands);
}

/** `-w`/`-W`: configures the interface if the line says more, then waits. */
async function waitRun(s: Session, ctx: ToolContext, f: Flags, operands: string[]) {
  // -w is exclusive with everything that lists (NetBSD's main()).
  if (f.a || f.l || f.C || f.m || f.v || f.z || f.L || f.s) usage();
  const name = operands[0];
  if (name !== undefined) {
    if (operands.length > 1) await oneInterface(s, ctx, f, operands);
    else await getInfo(s, name);
  }
  if (f.w !== null) await waitWhileFlagged(s, name, "tentative", f.w);
  if (f.W !== null) await waitWhileFlagged(s, name, "detached", f.W);
  return 0;
}

/**
 * The `ifconfig` tool: shows or configures interfaces and returns the exit
 * code (0 success, 1 failure or bad usage; `-s interface`: 1 when there is no carrier).
 */
export async function ifconfigMain(args: string[], ctx: ToolContext): Promise<number> {
  const session = new Session(ctx);
  try {
    return await run(args, ctx, session);
  } catch (e) {
    if (!(e instanceof IfconfigExit)) throw e;
    ctx.stderr(e.text);
    return e.code;
  } finally {
    session.close();
  }
}
