/**
 * UDP throughput and echo latency, side by side in one run (root and
 * /dev/net/tun needed; skipped with the reason otherwise):
 *
 *   (a) a stack embedded in this process, on a TAP device, sending to a
 *       receiver in the TAP's namespace;
 *   (b) Linux to Linux over a veth pair, a sender to the same receiver;
 *
 * Linux's sender, receiver, echo socket and echo client are one small C
 * program (`bench/udp_peer.c`, built here with gcc; skipped without it).
 *
 * For 64-byte and 1472-byte payloads (one frame at MTU 1500), reports what the
 * receiver counted: datagrams/s and Gbit/s of UDP payload between its first
 * and last datagram, and how many of those sent arrived. Then the round trip
 * of a 1-byte datagram echo, the same client in each case: against the
 * embedded stack's echo socket, and against Linux's over veth.
 * Reports figures; asserts nothing.
 *
 *   bin/bench udp [datagrams] [echoes]     (or deno run --allow-all bench/udp_bench.ts)
 * @module
 */

import { interopUnavailable, Netns, sh, which } from "../tests/kit/netns.ts";
import { waitFor } from "../tests/kit/processes.ts";
import { tapStack } from "../tests/kit/tap_stack.ts";

const COUNT = Number(Deno.args[0] ?? 200_000);
const ECHOES = Number(Deno.args[1] ?? 5_000);
const SIZES = [64, 1472];
const PORT = 9500;

/** Builds bench/udp_peer.c (Linux's native side) into a temporary directory. */
async function buildPeer(): Promise<{ exe: string } | { skip: string }> {
  if (!which("gcc")) return { skip: "gcc is not installed" };
  const dir = Deno.makeTempDirSync({ prefix: "udp_bench" });
  const exe = `${dir}/udp_peer`;
  const src = new URL("./udp_peer.c", import.meta.url).pathname;
  const cc = await sh("gcc", ["-O2", "-o", exe, src]);
  if (cc.code !== 0) return { skip: `gcc failed: ${cc.stderr.trim().split("\n")[0]}` };
  return { exe };
}

let PEER = "";

interface Received {
  count: number;
  bytes: number;
  seconds: number;
}

/** Starts the counting receiver in `ns` and waits until it listens. */
async function startReceiver(ns: Netns): Promise<{ done: Promise<Received> }> {
  const done = ns.exec(PEER, ["recv", `${PORT}`], 120_000).then((r) => {
    const [count, bytes, seconds] = r.stdout.trim().split(" ").map(Number);
    if (r.code !== 0 || !(count > 0)) {
      throw new Error(`receiver failed (${r.code}): ${r.stdout} ${r.stderr}`);
    }
    return { count, bytes, seconds };
  });
  done.catch(() => {}); // awaited by the caller; a failure while we wait must not end the run
  await waitFor("the receiver", async () => {
    const r = await ns.exec("ss", ["-Hnul", `sport = :${PORT}`]);
    return r.stdout.trim() !== "";
  }, 10_000);
  return { done };
}

function report(label: string, size: number, sent: number, r: Received): void {
  const rate = r.count / r.seconds;
  console.log(
    `  ${label.padEnd(22)} ${size.toString().padStart(5)} B  ${
      Math.round(rate).toLocaleString("en").padStart(9)
    } datagrams/s  ${(rate * size * 8 / 1e9).toFixed(3)} Gbit/s  ` +
      `(${r.count}/${sent} arrived)`,
  );
}

function median(xs: number[]): number {
  return xs[Math.floor(xs.length / 2)];
}

