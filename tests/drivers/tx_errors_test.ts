/**
 * Transmit errors reach the interface counters: a driver whose send fails
 * (`transmit` returns false) shows in `iface.stats.oerrors` and in
 * `netstat -i`'s Oerrs column, not only in the log. The device tests need root
 * and /dev/net/tun; they are skipped (with the reason printed) otherwise.
 */
import assert from "node:assert/strict";
import { IFF } from "../../core/link/if_flags.ts";
import { NetInterface } from "../../core/link/interface.ts";
import type { InterfaceSpec } from "../../core/link/driver.ts";
import { driver as tap } from "../../drivers/devnp-tap.ts";
import { wrapWithFaults } from "../../drivers/wrap/fault_injector.ts";
import { wrapWithPcap } from "../../drivers/wrap/pcap_writer.ts";
import { interopUnavailable, linkExists, sh } from "../kit/netns.ts";
import { withDaemons } from "../kit/processes.ts";
import { FakeHost } from "./fake_host.ts";

const skip = interopUnavailable();
if (skip) console.log(`transmit error device tests skipped: ${skip}`);

/** An interface that is up, over `spec`. */
function upInterface(spec: InterfaceSpec): NetInterface {
  const iface = new NetInterface({ name: "t0", index: 2, driver: "test", flags: 0, spec });
  iface.flags |= IFF.UP;
  return iface;
}

Deno.test("a transmit that returns false counts an output error, not a packet out", () => {
  let ok = true;
  const iface = upInterface({ mtu: 1500, transmit: () => ok });
  assert.equal(iface.send(new Uint8Array(60)), true);
  ok = false;
  assert.equal(iface.send(new Uint8Array(60)), false);
  assert.equal(iface.send(new Uint8Array(60)), false);
  assert.equal(iface.stats.opackets, 1);
  assert.equal(iface.stats.obytes, 60);
  assert.equal(iface.stats.oerrors, 2);
});

Deno.test("a transmit that returns nothing counts as sent (drivers written before the status)", () => {
  const iface = upInterface({ mtu: 1500, transmit() {} });
  assert.equal(iface.send(new Uint8Array(60)), true);
  assert.equal(iface.stats.opackets, 1);
  assert.equal(iface.stats.oerrors, 0);
});

Deno.test("the pcap and fault wrappers pass the driver's refusal through", () => {
  const refuse = { mtu: 1500, transmit: () => false };
  const sink = { writeSync: (b: Uint8Array) => b.length, close: () => {} };
  const pcap = wrapWithPcap(refuse, "mem", { sink });
  const recorded = upInterface(pcap.spec);
  assert.equal(recorded.send(new Uint8Array(60)), false);
  assert.equal(recorded.stats.oerrors, 1);
  assert.equal(pcap.writer.frames, 1, "recorded all the same");
  pcap.close();
  const dup = wrapWithFaults(refuse, { dup: 1, seed: 1, dir: "tx" });
  const iface = upInterface(dup.spec);
  iface.send(new Uint8Array(60));
  assert.equal(iface.stats.oerrors, 1, "one frame the stack sent, refused (twice, duplicated)");
  dup.close();
  // A frame the injector drops is lost on the wire: the driver never refused it.
  const drop = wrapWithFaults(refuse, { drop: 1, seed: 1, dir: "tx" });
  const dropped = upInterface(drop.spec);
  dropped.send(new Uint8Array(60));
  assert.deepEqual([dropped.stats.opackets, dropped.stats.oerrors], [1, 0]);
  drop.close();
});

Deno.test({
  name: "tap: a write the Linux side refuses (device down: EIO) returns false",
  ignore: skip !== null,
  fn: async () => {
    const dev = `iod${Deno.pid % 100000}e`;
    const host = new FakeHost("vt");
    try {
      await tap.attach(host, `host=${dev}`); // the Linux side stays down: writes fail with EIO
      const frame = new Uint8Array(60).fill(0xff, 0, 6);
      assert.equal(host.ifaces[0].spec.transmit(frame), false);
      host.detachAll();
      assert.match(host.logs.join("\n"), /vt0: released Linux tap .*, 1 frames lost \(EIO\)/);
    } finally {
      host.detachAll();
    }
  },
});

Deno.test({
  name: "netstat -i shows the failed sends of a TAP interface as Oerrs",
  ignore: skip !== null,
  fn: async () => {
    const dev = `iod${Deno.pid % 100000}n`;
    await withDaemons(async (start) => {
      // The device is made in the root namespace and never brought up there: every write is EIO.
      const d = await start("io-pkt-v4-hc", { args: ["-d", "tap", `host=${dev},name=en`] });
      try {
        const set = await d.tool("ifconfig", "en0", "192.0.2.2/24"); // sends a gratuitous ARP
        assert.equal(set.code, 0, set.stderr);
        let row: string[] = [];
        for (let i = 0; i < 200 && !(Number(row[7]) > 0); i++) {
          const out = await d.tool("netstat", "-in");
          row = out.stdout.split("\n").find((r) => /^en0\s.*<Link>/.test(r))?.split(/\s+/) ?? [];
        }
        // Name Mtu Network Address Ipkts Ierrs Opkts Oerrs Colls
        assert.ok(Number(row[7]) > 0, `Oerrs counted: ${row.join(" ")}`);
        assert.equal(Number(row[6]), 0, "no packet counted as sent");
      } finally {
        await d.stop();
        if (await linkExists(dev)) await sh("ip", ["link", "del", dev]);
      }
    });
  },
});
