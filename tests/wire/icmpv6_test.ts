import assert from "node:assert/strict";
import { parseIp6 } from "../../core/net/ip_addr.ts";
import {
  emitIcmp6Echo,
  emitIcmp6Error,
  emitIcmp6Header,
  fillIcmp6Checksum,
  ICMP6_ERROR_MAX_LEN,
  ICMP6_PARAMPROB,
  ICMP6_PARAMPROB_NAME,
  ICMP6_TIME_EXCEED,
  ICMP6_TIME_EXCEED_NAME,
  ICMP6_TYPE,
  ICMP6_TYPE_NAME,
  ICMP6_UNREACH,
  ICMP6_UNREACH_NAME,
  icmp6Checksum,
  icmp6ChecksumOk,
  Icmp6View,
  isIcmp6Error,
} from "../../core/wire/icmpv6.ts";
import { Ipv6HeaderWalk, Ipv6View, walkIpv6Headers } from "../../core/wire/ipv6.ts";
import { hex, prng, toHex } from "../kit/bytes.ts";

/** A seeded PRNG (mulberry32), so property runs repeat exactly. */

// Captured from Linux 6.18 (iputils ping 20221126, tcpdump 4.99.3): two network namespaces
// created for the capture, joined by a veth pair (2001:db8::1 and 2001:db8::2); `ping -6 -c1`,
// and a UDP datagram "hello" sent to the closed port 9 of 2001:db8::2 (Python socket). The
// namespaces were deleted afterwards. IPv6 packets, Ethernet headers stripped.
const ECHO_REQUEST = hex(`
  6006f80a00403a4020010db800000000000000000000000120010db8000000000000000000000002
  80000d55644f000168dc036b000000008250050000000000101112131415161718191a1b1c1d1e1f
  202122232425262728292a2b2c2d2e2f3031323334353637
`);
const ECHO_REPLY = hex(`
  6003906500403a4020010db800000000000000000000000220010db8000000000000000000000001
  81000c55644f000168dc036b000000008250050000000000101112131415161718191a1b1c1d1e1f
  202122232425262728292a2b2c2d2e2f3031323334353637
`);
// The UDP datagram as it left 2001:db8::1 (its UDP checksum was left to offload: wrong on the
// wire, which does not matter here) and the Port Unreachable that answered it.
const UDP = hex(`
  60030d3f000d114020010db800000000000000000000000120010db8000000000000000000000002
  98c20009000d5b9368656c6c6f
`);
const PORT_UNREACH = hex(`
  60015594003d3a4020010db800000000000000000000000220010db8000000000000000000000001
  010490cc0000000060030d3f000d114020010db800000000000000000000000120010db800000000
  000000000000000298c20009000d5b9368656c6c6f
`);
// An MLDv2 report from fe80::ff:fe00:1 behind a Hop-by-Hop header: the pseudo-header length
// is the ICMPv6 message's, not the payload's.
const MLDV2_REPORT = hex(`
  6000000000240001fe80000000000000000000fffe000001ff020000000000000000000000000016
  3a000502000001008f0072070000000104000000ff0200000000000000000001ff000001
`);

// Crafted with Python `struct` in a throwaway script (independent of the emitters): errors from
// 2001:db8::fe to 2001:db8::1 quoting an echo request 2001:db8::1 -> 2001:db8:99::1.
const PTB = hex(`
  60000000003c3a4020010db80000000000000000000000fe20010db8000000000000000000000001
  020002120000050060000000000c3a4020010db800000000000000000000000120010db800990000
  0000000000000001800002964242000370696e67
`);
const PARAMPROB = hex(`
  60000000003c3a4020010db80000000000000000000000fe20010db8000000000000000000000001
  0401050b0000000660000000000c3a4020010db800000000000000000000000120010db800990000
  0000000000000001800002964242000370696e67
`);
const TIMEEX = hex(`
  60000000003c3a4020010db80000000000000000000000fe20010db8000000000000000000000001
  030006120000000060000000000c3a4020010db800000000000000000000000120010db800990000
  0000000000000001800002964242000370696e67
`);

const ip = new Ipv6View();
const icmp = new Icmp6View();

/** Wraps the IPv6 packet and its ICMPv6 message (no extension headers). */
function open(pkt: Uint8Array): void {
  assert.equal(ip.wrap(pkt, 0, pkt.length), null);
  assert.equal(icmp.wrap(pkt, 40, ip.payloadLength), null);
}

