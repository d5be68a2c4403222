/**
 * Raw sockets (SOCK_RAW), as BSD's rip_input/rip6_input deliver them: every
 * ICMP (or ICMPv6) packet the stack takes in is also copied to each raw socket
 * of that protocol. An IPv4 raw socket gets the whole packet, IP header
 * included; an IPv6 one gets the ICMPv6 message only (RFC 3542).
 *
 * Delivery is a callback owned by whoever opened the socket (the control
 * server turns it into an event frame on the client's connection). Input only
 * copies the datagram into the socket's bounded queue and marks the socket in
 * the stack's {@linkcode WakeQueue}; the callback runs once the packet has
 * been processed, so it may send or close without disturbing input.
 *
 * @example
 * ```ts
 * import { RawSockets } from "./raw.ts";
 * const raw = new RawSockets(8);
 * const id = raw.open("inet", 1, (d) => console.log(d.from, d.data.length));
 * raw.deliver("inet", 1, new Uint8Array(28), "192.0.2.1", 64, "en0");
 * raw.close(id);
 * ```
 * @module
 */

import { ErrnoError } from "../errno.ts";
import { type Wakeable, WakeQueue } from "../event/wake_queue.ts";

/** Datagrams a raw socket holds before its owner is woken; more are dropped (a full socket buffer). */
export const RAW_QUEUE_MAX = 256;

/** One datagram for a raw socket; `data` is a copy the receiver may keep. */
export interface RawDatagram {
  from: string;
  data: Uint8Array;
  ttl: number;
  ifname: string;
}

class RawSocket implements Wakeable {
  wakePending = false;
  queue: RawDatagram[] = [];
  /** Datagrams dropped because the queue was full. */
  dropped = 0;
  closed = false;

  constructor(
    readonly id: number,
    readonly domain: "inet" | "inet6",
    readonly proto: number,
    readonly deliver: (d: RawDatagram) => void,
  ) {}

  wake(): void {
    const batch = this.queue;
    this.queue = [];
    for (const d of batch) {
      if (this.closed) return;
      this.deliver(d);
    }
  }
}

/** The raw sockets of one stack. */
export class RawSockets {
  #socks = new Map<number, RawSocket>();
  #nextId = 1;
  readonly #max: number;
  readonly #wakes: WakeQueue;

  /**
   * @param max most sockets open at once (ENFILE past it)
   * @param wakes where deliveries are queued (the stack's); a private queue
   *   flushed at once when absent
   */
  constructor(max: number, wakes?: WakeQueue) {
    this.#max = max;
    this.#wakes = wakes ?? new WakeQueue();
    this.#flushNow = wakes === undefined;
  }

  readonly #flushNow: boolean;

  /** Opens a raw socket; returns its id. */
  open(domain: "inet" | "inet6", proto: number, deliver: (d: RawDatagram) => void): number {
    if (this.#socks.size >= this.#max) throw new ErrnoError("ENFILE", "raw socket");
    if (!Number.isInteger(proto) || proto < 0 || proto > 255) {
      throw new ErrnoError("EPROTONOSUPPORT", "raw socket");
    }
    const id = this.#nextId++;
    this.#socks.set(id, new RawSocket(id, domain, proto, deliver));
    return id;
  }

  /** The socket's family and protocol; EBADF when it is not open. */
  get(id: number): { domain: "inet" | "inet6"; proto: number } {
    const s = this.#socks.get(id);
    if (!s) throw new ErrnoError("EBADF", "raw socket");
    return s;
  }

  /** Closes a socket; EBADF when it is not open. */
  close(id: number): void {
    const s = this.#socks.get(id);
    if (!s) throw new ErrnoError("EBADF", "raw socket");
    s.closed = true;
    this.#socks.delete(id);
  }

  /** Whether any socket listens for this family and protocol (skips the copy when none). */
  wants(domain: "inet" | "inet6", proto: number): boolean {
    for (const s of this.#socks.values()) if (s.domain === domain && s.proto === proto) return true;
    return false;
  }

  /** Copies `packet` to every socket of this family and protocol; their owners are woken after the turn. */
  deliver(
    domain: "inet" | "inet6",
    proto: number,
    packet: Uint8Array,
    from: string,
    ttl: number,
    ifname: string,
  ): void {
    for (const s of this.#socks.values()) {
      if (s.domain !== domain || s.proto !== proto) continue;
      if (s.queue.length >= RAW_QUEUE_MAX) {
        s.dropped++;
        continue;
      }
      s.queue.push({ from, data: packet.slice(), ttl, ifname });
      this.#wakes.mark(s);
    }
    if (this.#flushNow) this.#wakes.flush();
  }

  /** Number of open sockets. */
  get size(): number {
    return this.#socks.size;
  }
}
