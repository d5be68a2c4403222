import assert from "node:assert/strict";
import { type TimerHandle, TimerQueue } from "../../core/time/timers.ts";
import { prng } from "../kit/bytes.ts";
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

Deno.test("TimerHandle arms, re-arms earlier and later, and disarms in place", () => {
  const q = new TimerQueue();
  const order: string[] = [];
  const a = q.timer(() => order.push("a"));
  const b = q.timer(() => order.push("b"));
  assert.equal(a.armed, false);
  assert.ok(Number.isNaN(a.deadline));
  a.arm(100);
  b.arm(50);
  assert.equal(q.size, 2);
  assert.equal(q.nextDeadline(), 50);
  a.arm(20); // earlier than b now
  assert.equal(q.size, 2, "re-arm moves, never duplicates");
  assert.equal(q.nextDeadline(), 20);
  assert.equal(a.deadline, 20);
  a.arm(70); // later again
  assert.equal(q.nextDeadline(), 50);
  assert.equal(q.runDue(60), 1);
  assert.deepEqual(order, ["b"]);
  assert.equal(b.armed, false);
  assert.equal(b.cancelled, true);
  assert.equal(b.deadline, 50, "a fired timer keeps its last deadline");
  a.disarm();
  assert.equal(a.armed, false);
  assert.equal(q.size, 0);
  assert.equal(q.nextDeadline(), null);
  assert.equal(q.runDue(1000), 0);
  a.disarm(); // no effect when not armed
  a.arm(1000);
  assert.equal(q.runDue(1000), 1);
  assert.deepEqual(order, ["b", "a"]);
});

Deno.test("TimerQueue ties: same deadline runs in arm order; a re-arm goes to the back", () => {
  const q = new TimerQueue();
  const order: number[] = [];
  const ts = [0, 1, 2, 3, 4, 5].map((i) => q.timer(() => order.push(i)));
  for (const t of ts) t.arm(10);
  ts[1].arm(10); // re-armed for the same time: now after 5
  ts[3].arm(10);
  q.schedule(10, () => order.push(9));
  assert.equal(q.size, 7);
  q.runDue(10);
  assert.deepEqual(order, [0, 2, 4, 5, 1, 3, 9]);
});

Deno.test("TimerQueue cancel leaves no dead entries behind", () => {
  const q = new TimerQueue();
  const handles = [];
  for (let i = 0; i < 10_000; i++) handles.push(q.schedule(1000 + i, () => {}));
  assert.equal(q.size, 10_000);
  for (let i = 0; i < 10_000; i += 2) q.cancel(handles[i]);
  assert.equal(q.size, 5_000);
  assert.equal(q.nextDeadline(), 1001);
  for (const h of handles) q.cancel(h);
  assert.equal(q.size, 0);
  assert.equal(q.nextDeadline(), null);
  q.cancel(null);
  q.cancel(undefined);
  // The re-arm pattern TCP uses: one handle re-armed a million times holds one entry.
  const t = q.timer(() => {});
  for (let i = 0; i < 1_000_000; i++) t.arm(i);
  assert.equal(q.size, 1);
  assert.equal(q.nextDeadline(), 999_999);
});

Deno.test("TimerQueue nextDeadline is the exact earliest armed deadline", () => {
  const q = new TimerQueue();
  const a = q.timer(() => {}), b = q.timer(() => {}), c = q.timer(() => {});
  a.arm(10.25);
  b.arm(10.125);
  c.arm(10.5);
  assert.equal(q.nextDeadline(), 10.125);
  b.disarm();
  assert.equal(q.nextDeadline(), 10.25);
  a.arm(11);
  assert.equal(q.nextDeadline(), 10.5);
  assert.equal(q.runDue(10.4999), 0);
  assert.equal(q.runDue(10.5), 1);
  assert.equal(q.nextDeadline(), 11);
  assert.throws(() => a.arm(NaN), RangeError);
  assert.equal(q.nextDeadline(), 11, "a rejected arm changes nothing");
  a.arm(-Infinity);
  assert.equal(q.nextDeadline(), -Infinity);
});

