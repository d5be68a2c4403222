/**
 * A user program for the TCP socket-hop tests: it imports `mod.ts` as any
 * program would and reaches the daemon `$SOCK` names. Every loop and wait is
 * bounded. Modes:
 * - `echo HOST PORT`: listens, prints `ready PORT`, echoes every connection
 *   (half-closing back at its end of stream) for at most 120 s;
 * - `send HOST PORT MEGABYTES`: connects, sends MEGABYTES of random bytes,
 *   half-closes, reads the echo to its end, prints `ok <sha-256>` when both
 *   hashes match (else `mismatch`, exit 1);
 * - `hold HOST PORT CONNECTIONS`: opens CONNECTIONS connections, prints
 *   `ready`, then writes to all of them without pause for at most 60 s;
 * - `keep HOST PORT CONNECTIONS`: listens, accepts CONNECTIONS connections
 *   and keeps them idle (prints `listening`, then `accepted N`), for at most 120 s;
 * - `open HOST PORT CONNECTIONS`: opens CONNECTIONS connections and keeps them
 *   idle (prints `opened N`) until its input ends or 120 s pass.
 * @module
 */
import { connect, listen, type TcpConn } from "../../mod.ts";

const [mode, host, portText, countText] = Deno.args;
const port = Number(portText);

async function sha256(parts: Uint8Array[]): Promise<string> {
  let total = 0;
  for (const p of parts) total += p.length;
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function echo(c: TcpConn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (let n = await c.read(buf); n !== null; n = await c.read(buf)) {
      await c.write(buf.subarray(0, n));
    }
    await c.closeWrite();
  } catch { /* the peer went away */ }
  c.close();
}

if (mode === "echo") {
  const l = await listen({ port, hostname: host }).ready;
  console.log(`ready ${l.addr.port}`);
  setTimeout(() => Deno.exit(3), 120_000);
  for await (const c of l) echo(c);
} else if (mode === "send") {
  const megabytes = Number(countText);
  const c = await connect({ hostname: host, port });
  const sent: Uint8Array[] = [];
  for (let i = 0; i < megabytes * 16; i++) {
    sent.push(crypto.getRandomValues(new Uint8Array(64 * 1024)));
  }
  const writing = (async () => {
    for (const chunk of sent) await c.write(chunk);
    await c.closeWrite();
  })();
  const got: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  for (let n = await c.read(buf); n !== null; n = await c.read(buf)) got.push(buf.slice(0, n));
  await writing;
  c.close();
  const [a, b] = [await sha256(sent), await sha256(got)];
  console.log(a === b ? `ok ${a}` : `mismatch ${a} ${b}`);
  Deno.exit(a === b ? 0 : 1);
} else if (mode === "hold") {
  const conns: TcpConn[] = [];
  for (let i = 0; i < Number(countText); i++) conns.push(await connect({ hostname: host, port }));
  console.log("ready");
  const data = new Uint8Array(16 * 1024);
  const end = Date.now() + 60_000;
  while (Date.now() < end) await Promise.all(conns.map((c) => c.write(data)));
} else if (mode === "keep") {
  const want = Number(countText);
  const l = await listen({ port, hostname: host, tcpBacklog: 4096 }).ready;
  console.log("listening");
  setTimeout(() => Deno.exit(3), 120_000);
  const kept: TcpConn[] = [];
  for await (const c of l) {
    kept.push(c);
    if (kept.length === want) console.log(`accepted ${kept.length}`);
  }
} else if (mode === "open") {
  const want = Number(countText);
  const limit = setTimeout(() => Deno.exit(3), 120_000);
  const conns: TcpConn[] = [];
  // A few hundred handshakes at a time: each is a setup round trip to the daemon.
  while (conns.length < want) {
    const batch = Math.min(200, want - conns.length);
    conns.push(
      ...await Promise.all(Array.from({ length: batch }, () => connect({ hostname: host, port }))),
    );
  }
  console.log(`opened ${conns.length}`);
  for await (const _ of Deno.stdin.readable) { /* until the test closes our input */ }
  for (const c of conns) c.close();
  clearTimeout(limit);
} else {
  console.error("usage: tcp_peer_program.ts echo|send|hold|keep|open HOST PORT [N]");
  Deno.exit(64);
}
