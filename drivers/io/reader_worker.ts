/// <reference lib="deno.worker" />
/**
 * The reader Worker: blocking reads from one file descriptor straight into the
 * slots of a {@linkcode FrameRing} (the FFI `buffer` argument is a view on the
 * `SharedArrayBuffer`), published with Atomics. Started and stopped by
 * {@linkcode FdReader} (`fd_reader.ts`); it never closes the descriptor.
 *
 * The descriptor is non-blocking: the Worker reads until EAGAIN, then sleeps in
 * `poll()` on it and on an eventfd its owner writes to stop it (a blocking
 * `read()` could not be interrupted, and a Worker stuck in a system call cannot
 * be terminated). A full ring makes it wait on the ring's tail (backpressure,
 * see `frame_ring.ts`).
 *
 * @example Started by FdReader
 * ```ts ignore
 * const worker = new Worker(new URL("./reader_worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage({ ring: ring.buffer, fd, wakeFd, datagram: false } satisfies ReaderStart);
 * ```
 * @module
 */

import { FrameRing, FrameRingWriter, W } from "./frame_ring.ts";
import { E, errno, libc, POLL } from "./libc.ts";

/** The one message the Worker gets. */
export interface ReaderStart {
  /** The ring's shared memory. */
  ring: SharedArrayBuffer;
  /** The descriptor to read (non-blocking). */
  fd: number;
  /** An eventfd; readable means "stop". */
  wakeFd: number;
  /** A datagram socket: read with `recvfrom(MSG_TRUNC)` to learn each datagram's real length. */
  datagram: boolean;
}

const MSG_TRUNC = 0x20;
/** Re-check the stop flag this often even if no wake-up arrives (a safety net). */
const POLL_TIMEOUT_MS = 1000;
const SPACE_WAIT_MS = 100;

/** Sleeps until `fd` or the wake fd is readable; returns a Linux errno when `fd` is unusable. */
function waitReadable(pollfds: Int32Array<ArrayBuffer>, bytes: Uint8Array<ArrayBuffer>): number {
  pollfds[1] = POLL.IN; // events = POLLIN, revents = 0 (little-endian shorts in one word)
  pollfds[3] = POLL.IN;
  const n = libc().poll(bytes, 2, POLL_TIMEOUT_MS);
  if (n < 0) {
    const e = errno();
    return e === E.EINTR ? 0 : e;
  }
  const revents = pollfds[1] >>> 16;
  return (revents & POLL.NVAL) !== 0 ? E.EBADF : 0;
}

/** Reads one frame into `slot`: its length, or -errno. */
function readOne(msg: ReaderStart, slot: Uint8Array<SharedArrayBuffer>): number {
  const n = msg.datagram
    ? libc().recvfrom(msg.fd, slot, slot.length, MSG_TRUNC, null, null)
    : libc().read(msg.fd, slot, slot.length);
  return n >= 0 ? n : -errno();
}

/** The read loop; returns the Linux errno that ended it, 0 when asked to stop. */
function readLoop(msg: ReaderStart, ring: FrameRing): number {
  const c = ring.ctrl;
  const writer = new FrameRingWriter(ring);
  const pollfds = new Int32Array([msg.fd, 0, msg.wakeFd, 0]);
  const pollBytes = new Uint8Array(pollfds.buffer);
  // READY before the first STOP check pairs with the owner's STOP-then-READY (fd_reader.ts).
  Atomics.store(c, W.READY, 1);
  self.postMessage("ready"); // resolves FdReader.ready; delivered although this thread now blocks
  while (Atomics.load(c, W.STOP) === 0) {
    const slot = writer.slot();
    if (slot === null) {
      writer.waitForSpace(SPACE_WAIT_MS);
      continue;
    }
    const n = readOne(msg, slot);
    if (n > 0 || (n === 0 && msg.datagram)) {
      if (n > 0) writer.publish(n);
      continue;
    }
    if (n === 0) return 0; // end of file: the device went away
    if (-n === E.EINTR) continue;
    if (-n !== E.EAGAIN) return -n;
    const e = waitReadable(pollfds, pollBytes);
    if (e !== 0) return e;
  }
  return 0;
}

self.onmessage = (event: MessageEvent<ReaderStart>) => {
  const msg = event.data;
  const ring = FrameRing.attach(msg.ring);
  const c = ring.ctrl;
  let err = 0;
  try {
    err = readLoop(msg, ring);
  } catch (e) {
    console.error("reader worker:", e);
    err = E.EIO;
  }
  Atomics.store(c, W.ERRNO, err);
  Atomics.store(c, W.STOPPED, 1);
  Atomics.notify(c, W.STOPPED); // the owner waiting in stop()
  Atomics.notify(c, W.HEAD); // the consumer, so it notices the exit
};
