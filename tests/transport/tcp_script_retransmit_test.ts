/**
 * Scripted TCP in virtual time: retransmission by timeout. RTO from the
 * first RTT sample with its 200 ms floor and exponential backoff (RFC 6298),
 * Karn's rule, giving up after TCP_MAXRXTSHIFT with a reset and ETIMEDOUT,
 * and tail loss probes (RFC 8985 §7): one probe after the PTO, then the RTO.
 */
import assert from "node:assert/strict";
import {
  ack,
  type DecodedPacket,
  flags,
  payloadLen,
  runChecks,
  sentAt,
  seq,
  tcp,
  window,
} from "../kit/tcp_check.ts";
import type { TcpScript } from "../kit/tcp_script.ts";
import { TCP_EVENT } from "../../core/transport/tcp/tcb.ts";
import { accepted, bytes, connected } from "./tcp_script_common.ts";

const SACK = { options: { mss: 1460, sackPermitted: true } };

/** Everything the stack sends up to `until`. */
function sentUntil(ctx: TcpScript, until: number): DecodedPacket[] {
  ctx.advanceTo(until);
  return ctx.seen.splice(0);
}

Deno.test("RTO: the SYN's RTT sample (10 ms) gives the 200 ms floor, then it doubles per timeout", () => {
  const { ctx, conn, stackSeq } = connected(); // no timestamps: the SYN itself was timed
  conn.write(bytes(100));
  ctx.expect(tcp(flags("PA"), seq(stackSeq), payloadLen(100), sentAt(10)));
  for (const at of [210, 610, 1410, 3010, 6210]) {
    ctx.expect(tcp(flags("PA"), seq(stackSeq), payloadLen(100), sentAt(at)), { by: at + 10_000 });
  }
  assert.equal(ctx.stack.stats.tcp.rexmttimeo, 5);
});

Deno.test("RTO: without any RTT sample it starts at 1 s (RFC 6298 §2.1)", () => {
  // A passive open without timestamps: the SYN cache does not time its SYN-ACK.
  const { ctx, conn, stackSeq } = accepted();
  conn.write(bytes(100));
  ctx.expect(tcp(seq(stackSeq), sentAt(10)));
  for (const at of [1010, 3010, 7010]) {
    ctx.expect(tcp(seq(stackSeq), payloadLen(100), sentAt(at)), { by: at + 10_000 });
  }
});

Deno.test("Karn: the ACK of a retransmitted segment gives no sample; the backed-off RTO stays for new data", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = connected();
  conn.write(bytes(100));
  ctx.expect(tcp(seq(s), sentAt(10)));
  ctx.expect(tcp(seq(s), sentAt(210)), { by: 1000 });
  ctx.expect(tcp(seq(s), sentAt(610)), { by: 1000 });
  // Answered 10 ms after the second retransmission: a sample would bring RTO back to 200 ms.
  ctx.send({ flags: "A", seq: p, ack: s + 100, at: 620 });
  conn.write(bytes(100));
  ctx.expect(tcp(flags("PA"), seq(s + 100), sentAt(620)));
  ctx.expect(tcp(seq(s + 100), sentAt(620 + 800)), { by: 5000 });
  // A clean sample (new data, answered in 30 ms) ends the backoff.
  ctx.send({ flags: "A", seq: p, ack: s + 200, at: 1450 });
  conn.write(bytes(100));
  ctx.expect(tcp(seq(s + 200), sentAt(1450)));
  ctx.send({ flags: "A", seq: p, ack: s + 300, at: 1480 });
  conn.write(bytes(100));
  ctx.expect(tcp(seq(s + 300), sentAt(1480)));
  ctx.expect(tcp(seq(s + 300), sentAt(1680)), { by: 5000 });
});

