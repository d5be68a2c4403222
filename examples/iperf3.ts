/**
 * An iperf3-compatible TCP throughput tester, server and client, over an
 * injected TCP ({@linkcode TcpNet}: Deno's own or io-pkt's). It speaks iperf3's
 * control protocol, so either side can be Linux's `iperf3`:
 *
 *   deno run -A examples/iperf3.ts -s [-p 5201] [-B ADDR] [-1] [--json] [--net deno|iopkt]
 *   deno run -A examples/iperf3.ts -c HOST [-p 5201] [-t SECONDS | -n BYTES[KMG]] [-R] [-P STREAMS]
 *                                  [-l BLOCK] [--json] [--net deno|iopkt]
 *
 * The protocol, as iperf3 (esnet/iperf, `iperf_api.c`, `iperf_client_api.c`,
 * `iperf_server_api.c`) runs it over one control connection to the port:
 * the client sends a 37-byte cookie (36 random base-32 characters and a NUL);
 * the server sends state bytes and the client answers: PARAM_EXCHANGE (the
 * client sends its parameters as a 4-byte big-endian length and JSON),
 * CREATE_STREAMS (the client opens one connection per stream to the same port,
 * each starting with the cookie), TEST_START, TEST_RUNNING (data flows on the
 * streams: client to server, or server to client with `-R`); the client ends
 * the test by time or byte count with TEST_END; the server answers
 * EXCHANGE_RESULTS (the client sends its results as length + JSON, then the
 * server its own), DISPLAY_RESULTS, and the client closes with IPERF_DONE.
 * A connection arriving while a test runs gets ACCESS_DENIED. Stream ids are
 * 1, 3, 4, ... (iperf3 skips 2 and keeps doing so for compatibility).
 *
 * Both ends print iperf3's summary lines; `--json` prints one JSON line
 * ({@linkcode IperfResult}) instead.
 * @module
 */

import {
  chooseNet,
  listenAnyFamily,
  parseArgs,
  readFull,
  type TcpConn,
  type TcpNet,
  writeAll,
} from "./tcp_net.ts";

/** iperf3's state bytes on the control connection. */
export const IPERF_STATE = {
  TEST_START: 1,
  TEST_RUNNING: 2,
  TEST_END: 4,
  PARAM_EXCHANGE: 9,
  CREATE_STREAMS: 10,
  SERVER_TERMINATE: 11,
  CLIENT_TERMINATE: 12,
  EXCHANGE_RESULTS: 13,
  DISPLAY_RESULTS: 14,
  IPERF_START: 15,
  IPERF_DONE: 16,
  ACCESS_DENIED: -1,
  SERVER_ERROR: -2,
} as const;

/** The cookie's length on the wire, its NUL included. */
export const COOKIE_SIZE = 37;
/** iperf3's default TCP block (`-l`). */
export const DEFAULT_BLOCK = 128 * 1024;
/** iperf3's default port. */
export const DEFAULT_PORT = 5201;
/** iperf3's `IEUNIMP` ("not implemented"), sent with SERVER_ERROR for what this server lacks. */
const IE_UNIMPLEMENTED = 13;
/** The longest parameter or result JSON taken from a peer. */
const MAX_JSON = 1 << 20;
/** How long a setup step (cookie, parameters, streams, results) may take. */
const STEP_TIMEOUT_MS = 30_000;

/** One side's count: what it sent or received, over how long. */
export interface IperfSide {
  bytes: number;
  seconds: number;
  gbps: number;
}

/** The outcome of one test, from one end's point of view. */
export interface IperfResult {
  role: "client" | "server";
  net: string;
  reverse: boolean;
  streams: number;
  /** The sending end's count (ours, or the peer's from the results exchange). */
  sender: IperfSide;
  /** The receiving end's count. */
  receiver: IperfSide;
}

