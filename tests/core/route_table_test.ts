import assert from "node:assert/strict";
import { IFF } from "../../core/link/if_flags.ts";
import { NetInterface } from "../../core/link/interface.ts";
import { Stack } from "../../core/stack.ts";
import { formatIp6, parseIp6 } from "../../core/net/ip_addr.ts";
import {
  prefixHash6,
  type Route4,
  type Route6,
  type RouteEntry,
  RouteTable4,
  RouteTable6,
} from "../../core/net/route.ts";
import { RTF } from "../../core/net/route_flags.ts";
import { prng } from "../kit/bytes.ts";
import { LinearRouteTable4, LinearRouteTable6 } from "../kit/linear_routes.ts";

function iface(name: string, index: number): NetInterface {
  return new NetInterface({
    name,
    index,
    driver: "test",
    flags: 0,
    spec: { mtu: 1500, transmit() {} },
  });
}

const IFACES = [iface("lo0", 1), iface("en0", 2), iface("en1", 3)];
const [lo0, en0, en1] = IFACES;

function route4(dst: number, prefixlen: number, via: NetInterface, flags: number = RTF.UP): Route4 {
  return {
    dst,
    prefixlen,
    gateway: { kind: "link", ifIndex: via.index },
    flags,
    iface: via,
    mtu: 0,
  };
}

function route6(
  dst: string,
  prefixlen: number,
  via: NetInterface,
  zone?: number,
  flags: number = RTF.UP,
): Route6 {
  return {
    dst: parseIp6(dst)!,
    prefixlen,
    zone,
    gateway: { kind: "link", ifIndex: via.index },
    flags,
    iface: via,
    mtu: 0,
  };
}

function show4(r: RouteEntry<Route4> | undefined): string {
  return r ? `${r.dst}/${r.prefixlen} ${r.iface.name} ${r.flags}` : "none";
}

function show6(r: RouteEntry<Route6> | undefined): string {
  return r ? `${formatIp6(r.dst)}/${r.prefixlen}%${r.zone} ${r.iface.name} ${r.flags}` : "none";
}

// ------------------------------------------------------------------------------- IPv4

Deno.test("IPv4 lookup passes over a route that is not UP for a shorter one, returns reject routes", () => {
  const t = new RouteTable4();
  assert.ok(t.add(route4(0xc0000200, 24, en0, 0)));
  assert.ok(t.add(route4(0xc0000000, 16, en1)));
  assert.ok(t.add(route4(0, 0, lo0, RTF.UP | RTF.REJECT)));
  assert.equal(show4(t.lookup(0xc0000209)), show4(t.find(0xc0000000, 16)));
  t.find(0xc0000200, 24)!.flags |= RTF.UP;
  assert.equal(t.lookup(0xc0000209)?.iface, en0);
  assert.equal(t.lookup(0xcb007101)?.flags, RTF.UP | RTF.REJECT);
  // find masks the destination it is given; the entry holds the masked one.
  assert.equal(t.find(0xc00002ff, 24)?.dst, 0xc0000200);
  assert.equal(t.find(0xc0000200, 25), undefined);
});

Deno.test("IPv4 table: every change bumps the generation, a refused one does not", () => {
  const t = new RouteTable4();
  const g0 = t.generation;
  assert.ok(t.add(route4(0xc6336400, 24, en0)));
  assert.equal(t.generation, g0 + 1);
  assert.equal(t.add(route4(0xc63364ff, 24, en1)), false);
  assert.equal(t.delete(0xc6336400, 25), false);
  assert.equal(t.generation, g0 + 1);
  assert.ok(t.delete(0xc6336401, 24));
  assert.equal(t.generation, g0 + 2);
  t.add(route4(0xc6336400, 24, en0));
  t.add(route4(0xcb007100, 24, en1));
  t.deleteByInterface(en0);
  assert.equal(t.generation, g0 + 5);
  assert.deepEqual(t.list().map(show4), [show4(t.find(0xcb007100, 24))]);
  assert.equal(t.lookup(0xc6336401), undefined);
});

Deno.test("IPv4 add refuses prefix lengths outside 0..32", () => {
  const t = new RouteTable4();
  assert.throws(() => t.add(route4(0, 33, en0)), RangeError);
  assert.equal(t.find(0, 33), undefined);
  assert.equal(t.delete(0, 33), false);
});

/** IPv4 destinations that overlap often: a few documentation bases, random bits below. */
function randomDst4(rand: (n: number) => number): number {
  const bases = [0xc0000200, 0xc6336400, 0xcb007100, 0xc0000000, rand(0x100000000)];
  const base = bases[rand(bases.length)];
  const free = [0, 1, 2, 4, 8, 12, 16, 32][rand(8)];
  const low = free === 32 ? rand(0x100000000) : rand(2 ** free);
  return ((base & ~(2 ** free - 1)) | low) >>> 0;
}

