/**
 * The daemon's end of the socket hop: one Unix connection per program socket
 * (`core/control/sock_proto.ts`, specified in `docs/socket-protocol.md`).
 *
 * Flow control comes from the kernel and from the core's bounded queues,
 * never from a queue of our own:
 * - program to stack: the connection is read only after the frames already
 *   read went into the stack (a send is one turn: out to the driver, or
 *   dropped and counted there), and not while replies wait to be written, so
 *   a program that writes faster than the stack sends fills its own socket
 *   buffer and waits;
 * - stack to program: datagrams stay in the socket's receive queue in the
 *   core (bounded by `SO_RCVBUF`, overflow counted as `fullsock`) until the
 *   connection has taken the previous batch; one write carries as many
 *   datagrams as fit in a 128 KiB buffer borrowed from a shared pool.
 *
 * A connection that breaks the protocol gets an error frame and is closed;
 * a connection that goes away takes its socket with it. Past `maxSockets`
 * open sockets a new one is refused with ENFILE.
 *
 * @module
 */

import { ErrnoError, errnoNumber } from "../core/errno.ts";
import { Endpoint } from "../core/net/inet_addr.ts";
import type { Stack } from "../core/stack.ts";
import type { UdpHandle } from "../core/socket/udp_handle.ts";
import type { UdpOption } from "../core/socket/udp_socket.ts";
import {
  AF_INET,
  AF_INET6,
  dataFrameLen,
  encodeError,
  encodeReply,
  HOP_ERROR,
  HOP_KIND,
  HOP_OP,
  HOP_VERSION,
  HopDecoder,
  hopOption,
  int32,
  IPPROTO_UDP,
  readInt32,
  readSockaddr,
  SOCK_DGRAM,
  sockaddrBytes,
  SOCKET_REQUEST_BODY,
  writeData,
} from "../core/control/sock_proto.ts";
import type { LogFn } from "./log.ts";
import { isStreamRequest, StreamHopConnection, type Unclaimed } from "./socket_hop_stream.ts";
import { drainUntilClosed, errnoOf, FLUSH_MS } from "./hop_close.ts";

/** The default bound on sockets open at once through the hop. */
export const DEFAULT_MAX_SOCKETS = 4096;
/** Bytes of one write to a program. */
const BATCH = 128 * 1024;
/** Replies waiting to be written beyond which the connection is not read. */
const REPLY_BACKLOG = 64 * 1024;

/**
 * Whether a connection's first four bytes are a socket request's header
 * (`51 00 00 05`): a control frame never starts so (its length would be
 * over 1 GiB, which the control protocol refuses anyway).
 */
export function isHopStart(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === HOP_KIND.request && head[1] === 0 && head[2] === 0 &&
    head[3] === SOCKET_REQUEST_BODY;
}

/** Serves socket connections for one stack. */
export class SocketHopServer {
  readonly stack: Stack;
  readonly maxSockets: number;
  readonly #log: LogFn;
  #open = 0;
  #saidFull = false;
  readonly #pool: Uint8Array[] = [];
  /** Accepted stream sockets waiting for their claim, by token (hex). */
  readonly claims = new Map<string, Unclaimed>();

  constructor(stack: Stack, log: LogFn, opts: { maxSockets?: number } = {}) {
    this.stack = stack;
    this.#log = log;
    this.maxSockets = opts.maxSockets ?? DEFAULT_MAX_SOCKETS;
  }

  /** Sockets open through the hop now. */
  get openSockets(): number {
    return this.#open;
  }

  /**
   * Serves one socket connection whose first bytes (`first`, already read)
   * start a hop stream; resolves when the connection is done.
   */
  serve(conn: Deno.Conn, privileged: boolean, first: Uint8Array): Promise<void> {
    return new HopConnection(this, conn, privileged).run(first);
  }

  /** Counts a new socket; false past the limit. */
  admit(): boolean {
    if (this.#open >= this.maxSockets) {
      if (!this.#saidFull) {
        this.#saidFull = true;
        this.#log(`socket limit (${this.maxSockets}) reached: new sockets refused with ENFILE`);
      }
      return false;
    }
    this.#open++;
    return true;
  }

  /** Uncounts a closed socket. */
  release(): void {
    this.#open--;
  }

