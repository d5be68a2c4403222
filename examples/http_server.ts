/**
 * A small HTTP/1.1 server over an injected TCP ({@linkcode TcpNet}: Deno's own
 * or io-pkt's), for curl and load tests:
 *
 *   deno run -A examples/http_server.ts [-p 8080] [-B ADDR] [--net deno|iopkt]
 *
 * - `GET /bytes/N` answers N bytes of a deterministic pattern
 *   ({@linkcode patternByte}), so a client can check what it got by its SHA-256;
 * - `GET /` answers a small text page ({@linkcode INDEX_BODY});
 * - HEAD works on both; anything else is 404 (unknown path) or 405 (method).
 *
 * Every answer has a Content-Length and `Connection: close`: one request per
 * connection, then the server half-closes and closes. The first line printed is
 * `listening on PORT`.
 * @module
 */

import { createHash } from "node:crypto";
import {
  chooseNet,
  listenAnyFamily,
  parseArgs,
  type TcpConn,
  type TcpNet,
  writeAll,
} from "./tcp_net.ts";

/** The pattern repeats every 2^20 bytes (a block generated once). */
const PATTERN_PERIOD = 1 << 20;

/**
 * Byte `i` of every `/bytes/N` body: the top half of a Fibonacci hash of
 * `i mod 2^20`, so a misplaced segment changes the SHA-256. In Python:
 * `(((i % 2**20) * 0x9E3779B1) & 0xffffffff) >> 16 & 255`.
 */
export function patternByte(i: number): number {
  return (Math.imul(i % PATTERN_PERIOD, 0x9e3779b1) >>> 16) & 255;
}

let patternBlock: Uint8Array | null = null;

/** One period of the pattern (2^20 bytes, made once). */
export function patternPeriod(): Uint8Array {
  if (!patternBlock) {
    patternBlock = new Uint8Array(PATTERN_PERIOD);
    for (let i = 0; i < PATTERN_PERIOD; i++) patternBlock[i] = patternByte(i);
  }
  return patternBlock;
}

/** Calls `each` with the pattern's first `n` bytes, in views of at most 1 MiB. */
export function forEachPatternChunk(n: number, each: (chunk: Uint8Array) => void): void {
  const block = patternPeriod();
  for (let off = 0; off < n; off += PATTERN_PERIOD) {
    each(block.subarray(0, Math.min(PATTERN_PERIOD, n - off)));
  }
}

/** The SHA-256 (hex) of the pattern's first `n` bytes: what `/bytes/N` should hash to. */
export function patternSha256(n: number): string {
  const hash = createHash("sha256");
  forEachPatternChunk(n, (c) => hash.update(c));
  return hash.digest("hex");
}

/** The body of `GET /`: a fixed text page, 100 numbered lines. */
export const INDEX_BODY: string = Array.from(
  { length: 100 },
  (_, i) =>
    `${
      String(i + 1).padStart(3, "0")
    } io-pkt for Deno: GET /bytes/N for N bytes of the test pattern\n`,
).join("");

/** Settings of {@linkcode httpServe}. */
export interface HttpServeOptions {
  hostname?: string;
  port?: number;
  /** Called once listening, with the port. */
  onListening?: (port: number) => void;
  /** Stops the server. */
  signal?: AbortSignal;
}

const enc = new TextEncoder(), dec = new TextDecoder();
/** The largest request head taken (request line and headers). */
const MAX_HEAD = 16 * 1024;
/** How long a client may take to send its request. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Serves until `signal` aborts; each connection is handled on its own. */
export async function httpServe(net: TcpNet, opts: HttpServeOptions = {}): Promise<void> {
  const listener = listenAnyFamily(net, opts.hostname, opts.port ?? 8080);
  opts.onListening?.((listener.addr as Deno.NetAddr).port);
  opts.signal?.addEventListener("abort", () => listener.close(), { once: true });
  const open = new Set<Promise<void>>();
  for (;;) {
    let conn: TcpConn;
    try {
      conn = await listener.accept();
    } catch {
      break; // closed
    }
    const p: Promise<void> = serveOne(conn).catch(() => {}).finally(() => open.delete(p));
    open.add(p);
  }
  await Promise.all(open);
}

/** Reads the request head (up to the blank line); null when the client closes first. */
async function readHead(conn: TcpConn): Promise<string | null> {
  const buf = new Uint8Array(MAX_HEAD);
  let len = 0;
  while (len < MAX_HEAD) {
    const n = await conn.read(buf.subarray(len));
    if (n === null) return null;
    len += n;
    const text = dec.decode(buf.subarray(0, len));
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) return text.slice(0, end);
  }
  return null;
}

async function serveOne(conn: TcpConn): Promise<void> {
  const timer = setTimeout(() => conn.close(), REQUEST_TIMEOUT_MS);
  let head: string | null;
  try {
    head = await readHead(conn);
  } finally {
    clearTimeout(timer);
  }
  try {
    if (head === null) return;
    const [method, target] = head.split("\r\n")[0].split(" ");
    const bytes = /^\/bytes\/(\d{1,15})$/.exec(target ?? "");
    let status = "200 OK", length = 0, type = "application/octet-stream";
    if (method !== "GET" && method !== "HEAD") status = "405 Method Not Allowed";
    else if (bytes) length = Number(bytes[1]);
    else if (target === "/") {
      length = enc.encode(INDEX_BODY).length;
      type = "text/plain; charset=utf-8";
    } else status = "404 Not Found";
    if (!status.startsWith("200")) length = 0;
    await writeAll(
      conn,
      enc.encode(
        `HTTP/1.1 ${status}\r\nServer: io-pkt-example\r\nContent-Type: ${type}\r\n` +
          `Content-Length: ${length}\r\nConnection: close\r\n\r\n`,
      ),
    );
    if (method === "GET" && status.startsWith("200")) {
      if (bytes) {
        const block = patternPeriod();
        for (let off = 0; off < length; off += block.length) {
          await writeAll(conn, block.subarray(0, Math.min(block.length, length - off)));
        }
      } else await writeAll(conn, enc.encode(INDEX_BODY));
    }
    await conn.closeWrite();
    // Wait (bounded) for the client to close, so our close sends no RST over unread data.
    const sink = new Uint8Array(4096);
    const deadline = setTimeout(() => conn.close(), REQUEST_TIMEOUT_MS);
    try {
      while (await conn.read(sink) !== null) { /* discard */ }
    } finally {
      clearTimeout(deadline);
    }
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

async function main(args: string[]): Promise<number> {
  const { opts } = parseArgs(args);
  const net = await chooseNet(opts.get("net") ?? "deno");
  await httpServe(net, {
    hostname: opts.get("B"),
    port: Number(opts.get("p") ?? 8080),
    onListening: (port) => console.log(`listening on ${port}`),
  });
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
