/**
 * Scripted TCP in virtual time: closing. Every transition of RFC 9293's
 * closing states with the segments each sends, TIME_WAIT's 2·MSL
 * (`net.inet.tcp.msl`), half-close with data still flowing the other way,
 * and the resets of SO_LINGER 0 and of a close with unread data.
 */
import assert from "node:assert/strict";
import { ack, flags, payloadLen, sentAt, seq, tcp, window } from "../kit/tcp_check.ts";
import { TCP_EVENT } from "../../core/transport/tcp/tcb.ts";
import { accepted, bytes, drain } from "./tcp_script_common.ts";

const MSL = { msl: 2 }; // 2·MSL = 4 s

Deno.test("active close: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, and CLOSED after 2·MSL exactly", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted({ sysctl: MSL });
  conn.shutdownWrite();
  assert.equal(conn.state, "FIN_WAIT_1");
  ctx.expect(tcp(flags("FA"), seq(stackSeq), ack(peerSeq), payloadLen(0)));
  ctx.send({ flags: "A", seq: peerSeq, ack: stackSeq + 1, at: 20 });
  assert.equal(conn.state, "FIN_WAIT_2");
  ctx.expectNone(1000);
  ctx.send({ flags: "FA", seq: peerSeq, ack: stackSeq + 1, at: 1000 });
  ctx.expect(tcp(flags("A"), seq(stackSeq + 1), ack(peerSeq + 1), sentAt(1000)));
  assert.equal(conn.state, "TIME_WAIT");
  assert.equal(conn.read(new Uint8Array(4)), -1, "end of stream");
  ctx.advanceTo(4999);
  assert.equal(conn.state, "TIME_WAIT");
  ctx.advanceTo(5000);
  assert.equal(conn.state, "CLOSED");
  ctx.expectNone(10_000);
});

Deno.test("TIME_WAIT: a retransmitted FIN is acknowledged again and restarts 2·MSL", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted({ sysctl: MSL });
  conn.shutdownWrite();
  ctx.expect(tcp(flags("FA"), seq(stackSeq)));
  // FIN and ACK of our FIN in one segment: FIN_WAIT_1 straight to TIME_WAIT.
  ctx.send({ flags: "FA", seq: peerSeq, ack: stackSeq + 1, at: 100 });
  ctx.expect(tcp(flags("A"), seq(stackSeq + 1), ack(peerSeq + 1)));
  assert.equal(conn.state, "TIME_WAIT");
  ctx.send({ flags: "FA", seq: peerSeq, ack: stackSeq + 1, at: 3000 });
  ctx.expect(tcp(flags("A"), seq(stackSeq + 1), ack(peerSeq + 1), sentAt(3000)));
  ctx.advanceTo(6999);
  assert.equal(conn.state, "TIME_WAIT");
  ctx.advanceTo(7000);
  assert.equal(conn.state, "CLOSED");
});

Deno.test("passive close: the peer's FIN is acknowledged at once (CLOSE_WAIT), our FIN then LAST_ACK, its ACK CLOSED", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted();
  let events = 0;
  conn.onEvent = (e) => events |= e;
  ctx.send({ flags: "FA", seq: peerSeq, ack: stackSeq, at: 50 });
  ctx.expect(tcp(flags("A"), seq(stackSeq), ack(peerSeq + 1), sentAt(50)));
  assert.equal(conn.state, "CLOSE_WAIT");
  assert.ok(events & TCP_EVENT.EOF);
  assert.equal(conn.read(new Uint8Array(4)), -1);
  conn.close();
  ctx.expect(tcp(flags("FA"), seq(stackSeq), ack(peerSeq + 1)));
  ctx.send({ flags: "A", seq: peerSeq + 1, ack: stackSeq + 1, at: 60 });
  ctx.expectNone(100_000);
  assert.equal(conn.closed, true);
});

