/** Neighbour Discovery, DAD, router discovery and SLAAC between stacks, in virtual time. */
import { stackCore } from "../../core/stack.ts";
import assert from "node:assert/strict";
import { Net, type Segment } from "../kit/netsim.ts";
import type { Stack } from "../../core/stack.ts";
import type { RawDatagram } from "../../core/socket/raw.ts";
import type { Inet6AddrInfo } from "../../core/control/ops.ts";
import { ErrnoError } from "../../core/errno.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { formatIp6, parseIp6 } from "../../core/net/ip_addr.ts";
import { fillIcmp6Checksum, ICMP6_TYPE } from "../../core/wire/icmpv6.ts";
import { emitIpv6Header, IPPROTO6 } from "../../core/wire/ipv6.ts";
import {
  emitNdLinkAddrOpt,
  emitNdMtuOpt,
  emitNdPrefixOpt,
  emitNeighborAdvert,
  emitNeighborSolicit,
  emitRouterAdvert,
  ND_INFINITE_LIFETIME,
  ND_NA_FLAG,
  ND_OPT,
  ND_PREFIX_FLAG,
} from "../../core/wire/ndp.ts";

const LL_A = "fe80::ff:fe00:1";
const LL_B = "fe80::ff:fe00:2";

function icmp6Socket(s: Stack): { sock: number; got: RawDatagram[] } {
  const got: RawDatagram[] = [];
  const sock = s.openRawSocket("inet6", IPPROTO6.ICMPV6, (d) => got.push(d));
  return { sock, got };
}

function echo6(seq: number): Uint8Array {
  const msg = new Uint8Array(16);
  msg[0] = ICMP6_TYPE.ECHO_REQUEST;
  msg[7] = seq;
  return msg;
}

/** What an IPv6 frame on the wire says. */
interface Seen {
  dstMac: string;
  srcMac: number;
  src: string;
  dst: string;
  hlim: number;
  type: number;
  /** The ND target (NS/NA), else "". */
  target: string;
  /** NA flags byte. */
  flags: number;
  /** Whether an NS/RS carries a source link-layer address option. */
  slla: boolean;
}

