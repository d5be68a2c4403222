import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { parseSysctlInt, SysctlTree } from "../../core/sysctl.ts";

/** Asserts that `fn` throws an ErrnoError with `code`. */
function throwsErrno(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ErrnoError && e.code === code);
}

/** Every leaf name the reference's §6 table lists for the v4 stack. */
const V4_NAMES = [
  "net.inet.ip.forwarding",
  "net.inet.ip.redirect",
  "net.inet.ip.ttl",
  "net.inet.ip.mtu",
  "net.inet.ip.forwsrcrt",
  "net.inet.ip.allowsrcrt",
  "net.inet.ip.directed-broadcast",
  "net.inet.ip.subnetsarelocal",
  "net.inet.ip.hostzerobroadcast",
  "net.inet.ip.mtudisc",
  "net.inet.ip.mtudisctimeout",
  "net.inet.ip.anonportmin",
  "net.inet.ip.anonportmax",
  "net.inet.ip.lowportmin",
  "net.inet.ip.lowportmax",
  "net.inet.ip.maxflows",
  "net.inet.ip.maxfragpackets",
  "net.inet.ip.checkinterface",
  "net.inet.ip.bindinterface",
  "net.inet.ip.random_id",
  "net.inet.ip.do_loopback_cksum",
  "net.inet.ip.ifq.len",
  "net.inet.ip.ifq.maxlen",
  "net.inet.ip.ifq.peak",
  "net.inet.ip.ifq.drops",
  "net.inet.tcp.sendspace",
  "net.inet.tcp.recvspace",
  "net.inet.tcp.mssdflt",
  "net.inet.tcp.rfc1323",
  "net.inet.tcp.win_scale",
  "net.inet.tcp.timestamps",
  "net.inet.tcp.sack.enable",
  "net.inet.tcp.sack.maxholes",
  "net.inet.tcp.sack.globalmaxholes",
  "net.inet.tcp.sack.globalholes",
  "net.inet.tcp.ecn.enable",
  "net.inet.tcp.ecn.maxretries",
  "net.inet.tcp.abc.enable",
  "net.inet.tcp.abc.aggressive",
  "net.inet.tcp.keepidle",
  "net.inet.tcp.keepintvl",
  "net.inet.tcp.keepcnt",
  "net.inet.tcp.slowhz",
  "net.inet.tcp.init_win",
  "net.inet.tcp.init_win_local",
  "net.inet.tcp.mss_ifmtu",
  "net.inet.tcp.ack_on_push",
  "net.inet.tcp.cwm",
  "net.inet.tcp.compat_42",
  "net.inet.tcp.syn_cache_limit",
  "net.inet.tcp.syn_bucket_limit",
  "net.inet.tcp.log_refused",
  "net.inet.tcp.rstppslimit",
  "net.inet.tcp.delack_ticks",
  "net.inet.tcp.iss_hash",
  "net.inet.tcp.recvbuf_auto",
  "net.inet.tcp.recvbuf_inc",
  "net.inet.tcp.recvbuf_max",
  "net.inet.tcp.sendbuf_auto",
  "net.inet.tcp.sendbuf_inc",
  "net.inet.tcp.sendbuf_max",
  "net.inet.tcp.do_loopback_cksum",
  "net.inet.tcp.hiwat_adjust",
  "qnx.net.inet.tcp.hiwat_adjust",
  "net.inet.tcp.drop_synfin",
  "net.inet.udp.checksum",
  "net.inet.udp.sendspace",
  "net.inet.udp.recvspace",
  "net.inet.udp.do_loopback_cksum",
  "net.inet.icmp.maskrepl",
  "net.inet.icmp.bmcastecho",
  "net.inet.icmp.tstamprepl",
  "net.inet.icmp.returndatabytes",
  "net.inet.icmp.errppslimit",
  "net.inet.icmp.rediraccept",
  "net.inet.icmp.redirtimeout",
  "net.inet.arp.prune",
  "net.inet.arp.keep",
  "net.inet.arp.down",
  "net.inet.arp.refresh",
  "net.inet.arp.maxtries",
  "kern.mbuf.msize",
  "kern.mbuf.mclbytes",
  "kern.mbuf.nmbclusters",
  "kern.mbuf.mblowat",
  "kern.mbuf.mcllowat",
  "kern.hostname",
  "kern.domainname",
  "kern.ostype",
  "kern.osrelease",
  "kern.somaxkva",
  "kern.sbmax",
  "net.bpf.maxbufsize",
  "qnx.net.inet.tcp.qnx_delack",
  "qnx.net.inet.tcp.rto",
  "qnx.net.inet.tcp.rto_limit",
  "qnx.net.inet.tcp.rto_final_timeout",
  "qnx.kern.enmap",
  "qnx.kern.callout_dbg",
  "qnx.kern.droproot",
];

