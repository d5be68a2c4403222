import assert from "node:assert/strict";
import { formatIp6, parseIp6 } from "../../core/net/ip_addr.ts";
import { fillIcmp6Checksum, ICMP6_TYPE, icmp6ChecksumOk } from "../../core/wire/icmpv6.ts";
import {
  emitIpv6Header,
  emitRouterAlertHbh,
  IPPROTO6,
  Ipv6HeaderWalk,
  Ipv6View,
  walkIpv6Headers,
} from "../../core/wire/ipv6.ts";
import {
  emitMld,
  emitMldDone,
  emitMldReport,
  emitNdLinkAddrOpt,
  emitNdMtuOpt,
  emitNdNonceOpt,
  emitNdPrefixOpt,
  emitNdRedirectedHeaderOpt,
  emitNeighborAdvert,
  emitNeighborSolicit,
  emitRedirect,
  emitRouterAdvert,
  emitRouterSolicit,
  IP6_ALL_MLDV2_ROUTERS,
  IP6_ALL_NODES,
  IP6_ALL_ROUTERS,
  IP6_UNSPECIFIED,
  isSolicitedNode,
  MldView,
  ND_INFINITE_LIFETIME,
  ND_NA_FLAG,
  ND_OPT,
  ND_OPT_NAME,
  ND_PREFIX_FLAG,
  ND_RA_FLAG,
  ND_REDIRECTED_DATA,
  NdOptions,
  ndOptLength,
  ndOptLinkAddr,
  ndOptMtu,
  ndOptNonce,
  NeighborAdvertView,
  NeighborSolicitView,
  parseNdOptions,
  PrefixInfoView,
  RedirectView,
  RouterAdvertView,
  RouterSolicitView,
  solicitedNode,
} from "../../core/wire/ndp.ts";
import { hex, prng, toHex } from "../kit/bytes.ts";

function mac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");
}

/** A seeded PRNG (mulberry32), so property runs repeat exactly. */

// Captured from Linux 6.18 (iputils ping 20221126, tcpdump 4.99.3): two network namespaces
// created for the capture, joined by a veth pair (02:00:00:00:00:01 = 2001:db8::1 and
// fe80::ff:fe00:1, 02:00:00:00:00:02 = 2001:db8::2, whose side had force_mld_version=1), as the
// link came up and `ping -6 -c1 2001:db8::2` ran. The namespaces were deleted afterwards. IPv6
// packets, Ethernet headers stripped.

// Neighbor Solicitation for 2001:db8::2 with a source link-layer address option.
const NS = hex(`
  6000000000203aff20010db8000000000000000000000001ff0200000000000000000001ff000002
  87001c270000000020010db80000000000000000000000020101020000000001
`);
// The solicited Neighbor Advertisement (S and O set) with a target link-layer address option.
const NA = hex(`
  6000000000203aff20010db800000000000000000000000220010db8000000000000000000000001
  88008a716000000020010db80000000000000000000000020201020000000002
`);
// Router Solicitation from fe80::ff:fe00:1 with a source link-layer address option.
const RS = hex(`
  6000000000103afffe80000000000000000000fffe000001ff020000000000000000000000000002
  85007b2c000000000101020000000001
`);
// Duplicate Address Detection probe for 2001:db8::1: source ::, a Nonce option (RFC 7527).
const DAD_NS = hex(`
  6000000000203aff00000000000000000000000000000000ff0200000000000000000001ff000001
  870053a00000000020010db80000000000000000000000010e01ebee2a70d4e4
`);
// MLDv1 report for ff02::1:ff00:2 from :: behind a Hop-by-Hop Router Alert, hop limit 1.
const MLD_REPORT = hex(`
  600000000020000100000000000000000000000000000000ff0200000000000000000001ff000002
  3a000502000001008300809f00000000ff0200000000000000000001ff000002
`);

