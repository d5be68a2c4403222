/**
 * netstat against a fake stack: whole outputs compared byte for byte with text
 * derived from the printf formats of QNX 6.6/7.0 and NetBSD 4's netstat, plus
 * the counter sets of core/stats.ts and the error paths.
 * @module
 */

import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import type {
  ControlRequest,
  IfInfo,
  IfStats,
  ProtoStats,
  RouteInfo,
  SocketInfo,
  StackInfo,
} from "../../core/control/ops.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { RTF } from "../../core/net/route_flags.ts";
import { createProtoStats, flattenProtoCounters, ProtoCounters } from "../../core/stats.ts";
import { netstatMain } from "../../tools/netstat.ts";
import { type FakeHandler, runFakeTool, type ToolRun } from "../kit/fake_tool.ts";

// ---------------------------------------------------------------------------
// Fixtures: a v6 stack with lo0, en0 and a down tun0

function ifStats(s: Partial<IfStats>): IfStats {
  return {
    ipackets: 0,
    ierrors: 0,
    opackets: 0,
    oerrors: 0,
    collisions: 0,
    ibytes: 0,
    obytes: 0,
    imcasts: 0,
    omcasts: 0,
    iqdrops: 0,
    noproto: 0,
    ...s,
  };
}

const LO0: IfInfo = {
  name: "lo0",
  index: 1,
  flags: IFF.UP | IFF.LOOPBACK | IFF.RUNNING | IFF.MULTICAST,
  mtu: 33192,
  metric: 0,
  driver: "lo",
  stats: ifStats({ ipackets: 12, opackets: 12, ibytes: 1008, obytes: 1008 }),
  addrs: [
    { family: "inet", addr: "127.0.0.1", netmask: "255.0.0.0" },
    { family: "inet6", addr: "::1", prefixlen: 128, flags: [] },
    { family: "inet6", addr: "fe80::1", prefixlen: 64, scopeid: 1, flags: [] },
  ],
};

