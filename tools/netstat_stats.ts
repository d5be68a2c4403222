/**
 * `netstat -s` (`-ss` hides zero counters), `-p protocol` and `-rs`: NetBSD
 * 4's statistics lines and pluralisation (`inet.c` 1.77, `inet6.c`), in
 * NetBSD's protocol order: ip, icmp, igmp, tcp, udp, then ip6, icmp6, udp6 on
 * an IPv6 stack, then arp.
 *
 * @example
 * ```ts ignore
 * import { stats } from "./netstat_stats.ts";
 * const text = await stats(client, ["udp"], 1); // "udp:\n\t0 datagrams received\n..."
 * ```
 * @module
 */

import type { ProtoStats } from "../core/control/ops.ts";
import { call, type Family, NetstatError } from "./netstat_common.ts";
import type { ControlClient } from "./tool_context.ts";

/** The counter sets `-s` prints, in NetBSD's order, by address family. */
export const FAMILY_STATS: Readonly<Record<Family, readonly string[]>> = {
  inet: ["ip", "icmp", "igmp", "tcp", "udp"],
  inet6: ["ip6", "icmp6", "udp6"],
  arp: ["arp"],
  local: [],
};
/** Every counter set `-s` and `-p` know, in NetBSD's order. */
export const ALL_STATS: readonly string[] = [
  ...FAMILY_STATS.inet,
  ...FAMILY_STATS.inet6,
  ...FAMILY_STATS.arp,
];

/** Substitutes `%llu`, `%s` and `%x` in order, as printf would. */
function fmt(template: string, args: readonly (string | number)[]): string {
  let i = 0;
  return template.replace(/%llu|%s|%x/g, (spec) => {
    const v = args[i++];
    return spec === "%x" ? Number(v).toString(16) : String(v);
  });
}

function plural(n: number): string {
  return n !== 1 ? "s" : "";
}

const ROUTE_STAT_LINES: readonly (readonly [string, string])[] = [
  ["badredirect", "\t%llu bad routing redirect%s\n"],
  ["dynamic", "\t%llu dynamically created route%s\n"],
  ["newgateway", "\t%llu new gateway%s due to redirects\n"],
  ["unreach", "\t%llu destination%s found unreachable\n"],
  ["wildcard", "\t%llu use%s of a wildcard route\n"],
];

/**
 * rt_stats(): every line, whatever -s says.
 *
 * @param client the stack's control connection
 * @returns the text
 * @throws {NetstatError} when the stack keeps no routing statistics
 */
export async function routeStats(client: ControlClient): Promise<string> {
  const all = await call(client, { op: "stats" }, "rt_stats: sysctl");
  const rt = all.route;
  if (rt === undefined) throw new NetstatError("routing statistics: not supported by this stack");
  return "routing:\n" +
    ROUTE_STAT_LINES.map(([f, m]) => fmt(m, [rt[f] ?? 0, plural(rt[f] ?? 0)])).join("");
}

/**
 * One printed line. `p`: value and plural `s`; `ps`: value only; `p3`: plural
 * `es`; `py`: `y`/`ies`; `p2`/`p2s`: two values (the second without plural for
 * `p2s`). All of these hide under `-ss` when their values are 0. `nl` ends a
 * line when its counter shows; `text` always prints; `hist`, `scopes` and
 * `m2m` print their non-zero entries; `delivered` prints a difference; `nz`
 * prints its line only when a value is not 0, whatever `-s` says (counters
 * NetBSD 4 lacks, so that its layout stays as it was while they are 0).
 */
type StatLine =
  | readonly ["p" | "ps" | "p3" | "py", string, string]
  | readonly ["p2" | "p2s", string, string, string]
  | readonly ["nl", string]
  | readonly ["text", string]
  | readonly ["hist", string, string, number, (i: number) => string]
  | readonly ["delivered", string, readonly string[], string]
  | readonly ["scopes", string, string]
  | readonly ["m2m", string]
  | readonly ["nz", StatLine];

const ICMP_NAMES = [
  "echo reply",
  "#1",
  "#2",
  "destination unreachable",
  "source quench",
  "routing redirect",
  "alternate host address",
  "#7",
  "echo",
  "router advertisement",
  "router solicitation",
  "time exceeded",
  "parameter problem",
  "time stamp",
  "time stamp reply",
  "information request",
  "information request reply",
  "address mask request",
  "address mask reply",
];

