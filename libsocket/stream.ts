/**
 * `connect` and `listen`: Deno's `Deno.connect` and `Deno.listen` for TCP,
 * through an io-pkt stack.
 *
 * The connection is shaped like `Deno.TcpConn` (`read`, `write`, `readable`,
 * `writable`, `closeWrite`, `close`, `localAddr`, `remoteAddr`,
 * `setNoDelay`, `setKeepAlive`, `ref`, `unref`) and the listener like
 * `Deno.TcpListener` (`accept`, `for await`, `addr`, `close`, `ref`,
 * `unref`), with addresses `{ transport: "tcp", hostname, port }` and
 * failures as `ErrnoError`s (an `Error` whose `code` is an errno name:
 * `ECONNREFUSED`, `ETIMEDOUT`, `ECONNRESET`, `EPIPE`, `ENETUNREACH`,
 * `EADDRINUSE`...). Which stack carries it, as for `listenDatagram`:
 * - the daemon whose prefix `sock` names, else `$SOCK`, else the default
 *   stack, one Unix connection per socket (the socket hop,
 *   `docs/socket-protocol.md`);
 * - or a {@linkcode Stack} embedded in the program (`stack`), with no daemon;
 *   while it has TCP sockets, the library drives that stack's timers.
 *
 * `listen` returns the listener at once, as Deno's does. On an embedded
 * stack it is listening when it returns (a bind failure is thrown there);
 * through a daemon, setup (one round trip) goes on in the background,
 * `accept` waits for it, `listener.ready` tells its outcome, and until then
 * `addr` is the requested address.
 *
 * @example Echo over lo0 of an embedded stack
 * ```ts
 * import { Stack } from "../core/stack.ts";
 * import { connect, listen } from "./stream.ts";
 * const stack = new Stack({ inet6: false, clock: () => performance.now() });
 * const server = listen({ port: 8007, hostname: "127.0.0.1" }, { stack });
 * const client = await connect({ port: 8007 }, { stack });
 * const conn = await server.accept();
 * await client.write(new TextEncoder().encode("hi"));
 * const buf = new Uint8Array(8);
 * const n = (await conn.read(buf))!;
 * console.log(new TextDecoder().decode(buf.subarray(0, n))); // hi
 * client.close();
 * conn.close();
 * server.close();
 * ```
 * @module
 */

import { ErrnoError } from "../core/errno.ts";
import { Endpoint, IpAddr } from "../core/net/inet_addr.ts";
import type { StackChoice } from "./datagram.ts";
import { resolveDns } from "./dns.ts";
import { connectEmbedded, listenEmbedded } from "./embedded_tcp.ts";
import { HopStream } from "./hop_stream.ts";
import type { ListenerBackend, StreamBackend } from "./stream_backend.ts";
import type { TcpOption } from "./tcp_core.ts";

/** A TCP address, as Deno gives it. */
export interface TcpAddr {
  transport: "tcp";
  hostname: string;
  port: number;
}

/** `Deno.connect`'s options, and the stack to use (also accepted as a second argument). */
export interface TcpConnectOptions extends StackChoice {
  port: number;
  /** Default `127.0.0.1`; a name is resolved with {@linkcode resolveDns} through the same stack. */
  hostname?: string;
  transport?: "tcp";
  signal?: AbortSignal;
}

/** `Deno.listen`'s options, and the stack to use (also accepted as a second argument). */
export interface TcpListenOptions extends StackChoice {
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default `0.0.0.0`; an IPv6 literal (`::`, `::1`) makes an IPv6 (dual-stack) socket. */
  hostname?: string;
  transport?: "tcp";
  /** The accept queue's length (bounded by `kern.somaxconn`); Deno's default 511. */
  tcpBacklog?: number;
}

/** A TCP connection shaped like `Deno.TcpConn`. */
export interface TcpConn extends Deno.TcpConn {
  readonly localAddr: TcpAddr;
  readonly remoteAddr: TcpAddr;
}

/** A listening TCP socket shaped like `Deno.TcpListener`, plus `ready`. */
export interface TcpListener extends Deno.Listener<TcpConn, Deno.NetAddr> {
  readonly addr: TcpAddr;
  /**
   * Resolves to this listener once it listens (at once on an embedded stack);
   * rejects with the setup error (`EADDRINUSE`, `EACCES`, no daemon), which
   * `accept` also reports.
   */
  readonly ready: Promise<TcpListener>;
}

/** Deno's default listen backlog. */
const BACKLOG = 511;

