/**
 * MLDv1 as a host (RFC 2710), in virtual time: the solicited-node group
 * reported as an interface comes up, before the DAD probe (from `::` while
 * the link-local address is tentative, byte for byte as the captured report
 * in tests/wire/ndp_test.ts), socket joins reported from the link-local address
 * (hop limit 1, Router Alert), queries answered within their Maximum Response
 * Delay, suppression by another node's report, Done only from the last
 * reporter, groups following the addresses, and what is never reported.
 */
import assert from "node:assert/strict";
import { stackCore } from "../../core/stack.ts";
import type { Stack } from "../../core/stack.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { finishChecksum, sumWords } from "../../core/wire/checksum.ts";
import { emitIpv6Header, emitRouterAlertHbh, IPPROTO6 } from "../../core/wire/ipv6.ts";
import { fillIcmp6Checksum, ICMP6_TYPE } from "../../core/wire/icmpv6.ts";
import { emitMld } from "../../core/wire/ndp.ts";
import { parseIp6 } from "../../core/net/ip_addr.ts";
import { Net, type Segment } from "../kit/netsim.ts";
import { hex, toHex } from "../kit/bytes.ts";

const EN0 = 2; // lo0 is 1
const GROUP = "ff15::1234";
const GROUP_HEX = "ff150000000000000000000000001234";
const LL_A = "fe80000000000000000000fffe000001";
const SOLICITED_A = "ff0200000000000000000001ff000001";

// The MLDv1 report for ff02::1:ff00:2 from :: of tests/wire/ndp_test.ts (a capture).
const CAPTURED_REPORT = hex(`
  600000000020000100000000000000000000000000000000ff0200000000000000000001ff000002
  3a000502000001008300809f00000000ff0200000000000000000001ff000002
`);

/** What a test reads of an MLD frame. */
interface MldFrame {
  dstMac: string;
  src: string;
  dst: string;
  hlim: number;
  /** The Hop-by-Hop header. */
  hbh: string;
  type: number;
  group: string;
  sumOk: boolean;
  /** The IPv6 packet. */
  packet: Uint8Array;
}

/** The MLD frames on `seg` from `from` onwards. */
function mldFrames(seg: Segment, from = 0): MldFrame[] {
  const out: MldFrame[] = [];
  for (const f of seg.log.slice(from)) {
    if (f[12] !== 0x86 || f[13] !== 0xdd || f[14 + 6] !== IPPROTO6.HOPOPTS) continue;
    if (f[54] !== 58 || f[62] < 130 || f[62] > 132) continue;
    const len = (f[18] << 8) | f[19];
    const pseudo = sumWords(f, 22, 54, 24 + 58);
    out.push({
      dstMac: toHex(f.subarray(0, 6)),
      src: toHex(f.subarray(22, 38)),
      dst: toHex(f.subarray(38, 54)),
      hlim: f[21],
      hbh: toHex(f.subarray(54, 62)),
      type: f[62],
      group: toHex(f.subarray(70, 86)),
      sumOk: finishChecksum(sumWords(f, 62, 86, pseudo)) === 0,
      packet: f.slice(14, 14 + 40 + len),
    });
  }
  return out;
}

/** An MLD message from router fe80::9 (02:00:00:00:00:09) to `dst`. */
function routerFrame(type: number, maxDelay: number, group: string, dst: string): Uint8Array {
  const f = new Uint8Array(14 + 40 + 8 + 24);
  const d = parseIp6(dst)!, g = parseIp6(group)!, src = parseIp6("fe80::9")!;
  f.set([0x33, 0x33, d[12], d[13], d[14], d[15], 2, 0, 0, 0, 0, 9, 0x86, 0xdd]);
  emitIpv6Header(f, 14, src, d, IPPROTO6.HOPOPTS, 32, 1);
  emitRouterAlertHbh(f, 54, IPPROTO6.ICMPV6);
  emitMld(f, 62, type, maxDelay, g, src, d);
  return f;
}

/** Hosts a and b (2001:db8::1, ::2) on one segment, up and past DAD; random delays at `ra`/`rb`. */
function lan(ra = 0.5, rb = 0.5) {
  const net = new Net();
  const seg = net.segment();
  const a = net.stack(true), b = net.stack(true);
  net.attach(a, seg, 1);
  net.attach(b, seg, 2);
  stackCore(a).mld!.reporter.random = () => ra;
  stackCore(b).mld!.reporter.random = () => rb;
  for (const s of [a, b]) s.setFlags("en0", IFF.UP, 0);
  net.advance(20_000);
  const inject = (s: Stack, frame: Uint8Array) => {
    seg.members.find((m) => m.stack === s)!.port.receive(frame);
  };
  return { net, seg, a, b, inject };
}

