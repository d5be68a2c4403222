/**
 * Scripted TCP in virtual time: the SYN cache and SYN cookies under a flood
 * (RFC 4987 §3.4, §3.6). With `net.inet.tcp.syn_cache_limit` small, a flood
 * of spoofed SYNs fills the cache and later SYNs get cookie SYN-ACKs that
 * cost no state; a real client still connects through the cookie's ACK with
 * the options it offered, and the `sc_*` counters move.
 */
import assert from "node:assert/strict";
import {
  ack,
  flags,
  mss,
  payloadLen,
  sackPermitted,
  sentAt,
  seq,
  tcp,
  timestamps,
  window,
  wscale,
} from "../kit/tcp_check.ts";
import { bytes, listening, PEER_ISS } from "./tcp_script_common.ts";

const LIMIT = 4;
const FLOOD = 20;

/** A listener whose cache holds `LIMIT` entries, flooded at t=0..19 by SYNs from ports 50000 up. */
function flooded() {
  const o = listening({ sysctl: { syn_cache_limit: LIMIT } });
  const { ctx } = o;
  for (let i = 0; i < FLOOD; i++) {
    ctx.send({ flags: "S", seq: 7000 + i, srcPort: 50000 + i, options: { mss: 1460 }, at: i });
    ctx.expect(tcp(flags("SA"), ack(7001 + i)));
  }
  return o;
}

Deno.test("SYN flood: the cache keeps syn_cache_limit entries, the rest get cookies, and only entries are retransmitted", () => {
  const { ctx } = flooded();
  const st = ctx.stack.stats.tcp;
  assert.equal(st.sc_added, LIMIT);
  // At 3 s the cached four have their SYN-ACKs resent; the cookies' never are.
  ctx.advanceTo(3100);
  const resent = ctx.seen.splice(0);
  assert.deepEqual(resent.map((p) => p.tcp!.dstPort), [50000, 50001, 50002, 50003]);
  assert.deepEqual(resent.map((p) => p.at), [3000, 3001, 3002, 3003]);
  assert.equal(st.sc_retransmitted, LIMIT);
});

Deno.test("SYN flood: a real client connects through the cookie's ACK, with the options it offered", () => {
  const { ctx, listener } = flooded();
  const st = ctx.stack.stats.tcp;
  ctx.send({
    flags: "S",
    seq: PEER_ISS,
    options: { mss: 1460, wscale: 7, sackPermitted: true, timestamps: [500, 0] },
    at: 100,
  });
  const sa = ctx.expect(
    tcp(
      flags("SA"),
      ack(PEER_ISS + 1),
      mss(1460),
      wscale(7),
      sackPermitted(),
      timestamps({ ecr: 500 }),
    ),
  ).tcp!;
  assert.equal(st.sc_added, LIMIT, "no entry for it: a cookie");
  ctx.send({
    flags: "A",
    seq: PEER_ISS + 1,
    ack: sa.seq + 1,
    options: { timestamps: [501, sa.options.tsVal] },
    at: 110,
  });
  ctx.expectNone(110);
  const conn = listener.accept();
  assert.ok(conn !== null, "the cookie's ACK made the connection");
  assert.equal(conn.state, "ESTABLISHED");
  // Window scale and timestamps as agreed: our window field is scaled by 7, the TS echoed.
  ctx.send({
    flags: "PA",
    seq: PEER_ISS + 1,
    ack: sa.seq + 1,
    payload: 100,
    options: { timestamps: [502, sa.options.tsVal] },
    at: 120,
  });
  ctx.expect(tcp(flags("A"), ack(PEER_ISS + 101), window(255), timestamps({ ecr: 502 })), {
    by: 1000,
  });
  assert.equal(conn.readableBytes, 100);
  // Its MSS (1460 less the timestamp option's 12) and SACK.
  conn.setOption("TCP_NODELAY", 1);
  conn.write(bytes(2000));
  ctx.expect(tcp(seq(sa.seq + 1), payloadLen(1448)), { more: true });
  ctx.expect(tcp(seq(sa.seq + 1449), payloadLen(552)));
  assert.equal(conn.connection.sackOk, true);
});

