/**
 * The core's own speed, with no I/O in the way: three embedded stacks
 * A - R - B joined by in-memory wires (a transmit copies the frame into a
 * ring slot of the wire; the pump hands slots to the peer's `receive`). R
 * forwards, B answers ICMP echo. Echo requests enter R as if from A's wire;
 * each then costs four stack receptions (R, B, R, A), which is what "frames"
 * counts below. One core, virtual time (the clock stands still, so no timer
 * fires mid-run). Reports figures; asserts only that the traffic flowed.
 *
 * Bytes allocated per frame: V8's `total_allocated_bytes` (node:v8
 * `getHeapStatistics()`, present in Deno 2.9) counts every byte the JS heap
 * handed out, through garbage collections, so a run of any length can be
 * measured without sizing it to dodge GC. Checked at start against known
 * allocations (an empty loop, `{ x }` = 32 bytes, a `subarray` view). Off-heap
 * bytes (ArrayBuffer backing stores) are not in it: `Deno.memoryUsage().external`
 * is reported beside it (the packet pool recycles, so it should stay flat).
 *
 * Also: the same echo sent and answered through a raw socket on A (the socket
 * path, which copies and builds a datagram object per reply), and with
 * `--profile` the run repeats under `--cpu-prof` and prints the functions with
 * the most self time, in nanoseconds per frame.
 *
 *   bin/deno run --allow-all bench/core_bench.ts [small-count] [large-count] [--profile]
 *   bin/deno run --allow-all bench/core_bench.ts --alloc-sites   # where the heap bytes come from
 * @module
 */

import v8 from "node:v8";
import { Stack } from "../core/stack.ts";
import { IFF } from "../core/link/if_flags.ts";
import type { AttachedInterface } from "../core/link/driver.ts";
import { checksum, finishChecksum, pseudoSum6, sumWords } from "../core/wire/checksum.ts";

const args = Deno.args.filter((a) => !a.startsWith("--"));
const SMALL = Number(args[0] ?? 1_000_000);
const LARGE = Number(args[1] ?? 200_000);
const PROFILE = Deno.args.includes("--profile");
const BATCH = 32;
const SLOTS = 256; // a power of two, above BATCH

/** One direction of a link: a ring of preallocated frame slots. */
class Wire {
  readonly #slots: Uint8Array[] = [];
  readonly #views: Uint8Array[] = [];
  #head = 0;
  #count = 0;
  to: AttachedInterface | null = null;
  drops = 0;

  constructor() {
    for (let i = 0; i < SLOTS; i++) {
      this.#slots.push(new Uint8Array(2048));
      this.#views.push(this.#slots[i].subarray(0, 0));
    }
  }

