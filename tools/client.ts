/**
 * The control client: connects to a stack's socket (chosen by `$SOCK`) and
 * turns requests into replies.
 *
 * @example
 * ```ts ignore
 * import { connectStack } from "./client.ts";
 * const client = await connectStack(Deno.env.get("SOCK") ?? "");
 * console.log((await client.call({ op: "info" })).version);
 * client.close();
 * ```
 * @module
 */

import { ErrnoError } from "../core/errno.ts";
import type { ControlOp, ControlResults, SocketEvent } from "../core/control/ops.ts";
import {
  asControlReply,
  decodeJson,
  encodeFrame,
  FRAME_KIND,
  FrameDecoder,
  MAX_REPLY_PAYLOAD,
} from "../core/control/protocol.ts";
import { socketPaths } from "../core/control/paths.ts";
import type { ControlClient, RequestOf } from "./tool_context.ts";

/** Nothing answers at a stack's socket path. */
export class StackUnreachableError extends ErrnoError {
  /** The path that was tried. */
  readonly path: string;
  constructor(path: string) {
    // QNX's libsocket reports a missing stack as EAFNOSUPPORT from socket().
    super("EAFNOSUPPORT", `no stack answers at ${path}`);
    this.name = "StackUnreachableError";
    this.path = path;
  }
}

/** How long one request may wait for its reply before failing with ETIMEDOUT. */
const REPLY_TIMEOUT_MS = 30_000;

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

class SocketControlClient implements ControlClient {
  #conn: Deno.UnixConn;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #closed = false;
  #onEvent: ((event: SocketEvent) => void) | null = null;

  constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
    this.#readLoop();
  }

  call<O extends ControlOp>(req: RequestOf<O>): Promise<ControlResults[O]> {
    if (this.#closed) return Promise.reject(new ErrnoError("ENOTCONN"));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ErrnoError("ETIMEDOUT", req.op));
      }, REPLY_TIMEOUT_MS);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#write(encodeFrame(FRAME_KIND.request, id, req)).catch((e) => {
        this.#settle(id, () => reject(e));
      });
    });
  }

  onEvent(handler: (event: SocketEvent) => void): void {
    this.#onEvent = handler;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed by the peer */ }
    this.#failAll(new ErrnoError("ENOTCONN"));
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  #settle(id: number, fn: (p: Pending) => void): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    fn(p);
  }

  #failAll(err: Error): void {
    for (const [id] of this.#pending) this.#settle(id, (p) => p.reject(err));
  }

  async #readLoop(): Promise<void> {
    const dec = new FrameDecoder(MAX_REPLY_PAYLOAD);
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        dec.push(buf.subarray(0, n));
        for (let f = dec.next(); f; f = dec.next()) {
          if (f.kind === FRAME_KIND.event) {
            const ev = decodeJson(f.payload);
            if (ev && typeof ev === "object") this.#onEvent?.(ev as SocketEvent);
            continue;
          }
          const reply = asControlReply(decodeJson(f.payload));
          if (!reply) throw new ErrnoError("EPROTO", "control reply");
          this.#settle(f.id, (p) => {
            if (reply.ok) p.resolve(reply.result);
            else p.reject(new ErrnoError(reply.errno, reply.message));
          });
        }
        if (dec.error) throw new ErrnoError(dec.error, "control reply");
      }
      this.#failAll(new ErrnoError("ECONNRESET", "control socket"));
    } catch (e) {
      this.#failAll(e instanceof ErrnoError ? e : new ErrnoError("ECONNRESET", "control socket"));
    } finally {
      if (!this.#closed) this.close();
    }
  }
}

/**
 * Connects to the stack at `prefix` (the `$SOCK` value; `""` is the default stack).
 * Uses the privileged `config` socket when the file system lets this user open it,
 * the public one otherwise.
 */
export async function connectStack(prefix: string): Promise<ControlClient> {
  const paths = socketPaths(prefix);
  for (const path of [paths.config, paths.inet]) {
    try {
      const conn = await Deno.connect({ transport: "unix", path });
      return new SocketControlClient(conn);
    } catch (e) {
      if (e instanceof Deno.errors.PermissionDenied) continue;
      if (e instanceof Deno.errors.NotCapable) throw e;
      break;
    }
  }
  throw new StackUnreachableError(paths.dir);
}
