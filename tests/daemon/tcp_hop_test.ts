/**
 * Integration: TCP through real daemons over the socket hop. Programs (this
 * one, and client programs as separate processes) connect and listen through
 * a daemon's lo0: echo with hashes in both families, half-close both ways,
 * ECONNREFUSED, EADDRINUSE and ECONNRESET, listener iteration, a slow reader holding the
 * writer at bounded buffers, a killed client whose sockets are all freed,
 * and a stream request that breaks the protocol.
 */
import assert from "node:assert/strict";
import { connect, listen, type TcpConn, type TcpListener } from "../../mod.ts";
import { socketPaths } from "../../core/control/paths.ts";
import { encodeRequest, HOP_KIND, HOP_OP, HopDecoder } from "../../core/control/sock_proto.ts";
import {
  daemonPid,
  LiveProcess,
  ROOT,
  run,
  tempPrefix,
  TestDaemon,
  waitFor,
  withDaemons,
} from "../kit/processes.ts";

const PEER = `${ROOT}tests/daemon/tcp_peer_program.ts`;
const enc = new TextEncoder(), dec = new TextDecoder();

function peer(sock: string, args: string[]): LiveProcess {
  return LiveProcess.spawn(Deno.execPath(), ["run", "-A", PEER, ...args], {
    SOCK: sock,
    NO_COLOR: "1",
  });
}

async function code(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

async function readAll(c: TcpConn): Promise<string> {
  let out = "";
  const buf = new Uint8Array(64 * 1024);
  for (let n = await c.read(buf); n !== null; n = await c.read(buf)) {
    out += dec.decode(buf.subarray(0, n), { stream: true });
  }
  return out;
}

/** A v6 daemon started with `env`, stopped and removed afterwards. */
async function withDaemonEnv(
  env: Record<string, string>,
  fn: (d: TestDaemon) => Promise<void>,
): Promise<void> {
  const prefix = tempPrefix();
  const r = await run("io-pkt-v6-hc", ["-p", "tcpip", `prefix=${prefix}`], env);
  if (r.code !== 0) throw new Error(`daemon failed: ${r.stderr}`);
  const d = new TestDaemon(prefix, await daemonPid(prefix));
  try {
    await fn(d);
  } finally {
    await d.stop();
    Deno.removeSync(prefix, { recursive: true });
  }
}

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  ...opts,
  name: "tcp hop: two programs echo 10 MB through a daemon's lo0, hash checked, IPv4 and IPv6",
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v6-hc");
      for (const host of ["127.0.0.1", "::1"]) {
        const server = peer(d.prefix, ["echo", host, "8100"]);
        try {
          assert.equal(await server.nextLine(), "ready 8100");
          const client = peer(d.prefix, ["send", host, "8100", "10"]);
          const line = await client.nextLine(120_000);
          assert.match(line, /^ok [0-9a-f]{64}$/, client.stderr);
          assert.equal(await client.exited(), 0);
        } finally {
          await server.stop();
        }
      }
    }),
});

