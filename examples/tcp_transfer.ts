/**
 * A TCP transfer through an io-pkt instance, written as a Deno program would
 * be with `Deno.listen` / `Deno.connect` (only the import differs): the
 * server reads whatever each client sends and answers with the byte count
 * and SHA-256; the client streams a pattern, half-closes, and prints the
 * server's answer beside its own count and hash.
 *
 * ```sh
 * SOCK=/b deno run -A examples/tcp_transfer.ts serve 5001
 * SOCK=/a deno run -A examples/tcp_transfer.ts send 192.0.2.2 5001 64
 * ```
 * The instance is `$SOCK` (the same variable the tools read).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { connect, listen, type TcpConn } from "../mod.ts";

const CHUNK = 64 * 1024;

/** The bytes of the pattern starting at offset `at`. */
function fill(buf: Uint8Array, at: number): void {
  for (let i = 0; i < buf.length; i++) buf[i] = ((at + i) * 31 + ((at + i) >>> 12)) & 0xff;
}

async function serveOne(conn: TcpConn): Promise<void> {
  const hash = createHash("sha256");
  let bytes = 0;
  const buf = new Uint8Array(CHUNK);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    bytes += n;
    hash.update(buf.subarray(0, n));
  }
  const answer = `${bytes} bytes, sha256 ${hash.digest("hex")}\n`;
  await conn.write(new TextEncoder().encode(answer));
  conn.close();
  const from = conn.remoteAddr;
  console.log(`served ${from.hostname} port ${from.port}: ${answer.trim()}`);
}

async function serve(port: number): Promise<void> {
  // As with Deno.listen, 0.0.0.0 is IPv4 only (and :: IPv6 only, net.inet6.ip6.v6only being 1): both.
  const listeners = [listen({ port }), listen({ port, hostname: "::" })];
  console.log(`listening on port ${port}`);
  await Promise.all(listeners.map(async (listener) => {
    for await (const conn of listener) {
      serveOne(conn).catch((e) => console.error(`connection: ${e}`));
    }
  }));
}

async function send(hostname: string, port: number, megabytes: number): Promise<void> {
  const total = megabytes * 1024 * 1024;
  const conn = await connect({ hostname, port });
  const hash = createHash("sha256");
  const buf = new Uint8Array(CHUNK);
  const started = performance.now();
  for (let sent = 0; sent < total;) {
    const n = Math.min(CHUNK, total - sent);
    const chunk = n === CHUNK ? buf : buf.subarray(0, n);
    fill(chunk, sent);
    hash.update(chunk);
    for (let off = 0; off < n;) off += await conn.write(chunk.subarray(off));
    sent += n;
  }
  await conn.closeWrite();
  let answer = "";
  const decoder = new TextDecoder();
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    answer += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  conn.close();
  const seconds = (performance.now() - started) / 1000;
  const mine = `${total} bytes, sha256 ${hash.digest("hex")}`;
  console.log(`sent     ${mine}`);
  console.log(`answered ${answer.trim()}`);
  console.log(
    answer.trim() === mine
      ? `intact, ${(total * 8 / seconds / 1e6).toFixed(0)} Mbit/s`
      : "MISMATCH",
  );
  if (answer.trim() !== mine) Deno.exit(1);
}

const [mode, ...args] = Deno.args;
if (mode === "serve") await serve(Number(args[0] ?? 5001));
else if (mode === "send") await send(args[0], Number(args[1]), Number(args[2] ?? 16));
else {
  console.error("usage: tcp_transfer.ts serve PORT | send HOST PORT MEGABYTES");
  Deno.exit(2);
}