function seen(f: Uint8Array): Seen | null {
  if (f[12] !== 0x86 || f[13] !== 0xdd || f[20] !== 58) return null;
  const type = f[54];
  const nd = type === ICMP6_TYPE.NEIGHBOR_SOLICIT || type === ICMP6_TYPE.NEIGHBOR_ADVERT;
  return {
    dstMac: Array.from(f.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(":"),
    srcMac: f[11],
    src: formatIp6(f.subarray(22, 38)),
    dst: formatIp6(f.subarray(38, 54)),
    hlim: f[21],
    type,
    target: nd ? formatIp6(f.subarray(62, 78)) : "",
    flags: f[58],
    slla: (type === ICMP6_TYPE.NEIGHBOR_SOLICIT && f.length > 78 && f[78] === 1) ||
      (type === ICMP6_TYPE.ROUTER_SOLICIT && f.length > 62 && f[62] === 1),
  };
}

function frames(seg: Segment, type: number, from = 0): Seen[] {
  return seg.log.slice(from).map(seen).filter((s): s is Seen => s !== null && s.type === type);
}

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

/** The IPv6 addresses of `s`'s interface, as ifconfig sees them. */
function v6addrs(s: Stack, name = "en0"): Inet6AddrInfo[] {
  return s.ifInfo(name)[0].addrs.filter((x): x is Inet6AddrInfo => x.family === "inet6");
}

function isDefault(r: { family: string; dst: string; prefixlen: number | null }): boolean {
  return r.family === "inet6" && r.dst === "::" && r.prefixlen === 0;
}

function entry(s: Stack, addr: string) {
  return s.neighborList("inet6").find((n) => n.addr === addr);
}

/** Builds an ND message from (src, dst, hlim, body) into an Ethernet frame from MAC :`from`. */
function ndFrame(
  to: Uint8Array,
  from: number,
  src: string,
  dst: string,
  msg: Uint8Array,
  hlim = 255,
): Uint8Array {
  const s = parseIp6(src)!, d = parseIp6(dst)!;
  fillIcmp6Checksum(msg, 0, msg.length, s, d);
  const f = new Uint8Array(14 + 40 + msg.length);
  f.set(to, 0);
  f.set([2, 0, 0, 0, 0, from], 6);
  f[12] = 0x86;
  f[13] = 0xdd;
  emitIpv6Header(f, 14, s, d, 58, msg.length, hlim);
  f.set(msg, 54);
  return f;
}

function inject(net: Net, seg: Segment, fromIndex: number, frame: Uint8Array): void {
  for (const [i, m] of seg.members.entries()) if (i !== fromIndex) m.port.receive(frame);
  net.run();
}

const MAC_B = new Uint8Array([2, 0, 0, 0, 0, 2]);

Deno.test("an interface brought up on a v6 stack gets its EUI-64 link-local address, DAD first", () => {
  const net = new Net();
  const seg = net.segment();
  const a = net.stack(true);
  net.attach(a, seg, 0x1234);
  a.setFlags("en0", IFF.UP, 0);
  const [ll] = v6addrs(a);
  assert.deepEqual(ll, {
    family: "inet6",
    addr: "fe80::ff:fe00:1234",
    prefixlen: 64,
    flags: ["tentative"],
    scopeid: 2,
  });
  const probes = frames(seg, ICMP6_TYPE.NEIGHBOR_SOLICIT);
  assert.deepEqual(
    probes.map((p) => [p.src, p.dst, p.target, p.hlim, p.slla, p.dstMac]),
    [["::", "ff02::1:ff00:1234", "fe80::ff:fe00:1234", 255, false, "33:33:ff:00:12:34"]],
  );
  net.advance(999);
  assert.deepEqual(v6addrs(a)[0].flags, ["tentative"]);
  net.advance(1);
  assert.deepEqual(v6addrs(a)[0].flags, []);
  assert.ok(a.routeInfo().some((r) => r.dst.startsWith("fe80::%en0") && r.ifname === "en0"));
  // Down and up again keeps the address; an address set while down gets no DAD (in6if_do_dad).
  a.setFlags("en0", 0, IFF.UP);
  a.addAddress("en0", { family: "inet6", addr: "2001:db8::5" });
  assert.deepEqual(v6addrs(a).map((x) => x.flags), [[], []]);
});

Deno.test("DAD: dad_count probes a second apart; a tentative address is not answered for", () => {
  const { net, seg, a, b } = twoHosts();
  a.sysctl.set("net.inet6.ip6.dad_count", "2");
  const from = seg.log.length;
  a.addAddress("en0", { family: "inet6", addr: "2001:db8::7" });
  const addr = () => v6addrs(a).find((x) => x.addr === "2001:db8::7")!;
  assert.deepEqual(addr().flags, ["tentative"]);
  // b asks for it while it is tentative: no answer.
  const { sock, got } = icmp6Socket(b);
  b.sendRaw(sock, "2001:db8::7", echo6(1), {});
  net.run();
  assert.equal(frames(seg, ICMP6_TYPE.NEIGHBOR_ADVERT, from).length, 0);
  // An echo to it is dropped, not answered.
  const echoes = a.stats.icmp6.inhist[128];
  const s = parseIp6("2001:db8::2")!, d = parseIp6("2001:db8::7")!;
  const msg = echo6(9);
  fillIcmp6Checksum(msg, 0, msg.length, s, d);
  const f = new Uint8Array(14 + 40 + msg.length);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd]);
  emitIpv6Header(f, 14, s, d, 58, msg.length, 64);
  f.set(msg, 54);
  inject(net, seg, 1, f);
  assert.equal(a.stats.icmp6.inhist[128], echoes);
  net.advance(1000);
  assert.deepEqual(addr().flags, ["tentative"]);
  net.advance(1000);
  assert.deepEqual(addr().flags, []);
  const probes = frames(seg, ICMP6_TYPE.NEIGHBOR_SOLICIT, from).filter((p) => p.src === "::");
  assert.equal(probes.length, 2);
  b.sendRaw(sock, "2001:db8::7", echo6(2), {});
  net.advance(3000);
  // The first echo waited in b's queue while b kept asking; both are answered now.
  assert.deepEqual(got.filter((x) => x.data[0] === 129).map((x) => x.data[7]), [1, 2]);
  // With dad_count 0 there is no DAD at all.
  a.sysctl.set("net.inet6.ip6.dad_count", "0");
  a.addAddress("en0", { family: "inet6", addr: "2001:db8::8" });
  assert.deepEqual(v6addrs(a).find((x) => x.addr === "2001:db8::8")!.flags, []);
});

