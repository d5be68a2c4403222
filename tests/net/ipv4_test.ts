/** IPv4, ARP and ICMP between stacks on a virtual network, in virtual time. */
import { stackCore } from "../../core/stack.ts";
import assert from "node:assert/strict";
import { Net } from "../kit/netsim.ts";
import { routed4 } from "../kit/topologies.ts";
import type { Stack } from "../../core/stack.ts";
import type { RawDatagram } from "../../core/socket/raw.ts";
import { emitIcmpEcho, emitIcmpError, ICMP_TYPE, IcmpView } from "../../core/wire/icmp.ts";
import { emitIpv4Header, Ipv4View } from "../../core/wire/ipv4.ts";
import { routeFlagLetters } from "../../core/net/route_flags.ts";
import { ErrnoError } from "../../core/errno.ts";

/** Opens a raw ICMP socket on `s` collecting what it receives. */
function icmpSocket(s: Stack): { sock: number; got: RawDatagram[] } {
  const got: RawDatagram[] = [];
  const sock = s.openRawSocket("inet", 1, (d) => got.push(d));
  return { sock, got };
}

function echoRequest(id: number, seq: number, size = 56): Uint8Array {
  const msg = new Uint8Array(8 + size);
  for (let i = 0; i < size; i++) msg[8 + i] = i & 0xff;
  emitIcmpEcho(msg, 0, { type: ICMP_TYPE.ECHO, id, seq }, size);
  return msg;
}

/** The ICMP message inside a raw-socket datagram (IP header included). */
function icmpOf(
  d: RawDatagram,
): { type: number; code: number; id: number; seq: number; ttl: number; len: number } {
  const ip = new Ipv4View();
  assert.equal(ip.wrap(d.data, 0, d.data.length), null);
  const icmp = new IcmpView();
  assert.equal(icmp.wrap(d.data, ip.payloadOffset, ip.payloadLength), null);
  assert.ok(icmp.checksumOk());
  return {
    type: icmp.type,
    code: icmp.code,
    id: icmp.id,
    seq: icmp.seq,
    ttl: ip.ttl,
    len: ip.payloadLength,
  };
}

