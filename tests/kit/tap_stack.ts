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
