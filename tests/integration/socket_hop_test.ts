/**
 * Integration: programs reach real daemons through the socket hop (one Unix
 * connection per socket). Two programs on two instances joined by a shmif
 * bus exchange datagrams in both families; a client killed mid-stream frees
 * its sockets; garbage gets an error frame and a close while the daemon
 * serves on; past IOPKT_MAX_SOCKETS new sockets get ENFILE; 1 000 sockets at
 * once; a reserved port is refused on the public socket file.
 */
import assert from "node:assert/strict";
import { type DatagramConn, listenDatagram } from "../../mod.ts";
import { socketPaths } from "../../core/control/paths.ts";
import {
  encodeData,
  encodeRequest,
  HOP_KIND,
  HOP_OP,
  HopDecoder,
  writeHopHeader,
} from "../../core/control/sock_proto.ts";
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

const PEER = `${ROOT}tests/kit/udp_peer.ts`;
const enc = new TextEncoder(), dec = new TextDecoder();
const SOCKET_V4 = encodeRequest(HOP_OP.socket, new Uint8Array([1, 2, 2, 17]));

/** A program of ours (tests/kit/udp_peer.ts) as a separate process, on the stack at `sock`. */
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

/** Writes `bytes` on a new connection to `path`; returns the frames read until the daemon hangs up. */
async function rawHop(path: string, bytes: Uint8Array, hangUp = false): Promise<number[][]> {
  const conn = await Deno.connect({ transport: "unix", path });
  if (hangUp) {
    await conn.write(bytes);
    conn.close();
    return [];
  }
  const frames: number[][] = [];
  const deadline = setTimeout(() => conn.close(), 10_000);
  try {
    await conn.write(bytes);
    const d = new HopDecoder();
    while (true) {
      const n = await conn.read(d.space());
      if (n === null) break;
      d.commit(n);
      while (d.next()) frames.push([d.kind, ...d.buf.subarray(d.start, d.end)]);
    }
  } catch {
    /* closed by the timer */
  } finally {
    clearTimeout(deadline);
    try {
      conn.close();
    } catch { /* closed */ }
  }
  return frames;
}

/** A v4 daemon started with `env` (the socket limit), stopped and removed afterwards. */
async function withDaemonEnv(
  env: Record<string, string>,
  fn: (d: TestDaemon) => Promise<void>,
): Promise<void> {
  const prefix = tempPrefix();
  const r = await run("io-pkt-v4-hc", ["-p", "tcpip", `prefix=${prefix}`], env);
  if (r.code !== 0) throw new Error(`daemon failed: ${r.stderr}`);
  const d = new TestDaemon(prefix, await daemonPid(prefix));
  try {
    await fn(d);
  } finally {
    await d.stop();
    Deno.removeSync(prefix, { recursive: true });
  }
}

const udp = (hostname: string, port: number) => ({ transport: "udp" as const, hostname, port });

Deno.test({
  name: "socket hop: two programs on two instances over shmif exchange datagrams, IPv4 and IPv6",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const bus = Deno.makeTempDirSync({ prefix: "shmif-bus" });
    try {
      await withDaemons(async (start) => {
        const hosts = [];
        for (const n of [1, 2]) {
          const d = await start("io-pkt-v6-hc", {
            args: ["-d", "shmif", `bus=${bus},mac=02:00:00:00:0d:0${n}`],
          });
          assert.equal((await d.tool("sysctl", "-w", "net.inet6.ip6.dad_count=0")).code, 0);
          assert.equal((await d.tool("ifconfig", "shmif0", `192.0.2.${n}/24`, "up")).code, 0);
          const v6 = await d.tool("ifconfig", "shmif0", "inet6", `2001:db8::${n}`);
          assert.equal(v6.code, 0, v6.stderr);
          hosts.push(d);
        }
        const [a, b] = hosts;
        const echo = peer(a.prefix, ["echo", "::", "7007", "40"]);
        try {
          assert.equal(await echo.nextLine(), "ready 7007");
          for (const [local, dst] of [["0.0.0.0", "192.0.2.1"], ["::", "2001:db8::1"]]) {
            const ping = peer(b.prefix, ["ping", local, dst, "7007", "20"]);
            assert.equal(await ping.nextLine(), "ok 20", `${local} -> ${dst}`);
            assert.equal(await ping.exited(), 0);
          }
          assert.equal(await echo.exited(), 0);
        } finally {
          await echo.stop();
        }
      });
    } finally {
      Deno.removeSync(bus, { recursive: true });
    }
  },
});

