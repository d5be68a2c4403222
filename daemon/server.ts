/**
 * The resource manager: serves the control protocol on `<prefix>/dev/socket/`.
 *
 * Privilege comes from the file system: the `config` socket is mode 0600, so only
 * the daemon's own user (and root) can open it, and requests that arrive on it
 * may change configuration. The public sockets (`2`, and `24` on the IPv6 stack)
 * are mode 0666 and refuse changes with EPERM.
 *
 * Two `-p tcpip` options shape it as they shape io-pkt's resource manager:
 * `recv_ctxt` is the size of each connection's receive buffer (bytes taken in
 * one read), and `threads_max` bounds the requests in progress at once; past
 * it, requests wait for a slot (logged once), as io-pkt blocks when its
 * functional connections run out.
 *
 * The same sockets carry program sockets (`daemon/socket_hop.ts`): a
 * connection that opens with a socket request's header speaks the socket hop, one socket per
 * connection, privileged by the same rule. `IOPKT_MAX_SOCKETS` in the daemon's
 * environment bounds the sockets open at once (default 4096).
 *
 * @example
 * ```ts ignore
 * const server = new ControlServer(stack, socketPaths("/tmp/a"), log);
 * await server.start();
 * ```
 * @module
 */

import { handleRequest, type RequestContext, type SocketOwner } from "../core/control/dispatch.ts";
import type { SocketPaths } from "../core/control/paths.ts";
import {
  asControlRequest,
  decodeJson,
  encodeFrame,
  FRAME_KIND,
  FrameDecoder,
} from "../core/control/protocol.ts";
import { ErrnoError } from "../core/errno.ts";
import type { ControlReply, ControlRequest } from "../core/control/ops.ts";
import type { Stack } from "../core/stack.ts";
import type { LogFn } from "./log.ts";
import { DEFAULT_MAX_SOCKETS, isHopStart, SocketHopServer } from "./socket_hop.ts";

/** Whether something answers at a Unix socket path. */
export async function socketAnswers(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch (e) {
    // A socket we may not open is still a live one.
    return e instanceof Deno.errors.PermissionDenied;
  }
}

interface Endpoint {
  path: string;
  mode: number;
  privileged: boolean;
}

/** The control socket server of one stack. */
export class ControlServer {
  #stack: Stack;
  #paths: SocketPaths;
  #log: LogFn;
  #listeners: Deno.Listener[] = [];
  #conns = new Set<Deno.Conn>();
  #bound: string[] = [];
  #inFlight = 0;
  #waiting: (() => void)[] = [];
  #saidExhausted = false;
  readonly #hop: SocketHopServer;

  constructor(stack: Stack, paths: SocketPaths, log: LogFn, opts: { maxSockets?: number } = {}) {
    this.#stack = stack;
    this.#paths = paths;
    this.#log = log;
    const fromEnv = Number(Deno.env.get("IOPKT_MAX_SOCKETS") ?? NaN);
    const maxSockets = opts.maxSockets ??
      (Number.isInteger(fromEnv) && fromEnv >= 0 ? fromEnv : DEFAULT_MAX_SOCKETS);
    this.#hop = new SocketHopServer(stack, log, { maxSockets });
  }

  /** Sockets open through the socket hop now. */
  get openSockets(): number {
    return this.#hop.openSockets;
  }

