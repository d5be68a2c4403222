/**
 * sysctl: NetBSD's grammar, messages and exit codes, against a fake stack backed
 * by a real SysctlTree.
 * @module
 */

import assert from "node:assert/strict";
import { ErrnoError, isErrno } from "../../core/errno.ts";
import type { ControlRequest } from "../../core/control/ops.ts";
import { SysctlTree } from "../../core/sysctl.ts";
import { sysctlMain, type SysctlMainOptions } from "../../tools/sysctl.ts";
import { runFakeTool, type ToolRun } from "../kit/fake_tool.ts";

/** A stack answering sysctl requests from `tree`, as the daemon does. */
function stack(tree: SysctlTree) {
  return (req: ControlRequest): unknown => {
    if (req.op === "sysctlList") return tree.list();
    if (req.op === "sysctlSet") return tree.set(req.name, req.value);
    throw new ErrnoError("ENOSYS", req.op);
  };
}

/** Runs sysctl against a fresh v4 (or v6) tree. */
function sysctl(
  args: string[],
  opts: { inet6?: boolean; tree?: SysctlTree; files?: Record<string, string> } = {},
): Promise<ToolRun> {
  const tree = opts.tree ?? new SysctlTree({ inet6: opts.inet6 ?? false });
  const files = opts.files ?? {};
  const options: SysctlMainOptions = {
    readTextFile: (path) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Deno.errors.NotFound(path)),
  };
  return runFakeTool("sysctl", (a, ctx) => sysctlMain(a, ctx, options), args, stack(tree));
}

/** Asserts a run's whole result. */
function expect(r: ToolRun, code: number, stdout: string, stderr = ""): void {
  assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code, stdout, stderr });
}

const USAGE = "usage:\tsysctl [-dne] [-x[x]|-r] variable ...\n" +
  "\tsysctl [-ne] [-q] -w variable=value ...\n" +
  "\tsysctl [-dne] -a\n" +
  "\tsysctl [-dne] -A\n" +
  "\tsysctl [-ne] -M\n" +
  "\tsysctl [-dne] [-q] -f file\n";