const ICMP6_NAMES: Readonly<Record<number, string>> = {
  1: "unreach",
  2: "packet too big",
  3: "time exceed",
  4: "parameter problem",
  // NetBSD's table misspells these two entries; QNX's netstat carries the same table.
  90: "#80",
  190: "#180",
  128: "echo",
  129: "echo reply",
  130: "multicast listener query",
  131: "multicast listener report",
  132: "multicast listener done",
  133: "router solicitation",
  134: "router advertisement",
  135: "neighbor solicitation",
  136: "neighbor advertisement",
  137: "redirect",
  138: "router renumbering",
  139: "node information request",
  140: "node information reply",
};

/** inet6.c's ip6nh[]; NetBSD falls back to /etc/protocols, which we lack, then `#N`. */
const IP6_NXT_NAMES: Readonly<Record<number, string>> = {
  0: "hop by hop",
  1: "ICMP",
  2: "IGMP",
  4: "IP",
  6: "TCP",
  17: "UDP",
  22: "IDP",
  29: "TP",
  41: "IP6",
  43: "routing",
  44: "fragment",
  50: "ESP",
  51: "AH",
  58: "ICMP6",
  59: "no next header",
  60: "destination option",
  80: "ISOIP",
  89: "OSPF",
  97: "Ethernet",
  103: "PIM",
  132: "SCTP",
};

/** KAME's ICMP6_MAXTYPE: the input histogram stops below it. */
const ICMP6_MAXTYPE = 201;

const icmpName = (i: number): string => ICMP_NAMES[i];
const icmp6Name = (i: number): string => ICMP6_NAMES[i] ?? `#${i}`;
const ip6NxtName = (i: number): string => IP6_NXT_NAMES[i] ?? `#${i}`;

// deno-fmt-ignore
const IP_LINES: readonly StatLine[] = [
  ["p", "total", "\t%llu total packet%s received\n"],
  ["p", "badsum", "\t%llu bad header checksum%s\n"],
  ["ps", "toosmall", "\t%llu with size smaller than minimum\n"],
  ["ps", "tooshort", "\t%llu with data size < data length\n"],
  ["ps", "toolong", "\t%llu with length > max ip packet size\n"],
  ["ps", "badhlen", "\t%llu with header length < data size\n"],
  ["ps", "badlen", "\t%llu with data length < header length\n"],
  ["ps", "badoptions", "\t%llu with bad options\n"],
  ["ps", "badvers", "\t%llu with incorrect version number\n"],
  ["p", "fragments", "\t%llu fragment%s received\n"],
  ["p", "fragdropped", "\t%llu fragment%s dropped (dup or out of space)\n"],
  ["p", "rcvmemdrop", "\t%llu fragment%s dropped (out of ipqent)\n"],
  ["p", "badfrags", "\t%llu malformed fragment%s dropped\n"],
  ["p", "fragtimeout", "\t%llu fragment%s dropped after timeout\n"],
  ["p", "reassembled", "\t%llu packet%s reassembled ok\n"],
  ["p", "delivered", "\t%llu packet%s for this host\n"],
  ["p", "noproto", "\t%llu packet%s for unknown/unsupported protocol\n"],
  ["p", "forward", "\t%llu packet%s forwarded"],
  ["p", "fastforward", " (%llu packet%s fast forwarded)"],
  ["nl", "forward"],
  ["p", "cantforward", "\t%llu packet%s not forwardable\n"],
  ["p", "redirectsent", "\t%llu redirect%s sent\n"],
  ["p", "nogif", "\t%llu packet%s no matching gif found\n"],
  ["p", "localout", "\t%llu packet%s sent from this host\n"],
  ["p", "rawout", "\t%llu packet%s sent with fabricated ip header\n"],
  ["p", "odropped", "\t%llu output packet%s dropped due to no bufs, etc.\n"],
  ["p", "noroute", "\t%llu output packet%s discarded due to no route\n"],
  ["p", "fragmented", "\t%llu output datagram%s fragmented\n"],
  ["p", "ofragments", "\t%llu fragment%s created\n"],
  ["p", "cantfrag", "\t%llu datagram%s that can't be fragmented\n"],
  ["p", "badaddr", "\t%llu datagram%s with bad address in header\n"],
];