// Crafted with Python `struct` in a throwaway script (independent of the emitters):
// Router Advertisement from fe80::1: hop limit 64, M and O, lifetime 1800 s, reachable 30000 ms,
// retrans 1000 ms; SLLA 02:00:00:00:00:01, MTU 1500, prefixes 2001:db8:1::/64 (L, A, valid
// 2592000, preferred 604800) and 2001:db8:2::/64 (L only, infinite lifetimes).
const RA = hex(`
  6000000000603afffe800000000000000000000000000001ff020000000000000000000000000001
  860002b140c0070800007530000003e8010102000000000105010000000005dc030440c000278d00
  00093a800000000020010db800010000000000000000000003044080ffffffffffffffff00000000
  20010db8000200000000000000000000
`);
// Redirect from fe80::1 to 2001:db8::10: use fe80::2 for 2001:db8:99::1; TLLA
// 02:00:00:00:00:02 and a Redirected Header quoting a 48-byte UDP packet.
const REDIRECT = hex(`
  6000000000683afffe80000000000000000000000000000120010db8000000000000000000000010
  8900ab5000000000fe80000000000000000000000000000220010db8009900000000000000000001
  02010200000000020407000000000000600000000008113f20010db8000000000000000000000010
  20010db80099000000000000000000019c40003500080000
`);

const ip = new Ipv6View();
const opts = new NdOptions();

/** Wraps the IPv6 header; returns the ICMPv6 message's offset and length. */
function open(pkt: Uint8Array): [number, number] {
  assert.equal(ip.wrap(pkt, 0, pkt.length), null);
  assert.equal(ip.hopLimit, 255);
  return [40, ip.payloadLength];
}

/** Compares an emitted message (checksum filled here) with the captured one. */
function sameAsCaptured(out: Uint8Array, n: number, pkt: Uint8Array): void {
  fillIcmp6Checksum(out, 0, n, ip.src, ip.dst);
  assert.equal(toHex(out.subarray(0, n)), toHex(pkt.subarray(40)));
}

Deno.test("captured Neighbor Solicitation: view, options, emit", () => {
  const [at, len] = open(NS);
  const ns = new NeighborSolicitView();
  assert.equal(ns.wrap(NS, at, len), null);
  assert.equal(ns.type, ICMP6_TYPE.NEIGHBOR_SOLICIT);
  assert.equal(ns.checksumOk(ip.src, ip.dst), true);
  assert.equal(formatIp6(ns.target), "2001:db8::2");
  assert.equal(ns.target.buffer, NS.buffer); // a view, not a copy
  assert.equal(parseNdOptions(NS, ns.optionsOffset, ns.optionsEnd, opts), null);
  assert.equal(opts.count, 1);
  assert.equal(opts.sourceLinkAddr, 64);
  assert.equal(opts.targetLinkAddr, -1);
  assert.equal(mac(ndOptLinkAddr(NS, opts.sourceLinkAddr)), "02:00:00:00:00:01");
  // Sent to the target's solicited-node group.
  const group = new Uint8Array(16);
  solicitedNode(ns.target, group);
  assert.deepEqual(group, ip.dst);
  const out = new Uint8Array(len);
  let n = emitNeighborSolicit(out, 0, ns.target);
  n += emitNdLinkAddrOpt(out, n, ND_OPT.SOURCE_LINKADDR, hex("020000000001"));
  assert.equal(n, len);
  sameAsCaptured(out, n, NS);
});

Deno.test("captured Neighbor Advertisement: flags, target option, emit", () => {
  const [at, len] = open(NA);
  const na = new NeighborAdvertView();
  assert.equal(na.wrap(NA, at, len), null);
  assert.equal(na.checksumOk(ip.src, ip.dst), true);
  assert.equal(na.router, false);
  assert.equal(na.solicited, true);
  assert.equal(na.override, true);
  assert.equal(na.flags, ND_NA_FLAG.SOLICITED | ND_NA_FLAG.OVERRIDE);
  assert.equal(formatIp6(na.target), "2001:db8::2");
  assert.equal(parseNdOptions(NA, na.optionsOffset, na.optionsEnd, opts), null);
  assert.equal(opts.targetLinkAddr, 64);
  assert.equal(mac(ndOptLinkAddr(NA, opts.targetLinkAddr)), "02:00:00:00:00:02");
  const out = new Uint8Array(len).fill(0xee);
  let n = emitNeighborAdvert(out, 0, na.flags, na.target);
  n += emitNdLinkAddrOpt(out, n, ND_OPT.TARGET_LINKADDR, hex("020000000002"));
  sameAsCaptured(out, n, NA);
});

