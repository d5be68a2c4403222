import assert from "node:assert/strict";
import { formatIp6, parseIp6 } from "../../core/net/ip_addr.ts";
import { icmp6ChecksumOk } from "../../core/wire/icmpv6.ts";
import {
  emitFragmentHeader,
  emitIpv6Header,
  emitRouterAlertHbh,
  FragmentView,
  IP6OPT,
  IP6OPT_ACTION,
  IP6OPT_ACTION_NAME,
  ip6OptAction,
  ip6OptMayChange,
  IPPROTO6,
  IPPROTO6_NAME,
  IPV6_HDRNEST_LIMIT,
  IPV6_HEADER_LEN,
  Ipv6HeaderWalk,
  Ipv6View,
  isIpv6ExtHeader,
  walkIpv6Headers,
} from "../../core/wire/ipv6.ts";
import { hex, prng, toHex } from "../kit/bytes.ts";

/** A seeded PRNG (mulberry32), so property runs repeat exactly. */

// Captured from Linux 6.18 (iputils ping 20221126, tcpdump 4.99.3): two network namespaces
// created for the capture, joined by a veth pair (02:00:00:00:00:01 = 2001:db8::1,
// 02:00:00:00:00:02 = 2001:db8::2), `ping -6 -c1 2001:db8::2` and `ping -6 -c1 -s 2000 ...`,
// `tcpdump -w` on one end; the namespaces were deleted afterwards. Ethernet headers stripped.

// Echo request, flow label 0x6f80a, hop limit 64.
const ECHO_REQUEST = hex(`
  6006f80a00403a4020010db800000000000000000000000120010db8000000000000000000000002
  80000d55644f000168dc036b000000008250050000000000101112131415161718191a1b1c1d1e1f
  202122232425262728292a2b2c2d2e2f3031323334353637
`);
// MLDv1 report sent during DAD (source ::), behind a Hop-by-Hop header: Router Alert 0 + PadN.
const MLD_REPORT = hex(`
  600000000020000100000000000000000000000000000000ff0200000000000000000001ff000002
  3a000502000001008300809f00000000ff0200000000000000000001ff000002
`);
// Neighbor Solicitation to a solicited-node group (hop limit 255, no extension headers).
const NS = hex(`
  6000000000203aff20010db8000000000000000000000001ff0200000000000000000001ff000002
  87001c270000000020010db80000000000000000000000020101020000000001
`);

// `ping -6 -s 2000` over a 1500-byte MTU: two fragments (id 0x9b14fc25). Only their heads are
// pasted; the rest is ping's fill pattern, where byte k of the fragmentable part (k >= 24,
// after the ICMPv6 header and the 16-byte timestamp) is (k - 8) & 0xff.
const FRAG1_HEAD = hex(`
  6006f80a05b02c4020010db800000000000000000000000120010db8000000000000000000000002
  3a0000019b14fc25800076986450000168dc036b00000000c45e050000000000
`);
const FRAG2_HEAD = hex(`
  6006f80a02382c4020010db800000000000000000000000120010db8000000000000000000000002
  3a0005a89b14fc25
`);

function fragment(head: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(48 + to - from);
  out.set(head);
  for (let k = Math.max(from, 24); k < to; k++) out[48 + k - from] = (k - 8) & 0xff;
  return out;
}
const FRAG1 = fragment(FRAG1_HEAD, 0, 1448);
const FRAG2 = fragment(FRAG2_HEAD, 1448, 2008);

// Crafted with Python `struct` in a throwaway script (independent of the emitters):
// HBH (Router Alert 0, PadN) + Destination Options (unknown skip-type option 0x1e, Pad1, PadN)
// + Fragment (atomic, id 0x12345678) + ICMPv6 echo request "ping".
const CHAIN = hex(`
  60000000002c004020010db800000000000000000000000120010db8000000000000000000000002
  3c000502000001002c011e030a0b0c0001060000000000003a000000123456788000333812340007
  70696e67
`);
// AH (payload length 4: 24 bytes) + ICMPv6 echo request.
const AH = hex(`
  600000000024334020010db800000000000000000000000120010db8000000000000000000000002
  3a0400000000010000000001000102030405060708090a0b800033381234000770696e67
`);
// Routing header (type 253, experimental; segments left 0; 24 bytes) + ICMPv6 echo request.
const ROUTING = hex(`
  6000000000242b4020010db800000000000000000000000120010db8000000000000000000000002
  3a02fd000000000020010db8000000000000000000000002800033381234000770696e67
`);

