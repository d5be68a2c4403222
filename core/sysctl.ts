/**
 * The sysctl MIB of one stack: every name io-pkt 6.6 registers that the
 * reference lists (§6), with NetBSD's types, defaults, descriptions and order.
 *
 * The tree is sans-I/O: the daemon answers `sysctlList` with
 * {@linkcode SysctlTree.list} and `sysctlSet` with {@linkcode SysctlTree.set};
 * the stack reads its knobs with {@linkcode SysctlTree.int} and acts on writes
 * through {@linkcode SysctlTree.onChange}.
 *
 * Order: NetBSD keeps each node's children sorted by MIB number, and numbers
 * handed out at run time (CTL_CREATE, 1024 and up) follow the fixed ones in
 * creation order. `list()` reproduces that order, so `sysctl -a` prints the
 * names in the order io-pkt does. The numbers themselves are not exported.
 *
 * Variables shared between names (NetBSD points two nodes at one C variable):
 * `net.inet.tcp.hiwat_adjust` and `qnx.net.inet.tcp.hiwat_adjust`, and on the
 * v6 stack `net.inet6.udp6.do_loopback_cksum` and
 * `net.inet.udp.do_loopback_cksum`. Writing either name changes both.
 *
 * @example Read, write, listen
 * ```ts
 * import { SysctlTree } from "./sysctl.ts";
 * const mib = new SysctlTree({ inet6: false, overrides: { "net.inet.ip.forwarding": 1 } });
 * mib.onChange("net.inet.ip.ttl", (v) => console.log("ttl now", v));
 * console.log(mib.set("net.inet.ip.ttl", "32")); // ttl now 32, then { old: 64, new: 32 }
 * console.log(mib.int("net.inet.ip.forwarding")); // 1
 * ```
 * @module
 */

import { ErrnoError } from "./errno.ts";
import type { SysctlNodeInfo, SysctlType } from "./control/ops.ts";

/** Options for {@linkcode SysctlTree}. */
export interface SysctlTreeOptions {
  /** True for io-pkt-v6-hc: adds `net.inet6.*`. */
  inet6: boolean;
  /**
   * Initial values by full name, applied after the defaults (read-only names
   * included): `{ "net.inet.ip.forwarding": 1, "kern.mbuf.mclbytes": 4096 }`.
   */
  overrides?: Record<string, number | string>;
  /** `kern.hostname`; default `localhost`. */
  hostname?: string;
}

/** Called after a write: the new value, the old one, and the name written. */
export type SysctlListener = (value: number | string, old: number | string, name: string) => void;

/** Told a variable's value whenever one is stored (see {@linkcode SysctlTree.mirror}). */
export type SysctlMirror = (value: number | string) => void;

/** `kern.ostype`: what confstr(_CS_SYSNAME) gives on QNX. */
export const SYSCTL_OSTYPE = "QNX";
/**
 * `kern.osrelease`: io-pkt ships with QNX 6.x to 7.1 (8.0 replaced it with
 * io-sock), and the reference follows 7.1's command line, so 7.1.0.
 */
export const SYSCTL_OSRELEASE = "7.1.0";

/**
 * `net.inet.tcp.congctl.available`: the congestion-control algorithms this
 * stack has, in the order NetBSD lists them (registration order, one space
 * between). The TCP side must offer each of these names.
 */
export const TCP_CONGCTL_AVAILABLE: readonly string[] = ["newreno", "cubic"];
/** `net.inet.tcp.congctl.selected` at start (NetBSD: newreno; this stack: CUBIC, RFC 9438). */
export const TCP_CONGCTL_DEFAULT = "cubic";

/** The longest string a string node holds (MAXHOSTNAMELEN less the NUL). */
const MAX_STRING = 255;
/** IPPORT_RESERVED and the reserved-port window NetBSD enforces. */
const IPPORT_RESERVED = 1024;
const IPPORT_RESERVEDMIN = 600;
const IPPORT_RESERVEDMAX = 1023;

