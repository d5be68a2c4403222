/**
 * Bulk TCP transfers between the two stacks of a {@linkcode FaultyLink}, in
 * virtual time: a listener on one side, a connection from the other, the
 * sender writing a deterministic pattern as fast as its socket takes it and
 * the receiver checking every byte against the pattern as it reads.
 *
 * @module
 */

import type { Stack } from "../../core/stack.ts";
import type { TcpHandle } from "../../core/socket/tcp_handle.ts";
import { TCP_EVENT } from "../../core/socket/tcp_handle.ts";
import type { FaultyLink } from "./link_faults.ts";

/** Byte `i` of the pattern of stream `seed`. */
export function patternByte(i: number, seed: number): number {
  return ((i * 131 + (i >>> 13) * 7 + seed) & 0xff);
}

/** One direction of a transfer, as it stands. */
export interface Flow {
  /** Bytes the sender wrote, and the receiver read and checked. */
  written: number;
  read: number;
  /** First offset whose byte was wrong, or -1. */
  firstBad: number;
  /** The receiver read the end of the stream. */
  ended: boolean;
  /** An error either socket reported. */
  error: string | null;
  sender: TcpHandle;
  receiver: TcpHandle;
}

/** Options of {@linkcode startFlow}. */
export interface FlowOptions {
  family?: 4 | 6;
  /** Bytes to send, then the sender shuts down its side; Infinity: until stopped. */
  bytes: number;
  port?: number;
  seed?: number;
  /** Socket buffers to set on both ends (default: the stacks' defaults, auto-tuned). */
  buffer?: number;
  congestion?: string;
}

const CHUNK = 65536;

/**
 * Starts a flow from `from` to `to` (each a stack of `link`): listener on
 * `to`, connection from `from`. Returns its live state; run the link until
 * `flow.ended`.
 */
export function startFlow(link: FaultyLink, from: Stack, to: Stack, opts: FlowOptions): Flow {
  const family = opts.family ?? 4, port = opts.port ?? 5001, seed = opts.seed ?? 1;
  const toAddr = to === link.b
    ? (family === 4 ? "192.0.2.2" : "2001:db8::2")
    : (family === 4 ? "192.0.2.1" : "2001:db8::1");
  const listener = to.openTcp(family);
  if (opts.buffer) listener.setOption("SO_RCVBUF", opts.buffer);
  listener.bind(toAddr, port);
  listener.listen(1);
  const sender = from.openTcp(family);
  if (opts.buffer) sender.setOption("SO_SNDBUF", opts.buffer);
  if (opts.congestion) sender.setCongestion(opts.congestion);
  const flow: Flow = {
    written: 0,
    read: 0,
    firstBad: -1,
    ended: false,
    error: null,
    sender,
    receiver: null as unknown as TcpHandle,
  };
  const out = new Uint8Array(CHUNK), inBuf = new Uint8Array(CHUNK);
  const write = () => {
    try {
      while (flow.written < opts.bytes) {
        const n = Math.min(CHUNK, opts.bytes - flow.written);
        for (let i = 0; i < n; i++) out[i] = patternByte(flow.written + i, seed);
        const k = sender.write(out, 0, n);
        flow.written += k;
        if (k < n) return;
      }
      if (
        flow.written === opts.bytes && opts.bytes !== Infinity && sender.state === "ESTABLISHED"
      ) {
        sender.shutdownWrite();
      }
    } catch (e) {
      flow.error ??= `sender: ${(e as Error).message}`;
    }
  };
  const read = () => {
    const r = flow.receiver;
    try {
      for (;;) {
        const n = r.read(inBuf);
        if (n < 0) {
          flow.ended = true;
          r.close();
          return;
        }
        if (n === 0) return;
        if (flow.firstBad < 0) {
          for (let i = 0; i < n; i++) {
            if (inBuf[i] !== patternByte(flow.read + i, seed)) {
              flow.firstBad = flow.read + i;
              break;
            }
          }
        }
        flow.read += n;
      }
    } catch (e) {
      flow.error ??= `receiver: ${(e as Error).message}`;
    }
  };
  listener.onEvent = () => {
    const c = listener.accept();
    if (c === null) return;
    flow.receiver = c;
    c.onEvent = read;
    listener.close();
    read();
  };
  sender.onEvent = (ev) => {
    if (ev & TCP_EVENT.ERROR) flow.error ??= `sender: ${sender.error}`;
    if (ev & (TCP_EVENT.CONNECTED | TCP_EVENT.WRITABLE)) write();
  };
  sender.connect(toAddr, port);
  return flow;
}