/** What the client is asked to run. */
export interface IperfClientOptions {
  host: string;
  port?: number;
  /** Test length in seconds (`-t`, default 10) when `bytes` is 0. */
  seconds?: number;
  /** Bytes to move (`-n`); 0 = by time. */
  bytes?: number;
  /** Server sends, client receives (`-R`). */
  reverse?: boolean;
  /** Parallel streams (`-P`, default 1). */
  parallel?: number;
  /** Bytes per write (`-l`, default 128 KiB). */
  blockSize?: number;
}

/** The server's settings. */
export interface IperfServerOptions {
  hostname?: string;
  port?: number;
  /** Serve one test, then return (`-1`). */
  once?: boolean;
  /** Called when the server listens, with its port. */
  onListening?: (port: number) => void;
  /** Called with every finished test's result. */
  onResult?: (result: IperfResult) => void;
  /** Stops the server (closes the listener). */
  signal?: AbortSignal;
}

const enc = new TextEncoder(), dec = new TextDecoder();

/** A fresh cookie: 36 characters of iperf3's base-32 alphabet and a NUL. */
export function makeCookie(): Uint8Array {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const cookie = crypto.getRandomValues(new Uint8Array(COOKIE_SIZE));
  for (let i = 0; i < COOKIE_SIZE - 1; i++) cookie[i] = alphabet.charCodeAt(cookie[i] % 32);
  cookie[COOKIE_SIZE - 1] = 0;
  return cookie;
}

/** Stream ids as iperf3 numbers them: 1, 3, 4, 5, ... */
export function streamId(index: number): number {
  return index === 0 ? 1 : index + 2;
}

/** Parses iperf3's byte counts: 1000, 10K, 512M, 2G (powers of 1024). */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmMgGtT]?)$/.exec(text);
  if (!m) throw new Error(`bad byte count ${text}`);
  const scale = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase()]!;
  return Math.round(Number(m[1]) * scale);
}

function side(bytes: number, seconds: number): IperfSide {
  return { bytes, seconds, gbps: seconds > 0 ? bytes * 8 / seconds / 1e9 : 0 };
}

/** Rejects after `ms` (closing `conn`, which ends a read pending on it). */
function bounded<T>(p: Promise<T>, ms: number, what: string, conn: TcpConn): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      timer = setTimeout(() => {
        try {
          conn.close();
        } catch { /* closed */ }
        reject(new Error(`iperf3: timed out waiting for ${what}`));
      }, ms)
    ),
  ]).finally(() => clearTimeout(timer));
}

async function readState(conn: TcpConn): Promise<number> {
  const b = new Uint8Array(1);
  if (!await readFull(conn, b)) throw new Error("iperf3: the control connection closed");
  return (b[0] << 24) >> 24; // signed char
}

function writeState(conn: TcpConn, state: number): Promise<void> {
  return writeAll(conn, new Uint8Array([state & 0xff]));
}

async function readJson(conn: TcpConn): Promise<Record<string, unknown>> {
  const len = new Uint8Array(4);
  if (!await readFull(conn, len)) throw new Error("iperf3: closed before a JSON length");
  const n = new DataView(len.buffer).getUint32(0);
  if (n === 0 || n > MAX_JSON) throw new Error(`iperf3: JSON of ${n} bytes refused`);
  const body = new Uint8Array(n);
  if (!await readFull(conn, body)) throw new Error("iperf3: closed inside a JSON message");
  return JSON.parse(dec.decode(body));
}

async function writeJson(conn: TcpConn, value: unknown): Promise<void> {
  const body = enc.encode(JSON.stringify(value));
  const msg = new Uint8Array(4 + body.length);
  new DataView(msg.buffer).setUint32(0, body.length);
  msg.set(body, 4);
  await writeAll(conn, msg);
}

