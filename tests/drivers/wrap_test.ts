import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import type { InterfaceSpec } from "../../core/link/driver.ts";
import { type Timer, TimerQueue } from "../../core/time/timers.ts";
import {
  type FaultCounters,
  type FaultInjectorOptions,
  Mulberry32,
  wrapWithFaults,
} from "../../drivers/wrap/fault_injector.ts";
import {
  parseProbability,
  pcapPathFor,
  type Scheduler,
  splitWrapOptions,
  wrapInterface,
} from "../../drivers/wrap/options.ts";
import {
  encodePcapHeader,
  encodePcapRecord,
  LINKTYPE,
  PCAP_MAGIC_NS,
  pcapRecordLength,
  readPcap,
} from "../../drivers/wrap/pcap_format.ts";
import { type PcapSink, PcapWriter, wrapWithPcap } from "../../drivers/wrap/pcap_writer.ts";

// ---------------------------------------------------------------- test kit

/** Virtual time over the core's timer queue: timers run only when the test advances. */
class VirtualTime implements Scheduler {
  t = 0;
  #q = new TimerQueue();
  #handles = new Map<number, Timer>();
  #next = 1;

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#handles.set(id, this.#q.schedule(this.t + ms, fn));
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === "number") this.#q.cancel(this.#handles.get(handle));
  }

  /** Moves time forward by `ms`, running each timer at its own deadline. */
  advance(ms: number): void {
    const target = this.t + ms;
    for (
      let at = this.#q.nextDeadline();
      at !== null && at <= target;
      at = this.#q.nextDeadline()
    ) {
      this.t = at;
      this.#q.runDue(at);
    }
    this.t = target;
  }

  /** Live timers left. */
  get pending(): number {
    return this.#q.nextDeadline() === null ? 0 : 1;
  }
}

/** A spec that records copies of what it transmits, with virtual arrival times. */
function recorder(vt?: VirtualTime): {
  spec: InterfaceSpec;
  sent: Uint8Array[];
  times: number[];
  detached: () => number;
} {
  const sent: Uint8Array[] = [];
  const times: number[] = [];
  let detaches = 0;
  const spec: InterfaceSpec = {
    mtu: 1500,
    transmit(frame) {
      sent.push(frame.slice());
      times.push(vt?.t ?? 0);
    },
    detach() {
      detaches++;
    },
  };
  return { spec, sent, times, detached: () => detaches };
}

/** A frame whose first two bytes number it; the rest is filler. */
function numbered(i: number, length = 64): Uint8Array {
  const f = new Uint8Array(length).fill(0xa5);
  f[0] = i >> 8;
  f[1] = i & 0xff;
  return f;
}

function numberOf(f: Uint8Array): number {
  return (f[0] << 8) | f[1];
}

/** Sends `n` numbered frames through `transmit`, reusing one buffer as a driver would. */
function sendNumbered(transmit: (f: Uint8Array) => void, n: number, length = 64): void {
  const buf = new Uint8Array(length);
  for (let i = 0; i < n; i++) {
    buf.set(numbered(i, length));
    transmit(buf);
    buf.fill(0); // the frame was only valid during the call
  }
}

function faults(opts: FaultInjectorOptions, vt = new VirtualTime()) {
  const r = recorder(vt);
  const w = wrapWithFaults(r.spec, { dir: "tx", ...opts }, vt);
  return { ...r, w, vt };
}

function txCounters(w: { stats(): { tx?: FaultCounters } }): FaultCounters {
  return w.stats().tx ?? assert.fail("no tx counters");
}

// ---------------------------------------------------------------- options

