import assert from "node:assert/strict";
import {
  emitIpv4Header,
  IP_DF,
  IP_MF,
  IPOPT,
  IPOPT_NAME,
  IPPROTO,
  IPPROTO_NAME,
  ipv4FindOption,
  ipv4HasSourceRoute,
  ipv4OptionCopied,
  ipv4OptionsOk,
  ipv4OptionsProblem,
  type Ipv4Repr,
  Ipv4View,
} from "../../core/wire/ipv4.ts";
import { hex, mulberry32 } from "../kit/bytes.ts";

/** mulberry32: a small seeded PRNG, so random trials repeat exactly. */

// Fixtures: IPv4 datagrams (Ethernet header stripped) captured from Linux with
// tcpdump in network namespaces joined by veth pairs, nothing routed outside:
// A = 192.0.2.1/25, router B = 192.0.2.2/25 and 192.0.2.129/25 (MTU 1280 towards
// C), C = 192.0.2.130/25. Hex taken from the pcap files.
// A -> B: ping -c1 -p 0102 192.0.2.2 (DF, id 0x7c9c)
const ECHO_REQUEST = hex(`
  450000547c9c400040013a09c0000201c0000202080096e3655e000190dc036b
  00000000504d0300000000000102010201020102010201020102010201020102
  0102010201020102010201020102010201020102
`);
// B -> A: its echo reply (no DF)
const ECHO_REPLY = hex(`
  450000545ddb0000400198cac0000202c000020100009ee3655e000190dc036b
  00000000504d0300000000000102010201020102010201020102010201020102
  0102010201020102010201020102010201020102
`);
// A -> B: ping -c1 -R 192.0.2.2 (options NOP, RR with room for 9 addresses)
const RR_REQUEST = hex(`
  4f00007c7c9d4000400145cfc0000201c000020201072708c000020100000000
  0000000000000000000000000000000000000000000000000000000008007824
  655f000190dc036b00000000c460030000000000101112131415161718191a1b
  1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637
`);
// B -> A: the reply (options RR with 3 addresses filled, EOL)
const RR_REPLY = hex(`
  4f00007c5ddc000040017034c0000202c0000201072710c0000201c0000202c0
  0002020000000000000000000000000000000000000000000000000000008024
  655f000190dc036b00000000c460030000000000101112131415161718191a1b
  1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637
`);
// A -> B: ping -c1 -s 8 -T tsonly 192.0.2.2 (option TS, length 40)
const TS_REQUEST = hex(`
  4f00004c0070400040012185c0000201c00002024428090001623c2e00000000
  0000000000000000000000000000000000000000000000000000000008008499
  675500010001020304050607
`);
// A -> B: ping -c1 -s 8 -Q 0xb9 192.0.2.2 (DSCP 46, ECN 1)
const TOS_REQUEST = hex(`
  45b90024007140004001b5abc0000201c0000202080084986756000100010203
  04050607
`);
// A -> B over MTU 68: ping -c1 -s 100 -M dont 192.0.2.2, fragment 1 of 3 (MF, offset 0)
const FRAG_1 = hex(`
  45000044fb0420004001dbb0c0000201c00002020800bbdc671a0001a5dc036b
  00000000c632020000000000101112131415161718191a1b1c1d1e1f20212223
  24252627
`);
// fragment 2 of 3 (MF, offset 48)
const FRAG_2 = hex(`
  45000044fb0420064001dbaac0000201c000020228292a2b2c2d2e2f30313233
  3435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f50515253
  54555657
`);
// fragment 3 of 3 (offset 96)
const FRAG_3 = hex(`
  45000020fb04000c4001fbc8c0000201c000020258595a5b5c5d5e5f60616263
`);
// A -> C: echo -n hi > /dev/udp/192.0.2.130/9, as it leaves A (TTL 64)
const UDP = hex(`
  4500001eea9140004011cbb9c0000201c0000282b3b90009000a849f6869
`);
// the same datagram as router B forwarded it to C (TTL 63)
const UDP_FORWARDED = hex(`
  4500001eea9140003f11ccb9c0000201c0000282b3b90009000a849f6869
`);
// A -> C: last fragment of ping -s 1300 -M dont, as it leaves A (TTL 64)
const FRAG_LAST = hex(`
  450000480687009d4001ef0dc0000201c0000282e0e1e2e3e4e5e6e7e8e9eaeb
  ecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b
  0c0d0e0f10111213
`);
// the same fragment as B forwarded it (TTL 63)
const FRAG_LAST_FORWARDED = hex(`
  450000480687009d3f01f00dc0000201c0000282e0e1e2e3e4e5e6e7e8e9eaeb
  ecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b
  0c0d0e0f10111213
`);
// A -> B: UDP with setsockopt(IP_OPTIONS, NOP + LSRR via 192.0.2.2) to 192.0.2.130:9
const LSRR_UDP = hex(`
  47000026bbd3400040112de6c0000201c000020201830704c00002829ce60009
  000a841f7372
`);
// A -> B: the same with SSRR
const SSRR_UDP = hex(`
  47000026bc27400040112d8cc0000201c000020201890704c00002829ec30009
  000a841f7372
`);
// A -> B: crafted by a Python raw socket (IP_HDRINCL): RR option with length 2, then EOL
const BAD_RR = hex(`
  460000245151000040019d82c0000201c0000202070200000800f01643210001
  61626364
`);

