/**
 * Interop: 10 000 concurrent TCP connections through one daemon. Linux, in a
 * namespace the test made, opens them to a server program on the library
 * (each accepted socket its own Unix connection to the daemon, so the
 * daemon and the program run with their descriptor limit raised to the
 * hard limit); netstat lists every one ESTABLISHED, and the daemon's memory
 * per idle connection is printed (a figure, not asserted).
 */
import assert from "node:assert/strict";
import { interopUnavailable, linkExists, Netns, which } from "../kit/netns.ts";
import { daemonPid, LiveProcess, ROOT, tempPrefix, TestDaemon, waitFor } from "../kit/processes.ts";

const PEER = `${ROOT}tests/daemon/tcp_peer_program.ts`;
const N = 10_000;

function hardNofile(): number {
  const out = new Deno.Command("sh", { args: ["-c", "ulimit -Hn"], stdout: "piped" }).outputSync();
  const t = new TextDecoder().decode(out.stdout).trim();
  return t === "unlimited" ? 1 << 20 : Number(t);
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : 0;
}

const HARD = hardNofile();
const NOFILE = `--nofile=${HARD}:${HARD}`;
function unavailable(): string | null {
  const why = interopUnavailable();
  if (why) return why;
  for (const tool of ["python3", "prlimit"]) if (!which(tool)) return `${tool} is not installed`;
  if (HARD < N + 2000) return `the descriptor hard limit (${HARD}) is below ${N + 2000}`;
  return null;
}
const skip = unavailable();
if (skip) console.log(`${N} connections through a daemon skipped: ${skip}`);

/** Linux's side: opens N connections (a few in flight at a time), prints `opened N`, holds them until stdin ends. */
const PY = `
import socket, sys, selectors
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sel = selectors.DefaultSelector()
conns, pending = [], 0
while len(conns) < n:
    while pending < 64 and len(conns) + pending < n:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, port))
        sel.register(s, selectors.EVENT_WRITE)
        pending += 1
    ready = sel.select(10)
    if not ready: sys.exit("connects stalled")
    for key, _ in ready:
        s = key.fileobj
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err: sys.exit("connect failed: %d" % err)
        sel.unregister(s)
        pending -= 1
        conns.append(s)
print("opened %d" % len(conns), flush=True)
sys.stdin.read()
`;

Deno.test({
  name: `tcp: ${N} concurrent connections from Linux to a program through one daemon`,
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const prefix = tempPrefix();
    const dev = `iom${Deno.pid % 100000}`;
    let d: TestDaemon | null = null;
    let ns: Netns | null = null;
    const procs: LiveProcess[] = [];
    try {
      const started = await new Deno.Command("prlimit", {
        args: [
          NOFILE,
          `${ROOT}bin/io-pkt-v6-hc`,
          "-d",
          "tap",
          `host=${dev},name=en,mac=02:00:5e:00:17:0a`,
          "-p",
          "tcpip",
          `prefix=${prefix},somaxconn=4096`,
        ],
        env: { IOPKT_MAX_SOCKETS: String(N + 1000) },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(started.code, 0, new TextDecoder().decode(started.stderr));
      d = new TestDaemon(prefix, await daemonPid(prefix));
      await waitFor("the TAP device", () => linkExists(dev));
      ns = await Netns.create();
      await ns.adopt(dev, ["192.0.2.1/24"]);
      assert.equal((await d.tool("ifconfig", "en0", "192.0.2.2/24")).code, 0);
      const before = rssKiB(d.pid);
      const server = LiveProcess.spawn("prlimit", [
        NOFILE,
        Deno.execPath(),
        "run",
        "-A",
        PEER,
        "keep",
        "192.0.2.2",
        "8400",
        String(N),
      ], {
        SOCK: prefix,
        NO_COLOR: "1",
      });
      procs.push(server);
      assert.equal(await server.nextLine(30_000), "listening");
      const linux = LiveProcess.inNs(ns, "prlimit", [
        NOFILE,
        "python3",
        "-c",
        PY,
        "192.0.2.2",
        "8400",
        String(N),
      ]);
      procs.push(linux);
      assert.equal(await linux.nextLine(180_000), `opened ${N}`, linux.stderr);
      assert.equal(await server.nextLine(60_000), `accepted ${N}`, server.stderr);
      const after = rssKiB(d.pid);
      const rows = (await d.tool("netstat", "-an")).stdout.split("\n");
      assert.equal(rows.filter((l) => l.startsWith("tcp ") && l.includes("ESTABLISHED")).length, N);
      console.log(
        `daemon RSS ${before} -> ${after} KiB with ${N} idle connections: ` +
          `${((after - before) * 1024 / N).toFixed(0)} bytes each (control block and hop socket)`,
      );
      await linux.closeInput();
      assert.equal(await linux.exited(30_000), 0);
    } finally {
      for (const p of procs) await p.stop();
      await d?.stop();
      await ns?.close();
      Deno.removeSync(prefix, { recursive: true });
    }
  },
});
