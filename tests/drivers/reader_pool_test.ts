/**
 * The reader pool (io-pkt's `-t`): descriptors share at most N Workers, frames
 * of every descriptor arrive, a full ring holds up only its own descriptor, a
 * Worker with no descriptor left is terminated, drivers use the host's pool.
 * Unix datagram socket pairs stand in for devices: no root needed.
 */
import assert from "node:assert/strict";
import { driver as shmif } from "../../drivers/devnp-shmif.ts";
import { FdReader } from "../../drivers/io/fd_reader.ts";
import { FrameRing, FrameRingReader, W } from "../../drivers/io/frame_ring.ts";
import { closeQuietly, EFD, libc } from "../../drivers/io/libc.ts";
import { ReaderPool } from "../../drivers/io/reader_pool.ts";
import { C, COMMAND_WORDS, type ReaderCommand } from "../../drivers/io/reader_worker.ts";
import { ROOT } from "../kit/processes.ts";
import { FakeHost, waitUntil } from "./fake_host.ts";
import { closePair, type DgramPair, dgramPair, sendFrame, tagged } from "./socketpair.ts";

/** One descriptor read through `pool`, with the frames (tag, seq) it delivered. */
interface Reading {
  pair: DgramPair;
  reader: FdReader;
  seqs: number[];
}

function startReading(pool: ReaderPool, tag: number, slots = 8): Reading {
  const pair = dgramPair();
  const seqs: number[] = [];
  const reader = new FdReader(pair.readFd, {
    slots,
    maxFrame: 64,
    datagram: true,
    pool,
    onFrame: (f) => {
      assert.equal(f[0], tag, "a frame of this descriptor only");
      seqs.push(f[1]);
    },
  });
  return { pair, reader, seqs };
}

function stopReading(r: Reading): void {
  r.reader.stop();
  closePair(r.pair);
}

