/**
 * The daemon's end of the socket hop for stream (TCP) sockets: one Unix
 * connection per program socket, set up by requests (bind, listen, connect,
 * accept, claim, options), then carrying the socket's bytes in data frames
 * (`docs/socket-protocol.md`, "Stream sockets").
 *
 * Backpressure both ways, with no queue of our own beyond one read buffer:
 * - program to stack: a data frame goes into the core's send buffer as far
 *   as it has room (`TcpHandle.write`); the rest waits in the decoder's
 *   buffer, and the connection is not read again, until a WRITABLE event. So
 *   a peer that reads slowly fills the core's send buffer, then this
 *   connection's, then the program's writes wait.
 * - stack to program: bytes are taken from the core (`TcpHandle.read`) only
 *   into a 256 KiB write buffer (four full data frames; borrowed from a
 *   small pool while the write is in flight), and only once the previous
 *   write to the connection completed. 256 KiB rather than the datagram
 *   side's 128 KiB: it cut the daemon's CPU per MB by a third. A program that reads slowly
 *   leaves them in the core's receive buffer, whose window closes.
 *
 * Accept hands a connection over by token: the listener's connection asks
 * (`accept`), the daemon takes a socket from the core's accept queue, keeps
 * it under a random 64-bit token and answers with the token and both
 * addresses; the program opens a new hop connection whose `claim` request
 * names the token. An unclaimed socket is closed after
 * {@linkcode CLAIM_MS}, or with its listener's connection.
 *
 * @module
 */

import { type Errno, ErrnoError, errnoNumber } from "../core/errno.ts";
import { Endpoint } from "../core/net/inet_addr.ts";
import {
  AF_INET,
  AF_INET6,
  encodeError,
  encodeReply,
  HOP_ERROR,
  HOP_HEADER,
  HOP_KIND,
  HOP_OP,
  HOP_STREAM_MAX_DATA,
  HOP_TOKEN,
  HOP_VERSION,
  type HopDecoder,
  hopOption,
  int32,
  IPPROTO_TCP,
  readInt32,
  readSockaddr,
  SOCK_STREAM,
  sockaddrBytes,
  sockaddrLen,
  SOCKET_REQUEST_BODY,
  writeHopHeader,
  writeSockaddr,
} from "../core/control/sock_proto.ts";
import { openTcp, TCP_EVENT, type TcpHandle, type TcpOption } from "../libsocket/tcp_core.ts";
import type { SocketHopServer } from "./socket_hop.ts";
import { drainUntilClosed, errnoOf, FLUSH_MS } from "./hop_close.ts";

/** How long an accepted socket waits for its claim. */
export const CLAIM_MS = 10_000;
/** Replies waiting to be written beyond which the connection is not read. */
const REPLY_BACKLOG = 64 * 1024;
/** Decoder size beyond which a connection waiting on connect or accept is not read. */
const READ_AHEAD = 64 * 1024;
/** Bytes of one write to a program: four full data frames. */
const STREAM_BATCH = 4 * (HOP_HEADER + HOP_STREAM_MAX_DATA);
/** Write buffers lent to pumps while a write is in flight (a few kept). */
const streamBuffers: Uint8Array[] = [];
/** How long bytes a program wrote before hanging up may wait for room in the core. */
const LINGER_MS = 10_000;

/** An accepted socket waiting for its claim. */
export interface Unclaimed {
  handle: TcpHandle;
  owner: StreamHopConnection;
  timer: ReturnType<typeof setTimeout>;
}

/** What `#operate` returns for a request it answers itself (now or once the core has the answer). */
const ANSWERED = Symbol("answered");

/** What a request waits on before its reply. */
const Pending = { none: 0, connect: 1, accept: 2 } as const;

/** One program stream socket and its connection. */
export class StreamHopConnection {
  readonly #server: SocketHopServer;
  readonly #conn: Deno.Conn;
  readonly #privileged: boolean;
  readonly #dec: HopDecoder;
  #family: 4 | 6 = 4;
  #h: TcpHandle | null = null;
  #admitted = false;
  #connected = false;
  #pending: number = Pending.none;
  /** The part of the current data frame the core has not taken: `dec.buf[restAt, restEnd)`. */
  #restAt = 0;
  #restEnd = 0;
  /** After the socket's fatal error: data frames are dropped (the program hears the error). */
  #discard = false;
  #errorSent = false;
  #eofSent = false;
  #ctl: Uint8Array[] = [];
  #ctlBytes = 0;
  #pumping = false;
  #closed = false;
  #hungUp = false;
  /** Close with a reset: the program went away with received bytes unread. */
  #abortOnClose = false;
  #reading = false;
  #readReady = false;
  #readResult: number | null = 0;
  #kicked = false;
  #wakeLoop: (() => void) | null = null;
  readonly #unclaimed = new Set<string>();
  readonly #ep = new Endpoint();
  readonly #onEvent = (events: number) => this.#event(events);

