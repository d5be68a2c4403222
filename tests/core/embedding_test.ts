/**
 * The public Stack API as an embedding program uses it: interfaces attached
 * with a transmit function and fed frames, addresses and routes as text, raw
 * sockets, poll, and the route lookup for senders. Nothing here reaches
 * inside the stack.
 */
import assert from "node:assert/strict";
import { Stack } from "../../mod.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { IpAddr } from "../../core/net/inet_addr.ts";
import { RouteOut } from "../../core/net/route_out.ts";
import type { RawDatagram } from "../../core/socket/raw.ts";

const ECHO4 = new Uint8Array([8, 0, 0xf7, 0xfe, 0, 1, 0, 0]); // type 8, id 0, seq 1, checksum filled

/** Two stacks on one virtual Ethernet; frames wait on the wire until `pump`. */
function pair(inet6 = false) {
  let now = 0;
  const clock = () => now;
  const a = new Stack({ inet6, clock });
  const b = new Stack({ inet6, clock });
  const wire: [Stack, Uint8Array][] = [];
  const flags = IFF.BROADCAST | IFF.SIMPLEX | IFF.MULTICAST;
  const pa = a.attachInterface("sim", {
    mtu: 1500,
    lladdr: new Uint8Array([2, 0, 0, 0, 0, 1]),
    flags,
    transmit: (f) => void wire.push([b, f.slice()]),
  }, { prefix: "en" });
  const pb = b.attachInterface("sim", {
    mtu: 1500,
    lladdr: new Uint8Array([2, 0, 0, 0, 0, 2]),
    flags,
    transmit: (f) => void wire.push([a, f.slice()]),
  }, { prefix: "en" });
  const pump = () => {
    for (let i = 0; i < 100 && wire.length > 0; i++) {
      for (const [to, f] of wire.splice(0)) (to === a ? pa : pb).receive(f);
    }
  };
  const advance = (ms: number) => {
    for (let t = 0; t < ms; t += 50) {
      now += 50;
      a.poll();
      b.poll();
      pump();
    }
  };
  return { a, b, pump, advance, wire };
}