Deno.test("captured Router Solicitation: view, options, emit", () => {
  const [at, len] = open(RS);
  const rs = new RouterSolicitView();
  assert.equal(rs.wrap(RS, at, len), null);
  assert.equal(rs.type, ICMP6_TYPE.ROUTER_SOLICIT);
  assert.equal(rs.checksumOk(ip.src, ip.dst), true);
  assert.deepEqual(ip.dst, IP6_ALL_ROUTERS);
  assert.equal(rs.optionsOffset, 48);
  assert.equal(parseNdOptions(RS, rs.optionsOffset, rs.optionsEnd, opts), null);
  assert.equal(mac(ndOptLinkAddr(RS, opts.sourceLinkAddr)), "02:00:00:00:00:01");
  const out = new Uint8Array(len).fill(0xee);
  let n = emitRouterSolicit(out, 0);
  n += emitNdLinkAddrOpt(out, n, ND_OPT.SOURCE_LINKADDR, hex("020000000001"));
  sameAsCaptured(out, n, RS);
});

Deno.test("captured DAD probe: unspecified source, Nonce option, emit", () => {
  const [at, len] = open(DAD_NS);
  assert.deepEqual(ip.src, IP6_UNSPECIFIED);
  assert.equal(isSolicitedNode(ip.dst), true);
  const ns = new NeighborSolicitView();
  assert.equal(ns.wrap(DAD_NS, at, len), null);
  assert.equal(ns.checksumOk(ip.src, ip.dst), true);
  assert.equal(formatIp6(ns.target), "2001:db8::1");
  assert.equal(parseNdOptions(DAD_NS, ns.optionsOffset, ns.optionsEnd, opts), null);
  assert.equal(opts.sourceLinkAddr, -1);
  assert.equal(opts.nonce, 64);
  assert.equal(ND_OPT_NAME[DAD_NS[opts.nonce]], "nonce");
  const nonce = ndOptNonce(DAD_NS, opts.nonce);
  assert.equal(toHex(nonce), "ebee2a70d4e4");
  const out = new Uint8Array(len);
  let n = emitNeighborSolicit(out, 0, ns.target);
  n += emitNdNonceOpt(out, n, nonce);
  sameAsCaptured(out, n, DAD_NS);
});

Deno.test("captured MLDv1 report: the whole packet is re-emitted byte for byte", () => {
  assert.equal(ip.wrap(MLD_REPORT, 0, MLD_REPORT.length), null);
  const walk = new Ipv6HeaderWalk();
  walkIpv6Headers(MLD_REPORT, 40, ip.payloadLength, ip.nextHeader, 15, walk);
  assert.equal(walk.routerAlert, 0);
  const mld = new MldView();
  assert.equal(mld.wrap(MLD_REPORT, walk.protoOffset, 24), null);
  assert.equal(mld.type, ICMP6_TYPE.MLD_REPORT);
  assert.equal(mld.maxDelay, 0);
  assert.equal(formatIp6(mld.group), "ff02::1:ff00:2");
  assert.equal(mld.checksumOk(ip.src, ip.dst), true);
  const out = new Uint8Array(72);
  const group = parseIp6("ff02::1:ff00:2")!;
  let n = emitIpv6Header(out, 0, IP6_UNSPECIFIED, group, IPPROTO6.HOPOPTS, 32, 1);
  n += emitRouterAlertHbh(out, n, IPPROTO6.ICMPV6);
  n += emitMldReport(out, n, group, IP6_UNSPECIFIED);
  assert.equal(n, 72);
  assert.equal(toHex(out), toHex(MLD_REPORT));
});

Deno.test("MLDv1 done and query", () => {
  const src = parseIp6("fe80::ff:fe00:1")!, group = parseIp6("ff02::1:ff00:1")!;
  const out = new Uint8Array(24);
  assert.equal(emitMldDone(out, 0, group, src), 24);
  assert.equal(icmp6ChecksumOk(out, 0, 24, src, IP6_ALL_ROUTERS), true);
  const mld = new MldView();
  mld.wrap(out, 0, 24);
  assert.equal(mld.type, ICMP6_TYPE.MLD_DONE);
  assert.deepEqual(mld.group, group);
  emitMld(out, 0, ICMP6_TYPE.MLD_QUERY, 10000, IP6_UNSPECIFIED, src, IP6_ALL_NODES);
  out[1] = 7; // receivers ignore the code (RFC 2710)
  assert.equal(mld.wrap(out, 0, 24), null);
  assert.equal(mld.maxDelay, 10000);
  assert.equal(mld.wrap(out, 0, 23), "tooshort");
});