Deno.test({
  ...opts,
  name: "tcp hop: half-close both ways, addresses, options, errors by errno",
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v6-hc");
      const via = { sock: d.prefix };
      // listen returns at once, as Deno.listen; the address is exact once ready.
      const l = listen({ port: 8200, hostname: "127.0.0.1", ...via });
      assert.deepEqual(l.addr, { transport: "tcp", hostname: "127.0.0.1", port: 8200 });
      assert.equal(await l.ready, l);
      const c = await connect({ port: 8200, ...via });
      const s = await l.accept();
      assert.deepEqual(s.localAddr, l.addr);
      assert.deepEqual(s.remoteAddr, c.localAddr);
      assert.deepEqual(c.remoteAddr, l.addr);
      c.setNoDelay(true);
      c.setKeepAlive(true);
      // The client half-closes; the server reads to the end and answers.
      await c.write(enc.encode("question"));
      await c.closeWrite();
      assert.equal(await readAll(s), "question");
      assert.equal(await code(c.write(enc.encode("x"))), "EPIPE");
      await s.write(enc.encode("answer"));
      await s.closeWrite();
      assert.equal(await readAll(c), "answer");
      c.close();
      s.close();
      // The server half-closes first.
      const c2 = await connect({ port: 8200, ...via });
      const s2 = await l.accept();
      await s2.write(enc.encode("banner"));
      await s2.closeWrite();
      assert.equal(await readAll(c2), "banner");
      await c2.write(enc.encode("after the FIN"));
      await c2.closeWrite();
      assert.equal(await readAll(s2), "after the FIN");
      c2.close();
      s2.close();
      // Closing with received bytes unread resets the connection, as BSD does.
      const c3 = await connect({ port: 8200, ...via });
      const s3 = await l.accept();
      await c3.write(enc.encode("mostly unread"));
      assert.equal(await s3.read(new Uint8Array(1)), 1);
      s3.close();
      assert.equal(await code(c3.read(new Uint8Array(16))), "ECONNRESET");
      c3.close();
      // Errors.
      assert.equal(await code(connect({ port: 8201, ...via })), "ECONNREFUSED");
      assert.equal(await code(connect({ hostname: "::1", port: 8201, ...via })), "ECONNREFUSED");
      const dup = listen({ port: 8200, hostname: "127.0.0.1", ...via });
      assert.equal(await code(dup.ready), "EADDRINUSE");
      assert.equal(await code(dup.accept()), "EADDRINUSE", "accept reports the setup error");
      dup.close();
      const low = listen({ port: 80, hostname: "127.0.0.1", sock: d.prefix, privileged: false });
      assert.equal(await code(low.ready), "EACCES");
      low.close();
      l.close();
      assert.equal(await code(l.accept()), "EBADF");
      // The port is free again once the daemon has seen the close (close is not a round trip).
      await waitFor("port 8200 to be free", async () => {
        const again = listen({ port: 8200, hostname: "127.0.0.1", ...via });
        const ok = await again.ready.then(() => true, () => false);
        again.close();
        return ok;
      });
    }),
});

Deno.test({
  ...opts,
  name: "tcp hop: for await over a listener; closing it ends the loop",
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v4-hc");
      const via = { sock: d.prefix };
      const l = await listen({ port: 0, hostname: "127.0.0.1", ...via }).ready;
      assert.ok(l.addr.port > 0);
      const seen: string[] = [];
      const loop = (async () => {
        for await (const c of l) {
          seen.push(await readAll(c));
          c.close();
        }
      })();
      for (const word of ["one", "two", "three"]) {
        const c = await connect({ port: l.addr.port, ...via });
        await c.write(enc.encode(word));
        await c.closeWrite();
        await waitFor(`${word} to be read`, () => seen.includes(word), 10_000);
        c.close();
      }
      l.close();
      await loop;
      assert.deepEqual(seen, ["one", "two", "three"]);
    }),
});

Deno.test({
  ...opts,
  name: "tcp hop: a reader that does not read stops the writer at bounded buffers",
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v4-hc");
      const via = { sock: d.prefix };
      const l = await listen({ port: 0, hostname: "127.0.0.1", ...via }).ready;
      const c = await connect({ port: l.addr.port, ...via });
      const s = await l.accept();
      const TOTAL = 32 * 1024 * 1024;
      const chunk = new Uint8Array(64 * 1024).fill(9);
      let written = 0;
      const writing = (async () => {
        while (written < TOTAL) written += await c.write(chunk);
        await c.closeWrite();
      })();
      let last = -1;
      await waitFor("the writer to stall", async () => {
        const before = written;
        await new Promise((r) => setTimeout(r, 200));
        const stalled = written === before && written === last;
        last = written;
        return stalled;
      }, 30_000);
      // Unix buffers both sides, the daemon's read buffers, the core's send and receive buffers.
      assert.ok(written < 12 * 1024 * 1024, `stalled after ${written} bytes`);
      let got = 0;
      const buf = new Uint8Array(64 * 1024);
      for (let n = await s.read(buf); n !== null; n = await s.read(buf)) got += n;
      await writing;
      assert.equal(got, TOTAL);
      c.close();
      s.close();
      l.close();
    }),
});

