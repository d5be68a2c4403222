/**
 * ICMP and ICMPv6 errors delivered up to the protocol of the packet they
 * quote, in virtual time: a recording protocol on an unused number (253, RFC
 * 3692 experimentation) sits on h1, h1 — r — h2 answer its packets with
 * errors, and each test checks what `controlInput` received.
 */
import assert from "node:assert/strict";
import { type Stack, stackCore } from "../../core/stack.ts";
import { routed4 as routed4Net, routed6 as routed6Net } from "../kit/topologies.ts";
import type { NetError, TransportProtocol } from "../../core/net/protocols.ts";
import { parseIp4, parseIp6 } from "../../core/net/ip_addr.ts";
import { emitIcmpError } from "../../core/wire/icmp.ts";
import { emitIpv4Header } from "../../core/wire/ipv4.ts";
import { fillIcmp6Checksum, ICMP6_TYPE } from "../../core/wire/icmpv6.ts";
import { emitIpv6Header, IPPROTO6 } from "../../core/wire/ipv6.ts";
import { finishChecksum, sumWords } from "../../core/wire/checksum.ts";

/** The experimental protocol number the tests own. */
const EXP = 253;

/** What a protocol saw of one error (copied: the NetError is reused). */
interface Seen {
  kind: string;
  type: number;
  code: number;
  errno: string | null;
  mtu: number;
  proto: number;
  src: string;
  dst: string;
  srcZone: number;
  dstZone: number;
  srcPort: number;
  dstPort: number;
  length: number;
  /** The host route's MTU towards the peer when the error arrived (PMTU learned first). */
  routeMtu?: number;
}

function record(s: Stack, into: Seen[], e: NetError): void {
  into.push({
    kind: e.kind,
    type: e.type,
    code: e.code,
    errno: e.errno,
    mtu: e.mtu,
    proto: e.proto,
    src: e.src.toString(),
    dst: e.dst.toString(),
    srcZone: e.src.zone,
    dstZone: e.dst.zone,
    srcPort: e.srcPort,
    dstPort: e.dstPort,
    length: e.length,
    routeMtu: s.routeInfo().find((r) => r.dst === e.dst.toString())?.mtu,
  });
}

/** Registers a recording protocol for EXP on both families of `s`. */
function recorder(s: Stack): Seen[] {
  const seen: Seen[] = [];
  const proto: TransportProtocol = {
    name: "exp",
    input() {},
    controlInput: (e) => record(s, seen, e),
  };
  stackCore(s).protocols.register(EXP, stackCore(s).ip6 ? [4, 6] : [4], proto);
  return seen;
}

/** Makes the registered UDP record its errors too (a wrapper on the same object). */
function recordUdp(s: Stack): Seen[] {
  const seen: Seen[] = [];
  const udp: TransportProtocol = stackCore(s).protocols.get(4, IPPROTO6.UDP)!;
  udp.controlInput = (e) => record(s, seen, e);
  return seen;
}

/** A transport payload starting with ports `sport` → `dport`. */
function ports(sport: number, dport: number, size = 8): Uint8Array {
  const p = new Uint8Array(size);
  p[0] = sport >> 8;
  p[1] = sport & 0xff;
  p[2] = dport >> 8;
  p[3] = dport & 0xff;
  return p;
}

/** Sends `data` over IPv4 from `s` as protocol `proto`. */
function send4(
  s: Stack,
  dst: string,
  proto: number,
  data: Uint8Array,
  opts: { ttl?: number; df?: boolean } = {},
): void {
  const core = stackCore(s);
  const pkt = core.pool.alloc(data.length);
  pkt.bytes.set(data, pkt.start);
  assert.equal(core.run(() => core.ip4.output(pkt, parseIp4(dst)!, proto, opts)), null);
}

/** Sends `data` over IPv6 from `s` as `proto`; a link-local `dst` goes out of en0. */
function send6(
  s: Stack,
  dst: string,
  proto: number,
  data: Uint8Array,
  opts: { hlim?: number } = {},
): void {
  const core = stackCore(s);
  const to = parseIp6(dst)!;
  const pkt = core.pool.alloc(data.length);
  pkt.bytes.set(data, pkt.start);
  const zone = to[0] === 0xfe ? core.interface("en0").index : undefined;
  assert.equal(core.run(() => core.ip6!.output(pkt, to, proto, { ...opts, zone })), null);
}