function closeQuietly(conn: TcpConn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** One data connection's counters and loop. */
class Stream {
  bytes = 0;
  /** The loop's end (never rejects: a reset peer just ends the stream). */
  done: Promise<void> = Promise.resolve();

  constructor(readonly id: number, readonly conn: TcpConn) {}

  /** Writes `block` until `stop()` says so. */
  send(block: Uint8Array, stop: () => boolean): void {
    this.done = (async () => {
      try {
        while (!stop()) this.bytes += await this.conn.write(block);
      } catch { /* closed under us at the end, or reset */ }
    })();
  }

  /** Reads until the peer closes; `onData` runs after each read. */
  receive(blockSize: number, onData: () => void): void {
    this.done = (async () => {
      const buf = new Uint8Array(blockSize);
      try {
        for (;;) {
          const n = await this.conn.read(buf);
          if (n === null) break;
          this.bytes += n;
          onData();
        }
      } catch { /* closed under us at the end, or reset */ }
    })();
  }
}

/** Our results message: the shape iperf3's `get_results` checks. */
function resultsJson(streams: Stream[], counts: number[], seconds: number, sending: boolean) {
  return {
    cpu_util_total: 0,
    cpu_util_user: 0,
    cpu_util_system: 0,
    sender_has_retransmits: sending ? 0 : -1,
    streams: streams.map((s, i) => ({
      id: s.id,
      bytes: counts[i],
      retransmits: -1,
      jitter: 0,
      errors: 0,
      omitted_errors: 0,
      packets: 0,
      omitted_packets: 0,
      start_time: 0,
      end_time: seconds,
    })),
  };
}

/** The peer's total bytes and time from its results message. */
function peerTotals(results: Record<string, unknown>): { bytes: number; seconds: number } {
  const streams = results.streams;
  if (!Array.isArray(streams)) throw new Error("iperf3: results without streams");
  let bytes = 0, seconds = 0;
  for (const s of streams as Record<string, number>[]) {
    bytes += Number(s.bytes);
    seconds = Math.max(seconds, Number(s.end_time ?? 0) - Number(s.start_time ?? 0));
  }
  return { bytes, seconds };
}

/** Runs one test against an iperf3 server; returns its result. */
export async function iperf3Client(net: TcpNet, opts: IperfClientOptions): Promise<IperfResult> {
  const port = opts.port ?? DEFAULT_PORT, parallel = opts.parallel ?? 1;
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK, bytesGoal = opts.bytes ?? 0;
  const seconds = bytesGoal > 0 ? 0 : opts.seconds ?? 10, reverse = opts.reverse ?? false;
  const cookie = makeCookie();
  const ctrl = await net.connect({ hostname: opts.host, port });
  const streams: Stream[] = [];
  try {
    await writeAll(ctrl, cookie);
    let state = await bounded(readState(ctrl), STEP_TIMEOUT_MS, "PARAM_EXCHANGE", ctrl);
    let started = 0, ended = 0, ourCounts: number[] = [];
    let peer: { bytes: number; seconds: number } | null = null;
    for (;;) {
      switch (state) {
        case IPERF_STATE.PARAM_EXCHANGE:
          await writeJson(ctrl, {
            tcp: true,
            omit: 0,
            time: seconds,
            num: bytesGoal,
            blockcount: 0,
            parallel,
            ...(reverse ? { reverse: true } : {}),
            len: blockSize,
            pacing_timer: 1000,
            client_version: "3.12",
          });
          break;
        case IPERF_STATE.CREATE_STREAMS:
          for (let i = 0; i < parallel; i++) {
            const conn = await net.connect({ hostname: opts.host, port });
            streams.push(new Stream(streamId(i), conn));
            await writeAll(conn, cookie);
          }
          break;
        case IPERF_STATE.TEST_START:
          break;
        case IPERF_STATE.TEST_RUNNING: {
          // The server's next state byte (normally EXCHANGE_RESULTS after our TEST_END,
          // earlier only if it gives up) is read beside the data.
          const next = readState(ctrl);
          ({ started, ended, ourCounts } = await runClientStreams(
            streams,
            { reverse, seconds, bytesGoal, blockSize },
            next,
          ));
          await writeState(ctrl, IPERF_STATE.TEST_END);
          state = await bounded(next, STEP_TIMEOUT_MS, "EXCHANGE_RESULTS", ctrl);
          continue;
        }
        case IPERF_STATE.EXCHANGE_RESULTS:
          await writeJson(
            ctrl,
            resultsJson(streams, ourCounts, (ended - started) / 1000, !reverse),
          );
          peer = peerTotals(await bounded(readJson(ctrl), STEP_TIMEOUT_MS, "results", ctrl));
          break;
        case IPERF_STATE.DISPLAY_RESULTS: {
          for (const s of streams) closeQuietly(s.conn);
          await writeState(ctrl, IPERF_STATE.IPERF_DONE);
          // As recent iperf3 does: half-close and wait (bounded) for the server to close,
          // so it has taken IPERF_DONE (and is free for the next test) before we return.
          await ctrl.closeWrite().catch(() => {});
          await bounded(readState(ctrl), STEP_TIMEOUT_MS, "the server's close", ctrl)
            .catch(() => {});
          const ours = side(ourCounts.reduce((a, b) => a + b, 0), (ended - started) / 1000);
          const theirs = side(peer?.bytes ?? 0, peer?.seconds ?? 0);
          return {
            role: "client",
            net: net.name,
            reverse,
            streams: parallel,
            sender: reverse ? theirs : ours,
            receiver: reverse ? ours : theirs,
          };
        }
        case IPERF_STATE.ACCESS_DENIED:
          throw new Error("iperf3: the server is busy running a test right now (ACCESS_DENIED)");
        case IPERF_STATE.SERVER_ERROR: {
          const codes = new Uint8Array(8);
          await readFull(ctrl, codes);
          const v = new DataView(codes.buffer);
          throw new Error(`iperf3: server error ${v.getInt32(0)} (errno ${v.getInt32(4)})`);
        }
        case IPERF_STATE.SERVER_TERMINATE:
          throw new Error("iperf3: the server has terminated");
        default:
          throw new Error(`iperf3: unexpected state ${state} from the server`);
      }
      state = await bounded(readState(ctrl), STEP_TIMEOUT_MS, `the state after ${state}`, ctrl);
    }
  } finally {
    for (const s of streams) closeQuietly(s.conn);
    closeQuietly(ctrl);
  }
}

/**
 * Runs the client's half of the data phase until the time or byte goal, or
 * until the server's control message `early` arrives; returns the start and
 * end times and each stream's count at the end.
 */
async function runClientStreams(
  streams: Stream[],
  goal: { reverse: boolean; seconds: number; bytesGoal: number; blockSize: number },
  early: Promise<number>,
): Promise<{ started: number; ended: number; ourCounts: number[] }> {
  const started = performance.now();
  let stopped = false, reached: () => void = () => {};
  const goalReached = new Promise<void>((r) => reached = r);
  const total = () => streams.reduce((a, s) => a + s.bytes, 0);
  const checkBytes = () => {
    if (goal.bytesGoal > 0 && total() >= goal.bytesGoal) reached();
  };
  const timer = goal.seconds > 0 ? setTimeout(reached, goal.seconds * 1000) : undefined;
  const block = new Uint8Array(goal.blockSize).map((_, i) => i * 7 + 3);
  for (const s of streams) {
    if (goal.reverse) s.receive(goal.blockSize, checkBytes);
    else {
      s.send(block, () => {
        checkBytes();
        return stopped;
      });
    }
  }
  const earlyState = await Promise.race([goalReached.then(() => null), early]);
  clearTimeout(timer);
  stopped = true;
  if (earlyState !== null) {
    throw new Error(`iperf3: the server ended the test (state ${earlyState})`);
  }
  if (!goal.reverse) await Promise.all(streams.map((s) => s.done));
  return { started, ended: performance.now(), ourCounts: streams.map((s) => s.bytes) };
}

/**
 * Serves iperf3 tests until `signal` aborts (or after one with `once`). A
 * connection that comes while a test is being set up or run is refused with
 * ACCESS_DENIED, as iperf3 does.
 */
export async function iperf3Server(net: TcpNet, opts: IperfServerOptions = {}): Promise<void> {
  const listener = listenAnyFamily(net, opts.hostname, opts.port ?? DEFAULT_PORT);
  const addr = listener.addr as Deno.NetAddr;
  opts.onListening?.(addr.port);
  opts.signal?.addEventListener("abort", () => listener.close(), { once: true });
  /** Where data connections go while a test is creating its streams. */
  const now: { intake: ((conn: TcpConn) => void) | null; busy: boolean } = {
    intake: null,
    busy: false,
  };
  let finished: () => void = () => {};
  const allDone = new Promise<void>((r) => finished = r);
  const accepting = (async () => {
    for (;;) {
      let conn: TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return; // the listener closed
      }
      if (now.intake) now.intake(conn);
      else if (now.busy) {
        writeState(conn, IPERF_STATE.ACCESS_DENIED).catch(() => {}).finally(() =>
          closeQuietly(conn)
        );
      } else {
        now.busy = true;
        serveTest(net.name, conn, (f) => now.intake = f)
          .then((r) => opts.onResult?.(r), (e) => console.error((e as Error).message))
          .finally(() => {
            now.busy = false;
            now.intake = null;
            if (opts.once) {
              listener.close();
              finished();
            }
          });
      }
    }
  })();
  await (opts.once ? Promise.race([allDone, accepting]) : accepting);
  try {
    listener.close();
  } catch { /* closed */ }
  await accepting;
}

