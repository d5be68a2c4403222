import assert from "node:assert/strict";
import { IntPairMap } from "../../core/lib/int_pair_map.ts";
import { prng } from "../kit/bytes.ts";

Deno.test("IntPairMap agrees with a Map under random sets and deletes (property)", () => {
  for (const seed of [1, 2, 3, 4]) {
    const rnd = prng(seed);
    const m = new IntPairMap<number>(4);
    const ref = new Map<string, number>();
    for (let step = 0; step < 20_000; step++) {
      // Few distinct keys, so deletes hit and probe runs wrap the table.
      const a = rnd(4), b = 0xc0000200 + rnd(300) + (rnd(2) << 31);
      const k = `${a}/${b >>> 0}`;
      const op = rnd(10);
      if (op < 5) {
        m.set(a, b >>> 0, step);
        ref.set(k, step);
      } else if (op < 8) {
        assert.equal(m.delete(a, b >>> 0), ref.delete(k), `seed ${seed} step ${step}`);
      } else {
        assert.equal(m.get(a, b >>> 0), ref.get(k), `seed ${seed} step ${step}`);
        assert.equal(m.has(a, b >>> 0), ref.has(k));
      }
      assert.equal(m.size, ref.size);
    }
    for (const [k, v] of ref) {
      const [a, b] = k.split("/").map(Number);
      assert.equal(m.get(a, b), v);
    }
    assert.deepEqual(m.values().sort((x, y) => x - y), [...ref.values()].sort((x, y) => x - y));
    m.clear();
    assert.equal(m.size, 0);
    assert.equal(m.get(0, 0xc0000201), undefined);
  }
});

Deno.test("IntPairMap tells keys apart that differ only in one half or in the top bit", () => {
  const m = new IntPairMap<string>();
  m.set(1, 0x80000001, "a");
  m.set(1, 0x00000001, "b");
  m.set(2, 0x80000001, "c");
  assert.deepEqual([m.get(1, 0x80000001), m.get(1, 1), m.get(2, 0x80000001), m.get(2, 1)], [
    "a",
    "b",
    "c",
    undefined,
  ]);
});
