/**
 * Protocol counters, one class per set, named after the fields of NetBSD 4's
 * statistics structures (`struct ipstat`, `tcpstat`, `udpstat`, `icmpstat`,
 * `igmpstat`, `arpstat`, `ip6stat`, `icmp6stat`, `udp6stat`, `rtstat`) with
 * their prefixes (`ips_`, `tcps_`, ...) dropped, in NetBSD's structure order:
 * `ips_total` is `ip.total`.
 *
 * Every counter is a declared field, so a mistyped name does not compile and
 * V8 keeps each set a fast object. Array members (histograms, per-scope
 * counters) are `Float64Array`s of NetBSD's lengths: the ICMP output histogram
 * `icps_outhist[3]` is `icmp.outhist[3]`. The control plane sees one flat
 * record per set ({@linkcode flattenProtoCounters}: `outhist.3`), which is
 * what `netstat -s` reads.
 *
 * @example Count and read
 * ```ts
 * import { flattenProtoCounters, ProtoCounters } from "./stats.ts";
 * const stats = new ProtoCounters(true);
 * stats.ip.total++;
 * stats.icmp.inhist[8]++; // an echo request came in
 * console.log(flattenProtoCounters(stats).icmp["inhist.8"]); // 1
 * ```
 * @module
 */

import type { ProtoStats } from "./control/ops.ts";

/** Entries of ICMP's histograms: types 0 to ICMP_MAXTYPE (18). */
export const ICMP_HIST_LEN = 19;
/** Entries of ICMPv6's histograms (`icp6s_outhist[256]`). */
export const ICMP6_HIST_LEN = 256;
/** Entries of IPv6's next-header histogram (`ip6s_nxthist[256]`). */
export const IP6_NXTHIST_LEN = 256;
/** Entries of IPv6's per-interface mbuf-chain counter (`ip6s_m2m[32]`). */
export const IP6_M2M_LEN = 32;
/** Entries of each IPv6 source-selection counter, by scope (`ip6s_sources_*[16]`). */
export const IP6_SCOPES_LEN = 16;

/** `struct ipstat`: the `ips_*` counters. */
export class IpStats {
  total = 0;
  badsum = 0;
  tooshort = 0;
  toosmall = 0;
  badhlen = 0;
  badlen = 0;
  fragments = 0;
  fragdropped = 0;
  fragtimeout = 0;
  forward = 0;
  fastforward = 0;
  cantforward = 0;
  redirectsent = 0;
  noproto = 0;
  delivered = 0;
  localout = 0;
  odropped = 0;
  reassembled = 0;
  fragmented = 0;
  ofragments = 0;
  cantfrag = 0;
  badoptions = 0;
  noroute = 0;
  badvers = 0;
  rawout = 0;
  badfrags = 0;
  rcvmemdrop = 0;
  toolong = 0;
  nogif = 0;
  badaddr = 0;
}

/** `struct icmpstat`: the `icps_*` counters. */
export class IcmpStats {
  error = 0;
  oldicmp = 0;
  readonly outhist = new Float64Array(ICMP_HIST_LEN);
  badcode = 0;
  tooshort = 0;
  checksum = 0;
  badlen = 0;
  reflect = 0;
  readonly inhist = new Float64Array(ICMP_HIST_LEN);
  pmtuchg = 0;
}

/** `struct igmpstat`: the `igps_*` counters. */
export class IgmpStats {
  rcv_total = 0;
  rcv_tooshort = 0;
  rcv_badsum = 0;
  rcv_queries = 0;
  rcv_badqueries = 0;
  rcv_reports = 0;
  rcv_badreports = 0;
  rcv_ourreports = 0;
  snd_reports = 0;
}

