/**
 * A UDP socket as a program (or the daemon's socket server) holds it: the
 * API edge of the socket layer. Every call runs as one turn of the stack
 * (so a send to 127.0.0.1 is delivered, and the receiver woken, before the
 * call returns) and throws an {@linkcode ErrnoError} on failure; below this
 * edge errors are errno names, never exceptions.
 *
 * Addresses are {@linkcode IpAddr}s or text (`"192.0.2.1"`, `"2001:db8::1"`,
 * `"fe80::1%2"` with a numeric zone). An IPv6 socket that is not
 * `IPV6_V6ONLY` also talks IPv4, shown as `::ffff:a.b.c.d`.
 *
 * @example Two sockets on one stack, over lo0
 * ```ts
 * import { Stack } from "../stack.ts";
 * const stack = new Stack({ inet6: false });
 * const server = stack.openUdp(4);
 * server.bind("127.0.0.1", 7);
 * const got: string[] = [];
 * server.onReadable = () => {
 *   for (let d = server.receive(); d !== null; d = server.receive()) got.push(new TextDecoder().decode(d));
 * };
 * const client = stack.openUdp(4);
 * client.sendTo(new TextEncoder().encode("hi"), "127.0.0.1", 7);
 * console.log(got); // ["hi"]
 * ```
 * @module
 */

import { type Errno, ErrnoError, errnoNumber } from "../errno.ts";
import { Endpoint, IpAddr, type IpFamily } from "../net/inet_addr.ts";
import { addrArgument, shownEndpoint } from "./sock_addr.ts";
import type { UdpSockets } from "./udp_sockets.ts";
import type { UdpOption, UdpSocket } from "./udp_socket.ts";

/** How the socket layer enters the stack: one turn per call. */
export interface StackTurns {
  run<T>(fn: () => T): T;
}

/** An address argument: an {@linkcode IpAddr}, or its text. */
export type UdpAddrLike = IpAddr | string;

/** One UDP socket of a stack. */
export class UdpHandle {
  readonly #turns: StackTurns;
  readonly #udp: UdpSockets;
  readonly #s: UdpSocket;
  readonly #from = new Endpoint();

  /** @internal Made by the stack (`StackCore.udp.open`, `Stack.openUdp`). */
  constructor(turns: StackTurns, udp: UdpSockets, sock: UdpSocket) {
    this.#turns = turns;
    this.#udp = udp;
    this.#s = sock;
  }

  /** 4 (AF_INET) or 6 (AF_INET6). */
  get family(): IpFamily {
    return this.#s.family;
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#s.closed;
  }

  /**
   * Called after a turn in which datagrams (or an ICMP error) arrived; read
   * them with {@linkcode receive}. It may send or close.
   */
  set onReadable(fn: (() => void) | null) {
    this.#s.onWake = fn;
  }

  /** Datagrams waiting to be received. */
  get pending(): number {
    return this.#s.queuedDatagrams;
  }

  /** Bytes charged to the receive buffer (Recv-Q). */
  get pendingBytes(): number {
    return this.#s.queuedBytes;
  }

  /** `bind(2)`: `addr` absent or null is the wildcard, `port` 0 an ephemeral port. */
  bind(addr: UdpAddrLike | null = null, port = 0): void {
    const a = addr === null ? null : addrArgument(addr);
    this.#check(this.#turns.run(() => this.#udp.bind(this.#s, a, port)), "bind");
  }

  /** `connect(2)`: only `addr`:`port` may send to it, and `send` needs no address. */
  connect(addr: UdpAddrLike, port: number): void {
    const a = addrArgument(addr);
    this.#check(this.#turns.run(() => this.#udp.connect(this.#s, a, port)), "connect");
  }

  /** `connect(2)` with AF_UNSPEC: forgets the peer. */
  disconnect(): void {
    this.#check(this.#turns.run(() => this.#udp.disconnect(this.#s)), "disconnect");
  }

  /** Sends to the connected peer; returns the bytes sent. */
  send(data: Uint8Array): number {
    this.#check(this.#turns.run(() => this.#udp.send(this.#s, data, null, 0)), "send");
    return data.length;
  }

  /** `sendto(2)`; returns the bytes sent. */
  sendTo(data: Uint8Array, addr: UdpAddrLike, port: number): number {
    const a = addrArgument(addr);
    this.#check(this.#turns.run(() => this.#udp.send(this.#s, data, a, port)), "sendto");
    return data.length;
  }

  /**
   * `recvfrom(2)` without blocking: the oldest datagram (a copy the caller
   * owns) with its source in `from`, or null when none waits. With nothing
   * queued, a pending error (ECONNREFUSED after a port unreachable...) is
   * thrown and cleared instead.
   */
  receive(from?: Endpoint): Uint8Array | null {
    const s = this.#s;
    if (s.closed) throw new ErrnoError("EBADF", "recvfrom");
    const d = s.dequeue(from ?? this.#from);
    if (d !== null) return d;
    const err = s.error;
    if (err !== null) {
      s.error = null;
      throw new ErrnoError(err, "recvfrom");
    }
    return null;
  }

  /** The source of the datagram the last {@linkcode receive} without `from` returned. */
  get lastSource(): Endpoint {
    return this.#from;
  }

  /** `setsockopt(2)`; booleans as true/false or 1/0. */
  setOption(name: UdpOption, value: number | boolean): void {
    const v = typeof value === "boolean" ? (value ? 1 : 0) : value;
    this.#check(this.#turns.run(() => this.#udp.setOption(this.#s, name, v)), `setsockopt ${name}`);
  }

  /** `getsockopt(2)`; `SO_ERROR` gives the pending error's number (0: none) and clears it. */
  getOption(name: UdpOption): number {
    if (name === "SO_ERROR") {
      const err = this.#s.error;
      this.#s.error = null;
      return err === null ? 0 : errnoNumber(err);
    }
    const v = this.#udp.getOption(this.#s, name);
    if (typeof v !== "number") throw new ErrnoError(v, `getsockopt ${name}`);
    return v;
  }

  /** `IP_ADD_MEMBERSHIP` / `IPV6_JOIN_GROUP` on interface `ifIndex` (0: the route's). */
  joinGroup(group: UdpAddrLike, ifIndex = 0): void {
    const g = addrArgument(group);
    this.#check(this.#turns.run(() => this.#udp.joinGroup(this.#s, g, ifIndex)), "join group");
  }

  /** `IP_DROP_MEMBERSHIP` / `IPV6_LEAVE_GROUP`. */
  leaveGroup(group: UdpAddrLike, ifIndex = 0): void {
    const g = addrArgument(group);
    this.#check(this.#turns.run(() => this.#udp.leaveGroup(this.#s, g, ifIndex)), "leave group");
  }

  /** `getsockname(2)`: a new endpoint (port 0 while unbound). */
  localAddress(): Endpoint {
    return shownEndpoint(this.#s.family, this.#s.local);
  }

  /** `getpeername(2)`: a new endpoint; ENOTCONN when not connected. */
  remoteAddress(): Endpoint {
    if (!this.#s.connected) throw new ErrnoError("ENOTCONN", "getpeername");
    return shownEndpoint(this.#s.family, this.#s.remote);
  }

  /** Closes the socket (its port is free again at once). Closing twice does nothing. */
  close(): void {
    this.#turns.run(() => this.#udp.close(this.#s));
  }

  /** The socket's state, for tools and white-box tests. */
  get state(): UdpSocket {
    return this.#s;
  }

  #check(err: Errno | null, what: string): void {
    if (err !== null) throw new ErrnoError(err, what);
  }
}
