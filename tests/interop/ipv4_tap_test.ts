/**
 * Interop, IPv4: the daemon on Linux TAP devices, each moved into a network
 * namespace the test made before it is brought up, against Linux's own ping,
 * arping, ip neigh, and tshark's verdict on every frame the stack sent.
 */
import assert from "node:assert/strict";
import { interopUnavailable, linkExists, Netns, sh, which } from "../kit/netns.ts";
import { run, startDaemon, type TestDaemon, waitFor } from "../kit/processes.ts";

const skip = interopUnavailable();
if (skip) console.log(`interop IPv4 tests skipped: ${skip}`);

/** A unique Linux device name for this test process. */
function devName(tag: string): string {
  return `iop${Deno.pid % 100000}${tag}`;
}

interface Rig {
  daemon: TestDaemon;
  nss: Netns[];
  capture?: { file: string; proc: Deno.ChildProcess };
}

async function teardown(rig: Partial<Rig>): Promise<void> {
  if (rig.capture) {
    try {
      rig.capture.proc.kill("SIGTERM");
    } catch { /* exited */ }
    await rig.capture.proc.status;
  }
  if (rig.daemon) {
    await rig.daemon.stop();
    Deno.removeSync(rig.daemon.prefix, { recursive: true });
  }
  for (const ns of rig.nss ?? []) await ns.close();
}

/** Starts tcpdump inside `ns` on `dev`, writing to a temp file; waits until it listens. */
async function startCapture(
  ns: Netns,
  dev: string,
): Promise<{ file: string; proc: Deno.ChildProcess }> {
  const file = Deno.makeTempFileSync({ suffix: ".pcap" });
  const proc = new Deno.Command("ip", {
    args: ["netns", "exec", ns.name, "tcpdump", "-i", dev, "-U", "-n", "-w", file],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // tcpdump says "listening on" once the capture is open.
  const reader = proc.stderr.getReader();
  let text = "";
  const deadline = Date.now() + 10_000;
  while (!text.includes("listening on") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  proc.stderr.cancel().catch(() => {});
  return { file, proc };
}

Deno.test({
  name: "Linux pings the stack on a TAP device; the stack pings Linux; ip neigh sees us",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const rig: Partial<Rig> = { nss: [] };
    const dev = devName("a");
    try {
      rig.daemon = await startDaemon("io-pkt-v4-hc", {
        args: ["-d", "tap", `host=${dev},name=en,mac=02:00:5e:00:02:02`],
      });
      await waitFor("the TAP device", () => linkExists(dev));
      const ns = await Netns.create();
      rig.nss!.push(ns);
      await ns.adopt(dev, ["192.0.2.1/24"]);
      rig.capture = which("tcpdump") ? await startCapture(ns, dev) : undefined;
      const d = rig.daemon;
      assert.equal((await d.tool("ifconfig", "en0", "192.0.2.2/24")).code, 0);

      const linuxPing = await ns.exec("ping", ["-c", "3", "-i", "0.2", "-W", "2", "192.0.2.2"]);
      assert.equal(linuxPing.code, 0, linuxPing.stdout + linuxPing.stderr);
      assert.match(linuxPing.stdout, /3 packets transmitted, 3 received/);

      const neigh = await ns.run("ip", ["neigh", "show", "192.0.2.2", "dev", dev]);
      assert.match(neigh, /lladdr 02:00:5e:00:02:02 (REACHABLE|DELAY|STALE)/);

      const ours = await d.tool("ping", "-c", "3", "-i", "0.2", "192.0.2.1");
      assert.equal(ours.code, 0, ours.stdout + ours.stderr);
      assert.match(ours.stdout, /3 packets transmitted, 3 packets received, 0% packet loss/);

      const big = await ns.exec("ping", ["-c", "1", "-s", "10000", "-W", "3", "192.0.2.2"]);
      assert.equal(big.code, 0, big.stdout + big.stderr);
      assert.match(big.stdout, /10008 bytes from 192\.0\.2\.2/);

      if (which("arping")) {
        const arping = await ns.exec("arping", ["-c", "2", "-w", "3", "-I", dev, "192.0.2.2"]);
        assert.equal(arping.code, 0, arping.stdout + arping.stderr);
        assert.match(arping.stdout, /02:00:5e:00:02:02/i);
      }
      const arp = await d.tool("arp", "-an");
      assert.match(arp.stdout, /\(192\.0\.2\.1\) at [0-9a-f:]{17} on en0/);

      if (rig.capture && which("tshark")) {
        const cap = rig.capture;
        rig.capture = undefined;
        cap.proc.kill("SIGTERM");
        await cap.proc.status;
        const bad = await sh("tshark", [
          "-r",
          cap.file,
          "-o",
          "ip.check_checksum:TRUE",
          "-Y",
          "eth.src == 02:00:5e:00:02:02 && (_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || icmp.checksum.status == 0)",
        ]);
        assert.equal(bad.code, 0, bad.stderr);
        assert.equal(bad.stdout.trim(), "", "frames tshark finds malformed or with bad checksums");
        const ours = await sh("tshark", ["-r", cap.file, "-Y", "eth.src == 02:00:5e:00:02:02"]);
        assert.ok(ours.stdout.trim().split("\n").length >= 10, "the capture holds our frames");
        Deno.removeSync(cap.file);
      }
    } finally {
      await teardown(rig);
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
    const rig: Partial<Rig> = { nss: [] };
    const left = devName("l"), right = devName("r");
    try {
      rig.daemon = await startDaemon("io-pkt-v4-hc", {
        args: ["-d", "tap", `host=${left},name=en`, "-d", "tap", `host=${right},name=en`],
      });
      await waitFor(
        "both TAP devices",
        async () => (await linkExists(left)) && (await linkExists(right)),
      );
      const n1 = await Netns.create(), n2 = await Netns.create();
      rig.nss!.push(n1, n2);
      await n1.adopt(left, ["192.0.2.1/24"]);
      await n2.adopt(right, ["198.51.100.1/24"]);
      await n1.route("default", "192.0.2.2");
      await n2.route("default", "198.51.100.2");
      const d = rig.daemon;
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
      const stats = await run("netstat", ["-s", "-p", "ip"], d.env);
      assert.match(stats.stdout, /\d+ packets? forwarded/);
    } finally {
      await teardown(rig);
    }
  },
});
