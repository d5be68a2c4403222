/**
 * The core's TCP edge (`core/socket/tcp_handle.ts`) as the library and the
 * daemon's socket hop use it, in one place.
 *
 * @module
 */

import type { Stack } from "../core/stack.ts";
import type { TcpHandle } from "../core/socket/tcp_handle.ts";

export { TCP_EVENT, TcpHandle, type TcpOption } from "../core/socket/tcp_handle.ts";

/** A new TCP socket of `family` on `stack`; unprivileged ones may not bind ports below 1024. */
export function openTcp(stack: Stack, family: 4 | 6, privileged = true): TcpHandle {
  return stack.openTcp(family, { privileged });
}