  /** Copies `frame` in (it is only lent for the call). */
  push(frame: Uint8Array): void {
    if (this.#count === SLOTS || frame.length > 2048) {
      this.drops++;
      return;
    }
    const s = (this.#head + this.#count) & (SLOTS - 1);
    this.#slots[s].set(frame);
    // The view of a slot is kept while the length stays the same: no object per frame.
    if (this.#views[s].length !== frame.length) {
      this.#views[s] = this.#slots[s].subarray(0, frame.length);
    }
    this.#count++;
  }

  /** Copies `bytes[offset, offset + length)` in, as a TAP's writev does: no view of the sender's buffer. */
  pushAt(bytes: Uint8Array, offset: number, length: number): void {
    if (this.#count === SLOTS || length > 2048) {
      this.drops++;
      return;
    }
    const s = (this.#head + this.#count) & (SLOTS - 1);
    const slot = this.#slots[s];
    // A loop for short frames (no view object); a view and a memcpy for long ones.
    if (length <= 256) { for (let i = 0; i < length; i++) slot[i] = bytes[offset + i]; }
    else slot.set(bytes.subarray(offset, offset + length));
    if (this.#views[s].length !== length) this.#views[s] = slot.subarray(0, length);
    this.#count++;
  }

  /** Hands every queued frame to the peer; returns how many. */
  deliver(): number {
    let n = 0;
    while (this.#count > 0) {
      const s = this.#head;
      this.#head = (s + 1) & (SLOTS - 1);
      this.#count--;
      this.to!.receive(this.#views[s]);
      n++;
    }
    return n;
  }
}

const MAC = {
  a: new Uint8Array([2, 0, 0, 0, 0, 0x0a]),
  r0: new Uint8Array([2, 0, 0, 0, 0, 0x10]),
  r1: new Uint8Array([2, 0, 0, 0, 0, 0x11]),
  b: new Uint8Array([2, 0, 0, 0, 0, 0x0b]),
};

/** The three stacks, their wires, and R's port on A's side (where traffic enters). */
function build() {
  let now = 0;
  const clock = () => now;
  const wires = { ar: new Wire(), ra: new Wire(), rb: new Wire(), br: new Wire() };
  const flags = IFF.BROADCAST | IFF.SIMPLEX | IFF.MULTICAST;
  const port = (s: Stack, mac: Uint8Array, out: Wire) =>
    s.attachInterface("bench", {
      mtu: 1500,
      lladdr: mac,
      flags,
      transmit: (f) => out.push(f),
      transmitAt: (b, o, l) => out.pushAt(b, o, l),
    }, { prefix: "en" });
  const a = new Stack({ inet6: true, clock });
  const r = new Stack({ inet6: true, clock });
  const b = new Stack({ inet6: true, clock });
  wires.ra.to = port(a, MAC.a, wires.ar);
  const r0 = port(r, MAC.r0, wires.ra);
  wires.ar.to = r0;
  wires.br.to = port(r, MAC.r1, wires.rb);
  wires.rb.to = port(b, MAC.b, wires.br);
  const addr = (s: Stack, ifname: string, v4: string, v6: string) => {
    s.addAddress(ifname, { family: "inet", addr: v4, netmask: "255.255.255.0" });
    s.addAddress(ifname, { family: "inet6", addr: v6, prefixlen: 64 });
  };
  addr(a, "en0", "192.0.2.1", "2001:db8::1");
  addr(r, "en0", "192.0.2.2", "2001:db8::2");
  addr(r, "en1", "198.51.100.2", "2001:db8:1::2");
  addr(b, "en0", "198.51.100.9", "2001:db8:1::9");
  a.addRoute({ family: "inet", dst: "198.51.100.0", prefixlen: 24, gateway: "192.0.2.2" });
  a.addRoute({ family: "inet6", dst: "2001:db8:1::", prefixlen: 64, gateway: "2001:db8::2" });
  b.addRoute({ family: "inet", dst: "192.0.2.0", prefixlen: 24, gateway: "198.51.100.2" });
  b.addRoute({ family: "inet6", dst: "2001:db8::", prefixlen: 64, gateway: "2001:db8:1::2" });
  r.sysctl.set("net.inet.ip.forwarding", "1");
  r.sysctl.set("net.inet6.ip6.forwarding", "1");
  const stacks = [a, r, b];
  const pump = () => {
    let moved = 1;
    while (moved > 0) {
      moved = wires.rb.deliver() + wires.br.deliver() + wires.ra.deliver() + wires.ar.deliver();
    }
  };
  /** Lets virtual time pass (DAD, resolution), polling and pumping. */
  const pass = (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      now += 100;
      for (const s of stacks) s.poll();
      pump();
    }
  };
  pass(5000); // DAD
  return { a, r, b, r0, wires, pump, pass };
}

/** Pings from A's raw socket until answered (resolves every neighbour on the way). */
function warmUp(w: ReturnType<typeof build>, to: string): void {
  const inet6 = to.includes(":");
  let got = 0;
  const sock = w.a.openRawSocket(inet6 ? "inet6" : "inet", inet6 ? 58 : 1, () => got++);
  const msg = echoMessage(inet6, 16);
  for (let i = 0; i < 5 && got === 0; i++) {
    w.a.sendRaw(sock, to, msg, {});
    w.pass(1000);
  }
  w.a.closeRawSocket(sock);
  if (got === 0) throw new Error(`no echo reply from ${to}`);
}

function echoMessage(inet6: boolean, dataLen: number): Uint8Array {
  const m = new Uint8Array(8 + dataLen);
  m.set([inet6 ? 128 : 8, 0, 0, 0, 0x12, 0x34, 0, 1]);
  if (!inet6) {
    const c = checksum(m);
    m[2] = c >> 8;
    m[3] = c & 0xff;
  }
  return m;
}

/** An Ethernet frame from A to R holding an echo request for B, `ipLen` bytes of IP. */
function echoFrame(inet6: boolean, ipLen: number): Uint8Array {
  const f = new Uint8Array(14 + ipLen);
  f.set(MAC.r0, 0);
  f.set(MAC.a, 6);
  if (!inet6) {
    f.set([8, 0, 0x45, 0, ipLen >> 8, ipLen & 0xff, 0, 1, 0, 0, 64, 1, 0, 0], 12);
    f.set([192, 0, 2, 1, 198, 51, 100, 9], 26);
    const c = checksum(f, 14, 34);
    f[24] = c >> 8;
    f[25] = c & 0xff;
    f.set(echoMessage(false, ipLen - 28), 34);
    return f;
  }
  const plen = ipLen - 40;
  f.set([0x86, 0xdd, 0x60, 0, 0, 0, plen >> 8, plen & 0xff, 58, 64], 12);
  const src = f.subarray(22, 38), dst = f.subarray(38, 54);
  src.set([0x20, 0x01, 0x0d, 0xb8], 0);
  src[15] = 1;
  dst.set([0x20, 0x01, 0x0d, 0xb8, 0, 1], 0);
  dst[15] = 9;
  f.set(echoMessage(true, plen - 8), 54);
  const c = finishChecksum(sumWords(f, 54, f.length, pseudoSum6(src, dst, 58, plen)));
  f[56] = c >> 8;
  f[57] = c & 0xff;
  return f;
}

/** V8's running count of heap bytes allocated (not in Node's typings; Deno 2.9 has it). */
function allocated(): number {
  const n = (v8.getHeapStatistics() as unknown as { total_allocated_bytes?: number })
    .total_allocated_bytes;
  if (n === undefined) throw new Error("this Deno's V8 reports no total_allocated_bytes");
  return n;
}

interface Result {
  frames: number;
  seconds: number;
  heapBytes: number;
  externalBytes: number;
}

/** `count` echoes entering R in batches; every frame of a batch is pumped through before the next. */
function drive(w: ReturnType<typeof build>, frame: Uint8Array, count: number): Result {
  const inet6 = frame[12] === 0x86;
  const delivered = () => inet6 ? w.a.stats.ip6.delivered : w.a.stats.ip.delivered;
  const before = delivered();
  const ext0 = Deno.memoryUsage().external;
  const heap0 = allocated();
  const t0 = performance.now();
  for (let i = 0; i < count; i += BATCH) {
    for (let k = 0; k < BATCH; k++) w.r0.receive(frame);
    w.pump();
  }
  const seconds = (performance.now() - t0) / 1000;
  const heapBytes = allocated() - heap0;
  const externalBytes = Deno.memoryUsage().external - ext0;
  const answered = delivered() - before;
  const sent = Math.ceil(count / BATCH) * BATCH;
  if (answered !== sent) throw new Error(`${answered} of ${sent} echoes came back to A`);
  return { frames: 4 * sent, seconds, heapBytes, externalBytes };
}

/** The same echo from A's raw socket, answered into it: the socket path on top. */
function driveRaw(w: ReturnType<typeof build>, to: string, count: number): Result {
  const inet6 = to.includes(":");
  let got = 0;
  const sock = w.a.openRawSocket(inet6 ? "inet6" : "inet", inet6 ? 58 : 1, () => got++);
  const msg = echoMessage(inet6, 18);
  const heap0 = allocated();
  const ext0 = Deno.memoryUsage().external;
  const t0 = performance.now();
  for (let i = 0; i < count; i += BATCH) {
    for (let k = 0; k < BATCH; k++) w.a.sendRaw(sock, to, msg, {});
    w.pump();
  }
  const seconds = (performance.now() - t0) / 1000;
  const heapBytes = allocated() - heap0;
  const externalBytes = Deno.memoryUsage().external - ext0;
  w.a.closeRawSocket(sock);
  const sent = Math.ceil(count / BATCH) * BATCH;
  if (got !== sent) throw new Error(`${got} of ${sent} raw echoes answered`);
  return { frames: 4 * sent, seconds, heapBytes, externalBytes };
}

function report(label: string, r: Result): void {
  const fps = r.frames / r.seconds;
  console.log(
    `${label.padEnd(34)} ${(fps / 1e6).toFixed(2).padStart(5)} M frames/s  ` +
      `${(fps / 4 / 1e3).toFixed(0).padStart(5)} k echoes/s  ` +
      `${(r.seconds * 1e9 / r.frames).toFixed(0).padStart(5)} ns/frame  ` +
      `heap ${(r.heapBytes / r.frames).toFixed(1).padStart(6)} B/frame  ` +
      `external ${(r.externalBytes / r.frames).toFixed(2)} B/frame`,
  );
}

/** Bytes per operation of a few known allocations: the yardstick for the figures. */
function calibrate(): string {
  const n = 1_000_000, buf = new Uint8Array(64);
  const keep: unknown[] = [];
  const per = (f: (i: number) => unknown) => {
    const t0 = allocated();
    for (let i = 0; i < n; i++) {
      const x = f(i);
      if (i === n - 1) keep.push(x);
    }
    return ((allocated() - t0) / n).toFixed(1);
  };
  per((i) => i); // warm the measuring itself
  return `empty loop ${per((i) => i)} B, { x } ${per((i) => ({ x: i }))} B, subarray ${
    per((i) => buf.subarray(0, 1 + (i & 7)))
  } B (expected 0, 32, ~104)`;
}

/** Top self-time functions of a V8 .cpuprofile, in ns per frame. */
function topFunctions(path: string, frames: number, top = 15): string[] {
  const prof = JSON.parse(Deno.readTextFileSync(path)) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const cf = byId.get(prof.samples[i])!;
    const file = cf.url.replace(/^.*\/(core|bench|tests)\//, "$1/");
    const name = `${cf.functionName || "(anonymous)"} ${file}:${cf.lineNumber + 1}`;
    const us = prof.timeDeltas[i] ?? 0;
    self.set(name, (self.get(name) ?? 0) + us);
    total += us;
  }
  return [...self].sort((x, y) => y[1] - x[1]).slice(0, top).map(([name, us]) =>
    `${(us * 1000 / frames).toFixed(1).padStart(7)} ns/frame ${
      (100 * us / total).toFixed(1).padStart(5)
    } %  ${name}`
  );
}

async function profile(): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "core_bench_prof" });
  try {
    const count = Math.min(SMALL, 1_000_000);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-all",
        "--cpu-prof",
        `--cpu-prof-dir=${dir}`,
        import.meta.filename!,
        "--profiled-run",
        String(count),
      ],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("profiled run failed");
    const file = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".cpuprofile"));
    if (!file) throw new Error("no .cpuprofile written");
    // The profile covers both small runs (IPv4 and IPv6): 2 x 4 frames per echo.
    console.log(`\nTop self time, small echoes over IPv4 and IPv6 (${count} each), per frame:`);
    for (const line of topFunctions(`${dir}/${file.name}`, 8 * count)) console.log(line);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Where the heap bytes of a run come from: V8's sampling heap profiler, top sites per frame. */
