/**
 * One UDP socket's state (NetBSD's `inpcb`/`in6pcb` with its socket buffers):
 * the local and foreign endpoints, the options, the multicast groups it
 * joined, a cached route, the pending error (`SO_ERROR`) and a bounded queue
 * of received datagrams with their sources.
 *
 * Addresses are kept in their real family: a dual-stack IPv6 socket (not
 * `IPV6_V6ONLY`) talking to an IPv4 peer holds IPv4 endpoints, and the API
 * edge shows them as `::ffff:a.b.c.d`. So the port table and ICMP errors
 * compare one form only.
 *
 * The receive queue counts bytes as NetBSD's `sbappendaddr` does (payload
 * plus the size of the source's sockaddr) against `SO_RCVBUF`; a datagram
 * that does not fit is dropped and counted (`fullsock`). Input copies each
 * datagram once, into one array holding its source and payload.
 *
 * @module
 */

import type { Errno } from "../errno.ts";
import type { Wakeable } from "../event/wake_queue.ts";
import { Endpoint, type IpAddr, type IpFamily } from "../net/inet_addr.ts";
import { RouteOut } from "../net/route_out.ts";

/** Bytes in front of each queued payload: address (16), port (2), family (1), pad (1), zone (4). */
const RECORD_HEADER = 24;
/** What a datagram costs in the receive buffer beyond its payload: `sizeof(sockaddr_in)`/`sockaddr_in6`. */
const SOCKADDR_LEN4 = 16;
const SOCKADDR_LEN6 = 28;

/** The socket options a UDP socket takes, with numeric values (booleans as 0/1). */
export type UdpOption =
  | "SO_REUSEADDR"
  | "SO_REUSEPORT"
  | "SO_BROADCAST"
  | "SO_SNDBUF"
  | "SO_RCVBUF"
  | "SO_ERROR"
  | "SO_TYPE"
  | "IP_TTL"
  | "IP_TOS"
  | "IP_MULTICAST_TTL"
  | "IP_MULTICAST_LOOP"
  | "IP_MULTICAST_IF"
  | "IPV6_UNICAST_HOPS"
  | "IPV6_MULTICAST_HOPS"
  | "IPV6_MULTICAST_LOOP"
  | "IPV6_MULTICAST_IF"
  | "IPV6_V6ONLY";

/** A group a socket joined, and on which interface. */
export interface JoinedGroup {
  readonly group: IpAddr;
  readonly ifIndex: number;
}

/** The state of one UDP socket. */
export class UdpSocket implements Wakeable {
  wakePending = false;
  /** The socket's domain: AF_INET (4) or AF_INET6 (6). */
  readonly family: IpFamily;
  /** Whether the opener may bind ports below 1024. */
  readonly privileged: boolean;
  /** The local endpoint (port 0: not bound; wildcard address: any). */
  readonly local: Endpoint = new Endpoint();
  /** The address `bind` asked for, restored by a disconnect (connect may narrow `local`). */
  readonly boundAddr: IpAddr;
  /** The peer when connected. */
  readonly remote: Endpoint = new Endpoint();
  connected = false;
  closed = false;
  /** In the port table. */
  bound = false;
  /** A pending asynchronous error (SO_ERROR), reported on the next operation. */
  error: Errno | null = null;

  reuseAddr = false;
  reusePort = false;
  broadcast = false;
  v6only: boolean;
  /** IP_TTL / IPV6_UNICAST_HOPS; -1: the system default. */
  ttl = -1;
  tos = 0;
  /** IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS. */
  multicastTtl = 1;
  multicastLoop = true;
  /** IP_MULTICAST_IF / IPV6_MULTICAST_IF: an interface index, 0 for the routing table's choice. */
  multicastIf = 0;
  sndbuf: number;
  rcvbuf: number;
  readonly groups: JoinedGroup[] = [];

