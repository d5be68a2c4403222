import assert from "node:assert/strict";
import { Endpoint, IpAddr } from "../../core/net/inet_addr.ts";
import {
  NetError,
  NetHeader,
  ProtocolTable,
  type TransportProtocol,
} from "../../core/net/protocols.ts";
import { type Wakeable, WakeQueue } from "../../core/event/wake_queue.ts";
import { RouteOut } from "../../core/net/route_out.ts";
import { hex, prng } from "../kit/bytes.ts";
import { checksum } from "../../core/wire/checksum.ts";

Deno.test("IpAddr holds IPv4 as a number and as ::ffff:a.b.c.d", () => {
  const a = IpAddr.v4(0xc0000207);
  assert.equal(a.family, 4);
  assert.equal(a.toString(), "192.0.2.7");
  assert.deepEqual([...a.bytes], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7]);
  assert.ok(a.equals(IpAddr.parse("192.0.2.7")!));
  assert.ok(!a.equals(IpAddr.parse("192.0.2.8")!));
  assert.ok(!a.equals(IpAddr.parse("::ffff:192.0.2.7")!), "families differ");
  assert.ok(IpAddr.v4(0).isUnspecified);
  assert.ok(IpAddr.v4(0xe0000001).isMulticast);
});

Deno.test("IpAddr parses IPv6 with a numeric zone only on scoped addresses", () => {
  const ll = IpAddr.parse("fe80::1%3")!;
  assert.equal(ll.family, 6);
  assert.equal(ll.zone, 3);
  assert.equal(ll.toString(), "fe80::1");
  assert.equal(IpAddr.parse("2001:db8::1%3")!.zone, 0);
  assert.equal(IpAddr.parse("fe80::1%en0"), null);
  assert.equal(IpAddr.parse("nonsense"), null);
  assert.ok(!ll.equals(IpAddr.parse("fe80::1%4")!), "zones differ");
  assert.ok(IpAddr.parse("::")!.isUnspecified);
  assert.ok(IpAddr.parse("ff02::1")!.isMulticast);
});

Deno.test("IpAddr is overwritten in place, and clone/set copy", () => {
  const a = new IpAddr();
  const bytes = a.bytes;
  a.setV6(hex("20010db8000000000000000000000001"));
  a.setV4(0xcb007101);
  assert.equal(a.bytes, bytes, "same storage");
  assert.equal(a.toString(), "203.0.113.1");
  const b = a.clone();
  a.setV4(1);
  assert.equal(b.toString(), "203.0.113.1");
});

Deno.test("IpAddr.hash agrees with equals and spreads addresses", () => {
  const rnd = prng(7);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const a = IpAddr.v4(0xc0000200 + rnd(256) + (rnd(256) << 8));
    assert.equal(a.hash(), a.clone().hash());
    assert.ok(a.hash() >= 0);
    seen.add(a.hash());
  }
  assert.ok(seen.size > 200);
  const six = IpAddr.parse("2001:db8::5")!;
  assert.equal(six.hash(), IpAddr.parse("2001:db8::5")!.hash());
  assert.notEqual(six.hash(), IpAddr.parse("2001:db8::6")!.hash());
});

Deno.test("Endpoint formats both families", () => {
  const e = new Endpoint();
  e.addr.setV4(0xc0000201);
  e.port = 53;
  assert.equal(e.toString(), "192.0.2.1:53");
  const f = new Endpoint();
  f.addr.setV6(IpAddr.parse("fe80::2")!.bytes, 0, 2);
  f.port = 7;
  assert.equal(f.toString(), "[fe80::2%2]:7");
  assert.ok(!e.equals(f));
  assert.ok(new Endpoint().set(f).equals(f));
});

Deno.test("ProtocolTable registers per family and refuses a taken slot", () => {
  const t = new ProtocolTable();
  const p: TransportProtocol = { name: "x", input() {} };
  t.register(17, [4, 6], p);
  assert.equal(t.get(4, 17), p);
  assert.equal(t.get(6, 17), p);
  assert.equal(t.get(4, 6), null);
  assert.throws(() => t.register(17, [6], p), /already registered/);
  assert.throws(() => t.register(256, [4], p), RangeError);
  t.register(6, [6], p);
  assert.equal(t.get(6, 6), p);
});

