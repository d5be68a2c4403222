import assert from "node:assert/strict";
import { IpAddr } from "../../core/net/inet_addr.ts";
import {
  deriveKey,
  isnClock,
  IsnSource,
  KEY_PURPOSE,
  packTuple,
  PortCounter,
  selectEphemeralPort,
  TUPLE_WORDS_MAX,
} from "../../core/transport/tcp/isn.ts";
import { sipHash24Low32 } from "../../core/lib/siphash.ts";

const SECRET = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const L4 = IpAddr.parse("192.0.2.1")!, R4 = IpAddr.parse("198.51.100.7")!;
const L6 = IpAddr.parse("2001:db8::1")!, R6 = IpAddr.parse("2001:db8:1::7")!;

Deno.test("packTuple: IPv4 in 3 words, IPv6 in 9, ports in the last word", () => {
  const w = new Uint32Array(TUPLE_WORDS_MAX);
  assert.equal(packTuple(w, L4, 80, R4, 40000), 3);
  assert.deepEqual([...w.subarray(0, 3)], [0xc0000201, 0xc6336407, (80 << 16 | 40000) >>> 0]);
  assert.equal(packTuple(w, L6, 443, R6, 65535), 9);
  assert.deepEqual([...w], [
    0x20010db8,
    0,
    0,
    1,
    0x20010db8,
    0x00010000,
    0,
    7,
    ((443 << 16) | 65535) >>> 0,
  ]);
});

Deno.test("isnClock ticks every 4 µs and wraps at 2^32", () => {
  assert.equal(isnClock(0), 0);
  assert.equal(isnClock(0.004), 1);
  assert.equal(isnClock(0.0039), 0);
  assert.equal(isnClock(1), 250);
  assert.equal(isnClock(1000), 250_000);
  const wrapMs = 0x1_0000_0000 / 250; // 17 179 869.184 ms, about 4.77 hours
  assert.equal(isnClock(wrapMs), 0);
  assert.equal(isnClock(wrapMs + 1), 250);
  assert.equal(isnClock(wrapMs - 0.004), 0xffffffff);
});

Deno.test("ISN = M + SipHash of the tuple under the derived key (exact values)", () => {
  const src = new IsnSource(SECRET);
  const key = deriveKey(SECRET, KEY_PURPOSE.isn);
  const w = new Uint32Array(TUPLE_WORDS_MAX);
  const f4 = sipHash24Low32(key, w, packTuple(w, L4, 80, R4, 40000));
  assert.equal(src.isn(L4, 80, R4, 40000, 0), f4);
  assert.equal(src.isn(L4, 80, R4, 40000, 1000), (f4 + 250_000) >>> 0);
  const f6 = sipHash24Low32(key, w, packTuple(w, L6, 80, R6, 40000));
  assert.equal(src.isn(L6, 80, R6, 40000, 2), (f6 + 500) >>> 0);
  // Pinned, so an accidental change of the hash input (word order, key derivation) shows.
  assert.equal(f4, 0xe32f6620);
  assert.equal(f6, 0xa7ff0b33);
});

Deno.test("ISNs of one tuple increase with time; other tuples and other secrets are unrelated", () => {
  const src = new IsnSource(SECRET);
  const a = src.isn(L4, 80, R4, 40000, 5000);
  assert.equal((src.isn(L4, 80, R4, 40000, 5000.004) - a) >>> 0, 1);
  assert.equal((src.isn(L4, 80, R4, 40000, 6000) - a) >>> 0, 250_000);
  const others = new Set([
    a,
    src.isn(L4, 80, R4, 40001, 5000),
    src.isn(L4, 81, R4, 40000, 5000),
    src.isn(R4, 80, L4, 40000, 5000),
    src.isn(L6, 80, R6, 40000, 5000),
    new IsnSource(new Uint8Array(16)).isn(L4, 80, R4, 40000, 5000),
  ]);
  assert.equal(others.size, 6);
});

Deno.test("ephemeral offsets depend on local, remote address and remote port, not on the local port", () => {
  const src = new IsnSource(SECRET);
  const base = src.ephemeralPortOffset(L4, R4, 80);
  assert.equal(src.ephemeralPortOffset(L4, R4, 80), base);
  const key = deriveKey(SECRET, KEY_PURPOSE.ephemeralPort);
  const w = new Uint32Array(TUPLE_WORDS_MAX);
  assert.equal(base, sipHash24Low32(key, w, packTuple(w, L4, 0, R4, 80)));
  const seen = new Set([
    base,
    src.ephemeralPortOffset(L4, R4, 443),
    src.ephemeralPortOffset(L4, IpAddr.parse("198.51.100.8")!, 80),
    src.ephemeralPortOffset(IpAddr.parse("192.0.2.2")!, R4, 80),
    src.ephemeralPortOffset(L6, R6, 80),
  ]);
  assert.equal(seen.size, 5);
  // The ISN key and the port key differ: the offset is not the ISN's hash at time 0.
  assert.notEqual(base, src.isn(L4, 0, R4, 80, 0));
});

Deno.test("Algorithm 3: one destination gets consecutive ports; the counter is shared", () => {
  const counter = new PortCounter();
  const offset = 1234;
  const min = 49152, max = 65535, range = max - min + 1;
  const first = selectEphemeralPort(offset, min, max, counter, () => true);
  assert.equal(first, min + (offset % range));
  assert.equal(selectEphemeralPort(offset, min, max, counter, () => true), first + 1);
  assert.equal(counter.next, 2);
  // Another destination's offset starts elsewhere but advances the same counter.
  assert.equal(
    selectEphemeralPort(9999, min, max, counter, () => true),
    min + ((9999 + 2) % range),
  );
  assert.equal(counter.next, 3);
});

Deno.test("Algorithm 3 skips ports in use, wraps inside [min, max], and gives -1 when all are taken", () => {
  const counter = new PortCounter();
  const used = new Set([1003, 1004, 1000]);
  const probes: number[] = [];
  const isFree = (p: number) => {
    probes.push(p);
    return !used.has(p);
  };
  // range 1000..1004, offset 3: probes 1003 (used), 1004 (used), 1000 (used), 1001
  assert.equal(selectEphemeralPort(3, 1000, 1004, counter, isFree), 1001);
  assert.deepEqual(probes, [1003, 1004, 1000, 1001]);
  assert.equal(counter.next, 4);
  probes.length = 0;
  assert.equal(selectEphemeralPort(3, 1000, 1004, counter, () => false), -1);
  assert.equal(counter.next, 9, "every port tried exactly once");
  assert.equal(selectEphemeralPort(0, 10, 9, counter, () => true), -1, "empty range");
  // Large offsets and counters near 2^32 stay in range.
  counter.next = 0xfffffffe;
  for (let i = 0; i < 4; i++) {
    const p = selectEphemeralPort(0xffffffff, 1000, 1004, counter, () => true);
    assert.ok(p >= 1000 && p <= 1004, `port ${p}`);
  }
});
