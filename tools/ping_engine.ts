/**
 * What `ping` and `ping6` share: the clock they run on, the send/wait loop,
 * the round-trip statistics, the echo payload (timestamp and fill) and the
 * parts of the command line both accept.
 *
 * The loop follows BSD ping: `preload` requests go out at once, then one every
 * `interval`; a reply whose count reaches `-c` ends the run at once; after the
 * last request the tool waits a tool-specific time for stragglers; SIGINT ends
 * it early. Time comes from a {@linkcode PingClock} so tests run in virtual
 * time: {@linkcode VirtualClock} jumps to the next timer once everything else
 * has settled.
 *
 * @example A session on a virtual clock
 * ```ts
 * import { runPingLoop, VirtualClock } from "./ping_engine.ts";
 * const clock = new VirtualClock();
 * let sent = 0;
 * await runPingLoop({
 *   clock,
 *   count: 3,
 *   intervalMs: 1000,
 *   preload: 0,
 *   finalWaitMs: () => 1000,
 *   send: () => {
 *     sent++;
 *     return Promise.resolve();
 *   },
 *   finished: () => false,
 *   onInterrupt: () => () => {},
 * });
 * console.log(sent, clock.now()); // 3 sends, 3 s of virtual time
 * ```
 * @module
 */

import { fromBase64 as decodeBase64 } from "../core/control/base64.ts";
import { ErrnoError, strerror } from "../core/errno.ts";
import type { ControlClient, ToolContext } from "./tool_context.ts";

// ---------------------------------------------------------------------------
// Clocks

/** The time source and timers a ping run uses. */
export interface PingClock {
  /** Wall-clock milliseconds (fractional); also what the echo timestamp carries. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds; returns a handle for {@linkcode PingClock.clearTimer}. */
  setTimer(fn: () => void, ms: number): unknown;
  /** Cancels a timer from {@linkcode PingClock.setTimer}. */
  clearTimer(handle: unknown): void;
}

/** The real clock: microsecond-ish wall time and the runtime's timers. */
export const SYSTEM_CLOCK: PingClock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface VirtualTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock whose time moves only to its next timer, once the rest of the
 * program has nothing left to do (one real macrotask later, after every
 * pending promise has settled). Runs that would take minutes take milliseconds.
 */
export class VirtualClock implements PingClock {
  #now: number;
  #timers: VirtualTimer[] = [];
  #nextId = 1;
  #stepping = false;

  /** @param start the initial time, in milliseconds since the epoch */
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  /** The virtual time. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at now + `ms` (virtual). */
  setTimer(fn: () => void, ms: number): number {
    const id = this.#nextId++;
    this.#timers.push({ id, at: this.#now + Math.max(0, ms), fn });
    this.#scheduleStep();
    return id;
  }

  /** Cancels a virtual timer. */
  clearTimer(id: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== id);
  }

  #scheduleStep(): void {
    if (this.#stepping) return;
    this.#stepping = true;
    // A real macrotask runs only after all queued microtasks (fake replies, awaits).
    setTimeout(() => this.#step(), 0);
  }

  #step(): void {
    this.#stepping = false;
    if (this.#timers.length === 0) return;
    let first = this.#timers[0];
    for (const t of this.#timers) {
      if (t.at < first.at || (t.at === first.at && t.id < first.id)) first = t;
    }
    this.#timers = this.#timers.filter((t) => t !== first);
    this.#now = Math.max(this.#now, first.at);
    first.fn();
    if (this.#timers.length > 0) this.#scheduleStep();
  }
}

// ---------------------------------------------------------------------------
// The loop

/** Ends a loop's wait early: a reply or SIGINT calls {@linkcode Waker.wake}. */
export class Waker {
  #wake: (() => void) | null = null;
  #pending = false;

  /** Ends the current wait, or the next one as soon as it starts. */
  wake(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }

  /** Waits `ms` on `clock`, or less when woken. */
  sleep(clock: PingClock, ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const id = clock.setTimer(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        this.#wake = null;
        clock.clearTimer(id);
        resolve();
      };
    });
  }
}

