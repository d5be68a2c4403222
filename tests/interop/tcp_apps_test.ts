/**
 * The TCP example programs and the TCP interop kit, proved with Deno's own
 * networking before they point at our stack:
 * - in this process over loopback: our iperf3 client against our server, the
 *   HTTP client against Deno.serve's chunked bodies and our server;
 * - in two namespaces joined by a veth pair: examples/iperf3.ts against Linux
 *   iperf3 as client and as server, forward and reverse (the figures each side
 *   reports agree, because the results exchange worked), busy servers refusing
 *   a second test; examples/http_server.ts against curl, and
 *   examples/http_fetch.ts against python's http.server;
 * - the scapy edge-case scripts (tests/kit/scapy) against Linux's own TCP:
 *   RST from a closed port, challenge ACKs, out-of-order reassembly, zero-window
 *   probes, a SYN flood.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  iperf3Client,
  iperf3Server,
  type IperfResult,
  parseBytes,
  streamId,
} from "../../examples/iperf3.ts";
import { httpFetch, parseHttpUrl } from "../../examples/http_fetch.ts";
import { httpServe, INDEX_BODY, patternByte, patternSha256 } from "../../examples/http_server.ts";
import { chooseNet, denoNet, parseArgs, tcpNet } from "../../examples/tcp_net.ts";
import {
  addRandomLoss,
  addRateLimit,
  curl,
  netemUnavailable,
  parseIperf3Json,
  runIperf3Client,
  runScapy,
  startExample,
  startExampleHttpServer,
  startExampleIperf3Server,
  startIperf3Server,
  startLinuxHttpServer,
  startNcListener,
  tcpToolsUnavailable,
  vethPair,
  writePatternFile,
} from "../kit/tcp_peers.ts";
import { LiveProcess } from "../kit/processes.ts";

const sha256 = (d: Uint8Array | string) => createHash("sha256").update(d).digest("hex");

Deno.test("iperf3 example: byte counts, stream ids, and the pattern byte formula", () => {
  assert.equal(parseBytes("100M"), 100 * 2 ** 20);
  assert.equal(parseBytes("10K"), 10240);
  assert.equal(parseBytes("1000"), 1000);
  assert.throws(() => parseBytes("ten"));
  assert.deepEqual([0, 1, 2, 3].map(streamId), [1, 3, 4, 5]); // iperf3 skips id 2
  // The formula the Python side of the tests writes with.
  const py = (i: number) => ((((i % 2 ** 20) * 0x9e3779b1) % 2 ** 32) >>> 16) & 255;
  for (const i of [0, 1, 255, 65_537, 2 ** 20 - 1, 2 ** 20, 3 * 2 ** 20 + 7]) {
    assert.equal(patternByte(i), py(i), `byte ${i}`);
  }
  const { opts, rest } = parseArgs(["-c", "h", "-R", "--json", "--net=deno", "url"], ["R", "json"]);
  assert.equal(opts.get("c"), "h");
  assert.equal(opts.get("net"), "deno");
  assert.ok(opts.has("R") && opts.has("json"));
  assert.deepEqual(rest, ["url"]);
  assert.deepEqual(parseHttpUrl("http://[2001:db8::2]:8080/bytes/5"), {
    host: "2001:db8::2",
    port: 8080,
    path: "/bytes/5",
  });
});

Deno.test({
  name: "iperf3 example: our client against our server over loopback, forward, reverse, by bytes",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const stop = new AbortController();
    const results: IperfResult[] = [];
    let port = 0;
    const listening = Promise.withResolvers<void>();
    const server = iperf3Server(denoNet, {
      hostname: "127.0.0.1",
      port: 0,
      signal: stop.signal,
      onListening: (p) => {
        port = p;
        listening.resolve();
      },
      onResult: (r) => results.push(r),
    });
    try {
      await listening.promise;
      const fwd = await iperf3Client(denoNet, { host: "127.0.0.1", port, seconds: 0.5 });
      assert.ok(fwd.sender.bytes > 0 && fwd.receiver.bytes > 0);
      assert.ok(fwd.receiver.bytes <= fwd.sender.bytes);
      const rev = await iperf3Client(denoNet, {
        host: "127.0.0.1",
        port,
        bytes: 3 * 2 ** 20,
        reverse: true,
        parallel: 2,
        blockSize: 16384,
      });
      assert.ok(rev.receiver.bytes >= 3 * 2 ** 20, `received ${rev.receiver.bytes}`);
      assert.equal(rev.streams, 2);
      // The server saw the same two tests, and each side's figures are the other's.
      assert.equal(results.length, 2);
      assert.equal(results[0].receiver.bytes, fwd.receiver.bytes);
      assert.equal(results[0].sender.bytes, fwd.sender.bytes);
      assert.equal(results[1].sender.bytes, rev.sender.bytes);
      assert.equal(results[1].reverse, true);
    } finally {
      stop.abort();
      await server;
    }
  },
});

Deno.test({
  name: "HTTP examples: the client reads our server, Deno.serve's chunked bodies, and 404s",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const stop = new AbortController();
    const listening = Promise.withResolvers<number>();
    const ours = httpServe(denoNet, {
      hostname: "127.0.0.1",
      port: 0,
      signal: stop.signal,
      onListening: listening.resolve,
    });
    // Deno.serve streams a ReadableStream body chunked.
    const chunked = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent >= 5) return c.close();
          c.enqueue(new TextEncoder().encode(`chunk ${sent++}\n`.repeat(1000)));
        },
      });
      return new Response(body);
    });
    try {
      const port = await listening.promise;
      const n = 3_000_001;
      const got = await httpFetch(denoNet, `http://127.0.0.1:${port}/bytes/${n}`);
      assert.equal(got.status, 200);
      assert.equal(got.bytes, n);
      assert.ok(got.complete);
      assert.equal(got.sha256, patternSha256(n));
      const index = await httpFetch(denoNet, `http://127.0.0.1:${port}/`);
      assert.equal(index.sha256, sha256(INDEX_BODY));
      const missing = await httpFetch(denoNet, `http://127.0.0.1:${port}/nope`);
      assert.equal(missing.status, 404);
      assert.equal(missing.bytes, 0);

      // The same programs over an injected connect (here Deno's again, through tcpNet).
      const seen: string[] = [];
      const wrapped = tcpNet("wrapped", (o) => {
        seen.push(`${o.transport} ${o.hostname}:${o.port}`);
        return Deno.connect(o);
      }, (o) => Deno.listen(o));
      const c = await httpFetch(wrapped, `http://127.0.0.1:${chunked.addr.port}/`);
      assert.deepEqual(seen, [`tcp 127.0.0.1:${chunked.addr.port}`]);
      await assert.rejects(chooseNet("bogus"), /unknown net/);
      assert.equal(c.headers["transfer-encoding"], "chunked");
      let expected = "";
      for (let i = 0; i < 5; i++) expected += `chunk ${i}\n`.repeat(1000);
      assert.equal(c.bytes, expected.length);
      assert.ok(c.complete);
      assert.equal(c.sha256, sha256(expected));
    } finally {
      stop.abort();
      await chunked.shutdown();
      await ours;
    }
  },
});

// ---- against Linux's tools, in namespaces ----

const skipIperf = tcpToolsUnavailable(["iperf3", "ss"]);
const skipHttp = tcpToolsUnavailable(["curl", "python3", "ss", "nft", "tc"]);
const skipScapy = tcpToolsUnavailable(["scapy", "nft", "nc", "ss"]);
for (const [what, why] of [["iperf3", skipIperf], ["HTTP", skipHttp], ["scapy", skipScapy]]) {
  if (why) console.log(`TCP ${what} interop tests skipped: ${why}`);
}

/** The last JSON line a program printed. */
function lastJson(out: string): Record<string, unknown> {
  const line = out.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (!line) throw new Error(`no JSON line in ${out}`);
  return JSON.parse(line);
}

