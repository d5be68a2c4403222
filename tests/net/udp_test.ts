/**
 * UDP sockets between stacks on a virtual Ethernet, in virtual time: both
 * families, loopback within the turn, fragmentation, ICMP errors to connected
 * sockets, broadcast and multicast fan-out, full buffers, v4-mapped delivery,
 * checksums on and off, `reuseport_unicast`.
 */
import { pair } from "../kit/topologies.ts";
import assert from "node:assert/strict";
import { Stack } from "../../core/stack.ts";
import { ErrnoError, errnoNumber } from "../../core/errno.ts";
import { Endpoint } from "../../core/net/inet_addr.ts";
import type { UdpHandle } from "../../core/socket/udp_handle.ts";

interface Got {
  len: number;
  text: string;
  from: string;
  errors: string[];
}

/** Everything a socket receives, and the errors its reads report. */
function inbox(h: UdpHandle): Got[] & { errors: string[] } {
  const got = Object.assign([] as Got[], { errors: [] as string[] });
  h.onReadable = () => {
    const from = new Endpoint();
    for (let i = 0; i < 10_000; i++) {
      let d: Uint8Array | null;
      try {
        d = h.receive(from);
      } catch (e) {
        if (!(e instanceof ErrnoError)) throw e;
        got.errors.push(e.code);
        return;
      }
      if (d === null) return;
      got.push({
        len: d.length,
        text: d.length < 64 ? new TextDecoder().decode(d) : "",
        from: from.toString(),
        errors: [],
      });
    }
  };
  return got;
}

const text = (t: string) => new TextEncoder().encode(t);

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof ErrnoError) return e.code;
    throw e;
  }
}

Deno.test("UDP over lo0 is delivered, and the receiver woken, within the sending call", () => {
  const s = new Stack({ inet6: true });
  for (const [fam, addr] of [[4, "127.0.0.1"], [6, "::1"]] as const) {
    const server = s.openUdp(fam), client = s.openUdp(fam);
    server.bind(addr, 7000);
    const got = inbox(server);
    client.sendTo(text("ping"), addr, 7000);
    assert.deepEqual(got.map((g) => g.text), ["ping"], `IPv${fam}`);
    assert.equal(got[0].from, `${fam === 4 ? addr : `[${addr}]`}:${client.localAddress().port}`);
  }
  assert.equal(s.stats.udp.opackets, 1);
  assert.equal(s.stats.udp6.ipackets, 1);
});

Deno.test("UDP between two stacks, both families; a connected socket hears only its peer", () => {
  const { net, a, b } = pair();
  for (const [fam, to] of [[4, "192.0.2.2"], [6, "2001:db8::2"]] as const) {
    const server = b.openUdp(fam);
    server.bind(null, 5353 + fam);
    const got = inbox(server);
    const client = a.openUdp(fam);
    client.connect(to, 5353 + fam);
    client.send(text("hello"));
    net.run();
    assert.deepEqual(got.map((g) => g.text), ["hello"]);
    // The reply comes back to the connected client; a stranger's datagram does not.
    const back = inbox(client);
    server.sendTo(text("world"), client.localAddress().addr, client.localAddress().port);
    const stranger = b.openUdp(fam);
    stranger.sendTo(text("spam"), client.localAddress().addr, client.localAddress().port);
    net.run();
    assert.deepEqual(back.map((g) => g.text), ["world"], `IPv${fam}`);
  }
  assert.equal(a.stats.udp.noport, 1);
  assert.equal(a.stats.udp6.noport, 1);
});

Deno.test("UDP: 60 000-byte datagrams are fragmented and reassembled, both families; limits say EMSGSIZE", () => {
  const { net, a, b } = pair();
  for (const [fam, to] of [[4, "192.0.2.2"], [6, "2001:db8::2"]] as const) {
    const server = b.openUdp(fam);
    server.setOption("SO_RCVBUF", 65536);
    server.bind(null, 9000 + fam);
    const got = inbox(server);
    const client = a.openUdp(fam);
    const big = new Uint8Array(60_000).map((_, i) => i * 7);
    assert.equal(
      code(() => client.sendTo(big, to, 9000 + fam)),
      "EMSGSIZE",
      "past SO_SNDBUF (sendspace)",
    );
    client.setOption("SO_SNDBUF", 65536);
    client.sendTo(big, to, 9000 + fam);
    net.run();
    assert.equal(got.length, 1, `IPv${fam}`);
    assert.equal(got[0].len, 60_000);
    const max = fam === 4 ? 65_507 : 65_527;
    client.setOption("SO_SNDBUF", 70_000);
    assert.equal(code(() => client.sendTo(new Uint8Array(max + 1), to, 9000 + fam)), "EMSGSIZE");
    assert.equal(code(() => client.sendTo(new Uint8Array(max), to, 9000 + fam)), null);
    net.run();
    // 65 507 + 16 (sockaddr_in) fits 65 536 bytes; 65 527 + 28 (sockaddr_in6) does not.
    assert.equal(got.length, fam === 4 ? 2 : 1);
  }
  assert.equal(b.stats.ip.reassembled, 2);
  assert.ok(b.stats.ip6.reassembled >= 2);
  assert.equal(b.stats.udp.fullsock, 0);
  assert.equal(b.stats.udp6.fullsock, 1);
});