const V6_NAMES = [
  "net.inet6.ip6.forwarding",
  "net.inet6.ip6.redirect",
  "net.inet6.ip6.hlim",
  "net.inet6.ip6.defmcasthlim",
  "net.inet6.ip6.accept_rtadv",
  "net.inet6.ip6.v6only",
  "net.inet6.ip6.dad_count",
  "net.inet6.ip6.use_deprecated",
  "net.inet6.ip6.auto_flowlabel",
  "net.inet6.ip6.hdrnestlimit",
  "net.inet6.ip6.maxfragpackets",
  "net.inet6.icmp6.rediraccept",
  "net.inet6.icmp6.nd6_useloopback",
  "net.inet6.icmp6.nd6_prune",
  "net.inet6.udp6.do_loopback_cksum",
];

const STRUCTS = [
  "net.inet.ip.stats",
  "net.inet.tcp.stats",
  "net.inet.udp.stats",
  "net.inet.icmp.stats",
  "net.inet.tcp.pcblist",
  "net.inet.udp.pcblist",
  "kern.mbuf.stats",
  "net.bpf.stats",
  "net.bpf.peers",
];

Deno.test("SysctlTree has every §6 name as a leaf, the tables as structs", () => {
  const byName = new Map(new SysctlTree({ inet6: true }).list().map((e) => [e.name, e]));
  for (const n of [...V4_NAMES, ...V6_NAMES]) {
    const e = byName.get(n);
    assert.ok(e, n);
    assert.ok(e.type === "int" || e.type === "string", n);
    assert.notEqual(e.value, undefined, n);
    assert.notEqual(e.desc, "", n);
  }
  for (const n of [...STRUCTS, "net.inet6.ip6.stats", "net.inet6.udp6.pcblist"]) {
    assert.equal(byName.get(n)?.type, "struct", n);
    assert.equal(byName.get(n)?.value, undefined, n);
  }
  for (const n of ["kern", "net", "net.inet", "net.inet.ip", "net.inet.ip.ifq", "qnx.kern"]) {
    assert.equal(byName.get(n)?.type, "node", n);
  }
});

Deno.test("SysctlTree defaults follow io-pkt 6.6", () => {
  const mib = new SysctlTree({ inet6: true });
  const want: Record<string, number | string> = {
    "net.inet.ip.forwarding": 0,
    "net.inet.ip.ttl": 64,
    "net.inet.ip.anonportmin": 49152,
    "net.inet.ip.lowportmin": 600,
    "net.inet.ip.ifq.maxlen": 256,
    "net.inet.tcp.sendspace": 22528,
    "net.inet.tcp.recvspace": 32768,
    "net.inet.tcp.syn_cache_limit": 10255,
    "net.inet.tcp.keepidle": 14400,
    "net.inet.tcp.keepintvl": 150,
    "net.inet.tcp.keepcnt": 8,
    "net.inet.tcp.ecn.maxretries": 1,
    "net.inet.udp.recvspace": 41600,
    "net.inet.icmp.tstamprepl": 1,
    "net.inet.icmp.returndatabytes": 8,
    "net.inet.arp.keep": 1200,
    "net.inet6.ip6.hlim": 64,
    "net.inet6.ip6.v6only": 1,
    "kern.mbuf.msize": 256,
    "kern.mbuf.mclbytes": 2048,
    "kern.mbuf.nmbclusters": 8192,
    "kern.sbmax": 262144,
    "net.bpf.maxbufsize": 1048576,
    "qnx.net.inet.tcp.qnx_delack": 1,
    "kern.ostype": "QNX",
    "kern.osrelease": "7.1.0",
    "kern.hostname": "localhost",
    "kern.domainname": "",
  };
  for (const [n, v] of Object.entries(want)) assert.equal(mib.get(n), v, n);
});