Deno.test("splitWrapOptions() takes the wrapper options and keeps the rest in order", () => {
  const r = splitWrapOptions(
    "host=tap7,pcap=/tmp/a.pcap,mtu=9000,drop=0.1,dup=5%,reorder=.5,corrupt=1,delay=20," +
      "jitter=2.5,fault_seed=0x10,fault_dir=rx,verbose",
  );
  assert.equal(r.error, undefined);
  assert.equal(r.rest, "host=tap7,mtu=9000,verbose");
  assert.deepEqual(r.wrap, {
    pcap: "/tmp/a.pcap",
    faults: {
      drop: 0.1,
      dup: 0.05,
      reorder: 0.5,
      corrupt: 1,
      delayMs: 20,
      jitterMs: 2.5,
      seed: 16,
      dir: "rx",
    },
  });
});

Deno.test("splitWrapOptions() installs no fault injector when nothing has an effect", () => {
  assert.deepEqual(splitWrapOptions("a=1,,b"), { wrap: {}, rest: "a=1,b" });
  assert.deepEqual(splitWrapOptions("drop=0,fault_seed=3,fault_dir=tx"), {
    wrap: {},
    rest: "",
  });
  assert.deepEqual(splitWrapOptions("pcap=x.pcap").wrap, { pcap: "x.pcap" });
  const f = splitWrapOptions("drop=0.5,drop=0%").wrap;
  assert.equal(f.faults, undefined, "the last value wins");
  assert.equal(splitWrapOptions("delay=1").wrap.faults?.dir, "both");
});

Deno.test("splitWrapOptions() reports the first bad value and still splits", () => {
  const cases: [string, RegExp][] = [
    ["drop=5", /drop: invalid probability "5".*5%/],
    ["drop=101%", /drop.*"101%"/],
    ["dup=-0.1", /dup.*"-0.1"/],
    ["reorder=abc", /reorder/],
    ["corrupt=1e-3", /corrupt/],
    ["drop=", /drop: a value is required/],
    ["drop", /drop: a value is required/],
    ["pcap", /pcap: a value is required/],
    ["pcap=", /pcap: a value is required/],
    ["delay=-1", /delay: invalid milliseconds "-1"/],
    ["delay=10s", /delay/],
    ["jitter=3000000000", /jitter/],
    ["fault_seed=-1", /fault_seed: invalid seed/],
    ["fault_seed=0x100000000", /fault_seed/],
    ["fault_dir=up", /fault_dir: invalid direction "up" \(tx, rx or both\)/],
  ];
  for (const [text, re] of cases) {
    const r = splitWrapOptions(`mtu=1500,${text},name2=x`);
    assert.match(r.error ?? "", re, text);
    assert.equal(r.rest, "mtu=1500,name2=x", text);
  }
  assert.match(splitWrapOptions("drop=2,dup=3").error ?? "", /^drop/);
});

Deno.test("parseProbability() takes fractions and percentages", () => {
  assert.equal(parseProbability("0"), 0);
  assert.equal(parseProbability("1"), 1);
  assert.equal(parseProbability("1."), 1);
  assert.equal(parseProbability("0.125"), 0.125);
  assert.equal(parseProbability("100%"), 1);
  assert.equal(parseProbability("2.5%"), 0.025);
  for (const bad of ["", "%", "1.5", "-0", "0x1", " 0.1", "0.1 ", "50%%", "NaN"]) {
    assert.equal(parseProbability(bad), undefined, bad);
  }
});

Deno.test("pcapPathFor() gives each interface of a load its own file", () => {
  assert.equal(pcapPathFor("/tmp/x.pcap", 0), "/tmp/x.pcap");
  assert.equal(pcapPathFor("/tmp/x.pcap", 1), "/tmp/x.1.pcap");
  assert.equal(pcapPathFor("/tmp/cap", 3), "/tmp/cap.3");
  assert.equal(pcapPathFor("/tmp.d/cap", 1), "/tmp.d/cap.1");
  assert.equal(pcapPathFor(".hidden", 1), ".hidden.1");
});

// ---------------------------------------------------------------- pcap format