Deno.test("crafted Router Advertisement: fields, options, prefix views, emit", () => {
  const [at, len] = open(RA);
  const ra = new RouterAdvertView();
  assert.equal(ra.wrap(RA, at, len), null);
  assert.equal(ra.checksumOk(ip.src, ip.dst), true);
  assert.equal(ra.curHopLimit, 64);
  assert.equal(ra.managed, true);
  assert.equal(ra.other, true);
  assert.equal(ra.preference, 0);
  assert.equal(ra.routerLifetime, 1800);
  assert.equal(ra.reachableTime, 30000);
  assert.equal(ra.retransTimer, 1000);
  assert.equal(parseNdOptions(RA, ra.optionsOffset, ra.optionsEnd, opts), null);
  assert.equal(opts.count, 4);
  assert.equal(mac(ndOptLinkAddr(RA, opts.sourceLinkAddr)), "02:00:00:00:00:01");
  assert.equal(ndOptMtu(RA, opts.mtu), 1500);
  assert.equal(opts.prefixCount, 2);
  const pi = new PrefixInfoView();
  const want = [
    ["2001:db8:1::", true, true, 2592000, 604800],
    ["2001:db8:2::", true, false, ND_INFINITE_LIFETIME, ND_INFINITE_LIFETIME],
  ];
  for (let i = 0; i < 2; i++) {
    assert.equal(pi.wrap(RA, opts.prefixes[i], ra.optionsEnd - opts.prefixes[i]), null);
    assert.equal(pi.prefixLength, 64);
    assert.deepEqual(
      [formatIp6(pi.prefix), pi.onLink, pi.autonomous, pi.validLifetime, pi.preferredLifetime],
      want[i],
    );
  }
  const out = new Uint8Array(len);
  let n = emitRouterAdvert(out, 0, 64, ND_RA_FLAG.MANAGED | ND_RA_FLAG.OTHER, 1800, 30000, 1000);
  n += emitNdLinkAddrOpt(out, n, ND_OPT.SOURCE_LINKADDR, hex("020000000001"));
  n += emitNdMtuOpt(out, n, 1500);
  const L = ND_PREFIX_FLAG.ONLINK, A = ND_PREFIX_FLAG.AUTO;
  n += emitNdPrefixOpt(out, n, 64, L | A, 2592000, 604800, parseIp6("2001:db8:1::")!);
  const inf = ND_INFINITE_LIFETIME;
  n += emitNdPrefixOpt(out, n, 64, L, inf, inf, parseIp6("2001:db8:2::")!);
  sameAsCaptured(out, n, RA);
});

Deno.test("Router Advertisement preference bits (RFC 4191)", () => {
  const b = new Uint8Array(16);
  const ra = new RouterAdvertView();
  for (const [bits, pref] of [[0x08, 1], [0x00, 0], [0x18, -1], [0x10, 0]]) {
    emitRouterAdvert(b, 0, 0, bits, 0, 0, 0);
    ra.wrap(b, 0, 16);
    assert.equal(ra.preference, pref);
    assert.equal(ra.managed, false);
  }
});

