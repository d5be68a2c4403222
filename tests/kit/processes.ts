/**
 * Real processes for integration tests: daemons started through the `bin/`
 * launchers as a user starts them, tools run as a user runs them, and cleanup
 * that happens even when a test fails. Every wait is bounded.
 * @module
 */

import { socketPaths } from "../../core/control/paths.ts";
import { type CmdResult, type Netns, sh } from "./netns.ts";

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

/**
 * A long-running program of a test (a Linux server in a namespace, a client
 * program of ours), its stdin open, its stdout and stderr collected; every
 * wait is bounded and `stop()` kills it.
 */
export class LiveProcess {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reads: Promise<void>[];
  #out = "";
  /** How much of stdout `nextLine` has handed out. */
  #taken = 0;
  #err = "";
  #stopped = false;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    const decoder = new TextDecoder();
    const drain = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
      for await (const chunk of s) add(decoder.decode(chunk, { stream: true }));
    };
    this.#reads = [
      drain(child.stdout, (t) => this.#out += t),
      drain(child.stderr, (t) => this.#err += t),
    ];
  }

  /** Starts `cmd args` (with `env` added to the environment). */
  static spawn(cmd: string, args: string[], env?: Record<string, string>): LiveProcess {
    const child = new Deno.Command(cmd, {
      args,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new LiveProcess(child);
  }

  /** Starts `cmd args` inside `ns`. */
  static inNs(ns: Netns, cmd: string, args: string[]): LiveProcess {
    return LiveProcess.spawn("ip", ["netns", "exec", ns.name, cmd, ...args]);
  }

  /** What it wrote to stdout so far. */
  get stdout(): string {
    return this.#out;
  }

  /** What it wrote to stderr so far. */
  get stderr(): string {
    return this.#err;
  }

  /** The next line of its stdout not yet taken (bounded wait). */
  async nextLine(timeoutMs = 30_000): Promise<string> {
    await this.waitOutput("a line", (out) => out.indexOf("\n", this.#taken) >= 0, timeoutMs);
    const end = this.#out.indexOf("\n", this.#taken);
    const line = this.#out.slice(this.#taken, end);
    this.#taken = end + 1;
    return line;
  }

  /** Writes to its stdin. */
  async write(data: string | Uint8Array): Promise<void> {
    await this.#stdin.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
  }

  /** Closes its stdin (the program reads the end of its input). */
  async closeInput(): Promise<void> {
    await this.#stdin.close();
  }

  /** Waits (bounded) until its stdout satisfies `cond`. */
  async waitOutput(what: string, cond: (out: string) => boolean, timeoutMs = 10_000) {
    try {
      await waitFor(what, () => cond(this.#out), timeoutMs);
    } catch (e) {
      throw new Error(`${(e as Error).message}; stdout ${this.#out}; stderr ${this.#err}`);
    }
  }

  /** Waits (bounded) for it to exit by itself; returns its exit code. */
  async exited(timeoutMs = 10_000): Promise<number> {
    const timer = setTimeout(() => this.#kill(), timeoutMs);
    try {
      const status = await this.#child.status;
      await Promise.all(this.#reads);
      this.#stopped = true;
      return status.code;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills it (if still running) and waits for it and its output streams. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      await this.#stdin.close();
    } catch { /* it exited */ }
    this.#kill();
    await this.#child.status;
    await Promise.all(this.#reads);
  }

  #kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* exited */ }
  }
}