function routed4(rightMtu = 1500) {
  const t = routed4Net({ rightMtu });
  return { ...t, seen: recorder(t.h1) };
}

function routed6(rightMtu = 1500) {
  const t = routed6Net({ rightMtu });
  return { ...t, seen: recorder(t.h1) };
}

/** The fields every test checks, without the incidental ones. */
function gist(s: Seen): Omit<Seen, "srcZone" | "dstZone" | "length" | "routeMtu"> {
  const { srcZone: _z1, dstZone: _z2, length: _l, routeMtu: _m, ...rest } = s;
  return rest;
}

// ---------------------------------------------------------------------------
// IPv4

Deno.test("ICMP: protocol unreachable reaches the sender's protocol as ECONNREFUSED", () => {
  const { net, h1, seen } = routed4();
  send4(h1, "198.51.100.10", EXP, ports(4000, 7));
  net.run();
  assert.deepEqual(seen.map(gist), [{
    kind: "unreach",
    type: 3,
    code: 2,
    errno: "ECONNREFUSED",
    mtu: 0,
    proto: EXP,
    src: "192.0.2.10",
    dst: "198.51.100.10",
    srcPort: 4000,
    dstPort: 7,
  }]);
  assert.ok(seen[0].length >= 8);
});

Deno.test("ICMP: UDP to a closed port gives the UDP protocol port unreachable, ECONNREFUSED", () => {
  const { net, h1, seen } = routed4();
  const udpSeen = recordUdp(h1);
  const dgram = ports(5353, 9, 12); // length 12, checksum 0: none over IPv4
  dgram[5] = 12;
  send4(h1, "198.51.100.10", IPPROTO6.UDP, dgram);
  net.run();
  assert.equal(seen.length, 0, "not handed to another protocol");
  assert.deepEqual(udpSeen.map(gist), [{
    kind: "unreach",
    type: 3,
    code: 3,
    errno: "ECONNREFUSED",
    mtu: 0,
    proto: IPPROTO6.UDP,
    src: "192.0.2.10",
    dst: "198.51.100.10",
    srcPort: 5353,
    dstPort: 9,
  }]);
});

Deno.test("ICMP: TTL 1 through a router gives time exceeded, a soft error about the far peer", () => {
  const { net, h1, seen } = routed4();
  send4(h1, "198.51.100.10", EXP, ports(4001, 8), { ttl: 1 });
  net.run();
  assert.deepEqual(seen.map(gist), [{
    kind: "timex",
    type: 11,
    code: 0,
    errno: null,
    mtu: 0,
    proto: EXP,
    src: "192.0.2.10",
    dst: "198.51.100.10",
    srcPort: 4001,
    dstPort: 8,
  }]);
});

Deno.test("ICMP: a DF datagram over a smaller MTU gives needfrag with the MTU, after the path MTU was learned", () => {
  const { net, h1, seen } = routed4(1000);
  send4(h1, "198.51.100.10", EXP, ports(4002, 9, 1400), { df: true });
  net.run();
  assert.deepEqual(seen.map(gist), [{
    kind: "needfrag",
    type: 3,
    code: 4,
    errno: "EMSGSIZE",
    mtu: 1000,
    proto: EXP,
    src: "192.0.2.10",
    dst: "198.51.100.10",
    srcPort: 4002,
    dstPort: 9,
  }]);
  assert.equal(seen[0].routeMtu, 1000, "the host route existed when the protocol was told");
  assert.equal(h1.stats.icmp.pmtuchg, 1);
});

/**
 * An ICMP error from the router 192.0.2.1 to h1 quoting `quote`, put
 * straight into h1's IPv4 input.
 */
function inject4(h1: Stack, type: number, code: number, extra: number, quote: Uint8Array): void {
  const msg = new Uint8Array(8 + quote.length);
  emitIcmpError(msg, 0, { type, code, extra }, quote);
  const ip = new Uint8Array(20 + msg.length);
  emitIpv4Header(ip, 0, {
    tos: 0,
    totalLength: ip.length,
    id: 9,
    df: false,
    mf: false,
    fragOffset: 0,
    ttl: 64,
    protocol: 1,
    src: 0xc0000201,
    dst: 0xc000020a,
  });
  ip.set(msg, 20);
  const core = stackCore(h1);
  core.run(() => core.ip4.input(core.interface("en0"), ip, 0, ip.length, false));
}