/** One test on the server, from the control connection's cookie to IPERF_DONE. */
async function serveTest(
  netName: string,
  ctrl: TcpConn,
  setIntake: (f: ((conn: TcpConn) => void) | null) => void,
): Promise<IperfResult> {
  const streams: Stream[] = [];
  try {
    const cookie = new Uint8Array(COOKIE_SIZE);
    if (!await bounded(readFull(ctrl, cookie), STEP_TIMEOUT_MS, "the cookie", ctrl)) {
      throw new Error("iperf3: the client closed before its cookie");
    }
    await writeState(ctrl, IPERF_STATE.PARAM_EXCHANGE);
    const params = await bounded(readJson(ctrl), STEP_TIMEOUT_MS, "the parameters", ctrl);
    if (params.tcp !== true || params.bidirectional === true) {
      // SERVER_ERROR carries iperf3's error number and errno, 4 bytes each.
      const msg = new Uint8Array(9);
      msg[0] = IPERF_STATE.SERVER_ERROR & 0xff;
      new DataView(msg.buffer).setInt32(1, IE_UNIMPLEMENTED);
      await writeAll(ctrl, msg);
      throw new Error("iperf3: only TCP, one direction at a time, is implemented");
    }
    const reverse = params.reverse === true, parallel = Number(params.parallel ?? 1);
    const blockSize = Number(params.len ?? DEFAULT_BLOCK);
    const bytesGoal = Number(params.num ?? 0) ||
      Number(params.blockcount ?? 0) * blockSize;
    const expected = dec.decode(cookie);

    // Data connections: the next `parallel` connections, each opening with our cookie.
    const arrived = new Promise<void>((resolve) => {
      setIntake((conn) => {
        const id = streamId(streams.length);
        const stream = new Stream(id, conn);
        streams.push(stream);
        if (streams.length === parallel) setIntake(null);
        const theirs = new Uint8Array(COOKIE_SIZE);
        bounded(readFull(conn, theirs), STEP_TIMEOUT_MS, "a stream's cookie", conn).then((ok) => {
          if (!ok || dec.decode(theirs) !== expected) {
            writeState(conn, IPERF_STATE.ACCESS_DENIED).catch(() => {}).finally(() =>
              closeQuietly(conn)
            );
            streams.splice(streams.indexOf(stream), 1);
            setIntake(null);
            return;
          }
          if (streams.length === parallel) resolve();
        }, () => {});
      });
    });
    await writeState(ctrl, IPERF_STATE.CREATE_STREAMS);
    await bounded(arrived, STEP_TIMEOUT_MS, "the data connections", ctrl);
    await writeState(ctrl, IPERF_STATE.TEST_START);
    await writeState(ctrl, IPERF_STATE.TEST_RUNNING);

    const started = performance.now();
    let stopped = false;
    const block = new Uint8Array(blockSize).map((_, i) => i * 7 + 3);
    // With a byte goal the sender stops there; the client ends the test once it has them all.
    const goalMet = () => bytesGoal > 0 && streams.reduce((a, x) => a + x.bytes, 0) >= bytesGoal;
    for (const s of streams) {
      if (reverse) s.send(block, () => stopped || goalMet());
      else s.receive(blockSize, () => {});
    }
    // The client ends the test: TEST_END (or gives up: CLIENT_TERMINATE, or closes).
    const ending = await readState(ctrl).catch(() => IPERF_STATE.CLIENT_TERMINATE);
    const ended = performance.now();
    stopped = true;
    const counts = streams.map((s) => s.bytes);
    for (const s of streams) closeQuietly(s.conn);
    await Promise.all(streams.map((s) => s.done));
    if (ending !== IPERF_STATE.TEST_END) throw new Error(`iperf3: the client ended with ${ending}`);

    await writeState(ctrl, IPERF_STATE.EXCHANGE_RESULTS);
    const peer = peerTotals(await bounded(readJson(ctrl), STEP_TIMEOUT_MS, "results", ctrl));
    const seconds = (ended - started) / 1000;
    await writeJson(ctrl, resultsJson(streams, counts, seconds, reverse));
    await writeState(ctrl, IPERF_STATE.DISPLAY_RESULTS);
    // IPERF_DONE, or the client just closes.
    await bounded(readState(ctrl), STEP_TIMEOUT_MS, "IPERF_DONE", ctrl).catch(() => {});
    const ours = side(counts.reduce((a, b) => a + b, 0), seconds);
    const theirs = side(peer.bytes, peer.seconds);
    return {
      role: "server",
      net: netName,
      reverse,
      streams: streams.length,
      sender: reverse ? ours : theirs,
      receiver: reverse ? theirs : ours,
    };
  } finally {
    setIntake(null);
    for (const s of streams) closeQuietly(s.conn);
    closeQuietly(ctrl);
  }
}