Deno.test({
  name: "socket hop: a client killed mid-stream frees its sockets; past the limit ENFILE",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDaemonEnv({ IOPKT_MAX_SOCKETS: "60" }, async (d) => {
      const via = { sock: d.prefix };
      const sink = await listenDatagram(
        { port: 7101, hostname: "127.0.0.1", transport: "udp" },
        via,
      ).ready;
      const extra: DatagramConn[] = [];
      const holder = peer(d.prefix, ["hold", "127.0.0.1", "7100", "55", "7101"]);
      try {
        assert.equal(await holder.nextLine(), "ready");
        // 56 of 60 are open: the program is sending when it dies.
        for (let i = 0; i < 20; i++) await sink.receive();
        await holder.stop();
        await waitFor("port 7100 to be free", async () => {
          const c = await listenDatagram(udp("127.0.0.1", 7100), via).ready.catch(() => null);
          if (c === null) return false;
          extra.push(c);
          return true;
        });
        // Every socket of the dead program was freed: 58 more fit under 60, the next does not.
        for (let i = extra.length; i < 59; i++) {
          extra.push(
            await listenDatagram({ port: 0, hostname: "127.0.0.1", transport: "udp" }, via).ready,
          );
        }
        const over = listenDatagram({ port: 0, hostname: "127.0.0.1", transport: "udp" }, via);
        assert.equal(await code(over.ready), "ENFILE");
        assert.equal(await code(over.send(enc.encode("x"), sink.addr)), "ENFILE", "each call too");
        over.close();
        // The others are served on.
        // Drain what the dead program sent (one receive pending at a time).
        let next = sink.receive();
        for (let i = 0; i < 10_000; i++) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const got = await Promise.race([
            next,
            new Promise<null>((r) => timer = setTimeout(() => r(null), 200)),
          ]).finally(() => clearTimeout(timer));
          if (got === null) break;
          next = sink.receive();
        }
        await extra[5].send(enc.encode("still here"), sink.addr);
        const [data, from] = await next;
        assert.equal(dec.decode(data), "still here");
        assert.equal(from.port, extra[5].addr.port);
      } finally {
        await holder.stop();
        for (const c of extra) c.close();
        sink.close();
      }
    }),
});

