/**
 * The address rules every socket type shares (NetBSD's `in6_pcb` and
 * `in_pcb` conventions): how an address given to a call is taken into the
 * socket's own form, the wildcard of a family, how an endpoint is shown back
 * to the program, and address arguments given as text.
 *
 * An IPv6 socket that is not `IPV6_V6ONLY` talks IPv4 too; it keeps such a
 * peer as plain IPv4 inside and shows it as `::ffff:a.b.c.d` outside.
 *
 * @example
 * ```ts
 * import { IpAddr } from "../net/inet_addr.ts";
 * import { normalizeSocketAddr } from "./sock_addr.ts";
 * const out = new IpAddr();
 * normalizeSocketAddr(6, false, IpAddr.parse("::ffff:192.0.2.1")!, out);
 * console.log(out.toString()); // 192.0.2.1
 * ```
 * @module
 */

import { type Errno, ErrnoError } from "../errno.ts";
import { Endpoint, IpAddr, type IpFamily } from "../net/inet_addr.ts";
import { isV4Mapped6 } from "../net/ip_addr.ts";

const ZERO16 = new Uint8Array(16);

/**
 * Brings `addr` into the form a socket of `family` keeps (IPv4-mapped to
 * IPv4 for a dual-stack IPv6 socket) in `out`; EAFNOSUPPORT or EINVAL when
 * the family does not fit the socket.
 */
export function normalizeSocketAddr(
  family: IpFamily,
  v6only: boolean,
  addr: IpAddr,
  out: IpAddr,
): Errno | null {
  if (family === 4) {
    if (addr.family !== 4) return "EAFNOSUPPORT";
    out.set(addr);
    return null;
  }
  if (addr.family === 4 || isV4Mapped6(addr.bytes)) {
    if (v6only) return "EINVAL";
    const b = addr.bytes;
    out.setV4(
      addr.family === 4 ? addr.v4 : ((b[12] << 24) | (b[13] << 16) | (b[14] << 8) | b[15]) >>> 0,
    );
    return null;
  }
  out.set(addr);
  return null;
}

/** Sets `out` to the wildcard address of `family`. */
export function setWildcard(family: IpFamily, out: IpAddr): IpAddr {
  return family === 4 ? out.setV4(0) : out.setV6(ZERO16);
}

/** A new endpoint in the socket's family: IPv4 shown as `::ffff:a.b.c.d` on an IPv6 socket. */
export function shownEndpoint(family: IpFamily, e: Endpoint): Endpoint {
  const out = new Endpoint();
  out.port = e.port;
  if (family === 6 && e.addr.family === 4) out.addr.setV6(e.addr.bytes);
  else out.addr.set(e.addr);
  return out;
}

/** An address argument: an {@linkcode IpAddr} as is, or its text (EINVAL when it is none). */
export function addrArgument(a: IpAddr | string): IpAddr {
  if (typeof a !== "string") return a;
  const parsed = IpAddr.parse(a);
  if (parsed === null) throw new ErrnoError("EINVAL", `address ${a}`);
  return parsed;
}
