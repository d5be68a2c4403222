/**
 * A throughput grid in the spirit of smoltcp's `tests/netsim.rs`: one bulk
 * transfer per cell over a {@linkcode FaultyLink}, for every RTT x loss x
 * reordering of the grid, for a bounded virtual duration; the goodput beside
 * the ideal, as a fixed-width table compared with a snapshot file.
 *
 * The transfer itself is the caller's (the TCP tests give one once the
 * engine is there): `transfer(link, seconds)` moves as many bytes as it can
 * from `link.a` to `link.b` in `seconds` of virtual time and returns the bytes
 * the receiving program got.
 *
 * Per cell, both directions get the line `rate`, half the RTT as delay and a
 * drop-tail queue (`queueBytes`, default the larger of the bandwidth-delay
 * product and 64 KiB); the loss and reordering apply to the data direction
 * (a→b) only, so that the loss is the `p` of Mathis et al. Each cell has a
 * seed of its own (from `seed` and its index): the whole grid is
 * deterministic, so a snapshot can be compared exactly.
 *
 * The ideal goodput is min(line rate, buffer / RTT, MSS / RTT x 1.22 / sqrt(p)),
 * each term dropped when it does not apply (RTT 0, p 0).
 *
 * @example
 * ```ts
 * const cells = runGrid({ transfer: myTcpBulk, seconds: 5, bufferBytes: 256 * 1024 });
 * checkSnapshot("tcp_grid_newreno", formatGrid(cells, opts));
 * ```
 * @module
 */

import { FaultyLink } from "./link_faults.ts";
import type { TcpHandle } from "../../core/socket/tcp_handle.ts";
import { startFlow } from "./tcp_bulk.ts";

/** The grid's axes by default. */
export const GRID_RTTS_MS: readonly number[] = [0, 10, 50, 100, 300];
export const GRID_LOSSES: readonly number[] = [0, 0.001, 0.01, 0.05];
export const GRID_REORDERS: readonly number[] = [0, 0.01, 0.03];

/** Moves bytes from `link.a` to `link.b` for `seconds` of virtual time; returns the bytes received. */
export type Transfer = (link: FaultyLink, seconds: number) => number;

/** Options of {@linkcode tcpBulk}. */
export interface TcpBulkOptions {
  /** Address family (default 4). */
  family?: 4 | 6;
  /** SO_SNDBUF of the sender and SO_RCVBUF of the receiver (absent: the stack's defaults, auto-tuned). */
  bufferBytes?: number;
  /** Congestion control of the sender (`TCP_CONGESTION`; absent: the stack's default). */
  congestion?: string;
  /** The port b listens on (default 5001). */
  port?: number;
}

/**
 * A bulk TCP transfer as a {@linkcode Transfer} (a {@linkcode startFlow} of
 * tests/kit/tcp_bulk.ts from a to b that never ends): returns the bytes b
 * read, every one checked, once `seconds` of virtual time have passed since
 * the connect; both ends are then aborted. Throws when a byte came wrong or
 * a socket reported an error.
 */
export function tcpBulk(opts: TcpBulkOptions = {}): Transfer {
  return (link, seconds) => {
    const flow = startFlow(link, link.a, link.b, {
      bytes: Infinity,
      family: opts.family,
      port: opts.port,
      buffer: opts.bufferBytes,
      congestion: opts.congestion,
    });
    link.run(link.now + seconds * 1000);
    if (flow.firstBad >= 0) throw new Error(`byte ${flow.firstBad} of the stream came wrong`);
    if (flow.error !== null) throw new Error(flow.error);
    flow.sender.abort();
    (flow.receiver as TcpHandle | null)?.abort();
    return flow.read;
  };
}

/** What a grid run does. */
export interface GridOptions {
  transfer: Transfer;
  /** Virtual seconds per cell (default 5). */
  seconds?: number;
  /** Line rate, bytes per second (default 1.25e6: 10 Mbit/s). */
  rate?: number;
  /** The buffer that bounds the window (for the ideal; default 65535). */
  bufferBytes?: number;
  /** The segment size (for the ideal; default 1460). */
  mss?: number;
  /** Drop-tail queue of each direction; default max(rate x RTT, 64 KiB). */
  queueBytes?: number;
  /** A reordered frame is overtaken by this many (default 3: enough for a fast retransmit). */
  reorderPackets?: number;
  rtts?: readonly number[];
  losses?: readonly number[];
  reorders?: readonly number[];
  /** Base seed (default 1). */
  seed?: number;
  /** Called after each cell (progress, real-time figures). */
  onCell?: (cell: GridCell, realMs: number) => void;
}

/** One cell's result. */
export interface GridCell {
  rttMs: number;
  loss: number;
  reorder: number;
  /** Bytes the receiver got. */
  bytes: number;
  /** Goodput and ideal, bits per second. */
  goodput: number;
  ideal: number;
}

/**
 * The ideal goodput in bytes per second: min(rate, buffer / RTT, Mathis
 * bound MSS / RTT x 1.22 / sqrt(p)); RTT 0 leaves only the rate, p 0 drops
 * the Mathis term.
 */
export function idealGoodput(
  rate: number,
  bufferBytes: number,
  mss: number,
  rttMs: number,
  loss: number,
): number {
  let ideal = rate;
  if (rttMs > 0) {
    const rtt = rttMs / 1000;
    ideal = Math.min(ideal, bufferBytes / rtt);
    if (loss > 0) ideal = Math.min(ideal, mss / rtt * 1.22 / Math.sqrt(loss));
  }
  return ideal;
}

