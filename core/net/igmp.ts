/**
 * IGMPv2 as a host (RFC 2236), with IGMPv1 router compatibility (RFC 2236
 * §4), as NetBSD's `igmp.c` behaves; registered for IPv4 protocol 2.
 *
 * Input counts every message (`igmpstat`), drops short ones and bad sums, and
 * then:
 * - a query: a Max Resp Time of 0 is an IGMPv1 query (it must go to
 *   224.0.0.1; v1 reports are sent, and no Leave, for the next 400 s), else a
 *   v2 one: sent to 224.0.0.1 it asks for every group, sent to a group for
 *   that one (NetBSD reads the destination, not the Group field; a query
 *   not sent to a group is `rcv_badqueries`); an IGMPv3 query is read as a
 *   v2 one (RFC 3376 §7.1). Each group asked for reports within the time given;
 * - a report (v1 or v2) must go to its group (else `rcv_badreports`); for a
 *   group joined here it stops our pending report (`rcv_ourreports`);
 * - queries and reports on a loopback are only counted.
 * Valid messages are then copied to raw IGMP sockets.
 *
 * Output: reports and Leave Group messages leave with TTL 1, the Router Alert
 * option (RFC 2236 §2, which NetBSD 4 leaves out and Linux sends), the
 * interface's first address as source (0.0.0.0 when it has none), never
 * looped back. Leave Group goes to 224.0.0.2 as RFC 2236 §3 says (NetBSD
 * sends it to the group itself). Groups in 224.0.0.0/24 (all-hosts
 * included) are never reported, as NetBSD's `IN_LOCAL_GROUP` test says.
 * `snd_reports` counts every message sent, Leave included, as NetBSD does.
 *
 * Groups come from sockets through {@linkcode GroupMemberships}' listener;
 * the timers and suppression are the shared {@linkcode GroupReporter}'s.
 *
 * @example
 * ```ts ignore
 * const igmp = new IgmpLayer(ctx, ip4);
 * ctx.protocols.register(IPPROTO.IGMP, [4], igmp);
 * igmp.joined(2, IpAddr.parse("239.1.2.3")!); // a report now, another within 10 s
 * ```
 * @module
 */

import type { StackContext } from "../stack_context.ts";
import type { NetInterface } from "../link/interface.ts";
import type { Ipv4Layer } from "./ipv4.ts";
import type { NetHeader, TransportProtocol } from "./protocols.ts";
import type { MembershipListener } from "../socket/groups.ts";
import {
  emitIgmp,
  IGMP_MINLEN,
  IGMP_TIMER_SCALE_MS,
  IGMP_TYPE,
  igmpChecksumOk,
  igmpGroup,
  INADDR_ALLHOSTS_GROUP,
  INADDR_ALLRTRS_GROUP,
} from "../wire/igmp.ts";
import { IPPROTO } from "../wire/ipv4.ts";
import { formatIp4 } from "./ip_addr.ts";
import { IpAddr } from "./inet_addr.ts";
import { RouteOut } from "./route_out.ts";
import type { Ip4SendOptions } from "./ipv4.ts";
import {
  GroupReporter,
  type GroupReportSender,
  type ReportedGroup,
  SOURCE_SOCKET,
} from "./igmp_groups.ts";

/** Version 1 Router Present Timeout (RFC 2236 §8.11). */
export const IGMP_V1_ROUTER_PRESENT_MS = 400_000;
/** The Max Resp Time an IGMPv1 query implies (10 s). */
const V1_QUERY_MAX_RESP_MS = 10_000;

/** Whether `group` is in 224.0.0.0/24 (link-local groups: never reported). */
function isLocalGroup(group: number): boolean {
  return (group >>> 8) === 0xe00000;
}

/** IGMP for one stack: input, the group reports, and the socket-join hook. */
export class IgmpLayer implements TransportProtocol, MembershipListener, GroupReportSender {
  readonly name = "igmp";
  /** The groups and their timers. */
  readonly reporter: GroupReporter;
  readonly #ctx: StackContext;
  readonly #ip4: Ipv4Layer;
  /** Per interface: until when an IGMPv1 router is taken to be present (ms). */
  readonly #v1Until = new Map<number, number>();
  readonly #group = new IpAddr();
  readonly #route = new RouteOut();
  readonly #opts: Ip4SendOptions = { ttl: 1, routerAlert: true };

  constructor(ctx: StackContext, ip4: Ipv4Layer) {
    this.#ctx = ctx;
    this.#ip4 = ip4;
    this.reporter = new GroupReporter(ctx, this);
  }

  // -------------------------------------------------------------------------
  // Membership (from sockets, through GroupMemberships)

  /** A socket joined `group` on `ifIndex` first: report it. */
  joined(ifIndex: number, group: IpAddr): void {
    if (group.family === 4) this.reporter.add(ifIndex, group, SOURCE_SOCKET);
  }

  /** The last socket left `group` on `ifIndex`: Leave Group if we reported last. */
  left(ifIndex: number, group: IpAddr): void {
    if (group.family === 4) this.reporter.remove(ifIndex, group, SOURCE_SOCKET);
  }