Deno.test({
  name: "iperf3 example with Linux iperf3 over a veth pair: both roles, forward and reverse",
  ignore: skipIperf !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const pair = await vethPair();
    const procs: LiveProcess[] = [];
    try {
      for (const reverse of [false, true]) {
        await t.step(`our client, Linux server${reverse ? ", -R" : ""}`, async () => {
          const server = await startIperf3Server(pair.b, { port: 5201, once: true, json: true });
          procs.push(server);
          const client = startExample(pair.a, "iperf3.ts", [
            "-c",
            pair.b4,
            "-t",
            "2",
            "--json",
            ...(reverse ? ["-R"] : []),
          ]);
          procs.push(client);
          assert.equal(await client.exited(60_000), 0, client.stderr);
          assert.equal(await server.exited(30_000), 0, server.stderr);
          const ours = lastJson(client.stdout) as unknown as IperfResult;
          const linux = parseIperf3Json(server.stdout);
          assert.equal(ours.reverse, reverse);
          assert.ok(ours.sender.bytes > 0 && ours.receiver.bytes > 0);
          // What Linux counted is what it told us in the results exchange.
          if (reverse) assert.equal(ours.sender.bytes, linux.sentBytes);
          else assert.equal(ours.receiver.bytes, linux.receivedBytes);
          console.log(
            `  Deno client -> Linux server${reverse ? " (-R)" : ""}: ` +
              `${ours.receiver.gbps.toFixed(2)} Gbit/s received`,
          );
        });
      }
      for (const reverse of [false, true]) {
        await t.step(`Linux client, our server${reverse ? ", -R" : ""}, 2 streams`, async () => {
          const server = await startExampleIperf3Server(pair.b, { port: 5202, once: true });
          procs.push(server);
          const linux = await runIperf3Client(pair.a, {
            host: pair.b4,
            port: 5202,
            seconds: 2,
            reverse,
            parallel: 2,
          });
          assert.equal(await server.exited(30_000), 0, server.stderr);
          const ours = lastJson(server.stdout) as unknown as IperfResult;
          assert.equal(ours.streams, 2);
          assert.equal(linux.streams, 2);
          assert.equal(linux.reverse, reverse);
          if (reverse) assert.equal(linux.sentBytes, ours.sender.bytes);
          else assert.equal(linux.receivedBytes, ours.receiver.bytes);
          assert.ok(linux.receivedBytes > 0);
          console.log(
            `  Linux client -> Deno server${reverse ? " (-R)" : ""}: ` +
              `${linux.receivedGbps.toFixed(2)} Gbit/s received`,
          );
        });
      }
      await t.step("Linux client, our server, -n 50M over IPv6", async () => {
        const server = await startExampleIperf3Server(pair.b, { port: 5203, once: true });
        procs.push(server);
        const linux = await runIperf3Client(pair.a, { host: pair.b6, port: 5203, bytes: "50M" });
        assert.ok(linux.sentBytes >= 50 * 2 ** 20);
        assert.equal(await server.exited(30_000), 0, server.stderr);
        assert.equal(
          linux.receivedBytes,
          (lastJson(server.stdout) as unknown as IperfResult).receiver.bytes,
        );
      });
      await t.step("a second client while a test runs gets ACCESS_DENIED", async () => {
        const server = await startExampleIperf3Server(pair.b, { port: 5204 });
        procs.push(server);
        const first = LiveProcess.inNs(pair.a, "iperf3", [
          "-c",
          pair.b4,
          "-p",
          "5204",
          "-t",
          "4",
          "--forceflush",
        ]);
        procs.push(first);
        await first.waitOutput("the first test to run", (o) => /sec/.test(o), 30_000);
        const second = await pair.a.exec(
          "iperf3",
          ["-c", pair.b4, "-p", "5204", "-t", "1"],
          30_000,
        );
        assert.notEqual(second.code, 0);
        assert.match(second.stdout + second.stderr, /busy/);
        assert.equal(await first.exited(30_000), 0, first.stderr);
      });
    } finally {
      for (const p of procs) await p.stop();
      await pair.close();
    }
  },
});

