/**
 * Side-by-side network figures, in one run (root and /dev/net/tun needed):
 *
 * 1. Ping RTT: Linux pinging the stack over a TAP device, beside Linux pinging
 *    Linux over a veth pair; medians of the per-packet times, and their ratio.
 * 2. Forwarding rate: frames per second the stack forwards between two TAP
 *    interfaces under a flood ping with a preload window, beside a Linux
 *    namespace forwarding between two veth pairs under the same load.
 *
 * Everything lives in namespaces this script makes and removes; addresses are
 * from the documentation ranges. Reports figures; asserts nothing.
 *
 *   bin/deno run --allow-all bench/net_bench.ts [pings] [flood-count]
 * @module
 */

import { interopUnavailable, linkExists, Netns, sh } from "../tests/kit/netns.ts";
import { startDaemon, waitFor } from "../tests/kit/processes.ts";

const PINGS = Number(Deno.args[0] ?? 200);
const FLOOD = Number(Deno.args[1] ?? 20000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

/** Per-packet times (ms) from Linux ping output. */
function pingTimes(out: string): number[] {
  return [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
}

async function rtt(ns: Netns, addr: string): Promise<number[]> {
  const r = await ns.exec("ping", ["-c", String(PINGS), "-i", "0.01", "-W", "1", addr], 120_000);
  return pingTimes(r.stdout);
}

/** Flood ping with a window of 64 in flight; returns replies per second (each reply = 2 forwarded frames). */
async function flood(
  ns: Netns,
  addr: string,
): Promise<{ fps: number; received: number; ms: number }> {
  const t0 = performance.now();
  const r = await ns.exec(
    "ping",
    ["-f", "-l", "64", "-c", String(FLOOD), "-W", "1", "-q", addr],
    180_000,
  );
  const ms = performance.now() - t0;
  const received = Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
  return { fps: (2 * received) / (ms / 1000), received, ms };
}

async function veth(
  a: Netns,
  b: Netns,
  aName: string,
  bName: string,
  aAddr: string,
  bAddr: string,
) {
  await sh("ip", ["link", "add", aName, "type", "veth", "peer", "name", bName]);
  await a.adopt(aName, [aAddr]);
  await b.adopt(bName, [bAddr]);
}

const why = interopUnavailable();
if (why) {
  console.log(`net_bench skipped: ${why}`);
  Deno.exit(0);
}

const tag = Deno.pid % 100000;
const cleanup: (() => Promise<void>)[] = [];
try {
  // The stack: one TAP for RTT, two more for forwarding.
  const d = await startDaemon("io-pkt-v4-hc", {
    args: [
      "-d",
      "tap",
      `host=bq${tag}a,name=en`,
      "-d",
      "tap",
      `host=bq${tag}l,name=en`,
      "-d",
      "tap",
      `host=bq${tag}r,name=en`,
    ],
  });
  cleanup.push(async () => {
    await d.stop();
    Deno.removeSync(d.prefix, { recursive: true });
  });
  await waitFor(
    "the TAP devices",
    async () =>
      (await linkExists(`bq${tag}a`)) && (await linkExists(`bq${tag}l`)) &&
      (await linkExists(`bq${tag}r`)),
  );
  const nsA = await Netns.create(), nsL = await Netns.create(), nsR = await Netns.create();
  const nsB = await Netns.create(), nsC = await Netns.create();
  const nsX = await Netns.create(), nsY = await Netns.create(), nsRouter = await Netns.create();
  for (const ns of [nsA, nsL, nsR, nsB, nsC, nsX, nsY, nsRouter]) cleanup.push(() => ns.close());

  await nsA.adopt(`bq${tag}a`, ["192.0.2.1/24"]);
  await nsL.adopt(`bq${tag}l`, ["198.51.100.1/24"]);
  await nsR.adopt(`bq${tag}r`, ["203.0.113.1/24"]);
  await d.tool("ifconfig", "en0", "192.0.2.2/24");
  await d.tool("ifconfig", "en1", "198.51.100.2/24");
  await d.tool("ifconfig", "en2", "203.0.113.2/24");
  await d.tool("sysctl", "-w", "net.inet.ip.forwarding=1");
  await nsL.route("default", "198.51.100.2");
  await nsR.route("default", "203.0.113.2");

  // Linux beside it: a veth pair for RTT, and a Linux router between two veth pairs.
  await veth(nsB, nsC, `bv${tag}b`, `bv${tag}c`, "192.0.2.11/24", "192.0.2.12/24");
  await veth(nsX, nsRouter, `bv${tag}x`, `bv${tag}p`, "198.51.100.11/24", "198.51.100.12/24");
  await veth(nsY, nsRouter, `bv${tag}y`, `bv${tag}q`, "203.0.113.11/24", "203.0.113.12/24");
  await nsRouter.run("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
  await nsX.route("default", "198.51.100.12");
  await nsY.route("default", "203.0.113.12");

  // Warm both paths (ARP, JIT), then measure alternately.
  await rtt(nsA, "192.0.2.2");
  await rtt(nsB, "192.0.2.12");
  const ours = await rtt(nsA, "192.0.2.2");
  const linux = await rtt(nsB, "192.0.2.12");
  const mo = median(ours), ml = median(linux);
  console.log(`ping RTT, ${PINGS} pings each (median ms)`);
  console.log(`  Linux -> io-pkt over TAP   ${mo.toFixed(3)}  (${ours.length} replies)`);
  console.log(`  Linux -> Linux over veth   ${ml.toFixed(3)}  (${linux.length} replies)`);
  console.log(`  ratio                      ${(mo / ml).toFixed(1)}`);

  await flood(nsL, "203.0.113.1");
  const fo = await flood(nsL, "203.0.113.1");
  const fl = await flood(nsX, "203.0.113.11");
  console.log(`forwarding, flood ping -l 64, ${FLOOD} requests (frames/s forwarded)`);
  console.log(
    `  io-pkt between two TAPs    ${fo.fps.toFixed(0)}  (${fo.received} replies in ${
      fo.ms.toFixed(0)
    } ms)`,
  );
  console.log(
    `  Linux between two veths    ${fl.fps.toFixed(0)}  (${fl.received} replies in ${
      fl.ms.toFixed(0)
    } ms)`,
  );
  console.log(`  ratio                      ${(fo.fps / fl.fps).toFixed(2)}`);
} finally {
  for (const c of cleanup.reverse()) await c().catch(() => {});
}