/**
 * Parses an integer as NetBSD's sysctl(8) does for CTLTYPE_INT: strtouq with
 * base 0 (decimal, `0x` hex, leading-`0` octal, optional sign, leading blanks),
 * the whole text consumed, then narrowed to 32 bits as C does (so `-1` and
 * `0xffffffff` are both -1). `nan`: not a number; `range`: does not fit.
 *
 * @example
 * ```ts
 * import { parseSysctlInt } from "./sysctl.ts";
 * console.log(parseSysctlInt("0x40"), parseSysctlInt("010"), parseSysctlInt("6x"));
 * // { ok: true, value: 64 } { ok: true, value: 8 } { ok: false, error: "nan" }
 * ```
 */
export function parseSysctlInt(
  text: string,
): { ok: true; value: number } | { ok: false; error: "nan" | "range" } {
  // strtouq takes the longest number it can; overflow is reported before junk after it.
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (!m) return { ok: false, error: "nan" };
  const digits = m[2];
  let q: bigint;
  if (/^0[xX]/.test(digits)) q = BigInt(digits);
  else if (digits.length > 1 && digits[0] === "0") q = BigInt("0o" + digits.slice(1));
  else q = BigInt(digits);
  if (q > 0xffff_ffff_ffff_ffffn) return { ok: false, error: "range" };
  if (m[0].length !== text.length) return { ok: false, error: "nan" };
  if (m[1] === "-") q = BigInt.asUintN(64, -q);
  // write_number: the upper half must be all zeroes or all ones.
  const high = q >> 32n;
  if (high !== 0n && high !== 0xffff_ffffn) return { ok: false, error: "range" };
  return { ok: true, value: Number(BigInt.asIntN(32, q)) };
}

// ---------------------------------------------------------------------------
// The MIB as data

/** Read access for cross-field checks (port ranges). */
type Reader = (name: string) => number;
/** A value check: true when `v` may be stored. */
type Check = (v: number, read: Reader) => boolean;

/** One node as declared; children in MIB order. */
interface Decl {
  name: string;
  type: SysctlType;
  desc: string;
  value?: number | string;
  readonly?: boolean;
  check?: Check;
  /** For a string leaf: true when `s` may be stored. */
  valid?: (s: string) => boolean;
  /** Full name of the leaf whose variable this one shares. */
  shares?: string;
  /** Shares and is skipped by tree walks (see {@linkcode SysctlNodeInfo}). */
  alias?: boolean;
  children?: Decl[];
}

function node(name: string, desc: string, children: Decl[]): Decl {
  return { name, type: "node", desc, children };
}

function range(min: number, max = 0x7fff_ffff): Check {
  return (v) => v >= min && v <= max;
}

/** A read-write int; any 32-bit value unless `check` says otherwise. */
function int(name: string, value: number, desc: string, check?: Check): Decl {
  return { name, type: "int", desc, value, check };
}

/** A 0/1 knob. NetBSD stores any int here; we refuse what cannot be meant. */
function flag(name: string, value: 0 | 1, desc: string): Decl {
  return { name, type: "int", desc, value, check: range(0, 1) };
}

/** A read-only int the stack updates with `setInternal`. */
function roInt(name: string, value: number, desc: string): Decl {
  return { name, type: "int", desc, value, readonly: true };
}

/** A table `sysctl` points at netstat (or ndp) instead of printing. */
function table(name: string, desc: string): Decl {
  return { name, type: "struct", desc, readonly: true };
}

function str(
  name: string,
  value: string,
  desc: string,
  readonly = false,
  valid?: (s: string) => boolean,
): Decl {
  return { name, type: "string", desc, value, readonly, valid };
}

const nonNeg = range(0);
/** Rate limits: -1 means unlimited (NetBSD ppsratecheck). */
const pps = range(-1);

/** NetBSD's sysctl_net_inet_ip_ports rules, for `net.inet.ip.*port*`. */
function portCheck(which: "anonportmin" | "anonportmax" | "lowportmin" | "lowportmax"): Check {
  return (v, read) => {
    if (v < 0 || v > 65535) return false;
    const p = (n: string) => read(`net.inet.ip.${n}`);
    switch (which) {
      case "anonportmin":
        return v < p("anonportmax") && v >= IPPORT_RESERVED;
      case "anonportmax":
        return v > p("anonportmin") && v >= IPPORT_RESERVED;
      case "lowportmin":
        return v < p("lowportmax") && v >= IPPORT_RESERVEDMIN && v <= IPPORT_RESERVEDMAX;
      case "lowportmax":
        return v > p("lowportmin") && v >= IPPORT_RESERVEDMIN && v <= IPPORT_RESERVEDMAX;
    }
  };
}

