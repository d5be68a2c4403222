/**
 * Scripted TCP in virtual time: opening connections. Passive and active
 * opens with the options each side offered, simultaneous open, resets for
 * segments nobody owns (RFC 9293 §3.10.7.1), the SYN cache's SYN-ACK
 * retransmissions (NetBSD's 3 s schedule) and connect's SYN retransmissions
 * and timeout.
 */
import assert from "node:assert/strict";
import {
  ack,
  type Checker,
  flags,
  mss,
  noOptions,
  payloadLen,
  runChecks,
  sackPermitted,
  sentAt,
  seq,
  tcp,
  timestamps,
  window,
  wscale,
} from "../kit/tcp_check.ts";
import { TCP_EVENT } from "../../core/transport/tcp/tcb.ts";
import { accepted, bytes, connected, listening, PEER_ISS, script } from "./tcp_script_common.ts";

const ALL = {
  mss: 1460,
  wscale: 7,
  sackPermitted: true,
  timestamps: [100, 0] as [number, number],
};

/** No window-scale option. */
function noWscale(): Checker {
  return (p) => p.tcp!.options.wscale < 0 ? null : "expected no wscale";
}

Deno.test("passive open: the SYN-ACK answers MSS, window scale, SACK-permitted and timestamps as offered", () => {
  const { ctx, listener } = listening();
  ctx.send({ flags: "S", seq: PEER_ISS, options: ALL });
  // MSS from the link (1500 - 40), our shift sized for a 4 MiB auto-tuned buffer, TS echoing 100.
  const sa = ctx.expect(
    tcp(
      flags("SA"),
      ack(PEER_ISS + 1),
      window(32768),
      mss(1460),
      wscale(7),
      sackPermitted(),
      timestamps({ ecr: 100 }),
      payloadLen(0),
    ),
  );
  assert.equal(listener.accept(), null, "no connection before the handshake's ACK");
  const tsVal = sa.tcp!.options.tsVal;
  ctx.send({
    flags: "A",
    seq: PEER_ISS + 1,
    ack: sa.tcp!.seq + 1,
    options: { timestamps: [101, tsVal] },
    at: 10,
  });
  ctx.expectNone(1000);
  const conn = listener.accept()!;
  assert.equal(conn.state, "ESTABLISHED");
  // Data from the peer: the ACK's window is scaled by 7 and the timestamp echoes the peer's.
  ctx.send({
    flags: "PA",
    seq: PEER_ISS + 1,
    ack: sa.tcp!.seq + 1,
    payload: 100,
    options: { timestamps: [102, tsVal] },
  });
  ctx.expect(
    tcp(
      flags("A"),
      ack(PEER_ISS + 101),
      window((32768 - 100) >> 7),
      timestamps({ ecr: 102 }),
      sentAt(1200), // a lone segment waits for the delayed ACK: the SYN-ACK's window still holds
    ),
    { by: ctx.now + 500 },
  );
});

Deno.test("passive open: options absent from the SYN are absent from the SYN-ACK; no MSS means 536", () => {
  const { ctx, listener } = listening();
  ctx.send({ flags: "S", seq: PEER_ISS, window: 8192 });
  const sa = ctx.expect(
    tcp(flags("SA"), mss(1460), noWscale(), sackPermitted(false), timestamps(false)),
  );
  ctx.send({ flags: "A", seq: PEER_ISS + 1, ack: sa.tcp!.seq + 1, window: 8192, at: 5 });
  const conn = listener.accept()!;
  // Unscaled windows both ways, no options on data; segments of the default 536 bytes.
  conn.setOption("TCP_NODELAY", 1);
  assert.equal(conn.write(bytes(1000)), 1000);
  ctx.expect(tcp(flags("A"), seq(sa.tcp!.seq + 1), payloadLen(536), noOptions(), window(32768)), {
    more: true,
  });
  ctx.expect(tcp(flags("PA"), seq(sa.tcp!.seq + 537), payloadLen(464), noOptions()));
});