Deno.test("readPcap() reads back what encodePcapRecord() wrote, cut to the snaplen", () => {
  const frames = [numbered(1, 60), numbered(2, 200), new Uint8Array(0)];
  const out = new Uint8Array(24 + frames.reduce((n, f) => n + pcapRecordLength(f.length, 100), 0));
  let at = encodePcapHeader(out, 0, { linktype: LINKTYPE.ETHERNET, snaplen: 100 });
  frames.forEach((f, i) => {
    at = encodePcapRecord(out, at, f, { timestampUs: 1_700_000_000_123_456 + i, snaplen: 100 });
  });
  assert.equal(at, out.length);
  const file = readPcap(out);
  assert.equal(file.linktype, 1);
  assert.equal(file.snaplen, 100);
  assert.deepEqual(file.records.map((r) => r.originalLength), [60, 200, 0]);
  assert.deepEqual(file.records.map((r) => r.data.length), [60, 100, 0]);
  assert.deepEqual(file.records[1].data, frames[1].subarray(0, 100));
  assert.equal(file.records[2].timestampUs, 1_700_000_000_123_458);
  assert.deepEqual([...out.subarray(0, 8)], [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
});

Deno.test("readPcap() reads big-endian and nanosecond files and rejects broken ones", () => {
  const be = new Uint8Array(24 + 16 + 4);
  const dv = new DataView(be.buffer);
  dv.setUint32(0, PCAP_MAGIC_NS);
  dv.setUint32(16, 65535);
  dv.setUint32(20, LINKTYPE.RAW);
  dv.setUint32(24, 10);
  dv.setUint32(28, 123_456_789);
  dv.setUint32(32, 4);
  dv.setUint32(36, 4);
  be.set([0x45, 0, 0, 4], 40);
  const file = readPcap(be);
  assert.equal(file.linktype, 101);
  assert.equal(file.records[0].timestampUs, 10_123_456);
  assert.deepEqual([...file.records[0].data], [0x45, 0, 0, 4]);
  assert.throws(() => readPcap(new Uint8Array(23)), SyntaxError);
  assert.throws(() => readPcap(new Uint8Array(24)), /magic/);
  assert.throws(() => readPcap(be.subarray(0, 30)), /record header truncated/);
  assert.throws(() => readPcap(be.subarray(0, 43)), /record data truncated/);
});

// ---------------------------------------------------------------- pcap writer

/** A sink that keeps what was written and counts the syscalls it stands for. */
function memorySink(maxPerWrite = Infinity): PcapSink & {
  bytes(): Uint8Array;
  writes: number;
  closed: boolean;
} {
  const chunks: Uint8Array[] = [];
  return {
    writes: 0,
    closed: false,
    writeSync(p) {
      this.writes++;
      const n = Math.min(p.length, maxPerWrite);
      chunks.push(p.slice(0, n));
      return n;
    },
    close() {
      this.closed = true;
    },
    bytes() {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) at += (out.set(c, at), c.length);
      return out;
    },
  };
}

Deno.test("PcapWriter batches records: no write per frame", () => {
  const vt = new VirtualTime();
  const sink = memorySink();
  const w = new PcapWriter(sink, {
    linktype: LINKTYPE.ETHERNET,
    flushBytes: 1024,
    flushMs: 50,
    scheduler: vt,
    clock: () => 1000,
  });
  assert.equal(sink.writes, 1, "the header goes out at once: an idle capture is a valid file");
  for (let i = 0; i < 5; i++) w.record(numbered(i, 100)); // 5 × 116 bytes < 1024
  assert.equal(sink.writes, 1);
  for (let i = 5; i < 9; i++) w.record(numbered(i, 100)); // 9 × 116 = 1044 ≥ 1024
  assert.equal(sink.writes, 2);
  w.record(numbered(9, 100));
  vt.advance(49);
  assert.equal(sink.writes, 2);
  vt.advance(1);
  assert.equal(sink.writes, 3, "the time-based flush");
  assert.equal(vt.pending, 0);
  w.close();
  w.close();
  assert.equal(sink.closed, true);
  const file = readPcap(sink.bytes());
  assert.equal(file.records.length, 10);
  assert.deepEqual(file.records.map((r) => numberOf(r.data)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(file.records[0].timestampUs, 1_000_000);
  assert.equal(w.bytesWritten, 24 + 10 * 116);
});

Deno.test("PcapWriter survives short writes and stops quietly after a failed one", () => {
  const short = memorySink(7);
  const w = new PcapWriter(short, { linktype: LINKTYPE.RAW, scheduler: new VirtualTime() });
  w.record(numbered(1, 50));
  w.close();
  assert.equal(readPcap(short.bytes()).records.length, 1);

  const logs: string[] = [];
  const broken: PcapSink = {
    writeSync: () => {
      throw new Error("No space left on device");
    },
    close() {},
  };
  const b = new PcapWriter(broken, {
    linktype: LINKTYPE.RAW,
    scheduler: new VirtualTime(),
    log: (m) => logs.push(m),
  });
  b.record(numbered(1));
  b.record(numbered(2));
  b.close();
  assert.equal(logs.length, 1);
  assert.match(logs[0], /pcap: write failed.*No space/);
  assert.equal(b.lost, 2);
});

Deno.test("wrapWithPcap() records both directions, then forwards", () => {
  const sink = memorySink();
  const r = recorder();
  let t = 5_000;
  const w = wrapWithPcap(r.spec, "mem", { sink, clock: () => t, scheduler: new VirtualTime() });
  const received: number[] = [];
  const receive = w.wrapReceive((f) => received.push(numberOf(f)));
  w.spec.transmit(numbered(1));
  t += 0.5;
  receive(numbered(2));
  assert.deepEqual(r.sent.map(numberOf), [1]);
  assert.deepEqual(received, [2]);
  w.spec.detach?.();
  assert.equal(r.detached(), 1, "the driver's detach still runs");
  assert.equal(sink.closed, true, "detach closes the file");
  const file = readPcap(sink.bytes());
  assert.equal(file.linktype, LINKTYPE.RAW, "no link address: raw IP");
  assert.deepEqual(file.records.map((x) => numberOf(x.data)), [1, 2]);
  assert.deepEqual(file.records.map((x) => x.timestampUs), [5_000_000, 5_000_500]);
  assert.match(w.summary()[0], /^pcap mem: 2 frames, 184 bytes$/);
});

Deno.test("wrapWithPcap() fails with an ErrnoError when the file cannot be opened", () => {
  const r = recorder();
  assert.throws(
    () => wrapWithPcap(r.spec, "/nonexistent-dir/x.pcap"),
    (e: unknown) => e instanceof ErrnoError && e.code === "ENOENT" && /pcap=/.test(e.message),
  );
});

// ---------------------------------------------------------------- pcap files vs tshark/tcpdump

/** An Ethernet (or, with `raw`, bare) IPv4/UDP frame with a valid IP checksum. */
function udpFrame(i: number, payload: number, raw: boolean): Uint8Array {
  const l2 = raw ? 0 : 14;
  const f = new Uint8Array(l2 + 20 + 8 + payload);
  if (!raw) {
    f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]);
  }
  const ip = f.subarray(l2);
  const total = 28 + payload;
  ip.set([0x45, 0, total >> 8, total & 0xff, i >> 8, i & 0xff, 0, 0, 64, 17, 0, 0]);
  ip.set([10, 0, 0, 1, 10, 0, 0, 2], 12);
  let sum = 0;
  for (let k = 0; k < 20; k += 2) sum += (ip[k] << 8) | ip[k + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = (~sum >> 8) & 0xff;
  ip[11] = ~sum & 0xff;
  ip.set([0x30, 0x39, 0x00, 0x35, (8 + payload) >> 8, (8 + payload) & 0xff], 20); // no UDP cksum
  return f;
}

async function run(cmd: string, args: string[]): Promise<{ out: string; err: string } | null> {
  try {
    const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const td = new TextDecoder();
    assert.equal(o.code, 0, `${cmd} ${args.join(" ")}: ${td.decode(o.stderr)}`);
    return { out: td.decode(o.stdout), err: td.decode(o.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      console.log(`skipped: ${cmd} is not installed (apt-get install -y tshark tcpdump)`);
      return null;
    }
    throw e;
  }
}

/** Writes `n` frames each way through a real file; returns path and frame lengths. */
function captureToFile(
  raw: boolean,
  n: number,
  snaplen?: number,
): { path: string; lens: number[] } {
  const path = Deno.makeTempFileSync({ suffix: raw ? ".raw.pcap" : ".eth.pcap" });
  const r = recorder();
  const spec = raw ? r.spec : { ...r.spec, lladdr: new Uint8Array([2, 0, 0, 0, 0, 1]) };
  let t = 1_700_000_000_000;
  const w = wrapWithPcap(spec, path, {
    clock: () => (t += 1.5),
    scheduler: new VirtualTime(),
    flushBytes: 4096,
    snaplen,
  });
  const receive = w.wrapReceive(() => {});
  const lens: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = udpFrame(i, (i * 37) % 1400, raw);
    lens.push(f.length);
    if (i % 2 === 0) w.spec.transmit(f);
    else receive(f);
  }
  w.close();
  return { path, lens };
}

for (const raw of [false, true]) {
  const kind = raw ? "raw IP (LINKTYPE_RAW)" : "Ethernet";
  Deno.test(`pcap files (${kind}) read back by our parser, tshark and tcpdump`, async () => {
    const { path, lens } = captureToFile(raw, 200);
    try {
      const file = readPcap(Deno.readFileSync(path));
      assert.equal(file.linktype, raw ? 101 : 1);
      assert.deepEqual(file.records.map((r) => r.data.length), lens);
      assert.equal(file.records[3].timestampUs, (1_700_000_000_000 + 4 * 1.5) * 1000);
      await checkTshark(path, lens);
      await checkTcpdump(path, lens.length, raw);
    } finally {
      Deno.removeSync(path);
    }
  });
}

async function checkTshark(path: string, lens: number[]): Promise<void> {
  const r = await run("tshark", [
    "-r",
    path,
    "-T",
    "fields",
    "-e",
    "frame.len",
    "-e",
    "ip.src",
    "-e",
    "ip.id",
    "-e",
    "frame.time_epoch",
  ]);
  if (r === null) return;
  const rows = r.out.trim().split("\n").map((l) => l.split("\t"));
  assert.equal(rows.length, lens.length);
  assert.deepEqual(rows.map((x) => Number(x[0])), lens);
  assert.ok(rows.every((x) => x[1] === "10.0.0.1"), "tshark decodes IP under the link type");
  assert.equal(parseInt(rows[7][2], 16), 7);
  assert.ok(Math.abs(Number(rows[0][3]) - 1_700_000_000.0015) < 1e-6, rows[0][3]);
}

async function checkTcpdump(path: string, count: number, raw: boolean): Promise<void> {
  const r = await run("tcpdump", ["-r", path, "-nn"]);
  if (r === null) return;
  assert.equal(r.out.trim().split("\n").length, count);
  assert.match(r.err, raw ? /link-type RAW/ : /link-type EN10MB/);
  assert.match(r.out, /10\.0\.0\.1\.12345 > 10\.0\.0\.2\.53/);
}

Deno.test("pcap files with frames cut to the snaplen read back in tshark", async () => {
  const { path, lens } = captureToFile(false, 20, 96);
  try {
    const file = readPcap(Deno.readFileSync(path));
    assert.deepEqual(file.records.map((r) => r.originalLength), lens);
    assert.ok(file.records.every((r) => r.data.length === Math.min(96, r.originalLength)));
    const r = await run("tshark", [
      "-r",
      path,
      "-T",
      "fields",
      "-e",
      "frame.len",
      "-e",
      "frame.cap_len",
    ]);
    if (r === null) return;
    const rows = r.out.trim().split("\n").map((l) => l.split("\t").map(Number));
    assert.deepEqual(rows.map((x) => x[0]), lens);
    assert.deepEqual(rows.map((x) => x[1]), lens.map((n) => Math.min(96, n)));
  } finally {
    Deno.removeSync(path);
  }
});

// ---------------------------------------------------------------- fault injector

Deno.test("Mulberry32 is deterministic and uniform enough", () => {
  const a = new Mulberry32(7), b = new Mulberry32(7), c = new Mulberry32(8);
  const xs = Array.from({ length: 10_000 }, () => a.next());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b.next()));
  assert.notEqual(xs[0], c.next());
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
});

