/**
 * What a datagram socket of `libsocket` needs from whatever carries it: a
 * daemon through the socket hop (`hop_socket.ts`) or a stack embedded in the
 * program (`embedded.ts`). `datagram.ts` builds the Deno-shaped connection
 * over either.
 *
 * @module
 */

import type { Endpoint, IpAddr } from "../core/net/inet_addr.ts";
import type { UdpOption } from "../core/socket/udp_socket.ts";

/** One datagram socket, as `datagram.ts` drives it; failures are `ErrnoError`s. */
export interface DatagramBackend {
  /** The next datagram; its source is written to `from` just before the promise resolves. */
  receive(from: Endpoint): Promise<Uint8Array>;
  /** Sends to `to` (null: the connected peer); resolves once handed on, not once delivered. */
  send(data: Uint8Array, to: Endpoint | null): Promise<void>;
  setOption(name: UdpOption, value: number): Promise<void>;
  getOption(name: UdpOption): Promise<number>;
  /** Joins or leaves `group` on interface `ifIndex`, or (0) on the one holding `ifAddr`. */
  membership(
    how: "join" | "leave",
    group: IpAddr,
    ifIndex: number,
    ifAddr: IpAddr | null,
  ): Promise<void>;
  bind(local: Endpoint): Promise<void>;
  /** Connects to `to`, or (null) forgets the peer. */
  connect(to: Endpoint | null): Promise<void>;
  localAddress(): Promise<Endpoint>;
  close(): void;
}
