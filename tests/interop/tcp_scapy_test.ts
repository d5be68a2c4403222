/**
 * Interop, TCP edge cases: the scapy scripts of tests/kit/scapy, run in a
 * Linux namespace, against a stack embedded in this test on the other end of
 * a TAP device (no daemon: the scripts test the engine, and our listeners
 * are handles in this process). Both families where the script allows:
 * - a SYN and a bare ACK to a closed port draw RFC 9293 RSTs;
 * - an in-window RST and a SYN draw challenge ACKs (RFC 5961), the
 *   connection lives on and its next byte arrives;
 * - segments 2, 3 then 1 are reassembled and acked at once, then the FIN;
 * - a sender of ours facing a zero window probes it and resumes when it opens;
 * - 10 000 spoofed SYNs from 198.51.100.0/24, then a real client connects;
 * and tshark's verdict on every frame we sent: nothing malformed, no bad
 * checksum, no segment above the MSS.
 */
import assert from "node:assert/strict";
import type { TcpHandle } from "../../core/socket/tcp_handle.ts";
import { TCP_EVENT } from "../../core/socket/tcp_handle.ts";
import { runScapy, tcpToolsUnavailable } from "../kit/tcp_peers.ts";
import { tapStack } from "../kit/tap_stack.ts";
import { checkTcpCaptures } from "../kit/tap_daemon.ts";

const skip = tcpToolsUnavailable(["scapy", "nft"]);
if (skip) console.log(`TCP scapy interop tests skipped: ${skip}`);

const MAC = "02:00:5e:00:10:5c";
const FAMILIES = [
  { fam: 4 as const, linux: "192.0.2.1", ours: "192.0.2.2" },
  { fam: 6 as const, linux: "2001:db8::1", ours: "2001:db8::2" },
];

Deno.test({
  name: "scapy TCP edge cases against an embedded stack over TAP",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const rig = await tapStack({
      dev: `itsc${Deno.pid % 100000}`,
      mac: MAC,
      linux: ["192.0.2.1/24", "2001:db8::1/64"],
      ours4: "192.0.2.2",
      ours6: "2001:db8::2",
      capture: true,
    });
    const handles: TcpHandle[] = [];
    /** A listener of ours on `port`; each accepted connection goes to `onConn`. */
    const listener = (
      fam: 4 | 6,
      addr: string,
      port: number,
      onConn: (c: TcpHandle) => void = () => {},
    ) => {
      const l = rig.stack.openTcp(fam);
      handles.push(l);
      l.bind(addr, port);
      l.listen(16);
      const accepted: TcpHandle[] = [];
      l.onEvent = () => {
        for (let c = l.accept(); c !== null; c = l.accept()) {
          handles.push(c);
          accepted.push(c);
          onConn(c);
        }
      };
      return accepted;
    };
    /** Collects what `c` receives, and whether its end came. */
    const reader = (c: TcpHandle) => {
      const got = { text: "", eof: false };
      const buf = new Uint8Array(4096);
      const pump = () => {
        for (;;) {
          const n = c.read(buf);
          if (n > 0) got.text += new TextDecoder().decode(buf.subarray(0, n));
          else {
            if (n < 0) got.eof = true;
            return;
          }
        }
      };
      c.onEvent = (ev) => {
        if (ev & (TCP_EVENT.READABLE | TCP_EVENT.EOF)) pump();
      };
      pump();
      return got;
    };
    const scapy = (fam: 4 | 6, script: string, port: number, extra: string[] = []) => {
      const f = FAMILIES[fam === 4 ? 0 : 1];
      return runScapy(rig.ns, script, [
        "--iface",
        rig.dev,
        "--src",
        f.linux,
        "--dst",
        f.ours,
        "--dport",
        String(port),
        ...extra,
      ], 60_000);
    };
    try {
      for (const { fam, ours } of FAMILIES) {
        await t.step(`IPv${fam}: SYN and bare ACK to a closed port draw RSTs`, async () => {
          const v = await scapy(fam, "syn_closed", 9);
          assert.ok(v.ok, JSON.stringify(v));
        });

        await t.step(`IPv${fam}: in-window RST and SYN draw challenge ACKs`, async () => {
          const got: { text: string; eof: boolean }[] = [];
          listener(fam, ours, 7000 + fam, (c) => got.push(reader(c)));
          const v = await scapy(fam, "challenge_ack", 7000 + fam);
          assert.ok(v.ok, JSON.stringify(v));
          assert.equal(got.length, 1);
          assert.equal(got[0].text, "x", "the byte sent after the challenges");
        });

        await t.step(`IPv${fam}: segments 2, 3, 1 reassembled, then the FIN`, async () => {
          const got: { text: string; eof: boolean }[] = [];
          listener(fam, ours, 7010 + fam, (c) => got.push(reader(c)));
          const v = await scapy(fam, "out_of_order", 7010 + fam, ["--size", "10", "--fin"]);
          assert.ok(v.ok, JSON.stringify(v));
          assert.equal(got.length, 1);
          assert.equal(got[0].text, "1".repeat(10) + "2".repeat(10) + "3".repeat(10));
          assert.ok(got[0].eof, "the FIN ended the stream");
        });

        // (Over IPv4 the 1-byte probe's frame is padded to Ethernet's 60-byte minimum; the
        // scripts take segment lengths from the IP header, not from scapy's payload.)
        {
          await t.step(`IPv${fam}: a zero window is probed, and sending resumes`, async () => {
            const payload = new Uint8Array(50_000).fill(0x7a);
            listener(fam, ours, 7020 + fam, (c) => {
              let off = 0;
              const push = () => {
                while (off < payload.length) {
                  const n = c.write(payload.subarray(off));
                  if (n === 0) return;
                  off += n;
                }
              };
              c.onEvent = (ev) => {
                if (ev & TCP_EVENT.WRITABLE) push();
              };
              push();
            });
            const v = await scapy(fam, "zero_window", 7020 + fam, ["--persist-timeout", "10"]);
            assert.ok(v.ok, JSON.stringify(v));
          });
        }
      }

      await t.step("IPv4: 10 000 spoofed SYNs, then a real client connects", async () => {
        const accepted = listener(4, "192.0.2.2", 7030);
        const v = await scapy(4, "syn_flood", 7030);
        assert.ok(v.ok, JSON.stringify(v));
        assert.equal(v.sent, 10_000);
        assert.ok(accepted.length >= 1, "the real client was accepted");
      });

      await t.step("every frame well formed, no segment above the MSS", async () => {
        for (const h of handles) h.close();
        await checkTcpCaptures([rig.capture], MAC, 20);
      });
    } finally {
      for (const h of handles) h.abort();
      await rig.close();
    }
  },
});
