import assert from "node:assert/strict";
import v8 from "node:v8";
import {
  emitTcpHeader,
  emitTcpOptions,
  parseTcpOptions,
  TCP_FLAG,
  TCP_HEADER_LEN,
  TCP_MAX_OPTIONS_LEN,
  TCPOPT,
  TcpOptions,
  type TcpOptionsError,
  tcpOptionsLength,
  type TcpRepr,
  tcpSackBlocksToSend,
  TcpView,
} from "../../core/wire/tcp.ts";
import { pseudoSum4, pseudoSum6 } from "../../core/wire/checksum.ts";
import { hex, prng, toHex } from "../kit/bytes.ts";

// Fixtures: IP datagrams (Ethernet header stripped) captured from Linux with
// tcpdump in two network namespaces joined by a veth pair, nothing routed
// outside: A = 192.0.2.1/24, 2001:db8::1/64; B = 192.0.2.2/24, 2001:db8::2/64.
// Checksum offload was turned off on both ends (ETHTOOL_STXCSUM through an
// ioctl) so the captured checksums are complete. A Python client in A
// connected to a Python server on B port 5001 and sent "hello"; the hex is
// taken from the pcap file. This kernel has neither netem nor iptables, so no
// loss could be set up; instead, in a second capture, the client replayed its
// own "hello" frame through an AF_PACKET socket (a duplicate) and then sent it
// again 10 bytes further on (out of order, checksum recomputed), and B
// answered each with a SACK.
// A -> B: SYN (mss 1460, sackOK, TS val 3802554467 ecr 0, nop, wscale 10)
const SYN4 = hex(`
  4500003c2a68400040068c50c0000201c00002028d761389fe67292300000000
  a002faf0bd730000020405b40402080ae2a66063000000000103030a
`);
// B -> A: SYN-ACK (mss 1460, sackOK, TS val 814932050 ecr 3802554467, nop, wscale 10)
const SYNACK4 = hex(`
  4500003c000040004006b6b8c0000202c000020113898d762d464212fe672924
  a012fe88398d0000020405b40402080a3092e052e2a660630103030a
`);
// A -> B: ACK (nop, nop, TS val 3802554467 ecr 814932050)
const ACK4 = hex(`
  450000342a69400040068c57c0000201c00002028d761389fe6729242d464213
  8010003f66a600000101080ae2a660633092e052
`);
// A -> B: PSH ACK carrying "hello"
const DATA4 = hex(`
  450000392a6a400040068c51c0000201c00002028d761389fe6729242d464213
  8018003f22c700000101080ae2a660633092e05268656c6c6f
`);
// A -> B over IPv6: SYN (mss 1440, sackOK, TS val 1825276710 ecr 0, nop, wscale 10)
const SYN6 = hex(`
  600efed10028064020010db800000000000000000000000120010db800000000
  00000000000000029c4c138983a2747700000000a002fd20579a0000020405a0
  0402080a6ccb8326000000000103030a
`);
// B -> A over IPv6: SYN-ACK (mss 1440, sackOK, TS val 627822592 ecr 1825276710, nop, wscale 10)
const SYNACK6 = hex(`
  600cb8490028064020010db800000000000000000000000220010db800000000
  000000000000000113899c4c34a7a6e983a27478a012fb0488a80000020405a0
  0402080a256bd0006ccb83260103030a
`);
// A -> B over IPv6: PSH ACK carrying "hello"
const DATA6 = hex(`
  600efed10025064020010db800000000000000000000000120010db800000000
  00000000000000029c4c138983a2747834a7a6ea801800406e4800000101080a
  6ccb8327256bd00068656c6c6f
`);

// B -> A: duplicate ACK with a D-SACK of the repeated bytes 1:6 (ISN 1506010024)
const DSACK4 = hex(`
  45000040995a400040061d5ac0000202c00002011389dc9ee1c30b3559c3e3ae
  b0100040bd1400000101080ab47c14a237ce68ee0101050a59c3e3a959c3e3ae
`);
// B -> A: duplicate ACK with a SACK of the out-of-order bytes 11:16
const SACK4 = hex(`
  45000040995b400040061d59c0000202c00002011389dc9ee1c30b3559c3e3ae
  b0100040bc3700000101080ab47c156b37ce68ee0101050a59c3e3b359c3e3b8
`);