// deno-fmt-ignore
const ICMP_LINES: readonly StatLine[] = [
  ["p", "error", "\t%llu call%s to icmp_error\n"],
  ["p", "oldicmp", "\t%llu error%s not generated because old message was icmp\n"],
  ["hist", "outhist", "\tOutput histogram:\n", ICMP_NAMES.length, icmpName],
  ["p", "badcode", "\t%llu message%s with bad code fields\n"],
  ["p", "tooshort", "\t%llu message%s < minimum length\n"],
  ["p", "checksum", "\t%llu bad checksum%s\n"],
  ["p", "badlen", "\t%llu message%s with bad length\n"],
  ["hist", "inhist", "\tInput histogram:\n", ICMP_NAMES.length, icmpName],
  ["p", "reflect", "\t%llu message response%s generated\n"],
  ["p", "pmtuchg", "\t%llu path MTU change%s\n"],
];

// deno-fmt-ignore
const IGMP_LINES: readonly StatLine[] = [
  ["p", "rcv_total", "\t%llu message%s received\n"],
  ["p", "rcv_tooshort", "\t%llu message%s received with too few bytes\n"],
  ["p", "rcv_badsum", "\t%llu message%s received with bad checksum\n"],
  ["py", "rcv_queries", "\t%llu membership quer%s received\n"],
  ["py", "rcv_badqueries", "\t%llu membership quer%s received with invalid field(s)\n"],
  ["p", "rcv_reports", "\t%llu membership report%s received\n"],
  ["p", "rcv_badreports", "\t%llu membership report%s received with invalid field(s)\n"],
  ["p", "rcv_ourreports",
    "\t%llu membership report%s received for groups to which we belong\n"],
  ["p", "snd_reports", "\t%llu membership report%s sent\n"],
];