/** What {@linkcode runPingLoop} needs. */
export interface PingLoop {
  clock: PingClock;
  /** Requests to send; 0 sends until interrupted. */
  count: number;
  intervalMs: number;
  /** Requests sent back to back before the interval applies (`-l`). */
  preload: number;
  /** How long to wait for replies after the last request, asked when that wait starts. */
  finalWaitMs(): number;
  /** Sends the next request (the caller counts and numbers them). */
  send(): Promise<void>;
  /** Whether the run is over because of what has arrived (`-c` reached, `-o`). */
  finished(): boolean;
  /** Registers the SIGINT handler; returns its removal. */
  onInterrupt(handler: () => void): () => void;
  /** Woken by the owner when a datagram arrives, so `finished` is asked again. */
  waker?: Waker;
}

/** Runs sends and waits until the count is done, replies end it, or SIGINT. */
export async function runPingLoop(loop: PingLoop): Promise<void> {
  const { clock } = loop;
  const waker = loop.waker ?? new Waker();
  let interrupted = false;
  const removeInterrupt = loop.onInterrupt(() => {
    interrupted = true;
    waker.wake();
  });
  try {
    let sent = 0;
    let nextAt = clock.now();
    let lastAt = nextAt;
    while (!interrupted && !loop.finished()) {
      const now = clock.now();
      const more = loop.count === 0 || sent < loop.count;
      if (more && now >= nextAt) {
        await loop.send();
        sent++;
        lastAt = clock.now();
        nextAt = sent < loop.preload ? lastAt : lastAt + loop.intervalMs;
        continue;
      }
      const until = more ? nextAt : lastAt + loop.finalWaitMs();
      if (!more && now >= until) break;
      await waker.sleep(clock, until - now);
    }
  } finally {
    removeInterrupt();
  }
}

// ---------------------------------------------------------------------------
// Statistics

/** Round-trip bookkeeping, in whole milliseconds as QNX's tools print them. */
export class RttStats {
  transmitted = 0;
  received = 0;
  repeats = 0;
  /** Replies that carried a timestamp. */
  timed = 0;
  min = Infinity;
  max = 0;
  sum = 0;
  sumSq = 0;
  /** Sequence numbers seen, to spot duplicates (mod 65536, as BSD's bit table). */
  #seen = new Set<number>();

  /** Records a reply; returns true when it is a duplicate. */
  record(seq: number, rttMs: number | null): boolean {
    const dup = this.#seen.has(seq & 0xffff);
    if (dup) this.repeats++;
    else {
      this.#seen.add(seq & 0xffff);
      this.received++;
    }
    if (rttMs !== null) {
      this.timed++;
      this.min = Math.min(this.min, rttMs);
      this.max = Math.max(this.max, rttMs);
      this.sum += rttMs;
      this.sumSq += rttMs * rttMs;
    }
    return dup;
  }

  /** The average over replies and duplicates, truncated as C's int division. */
  average(): number {
    return this.timed === 0 ? 0 : Math.trunc(this.sum / this.timed);
  }

  /** The sample variance in ms², truncated (0 for a single sample). */
  variance(): number {
    const n = this.timed;
    if (n < 2) return 0;
    const avg = this.sum / n;
    return Math.max(0, Math.trunc((this.sumSq - n * avg * avg) / (n - 1)));
  }

  /** The loss percentage, as an integer (QNX ping) or one decimal (ping6) formats it. */
  lossPercent(): number {
    return this.transmitted === 0
      ? 0
      : ((this.transmitted - this.received) * 100) / this.transmitted;
  }
}

// ---------------------------------------------------------------------------
// Echo payload

/** Bytes of the timestamp at the start of the echo data (BSD's `struct tv32`). */
export const TIMESTAMP_LEN = 8;

/**
 * Writes the BSD echo data into `data`: a `tv32` timestamp (seconds and
 * microseconds, network order) when there is room, then the fill: the
 * `-p` pattern repeated, or by default each byte's own offset plus `fillBase`
 * (ping counts from the data, ping6 from the ICMPv6 header).
 */
