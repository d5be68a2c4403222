/**
 * `resolveDns`: `Deno.resolveDns` through an io-pkt stack. The query goes out
 * of a UDP socket of the stack (the daemon's, or one embedded in the program)
 * to the name servers the instance is configured with, as QNX's resolver reads
 * them: `nameserver` lines (and `options timeout:N attempts:N`) of
 * `<prefix>/etc/resolv.conf`, the prefix being the instance's (`SOCK`, or the
 * `sock` option); `nameServer` in the options overrides the file, as in Deno.
 *
 * Answers are matched by id, question and source (RFC 5452) and returned in
 * Deno's shapes (`string[]` for A, AAAA, CNAME, NS, PTR; records for MX, SRV,
 * SOA; `string[][]` for TXT). Failures are `ErrnoError`s: ENOENT (no such name
 * or no record of that type), ETIMEDOUT (no server answered), ECONNREFUSED,
 * EAGAIN (the server failed: SERVFAIL and the like), EINVAL (a bad name or
 * type). A truncated answer (TC) is asked again over TCP from the same server
 * and the same stack (RFC 7766), as QNX's resolver does.
 *
 * @example
 * ```ts ignore
 * const addrs = await resolveDns("www.example.test", "A", { sock: "/tmp/a" });
 * ```
 * @module
 */

import { ErrnoError } from "../core/errno.ts";
import { IpAddr } from "../core/net/inet_addr.ts";
import {
  buildQuery,
  DNS_TYPE,
  type DnsAnswer,
  type DnsRecordType,
  type MxRecord,
  parseResponse,
  type SoaRecord,
  type SrvRecord,
} from "./dns_wire.ts";
import { listenDatagram, type StackChoice } from "./datagram.ts";
import { connect, type TcpConn } from "./stream.ts";

export type { DnsRecordType, MxRecord, SoaRecord, SrvRecord };

/** A name server: address and port (53 by default). */
export interface NameServer {
  ipAddr: string;
  port?: number;
}

/** What resolv.conf says (the parts this resolver uses). */
export interface ResolverConfig {
  nameServers: NameServer[];
  /** Seconds to wait for each answer (`options timeout:N`, default 5, at most 30). */
  timeout: number;
  /** Rounds over the servers (`options attempts:N`, default 2, at most 5). */
  attempts: number;
}

/** Parses resolv.conf text: `nameserver ADDR` lines (at most 3, as the BSD resolver) and `options`. */
export function parseResolvConf(text: string): ResolverConfig {
  const cfg: ResolverConfig = { nameServers: [], timeout: 5, attempts: 2 };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === "nameserver" && rest[0] && cfg.nameServers.length < 3) {
      if (IpAddr.parse(rest[0])) cfg.nameServers.push({ ipAddr: rest[0], port: 53 });
    } else if (key === "options") {
      for (const opt of rest) {
        const m = /^(timeout|attempts):(\d+)$/.exec(opt);
        if (m && m[1] === "timeout") cfg.timeout = Math.min(Math.max(Number(m[2]), 1), 30);
        if (m && m[1] === "attempts") cfg.attempts = Math.min(Math.max(Number(m[2]), 1), 5);
      }
    }
  }
  return cfg;
}

/** A UDP address as Deno gives it. */
export interface DnsUdpAddr {
  transport: "udp";
  hostname: string;
  port: number;
}

/** The socket a query goes out of: shaped like `Deno.DatagramConn`. */
export interface DnsSocket {
  send(data: Uint8Array, addr: DnsUdpAddr): Promise<number>;
  receive(): Promise<[Uint8Array, DnsUdpAddr]>;
  close(): void;
}

/** The answers `resolveDns` gives, by record type (Deno's shapes). */
export type DnsAnswers<T extends DnsRecordType> = T extends "MX" ? MxRecord[]
  : T extends "SRV" ? SrvRecord[]
  : T extends "SOA" ? SoaRecord[]
  : T extends "TXT" ? string[][]
  : string[];

/**
 * Resolves `query` with the sockets `open` gives (one per family of server
 * used), asking each server of `config` in turn for `config.attempts` rounds.
 */
