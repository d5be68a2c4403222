/**
 * The core's TCP edge (`core/socket/tcp_handle.ts`) as the library and the
 * daemon use it: the handle's calls and its event bits, in one place.
 *
 * PLACEHOLDER until the engine lands on main: these are the shapes the shared
 * plan promises, so the library type-checks; nothing here implements them.
 *
 * @module
 */

import type { Errno } from "../core/errno.ts";
import type { Endpoint, IpAddr } from "../core/net/inet_addr.ts";
import type { Stack } from "../core/stack.ts";

/** Options of a TCP socket by the core's names. */
export type TcpOption =
  | "SO_KEEPALIVE"
  | "TCP_NODELAY"
  | "SO_LINGER"
  | "SO_RCVBUF"
  | "SO_SNDBUF"
  | "SO_REUSEADDR"
  | "TCP_KEEPIDLE"
  | "TCP_KEEPINTVL"
  | "TCP_KEEPCNT"
  | "TCP_MAXSEG"
  | "IPV6_V6ONLY";

/** Event bits `onEvent` reports. */
export const TCP_EVENT = {
  CONNECTED: 1,
  READABLE: 2,
  WRITABLE: 4,
  ACCEPTABLE: 8,
  EOF: 16,
  ERROR: 32,
  CLOSED: 64,
} as const;

/** One TCP socket of a stack (see the shared plan). */
export interface TcpHandle {
  readonly family: 4 | 6;
  readonly state: string;
  readonly closed: boolean;
  bind(addr: IpAddr | string, port: number): void;
  listen(backlog: number): void;
  connect(addr: IpAddr | string, port: number): void;
  accept(): TcpHandle | null;
  write(data: Uint8Array): number;
  read(dst: Uint8Array): number;
  shutdownWrite(): void;
  close(): void;
  setOption(name: TcpOption, value: number): void;
  getOption(name: TcpOption): number;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly readableBytes: number;
  readonly writableBytes: number;
  readonly error: Errno | null;
  onEvent: ((events: number) => void) | null;
}

/** A new TCP socket of `family` on `stack`. */
export function openTcp(stack: Stack, family: 4 | 6): TcpHandle {
  return (stack as unknown as { openTcp(f: 4 | 6): TcpHandle }).openTcp(family);
}
