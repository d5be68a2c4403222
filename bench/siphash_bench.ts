/**
 * SipHash-2-4 throughput on the inputs the stack hashes: a TCP 4-tuple of
 * IPv4 addresses (3 words) and of IPv6 addresses (9 words), plus 64-byte
 * messages through the byte form; then what a listener does per SYN with it:
 * an RFC 6528 ISN, a SYN cookie made and checked, and a SYN cache lookup and
 * add under a flood of new tuples (full at its default limit of 10 255, each
 * add evicting the oldest), with NetBSD's 293 buckets and with 4096.
 * Reports the median of a few rounds in operations per second. Asserts
 * nothing.
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
    `${label.padEnd(40)} ${(median / 1e6).toFixed(2)} M/s  (check ${out[0] ^ out[1]})`,
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

// ---------------------------------------------------------------- what the listener does per SYN

import { IpAddr } from "../core/net/inet_addr.ts";
import { SynCookies } from "../core/transport/tcp/syn_cookie.ts";
import { SynCache } from "../core/transport/tcp/syn_cache.ts";
import { IsnSource } from "../core/transport/tcp/isn.ts";

const local = IpAddr.v4(0xc0000201), remote = IpAddr.v4(0xc6336400);
const isns = new IsnSource(new Uint8Array(16).fill(1));
run("RFC 6528 ISN, IPv4", (i) => {
  remote.v4 = 0xc6336400 | (i & 0xff);
  out[0] = isns.isn(local, 80, remote, i & 0xffff, i / 1000);
});

const cookies = new SynCookies(new Uint8Array(16).fill(2));
const synOptions = { mss: 1460, wscale: 7, sackPermitted: true, timestamp: true };
run("SYN cookie encode + decode, IPv4", (i) => {
  remote.setV4(0xc6336400 | (i & 0xff));
  const iss = cookies.encode(local, 80, remote, i & 0xffff, i, synOptions, 1000);
  out[0] = cookies.decode(iss, i, local, 80, remote, i & 0xffff, 2000)!.mss;
});

for (const buckets of [293, 4096]) {
  const cache = new SynCache<number>({ secret: new Uint8Array(16).fill(3), buckets });
  run(`SYN cache lookup + add, ${buckets} buckets`, (i) => {
    remote.setV4(0xc6336400 | (i & 0xff));
    const port = 1024 + (i % 60000);
    if (cache.lookup(local, 80, remote, port) === null) {
      out[0] = cache.add(local, 80, remote, port, 1, i / 100).localPort;
    }
  });
}
