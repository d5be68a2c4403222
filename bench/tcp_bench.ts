/**
 * TCP, side by side in one run (root and /dev/net/tun needed; skipped with
 * the reason otherwise). The stacks under test:
 *
 *   daemon    a program on the library (this process, `connect`/`listen`
 *             with `{ sock }`) through a real daemon, `io-pkt-v6-hc -d tap`,
 *             whose TAP sits in a namespace of its own;
 *   embedded  a stack embedded in this process on a TAP (no daemon);
 *   lwIP      native lwIP on a TAP (`bench/lwip_tap.c` with its TCP sink and
 *             echo on the raw API; skipped, saying why, without gcc or
 *             Debian's liblwip-dev);
 *   Linux     Linux to Linux over a veth pair.
 *
 * Linux's client and servers are one small C program (`bench/tcp_peer.c`),
 * the same against every stack; our servers are this process's sockets.
 * Figures, each with its ratios:
 *
 *   1-2. one stream, Linux pushing to a sink and pulling from a source
 *        (Gbit/s counted by Linux: first write to the peer's close), ROUNDS
 *        rounds with the stacks in turn (median and range), with the CPU the
 *        daemon and this program spent per MB; then Linux's iperf3 against
 *        examples/iperf3.ts (a program of its own with `--net iopkt` through
 *        the daemon, in this process for the embedded stack) and against
 *        Linux's iperf3 over veth, forward and reverse (`-R`);
 *   3.   1-byte request/response round trips on one connection (median, p99)
 *        and connections per second (connect, 1-byte exchange, close);
 *   4.   memory per idle connection: the daemon's resident growth (and this
 *        program's heap, its side of the hop) with IDLE connections open from
 *        the program; this process's heap and resident growth with IDLE
 *        connections from the embedded stack; Linux's slab growth with IDLE
 *        connections between two namespaces (per socket, both ends Linux).
 *
 * Everything lives in namespaces this script makes and removes, even on
 * failure; addresses are from the documentation ranges; every wait is
 * bounded. Reports figures and ratios; asserts nothing.
 *
 *   bin/bench tcp [megabytes] [round-trips] [connections] [idle-connections] [rounds]
 * @module
 */

import { connect, listen, type TcpConn, type TcpListener } from "../mod.ts";
import { iperf3Server } from "../examples/iperf3.ts";
import { tcpNet } from "../examples/tcp_net.ts";
import { interopUnavailable, linkExists, Netns, sh, which } from "../tests/kit/netns.ts";
import {
  daemonPid,
  type LiveProcess,
  ROOT,
  startDaemon,
  tempPrefix,
  TestDaemon,
  waitFor,
} from "../tests/kit/processes.ts";
import { tapStack } from "../tests/kit/tap_stack.ts";
import {
  denoBin,
  type Iperf3Summary,
  runIperf3Client,
  startExampleIperf3Server,
  startIperf3Server,
  vethPair,
  waitListening,
} from "../tests/kit/tcp_peers.ts";

const MEGABYTES = Number(Deno.args[0] ?? 200);
const ROUND_TRIPS = Number(Deno.args[1] ?? 5000);
const CONNECTIONS = Number(Deno.args[2] ?? 1000);
const IDLE = Number(Deno.args[3] ?? 10_000);
const ROUNDS = Number(Deno.args[4] ?? 3);
const IPERF_SECONDS = 5;
const PORT = { sink: 5001, source: 5002, echo: 5007, hold: 5008, iperf: 5201 } as const;
/** How many connections the memory figure opens at once. */
const OPEN_BATCH = 64;

/** Builds a C program of bench/ into `dir` (`extra`: more gcc arguments). */
async function build(
  dir: string,
  name: string,
  extra: string[] = [],
): Promise<{ exe: string } | { skip: string }> {
  if (!which("gcc")) return { skip: "gcc is not installed" };
  const exe = `${dir}/${name}`;
  const src = new URL(`./${name}.c`, import.meta.url).pathname;
  const cc = await sh("gcc", ["-O2", "-o", exe, src, ...extra]);
  if (cc.code !== 0) return { skip: `gcc failed: ${cc.stderr.trim().split("\n")[0]}` };
  return { exe };
}