const walk = new Ipv6HeaderWalk();
const ip = new Ipv6View();

function walkPacket(pkt: Uint8Array, limit = IPV6_HDRNEST_LIMIT): string | null {
  assert.equal(ip.wrap(pkt, 0, pkt.length), null);
  return walkIpv6Headers(pkt, IPV6_HEADER_LEN, ip.payloadLength, ip.nextHeader, limit, walk);
}

/** An IPv6 header with `nh` in front of `ext`, as one packet. */
function packet(nh: number, ext: number[]): Uint8Array {
  const pkt = new Uint8Array(IPV6_HEADER_LEN + ext.length);
  emitIpv6Header(pkt, 0, parseIp6("2001:db8::1")!, parseIp6("2001:db8::2")!, nh, ext.length, 64);
  pkt.set(ext, IPV6_HEADER_LEN);
  return pkt;
}

Deno.test("Ipv6View reads a captured echo request", () => {
  assert.equal(ip.wrap(ECHO_REQUEST, 0, ECHO_REQUEST.length), null);
  assert.equal(ip.version, 6);
  assert.equal(ip.trafficClass, 0);
  assert.equal(ip.flowLabel, 0x6f80a);
  assert.equal(ip.payloadLength, 64);
  assert.equal(ip.nextHeader, IPPROTO6.ICMPV6);
  assert.equal(ip.hopLimit, 64);
  assert.equal(formatIp6(ip.src), "2001:db8::1");
  assert.equal(formatIp6(ip.dst), "2001:db8::2");
  assert.equal(ip.payloadOffset, 40);
  assert.equal(ip.packetLength, ECHO_REQUEST.length);
  assert.equal(ip.isMulticast, false);
  assert.equal(IPPROTO6_NAME[ip.nextHeader], "icmp6");
});

Deno.test("Ipv6View addresses are copied at wrap into arrays the view owns (no view per packet)", () => {
  const pkt = ECHO_REQUEST.slice();
  ip.wrap(pkt, 0, pkt.length);
  const src = ip.src;
  assert.notEqual(src.buffer, pkt.buffer);
  assert.equal(ip.src, src, "the same array every time");
  assert.equal(ip.srcOffset, 8);
  pkt[8 + 15] = 9;
  assert.equal(formatIp6(ip.src), "2001:db8::1", "a later write to the packet is not seen");
  ip.wrap(pkt, 0, pkt.length);
  assert.equal(formatIp6(src), "2001:db8::9", "until the next wrap");
  ip.setSrc(new Uint8Array([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]));
  assert.equal(formatIp6(ip.src), "2001:db8::7");
  assert.equal(pkt[8 + 15], 7, "setSrc writes the packet too");
});

Deno.test("Ipv6View reads a header at an offset inside a larger buffer", () => {
  const buf = new Uint8Array(14 + NS.length + 6);
  buf.set(NS, 14);
  assert.equal(ip.wrap(buf, 14, NS.length + 6), null); // trailing link padding is legal
  assert.equal(formatIp6(ip.dst), "ff02::1:ff00:2");
  assert.equal(ip.isMulticast, true);
  assert.equal(ip.hopLimit, 255);
  assert.equal(ip.payloadOffset, 54);
  assert.equal(ip.packetLength, NS.length);
});