/** The TCP segment of an IPv4 datagram and its pseudo-header sum. */
function segment4(ip: Uint8Array): { seg: Uint8Array; pseudo: number } {
  const hlen = (ip[0] & 15) << 2;
  const len = ((ip[2] << 8) | ip[3]) - hlen;
  const src = ((ip[12] << 24) | (ip[13] << 16) | (ip[14] << 8) | ip[15]) >>> 0;
  const dst = ((ip[16] << 24) | (ip[17] << 16) | (ip[18] << 8) | ip[19]) >>> 0;
  return { seg: ip.subarray(hlen, hlen + len), pseudo: pseudoSum4(src, dst, 6, len) };
}

/** The TCP segment of an IPv6 datagram (no extension headers) and its pseudo-header sum. */
function segment6(ip: Uint8Array): { seg: Uint8Array; pseudo: number } {
  const len = (ip[4] << 8) | ip[5];
  return {
    seg: ip.subarray(40, 40 + len),
    pseudo: pseudoSum6(ip.subarray(8, 24), ip.subarray(24, 40), 6, len),
  };
}

function wrapped(seg: Uint8Array): TcpView {
  const v = new TcpView();
  assert.equal(v.wrap(seg, 0, seg.length), null);
  return v;
}

Deno.test("TcpView reads a captured IPv4 SYN field by field", () => {
  const { seg, pseudo } = segment4(SYN4);
  const v = wrapped(seg);
  assert.equal(v.srcPort, 36214);
  assert.equal(v.dstPort, 5001);
  assert.equal(v.seq, 4268173603);
  assert.equal(v.ack, 0);
  assert.equal(v.dataOffset, 10);
  assert.equal(v.headerLen, 40);
  assert.equal(v.flags, TCP_FLAG.SYN);
  assert.ok(v.hasFlags(TCP_FLAG.SYN));
  assert.ok(!v.hasFlags(TCP_FLAG.SYN | TCP_FLAG.ACK));
  assert.equal(v.window, 64240);
  assert.equal(v.checksum, 0xbd73);
  assert.equal(v.urgentPointer, 0);
  assert.equal(v.optionsOffset, 20);
  assert.equal(v.optionsLength, 20);
  assert.equal(v.payloadOffset, 40);
  assert.equal(v.payloadLength, 0);
  assert.ok(v.checksumOk(pseudo));
  const o = new TcpOptions();
  assert.equal(v.parseOptions(o), null);
  assert.equal(o.mss, 1460);
  assert.equal(o.sackPermitted, true);
  assert.equal(o.timestamp, true);
  assert.equal(o.tsVal, 3802554467);
  assert.equal(o.tsEcr, 0);
  assert.equal(o.wscale, 10);
  assert.equal(o.sackCount, 0);
});

Deno.test("TcpView reads a captured IPv4 SYN-ACK, ACK and data segment", () => {
  const o = new TcpOptions();
  {
    const { seg, pseudo } = segment4(SYNACK4);
    const v = wrapped(seg);
    assert.equal(v.srcPort, 5001);
    assert.equal(v.dstPort, 36214);
    assert.equal(v.seq, 759579154);
    assert.equal(v.ack, 4268173604);
    assert.equal(v.flags, TCP_FLAG.SYN | TCP_FLAG.ACK);
    assert.equal(v.window, 65160);
    assert.ok(v.checksumOk(pseudo));
    assert.equal(v.parseOptions(o), null);
    assert.deepEqual(
      [o.mss, o.sackPermitted, o.timestamp, o.tsVal, o.tsEcr, o.wscale, o.sackCount],
      [1460, true, true, 814932050, 3802554467, 10, 0],
    );
  }
  {
    const { seg, pseudo } = segment4(ACK4);
    const v = wrapped(seg);
    assert.equal(v.seq, 4268173604);
    assert.equal(v.ack, 759579155);
    assert.equal(v.flags, TCP_FLAG.ACK);
    assert.equal(v.window, 63);
    assert.equal(v.headerLen, 32);
    assert.equal(v.payloadLength, 0);
    assert.ok(v.checksumOk(pseudo));
    assert.equal(v.parseOptions(o), null);
    assert.deepEqual(
      [o.mss, o.sackPermitted, o.timestamp, o.tsVal, o.tsEcr, o.wscale, o.sackCount],
      [0, false, true, 3802554467, 814932050, -1, 0],
    );
  }
  {
    const { seg, pseudo } = segment4(DATA4);
    const v = wrapped(seg);
    assert.equal(v.flags, TCP_FLAG.PSH | TCP_FLAG.ACK);
    assert.equal(v.payloadOffset, 32);
    assert.equal(v.payloadLength, 5);
    assert.equal(
      new TextDecoder().decode(seg.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength)),
      "hello",
    );
    assert.ok(v.checksumOk(pseudo));
    // One flipped payload bit, or a wrong pseudo-header, fails the check.
    seg[v.payloadOffset] ^= 1;
    assert.ok(!v.checksumOk(pseudo));
    seg[v.payloadOffset] ^= 1;
    assert.ok(!v.checksumOk(pseudo + 1));
  }
});

