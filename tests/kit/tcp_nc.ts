/**
 * A small `nc` on io-pkt's TCP (`connect`/`listen` of mod.ts, the daemon
 * `$SOCK` names), run as its own process by the interop tests:
 *
 *   tcp_nc.ts HOST PORT        connect
 *   tcp_nc.ts -l ADDR PORT     accept one connection (prints "listening" to stderr)
 *
 * It copies stdin to the connection and, at the end of stdin, half-closes
 * (FIN); it copies the connection to stdout and, at the peer's FIN, prints
 * "EOF" to stderr. It exits 0 once both directions have ended.
 * @module
 */

import { connect, listen } from "../../mod.ts";

async function main(args: string[]): Promise<number> {
  const serve = args[0] === "-l";
  const [host, portText] = serve ? args.slice(1) : args;
  const port = Number(portText);
  if (!host || !(port > 0)) {
    console.error("usage: tcp_nc.ts [-l] HOST PORT");
    return 64;
  }
  let conn;
  if (serve) {
    const listener = listen({ hostname: host, port, transport: "tcp" });
    await listener.ready;
    console.error("listening");
    conn = await listener.accept();
    listener.close();
  } else {
    conn = await connect({ hostname: host, port, transport: "tcp" });
  }
  console.error("connected");
  const inbound = (async () => {
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      for (let off = 0; off < n;) off += await Deno.stdout.write(buf.subarray(off, n));
    }
    console.error("EOF");
  })();
  const outbound = (async () => {
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      for (let off = 0; off < n;) off += await conn.write(buf.subarray(off, n));
    }
    await conn.closeWrite();
  })();
  await Promise.all([inbound, outbound]);
  conn.close();
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`tcp_nc: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
