import assert from "node:assert/strict";
import { IpAddr } from "../../core/net/inet_addr.ts";
import { TcpStats } from "../../core/stats.ts";
import {
  SYN_BUCKET_LIMIT,
  SYN_CACHE_LIMIT,
  SynCache,
  SynCacheEntry,
  SynCacheStats,
} from "../../core/transport/tcp/syn_cache.ts";
import { prng } from "../kit/bytes.ts";

const SECRET = Uint8Array.from({ length: 16 }, (_, i) => 0x11 * i);
const L4 = IpAddr.parse("192.0.2.1")!;
const L6 = IpAddr.parse("2001:db8::1")!;

/** The client address number `i` in 198.51.100.0/24 and 203.0.113.0/24 (v4) or 2001:db8:1::/64 (v6). */
function client4(i: number): IpAddr {
  return IpAddr.v4((i & 0x100 ? 0xcb007100 : 0xc6336400) | (i & 0xff));
}
function client6(i: number): IpAddr {
  const b = IpAddr.parse("2001:db8:1::")!.bytes.slice();
  b[12] = i >>> 24;
  b[13] = (i >>> 16) & 0xff;
  b[14] = (i >>> 8) & 0xff;
  b[15] = i & 0xff;
  return IpAddr.v6(b);
}

function cache(options: Partial<ConstructorParameters<typeof SynCache<string>>[0]> = {}) {
  return new SynCache<string>({ secret: SECRET, ...options });
}

/** Every way out of the cache, summed: equals `sc_added` minus what is still in. */
function leftBy(s: SynCacheStats): number {
  return s.sc_completed + s.sc_aborted + s.sc_dropped + s.sc_timed_out + s.sc_reset + s.sc_unreach +
    s.sc_overflowed + s.sc_bucketoverflow;
}

Deno.test("NetBSD's defaults: 293 x 35 entries, 105 per bucket", () => {
  assert.equal(SYN_CACHE_LIMIT, 10255);
  assert.equal(SYN_BUCKET_LIMIT, 105);
  const c = cache();
  assert.equal(c.limit, 10255);
  assert.equal(c.bucketLimit, 105);
  assert.equal(c.nextDeadline(), Infinity);
});

Deno.test("add and lookup for both families; another tuple misses; fields start blank", () => {
  const c = cache();
  const r4 = client4(7), r6 = client6(7);
  const a = c.add(L4, 80, r4, 40000, "http", 100);
  const b = c.add(L6, 80, r6, 40000, "http6", 100);
  assert.equal(c.size, 2);
  assert.equal(c.lookup(L4, 80, r4, 40000), a);
  assert.equal(c.lookup(L6, 80, r6, 40000), b);
  assert.equal(c.lookup(L4, 80, r4, 40001), null);
  assert.equal(c.lookup(L4, 81, r4, 40000), null);
  assert.equal(c.lookup(L4, 80, client4(8), 40000), null);
  assert.equal(c.lookup(r4, 40000, L4, 80), null, "the reverse direction");
  assert.equal(c.lookup(L6, 80, client6(8), 40000), null);
  assert.equal(a.listener, "http");
  assert.equal(b.listener, "http6");
  assert.ok(
    a.local.equals(L4) && a.remote.equals(r4) && a.localPort === 80 && a.remotePort === 40000,
  );
  assert.notEqual(a.remote, r4, "the entry holds its own copy of the address");
  assert.deepEqual(
    [
      a.iss,
      a.irs,
      a.peerMss,
      a.peerWscale,
      a.ourWscale,
      a.sackPermitted,
      a.timestamp,
      a.window,
      a.rxtShift,
    ],
    [0, 0, 0, -1, -1, false, false, 0, 0],
  );
  assert.equal(a.addedAt, 100);
  assert.equal(c.counters.sc_added, 2);
});

Deno.test("SYN-ACK retransmissions at 3, 9, 21 and 45 s; the entry times out at 93 s", () => {
  const c = cache();
  const e = c.add(L4, 80, client4(1), 1234, "l", 0);
  e.iss = 777;
  const sent: number[] = [];
  const onRetransmit = (x: SynCacheEntry<string>) => sent.push(x.iss, x.rxtShift);
  const steps: [number, number][] = [];
  for (let now = 0; now <= 100_000; now = c.nextDeadline()) {
    c.expire(now, onRetransmit);
    steps.push([now, c.size]);
    if (c.nextDeadline() === Infinity) break;
  }
  assert.deepEqual(steps, [[0, 1], [3000, 1], [9000, 1], [21000, 1], [45000, 1], [93000, 0]]);
  assert.deepEqual(sent, [777, 1, 777, 2, 777, 3, 777, 4]);
  assert.equal(c.counters.sc_retransmitted, 4);
  assert.equal(c.counters.sc_timed_out, 1);
  assert.equal(c.nextDeadline(), Infinity);
});

