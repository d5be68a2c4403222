/**
 * Interop, TCP over an impaired path: the daemon (io-pkt-v6-hc) on a TAP
 * device in a namespace the test made, its own fault injector on the link
 * (drivers/wrap: delay, jitter that reorders, reordering, duplication, both
 * directions, seeded) and then Linux's nftables random loss on top (this
 * kernel has no netem). Transfers still complete intact:
 * - curl fetches 20 MB from examples/http_server.ts (`--net iopkt`), IPv4;
 * - examples/http_fetch.ts (`--net iopkt`) fetches 20 MB from python's
 *   http.server, IPv6;
 * - with 2 % loss each way added, curl fetches 20 MB again;
 * our TCP counters show the impairments reached the engine (out-of-order
 * segments received, data retransmitted), and tshark finds nothing
 * malformed, no bad checksum, no segment above the MSS in what we sent.
 */
import assert from "node:assert/strict";
import { patternSha256 } from "../../examples/http_server.ts";
import { LiveProcess } from "../kit/processes.ts";
import {
  addRandomLoss,
  curl,
  startExample,
  startExampleHttpServer,
  startLinuxHttpServer,
  tcpToolsUnavailable,
  writePatternFile,
} from "../kit/tcp_peers.ts";
import { checkTcpCaptures, tapDaemon } from "../kit/tap_daemon.ts";

const skip = tcpToolsUnavailable(["curl", "python3", "nft", "ss"]);
if (skip) console.log(`TCP impaired-path interop tests skipped: ${skip}`);

const MAC = "02:00:5e:00:10:1f";
const FAULTS = "delay=2,jitter=2,reorder=2%,dup=1%,fault_seed=10";
const N = 20_000_000;

/** The last JSON line a program printed. */
function lastJson(out: string): Record<string, unknown> {
  const line = out.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (!line) throw new Error(`no JSON line in ${out}`);
  return JSON.parse(line);
}

/** A counter from `netstat -s -p tcp` output, by the words after the number. */
function counter(text: string, words: RegExp): number {
  const m = new RegExp(`(\\d+) ${words.source}`).exec(text);
  return m ? Number(m[1]) : -1;
}

Deno.test({
  name: "TCP through the daemon over an impaired TAP link: delay, reordering, duplicates, loss",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const rig = await tapDaemon({ dev: `iti${Deno.pid % 100000}`, mac: MAC, driverExtra: FAULTS });
    const procs: LiveProcess[] = [];
    const dir = await Deno.makeTempDir({ prefix: "iopkt-tcpi-" });
    try {
      const env = rig.daemon.env;
      await rig.capture();
      procs.push(
        await startExampleHttpServer(null, { port: 8080, bind: rig.ours4, net: "iopkt", env }),
      );

      await t.step(`curl fetches ${N / 1e6} MB from our server (${FAULTS})`, async () => {
        const got = await curl(rig.ns, `http://${rig.ours4}:8080/bytes/${N}`, { maxSeconds: 60 });
        assert.equal(got.exit, 0, got.stderr);
        assert.equal(got.bytes, N);
        assert.equal(got.sha256, patternSha256(N));
        console.log(`  curl <- ours, impaired: ${(N * 8 / got.seconds / 1e6).toFixed(0)} Mbit/s`);
      });

      await t.step(`our http_fetch pulls ${N / 1e6} MB from python over IPv6`, async () => {
        await writePatternFile(`${dir}/pattern.bin`, N);
        procs.push(await startLinuxHttpServer(rig.ns, { dir, port: 8081, bind: rig.linux6 }));
        const fetch = startExample(null, "http_fetch.ts", [
          "--json",
          "--net",
          "iopkt",
          `http://[${rig.linux6}]:8081/pattern.bin`,
        ], env);
        procs.push(fetch);
        assert.equal(await fetch.exited(60_000), 0, fetch.stderr + fetch.stdout);
        const r = lastJson(fetch.stdout);
        assert.equal(r.bytes, N);
        assert.equal(r.sha256, patternSha256(N));
        console.log(
          `  ours <- python, impaired: ${((r.gbps as number) * 1000).toFixed(0)} Mbit/s`,
        );
      });

      await t.step("with 2 % random loss each way added, curl still gets it all", async () => {
        const loss = await addRandomLoss(rig.ns, rig.dev, 20);
        try {
          const got = await curl(rig.ns, `http://${rig.ours4}:8080/bytes/${N}`, {
            maxSeconds: 60,
          });
          assert.equal(got.exit, 0, got.stderr);
          assert.equal(got.bytes, N);
          assert.equal(got.sha256, patternSha256(N));
          const dropped = await loss.dropped();
          assert.ok(dropped > 0, "no frame was dropped");
          console.log(
            `  curl <- ours, impaired + loss (${dropped} frames dropped): ` +
              `${(N * 8 / got.seconds / 1e6).toFixed(0)} Mbit/s`,
          );
        } finally {
          await loss.remove();
        }
      });

      await t.step("our counters saw the impairments; tshark finds our frames sound", async () => {
        const tcp = (await rig.daemon.tool("netstat", "-s", "-p", "tcp")).stdout;
        const ooo = counter(tcp, /out-of-order packets?/);
        const rexmit = counter(tcp, /data packets? \(\d+ bytes?\) retransmitted/);
        const dups = counter(tcp, /completely duplicate packets?/);
        console.log(`  our TCP: ${ooo} out-of-order, ${dups} duplicate, ${rexmit} retransmitted`);
        assert.ok(ooo > 0, tcp);
        assert.ok(rexmit > 0, tcp);
        await checkTcpCaptures(rig.captures, MAC, 1000);
      });
    } finally {
      for (const p of procs) await p.stop();
      await rig.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