/** `sysctl -a` on a default v4 stack, in io-pkt's order. */
const V4_ALL = [
  "kern.ostype = QNX",
  "kern.osrelease = 7.1.0",
  "kern.hostname = localhost",
  "kern.domainname = ",
  "kern.mbuf.msize = 256",
  "kern.mbuf.mclbytes = 2048",
  "kern.mbuf.nmbclusters = 8192",
  "kern.mbuf.mblowat = 16",
  "kern.mbuf.mcllowat = 8",
  "kern.sbmax = 262144",
  "kern.somaxkva = 16777216",
  "net.inet.ip.forwarding = 0",
  "net.inet.ip.redirect = 1",
  "net.inet.ip.ttl = 64",
  "net.inet.ip.mtu = 0",
  "net.inet.ip.forwsrcrt = 0",
  "net.inet.ip.directed-broadcast = 0",
  "net.inet.ip.allowsrcrt = 0",
  "net.inet.ip.subnetsarelocal = 1",
  "net.inet.ip.mtudisc = 1",
  "net.inet.ip.anonportmin = 49152",
  "net.inet.ip.anonportmax = 65535",
  "net.inet.ip.mtudisctimeout = 600",
  "net.inet.ip.maxflows = 256",
  "net.inet.ip.hostzerobroadcast = 1",
  "net.inet.ip.lowportmin = 600",
  "net.inet.ip.lowportmax = 1023",
  "net.inet.ip.maxfragpackets = 200",
  "net.inet.ip.checkinterface = 0",
  "net.inet.ip.ifq.len = 0",
  "net.inet.ip.ifq.maxlen = 256",
  "net.inet.ip.ifq.peak = 0",
  "net.inet.ip.ifq.drops = 0",
  "net.inet.ip.random_id = 0",
  "net.inet.ip.do_loopback_cksum = 0",
  "net.inet.ip.bindinterface = 0",
  "net.inet.ip.dad_count = 0",
  "net.inet.icmp.maskrepl = 0",
  "net.inet.icmp.returndatabytes = 8",
  "net.inet.icmp.errppslimit = 100",
  "net.inet.icmp.rediraccept = 1",
  "net.inet.icmp.redirtimeout = 600",
  "net.inet.icmp.tstamprepl = 1",
  "net.inet.icmp.bmcastecho = 0",
  "net.inet.tcp.rfc1323 = 1",
  "net.inet.tcp.sendspace = 22528",
  "net.inet.tcp.recvspace = 32768",
  "net.inet.tcp.mssdflt = 536",
  "net.inet.tcp.syn_cache_limit = 10255",
  "net.inet.tcp.syn_bucket_limit = 105",
  "net.inet.tcp.init_win = 0",
  "net.inet.tcp.mss_ifmtu = 0",
  "net.inet.tcp.sack.enable = 1",
  "net.inet.tcp.sack.maxholes = 32",
  "net.inet.tcp.sack.globalmaxholes = 1024",
  "net.inet.tcp.sack.globalholes = 0",
  "net.inet.tcp.win_scale = 1",
  "net.inet.tcp.timestamps = 1",
  "net.inet.tcp.compat_42 = 1",
  "net.inet.tcp.cwm = 0",
  "net.inet.tcp.ack_on_push = 0",
  "net.inet.tcp.keepidle = 14400",
  "net.inet.tcp.keepintvl = 150",
  "net.inet.tcp.keepcnt = 8",
  "net.inet.tcp.slowhz = 2",
  "net.inet.tcp.log_refused = 0",
  "net.inet.tcp.init_win_local = 4",
  "net.inet.tcp.rstppslimit = 100",
  "net.inet.tcp.delack_ticks = 0",
  "net.inet.tcp.hiwat_adjust = 1",
  "net.inet.tcp.do_loopback_cksum = 0",
  "net.inet.tcp.drop_synfin = 0",
  "net.inet.tcp.recvbuf_auto = 1",
  "net.inet.tcp.recvbuf_inc = 16384",
  "net.inet.tcp.recvbuf_max = 4194304",
  "net.inet.tcp.sendbuf_auto = 1",
  "net.inet.tcp.sendbuf_inc = 8192",
  "net.inet.tcp.sendbuf_max = 4194304",
  "net.inet.tcp.ecn.enable = 0",
  "net.inet.tcp.ecn.maxretries = 1",
  "net.inet.tcp.iss_hash = 0",
  "net.inet.tcp.abc.enable = 1",
  "net.inet.tcp.abc.aggressive = 1",
  "net.inet.tcp.congctl.available = newreno cubic",
  "net.inet.tcp.congctl.selected = cubic",
  "net.inet.tcp.keepinit = 150",
  "net.inet.tcp.msl = 30",
  "net.inet.tcp.ackdropppslimit = 100",
  "net.inet.udp.checksum = 1",
  "net.inet.udp.sendspace = 9216",
  "net.inet.udp.recvspace = 41600",
  "net.inet.udp.do_loopback_cksum = 0",
  "net.inet.arp.prune = 300",
  "net.inet.arp.keep = 1200",
  "net.inet.arp.down = 20",
  "net.inet.arp.refresh = 300",
  "net.inet.arp.maxtries = 5",
  "net.bpf.maxbufsize = 1048576",
  "qnx.net.inet.tcp.hiwat_adjust = 1",
  "qnx.net.inet.tcp.qnx_delack = 1",
  "qnx.net.inet.tcp.rto = 0",
  "qnx.net.inet.tcp.rto_limit = 0",
  "qnx.net.inet.tcp.rto_final_timeout = 0",
  "qnx.kern.enmap = 0",
  "qnx.kern.callout_dbg = 0",
  "qnx.kern.droproot = 0",
].map((l) => l + "\n").join("");

const grep = (text: string, word: string) =>
  text.split("\n").filter((l) => l.includes(word)).join("\n");

Deno.test("sysctl -a prints every value of a v4 stack in MIB order, one request", async () => {
  const r = await sysctl(["-a"]);
  expect(r, 0, V4_ALL);
  assert.deepEqual(r.requests, [{ op: "sysctlList" }]);
});

