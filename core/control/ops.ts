/**
 * The requests the tools make of a stack, and the shapes of their results.
 *
 * Every control request is one member of {@linkcode ControlRequest}, a union
 * discriminated on `op`. Addresses travel as text here: this is the control
 * plane, not the packet path. Whether a request changes configuration (and so
 * needs a privileged client) is said once, in {@linkcode OP_CHANGES_CONFIG}.
 *
 * @example A request and its reply
 * ```ts
 * import type { ControlReply, ControlRequest } from "./ops.ts";
 * const req: ControlRequest = { op: "ifList" };
 * const reply: ControlReply = { ok: false, errno: "ENXIO" };
 * console.log(req.op, reply.ok);
 * ```
 * @module
 */

import type { Errno } from "../errno.ts";
import type { TcpConnStats } from "./tcp_pcb_info.ts";

/** An IPv4 address of an interface. */
export interface InetAddrInfo {
  family: "inet";
  /** Dotted quad. */
  addr: string;
  /** Dotted quad. */
  netmask: string;
  /** Present on broadcast-capable interfaces. */
  broadcast?: string;
  /** Destination of a point-to-point link. */
  dst?: string;
}

/** IPv6 address flags as ifconfig prints them. */
export type Inet6AddrFlag = "anycast" | "tentative" | "duplicated" | "detached" | "deprecated";

/** An IPv6 address of an interface. */
export interface Inet6AddrInfo {
  family: "inet6";
  /** Compressed text form, without a zone. */
  addr: string;
  prefixlen: number;
  /** Interface index for scoped (link-local) addresses; absent for global ones. */
  scopeid?: number;
  flags: Inet6AddrFlag[];
  /** Preferred lifetime in seconds; absent means infinite. */
  pltime?: number;
  /** Valid lifetime in seconds; absent means infinite. */
  vltime?: number;
  dst?: string;
}

/** Any interface address. */
export type IfAddrInfo = InetAddrInfo | Inet6AddrInfo;

/** Interface counters, as `struct if_data` holds them. */
export interface IfStats {
  ipackets: number;
  ierrors: number;
  opackets: number;
  oerrors: number;
  collisions: number;
  ibytes: number;
  obytes: number;
  imcasts: number;
  omcasts: number;
  iqdrops: number;
  noproto: number;
}

/** Checksum-offload capability bits (ifconfig `capabilities=`). */
export interface IfCapabilities {
  rx: number;
  tx: number;
}

/** One interface as `ifconfig`, `netstat -i` and `if_up` see it. */
export interface IfInfo {
  name: string;
  /** 1-based interface index (lo0 is 1). */
  index: number;
  /** IFF_* bits (see `core/link/if_flags.ts`). */
  flags: number;
  mtu: number;
  metric: number;
  /** Driver module that owns it (`lo` for loopbacks). */
  driver: string;
  /** Link-level address, lowercase `xx:xx:...`; absent for loopback. */
  lladdr?: string;
  /** Only when the driver reports capabilities. */
  capabilities?: IfCapabilities;
  enabled?: IfCapabilities;
  /**
   * Only when the driver answers the media ioctl: `current` names the type and the
   * setting (`Ethernet autoselect`), `active` what is in effect, without parentheses
   * (`1000baseT full-duplex`).
   */
  media?: { current: string; active?: string };
  /** Only when the driver reports link state. */
  linkState?: "active" | "no carrier";
  stats: IfStats;
  /** IPv4 first (primary first), then IPv6, each in the order they were added. */
  addrs: IfAddrInfo[];
}

/** One routing-table entry. */
export interface RouteInfo {
  family: "inet" | "inet6";
  /** Destination address text (network or host). IPv6 link-local keeps its zone: `fe80::%lo0`. */
  dst: string;
  /** Prefix length; `null` for a host route. */
  prefixlen: number | null;
  /** Gateway: an address, `link#N`, or a link-level address. */
  gateway: string;
  /** RTF_* bits (see `core/net/route_flags.ts`). */
  flags: number;
  refs: number;
  use: number;
  /** Route MTU; 0 prints as `-`. */
  mtu: number;
  ifname: string;
}

/** sysctl node types (NetBSD CTLTYPE_*). */
export type SysctlType = "node" | "int" | "quad" | "string" | "struct" | "bool";

/** One sysctl node. Leaves carry a value; `node` and `struct` do not. */
export interface SysctlNodeInfo {
  name: string;
  type: SysctlType;
  value?: number | string;
  readonly: boolean;
  desc: string;
  /** For a second name of the same variable, the name it stands for; printed only when named. */
  alias?: string;
}

