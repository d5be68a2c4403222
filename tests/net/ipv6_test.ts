/** IPv6 and ICMPv6 between stacks on a virtual network, in virtual time. */
import { stackCore } from "../../core/stack.ts";
import assert from "node:assert/strict";
import { Net, type Segment } from "../kit/netsim.ts";
import { routed6 } from "../kit/topologies.ts";
import type { Stack } from "../../core/stack.ts";
import type { RawDatagram } from "../../core/socket/raw.ts";
import { ErrnoError } from "../../core/errno.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { formatIp6, parseIp6 } from "../../core/net/ip_addr.ts";
import { fillIcmp6Checksum, ICMP6_TYPE } from "../../core/wire/icmpv6.ts";
import { emitFragmentHeader, emitIpv6Header, IPPROTO6 } from "../../core/wire/ipv6.ts";
import { flattenProtoCounters } from "../../core/stats.ts";

const LL_A = "fe80::ff:fe00:1";
const LL_B = "fe80::ff:fe00:2";

/** Opens a raw ICMPv6 socket on `s` collecting what it receives. */
function icmp6Socket(s: Stack): { sock: number; got: RawDatagram[] } {
  const got: RawDatagram[] = [];
  const sock = s.openRawSocket("inet6", IPPROTO6.ICMPV6, (d) => got.push(d));
  return { sock, got };
}

/** An echo request as ping6 writes it: the stack fills the checksum. */
function echo6(id: number, seq: number, size = 56): Uint8Array {
  const msg = new Uint8Array(8 + size);
  msg[0] = ICMP6_TYPE.ECHO_REQUEST;
  msg[4] = id >> 8;
  msg[5] = id & 0xff;
  msg[6] = seq >> 8;
  msg[7] = seq & 0xff;
  for (let i = 0; i < size; i++) msg[8 + i] = i & 0xff;
  return msg;
}

/** [type, code] of each datagram. */
function kinds(got: RawDatagram[]): [number, number][] {
  return got.map((d) => [d.data[0], d.data[1]]);
}

function ofType(got: RawDatagram[], type: number): RawDatagram[] {
  return got.filter((d) => d.data[0] === type);
}

/** The 32-bit word after an ICMPv6 checksum (MTU, pointer). */
function word(d: RawDatagram): number {
  const b = d.data;
  return ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0;
}

/** Two v6 hosts on one segment, interfaces up (link-local addresses past DAD), with globals. */
function twoHosts() {
  const net = new Net();
  const seg = net.segment();
  const a = net.stack(true), b = net.stack(true);
  net.attach(a, seg, 1);
  net.attach(b, seg, 2);
  a.setFlags("en0", IFF.UP, 0);
  b.setFlags("en0", IFF.UP, 0);
  a.addAddress("en0", { family: "inet6", addr: "2001:db8::1", prefixlen: 64 });
  b.addAddress("en0", { family: "inet6", addr: "2001:db8::2", prefixlen: 64 });
  net.advance(2000);
  return { net, seg, a, b };
}

/** An Ethernet frame from MAC ...:`from` to MAC ...:`to` (or a multicast MAC) carrying `ip`. */
function etherFrame(to: number | Uint8Array, from: number, ip: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + ip.length);
  f.set(typeof to === "number" ? [2, 0, 0, 0, 0, to] : to, 0);
  f.set([2, 0, 0, 0, 0, from], 6);
  f[12] = 0x86;
  f[13] = 0xdd;
  f.set(ip, 14);
  return f;
}

/**
 * An IPv6 packet: fixed header, `ext` (extension headers, whose first Next
 * Header field chain the caller wrote, the last one naming ICMPv6), then an
 * echo request with its checksum.
 */
function echoPacket(
  src: string,
  dst: string,
  firstNext: number,
  ext: Uint8Array,
  opts: { hlim?: number; seq?: number } = {},
): Uint8Array {
  const s = parseIp6(src)!, d = parseIp6(dst)!;
  const msg = echo6(9, opts.seq ?? 1, 8);
  fillIcmp6Checksum(msg, 0, msg.length, s, d);
  const pkt = new Uint8Array(40 + ext.length + msg.length);
  emitIpv6Header(pkt, 0, s, d, firstNext, ext.length + msg.length, opts.hlim ?? 64);
  pkt.set(ext, 40);
  pkt.set(msg, 40 + ext.length);
  return pkt;
}

