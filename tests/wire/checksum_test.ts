import assert from "node:assert/strict";
import {
  checksum,
  finishChecksum,
  pseudoSum4,
  pseudoSum6,
  sumWords,
  updateChecksum,
} from "../../core/wire/checksum.ts";
import { hex, mulberry32, prng } from "../kit/bytes.ts";
import { readU16, readU32 } from "../../core/wire/bytes.ts";

/** mulberry32: a small seeded PRNG, so random trials repeat exactly. */

/** A reference checksum, the slow way: end-around carry after every word. */
function reference(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i] << 8) | (i + 1 < bytes.length ? bytes[i + 1] : 0);
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return ~sum & 0xffff;
}

// Fixtures captured from Linux with tcpdump: two network namespaces joined by a
// veth pair (A = 192.0.2.1/25, B = 192.0.2.2/25), transmit checksum offload
// turned off with `ethtool -K ... tx off` so the captured checksums are complete.
// IP datagrams, Ethernet header stripped; hex taken from the pcap files.
// A -> B: echo -n abc > /dev/udp/192.0.2.2/9 (UDP length 11: an odd number of bytes)
const UDP_ODD = hex(`
  4500001f3c5c400040117a6ec0000201c0000202d2f60009000be471616263
`);
// A -> B: the SYN of bash's exec 3<>/dev/tcp/192.0.2.2/9
const TCP_SYN = hex(`
  4500003c5a89400040065c2fc0000201c0000202c1c400096b88360700000000
  a002faf06bf00000020405b40402080a85f173c9000000000103030a
`);
// B -> A: Linux's RST, ACK answer (port closed)
const TCP_RST = hex(`
  45000028000040004006b6ccc0000202c00002010009c1c4000000006b883608
  50140000c86e0000
`);
// IPv6 router solicitation fe80::ff:fe00:a -> ff02::2 sent by Linux when the veth came up
const ICMP6_RS = hex(`
  6000000000103afffe80000000000000000000fffe00000aff02000000000000
  000000000000000285007b1a00000000010102000000000a
`);

/** The unfolded sum the simple way: two bytes per word, the odd tail padded with zero. */
function referenceSum(bytes: Uint8Array, start: number, end: number, sum = 0): number {
  for (let i = start; i < end; i += 2) sum += (bytes[i] << 8) | (i + 1 < end ? bytes[i + 1] : 0);
  return sum;
}

/** Verifies a transport checksum over an IPv4 datagram with a 20-byte header. */
function transportSum4(ip: Uint8Array): number {
  const len = readU16(ip, 2) - 20;
  const pseudo = pseudoSum4(readU32(ip, 12), readU32(ip, 16), ip[9], len);
  return finishChecksum(sumWords(ip, 20, 20 + len, pseudo));
}

Deno.test("the numerical example of RFC 1071 section 3", () => {
  const bytes = hex("0001 f203 f4f5 f6f7");
  assert.equal(sumWords(bytes), 0x2ddf0); // unfolded
  assert.equal(finishChecksum(sumWords(bytes)), ~0xddf2 & 0xffff);
  assert.equal(checksum(bytes), 0x220d);
  // The sum is independent of the order of the words (RFC 1071 2(B)).
  assert.equal(checksum(hex("f6f7 f4f5 f203 0001")), 0x220d);
});

Deno.test("a correct header sums to zero and recomputes to its stored checksum", () => {
  for (const pkt of [UDP_ODD, TCP_SYN, TCP_RST]) {
    assert.equal(checksum(pkt, 0, 20), 0);
    const copy = pkt.slice(0, 20);
    const stored = readU16(copy, 10);
    copy[10] = 0;
    copy[11] = 0;
    assert.equal(checksum(copy), stored);
    assert.equal(reference(copy), stored);
  }
});

Deno.test("odd lengths pad the last byte with zero", () => {
  assert.equal(sumWords(hex("ab")), 0xab00);
  assert.equal(sumWords(hex("010203")), 0x0102 + 0x0300);
  assert.equal(checksum(hex("010203")), checksum(hex("01020300")));
  // A range that starts at an odd offset.
  const b = hex("ff 0102 0304");
  assert.equal(sumWords(b, 1), 0x0102 + 0x0304);
  assert.equal(sumWords(b, 1, 4), 0x0102 + 0x0300);
  assert.equal(sumWords(b, 2, 2), 0);
});

Deno.test("sums chain through the sum argument", () => {
  const b = TCP_SYN;
  assert.equal(sumWords(b, 20, 40, sumWords(b, 0, 20)), sumWords(b, 0, 40));
  assert.equal(sumWords(b, 10, b.length, sumWords(b, 0, 10)), sumWords(b));
});

