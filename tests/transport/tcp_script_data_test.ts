/**
 * Scripted TCP in virtual time: the data phase as a receiver and as a
 * small-write sender. Delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2), Nagle
 * (RFC 9293 §3.7.4) and TCP_NODELAY, immediate duplicate ACKs with SACK
 * blocks for out-of-order data (RFC 2018), the cumulative ACK when a hole
 * fills, D-SACK for duplicates (RFC 2883) and PAWS (RFC 7323 §5).
 */
import assert from "node:assert/strict";
import {
  ack,
  flags,
  payloadLen,
  sackBlocks,
  sentAt,
  seq,
  tcp,
  timestamps,
  window,
} from "../kit/tcp_check.ts";
import { accepted, bytes, drain } from "./tcp_script_common.ts";

const SACK = { options: { mss: 1460, sackPermitted: true } };

Deno.test("delayed ACK: a lone segment is acknowledged after 200 ms (delack_ticks 0)", () => {
  const { ctx, stackSeq, peerSeq } = accepted();
  ctx.send({ flags: "PA", seq: peerSeq, ack: stackSeq, payload: 100, at: 1000 });
  ctx.expectNone(1199);
  ctx.expect(tcp(flags("A"), seq(stackSeq), ack(peerSeq + 100), sentAt(1200)), { by: 2000 });
  assert.equal(ctx.stack.stats.tcp.delack, 1);
});

Deno.test("delayed ACK: net.inet.tcp.delack_ticks sets the delay in 10 ms ticks", () => {
  const { ctx, stackSeq, peerSeq } = accepted({ sysctl: { delack_ticks: 5 } });
  ctx.send({ flags: "PA", seq: peerSeq, ack: stackSeq, payload: 100, at: 1000 });
  ctx.expect(tcp(flags("A"), ack(peerSeq + 100), sentAt(1050)), { by: 2000 });
});

Deno.test("delayed ACK: every second full segment is acknowledged at once", () => {
  const { ctx, stackSeq, peerSeq } = accepted();
  let at = 1000, s = peerSeq;
  for (let i = 0; i < 3; i++) {
    ctx.send({ flags: "A", seq: s, ack: stackSeq, payload: 1460, at });
    ctx.expectNone(at);
    ctx.send({ flags: "A", seq: s + 1460, ack: stackSeq, payload: 1460, at: at + 1 });
    ctx.expect(tcp(flags("A"), ack(s + 2920), sentAt(at + 1)));
    s += 2920;
    at += 10;
  }
  // A fourth lone one waits for the timer again.
  ctx.send({ flags: "A", seq: s, ack: stackSeq, payload: 1460, at });
  ctx.expect(tcp(flags("A"), ack(s + 1460), sentAt(at + 200)), { by: at + 1000 });
});

Deno.test("delayed ACK: data we send carries the ACK and cancels the timer", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted();
  ctx.send({ flags: "PA", seq: peerSeq, ack: stackSeq, payload: 100, at: 1000 });
  ctx.advanceTo(1050);
  conn.write(bytes(10));
  ctx.expect(tcp(flags("PA"), seq(stackSeq), ack(peerSeq + 100), payloadLen(10), sentAt(1050)));
  ctx.expectNone(1300);
});

Deno.test("Nagle: a small write waits while data is in flight and goes with the ACK", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted();
  conn.write(bytes(100));
  ctx.expect(tcp(flags("PA"), seq(stackSeq), payloadLen(100)), { more: false });
  conn.write(bytes(50));
  conn.write(bytes(50));
  ctx.expectNone(40);
  ctx.send({ flags: "A", seq: peerSeq, ack: stackSeq + 100, at: 40 });
  ctx.expect(tcp(flags("PA"), seq(stackSeq + 100), payloadLen(100), sentAt(40)));
  // A full segment is never held back.
  conn.write(bytes(1460));
  ctx.expect(tcp(flags("PA"), seq(stackSeq + 200), payloadLen(1460)));
});