const A = 0xc0000201;
const B = 0xc0000202;
const C = 0xc0000282;

function wrapOk(bytes: Uint8Array, offset = 0, length = bytes.length - offset): Ipv4View {
  const v = new Ipv4View();
  assert.equal(v.wrap(bytes, offset, length), null);
  return v;
}

function fields(v: Ipv4View): Ipv4Repr {
  return {
    tos: v.tos,
    totalLength: v.totalLength,
    id: v.id,
    df: v.df,
    mf: v.mf,
    fragOffset: v.fragOffset,
    ttl: v.ttl,
    protocol: v.protocol,
    src: v.src,
    dst: v.dst,
  };
}

function emitted(x: Ipv4Repr): Uint8Array {
  const out = new Uint8Array(20);
  emitIpv4Header(out, 0, x);
  return out;
}

Deno.test("Ipv4View reads a captured echo request", () => {
  const v = wrapOk(ECHO_REQUEST);
  assert.equal(v.version, 4);
  assert.equal(v.ihl, 5);
  assert.equal(v.headerLen, 20);
  assert.deepEqual(fields(v), {
    tos: 0,
    totalLength: 84,
    id: 0x7c9c,
    df: true,
    mf: false,
    fragOffset: 0,
    ttl: 64,
    protocol: IPPROTO.ICMP,
    src: A,
    dst: B,
  });
  assert.equal(v.flags, 2);
  assert.equal(v.isFragment, false);
  assert.equal(v.checksum, 0x3a09);
  assert.equal(v.checksumOk(), true);
  assert.equal(v.optionsOffset, 20);
  assert.equal(v.optionsLength, 0);
  assert.equal(v.payloadOffset, 20);
  assert.equal(v.payloadLength, 64);
  assert.equal(IPPROTO_NAME[v.protocol], "ICMP");
});

Deno.test("emitIpv4Header rebuilds captured option-less headers byte for byte", () => {
  const all = [
    ECHO_REQUEST,
    ECHO_REPLY,
    TOS_REQUEST,
    FRAG_1,
    FRAG_2,
    FRAG_3,
    UDP,
    UDP_FORWARDED,
    FRAG_LAST,
    FRAG_LAST_FORWARDED,
  ];
  for (const pkt of all) {
    const v = wrapOk(pkt);
    assert.equal(v.checksumOk(), true);
    assert.deepEqual(emitted(fields(v)), pkt.subarray(0, 20));
  }
});

