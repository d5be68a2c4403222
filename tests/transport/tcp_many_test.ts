/**
 * Many connections between two stacks on a virtual segment: 10 000
 * concurrent connections open, carry a byte each way, close, and leave
 * nothing behind once TIME_WAIT has run out; a listener's queue is bounded
 * by its backlog.
 */
import assert from "node:assert/strict";
import { pair } from "../kit/topologies.ts";
import { stackCore } from "../../core/stack.ts";
import type { TcpHandle } from "../../core/socket/tcp_handle.ts";

Deno.test("tcp: 10 000 concurrent connections open, talk, close and are gone after 2·MSL", () => {
  const { net, a, b } = pair();
  const N = 10_000;
  const server = b.openTcp(4);
  server.bind("192.0.2.2", 80);
  server.listen(4096);
  const accepted: TcpHandle[] = [];
  server.onEvent = () => {
    for (let c = server.accept(); c !== null; c = server.accept()) accepted.push(c);
  };
  const clients: TcpHandle[] = [];
  for (let i = 0; i < N; i++) {
    const c = a.openTcp(4);
    c.connect("192.0.2.2", 80);
    clients.push(c);
    if (i % 100 === 99) net.run();
  }
  net.run();
  assert.equal(clients.filter((c) => c.state === "ESTABLISHED").length, N);
  assert.equal(accepted.length, N);
  assert.equal(new Set(clients.map((c) => c.local.port)).size, N, "distinct ephemeral ports");
  const one = new Uint8Array([42]), buf = new Uint8Array(4);
  for (const c of clients) c.write(one);
  net.run();
  for (const s of accepted) {
    assert.equal(s.read(buf), 1);
    s.write(one);
  }
  net.run();
  for (const c of clients) assert.equal(c.read(buf), 1);
  for (const c of clients) c.close();
  net.run();
  for (const s of accepted) {
    assert.equal(s.read(buf), -1);
    s.close();
  }
  net.run();
  assert.equal(a.stats.tcp.connects, N);
  assert.equal(b.stats.tcp.accepts, N);
  net.advance(61_000); // 2·MSL
  net.run();
  assert.ok(clients.every((c) => c.state === "CLOSED"));
  assert.ok(accepted.every((c) => c.state === "CLOSED"));
});

Deno.test("tcp: a listener's queue stops at its backlog; the rest wait in the SYN cache until accept makes room", () => {
  const { net, a, b } = pair();
  const server = b.openTcp(4);
  server.bind("192.0.2.2", 81);
  server.listen(3);
  const clients: TcpHandle[] = [];
  for (let i = 0; i < 5; i++) {
    const c = a.openTcp(4);
    c.connect("192.0.2.2", 81);
    clients.push(c);
  }
  net.run();
  // Every client had its SYN-ACK; the server queued three and keeps the other two as SYN cache entries.
  assert.equal(clients.filter((c) => c.state === "ESTABLISHED").length, 5);
  for (let i = 0; i < 3; i++) assert.ok(server.accept() !== null);
  assert.equal(server.accept(), null);
  assert.equal(b.stats.tcp.sc_added, 5);
  assert.equal(b.stats.tcp.sc_completed, 3);
  // The SYN-ACKs go again after 3 s; the clients' answers now find room.
  net.advance(3_100);
  net.run();
  assert.ok(server.accept() !== null);
  assert.ok(server.accept() !== null);
  assert.equal(b.stats.tcp.sc_completed, 5);
});

Deno.test("tcp: netstat's limit names an unresolved next hop while the neighbour does not answer", () => {
  const { net, seg, a, b } = pair();
  const server = b.openTcp(4);
  server.bind("192.0.2.2", 82);
  server.listen(1);
  const client = a.openTcp(4);
  client.connect("192.0.2.2", 82);
  net.run();
  const limitOf = () => stackCore(a).tcp.tcpPcbs().find((p) => p.remote.port === 82)!.limit;
  assert.notEqual(limitOf(), "neighbour");
  seg.drop = (f) => f[12] === 0x08 && f[13] === 0x06; // ARP no longer answered
  a.neighborDelete("inet", "192.0.2.2");
  client.write(new Uint8Array(100));
  net.run();
  assert.equal(limitOf(), "neighbour");
  seg.drop = () => false;
  net.advance(2_000); // ARP asks again, the frames held go
  net.run();
  assert.notEqual(limitOf(), "neighbour");
});
