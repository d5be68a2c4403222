import assert from "node:assert/strict";
import { TimerQueue } from "../../core/time/timers.ts";
import { PacketPool } from "../../core/buf/packet_pool.ts";

Deno.test("TimerQueue runs due timers in deadline order, then schedule order", () => {
  const q = new TimerQueue();
  const order: string[] = [];
  q.schedule(30, () => order.push("c"));
  q.schedule(10, () => order.push("a1"));
  q.schedule(10, () => order.push("a2"));
  q.schedule(20, () => order.push("b"));
  assert.equal(q.nextDeadline(), 10);
  assert.equal(q.runDue(9), 0);
  assert.equal(q.runDue(20), 3);
  assert.deepEqual(order, ["a1", "a2", "b"]);
  assert.equal(q.nextDeadline(), 30);
});

Deno.test("TimerQueue cancel skips a timer; timers scheduled while running run if due", () => {
  const q = new TimerQueue();
  const order: string[] = [];
  const t = q.schedule(5, () => order.push("cancelled"));
  q.schedule(6, () => {
    order.push("first");
    q.schedule(6, () => order.push("chained"));
    q.schedule(100, () => order.push("later"));
  });
  q.cancel(t);
  q.runDue(10);
  assert.deepEqual(order, ["first", "chained"]);
  assert.equal(q.nextDeadline(), 100);
});

Deno.test("TimerQueue tells when a new timer is the earliest", () => {
  const q = new TimerQueue();
  let told = 0;
  q.onEarlier = () => told++;
  q.schedule(50, () => {});
  q.schedule(60, () => {});
  q.schedule(40, () => {});
  assert.equal(told, 2);
});

Deno.test("TimerQueue keeps order over many random deadlines", () => {
  const q = new TimerQueue();
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 1000;
  const fired: number[] = [];
  for (let i = 0; i < 500; i++) {
    const at = rand();
    q.schedule(at, () => fired.push(at));
  }
  q.runDue(1000);
  assert.equal(fired.length, 500);
  assert.deepEqual(fired, [...fired].sort((a, b) => a - b));
});

Deno.test("PacketPool reuses up to pkt_cache buffers and never with cache=0", () => {
  const pool = new PacketPool({ mclbytes: 2048, cache: true, pktCache: 2 });
  const a = pool.alloc(100), b = pool.alloc(100), c = pool.alloc(100);
  pool.free(a);
  pool.free(b);
  pool.free(c); // over pkt_cache: dropped
  assert.equal(pool.stats.cached, 2);
  assert.ok([a, b].includes(pool.alloc(10)));
  assert.equal(pool.stats.reused, 1);
  const off = new PacketPool({ mclbytes: 2048, cache: false, pktCache: 64 });
  const d = off.alloc(1);
  off.free(d);
  assert.notEqual(off.alloc(1), d);
  assert.equal(off.stats.reused, 0);
});

Deno.test("PacketPool gives oversize packets their own buffer; prepend stops at the headroom", () => {
  const pool = new PacketPool({ mclbytes: 2048, cache: true, pktCache: 8 });
  const big = pool.alloc(9000);
  assert.ok(big.bytes.length >= 9000);
  assert.equal(pool.stats.oversize, 1);
  const p = pool.alloc(10);
  const off = p.prepend(14 + 20 + 8);
  assert.equal(p.length, 52);
  assert.equal(off, p.start);
  assert.throws(() => p.prepend(1000), RangeError);
});