const EN0: IfInfo = {
  name: "en0",
  index: 2,
  flags: IFF.UP | IFF.BROADCAST | IFF.RUNNING | IFF.SIMPLEX | IFF.MULTICAST,
  mtu: 1500,
  metric: 0,
  driver: "dummy",
  lladdr: "00:11:22:33:44:55",
  stats: ifStats({
    ipackets: 120,
    ierrors: 1,
    opackets: 98,
    oerrors: 2,
    ibytes: 14400,
    obytes: 9800,
    iqdrops: 3,
  }),
  addrs: [
    { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0", broadcast: "192.0.2.255" },
    { family: "inet6", addr: "2001:db8:1::2", prefixlen: 64, flags: [] },
    { family: "inet6", addr: "fe80::211:22ff:fe33:4455", prefixlen: 64, scopeid: 2, flags: [] },
  ],
};

const TUN0: IfInfo = {
  name: "tun0",
  index: 3,
  flags: 0,
  mtu: 1500,
  metric: 0,
  driver: "tun",
  stats: ifStats({}),
  addrs: [],
};

function route(
  family: RouteInfo["family"],
  dst: string,
  prefixlen: number | null,
  gateway: string,
  flags: number,
  more: Partial<RouteInfo> = {},
): RouteInfo {
  return {
    family,
    dst,
    prefixlen,
    gateway,
    flags,
    refs: 0,
    use: 0,
    mtu: 0,
    ifname: "en0",
    ...more,
  };
}

const { UP, GATEWAY, HOST, STATIC, CLONING, LLINFO, CLONED } = RTF;

/** Deliberately out of table order: netstat lists them as the radix walk would. */
const ROUTES: RouteInfo[] = [
  route("inet6", "fe80::%en0", 64, "link#2", UP | CLONING),
  route("inet", "192.0.2.0", 24, "link#2", UP | CLONING, { refs: 1 }),
  route("inet6", "ff02::%lo0", 32, "::1", UP, { mtu: 33192, ifname: "lo0" }),
  route("inet", "192.0.2.1", null, "00:00:5e:00:53:01", UP | HOST | LLINFO | CLONED, {
    refs: 1,
    use: 3,
  }),
  route("inet", "127.0.0.1", null, "127.0.0.1", UP | HOST, {
    refs: 1,
    use: 12,
    mtu: 33192,
    ifname: "lo0",
  }),
  route("inet6", "fe80::1%lo0", null, "link#1", UP | HOST | LLINFO, { ifname: "lo0" }),
  route("inet", "0.0.0.0", 0, "192.0.2.1", UP | GATEWAY | STATIC),
  route("inet6", "::1", null, "::1", UP | HOST, { refs: 1, mtu: 33192, ifname: "lo0" }),
  route("inet6", "fe80::%lo0", 64, "fe80::1%lo0", UP, { mtu: 33192, ifname: "lo0" }),
];

function sock(
  proto: SocketInfo["proto"],
  local: [string, number],
  foreign: [string, number],
  state?: string,
  sendQ = 0,
): SocketInfo {
  const [localAddr, localPort] = local;
  const [foreignAddr, foreignPort] = foreign;
  return { proto, recvQ: 0, sendQ, localAddr, localPort, foreignAddr, foreignPort, state };
}

/** UDP before TCP and v6 among v4: netstat groups TCP then UDP, per block. */
const SOCKETS: SocketInfo[] = [
  sock("udp", ["0.0.0.0", 0], ["0.0.0.0", 0]),
  sock("tcp6", ["::", 22], ["::", 0], "LISTEN"),
  sock("tcp", ["0.0.0.0", 22], ["0.0.0.0", 0], "LISTEN"),
  sock("udp6", ["fe80::1%lo0", 546], ["::", 0]),
  sock("tcp", ["192.0.2.2", 22], ["198.51.100.7", 51234], "ESTABLISHED", 36),
];

interface Stack {
  inet6?: boolean;
  ifs?: IfInfo[];
  routes?: RouteInfo[];
  socks?: SocketInfo[];
  stats?: ProtoStats;
}

function info(inet6: boolean): StackInfo {
  return { version: "test", instance: 0, mountType: "io-pkt", inet6, pid: 1, prefix: "" };
}

function stack(s: Stack = {}): FakeHandler {
  const inet6 = s.inet6 ?? true;
  return (req: ControlRequest) => {
    switch (req.op) {
      case "info":
        return info(inet6);
      case "ifList":
        return s.ifs ?? [LO0, EN0, TUN0];
      case "routeList":
        return s.routes ?? ROUTES;
      case "sockList":
        return s.socks ?? SOCKETS;
      case "stats":
        return s.stats ?? createProtoStats(inet6);
      default:
        throw new ErrnoError("EOPNOTSUPP", req.op);
    }
  };
}

function netstat(args: string[], handler: FakeHandler | null = stack()): Promise<ToolRun> {
  return runFakeTool("netstat", netstatMain, args, handler);
}

function assertOk(run: ToolRun, stdout: string): void {
  assert.equal(run.stderr, "");
  assert.equal(run.stdout, stdout);
  assert.equal(run.code, 0);
}

function assertFails(run: ToolRun, stderr: string): void {
  assert.equal(run.stdout, "");
  assert.equal(run.stderr, stderr);
  assert.equal(run.code, 1);
}

// ---------------------------------------------------------------------------
// Sockets

const SOCKETS_ALL = "Active Internet connections (including servers)\n" +
  "Proto Recv-Q Send-Q  Local Address          Foreign Address        State      \n" +
  "tcp        0      0  *.22                   *.*                    LISTEN     \n" +
  "tcp        0     36  192.0.2.2.22           198.51.100.7.51234     ESTABLISHED\n" +
  "udp        0      0  *.*                    *.*                               \n" +
  "Active Internet6 connections (including servers)\n" +
  "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)    \n" +
  "tcp6       0      0  *.22                   *.*                    LISTEN     \n" +
  "udp6       0      0  fe80::1%lo0.546        *.*                               \n";

Deno.test("netstat -an lists every socket in QNX's padded rows", async () => {
  const run = await netstat(["-an"]);
  assertOk(run, SOCKETS_ALL);
  for (const line of run.stdout.split("\n").slice(1, 5)) assert.equal(line.length, 78);
});

Deno.test("netstat without -a lists the same rows, only the titles change", async () => {
  const run = await netstat(["-n"]);
  assertOk(run, SOCKETS_ALL.replaceAll(" (including servers)", ""));
});

Deno.test("netstat -f inet and -f inet6 print one block each", async () => {
  const [v4, v6] = SOCKETS_ALL.split(/(?=Active Internet6)/);
  assertOk(await netstat(["-an", "-f", "inet"]), v4);
  assertOk(await netstat(["-anf", "inet6"]), v6);
  assertOk(await netstat(["-an", "-f", "unix"]), "");
  assertOk(await netstat(["-u"]), "");
});

Deno.test("netstat prints no block, not even a header, when there are no sockets", async () => {
  assertOk(await netstat(["-a"], stack({ socks: [] })), "");
  const v4only = SOCKETS.filter((s) => s.proto === "tcp" || s.proto === "udp");
  const run = await netstat(["-an"], stack({ socks: v4only }));
  assertOk(run, SOCKETS_ALL.split(/(?=Active Internet6)/)[0]);
});

Deno.test("netstat on a v4 stack asks info and never prints an IPv6 block", async () => {
  const run = await netstat(["-an"], stack({ inet6: false }));
  assertOk(run, SOCKETS_ALL.split(/(?=Active Internet6)/)[0]);
  assert.deepEqual(run.requests.map((r) => r.op), ["info", "sockList"]);
});

Deno.test("netstat -A prints the PCB column; -A cuts hosts at 12, -A -n keeps 16 in 21 with short states", async () => {
  const socks: SocketInfo[] = [
    {
      ...sock("tcp", ["203.0.113.255", 22], ["198.51.100.7", 51234], "ESTABLISHED"),
      pcb: 0xc0ffee,
    },
    sock("udp", ["0.0.0.0", 68], ["0.0.0.0", 0]),
    { ...sock("tcp6", ["2001:db8:1::2", 22], ["2001:db8:2::77", 40000], "TIME_WAIT"), pcb: 0xbeef },
  ];
  assertOk(
    await netstat(["-A"], stack({ socks })),
    "Active Internet connections\n" +
      "PCB      Proto Recv-Q Send-Q  Local Address      Foreign Address    State      \n" +
      "  c0ffee tcp        0      0  203.0.113.25.22    198.51.100.7.51234 ESTABLISHED\n" +
      "       0 udp        0      0  *.68               *.*                           \n" +
      "Active Internet6 connections\n" +
      "PCB      Proto Recv-Q Send-Q  Local Address      Foreign Address    (state)    \n" +
      "    beef tcp6       0      0  2001:db8:1::.22    2001:db8:2::.40000 TIME_WAIT  \n",
  );
  assertOk(
    await netstat(["-An"], stack({ socks })),
    "Active Internet connections\n" +
      "PCB      Proto Recv-Q Send-Q Local Address         Foreign Address       State \n" +
      "  c0ffee tcp        0      0 203.0.113.255.22      198.51.100.7.51234    ESTABL\n" +
      "       0 udp        0      0 *.68                  *.*                         \n" +
      "Active Internet6 connections\n" +
      "PCB      Proto Recv-Q Send-Q  Local Address      Foreign Address    (state)\n" +
      "    beef tcp6       0      0 2001:db8:1::.22    2001:db8:2::.40000 TMWAIT\n",
  );
});

Deno.test("netstat names 127.0.0.1 localhost unless -n or -S", async () => {
  const socks = [sock("tcp", ["127.0.0.1", 8080], ["127.0.0.1", 40000], "ESTABLISHED")];
  const head = "Active Internet connections\n" +
    "Proto Recv-Q Send-Q  Local Address          Foreign Address        State      \n";
  assertOk(
    await netstat([], stack({ socks })),
    head + "tcp        0      0  localhost.8080         localhost.40000        ESTABLISHED\n",
  );
  const numeric = head +
    "tcp        0      0  127.0.0.1.8080         127.0.0.1.40000        ESTABLISHED\n";
  assertOk(await netstat(["-n"], stack({ socks })), numeric);
  assertOk(await netstat(["-S"], stack({ socks })), numeric);
});

// ---------------------------------------------------------------------------
// Routing tables

const ROUTES_N = "Routing tables\n" +
  "\n" +
  "Internet:\n" +
  "Destination        Gateway            Flags    Refs      Use    Mtu  Interface\n" +
  "default            192.0.2.1          UGS         0        0      -  en0\n" +
  "127.0.0.1          127.0.0.1          UH          1       12  33192  lo0\n" +
  "192.0.2/24         link#2             UC          1        0      -  en0\n" +
  "192.0.2.1          00:00:5e:00:53:01  UHLc        1        3      -  en0\n" +
  "\n" +
  "Internet6:\n" +
  "Destination                        Gateway                        Flags    Refs      Use    Mtu  Interface\n" +
  "::1                                ::1                            UH          1        0  33192  lo0\n" +
  "fe80::%lo0/64                      fe80::1%lo0                    U           0        0  33192  lo0\n" +
  "fe80::1%lo0                        link#1                         UHL         0        0      -  lo0\n" +
  "fe80::%en0/64                      link#2                         UC          0        0      -  en0\n" +
  "ff02::%lo0/32                      ::1                            U           0        0  33192  lo0\n";

Deno.test("netstat -rn prints the routing table", async () => {
  assertOk(await netstat(["-rn"]), ROUTES_N);
});

Deno.test("netstat -r names the loopback and cuts columns at 18", async () => {
  const expected = "Routing tables\n" +
    "\n" +
    "Internet:\n" +
    "Destination        Gateway            Flags    Refs      Use    Mtu  Interface\n" +
    "default            192.0.2.1          UGS         0        0      -  en0\n" +
    "localhost          localhost          UH          1       12  33192  lo0\n" +
    "192.0.2/24         link#2             UC          1        0      -  en0\n" +
    "192.0.2.1          00:00:5e:00:53:01  UHLc        1        3      -  en0\n" +
    "\n" +
    "Internet6:\n" +
    "Destination        Gateway            Flags    Refs      Use    Mtu  Interface\n" +
    "localhost          localhost          UH          1        0  33192  lo0\n" +
    "fe80::%lo0/64      fe80::1%lo0        U           0        0  33192  lo0\n" +
    "fe80::1%lo0        link#1             UHL         0        0      -  lo0\n" +
    "fe80::%en0/64      link#2             UC          0        0      -  en0\n" +
    "ff02::%lo0/32      localhost          U           0        0  33192  lo0\n";
  assertOk(await netstat(["-r"]), expected);
});

Deno.test("netstat -rn -f inet -L keeps the Internet block and hides link routes", async () => {
  const expected = ROUTES_N.split("\n\nInternet6:")[0].replace(/\n192\.0\.2\.1 .*$/, "\n");
  assertOk(await netstat(["-rnL", "-f", "inet"]), expected);
  assertOk(await netstat(["-rn", "-f", "arp"]), "Routing tables\n");
});

Deno.test("netstat -rn marks a route whose key repeats with =>", async () => {
  const routes = [
    route("inet", "10.0.0.0", 8, "192.0.2.9", UP | GATEWAY | STATIC),
    route("inet", "10.0.0.0", 24, "link#3", UP | CLONING, { ifname: "en1" }),
  ];
  const expected = "Routing tables\n" +
    "\n" +
    "Internet:\n" +
    "Destination        Gateway            Flags    Refs      Use    Mtu  Interface\n" +
    "10.0.0/24          link#3             UC          0        0      -  en1 =>\n" +
    "10/8               192.0.2.9          UGS         0        0      -  en0\n";
  assertOk(await netstat(["-rn"], stack({ inet6: false, routes })), expected);
});

Deno.test("netstat -r pads IPv6 without cutting under -n, cuts at 18 without", async () => {
  const routes = [
    route(
      "inet6",
      "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1",
      null,
      "2001:db8:aaaa:bbbb:cccc:dddd:eeee:fffe",
      UP | GATEWAY | HOST | STATIC,
    ),
  ];
  const head = "Routing tables\n" +
    "\n" +
    "Internet:\n" +
    "Destination        Gateway            Flags    Refs      Use    Mtu  Interface\n" +
    "\n" +
    "Internet6:\n";
  assertOk(
    await netstat(["-rn"], stack({ routes })),
    head +
      "Destination                        Gateway                        Flags    Refs      Use    Mtu  Interface\n" +
      "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1 2001:db8:aaaa:bbbb:cccc:dddd:eeee:fffe UGHS        0        0      -  en0\n",
  );
  assertOk(
    await netstat(["-r"], stack({ routes })),
    head +
      "Destination        Gateway            Flags    Refs      Use    Mtu  Interface\n" +
      "2001:db8:aaaa:bbbb 2001:db8:aaaa:bbbb UGHS        0        0      -  en0\n",
  );
});

Deno.test("netstat -rs prints the routing statistics", async () => {
  const stats = createProtoStats(true);
  stats.route.dynamic = 1;
  const expected = "routing:\n" +
    "\t0 bad routing redirects\n" +
    "\t1 dynamically created route\n" +
    "\t0 new gateways due to redirects\n" +
    "\t0 destinations found unreachable\n" +
    "\t0 uses of a wildcard route\n";
  assertOk(await netstat(["-rs"], stack({ stats })), expected);
});

// ---------------------------------------------------------------------------
// Interfaces

const IFACES_N =
  "Name  Mtu   Network       Address              Ipkts Ierrs    Opkts Oerrs Colls\n" +
  "lo0   33192 <Link>                                12     0       12     0     0\n" +
  "lo0   33192 127/8         127.0.0.1               12     0       12     0     0\n" +
  "lo0   33192 ::1/128       ::1                     12     0       12     0     0\n" +
  "lo0   33192 fe80::/64     fe80::1                 12     0       12     0     0\n" +
  "en0   1500  <Link>        00:11:22:33:44:55      120     1       98     2     0\n" +
  "en0   1500  192.0.2/24    192.0.2.2              120     1       98     2     0\n" +
  "en0   1500  2001:db8:1::/ 2001:db8:1::2          120     1       98     2     0\n" +
  "en0   1500  fe80::/64     fe80::211:22ff:fe      120     1       98     2     0\n" +
  "tun0* 1500  <Link>                                 0     0        0     0     0\n";

Deno.test("netstat -in lists one row per address, the <Link> row first", async () => {
  assertOk(await netstat(["-in"]), IFACES_N);
});

Deno.test("netstat -i names the loopback addresses", async () => {
  const expected = IFACES_N
    .replace("127/8         127.0.0.1        ", "127/8         localhost        ")
    .replace("::1/128       ::1", "localhost/128 ::1");
  assertOk(await netstat(["-i"]), expected);
});

Deno.test("netstat -ibdn prints bytes and drops", async () => {
  const expected = "Name  Mtu   Network       Address               Ibytes     Obytes Drops\n" +
    "lo0   33192 <Link>                                1008       1008     0\n" +
    "lo0   33192 127/8         127.0.0.1               1008       1008     0\n" +
    "lo0   33192 ::1/128       ::1                     1008       1008     0\n" +
    "lo0   33192 fe80::/64     fe80::1                 1008       1008     0\n" +
    "en0   1500  <Link>        00:11:22:33:44:55      14400       9800     3\n" +
    "en0   1500  192.0.2/24    192.0.2.2              14400       9800     3\n" +
    "en0   1500  2001:db8:1::/ 2001:db8:1::2          14400       9800     3\n" +
    "en0   1500  fe80::/64     fe80::211:22ff:fe      14400       9800     3\n" +
    "tun0* 1500  <Link>                                   0          0     0\n";
  assertOk(await netstat(["-ibdn"]), expected);
});

Deno.test("netstat -inv widens columns and shows link-local zones", async () => {
  const expected =
    "Name  Mtu   Network       Address              Ipkts Ierrs    Opkts Oerrs Colls\n" +
    "lo0   33192 <Link>                                12     0       12     0     0\n" +
    "lo0   33192 127/8         127.0.0.1               12     0       12     0     0\n" +
    "lo0   33192 ::1/128       ::1                     12     0       12     0     0\n" +
    "lo0   33192 fe80::%lo0/64 fe80::1%lo0             12     0       12     0     0\n" +
    "en0   1500  <Link>        00:11:22:33:44:55      120     1       98     2     0\n" +
    "en0   1500  192.0.2/24    192.0.2.2              120     1       98     2     0\n" +
    "en0   1500  2001:db8:1::/64 2001:db8:1::2          120     1       98     2     0\n" +
    "en0   1500  fe80::%en0/64 fe80::211:22ff:fe33:4455%en0      120     1       98     2     0\n" +
    "tun0* 1500  <Link>                                 0     0        0     0     0\n";
  assertOk(await netstat(["-inv"]), expected);
});

Deno.test("netstat -I en0 lists one interface; an unknown one is an error", async () => {
  const en0 = IFACES_N.split("\n").filter((l, i) => i === 0 || l.startsWith("en0 "));
  assertOk(await netstat(["-n", "-I", "en0"]), en0.join("\n") + "\n");
  assertFails(await netstat(["-I", "xx0"]), "netstat: xx0: unknown interface\n");
});

Deno.test("netstat -i -f inet lists that family's sockets, as NetBSD does", async () => {
  assertOk(await netstat(["-ian", "-f", "inet6"]), SOCKETS_ALL.split(/(?=Active Internet6)/)[1]);
});

// ---------------------------------------------------------------------------
// Protocol statistics

Deno.test("netstat -p ip prints every line, singular for 1", async () => {
  const stats = createProtoStats(true);
  stats.ip.total = 1;
  const expected = "ip:\n" +
    "\t1 total packet received\n" +
    "\t0 bad header checksums\n" +
    "\t0 with size smaller than minimum\n" +
    "\t0 with data size < data length\n" +
    "\t0 with length > max ip packet size\n" +
    "\t0 with header length < data size\n" +
    "\t0 with data length < header length\n" +
    "\t0 with bad options\n" +
    "\t0 with incorrect version number\n" +
    "\t0 fragments received\n" +
    "\t0 fragments dropped (dup or out of space)\n" +
    "\t0 fragments dropped (out of ipqent)\n" +
    "\t0 malformed fragments dropped\n" +
    "\t0 fragments dropped after timeout\n" +
    "\t0 packets reassembled ok\n" +
    "\t0 packets for this host\n" +
    "\t0 packets for unknown/unsupported protocol\n" +
    "\t0 packets forwarded (0 packets fast forwarded)\n" +
    "\t0 packets not forwardable\n" +
    "\t0 redirects sent\n" +
    "\t0 packets no matching gif found\n" +
    "\t0 packets sent from this host\n" +
    "\t0 packets sent with fabricated ip header\n" +
    "\t0 output packets dropped due to no bufs, etc.\n" +
    "\t0 output packets discarded due to no route\n" +
    "\t0 output datagrams fragmented\n" +
    "\t0 fragments created\n" +
    "\t0 datagrams that can't be fragmented\n" +
    "\t0 datagrams with bad address in header\n";
  assertOk(await netstat(["-p", "ip"], stack({ stats })), expected);
});

/** `netstat -p tcp` on a stack with no TCP traffic: NetBSD 4's tcp_stats() lines. */
const TCP_ZERO = "tcp:\n" +
  "\t0 packets sent\n" +
  "\t\t0 data packets (0 bytes)\n" +
  "\t\t0 data packets (0 bytes) retransmitted\n" +
  "\t\t0 ack-only packets (0 delayed)\n" +
  "\t\t0 URG only packets\n" +
  "\t\t0 window probe packets\n" +
  "\t\t0 window update packets\n" +
  "\t\t0 control packets\n" +
  "\t\t0 send attempts resulted in self-quench\n" +
  "\t0 packets received\n" +
  "\t\t0 acks (for 0 bytes)\n" +
  "\t\t0 duplicate acks\n" +
  "\t\t0 acks for unsent data\n" +
  "\t\t0 packets (0 bytes) received in-sequence\n" +
  "\t\t0 completely duplicate packets (0 bytes)\n" +
  "\t\t0 old duplicate packets\n" +
  "\t\t0 packets with some dup. data (0 bytes duped)\n" +
  "\t\t0 out-of-order packets (0 bytes)\n" +
  "\t\t0 packets (0 bytes) of data after window\n" +
  "\t\t0 window probes\n" +
  "\t\t0 window update packets\n" +
  "\t\t0 packets received after close\n" +
  "\t\t0 discarded for bad checksums\n" +
  "\t\t0 discarded for bad header offset fields\n" +
  "\t\t0 discarded because packet too short\n" +
  "\t0 connection requests\n" +
  "\t0 connection accepts\n" +
  "\t0 connections established (including accepts)\n" +
  "\t0 connections closed (including 0 drops)\n" +
  "\t0 embryonic connections dropped\n" +
  "\t0 delayed frees of tcpcb\n" +
  "\t0 segments updated rtt (of 0 attempts)\n" +
  "\t0 retransmit timeouts\n" +
  "\t\t0 connections dropped by rexmit timeout\n" +
  "\t0 persist timeouts (resulting in 0 dropped connections)\n" +
  "\t0 keepalive timeouts\n" +
  "\t\t0 keepalive probes sent\n" +
  "\t\t0 connections dropped by keepalive\n" +
  "\t0 correct ACK header predictions\n" +
  "\t0 correct data packet header predictions\n" +
  "\t0 PCB hash misses\n" +
  "\t0 dropped due to no socket\n" +
  "\t0 connections drained due to memory shortage\n" +
  "\t0 PMTUD blackholes detected\n" +
  "\t0 bad connection attempts\n" +
  "\t0 SYN cache entries added\n" +
  "\t\t0 hash collisions\n" +
  "\t\t0 completed\n" +
  "\t\t0 aborted (no space to build PCB)\n" +
  "\t\t0 timed out\n" +
  "\t\t0 dropped due to overflow\n" +
  "\t\t0 dropped due to bucket overflow\n" +
  "\t\t0 dropped due to RST\n" +
  "\t\t0 dropped due to ICMP unreachable\n" +
  "\t\t0 delayed free of SYN cache entries\n" +
  "\t0 SYN,ACKs retransmitted\n" +
  "\t0 duplicate SYNs received for entries already in the cache\n" +
  "\t0 SYNs dropped (no route or no space)\n" +
  "\t0 packets with bad signature\n" +
  "\t0 packets with good signature\n" +
  "\t0 sucessful ECN handshakes\n" +
  "\t0 packets with ECN CE bit\n" +
  "\t0 packets ECN ECT(0) bit\n";

Deno.test("netstat -p tcp prints NetBSD 4's tcp_stats() lines; later counters only when not 0", async () => {
  const stats = createProtoStats(false);
  assertOk(await netstat(["-p", "tcp"], stack({ stats })), TCP_ZERO);
  Object.assign(stats.tcp, {
    sndtotal: 5,
    sndpack: 1,
    sndbyte: 1,
    sndrexmitfast: 1,
    sack_recovery_episode: 2,
    sack_rexmits: 3,
    sack_rexmit_bytes: 4344,
    sack_rcv_blocks: 7,
    sack_sboverflow: 1,
    rcvbadrst: 1,
    challenge_ack: 4,
    challenge_ack_limited: 1,
  });
  const busy = TCP_ZERO
    .replace(
      "\t0 packets sent\n\t\t0 data packets (0 bytes)\n",
      "\t5 packets sent\n\t\t1 data packet (1 byte)\n",
    ) +
    "\t1 fast retransmitted packet\n" +
    "\t2 SACK recovery episodes\n" +
    "\t\t3 segment rexmits in SACK recovery episodes\n" +
    "\t\t4344 byte rexmits in SACK recovery episodes\n" +
    "\t7 SACK options (SACK blocks) received\n" +
    "\t1 SACK scoreboard overflow\n" +
    "\t1 RST in window but not at rcv_nxt (RFC 5961)\n" +
    "\t4 challenge ACKs sent\n" +
    "\t\t1 challenge ACK not sent (over ackdropppslimit)\n";
  assertOk(await netstat(["-p", "tcp"], stack({ stats })), busy);
  // -ss: only the non-zero lines, NetBSD's and the later ones alike.
  assertOk(
    await netstat(["-ss", "-p", "tcp"], stack({ stats })),
    "tcp:\n\t5 packets sent\n\t\t1 data packet (1 byte)\n" + busy.slice(busy.indexOf("\t1 fast")),
  );
});

function udpStats(): ProtoStats {
  const stats = createProtoStats(false);
  Object.assign(stats.udp, { ipackets: 10, hdrops: 1, noport: 2, noportbcast: 1 });
  Object.assign(stats.udp, { pcbhashmiss: 1, opackets: 1 });
  return stats;
}

Deno.test("netstat -p udp computes delivered; -ss hides the zero lines", async () => {
  const full = "udp:\n" +
    "\t10 datagrams received\n" +
    "\t1 with incomplete header\n" +
    "\t0 with bad data length field\n" +
    "\t0 with bad checksum\n" +
    "\t2 dropped due to no socket\n" +
    "\t1 broadcast/multicast datagram dropped due to no socket\n" +
    "\t0 dropped due to full socket buffers\n" +
    "\t6 delivered\n" +
    "\t1 PCB hash miss\n" +
    "\t1 datagram output\n";
  assertOk(await netstat(["-p", "udp"], stack({ stats: udpStats() })), full);
  assertOk(await netstat(["-p", "UDP"], stack({ stats: udpStats() })), full);
  const nonZero = full.split("\n").filter((l) => !l.startsWith("\t0 ")).join("\n");
  assertOk(await netstat(["-ss", "-p", "udp"], stack({ stats: udpStats() })), nonZero);
});

Deno.test("netstat -p icmp prints the histograms' non-zero entries", async () => {
  const stats = createProtoStats(true);
  Object.assign(stats.icmp, { error: 1, "outhist.0": 2, "outhist.3": 1, "inhist.8": 2 });
  const expected = "icmp:\n" +
    "\t1 call to icmp_error\n" +
    "\t0 errors not generated because old message was icmp\n" +
    "\tOutput histogram:\n" +
    "\t\techo reply: 2\n" +
    "\t\tdestination unreachable: 1\n" +
    "\t0 messages with bad code fields\n" +
    "\t0 messages < minimum length\n" +
    "\t0 bad checksums\n" +
    "\t0 messages with bad length\n" +
    "\tInput histogram:\n" +
    "\t\techo: 2\n" +
    "\t0 message responses generated\n" +
    "\t0 path MTU changes\n";
  assertOk(await netstat(["-p", "icmp"], stack({ stats })), expected);
});

Deno.test("netstat -ss -p igmp and -p ip keep NetBSD's quirks", async () => {
  const stats = createProtoStats(true);
  Object.assign(stats.igmp, { rcv_queries: 1, rcv_badqueries: 2 });
  stats.ip.fastforward = 3;
  const igmp = "igmp:\n" +
    "\t1 membership query received\n" +
    "\t2 membership queries received with invalid field(s)\n";
  assertOk(await netstat(["-ss", "-p", "igmp"], stack({ stats })), igmp);
  // With no plain forwards the fast-forward count prints with no line of its own.
  assertOk(await netstat(["-ssp", "ip"], stack({ stats })), "ip:\n (3 packets fast forwarded)");
});

Deno.test("netstat -s prints every counter set in NetBSD's order", async () => {
  const titles = (run: ToolRun) => run.stdout.split("\n").filter((l) => /^\w+:$/.test(l));
  const v6 = await netstat(["-s"]);
  assert.equal(v6.code, 0);
  const all = ["ip:", "icmp:", "igmp:", "tcp:", "udp:", "ip6:", "icmp6:", "udp6:", "arp:"];
  assert.deepEqual(titles(v6), all);
  assert.ok(v6.stdout.includes("\tMbuf statistics:\n\t\t0 one mbufs\n"));
  assert.ok(v6.stdout.includes("\tHistogram of error messages to be generated:\n"));
  assert.deepEqual(titles(await netstat(["-s"], stack({ inet6: false }))), [
    "ip:",
    "icmp:",
    "igmp:",
    "tcp:",
    "udp:",
    "arp:",
  ]);
  assert.deepEqual(titles(await netstat(["-s", "-f", "inet6"])), ["ip6:", "icmp6:", "udp6:"]);
  assertOk(
    await netstat(["-ss"]),
    "ip:\nicmp:\nigmp:\ntcp:\nudp:\nip6:\n" +
      "\tMbuf statistics:\nicmp6:\n\tHistogram of error messages to be generated:\nudp6:\narp:\n",
  );
});

Deno.test("netstat -p ip6 on a v4 stack prints nothing, as for a kernel without INET6", async () => {
  assertOk(await netstat(["-p", "ip6"], stack({ inet6: false })), "");
});

Deno.test("netstat -p ip6 names interfaces in the mbuf counters", async () => {
  const stats = createProtoStats(true);
  Object.assign(stats.ip6, { "m2m.2": 4, "sources_sameif.2": 1, "sources_otherif.3": 5 });
  const run = await netstat(["-ssp", "ip6"], stack({ stats }));
  assertOk(
    run,
    "ip6:\n" +
      "\tMbuf statistics:\n" +
      "\t\ttwo or more mbuf:\n" +
      "\t\t\ten0 = 4\n" +
      "\tsource addresses on an outgoing I/F\n" +
      "\t\t1 link-local\n" +
      "\tsource addresses on a non-outgoing I/F\n" +
      "\t\t5 addresses scope=3\n",
  );
});

// ---------------------------------------------------------------------------
// Errors and unsupported requests

Deno.test("netstat reports a stack that does not answer", async () => {
  const run = await netstat(["-rn"], null);
  assertFails(
    run,
    "netstat: socket: no stack answers at /x/dev/socket: " +
      "Address family not supported by protocol family\n",
  );
});

Deno.test("netstat rejects an unknown protocol, family or option", async () => {
  const proto = await netstat(["-p", "pim"]);
  assertFails(proto, "netstat: pim: unknown or uninstrumented protocol\n");
  assert.deepEqual(proto.requests, []);
  assertFails(
    await netstat(["-p", "constructor"]),
    "netstat: constructor: unknown or uninstrumented protocol\n",
  );
  assertFails(await netstat(["-f", "iso"]), "netstat: iso: unknown address family\n");
  assertFails(await netstat(["-f", "toString"]), "netstat: toString: unknown address family\n");
  assertOk(await netstat(["-T", "-p", "TCP", "-ss"]), "tcp:\n");
  const bad = await netstat(["-z"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^netstat: unknown option -- z\nusage: netstat \[-AanTv\]/);
});

Deno.test("netstat refuses what it cannot show instead of faking it", async () => {
  for (const letter of ["B", "g", "m", "q", "t"]) {
    assertFails(await netstat([`-${letter}`]), `netstat: -${letter}: not supported\n`);
  }
  assertFails(await netstat(["-w", "1"]), "netstat: -w: not supported\n");
  assertFails(await netstat(["-P", "c0ffee"]), "netstat: -P: not supported\n");
  assertFails(await netstat(["-i", "1"]), "netstat: 1: not supported\n");
  assertFails(
    await netstat(["-ia"]),
    "netstat: -a with -i (multicast memberships): not supported\n",
  );
  assertFails(await netstat(["-rv"]), "netstat: -v with -r (route metrics): not supported\n");
  assertFails(
    await netstat(["-rA"]),
    "netstat: -A with -r (route entry addresses): not supported\n",
  );
  assertFails(
    await netstat(["-i", "-p", "icmp6"]),
    "netstat: per-interface ip6/icmp6 statistics: not supported\n",
  );
});

Deno.test("netstat passes an error reply on as a message", async () => {
  const failing: FakeHandler = (req, emit) => {
    if (req.op === "routeList") throw new ErrnoError("EIO");
    return stack()(req, emit);
  };
  assertFails(await netstat(["-rn"], failing), "netstat: sysctl of routing table: I/O error\n");
});

// ---------------------------------------------------------------------------
// core/stats.ts

Deno.test("flattenProtoCounters() names array members name.N in NetBSD's order, IPv6 sets only on a v6 stack", () => {
  const counters = new ProtoCounters(true);
  const v6 = flattenProtoCounters(counters);
  const sizes = Object.fromEntries(
    Object.entries(v6).map(([p, set]) => [p, Object.keys(set).length]),
  );
  // NetBSD 4's structures: scalars plus histograms of 19 (ICMP), 256 (IPv6, ICMPv6), 32 and 16.
  assert.deepEqual(sizes, {
    ip: 30,
    icmp: 2 + 19 + 5 + 19 + 1,
    igmp: 9,
    tcp: 76 + 11, // and 11 counters NetBSD 4 lacks (SACK, RFC 5961)
    udp: 9,
    arp: 23,
    route: 5,
    ip6: 23 + 256 + 1 + 32 + 5 + 1 + 5 * 16 + 2,
    icmp6: 3 + 256 + 5 + 256 + 21,
    udp6: 9,
  });
  for (const set of Object.values(v6)) assert.ok(Object.values(set).every((n) => n === 0));
  assert.deepEqual(Object.keys(v6.icmp).slice(0, 4), [
    "error",
    "oldicmp",
    "outhist.0",
    "outhist.1",
  ]);
  assert.deepEqual(Object.keys(v6.icmp).slice(-3), ["inhist.17", "inhist.18", "pmtuchg"]);
  assert.deepEqual(Object.keys(v6.ip6).slice(23, 25), ["nxthist.0", "nxthist.1"]);
  assert.deepEqual(Object.keys(v6.ip6).slice(-2), ["forward_cachehit", "forward_cachemiss"]);

  counters.ip.total++;
  counters.icmp.inhist[8] += 2;
  counters.ip6.sources_sameif[14]++;
  const counted = flattenProtoCounters(counters);
  assert.deepEqual(
    [counted.ip.total, counted.icmp["inhist.8"], counted.ip6["sources_sameif.14"]],
    [1, 2, 1],
  );
  assert.equal(v6.ip.total, 0, "a flattened copy does not follow the counters");

  assert.deepEqual(Object.keys(flattenProtoCounters(new ProtoCounters(false))), [
    "ip",
    "icmp",
    "igmp",
    "tcp",
    "udp",
    "arp",
    "route",
  ]);
  assert.deepEqual(createProtoStats(false), flattenProtoCounters(new ProtoCounters(false)));
});
