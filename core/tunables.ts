/**
 * The sysctl knobs the data path reads per packet, as plain numeric fields:
 * `ctx.tunables.ip.ttl` instead of `ctx.sysctl.int("net.inet.ip.ttl")`, a
 * field load instead of a map lookup and a type check. Each field is its
 * sysctl leaf name in camelCase (`net.inet.ip.random_id` is `ip.randomId`);
 * {@linkcode TUNABLE_NAMES} maps every field to its name.
 *
 * String knobs mirror as strings (`tcp.congctl` is
 * `net.inet.tcp.congctl.selected`).
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

/**
 * `net.inet.tcp.*`. Units as the sysctls have them: bytes for buffers and
 * segment sizes, segments for the initial windows, slow ticks (PR_SLOWHZ = 2
 * a second, so 150 = 75 s) for `keep*`, seconds for `msl`, packets a second
 * for the `*ppslimit`s (-1 unlimited), and `delackTicks` in fast ticks.
 */
export class TcpTunables {
  rfc1323 = 0;
  sendspace = 0;
  recvspace = 0;
  mssdflt = 0;
  synCacheLimit = 0;
  synBucketLimit = 0;
  initWin = 0;
  mssIfmtu = 0;
  sackEnable = 0;
  /** SACK holes kept per connection. */
  maxholes = 0;
  /** SACK holes kept by all connections together. */
  sackGlobalmaxholes = 0;
  winScale = 0;
  timestamps = 0;
  ackOnPush = 0;
  keepidle = 0;
  keepintvl = 0;
  keepcnt = 0;
  logRefused = 0;
  initWinLocal = 0;
  rstppslimit = 0;
  delackTicks = 0;
  /** Size the socket buffers' high-water marks from the peer's MSS (QNX). */
  hiwatAdjust = 0;
  doLoopbackCksum = 0;
  dropSynfin = 0;
  recvbufAuto = 0;
  recvbufInc = 0;
  recvbufMax = 0;
  sendbufAuto = 0;
  sendbufInc = 0;
  sendbufMax = 0;
  ecnEnable = 0;
  ecnMaxretries = 0;
  abcEnable = 0;
  abcAggressive = 0;
  /** `net.inet.tcp.congctl.selected`: the algorithm new connections start with. */
  congctl = "";
  /** Slow ticks before a connection attempt gives up (`keepinit`). */
  keepinit = 0;
  /** Seconds: TIME_WAIT lasts 2 * msl. */
  msl = 0;
  /** Challenge ACKs (RFC 5961) and ACKs answering dropped segments, per second. */
  ackdropppslimit = 0;
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
  readonly tcp = new TcpTunables();
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
      const fields = this[set] as unknown as Record<string, number | string>;
      for (const [field, name] of Object.entries(TUNABLE_NAMES[set])) {
        if (!tree.has(name)) continue;
        // A field keeps its declared type: numbers from int leaves, strings from string leaves.
        const isString = typeof fields[field] === "string";
        tree.mirror(name, (value) => {
          if ((typeof value === "string") === isString) fields[field] = value;
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
  tcp: {
    rfc1323: "net.inet.tcp.rfc1323",
    sendspace: "net.inet.tcp.sendspace",
    recvspace: "net.inet.tcp.recvspace",
    mssdflt: "net.inet.tcp.mssdflt",
    synCacheLimit: "net.inet.tcp.syn_cache_limit",
    synBucketLimit: "net.inet.tcp.syn_bucket_limit",
    initWin: "net.inet.tcp.init_win",
    mssIfmtu: "net.inet.tcp.mss_ifmtu",
    sackEnable: "net.inet.tcp.sack.enable",
    maxholes: "net.inet.tcp.sack.maxholes",
    sackGlobalmaxholes: "net.inet.tcp.sack.globalmaxholes",
    winScale: "net.inet.tcp.win_scale",
    timestamps: "net.inet.tcp.timestamps",
    ackOnPush: "net.inet.tcp.ack_on_push",
    keepidle: "net.inet.tcp.keepidle",
    keepintvl: "net.inet.tcp.keepintvl",
    keepcnt: "net.inet.tcp.keepcnt",
    logRefused: "net.inet.tcp.log_refused",
    initWinLocal: "net.inet.tcp.init_win_local",
    rstppslimit: "net.inet.tcp.rstppslimit",
    delackTicks: "net.inet.tcp.delack_ticks",
    hiwatAdjust: "net.inet.tcp.hiwat_adjust",
    doLoopbackCksum: "net.inet.tcp.do_loopback_cksum",
    dropSynfin: "net.inet.tcp.drop_synfin",
    recvbufAuto: "net.inet.tcp.recvbuf_auto",
    recvbufInc: "net.inet.tcp.recvbuf_inc",
    recvbufMax: "net.inet.tcp.recvbuf_max",
    sendbufAuto: "net.inet.tcp.sendbuf_auto",
    sendbufInc: "net.inet.tcp.sendbuf_inc",
    sendbufMax: "net.inet.tcp.sendbuf_max",
    ecnEnable: "net.inet.tcp.ecn.enable",
    ecnMaxretries: "net.inet.tcp.ecn.maxretries",
    abcEnable: "net.inet.tcp.abc.enable",
    abcAggressive: "net.inet.tcp.abc.aggressive",
    congctl: "net.inet.tcp.congctl.selected",
    keepinit: "net.inet.tcp.keepinit",
    msl: "net.inet.tcp.msl",
    ackdropppslimit: "net.inet.tcp.ackdropppslimit",
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
