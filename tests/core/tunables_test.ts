import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { SysctlTree, TCP_CONGCTL_AVAILABLE } from "../../core/sysctl.ts";
import { ICMP6_ERRPPS_DEFAULT, TUNABLE_NAMES, Tunables } from "../../core/tunables.ts";

/** Every (set, field, sysctl name) of the table. */
function everyTunable(): [string, string, string][] {
  return Object.entries(TUNABLE_NAMES).flatMap(([set, fields]) =>
    Object.entries(fields as Record<string, string>).map(([field, name]): [
      string,
      string,
      string,
    ] => [set, field, name])
  );
}

function read(t: Tunables, set: string, field: string): number | string {
  return (t as unknown as Record<string, Record<string, number | string>>)[set][field];
}

/**
 * Writes a value other than the current one that the name accepts (flags
 * flip; ints step; the congestion control changes to another algorithm).
 */
function writeAnother(mib: SysctlTree, name: string): number | string {
  const now = mib.get(name);
  if (typeof now === "string") {
    const next = TCP_CONGCTL_AVAILABLE.find((n) => n !== now)!;
    mib.set(name, next);
    return next;
  }
  for (const next of [now === 0 ? 1 : 0, now + 1, now - 1]) {
    try {
      mib.set(name, String(next));
      return next;
    } catch (e) {
      if (!(e instanceof ErrnoError) || e.code !== "EINVAL") throw e;
    }
  }
  throw new Error(`${name} takes none of the values tried`);
}

for (const inet6 of [true, false]) {
  Deno.test(`Tunables follow every write of every hot name (${inet6 ? "v6" : "v4"} stack)`, () => {
    const mib = new SysctlTree({ inet6 });
    const t = new Tunables(mib);
    let mirrored = 0;
    for (const [set, field, name] of everyTunable()) {
      if (!mib.has(name)) {
        // The IPv6 knobs on a v4 stack; QNX's MIB has no icmp6 errppslimit.
        assert.ok(!inet6 || name === "net.inet6.icmp6.errppslimit", `${name} is missing`);
        continue;
      }
      assert.equal(read(t, set, field), mib.get(name), `${name} starts as the tree's value`);
      const next = writeAnother(mib, name);
      assert.equal(read(t, set, field), next, `${name} -> ${set}.${field}`);
      mirrored++;
    }
    assert.equal(mirrored, inet6 ? everyTunable().length - 1 : 25 + 38);
  });
}

Deno.test("Tunables start from the tree's overrides; missing names keep their defaults", () => {
  const mib = new SysctlTree({
    inet6: true,
    overrides: { "net.inet.ip.ttl": 32, "net.inet6.ip6.forwarding": 1 },
  });
  const t = new Tunables(mib);
  assert.deepEqual([t.ip.ttl, t.ip6.forwarding, t.arp.keep], [32, 1, 1200]);
  assert.equal(t.icmp6.errppslimit, ICMP6_ERRPPS_DEFAULT);
  assert.equal(new Tunables(new SysctlTree({ inet6: false })).ip6.hlim, 0);
});

Deno.test("Tunables.tcp starts from the TCP defaults, congctl as a string", () => {
  const t = new Tunables(new SysctlTree({ inet6: false }));
  assert.deepEqual(
    [t.tcp.sendspace, t.tcp.recvspace, t.tcp.mssdflt, t.tcp.keepinit, t.tcp.msl],
    [22528, 32768, 536, 150, 30],
  );
  assert.deepEqual([t.tcp.recvbufAuto, t.tcp.sendbufAuto, t.tcp.recvbufMax], [1, 1, 4194304]);
  assert.deepEqual([t.tcp.congctl, t.tcp.ackdropppslimit, t.tcp.winScale], ["cubic", 100, 1]);
});

Deno.test("Tunables: either name of a shared variable writes the one field", () => {
  const mib = new SysctlTree({ inet6: true });
  const t = new Tunables(mib);
  mib.set("net.inet6.udp6.do_loopback_cksum", "1");
  assert.equal(t.udp.doLoopbackCksum, 1);
  mib.set("net.inet.udp.do_loopback_cksum", "0");
  assert.equal(t.udp.doLoopbackCksum, 0);
  assert.equal(t.ip.doLoopbackCksum, 0, "IP's own do_loopback_cksum is another variable");
});

Deno.test("Tunables keep the old value when a listener vetoes; setInternal writes through", () => {
  const mib = new SysctlTree({ inet6: false });
  const t = new Tunables(mib);
  mib.onChange("net.inet.ip.ttl", (v) => {
    if (v === 13) throw new ErrnoError("EINVAL", "unlucky");
  });
  assert.throws(() => mib.set("net.inet.ip.ttl", "13"), ErrnoError);
  assert.equal(t.ip.ttl, 64);
  mib.setInternal("net.inet.ip.ttl", 100);
  assert.equal(t.ip.ttl, 100);
});