Deno.test("emitIpv6Header reproduces captured headers byte for byte", () => {
  for (const pkt of [ECHO_REQUEST, MLD_REPORT, NS, FRAG1, FRAG2, CHAIN, AH, ROUTING]) {
    assert.equal(ip.wrap(pkt, 0, pkt.length), null);
    const out = new Uint8Array(40);
    const n = emitIpv6Header(
      out,
      0,
      ip.src,
      ip.dst,
      ip.nextHeader,
      ip.payloadLength,
      ip.hopLimit,
      ip.trafficClass,
      ip.flowLabel,
    );
    assert.equal(n, IPV6_HEADER_LEN);
    assert.equal(toHex(out), toHex(pkt.subarray(0, 40)));
  }
});

Deno.test("Ipv6View.wrap refuses short, wrong-version and overlong packets", () => {
  assert.equal(ip.wrap(ECHO_REQUEST, 0, 39), "tooshort");
  assert.equal(ip.wrap(new Uint8Array(0), 0, 0), "tooshort");
  const v4 = ECHO_REQUEST.slice();
  v4[0] = 0x45;
  assert.equal(ip.wrap(v4, 0, v4.length), "badvers");
  assert.equal(ip.wrap(ECHO_REQUEST, 0, ECHO_REQUEST.length - 1), "badlen");
  // A header alone, claiming 64 payload bytes.
  assert.equal(ip.wrap(ECHO_REQUEST, 0, 40), "badlen");
  // The view recovers on the next wrap.
  assert.equal(ip.wrap(ECHO_REQUEST, 0, ECHO_REQUEST.length), null);
  assert.equal(ip.hopLimit, 64);
});

Deno.test("Ipv6View setters write in place and keep the other bits", () => {
  const pkt = ECHO_REQUEST.slice();
  ip.wrap(pkt, 0, pkt.length);
  ip.setHopLimit(ip.hopLimit - 1);
  assert.equal(pkt[7], 63);
  ip.setTrafficClass(0xb8);
  assert.equal(ip.trafficClass, 0xb8);
  assert.equal(ip.flowLabel, 0x6f80a);
  assert.equal(ip.version, 6);
  ip.setFlowLabel(0xfffff);
  assert.equal(ip.flowLabel, 0xfffff);
  assert.equal(ip.trafficClass, 0xb8);
  ip.setPayloadLength(8);
  ip.setNextHeader(IPPROTO6.NONE);
  assert.equal(ip.payloadLength, 8);
  assert.equal(ip.nextHeader, 59);
  ip.setSrc(parseIp6("2001:db8::a")!);
  ip.setDst(parseIp6("2001:db8::b")!);
  assert.equal(formatIp6(ip.src), "2001:db8::a");
  assert.equal(formatIp6(ip.dst), "2001:db8::b");
  assert.equal(toHex(pkt.subarray(0, 8)), "6b8fffff00083b3f");
});

Deno.test("walkIpv6Headers follows the captured MLD report's Hop-by-Hop header", () => {
  assert.equal(walkPacket(MLD_REPORT), null);
  assert.equal(walk.proto, IPPROTO6.ICMPV6);
  assert.equal(walk.protoOffset, 48);
  assert.equal(walk.nextFieldOffset, 40);
  assert.equal(walk.count, 1);
  assert.equal(walk.routerAlert, 0);
  assert.equal(walk.fragOffset, -1);
  assert.equal(walk.hbhNotFirst, false);
  assert.equal(walk.errorOffset, -1);
  // emitRouterAlertHbh writes the same 8 bytes Linux sent.
  const hbh = new Uint8Array(8);
  assert.equal(emitRouterAlertHbh(hbh, 0, IPPROTO6.ICMPV6), 8);
  assert.equal(toHex(hbh), toHex(MLD_REPORT.subarray(40, 48)));
});

Deno.test("walkIpv6Headers with no extension headers reports the upper layer at 40", () => {
  assert.equal(walkPacket(ECHO_REQUEST), null);
  assert.equal(walk.proto, IPPROTO6.ICMPV6);
  assert.equal(walk.protoOffset, 40);
  assert.equal(walk.nextFieldOffset, -1);
  assert.equal(walk.count, 0);
  assert.equal(walk.routerAlert, -1);
});

