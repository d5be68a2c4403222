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
 * ```
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
       ifconfig interface create
       ifconfig interface destroy
`;

/** IFNAMSIZ: names this long or longer do not fit `ifr_name`. */
const IFNAMSIZ = 16;

/** The command-line flags (getopt `AabCdhlmsuvzL`). */
interface Flags {
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
  for (const ifp of chosen) {
    // -z reads and zeroes in one ioctl; the counters shown are those read just before.
    if (f.z) await s.call({ op: "ifZeroStats", name: ifp.name }, "SIOCZIFDATA");
    ctx.stdout(formatInterface(ifp, {
      family: family ?? undefined,
      stats: f.v || f.z,
      human: f.h,
      lifetimes: f.L,
    }));
  }
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
  const r = getopt(args, "AabCdhlmsuvzL");
  if (!r.ok) throw new IfconfigExit(getoptMessage("ifconfig", r) + USAGE);
  const f: Flags = {
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
  for (const { opt } of r.opts) {
    if (opt === "A") ctx.stderr("ifconfig: -A is deprecated\n");
    else f[opt as keyof Flags] = true;
  }
  return { f, operands: r.operands };
}

async function run(args: string[], ctx: ToolContext, s: Session): Promise<number> {
  const { f, operands } = parseFlags(args, ctx);
  // -l and -C are mutually exclusive with each other and with everything that prints status.
  if ((f.l || f.C) && (f.a || f.m || f.v || f.z || f.L || operands.length > 0)) usage();
  if (f.l && f.C) usage();
  if (f.C) return await listCloners(s, ctx);
  if (f.a || f.l) return await listAll(s, ctx, f, operands);
  if (operands.length < 1) usage();
  return await oneInterface(s, ctx, f, operands);
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