function ifqNode(): Decl {
  return node("ifq", "Protocol input queue controls", [
    roInt("len", 0, "Current input queue length"),
    int("maxlen", 256, "Maximum allowed input queue length", nonNeg),
    roInt("peak", 0, "Highest input queue length"),
    roInt("drops", 0, "Packets dropped due to full input queue"),
  ]);
}

/** kern.*: ostype 1, osrelease 2, hostname 10, domainname 22, mbuf 39, sbmax 58, somaxkva 73. */
function kernDecl(hostname: string): Decl {
  return node("kern", "High kernel", [
    str("ostype", SYSCTL_OSTYPE, "Operating system type", true),
    str("osrelease", SYSCTL_OSRELEASE, "Operating system release", true),
    // QNX makes it read-only: the hostname utility / confstr own it.
    str("hostname", hostname, "System hostname", true),
    str("domainname", "", "YP domain name"),
    node("mbuf", "mbuf control variables", [
      roInt("msize", 256, "mbuf base size"),
      roInt("mclbytes", 2048, "mbuf cluster size"),
      // kern.mbuf's handler refuses to shrink the cluster limit.
      int(
        "nmbclusters",
        8192,
        "Limit on the number of mbuf clusters",
        (v, r) => v >= r("kern.mbuf.nmbclusters"),
      ),
      int("mblowat", 16, "mbuf low water mark", nonNeg),
      int("mcllowat", 8, "mbuf cluster low water mark", nonNeg),
      table("stats", "mbuf allocation statistics"),
    ]),
    int("sbmax", 256 * 1024, "Maximum socket buffer size", range(16 * 1024)),
    int(
      "somaxkva",
      16 * 1024 * 1024,
      "Maximum amount of kernel memory to be used for socket buffers",
      range(16 * 1024 * 1024),
    ),
  ]);
}

/** net.inet.ip, by IPCTL_* number (forwarding 1 ... stats 24, bindinterface 25). */
function ipDecl(): Decl {
  return node("ip", "IPv4 related settings", [
    flag("forwarding", 0, "Enable forwarding of INET datagrams"),
    flag("redirect", 1, "Enable sending of ICMP redirect messages"),
    int("ttl", 64, "Default TTL for an INET datagram", range(1, 255)),
    // Created without CTLFLAG_READWRITE in io-pkt ("|CTLFLAG_READWRITE?").
    roInt("mtu", 0, "Default MTA for an INET route"),
    flag("forwsrcrt", 0, "Enable forwarding of source-routed datagrams"),
    flag("directed-broadcast", 0, "Enable forwarding of broadcast datagrams"),
    flag("allowsrcrt", 0, "Accept source-routed datagrams"),
    flag("subnetsarelocal", 1, "Whether logical subnets are considered local"),
    flag("mtudisc", 1, "Use RFC1191 Path MTU Discovery"),
    int("anonportmin", 49152, "Lowest ephemeral port number to assign", portCheck("anonportmin")),
    int("anonportmax", 65535, "Highest ephemeral port number to assign", portCheck("anonportmax")),
    int("mtudisctimeout", 600, "Lifetime of a Path MTU Discovered route", nonNeg),
    int("maxflows", 256, "Number of flows for fast forwarding", nonNeg),
    flag("hostzerobroadcast", 1, "All zeroes address is broadcast address"),
    int(
      "lowportmin",
      600,
      "Lowest privileged ephemeral port number to assign",
      portCheck("lowportmin"),
    ),
    int(
      "lowportmax",
      1023,
      "Highest privileged ephemeral port number to assign",
      portCheck("lowportmax"),
    ),
    int(
      "maxfragpackets",
      200,
      "Maximum number of fragments to retain for possible reassembly",
      range(-1),
    ),
    flag("checkinterface", 0, "Enable receive side of Strong ES model from RFC1122"),
    ifqNode(),
    flag("random_id", 0, "Assign random ip_id values"),
    flag("do_loopback_cksum", 0, "Perform IP checksum on loopback"),
    table("stats", "IP statistics"),
    flag("bindinterface", 0, "Enable transmit side of Strong ES model from RFC1122"),
    // NetBSD 7's IPv4 DAD knob, set by NetBSD scripts; this stack sends no IPv4 DAD
    // probes (an address is usable at once, as with 0) and only announces it.
    int("dad_count", 0, "Number of Duplicate Address Detection probes to send", nonNeg),
  ]);
}

