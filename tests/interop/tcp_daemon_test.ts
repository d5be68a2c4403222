/**
 * Interop, TCP through a real daemon: io-pkt-v6-hc on a Linux TAP device in a
 * namespace the test made, our example programs as separate processes on the
 * library (`--net iopkt`, `SOCK=` the daemon's prefix), Linux's tools in the
 * namespace:
 * - curl fetches 20 MB and the index page from examples/http_server.ts, both
 *   families (SHA-256 checked);
 * - examples/http_fetch.ts fetches 100 MB from python's http.server, both
 *   families (SHA-256 checked);
 * - nc half-closes each way against a small nc of ours (tests/kit/tcp_nc.ts),
 *   each FIN seen by the other end while its own direction still flows;
 * - Linux iperf3 against examples/iperf3.ts, both roles, forward and -R, both
 *   ends agreeing on the bytes (Gbit/s printed, not asserted);
 * - tshark's verdict on every frame we sent: nothing malformed, no bad
 *   IPv4/TCP checksum, no segment above the MSS (for the 100 MB fetches and
 *   the iperf3 runs, whose frames are captured headers only: the IPv4
 *   checksum and the segment size).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { INDEX_BODY, patternSha256 } from "../../examples/http_server.ts";
import type { IperfResult } from "../../examples/iperf3.ts";
import { LiveProcess, ROOT, waitFor } from "../kit/processes.ts";
import {
  curl,
  denoBin,
  parseIperf3Json,
  runIperf3Client,
  startExample,
  startExampleHttpServer,
  startExampleIperf3Server,
  startIperf3Server,
  startLinuxHttpServer,
  tcpToolsUnavailable,
  writePatternFile,
} from "../kit/tcp_peers.ts";
import { checkTcpCaptures, type TapDaemon, tapDaemon } from "../kit/tap_daemon.ts";

const skip = tcpToolsUnavailable(["curl", "python3", "nc", "iperf3", "ss"]);
if (skip) console.log(`TCP daemon interop tests skipped: ${skip}`);

const MAC = "02:00:5e:00:10:0d";
const sha256 = (d: string) => createHash("sha256").update(d).digest("hex");

/** The last JSON line a program printed. */
function lastJson(out: string): Record<string, unknown> {
  const line = out.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (!line) throw new Error(`no JSON line in ${out}`);
  return JSON.parse(line);
}

/** Starts tests/kit/tcp_nc.ts (our nc) against the daemon. */
function ourNc(rig: TapDaemon, args: string[]): LiveProcess {
  return LiveProcess.spawn(
    denoBin(),
    ["run", "-A", `${ROOT}tests/kit/tcp_nc.ts`, ...args],
    rig.daemon.env,
  );
}

/** Waits (bounded) until `p`'s stderr satisfies `cond`. */
async function waitStderr(p: LiveProcess, what: string, cond: (e: string) => boolean) {
  await waitFor(what, () => cond(p.stderr), 30_000).catch((e) => {
    throw new Error(`${(e as Error).message}; stderr ${p.stderr}; stdout ${p.stdout}`);
  });
}

/** Linux sockets on `port` in state `state` (ss state name), counted. */
async function linuxSockets(rig: TapDaemon, state: string, port: number): Promise<number> {
  const r = await rig.ns.exec("ss", [
    "-Htn",
    "state",
    state,
    `( sport = :${port} or dport = :${port} )`,
  ]);
  return r.stdout.trim() === "" ? 0 : r.stdout.trim().split("\n").length;
}

