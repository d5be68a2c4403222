/**
 * The sysctl knobs the data path reads per packet, as plain numeric fields:
 * `ctx.tunables.ip.ttl` instead of `ctx.sysctl.int("net.inet.ip.ttl")`, a
 * field load instead of a map lookup and a type check. Each field is its
 * sysctl leaf name in camelCase (`net.inet.ip.random_id` is `ip.randomId`);
 * {@linkcode TUNABLE_NAMES} maps every field to its name.
 *
 * The {@linkcode SysctlTree} keeps the fields current: they start from the
 * tree's values and follow every write ({@linkcode SysctlTree.mirror}),
 * through either name of a shared variable (`net.inet6.udp6.do_loopback_cksum`
 * writes `udp.doLoopbackCksum`). Knobs read only on the control plane (DAD's
 * `dad_count`, per-interface settings) stay with the tree.
 *
 * @example
 * ```ts
 * import { SysctlTree } from "./sysctl.ts";
 * import { Tunables } from "./tunables.ts";
 * const mib = new SysctlTree({ inet6: true });
 * const tunables = new Tunables(mib);
 * mib.set("net.inet.ip.ttl", "32");
 * console.log(tunables.ip.ttl); // 32
 * ```
 * @module
 */

import type { SysctlTree } from "./sysctl.ts";

/** `net.inet6.icmp6.errppslimit` when the MIB has no such name (as QNX's has not): IPv4's default. */
export const ICMP6_ERRPPS_DEFAULT = 100;

/** `net.inet.ip.*` */
export class IpTunables {
  forwarding = 0;
  redirect = 0;
  ttl = 0;
  directedBroadcast = 0;
  allowsrcrt = 0;
  mtudisc = 0;
  /** Seconds. */
  mtudisctimeout = 0;
  maxflows = 0;
  hostzerobroadcast = 0;
  maxfragpackets = 0;
  checkinterface = 0;
  randomId = 0;
  doLoopbackCksum = 0;
}

/** `net.inet.icmp.*` */
export class IcmpTunables {
  maskrepl = 0;
  returndatabytes = 0;
  errppslimit = 0;
  tstamprepl = 0;
  bmcastecho = 0;
}

/** `net.inet.udp.*` (also written as `net.inet6.udp6.do_loopback_cksum`). */
export class UdpTunables {
  doLoopbackCksum = 0;
  /** `net.inet.udp.checksum`: sum IPv4 datagrams sent (IPv6 always is). */
  checksum = 1;
}

/** `net.inet.arp.*`, in seconds but `maxtries` (the ARP cache's timers). */
export class ArpTunables {
  prune = 0;
  keep = 0;
  down = 0;
  refresh = 0;
  maxtries = 0;
}

/** `net.inet6.ip6.*` (all 0 on a v4 stack, which never reads them). */
export class Ip6Tunables {
  forwarding = 0;
  redirect = 0;
  hlim = 0;
  maxfragpackets = 0;
  hdrnestlimit = 0;
  defmcasthlim = 0;
  useDeprecated = 0;
}

/** `net.inet6.icmp6.*` */
export class Icmp6Tunables {
  rediraccept = 0;
  /** Seconds. */
  nd6Delay = 0;
  nd6Umaxtries = 0;
  nd6Mmaxtries = 0;
  errppslimit = ICMP6_ERRPPS_DEFAULT;
  /** Which Node Information queries are answered (bit 1 name, bit 2 addresses; 0 none). */
  nodeinfo = 0;
}

/** Every hot knob of a stack, kept current by its sysctl tree. */
export class Tunables {
  readonly ip = new IpTunables();
  readonly icmp = new IcmpTunables();
  readonly udp = new UdpTunables();
  readonly arp = new ArpTunables();
  readonly ip6 = new Ip6Tunables();
  readonly icmp6 = new Icmp6Tunables();

  /**
   * Reads every knob the tree has and follows its writes from then on. A name
   * the tree lacks (the IPv6 knobs on a v4 stack) keeps the field's default.
   *
   * @param tree the stack's MIB
   */
  constructor(tree: SysctlTree) {
    for (const set of Object.keys(TUNABLE_NAMES) as (keyof Tunables)[]) {
      const fields = this[set] as unknown as Record<string, number>;
      for (const [field, name] of Object.entries(TUNABLE_NAMES[set])) {
        if (!tree.has(name)) continue;
        tree.mirror(name, (value) => {
          if (typeof value === "number") fields[field] = value;
        });
      }
    }
  }
}

/** The layers' read-only view of {@linkcode Tunables}. */
export type ReadonlyTunables = { readonly [S in keyof Tunables]: Readonly<Tunables[S]> };

/** The sysctl name of every field: a field without a name, or a name for no field, does not compile. */
export const TUNABLE_NAMES: {
  readonly [S in keyof Tunables]: { readonly [F in keyof Tunables[S]]: string };
} = {
  ip: {
    forwarding: "net.inet.ip.forwarding",
    redirect: "net.inet.ip.redirect",
    ttl: "net.inet.ip.ttl",
    directedBroadcast: "net.inet.ip.directed-broadcast",
    allowsrcrt: "net.inet.ip.allowsrcrt",
    mtudisc: "net.inet.ip.mtudisc",
    mtudisctimeout: "net.inet.ip.mtudisctimeout",
    maxflows: "net.inet.ip.maxflows",
    hostzerobroadcast: "net.inet.ip.hostzerobroadcast",
    maxfragpackets: "net.inet.ip.maxfragpackets",
    checkinterface: "net.inet.ip.checkinterface",
    randomId: "net.inet.ip.random_id",
    doLoopbackCksum: "net.inet.ip.do_loopback_cksum",
  },
  icmp: {
    maskrepl: "net.inet.icmp.maskrepl",
    returndatabytes: "net.inet.icmp.returndatabytes",
    errppslimit: "net.inet.icmp.errppslimit",
    tstamprepl: "net.inet.icmp.tstamprepl",
    bmcastecho: "net.inet.icmp.bmcastecho",
  },
  udp: {
    doLoopbackCksum: "net.inet.udp.do_loopback_cksum",
    checksum: "net.inet.udp.checksum",
  },
  arp: {
    prune: "net.inet.arp.prune",
    keep: "net.inet.arp.keep",
    down: "net.inet.arp.down",
    refresh: "net.inet.arp.refresh",
    maxtries: "net.inet.arp.maxtries",
  },
  ip6: {
    forwarding: "net.inet6.ip6.forwarding",
    redirect: "net.inet6.ip6.redirect",
    hlim: "net.inet6.ip6.hlim",
    maxfragpackets: "net.inet6.ip6.maxfragpackets",
    hdrnestlimit: "net.inet6.ip6.hdrnestlimit",
    defmcasthlim: "net.inet6.ip6.defmcasthlim",
    useDeprecated: "net.inet6.ip6.use_deprecated",
  },
  icmp6: {
    rediraccept: "net.inet6.icmp6.rediraccept",
    nd6Delay: "net.inet6.icmp6.nd6_delay",
    nd6Umaxtries: "net.inet6.icmp6.nd6_umaxtries",
    nd6Mmaxtries: "net.inet6.icmp6.nd6_mmaxtries",
    errppslimit: "net.inet6.icmp6.errppslimit",
    nodeinfo: "net.inet6.icmp6.nodeinfo",
  },
};