/** An 8-byte options header (HBH or DestOpt) naming `next`, holding one option of `type` (4 bytes of data). */
function optionsHeader(next: number, type: number): Uint8Array {
  return new Uint8Array([next, 0, type, 4, 0, 0, 0, 0]);
}

/** Injects `frame` as if the member at `from` sent it; returns the frames sent in answer. */
function inject(net: Net, seg: Segment, fromIndex: number, frame: Uint8Array): Uint8Array[] {
  const before = seg.log.length;
  for (const [i, m] of seg.members.entries()) if (i !== fromIndex) m.port.receive(frame);
  net.run();
  return seg.log.slice(before);
}

Deno.test("ping6 to a link-local address needs its zone; the reply says where it came from", () => {
  const { net, a, b } = twoHosts();
  const { sock, got } = icmp6Socket(a);
  assert.throws(
    () => a.sendRaw(sock, LL_B, echo6(7, 0), {}),
    (e) => e instanceof ErrnoError && e.code === "EHOSTUNREACH",
  );
  a.sendRaw(sock, `${LL_B}%en0`, echo6(7, 1), {});
  net.run();
  const replies = ofType(got, ICMP6_TYPE.ECHO_REPLY);
  assert.equal(replies.length, 1);
  assert.deepEqual([replies[0].from, replies[0].ttl, replies[0].ifname], [
    `${LL_B}%en0`,
    64,
    "en0",
  ]);
  // The body came back whole, without the IPv6 header (RFC 3542).
  assert.equal(replies[0].data.length, 64);
  assert.deepEqual([...replies[0].data.subarray(4, 8)], [0, 7, 0, 1]);
  // -I en0 picks the interface as well as a zone does.
  a.sendRaw(sock, LL_B, echo6(7, 2), { ifname: "en0" });
  net.run();
  assert.equal(ofType(got, ICMP6_TYPE.ECHO_REPLY).length, 2);
  assert.equal(b.stats.icmp6.inhist[128], 2);
  assert.equal(b.stats.icmp6.outhist[129], 2);
});

Deno.test("a written net.inet6.ip6.hlim is the hop limit of what the stack sends next", () => {
  const { net, a, b } = twoHosts();
  const { sock, got } = icmp6Socket(a);
  b.sysctl.set("net.inet6.ip6.hlim", "33");
  a.sendRaw(sock, `${LL_B}%en0`, echo6(8, 0), {});
  net.run();
  assert.deepEqual(ofType(got, ICMP6_TYPE.ECHO_REPLY).map((r) => r.ttl), [33]);
});

Deno.test("ping6 to a global address; neighbours learned both ways; hop limit option", () => {
  const { net, a, b } = twoHosts();
  const { sock, got } = icmp6Socket(a);
  a.sendRaw(sock, "2001:db8::2", echo6(1, 0), {});
  a.sendRaw(sock, "2001:db8::2", echo6(1, 1), { ttl: 5 });
  net.run();
  const replies = ofType(got, ICMP6_TYPE.ECHO_REPLY);
  assert.deepEqual(replies.map((d) => d.from), ["2001:db8::2", "2001:db8::2"]);
  const nA = a.neighborList("inet6").find((n) => n.addr === "2001:db8::2");
  assert.equal(nA?.lladdr, "02:00:00:00:00:02");
  assert.equal(nA?.state, "REACHABLE");
  assert.ok(b.neighborList("inet6").some((n) => n.addr === "2001:db8::1"));
  assert.ok(a.stats.ip6.localout >= 2);
  assert.equal(b.stats.ip6.delivered >= 2, true);
  assert.equal(a.stats.ip6.sources_sameif[14], 2, "the global source was selected twice");
});

