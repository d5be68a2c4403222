/**
 * Shared openings for the scripted TCP tests (tests/transport/tcp_script_*_test.ts):
 * a listener plus a completed passive open, or a completed active open, on a
 * {@linkcode TcpScript}, returning the sequence numbers the script needs.
 *
 * @module
 */

import type { TcpHandle } from "../../core/socket/tcp_handle.ts";
import { type OptionSpec, TcpScript } from "../kit/tcp_script.ts";
import { ack, flags, tcp } from "../kit/tcp_check.ts";

/** The peer's initial sequence number in every script. */
export const PEER_ISS = 1000;

/** A connection the script holds open: the stack's socket and both sides' next sequence numbers. */
export interface Opened {
  ctx: TcpScript;
  /** The stack's socket (accepted or connected). */
  conn: TcpHandle;
  /** The listener, for a passive open. */
  listener: TcpHandle | null;
  /** The stack's initial sequence number. */
  iss: number;
  /** The stack's next sequence number (iss + 1 after the handshake). */
  stackSeq: number;
  /** The peer's next sequence number. */
  peerSeq: number;
  /** The stack's TS val on the SYN-ACK/SYN (when timestamps were agreed), else 0. */
  tsVal: number;
}

/** Options of a script's opening. */
export interface OpenOptions {
  /** The peer's SYN options (default: MSS 1460 only). */
  options?: OptionSpec;
  /** The peer's window field (default 65535). */
  window?: number;
  /** When the ACK completing the handshake arrives (default 10 ms). */
  ackAt?: number;
  /** Runs on the listener (or the connecting socket) before the SYN. */
  setup?: (h: TcpHandle) => void;
  /** `net.inet.tcp.*` sysctls to set first, by name without the prefix. */
  sysctl?: Record<string, string | number>;
  family?: 4 | 6;
}

/** A fresh script with `net.inet.tcp.<name>` sysctls set. */
export function script(opts: OpenOptions = {}): TcpScript {
  const ctx = new TcpScript({ family: opts.family ?? 4 });
  for (const [name, value] of Object.entries(opts.sysctl ?? {})) {
    ctx.stack.sysctl.set(`net.inet.tcp.${name}`, String(value));
  }
  return ctx;
}

/** A listener on port 80 of a fresh script (backlog 8). */
export function listening(opts: OpenOptions = {}): { ctx: TcpScript; listener: TcpHandle } {
  const ctx = script(opts);
  const listener = ctx.stack.openTcp(ctx.family);
  listener.bind(ctx.family === 4 ? "0.0.0.0" : "::", ctx.stackPort);
  opts.setup?.(listener);
  listener.listen(8);
  return { ctx, listener };
}

/**
 * A passive open, checked: SYN from the peer at t=0, the SYN-ACK, the ACK
 * at `ackAt`, and the accepted socket.
 */
export function accepted(opts: OpenOptions = {}): Opened {
  const { ctx, listener } = listening(opts);
  const options = opts.options ?? { mss: 1460 };
  ctx.send({ flags: "S", seq: PEER_ISS, window: opts.window ?? 65535, options });
  const synAck = ctx.expect(tcp(flags("SA"), ack(PEER_ISS + 1)));
  const iss = synAck.tcp!.seq;
  const tsVal = synAck.tcp!.options.timestamp ? synAck.tcp!.options.tsVal : 0;
  ctx.send({
    flags: "A",
    seq: PEER_ISS + 1,
    ack: iss + 1,
    window: opts.window ?? 65535,
    options: options.timestamps ? { timestamps: [options.timestamps[0] + 1, tsVal] } : undefined,
    at: opts.ackAt ?? 10,
  });
  const conn = listener.accept();
  if (conn === null) throw new Error("the handshake's ACK queued no connection");
  return { ctx, conn, listener, iss, stackSeq: (iss + 1) >>> 0, peerSeq: PEER_ISS + 1, tsVal };
}

/**
 * An active open, checked: connect to the peer's port 40000, the SYN, the
 * peer's SYN-ACK (with `options`) at `ackAt`, and the stack's ACK.
 */
export function connected(opts: OpenOptions = {}): Opened {
  const ctx = script(opts);
  const conn = ctx.stack.openTcp(ctx.family);
  opts.setup?.(conn);
  conn.bind(ctx.family === 4 ? "0.0.0.0" : "::", ctx.stackPort);
  conn.connect(ctx.peerAddr, ctx.peerPort);
  ctx.advance(0); // the ARP answer comes back
  const syn = ctx.expect(tcp(flags("S")));
  const iss = syn.tcp!.seq;
  const tsVal = syn.tcp!.options.timestamp ? syn.tcp!.options.tsVal : 0;
  const options = opts.options ?? { mss: 1460 };
  ctx.send({
    flags: "SA",
    seq: PEER_ISS,
    ack: iss + 1,
    window: opts.window ?? 65535,
    options: options.timestamps
      ? { ...options, timestamps: [options.timestamps[0], tsVal] }
      : options,
    at: opts.ackAt ?? 10,
  });
  ctx.expect(tcp(flags("A"), ack(PEER_ISS + 1)));
  return {
    ctx,
    conn,
    listener: null,
    iss,
    stackSeq: (iss + 1) >>> 0,
    peerSeq: PEER_ISS + 1,
    tsVal,
  };
}

/** Reads everything readable from `h` (bytes count). */
export function drain(h: TcpHandle): number {
  const buf = new Uint8Array(1 << 16);
  let total = 0;
  for (let i = 0; i < 1000; i++) {
    const n = h.read(buf);
    if (n <= 0) break;
    total += n;
  }
  return total;
}

/** `n` bytes numbered `i & 0xff`. */
export function bytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i & 0xff);
}