Deno.test("LAST_ACK: the FIN is retransmitted on the RTO until acknowledged", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted();
  ctx.send({ flags: "FA", seq: peerSeq, ack: stackSeq, at: 50 });
  ctx.expect(tcp(flags("A"), ack(peerSeq + 1)));
  conn.shutdownWrite();
  assert.equal(conn.state, "LAST_ACK");
  ctx.expect(tcp(flags("FA"), seq(stackSeq), sentAt(50)));
  // No RTT sample yet (no timestamps, and the SYN cache does not time its SYN-ACK): 1 s, 2 s.
  ctx.expect(tcp(flags("FA"), seq(stackSeq), sentAt(1050)), { by: 5000 });
  ctx.expect(tcp(flags("FA"), seq(stackSeq), sentAt(3050)), { by: 5000 });
  ctx.send({ flags: "A", seq: peerSeq + 1, ack: stackSeq + 1, at: 3100 });
  ctx.expectNone(100_000);
  assert.equal(conn.state, "CLOSED");
});

Deno.test("simultaneous close: crossing FINs go through CLOSING to TIME_WAIT", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted({ sysctl: MSL });
  conn.shutdownWrite();
  ctx.expect(tcp(flags("FA"), seq(stackSeq), ack(peerSeq)));
  // The peer's FIN does not acknowledge ours: it was sent before ours arrived.
  ctx.send({ flags: "FA", seq: peerSeq, ack: stackSeq, at: 15 });
  ctx.expect(tcp(flags("A"), seq(stackSeq + 1), ack(peerSeq + 1)));
  assert.equal(conn.state, "CLOSING");
  ctx.send({ flags: "A", seq: peerSeq + 1, ack: stackSeq + 1, at: 20 });
  ctx.expectNone(30);
  assert.equal(conn.state, "TIME_WAIT");
  ctx.advanceTo(4019);
  assert.equal(conn.state, "TIME_WAIT");
  ctx.advanceTo(4020);
  assert.equal(conn.state, "CLOSED");
  ctx.expectNone(10_000);
});

Deno.test("half-close: after our FIN the peer's data still arrives and is acknowledged, then its FIN", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted({ sysctl: MSL });
  conn.shutdownWrite();
  ctx.expect(tcp(flags("FA"), seq(stackSeq)));
  assert.throws(() => conn.write(bytes(1)), (e: { code?: string }) => e.code === "EPIPE");
  ctx.send({ flags: "A", seq: peerSeq, ack: stackSeq + 1, at: 10 });
  assert.equal(conn.state, "FIN_WAIT_2");
  // Two full segments: acknowledged at once (every second one).
  ctx.send({ flags: "A", seq: peerSeq, ack: stackSeq + 1, payload: 1460, at: 20 });
  ctx.send({ flags: "PA", seq: peerSeq + 1460, ack: stackSeq + 1, payload: 1460, at: 21 });
  ctx.expect(tcp(flags("A"), seq(stackSeq + 1), ack(peerSeq + 2920), sentAt(21)));
  assert.equal(drain(conn), 2920);
  // Reading opened the window by two segments' worth: worth a window update.
  ctx.expect(tcp(flags("A"), ack(peerSeq + 2920), window(32768)));
  ctx.send({ flags: "FA", seq: peerSeq + 2920, ack: stackSeq + 1, at: 30 });
  ctx.expect(tcp(flags("A"), ack(peerSeq + 2921)));
  assert.equal(conn.state, "TIME_WAIT");
  assert.equal(conn.read(new Uint8Array(4)), -1);
});