Deno.test("TcpView reads captured Linux SACK and D-SACK blocks", () => {
  const o = new TcpOptions();
  const isn = 1506010024;
  for (
    const [ip, left, right, tsVal] of [[DSACK4, 1, 6, 3028030626], [
      SACK4,
      11,
      16,
      3028030827,
    ]] as const
  ) {
    const { seg, pseudo } = segment4(ip);
    const v = wrapped(seg);
    assert.equal(v.flags, TCP_FLAG.ACK);
    assert.equal(v.ack, isn + 6);
    assert.equal(v.headerLen, 44);
    assert.ok(v.checksumOk(pseudo));
    assert.equal(v.parseOptions(o), null);
    assert.deepEqual([o.timestamp, o.tsVal, o.tsEcr, o.sackCount], [true, tsVal, 936274158, 1]);
    assert.deepEqual([o.sackLeft[0], o.sackRight[0]], [isn + left, isn + right]);
  }
});

Deno.test("TcpView reads captured IPv6 segments and verifies their checksums", () => {
  const o = new TcpOptions();
  {
    const { seg, pseudo } = segment6(SYN6);
    const v = wrapped(seg);
    assert.equal(v.srcPort, 40012);
    assert.equal(v.seq, 2208461943);
    assert.equal(v.flags, TCP_FLAG.SYN);
    assert.equal(v.window, 64800);
    assert.ok(v.checksumOk(pseudo));
    assert.equal(v.parseOptions(o), null);
    assert.deepEqual(
      [o.mss, o.sackPermitted, o.timestamp, o.tsVal, o.tsEcr, o.wscale],
      [1440, true, true, 1825276710, 0, 10],
    );
  }
  {
    const { seg, pseudo } = segment6(SYNACK6);
    const v = wrapped(seg);
    assert.equal(v.seq, 883402473);
    assert.equal(v.ack, 2208461944);
    assert.equal(v.flags, TCP_FLAG.SYN | TCP_FLAG.ACK);
    assert.ok(v.checksumOk(pseudo));
    assert.equal(v.parseOptions(o), null);
    assert.deepEqual([o.tsVal, o.tsEcr], [627822592, 1825276710]);
  }
  {
    const { seg, pseudo } = segment6(DATA6);
    const v = wrapped(seg);
    assert.equal(v.payloadLength, 5);
    assert.ok(v.checksumOk(pseudo));
    const sum = v.checksum;
    v.setChecksum(0);
    v.fillChecksum(pseudo);
    assert.equal(v.checksum, sum);
  }
});

Deno.test("emitTcpHeader rebuilds captured Linux segments byte for byte", () => {
  const v = new TcpView();
  const o = new TcpOptions();
  for (
    const [ip, family] of [
      [SYN4, 4],
      [SYNACK4, 4],
      [ACK4, 4],
      [DATA4, 4],
      [SYN6, 6],
      [SYNACK6, 6],
      [DATA6, 6],
    ] as const
  ) {
    const { seg, pseudo } = family === 4 ? segment4(ip) : segment6(ip);
    assert.equal(v.wrap(seg, 0, seg.length), null);
    assert.equal(v.parseOptions(o), null);
    const repr: TcpRepr = {
      srcPort: v.srcPort,
      dstPort: v.dstPort,
      seq: v.seq,
      ack: v.ack,
      flags: v.flags,
      window: v.window,
      urgentPointer: v.urgentPointer,
    };
    const out = new Uint8Array(seg.length + 4).fill(0xee);
    assert.equal(tcpOptionsLength(o), v.optionsLength);
    const hlen = emitTcpHeader(out, 2, repr, o);
    assert.equal(hlen, v.headerLen);
    out.set(seg.subarray(v.payloadOffset), 2 + hlen);
    const w = new TcpView();
    assert.equal(w.wrap(out, 2, seg.length), null);
    w.fillChecksum(pseudo);
    assert.equal(toHex(out.subarray(2, 2 + seg.length)), toHex(seg));
    assert.equal(out[0], 0xee);
    assert.equal(out[out.length - 1], 0xee);
  }
});

