import assert from "node:assert/strict";
import { updateChecksum } from "../../core/wire/checksum.ts";
import {
  emitIcmpEcho,
  emitIcmpError,
  ICMP_ADVLENMIN,
  ICMP_MINLEN,
  ICMP_PARAMPROB,
  ICMP_REDIRECT,
  ICMP_TIMXCEED,
  ICMP_TSLEN,
  ICMP_TYPE,
  ICMP_TYPE_NAME,
  ICMP_UNREACH,
  ICMP_UNREACH_NAME,
  type IcmpEchoRepr,
  type IcmpErrorRepr,
  IcmpView,
  isIcmpError,
  isIcmpInfo,
} from "../../core/wire/icmp.ts";
import { ipv4OptionsProblem, Ipv4View } from "../../core/wire/ipv4.ts";
import { hex, mulberry32 } from "../kit/bytes.ts";

/** mulberry32: a small seeded PRNG, so random trials repeat exactly. */

// Fixtures: IPv4 datagrams carrying ICMP (Ethernet header stripped), captured
// from Linux with tcpdump in network namespaces joined by veth pairs, nothing
// routed outside: A = 192.0.2.1/25, router B = 192.0.2.2/25 and 192.0.2.129/25
// (MTU 1280 towards C), C = 192.0.2.130/25. Hex taken from the pcap files.
// A -> B: ping -c1 -p 0102 192.0.2.2 (the whole IPv4 datagram
// ICMP at offset 20)
const ECHO_REQUEST = hex(`
  450000547c9c400040013a09c0000201c0000202080096e3655e000190dc036b
  00000000504d0300000000000102010201020102010201020102010201020102
  0102010201020102010201020102010201020102
`);
// B -> A: its echo reply
const ECHO_REPLY = hex(`
  450000545ddb0000400198cac0000202c000020100009ee3655e000190dc036b
  00000000504d0300000000000102010201020102010201020102010201020102
  0102010201020102010201020102010201020102
`);
// router B -> A: time exceeded in transit, for ping -c1 -t1 192.0.2.130
const TIME_EXCEEDED = hex(`
  45c000705ddd0000400197ecc0000202c00002010b00f4ff0000000045000054
  068440000101eea1c0000201c0000282080055136560000190dc036b00000000
  e770030000000000101112131415161718191a1b1c1d1e1f2021222324252627
  28292a2b2c2d2e2f3031323334353637
`);
// router B -> A: unreachable, need to frag (mtu 1280), for ping -c1 -M do -s 1300 192.0.2.130
// Linux quotes up to 576 bytes in all: 548 of the 1328-byte datagram
const NEEDFRAG = hex(`
  45c002405dde00004001961bc0000202c00002010304870f0000050045000530
  000040004001b149c0000201c0000282080071706561000190dc036b00000000
  a682030000000000101112131415161718191a1b1c1d1e1f2021222324252627
  28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041424344454647
  48494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f6061626364656667
  68696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f8081828384858687
  88898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7
  a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7
  c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7
  e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0001020304050607
  08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627
  28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041424344454647
  48494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f6061626364656667
  68696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f8081828384858687
  88898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7
  a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7
  c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7
  e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0001020304050607
`);
// C (through B) -> A: udp port 9 unreachable, for echo -n hi > /dev/udp/192.0.2.130/9
const PORT_UNREACH = hex(`
  45c0003a1e1a00003f01d865c0000282c000020103035c27000000004500001e
  ea9140003f11ccb9c0000201c0000282b3b90009000a849f6869
`);
// A -> B: timestamp request, id 0x1234 seq 1, sent from a Python raw ICMP socket
const TSTAMP = hex(`
  45000028ec7140004001ca5fc0000201c00002020d00dcc41234000101020304
  0000000000000000
`);
// B -> A: Linux's timestamp reply
const TSTAMP_REPLY = hex(`
  45000028a46400004001526dc0000202c00002010e0090af1234000101020304
  0164a4260164a426
`);
// B -> A: parameter problem, pointer 21, for a datagram whose RR option has length 2 (sent through a Python IP_HDRINCL socket)
const PARAMPROB = hex(`
  45c00040a590000040015069c0000202c00002010c00deff1500000046000024
  5151000040019d82c0000201c0000202070200000800f0164321000161626364
`);
// router B -> A: redirect host 192.0.2.3 to 192.0.2.3, for a UDP datagram A routed via B although 192.0.2.3 is on A's link
const REDIRECT = hex(`
  45c0003aa5b7000040015048c0000202c000020105018896c00002034500001e
  11f040003f11a5dac0000201c0000203b9cc0009000a84207264
`);
// the datagram PORT_UNREACH quotes, as C received it from B (TTL already 63)
const UDP_AT_C = hex(`
  4500001eea9140003f11ccb9c0000201c0000282b3b90009000a849f6869
`);

