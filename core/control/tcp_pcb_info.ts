/**
 * What the tools see of TCP connections: the stack's TCP side implements
 * {@linkcode TcpPcbSource} and registers it as `StackCore.tcpPcbSource`; the
 * `sockList` control op ({@linkcode socketList}) turns each
 * {@linkcode TcpPcbInfo} into a `netstat` row (`tcp`/`tcp6`), and `netstat -v`
 * prints the {@linkcode TcpConnStats} under it.
 *
 * This is the control plane's view, read on request (never per packet): the
 * source may build the records as it likes, and may hand out the connection's
 * own endpoints, since they are copied to text before the answer leaves.
 *
 * @example A source with one listener
 * ```ts
 * import { Endpoint } from "../net/inet_addr.ts";
 * import { TCP_CONN_STATS_NONE, type TcpPcbSource } from "./tcp_pcb_info.ts";
 * const local = new Endpoint();
 * local.port = 22;
 * const source: TcpPcbSource = {
 *   tcpPcbs: () => [{
 *     ...TCP_CONN_STATS_NONE,
 *     family: 4, local, remote: new Endpoint(), state: "LISTEN", recvQ: 0, sendQ: 0, pcb: 1,
 *   }],
 * };
 * console.log(source.tcpPcbs()[0].state); // LISTEN
 * ```
 * @module
 */

import type { Endpoint } from "../net/inet_addr.ts";

/**
 * What holds the sender back right now (`netstat -v` prints it after `limit:`):
 * - `rwnd`: the peer's receive window is full (in flight = `snd_wnd`);
 * - `cwnd`: the congestion window is full;
 * - `zerownd`: the peer advertises a zero window (the persist timer probes);
 * - `app`: the application has given nothing more to send;
 * - `neighbour`: the next hop is not resolved yet (ARP / Neighbour Discovery);
 * - `none`: nothing: the sender may send now, or the state sends no data
 *   (LISTEN, SYN_SENT, TIME_WAIT...). netstat prints it as `-`.
 */
export type TcpSendLimit = "rwnd" | "cwnd" | "zerownd" | "app" | "neighbour" | "none";

/** Every {@linkcode TcpSendLimit}, for checks and tests. */
export const TCP_SEND_LIMITS: readonly TcpSendLimit[] = [
  "rwnd",
  "cwnd",
  "zerownd",
  "app",
  "neighbour",
  "none",
];

/** A connection's sender and receiver figures, as `netstat -v` shows them. Sizes in bytes. */
export interface TcpConnStats {
  /** Congestion window. */
  cwnd: number;
  /**
   * Slow-start threshold. Before the first loss it is "infinite": any value at
   * or above NetBSD's initial `TCP_MAXWIN << TCP_MAX_WINSHIFT` (0x3fffc000;
   * 0x3fffffff will do), which netstat prints as `-`.
   */
  ssthresh: number;
  /** Smoothed round-trip time, ms; 0 before the first sample (netstat prints `-`). */
  srttMs: number;
  /** Round-trip time variation, ms; 0 before the first sample. */
  rttvarMs: number;
  /** The retransmission timeout now, ms. */
  rtoMs: number;
  /** Segments retransmitted on this connection so far (timeouts, fast and SACK retransmits). */
  retransmits: number;
  /** Holes in the SACK scoreboard now. */
  sackHoles: number;
  /** The peer's advertised window (`snd_wnd`), scaled. */
  sndWnd: number;
  /** The window we advertise (`rcv_wnd`), scaled. */
  rcvWnd: number;
  /** The sender's maximum segment size (`t_maxseg`: payload bytes, options excluded). */
  mss: number;
  /** The congestion-control algorithm (`newreno`, `cubic`), as `net.inet.tcp.congctl.selected` names it. */
  congestion: string;
  /** What limits the sender right now. */
  limit: TcpSendLimit;
}

/** One TCP protocol control block, as `netstat` lists it. */
export interface TcpPcbInfo extends TcpConnStats {
  /** The socket's family: 6 for an IPv6 socket (also when it talks IPv4 through v4-mapped addresses). */
  family: 4 | 6;
  /** Local address and port; the wildcard address is 0 / `::` (netstat prints `*`). */
  local: Endpoint;
  /** Foreign address and port; 0 / `::` and port 0 until connected (a listener: `*.*`). */
  remote: Endpoint;
  /** NetBSD's state name: CLOSED LISTEN SYN_SENT SYN_RCVD ESTABLISHED CLOSE_WAIT FIN_WAIT_1 CLOSING LAST_ACK FIN_WAIT_2 TIME_WAIT. */
  state: string;
  /** Bytes received and not yet read (`so_rcv.sb_cc`). */
  recvQ: number;
  /** Bytes in the send buffer: unsent and unacknowledged (`so_snd.sb_cc`). */
  sendQ: number;
  /**
   * What `netstat -A` shows as the PCB address: any number that tells
   * connections apart while they live (a connection id), printed in hex.
   */
  pcb: number;
}

/** Where the tools' TCP rows come from: the stack's TCP side implements it. */
export interface TcpPcbSource {
  /**
   * Every TCP control block of the stack, listeners and TIME_WAIT included,
   * in the order netstat lists them (NetBSD's pcb queue: newest first); the
   * socket list puts IPv4 sockets before IPv6 ones itself.
   */
  tcpPcbs(): TcpPcbInfo[];
}

/** Stats of a connection that has sent nothing yet (a listener, a fresh socket): a base for sources and fakes. */
export const TCP_CONN_STATS_NONE: Readonly<TcpConnStats> = {
  cwnd: 0,
  ssthresh: 0x3fffffff,
  srttMs: 0,
  rttvarMs: 0,
  rtoMs: 0,
  retransmits: 0,
  sackHoles: 0,
  sndWnd: 0,
  rcvWnd: 0,
  mss: 0,
  congestion: "",
  limit: "none",
};