Deno.test("sysctl -a | grep do_loopback_cksum gives the ip, tcp and udp lines", async () => {
  const want = "net.inet.ip.do_loopback_cksum = 0\n" +
    "net.inet.tcp.do_loopback_cksum = 0\n" +
    "net.inet.udp.do_loopback_cksum = 0";
  for (const inet6 of [false, true]) {
    const r = await sysctl(["-a"], { inet6 });
    assert.equal(r.code, 0);
    // On v6 the udp6 alias of the udp variable is skipped while walking the tree.
    assert.equal(grep(r.stdout, "do_loopback_cksum"), want, `inet6=${inet6}`);
  }
});

Deno.test("sysctl -a on a v6 stack adds net.inet6 after net.inet", async () => {
  const r = await sysctl(["-a"], { inet6: true });
  const lines = r.stdout.split("\n");
  assert.deepEqual(lines.filter((l) => l.startsWith("net.inet6.udp6")), []);
  assert.deepEqual(lines.filter((l) => l.startsWith("net.inet6.ip6")).slice(0, 3), [
    "net.inet6.ip6.forwarding = 0",
    "net.inet6.ip6.redirect = 1",
    "net.inet6.ip6.hlim = 64",
  ]);
  assert.ok(
    lines.indexOf("net.inet.arp.maxtries = 5") < lines.indexOf("net.inet6.ip6.forwarding = 0"),
  );
  assert.ok(
    lines.indexOf("net.inet6.icmp6.nd6_debug = 0") < lines.indexOf("net.bpf.maxbufsize = 1048576"),
  );
});

Deno.test("sysctl -w prints old -> new", async () => {
  const tree = new SysctlTree({ inet6: false });
  const r = await sysctl(["-w", "net.inet.ip.forwarding=1"], { tree });
  expect(r, 0, "net.inet.ip.forwarding: 0 -> 1\n");
  assert.deepEqual(r.requests, [
    { op: "sysctlList" },
    { op: "sysctlSet", name: "net.inet.ip.forwarding", value: "1" },
  ]);
  assert.equal(tree.int("net.inet.ip.forwarding"), 1);
});

Deno.test("sysctl -w sets several names, hex and strings too", async () => {
  const tree = new SysctlTree({ inet6: false });
  const r = await sysctl(
    ["-w", "kern.sbmax=2949120", "net.inet.tcp.recvspace=0x1f5e0", "kern.domainname=qnx.example"],
    { tree },
  );
  expect(
    r,
    0,
    "kern.sbmax: 262144 -> 2949120\n" +
      "net.inet.tcp.recvspace: 32768 -> 128480\n" +
      "kern.domainname:  -> qnx.example\n",
  );
  assert.equal(tree.int("net.inet.tcp.recvspace"), 128480);
});

Deno.test("sysctl -w then a read of the same variable sees the new value", async () => {
  const r = await sysctl(
    ["-w", "net.inet6.udp6.do_loopback_cksum=1", "net.inet.udp.do_loopback_cksum"],
    { inet6: true },
  );
  expect(r, 0, "net.inet6.udp6.do_loopback_cksum: 0 -> 1\nnet.inet.udp.do_loopback_cksum = 1\n");
});

Deno.test("sysctl name=value without -w says Must specify -w to set variables", async () => {
  const r = await sysctl(["net.inet.ip.forwarding=1"]);
  expect(r, 1, "", "sysctl: Must specify -w to set variables\n");
  assert.deepEqual(r.requests, [{ op: "sysctlList" }]);
});

Deno.test("sysctl names the level of an unknown name", async () => {
  const cases: [string, string][] = [
    ["foo", "top level name 'foo' in 'foo' is invalid"],
    ["net.foo", "second level name 'foo' in 'net.foo' is invalid"],
    ["net.inet.foo", "third level name 'foo' in 'net.inet.foo' is invalid"],
    ["net.inet.ip.foo", "fourth level name 'foo' in 'net.inet.ip.foo' is invalid"],
    ["net.inet.ip.ttl.foo", "fifth level name 'foo' in 'net.inet.ip.ttl.foo' is invalid"],
    ["net.inet.foo=1", "third level name 'foo' in 'net.inet.foo' is invalid"],
    ["", "top level name '' in '' is invalid"],
  ];
  for (const [arg, msg] of cases) expect(await sysctl(["-w", arg]), 1, "", `sysctl: ${msg}\n`);
});

