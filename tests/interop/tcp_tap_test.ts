/**
 * Interop, TCP: a stack embedded in this test process, on a Linux TAP device
 * moved into a namespace the test made, against Linux's own TCP (python3
 * sockets and nc), both families: Linux connects to a listener of ours and
 * pushes 16 MiB (hash checked), ours connects to a Linux server and pulls
 * 16 MiB (hash checked), nc half-closes each way, a closed port refuses both
 * ways; then tshark's verdict on every frame: nothing malformed, no bad
 * checksum, no segment above the MSS.
 */
import assert from "node:assert/strict";
import type { TcpHandle } from "../../core/socket/tcp_handle.ts";
import { TCP_EVENT } from "../../core/socket/tcp_handle.ts";
import { interopUnavailable, which } from "../kit/netns.ts";
import { checkCaptures, tsharkCount } from "../kit/capture.ts";
import { LiveProcess, waitFor } from "../kit/processes.ts";
import { tapStack } from "../kit/tap_stack.ts";

function unavailable(): string | null {
  const why = interopUnavailable();
  if (why) return why;
  for (const tool of ["nc", "python3"]) if (!which(tool)) return `${tool} is not installed`;
  return null;
}

const skip = unavailable();
if (skip) console.log(`interop TCP tests skipped: ${skip}`);

const MAC = "02:00:5e:00:17:06";
const FAMILIES = [
  { fam: 4 as const, linux: "192.0.2.1", ours: "192.0.2.2" },
  { fam: 6 as const, linux: "2001:db8::1", ours: "2001:db8::2" },
];
const BULK = 16 << 20;

/**
 * Linux's side: `push HOST PORT N` connects, sends N pattern bytes, shuts
 * down its side and prints what the peer answered; `serve HOST PORT N`
 * listens, sends N pattern bytes to the first client and closes;
 * `refused HOST PORT` prints the errno of a connect.
 */
const PY = `
import hashlib, socket, sys, errno
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
pattern = bytes((i * 7 + 3) & 255 for i in range(65536))
if mode == "push":
    n = int(sys.argv[4])
    s = socket.create_connection((host, port), timeout=60)
    left = n
    while left > 0:
        k = min(left, 65536)
        s.sendall(pattern[:k])
        left -= k
    s.shutdown(socket.SHUT_WR)
    answer = b""
    while True:
        d = s.recv(4096)
        if not d: break
        answer += d
    print(answer.decode(), flush=True)
elif mode == "serve":
    n = int(sys.argv[4])
    l = socket.socket(fam, socket.SOCK_STREAM)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, port))
    l.listen(1)
    print("listening", flush=True)
    c, _ = l.accept()
    left = n
    while left > 0:
        k = min(left, 65536)
        c.sendall(pattern[:k])
        left -= k
    c.close()
    print("sent", flush=True)
else:
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((host, port))
        print("connected", flush=True)
    except OSError as e:
        print(errno.errorcode[e.errno], flush=True)
`;

/** The bytes python's pattern gives, as a running SHA-256 cannot be had: a byte-by-byte check. */
function checker() {
  let at = 0, bad = -1;
  return {
    feed(d: Uint8Array) {
      for (let i = 0; i < d.length; i++) {
        if (bad < 0 && d[i] !== (((at + i) % 65536) * 7 + 3 & 255)) bad = at + i;
      }
      at += d.length;
    },
    get count() {
      return at;
    },
    get firstBad() {
      return bad;
    },
  };
}

/** Reads everything `h` delivers until the end of the stream, feeding `sink`. */
function readAll(
  h: TcpHandle,
  sink: (d: Uint8Array) => void,
): { done: boolean; error: string | null } {
  const state = { done: false, error: null as string | null };
  const buf = new Uint8Array(65536);
  const pump = () => {
    try {
      for (;;) {
        const n = h.read(buf);
        if (n > 0) sink(buf.subarray(0, n));
        else if (n < 0) {
          state.done = true;
          return;
        } else return;
      }
    } catch (e) {
      state.error = (e as Error).message;
    }
  };
  h.onEvent = (ev) => {
    if (ev & (TCP_EVENT.READABLE | TCP_EVENT.EOF | TCP_EVENT.ERROR | TCP_EVENT.CLOSED)) pump();
  };
  pump();
  return state;
}

