/**
 * MLDv1 as a host (RFC 2710), as NetBSD 4's KAME `mld6.c` behaves.
 *
 * The groups reported on an interface are those its sockets joined and the
 * solicited-node groups of its addresses (NetBSD joins one per address as the
 * address is added, tentative ones included, so DAD's probes are heard).
 * Link-local all-nodes (ff02::1) and groups of smaller scope are never
 * reported. Joining sends a report at once and again within 10 s; the last
 * leave sends a Done to ff02::2 when this node reported last.
 *
 * Input (from ICMPv6, checksum already verified): a message shorter than 24
 * bytes is `icmp6.badlen`; one from a source that is not link-local is
 * dropped (RFC 2710 §3 asks for a link-local source; NetBSD drops the rest,
 * RFC 3590's `::` included). A query (general: `::`, else for one group; an
 * MLDv2 query is read as a v1 one, RFC 3810 §8.2.1) starts a report within
 * its Maximum Response Delay (at once when 0); another node's report for a
 * group we listen to suppresses ours; a Done is for routers. Messages on a
 * loopback are ignored. The hop limit is not checked, as in NetBSD.
 *
 * Output: hop limit 1 behind a Hop-by-Hop header with a Router Alert option
 * (RFC 2711), from the interface's link-local address, or from `::` while
 * that address is still tentative (RFC 3590); nothing when it has none.
 * Never looped back. Each message counts in `icmp6.outhist`.
 *
 * The solicited-node groups follow the addresses: the stack calls
 * {@linkcode MldLayer.sync} when addresses change and when an interface
 * comes up, and a general query syncs first, so an address added elsewhere
 * (autoconfiguration) is reported at the latest when a router asks.
 *
 * @example
 * ```ts ignore
 * const mld = new MldLayer(ctx, ip6);
 * ip6.icmp.mld = mld;               // ICMPv6 types 130-132
 * mld.sync(iface);                  // solicited-node groups of iface's addresses
 * mld.joined(iface.index, IpAddr.parse("ff05::1:3")!);
 * ```
 * @module
 */

import type { StackContext } from "../stack_context.ts";
import type { NetInterface } from "../link/interface.ts";
import type { Ip6SendOptions, Ipv6Layer } from "./ipv6.ts";
import type { MembershipListener } from "../socket/groups.ts";
import { emitRouterAlertHbh, IPPROTO6, type Ipv6View } from "../wire/ipv6.ts";
import { ICMP6_TYPE, IPPROTO_ICMPV6 } from "../wire/icmpv6.ts";
import {
  emitMld,
  IP6_ALL_ROUTERS,
  IP6_UNSPECIFIED,
  MLD_LEN,
  MldView,
  solicitedNode,
} from "../wire/ndp.ts";
import { isLinkLocal6, isUnspecified6 } from "./ip_addr.ts";
import { IpAddr } from "./inet_addr.ts";
import { RouteOut } from "./route_out.ts";
import {
  GroupReporter,
  type GroupReportSender,
  type ReportedGroup,
  SOURCE_ADDRESS,
  SOURCE_SOCKET,
} from "./igmp_groups.ts";

/** The Hop-by-Hop header with the Router Alert option in front of every MLD message. */
const HBH_LEN = 8;
/** Router Alert value for MLD (RFC 2711 §2.1). */
const RA_MLD = 0;

/** Whether `g` is ff02::1 (link-local all-nodes). */
function isLinkAllNodes(g: Uint8Array): boolean {
  if (g[0] !== 0xff || g[1] !== 0x02 || g[15] !== 1) return false;
  for (let i = 2; i < 15; i++) if (g[i] !== 0) return false;
  return true;
}

/** MLD for one stack: input, the group reports, the socket-join hook, solicited-node groups. */
export class MldLayer implements MembershipListener, GroupReportSender {
  /** The groups and their timers. */
  readonly reporter: GroupReporter;
  readonly #ctx: StackContext;
  readonly #ip6: Ipv6Layer;
  readonly #view = new MldView();
  readonly #group = new IpAddr();
  readonly #route = new RouteOut();
  readonly #opts: Ip6SendOptions = { hlim: 1 };

  constructor(ctx: StackContext, ip6: Ipv6Layer) {
    this.#ctx = ctx;
    this.#ip6 = ip6;
    this.reporter = new GroupReporter(ctx, this);
  }

  // -------------------------------------------------------------------------
  // Membership

  /** A socket joined `group` on `ifIndex` first: report it. */
  joined(ifIndex: number, group: IpAddr): void {
    if (group.family === 6) this.reporter.add(ifIndex, group, SOURCE_SOCKET);
  }

  /** The last socket left `group` on `ifIndex`: Done if we reported last and no address keeps it. */
  left(ifIndex: number, group: IpAddr): void {
    if (group.family === 6) this.reporter.remove(ifIndex, group, SOURCE_SOCKET);
  }