Deno.test({
  ...opts,
  name: "tcp hop: a killed client frees all its sockets; past the limit ENFILE",
  fn: () =>
    withDaemonEnv({ IOPKT_MAX_SOCKETS: "24" }, async (d) => {
      const via = { sock: d.prefix };
      const l = await listen({ port: 8300, hostname: "127.0.0.1", ...via }).ready;
      const ended: string[] = [];
      const accepted: TcpConn[] = [];
      const serving = (async () => {
        for await (const c of l) {
          accepted.push(c);
          (async () => {
            const buf = new Uint8Array(64 * 1024);
            try {
              while (await c.read(buf) !== null) { /* sink */ }
              ended.push("eof");
            } catch (e) {
              ended.push((e as { code?: string }).code ?? "error");
            }
          })();
        }
      })();
      const holder = peer(d.prefix, ["hold", "127.0.0.1", "8300", "10"]);
      const extra: TcpListener[] = [];
      try {
        assert.equal(await holder.nextLine(), "ready", holder.stderr);
        await waitFor("10 connections accepted", () => accepted.length === 10);
        await holder.stop(); // SIGKILL while writing
        await waitFor("every connection of the killed client to end", () => ended.length === 10);
        for (const c of accepted) c.close();
        // 1 (the listener) in use of 24: 23 more fit, the next does not.
        await waitFor("the killed client's sockets to be freed", async () => {
          const probe = listen({ port: 0, hostname: "127.0.0.1", ...via });
          const ok = await probe.ready.then(() => true, () => false);
          if (ok) extra.push(probe);
          else probe.close();
          return ok && extra.length >= 23;
        });
        const over = listen({ port: 0, hostname: "127.0.0.1", ...via });
        assert.equal(await code(over.ready), "ENFILE");
        over.close();
      } finally {
        await holder.stop();
        for (const x of extra) x.close();
        l.close();
        await serving;
      }
    }),
});

Deno.test({
  ...opts,
  name: "tcp hop: data before connect, or a bad claim, is refused; the daemon serves on",
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v4-hc");
      const path = socketPaths(d.prefix).inet;
      const socketTcp = encodeRequest(HOP_OP.socket, new Uint8Array([1, 2, 1, 6]));
      const frames = async (bytes: Uint8Array): Promise<number[][]> => {
        const conn = await Deno.connect({ transport: "unix", path });
        const timer = setTimeout(() => conn.close(), 10_000);
        const out: number[][] = [];
        try {
          await conn.write(bytes);
          const hd = new HopDecoder();
          for (;;) {
            const n = await conn.read(hd.space());
            if (n === null) break;
            hd.commit(n);
            while (hd.next()) out.push([hd.kind, ...hd.buf.subarray(hd.start, hd.end)]);
            if (out.length >= 2) break;
          }
        } catch {
          /* closed by the timer */
        } finally {
          clearTimeout(timer);
          try {
            conn.close();
          } catch { /* closed */ }
        }
        return out;
      };
      // Bytes before connect: the socket reply, then a protocol error (EPROTO 71).
      const early = new Uint8Array([...socketTcp, HOP_KIND.data, 0, 0, 1, 0x41]);
      assert.deepEqual(await frames(early), [
        [HOP_KIND.reply, 1, 0, 0, 0],
        [HOP_KIND.error, 3, 0, 0, 71, 0, 0, 0, 0],
      ]);
      // A claim of a token nobody was given: ENOENT (2).
      const claim = encodeRequest(HOP_OP.claim, new Uint8Array(8));
      assert.deepEqual(await frames(new Uint8Array([...socketTcp, ...claim])), [
        [HOP_KIND.reply, 1, 0, 0, 0],
        [HOP_KIND.reply, HOP_OP.claim, 0, 0, 2],
      ]);
      // Still serving.
      const l = await listen({ port: 0, hostname: "127.0.0.1", sock: d.prefix }).ready;
      const c = await connect({ port: l.addr.port, sock: d.prefix });
      const s = await l.accept();
      await c.write(enc.encode("fine"));
      await c.closeWrite();
      assert.equal(await readAll(s), "fine");
      c.close();
      s.close();
      l.close();
    }),
});
