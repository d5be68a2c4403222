/**
 * A TCP socket as a program (or the daemon's socket server) holds it: the
 * API edge of the TCP socket layer. Every call runs as one turn of the
 * stack and throws an {@linkcode ErrnoError} on failure; nothing blocks:
 * `read` and `write` move what they can now, and `onEvent` says when more
 * is possible (bits of {@linkcode TCP_EVENT}).
 *
 * @example A connection over lo0
 * ```ts
 * import { Stack } from "../stack.ts";
 * const stack = new Stack({ inet6: false });
 * const server = stack.openTcp(4);
 * server.bind("127.0.0.1", 7000);
 * server.listen(5);
 * const client = stack.openTcp(4);
 * client.connect("127.0.0.1", 7000);
 * const conn = server.accept()!; // the handshake ran within the call, over lo0
 * client.write(new TextEncoder().encode("hi"));
 * const buf = new Uint8Array(16);
 * console.log(new TextDecoder().decode(buf.subarray(0, conn.read(buf)))); // "hi"
 * ```
 * @module
 */

import { type Errno, ErrnoError, errnoNumber } from "../errno.ts";
import { Endpoint, IpAddr, type IpFamily } from "../net/inet_addr.ts";
import { addrArgument, shownEndpoint } from "./sock_addr.ts";
import type { TcpConnection } from "../transport/tcp/tcb.ts";
import type { StackTurns } from "./udp_handle.ts";
import type { TcpOption, TcpSockets } from "./tcp_sockets.ts";

export { TCP_EVENT } from "../transport/tcp/tcb.ts";
export type { TcpOption } from "./tcp_sockets.ts";

/** An address argument: an {@linkcode IpAddr}, or its text. */
export type TcpAddrLike = IpAddr | string;

/** One TCP socket of a stack. */
export class TcpHandle {
  readonly #turns: StackTurns;
  readonly #tcp: TcpSockets;
  readonly #c: TcpConnection;

  /** @internal Made by the stack (`Stack.openTcp`, `StackCore.tcp.open`, `accept`). */
  constructor(turns: StackTurns, tcp: TcpSockets, c: TcpConnection) {
    this.#turns = turns;
    this.#tcp = tcp;
    this.#c = c;
  }

  /** 4 (AF_INET) or 6 (AF_INET6). */
  get family(): IpFamily {
    return this.#c.family;
  }

  /** The state's NetBSD name (`ESTABLISHED`...). */
  get state(): string {
    return this.#c.stateName;
  }

  /** Whether the connection is gone (closed, reset, timed out) or was closed by its owner. */
  get closed(): boolean {
    return this.#c.dead || this.#c.userClosed;
  }