async function main(): Promise<void> {
  const why = interopUnavailable();
  const peer = why ? { skip: why } : await buildPeer();
  if ("skip" in peer) {
    console.log(`udp benchmark skipped: ${peer.skip}`);
    return;
  }
  PEER = peer.exe;
  const tag = Deno.pid % 100000;
  const cleanup: (() => Promise<void>)[] = [];
  try {
    const rig = await tapStack({
      dev: `ubt${tag}`,
      mac: "02:00:5e:00:17:42",
      linux: ["192.0.2.1/24"],
      ours4: "192.0.2.2",
      ours6: "2001:db8::2",
    });
    cleanup.push(() => rig.close());
    const nsB = await Netns.create(), nsC = await Netns.create();
    cleanup.push(() => nsB.close(), () => nsC.close());
    await sh("ip", ["link", "add", `ubv${tag}b`, "type", "veth", "peer", "name", `ubv${tag}c`]);
    await nsB.adopt(`ubv${tag}b`, ["203.0.113.1/24"]);
    await nsC.adopt(`ubv${tag}c`, ["203.0.113.2/24"]);

    const sender = rig.stack.openUdp(4);
    sender.setOption("SO_SNDBUF", 65536);
    sender.connect("192.0.2.1", PORT);
    /** Sends `n` datagrams of `size` from the embedded stack, yielding now and then. */
    const stackSend = async (size: number, n: number) => {
      const data = new Uint8Array(size);
      for (let i = 0; i < n; i++) {
        sender.send(data);
        if ((i & 1023) === 1023) await new Promise((r) => setTimeout(r, 0));
      }
    };
    // Warm-up (JIT, ARP), not reported.
    const warm = await startReceiver(rig.ns);
    await stackSend(64, 20_000);
    await warm.done;

    console.log(`UDP send rate, ${COUNT} datagrams each (the receiver's count and clock)`);
    for (const size of SIZES) {
      const ours = await startReceiver(rig.ns);
      await stackSend(size, COUNT);
      report("embedded stack, TAP", size, COUNT, await ours.done);
      const linux = await startReceiver(nsC);
      const send = await nsB.exec(PEER, [
        "send",
        "203.0.113.2",
        `${PORT}`,
        `${size}`,
        `${COUNT}`,
      ], 120_000);
      if (send.code !== 0) throw new Error(`sender failed: ${send.stderr}`);
      report("Linux to Linux, veth", size, COUNT, await linux.done);
    }

    const echo = rig.stack.openUdp(4);
    echo.bind("192.0.2.2", 7);
    echo.onReadable = () => {
      for (let d = echo.receive(); d !== null; d = echo.receive()) {
        echo.sendTo(d, echo.lastSource.addr, echo.lastSource.port);
      }
    };
    const linuxEcho = new Deno.Command("ip", {
      args: ["netns", "exec", nsC.name, PEER, "echo", "7"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    cleanup.push(async () => {
      linuxEcho.kill("SIGKILL");
      await linuxEcho.status;
    });
    await waitFor("the Linux echo socket", async () => {
      const r = await nsC.exec("ss", ["-Hnul", "sport = :7"]);
      return r.stdout.trim() !== "";
    }, 10_000);
    console.log(`1-byte UDP echo round trip, ${ECHOES} in a row (native client; µs)`);
    for (
      const [label, ns, addr] of [
        ["embedded stack, TAP", rig.ns, "192.0.2.2"],
        ["Linux to Linux, veth", nsB, "203.0.113.2"],
      ] as const
    ) {
      const r = await ns.exec(PEER, ["ping", addr, "7", `${ECHOES}`], 120_000);
      if (r.code !== 0) throw new Error(`echo client failed: ${r.stderr}`);
      const rtts = r.stdout.trim().split(" ").map(Number);
      const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
      console.log(
        `  ${label.padEnd(22)} avg ${avg.toFixed(1)}  median ${median(rtts).toFixed(1)}  p99 ${
          rtts[Math.floor(rtts.length * 0.99)].toFixed(1)
        }`,
      );
    }
  } finally {
    for (const c of cleanup.reverse()) await c();
    Deno.removeSync(PEER.slice(0, PEER.lastIndexOf("/")), { recursive: true });
  }
}

if (import.meta.main) await main();