/** One socket as `netstat` lists it. */
export interface SocketInfo {
  proto: "tcp" | "udp" | "tcp6" | "udp6";
  /** Bytes charged to the receive buffer (a datagram: payload and the source's sockaddr). */
  recvQ: number;
  sendQ: number;
  /** Addresses are text; the wildcard is `0.0.0.0` or `::` (netstat prints `*`). */
  localAddr: string;
  localPort: number;
  foreignAddr: string;
  foreignPort: number;
  /** TCP state name (`LISTEN`, `ESTABLISHED`, ...); absent for UDP. */
  state?: string;
  /** What `netstat -A` shows as the PCB address (NetBSD's `ki_ppcbaddr`); absent (0) for UDP. */
  pcb?: number;
  /** TCP only: the sender's and receiver's figures `netstat -v` prints under the row. */
  tcp?: TcpConnStats;
}

/**
 * Protocol counters as the `stats` op carries them: by protocol (`ip`, `icmp`,
 * `tcp`, ...) then NetBSD field name, array members flattened (`inhist.8`).
 * The stack keeps them typed (`ProtoCounters` in core/stats.ts).
 */
export type ProtoStats = Record<string, Record<string, number>>;

/** Facts about the daemon that answers. */
export interface StackInfo {
  version: string;
  /** The `-i` instance number. */
  instance: number;
  /** `io-pkt` for instance 0, else `io-pktN`. */
  mountType: string;
  /** True for io-pkt-v6-hc. */
  inet6: boolean;
  pid: number;
  prefix: string;
}

/** What an address request specifies. */
export type AddrSpec =
  | { family: "inet"; addr: string; netmask?: string; broadcast?: string; dst?: string }
  | {
    family: "inet6";
    addr: string;
    prefixlen?: number;
    dst?: string;
    flags?: Inet6AddrFlag[];
    /** Lifetimes in seconds; absent is infinite. */
    pltime?: number;
    vltime?: number;
  };

/** A neighbour cache entry (ARP for inet, NDP for inet6). */
export interface NeighborInfo {
  family: "inet" | "inet6";
  addr: string;
  /** Absent while resolution is incomplete. */
  lladdr?: string;
  ifname: string;
  /** Seconds until the entry expires; absent for a permanent entry. */
  expire?: number;
  /** Answered for on behalf of another host (`arp -s ... pub`). */
  published?: boolean;
  /** NDP state (inet6): INCOMPLETE, REACHABLE, STALE, DELAY, PROBE; ARP entries have none. */
  state?: "INCOMPLETE" | "REACHABLE" | "STALE" | "DELAY" | "PROBE";
  /** NDP: the neighbour is a router. */
  router?: boolean;
}

/** A route to add or change (`route add`). */
export interface RouteSpec {
  family: "inet" | "inet6";
  /** Destination address text, or `default`. */
  dst: string;
  /** Prefix length; `null` for a host route. */
  prefixlen: number | null;
  /** Next hop address; absent with `ifname` for a route through an interface (`-interface`). */
  gateway?: string;
  /** Interface for an interface route, or to pin the gateway's interface (`-ifp`). */
  ifname?: string;
  reject?: boolean;
  blackhole?: boolean;
  mtu?: number;
  /**
   * Further RTF_* marks route(8) sets: CLONING, LLINFO, XRESOLVE, PROTO1,
   * PROTO2 (`-proxy`, RTF_ANNOUNCE). Other bits are refused (EINVAL).
   */
  flags?: number;
  /** `-nostatic`: the route is not marked RTF_STATIC. */
  nostatic?: boolean;
  /** `-link`: a link-layer gateway (`xx:xx:xx:xx:xx:xx`) on `ifname`. */
  linkGateway?: string;
}

/** What `route get` reports. */
export interface RouteGetInfo {
  route: RouteInfo;
  /** The netmask of the matched route, as text (absent for host routes). */
  mask?: string;
  /** Source address the stack would use. */
  ifaddr?: string;
}

/** A datagram delivered to a raw socket: pushed as an event frame to the socket's connection. */
export interface SocketEvent {
  sock: number;
  /** Source address text. */
  from: string;
  /** Base64 of what a BSD raw socket returns (inet: the IP header too; inet6: the ICMPv6 message). */
  data: string;
  /** TTL (inet) or hop limit (inet6) the packet arrived with. */
  ttl: number;
  ifname: string;
}

/** The link-layer addresses of one interface (`ifconfig` prints the inactive ones as `link`). */
export interface LinkAddressInfo {
  name: string;
  /** The address in use, lowercase `xx:xx:...`. */
  active: string;
  /** The others, in the order they were added. */
  inactive: string[];
}