/** Runs every cell of the grid, RTT slowest-varying, then loss, then reordering. */
export function runGrid(opts: GridOptions): GridCell[] {
  const seconds = opts.seconds ?? 5, rate = opts.rate ?? 1.25e6;
  const buffer = opts.bufferBytes ?? 65535, mss = opts.mss ?? 1460;
  const cells: GridCell[] = [];
  let index = 0;
  for (const rttMs of opts.rtts ?? GRID_RTTS_MS) {
    for (const loss of opts.losses ?? GRID_LOSSES) {
      for (const reorder of opts.reorders ?? GRID_REORDERS) {
        const queueBytes = opts.queueBytes ?? Math.max(rate * rttMs / 1000, 65536);
        const link = new FaultyLink({
          seed: ((opts.seed ?? 1) * 1000 + index++) >>> 0,
          both: { rate, delayMs: rttMs / 2, queueBytes },
          ab: { loss, reorder, reorderPackets: opts.reorderPackets ?? 3 },
        });
        const started = performance.now();
        const bytes = opts.transfer(link, seconds);
        const cell: GridCell = {
          rttMs,
          loss,
          reorder,
          bytes,
          goodput: bytes * 8 / seconds,
          ideal: idealGoodput(rate, buffer, mss, rttMs, loss) * 8,
        };
        cells.push(cell);
        opts.onCell?.(cell, performance.now() - started);
      }
    }
  }
  return cells;
}

const COLUMNS = ["rtt_ms", "loss_%", "reorder_%", "goodput_Mbit/s", "ideal_Mbit/s", "ratio_%"];
const WIDTH = 15;

/**
 * The grid as a fixed-width table: a `#` line per setting in `about`, a
 * header line, then one line per cell (Mbit/s to 3 decimals, ratio to 1).
 */
export function formatGrid(cells: GridCell[], about: Record<string, string | number> = {}): string {
  const lines = Object.entries(about).map(([k, v]) => `# ${k}: ${v}`);
  lines.push(COLUMNS.map((c) => c.padStart(WIDTH)).join(""));
  for (const c of cells) {
    lines.push(
      [
        String(c.rttMs),
        (c.loss * 100).toFixed(1),
        (c.reorder * 100).toFixed(1),
        (c.goodput / 1e6).toFixed(3),
        (c.ideal / 1e6).toFixed(3),
        (c.goodput / c.ideal * 100).toFixed(1),
      ].map((v) => v.padStart(WIDTH)).join(""),
    );
  }
  return lines.join("\n") + "\n";
}

/** Where snapshots live. */
export const SNAPSHOT_DIR: string = new URL("../transport/snapshots/", import.meta.url).pathname;

/**
 * Compares `text` (a {@linkcode formatGrid} table) with the snapshot
 * `<dir>/<name>.txt`. With `UPDATE_SNAPSHOTS=1` in the environment (or
 * `update`) the file is written instead. Throws when the file is missing, when a `#` line, the
 * header or a row's key (RTT, loss, reordering) differs, or when a number
 * differs by more than `tolerance` (relative; default 0: the grid is
 * deterministic, so equal is expected), naming every differing cell.
 */
export function checkSnapshot(
  name: string,
  text: string,
  opts: { tolerance?: number; dir?: string; update?: boolean } = {},
): void {
  const file = `${opts.dir ?? SNAPSHOT_DIR}${name}.txt`;
  if (opts.update ?? Deno.env.get("UPDATE_SNAPSHOTS") === "1") {
    Deno.mkdirSync(opts.dir ?? SNAPSHOT_DIR, { recursive: true });
    Deno.writeTextFileSync(file, text);
    return;
  }
  let want: string;
  try {
    want = Deno.readTextFileSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`snapshot ${file} is missing: run with UPDATE_SNAPSHOTS=1 to write it`);
    }
    throw e;
  }
  const diffs = diffTables(want, text, opts.tolerance ?? 0);
  if (diffs.length > 0) {
    throw new Error(
      `${diffs.length} difference(s) from snapshot ${file} (UPDATE_SNAPSHOTS=1 to accept):\n` +
        diffs.join("\n") + `\n--- got:\n${text}`,
    );
  }
}

/** The differences between two tables, one line each; numbers within `tolerance` (relative) agree. */
export function diffTables(want: string, got: string, tolerance: number): string[] {
  const a = want.trimEnd().split("\n"), b = got.trimEnd().split("\n");
  const diffs: string[] = [];
  if (a.length !== b.length) diffs.push(`${b.length} lines, snapshot has ${a.length}`);
  const header = a.findIndex((l) => !l.startsWith("#"));
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (i <= header || a[i].startsWith("#")) {
      if (a[i] !== b[i]) diffs.push(`line ${i + 1}: "${b[i]}", snapshot "${a[i]}"`);
      continue;
    }
    const wa = a[i].trim().split(/\s+/), wb = b[i].trim().split(/\s+/);
    const key = `rtt ${wb[0]} ms, loss ${wb[1]} %, reorder ${wb[2]} %`;
    if (wa.slice(0, 3).join(" ") !== wb.slice(0, 3).join(" ")) {
      diffs.push(
        `line ${i + 1}: cell ${key}, snapshot has rtt ${wa[0]} loss ${wa[1]} reorder ${wa[2]}`,
      );
      continue;
    }
    for (let col = 3; col < Math.max(wa.length, wb.length); col++) {
      const x = Number(wa[col]), y = Number(wb[col]);
      const close = x === y || Math.abs(x - y) <= tolerance * Math.max(Math.abs(x), Math.abs(y));
      if (!close) {
        diffs.push(
          `${key}: ${COLUMNS[col] ?? `column ${col + 1}`} ${wb[col]}, snapshot ${wa[col]}`,
        );
      }
    }
  }
  return diffs;
}