Deno.test("ping6 to our own addresses goes through lo0: ::1, a global and a link-local", () => {
  const { net, a } = twoHosts();
  const { sock, got } = icmp6Socket(a);
  a.sendRaw(sock, "::1", echo6(3, 1), {});
  a.sendRaw(sock, "2001:db8::1", echo6(3, 2), {});
  a.sendRaw(sock, `${LL_A}%en0`, echo6(3, 3), {});
  net.run();
  const replies = ofType(got, ICMP6_TYPE.ECHO_REPLY);
  assert.deepEqual(replies.map((d) => [d.from, d.ifname]), [
    ["::1", "lo0"],
    ["2001:db8::1", "lo0"],
    [`${LL_A}%en0`, "lo0"],
  ]);
});

Deno.test("ping6 to all-nodes is answered from a unicast address", () => {
  const { net, a } = twoHosts();
  const { sock, got } = icmp6Socket(a);
  a.sendRaw(sock, "ff02::1%en0", echo6(4, 0), {});
  net.run();
  const replies = ofType(got, ICMP6_TYPE.ECHO_REPLY);
  assert.deepEqual(replies.map((d) => d.from), [`${LL_B}%en0`]);
  assert.throws(
    () => a.sendRaw(sock, "ff02::1", echo6(4, 1), {}),
    (e) => e instanceof ErrnoError && e.code === "ENETUNREACH",
  );
});

Deno.test("a large echo is fragmented, reassembled and answered in fragments", () => {
  const { net, seg, a, b } = twoHosts();
  const { sock, got } = icmp6Socket(a);
  a.sendRaw(sock, "2001:db8::2", echo6(1, 5, 4000), {});
  net.run();
  const reply = ofType(got, ICMP6_TYPE.ECHO_REPLY)[0];
  assert.ok(reply);
  assert.equal(reply.data.length, 4008);
  assert.equal(reply.data[4008 - 1], (4000 - 1) & 0xff);
  const fragments = seg.log.filter((f) => f[12] === 0x86 && f[13] === 0xdd && f[20] === 44);
  assert.equal(fragments.length, 6, "three each way");
  assert.ok(seg.log.every((f) => f.length <= 1514));
  assert.deepEqual([a.stats.ip6.fragmented, a.stats.ip6.ofragments], [1, 3]);
  assert.deepEqual([b.stats.ip6.fragments, b.stats.ip6.reassembled], [3, 1]);
  assert.equal(a.stats.ip6.reassembled, 1);
  // Every buffer of the exchange went back to its pool exactly once (checked pools).
  for (const s of [a, b]) {
    assert.deepEqual([stackCore(s).pool.checked, stackCore(s).pool.stats.outstanding], [true, 0]);
  }
});

Deno.test("fragments: overlaps drop the datagram; a lone first fragment times out with code 1", () => {
  const { net, seg, a, b } = twoHosts();
  const { got } = icmp6Socket(a);
  // Make sure b knows a's link address, so its answers go straight out.
  icmp6Socket(b);
  a.sendRaw(a.openRawSocket("inet6", 58, () => {}), "2001:db8::2", echo6(1, 0), {});
  net.run();
  const src = parseIp6("2001:db8::1")!, dst = parseIp6("2001:db8::2")!;
  const msg = echo6(2, 2, 32);
  fillIcmp6Checksum(msg, 0, msg.length, src, dst);
  const frag = (off: number, more: boolean, data: Uint8Array, id: number) => {
    const p = new Uint8Array(48 + data.length);
    emitIpv6Header(p, 0, src, dst, IPPROTO6.FRAGMENT, 8 + data.length, 64);
    emitFragmentHeader(p, 40, IPPROTO6.ICMPV6, off, more, id);
    p.set(data, 48);
    return etherFrame(2, 1, p);
  };
  const before = b.stats.ip6.fragdropped;
  inject(net, seg, 0, frag(0, true, msg.subarray(0, 24), 77));
  inject(net, seg, 0, frag(16, false, msg.subarray(16), 77)); // overlaps bytes 16..23
  assert.equal(b.stats.ip6.fragdropped, before + 1);
  assert.equal(b.stats.ip6.reassembled, 0);
  // Now a first fragment alone: 60 s later, time exceeded (reassembly) goes back.
  inject(net, seg, 0, frag(0, true, msg.subarray(0, 24), 78));
  net.advance(59_000);
  assert.equal(ofType(got, ICMP6_TYPE.TIME_EXCEEDED).length, 0);
  net.advance(2000);
  const te = ofType(got, ICMP6_TYPE.TIME_EXCEEDED);
  assert.deepEqual(kinds(te), [[3, 1]]);
  assert.equal(b.stats.ip6.fragtimeout, 1);
  // The error quotes the first fragment, from its IPv6 header on.
  assert.equal(te[0].data.length, 8 + 48 + 24);
  // A later fragment alone times out silently.
  inject(net, seg, 0, frag(8, false, msg.subarray(8), 79));
  net.advance(61_000);
  assert.equal(ofType(got, ICMP6_TYPE.TIME_EXCEEDED).length, 1);
  assert.equal(b.stats.ip6.fragtimeout, 2);
});

