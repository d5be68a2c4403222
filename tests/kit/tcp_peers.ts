/**
 * Linux's side of the TCP interop tests, inside namespaces the test made:
 * iperf3, nc and HTTP servers started and waited for, curl and iperf3 clients
 * run with their output checked, link impairments (netem where the kernel has
 * it, nftables random loss and tbf rate limits where it does not), the scapy
 * edge-case scripts of tests/kit/scapy/, and two namespaces joined by a veth
 * pair for testing the example programs over Deno's own networking.
 *
 * Every wait is bounded; what a helper starts, the caller stops (`LiveProcess.stop`)
 * or the helper's returned remover undoes.
 * @module
 */

import { createHash } from "node:crypto";
import { assertDocAddress, interopUnavailable, Netns, sh, which } from "./netns.ts";
import { LiveProcess, ROOT, waitFor } from "./processes.ts";

/** Why the TCP interop tests needing `tools` cannot run here, or null. */
export function tcpToolsUnavailable(tools: string[]): string | null {
  const why = interopUnavailable();
  if (why) return why;
  for (const t of tools) {
    if (t === "scapy") {
      if (!scapyPython()) return "python3 with scapy (python3-scapy) is not installed";
    } else if (!which(t)) return `${t} is not installed`;
  }
  return null;
}

/** A python3 that can import scapy (Debian's, which apt's python3-scapy serves), or null. */
export function scapyPython(): string | null {
  for (const py of ["/usr/bin/python3", "python3"]) {
    const r = new Deno.Command(py, {
      args: ["-c", "import scapy"],
      stdout: "null",
      stderr: "null",
    });
    try {
      if (r.outputSync().success) return py;
    } catch { /* not there */ }
  }
  return null;
}

/** Two namespaces joined by a veth pair, both families addressed. */
export interface VethPair {
  a: Netns;
  b: Netns;
  devA: string;
  devB: string;
  /** a's and b's addresses (no prefix length). */
  a4: string;
  b4: string;
  a6: string;
  b6: string;
  close(): Promise<void>;
}

let vethCounter = 0;

/**
 * Two fresh namespaces, a (192.0.2.1, 2001:db8::1) and b (…2), joined by a
 * veth pair whose ends are moved in before they come up. IPv6 without DAD.
 */
export async function vethPair(): Promise<VethPair> {
  const tag = `${(Deno.pid % 10000).toString(36)}${vethCounter++}`;
  const devA = `vta${tag}`, devB = `vtb${tag}`;
  const a = await Netns.create();
  let b: Netns | null = null;
  try {
    b = await Netns.create();
    const made = await sh("ip", ["link", "add", devA, "type", "veth", "peer", "name", devB]);
    if (made.code !== 0) throw new Error(`veth: ${made.stderr}`);
    await a.adopt(devA, ["192.0.2.1/24", "2001:db8::1/64"]);
    await b.adopt(devB, ["192.0.2.2/24", "2001:db8::2/64"]);
  } catch (e) {
    await sh("ip", ["link", "del", devA]);
    await a.close();
    await b?.close();
    throw e;
  }
  const bb = b;
  return {
    a,
    b: bb,
    devA,
    devB,
    a4: "192.0.2.1",
    b4: "192.0.2.2",
    a6: "2001:db8::1",
    b6: "2001:db8::2",
    close: async () => {
      await a.close();
      await bb.close();
    },
  };
}

/** Waits until something in `ns` listens on TCP `port` (bounded). */
export async function waitListening(ns: Netns, port: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(`a TCP listener on port ${port} in ${ns.name}`, async () => {
    const r = await ns.exec("ss", ["-Hltn", `sport = :${port}`]);
    return r.code === 0 && r.stdout.trim() !== "";
  }, timeoutMs);
}

/**
 * Starts `iperf3 -s` in `ns` and waits until it listens. `once`: one test, then
 * it exits; `json`: it prints `-J` output (for {@linkcode parseIperf3Json}) when done.
 */
