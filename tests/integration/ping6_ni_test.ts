/**
 * Integration: ping6's Node Information queries, -g and -m against a live
 * daemon over lo0 (no traffic leaves the process).
 */
import assert from "node:assert/strict";
import { withDaemons } from "../kit/processes.ts";
import { nameToDns } from "../../core/net/icmp6_ni.ts";

Deno.test("ping6 -w / -N ask the daemon its name; -g and -m reach it through lo0", async () => {
  await withDaemons(async (start) => {
    const d = await start("io-pkt-v6-hc", { args: [] });
    const host = (await d.tool("sysctl", "-n", "kern.hostname")).stdout.trim();
    const silent = await d.tool("ping6", "-w", "-c", "1", "::1");
    assert.equal(silent.code, 1, "QNX's default net.inet6.icmp6.nodeinfo is 0: no answer");
    assert.equal((await d.tool("sysctl", "-w", "net.inet6.icmp6.nodeinfo=1")).code, 0);
    const dns = nameToDns(host, false);
    assert.ok(dns, `the host name ${host} is a DNS name`);
    // KAME prints a name of fewer than two dots without its final dot.
    const shown = host.toLowerCase() + (host.split(".").length > 2 ? "." : "");
    const w = await d.tool("ping6", "-w", "-c", "1", "::1");
    assert.equal(w.code, 0, w.stderr);
    assert.equal(
      w.stdout,
      "PING6(72=40+8+24 bytes) ::1 --> ::1\n" +
        `${20 + dns!.length} bytes from ::1: ${shown}\n` +
        "\n--- ::1 ping6 statistics ---\n" +
        "1 packets transmitted, 1 packets received, 0.0% packet loss\n",
    );
    const n = await d.tool("ping6", "-N", "-w", "-I", "lo0", "-c", "1", host);
    assert.equal(n.code, 0, n.stdout + n.stderr);
    assert.match(
      n.stdout,
      new RegExp(` bytes from fe80::1%lo0: ${shown.replaceAll(".", "\\.")}\n`),
    );
    const g = await d.tool("ping6", "-g", "::1", "-m", "-c", "1", "::1");
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, /\n64 bytes from ::1, icmp_seq=0 hlim=64 time=\d+ ms\n/);
    const bad = await d.tool("ping6", "-g", "2001:db8:9::1", "-c", "1", "::1");
    assert.match(bad.stderr, /^ping6: sendmsg: No route to host\n$/);
    assert.equal(bad.code, 1);
  });
});