function icmpDecl(): Decl {
  return node("icmp", "ICMPv4 related settings", [
    flag("maskrepl", 0, "Respond to ICMP_MASKREQ messages"),
    int(
      "returndatabytes",
      8,
      "Number of bytes to return in an ICMP error message",
      range(8, 512),
    ),
    int("errppslimit", 100, "Maximum number of outgoing ICMP error messages per second", pps),
    flag("rediraccept", 1, "Accept ICMP_REDIRECT messages"),
    int("redirtimeout", 600, "Lifetime of ICMP_REDIRECT generated routes", nonNeg),
    flag("tstamprepl", 1, "Respond to ICMP_TSTAMP messages"),
    table("stats", "ICMP statistics"),
    flag(
      "bmcastecho",
      0,
      "Respond to ICMP_ECHO or ICMP_TIMESTAMP message to the broadcast or multicast",
    ),
  ]);
}

/**
 * net.inet.tcp: TCPCTL_* numbers first (rfc1323 1 ... drop_synfin 41), then
 * the CTL_CREATE nodes in creation order (pcblist ... abc), then what this
 * stack adds from later NetBSD (congctl, keepinit, msl, ackdropppslimit).
 */
function tcpDecl(): Decl {
  return node("tcp", "TCP related settings", [
    flag("rfc1323", 1, "Enable RFC1323 TCP extensions"),
    // 22 KiB is QNX's TCP_SENDSPACE (NetBSD: 32 KiB).
    int("sendspace", 22528, "Default TCP send buffer size", nonNeg),
    int("recvspace", 32768, "Default TCP receive buffer size", nonNeg),
    int("mssdflt", 536, "Default maximum segment size", range(32, 65535)),
    int(
      "syn_cache_limit",
      293 * 35,
      "Maximum number of entries in the TCP compressed state engine",
      nonNeg,
    ),
    int(
      "syn_bucket_limit",
      105,
      "Maximum number of entries per hash bucket in the TCP compressed state engine",
      nonNeg,
    ),
    int("init_win", 0, "Initial TCP congestion window", nonNeg),
    flag("mss_ifmtu", 0, "Use interface MTU for calculating MSS"),
    node("sack", "RFC2018 Selective ACKnowledgement tunables", [
      flag("enable", 1, "Enable RFC2018 Selective ACKnowledgement"),
      int("maxholes", 32, "Maximum number of TCP SACK holes allowed per connection", nonNeg),
      int("globalmaxholes", 1024, "Global maximum number of TCP SACK holes", nonNeg),
      roInt("globalholes", 0, "Global number of TCP SACK holes"),
    ]),
    flag("win_scale", 1, "Use RFC1323 window scale options"),
    flag("timestamps", 1, "Use RFC1323 time stamp options"),
    flag("compat_42", 1, "Enable workarounds for 4.2BSD TCP bugs"),
    flag("cwm", 0, "Hughes/Touch/Heidemann Congestion Window Monitoring"),
    flag("ack_on_push", 0, "Immediately return ACK when PSH is received"),
    int(
      "keepidle",
      14400,
      "Allowed connection idle ticks before a keepalive probe is sent",
      range(1),
    ),
    int("keepintvl", 150, "Ticks before next keepalive probe is sent", range(1)),
    int("keepcnt", 8, "Number of keepalive probes to send", range(1)),
    roInt("slowhz", 2, "Keepalive ticks per second"),
    flag("log_refused", 0, "Log refused TCP connections"),
    int("init_win_local", 4, "Initial TCP window size (in segments)", nonNeg),
    int("rstppslimit", 100, "Maximum number of RST packets to send per second", pps),
    int("delack_ticks", 0, "Number of ticks to delay sending an ACK", nonNeg),
    flag("hiwat_adjust", 1, "Base sb_hiwat on peer mss"),
    flag("do_loopback_cksum", 0, "Perform TCP checksum on loopback"),
    table("stats", "TCP statistics"),
    flag("drop_synfin", 0, "Drop SYN packets if FIN is also set"),
    table("pcblist", "TCP protocol control block list"),
    // QNX ships 0 for both (NetBSD 6+ ships recvbuf_auto 1): this stack turns
    // both on so that one stream fills a long fat path with default settings.
    flag("recvbuf_auto", 1, "Enable automatic receive buffer sizing (experimental)"),
    int("recvbuf_inc", 16384, "Incrementor step size of automatic receive buffer", nonNeg),
    int("recvbuf_max", 4194304, "Max size of automatic receive buffer", nonNeg),
    flag("sendbuf_auto", 1, "Enable automatic send buffer sizing (experimental)"),
    int("sendbuf_inc", 8192, "Incrementor step size of automatic send buffer", nonNeg),
    int("sendbuf_max", 4194304, "Max size of automatic send buffer", nonNeg),
    node("ecn", "RFC3168 Explicit Congestion Notification", [
      flag("enable", 0, "Enable TCP Explicit Congestion Notification"),
      int(
        "maxretries",
        1,
        "Number of times to retry ECN setup before disabling ECN on the connection",
        nonNeg,
      ),
    ]),
    flag("iss_hash", 0, "Enable RFC 1948 ISS by cryptographic hash computation"),
    node("abc", "RFC3465 Appropriate Byte Counting (ABC)", [
      flag("enable", 1, "Enable RFC3465 Appropriate Byte Counting"),
      flag("aggressive", 1, "1: L=2*SMSS 0: L=1*SMSS"),
    ]),
    // Names io-pkt lacks, from NetBSD 5-7, after io-pkt's own (see the README).
    node("congctl", "TCP Congestion Control", [
      str(
        "available",
        TCP_CONGCTL_AVAILABLE.join(" "),
        "Available Congestion Control Mechanisms",
        true,
      ),
      str(
        "selected",
        TCP_CONGCTL_DEFAULT,
        "Selected Congestion Control Mechanism",
        false,
        (name) => TCP_CONGCTL_AVAILABLE.includes(name),
      ),
    ]),
    // TCPTV_KEEP_INIT: 75 s in slow ticks.
    int("keepinit", 150, "Ticks before initial tcp connection times out", range(1)),
    // Seconds (NetBSD 6+); io-pkt's TIME_WAIT is a fixed 2 * 30 s.
    int("msl", 30, "Maximum Segment Life", nonNeg),
    int(
      "ackdropppslimit",
      100,
      "Maximum number of challenge ACKs (RFC 5961) and ACKs to dropped segments to send per second",
      pps,
    ),
  ]);
}