/** The ICMP message inside one of the datagrams above (all have 20-byte IP headers). */
function icmpOf(datagram: Uint8Array): Uint8Array {
  return datagram.subarray(20);
}

function wrapOk(msg: Uint8Array, offset = 0, length = msg.length - offset): IcmpView {
  const v = new IcmpView();
  assert.equal(v.wrap(msg, offset, length), null);
  return v;
}

Deno.test("IcmpView reads a captured echo request and reply", () => {
  const req = wrapOk(icmpOf(ECHO_REQUEST));
  assert.deepEqual(
    [req.type, req.code, req.checksum, req.id, req.seq, req.payloadOffset, req.payloadLength],
    [ICMP_TYPE.ECHO, 0, 0x96e3, 0x655e, 1, 8, 56],
  );
  assert.equal(req.checksumOk(), true);
  assert.equal(req.rest, 0x655e0001);
  assert.equal(ICMP_TYPE_NAME[req.type], "echo");
  const rep = wrapOk(icmpOf(ECHO_REPLY));
  assert.deepEqual([rep.type, rep.id, rep.seq], [ICMP_TYPE.ECHOREPLY, 0x655e, 1]);
  assert.equal(rep.checksumOk(), true);
  assert.equal(ICMP_TYPE_NAME[rep.type], "echo reply");
});

Deno.test("emitIcmpEcho rebuilds the captured echoes byte for byte", () => {
  for (const datagram of [ECHO_REQUEST, ECHO_REPLY, TSTAMP, TSTAMP_REPLY]) {
    const msg = icmpOf(datagram);
    const v = wrapOk(msg);
    const echo: IcmpEchoRepr = { type: v.type, code: v.code, id: v.id, seq: v.seq };
    const payload = msg.subarray(8);
    // Payload copied in.
    const out = new Uint8Array(msg.length);
    emitIcmpEcho(out, 0, echo, payload);
    assert.deepEqual(out, msg);
    // Payload already in place, at an offset.
    const buf = new Uint8Array(10 + msg.length);
    buf.set(payload, 18);
    emitIcmpEcho(buf, 10, echo, payload.length);
    assert.deepEqual(buf.subarray(10), msg);
  }
});

Deno.test("an echo request becomes Linux's reply in place", () => {
  const msg = icmpOf(ECHO_REQUEST).slice();
  const v = wrapOk(msg);
  const old = (v.type << 8) | v.code;
  v.setType(ICMP_TYPE.ECHOREPLY);
  v.setChecksum(updateChecksum(v.checksum, old, (v.type << 8) | v.code));
  assert.deepEqual(msg, icmpOf(ECHO_REPLY));
  // fillChecksum gives the same.
  v.fillChecksum();
  assert.deepEqual(msg, icmpOf(ECHO_REPLY));
});

Deno.test("timestamp request and reply read as id/seq messages", () => {
  const req = wrapOk(icmpOf(TSTAMP));
  assert.deepEqual([req.type, req.id, req.seq, req.length], [ICMP_TYPE.TSTAMP, 0x1234, 1, 20]);
  const rep = wrapOk(icmpOf(TSTAMP_REPLY));
  assert.deepEqual([rep.type, rep.id, rep.seq], [ICMP_TYPE.TSTAMPREPLY, 0x1234, 1]);
  assert.equal(rep.length, ICMP_TSLEN);
  assert.equal(rep.checksumOk(), true);
  // The originate timestamp comes back as sent.
  assert.deepEqual(rep.bytes.subarray(8, 12), req.bytes.subarray(8, 12));
  assert.equal(isIcmpInfo(rep.type), true);
});