Deno.test("drop=0.1 over 10000 frames: exact for the seed, within binomial bounds", () => {
  const { w, sent } = faults({ drop: 0.1, seed: 1 });
  sendNumbered(w.spec.transmit, 10_000);
  const c = txCounters(w);
  assert.equal(c.frames, 10_000);
  assert.equal(c.dropped + sent.length, 10_000);
  // σ = √(10000·0.1·0.9) = 30: five σ either way.
  assert.ok(c.dropped > 850 && c.dropped < 1150, `${c.dropped}`);
  assert.equal(c.dropped, DROPPED_SEED_1);
  const order = sent.map(numberOf);
  assert.deepEqual(order, [...order].sort((x, y) => x - y), "drop never reorders");
});
const DROPPED_SEED_1 = 1013;

Deno.test("the same seed gives the same fates; another seed, others", () => {
  const fates = (seed: number, extra: FaultInjectorOptions = {}) => {
    const { w, sent } = faults({ drop: 0.3, seed, ...extra });
    sendNumbered(w.spec.transmit, 500);
    return [...new Set(sent.map(numberOf))];
  };
  assert.deepEqual(fates(42), fates(42));
  assert.notDeepEqual(fates(42), fates(43));
  // Each fault draws from its own stream: adding duplicates does not move the drops.
  assert.deepEqual(fates(42, { dup: 0.5, corrupt: 0 }), fates(42));
});

