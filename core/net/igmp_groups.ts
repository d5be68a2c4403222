/**
 * The host side of group membership reporting that IGMPv2 (RFC 2236 §3, §6)
 * and MLDv1 (RFC 2710 §4, §5) share, written once for both families: per
 * interface, the groups this node listens to, each with its report timer and
 * the "I sent the last report" flag.
 *
 * - Joining sends an unsolicited report at once and a second one after a
 *   random delay up to the Unsolicited Report Interval (10 s), as NetBSD's
 *   `igmp_joingroup` and `mld_start_listening` do.
 * - A query (general, or for one group) starts a report timer at a random
 *   delay up to its Max Response Time, unless a shorter one already runs;
 *   MLD's Maximum Response Delay 0 means at once.
 * - Another node's report for the group stops the timer and clears the flag
 *   (suppression): that node now answers for the link.
 * - Leaving sends a Leave/Done only when the flag is set (RFC 2236 §3, RFC
 *   2710 §4: the node that reported last tells the routers).
 * - An interface coming up announces every group again; going down stops the
 *   timers.
 *
 * What is reported at all, and how messages are built and sent, is the
 * family's business ({@linkcode GroupReportSender}). Groups per interface are
 * few (the sockets' groups, the solicited-node groups): a list, searched in order.
 *
 * @example
 * ```ts ignore
 * const reporter = new GroupReporter(ctx, sender);
 * reporter.add(2, IpAddr.parse("239.1.2.3")!, SOURCE_SOCKET); // report now, again within 10 s
 * reporter.query(2, null, 10_000); // a general query: report within 10 s
 * ```
 * @module
 */

import type { StackContext } from "../stack_context.ts";
import type { NetInterface } from "../link/interface.ts";
import type { TimerHandle } from "../time/timers.ts";
import { IFF } from "../link/if_flags.ts";
import { IpAddr } from "./inet_addr.ts";

/** Unsolicited Report Interval (RFC 2236 §8.10, RFC 2710 §7.10): the repeat comes within it. */
export const UNSOLICITED_REPORT_INTERVAL_MS = 10_000;

/** The group was joined by a socket. */
export const SOURCE_SOCKET = 1;
/** The group is joined because of an address (an IPv6 solicited-node group). */
export const SOURCE_ADDRESS = 2;

/** One group on one interface. */
export class ReportedGroup {
  readonly ifIndex: number;
  /** The group (its own copy). */
  readonly group: IpAddr;
  /** Why it is joined: {@linkcode SOURCE_SOCKET} and/or {@linkcode SOURCE_ADDRESS}. */
  sources = 0;
  /** This node sent the last report heard for the group on the link. */
  lastReporter = false;
  /** The pending report (delaying member while armed). */
  readonly timer: TimerHandle;

  constructor(ifIndex: number, group: IpAddr, timer: (g: ReportedGroup) => TimerHandle) {
    this.ifIndex = ifIndex;
    this.group = group.clone();
    this.timer = timer(this);
  }
}

/** What a family (IGMP, MLD) supplies to the shared state machine. */
export interface GroupReportSender {
  /** Whether reports are ever sent for `g` (not all-hosts / all-nodes, not link-local scope...). */
  reportable(g: ReportedGroup): boolean;
  /** Sends a report (`leave` false) or a Leave/Done (`leave` true) for `g` out of `iface`. */
  send(iface: NetInterface, g: ReportedGroup, leave: boolean): void;
  /** Whether a Leave/Done may be sent on `iface` (IGMP: no IGMPv1 router heard lately). */
  leaveAllowed(iface: NetInterface): boolean;
}

/** The groups of every interface and their report timers. */
export class GroupReporter {
  readonly #ctx: StackContext;
  readonly #sender: GroupReportSender;
  readonly #byIf = new Map<number, ReportedGroup[]>();
  /** Where random delays come from (uniform in [0, 1)); tests may replace it. */
  random: () => number = Math.random;

  constructor(ctx: StackContext, sender: GroupReportSender) {
    this.#ctx = ctx;
    this.#sender = sender;
  }

  /** The groups of interface `ifIndex` (do not modify). */
  groups(ifIndex: number): readonly ReportedGroup[] {
    return this.#byIf.get(ifIndex) ?? EMPTY;
  }

  /** The state of `group` on `ifIndex`, if joined (compares family, address and, for IPv6, bytes only). */
  find(ifIndex: number, group: IpAddr): ReportedGroup | null {
    const list = this.#byIf.get(ifIndex);
    if (!list) return null;
    for (const g of list) if (sameGroup(g.group, group)) return g;
    return null;
  }

