/**
 * Scripted TCP in virtual time: flow control. A zero window and its persist
 * probes (one byte, paced by the persist timer between 5 and 60 s, never
 * timed out while the peer answers: RFC 9293 §3.8.6.1), the window update
 * that resumes sending, window scaling applied both ways (RFC 7323 §2), and
 * the advertised right edge never moving left.
 */
import assert from "node:assert/strict";
import { ack, flags, payloadLen, sentAt, seq, tcp, window } from "../kit/tcp_check.ts";
import { accepted, bytes } from "./tcp_script_common.ts";

/**
 * The peer offers 4000 bytes; we write 10 000: two segments go (a segment
 * never exceeds half the largest window offered), the rest waits. The peer
 * acknowledges both at t=100 (RTT 90 ms) and closes its window.
 */
function zeroWindow() {
  const o = accepted({ window: 4000 });
  const { ctx, conn, stackSeq: s, peerSeq: p } = o;
  conn.write(bytes(10_000));
  ctx.expect(tcp(seq(s), payloadLen(1460)), { more: true });
  ctx.expect(tcp(seq(s + 1460), payloadLen(1460)));
  ctx.send({ flags: "A", seq: p, ack: s + 2920, window: 0, at: 100 });
  ctx.expectNone(100);
  return o;
}

Deno.test("zero window: one-byte probes at the persist timer's backoff, the same byte each time", () => {
  const { ctx, conn, stackSeq: s } = zeroWindow();
  // SRTT 90, RTTVAR 45: 270 ms doubled per probe, kept within 5..60 s.
  const times: number[] = [];
  for (let i = 0; i < 8; i++) {
    const probe = ctx.expect(tcp(flags("A"), seq(s + 2920), payloadLen(1)), {
      by: ctx.now + 100_000,
    });
    times.push(probe.at);
  }
  assert.deepEqual(times, [5100, 10100, 15100, 20100, 25100, 33740, 51020, 68300]);
  assert.equal(conn.state, "ESTABLISHED");
  assert.equal(ctx.stack.stats.tcp.persisttimeo, 8);
});

Deno.test("zero window: a peer answering every probe with a zero window is never timed out", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = zeroWindow();
  let last = 0;
  for (let i = 0; i < 30; i++) {
    const probe = ctx.expect(tcp(flags("A"), seq(s + 2920), payloadLen(1)), {
      by: ctx.now + 100_000,
    });
    assert.ok(probe.at - last <= 60_000, `probes at most 60 s apart (${last} -> ${probe.at})`);
    last = probe.at;
    ctx.send({ flags: "A", seq: p, ack: s + 2920, window: 0 });
  }
  assert.equal(conn.state, "ESTABLISHED");
  assert.equal(conn.error, null);
});

Deno.test("zero window: the window update that takes the probe's byte resumes sending at once", () => {
  const { ctx, stackSeq: s, peerSeq: p } = zeroWindow();
  ctx.expect(tcp(seq(s + 2920), payloadLen(1), sentAt(5100)), { by: 10_000 });
  ctx.send({ flags: "A", seq: p, ack: s + 2921, window: 4000, at: 6000 });
  ctx.expect(tcp(seq(s + 2921), payloadLen(1460), sentAt(6000)), { more: true });
  ctx.expect(tcp(seq(s + 4381), payloadLen(1460), sentAt(6000)));
  // Nothing more: the rest of the window (1080 bytes) waits for an ACK (Nagle), no probes.
  ctx.expectNone(6100);
});

Deno.test("zero window opened before any probe: sending resumes, no probe ever goes", () => {
  const { ctx, stackSeq: s, peerSeq: p } = zeroWindow();
  ctx.send({ flags: "A", seq: p, ack: s + 2920, window: 3000, at: 1000 });
  ctx.expect(tcp(seq(s + 2920), payloadLen(1460), sentAt(1000)), { more: true });
  ctx.expect(tcp(seq(s + 4380), payloadLen(1460), sentAt(1000)));
  ctx.expectNone(1200); // until the RTO (270 ms) would resend
  assert.equal(ctx.stack.stats.tcp.persisttimeo, 0);
});

Deno.test("window scaling: the peer's windows are shifted by its scale, ours by ours; a SYN's never", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted({
    options: { mss: 1460, wscale: 4 },
    window: 250, // 250 << 4 = 4000 bytes once established (the SYN's 250 is taken as is)
    setup: (l) => l.setOption("TCP_NODELAY", 1),
  });
  conn.write(bytes(10_000));
  // 4000 bytes: two full segments; the 1080 left is not worth sending (sender SWS avoidance).
  ctx.expect(tcp(seq(s), payloadLen(1460), window(256)), { more: true });
  ctx.expect(tcp(seq(s + 1460), payloadLen(1460)));
  // 100 << 4 = 1600 bytes: one segment of 1460, and again not the 140 left.
  // Our window after 100 bytes in: floor(32668 / 128) = 255.
  ctx.send({ flags: "A", seq: p, ack: s + 2920, window: 100, payload: 100, at: 100 });
  ctx.expect(tcp(seq(s + 2920), payloadLen(1460), window(255), ack(p + 100)));
  ctx.expectNone(150);
});

Deno.test("receive window: the advertised right edge never moves left, even when the buffer shrinks", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted({
    setup: (l) => l.setOption("SO_RCVBUF", 4000), // fixed: no scaling, no auto-tuning
  });
  ctx.send({ flags: "A", seq: p, ack: s, payload: 1000, at: 100 });
  ctx.expect(tcp(ack(p + 1000), window(3000), sentAt(300)), { by: 1000 });
  conn.setOption("SO_RCVBUF", 1500);
  // 500 more: the buffer (1500) would leave 0, but 2500 of the 3000 offered are still promised.
  ctx.send({ flags: "A", seq: p + 1000, ack: s, payload: 500, at: 500 });
  ctx.expect(tcp(ack(p + 1500), window(2500), sentAt(700)), { by: 1000 });
});

Deno.test("receive window: reading a full buffer sends a window update once half the buffer is free", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted({
    setup: (l) => l.setOption("SO_RCVBUF", 4000),
  });
  ctx.send({ flags: "A", seq: p, ack: s, payload: 2000, at: 100 });
  ctx.send({ flags: "A", seq: p + 2000, ack: s, payload: 2000, at: 101 });
  ctx.expect(tcp(ack(p + 4000), window(0), sentAt(101)));
  const buf = new Uint8Array(1000);
  assert.equal(conn.read(buf), 1000);
  ctx.expectNone(150); // 1000 bytes free: neither two segments nor half the buffer
  assert.equal(conn.read(buf), 1000);
  ctx.expect(tcp(flags("A"), ack(p + 4000), window(2000), sentAt(150)));
});

Deno.test("zero window: a window update that dropped the probe's byte gets it again at once", () => {
  const { ctx, stackSeq: s, peerSeq: p } = zeroWindow();
  ctx.expect(tcp(seq(s + 2920), payloadLen(1), sentAt(5100)), { by: 10_000 });
  // The peer opens its window without taking the probe byte (ack still at s + 2920).
  ctx.send({ flags: "A", seq: p, ack: s + 2920, window: 4000, at: 5200 });
  ctx.expect(tcp(seq(s + 2920), flags("A"), sentAt(5200)), { more: true });
});