Deno.test({
  name: "socket hop: garbage gets an error frame and a close; the daemon serves on",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v4-hc");
      const path = socketPaths(d.prefix).inet;
      // An unknown frame kind after the socket request: the reply, then EPROTO (71), then EOF.
      const badKind = new Uint8Array([...SOCKET_V4, 0x99, 0, 0, 0]);
      assert.deepEqual(await rawHop(path, badKind), [
        [HOP_KIND.reply, 1, 0, 0, 0],
        [HOP_KIND.error, 3, 0, 0, 71, 0, 0, 0, 0],
      ]);
      // A frame longer than any datagram: EMSGSIZE (240).
      const huge = new Uint8Array(8);
      writeHopHeader(huge, 0, HOP_KIND.data, 0xffffff);
      assert.deepEqual(await rawHop(path, new Uint8Array([...SOCKET_V4, ...huge])), [
        [HOP_KIND.reply, 1, 0, 0, 0],
        [HOP_KIND.error, 3, 0, 0, 240, 0, 0, 0, 0],
      ]);
      // Another protocol version: refused (EPROTO) and closed.
      const v9 = encodeRequest(HOP_OP.socket, new Uint8Array([9, 2, 2, 17]));
      assert.deepEqual(await rawHop(path, v9), [[HOP_KIND.reply, 1, 0, 0, 71]]);
      // A datagram with a truncated address: EPROTO; one to a bad port: an error frame, and on.
      const truncated = new Uint8Array([...SOCKET_V4, HOP_KIND.data, 0, 0, 3, 2, 0, 0]);
      assert.deepEqual((await rawHop(path, truncated)).at(-1), [
        HOP_KIND.error,
        3,
        0,
        0,
        71,
        0,
        0,
        0,
        1,
      ]);
      // Random bytes, and a hang-up halfway through a frame.
      await rawHop(path, crypto.getRandomValues(new Uint8Array(4096)), true);
      await rawHop(
        path,
        new Uint8Array([...SOCKET_V4, ...encodeData(null, new Uint8Array(9))]).subarray(0, 15),
        true,
      );
      // A socket bound before the garbage is freed with its connection.
      const bind = encodeRequest(HOP_OP.bind, new Uint8Array([2, 0, 0x1c, 0x21, 127, 0, 0, 1]));
      assert.deepEqual(await rawHop(path, new Uint8Array([...SOCKET_V4, ...bind, 0x99, 0, 0, 0])), [
        [HOP_KIND.reply, 1, 0, 0, 0],
        [HOP_KIND.reply, 2, 0, 0, 0],
        [HOP_KIND.error, 3, 0, 0, 71, 0, 0, 0, 0],
      ]);
      const via = { sock: d.prefix };
      const again = await listenDatagram(udp("127.0.0.1", 0x1c21), via).ready;
      again.close();
      // Still serving.
      const a = await listenDatagram({ port: 7200, hostname: "127.0.0.1", transport: "udp" }, via)
        .ready;
      const b = await listenDatagram({ port: 0, hostname: "127.0.0.1", transport: "udp" }, via)
        .ready;
      await b.send(enc.encode("after garbage"), a.addr);
      assert.equal(dec.decode((await a.receive())[0]), "after garbage");
      a.close();
      b.close();
    }),
});

Deno.test({
  name: "socket hop: 1 000 sockets at once, each sending one datagram to one sink",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v4-hc");
      const via = { sock: d.prefix };
      const sink = await listenDatagram(
        { port: 7300, hostname: "127.0.0.1", transport: "udp" },
        via,
      ).ready;
      const conns: DatagramConn[] = [];
      try {
        const t0 = performance.now();
        for (let i = 0; i < 10; i++) {
          const batch = [];
          for (let j = 0; j < 100; j++) {
            batch.push(
              listenDatagram({ port: 0, hostname: "127.0.0.1", transport: "udp" }, via).ready,
            );
          }
          conns.push(...await Promise.all(batch));
        }
        const opened = performance.now() - t0;
        assert.equal(new Set(conns.map((c) => c.addr.port)).size, 1000);
        await Promise.all(conns.map((c, i) => c.send(enc.encode(String(i)), sink.addr)));
        const seen = new Set<string>();
        for (let i = 0; i < 1000; i++) seen.add(dec.decode((await sink.receive())[0]));
        assert.equal(seen.size, 1000);
        console.log(`1000 sockets opened in ${opened.toFixed(0)} ms`);
      } finally {
        for (const c of conns) c.close();
        sink.close();
      }
    }),
});

