/**
 * The TCP test kit tested on its own: the scripted peer (tests/kit/tcp_script.ts)
 * against what the stack does today, with ICMP and UDP as stand-ins where TCP
 * has no answer yet; the checkers' verdicts and messages (tests/kit/tcp_check.ts);
 * the faulty link's arithmetic and statistics (tests/kit/link_faults.ts).
 */
import assert from "node:assert/strict";
import { TcpScript } from "../kit/tcp_script.ts";
import {
  ack,
  type DecodedPacket,
  decodeIpPacket,
  dst,
  flags,
  flagsInclude,
  icmp,
  ipv4,
  ipv6,
  mss,
  noOptions,
  payload,
  payloadLen,
  runChecks,
  sackBlocks,
  sackPermitted,
  sentAt,
  seq,
  src,
  tcp,
  timestamps,
  ttl,
  window,
  wscale,
} from "../kit/tcp_check.ts";
import { FaultyLink, Pipe } from "../kit/link_faults.ts";
import { ETHER_HEADER_LEN } from "../../core/wire/ethernet.ts";
import { emitIpv4Header, IPPROTO } from "../../core/wire/ipv4.ts";
import { parseIp4 } from "../../core/net/ip_addr.ts";
import type { Stack } from "../../core/stack.ts";

/** Whether the TCP engine has landed in this tree. */
function hasTcp(stack: Stack): boolean {
  return typeof (stack as unknown as Record<string, unknown>).openTcp === "function";
}

/** The frames the peer injected, decoded (ARP and ND answers left out). */
function injected(ctx: TcpScript): DecodedPacket[] {
  return ctx.log.filter((e) => e.dir === "in")
    .map((e) => decodeIpPacket(e.frame, ETHER_HEADER_LEN, e.frame.length - ETHER_HEADER_LEN, e.at))
    .filter((p): p is DecodedPacket => p !== null && p.tcp !== null);
}

const SYN_OPTIONS = {
  mss: 1460,
  wscale: 7,
  sackPermitted: true,
  timestamps: [1, 0] as [number, number],
};

Deno.test("scripted peer, IPv4: a SYN to a closed port is refused (ICMP before the engine, RST after); ARP answered", () => {
  const ctx = new TcpScript({ family: 4, see: "ip" });
  ctx.send({ flags: "S", seq: 1000, options: SYN_OPTIONS });
  if (hasTcp(ctx.stack)) {
    ctx.expect(ipv4(src("192.0.2.1"), dst("192.0.2.2"), tcp(flags("RA"), seq(0), ack(1001))));
  } else {
    // Protocol unreachable, quoting our header: the sequence number sits 4 bytes into the quoted TCP.
    const p = ctx.expect(ipv4(src("192.0.2.1"), dst("192.0.2.2"), ttl(64), icmp(3, 2)));
    const quotedTcp = 20 + 8 + 20;
    assert.deepEqual([...p.ip.subarray(quotedTcp + 4, quotedTcp + 8)], [0, 0, 0x03, 0xe8]);
  }
  assert.equal(ctx.resolved, 1, "the stack's ARP request for the peer was answered");
  ctx.expectNone(5000);
  assert.equal(ctx.now, 5000);
});

Deno.test("scripted peer, IPv6: a SYN is refused (ICMPv6 before the engine, RST after); ND answered", () => {
  const ctx = new TcpScript({ family: 6, see: "ip" });
  ctx.send({ flags: "S", seq: 7, options: SYN_OPTIONS, at: 3 });
  if (hasTcp(ctx.stack)) {
    ctx.expect(ipv6(src("2001:db8::1"), tcp(flags("RA"), ack(8))));
  } else {
    // Parameter problem, unrecognised next header, pointing at the next-header byte (6).
    const p = ctx.expect(ipv6(src("2001:db8::1"), dst("2001:db8::2"), icmp(4, 1)));
    assert.equal(p.at, 3);
    assert.deepEqual([...p.ip.subarray(44, 48)], [0, 0, 0, 6]);
  }
  assert.equal(ctx.resolved, 1, "the stack's Neighbor Solicitation for the peer was answered");
  ctx.expectNone(1000);
});

