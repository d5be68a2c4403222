/**
 * Multicast groups joined by sockets, per interface: what IPv4 and IPv6 input
 * consult before taking a datagram sent to a group (NetBSD's `in_multi` and
 * `in6_multi` lists, reduced to reference counts). A group stays joined while
 * any socket holds it on that interface.
 *
 * The first join and the last leave of a group on an interface are told to
 * the {@linkcode MembershipListener} (IGMP and MLD, which report the group
 * to routers and snooping switches).
 *
 * @example
 * ```ts
 * import { GroupMemberships } from "./groups.ts";
 * import { IpAddr } from "../net/inet_addr.ts";
 * const groups = new GroupMemberships();
 * const g = IpAddr.parse("239.1.2.3")!;
 * groups.join(2, g);
 * console.log(groups.has4(2, g.v4), groups.has4(3, g.v4)); // true false
 * groups.leave(2, g);
 * ```
 * @module
 */

import { IntPairMap } from "../lib/int_pair_map.ts";
import { IpAddr } from "../net/inet_addr.ts";

/** One group on one interface and how many sockets hold it. */
class Membership {
  readonly group: IpAddr;
  refs = 0;
  constructor(group: IpAddr) {
    this.group = group;
  }
}

/** Told when a group is first joined, and finally left, on an interface. */
export interface MembershipListener {
  /** `group` (borrowed for the call) is now joined on `ifIndex`. */
  joined(ifIndex: number, group: IpAddr): void;
  /** The last reference to `group` (borrowed for the call) on `ifIndex` is gone. */
  left(ifIndex: number, group: IpAddr): void;
}

/** Groups joined on each interface, for both families. */
export class GroupMemberships {
  /** Who hears of first joins and last leaves (the stack sets IGMP and MLD here). */
  listener: MembershipListener | null = null;
  /** (interface index, IPv4 group) to its membership. */
  readonly #v4 = new IntPairMap<Membership>();
  /** (interface index, hash of the IPv6 group) to the memberships with that hash. */
  readonly #v6 = new IntPairMap<Membership[]>();

  /** Adds a reference to `group` on interface `ifIndex`. */
  join(ifIndex: number, group: IpAddr): void {
    if (group.family === 4) {
      let m = this.#v4.get(ifIndex, group.v4);
      if (!m) this.#v4.set(ifIndex, group.v4, m = new Membership(group.clone()));
      if (m.refs++ === 0) this.listener?.joined(ifIndex, m.group);
      return;
    }
    const g = this.#normalized(ifIndex, group);
    const h = g.hash();
    let bucket = this.#v6.get(ifIndex, h);
    if (!bucket) this.#v6.set(ifIndex, h, bucket = []);
    let m = bucket.find((x) => x.group.equals(g));
    if (!m) bucket.push(m = new Membership(g.clone()));
    if (m.refs++ === 0) this.listener?.joined(ifIndex, m.group);
  }

  /** Drops a reference to `group` on `ifIndex`; the group is left when none remain. */
  leave(ifIndex: number, group: IpAddr): void {
    if (group.family === 4) {
      const m = this.#v4.get(ifIndex, group.v4);
      if (m && --m.refs <= 0) {
        this.#v4.delete(ifIndex, group.v4);
        this.listener?.left(ifIndex, m.group);
      }
      return;
    }
    const g = this.#normalized(ifIndex, group);
    const h = g.hash();
    const bucket = this.#v6.get(ifIndex, h);
    if (!bucket) return;
    const i = bucket.findIndex((x) => x.group.equals(g));
    if (i < 0 || --bucket[i].refs > 0) return;
    const [gone] = bucket.splice(i, 1);
    if (bucket.length === 0) this.#v6.delete(ifIndex, h);
    this.listener?.left(ifIndex, gone.group);
  }

  /** Whether IPv4 group `addr` is joined on `ifIndex` (allocates nothing). */
  has4(ifIndex: number, addr: number): boolean {
    return this.#v4.has(ifIndex, addr);
  }

  /** Whether the IPv6 group at `bytes[at, at + 16)` is joined on `ifIndex` (allocates nothing). */
  has6(ifIndex: number, bytes: Uint8Array, at = 0): boolean {
    const probe = this.#probe;
    probe.setV6(bytes, at, ifIndex);
    // Scoped groups are stored with their interface as the zone, global ones with none.
    const scoped = (bytes[at + 1] & 0x0f) <= 2;
    if (!scoped) probe.zone = 0;
    const bucket = this.#v6.get(ifIndex, probe.hash());
    if (!bucket) return false;
    for (let i = 0; i < bucket.length; i++) if (bucket[i].group.equals(probe)) return true;
    return false;
  }

  readonly #probe: IpAddr = new IpAddr();

  /** `group` with the zone the table keys it by (the interface for scoped groups, else none). */
  #normalized(ifIndex: number, group: IpAddr): IpAddr {
    return this.#probe.setV6(group.bytes, 0, (group.bytes[1] & 0x0f) <= 2 ? ifIndex : 0);
  }
}
