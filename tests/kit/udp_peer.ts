/**
 * A user program for the socket-hop integration tests: it imports `mod.ts`
 * as any program would and reaches the daemon `$SOCK` names. Every loop and
 * wait is bounded. Modes:
 * - `echo HOST PORT COUNT`: prints `ready PORT`, echoes COUNT datagrams, exits 0;
 * - `ping LOCAL DSTHOST DSTPORT COUNT`: sends COUNT datagrams (each resent up to
 *   5 times while no echo comes within a second), prints `ok COUNT`;
 * - `hold HOST PORT SOCKETS DSTPORT`: opens SOCKETS sockets (the first bound to PORT),
 *   prints `ready`, then sends to DSTPORT on HOST without pause for at most 60 s.
 * @module
 */
import { listenDatagram, type UdpAddr } from "../../mod.ts";

const [mode, ...args] = Deno.args;
const enc = new TextEncoder(), dec = new TextDecoder();

function timeout<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<null>((r) => timer = setTimeout(() => r(null), ms)),
  ]).finally(() => clearTimeout(timer));
}

if (mode === "echo") {
  const [host, port, count] = [args[0], Number(args[1]), Number(args[2])];
  const conn = await listenDatagram({ port, hostname: host, transport: "udp" }).ready;
  console.log(`ready ${conn.addr.port}`);
  for (let i = 0; i < count; i++) {
    const got = await timeout(conn.receive(), 30_000);
    if (got === null) Deno.exit(2);
    await conn.send(got[0], got[1]);
  }
  conn.close();
} else if (mode === "ping") {
  const [local, host, port, count] = [args[0], args[1], Number(args[2]), Number(args[3])];
  // As a program written for Deno.listenDatagram would: no await; calls wait for the bind.
  const conn = listenDatagram({ port: 0, hostname: local, transport: "udp" });
  const to: UdpAddr = { transport: "udp", hostname: host, port };
  let pending: Promise<[Uint8Array, UdpAddr]> | null = null;
  for (let i = 0; i < count; i++) {
    let ok = false;
    for (let attempt = 0; attempt < 5 && !ok; attempt++) {
      await conn.send(enc.encode(`n${i}`), to);
      pending ??= conn.receive();
      const got = await timeout(pending, 1000);
      if (got === null) continue;
      pending = null;
      ok = dec.decode(got[0]) === `n${i}` && got[1].port === port;
    }
    if (!ok) {
      console.log(`lost n${i}`);
      Deno.exit(1);
    }
  }
  console.log(`ok ${count}`);
  Deno.exit(0);
} else if (mode === "hold") {
  const [host, port, sockets, dst] = [args[0], Number(args[1]), Number(args[2]), Number(args[3])];
  const conns = [];
  for (let i = 0; i < sockets; i++) {
    conns.push(
      await listenDatagram({ port: i === 0 ? port : 0, hostname: host, transport: "udp" }).ready,
    );
  }
  console.log("ready");
  const to: UdpAddr = { transport: "udp", hostname: host, port: dst };
  const data = new Uint8Array(512);
  const end = Date.now() + 60_000;
  while (Date.now() < end) for (const c of conns) await c.send(data, to);
} else {
  console.error("usage: udp_peer.ts echo|ping|hold ...");
  Deno.exit(64);
}
