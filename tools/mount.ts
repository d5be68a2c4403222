/**
 * `mount -T io-pkt[N] [-o options] module`: loads a driver or protocol module
 * into a running stack, as QNX's `mount` does for io-pkt — and hands every
 * other `mount` invocation to the system's own mount, unchanged.
 *
 * ## How `bin/mount` coexists with the system mount
 *
 * `bin/mount` is a launcher in this suite's `bin/`, so QNX boot scripts that
 * say `mount -Tio-pkt devnp-x.so` run unmodified once `bin/` is on `PATH`. It
 * only claims invocations whose `-T` value names an io-pkt mount type:
 * `io-pkt`, `io-pkt<digits>` (the stack started with `-i<digits>`) or `tcpip`
 * (the old compatible name, accepted by any instance). Anything else — `mount`
 * alone, `mount /dev/sda1 /mnt`, `mount -t ext4 ...`, `mount --bind ...`, and
 * Linux's own `-T` (`mount -T /etc/fstab.alt -a` names an alternative fstab) —
 * is run by the first of `/bin/mount`, `/usr/bin/mount`, `/sbin/mount`,
 * `/usr/sbin/mount` that exists, with the same arguments and the same
 * stdin/stdout/stderr, and its exit code becomes ours. (`sudo mount ...` uses
 * sudo's own secure PATH and so reaches the system mount directly; run
 * `sudo bin/mount -T io-pkt ...` for ours.) The child gets
 * `IOPKT_MOUNT_DELEGATED=1` in its environment; a `mount` started with it set
 * refuses to delegate again, so installing this launcher *as* the system mount
 * fails with a message instead of looping.
 *
 * ## The io-pkt case
 *
 * The request `{op: "mount", type, module, options}` goes to the stack chosen
 * by `$SOCK` (`SOCK=/alt mount -Tio-pkt1 ...`). The daemon checks that `type`
 * is its mount type (ENOENT otherwise) and that the client may change its
 * configuration. `module` is passed as typed (no `devnp-` prefixing); several
 * `-o` lists are joined with commas; a mount point after the module is accepted
 * and ignored (io-pkt's mount handler is type-only); `-b -r -u -v -w` are
 * accepted and ignored. Success prints nothing. Failure prints QNX's two lines,
 * each ending in a space, and exits 1:
 *
 * ```ts ignore
 * "mount: Can't mount devnp-x.so (type io-pkt) \n"
 * "mount: Possible reason: No such file or directory \n"
 * ```
 *
 * When no stack answers at all, the reason is ENOENT, as on QNX where no server
 * takes the mount type.
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { mountMain } from "./mount.ts";
 * await runTool("mount", mountMain); // mount -T io-pkt -o mac=123456789abc devnp-e1000.so
 * ```
 * @module
 */

import { ErrnoError, strerror } from "../core/errno.ts";
import type { Errno } from "../core/errno.ts";
import { getopt, getoptMessage } from "./getopt.ts";
import type { ToolContext } from "./tool_context.ts";

/** Mount types this tool handles itself; every other type goes to the system mount. */
export const IOPKT_MOUNT_TYPE = /^(io-pkt[0-9]*|tcpip)$/;

/** Where the system's own mount is looked for, in order. */
export const SYSTEM_MOUNT_PATHS: readonly string[] = [
  "/bin/mount",
  "/usr/bin/mount",
  "/sbin/mount",
  "/usr/sbin/mount",
];

/** Set in the system mount's environment so a mount started by it never delegates again. */
export const DELEGATED_ENV = "IOPKT_MOUNT_DELEGATED";

/** Injected effects, so tests don't run the real system mount. */
export interface MountEffects {
  /** Runs the system mount with `args`, returning its exit code. */
  execSystemMount?: (args: string[]) => Promise<number>;
}

/** What a command line asks for. */
export type MountInvocation =
  | { kind: "iopkt"; type: string; module: string; options: string }
  | { kind: "usage"; message: string }
  | { kind: "system" };

/** QNX mount's letters that make sense with `-T io-pkt`. */
const IOPKT_SPEC = "bo:rT:uvw";

const USAGE = "usage: mount -T io-pkt[N] [-o options] module\n";

