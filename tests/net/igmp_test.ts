/**
 * IGMPv2 as a host (RFC 2236), in virtual time: unsolicited reports on join
 * (exact bytes: TTL 1, Router Alert, checksum), the repeat within the
 * Unsolicited Report Interval, answers to general and group-specific queries
 * within Max Resp Time, suppression by another host's report, Leave Group
 * only from the last reporter, nothing for 224.0.0.0/24, IGMPv1 routers,
 * interfaces going down and up, and the `igmpstat` counters.
 */
import assert from "node:assert/strict";
import { stackCore } from "../../core/stack.ts";
import type { Stack } from "../../core/stack.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { checksum } from "../../core/wire/checksum.ts";
import { emitIpv4Header, IPPROTO } from "../../core/wire/ipv4.ts";
import { emitIgmp, emitIpv4RouterAlert, IGMP_TYPE } from "../../core/wire/igmp.ts";
import { Net, type Segment } from "../kit/netsim.ts";
import { toHex } from "../kit/bytes.ts";

const GROUP = "239.1.2.3";
const G = 0xef010203;
const EN0 = 2; // lo0 is 1

/** What a test reads of an IGMP frame. */
interface IgmpFrame {
  srcMac: string;
  dstMac: string;
  /** The IP header as hex, with the ID and checksum zeroed. */
  ipHeader: string;
  ipSumOk: boolean;
  /** The IGMP message as hex. */
  igmp: string;
}

/** The IGMP frames on `seg` from `from` onwards. */
function igmpFrames(seg: Segment, from = 0): IgmpFrame[] {
  const out: IgmpFrame[] = [];
  for (const f of seg.log.slice(from)) {
    if (f[12] !== 0x08 || f[13] !== 0x00 || f[14 + 9] !== IPPROTO.IGMP) continue;
    const hlen = (f[14] & 0x0f) * 4;
    const ip = f.slice(14, 14 + hlen);
    const sumOk = checksum(ip, 0, hlen) === 0;
    ip[4] =
      ip[5] =
      ip[10] =
      ip[11] =
        0;
    const total = (f[16] << 8) | f[17];
    out.push({
      dstMac: toHex(f.subarray(0, 6)),
      srcMac: toHex(f.subarray(6, 12)),
      ipHeader: toHex(ip),
      ipSumOk: sumOk,
      igmp: toHex(f.subarray(14 + hlen, 14 + total)),
    });
  }
  return out;
}

/** An IGMP frame from a router 192.0.2.9 (02:00:00:00:00:09) to `dst`. */
function routerFrame(type: number, maxResp: number, group: number, dst: number): Uint8Array {
  const f = new Uint8Array(14 + 24 + 8);
  f.set([1, 0, 0x5e, (dst >>> 16) & 0x7f, (dst >>> 8) & 0xff, dst & 0xff, 2, 0, 0, 0, 0, 9, 8, 0]);
  emitIgmp(f, 38, type, maxResp, group);
  emitIpv4RouterAlert(f, 34);
  emitIpv4Header(f, 14, {
    tos: 0,
    totalLength: 32,
    id: 7,
    df: false,
    mf: false,
    fragOffset: 0,
    ttl: 1,
    protocol: IPPROTO.IGMP,
    src: 0xc0000209,
    dst,
  }, 24);
  return f;
}

/** Hosts a (192.0.2.1) and b (192.0.2.2) on one segment, settled; random delays at `ra`/`rb` of their range. */
function lan(ra = 0.5, rb = 0.5) {
  const net = new Net();
  const seg = net.segment();
  const a = net.stack(false), b = net.stack(false);
  net.attach(a, seg, 1);
  net.attach(b, seg, 2);
  for (const [s, n] of [[a, 1], [b, 2]] as const) {
    s.setFlags("en0", IFF.UP, 0);
    s.addAddress("en0", { family: "inet", addr: `192.0.2.${n}`, netmask: "255.255.255.0" });
  }
  stackCore(a).igmp.reporter.random = () => ra;
  stackCore(b).igmp.reporter.random = () => rb;
  net.advance(1000);
  /** Hands a frame to `s` as if it came from the router. */
  const inject = (s: Stack, frame: Uint8Array) => {
    seg.members.find((m) => m.stack === s)!.port.receive(frame);
  };
  return { net, seg, a, b, inject };
}