Deno.test("give-up: after 12 retransmissions (RTO capped at 60 s) the connection is reset with ETIMEDOUT", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = connected();
  let events = 0;
  conn.onEvent = (e) => events |= e;
  conn.write(bytes(100));
  const out = sentUntil(ctx, 1_000_000);
  const data = out.filter((x) => x.tcp!.payload.length === 100);
  assert.equal(data.length, 13, "the original and 12 retransmissions");
  const gaps = data.slice(1).map((x, i) => x.at - data[i].at);
  assert.deepEqual(gaps, [
    200,
    400,
    800,
    1600,
    3200,
    6400,
    12800,
    25600,
    51200,
    60000,
    60000,
    60000,
  ]);
  const last = out[out.length - 1];
  assert.equal(out.length, 14);
  assert.equal(last.at, data[12].at + 60000);
  assert.equal(runChecks(last, [tcp(flags("RA"), seq(s + 100), ack(p), window(0))]), null);
  assert.equal(conn.state, "CLOSED");
  assert.ok(events & TCP_EVENT.ERROR);
  assert.equal(conn.error, "ETIMEDOUT");
  assert.equal(ctx.stack.stats.tcp.timeoutdrop, 1);
});

Deno.test("TLP: after 2·SRTT with no ACK the last segment is probed, then the RTO resends from snd_una", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted(SACK);
  conn.write(bytes(1460));
  ctx.expect(tcp(seq(s)));
  ctx.send({ flags: "A", seq: p, ack: s + 1460, at: 60 }); // SRTT 50, RTTVAR 25: RTO 200
  ctx.advanceTo(100);
  conn.write(bytes(2920));
  ctx.expect(tcp(flags("A"), seq(s + 1460), sentAt(100)), { more: true });
  ctx.expect(tcp(flags("PA"), seq(s + 2920), sentAt(100)));
  // PTO = 2·SRTT = 100 ms: the last segment again (nothing new to send).
  ctx.expect(tcp(flags("PA"), seq(s + 2920), payloadLen(1460), sentAt(200)), { by: 1000 });
  assert.equal(ctx.stack.stats.tcp.sndprobe, 1);
  // Then the RTO, armed when the probe went: 200 ms later, the first unacknowledged segment.
  ctx.expect(tcp(flags("A"), seq(s + 1460), payloadLen(1460), sentAt(400)), { by: 1000 });
});

Deno.test("TLP: a probe of new data is the episode's only probe; the RTO follows (RFC 8985 §7.3)", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted(SACK);
  conn.write(bytes(1460));
  ctx.expect(tcp(seq(s)));
  ctx.send({ flags: "A", seq: p, ack: s + 1460, at: 20 }); // SRTT 10: PTO 20 ms, RTO 200 ms
  ctx.advanceTo(100);
  conn.write(bytes(12 * 1460));
  const burst = ctx.seen.splice(0);
  assert.equal(burst.length, 10, "the congestion window's worth");
  // The probe: the next new segment, past the congestion window.
  ctx.expect(tcp(seq(s + 11 * 1460), payloadLen(1460), sentAt(120)), { by: 1000 });
  // No second probe: the RTO, 200 ms after the probe, resends the first unacknowledged.
  ctx.expect(tcp(seq(s + 1460), payloadLen(1460), sentAt(320)), { by: 1000 });
  assert.equal(ctx.stack.stats.tcp.sndprobe, 1);
});

Deno.test("TLP: an ACK of everything after the probe ends the episode; no retransmission follows", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted(SACK);
  conn.write(bytes(1460));
  ctx.expect(tcp(seq(s)));
  ctx.send({ flags: "A", seq: p, ack: s + 1460, at: 60 });
  ctx.advanceTo(100);
  conn.write(bytes(1460));
  ctx.expect(tcp(seq(s + 1460), sentAt(100)));
  // One segment in flight: PTO = 2·SRTT + the worst-case delayed ACK (200 ms) = 300 ms.
  ctx.expect(tcp(seq(s + 1460), sentAt(300)), { by: 1000 });
  ctx.send({ flags: "A", seq: p, ack: s + 2920, at: 350 });
  ctx.expectNone(10_000);
});