Deno.test({
  name: "socket hop: a reserved port is refused on the public socket file, allowed on config",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v6-hc");
      const opts = { port: 53, hostname: "::1", transport: "udp" } as const;
      assert.equal(
        await code(listenDatagram(opts, { sock: d.prefix, privileged: false }).ready),
        "EACCES",
      );
      const c = await listenDatagram(opts, { sock: d.prefix, privileged: true }).ready;
      assert.deepEqual(c.addr, { transport: "udp", hostname: "::1", port: 53 });
      c.close();
      // With no daemon at all: EAFNOSUPPORT, as QNX's socket() says.
      const none = listenDatagram({ port: 0, transport: "udp" }, { sock: "/nonexistent" });
      assert.equal(await code(none.ready), "EAFNOSUPPORT");
      assert.equal(await code(none.receive()), "EAFNOSUPPORT");
      none.close();
    }),
});

Deno.test({
  name: "socket hop: errors and options travel beside the data (ECONNREFUSED, EMSGSIZE, groups)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v6-hc");
      const via = { sock: d.prefix, privileged: false };
      // A connected socket hears the port unreachable as ECONNREFUSED on its next call.
      const c = await listenDatagram({ port: 0, hostname: "::1", transport: "udp" }, via).ready;
      await c.connect(udp("::1", 9));
      await c.send(enc.encode("anyone?"));
      assert.equal(await code(c.receive()), "ECONNREFUSED");
      // A datagram longer than SO_SNDBUF is refused by the stack; the next call says so.
      await c.connect(null);
      await c.setOption("SO_SNDBUF", 1000);
      assert.equal(await c.getOption("SO_SNDBUF"), 1000);
      await c.send(new Uint8Array(2000), udp("::1", 9));
      // The refusal comes back beside the data, before the reply to any later request.
      assert.equal(await c.getOption("SO_SNDBUF"), 1000);
      assert.equal(await code(c.send(new Uint8Array(1), udp("::1", 9))), "EMSGSIZE");
      assert.equal(await code(c.setOption("IP_TTL", 5)), "ENOPROTOOPT");
      c.close();
      // A group joined through the hop is heard on lo0.
      const r = await listenDatagram(
        { port: 5001, hostname: "0.0.0.0", transport: "udp", loopback: true },
        via,
      ).ready;
      const group = await r.joinMulticastV4("239.1.2.4", "127.0.0.1");
      const s = await listenDatagram(
        { port: 0, hostname: "127.0.0.1", transport: "udp", loopback: true },
        via,
      ).ready;
      await s.setOption("IP_MULTICAST_IF", 1);
      await s.send(enc.encode("to the group"), udp("239.1.2.4", 5001));
      assert.equal(dec.decode((await r.receive())[0]), "to the group");
      await group.leave();
      assert.equal(await code(group.leave()), "EADDRNOTAVAIL");
      r.close();
      s.close();
    }),
});

Deno.test({
  name:
    "socket hop: a reader that lags loses datagrams only in its bounded queue, each one counted",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v4-hc");
      const via = { sock: d.prefix };
      const fullsock = async () => {
        const r = await d.tool("netstat", "-s", "-p", "udp");
        return Number(/(\d+) dropped due to full socket buffers/.exec(r.stdout)![1]);
      };
      const rx = await listenDatagram({ port: 7400, hostname: "127.0.0.1", transport: "udp" }, via)
        .ready;
      const tx = await listenDatagram({ port: 0, hostname: "127.0.0.1", transport: "udp" }, via)
        .ready;
      const SENT = 4000;
      const payload = new Uint8Array(1000);
      // Nobody reads while the sender floods: the hop, then the core's queue fill up.
      for (let i = 0; i < SENT; i += 100) {
        const burst = [];
        for (let j = 0; j < 100; j++) burst.push(tx.send(payload, rx.addr));
        await Promise.all(burst);
      }
      await tx.getOption("SO_SNDBUF"); // a barrier: every datagram is through the stack
      let received = 0;
      const reading = (async () => {
        for await (const _ of rx) received++;
      })();
      let dropped = 0;
      await waitFor("every datagram received or counted", async () => {
        dropped = await fullsock();
        return received + dropped === SENT;
      });
      assert.ok(dropped > 0, "the lagging reader's queue overflowed");
      assert.ok(received > 0);
      rx.close();
      tx.close();
      await reading;
    }),
});