Deno.test("IGMP: a join sends a v2 report at once (TTL 1, Router Alert) and again within 10 s", () => {
  const { net, seg, a } = lan(0.5);
  const mark = seg.log.length;
  const sock = a.openUdp(4);
  sock.joinGroup(GROUP, EN0);
  net.run();
  const got = igmpFrames(seg, mark);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], {
    dstMac: "01005e010203",
    srcMac: "020000000001",
    // IHL 6, length 32, TTL 1, protocol 2, 192.0.2.1 -> 239.1.2.3, Router Alert 94 04 00 00.
    ipHeader: "46000020000000000102" + "0000" + "c0000201" + "ef010203" + "94040000",
    ipSumOk: true,
    igmp: "1600f8faef010203",
  });
  // The repeat: a random delay of 0.5 x 10 s, plus the millisecond the delay never goes below.
  net.advance(5000);
  assert.equal(igmpFrames(seg, mark).length, 1);
  net.advance(1);
  const both = igmpFrames(seg, mark);
  assert.equal(both.length, 2);
  assert.equal(both[1].igmp, both[0].igmp);
  net.advance(60_000);
  assert.equal(igmpFrames(seg, mark).length, 2, "twice only");
  assert.equal(a.stats.igmp.snd_reports, 2);
});

Deno.test("IGMP: nothing is sent for 224.0.0.1 or other 224.0.0.0/24 groups, joined or left", () => {
  const { net, seg, a } = lan();
  const mark = seg.log.length;
  const sock = a.openUdp(4);
  for (const g of ["224.0.0.1", "224.0.0.251"]) sock.joinGroup(g, EN0);
  net.advance(20_000);
  for (const g of ["224.0.0.1", "224.0.0.251"]) sock.leaveGroup(g, EN0);
  net.run();
  assert.equal(igmpFrames(seg, mark).length, 0);
  assert.equal(a.stats.igmp.snd_reports, 0);
});

Deno.test("IGMP: a general query is answered within its Max Resp Time, for joined groups only", () => {
  const { net, seg, a, inject } = lan(0.5);
  const sock = a.openUdp(4);
  sock.joinGroup(GROUP, EN0);
  sock.joinGroup("224.0.0.251", EN0);
  net.advance(20_000);
  const mark = seg.log.length;
  // Max Resp Time 1 s (10 tenths): the report comes 501 ms later with this random source.
  inject(a, routerFrame(IGMP_TYPE.QUERY, 10, 0, 0xe0000001));
  net.advance(500);
  assert.equal(igmpFrames(seg, mark).length, 0);
  net.advance(1);
  assert.deepEqual(igmpFrames(seg, mark).map((f) => f.igmp), ["1600f8faef010203"]);
  net.advance(20_000);
  assert.equal(igmpFrames(seg, mark).length, 1, "one answer per query");
  assert.equal(a.stats.igmp.rcv_total, 1);
  assert.equal(a.stats.igmp.rcv_queries, 1);
});

