/**
 * Integration: a program opens UDP sockets in a real daemon through the
 * socket hop (bound, connected; IPv4 and IPv6), and the real `bin/netstat`
 * run against that daemon lists them (`-an`) and counts their traffic
 * (`-p udp`, `-p udp6`), compared line for line. Ports are fixed so rows are
 * known; closing the sockets empties the tables.
 */
import assert from "node:assert/strict";
import { type DatagramConn, listenDatagram } from "../../mod.ts";
import { type TestDaemon, waitFor, withDaemons } from "../kit/processes.ts";

const udp = (hostname: string, port: number) => ({ transport: "udp" as const, hostname, port });

/** `bin/netstat args` against `d`; fails the test unless it exits 0. */
async function netstat(d: TestDaemon, ...args: string[]): Promise<string> {
  const r = await d.tool("netstat", ...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** Receives `n` datagrams on `conn`, each within 10 s; returns their lengths. */
async function receiveAll(conn: DatagramConn, n: number): Promise<number[]> {
  const lengths: number[] = [];
  for (let i = 0; i < n; i++) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const got = await Promise.race([
      conn.receive(),
      new Promise<null>((r) => timer = setTimeout(() => r(null), 10_000)),
    ]).finally(() => clearTimeout(timer));
    if (got === null) throw new Error(`datagram ${i + 1} of ${n} did not come`);
    lengths.push(got[0].length);
  }
  return lengths;
}

// QNX's padded rows: "%-5.5s %6ld %6ld " then two 22-wide endpoints and an 11-wide state.
const row = (proto: string, local: string, foreign: string) =>
  `${proto.padEnd(5)}      0      0  ${local.padEnd(22)} ${foreign.padEnd(22)} ${"".padEnd(11)}`;
const V4_HEADER = "Active Internet connections (including servers)\n" +
  "Proto Recv-Q Send-Q  Local Address          Foreign Address        State      ";
const V6_HEADER = "Active Internet6 connections (including servers)\n" +
  "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)    ";

/** `netstat -p udp` (`udp6`) of a stack that saw `n` datagrams, each delivered, none lost. */
function udpStats(family: "udp" | "udp6", n: number): string {
  const lines = family === "udp"
    ? [
      `${n} datagrams received`,
      "0 with incomplete header",
      "0 with bad data length field",
      "0 with bad checksum",
      "0 dropped due to no socket",
      "0 broadcast/multicast datagrams dropped due to no socket",
      "0 dropped due to full socket buffers",
      `${n} delivered`,
      // The receiver is bound, not connected: each lookup misses the connected hash.
      `${n} PCB hash misses`,
      `${n} datagrams output`,
    ]
    : [
      `${n} datagrams received`,
      "0 with incomplete header",
      "0 with bad data length field",
      "0 with bad checksum",
      "0 with no checksum",
      "0 dropped due to no socket",
      "0 multicast datagrams dropped due to no socket",
      "0 dropped due to full socket buffers",
      `${n} delivered`,
      `${n} datagrams output`,
    ];
  return `${family}:\n${lines.map((l) => `\t${l}\n`).join("")}`;
}

Deno.test({
  name:
    "netstat -an lists a program's hop sockets (bound, connected, v4 and v6); -p udp counts their traffic",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v6-hc");
      const via = { sock: d.prefix };
      const conns: DatagramConn[] = [];
      const open = async (hostname: string, port: number) => {
        const c = await listenDatagram(udp(hostname, port), via).ready;
        conns.push(c);
        return c;
      };
      try {
        const server4 = await open("127.0.0.1", 7501);
        const client4 = await open("0.0.0.0", 7502);
        await client4.connect(udp("127.0.0.1", 7501));
        await open("0.0.0.0", 7505);
        const server6 = await open("::1", 7503);
        const client6 = await open("::", 7504);
        await client6.connect(udp("::1", 7503));
        await open("::", 7506);

        // Newest first, as NetBSD walks its PCB table; connect() fixed each client's local address.
        const expected = [
          V4_HEADER,
          row("udp", "*.7505", "*.*"),
          row("udp", "127.0.0.1.7502", "127.0.0.1.7501"),
          row("udp", "127.0.0.1.7501", "*.*"),
          V6_HEADER,
          row("udp6", "*.7506", "*.*"),
          row("udp6", "::1.7504", "::1.7503"),
          row("udp6", "::1.7503", "*.*"),
        ].join("\n") + "\n";
        assert.equal(await netstat(d, "-an"), expected);
        assert.equal(await netstat(d, "-p", "udp"), udpStats("udp", 0));

        for (let i = 0; i < 5; i++) await client4.send(new Uint8Array(10));
        for (let i = 0; i < 3; i++) await client6.send(new Uint8Array(20));
        assert.deepEqual(await receiveAll(server4, 5), [10, 10, 10, 10, 10]);
        assert.deepEqual(await receiveAll(server6, 3), [20, 20, 20]);
        assert.equal(await netstat(d, "-p", "udp"), udpStats("udp", 5));
        assert.equal(await netstat(d, "-p", "udp6"), udpStats("udp6", 3));
        // Read, nothing is left queued: the same rows.
        assert.equal(await netstat(d, "-an"), expected);

        for (const c of conns.splice(0)) c.close();
        // A block without sockets prints nothing; the daemon frees each socket when its connection ends.
        let left = "";
        await waitFor("the daemon to free the closed sockets", async () => {
          left = await netstat(d, "-an");
          return left === "";
        }, 10_000).catch(() => assert.equal(left, ""));
      } finally {
        for (const c of conns) c.close();
      }
    }),
});