Deno.test({
  name: "HTTP examples with curl and python's http.server over a veth pair, both families",
  ignore: skipHttp !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const pair = await vethPair();
    const procs: LiveProcess[] = [];
    const dir = await Deno.makeTempDir({ prefix: "iopkt-http-" });
    try {
      const server = await startExampleHttpServer(pair.b, { port: 8080, bind: "::" });
      procs.push(server);
      for (const host of [pair.b4, `[${pair.b6}]`]) {
        await t.step(`curl fetches /bytes/N and / from our server at ${host}`, async () => {
          const n = 40_000_003;
          const got = await curl(pair.a, `http://${host}:8080/bytes/${n}`);
          assert.equal(got.exit, 0, got.stderr);
          assert.equal(got.httpCode, 200);
          assert.equal(got.bytes, n);
          assert.equal(got.sha256, patternSha256(n));
          const index = await curl(pair.a, `http://${host}:8080/`);
          assert.equal(index.sha256, sha256(INDEX_BODY));
          const missing = await curl(pair.a, `http://${host}:8080/missing`);
          assert.equal(missing.httpCode, 404);
        });
      }
      await t.step(
        "through 5 % random loss each way (nftables), then a tbf rate limit",
        async () => {
          const why = await netemUnavailable(pair.a);
          if (why) console.log(`  (netem unavailable here: ${why})`);
          const n = 5_000_000;
          const loss = await addRandomLoss(pair.b, pair.devB, 50);
          try {
            const got = await curl(pair.a, `http://${pair.b4}:8080/bytes/${n}`);
            assert.equal(got.exit, 0, got.stderr);
            assert.equal(got.sha256, patternSha256(n));
            assert.ok(await loss.dropped() > 0, "no frame was dropped");
          } finally {
            await loss.remove();
          }
          assert.doesNotMatch(await pair.b.run("nft", ["list", "tables"]), /iopkt_loss/);
          const removeRate = await addRateLimit(pair.b, pair.devB, "100mbit");
          try {
            const got = await curl(pair.a, `http://${pair.b4}:8080/bytes/${n}`);
            assert.equal(got.sha256, patternSha256(n));
          } finally {
            await removeRate();
          }
        },
      );
      await t.step("our client fetches a file from python's http.server", async () => {
        const n = 20_000_000;
        await writePatternFile(`${dir}/pattern.bin`, n);
        procs.push(await startLinuxHttpServer(pair.a, { dir, port: 8081, bind: pair.a4 }));
        const fetch = startExample(pair.b, "http_fetch.ts", [
          "--json",
          `http://${pair.a4}:8081/pattern.bin`,
        ]);
        procs.push(fetch);
        assert.equal(await fetch.exited(60_000), 0, fetch.stderr);
        const r = lastJson(fetch.stdout);
        assert.equal(r.status, 200);
        assert.equal(r.bytes, n);
        assert.equal(r.sha256, patternSha256(n));
      });
    } finally {
      for (const p of procs) await p.stop();
      await pair.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "scapy TCP edge cases against Linux's own TCP over a veth pair",
  ignore: skipScapy !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const pair = await vethPair();
    const procs: LiveProcess[] = [];
    // scapy in a (192.0.2.1), Linux's listeners in b (192.0.2.2).
    const to = (port: number) => [
      "--iface",
      pair.devA,
      "--src",
      pair.a4,
      "--dst",
      pair.b4,
      "--dport",
      String(port),
    ];
    try {
      await t.step("SYN and bare ACK to a closed port draw RFC 9293 RSTs", async () => {
        const v = await runScapy(pair.a, "syn_closed", to(9));
        assert.ok(v.ok, JSON.stringify(v));
      });
      await t.step("an in-window RST or SYN draws a challenge ACK (RFC 5961)", async () => {
        const nc = await startNcListener(pair.b, { port: 7000, bind: pair.b4 });
        procs.push(nc);
        const v = await runScapy(pair.a, "challenge_ack", to(7000));
        assert.ok(v.ok, JSON.stringify(v));
        await nc.waitOutput("the byte sent after the challenges", (o) => o === "x");
      });
      await t.step("segments 2, 3 then 1 are reassembled and acked at once", async () => {
        const nc = await startNcListener(pair.b, { port: 7001, bind: pair.b4 });
        procs.push(nc);
        const v = await runScapy(pair.a, "out_of_order", [...to(7001), "--size", "10", "--fin"]);
        assert.ok(v.ok, JSON.stringify(v));
        await nc.waitOutput(
          "the data in order",
          (o) => o === "1".repeat(10) + "2".repeat(10) + "3".repeat(10),
        );
      });
      await t.step("a zero window is probed, and data resumes when it opens", async () => {
        // A sender with more to send than the window takes: nc, its stdin holding 50 000
        // bytes (less than a pipe's buffer: nc reads it only once connected).
        const nc = await startNcListener(pair.b, { port: 7002, bind: pair.b4 });
        procs.push(nc);
        await nc.write("z".repeat(50_000));
        const v = await runScapy(pair.a, "zero_window", [...to(7002), "--persist-timeout", "10"]);
        assert.ok(v.ok, JSON.stringify(v));
      });
      await t.step("10 000 spoofed SYNs, then a real connection is still accepted", async () => {
        // Linux routes its SYN-ACKs to the spoofed /24 back onto the link (a drops them),
        // so its SYN queue fills and SYN cookies take over.
        await pair.b.run("ip", ["route", "add", "198.51.100.0/24", "via", pair.a4]);
        const nc = await startNcListener(pair.b, { port: 7003, bind: pair.b4 });
        procs.push(nc);
        const v = await runScapy(pair.a, "syn_flood", to(7003));
        assert.ok(v.ok, JSON.stringify(v));
        assert.equal(v.sent, 10_000);
      });
    } finally {
      for (const p of procs) await p.stop();
      await pair.close();
    }
  },
});