  /**
   * Brings the solicited-node groups of `iface` in line with its addresses:
   * a new one is joined (and reported), one no address needs any more is left.
   */
  sync(iface: NetInterface): void {
    if (iface.isLoopback) return;
    const r = this.reporter, g = this.#group;
    // Leave first what no address asks for (copied: remove edits the list).
    for (const m of [...r.groups(iface.index)]) {
      if (m.sources & SOURCE_ADDRESS && !this.#wanted(iface, m.group.bytes)) {
        r.remove(iface.index, m.group, SOURCE_ADDRESS);
      }
    }
    for (const a of iface.inet6) r.add(iface.index, solicitedGroup(a.addr, g), SOURCE_ADDRESS);
  }

  /** `iface` came up: its groups are announced again, and those of new addresses joined. */
  ifUp(iface: NetInterface): void {
    this.reporter.ifUp(iface.index);
    this.sync(iface);
  }

  /** `iface` went down: timers stop. */
  ifDown(iface: NetInterface): void {
    this.reporter.ifDown(iface.index);
  }

  /** `iface` is detached. */
  forget(iface: NetInterface): void {
    this.reporter.forget(iface.index);
  }

  #wanted(iface: NetInterface, group: Uint8Array): boolean {
    for (const a of iface.inet6) {
      const x = a.addr;
      if (x[13] === group[13] && x[14] === group[14] && x[15] === group[15]) return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------
  // Input

  /** An MLD message (ICMPv6 type 130-132) at `ip.bytes[offset, offset + length)`. */
  input(iface: NetInterface, ip: Ipv6View, offset: number, length: number): void {
    const v = this.#view;
    if (v.wrap(ip.bytes, offset, length) !== null) {
      this.#ctx.stats.icmp6.badlen++;
      return;
    }
    if (iface.isLoopback || !isLinkLocal6(ip.src)) return;
    const group = v.group;
    switch (v.type) {
      case ICMP6_TYPE.MLD_QUERY: {
        const general = isUnspecified6(group);
        if (!general && group[0] !== 0xff) return;
        if (general) this.sync(iface);
        const g = general ? null : this.#group.setV6(group);
        this.reporter.query(iface.index, g, v.maxDelay);
        return;
      }
      case ICMP6_TYPE.MLD_REPORT:
        if (group[0] === 0xff) this.reporter.heardReport(iface.index, this.#group.setV6(group));
        return;
      default:
        // Done: for routers.
    }
  }

  // -------------------------------------------------------------------------
  // Output (GroupReportSender)

  /** Not ff02::1, nor a group of interface-local (or reserved) scope. */
  reportable(g: ReportedGroup): boolean {
    const b = g.group.bytes;
    return (b[1] & 0x0f) >= 2 && !isLinkAllNodes(b);
  }

  /** MLDv1 always allows a Done. */
  leaveAllowed(): boolean {
    return true;
  }

  /** Sends a report (to the group) or a Done (to ff02::2) for `g`. */
  send(iface: NetInterface, g: ReportedGroup, leave: boolean): void {
    const ctx = this.#ctx;
    const src = this.#source(iface);
    if (src === null) return;
    const group = g.group.bytes;
    const dst = leave ? IP6_ALL_ROUTERS : group;
    const type = leave ? ICMP6_TYPE.MLD_DONE : ICMP6_TYPE.MLD_REPORT;
    const pkt = ctx.pool.alloc(MLD_LEN);
    emitMld(pkt.bytes, pkt.start, type, 0, group, src, dst);
    emitRouterAlertHbh(pkt.bytes, pkt.prepend(HBH_LEN), IPPROTO_ICMPV6, RA_MLD);
    const route = this.#route;
    route.iface = iface;
    route.src.setV6(src, 0, src === IP6_UNSPECIFIED ? 0 : iface.index);
    route.nextHop.setV6(dst, 0, iface.index);
    route.mtu = iface.mtu;
    route.flags = 0;
    route.generation = ctx.routeGeneration;
    ctx.stats.icmp6.outhist[type]++;
    this.#ip6.outputRouted(pkt, dst, IPPROTO6.HOPOPTS, route, this.#opts);
  }

  /** The interface's link-local address; `::` while it is tentative; null when it has none usable. */
  #source(iface: NetInterface): Uint8Array | null {
    let tentative = false;
    for (const a of iface.inet6) {
      if (!isLinkLocal6(a.addr)) continue;
      if (a.flags.includes("duplicated") || a.flags.includes("anycast")) continue;
      if (!a.flags.includes("tentative")) return a.addr;
      tentative = true;
    }
    return tentative ? IP6_UNSPECIFIED : null;
  }
}

/** ff02::1:ffXX:XXXX for `addr`, into `out`. */
function solicitedGroup(addr: Uint8Array, out: IpAddr): IpAddr {
  solicitedNode(addr, SOLICITED);
  return out.setV6(SOLICITED);
}

const SOLICITED = new Uint8Array(16);