// deno-fmt-ignore
const TCP_LINES: readonly StatLine[] = [
  ["p", "sndtotal", "\t%llu packet%s sent\n"],
  ["p2", "sndpack", "sndbyte", "\t\t%llu data packet%s (%llu byte%s)\n"],
  ["p2", "sndrexmitpack", "sndrexmitbyte", "\t\t%llu data packet%s (%llu byte%s) retransmitted\n"],
  ["p2s", "sndacks", "delack", "\t\t%llu ack-only packet%s (%llu delayed)\n"],
  ["p", "sndurg", "\t\t%llu URG only packet%s\n"],
  ["p", "sndprobe", "\t\t%llu window probe packet%s\n"],
  ["p", "sndwinup", "\t\t%llu window update packet%s\n"],
  ["p", "sndctrl", "\t\t%llu control packet%s\n"],
  ["p", "selfquench", "\t\t%llu send attempt%s resulted in self-quench\n"],
  ["p", "rcvtotal", "\t%llu packet%s received\n"],
  ["p2", "rcvackpack", "rcvackbyte", "\t\t%llu ack%s (for %llu byte%s)\n"],
  ["p", "rcvdupack", "\t\t%llu duplicate ack%s\n"],
  ["p", "rcvacktoomuch", "\t\t%llu ack%s for unsent data\n"],
  ["p2", "rcvpack", "rcvbyte", "\t\t%llu packet%s (%llu byte%s) received in-sequence\n"],
  ["p2", "rcvduppack", "rcvdupbyte", "\t\t%llu completely duplicate packet%s (%llu byte%s)\n"],
  ["p", "pawsdrop", "\t\t%llu old duplicate packet%s\n"],
  ["p2", "rcvpartduppack", "rcvpartdupbyte",
    "\t\t%llu packet%s with some dup. data (%llu byte%s duped)\n"],
  ["p2", "rcvoopack", "rcvoobyte", "\t\t%llu out-of-order packet%s (%llu byte%s)\n"],
  ["p2", "rcvpackafterwin", "rcvbyteafterwin",
    "\t\t%llu packet%s (%llu byte%s) of data after window\n"],
  ["p", "rcvwinprobe", "\t\t%llu window probe%s\n"],
  ["p", "rcvwinupd", "\t\t%llu window update packet%s\n"],
  ["p", "rcvafterclose", "\t\t%llu packet%s received after close\n"],
  ["p", "rcvbadsum", "\t\t%llu discarded for bad checksum%s\n"],
  ["p", "rcvbadoff", "\t\t%llu discarded for bad header offset field%s\n"],
  ["ps", "rcvshort", "\t\t%llu discarded because packet too short\n"],
  ["p", "connattempt", "\t%llu connection request%s\n"],
  ["p", "accepts", "\t%llu connection accept%s\n"],
  ["p", "connects", "\t%llu connection%s established (including accepts)\n"],
  ["p2", "closed", "drops", "\t%llu connection%s closed (including %llu drop%s)\n"],
  ["p", "conndrops", "\t%llu embryonic connection%s dropped\n"],
  ["p", "delayed_free", "\t%llu delayed free%s of tcpcb\n"],
  ["p2", "rttupdated", "segstimed", "\t%llu segment%s updated rtt (of %llu attempt%s)\n"],
  ["p", "rexmttimeo", "\t%llu retransmit timeout%s\n"],
  ["p", "timeoutdrop", "\t\t%llu connection%s dropped by rexmit timeout\n"],
  ["p2", "persisttimeo", "persistdrops",
    "\t%llu persist timeout%s (resulting in %llu dropped connection%s)\n"],
  ["p", "keeptimeo", "\t%llu keepalive timeout%s\n"],
  ["p", "keepprobe", "\t\t%llu keepalive probe%s sent\n"],
  ["p", "keepdrops", "\t\t%llu connection%s dropped by keepalive\n"],
  ["p", "predack", "\t%llu correct ACK header prediction%s\n"],
  ["p", "preddat", "\t%llu correct data packet header prediction%s\n"],
  ["p3", "pcbhashmiss", "\t%llu PCB hash miss%s\n"],
  ["ps", "noport", "\t%llu dropped due to no socket\n"],
  ["p", "connsdrained", "\t%llu connection%s drained due to memory shortage\n"],
  ["p", "pmtublackhole", "\t%llu PMTUD blackhole%s detected\n"],
  ["p", "badsyn", "\t%llu bad connection attempt%s\n"],
  ["ps", "sc_added", "\t%llu SYN cache entries added\n"],
  ["p", "sc_collisions", "\t\t%llu hash collision%s\n"],
  ["ps", "sc_completed", "\t\t%llu completed\n"],
  ["ps", "sc_aborted", "\t\t%llu aborted (no space to build PCB)\n"],
  ["ps", "sc_timed_out", "\t\t%llu timed out\n"],
  ["ps", "sc_overflowed", "\t\t%llu dropped due to overflow\n"],
  ["ps", "sc_bucketoverflow", "\t\t%llu dropped due to bucket overflow\n"],
  ["ps", "sc_reset", "\t\t%llu dropped due to RST\n"],
  ["ps", "sc_unreach", "\t\t%llu dropped due to ICMP unreachable\n"],
  ["ps", "sc_delayed_free", "\t\t%llu delayed free of SYN cache entries\n"],
  ["p", "sc_retransmitted", "\t%llu SYN,ACK%s retransmitted\n"],
  ["p", "sc_dupesyn", "\t%llu duplicate SYN%s received for entries already in the cache\n"],
  ["p", "sc_dropped", "\t%llu SYN%s dropped (no route or no space)\n"],
  ["p", "badsig", "\t%llu packet%s with bad signature\n"],
  ["p", "goodsig", "\t%llu packet%s with good signature\n"],
  // "sucessful" is NetBSD's spelling.
  ["p", "ecn_shs", "\t%llu sucessful ECN handshake%s\n"],
  ["p", "ecn_ce", "\t%llu packet%s with ECN CE bit\n"],
  ["p", "ecn_ect", "\t%llu packet%s ECN ECT(0) bit\n"],
  // Counters NetBSD 4 lacks (wording after FreeBSD's and OpenBSD's netstat),
  // printed only when not 0.
  ["nz", ["p", "sndrexmitfast", "\t%llu fast retransmitted packet%s\n"]],
  ["nz", ["p", "sack_recovery_episode", "\t%llu SACK recovery episode%s\n"]],
  ["nz", ["p", "sack_rexmits", "\t\t%llu segment rexmit%s in SACK recovery episodes\n"]],
  ["nz", ["p", "sack_rexmit_bytes", "\t\t%llu byte rexmit%s in SACK recovery episodes\n"]],
  ["nz", ["p", "sack_rcv_blocks", "\t%llu SACK option%s (SACK blocks) received\n"]],
  ["nz", ["p", "sack_send_blocks", "\t%llu SACK option%s (SACK blocks) sent\n"]],
  ["nz", ["ps", "sack_sboverflow", "\t%llu SACK scoreboard overflow\n"]],
  ["nz", ["p", "rcvbadrst", "\t%llu RST%s in window but not at rcv_nxt (RFC 5961)\n"]],
  ["nz", ["p", "rcvbadsynest", "\t%llu SYN%s on synchronized connections (RFC 5961)\n"]],
  ["nz", ["p", "challenge_ack", "\t%llu challenge ACK%s sent\n"]],
  ["nz", ["p", "challenge_ack_limited",
    "\t\t%llu challenge ACK%s not sent (over ackdropppslimit)\n"]],
];