Deno.test("Stack: two embedded stacks ping each other through the public API", () => {
  const { a, b, pump } = pair();
  a.addAddress("en0", { family: "inet", addr: "192.0.2.1", netmask: "255.255.255.0" });
  b.addAddress("en0", { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" });
  const got: RawDatagram[] = [];
  const sock = a.openRawSocket("inet", 1, (d) => got.push(d));
  a.sendRaw(sock, "192.0.2.2", ECHO4, {});
  pump();
  const replies = got.filter((d) => d.data[20] === 0);
  assert.equal(replies.length, 1);
  assert.equal(replies[0].from, "192.0.2.2");
  assert.equal(replies[0].ifname, "en0");
  assert.equal(b.stats.icmp.inhist[8], 1);
  assert.equal(a.stats.icmp.inhist[0], 1);
  a.closeRawSocket(sock);
});

Deno.test("Stack: a ping to our own address is answered through lo0 before sendRaw returns", () => {
  const { a } = pair();
  a.addAddress("en0", { family: "inet", addr: "192.0.2.1", netmask: "255.255.255.0" });
  const replies: string[] = [];
  const sock = a.openRawSocket("inet", 1, (d) => {
    if (d.data[20] === 0) replies.push(d.from);
  });
  a.sendRaw(sock, "192.0.2.1", ECHO4, {});
  assert.deepEqual(replies, ["192.0.2.1"], "loopback and the wake-up ran in the same turn");
  a.sendRaw(sock, "127.0.0.1", ECHO4, {});
  assert.deepEqual(replies, ["192.0.2.1", "127.0.0.1"]);
  const lo = a.ifInfo("lo0")[0];
  assert.equal(lo.stats.opackets, lo.stats.ipackets);
});

Deno.test("Stack: a raw socket callback may send from inside its wake-up", () => {
  const { a } = pair();
  let sock = 0;
  let echoes = 0;
  sock = a.openRawSocket("inet", 1, (d) => {
    if (d.data[20] !== 0) return;
    // Each reply triggers the next request, from the callback: five in all.
    if (++echoes < 5) a.sendRaw(sock, "127.0.0.1", ECHO4, {});
  });
  a.sendRaw(sock, "127.0.0.1", ECHO4, {});
  assert.equal(echoes, 5);
  assert.equal(a.stats.icmp.inhist[8], 5);
});

Deno.test("Stack: routeFor gives interface, source, next hop and MTU, current until the table changes", () => {
  const { a } = pair(true);
  a.addAddress("en0", { family: "inet", addr: "192.0.2.1", netmask: "255.255.255.0" });
  a.setMtu("en0", 1400);
  const out = new RouteOut();
  assert.equal(a.routeFor(IpAddr.parse("203.0.113.5")!, out), "ENETUNREACH");
  a.addRoute({ family: "inet", dst: "default", prefixlen: 0, gateway: "192.0.2.254" });
  assert.equal(a.routeFor(IpAddr.parse("203.0.113.5")!, out), null);
  assert.equal(out.iface?.name, "en0");
  assert.equal(out.src.toString(), "192.0.2.1");
  assert.equal(out.nextHop.toString(), "192.0.2.254");
  assert.equal(out.mtu, 1400);
  assert.ok(out.isCurrent(a.routeGeneration));
  a.addRoute({ family: "inet", dst: "203.0.113.0", prefixlen: 24, gateway: "192.0.2.253" });
  assert.ok(!out.isCurrent(a.routeGeneration), "a new route makes the answer stale");
  assert.equal(a.routeFor(IpAddr.parse("203.0.113.5")!, out), null);
  assert.equal(out.nextHop.toString(), "192.0.2.253");
  // Our own address goes through lo0; IPv6 with a link-local destination needs a zone.
  assert.equal(a.routeFor(IpAddr.parse("192.0.2.1")!, out), null);
  assert.equal(out.iface?.name, "lo0");
  assert.equal(a.routeFor(IpAddr.parse("fe80::2")!, out), "EHOSTUNREACH");
  assert.equal(a.routeFor(IpAddr.parse("::1")!, out), null);
  assert.equal(out.iface?.name, "lo0");
  assert.equal(out.src.toString(), "::1");
});

Deno.test("Stack: poll and nextTimeout drive the timers (DAD, then nothing pending)", () => {
  const { a, advance } = pair(true);
  a.setFlags("en0", IFF.UP, 0);
  const tentative = a.ifInfo("en0")[0].addrs.find((x) => x.family === "inet6");
  assert.ok(tentative && tentative.family === "inet6" && tentative.flags.includes("tentative"));
  assert.ok(a.nextTimeout() !== null, "DAD is scheduled");
  advance(5000);
  const done = a.ifInfo("en0")[0].addrs.find((x) => x.family === "inet6");
  assert.ok(done && done.family === "inet6" && !done.flags.includes("tentative"));
});

Deno.test("Stack: IPv4 UDP to a closed port is answered with port unreachable; a bad checksum is counted and dropped", () => {
  const { a, b, pump } = pair();
  a.addAddress("en0", { family: "inet", addr: "192.0.2.1", netmask: "255.255.255.0" });
  b.addAddress("en0", { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" });
  const errors: RawDatagram[] = [];
  a.openRawSocket("inet", 1, (d) => errors.push(d));
  const udp = a.openRawSocket("inet", 17, () => {});
  // UDP 1234 -> 9, length 12, checksum 0 (none, legal over IPv4), 4 bytes of data.
  a.sendRaw(udp, "192.0.2.2", new Uint8Array([4, 210, 0, 9, 0, 12, 0, 0, 1, 2, 3, 4]), {});
  pump();
  assert.equal(b.stats.udp.noport, 1);
  assert.equal(errors.filter((d) => d.data[20] === 3 && d.data[21] === 3).length, 1);
  // The same with a wrong checksum: counted as badsum, no answer (RFC 1122 §4.1.3.4).
  a.sendRaw(udp, "192.0.2.2", new Uint8Array([4, 210, 0, 9, 0, 12, 0x12, 0x34, 1, 2, 3, 4]), {});
  pump();
  assert.equal(b.stats.udp.badsum, 1);
  assert.equal(b.stats.udp.noport, 1);
  assert.equal(errors.filter((d) => d.data[20] === 3).length, 1);
});
