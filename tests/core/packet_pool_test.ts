/** Packet buffers: headroom, the two size classes, ownership checks and counters. */
import assert from "node:assert/strict";
import {
  HEADROOM,
  LARGE_BUFFER_BYTES,
  LARGE_CACHE_DEFAULT,
  PacketOwnershipError,
  PacketPool,
  POISON_BYTE,
} from "../../core/buf/packet_pool.ts";

const opts = { mclbytes: 2048, cache: true, pktCache: 4 };

Deno.test("the headroom holds the deepest header stack we emit, and no more than a 16-byte step", () => {
  const link = 14 + 4, tcp = 60;
  const deepest = link + Math.max(60, 40 + 8 + 8) + tcp;
  assert.equal(HEADROOM % 16, 0);
  assert.ok(HEADROOM >= deepest && HEADROOM - deepest < 16, `${HEADROOM} for ${deepest}`);
  const pool = new PacketPool(opts);
  for (const net of [60, 40 + 8 + 8]) {
    const pkt = pool.alloc(1000);
    pkt.prepend(tcp);
    pkt.prepend(net);
    pkt.prepend(link);
    assert.equal(pkt.length, 1000 + tcp + net + link);
    pool.free(pkt);
  }
  const full = pool.alloc(0);
  full.prepend(HEADROOM);
  assert.throws(() => full.prepend(1), RangeError);
});

Deno.test("large packets come from their own size class, pooled up to its bound", () => {
  const pool = new PacketPool({ ...opts, largeCache: 2 });
  // lo0 at MTU 33192, then the largest IPv4 and IPv6 datagrams.
  const sizes = [33192, 0xffff, 40 + 0xffff];
  const pkts = sizes.map((n) => pool.alloc(n));
  for (const [i, pkt] of pkts.entries()) {
    assert.equal(pkt.bytes.length, LARGE_BUFFER_BYTES);
    assert.equal(pkt.length, sizes[i]);
    pkt.prepend(HEADROOM); // the whole headroom is there
  }
  assert.deepEqual([pool.stats.oversize, pool.stats.large], [3, 3]);
  for (const pkt of pkts) pool.free(pkt);
  assert.equal(pool.stats.largeCached, 2, "the third is dropped: over largeCache");
  const again = pool.alloc(9000);
  assert.ok(pkts.includes(again));
  assert.deepEqual([pool.stats.largeReused, pool.stats.largeCached, pool.stats.reused], [1, 1, 0]);
  // Normal buffers and large ones never mix.
  const small = pool.alloc(100);
  assert.equal(small.bytes.length, 2048);
  assert.equal(pool.stats.cached, 0);
  // Beyond the largest datagram: a one-off buffer, never cached.
  const huge = pool.alloc(LARGE_BUFFER_BYTES);
  assert.equal(huge.bytes.length, HEADROOM + LARGE_BUFFER_BYTES);
  pool.free(huge);
  assert.equal(pool.stats.largeCached, 1);
  // Without the option, the bound is LARGE_CACHE_DEFAULT.
  const byDefault = new PacketPool(opts);
  const many = Array.from({ length: LARGE_CACHE_DEFAULT + 1 }, () => byDefault.alloc(5000));
  for (const pkt of many) byDefault.free(pkt);
  assert.equal(byDefault.stats.largeCached, LARGE_CACHE_DEFAULT);
});

Deno.test("cache=0 reuses nothing, in either class", () => {
  const pool = new PacketPool({ ...opts, cache: false });
  for (const size of [100, 20000]) {
    const a = pool.alloc(size);
    pool.free(a);
    assert.notEqual(pool.alloc(size), a);
  }
  assert.deepEqual(
    [pool.stats.reused, pool.stats.largeReused, pool.stats.cached, pool.stats.largeCached],
    [0, 0, 0, 0],
  );
});

Deno.test("counters tell freed buffers from outstanding ones", () => {
  const pool = new PacketPool(opts);
  const a = pool.alloc(10), b = pool.alloc(40000), c = pool.alloc(10);
  assert.deepEqual([pool.stats.allocs, pool.stats.frees, pool.stats.outstanding], [3, 0, 3]);
  pool.free(a);
  pool.free(b);
  assert.deepEqual([pool.stats.allocs, pool.stats.frees, pool.stats.outstanding], [3, 2, 1]);
  pool.free(c);
  assert.equal(pool.stats.outstanding, 0);
});

Deno.test("checked mode: a double free throws; a freed buffer is poisoned until allocated again", () => {
  const pool = new PacketPool({ ...opts, checked: true });
  assert.equal(pool.checked, true);
  const pkt = pool.alloc(100);
  pkt.bytes.fill(7, pkt.start, pkt.end);
  pool.free(pkt);
  assert.throws(() => pool.free(pkt), PacketOwnershipError);
  assert.equal(pool.stats.doubleFrees, 1);
  assert.equal(pool.stats.outstanding, 0, "the second free changed no counter but its own");
  assert.ok(pkt.bytes.every((x) => x === POISON_BYTE));
  assert.throws(() => pkt.prepend(20), RangeError);
  assert.throws(() => pkt.consume(0), RangeError);
  assert.throws(() => pkt.view(), RangeError);
  assert.throws(() => pkt.bytes.set([1, 2], pkt.start), RangeError);
  // Allocated again, it is whole.
  const again = pool.alloc(100);
  assert.equal(again, pkt);
  assert.deepEqual([again.start, again.end, again.view().length], [HEADROOM, HEADROOM + 100, 100]);
  pool.free(again);
});

Deno.test("checked mode: a write into a freed, cached buffer is caught when it is handed out", () => {
  for (const size of [100, 30000]) {
    const pool = new PacketPool({ ...opts, checked: true });
    const pkt = pool.alloc(size);
    const stale = pkt.bytes; // a reference kept past the free
    pool.free(pkt);
    stale[HEADROOM + 3] = 1;
    assert.throws(() => pool.alloc(size), PacketOwnershipError);
  }
});

Deno.test("unchecked: a double free is counted and ignored, never handing one buffer out twice", () => {
  const pool = new PacketPool({ ...opts, checked: false });
  const pkt = pool.alloc(100);
  pkt.bytes.fill(7, pkt.start, pkt.end);
  pool.free(pkt);
  pool.free(pkt);
  assert.deepEqual([pool.stats.doubleFrees, pool.stats.cached, pool.stats.outstanding], [1, 1, 0]);
  assert.equal(pkt.bytes[HEADROOM], 7, "no poisoning in production");
  const a = pool.alloc(10), b = pool.alloc(10);
  assert.notEqual(a, b);
});

Deno.test("PacketPool.checkedByDefault sets the mode of pools made without the option", () => {
  const before = PacketPool.checkedByDefault;
  try {
    PacketPool.checkedByDefault = true;
    assert.equal(new PacketPool(opts).checked, true);
    assert.equal(new PacketPool({ ...opts, checked: false }).checked, false);
    PacketPool.checkedByDefault = false;
    assert.equal(new PacketPool(opts).checked, false);
  } finally {
    PacketPool.checkedByDefault = before;
  }
});

Deno.test("consume stops at the end of the packet", () => {
  const pool = new PacketPool(opts);
  const pkt = pool.alloc(30);
  pkt.consume(20);
  assert.equal(pkt.length, 10);
  assert.throws(() => pkt.consume(11), RangeError);
  pkt.consume(10);
  assert.equal(pkt.view().length, 0);
});