Deno.test("DAD finds a duplicate: the holder answers, the newcomer marks it duplicated and logs", () => {
  const net = new Net();
  const seg = net.segment();
  const logs: string[] = [];
  const a = net.stack(true, (l) => logs.push(l)), b = net.stack(true);
  net.attach(a, seg, 1);
  net.attach(b, seg, 2);
  for (const s of [a, b]) s.setFlags("en0", IFF.UP, 0);
  b.addAddress("en0", { family: "inet6", addr: "2001:db8::1" });
  net.advance(2000);
  const from = seg.log.length;
  a.addAddress("en0", { family: "inet6", addr: "2001:db8::1" });
  net.advance(2000);
  const mine = v6addrs(a).find((x) => x.addr === "2001:db8::1")!;
  assert.deepEqual(mine.flags, ["duplicated"]);
  const na = frames(seg, ICMP6_TYPE.NEIGHBOR_ADVERT, from);
  assert.deepEqual(na.map((n) => [n.src, n.dst, n.target, n.flags]), [[
    "2001:db8::1",
    "ff02::1",
    "2001:db8::1",
    ND_NA_FLAG.OVERRIDE,
  ]]);
  assert.match(
    logs.join("\n"),
    /en0: DAD detected duplicate IPv6 address 2001:db8::1: NS in\/out=0\/1, NA in=1/,
  );
  assert.match(logs.join("\n"), /DAD complete for 2001:db8::1 - duplicate found/);
  // b keeps its address; a duplicated address is never a source.
  assert.deepEqual(v6addrs(b).find((x) => x.addr === "2001:db8::1")!.flags, []);
  const { sock } = icmp6Socket(a);
  assert.throws(
    () => a.sendRaw(sock, "2001:db8::2", echo6(1), { src: "2001:db8::1" }),
    (e) => e instanceof ErrnoError && e.code === "EADDRNOTAVAIL",
  );
});

Deno.test("DAD: two nodes probing the same address at once both see a duplicate", () => {
  const { net, a, b } = twoHosts();
  a.addAddress("en0", { family: "inet6", addr: "2001:db8::99" });
  b.addAddress("en0", { family: "inet6", addr: "2001:db8::99" });
  net.advance(2000);
  for (const s of [a, b]) {
    const x = v6addrs(s).find((y) => y.addr === "2001:db8::99")!;
    assert.deepEqual(x.flags, ["duplicated"]);
  }
});

Deno.test("NUD: REACHABLE, STALE after ReachableTime, DELAY, PROBE, REACHABLE again", () => {
  const { net, seg, a, b } = twoHosts();
  const { sock } = icmp6Socket(a);
  a.sendRaw(sock, "2001:db8::2", echo6(1), {});
  net.run();
  assert.equal(entry(a, "2001:db8::2")?.state, "REACHABLE");
  assert.ok(entry(a, "2001:db8::2")!.expire! <= 45);
  net.advance(46_000); // ReachableTime is at most 1.5 * 30 s
  assert.equal(entry(a, "2001:db8::2")?.state, "STALE");
  // b's entry for a was STALE after a's solicitation, DELAY after its answers, then probed.
  const from = seg.log.length;
  a.sendRaw(sock, "2001:db8::2", echo6(2), {});
  net.run();
  assert.equal(entry(a, "2001:db8::2")?.state, "DELAY");
  assert.equal(entry(a, "2001:db8::2")?.expire, 5);
  net.advance(5000);
  const probes = frames(seg, ICMP6_TYPE.NEIGHBOR_SOLICIT, from).filter((p) => p.srcMac === 1);
  assert.equal(probes.length, 1);
  assert.deepEqual([probes[0].dst, probes[0].dstMac], ["2001:db8::2", "02:00:00:00:00:02"]);
  assert.equal(entry(a, "2001:db8::2")?.state, "REACHABLE", "b answered the unicast probe");
  // b heard the multicast solicitation and the unicast probe (a's DAD probes went to other groups).
  assert.ok(b.stats.icmp6.inhist[135] >= 2);
  assert.ok(b.stats.ip6.notmember >= 2);
});

