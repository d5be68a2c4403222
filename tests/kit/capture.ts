/**
 * Packet captures on the Linux side of a TAP device, inside a test's namespace,
 * and tshark's verdict on the frames our stack sent.
 * @module
 */

import assert from "node:assert/strict";
import { type Netns, sh, which } from "./netns.ts";
import { waitFor } from "./processes.ts";

/** A running tcpdump. */
export interface Capture {
  file: string;
  stop(): Promise<void>;
}

/** Starts tcpdump on `dev` inside `ns`; `null` when tcpdump is not installed. */
export async function startCapture(ns: Netns, dev: string): Promise<Capture | null> {
  if (!which("tcpdump")) return null;
  const file = Deno.makeTempFileSync({ suffix: ".pcap" });
  const proc = new Deno.Command("ip", {
    // Immediate mode: without it libpcap hands packets over in blocks on a timer, and a
    // capture stopped soon after the last packet would lose the final block.
    args: [
      "netns",
      "exec",
      ns.name,
      "tcpdump",
      "--immediate-mode",
      "-i",
      dev,
      "-U",
      "-n",
      "-w",
      file,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  // tcpdump writes the file header once the capture is open.
  await waitFor("tcpdump to open the capture", () => Deno.statSync(file).size > 0, 10_000);
  let stopped = false;
  return {
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
}

/**
 * The frames from `mac` in the capture that tshark finds malformed, flags as
 * errors, or whose IPv4, UDP, ICMP, IGMP or ICMPv6 checksum is bad (one line each), and how
 * many frames from `mac` there were. `null` when tshark is not installed.
 */
export async function tsharkVerdict(
  file: string,
  mac: string,
): Promise<{ bad: string; frames: number } | null> {
  if (!which("tshark")) return null;
  const from = `eth.src == ${mac}`;
  const badFilter = `${from} && (_ws.malformed || _ws.expert.severity >= error || ` +
    `ip.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0 || ` +
    `icmpv6.checksum.status == 0 || igmp.checksum.status == 0)`;
  const bad = await sh("tshark", [
    "-r",
    file,
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
    "-Y",
    badFilter,
  ]);
  if (bad.code !== 0) throw new Error(`tshark failed: ${bad.stderr}`);
  const all = await sh("tshark", ["-r", file, "-Y", from]);
  const frames = all.stdout.trim() === "" ? 0 : all.stdout.trim().split("\n").length;
  return { bad: bad.stdout.trim(), frames };
}

/**
 * Stops the captures and asserts that tshark finds nothing wrong in the frames
 * from `macs[i]` in capture `i`, and that there were at least `atLeast` of them.
 */
export async function checkCaptures(
  captures: (Capture | null)[],
  macs: string[],
  atLeast = 4,
): Promise<void> {
  for (const [i, cap] of captures.entries()) {
    if (!cap) continue;
    await cap.stop();
    const verdict = await tsharkVerdict(cap.file, macs[i]);
    if (!verdict) continue;
    assert.equal(verdict.bad, "", "frames tshark finds malformed or with bad checksums");
    assert.ok(verdict.frames >= atLeast, `the capture holds our frames (${verdict.frames})`);
  }
}

/** How many frames in the capture match the display filter; `null` when tshark is not installed. */
export async function tsharkCount(file: string, filter: string): Promise<number | null> {
  if (!which("tshark")) return null;
  const r = await sh("tshark", ["-r", file, "-Y", filter]);
  if (r.code !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  return r.stdout.trim() === "" ? 0 : r.stdout.trim().split("\n").length;
}