Deno.test("finishChecksum folds any sum", () => {
  assert.equal(finishChecksum(0), 0xffff);
  assert.equal(finishChecksum(0xffff), 0);
  assert.equal(finishChecksum(0x1fffe), 0); // 0xfffe + 1 = 0xffff
  assert.equal(finishChecksum(0x10000), 0xfffe);
  // Sums past 32 bits (a JavaScript number holds them exactly).
  assert.equal(finishChecksum(2 ** 40 + 5), ~(((2 ** 40) % 0xffff) + 5) & 0xffff);
  const rnd = mulberry32(1);
  for (let i = 0; i < 1000; i++) {
    const sum = Math.floor(rnd() * 2 ** 48);
    const r = sum % 0xffff; // ones' complement: fold = sum mod 0xffff, with 0 as 0xffff
    assert.equal(finishChecksum(sum), sum === 0 ? 0xffff : ~(r === 0 ? 0xffff : r) & 0xffff);
  }
});

Deno.test("large buffers agree with the reference", () => {
  const ones = new Uint8Array(65535).fill(0xff);
  assert.equal(checksum(ones), reference(ones));
  const rnd = mulberry32(7);
  for (let i = 0; i < 50; i++) {
    const b = Uint8Array.from({ length: Math.floor(rnd() * 9000) }, () => Math.floor(rnd() * 256));
    assert.equal(checksum(b), reference(b), `length ${b.length}`);
  }
});

Deno.test("IPv4 pseudo-header: UDP of odd length, TCP SYN and RST from Linux", () => {
  for (const pkt of [UDP_ODD, TCP_SYN, TCP_RST]) assert.equal(transportSum4(pkt), 0);
  // Recompute the UDP checksum from scratch (field at offset 6 of the UDP header).
  const udp = UDP_ODD.slice(20);
  const stored = readU16(udp, 6);
  udp[6] = 0;
  udp[7] = 0;
  const pseudo = pseudoSum4(0xc0000201, 0xc0000202, 17, udp.length);
  assert.equal(udp.length, 11);
  assert.equal(finishChecksum(sumWords(udp, 0, udp.length, pseudo)), stored);
  assert.equal(pseudoSum4(0xffffffff, 0, 255, 0xffff), 0xffff * 3 + 255);
});

Deno.test("IPv6 pseudo-header: an ICMPv6 router solicitation from Linux", () => {
  const src = ICMP6_RS.subarray(8, 24);
  const dst = ICMP6_RS.subarray(24, 40);
  const len = readU16(ICMP6_RS, 4);
  const msg = ICMP6_RS.slice(40);
  assert.equal(len, msg.length);
  assert.equal(finishChecksum(sumWords(msg, 0, len, pseudoSum6(src, dst, 58, len))), 0);
  const stored = readU16(msg, 2);
  msg[2] = 0;
  msg[3] = 0;
  assert.equal(stored, 0x7b1a);
  assert.equal(finishChecksum(sumWords(msg, 0, len, pseudoSum6(src, dst, 58, len))), stored);
  // Lengths above 16 bits (jumbograms) fold in as two words.
  const zero = new Uint8Array(16);
  assert.equal(pseudoSum6(zero, zero, 6, 0x12345), 0x1 + 0x2345 + 6);
});

Deno.test("RFC 1624's worked example: eqn. 3 gives 0x0000 where eqn. 2 gave 0xffff", () => {
  assert.equal(updateChecksum(0xdd2f, 0x5555, 0x3285), 0x0000);
});

Deno.test("incremental update turns an echo request's checksum into the reply's", () => {
  // ICMP type 8 -> 0 in the first word; Linux's reply carried 0x9ee3 for request 0x96e3.
  assert.equal(updateChecksum(0x96e3, 0x0800, 0x0000), 0x9ee3);
  assert.equal(updateChecksum(0x9ee3, 0x0000, 0x0800), 0x96e3);
  assert.equal(updateChecksum(0x1234, 0xabcd, 0xabcd), 0x1234);
});

Deno.test("all-zero data: eqn. 3 yields 0x0000 where recomputation yields 0xffff", () => {
  // Both are ones' complement zeros, but only 0xffff makes the data verify.
  // Reachable when a message becomes all zeros, e.g. an echo request of type 8,
  // id 0, seq 0 and no data turned into its reply: use a full recomputation there.
  const echo = new Uint8Array(8);
  echo[0] = 8;
  const before = checksum(echo);
  echo[0] = 0;
  assert.equal(updateChecksum(before, 0x0800, 0x0000), 0x0000);
  assert.equal(checksum(echo), 0xffff);
});