Deno.test("captured fragments: views, walks, emit and reassembly", () => {
  const frag = new FragmentView();
  // First fragment: the walk goes on to the ICMPv6 header inside it.
  assert.equal(walkPacket(FRAG1), null);
  assert.equal(walk.fragOffset, 40);
  assert.equal(walk.laterFragment, false);
  assert.equal(walk.proto, IPPROTO6.ICMPV6);
  assert.equal(walk.protoOffset, 48);
  assert.equal(frag.wrap(FRAG1, walk.fragOffset, FRAG1.length - 40), null);
  assert.equal(frag.nextHeader, IPPROTO6.ICMPV6);
  assert.equal(frag.fragmentOffset, 0);
  assert.equal(frag.more, true);
  assert.equal(frag.id, 0x9b14fc25);
  assert.equal(frag.atomic, false);
  assert.equal(frag.dataOffset, 48);
  // Later fragment: the walk stops, what follows is data.
  assert.equal(walkPacket(FRAG2), null);
  assert.equal(walk.fragOffset, 40);
  assert.equal(walk.laterFragment, true);
  assert.equal(walk.proto, IPPROTO6.ICMPV6);
  assert.equal(walk.protoOffset, 48);
  assert.equal(walk.nextFieldOffset, 40);
  assert.equal(frag.wrap(FRAG2, 40, FRAG2.length - 40), null);
  assert.equal(frag.fragmentOffset, 1448);
  assert.equal(frag.more, false);
  assert.equal(frag.id, 0x9b14fc25);
  // Emit gives identical bytes.
  for (const pkt of [FRAG1, FRAG2]) {
    frag.wrap(pkt, 40, 8);
    const out = new Uint8Array(8);
    assert.equal(
      emitFragmentHeader(out, 0, frag.nextHeader, frag.fragmentOffset, frag.more, frag.id),
      8,
    );
    assert.equal(toHex(out), toHex(pkt.subarray(40, 48)));
  }
  // Reassembled, the echo request's checksum verifies.
  const whole = new Uint8Array(2008);
  whole.set(FRAG1.subarray(48), 0);
  whole.set(FRAG2.subarray(48), 1448);
  ip.wrap(FRAG1, 0, FRAG1.length);
  assert.equal(icmp6ChecksumOk(whole, 0, whole.length, ip.src, ip.dst), true);
  assert.equal(frag.wrap(FRAG1, 40, 7), "truncated");
});

Deno.test("FragmentView setter and atomic fragments", () => {
  const b = new Uint8Array(8);
  emitFragmentHeader(b, 0, IPPROTO6.UDP, 0, false, 0xffffffff);
  const frag = new FragmentView();
  frag.wrap(b, 0, 8);
  assert.equal(frag.atomic, true);
  assert.equal(frag.id, 0xffffffff);
  frag.setNextHeader(IPPROTO6.TCP);
  assert.equal(frag.nextHeader, 6);
  emitFragmentHeader(b, 0, IPPROTO6.UDP, 65528, true, 1);
  assert.equal(frag.fragmentOffset, 65528);
  assert.equal(frag.more, true);
  assert.equal(toHex(b), "1100fff900000001");
});

Deno.test("walkIpv6Headers follows HBH + DestOpt + Fragment + ICMPv6 (crafted)", () => {
  assert.equal(walkPacket(CHAIN), null);
  assert.equal(walk.count, 3);
  assert.equal(walk.routerAlert, 0);
  assert.equal(walk.fragOffset, 64);
  assert.equal(walk.laterFragment, false);
  assert.equal(walk.proto, IPPROTO6.ICMPV6);
  assert.equal(walk.protoOffset, 72);
  assert.equal(walk.nextFieldOffset, 64);
  ip.wrap(CHAIN, 0, CHAIN.length);
  assert.equal(icmp6ChecksumOk(CHAIN, 72, CHAIN.length - 72, ip.src, ip.dst), true);
  const frag = new FragmentView();
  frag.wrap(CHAIN, walk.fragOffset, 8);
  assert.equal(frag.atomic, true);
  assert.equal(frag.id, 0x12345678);
});