  /** A write buffer from the pool. */
  takeBuffer(): Uint8Array {
    return this.#pool.pop() ?? new Uint8Array(BATCH);
  }

  /** Gives a write buffer back (the pool keeps a few). */
  giveBuffer(buf: Uint8Array): void {
    if (this.#pool.length < 16) this.#pool.push(buf);
  }
}

/** One program socket and its connection. */
class HopConnection {
  readonly #server: SocketHopServer;
  readonly #conn: Deno.Conn;
  readonly #privileged: boolean;
  readonly #dec = new HopDecoder(8 * 1024);
  #handle: UdpHandle | null = null;
  /** Replies and error frames waiting for the writer. */
  #ctl: Uint8Array[] = [];
  #ctlBytes = 0;
  #pumping = false;
  #closed = false;
  /** Data frames received, for error frames that name one. */
  #sendSeq = 0;
  readonly #to = new Endpoint();
  readonly #from = new Endpoint();
  /** A datagram taken from the core that did not fit in the last batch. */
  #carry: Uint8Array | null = null;
  readonly #carryFrom = new Endpoint();
  #waiters: (() => void)[] = [];
  /** Set when the socket request asks for a stream socket: `socket_hop_stream.ts` serves it. */
  #stream = false;

  constructor(server: SocketHopServer, conn: Deno.Conn, privileged: boolean) {
    this.#server = server;
    this.#conn = conn;
    this.#privileged = privileged;
  }

