/**
 * TCP between two sockets of one embedded stack over lo0: the handshake,
 * bytes both ways, half-close, close and TIME_WAIT, and the errors of
 * connect and bind, for both families. Everything on lo0 runs within the
 * call that started it, so each step is checked right after its call.
 */

import assert from "node:assert/strict";
import { Stack } from "../../core/stack.ts";
import { ErrnoError } from "../../core/errno.ts";
import { TCP_EVENT } from "../../core/socket/tcp_handle.ts";
import { prng } from "../kit/bytes.ts";

function patterned(n: number, seed: number): Uint8Array {
  const next = prng(seed), out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next(256);
  return out;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ErrnoError, String(e));
    return e.code;
  }
  throw new Error("did not throw");
}

for (const family of [4, 6] as const) {
  const lo = family === 4 ? "127.0.0.1" : "::1";

  Deno.test(`tcp lo0 IPv${family}: connect, accept, bytes both ways, half-close, close`, () => {
    const stack = new Stack({ inet6: true });
    const server = stack.openTcp(family);
    server.bind(lo, 7000);
    server.listen(5);
    const client = stack.openTcp(family);
    let events = 0;
    client.onEvent = (e) => events |= e;
    client.connect(lo, 7000);
    assert.deepEqual(client.state, "ESTABLISHED");
    assert.ok(events & TCP_EVENT.CONNECTED);
    const conn = server.accept();
    assert.ok(conn !== null);
    assert.deepEqual(conn.state, "ESTABLISHED");
    assert.deepEqual(conn.remote.port, client.local.port);
    assert.deepEqual(conn.local.port, 7000);
    assert.deepEqual(server.accept(), null);

    const enc = new TextEncoder(), dec = new TextDecoder();
    assert.deepEqual(client.write(enc.encode("ping")), 4);
    const buf = new Uint8Array(64);
    let n = conn.read(buf);
    assert.deepEqual(dec.decode(buf.subarray(0, n)), "ping");
    assert.deepEqual(conn.read(buf), 0);
    conn.write(enc.encode("pong"));
    n = client.read(buf);
    assert.deepEqual(dec.decode(buf.subarray(0, n)), "pong");

    client.shutdownWrite();
    assert.deepEqual(client.state, "FIN_WAIT_2");
    assert.deepEqual(conn.state, "CLOSE_WAIT");
    assert.deepEqual(conn.read(buf), -1);
    conn.write(enc.encode("after half-close"));
    n = client.read(buf);
    assert.deepEqual(dec.decode(buf.subarray(0, n)), "after half-close");
    conn.close();
    assert.deepEqual(client.state, "TIME_WAIT");
    assert.deepEqual(client.read(buf), -1);
    client.close();
    // 2·MSL later the TIME_WAIT is gone.
    stack.poll(stack.nextTimeout()! + 1);
    for (let i = 0; i < 10 && stack.nextTimeout() !== null; i++) {
      stack.poll(stack.nextTimeout()! + 1);
    }
    assert.deepEqual(client.state, "CLOSED");
  });

  Deno.test(`tcp lo0 IPv${family}: 4 MiB arrive intact through small reads and writes`, () => {
    const stack = new Stack({ inet6: true });
    const server = stack.openTcp(family);
    server.bind(lo, 7001);
    server.listen(1);
    const client = stack.openTcp(family);
    client.connect(lo, 7001);
    const conn = server.accept()!;
    const data = patterned(4 << 20, 7);
    const got = new Uint8Array(data.length);
    let sent = 0, received = 0;
    const chunk = new Uint8Array(3001);
    let stalls = 0;
    for (let i = 0; i < 1_000_000 && received < data.length; i++) {
      const w = sent < data.length
        ? client.write(data, sent, Math.min(7777, data.length - sent))
        : 0;
      sent += w;
      const r = conn.read(chunk);
      if (r > 0) {
        got.set(chunk.subarray(0, r), received);
        received += r;
      }
      if (w === 0 && r === 0) {
        // Nagle waits for the delayed ACK: let virtual time reach it.
        stalls++;
        stack.poll(stack.nextTimeout() ?? 0);
      }
    }
    assert.ok(stalls < 1000, `${stalls} stalls`);
    assert.deepEqual(received, data.length);
    assert.deepEqual(got, data);
  });

  Deno.test(`tcp lo0 IPv${family}: a closed port refuses, a taken port is in use`, () => {
    const stack = new Stack({ inet6: true });
    const client = stack.openTcp(family);
    let events = 0;
    client.onEvent = (e) => events |= e;
    client.connect(lo, 9);
    assert.ok(events & TCP_EVENT.ERROR);
    assert.deepEqual(client.error, "ECONNREFUSED");
    assert.equal(codeOf(() => client.write(new Uint8Array(1))), "ECONNREFUSED");
    const a = stack.openTcp(family);
    a.bind(lo, 7002);
    a.listen();
    const b = stack.openTcp(family);
    assert.equal(codeOf(() => b.bind(lo, 7002)), "EADDRINUSE");
    assert.deepEqual(stack.stats.tcp.noport, 1);
  });
}
