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
  /**
   * Starts a capture on the Linux side of the link (null without tcpdump);
   * `headersOnly` keeps the first 128 bytes of each frame we send (and
   * nothing of Linux's), so that bulk transfers stay cheap to check
   * ({@linkcode checkTcpCaptures}).
   */
  capture(opts?: { headersOnly?: boolean }): Promise<Capture | null>;
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
      capture: async (o = {}) => {
        const c = o.headersOnly
          ? await startHeaderCapture(theNs, opts.dev, opts.mac)
          : await startCapture(theNs, opts.dev);
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

/** The snap length of a headers-only capture: Ethernet, IPv6 and a TCP header with options. */
const HEADER_SNAPLEN = 128;

/** Captures of {@linkcode startHeaderCapture}: their TCP checksums cannot be checked. */
const headerCaptures = new WeakSet<Capture>();

/** Starts tcpdump on `dev` in `ns` keeping the headers of frames from `mac`; null without tcpdump. */
async function startHeaderCapture(ns: Netns, dev: string, mac: string): Promise<Capture | null> {
  if (!which("tcpdump")) return null;
  const file = Deno.makeTempFileSync({ suffix: ".pcap" });
  const proc = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      ns.name,
      "tcpdump",
      "--immediate-mode",
      "-s",
      String(HEADER_SNAPLEN),
      "-i",
      dev,
      "-U",
      "-n",
      "-w",
      file,
      "ether",
      "src",
      mac,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitFor("tcpdump to open the capture", () => Deno.statSync(file).size > 0, 10_000);
  let stopped = false;
  const cap: Capture = {
    file,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        proc.kill("SIGTERM");
      } catch { /* exited */ }
      await proc.status;
    },
  };
  headerCaptures.add(cap);
  return cap;
}

/**
 * Stops `captures` and asserts tshark's verdict on the frames from `mac`:
 * nothing malformed or flagged as an error, no bad IPv4 or TCP checksum, no
 * TCP segment carrying more than the MSS of a 1500-byte link (1460 bytes over
 * IPv4, 1440 over IPv6), and at least `atLeast` frames in all (in a
 * headers-only capture: the sizes and IPv4 checksums only). Returns how many
 * frames were checked (null without tshark).
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
    const tooBig = "(ip && tcp.len > 1460) || (ipv6 && tcp.len > 1440)";
    const headersOnly = headerCaptures.has(cap);
    // Headers only: no TCP checksum to check, and no sequence analysis (it
    // makes tshark several times slower on a bulk transfer).
    const bad = await sh(
      "tshark",
      headersOnly
        ? [
          "-r",
          cap.file,
          "-o",
          "ip.check_checksum:TRUE",
          "-o",
          "tcp.analyze_sequence_numbers:FALSE",
          "-Y",
          `${from} && (ip.checksum.status == 0 || ${tooBig})`,
        ]
        : [
          "-r",
          cap.file,
          "-o",
          "ip.check_checksum:TRUE",
          "-o",
          "tcp.check_checksum:TRUE",
          "-Y",
          `${from} && (_ws.malformed || _ws.expert.severity >= error || ` +
          `ip.checksum.status == 0 || tcp.checksum.status == 0 || ${tooBig})`,
        ],
      120_000,
    );
    if (bad.code !== 0) throw new Error(`tshark failed: ${bad.stderr}`);
    assert.equal(bad.stdout.trim(), "", "frames malformed, with bad checksums, or above the MSS");
    frames += headersOnly && which("capinfos")
      ? await frameCount(cap.file)
      : await matching(cap.file, from);
  }
  assert.ok(frames >= atLeast, `the captures hold our frames (${frames})`);
  return frames;
}

/** Frames in a capture (all of them: a headers-only capture holds ours only). */
async function frameCount(file: string): Promise<number> {
  const r = await sh("capinfos", ["-c", "-M", "-T", "-r", file]);
  if (r.code !== 0) throw new Error(`capinfos failed: ${r.stderr}`);
  return Number(r.stdout.trim().split("\t").pop());
}

/** Frames matching a display filter. */
async function matching(file: string, filter: string): Promise<number> {
  const r = await sh("tshark", ["-r", file, "-Y", filter], 120_000);
  if (r.code !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  return r.stdout.trim() === "" ? 0 : r.stdout.trim().split("\n").length;
}
