/**
 * ARP (RFC 826) on Ethernet interfaces: answers requests for our addresses
 * (and published entries), learns senders, resolves next hops for IPv4 output
 * holding packets while it asks, and announces new addresses with a
 * gratuitous ARP. Counters are NetBSD's `arpstat`.
 *
 * @example
 * ```ts ignore
 * const arp = new ArpLayer(ctx, ether);
 * arp.resolveAndSend(iface, nextHop, pkt); // sends now or once the answer comes
 * ```
 * @module
 */

import type { Errno } from "../errno.ts";
import type { PacketBuffer } from "../buf/packet_pool.ts";
import type { NeighborInfo } from "../control/ops.ts";
import type { StackContext } from "../stack_context.ts";
import type { Timer } from "../time/timers.ts";
import { ARP_LEN, ARP_OP, ArpView, emitArp } from "../wire/arp.ts";
import { ETHER_BROADCAST, ETHERTYPE, ip4MulticastMac, sameMac } from "../wire/ethernet.ts";
import { formatIp4 } from "../net/ip_addr.ts";
import { ArpCache, type ArpTimers } from "./arp_cache.ts";
import type { EtherLayer } from "./ether.ts";
import { formatLladdr, type NetInterface } from "./interface.ts";

const ZERO_MAC = new Uint8Array(6);

/** The ARP layer of a stack. */
export class ArpLayer {
  readonly cache: ArpCache;
  readonly #ctx: StackContext;
  readonly #ether: EtherLayer;
  readonly #view = new ArpView();
  #timer: Timer | null = null;
  #timerAt = Infinity;

  constructor(ctx: StackContext, ether: EtherLayer) {
    this.#ctx = ctx;
    this.#ether = ether;
    this.cache = new ArpCache((): ArpTimers => ctx.tunables.arp);
  }