Deno.test("TcpView setters write in place", () => {
  const seg = new Uint8Array(TCP_HEADER_LEN);
  const v = new TcpView();
  v.setHeaderLen(20);
  assert.equal(v.wrap(seg, 0, seg.length), "badoff"); // the view was empty: wrap first
  seg[12] = 0x50;
  assert.equal(v.wrap(seg, 0, seg.length), null);
  v.setSrcPort(65535);
  v.setDstPort(1);
  v.setSeq(-1);
  v.setAck(2 ** 32 + 5);
  v.setFlags(TCP_FLAG.CWR | TCP_FLAG.ECE | TCP_FLAG.URG | TCP_FLAG.FIN);
  v.setWindow(0xabcd);
  v.setUrgentPointer(7);
  v.setHeaderLen(24);
  assert.deepEqual(
    [v.srcPort, v.dstPort, v.seq, v.ack, v.flags, v.window, v.urgentPointer, v.headerLen],
    [65535, 1, 0xffffffff, 5, 0xe1, 0xabcd, 7, 24],
  );
  assert.equal(v.wrap(seg, 0, seg.length), "badoff"); // now claims 24 bytes in 20
});

Deno.test("TcpView.wrap refuses short segments and bad data offsets", () => {
  const v = new TcpView();
  const seg = new Uint8Array(60);
  seg[12] = 0x50;
  assert.equal(v.wrap(seg, 0, 19), "tooshort");
  assert.equal(v.wrap(seg, 0, 0), "tooshort");
  assert.equal(v.wrap(seg, 0, 20), null);
  for (let off = 0; off < 5; off++) {
    seg[12] = off << 4;
    assert.equal(v.wrap(seg, 0, 60), "badoff", `data offset ${off}`);
  }
  seg[12] = 0xf0; // 60 bytes
  assert.equal(v.wrap(seg, 0, 60), null);
  assert.equal(v.wrap(seg, 0, 59), "badoff");
  // The low nibble (reserved bits, AccECN) does not change the length.
  seg[12] = 0x5f;
  assert.equal(v.wrap(seg, 0, 20), null);
  assert.equal(v.headerLen, 20);
});

/** Parses `options` (padded to 4 bytes with EOL) inside a segment. */
function parse(options: number[], out = new TcpOptions()): TcpOptionsError | null {
  const seg = new Uint8Array(TCP_HEADER_LEN + ((options.length + 3) & ~3));
  seg.set(options, TCP_HEADER_LEN);
  seg[12] = (seg.length >>> 2) << 4;
  const v = new TcpView();
  assert.equal(v.wrap(seg, 0, seg.length), null);
  return v.parseOptions(out);
}

