import assert from "node:assert/strict";
import { PpsRateLimit } from "../../core/transport/tcp/rate_limit.ts";

Deno.test("at most `limit` per one-second window; the window starts at the first event after the last", () => {
  const r = new PpsRateLimit(3);
  const got = [0, 1, 2, 3, 999.9].map((t) => r.allow(t));
  assert.deepEqual(got, [true, true, true, false, false]);
  assert.equal(r.current, 5);
  assert.equal(r.refused, 2);
  // 1000 ms after the window began: a fresh window starting now.
  assert.deepEqual([1000, 1001, 1002, 1003].map((t) => r.allow(t)), [true, true, true, false]);
  // The next window begins at 2000 (one second after 1000), not at 2003.
  assert.equal(r.allow(1999.999), false);
  assert.equal(r.allow(2000), true);
  assert.equal(r.current, 1);
  assert.equal(r.refused, 4);
});

Deno.test("a quiet gap longer than a second resets the count", () => {
  const r = new PpsRateLimit(1);
  assert.equal(r.allow(500), true);
  assert.equal(r.allow(600), false);
  assert.equal(r.allow(10_000), true);
  assert.equal(r.allow(10_999), false);
});

Deno.test("limit < 0 allows everything, limit 0 nothing; the limit can change on the fly", () => {
  const unlimited = new PpsRateLimit(-1);
  let allowed = 0;
  for (let i = 0; i < 10_000; i++) if (unlimited.allow(i / 100)) allowed++;
  assert.equal(allowed, 10_000);
  const none = new PpsRateLimit(0);
  assert.equal(none.allow(0), false);
  assert.equal(none.allow(5000), false);
  none.limit = 2; // sysctl -w net.inet.tcp.rstppslimit=2 in the middle of a second
  assert.equal(none.allow(5001), true);
  assert.equal(none.allow(5002), false, "the refused call at 5000 counted in this window");
});

Deno.test("100 per second (NetBSD's rstppslimit default) under a 10 000 per second flood lets 100 through each second", () => {
  const r = new PpsRateLimit(100);
  const perSecond = [0, 0, 0];
  for (let i = 0; i < 30_000; i++) {
    const t = i / 10; // one event every 0.1 ms for 3 s
    if (r.allow(t)) perSecond[Math.floor(t / 1000)]++;
  }
  assert.deepEqual(perSecond, [100, 100, 100]);
  assert.equal(r.refused, 30_000 - 300);
});

Deno.test("a clock that steps back starts a new window instead of blocking", () => {
  const r = new PpsRateLimit(1);
  assert.equal(r.allow(5000), true);
  assert.equal(r.allow(5001), false);
  assert.equal(r.allow(10), true);
});