export async function resolveWith<T extends DnsRecordType>(
  open: (family: 4 | 6) => Promise<DnsSocket>,
  config: ResolverConfig,
  query: string,
  recordType: T,
  signal?: AbortSignal,
  overTcp?: DnsOverTcp,
): Promise<DnsAnswers<T>> {
  const type = DNS_TYPE[recordType];
  if (type === undefined) throw new ErrnoError("EINVAL", `record type ${recordType}`);
  if (config.nameServers.length === 0) throw new ErrnoError("ENOENT", "no name server configured");
  let message: Uint8Array;
  const id = crypto.getRandomValues(new Uint16Array(1))[0];
  try {
    message = buildQuery(id, query, type);
  } catch {
    throw new ErrnoError("EINVAL", `domain name ${query}`);
  }
  const servers = config.nameServers.map((s) => {
    const addr = IpAddr.parse(s.ipAddr);
    if (!addr) throw new ErrnoError("EINVAL", `name server ${s.ipAddr}`);
    return { addr, port: s.port ?? 53 };
  });
  const sockets = new Map<4 | 6, { sock: DnsSocket; next: Promise<[Uint8Array, DnsUdpAddr]> }>();
  let refused = 0;
  try {
    for (let round = 0; round < config.attempts; round++) {
      for (const server of servers) {
        signal?.throwIfAborted();
        let s = sockets.get(server.addr.family);
        if (!s) {
          const sock = await open(server.addr.family);
          s = { sock, next: receiveNext(sock) };
          sockets.set(server.addr.family, s);
        }
        const to = {
          transport: "udp" as const,
          hostname: server.addr.toString(),
          port: server.port,
        };
        try {
          await s.sock.send(message, to);
        } catch (e) {
          if (e instanceof ErrnoError && e.code === "ECONNREFUSED") refused++;
          continue;
        }
        const answer = await waitFor(s, server, id, query, type, config.timeout * 1000, signal);
        if (answer === "refused") refused++;
        else if (answer === "truncated") {
          // RFC 7766 §5: the whole answer over TCP from the same server.
          if (!overTcp) {
            throw new ErrnoError("EOPNOTSUPP", "truncated answer and no TCP to ask again");
          }
          return judge(
            parseResponse(await overTcp(server, message), id, query, type),
            query,
          ) as DnsAnswers<T>;
        } else if (answer !== null) return answer as DnsAnswers<T>;
      }
    }
  } finally {
    for (const { sock } of sockets.values()) sock.close();
  }
  throw refused === servers.length * config.attempts
    ? new ErrnoError("ECONNREFUSED", "name servers")
    : new ErrnoError("ETIMEDOUT", `resolving ${query}`);
}

/**
 * The socket's next datagram. The receive outlives the resolution when no
 * answer comes; closing the socket then rejects it, which must not surface as
 * an unhandled rejection (whoever awaits it still sees the error).
 */
function receiveNext(sock: DnsSocket): Promise<[Uint8Array, DnsUdpAddr]> {
  const next = sock.receive();
  next.catch(() => {});
  return next;
}

/** Waits for this server's answer; null on timeout. Throws the DNS errors. */
async function waitFor(
  s: { sock: DnsSocket; next: Promise<[Uint8Array, DnsUdpAddr]> },
  server: { addr: IpAddr; port: number },
  id: number,
  query: string,
  type: number,
  ms: number,
  signal?: AbortSignal,
): Promise<DnsAnswer[] | null | "refused" | "truncated"> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left)));
    const aborted = signal
      ? new Promise<"abort">((r) =>
        signal.addEventListener("abort", () => r("abort"), { once: true })
      )
      : null;
    let got: [Uint8Array, DnsUdpAddr] | "timeout" | "abort";
    try {
      got = await Promise.race([s.next, timeout, ...(aborted ? [aborted] : [])]);
    } catch (e) {
      // A connected-socket error (port unreachable from the server): take the next receive.
      s.next = receiveNext(s.sock);
      if (e instanceof ErrnoError && e.code === "ECONNREFUSED") return "refused";
      throw e;
    } finally {
      clearTimeout(timer);
    }
    if (got === "timeout") return null;
    if (got === "abort") throw signal!.reason ?? new DOMException("Aborted", "AbortError");
    s.next = receiveNext(s.sock);
    const [data, from] = got;
    const src = IpAddr.parse(from.hostname);
    if (!src || !src.equals(server.addr) || from.port !== server.port) continue; // not our server
    const r = parseResponse(data, id, query, type);
    if (r.kind === "ignore") continue;
    if (r.kind === "truncated") return "truncated";
    return judge(r, query);
  }
}

