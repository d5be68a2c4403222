/**
 * The UDP port table for both families (NetBSD's `inpcbtable` with its
 * connect and bind hashes): where input finds the socket for a datagram, and
 * where `bind` and `connect` check that an endpoint is free.
 *
 * Lookup order for a unicast datagram, as NetBSD's `in_pcblookup_connect`
 * then `in_pcblookup_bind`: a connected socket matching the whole 4-tuple,
 * then a socket bound to the destination address, then one bound to the
 * wildcard (a socket of the datagram's own family first, then a dual-stack
 * IPv6 socket for IPv4). Each step is one hash probe; nothing is allocated.
 *
 * Binding follows `in_pcbbind_port`: an endpoint conflicts with a socket on
 * the same port whose address overlaps (equal, or either is the wildcard;
 * with `SO_REUSEADDR` or `SO_REUSEPORT` only an equal address conflicts), and
 * the conflict is forgiven when both sockets set `SO_REUSEPORT` (for a
 * multicast address `SO_REUSEADDR` counts as `SO_REUSEPORT`).
 *
 * @example
 * ```ts ignore
 * const table = new UdpPortTable();
 * if (!table.conflicts(sock, addr, 53)) { sock.local.addr.set(addr); sock.local.port = 53; table.insert(sock); }
 * const s = table.lookup(4, dst, 53, src, 40000);
 * ```
 * @module
 */

import type { Errno } from "../errno.ts";
import { IntPairMap } from "../lib/int_pair_map.ts";
import type { IpAddr, IpFamily } from "../net/inet_addr.ts";
import type { UdpSocket } from "./udp_socket.ts";

/** The sockets of one stack, by port and address. */
export class UdpPortTable {
  /** Every bound socket, by local port (for conflicts and fan-out). */
  readonly #byPort: (UdpSocket[] | undefined)[] = new Array(65536);
  /** Connected sockets by (local port | foreign port << 16, hash of the foreign address). */
  readonly #connected = new IntPairMap<UdpSocket[]>();
  /** Unconnected sockets bound to an address, by (local port, hash of the address). */
  readonly #bound = new IntPairMap<UdpSocket[]>();
  /** Unconnected sockets bound to the wildcard, by local port. */
  readonly #wild: (UdpSocket[] | undefined)[] = new Array(65536);
  #size = 0;

  /** Sockets in the table. */
  get size(): number {
    return this.#size;
  }

  /** The sockets bound to `port` (do not modify). */
  onPort(port: number): readonly UdpSocket[] {
    return this.#byPort[port] ?? NONE;
  }

