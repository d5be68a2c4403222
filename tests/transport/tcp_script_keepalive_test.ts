/**
 * Scripted TCP in virtual time: keepalive (RFC 9293 §3.8.4, BSD's timers)
 * with small TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT: a probe is a bare
 * ACK at SND.UNA - 1 that the peer must answer; an answer restarts the idle
 * time; TCP_KEEPCNT unanswered probes reset the connection with ETIMEDOUT.
 */
import assert from "node:assert/strict";
import { ack, flags, payloadLen, sentAt, seq, tcp, window } from "../kit/tcp_check.ts";
import type { TcpHandle } from "../../core/socket/tcp_handle.ts";
import { TCP_EVENT } from "../../core/transport/tcp/tcb.ts";
import { accepted } from "./tcp_script_common.ts";

/** Keepalive on: 10 s idle, probes 2 s apart, 3 of them. */
function keepalive(h: TcpHandle): void {
  h.setOption("SO_KEEPALIVE", 1);
  h.setOption("TCP_KEEPIDLE", 10);
  h.setOption("TCP_KEEPINTVL", 2);
  h.setOption("TCP_KEEPCNT", 3);
}

Deno.test("keepalive: after the idle time, probes at SND.UNA - 1 with no data; unanswered, a reset and ETIMEDOUT", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted();
  let events = 0;
  conn.onEvent = (e) => events |= e;
  keepalive(conn); // at t=10, when the connection was accepted
  ctx.expectNone(10_009);
  for (const at of [10_010, 12_010, 14_010]) {
    ctx.expect(tcp(flags("A"), seq(s - 1), ack(p), payloadLen(0), sentAt(at)), { by: at + 1000 });
  }
  ctx.expect(tcp(flags("RA"), seq(s), ack(p), window(0), sentAt(16_010)), { by: 20_000 });
  assert.equal(conn.state, "CLOSED");
  assert.ok(events & TCP_EVENT.ERROR);
  assert.equal(conn.error, "ETIMEDOUT");
  assert.equal(ctx.stack.stats.tcp.keepprobe, 3);
  assert.equal(ctx.stack.stats.tcp.keepdrops, 1);
});

Deno.test("keepalive: an answered probe restarts the idle time", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted();
  keepalive(conn);
  ctx.expect(tcp(flags("A"), seq(s - 1), sentAt(10_010)), { by: 11_000 });
  ctx.send({ flags: "A", seq: p, ack: s, at: 10_020 });
  ctx.expectNone(20_019);
  ctx.expect(tcp(flags("A"), seq(s - 1), sentAt(20_020)), { by: 21_000 });
  // The second and third probes answered late still keep it: any segment counts.
  ctx.expect(tcp(flags("A"), seq(s - 1), sentAt(22_020)), { by: 23_000 });
  ctx.send({ flags: "A", seq: p, ack: s, at: 23_000 });
  ctx.expect(tcp(flags("A"), seq(s - 1), sentAt(33_000)), { by: 34_000 });
  assert.equal(conn.state, "ESTABLISHED");
});

Deno.test("keepalive: traffic in either direction keeps the connection from being probed", () => {
  const { ctx, conn, stackSeq: s, peerSeq: p } = accepted();
  keepalive(conn);
  // Data from the peer at 8 s and 16 s: the idle time counts from the last.
  ctx.send({ flags: "PA", seq: p, ack: s, payload: 10, at: 8_000 });
  ctx.expect(tcp(flags("A"), ack(p + 10)), { by: 9_000 });
  ctx.send({ flags: "PA", seq: p + 10, ack: s, payload: 10, at: 16_000 });
  ctx.expect(tcp(flags("A"), ack(p + 20)), { by: 17_000 });
  ctx.expectNone(25_999);
  ctx.expect(tcp(flags("A"), seq(s - 1), ack(p + 20), sentAt(26_000)), { by: 27_000 });
});

Deno.test("keepalive: off by default, an idle connection is never probed", () => {
  const { ctx, conn } = accepted();
  ctx.expectNone(3 * 3600_000);
  assert.equal(conn.state, "ESTABLISHED");
});

Deno.test("keepalive: net.inet.tcp.keepidle/keepintvl/keepcnt (half-seconds) apply when the socket sets none", () => {
  const { ctx, conn, stackSeq: s } = accepted({
    sysctl: { keepidle: 8, keepintvl: 2, keepcnt: 2 },
    setup: (l) => l.setOption("SO_KEEPALIVE", 1),
  });
  assert.equal(conn.getOption("SO_KEEPALIVE"), 1, "inherited from the listener");
  // Established at t=10: probes at 4010 and 5010, the reset at 6010.
  ctx.expect(tcp(flags("A"), seq(s - 1), sentAt(4_010)), { by: 5_000 });
  ctx.expect(tcp(flags("A"), seq(s - 1), sentAt(5_010)), { by: 6_000 });
  ctx.expect(tcp(flags("RA"), seq(s), sentAt(6_010)), { by: 7_000 });
  assert.equal(conn.error, "ETIMEDOUT");
});
