/**
 * Detaching like io-pkt's `procmgr_daemon()`, in a runtime that cannot fork:
 * the command starts a copy of itself in a new session (`-f`, so the copy stays
 * put), waits until that copy's control socket answers, then exits 0. If the
 * copy dies first, it prints the copy's last log lines and exits 1.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await detachAndWait({ command: "io-pkt-v6-hc", argv: Deno.args, prefix: "/tmp/a",
 *   logFile: "/tmp/a/var/log/io-pkt.log", verbose: false }));
 * ```
 * @module
 */

import { connectStack } from "../tools/client.ts";

/** How long the launching process waits for the daemon to answer. */
const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 20;

/** Set in the daemon copy's environment, so it logs to its file rather than stderr. */
export const DETACHED_ENV = "IOPKT_DETACHED";

/** What {@linkcode detachAndWait} needs. */
export interface DetachOptions {
  /** The command name (`io-pkt-v6-hc`), for its permissions line in cmd/permissions. */
  command: string;
  argv: string[];
  prefix: string;
  logFile: string;
  /** `-v`: the daemon keeps printing errors on this terminal. */
  verbose: boolean;
}

/** Whether this process is a `deno compile` binary (its main module is embedded). */
function isCompiled(): boolean {
  return Deno.mainModule.includes("/deno-compile-");
}

/** The command line that runs this same program again. */
async function selfCommand(command: string): Promise<string[]> {
  if (isCompiled()) return [];
  const table = await Deno.readTextFile(new URL("../cmd/permissions", import.meta.url));
  const line = table.split("\n").find((l) => l.split(/\s+/)[0] === command);
  const perms = line ? line.trim().split(/\s+/).slice(1) : ["--allow-all"];
  return ["run", "--quiet", "--no-prompt", "--no-config", ...perms, Deno.mainModule];
}

async function answeredBy(prefix: string, pid: number): Promise<boolean> {
  try {
    const client = await connectStack(prefix);
    try {
      return (await client.call({ op: "info" })).pid === pid;
    } finally {
      client.close();
    }
  } catch {
    return false;
  }
}

function logTail(file: string, lines = 10): string {
  try {
    return Deno.readTextFileSync(file).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Starts the daemon copy and waits for it; returns the exit code for this process. */
export async function detachAndWait(opts: DetachOptions): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...await selfCommand(opts.command), "-f", ...opts.argv],
    env: { [DETACHED_ENV]: "1" },
    stdin: "null",
    stdout: "null",
    stderr: opts.verbose ? "inherit" : "null",
    detached: true,
  }).spawn();
  let exited: Deno.CommandStatus | null = null;
  child.status.then((s) => {
    exited = s;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await answeredBy(opts.prefix, child.pid)) {
      child.unref();
      return 0;
    }
    if (exited) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const status = exited as Deno.CommandStatus | null;
  const why = status
    ? `exited with code ${status.code}`
    : `did not answer within ${READY_TIMEOUT_MS / 1000} s`;
  const tail = logTail(opts.logFile);
  console.error(
    `${opts.command}: the stack ${why} (log: ${opts.logFile})${tail ? `\n${tail}` : ""}`,
  );
  if (!status) {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
  }
  child.unref();
  return 1;
}