Deno.test("expire runs nothing early, retransmits once when called late, and keeps deadline order", () => {
  const c = cache();
  const a = c.add(L4, 80, client4(1), 1, "l", 0);
  const b = c.add(L4, 80, client4(2), 1, "l", 1000);
  const d = c.add(L4, 80, client4(3), 1, "l", 2000);
  const order: SynCacheEntry<string>[] = [];
  c.expire(2999, (x) => order.push(x));
  assert.equal(order.length, 0);
  c.expire(4000, (x) => order.push(x));
  assert.deepEqual(order, [a, b]);
  assert.equal(c.nextDeadline(), 5000);
  c.expire(50_000, (x) => order.push(x)); // late: each due entry once, re-armed from now
  assert.deepEqual(order, [a, b, d, a, b]);
  assert.deepEqual([a.rxtShift, b.rxtShift, d.rxtShift], [2, 2, 1]);
  assert.deepEqual([a.deadline, b.deadline, d.deadline], [62_000, 62_000, 56_000]);
  assert.equal(c.nextDeadline(), 56_000);
});

Deno.test("a callback may remove the entry it is given", () => {
  const c = cache();
  c.add(L4, 80, client4(1), 1, "l", 0);
  c.add(L4, 80, client4(2), 1, "l", 0);
  c.expire(3000, (x) => c.drop(x));
  assert.equal(c.size, 0);
  assert.equal(c.counters.sc_dropped, 2);
  assert.equal(c.counters.sc_retransmitted, 2);
  assert.equal(c.nextDeadline(), Infinity);
});

Deno.test("the last ACK must acknowledge iss + 1 and fall in (irs, irs + 1 + window], across the wrap", () => {
  const c = cache();
  const e = c.add(L4, 80, client4(1), 1, "l", 0);
  e.iss = 0xffffffff;
  e.irs = 0xfffffff0;
  e.window = 100;
  assert.ok(c.ackAcceptable(e, 0xfffffff1, 0));
  assert.ok(c.ackAcceptable(e, (0xfffffff1 + 100) >>> 0, 0));
  assert.equal(c.ackAcceptable(e, (0xfffffff1 + 101) >>> 0, 0), false, "beyond the window");
  assert.equal(c.ackAcceptable(e, 0xfffffff0, 0), false, "the SYN's own number");
  assert.equal(c.ackAcceptable(e, 0xfffffff1, 1), false, "acknowledges too much");
  assert.equal(c.ackAcceptable(e, 0xfffffff1, 0xffffffff), false, "acknowledges too little");
});

Deno.test("complete, abort, drop: removed, counted once, and readable until the next add", () => {
  const s = new SynCacheStats();
  const c = cache({ counters: s });
  const a = c.add(L4, 80, client4(1), 1, "l", 0);
  const b = c.add(L4, 80, client4(2), 1, "l", 0);
  const d = c.add(L4, 80, client4(3), 1, "l", 0);
  a.iss = 42;
  c.complete(a);
  c.complete(a); // twice: no effect
  c.abort(b);
  c.drop(d);
  assert.deepEqual([s.sc_completed, s.sc_aborted, s.sc_dropped, c.size], [1, 1, 1, 0]);
  assert.equal(c.lookup(L4, 80, client4(1), 1), null);
  assert.deepEqual([a.iss, a.listener, a.remote.toString()], [42, "l", "198.51.100.1"]);
  assert.equal(c.nextDeadline(), Infinity);
  // The next add reuses a freed entry rather than allocating.
  const again = c.add(L4, 80, client4(4), 1, "m", 0);
  assert.ok([a, b, d].includes(again));
  assert.equal(again.iss, 0);
  assert.equal(c.allocatedEntries, 3);
  assert.equal(leftBy(s), s.sc_added - c.size);
});

Deno.test("a duplicate SYN is counted and changes nothing else", () => {
  const c = cache();
  const e = c.add(L4, 80, client4(1), 1, "l", 0);
  const found = c.lookup(L4, 80, client4(1), 1)!;
  c.duplicateSyn(found);
  assert.equal(found, e);
  assert.deepEqual([c.counters.sc_dupesyn, c.size, e.deadline], [1, 1, 3000]);
});

Deno.test("an RST removes the entry only with seq = irs or irs + 1", () => {
  const c = cache();
  const e = c.add(L4, 80, client4(1), 1, "l", 0);
  e.irs = 0xffffffff;
  assert.equal(c.reset(e, 0xfffffffe), false);
  assert.equal(c.reset(e, 1), false);
  assert.equal(c.size, 1);
  assert.equal(c.reset(e, 0), true); // irs + 1 across the wrap
  assert.equal(c.size, 0);
  const f = c.add(L4, 80, client4(2), 1, "l", 0);
  f.irs = 500;
  assert.equal(c.reset(f, 500), true);
  assert.equal(c.reset(f, 500), false, "already gone");
  assert.equal(c.counters.sc_reset, 2);
});