  /** Called after a turn with the events that happened (bits of `TCP_EVENT`); it may call back in. */
  set onEvent(fn: ((events: number) => void) | null) {
    this.#c.onEvent = fn;
    if (fn !== null && this.#c.events !== 0) this.#turns.run(() => this.#c.post(0, this.#wakes()));
  }

  /** Bytes `read` can take now. */
  get readableBytes(): number {
    return this.#c.readable;
  }

  /** Room in the send buffer. */
  get writableBytes(): number {
    return this.#c.dead || this.#c.finQueued ? 0 : this.#c.send.space;
  }

  /** Bytes written and not yet acknowledged by the peer (Send-Q). */
  get unacknowledgedBytes(): number {
    return this.#c.send.length;
  }

  /** Whether the peer closed its side (a `read` after the bytes held reports the end). */
  get peerClosed(): boolean {
    return this.#c.rcvFinDone;
  }

  /** The pending error (SO_ERROR), without taking it. */
  get error(): Errno | null {
    return this.#c.error;
  }

  /** `bind(2)`: `addr` null is the wildcard, `port` 0 an ephemeral port. */
  bind(addr: TcpAddrLike | null = null, port = 0): void {
    const a = addr === null ? null : addrArgument(addr);
    this.#check(this.#turns.run(() => this.#tcp.bind(this.#c, a, port)), "bind");
  }

  /** `listen(2)`; the backlog is capped by `kern.somaxconn`. */
  listen(backlog = 128): void {
    this.#check(this.#turns.run(() => this.#tcp.listen(this.#c, backlog)), "listen");
  }

  /** `accept(2)` without blocking: the next established connection, or null. */
  accept(): TcpHandle | null {
    const r = this.#turns.run(() => this.#tcp.accept(this.#c));
    if (r === null) return null;
    if (typeof r === "string") throw new ErrnoError(r, "accept");
    return new TcpHandle(this.#turns, this.#tcp, r);
  }

  /** `connect(2)` without blocking: the handshake starts; `CONNECTED` or `ERROR` follows. */
  connect(addr: TcpAddrLike, port: number): void {
    const a = addrArgument(addr);
    this.#check(this.#turns.run(() => this.#tcp.connect(this.#c, a, port)), "connect");
  }

  /** Whether the handshake completed (and the connection has not ended since). */
  get connected(): boolean {
    const s = this.#c.state;
    return s >= 4 && !this.#c.dead;
  }

  /** Copies what fits of `data` into the send buffer; the count taken (0: full, wait for `WRITABLE`). */
  write(data: Uint8Array, from = 0, length: number = data.length - from): number {
    const r = this.#turns.run(() => this.#tcp.write(this.#c, data, from, length));
    if (typeof r === "string") throw new ErrnoError(r, "write");
    return r;
  }

  /** Copies received bytes into `dst`: the count, 0 when none waits, -1 at the end of the stream. */
  read(dst: Uint8Array, at = 0, max: number = dst.length - at): number {
    const r = this.#turns.run(() => this.#tcp.read(this.#c, dst, at, max));
    if (typeof r === "string") throw new ErrnoError(r, "read");
    return r;
  }

  /** `shutdown(SHUT_WR)`: the peer reads the end after the bytes queued. */
  shutdownWrite(): void {
    this.#check(this.#turns.run(() => this.#tcp.shutdownWrite(this.#c)), "shutdown");
  }

  /** Closes: a FIN after the queued bytes, or a reset with `SO_LINGER` 0 or unread data. Twice does nothing. */
  close(): void {
    this.#turns.run(() => this.#tcp.close(this.#c));
  }

  /** Resets the connection and frees it at once. */
  abort(): void {
    this.#turns.run(() => this.#tcp.abort(this.#c));
  }

  /** `setsockopt(2)`; booleans as true/false or 1/0. */
  setOption(name: TcpOption, value: number | boolean): void {
    const v = typeof value === "boolean" ? (value ? 1 : 0) : value;
    this.#check(this.#turns.run(() => this.#tcp.setOption(this.#c, name, v)), `setsockopt ${name}`);
  }

  /** `getsockopt(2)`; `SO_ERROR` gives the pending error's number (0: none) and clears it. */
  getOption(name: TcpOption): number {
    if (name === "SO_ERROR") {
      const err = this.#c.error;
      this.#c.error = null;
      return err === null ? 0 : errnoNumber(err);
    }
    const v = this.#tcp.getOption(this.#c, name);
    if (typeof v !== "number") throw new ErrnoError(v, `getsockopt ${name}`);
    return v;
  }

  /** `TCP_CONGESTION`: the congestion control of this socket ("newreno", "cubic"). */
  setCongestion(name: string): void {
    this.#check(
      this.#turns.run(() => this.#tcp.setCongestion(this.#c, name)),
      "setsockopt TCP_CONGESTION",
    );
  }

  /** The congestion control in use (or to be used). */
  get congestion(): string {
    return this.#c.cc?.name ?? this.#c.ccName ?? this.#tcp.protocol.settings.congestion;
  }

  /** `getsockname(2)`: a new endpoint in the socket's family. */
  get local(): Endpoint {
    return shownEndpoint(this.#c.family, this.#c.local);
  }

  /** `getpeername(2)`: a new endpoint (port 0 before connect). */
  get remote(): Endpoint {
    return shownEndpoint(this.#c.family, this.#c.remote);
  }

  /** The control block, for tools and white-box tests. */
  get connection(): TcpConnection {
    return this.#c;
  }

  #wakes() {
    return this.#tcp.protocol.ctx.wakes;
  }

  #check(err: Errno | null, what: string): void {
    if (err !== null) throw new ErrnoError(err, what);
  }
}
