/**
 * An HTTP/1.1 client over an injected TCP ({@linkcode TcpNet}: Deno's own or
 * io-pkt's): fetches one `http://` URL with GET, streams the body through an
 * incremental SHA-256 (node:crypto's, so no body is ever held whole) and
 * prints what it got:
 *
 *   deno run -A examples/http_fetch.ts [--json] [--net deno|iopkt] http://HOST[:PORT]/PATH
 *
 * prints `STATUS BYTES SHA256 SECONDS` (or one JSON line, {@linkcode FetchResult})
 * and exits 0 on a 2xx answer whose body is complete. Bodies sized by
 * Content-Length, chunked, or ended by the server's close are all understood.
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { chooseNet, parseArgs, type TcpConn, type TcpNet, writeAll } from "./tcp_net.ts";

/** What a fetch got. */
export interface FetchResult {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** Body bytes received. */
  bytes: number;
  /** SHA-256 of the body, hex. */
  sha256: string;
  seconds: number;
  gbps: number;
  /** The body ended as its framing said (not cut short by a close). */
  complete: boolean;
}

const enc = new TextEncoder(), dec = new TextDecoder();
const MAX_HEAD = 64 * 1024;

/** A reader over a connection with lookahead, for the head and chunk framing. */
class Reader {
  #buf = new Uint8Array(256 * 1024);
  #start = 0;
  #end = 0;
  #eof = false;

  constructor(readonly conn: TcpConn) {}

  /** Bytes buffered and not yet taken. */
  get buffered(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /** Takes `n` buffered bytes. */
  take(n: number): void {
    this.#start += n;
  }

  /** Reads more into the buffer; false at the end of the stream. */
  async fill(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    else if (this.#end === this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buf.length) throw new Error("http: a line is too long");
    const n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#end += n;
    return true;
  }

  /** The next CRLF-ended line (without the CRLF); null at the end of the stream. */
  async line(): Promise<string | null> {
    for (;;) {
      const b = this.buffered;
      for (let i = 0; i + 1 < b.length; i++) {
        if (b[i] === 13 && b[i + 1] === 10) {
          const text = dec.decode(b.subarray(0, i));
          this.take(i + 2);
          return text;
        }
      }
      if (b.length > MAX_HEAD) throw new Error("http: a head line is too long");
      if (!await this.fill()) return null;
    }
  }

  /**
   * Hands up to `limit` bytes (Infinity: until the end) to `each`; returns how
   * many it handed.
   */
  async body(limit: number, each: (chunk: Uint8Array) => void): Promise<number> {
    let got = 0;
    while (got < limit) {
      if (this.buffered.length === 0 && !await this.fill()) break;
      const b = this.buffered;
      const n = Math.min(b.length, limit - got);
      each(b.subarray(0, n));
      this.take(n);
      got += n;
    }
    return got;
  }
}

/** Splits `http://host[:port]/path` (IPv6 hosts in brackets). */
export function parseHttpUrl(url: string): { host: string; port: number; path: string } {
  const u = new URL(url);
  if (u.protocol !== "http:") throw new Error(`only http:// URLs: ${url}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(u.port || 80), path: (u.pathname || "/") + u.search };
}

/** Fetches `url` with GET over `net`; `onChunk` sees the body as it comes. */
export async function httpFetch(
  net: TcpNet,
  url: string,
  onChunk?: (chunk: Uint8Array) => void,
): Promise<FetchResult> {
  const { host, port, path } = parseHttpUrl(url);
  const started = performance.now();
  const conn = await net.connect({ hostname: host, port });
  try {
    const hostHeader = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    await writeAll(
      conn,
      enc.encode(
        `GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: io-pkt-fetch\r\n` +
          `Accept: */*\r\nConnection: close\r\n\r\n`,
      ),
    );
    const r = new Reader(conn);
    const statusLine = await r.line();
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "");
    if (!m) throw new Error(`http: bad status line ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (let lines = 0;; lines++) {
      const line = await r.line();
      if (line === null) throw new Error("http: the connection closed inside the head");
      if (line === "") break;
      if (lines > 200) throw new Error("http: too many header lines");
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    }
    const hash = createHash("sha256");
    const each = (c: Uint8Array) => {
      hash.update(c);
      onChunk?.(c);
    };
    let bytes: number, complete: boolean;
    if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
      ({ bytes, complete } = await chunkedBody(r, each));
    } else if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      bytes = await r.body(length, each);
      complete = bytes === length;
    } else {
      bytes = await r.body(Infinity, each);
      complete = true; // ended by the close, as HTTP/1.0 bodies are
    }
    return finish(Number(m[1]), headers, bytes, hash, started, complete);
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

async function chunkedBody(
  r: Reader,
  each: (c: Uint8Array) => void,
): Promise<{ bytes: number; complete: boolean }> {
  let bytes = 0;
  for (;;) {
    const sizeLine = await r.line();
    if (sizeLine === null) return { bytes, complete: false };
    const size = parseInt(sizeLine.split(";")[0], 16);
    if (!Number.isFinite(size)) throw new Error(`http: bad chunk size ${sizeLine}`);
    if (size === 0) {
      // Trailers until the blank line.
      for (let line = await r.line(); line !== null && line !== ""; line = await r.line()) {
        /* ignored */
      }
      return { bytes, complete: true };
    }
    const got = await r.body(size, each);
    bytes += got;
    if (got < size || await r.line() !== "") return { bytes, complete: false };
  }
}

function finish(
  status: number,
  headers: Record<string, string>,
  bytes: number,
  hash: Hash,
  started: number,
  complete: boolean,
): FetchResult {
  const seconds = (performance.now() - started) / 1000;
  return {
    status,
    headers,
    bytes,
    sha256: hash.digest("hex"),
    seconds,
    gbps: seconds > 0 ? bytes * 8 / seconds / 1e9 : 0,
    complete,
  };
}

async function main(args: string[]): Promise<number> {
  const { opts, rest } = parseArgs(args, ["json"]);
  if (rest.length !== 1) {
    console.error("usage: http_fetch.ts [--json] [--net deno|iopkt] http://HOST[:PORT]/PATH");
    return 64;
  }
  const net = await chooseNet(opts.get("net") ?? "deno");
  const r = await httpFetch(net, rest[0]);
  if (opts.has("json")) console.log(JSON.stringify({ ...r, headers: undefined }));
  else console.log(`${r.status} ${r.bytes} ${r.sha256} ${r.seconds.toFixed(3)}`);
  return r.status >= 200 && r.status < 300 && r.complete ? 0 : 1;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
