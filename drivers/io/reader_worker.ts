/// <reference lib="deno.worker" />
/**
 * A reader Worker: one of io-pkt's layer-2 threads (`-t`). It reads any number
 * of descriptors, each straight into the slots of its own
 * {@linkcode FrameRing} (the FFI `buffer` argument is a view on the
 * `SharedArrayBuffer`), published with Atomics. Started, fed and retired by
 * {@linkcode ReaderPool} (`reader_pool.ts`); it never closes a descriptor.
 *
 * Descriptors are non-blocking. One round reads each readable descriptor until
 * EAGAIN, until its ring is full, or until it has read one ring's worth (so a
 * flooded descriptor cannot starve the others); then the Worker sleeps in
 * `poll()` on all its descriptors and on an eventfd its owner writes. A full
 * ring takes its descriptor out of the poll set (frames wait in the kernel)
 * without holding up the others; the consumer writes the eventfd once it has
 * freed space (`FrameRingReaderOptions.onSpace`), and a short poll
 * timeout retries anyway.
 *
 * Commands while the Worker sits in its synchronous loop (it cannot take a
 * message there):
 * - stop one descriptor: the owner sets the ring's STOP word and writes the
 *   eventfd; the Worker answers with STOPPED (as a one-descriptor reader did);
 * - add one: the owner posts the ring (a `SharedArrayBuffer` has to travel by
 *   message), bumps `POSTED` in the command area and writes the eventfd; a
 *   loop that sees `POSTED` ahead of the adds it has taken returns to the event
 *   loop, takes the message and starts again (a message taken before its
 *   `POSTED` bump is no reason to leave);
 * - retire: `CLOSING` ends the loop; `RUNNING` drops to 0 once the Worker
 *   touches no descriptor, not even the eventfd, and it may be terminated.
 *
 * @example Started by ReaderPool
 * ```ts ignore
 * const worker = new Worker(new URL("./reader_worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage({ kind: "init", cmd, wakeFd } satisfies ReaderCommand);
 * worker.postMessage({ kind: "add", id: 1, ring: ring.buffer, fd, datagram: false } satisfies ReaderCommand);
 * Atomics.add(new Int32Array(cmd), C.POSTED, 1);
 * ```
 * @module
 */

import { FrameRing, FrameRingWriter, W } from "./frame_ring.ts";
import { closeQuietly, E, errno, libc, POLL, SOCK } from "./libc.ts";

/** Words of a Worker's command area (an Int32Array on a `SharedArrayBuffer`). */
export const C = {
  /** "add" messages posted by the owner. */
  POSTED: 0,
  /** 1 while the Worker is in its read loop (and may use descriptors). Worker-written. */
  RUNNING: 1,
  /** Set by the owner: leave the loop for good. */
  CLOSING: 2,
  /** poll() calls made (mod 2^32), for diagnostics: a spinning Worker shows here. */
  POLLS: 3,
} as const;

/** Int32 words in a command area. */
export const COMMAND_WORDS = 4;

/** The first message: the Worker's command area and its eventfd. */
export interface ReaderInit {
  kind: "init";
  /** The command area (see {@linkcode C}). */
  cmd: SharedArrayBuffer;
  /** An eventfd; readable means "look at your commands". */
  wakeFd: number;
  /** Rounds of the read loop to run over a scratch socket pair first (JIT warm-up); 0: none. */
  warmUpRounds?: number;
}

/** Start reading one descriptor. */
export interface ReaderAdd {
  kind: "add";
  /** The owner's name for this descriptor, echoed in {@linkcode ReaderReady}. */
  id: number;
  /** The ring's shared memory. */
  ring: SharedArrayBuffer;
  /** The descriptor to read (non-blocking). */
  fd: number;
  /** A datagram socket: read with `recvfrom(MSG_TRUNC)` to learn each datagram's real length. */
  datagram: boolean;
}

