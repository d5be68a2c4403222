/**
 * Real processes for integration tests: daemons started through the `bin/`
 * launchers as a user starts them, tools run as a user runs them, and cleanup
 * that happens even when a test fails. Every wait is bounded.
 * @module
 */

import { socketPaths } from "../../core/control/paths.ts";
import { type CmdResult, sh } from "./netns.ts";

/** The checkout's root. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** What a finished process left. */
export type ProcResult = CmdResult;

/** Runs `bin/<cmd> args` with `env` added; bounded by `timeoutMs`. */
export function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<ProcResult> {
  return sh(`${ROOT}bin/${cmd}`, args, timeoutMs, env);
}

/** Waits until `cond()` is true, polling; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function pathExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  return pathExists(`/proc/${pid}`) &&
    !/^State:\s+Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
}

/** A daemon started for a test. */
export class TestDaemon {
  readonly prefix: string;
  readonly pid: number;
  readonly env: Record<string, string>;

  constructor(prefix: string, pid: number) {
    this.prefix = prefix;
    this.pid = pid;
    this.env = { SOCK: prefix };
  }

  /** Runs a tool against this daemon. */
  tool(cmd: string, ...args: string[]): Promise<ProcResult> {
    return run(cmd, args, this.env);
  }

  /** Whether the daemon process still runs. */
  alive(): boolean {
    return processAlive(this.pid);
  }

  /** Sends a signal and waits (bounded) for the process to go. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    if (!this.alive()) return;
    try {
      Deno.kill(this.pid, signal);
    } catch { /* gone */ }
    await waitFor(`daemon ${this.pid} to exit`, () => !this.alive(), 15_000).catch(() => {
      Deno.kill(this.pid, "SIGKILL");
    });
  }
}

/** A fresh temporary prefix directory. */
export function tempPrefix(): string {
  return Deno.makeTempDirSync({ prefix: "iopkt-test-" });
}

/**
 * Starts `bin/<daemon> args` (detaching, as a user would) with `prefix=` added to
 * the tcpip options; returns once it answers.
 */
export async function startDaemon(
  daemon: "io-pkt-v4-hc" | "io-pkt-v6-hc",
  opts: { prefix?: string; args?: string[]; tcpip?: string } = {},
): Promise<TestDaemon> {
  const prefix = opts.prefix ?? tempPrefix();
  const tcpip = ["prefix=" + prefix, ...(opts.tcpip ? [opts.tcpip] : [])].join(",");
  const r = await run(daemon, [...(opts.args ?? []), "-p", "tcpip", tcpip]);
  if (r.code !== 0) throw new Error(`${daemon} failed (${r.code}): ${r.stderr}`);
  const info = await run("sysctl", ["-n", "kern.hostname"], { SOCK: prefix });
  if (info.code !== 0) throw new Error(`daemon does not answer: ${info.stderr}`);
  return new TestDaemon(prefix, await daemonPid(prefix));
}

/** The pid of the daemon serving `prefix`, from its control socket. */
export async function daemonPid(prefix: string): Promise<number> {
  const { connectStack } = await import("../../tools/client.ts");
  const client = await connectStack(prefix);
  try {
    return (await client.call({ op: "info" })).pid;
  } finally {
    client.close();
  }
}

/** Runs `fn` with daemons it starts, stopping them all afterwards, even on failure. */
export async function withDaemons(
  fn: (start: typeof startDaemon) => Promise<void>,
): Promise<void> {
  const started: TestDaemon[] = [];
  const start: typeof startDaemon = async (d, o) => {
    const td = await startDaemon(d, o);
    started.push(td);
    return td;
  };
  try {
    await fn(start);
  } finally {
    for (const d of started) await d.stop();
    for (const d of started) {
      try {
        Deno.removeSync(d.prefix, { recursive: true });
      } catch { /* already gone */ }
    }
  }
}

/** Whether the control socket files of `prefix` exist. */
export function socketsPresent(prefix: string): boolean {
  return pathExists(socketPaths(prefix).config);
}