Deno.test("UDP to a closed port gets port unreachable; an unknown next header parameter problem", () => {
  const { net, a } = twoHosts();
  const { got } = icmp6Socket(a);
  const src = parseIp6("2001:db8::1")!, dst = parseIp6("2001:db8::2")!;
  const udp = a.openRawSocket("inet6", IPPROTO6.UDP, () => {});
  const dgram = new Uint8Array([0x30, 0x39, 0x00, 0x07, 0, 8, 0, 0]);
  // The UDP checksum over the pseudo-header (a raw socket sends it as given).
  dgram.set(udpChecksum(dgram, src, dst), 6);
  a.sendRaw(udp, "2001:db8::2", dgram, {});
  const gre = a.openRawSocket("inet6", 47, () => {});
  a.sendRaw(gre, "2001:db8::2", new Uint8Array(4), {});
  net.run();
  const errs = ofType(got, ICMP6_TYPE.DST_UNREACH).concat(ofType(got, ICMP6_TYPE.PARAM_PROB));
  assert.deepEqual(kinds(errs), [[1, 4], [4, 1]]);
  assert.equal(word(errs[1]), 6, "the pointer names the fixed header's Next Header field");
});

function udpChecksum(d: Uint8Array, src: Uint8Array, dst: Uint8Array): number[] {
  let sum = 17 + d.length;
  const add = (b: Uint8Array) => {
    for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  };
  add(src);
  add(dst);
  add(d);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff || 0xffff;
  return [c >> 8, c & 0xff];
}

/** h1 — r — h2, with the router's en1 MTU set by the caller. */
function routed(forwarding: boolean, rightMtu = 1500) {
  return routed6({ forwarding, rightMtu });
}

Deno.test("a router forwards between segments and decrements the hop limit", () => {
  const { net, h1, r } = routed(true);
  const { sock, got } = icmp6Socket(h1);
  for (let seq = 0; seq < 3; seq++) h1.sendRaw(sock, "2001:db8:2::10", echo6(9, seq), {});
  net.run();
  const replies = ofType(got, ICMP6_TYPE.ECHO_REPLY);
  assert.equal(replies.length, 3);
  assert.equal(replies[0].ttl, 63, "one hop back");
  assert.equal(r.stats.ip6.forward, 6);
});

Deno.test("forwarding off drops; hop limit 1 gets time exceeded; no route gets unreachable", () => {
  const off = routed(false);
  const s1 = icmp6Socket(off.h1);
  off.h1.sendRaw(s1.sock, "2001:db8:2::10", echo6(9, 0), {});
  off.net.run();
  assert.equal(ofType(s1.got, ICMP6_TYPE.ECHO_REPLY).length, 0);
  assert.equal(off.r.stats.ip6.cantforward, 1);

  const on = routed(true);
  const s2 = icmp6Socket(on.h1);
  on.h1.sendRaw(s2.sock, "2001:db8:2::10", echo6(9, 0), { ttl: 1 });
  on.h1.sendRaw(s2.sock, "2001:db8:99::1", echo6(9, 1), {});
  on.net.run();
  const errs = s2.got.filter((d) => d.data[0] < 128);
  assert.deepEqual(kinds(errs), [[3, 0], [1, 0]]);
  assert.equal(errs[0].from, "2001:db8:1::1");
  assert.equal(on.r.stats.icmp6.otime_exceed_transit, 1);
  assert.equal(on.r.stats.icmp6.odst_unreach_noroute, 1);
});