Deno.test("walkIpv6Headers counts AH length in 4-byte units plus 2", () => {
  assert.equal(walkPacket(AH), null);
  assert.equal(walk.count, 1);
  assert.equal(walk.proto, IPPROTO6.ICMPV6);
  assert.equal(walk.protoOffset, 64);
  ip.wrap(AH, 0, AH.length);
  assert.equal(icmp6ChecksumOk(AH, 64, AH.length - 64, ip.src, ip.dst), true);
});

Deno.test("walkIpv6Headers skips a Routing header and records where it is", () => {
  assert.equal(walkPacket(ROUTING), null);
  assert.equal(walk.routingOffset, 40);
  assert.equal(walk.proto, IPPROTO6.ICMPV6);
  assert.equal(walk.protoOffset, 64);
});

Deno.test("walkIpv6Headers stops at No Next Header and at unknown protocols", () => {
  assert.equal(walkPacket(packet(IPPROTO6.DSTOPTS, [59, 0, 1, 4, 0, 0, 0, 0])), null);
  assert.equal(walk.proto, IPPROTO6.NONE);
  assert.equal(walk.protoOffset, 48);
  assert.equal(walkPacket(packet(IPPROTO6.DSTOPTS, [253, 0, 1, 4, 0, 0, 0, 0, 0xaa])), null);
  assert.equal(walk.proto, 253);
  assert.equal(walk.protoOffset, 48);
  assert.equal(walk.nextFieldOffset, 40);
  // ESP is not walked into: it is where the chain ends for this layer.
  assert.equal(walkPacket(packet(IPPROTO6.ESP, [0, 0, 0, 1])), null);
  assert.equal(walk.proto, IPPROTO6.ESP);
  assert.equal(walk.protoOffset, 40);
  assert.equal(isIpv6ExtHeader(IPPROTO6.ESP), false);
  assert.equal(isIpv6ExtHeader(IPPROTO6.AH), true);
});

Deno.test("walkIpv6Headers refuses a Hop-by-Hop header that is not first", () => {
  const pkt = packet(IPPROTO6.DSTOPTS, [
    ...[IPPROTO6.HOPOPTS, 0, 1, 4, 0, 0, 0, 0],
    ...[IPPROTO6.ICMPV6, 0, 5, 2, 0, 0, 1, 0],
  ]);
  assert.equal(walkPacket(pkt), "hbhnotfirst");
  assert.equal(walk.hbhNotFirst, true);
  assert.equal(walk.errorOffset, 40); // the Next Header field that named it
  // After a Fragment header too.
  const pkt2 = packet(IPPROTO6.HOPOPTS, [
    ...[IPPROTO6.FRAGMENT, 0, 1, 4, 0, 0, 0, 0],
    ...[IPPROTO6.HOPOPTS, 0, 0, 0, 0, 0, 0, 1],
    ...[IPPROTO6.ICMPV6, 0, 1, 4, 0, 0, 0, 0],
  ]);
  assert.equal(walkPacket(pkt2), "hbhnotfirst");
  assert.equal(walk.errorOffset, 48);
});

Deno.test("walkIpv6Headers refuses nesting beyond the limit", () => {
  const ext: number[] = [];
  for (let i = 0; i < 16; i++) {
    ext.push(i === 15 ? IPPROTO6.UDP : IPPROTO6.DSTOPTS, 0, 1, 4, 0, 0, 0, 0);
  }
  const pkt = packet(IPPROTO6.DSTOPTS, ext);
  assert.equal(walkPacket(pkt, 15), "toomany");
  assert.equal(walk.errorOffset, 40 + 15 * 8);
  assert.equal(walk.count, 15);
  assert.equal(walkPacket(pkt, 16), null);
  assert.equal(walk.count, 16);
  assert.equal(walk.proto, IPPROTO6.UDP);
  assert.equal(walk.protoOffset, 40 + 16 * 8);
  assert.equal(walkPacket(pkt, 0), null); // 0: no limit, as net.inet6.ip6.hdrnestlimit=0
});

