/**
 * Scripted TCP in virtual time: path MTU discovery (RFC 1191 for IPv4, RFC
 * 8201 for IPv6). A "fragmentation needed" / "packet too big" quoting a
 * segment in flight shrinks the connection's MSS to the new path MTU and
 * resends what was in flight at the new size at once; one quoting a
 * sequence number not in flight is ignored (RFC 5927 §4.1).
 */
import assert from "node:assert/strict";
import { finishChecksum, sumWords } from "../../core/wire/checksum.ts";
import { df, payloadLen, seq, tcp } from "../kit/tcp_check.ts";
import { accepted, bytes } from "./tcp_script_common.ts";

const IPPROTO_ICMP = 1, IPPROTO_ICMPV6 = 58;

/** An ICMP(v6) error quoting the start of `quoted` (our packet), with `mtu` as the next-hop MTU. */
function tooBig(family: 4 | 6, quoted: Uint8Array, mtu: number): Uint8Array {
  const keep = Math.min(quoted.length, family === 4 ? 28 + 20 : 1232 - 8);
  const body = new Uint8Array(8 + keep);
  if (family === 4) {
    body[0] = 3; // destination unreachable
    body[1] = 4; // fragmentation needed and DF set
    body[6] = mtu >>> 8;
    body[7] = mtu & 0xff;
  } else {
    body[0] = 2; // packet too big
    body[4] = (mtu >>> 24) & 0xff;
    body[5] = (mtu >>> 16) & 0xff;
    body[6] = (mtu >>> 8) & 0xff;
    body[7] = mtu & 0xff;
  }
  body.set(quoted.subarray(0, keep), 8);
  return body;
}

for (const family of [4, 6] as const) {
  const proto = family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  const fill = (b: Uint8Array, off: number, len: number, pseudo: number) => {
    const sum = finishChecksum(sumWords(b, off, off + len, family === 4 ? 0 : pseudo));
    b[off + 2] = sum >>> 8;
    b[off + 3] = sum & 0xff;
  };

  Deno.test(`pmtu IPv${family}: a too-big error shrinks the MSS and resends in flight at the new size`, () => {
    const { ctx, conn, stackSeq: s } = accepted({ family });
    const full = family === 4 ? 1460 : 1440;
    conn.write(bytes(2 * full));
    const first = ctx.expect(tcp(seq(s), payloadLen(full)), { more: true });
    if (family === 4) assert.ok(df()(first) === null, "IPv4 segments carry DF (RFC 1191)");
    ctx.expect(tcp(seq(s + full), payloadLen(full)));
    // A router on the way has an MTU of 1280 (IPv6's minimum; below Ethernet's 1500 for both).
    const t = ctx.now + 10;
    ctx.sendIp(proto, tooBig(family, first.ip, 1280), { at: t, fill });
    const hdrs = (family === 4 ? 20 : 40) + 20;
    const mss = 1280 - hdrs;
    const again = ctx.expect(tcp(seq(s), payloadLen(mss)), { more: true });
    assert.equal(again.at, t);
    assert.ok(conn.connection.maxSeg <= mss);
    assert.equal(conn.state, "ESTABLISHED");
  });

  Deno.test(`pmtu IPv${family}: an error quoting a sequence number not in flight is ignored`, () => {
    const { ctx, conn, stackSeq: s, peerSeq: p } = accepted({ family });
    const full = family === 4 ? 1460 : 1440;
    conn.write(bytes(full));
    const first = ctx.expect(tcp(seq(s), payloadLen(full)));
    const t = ctx.now;
    ctx.send({ flags: "A", seq: p, ack: s + full, at: t + 5 });
    ctx.expectNone(t + 6);
    // The segment was acknowledged: a late (or forged) error about it changes nothing.
    ctx.sendIp(proto, tooBig(family, first.ip, 1280), { at: t + 10, fill });
    ctx.expectNone(t + 100);
    assert.equal(conn.connection.maxSeg, full);
  });
}