/** Sends `count` frames into each reading, interleaved. */
async function sendAll(readings: Reading[], count: number, tags: number[]): Promise<void> {
  for (let seq = 0; seq < count; seq++) {
    for (const [i, r] of readings.entries()) await sendFrame(r.pair.sendFd, tagged(tags[i], seq));
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

Deno.test("reader pool: with -t 1, three descriptors share one Worker and every frame arrives", async () => {
  const pool = new ReaderPool(1);
  const readings = [1, 2, 3].map((tag) => startReading(pool, tag));
  try {
    assert.deepEqual(pool.workerLoads(), [3]);
    assert.ok(await Promise.all(readings.map((r) => r.reader.whenReady())));
    await sendAll(readings, 100, [1, 2, 3]);
    await waitUntil("every frame", () => readings.every((r) => r.seqs.length === 100));
    for (const r of readings) assert.deepEqual(r.seqs, range(100), "in order, none lost");
    stopReading(readings[1]);
    assert.deepEqual(pool.workerLoads(), [2], "the Worker reads on for the others");
    await sendAll([readings[0], readings[2]], 20, [1, 3]);
    await waitUntil("frames after a detach", () => readings[2].seqs.length === 120);
  } finally {
    readings.forEach(stopReading);
  }
  assert.deepEqual(pool.workerLoads(), [], "the last detach terminates the Worker");
});

Deno.test("reader pool: a full ring holds up its own descriptor only, without spinning", async () => {
  const pool = new ReaderPool(1);
  const stuck = dgramPair();
  const ring = FrameRing.create({ slots: 2, maxFrame: 64 }); // nobody drains it for now
  const lease = pool.attach(stuck.readFd, ring, { datagram: true, onReady() {}, onFail() {} });
  const other = startReading(pool, 2);
  const got: number[] = [];
  let drain: FrameRingReader | undefined;
  try {
    assert.deepEqual(pool.workerLoads(), [2]);
    for (const seq of range(6)) await sendFrame(stuck.sendFd, tagged(1, seq));
    await waitUntil("the ring to fill", () => ring.stats().full > 0);
    assert.equal(ring.pending, 2);
    await sendAll([other], 50, [2]);
    await waitUntil("the other descriptor's frames", () => other.seqs.length === 50);
    assert.deepEqual(other.seqs, range(50));
    const before = pool.workerPolls()[0];
    await new Promise((r) => setTimeout(r, 300));
    // A full ring is retried every 10 ms (~30 polls here); a spinning Worker polls thousands of times.
    const polls = pool.workerPolls()[0] - before;
    assert.ok(polls < 100, `${polls} polls in 300 ms with a full ring: the Worker spins`);
    assert.ok(ring.stats().full <= 2, `full counted ${ring.stats().full} times`);
    drain = new FrameRingReader(ring, (f) => got.push(f[1]), { onSpace: () => lease.wake() });
    drain.start();
    await waitUntil("the held frames once space is back", () => got.length === 6, 5_000);
    assert.deepEqual(got, range(6));
  } finally {
    drain?.stop();
    lease.release();
    closePair(stuck);
    stopReading(other);
  }
  assert.deepEqual(pool.workerLoads(), []);
});

Deno.test("reader pool: more threads than descriptors gives one Worker each; then the least loaded", async () => {
  const wide = new ReaderPool(4);
  const readings = [1, 2, 3].map((tag) => startReading(wide, tag));
  try {
    assert.deepEqual(wide.workerLoads(), [1, 1, 1]);
    await sendAll(readings, 10, [1, 2, 3]);
    await waitUntil("every frame", () => readings.every((r) => r.seqs.length === 10));
  } finally {
    readings.forEach(stopReading);
  }
  assert.deepEqual(wide.workerLoads(), []);

  const two = new ReaderPool(2);
  const more = [1, 2, 3].map((tag) => startReading(two, tag));
  try {
    assert.deepEqual(two.workerLoads(), [2, 1], "a third descriptor joins the first Worker");
    stopReading(more[0]); // leaves the first Worker with one
    more.push(startReading(two, 4));
    assert.deepEqual(two.workerLoads(), [2, 1]);
    stopReading(more[1]);
    stopReading(more[3]);
    assert.deepEqual(two.workerLoads(), [1], "a Worker left with none is gone");
    await sendAll([more[2]], 10, [3]);
    await waitUntil("frames on the remaining Worker", () => more[2].seqs.length === 10);
  } finally {
    more.forEach(stopReading);
  }
  assert.deepEqual(two.workerLoads(), []);
});

Deno.test("reader pool: a descriptor stopped before its Worker took it is never read", async () => {
  const pool = new ReaderPool(1);
  const r = startReading(pool, 1);
  stopReading(r); // at once: the Worker has not even started
  assert.deepEqual(pool.workerLoads(), []);
  const again = startReading(pool, 2);
  try {
    await sendAll([again], 5, [2]);
    await waitUntil("frames through a new Worker", () => again.seqs.length === 5);
    assert.deepEqual(r.seqs, []);
  } finally {
    stopReading(again);
  }
});

Deno.test("reader pool: detaching the last descriptor lets the process exit", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-all", `${ROOT}tests/drivers/reader_pool_child.ts`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, stdout + new TextDecoder().decode(out.stderr));
    assert.equal(stdout.trim(), "done 1,1 workers=0");
  } finally {
    clearTimeout(timer);
  }
});

