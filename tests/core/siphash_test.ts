import assert from "node:assert/strict";
import { sipHash24, sipHash24Bytes, sipHash24Low32, sipKey } from "../../core/lib/siphash.ts";
import { prng } from "../kit/bytes.ts";

/**
 * The reference implementation's 64 test vectors (vectors.h of the SipHash
 * reference code, the paper's Appendix A): key 00 01 ... 0f, message
 * 00 01 ... (len - 1) for len = 0 ... 63, output as its 8 little-endian bytes.
 */
const VECTORS = [
  "310e0edd47db6f72",
  "fd67dc93c539f874",
  "5a4fa9d909806c0d",
  "2d7efbd796666785",
  "b7877127e09427cf",
  "8da699cd64557618",
  "cee3fe586e46c9cb",
  "37d1018bf50002ab",
  "6224939a79f5f593",
  "b0e4a90bdf82009e",
  "f3b9dd94c5bb5d7a",
  "a7ad6b22462fb3f4",
  "fbe50e86bc8f1e75",
  "903d84c02756ea14",
  "eef27a8e90ca23f7",
  "e545be4961ca29a1",
  "db9bc2577fcc2a3f",
  "9447be2cf5e99a69",
  "9cd38d96f0b3c14b",
  "bd6179a71dc96dbb",
  "98eea21af25cd6be",
  "c7673b2eb0cbf2d0",
  "883ea3e395675393",
  "c8ce5ccd8c030ca8",
  "94af49f6c650adb8",
  "eab8858ade92e1bc",
  "f315bb5bb835d817",
  "adcf6b0763612e2f",
  "a5c91da7acaa4dde",
  "716595876650a2a6",
  "28ef495c53a387ad",
  "42c341d8fa92d832",
  "ce7cf2722f512771",
  "e37859f94623f3a7",
  "381205bb1ab0e012",
  "ae97a10fd434e015",
  "b4a31508beff4d31",
  "81396229f0907902",
  "4d0cf49ee5d4dcca",
  "5c73336a76d8bf9a",
  "d0a704536ba93e0e",
  "925958fcd6420cad",
  "a915c29bc8067318",
  "952b79f3bc0aa6d4",
  "f21df2e41d4535f9",
  "87577519048f53a9",
  "10a56cf5dfcd9adb",
  "eb75095ccd986cd0",
  "51a9cb9ecba312e6",
  "96afadfc2ce666c7",
  "72fe52975a4364ee",
  "5a1645b276d592a1",
  "b274cb8ebf87870a",
  "6f9bb4203de7b381",
  "eaecb2a30b22a87f",
  "9924a43cc1315724",
  "bd838d3aafbf8db7",
  "0b1a2a3265d51aea",
  "135079a3231ce660",
  "932b2846e4d70666",
  "e1915f5cb1eca46c",
  "f325965ca16d629f",
  "575ff28e60381be5",
  "724506eb4c328a95",
];

const KEY = sipKey(Uint8Array.from({ length: 16 }, (_, i) => i));

function hexLe(out: Uint32Array): string {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, out[0], true);
  new DataView(b.buffer).setUint32(4, out[1], true);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

Deno.test("sipHash24Bytes matches all 64 reference vectors", () => {
  const out = new Uint32Array(2);
  for (let len = 0; len < 64; len++) {
    const msg = Uint8Array.from({ length: len }, (_, i) => i);
    assert.equal(hexLe(sipHash24Bytes(KEY, msg, out)), VECTORS[len], `length ${len}`);
  }
});

Deno.test("the paper's worked example: 15 bytes give 0xa129ca6149be45e5", () => {
  const out = sipHash24Bytes(KEY, Uint8Array.from({ length: 15 }, (_, i) => i), new Uint32Array(2));
  assert.equal(out[1], 0xa129ca61);
  assert.equal(out[0], 0x49be45e5);
});

Deno.test("words hash as their little-endian bytes (reference vectors of lengths 0, 4, ... 60)", () => {
  const out = new Uint32Array(2);
  const words = new Uint32Array(16);
  for (let n = 0; n < 16; n++) {
    for (let i = 0; i < n; i++) {
      const b = 4 * i;
      words[i] = (b | ((b + 1) << 8) | ((b + 2) << 16) | ((b + 3) << 24)) >>> 0;
    }
    assert.equal(hexLe(sipHash24(KEY, words, n, out)), VECTORS[4 * n], `${n} words`);
  }
});

Deno.test("words and bytes agree on random keys and inputs; the low half matches sipHash24Low32", () => {
  const rand = prng(61);
  const a = new Uint32Array(2), b = new Uint32Array(2);
  for (let round = 0; round < 500; round++) {
    const key = sipKey(Uint8Array.from({ length: 16 }, () => rand(256)));
    const n = rand(12);
    const words = Uint32Array.from({ length: n }, () => rand(0x10000) * 0x10000 + rand(0x10000));
    const bytes = new Uint8Array(words.buffer.slice(0)); // little-endian on every platform Deno runs on
    sipHash24(key, words, n, a);
    sipHash24Bytes(key, bytes, b);
    assert.deepEqual([a[0], a[1]], [b[0], b[1]]);
    assert.equal(sipHash24Low32(key, words, n), a[0]);
  }
});

Deno.test("the key matters: one flipped key bit changes about half the output bits", () => {
  const keyBytes = Uint8Array.from({ length: 16 }, (_, i) => i);
  const words = [0xc0000201, 0xc6336401, 80 << 16 | 4321];
  const base = new Uint32Array(2), other = new Uint32Array(2);
  sipHash24(sipKey(keyBytes), words, 3, base);
  let flipped = 0;
  for (let bit = 0; bit < 128; bit++) {
    const k = keyBytes.slice();
    k[bit >> 3] ^= 1 << (bit & 7);
    sipHash24(sipKey(k), words, 3, other);
    for (let h = 0; h < 2; h++) {
      let x = (base[h] ^ other[h]) >>> 0;
      while (x) {
        flipped += x & 1;
        x >>>= 1;
      }
    }
  }
  const mean = flipped / 128;
  assert.ok(mean > 28 && mean < 36, `mean flipped bits ${mean}`);
});

Deno.test("sipKey wants exactly 16 bytes", () => {
  assert.throws(() => sipKey(new Uint8Array(15)), RangeError);
});