Deno.test({
  name: "socket hop: listenDatagram returns the connection at once, as Deno's does",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDaemons(async (start) => {
      const d = await start("io-pkt-v4-hc");
      const via = { sock: d.prefix };
      // No await: the program reads as it would with Deno.listenDatagram.
      const a = listenDatagram({ port: 7500, hostname: "127.0.0.1", transport: "udp" }, via);
      const b = listenDatagram({ port: 0, hostname: "127.0.0.1", transport: "udp" }, via);
      assert.deepEqual(a.addr, udp("127.0.0.1", 7500));
      assert.equal(b.addr.port, 0, "the requested address until bound");
      const echoed = (async () => {
        for await (const [data, from] of a) {
          await a.send(data, from);
          if (dec.decode(data) === "last") return;
        }
      })();
      // Calls made before the bind wait for it, and keep their order.
      const sends = ["one", "two", "last"].map((t) => b.send(enc.encode(t), a.addr));
      const got: string[] = [];
      for (let i = 0; i < 3; i++) {
        const [data, from] = await b.receive();
        got.push(dec.decode(data));
        assert.deepEqual(from, a.addr);
      }
      assert.deepEqual(got, ["one", "two", "last"]);
      assert.deepEqual(await Promise.all(sends), [3, 3, 4]);
      await echoed;
      assert.equal(await b.ready, b);
      assert.ok(b.addr.port >= 1024, `bound port ${b.addr.port} once ready`);
      // Options and connect before ready, too.
      const c = listenDatagram({ port: 0, hostname: "127.0.0.1", transport: "udp" }, via);
      await c.setOption("IP_TTL", 7);
      assert.equal(await c.getOption("IP_TTL"), 7);
      await c.connect(a.addr);
      c.close();

      // A setup failure rejects `ready` and every call with the same ErrnoError.
      const dup = listenDatagram({ port: 7500, hostname: "127.0.0.1", transport: "udp" }, via);
      assert.equal(await code(dup.ready), "EADDRINUSE");
      assert.equal(await code(dup.send(enc.encode("x"), a.addr)), "EADDRINUSE");
      assert.equal(await code(dup.getOption("IP_TTL")), "EADDRINUSE");
      assert.equal(
        await code((async () => {
          for await (const _ of dup) { /* never */ }
        })()),
        "EADDRINUSE",
      );
      dup.close();
      // A failure nobody awaits is no unhandled rejection (the test runner would report it).
      listenDatagram({ port: 7500, hostname: "127.0.0.1", transport: "udp" }, via);
      a.close();
      b.close();
    }),
});

Deno.test({
  name: "socket hop: close before ready frees the socket and leaves nothing unhandled",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDaemonEnv({ IOPKT_MAX_SOCKETS: "4" }, async (d) => {
      const via = { sock: d.prefix };
      const opts = { port: 7600, hostname: "127.0.0.1", transport: "udp" } as const;
      for (let i = 0; i < 12; i++) {
        const early = listenDatagram(opts, via);
        const pending = early.send(enc.encode("never"), udp("127.0.0.1", 9));
        early.close();
        assert.equal(await code(pending), "EBADF");
        if (i % 2 === 0) assert.equal(await code(early.ready), "EBADF");
        // (odd rounds leave `ready` alone: its rejection must not go unhandled)
      }
      // Had those connections leaked, 4 sockets would not fit under the limit of 4.
      await waitFor("the sockets closed before ready to be freed", async () => {
        const conns = [0, 1, 2, 3].map((i) => listenDatagram({ ...opts, port: 7600 + i }, via));
        const ok = (await Promise.allSettled(conns.map((c) => c.ready)))
          .every((r) => r.status === "fulfilled");
        for (const c of conns) c.close();
        return ok;
      });
    }),
});
