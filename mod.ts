/**
 * io-pkt for Deno: a user-space TCP/IP network manager, command-line compatible
 * with QNX Neutrino's io-pkt suite.
 *
 * This module is the door for programs:
 * - {@linkcode Stack}: a whole stack embedded in-process (sans-I/O: frames and
 *   time go in, frames and events come out; see its module for a two-stack
 *   example), with {@linkcode IpAddr} and {@linkcode RouteOut} for the route
 *   lookup senders use.
 * - {@linkcode connectStack}: the control client that `ifconfig`, `netstat` and
 *   `sysctl` use, to configure and inspect a running daemon.
 * - {@linkcode listenDatagram}: `Deno.listenDatagram` through the daemon that
 *   `$SOCK` names (one Unix connection per socket: `docs/socket-protocol.md`),
 *   or through an embedded {@linkcode Stack} (`{ stack }`); see `libsocket/`.
 * - {@linkcode connect} and {@linkcode listen}: `Deno.connect` and
 *   `Deno.listen` for TCP, the same two ways.
 * - {@linkcode ErrnoError}: the one error type, carrying an errno name.
 *
 * @example Inspect a running daemon (started with `prefix=/tmp/a`)
 * ```ts ignore
 * import { connectStack } from "./mod.ts";
 * const client = await connectStack("/tmp/a");
 * for (const iface of await client.call({ op: "ifList" })) console.log(iface.name);
 * client.close();
 * ```
 *
 * @example Embed a stack
 * ```ts
 * import { Stack } from "./mod.ts";
 * const stack = new Stack({ inet6: true });
 * console.log(stack.ifInfo().map((i) => i.name)); // ["lo0"]
 * ```
 * @module
 */

export { Stack, type StackOptions, type StackSysctl, VERSION } from "./core/stack.ts";
export { Endpoint, IpAddr, type IpFamily } from "./core/net/inet_addr.ts";
export { RouteOut } from "./core/net/route_out.ts";
export { IFF } from "./core/link/if_flags.ts";
export type { RawDatagram } from "./core/socket/raw.ts";
export type { ProtoCounters } from "./core/stats.ts";
export { type Errno, ErrnoError, errnoNumber, strerror } from "./core/errno.ts";
export type * from "./core/control/ops.ts";
export type {
  AttachedInterface,
  DriverHost,
  DriverModule,
  InterfaceSpec,
} from "./core/link/driver.ts";
export { connectStack, StackUnreachableError } from "./tools/client.ts";
export * from "./libsocket/mod.ts";
export type { UdpOption } from "./core/socket/udp_socket.ts";
export type { ControlClient } from "./tools/tool_context.ts";