Deno.test("incremental update equals recomputation over random trials", () => {
  const rnd = mulberry32(0x1624);
  const int = (n: number) => Math.floor(rnd() * n);
  for (let i = 0; i < 5000; i++) {
    const words = 2 + int(40);
    const b = new Uint8Array(words * 2);
    // Half the trials draw bytes from {0x00, 0xff} to reach the ones' complement edges.
    const edge = i % 2 === 1;
    for (let j = 0; j < b.length; j++) b[j] = edge ? (rnd() < 0.5 ? 0 : 0xff) : int(256);
    const sumAt = 2 * int(words);
    b[sumAt] = 0;
    b[sumAt + 1] = 0;
    let sum = checksum(b);
    b[sumAt] = sum >> 8;
    b[sumAt + 1] = sum & 0xff;
    for (let k = 0; k < 3; k++) {
      let at = 2 * int(words);
      if (at === sumAt) at = (at + 2) % b.length;
      const old = readU16(b, at);
      const next = edge ? (rnd() < 0.5 ? 0 : 0xffff) : int(0x10000);
      b[at] = next >> 8;
      b[at + 1] = next & 0xff;
      sum = updateChecksum(sum, old, next);
      b[sumAt] = 0;
      b[sumAt + 1] = 0;
      if (b.every((x) => x === 0)) {
        // The one case where they differ (see the all-zero test): start over.
        sum = checksum(b);
      }
      assert.equal(sum, checksum(b), `trial ${i}, change ${k}`);
      b[sumAt] = sum >> 8;
      b[sumAt + 1] = sum & 0xff;
      assert.equal(checksum(b), 0);
    }
  }
});

Deno.test("property: the word-at-a-time sum equals two bytes per word, at any offset and length", () => {
  const int = prng(0x1071);
  // Views at every alignment of their buffer, over ordinary and shared memory.
  const backings = [new ArrayBuffer(9100), new SharedArrayBuffer(9100), new ArrayBuffer(9100)];
  for (const buf of backings) {
    const all = new Uint8Array(buf);
    for (let i = 0; i < all.length; i++) all[i] = int(256);
  }
  for (let trial = 0; trial < 3000; trial++) {
    const buf = backings[trial % backings.length];
    const base = int(64);
    const bytes = new Uint8Array(buf, base, 9100 - base - int(32));
    const len = trial < 200 ? trial : int(9001); // every short length, then random ones
    const start = int(Math.max(1, bytes.length - len));
    const end = Math.min(bytes.length, start + len);
    const carry = int(4) === 0 ? int(0x7fffffff) : 0;
    const want = referenceSum(bytes, start, end, carry);
    assert.equal(sumWords(bytes, start, end, carry), want, `trial ${trial}: ${start}+${len}`);
    assert.equal(checksum(bytes, start, end), finishChecksum(referenceSum(bytes, start, end)));
  }
});

Deno.test("property: edge bytes (all 0x00 or all 0xff) and long ranges sum exactly", () => {
  const int = prng(1624);
  for (const fill of [0x00, 0xff]) {
    const b = new Uint8Array(70000).fill(fill);
    for (let trial = 0; trial < 50; trial++) {
      const start = int(8), end = b.length - int(8);
      assert.equal(sumWords(b, start, end), referenceSum(b, start, end));
      assert.equal(checksum(b, start, end), reference(b.subarray(start, end)));
    }
  }
});

Deno.test("ranges past the end read as zeros; empty and reversed ranges add nothing", () => {
  const b = new Uint8Array(301).map((_, i) => (i * 31) & 0xff);
  assert.equal(sumWords(b, 100, 400), referenceSum(b, 100, 301));
  assert.equal(sumWords(b, 3, 1000, 5), referenceSum(b, 3, 301, 5));
  assert.equal(sumWords(b, 200, 200, 9), 9);
  assert.equal(sumWords(b, 250, 100, 9), 9);
});

Deno.test("sums over views of different buffers, interleaved, each read their own bytes", () => {
  const a = new Uint8Array(4096).fill(0x11), b = new Uint8Array(4096).fill(0x22);
  const c = new Uint8Array(new ArrayBuffer(8192), 4096).fill(0x33);
  for (let round = 0; round < 3; round++) {
    for (const [view, byte] of [[a, 0x11], [b, 0x22], [c, 0x33]] as const) {
      assert.equal(sumWords(view, 0, 1000), 500 * ((byte << 8) | byte));
    }
  }
});