// deno-fmt-ignore
const UDP_LINES: readonly StatLine[] = [
  ["p", "ipackets", "\t%llu datagram%s received\n"],
  ["ps", "hdrops", "\t%llu with incomplete header\n"],
  ["ps", "badlen", "\t%llu with bad data length field\n"],
  ["ps", "badsum", "\t%llu with bad checksum\n"],
  ["ps", "noport", "\t%llu dropped due to no socket\n"],
  ["p", "noportbcast", "\t%llu broadcast/multicast datagram%s dropped due to no socket\n"],
  ["ps", "fullsock", "\t%llu dropped due to full socket buffers\n"],
  ["delivered", "ipackets",
    ["hdrops", "badlen", "badsum", "noport", "noportbcast", "fullsock"], "\t%llu delivered\n"],
  ["p3", "pcbhashmiss", "\t%llu PCB hash miss%s\n"],
  ["p", "opackets", "\t%llu datagram%s output\n"],
];

// deno-fmt-ignore
const ARP_LINES: readonly StatLine[] = [
  ["p", "sndtotal", "\t%llu packet%s sent\n"],
  ["p", "sndreply", "\t\t%llu reply packet%s\n"],
  ["p", "sndrequest", "\t\t%llu request packet%s\n"],
  ["p", "rcvtotal", "\t%llu packet%s received\n"],
  ["p", "rcvreply", "\t\t%llu reply packet%s\n"],
  ["p", "rcvrequest", "\t\t%llu valid request packet%s\n"],
  ["p", "rcvmcast", "\t\t%llu broadcast/multicast packet%s\n"],
  ["p", "rcvbadproto", "\t\t%llu packet%s with unknown protocol type\n"],
  ["p", "rcvbadlen", "\t\t%llu packet%s with bad (short) length\n"],
  ["p", "rcvzerotpa", "\t\t%llu packet%s with null target IP address\n"],
  ["p", "rcvzerospa", "\t\t%llu packet%s with null source IP address\n"],
  ["ps", "rcvnoint", "\t\t%llu could not be mapped to an interface\n"],
  ["p", "rcvlocalsha", "\t\t%llu packet%s sourced from a local hardware address\n"],
  ["p", "rcvbcastsha", "\t\t%llu packet%s with a broadcast source hardware address\n"],
  ["p", "rcvlocalspa", "\t\t%llu duplicate%s for a local IP address\n"],
  ["p", "rcvoverperm", "\t\t%llu attempt%s to overwrite a static entry\n"],
  ["p", "rcvoverint", "\t\t%llu packet%s received on wrong interface\n"],
  // NetBSD pluralises this one as "entrys".
  ["p", "rcvover", "\t\t%llu entry%s overwritten\n"],
  ["p", "rcvlenchg", "\t\t%llu change%s in hardware address length\n"],
  ["p", "dfrtotal", "\t%llu packet%s deferred pending ARP resolution\n"],
  ["ps", "dfrsent", "\t\t%llu sent\n"],
  ["ps", "dfrdropped", "\t\t%llu dropped\n"],
  ["p", "allocfail", "\t%llu failure%s to allocate llinfo\n"],
];