  /** The cached route and what it was looked up for. */
  readonly route: RouteOut = new RouteOut();
  readonly routeDst: Endpoint = new Endpoint();
  routeIf = 0;

  /** Called after the turn in which datagrams or an error arrived. */
  onWake: (() => void) | null = null;

  #queue: Uint8Array[] = [];
  #head = 0;
  /** Bytes charged to the receive buffer. */
  #queued = 0;

  constructor(family: IpFamily, privileged: boolean, sndbuf: number, rcvbuf: number) {
    this.family = family;
    this.privileged = privileged;
    this.v6only = false;
    this.sndbuf = sndbuf;
    this.rcvbuf = rcvbuf;
    this.local.addr.family = family;
    this.remote.addr.family = family;
    this.boundAddr = this.local.addr.clone();
  }

  /** Runs the owner's callback (the stack calls this after the turn). */
  wake(): void {
    if (!this.closed) this.onWake?.();
  }

  /** Datagrams waiting. */
  get queuedDatagrams(): number {
    return this.#queue.length - this.#head;
  }

  /** Bytes charged to the receive buffer (`netstat`'s Recv-Q). */
  get queuedBytes(): number {
    return this.#queued;
  }

  /**
   * Queues a copy of `bytes[at, at + len)` from `src`:`port`; false when the
   * receive buffer has no room for it (the caller counts `fullsock`).
   */
  enqueue(bytes: Uint8Array, at: number, len: number, src: IpAddr, port: number): boolean {
    const cost = len + (this.family === 4 ? SOCKADDR_LEN4 : SOCKADDR_LEN6);
    if (this.#queued + cost > this.rcvbuf) return false;
    const rec = new Uint8Array(RECORD_HEADER + len);
    rec.set(src.bytes, 0);
    rec[16] = port >>> 8;
    rec[17] = port & 0xff;
    rec[18] = src.family;
    const z = src.zone;
    rec[20] = z >>> 24;
    rec[21] = (z >>> 16) & 0xff;
    rec[22] = (z >>> 8) & 0xff;
    rec[23] = z & 0xff;
    rec.set(bytes.subarray(at, at + len), RECORD_HEADER);
    this.#queue.push(rec);
    this.#queued += cost;
    return true;
  }

  /**
   * Takes the oldest datagram: its payload (the caller owns it) and its
   * source in `from`, shown in the socket's family (IPv4 sources of an IPv6
   * socket as `::ffff:a.b.c.d`). Null when the queue is empty.
   */
  dequeue(from: Endpoint | null): Uint8Array | null {
    if (this.#head >= this.#queue.length) return null;
    const rec = this.#queue[this.#head];
    this.#queue[this.#head++] = EMPTY;
    if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    const len = rec.length - RECORD_HEADER;
    this.#queued -= len + (this.family === 4 ? SOCKADDR_LEN4 : SOCKADDR_LEN6);
    if (from !== null) {
      const zone = ((rec[20] << 24) | (rec[21] << 16) | (rec[22] << 8) | rec[23]) >>> 0;
      if (rec[18] === 4 && this.family === 4) {
        from.addr.setV4(((rec[12] << 24) | (rec[13] << 16) | (rec[14] << 8) | rec[15]) >>> 0);
      } else from.addr.setV6(rec, 0, zone);
      from.port = (rec[16] << 8) | rec[17];
    }
    return rec.subarray(RECORD_HEADER);
  }

  /** Drops everything queued. */
  clearQueue(): void {
    this.#queue = [];
    this.#head = 0;
    this.#queued = 0;
  }

  /** Whether this socket takes IPv4 datagrams (an IPv4 socket, or a dual-stack IPv6 one). */
  get acceptsV4(): boolean {
    return this.family === 4 || !this.v6only;
  }

  /** Whether the local address is the wildcard (`0.0.0.0`, `::`). */
  get wildcard(): boolean {
    return this.local.addr.isUnspecified;
  }
}

const EMPTY = new Uint8Array(0);