Deno.test({
  name: "TCP through the daemon over TAP: curl, http_fetch, nc half-close, iperf3 with Linux",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const rig = await tapDaemon({ dev: `itd${Deno.pid % 100000}`, mac: MAC });
    const procs: LiveProcess[] = [];
    const dir = await Deno.makeTempDir({ prefix: "iopkt-tcpd-" });
    const keep = (p: LiveProcess) => (procs.push(p), p);
    try {
      const env = rig.daemon.env;
      const full = await rig.capture();

      await t.step(
        "curl fetches 20 MB and the index from our HTTP server, both families",
        async () => {
          const servers = [
            keep(
              await startExampleHttpServer(null, {
                port: 8080,
                bind: rig.ours4,
                net: "iopkt",
                env,
              }),
            ),
            keep(
              await startExampleHttpServer(null, {
                port: 8080,
                bind: rig.ours6,
                net: "iopkt",
                env,
              }),
            ),
          ];
          assert.equal(servers.length, 2);
          for (const host of [rig.ours4, `[${rig.ours6}]`]) {
            const n = 20_000_003;
            const got = await curl(rig.ns, `http://${host}:8080/bytes/${n}`);
            assert.equal(got.exit, 0, got.stderr);
            assert.equal(got.httpCode, 200);
            assert.equal(got.bytes, n);
            assert.equal(got.sha256, patternSha256(n));
            console.log(
              `  curl <- ours (${host}): ${(n * 8 / got.seconds / 1e9).toFixed(2)} Gbit/s`,
            );
            const index = await curl(rig.ns, `http://${host}:8080/`);
            assert.equal(index.exit, 0, index.stderr);
            assert.equal(index.sha256, sha256(INDEX_BODY));
            const missing = await curl(rig.ns, `http://${host}:8080/missing`);
            assert.equal(missing.httpCode, 404);
          }
        },
      );

      await t.step("nc -> our server: each FIN seen while the other direction flows", async () => {
        const ours = keep(ourNc(rig, ["-l", rig.ours4, "7001"]));
        await waitStderr(ours, "our listener", (e) => e.includes("listening"));
        const nc = keep(LiveProcess.inNs(rig.ns, "nc", ["-N", rig.ours4, "7001"]));
        await waitStderr(ours, "the connection", (e) => e.includes("connected"));
        await nc.write("from linux\n");
        await ours.waitOutput("nc's line", (o) => o === "from linux\n", 10_000);
        assert.doesNotMatch(ours.stderr, /EOF/);
        await nc.closeInput(); // -N: nc shuts down its sending side
        await waitStderr(ours, "nc's FIN", (e) => e.includes("EOF"));
        await ours.write("after your FIN\n");
        await nc.waitOutput("our line after the FIN", (o) => o === "after your FIN\n", 10_000);
        await ours.closeInput();
        assert.equal(await nc.exited(10_000), 0, nc.stderr);
        assert.equal(await ours.exited(10_000), 0, ours.stderr);
      });

      await t.step(
        "our client -> nc -l over IPv6: data both ways, our FIN ends nc, its FIN ends us",
        async () => {
          const nc = keep(LiveProcess.inNs(rig.ns, "nc", ["-N", "-l", rig.linux6, "7002"]));
          await waitFor(
            "nc to listen",
            async () => (await linuxSockets(rig, "listening", 7002)) > 0,
            10_000,
          );
          const ours = keep(ourNc(rig, [rig.linux6, "7002"]));
          await waitStderr(ours, "the connection", (e) => e.includes("connected"));
          await nc.write("from linux\n");
          await ours.waitOutput("nc's line", (o) => o === "from linux\n", 10_000);
          await ours.write("from us\n");
          await nc.waitOutput("our line", (o) => o === "from us\n", 10_000);
          assert.doesNotMatch(ours.stderr, /EOF/);
          // Our FIN: Debian's nc -l ends its side when the network input ends, so
          // its FIN answers ours, and it exits with its stdin still open.
          await ours.closeInput();
          assert.equal(await nc.exited(10_000), 0, nc.stderr);
          assert.equal(nc.stdout, "from us\n");
          await waitStderr(ours, "nc's FIN", (e) => e.includes("EOF"));
          assert.equal(await ours.exited(10_000), 0, ours.stderr);
        },
      );

      // Past here only the headers of our frames are captured: whole 100 MB
      // transfers would make tshark's check minutes long.
      await checkTcpCaptures([full], MAC, 100);
      const headers = await rig.capture({ headersOnly: true });

      await t.step(
        "our http_fetch pulls 100 MB from python's http.server, both families",
        async () => {
          const n = 100_000_000;
          await writePatternFile(`${dir}/pattern.bin`, n);
          for (
            const [host, bind, port] of [[rig.linux4, rig.linux4, 8081], [
              `[${rig.linux6}]`,
              rig.linux6,
              8082,
            ]] as const
          ) {
            keep(await startLinuxHttpServer(rig.ns, { dir, port, bind }));
            const fetch = keep(
              startExample(null, "http_fetch.ts", [
                "--json",
                "--net",
                "iopkt",
                `http://${host}:${port}/pattern.bin`,
              ], env),
            );
            assert.equal(await fetch.exited(90_000), 0, fetch.stderr + fetch.stdout);
            const r = lastJson(fetch.stdout);
            assert.equal(r.status, 200);
            assert.equal(r.bytes, n);
            assert.equal(r.sha256, patternSha256(n));
            console.log(`  ours <- python (${host}): ${(r.gbps as number).toFixed(2)} Gbit/s`);
          }
        },
      );

      for (const reverse of [false, true]) {
        await t.step(`Linux iperf3 -c against our iperf3 -s${reverse ? " (-R)" : ""}`, async () => {
          const server = keep(
            await startExampleIperf3Server(null, {
              port: 5201,
              bind: rig.ours4,
              once: true,
              net: "iopkt",
              env,
            }),
          );
          const linux = await runIperf3Client(rig.ns, {
            host: rig.ours4,
            port: 5201,
            seconds: 2,
            reverse,
          });
          assert.equal(await server.exited(30_000), 0, server.stderr);
          const ours = lastJson(server.stdout) as unknown as IperfResult;
          assert.equal(linux.reverse, reverse);
          assert.ok(linux.receivedBytes > 0);
          if (reverse) assert.equal(linux.sentBytes, ours.sender.bytes);
          else assert.equal(linux.receivedBytes, ours.receiver.bytes);
          console.log(
            `  iperf3 Linux -c -> ours -s${reverse ? " -R" : ""}: ${
              linux.receivedGbps.toFixed(2)
            } Gbit/s received`,
          );
        });
        await t.step(`our iperf3 -c against Linux iperf3 -s${reverse ? " (-R)" : ""}`, async () => {
          const server = keep(
            await startIperf3Server(rig.ns, {
              port: 5202,
              bind: rig.linux4,
              once: true,
              json: true,
            }),
          );
          const client = keep(
            startExample(null, "iperf3.ts", [
              "-c",
              rig.linux4,
              "-p",
              "5202",
              "-t",
              "2",
              "--json",
              "--net",
              "iopkt",
              ...(reverse ? ["-R"] : []),
            ], env),
          );
          assert.equal(await client.exited(60_000), 0, client.stderr);
          assert.equal(await server.exited(30_000), 0, server.stderr);
          const ours = lastJson(client.stdout) as unknown as IperfResult;
          const linux = parseIperf3Json(server.stdout);
          assert.equal(ours.reverse, reverse);
          assert.ok(ours.sender.bytes > 0 && ours.receiver.bytes > 0);
          if (reverse) assert.equal(ours.sender.bytes, linux.sentBytes);
          else assert.equal(ours.receiver.bytes, linux.receivedBytes);
          console.log(
            `  iperf3 ours -c -> Linux -s${reverse ? " -R" : ""}: ${
              ours.receiver.gbps.toFixed(2)
            } Gbit/s received`,
          );
        });
      }
      await t.step("no segment of ours above the MSS in the bulk transfers", async () => {
        const frames = await checkTcpCaptures([headers], MAC, 1000);
        console.log(`  ${frames} frames of ours checked`);
      });
    } finally {
      for (const p of procs) await p.stop();
      await rig.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
