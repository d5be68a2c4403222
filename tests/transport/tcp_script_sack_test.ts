/**
 * Scripted TCP in virtual time: loss recovery as a sender. RACK's
 * reordering window (RFC 8985 §6.2: min_RTT/4 until three segments are
 * SACKed), PRR's pacing of what recovery sends (RFC 6937), undo of a
 * recovery that D-SACKs showed spurious (RFC 2883, RFC 3708), and NewReno's
 * duplicate-ACK and partial-ACK retransmissions without SACK (RFC 6582).
 *
 * Every script here: the stack sends ten 1460-byte segments at t=10 (the
 * initial window of ten); S<k> below is the k-th, at stackSeq + k·1460.
 */
import assert from "node:assert/strict";
import { flags, payloadLen, sentAt, seq, tcp } from "../kit/tcp_check.ts";
import { accepted, bytes, type Opened } from "./tcp_script_common.ts";

const MSS = 1460;

/** A passive open (SACK permitted unless `sack` is false) and 30 segments written; the first ten go. */
function tenInFlight(sack = true): Opened & { S: (k: number) => number } {
  const o = accepted({ options: sack ? { mss: MSS, sackPermitted: true } : { mss: MSS } });
  o.conn.write(bytes(30 * MSS));
  const S = (k: number) => (o.stackSeq + k * MSS) >>> 0;
  for (let k = 0; k < 10; k++) {
    o.ctx.expect(tcp(flags("A"), seq(S(k)), payloadLen(MSS), sentAt(10)), { more: k < 9 });
  }
  return { ...o, S };
}

Deno.test("RACK: one segment SACKed past a loss: the hole is resent after min_RTT/4 of reordering window", () => {
  const { ctx, peerSeq: p, S } = tenInFlight();
  // S1 SACKed at 82: RTT 72 ms; S1's delivery frees room for one new segment.
  ctx.send({ flags: "A", seq: p, ack: S(0), options: { sack: [[S(1), S(2)]] }, at: 82 });
  ctx.expect(tcp(seq(S(10)), payloadLen(MSS), sentAt(82)));
  // S0 is lost once S0's send time + RTT + 72/4 has passed: 10 + 72 + 18 = 100.
  ctx.expectNone(99);
  ctx.expect(tcp(seq(S(0)), payloadLen(MSS), sentAt(100)), { by: 1000 });
  assert.equal(ctx.stack.stats.tcp.sack_recovery_episode, 1);
});

Deno.test("RACK: three segments SACKed at once: no reordering window, the hole is resent at once", () => {
  const { ctx, peerSeq: p, S } = tenInFlight();
  ctx.send({ flags: "A", seq: p, ack: S(0), options: { sack: [[S(1), S(4)]] }, at: 82 });
  ctx.expect(tcp(seq(S(0)), payloadLen(MSS), sentAt(82)));
  ctx.expectNone(90);
});

Deno.test("PRR: recovery sends in proportion to what is delivered, then slow-starts up to ssthresh", () => {
  const { ctx, conn, peerSeq: p, S } = tenInFlight();
  ctx.send({ flags: "A", seq: p, ack: S(0), options: { sack: [[S(1), S(2)]] }, at: 82 });
  ctx.expect(tcp(seq(S(10)), sentAt(82)));
  ctx.expect(tcp(seq(S(0)), sentAt(100)), { by: 1000 });
  // RecoverFS = 11 segments in flight, ssthresh = 0.7 of it (CUBIC): 11242 bytes.
  assert.equal(conn.connection.cc!.ssthresh, 11242);
  // Each ACK SACKs one more segment. While pipe > ssthresh, PRR allows
  // ceil(delivered · 7.7 / 11) segments in all (the retransmission counted): 1, 2, 3, 3;
  // then pipe <= ssthresh and PRR-SSRB allows ssthresh - pipe (one segment once it reaches 1460).
  const sent: (number | null)[] = [];
  for (let k = 3; k <= 10; k++) {
    ctx.send({ flags: "A", seq: p, ack: S(0), options: { sack: [[S(1), S(k)]] }, at: 110 + k });
    const out = ctx.seen.splice(0);
    assert.ok(out.length <= 1, `one segment at most per ACK, got ${out.length}`);
    sent.push(out.length === 0 ? null : (out[0].tcp!.seq - S(0)) / MSS);
  }
  assert.deepEqual(sent, [null, 11, 12, null, null, 13, 14, 15]);
});