/** The lwIP responder with its TCP servers, or why it cannot be had. */
async function buildLwip(dir: string): Promise<{ exe: string } | { skip: string }> {
  const flags = await sh("pkg-config", ["--cflags", "--libs", "lwip"]);
  if (flags.code !== 0) return { skip: "liblwip-dev is not installed" };
  return build(dir, "lwip_tap", flags.stdout.trim().split(/\s+/));
}

/** CPU milliseconds (user + system) process `pid` has used. */
function cpuMs(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

function residentBytes(pid: number | "self"): number {
  return Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) * 1024;
}

function slabBytes(): number {
  return Number(/Slab:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/meminfo"))![1]) * 1024;
}

function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

/**
 * With `IOPKT_BENCH_PROFILE=DIR`, the daemon runs in the foreground under
 * `deno run --cpu-prof` and the bench runs only Linux's push to the program
 * through it (after the warm-up); the profile is written to DIR when it stops.
 */
const PROFILE_DIR = Deno.env.get("IOPKT_BENCH_PROFILE");

/** `io-pkt-v6-hc -f args` under `--cpu-prof` (a child of this process), once it answers. */
async function profiledDaemon(args: string[], dir: string): Promise<TestDaemon> {
  const prefix = tempPrefix();
  const child = new Deno.Command(denoBin(), {
    args: [
      "run",
      "--quiet",
      "--allow-all",
      "--cpu-prof",
      `--cpu-prof-dir=${dir}`,
      `${ROOT}cmd/io-pkt-v6-hc.ts`,
      "-f",
      ...args,
      "-p",
      "tcpip",
      `prefix=${prefix}`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const daemon = new TestDaemon(prefix, child.pid);
  try {
    await waitFor("the profiled daemon", async () => {
      try {
        return await daemonPid(prefix) === child.pid;
      } catch {
        return false;
      }
    });
  } catch (e) {
    child.kill("SIGKILL");
    await child.status;
    throw e;
  }
  const stop = daemon.stop.bind(daemon);
  daemon.stop = async () => {
    await stop();
    await child.status;
    console.log(`daemon CPU profile written to ${dir}`);
  };
  return daemon;
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * This process's JavaScript memory in use (heap and the ArrayBuffers outside
 * it), after a full collection when `--expose-gc` allows one.
 */
function heapBytes(): number {
  gc?.();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

/** Our servers on `listener`: a sink, a source of `bytes`, or a 1-byte echo. */
function serve(l: TcpListener, mode: "sink" | "source" | "echo", bytes = 0): Promise<void> {
  const one = async (c: TcpConn) => {
    const buf = new Uint8Array(mode === "echo" ? 1 : 128 * 1024);
    try {
      if (mode === "echo") await c.setNoDelay(true);
      if (mode === "source") {
        for (let sent = 0; sent < bytes;) {
          sent += await c.write(buf.subarray(0, Math.min(buf.length, bytes - sent)));
        }
      } else {
        for (let n = await c.read(buf); n !== null; n = await c.read(buf)) {
          if (mode === "echo") await c.write(buf.subarray(0, n));
        }
      }
    } catch { /* the peer went: nothing to serve */ }
    try {
      c.close();
    } catch { /* closed */ }
  };
  return (async () => {
    for await (const c of l) one(c);
  })().catch(() => {});
}

interface Target {
  label: string;
  ns: Netns;
  addr: string;
  source: boolean;
}

/** Gbit/s Linux measured pushing MEGABYTES to `t`'s sink (or pulling from its source). */
async function stream(peer: string, t: Target, push: boolean): Promise<number> {
  const bytes = MEGABYTES * 1e6;
  const args = push
    ? ["push", t.addr, `${PORT.sink}`, `${bytes}`]
    : ["pull", t.addr, `${PORT.source}`];
  const r = await t.ns.exec(peer, args, 300_000);
  const [got, seconds] = r.stdout.trim().split(" ").map(Number);
  if (r.code !== 0 || got !== bytes) {
    throw new Error(`${t.label}: tcp_peer ${args.join(" ")}: ${r.stdout} ${r.stderr}`);
  }
  return got * 8 / seconds / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function ratio(x: number, y: number | undefined): string {
  return y === undefined || !(y > 0) ? "  -  " : (x / y).toFixed(2);
}

async function main(): Promise<void> {
  const why = interopUnavailable() ?? (which("iperf3") ? null : "iperf3 is not installed");
  const tmp = Deno.makeTempDirSync({ prefix: "tcp_bench" });
  const cleanup: (() => Promise<void> | void)[] = [() => Deno.remove(tmp, { recursive: true })];
  try {
    const peerBuilt = why ? { skip: why } : await build(tmp, "tcp_peer");
    if ("skip" in peerBuilt) {
      console.log(`tcp benchmark skipped: ${peerBuilt.skip}`);
      return;
    }
    const peer = peerBuilt.exe;
    const tag = Deno.pid % 100000;
    console.log(`load average at start: ${loadAverage()} (${navigator.hardwareConcurrency} CPUs)`);
    /** Starts `tcp_peer mode args` in `ns`, stopped at cleanup. */
    const linuxServer = async (ns: Netns, mode: string, port: number, ...rest: string[]) => {
      const child = new Deno.Command("ip", {
        args: ["netns", "exec", ns.name, peer, mode, `${port}`, ...rest],
        stdin: "null",
        stdout: "null",
        stderr: "inherit",
      }).spawn();
      cleanup.push(async () => {
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
        await child.status;
      });
      await waitListening(ns, port);
    };
    const background: LiveProcess[] = [];
    cleanup.push(async () => {
      for (const p of background) await p.stop();
    });

    // Linux over veth: a (192.0.2.1) is the client side, b (192.0.2.2) the servers.
    const veth = await vethPair();
    cleanup.push(() => veth.close());
    const bytes = `${MEGABYTES * 1e6}`;
    await linuxServer(veth.b, "sink", PORT.sink);
    await linuxServer(veth.b, "source", PORT.source, bytes);
    await linuxServer(veth.b, "echo", PORT.echo);
    await linuxServer(veth.b, "accept", PORT.hold);
    background.push(await startIperf3Server(veth.b, { port: PORT.iperf }));

    // The embedded stack on a TAP: Linux 203.0.113.1, ours 203.0.113.2.
    const rig = await tapStack({
      dev: `tbe${tag}`,
      mac: "02:00:5e:00:10:42",
      linux: ["203.0.113.1/24"],
      ours4: "203.0.113.2",
      ours6: "2001:db8:10::2",
    });
    cleanup.push(() => rig.close());
    const embedded = { stack: rig.stack };
    const listeners: TcpListener[] = [];
    cleanup.push(() => {
      for (const l of listeners) l.close();
    });
    const ourServers = async (via: { stack?: typeof rig.stack; sock?: string }, host: string) => {
      for (
        const [mode, port] of [["sink", PORT.sink], ["source", PORT.source], [
          "echo",
          PORT.echo,
        ]] as const
      ) {
        const l = listen({ hostname: host, port }, via);
        listeners.push(l);
        await (l as TcpListener & { ready?: Promise<unknown> }).ready;
        serve(l, mode, MEGABYTES * 1e6);
      }
    };
    await ourServers(embedded, "203.0.113.2");
    await linuxServer(rig.ns, "accept", PORT.hold);
    const embeddedIperf = new AbortController();
    cleanup.push(() => embeddedIperf.abort());
    iperf3Server(
      tcpNet("iopkt", (o) => connect(o, embedded), (o) => listen(o, embedded)),
      { hostname: "203.0.113.2", port: PORT.iperf, signal: embeddedIperf.signal },
    ).catch((e) => console.log(`embedded iperf3 server: ${e.message}`));

    // The daemon: its TAP in nsD, Linux 198.51.100.1, the daemon 198.51.100.2.
    const hopDev = `tbd${tag}`;
    const daemonArgs = ["-d", "tap", `host=${hopDev},name=en,mac=02:00:5e:00:10:43`];
    // Room for the idle connections of figure 4 (the daemon's default limit is 4096 sockets).
    Deno.env.set("IOPKT_MAX_SOCKETS", `${IDLE + 4096}`);
    const daemon = PROFILE_DIR
      ? await profiledDaemon(daemonArgs, PROFILE_DIR)
      : await startDaemon("io-pkt-v6-hc", { args: daemonArgs });
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
    const viaDaemon = { sock: daemon.prefix };
    await ourServers(viaDaemon, "198.51.100.2");
    await linuxServer(nsD, "accept", PORT.hold);
    const daemonIperf = startExampleIperf3Server(null, {
      port: PORT.iperf,
      bind: "198.51.100.2",
      net: "iopkt",
      env: { SOCK: daemon.prefix },
    });
    background.push(await daemonIperf);

    // lwIP on a TAP in nsW: Linux 198.51.100.1, lwIP 198.51.100.2.
    const targets: Target[] = [
      { label: "daemon (TAP, hop)", ns: nsD, addr: "198.51.100.2", source: true },
      { label: "embedded (TAP)", ns: rig.ns, addr: "203.0.113.2", source: true },
    ];
    const lwip = await buildLwip(tmp);
    if ("skip" in lwip) console.log(`lwIP skipped: ${lwip.skip}`);
    else {
      const child = new Deno.Command(lwip.exe, {
        args: [`tbw${tag}`, "198.51.100.2", "255.255.255.0", `${PORT.sink}`, `${PORT.echo}`],
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
      await nsW.adopt(`tbw${tag}`, ["198.51.100.1/24"]);
      targets.push({ label: "lwIP (TAP)", ns: nsW, addr: "198.51.100.2", source: false });
    }
    targets.push({ label: "Linux (veth)", ns: veth.a, addr: veth.b4, source: true });
    const linux = targets.length - 1;

    // Warm-up: the JIT, ARP, the servers (not reported).
    for (const t of targets) {
      const r = await t.ns.exec(peer, ["push", t.addr, `${PORT.sink}`, `${20e6}`], 60_000);
      if (r.code !== 0) throw new Error(`${t.label}: warm-up push failed: ${r.stderr}`);
    }

    if (PROFILE_DIR) { // the push through the daemon alone, for its profile
      const p0 = cpuMs("self"), d0 = cpuMs(daemon.pid);
      const gbps = await stream(peer, targets[0], true);
      console.log(
        `Linux -> daemon -> program, ${MEGABYTES} MB: ${gbps.toFixed(2)} Gbit/s, CPU ${
          ((cpuMs("self") - p0) / MEGABYTES).toFixed(2)
        } + ${((cpuMs(daemon.pid) - d0) / MEGABYTES).toFixed(2)} ms/MB (program + daemon)`,
      );
      return;
    }
    console.log(
      `\n1-2. one stream, ${MEGABYTES} MB, Linux's tcp_peer the other end, ${ROUNDS} alternating ` +
        `rounds (Gbit/s: median, range; daemon: CPU ms per MB pushed, the program + the daemon)`,
    );
    const pushes: number[][] = targets.map(() => []), pulls: number[][] = targets.map(() => []);
    let programCpu = 0, daemonCpu = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, t] of targets.entries()) {
        const p0 = cpuMs("self"), d0 = cpuMs(daemon.pid);
        pushes[i].push(await stream(peer, t, true));
        if (i === 0) {
          programCpu += (cpuMs("self") - p0) / MEGABYTES / ROUNDS;
          daemonCpu += (cpuMs(daemon.pid) - d0) / MEGABYTES / ROUNDS;
        }
        if (t.source) pulls[i].push(await stream(peer, t, false));
      }
    }
    const spread = (xs: number[]) =>
      xs.length === 0
        ? "     -            "
        : `${median(xs).toFixed(2).padStart(6)} (${Math.min(...xs).toFixed(2)}-${
          Math.max(...xs).toFixed(2)
        })`;
    for (const [i, t] of targets.entries()) {
      console.log(
        `  ${t.label.padEnd(20)} Linux -> it ${spread(pushes[i])}  it -> Linux ${
          spread(pulls[i])
        }` +
          (i === 0 ? `  CPU ${programCpu.toFixed(2)} + ${daemonCpu.toFixed(2)} ms/MB` : ""),
      );
    }
    const push = pushes.map(median), pull = pulls.map((xs) => xs.length ? median(xs) : undefined);
    const lwipAt = targets.findIndex((x) => x.label.startsWith("lwIP"));
    for (let i = 0; i < targets.length - 1; i++) {
      console.log(
        `  ${targets[i].label.padEnd(20)} push/Linux ${ratio(push[i], push[linux])}  ` +
          (pull[i] === undefined ? "" : `pull/Linux ${ratio(pull[i]!, pull[linux])}`) +
          (lwipAt >= 0 && i !== lwipAt ? `  push/lwIP ${ratio(push[i], push[lwipAt])}` : ""),
      );
    }

    console.log(`\n1-2. iperf3, ${IPERF_SECONDS} s each, Linux's iperf3 client (Gbit/s received)`);
    const iperfWays: [string, Netns, string][] = [
      ["daemon (examples/iperf3.ts)", nsD, "198.51.100.2"],
      ["embedded (iperf3Server)", rig.ns, "203.0.113.2"],
      ["Linux iperf3 (veth)", veth.a, veth.b4],
    ];
    const iperf: [number, number][] = [];
    for (const [label, ns, host] of iperfWays) {
      const run = (reverse: boolean): Promise<Iperf3Summary> =>
        runIperf3Client(ns, {
          host,
          port: PORT.iperf,
          seconds: IPERF_SECONDS,
          reverse,
          timeoutMs: 60_000,
        });
      const fwd = (await run(false)).receivedGbps, rev = (await run(true)).receivedGbps;
      iperf.push([fwd, rev]);
      console.log(
        `  ${label.padEnd(28)} Linux -> it ${fwd.toFixed(2).padStart(6)}  it -> Linux ${
          rev.toFixed(2).padStart(6)
        }`,
      );
    }
    for (let i = 0; i < 2; i++) {
      console.log(
        `  ${iperfWays[i][0].padEnd(28)} /Linux ${
          ratio(iperf[i][0], iperf[2][0])
        }  reverse /Linux ${ratio(iperf[i][1], iperf[2][1])}`,
      );
    }

    console.log(
      `\n3. 1-byte request/response, ${ROUND_TRIPS} on one connection (µs), ` +
        `and ${CONNECTIONS} connections (connect, exchange, close), Linux's tcp_peer the client`,
    );
    const rr: number[] = [], crr: number[] = [];
    for (const t of targets) {
      const r = await t.ns.exec(peer, ["rr", t.addr, `${PORT.echo}`, `${ROUND_TRIPS}`], 300_000);
      const c = await t.ns.exec(peer, ["crr", t.addr, `${PORT.echo}`, `${CONNECTIONS}`], 300_000);
      if (r.code !== 0 || c.code !== 0) throw new Error(`${t.label}: ${r.stderr} ${c.stderr}`);
      const [median, p99, avg] = r.stdout.trim().split(" ").map(Number);
      const [perSecond, connectMedian] = c.stdout.trim().split(" ").map(Number);
      rr.push(median);
      crr.push(perSecond);
      console.log(
        `  ${t.label.padEnd(20)} median ${median.toFixed(1).padStart(6)}  p99 ${
          p99.toFixed(1).padStart(7)
        }  avg ${avg.toFixed(1).padStart(6)}   ${perSecond.toFixed(0).padStart(6)} conn/s ` +
          `(median ${connectMedian.toFixed(0)} µs)`,
      );
    }
    for (let i = 0; i < targets.length - 1; i++) {
      console.log(
        `  ${targets[i].label.padEnd(20)} median/Linux ${ratio(rr[i], rr[linux])}  ` +
          `conn/s /Linux ${ratio(crr[i], crr[linux])}` +
          (lwipAt >= 0 && i !== lwipAt
            ? `  median/lwIP ${ratio(rr[i], rr[lwipAt])}  conn/s /lwIP ${
              ratio(crr[i], crr[lwipAt])
            }`
            : ""),
      );
    }

    console.log(`\n4. memory per idle connection, ${IDLE} connections (KiB)`);
    const held: TcpConn[] = [];
    /** Opens IDLE connections through `via` to Linux's holder at `host`. */
    const openIdle = async (via: object, host: string) => {
      for (let i = 0; i < IDLE; i += OPEN_BATCH) {
        const batch = [];
        for (let j = i; j < Math.min(i + OPEN_BATCH, IDLE); j++) {
          batch.push(connect({ hostname: host, port: PORT.hold }, via));
        }
        held.push(...await Promise.all(batch));
      }
    };
    const closeIdle = () => {
      for (const c of held.splice(0)) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    };
    cleanup.push(closeIdle);
    // The embedded stack first: the hop's buffers, once closed, are freed a while later.
    {
      const rss0 = residentBytes("self"), heap0 = heapBytes();
      await openIdle(embedded, "203.0.113.1");
      const rss = residentBytes("self") - rss0, heap = heapBytes() - heap0;
      console.log(
        `  embedded (TAP)       JS heap+external ${(heap / IDLE / 1024).toFixed(1)}  resident ${
          (rss / IDLE / 1024).toFixed(1)
        }${gc ? "" : " (no --expose-gc: heap figures include garbage)"}`,
      );
      closeIdle();
    }
    {
      const rss0 = residentBytes(daemon.pid), heap0 = heapBytes();
      await openIdle(viaDaemon, "198.51.100.1");
      const rss = residentBytes(daemon.pid) - rss0, heap = heapBytes() - heap0;
      console.log(
        `  daemon (TAP, hop)    daemon resident ${(rss / IDLE / 1024).toFixed(1)}  ` +
          `program JS heap+external ${(heap / IDLE / 1024).toFixed(1)} (its side of the hop)`,
      );
      closeIdle();
    }
    {
      const slab0 = slabBytes();
      const holder = new Deno.Command("ip", {
        args: ["netns", "exec", veth.a.name, peer, "hold", veth.b4, `${PORT.hold}`, `${IDLE}`],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      try {
        const reader = holder.stdout.getReader();
        const timer = setTimeout(() => holder.kill("SIGKILL"), 120_000);
        const line = await reader.read().finally(() => clearTimeout(timer));
        if (!new TextDecoder().decode(line.value ?? new Uint8Array()).startsWith("held")) {
          throw new Error("tcp_peer hold failed");
        }
        const slab = slabBytes() - slab0;
        console.log(
          `  Linux (veth)         kernel slab ${
            (slab / (2 * IDLE) / 1024).toFixed(1)
          } per socket ` +
            `(both ends Linux; machine-wide figure)`,
        );
        reader.releaseLock();
      } finally {
        await holder.stdin.close().catch(() => {});
        try {
          holder.kill("SIGKILL");
        } catch { /* exited */ }
        await holder.status;
      }
    }
    console.log(`load average at end: ${loadAverage()}`);
  } finally {
    for (const c of cleanup.reverse()) await Promise.resolve().then(c).catch(() => {});
  }
}

if (import.meta.main) await main();