Deno.test("SysctlTree lists parents before children, children in MIB number order", () => {
  const names = new SysctlTree({ inet6: false }).list().map((e) => e.name);
  assert.deepEqual(names.slice(0, 3), ["kern", "kern.ostype", "kern.osrelease"]);
  assert.deepEqual(names.filter((n) => /^net\.inet\.[a-z]+$/.test(n)), [
    "net.inet.ip",
    "net.inet.icmp",
    "net.inet.tcp",
    "net.inet.udp",
    "net.inet.arp",
  ]);
  // IPCTL_CHECKINTERFACE 20, IPCTL_IFQ 21, IPCTL_RANDOMID 22 ... IPCTL_BINDINTERFACE 25.
  // Then NetBSD 7's dad_count, which QNX's MIB lacks (its number there is taken).
  const ip = names.filter((n) => /^net\.inet\.ip\.[^.]+$/.test(n)).slice(-7);
  assert.deepEqual(ip, [
    "net.inet.ip.checkinterface",
    "net.inet.ip.ifq",
    "net.inet.ip.random_id",
    "net.inet.ip.do_loopback_cksum",
    "net.inet.ip.stats",
    "net.inet.ip.bindinterface",
    "net.inet.ip.dad_count",
  ]);
  names.forEach((n, i) => {
    const parent = n.slice(0, n.lastIndexOf("."));
    if (parent) assert.ok(names.indexOf(parent) < i, n);
  });
});

Deno.test("SysctlTree for the v4 stack has no net.inet6", () => {
  const mib = new SysctlTree({ inet6: false });
  assert.equal(mib.list().filter((e) => e.name.startsWith("net.inet6")).length, 0);
  assert.equal(mib.has("net.inet6"), false);
  throwsErrno(() => mib.get("net.inet6.ip6.forwarding"), "ENOENT");
  throwsErrno(() => mib.set("net.inet6.udp6.do_loopback_cksum", "1"), "ENOENT");
});

Deno.test("SysctlTree set() parses, stores and returns old and new", () => {
  const mib = new SysctlTree({ inet6: false });
  assert.deepEqual(mib.set("net.inet.ip.ttl", "32"), { old: 64, new: 32 });
  assert.deepEqual(mib.set("net.inet.ip.ttl", "0x40"), { old: 32, new: 64 });
  assert.deepEqual(mib.set("net.inet.ip.ttl", "010"), { old: 64, new: 8 });
  assert.deepEqual(mib.set("kern.domainname", "example.org"), { old: "", new: "example.org" });
  assert.equal(mib.int("net.inet.ip.ttl"), 8);
});

Deno.test("SysctlTree set() refuses read-only names, tables and nodes", () => {
  const mib = new SysctlTree({ inet6: false });
  for (
    const n of ["kern.mbuf.msize", "kern.mbuf.mclbytes", "net.inet.tcp.slowhz", "kern.hostname"]
  ) {
    throwsErrno(() => mib.set(n, "1"), "EPERM");
  }
  throwsErrno(() => mib.set("net.inet.ip.ifq.drops", "0"), "EPERM");
  throwsErrno(() => mib.set("net.inet.tcp.stats", "0"), "EPERM");
  throwsErrno(() => mib.set("net.inet.ip", "0"), "EINVAL");
  throwsErrno(() => mib.set("net.inet.ip.nosuch", "0"), "ENOENT");
  throwsErrno(() => mib.get("net.inet.ip"), "ENOENT");
  throwsErrno(() => mib.get("net.inet.ip.stats"), "ENOENT");
});

Deno.test("SysctlTree set() refuses garbage and out-of-range values", () => {
  const mib = new SysctlTree({ inet6: true });
  const bad: [string, string][] = [
    ["net.inet.ip.ttl", "abc"],
    ["net.inet.ip.ttl", "64x"],
    ["net.inet.ip.ttl", ""],
    ["net.inet.ip.ttl", "0"],
    ["net.inet.ip.ttl", "256"],
    ["net.inet6.ip6.hlim", "0"],
    ["net.inet.ip.forwarding", "2"],
    ["net.inet.ip.forwarding", "-1"],
    ["net.inet.tcp.sack.enable", "5"],
    ["net.inet.ip.anonportmin", "1000"], // below IPPORT_RESERVED
    ["net.inet.ip.anonportmin", "65535"], // not below anonportmax
    ["net.inet.ip.anonportmax", "70000"],
    ["net.inet.ip.lowportmin", "500"],
    ["net.inet.ip.lowportmax", "1024"],
    ["net.inet.tcp.mssdflt", "31"],
    ["net.inet.icmp.returndatabytes", "4"],
    ["net.bpf.maxbufsize", "16"],
    ["kern.sbmax", "1024"],
    ["kern.mbuf.nmbclusters", "100"], // cannot shrink
    ["kern.domainname", "x".repeat(256)],
  ];
  for (const [n, v] of bad) throwsErrno(() => mib.set(n, v), "EINVAL");
  assert.deepEqual(mib.set("net.inet.ip.anonportmin", "1024"), { old: 49152, new: 1024 });
  assert.deepEqual(mib.set("net.inet.tcp.rstppslimit", "-1"), { old: 100, new: -1 });
  assert.deepEqual(mib.set("kern.mbuf.nmbclusters", "16384"), { old: 8192, new: 16384 });
});