Deno.test("NUD: an unanswered probe round removes the entry", () => {
  const { net, seg, a } = twoHosts();
  const { sock } = icmp6Socket(a);
  a.sendRaw(sock, "2001:db8::2", echo6(1), {});
  net.run();
  seg.drop = (f) => f[11] === 2; // b falls silent
  net.advance(46_000);
  a.sendRaw(sock, "2001:db8::2", echo6(2), {});
  const from = seg.log.length;
  net.advance(5000);
  assert.equal(entry(a, "2001:db8::2")?.state, "PROBE");
  net.advance(2000);
  assert.equal(entry(a, "2001:db8::2")?.state, "PROBE");
  net.advance(1000);
  assert.equal(entry(a, "2001:db8::2"), undefined);
  const probes = frames(seg, ICMP6_TYPE.NEIGHBOR_SOLICIT, from).filter((p) => p.srcMac === 1);
  assert.equal(probes.length, 3, "MAX_UNICAST_SOLICIT");
  assert.ok(probes.every((p) => p.dst === "2001:db8::2"));
});

Deno.test("resolution that gets no answer: 3 multicast solicitations, then address unreachable", () => {
  const { net, seg, a } = twoHosts();
  const { sock, got } = icmp6Socket(a);
  const from = seg.log.length;
  for (let i = 0; i < 20; i++) a.sendRaw(sock, "2001:db8::77", echo6(i), {});
  assert.equal(entry(a, "2001:db8::77")?.state, "INCOMPLETE");
  assert.equal(entry(a, "2001:db8::77")?.lladdr, undefined);
  net.advance(2999);
  assert.equal(entry(a, "2001:db8::77")?.state, "INCOMPLETE");
  net.advance(1);
  assert.equal(entry(a, "2001:db8::77"), undefined);
  const ns = frames(seg, ICMP6_TYPE.NEIGHBOR_SOLICIT, from);
  assert.deepEqual(ns.map((n) => [n.src, n.dst, n.dstMac, n.slla]), [
    ["2001:db8::1", "ff02::1:ff00:77", "33:33:ff:00:00:77", true],
    ["2001:db8::1", "ff02::1:ff00:77", "33:33:ff:00:00:77", true],
    ["2001:db8::1", "ff02::1:ff00:77", "33:33:ff:00:00:77", true],
  ]);
  net.run();
  const unreach = got.filter((d) => d.data[0] === ICMP6_TYPE.DST_UNREACH);
  assert.equal(unreach.length, 16, "one for each held packet (at most 16 held)");
  assert.deepEqual([unreach[0].data[1], unreach[0].from], [3, "2001:db8::1"]);
});

Deno.test("NS answers: solicited NAs with O, R when forwarding; DAD probes answered to all-nodes", () => {
  const { net, seg, a, b } = twoHosts();
  const ask = (src: string, dst: string, to: Uint8Array, slla: boolean) => {
    const msg = new Uint8Array(24 + (slla ? 8 : 0));
    emitNeighborSolicit(msg, 0, parseIp6("2001:db8::2")!);
    if (slla) {
      emitNdLinkAddrOpt(msg, 24, ND_OPT.SOURCE_LINKADDR, new Uint8Array([2, 0, 0, 0, 0, 9]));
    }
    const from = seg.log.length;
    inject(net, seg, 0, ndFrame(to, 9, src, dst, msg));
    return frames(seg, ICMP6_TYPE.NEIGHBOR_ADVERT, from).map((n) => [n.dst, n.flags, n.dstMac]);
  };
  const sn = new Uint8Array([0x33, 0x33, 0xff, 0, 0, 2]);
  assert.deepEqual(ask("2001:db8::9", "ff02::1:ff00:2", sn, true), [[
    "2001:db8::9",
    ND_NA_FLAG.SOLICITED | ND_NA_FLAG.OVERRIDE,
    "02:00:00:00:00:09",
  ]]);
  assert.equal(entry(b, "2001:db8::9")?.lladdr, "02:00:00:00:00:09");
  assert.ok(["STALE", "DELAY"].includes(entry(b, "2001:db8::9")!.state!));
  assert.deepEqual(ask("::", "ff02::1:ff00:2", sn, false), [[
    "ff02::1",
    ND_NA_FLAG.OVERRIDE,
    "33:33:00:00:00:01",
  ]]);
  b.sysctl.set("net.inet6.ip6.forwarding", "1");
  const withR = ask("2001:db8::9", "2001:db8::2", MAC_B, true);
  assert.equal(withR[0][1], ND_NA_FLAG.ROUTER | ND_NA_FLAG.SOLICITED | ND_NA_FLAG.OVERRIDE);
  void a;
});