/** What the owner posts. */
export type ReaderCommand = ReaderInit | ReaderAdd;

/** What the Worker posts: descriptor `ready` is being read. */
export interface ReaderReady {
  ready: number;
}

const MSG_TRUNC = 0x20;
/** Re-check the command words this often even if no wake-up arrives (a safety net). */
const POLL_TIMEOUT_MS = 1000;
/** Retry full rings this often even if the consumer's wake-up is missed. */
const FULL_RETRY_MS = 10;

/** One descriptor the Worker reads. */
interface Entry {
  fd: number;
  datagram: boolean;
  ring: FrameRing;
  writer: FrameRingWriter;
  /** Worth a read: poll said so, or the last round stopped before EAGAIN. */
  readable: boolean;
  /** Its ring was full: out of the poll set until space is back. */
  full: boolean;
}

let cmd: Int32Array<SharedArrayBuffer>;
let wakeFd = -1;
/** "add" messages taken so far; the loop leaves when POSTED gets ahead of it. */
let taken = 0;
let entries: Entry[] = [];
/** pollfd structs: the eventfd, then one per entry ({int fd; short events; short revents}). */
let pollfds = new Int32Array(2);
let pollBytes = new Uint8Array(pollfds.buffer);
const wakeBuf = new Uint8Array(8);
/** Warm-up rounds still to run (given at init, run once the first descriptor is taken). */
let pendingWarmUp = 0;

/** Ends reading `e`: its errno (0 when asked to stop), then STOPPED for the owner and consumer. */
function finish(e: Entry, linuxErrno: number): void {
  const c = e.ring.ctrl;
  Atomics.store(c, W.ERRNO, linuxErrno);
  Atomics.store(c, W.STOPPED, 1);
  Atomics.notify(c, W.STOPPED); // the owner waiting in stop()
  Atomics.notify(c, W.HEAD); // the consumer, so it notices the exit
}

/** Rebuilds the poll set after the entries changed. */
function rebuildPollSet(): void {
  pollfds = new Int32Array(2 + entries.length * 2);
  pollBytes = new Uint8Array(pollfds.buffer);
  pollfds[0] = wakeFd;
  entries.forEach((e, i) => (pollfds[2 + i * 2] = e.full ? -1 : e.fd));
}

/** Drops the entries `ended` says are done (finishing each with its errno). */
function dropEntries(ended: Map<Entry, number>): void {
  if (ended.size === 0) return;
  for (const [e, err] of ended) finish(e, err);
  entries = entries.filter((e) => !ended.has(e));
  rebuildPollSet();
}

/** Entries whose owner set STOP. */
function reapStops(): void {
  const ended = new Map<Entry, number>();
  for (const e of entries) if (Atomics.load(e.ring.ctrl, W.STOP) !== 0) ended.set(e, 0);
  dropEntries(ended);
}

/** Reads one frame into `slot`: its length, or -errno. */
function readOne(e: Entry, slot: Uint8Array<SharedArrayBuffer>): number {
  const n = e.datagram
    ? libc().recvfrom(e.fd, slot, slot.length, MSG_TRUNC, null, null)
    : libc().read(e.fd, slot, slot.length);
  return n >= 0 ? n : -errno();
}

/** Reads `e` for one round; returns a Linux errno that ends it, or -1 to go on. */
function readEntry(e: Entry): number {
  for (let budget = e.ring.slots; budget > 0;) {
    const slot = e.writer.slot();
    if (slot === null) {
      if (e.writer.markFull()) {
        e.full = true; // skip it, serve the others; the consumer's onSpace wakes us
        return -1;
      }
      continue;
    }
    const n = readOne(e, slot);
    if (n > 0 || (n === 0 && e.datagram)) {
      if (n > 0) e.writer.publish(n);
      budget--;
      continue;
    }
    if (n === 0) return 0; // end of file: the device went away
    if (-n === E.EINTR) continue;
    if (-n === E.EAGAIN) {
      e.readable = false;
      return -1;
    }
    return -n;
  }
  return -1; // a ring's worth read: others get their turn, this one stays readable
}

