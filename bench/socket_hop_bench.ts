/**
 * The socket hop's figures: a 1-byte UDP echo round trip and one-way
 * datagrams per second between two sockets of one program, through a daemon
 * (each socket its own Unix connection), through a stack embedded in the
 * program, and through Linux's own stack (`Deno.listenDatagram` on
 * 127.0.0.1, which needs `--unstable-net`). Over the daemon's lo0, so every
 * datagram crosses the hop twice. Then the daemon's resident memory per open
 * socket (1 000 of them). Run:
 * `deno run -A --unstable-net bench/socket_hop_bench.ts [echoes] [datagrams]`.
 * @module
 */
import { type DatagramConn, listenDatagram, Stack, type UdpAddr } from "../mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const ECHOES = Number(Deno.args[0] ?? 2000);
const DATAGRAMS = Number(Deno.args[1] ?? 50_000);

type Open = (port: number) => Promise<DatagramConn>;

async function echoRtt(open: Open): Promise<number> {
  const server = await open(0), client = await open(0);
  const loop = (async () => {
    for await (const [d, from] of server) await server.send(d, from);
  })().catch(() => {});
  const one = new Uint8Array(1);
  for (let i = 0; i < 200; i++) { // warm-up
    await client.send(one, server.addr);
    await client.receive();
  }
  const times: number[] = [];
  for (let i = 0; i < ECHOES; i++) {
    const t0 = performance.now();
    await client.send(one, server.addr);
    await client.receive();
    times.push(performance.now() - t0);
  }
  server.close();
  client.close();
  await loop;
  times.sort((a, b) => a - b);
  return times[times.length >> 1] * 1000;
}

/** Sends DATAGRAMS 64-byte datagrams, 64 in flight per await; returns received/s and the loss. */
async function oneWay(open: Open): Promise<{ perSecond: number; lost: number }> {
  const rx = await open(0), tx = await open(0);
  const to: UdpAddr = rx.addr;
  let got = 0;
  let last = performance.now();
  const counting = (async () => {
    for await (const _ of rx) {
      got++;
      last = performance.now();
    }
  })().catch(() => {});
  const payload = new Uint8Array(64);
  const t0 = performance.now();
  for (let i = 0; i < DATAGRAMS; i += 64) {
    const batch = [];
    for (let j = i; j < Math.min(i + 64, DATAGRAMS); j++) batch.push(tx.send(payload, to));
    await Promise.all(batch);
    // Let the receiver keep up rather than measure drops: at most 1024 in flight.
    for (let k = 0; k < 1000 && i + 64 - got > 1024; k++) {
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  for (let k = 0; k < 100 && got < DATAGRAMS; k++) await new Promise((r) => setTimeout(r, 10));
  const seconds = (last - t0) / 1000;
  rx.close();
  tx.close();
  await counting;
  return { perSecond: got / seconds, lost: DATAGRAMS - got };
}

const prefix = Deno.makeTempDirSync({ prefix: "iopkt-bench-" });
const start = await new Deno.Command(`${ROOT}bin/io-pkt-v4-hc`, {
  args: ["-p", "tcpip", `prefix=${prefix}`],
}).output();
if (!start.success) throw new Error(new TextDecoder().decode(start.stderr));
const pid = Number(Deno.readTextFileSync(`${prefix}/var/run/io-pkt.pid`).trim());
try {
  const stack = new Stack({ inet6: false });
  const ways: [string, Open][] = [
    [
      "daemon (socket hop)",
      (port) =>
        listenDatagram({ port, hostname: "127.0.0.1", transport: "udp" }, { sock: prefix }).ready,
    ],
    [
      "embedded stack",
      (port) => listenDatagram({ port, hostname: "127.0.0.1", transport: "udp" }, { stack }).ready,
    ],
    ["Linux (Deno.listenDatagram)", (port) =>
      Promise.resolve(
        Deno.listenDatagram({
          port,
          hostname: "127.0.0.1",
          transport: "udp",
        }) as unknown as DatagramConn,
      )],
  ];
  console.log(`1-byte echo round trip (median of ${ECHOES}), one-way 64-byte datagrams/s:`);
  for (const [name, open] of ways) {
    const rtt = await echoRtt(open);
    const { perSecond, lost } = await oneWay(open);
    console.log(
      `  ${name.padEnd(30)} ${rtt.toFixed(1).padStart(7)} µs  ${
        perSecond.toFixed(0).padStart(9)
      } /s  (${lost} of ${DATAGRAMS} lost)`,
    );
  }
  // Memory per open socket in the daemon: its resident size before and after 1 000 sockets.
  const rss = () =>
    Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) * 1024;
  const before = rss();
  const held: DatagramConn[] = [];
  for (let i = 0; i < 1000; i++) held.push(await ways[0][1](0));
  const after = rss();
  for (const c of held) c.close();
  console.log(
    `daemon memory per open UDP socket: ${((after - before) / 1000 / 1024).toFixed(1)} KiB`,
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
