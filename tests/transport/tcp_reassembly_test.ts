import assert from "node:assert/strict";
import { Reassembly } from "../../core/transport/tcp/reassembly.ts";
import { prng } from "../kit/bytes.ts";

/** The byte a test stream carries at absolute position `p` (consistent across retransmissions). */
function byteAt(p: number): number {
  return (p * 31 + 7) & 0xff;
}

/** Segment bytes for absolute positions [p, p + n). */
function seg(p: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = byteAt(p + i);
  return b;
}

function expectStream(got: Uint8Array, p: number): void {
  for (let i = 0; i < got.length; i++) assert.equal(got[i], byteAt(p + i), `byte ${p + i}`);
}

function blocks(r: Reassembly, max = 4): number[] {
  const out = new Uint32Array(8);
  const n = r.sackBlocks(out, max);
  return Array.from(out.subarray(0, 2 * n));
}

Deno.test("Reassembly fills a hole across the sequence wrap and hands the run over in order", () => {
  const isn = 0xfffffff0;
  const r = new Reassembly({ capacity: 100, initialSeq: isn });
  assert.equal(r.insert((isn + 20) >>> 0, seg(20, 10)), 10); // out of order, past the wrap
  assert.equal(r.readable, 0);
  assert.equal(r.ackSeq, isn);
  assert.equal(r.outOfOrderBytes, 10);
  assert.deepEqual(blocks(r), [4, 14]);
  assert.equal(r.insert(isn, seg(0, 20)), 20); // fills the hole: one run of 30
  assert.equal(r.rangeCount, 1);
  assert.equal(r.readable, 30);
  assert.equal(r.ackSeq, 14);
  assert.deepEqual(blocks(r), []); // nothing out of order now
  const dst = new Uint8Array(25);
  assert.equal(r.take(dst), 25);
  expectStream(dst, 0);
  assert.equal(r.readSeq, 9);
  assert.equal(r.take(dst), 5);
  expectStream(dst.subarray(0, 5), 25);
  assert.equal(r.rangeCount, 0);
  assert.equal(r.take(dst), 0);
});

Deno.test("Reassembly trims overlap on both sides and counts duplicates", () => {
  const r = new Reassembly({ capacity: 1000, initialSeq: 1000 });
  r.insert(1010, seg(10, 10)); // [10, 20)
  r.insert(1030, seg(30, 10)); // [30, 40)
  // [5, 45) overlaps both runs: 20 bytes held, 20 new, one run [5, 45) results.
  assert.equal(r.insert(1005, seg(5, 40)), 20);
  assert.equal(r.lastDuplicate, 20);
  assert.equal(r.rangeCount, 1);
  assert.deepEqual(blocks(r), [1005, 1045]);
  // An exact duplicate is counted as a duplicate segment.
  assert.equal(r.insert(1010, seg(10, 5)), 0);
  assert.equal(r.lastDuplicate, 5);
  assert.equal(r.duplicateSegments, 1);
  // Data before readSeq is trimmed as old: 995..1000 old, 1000..1005 new.
  assert.equal(r.insert(995, seg(-5, 10)), 5);
  assert.equal(r.lastDuplicate, 5);
  assert.equal(r.readable, 45);
  assert.equal(r.duplicateBytes, 30);
  const dst = new Uint8Array(100);
  assert.equal(r.take(dst), 45);
  expectStream(dst.subarray(0, 45), 0);
});

Deno.test("Reassembly coalesces touching runs", () => {
  const r = new Reassembly({ capacity: 1000, initialSeq: 0 });
  r.insert(10, seg(10, 10));
  r.insert(30, seg(30, 10));
  assert.equal(r.rangeCount, 2);
  r.insert(20, seg(20, 10)); // touches both ends exactly
  assert.equal(r.rangeCount, 1);
  assert.equal(r.lastDuplicate, 0);
  assert.deepEqual(blocks(r), [10, 40]);
});

Deno.test("Reassembly drops bytes past its capacity, and runs past the last when its run table is full", () => {
  const r = new Reassembly({ capacity: 50, initialSeq: 0, maxRanges: 2 });
  assert.equal(r.insert(45, seg(45, 15)), 5); // 50..60 beyond the buffer
  assert.equal(r.lastDropped, 10);
  assert.equal(r.insert(10, seg(10, 5)), 5);
  assert.equal(r.insert(47, seg(47, 3)), 0); // inside a held run: a duplicate, not a drop
  assert.equal(r.lastDuplicate, 3);
  assert.equal(r.insert(15, seg(15, 3)), 3); // extends an existing run: fine
  assert.equal(r.droppedBytes, 10);
  // A third run before the last one: the last run (45..50) is given up for it, nearer the reader.
  assert.equal(r.insert(25, seg(25, 5)), 5);
  assert.equal(r.renegedBytes, 5);
  assert.deepEqual(blocks(r), [25, 30, 10, 18]);
  assert.equal(r.insert(40, seg(40, 2)), 0); // a new run past every held one: no record free
  assert.equal(r.lastDropped, 2);
  assert.equal(r.insert(100, seg(100, 5)), 0); // wholly beyond
  assert.equal(r.lastDropped, 5);
  assert.equal(r.window, 50);
  assert.throws(() => new Reassembly({ capacity: 0, initialSeq: 0 }), RangeError);
});