  /** A received ARP packet. */
  input(iface: NetInterface, bytes: Uint8Array, offset: number, length: number): void {
    const st = this.#ctx.stats.arp;
    st.rcvtotal++;
    const v = this.#view;
    const err = v.wrap(bytes, offset, length);
    if (err === "truncated") {
      st.rcvbadlen++;
      return;
    }
    if (err !== null) {
      st.rcvbadproto++;
      return;
    }
    const op = v.op;
    if (op === ARP_OP.REQUEST) st.rcvrequest++;
    else if (op === ARP_OP.REPLY) st.rcvreply++;
    else {
      st.rcvbadproto++;
      return;
    }
    const mine = iface.spec.lladdr;
    if (!mine) return;
    if (sameMac(bytes, v.shaOffset, mine)) {
      st.rcvlocalsha++;
      return;
    }
    if (sameMac(bytes, v.shaOffset, ETHER_BROADCAST)) {
      st.rcvbcastsha++;
      return;
    }
    if (v.spa >>> 24 >= 224) {
      st.rcvmcast++;
      return;
    }
    const tpa = v.tpa, spa = v.spa;
    if (tpa === 0) {
      st.rcvzerotpa++;
      return;
    }
    if (iface.inet.some((a) => a.addr === spa) && spa !== 0) {
      st.rcvlocalspa++;
      this.#ctx.log(
        `arp: ${formatLladdr(v.sha)} is using my IP address ${formatIp4(spa)} on ${iface.name}`,
      );
      return;
    }
    const forUs = iface.inet.some((a) => a.addr === tpa);
    if (spa === 0) st.rcvzerospa++; // an address probe (RFC 5227): answer, learn nothing
    else this.#learn(iface, spa, v.sha, forUs);
    if (op !== ARP_OP.REQUEST) return;
    const published = this.cache.get(iface.index, tpa)?.published === true;
    if (forUs || published) {
      this.#reply(
        iface,
        v.sha,
        spa,
        tpa,
        published ? this.cache.get(iface.index, tpa)!.mac! : mine,
      );
    }
  }

  /**
   * Sends the IPv4 packet in `pkt` (IP header at `pkt.start`) to `nextHop` on
   * `iface`, resolving its link address first. Frees `pkt` in every case.
   * Returns EHOSTDOWN (or EHOSTUNREACH) when resolution failed recently, else null.
   */
  resolveAndSend(iface: NetInterface, nextHop: number, pkt: PacketBuffer): Errno | null {
    const ctx = this.#ctx;
    try {
      const direct = linkBroadcastOrMulticast(iface, nextHop);
      const mac = direct ?? this.cache.lookup(iface.index, nextHop, ctx.now());
      if (mac) {
        this.#ether.send(iface, pkt, ETHERTYPE.IPV4, mac);
        if (!direct && this.cache.wantsRefresh(iface.index, nextHop, ctx.now())) {
          this.#request(iface, nextHop, mac);
        }
        return null;
      }
      const action = this.cache.resolve(iface.index, nextHop, pkt.view(), ctx.now());
      if (action.kind === "send") {
        this.#ether.send(iface, pkt, ETHERTYPE.IPV4, action.mac);
      } else if (action.kind === "held") {
        ctx.stats.arp.dfrtotal++;
        if (action.request) this.#request(iface, nextHop);
        this.#armTimer();
      } else {
        ctx.stats.arp.dfrdropped++;
        return action.errno;
      }
      return null;
    } finally {
      ctx.pool.free(pkt);
    }
  }

  /** Announces `addr` on `iface` (gratuitous ARP, as NetBSD does when an address is set). */
  announce(iface: NetInterface, addr: number): void {
    if (iface.linkType !== "ethernet" || !iface.spec.lladdr || !iface.isUp) return;
    this.#sendArp(iface, ARP_OP.REQUEST, ETHER_BROADCAST, iface.spec.lladdr, addr, ZERO_MAC, addr);
  }

  /** Entries as `arp -a` lists them. */
  list(): NeighborInfo[] {
    const now = this.#ctx.now();
    const out: NeighborInfo[] = [];
    for (const e of this.cache.entries()) {
      const iface = this.#ctx.interfaceByIndex(e.ifIndex);
      if (!iface || e.state === "down") continue;
      const n: NeighborInfo = { family: "inet", addr: formatIp4(e.addr), ifname: iface.name };
      if (e.mac) n.lladdr = formatLladdr(e.mac);
      if (e.state !== "permanent" && e.state === "resolved") {
        n.expire = Math.max(0, Math.round((e.expire - now) / 1000));
      }
      if (e.published) n.published = true;
      out.push(n);
    }
    return out;
  }

  /** Removes every entry of an interface (it is going away). */
  forgetInterface(ifIndex: number): void {
    this.cache.deleteInterface(ifIndex);
  }

  #learn(iface: NetInterface, spa: number, sha: Uint8Array, create: boolean): void {
    const held = this.cache.learn(iface.index, spa, sha, create, this.#ctx.now());
    if (create) this.#armTimer();
    for (const ip of held) {
      const pkt = this.#ctx.pool.alloc(ip.length);
      pkt.bytes.set(ip, pkt.start);
      this.#ctx.stats.arp.dfrsent++;
      this.#ether.send(iface, pkt, ETHERTYPE.IPV4, sha);
      this.#ctx.pool.free(pkt);
    }
  }

  #reply(iface: NetInterface, tha: Uint8Array, tpa: number, spa: number, sha: Uint8Array): void {
    this.#ctx.stats.arp.sndreply++;
    this.#sendArp(iface, ARP_OP.REPLY, tha, sha, spa, tha, tpa);
  }

  /** Asks who has `target`: broadcast, or unicast to `known` when refreshing an entry. */
  #request(iface: NetInterface, target: number, known?: Uint8Array): void {
    const src = sourceFor(iface, target);
    if (src === null || !iface.spec.lladdr) return;
    this.#ctx.stats.arp.sndrequest++;
    const dst = known ?? ETHER_BROADCAST;
    this.#sendArp(iface, ARP_OP.REQUEST, dst, iface.spec.lladdr, src, ZERO_MAC, target);
  }

  #sendArp(
    iface: NetInterface,
    op: number,
    dst: Uint8Array,
    sha: Uint8Array,
    spa: number,
    tha: Uint8Array,
    tpa: number,
  ): void {
    const pkt = this.#ctx.pool.alloc(ARP_LEN);
    // Copy the addresses first: they may be views into the packet being answered.
    emitArp(pkt.bytes, pkt.start, { op, sha: sha.slice(0, 6), spa, tha: tha.slice(0, 6), tpa });
    this.#ctx.stats.arp.sndtotal++;
    this.#ether.send(iface, pkt, ETHERTYPE.ARP, dst.slice(0, 6));
    this.#ctx.pool.free(pkt);
  }

  #armTimer(): void {
    const next = this.cache.nextDeadline();
    if (next === null || next >= this.#timerAt) return;
    this.#ctx.timers.cancel(this.#timer);
    this.#timerAt = next;
    this.#timer = this.#ctx.timers.schedule(next, () => this.#tick());
  }

  #tick(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    for (const e of this.cache.tick(this.#ctx.now())) {
      const iface = this.#ctx.interfaceByIndex(e.ifIndex);
      if (iface) this.#request(iface, e.addr);
    }
    this.#armTimer();
  }
}

/** The link address for broadcast and multicast next hops, which need no resolution. */
function linkBroadcastOrMulticast(iface: NetInterface, addr: number): Uint8Array | null {
  if (addr === 0xffffffff) return ETHER_BROADCAST;
  if (addr >>> 28 === 0xe) return ip4MulticastMac(addr);
  for (const a of iface.inet) if (a.broadcast === addr) return ETHER_BROADCAST;
  return null;
}

/** The address to ask from: one on the target's subnet, else the primary. */
function sourceFor(iface: NetInterface, target: number): number | null {
  for (const a of iface.inet) if (((a.addr ^ target) & a.mask) === 0) return a.addr;
  return iface.inet[0]?.addr ?? null;
}
