/**
 * Integration: ping, route and arp against a live daemon (loopback and a dummy
 * interface: no traffic leaves the process).
 */
import assert from "node:assert/strict";
import { withDaemons } from "../kit/processes.ts";

Deno.test("ping 127.0.0.1 and our own address are answered through the stack", async () => {
  await withDaemons(async (start) => {
    const d = await start("io-pkt-v4-hc", {
      args: ["-d", "dummy", "name=en,mac=02:00:00:00:00:09"],
    });
    assert.equal((await d.tool("ifconfig", "en0", "192.0.2.2/24")).code, 0);
    const lo = await d.tool("ping", "-c", "2", "-i", "0.2", "127.0.0.1");
    assert.equal(lo.code, 0, lo.stderr);
    assert.match(lo.stdout, /^PING 127\.0\.0\.1 \(127\.0\.0\.1\): 56 data bytes\n/);
    assert.match(lo.stdout, /64 bytes from 127\.0\.0\.1: icmp_seq=1 ttl=64 time=\d+ ms\n/);
    assert.match(
      lo.stdout,
      /\n----127\.0\.0\.1 PING Statistics----\n2 packets transmitted, 2 packets received, 0% packet loss\n/,
    );
    assert.match(
      lo.stdout,
      /round-trip min\/avg\/max = \d+\/\d+\/\d+ ms {3}variance = \d+ ms\^2\n$/,
    );
    const own = await d.tool("ping", "-c", "1", "192.0.2.2");
    assert.equal(own.code, 0, own.stderr);
    const stats = await d.tool("netstat", "-s", "-p", "icmp");
    assert.match(stats.stdout, /Input histogram:\n\t\techo reply: 3\n\t\techo: 3\n/);
  });
});

Deno.test("ping to a silent host reports 100% loss and exits 1", async () => {
  await withDaemons(async (start) => {
    const d = await start("io-pkt-v4-hc", { args: ["-d", "dummy", "name=en"] });
    assert.equal((await d.tool("ifconfig", "en0", "192.0.2.2/24")).code, 0);
    const r = await d.tool("ping", "-c", "1", "-w", "1", "192.0.2.99");
    assert.equal(r.code, 1);
    assert.match(r.stdout, /1 packets transmitted, 0 packets received, 100% packet loss\n$/);
  });
});

Deno.test("route add, get, show in netstat, delete; arp -s, -a, -d", async () => {
  await withDaemons(async (start) => {
    const d = await start("io-pkt-v4-hc", { args: ["-d", "dummy", "name=en"] });
    assert.equal((await d.tool("ifconfig", "en0", "192.0.2.2/24")).code, 0);
    assert.deepEqual(await d.tool("route", "add", "default", "192.0.2.1"), {
      code: 0,
      stdout: "add net default: gateway 192.0.2.1\n",
      stderr: "",
    });
    const get = await d.tool("route", "-n", "get", "203.0.113.5");
    assert.match(get.stdout, /^ {3}route to: 203\.0\.113\.5\ndestination: default\n/);
    assert.match(get.stdout, /\n {2}interface: en0\n {6}flags: <UP,GATEWAY,DONE,STATIC>\n/);
    const rn = await d.tool("netstat", "-rn");
    assert.match(rn.stdout, /\ndefault {12}192\.0\.2\.1 {10}UGS {9}0 +\d+ +- {2}en0\n/);
    const dup = await d.tool("route", "add", "default", "192.0.2.1");
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /^route: writing to routing socket: File exists\n/);
    const unreach = await d.tool("route", "add", "-net", "198.51.100.0/24", "203.0.113.1");
    assert.equal(unreach.code, 1);
    assert.match(unreach.stderr, /Network is unreachable/);
    assert.equal((await d.tool("route", "delete", "default")).stdout, "delete net default\n");
    const missing = await d.tool("route", "delete", "default");
    assert.equal(missing.code, 1);
    assert.match(missing.stdout + missing.stderr, /not in table/);

    assert.equal((await d.tool("arp", "-s", "192.0.2.7", "02:11:22:33:44:55")).code, 0);
    assert.equal(
      (await d.tool("arp", "-an")).stdout,
      "? (192.0.2.7) at 02:11:22:33:44:55 on en0 permanent\n",
    );
    assert.equal(
      (await d.tool("arp", "-d", "192.0.2.7")).stdout,
      "192.0.2.7 (192.0.2.7) deleted\n",
    );
    assert.equal((await d.tool("arp", "-an")).stdout, "");
  });
});
