/**
 * Idle latency, side by side, in one run (root and /dev/net/tun needed):
 * Linux pings
 *
 *   (a) this stack on a TAP device (the daemon, `-d tap`), and the same daemon
 *       started with `IOPKT_NO_WARMUP=1` (no JIT warm-up at start: its first
 *       few hundred idle pings run interpreted code),
 *   (b) native lwIP on a TAP device (`bench/lwip_tap.c`, built here with gcc
 *       against Debian's `liblwip-dev`; skipped with the reason when either is
 *       missing),
 *   (c) Linux over a veth pair,
 *
 * at 10 ms spacing (where each ping finds the responder idle) and at 0.2 ms,
 * in alternating rounds so that drifts in machine load hit all three alike.
 * Reports the average and median per-packet RTT and the ratios to lwIP and to
 * Linux, then the daemon's CPU use while idle (a spinning driver shows there).
 *
 * Everything lives in namespaces this script makes and removes; addresses are
 * from the documentation ranges. Reports figures; asserts nothing.
 *
 *   bin/bench latency [pings-per-round] [rounds]
 * @module
 */

import { interopUnavailable, linkExists, Netns, sh, which } from "../tests/kit/netns.ts";
import { startDaemon, type TestDaemon, waitFor } from "../tests/kit/processes.ts";

const PINGS = Number(Deno.args[0] ?? 200);
const ROUNDS = Number(Deno.args[1] ?? 3);
const SPACINGS = [0.01, 0.0002];

function average(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

/** Per-packet times (ms) from Linux ping output. */
function pingTimes(out: string): number[] {
  return [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
}

async function ping(ns: Netns, addr: string, spacing: number, count: number): Promise<number[]> {
  const r = await ns.exec(
    "ping",
    ["-c", String(count), "-i", String(spacing), "-W", "1", addr],
    120_000,
  );
  return pingTimes(r.stdout);
}

/** Builds the lwIP responder into `dir`; its path, or why it cannot be had. */
async function buildLwip(dir: string): Promise<{ exe: string } | { skip: string }> {
  if (!which("gcc")) return { skip: "gcc is not installed" };
  const flags = await sh("pkg-config", ["--cflags", "--libs", "lwip"]);
  if (flags.code !== 0) {
    return { skip: "liblwip-dev is not installed (apt-get install liblwip-dev)" };
  }
  const exe = `${dir}/lwip_tap`;
  const src = new URL("./lwip_tap.c", import.meta.url).pathname;
  const cc = await sh("gcc", ["-O2", "-o", exe, src, ...flags.stdout.trim().split(/\s+/)]);
  if (cc.code !== 0) return { skip: `gcc failed: ${cc.stderr.trim().split("\n")[0]}` };
  return { exe };
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ)
}

interface Target {
  label: string;
  ns: Netns;
  addr: string;
}

const why = interopUnavailable();
if (why) {
  console.log(`latency_bench skipped: ${why}`);
  Deno.exit(0);
}

const tag = Deno.pid % 100000;
const cleanup: (() => Promise<void>)[] = [];
try {
  const targets: Target[] = [];

  // (a) the stack on a TAP, with and without the JIT warm-up (each in its own namespace)
  let d: TestDaemon | undefined;
  for (const warm of [true, false]) {
    const dev = `bl${tag}${warm ? "a" : "n"}`;
    if (!warm) Deno.env.set("IOPKT_NO_WARMUP", "1");
    const daemon = await startDaemon("io-pkt-v4-hc", { args: ["-d", "tap", `host=${dev},name=en`] })
      .finally(() => Deno.env.delete("IOPKT_NO_WARMUP"));
    cleanup.push(async () => {
      await daemon.stop();
      Deno.removeSync(daemon.prefix, { recursive: true });
    });
    await waitFor("the TAP device", () => linkExists(dev));
    const ns = await Netns.create();
    cleanup.push(() => ns.close());
    await ns.adopt(dev, ["192.0.2.1/24"]);
    await daemon.tool("ifconfig", "en0", "192.0.2.2/24");
    targets.push({ label: warm ? "io-pkt over TAP" : "io-pkt, no warm-up", ns, addr: "192.0.2.2" });
    d ??= daemon;
  }

  // (b) lwIP on a TAP
  const tmp = Deno.makeTempDirSync({ prefix: "iopkt-bench-" });
  cleanup.push(() => Deno.remove(tmp, { recursive: true }));
  const lwip = await buildLwip(tmp);
  if ("skip" in lwip) {
    console.log(`lwIP skipped: ${lwip.skip}`);
  } else {
    const child = new Deno.Command(lwip.exe, {
      args: [`bl${tag}w`, "198.51.100.2", "255.255.255.0"],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    cleanup.push(async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    });
    const first = await child.stdout.getReader().read();
    if (!new TextDecoder().decode(first.value ?? new Uint8Array()).startsWith("ready")) {
      throw new Error("lwip_tap did not start");
    }
    const nsW = await Netns.create();
    cleanup.push(() => nsW.close());
    await nsW.adopt(`bl${tag}w`, ["198.51.100.1/24"]);
    targets.push({ label: "lwIP over TAP", ns: nsW, addr: "198.51.100.2" });
  }

  // (c) Linux over veth
  const nsB = await Netns.create(), nsC = await Netns.create();
  cleanup.push(() => nsB.close(), () => nsC.close());
  await sh("ip", ["link", "add", `bv${tag}b`, "type", "veth", "peer", "name", `bv${tag}c`]);
  await nsB.adopt(`bv${tag}b`, ["203.0.113.1/24"]);
  await nsC.adopt(`bv${tag}c`, ["203.0.113.2/24"]);
  targets.push({ label: "Linux over veth", ns: nsB, addr: "203.0.113.2" });

  // Warm every path (ARP, JIT).
  for (const t of targets) await ping(t.ns, t.addr, 0.01, 50);

  const times = new Map<string, number[]>();
  for (const spacing of SPACINGS) {
    for (const t of targets) times.set(`${t.label}@${spacing}`, []);
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of targets) {
        times.get(`${t.label}@${spacing}`)!.push(...await ping(t.ns, t.addr, spacing, PINGS));
      }
    }
  }

  for (const spacing of SPACINGS) {
    console.log(
      `ping RTT at ${
        spacing * 1000
      } ms spacing, ${ROUNDS} rounds of ${PINGS} (ms; ratios of averages)`,
    );
    const avg = (label: string) => average(times.get(`${label}@${spacing}`) ?? []);
    const lwipAvg = avg("lwIP over TAP"), linuxAvg = avg("Linux over veth");
    for (const t of targets) {
      const xs = times.get(`${t.label}@${spacing}`)!;
      const a = average(xs);
      const vsLwip = Number.isNaN(lwipAvg) ? "" : `  x${(a / lwipAvg).toFixed(2)} lwIP`;
      console.log(
        `  ${t.label.padEnd(19)} avg ${a.toFixed(3)}  median ${
          median(xs).toFixed(3)
        }  (${xs.length})` +
          `${vsLwip}  x${(a / linuxAvg).toFixed(2)} Linux`,
      );
    }
  }

  const IDLE_MS = 3000;
  const c0 = cpuSeconds(d!.pid);
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const idle = (cpuSeconds(d!.pid) - c0) / (IDLE_MS / 1000);
  console.log(`daemon CPU while idle: ${(idle * 100).toFixed(1)} % of one core over ${IDLE_MS} ms`);
} finally {
  for (const c of cleanup.reverse()) await c().catch(() => {});
}