// deno-fmt-ignore
const IP6_LINES: readonly StatLine[] = [
  ["p", "total", "\t%llu total packet%s received\n"],
  ["ps", "toosmall", "\t%llu with size smaller than minimum\n"],
  ["ps", "tooshort", "\t%llu with data size < data length\n"],
  ["ps", "badoptions", "\t%llu with bad options\n"],
  ["ps", "badvers", "\t%llu with incorrect version number\n"],
  ["p", "fragments", "\t%llu fragment%s received\n"],
  ["p", "fragdropped", "\t%llu fragment%s dropped (dup or out of space)\n"],
  ["p", "fragtimeout", "\t%llu fragment%s dropped after timeout\n"],
  ["p", "fragoverflow", "\t%llu fragment%s that exceeded limit\n"],
  ["p", "reassembled", "\t%llu packet%s reassembled ok\n"],
  ["p", "delivered", "\t%llu packet%s for this host\n"],
  ["p", "forward", "\t%llu packet%s forwarded\n"],
  ["p", "cantforward", "\t%llu packet%s not forwardable\n"],
  ["p", "redirectsent", "\t%llu redirect%s sent\n"],
  ["p", "localout", "\t%llu packet%s sent from this host\n"],
  ["p", "rawout", "\t%llu packet%s sent with fabricated ip header\n"],
  ["p", "odropped", "\t%llu output packet%s dropped due to no bufs, etc.\n"],
  ["p", "noroute", "\t%llu output packet%s discarded due to no route\n"],
  ["p", "fragmented", "\t%llu output datagram%s fragmented\n"],
  ["p", "ofragments", "\t%llu fragment%s created\n"],
  ["p", "cantfrag", "\t%llu datagram%s that can't be fragmented\n"],
  ["p", "badscope", "\t%llu packet%s that violated scope rules\n"],
  ["p", "notmember", "\t%llu multicast packet%s which we don't join\n"],
  ["hist", "nxthist", "\tInput packet histogram:\n", 256, ip6NxtName],
  ["text", "\tMbuf statistics:\n"],
  ["p", "m1", "\t\t%llu one mbuf%s\n"],
  ["m2m", "m2m"],
  ["p", "mext1", "\t\t%llu one ext mbuf%s\n"],
  ["p", "mext2m", "\t\t%llu two or more ext mbuf%s\n"],
  ["p", "exthdrtoolong", "\t%llu packet%s whose headers are not continuous\n"],
  ["p", "nogif", "\t%llu tunneling packet%s that can't find gif\n"],
  ["p", "toomanyhdr", "\t%llu packet%s discarded due to too many headers\n"],
  ["p", "sources_none", "\t%llu failure%s of source address selection\n"],
  ["scopes", "sources_sameif", "\tsource addresses on an outgoing I/F\n"],
  ["scopes", "sources_otherif", "\tsource addresses on a non-outgoing I/F\n"],
  ["scopes", "sources_samescope", "\tsource addresses of same scope\n"],
  ["scopes", "sources_otherscope", "\tsource addresses of a different scope\n"],
  ["scopes", "sources_deprecated", "\tdeprecated source addresses\n"],
  ["ps", "forward_cachehit", "\t%llu forward cache hit\n"],
  ["ps", "forward_cachemiss", "\t%llu forward cache miss\n"],
];