function randomLen4(rand: (n: number) => number): number {
  const lens = [0, 8, 16, 20, 24, 24, 25, 28, 30, 31, 32, 32];
  return rand(4) === 0 ? rand(33) : lens[rand(lens.length)];
}

function randomFlags(rand: (n: number) => number): number {
  let flags = rand(8) === 0 ? 0 : RTF.UP;
  if (rand(10) === 0) flags |= RTF.REJECT;
  if (rand(10) === 0) flags |= RTF.BLACKHOLE;
  return flags;
}

for (const seed of [1, 2, 3, 0x5eed]) {
  Deno.test(`IPv4 table agrees with the linear reference (seed ${seed})`, () => {
    const rand = prng(seed);
    const t = new RouteTable4(), ref = new LinearRouteTable4();
    let lookups = 0, hits = 0;
    for (let step = 0; step < 3000; step++) {
      const existing = ref.list();
      const pick = existing.length > 0 ? existing[rand(existing.length)] : undefined;
      const op = rand(100);
      if (op < 40) {
        const r = route4(randomDst4(rand), randomLen4(rand), IFACES[rand(3)], randomFlags(rand));
        assert.equal(t.add(r), ref.add(r), `add ${show4({ ...r, refs: 0, use: 0 })}`);
      } else if (op < 55) {
        const [dst, len] = pick && rand(3) !== 0
          ? [pick.dst | rand(2 ** (32 - pick.prefixlen)), pick.prefixlen]
          : [randomDst4(rand), randomLen4(rand)];
        assert.equal(t.delete(dst, len), ref.delete(dst, len));
      } else if (op < 65 && pick) {
        // Flags change in place (a route marked down, rejecting); the lookup sees it at once.
        const flip = [RTF.UP, RTF.REJECT, RTF.BLACKHOLE][rand(3)];
        t.find(pick.dst, pick.prefixlen)!.flags ^= flip;
        pick.flags ^= flip;
      } else if (op < 67) {
        const via = IFACES[rand(3)];
        t.deleteByInterface(via);
        ref.deleteByInterface(via);
      }
      assert.equal(t.generation, ref.generation);
      for (let i = 0; i < 5; i++) {
        const addr = pick && rand(2) === 0
          ? (pick.dst | rand(2 ** (32 - pick.prefixlen))) >>> 0
          : randomDst4(rand);
        const want = ref.lookup(addr);
        assert.equal(show4(t.lookup(addr)), show4(want), `lookup ${addr.toString(16)}`);
        lookups++;
        if (want) hits++;
      }
      if (pick) {
        assert.equal(
          show4(t.find(pick.dst, pick.prefixlen)),
          show4(ref.find(pick.dst, pick.prefixlen)),
        );
      }
      if (step % 100 === 0) assert.deepEqual(t.list().map(show4), ref.list().map(show4));
    }
    assert.deepEqual(t.list().map(show4), ref.list().map(show4));
    // The generator must exercise both outcomes, or the comparison proves little.
    assert.ok(hits > lookups / 4 && hits < lookups, `${hits} hits of ${lookups}`);
  });
}

// ------------------------------------------------------------------------------- IPv6

Deno.test("IPv6 scoped routes match only in their zone; unscoped ones in every zone", () => {
  const t = new RouteTable6();
  assert.ok(t.add(route6("fe80::", 64, en0, 2)));
  assert.ok(t.add(route6("fe80::", 64, en1, 3)));
  assert.equal(t.add(route6("fe80::1", 64, en1, 3)), false);
  assert.ok(t.add(route6("::", 0, lo0, undefined, RTF.UP | RTF.REJECT)));
  const ll = parseIp6("fe80::9")!;
  assert.equal(t.lookup(ll, 2)?.iface, en0);
  assert.equal(t.lookup(ll, 3)?.iface, en1);
  assert.equal(t.lookup(ll, 4)?.prefixlen, 0); // no route in zone 4: the default
  assert.equal(t.lookup(ll)?.prefixlen, 0);
  assert.equal(t.find(ll, 64, 3)?.iface, en1);
  assert.equal(t.find(ll, 64), undefined);
  // Detaching en0 takes the routes through it and the routes scoped to it.
  t.add(route6("2001:db8::", 64, en0));
  t.add(route6("fe80::", 64, lo0, 2, RTF.UP));
  t.deleteByInterface(en0);
  assert.deepEqual(t.list().map(show6), [
    "::/0%undefined lo0 " + (RTF.UP | RTF.REJECT),
    `fe80::/64%3 en1 ${RTF.UP}`,
  ]);
});