Deno.test("crafted Redirect: target, destination, redirected header, emit", () => {
  assert.equal(ip.wrap(REDIRECT, 0, REDIRECT.length), null);
  const rd = new RedirectView();
  assert.equal(rd.wrap(REDIRECT, 40, ip.payloadLength), null);
  assert.equal(rd.checksumOk(ip.src, ip.dst), true);
  assert.equal(formatIp6(rd.target), "fe80::2");
  assert.equal(formatIp6(rd.destination), "2001:db8:99::1");
  assert.equal(parseNdOptions(REDIRECT, rd.optionsOffset, rd.optionsEnd, opts), null);
  assert.equal(mac(ndOptLinkAddr(REDIRECT, opts.targetLinkAddr)), "02:00:00:00:00:02");
  const rh = opts.redirectedHeader;
  assert.equal(ndOptLength(REDIRECT, rh), 56);
  const quoted = REDIRECT.subarray(rh + ND_REDIRECTED_DATA, rh + ndOptLength(REDIRECT, rh));
  const inner = new Ipv6View();
  assert.equal(inner.wrap(quoted, 0, quoted.length), null);
  assert.equal(inner.nextHeader, IPPROTO6.UDP);
  assert.equal(formatIp6(inner.dst), "2001:db8:99::1");
  const out = new Uint8Array(ip.payloadLength);
  let n = emitRedirect(out, 0, rd.target, rd.destination);
  n += emitNdLinkAddrOpt(out, n, ND_OPT.TARGET_LINKADDR, hex("020000000002"));
  n += emitNdRedirectedHeaderOpt(out, n, quoted, 1280 - 40 - n);
  sameAsCaptured(out, n, REDIRECT);
});

Deno.test("emitNdRedirectedHeaderOpt cuts and pads to multiples of 8", () => {
  const pkt = new Uint8Array(1500).map((_, i) => (i * 7) & 0xff);
  const out = new Uint8Array(2000);
  const max = 1280 - 40 - 40 - 8; // after the Redirect's fixed part and a TLLA option
  let n = emitNdRedirectedHeaderOpt(out, 0, pkt, max);
  assert.equal(n, 1192);
  assert.equal(n % 8, 0);
  assert.equal(out[1] * 8, n);
  assert.deepEqual(out.subarray(8, n), pkt.subarray(0, n - 8));
  n = emitNdRedirectedHeaderOpt(out.fill(0xee), 0, pkt.subarray(0, 45), 1000);
  assert.equal(n, 56);
  assert.deepEqual(out.subarray(53, 56), new Uint8Array(3)); // zero padding
  assert.deepEqual(out.subarray(2, 8), new Uint8Array(6)); // reserved
  assert.equal(emitNdRedirectedHeaderOpt(out, 0, pkt, 7), 0);
  assert.equal(emitNdRedirectedHeaderOpt(out, 0, pkt, 15), 8);
  assert.equal(emitNdRedirectedHeaderOpt(new Uint8Array(30), 4, pkt, 1000), 24);
});

Deno.test("views refuse short messages and non-zero codes", () => {
  const cases: [{ wrap(b: Uint8Array, o: number, l: number): string | null }, number][] = [
    [new RouterSolicitView(), 8],
    [new RouterAdvertView(), 16],
    [new NeighborSolicitView(), 24],
    [new NeighborAdvertView(), 24],
    [new RedirectView(), 40],
  ];
  const b = new Uint8Array(64);
  for (const [view, min] of cases) {
    b[1] = 0;
    assert.equal(view.wrap(b, 0, min - 1), "tooshort");
    assert.equal(view.wrap(b, 0, min), null);
    b[1] = 1;
    assert.equal(view.wrap(b, 0, min), "badcode");
  }
});

Deno.test("parseNdOptions drops messages with zero-length or overrunning options", () => {
  const b = hex("0101020000000001" + "0500000000000000" + "0201020000000002");
  assert.equal(parseNdOptions(b, 0, b.length, opts), "badoptlen");
  assert.equal(opts.errorOffset, 8);
  b[9] = 3; // the MTU option now claims 24 bytes: 16 are left
  assert.equal(parseNdOptions(b, 0, b.length, opts), "truncated");
  assert.equal(opts.errorOffset, 8);
  b[9] = 1;
  assert.equal(parseNdOptions(b, 0, b.length, opts), null);
  assert.equal(opts.count, 3);
  assert.equal(parseNdOptions(b, 0, 9, opts), "truncated"); // one byte of an option
  assert.equal(opts.errorOffset, 8);
  assert.equal(parseNdOptions(b, 0, 12, opts), "truncated"); // head there, body cut
  assert.equal(parseNdOptions(b, 0, 0, opts), null);
  assert.equal(opts.count, 0);
  // A captured message cut inside its option is refused as a whole.
  const [at] = open(NS);
  assert.equal(parseNdOptions(NS, at + 24, NS.length - 1, opts), "truncated");
});

