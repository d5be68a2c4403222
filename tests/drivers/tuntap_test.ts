/**
 * The TAP and TUN drivers against Linux: each device is moved into a network
 * namespace this test made before anything brings it up; Linux's ping talks to
 * a tiny responder behind the driver, so both directions are proven. Root and
 * /dev/net/tun only; skipped (with the reason printed) otherwise.
 */
import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { driver as tap } from "../../drivers/devnp-tap.ts";
import { driver as tun } from "../../drivers/devnp-tun.ts";
import { interopUnavailable, linkExists, must, Netns, sh } from "../kit/netns.ts";
import { FakeHost, waitUntil } from "./fake_host.ts";
import { echoReply, etherReply, ip4 } from "./responder.ts";

const skip = interopUnavailable();
if (skip) console.log(`TAP/TUN driver tests skipped: ${skip}`);

const MAC = new Uint8Array([0x02, 0x00, 0x5e, 0x00, 0x02, 0x42]);
const US = ip4("192.0.2.2");

/** A Linux device name unique to this process. */
function devName(tag: string): string {
  return `iod${Deno.pid % 100000}${tag}`;
}

function isArpRequestFor(f: Uint8Array, ip: Uint8Array): boolean {
  return f.length >= 42 && f[12] === 0x08 && f[13] === 0x06 && f[21] === 1 &&
    f.subarray(38, 42).every((b, i) => b === ip[i]);
}

Deno.test("tap/tun: bad options fail with EINVAL before any device is made", async () => {
  for (
    const opts of ["mtu=10", "mac=zz", "mac=01:00:5e:00:00:01", "ring=1", "bogus=1", "host=a/b"]
  ) {
    const host = new FakeHost("vt");
    await assert.rejects(
      async () => await tap.attach(host, opts),
      (e: unknown) => e instanceof ErrnoError && e.code === "EINVAL",
      opts,
    );
    assert.equal(host.ifaces.length, 0);
  }
  await assert.rejects(
    async () => await tun.attach(new FakeHost("vtun"), "mac=02:00:00:00:00:01"),
    (e: unknown) => e instanceof ErrnoError && e.code === "EINVAL",
    "tun has no link address",
  );
});

Deno.test({
  name: "tap: Linux's ping reaches a responder behind the driver and gets its replies",
  ignore: skip !== null,
  fn: async () => {
    const dev = devName("a");
    const host = new FakeHost("vt");
    let ns: Netns | undefined;
    try {
      await tap.attach(host, `host=${dev},mac=02:00:5e:00:02:42,ring=64`);
      const iface = host.ifaces[0];
      assert.equal(iface.linkActive, true);
      assert.deepEqual(iface.spec.lladdr, MAC);
      assert.equal(iface.spec.linkType, "ethernet");
      assert.equal(iface.spec.flags, IFF.BROADCAST | IFF.SIMPLEX | IFF.MULTICAST);
      assert.deepEqual(iface.spec.media, { current: "Ethernet autoselect" });
      assert.match(host.logs.join("\n"), new RegExp(`vt0: created Linux tap ${dev}`));
      // Replies go out through transmitAt, from an odd offset inside a larger buffer, as the
      // stack sends from its packet buffers (the TUN test below uses transmit).
      const big = new Uint8Array(4096);
      iface.onFrame = (f, i) => {
        const reply = etherReply(f, US, MAC);
        if (!reply) return;
        big.fill(0xee);
        big.set(reply, 37);
        assert.notEqual(i.spec.transmitAt!(big, 37, reply.length), false);
      };
      ns = await Netns.create();
      await ns.adopt(dev, ["192.0.2.1/24"]);
      const ping = await ns.exec("ping", ["-c", "3", "-i", "0.2", "-W", "2", "192.0.2.2"]);
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      assert.match(ping.stdout, /3 packets transmitted, 3 received/);
      assert.ok(iface.frames.some((f) => isArpRequestFor(f, US)), "Linux's ARP request arrived");
      const neigh = await ns.run("ip", ["neigh", "show", "192.0.2.2", "dev", dev]);
      assert.match(neigh, /lladdr 02:00:5e:00:02:42/);
      host.detachAll();
      assert.equal((await ns.exec("ip", ["link", "show", dev])).code, 1, "the device is gone");
      assert.match(host.logs.join("\n"), /vt0: released Linux tap/);
    } finally {
      host.detachAll();
      await ns?.close();
    }
  },
});

