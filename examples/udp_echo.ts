/**
 * A UDP echo server and client on an io-pkt instance, written as a Deno
 * program would be with `Deno.listenDatagram`: only the import differs.
 *
 *   SOCK=/tmp/b bin/deno run -A examples/udp_echo.ts serve 7007
 *   SOCK=/tmp/a bin/deno run -A examples/udp_echo.ts ask 192.0.2.2 7007 "hello"
 *
 * `serve` answers every datagram with the same bytes until it is killed;
 * `ask` sends one datagram, prints the answer and where it came from, and
 * exits 1 if none comes within two seconds.
 * @module
 */

import { listenDatagram } from "../mod.ts";

const [mode, ...args] = Deno.args;
if (mode === "serve") {
  const port = Number(args[0] ?? 7007);
  // One dual-stack socket: IPv4 peers arrive as ::ffff:a.b.c.d (a v4 stack answers EAFNOSUPPORT: use 0.0.0.0).
  // `ready` waits for the bind, so the fallback and the "listening" line come after it.
  const conn = await listenDatagram({ port, hostname: "::", transport: "udp" }).ready
    .catch(() => listenDatagram({ port, hostname: "0.0.0.0", transport: "udp" }).ready);
  console.log(`echo: listening on udp port ${port}`);
  for await (const [data, from] of conn) await conn.send(data, from);
} else if (mode === "ask") {
  const [hostname, port, text = "hello"] = args;
  const v6 = hostname.includes(":");
  const conn = listenDatagram({ port: 0, hostname: v6 ? "::" : "0.0.0.0", transport: "udp" });
  await conn.send(new TextEncoder().encode(text), {
    transport: "udp",
    hostname,
    port: Number(port),
  });
  const timer = setTimeout(() => {
    console.error(`no answer from ${hostname}.${port}`);
    Deno.exit(1);
  }, 2000);
  const [data, from] = await conn.receive();
  clearTimeout(timer);
  console.log(
    `${conn.addr.hostname}.${conn.addr.port} <- ${from.hostname}.${from.port}: ${
      new TextDecoder().decode(data)
    }`,
  );
  conn.close();
} else {
  console.error("usage: udp_echo.ts serve PORT | ask HOST PORT [TEXT]");
  Deno.exit(1);
}