/** `struct tcpstat`: the `tcps_*` counters. */
export class TcpStats {
  connattempt = 0;
  accepts = 0;
  connects = 0;
  drops = 0;
  conndrops = 0;
  closed = 0;
  segstimed = 0;
  rttupdated = 0;
  delack = 0;
  timeoutdrop = 0;
  rexmttimeo = 0;
  persisttimeo = 0;
  persistdrops = 0;
  keeptimeo = 0;
  keepprobe = 0;
  keepdrops = 0;
  sndtotal = 0;
  sndpack = 0;
  sndbyte = 0;
  sndrexmitpack = 0;
  sndrexmitbyte = 0;
  sndacks = 0;
  sndprobe = 0;
  sndurg = 0;
  sndwinup = 0;
  sndctrl = 0;
  rcvtotal = 0;
  rcvpack = 0;
  rcvbyte = 0;
  rcvbadsum = 0;
  rcvbadoff = 0;
  rcvmemdrop = 0;
  rcvshort = 0;
  rcvduppack = 0;
  rcvdupbyte = 0;
  rcvpartduppack = 0;
  rcvpartdupbyte = 0;
  rcvoopack = 0;
  rcvoobyte = 0;
  rcvpackafterwin = 0;
  rcvbyteafterwin = 0;
  rcvafterclose = 0;
  rcvwinprobe = 0;
  rcvdupack = 0;
  rcvacktoomuch = 0;
  rcvackpack = 0;
  rcvackbyte = 0;
  rcvwinupd = 0;
  pawsdrop = 0;
  predack = 0;
  preddat = 0;
  pcbhashmiss = 0;
  noport = 0;
  badsyn = 0;
  delayed_free = 0;
  sc_added = 0;
  sc_completed = 0;
  sc_timed_out = 0;
  sc_overflowed = 0;
  sc_reset = 0;
  sc_unreach = 0;
  sc_bucketoverflow = 0;
  sc_aborted = 0;
  sc_dupesyn = 0;
  sc_dropped = 0;
  sc_collisions = 0;
  sc_retransmitted = 0;
  sc_delayed_free = 0;
  selfquench = 0;
  badsig = 0;
  goodsig = 0;
  connsdrained = 0;
  ecn_shs = 0;
  ecn_ce = 0;
  ecn_ect = 0;
  pmtublackhole = 0;
  // Past NetBSD 4's structure: counters later stacks keep (FreeBSD's SACK
  // names, RFC 5961's challenge ACKs); `netstat -s` prints them only when not 0.
  /** Fast retransmits (three duplicate ACKs or SACK loss detection). */
  sndrexmitfast = 0;
  /** SACK recovery episodes entered. */
  sack_recovery_episode = 0;
  /** Segments retransmitted during SACK recovery. */
  sack_rexmits = 0;
  /** Bytes retransmitted during SACK recovery. */
  sack_rexmit_bytes = 0;
  /** SACK options received. */
  sack_rcv_blocks = 0;
  /** SACK options sent. */
  sack_send_blocks = 0;
  /** Times the SACK scoreboard was full (`net.inet.tcp.sack.maxholes`). */
  sack_sboverflow = 0;
  /** RSTs inside the window but not at `rcv_nxt` (RFC 5961 §3: answered by a challenge ACK). */
  rcvbadrst = 0;
  /** SYNs on a synchronised connection (RFC 5961 §4: answered by a challenge ACK). */
  rcvbadsynest = 0;
  /** Challenge ACKs sent (RFC 5961). */
  challenge_ack = 0;
  /** Challenge ACKs not sent: over `net.inet.tcp.ackdropppslimit`. */
  challenge_ack_limited = 0;
}

/** `struct udpstat`: the `udps_*` counters. */
export class UdpStats {
  ipackets = 0;
  hdrops = 0;
  badsum = 0;
  badlen = 0;
  noport = 0;
  noportbcast = 0;
  fullsock = 0;
  pcbhashmiss = 0;
  opackets = 0;
}

/** `struct arpstat`: the `as_*` counters. */
export class ArpStats {
  sndtotal = 0;
  sndreply = 0;
  sndrequest = 0;
  rcvtotal = 0;
  rcvrequest = 0;
  rcvreply = 0;
  rcvmcast = 0;
  rcvbadproto = 0;
  rcvbadlen = 0;
  rcvzerotpa = 0;
  rcvzerospa = 0;
  rcvnoint = 0;
  rcvlocalsha = 0;
  rcvbcastsha = 0;
  rcvlocalspa = 0;
  rcvoverperm = 0;
  rcvoverint = 0;
  rcvover = 0;
  rcvlenchg = 0;
  dfrtotal = 0;
  dfrsent = 0;
  dfrdropped = 0;
  allocfail = 0;
}

/** `struct rtstat`: the `rts_*` counters. */
export class RouteStats {
  badredirect = 0;
  dynamic = 0;
  newgateway = 0;
  unreach = 0;
  wildcard = 0;
}

/** `struct ip6stat`: the `ip6s_*` counters. */
export class Ip6Stats {
  total = 0;
  tooshort = 0;
  toosmall = 0;
  fragments = 0;
  fragdropped = 0;
  fragtimeout = 0;
  fragoverflow = 0;
  forward = 0;
  cantforward = 0;
  redirectsent = 0;
  delivered = 0;
  localout = 0;
  odropped = 0;
  reassembled = 0;
  fragmented = 0;
  ofragments = 0;
  cantfrag = 0;
  badoptions = 0;
  noroute = 0;
  badvers = 0;
  rawout = 0;
  badscope = 0;
  notmember = 0;
  readonly nxthist = new Float64Array(IP6_NXTHIST_LEN);
  m1 = 0;
  readonly m2m = new Float64Array(IP6_M2M_LEN);
  mext1 = 0;
  mext2m = 0;
  exthdrtoolong = 0;
  nogif = 0;
  toomanyhdr = 0;
  sources_none = 0;
  readonly sources_sameif = new Float64Array(IP6_SCOPES_LEN);
  readonly sources_otherif = new Float64Array(IP6_SCOPES_LEN);
  readonly sources_samescope = new Float64Array(IP6_SCOPES_LEN);
  readonly sources_otherscope = new Float64Array(IP6_SCOPES_LEN);
  readonly sources_deprecated = new Float64Array(IP6_SCOPES_LEN);
  forward_cachehit = 0;
  forward_cachemiss = 0;
}

