/**
 * UDP throughput and echo latency, side by side in one run (root and
 * /dev/net/tun needed; skipped with the reason otherwise):
 *
 *   (a) a stack embedded in this process, on a TAP device, sending to a
 *       receiver in the TAP's namespace;
 *   (b) Linux to Linux over a veth pair, a sender to the same receiver;
 *   (c) this process as a program using a real daemon (`bin/io-pkt-v4-hc -d
 *       tap`) through the socket hop (`listenDatagram` with `{ sock }`), the
 *       daemon's TAP in a namespace of its own with the same receiver.
 *
 * Linux's sender, receiver, echo socket and echo client are one small C
 * program (`bench/udp_peer.c`, built here with gcc; skipped without it).
 *
 * For 64-byte and 1472-byte payloads (one frame at MTU 1500), reports what the
 * receiver counted: datagrams/s and Gbit/s of UDP payload between its first
 * and last datagram, and how many of those sent arrived. Then the round trip
 * of a 1-byte datagram echo, the same client in each case: against the
 * embedded stack's echo socket, against the program's echo socket through the
 * daemon, and against Linux's over veth. Last, the daemon's resident memory
 * per open UDP socket (VmRSS before and after opening 1 000 through the hop).
 * Reports figures and ratios; asserts nothing.
 *
 *   bin/bench udp [datagrams] [echoes]     (or deno run --allow-all bench/udp_bench.ts)
 * @module
 */

import { type DatagramConn, listenDatagram, type UdpAddr } from "../mod.ts";
import { interopUnavailable, linkExists, Netns, sh, which } from "../tests/kit/netns.ts";
import { startDaemon, waitFor } from "../tests/kit/processes.ts";
import { tapStack } from "../tests/kit/tap_stack.ts";

const COUNT = Number(Deno.args[0] ?? 200_000);
const ECHOES = Number(Deno.args[1] ?? 5_000);
const SIZES = [64, 1472];
const PORT = 9500;
/** The program's echo port through the daemon (7 is reserved on the daemon's public socket file). */
const HOP_ECHO_PORT = 7007;
/** Sockets opened through the hop to measure the daemon's memory per socket. */
const MEMORY_SOCKETS = 1000;

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

/** Prints one rate line; returns the datagrams/s. */
function report(label: string, size: number, sent: number, r: Received): number {
  const rate = r.count / r.seconds;
  console.log(
    `  ${label.padEnd(22)} ${size.toString().padStart(5)} B  ${
      Math.round(rate).toLocaleString("en").padStart(9)
    } datagrams/s  ${(rate * size * 8 / 1e9).toFixed(3)} Gbit/s  ` +
      `(${r.count}/${sent} arrived)`,
  );
  return rate;
}

/** A UDP socket bound to `hostname`:`port` in the daemon at `sock`, through the hop. */
function hopSocket(sock: string, hostname: string, port: number): Promise<DatagramConn> {
  return listenDatagram({ transport: "udp", hostname, port }, { sock }).ready;
}

/** Starts Linux's echo socket on port 7 in `ns`, waits until it listens; returns its stopper. */
async function startLinuxEcho(ns: Netns): Promise<() => Promise<void>> {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", ns.name, PEER, "echo", "7"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    child.kill("SIGKILL");
    await child.status;
  };
  try {
    await waitFor("the Linux echo socket", async () => {
      const r = await ns.exec("ss", ["-Hnul", "sport = :7"]);
      return r.stdout.trim() !== "";
    }, 10_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return stop;
}

/** Times `ECHOES` 1-byte round trips from `conn` to `to` (µs, sorted); a lost echo ends the run. */
async function programRtts(conn: DatagramConn, to: UdpAddr): Promise<number[]> {
  const one = new Uint8Array(1);
  const times: number[] = [];
  for (let i = 0; i < ECHOES + 200; i++) { // the first 200 warm up
    const t0 = performance.now();
    await conn.send(one, to);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const got = await Promise.race([
      conn.receive(),
      new Promise<null>((r) => timer = setTimeout(() => r(null), 2000)),
    ]).finally(() => clearTimeout(timer));
    if (got === null) throw new Error(`no echo from ${to.hostname} within 2 s`);
    if (i >= 200) times.push((performance.now() - t0) * 1000);
  }
  return times.sort((a, b) => a - b);
}

/** The daemon's resident set, bytes. */
function residentBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) * 1024;
}

function median(xs: number[]): number {
  return xs[Math.floor(xs.length / 2)];
}