Deno.test("parseNdOptions keeps the first of duplicates, skips unknown and wrong-size options", () => {
  const b = new Uint8Array(256);
  let n = 0;
  n += emitNdLinkAddrOpt(b, n, ND_OPT.SOURCE_LINKADDR, hex("020000000001"));
  n += emitNdLinkAddrOpt(b, n, ND_OPT.SOURCE_LINKADDR, hex("020000000009"));
  b.set([200, 2], n); // unknown type, 16 bytes
  n += 16;
  b.set([ND_OPT.MTU, 2], n); // an MTU option of the wrong size is ignored
  n += 16;
  n += emitNdMtuOpt(b, n, 9000);
  b.set([ND_OPT.PREFIX_INFORMATION, 3], n); // so is a short prefix option
  n += 24;
  for (let i = 0; i < 3; i++) {
    n += emitNdPrefixOpt(b, n, 48, 0, 0, 0, parseIp6(`2001:db8:${i}::`)!);
  }
  const small = new NdOptions(2);
  assert.equal(parseNdOptions(b, 0, n, small), null);
  assert.equal(small.count, 9);
  assert.equal(mac(ndOptLinkAddr(b, small.sourceLinkAddr)), "02:00:00:00:00:01");
  assert.equal(ndOptMtu(b, small.mtu), 9000);
  assert.equal(small.prefixCount, 2);
  assert.equal(small.prefixOverflow, 1);
  const pi = new PrefixInfoView();
  pi.wrap(b, small.prefixes[1], 32);
  assert.equal(formatIp6(pi.prefix), "2001:db8:1::");
  assert.equal(pi.prefixLength, 48);
  assert.equal(pi.wrap(b, small.prefixes[1], 31), "badoptlen");
  // Each walk starts afresh.
  assert.equal(parseNdOptions(b, 0, 0, small), null);
  assert.deepEqual([small.sourceLinkAddr, small.mtu, small.prefixCount], [-1, -1, 0]);
});

Deno.test("link-layer address options for longer addresses are padded to 8", () => {
  const b = new Uint8Array(16).fill(0xee);
  assert.equal(emitNdLinkAddrOpt(b, 0, ND_OPT.SOURCE_LINKADDR, hex("0102030405060708")), 16);
  assert.equal(toHex(b), "0102010203040506070800000000" + "0000");
  assert.equal(ndOptLinkAddr(b, 0).length, 14);
});

Deno.test("solicited-node addresses and the well-known groups", () => {
  const out = new Uint8Array(20).fill(0xee);
  solicitedNode(parseIp6("2001:db8::abcd:1234:5678")!, out, 2);
  assert.equal(formatIp6(out.subarray(2, 18)), "ff02::1:ff34:5678");
  assert.equal(out[0], 0xee);
  assert.equal(out[18], 0xee);
  assert.equal(isSolicitedNode(out.subarray(2, 18)), true);
  assert.equal(isSolicitedNode(IP6_ALL_NODES), false);
  assert.equal(isSolicitedNode(parseIp6("ff02:1::1:ff00:1")!), false);
  assert.equal(formatIp6(IP6_ALL_NODES), "ff02::1");
  assert.equal(formatIp6(IP6_ALL_ROUTERS), "ff02::2");
  assert.equal(formatIp6(IP6_ALL_MLDV2_ROUTERS), "ff02::16");
  assert.equal(formatIp6(IP6_UNSPECIFIED), "::");
});

