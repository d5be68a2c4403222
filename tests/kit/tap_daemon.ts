/**
 * A real io-pkt daemon (`bin/io-pkt-v6-hc -d tap ...`) whose TAP device sits in
 * a network namespace the test made, addressed on both ends for both
 * families, optionally with the daemon's own fault injector on the link
 * (`delay=`, `jitter=`, `reorder=`... among the driver options) and a
 * capture on the Linux side; and a full-frame TCP check of such a capture
 * (checksums included, which `capture.ts` leaves to UDP and ICMP).
 *
 * Programs of ours reach the daemon with `SOCK=<prefix>` (`rig.daemon.env`).
 * `close()` removes everything even when setup failed half-way.
 * @module
 */

import assert from "node:assert/strict";
import { type Capture, startCapture } from "./capture.ts";
import { linkExists, Netns, sh, which } from "./netns.ts";
import { startDaemon, type TestDaemon, waitFor } from "./processes.ts";

/** What {@linkcode tapDaemon} builds. */
export interface TapDaemon {
  daemon: TestDaemon;
  ns: Netns;
  /** The Linux device name. */
  dev: string;
  /** Our MAC on the link. */
  mac: string;
  linux4: string;
  linux6: string;
  ours4: string;
  ours6: string;
  /** Captures started with {@linkcode TapDaemon.capture}, for the final check. */
  captures: Capture[];
  /** Starts a capture on the Linux side of the link (null without tcpdump). */
  capture(): Promise<Capture | null>;
  close(): Promise<void>;
}

/**
 * Starts the v6 daemon with a TAP device named `dev` (plus `driverExtra`
 * options, e.g. `delay=5,reorder=2%`), moves the device into a new namespace
 * (192.0.2.1, 2001:db8::1 there; 192.0.2.2, 2001:db8::2 ours) and waits for
 * our IPv6 address to finish DAD.
 */
export async function tapDaemon(
  opts: { dev: string; mac: string; driverExtra?: string },
): Promise<TapDaemon> {
  const driver = [`host=${opts.dev}`, "name=en", `mac=${opts.mac}`];
  if (opts.driverExtra) driver.push(opts.driverExtra);
  let daemon: TestDaemon | null = null;
  let ns: Netns | null = null;
  const captures: Capture[] = [];
  const close = async () => {
    for (const c of captures) {
      await c.stop();
      try {
        Deno.removeSync(c.file);
      } catch { /* gone */ }
    }
    if (daemon) {
      await daemon.stop();
      try {
        Deno.removeSync(daemon.prefix, { recursive: true });
      } catch { /* gone */ }
    }
    await ns?.close();
    // A daemon killed before the move leaves the device in the root namespace.
    if (await linkExists(opts.dev)) await sh("ip", ["link", "del", opts.dev]);
  };
  try {
    daemon = await startDaemon("io-pkt-v6-hc", { args: ["-d", "tap", driver.join(",")] });
    ns = await Netns.create();
    await waitFor("the TAP device", () => linkExists(opts.dev));
    await ns.adopt(opts.dev, ["192.0.2.1/24", "2001:db8::1/64"]);
    const d = daemon;
    for (const args of [["up"], ["192.0.2.2/24"], ["inet6", "2001:db8::2", "prefixlen", "64"]]) {
      const r = await d.tool("ifconfig", "en0", ...args);
      if (r.code !== 0) throw new Error(`ifconfig en0 ${args.join(" ")}: ${r.stderr}`);
    }
    await waitFor("DAD on en0", async () => {
      const out = (await d.tool("ifconfig", "en0")).stdout;
      return out.includes("inet6 2001:db8::2") && !out.includes("tentative");
    }, 15_000);
    const theNs = ns;
    return {
      daemon: d,
      ns: theNs,
      dev: opts.dev,
      mac: opts.mac,
      linux4: "192.0.2.1",
      linux6: "2001:db8::1",
      ours4: "192.0.2.2",
      ours6: "2001:db8::2",
      captures,
      capture: async () => {
        const c = await startCapture(theNs, opts.dev);
        if (c) captures.push(c);
        return c;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Stops `captures` and asserts tshark's verdict on the frames from `mac`:
 * nothing malformed or flagged as an error, no bad IPv4 or TCP checksum, no
 * TCP segment carrying more than the MSS of a 1500-byte link (1460 bytes over
 * IPv4, 1440 over IPv6), and at least `atLeast` frames in all. Returns how
 * many frames were checked (null without tshark).
 */
export async function checkTcpCaptures(
  captures: (Capture | null)[],
  mac: string,
  atLeast = 10,
): Promise<number | null> {
  if (!which("tshark")) return null;
  let frames = 0;
  for (const cap of captures) {
    if (!cap) continue;
    await cap.stop();
    const from = `eth.src == ${mac}`;
    const bad = await sh("tshark", [
      "-r",
      cap.file,
      "-o",
      "ip.check_checksum:TRUE",
      "-o",
      "tcp.check_checksum:TRUE",
      "-Y",
      `${from} && (_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || ` +
      `tcp.checksum.status == 0 || (ip && tcp.len > 1460) || (ipv6 && tcp.len > 1440))`,
    ], 120_000);
    if (bad.code !== 0) throw new Error(`tshark failed: ${bad.stderr}`);
    assert.equal(bad.stdout.trim(), "", "frames malformed, with bad checksums, or above the MSS");
    const all = await sh("tshark", ["-r", cap.file, "-Y", from], 120_000);
    frames += all.stdout.trim() === "" ? 0 : all.stdout.trim().split("\n").length;
  }
  assert.ok(frames >= atLeast, `the captures hold our frames (${frames})`);
  return frames;
}
