/**
 * A hash map keyed by two unsigned 32-bit numbers (an interface index and an
 * IPv4 address, say), allocating nothing per lookup.
 *
 * A `Map` keyed by `ifIndex * 2 ** 32 + addr` boxes its key in a heap number on
 * every call, since such keys do not fit V8's small integers; this table keeps
 * the keys in an `Int32Array` and the values in a plain array, with open
 * addressing (linear probing, backward-shift deletion, no tombstones) and a
 * capacity that doubles past a load of one half.
 *
 * @example
 * ```ts
 * import { IntPairMap } from "./int_pair_map.ts";
 * const m = new IntPairMap<string>();
 * m.set(2, 0xc0000201, "192.0.2.1 on if 2");
 * console.log(m.get(2, 0xc0000201), m.get(3, 0xc0000201), m.size); // 192.0.2.1 on if 2 undefined 1
 * m.delete(2, 0xc0000201);
 * ```
 * @module
 */

/** A map from a pair of uint32 keys to values. */
export class IntPairMap<V> {
  #keys: Int32Array;
  #values: (V | undefined)[];
  #used: Uint8Array;
  #mask: number;
  #size = 0;

  /** @param capacity initial slots (rounded up to a power of two, at least 16) */
  constructor(capacity = 16) {
    let n = 16;
    while (n < capacity) n *= 2;
    this.#keys = new Int32Array(2 * n);
    this.#values = new Array(n).fill(undefined);
    this.#used = new Uint8Array(n);
    this.#mask = n - 1;
  }

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** The value for `(a, b)`, or undefined. */
  get(a: number, b: number): V | undefined {
    const i = this.#find(a | 0, b | 0);
    return i < 0 ? undefined : this.#values[i];
  }

  /** Whether `(a, b)` is present. */
  has(a: number, b: number): boolean {
    return this.#find(a | 0, b | 0) >= 0;
  }

  /** Sets the value for `(a, b)`. */
  set(a: number, b: number, value: V): void {
    const ka = a | 0, kb = b | 0;
    let i = this.#find(ka, kb);
    if (i >= 0) {
      this.#values[i] = value;
      return;
    }
    if ((this.#size + 1) * 2 > this.#mask + 1) this.#grow();
    i = hash(ka, kb) & this.#mask;
    while (this.#used[i]) i = (i + 1) & this.#mask;
    this.#used[i] = 1;
    this.#keys[2 * i] = ka;
    this.#keys[2 * i + 1] = kb;
    this.#values[i] = value;
    this.#size++;
  }

  /** Removes `(a, b)`; whether it was there. */
  delete(a: number, b: number): boolean {
    let i = this.#find(a | 0, b | 0);
    if (i < 0) return false;
    const mask = this.#mask, keys = this.#keys, used = this.#used, values = this.#values;
    // Backward-shift: pull later members of the probe run into the hole.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (!used[j]) break;
      const home = hash(keys[2 * j], keys[2 * j + 1]) & mask;
      // Move j into i unless its home lies cyclically in (i, j].
      if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
        keys[2 * i] = keys[2 * j];
        keys[2 * i + 1] = keys[2 * j + 1];
        values[i] = values[j];
        i = j;
      }
    }
    used[i] = 0;
    values[i] = undefined;
    this.#size--;
    return true;
  }

  /** Removes everything. */
  clear(): void {
    this.#used.fill(0);
    this.#values.fill(undefined);
    this.#size = 0;
  }

  /** The values, in slot order (a snapshot: safe to delete while iterating). */
  values(): V[] {
    const out: V[] = [];
    for (let i = 0; i <= this.#mask; i++) if (this.#used[i]) out.push(this.#values[i]!);
    return out;
  }

  #find(ka: number, kb: number): number {
    const mask = this.#mask, keys = this.#keys, used = this.#used;
    let i = hash(ka, kb) & mask;
    while (used[i]) {
      if (keys[2 * i] === ka && keys[2 * i + 1] === kb) return i;
      i = (i + 1) & mask;
    }
    return -1;
  }

  #grow(): void {
    const oldKeys = this.#keys, oldValues = this.#values, oldUsed = this.#used;
    const n = (this.#mask + 1) * 2;
    this.#keys = new Int32Array(2 * n);
    this.#values = new Array(n).fill(undefined);
    this.#used = new Uint8Array(n);
    this.#mask = n - 1;
    this.#size = 0;
    for (let i = 0; i < oldUsed.length; i++) {
      if (oldUsed[i]) this.set(oldKeys[2 * i], oldKeys[2 * i + 1], oldValues[i]!);
    }
  }
}

/** Mixes two int32 keys into a non-negative int. */
function hash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x27d4eb2d, 0x9e3779b1) ^ b;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) & 0x7fffffff;
}
