/**
 * A program's end of the socket hop: one socket, one Unix connection to the
 * daemon (`core/control/sock_proto.ts`; `docs/socket-protocol.md`).
 *
 * Writes are batched: frames (datagrams and requests, in call order) are
 * appended to a buffer that one writer loop hands to the connection, so a
 * burst of `send`s costs one `write` per batch. Reads stop while more than
 * {@linkcode RECV_QUEUE} datagrams wait for `receive`, so a program that does
 * not read fills the kernel's buffers, then the daemon's socket queue, where
 * the surplus is dropped and counted as `fullsock`, as it would be in a kernel.
 *
 * @module
 */

import { type Errno, ErrnoError, errnoName } from "../core/errno.ts";
import { Endpoint, type IpAddr } from "../core/net/inet_addr.ts";
import type { UdpOption } from "../core/socket/udp_socket.ts";
import {
  AF_INET,
  AF_INET6,
  dataFrameLen,
  encodeRequest,
  HOP_ERROR,
  HOP_KIND,
  HOP_OP,
  HOP_VERSION,
  HopDecoder,
  hopOpName,
  hopOptionNumbers,
  IPPROTO_UDP,
  readInt32,
  readSockaddr,
  SOCK_DGRAM,
  sockaddrBytes,
  sockaddrLen,
  writeData,
  writeSockaddr,
} from "../core/control/sock_proto.ts";
import type { DatagramBackend } from "./backend.ts";

/** Datagrams read from the connection and not yet received, beyond which reading stops. */
export const RECV_QUEUE = 256;

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

interface Receiver extends Waiter<Uint8Array> {
  from: Endpoint;
}