/** Prints one round-trip line from sorted round trips (µs). */
function printRtts(label: string, rtts: number[]): void {
  const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
  console.log(
    `  ${label.padEnd(22)} avg ${avg.toFixed(1)}  median ${median(rtts).toFixed(1)}  p99 ${
      rtts[Math.floor(rtts.length * 0.99)].toFixed(1)
    }`,
  );
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

    // (c): a real daemon whose TAP sits in a namespace of its own.
    const hopDev = `ubd${tag}`;
    const daemon = await startDaemon("io-pkt-v4-hc", {
      args: ["-d", "tap", `host=${hopDev},name=en,mac=02:00:5e:00:17:43`],
    });
    cleanup.push(async () => {
      await daemon.stop();
      Deno.removeSync(daemon.prefix, { recursive: true });
    });
    await waitFor("the daemon's TAP device", () => linkExists(hopDev));
    const nsD = await Netns.create();
    cleanup.push(() => nsD.close());
    await nsD.adopt(hopDev, ["198.51.100.1/24"]);
    const ifc = await daemon.tool("ifconfig", "en0", "198.51.100.2/24");
    if (ifc.code !== 0) throw new Error(`ifconfig en0 failed: ${ifc.stderr}`);
    const hopSender = await hopSocket(daemon.prefix, "198.51.100.2", 0);
    await hopSender.setOption("SO_SNDBUF", 65536);
    await hopSender.connect({ transport: "udp", hostname: "198.51.100.1", port: PORT });
    /** Sends `n` datagrams of `size` through the hop, 64 handed on per await. */
    const hopSend = async (size: number, n: number) => {
      const data = new Uint8Array(size);
      for (let i = 0; i < n; i += 64) {
        const batch = [];
        for (let j = i; j < Math.min(i + 64, n); j++) batch.push(hopSender.send(data));
        await Promise.all(batch);
      }
    };

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
    const warmHop = await startReceiver(nsD);
    await hopSend(64, 20_000);
    await warmHop.done;

    console.log(`UDP send rate, ${COUNT} datagrams each (the receiver's count and clock)`);
    const ratios: string[] = [];
    for (const size of SIZES) {
      const ours = await startReceiver(rig.ns);
      await stackSend(size, COUNT);
      const embedded = report("embedded stack, TAP", size, COUNT, await ours.done);
      const viaHop = await startReceiver(nsD);
      await hopSend(size, COUNT);
      const hop = report("daemon via hop, TAP", size, COUNT, await viaHop.done);
      const linux = await startReceiver(nsC);
      const send = await nsB.exec(PEER, [
        "send",
        "203.0.113.2",
        `${PORT}`,
        `${size}`,
        `${COUNT}`,
      ], 120_000);
      if (send.code !== 0) throw new Error(`sender failed: ${send.stderr}`);
      const native = report("Linux to Linux, veth", size, COUNT, await linux.done);
      ratios.push(
        `  ${size} B: embedded/Linux ${(embedded / native).toFixed(3)}  daemon/Linux ${
          (hop / native).toFixed(3)
        }  daemon/embedded ${(hop / embedded).toFixed(3)}`,
      );
    }
    console.log("send-rate ratios");
    for (const r of ratios) console.log(r);

    const echo = rig.stack.openUdp(4);
    echo.bind("192.0.2.2", 7);
    echo.onReadable = () => {
      for (let d = echo.receive(); d !== null; d = echo.receive()) {
        echo.sendTo(d, echo.lastSource.addr, echo.lastSource.port);
      }
    };
    for (const ns of [nsC, nsD, rig.ns]) cleanup.push(await startLinuxEcho(ns));
    const hopEcho = await hopSocket(daemon.prefix, "198.51.100.2", HOP_ECHO_PORT);
    const hopEchoing = (async () => {
      for await (const [d, from] of hopEcho) await hopEcho.send(d, from);
    })().catch(() => {});
    cleanup.push(async () => {
      hopEcho.close();
      await hopEchoing;
    });
    console.log(`1-byte UDP echo round trip, ${ECHOES} in a row (native client; µs)`);
    const medians: number[] = [];
    for (
      const [label, ns, addr, port] of [
        ["embedded stack, TAP", rig.ns, "192.0.2.2", 7],
        ["daemon via hop, TAP", nsD, "198.51.100.2", HOP_ECHO_PORT],
        ["Linux to Linux, veth", nsB, "203.0.113.2", 7],
      ] as const
    ) {
      const r = await ns.exec(PEER, ["ping", addr, `${port}`, `${ECHOES}`], 120_000);
      if (r.code !== 0) throw new Error(`echo client failed: ${r.stderr}`);
      const rtts = r.stdout.trim().split(" ").map(Number);
      medians.push(median(rtts));
      printRtts(label, rtts);
    }
    console.log(
      `  median ratios: embedded/Linux ${(medians[0] / medians[2]).toFixed(2)}  daemon/Linux ${
        (medians[1] / medians[2]).toFixed(2)
      }  daemon/embedded ${(medians[1] / medians[0]).toFixed(2)}`,
    );

    console.log(`The same echo, this program the client, Linux's echo socket the server (µs)`);
    const programMedians: number[] = [];
    for (
      const [label, open, addr] of [
        [
          "embedded stack, TAP",
          () =>
            listenDatagram({ transport: "udp", hostname: "192.0.2.2", port: 0 }, {
              stack: rig.stack,
            }).ready,
          "192.0.2.1",
        ],
        ["daemon via hop, TAP", () => hopSocket(daemon.prefix, "198.51.100.2", 0), "198.51.100.1"],
      ] as const
    ) {
      const conn = await open();
      try {
        const rtts = await programRtts(conn, { transport: "udp", hostname: addr, port: 7 });
        programMedians.push(median(rtts));
        printRtts(label, rtts);
      } finally {
        conn.close();
      }
    }
    console.log(
      `  median ratio: daemon/embedded ${(programMedians[1] / programMedians[0]).toFixed(2)}`,
    );

    // The daemon's resident memory per open UDP socket, each bound through the hop.
    const before = residentBytes(daemon.pid);
    const held: DatagramConn[] = [];
    try {
      for (let i = 0; i < MEMORY_SOCKETS; i++) {
        held.push(await hopSocket(daemon.prefix, "198.51.100.2", 0));
      }
      const after = residentBytes(daemon.pid);
      console.log(
        `daemon memory per open UDP socket (${MEMORY_SOCKETS} through the hop): ${
          ((after - before) / MEMORY_SOCKETS / 1024).toFixed(1)
        } KiB`,
      );
    } finally {
      for (const c of held) c.close();
    }
  } finally {
    for (const c of cleanup.reverse()) await c();
    Deno.removeSync(PEER.slice(0, PEER.lastIndexOf("/")), { recursive: true });
  }
}

if (import.meta.main) await main();