Deno.test("Icmp6View reads captured echo messages and their checksums verify", () => {
  open(ECHO_REQUEST);
  assert.equal(icmp.type, ICMP6_TYPE.ECHO_REQUEST);
  assert.equal(icmp.code, 0);
  assert.equal(icmp.checksum, 0x0d55);
  assert.equal(icmp.id, 25679);
  assert.equal(icmp.seq, 1);
  assert.equal(icmp.bodyOffset, 48);
  assert.equal(icmp.bodyLength, 56);
  assert.equal(icmp.isError, false);
  assert.equal(ICMP6_TYPE_NAME[icmp.type], "echo");
  assert.equal(icmp.checksumOk(ip.src, ip.dst), true);
  // With the addresses swapped the pseudo-header sum is the same (addition commutes), so
  // take another destination instead.
  assert.equal(icmp.checksumOk(ip.src, parseIp6("2001:db8::3")!), false);
  open(ECHO_REPLY);
  assert.equal(icmp.type, ICMP6_TYPE.ECHO_REPLY);
  assert.equal(icmp.id, 25679);
  assert.equal(icmp.checksumOk(ip.src, ip.dst), true);
});

Deno.test("emitIcmp6Echo turns the captured request into the captured reply, in place", () => {
  const buf = ECHO_REQUEST.slice(40); // the request's data stays where it is
  open(ECHO_REPLY);
  const n = emitIcmp6Echo(buf, 0, ICMP6_TYPE.ECHO_REPLY, 25679, 1, 56, ip.src, ip.dst);
  assert.equal(n, 64);
  assert.equal(toHex(buf), toHex(ECHO_REPLY.subarray(40)));
  // And back again.
  open(ECHO_REQUEST);
  emitIcmp6Echo(buf, 0, ICMP6_TYPE.ECHO_REQUEST, 25679, 1, 56, ip.src, ip.dst);
  assert.equal(toHex(buf), toHex(ECHO_REQUEST.subarray(40)));
});

Deno.test("Icmp6View reads a captured Port Unreachable quoting the datagram", () => {
  open(PORT_UNREACH);
  assert.equal(icmp.type, ICMP6_TYPE.DST_UNREACH);
  assert.equal(icmp.code, ICMP6_UNREACH.NOPORT);
  assert.equal(ICMP6_UNREACH_NAME[icmp.code], "port unreachable");
  assert.equal(icmp.isError, true);
  assert.equal(icmp.word, 0);
  assert.equal(icmp.checksumOk(ip.src, ip.dst), true);
  const quoted = PORT_UNREACH.subarray(icmp.bodyOffset, icmp.bodyOffset + icmp.bodyLength);
  assert.equal(toHex(quoted), toHex(UDP));
});

Deno.test("emitIcmp6Error reproduces the captured Port Unreachable", () => {
  open(PORT_UNREACH);
  const out = new Uint8Array(1500);
  const n = emitIcmp6Error(
    out,
    8,
    ICMP6_TYPE.DST_UNREACH,
    ICMP6_UNREACH.NOPORT,
    0,
    UDP,
    ip.src,
    ip.dst,
  );
  assert.equal(n, 61);
  assert.equal(toHex(out.subarray(8, 8 + n)), toHex(PORT_UNREACH.subarray(40)));
});

Deno.test("crafted Packet Too Big, Parameter Problem and Time Exceeded round-trip", () => {
  const cases: [Uint8Array, number, number, number][] = [
    [PTB, ICMP6_TYPE.PACKET_TOO_BIG, 0, 1280],
    [PARAMPROB, ICMP6_TYPE.PARAM_PROB, ICMP6_PARAMPROB.NEXTHEADER, 6],
    [TIMEEX, ICMP6_TYPE.TIME_EXCEEDED, ICMP6_TIME_EXCEED.TRANSIT, 0],
  ];
  for (const [pkt, type, code, word] of cases) {
    open(pkt);
    assert.equal(icmp.type, type);
    assert.equal(icmp.code, code);
    assert.equal(icmp.word, word);
    assert.equal(icmp.checksumOk(ip.src, ip.dst), true);
    const invoking = pkt.subarray(icmp.bodyOffset, icmp.bodyOffset + icmp.bodyLength);
    const out = new Uint8Array(icmp.length);
    assert.equal(emitIcmp6Error(out, 0, type, code, word, invoking, ip.src, ip.dst), icmp.length);
    assert.equal(toHex(out), toHex(pkt.subarray(40)));
  }
  open(PTB);
  assert.equal(icmp.mtu, 1280);
  assert.equal(ICMP6_TYPE_NAME[icmp.type], "packet too big");
  open(PARAMPROB);
  assert.equal(icmp.pointer, 6);
  assert.equal(ICMP6_PARAMPROB_NAME[icmp.code], "unrecognized next header");
  open(TIMEEX);
  assert.equal(ICMP6_TIME_EXCEED_NAME[icmp.code], "hop limit exceeded in transit");
  // The quoted packet's own checksum still verifies: nothing was cut.
  const inner = new Ipv6View();
  assert.equal(inner.wrap(TIMEEX, icmp.bodyOffset, icmp.bodyLength), null);
  assert.equal(
    icmp6ChecksumOk(TIMEEX, inner.payloadOffset, inner.payloadLength, inner.src, inner.dst),
    true,
  );
});