Deno.test("scripted peer: what send builds is well formed, checksums right, options as asked", () => {
  for (const family of [4, 6] as const) {
    const ctx = new TcpScript({ family });
    ctx.send({ flags: "S", seq: 0xfffffff0, window: 29200, options: SYN_OPTIONS });
    ctx.send({
      flags: "PA",
      seq: 5,
      ack: 9,
      payload: "hello",
      options: { timestamps: [10, 20], sack: [[100, 200], [300, 400]] },
      at: 1,
    });
    ctx.send({ flags: "A", seq: 10, ack: 9, payload: 1460, at: 2, srcPort: 1234, dstPort: 22 });
    const [syn, data, full] = injected(ctx);
    const net = family === 4 ? ipv4 : ipv6;
    const none = runChecks(syn, [
      net(
        src(ctx.peerAddr),
        dst(ctx.stackAddr),
        ttl(64),
        tcp(
          flags("S"),
          seq(0xfffffff0),
          window(29200),
          mss(1460),
          wscale(7),
          sackPermitted(),
          timestamps({ val: 1, ecr: 0 }),
          payloadLen(0),
        ),
      ),
    ]);
    assert.equal(none, null);
    assert.equal(
      runChecks(data, [
        tcp(
          flags("PA"),
          ack(9),
          payload("hello"),
          sackBlocks([[100, 200], [300, 400]]),
          timestamps({ ecr: 20 }),
          sackPermitted(false),
        ),
      ]),
      null,
    );
    assert.equal(runChecks(full, [tcp(noOptions(), payloadLen(1460))]), null);
    assert.deepEqual([full.tcp!.srcPort, full.tcp!.dstPort, full.tcp!.payload[1459]], [
      1234,
      22,
      1459 & 0xff,
    ]);
    assert.equal(full.at, 2);
  }
});

Deno.test("checkers: a failure names what was expected and prints the whole segment on one line", () => {
  const ctx = new TcpScript({ family: 4 });
  ctx.send({ flags: "S", seq: 1000, options: SYN_OPTIONS });
  ctx.send({ flags: "A", seq: 1001, ack: 1, options: new Uint8Array([1, 1, 8, 10]), at: 1 });
  ctx.send({ flags: "A", seq: 1001, ack: 1, badChecksum: true, at: 2 });
  const [syn, badOpts, badSum] = injected(ctx);
  const line = "192.0.2.2.40000 > 192.0.2.1.80: Flags [S], seq 1000, ack 0, win 65535, len 0, " +
    "options [mss 1460,sackOK,TS val 1 ecr 0,wscale 7] (ttl 64, t=0)";
  assert.equal(runChecks(syn, [tcp(ack(5))]), `expected ack 5: ${line}`);
  assert.equal(runChecks(syn, [tcp(flags("SA"))]), `expected flags [S.]: ${line}`);
  assert.equal(runChecks(syn, [tcp(wscale(8))]), `expected wscale 8: ${line}`);
  assert.equal(runChecks(syn, [ipv6(tcp())]), `expected IPv6: ${line}`);
  assert.equal(runChecks(syn, [tcp(noOptions())]), `expected no options: ${line}`);
  assert.match(
    runChecks(badOpts, [tcp()])!,
    /^malformed options \(truncated\): .*options error truncated/,
  );
  assert.match(runChecks(badSum, [tcp()])!, /^bad TCP checksum: .*BAD TCP CHECKSUM/);
});

