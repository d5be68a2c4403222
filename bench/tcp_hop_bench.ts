/**
 * TCP through the socket hop, side by side: one connection between two
 * sockets of this program, (a) through a daemon's lo0 (each byte crosses the
 * hop twice: program to daemon, daemon to program), (b) through a stack
 * embedded in the program, (c) through Linux's own stack (`Deno.connect` on
 * 127.0.0.1). Figures: MB/s for MEGABYTES sent in 64 KiB writes (the
 * receiver reads 64 KiB at a time), the CPU time this program and the
 * daemon spent per MB meanwhile (a figure that holds up on a shared, busy
 * machine, where MB/s does not), and a 1-byte echo round trip (median).
 * Then the daemon's resident memory per idle connected socket.
 * Run: `deno run -A bench/tcp_hop_bench.ts [megabytes] [echoes]`.
 * @module
 */
import { connect, listen, Stack } from "../mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MEGABYTES = Number(Deno.args[0] ?? 200);
const ECHOES = Number(Deno.args[1] ?? 2000);

interface Pair {
  a: Deno.Conn;
  b: Deno.Conn;
  done(): void;
}
type OpenPair = () => Promise<Pair>;

async function pairOf(l: Deno.Listener, dial: (port: number) => Promise<Deno.Conn>): Promise<Pair> {
  const port = (l.addr as Deno.NetAddr).port;
  const [a, b] = await Promise.all([dial(port), l.accept()]);
  return {
    a,
    b,
    done: () => {
      a.close();
      b.close();
      l.close();
    },
  };
}

/** CPU milliseconds (user + system) process `pid` has used. */
function cpuMs(pid: number | "self"): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 1000 / 100; // clock ticks of 10 ms
}

interface Figures {
  mbps: number;
  /** CPU ms per MB in this program and in the daemon. */
  programCpu: number;
  daemonCpu: number;
}

/** MB/s (10^6 bytes) of MEGABYTES MiB written in 64 KiB writes from `a`, read at `b`. */
async function throughput(open: OpenPair): Promise<Figures> {
  const { a, b, done } = await open();
  const p0 = cpuMs("self"), d0 = cpuMs(pid);
  const chunk = new Uint8Array(64 * 1024).fill(1);
  const total = MEGABYTES * 1024 * 1024;
  const t0 = performance.now();
  const writing = (async () => {
    // Deno.Conn.write may take part of a chunk: write until all of it went.
    for (let sent = 0; sent < total;) sent += await a.write(chunk.subarray(sent % chunk.length));
    await a.closeWrite();
  })();
  const buf = new Uint8Array(64 * 1024);
  let got = 0;
  for (let n = await b.read(buf); n !== null; n = await b.read(buf)) got += n;
  await writing;
  const seconds = (performance.now() - t0) / 1000;
  const mb = total / 1e6;
  const figures = {
    mbps: mb / seconds,
    programCpu: (cpuMs("self") - p0) / mb,
    daemonCpu: (cpuMs(pid) - d0) / mb,
  };
  done();
  if (got !== total) throw new Error(`received ${got} of ${total}`);
  return figures;
}

/** Median 1-byte echo round trip in µs. */
async function roundTrip(open: OpenPair): Promise<number> {
  const { a, b, done } = await open();
  const one = new Uint8Array(1), back = new Uint8Array(1);
  const echo = (async () => {
    const buf = new Uint8Array(1);
    for (let n = await b.read(buf); n !== null; n = await b.read(buf)) await b.write(buf);
    // (a 1-byte write is never partial)
  })().catch(() => {});
  const times: number[] = [];
  for (let i = 0; i < ECHOES + 200; i++) {
    const t0 = performance.now();
    await a.write(one);
    await a.read(back);
    if (i >= 200) times.push(performance.now() - t0); // the first 200 warm up
  }
  await a.closeWrite();
  await echo;
  done();
  times.sort((x, y) => x - y);
  return times[times.length >> 1] * 1000;
}

const prefix = Deno.makeTempDirSync({ prefix: "iopkt-bench-" });
const start = await new Deno.Command(`${ROOT}bin/io-pkt-v4-hc`, {
  args: ["-p", "tcpip", `prefix=${prefix}`],
}).output();
if (!start.success) throw new Error(new TextDecoder().decode(start.stderr));
const pid = Number(Deno.readTextFileSync(`${prefix}/var/run/io-pkt.pid`).trim());
try {
  const stack = new Stack({ inet6: false, clock: () => performance.now() });
  const via = { sock: prefix };
  const ways: [string, OpenPair][] = [
    ["daemon (socket hop, lo0)", async () => {
      const l = await listen({ port: 0, hostname: "127.0.0.1", ...via }).ready;
      return pairOf(l, (port) => connect({ port, ...via }));
    }],
    ["embedded stack (lo0)", () => {
      const l = listen({ port: 0, hostname: "127.0.0.1", stack });
      return pairOf(l, (port) => connect({ port, stack }));
    }],
    ["Linux (Deno.connect 127.0.0.1)", () => {
      const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
      return pairOf(l, (port) => Deno.connect({ port, hostname: "127.0.0.1" }));
    }],
  ];
  console.log(
    `${MEGABYTES} MiB in 64 KiB writes (CPU ms per MB: this program + the daemon); ` +
      `1-byte echo round trip (median of ${ECHOES}):`,
  );
  for (const [name, open] of ways) {
    await throughput(open); // warm-up
    const f = await throughput(open);
    const rtt = await roundTrip(open);
    console.log(
      `  ${name.padEnd(32)} ${f.mbps.toFixed(0).padStart(6)} MB/s (${
        (f.mbps * 8 / 1000).toFixed(2)
      } Gbit/s)  CPU ${f.programCpu.toFixed(2)} + ${f.daemonCpu.toFixed(2)} ms/MB  ${
        rtt.toFixed(1).padStart(7)
      } µs`,
    );
  }
  // Memory per idle connected socket in the daemon: resident size before and after 500 of them
  // (250 connections, both ends through the hop), each of which first moved 1 MiB.
  const rss = () =>
    Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) * 1024;
  const before = rss();
  const held: Pair[] = [];
  const mib = new Uint8Array(1024 * 1024);
  for (let i = 0; i < 250; i++) {
    const pair = await ways[0][1]();
    const sink = new Uint8Array(64 * 1024);
    const reading = (async () => {
      for (let got = 0; got < mib.length;) got += (await pair.b.read(sink)) ?? mib.length;
    })();
    await pair.a.write(mib);
    await reading;
    held.push(pair);
  }
  const after = rss();
  for (const p of held) p.done();
  console.log(
    `daemon memory per idle TCP socket (after 1 MiB each): ${
      ((after - before) / 500 / 1024).toFixed(1)
    } KiB`,
  );
} finally {
  Deno.kill(pid, "SIGTERM");
  for (let i = 0; i < 100; i++) {
    try {
      Deno.statSync(`/proc/${pid}`);
      await new Promise((r) => setTimeout(r, 20));
    } catch {
      break;
    }
  }
  Deno.removeSync(prefix, { recursive: true });
}