Deno.test("Nagle: with TCP_NODELAY a small write goes at once, data in flight or not", () => {
  const { ctx, conn, stackSeq } = accepted({ setup: (l) => l.setOption("TCP_NODELAY", 1) });
  assert.equal(conn.getOption("TCP_NODELAY"), 1, "inherited from the listener");
  conn.write(bytes(100));
  ctx.expect(tcp(flags("PA"), seq(stackSeq), payloadLen(100)));
  conn.write(bytes(10));
  ctx.expect(tcp(flags("PA"), seq(stackSeq + 100), payloadLen(10)));
});

Deno.test("Nagle: setting TCP_NODELAY sends what Nagle held", () => {
  const { ctx, conn, stackSeq } = accepted();
  conn.write(bytes(100));
  ctx.expect(tcp(payloadLen(100)));
  conn.write(bytes(30));
  ctx.expectNone(ctx.now);
  conn.setOption("TCP_NODELAY", 1);
  ctx.expect(tcp(flags("PA"), seq(stackSeq + 100), payloadLen(30)));
});

Deno.test("out of order: each segment beyond a hole gets an immediate duplicate ACK with SACK blocks, newest first", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted(SACK);
  const p = peerSeq;
  ctx.send({ flags: "A", seq: p + 1000, ack: stackSeq, payload: 1000, at: 100 });
  ctx.expect(tcp(flags("A"), ack(p), sackBlocks([[p + 1000, p + 2000]]), sentAt(100)));
  ctx.send({ flags: "A", seq: p + 3000, ack: stackSeq, payload: 1000, at: 101 });
  ctx.expect(tcp(ack(p), sackBlocks([[p + 3000, p + 4000], [p + 1000, p + 2000]])));
  ctx.send({ flags: "A", seq: p + 5000, ack: stackSeq, payload: 500, at: 102 });
  ctx.expect(
    tcp(ack(p), sackBlocks([[p + 5000, p + 5500], [p + 3000, p + 4000], [p + 1000, p + 2000]])),
  );
  // Adjacent to a block: the block grows and moves first.
  ctx.send({ flags: "A", seq: p + 2000, ack: stackSeq, payload: 500, at: 103 });
  ctx.expect(
    tcp(ack(p), sackBlocks([[p + 1000, p + 2500], [p + 5000, p + 5500], [p + 3000, p + 4000]])),
  );
  assert.equal(conn.readableBytes, 0);
  // Filling the first hole: the cumulative ACK moves at once; the blocks beyond stay.
  ctx.send({ flags: "A", seq: p, ack: stackSeq, payload: 1000, at: 110 });
  ctx.expect(
    tcp(
      flags("A"),
      ack(p + 2500),
      sackBlocks([[p + 5000, p + 5500], [p + 3000, p + 4000]]),
      sentAt(110),
    ),
  );
  assert.equal(drain(conn), 2500);
  ctx.send({ flags: "A", seq: p + 2500, ack: stackSeq, payload: 500, at: 120 });
  ctx.expect(tcp(ack(p + 4000), sackBlocks([[p + 5000, p + 5500]])));
  ctx.send({ flags: "A", seq: p + 4000, ack: stackSeq, payload: 1000, at: 130 });
  ctx.expect(tcp(ack(p + 5500), sackBlocks([]), sentAt(130)));
  assert.equal(drain(conn), 3000);
});