Deno.test("sysctl stops at the first unknown name", async () => {
  const r = await sysctl(["net.inet.ip.ttl", "net.inet.foo", "net.inet.ip.mtu"]);
  expect(
    r,
    1,
    "net.inet.ip.ttl = 64\n",
    "sysctl: third level name 'foo' in 'net.inet.foo' is invalid\n",
  );
});

Deno.test("sysctl on a v4 stack has no net.inet6", async () => {
  const r = await sysctl(["net.inet6.ip6.forwarding"]);
  expect(r, 1, "", "sysctl: second level name 'inet6' in 'net.inet6.ip6.forwarding' is invalid\n");
});

Deno.test("sysctl name reads name = value; -n value only; -e name=value", async () => {
  expect(
    await sysctl(["net.inet.ip.ttl", "kern.ostype"]),
    0,
    "net.inet.ip.ttl = 64\nkern.ostype = QNX\n",
  );
  expect(await sysctl(["-n", "net.inet.ip.ttl", "kern.ostype"]), 0, "64\nQNX\n");
  expect(await sysctl(["-e", "net.inet.ip.ttl"]), 0, "net.inet.ip.ttl=64\n");
  expect(await sysctl(["-nw", "net.inet.ip.ttl=32"]), 0, "32\n");
  expect(await sysctl(["-ew", "net.inet.ip.ttl=32"]), 0, "net.inet.ip.ttl: 64 -> 32\n");
});

Deno.test("sysctl of a node prints every leaf under it", async () => {
  expect(
    await sysctl(["net.inet.ip.ifq"]),
    0,
    "net.inet.ip.ifq.len = 0\nnet.inet.ip.ifq.maxlen = 256\n" +
      "net.inet.ip.ifq.peak = 0\nnet.inet.ip.ifq.drops = 0\n",
  );
  expect(
    await sysctl(["net.inet.arp", "net/inet/icmp/maskrepl"]),
    0,
    "net.inet.arp.prune = 300\nnet.inet.arp.keep = 1200\nnet.inet.arp.down = 20\n" +
      "net.inet.arp.refresh = 300\nnet.inet.arp.maxtries = 5\nnet/inet/icmp/maskrepl = 0\n",
  );
});

Deno.test("sysctl of a node skips its tables; a table by name points at netstat", async () => {
  const r = await sysctl(["net.inet.udp"]);
  expect(
    r,
    0,
    "net.inet.udp.checksum = 1\nnet.inet.udp.sendspace = 9216\n" +
      "net.inet.udp.recvspace = 41600\nnet.inet.udp.do_loopback_cksum = 0\n",
  );
  expect(
    await sysctl(["net.inet.tcp.stats", "net.bpf.peers"]),
    0,
    "",
    "net.inet.tcp.stats: use 'netstat' to view this information\n" +
      "net.bpf.peers: use 'netstat' to view this information\n",
  );
  expect(
    await sysctl(["kern.mbuf.stats"]),
    0,
    "",
    "kern.mbuf.stats: this type is unknown to this program\n",
  );
});