Deno.test("walkIpv6Headers refuses truncated chains", () => {
  // The header claims 16 bytes; 8 are there.
  assert.equal(
    walkPacket(packet(IPPROTO6.DSTOPTS, [IPPROTO6.UDP, 1, 1, 4, 0, 0, 0, 0])),
    "truncated",
  );
  assert.equal(walk.errorOffset, 40);
  // The chain names a header and ends.
  assert.equal(walkPacket(packet(IPPROTO6.DSTOPTS, [])), "truncated");
  assert.equal(walk.errorOffset, 40);
  assert.equal(walkPacket(packet(IPPROTO6.DSTOPTS, [IPPROTO6.UDP])), "truncated");
  // A short Fragment header, a short AH.
  assert.equal(walkPacket(packet(IPPROTO6.FRAGMENT, [IPPROTO6.UDP, 0, 0, 0])), "truncated");
  assert.equal(walkPacket(packet(IPPROTO6.AH, [IPPROTO6.UDP, 4, 0, 0, 0, 0, 0, 0])), "truncated");
  // The length given to the walk bounds it, not the buffer.
  assert.equal(ip.wrap(CHAIN, 0, CHAIN.length), null);
  assert.equal(walkIpv6Headers(CHAIN, 40, 30, ip.nextHeader, 15, walk), "truncated");
  assert.equal(walk.errorOffset, 64);
  assert.equal(walk.fragOffset, -1);
  // A first fragment that does not hold the whole chain (RFC 7112).
  assert.equal(walkIpv6Headers(CHAIN, 40, 24, ip.nextHeader, 15, walk), "truncated");
});

Deno.test("walkIpv6Headers refuses malformed options with a pointer", () => {
  // PadN whose length runs past the header: pointer at its length byte.
  assert.equal(walkPacket(packet(IPPROTO6.HOPOPTS, [IPPROTO6.UDP, 0, 1, 5, 0, 0, 0, 0])), "badopt");
  assert.equal(walk.errorOffset, 43);
  // An option type in the header's last byte, with no length byte.
  assert.equal(walkPacket(packet(IPPROTO6.DSTOPTS, [IPPROTO6.UDP, 0, 0, 0, 0, 0, 0, 1])), "badopt");
  assert.equal(walk.errorOffset, 47);
  // Router Alert must carry 2 bytes.
  assert.equal(walkPacket(packet(IPPROTO6.HOPOPTS, [IPPROTO6.UDP, 0, 5, 3, 0, 0, 0, 0])), "badopt");
  assert.equal(walk.errorOffset, 43);
  // Pad1 and PadN of every size that fits are fine.
  assert.equal(walkPacket(packet(IPPROTO6.HOPOPTS, [IPPROTO6.UDP, 0, 0, 0, 0, 0, 0, 0])), null);
  assert.equal(walkPacket(packet(IPPROTO6.HOPOPTS, [IPPROTO6.UDP, 0, 1, 0, 1, 0, 1, 0])), null);
  assert.equal(walk.routerAlert, -1);
});