Deno.test({
  name: "tap: attaches to an existing device and leaves it; a second attach is EBUSY",
  ignore: skip !== null,
  fn: async () => {
    const dev = devName("p");
    const first = new FakeHost("vt");
    const second = new FakeHost("vt");
    try {
      await must("ip", ["tuntap", "add", "dev", dev, "mode", "tap"]); // stays down, never used
      await tap.attach(first, `host=${dev}`);
      assert.match(first.logs.join("\n"), new RegExp(`attached to Linux tap ${dev}`));
      await assert.rejects(
        async () => await tap.attach(second, `host=${dev}`),
        (e: unknown) => e instanceof ErrnoError && e.code === "EBUSY",
      );
      assert.equal(second.ifaces.length, 0);
      await assert.rejects(
        async () => await tun.attach(second, `host=${dev}`),
        (e: unknown) => e instanceof ErrnoError && e.code === "EINVAL",
        "a TAP device is not a TUN device",
      );
      first.detachAll();
      assert.ok(await linkExists(dev), "a persistent device outlives the interface");
    } finally {
      first.detachAll();
      await sh("ip", ["tuntap", "del", "dev", dev, "mode", "tap"]);
    }
  },
});

Deno.test({
  name: "tun: Linux's ping reaches a responder behind the driver as bare IP packets",
  ignore: skip !== null,
  fn: async () => {
    const dev = devName("t");
    const host = new FakeHost("vtun");
    let ns: Netns | undefined;
    try {
      await tun.attach(host, `host=${dev}`);
      const iface = host.ifaces[0];
      assert.equal(iface.spec.linkType, "ip");
      assert.equal(iface.spec.lladdr, undefined);
      assert.equal(iface.spec.flags, IFF.POINTOPOINT | IFF.MULTICAST | IFF.NOARP);
      iface.onFrame = (f, i) => {
        const reply = echoReply(f, US);
        if (reply) i.spec.transmit(reply);
      };
      ns = await Netns.create();
      await ns.adopt(dev, ["192.0.2.1/24"]);
      const ping = await ns.exec("ping", ["-c", "3", "-i", "0.2", "-W", "2", "192.0.2.2"]);
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      assert.match(ping.stdout, /3 packets transmitted, 3 received/);
      assert.ok(iface.frames.every((f) => f[0] >> 4 === 4 || f[0] >> 4 === 6), "bare IP packets");
      host.detachAll();
      assert.equal((await ns.exec("ip", ["link", "show", dev])).code, 1, "the device is gone");
    } finally {
      host.detachAll();
      await ns?.close();
    }
  },
});

Deno.test({
  name: "tap: frames keep flowing through a small ring under a ping flood",
  ignore: skip !== null,
  fn: async () => {
    const dev = devName("f");
    const host = new FakeHost("vt");
    let ns: Netns | undefined;
    try {
      await tap.attach(host, `host=${dev},mac=02:00:5e:00:02:42,ring=4`);
      const iface = host.ifaces[0];
      iface.onFrame = (f, i) => {
        const reply = etherReply(f, US, MAC);
        if (reply) i.spec.transmit(reply);
      };
      ns = await Netns.create();
      await ns.adopt(dev, ["192.0.2.1/24"]);
      const flood = await ns.exec("ping", ["-f", "-c", "2000", "-w", "20", "192.0.2.2"], 30_000);
      assert.equal(flood.code, 0, flood.stdout + flood.stderr);
      const m = /(\d+) packets transmitted, (\d+) received/.exec(flood.stdout);
      assert.ok(m, flood.stdout);
      assert.ok(Number(m[2]) >= 1990, flood.stdout);
      console.log(
        `ping -f through a 4-slot ring: ${flood.stdout.trim().split("\n").slice(-2).join("; ")}`,
      );
      await waitUntil("the flood's frames", () => iface.frames.length >= 2000);
    } finally {
      host.detachAll();
      await ns?.close();
    }
  },
});

Deno.test({
  name: "tap: the Linux device deleted under the driver: carrier goes, detach stays clean",
  ignore: skip !== null,
  fn: async () => {
    const dev = devName("d");
    const host = new FakeHost("vt");
    let ns: Netns | undefined;
    try {
      await tap.attach(host, `host=${dev}`);
      const iface = host.ifaces[0];
      ns = await Netns.create();
      await ns.adopt(dev, ["192.0.2.1/24"]);
      await ns.run("ip", ["link", "del", "dev", dev]);
      await waitUntil("the carrier to go", () => iface.linkActive === false, 5_000);
      assert.match(
        host.logs.join("\n"),
        new RegExp(`Linux tap ${dev} stopped reading \\(EBADF\\)`),
      );
      iface.spec.transmit(new Uint8Array(60)); // counted as lost, not thrown
      host.detachAll();
      assert.match(host.logs.join("\n"), /vt0: released Linux tap .*, 1 frames lost \(EBADF\)/);
    } finally {
      host.detachAll();
      await ns?.close();
    }
  },
});