Deno.test("NetHeader gives the pseudo-header sum of either family", () => {
  // A UDP datagram over IPv6 (captured shape): checksum over pseudo-header + UDP is 0.
  const udp = hex("d43100350008" + "0000");
  const ip6 = hex(
    "6000000000081140" + "20010db8000000000000000000000001" + "20010db8000000000000000000000002",
  );
  const frame = new Uint8Array(ip6.length + udp.length);
  frame.set(ip6);
  frame.set(udp, 40);
  const h = new NetHeader();
  h.family = 6;
  h.bytes = frame;
  h.ipOffset = 0;
  h.proto = 17;
  h.offset = 40;
  h.length = 8;
  // Fill the checksum from the pseudo-header sum, then verify it sums to zero.
  const sumWith = (n: number) => {
    let s = n;
    for (let i = 40; i < 48; i += 2) s += (frame[i] << 8) | frame[i + 1];
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
    return ~s & 0xffff;
  };
  const c = sumWith(h.pseudoSum());
  frame[46] = c >> 8;
  frame[47] = c & 0xff;
  assert.equal(sumWith(h.pseudoSum()), 0);
  assert.equal(checksum(frame, 40, 48) !== 0, true, "the pseudo-header matters");
  const src = h.copySource(new IpAddr());
  assert.equal(src.toString(), "2001:db8::1");
  assert.equal(h.copyDestination(new IpAddr()).toString(), "2001:db8::2");

  const v4 = new NetHeader();
  v4.src4 = 0xc0000201;
  v4.dst4 = 0xc0000202;
  v4.proto = 17;
  v4.length = 8;
  assert.equal(v4.pseudoSum(), 0xc000 + 0x0201 + 0xc000 + 0x0202 + 17 + 8);
});

Deno.test("NetError reads the quoted ports", () => {
  const e = new NetError(new IpAddr(), new IpAddr());
  e.bytes = hex("0000" + "d431" + "0035" + "0008");
  e.offset = 2;
  assert.equal(e.srcPort, 0xd431);
  assert.equal(e.dstPort, 53);
});

Deno.test("WakeQueue wakes each socket once, after marking, including wakes queued while flushing", () => {
  const q = new WakeQueue();
  const log: string[] = [];
  const b: Wakeable = { wakePending: false, wake: () => log.push("b") };
  const a: Wakeable = {
    wakePending: false,
    wake: () => {
      log.push("a");
      q.mark(b);
      assert.equal(q.flush(), 0, "a nested flush leaves the work to the outer one");
    },
  };
  q.mark(a);
  q.mark(a);
  assert.ok(q.pending);
  assert.equal(log.length, 0);
  assert.equal(q.flush(), 2);
  assert.deepEqual(log, ["a", "b"]);
  assert.ok(!q.pending);
});

Deno.test("WakeQueue keeps the rest queued when a wake-up throws", () => {
  const q = new WakeQueue();
  const log: string[] = [];
  const bad: Wakeable = {
    wakePending: false,
    wake: () => {
      throw new Error("boom");
    },
  };
  const good: Wakeable = { wakePending: false, wake: () => log.push("good") };
  q.mark(bad);
  q.mark(good);
  assert.throws(() => q.flush(), /boom/);
  assert.ok(q.pending);
  assert.equal(q.flush(), 1);
  assert.deepEqual(log, ["good"]);
  q.mark(bad);
  assert.ok(bad.wakePending, "a thrower can be queued again");
});

Deno.test("RouteOut is current only for the generation it was filled under", () => {
  const r = new RouteOut();
  assert.ok(!r.isCurrent(0));
  r.iface = {} as never;
  r.generation = 5;
  assert.ok(r.isCurrent(5));
  assert.ok(!r.isCurrent(6));
  r.clear();
  assert.ok(!r.isCurrent(5));
});