Deno.test("reader pool: drivers read through the host's pool (two shmif members, one Worker)", async () => {
  const bus = Deno.makeTempDirSync({ prefix: "shmif-bus" });
  const pool = new ReaderPool(1);
  const hosts = [new FakeHost("shmif", pool), new FakeHost("shmif", pool)];
  try {
    for (const [i, h] of hosts.entries()) {
      await shmif.attach(h, `bus=${bus},mac=02:00:00:00:00:0${i + 1}`);
    }
    assert.deepEqual(pool.workerLoads(), [2]);
    await new Promise((r) => setTimeout(r, 250)); // member lists refresh every 200 ms
    const [a, b] = hosts.map((h) => h.ifaces[0]);
    const frame = new Uint8Array(60).fill(0xff, 0, 6);
    frame[12] = 0x88;
    frame[13] = 0xb5;
    a.spec.transmit(frame);
    b.spec.transmit(frame);
    await waitUntil("a frame each way", () => a.frames.length >= 1 && b.frames.length >= 1);
  } finally {
    for (const h of hosts) h.detachAll();
    Deno.removeSync(bus, { recursive: true });
  }
  assert.deepEqual(pool.workerLoads(), []);
});

Deno.test("reader worker: an add taken before its POSTED bump is read (no lost wake-up)", async () => {
  // The pool posts an add, then bumps POSTED. A Worker idle in its event loop can take the
  // message in between; it must stay in its loop then, not wait for a message that never comes.
  // Here the gap is made wide on purpose: the bump comes 200 ms after the message.
  const wakeFd = libc().eventfd(0, EFD.CLOEXEC | EFD.NONBLOCK);
  assert.ok(wakeFd >= 0);
  const cmd = new Int32Array(new SharedArrayBuffer(COMMAND_WORDS * 4));
  const worker = new Worker(new URL("../../drivers/io/reader_worker.ts", import.meta.url), {
    type: "module",
  });
  const pair = dgramPair();
  const ring = FrameRing.create({ slots: 8, maxFrame: 64 });
  const got: number[] = [];
  const drain = new FrameRingReader(ring, (f) => got.push(f[1]));
  const ready = Promise.withResolvers<void>();
  worker.onmessage = () => ready.resolve();
  const wake = () => libc().write(wakeFd, new Uint8Array(new BigUint64Array([1n]).buffer), 8);
  try {
    drain.start();
    worker.postMessage({ kind: "init", cmd: cmd.buffer, wakeFd } satisfies ReaderCommand);
    worker.postMessage(
      {
        kind: "add",
        id: 1,
        ring: ring.buffer,
        fd: pair.readFd,
        datagram: true,
      } satisfies ReaderCommand,
    );
    await ready.promise; // the Worker has taken the add; POSTED is still 0
    await new Promise((r) => setTimeout(r, 200));
    Atomics.add(cmd, C.POSTED, 1);
    wake();
    for (const seq of range(5)) await sendFrame(pair.sendFd, tagged(1, seq));
    await waitUntil("frames read after the late POSTED bump", () => got.length === 5, 5_000);
    assert.deepEqual(got, range(5));
  } finally {
    drain.stop();
    Atomics.store(ring.ctrl, W.STOP, 1);
    Atomics.store(cmd, C.CLOSING, 1);
    wake();
    if (Atomics.load(cmd, C.RUNNING) === 1) Atomics.wait(cmd, C.RUNNING, 1, 2000);
    worker.terminate();
    if (Atomics.load(cmd, C.RUNNING) === 0) closeQuietly(wakeFd);
    closePair(pair);
  }
});

Deno.test("reader pool: a Worker that warms up reads its descriptors meanwhile and after", async () => {
  const pool = new ReaderPool(1, { warmUpRounds: 20_000 });
  const a = startReading(pool, 1);
  const b = startReading(pool, 2);
  try {
    assert.ok(await a.reader.whenReady(), "the attach does not wait for the warm-up");
    // Sent while the Worker is (most likely) still warming up, then well after.
    await sendAll([a, b], 50, [1, 2]);
    await waitUntil("every frame", () => a.seqs.length === 50 && b.seqs.length === 50);
    assert.deepEqual(a.seqs, range(50));
    assert.deepEqual(b.seqs, range(50));
    stopReading(b);
    await sendAll([a], 10, [1]);
    await waitUntil("frames after a detach", () => a.seqs.length === 60);
  } finally {
    stopReading(a);
    stopReading(b);
  }
  assert.deepEqual(pool.workerLoads(), []);
});