Deno.test("SYN flood: a cookie keeps the MSS table's nearest value below the peer's", () => {
  const { ctx, listener } = flooded();
  ctx.send({ flags: "S", seq: PEER_ISS, options: { mss: 1300 }, at: 100 });
  const sa = ctx.expect(tcp(flags("SA"), wscale(-1), sackPermitted(false), timestamps(false))).tcp!;
  ctx.send({ flags: "A", seq: PEER_ISS + 1, ack: sa.seq + 1, at: 110 });
  const conn = listener.accept()!;
  assert.equal(conn.state, "ESTABLISHED");
  conn.setOption("TCP_NODELAY", 1);
  conn.write(bytes(2000));
  // 1300 is encoded as 1220, the largest table value not above it.
  ctx.expect(tcp(seq(sa.seq + 1), payloadLen(1220)), { more: true });
  ctx.expect(tcp(seq(sa.seq + 1221), payloadLen(780)));
});

Deno.test("SYN flood: an ACK with a forged cookie is refused with RST and makes nothing", () => {
  const { ctx, listener } = flooded();
  ctx.send({ flags: "S", seq: PEER_ISS, options: { mss: 1460 }, at: 100 });
  const sa = ctx.expect(tcp(flags("SA"))).tcp!;
  ctx.send({ flags: "A", seq: PEER_ISS + 1, ack: sa.seq + 2, at: 110 });
  ctx.expect(tcp(flags("R"), seq(sa.seq + 2), sentAt(110)));
  // A cookie for another sequence number (the ACK's seq is not the SYN's + 1).
  ctx.send({ flags: "A", seq: PEER_ISS + 5, ack: sa.seq + 1, at: 111 });
  ctx.expect(tcp(flags("R"), seq(sa.seq + 1)));
  assert.equal(listener.accept(), null);
});

Deno.test("SYN cache full of old entries: the oldest is evicted for a new SYN (no cookie), its late ACK refused", () => {
  const { ctx, listener } = listening({ sysctl: { syn_cache_limit: 2 } });
  const st = ctx.stack.stats.tcp;
  ctx.send({ flags: "S", seq: 100, srcPort: 50001, options: { mss: 1460 } });
  const first = ctx.expect(tcp(flags("SA"))).tcp!;
  ctx.send({ flags: "S", seq: 200, srcPort: 50002, options: { mss: 1460 }, at: 1 });
  ctx.expect(tcp(flags("SA")));
  // Past the first retransmission (3 s) the entries are old: a new SYN evicts the oldest.
  ctx.advanceTo(3500);
  ctx.seen.length = 0;
  ctx.send({ flags: "S", seq: PEER_ISS, options: { mss: 1460 } });
  const sa = ctx.expect(tcp(flags("SA"), ack(PEER_ISS + 1))).tcp!;
  assert.equal(st.sc_added, 3);
  assert.equal(st.sc_overflowed, 1);
  ctx.send({ flags: "A", seq: 101, ack: first.seq + 1, srcPort: 50001, at: 3600 });
  ctx.expect(tcp(flags("R"), seq(first.seq + 1)));
  ctx.send({ flags: "A", seq: PEER_ISS + 1, ack: sa.seq + 1, at: 3601 });
  assert.equal(listener.accept()!.state, "ESTABLISHED");
  assert.equal(st.sc_completed, 1);
});

Deno.test("SYN cache: a reset for an entry removes it (sc_reset); the SYN's retransmissions stop", () => {
  const { ctx } = listening();
  ctx.send({ flags: "S", seq: PEER_ISS, options: { mss: 1460 } });
  const sa = ctx.expect(tcp(flags("SA"))).tcp!;
  ctx.send({ flags: "R", seq: PEER_ISS + 1, at: 10 });
  assert.equal(ctx.stack.stats.tcp.sc_reset, 1);
  ctx.expectNone(100_000);
  ctx.send({ flags: "A", seq: PEER_ISS + 1, ack: sa.seq + 1 });
  ctx.expect(tcp(flags("R"), seq(sa.seq + 1)));
});
