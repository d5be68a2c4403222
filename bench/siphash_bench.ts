/**
 * SipHash-2-4 throughput on the inputs the stack hashes: a TCP 4-tuple of
 * IPv4 addresses (3 words) and of IPv6 addresses (9 words), plus 64-byte
 * messages through the byte form. Reports the median of a few rounds in
 * hashes per second. Asserts nothing.
 *
 *   bin/deno run bench/siphash_bench.ts [hashes] [rounds]
 * @module
 */

import { sipHash24, sipHash24Bytes, sipKey } from "../core/lib/siphash.ts";

const HASHES = Number(Deno.args[0] ?? 2_000_000);
const ROUNDS = Number(Deno.args[1] ?? 5);

const key = sipKey(Uint8Array.from({ length: 16 }, (_, i) => i * 7));
const out = new Uint32Array(2);

function run(label: string, hashOnce: (i: number) => void): void {
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < HASHES; i++) hashOnce(i);
    rates.push(HASHES / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  const median = rates[rates.length >> 1];
  console.log(
    `${label.padEnd(34)} ${(median / 1e6).toFixed(2)} M hashes/s  (check ${out[0] ^ out[1]})`,
  );
}

const tuple4 = new Uint32Array(3);
run("4-tuple, IPv4 (3 words)", (i) => {
  tuple4[0] = 0xc0000201;
  tuple4[1] = 0xc6336400 + (i & 0xff);
  tuple4[2] = (80 << 16) | (i & 0xffff);
  sipHash24(key, tuple4, 3, out);
});

const tuple6 = new Uint32Array(9);
tuple6[0] = 0x20010db8;
tuple6[4] = 0x20010db8;
run("4-tuple, IPv6 (9 words)", (i) => {
  tuple6[3] = i;
  tuple6[8] = (443 << 16) | (i & 0xffff);
  sipHash24(key, tuple6, 9, out);
});

const bytes = new Uint8Array(64);
run("64 bytes", (i) => {
  bytes[0] = i;
  sipHash24Bytes(key, bytes, out);
});