/** The answers of a response, or its error. */
function judge(r: ReturnType<typeof parseResponse>, query: string): DnsAnswer[] {
  switch (r.kind) {
    case "answers":
      if (r.answers.length === 0) throw new ErrnoError("ENOENT", `no ${query} record`);
      return r.answers;
    case "nxdomain":
      throw new ErrnoError("ENOENT", `${query}: no such name`);
    case "error":
      throw new ErrnoError("EAGAIN", `name server failure (rcode ${r.rcode})`);
    default:
      throw new ErrnoError("EPROTO", "name server answered over TCP with no usable response");
  }
}

/** Asks `server` the query `message` over TCP; resolves to the response (without its length prefix). */
export type DnsOverTcp = (
  server: { addr: IpAddr; port: number },
  message: Uint8Array,
) => Promise<Uint8Array>;

/** A DNS exchange over one TCP connection (RFC 1035 §4.2.2: each message after a 2-byte length). */
async function tcpExchange(
  conn: TcpConn,
  message: Uint8Array,
  timeoutMs: number,
): Promise<Uint8Array> {
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    const out = new Uint8Array(2 + message.length);
    out[0] = message.length >>> 8;
    out[1] = message.length & 0xff;
    out.set(message, 2);
    for (let at = 0; at < out.length;) at += await conn.write(out.subarray(at));
    const chunks: Uint8Array[] = [];
    let have = 0, want = -1;
    const buf = new Uint8Array(16384);
    while (want < 0 || have < want + 2) {
      const n = await conn.read(buf);
      if (n === null) throw new ErrnoError("EPROTO", "name server closed the TCP connection early");
      chunks.push(buf.slice(0, n));
      have += n;
      if (want < 0 && have >= 2) {
        const head = chunks[0].length >= 2 ? chunks[0] : concat(chunks);
        want = (head[0] << 8) | head[1];
      }
    }
    return concat(chunks).subarray(2, 2 + want);
  } catch (e) {
    if (e instanceof ErrnoError && e.code === "EBADF") {
      throw new ErrnoError("ETIMEDOUT", "DNS over TCP");
    }
    throw e;
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Options of {@linkcode resolveDns}: Deno's, and which stack carries the query. */
export interface ResolveDnsOptions extends StackChoice {
  /** The server to ask, instead of those of resolv.conf (Deno's option). */
  nameServer?: NameServer;
  /** Stops waiting (Deno's option). */
  signal?: AbortSignal;
  /**
   * The resolv.conf to read: default `<prefix>/etc/resolv.conf` of the daemon
   * (`sock` or `$SOCK`), `/etc/resolv.conf` for an embedded stack.
   */
  resolvConf?: string;
}

/**
 * `Deno.resolveDns` through an io-pkt stack: the query leaves from a UDP
 * socket of the stack `options` chooses (the daemon that `sock`/`$SOCK`
 * names, or `options.stack`).
 *
 * @example
 * ```ts ignore
 * import { resolveDns } from "./mod.ts";
 * const v4 = await resolveDns("www.example.test", "A");                     // via $SOCK
 * const mx = await resolveDns("example.test", "MX", { nameServer: { ipAddr: "192.0.2.53" } });
 * ```
 */
export async function resolveDns<T extends DnsRecordType>(
  query: string,
  recordType: T,
  options: ResolveDnsOptions = {},
): Promise<DnsAnswers<T>> {
  let config: ResolverConfig;
  if (options.nameServer) {
    config = { nameServers: [options.nameServer], timeout: 5, attempts: 2 };
  } else {
    const prefix = options.stack ? "" : (options.sock ?? Deno.env.get("SOCK") ?? "");
    const path = options.resolvConf ?? `${prefix.replace(/\/+$/, "")}/etc/resolv.conf`;
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch {
      throw new ErrnoError("ENOENT", `${path}: no name server configured`);
    }
    config = parseResolvConf(text);
  }
  const choice: StackChoice = {
    sock: options.sock,
    stack: options.stack,
    privileged: options.privileged,
  };
  const open = async (family: 4 | 6): Promise<DnsSocket> =>
    await listenDatagram(
      { port: 0, hostname: family === 4 ? "0.0.0.0" : "::", transport: "udp" },
      choice,
    ).ready;
  const overTcp: DnsOverTcp = async (server, message) =>
    await tcpExchange(
      await connect(
        { hostname: server.addr.toString(), port: server.port, signal: options.signal },
        choice,
      ),
      message,
      config.timeout * 1000,
    );
  return await resolveWith(open, config, query, recordType, options.signal, overTcp);
}