// deno-fmt-ignore
const ICMP6_LINES: readonly StatLine[] = [
  ["p", "error", "\t%llu call%s to icmp6_error\n"],
  ["p", "canterror", "\t%llu error%s not generated because old message was icmp6 or so\n"],
  ["p", "toofreq", "\t%llu error%s not generated because of rate limitation\n"],
  ["hist", "outhist", "\tOutput packet histogram:\n", 256, icmp6Name],
  ["p", "badcode", "\t%llu message%s with bad code fields\n"],
  ["p", "tooshort", "\t%llu message%s < minimum length\n"],
  ["p", "checksum", "\t%llu bad checksum%s\n"],
  ["p", "badlen", "\t%llu message%s with bad length\n"],
  ["hist", "inhist", "\tInput packet histogram:\n", ICMP6_MAXTYPE, icmp6Name],
  ["text", "\tHistogram of error messages to be generated:\n"],
  ["ps", "odst_unreach_noroute", "\t\t%llu no route\n"],
  ["ps", "odst_unreach_admin", "\t\t%llu administratively prohibited\n"],
  ["ps", "odst_unreach_beyondscope", "\t\t%llu beyond scope\n"],
  ["ps", "odst_unreach_addr", "\t\t%llu address unreachable\n"],
  ["ps", "odst_unreach_noport", "\t\t%llu port unreachable\n"],
  ["ps", "opacket_too_big", "\t\t%llu packet too big\n"],
  ["ps", "otime_exceed_transit", "\t\t%llu time exceed transit\n"],
  ["ps", "otime_exceed_reassembly", "\t\t%llu time exceed reassembly\n"],
  ["ps", "oparamprob_header", "\t\t%llu erroneous header field\n"],
  ["ps", "oparamprob_nextheader", "\t\t%llu unrecognized next header\n"],
  ["ps", "oparamprob_option", "\t\t%llu unrecognized option\n"],
  ["ps", "oredirect", "\t\t%llu redirect\n"],
  ["ps", "ounknown", "\t\t%llu unknown\n"],
  ["p", "reflect", "\t%llu message response%s generated\n"],
  ["p", "nd_toomanyopt", "\t%llu message%s with too many ND options\n"],
  ["p", "nd_badopt", "\t%llu message%s with bad ND options\n"],
  ["p", "badns", "\t%llu bad neighbor solicitation message%s\n"],
  ["p", "badna", "\t%llu bad neighbor advertisement message%s\n"],
  ["p", "badrs", "\t%llu bad router solicitation message%s\n"],
  ["p", "badra", "\t%llu bad router advertisement message%s\n"],
  ["p", "badredirect", "\t%llu bad redirect message%s\n"],
  ["p", "pmtuchg", "\t%llu path MTU change%s\n"],
];

// deno-fmt-ignore
const UDP6_LINES: readonly StatLine[] = [
  ["p", "ipackets", "\t%llu datagram%s received\n"],
  ["ps", "hdrops", "\t%llu with incomplete header\n"],
  ["ps", "badlen", "\t%llu with bad data length field\n"],
  ["ps", "badsum", "\t%llu with bad checksum\n"],
  ["ps", "nosum", "\t%llu with no checksum\n"],
  ["ps", "noport", "\t%llu dropped due to no socket\n"],
  ["p", "noportmcast", "\t%llu multicast datagram%s dropped due to no socket\n"],
  ["ps", "fullsock", "\t%llu dropped due to full socket buffers\n"],
  ["delivered", "ipackets",
    ["hdrops", "badlen", "badsum", "noport", "noportmcast", "fullsock"], "\t%llu delivered\n"],
  ["p", "opackets", "\t%llu datagram%s output\n"],
];

const STAT_LINES: Readonly<Record<string, readonly StatLine[]>> = {
  ip: IP_LINES,
  icmp: ICMP_LINES,
  igmp: IGMP_LINES,
  tcp: TCP_LINES,
  udp: UDP_LINES,
  ip6: IP6_LINES,
  icmp6: ICMP6_LINES,
  udp6: UDP6_LINES,
  arp: ARP_LINES,
};

/** What rendering a counter set needs besides the set. */
interface StatContext {
  set: Readonly<Record<string, number>>;
  sflag: number;
  /** if_indextoname() for the ip6 mbuf counters: `(null)` when unknown, as printf shows NULL. */
  ifName(index: number): string;
}

/**
 * Prints each named counter set the stack keeps; a set it lacks prints
 * nothing, as NetBSD prints nothing for a protocol the kernel lacks (ip6 on
 * io-pkt-v4-hc).
 *
 * @param client the stack's control connection
 * @param protos the counter sets, in printing order
 * @param sflag how many `-s`: 2 or more hides zero counters
 * @returns the text
 */
export async function stats(
  client: ControlClient,
  protos: readonly string[],
  sflag: number,
): Promise<string> {
  const all = await call(client, { op: "stats" }, "sysctl");
  const names = await m2mInterfaceNames(client, all, protos);
  let out = "";
  for (const proto of protos) {
    const set = all[proto];
    if (set === undefined) continue;
    const c: StatContext = { set, sflag, ifName: (i) => names.get(i) ?? "(null)" };
    out += `${proto}:\n` + STAT_LINES[proto].map((line) => statLine(line, c)).join("");
  }
  return out;
}

