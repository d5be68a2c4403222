import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { Stack } from "../../core/stack.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { routeFlagLetters, RTF } from "../../core/net/route_flags.ts";

function stackWithEn0(): Stack {
  const stack = new Stack({ inet6: true });
  stack.attachInterface("d", {
    mtu: 1500,
    lladdr: new Uint8Array([2, 0, 0, 0, 0, 1]),
    flags: IFF.BROADCAST | IFF.MULTICAST,
    transmit() {},
  }, { prefix: "en" });
  stack.addAddress("en0", { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" });
  stack.addAddress("en0", { family: "inet6", addr: "2001:db8::2" });
  return stack;
}

function code(e: unknown): string {
  return e instanceof ErrnoError ? e.code : String(e);
}

Deno.test("route add default via a reachable gateway is UGS on its interface", () => {
  const stack = stackWithEn0();
  const r = stack.addRoute({ family: "inet", dst: "default", prefixlen: 0, gateway: "192.0.2.1" });
  assert.deepEqual([r.dst, r.prefixlen, r.gateway, routeFlagLetters(r.flags), r.ifname], [
    "0.0.0.0",
    0,
    "192.0.2.1",
    "UGS",
    "en0",
  ]);
  assert.throws(
    () => stack.addRoute({ family: "inet", dst: "default", prefixlen: 0, gateway: "192.0.2.1" }),
    (e) => code(e) === "EEXIST",
  );
  const got = stack.getRoute("inet", "203.0.113.9");
  assert.equal(got.route.dst, "0.0.0.0");
  assert.equal(got.mask, "0.0.0.0");
  assert.equal(got.ifaddr, "192.0.2.2");
});

Deno.test("route add refuses an unreachable gateway and bad destinations", () => {
  const stack = stackWithEn0();
  assert.throws(
    () =>
      stack.addRoute({
        family: "inet",
        dst: "198.51.100.0",
        prefixlen: 24,
        gateway: "203.0.113.1",
      }),
    (e) => code(e) === "ENETUNREACH",
  );
  assert.throws(
    () => stack.addRoute({ family: "inet", dst: "300.0.0.0", prefixlen: 24, gateway: "192.0.2.1" }),
    (e) => code(e) === "EINVAL",
  );
});

Deno.test("host, reject, blackhole and interface routes carry their flags", () => {
  const stack = stackWithEn0();
  const host = stack.addRoute({
    family: "inet",
    dst: "203.0.113.5",
    prefixlen: null,
    gateway: "192.0.2.1",
  });
  assert.equal(routeFlagLetters(host.flags), "UGHS");
  const rej = stack.addRoute({ family: "inet", dst: "198.51.100.0", prefixlen: 24, reject: true });
  assert.equal(routeFlagLetters(rej.flags), "URS");
  assert.equal(rej.ifname, "lo0");
  const bh = stack.addRoute({
    family: "inet",
    dst: "203.0.113.0",
    prefixlen: 25,
    blackhole: true,
  });
  assert.equal(routeFlagLetters(bh.flags), "UBS");
  const ifr = stack.addRoute({
    family: "inet",
    dst: "198.51.100.128",
    prefixlen: 25,
    ifname: "en0",
  });
  assert.deepEqual([ifr.gateway, routeFlagLetters(ifr.flags)], ["link#2", "US"]);
});

Deno.test("route delete and change report ESRCH for missing routes; change replaces", () => {
  const stack = stackWithEn0();
  assert.throws(() => stack.deleteRoute("inet", "198.51.100.0", 24), (e) => code(e) === "ESRCH");
  stack.addRoute({ family: "inet", dst: "198.51.100.0", prefixlen: 24, gateway: "192.0.2.1" });
  const changed = stack.changeRoute({
    family: "inet",
    dst: "198.51.100.0",
    prefixlen: 24,
    gateway: "192.0.2.9",
  });
  assert.equal(changed.gateway, "192.0.2.9");
  assert.throws(
    () =>
      stack.changeRoute({
        family: "inet",
        dst: "198.51.100.0",
        prefixlen: 24,
        gateway: "203.0.113.1",
      }),
    (e) => code(e) === "ENETUNREACH",
  );
  assert.equal(
    stack.getRoute("inet", "198.51.100.7").route.gateway,
    "192.0.2.9",
    "failed change kept the route",
  );
  assert.equal(stack.deleteRoute("inet", "198.51.100.0", 24).gateway, "192.0.2.9");
});

Deno.test("IPv6 routes: link-local gateways need a zone; flush removes gateway routes only", () => {
  const stack = stackWithEn0();
  assert.throws(
    () => stack.addRoute({ family: "inet6", dst: "default", prefixlen: 0, gateway: "fe80::1" }),
    (e) => code(e) === "EINVAL",
  );
  const d = stack.addRoute({
    family: "inet6",
    dst: "default",
    prefixlen: 0,
    gateway: "fe80::1%en0",
  });
  assert.deepEqual([d.dst, d.gateway, d.ifname], ["::", "fe80::1%en0", "en0"]);
  stack.addRoute({ family: "inet", dst: "default", prefixlen: 0, gateway: "192.0.2.1" });
  const gone = stack.flushRoutes();
  assert.deepEqual(gone.map((r) => r.dst), ["0.0.0.0", "::"]);
  assert.ok(stack.routeInfo().some((r) => r.dst === "192.0.2.0"), "connected routes stay");
});

Deno.test("the v4 stack refuses inet6 routes", () => {
  const stack = new Stack({ inet6: false });
  assert.throws(
    () => stack.addRoute({ family: "inet6", dst: "default", prefixlen: 0, gateway: "2001:db8::1" }),
    (e) => code(e) === "EAFNOSUPPORT",
  );
});

Deno.test("reject and blackhole routes take an off-link gateway (NetBSD); others still refuse it", () => {
  const stack = stackWithEn0();
  const rej = stack.addRoute({
    family: "inet",
    dst: "198.51.100.0",
    prefixlen: 24,
    gateway: "203.0.113.1",
    reject: true,
  });
  assert.deepEqual([rej.gateway, routeFlagLetters(rej.flags), rej.ifname], [
    "203.0.113.1",
    "UGRS",
    "lo0",
  ]);
  const bh = stack.addRoute({
    family: "inet6",
    dst: "2001:db8:99::",
    prefixlen: 48,
    gateway: "2001:db8:77::1",
    blackhole: true,
  });
  assert.deepEqual([routeFlagLetters(bh.flags), bh.ifname], ["UGBS", "lo0"]);
  // A reachable gateway keeps its own interface.
  const near = stack.addRoute({
    family: "inet",
    dst: "198.51.101.0",
    prefixlen: 24,
    gateway: "192.0.2.1",
    reject: true,
  });
  assert.equal(near.ifname, "en0");
  assert.throws(
    () =>
      stack.addRoute({ family: "inet6", dst: "2001:db8:98::", prefixlen: 48, gateway: "fe80::9" }),
    (e) => code(e) === "EINVAL",
  );
});

Deno.test("route marks (-cloning, -llinfo, -xresolve, -proto1, -proxy), -nostatic and -link gateways", () => {
  const stack = stackWithEn0();
  const marked = stack.addRoute({
    family: "inet",
    dst: "198.51.100.0",
    prefixlen: 24,
    gateway: "192.0.2.1",
    flags: RTF.CLONING | RTF.XRESOLVE | RTF.PROTO1 | RTF.PROTO2,
    nostatic: true,
  });
  assert.equal(routeFlagLetters(marked.flags), "UGCX12");
  assert.throws(
    () =>
      stack.addRoute({
        family: "inet",
        dst: "198.51.101.0",
        prefixlen: 24,
        gateway: "192.0.2.1",
        flags: RTF.DYNAMIC,
      }),
    (e) => code(e) === "EINVAL",
  );
  const link = stack.addRoute({
    family: "inet",
    dst: "192.0.2.77",
    prefixlen: null,
    linkGateway: "02:00:00:00:00:77",
    ifname: "en0",
    flags: RTF.LLINFO,
  });
  assert.deepEqual([link.gateway, routeFlagLetters(link.flags), link.ifname], [
    "02:00:00:00:00:77",
    "UHLS",
    "en0",
  ]);
  assert.throws(
    () =>
      stack.addRoute({
        family: "inet",
        dst: "192.0.2.78",
        prefixlen: null,
        linkGateway: "02:00:00:00:00:78",
      }),
    (e) => code(e) === "EINVAL",
  );
});