Deno.test("dup=1 sends every frame twice, back to back; dup=0.25 counts exactly", () => {
  const all = faults({ dup: 1, seed: 5 });
  sendNumbered(all.w.spec.transmit, 4);
  assert.deepEqual(all.sent.map(numberOf), [0, 0, 1, 1, 2, 2, 3, 3]);
  assert.equal(txCounters(all.w).duplicated, 4);

  const some = faults({ dup: 0.25, seed: 5 });
  sendNumbered(some.w.spec.transmit, 10_000);
  const c = txCounters(some.w);
  assert.equal(some.sent.length, 10_000 + c.duplicated);
  assert.ok(c.duplicated > 2250 && c.duplicated < 2750, `${c.duplicated}`); // σ ≈ 43
  assert.equal(c.duplicated, DUPLICATED_SEED_5);
});
const DUPLICATED_SEED_5 = 2528;

Deno.test("reorder=1 swaps each pair; reorder=0.3 loses nothing", () => {
  const all = faults({ reorder: 1, seed: 9 });
  sendNumbered(all.w.spec.transmit, 6);
  assert.deepEqual(all.sent.map(numberOf), [1, 0, 3, 2, 5, 4]);
  assert.equal(txCounters(all.w).reordered, 3);

  const some = faults({ reorder: 0.3, seed: 9 });
  sendNumbered(some.w.spec.transmit, 1000);
  some.vt.advance(1000); // the last frame may be held
  const order = some.sent.map(numberOf);
  assert.deepEqual([...order].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  const swaps = order.filter((n, i) => i > 0 && n < order[i - 1]).length;
  assert.equal(txCounters(some.w).reordered, swaps);
  assert.equal(swaps, REORDERED_SEED_9);
});
const REORDERED_SEED_9 = 240;

Deno.test("a held frame with no successor goes out after reorderTimeoutMs", () => {
  const { w, sent, vt, times } = faults({ reorder: 1, seed: 1, reorderTimeoutMs: 30 });
  sendNumbered(w.spec.transmit, 1);
  assert.equal(sent.length, 0);
  vt.advance(29);
  assert.equal(sent.length, 0);
  vt.advance(1);
  assert.deepEqual(sent.map(numberOf), [0]);
  assert.deepEqual(times, [30]);
  assert.equal(txCounters(w).reordered, 0, "it went out in order after all");
  assert.deepEqual(sent[0], numbered(0), "a copy: the caller's buffer was reused since");
});

Deno.test("corrupt=1 flips exactly one bit of a copy", () => {
  const { w, sent } = faults({ corrupt: 1, seed: 11 });
  const originals: Uint8Array[] = [];
  for (let i = 0; i < 500; i++) {
    const f = numbered(i, 1 + (i % 100));
    const keep = f.slice();
    originals.push(keep);
    w.spec.transmit(f);
    assert.deepEqual(f, keep, "the caller's frame is left intact");
  }
  assert.equal(sent.length, 500);
  for (let i = 0; i < 500; i++) {
    let bits = 0;
    for (let k = 0; k < sent[i].length; k++) {
      for (let x = sent[i][k] ^ originals[i][k]; x; x &= x - 1) bits++;
    }
    assert.equal(bits, 1, `frame ${i}`);
  }
  assert.equal(txCounters(w).corrupted, 500);
});

Deno.test("delay=10 holds copies for exactly 10 ms of virtual time, in order", () => {
  const { w, sent, vt, times } = faults({ delayMs: 10, seed: 1 });
  sendNumbered(w.spec.transmit, 3);
  vt.advance(4);
  sendNumbered(w.spec.transmit, 2);
  vt.advance(5.5); // 9.5 ms: binary-exact steps, so due times compare exactly
  assert.equal(sent.length, 0);
  vt.advance(0.5);
  assert.deepEqual(sent.map(numberOf), [0, 1, 2]);
  vt.advance(4);
  assert.deepEqual(sent.map(numberOf), [0, 1, 2, 0, 1]);
  assert.deepEqual(times, [10, 10, 10, 14, 14]);
  assert.deepEqual(sent[4], numbered(1), "held frames are copies");
  assert.equal(txCounters(w).delayed, 5);
  assert.equal(vt.pending, 0);
});

Deno.test("jitter adds a uniform 0..jitter ms to the delay", () => {
  const { w, sent, vt, times } = faults({ delayMs: 10, jitterMs: 5, seed: 3 });
  sendNumbered(w.spec.transmit, 200);
  vt.advance(15);
  assert.equal(sent.length, 200);
  assert.ok(times.every((t) => t >= 10 && t <= 15));
  assert.ok(Math.max(...times) - Math.min(...times) > 4, "spread over the window");
  assert.deepEqual([...times].sort((a, b) => a - b), times, "sent in due order");
});

Deno.test("held frames are bounded: over the bound they are dropped and counted", () => {
  const byCount = faults({ delayMs: 10, seed: 1, maxHeldFrames: 4 });
  sendNumbered(byCount.w.spec.transmit, 10);
  byCount.vt.advance(10);
  assert.deepEqual(byCount.sent.map(numberOf), [0, 1, 2, 3]);
  assert.equal(txCounters(byCount.w).overflowed, 6);
  sendNumbered(byCount.w.spec.transmit, 4);
  byCount.vt.advance(10);
  assert.equal(byCount.sent.length, 8, "room again once they went out");

  const byBytes = faults({ delayMs: 10, seed: 1, maxHeldBytes: 1000 });
  sendNumbered(byBytes.w.spec.transmit, 10, 300);
  byBytes.vt.advance(10);
  assert.equal(byBytes.sent.length, 3);
  assert.equal(txCounters(byBytes.w).overflowed, 7);
});

Deno.test("fault_dir picks the direction; rx faults wrap receive", () => {
  const r = recorder();
  const vt = new VirtualTime();
  const w = wrapWithFaults(r.spec, { drop: 1, dir: "rx", seed: 1 }, vt);
  const got: number[] = [];
  const deliver = (f: Uint8Array) => got.push(numberOf(f));
  const receive = w.wrapReceive(deliver);
  sendNumbered(w.spec.transmit, 3);
  sendNumbered(receive, 3);
  assert.equal(r.sent.length, 3, "tx untouched");
  assert.deepEqual(got, []);
  assert.equal(w.stats().tx, undefined);
  assert.equal(w.stats().rx?.dropped, 3);

  const t = wrapWithFaults(r.spec, { drop: 1, dir: "tx", seed: 1 }, vt);
  assert.equal(t.wrapReceive(deliver), deliver, "no rx lane: receive is not wrapped at all");
});

Deno.test("close() and detach cancel timers and drop what is held", () => {
  const { w, sent, vt, detached } = faults({ delayMs: 10, reorder: 0.5, seed: 2 });
  sendNumbered(w.spec.transmit, 20);
  w.spec.detach?.();
  assert.equal(detached(), 1);
  assert.equal(vt.pending, 0, "no timer left behind");
  vt.advance(1000);
  assert.equal(sent.length, 0);
  sendNumbered(w.spec.transmit, 2);
  assert.equal(sent.length, 2, "after close frames pass untouched");
  w.close();
});

// ---------------------------------------------------------------- composition

Deno.test("wrapInterface() puts the capture nearest the stack and faults nearest the driver", () => {
  const vt = new VirtualTime();
  const r = recorder(vt);
  const sink = memorySink();
  const { wrap } = splitWrapOptions("pcap=mem,drop=1,fault_seed=4");
  const w = wrapInterface(r.spec, wrap, { scheduler: vt, clock: () => 0, pcap: { sink } });
  const got: Uint8Array[] = [];
  const receive = w.wrapReceive((f) => got.push(f));
  sendNumbered(w.spec.transmit, 3);
  sendNumbered(receive, 2);
  assert.equal(r.sent.length, 0, "the faults dropped every transmitted frame");
  assert.equal(got.length, 0, "and every received one");
  w.spec.detach?.();
  assert.equal(r.detached(), 1);
  assert.equal(sink.closed, true);
  // The capture shows what the stack sent (before tx faults), and what it got (after rx faults).
  assert.deepEqual(readPcap(sink.bytes()).records.map((x) => numberOf(x.data)), [0, 1, 2]);
  const summary = w.summary();
  assert.equal(summary.length, 2);
  assert.match(summary[0], /^faults \(fault_seed=4\): tx 3 frames: 3 dropped.*; rx 2 frames: 2/);
  assert.match(summary[1], /^pcap mem: 3 frames/);
  w.close();
});

Deno.test("wrapInterface() with nothing asked for returns the spec itself", () => {
  const r = recorder();
  const w = wrapInterface(r.spec, splitWrapOptions("mtu=1500").wrap);
  assert.equal(w.spec, r.spec);
  const deliver = () => {};
  assert.equal(w.wrapReceive(deliver), deliver);
  assert.deepEqual(w.summary(), []);
});

Deno.test("wrapInterface() releases the fault layer when the capture cannot open", () => {
  const vt = new VirtualTime();
  const r = recorder(vt);
  const { wrap } = splitWrapOptions("pcap=/nonexistent-dir/x.pcap,delay=5");
  assert.throws(() => wrapInterface(r.spec, wrap, { scheduler: vt }), ErrnoError);
  assert.equal(vt.pending, 0);
});