function udpDecl(): Decl {
  return node("udp", "UDPv4 related settings", [
    flag("checksum", 1, "Compute UDP checksums"),
    int("sendspace", 9216, "Default UDP send buffer size", nonNeg),
    int("recvspace", 41600, "Default UDP receive buffer size", nonNeg),
    flag("do_loopback_cksum", 0, "Perform UDP checksum on loopback"),
    table("stats", "UDP statistics"),
    table("pcblist", "UDP protocol control block list"),
  ]);
}

function arpDecl(): Decl {
  return node("arp", "Address Resolution Protocol", [
    int("prune", 300, "ARP cache pruning interval", range(1)),
    int("keep", 1200, "Valid ARP entry lifetime", nonNeg),
    int("down", 20, "Failed ARP entry lifetime", nonNeg),
    int("refresh", 300, "ARP entry refresh interval", nonNeg),
    int("maxtries", 5, "Number of tries until route is marked down; 0 for unlimited", nonNeg),
  ]);
}

/**
 * net.inet6: tcp6 (6), udp6 (17), ip6 (41), icmp6 (58). Only the §6 names:
 * tcp6 carries just its tables, because its knobs would be aliases of
 * net.inet.tcp.* that the reference does not list.
 */
function inet6Decl(): Decl {
  return node("inet6", "PF_INET6 related settings", [
    node("tcp6", "TCP related settings", [
      table("stats", "TCP statistics"),
      table("pcblist", "TCP protocol control block list"),
    ]),
    node("udp6", "UDPv6 related settings", [
      {
        name: "do_loopback_cksum",
        type: "int",
        desc: "Perform UDP checksum on loopback",
        check: range(0, 1),
        shares: "net.inet.udp.do_loopback_cksum",
        alias: true,
      },
      table("stats", "UDPv6 statistics"),
      table("pcblist", "UDP protocol control block list"),
    ]),
    node("ip6", "IPv6 related settings", [
      flag("forwarding", 0, "Enable forwarding of INET6 datagrams"),
      flag("redirect", 1, "Enable sending of ICMPv6 redirect messages"),
      int("hlim", 64, "Hop limit for an INET6 datagram", range(1, 255)),
      table("stats", "IPv6 statistics"),
      int(
        "maxfragpackets",
        200,
        "Maximum number of fragments to buffer for reassembly",
        range(-1),
      ),
      flag("accept_rtadv", 0, "Accept router advertisements"),
      int("hdrnestlimit", 50, "Maximum number of nested IPv6 headers", nonNeg),
      int("dad_count", 1, "Number of Duplicate Address Detection probes to send", nonNeg),
      flag("auto_flowlabel", 1, "Assign random IPv6 flow labels"),
      int("defmcasthlim", 1, "Default multicast hop limit", range(0, 255)),
      flag("use_deprecated", 1, "Allow use of deprecated addresses as source addresses"),
      flag("v6only", 1, "Disallow PF_INET6 sockets from connecting to PF_INET sockets"),
      // NetBSD 6+: whether bringing an interface up adds its EUI-64 link-local address.
      flag(
        "auto_linklocal",
        1,
        "Default value of per-interface flag for adding an IPv6 link-local address to interfaces when attached",
      ),
    ]),
    node("icmp6", "ICMPv6 related settings", [
      table("stats", "ICMPv6 transmission statistics"),
      flag("rediraccept", 1, "Accept and process redirect messages"),
      int("nd6_prune", 1, "Neighbor discovery prune interval", range(1)),
      int("nd6_delay", 5, "First probe delay time", nonNeg),
      int("nd6_umaxtries", 3, "Number of unicast discovery attempts", nonNeg),
      int("nd6_mmaxtries", 3, "Number of multicast discovery attempts", nonNeg),
      flag("nd6_useloopback", 1, "Use loopback interface for local traffic"),
      // QNX's io-pkt ships 0 (NetBSD 1): no Node Information replies until set.
      int("nodeinfo", 0, "Respond to node information requests", nonNeg),
      int("nd6_maxnudhint", 0, "Maximum neighbor unreachable hint count", nonNeg),
      flag("nd6_debug", 0, "Enable neighbor discovery debug output"),
      table("nd6_drlist", "Default router list"),
      table("nd6_prlist", "Prefix list"),
    ]),
  ]);
}