Deno.test("UDP: port unreachable makes a connected socket's next operation fail with ECONNREFUSED", () => {
  const { net, a, b } = pair();
  for (const [fam, to] of [[4, "192.0.2.2"], [6, "2001:db8::2"]] as const) {
    const conn = a.openUdp(fam), loose = a.openUdp(fam);
    conn.connect(to, 4444);
    const got = inbox(conn);
    conn.send(text("anyone?"));
    loose.sendTo(text("anyone?"), to, 4444);
    net.run();
    assert.deepEqual(got.errors, ["ECONNREFUSED"], `IPv${fam}: reported by the read it woke`);
    assert.equal(code(() => conn.send(text("again"))), null, "cleared once reported");
    conn.onReadable = null; // nobody reads: the error stays pending
    net.run();
    assert.equal(conn.getOption("SO_ERROR"), errnoNumber("ECONNREFUSED"));
    assert.equal(conn.getOption("SO_ERROR"), 0, "SO_ERROR clears it");
    conn.send(text("third"));
    net.run();
    assert.equal(
      code(() => conn.send(text("fourth"))),
      "ECONNREFUSED",
      "or the next send reports it",
    );
    assert.equal(code(() => loose.sendTo(text("x"), to, 4444)), null, "unconnected: never told");
    net.run();
  }
  // Three datagrams from the connected socket, two from the other, each family.
  assert.equal(b.stats.udp.noport, 5);
  assert.equal(b.stats.udp6.noport, 5);
  assert.equal(b.stats.icmp.outhist[3], 5);
});

Deno.test("UDP broadcast: SO_BROADCAST required, delivered to every socket on the port, looped to the sender's host", () => {
  const { net, a, b } = pair();
  const r1 = b.openUdp(4), r2 = b.openUdp(4), local = a.openUdp(4);
  for (const r of [r1, r2, local]) r.setOption("SO_REUSEPORT", 1);
  r1.bind(null, 6767);
  r2.bind(null, 6767);
  local.bind(null, 6767);
  const [g1, g2, gl] = [inbox(r1), inbox(r2), inbox(local)];
  const sender = a.openUdp(4);
  assert.equal(code(() => sender.sendTo(text("all"), "192.0.2.255", 6767)), "EACCES");
  sender.setOption("SO_BROADCAST", true);
  sender.sendTo(text("all"), "192.0.2.255", 6767);
  sender.sendTo(text("lim"), "255.255.255.255", 6767);
  sender.sendTo(text("none"), "192.0.2.255", 6768);
  net.run();
  for (const g of [g1, g2, gl]) assert.deepEqual(g.map((x) => x.text), ["all", "lim"]);
  assert.equal(b.stats.udp.noportbcast, 1);
  assert.equal(b.stats.icmp.outhist[3], 0, "no unreachable for a broadcast");
});

Deno.test("UDP multicast: only sockets that joined the group receive; leaving stops IP taking it", () => {
  const { net, a, b } = pair();
  for (const [fam, group] of [[4, "239.1.2.3"], [6, "ff15::1234"]] as const) {
    const ifIndex = 2; // en0 (lo0 is 1)
    const joinedSock = b.openUdp(fam), idle = b.openUdp(fam), self = a.openUdp(fam);
    for (const h of [joinedSock, idle]) h.setOption("SO_REUSEPORT", 1);
    joinedSock.bind(null, 5000 + fam);
    idle.bind(null, 5000 + fam);
    self.bind(null, 5000 + fam);
    joinedSock.joinGroup(group, ifIndex);
    self.joinGroup(group, ifIndex);
    const [gj, gi, gs] = [inbox(joinedSock), inbox(idle), inbox(self)];
    const sender = a.openUdp(fam);
    sender.setOption(fam === 4 ? "IP_MULTICAST_IF" : "IPV6_MULTICAST_IF", ifIndex);
    sender.sendTo(text("m1"), group, 5000 + fam);
    net.run();
    assert.deepEqual(gj.map((g) => g.text), ["m1"], `IPv${fam}`);
    assert.equal(gi.length, 0);
    assert.deepEqual(gs.map((g) => g.text), ["m1"], "looped back (IP_MULTICAST_LOOP)");
    sender.setOption(fam === 4 ? "IP_MULTICAST_LOOP" : "IPV6_MULTICAST_LOOP", false);
    joinedSock.leaveGroup(group, ifIndex);
    sender.sendTo(text("m2"), group, 5000 + fam);
    net.run();
    assert.equal(gj.length, 1);
    assert.equal(gs.length, 1, "no loop");
    assert.equal(code(() => joinedSock.leaveGroup(group, ifIndex)), "EADDRNOTAVAIL");
  }
  assert.equal(b.stats.ip6.notmember > 0, true);
});