Deno.test("passive open: a smaller peer MSS bounds our segments; window scale alone is answered alone", () => {
  const { ctx, listener } = listening();
  ctx.send({ flags: "S", seq: PEER_ISS, options: { mss: 1000, wscale: 2 } });
  const sa = ctx.expect(
    tcp(flags("SA"), mss(1460), wscale(7), sackPermitted(false), timestamps(false)),
  );
  // Their window of 1000 << 2 = 4000 bytes.
  ctx.send({ flags: "A", seq: PEER_ISS + 1, ack: sa.tcp!.seq + 1, window: 1000, at: 5 });
  const conn = listener.accept()!;
  conn.write(bytes(5000));
  const iss = sa.tcp!.seq;
  ctx.expect(tcp(seq(iss + 1), payloadLen(1000)), { more: true });
  ctx.expect(tcp(seq(iss + 1001), payloadLen(1000)), { more: true });
  // The initial congestion window (RFC 3390 for 1000 bytes: 4 segments) and the 4000-byte window agree.
  ctx.expect(tcp(seq(iss + 2001), payloadLen(1000)), { more: true });
  ctx.expect(tcp(seq(iss + 3001), payloadLen(1000)));
  ctx.expectNone(ctx.now + 100);
});

Deno.test("active open: the SYN offers our options; the SYN-ACK is acknowledged and connect completes", () => {
  const ctx = script();
  const conn = ctx.stack.openTcp(4);
  let events = 0;
  conn.onEvent = (e) => events |= e;
  conn.connect(ctx.peerAddr, ctx.peerPort);
  ctx.advance(0); // the ARP answer comes back
  assert.equal(conn.state, "SYN_SENT");
  const syn = ctx.expect(
    tcp(
      flags("S"),
      window(32768),
      mss(1460),
      wscale(7),
      sackPermitted(),
      timestamps({ ecr: 0 }),
      payloadLen(0),
    ),
  ).tcp!;
  assert.equal(syn.dstPort, ctx.peerPort);
  ctx.send({
    flags: "SA",
    seq: 5000,
    ack: syn.seq + 1,
    dstPort: syn.srcPort,
    options: { mss: 1400, wscale: 3, sackPermitted: true, timestamps: [77, syn.options.tsVal] },
    at: 30,
  });
  ctx.expect(
    tcp(flags("A"), seq(syn.seq + 1), ack(5001), window(32768 >> 7), timestamps({ ecr: 77 })),
  );
  assert.equal(conn.state, "ESTABLISHED");
  assert.ok(events & TCP_EVENT.CONNECTED);
  // Their MSS 1400 less the 12 bytes of the timestamp option.
  conn.write(bytes(3000));
  ctx.expect(tcp(seq(syn.seq + 1), payloadLen(1388)), { more: true });
});

Deno.test("active open: a SYN-ACK without window scale leaves our windows unscaled", () => {
  const { ctx, conn, stackSeq } = connected({ options: { mss: 1460 } });
  assert.equal(conn.state, "ESTABLISHED");
  ctx.send({ flags: "PA", seq: PEER_ISS + 1, ack: stackSeq, payload: 10, at: 20 });
  ctx.expect(tcp(flags("A"), ack(PEER_ISS + 11), window(32768 - 10), noOptions()), { by: 1000 });
});

Deno.test("simultaneous open: crossing SYNs, a SYN-ACK from us, the peer's ACK establishes", () => {
  const ctx = script();
  const conn = ctx.stack.openTcp(4);
  let events = 0;
  conn.onEvent = (e) => events |= e;
  conn.bind("0.0.0.0", 80);
  conn.connect(ctx.peerAddr, ctx.peerPort);
  ctx.advance(0); // the ARP answer comes back
  const iss = ctx.expect(tcp(flags("S"))).tcp!.seq;
  // The peer's own SYN crosses ours.
  ctx.send({ flags: "S", seq: PEER_ISS, options: { mss: 1460 }, at: 5 });
  ctx.expect(tcp(flags("SA"), seq(iss), ack(PEER_ISS + 1), mss(1460)));
  assert.equal(conn.state, "SYN_RCVD");
  ctx.send({ flags: "A", seq: PEER_ISS + 1, ack: iss + 1, at: 10 });
  ctx.expectNone(2000);
  assert.equal(conn.state, "ESTABLISHED");
  assert.ok(events & TCP_EVENT.CONNECTED);
  conn.write(bytes(10));
  ctx.expect(tcp(flags("PA"), seq(iss + 1), ack(PEER_ISS + 1), payloadLen(10)));
});

