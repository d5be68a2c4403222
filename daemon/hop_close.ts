/**
 * What the datagram and stream sides of the socket hop share when a program's
 * connection ends badly (a refusal, a protocol error): the errno number a
 * thrown value answers with, and the gentle hang-up.
 *
 * @module
 */

import { ErrnoError, errnoNumber } from "../core/errno.ts";

/** How long a refused connection may take to flush its last frames and hang up. */
export const FLUSH_MS = 1000;
/** Bytes read and dropped from a refused connection before it is closed anyway. */
export const DRAIN_MAX = 1 << 20;

/** The errno number a failed request answers with (EINVAL for anything not an `ErrnoError`). */
export function errnoOf(e: unknown): number {
  return errnoNumber(e instanceof ErrnoError ? e.code : "EINVAL");
}

/**
 * Half-closes `conn`, then reads and drops what the program still sends
 * until it closes, `deadline` (ms, `Date.now()`) passes, or
 * {@linkcode DRAIN_MAX} bytes were dropped: closing with unread input would
 * make the kernel reset the connection, and the program could see
 * ECONNRESET before the frame that says why (ENFILE, EPROTO).
 */
export async function drainUntilClosed(conn: Deno.Conn, deadline: number): Promise<void> {
  try {
    await conn.closeWrite();
  } catch {
    return;
  }
  const sink = new Uint8Array(4096);
  for (let total = 0; total < DRAIN_MAX && Date.now() < deadline;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(sink).catch(() => null),
      new Promise<null>((r) => timer = setTimeout(() => r(null), deadline - Date.now())),
    ]);
    clearTimeout(timer);
    if (n === null) return;
    total += n;
  }
}