Deno.test("MLD: coming up reports the solicited-node group, from :: during DAD, as captured", () => {
  const net = new Net();
  const seg = net.segment();
  const b = net.stack(true);
  net.attach(b, seg, 2);
  stackCore(b).mld!.reporter.random = () => 0.5;
  b.setFlags("en0", IFF.UP, 0);
  net.run();
  const first = mldFrames(seg);
  assert.equal(first.length, 1);
  assert.equal(first[0].dstMac, "3333ff000002");
  assert.equal(toHex(first[0].packet), toHex(CAPTURED_REPORT));
  // RFC 4862 §5.4.2: the group is joined (reported) before the DAD probe goes out.
  const isNs = (f: Uint8Array) => f[12] === 0x86 && f[14 + 6] === 58 && f[54] === 135;
  const isMld = (f: Uint8Array) => f[12] === 0x86 && f[14 + 6] === 0 && f[62] === 131;
  assert.equal(seg.log.findIndex(isMld) < seg.log.findIndex(isNs), true);
  assert.equal(seg.log.findIndex(isNs) >= 0, true);
  // The repeat comes 5001 ms later, once DAD is done: from the link-local address now.
  net.advance(5000);
  assert.equal(mldFrames(seg).length, 1);
  net.advance(1);
  const second = mldFrames(seg)[1];
  assert.equal(second.src, "fe80000000000000000000fffe000002");
  assert.equal(second.group, "ff0200000000000000000001ff000002");
  assert.equal(second.sumOk, true);
  net.advance(60_000);
  assert.equal(mldFrames(seg).length, 2, "twice, and never for ff02::1");
  assert.equal(stackCore(b).stats.icmp6.outhist[ICMP6_TYPE.MLD_REPORT], 2);
});

Deno.test("MLD: a socket's join is reported from the link-local address, hop limit 1, Router Alert", () => {
  const { net, seg, a } = lan(0.5);
  const mark = seg.log.length;
  const sock = a.openUdp(6);
  sock.joinGroup(GROUP, EN0);
  net.run();
  const got = mldFrames(seg, mark);
  assert.equal(got.length, 1);
  const { packet: _, ...fields } = got[0];
  assert.deepEqual(fields, {
    dstMac: "333300001234",
    src: LL_A,
    dst: GROUP_HEX,
    hlim: 1,
    hbh: "3a00050200000100",
    type: ICMP6_TYPE.MLD_REPORT,
    group: GROUP_HEX,
    sumOk: true,
  });
  assert.equal(
    toHex(got[0].packet.subarray(0, 8)),
    "6000000000200001",
    "payload 32, HbH, hop limit 1",
  );
  net.advance(20_000);
  assert.equal(mldFrames(seg, mark).length, 2);
  // Interface-local and link-local all-nodes groups are never reported.
  const mark2 = seg.log.length;
  sock.joinGroup("ff01::1:2", EN0);
  sock.joinGroup("ff02::1", EN0);
  net.advance(20_000);
  sock.leaveGroup("ff01::1:2", EN0);
  sock.leaveGroup("ff02::1", EN0);
  net.run();
  assert.equal(mldFrames(seg, mark2).length, 0);
});

Deno.test("MLD: queries are answered within the Maximum Response Delay; unjoined groups are ignored", () => {
  const { net, seg, a, inject } = lan(0.5);
  const sock = a.openUdp(6);
  sock.joinGroup(GROUP, EN0);
  net.advance(20_000);
  let mark = seg.log.length;
  // A group-specific query for a group a does not listen to, sent to all-nodes: nothing.
  inject(a, routerFrame(ICMP6_TYPE.MLD_QUERY, 1000, "ff15::9999", "ff02::1"));
  net.advance(5000);
  assert.equal(mldFrames(seg, mark).length, 0);
  // A general query allowing 1 s: both groups (the solicited-node one and the socket's) at 501 ms.
  inject(a, routerFrame(ICMP6_TYPE.MLD_QUERY, 1000, "::", "ff02::1"));
  net.advance(500);
  assert.equal(mldFrames(seg, mark).length, 0);
  net.advance(1);
  assert.deepEqual(
    mldFrames(seg, mark).map((f) => f.group).sort(),
    [GROUP_HEX, SOLICITED_A].sort(),
  );
  // For one group, to the group, with delay 0: at once.
  mark = seg.log.length;
  inject(a, routerFrame(ICMP6_TYPE.MLD_QUERY, 0, GROUP, GROUP));
  assert.deepEqual(mldFrames(seg, mark).map((f) => f.group), [GROUP_HEX]);
  net.advance(20_000);
  assert.equal(mldFrames(seg, mark).length, 1);
  // From a source that is not link-local: ignored.
  const bad = routerFrame(ICMP6_TYPE.MLD_QUERY, 0, GROUP, GROUP);
  bad[14 + 8] = 0x20; // 2080::9: the checksum no longer matches either, so fix it for the test
  bad[14 + 9] = 0x01;
  bad[14 + 8 + 1] = 0x01;
  emitMld(
    bad,
    62,
    ICMP6_TYPE.MLD_QUERY,
    0,
    parseIp6(GROUP)!,
    bad.subarray(22, 38),
    bad.subarray(38, 54),
  );
  inject(a, bad);
  net.run();
  assert.equal(mldFrames(seg, mark).length, 1);
});