/** One round over every readable entry. */
function readRound(): void {
  const ended = new Map<Entry, number>();
  for (const e of entries) {
    if (e.full && e.writer.spaceAgain()) {
      e.full = false;
      e.readable = true;
    }
    if (e.full || !e.readable) continue;
    const err = readEntry(e);
    if (err >= 0) ended.set(e, err);
  }
  dropEntries(ended);
}

/** The poll timeout for the state the entries are in. */
function pollTimeout(): number {
  if (entries.some((e) => e.readable && !e.full)) return 0;
  return entries.some((e) => e.full) ? FULL_RETRY_MS : POLL_TIMEOUT_MS;
}

/** Sleeps in poll(); marks what became readable. Returns a Linux errno when poll itself fails. */
function waitEvents(): number {
  pollfds[1] = POLL.IN; // events = POLLIN, revents = 0 (little-endian shorts in one word)
  entries.forEach((e, i) => {
    pollfds[2 + i * 2] = e.full ? -1 : e.fd;
    pollfds[3 + i * 2] = POLL.IN;
  });
  Atomics.add(cmd, C.POLLS, 1);
  const n = libc().poll(pollBytes, 1 + entries.length, pollTimeout());
  if (n < 0) {
    const err = errno();
    return err === E.EINTR ? 0 : err;
  }
  // Read the eventfd before looking at the command words: a command written before the
  // wake-up that this read consumes is then visible; a later one leaves the eventfd readable.
  if ((pollfds[1] >>> 16) !== 0) libc().read(wakeFd, wakeBuf, 8);
  const ended = new Map<Entry, number>();
  entries.forEach((e, i) => {
    const revents = pollfds[3 + i * 2] >>> 16;
    if ((revents & POLL.NVAL) !== 0) ended.set(e, E.EBADF);
    else if (revents !== 0) e.readable = true;
  });
  dropEntries(ended);
  return 0;
}

/**
 * Whether the loop may go on: not retired, no message waiting, something to
 * read. A message waits when POSTED is ahead of the adds taken; POSTED may also
 * be behind for a moment (the owner posts, then announces, and this thread can
 * take the message in between): that is no reason to leave, and leaving then
 * would be a lost wake-up (the announcement that follows finds no loop to see
 * it, and the Worker idles until the next message, reading nothing).
 */
function mayRun(): boolean {
  return Atomics.load(cmd, C.CLOSING) === 0 && ((Atomics.load(cmd, C.POSTED) - taken) | 0) <= 0 &&
    entries.length > 0;
}

/** The read loop, until a message waits, the owner retires the Worker, or nothing is left. */
function readLoop(): void {
  while (mayRun()) {
    reapStops();
    readRound();
    const err = waitEvents();
    if (err !== 0) return failAll(err);
  }
}

/** Ends every entry with `linuxErrno` (the Worker itself cannot go on reading). */
function failAll(linuxErrno: number): void {
  dropEntries(new Map(entries.map((e) => [e, linuxErrno])));
}

/**
 * Runs the loop (after `warmUpRounds` of warm-up) with RUNNING set; RUNNING
 * drops once no descriptor is touched any more.
 */
function run(warmUpRounds = 0): void {
  // RUNNING before CLOSING pairs with the owner's CLOSING-before-RUNNING (reader_pool.ts).
  Atomics.store(cmd, C.RUNNING, 1);
  try {
    if (warmUpRounds > 0) warmUp(warmUpRounds);
    readLoop();
  } catch (e) {
    console.error("reader worker:", e);
    failAll(E.EIO);
  } finally {
    Atomics.store(cmd, C.RUNNING, 0);
    Atomics.notify(cmd, C.RUNNING);
  }
}