Deno.test("link-local sources are not forwarded off their link (beyond scope)", () => {
  const { net, h1, r } = routed(true);
  const { sock, got } = icmp6Socket(h1);
  h1.sendRaw(sock, "2001:db8:2::10", echo6(9, 0), { src: "fe80::ff:fe00:1%en0" });
  net.run();
  assert.deepEqual(kinds(got.filter((d) => d.data[0] < 128)), [[1, 2]]);
  assert.equal(r.stats.ip6.badscope, 1);
});

Deno.test("a smaller next-hop MTU gets Packet Too Big; the sender then fragments to it", () => {
  const { net, h1, r } = routed(true, 1280);
  const { sock, got } = icmp6Socket(h1);
  h1.sendRaw(sock, "2001:db8:2::10", echo6(9, 0, 1400), {});
  net.run();
  const ptb = ofType(got, ICMP6_TYPE.PACKET_TOO_BIG);
  assert.equal(ptb.length, 1);
  assert.equal(word(ptb[0]), 1280);
  assert.equal(ptb[0].data.length, 1240, "as much of the packet as fits in 1280 bytes");
  assert.equal(r.stats.ip6.cantfrag, 1);
  assert.equal(h1.stats.icmp6.pmtuchg, 1);
  const host = h1.routeInfo().find((x) => x.dst === "2001:db8:2::10");
  assert.equal(host?.mtu, 1280);
  h1.sendRaw(sock, "2001:db8:2::10", echo6(9, 1, 1400), {});
  net.run();
  assert.equal(ofType(got, ICMP6_TYPE.ECHO_REPLY).length, 1);
  assert.equal(h1.stats.ip6.fragmented, 1);
  // The learned MTU lasts ten minutes (NetBSD's pmtu_expire), then the dynamic route goes.
  const generation = h1.routeGeneration;
  net.advance(599_000);
  assert.ok(h1.routeInfo().some((x) => x.dst === "2001:db8:2::10"));
  net.advance(2_000);
  assert.equal(h1.routeInfo().find((x) => x.dst === "2001:db8:2::10"), undefined);
  assert.notEqual(h1.routeGeneration, generation, "senders holding the route look it up again");
});

Deno.test("the router redirects a host to an on-link destination", () => {
  const net = new Net();
  const seg = net.segment();
  const h1 = net.stack(true), r = net.stack(true), h2 = net.stack(true);
  net.attach(h1, seg, 1);
  net.attach(r, seg, 2);
  net.attach(h2, seg, 3);
  r.sysctl.set("net.inet6.ip6.forwarding", "1");
  for (const s of [h1, r, h2]) s.setFlags("en0", IFF.UP, 0);
  h1.addAddress("en0", { family: "inet6", addr: "2001:db8:a::1", prefixlen: 64 });
  h2.addAddress("en0", { family: "inet6", addr: "2001:db8:b::2", prefixlen: 64 });
  r.addAddress("en0", { family: "inet6", addr: "2001:db8:a::ff", prefixlen: 64 });
  r.addAddress("en0", { family: "inet6", addr: "2001:db8:b::ff", prefixlen: 64 });
  for (const s of [h1, h2]) {
    s.addRoute({ family: "inet6", dst: "default", prefixlen: 0, gateway: "fe80::ff:fe00:2%en0" });
  }
  net.advance(2000);
  const { sock, got } = icmp6Socket(h1);
  h1.sendRaw(sock, "2001:db8:b::2", echo6(1, 0), {});
  net.run();
  assert.equal(ofType(got, ICMP6_TYPE.ECHO_REPLY).length, 1);
  assert.equal(ofType(got, ICMP6_TYPE.REDIRECT).length, 1);
  assert.ok(r.stats.ip6.redirectsent >= 1);
  const host = h1.routeInfo().find((x) => x.dst === "2001:db8:b::2");
  assert.ok(host, "a dynamic host route");
  assert.equal(host.gateway, "link#2");
  // A router is a member of all-routers; hosts are not.
  h1.sendRaw(sock, "ff02::2%en0", echo6(2, 0), {});
  net.run();
  assert.deepEqual(ofType(got, ICMP6_TYPE.ECHO_REPLY).slice(1).map((d) => d.from), [
    "fe80::ff:fe00:2%en0",
  ]);
  assert.ok(h2.stats.ip6.notmember >= 1);
  const forwarded = r.stats.ip6.forward;
  h1.sendRaw(sock, "2001:db8:b::2", echo6(1, 1), {});
  net.run();
  assert.equal(ofType(got, ICMP6_TYPE.ECHO_REPLY).length, 3);
  assert.ok(r.stats.ip6.forward <= forwarded + 1, "the request went straight to h2");
});