Deno.test("ICMP unreachable: bogus unless it quotes our ISN; removes on the second error after three retransmissions", () => {
  const c = cache();
  const e = c.add(L4, 80, client4(1), 1, "l", 0);
  e.iss = 1000;
  assert.equal(c.unreach(e, 999), false);
  assert.equal(e.unreachSeen, false, "a bogus error marks nothing");
  assert.equal(c.unreach(e, 1000), false); // first: marked
  assert.equal(e.unreachSeen, true);
  c.expire(3000, () => {});
  c.expire(9000, () => {}); // two retransmissions
  assert.equal(c.unreach(e, 1000), false, "only two retransmissions so far");
  c.expire(21000, () => {});
  assert.equal(e.rxtShift, 3);
  assert.equal(c.unreach(e, 1000), true);
  assert.equal(c.size, 0);
  assert.equal(c.counters.sc_unreach, 1);
});

Deno.test("a full bucket gives up its oldest entry (sc_bucketoverflow)", () => {
  const c = cache({ buckets: 1, bucketLimit: 3 });
  for (let i = 1; i <= 4; i++) c.add(L4, 80, client4(i), 1, "l", i);
  assert.equal(c.size, 3);
  assert.equal(c.lookup(L4, 80, client4(1), 1), null);
  assert.deepEqual([2, 3, 4].map((i) => c.lookup(L4, 80, client4(i), 1)?.addedAt), [2, 3, 4]);
  assert.equal(c.allocatedEntries, 3, "the evicted entry was reused for the new one");
  assert.equal(c.counters.sc_bucketoverflow, 1);
  assert.equal(c.counters.sc_overflowed, 0);
});

Deno.test("a full cache gives up its oldest entry overall (sc_overflowed); a lowered limit evicts down to it", () => {
  const c = cache({ limit: 3 });
  for (let i = 1; i <= 4; i++) c.add(L4, 80, client4(i), 1, "l", i);
  assert.equal(c.size, 3);
  assert.equal(c.lookup(L4, 80, client4(1), 1), null);
  assert.ok(c.lookup(L4, 80, client4(2), 1));
  assert.equal(c.counters.sc_overflowed, 1);
  c.limit = 1; // sysctl -w net.inet.tcp.syn_cache_limit=1
  c.add(L4, 80, client4(5), 1, "l", 5);
  assert.equal(c.size, 1);
  assert.ok(c.lookup(L4, 80, client4(5), 1));
  assert.equal(c.counters.sc_overflowed, 4);
});

Deno.test("cookies instead of eviction while the oldest entry is younger than the first retransmission", () => {
  const c = cache({ limit: 2 });
  c.add(L4, 80, client4(1), 1, "l", 1000);
  assert.equal(c.shouldUseCookies(1000), false, "not full");
  c.add(L4, 80, client4(2), 1, "l", 2000);
  assert.equal(c.full, true);
  assert.equal(c.shouldUseCookies(2000), true);
  assert.equal(c.shouldUseCookies(3999), true);
  assert.equal(c.shouldUseCookies(4000), false, "the oldest has waited 3 s: evicting it is fair");
});

Deno.test("removeListener takes that listener's entries only; clear takes all", () => {
  const c = cache();
  for (let i = 0; i < 10; i++) {
    c.add(L4, i % 2 ? 80 : 443, client4(i), 1, i % 2 ? "http" : "https", i);
  }
  assert.equal(c.removeListener("http"), 5);
  assert.equal(c.size, 5);
  assert.equal(c.lookup(L4, 80, client4(1), 1), null);
  assert.ok(c.lookup(L4, 443, client4(2), 1));
  c.clear();
  assert.equal(c.size, 0);
  assert.equal(c.nextDeadline(), Infinity);
  const s = c.counters;
  assert.equal(leftBy(s as SynCacheStats), 0, "closing listeners is not counted, as in NetBSD");
});

Deno.test("a stack's TcpStats can be the counters", () => {
  const tcp = new TcpStats();
  const c = new SynCache<number>({ secret: SECRET, counters: tcp });
  c.add(L4, 80, client4(1), 1, 1, 0);
  c.duplicateSyn(c.lookup(L4, 80, client4(1), 1)!);
  assert.deepEqual([tcp.sc_added, tcp.sc_dupesyn], [1, 1]);
});