Deno.test("IPv6 lookup passes over a route that is not UP, in its zone and then shorter", () => {
  const t = new RouteTable6();
  t.add(route6("2001:db8:1::", 48, en0, undefined, 0));
  t.add(route6("2001:db8::", 32, en1));
  const a = parseIp6("2001:db8:1::5")!;
  assert.equal(t.lookup(a)?.prefixlen, 32);
  t.find(a, 48)!.flags = RTF.UP;
  assert.equal(t.lookup(a)?.prefixlen, 48);
  // Two routes for one destination, the first added not UP: the second, same length, wins.
  t.add(route6("2001:db8:2::", 48, en0, 2, 0));
  t.add(route6("2001:db8:2::", 48, en1));
  assert.equal(t.lookup(parseIp6("2001:db8:2::1")!, 2)?.iface, en1);
});

Deno.test("IPv6 table: changes bump the generation, refused ones do not", () => {
  const t = new RouteTable6();
  const g0 = t.generation;
  assert.ok(t.add(route6("2001:db8::", 32, en0)));
  assert.equal(t.add(route6("2001:db8::", 32, en1)), false);
  assert.equal(t.delete(parseIp6("2001:db8::")!, 32, 2), false);
  assert.equal(t.generation, g0 + 1);
  assert.ok(t.delete(parseIp6("2001:db8:ffff::")!, 32));
  t.deleteByInterface(en1);
  assert.equal(t.generation, g0 + 3);
  assert.throws(() => t.add(route6("::", 129, en0)), RangeError);
});

Deno.test("IPv6 destinations whose hashes collide share a bucket and stay apart", () => {
  const rand = prng(7);
  const seen = new Map<number, Uint8Array>();
  let pair: [Uint8Array, Uint8Array] | null = null;
  // A 32-bit hash: a collision is expected after ~80 000 addresses (birthday bound).
  for (let i = 0; i < 1_000_000 && !pair; i++) {
    const a = parseIp6("2001:db8::")!;
    for (let b = 4; b < 16; b++) a[b] = rand(256);
    const h = prefixHash6(a, 128);
    const other = seen.get(h);
    if (other) pair = [other, a];
    else seen.set(h, a);
  }
  assert.ok(pair, "no collision found");
  const [a, b] = pair;
  assert.notEqual(formatIp6(a), formatIp6(b));
  const t = new RouteTable6();
  assert.ok(t.add(route6(formatIp6(a), 128, en0)));
  assert.ok(t.add(route6(formatIp6(b), 128, en1)));
  assert.ok(t.add(route6(formatIp6(b), 128, lo0, 3)));
  assert.equal(t.lookup(a)?.iface, en0);
  assert.equal(t.lookup(b)?.iface, en1);
  assert.equal(t.lookup(b, 3)?.iface, en1); // unscoped, added first
  assert.equal(t.find(b, 128, 3)?.iface, lo0);
  assert.ok(t.delete(b, 128));
  assert.equal(t.lookup(b, 3)?.iface, lo0);
  assert.equal(t.lookup(b), undefined);
  assert.equal(t.lookup(a)?.iface, en0);
  t.deleteByInterface(en0);
  assert.equal(t.lookup(a), undefined);
  assert.equal(t.find(b, 128, 3)?.iface, lo0);
});

const BASES6 = ["2001:db8::", "2001:db8:1::", "2001:db8:1:2::", "fe80::", "::"].map((s) =>
  parseIp6(s)!
);

function randomDst6(rand: (n: number) => number): Uint8Array {
  const a = BASES6[rand(BASES6.length)].slice();
  const from = [2, 4, 6, 8, 12, 15, 16, 16][rand(8)];
  for (let i = from; i < 16; i++) a[i] = rand(256);
  if (rand(8) === 0) a[from - 1] ^= 1 << rand(8);
  return a;
}

function randomLen6(rand: (n: number) => number): number {
  const lens = [0, 10, 32, 48, 56, 64, 64, 96, 120, 127, 128, 128];
  return rand(4) === 0 ? rand(129) : lens[rand(lens.length)];
}

function randomZone(rand: (n: number) => number, dst: Uint8Array): number | undefined {
  const linkLocal = dst[0] === 0xfe && (dst[1] & 0xc0) === 0x80;
  if (!linkLocal && rand(6) !== 0) return undefined;
  return [undefined, 1, 2, 3][rand(4)];
}