Deno.test("half-close: after the peer's FIN we still send, and our FIN follows the data", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted();
  ctx.send({ flags: "FA", seq: peerSeq, ack: stackSeq, at: 10 });
  ctx.expect(tcp(flags("A"), ack(peerSeq + 1)));
  assert.equal(conn.state, "CLOSE_WAIT");
  assert.equal(conn.write(bytes(100)), 100);
  ctx.expect(tcp(flags("PA"), seq(stackSeq), ack(peerSeq + 1), payloadLen(100)));
  conn.shutdownWrite();
  ctx.expect(tcp(flags("FA"), seq(stackSeq + 100), payloadLen(0)));
  ctx.send({ flags: "A", seq: peerSeq + 1, ack: stackSeq + 101, at: 20 });
  ctx.expectNone(1000);
  assert.equal(conn.state, "CLOSED");
});

Deno.test("close with queued data: the FIN rides on the last segment, Nagle or not (BSD)", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted();
  conn.write(bytes(300));
  ctx.expect(tcp(flags("PA"), seq(stackSeq), payloadLen(300)));
  conn.write(bytes(200)); // waits for the ACK (Nagle)
  ctx.expectNone(ctx.now);
  conn.close();
  ctx.expect(tcp(flags("FPA"), seq(stackSeq + 300), payloadLen(200)));
  ctx.send({ flags: "A", seq: peerSeq, ack: stackSeq + 501, at: 30 });
  ctx.expectNone(ctx.now);
});

Deno.test("FIN_WAIT_2 after close: given up after tcp_maxidle (keepcnt x keepintvl), silently", () => {
  const { ctx, conn, stackSeq, peerSeq, listener } = accepted({
    sysctl: { keepintvl: 2, keepcnt: 3 }, // 3 x 1 s
  });
  conn.close();
  ctx.expect(tcp(flags("FA"), seq(stackSeq)));
  ctx.send({ flags: "A", seq: peerSeq, ack: stackSeq + 1, at: 100 });
  ctx.expectNone(3099);
  // The connection is still there: data is acknowledged (and dropped: nobody reads).
  ctx.send({ flags: "A", seq: peerSeq, ack: stackSeq + 1, at: 3099 });
  ctx.expectNone(3100);
  listener!.close();
  // Gone: the same segment now meets no connection.
  ctx.send({ flags: "A", seq: peerSeq, ack: stackSeq + 1, at: 3101 });
  ctx.expect(tcp(flags("R"), seq(stackSeq + 1)));
});

Deno.test("SO_LINGER 0: close sends RST at snd_nxt and the connection is gone", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted();
  conn.write(bytes(100));
  ctx.expect(tcp(flags("PA"), payloadLen(100)));
  conn.setOption("SO_LINGER", 0);
  conn.close();
  ctx.expect(tcp(flags("RA"), seq(stackSeq + 100), ack(peerSeq), window(0)));
  ctx.expectNone(60_000);
  ctx.send({ flags: "A", seq: peerSeq, ack: stackSeq + 100, at: 60_000 });
  ctx.expect(tcp(flags("R"), seq(stackSeq + 100)));
});

Deno.test("close with unread data: RST instead of FIN (RFC 2525 §2.17)", () => {
  const { ctx, conn, stackSeq, peerSeq } = accepted();
  ctx.send({ flags: "PA", seq: peerSeq, ack: stackSeq, payload: 10, at: 20 });
  ctx.expect(tcp(flags("A"), ack(peerSeq + 10)), { by: 500 });
  conn.close();
  ctx.expect(tcp(flags("RA"), seq(stackSeq), ack(peerSeq + 10)));
  ctx.expectNone(60_000);
});

Deno.test("a reset from the peer in ESTABLISHED ends the connection with ECONNRESET, nothing sent", () => {
  const { ctx, conn, peerSeq } = accepted();
  let events = 0;
  conn.onEvent = (e) => events |= e;
  ctx.send({ flags: "R", seq: peerSeq, at: 20 });
  ctx.expectNone(1000);
  assert.equal(conn.state, "CLOSED");
  assert.ok(events & TCP_EVENT.ERROR);
  assert.throws(
    () => conn.read(new Uint8Array(1)),
    (e: { code?: string }) => e.code === "ECONNRESET",
  );
});