/** A quoted datagram of protocol EXP: `src` → 198.51.100.10, `size` bytes of it held. */
function quote4(src: number, size = 28, totalLength = 1500): Uint8Array {
  const q = new Uint8Array(size);
  const head = new Uint8Array(20);
  emitIpv4Header(head, 0, {
    tos: 0,
    totalLength,
    id: 1,
    df: true,
    mf: false,
    fragOffset: 0,
    ttl: 63,
    protocol: EXP,
    src,
    dst: 0xc633640a,
  });
  q.set(head.subarray(0, Math.min(20, size)));
  if (size >= 24) q.set(ports(4003, 10, 4), 20);
  return q;
}

Deno.test("ICMP: needfrag without an MTU takes the next plateau below what was sent", () => {
  const { h1, seen } = routed4();
  inject4(h1, 3, 4, 0, quote4(0xc000020a, 28, 1500));
  assert.deepEqual(seen.map((s) => [s.kind, s.mtu, s.routeMtu, s.srcPort]), [
    ["needfrag", 1492, 1492, 4003],
  ]);
});

Deno.test("ICMP: parameter problem is ENOPROTOOPT, source quench soft; bad codes are counted, not delivered", () => {
  const { h1, seen } = routed4();
  const ours = 0xc000020a;
  inject4(h1, 12, 0, 20 << 24, quote4(ours));
  inject4(h1, 4, 0, 0, quote4(ours));
  inject4(h1, 3, 13, 0, quote4(ours));
  assert.deepEqual(seen.map((s) => [s.kind, s.type, s.code, s.errno]), [
    ["paramprob", 12, 0, "ENOPROTOOPT"],
    ["quench", 4, 0, null],
    ["unreach", 3, 13, "EHOSTUNREACH"],
  ]);
  const before = h1.stats.icmp.badcode;
  inject4(h1, 3, 16, 0, quote4(ours));
  inject4(h1, 11, 2, 0, quote4(ours));
  inject4(h1, 4, 1, 0, quote4(ours));
  assert.equal(h1.stats.icmp.badcode - before, 3);
  assert.equal(seen.length, 3);
});

Deno.test("ICMP: quotes of datagrams we did not send are ignored; truncated quotes are counted and dropped", () => {
  const { h1, seen } = routed4();
  inject4(h1, 3, 3, 0, quote4(0xc0000263)); // 192.0.2.99 is not h1's
  assert.equal(seen.length, 0);
  assert.equal(h1.stats.icmp.badlen, 0);
  inject4(h1, 3, 3, 0, quote4(0xc000020a, 20)); // no transport bytes
  inject4(h1, 3, 3, 0, quote4(0xc000020a, 24)); // 4 of the 8
  const longHeader = quote4(0xc000020a);
  longHeader[0] = 0x46; // a 24-byte header: only 4 transport bytes follow
  inject4(h1, 3, 3, 0, longHeader);
  const v6 = quote4(0xc000020a);
  v6[0] = 0x65;
  inject4(h1, 11, 0, 0, v6);
  assert.equal(seen.length, 0);
  assert.equal(h1.stats.icmp.badlen, 4);
  assert.equal(h1.stats.icmp.pmtuchg, 0);
});

Deno.test("ICMP: the router's error rate limit still holds; each error sent is delivered once", () => {
  const { net, h1, r, seen } = routed4();
  r.sysctl.set("net.inet.icmp.errppslimit", "3");
  for (let i = 0; i < 10; i++) send4(h1, "198.51.100.10", EXP, ports(4100 + i, 7), { ttl: 1 });
  net.run();
  assert.deepEqual(seen.map((s) => [s.kind, s.srcPort]), [
    ["timex", 4100],
    ["timex", 4101],
    ["timex", 4102],
  ]);
});

// ---------------------------------------------------------------------------
// IPv6

Deno.test("ICMPv6: an unknown Next Header gives parameter problem code 1, ECONNREFUSED", () => {
  const { net, h1, seen } = routed6();
  send6(h1, "2001:db8:2::10", EXP, ports(4000, 7));
  net.run();
  assert.deepEqual(seen.map(gist), [{
    kind: "paramprob",
    type: ICMP6_TYPE.PARAM_PROB,
    code: 1,
    errno: "ECONNREFUSED",
    mtu: 0,
    proto: EXP,
    src: "2001:db8:1::10",
    dst: "2001:db8:2::10",
    srcPort: 4000,
    dstPort: 7,
  }]);
  assert.deepEqual([seen[0].srcZone, seen[0].dstZone], [0, 0]);
});