export async function startIperf3Server(
  ns: Netns,
  opts: { port?: number; bind?: string; once?: boolean; json?: boolean } = {},
): Promise<LiveProcess> {
  const port = opts.port ?? 5201;
  const args = [
    "-s",
    "-p",
    String(port),
    ...(opts.once ? ["-1"] : []),
    ...(opts.json ? ["-J"] : []),
  ];
  if (opts.bind) args.push("-B", opts.bind);
  const proc = LiveProcess.inNs(ns, "iperf3", args);
  try {
    await waitListening(ns, port);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}

/** What an iperf3 test moved, from either end's `-J` output or our example's `--json` line. */
export interface Iperf3Summary {
  sentBytes: number;
  sentSeconds: number;
  sentGbps: number;
  receivedBytes: number;
  receivedSeconds: number;
  receivedGbps: number;
  reverse: boolean;
  streams: number;
}

/** Parses `iperf3 -J` output (a client's or a server's); throws with iperf3's error if it has one. */
export function parseIperf3Json(text: string): Iperf3Summary {
  const j = JSON.parse(text);
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const sent = j.end?.sum_sent, received = j.end?.sum_received;
  if (!sent || !received) throw new Error("iperf3 -J output without end.sum_sent/sum_received");
  return {
    sentBytes: sent.bytes,
    sentSeconds: sent.seconds,
    sentGbps: sent.bits_per_second / 1e9,
    receivedBytes: received.bytes,
    receivedSeconds: received.seconds,
    receivedGbps: received.bits_per_second / 1e9,
    reverse: j.start?.test_start?.reverse === 1,
    streams: j.start?.test_start?.num_streams ?? 1,
  };
}

/** Options of {@linkcode runIperf3Client}. */
export interface Iperf3ClientOptions {
  host: string;
  port?: number;
  seconds?: number;
  /** `-n`, e.g. "100M"; replaces `seconds`. */
  bytes?: string;
  reverse?: boolean;
  parallel?: number;
  timeoutMs?: number;
}

/** Runs Linux's `iperf3 -c ... -J` in `ns`; throws unless it exits 0 with a summary. */
export async function runIperf3Client(
  ns: Netns,
  opts: Iperf3ClientOptions,
): Promise<Iperf3Summary> {
  const args = ["-c", opts.host, "-p", String(opts.port ?? 5201), "-J"];
  if (opts.bytes) args.push("-n", opts.bytes);
  else args.push("-t", String(opts.seconds ?? 3));
  if (opts.reverse) args.push("-R");
  if (opts.parallel) args.push("-P", String(opts.parallel));
  const r = await ns.exec("iperf3", args, opts.timeoutMs ?? 60_000);
  if (r.code !== 0) {
    let why = r.stderr;
    try {
      why = JSON.parse(r.stdout).error ?? why;
    } catch { /* not JSON */ }
    throw new Error(`iperf3 ${args.join(" ")} failed (${r.code}): ${why}`);
  }
  return parseIperf3Json(r.stdout);
}

/** Starts `nc -l [ADDR] PORT` in `ns` (OpenBSD nc), stdin open for sending; waits until it listens. */
export async function startNcListener(
  ns: Netns,
  opts: { port: number; bind?: string; keep?: boolean },
): Promise<LiveProcess> {
  if (opts.bind) assertDocAddress(opts.bind);
  const args = [
    "-l",
    ...(opts.keep ? ["-k"] : []),
    ...(opts.bind ? [opts.bind] : []),
    String(opts.port),
  ];
  const proc = LiveProcess.inNs(ns, "nc", args);
  try {
    await waitListening(ns, opts.port);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}

/**
 * Writes `n` bytes of the examples' HTTP pattern (examples/http_server.ts
 * `patternByte`) to `path`, so a Linux server can serve what our client checks.
 */
export async function writePatternFile(path: string, n: number): Promise<void> {
  const { forEachPatternChunk } = await import("../../examples/http_server.ts");
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const chunks: Uint8Array[] = [];
    forEachPatternChunk(n, (c) => chunks.push(c));
    for (const c of chunks) {
      for (let off = 0; off < c.length;) off += await file.write(c.subarray(off));
    }
  } finally {
    file.close();
  }
}

/**
 * Starts `python3 -m http.server` in `ns` serving `dir` on `bind`:`port`
 * (HTTP/1.0, Content-Length); waits until it listens.
 */
export async function startLinuxHttpServer(
  ns: Netns,
  opts: { dir: string; port: number; bind: string },
): Promise<LiveProcess> {
  assertDocAddress(opts.bind);
  const proc = LiveProcess.inNs(ns, "python3", [
    "-m",
    "http.server",
    String(opts.port),
    "--bind",
    opts.bind,
    "--directory",
    opts.dir,
  ]);
  try {
    await waitListening(ns, opts.port);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}

/**
 * Starts one of our example programs (`examples/<file>`) in `ns` (or in this
 * namespace when `ns` is null) with `env` added, e.g. `{ SOCK: prefix }` with
 * `--net iopkt` among `args` to reach an io-pkt daemon.
 */
export function startExample(
  ns: Netns | null,
  file: string,
  args: string[],
  env: Record<string, string> = {},
): LiveProcess {
  const cmd = [denoBin(), "run", "-A", `${ROOT}examples/${file}`, ...args];
  const withEnv = ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...cmd];
  return ns
    ? LiveProcess.inNs(ns, withEnv[0], withEnv.slice(1))
    : LiveProcess.spawn(cmd[0], cmd.slice(1), env);
}

/**
 * Starts examples/http_server.ts in `ns` on `bind`:`port` over `net` ("deno",
 * or "iopkt" with `env.SOCK`); waits until it listens.
 */
export async function startExampleHttpServer(
  ns: Netns | null,
  opts: { port: number; bind: string; net?: string; env?: Record<string, string> },
): Promise<LiveProcess> {
  const proc = startExample(ns, "http_server.ts", [
    "-p",
    String(opts.port),
    "-B",
    opts.bind,
    "--net",
    opts.net ?? "deno",
  ], opts.env);
  try {
    await proc.waitOutput("listening", (out) => out.includes("listening on"), 30_000);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}

/**
 * Starts examples/iperf3.ts as a server (`-s --json`, `-1` with `once`) in
 * `ns` over `net`; waits until it listens. Its result is the last JSON line
 * of its stdout once a test ends.
 */
export async function startExampleIperf3Server(
  ns: Netns | null,
  opts: { port: number; bind?: string; once?: boolean; net?: string; env?: Record<string, string> },
): Promise<LiveProcess> {
  const proc = startExample(ns, "iperf3.ts", [
    "-s",
    "--json",
    "-p",
    String(opts.port),
    ...(opts.bind ? ["-B", opts.bind] : []),
    ...(opts.once ? ["-1"] : []),
    "--net",
    opts.net ?? "deno",
  ], opts.env);
  try {
    await proc.waitOutput("listening", (out) => out.includes("listening"), 30_000);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}

/** The Deno binary the launchers use. */
export function denoBin(): string {
  return Deno.env.get("DENO_BIN") ?? Deno.execPath();
}

/** What curl fetched. */
export interface CurlResult {
  /** curl's exit code (0 = fine; 18 = body cut short; 28 = timed out; 7 = refused). */
  exit: number;
  httpCode: number;
  bytes: number;
  sha256: string;
  seconds: number;
  stderr: string;
}

/**
 * Runs `curl` in `ns` for `url`, hashing the body as it streams (nothing kept),
 * bounded by `maxSeconds` (curl's own --max-time, and a kill past it).
 */
export async function curl(
  ns: Netns,
  url: string,
  opts: { maxSeconds?: number; extra?: string[] } = {},
): Promise<CurlResult> {
  const max = opts.maxSeconds ?? 60;
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      ns.name,
      "curl",
      "-sS",
      "--max-time",
      String(max),
      "-o",
      "-",
      "-w",
      "%{stderr}\ncurl: %{http_code} %{size_download} %{time_total}\n",
      ...(opts.extra ?? []),
      url,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, (max + 10) * 1000);
  try {
    const hash = createHash("sha256");
    let bytes = 0;
    const errText = new Response(child.stderr).text();
    for await (const chunk of child.stdout) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    const [status, stderr] = await Promise.all([child.status, errText]);
    const m = /curl: (\d+) (\d+) ([\d.]+)/.exec(stderr);
    return {
      exit: status.code,
      httpCode: m ? Number(m[1]) : 0,
      bytes,
      sha256: hash.digest("hex"),
      seconds: m ? Number(m[3]) : 0,
      stderr,
    };
  } finally {
    clearTimeout(killer);
  }
}

/** Why `tc ... netem` cannot run in `ns`, or null when it can. */
export async function netemUnavailable(ns: Netns): Promise<string | null> {
  const r = await ns.exec("tc", ["qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]);
  if (r.code !== 0) {
    return `tc netem: ${r.stderr.trim() || "failed"} (no sch_netem in this kernel?)`;
  }
  await ns.exec("tc", ["qdisc", "del", "dev", "lo", "root"]);
  return null;
}

/**
 * `tc qdisc add dev DEV root netem SPEC` in `ns` (default: delay 20ms loss 1%
 * reorder 3%); returns the remover. Throws when the kernel has no netem
 * (check {@linkcode netemUnavailable} first, or use {@linkcode addRandomLoss}).
 */
export async function addNetem(
  ns: Netns,
  dev: string,
  spec = "delay 20ms loss 1% reorder 3%",
): Promise<() => Promise<void>> {
  await ns.run("tc", ["qdisc", "add", "dev", dev, "root", "netem", ...spec.split(/\s+/)]);
  return async () => {
    await ns.exec("tc", ["qdisc", "del", "dev", dev, "root"]);
  };
}

let lossCounter = 0;

/** A random-loss impairment in place. */
export interface RandomLoss {
  /** Frames dropped so far, both directions. */
  dropped(): Promise<number>;
  remove(): Promise<void>;
}

/**
 * Drops `perMille`/1000 of the frames crossing `dev` in each direction at
 * random (nftables netdev ingress and egress hooks, so no netem needed; this
 * kernel may lack it, see {@linkcode netemUnavailable}). Needs `nft`.
 */
export async function addRandomLoss(ns: Netns, dev: string, perMille: number): Promise<RandomLoss> {
  if (!(perMille >= 0 && perMille <= 1000)) throw new Error(`loss ${perMille}/1000?`);
  const table = `iopkt_loss${lossCounter++}`;
  const rules = `table netdev ${table} {\n` +
    ` chain in {\n  type filter hook ingress device "${dev}" priority 0;\n` +
    `  numgen random mod 1000 < ${perMille} counter drop\n }\n` +
    ` chain out {\n  type filter hook egress device "${dev}" priority 0;\n` +
    `  numgen random mod 1000 < ${perMille} counter drop\n }\n}\n`;
  const file = await Deno.makeTempFile({ suffix: ".nft" });
  try {
    await Deno.writeTextFile(file, rules);
    await ns.run("nft", ["-f", file]);
  } finally {
    await Deno.remove(file).catch(() => {});
  }
  return {
    dropped: async () => {
      const listing = await ns.run("nft", ["list", "table", "netdev", table]);
      return [...listing.matchAll(/counter packets (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    },
    remove: async () => {
      await ns.exec("nft", ["delete", "table", "netdev", table]);
    },
  };
}

/** Limits what leaves `dev` to `rate` (tc tbf, e.g. "100mbit"); returns the remover. */
export async function addRateLimit(
  ns: Netns,
  dev: string,
  rate: string,
): Promise<() => Promise<void>> {
  await ns.run("tc", [
    "qdisc",
    "add",
    "dev",
    dev,
    "root",
    "tbf",
    "rate",
    rate,
    "burst",
    "64kb",
    "latency",
    "50ms",
  ]);
  return async () => {
    await ns.exec("tc", ["qdisc", "del", "dev", dev, "root"]);
  };
}

/** One scapy edge-case script's verdict (its single JSON line). */
export interface ScapyVerdict {
  test: string;
  ok: boolean;
  [detail: string]: unknown;
}

/**
 * Runs `tests/kit/scapy/<script>.py args` in `ns` with a python3 that has
 * scapy; returns its JSON line. The scripts bound their own waits; this bounds
 * the process as well.
 */
export async function runScapy(
  ns: Netns,
  script: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<ScapyVerdict> {
  const py = scapyPython();
  if (!py) throw new Error("no python3 with scapy");
  const r = await ns.exec(py, [`${ROOT}tests/kit/scapy/${script}.py`, ...args], timeoutMs);
  const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (!line) throw new Error(`scapy ${script} printed no verdict (${r.code}): ${r.stderr}`);
  return JSON.parse(line);
}