Deno.test("parseTcpOptions reports every malformed option", () => {
  // Length 0 or 1, and a length byte or option past the end.
  assert.equal(parse([99, 0]), "badoptlen");
  assert.equal(parse([99, 1, 0, 0]), "badoptlen");
  assert.equal(parse([1, 1, 1, 99]), "truncated"); // kind in the last byte, no length
  assert.equal(parse([99, 5, 0, 0]), "truncated");
  assert.equal(parse([2, 8, 5, 0xb4]), "truncated");
  // Known kinds with the wrong length.
  assert.equal(parse([2, 3, 5, 0]), "badmss");
  assert.equal(parse([2, 6, 5, 0xb4, 0, 0]), "badmss");
  assert.equal(parse([3, 4, 7, 0]), "badwscale");
  assert.equal(parse([3, 2, 1, 1]), "badwscale");
  assert.equal(parse([4, 3, 0, 0]), "badsackperm");
  assert.equal(parse([8, 8, 0, 0, 0, 0, 0, 0]), "badtimestamp");
  assert.equal(parse([8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "badtimestamp");
  assert.equal(parse([5, 2]), "badsack"); // no block
  assert.equal(parse([5, 9, 0, 0, 0, 0, 0, 0, 0]), "badsack"); // not 2 + 8n
  assert.equal(parse([5, 42, ...new Array(38).fill(0)]), "truncated"); // 5 blocks do not fit 40 bytes
  // What was read before the fault stays.
  const o = new TcpOptions();
  assert.equal(parse([2, 4, 5, 0xb4, 3, 2], o), "badwscale");
  assert.equal(o.mss, 1460);
});

Deno.test("parseTcpOptions skips unknown kinds and NOPs and stops at EOL", () => {
  const o = new TcpOptions();
  assert.equal(parse([1, 30, 4, 0xaa, 0xbb, 2, 4, 1, 0], o), null); // kind 30 (MPTCP) skipped
  assert.equal(o.mss, 256);
  // After EOL anything goes, even garbage.
  assert.equal(parse([3, 3, 14, 0, 99, 0, 0, 0], o), null);
  assert.equal(o.wscale, 14);
  assert.equal(o.mss, 0); // reset before parsing
  assert.equal(parse([], o), null);
  assert.deepEqual([o.mss, o.wscale, o.sackPermitted, o.timestamp, o.sackCount], [
    0,
    -1,
    false,
    false,
    0,
  ]);
  // A bare option range, outside any segment: only [start, end) is read.
  const raw = new Uint8Array([0xff, 2, 4, 0x05, 0xdc, 3, 3, 9]);
  assert.equal(parseTcpOptions(raw, 1, 5, o), null);
  assert.deepEqual([o.mss, o.wscale], [1500, -1]);
  assert.equal(parseTcpOptions(raw, 1, 7, o), "truncated");
  // SACK with four blocks, the most 40 bytes hold.
  const blocks = [];
  for (let i = 0; i < 4; i++) blocks.push(0, 0, 0, 10 * i + 1, 0xff, 0xff, 0xff, 10 * i + 2);
  assert.equal(parse([1, 1, 5, 34, ...blocks], o), null);
  assert.equal(o.sackCount, 4);
  assert.deepEqual(Array.from(o.sackLeft), [1, 11, 21, 31]);
  assert.deepEqual(Array.from(o.sackRight), [0xffffff02, 0xffffff0c, 0xffffff16, 0xffffff20]);
});

Deno.test("emitTcpOptions writes Linux's layouts", () => {
  const o = new TcpOptions();
  const b = new Uint8Array(40);
  // SYN without timestamps: MSS, NOP NOP SACK-permitted, NOP window scale.
  o.mss = 1460;
  o.sackPermitted = true;
  o.wscale = 7;
  assert.equal(emitTcpOptions(b, 0, o), 12);
  assert.equal(toHex(b.subarray(0, 12)), "020405b4010104020103030" + "7");
  // SYN with only MSS.
  o.reset().mss = 536;
  assert.equal(emitTcpOptions(b, 0, o), 4);
  assert.equal(toHex(b.subarray(0, 4)), "02040218");
  // Data with timestamps and SACK: the third block is the last that fits.
  o.reset();
  o.timestamp = true;
  o.tsVal = 0x01020304;
  o.tsEcr = 0xfffffffe;
  o.sackCount = 4;
  o.sackLeft.set([1, 3, 5, 7]);
  o.sackRight.set([2, 4, 6, 8]);
  assert.equal(tcpSackBlocksToSend(o), 3);
  assert.equal(tcpOptionsLength(o), TCP_MAX_OPTIONS_LEN);
  assert.equal(emitTcpOptions(b, 0, o), 40);
  assert.equal(
    toHex(b),
    "0101080a01020304fffffffe" + "0101051a" + "0000000100000002" + "0000000300000004" +
      "0000000500000006",
  );
  // Without timestamps all four blocks go.
  o.timestamp = false;
  assert.equal(tcpSackBlocksToSend(o), 4);
  assert.equal(emitTcpOptions(b, 0, o), 36);
  assert.equal(b[3], 34);
  assert.equal(b[2], TCPOPT.SACK);
});

Deno.test("parse(emit(options)) round-trips over seeded random options", () => {
  const rnd = prng(0x7c9);
  const sent = new TcpOptions();
  const got = new TcpOptions();
  const seg = new Uint8Array(80);
  const v = new TcpView();
  for (let trial = 0; trial < 2000; trial++) {
    sent.reset();
    if (rnd(2)) sent.mss = 1 + rnd(65535);
    if (rnd(2)) sent.wscale = rnd(16);
    sent.sackPermitted = rnd(2) === 1;
    if (rnd(2)) {
      sent.timestamp = true;
      sent.tsVal = rnd(2 ** 32);
      sent.tsEcr = rnd(2 ** 32);
    }
    sent.sackCount = rnd(5);
    for (let i = 0; i < 4; i++) {
      sent.sackLeft[i] = rnd(2 ** 32);
      sent.sackRight[i] = rnd(2 ** 32);
    }
    const repr: TcpRepr = {
      srcPort: rnd(65536),
      dstPort: rnd(65536),
      seq: rnd(2 ** 32),
      ack: rnd(2 ** 32),
      flags: rnd(256),
      window: rnd(65536),
      urgentPointer: rnd(65536),
    };
    const payload = rnd(20);
    const at = rnd(4);
    const hlen = emitTcpHeader(seg, at, repr, sent);
    assert.ok(hlen <= 60 && hlen % 4 === 0, `header length ${hlen}`);
    assert.equal(hlen, TCP_HEADER_LEN + tcpOptionsLength(sent));
    assert.equal(v.wrap(seg, at, hlen + payload), null);
    const pseudo = pseudoSum4(rnd(2 ** 32), rnd(2 ** 32), 6, hlen + payload);
    v.fillChecksum(pseudo);
    assert.ok(v.checksumOk(pseudo));
    assert.deepEqual(
      [
        v.srcPort,
        v.dstPort,
        v.seq,
        v.ack,
        v.flags,
        v.window,
        v.urgentPointer,
        v.headerLen,
        v.payloadLength,
      ],
      [
        repr.srcPort,
        repr.dstPort,
        repr.seq,
        repr.ack,
        repr.flags,
        repr.window,
        repr.urgentPointer,
        hlen,
        payload,
      ],
    );
    assert.equal(v.parseOptions(got), null);
    const blocks = tcpSackBlocksToSend(sent);
    assert.deepEqual(
      [got.mss, got.wscale, got.sackPermitted, got.timestamp, got.tsVal, got.tsEcr, got.sackCount],
      [sent.mss, sent.wscale, sent.sackPermitted, sent.timestamp, sent.tsVal, sent.tsEcr, blocks],
    );
    for (let i = 0; i < blocks; i++) {
      assert.equal(got.sackLeft[i], sent.sackLeft[i]);
      assert.equal(got.sackRight[i], sent.sackRight[i]);
    }
  }
});

/** V8's running count of heap bytes allocated (not in Node's typings; Deno 2.9 has it). */
function allocated(): number {
  const n = (v8.getHeapStatistics() as unknown as { total_allocated_bytes?: number })
    .total_allocated_bytes;
  if (n === undefined) throw new Error("this Deno's V8 reports no total_allocated_bytes");
  return n;
}

Deno.test("wrapping, checking and parsing options allocate nothing per segment", () => {
  const { seg, pseudo } = segment4(SYN4);
  const data = segment4(DATA4);
  const v = new TcpView();
  const o = new TcpOptions();
  let sum = 0;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const s = i & 1 ? seg : data.seg;
      if (v.wrap(s, 0, s.length) !== null) throw new Error("refused");
      if (!v.checksumOk(i & 1 ? pseudo : data.pseudo)) throw new Error("bad sum");
      if (v.parseOptions(o) !== null) throw new Error("bad options");
      sum = (sum ^ o.tsVal ^ v.seq ^ v.ack ^ v.window ^ o.mss) & 0xffff;
    }
  };
  // Warm up until optimised code runs, then keep the least of three counts:
  // compiling and the test runner's own work show up as one-off bumps.
  for (let i = 0; i < 3; i++) run(100_000);
  let grown = Infinity;
  for (let k = 0; k < 3; k++) {
    const before = allocated();
    run(100_000);
    grown = Math.min(grown, allocated() - before);
  }
  assert.ok(sum >= 0);
  // A per-parse object of even 16 bytes would be 1.6 MB over 100 000 parses.
  assert.ok(grown < 400_000, `allocated ${grown} bytes over 100 000 parses`);
});
