/**
 * Interop, IPv6: the v6 daemon on Linux TAP devices in namespaces the test made,
 * against Linux's ping -6, ip -6 neigh, and tshark's verdict on our frames.
 */
import assert from "node:assert/strict";
import { interopUnavailable, linkExists, Netns } from "../kit/netns.ts";
import { type Capture, checkCaptures, startCapture } from "../kit/capture.ts";
import { startDaemon, type TestDaemon, waitFor } from "../kit/processes.ts";

const skip = interopUnavailable();
if (skip) console.log(`interop IPv6 tests skipped: ${skip}`);

const MAC = "02:00:5e:00:06:02";
/** Our link-local address: EUI-64 from MAC (RFC 4291 appendix A). */
const LINK_LOCAL = "fe80::5eff:fe00:602";

function devName(tag: string): string {
  return `iq${Deno.pid % 100000}${tag}`;
}

/** Waits until `ifconfig IF` shows no tentative address (DAD done), bounded. */
async function dadDone(d: TestDaemon, ifname: string): Promise<void> {
  await waitFor(`DAD on ${ifname}`, async () => {
    const out = (await d.tool("ifconfig", ifname)).stdout;
    return out.includes("inet6 ") && !out.includes("tentative");
  }, 15_000);
}

Deno.test({
  name: "ping6 both ways over TAP: global, link-local, a 10000-byte echo; ip -6 neigh sees us",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dev = devName("a");
    const d = await startDaemon("io-pkt-v6-hc", {
      args: ["-d", "tap", `host=${dev},name=en,mac=${MAC}`],
    });
    const ns = await Netns.create();
    let cap: Capture | null = null;
    try {
      await waitFor("the TAP device", () => linkExists(dev));
      await ns.adopt(dev, ["2001:db8::1/64"]);
      cap = await startCapture(ns, dev);
      assert.equal((await d.tool("ifconfig", "en0", "up")).code, 0);
      assert.equal(
        (await d.tool("ifconfig", "en0", "inet6", "2001:db8::2", "prefixlen", "64")).code,
        0,
      );
      await dadDone(d, "en0");
      const shown = (await d.tool("ifconfig", "en0")).stdout;
      assert.match(shown, new RegExp(`\\tinet6 ${LINK_LOCAL}%en0 prefixlen 64 scopeid 0x2\\n`));
      assert.match(shown, /\tinet6 2001:db8::2 prefixlen 64\n/);

      const global = await ns.exec("ping", [
        "-6",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "2001:db8::2",
      ]);
      assert.equal(global.code, 0, global.stdout + global.stderr);
      const ll = await ns.exec("ping", [
        "-6",
        "-c",
        "2",
        "-i",
        "0.2",
        "-W",
        "2",
        `${LINK_LOCAL}%${dev}`,
      ]);
      assert.equal(ll.code, 0, ll.stdout + ll.stderr);
      const big = await ns.exec("ping", ["-6", "-c", "1", "-s", "10000", "-W", "3", "2001:db8::2"]);
      assert.equal(big.code, 0, big.stdout + big.stderr);
      assert.match(big.stdout, /10008 bytes from 2001:db8::2/);
      const neigh = await ns.run("ip", ["-6", "neigh", "show", "2001:db8::2", "dev", dev]);
      assert.match(neigh, new RegExp(`lladdr ${MAC} REACHABLE`));

      const ours = await d.tool("ping6", "-c", "3", "-i", "0.2", "2001:db8::1");
      assert.equal(ours.code, 0, ours.stdout + ours.stderr);
      assert.match(ours.stdout, /^PING6\(104=40\+8\+56 bytes\) 2001:db8::2 --> 2001:db8::1\n/);
      const linuxLl =
        (await ns.run("ip", ["-6", "addr", "show", "dev", dev])).match(/fe80::[0-9a-f:]+/)![0];
      const ours2 = await d.tool("ping6", "-c", "2", "-i", "0.2", `${linuxLl}%en0`);
      assert.equal(ours2.code, 0, ours2.stdout + ours2.stderr);
      const ndp = await d.tool("ndp", "-an");
      assert.match(ndp.stdout, /2001:db8::1 +[0-9a-f:]{17} +en0 /);

      await checkCaptures([cap], [MAC], 10);
    } finally {
      await cap?.stop();
      if (cap) Deno.removeSync(cap.file);
      await d.stop();
      Deno.removeSync(d.prefix, { recursive: true });
      await ns.close();
    }
  },
});

Deno.test({
  name: "IPv6 forwarding between two TAP-attached namespaces, hop limit decremented; off, no",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const left = devName("l"), right = devName("r");
    const macs = ["02:00:5e:00:06:11", "02:00:5e:00:06:12"];
    const d = await startDaemon("io-pkt-v6-hc", {
      args: [
        "-d",
        "tap",
        `host=${left},name=en,mac=${macs[0]}`,
        "-d",
        "tap",
        `host=${right},name=en,mac=${macs[1]}`,
      ],
    });
    const n1 = await Netns.create(), n2 = await Netns.create();
    const caps: (Capture | null)[] = [];
    try {
      await waitFor(
        "both TAP devices",
        async () => (await linkExists(left)) && (await linkExists(right)),
      );
      await n1.adopt(left, ["2001:db8:1::1/64"]);
      await n2.adopt(right, ["2001:db8:2::1/64"]);
      await n1.route("default", "2001:db8:1::2");
      await n2.route("default", "2001:db8:2::2");
      caps.push(await startCapture(n1, left), await startCapture(n2, right));
      for (const [i, a] of [["en0", "2001:db8:1::2"], ["en1", "2001:db8:2::2"]]) {
        assert.equal((await d.tool("ifconfig", i, "up")).code, 0);
        assert.equal((await d.tool("ifconfig", i, "inet6", a, "prefixlen", "64")).code, 0);
        await dadDone(d, i);
      }
      const off = await n1.exec("ping", ["-6", "-c", "1", "-W", "1", "2001:db8:2::1"]);
      assert.notEqual(off.code, 0, "no forwarding while net.inet6.ip6.forwarding is 0");
      assert.equal((await d.tool("sysctl", "-w", "net.inet6.ip6.forwarding=1")).code, 0);
      const there = await n1.exec("ping", [
        "-6",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "2001:db8:2::1",
      ]);
      assert.equal(there.code, 0, there.stdout + there.stderr);
      assert.match(there.stdout, /ttl=63/);
      const back = await n2.exec("ping", [
        "-6",
        "-c",
        "2",
        "-i",
        "0.2",
        "-W",
        "2",
        "2001:db8:1::1",
      ]);
      assert.equal(back.code, 0, back.stdout + back.stderr);
      assert.match(back.stdout, /ttl=63/);
      await checkCaptures(caps, macs);
    } finally {
      for (const c of caps) {
        await c?.stop();
        if (c) Deno.removeSync(c.file);
      }
      await d.stop();
      Deno.removeSync(d.prefix, { recursive: true });
      await n1.close();
      await n2.close();
    }
  },
});
