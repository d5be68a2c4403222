/**
 * TCP sockets on a stack embedded in the program: the core's `TcpHandle`
 * behind the same `Conn` and `Listener` as through a daemon, with no hop.
 * Every call is a turn of that stack; a read or write that cannot go on
 * waits for the handle's event (READABLE, WRITABLE, ACCEPTABLE...), so the
 * core's buffers are the only ones and a slow reader closes the window.
 *
 * TCP needs its timers run (retransmission, delayed ACKs, TIME_WAIT): while
 * one of its TCP sockets is open, the library polls the stack with the host
 * clock (`stack.poll(performance.now())`), one `setTimeout` armed for the
 * stack's next deadline, as the daemon does.
 *
 * @module
 */

import { ErrnoError, errnoName } from "../core/errno.ts";
import { Endpoint } from "../core/net/inet_addr.ts";
import type { Stack } from "../core/stack.ts";
import type { ListenerBackend, StreamBackend } from "./stream_backend.ts";
import { openTcp, TCP_EVENT, type TcpHandle, type TcpOption } from "./tcp_core.ts";

/** Connects a new socket of `stack` to `to`; resolves once established. */
export async function connectEmbedded(
  stack: Stack,
  to: Endpoint,
  signal?: AbortSignal,
): Promise<StreamBackend> {
  const release = holdTimers(stack);
  let h: TcpHandle | null = null;
  try {
    h = openTcp(stack, to.addr.family);
    const s = new EmbeddedStream(h, release);
    const onAbort = () => s.close();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      h.connect(to.addr, to.port);
      await s.established();
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    return s;
  } catch (e) {
    if (h !== null && !h.closed) h.close();
    release();
    throw e;
  }
}

/** A socket of `stack` listening on `local` (SO_REUSEADDR, as Deno sets it); throws bind errors. */
export function listenEmbedded(stack: Stack, local: Endpoint, backlog: number): ListenerBackend {
  const h = openTcp(stack, local.addr.family);
  try {
    h.setOption("SO_REUSEADDR", 1);
    h.bind(local.addr, local.port);
    h.listen(backlog);
  } catch (e) {
    h.close();
    throw e;
  }
  return new EmbeddedListener(stack, h, holdTimers(stack));
}

/** Resolve functions waiting for one of a handle's events. */
class Wakers {
  #list: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.#list.push(resolve));
  }

  wake(): void {
    if (this.#list.length === 0) return;
    const list = this.#list;
    this.#list = [];
    for (const fn of list) fn();
  }
}

const READ_EVENTS = TCP_EVENT.READABLE | TCP_EVENT.EOF | TCP_EVENT.ERROR | TCP_EVENT.CLOSED;
const WRITE_EVENTS = TCP_EVENT.WRITABLE | TCP_EVENT.ERROR | TCP_EVENT.CLOSED;
const CONNECT_EVENTS = TCP_EVENT.CONNECTED | TCP_EVENT.ERROR | TCP_EVENT.CLOSED;

class EmbeddedStream implements StreamBackend {
  readonly #h: TcpHandle;
  readonly #release: () => void;
  readonly #readers = new Wakers();
  readonly #writers = new Wakers();
  readonly #connect = new Wakers();
  readonly local = new Endpoint();
  readonly remote = new Endpoint();
  #closed = false;

  constructor(h: TcpHandle, release: () => void) {
    this.#h = h;
    this.#release = release;
    h.onEvent = (events) => {
      if (events & READ_EVENTS) this.#readers.wake();
      if (events & WRITE_EVENTS) this.#writers.wake();
      if (events & CONNECT_EVENTS) this.#connect.wake();
    };
    if (h.connected) this.#addresses();
  }