for (const family of [4, 6]) {
  Deno.test(`IPv${family} flood: 100 000 SYNs into a cache of 1 000 stay bounded and are counted`, () => {
    const s = new SynCacheStats();
    const c = cache({ limit: 1000, counters: s });
    const rand = prng(family);
    const local = family === 4 ? L4 : L6;
    let maxSize = 0, cookieAdvice = 0;
    const remote = new IpAddr();
    for (let i = 0; i < 100_000; i++) {
      if (family === 4) remote.setV4(0xc6336400 | rand(256)); // spoofed sources in 198.51.100.0/24
      else remote.set(client6(rand(0x10000)));
      const port = 1024 + rand(64512);
      const now = i / 10; // 10 000 SYNs per second
      if (c.lookup(local, 80, remote, port)) {
        c.duplicateSyn(c.lookup(local, 80, remote, port)!);
        continue;
      }
      if (c.shouldUseCookies(now)) cookieAdvice++;
      const e = c.add(local, 80, remote, port, "flooded", now);
      e.iss = i;
      maxSize = Math.max(maxSize, c.size);
      if (i % 1000 === 0) c.expire(now, () => {});
    }
    assert.equal(maxSize, 1000);
    assert.equal(c.size, 1000);
    assert.equal(s.sc_added + s.sc_dupesyn, 100_000);
    assert.equal(s.sc_overflowed + s.sc_bucketoverflow, s.sc_added - 1000);
    assert.ok(s.sc_overflowed > 90_000, `overflowed ${s.sc_overflowed}`);
    assert.equal(leftBy(s), s.sc_added - c.size);
    assert.ok(c.allocatedEntries <= 1001, `${c.allocatedEntries} entries allocated`);
    // Entries live 0.1 s each at this rate: never 3 s old, so cookies are advised throughout once full.
    assert.equal(cookieAdvice, s.sc_added - 1000);
    assert.equal(s.sc_retransmitted, 0);
  });
}

Deno.test("add after a lookup of another tuple (one address holder refilled in place) files the entry under its own hash", () => {
  const c = cache({ buckets: 7 });
  const holder = new IpAddr();
  for (let i = 0; i < 50; i++) {
    holder.setV4(0xc6336400 | i);
    assert.equal(c.lookup(L4, 80, holder, 1000 + i), null);
    holder.setV4(0xcb007100 | i); // the engine's holder now holds another packet's source
    c.add(L4, 80, holder, 2000 + i, "l", i);
  }
  for (let i = 0; i < 50; i++) {
    assert.ok(c.lookup(L4, 80, IpAddr.v4(0xcb007100 | i), 2000 + i), `entry ${i}`);
    assert.equal(c.lookup(L4, 80, IpAddr.v4(0xc6336400 | i), 1000 + i), null);
  }
  assert.equal(c.counters.sc_collisions, 0);
});

Deno.test("random adds, completions, resets and expiries agree with a plain model", () => {
  const rand = prng(1948);
  const c = cache({ limit: 40, buckets: 5, bucketLimit: 1000 });
  interface Model {
    key: string;
    port: number;
    irs: number;
    shift: number;
    total: number;
    deadline: number;
  }
  const model: Model[] = []; // insertion order = age order
  const interval = (shift: number) =>
    Math.min(3000 * [1, 2, 4, 8, 16, 32, 64][Math.min(shift, 6)], 64_000);
  let now = 0;
  for (let step = 0; step < 20_000; step++) {
    now += rand(3000);
    const op = rand(10);
    const port = 1 + rand(120);
    const found = c.lookup(L4, 80, client4(port), port);
    const m = model.findIndex((x) => x.port === port);
    assert.equal(found !== null, m >= 0, `step ${step}: presence of ${port}`);
    if (op < 5 && !found) {
      if (model.length >= 40) model.shift();
      const e = c.add(L4, 80, client4(port), port, "l", now);
      e.irs = port * 1000;
      model.push({
        key: String(port),
        port,
        irs: port * 1000,
        shift: 0,
        total: 0,
        deadline: now + 3000,
      });
    } else if (op < 7 && found) {
      c.complete(found);
      model.splice(m, 1);
    } else if (op < 8 && found) {
      assert.equal(c.reset(found, port * 1000 + 1), true);
      model.splice(m, 1);
    } else {
      c.expire(now, () => {});
      for (let i = 0; i < model.length; i++) {
        const x = model[i];
        while (x.deadline <= now) {
          x.total += interval(x.shift);
          if (x.total >= 75_000) {
            model.splice(i--, 1);
            break;
          }
          x.shift++;
          x.deadline = Math.max(x.deadline, now) + interval(x.shift);
        }
      }
    }
    assert.equal(c.size, model.length, `step ${step}: size`);
    const next = model.reduce((a, x) => Math.min(a, x.deadline), Infinity);
    assert.equal(c.nextDeadline(), next, `step ${step}: next deadline`);
  }
  const s = c.counters as SynCacheStats;
  assert.equal(leftBy(s), s.sc_added - c.size);
  assert.ok(s.sc_timed_out > 0 && s.sc_overflowed > 0 && s.sc_retransmitted > 0);
});
