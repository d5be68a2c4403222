/**
 * The UDP port table and binding rules on one stack (lo0 only, plus a second
 * address on it): EADDRNOTAVAIL, EACCES, EADDRINUSE and the reuse options,
 * ephemeral ports and their exhaustion, lookup order, dual-stack overlap.
 */
import assert from "node:assert/strict";
import { Stack } from "../../core/stack.ts";
import { ErrnoError } from "../../core/errno.ts";
import { Endpoint } from "../../core/net/inet_addr.ts";
import type { UdpHandle } from "../../core/socket/udp_handle.ts";

function stack(inet6 = false): Stack {
  const s = new Stack({ inet6 });
  s.addAddress("lo0", { family: "inet", addr: "192.0.2.1", netmask: "255.255.255.255" });
  return s;
}

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof ErrnoError) return e.code;
    throw e;
  }
}

/** What a socket received: "text from source". */
function inbox(h: UdpHandle): string[] {
  const got: string[] = [];
  h.onReadable = () => {
    const from = new Endpoint();
    for (let d = h.receive(from); d !== null; d = h.receive(from)) {
      got.push(`${new TextDecoder().decode(d)} from ${from}`);
    }
  };
  return got;
}

const text = (t: string) => new TextEncoder().encode(t);

Deno.test("bind: the address must be ours, a broadcast or a group; ports below 1024 need privilege", () => {
  const s = stack();
  assert.equal(code(() => s.openUdp(4).bind("198.51.100.7", 5000)), "EADDRNOTAVAIL");
  assert.equal(code(() => s.openUdp(4).bind("192.0.2.1", 5000)), null);
  assert.equal(code(() => s.openUdp(4).bind("239.1.1.1", 5000)), null);
  assert.equal(code(() => s.openUdp(4, { privileged: false }).bind(null, 53)), "EACCES");
  assert.equal(code(() => s.openUdp(4, { privileged: false }).bind(null, 1024)), null);
  assert.equal(code(() => s.openUdp(4).bind(null, 53)), null);
  const twice = s.openUdp(4);
  twice.bind(null, 0);
  assert.equal(code(() => twice.bind(null, 0)), "EINVAL");
  assert.equal(code(() => s.openUdp(4).bind("2001:db8::1", 1)), "EAFNOSUPPORT");
});

Deno.test("bind: EADDRINUSE, SO_REUSEADDR for a specific address beside the wildcard, SO_REUSEPORT on both for duplicates", () => {
  const s = stack();
  const w = s.openUdp(4);
  w.bind(null, 6000);
  assert.equal(code(() => s.openUdp(4).bind(null, 6000)), "EADDRINUSE");
  assert.equal(code(() => s.openUdp(4).bind("192.0.2.1", 6000)), "EADDRINUSE");
  const spec = s.openUdp(4);
  spec.setOption("SO_REUSEADDR", true);
  spec.bind("192.0.2.1", 6000);
  const dup = s.openUdp(4);
  dup.setOption("SO_REUSEADDR", true);
  assert.equal(
    code(() => dup.bind("192.0.2.1", 6000)),
    "EADDRINUSE",
    "equal addresses need REUSEPORT",
  );

  const p1 = s.openUdp(4), p2 = s.openUdp(4), p3 = s.openUdp(4);
  p1.setOption("SO_REUSEPORT", 1);
  p1.bind(null, 7000);
  p2.setOption("SO_REUSEPORT", 1);
  assert.equal(code(() => p2.bind(null, 7000)), null);
  assert.equal(code(() => p3.bind(null, 7000)), "EADDRINUSE", "only when both set it");
  // A multicast address: SO_REUSEADDR counts as SO_REUSEPORT.
  const m1 = s.openUdp(4), m2 = s.openUdp(4);
  m1.setOption("SO_REUSEADDR", 1);
  m2.setOption("SO_REUSEADDR", 1);
  m1.bind("239.1.1.1", 7001);
  assert.equal(code(() => m2.bind("239.1.1.1", 7001)), null);
  // Closing frees the port at once.
  w.close();
  assert.equal(code(() => s.openUdp(4).bind(null, 6000)), "EADDRINUSE", "the specific one remains");
  spec.close();
  assert.equal(code(() => s.openUdp(4).bind(null, 6000)), null);
});

Deno.test("bind: a dual-stack IPv6 wildcard overlaps IPv4; IPV6_V6ONLY does not", () => {
  const s = stack(true);
  s.openUdp(4).bind(null, 8000);
  assert.equal(code(() => s.openUdp(6).bind(null, 8000)), "EADDRINUSE");
  const only = s.openUdp(6);
  only.setOption("IPV6_V6ONLY", true);
  only.bind(null, 8000);
  assert.equal(code(() => only.setOption("IPV6_V6ONLY", false)), "EINVAL", "fixed once bound");
  assert.equal(
    code(() => s.openUdp(6).bind("::1", 8000)),
    "EADDRINUSE",
    "overlaps the v6 wildcard",
  );
  assert.equal(code(() => s.openUdp(6).bind("2001:db8::99", 8001)), "EADDRNOTAVAIL");
  const dual = s.openUdp(6);
  dual.bind(null, 8002);
  assert.equal(code(() => s.openUdp(4).bind("127.0.0.1", 8002)), "EADDRINUSE");
});