Deno.test("sysctl -A prints the tables' hints on stdout in tree order", async () => {
  const r = await sysctl(["-A"]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  assert.equal(
    grep(r.stdout, "net.inet.udp"),
    "net.inet.udp.checksum = 1\nnet.inet.udp.sendspace = 9216\n" +
      "net.inet.udp.recvspace = 41600\nnet.inet.udp.do_loopback_cksum = 0\n" +
      "net.inet.udp.stats: use 'netstat' to view this information\n" +
      "net.inet.udp.pcblist: use 'netstat' to view this information",
  );
  assert.equal(
    grep(r.stdout, "mbuf.stats"),
    "kern.mbuf.stats: this type is unknown to this program",
  );
});

Deno.test("sysctl -A on v6 still skips the udp6 alias; naming it reads it", async () => {
  const r = await sysctl(["-A"], { inet6: true });
  assert.equal(
    grep(r.stdout, "udp6"),
    "net.inet6.udp6.stats: use 'netstat' to view this information\n" +
      "net.inet6.udp6.pcblist: use 'netstat' to view this information",
  );
  assert.equal(
    grep(r.stdout, "nd6_drlist"),
    "net.inet6.icmp6.nd6_drlist: use 'ndp' to view this information",
  );
  expect(
    await sysctl(["net.inet6.udp6.do_loopback_cksum"], { inet6: true }),
    0,
    "net.inet6.udp6.do_loopback_cksum = 0\n",
  );
});

Deno.test("sysctl -d prints descriptions", async () => {
  expect(
    await sysctl(["-d", "net.inet.ip.ttl"]),
    0,
    "net.inet.ip.ttl: Default TTL for an INET datagram\n",
  );
  expect(await sysctl(["-dn", "net.inet.ip.ttl"]), 0, "Default TTL for an INET datagram\n");
  expect(
    await sysctl(["-d", "net.inet.tcp.abc"]),
    0,
    "net.inet.tcp.abc.enable: Enable RFC3465 Appropriate Byte Counting\n" +
      "net.inet.tcp.abc.aggressive: 1: L=2*SMSS 0: L=1*SMSS\n",
  );
  const all = await sysctl(["-d"]);
  assert.equal(all.code, 0);
  assert.ok(all.stdout.startsWith("kern.ostype: Operating system type\n"));
  assert.ok(all.stdout.includes("net.inet.ip.stats: IP statistics\n"));
  const A = await sysctl(["-dA"]);
  assert.ok(A.stdout.startsWith("kern: High kernel\nkern.ostype: Operating system type\n"));
  assert.ok(A.stdout.includes("qnx.kern: (no description)\n"));
});

Deno.test("sysctl -q -w writes silently; -q needs -w", async () => {
  const tree = new SysctlTree({ inet6: false });
  expect(await sysctl(["-qw", "net.inet.ip.ttl=5", "net.inet.ip.ttl"], { tree }), 0, "");
  assert.equal(tree.int("net.inet.ip.ttl"), 5);
  // Unknown names are quiet too, but still fail.
  expect(await sysctl(["-qw", "net.inet.foo=1"]), 1, "");
  expect(await sysctl(["-q", "net.inet.ip.ttl"]), 1, "", USAGE);
});

Deno.test("sysctl reports the stack's refusals with strerror", async () => {
  expect(
    await sysctl(["-w", "net.inet.ip.ttl=0"]),
    1,
    "",
    "sysctl: net.inet.ip.ttl: Invalid argument\n",
  );
  expect(
    await sysctl(["-w", "kern.mbuf.mclbytes=4096", "net.inet.ip.ttl=1"]),
    1,
    "",
    "sysctl: kern.mbuf.mclbytes: Operation not permitted\n",
  );
});

Deno.test("sysctl -w checks numbers before asking the stack", async () => {
  const r = await sysctl(["-w", "net.inet.ip.ttl=abc"]);
  expect(r, 1, "", "sysctl: abc: not a number\n");
  assert.deepEqual(r.requests, [{ op: "sysctlList" }]);
  expect(
    await sysctl(["-w", "net.inet.ip.ttl=99999999999"]),
    1,
    "",
    "sysctl: 99999999999: Result too large\n",
  );
  expect(await sysctl(["-w", "qnx.kern.droproot=0x1"]), 0, "qnx.kern.droproot: 0 -> 1\n");
});

Deno.test("sysctl -w on a node prints it as NetBSD does", async () => {
  // sysctl.c re-adds the node's name to the already complete one.
  expect(
    await sysctl(["-w", "net.inet.tcp.abc=1"]),
    0,
    "net.inet.tcp.abc.abc.enable = 1\nnet.inet.tcp.abc.abc.aggressive = 1\n",
  );
});

Deno.test("sysctl -f reads name and name=value lines, # comments and continuations", async () => {
  const tree = new SysctlTree({ inet6: false });
  const conf = "# boot settings\n" +
    "net.inet.ip.forwarding=1\n" +
    "\n" +
    "net.inet.icmp.bmcastecho= 1   # answer broadcast pings\n" +
    "net.inet.tcp.\\\n" +
    "sendspace=65536\n" +
    "kern.ostype\n";
  const r = await sysctl(["-f", "/etc/sysctl.conf"], { tree, files: { "/etc/sysctl.conf": conf } });
  expect(
    r,
    0,
    "net.inet.ip.forwarding: 0 -> 1\n" +
      "net.inet.icmp.bmcastecho: 0 -> 1\n" +
      "net.inet.tcp.sendspace: 22528 -> 65536\n" +
      "kern.ostype = QNX\n",
  );
  assert.equal(tree.int("net.inet.tcp.sendspace"), 65536);
});

Deno.test("sysctl -f goes on after an error, naming the line, and exits 1", async () => {
  const conf = "net.inet.foo=1\nnet.inet.ip.ttl=300\nnet.inet.ip.ttl=32\n";
  const r = await sysctl(["-f", "s.conf"], { files: { "s.conf": conf } });
  expect(
    r,
    1,
    "net.inet.ip.ttl: 64 -> 32\n",
    "sysctl: s.conf#1: third level name 'foo' in 'net.inet.foo' is invalid\n" +
      "sysctl: s.conf#2: net.inet.ip.ttl: Invalid argument\n",
  );
});

Deno.test("sysctl -f with a missing file fails before contacting the stack", async () => {
  const r = await sysctl(["-f", "/nonexistent"]);
  expect(r, 1, "", "sysctl: /nonexistent: No such file or directory\n");
  assert.deepEqual(r.requests, []);
});

Deno.test("sysctl -x prints hex, -xx hex dumps", async () => {
  expect(
    await sysctl(["-x", "net.inet.ip.ttl", "kern.ostype"]),
    0,
    "net.inet.ip.ttl = 0x00000040\nkern.ostype = 514e5800\n",
  );
  expect(
    await sysctl(["-xx", "net.inet.ip.ttl"]),
    0,
    "net.inet.ip.ttl = \n" +
      "0000000  40 00 00 00" + " ".repeat(38) + "| @..." + " ".repeat(13) + "|\n" +
      "0000004 bytes\n",
  );
  expect(
    await sysctl(["-xw", "net.inet.ip.ttl=255"]),
    0,
    "net.inet.ip.ttl: 0x00000040 -> 0x000000ff\n",
  );
});

Deno.test("sysctl refuses -r and -M with a message", async () => {
  expect(
    await sysctl(["-r", "net.inet.ip.ttl"]),
    1,
    "",
    "sysctl: -r: raw binary output is not supported\n",
  );
  expect(await sysctl(["-M"]), 1, "", "sysctl: -M: the MIB dump is not supported\n");
  expect(await sysctl(["-rx", "net.inet.ip.ttl"]), 1, "", USAGE);
});

Deno.test("sysctl with no names or a bad option prints usage", async () => {
  expect(await sysctl([]), 1, "", USAGE);
  expect(await sysctl(["-w"]), 1, "", USAGE);
  expect(await sysctl(["-z"]), 1, "", "sysctl: unknown option -- z\n" + USAGE);
});

Deno.test("sysctl with no stack says socket: and why", async () => {
  const r = await runFakeTool("sysctl", sysctlMain, ["-a"], null);
  expect(
    r,
    1,
    "",
    "sysctl: socket: no stack answers at /x/dev/socket: Address family not supported by protocol family\n",
  );
});

Deno.test("sysctl //describe reads descriptions; //create is not supported", async () => {
  expect(await sysctl(["//create=net.foo"]), 1, "", "sysctl: Must specify -w to create nodes\n");
  expect(
    await sysctl(["-w", "//create=net.foo,type=int"]),
    1,
    "",
    "sysctl: net.foo: CTL_CREATE failed: Operation not supported\n",
  );
  expect(
    await sysctl(["//describe=net.inet.ip.ttl", "//describe/net/inet/ip/mtu"]),
    0,
    "net.inet.ip.ttl: Default TTL for an INET datagram\n" +
      "/net/inet/ip/mtu: Default MTA for an INET route\n",
  );
  expect(
    await sysctl(["//describe.net.inet.ip.ttl"]),
    1,
    "",
    "sysctl: unable to parse '//describe.net.inet.ip.ttl'\n",
  );
});

Deno.test("sysctl error replies that are not errnos keep their message", async () => {
  const r = await runFakeTool("sysctl", sysctlMain, ["-w", "net.inet.ip.ttl=5"], (req) => {
    if (req.op === "sysctlList") return new SysctlTree({ inet6: false }).list();
    throw new ErrnoError("ETIMEDOUT", "sysctlSet");
  });
  assert.ok(isErrno("ETIMEDOUT"));
  expect(r, 1, "", "sysctl: net.inet.ip.ttl: Connection timed out\n");
});

Deno.test("sysctl: net.inet.tcp.congctl lists the algorithms; selected takes only one of them", async () => {
  const tree = new SysctlTree({ inet6: false });
  expect(
    await sysctl(["net.inet.tcp.congctl"], { tree }),
    0,
    "net.inet.tcp.congctl.available = newreno cubic\nnet.inet.tcp.congctl.selected = cubic\n",
  );
  expect(
    await sysctl(["-w", "net.inet.tcp.congctl.selected=newreno"], { tree }),
    0,
    "net.inet.tcp.congctl.selected: cubic -> newreno\n",
  );
  expect(
    await sysctl(["-w", "net.inet.tcp.congctl.selected=bbr"], { tree }),
    1,
    "",
    "sysctl: net.inet.tcp.congctl.selected: Invalid argument\n",
  );
  expect(
    await sysctl(["-w", "net.inet.tcp.congctl.available=reno"], { tree }),
    1,
    "",
    "sysctl: net.inet.tcp.congctl.available: Operation not permitted\n",
  );
  assert.equal(tree.get("net.inet.tcp.congctl.selected"), "newreno");
  assert.equal(tree.get("net.inet.tcp.congctl.available"), "newreno cubic");
});

Deno.test("sysctl: keepinit, msl and ackdropppslimit read, write and refuse bad values", async () => {
  const tree = new SysctlTree({ inet6: false });
  expect(
    await sysctl(["net.inet.tcp.keepinit", "net.inet.tcp.msl", "net.inet.tcp.ackdropppslimit"], {
      tree,
    }),
    0,
    "net.inet.tcp.keepinit = 150\nnet.inet.tcp.msl = 30\nnet.inet.tcp.ackdropppslimit = 100\n",
  );
  expect(
    await sysctl(
      ["-w", "net.inet.tcp.keepinit=20", "net.inet.tcp.msl=5", "net.inet.tcp.ackdropppslimit=-1"],
      { tree },
    ),
    0,
    "net.inet.tcp.keepinit: 150 -> 20\nnet.inet.tcp.msl: 30 -> 5\n" +
      "net.inet.tcp.ackdropppslimit: 100 -> -1\n",
  );
  for (const bad of ["keepinit=0", "msl=-1", "ackdropppslimit=-2"]) {
    const name = bad.split("=")[0];
    expect(
      await sysctl(["-w", `net.inet.tcp.${bad}`], { tree }),
      1,
      "",
      `sysctl: net.inet.tcp.${name}: Invalid argument\n`,
    );
  }
  expect(
    await sysctl(["-w", "net.inet.tcp.msl=soon"], { tree }),
    1,
    "",
    "sysctl: soon: not a number\n",
  );
});

Deno.test("sysctl: kern.sbmax takes 4 MiB, and the auto-sized buffers can grow to it", async () => {
  const tree = new SysctlTree({ inet6: false });
  expect(
    await sysctl(
      [
        "-w",
        "kern.sbmax=4194304",
        "net.inet.tcp.recvbuf_max=8388608",
        "net.inet.tcp.sendbuf_max=8388608",
      ],
      { tree },
    ),
    0,
    "kern.sbmax: 262144 -> 4194304\n" +
      "net.inet.tcp.recvbuf_max: 4194304 -> 8388608\n" +
      "net.inet.tcp.sendbuf_max: 4194304 -> 8388608\n",
  );
  expect(
    await sysctl(["net.inet.tcp.recvbuf_auto", "net.inet.tcp.sendbuf_auto"], { tree }),
    0,
    "net.inet.tcp.recvbuf_auto = 1\nnet.inet.tcp.sendbuf_auto = 1\n",
  );
});