Deno.test("SysctlTree udp6 do_loopback_cksum is net.inet.udp's variable", () => {
  const mib = new SysctlTree({ inet6: true });
  const seen: string[] = [];
  mib.onChange(
    "net.inet.udp.do_loopback_cksum",
    (v, old, name) => seen.push(`${name} ${old}>${v}`),
  );
  assert.deepEqual(mib.set("net.inet6.udp6.do_loopback_cksum", "1"), { old: 0, new: 1 });
  assert.equal(mib.get("net.inet.udp.do_loopback_cksum"), 1);
  assert.deepEqual(mib.set("net.inet.udp.do_loopback_cksum", "0"), { old: 1, new: 0 });
  assert.equal(mib.get("net.inet6.udp6.do_loopback_cksum"), 0);
  assert.deepEqual(seen, [
    "net.inet6.udp6.do_loopback_cksum 0>1",
    "net.inet.udp.do_loopback_cksum 1>0",
  ]);
  const alias = mib.list().find((e) => e.name === "net.inet6.udp6.do_loopback_cksum");
  assert.equal(alias?.alias, "net.inet.udp.do_loopback_cksum");
  assert.equal(alias?.value, 0);
  const ip = mib.list().find((e) => e.name === "net.inet.ip.do_loopback_cksum");
  assert.equal(ip?.alias, undefined);
});

Deno.test("SysctlTree qnx.net.inet.tcp.hiwat_adjust shares net.inet.tcp.hiwat_adjust", () => {
  const mib = new SysctlTree({ inet6: false });
  mib.set("qnx.net.inet.tcp.hiwat_adjust", "0");
  assert.equal(mib.int("net.inet.tcp.hiwat_adjust"), 0);
  mib.set("net.inet.tcp.hiwat_adjust", "1");
  assert.equal(mib.int("qnx.net.inet.tcp.hiwat_adjust"), 1);
  // Both are ordinary names, printed by sysctl -a.
  assert.equal(mib.list().filter((e) => e.alias !== undefined).length, 0);
});

Deno.test("SysctlTree onChange listeners run on every write and can be removed", () => {
  const mib = new SysctlTree({ inet6: false });
  const calls: [number | string, number | string, string][] = [];
  const off = mib.onChange("net.inet.ip.forwarding", (v, old, name) => calls.push([v, old, name]));
  mib.set("net.inet.ip.forwarding", "1");
  mib.set("net.inet.ip.forwarding", "1");
  off();
  mib.set("net.inet.ip.forwarding", "0");
  assert.deepEqual(calls, [[1, 0, "net.inet.ip.forwarding"], [1, 1, "net.inet.ip.forwarding"]]);
  throwsErrno(() => mib.onChange("net.inet.ip", () => {}), "ENOENT");
});

Deno.test("SysctlTree a listener that throws vetoes the write", () => {
  const mib = new SysctlTree({ inet6: false });
  mib.onChange("kern.mbuf.nmbclusters", () => {
    throw new ErrnoError("ENOMEM", "pool");
  });
  throwsErrno(() => mib.set("kern.mbuf.nmbclusters", "9000"), "ENOMEM");
  assert.equal(mib.int("kern.mbuf.nmbclusters"), 8192);
});

Deno.test("SysctlTree setInternal writes read-only values without listeners", () => {
  const mib = new SysctlTree({ inet6: false });
  let called = false;
  mib.onChange("net.inet.ip.ifq.drops", () => called = true);
  mib.setInternal("net.inet.ip.ifq.drops", 7);
  mib.setInternal("kern.hostname", "node7");
  assert.equal(mib.get("net.inet.ip.ifq.drops"), 7);
  assert.equal(mib.get("kern.hostname"), "node7");
  assert.equal(called, false);
  throwsErrno(() => mib.setInternal("kern.hostname", 5), "EINVAL");
  throwsErrno(() => mib.setInternal("net.inet.ip.ttl", "64"), "EINVAL");
  throwsErrno(() => mib.setInternal("net.inet.tcp.stats", 0), "ENOENT");
});