/** Takes one descriptor on; READY before the STOP check pairs with the owner's STOP-then-READY. */
function adopt(msg: ReaderAdd): void {
  const ring = FrameRing.attach(msg.ring);
  Atomics.store(ring.ctrl, W.READY, 1);
  self.postMessage({ ready: msg.id } satisfies ReaderReady);
  const e: Entry = {
    fd: msg.fd,
    datagram: msg.datagram,
    ring,
    writer: new FrameRingWriter(ring),
    readable: true,
    full: false,
  };
  if (Atomics.load(ring.ctrl, W.STOP) !== 0) return finish(e, 0); // stopped before it started
  entries.push(e);
  rebuildPollSet();
}

/**
 * Runs the read loop's own functions over a scratch socket pair for `rounds`
 * frames, so that V8 has optimised them before the first real frame (an idle
 * link brings one every few milliseconds, too few for the JIT for a long
 * while; see `daemon/warmup.ts`). Nothing is left behind: the entry, the
 * descriptors, the poll count.
 */
function warmUp(rounds: number): void {
  const fds = new Int32Array(2);
  const type = SOCK.DGRAM | SOCK.NONBLOCK | SOCK.CLOEXEC;
  if (libc().socketpair(SOCK.AF_UNIX, type, 0, new Uint8Array(fds.buffer)) < 0) return;
  const ring = FrameRing.create({ slots: 8, maxFrame: 2048 });
  const e: Entry = {
    fd: fds[0],
    datagram: false,
    ring,
    writer: new FrameRingWriter(ring),
    readable: true,
    full: false,
  };
  entries.push(e);
  rebuildPollSet();
  const polls = Atomics.load(cmd, C.POLLS);
  const frame = new Uint8Array(98);
  // Now and then a wake-up on the eventfd, and an entry its owner stops (what happens when an
  // interface comes or goes), so those paths have run before the loop is optimised.
  const stopped = FrameRing.create({ slots: 2, maxFrame: 64 });
  const one = new Uint8Array(new BigUint64Array([1n]).buffer);
  try {
    // Until done, or the owner wants the Worker (a message waits, it retires it).
    for (let i = 0; i < rounds && mayRun(); i++) {
      e.datagram = (i & 7) === 7; // the shmif driver's sockets are read with recvfrom
      if ((i & 63) === 5) libc().write(wakeFd, one, 8);
      if ((i & 63) === 9) {
        Atomics.store(stopped.ctrl, W.STOP, 1);
        entries.push({ ...e, ring: stopped, writer: new FrameRingWriter(stopped) });
        rebuildPollSet();
      }
      // As if a consumer waited on every other frame: publish then notifies (nobody, here).
      Atomics.store(ring.ctrl, W.CONSUMER_WAITING, i & 1);
      libc().write(fds[1], frame, frame.length);
      if (waitEvents() !== 0) break;
      reapStops();
      readRound();
      Atomics.store(ring.ctrl, W.TAIL, Atomics.load(ring.ctrl, W.HEAD)); // consumed at once
    }
  } finally {
    entries = entries.filter((x) => x !== e);
    rebuildPollSet();
    Atomics.store(cmd, C.POLLS, polls);
    closeQuietly(fds[0]);
    closeQuietly(fds[1]);
  }
}

self.onmessage = (event: MessageEvent<ReaderCommand>) => {
  const msg = event.data;
  if (msg.kind === "init") {
    cmd = new Int32Array(msg.cmd);
    wakeFd = msg.wakeFd;
    pendingWarmUp = msg.warmUpRounds ?? 0;
    return;
  }
  taken = (taken + 1) | 0; // as POSTED counts: an Int32 that wraps
  adopt(msg);
  // After the owner heard "ready" (its attach does not wait for the warm-up); the descriptor is
  // read meanwhile, as the warm-up runs the loop's functions over every entry.
  const warm = pendingWarmUp;
  pendingWarmUp = 0;
  run(warm);
};