/** Every control request, discriminated on `op`. */
export type ControlRequest =
  | { op: "info" }
  | { op: "ifList"; name?: string }
  | { op: "ifCreate"; name: string }
  | { op: "ifDestroy"; name: string }
  | {
    op: "ifSet";
    name: string;
    flagsSet?: number;
    flagsClear?: number;
    mtu?: number;
    metric?: number;
    /** `ifconfig IF linkstr STR`: hands STR to the driver (the shmif bus). */
    linkstr?: string;
  }
  | { op: "ifZeroStats"; name: string }
  | { op: "addrAdd"; name: string; spec: AddrSpec }
  /** Deletes `addr`, or the interface's first address of `family` when `addr` is absent. */
  | { op: "addrDelete"; name: string; family: "inet" | "inet6"; addr?: string }
  | { op: "clonerList" }
  | { op: "routeList" }
  | { op: "sysctlList" }
  | { op: "sysctlSet"; name: string; value: string }
  | { op: "stats" }
  | { op: "sockList" }
  | { op: "mount"; type: string; module: string; options: string }
  | { op: "routeAdd"; route: RouteSpec }
  | { op: "routeChange"; route: RouteSpec }
  | { op: "routeDelete"; family: "inet" | "inet6"; dst: string; prefixlen: number | null }
  | { op: "routeGet"; family: "inet" | "inet6"; dst: string }
  /** Deletes every route that is not a connected one (route flush). */
  | { op: "routeFlush"; family?: "inet" | "inet6" }
  | { op: "neighborList"; family: "inet" | "inet6" }
  | {
    op: "neighborSet";
    family: "inet" | "inet6";
    addr: string;
    lladdr: string;
    temp?: boolean;
    pub?: boolean;
  }
  | { op: "neighborDelete"; family: "inet" | "inet6"; addr: string }
  | { op: "neighborFlush"; family: "inet" | "inet6" }
  /** Opens a raw socket (ICMP or ICMPv6) whose datagrams come back as event frames. */
  | { op: "sockOpen"; domain: "inet" | "inet6"; type: "raw"; proto: number }
  | {
    op: "sockSendTo";
    sock: number;
    /** Destination; a `%zone` is allowed for inet6 link-local. */
    addr: string;
    /** Base64 of the ICMP/ICMPv6 message (no IP header). */
    data: string;
    /** TTL / hop limit; the sysctl default when absent. */
    ttl?: number;
    /** Source address to use (`ping -S`). */
    src?: string;
    /** Send out of this interface (`ping -I` for multicast / link-local). */
    ifname?: string;
    /** inet6: the neighbour to hand the packet to (IPV6_NEXTHOP, `ping6 -g`). */
    nexthop?: string;
    /** inet6: IPV6_USE_MIN_MTU: 1 always 1280, -1 multicast only, 0 never (`ping6 -m`). */
    minmtu?: number;
  }
  | { op: "sockClose"; sock: number }
  /** `ifconfig IF link ADDR [active]`: adds a link-layer address, `active` making it the one in use. */
  | { op: "lladdrAdd"; name: string; lladdr: string; active?: boolean }
  /** `ifconfig IF -link ADDR`: deletes an inactive link-layer address. */
  | { op: "lladdrDelete"; name: string; lladdr: string }
  /** The link-layer addresses of every interface, or of `name`. */
  | { op: "lladdrList"; name?: string };

/** The `op` names. */
export type ControlOp = ControlRequest["op"];

/** The result type of each op. */
export interface ControlResults {
  info: StackInfo;
  ifList: IfInfo[];
  ifCreate: IfInfo;
  ifDestroy: Record<never, never>;
  ifSet: IfInfo;
  ifZeroStats: Record<never, never>;
  addrAdd: IfInfo;
  addrDelete: IfInfo;
  clonerList: string[];
  routeList: RouteInfo[];
  sysctlList: SysctlNodeInfo[];
  sysctlSet: { old: number | string; new: number | string };
  stats: ProtoStats;
  sockList: SocketInfo[];
  mount: { interfaces: string[] };
  routeAdd: RouteInfo;
  routeChange: RouteInfo;
  routeDelete: RouteInfo;
  routeGet: RouteGetInfo;
  routeFlush: RouteInfo[];
  neighborList: NeighborInfo[];
  neighborSet: NeighborInfo;
  neighborDelete: NeighborInfo;
  neighborFlush: NeighborInfo[];
  sockOpen: { sock: number };
  sockSendTo: { sent: number };
  sockClose: Record<never, never>;
  lladdrAdd: IfInfo;
  lladdrDelete: IfInfo;
  lladdrList: LinkAddressInfo[];
}

/** A reply: a result, or an errno name with an optional detail. */
export type ControlReply<R = unknown> =
  | { ok: true; result: R }
  | { ok: false; errno: Errno; message?: string };

/** Which ops need a privileged client: configuration changes, and raw sockets (BSD's rule). */
export const OP_CHANGES_CONFIG: Readonly<Record<ControlOp, boolean>> = {
  info: false,
  ifList: false,
  ifCreate: true,
  ifDestroy: true,
  ifSet: true,
  ifZeroStats: true,
  addrAdd: true,
  addrDelete: true,
  clonerList: false,
  routeList: false,
  sysctlList: false,
  sysctlSet: true,
  stats: false,
  sockList: false,
  mount: true,
  routeAdd: true,
  routeChange: true,
  routeDelete: true,
  routeGet: false,
  routeFlush: true,
  neighborList: false,
  neighborSet: true,
  neighborDelete: true,
  neighborFlush: true,
  sockOpen: true,
  sockSendTo: false,
  sockClose: false,
  lladdrAdd: true,
  lladdrDelete: true,
  lladdrList: false,
};