Deno.test("bad ND messages are counted and dropped", () => {
  const { net, seg, a, b } = twoHosts();
  void a;
  const sn = new Uint8Array([0x33, 0x33, 0xff, 0, 0, 2]);
  const ns = (opt?: Uint8Array) => {
    const msg = new Uint8Array(24 + (opt?.length ?? 0));
    emitNeighborSolicit(msg, 0, parseIp6("2001:db8::2")!);
    if (opt) msg.set(opt, 24);
    return msg;
  };
  let from = seg.log.length;
  inject(net, seg, 0, ndFrame(sn, 9, "2001:db8::9", "ff02::1:ff00:2", ns(), 254));
  assert.equal(b.stats.icmp6.badns, 1, "hop limit 254");
  inject(net, seg, 0, ndFrame(sn, 9, "2001:db8::9", "ff02::1:ff00:2", ns(new Uint8Array(8))));
  assert.deepEqual([b.stats.icmp6.badns, b.stats.icmp6.nd_badopt], [2, 1], "option length 0");
  inject(
    net,
    seg,
    0,
    ndFrame(sn, 9, "::", "ff02::1:ff00:2", ns(new Uint8Array([1, 1, 2, 0, 0, 0, 0, 9]))),
  );
  assert.equal(b.stats.icmp6.badns, 3, "a DAD probe with a link-layer address");
  assert.equal(frames(seg, ICMP6_TYPE.NEIGHBOR_ADVERT, from).length, 0);
  // A solicited NA to a multicast address, and a bad code.
  const na = new Uint8Array(24);
  emitNeighborAdvert(na, 0, ND_NA_FLAG.SOLICITED, parseIp6("2001:db8::9")!);
  inject(
    net,
    seg,
    0,
    ndFrame(new Uint8Array([0x33, 0x33, 0, 0, 0, 1]), 9, "2001:db8::9", "ff02::1", na),
  );
  const na2 = new Uint8Array(24);
  emitNeighborAdvert(na2, 0, 0, parseIp6("2001:db8::9")!);
  na2[1] = 1;
  inject(net, seg, 0, ndFrame(MAC_B, 9, "2001:db8::9", "2001:db8::2", na2));
  assert.equal(b.stats.icmp6.badna, 2);
  // An RA (accepted only with accept_rtadv) whose option has length 0.
  b.sysctl.set("net.inet6.ip6.accept_rtadv", "1");
  const ra = new Uint8Array(16 + 8);
  emitRouterAdvert(ra, 0, 64, 0, 1800, 0, 0);
  inject(
    net,
    seg,
    0,
    ndFrame(new Uint8Array([0x33, 0x33, 0, 0, 0, 1]), 9, "fe80::9", "ff02::1", ra),
  );
  assert.deepEqual([b.stats.icmp6.badra, b.stats.icmp6.nd_badopt], [1, 2]);
  // An RA from a global address is refused too.
  const ra2 = new Uint8Array(16);
  emitRouterAdvert(ra2, 0, 64, 0, 1800, 0, 0);
  inject(
    net,
    seg,
    0,
    ndFrame(new Uint8Array([0x33, 0x33, 0, 0, 0, 1]), 9, "2001:db8::9", "ff02::1", ra2),
  );
  assert.equal(b.stats.icmp6.badra, 2);
  assert.equal(b.routeInfo().some((r) => r.dst === "default"), false);
  from = seg.log.length;
  void from;
});