Deno.test("D-SACK: a duplicate below rcv_nxt is named in the first SACK block (RFC 2883)", () => {
  const { ctx, stackSeq, peerSeq } = accepted(SACK);
  const p = peerSeq;
  ctx.send({ flags: "A", seq: p, ack: stackSeq, payload: 1000, at: 100 });
  ctx.send({ flags: "A", seq: p + 1000, ack: stackSeq, payload: 1000, at: 101 });
  ctx.expect(tcp(ack(p + 2000), sackBlocks([])));
  ctx.send({ flags: "A", seq: p + 1000, ack: stackSeq, payload: 1000, at: 102 });
  ctx.expect(tcp(flags("A"), ack(p + 2000), sackBlocks([[p + 1000, p + 2000]]), sentAt(102)));
  // A duplicate of out-of-order data: the D-SACK block, then the block it lies in.
  ctx.send({ flags: "A", seq: p + 3000, ack: stackSeq, payload: 1000, at: 103 });
  ctx.expect(tcp(ack(p + 2000), sackBlocks([[p + 3000, p + 4000]])));
  ctx.send({ flags: "A", seq: p + 3000, ack: stackSeq, payload: 1000, at: 104 });
  ctx.expect(tcp(ack(p + 2000), sackBlocks([[p + 3000, p + 4000], [p + 3000, p + 4000]])));
  // The D-SACK is reported once.
  ctx.send({ flags: "A", seq: p + 5000, ack: stackSeq, payload: 100, at: 105 });
  ctx.expect(tcp(ack(p + 2000), sackBlocks([[p + 5000, p + 5100], [p + 3000, p + 4000]])));
});

Deno.test("D-SACK: a partial duplicate names only the duplicate part", () => {
  const { ctx, stackSeq, peerSeq } = accepted(SACK);
  const p = peerSeq;
  ctx.send({ flags: "A", seq: p, ack: stackSeq, payload: 1000, at: 100 });
  ctx.send({ flags: "A", seq: p + 500, ack: stackSeq, payload: 1000, at: 101 });
  ctx.expect(tcp(ack(p + 1500), sackBlocks([[p + 500, p + 1000]])));
});

Deno.test("PAWS: a segment with an old timestamp is dropped and answered with an ACK", () => {
  const { ctx, conn, stackSeq, peerSeq, tsVal } = accepted({
    options: { mss: 1460, timestamps: [100, 0] },
  });
  // The peer's clock moves on: TS 200 is taken as ts_recent.
  ctx.send({
    flags: "PA",
    seq: peerSeq,
    ack: stackSeq,
    payload: 10,
    options: { timestamps: [200, tsVal] },
    at: 100,
  });
  ctx.expect(tcp(ack(peerSeq + 10), timestamps({ ecr: 200 })), { by: 1000 });
  assert.equal(drain(conn), 10);
  // An old duplicate from before the wrap (TS 150 < 200) with new sequence numbers: dropped.
  ctx.send({
    flags: "PA",
    seq: peerSeq + 10,
    ack: stackSeq,
    payload: 10,
    options: { timestamps: [150, tsVal] },
    at: 1000,
  });
  ctx.expect(tcp(flags("A"), ack(peerSeq + 10), timestamps({ ecr: 200 }), sentAt(1000)));
  assert.equal(conn.readableBytes, 0);
  assert.equal(ctx.stack.stats.tcp.pawsdrop, 1);
  // The same bytes with a current timestamp are taken.
  ctx.send({
    flags: "PA",
    seq: peerSeq + 10,
    ack: stackSeq,
    payload: 10,
    options: { timestamps: [300, tsVal] },
    at: 1001,
  });
  assert.equal(conn.readableBytes, 10);
  ctx.expect(tcp(ack(peerSeq + 20), timestamps({ ecr: 300 })), { by: 2000 });
});

Deno.test("receive buffer full: data beyond the window is cut and acknowledged only up to it", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted({
    setup: (l) => l.setOption("SO_RCVBUF", 4000),
  });
  const p = peerSeq;
  ctx.send({ flags: "A", seq: p, ack: stackSeq, payload: 1460, at: 100 });
  ctx.send({ flags: "A", seq: p + 1460, ack: stackSeq, payload: 1460, at: 101 });
  ctx.expect(tcp(ack(p + 2920), sentAt(101)));
  ctx.send({ flags: "A", seq: p + 2920, ack: stackSeq, payload: 1460, at: 102 });
  ctx.expect(tcp(ack(p + 4000), window(0), sentAt(302)), { by: 1000 });
  assert.equal(conn.readableBytes, 4000);
});