Deno.test({
  name: "TCP with Linux over TAP: bulk both ways, half-close with nc, refused ports",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const rig = await tapStack({
      dev: `iot${Deno.pid % 100000}a`,
      mac: MAC,
      linux: ["192.0.2.1/24", "2001:db8::1/64"],
      ours4: "192.0.2.2",
      ours6: "2001:db8::2",
      capture: true,
    });
    const handles: TcpHandle[] = [];
    const procs: LiveProcess[] = [];
    const open = (fam: 4 | 6) => {
      const h = rig.stack.openTcp(fam);
      handles.push(h);
      return h;
    };
    const spawn = (cmd: string, args: string[]) => {
      const p = LiveProcess.inNs(rig.ns, cmd, args);
      procs.push(p);
      return p;
    };
    try {
      for (const { fam, linux, ours } of FAMILIES) {
        await t.step(
          `IPv${fam}: Linux pushes ${BULK >> 20} MiB to a listener of ours`,
          async () => {
            const server = open(fam);
            server.bind(ours, 5000 + fam);
            server.listen(4);
            let conn: TcpHandle | null = null;
            const check = checker();
            let state: { done: boolean; error: string | null } | null = null;
            server.onEvent = () => {
              const c = server.accept();
              if (c === null) return;
              handles.push(c);
              conn = c;
              state = readAll(c, (d) => check.feed(d));
            };
            const py = spawn("python3", ["-c", PY, "push", ours, `${5000 + fam}`, `${BULK}`]);
            await waitFor(
              "the pushed bytes to arrive",
              () => state?.done === true || state?.error != null,
              60_000,
            );
            assert.equal(state!.error, null);
            assert.equal(check.count, BULK);
            assert.equal(check.firstBad, -1, "every byte as sent");
            conn!.write(new TextEncoder().encode(`got ${check.count}`));
            conn!.close();
            await py.waitOutput("python to print our answer", (o) => o.includes("\n"), 20_000);
            assert.equal(py.stdout.trim(), `got ${BULK}`);
            assert.equal(await py.exited(10_000), 0);
          },
        );

        await t.step(`IPv${fam}: ours pulls ${BULK >> 20} MiB from a Linux server`, async () => {
          const py = spawn("python3", ["-c", PY, "serve", linux, `${6000 + fam}`, `${BULK}`]);
          await py.waitOutput("the server to listen", (o) => o.includes("listening"), 20_000);
          const client = open(fam);
          const check = checker();
          client.connect(linux, 6000 + fam);
          const state = readAll(client, (d) => check.feed(d));
          await waitFor(
            "the pulled bytes to arrive",
            () => state.done || state.error !== null,
            60_000,
          );
          assert.equal(state.error, null);
          assert.equal(check.count, BULK);
          assert.equal(check.firstBad, -1);
          client.close();
          assert.equal(await py.exited(10_000), 0);
        });

        await t.step(`IPv${fam}: nc half-closes each way`, async () => {
          const v6 = fam === 6 ? ["-6"] : [];
          const server = open(fam);
          server.bind(ours, 7000 + fam);
          server.listen();
          let conn: TcpHandle | null = null;
          let received = "";
          let state: { done: boolean; error: string | null } | null = null;
          server.onEvent = () => {
            const c = server.accept();
            if (c === null) return;
            handles.push(c);
            conn = c;
            state = readAll(c, (d) => received += new TextDecoder().decode(d));
          };
          // nc -N: shut down the sending side at the end of its input.
          const nc = spawn("nc", [...v6, "-N", ours, `${7000 + fam}`]);
          await waitFor("nc to connect", () => conn !== null, 10_000);
          await nc.write("from nc\n");
          await waitFor("nc's line", () => received === "from nc\n", 10_000);
          assert.equal(state!.done, false);
          await nc.closeInput();
          await waitFor("the end of nc's stream", () => state!.done, 10_000);
          assert.equal(conn!.state, "CLOSE_WAIT");
          conn!.write(new TextEncoder().encode("after your FIN\n"));
          await nc.waitOutput("nc to print our line", (o) => o.includes("after your FIN"), 10_000);
          conn!.close();
          assert.equal(await nc.exited(10_000), 0);
          assert.equal(nc.stdout, "after your FIN\n");
        });

        await t.step(`IPv${fam}: closed ports refuse each way`, async () => {
          const py = await rig.ns.exec("python3", ["-c", PY, "refused", ours, "9"], 20_000);
          assert.equal(py.stdout.trim(), "ECONNREFUSED");
          const client = open(fam);
          client.connect(linux, 9);
          await waitFor("ECONNREFUSED", () => client.error === "ECONNREFUSED", 10_000);
        });
      }
      await t.step("every frame well formed, no segment above the MSS", async () => {
        for (const h of handles) h.close();
        await checkCaptures([rig.capture], [MAC], 100);
        const big = await tsharkCount(rig.capture!.file, `eth.src == ${MAC} && tcp.len > 1440`);
        assert.equal(big, 0, "segments from us larger than the MSS");
      });
    } finally {
      for (const p of procs) await p.stop();
      for (const h of handles) h.abort();
      await rig.close();
    }
  },
});