/** A router r (forwarding) and a host h (accept_rtadv) on one segment, h2 behind r. */
function slaacNet(hostAccepts = true) {
  const net = new Net();
  const lan = net.segment(), wan = net.segment();
  const r = net.stack(true), h = net.stack(true), far = net.stack(true);
  net.attach(r, lan, 1);
  net.attach(h, lan, 2);
  net.attach(r, wan, 3);
  net.attach(far, wan, 4);
  r.sysctl.set("net.inet6.ip6.forwarding", "1");
  r.sysctl.set("net.inet6.ip6.accept_rtadv", "1"); // ignored: routers do not autoconfigure
  if (hostAccepts) h.sysctl.set("net.inet6.ip6.accept_rtadv", "1");
  r.setFlags("en0", IFF.UP, 0);
  r.setFlags("en1", IFF.UP, 0);
  far.setFlags("en0", IFF.UP, 0);
  r.addAddress("en0", { family: "inet6", addr: "2001:db8:1::1" });
  r.addAddress("en1", { family: "inet6", addr: "2001:db8:2::1" });
  far.addAddress("en0", { family: "inet6", addr: "2001:db8:2::10" });
  far.addRoute({ family: "inet6", dst: "default", prefixlen: 0, gateway: "fe80::ff:fe00:3%en0" });
  net.advance(2000);
  return { net, lan, wan, r, h, far };
}

/** The router's advertisement, sent the way rtadvd sends it: a raw ICMPv6 socket, hop limit 255. */
function advertise(
  r: Stack,
  opts: { lifetime?: number; valid?: number; preferred?: number; mtu?: number; hlim?: number },
): void {
  const msg = new Uint8Array(16 + 8 + 32 + 8);
  let n = emitRouterAdvert(msg, 0, opts.hlim ?? 0, 0, opts.lifetime ?? 1800, 0, 0);
  n += emitNdLinkAddrOpt(msg, n, ND_OPT.SOURCE_LINKADDR, new Uint8Array([2, 0, 0, 0, 0, 1]));
  n += emitNdPrefixOpt(
    msg,
    n,
    64,
    ND_PREFIX_FLAG.ONLINK | ND_PREFIX_FLAG.AUTO,
    opts.valid ?? 7200,
    opts.preferred ?? 3600,
    parseIp6("2001:db8:1::")!,
  );
  if (opts.mtu) n += emitNdMtuOpt(msg, n, opts.mtu);
  const sock = r.openRawSocket("inet6", 58, () => {});
  r.sendRaw(sock, "ff02::1", msg.subarray(0, n), { ifname: "en0", ttl: 255 });
  r.closeRawSocket(sock);
}

Deno.test("router discovery: a host solicits after DAD; the router learns it", () => {
  const { net, lan, r, h } = slaacNet();
  const from = lan.log.length;
  h.setFlags("en0", IFF.UP, 0);
  net.advance(1000);
  let rs = frames(lan, ICMP6_TYPE.ROUTER_SOLICIT, from);
  assert.deepEqual(rs.map((x) => [x.src, x.dst, x.hlim, x.slla]), [[
    LL_B,
    "ff02::2",
    255,
    true,
  ]]);
  assert.equal(entry(r, `${LL_B}%en0`)?.state, "STALE");
  net.advance(8000);
  rs = frames(lan, ICMP6_TYPE.ROUTER_SOLICIT, from);
  assert.equal(rs.length, 3, "MAX_RTR_SOLICITATIONS, 4 s apart");
  net.advance(10_000);
  assert.equal(frames(lan, ICMP6_TYPE.ROUTER_SOLICIT, from).length, 3);
  // The router itself never solicits.
  assert.ok(rs.every((x) => x.srcMac === 2));
});