/** iperf3's closing lines for a result. */
export function formatResult(r: IperfResult): string {
  const line = (s: IperfSide, who: string) =>
    `[SUM]   0.00-${s.seconds.toFixed(2)}  sec  ${(s.bytes / 2 ** 30).toFixed(2)} GBytes  ` +
    `${s.gbps.toFixed(2)} Gbits/sec                  ${who}`;
  return `- - - - - - - - - - - - - - - - - - - - - - - - -\n` +
    `[ ID] Interval           Transfer     Bitrate\n` +
    `${line(r.sender, "sender")}\n${line(r.receiver, "receiver")}`;
}

async function main(args: string[]): Promise<number> {
  const { opts } = parseArgs(args, ["s", "R", "1", "json", "h", "help"]);
  const json = opts.has("json");
  const net = await chooseNet(opts.get("net") ?? "deno");
  const port = Number(opts.get("p") ?? DEFAULT_PORT);
  const report = (r: IperfResult) => console.log(json ? JSON.stringify(r) : formatResult(r));
  if (opts.has("s")) {
    await iperf3Server(net, {
      hostname: opts.get("B"),
      port,
      once: opts.has("1"),
      onListening: (p) =>
        console.log(json ? JSON.stringify({ listening: p }) : `Server listening on ${p}`),
      onResult: report,
    });
    return 0;
  }
  const host = opts.get("c");
  if (host === undefined || opts.has("h") || opts.has("help")) {
    console.error(
      "usage: iperf3.ts -s [-p PORT] [-B ADDR] [-1] [--json] [--net deno|iopkt]\n" +
        "       iperf3.ts -c HOST [-p PORT] [-t SECONDS | -n BYTES] [-R] [-P N] [-l LEN] [--json] [--net deno|iopkt]",
    );
    return 64;
  }
  report(
    await iperf3Client(net, {
      host,
      port,
      seconds: Number(opts.get("t") ?? 10),
      bytes: opts.has("n") ? parseBytes(opts.get("n")!) : 0,
      reverse: opts.has("R"),
      parallel: Number(opts.get("P") ?? 1),
      blockSize: opts.has("l") ? parseBytes(opts.get("l")!) : DEFAULT_BLOCK,
    }),
  );
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