Deno.test("extension headers: unknown options act by their two high bits", () => {
  const { net, seg, a, b } = twoHosts();
  const { got } = icmp6Socket(a);
  icmp6Socket(b);
  a.sendRaw(a.openRawSocket("inet6", 58, () => {}), "2001:db8::2", echo6(1, 0), {});
  net.run();
  got.length = 0;
  const send = (first: number, type: number, dst = "2001:db8::2", seq = 1) => {
    const ext = optionsHeader(IPPROTO6.ICMPV6, type);
    const to = dst.startsWith("ff") ? new Uint8Array([0x33, 0x33, 0, 0, 0, 1]) : 2;
    inject(net, seg, 0, etherFrame(to, 1, echoPacket("2001:db8::1", dst, first, ext, { seq })));
    const out = got.splice(0);
    return kinds(out).map(([t, c], i) => [t, c, t === 4 ? word(out[i]) : 0]);
  };
  for (const hdr of [IPPROTO6.HOPOPTS, IPPROTO6.DSTOPTS]) {
    assert.deepEqual(send(hdr, 0x1e), [[129, 0, 0]], "00: skipped");
    assert.deepEqual(send(hdr, 0x5e), [], "01: discarded silently");
    assert.deepEqual(send(hdr, 0x9e), [[4, 2, 42]], "10: parameter problem at the option");
    assert.deepEqual(send(hdr, 0xde), [[4, 2, 42]], "11: the same to a unicast address");
    assert.deepEqual(send(hdr, 0xde, "ff02::1"), [], "11: nothing to a multicast address");
    assert.deepEqual(send(hdr, 0x9e, "ff02::1"), [[4, 2, 42]], "10: even to a multicast address");
  }
  assert.equal(b.stats.ip6.badoptions, 10);
});

Deno.test("extension headers: bad option length, HBH not first, nesting past hdrnestlimit", () => {
  const { net, seg, a, b } = twoHosts();
  const { got } = icmp6Socket(a);
  a.sendRaw(a.openRawSocket("inet6", 58, () => {}), "2001:db8::2", echo6(1, 0), {});
  net.run();
  got.length = 0;
  const send = (first: number, ext: Uint8Array) => {
    inject(net, seg, 0, etherFrame(2, 1, echoPacket("2001:db8::1", "2001:db8::2", first, ext)));
    const out = got.splice(0);
    return kinds(out).map(([t, c], i) => [t, c, t === 4 ? word(out[i]) : 0]);
  };
  // An option whose length runs past its header: erroneous header field, at its length byte.
  assert.deepEqual(send(IPPROTO6.HOPOPTS, new Uint8Array([58, 0, 0x1e, 9, 0, 0, 0, 0])), [[
    4,
    0,
    43,
  ]]);
  // Hop-by-Hop after a Destination Options header: unrecognised next header, at that field.
  const two = new Uint8Array([IPPROTO6.HOPOPTS, 0, 1, 4, 0, 0, 0, 0, 58, 0, 1, 4, 0, 0, 0, 0]);
  assert.deepEqual(send(IPPROTO6.DSTOPTS, two), [[4, 1, 40]]);
  // Too many headers: dropped and counted, no answer.
  b.sysctl.set("net.inet6.ip6.hdrnestlimit", "3");
  const chain = new Uint8Array(8 * 4);
  for (let i = 0; i < 4; i++) {
    chain.set([i < 3 ? IPPROTO6.DSTOPTS : 58, 0, 1, 4, 0, 0, 0, 0], 8 * i);
  }
  assert.deepEqual(send(IPPROTO6.DSTOPTS, chain), []);
  assert.equal(b.stats.ip6.toomanyhdr, 1);
  b.sysctl.set("net.inet6.ip6.hdrnestlimit", "4");
  assert.deepEqual(send(IPPROTO6.DSTOPTS, chain), [[129, 0, 0]]);
  // Routing header with segments left and an unknown type: erroneous header, at the type.
  const rh = new Uint8Array([58, 0, 253, 1, 0, 0, 0, 0]);
  assert.deepEqual(send(IPPROTO6.ROUTING, rh), [[4, 0, 42]]);
  // With no segments left it is ignored.
  assert.deepEqual(send(IPPROTO6.ROUTING, new Uint8Array([58, 0, 253, 0, 0, 0, 0, 0])), [[
    129,
    0,
    0,
  ]]);
});