/** qnx.*: net (4) before the CTL_CREATE kern node. */
function qnxDecl(): Decl {
  return node("qnx", "QNX specific", [
    node("net", "", [
      node("inet", "", [
        node("tcp", "TCP related settings", [
          {
            name: "hiwat_adjust",
            type: "int",
            desc: "Base sb_hiwat on peer mss",
            check: range(0, 1),
            shares: "net.inet.tcp.hiwat_adjust",
          },
          flag("qnx_delack", 1, "Enable QNX delack behavior"),
          int("rto", 0, "Retransmission timeout value", nonNeg),
          int("rto_limit", 0, "Retransmission timeout counter", nonNeg),
          int("rto_final_timeout", 0, "Retransmission timeout for final packet", nonNeg),
        ]),
      ]),
    ]),
    node("kern", "", [
      // Writable only in io-net compatibility builds; these are -hc stacks.
      roInt("enmap", 0, 'ionet compat: map "enX" -> <ethernet iface>'),
      flag("callout_dbg", 0, "log callout timer status"),
      // 7.0+: an ability mask (0x1 ... 0x80); 0 keeps root.
      int(
        "droproot",
        0,
        "Switch to the -U user, keeping the abilities in this mask",
        range(0, 0xff),
      ),
    ]),
  ]);
}

