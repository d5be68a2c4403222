/**
 * Protocol counters, one set per protocol, named after the fields of NetBSD 4's
 * statistics structures (`struct ipstat`, `tcpstat`, `udpstat`, `icmpstat`,
 * `igmpstat`, `arpstat`, `ip6stat`, `icmp6stat`, `udp6stat`, `rtstat`) with
 * their prefixes (`ips_`, `tcps_`, ...) dropped: `ips_total` is `ip.total`.
 *
 * Array members become one counter per element, flattened as `name.N`: the
 * ICMP output histogram `icps_outhist[3]` is `icmp["outhist.3"]`. Every set is
 * a plain object of numbers created up front, so the stack counts with
 * `stats.ip.total++` and `netstat -s` prints the same names NetBSD prints.
 *
 * @example Count and read
 * ```ts
 * import { createProtoStats } from "./stats.ts";
 * const stats = createProtoStats(true);
 * stats.ip.total++;
 * stats.icmp["inhist.8"]++; // an echo request came in
 * console.log(stats.ip.total, "ip6" in stats); // 1 true
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

/** `name.0` .. `name.(len-1)`. */
function flat(name: string, len: number): string[] {
  return Array.from({ length: len }, (_, i) => `${name}.${i}`);
}

const IP = [
  "total",
  "badsum",
  "tooshort",
  "toosmall",
  "badhlen",
  "badlen",
  "fragments",
  "fragdropped",
  "fragtimeout",
  "forward",
  "fastforward",
  "cantforward",
  "redirectsent",
  "noproto",
  "delivered",
  "localout",
  "odropped",
  "reassembled",
  "fragmented",
  "ofragments",
  "cantfrag",
  "badoptions",
  "noroute",
  "badvers",
  "rawout",
  "badfrags",
  "rcvmemdrop",
  "toolong",
  "nogif",
  "badaddr",
];

const ICMP = [
  "error",
  "oldicmp",
  ...flat("outhist", ICMP_HIST_LEN),
  "badcode",
  "tooshort",
  "checksum",
  "badlen",
  "reflect",
  ...flat("inhist", ICMP_HIST_LEN),
  "pmtuchg",
];

const IGMP = [
  "rcv_total",
  "rcv_tooshort",
  "rcv_badsum",
  "rcv_queries",
  "rcv_badqueries",
  "rcv_reports",
  "rcv_badreports",
  "rcv_ourreports",
  "snd_reports",
];

const TCP = [
  "connattempt",
  "accepts",
  "connects",
  "drops",
  "conndrops",
  "closed",
  "segstimed",
  "rttupdated",
  "delack",
  "timeoutdrop",
  "rexmttimeo",
  "persisttimeo",
  "persistdrops",
  "keeptimeo",
  "keepprobe",
  "keepdrops",
  "sndtotal",
  "sndpack",
  "sndbyte",
  "sndrexmitpack",
  "sndrexmitbyte",
  "sndacks",
  "sndprobe",
  "sndurg",
  "sndwinup",
  "sndctrl",
  "rcvtotal",
  "rcvpack",
  "rcvbyte",
  "rcvbadsum",
  "rcvbadoff",
  "rcvmemdrop",
  "rcvshort",
  "rcvduppack",
  "rcvdupbyte",
  "rcvpartduppack",
  "rcvpartdupbyte",
  "rcvoopack",
  "rcvoobyte",
  "rcvpackafterwin",
  "rcvbyteafterwin",
  "rcvafterclose",
  "rcvwinprobe",
  "rcvdupack",
  "rcvacktoomuch",
  "rcvackpack",
  "rcvackbyte",
  "rcvwinupd",
  "pawsdrop",
  "predack",
  "preddat",
  "pcbhashmiss",
  "noport",
  "badsyn",
  "delayed_free",
  "sc_added",
  "sc_completed",
  "sc_timed_out",
  "sc_overflowed",
  "sc_reset",
  "sc_unreach",
  "sc_bucketoverflow",
  "sc_aborted",
  "sc_dupesyn",
  "sc_dropped",
  "sc_collisions",
  "sc_retransmitted",
  "sc_delayed_free",
  "selfquench",
  "badsig",
  "goodsig",
  "connsdrained",
  "ecn_shs",
  "ecn_ce",
  "ecn_ect",
  "pmtublackhole",
];

const UDP = [
  "ipackets",
  "hdrops",
  "badsum",
  "badlen",
  "noport",
  "noportbcast",
  "fullsock",
  "pcbhashmiss",
  "opackets",
];