/** `addr` with random bits past the first `len`. */
function within6(rand: (n: number) => number, prefix: Uint8Array, len: number): Uint8Array {
  const a = prefix.slice();
  for (let bit = len; bit < 128; bit++) if (rand(2)) a[bit >> 3] |= 0x80 >> (bit & 7);
  return a;
}

for (const seed of [1, 2, 3, 0x5eed]) {
  Deno.test(`IPv6 table agrees with the linear reference, zones included (seed ${seed})`, () => {
    const rand = prng(seed);
    const t = new RouteTable6(), ref = new LinearRouteTable6();
    let lookups = 0, hits = 0, scopedHits = 0;
    for (let step = 0; step < 3000; step++) {
      const existing = ref.list();
      const pick = existing.length > 0 ? existing[rand(existing.length)] : undefined;
      const op = rand(100);
      if (op < 40) {
        const dst = randomDst6(rand);
        const via = IFACES[rand(3)];
        const r: Route6 = {
          ...route6("::", randomLen6(rand), via, randomZone(rand, dst), randomFlags(rand)),
          dst,
        };
        assert.equal(t.add(r), ref.add(r), `add ${show6({ ...r, refs: 0, use: 0 })}`);
      } else if (op < 55) {
        const [dst, len, zone] = pick && rand(3) !== 0
          ? [within6(rand, pick.dst, pick.prefixlen), pick.prefixlen, pick.zone]
          : [randomDst6(rand), randomLen6(rand), [undefined, 2][rand(2)]];
        assert.equal(t.delete(dst, len, zone), ref.delete(dst, len, zone));
      } else if (op < 65 && pick) {
        const flip = [RTF.UP, RTF.REJECT, RTF.BLACKHOLE][rand(3)];
        t.find(pick.dst, pick.prefixlen, pick.zone)!.flags ^= flip;
        pick.flags ^= flip;
      } else if (op < 67) {
        const via = IFACES[rand(3)];
        t.deleteByInterface(via);
        ref.deleteByInterface(via);
      }
      assert.equal(t.generation, ref.generation);
      for (let i = 0; i < 5; i++) {
        const addr = pick && rand(2) === 0
          ? within6(rand, pick.dst, pick.prefixlen)
          : randomDst6(rand);
        const zone = rand(2) === 0 ? pick?.zone : [undefined, 1, 2, 3][rand(4)];
        const want = ref.lookup(addr, zone);
        assert.equal(
          show6(t.lookup(addr, zone)),
          show6(want),
          `lookup ${formatIp6(addr)}%${zone}`,
        );
        lookups++;
        if (want) hits++;
        if (want?.zone !== undefined) scopedHits++;
      }
      if (pick) {
        const { dst, prefixlen, zone } = pick;
        assert.equal(show6(t.find(dst, prefixlen, zone)), show6(ref.find(dst, prefixlen, zone)));
      }
      if (step % 100 === 0) assert.deepEqual(t.list().map(show6), ref.list().map(show6));
    }
    assert.deepEqual(t.list().map(show6), ref.list().map(show6));
    assert.ok(hits > lookups / 4 && hits < lookups, `${hits} hits of ${lookups}`);
    assert.ok(scopedHits > 0, "no lookup matched a scoped route");
  });
}

Deno.test("destroying an interface takes the routes through it and scoped to it, not a namesake's", () => {
  const stack = new Stack({ inet6: true });
  const attach = () =>
    stack.attachInterface("d", {
      mtu: 1500,
      lladdr: new Uint8Array([2, 0, 0, 0, 0, 1]),
      flags: IFF.BROADCAST | IFF.MULTICAST,
      transmit() {},
    }, { prefix: "en" });
  attach();
  stack.addAddress("en0", { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" });
  stack.addAddress("en0", { family: "inet6", addr: "fe80::2%en0" });
  stack.addRoute({ family: "inet", dst: "default", prefixlen: 0, gateway: "192.0.2.1" });
  const onEn0 = (r: { ifname: string; dst: string }) =>
    r.ifname === "en0" || r.dst.endsWith("%en0");
  assert.equal(stack.routeInfo().filter(onEn0).length, 4);
  stack.destroyInterface("en0");
  assert.deepEqual(stack.routeInfo().filter(onEn0), []);
  // A new interface may take the name; the routes it gets are its own.
  attach();
  stack.addAddress("en0", { family: "inet", addr: "198.51.100.2", netmask: "255.255.255.0" });
  assert.deepEqual(stack.routeInfo().filter(onEn0).map((r) => r.dst), ["198.51.100.0"]);
  assert.equal(stack.getRoute("inet", "198.51.100.9").route.ifname, "en0");
});