export function fillEchoData(
  data: Uint8Array,
  nowMs: number,
  pattern: Uint8Array | null,
  fillBase: number,
): void {
  const timed = data.length >= TIMESTAMP_LEN;
  const start = timed ? TIMESTAMP_LEN : 0;
  for (let i = start; i < data.length; i++) {
    data[i] = pattern && pattern.length > 0
      ? pattern[(i - start) % pattern.length]
      : (i + fillBase) & 0xff;
  }
  if (!timed) return;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const sec = Math.floor(nowMs / 1000);
  view.setUint32(0, sec >>> 0);
  view.setUint32(4, Math.floor((nowMs - sec * 1000) * 1000) >>> 0);
}

/** The send time carried by echo data, in ms; null when the data is too short. */
export function readEchoTimestamp(data: Uint8Array): number | null {
  if (data.length < TIMESTAMP_LEN) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return view.getUint32(0) * 1000 + view.getUint32(4) / 1000;
}

/**
 * The round trip in whole ms, from a send time recovered from 32-bit seconds.
 * Negative differences (a clock step) count as 0, as BSD clamps them.
 */
export function roundTripMs(sentMs: number, nowMs: number): number {
  // The tv32 seconds wrap at 2^32; bring the send time next to now.
  const wrap = 2 ** 32 * 1000;
  let sent = sentMs;
  while (nowMs - sent > wrap / 2) sent += wrap;
  return Math.max(0, Math.floor(nowMs - sent));
}

/** Parses `-p pattern`: up to 16 bytes of hex digits, as BSD's fill() reads them. */
export function parsePattern(text: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]+$/.test(text)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < text.length && bytes.length < 16; i += 2) {
    bytes.push(parseInt(text.slice(i, i + 2), 16));
  }
  return new Uint8Array(bytes);
}

// ---------------------------------------------------------------------------
// Small shared pieces

/** Bytes of base64 text; empty for malformed input. */
export function fromBase64(text: string): Uint8Array {
  return decodeBase64(text) ?? new Uint8Array(0);
}

/** The errno message of an error, or its text. */
export function errorText(e: unknown): string {
  if (e instanceof ErrnoError) return strerror(e.code);
  return e instanceof Error ? e.message : String(e);
}

/** A positive decimal number or null (for `-c`, `-s`, `-l`, ...). */
export function parseCount(text: string, min: number, max: number): number | null {
  if (!/^\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

/** Seconds as BSD's strtod reads them for `-i`/`-w`; null when malformed or negative. */
export function parseSeconds(text: string): number | null {
  if (!/^(\d+\.?\d*|\.\d+)$/.test(text)) return null;
  return Number(text);
}

/** How the caller learns of SIGINT; the command entry wires Deno's signal listener. */
export type InterruptHook = (handler: () => void) => () => void;

/** Wires SIGINT through `Deno.addSignalListener` (the command entries use this). */
export const DENO_SIGINT: InterruptHook = (handler) => {
  Deno.addSignalListener("SIGINT", handler);
  return () => Deno.removeSignalListener("SIGINT", handler);
};

/** Options shared by `pingMain` and `ping6Main`, for tests and embedders. */
export interface PingOptions {
  /** Default {@linkcode SYSTEM_CLOCK}. */
  clock?: PingClock;
  /** Default: no SIGINT handling (the command entries pass {@linkcode DENO_SIGINT}). */
  onInterrupt?: InterruptHook;
  /** The echo identifier's source; default `Deno.pid`. */
  pid?: number;
}

/**
 * Connects, opens the raw socket, runs `body` and closes both. A stack that
 * does not answer, or refuses the socket, prints `tool: socket: <strerror>`
 * and gives exit status 2.
 */
export async function withRawSocket(
  ctx: ToolContext,
  domain: "inet" | "inet6",
  proto: number,
  body: (client: ControlClient, sock: number) => Promise<number>,
): Promise<number> {
  let client: ControlClient;
  try {
    client = await ctx.connect();
  } catch (e) {
    ctx.stderr(`${ctx.name}: socket: ${errorText(e)}\n`);
    return 2;
  }
  try {
    let sock: number;
    try {
      sock = (await client.call({ op: "sockOpen", domain, type: "raw", proto })).sock;
    } catch (e) {
      ctx.stderr(`${ctx.name}: socket: ${errorText(e)}\n`);
      return 2;
    }
    const code = await body(client, sock);
    // Closing is best effort: the connection's end closes the socket anyway.
    await client.call({ op: "sockClose", sock }).catch(() => {});
    return code;
  } finally {
    client.close();
  }
}