Deno.test("IGMP: a group-specific query is answered; one for an unjoined group is ignored", () => {
  const { net, seg, a, inject } = lan(0.5);
  const sock = a.openUdp(4);
  sock.joinGroup(GROUP, EN0);
  net.advance(20_000);
  const mark = seg.log.length;
  // For a group not joined: IP does not take it (not a member), so nothing is counted or sent.
  inject(a, routerFrame(IGMP_TYPE.QUERY, 10, 0xef090909, 0xef090909));
  // Sent to our unicast address: a bad query (a query goes to a group).
  const unicast = routerFrame(IGMP_TYPE.QUERY, 10, G, 0xc0000201);
  unicast.set([2, 0, 0, 0, 0, 1], 0);
  inject(a, unicast);
  net.advance(5000);
  assert.equal(igmpFrames(seg, mark).length, 0);
  assert.equal(a.stats.igmp.rcv_total, 1);
  assert.equal(a.stats.igmp.rcv_badqueries, 1);
  inject(a, routerFrame(IGMP_TYPE.QUERY, 20, G, G));
  net.advance(2000);
  assert.deepEqual(igmpFrames(seg, mark).map((f) => f.igmp), ["1600f8faef010203"]);
  assert.equal(a.stats.igmp.rcv_queries, 2);
});

Deno.test("IGMP: another host's report suppresses ours; only the last reporter sends Leave Group", () => {
  const { net, seg, a, b, inject } = lan(0.1, 0.9);
  const sa = a.openUdp(4), sb = b.openUdp(4);
  sa.joinGroup(GROUP, EN0);
  net.run();
  sb.joinGroup(GROUP, EN0); // a hears b's report: its own repeat is suppressed
  net.advance(20_000);
  assert.equal(a.stats.igmp.rcv_ourreports, 2, "b's report and its repeat");
  assert.equal(b.stats.igmp.rcv_ourreports, 0, "a's first report came before b joined");
  const mark = seg.log.length;
  // A query to both: a answers at 100 ms, b (at 900 ms) hears it and keeps quiet.
  for (const s of [a, b]) inject(s, routerFrame(IGMP_TYPE.QUERY, 10, 0, 0xe0000001));
  net.advance(2000);
  const answers = igmpFrames(seg, mark);
  assert.deepEqual(answers.map((f) => f.srcMac), ["020000000001"]);
  // b did not report last: no Leave. a did: Leave Group to 224.0.0.2.
  sb.leaveGroup(GROUP, EN0);
  net.run();
  assert.equal(igmpFrames(seg, mark).length, 1);
  sa.leaveGroup(GROUP, EN0);
  net.run();
  const leave = igmpFrames(seg, mark)[1];
  assert.deepEqual(leave, {
    dstMac: "01005e000002",
    srcMac: "020000000001",
    ipHeader: "46000020000000000102" + "0000" + "c0000201" + "e0000002" + "94040000",
    ipSumOk: true,
    igmp: "1700f7faef010203",
  });
  assert.equal(a.stats.igmp.snd_reports, 3, "join, query answer, leave");
});

Deno.test("IGMP: a leave while the socket still holds the group elsewhere sends nothing", () => {
  const { net, seg, a } = lan();
  const s1 = a.openUdp(4), s2 = a.openUdp(4);
  s1.joinGroup(GROUP, EN0);
  s2.joinGroup(GROUP, EN0);
  net.advance(20_000);
  const mark = seg.log.length;
  s1.leaveGroup(GROUP, EN0);
  net.run();
  assert.equal(igmpFrames(seg, mark).length, 0);
  s2.close();
  net.run();
  assert.deepEqual(igmpFrames(seg, mark).map((f) => f.igmp.slice(0, 2)), ["17"]);
});

