/**
 * IGMP messages and the IPv4 Router Alert option against frames Linux sent
 * (captured here: a veth in a throwaway namespace, 192.0.2.1 joining and
 * leaving 239.1.2.3 with `force_igmp_version=2`, tcpdump on the peer).
 */
import assert from "node:assert/strict";
import { emitIpv4Header, IPPROTO, Ipv4View } from "../../core/wire/ipv4.ts";
import {
  emitIgmp,
  emitIpv4RouterAlert,
  IGMP_TYPE,
  igmpChecksumOk,
  igmpGroup,
} from "../../core/wire/igmp.ts";
import { hex, toHex } from "../kit/bytes.ts";

// Linux 6.x: TOS 0xc0, DF, TTL 1, Router Alert; the Ethernet header dropped.
const LINUX_REPORT = hex(`
  46c0 0020 0000 4000 0102 3112 c000 0201 ef01 0203 9404 0000
  1600 f8fa ef01 0203
`);
const LINUX_LEAVE = hex(`
  46c0 0020 0000 4000 0102 4214 c000 0201 e000 0002 9404 0000
  1700 f7fa ef01 0203
`);

for (
  const [name, captured, type, dst] of [
    ["v2 report", LINUX_REPORT, IGMP_TYPE.V2_REPORT, 0xef010203],
    ["leave", LINUX_LEAVE, IGMP_TYPE.LEAVE, 0xe0000002],
  ] as const
) {
  Deno.test(`captured IGMP ${name}: parsed, and re-emitted byte for byte with its option`, () => {
    const ip = new Ipv4View();
    assert.equal(ip.wrap(captured, 0, captured.length), null);
    assert.equal(ip.checksumOk(), true);
    assert.deepEqual([ip.headerLen, ip.ttl, ip.protocol, ip.dst], [24, 1, IPPROTO.IGMP, dst]);
    const at = ip.payloadOffset;
    assert.equal(igmpChecksumOk(captured, at, 8), true);
    assert.equal(igmpGroup(captured, at), 0xef010203);
    const out = new Uint8Array(32);
    assert.equal(emitIgmp(out, 24, type, 0, 0xef010203), 8);
    assert.equal(emitIpv4RouterAlert(out, 20), 4);
    emitIpv4Header(out, 0, {
      tos: 0xc0,
      totalLength: 32,
      id: 0,
      df: true,
      mf: false,
      fragOffset: 0,
      ttl: 1,
      protocol: IPPROTO.IGMP,
      src: 0xc0000201,
      dst,
    }, 24);
    assert.equal(toHex(out), toHex(captured));
  });
}

Deno.test("emitIgmp: a query carries its Max Resp Time; a flipped bit fails the checksum", () => {
  const b = new Uint8Array(8);
  emitIgmp(b, 0, IGMP_TYPE.QUERY, 100, 0);
  assert.equal(toHex(b), "1164ee9b00000000");
  assert.equal(igmpChecksumOk(b, 0, 8), true);
  b[7] ^= 1;
  assert.equal(igmpChecksumOk(b, 0, 8), false);
});
