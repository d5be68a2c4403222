/**
 * The control socket's wire format: versioned, length-prefixed frames.
 *
 * ```
 *  0               4       5       6               8              12
 *  +---------------+-------+-------+---------------+---------------+----------
 *  | payload length| ver   | kind  | flags (0)     | request id    | payload
 *  +---------------+-------+-------+---------------+---------------+----------
 * ```
 * All integers big-endian. `kind` 1 is a request, 2 a reply; request and reply
 * payloads are UTF-8 JSON ({@linkcode ControlRequest} / {@linkcode ControlReply}).
 * A reply echoes its request's id. Frames larger than {@linkcode MAX_PAYLOAD}
 * or of another version are refused. Later kinds (socket data) carry raw bytes.
 *
 * @example Encode a request and decode it again
 * ```ts
 * import { encodeFrame, FrameDecoder, FRAME_KIND } from "./protocol.ts";
 * const bytes = encodeFrame(FRAME_KIND.request, 7, { op: "info" });
 * const dec = new FrameDecoder();
 * dec.push(bytes);
 * const frame = dec.next();
 * console.log(frame?.id); // 7
 * ```
 * @module
 */

import type { ControlReply, ControlRequest } from "./ops.ts";
import { isErrno } from "../errno.ts";
import { OP_CHANGES_CONFIG } from "./ops.ts";

/** Protocol version this code speaks. */
export const PROTOCOL_VERSION = 1;
/** Bytes before the payload. */
export const HEADER_LEN = 12;
/** Largest request payload the daemon accepts (1 MiB). */
export const MAX_PAYLOAD = 1 << 20;
/**
 * Largest reply a client accepts (64 MiB): a socket list with 10 000 TCP
 * connections is a few MiB, as NetBSD's pcblist sysctl has no bound either.
 */
export const MAX_REPLY_PAYLOAD = 64 << 20;

/** Frame kinds: requests and their replies, and events the daemon pushes (socket datagrams). */
export const FRAME_KIND = { request: 1, reply: 2, event: 3 } as const;
/** A frame kind number. */
export type FrameKind = typeof FRAME_KIND[keyof typeof FRAME_KIND];

/** One decoded frame; `payload` is a view into the decoder's buffer, valid until the next push. */
export interface Frame {
  version: number;
  kind: number;
  flags: number;
  id: number;
  payload: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes one frame whose payload is `body` as JSON. */
export function encodeFrame(kind: FrameKind, id: number, body: unknown): Uint8Array {
  const json = encoder.encode(JSON.stringify(body));
  const max = kind === FRAME_KIND.request ? MAX_PAYLOAD : MAX_REPLY_PAYLOAD;
  if (json.length > max) throw new RangeError("Control message exceeds the maximum size");
  const out = new Uint8Array(HEADER_LEN + json.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, json.length);
  out[4] = PROTOCOL_VERSION;
  out[5] = kind;
  dv.setUint16(6, 0);
  dv.setUint32(8, id >>> 0);
  out.set(json, HEADER_LEN);
  return out;
}

/** Why a byte stream stopped making sense; the connection is closed after saying so. */
export type FrameError = "EPROTO" | "EMSGSIZE";

/**
 * Splits a byte stream into frames. Feed it with {@linkcode FrameDecoder.push},
 * drain it with {@linkcode FrameDecoder.next} until it returns `null`.
 */
export class FrameDecoder {
  readonly #maxPayload: number;
  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  /** Set once the stream is unusable (bad version or oversized frame). */
  error: FrameError | null = null;

  /** @param maxPayload the largest payload taken (requests: {@linkcode MAX_PAYLOAD}; a client reading replies: {@linkcode MAX_REPLY_PAYLOAD}) */
  constructor(maxPayload: number = MAX_PAYLOAD) {
    this.#maxPayload = maxPayload;
  }

  /** Appends received bytes. */
  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) this.#makeRoom(chunk.length);
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The next complete frame, or `null` when more bytes are needed or the stream is bad. */
  next(): Frame | null {
    if (this.error) return null;
    const avail = this.#end - this.#start;
    if (avail < HEADER_LEN) return null;
    const dv = new DataView(this.#buf.buffer, this.#start, HEADER_LEN);
    const len = dv.getUint32(0);
    const version = dv.getUint8(4);
    if (version !== PROTOCOL_VERSION) {
      this.error = "EPROTO";
      return null;
    }
    if (len > this.#maxPayload) {
      this.error = "EMSGSIZE";
      return null;
    }
    if (avail < HEADER_LEN + len) return null;
    const frame: Frame = {
      version,
      kind: dv.getUint8(5),
      flags: dv.getUint16(6),
      id: dv.getUint32(8),
      payload: this.#buf.subarray(this.#start + HEADER_LEN, this.#start + HEADER_LEN + len),
    };
    this.#start += HEADER_LEN + len;
    return frame;
  }

  #makeRoom(extra: number): void {
    const live = this.#end - this.#start;
    const need = live + extra;
    const next = need > this.#buf.length
      ? new Uint8Array(Math.max(need, this.#buf.length * 2))
      : this.#buf;
    if (next === this.#buf) next.copyWithin(0, this.#start, this.#end);
    else next.set(this.#buf.subarray(this.#start, this.#end));
    this.#buf = next;
    this.#start = 0;
    this.#end = live;
  }
}

/** Parses a frame payload as JSON; `null` when it is not valid UTF-8 JSON. */
export function decodeJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(payload));
  } catch {
    return null;
  }
}

/**
 * Checks that a decoded request names a known op; field types are checked by the
 * handler of each op. Returns the request, or `null` when it is not one.
 */
export function asControlRequest(value: unknown): ControlRequest | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const op = (value as { op?: unknown }).op;
  if (typeof op !== "string" || !Object.hasOwn(OP_CHANGES_CONFIG, op)) return null;
  return value as ControlRequest;
}

/** Checks that a decoded reply has the reply shape. */
export function asControlReply(value: unknown): ControlReply | null {
  if (typeof value !== "object" || value === null) return null;
  const r = value as { ok?: unknown; errno?: unknown };
  if (r.ok === true && "result" in r) return r as ControlReply;
  if (r.ok === false && isErrno(r.errno)) return r as ControlReply;
  return null;
}