Deno.test("MLD: another node's report suppresses ours; only the last reporter sends Done", () => {
  const { net, seg, a, b, inject } = lan(0.1, 0.9);
  const sa = a.openUdp(6), sb = b.openUdp(6);
  sa.joinGroup(GROUP, EN0);
  net.run();
  sb.joinGroup(GROUP, EN0);
  net.advance(20_000);
  const mark = seg.log.length;
  for (const s of [a, b]) inject(s, routerFrame(ICMP6_TYPE.MLD_QUERY, 1000, GROUP, GROUP));
  net.advance(2000);
  assert.deepEqual(mldFrames(seg, mark).map((f) => f.src), [LL_A], "a answers, b hears it");
  sb.leaveGroup(GROUP, EN0);
  net.run();
  assert.equal(mldFrames(seg, mark).length, 1, "b reported last? no: no Done");
  sa.leaveGroup(GROUP, EN0);
  net.run();
  const done = mldFrames(seg, mark)[1];
  assert.equal(done.type, ICMP6_TYPE.MLD_DONE);
  assert.equal(done.dst, "ff020000000000000000000000000002");
  assert.equal(done.dstMac, "333300000002");
  assert.equal(done.group, GROUP_HEX);
  assert.deepEqual([done.hlim, done.hbh, done.sumOk], [1, "3a00050200000100", true]);
  assert.equal(stackCore(a).stats.icmp6.outhist[ICMP6_TYPE.MLD_DONE], 1);
});

Deno.test("MLD: solicited-node groups follow the addresses; a shared group stays", () => {
  const { net, seg, a } = lan(0.5);
  let mark = seg.log.length;
  // 2001:db8::1:ff00:1 shares ff02::1:ff00:1 with the link-local address: no new group.
  a.addAddress("en0", { family: "inet6", addr: "2001:db8::ff:fe00:1", prefixlen: 64 });
  a.addAddress("en0", { family: "inet6", addr: "2001:db8::77", prefixlen: 64 });
  net.run();
  assert.deepEqual(mldFrames(seg, mark).map((f) => f.group), ["ff0200000000000000000001ff000077"]);
  net.advance(20_000);
  mark = seg.log.length;
  a.deleteAddress("en0", "inet6", "2001:db8::ff:fe00:1");
  net.run();
  assert.equal(mldFrames(seg, mark).length, 0, "the link-local address still needs ff02::1:ff00:1");
  a.deleteAddress("en0", "inet6", "2001:db8::77");
  net.run();
  const done = mldFrames(seg, mark);
  assert.deepEqual(done.map((f) => [f.type, f.group]), [
    [ICMP6_TYPE.MLD_DONE, "ff0200000000000000000001ff000077"],
  ]);
});

Deno.test("MLD: short messages are counted; the interface going down and up announces again", () => {
  const { net, seg, a, inject } = lan(0.5);
  const short = routerFrame(ICMP6_TYPE.MLD_QUERY, 0, "::", "ff02::1").subarray(0, 14 + 48 + 20);
  short[19] = 28; // payload: HbH and a 20-byte message, summed as such
  fillIcmp6Checksum(short, 62, 20, short.subarray(22, 38), short.subarray(38, 54));
  const before = stackCore(a).stats.icmp6.badlen;
  inject(a, short);
  assert.equal(stackCore(a).stats.icmp6.badlen, before + 1);
  const mark = seg.log.length;
  a.setFlags("en0", 0, IFF.UP);
  a.setFlags("en0", IFF.UP, 0);
  net.advance(20_000);
  const groups = mldFrames(seg, mark).map((f) => f.group);
  assert.equal(groups.filter((g) => g === SOLICITED_A).length >= 2, true, groups.join());
});

Deno.test("MLD: without DAD (dad_count 0) the link-local address reports its group at once, as its source", () => {
  const net = new Net();
  const seg = net.segment();
  const b = net.stack(true);
  net.attach(b, seg, 2);
  b.sysctl.set("net.inet6.ip6.dad_count", "0");
  b.setFlags("en0", IFF.UP, 0);
  net.run();
  const got = mldFrames(seg);
  assert.deepEqual(got.map((f) => [f.src, f.group]), [
    ["fe80000000000000000000fffe000002", "ff0200000000000000000001ff000002"],
  ]);
});
