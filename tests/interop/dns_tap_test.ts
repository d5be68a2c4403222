/**
 * Interop, DNS: `resolveDns` from a stack embedded in this test process, on a
 * Linux TAP device moved into a namespace the test made, asking Linux's
 * dnsmasq (answering from its own host records only: no upstream, nothing
 * leaves the namespace) over IPv4 and IPv6. tshark then checks every frame.
 */
import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { resolveDns } from "../../libsocket/dns.ts";
import { interopUnavailable, which } from "../kit/netns.ts";
import { checkCaptures } from "../kit/capture.ts";
import { LiveProcess, waitFor } from "../kit/processes.ts";
import { tapStack } from "../kit/tap_stack.ts";

function unavailable(): string | null {
  const why = interopUnavailable();
  if (why) return why;
  if (!which("dnsmasq")) return "dnsmasq is not installed";
  return null;
}

const MAC = "02:00:5e:00:17:53";
const skip = unavailable();
if (skip) console.log(`interop DNS tests skipped: ${skip}`);

Deno.test({
  name:
    "resolveDns through the stack: Linux's dnsmasq answers A, AAAA, MX, TXT over IPv4 and IPv6, a truncated one again over TCP",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const rig = await tapStack({
      dev: `iod${Deno.pid % 100000}d`,
      mac: MAC,
      linux: ["192.0.2.1/24", "2001:db8::1/64"],
      ours4: "192.0.2.2",
      ours6: "2001:db8::2",
      capture: true,
    });
    let dns: LiveProcess | null = null;
    try {
      // Authoritative for its own records only: no resolv.conf, no upstream servers.
      dns = LiveProcess.inNs(rig.ns, "dnsmasq", [
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--no-daemon",
        "--log-queries",
        "--bind-interfaces",
        `--interface=${rig.dev}`,
        "--except-interface=lo",
        "--port=53",
        "--local=/example.test/", // answer NXDOMAIN for the rest of the domain, ask nobody
        "--host-record=www.example.test,192.0.2.80,2001:db8::80",
        "--mx-host=example.test,mail.example.test,10",
        "--txt-record=example.test,io-pkt for Deno",
        // Three 250-byte strings: the answer passes 512 bytes, so UDP carries it truncated (TC)
        // and the resolver asks again over TCP.
        `--txt-record=big.example.test,${"a".repeat(250)},${"b".repeat(250)},${"c".repeat(250)}`,
        "--pid-file=",
        "--user=root",
      ]);
      await waitFor(
        "dnsmasq listening",
        async () => (await rig.ns.exec("ss", ["-Hnul", "sport = :53"])).stdout.includes(":53"),
        10_000,
      );
      for (const ipAddr of ["192.0.2.1", "2001:db8::1"]) {
        const via = { stack: rig.stack, nameServer: { ipAddr } };
        assert.deepEqual(await resolveDns("www.example.test", "A", via), ["192.0.2.80"], ipAddr);
        assert.deepEqual(await resolveDns("www.example.test", "AAAA", via), ["2001:db8::80"]);
        assert.deepEqual(await resolveDns("example.test", "MX", via), [
          { preference: 10, exchange: "mail.example.test." },
        ]);
        assert.deepEqual(await resolveDns("example.test", "TXT", via), [["io-pkt for Deno"]]);
        const tcpBefore = rig.stack.stats.tcp.connects;
        assert.deepEqual(await resolveDns("big.example.test", "TXT", via), [[
          "a".repeat(250),
          "b".repeat(250),
          "c".repeat(250),
        ]]);
        assert.equal(
          rig.stack.stats.tcp.connects,
          tcpBefore + 1,
          "the truncated answer asked again over TCP",
        );
        await assert.rejects(
          () => resolveDns("nowhere.example.test", "A", via),
          (e) => e instanceof ErrnoError && e.code === "ENOENT",
        );
      }
      await dns.stop();
      dns = null;
      await checkCaptures([rig.capture], [MAC], 10);
    } finally {
      await dns?.stop();
      await rig.close();
    }
  },
});