Deno.test("checksum of an MLDv2 report behind a Hop-by-Hop header", () => {
  assert.equal(ip.wrap(MLDV2_REPORT, 0, MLDV2_REPORT.length), null);
  const walk = new Ipv6HeaderWalk();
  walkIpv6Headers(MLDV2_REPORT, 40, ip.payloadLength, ip.nextHeader, 15, walk);
  const len = ip.packetLength - walk.protoOffset;
  assert.equal(icmp.wrap(MLDV2_REPORT, walk.protoOffset, len), null);
  assert.equal(icmp.type, ICMP6_TYPE.MLDV2_REPORT);
  assert.equal(ICMP6_TYPE_NAME[icmp.type], "MLDv2 listener report");
  assert.equal(icmp.checksumOk(ip.src, ip.dst), true);
  assert.equal(icmp6Checksum(MLDV2_REPORT, walk.protoOffset, len, ip.src, ip.dst), icmp.checksum);
});

Deno.test("emitIcmp6Error cuts the quoted packet to fit 1280 bytes of IPv6", () => {
  const src = parseIp6("2001:db8::fe")!, dst = parseIp6("2001:db8::1")!;
  const big = new Uint8Array(1500).map((_, i) => i & 0xff);
  const out = new Uint8Array(2000);
  let n = emitIcmp6Error(out, 0, ICMP6_TYPE.PACKET_TOO_BIG, 0, 1400, big, src, dst);
  assert.equal(n, ICMP6_ERROR_MAX_LEN);
  assert.equal(40 + n, 1280);
  assert.equal(toHex(out.subarray(8, n)), toHex(big.subarray(0, n - 8)));
  assert.equal(icmp6ChecksumOk(out, 0, n, src, dst), true);
  icmp.wrap(out, 0, n);
  assert.equal(icmp.mtu, 1400);
  // A smaller maximum, e.g. room left for extension headers in front.
  n = emitIcmp6Error(out, 0, ICMP6_TYPE.TIME_EXCEEDED, 1, 0, big, src, dst, 1000);
  assert.equal(n, 1000);
  assert.equal(icmp6ChecksumOk(out, 0, n, src, dst), true);
  // Never past the buffer.
  const small = new Uint8Array(100);
  n = emitIcmp6Error(small, 20, ICMP6_TYPE.DST_UNREACH, 0, 0, big, src, dst);
  assert.equal(n, 80);
  assert.equal(icmp6ChecksumOk(small, 20, n, src, dst), true);
  // A maximum below the header quotes nothing.
  n = emitIcmp6Error(out, 0, ICMP6_TYPE.DST_UNREACH, 0, 0, big, src, dst, 4);
  assert.equal(n, 8);
});

Deno.test("Icmp6View.wrap refuses short messages; setters and checksum fill work in place", () => {
  assert.equal(icmp.wrap(new Uint8Array(7), 0, 7), "tooshort");
  assert.equal(icmp.wrap(ECHO_REQUEST, 40, 7), "tooshort");
  const pkt = ECHO_REQUEST.slice();
  open(pkt);
  pkt[60] ^= 0x10; // one bit of data flipped
  assert.equal(icmp.checksumOk(ip.src, ip.dst), false);
  icmp.fillChecksum(ip.src, ip.dst);
  assert.equal(icmp.checksumOk(ip.src, ip.dst), true);
  icmp.setType(ICMP6_TYPE.ECHO_REPLY);
  icmp.setCode(0);
  icmp.setChecksum(0xffff);
  assert.equal(icmp.checksum, 0xffff);
  const c = icmp6Checksum(pkt, 40, 64, ip.src, ip.dst);
  icmp.setChecksum(0x1234); // icmp6Checksum ignores what the field holds
  assert.equal(icmp6Checksum(pkt, 40, 64, ip.src, ip.dst), c);
  fillIcmp6Checksum(pkt, 40, 64, ip.src, ip.dst);
  assert.equal(icmp.checksumOk(ip.src, ip.dst), true);
  assert.equal(icmp.type, 129);
});

