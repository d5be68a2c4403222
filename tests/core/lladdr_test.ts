/**
 * Link-layer address lists (`ifconfig IF link ADDR [active]`) and the knobs
 * NetBSD scripts set (`net.inet6.ip6.auto_linklocal`, `net.inet.ip.dad_count`).
 * @module
 */

import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { Stack } from "../../core/stack.ts";

function stackWith(frames: Uint8Array[]): Stack {
  const stack = new Stack({ inet6: true });
  stack.attachInterface("d", {
    mtu: 1500,
    lladdr: new Uint8Array([2, 0, 0, 0, 0, 1]),
    flags: IFF.BROADCAST | IFF.MULTICAST,
    transmit: (f) => void frames.push(f.slice()),
  }, { prefix: "en" });
  return stack;
}

function code(e: unknown): string {
  return e instanceof ErrnoError ? e.code : String(e);
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");

Deno.test("link ADDR active switches the source address and announces by ARP and NA", () => {
  const frames: Uint8Array[] = [];
  const stack = stackWith(frames);
  stack.sysctl.set("net.inet6.ip6.dad_count", "0");
  stack.setFlags("en0", IFF.UP, 0);
  stack.addAddress("en0", { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" });
  stack.addAddress("en0", { family: "inet6", addr: "2001:db8::2" });
  stack.linkAddressAdd("en0", "02:00:00:00:00:02", false);
  assert.deepEqual(stack.linkAddressList("en0"), [
    { name: "en0", active: "02:00:00:00:00:01", inactive: ["02:00:00:00:00:02"] },
  ]);
  frames.length = 0;
  const info = stack.linkAddressAdd("en0", "02:00:00:00:00:02", true);
  assert.equal(info.lladdr, "02:00:00:00:00:02");
  assert.deepEqual(stack.linkAddressList(), [
    { name: "en0", active: "02:00:00:00:00:02", inactive: ["02:00:00:00:00:01"] },
  ]);
  // Every announcement leaves from the new address: one ARP, one NA per IPv6 address.
  assert.ok(frames.every((f) => hex(f.subarray(6, 12)) === "02:00:00:00:00:02"));
  const arp = frames.filter((f) => f[12] === 0x08 && f[13] === 0x06);
  assert.equal(arp.length, 1);
  assert.equal(hex(arp[0].subarray(0, 6)), "ff:ff:ff:ff:ff:ff");
  const na = frames.filter((f) => f[12] === 0x86 && f[13] === 0xdd && f[14 + 40] === 136);
  assert.equal(na.length, 2, "the link-local and the global address");
  assert.ok(na.every((f) => hex(f.subarray(0, 6)) === "33:33:00:00:00:01"));
  assert.throws(
    () => stack.linkAddressDelete("en0", "02:00:00:00:00:02"),
    (e) => code(e) === "EBUSY",
  );
  stack.linkAddressDelete("en0", "02:00:00:00:00:01");
  assert.throws(
    () => stack.linkAddressDelete("en0", "02:00:00:00:00:01"),
    (e) => code(e) === "EADDRNOTAVAIL",
  );
  assert.throws(
    () => stack.linkAddressAdd("en0", "01:00:5e:00:00:01", false),
    (e) => code(e) === "EINVAL",
  );
  assert.throws(
    () => stack.linkAddressAdd("lo0", "02:00:00:00:00:09", false),
    (e) => code(e) === "EOPNOTSUPP",
  );
});

Deno.test("net.inet6.ip6.auto_linklocal=0: bringing an interface up adds no link-local address", () => {
  const off = stackWith([]);
  off.sysctl.set("net.inet6.ip6.auto_linklocal", "0");
  off.setFlags("en0", IFF.UP, 0);
  assert.deepEqual(off.ifInfo("en0")[0].addrs, []);
  const on = stackWith([]);
  on.setFlags("en0", IFF.UP, 0);
  assert.deepEqual(on.ifInfo("en0")[0].addrs.map((a) => a.addr), ["fe80::ff:fe00:1"]);
  // NetBSD scripts' IPv4 DAD knob is accepted; names outside the MIB stay refused.
  assert.deepEqual(on.sysctl.set("net.inet.ip.dad_count", "0"), { old: 0, new: 0 });
  assert.throws(() => on.sysctl.set("net.inet.ip.dad_nonsense", "0"), ErrnoError);
});
