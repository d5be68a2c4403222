/**
 * Unix datagram socket pairs for reader tests: a descriptor to read and one to
 * send frames into it, no privileges, no network device.
 * @module
 */

import { closeQuietly, E, errno, libc, SOCK, throwErrno } from "../../drivers/io/libc.ts";

const extra = Deno.dlopen(
  "libc.so.6",
  {
    socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  } as const,
);

/** Both ends of one pair. */
export interface DgramPair {
  /** The end a reader reads (non-blocking). */
  readFd: number;
  /** The end a test sends from (non-blocking). */
  sendFd: number;
}

/** A non-blocking AF_UNIX SOCK_DGRAM pair. */
export function dgramPair(): DgramPair {
  const fds = new Int32Array(2);
  const type = SOCK.DGRAM | SOCK.NONBLOCK | SOCK.CLOEXEC;
  if (extra.symbols.socketpair(SOCK.AF_UNIX, type, 0, new Uint8Array(fds.buffer)) < 0) {
    throwErrno("socketpair");
  }
  return { readFd: fds[0], sendFd: fds[1] };
}

/**
 * Closes both ends, once: each end is set to -1 as it is closed, so a second
 * call closes nothing. (Closing a number twice would close whatever descriptor
 * another thread of the process got under that number meanwhile: under
 * `deno test --parallel` the test files share one descriptor table with each
 * other's Workers and Tokio runtimes.)
 */
export function closePair(p: DgramPair): void {
  const { readFd, sendFd } = p;
  p.readFd = -1;
  p.sendFd = -1;
  closeQuietly(readFd);
  closeQuietly(sendFd);
}

/** A 60-byte frame tagged with `tag` and `seq` in its first two bytes. */
export function tagged(tag: number, seq: number): Uint8Array<ArrayBuffer> {
  const f = new Uint8Array(60);
  f[0] = tag;
  f[1] = seq;
  return f;
}

/**
 * Sends `frame`, waiting while the peer's queue is full (Linux queues about ten
 * datagrams on a Unix socket); throws after `timeoutMs`.
 */
export async function sendFrame(
  fd: number,
  frame: Uint8Array<ArrayBuffer>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (libc().write(fd, frame, frame.length) < 0) {
    const e = errno();
    if (e !== E.EAGAIN && e !== E.ENOBUFS) throw new Error(`write: errno ${e}`);
    if (Date.now() > deadline) throw new Error("peer queue stayed full");
    await new Promise((r) => setTimeout(r, 2));
  }
}