Deno.test("scripted peer: expect wants exactly one packet, expectNone none, both say what came", () => {
  const ctx = new TcpScript({ family: 4, see: "ip" });
  assert.throws(() => ctx.expect(icmp(3)), /expected a packet by t=0, none came/);
  // Two datagrams to closed ports at one instant: two port unreachables.
  ctx.sendUdp(7, new Uint8Array(4), { at: 10 });
  ctx.sendUdp(8, new Uint8Array(4));
  assert.throws(
    () => ctx.expectNone(),
    /expected nothing by t=10, got: IPv4 192.0.2.1 > 192.0.2.2: proto 1, ICMP type 3 code 3/,
  );
  assert.throws(() => ctx.expect(icmp(3, 3)), /expected one packet at t=10, also got: IPv4/);
  ctx.expect(icmp(3, 3)); // the second, taken alone
  ctx.sendUdp(9, new Uint8Array(4), { at: 20 });
  ctx.sendUdp(10, new Uint8Array(4));
  ctx.expect(icmp(3, 3), { more: true });
  ctx.expect(icmp(3, 3));
  assert.throws(() => ctx.expect(icmp(3, 2)), /none came/);
  // The default view is TCP only: ICMP is set aside and named when nothing else came.
  const quiet = new TcpScript({ family: 4 });
  quiet.sendUdp(7, new Uint8Array(4));
  assert.throws(
    () => quiet.expect(tcp(), { by: 50 }),
    /none came \(set aside: t=0 IPv4 .*ICMP type 3 code 3/,
  );
  assert.equal(quiet.now, 50);
});

Deno.test("scripted peer: UDP stand-in, checksum right delivered, spoilt dropped silently", () => {
  const ctx = new TcpScript({ family: 6, see: "ip" });
  const sock = ctx.stack.openUdp(6);
  sock.bind(null, 53);
  ctx.sendUdp(53, new TextEncoder().encode("query"));
  assert.equal(new TextDecoder().decode(sock.receive()!), "query");
  ctx.expectNone(10);
  ctx.sendIp(IPPROTO.UDP, new Uint8Array([0x9c, 0x40, 0, 54, 0, 9, 0x12, 0x34, 0]), { at: 20 });
  ctx.expectNone(100);
  assert.equal(ctx.stack.stats.udp6.badsum, 1);
});

Deno.test("scripted peer: time advances through the stack's timers and stops when something comes out", () => {
  const ctx = new TcpScript({ family: 4, see: "ip" });
  // A lone first fragment: after the reassembly timeout, "time exceeded in reassembly".
  const frag = new Uint8Array(20 + 16);
  emitIpv4Header(frag, 0, {
    tos: 0,
    totalLength: frag.length,
    id: 77,
    df: false,
    mf: true,
    fragOffset: 0,
    ttl: 64,
    protocol: IPPROTO.UDP,
    src: parseIp4("192.0.2.2")!,
    dst: parseIp4("192.0.2.1")!,
  });
  ctx.sendPacket(frag, { at: 100 });
  ctx.expectNone(10_000);
  const p = ctx.expect(icmp(11, 1), { by: 120_000 });
  assert.ok(p.at > 10_000 && p.at <= 120_000, `sent at ${p.at}`);
  assert.equal(ctx.now, p.at, "time stopped where the packet came out");
  assert.throws(() => ctx.advanceTo(p.at - 1), /cannot go back in time/);
});

Deno.test({
  name:
    "scripted peer with the engine: passive open, a byte stream each way, close (both families)",
  ignore: !hasTcp(new TcpScript().stack),
  fn() {
    for (const family of [4, 6] as const) {
      const ctx = new TcpScript({ family });
      const listener = ctx.stack.openTcp(family);
      listener.bind(null, 80);
      listener.listen(8);
      ctx.send({ flags: "S", seq: 1000, options: SYN_OPTIONS });
      const synAck = ctx.expect(
        tcp(
          flags("SA"),
          ack(1001),
          mss(family === 4 ? 1460 : 1440),
          sackPermitted(),
          timestamps({ ecr: 1 }),
        ),
      );
      const iss = synAck.tcp!.seq, ts = synAck.tcp!.options.tsVal;
      ctx.send({ flags: "A", seq: 1001, ack: iss + 1, options: { timestamps: [2, ts] }, at: 10 });
      ctx.expectNone(20);
      const conn = listener.accept()!;
      assert.equal(conn.state, "ESTABLISHED");

      ctx.send({
        flags: "PA",
        seq: 1001,
        ack: iss + 1,
        payload: "hello",
        options: { timestamps: [3, ts] },
      });
      ctx.expect(tcp(flags("A"), seq(iss + 1), ack(1006), payloadLen(0)), { by: 500 });
      const buf = new Uint8Array(16);
      assert.equal(new TextDecoder().decode(buf.subarray(0, conn.read(buf))), "hello");
      conn.write(new TextEncoder().encode("world"));
      ctx.expect(tcp(flagsInclude("A"), seq(iss + 1), ack(1006), payload("world")));

      // The FIN acknowledges "world" too, before the retransmission timer runs out.
      ctx.send({ flags: "FA", seq: 1006, ack: iss + 6, options: { timestamps: [4, ts] }, at: 300 });
      ctx.expect(tcp(flags("A"), seq(iss + 6), ack(1007)), { by: 1000 });
      assert.equal(conn.read(buf), -1, "end of stream");
      conn.close();
      ctx.expect(tcp(flags("FA"), seq(iss + 6), ack(1007)));
      ctx.send({ flags: "A", seq: 1007, ack: iss + 7, options: { timestamps: [5, ts] }, at: 350 });
      ctx.expectNone(5000);
      assert.equal(conn.state, "CLOSED");
    }
  },
});

Deno.test({
  name:
    "scripted peer with the engine: an unanswered SYN is sent again after 1, 2, 4 s (expect waits through the timers)",
  ignore: !hasTcp(new TcpScript().stack),
  fn() {
    const ctx = new TcpScript({ family: 4 });
    const client = ctx.stack.openTcp(4);
    client.connect(ctx.peerAddr, 80);
    const syn = ctx.expect(
      ipv4(src("192.0.2.1"), dst("192.0.2.2"), tcp(flags("S"), sentAt(0))),
    );
    for (const t of [1000, 3000, 7000]) {
      ctx.expect(tcp(flags("S"), seq(syn.tcp!.seq), sentAt(t)), { by: 10_000 });
    }
    // The peer answers at last: the handshake completes with an ACK of its SYN.
    ctx.send({
      flags: "SA",
      seq: 5000,
      ack: syn.tcp!.seq + 1,
      dstPort: syn.tcp!.srcPort,
      srcPort: 80,
      at: 7500,
    });
    ctx.expect(tcp(flags("A"), seq(syn.tcp!.seq + 1), ack(5001)));
    assert.equal(client.state, "ESTABLISHED");
  },
});

// ---------------------------------------------------------------------------
// The faulty link

/** Offers `n` frames of `len` bytes (numbered in their first 4 bytes) at `atNs`, one per `gapNs`. */
function feed(
  pipe: Pipe,
  n: number,
  len: number,
  gapNs: number,
  sink: (id: number, ns: number) => void,
) {
  const frame = new Uint8Array(len);
  let now = 0;
  const deliverTo = (upTo: number) => {
    for (let due = pipe.nextDue(); due <= upTo && due < Infinity; due = pipe.nextDue()) {
      pipe.deliver(due, (b, at) => sink(new DataView(b.buffer, b.byteOffset).getUint32(at), due));
    }
  };
  for (let i = 0; i < n; i++) {
    deliverTo(now);
    new DataView(frame.buffer).setUint32(0, i);
    pipe.offer(frame, 0, len, now);
    now += gapNs;
  }
  deliverTo(Infinity);
}

Deno.test("faulty link: serialisation and delay are exact, drop-tail holds the queue limit", () => {
  const pipe = new Pipe({ rate: 125e6, delayMs: 5, faultsOn: "all" }, 1); // 1 Gbit/s: 1500 bytes in 12 µs
  const arrivals: number[] = [];
  feed(pipe, 10, 1500, 0, (_id, ns) => arrivals.push(ns));
  assert.deepEqual(arrivals, Array.from({ length: 10 }, (_, k) => 5_000_000 + (k + 1) * 12_000));
  assert.equal(pipe.counters.maxQueueBytes, 15_000);

  const q = new Pipe({ rate: 125e6, queueBytes: 4500, faultsOn: "all" }, 1);
  const frame = new Uint8Array(1500);
  for (let i = 0; i < 10; i++) q.offer(frame, 0, 1500, 0);
  assert.deepEqual([q.counters.queueDrops, q.queuedBytes(0)], [7, 4500]);
  assert.equal(q.queuedBytes(11_999), 4500, "the first frame is still being sent");
  assert.equal(q.queuedBytes(12_000), 3000);
  q.offer(frame, 0, 1500, 12_000);
  assert.deepEqual([q.counters.queueDrops, q.queuedBytes(12_000)], [7, 4500]);
  const got: number[] = [];
  q.deliver(48_000, (_b, _at, len) => got.push(len));
  assert.deepEqual(got, [1500, 1500, 1500, 1500], "the last arrives at 4 x 12 µs");
});

Deno.test("faulty link: loss and duplication rates over 100 000 frames, deterministic by seed", () => {
  const run = (seed: number) => {
    const pipe = new Pipe({ loss: 0.01, duplicate: 0.02, faultsOn: "all" }, seed);
    let got = 0;
    feed(pipe, 100_000, 64, 1000, () => got++);
    return { ...pipe.counters, got };
  };
  const a = run(42);
  // Binomial(100 000, 0.01): mean 1000, sd 31.5; (0.99 x 100 000) x 0.02: mean 1980, sd 44.
  assert.ok(a.lost > 850 && a.lost < 1150, `lost ${a.lost}`);
  assert.ok(a.duplicated > 1780 && a.duplicated < 2180, `duplicated ${a.duplicated}`);
  assert.equal(a.got, a.delivered);
  assert.equal(a.delivered, a.offered - a.lost + a.duplicated);
  assert.deepEqual(run(42), a, "same seed, same run");
  assert.notEqual(run(43).lost, a.lost);
});

Deno.test("faulty link: reordering holds a frame back by N frames or by N ms", () => {
  const byFrames = new Pipe({ reorder: 0.03, reorderPackets: 3, faultsOn: "all" }, 9);
  const order: number[] = [];
  feed(byFrames, 100_000, 64, 1000, (id) => order.push(id));
  const c = byFrames.counters;
  assert.ok(c.reordered > 2700 && c.reordered < 3300, `reordered ${c.reordered}`);
  assert.equal(order.length, 100_000);
  assert.deepEqual(
    [...order].sort((x, y) => x - y),
    order.map((_, i) => i),
    "none lost or repeated",
  );
  // A held frame lets exactly 3 later ones pass, unless another held one is among them.
  let late = 0, exact = 0;
  for (let i = 0; i < order.length; i++) {
    if (order[i] < i) {
      late++;
      if (order.slice(i - 3, i).every((x) => x > order[i])) exact++;
    }
  }
  assert.ok(late >= c.reordered * 0.9 && exact >= c.reordered * 0.8, `late ${late} exact ${exact}`);

  const byTime = new Pipe({ delayMs: 1, reorder: 0.5, reorderDelayMs: 2, faultsOn: "all" }, 3);
  const seen: [number, number][] = [];
  feed(byTime, 1000, 64, 100_000, (id, ns) => seen.push([id, ns]));
  for (const [id, ns] of seen) {
    const sent = id * 100_000;
    assert.ok(ns === sent + 1_000_000 || ns === sent + 3_000_000, `frame ${id} at ${ns}`);
  }
  const held = seen.filter(([id, ns]) => ns === id * 100_000 + 3_000_000).length;
  assert.equal(held, byTime.counters.reordered);
});

Deno.test("faulty link between two stacks: a UDP echo's round trip is 2 x (delay + serialisation), exactly", () => {
  const link = new FaultyLink({ seed: 5, both: { rate: 125e6, delayMs: 5 } });
  const echo = link.b.openUdp(4);
  echo.bind("192.0.2.2", 7);
  echo.onReadable = () => {
    for (let d = echo.receive(); d !== null; d = echo.receive()) echo.sendTo(d, "192.0.2.1", 7000);
  };
  const client = link.a.openUdp(4);
  client.bind("192.0.2.1", 7000);
  let backNs = -1;
  client.onReadable = () => {
    if (client.receive() !== null) backNs = link.nowNs;
  };
  const t0 = link.nowNs;
  client.sendTo(new Uint8Array(100), "192.0.2.2", 7); // 142 bytes on the wire: 1136 ns at 1 Gbit/s
  assert.ok(link.runUntil(() => backNs >= 0, link.now + 100));
  assert.equal(backNs - t0, 2 * (5_000_000 + 1136));
  assert.deepEqual([link.ab.counters.delivered, link.ba.counters.delivered], [1, 1]);
});

Deno.test("faulty link between two stacks: UDP under loss, what arrives is what the link delivered", () => {
  const link = new FaultyLink({
    seed: 11,
    both: { rate: 12.5e6, delayMs: 1, queueBytes: 30_000 },
    ab: { loss: 0.05 },
  });
  const rx = link.b.openUdp(6);
  rx.bind(null, 9);
  let got = 0;
  rx.onReadable = () => {
    while (rx.receive() !== null) got++;
  };
  const tx = link.a.openUdp(6);
  const data = new Uint8Array(1000);
  for (let ms = 0; ms < 100; ms++) {
    for (let i = 0; i < 20; i++) tx.sendTo(data, "2001:db8::2", 9); // 20 per ms: twice the line rate
    link.run(link.now + 1);
  }
  link.run(link.now + 100);
  const c = link.ab.counters;
  assert.equal(c.offered, 2000);
  assert.equal(got, c.delivered);
  assert.equal(c.offered, c.delivered + c.lost + c.queueDrops);
  assert.ok(c.lost > 50 && c.lost < 150, `lost ${c.lost}`);
  assert.ok(c.queueDrops > 500, `queue drops ${c.queueDrops}`);
  assert.ok(c.maxQueueBytes <= 30_000);
  // 100 ms at 12.5 MB/s carry 1 250 000 bytes: 1062 bytes a frame, at most ~1177 frames, plus the tail.
  assert.ok(c.delivered <= 1200, `delivered ${c.delivered}`);
});