/** One socket through a daemon. */
export class HopSocket implements DatagramBackend {
  readonly #conn: Deno.UnixConn;
  #out = new Uint8Array(64 * 1024);
  #spare = new Uint8Array(64 * 1024);
  #outLen = 0;
  #batch: (Waiter<void> & { promise: Promise<void> }) | null = null;
  #writing = false;
  #sendSeq = 0;
  readonly #replies: Waiter<Uint8Array>[] = [];
  /** Received records (sockaddr, then payload) not yet taken. */
  #records: Uint8Array[] = [];
  #recHead = 0;
  readonly #receivers: Receiver[] = [];
  #resume: (() => void) | null = null;
  /** Set when the connection is unusable: every later call fails with it. */
  #dead: ErrnoError | null = null;
  #sendError: Errno | null = null;
  #socketError: Errno | null = null;

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
    this.#readLoop();
  }

  /**
   * Connects to the socket file `path` and asks for a socket of `family`;
   * the reply is awaited with the first request that follows (requests are
   * answered in order), so setup costs one round trip.
   */
  static async open(path: string, family: 4 | 6): Promise<HopSocket> {
    const conn = await Deno.connect({ transport: "unix", path });
    const s = new HopSocket(conn);
    s.#request(
      HOP_OP.socket,
      new Uint8Array([HOP_VERSION, family === 4 ? AF_INET : AF_INET6, SOCK_DGRAM, IPPROTO_UDP]),
    ).catch(() => {}); // a refusal fails the next request too: the daemon hangs up
    return s;
  }

  receive(from: Endpoint): Promise<Uint8Array> {
    if (this.#recHead < this.#records.length) {
      return Promise.resolve(this.#take(from));
    }
    const err = this.#socketError;
    if (err !== null) {
      this.#socketError = null;
      return Promise.reject(new ErrnoError(err, "recvfrom"));
    }
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise((resolve, reject) => this.#receivers.push({ resolve, reject, from }));
  }

  send(data: Uint8Array, to: Endpoint | null): Promise<void> {
    if (this.#dead) return Promise.reject(this.#dead);
    const err = this.#sendError ?? this.#socketError;
    if (err !== null) {
      // An earlier datagram failed (the hop does not wait for each one): report it now.
      if (this.#sendError !== null) this.#sendError = null;
      else this.#socketError = null;
      return Promise.reject(new ErrnoError(err, "sendto"));
    }
    const need = dataFrameLen(to, data.length);
    this.#room(need);
    writeData(this.#out, this.#outLen, to, data);
    this.#outLen += need;
    this.#sendSeq++;
    return this.#flush();
  }

  async setOption(name: UdpOption, value: number): Promise<void> {
    const { level, name: n } = hopOptionNumbers(name);
    const args = new Uint8Array(8);
    const dv = new DataView(args.buffer);
    dv.setUint16(0, level);
    dv.setUint16(2, n);
    dv.setInt32(4, value);
    await this.#request(HOP_OP.setsockopt, args);
  }

  async getOption(name: UdpOption): Promise<number> {
    const { level, name: n } = hopOptionNumbers(name);
    const args = new Uint8Array([level >>> 8, level & 0xff, n >>> 8, n & 0xff]);
    const r = await this.#request(HOP_OP.getsockopt, args);
    return readInt32(r, 0);
  }

  async membership(
    how: "join" | "leave",
    group: IpAddr,
    ifIndex: number,
    ifAddr: IpAddr | null,
  ): Promise<void> {
    const v6 = group.family === 6;
    const option = v6
      ? (how === "join" ? "IPV6_JOIN_GROUP" : "IPV6_LEAVE_GROUP")
      : (how === "join" ? "IP_ADD_MEMBERSHIP" : "IP_DROP_MEMBERSHIP");
    const { level, name } = hopOptionNumbers(option);
    const g = new Endpoint();
    g.addr.set(group);
    let i: Endpoint | null = null;
    if (ifAddr !== null) (i = new Endpoint()).addr.set(ifAddr);
    const args = new Uint8Array(8 + sockaddrLen(g) + sockaddrLen(i));
    const dv = new DataView(args.buffer);
    dv.setUint16(0, level);
    dv.setUint16(2, name);
    dv.setUint32(4, ifIndex);
    writeSockaddr(args, writeSockaddr(args, 8, g), i);
    await this.#request(HOP_OP.setsockopt, args);
  }

  async bind(local: Endpoint): Promise<void> {
    await this.#request(HOP_OP.bind, sockaddrBytes(local));
  }

  async connect(to: Endpoint | null): Promise<void> {
    await this.#request(HOP_OP.connect, sockaddrBytes(to));
  }

  async localAddress(): Promise<Endpoint> {
    const r = await this.#request(HOP_OP.getsockname);
    const ep = new Endpoint();
    if (readSockaddr(r, 0, r.length, ep) < 0) throw new ErrnoError("EPROTO", "getsockname");
    return ep;
  }

  close(): void {
    if (this.#dead?.code === "EBADF") return;
    this.#fail(new ErrnoError("EBADF", "socket closed"));
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  /** Sends a request frame (after the frames before it) and waits for its reply's result. */
  #request(op: number, args?: Uint8Array): Promise<Uint8Array> {
    if (this.#dead) return Promise.reject(this.#dead);
    const frame = encodeRequest(op, args);
    this.#room(frame.length);
    this.#out.set(frame, this.#outLen);
    this.#outLen += frame.length;
    this.#flush().catch(() => {}); // a failed write fails the reply too
    return new Promise((resolve, reject) => this.#replies.push({ resolve, reject }));
  }

  #room(need: number): void {
    if (this.#outLen + need <= this.#out.length) return;
    const next = new Uint8Array(Math.max(this.#out.length * 2, this.#outLen + need));
    next.set(this.#out.subarray(0, this.#outLen));
    this.#out = next;
  }

  /** A promise for the batch holding what was just appended; starts the writer. */
  #flush(): Promise<void> {
    if (this.#batch === null) {
      let resolve!: () => void, reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#batch = { promise, resolve, reject };
    }
    const p = this.#batch.promise;
    if (!this.#writing) this.#writeLoop();
    return p;
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    let batch = this.#batch;
    try {
      while (this.#outLen > 0 && !this.#dead) {
        const len = this.#outLen, buf = this.#out;
        batch = this.#batch;
        this.#batch = null;
        this.#out = this.#spare.length >= buf.length ? this.#spare : new Uint8Array(buf.length);
        this.#outLen = 0;
        let off = 0;
        while (off < len) off += await this.#conn.write(buf.subarray(off, len));
        this.#spare = buf;
        batch?.resolve();
        batch = null;
      }
      if (this.#dead && this.#batch) this.#batch.reject(this.#dead);
    } catch {
      const err = new ErrnoError("ECONNRESET", "socket hop");
      batch?.reject(err);
      this.#fail(err);
    } finally {
      this.#writing = false;
    }
  }

  #take(from: Endpoint): Uint8Array {
    const rec = this.#records[this.#recHead];
    this.#records[this.#recHead++] = EMPTY;
    if (this.#recHead === this.#records.length) {
      this.#records = [];
      this.#recHead = 0;
    }
    if (this.#resume !== null && this.#records.length - this.#recHead < RECV_QUEUE) {
      const go = this.#resume;
      this.#resume = null;
      go();
    }
    const p = readSockaddr(rec, 0, rec.length, from);
    return rec.subarray(p < 0 ? 4 : p);
  }

  async #readLoop(): Promise<void> {
    const dec = new HopDecoder();
    try {
      while (!this.#dead) {
        if (this.#records.length - this.#recHead >= RECV_QUEUE) {
          await new Promise<void>((r) => this.#resume = r);
          continue;
        }
        const n = await this.#conn.read(dec.space());
        if (n === null) break;
        dec.commit(n);
        while (dec.next()) this.#frame(dec);
        if (dec.error) throw new ErrnoError(dec.error, "socket hop");
      }
      this.#fail(new ErrnoError("ECONNRESET", "socket hop"));
    } catch (e) {
      this.#fail(e instanceof ErrnoError ? e : new ErrnoError("ECONNRESET", "socket hop"));
    }
  }

  #frame(dec: HopDecoder): void {
    const b = dec.buf, at = dec.start, end = dec.end;
    switch (dec.kind) {
      case HOP_KIND.data: {
        const rec = b.slice(at, end);
        const r = this.#receivers.shift();
        if (r === undefined) this.#records.push(rec);
        else {
          const p = readSockaddr(rec, 0, rec.length, r.from);
          r.resolve(rec.subarray(p < 0 ? 4 : p));
        }
        return;
      }
      case HOP_KIND.reply: {
        const w = this.#replies.shift();
        if (w === undefined) throw new ErrnoError("EPROTO", "unexpected reply");
        const errno = (b[at + 2] << 8) | b[at + 3];
        if (errno === 0) w.resolve(b.slice(at + 4, end));
        else {
          const err = new ErrnoError(errnoName(errno) ?? "EIO", hopOpName(b[at]));
          w.reject(err);
          // A refused socket (ENFILE...) is what every later call reports.
          if (b[at] === HOP_OP.socket) this.#fail(err);
        }
        return;
      }
      case HOP_KIND.error: {
        const what = b[at];
        const err: Errno = errnoName((b[at + 2] << 8) | b[at + 3]) ?? "EIO";
        if (what === HOP_ERROR.protocol) throw new ErrnoError(err, "socket hop");
        if (what === HOP_ERROR.send) this.#sendError = err;
        else {
          const r = this.#receivers.shift();
          if (r !== undefined) r.reject(new ErrnoError(err, "recvfrom"));
          else this.#socketError = err;
        }
        return;
      }
      default:
        throw new ErrnoError("EPROTO", `frame kind ${dec.kind}`);
    }
  }

  #fail(err: ErrnoError): void {
    if (this.#dead) return;
    this.#dead = err;
    for (const w of this.#replies.splice(0)) w.reject(err);
    for (const r of this.#receivers.splice(0)) r.reject(err);
    this.#resume?.();
    if (!this.#writing && this.#batch) {
      this.#batch.reject(err);
      this.#batch = null;
    }
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

const EMPTY = new Uint8Array(0);
