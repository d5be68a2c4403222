/**
 * A program's end of the socket hop for stream sockets: one TCP socket, one
 * Unix connection to the daemon (`docs/socket-protocol.md`, "Stream
 * sockets").
 *
 * The connection carries the socket's bytes in data frames of up to 64 KiB
 * (a 4-byte header each), with requests, replies, the end of the stream
 * (an empty data frame) and errors between them. Both directions are
 * bounded:
 * - writes: a `write` copies its bytes, as frames, into an output buffer of
 *   at most {@linkcode OUT_HIGH} bytes (as a kernel's send buffer takes
 *   them) and waits only while it is full; one writer loop hands the buffer
 *   to the connection. So a daemon that stops reading (its TCP send buffer is
 *   full) stops the program's writes. `close` lets the buffer out first;
 * - reads: one reader loop fills an input buffer (16 KiB, growing to
 *   {@linkcode IN_MAX}) and stops while it is full of bytes nobody has read,
 *   so the Unix connection fills, then the daemon stops taking bytes from the
 *   core, whose receive window closes: a slow reader slows the peer.
 * A data frame's bytes are handed to `read` as they arrive, without waiting
 * for the whole frame.
 *
 * @module
 */

import { ErrnoError, errnoName } from "../core/errno.ts";
import { Endpoint } from "../core/net/inet_addr.ts";
import {
  AF_INET,
  AF_INET6,
  encodeRequest,
  HOP_ERROR,
  HOP_HEADER,
  HOP_KIND,
  HOP_MAX_BODY,
  HOP_OP,
  HOP_STREAM_MAX_DATA,
  HOP_TOKEN,
  HOP_VERSION,
  hopOpName,
  hopOptionNumbers,
  int32,
  IPPROTO_TCP,
  readSockaddr,
  SOCK_STREAM,
  sockaddrBytes,
  writeHopHeader,
} from "../core/control/sock_proto.ts";
import { openViaDaemon, type StackChoice } from "./datagram.ts";
import type { ListenerBackend, StreamBackend } from "./stream_backend.ts";
import type { TcpOption } from "./tcp_core.ts";

/** Bytes waiting in the output buffer beyond which a `write` waits for the connection. */
export const OUT_HIGH = 256 * 1024;
/** The output buffers' first size (they grow as writes need). */
const OUT_FIRST = 16 * 1024;
const EMPTY = new Uint8Array(0);
/** The input buffer's first size, and the largest it grows. */
const IN_FIRST = 16 * 1024;
export const IN_MAX = 256 * 1024;

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

/** One stream socket through a daemon: connected, listening, or being set up. */
export class HopStream implements StreamBackend, ListenerBackend {
  readonly #conn: Deno.UnixConn;
  readonly #path: string;
  readonly family: 4 | 6;
  readonly local = new Endpoint();
  readonly remote = new Endpoint();

  // Output: frames appended here; one writer loop hands them to the connection.
  #out = new Uint8Array(OUT_FIRST);
  #spare = EMPTY;
  #outLen = 0;
  #appended = 0;
  #written = 0;
  #writing = false;
  #flushWaiters: { upTo: number; resolve(): void; reject(e: unknown): void }[] = [];
  #roomWaiters: (() => void)[] = [];
  #writeTail: Promise<unknown> = Promise.resolve();
  #shutWrite = false;
  /** Closed by the program with output still being written: the writer closes the connection. */
  #lingering = false;

  // Input: bytes read, parsed up to #at; #dataLeft bytes of the current data frame remain.
  #in = new Uint8Array(IN_FIRST);
  #lastRead = 0;
  #at = 0;
  #fill = 0;
  #dataLeft = 0;
  #eof = false;
  #readWaiters: (() => void)[] = [];
  #resume: (() => void) | null = null;
  readonly #replies: Waiter<Uint8Array>[] = [];