Deno.test("Ipv4View reads TOS, DSCP and ECN", () => {
  const v = wrapOk(TOS_REQUEST);
  assert.equal(v.tos, 0xb9);
  assert.equal(v.dscp, 46);
  assert.equal(v.ecn, 1);
});

Deno.test("Ipv4View reads the fragments Linux made for an MTU of 68", () => {
  const got = [FRAG_1, FRAG_2, FRAG_3].map((p) => {
    const v = wrapOk(p);
    return [v.id, v.mf, v.fragOffset, v.payloadLength, v.isFragment];
  });
  assert.deepEqual(got, [
    [0xfb04, true, 0, 48, true],
    [0xfb04, true, 48, 48, true],
    [0xfb04, false, 96, 12, true],
  ]);
  const last = wrapOk(FRAG_LAST);
  assert.equal(last.fragOffset, 1256);
  assert.equal(last.mf, false);
  assert.equal(last.isFragment, true);
  assert.equal(last.dst, C);
});

Deno.test("Ethernet padding after totalLength is ignored", () => {
  // A 30-byte UDP datagram is padded to 46 bytes in a minimum Ethernet frame.
  const frame = new Uint8Array(64).fill(0xee);
  frame.set(UDP, 14);
  const v = wrapOk(frame, 14, 46);
  assert.equal(v.length, 46);
  assert.equal(v.totalLength, 30);
  assert.equal(v.payloadOffset, 34);
  assert.equal(v.payloadLength, 10);
  assert.equal(v.checksumOk(), true);
  assert.equal(v.protocol, IPPROTO.UDP);
});

Deno.test("setTtl updates the checksum as Linux's forwarding did", () => {
  for (const [sent, forwarded] of [[UDP, UDP_FORWARDED], [FRAG_LAST, FRAG_LAST_FORWARDED]]) {
    const pkt = sent.slice();
    const v = wrapOk(pkt);
    v.setTtl(v.ttl - 1);
    assert.deepEqual(pkt, forwarded);
    assert.equal(v.checksumOk(), true);
  }
});

Deno.test("setters and fillChecksum rebuild a captured header", () => {
  // The reply differs from the request in id, DF, addresses and checksum.
  const pkt = ECHO_REPLY.slice();
  const v = wrapOk(pkt);
  v.setSrc(A);
  v.setDst(B);
  v.setId(0x7c9c);
  v.setFragment(true, false, 0);
  v.setTos(0);
  v.setProtocol(IPPROTO.ICMP);
  v.setTotalLength(84);
  assert.equal(v.checksumOk(), false);
  v.fillChecksum();
  assert.deepEqual(pkt.subarray(0, 20), ECHO_REQUEST.subarray(0, 20));
  v.setChecksum(0x1234);
  assert.equal(v.checksum, 0x1234);
  assert.equal(v.checksumOk(), false);
});

Deno.test("the fragment setter turns a header into each captured fragment", () => {
  const pkt = FRAG_1.slice();
  const v = wrapOk(pkt);
  for (const frag of [FRAG_2, FRAG_3]) {
    const f = wrapOk(frag);
    v.setFragment(f.df, f.mf, f.fragOffset);
    v.setTotalLength(f.totalLength);
    v.fillChecksum();
    assert.deepEqual(pkt.subarray(0, 20), frag.subarray(0, 20));
  }
});

Deno.test("checksumOk catches a corrupted header", () => {
  const pkt = ECHO_REQUEST.slice();
  const v = wrapOk(pkt);
  pkt[8] ^= 0x01;
  assert.equal(v.checksumOk(), false);
  pkt[8] ^= 0x01;
  pkt[30] ^= 0xff; // payload bytes are not covered
  assert.equal(v.checksumOk(), true);
});

