/**
 * route against a fake stack: NetBSD route(8)'s grammar (classful defaults,
 * prefixes, masks, -interface), its result lines and error words, and the
 * get/show/flush output, compared whole.
 * @module
 */

import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import type {
  ControlRequest,
  IfInfo,
  IfStats,
  RouteGetInfo,
  RouteInfo,
} from "../../core/control/ops.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { RTF } from "../../core/net/route_flags.ts";
import { inetNetwork, makeNetAndMask, routeMain } from "../../tools/route.ts";
import { type FakeHandler, runFakeTool, type ToolRun } from "../kit/fake_tool.ts";

const STATS: IfStats = {
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
};

const EN0: IfInfo = {
  name: "en0",
  index: 2,
  flags: IFF.UP | IFF.BROADCAST | IFF.RUNNING,
  mtu: 1500,
  metric: 0,
  driver: "fake",
  stats: STATS,
  addrs: [
    { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" },
    { family: "inet6", addr: "2001:db8::2", prefixlen: 64, flags: [] },
  ],
};

function route(over: Partial<RouteInfo>): RouteInfo {
  return {
    family: "inet",
    dst: "0.0.0.0",
    prefixlen: 0,
    gateway: "192.0.2.1",
    flags: RTF.UP | RTF.GATEWAY | RTF.STATIC,
    refs: 0,
    use: 0,
    mtu: 0,
    ifname: "en0",
    ...over,
  };
}

const TABLE: RouteInfo[] = [
  route({ family: "inet6", dst: "::", prefixlen: 0, gateway: "fe80::1%en0" }),
  route({
    dst: "127.0.0.1",
    prefixlen: null,
    gateway: "127.0.0.1",
    flags: RTF.UP | RTF.HOST,
    ifname: "lo0",
  }),
  route({ dst: "192.0.2.0", prefixlen: 24, gateway: "link#2", flags: RTF.UP | RTF.CLONING }),
  route({}),
  route({
    dst: "192.0.2.9",
    prefixlen: null,
    gateway: "00:11:22:33:44:55",
    flags: RTF.UP | RTF.HOST | RTF.LLINFO,
  }),
  route({ family: "inet6", dst: "2001:db8::", prefixlen: 64, gateway: "link#2", flags: RTF.UP }),
  route({
    dst: "10.0.0.0",
    prefixlen: 8,
    gateway: "192.0.2.254",
    flags: RTF.UP | RTF.GATEWAY | RTF.STATIC | RTF.REJECT,
  }),
];

/** A stack that accepts route changes, or answers `errno` for them. */
function stack(errno?: ConstructorParameters<typeof ErrnoError>[0]): FakeHandler {
  return (req) => {
    switch (req.op) {
      case "routeAdd":
      case "routeChange":
      case "routeDelete":
        if (errno) throw new ErrnoError(errno);
        return route({});
      case "ifList":
        return [EN0];
      case "routeList":
        return TABLE;
      case "routeFlush":
        if (errno) throw new ErrnoError(errno);
        return TABLE.filter((r) => r.flags & RTF.GATEWAY);
      default:
        throw new ErrnoError("ENOSYS");
    }
  };
}

function run(args: string[], handler: FakeHandler | null = stack()): Promise<ToolRun> {
  return runFakeTool("route", routeMain, args, handler);
}

/** The one routeAdd/routeChange/routeDelete request a run made. */
function sent(r: ToolRun): ControlRequest {
  const changes = r.requests.filter((q) => q.op !== "ifList");
  assert.equal(changes.length, 1);
  return changes[0];
}

// ---------------------------------------------------------------------------
// add / change / delete

Deno.test("route add: the reference's multicast route (§8)", async () => {
  const r = await run(["add", "-net", "224.0.0.0/4", "192.0.2.1"]);
  assert.equal(r.stdout, "add net 224.0.0.0/4: gateway 192.0.2.1\n");
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  assert.deepEqual(sent(r), {
    op: "routeAdd",
    route: { family: "inet", dst: "224.0.0.0", prefixlen: 4, gateway: "192.0.2.1" },
  });
});

Deno.test("route add: classful rules pick net or host as route.c does", async () => {
  const cases: [string[], string, string, number | null][] = [
    [["add", "192.0.2.0", "198.51.100.1"], "add net 192.0.2.0", "192.0.2.0", 24],
    [["add", "10.1.0.0", "198.51.100.1"], "add host 10.1.0.0", "10.1.0.0", null],
    [["add", "-net", "10.1", "198.51.100.1"], "add net 10.1", "10.1.0.0", 16],
    [["add", "-net", "192.168", "198.51.100.1"], "add net 192.168", "192.168.0.0", 24],
    [["add", "-net", "10", "198.51.100.1"], "add net 10", "10.0.0.0", 8],
    [["add", "default", "198.51.100.1"], "add net default", "0.0.0.0", 0],
    [["add", "192.0.2.77/25", "198.51.100.1"], "add net 192.0.2.77/25", "192.0.2.0", 25],
    [["add", "198.51.100.7/32", "198.51.100.1"], "add host 198.51.100.7/32", "198.51.100.7", null],
    [["add", "-host", "192.0.2.0", "198.51.100.1"], "add host 192.0.2.0", "192.0.2.0", null],
    [
      ["add", "-net", "192.0.2.0", "-netmask", "255.255.255.128", "198.51.100.1"],
      "add net 192.0.2.0",
      "192.0.2.0",
      25,
    ],
    [
      ["add", "-net", "192.0.2.0", "198.51.100.1", "255.255.255.192"],
      "add net 192.0.2.0",
      "192.0.2.0",
      26,
    ],
    [
      ["add", "-net", "192.0.2.0", "-prefixlen", "28", "198.51.100.1"],
      "add net 192.0.2.0",
      "192.0.2.0",
      28,
    ],
  ];
  for (const [args, line, dst, prefixlen] of cases) {
    const r = await run(args);
    assert.equal(r.stdout, `${line}: gateway 198.51.100.1\n`, args.join(" "));
    const req = sent(r);
    assert.ok(req.op === "routeAdd");
    assert.equal(req.route.dst, dst, args.join(" "));
    assert.equal(req.route.prefixlen, prefixlen, args.join(" "));
  }
});

Deno.test("route add: -interface takes the interface's address or its name", async () => {
  const byAddr = await run(["add", "-net", "198.51.100.0/24", "-interface", "192.0.2.2"]);
  assert.equal(byAddr.stdout, "add net 198.51.100.0/24: gateway 192.0.2.2\n");
  assert.deepEqual(sent(byAddr), {
    op: "routeAdd",
    route: { family: "inet", dst: "198.51.100.0", prefixlen: 24, ifname: "en0" },
  });
  const byName = await run(["add", "default", "-iface", "en0"]);
  assert.deepEqual(sent(byName), {
    op: "routeAdd",
    route: { family: "inet", dst: "0.0.0.0", prefixlen: 0, ifname: "en0" },
  });
  const none = await run(["add", "-net", "198.51.100.0/24", "-interface", "192.0.2.99"]);
  assert.equal(none.stderr, "route: writing to routing socket: Network is unreachable\n");
  assert.equal(
    none.stdout,
    "add net 198.51.100.0/24: gateway 192.0.2.99: Network is unreachable\n",
  );
  assert.equal(none.code, 1);
});

Deno.test("route add: -reject, -blackhole, -mtu, -ifp and -static reach the request", async () => {
  const r = await run([
    "add",
    "-net",
    "203.0.113.0/24",
    "192.0.2.1",
    "-reject",
    "-blackhole",
    "-mtu",
    "1400",
    "-ifp",
    "en0",
    "-static",
  ]);
  assert.deepEqual(sent(r), {
    op: "routeAdd",
    route: {
      family: "inet",
      dst: "203.0.113.0",
      prefixlen: 24,
      gateway: "192.0.2.1",
      ifname: "en0",
      reject: true,
      blackhole: true,
      mtu: 1400,
    },
  });
});

Deno.test("route add: NetBSD's flag keywords reach the request as RTF marks", async () => {
  const r = await run([
    "add",
    "-net",
    "203.0.113.0/24",
    "192.0.2.1",
    "-cloning",
    "-llinfo",
    "-xresolve",
    "-proto1",
    "-proxy",
    "-nostatic",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "add net 203.0.113.0/24: gateway 192.0.2.1\n");
  assert.deepEqual(sent(r), {
    op: "routeAdd",
    route: {
      family: "inet",
      dst: "203.0.113.0",
      prefixlen: 24,
      gateway: "192.0.2.1",
      flags: RTF.CLONING | RTF.LLINFO | RTF.XRESOLVE | RTF.PROTO1 | RTF.PROTO2,
      nostatic: true,
    },
  });
  const p2 = await run(["add", "-host", "192.0.2.9", "192.0.2.1", "-proto2", "-static"]);
  assert.equal((sent(p2) as { route: { flags?: number } }).route.flags, RTF.PROTO2);
});

Deno.test("route add -link: a link-level gateway in link_addr(3) form, or with colons", async () => {
  const dotted = await run(["add", "-host", "192.0.2.9", "-link", "en0:2.0.0.0.0.9", "-iface"]);
  assert.equal(dotted.code, 0, dotted.stderr);
  assert.equal(dotted.stdout, "add host 192.0.2.9: gateway en0:2.0.0.0.0.9\n");
  assert.deepEqual(sent(dotted), {
    op: "routeAdd",
    route: {
      family: "inet",
      dst: "192.0.2.9",
      prefixlen: null,
      linkGateway: "02:00:00:00:00:09",
      ifname: "en0",
    },
  });
  const colons = await run([
    "add",
    "-host",
    "192.0.2.9",
    "-link",
    "02:00:00:00:00:09",
    "-ifp",
    "en0",
  ]);
  assert.deepEqual((sent(colons) as { route: unknown }).route, {
    family: "inet",
    dst: "192.0.2.9",
    prefixlen: null,
    linkGateway: "02:00:00:00:00:09",
    ifname: "en0",
  });
  const bad = await run(["add", "-host", "192.0.2.9", "-link", "en0:zz"]);
  assert.equal(bad.stderr, "route: en0:zz: bad value\n");
  assert.equal(bad.code, 1);
});

Deno.test("route: keywords its era does not have are botched, unsupported ones say so", async () => {
  const connected = await run(["add", "-net", "203.0.113.0/24", "192.0.2.1", "-connected"]);
  assert.equal(
    connected.stderr,
    "route: botched keyword: connected\nUsage: route [ -fnqvs ] cmd [[ -<qualifers> ] args ]\n",
  );
  assert.equal(connected.code, 1);
  const lock = await run(["add", "-net", "203.0.113.0/24", "192.0.2.1", "-lock"]);
  assert.equal(lock.stderr, "route: -lock: not supported\n");
  assert.equal(lock.code, 1);
  assert.deepEqual(lock.requests, []);
});

Deno.test("route: change and delete lines", async () => {
  const c = await run(["change", "default", "192.0.2.5"]);
  assert.equal(c.stdout, "change net default: gateway 192.0.2.5\n");
  assert.equal(sent(c).op, "routeChange");
  const d = await run(["delete", "-net", "10.0.0.0/8"]);
  assert.equal(d.stdout, "delete net 10.0.0.0/8\n");
  assert.deepEqual(sent(d), { op: "routeDelete", family: "inet", dst: "10.0.0.0", prefixlen: 8 });
  const h = await run(["delete", "192.0.2.9", "192.0.2.1"]);
  assert.equal(h.stdout, "delete host 192.0.2.9: gateway 192.0.2.1\n");
});

Deno.test("route: the routing socket's words for failures, on both streams", async () => {
  const cases: [ConstructorParameters<typeof ErrnoError>[0], string[], string, string][] = [
    [
      "EEXIST",
      ["add", "default", "192.0.2.1"],
      "add net default: gateway 192.0.2.1",
      "File exists",
    ],
    ["ESRCH", ["delete", "default"], "delete net default", "not in table"],
    ["EBUSY", ["delete", "192.0.2.0"], "delete net 192.0.2.0", "entry in use"],
    [
      "ENOBUFS",
      ["add", "-host", "192.0.2.3", "192.0.2.1"],
      "add host 192.0.2.3: gateway 192.0.2.1",
      "routing table overflow",
    ],
    [
      "ENETUNREACH",
      ["add", "default", "203.0.113.1"],
      "add net default: gateway 203.0.113.1",
      "Network is unreachable",
    ],
  ];
  for (const [errno, args, line, words] of cases) {
    const r = await run(args, stack(errno));
    assert.equal(r.stderr, `route: writing to routing socket: ${words}\n`);
    assert.equal(r.stdout, `${line}: ${words}\n`);
    assert.equal(r.code, 1);
  }
});

Deno.test("route -q: nothing on stdout, errors still on stderr", async () => {
  const ok = await run(["-q", "add", "default", "192.0.2.1"]);
  assert.equal(ok.stdout, "");
  assert.equal(ok.code, 0);
  const bad = await run(["-q", "delete", "default"], stack("ESRCH"));
  assert.equal(bad.stdout, "");
  assert.equal(bad.stderr, "route: writing to routing socket: not in table\n");
  assert.equal(bad.code, 1);
});

Deno.test("route: inet6 destinations: /0 and /64 defaults, hosts, prefixlen, zones", async () => {
  const cases: [string[], string, number | null, string][] = [
    [["add", "-inet6", "default", "fe80::1%en0"], "::", 0, "add net default: gateway fe80::1%en0"],
    [
      ["add", "-inet6", "2001:db8:1::", "2001:db8::1"],
      "2001:db8:1::",
      64,
      "add net 2001:db8:1::: gateway 2001:db8::1",
    ],
    [
      ["add", "-inet6", "2001:db8::5", "2001:db8::1"],
      "2001:db8::5",
      null,
      "add host 2001:db8::5: gateway 2001:db8::1",
    ],
    [
      ["add", "-inet6", "2001:db8:ff::1/48", "2001:db8::1"],
      "2001:db8:ff::",
      48,
      "add net 2001:db8:ff::1/48: gateway 2001:db8::1",
    ],
    [
      ["add", "-inet6", "2001:db8:2::", "-prefixlen", "56", "2001:db8::1"],
      "2001:db8:2::",
      56,
      "add net 2001:db8:2::: gateway 2001:db8::1",
    ],
  ];
  for (const [args, dst, prefixlen, line] of cases) {
    const r = await run(args);
    assert.equal(r.stdout, `${line}\n`, args.join(" "));
    const req = sent(r);
    assert.ok(req.op === "routeAdd");
    assert.equal(req.route.family, "inet6");
    assert.equal(req.route.dst, dst);
    assert.equal(req.route.prefixlen, prefixlen);
  }
});

Deno.test("route: grammar errors, exit 1", async () => {
  const usage = "Usage: route [ -fnqvs ] cmd [[ -<qualifers> ] args ]\n";
  const cases: [string[], string][] = [
    [[], usage],
    [["frob"], "route: botched keyword: frob\n" + usage],
    [["-x", "show"], "route: unknown option -- x\n" + usage],
    [["add", "default", "192.0.2.1", "-bogus"], "route: botched keyword: bogus\n" + usage],
    [["add", "-net", "10.0.0.0/8", "-netmask"], "route: botched keyword: netmask\n" + usage],
    [["add", "default"], "route: missing gateway specification\n"],
    [["delete"], "route: missing destination specification\n"],
    [["add", "-host", "-net", "192.0.2.0", "192.0.2.1"], "route: -host and -net conflict\n"],
    [["add", "gateway.example", "192.0.2.1"], "route: gateway.example: bad value\n"],
    [["add", "default", "router.example"], "route: router.example: bad value\n"],
    [["add", "10.0.0.0/40", "192.0.2.1"], "route: 40: bad value\n"],
    [
      ["add", "-net", "10.0.0.0", "-netmask", "255.0.255.0", "192.0.2.1"],
      "route: 255.0.255.0: non-contiguous netmask: not supported\n",
    ],
    [["add", "default", "192.0.2.1", "-hopcount", "3"], "route: -hopcount: not supported\n"],
    [["-v", "show"], "route: -v: not supported\n"],
    [["monitor"], "route: monitor: not supported\n"],
    [["show", "extra"], "route: botched keyword: extra\n" + usage],
  ];
  for (const [args, stderr] of cases) {
    const r = await run(args);
    assert.equal(r.stderr, stderr, args.join(" "));
    assert.equal(r.code, 1, args.join(" "));
    assert.equal(r.requests.filter((q) => q.op !== "ifList").length, 0);
  }
});

Deno.test("route: old trailing-digit forms warn (unless -q) and pick the route type", async () => {
  const r = await run(["add", "-net", "198.51.100.0/24", "192.0.2.2", "0"]);
  assert.equal(r.stderr, "route: old usage of trailing 0, assuming route to if\n");
  assert.deepEqual(sent(r), {
    op: "routeAdd",
    route: { family: "inet", dst: "198.51.100.0", prefixlen: 24, ifname: "en0" },
  });
  const q = await run(["-q", "add", "-net", "198.51.100.0/24", "192.0.2.2", "1"]);
  assert.equal(q.stderr, "");
});

Deno.test("route: no stack answers: socket error, exit 1", async () => {
  const r = await run(["show"], null);
  assert.equal(r.stderr, "route: socket: Address family not supported by protocol family\n");
  assert.equal(r.code, 1);
});

Deno.test("route -d: nothing is sent, the line still prints", async () => {
  const r = await run(["-d", "add", "default", "192.0.2.1"]);
  assert.equal(r.stdout, "add net default: gateway 192.0.2.1\n");
  assert.equal(r.requests.length, 0);
});

// ---------------------------------------------------------------------------
// get

function getter(info: RouteGetInfo | ErrnoError): FakeHandler {
  return (req) => {
    if (req.op !== "routeGet") throw new ErrnoError("ENOSYS");
    if (info instanceof ErrnoError) throw info;
    return info;
  };
}

const HEADER = " recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire\n";
const ROW0 = "       0         0         0         0         0         0         0         0 \n";

Deno.test("route get default: print_getmsg()'s block", async () => {
  const r = await run(
    ["get", "default"],
    getter({ route: route({}), mask: "0.0.0.0", ifaddr: "192.0.2.2" }),
  );
  assert.equal(
    r.stdout,
    "   route to: default\n" +
      "destination: default\n" +
      "       mask: default\n" +
      "    gateway: 192.0.2.1\n" +
      " local addr: 192.0.2.2\n" +
      "  interface: en0\n" +
      "      flags: <UP,GATEWAY,DONE,STATIC>\n" +
      HEADER + ROW0,
  );
  assert.deepEqual(r.requests, [{ op: "routeGet", family: "inet", dst: "0.0.0.0" }]);
  assert.equal(r.code, 0);
});

Deno.test("route get: a connected network, its mask and the route MTU", async () => {
  const info: RouteGetInfo = {
    route: route({
      dst: "192.0.2.0",
      prefixlen: 24,
      gateway: "link#2",
      flags: RTF.UP | RTF.CLONING,
      mtu: 1500,
    }),
    mask: "255.255.255.0",
    ifaddr: "192.0.2.2",
  };
  const r = await run(["get", "192.0.2.77"], getter(info));
  assert.equal(
    r.stdout,
    "   route to: 192.0.2.77\n" +
      "destination: 192.0.2.0\n" +
      "       mask: 255.255.255.0\n" +
      " local addr: 192.0.2.2\n" +
      "  interface: en0\n" +
      "      flags: <UP,DONE,CLONING>\n" +
      HEADER +
      "       0         0         0         0         0         0      1500         0 \n",
  );
});

Deno.test("route get: a host route has no mask line; localhost unless -n", async () => {
  const info: RouteGetInfo = {
    route: route({
      dst: "127.0.0.1",
      prefixlen: null,
      gateway: "127.0.0.1",
      flags: RTF.UP | RTF.HOST,
      ifname: "lo0",
    }),
    ifaddr: "127.0.0.1",
  };
  const named = await run(["get", "127.0.0.1"], getter(info));
  assert.equal(
    named.stdout,
    "   route to: localhost\n" +
      "destination: localhost\n" +
      " local addr: localhost\n" +
      "  interface: lo0\n" +
      "      flags: <UP,HOST,DONE>\n" +
      HEADER + ROW0,
  );
  const numeric = await run(["-n", "get", "127.0.0.1"], getter(info));
  assert.match(numeric.stdout, /^ {3}route to: 127\.0\.0\.1\ndestination: 127\.0\.0\.1\n/);
});

Deno.test("route get: inet6 and -s; a missing route", async () => {
  const info: RouteGetInfo = {
    route: route({ family: "inet6", dst: "::", prefixlen: 0, gateway: "fe80::1%en0" }),
    ifaddr: "2001:db8::2",
  };
  const r = await run(["get", "-inet6", "2001:db8:5::1"], getter(info));
  assert.equal(
    r.stdout,
    "   route to: 2001:db8:5::1\n" +
      "destination: default\n" +
      "       mask: default\n" +
      "    gateway: fe80::1%en0\n" +
      " local addr: 2001:db8::2\n" +
      "  interface: en0\n" +
      "      flags: <UP,GATEWAY,DONE,STATIC>\n" +
      HEADER + ROW0,
  );
  const s = await run(["-s", "get", "-inet6", "2001:db8:5::1"], getter(info));
  assert.equal(s.stdout, "fe80::1%en0\n");
  const none = await run(["get", "203.0.113.5"], getter(new ErrnoError("ESRCH")));
  assert.equal(none.stdout, "");
  assert.equal(none.stderr, "route: writing to routing socket: not in table\n");
  assert.equal(none.code, 1);
});

// ---------------------------------------------------------------------------
// show and flush

Deno.test("route show: show.c's table in radix order", async () => {
  const r = await run(["show"]);
  assert.equal(
    r.stdout,
    "Routing tables\n" +
      "\n" +
      "Internet:\n" +
      "Destination        Gateway            Flags \n" +
      "default            192.0.2.1          UG     \n" +
      "10.0.0.0/8         192.0.2.254        UGR    \n" +
      "localhost          localhost          UH     \n" +
      "192.0.2.0/24       link#2             U      \n" +
      "192.0.2.9          00:11:22:33:44:55  UHL    \n" +
      "\n" +
      "Internet6:\n" +
      "Destination        Gateway            Flags \n" +
      "default            fe80::1%en0        UG     \n" +
      "2001:db8::/64      link#2             U      \n",
  );
  assert.equal(r.code, 0);
});

Deno.test("route -n show -inet6: one family, wide numeric columns", async () => {
  const r = await run(["-n", "show", "-inet6"]);
  assert.equal(
    r.stdout,
    "Routing table\n" +
      "\n" +
      "Internet6:\n" +
      `${"Destination".padEnd(34)} ${"Gateway".padEnd(30)} Flags \n` +
      `${"default".padEnd(34)} ${"fe80::1%en0".padEnd(30)} UG     \n` +
      `${"2001:db8::/64".padEnd(34)} ${"link#2".padEnd(30)} U      \n`,
  );
});

Deno.test("route show: a table the stack cannot list", async () => {
  const r = await run(["show"], () => {
    throw new ErrnoError("ENOSYS");
  });
  assert.equal(r.stderr, "route: route-sysctl-estimate: Function not implemented\n");
  assert.equal(r.code, 1);
});

Deno.test("route flush: one done line per deleted route", async () => {
  const r = await run(["flush"]);
  assert.equal(
    r.stdout,
    "default              192.0.2.1            done\n" +
      "10.0.0.0/8           192.0.2.254          done\n" +
      "default              fe80::1%en0          done\n",
  );
  assert.deepEqual(r.requests, [{ op: "routeFlush" }]);
  const inet = await run(["flush", "-inet"]);
  assert.deepEqual(inet.requests, [{ op: "routeFlush", family: "inet" }]);
  const quiet = await run(["-q", "flush"]);
  assert.equal(quiet.stdout, "");
  const bad = await run(["flush"], stack("EPERM"));
  assert.equal(bad.stderr, "route: writing to routing socket: Operation not permitted\n");
  assert.equal(bad.code, 1);
});

Deno.test("route -f add: flushes first, then adds", async () => {
  const r = await run(["-f", "add", "default", "192.0.2.1"]);
  assert.deepEqual(r.requests.map((q) => q.op), ["routeFlush", "routeAdd"]);
  assert.match(r.stdout, /done\nadd net default: gateway 192\.0\.2\.1\n$/);
  const alone = await run(["-f"]);
  assert.deepEqual(alone.requests.map((q) => q.op), ["routeFlush"]);
});

Deno.test("inetNetwork and makeNetAndMask follow libc and route.c", () => {
  assert.equal(inetNetwork("10"), 10);
  assert.equal(inetNetwork("192.168"), 0xc0a8);
  assert.equal(inetNetwork("0x0a.1"), 0x0a01);
  assert.equal(inetNetwork("1.2.3.4.5"), null);
  assert.equal(inetNetwork("256"), null);
  assert.deepEqual(makeNetAndMask(10), { addr: 0x0a000000, len: 8 });
  assert.deepEqual(makeNetAndMask(130), { addr: 0x82000000, len: 16 });
  assert.deepEqual(makeNetAndMask(0xc0a8), { addr: 0xc0a80000, len: 24 });
  assert.deepEqual(makeNetAndMask(0xc0000201), { addr: 0xc0000201, len: 32 });
});