/**
 * Opens a TCP connection to `options.hostname`:`options.port` through the
 * stack chosen by `options` (or `via`); resolves once it is established.
 * A name is resolved (A, then AAAA records) and each address tried in turn.
 *
 * @throws {ErrnoError} `ECONNREFUSED`, `ETIMEDOUT`, `ENETUNREACH`,
 *   `EHOSTUNREACH`, `EINVAL` (bad port), `ENOENT`-like DNS failures as thrown
 *   by `resolveDns`; the signal's reason when aborted.
 */
export async function connect(options: TcpConnectOptions, via: StackChoice = {}): Promise<TcpConn> {
  if (options.transport !== undefined && options.transport !== "tcp") {
    throw new TypeError(`Unsupported transport ${options.transport}`);
  }
  const choice = pickStack(options, via);
  const port = checkPort(options.port);
  const signal = options.signal;
  signal?.throwIfAborted();
  const targets = await resolve(options.hostname ?? "127.0.0.1", choice);
  let last: unknown = new ErrnoError("EHOSTUNREACH", "connect");
  for (const addr of targets) {
    const to = new Endpoint();
    to.addr.set(addr);
    to.port = port;
    try {
      const open = choice.stack
        ? connectEmbedded(choice.stack, to, signal)
        : HopStream.connect(choice, to, signal);
      return new Conn(await open);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      last = e;
    }
  }
  throw last;
}

/**
 * Listens on `options.hostname`:`options.port` through the stack chosen by
 * `options` (or `via`). Returns the listener at once, as `Deno.listen` does;
 * see the module for when setup failures show.
 *
 * @throws {ErrnoError} bad address or port (`EINVAL`); on an embedded stack,
 *   `EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`.
 */
export function listen(options: TcpListenOptions = {}, via: StackChoice = {}): TcpListener {
  if (options.transport !== undefined && options.transport !== "tcp") {
    throw new TypeError(`Unsupported transport ${options.transport}`);
  }
  const choice = pickStack(options, via);
  const local = new Endpoint();
  local.addr.set(literal(options.hostname ?? "0.0.0.0"));
  local.port = checkPort(options.port ?? 0);
  const backlog = options.tcpBacklog ?? BACKLOG;
  if (choice.stack) {
    return new Listener(null, listenEmbedded(choice.stack, local, backlog));
  }
  return new Listener(local, HopStream.listen(choice, local, backlog));
}

function pickStack(options: StackChoice, via: StackChoice): StackChoice {
  return {
    stack: options.stack ?? via.stack,
    sock: options.sock ?? via.sock,
    privileged: options.privileged ?? via.privileged,
  };
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ErrnoError("EINVAL", "port");
  return port;
}

/** An address literal (`[v6]` allowed; `localhost` is 127.0.0.1), or null for a name. */
function parseLiteral(text: string): IpAddr | null {
  if (text === "localhost") return IpAddr.parse("127.0.0.1");
  return IpAddr.parse(text.replace(/^\[(.*)\]$/, "$1"));
}

function literal(text: string): IpAddr {
  const a = parseLiteral(text);
  if (a === null) throw new ErrnoError("EINVAL", `address ${text}`);
  return a;
}

/** The addresses to try for `hostname`: itself when a literal, else its A then AAAA records. */
async function resolve(hostname: string, via: StackChoice): Promise<IpAddr[]> {
  const a = parseLiteral(hostname);
  if (a !== null) return [a];
  const opts = { stack: via.stack, sock: via.sock };
  const out: IpAddr[] = [];
  let failure: unknown = null;
  for (const type of ["A", "AAAA"] as const) {
    try {
      for (const text of await resolveDns(hostname, type, opts)) {
        const addr = IpAddr.parse(text);
        if (addr !== null) out.push(addr);
      }
    } catch (e) {
      failure ??= e;
    }
  }
  if (out.length === 0) throw failure ?? new ErrnoError("EHOSTUNREACH", hostname);
  return out;
}

function tcpAddr(ep: Endpoint): TcpAddr {
  return { transport: "tcp", hostname: ep.addr.toString(), port: ep.port };
}

/** A connection over a {@linkcode StreamBackend}. */
class Conn implements TcpConn {
  readonly #b: StreamBackend;
  readonly localAddr: TcpAddr;
  readonly remoteAddr: TcpAddr;
  #closed = false;
  #readable: ReadableStream<Uint8Array<ArrayBuffer>> | null = null;
  #writable: WritableStream<Uint8Array<ArrayBufferLike>> | null = null;

  constructor(backend: StreamBackend) {
    this.#b = backend;
    this.localAddr = tcpAddr(backend.local);
    this.remoteAddr = tcpAddr(backend.remote);
  }