Deno.test("IGMP: an IGMPv1 router gets v1 reports and no Leave; a v1 query not to all-hosts is bad", () => {
  const { net, seg, a, inject } = lan(0.5);
  const sock = a.openUdp(4);
  sock.joinGroup(GROUP, EN0);
  net.advance(20_000);
  const mark = seg.log.length;
  inject(a, routerFrame(IGMP_TYPE.QUERY, 0, 0, G));
  assert.equal(a.stats.igmp.rcv_badqueries, 1);
  inject(a, routerFrame(IGMP_TYPE.QUERY, 0, 0, 0xe0000001));
  net.advance(10_000); // a v1 query allows 10 s
  const got = igmpFrames(seg, mark);
  assert.equal(got.length, 1);
  assert.equal(got[0].igmp.slice(0, 2), "12", "a v1 report");
  sock.leaveGroup(GROUP, EN0);
  net.run();
  assert.equal(igmpFrames(seg, mark).length, 1, "no Leave with a v1 router present");
  // 400 s later the v1 router is forgotten: v2 reports, and Leave again.
  net.advance(400_000);
  sock.joinGroup(GROUP, EN0);
  sock.leaveGroup(GROUP, EN0);
  net.run();
  assert.deepEqual(igmpFrames(seg, mark).slice(1).map((f) => f.igmp.slice(0, 2)), ["16", "17"]);
});

Deno.test("IGMP: short, corrupt and misaddressed messages are counted and dropped", () => {
  const { net, seg, a, inject } = lan();
  const sock = a.openUdp(4);
  sock.joinGroup(GROUP, EN0);
  net.advance(20_000);
  const mark = seg.log.length;
  const bad = routerFrame(IGMP_TYPE.QUERY, 10, 0, 0xe0000001);
  bad[40] ^= 0xff; // the IGMP checksum
  inject(a, bad);
  const short = routerFrame(IGMP_TYPE.QUERY, 10, 0, 0xe0000001).subarray(0, 14 + 24 + 4);
  short[17] = 28; // IP total length: 4 bytes of IGMP
  short[24] = short[25] = 0;
  const sum = checksum(short, 14, 38);
  short[24] = sum >> 8;
  short[25] = sum & 0xff;
  inject(a, short);
  // A report naming another group than the one it is sent to.
  inject(a, routerFrame(IGMP_TYPE.V2_REPORT, 0, 0xef090909, G));
  // Another host's report for our group: ours (no timer running: nothing to stop).
  inject(a, routerFrame(IGMP_TYPE.V2_REPORT, 0, G, G));
  net.advance(20_000);
  const st = a.stats.igmp;
  assert.deepEqual(
    [st.rcv_total, st.rcv_badsum, st.rcv_tooshort, st.rcv_reports, st.rcv_badreports],
    [4, 1, 1, 2, 1],
  );
  assert.equal(st.rcv_ourreports, 1);
  assert.equal(igmpFrames(seg, mark).length, 0);
});

Deno.test("IGMP: an interface coming up announces its groups again; down stops the timers", () => {
  const { net, seg, a, inject } = lan(0.5);
  const sock = a.openUdp(4);
  sock.joinGroup(GROUP, EN0);
  net.advance(1000);
  const mark = seg.log.length;
  a.setFlags("en0", 0, IFF.UP);
  net.advance(20_000);
  assert.equal(igmpFrames(seg, mark).length, 0, "the pending repeat died with the link");
  inject(a, routerFrame(IGMP_TYPE.QUERY, 10, 0, 0xe0000001)); // dropped: the interface is down
  a.setFlags("en0", IFF.UP, 0);
  net.advance(20_000);
  assert.equal(igmpFrames(seg, mark).length, 2, "a report at once, its repeat within 10 s");
});

Deno.test("IGMP: the Router Alert option is accepted on input and raw IGMP sockets see the message", () => {
  const { net, a, inject } = lan();
  const got: Uint8Array[] = [];
  const raw = a.openRawSocket("inet", IPPROTO.IGMP, (m) => got.push(m.data));
  inject(a, routerFrame(IGMP_TYPE.QUERY, 10, 0, 0xe0000001));
  net.run();
  assert.equal(got.length, 1);
  // The whole datagram: header with the option, then the query.
  assert.equal(toHex(got[0].subarray(20, 32)), "94040000" + "110aeef5" + "00000000");
  assert.equal(a.stats.igmp.rcv_queries, 1);
  a.closeRawSocket(raw);
});