  /** Waits for the handshake to end; throws its error (ECONNREFUSED, ETIMEDOUT...). */
  async established(): Promise<void> {
    for (;;) {
      if (this.#closed) throw new ErrnoError("EBADF", "connect");
      const err = this.#h.getOption("SO_ERROR"); // taken: the attempt is over
      if (err !== 0) throw new ErrnoError(errnoName(err) ?? "EIO", "connect");
      if (this.#h.connected) break;
      if (this.#h.closed) throw new ErrnoError("ECONNABORTED", "connect");
      await this.#connect.wait();
    }
    this.#addresses();
  }

  #addresses(): void {
    this.local.set(this.#h.local);
    this.remote.set(this.#h.remote);
  }

  async read(p: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#closed) throw new ErrnoError("EBADF", "read");
      const n = this.#h.read(p); // throws the pending error (ECONNRESET, ETIMEDOUT)
      if (n > 0) return n;
      if (n < 0) return null;
      await this.#readers.wait();
    }
  }

  async write(p: Uint8Array): Promise<number> {
    let off = 0;
    while (off < p.length) {
      if (this.#closed) throw new ErrnoError("EBADF", "write");
      const n = this.#h.write(off === 0 ? p : p.subarray(off)); // EPIPE after shutdown or reset
      off += n;
      if (n === 0) await this.#writers.wait();
    }
    return p.length;
  }

  closeWrite(): Promise<void> {
    try {
      if (this.#closed) throw new ErrnoError("EBADF", "shutdown");
      this.#h.shutdownWrite();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  setOption(name: TcpOption, value: number): void {
    this.#h.setOption(name, value);
  }

  ref(): void {}

  unref(): void {}

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#h.onEvent = null;
    this.#h.close();
    this.#release();
    this.#readers.wake();
    this.#writers.wake();
    this.#connect.wake();
  }
}

class EmbeddedListener implements ListenerBackend {
  readonly #stack: Stack;
  readonly #h: TcpHandle;
  readonly #release: () => void;
  readonly #acceptors = new Wakers();
  readonly local = new Endpoint();
  #closed = false;

  constructor(stack: Stack, h: TcpHandle, release: () => void) {
    this.#stack = stack;
    this.#h = h;
    this.#release = release;
    this.local.set(h.local);
    h.onEvent = (events) => {
      if (events & (TCP_EVENT.ACCEPTABLE | TCP_EVENT.ERROR | TCP_EVENT.CLOSED)) {
        this.#acceptors.wake();
      }
    };
  }

  async accept(): Promise<StreamBackend> {
    for (;;) {
      if (this.#closed) throw new ErrnoError("EBADF", "accept");
      const c = this.#h.accept();
      if (c !== null) return new EmbeddedStream(c, holdTimers(this.#stack));
      await this.#acceptors.wait();
    }
  }

  ref(): void {}

  unref(): void {}

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#h.onEvent = null;
    this.#h.close();
    this.#release();
    this.#acceptors.wake();
  }
}

/** Per stack: how many of the library's TCP sockets hold its timers, and the stop function. */
const drivers = new WeakMap<Stack, { holders: number; stop: () => void }>();

/**
 * Keeps `stack`'s timers running with the host clock until the returned
 * function is called (once per hold; the last release stops them).
 */
export function holdTimers(stack: Stack): () => void {
  let d = drivers.get(stack);
  if (d === undefined) {
    d = { holders: 0, stop: driveTimers(stack) };
    drivers.set(stack, d);
  }
  d.holders++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--d.holders === 0) {
      d.stop();
      drivers.delete(stack);
    }
  };
}

/** One `setTimeout` armed for the stack's earliest deadline, re-armed after each poll. */
function driveTimers(stack: Stack): () => void {
  let handle: ReturnType<typeof setTimeout> | null = null;
  let armedFor = Infinity;
  let stopped = false;
  const arm = (deadline: number | null) => {
    if (stopped || deadline === null || deadline >= armedFor) return;
    if (handle !== null) clearTimeout(handle);
    armedFor = deadline;
    handle = setTimeout(fire, Math.max(0, deadline - stack.now()));
  };
  const fire = () => {
    handle = null;
    armedFor = Infinity;
    arm(stack.poll(performance.now()));
  };
  stack.onTimeoutChanged = () => arm(stack.nextTimeout());
  arm(stack.poll(performance.now()));
  return () => {
    stopped = true;
    stack.onTimeoutChanged = null;
    if (handle !== null) clearTimeout(handle);
  };
}
