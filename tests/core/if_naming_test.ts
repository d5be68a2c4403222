import assert from "node:assert/strict";
import { allocateIfName, IFNAMSIZ, splitGenericDriverOptions } from "../../core/link/if_naming.ts";

Deno.test("splitGenericDriverOptions takes name= and leaves the driver's options", () => {
  assert.deepEqual(splitGenericDriverOptions("name=en,host=tap7"), {
    name: "en",
    rest: "host=tap7",
  });
});

Deno.test("splitGenericDriverOptions takes unit= and its synonym lan=", () => {
  assert.deepEqual(splitGenericDriverOptions("unit=2"), { unit: 2, rest: "" });
  assert.deepEqual(splitGenericDriverOptions("lan=3,pci=1"), { unit: 3, rest: "pci=1" });
  assert.deepEqual(splitGenericDriverOptions("unit=0x10"), { unit: 16, rest: "" });
});

Deno.test("splitGenericDriverOptions ignores a negative unit", () => {
  assert.deepEqual(splitGenericDriverOptions("lan=-1"), { rest: "" });
  // The last one wins, and a negative one cancels an earlier explicit unit.
  assert.deepEqual(splitGenericDriverOptions("unit=2,lan=-1"), { rest: "" });
  assert.deepEqual(splitGenericDriverOptions("unit=2,unit=5"), { unit: 5, rest: "" });
});

Deno.test("splitGenericDriverOptions keeps the other options in order", () => {
  assert.deepEqual(splitGenericDriverOptions("a=1,name=x,b,unit=1,c=2"), {
    name: "x",
    unit: 1,
    rest: "a=1,b,c=2",
  });
  assert.deepEqual(splitGenericDriverOptions("peer=/dev/vdevpeer/0,name=vp"), {
    name: "vp",
    rest: "peer=/dev/vdevpeer/0",
  });
  assert.deepEqual(splitGenericDriverOptions("did=0x772D,vid=0x0B95"), {
    rest: "did=0x772D,vid=0x0B95",
  });
  assert.deepEqual(splitGenericDriverOptions("verbose=0,name=ncm"), {
    name: "ncm",
    rest: "verbose=0",
  });
});

Deno.test("splitGenericDriverOptions consumes name and unit without values", () => {
  assert.deepEqual(splitGenericDriverOptions("name,unit,mac=001122334455"), {
    rest: "mac=001122334455",
  });
  assert.deepEqual(splitGenericDriverOptions(""), { rest: "" });
  assert.deepEqual(splitGenericDriverOptions("a,,b,"), { rest: "a,b" });
});

Deno.test("splitGenericDriverOptions reports a non-numeric unit", () => {
  const r = splitGenericDriverOptions("unit=x,mac=1");
  assert.equal(r.rest, "mac=1");
  assert.equal(r.unit, undefined);
  assert.match(r.error ?? "", /unit.*"x"/);
  assert.match(splitGenericDriverOptions("lan=1a").error ?? "", /lan/);
});

Deno.test("allocateIfName picks the lowest free unit from 0", () => {
  const none = () => false;
  assert.deepEqual(allocateIfName("en", undefined, none), { ok: true, name: "en0" });
  const taken = new Set(["en0", "en2"]);
  assert.deepEqual(allocateIfName("en", undefined, (n) => taken.has(n)), {
    ok: true,
    name: "en1",
  });
  taken.add("en1");
  assert.deepEqual(allocateIfName("en", undefined, (n) => taken.has(n)), {
    ok: true,
    name: "en3",
  });
});

Deno.test("allocateIfName treats a negative unit as no unit", () => {
  assert.deepEqual(allocateIfName("wan", -1, (n) => n === "wan0"), { ok: true, name: "wan1" });
});

Deno.test("allocateIfName uses an explicit unit, EALREADY when it is taken", () => {
  assert.deepEqual(allocateIfName("en", 5, () => false), { ok: true, name: "en5" });
  assert.deepEqual(allocateIfName("en", 0, (n) => n === "en0"), { ok: false, errno: "EALREADY" });
  // A different prefix with the same unit is a different interface.
  assert.deepEqual(allocateIfName("wm", 0, (n) => n === "en0"), { ok: true, name: "wm0" });
});

Deno.test("allocateIfName keeps names within IFNAMSIZ - 1 characters", () => {
  assert.equal(IFNAMSIZ, 16);
  const p14 = "abcdefghijklmn";
  assert.deepEqual(allocateIfName(p14, undefined, () => false), { ok: true, name: `${p14}0` });
  assert.deepEqual(allocateIfName(`${p14}o`, undefined, () => false), {
    ok: false,
    errno: "ENAMETOOLONG",
  });
  assert.deepEqual(allocateIfName("abcdefghijklm", 100, () => false), {
    ok: false,
    errno: "ENAMETOOLONG",
  });
  // Units 0..9 taken: the next free one no longer fits.
  assert.deepEqual(allocateIfName(p14, undefined, (n) => n.length === 15), {
    ok: false,
    errno: "ENAMETOOLONG",
  });
});

Deno.test("allocateIfName rejects bad prefixes and units with EINVAL", () => {
  for (const prefix of ["", "en1", "e-n", "en 0", "é", "en.x"]) {
    assert.deepEqual(allocateIfName(prefix, undefined, () => false), {
      ok: false,
      errno: "EINVAL",
    }, prefix);
  }
  assert.deepEqual(allocateIfName("my_if", undefined, () => false), { ok: true, name: "my_if0" });
  assert.deepEqual(allocateIfName("en", 1.5, () => false), { ok: false, errno: "EINVAL" });
});
