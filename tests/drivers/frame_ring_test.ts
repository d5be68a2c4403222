import assert from "node:assert/strict";
import { FrameRing, FrameRingReader, FrameRingWriter, W } from "../../drivers/io/frame_ring.ts";
import type { FakeProducerStart } from "./fake_producer_worker.ts";

function put(w: FrameRingWriter, bytes: number[]): void {
  const slot = w.slot();
  assert.ok(slot, "a free slot");
  slot.set(bytes);
  w.publish(bytes.length);
}

function seqOf(f: Uint8Array): number {
  return (f[0] | (f[1] << 8) | (f[2] << 16) | (f[3] << 24)) >>> 0;
}

/** Runs a fake producer Worker against `ring` until it ends; returns what the reader saw. */
async function runProducer(
  ring: FrameRing,
  start: Omit<FakeProducerStart, "ring">,
  onFrame: (f: Uint8Array) => void,
  onBatch?: (n: number) => void,
): Promise<void> {
  const worker = new Worker(new URL("./fake_producer_worker.ts", import.meta.url), {
    type: "module",
  });
  const done = Promise.withResolvers<number>();
  const reader = new FrameRingReader(ring, onFrame, {
    onProducerExit: (e) => done.resolve(e),
    onBatch,
  });
  const timer = setTimeout(() => done.reject(new Error("producer did not finish")), 30_000);
  try {
    worker.postMessage({ ring: ring.buffer, ...start } satisfies FakeProducerStart);
    reader.start();
    assert.equal(await done.promise, 0);
  } finally {
    clearTimeout(timer);
    reader.stop();
    Atomics.store(ring.ctrl, W.STOP, 1);
    worker.terminate();
  }
}

Deno.test("ring sizes: slots round up to a power of two, slots are 64-byte multiples", () => {
  const ring = FrameRing.create({ slots: 5, maxFrame: 1514 });
  assert.equal(ring.slots, 8);
  assert.equal(ring.slotSize, 1536);
  assert.equal(ring.slotViews[1].byteOffset - ring.slotViews[0].byteOffset, 1536);
  assert.equal(ring.slotViews[0].byteOffset % 64, 0);
  assert.throws(() => FrameRing.create({ slots: 0, maxFrame: 1514 }), RangeError);
});

Deno.test("one drain delivers every published frame as a view, in order, in one batch", () => {
  const ring = FrameRing.create({ slots: 8, maxFrame: 64 });
  const w = new FrameRingWriter(ring);
  for (let i = 0; i < 5; i++) put(w, [i, i, i].slice(0, 1 + (i % 3)));
  const seen: number[][] = [];
  const batches: number[] = [];
  const r = new FrameRingReader(ring, (f) => {
    assert.ok(f.buffer instanceof SharedArrayBuffer, "a view on the ring, not a copy");
    seen.push([...f]);
  }, { onBatch: (n) => batches.push(n) });
  assert.equal(r.drain(), 5);
  assert.deepEqual(seen, [[0], [1, 1], [2, 2, 2], [3], [4, 4]]);
  assert.deepEqual(batches, [5]);
  assert.equal(r.drain(), 0);
  assert.equal(ring.pending, 0);
});

Deno.test("the ring wraps around its slots and across the 2^31 counter overflow", () => {
  const ring = FrameRing.create({ slots: 4, maxFrame: 64 });
  ring.ctrl[W.HEAD] = 0x7ffffffd; // start near the int32 overflow
  ring.ctrl[W.TAIL] = 0x7ffffffd;
  const w = new FrameRingWriter(ring);
  const got: number[] = [];
  const r = new FrameRingReader(ring, (f) => got.push(f[0]));
  let next = 0;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 3; i++) put(w, [next++ & 0xff]);
    assert.equal(r.drain(), 3);
  }
  assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => i));
  assert.ok(ring.ctrl[W.HEAD] < 0, "the head counter went past 2^31");
});

Deno.test("a full ring refuses a slot until the consumer frees one", () => {
  const ring = FrameRing.create({ slots: 4, maxFrame: 64 });
  const w = new FrameRingWriter(ring);
  for (let i = 0; i < 4; i++) put(w, [i]);
  assert.equal(w.slot(), null);
  assert.equal(w.waitForSpace(1), false, "no consumer: times out");
  assert.equal(ring.stats().full, 1);
  const r = new FrameRingReader(ring, () => {});
  assert.equal(r.drain(), 4);
  assert.notEqual(w.slot(), null);
});