Deno.test("headers with options: record route, as sent and as answered", () => {
  const req = wrapOk(RR_REQUEST);
  assert.equal(req.ihl, 15);
  assert.equal(req.headerLen, 60);
  assert.equal(req.optionsLength, 40);
  assert.equal(req.payloadOffset, 60);
  assert.equal(req.payloadLength, 64);
  assert.equal(req.checksumOk(), true);
  assert.equal(ipv4OptionsOk(req), true);
  assert.equal(ipv4OptionsProblem(req), -1);
  const rr = ipv4FindOption(req, IPOPT.RR);
  assert.equal(rr, 21); // after the NOP
  assert.deepEqual([...RR_REQUEST.subarray(rr, rr + 3)], [IPOPT.RR, 39, 8]);
  assert.equal(ipv4FindOption(req, IPOPT.NOP), 20);
  assert.equal(ipv4FindOption(req, IPOPT.TS), -1);
  assert.equal(ipv4FindOption(req, IPOPT.EOL), -1);
  assert.equal(ipv4HasSourceRoute(req), false);

  const rep = wrapOk(RR_REPLY);
  assert.equal(ipv4OptionsOk(rep), true);
  assert.equal(ipv4FindOption(rep, IPOPT.RR), 20);
  assert.equal(RR_REPLY[22], 16); // pointer after three recorded addresses
  assert.equal(RR_REPLY[59], IPOPT.EOL);
});

Deno.test("headers with options: timestamp", () => {
  const v = wrapOk(TS_REQUEST);
  assert.equal(v.headerLen, 60);
  assert.equal(ipv4OptionsOk(v), true);
  assert.equal(ipv4FindOption(v, IPOPT.TS), 20);
  assert.equal(IPOPT_NAME[TS_REQUEST[20]], "TS");
  assert.equal(ipv4OptionCopied(IPOPT.TS), false);
});

Deno.test("source-route options are found (LSRR and SSRR sent by Linux)", () => {
  for (const [pkt, type] of [[LSRR_UDP, IPOPT.LSRR], [SSRR_UDP, IPOPT.SSRR]] as const) {
    const v = wrapOk(pkt);
    assert.equal(v.headerLen, 28);
    assert.equal(v.checksumOk(), true);
    assert.equal(ipv4OptionsOk(v), true);
    assert.equal(ipv4HasSourceRoute(v), true);
    assert.equal(ipv4FindOption(v, type), 21);
    assert.equal(ipv4OptionCopied(type), true);
    assert.deepEqual([...pkt.subarray(21, 28)], [type, 7, 4, 192, 0, 2, 130]);
    assert.equal(v.dst, B); // the first hop; the final destination is in the route
    assert.equal(v.payloadLength, 10);
  }
  assert.equal(ipv4HasSourceRoute(wrapOk(ECHO_REQUEST)), false);
  assert.equal(ipv4HasSourceRoute(wrapOk(RR_REQUEST)), false);
});

Deno.test("ipv4OptionsProblem points where Linux's parameter problem pointed", () => {
  // Linux answered BAD_RR with ICMP parameter problem, pointer 21 (see icmp_test.ts).
  const v = wrapOk(BAD_RR);
  assert.equal(ipv4OptionsOk(v), false);
  assert.equal(ipv4OptionsProblem(v), 21);
});

/** A 20-byte header followed by `options` (padded with EOL to a multiple of 4). */
function withOptions(options: number[]): Uint8Array {
  const olen = (options.length + 3) & ~3;
  const pkt = new Uint8Array(20 + olen + 4);
  emitIpv4Header(pkt, 0, {
    tos: 0,
    totalLength: pkt.length,
    id: 1,
    df: false,
    mf: false,
    fragOffset: 0,
    ttl: 64,
    protocol: IPPROTO.UDP,
    src: A,
    dst: B,
  });
  pkt[0] = 0x40 | ((20 + olen) >> 2);
  pkt.set(options, 20);
  return pkt;
}