Deno.test("TimerQueue calls onEarlier only when a timer becomes strictly the earliest", () => {
  const q = new TimerQueue();
  let told = 0;
  q.onEarlier = () => told++;
  const a = q.timer(() => {}), b = q.timer(() => {});
  a.arm(50); // into an empty queue
  assert.equal(told, 1);
  b.arm(60);
  b.arm(50); // ties the earliest: not earlier
  a.arm(70); // the earliest moves later: the driver may wake early, harmlessly
  assert.equal(told, 1);
  a.arm(40); // earlier than b
  assert.equal(told, 2);
  a.arm(30); // the earliest moves earlier still
  assert.equal(told, 3);
  a.disarm();
  b.disarm();
  q.schedule(1000, () => {});
  assert.equal(told, 4);
});

Deno.test("TimerQueue callbacks may arm and disarm any timer, themselves included", () => {
  const q = new TimerQueue();
  const order: string[] = [];
  let ticks = 0;
  const victim = q.timer(() => order.push("victim"));
  const late = q.timer(() => order.push("late"));
  const chained = q.timer(() => order.push("chained"));
  const periodic = q.timer(() => {
    order.push(`tick${ticks}`);
    if (++ticks < 3) periodic.arm(periodic.deadline + 10);
  });
  let acted = 0;
  const actor = q.timer(() => {
    order.push("actor");
    if (acted++ > 0) return;
    victim.disarm(); // due at the same time: must not run
    chained.arm(5); // in the past: runs in this same runDue
    late.arm(1000);
    actor.disarm(); // already off the queue: no effect
    actor.arm(25); // and back on, to run again
  });
  periodic.arm(0);
  actor.arm(5);
  victim.arm(5);
  q.runDue(30);
  assert.deepEqual(order, ["tick0", "actor", "chained", "tick1", "tick2", "actor"]);
  assert.equal(q.size, 1);
  assert.equal(q.nextDeadline(), 1000);
  assert.equal(late.armed, true);
});

Deno.test("TimerQueue: a callback that throws leaves the queue consistent", () => {
  const q = new TimerQueue();
  const order: string[] = [];
  q.schedule(1, () => order.push("before"));
  const bad = q.timer(() => {
    throw new Error("boom");
  });
  bad.arm(2);
  q.schedule(2, () => order.push("after"));
  q.schedule(50, () => order.push("later"));
  assert.throws(() => q.runDue(10), /boom/);
  assert.deepEqual(order, ["before"]);
  assert.equal(bad.armed, false, "the thrower is disarmed, so it cannot throw forever");
  assert.equal(q.size, 2);
  assert.equal(q.nextDeadline(), 2);
  assert.equal(q.runDue(10), 1, "the timers still due run at the next runDue");
  assert.deepEqual(order, ["before", "after"]);
  bad.arm(60);
  q.runDue(55);
  assert.deepEqual(order, ["before", "after", "later"]);
  assert.equal(q.size, 1);
});

Deno.test("TimerQueue runDue is bounded when timers keep re-arming at now", () => {
  const q = new TimerQueue();
  let runs = 0;
  const spinner = q.timer(() => {
    if (++runs < 150_000) spinner.arm(7);
  });
  spinner.arm(7);
  assert.equal(q.runDue(7), 100_000);
  assert.equal(q.nextDeadline(), 7, "the rest waits for the next call");
  assert.equal(q.runDue(7), 50_000);
  assert.equal(q.size, 0);
});

Deno.test("TimerQueue keeps order over 100 000 timers with half of them disarmed", () => {
  const q = new TimerQueue();
  const rand = prng(11);
  const fired: number[] = [];
  const handles = [];
  for (let i = 0; i < 100_000; i++) {
    const t = q.timer(() => fired.push(t.deadline * 1_000_000 + i));
    t.arm(rand(5_000));
    handles.push(t);
  }
  for (let i = 0; i < 100_000; i += 2) handles[i].disarm();
  assert.equal(q.size, 50_000);
  for (let now = 0; now < 5_000; now += 97) q.runDue(now);
  q.runDue(5_000);
  assert.equal(fired.length, 50_000);
  assert.ok(
    fired.every((k, j) => j === 0 || fired[j - 1] < k),
    "deadline order, ties in arm order",
  );
  assert.equal(q.size, 0);
});