  /** Every socket in the table (a snapshot, for tools). */
  all(): UdpSocket[] {
    const out: UdpSocket[] = [];
    for (const list of this.#byPort) if (list) out.push(...list);
    return out;
  }

  /** Adds a socket whose local endpoint (and peer, when connected) is set. */
  insert(s: UdpSocket): void {
    push(this.#byPort, s.local.port, s);
    if (s.connected) {
      bucketAdd(this.#connected, connKey(s.local.port, s.remote.port), s.remote.addr.hash(), s);
    } else if (s.wildcard) {
      push(this.#wild, s.local.port, s);
    } else {
      bucketAdd(this.#bound, s.local.port, s.local.addr.hash(), s);
    }
    s.bound = true;
    this.#size++;
  }

  /** Removes a socket (before its endpoints change, or on close). */
  remove(s: UdpSocket): void {
    if (!s.bound) return;
    pull(this.#byPort, s.local.port, s);
    if (s.connected) {
      bucketRemove(this.#connected, connKey(s.local.port, s.remote.port), s.remote.addr.hash(), s);
    } else if (s.wildcard) {
      pull(this.#wild, s.local.port, s);
    } else {
      bucketRemove(this.#bound, s.local.port, s.local.addr.hash(), s);
    }
    s.bound = false;
    this.#size--;
  }

  /**
   * The socket a unicast datagram `src`:`sport` → `dst`:`dport` of `family`
   * goes to, or null. `connectedMiss` is set when the 4-tuple lookup failed
   * (NetBSD's `pcbhashmiss`).
   */
  lookup(
    family: IpFamily,
    dst: IpAddr,
    dport: number,
    src: IpAddr,
    sport: number,
  ): UdpSocket | null {
    const c = this.#connected.get(connKey(dport, sport), src.hash());
    if (c !== undefined) {
      for (let i = 0; i < c.length; i++) {
        const s = c[i];
        if (
          s.local.port === dport && s.remote.port === sport && s.remote.addr.equals(src) &&
          (s.wildcard || s.local.addr.equals(dst)) && familyOk(s, family)
        ) {
          this.connectedMiss = false;
          return s;
        }
      }
    }
    this.connectedMiss = true;
    const b = this.#bound.get(dport, dst.hash());
    if (b !== undefined) {
      for (let i = 0; i < b.length; i++) {
        const s = b[i];
        if (s.local.port === dport && s.local.addr.equals(dst) && familyOk(s, family)) return s;
      }
    }
    const w = this.#wild[dport];
    if (w === undefined) return null;
    let dual: UdpSocket | null = null;
    for (let i = 0; i < w.length; i++) {
      const s = w[i];
      if (s.family === family) return s;
      if (dual === null && familyOk(s, family)) dual = s;
    }
    return dual;
  }

  /** Whether the last {@linkcode lookup} missed the connected hash. */
  connectedMiss = false;

  /**
   * Fills `out` with every socket a datagram to `dst`:`dport` from
   * `src`:`sport` matches (NetBSD's broadcast and multicast loop in
   * `udp4_realinput`: the port, the local address or the wildcard, and the
   * peer of a connected socket); returns how many. Allocates nothing once
   * `out` has grown.
   */
  collect(
    family: IpFamily,
    dst: IpAddr,
    dport: number,
    src: IpAddr,
    sport: number,
    out: UdpSocket[],
  ): number {
    const list = this.#byPort[dport];
    let n = 0;
    if (list === undefined) return 0;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (!familyOk(s, family)) continue;
      if (!s.wildcard && !s.local.addr.equals(dst)) continue;
      if (s.connected && (s.remote.port !== sport || !s.remote.addr.equals(src))) continue;
      out[n++] = s;
    }
    return n;
  }

  /**
   * Whether binding `s` to `addr`:`port` conflicts with a socket already
   * there (see the module doc for the rules).
   */
  conflicts(s: UdpSocket, addr: IpAddr, port: number): boolean {
    const list = this.#byPort[port];
    if (list === undefined) return false;
    const wild = addr.isUnspecified;
    let reusePort = s.reusePort;
    if (addr.isMulticast && s.reuseAddr) reusePort = true;
    const exactOnly = s.reuseAddr || s.reusePort;
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      if (t === s || !overlapsFamily(s, addr, t)) continue;
      const same = addr.equals(t.local.addr) || (wild && t.wildcard);
      if (!same && (exactOnly || !(wild || t.wildcard))) continue;
      const tReuse = t.reusePort || (addr.isMulticast && t.reuseAddr);
      if (reusePort && tReuse) continue;
      return true;
    }
    return false;
  }

  /**
   * A free port in `[min, max]` for `s` on `addr`, searched from a random
   * start once round the range (NetBSD's `portalgo`); EAGAIN when every port
   * is taken.
   */
  ephemeral(s: UdpSocket, addr: IpAddr, min: number, max: number, random: number): number | Errno {
    const n = max - min + 1;
    if (n <= 0) return "EAGAIN";
    const start = Math.floor(random * n) % n;
    for (let i = 0; i < n; i++) {
      const port = min + ((start + i) % n);
      if (!this.conflicts(s, addr, port)) return port;
    }
    return "EAGAIN";
  }
}

const NONE: readonly UdpSocket[] = [];

function connKey(lport: number, fport: number): number {
  return lport | (fport << 16);
}

/** Whether `s` can take a datagram of `family`. */
function familyOk(s: UdpSocket, family: IpFamily): boolean {
  return family === 6 ? s.family === 6 && s.local.addr.family === 6 : s.acceptsV4 &&
    (s.wildcard || s.local.addr.family === 4);
}

/**
 * Whether `s` binding `addr` and the bound `t` could take the same datagrams'
 * family: both IPv6-only, both IPv4, or an IPv4 side with a dual-stack side.
 */
function overlapsFamily(s: UdpSocket, addr: IpAddr, t: UdpSocket): boolean {
  const sV4 = addr.family === 4 || (addr.isUnspecified && s.acceptsV4);
  const sV6 = addr.family === 6;
  const tV4 = t.local.addr.family === 4 || (t.wildcard && t.acceptsV4);
  const tV6 = t.local.addr.family === 6;
  return (sV4 && tV4) || (sV6 && tV6);
}

function push(lists: (UdpSocket[] | undefined)[], port: number, s: UdpSocket): void {
  const l = lists[port];
  if (l === undefined) lists[port] = [s];
  else l.push(s);
}

function pull(lists: (UdpSocket[] | undefined)[], port: number, s: UdpSocket): void {
  const l = lists[port];
  if (l === undefined) return;
  const i = l.indexOf(s);
  if (i >= 0) l.splice(i, 1);
  if (l.length === 0) lists[port] = undefined;
}

function bucketAdd(map: IntPairMap<UdpSocket[]>, a: number, b: number, s: UdpSocket): void {
  const l = map.get(a, b);
  if (l === undefined) map.set(a, b, [s]);
  else l.push(s);
}

function bucketRemove(map: IntPairMap<UdpSocket[]>, a: number, b: number, s: UdpSocket): void {
  const l = map.get(a, b);
  if (l === undefined) return;
  const i = l.indexOf(s);
  if (i >= 0) l.splice(i, 1);
  if (l.length === 0) map.delete(a, b);
}