async function allocationSites(label: string, run: () => Result): Promise<void> {
  const { Session } = await import("node:inspector");
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (e: Error | null, r?: unknown) => e ? reject(e) : resolve(r))
    );
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const result = run();
  const { profile } = await post("HeapProfiler.stopSampling") as {
    profile: { head: AllocNode; samples: { size: number; nodeId: number }[] };
  };
  session.disconnect();
  const bytes = new Map<number, number>();
  for (const smp of profile.samples) bytes.set(smp.nodeId, (bytes.get(smp.nodeId) ?? 0) + smp.size);
  const sites = new Map<string, number>();
  const where = (n: AllocNode) => {
    const f = n.callFrame;
    return `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(core|bench)\//, "$1/")}:${
      f.lineNumber + 1
    }`;
  };
  // A built-in (subarray, slice) is named with the function that called it.
  const walk = (n: AllocNode, caller: string) => {
    const b = bytes.get(n.id) ?? 0;
    const here = n.callFrame.url === "" ? `${n.callFrame.functionName} <- ${caller}` : where(n);
    if (b > 0) sites.set(here, (sites.get(here) ?? 0) + b);
    for (const c of n.children) walk(c, n.callFrame.url === "" ? caller : where(n));
  };
  walk(profile.head, "(root)");
  console.log(`${label}: heap bytes per frame by allocation site (sampled)`);
  for (const [site, b] of [...sites].sort((x, y) => y[1] - x[1]).slice(0, 12)) {
    console.log(`  ${(b / result.frames).toFixed(1).padStart(7)} B  ${site}`);
  }
}

