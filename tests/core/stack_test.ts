import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { Stack } from "../../core/stack.ts";
import { handleRequest } from "../../core/control/dispatch.ts";
import { IFF } from "../../core/link/if_flags.ts";
import type { ControlRequest } from "../../core/control/ops.ts";

function dummySpec(sent: Uint8Array[] = []) {
  return {
    mtu: 1500,
    maxMtu: 9000,
    lladdr: new Uint8Array([2, 0, 0, 0, 0, 1]),
    flags: IFF.BROADCAST | IFF.SIMPLEX | IFF.MULTICAST,
    transmit: (f: Uint8Array) => {
      sent.push(f);
    },
  };
}

Deno.test("a v6 stack starts with lo0 holding 127.0.0.1, ::1 and fe80::1", () => {
  const [lo] = new Stack({ inet6: true }).ifInfo();
  assert.equal(lo.name, "lo0");
  assert.equal(lo.index, 1);
  assert.equal(lo.flags, 0x8049);
  assert.equal(lo.mtu, 33192);
  assert.deepEqual(lo.addrs, [
    { family: "inet", addr: "127.0.0.1", netmask: "255.0.0.0" },
    { family: "inet6", addr: "::1", prefixlen: 128, flags: [] },
    { family: "inet6", addr: "fe80::1", prefixlen: 64, flags: [], scopeid: 1 },
  ]);
});

Deno.test("a v4 stack has no IPv6 at all", () => {
  const stack = new Stack({ inet6: false });
  assert.deepEqual(stack.ifInfo()[0].addrs.map((a) => a.family), ["inet"]);
  assert.throws(
    () => stack.addAddress("lo0", { family: "inet6", addr: "2001:db8::1" }),
    (e: unknown) => e instanceof ErrnoError && e.code === "EAFNOSUPPORT",
  );
  assert.ok(stack.routeInfo().every((r) => r.family === "inet"));
});

Deno.test("lo0 routes are the host routes NetBSD installs", () => {
  const routes = new Stack({ inet6: true }).routeInfo().map((r) =>
    `${r.family} ${r.dst}/${r.prefixlen ?? "host"} ${r.gateway} ${r.flags} ${r.mtu} ${r.ifname}`
  );
  assert.deepEqual(routes, [
    "inet 127.0.0.1/host 127.0.0.1 5 33192 lo0",
    "inet6 ::1/host ::1 5 33192 lo0",
    "inet6 fe80::%lo0/64 fe80::1%lo0 1 33192 lo0",
    "inet6 fe80::1%lo0/host link#1 1029 0 lo0",
  ]);
});

Deno.test("attached interfaces get the lowest free unit and honour an explicit one", () => {
  const stack = new Stack({ inet6: true });
  assert.equal(stack.attachInterface("d", dummySpec(), { prefix: "en" }).name, "en0");
  assert.equal(stack.attachInterface("d", dummySpec(), { prefix: "en", unit: 5 }).name, "en5");
  assert.equal(stack.attachInterface("d", dummySpec(), { prefix: "en" }).name, "en1");
  assert.throws(
    () => stack.attachInterface("d", dummySpec(), { prefix: "en", unit: 5 }),
    (e: unknown) => e instanceof ErrnoError && e.code === "EALREADY",
  );
  assert.deepEqual(stack.ifInfo().map((i) => i.index), [1, 2, 3, 4]);
});