/** `struct icmp6stat`: the `icp6s_*` counters. */
export class Icmp6Stats {
  error = 0;
  canterror = 0;
  toofreq = 0;
  readonly outhist = new Float64Array(ICMP6_HIST_LEN);
  badcode = 0;
  tooshort = 0;
  checksum = 0;
  badlen = 0;
  reflect = 0;
  readonly inhist = new Float64Array(ICMP6_HIST_LEN);
  nd_toomanyopt = 0;
  odst_unreach_noroute = 0;
  odst_unreach_admin = 0;
  odst_unreach_beyondscope = 0;
  odst_unreach_addr = 0;
  odst_unreach_noport = 0;
  opacket_too_big = 0;
  otime_exceed_transit = 0;
  otime_exceed_reassembly = 0;
  oparamprob_header = 0;
  oparamprob_nextheader = 0;
  oparamprob_option = 0;
  oredirect = 0;
  ounknown = 0;
  pmtuchg = 0;
  nd_badopt = 0;
  badns = 0;
  badna = 0;
  badrs = 0;
  badra = 0;
  badredirect = 0;
}

/** `struct udp6stat`: the `udp6s_*` counters. */
export class Udp6Stats {
  ipackets = 0;
  hdrops = 0;
  badsum = 0;
  nosum = 0;
  badlen = 0;
  noport = 0;
  noportmcast = 0;
  fullsock = 0;
  opackets = 0;
}
/** The names of a set's scalar counters (its `number` fields): `CounterName<IpStats>` is `"total" | "badsum" | ...`. */
export type CounterName<T> = { [K in keyof T]: T[K] extends number ? K : never }[keyof T];

/**
 * Every counter set of a stack, in NetBSD's order. The IPv4 sets, `arp` and
 * `route` belong to every stack; `ip6`, `icmp6` and `udp6` only to an IPv6 one
 * (io-pkt-v6-hc). They exist on a v4 stack too, so the layers need no checks,
 * but stay zero there and are left out of {@linkcode flattenProtoCounters}.
 * `route` is `struct rtstat` (`netstat -rs`); `udp6` is kept apart from `udp`
 * as NetBSD 4 does (`netstat -s` prints both).
 */
export class ProtoCounters {
  readonly ip = new IpStats();
  readonly icmp = new IcmpStats();
  readonly igmp = new IgmpStats();
  readonly tcp = new TcpStats();
  readonly udp = new UdpStats();
  readonly arp = new ArpStats();
  readonly route = new RouteStats();
  readonly ip6 = new Ip6Stats();
  readonly icmp6 = new Icmp6Stats();
  readonly udp6 = new Udp6Stats();
  readonly #inet6: boolean;

  /** @param inet6 whether the stack speaks IPv6 (its v6 sets are reported) */
  constructor(inet6: boolean) {
    this.#inet6 = inet6;
  }

  /** Whether the IPv6 sets are part of this stack's counters. */
  get inet6(): boolean {
    return this.#inet6;
  }
}

/** The sets that exist only on an IPv6 stack. */
const INET6_ONLY: ReadonlySet<string> = new Set(["ip6", "icmp6", "udp6"]);

/**
 * The counters as the control protocol carries them (the `stats` op): one
 * record per set in NetBSD's order, array members flattened to one counter
 * per element named `name.N` (`inhist.8`), the IPv6 sets only on an IPv6
 * stack. The one place counter names are built as strings.
 *
 * @param counters a stack's counters
 * @returns a fresh copy, protocol then counter name to value
 */
export function flattenProtoCounters(counters: ProtoCounters): ProtoStats {
  const out: ProtoStats = {};
  for (const [proto, set] of Object.entries(counters)) {
    if (!counters.inet6 && INET6_ONLY.has(proto)) continue;
    const flat: Record<string, number> = {};
    for (const [name, value] of Object.entries(set as object)) {
      if (typeof value === "number") flat[name] = value;
      else for (let i = 0; i < value.length; i++) flat[`${name}.${i}`] = value[i];
    }
    out[proto] = flat;
  }
  return out;
}

/**
 * Zeroed counters in their control-protocol form, as a stack with no traffic
 * reports them (fakes of the `stats` op in tests use this).
 *
 * @param inet6 whether the stack speaks IPv6
 * @returns every counter 0, flattened
 */
export function createProtoStats(inet6: boolean): ProtoStats {
  return flattenProtoCounters(new ProtoCounters(inet6));
}
