/**
 * Raw sockets (SOCK_RAW), as BSD's rip_input/rip6_input deliver them: every
 * ICMP (or ICMPv6) packet the stack takes in is also copied to each raw socket
 * of that protocol. An IPv4 raw socket gets the whole packet, IP header
 * included; an IPv6 one gets the ICMPv6 message only (RFC 3542).
 *
 * Delivery is a callback owned by whoever opened the socket (the control
 * server turns it into an event frame on the client's connection).
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

/** One datagram for a raw socket; `data` is a copy the receiver may keep. */
export interface RawDatagram {
  from: string;
  data: Uint8Array;
  ttl: number;
  ifname: string;
}

interface RawSocket {
  id: number;
  domain: "inet" | "inet6";
  proto: number;
  deliver: (d: RawDatagram) => void;
}

/** The raw sockets of one stack. */
export class RawSockets {
  #socks = new Map<number, RawSocket>();
  #nextId = 1;
  readonly #max: number;

  /** @param max most sockets open at once (ENFILE past it) */
  constructor(max: number) {
    this.#max = max;
  }

  /** Opens a raw socket; returns its id. */
  open(domain: "inet" | "inet6", proto: number, deliver: (d: RawDatagram) => void): number {
    if (this.#socks.size >= this.#max) throw new ErrnoError("ENFILE", "raw socket");
    if (!Number.isInteger(proto) || proto < 0 || proto > 255) {
      throw new ErrnoError("EPROTONOSUPPORT", "raw socket");
    }
    const id = this.#nextId++;
    this.#socks.set(id, { id, domain, proto, deliver });
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
    if (!this.#socks.delete(id)) throw new ErrnoError("EBADF", "raw socket");
  }

  /** Whether any socket listens for this family and protocol (skips the copy when none). */
  wants(domain: "inet" | "inet6", proto: number): boolean {
    for (const s of this.#socks.values()) if (s.domain === domain && s.proto === proto) return true;
    return false;
  }

  /** Copies `packet` to every socket of this family and protocol. */
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
      s.deliver({ from, data: packet.slice(), ttl, ifname });
    }
  }

  /** Number of open sockets. */
  get size(): number {
    return this.#socks.size;
  }
}