Deno.test("an address without a netmask gets the classful one, a broadcast, and a subnet route", () => {
  const stack = new Stack({ inet6: false });
  stack.attachInterface("d", dummySpec(), { prefix: "en" });
  const info = stack.addAddress("en0", { family: "inet", addr: "192.0.2.2" });
  assert.deepEqual(info.addrs, [
    { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0", broadcast: "192.0.2.255" },
  ]);
  assert.ok(info.flags & IFF.UP, "adding an address brings the interface up");
  assert.ok(info.flags & IFF.RUNNING);
  const r = stack.routeInfo().find((r) => r.ifname === "en0");
  assert.deepEqual(
    r && [r.dst, r.prefixlen, r.gateway],
    ["192.0.2.0", 24, "link#2"],
  );
});

Deno.test("deleting the primary address removes its route; EADDRNOTAVAIL when none is left", () => {
  const stack = new Stack({ inet6: false });
  stack.attachInterface("d", dummySpec(), { prefix: "en" });
  stack.addAddress("en0", { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" });
  stack.addAddress("en0", { family: "inet", addr: "198.51.100.2", netmask: "255.255.255.0" });
  stack.deleteAddress("en0", "inet");
  assert.deepEqual(stack.ifInfo("en0")[0].addrs.map((a) => a.addr), ["198.51.100.2"]);
  assert.deepEqual(stack.routeInfo().filter((r) => r.ifname === "en0").map((r) => r.dst), [
    "198.51.100.0",
  ]);
  stack.deleteAddress("en0", "inet");
  assert.throws(
    () => stack.deleteAddress("en0", "inet"),
    (e: unknown) => e instanceof ErrnoError && e.code === "EADDRNOTAVAIL",
  );
});

Deno.test("MTU and flags are validated", () => {
  const stack = new Stack({ inet6: false });
  stack.attachInterface("d", dummySpec(), { prefix: "en" });
  assert.equal(stack.setMtu("en0", 9000).mtu, 9000);
  assert.throws(() => stack.setMtu("en0", 9001), ErrnoError);
  assert.throws(() => stack.setMtu("en0", 10), ErrnoError);
  // LOOPBACK cannot be set by a client.
  assert.equal(stack.setFlags("en0", IFF.LOOPBACK, 0).flags & IFF.LOOPBACK, 0);
  assert.throws(() => stack.setFlags("nope0", IFF.UP, 0), ErrnoError);
});

Deno.test("lo cloner makes lo1, and destroy removes it with its routes; lo0 cannot go", async () => {
  const stack = new Stack({ inet6: true });
  assert.deepEqual(stack.clonerNames(), ["lo"]);
  await stack.createInterface("lo1");
  stack.addAddress("lo1", { family: "inet", addr: "127.0.1.1" });
  await assert.rejects(() => stack.createInterface("lo1"), ErrnoError);
  await assert.rejects(() => stack.createInterface("bogus0"), ErrnoError);
  stack.destroyInterface("lo1");
  assert.ok(!stack.routeInfo().some((r) => r.ifname === "lo1"));
  assert.throws(() => stack.destroyInterface("lo0"), ErrnoError);
});

Deno.test("handleRequest refuses changes from an unprivileged client with EPERM", async () => {
  const stack = new Stack({ inet6: false });
  const req: ControlRequest = { op: "sysctlSet", name: "net.inet.ip.ttl", value: "32" };
  assert.deepEqual(await handleRequest(stack, req, { privileged: false }), {
    ok: false,
    errno: "EPERM",
    message: "sysctlSet: Operation not permitted",
  });
  const ok = await handleRequest(stack, req, { privileged: true });
  assert.deepEqual(ok, { ok: true, result: { old: 64, new: 32 } });
  assert.equal((await handleRequest(stack, { op: "ifList" }, { privileged: false })).ok, true);
});

Deno.test("handleRequest turns bad fields into EINVAL, never a throw", async () => {
  const stack = new Stack({ inet6: true });
  const bad = [
    { op: "ifList", name: 7 },
    { op: "ifSet", name: "lo0", mtu: "big" },
    { op: "addrAdd", name: "lo0", spec: null },
    { op: "addrAdd", name: "lo0", spec: { family: "inet", addr: "300.1.1.1" } },
    { op: "addrAdd", name: "lo0", spec: { family: "inet6", addr: "::1", flags: ["weird"] } },
    { op: "sysctlSet", name: "net.inet.ip.ttl" },
  ] as unknown as ControlRequest[];
  for (const req of bad) {
    const reply = await handleRequest(stack, req, { privileged: true });
    assert.equal(reply.ok, false, JSON.stringify(req));
    assert.equal(!reply.ok && reply.errno, "EINVAL", JSON.stringify(req));
  }
  const fam = await handleRequest(
    stack,
    { op: "addrDelete", name: "lo0", family: "ipx" } as unknown as ControlRequest,
    { privileged: true },
  );
  assert.equal(!fam.ok && fam.errno, "EAFNOSUPPORT");
});

Deno.test("frames received on a down interface are counted as dropped", () => {
  const stack = new Stack({ inet6: false });
  const en = stack.attachInterface("d", dummySpec(), { prefix: "en" });
  en.receive(new Uint8Array(60));
  const s = stack.ifInfo("en0")[0].stats;
  assert.equal(s.ipackets, 1);
  assert.equal(s.ibytes, 60);
  assert.equal(s.iqdrops, 1);
});

Deno.test("IPv6 lifetimes are kept; 0xffffffff means infinite", () => {
  const stack = new Stack({ inet6: true });
  stack.attachInterface("d", dummySpec(), { prefix: "en" });
  stack.addAddress("en0", {
    family: "inet6",
    addr: "2001:db8::1",
    pltime: 100,
    vltime: 0xffffffff,
  });
  const a = stack.ifInfo("en0")[0].addrs[0];
  assert.deepEqual(a, {
    family: "inet6",
    addr: "2001:db8::1",
    prefixlen: 64,
    flags: [],
    pltime: 100,
  });
  assert.throws(
    () => stack.addAddress("en0", { family: "inet6", addr: "2001:db8::2", vltime: -1 }),
    ErrnoError,
  );
});