Deno.test("IcmpView reads the captured errors", () => {
  const tx = wrapOk(icmpOf(TIME_EXCEEDED));
  assert.deepEqual([tx.type, tx.code, tx.rest], [ICMP_TYPE.TIMXCEED, ICMP_TIMXCEED.INTRANS, 0]);
  const nf = wrapOk(icmpOf(NEEDFRAG));
  assert.deepEqual([nf.type, nf.code, nf.nextHopMtu], [3, ICMP_UNREACH.NEEDFRAG, 1280]);
  assert.equal(ICMP_UNREACH_NAME[nf.code], "need to frag");
  const pu = wrapOk(icmpOf(PORT_UNREACH));
  assert.deepEqual([pu.type, pu.code], [ICMP_TYPE.UNREACH, ICMP_UNREACH.PORT]);
  assert.equal(ICMP_UNREACH_NAME[pu.code], "port unreachable");
  const pp = wrapOk(icmpOf(PARAMPROB));
  assert.deepEqual([pp.type, pp.code, pp.pointer], [12, ICMP_PARAMPROB.ERRATPTR, 21]);
  const rd = wrapOk(icmpOf(REDIRECT));
  assert.deepEqual([rd.type, rd.code, rd.gateway], [5, ICMP_REDIRECT.HOST, 0xc0000203]);
  for (const v of [tx, nf, pu, pp, rd]) {
    assert.equal(v.checksumOk(), true);
    assert.equal(isIcmpError(v.type), true);
    assert.ok(v.length >= ICMP_ADVLENMIN);
  }
  assert.equal(ICMP_TYPE_NAME[rd.type], "routing redirect");
});

Deno.test("emitIcmpError rebuilds the captured errors byte for byte", () => {
  for (const datagram of [TIME_EXCEEDED, NEEDFRAG, PORT_UNREACH, PARAMPROB, REDIRECT]) {
    const msg = icmpOf(datagram);
    const v = wrapOk(msg);
    const err: IcmpErrorRepr = { type: v.type, code: v.code, extra: v.rest };
    const quoted = msg.subarray(8);
    const out = new Uint8Array(msg.length);
    emitIcmpError(out, 0, err, quoted);
    assert.deepEqual(out, msg);
    const buf = new Uint8Array(3 + msg.length);
    buf.set(quoted, 11);
    emitIcmpError(buf, 3, err, quoted.length);
    assert.deepEqual(buf.subarray(3), msg);
  }
  // The extra word in its three meanings.
  const out = new Uint8Array(8 + 28);
  emitIcmpError(out, 0, { type: 3, code: 4, extra: 1280 }, 28);
  assert.equal(wrapOk(out).nextHopMtu, 1280);
  emitIcmpError(out, 0, { type: 12, code: 0, extra: 21 << 24 }, 28);
  assert.equal(wrapOk(out).pointer, 21);
  emitIcmpError(out, 0, { type: 5, code: 1, extra: 0xc0000203 }, 28);
  assert.equal(wrapOk(out).gateway, 0xc0000203);
});

Deno.test("quoted datagrams parse with Ipv4View", () => {
  const ip = new Ipv4View();
  // Port unreachable quotes the whole UDP datagram as C received it.
  const pu = wrapOk(icmpOf(PORT_UNREACH));
  assert.equal(ip.wrap(pu.bytes, pu.payloadOffset, pu.payloadLength), null);
  assert.deepEqual(pu.bytes.subarray(pu.payloadOffset), UDP_AT_C);
  // Need-to-frag quotes a prefix: a quote is usually "tooshort" for a full parse,
  // while its header (and the first 8 bytes of data) are all there.
  const nf = wrapOk(icmpOf(NEEDFRAG));
  assert.equal(ip.wrap(nf.bytes, nf.payloadOffset, nf.payloadLength), "tooshort");
  assert.equal(ip.totalLength, 1328);
  assert.equal(ip.df, true);
  assert.ok(nf.payloadLength >= ip.headerLen + 8);
  // Parameter problem: the pointer is where ipv4OptionsProblem points.
  const pp = wrapOk(icmpOf(PARAMPROB));
  assert.equal(ip.wrap(pp.bytes, pp.payloadOffset, pp.payloadLength), null);
  assert.equal(ipv4OptionsProblem(ip), pp.pointer);
  // Time exceeded quotes the probe that ran out of TTL.
  const tx = wrapOk(icmpOf(TIME_EXCEEDED));
  assert.equal(ip.wrap(tx.bytes, tx.payloadOffset, tx.payloadLength), null);
  assert.equal(ip.ttl, 1);
  assert.equal(ip.dst, 0xc0000282);
});