/** The obvious reference: a map of armed timers, the earliest found by scanning. */
class ModelQueue {
  armed = new Map<number, { at: number; seq: number }>();
  fns = new Map<number, () => void>();
  earlier = 0;
  #seq = 0;

  arm(id: number, at: number): void {
    if (at < this.#min()) this.earlier++;
    this.armed.set(id, { at, seq: this.#seq++ });
  }

  disarm(id: number): void {
    this.armed.delete(id);
  }

  nextDeadline(): number | null {
    return this.armed.size > 0 ? this.#min() : null;
  }

  runDue(now: number): number {
    let ran = 0;
    for (;;) {
      let best = -1, bestAt = Infinity, bestSeq = Infinity;
      for (const [id, e] of this.armed) {
        if (e.at < bestAt || (e.at === bestAt && e.seq < bestSeq)) {
          best = id;
          bestAt = e.at;
          bestSeq = e.seq;
        }
      }
      if (best < 0 || bestAt > now) return ran;
      this.armed.delete(best);
      ran++;
      this.fns.get(best)!();
    }
  }

  #min(): number {
    let m = Infinity;
    for (const e of this.armed.values()) if (e.at < m) m = e.at;
    return m;
  }
}

/** What a timer's callback does to its queue when it fires; fixed per timer, so both queues do the same. */
type Reaction = { kind: "none" } | { kind: "rearm"; delta: number } | {
  kind: "arm";
  target: number;
  delta: number;
} | { kind: "disarm"; target: number };

for (const seed of [1, 2, 3, 42, 1234]) {
  Deno.test(`TimerQueue matches a reference model under random operations (seed ${seed})`, () => {
    const rand = prng(seed);
    const n = 64;
    const q = new TimerQueue(), model = new ModelQueue();
    let told = 0;
    q.onEarlier = () => told++;
    const reactions: Reaction[] = [];
    for (let id = 0; id < n; id++) {
      const r = rand(4);
      // Arming another timer for now only goes to a higher id, so chains end.
      if (r === 0) reactions.push({ kind: "rearm", delta: 1 + rand(20) });
      else if (r === 1 && id < n - 1) {
        reactions.push({ kind: "arm", target: id + 1 + rand(n - id - 1), delta: rand(5) });
      } else if (r === 2) reactions.push({ kind: "disarm", target: rand(n) });
      else reactions.push({ kind: "none" });
    }
    let now = 0;
    const gotLog: string[] = [], wantLog: string[] = [];
    const handles: TimerHandle[] = [];
    for (let id = 0; id < n; id++) {
      const r = reactions[id];
      const h = q.timer(() => {
        gotLog.push(`${id}@${now}`);
        if (r.kind === "rearm") h.arm(now + r.delta);
        else if (r.kind === "arm") handles[r.target].arm(now + r.delta);
        else if (r.kind === "disarm") handles[r.target].disarm();
      });
      handles.push(h);
      model.fns.set(id, () => {
        wantLog.push(`${id}@${now}`);
        if (r.kind === "rearm") model.arm(id, now + r.delta);
        else if (r.kind === "arm") model.arm(r.target, now + r.delta);
        else if (r.kind === "disarm") model.disarm(r.target);
      });
    }
    for (let step = 0; step < 5_000; step++) {
      const op = rand(10);
      const id = rand(n);
      if (op < 5) {
        const at = now + rand(50) - 5; // some in the past
        handles[id].arm(at);
        model.arm(id, at);
      } else if (op < 7) {
        handles[id].disarm();
        model.disarm(id);
      } else {
        now += rand(8);
        assert.equal(q.runDue(now), model.runDue(now));
      }
      assert.equal(q.nextDeadline(), model.nextDeadline(), `step ${step}`);
      assert.equal(q.size, model.armed.size);
      assert.equal(handles[id].armed, model.armed.has(id));
      if (model.armed.has(id)) assert.equal(handles[id].deadline, model.armed.get(id)!.at);
    }
    now += 1_000;
    q.runDue(now);
    model.runDue(now);
    assert.ok(gotLog.length > 1_000, `enough timers fired (${gotLog.length})`);
    assert.deepEqual(gotLog, wantLog);
    assert.equal(told, model.earlier);
  });
}

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
