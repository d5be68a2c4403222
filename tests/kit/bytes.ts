/** Byte helpers for tests: hex fixtures in and out, and a seeded PRNG. */

/** Bytes from hex text (whitespace ignored). */
export function hex(s: string): Uint8Array {
  const t = s.replace(/\s+/g, "");
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Hex text of bytes. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** mulberry32: a deterministic PRNG giving floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The same generator giving integers in [0, n): the same sequence as `mulberry32`'s raw words. */
export function prng(seed: number): (n: number) => number {
  const next = mulberry32(seed);
  return (n: number) => Math.floor(next() * 4294967296) % n;
}
