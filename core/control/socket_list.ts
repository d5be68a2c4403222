/**
 * The `sockList` answer: every open socket as `netstat` lists it, in the
 * order NetBSD's pcb lists give (`net.inet.udp.pcblist`, then
 * `net.inet6.udp6.pcblist`: newest first within each).
 *
 * What is listed, and how, follows NetBSD's `sysctl_inpcblist`: a socket
 * appears from the moment it is opened, bound or not (`*.*`); its foreign
 * address is only filled in once connected; Recv-Q is what the receive
 * buffer is charged (payload plus the source's sockaddr per datagram, as
 * `sbappendaddr` counts); Send-Q is 0, since UDP never holds what it sends.
 * An IPv6 socket talking IPv4 shows its v4-mapped addresses, as an `in6pcb`
 * keeps them, and scoped IPv6 addresses carry their interface's name
 * (`fe80::1%lo0`). Raw sockets are not listed: NetBSD 4's netstat has no
 * table for them.
 *
 * TCP connections come from the stack's {@linkcode TcpPcbSource}
 * (`core.tcpPcbSource`), listed before the UDP sockets of their family as
 * NetBSD's `net.inet.tcp.pcblist` comes before `net.inet.udp.pcblist`; each
 * carries its state, its PCB number for `netstat -A` and the figures
 * `netstat -v` prints. A stack without a source lists no TCP rows.
 *
 * @example
 * ```ts
 * import { Stack, stackCore } from "../stack.ts";
 * import { socketList } from "./socket_list.ts";
 * const stack = new Stack({ inet6: false });
 * stack.openUdp(4).bind("127.0.0.1", 5353);
 * console.log(socketList(stackCore(stack))[0].localPort); // 5353
 * ```
 * @module
 */

import type { StackCore } from "../stack_core.ts";
import type { IpAddr } from "../net/inet_addr.ts";
import { formatIp4, formatIp6 } from "../net/ip_addr.ts";
import type { UdpSocket } from "../socket/udp_socket.ts";
import type { SocketInfo } from "./ops.ts";
import type { TcpPcbInfo } from "./tcp_pcb_info.ts";

/**
 * Every open socket of `core`: IPv4 sockets first, TCP before UDP within a
 * family, each protocol in its source's order (newest first).
 *
 * @param core the stack's data plane
 * @returns one entry per socket
 */
export function socketList(core: StackCore): SocketInfo[] {
  const udp = core.udp.list();
  const tcp = core.tcpPcbSource?.tcpPcbs() ?? [];
  const out: SocketInfo[] = [];
  for (const family of [4, 6] as const) {
    for (const p of tcp) if (p.family === family) out.push(tcpInfo(core, p));
    for (const s of udp) if (s.family === family) out.push(udpInfo(core, s));
  }
  return out;
}

function tcpInfo(core: StackCore, p: TcpPcbInfo): SocketInfo {
  const six = p.family === 6;
  return {
    proto: six ? "tcp6" : "tcp",
    recvQ: p.recvQ,
    sendQ: p.sendQ,
    localAddr: addrText(core, p.local.addr, six),
    localPort: p.local.port,
    foreignAddr: addrText(core, p.remote.addr, six),
    foreignPort: p.remote.port,
    state: p.state,
    pcb: p.pcb,
    tcp: {
      cwnd: p.cwnd,
      ssthresh: p.ssthresh,
      srttMs: p.srttMs,
      rttvarMs: p.rttvarMs,
      rtoMs: p.rtoMs,
      retransmits: p.retransmits,
      sackHoles: p.sackHoles,
      sndWnd: p.sndWnd,
      rcvWnd: p.rcvWnd,
      mss: p.mss,
      congestion: p.congestion,
      limit: p.limit,
    },
  };
}

function udpInfo(core: StackCore, s: UdpSocket): SocketInfo {
  const six = s.family === 6;
  return {
    proto: six ? "udp6" : "udp",
    recvQ: s.queuedBytes,
    sendQ: 0,
    localAddr: addrText(core, s.local.addr, six),
    localPort: s.local.port,
    foreignAddr: s.connected ? addrText(core, s.remote.addr, six) : six ? "::" : "0.0.0.0",
    foreignPort: s.connected ? s.remote.port : 0,
  };
}

/** An address as the socket's family shows it: IPv4 in an IPv6 socket v4-mapped, zones by name. */
function addrText(core: StackCore, a: IpAddr, six: boolean): string {
  if (a.family === 4) {
    if (!six) return formatIp4(a.v4);
    return a.v4 === 0 ? "::" : `::ffff:${formatIp4(a.v4)}`;
  }
  const text = formatIp6(a.bytes);
  if (a.zone === 0) return text;
  return `${text}%${core.interfaceByIndex(a.zone)?.name ?? a.zone}`;
}