Deno.test("ephemeral ports come from anonportmin..anonportmax; exhaustion is EAGAIN", () => {
  const s = stack();
  s.sysctl.set("net.inet.ip.anonportmin", "40000");
  s.sysctl.set("net.inet.ip.anonportmax", "40009");
  const socks: UdpHandle[] = [];
  for (let i = 0; i < 10; i++) {
    const h = s.openUdp(4);
    h.bind();
    socks.push(h);
  }
  const ports = socks.map((h) => h.localAddress().port).sort();
  assert.deepEqual(ports, Array.from({ length: 10 }, (_, i) => 40000 + i));
  assert.equal(code(() => s.openUdp(4).bind()), "EAGAIN");
  assert.equal(code(() => s.openUdp(4).sendTo(text("x"), "127.0.0.1", 9)), "EAGAIN");
  const freed = socks[3].localAddress().port;
  socks[3].close();
  const again = s.openUdp(4);
  again.bind();
  assert.equal(again.localAddress().port, freed);
});

Deno.test("lookup: the connected 4-tuple first, then the bound address, then the wildcard", () => {
  const s = stack();
  const wild = s.openUdp(4), bound = s.openUdp(4), conn = s.openUdp(4);
  for (const h of [wild, bound, conn]) h.setOption("SO_REUSEPORT", 1);
  wild.bind(null, 5000);
  bound.bind("127.0.0.1", 5000);
  conn.bind("127.0.0.1", 5000);
  const peer = s.openUdp(4), other = s.openUdp(4);
  peer.bind("127.0.0.1", 6000);
  other.bind("127.0.0.1", 6001);
  conn.connect("127.0.0.1", 6000);
  const [w, b, c] = [inbox(wild), inbox(bound), inbox(conn)];
  peer.sendTo(text("p"), "127.0.0.1", 5000);
  other.sendTo(text("o"), "127.0.0.1", 5000);
  other.sendTo(text("x"), "192.0.2.1", 5000);
  assert.deepEqual(c, ["p from 127.0.0.1:6000"]);
  assert.deepEqual(b, ["o from 127.0.0.1:6001"]);
  assert.deepEqual(w, ["x from 127.0.0.1:6001"], "the sender is bound to 127.0.0.1");
  assert.equal(s.stats.udp.pcbhashmiss, 2);
  assert.deepEqual([conn.remoteAddress().toString(), conn.localAddress().toString()], [
    "127.0.0.1:6000",
    "127.0.0.1:5000",
  ]);
  // A connected socket takes nothing from other peers; disconnected, it is a bound one again.
  conn.disconnect();
  assert.equal(code(() => conn.remoteAddress()), "ENOTCONN");
  assert.equal(code(() => conn.disconnect()), "ENOTCONN");
});

Deno.test("connect fixes the local address from the route; send needs (or refuses) an address", () => {
  const s = stack();
  const h = s.openUdp(4);
  assert.equal(code(() => h.send(text("x"))), "ENOTCONN");
  h.connect("192.0.2.1", 9);
  assert.equal(h.localAddress().addr.toString(), "192.0.2.1");
  assert.ok(h.localAddress().port >= 49152);
  assert.equal(code(() => h.connect("127.0.0.1", 9)), "EISCONN");
  assert.equal(code(() => h.sendTo(text("x"), "127.0.0.1", 9)), "EISCONN");
  assert.equal(code(() => s.openUdp(4).connect("198.51.100.1", 9)), "ENETUNREACH");
  assert.equal(code(() => s.openUdp(4).connect("127.0.0.1", 0)), "EADDRNOTAVAIL");
});

Deno.test("options: buffers capped by kern.sbmax (ENOBUFS), family options, SO_ERROR", () => {
  const s = stack(true);
  const h = s.openUdp(4);
  assert.equal(h.getOption("SO_RCVBUF"), s.sysctl.int("net.inet.udp.recvspace"));
  assert.equal(h.getOption("SO_SNDBUF"), 9216);
  assert.equal(code(() => h.setOption("SO_RCVBUF", s.sysctl.int("kern.sbmax") + 1)), "ENOBUFS");
  h.setOption("SO_RCVBUF", 100_000);
  assert.equal(h.getOption("SO_RCVBUF"), 100_000);
  assert.equal(h.getOption("IP_TTL"), 64);
  h.setOption("IP_TTL", 7);
  assert.equal(h.getOption("IP_TTL"), 7);
  assert.equal(code(() => h.setOption("IPV6_UNICAST_HOPS", 3)), "ENOPROTOOPT");
  assert.equal(code(() => s.openUdp(6).setOption("IP_TOS", 3)), "ENOPROTOOPT");
  assert.equal(h.getOption("SO_ERROR"), 0);
  assert.equal(code(() => new Stack({ inet6: false }).openUdp(6)), "EAFNOSUPPORT");
});