/** Interface names by index, fetched only when an ip6 mbuf counter will print them. */
async function m2mInterfaceNames(
  client: ControlClient,
  all: ProtoStats,
  protos: readonly string[],
): Promise<Map<number, string>> {
  const ip6 = all.ip6;
  const needed = protos.includes("ip6") && ip6 !== undefined &&
    Object.entries(ip6).some(([k, v]) => k.startsWith("m2m.") && v !== 0);
  if (!needed) return new Map();
  const list = await call(client, { op: "ifList" }, "if_indextoname");
  return new Map(list.map((i) => [i.index, i.name]));
}

function statLine(line: StatLine, c: StatContext): string {
  const v = (f: string): number => c.set[f] ?? 0;
  const shows = (...fs: string[]): boolean => c.sflag <= 1 || fs.some((f) => v(f) !== 0);
  switch (line[0]) {
    case "p":
      return shows(line[1]) ? fmt(line[2], [v(line[1]), plural(v(line[1]))]) : "";
    case "ps":
      return shows(line[1]) ? fmt(line[2], [v(line[1])]) : "";
    case "p3":
      return shows(line[1]) ? fmt(line[2], [v(line[1]), v(line[1]) !== 1 ? "es" : ""]) : "";
    case "py":
      return shows(line[1]) ? fmt(line[2], [v(line[1]), v(line[1]) !== 1 ? "ies" : "y"]) : "";
    case "p2":
    case "p2s": {
      const [a, b] = [v(line[1]), v(line[2])];
      const args = line[0] === "p2" ? [a, plural(a), b, plural(b)] : [a, plural(a), b];
      return shows(line[1], line[2]) ? fmt(line[3], args) : "";
    }
    case "nl":
      return shows(line[1]) ? "\n" : "";
    case "text":
      return line[1];
    case "hist":
      return histogram(c, line[1], line[2], line[3], line[4]);
    case "delivered":
      return delivered(c, line[1], line[2], line[3]);
    case "scopes":
      return sourceScopes(c, line[1], line[2]);
    case "m2m":
      return histogram(c, line[1], "\t\ttwo or more mbuf:\n", 32, c.ifName, "\t\t\t%s = %llu\n");
    case "nz":
      return statLine(line[1], { ...c, sflag: 2 });
  }
}

/** The non-zero entries of `prefix.N`, under `title` printed once. */
function histogram(
  c: StatContext,
  prefix: string,
  title: string,
  len: number,
  name: (i: number) => string,
  entry = "\t\t%s: %llu\n",
): string {
  let out = "";
  for (let i = 0; i < len; i++) {
    const n = c.set[`${prefix}.${i}`] ?? 0;
    if (n !== 0) out += (out === "" ? title : "") + fmt(entry, [name(i), n]);
  }
  return out;
}

/** `total` minus `minus`, computed in u_quad_t as NetBSD does (so it wraps, never goes below 0). */
function delivered(c: StatContext, total: string, minus: readonly string[], m: string): string {
  let d = BigInt(c.set[total] ?? 0);
  for (const f of minus) d -= BigInt(c.set[f] ?? 0);
  d = BigInt.asUintN(64, d);
  return d !== 0n || c.sflag <= 1 ? fmt(m, [d.toString()]) : "";
}

const SCOPE_LINES: Readonly<Record<number, string>> = {
  1: "\t\t%llu node-local%s\n",
  2: "\t\t%llu link-local%s\n",
  5: "\t\t%llu site-local%s\n",
  14: "\t\t%llu global%s\n",
};

/** PRINT_SCOPESTAT over the 16 scopes of one source-selection counter. */
function sourceScopes(c: StatContext, prefix: string, title: string): string {
  let out = "";
  for (let i = 0; i < 16; i++) {
    const n = c.set[`${prefix}.${i}`] ?? 0;
    if (n === 0) continue;
    const m = SCOPE_LINES[i];
    out += (out === "" ? title : "") +
      (m ? fmt(m, [n, plural(n)]) : fmt("\t\t%llu addresses scope=%x\n", [n, i]));
  }
  return out;
}