Deno.test("walkIpv6Headers follows unknown options' action bits", () => {
  const cases: [number, string | null, number][] = [
    [0x1e, null, IP6OPT_ACTION.SKIP],
    [0x5e, "unknownopt", IP6OPT_ACTION.DISCARD],
    [0x9e, "unknownopt", IP6OPT_ACTION.ICMP],
    [0xde, "unknownopt", IP6OPT_ACTION.ICMP_UNLESS_MULTICAST],
  ];
  for (const [type, want, action] of cases) {
    for (const hdr of [IPPROTO6.HOPOPTS, IPPROTO6.DSTOPTS]) {
      const pkt = packet(hdr, [IPPROTO6.UDP, 0, 0, type, 2, 0xaa, 0xbb, 0]);
      assert.equal(walkPacket(pkt), want, `type ${type.toString(16)}`);
      assert.equal(ip6OptAction(type), action);
      if (want !== null) {
        assert.equal(walk.errorOffset, 43); // the option type byte
        assert.equal(walk.optType, type);
        assert.equal(walk.optAction, action);
      } else {
        assert.equal(walk.proto, IPPROTO6.UDP);
        assert.equal(walk.optType, -1);
      }
    }
  }
  // Router Alert is recognised only in Hop-by-Hop; in Destination Options it is an unknown
  // option whose action is "skip".
  assert.equal(walkPacket(packet(IPPROTO6.DSTOPTS, [IPPROTO6.UDP, 0, 5, 2, 1, 2, 1, 0])), null);
  assert.equal(walk.routerAlert, -1);
  assert.equal(walkPacket(packet(IPPROTO6.HOPOPTS, [IPPROTO6.UDP, 0, 5, 2, 1, 2, 1, 0])), null);
  assert.equal(walk.routerAlert, 0x102);
  // The Jumbo option is not supported: its action bits (11) apply.
  assert.equal(
    walkPacket(packet(IPPROTO6.HOPOPTS, [IPPROTO6.UDP, 0, 0xc2, 4, 0, 1, 0, 0])),
    "unknownopt",
  );
  assert.equal(walk.optAction, IP6OPT_ACTION.ICMP_UNLESS_MULTICAST);
  // The first problem in packet order wins.
  const pkt = packet(IPPROTO6.HOPOPTS, [IPPROTO6.DSTOPTS, 0, 0x9e, 0, 1, 0, 0, 0]);
  assert.equal(walkPacket(pkt), "unknownopt");
});

Deno.test("option helpers and names", () => {
  assert.equal(ip6OptMayChange(IP6OPT.ROUTER_ALERT), false);
  assert.equal(ip6OptMayChange(0x3e), true);
  assert.equal(IP6OPT_ACTION_NAME[ip6OptAction(IP6OPT.JUMBO)], "discard+icmp-unless-multicast");
  assert.equal(IPPROTO6_NAME[IPPROTO6.FRAGMENT], "fragment");
  assert.equal(IPPROTO6_NAME[200], undefined); // unknown numbers pass through
});

Deno.test("property: random fixed headers round-trip through emit and the view", () => {
  const rnd = prng(0x1b6);
  const buf = new Uint8Array(8 + 40 + 300 + 2);
  const src = new Uint8Array(16), dst = new Uint8Array(16);
  for (let i = 0; i < 500; i++) {
    for (let j = 0; j < 16; j++) {
      src[j] = rnd(256);
      dst[j] = rnd(256);
    }
    const tc = rnd(256), fl = rnd(1 << 20), plen = rnd(301), nh = rnd(256), hl = rnd(256);
    const at = rnd(8);
    emitIpv6Header(buf, at, src, dst, nh, plen, hl, tc, fl);
    assert.equal(ip.wrap(buf, at, 40 + plen + rnd(3)), null);
    assert.deepEqual(
      [ip.version, ip.trafficClass, ip.flowLabel, ip.payloadLength, ip.nextHeader, ip.hopLimit],
      [6, tc, fl, plen, nh, hl],
    );
    assert.deepEqual(ip.src, src);
    assert.deepEqual(ip.dst, dst);
    const again = new Uint8Array(40);
    emitIpv6Header(again, 0, ip.src, ip.dst, nh, plen, hl, tc, fl);
    assert.deepEqual(again, buf.subarray(at, at + 40));
    if (plen > 0) assert.equal(ip.wrap(buf, at, 39 + plen), "badlen");
  }
});

/** Fills `out` with valid skip-able options (Pad1, PadN, unknown types with action 00). */
function randomOptions(rnd: (n: number) => number, hbh: boolean, size: number): number[] {
  const out: number[] = [];
  let left = size;
  while (left > 0) {
    const kind = left === 1 ? 0 : rnd(4);
    if (kind === 0) {
      out.push(IP6OPT.PAD1);
      left--;
      continue;
    }
    const len = rnd(left - 1);
    let type = IP6OPT.PADN as number;
    if (kind === 2) {
      do type = rnd(0x40); while (type === 0 || type === 1 || type === 5);
    } else if (kind === 3 && hbh && len === 2) {
      type = IP6OPT.ROUTER_ALERT;
    }
    out.push(type, len);
    for (let i = 0; i < len; i++) out.push(rnd(256));
    left -= 2 + len;
  }
  return out;
}