Deno.test("ICMPv6 errors: none about errors, none to multicast, rate limited at 100 a second", () => {
  const { net, seg, a, b } = twoHosts();
  const { got } = icmp6Socket(a);
  a.sendRaw(a.openRawSocket("inet6", 58, () => {}), "2001:db8::2", echo6(1, 0), {});
  net.run();
  got.length = 0;
  // An ICMPv6 error message with an unknown option that asks for an error: none comes.
  const s = parseIp6("2001:db8::1")!, d = parseIp6("2001:db8::2")!;
  const err = new Uint8Array(8 + 48);
  err[0] = ICMP6_TYPE.DST_UNREACH;
  fillIcmp6Checksum(err, 0, err.length, s, d);
  const ip = new Uint8Array(40 + 8 + err.length);
  emitIpv6Header(ip, 0, s, d, IPPROTO6.DSTOPTS, 8 + err.length, 64);
  ip.set(optionsHeader(58, 0x9e), 40);
  ip.set(err, 48);
  inject(net, seg, 0, etherFrame(2, 1, ip));
  assert.equal(got.length, 0);
  assert.equal(b.stats.icmp6.canterror, 1);
  // UDP to a closed port, 150 times in one second: 100 answers.
  const udp = a.openRawSocket("inet6", IPPROTO6.UDP, () => {});
  const dgram = new Uint8Array([0x30, 0x39, 0x00, 0x07, 0, 8, 0, 0]);
  dgram.set(udpChecksum(dgram, s, d), 6);
  for (let i = 0; i < 150; i++) a.sendRaw(udp, "2001:db8::2", dgram, {});
  net.run();
  assert.equal(ofType(got, ICMP6_TYPE.DST_UNREACH).length, 100);
  assert.equal(b.stats.icmp6.toofreq, 50);
});

Deno.test("a v4 stack has no IPv6: EAFNOSUPPORT, and IPv6 frames count as noproto", () => {
  const net = new Net();
  const seg = net.segment();
  const v4 = net.stack(false), v6 = net.stack(true);
  net.attach(v4, seg, 1);
  net.attach(v6, seg, 2);
  v4.setFlags("en0", IFF.UP, 0);
  v6.setFlags("en0", IFF.UP, 0);
  const isAf = (e: unknown) => e instanceof ErrnoError && e.code === "EAFNOSUPPORT";
  assert.throws(() => v4.openRawSocket("inet6", 58, () => {}), isAf);
  assert.throws(() => v4.neighborList("inet6"), isAf);
  assert.throws(() => v4.neighborFlush("inet6"), isAf);
  assert.throws(() => v4.neighborDelete("inet6", "fe80::1"), isAf);
  assert.throws(() =>
    v4.neighborSet("inet6", "fe80::1", "02:00:00:00:00:09", {
      temp: false,
      pub: false,
    }), isAf);
  assert.equal(stackCore(v4).ip6, null);
  assert.equal(v4.ifInfo("en0")[0].addrs.length, 0, "no link-local address on a v4 stack");
  net.advance(2000); // the v6 stack's DAD probes reach the v4 one
  assert.ok(v4.ifInfo("en0")[0].stats.noproto >= 1);
  assert.equal("ip6" in flattenProtoCounters(v4.stats), false, "netstat -s shows no IPv6 sets");
});

