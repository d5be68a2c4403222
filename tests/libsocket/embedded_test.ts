/**
 * listenDatagram on a stack embedded in the program: the Deno.DatagramConn
 * shape with no daemon (loopback both families, ephemeral ports, for await,
 * errors with errno codes, ECONNREFUSED on a connected socket, multicast on lo0).
 */
import assert from "node:assert/strict";
import { type DatagramConn, listenDatagram, Stack } from "../../mod.ts";

const enc = new TextEncoder(), dec = new TextDecoder();

async function code(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

Deno.test("embedded: two sockets exchange datagrams over lo0, IPv4 and IPv6", async () => {
  const stack = new Stack({ inet6: true });
  for (const host of ["127.0.0.1", "::1"]) {
    // As with Deno.listenDatagram: no await, the socket is bound and `addr` exact at once.
    const a = listenDatagram({ port: 7001, hostname: host, transport: "udp" }, { stack });
    const b = listenDatagram({ port: 0, hostname: host, transport: "udp" }, { stack });
    assert.deepEqual(a.addr, { transport: "udp", hostname: host, port: 7001 });
    assert.ok(b.addr.port >= 49152, `ephemeral port ${b.addr.port}`);
    assert.equal(await b.send(enc.encode("ping"), a.addr), 4);
    const [data, from] = await a.receive();
    assert.equal(dec.decode(data), "ping");
    assert.deepEqual(from, b.addr);
    await a.send(enc.encode("pong"), from);
    const buf = new Uint8Array(2);
    const [short] = await b.receive(buf);
    assert.equal(dec.decode(short), "po", "truncated into the caller's buffer");
    assert.equal(await a.ready, a, "ready resolves to the connection itself");
    a.close();
    b.close();
  }
});

Deno.test("embedded: `await listenDatagram(...)` gives the connection; for await works unawaited", async () => {
  const stack = new Stack({ inet6: false });
  const a = await listenDatagram({ port: 7003, hostname: "127.0.0.1", transport: "udp" }, {
    stack,
  });
  assert.equal(a.addr.port, 7003);
  assert.equal(typeof (a as unknown as { then?: unknown }).then, "undefined", "not a thenable");
  const b = listenDatagram({ port: 0, hostname: "127.0.0.1", transport: "udp" }, { stack });
  const got: string[] = [];
  const loop = (async () => {
    for await (const [d] of b) {
      got.push(dec.decode(d));
      if (got.length === 2) break;
    }
  })();
  await a.send(enc.encode("x"), b.addr);
  await a.send(enc.encode("y"), b.addr);
  await loop;
  assert.deepEqual(got, ["x", "y"]);
  a.close();
  b.close();
});

Deno.test("embedded: for await ends at close; errors carry errno codes", async () => {
  const stack = new Stack({ inet6: true });
  const a = listenDatagram({ port: 7002, hostname: "0.0.0.0", transport: "udp" }, { stack });
  const opts = { port: 7002, hostname: "127.0.0.1", transport: "udp" } as const;
  // Bind failures are thrown by the call itself, as Deno's are.
  assert.throws(() => listenDatagram(opts, { stack }), { code: "EADDRINUSE" });
  assert.throws(
    () => listenDatagram({ port: 0, hostname: "192.0.2.1", transport: "udp" }, { stack }),
    { code: "EADDRNOTAVAIL" },
  );
  const dual = listenDatagram({ port: 0, hostname: "::", transport: "udp" }, { stack });
  assert.equal(await code(dual.send(new Uint8Array(65_528), a.addr)), "EMSGSIZE");
  assert.equal(
    await code(dual.send(new Uint8Array(1), { transport: "udp", hostname: "nope", port: 1 })),
    "EINVAL",
  );
  const seen: string[] = [];
  const loop = (async () => {
    for await (const [d, from] of a) {
      seen.push(`${dec.decode(d)} ${from.hostname}`);
      if (seen.length === 3) a.close();
    }
  })();
  for (const t of ["1", "2", "3"]) {
    await dual.send(enc.encode(t), { ...a.addr, hostname: "127.0.0.1" });
  }
  await loop;
  assert.deepEqual(seen, ["1 127.0.0.1", "2 127.0.0.1", "3 127.0.0.1"]);
  assert.equal(await code(a.receive()), "EBADF");
  dual.close();
});

Deno.test("embedded: a connected socket hears ECONNREFUSED from a closed port", async () => {
  const stack = new Stack({ inet6: false });
  const c: DatagramConn = await listenDatagram(
    { port: 0, hostname: "127.0.0.1", transport: "udp" },
    { stack },
  );
  await c.connect({ transport: "udp", hostname: "127.0.0.1", port: 9 });
  await c.send(enc.encode("anyone?"));
  assert.equal(await code(c.receive()), "ECONNREFUSED");
  c.close();
});

Deno.test("embedded: a multicast group joined on lo0 is heard; leaving stops it", async () => {
  const stack = new Stack({ inet6: false });
  const r = await listenDatagram(
    { port: 5000, hostname: "0.0.0.0", transport: "udp", loopback: true },
    { stack },
  );
  const m = await r.joinMulticastV4("239.1.2.3", "127.0.0.1");
  const s = await listenDatagram(
    { port: 0, hostname: "127.0.0.1", transport: "udp", loopback: true },
    { stack },
  );
  await s.setOption("IP_MULTICAST_IF", 1);
  await s.send(enc.encode("group"), { transport: "udp", hostname: "239.1.2.3", port: 5000 });
  const [d] = await r.receive();
  assert.equal(dec.decode(d), "group");
  await m.leave();
  assert.equal(await code(m.leave()), "EADDRNOTAVAIL");
  r.close();
  s.close();
});