interface AllocNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children: AllocNode[];
}

if (Deno.args.includes("--alloc-sites")) {
  const w = build();
  warmUp(w, "198.51.100.9");
  warmUp(w, "2001:db8:1::9");
  drive(w, echoFrame(false, 46), 50_000);
  drive(w, echoFrame(true, 64), 50_000);
  await allocationSites("IPv4 echo", () => drive(w, echoFrame(false, 46), 200_000));
  await allocationSites("IPv6 echo", () => drive(w, echoFrame(true, 64), 200_000));
  await allocationSites("IPv4 raw", () => driveRaw(w, "198.51.100.9", 100_000));
} else if (Deno.args.includes("--profiled-run")) {
  // Inside the profiler: only the small runs, quietly.
  const w = build();
  warmUp(w, "198.51.100.9");
  warmUp(w, "2001:db8:1::9");
  drive(w, echoFrame(false, 46), SMALL);
  drive(w, echoFrame(true, 64), SMALL);
} else {
  console.log(`Deno ${Deno.version.deno}, V8 ${Deno.version.v8}; batches of ${BATCH} echoes`);
  console.log(`allocation yardstick: ${calibrate()}`);
  const w = build();
  warmUp(w, "198.51.100.9");
  warmUp(w, "2001:db8:1::9");
  // A short run first, so the measured ones see optimised code.
  drive(w, echoFrame(false, 46), 100_000);
  drive(w, echoFrame(true, 64), 100_000);
  report(`IPv4 echo, 60-byte frames x${SMALL}`, drive(w, echoFrame(false, 46), SMALL));
  report(`IPv6 echo, 78-byte frames x${SMALL}`, drive(w, echoFrame(true, 64), SMALL));
  report(`IPv4 echo, 1414-byte frames x${LARGE}`, drive(w, echoFrame(false, 1400), LARGE));
  report(`IPv6 echo, 1414-byte frames x${LARGE}`, drive(w, echoFrame(true, 1400), LARGE));
  const raw = Math.min(SMALL, 200_000);
  report(`IPv4 echo via A's raw socket x${raw}`, driveRaw(w, "198.51.100.9", raw));
  report(`IPv6 echo via A's raw socket x${raw}`, driveRaw(w, "2001:db8:1::9", raw));
  const drops = Object.values(w.wires).reduce((s, x) => s + x.drops, 0);
  if (drops > 0) console.log(`wire drops: ${drops}`);
  if (PROFILE) await profile();
}