Deno.test("closed port: RST as RFC 9293 §3.10.7.1 says, by whether the segment carried an ACK", () => {
  const ctx = script();
  // No ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, the SYN counting one.
  ctx.send({ flags: "S", seq: PEER_ISS, options: ALL });
  ctx.expect(tcp(flags("RA"), seq(0), ack(PEER_ISS + 1), window(0), noOptions()));
  ctx.send({ flags: "P", seq: 7, payload: 20, at: 1 });
  ctx.expect(tcp(flags("RA"), seq(0), ack(27)));
  ctx.send({ flags: "F", seq: 50, payload: 5, at: 2 });
  ctx.expect(tcp(flags("RA"), seq(0), ack(56)));
  // ACK: <SEQ=SEG.ACK><CTL=RST>.
  ctx.send({ flags: "A", seq: 9, ack: 123456, at: 3 });
  ctx.expect(tcp(flags("R"), seq(123456)));
  ctx.send({ flags: "PA", seq: 9, ack: 0xfffffff0, payload: 3, at: 4 });
  ctx.expect(tcp(flags("R"), seq(0xfffffff0)));
  // A reset is never answered.
  ctx.send({ flags: "R", seq: 1, at: 5 });
  ctx.send({ flags: "RA", seq: 1, ack: 2, at: 6 });
  ctx.expectNone(1000);
  assert.equal(ctx.stack.stats.tcp.noport, 7);
});

Deno.test("listener: an ACK matching no SYN cache entry (and no cookie) is answered by RST", () => {
  const { ctx } = listening();
  ctx.send({ flags: "A", seq: PEER_ISS + 1, ack: 424242 });
  ctx.expect(tcp(flags("R"), seq(424242)));
  // A SYN-ACK to a listener is refused the same way.
  ctx.send({ flags: "SA", seq: PEER_ISS, ack: 777, at: 1 });
  ctx.expect(tcp(flags("R"), seq(777)));
  // A bare segment with neither SYN nor ACK is dropped silently.
  ctx.send({ flags: "P", seq: PEER_ISS, payload: 3, at: 2 });
  ctx.expectNone(100);
});

Deno.test("SYN cache: the SYN-ACK is resent at 3, 9, 21 and 45 s (NetBSD's backoff), then the entry expires", () => {
  const { ctx, listener } = listening();
  ctx.send({ flags: "S", seq: PEER_ISS, options: { mss: 1460 } });
  const iss = ctx.expect(tcp(flags("SA"), sentAt(0))).tcp!.seq;
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    if (ctx.seen.length === 0) ctx.advanceTo(Math.min(ctx.now + 100_000, 200_000));
    const p = ctx.seen.shift();
    if (p === undefined) break;
    assert.equal(runChecks(p, [tcp(flags("SA"), seq(iss), ack(PEER_ISS + 1), mss(1460))]), null);
    times.push(p.at);
    if (ctx.now >= 200_000) break;
  }
  assert.deepEqual(times, [3000, 9000, 21000, 45000]);
  assert.equal(ctx.stack.stats.tcp.sc_retransmitted, 4);
  assert.equal(ctx.stack.stats.tcp.sc_timed_out, 1);
  // Expired at 75 s: the late ACK finds nothing and is refused.
  ctx.send({ flags: "A", seq: PEER_ISS + 1, ack: iss + 1 });
  ctx.expect(tcp(flags("R"), seq(iss + 1)));
  assert.equal(listener.accept(), null);
});

Deno.test("SYN cache: a retransmitted SYN gets the same SYN-ACK at once; the ACK then completes", () => {
  const { ctx, listener } = listening();
  ctx.send({ flags: "S", seq: PEER_ISS, options: { mss: 1460 } });
  const iss = ctx.expect(tcp(flags("SA"))).tcp!.seq;
  ctx.send({ flags: "S", seq: PEER_ISS, options: { mss: 1460 }, at: 1000 });
  ctx.expect(tcp(flags("SA"), seq(iss), ack(PEER_ISS + 1), sentAt(1000)));
  assert.equal(ctx.stack.stats.tcp.sc_dupesyn, 1);
  ctx.send({ flags: "A", seq: PEER_ISS + 1, ack: iss + 1, at: 1010 });
  ctx.expectNone(5000);
  assert.equal(listener.accept()!.state, "ESTABLISHED");
  assert.equal(ctx.stack.stats.tcp.sc_completed, 1);
});