/** Whether any word names an io-pkt type after `-T` (`-T io-pkt`, `-Tio-pkt1`, `-vTtcpip`). */
function namesIopktType(args: string[]): boolean {
  for (let i = 0; i < args.length && args[i] !== "--"; i++) {
    const m = /^-[A-Za-z]*T(.*)$/.exec(args[i]);
    if (!m) continue;
    const value = m[1] === "" ? args[i + 1] : m[1];
    if (value !== undefined && IOPKT_MOUNT_TYPE.test(value)) return true;
  }
  return false;
}

/** Decides whether `args` is ours (`-T io-pkt...`), a misuse of ours, or the system's. */
export function classifyMountArgs(args: string[]): MountInvocation {
  const r = getopt(args, IOPKT_SPEC);
  if (!r.ok) {
    // A grammar we don't know is the system mount's, unless it plainly names our type.
    return namesIopktType(args)
      ? { kind: "usage", message: getoptMessage("mount", r) + USAGE }
      : { kind: "system" };
  }
  const type = r.opts.filter((o) => o.opt === "T").map((o) => o.arg ?? "").pop();
  if (type === undefined || !IOPKT_MOUNT_TYPE.test(type)) return { kind: "system" };
  if (r.operands.length < 1 || r.operands.length > 2) return { kind: "usage", message: USAGE };
  const options = r.opts.filter((o) => o.opt === "o").map((o) => o.arg ?? "").join(",");
  return { kind: "iopkt", type, module: r.operands[0], options };
}

/** Sends the mount request; resolves to the errno it failed with, or null. */
async function requestMount(
  ctx: ToolContext,
  inv: { type: string; module: string; options: string },
): Promise<Errno | null> {
  let client;
  try {
    client = await ctx.connect();
  } catch (e) {
    if (!(e instanceof ErrnoError)) throw e;
    // No stack at all: on QNX no server takes the type, and mount(2) says ENOENT.
    return e.code === "EAFNOSUPPORT" ? "ENOENT" : e.code;
  }
  try {
    await client.call({ op: "mount", type: inv.type, module: inv.module, options: inv.options });
    return null;
  } catch (e) {
    if (!(e instanceof ErrnoError)) throw e;
    return e.code;
  } finally {
    client.close();
  }
}

/** Mounts into the stack, printing QNX's two failure lines (each ending in a space). */
async function mountIopkt(
  ctx: ToolContext,
  inv: { type: string; module: string; options: string },
): Promise<number> {
  const errno = await requestMount(ctx, inv);
  if (errno === null) return 0;
  ctx.stderr(`mount: Can't mount ${inv.module} (type ${inv.type}) \n`);
  ctx.stderr(`mount: Possible reason: ${strerror(errno)} \n`);
  return 1;
}

/** The first existing system mount among `candidates`, or null. */
export async function findSystemMount(
  candidates: readonly string[] = SYSTEM_MOUNT_PATHS,
): Promise<string | null> {
  for (const path of candidates) {
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return null;
}

/**
 * Runs the system mount with `args` and the caller's stdio; resolves to its exit
 * code. Throws when none of `candidates` exists.
 */
export async function execSystemMount(
  args: string[],
  candidates: readonly string[] = SYSTEM_MOUNT_PATHS,
): Promise<number> {
  const path = await findSystemMount(candidates);
  if (path === null) {
    throw new Error(`no system mount found (looked for ${candidates.join(", ")})`);
  }
  const child = new Deno.Command(path, {
    args,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
    env: { [DELEGATED_ENV]: "1" },
  }).spawn();
  return (await child.status).code;
}

/** Hands `args` to the system mount, unless we were started by it. */
async function delegate(
  args: string[],
  ctx: ToolContext,
  exec: (args: string[]) => Promise<number>,
): Promise<number> {
  if (ctx.env[DELEGATED_ENV] === "1") {
    ctx.stderr(
      `mount: ${DELEGATED_ENV} is set: the system mount started this one; not delegating again\n`,
    );
    return 1;
  }
  try {
    return await exec(args);
  } catch (e) {
    ctx.stderr(`mount: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/**
 * The `mount` tool: `-T io-pkt[N]|tcpip` invocations mount into a stack; every
 * other invocation runs the system mount. Returns the exit code.
 */
export async function mountMain(
  args: string[],
  ctx: ToolContext,
  opts: MountEffects = {},
): Promise<number> {
  const inv = classifyMountArgs(args);
  if (inv.kind === "system") {
    return await delegate(args, ctx, opts.execSystemMount ?? ((a) => execSystemMount(a)));
  }
  if (inv.kind === "usage") {
    ctx.stderr(inv.message);
    return 1;
  }
  return await mountIopkt(ctx, inv);
}