  /**
   * Refuses (EADDRINUSE) when a live daemon already answers at these paths;
   * removes sockets left by a dead one.
   */
  async claim(): Promise<void> {
    for (const path of [this.#paths.config, this.#paths.inet, this.#paths.inet6]) {
      if (await socketAnswers(path)) {
        throw new ErrnoError("EADDRINUSE", `a stack already answers at ${path}`);
      }
    }
    for (const path of [this.#paths.config, this.#paths.inet, this.#paths.inet6]) {
      try {
        const st = Deno.lstatSync(path);
        if (st.isSocket) {
          Deno.removeSync(path);
          this.#log(`removed stale socket ${path}`);
        }
      } catch { /* not there */ }
    }
  }

  /** Creates the socket directory and starts serving. */
  start(): void {
    Deno.mkdirSync(this.#paths.dir, { recursive: true, mode: 0o755 });
    const endpoints: Endpoint[] = [
      { path: this.#paths.config, mode: 0o600, privileged: true },
      { path: this.#paths.inet, mode: 0o666, privileged: false },
    ];
    if (this.#stack.inet6) {
      endpoints.push({ path: this.#paths.inet6, mode: 0o666, privileged: false });
    }
    for (const ep of endpoints) this.#listen(ep);
  }

  /** Stops serving and removes the sockets. */
  close(): void {
    for (const l of this.#listeners) {
      try {
        l.close();
      } catch { /* already closed */ }
    }
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    for (const path of this.#bound) {
      try {
        Deno.removeSync(path);
      } catch { /* already gone */ }
    }
    this.#listeners = [];
    this.#bound = [];
  }

  #listen(ep: Endpoint): void {
    // Bind under a temporary name and rename once the mode is set, so no client
    // ever finds the socket with the wrong permissions.
    const tmp = `${ep.path}.${Deno.pid}.tmp`;
    try {
      Deno.removeSync(tmp);
    } catch { /* not there */ }
    const listener = Deno.listen({ transport: "unix", path: tmp });
    Deno.chmodSync(tmp, ep.mode);
    Deno.renameSync(tmp, ep.path);
    this.#listeners.push(listener);
    this.#bound.push(ep.path);
    this.#acceptLoop(listener, ep.privileged);
  }

  async #acceptLoop(listener: Deno.Listener, privileged: boolean): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return; // closed
      }
      this.#conns.add(conn);
      this.#route(conn, privileged).finally(() => {
        this.#conns.delete(conn);
        try {
          conn.close();
        } catch { /* already closed */ }
      });
    }
  }

  /** Waits for one of the `threads_max` request slots. */
  async #acquire(): Promise<void> {
    if (this.#inFlight < this.#stack.config.threadsMax) {
      this.#inFlight++;
      return;
    }
    if (!this.#saidExhausted) {
      this.#saidExhausted = true;
      this.#log(`threads_max (${this.#stack.config.threadsMax}) reached: requests wait for a slot`);
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else this.#inFlight--;
  }

  async #answer(req: ControlRequest, ctx: RequestContext): Promise<ControlReply> {
    await this.#acquire();
    try {
      return await handleRequest(this.#stack, req, ctx);
    } finally {
      this.#release();
    }
  }

  async #send(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  }

  /** Tells a socket connection (first byte not 0) from a control connection. */
  async #route(conn: Deno.Conn, privileged: boolean): Promise<void> {
    // Small: a socket connection keeps only what it decodes, and a control connection reads
    // recv_ctxt bytes at a time from its second read on.
    const first = new Uint8Array(4096);
    let got = 0;
    try {
      while (got < 4) {
        const n = await conn.read(first.subarray(got));
        if (n === null) return;
        got += n;
      }
    } catch {
      return;
    }
    const head = first.subarray(0, got);
    if (isHopStart(head)) return this.#hop.serve(conn, privileged, head);
    return this.#serve(conn, privileged, head);
  }

  async #serve(conn: Deno.Conn, privileged: boolean, first: Uint8Array): Promise<void> {
    const owner = this.#owner(conn);
    try {
      await this.#serveFrames(conn, { privileged, owner }, owner.send, first);
    } finally {
      // A client that goes away takes its sockets with it.
      for (const sock of owner.sockets) this.#stack.closeRawSocket(sock);
      owner.sockets.clear();
    }
  }

  /** Events for a connection's sockets go through its one ordered writer. */
  #owner(conn: Deno.Conn): SocketOwner & { send(bytes: Uint8Array): Promise<void> } {
    let chain = Promise.resolve();
    // Every frame to a connection goes through this chain, so a reply and an
    // event never interleave their bytes when a write is partial.
    const send = (bytes: Uint8Array) => {
      const done = chain.then(() => this.#send(conn, bytes));
      chain = done.catch(() => {});
      return done;
    };
    return {
      sockets: new Set<number>(),
      emit: (event) => {
        send(encodeFrame(FRAME_KIND.event, 0, event)).catch(() => {});
      },
      send,
    };
  }

  async #serveFrames(
    conn: Deno.Conn,
    ctx: RequestContext,
    send: (bytes: Uint8Array) => Promise<void>,
    first: Uint8Array,
  ): Promise<void> {
    const dec = new FrameDecoder();
    const buf = new Uint8Array(this.#stack.config.recvCtxt);
    try {
      for (let chunk: Uint8Array | null = first; chunk !== null;) {
        dec.push(chunk);
        for (let f = dec.next(); f; f = dec.next()) {
          const id = f.id;
          if (f.kind !== FRAME_KIND.request) {
            await send(
              encodeFrame(FRAME_KIND.reply, id, { ok: false, errno: "EPROTO" }),
            );
            continue;
          }
          const req = asControlRequest(decodeJson(f.payload));
          const reply = req
            ? await this.#answer(req, ctx)
            : { ok: false, errno: "EBADMSG", message: "malformed request" };
          await send(encodeFrame(FRAME_KIND.reply, id, reply));
        }
        if (dec.error) {
          // The stream is out of step: say why once, then hang up.
          await send(encodeFrame(FRAME_KIND.reply, 0, { ok: false, errno: dec.error }));
          return;
        }
        const n = await conn.read(buf);
        chunk = n === null ? null : buf.subarray(0, n);
      }
    } catch {
      // The client went away mid-reply; nothing to do.
    }
  }
}
