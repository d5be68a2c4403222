/**
 * Scripted TCP in virtual time: RFC 5961's defences against blind attacks.
 * A reset is taken only at exactly RCV.NXT; in the window it earns a
 * challenge ACK (§3), as does a SYN on a synchronized connection (§4);
 * an ACK for data never sent or older than the peer could have seen is
 * answered and the segment dropped (§5); challenge ACKs are limited to
 * `net.inet.tcp.ackdropppslimit` a second (§7).
 */
import assert from "node:assert/strict";
import { ack, flags, payloadLen, sentAt, seq, tcp } from "../kit/tcp_check.ts";
import { accepted, bytes } from "./tcp_script_common.ts";

Deno.test("RFC 5961 §3: a reset in the window but not at rcv_nxt earns a challenge ACK; the connection stays", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted();
  ctx.send({ flags: "R", seq: p + 1000, at: 20 });
  ctx.expect(tcp(flags("A"), seq(s), ack(p), payloadLen(0), sentAt(20)));
  ctx.send({ flags: "RA", seq: p + 1, ack: s, at: 21 });
  ctx.expect(tcp(flags("A"), seq(s), ack(p)));
  assert.equal(conn.state, "ESTABLISHED");
  assert.equal(ctx.stack.stats.tcp.rcvbadrst, 2);
  assert.equal(ctx.stack.stats.tcp.challenge_ack, 2);
  // The connection still carries data.
  ctx.send({ flags: "PA", seq: p, ack: s, payload: 5, at: 30 });
  assert.equal(conn.readableBytes, 5);
});

Deno.test("RFC 5961 §3: a reset outside the window is dropped silently", () => {
  const { ctx, conn, peerSeq: p } = accepted();
  ctx.send({ flags: "R", seq: p - 1, at: 20 });
  ctx.send({ flags: "R", seq: p + 40_000, at: 21 }); // beyond the 32768-byte window
  ctx.send({ flags: "R", seq: (p + 0x80000000) >>> 0, at: 22 });
  ctx.expectNone(1000);
  assert.equal(conn.state, "ESTABLISHED");
});

Deno.test("RFC 5961 §3: a reset at exactly rcv_nxt resets the connection, nothing answers it", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted();
  ctx.send({ flags: "PA", seq: p, ack: s, payload: 100, at: 20 });
  ctx.expect(tcp(ack(p + 100)), { by: 1000 });
  ctx.send({ flags: "R", seq: p + 100, at: 1000 });
  ctx.expectNone(5000);
  assert.equal(conn.state, "CLOSED");
  assert.equal(conn.error, "ECONNRESET");
});

Deno.test("RFC 5961 §7: challenge ACKs are limited to ackdropppslimit a second", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted({ sysctl: { ackdropppslimit: 2 } });
  for (let i = 0; i < 5; i++) ctx.send({ flags: "R", seq: p + 10 + i, at: 2000 + i });
  ctx.expect(tcp(flags("A"), seq(s), ack(p), sentAt(2000)), { more: true });
  ctx.expect(tcp(flags("A"), seq(s), ack(p), sentAt(2001)));
  ctx.expectNone(2999);
  assert.equal(ctx.stack.stats.tcp.challenge_ack_limited, 3);
  // The next second: two more.
  for (let i = 0; i < 3; i++) ctx.send({ flags: "R", seq: p + 10 + i, at: 3000 + i });
  ctx.expect(tcp(flags("A"), sentAt(3000)), { more: true });
  ctx.expect(tcp(flags("A"), sentAt(3001)));
  ctx.expectNone(3999);
  assert.equal(conn.state, "ESTABLISHED");
});

Deno.test("RFC 5961 §4: a SYN on an established connection earns a challenge ACK, in the window or not", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted();
  ctx.send({ flags: "S", seq: p, options: { mss: 1460 }, at: 20 });
  ctx.expect(tcp(flags("A"), seq(s), ack(p), payloadLen(0)));
  ctx.send({ flags: "S", seq: p + 500, at: 21 });
  ctx.expect(tcp(flags("A"), seq(s), ack(p)));
  // Outside the window it fails the acceptability test first: a plain duplicate ACK.
  ctx.send({ flags: "S", seq: p - 5000, at: 22 });
  ctx.expect(tcp(flags("A"), seq(s), ack(p)));
  assert.equal(conn.state, "ESTABLISHED");
  assert.equal(ctx.stack.stats.tcp.rcvbadsynest, 2);
});

Deno.test("RFC 5961 §5: an ACK of data never sent is answered with an ACK and its data dropped", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted();
  conn.write(bytes(100));
  ctx.expect(tcp(seq(s), payloadLen(100)));
  ctx.send({ flags: "PA", seq: p, ack: s + 5000, payload: 10, at: 20 });
  ctx.expect(tcp(flags("A"), seq(s + 100), ack(p), payloadLen(0), sentAt(20)));
  assert.equal(conn.readableBytes, 0, "the segment's data was dropped");
  assert.equal(ctx.stack.stats.tcp.rcvacktoomuch, 1);
  // The real ACK is still taken.
  ctx.send({ flags: "PA", seq: p, ack: s + 100, payload: 10, at: 30 });
  assert.equal(conn.readableBytes, 10);
  assert.equal(conn.unacknowledgedBytes, 0);
});

Deno.test("RFC 5961 §5: an ACK older than SND.UNA - MAX.SND.WND earns a challenge ACK, its data dropped", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted();
  // 65535 is the largest window the peer offered; an ACK further back than that is blind.
  ctx.send({ flags: "PA", seq: p, ack: s - 70_000, payload: 10, at: 20 });
  ctx.expect(tcp(flags("A"), seq(s), ack(p), sentAt(20)));
  assert.equal(conn.readableBytes, 0);
  assert.equal(ctx.stack.stats.tcp.challenge_ack, 1);
  // Within it (an old duplicate ACK) the data is taken.
  ctx.send({ flags: "PA", seq: p, ack: s - 60_000, payload: 10, at: 30 });
  assert.equal(conn.readableBytes, 10);
});