  constructor(server: SocketHopServer, conn: Deno.Conn, privileged: boolean, dec: HopDecoder) {
    this.#server = server;
    this.#conn = conn;
    this.#privileged = privileged;
    this.#dec = dec;
  }

  /** Serves the connection; the decoder's current frame is its `socket` request. */
  async run(): Promise<void> {
    try {
      if (!this.#socket()) {
        await this.#hangUpGently();
        return;
      }
      let lingerUntil = Infinity;
      for (;;) {
        if (!this.#process()) {
          await this.#hangUpGently();
          return;
        }
        if (this.#closed) return;
        if (this.#hungUp) {
          // Bytes the program wrote before it went: into the core while there is room, briefly.
          if (this.#restEnd === this.#restAt || this.#discard || this.#pending !== Pending.none) {
            return;
          }
          lingerUntil = Math.min(lingerUntil, Date.now() + LINGER_MS);
          if (Date.now() > lingerUntil) return;
          await this.#nextKick(lingerUntil - Date.now());
          continue;
        }
        if (!this.#reading && this.#mayRead()) this.#startRead();
        await this.#nextKick();
        if (this.#readReady) {
          this.#readReady = false;
          if (this.#readResult === null) this.#hungUp = true;
          else this.#dec.commit(this.#readResult);
        }
      }
    } finally {
      this.#finish();
    }
  }

  /**
   * Whether to read more: not while data waits for the core (its bytes are in
   * the decoder's buffer) or replies pile up; while connect or accept waits,
   * only to notice a hang-up, so not once the buffer has grown past
   * {@linkcode READ_AHEAD}.
   */
  #mayRead(): boolean {
    if (this.#restEnd > this.#restAt || this.#ctlBytes > REPLY_BACKLOG) return false;
    return this.#pending === Pending.none || this.#dec.buf.length <= READ_AHEAD;
  }

  #startRead(): void {
    this.#reading = true;
    this.#conn.read(this.#dec.space()).then(
      (n) => this.#readDone(n ?? null),
      () => {
        // The program closed with bytes it had not read (the kernel resets the Unix
        // connection then): a reset for the peer too, as BSD does.
        this.#abortOnClose = true;
        this.#readDone(null);
      },
    );
  }

  #readDone(n: number | null): void {
    this.#reading = false;
    this.#readReady = true;
    this.#readResult = n;
    this.#kick();
  }