Deno.test("SLAAC: an RA gives a prefix, an address, a default route, hop limit and MTU", () => {
  const { net, lan, r, h, far } = slaacNet();
  h.setFlags("en0", IFF.UP, 0);
  net.advance(1000);
  advertise(r, { mtu: 1400, hlim: 32 });
  net.run();
  const auto = () => v6addrs(h).find((x) => x.addr === "2001:db8:1::ff:fe00:2");
  assert.deepEqual(auto(), {
    family: "inet6",
    addr: "2001:db8:1::ff:fe00:2",
    prefixlen: 64,
    flags: ["tentative"],
    pltime: 3600,
    vltime: 7200,
  });
  net.advance(1000);
  assert.deepEqual(auto()!.flags, []);
  const routes = h.routeInfo().filter((x) => x.family === "inet6");
  const def = routes.find((x) => isDefault(x));
  assert.equal(def?.gateway, `${LL_A}%en0`);
  assert.ok(routes.some((x) => x.dst.startsWith("2001:db8:1::") && x.prefixlen === 64));
  assert.equal(entry(h, `${LL_A}%en0`)?.router, true);
  assert.equal(stackCore(h).ip6!.linkMtu(stackCore(h).interface("en0")), 1400);
  // No more solicitations once an RA came.
  const from = lan.log.length;
  net.advance(10_000);
  assert.equal(frames(lan, ICMP6_TYPE.ROUTER_SOLICIT, from).length, 0);
  // A ping through the router to a far host, from the autoconfigured address, hop limit 32.
  const { sock, got } = icmp6Socket(h);
  const at = lan.log.length;
  h.sendRaw(sock, "2001:db8:2::10", echo6(1), {});
  net.run();
  assert.equal(got.filter((d) => d.data[0] === 129).length, 1);
  const req = lan.log.slice(at).map(seen).find((x) => x?.type === 128)!;
  assert.deepEqual([req.src, req.hlim], ["2001:db8:1::ff:fe00:2", 32]);
  void far;
  // The router has no autoconfigured address of its own.
  assert.equal(v6addrs(r).some((x) => x.addr === "2001:db8:1::ff:fe00:1"), false);
});

Deno.test("SLAAC lifetimes: deprecated after pltime, gone after vltime; router lifetime ends", () => {
  const { net, r, h } = slaacNet();
  h.setFlags("en0", IFF.UP, 0);
  net.advance(1000);
  advertise(r, { lifetime: 600, valid: 120, preferred: 60 });
  net.advance(2000);
  const auto = () => v6addrs(h).find((x) => x.addr === "2001:db8:1::ff:fe00:2");
  assert.deepEqual(auto()!.flags, []);
  net.advance(60_000);
  assert.deepEqual(auto()!.flags, ["deprecated"]);
  // A new RA may not cut the valid lifetime below two hours... but 120 s is below: it is kept.
  net.advance(60_000);
  assert.equal(auto(), undefined);
  assert.equal(h.routeInfo().some((x) => x.dst.startsWith("2001:db8:1::")), false);
  assert.ok(h.routeInfo().some((x) => isDefault(x)));
  net.advance(600_000);
  assert.equal(h.routeInfo().some((x) => isDefault(x)), false);
});

Deno.test("SLAAC: the two-hour rule; preferred 0 deprecates at once; a deleted address comes back", () => {
  const { net, r, h } = slaacNet();
  h.setFlags("en0", IFF.UP, 0);
  net.advance(1000);
  advertise(r, { valid: 10_000, preferred: 5000 });
  net.advance(2000);
  const auto = () => v6addrs(h).find((x) => x.addr === "2001:db8:1::ff:fe00:2");
  assert.deepEqual([auto()!.vltime, auto()!.pltime], [10_000, 5000]);
  // An RA cutting the valid lifetime to 60 s sets it to two hours instead (RFC 4862 §5.5.3 e).
  advertise(r, { valid: 60, preferred: 0 });
  net.run();
  assert.deepEqual([auto()!.vltime, auto()!.pltime, auto()!.flags], [7200, 0, ["deprecated"]]);
  // Longer lifetimes are taken as they come.
  advertise(r, { valid: 9000, preferred: 100 });
  net.run();
  assert.deepEqual([auto()!.vltime, auto()!.pltime, auto()!.flags], [9000, 100, []]);
  h.deleteAddress("en0", "inet6", "2001:db8:1::ff:fe00:2");
  assert.equal(auto(), undefined);
  advertise(r, {});
  net.run();
  assert.deepEqual(auto()!.flags, ["tentative"]);
});