  async run(first: Uint8Array): Promise<void> {
    const dec = this.#dec;
    dec.push(first);
    try {
      while (this.#process()) {
        while (this.#ctlBytes > REPLY_BACKLOG && !this.#closed) await this.#wait();
        if (this.#closed) return;
        const room = dec.space();
        const n = await this.#conn.read(room);
        if (n === null) return;
        dec.commit(n);
      }
      if (this.#stream) {
        return await new StreamHopConnection(this.#server, this.#conn, this.#privileged, dec).run();
      }
      // Broke the protocol or was refused: let the last frames out, briefly, then hang up.
      await this.#flushBriefly();
      await this.#drainBriefly();
    } catch {
      // The program went away; nothing to tell it.
    } finally {
      this.#finish();
    }
  }

  /** Handles the frames read so far; false when the connection must close. */
  #process(): boolean {
    const dec = this.#dec;
    while (dec.next()) {
      const kind = dec.kind;
      if (this.#handle === null) {
        if (kind !== HOP_KIND.request || dec.end === dec.start) return this.#broken("EPROTO");
        if (isStreamRequest(dec)) {
          this.#stream = true;
          return false;
        }
        if (!this.#request()) return false;
        continue;
      }
      if (kind === HOP_KIND.data) {
        if (!this.#send()) return false;
      } else if (kind === HOP_KIND.request) {
        if (!this.#request()) return false;
      } else return this.#broken("EPROTO");
    }
    return dec.error === null || this.#broken(dec.error);
  }

  /** One datagram from the program into the stack. */
  #send(): boolean {
    const dec = this.#dec, h = this.#handle!;
    const seq = ++this.#sendSeq;
    const p = readSockaddr(dec.buf, dec.start, dec.end, this.#to);
    if (p === -1) return this.#broken("EPROTO");
    const payload = dec.buf.subarray(p === -2 ? dec.start + 4 : p, dec.end);
    try {
      if (p === -2) h.send(payload);
      else h.sendTo(payload, this.#to.addr, this.#to.port);
    } catch (e) {
      this.#queue(encodeError(HOP_ERROR.send, errnoOf(e), seq));
    }
    return true;
  }

  /** A setup request; false when the connection must close. */
  #request(): boolean {
    const dec = this.#dec, b = dec.buf;
    const op = b[dec.start], at = dec.start + 1, end = dec.end;
    let result: Uint8Array | undefined;
    try {
      if (op === HOP_OP.socket) {
        const refused = this.#open(b, at, end);
        if (refused !== null) {
          this.#queue(encodeReply(op, errnoNumber(refused), undefined));
          return false;
        }
      } else if (this.#handle === null) return this.#broken("EPROTO");
      else result = this.#operate(op, b, at, end);
      this.#queue(encodeReply(op, 0, result));
    } catch (e) {
      this.#queue(encodeReply(op, errnoOf(e)));
    }
    return true;
  }

  /** The `socket` request: null, or why the socket is refused (the connection then closes). */
  #open(b: Uint8Array, at: number, end: number): "EPROTO" | "ENFILE" | "EISCONN" | null {
    if (end - at !== SOCKET_REQUEST_BODY - 1 || b[at] !== HOP_VERSION) return "EPROTO";
    if (this.#handle !== null) return "EISCONN";
    const domain = b[at + 1], type = b[at + 2], proto = b[at + 3];
    if (domain !== AF_INET && domain !== AF_INET6) throw new ErrnoError("EAFNOSUPPORT", "socket");
    if (type !== SOCK_DGRAM) throw new ErrnoError("ESOCKTNOSUPPORT", "socket");
    if (proto !== 0 && proto !== IPPROTO_UDP) throw new ErrnoError("EPROTONOSUPPORT", "socket");
    if (!this.#server.admit()) return "ENFILE";
    try {
      const h = this.#server.stack.openUdp(domain === AF_INET ? 4 : 6, {
        privileged: this.#privileged,
      });
      h.onReadable = () => this.#kick();
      this.#handle = h;
    } catch (e) {
      this.#server.release();
      throw e;
    }
    return null;
  }

  /** Every request but `socket`; returns the reply's result bytes. */
  #operate(op: number, b: Uint8Array, at: number, end: number): Uint8Array | undefined {
    const h = this.#handle!, ep = this.#to;
    switch (op) {
      case HOP_OP.bind: {
        if (readSockaddr(b, at, end, ep) < 0) throw new ErrnoError("EINVAL", "bind");
        h.bind(ep.addr, ep.port);
        return undefined;
      }
      case HOP_OP.connect: {
        const p = readSockaddr(b, at, end, ep);
        if (p === -2) h.disconnect();
        else if (p < 0) throw new ErrnoError("EINVAL", "connect");
        else h.connect(ep.addr, ep.port);
        return undefined;
      }
      case HOP_OP.setsockopt:
      case HOP_OP.getsockopt: {
        if (end - at < 4) throw new ErrnoError("EINVAL", "sockopt");
        const opt = hopOption((b[at] << 8) | b[at + 1], (b[at + 2] << 8) | b[at + 3]);
        if (!opt) throw new ErrnoError("ENOPROTOOPT", "sockopt");
        if (op === HOP_OP.getsockopt) {
          if (opt.member) throw new ErrnoError("EINVAL", "getsockopt");
          return int32(h.getOption(opt.option as UdpOption));
        }
        if (opt.member) this.#membership(opt.member, b, at + 4, end);
        else {
          if (end - at < 8) throw new ErrnoError("EINVAL", "setsockopt");
          h.setOption(opt.option as UdpOption, readInt32(b, at + 4));
        }
        return undefined;
      }
      case HOP_OP.getsockname:
      case HOP_OP.getpeername: {
        const e = op === HOP_OP.getsockname ? h.localAddress() : h.remoteAddress();
        return sockaddrBytes(e);
      }
      default:
        throw new ErrnoError("EOPNOTSUPP", `request ${op}`);
    }
  }

  /** Group membership: interface index (32 bits), the group, then optionally an interface address. */
  #membership(how: "join" | "leave", b: Uint8Array, at: number, end: number): void {
    if (end - at < 4) throw new ErrnoError("EINVAL", "membership");
    let ifIndex = readInt32(b, at) >>> 0;
    const group = new Endpoint();
    const p = readSockaddr(b, at + 4, end, group);
    if (p < 0) throw new ErrnoError("EINVAL", "membership");
    if (ifIndex === 0 && p < end) {
      const iface = new Endpoint();
      const q = readSockaddr(b, p, end, iface);
      if (q === -1) throw new ErrnoError("EINVAL", "membership");
      if (q > 0 && !iface.addr.isUnspecified) ifIndex = this.#indexOf(iface.addr.toString());
    }
    if (how === "join") this.#handle!.joinGroup(group.addr, ifIndex);
    else this.#handle!.leaveGroup(group.addr, ifIndex);
  }

  /** The index of the interface holding address `addr` (IP_ADD_MEMBERSHIP's `imr_interface`). */
  #indexOf(addr: string): number {
    for (const i of this.#server.stack.ifInfo()) {
      if (i.addrs.some((a) => a.addr === addr)) return i.index;
    }
    throw new ErrnoError("EADDRNOTAVAIL", "membership interface");
  }

  /** Queues an error frame saying why the stream is unusable; returns false. */
  #broken(errno: "EPROTO" | "EMSGSIZE"): false {
    this.#queue(encodeError(HOP_ERROR.protocol, errnoNumber(errno), this.#sendSeq));
    return false;
  }

  #queue(frame: Uint8Array): void {
    this.#ctl.push(frame);
    this.#ctlBytes += frame.length;
    this.#kick();
  }

