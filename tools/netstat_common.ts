/**
 * What every part of `netstat` shares: the parsed options, the error that
 * ends a run with `netstat: <message>`, the request helper that raises it, and
 * the printf column pieces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { left, right } from "./netstat_common.ts";
 * assert.equal(left("Proto", 6) + right(42, 4), "Proto   42");
 * ```
 * @module
 */

import { ErrnoError } from "../core/errno.ts";
import type { ControlOp, ControlResults } from "../core/control/ops.ts";
import type { ControlClient, RequestOf } from "./tool_context.ts";

/** The address families `-f` names (`unix` is `local`). */
export type Family = "inet" | "inet6" | "local" | "arp";

/** The command line, parsed. */
export interface Options {
  /** `-A`: sockets with their protocol control block's address, in narrower columns. */
  pcbAddrs: boolean;
  /** `-a`: the socket titles say ` (including servers)`. */
  all: boolean;
  /** `-b`: byte counters in `-i`. */
  bytes: boolean;
  /** `-d`: drops column in `-i`. */
  drops: boolean;
  /** `-f` / `-u`. */
  family: Family | null;
  /** `-I`. */
  iface: string | null;
  /** `-i` (also set by `-I`). */
  ifaces: boolean;
  /** `-L`: hide link-layer (RTF_LLINFO) routes. */
  noLinkRoutes: boolean;
  /** `-n` or `-S`: numeric socket addresses. */
  numericAddr: boolean;
  /** `-n` alone: numeric route and interface names, wide untruncated route columns. */
  nflag: boolean;
  /** `-p`, resolved to its canonical name. */
  proto: string | null;
  /** `-r`. */
  routes: boolean;
  /** How many `-s`. */
  sflag: number;
  /** `-v`. */
  verbose: boolean;
}

/** A failure reported as `netstat: <message>` with exit status 1. */
export class NetstatError extends Error {}

/**
 * Sends one request; an error reply becomes `netstat: <context>: <message>`.
 *
 * @param client the stack's control connection
 * @param req the request
 * @param context the words before the error message
 * @returns the request's result
 */
export async function call<O extends ControlOp>(
  client: ControlClient,
  req: RequestOf<O>,
  context: string,
): Promise<ControlResults[O]> {
  try {
    return await client.call(req);
  } catch (e) {
    if (e instanceof ErrnoError) throw new NetstatError(`${context}: ${e.message}`);
    throw e;
  }
}

/**
 * `%-W.Ps`: left-justified in `width`, cut to `prec` characters when given.
 *
 * @param s the text
 * @param width the least width
 * @param prec the most characters kept
 * @returns the padded text
 */
export function left(s: string, width: number, prec?: number): string {
  return (prec === undefined ? s : s.slice(0, prec)).padEnd(width);
}

/**
 * `%Wd` / `%W.Ws`: right-justified in `width`.
 *
 * @param v the value
 * @param width the least width
 * @returns the padded text
 */
export function right(v: string | number, width: number): string {
  return String(v).padStart(width);
}