  /** `iface` came up: its groups are announced again. */
  ifUp(iface: NetInterface): void {
    this.reporter.ifUp(iface.index);
  }

  /** `iface` went down: timers stop, IGMPv1 router memory goes. */
  ifDown(iface: NetInterface): void {
    this.reporter.ifDown(iface.index);
    this.#v1Until.delete(iface.index);
  }

  /** `iface` is detached. */
  forget(iface: NetInterface): void {
    this.reporter.forget(iface.index);
    this.#v1Until.delete(iface.index);
  }

  /** Whether an IGMPv1 router was heard on `ifIndex` within the last 400 s. */
  v1RouterPresent(ifIndex: number): boolean {
    const until = this.#v1Until.get(ifIndex);
    return until !== undefined && this.#ctx.now() < until;
  }

  // -------------------------------------------------------------------------
  // Input

  /** One IGMP message for this node. */
  input(h: NetHeader): void {
    const st = this.#ctx.stats.igmp;
    st.rcv_total++;
    if (h.length < IGMP_MINLEN) {
      st.rcv_tooshort++;
      return;
    }
    const b = h.bytes, at = h.offset;
    if (!igmpChecksumOk(b, at, h.length)) {
      st.rcv_badsum++;
      return;
    }
    const iface = h.iface!;
    const group = igmpGroup(b, at);
    switch (b[at]) {
      case IGMP_TYPE.QUERY:
        st.rcv_queries++;
        if (!iface.isLoopback && !this.#query(iface, h.dst4, b[at + 1])) {
          st.rcv_badqueries++;
          return;
        }
        break;
      case IGMP_TYPE.V1_REPORT:
      case IGMP_TYPE.V2_REPORT:
        st.rcv_reports++;
        if (iface.isLoopback) break;
        if (group >>> 28 !== 0xe || group !== h.dst4) {
          st.rcv_badreports++;
          return;
        }
        if (this.reporter.heardReport(iface.index, this.#group.setV4(group))) {
          st.rcv_ourreports++;
        }
        break;
      default:
        // Leave Group and others: for routers.
    }
    const raw = this.#ctx.raw;
    if (raw.wants("inet", IPPROTO.IGMP)) {
      const packet = b.subarray(h.ipOffset, h.ipOffset + h.ipLength);
      raw.deliver("inet", IPPROTO.IGMP, packet, formatIp4(h.src4), h.hopLimit, iface.name);
    }
  }

  /**
   * A membership query; false when it is malformed (counted by the caller).
   * As in NetBSD, the IP destination says what is asked: all-hosts is a
   * general query, a group a group-specific one (the Group field is not read).
   */
  #query(iface: NetInterface, dst: number, maxResp: number): boolean {
    if (maxResp === 0) {
      // IGMPv1: a general query, to all-hosts only; answer with v1 reports for a while.
      if (dst !== INADDR_ALLHOSTS_GROUP) return false;
      this.#v1Until.set(iface.index, this.#ctx.now() + IGMP_V1_ROUTER_PRESENT_MS);
      this.reporter.query(iface.index, null, V1_QUERY_MAX_RESP_MS);
      return true;
    }
    if (dst >>> 28 !== 0xe) return false;
    const group = dst === INADDR_ALLHOSTS_GROUP ? null : this.#group.setV4(dst);
    this.reporter.query(iface.index, group, maxResp * IGMP_TIMER_SCALE_MS);
    return true;
  }

  // -------------------------------------------------------------------------
  // Output (GroupReportSender)

  /** Groups in 224.0.0.0/24 are never reported. */
  reportable(g: ReportedGroup): boolean {
    return !isLocalGroup(g.group.v4);
  }

  /** No Leave Group while an IGMPv1 router is present (it would not understand). */
  leaveAllowed(iface: NetInterface): boolean {
    return !this.v1RouterPresent(iface.index);
  }

  /** Sends a report (v1 or v2, as the routers heard) or a Leave Group for `g`. */
  send(iface: NetInterface, g: ReportedGroup, leave: boolean): void {
    const ctx = this.#ctx;
    const group = g.group.v4;
    const type = leave
      ? IGMP_TYPE.LEAVE
      : this.v1RouterPresent(iface.index)
      ? IGMP_TYPE.V1_REPORT
      : IGMP_TYPE.V2_REPORT;
    const dst = leave ? INADDR_ALLRTRS_GROUP : group;
    const pkt = ctx.pool.alloc(IGMP_MINLEN);
    emitIgmp(pkt.bytes, pkt.start, type, 0, group);
    const route = this.#route;
    route.iface = iface;
    route.src.setV4(iface.inet[0]?.addr ?? 0);
    route.nextHop.setV4(dst);
    route.mtu = iface.mtu;
    route.flags = 0;
    route.generation = ctx.routeGeneration;
    const opts = this.#opts;
    opts.iface = iface;
    ctx.stats.igmp.snd_reports++;
    this.#ip4.outputRouted(pkt, dst, IPPROTO.IGMP, route, opts);
  }
}
