/**
 * An embedded stack (a `Stack` in the test's own process) on a Linux TAP
 * device that sits in a network namespace the test made, and long-running
 * Linux programs in that namespace whose output a test waits on.
 *
 * The TAP driver is loaded as the daemon loads it (`DriverManager`, the
 * `-d tap` path), the stack runs on the real clock with its timers driven as
 * the daemon drives them, and the device is moved into the namespace before
 * it is brought up. Addresses are checked to be from the documentation ranges.
 * @module
 */

import { Stack } from "../../core/stack.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { DriverManager } from "../../daemon/drivers.ts";
import { driveTimers, monotonicNow } from "../../daemon/clock.ts";
import { assertDocAddress, Netns } from "./netns.ts";
import { type Capture, startCapture } from "./capture.ts";
import { waitFor } from "./processes.ts";

/** What {@linkcode tapStack} builds. */
export interface TapStackOptions {
  /** The Linux device name (unique to the test process). */
  dev: string;
  /** Our MAC address on the TAP device. */
  mac: string;
  /** Linux's addresses on the device, with prefix length (`192.0.2.1/24`). */
  linux: string[];
  /** Our IPv4 address (/24 assumed). */
  ours4: string;
  /** Our IPv6 address (/64 assumed). */
  ours6: string;
  /** Capture the link with tcpdump on the Linux side (when installed). */
  capture?: boolean;
}

/** An embedded stack on a TAP device in a namespace; `close()` removes it all. */
export interface TapStack {
  stack: Stack;
  ns: Netns;
  /** The Linux device name. */
  dev: string;
  /** The stack's interface name (`en0`) and index. */
  ifName: string;
  ifIndex: number;
  capture: Capture | null;
  /** What the stack logged. */
  log: string[];
  close(): Promise<void>;
}

/**
 * Makes a stack with both families, loads the TAP driver into it, moves the
 * device into a new namespace, addresses both ends, and waits for our IPv6
 * address to finish DAD. Everything made is removed if a step fails.
 */
export async function tapStack(opts: TapStackOptions): Promise<TapStack> {
  assertDocAddress(opts.ours4);
  assertDocAddress(opts.ours6);
  const log: string[] = [];
  const stack = new Stack({ inet6: true, clock: monotonicNow, log: (l) => log.push(l) });
  let stopTimers: (() => void) | null = null;
  let ns: Netns | null = null;
  let capture: Capture | null = null;
  let ifName = "";
  const close = async () => {
    await capture?.stop();
    stopTimers?.();
    // Destroying the interface releases the TAP device (and with it the driver's reads).
    if (ifName !== "") {
      try {
        stack.destroyInterface(ifName);
      } catch { /* already gone */ }
    }
    await ns?.close();
    if (capture) {
      try {
        Deno.removeSync(capture.file);
      } catch { /* kept or gone */ }
    }
  };
  try {
    const drivers = new DriverManager(stack, (l) => log.push(l));
    [ifName] = await drivers.load("tap", `host=${opts.dev},name=en,mac=${opts.mac}`);
    stopTimers = driveTimers(stack);
    ns = await Netns.create();
    await ns.adopt(opts.dev, opts.linux);
    if (opts.capture) capture = await startCapture(ns, opts.dev);
    stack.setFlags(ifName, IFF.UP, 0);
    stack.addAddress(ifName, { family: "inet", addr: opts.ours4, netmask: "255.255.255.0" });
    stack.addAddress(ifName, { family: "inet6", addr: opts.ours6, prefixlen: 64 });
    const name = ifName;
    await waitFor(
      "DAD on our IPv6 addresses",
      () =>
        stack.ifInfo(name)[0].addrs.every((a) =>
          a.family !== "inet6" || !a.flags.includes("tentative")
        ),
      15_000,
    );
    return {
      stack,
      ns,
      dev: opts.dev,
      ifName,
      ifIndex: stack.ifInfo(ifName)[0].index,
      capture,
      log,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A program running inside a namespace, its stdin open, its stdout and stderr collected. */
export class NsProcess {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reads: Promise<void>[];
  #out = "";
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

  /** Starts `cmd args` inside `ns`. */
  static spawn(ns: Netns, cmd: string, args: string[]): NsProcess {
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", ns.name, cmd, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new NsProcess(child);
  }

  /** What it wrote to stdout so far. */
  get stdout(): string {
    return this.#out;
  }

  /** What it wrote to stderr so far. */
  get stderr(): string {
    return this.#err;
  }

  /** Writes to its stdin. */
  async write(data: string | Uint8Array): Promise<void> {
    await this.#stdin.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
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