Deno.test("the option walker refuses malformed lists", () => {
  const cases: Array<[string, number[], number]> = [
    ["length 0", [0x44, 0, 5, 0], 21],
    ["length 1", [0x99, 1, 0, 0], 21],
    ["length past the header", [1, 1, 0x82, 11, 0, 0, 0, 0], 23],
    ["type byte alone at the end", [1, 1, 1, 0x94], 24],
    ["RR of length 2", [7, 2, 0, 0], 21],
    ["RR pointer below 4", [7, 7, 3, 0, 0, 0, 0, 0], 22],
    ["LSRR pointer below 4", [1, 0x83, 7, 0, 0, 0, 0, 0], 23],
    ["SSRR of length 2", [0x89, 2, 0, 0], 21],
    ["TS of length 3", [0x44, 3, 5, 0], 21],
    ["TS pointer below 5", [0x44, 8, 4, 0, 0, 0, 0, 0], 22],
  ];
  for (const [what, options, pointer] of cases) {
    const v = wrapOk(withOptions(options));
    assert.equal(ipv4OptionsOk(v), false, what);
    assert.equal(ipv4OptionsProblem(v), pointer, what);
  }
});

Deno.test("the option walker accepts what is well formed", () => {
  const cases: Array<[string, number[]]> = [
    ["only NOPs", [1, 1, 1, 1]],
    ["EOL, then garbage that is never read", [0, 0x44, 0, 0]],
    ["router alert", [0x94, 4, 0, 0]],
    ["unknown option of length 2", [0xfe, 2, 1, 1]],
    ["RR with no room left", [7, 3, 4, 0]],
    ["LSRR at its end", [1, 0x83, 7, 8, 192, 0, 2, 1]],
  ];
  for (const [what, options] of cases) {
    const v = wrapOk(withOptions(options));
    assert.equal(ipv4OptionsOk(v), true, what);
  }
  assert.equal(ipv4FindOption(wrapOk(withOptions([0x94, 4, 0, 0])), IPOPT.RA), 20);
  // A malformed option hides what follows it.
  assert.equal(ipv4FindOption(wrapOk(withOptions([0x99, 1, 0x83, 3, 4])), IPOPT.LSRR), -1);
  assert.equal(ipv4HasSourceRoute(wrapOk(withOptions([0x99, 0, 0x83, 3, 4]))), false);
  // Options after an EOL do not count.
  assert.equal(ipv4HasSourceRoute(wrapOk(withOptions([0, 0x83, 3, 4]))), false);
});

Deno.test("wrap refuses each kind of bad header with its own reason", () => {
  const v = new Ipv4View();
  // toosmall: fewer than 20 bytes.
  assert.equal(v.wrap(ECHO_REQUEST, 0, 19), "toosmall");
  assert.equal(v.wrap(new Uint8Array(0), 0, 0), "toosmall");
  // badvers.
  const v6 = ECHO_REQUEST.slice();
  v6[0] = 0x65;
  assert.equal(v.wrap(v6, 0, v6.length), "badvers");
  // badhlen: IHL below 5, or a header longer than the data.
  for (const ihl of [0, 4]) {
    const p = ECHO_REQUEST.slice();
    p[0] = 0x40 | ihl;
    assert.equal(v.wrap(p, 0, p.length), "badhlen", `ihl ${ihl}`);
  }
  assert.equal(v.wrap(RR_REQUEST, 0, 59), "badhlen");
  // badlen: total length shorter than the header.
  const shortTotal = ECHO_REQUEST.slice();
  shortTotal[2] = 0;
  shortTotal[3] = 19;
  assert.equal(v.wrap(shortTotal, 0, shortTotal.length), "badlen");
  const shortOpts = RR_REQUEST.slice();
  shortOpts[2] = 0;
  shortOpts[3] = 59;
  assert.equal(v.wrap(shortOpts, 0, shortOpts.length), "badlen");
  // tooshort: total length beyond the data.
  assert.equal(v.wrap(ECHO_REQUEST, 0, 83), "tooshort");
  assert.equal(v.wrap(RR_REQUEST, 0, 60), "tooshort");
  // Exactly enough, and more than enough, are both fine.
  assert.equal(v.wrap(ECHO_REQUEST, 0, 84), null);
  const total20 = ECHO_REQUEST.slice();
  total20[3] = 20;
  assert.equal(v.wrap(total20, 0, total20.length), null);
  assert.equal(v.payloadLength, 0);
});