Deno.test("frames longer than a slot are dropped and counted, not delivered cut", () => {
  const ring = FrameRing.create({ slots: 2, maxFrame: 64 });
  const w = new FrameRingWriter(ring);
  w.slot();
  assert.equal(w.publish(100), false);
  put(w, [7]);
  const got: number[][] = [];
  new FrameRingReader(ring, (f) => got.push([...f])).drain();
  assert.deepEqual(got, [[7]]);
  assert.equal(ring.stats().oversize, 1);
});

Deno.test("a throwing callback loses its frame but frees the slots", () => {
  const ring = FrameRing.create({ slots: 4, maxFrame: 64 });
  const w = new FrameRingWriter(ring);
  put(w, [1]);
  put(w, [2]);
  const r = new FrameRingReader(ring, () => {
    throw new Error("boom");
  });
  assert.throws(() => r.drain(), /boom/);
  assert.equal(ring.ctrl[W.TAIL], 1, "the slot of the frame that threw is freed");
});

Deno.test("a producer Worker against a tiny ring: backpressure, order kept, nothing lost", async () => {
  const ring = FrameRing.create({ slots: 4, maxFrame: 64 });
  const count = 20_000;
  let expect = 0;
  let batches = 0;
  await runProducer(ring, { count, size: 60 }, (f) => {
    assert.equal(seqOf(f), expect);
    expect++;
  }, () => batches++);
  assert.equal(expect, count);
  assert.ok(batches < count, `batched: ${batches} batches`);
  assert.ok(ring.stats().full > 0, "the producer found the ring full");
});

Deno.test("throughput with a fake producer (printed)", async () => {
  const ring = FrameRing.create({ slots: 256, maxFrame: 1514 });
  const count = 500_000;
  let n = 0;
  let bytes = 0;
  let batches = 0;
  const t0 = performance.now();
  await runProducer(ring, { count, size: 64 }, (f) => {
    n++;
    bytes += f[0];
  }, () => batches++);
  const s = (performance.now() - t0) / 1000;
  assert.equal(n, count);
  console.log(
    `ring: ${count} frames of 64 B in ${s.toFixed(3)} s = ${
      (count / s / 1e6).toFixed(2)
    } Mframes/s,` +
      ` ${(count / batches).toFixed(1)} frames/batch, ring full ${ring.stats().full} times`,
  );
});

Deno.test("start() delivers later frames asynchronously, in batches; stop() ends delivery", async () => {
  const ring = FrameRing.create({ slots: 16, maxFrame: 64 });
  const w = new FrameRingWriter(ring);
  const got: number[] = [];
  const batches: number[] = [];
  const r = new FrameRingReader(ring, (f) => got.push(f[0]), { onBatch: (n) => batches.push(n) });
  for (let i = 0; i < 5; i++) put(w, [i]);
  r.start();
  assert.deepEqual(got, [0, 1, 2, 3, 4], "what was there is drained at once");
  for (let i = 5; i < 8; i++) put(w, [i]); // the first publish notifies; all three form one batch
  assert.equal(got.length, 5, "nothing is delivered inside the producer's call");
  await new Promise((res) => setTimeout(res, 10));
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(batches, [5, 3]);
  r.stop();
  put(w, [8]);
  await new Promise((res) => setTimeout(res, 10));
  assert.equal(got.length, 8, "stopped: frame 8 stays in the ring");
  assert.equal(ring.pending, 1);
});

Deno.test("a ring that never empties still yields to timers (turnBudget)", async () => {
  for (const [budget, yields] of [[64, true], [Infinity, false]] as const) {
    const ring = FrameRing.create({ slots: 8, maxFrame: 64 });
    const w = new FrameRingWriter(ring);
    const total = 100_000;
    let n = 0;
    // Each frame consumed publishes the next: the producer is always ahead of the consumer.
    const r = new FrameRingReader(ring, () => {
      if (++n < total) put(w, [0]);
    }, { turnBudget: budget });
    put(w, [0]);
    let seenByTimer = -1;
    setTimeout(() => (seenByTimer = n), 0);
    r.start();
    const deadline = Date.now() + 10_000;
    while (n < total && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    r.stop();
    assert.equal(n, total);
    assert.equal(
      seenByTimer > 0 && seenByTimer < total,
      yields,
      `budget ${budget}: ${seenByTimer}`,
    );
  }
});