Deno.test("wrap refuses messages shorter than the header", () => {
  const v = new IcmpView();
  const msg = icmpOf(ECHO_REQUEST);
  for (let len = 0; len < ICMP_MINLEN; len++) assert.equal(v.wrap(msg, 0, len), "tooshort");
  assert.equal(v.wrap(msg, 0, ICMP_MINLEN), null);
  assert.equal(v.payloadLength, 0);
});

Deno.test("checksumOk covers the whole message, odd lengths included", () => {
  const msg = icmpOf(ECHO_REQUEST).slice();
  const v = wrapOk(msg);
  msg[msg.length - 1] ^= 0x10;
  assert.equal(v.checksumOk(), false);
  msg[msg.length - 1] ^= 0x10;
  assert.equal(v.checksumOk(), true);
  const odd = new Uint8Array(8 + 3);
  emitIcmpEcho(odd, 0, { type: 8, id: 1, seq: 2 }, new Uint8Array([0xff, 0xfe, 0xfd]));
  assert.equal(wrapOk(odd).checksumOk(), true);
  // A view shorter than the message it looks at checks only its own bytes.
  assert.equal(wrapOk(odd, 0, 10).checksumOk(), false);
});

Deno.test("isIcmpError and isIcmpInfo classify every type", () => {
  const errors = [];
  const infos = [];
  for (let t = 0; t < 256; t++) {
    if (isIcmpError(t)) errors.push(t);
    if (isIcmpInfo(t)) infos.push(t);
  }
  assert.deepEqual(errors, [3, 4, 5, 11, 12]);
  assert.deepEqual(infos, [0, 8, 9, 10, 13, 14, 15, 16, 17, 18]);
});

Deno.test("unknown types and codes pass through", () => {
  const out = new Uint8Array(8);
  emitIcmpError(out, 0, { type: 42, code: 200, extra: 0xdeadbeef }, 0);
  const v = wrapOk(out);
  assert.deepEqual([v.type, v.code, v.rest], [42, 200, 0xdeadbeef]);
  assert.equal(ICMP_TYPE_NAME[42], undefined);
  assert.equal(v.checksumOk(), true);
  v.setCode(7);
  v.setId(0x0102);
  v.setSeq(0x0304);
  assert.equal(v.rest, 0x01020304);
  v.setRest(0xfffffffe);
  assert.deepEqual([v.id, v.seq, v.pointer, v.gateway], [0xffff, 0xfffe, 0xff, 0xfffffffe]);
});

Deno.test("parse(emit(x)) gives x back over random trials", () => {
  const rnd = mulberry32(0x1c3);
  const int = (n: number) => Math.floor(rnd() * n);
  const v = new IcmpView();
  const errorTypes = [3, 4, 5, 11, 12];
  for (let i = 0; i < 2000; i++) {
    const offset = int(30);
    const data = Uint8Array.from({ length: int(120) }, () => int(256));
    const buf = new Uint8Array(offset + 8 + data.length + 5).fill(0x3c);
    if (i % 2 === 0) {
      const x: IcmpEchoRepr = {
        type: rnd() < 0.5 ? 0 : 8,
        code: int(256),
        id: int(0x10000),
        seq: int(0x10000),
      };
      emitIcmpEcho(buf, offset, x, data);
      assert.equal(v.wrap(buf, offset, 8 + data.length), null);
      assert.deepEqual({ type: v.type, code: v.code, id: v.id, seq: v.seq }, x);
    } else {
      const x: IcmpErrorRepr = {
        type: errorTypes[int(5)],
        code: int(256),
        extra: int(0x100000000),
      };
      emitIcmpError(buf, offset, x, data);
      assert.equal(v.wrap(buf, offset, 8 + data.length), null);
      assert.deepEqual({ type: v.type, code: v.code, extra: v.rest }, x);
    }
    assert.equal(v.checksumOk(), true);
    assert.deepEqual(buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength), data);
    assert.ok(buf.subarray(0, offset).every((b) => b === 0x3c));
    assert.ok(buf.subarray(offset + 8 + data.length).every((b) => b === 0x3c));
  }
});