  /** Wakes the run loop (after an event, a completed read or write). */
  #kick(): void {
    this.#kicked = true;
    const w = this.#wakeLoop;
    if (w !== null) {
      this.#wakeLoop = null;
      w();
    }
  }

  #nextKick(timeoutMs?: number): Promise<void> {
    if (this.#kicked) {
      this.#kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (timeoutMs !== undefined) timer = setTimeout(() => this.#kick(), timeoutMs);
      this.#wakeLoop = () => {
        clearTimeout(timer);
        this.#kicked = false;
        resolve();
      };
    });
  }

  /** The `socket` request; false when refused (the connection then closes). */
  #socket(): boolean {
    const dec = this.#dec, b = dec.buf, at = dec.start + 1;
    let refusal: Errno | null = null;
    if (dec.end - dec.start !== SOCKET_REQUEST_BODY || b[at] !== HOP_VERSION) refusal = "EPROTO";
    else if (b[at + 1] !== AF_INET && b[at + 1] !== AF_INET6) refusal = "EAFNOSUPPORT";
    else if (b[at + 3] !== 0 && b[at + 3] !== IPPROTO_TCP) refusal = "EPROTONOSUPPORT";
    else if (b[at + 1] === AF_INET6 && !this.#server.stack.inet6) refusal = "EAFNOSUPPORT";
    else if (!this.#server.admit()) refusal = "ENFILE";
    this.#queue(encodeReply(HOP_OP.socket, refusal === null ? 0 : errnoNumber(refusal)));
    if (refusal !== null) return false;
    this.#admitted = true;
    this.#family = b[at + 1] === AF_INET ? 4 : 6;
    return true;
  }

  /** The socket, opened on first use (a connection that claims one never opens its own). */
  #handle(): TcpHandle {
    if (this.#h === null) {
      this.#h = openTcp(this.#server.stack, this.#family, this.#privileged);
      this.#h.onEvent = this.#onEvent;
    }
    return this.#h;
  }

  /** Handles frames until one must wait; false when the connection must close. */
  #process(): boolean {
    if (this.#restEnd > this.#restAt && !this.#pushRest()) return true;
    const dec = this.#dec;
    while (this.#pending === Pending.none && this.#restEnd === this.#restAt && dec.next()) {
      if (dec.kind === HOP_KIND.data) {
        if (!this.#data()) return false;
      } else if (dec.kind === HOP_KIND.request) {
        this.#request();
      } else return this.#broken("EPROTO");
    }
    return dec.error === null || this.#broken(dec.error);
  }

  /** A data frame: bytes for the core, or (empty) the program's half-close. */
  #data(): boolean {
    const dec = this.#dec;
    if (!this.#connected) return this.#broken("EPROTO");
    if (this.#discard) return true;
    if (dec.end === dec.start) {
      try {
        this.#h!.shutdownWrite();
      } catch (e) {
        this.#socketError(e);
      }
      return true;
    }
    this.#restAt = dec.start;
    this.#restEnd = dec.end;
    this.#pushRest();
    return true;
  }

  /** Writes the rest of the current data frame into the core; false while it has no room. */
  #pushRest(): boolean {
    const h = this.#h!, buf = this.#dec.buf;
    while (this.#restAt < this.#restEnd) {
      let n: number;
      try {
        n = h.write(buf.subarray(this.#restAt, this.#restEnd));
      } catch (e) {
        this.#socketError(e);
        this.#restAt = this.#restEnd = 0;
        return true;
      }
      if (n === 0) return false;
      this.#restAt += n;
    }
    this.#restAt = this.#restEnd = 0;
    return true;
  }

  /** A request; its reply is queued now, or (connect, accept) once the core has the answer. */
  #request(): void {
    const dec = this.#dec, b = dec.buf;
    const op = b[dec.start], at = dec.start + 1, end = dec.end;
    try {
      const result = this.#operate(op, b, at, end);
      if (result !== ANSWERED) this.#queue(encodeReply(op, 0, result));
    } catch (e) {
      this.#queue(encodeReply(op, errnoOf(e)));
    }
  }

  /** Every request but `socket`; returns the reply's result bytes. */
  #operate(
    op: number,
    b: Uint8Array,
    at: number,
    end: number,
  ): Uint8Array | undefined | typeof ANSWERED {
    const ep = this.#ep;
    switch (op) {
      case HOP_OP.bind: {
        if (readSockaddr(b, at, end, ep) < 0) throw new ErrnoError("EINVAL", "bind");
        this.#handle().bind(ep.addr, ep.port);
        return undefined;
      }
      case HOP_OP.listen: {
        this.#handle().listen(end - at >= 4 ? readInt32(b, at) : 0);
        return undefined;
      }
      case HOP_OP.connect: {
        if (readSockaddr(b, at, end, ep) < 0) throw new ErrnoError("EINVAL", "connect");
        const h = this.#handle();
        h.connect(ep.addr, ep.port);
        this.#pending = Pending.connect;
        this.#connectDone(); // over lo0 the handshake may be over already
        return ANSWERED;
      }
      case HOP_OP.accept: {
        if (this.#h === null || this.#h.state !== "LISTEN") {
          throw new ErrnoError("EINVAL", "accept");
        }
        this.#pending = Pending.accept;
        this.#acceptNext();
        return ANSWERED;
      }
      case HOP_OP.claim: {
        if (this.#h !== null) throw new ErrnoError("EISCONN", "claim");
        if (end - at !== HOP_TOKEN) throw new ErrnoError("EINVAL", "claim");
        const key = tokenKey(b.subarray(at, end));
        const u = this.#server.claims.get(key);
        if (u === undefined) throw new ErrnoError("ENOENT", "claim");
        clearTimeout(u.timer);
        this.#server.claims.delete(key);
        u.owner.#unclaimed.delete(key);
        this.#server.release(); // this connection was counted by its `socket` request
        this.#h = u.handle;
        this.#h.onEvent = this.#onEvent;
        this.#connected = true;
        // The reply first, then the bytes (or a FIN) that came before the claim.
        this.#queue(encodeReply(HOP_OP.claim, 0));
        return ANSWERED;
      }
      case HOP_OP.setsockopt:
      case HOP_OP.getsockopt: {
        if (end - at < 4) throw new ErrnoError("EINVAL", "sockopt");
        const opt = hopOption((b[at] << 8) | b[at + 1], (b[at + 2] << 8) | b[at + 3]);
        if (!opt || opt.member) throw new ErrnoError("ENOPROTOOPT", "sockopt");
        const name = opt.option as TcpOption;
        if (op === HOP_OP.getsockopt) return int32(this.#handle().getOption(name));
        if (end - at < 8) throw new ErrnoError("EINVAL", "setsockopt");
        this.#handle().setOption(name, readInt32(b, at + 4));
        return undefined;
      }
      case HOP_OP.getsockname:
      case HOP_OP.getpeername: {
        const h = this.#handle();
        if (op === HOP_OP.getpeername && !this.#connected) {
          throw new ErrnoError("ENOTCONN", "getpeername");
        }
        return sockaddrBytes(op === HOP_OP.getsockname ? h.local : h.remote);
      }
      default:
        throw new ErrnoError("EOPNOTSUPP", `request ${op}`);
    }
  }

  #event(events: number): void {
    if (this.#pending === Pending.connect) this.#connectDone();
    else if (this.#pending === Pending.accept) this.#acceptNext();
    if (events & (TCP_EVENT.WRITABLE | TCP_EVENT.ERROR | TCP_EVENT.CLOSED)) this.#kick();
    if (events & (TCP_EVENT.READABLE | TCP_EVENT.EOF | TCP_EVENT.ERROR | TCP_EVENT.CLOSED)) {
      this.#kickPump();
    }
  }

  /** Answers a pending connect once the handshake is over: both addresses, or its error. */
  #connectDone(): void {
    const h = this.#h!;
    if (!h.connected && !h.closed && h.error === null) return; // still in the handshake
    this.#pending = Pending.none;
    const err = h.getOption("SO_ERROR"); // taken: the attempt is over
    if (err === 0 && h.connected) {
      this.#connected = true;
      const out = new Uint8Array(sockaddrLen(h.local) + sockaddrLen(h.remote));
      writeSockaddr(out, writeSockaddr(out, 0, h.local), h.remote);
      this.#queue(encodeReply(HOP_OP.connect, 0, out));
      this.#kickPump();
    } else {
      this.#queue(encodeReply(HOP_OP.connect, err !== 0 ? err : errnoNumber("ECONNABORTED")));
    }
    this.#kick();
  }

  /** Answers a pending accept once a connection waits: its token and addresses. */
  #acceptNext(): void {
    let c: TcpHandle | null;
    try {
      c = this.#h!.accept();
    } catch (e) {
      this.#pending = Pending.none;
      this.#queue(encodeReply(HOP_OP.accept, errnoOf(e)));
      this.#kick();
      return;
    }
    if (c === null) return;
    this.#pending = Pending.none;
    this.#kick();
    if (!this.#server.admit()) {
      c.close();
      this.#queue(encodeReply(HOP_OP.accept, errnoNumber("ENFILE")));
      return;
    }
    const token = crypto.getRandomValues(new Uint8Array(HOP_TOKEN));
    const key = tokenKey(token);
    c.onEvent = null;
    const timer = setTimeout(() => this.#expire(key), CLAIM_MS);
    this.#server.claims.set(key, { handle: c, owner: this, timer });
    this.#unclaimed.add(key);
    const out = new Uint8Array(HOP_TOKEN + sockaddrLen(c.local) + sockaddrLen(c.remote));
    out.set(token);
    writeSockaddr(out, writeSockaddr(out, HOP_TOKEN, c.local), c.remote);
    this.#queue(encodeReply(HOP_OP.accept, 0, out));
  }

  /** Closes an accepted socket nobody claimed. */
  #expire(key: string): void {
    const u = this.#server.claims.get(key);
    if (u === undefined) return;
    clearTimeout(u.timer);
    this.#server.claims.delete(key);
    this.#unclaimed.delete(key);
    u.handle.close();
    this.#server.release();
  }

  /** The socket's fatal error: told to the program once; its later bytes are dropped. */
  #socketError(e: unknown): void {
    this.#discard = true;
    if (this.#errorSent) return;
    this.#errorSent = true;
    this.#queue(encodeError(HOP_ERROR.socket, errnoOf(e), 0));
  }

  /** Queues an error frame saying why the stream is unusable; returns false. */
  #broken(errno: "EPROTO" | "EMSGSIZE"): false {
    this.#queue(encodeError(HOP_ERROR.protocol, errnoNumber(errno), 0));
    return false;
  }

  #queue(frame: Uint8Array): void {
    this.#ctl.push(frame);
    this.#ctlBytes += frame.length;
    this.#kickPump();
  }

  #kickPump(): void {
    if (!this.#pumping && !this.#closed) this.#pump();
  }

  /** Writes replies, then the socket's bytes, one borrowed buffer at a time, until none wait. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (!this.#closed) {
        const buf = streamBuffers.pop() ?? new Uint8Array(STREAM_BATCH);
        try {
          const n = this.#fill(buf);
          if (n === 0) break;
          let off = 0;
          while (off < n) off += await this.#conn.write(buf.subarray(off, n));
        } finally {
          if (streamBuffers.length < 16) streamBuffers.push(buf);
        }
        this.#kick(); // the reply backlog shrank
      }
    } catch {
      this.#closed = true; // the program went away: the run loop finishes
      try {
        this.#conn.close();
      } catch { /* already closed */ }
    } finally {
      this.#pumping = false;
      this.#kick();
    }
  }

  /** Fills `buf` with replies, then data frames from the core (and its FIN or error); returns the bytes used. */
  #fill(buf: Uint8Array): number {
    let at = 0, i = 0;
    const ctl = this.#ctl;
    while (i < ctl.length && at + ctl[i].length <= buf.length) {
      buf.set(ctl[i], at);
      at += ctl[i].length;
      this.#ctlBytes -= ctl[i].length;
      i++;
    }
    if (i > 0) this.#ctl = i === ctl.length ? [] : ctl.slice(i);
    if (!this.#connected || this.#eofSent || this.#errorSent || this.#ctl.length > 0) return at;
    const h = this.#h!;
    while (buf.length - at > HOP_HEADER + 1024) {
      const max = Math.min(buf.length - at - HOP_HEADER, HOP_STREAM_MAX_DATA);
      let n: number;
      try {
        n = h.read(buf.subarray(at + HOP_HEADER, at + HOP_HEADER + max));
      } catch (e) {
        this.#discard = this.#errorSent = true;
        const frame = encodeError(HOP_ERROR.socket, errnoOf(e), 0);
        buf.set(frame, at);
        return at + frame.length;
      }
      if (n === 0) break;
      if (n < 0) {
        writeHopHeader(buf, at, HOP_KIND.data, 0);
        this.#eofSent = true;
        return at + HOP_HEADER;
      }
      writeHopHeader(buf, at, HOP_KIND.data, n);
      at += HOP_HEADER + n;
    }
    return at;
  }

  /**
   * After a refusal or a protocol error: lets the last frames out, half-closes,
   * then reads and drops what the program still sends until it closes (at
   * most a second and 1 MiB). Closing with unread input would make the
   * kernel reset the connection, and the program could see ECONNRESET
   * before the frame that says why (ENFILE, EPROTO).
   */
  async #hangUpGently(): Promise<void> {
    const deadline = Date.now() + FLUSH_MS;
    while (
      (this.#pumping || this.#ctl.length > 0 || this.#reading) && !this.#closed &&
      Date.now() < deadline
    ) {
      await this.#nextKick(deadline - Date.now());
    }
    if (this.#closed || this.#reading) return;
    await drainUntilClosed(this.#conn, deadline);
  }

  /** Frees the socket (a graceful close: the core sends what it holds, then a FIN), unclaimed ones, the connection. */
  #finish(): void {
    this.#closed = true;
    if (this.#h !== null) {
      this.#h.onEvent = null;
      if (this.#abortOnClose && this.#connected) this.#h.abort();
      else this.#h.close();
      this.#h = null;
    }
    if (this.#admitted) {
      this.#admitted = false;
      this.#server.release();
    }
    for (const key of [...this.#unclaimed]) this.#expire(key);
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

/** Whether a socket request (the decoder's current frame) asks for a stream socket. */
export function isStreamRequest(dec: HopDecoder): boolean {
  const b = dec.buf, at = dec.start;
  return dec.kind === HOP_KIND.request && dec.end - at === SOCKET_REQUEST_BODY &&
    b[at] === HOP_OP.socket && b[at + 3] === SOCK_STREAM;
}

function tokenKey(token: Uint8Array): string {
  let s = "";
  for (const x of token) s += x.toString(16).padStart(2, "0");
  return s;
}