Deno.test("property: random header chains walk to the right place", () => {
  const rnd = prng(8200);
  const kinds = [IPPROTO6.DSTOPTS, IPPROTO6.ROUTING, IPPROTO6.FRAGMENT, IPPROTO6.AH];
  const uppers = [IPPROTO6.TCP, IPPROTO6.UDP, IPPROTO6.ICMPV6, IPPROTO6.NONE, 143];
  for (let i = 0; i < 400; i++) {
    const types: number[] = [];
    if (rnd(2)) types.push(IPPROTO6.HOPOPTS);
    const n = rnd(8);
    for (let j = 0; j < n; j++) types.push(kinds[rnd(kinds.length)]);
    const upper = uppers[rnd(uppers.length)];
    const ext: number[] = [];
    let fragAt = -1, routingAt = -1;
    for (let j = 0; j < types.length; j++) {
      const next = j + 1 < types.length ? types[j + 1] : upper;
      const at = 40 + ext.length;
      if (types[j] === IPPROTO6.FRAGMENT) {
        if (fragAt < 0) fragAt = at;
        ext.push(next, 0, 0, rnd(2), rnd(256), rnd(256), rnd(256), rnd(256));
      } else if (types[j] === IPPROTO6.AH) {
        const units = 1 + rnd(6); // payload length field + 2
        ext.push(next, units);
        for (let k = 2; k < (units + 2) * 4; k++) ext.push(rnd(256));
      } else if (types[j] === IPPROTO6.ROUTING) {
        if (routingAt < 0) routingAt = at;
        const len = rnd(4);
        ext.push(next, len);
        for (let k = 2; k < (len + 1) * 8; k++) ext.push(rnd(256));
      } else {
        const len = rnd(4);
        ext.push(
          next,
          len,
          ...randomOptions(rnd, types[j] === IPPROTO6.HOPOPTS, (len + 1) * 8 - 2),
        );
      }
    }
    const protoOffset = 40 + ext.length;
    for (let k = rnd(20); k > 0; k--) ext.push(rnd(256));
    const pkt = packet(types.length ? types[0] : upper, ext);
    assert.equal(walkPacket(pkt, 0), null, `chain ${types} -> ${upper}`);
    assert.equal(walk.count, types.length);
    assert.equal(walk.proto, upper);
    assert.equal(walk.protoOffset, protoOffset);
    assert.equal(walk.fragOffset, fragAt);
    assert.equal(walk.routingOffset, routingAt);
    // The limit counts headers.
    if (types.length > 1) assert.equal(walkPacket(pkt, types.length - 1), "toomany");
    // Cut anywhere inside the chain, the walk says "truncated" and never reads past the cut.
    if (types.length > 0) {
      const cut = rnd(protoOffset - 40);
      const err = walkIpv6Headers(pkt, 40, cut, pkt[6], 0, walk);
      assert.equal(err, "truncated", `cut ${cut} of ${protoOffset - 40}`);
      assert.ok(walk.errorOffset >= 40 && walk.errorOffset <= 40 + cut);
    }
  }
});

Deno.test("property: random bytes never make the walk throw or point outside", () => {
  const rnd = prng(4443);
  const buf = new Uint8Array(120);
  for (let i = 0; i < 2000; i++) {
    for (let j = 0; j < buf.length; j++) buf[j] = rnd(4) === 0 ? rnd(64) : rnd(256);
    const len = rnd(buf.length - 40);
    const first = [0, 43, 44, 51, 60][rnd(5)];
    const err = walkIpv6Headers(buf, 40, len, first, 1 + rnd(16), walk);
    if (err === null) assert.ok(walk.protoOffset <= 40 + len);
    else assert.ok(walk.errorOffset >= 40 && walk.errorOffset < 40 + Math.max(len, 1) + 1);
  }
});