/** A UDP datagram over IPv6 with its checksum filled. */
function udp6(src: string, dst: string, sport: number, dport: number): Uint8Array {
  const d = ports(sport, dport, 12);
  d[5] = 12;
  const pseudo = sumWords(parseIp6(src)!, 0, 16) + sumWords(parseIp6(dst)!, 0, 16) + 12 +
    IPPROTO6.UDP;
  const sum = finishChecksum(sumWords(d, 0, 12, pseudo)) || 0xffff;
  d[6] = sum >> 8;
  d[7] = sum & 0xff;
  return d;
}

Deno.test("ICMPv6: UDP to a closed port gives the UDP protocol port unreachable, ECONNREFUSED", () => {
  const { net, h1, seen } = routed6();
  const udpSeen = recordUdp(h1);
  send6(h1, "2001:db8:2::10", IPPROTO6.UDP, udp6("2001:db8:1::10", "2001:db8:2::10", 5353, 9));
  net.run();
  assert.equal(seen.length, 0);
  assert.equal(h1.stats.udp6.ipackets, 0);
  assert.deepEqual(udpSeen.map(gist), [{
    kind: "unreach",
    type: ICMP6_TYPE.DST_UNREACH,
    code: 4,
    errno: "ECONNREFUSED",
    mtu: 0,
    proto: IPPROTO6.UDP,
    src: "2001:db8:1::10",
    dst: "2001:db8:2::10",
    srcPort: 5353,
    dstPort: 9,
  }]);
});

Deno.test("ICMPv6: hop limit 1 through a router gives time exceeded, soft", () => {
  const { net, h1, seen } = routed6();
  send6(h1, "2001:db8:2::10", EXP, ports(4001, 8), { hlim: 1 });
  net.run();
  assert.deepEqual(seen.map((s) => [s.kind, s.type, s.code, s.errno, s.dst, s.srcPort]), [
    ["timex", ICMP6_TYPE.TIME_EXCEEDED, 0, null, "2001:db8:2::10", 4001],
  ]);
});

Deno.test("ICMPv6: Packet Too Big gives needfrag with the MTU, after the path MTU was learned", () => {
  const { net, h1, seen } = routed6(1280);
  send6(h1, "2001:db8:2::10", EXP, ports(4002, 9, 1400));
  net.run();
  assert.deepEqual(seen.map(gist), [{
    kind: "needfrag",
    type: ICMP6_TYPE.PACKET_TOO_BIG,
    code: 0,
    errno: "EMSGSIZE",
    mtu: 1280,
    proto: EXP,
    src: "2001:db8:1::10",
    dst: "2001:db8:2::10",
    srcPort: 4002,
    dstPort: 9,
  }]);
  assert.equal(seen[0].routeMtu, 1280, "the host route existed when the protocol was told");
  assert.equal(h1.stats.icmp6.pmtuchg, 1);
});

Deno.test("ICMPv6: link-local addresses carry the arrival interface's zone", () => {
  const { net, h1, seen } = routed6();
  send6(h1, "fe80::ff:fe00:2", EXP, ports(4003, 11));
  net.run();
  const en0 = stackCore(h1).interface("en0").index;
  assert.deepEqual(seen.map((s) => [s.kind, s.src, s.srcZone, s.dst, s.dstZone, s.dstPort]), [
    ["paramprob", "fe80::ff:fe00:1", en0, "fe80::ff:fe00:2", en0, 11],
  ]);
});

Deno.test("ICMPv6: the quoted protocol is found past extension headers", () => {
  const { net, h1, seen } = routed6();
  // Destination Options (8 bytes: Next Header EXP, a PadN of 4), then EXP's ports.
  const data = new Uint8Array(8 + 8);
  data.set([EXP, 0, 1, 4, 0, 0, 0, 0]);
  data.set(ports(4004, 12), 8);
  send6(h1, "2001:db8:2::10", IPPROTO6.DSTOPTS, data);
  net.run();
  assert.deepEqual(seen.map((s) => [s.kind, s.code, s.proto, s.srcPort, s.dstPort, s.length]), [
    ["paramprob", 1, EXP, 4004, 12, 8],
  ]);
});

