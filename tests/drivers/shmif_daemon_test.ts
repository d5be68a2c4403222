/**
 * Two real daemons on one shmif bus, as a user runs them: unprivileged wiring
 * between stacks. They ping each other; `ifconfig linkstr` moves one onto the
 * bus after `ifconfig shmif0 create`; the bus capture, through
 * `shmif_dumpbus -p`, is read by tshark (when installed).
 */
import assert from "node:assert/strict";
import { sh, which } from "../kit/netns.ts";
import { ROOT, withDaemons } from "../kit/processes.ts";

Deno.test({
  name: "shmif: two daemons on one bus ping each other; the capture reads in tshark",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const bus = Deno.makeTempDirSync({ prefix: "shmif-bus" });
    try {
      await withDaemons(async (start) => {
        const a = await start("io-pkt-v4-hc", {
          args: ["-d", "shmif", `bus=${bus},capture,mac=02:00:00:00:0a:01`],
        });
        const b = await start("io-pkt-v4-hc", {});
        assert.equal((await b.tool("ifconfig", "shmif0", "create")).code, 0);
        const show = await b.tool("ifconfig", "shmif0");
        assert.match(show.stdout, /status: no carrier/);
        const link = await b.tool("ifconfig", "shmif0", "linkstr", bus);
        assert.equal(link.code, 0, link.stderr);
        assert.equal((await a.tool("ifconfig", "shmif0", "192.0.2.1/24")).code, 0);
        assert.equal((await b.tool("ifconfig", "shmif0", "192.0.2.2/24", "up")).code, 0);
        assert.match((await b.tool("ifconfig", "shmif0")).stdout, /status: active/);
        await new Promise((r) => setTimeout(r, 300)); // member lists refresh every 200 ms
        const ping = await a.tool("ping", "-c", "3", "-i", "0.2", "192.0.2.2");
        assert.equal(ping.code, 0, ping.stdout + ping.stderr);
        assert.match(ping.stdout, /3 packets transmitted, 3 packets received/);
        if (!which("tshark")) return;
        const pcap = `${bus}.pcap`;
        try {
          // Through the command entry, with the permissions cmd/permissions should list.
          const dump = await sh(Deno.execPath(), [
            "run",
            "--quiet",
            "--no-prompt",
            "--allow-read",
            "--allow-write",
            `${ROOT}cmd/shmif_dumpbus.ts`,
            "-p",
            pcap,
            bus,
          ]);
          assert.equal(dump.code, 0, dump.stderr);
          const r = await sh("tshark", ["-r", pcap, "-Y", "icmp.type == 8 && !_ws.malformed"]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout.trim().split("\n").length, 3, r.stdout);
        } finally {
          try {
            Deno.removeSync(pcap);
          } catch { /* not written */ }
        }
      });
      const left = [...Deno.readDirSync(bus)].map((e) => e.name);
      assert.deepEqual(left, ["capture"], "stopped daemons leave no member sockets behind");
    } finally {
      Deno.removeSync(bus, { recursive: true });
    }
  },
});