  #kick(): void {
    if (!this.#pumping && !this.#closed) this.#pump();
  }

  /** Writes replies, then datagrams, in batches, until nothing waits. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    const server = this.#server;
    try {
      while (!this.#closed) {
        const buf = server.takeBuffer();
        try {
          const n = this.#fill(buf);
          if (n === 0) break;
          let off = 0;
          while (off < n) off += await this.#conn.write(buf.subarray(off, n));
        } finally {
          server.giveBuffer(buf);
        }
        this.#wakeWaiters();
      }
    } catch {
      this.#closed = true; // the reader sees the closed connection and finishes
      try {
        this.#conn.close();
      } catch { /* already closed */ }
    } finally {
      this.#pumping = false;
      this.#wakeWaiters();
    }
  }

  /** Fills `buf` with waiting frames; returns the bytes used. */
  #fill(buf: Uint8Array): number {
    let at = 0;
    const ctl = this.#ctl;
    let i = 0;
    while (i < ctl.length && at + ctl[i].length <= buf.length) {
      buf.set(ctl[i], at);
      at += ctl[i].length;
      this.#ctlBytes -= ctl[i].length;
      i++;
    }
    if (i > 0) this.#ctl = i === ctl.length ? [] : ctl.slice(i);
    const h = this.#handle;
    if (h === null || this.#ctl.length > 0) return at;
    if (this.#carry !== null) {
      if (at + dataFrameLen(this.#carryFrom, this.#carry.length) > buf.length) return at;
      at = writeData(buf, at, this.#carryFrom, this.#carry);
      this.#carry = null;
    }
    const from = this.#from;
    while (h.pending > 0) {
      const d = h.receive(from)!;
      if (at + dataFrameLen(from, d.length) > buf.length) {
        this.#carry = d;
        this.#carryFrom.set(from);
        return at;
      }
      at = writeData(buf, at, from, d);
    }
    const err = h.state.error;
    if (err !== null && at + 12 <= buf.length) {
      h.state.error = null;
      const frame = encodeError(HOP_ERROR.socket, errnoNumber(err), 0);
      buf.set(frame, at);
      at += frame.length;
    }
    return at;
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wakeWaiters(): void {
    const w = this.#waiters;
    if (w.length === 0) return;
    this.#waiters = [];
    for (const fn of w) fn();
  }

  /** Waits (at most {@linkcode FLUSH_MS}) for the writer to empty. */
  async #flushBriefly(): Promise<void> {
    const deadline = Date.now() + FLUSH_MS;
    while ((this.#pumping || this.#ctl.length > 0) && !this.#closed && Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#wait(),
        new Promise<void>((r) => timer = setTimeout(r, deadline - Date.now())),
      ]);
      clearTimeout(timer);
    }
  }

  /**
   * Half-closes, then reads and drops what the program still sends (bounded
   * in time and bytes) until it closes: closing with unread input would make
   * the kernel reset the connection, and the program could see ECONNRESET
   * before the frame that says why (ENFILE, EPROTO).
   */
  async #drainBriefly(): Promise<void> {
    if (this.#closed) return;
    await drainUntilClosed(this.#conn, Date.now() + FLUSH_MS);
  }

  /** Frees the socket and the connection. */
  #finish(): void {
    this.#closed = true;
    if (this.#handle !== null) {
      this.#handle.close();
      this.#handle = null;
      this.#server.release();
    }
    this.#carry = null;
    this.#wakeWaiters();
  }
}