/**
 * An ICMPv6 error from the router 2001:db8:1::1 to h1 quoting a packet whose
 * first 40 bytes are an IPv6 header `qsrc` → 2001:db8:2::10 (next header
 * `nxt`) and then `rest`, put straight into h1's IPv6 input.
 */
function inject6(
  h1: Stack,
  type: number,
  code: number,
  word: number,
  qsrc: string,
  nxt: number,
  rest: Uint8Array,
): void {
  const from = parseIp6("2001:db8:1::1")!, to = parseIp6("2001:db8:1::10")!;
  const msg = new Uint8Array(8 + 40 + rest.length);
  msg[0] = type;
  msg[1] = code;
  msg[4] = word >>> 24;
  msg[5] = (word >>> 16) & 0xff;
  msg[6] = (word >>> 8) & 0xff;
  msg[7] = word & 0xff;
  emitIpv6Header(msg, 8, parseIp6(qsrc)!, parseIp6("2001:db8:2::10")!, nxt, 1400, 64);
  msg.set(rest, 48);
  fillIcmp6Checksum(msg, 0, msg.length, from, to);
  const ip = new Uint8Array(40 + msg.length);
  emitIpv6Header(ip, 0, from, to, IPPROTO6.ICMPV6, msg.length, 64);
  ip.set(msg, 40);
  const core = stackCore(h1);
  core.run(() => core.ip6!.input(core.interface("en0"), ip, 0, ip.length, false));
}

Deno.test("ICMPv6: unreachable codes map as NetBSD's inet6ctlerrmap; bad codes are counted", () => {
  const { h1, seen } = routed6();
  for (let code = 0; code <= 4; code++) {
    inject6(h1, ICMP6_TYPE.DST_UNREACH, code, 0, "2001:db8:1::10", EXP, ports(1, 2));
  }
  inject6(h1, ICMP6_TYPE.PARAM_PROB, 0, 4, "2001:db8:1::10", EXP, ports(1, 2));
  inject6(h1, ICMP6_TYPE.TIME_EXCEEDED, 1, 0, "2001:db8:1::10", EXP, ports(1, 2));
  assert.deepEqual(seen.map((s) => [s.kind, s.code, s.errno]), [
    ["unreach", 0, "EHOSTUNREACH"],
    ["unreach", 1, "ECONNREFUSED"],
    ["unreach", 2, "ENOPROTOOPT"],
    ["unreach", 3, "EHOSTDOWN"],
    ["unreach", 4, "ECONNREFUSED"],
    ["paramprob", 0, "ENOPROTOOPT"],
    ["timex", 1, null],
  ]);
  const before = h1.stats.icmp6.badcode;
  inject6(h1, ICMP6_TYPE.DST_UNREACH, 7, 0, "2001:db8:1::10", EXP, ports(1, 2));
  inject6(h1, ICMP6_TYPE.TIME_EXCEEDED, 2, 0, "2001:db8:1::10", EXP, ports(1, 2));
  assert.equal(h1.stats.icmp6.badcode - before, 2);
  assert.equal(seen.length, 7);
});

Deno.test("ICMPv6: quotes not from us are ignored; quotes cut inside the chain are counted and dropped", () => {
  const { h1, seen } = routed6();
  inject6(h1, ICMP6_TYPE.DST_UNREACH, 4, 0, "2001:db8:1::99", EXP, ports(1, 2));
  assert.equal(seen.length, 0);
  const tooshort = h1.stats.icmp6.tooshort;
  // A Destination Options header of 16 bytes of which 4 are quoted.
  inject6(
    h1,
    ICMP6_TYPE.DST_UNREACH,
    4,
    0,
    "2001:db8:1::10",
    IPPROTO6.DSTOPTS,
    new Uint8Array([EXP, 1, 0, 0]),
  );
  // The upper-layer header with only 4 of its 8 bytes.
  inject6(h1, ICMP6_TYPE.DST_UNREACH, 4, 0, "2001:db8:1::10", EXP, ports(1, 2, 4));
  // A Packet Too Big still teaches the path MTU, but goes to no protocol.
  inject6(h1, ICMP6_TYPE.PACKET_TOO_BIG, 0, 1300, "2001:db8:1::10", EXP, new Uint8Array(0));
  assert.equal(seen.length, 0);
  assert.equal(h1.stats.icmp6.tooshort - tooshort, 3);
  assert.equal(h1.stats.icmp6.pmtuchg, 1);
});