Deno.test("undo: when a D-SACK shows the only retransmission was not needed, the window is restored", () => {
  const { ctx, conn, peerSeq: p, S } = tenInFlight();
  const cc = conn.connection.cc!;
  const before = { cwnd: cc.cwnd, ssthresh: cc.ssthresh };
  assert.equal(before.cwnd, 10 * MSS);
  ctx.send({ flags: "A", seq: p, ack: S(0), options: { sack: [[S(1), S(4)]] }, at: 82 });
  ctx.expect(tcp(seq(S(0)), sentAt(82)));
  assert.equal(cc.cwnd, Math.floor(0.7 * 10 * MSS));
  // The original S0 was only late: all ten acknowledged, recovery ends, new data flows.
  ctx.send({ flags: "A", seq: p, ack: S(10), at: 112 });
  const afterAck = ctx.seen.splice(0);
  assert.deepEqual(afterAck.map((x) => (x.tcp!.seq - S(0)) / MSS), [10, 11, 12, 13, 14, 15, 16]);
  // Then the D-SACK of the retransmitted S0: undone, the window back where it was.
  ctx.send({ flags: "A", seq: p, ack: S(10), options: { sack: [[S(0), S(1)]] }, at: 113 });
  assert.deepEqual({ cwnd: cc.cwnd, ssthresh: cc.ssthresh }, before);
  assert.equal(conn.connection.undos, 1);
  // Seven in flight, a window of ten again: three more at once.
  for (const k of [17, 18, 19]) ctx.expect(tcp(seq(S(k)), sentAt(113)), { more: k < 19 });
});

Deno.test("undo: a D-SACK for data never retransmitted (a network duplicate) undoes nothing", () => {
  const { ctx, conn, peerSeq: p, S } = tenInFlight();
  const cc = conn.connection.cc!;
  ctx.send({ flags: "A", seq: p, ack: S(0), options: { sack: [[S(1), S(4)]] }, at: 82 });
  ctx.expect(tcp(seq(S(0)), sentAt(82)));
  ctx.send({ flags: "A", seq: p, ack: S(10), at: 112 });
  ctx.seen.length = 0;
  const reduced = cc.ssthresh;
  ctx.send({ flags: "A", seq: p, ack: S(10), options: { sack: [[S(5), S(6)]] }, at: 113 });
  assert.equal(cc.ssthresh, reduced);
  assert.equal(conn.connection.undos, 0);
});

Deno.test("without SACK: the third duplicate ACK resends the hole; each partial ACK the next one (NewReno)", () => {
  const { ctx, peerSeq: p, S } = tenInFlight(false);
  ctx.send({ flags: "A", seq: p, ack: S(0), at: 80 });
  ctx.send({ flags: "A", seq: p, ack: S(0), at: 81 });
  ctx.expectNone(81);
  ctx.send({ flags: "A", seq: p, ack: S(0), at: 82 });
  ctx.expect(tcp(seq(S(0)), payloadLen(MSS), sentAt(82)));
  assert.equal(ctx.stack.stats.tcp.sndrexmitfast, 1);
  // S0 arrived; S3 was lost too: the partial ACK to S3 resends S3 at once.
  ctx.send({ flags: "A", seq: p, ack: S(3), at: 100 });
  const out = ctx.seen.splice(0);
  assert.equal((out[0].tcp!.seq - S(0)) / MSS, 3, "the next hole first");
  assert.equal(out[0].at, 100);
});

Deno.test("SACK blocks from the peer beyond snd_max are ignored; the ACK still counts", () => {
  const { ctx, peerSeq: p, S } = tenInFlight();
  ctx.send({ flags: "A", seq: p, ack: S(2), options: { sack: [[S(40), S(41)]] }, at: 82 });
  // Two segments acknowledged: slow start sends four (two for the room, two for the growth).
  const out = ctx.seen.splice(0);
  assert.deepEqual(out.map((x) => (x.tcp!.seq - S(0)) / MSS), [10, 11, 12, 13]);
  ctx.expectNone(90);
});