Deno.test("property: random ND messages round-trip through emit, views and options", () => {
  const rnd = prng(4861);
  const buf = new Uint8Array(600);
  const addr = () => new Uint8Array(16).map(() => rnd(256));
  const src = addr(), dst = addr();
  const nsv = new NeighborSolicitView(), nav = new NeighborAdvertView();
  const rav = new RouterAdvertView(), rdv = new RedirectView(), pi = new PrefixInfoView();
  for (let i = 0; i < 300; i++) {
    const kind = rnd(4);
    const target = addr(), dest = addr(), ll = new Uint8Array(6).map(() => rnd(256));
    const flags = rnd(256), life = rnd(65536), reach = rnd(0x10000) * 0x10000 + rnd(0x10000);
    const retrans = rnd(0x10000) * 0x10000, hop = rnd(256);
    let n = 0;
    if (kind === 0) n = emitNeighborSolicit(buf, 0, target);
    else if (kind === 1) n = emitNeighborAdvert(buf, 0, flags & 0xe0, target);
    else if (kind === 2) n = emitRouterAdvert(buf, 0, hop, flags, life, reach, retrans);
    else n = emitRedirect(buf, 0, target, dest);
    const lla = rnd(3); // 0: none, 1: source, 2: target
    if (lla) n += emitNdLinkAddrOpt(buf, n, lla, ll);
    const mtu = rnd(2) ? 1280 + rnd(8000) : -1;
    if (mtu >= 0) n += emitNdMtuOpt(buf, n, mtu);
    const prefixes: [number, number, number, number, Uint8Array][] = [];
    for (let k = rnd(4); k > 0; k--) {
      const p: [number, number, number, number, Uint8Array] = [
        rnd(129),
        rnd(256) & 0xe0,
        rnd(0x10000) * 0x10000 + rnd(0x10000),
        rnd(0x10000) * 0x10000 + rnd(0x10000),
        addr(),
      ];
      prefixes.push(p);
      n += emitNdPrefixOpt(buf, n, ...p);
    }
    fillIcmp6Checksum(buf, 0, n, src, dst);
    assert.equal(icmp6ChecksumOk(buf, 0, n, src, dst), true);
    let view;
    if (kind === 0) {
      view = nsv;
      assert.equal(nsv.wrap(buf, 0, n), null);
      assert.deepEqual(nsv.target, target);
    } else if (kind === 1) {
      view = nav;
      assert.equal(nav.wrap(buf, 0, n), null);
      assert.deepEqual([nav.flags, nav.router, nav.solicited, nav.override], [
        flags & 0xe0,
        (flags & 0x80) !== 0,
        (flags & 0x40) !== 0,
        (flags & 0x20) !== 0,
      ]);
      assert.deepEqual(nav.target, target);
    } else if (kind === 2) {
      view = rav;
      assert.equal(rav.wrap(buf, 0, n), null);
      assert.deepEqual(
        [rav.curHopLimit, rav.flags, rav.routerLifetime, rav.reachableTime, rav.retransTimer],
        [hop, flags, life, reach, retrans],
      );
    } else {
      view = rdv;
      assert.equal(rdv.wrap(buf, 0, n), null);
      assert.deepEqual(rdv.target, target);
      assert.deepEqual(rdv.destination, dest);
    }
    assert.equal(view.checksumOk(src, dst), true);
    assert.equal(parseNdOptions(buf, view.optionsOffset, view.optionsEnd, opts), null);
    assert.equal(opts.count, (lla ? 1 : 0) + (mtu >= 0 ? 1 : 0) + prefixes.length);
    const llAt = lla === 1 ? opts.sourceLinkAddr : lla === 2 ? opts.targetLinkAddr : -1;
    if (lla) assert.deepEqual(ndOptLinkAddr(buf, llAt), ll);
    assert.equal(mtu >= 0 ? ndOptMtu(buf, opts.mtu) : opts.mtu, mtu);
    assert.equal(opts.prefixCount, prefixes.length);
    prefixes.forEach(([plen, pflags, valid, preferred, prefix], k) => {
      assert.equal(pi.wrap(buf, opts.prefixes[k], 32), null);
      assert.deepEqual(
        [pi.prefixLength, pi.flags, pi.validLifetime, pi.preferredLifetime, pi.prefix],
        [plen, pflags, valid, preferred, prefix],
      );
    });
    // Any option length zeroed, the whole message is refused.
    if (opts.count > 0) {
      const firstPrefix = opts.prefixCount > 0 ? opts.prefixes[0] : -1;
      const o = [opts.sourceLinkAddr, opts.targetLinkAddr, opts.mtu, firstPrefix]
        .filter((x) => x >= 0)[0];
      buf[o + 1] = 0;
      assert.equal(parseNdOptions(buf, view.optionsOffset, view.optionsEnd, opts), "badoptlen");
    }
  }
});