Deno.test("UDP: datagrams that do not fit SO_RCVBUF are dropped and counted as fullsock", () => {
  const { net, a, b } = pair();
  const r = b.openUdp(4);
  r.setOption("SO_RCVBUF", 3000);
  r.bind(null, 7777);
  const s = a.openUdp(4);
  for (let i = 0; i < 5; i++) s.sendTo(new Uint8Array(1000), "192.0.2.2", 7777);
  net.run();
  assert.equal(r.pending, 2, "1016 bytes each (payload and sockaddr_in) against 3000");
  assert.equal(r.pendingBytes, 2032);
  assert.equal(b.stats.udp.fullsock, 3);
  assert.equal(b.stats.udp.ipackets, 5);
});

Deno.test("UDP: an IPv6 socket that is not v6only receives IPv4 as v4-mapped; a v6only one does not", () => {
  const { net, a, b } = pair();
  const dual = b.openUdp(6);
  dual.bind(null, 5001);
  const only = b.openUdp(6);
  only.setOption("IPV6_V6ONLY", true);
  only.bind(null, 5002);
  const [gd, go] = [inbox(dual), inbox(only)];
  const s = a.openUdp(4);
  s.bind(null, 4000);
  s.sendTo(text("v4"), "192.0.2.2", 5001);
  s.sendTo(text("v4"), "192.0.2.2", 5002);
  net.run();
  assert.deepEqual(gd.map((g) => g.from), ["[::ffff:192.0.2.1]:4000"]);
  assert.equal(go.length, 0);
  // The dual socket answers the mapped address over IPv4.
  const back = inbox(s);
  dual.sendTo(text("re"), "::ffff:192.0.2.1", 4000);
  net.run();
  assert.deepEqual(back.map((g) => `${g.text} ${g.from}`), ["re 192.0.2.2:5001"]);
  assert.equal(code(() => only.sendTo(text("x"), "::ffff:192.0.2.1", 4000)), "EINVAL");
});

Deno.test("UDP checksum: net.inet.udp.checksum=0 sends zero over IPv4 (accepted); IPv6 always sums", () => {
  const { net, seg, a, b } = pair();
  const r4 = b.openUdp(4), r6 = b.openUdp(6);
  r6.setOption("IPV6_V6ONLY", true);
  r4.bind(null, 8080);
  r6.bind(null, 8080);
  const [g4, g6] = [inbox(r4), inbox(r6)];
  const s4 = a.openUdp(4), s6 = a.openUdp(6);
  /** The UDP checksum field of the last frame on the wire. */
  const lastSum = (ipHeader: number) => {
    const f = seg.log[seg.log.length - 1];
    return (f[14 + ipHeader + 6] << 8) | f[14 + ipHeader + 7];
  };
  s4.sendTo(text("a"), "192.0.2.2", 8080);
  net.run();
  const summed = seg.log.length;
  assert.notEqual(lastSumOf(seg.log, 20), 0);
  a.sysctl.set("net.inet.udp.checksum", "0");
  s4.sendTo(text("b"), "192.0.2.2", 8080);
  s6.sendTo(text("c"), "2001:db8::2", 8080);
  net.run();
  assert.ok(seg.log.length > summed);
  assert.equal(lastSumOf(seg.log, 20, 0x0800), 0);
  assert.notEqual(lastSum(40), 0);
  assert.deepEqual(g4.map((g) => g.text), ["a", "b"]);
  assert.deepEqual(g6.map((g) => g.text), ["c"]);
  assert.equal(b.stats.udp.badsum + b.stats.udp6.badsum, 0);
});

/** The UDP checksum of the last UDP frame of `ethertype` (IPv4 by default) in the log. */
function lastSumOf(log: Uint8Array[], ipHeader: number, ethertype = 0x0800): number {
  for (let i = log.length - 1; i >= 0; i--) {
    const f = log[i];
    const type = (f[12] << 8) | f[13];
    const proto = type === 0x0800 ? f[14 + 9] : f[14 + 6];
    if (type === ethertype && proto === 17) {
      return (f[14 + ipHeader + 6] << 8) | f[14 + ipHeader + 7];
    }
  }
  throw new Error("no UDP frame");
}

Deno.test("SO_REUSEPORT unicast goes to one socket, to all with the reuseport_unicast option", () => {
  for (const reuseportUnicast of [false, true]) {
    const { net, a, b } = pair({ reuseportUnicast });
    const r1 = b.openUdp(4), r2 = b.openUdp(4);
    for (const r of [r1, r2]) {
      r.setOption("SO_REUSEPORT", 1);
      r.bind(null, 5555);
    }
    const [g1, g2] = [inbox(r1), inbox(r2)];
    a.openUdp(4).sendTo(text("u"), "192.0.2.2", 5555);
    net.run();
    assert.equal(g1.length + g2.length, reuseportUnicast ? 2 : 1);
  }
});