Deno.test("connect: the SYN is resent with exponential backoff from a 1 s RTO, then ETIMEDOUT at keepinit", () => {
  const ctx = script();
  const conn = ctx.stack.openTcp(4);
  conn.connect(ctx.peerAddr, ctx.peerPort);
  ctx.advance(0); // the ARP answer comes back
  const iss = ctx.expect(tcp(flags("S"), sentAt(0))).tcp!.seq;
  const times: number[] = [];
  for (const at of [1000, 3000, 7000, 15000, 31000, 63000]) {
    const p = ctx.expect(tcp(flags("S"), seq(iss), mss(1460)), { by: at + 1 });
    times.push(p.at);
  }
  assert.deepEqual(times, [1000, 3000, 7000, 15000, 31000, 63000]);
  // keepinit (150 half-seconds = 75 s) ends it first, silently (nothing was synchronized).
  ctx.expectNone(75_000);
  assert.equal(conn.state, "CLOSED");
  assert.throws(
    () => conn.read(new Uint8Array(1)),
    (e: { code?: string }) => e.code === "ETIMEDOUT",
  );
  ctx.expectNone(200_000);
});

Deno.test("connect: with a long keepinit, six SYN retransmissions and then ETIMEDOUT", () => {
  const ctx = script({ sysctl: { keepinit: 1000 } });
  const conn = ctx.stack.openTcp(4);
  let events = 0;
  conn.onEvent = (e) => events |= e;
  conn.connect(ctx.peerAddr, ctx.peerPort);
  ctx.advance(0); // the ARP answer comes back
  ctx.expect(tcp(flags("S")));
  let count = 0;
  for (let i = 0; i < 10; i++) {
    ctx.advanceTo(ctx.now + 70_000);
    count += ctx.seen.length;
    ctx.seen.length = 0;
  }
  assert.equal(count, 6);
  assert.equal(conn.state, "CLOSED");
  assert.ok(events & TCP_EVENT.ERROR);
  assert.equal(conn.error, "ETIMEDOUT");
});

Deno.test("connect: a RST acknowledging our SYN refuses the connection; one not acknowledging it is ignored", () => {
  const ctx = script();
  const conn = ctx.stack.openTcp(4);
  conn.bind("0.0.0.0", 80);
  conn.connect(ctx.peerAddr, ctx.peerPort);
  ctx.advance(0); // the ARP answer comes back
  const iss = ctx.expect(tcp(flags("S"))).tcp!.seq;
  ctx.send({ flags: "R", seq: 0, at: 5 });
  ctx.send({ flags: "RA", seq: 0, ack: iss + 7, at: 6 });
  ctx.expectNone(10);
  assert.equal(conn.state, "SYN_SENT");
  // An ACK of something never sent: a RST at that number (RFC 9293 §3.10.7.3).
  ctx.send({ flags: "A", seq: 0, ack: iss + 7, at: 11 });
  ctx.expect(tcp(flags("R"), seq(iss + 7)));
  ctx.send({ flags: "RA", seq: 0, ack: iss + 1, at: 20 });
  ctx.expectNone(5000);
  assert.equal(conn.state, "CLOSED");
  assert.equal(conn.error, "ECONNREFUSED");
});

Deno.test("IPv6: passive open advertises MSS 1440 (1500 - 60) and the connection carries data", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted({ family: 6, options: { mss: 1440 } });
  assert.equal(conn.state, "ESTABLISHED");
  conn.setOption("TCP_NODELAY", 1);
  conn.write(bytes(2000));
  ctx.expect(tcp(seq(stackSeq), ack(peerSeq), payloadLen(1440)), { more: true });
  ctx.expect(tcp(flags("PA"), seq(stackSeq + 1440), payloadLen(560)));
});

Deno.test("IPv6: the SYN-ACK's MSS is the link's 1500 less 60 bytes of headers", () => {
  const { ctx } = listening({ family: 6 });
  ctx.send({ flags: "S", seq: PEER_ISS, options: { mss: 1440 } });
  ctx.expect(tcp(flags("SA"), ack(PEER_ISS + 1), mss(1440)));
  // A closed port answers as in IPv4.
  ctx.send({ flags: "S", seq: PEER_ISS, dstPort: 81, at: 1 });
  ctx.expect(tcp(flags("RA"), seq(0), ack(PEER_ISS + 1)));
});