Deno.test("source selection prefers the destination's scope and non-deprecated addresses", () => {
  const { a } = twoHosts();
  const ip6 = stackCore(a).ip6!;
  const en0 = stackCore(a).interface("en0");
  const pick = (dst: string) => {
    const s = ip6.selectSource(parseIp6(dst)!, en0, dst.startsWith("fe80") ? en0.index : undefined);
    return s && formatIp6(s);
  };
  assert.equal(pick("fe80::9"), LL_A);
  assert.equal(pick("2001:db8::9"), "2001:db8::1");
  a.addAddress("en0", { family: "inet6", addr: "2001:db8:1::1", prefixlen: 64 });
  stackCore(a).interface("en0").inet6.at(-1)!.flags.length = 0; // past DAD for this test
  assert.equal(pick("2001:db8:1::9"), "2001:db8:1::1", "longest matching prefix");
  stackCore(a).interface("en0").inet6.find((x) => formatIp6(x.addr) === "2001:db8:1::1")!.flags
    .push(
      "deprecated",
    );
  assert.equal(pick("2001:db8:1::9"), "2001:db8::1", "deprecated loses");
});

Deno.test("UDP checksums on lo0 follow net.inet6.udp6.do_loopback_cksum", () => {
  const { net, a } = twoHosts();
  const { got } = icmp6Socket(a);
  const udp = a.openRawSocket("inet6", IPPROTO6.UDP, () => {});
  const bad = new Uint8Array([0x30, 0x39, 0x00, 0x07, 0, 8, 0x12, 0x34]); // a wrong checksum
  a.sendRaw(udp, "2001:db8::1", bad, {});
  net.run();
  assert.deepEqual(kinds(ofType(got, ICMP6_TYPE.DST_UNREACH)), [[1, 4]], "not verified on lo0");
  a.sysctl.set("net.inet6.udp6.do_loopback_cksum", "1");
  a.sendRaw(udp, "2001:db8::1", bad, {});
  net.run();
  assert.equal(ofType(got, ICMP6_TYPE.DST_UNREACH).length, 1);
  assert.equal(a.stats.udp6.badsum, 1);
  // The IPv4 name is the same variable.
  assert.equal(a.sysctl.int("net.inet.udp.do_loopback_cksum"), 1);
});

Deno.test("reassembly keeps at most maxfragpackets datagrams", () => {
  const { net, seg, b } = twoHosts();
  b.sysctl.set("net.inet6.ip6.maxfragpackets", "1");
  const src = parseIp6("2001:db8::1")!, dst = parseIp6("2001:db8::2")!;
  for (const id of [1, 2]) {
    const p = new Uint8Array(48 + 16);
    emitIpv6Header(p, 0, src, dst, IPPROTO6.FRAGMENT, 8 + 16, 64);
    emitFragmentHeader(p, 40, IPPROTO6.ICMPV6, 0, true, id);
    inject(net, seg, 0, etherFrame(2, 1, p));
  }
  assert.deepEqual(
    [b.stats.ip6.fragments, b.stats.ip6.fragoverflow, stackCore(b).ip6!.frags.reassembler.size],
    [2, 1, 1],
  );
});

Deno.test("a Packet Too Big below 1280 changes nothing", () => {
  const { net, seg, a } = twoHosts();
  const { sock } = icmp6Socket(a);
  a.sendRaw(sock, "2001:db8::2", echo6(1, 0), {});
  net.run();
  const s = parseIp6("2001:db8::2")!, d = parseIp6("2001:db8::1")!;
  const ptb = new Uint8Array(8 + 48);
  ptb[0] = ICMP6_TYPE.PACKET_TOO_BIG;
  ptb[6] = 1000 >> 8;
  ptb[7] = 1000 & 0xff;
  emitIpv6Header(ptb, 8, d, parseIp6("2001:db8::2")!, 58, 8, 64);
  fillIcmp6Checksum(ptb, 0, ptb.length, s, d);
  const ip = new Uint8Array(40 + ptb.length);
  emitIpv6Header(ip, 0, s, d, 58, ptb.length, 64);
  ip.set(ptb, 40);
  inject(net, seg, 1, etherFrame(1, 2, ip));
  assert.equal(a.stats.icmp6.inhist[2], 1);
  assert.equal(a.stats.icmp6.pmtuchg, 0);
  assert.equal(a.routeInfo().some((r) => r.dst === "2001:db8::2"), false);
});