function mibDecl(opts: SysctlTreeOptions): Decl[] {
  const inet = [ipDecl(), icmpDecl(), tcpDecl(), udpDecl(), arpDecl()];
  const net = [node("inet", "PF_INET related settings", inet)];
  if (opts.inet6) net.push(inet6Decl());
  net.push(
    node("bpf", "BPF options", [
      int("maxbufsize", 1024 * 1024, "Maximum size for data capture buffer", range(32, 16 << 20)),
      table("stats", "BPF stats"),
      table("peers", "BPF peers"),
    ]),
  );
  return [kernDecl(opts.hostname ?? "localhost"), node("net", "Networking", net), qnxDecl()];
}

// ---------------------------------------------------------------------------
// The tree

/** The storage one or more names point at. */
interface Cell {
  value: number | string;
  listeners: SysctlListener[];
  /** Copies kept current on every stored write ({@linkcode SysctlTree.mirror}). */
  mirrors: SysctlMirror[];
}

interface Entry {
  name: string;
  decl: Decl;
  /** Leaves (int/string) only. */
  cell?: Cell;
}

/**
 * A stack's sysctl MIB.
 *
 * @example
 * ```ts
 * import { SysctlTree } from "./sysctl.ts";
 * const mib = new SysctlTree({ inet6: true });
 * mib.set("net.inet6.udp6.do_loopback_cksum", "1");
 * console.log(mib.get("net.inet.udp.do_loopback_cksum")); // 1 (one variable, two names)
 * ```
 */
export class SysctlTree {
  /** Every node in MIB order. */
  #order: Entry[] = [];
  #byName = new Map<string, Entry>();

  /**
   * Builds the MIB with its defaults, then applies `overrides`.
   * @throws ErrnoError ENOENT for an override naming no leaf, EINVAL for one of the wrong type
   */
  constructor(opts: SysctlTreeOptions) {
    const pending: Entry[] = [];
    const walk = (decls: Decl[], prefix: string) => {
      for (const d of decls) {
        const name = prefix + d.name;
        const e: Entry = { name, decl: d };
        if (d.type === "int" || d.type === "string") {
          if (d.shares) pending.push(e);
          else e.cell = { value: d.value ?? 0, listeners: [], mirrors: [] };
        }
        this.#order.push(e);
        this.#byName.set(name, e);
        if (d.children) walk(d.children, name + ".");
      }
    };
    walk(mibDecl(opts), "");
    // Sharing names may come before the name they share (qnx.* sorts after net.*
    // but not always), so cells are linked once every name exists.
    for (const e of pending) e.cell = this.#leaf(e.decl.shares!).cell;
    for (const [name, value] of Object.entries(opts.overrides ?? {})) {
      this.setInternal(name, value);
    }
  }