const ARP = [
  "sndtotal",
  "sndreply",
  "sndrequest",
  "rcvtotal",
  "rcvrequest",
  "rcvreply",
  "rcvmcast",
  "rcvbadproto",
  "rcvbadlen",
  "rcvzerotpa",
  "rcvzerospa",
  "rcvnoint",
  "rcvlocalsha",
  "rcvbcastsha",
  "rcvlocalspa",
  "rcvoverperm",
  "rcvoverint",
  "rcvover",
  "rcvlenchg",
  "dfrtotal",
  "dfrsent",
  "dfrdropped",
  "allocfail",
];

const ROUTE = ["badredirect", "dynamic", "newgateway", "unreach", "wildcard"];

const IP6 = [
  "total",
  "tooshort",
  "toosmall",
  "fragments",
  "fragdropped",
  "fragtimeout",
  "fragoverflow",
  "forward",
  "cantforward",
  "redirectsent",
  "delivered",
  "localout",
  "odropped",
  "reassembled",
  "fragmented",
  "ofragments",
  "cantfrag",
  "badoptions",
  "noroute",
  "badvers",
  "rawout",
  "badscope",
  "notmember",
  ...flat("nxthist", IP6_NXTHIST_LEN),
  "m1",
  ...flat("m2m", IP6_M2M_LEN),
  "mext1",
  "mext2m",
  "exthdrtoolong",
  "nogif",
  "toomanyhdr",
  "sources_none",
  ...flat("sources_sameif", IP6_SCOPES_LEN),
  ...flat("sources_otherif", IP6_SCOPES_LEN),
  ...flat("sources_samescope", IP6_SCOPES_LEN),
  ...flat("sources_otherscope", IP6_SCOPES_LEN),
  ...flat("sources_deprecated", IP6_SCOPES_LEN),
  "forward_cachehit",
  "forward_cachemiss",
];

const ICMP6 = [
  "error",
  "canterror",
  "toofreq",
  ...flat("outhist", ICMP6_HIST_LEN),
  "badcode",
  "tooshort",
  "checksum",
  "badlen",
  "reflect",
  ...flat("inhist", ICMP6_HIST_LEN),
  "nd_toomanyopt",
  "odst_unreach_noroute",
  "odst_unreach_admin",
  "odst_unreach_beyondscope",
  "odst_unreach_addr",
  "odst_unreach_noport",
  "opacket_too_big",
  "otime_exceed_transit",
  "otime_exceed_reassembly",
  "oparamprob_header",
  "oparamprob_nextheader",
  "oparamprob_option",
  "oredirect",
  "ounknown",
  "pmtuchg",
  "nd_badopt",
  "badns",
  "badna",
  "badrs",
  "badra",
  "badredirect",
];

const UDP6 = [
  "ipackets",
  "hdrops",
  "badsum",
  "nosum",
  "badlen",
  "noport",
  "noportmcast",
  "fullsock",
  "opackets",
];

/**
 * Every counter set and its counter names, in NetBSD's structure order. The
 * IPv4 sets, `arp` and `route` exist on every stack; `ip6`, `icmp6` and `udp6`
 * only on an IPv6 one. `route` is `struct rtstat` (`netstat -rs`); `udp6` is
 * kept apart from `udp` as NetBSD 4 does (`netstat -s` prints both).
 */
export const PROTO_STAT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  ip: IP,
  icmp: ICMP,
  igmp: IGMP,
  tcp: TCP,
  udp: UDP,
  arp: ARP,
  route: ROUTE,
  ip6: IP6,
  icmp6: ICMP6,
  udp6: UDP6,
};

/** The sets that exist only on an IPv6 stack. */
const INET6_ONLY = new Set(["ip6", "icmp6", "udp6"]);

/** A zeroed counter object for `fields`. */
function zeroed(fields: readonly string[]): Record<string, number> {
  const set: Record<string, number> = {};
  for (const f of fields) set[f] = 0;
  return set;
}

/**
 * Zeroed counters for a stack: the IPv4 sets, `arp` and `route` always; `ip6`,
 * `icmp6` and `udp6` when `inet6` (io-pkt-v6-hc).
 *
 * @param inet6 whether the stack speaks IPv6
 * @returns fresh counter sets, every counter 0
 */
export function createProtoStats(inet6: boolean): ProtoStats {
  const stats: ProtoStats = {};
  for (const [proto, fields] of Object.entries(PROTO_STAT_FIELDS)) {
    if (INET6_ONLY.has(proto) && !inet6) continue;
    stats[proto] = zeroed(fields);
  }
  return stats;
}