Deno.test("SysctlTree applies overrides and the hostname option", () => {
  const mib = new SysctlTree({
    inet6: true,
    hostname: "qnxbox",
    overrides: {
      "net.inet.ip.forwarding": 1,
      "net.inet6.ip6.forwarding": 1,
      "kern.mbuf.mclbytes": 4096,
    },
  });
  assert.equal(mib.int("net.inet.ip.forwarding"), 1);
  assert.equal(mib.int("net.inet6.ip6.forwarding"), 1);
  assert.equal(mib.int("kern.mbuf.mclbytes"), 4096);
  assert.equal(mib.get("kern.hostname"), "qnxbox");
  throwsErrno(() => new SysctlTree({ inet6: false, overrides: { "kern.somaxconn": 5 } }), "ENOENT");
  throwsErrno(
    () => new SysctlTree({ inet6: false, overrides: { "net.inet.ip.ttl": "64" } }),
    "EINVAL",
  );
});

Deno.test("SysctlTree int() only reads int leaves", () => {
  const mib = new SysctlTree({ inet6: false });
  assert.equal(mib.int("net.inet.tcp.mssdflt"), 536);
  throwsErrno(() => mib.int("kern.ostype"), "ENOENT");
  throwsErrno(() => mib.int("net.inet.tcp"), "ENOENT");
});

Deno.test("parseSysctlInt() reads numbers as NetBSD's sysctl does", () => {
  const ok = (text: string) => {
    const r = parseSysctlInt(text);
    assert.ok(r.ok, text);
    return r.value;
  };
  assert.equal(ok("64"), 64);
  assert.equal(ok(" 64"), 64);
  assert.equal(ok("+7"), 7);
  assert.equal(ok("0x1F"), 31);
  assert.equal(ok("0"), 0);
  assert.equal(ok("017"), 15);
  assert.equal(ok("-1"), -1);
  assert.equal(ok("0xffffffff"), -1);
  assert.equal(ok("2147483648"), -2147483648);
  for (const t of ["", "abc", "0x", "08", "64 ", "1e3", "--1"]) {
    assert.deepEqual(parseSysctlInt(t), { ok: false, error: "nan" }, t);
  }
  for (const t of ["4294967296", "99999999999999999999999", "99999999999999999999999x"]) {
    assert.deepEqual(parseSysctlInt(t), { ok: false, error: "range" }, t);
  }
});

Deno.test("SysctlTree net.inet.tcp adds NetBSD 5-7's congctl, keepinit, msl, ackdropppslimit after io-pkt's names", () => {
  const mib = new SysctlTree({ inet6: false });
  const tcp = mib.list().filter((n) => n.name.startsWith("net.inet.tcp."));
  assert.deepEqual(
    tcp.slice(-7).map((n) => [n.name, n.type, n.readonly, n.value]),
    [
      ["net.inet.tcp.abc.aggressive", "int", false, 1],
      ["net.inet.tcp.congctl", "node", true, undefined],
      ["net.inet.tcp.congctl.available", "string", true, "newreno cubic"],
      ["net.inet.tcp.congctl.selected", "string", false, "cubic"],
      ["net.inet.tcp.keepinit", "int", false, 150],
      ["net.inet.tcp.msl", "int", false, 30],
      ["net.inet.tcp.ackdropppslimit", "int", false, 100],
    ].slice(-8),
  );
  assert.equal(tcp.length >= 8, true);
  assert.deepEqual(mib.set("net.inet.tcp.congctl.selected", "newreno"), {
    old: "cubic",
    new: "newreno",
  });
  throwsErrno(() => mib.set("net.inet.tcp.congctl.selected", "reno"), "EINVAL");
  throwsErrno(() => mib.set("net.inet.tcp.congctl.selected", ""), "EINVAL");
  throwsErrno(() => mib.set("net.inet.tcp.congctl.available", "newreno"), "EPERM");
  throwsErrno(() => mib.set("net.inet.tcp.congctl", "x"), "EINVAL");
  assert.equal(mib.get("net.inet.tcp.congctl.selected"), "newreno");
  assert.deepEqual([mib.int("net.inet.tcp.recvbuf_auto"), mib.int("net.inet.tcp.sendbuf_auto")], [
    1,
    1,
  ]);
});