  /** Every node in MIB order (depth first, children by MIB number), values as they are now. */
  list(): SysctlNodeInfo[] {
    return this.#order.map((e) => {
      const d = e.decl;
      const info: SysctlNodeInfo = {
        name: e.name,
        type: d.type,
        readonly: this.#readonly(d),
        desc: d.desc,
      };
      if (e.cell) info.value = e.cell.value;
      if (d.alias) info.alias = d.shares;
      return info;
    });
  }

  /** Whether `name` is a node of this tree (of any type). */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /**
   * A leaf's value.
   * @throws ErrnoError ENOENT for an unknown name, a node or a table
   */
  get(name: string): number | string {
    return this.#leaf(name).cell!.value;
  }

  /**
   * An int leaf's value, for the stack's hot paths.
   * @throws ErrnoError ENOENT when `name` is not an int leaf
   */
  int(name: string): number {
    const v = this.#leaf(name).cell!.value;
    if (typeof v !== "number") throw new ErrnoError("ENOENT", name);
    return v;
  }

  /**
   * A write from a client: parses `value` for the node's type, checks it,
   * stores it and calls the listeners of its variable.
   *
   * A listener may veto by throwing an `ErrnoError`: the old value comes back
   * and the error is thrown from here (listeners already called are not told).
   *
   * @returns the values before and after
   * @throws ErrnoError ENOENT unknown name; EPERM read-only name or table;
   *   EINVAL a node, or a value that does not parse or is out of range
   */
  set(name: string, value: string): { old: number | string; new: number | string } {
    const e = this.#byName.get(name);
    if (!e) throw new ErrnoError("ENOENT", name);
    const d = e.decl;
    if (d.type === "node") throw new ErrnoError("EINVAL", name);
    if (this.#readonly(d) || !e.cell) throw new ErrnoError("EPERM", name);
    let next: number | string;
    if (d.type === "int") {
      const r = parseSysctlInt(value);
      if (!r.ok) throw new ErrnoError("EINVAL", name);
      if (d.check && !d.check(r.value, (n) => this.int(n))) throw new ErrnoError("EINVAL", name);
      next = r.value;
    } else {
      if (value.length > MAX_STRING || value.includes("\0")) throw new ErrnoError("EINVAL", name);
      if (d.valid && !d.valid(value)) throw new ErrnoError("EINVAL", name);
      next = value;
    }
    const cell = e.cell;
    const old = cell.value;
    cell.value = next;
    try {
      for (const fn of [...cell.listeners]) fn(next, old, name);
    } catch (err) {
      cell.value = old;
      throw err;
    }
    for (const fn of cell.mirrors) fn(next);
    return { old, new: next };
  }

  /**
   * The stack's own write: no read-only check, no range check, no listeners
   * (the stack already knows). For counters like `net.inet.ip.ifq.drops`.
   * @throws ErrnoError ENOENT not a leaf; EINVAL a value of the wrong type
   */
  setInternal(name: string, value: number | string): void {
    const e = this.#leaf(name);
    const want = e.decl.type === "int" ? "number" : "string";
    if (typeof value !== want || (typeof value === "number" && !Number.isInteger(value))) {
      throw new ErrnoError("EINVAL", name);
    }
    e.cell!.value = value;
    for (const fn of e.cell!.mirrors) fn(value);
  }

  /**
   * Calls `fn` after every successful {@linkcode SysctlTree.set} of `name`'s
   * variable (through any name that shares it), even when the value is
   * unchanged, as NetBSD's handlers run on every write.
   * @returns a function that removes the listener
   * @throws ErrnoError ENOENT when `name` is not a leaf
   */
  onChange(name: string, fn: SysctlListener): () => void {
    const cell = this.#leaf(name).cell!;
    cell.listeners.push(fn);
    return () => {
      const i = cell.listeners.indexOf(fn);
      if (i >= 0) cell.listeners.splice(i, 1);
    };
  }

  /**
   * Keeps a copy of `name`'s variable current: calls `fn` with its value now
   * and after every write that stores one, through any name sharing the
   * variable ({@linkcode SysctlTree.set} once no listener vetoed, and
   * {@linkcode SysctlTree.setInternal}). This is how the data path reads
   * knobs as plain fields (core/tunables.ts) instead of looking names up.
   * @throws ErrnoError ENOENT when `name` is not a leaf
   */
  mirror(name: string, fn: SysctlMirror): void {
    const cell = this.#leaf(name).cell!;
    cell.mirrors.push(fn);
    fn(cell.value);
  }

  #leaf(name: string): Entry {
    const e = this.#byName.get(name);
    if (!e || !e.cell) throw new ErrnoError("ENOENT", name);
    return e;
  }

  /** Only int and string leaves can be written; nodes and tables never. */
  #readonly(d: Decl): boolean {
    return (d.type !== "int" && d.type !== "string") || d.readonly === true;
  }
}
