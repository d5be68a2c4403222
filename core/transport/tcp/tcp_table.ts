/**
 * Where TCP input finds the connection for a segment, and where `bind`
 * checks that a port is free (NetBSD's `inpcbtable` for TCP).
 *
 * A segment first looks for a connection by its whole 4-tuple (one hash
 * probe keyed by the ports and the peer's address hash, nothing allocated),
 * then for a listener on the destination port: one bound to the
 * destination address before one bound to the wildcard, a listener of the
 * segment's own family before a dual-stack IPv6 one taking IPv4.
 *
 * Binding follows `in_pcbbind_port`: a port is taken when a socket bound
 * to it has an overlapping address (equal, or either is the wildcard, in
 * families that can meet); `SO_REUSEADDR` lets a socket share the port
 * with ones that are not listening (a server restarting beside its old
 * connections in TIME_WAIT). Accepted connections share their listener's
 * port and never block a bind.
 *
 * @module
 */

import { IntPairMap } from "../../lib/int_pair_map.ts";
import type { IpAddr, IpFamily } from "../../net/inet_addr.ts";
import { TCPS } from "./state.ts";
import type { TcpConnection } from "./tcb.ts";

/** The TCP endpoints of one stack. */
export class TcpTable {
  /** Connections by (local port | foreign port << 16, hash of the foreign address). */
  readonly #connections = new IntPairMap<TcpConnection[]>();
  /** Sockets bound by their owner (listeners, connecting sockets), by local port. */
  readonly #byPort: (TcpConnection[] | undefined)[] = new Array(65536);
  #connectionCount = 0;

  /** Connections with a peer (any state but LISTEN and CLOSED). */
  get connections(): number {
    return this.#connectionCount;
  }

  /** The connection for a segment from `src`:`sport` to `dst`:`dport`, or null. */
  lookupConnection(dst: IpAddr, dport: number, src: IpAddr, sport: number): TcpConnection | null {
    const list = this.#connections.get(dport | (sport << 16), src.hash());
    if (list === undefined) return null;
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (
        c.remote.port === sport && c.local.port === dport && c.remote.addr.equals(src) &&
        c.local.addr.equals(dst)
      ) {
        return c;
      }
    }
    return null;
  }

  /** The listener for a segment of `family` to `dst`:`dport`, or null. */
  lookupListener(family: IpFamily, dst: IpAddr, dport: number): TcpConnection | null {
    const list = this.#byPort[dport];
    if (list === undefined) return null;
    let wild: TcpConnection | null = null, dual: TcpConnection | null = null;
    for (let i = 0; i < list.length; i++) {
      const l = list[i];
      if (l.state !== TCPS.LISTEN) continue;
      const a = l.local.addr;
      if (a.isUnspecified) {
        if (l.family === family) wild ??= l;
        else if (family === 4 && !l.v6only) dual ??= l;
      } else if (a.family === family && a.equals(dst)) {
        return l;
      }
    }
    return wild ?? dual;
  }

  /** Enters a connection whose endpoints are both set. */
  insertConnection(c: TcpConnection): void {
    const key = c.local.port | (c.remote.port << 16), h = c.remote.addr.hash();
    const list = this.#connections.get(key, h);
    if (list === undefined) this.#connections.set(key, h, [c]);
    else list.push(c);
    this.#connectionCount++;
  }

  /** Takes a connection out (closed, or about to change endpoints). */
  removeConnection(c: TcpConnection): void {
    const key = c.local.port | (c.remote.port << 16), h = c.remote.addr.hash();
    const list = this.#connections.get(key, h);
    if (list === undefined) return;
    const i = list.indexOf(c);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.#connections.delete(key, h);
    this.#connectionCount--;
  }

  /** Whether the 4-tuple is in use. */
  tupleInUse(local: IpAddr, lport: number, remote: IpAddr, rport: number): boolean {
    return this.lookupConnection(local, lport, remote, rport) !== null;
  }

  /** Records a socket its owner bound to `c.local`. */
  bind(c: TcpConnection): void {
    const p = c.local.port;
    (this.#byPort[p] ??= []).push(c);
    c.bound = true;
  }

  /** Forgets a bound socket. */
  unbind(c: TcpConnection): void {
    if (!c.bound) return;
    c.bound = false;
    const list = this.#byPort[c.local.port];
    if (list === undefined) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byPort[c.local.port] = undefined;
  }

  /** Whether `c` binding `addr`:`port` collides with a bound socket. */
  conflicts(c: TcpConnection, addr: IpAddr, port: number): boolean {
    const list = this.#byPort[port];
    if (list === undefined) return false;
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      if (t === c || !familiesMeet(c, addr, t)) continue;
      const ta = t.local.addr;
      if (!(addr.isUnspecified || ta.isUnspecified || addr.equals(ta))) continue;
      if (c.reuseAddr && t.state !== TCPS.LISTEN && !(addr.equals(ta) && t.state === TCPS.CLOSED)) {
        continue;
      }
      return true;
    }
    return false;
  }

  /** Every bound socket and every connection (a snapshot, for tools). */
  all(): TcpConnection[] {
    const seen = new Set<TcpConnection>();
    for (const list of this.#byPort) if (list) { for (const c of list) seen.add(c); }
    for (const list of this.#connections.values()) for (const c of list) seen.add(c);
    return [...seen];
  }
}

/** Whether sockets bound as `c` to `addr` and `t` could take segments of one family. */
function familiesMeet(c: TcpConnection, addr: IpAddr, t: TcpConnection): boolean {
  const cV4 = addr.family === 4 || (addr.isUnspecified && c.family === 6 && !c.v6only);
  const cV6 = addr.family === 6;
  const ta = t.local.addr;
  const tV4 = ta.family === 4 || (ta.isUnspecified && t.family === 6 && !t.v6only);
  const tV6 = ta.family === 6;
  return (cV4 && tV4) || (cV6 && tV6);
}