Deno.test("Reassembly lists SACK blocks most recent first, at most the asked number (RFC 2018 §4)", () => {
  const r = new Reassembly({ capacity: 1000, initialSeq: 0 });
  r.insert(0, seg(0, 5)); // in order: never a SACK block
  r.insert(100, seg(100, 10));
  r.insert(300, seg(300, 10));
  r.insert(200, seg(200, 10));
  r.insert(400, seg(400, 10));
  r.insert(500, seg(500, 10));
  assert.deepEqual(blocks(r, 3), [500, 510, 400, 410, 200, 210]);
  r.insert(110, seg(110, 5)); // grows the oldest run: it becomes the first block
  assert.deepEqual(blocks(r), [100, 115, 500, 510, 400, 410, 200, 210]);
  r.insert(305, seg(305, 5)); // a duplicate changes nothing
  assert.deepEqual(blocks(r, 1), [100, 115]);
  const small = new Uint32Array(2);
  assert.equal(r.sackBlocks(small), 1);
});

Deno.test("property: Reassembly agrees with a byte-map reference (seeded)", () => {
  for (let round = 0; round < 40; round++) {
    const rnd = prng(0x7ea5 + round);
    const capacity = 64 + rnd(400);
    const isn = round % 2 === 0 ? (0xffffffff - rnd(300)) >>> 0 : rnd(0x100000000);
    const r = new Reassembly({ capacity, initialSeq: isn, maxRanges: capacity });
    const held = new Map<number, number>(); // absolute position -> byte
    let readPos = 0; // absolute position of readSeq
    let dupTotal = 0;
    let dropTotal = 0;
    for (let step = 0; step < 300; step++) {
      if (rnd(4) === 0) {
        const dst = new Uint8Array(1 + rnd(capacity));
        const n = r.take(dst);
        let want = 0;
        while (want < dst.length && held.has(readPos + want)) want++;
        assert.equal(n, want);
        for (let i = 0; i < n; i++) {
          assert.equal(dst[i], held.get(readPos + i));
          held.delete(readPos + i);
        }
        readPos += n;
        continue;
      }
      const p = readPos - 20 + rnd(capacity + 40);
      const n = 1 + rnd(60);
      const added = r.insert((isn + p) >>> 0, seg(p, n));
      let refAdded = 0, refDup = 0, refDrop = 0;
      for (let q = p; q < p + n; q++) {
        if (q < readPos || held.has(q)) refDup++;
        else if (q >= readPos + capacity) refDrop++;
        else {
          held.set(q, byteAt(q));
          refAdded++;
        }
      }
      assert.equal(added, refAdded);
      assert.equal(r.lastDuplicate, refDup);
      assert.equal(r.lastDropped, refDrop);
      dupTotal += refDup;
      dropTotal += refDrop;
      let inOrder = 0;
      while (held.has(readPos + inOrder)) inOrder++;
      assert.equal(r.readable, inOrder);
      assert.equal(r.ackSeq, (isn + readPos + inOrder) >>> 0);
      assert.equal(r.outOfOrderBytes, held.size - inOrder);
      // Every SACK block is a maximal held run beyond the in-order part; the first holds this segment's new bytes.
      const b = blocks(r);
      for (let k = 0; k < b.length; k += 2) {
        const s = readPos + ((b[k] - ((isn + readPos) >>> 0)) >>> 0);
        const e = s + ((b[k + 1] - b[k]) >>> 0);
        assert.ok(s > readPos + inOrder, "a block starts beyond the ACK point");
        assert.ok(!held.has(s - 1) && !held.has(e), "a block is maximal");
        for (let q = s; q < e; q++) assert.ok(held.has(q));
      }
      if (refAdded > 0 && b.length > 0 && p > readPos + inOrder) {
        const s = readPos + ((b[0] - ((isn + readPos) >>> 0)) >>> 0);
        assert.ok(
          s <= Math.max(p, readPos) && s + ((b[1] - b[0]) >>> 0) > p,
          "first block has the newest",
        );
      }
    }
    assert.equal(r.duplicateBytes, dupTotal);
    assert.equal(r.droppedBytes, dropTotal);
  }
});
