/**
 * connect/listen on a stack embedded in the program (no daemon): echo over
 * lo0 in both families, 10 MB checked by hash, half-close both ways,
 * ECONNREFUSED, EADDRINUSE, listener iteration, readable/writable streams,
 * and a reader that does not read holding the writer to bounded buffers.
 */
import assert from "node:assert/strict";
import { connect, listen, Stack, type TcpConn } from "../../mod.ts";
import { waitFor } from "../kit/processes.ts";

const enc = new TextEncoder(), dec = new TextDecoder();

function newStack(): Stack {
  return new Stack({ inet6: true, clock: () => performance.now() });
}

async function code(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** Reads until the end of the stream; returns the bytes. */
async function readAll(c: TcpConn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  let total = 0;
  for (let n = await c.read(buf); n !== null; n = await c.read(buf)) {
    parts.push(buf.slice(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function sha256(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Echoes every connection of `l` until its end of stream, then half-closes back. */
function echoServer(l: Deno.Listener<TcpConn>): Promise<void> {
  return (async () => {
    for await (const c of l) {
      (async () => {
        const buf = new Uint8Array(64 * 1024);
        for (let n = await c.read(buf); n !== null; n = await c.read(buf)) {
          await c.write(buf.subarray(0, n));
        }
        await c.closeWrite();
        c.close();
      })();
    }
  })();
}

Deno.test("tcp embedded: echo over lo0, IPv4 and IPv6, addresses as Deno gives them", async () => {
  const stack = newStack();
  for (const host of ["127.0.0.1", "::1"]) {
    const l = listen({ port: 8001, hostname: host }, { stack });
    assert.deepEqual(l.addr, { transport: "tcp", hostname: host, port: 8001 });
    const served = echoServer(l);
    const c = await connect({ hostname: host, port: 8001, stack });
    assert.deepEqual(c.remoteAddr, { transport: "tcp", hostname: host, port: 8001 });
    assert.equal(c.localAddr.hostname, host);
    assert.ok(c.localAddr.port >= 49152, `ephemeral port ${c.localAddr.port}`);
    assert.equal(await c.write(enc.encode("hello")), 5);
    await c.closeWrite();
    assert.equal(dec.decode(await readAll(c)), "hello");
    c.close();
    l.close();
    await served;
  }
});

Deno.test("tcp embedded: 10 MB each way, hash checked", async () => {
  const stack = newStack();
  const l = listen({ port: 0, hostname: "127.0.0.1" }, { stack });
  const served = echoServer(l);
  const c = await connect({ port: l.addr.port, stack });
  const data = new Uint8Array(10 * 1024 * 1024);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const sending = (async () => {
    for (let i = 0; i < data.length; i += 100_000) await c.write(data.subarray(i, i + 100_000));
    await c.closeWrite();
  })();
  const back = await readAll(c);
  await sending;
  assert.equal(back.length, data.length);
  assert.equal(await sha256(back), await sha256(data));
  c.close();
  l.close();
  await served;
});

Deno.test("tcp embedded: half-close both ways; the other direction goes on", async () => {
  const stack = newStack();
  const l = listen({ port: 8002, hostname: "127.0.0.1" }, { stack });
  const c = await connect({ port: 8002, stack });
  const s = await l.accept();
  // Client half-closes: the server reads the data, then the end; it can still write.
  await c.write(enc.encode("request"));
  await c.closeWrite();
  assert.equal(dec.decode(await readAll(s)), "request");
  assert.equal(await code(c.write(enc.encode("late"))), "EPIPE");
  await s.write(enc.encode("answer"));
  await s.closeWrite();
  assert.equal(dec.decode(await readAll(c)), "answer");
  // Server half-closes first on a second connection.
  const c2 = await connect({ port: 8002, stack });
  const s2 = await l.accept();
  await s2.write(enc.encode("banner"));
  await s2.closeWrite();
  assert.equal(dec.decode(await readAll(c2)), "banner");
  await c2.write(enc.encode("reply after FIN"));
  await c2.closeWrite();
  assert.equal(dec.decode(await readAll(s2)), "reply after FIN");
  for (const x of [c, s, c2, s2, l]) x.close();
});

Deno.test("tcp embedded: ECONNREFUSED, EADDRINUSE, EINVAL, closed twice", async () => {
  const stack = newStack();
  assert.equal(await code(connect({ port: 8003, stack })), "ECONNREFUSED");
  assert.equal(await code(connect({ hostname: "::1", port: 8003, stack })), "ECONNREFUSED");
  const l = listen({ port: 8004, hostname: "127.0.0.1" }, { stack });
  assert.throws(() => listen({ port: 8004, hostname: "127.0.0.1" }, { stack }), {
    code: "EADDRINUSE",
  });
  assert.throws(() => listen({ port: 70000 }, { stack }), { code: "EINVAL" });
  l.close();
  assert.throws(() => l.close(), { code: "EBADF" });
  assert.equal(await code(l.accept()), "EBADF");
  // The port is free again once the listener is closed.
  listen({ port: 8004, hostname: "127.0.0.1" }, { stack }).close();
});

Deno.test("tcp embedded: for await over the listener ends when it is closed", async () => {
  const stack = newStack();
  const l = listen({ port: 0, hostname: "127.0.0.1" }, { stack });
  const seen: string[] = [];
  const loop = (async () => {
    for await (const c of l) {
      seen.push(dec.decode(await readAll(c)));
      c.close();
    }
  })();
  for (const word of ["one", "two", "three"]) {
    const c = await connect({ port: l.addr.port, stack });
    await c.write(enc.encode(word));
    await c.closeWrite();
    await waitFor(`${word} to be read`, () => seen.includes(word), 5000);
    c.close();
  }
  l.close();
  await loop;
  assert.deepEqual(seen, ["one", "two", "three"]);
});

Deno.test("tcp embedded: readable and writable streams", async () => {
  const stack = newStack();
  const l = listen({ port: 0, hostname: "127.0.0.1" }, { stack });
  const served = echoServer(l);
  const c = await connect({ port: l.addr.port, stack });
  const payload = enc.encode("through the streams ".repeat(5000));
  const writing = (async () => {
    const w = c.writable.getWriter();
    await w.write(payload);
    await w.close(); // a FIN
  })();
  const back = new Uint8Array(await new Response(c.readable).arrayBuffer());
  await writing;
  assert.equal(dec.decode(back), dec.decode(payload));
  l.close();
  await served;
});

Deno.test("tcp embedded: a reader that does not read stops the writer at bounded buffers", async () => {
  const stack = newStack();
  const l = listen({ port: 0, hostname: "127.0.0.1" }, { stack });
  const c = await connect({ port: l.addr.port, stack });
  const s = await l.accept();
  const TOTAL = 32 * 1024 * 1024;
  const chunk = new Uint8Array(64 * 1024).fill(7);
  let written = 0;
  const writing = (async () => {
    while (written < TOTAL) written += await c.write(chunk);
    await c.closeWrite();
  })();
  // Wait until the writer stops making progress (bounded wait), then check how far it got.
  let last = -1;
  await waitFor("the writer to stall", async () => {
    const before = written;
    await new Promise((r) => setTimeout(r, 100));
    const stalled = written === before && written === last;
    last = written;
    return stalled;
  }, 20_000);
  assert.ok(written < 4 * 1024 * 1024, `stalled after ${written} bytes: bounded by the buffers`);
  // Now read everything: the writer resumes and every byte arrives.
  let got = 0;
  const buf = new Uint8Array(64 * 1024);
  for (let n = await s.read(buf); n !== null; n = await s.read(buf)) got += n;
  await writing;
  assert.equal(got, TOTAL);
  c.close();
  s.close();
  l.close();
});

Deno.test("tcp embedded: a peer that closes with unread data resets: ECONNRESET; localhost resolves", async () => {
  const stack = newStack();
  const l = listen({ port: 8005, hostname: "127.0.0.1" }, { stack });
  const c = await connect({ hostname: "localhost", port: 8005, stack });
  assert.equal(c.remoteAddr.hostname, "127.0.0.1");
  const s = await l.accept();
  await c.write(enc.encode("never read")); // over lo0 of an embedded stack: there when this returns
  s.close(); // unread bytes: a reset, as BSD does
  const buf = new Uint8Array(16);
  assert.equal(await code(c.read(buf)), "ECONNRESET");
  assert.equal(await code(c.write(enc.encode("more"))), "EPIPE");
  c.close();
  l.close();
});