  read(p: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.reject(new ErrnoError("EBADF", "read"));
    if (p.length === 0) return Promise.resolve(0);
    return this.#b.read(p);
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new ErrnoError("EBADF", "write"));
    if (p.length === 0) return Promise.resolve(0);
    return this.#b.write(p);
  }

  closeWrite(): Promise<void> {
    if (this.#closed) return Promise.reject(new ErrnoError("EBADF", "shutdown"));
    return this.#b.closeWrite();
  }

  /** Closes the connection (a FIN after what was written; a reset when unread data waits). */
  close(): void {
    if (this.#closed) throw new ErrnoError("EBADF", "close"); // Deno: BadResource
    this.#closed = true;
    this.#b.close();
  }

  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  /** `TCP_NODELAY` (default true): send small writes at once instead of coalescing them (Nagle). */
  setNoDelay(noDelay = true): void {
    this.#option("TCP_NODELAY", noDelay);
  }

  /** `SO_KEEPALIVE` (default true): probe an idle connection (`TCP_KEEPIDLE` and friends). */
  setKeepAlive(keepAlive = true): void {
    this.#option("SO_KEEPALIVE", keepAlive);
  }

  #option(name: TcpOption, on: boolean): void {
    if (this.#closed) throw new ErrnoError("EBADF", "setsockopt");
    this.#b.setOption(name, on ? 1 : 0);
  }

  ref(): void {
    this.#b.ref();
  }

  unref(): void {
    this.#b.unref();
  }

  /** The bytes as a stream; ends at the peer's FIN; cancelling it closes the connection. */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    this.#readable ??= new ReadableStream({
      type: "bytes",
      autoAllocateChunkSize: 64 * 1024,
      pull: async (controller) => {
        const view = controller.byobRequest!.view!;
        const into = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
        try {
          const n = await this.read(into);
          if (n === null) {
            controller.close();
            controller.byobRequest!.respond(0);
          } else controller.byobRequest!.respond(n);
        } catch (e) {
          controller.error(e);
        }
      },
      cancel: () => {
        if (!this.#closed) this.close();
      },
    });
    return this.#readable;
  }

  /** A sink for bytes; closing it half-closes the connection (a FIN), aborting it closes it. */
  get writable(): WritableStream<Uint8Array<ArrayBufferLike>> {
    this.#writable ??= new WritableStream({
      write: async (chunk) => {
        await this.write(chunk);
      },
      close: () => this.closeWrite(),
      abort: () => {
        if (!this.#closed) this.close();
      },
    });
    return this.#writable;
  }
}

/** A listener over a {@linkcode ListenerBackend}, set up at once or in the background. */
class Listener implements TcpListener {
  #b: ListenerBackend | null = null;
  #pending: Promise<ListenerBackend> | null;
  #addr: TcpAddr;
  #closed = false;
  #unref = false;
  readonly ready: Promise<TcpListener>;

  /** `requested`: the address to show until `setup` resolves (null: `setup` is already done). */
  constructor(requested: Endpoint | null, setup: ListenerBackend | Promise<ListenerBackend>) {
    if (setup instanceof Promise) {
      this.#addr = tcpAddr(requested!);
      this.#pending = setup.then((b) => {
        this.#pending = null;
        if (this.#closed) {
          b.close();
          throw new ErrnoError("EBADF", "listener closed");
        }
        this.#b = b;
        if (this.#unref) b.unref();
        this.#addr = tcpAddr(b.local);
        return b;
      });
      this.#pending.catch(() => {}); // reported by `ready` and `accept`, never unhandled
      this.ready = this.#pending.then(() => this);
      this.ready.catch(() => {});
    } else {
      this.#b = setup;
      this.#pending = null;
      this.#addr = tcpAddr(setup.local);
      this.ready = Promise.resolve(this);
    }
  }

  /** The local address (the port chosen when 0 was asked); through a daemon, the requested one until `ready`. */
  get addr(): TcpAddr {
    return this.#addr;
  }

  async accept(): Promise<TcpConn> {
    if (this.#closed) throw new ErrnoError("EBADF", "accept");
    const b = this.#b ?? await this.#pending!;
    return new Conn(await b.accept());
  }

  /** Closes the listener; pending `accept`s reject with EBADF and iteration ends. */
  close(): void {
    if (this.#closed) throw new ErrnoError("EBADF", "close");
    this.#closed = true;
    this.#b?.close();
  }

  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  ref(): void {
    this.#unref = false;
    this.#b?.ref();
  }

  unref(): void {
    this.#unref = true;
    this.#b?.unref();
  }

  async *[Symbol.asyncIterator](): AsyncIterableIterator<TcpConn> {
    while (!this.#closed) {
      try {
        yield await this.accept();
      } catch (e) {
        if (this.#closed && e instanceof ErrnoError && e.code === "EBADF") return;
        throw e;
      }
    }
  }
}
