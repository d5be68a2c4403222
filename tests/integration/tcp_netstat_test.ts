/**
 * Integration: netstat against a real daemon with live TCP connections made
 * through the library: the listener, both ends of a connection with their
 * queues, the figures of `-v`, and the counters of `-s -p tcp` moving.
 */
import assert from "node:assert/strict";
import { connect, listen } from "../../mod.ts";
import { run, waitFor, withDaemons } from "../kit/processes.ts";

Deno.test({
  name: "netstat lists a daemon's TCP listener and connection, with -v figures and -s counters",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v6-hc");
      const env = { SOCK: d.prefix };
      const listener = listen({ hostname: "127.0.0.1", port: 8200 }, { sock: d.prefix });
      await listener.ready;
      const accepted = listener.accept();
      const client = await connect({ hostname: "127.0.0.1", port: 8200 }, { sock: d.prefix });
      const server = await accepted;
      try {
        // 3000 bytes the server program does not read yet: the daemon has passed them on
        // toward the program (the queues it shows are the core's), but they were counted.
        await client.write(new Uint8Array(3000));
        const cport = client.localAddr.port;
        let out = "";
        await waitFor("both ends listed", async () => {
          out = (await run("netstat", ["-an"], env)).stdout;
          return out.split("\n").filter((l) => l.includes("ESTABLISHED")).length >= 2;
        }, 10_000);
        const lines = out.split("\n");
        assert.ok(lines.includes("Active Internet connections (including servers)"), out);
        assert.ok(
          lines.some((l) => /^tcp +0 +0 +127\.0\.0\.1\.8200 +\*\.\* +LISTEN *$/.test(l)),
          out,
        );
        assert.ok(
          lines.some((l) =>
            new RegExp(
              `^tcp +\\d+ +0 +127\\.0\\.0\\.1\\.8200 +127\\.0\\.0\\.1\\.${cport} +ESTABLISHED *$`,
            )
              .test(l)
          ),
          out,
        );
        assert.ok(
          lines.some((l) =>
            new RegExp(
              // Send-Q holds the 3000 bytes until the server's delayed ACK.
              `^tcp +0 +\\d+ +127\\.0\\.0\\.1\\.${cport} +127\\.0\\.0\\.1\\.8200 +ESTABLISHED *$`,
            )
              .test(l)
          ),
          out,
        );
        const verbose = (await run("netstat", ["-anv"], env)).stdout.split("\n");
        const i = verbose.findIndex((l) =>
          l.includes(`127.0.0.1.${cport} `) && l.includes("127.0.0.1.8200")
        );
        assert.ok(i >= 0);
        assert.match(
          verbose[i + 1],
          /^\tcwnd \d+ ssthresh (\d+|-) srtt [\d.]+ms rttvar [\d.]+ms rto \d+ms rexmt 0 holes 0 sndwnd \d+ rcvwnd \d+ mss \d+ cc (cubic|newreno) limit: \w+$/,
        );
        const stats = (await run("netstat", ["-s", "-p", "tcp"], env)).stdout;
        assert.match(stats, /^\t1 connection request$/m);
        assert.match(stats, /^\t1 connection accept$/m);
        assert.match(stats, /^\t\t1 data packet \(3000 bytes\)$/m);
      } finally {
        client.close();
        server.close();
        listener.close();
      }
    }),
});
