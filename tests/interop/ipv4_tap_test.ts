/**
 * Interop, IPv4: the daemon on Linux TAP devices, each moved into a network
 * namespace the test made before it is brought up, against Linux's own ping,
 * arping, ip neigh, and tshark's verdict on every frame the stack sent.
 */
import assert from "node:assert/strict";
import { interopUnavailable, linkExists, Netns, which } from "../kit/netns.ts";
import { type Capture, checkCaptures, startCapture } from "../kit/capture.ts";
import { startDaemon, type TestDaemon, waitFor } from "../kit/processes.ts";

const skip = interopUnavailable();
if (skip) console.log(`interop IPv4 tests skipped: ${skip}`);

/** A unique Linux device name for this test process. */
function devName(tag: string): string {
  return `iop${Deno.pid % 100000}${tag}`;
}

async function cleanup(d: TestDaemon | undefined, nss: Netns[], captures: (Capture | null)[]) {
  for (const c of captures) {
    await c?.stop();
    if (c) Deno.removeSync(c.file);
  }
  if (d) {
    await d.stop();
    Deno.removeSync(d.prefix, { recursive: true });
  }
  for (const ns of nss) await ns.close();
}

Deno.test({
  name: "Linux pings the stack on a TAP device; the stack pings Linux; ip neigh sees us REACHABLE",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const mac = "02:00:5e:00:02:02";
    const dev = devName("a");
    let d: TestDaemon | undefined;
    const nss: Netns[] = [];
    const caps: (Capture | null)[] = [];
    try {
      d = await startDaemon("io-pkt-v4-hc", {
        args: ["-d", "tap", `host=${dev},name=en,mac=${mac}`],
      });
      await waitFor("the TAP device", () => linkExists(dev));
      const ns = await Netns.create();
      nss.push(ns);
      await ns.adopt(dev, ["192.0.2.1/24"]);
      caps.push(await startCapture(ns, dev));
      assert.equal((await d.tool("ifconfig", "en0", "192.0.2.2/24")).code, 0);

      const linuxPing = await ns.exec("ping", ["-c", "3", "-i", "0.2", "-W", "2", "192.0.2.2"]);
      assert.equal(linuxPing.code, 0, linuxPing.stdout + linuxPing.stderr);
      assert.match(linuxPing.stdout, /3 packets transmitted, 3 received/);
      const neigh = await ns.run("ip", ["neigh", "show", "192.0.2.2", "dev", dev]);
      assert.match(neigh, new RegExp(`lladdr ${mac} REACHABLE`));

      const ours = await d.tool("ping", "-c", "3", "-i", "0.2", "192.0.2.1");
      assert.equal(ours.code, 0, ours.stdout + ours.stderr);
      assert.match(ours.stdout, /3 packets transmitted, 3 packets received, 0% packet loss/);

      const big = await ns.exec("ping", ["-c", "1", "-s", "10000", "-W", "3", "192.0.2.2"]);
      assert.equal(big.code, 0, big.stdout + big.stderr);
      assert.match(big.stdout, /10008 bytes from 192\.0\.2\.2/);

      if (which("arping")) {
        const arping = await ns.exec("arping", ["-c", "2", "-w", "3", "-I", dev, "192.0.2.2"]);
        assert.equal(arping.code, 0, arping.stdout + arping.stderr);
        assert.match(arping.stdout, new RegExp(mac, "i"));
      }
      const arp = await d.tool("arp", "-an");
      assert.match(arp.stdout, /\(192\.0\.2\.1\) at [0-9a-f:]{17} on en0/);
      await checkCaptures(caps, [mac]);
    } finally {
      await cleanup(d, nss, caps);
    }
  },
});

Deno.test({
  name:
    "the stack forwards between two TAP-attached namespaces, decrementing the TTL; off, it does not",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const macs = ["02:00:5e:00:02:11", "02:00:5e:00:02:12"];
    const left = devName("l"), right = devName("r");
    let d: TestDaemon | undefined;
    const nss: Netns[] = [];
    const caps: (Capture | null)[] = [];
    try {
      d = await startDaemon("io-pkt-v4-hc", {
        args: [
          "-d",
          "tap",
          `host=${left},name=en,mac=${macs[0]}`,
          "-d",
          "tap",
          `host=${right},name=en,mac=${macs[1]}`,
        ],
      });
      await waitFor(
        "both TAP devices",
        async () => (await linkExists(left)) && (await linkExists(right)),
      );
      const n1 = await Netns.create(), n2 = await Netns.create();
      nss.push(n1, n2);
      await n1.adopt(left, ["192.0.2.1/24"]);
      await n2.adopt(right, ["198.51.100.1/24"]);
      await n1.route("default", "192.0.2.2");
      await n2.route("default", "198.51.100.2");
      caps.push(await startCapture(n1, left), await startCapture(n2, right));
      assert.equal((await d.tool("ifconfig", "en0", "192.0.2.2/24")).code, 0);
      assert.equal((await d.tool("ifconfig", "en1", "198.51.100.2/24")).code, 0);

      const off = await n1.exec("ping", ["-c", "1", "-W", "1", "198.51.100.1"]);
      assert.notEqual(off.code, 0, "no forwarding while net.inet.ip.forwarding is 0");

      assert.equal((await d.tool("sysctl", "-w", "net.inet.ip.forwarding=1")).code, 0);
      const there = await n1.exec("ping", ["-c", "3", "-i", "0.2", "-W", "2", "198.51.100.1"]);
      assert.equal(there.code, 0, there.stdout + there.stderr);
      assert.match(there.stdout, /ttl=63/);
      const back = await n2.exec("ping", ["-c", "3", "-i", "0.2", "-W", "2", "192.0.2.1"]);
      assert.equal(back.code, 0, back.stdout + back.stderr);
      assert.match(back.stdout, /ttl=63/);
      const stats = await d.tool("netstat", "-s", "-p", "ip");
      assert.match(stats.stdout, /\t(1[2-9]|[2-9]\d|\d{3,}) packets forwarded/);
      await checkCaptures(caps, macs);
    } finally {
      await cleanup(d, nss, caps);
    }
  },
});