  /** The socket's error (an error frame): every later read and write reports it. */
  #error: ErrnoError | null = null;
  /** Set when the connection is unusable: every later call fails with it. */
  #dead: ErrnoError | null = null;
  /** Calls waiting on the daemon: the connection keeps the program alive only then. */
  #interest = 0;
  #userRef = true;
  #refd = true;

  private constructor(conn: Deno.UnixConn, path: string, family: 4 | 6) {
    this.#conn = conn;
    this.#path = path;
    this.family = family;
    this.#updateRef();
    this.#readLoop();
  }

  /** A new stream socket on the socket file `path` (the `socket` request is pipelined). */
  static async #open(path: string, family: 4 | 6): Promise<HopStream> {
    const conn = await Deno.connect({ transport: "unix", path });
    const s = new HopStream(conn, path, family);
    s.#request(
      HOP_OP.socket,
      new Uint8Array([HOP_VERSION, family === 4 ? AF_INET : AF_INET6, SOCK_STREAM, IPPROTO_TCP]),
    ).catch(() => {}); // a refusal fails the next request too: the daemon hangs up
    return s;
  }

  /** Connects to `to` through the daemon `via` names; resolves once established. */
  static async connect(via: StackChoice, to: Endpoint, signal?: AbortSignal): Promise<HopStream> {
    const family = to.addr.family;
    const s = await openViaDaemon(via, family, (path) => HopStream.#open(path, family));
    const onAbort = () => s.close();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const r = await s.#request(HOP_OP.connect, sockaddrBytes(to));
      s.#readAddresses(r, 0);
      return s;
    } catch (e) {
      s.close();
      throw e;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Listens on `local` through the daemon `via` names (SO_REUSEADDR, as Deno sets it). */
  static async listen(via: StackChoice, local: Endpoint, backlog: number): Promise<HopStream> {
    const family = local.addr.family;
    const s = await openViaDaemon(via, family, (path) => HopStream.#open(path, family));
    try {
      const steps = [
        s.#setOptionRequest("SO_REUSEADDR", 1),
        s.#request(HOP_OP.bind, sockaddrBytes(local)),
        s.#request(HOP_OP.listen, int32(backlog)),
      ];
      const named = s.#request(HOP_OP.getsockname);
      const settled = await Promise.allSettled([...steps, named]);
      const failed = settled.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      if (readSockaddr(await named, 0, (await named).length, s.local) < 0) {
        throw new ErrnoError("EPROTO", "getsockname");
      }
      return s;
    } catch (e) {
      s.close();
      throw e;
    }
  }

  /**
   * The next connection: the daemon takes it from the accept queue and names
   * it by a token, which a new hop connection claims.
   */
  async accept(): Promise<StreamBackend> {
    const r = await this.#request(HOP_OP.accept);
    if (r.length < HOP_TOKEN + 8) throw new ErrnoError("EPROTO", "accept");
    const token = r.slice(0, HOP_TOKEN);
    const s = await HopStream.#open(this.#path, this.family);
    try {
      s.#readAddresses(r, HOP_TOKEN);
      await s.#request(HOP_OP.claim, token);
      return s;
    } catch (e) {
      s.close();
      throw e;
    }
  }

  #readAddresses(r: Uint8Array, at: number): void {
    const p = readSockaddr(r, at, r.length, this.local);
    if (p < 0 || readSockaddr(r, p, r.length, this.remote) < 0) {
      throw new ErrnoError("EPROTO", "addresses");
    }
  }

  async read(p: Uint8Array): Promise<number | null> {
    this.#interest++;
    this.#updateRef();
    try {
      for (;;) {
        const avail = this.#dataLeft > 0 ? Math.min(this.#dataLeft, this.#fill - this.#at) : 0;
        if (avail > 0) return this.#take(p, avail);
        if (this.#eof) return null;
        if (this.#error) throw this.#error;
        if (this.#dead) throw this.#dead;
        await new Promise<void>((r) => this.#readWaiters.push(r));
      }
    } finally {
      this.#interest--;
      this.#updateRef();
    }
  }

  #take(p: Uint8Array, avail: number): number {
    const n = Math.min(avail, p.length);
    p.set(this.#in.subarray(this.#at, this.#at + n));
    this.#at += n;
    this.#dataLeft -= n;
    if (this.#dataLeft === 0) this.#parse();
    if (this.#resume !== null) {
      const go = this.#resume;
      this.#resume = null;
      go();
    }
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    // Writes go out whole and in call order, even when not awaited.
    const done = this.#writeTail.then(() => this.#writeNow(p));
    this.#writeTail = done.catch(() => {});
    return done;
  }

  async #writeNow(p: Uint8Array): Promise<number> {
    this.#interest++;
    this.#updateRef();
    try {
      for (let off = 0; off < p.length;) {
        this.#checkWrite();
        while (this.#outLen >= OUT_HIGH && !this.#dead) {
          await new Promise<void>((r) => this.#roomWaiters.push(r));
        }
        this.#checkWrite();
        const n = Math.min(HOP_STREAM_MAX_DATA, p.length - off);
        this.#room(HOP_HEADER + n);
        writeHopHeader(this.#out, this.#outLen, HOP_KIND.data, n);
        this.#out.set(p.subarray(off, off + n), this.#outLen + HOP_HEADER);
        this.#outLen += HOP_HEADER + n;
        this.#appended += HOP_HEADER + n;
        off += n;
        if (!this.#writing) this.#writeLoop();
      }
      // Like a kernel's send buffer: taken once copied, while the output buffer has room.
      return p.length;
    } finally {
      this.#interest--;
      this.#updateRef();
    }
  }

  #checkWrite(): void {
    if (this.#dead) throw this.#dead;
    if (this.#error) throw this.#error;
    if (this.#shutWrite) throw new ErrnoError("EPIPE", "write");
  }

  closeWrite(): Promise<void> {
    const done = this.#writeTail.then(async () => {
      this.#checkWrite();
      this.#shutWrite = true;
      this.#room(HOP_HEADER);
      writeHopHeader(this.#out, this.#outLen, HOP_KIND.data, 0);
      this.#outLen += HOP_HEADER;
      this.#appended += HOP_HEADER;
      if (!this.#writing) this.#writeLoop();
      await this.#flushed(this.#appended);
    });
    this.#writeTail = done.catch(() => {});
    return done;
  }

  setOption(name: TcpOption, value: number): void {
    if (this.#dead) throw this.#dead;
    this.#setOptionRequest(name, value).catch((e) => {
      // Deno's setters return nothing: the next read or write reports it.
      if (e !== this.#dead) this.#error ??= e;
    });
  }

  #setOptionRequest(name: TcpOption, value: number): Promise<Uint8Array> {
    const { level, name: n } = hopOptionNumbers(name);
    const args = new Uint8Array(8);
    const dv = new DataView(args.buffer);
    dv.setUint16(0, level);
    dv.setUint16(2, n);
    dv.setInt32(4, value);
    return this.#request(HOP_OP.setsockopt, args);
  }

  ref(): void {
    this.#userRef = true;
    this.#updateRef();
  }

  unref(): void {
    this.#userRef = false;
    this.#updateRef();
  }

  /** The reader loop's pending read keeps the program alive only while a call waits on it. */
  #updateRef(): void {
    const want = this.#userRef && this.#interest > 0 && !this.#dead;
    if (want === this.#refd) return;
    this.#refd = want;
    try {
      if (want) this.#conn.ref();
      else this.#conn.unref();
    } catch { /* closed */ }
  }

  /**
   * Closes the socket once what was written is out. With received bytes not
   * read it is a reset, as BSD does (`SO_LINGER` 0 first); bytes still in the
   * Unix connection make the daemon's next read fail, which it takes the same way.
   */
  close(): void {
    if (this.#dead?.code === "EBADF") return;
    if (!this.#dead && this.#dataLeft > 0 && this.#fill > this.#at) {
      this.#setOptionRequest("SO_LINGER", 0).catch(() => {});
    }
    this.#fail(new ErrnoError("EBADF", "socket closed"));
  }

  /** Sends a request frame (after what was appended before it) and waits for its reply. */
  #request(op: number, args?: Uint8Array): Promise<Uint8Array> {
    if (this.#dead) return Promise.reject(this.#dead);
    const frame = encodeRequest(op, args);
    this.#room(frame.length);
    this.#out.set(frame, this.#outLen);
    this.#outLen += frame.length;
    this.#appended += frame.length;
    if (!this.#writing) this.#writeLoop();
    this.#interest++;
    this.#updateRef();
    return new Promise<Uint8Array>((resolve, reject) => this.#replies.push({ resolve, reject }))
      .finally(() => {
        this.#interest--;
        this.#updateRef();
      });
  }

  #room(need: number): void {
    if (this.#outLen + need <= this.#out.length) return;
    let size = this.#out.length * 2;
    while (size < this.#outLen + need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#out.subarray(0, this.#outLen));
    this.#out = next;
  }

  /** Resolves once the connection took every byte up to `upTo` (counted from the start). */
  #flushed(upTo: number): Promise<void> {
    if (this.#written >= upTo) return Promise.resolve();
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise((resolve, reject) => this.#flushWaiters.push({ upTo, resolve, reject }));
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    try {
      // After close(), what was written before it still goes out (then the connection closes).
      while (this.#outLen > 0 && (!this.#dead || this.#lingering)) {
        const len = this.#outLen, buf = this.#out;
        // The other buffer takes the next writes (growing as they need); after a small
        // batch, large buffers go, so an idle socket holds little.
        const small = len < 4096;
        this.#out = this.#spare.length > 0 ? this.#spare : new Uint8Array(OUT_FIRST);
        this.#spare = EMPTY;
        this.#outLen = 0;
        const waiting = this.#roomWaiters;
        this.#roomWaiters = [];
        for (const w of waiting) w();
        let off = 0;
        while (off < len) off += await this.#conn.write(buf.subarray(off, len));
        this.#spare = small && buf.length > OUT_FIRST ? EMPTY : buf;
        if (small && this.#out.length > OUT_FIRST && this.#outLen === 0) {
          this.#out = new Uint8Array(OUT_FIRST);
        }
        this.#written += len;
        const w = this.#flushWaiters;
        while (w.length > 0 && w[0].upTo <= this.#written) w.shift()!.resolve();
      }
    } catch {
      if (this.#lingering) {
        this.#lingering = false;
        this.#closeConn();
      } else this.#fail(new ErrnoError("ECONNRESET", "socket hop"));
    } finally {
      this.#writing = false;
      if (this.#lingering) {
        this.#lingering = false;
        this.#closeConn();
      }
    }
  }

  #closeConn(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  async #readLoop(): Promise<void> {
    try {
      while (!this.#dead) {
        const room = this.#space();
        if (room === null) {
          await new Promise<void>((r) => this.#resume = r);
          continue;
        }
        const n = await this.#conn.read(room);
        if (n === null) break;
        this.#fill += n;
        this.#lastRead = n;
        if (n === room.length && this.#in.length < IN_MAX) this.#grow(this.#in.length * 2);
        this.#parse();
        this.#wakeReaders();
      }
      if (!this.#eof && !this.#error) this.#fail(new ErrnoError("ECONNRESET", "socket hop"));
      else this.#fail(new ErrnoError("EBADF", "socket closed by the daemon"));
    } catch (e) {
      this.#fail(e instanceof ErrnoError ? e : new ErrnoError("ECONNRESET", "socket hop"));
    }
  }

  /** Free bytes at the input's tail (compacting first), or null while it is full of unread bytes. */
  #space(): Uint8Array | null {
    if (this.#at === this.#fill) {
      this.#at = this.#fill = 0;
      // Back to the first size once the traffic is small again (an idle socket costs little).
      if (this.#lastRead < 4096 && this.#in.length > IN_FIRST) this.#in = new Uint8Array(IN_FIRST);
    }
    if (this.#in.length - this.#fill < 4096 && this.#at > 0) {
      this.#in.copyWithin(0, this.#at, this.#fill);
      this.#fill -= this.#at;
      this.#at = 0;
    }
    const free = this.#in.length - this.#fill;
    if (free > 0) return this.#in.subarray(this.#fill);
    // Full: of data nobody read (wait), or of one control frame larger than the buffer (grow).
    if (this.#dataLeft === 0 && this.#in.length < HOP_HEADER + HOP_MAX_BODY) {
      this.#grow(HOP_HEADER + HOP_MAX_BODY);
      return this.#in.subarray(this.#fill);
    }
    return null;
  }

  #grow(size: number): void {
    const next = new Uint8Array(size);
    next.set(this.#in.subarray(this.#at, this.#fill));
    this.#fill -= this.#at;
    this.#at = 0;
    this.#in = next;
  }

  /** Handles the frames at the head of the input up to the next data bytes. */
  #parse(): void {
    const b = this.#in;
    while (this.#dataLeft === 0 && this.#fill - this.#at >= HOP_HEADER) {
      const at = this.#at;
      const kind = b[at], len = (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
      if (kind === HOP_KIND.data) {
        this.#at += HOP_HEADER;
        if (len === 0) this.#eof = true;
        else this.#dataLeft = len;
        continue;
      }
      if (len > HOP_MAX_BODY) throw new ErrnoError("EMSGSIZE", "socket hop");
      if (this.#fill - at < HOP_HEADER + len) return;
      this.#at += HOP_HEADER + len;
      this.#control(kind, at + HOP_HEADER, at + HOP_HEADER + len);
    }
  }

  #control(kind: number, at: number, end: number): void {
    const b = this.#in;
    if (kind === HOP_KIND.reply) {
      const w = this.#replies.shift();
      if (w === undefined) throw new ErrnoError("EPROTO", "unexpected reply");
      const errno = (b[at + 2] << 8) | b[at + 3];
      if (errno === 0) w.resolve(b.slice(at + 4, end));
      else {
        const err = new ErrnoError(errnoName(errno) ?? "EIO", hopOpName(b[at]));
        w.reject(err);
        if (b[at] === HOP_OP.socket) this.#fail(err); // refused: what every later call reports
      }
      return;
    }
    if (kind === HOP_KIND.error) {
      const err = new ErrnoError(errnoName((b[at + 2] << 8) | b[at + 3]) ?? "EIO", "socket");
      if (b[at] === HOP_ERROR.protocol) throw err;
      this.#error ??= err;
      this.#wakeReaders();
      return;
    }
    throw new ErrnoError("EPROTO", `frame kind ${kind}`);
  }

  #wakeReaders(): void {
    if (this.#readWaiters.length === 0) return;
    const w = this.#readWaiters;
    this.#readWaiters = [];
    for (const fn of w) fn();
  }

  /** Makes the connection unusable with `err`, and closes it (after the output, on close()). */
  #fail(err: ErrnoError): void {
    if (this.#dead) return;
    this.#dead = err;
    for (const w of this.#replies.splice(0)) w.reject(err);
    for (const w of this.#flushWaiters.splice(0)) w.reject(err);
    for (const w of this.#roomWaiters.splice(0)) w();
    this.#wakeReaders();
    this.#resume?.();
    this.#updateRef();
    // close() with bytes not yet handed to the connection: the writer closes it once they are.
    if (err.code === "EBADF" && this.#writing) this.#lingering = true;
    else this.#closeConn();
  }
}