Deno.test("SLAAC: without accept_rtadv, or when forwarding, RAs change nothing", () => {
  const { net, r, h } = slaacNet(false);
  const from = stackCore(r).interface("en0").stats.ipackets;
  h.setFlags("en0", IFF.UP, 0);
  net.advance(10_000);
  // h's DAD probe and the two MLD reports for its solicited-node group: no RS.
  assert.equal(stackCore(r).interface("en0").stats.ipackets - from, 3, "DAD probe, 2 reports");
  advertise(r, {});
  net.advance(2000);
  assert.equal(v6addrs(h).length, 1, "the link-local address only");
  assert.equal(h.routeInfo().some((x) => isDefault(x)), false);
  h.sysctl.set("net.inet6.ip6.accept_rtadv", "1");
  h.sysctl.set("net.inet6.ip6.forwarding", "1");
  advertise(r, {});
  net.advance(2000);
  assert.equal(v6addrs(h).length, 1);
});

Deno.test("ndp -s / -d / -c: static entries, deletion, flush", () => {
  const { net, a } = twoHosts();
  const { sock } = icmp6Socket(a);
  a.sendRaw(sock, "2001:db8::2", echo6(1), {});
  net.run();
  const info = a.neighborSet("inet6", "2001:db8::55", "02:00:00:00:00:55", {
    temp: false,
    pub: false,
  });
  assert.deepEqual(info, {
    family: "inet6",
    addr: "2001:db8::55",
    ifname: "en0",
    state: "REACHABLE",
    lladdr: "02:00:00:00:00:55",
  });
  const ll = a.neighborSet("inet6", "fe80::55%en0", "02:00:00:00:00:56", {
    temp: false,
    pub: false,
  });
  assert.equal(ll.addr, "fe80::55%en0");
  assert.throws(
    () => a.neighborSet("inet6", "fe80::55", "02:00:00:00:00:56", { temp: false, pub: false }),
    (e) => e instanceof ErrnoError && e.code === "ENETUNREACH",
  );
  net.advance(100_000);
  assert.equal(entry(a, "2001:db8::55")?.expire, undefined, "permanent");
  assert.equal(a.neighborDelete("inet6", "2001:db8::55").addr, "2001:db8::55");
  assert.throws(
    () => a.neighborDelete("inet6", "2001:db8::55"),
    (e) => e instanceof ErrnoError && e.code === "ESRCH",
  );
  const gone = a.neighborFlush("inet6");
  assert.ok(gone.length >= 2);
  assert.deepEqual(a.neighborList("inet6"), []);
  // A static entry is used without asking.
  a.neighborSet("inet6", "2001:db8::2", "02:00:00:00:00:02", { temp: false, pub: false });
  const { got } = icmp6Socket(a);
  a.sendRaw(sock, "2001:db8::2", echo6(2), {});
  net.run();
  assert.equal(got.filter((d) => d.data[0] === 129).length, 1);
});

Deno.test("a proxy entry (ndp -s ... pub) is answered for", () => {
  const { net, seg, a, b } = twoHosts();
  b.neighborSet("inet6", "2001:db8::66", "02:00:00:00:00:66", { temp: false, pub: true });
  const { sock } = icmp6Socket(a);
  const from = seg.log.length;
  a.sendRaw(sock, "2001:db8::66", echo6(1), {});
  net.run();
  const na = frames(seg, ICMP6_TYPE.NEIGHBOR_ADVERT, from);
  assert.deepEqual(na.map((n) => [n.target, n.flags & ND_NA_FLAG.OVERRIDE]), [["2001:db8::66", 0]]);
  assert.equal(entry(a, "2001:db8::66")?.lladdr, "02:00:00:00:00:66");
});

Deno.test("a default route learned from an RA is not installed over a static one", () => {
  const { net, r, h } = slaacNet();
  h.setFlags("en0", IFF.UP, 0);
  h.addRoute({ family: "inet6", dst: "default", prefixlen: 0, gateway: "fe80::99%en0" });
  net.advance(1000);
  advertise(r, { valid: ND_INFINITE_LIFETIME, preferred: ND_INFINITE_LIFETIME });
  net.advance(2000);
  assert.equal(h.routeInfo().find((x) => isDefault(x))?.gateway, "fe80::99%en0");
  const auto = v6addrs(h).find((x) => x.addr === "2001:db8:1::ff:fe00:2")!;
  assert.equal(auto.pltime, undefined, "infinite");
});