  /** Adds a reason (`source`) to listen to `group` on `ifIndex`; a new group is announced. */
  add(ifIndex: number, group: IpAddr, source: number): ReportedGroup {
    let g = this.find(ifIndex, group);
    if (g) {
      g.sources |= source;
      return g;
    }
    g = new ReportedGroup(ifIndex, group, (x) => this.#ctx.timers.timer(() => this.#timeout(x)));
    g.sources = source;
    let list = this.#byIf.get(ifIndex);
    if (!list) this.#byIf.set(ifIndex, list = []);
    list.push(g);
    this.#start(g);
    return g;
  }

  /** Drops a reason to listen to `group`; with none left the group is left (Leave/Done if we reported last). */
  remove(ifIndex: number, group: IpAddr, source: number): void {
    const g = this.find(ifIndex, group);
    if (!g) return;
    g.sources &= ~source;
    if (g.sources !== 0) return;
    const list = this.#byIf.get(ifIndex)!;
    list.splice(list.indexOf(g), 1);
    if (list.length === 0) this.#byIf.delete(ifIndex);
    g.timer.disarm();
    const iface = this.#usable(ifIndex);
    if (
      iface && g.lastReporter && this.#sender.reportable(g) && this.#sender.leaveAllowed(iface)
    ) {
      this.#sender.send(iface, g, true);
    }
    g.lastReporter = false;
  }

  /**
   * A query on `ifIndex` for `group` (null: a general query) allowing
   * `maxDelayMs`: each matching reportable group reports within that time
   * (at once when 0), unless its timer would fire sooner already.
   */
  query(ifIndex: number, group: IpAddr | null, maxDelayMs: number): void {
    const iface = this.#usable(ifIndex);
    const list = this.#byIf.get(ifIndex);
    if (!iface || !list) return;
    const now = this.#ctx.now();
    for (const g of list) {
      if (group !== null && !sameGroup(g.group, group)) continue;
      if (!this.#sender.reportable(g)) continue;
      if (maxDelayMs <= 0) {
        g.timer.disarm();
        this.#report(iface, g);
        continue;
      }
      if (g.timer.armed && g.timer.deadline - now <= maxDelayMs) continue;
      g.timer.arm(now + this.#delay(maxDelayMs));
    }
  }

  /** Another node reported `group` on `ifIndex`: ours is suppressed. True when we listen to it. */
  heardReport(ifIndex: number, group: IpAddr): boolean {
    const g = this.find(ifIndex, group);
    if (!g) return false;
    g.timer.disarm();
    g.lastReporter = false;
    return true;
  }

  /** The interface came up: every group is announced again (twice, as on a join). */
  ifUp(ifIndex: number): void {
    for (const g of this.groups(ifIndex)) this.#start(g);
  }

  /** The interface went down: timers stop; the groups stay joined. */
  ifDown(ifIndex: number): void {
    for (const g of this.groups(ifIndex)) {
      g.timer.disarm();
      g.lastReporter = false;
    }
  }

  /** The interface is gone: its groups are forgotten without a word. */
  forget(ifIndex: number): void {
    this.ifDown(ifIndex);
    this.#byIf.delete(ifIndex);
  }

  /** Sends the first unsolicited report and arms the repeat (when the group is reported and the link is up). */
  #start(g: ReportedGroup): void {
    const iface = this.#usable(g.ifIndex);
    if (!iface || !this.#sender.reportable(g)) return;
    this.#report(iface, g);
    g.timer.arm(this.#ctx.now() + this.#delay(UNSOLICITED_REPORT_INTERVAL_MS));
  }

  #timeout(g: ReportedGroup): void {
    const iface = this.#usable(g.ifIndex);
    if (iface && this.#sender.reportable(g)) this.#report(iface, g);
  }

  #report(iface: NetInterface, g: ReportedGroup): void {
    this.#sender.send(iface, g, false);
    g.lastReporter = true;
  }

  /** A random delay in (0, max] milliseconds (NetBSD's IGMP_RANDOM_DELAY, at millisecond grain). */
  #delay(maxMs: number): number {
    return Math.min(maxMs, 1 + Math.floor(this.random() * maxMs));
  }

  /** The interface, when it is up and not a loopback (no reports on loopbacks, as NetBSD). */
  #usable(ifIndex: number): NetInterface | null {
    const iface = this.#ctx.interfaceByIndex(ifIndex);
    if (!iface || iface.isLoopback || !(iface.flags & IFF.UP)) return null;
    return iface;
  }
}

const EMPTY: readonly ReportedGroup[] = [];

/** Same family and address; an IPv6 zone is implied by the interface, so it is not compared. */
function sameGroup(a: IpAddr, b: IpAddr): boolean {
  if (a.family !== b.family) return false;
  if (a.family === 4) return a.v4 === b.v4;
  for (let i = 0; i < 16; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}
