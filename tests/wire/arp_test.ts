import assert from "node:assert/strict";
import {
  ARP_HRD_ETHER,
  ARP_LEN,
  ARP_OP,
  ARP_OP_NAME,
  ARP_PRO_IPV4,
  type ArpRepr,
  ArpView,
  emitArp,
} from "../../core/wire/arp.ts";
import { hex, mulberry32 } from "../kit/bytes.ts";

/** mulberry32: a small seeded PRNG, so random trials repeat exactly. */

// Fixtures captured from Linux: two network namespaces joined by a veth pair
// (02:00:00:00:00:0a = 192.0.2.1/25, 02:00:00:00:00:0b = 192.0.2.2/25),
// `ip netns exec A ping -c1 192.0.2.2` under `tcpdump -i va -w`, hex from the pcap.
// Request who-has 192.0.2.2 tell 192.0.2.1 (the whole 42-byte Ethernet frame)
const ARP_REQUEST_FRAME = hex(`
  ffffffffffff02000000000a0806000108000604000102000000000ac0000201
  000000000000c0000202
`);
// Reply 192.0.2.2 is-at 02:00:00:00:00:0b (the whole Ethernet frame)
const ARP_REPLY_FRAME = hex(`
  02000000000a02000000000b0806000108000604000202000000000bc0000202
  02000000000ac0000201
`);

const MAC_A = hex("02000000000a");
const MAC_B = hex("02000000000b");

function fields(v: ArpView): ArpRepr {
  return { op: v.op, sha: v.sha.slice(), spa: v.spa, tha: v.tha.slice(), tpa: v.tpa };
}

Deno.test("ArpView reads a captured request", () => {
  const v = new ArpView();
  assert.equal(v.wrap(ARP_REQUEST_FRAME, 14, ARP_REQUEST_FRAME.length - 14), null);
  assert.equal(v.hardwareType, ARP_HRD_ETHER);
  assert.equal(v.protocolType, ARP_PRO_IPV4);
  assert.equal(v.hlen, 6);
  assert.equal(v.plen, 4);
  assert.deepEqual(fields(v), {
    op: ARP_OP.REQUEST,
    sha: MAC_A,
    spa: 0xc0000201,
    tha: new Uint8Array(6),
    tpa: 0xc0000202,
  });
  assert.equal(v.offset, 14);
  assert.equal(v.length, ARP_LEN);
  assert.equal(v.shaOffset, 14 + 8);
  assert.equal(v.thaOffset, 14 + 18);
  assert.equal(ARP_OP_NAME[v.op], "request");
});

Deno.test("ArpView reads a captured reply", () => {
  const v = new ArpView();
  assert.equal(v.wrap(ARP_REPLY_FRAME, 14, ARP_REPLY_FRAME.length - 14), null);
  assert.deepEqual(fields(v), {
    op: ARP_OP.REPLY,
    sha: MAC_B,
    spa: 0xc0000202,
    tha: MAC_A,
    tpa: 0xc0000201,
  });
  assert.equal(ARP_OP_NAME[v.op], "reply");
});

Deno.test("emitArp rebuilds the captured packets byte for byte", () => {
  for (const frame of [ARP_REQUEST_FRAME, ARP_REPLY_FRAME]) {
    const v = new ArpView();
    assert.equal(v.wrap(frame, 14, ARP_LEN), null);
    const out = new Uint8Array(ARP_LEN);
    emitArp(out, 0, fields(v));
    assert.deepEqual(out, frame.subarray(14));
  }
});

Deno.test("setters turn the captured request into Linux's reply in place", () => {
  const frame = ARP_REQUEST_FRAME.slice();
  const v = new ArpView();
  assert.equal(v.wrap(frame, 14, ARP_LEN), null);
  const asker = v.spa;
  const wanted = v.tpa;
  v.setOp(ARP_OP.REPLY);
  v.setTha(v.sha); // overlapping source and destination within one buffer
  v.setTpa(asker);
  v.setSha(MAC_B);
  v.setSpa(wanted);
  assert.deepEqual(frame.subarray(14), ARP_REPLY_FRAME.subarray(14));
});

Deno.test("ArpView ignores Ethernet padding after the packet", () => {
  const padded = new Uint8Array(60);
  padded.set(ARP_REQUEST_FRAME);
  padded.fill(0xee, ARP_REQUEST_FRAME.length);
  const v = new ArpView();
  assert.equal(v.wrap(padded, 14, 46), null);
  assert.equal(v.length, 46);
  assert.equal(v.tpa, 0xc0000202);
});

Deno.test("ArpView refuses short packets as truncated", () => {
  const v = new ArpView();
  const pkt = ARP_REQUEST_FRAME.subarray(14);
  for (const len of [0, 1, 7, 8, 27]) assert.equal(v.wrap(pkt, 0, len), "truncated", `len ${len}`);
  assert.equal(v.wrap(pkt, 0, 28), null);
});

Deno.test("ArpView refuses other hardware and protocol forms as unsupported", () => {
  const v = new ArpView();
  const cases: Array<[string, Array<[number, number]>]> = [
    ["hardware type 6 (IEEE 802)", [[1, 6]]],
    ["protocol 0x86dd", [[2, 0x86], [3, 0xdd]]],
    ["hardware length 8", [[4, 8]]],
    ["protocol length 16", [[5, 16]]],
  ];
  for (const [what, patch] of cases) {
    const pkt = ARP_REQUEST_FRAME.slice(14);
    for (const [at, value] of patch) pkt[at] = value;
    assert.equal(v.wrap(pkt, 0, pkt.length), "unsupported", what);
    // The fixed part decides even before the addresses are present.
    assert.equal(v.wrap(pkt, 0, 8), "unsupported", `${what}, 8 bytes`);
  }
});

Deno.test("unknown opcodes pass through", () => {
  const out = new Uint8Array(ARP_LEN);
  emitArp(out, 0, { op: 0x1234, sha: MAC_A, spa: 1, tha: MAC_B, tpa: 0xffffffff });
  const v = new ArpView();
  assert.equal(v.wrap(out, 0, ARP_LEN), null);
  assert.equal(v.op, 0x1234);
  assert.equal(v.tpa, 0xffffffff);
  assert.equal(ARP_OP_NAME[v.op], undefined);
});

Deno.test("parse(emit(x)) gives x back over random trials", () => {
  const rnd = mulberry32(0xa4b);
  const u32 = () => Math.floor(rnd() * 0x100000000);
  const mac = () => Uint8Array.from({ length: 6 }, () => Math.floor(rnd() * 256));
  const v = new ArpView();
  for (let i = 0; i < 1000; i++) {
    const x: ArpRepr = {
      op: Math.floor(rnd() * 0x10000),
      sha: mac(),
      spa: u32(),
      tha: mac(),
      tpa: u32(),
    };
    const offset = Math.floor(rnd() * 20);
    const buf = new Uint8Array(offset + ARP_LEN + 4).fill(0x5a);
    emitArp(buf, offset, x);
    assert.equal(v.wrap(buf, offset, ARP_LEN), null);
    assert.deepEqual(fields(v), x);
    // Nothing outside the packet was touched.
    assert.ok(buf.subarray(0, offset).every((b) => b === 0x5a));
    assert.ok(buf.subarray(offset + ARP_LEN).every((b) => b === 0x5a));
  }
});