function twoHosts() {
  const net = new Net();
  const seg = net.segment();
  const a = net.stack(), b = net.stack();
  net.attach(a, seg, 1);
  net.attach(b, seg, 2);
  a.addAddress("en0", { family: "inet", addr: "192.0.2.1", netmask: "255.255.255.0" });
  b.addAddress("en0", { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" });
  net.run();
  return { net, seg, a, b };
}

Deno.test("ping across a segment: ARP resolves, the echo is answered", () => {
  const { net, a, b } = twoHosts();
  const { sock, got } = icmpSocket(a);
  a.sendRaw(sock, "192.0.2.2", echoRequest(77, 0), {});
  net.run();
  const replies = got.map(icmpOf).filter((m) => m.type === ICMP_TYPE.ECHOREPLY);
  assert.equal(replies.length, 1);
  assert.deepEqual([replies[0].id, replies[0].seq, replies[0].ttl], [77, 0, 64]);
  assert.equal(got.find((d) => icmpOf(d).type === 0)!.from, "192.0.2.2");
  // Both caches learned each other.
  assert.equal(
    a.neighborList("inet").find((n) => n.addr === "192.0.2.2")?.lladdr,
    "02:00:00:00:00:02",
  );
  assert.equal(
    b.neighborList("inet").find((n) => n.addr === "192.0.2.1")?.lladdr,
    "02:00:00:00:00:01",
  );
  assert.equal(b.stats.icmp.inhist[8], 1);
  assert.equal(b.stats.icmp.outhist[0], 1);
});

Deno.test("a written net.inet.ip.ttl is the TTL of what the stack sends next", () => {
  const { net, a, b } = twoHosts();
  const { sock, got } = icmpSocket(a);
  b.sysctl.set("net.inet.ip.ttl", "32");
  a.sendRaw(sock, "192.0.2.2", echoRequest(78, 0), {});
  net.run();
  const replies = got.map(icmpOf).filter((m) => m.type === ICMP_TYPE.ECHOREPLY);
  assert.deepEqual(replies.map((m) => m.ttl), [32]);
});

Deno.test("a gratuitous ARP announces a new address", () => {
  const { seg, a } = twoHosts();
  const before = seg.log.length;
  a.addAddress("en0", { family: "inet", addr: "192.0.2.9", netmask: "255.255.255.0" });
  const frame = seg.log[before];
  assert.ok(frame, "a frame went out");
  assert.equal((frame[12] << 8) | frame[13], 0x0806);
  // sender and target protocol addresses are both the new address
  assert.deepEqual([...frame.subarray(28, 32)], [192, 0, 2, 9]);
  assert.deepEqual([...frame.subarray(38, 42)], [192, 0, 2, 9]);
});

Deno.test("large pings are fragmented, reassembled and answered in fragments", () => {
  const { net, seg, a, b } = twoHosts();
  const { sock, got } = icmpSocket(a);
  a.sendRaw(sock, "192.0.2.2", echoRequest(1, 5, 4000), {});
  net.run();
  const reply = got.map(icmpOf).find((m) => m.type === ICMP_TYPE.ECHOREPLY);
  assert.ok(reply);
  assert.equal(reply.len, 4008);
  const isIp4 = (f: Uint8Array) => f[12] === 0x08 && f[13] === 0x00;
  const fragWord = (f: Uint8Array) => (f[20] << 8) | f[21]; // flags + offset
  const fragments = seg.log.filter((f) => isIp4(f) && (fragWord(f) & 0x3fff) !== 0);
  assert.ok(fragments.length >= 6, `fragments on the wire: ${fragments.length}`);
  assert.ok(seg.log.every((f) => f.length <= 1514));
  assert.equal(a.stats.ip.reassembled, 1);
  assert.equal(a.stats.ip.fragmented, 1);
  // Every buffer of the exchange went back to its pool exactly once (checked pools).
  for (const s of [a, b]) {
    assert.deepEqual([stackCore(s).pool.checked, stackCore(s).pool.stats.outstanding], [true, 0]);
  }
});

Deno.test("an unanswered ARP gives up after maxtries and fails fast while down", () => {
  const { net, seg, a } = twoHosts();
  const { sock } = icmpSocket(a);
  a.sendRaw(sock, "192.0.2.77", echoRequest(1, 0), {});
  net.advance(10_000);
  const requests = seg.log.filter((f) => f[12] === 8 && f[13] === 6 && f[21] === 1 && f[41] === 77);
  assert.equal(requests.length, 5, "net.inet.arp.maxtries requests");
  assert.throws(
    () => a.sendRaw(sock, "192.0.2.77", echoRequest(1, 1), {}),
    (e) => e instanceof ErrnoError && e.code === "EHOSTDOWN",
  );
  net.advance(21_000);
  a.sendRaw(sock, "192.0.2.77", echoRequest(1, 2), {}); // down time over: asks again
  assert.equal(a.stats.arp.dfrdropped, 1);
});

Deno.test("UDP to a closed port gets port unreachable; unknown protocols protocol unreachable", () => {
  const { net, a } = twoHosts();
  const { got } = icmpSocket(a);
  const udpSock = a.openRawSocket("inet", 17, () => {});
  a.sendRaw(udpSock, "192.0.2.2", new Uint8Array([0x30, 0x39, 0x00, 0x07, 0, 8, 0, 0]), {});
  const gre = a.openRawSocket("inet", 47, () => {});
  a.sendRaw(gre, "192.0.2.2", new Uint8Array(4), {});
  net.run();
  const errs = got.map(icmpOf).filter((m) => m.type === ICMP_TYPE.UNREACH).map((m) => m.code);
  assert.deepEqual(errs.sort(), [2, 3]);
});

Deno.test("ping to our own address goes through lo0; to 127.0.0.1 too", () => {
  const { net, a } = twoHosts();
  const { sock, got } = icmpSocket(a);
  a.sendRaw(sock, "192.0.2.1", echoRequest(3, 1), {});
  a.sendRaw(sock, "127.0.0.1", echoRequest(3, 2), {});
  net.run();
  const replies = got.filter((d) => icmpOf(d).type === 0);
  assert.deepEqual(replies.map((d) => [d.from, d.ifname]), [["192.0.2.1", "lo0"], [
    "127.0.0.1",
    "lo0",
  ]]);
  assert.equal(a.ifInfo("lo0")[0].stats.opackets, 4);
});

function routed(forwarding: boolean) {
  return routed4({ forwarding });
}

Deno.test("a router forwards between segments and decrements the TTL", () => {
  const { net, h1, r } = routed(true);
  const { sock, got } = icmpSocket(h1);
  for (let seq = 0; seq < 3; seq++) h1.sendRaw(sock, "198.51.100.10", echoRequest(9, seq), {});
  net.run();
  const replies = got.map(icmpOf).filter((m) => m.type === 0);
  assert.equal(replies.length, 3);
  assert.equal(replies[0].ttl, 63, "one hop back");
  assert.equal(r.stats.ip.forward, 6);
  assert.ok(
    r.stats.ip.fastforward >= 4,
    "the flow cache took over after the first packet each way",
  );
});

Deno.test("with forwarding off the router drops; TTL 1 gets time exceeded", () => {
  const off = routed(false);
  const s1 = icmpSocket(off.h1);
  off.h1.sendRaw(s1.sock, "198.51.100.10", echoRequest(9, 0), {});
  off.net.run();
  assert.equal(s1.got.length, 0);
  assert.equal(off.r.stats.ip.cantforward, 1);

  const on = routed(true);
  const s2 = icmpSocket(on.h1);
  on.h1.sendRaw(s2.sock, "198.51.100.10", echoRequest(9, 0), { ttl: 1 });
  on.net.run();
  const msgs = s2.got.map(icmpOf);
  assert.deepEqual(msgs.map((m) => [m.type, m.code]), [[ICMP_TYPE.TIMXCEED, 0]]);
  assert.equal(s2.got[0].from, "192.0.2.1");
});

Deno.test("no route gives ENETUNREACH locally and net unreachable when forwarding", () => {
  const { net, h1, r } = routed(true);
  const { sock } = icmpSocket(r);
  assert.throws(
    () => r.sendRaw(sock, "203.0.113.5", echoRequest(1, 1), {}),
    (e) => e instanceof ErrnoError && e.code === "ENETUNREACH",
  );
  const s = icmpSocket(h1);
  h1.sendRaw(s.sock, "203.0.113.5", echoRequest(1, 1), {});
  net.run();
  assert.deepEqual(s.got.map(icmpOf).map((m) => [m.type, m.code]), [[3, 0]]);
});

Deno.test("ICMP errors are rate limited by net.inet.icmp.errppslimit", () => {
  const { net, h1, r } = routed(true);
  r.sysctl.set("net.inet.icmp.errppslimit", "3");
  const s = icmpSocket(h1);
  for (let i = 0; i < 10; i++) h1.sendRaw(s.sock, "203.0.113.5", echoRequest(1, i), {});
  net.run();
  assert.equal(s.got.length, 3);
  net.advance(1000);
  h1.sendRaw(s.sock, "203.0.113.5", echoRequest(1, 11), {});
  net.run();
  assert.equal(s.got.length, 4);
});

Deno.test("fragmentation needed teaches a path MTU: a dynamic host route, then smaller fragments, until it expires", () => {
  const { net, seg, h1 } = (() => {
    const r = routed(true);
    return { ...r, seg: r.net.segments[0] };
  })();
  const { sock } = icmpSocket(h1);
  h1.sendRaw(sock, "198.51.100.10", echoRequest(1, 0), {});
  net.run();
  // A router somewhere says the path to 198.51.100.10 takes 576 bytes at most.
  const quoted = new Uint8Array(28);
  emitIpv4Header(quoted, 0, {
    tos: 0,
    totalLength: 1500,
    id: 1,
    df: true,
    mf: false,
    fragOffset: 0,
    ttl: 63,
    protocol: 1,
    src: 0xc000020a,
    dst: 0xc633640a,
  });
  const msg = new Uint8Array(8 + 28);
  emitIcmpError(msg, 0, { type: 3, code: 4, extra: 576 }, quoted);
  const fromRouter = new Uint8Array(20 + msg.length);
  emitIpv4Header(fromRouter, 0, {
    tos: 0,
    totalLength: fromRouter.length,
    id: 9,
    df: false,
    mf: false,
    fragOffset: 0,
    ttl: 64,
    protocol: 1,
    src: 0xc0000201,
    dst: 0xc000020a,
  });
  fromRouter.set(msg, 20);
  stackCore(h1).ip4.input(stackCore(h1).interface("en0"), fromRouter, 0, fromRouter.length, false);
  const host = h1.routeInfo().find((r) => r.dst === "198.51.100.10");
  assert.ok(host, "a host route was made");
  assert.equal(host.mtu, 576);
  assert.equal(routeFlagLetters(host.flags), "UGHD");
  assert.equal(h1.stats.icmp.pmtuchg, 1);
  const before = seg.log.length;
  h1.sendRaw(sock, "198.51.100.10", echoRequest(1, 1, 1000), {});
  net.run();
  const sentByH1 = seg.log.slice(before).filter((f) =>
    f[6] === 2 && f[11] === 1 && f[12] === 8 && f[13] === 0
  );
  assert.ok(sentByH1.length >= 2 && sentByH1.every((f) => f.length - 14 <= 576));
  net.advance(601_000);
  assert.equal(h1.routeInfo().find((r) => r.dst === "198.51.100.10"), undefined, "expired");
});

Deno.test("ARP entries in use are refreshed by a unicast request before they expire; idle ones lapse", () => {
  const { net, seg, a, b } = twoHosts();
  a.sysctl.set("net.inet.arp.keep", "60");
  a.sysctl.set("net.inet.arp.refresh", "10");
  a.sysctl.set("net.inet.arp.prune", "5");
  b.sysctl.set("net.inet.arp.keep", "60");
  b.sysctl.set("net.inet.arp.prune", "5");
  const { sock } = icmpSocket(a);
  a.sendRaw(sock, "192.0.2.2", echoRequest(1, 0), {});
  net.run();
  const isRequestFromA = (f: Uint8Array) =>
    f[12] === 8 && f[13] === 6 && f[21] === 1 && f[11] === 1;
  const before = seg.log.length;
  net.advance(55_000); // within the last 10 s of the 60 s lifetime
  a.sendRaw(sock, "192.0.2.2", echoRequest(1, 1), {});
  net.run();
  const refresh = seg.log.slice(before).filter(isRequestFromA);
  assert.equal(refresh.length, 1, "one refresh request");
  assert.deepEqual(
    [...refresh[0].subarray(0, 6)],
    [2, 0, 0, 0, 0, 2],
    "sent unicast to the known address",
  );
  net.advance(30_000); // the refreshed entry lives on
  assert.ok(a.neighborList("inet").some((n) => n.addr === "192.0.2.2" && n.lladdr));
  // With no more traffic, b's entry for a (last renewed by a's refresh) lapses and is swept.
  net.advance(120_000);
  assert.ok(!b.neighborList("inet").some((n) => n.addr === "192.0.2.1"));
});