Deno.test("emitIcmp6Header writes the head and zeroes the checksum", () => {
  const b = new Uint8Array(8).fill(0xee);
  assert.equal(emitIcmp6Header(b, 0, ICMP6_TYPE.PARAM_PROB, ICMP6_PARAMPROB.OPTION, 0x2b), 8);
  assert.equal(toHex(b), "040200000000002b");
});

Deno.test("isIcmp6Error and the name tables", () => {
  assert.equal(isIcmp6Error(0), true);
  assert.equal(isIcmp6Error(127), true);
  assert.equal(isIcmp6Error(128), false);
  assert.equal(isIcmp6Error(ICMP6_TYPE.NEIGHBOR_SOLICIT), false);
  assert.equal(ICMP6_TYPE_NAME[ICMP6_TYPE.NEIGHBOR_ADVERT], "neighbor advertisement");
  assert.equal(ICMP6_TYPE_NAME[ICMP6_TYPE.ROUTER_SOLICIT], "router solicitation");
  assert.equal(ICMP6_TYPE_NAME[ICMP6_TYPE.MLD_QUERY], "multicast listener query");
  assert.equal(ICMP6_TYPE_NAME[200], undefined); // unknown types pass through
});

Deno.test("property: random echo messages round-trip; any one-bit flip fails the checksum", () => {
  const rnd = prng(4443);
  const buf = new Uint8Array(8 + 600);
  const src = new Uint8Array(16), dst = new Uint8Array(16);
  for (let i = 0; i < 300; i++) {
    for (let j = 0; j < 16; j++) {
      src[j] = rnd(256);
      dst[j] = rnd(256);
    }
    const at = rnd(8), dataLen = rnd(590), id = rnd(65536), seq = rnd(65536);
    for (let j = 0; j < dataLen; j++) buf[at + 8 + j] = rnd(256);
    const type = rnd(2) ? ICMP6_TYPE.ECHO_REQUEST : ICMP6_TYPE.ECHO_REPLY;
    const n = emitIcmp6Echo(buf, at, type, id, seq, dataLen, src, dst);
    assert.equal(icmp.wrap(buf, at, n), null);
    assert.deepEqual([icmp.type, icmp.code, icmp.id, icmp.seq], [type, 0, id, seq]);
    assert.equal(icmp.checksumOk(src, dst), true);
    const bit = rnd(n * 8);
    buf[at + (bit >> 3)] ^= 1 << (bit & 7);
    assert.equal(icmp.checksumOk(src, dst), false, `bit ${bit} of ${n * 8}`);
    buf[at + (bit >> 3)] ^= 1 << (bit & 7);
    // Re-emitting from the parsed fields gives the same bytes.
    const copy = buf.slice(at, at + n);
    emitIcmp6Echo(copy, 0, icmp.type, icmp.id, icmp.seq, icmp.bodyLength, src, dst);
    assert.deepEqual(copy, buf.subarray(at, at + n));
  }
});

Deno.test("property: random errors quote min(invoking, max - 8) bytes and verify", () => {
  const rnd = prng(1280);
  const out = new Uint8Array(1400);
  const src = parseIp6("2001:db8::fe")!, dst = parseIp6("2001:db8::1")!;
  for (let i = 0; i < 200; i++) {
    const inv = new Uint8Array(rnd(1600)).map(() => rnd(256));
    const max = 8 + rnd(1300);
    const type = rnd(4) + 1, code = rnd(8), word = rnd(0x10000) * 0x10000 + rnd(0x10000);
    const n = emitIcmp6Error(out, 0, type, code, word, inv, src, dst, max);
    assert.equal(n, 8 + Math.min(inv.length, max - 8, out.length - 8));
    icmp.wrap(out, 0, n);
    assert.deepEqual([icmp.type, icmp.code, icmp.word], [type, code, word]);
    assert.equal(icmp.checksumOk(src, dst), true);
    assert.deepEqual(out.subarray(8, n), inv.subarray(0, n - 8));
  }
});
