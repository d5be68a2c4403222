/**
 * libsocket: sockets for Deno programs through an io-pkt stack, named after
 * QNX's libsocket, which speaks to io-pkt as this speaks to our daemon.
 *
 * Moving a program from Deno's own stack is one import:
 * ```ts ignore
 * import { listenDatagram } from "./mod.ts";
 * const conn = listenDatagram({ port: 5353, transport: "udp" }); // via $SOCK
 * for await (const [data, addr] of conn) await conn.send(data, addr);
 * ```
 * and a program with its own stack passes it: `listenDatagram(opts, { stack })`.
 * TCP likewise: `connect` and `listen` are `Deno.connect` and `Deno.listen`
 * (`const conn = await connect({ hostname: "192.0.2.9", port: 80 })`).
 * `resolveDns` (Deno's `Deno.resolveDns`) sends its queries the same way.
 *
 * @module
 */

export {
  type DatagramConn,
  listenDatagram,
  type MulticastV4Membership,
  type MulticastV6Membership,
  type StackChoice,
  type UdpAddr,
  type UdpListenOptions,
} from "./datagram.ts";
export {
  connect,
  listen,
  type TcpAddr,
  type TcpConn,
  type TcpConnectOptions,
  type TcpListener,
  type TcpListenOptions,
} from "./stream.ts";
export type { TcpOption } from "./tcp_core.ts";
export {
  type DnsRecordType,
  type MxRecord,
  type NameServer,
  resolveDns,
  type ResolveDnsOptions,
  type SoaRecord,
  type SrvRecord,
} from "./dns.ts";