Deno.test("wrap works at an offset into a larger buffer", () => {
  const buf = new Uint8Array(200).fill(0x77);
  buf.set(RR_REPLY, 50);
  const v = wrapOk(buf, 50, RR_REPLY.length);
  assert.equal(v.offset, 50);
  assert.equal(v.optionsOffset, 70);
  assert.equal(v.payloadOffset, 110);
  assert.equal(ipv4FindOption(v, IPOPT.RR), 70);
  assert.equal(ipv4OptionsProblem(v), -1);
  assert.equal(v.src, B);
  assert.equal(v.checksumOk(), true);
});

Deno.test("unknown protocol numbers pass through", () => {
  const x: Ipv4Repr = {
    tos: 0,
    totalLength: 20,
    id: 0,
    df: false,
    mf: false,
    fragOffset: 0,
    ttl: 1,
    protocol: 253,
    src: 0,
    dst: 0xffffffff,
  };
  const v = wrapOk(emitted(x));
  assert.equal(v.protocol, 253);
  assert.equal(IPPROTO_NAME[253], undefined);
  assert.equal(IPPROTO_NAME[IPPROTO.TCP], "TCP");
  assert.equal(IPPROTO_NAME[IPPROTO.ICMPV6], "ICMPv6");
  assert.equal(IP_DF | IP_MF, 0x6000);
});

Deno.test("parse(emit(x)) gives x back over random trials", () => {
  const rnd = mulberry32(0x1b4);
  const int = (n: number) => Math.floor(rnd() * n);
  const v = new Ipv4View();
  for (let i = 0; i < 2000; i++) {
    const x: Ipv4Repr = {
      tos: int(256),
      totalLength: 20 + int(200),
      id: int(0x10000),
      df: rnd() < 0.5,
      mf: rnd() < 0.5,
      fragOffset: int(0x2000) * 8,
      ttl: int(256),
      protocol: int(256),
      src: int(0x100000000),
      dst: int(0x100000000),
    };
    const offset = int(40);
    const buf = new Uint8Array(offset + x.totalLength + int(30)).fill(0xa5);
    emitIpv4Header(buf, offset, x);
    assert.equal(v.wrap(buf, offset, buf.length - offset), null);
    assert.deepEqual(fields(v), x);
    assert.equal(v.checksumOk(), true);
    assert.equal(v.payloadLength, x.totalLength - 20);
    assert.ok(buf.subarray(0, offset).every((b) => b === 0xa5));
    assert.ok(buf.subarray(offset + 20).every((b) => b === 0xa5));
  }
});

Deno.test("setTtl keeps the checksum equal to a recomputation over random trials", () => {
  const rnd = mulberry32(0x77);
  const int = (n: number) => Math.floor(rnd() * n);
  const v = new Ipv4View();
  const hdr = new Uint8Array(60);
  for (let i = 0; i < 2000; i++) {
    const hlen = 20 + 4 * int(11);
    for (let j = 0; j < hlen; j++) hdr[j] = int(256);
    hdr[0] = 0x40 | (hlen >> 2);
    hdr[2] = 0;
    hdr[3] = hlen;
    assert.equal(v.wrap(hdr, 0, hlen), null);
    v.fillChecksum();
    v.setTtl(int(256));
    const incremental = v.checksum;
    v.fillChecksum();
    assert.equal(incremental, v.checksum);
  }
});
