/**
 * ifconfig against a small in-memory stack: whole outputs, exact messages,
 * exit codes and the requests each command line makes.
 * @module
 */

import assert from "node:assert/strict";
import type {
  AddrSpec,
  ControlRequest,
  IfInfo,
  IfStats,
  StackInfo,
} from "../../core/control/ops.ts";
import { ErrnoError } from "../../core/errno.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { classfulMask4, formatIp4, parseIp4 } from "../../core/net/ip_addr.ts";
import { ifconfigMain } from "../../tools/ifconfig.ts";
import { humanizeNumber } from "../../tools/ifconfig_format.ts";
import { runFakeTool, type ToolRun } from "../kit/fake_tool.ts";

function zeroStats(): IfStats {
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
  };
}

function lo0(): IfInfo {
  return {
    name: "lo0",
    index: 1,
    flags: IFF.UP | IFF.LOOPBACK | IFF.RUNNING | IFF.MULTICAST,
    mtu: 33192,
    metric: 0,
    driver: "lo",
    stats: zeroStats(),
    addrs: [
      { family: "inet", addr: "127.0.0.1", netmask: "255.0.0.0" },
      { family: "inet6", addr: "::1", prefixlen: 128, flags: [] },
      { family: "inet6", addr: "fe80::1", prefixlen: 64, scopeid: 1, flags: [] },
    ],
  };
}

/** An Ethernet interface as the e1000 driver reports it: down, no address yet. */
function en0(): IfInfo {
  return {
    name: "en0",
    index: 2,
    flags: IFF.BROADCAST | IFF.RUNNING | IFF.SIMPLEX | IFF.MULTICAST,
    mtu: 1500,
    metric: 0,
    driver: "e1000",
    lladdr: "00:11:22:33:44:55",
    capabilities: { rx: 7, tx: 7 },
    enabled: { rx: 0, tx: 0 },
    media: { current: "Ethernet autoselect", active: "1000baseT full-duplex" },
    linkState: "active",
    stats: zeroStats(),
    addrs: [],
  };
}

/** A point-to-point tunnel without link address, media or link state. */
function tun0(): IfInfo {
  return {
    name: "tun0",
    index: 3,
    flags: IFF.POINTOPOINT | IFF.MULTICAST,
    mtu: 1500,
    metric: 0,
    driver: "tun",
    stats: zeroStats(),
    addrs: [],
  };
}

/** A stack in memory that applies the ops as the daemon does. */
class FakeStack {
  ifs: IfInfo[];
  inet6 = true;
  /** Forced error replies by op. */
  failing = new Map<string, ErrnoError>();
  /** Inactive link-layer addresses by interface. */
  links = new Map<string, string[]>();

  constructor(ifs: IfInfo[] = [lo0(), en0()]) {
    this.ifs = ifs;
  }

  get(name: string): IfInfo {
    const ifp = this.ifs.find((i) => i.name === name);
    if (!ifp) throw new ErrnoError("ENXIO", name);
    return ifp;
  }

  handle = (req: ControlRequest): unknown => {
    const forced = this.failing.get(req.op);
    if (forced) throw forced;
    switch (req.op) {
      case "info":
        return this.info();
      case "ifList":
        return structuredClone(req.name === undefined ? this.ifs : [this.get(req.name)]);
      case "ifCreate":
        return this.create(req.name);
      case "ifDestroy":
        this.get(req.name);
        this.ifs = this.ifs.filter((i) => i.name !== req.name);
        return {};
      case "ifSet":
        return this.set(req);
      case "ifZeroStats":
        this.get(req.name).stats = zeroStats();
        return {};
      case "addrAdd":
        return this.addAddr(req.name, req.spec);
      case "addrDelete":
        return this.deleteAddr(req.name, req.family, req.addr);
      case "clonerList":
        return ["lo", "tun", "tap", "bridge"];
      case "lladdrList":
        return this.ifs.filter((i) => i.lladdr && (req.name === undefined || i.name === req.name))
          .map((i) => ({
            name: i.name,
            active: i.lladdr!,
            inactive: this.links.get(i.name) ?? [],
          }));
      case "lladdrAdd": {
        const ifp = this.get(req.name);
        const list = this.links.get(req.name) ?? [];
        if (req.active) {
          list.push(ifp.lladdr!);
          ifp.lladdr = req.lladdr;
        } else list.push(req.lladdr);
        this.links.set(req.name, list.filter((l) => l !== ifp.lladdr));
        return ifp;
      }
      case "lladdrDelete": {
        const ifp = this.get(req.name);
        if (ifp.lladdr === req.lladdr) throw new ErrnoError("EBUSY");
        this.links.set(req.name, (this.links.get(req.name) ?? []).filter((l) => l !== req.lladdr));
        return ifp;
      }
      default:
        throw new ErrnoError("ENOSYS", req.op);
    }
  };

  info(): StackInfo {
    return {
      version: "test",
      instance: 0,
      mountType: "io-pkt",
      inet6: this.inet6,
      pid: 1,
      prefix: "",
    };
  }

  create(name: string): IfInfo {
    if (this.ifs.some((i) => i.name === name)) throw new ErrnoError("EEXIST", name);
    if (!/^(lo|tun|tap|bridge)\d+$/.test(name)) throw new ErrnoError("EINVAL", name);
    const ifp: IfInfo = {
      name,
      index: Math.max(...this.ifs.map((i) => i.index)) + 1,
      flags: IFF.MULTICAST,
      mtu: 1500,
      metric: 0,
      driver: name.replace(/\d+$/, ""),
      stats: zeroStats(),
      addrs: [],
    };
    this.ifs.push(ifp);
    return ifp;
  }

  set(req: Extract<ControlRequest, { op: "ifSet" }>): IfInfo {
    const ifp = this.get(req.name);
    if (req.mtu !== undefined && (req.mtu < 68 || req.mtu > 9000)) {
      throw new ErrnoError("EINVAL", "mtu");
    }
    ifp.flags = (ifp.flags | (req.flagsSet ?? 0)) & ~(req.flagsClear ?? 0);
    if (req.mtu !== undefined) ifp.mtu = req.mtu;
    if (req.metric !== undefined) ifp.metric = req.metric;
    return ifp;
  }

  addAddr(name: string, spec: AddrSpec): IfInfo {
    const ifp = this.get(name);
    if (spec.family === "inet6") {
      if (!this.inet6) throw new ErrnoError("EAFNOSUPPORT");
      const scopeid = spec.addr.startsWith("fe80:") ? ifp.index : undefined;
      ifp.addrs.push({
        family: "inet6",
        addr: spec.addr,
        prefixlen: spec.prefixlen ?? 64,
        flags: spec.flags ?? [],
        ...(scopeid ? { scopeid } : {}),
      });
      return ifp;
    }
    const addr = parseIp4(spec.addr)!;
    const mask = spec.netmask ? parseIp4(spec.netmask)! : classfulMask4(addr);
    const entry = { family: "inet" as const, addr: spec.addr, netmask: formatIp4(mask) };
    const withBrd = ifp.flags & IFF.BROADCAST
      ? { ...entry, broadcast: spec.broadcast ?? formatIp4((addr | ~mask) >>> 0) }
      : entry;
    const full = spec.dst ? { ...withBrd, dst: spec.dst } : withBrd;
    const i = ifp.addrs.findIndex((a) => a.family === "inet" && a.addr === spec.addr);
    if (i >= 0) ifp.addrs[i] = full;
    else ifp.addrs.splice(ifp.addrs.filter((a) => a.family === "inet").length, 0, full);
    return ifp;
  }

  deleteAddr(name: string, family: "inet" | "inet6", addr?: string): IfInfo {
    const ifp = this.get(name);
    const i = ifp.addrs.findIndex((a) =>
      a.family === family && (addr === undefined || a.addr === addr)
    );
    if (i < 0) throw new ErrnoError("EADDRNOTAVAIL", "SIOCDIFADDR");
    ifp.addrs.splice(i, 1);
    return ifp;
  }
}

function ifconfig(stack: FakeStack | null, ...args: string[]): Promise<ToolRun> {
  return runFakeTool("ifconfig", ifconfigMain, args, stack ? stack.handle : null);
}

/** Asserts a failure: nothing on stdout, exactly `stderr`, exit code `code`. */
function assertFails(run: ToolRun, stderr: string, code = 1): void {
  assert.equal(run.stderr, stderr);
  assert.equal(run.stdout, "");
  assert.equal(run.code, code);
}

const LO0_TEXT = "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 33192\n" +
  "\tinet 127.0.0.1 netmask 0xff000000\n" +
  "\tinet6 ::1 prefixlen 128\n" +
  "\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x1\n";

const EN0_HEAD = "en0: flags=8842<BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n" +
  "\tcapabilities=7<IP4CSUM,TCP4CSUM,UDP4CSUM>\n" +
  "\tenabled=0\n" +
  "\taddress: 00:11:22:33:44:55\n" +
  "\tmedia: Ethernet autoselect (1000baseT full-duplex)\n" +
  "\tstatus: active\n";

const USAGE_HEAD = "usage: ifconfig [-h] [-m] [-v] [-z] [-L] interface\n";

Deno.test("ifconfig -a prints lo0 as QNX does", async () => {
  const run = await ifconfig(new FakeStack([lo0()]), "-a");
  assert.equal(run.stdout, LO0_TEXT);
  assert.equal(run.stderr, "");
  assert.equal(run.code, 0);
  assert.deepEqual(run.requests, [{ op: "ifList" }]);
});

Deno.test("ifconfig -a prints an Ethernet interface with capabilities, address, media and status", async () => {
  const run = await ifconfig(new FakeStack(), "-a");
  assert.equal(run.stdout, LO0_TEXT + EN0_HEAD);
  assert.equal(run.code, 0);
});

Deno.test("ifconfig -a inet6 shows only IPv6 addresses; -a inet only IPv4", async () => {
  const v6 = await ifconfig(new FakeStack([lo0()]), "-a", "inet6");
  assert.equal(
    v6.stdout,
    "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 33192\n" +
      "\tinet6 ::1 prefixlen 128\n" +
      "\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x1\n",
  );
  const v4 = await ifconfig(new FakeStack([lo0()]), "-a", "inet");
  assert.equal(
    v4.stdout,
    "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 33192\n" +
      "\tinet 127.0.0.1 netmask 0xff000000\n",
  );
});

Deno.test("ifconfig en0 192.0.2.2/24 deletes the primary, adds, and brings en0 up", async () => {
  const stack = new FakeStack();
  const run = await ifconfig(stack, "en0", "192.0.2.2/24");
  assert.equal(run.stdout, "");
  assert.equal(run.stderr, "");
  assert.equal(run.code, 0);
  assert.deepEqual(run.requests, [
    { op: "ifList", name: "en0" },
    { op: "addrDelete", name: "en0", family: "inet" },
    {
      op: "addrAdd",
      name: "en0",
      spec: { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" },
    },
    { op: "ifSet", name: "en0", flagsSet: IFF.UP },
  ]);
  const show = await ifconfig(stack, "en0");
  assert.equal(
    show.stdout,
    EN0_HEAD.replace("flags=8842<BROADCAST,", "flags=8843<UP,BROADCAST,") +
      "\tinet 192.0.2.2 netmask 0xffffff00 broadcast 192.0.2.255\n",
  );
});

Deno.test("ifconfig en0 inet A netmask 0xhex replaces the primary and keeps aliases as NetBSD does", async () => {
  const stack = new FakeStack();
  await ifconfig(stack, "en0", "10.0.0.2");
  const alias = await ifconfig(stack, "en0", "10.0.0.3", "netmask", "255.255.255.0", "alias");
  assert.equal(alias.code, 0);
  assert.deepEqual(alias.requests.slice(1), [{
    op: "addrAdd",
    name: "en0",
    spec: { family: "inet", addr: "10.0.0.3", netmask: "255.255.255.0" },
  }]);
  const replace = await ifconfig(stack, "en0", "inet", "203.0.113.247", "netmask", "0xffffff00");
  assert.equal(replace.code, 0);
  assert.deepEqual(replace.requests.slice(1), [
    { op: "addrDelete", name: "en0", family: "inet" },
    {
      op: "addrAdd",
      name: "en0",
      spec: { family: "inet", addr: "203.0.113.247", netmask: "255.255.255.0" },
    },
  ]);
  const show = await ifconfig(stack, "en0", "inet");
  assert.equal(
    show.stdout,
    "en0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n" +
      "\tcapabilities=7<IP4CSUM,TCP4CSUM,UDP4CSUM>\n" +
      "\tenabled=0\n" +
      "\taddress: 00:11:22:33:44:55\n" +
      "\tmedia: Ethernet autoselect (1000baseT full-duplex)\n" +
      "\tstatus: active\n" +
      // As in NetBSD: with the primary deleted the alias moves up, and the new address is appended.
      "\tinet 10.0.0.3 netmask 0xffffff00 broadcast 10.0.0.255\n" +
      "\tinet alias 203.0.113.247 netmask 0xffffff00 broadcast 203.0.113.255\n",
  );
});

Deno.test("ifconfig -alias and delete remove the named address, before or after it", async () => {
  const stack = new FakeStack();
  await ifconfig(stack, "en0", "10.0.0.2/8");
  await ifconfig(stack, "en0", "10.0.0.3/8", "alias");
  await ifconfig(stack, "en0", "10.0.0.4/8", "alias");
  const after = await ifconfig(stack, "en0", "10.0.0.3", "-alias");
  assert.equal(after.code, 0);
  assert.deepEqual(after.requests.slice(1), [
    { op: "addrDelete", name: "en0", family: "inet", addr: "10.0.0.3" },
  ]);
  const before = await ifconfig(stack, "en0", "delete", "10.0.0.4");
  assert.deepEqual(before.requests.slice(1), [
    { op: "addrDelete", name: "en0", family: "inet", addr: "10.0.0.4" },
  ]);
  const primary = await ifconfig(stack, "en0", "delete");
  assert.deepEqual(primary.requests.slice(1), [
    { op: "addrDelete", name: "en0", family: "inet" },
  ]);
  assert.deepEqual(stack.get("en0").addrs, []);
  const none = await ifconfig(stack, "en0", "10.9.9.9", "delete");
  assertFails(none, "ifconfig: SIOCDIFADDR: Can't assign requested address\n");
});

Deno.test("ifconfig en0 A down adds the address but leaves en0 down", async () => {
  const stack = new FakeStack();
  const run = await ifconfig(stack, "en0", "192.0.2.2", "down");
  assert.equal(run.code, 0);
  assert.deepEqual(run.requests.slice(1), [
    { op: "ifSet", name: "en0", flagsClear: IFF.UP },
    { op: "addrDelete", name: "en0", family: "inet" },
    { op: "addrAdd", name: "en0", spec: { family: "inet", addr: "192.0.2.2" } },
  ]);
  assert.equal(stack.get("en0").flags & IFF.UP, 0);
});

Deno.test("ifconfig maps up, -arp, debug, link0, mtu and metric to ifSet in order", async () => {
  const stack = new FakeStack();
  const run = await ifconfig(
    stack,
    "en0",
    "up",
    "-arp",
    "debug",
    "link0",
    "-link0",
    "mtu",
    "9000",
    "metric",
    "3",
  );
  assert.equal(run.code, 0);
  assert.deepEqual(run.requests.slice(1), [
    { op: "ifSet", name: "en0", flagsSet: IFF.UP },
    { op: "ifSet", name: "en0", flagsSet: IFF.NOARP },
    { op: "ifSet", name: "en0", flagsSet: IFF.DEBUG },
    { op: "ifSet", name: "en0", flagsSet: IFF.LINK0 },
    { op: "ifSet", name: "en0", flagsClear: IFF.LINK0 },
    { op: "ifSet", name: "en0", mtu: 9000 },
    { op: "ifSet", name: "en0", metric: 3 },
  ]);
  const show = await ifconfig(stack, "en0");
  assert.equal(
    show.stdout.split("\n")[0],
    "en0: flags=88c7<UP,BROADCAST,DEBUG,RUNNING,NOARP,SIMPLEX,MULTICAST> metric 3 mtu 9000",
  );
  await ifconfig(stack, "en0", "arp", "-debug");
  assert.equal(stack.get("en0").flags & (IFF.NOARP | IFF.DEBUG), 0);
});

Deno.test("ifconfig inet6 adds with prefixlen 64 and never deletes first", async () => {
  const stack = new FakeStack();
  const run = await ifconfig(stack, "en0", "inet6", "2001:db8:0:0::5");
  assert.equal(run.code, 0);
  assert.deepEqual(run.requests, [
    { op: "info" },
    { op: "ifList", name: "en0" },
    {
      op: "addrAdd",
      name: "en0",
      spec: { family: "inet6", addr: "2001:db8::5", prefixlen: 64 },
    },
    { op: "ifSet", name: "en0", flagsSet: IFF.UP },
  ]);
  await ifconfig(stack, "en0", "inet6", "fe80::211:22ff:fe33:4455%en0", "prefixlen", "64");
  await ifconfig(stack, "en0", "inet6", "2001:db8::/64", "eui64", "anycast");
  const show = await ifconfig(stack, "en0", "inet6");
  assert.equal(
    show.stdout,
    EN0_HEAD.replace("flags=8842<BROADCAST,", "flags=8843<UP,BROADCAST,") +
      "\tinet6 2001:db8::5 prefixlen 64\n" +
      "\tinet6 fe80::211:22ff:fe33:4455%en0 prefixlen 64 scopeid 0x2\n" +
      "\tinet6 2001:db8::211:22ff:fe33:4455 prefixlen 64 anycast\n",
  );
  const del = await ifconfig(stack, "en0", "inet6", "2001:db8::5", "delete");
  assert.deepEqual(del.requests.slice(2), [
    { op: "addrDelete", name: "en0", family: "inet6", addr: "2001:db8::5" },
  ]);
});

Deno.test("ifconfig inet6 pltime and vltime travel with the address", async () => {
  const stack = new FakeStack();
  const run = await ifconfig(
    stack,
    "en0",
    "inet6",
    "2001:db8::7",
    "pltime",
    "100",
    "vltime",
    "0x12c",
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.requests[2], {
    op: "addrAdd",
    name: "en0",
    spec: { family: "inet6", addr: "2001:db8::7", prefixlen: 64, pltime: 100, vltime: 300 },
  });
  assertFails(await ifconfig(stack, "en0", "inet6", "pltime", "-5"), "ifconfig: invalid pltime\n");
});

Deno.test("ifconfig -L prints IPv6 lifetimes only when one is finite", async () => {
  const ifp = lo0();
  ifp.addrs.push({
    family: "inet6",
    addr: "2001:db8::1",
    prefixlen: 64,
    flags: ["deprecated"],
    pltime: 0,
  });
  const run = await ifconfig(new FakeStack([ifp]), "-L", "lo0", "inet6");
  assert.equal(
    run.stdout,
    "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 33192\n" +
      "\tinet6 ::1 prefixlen 128\n" +
      "\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x1\n" +
      "\tinet6 2001:db8::1 prefixlen 64 deprecated pltime 0 vltime infty\n",
  );
});

Deno.test("ifconfig on a point-to-point link prints and sets the destination", async () => {
  const stack = new FakeStack([lo0(), tun0()]);
  const run = await ifconfig(
    stack,
    "tun0",
    "198.51.100.1",
    "198.51.100.2",
    "netmask",
    "255.255.255.255",
  );
  assert.equal(run.code, 0);
  assert.deepEqual(run.requests[2], {
    op: "addrAdd",
    name: "tun0",
    spec: { family: "inet", addr: "198.51.100.1", netmask: "255.255.255.255", dst: "198.51.100.2" },
  });
  const show = await ifconfig(stack, "tun0");
  assert.equal(
    show.stdout,
    "tun0: flags=8011<UP,POINTOPOINT,MULTICAST> mtu 1500\n" +
      "\tinet 198.51.100.1 -> 198.51.100.2 netmask 0xffffffff\n",
  );
});

Deno.test("ifconfig -l lists names, filtered by -u, -d, -b and -s", async () => {
  const stack = new FakeStack([lo0(), en0(), tun0()]);
  stack.get("tun0").linkState = "no carrier";
  assert.equal((await ifconfig(stack, "-l")).stdout, "lo0 en0 tun0\n");
  assert.equal((await ifconfig(stack, "-l", "-u")).stdout, "lo0\n");
  assert.equal((await ifconfig(stack, "-l", "-d")).stdout, "en0 tun0\n");
  assert.equal((await ifconfig(stack, "-lb")).stdout, "en0\n");
  assert.equal((await ifconfig(stack, "-l", "-s")).stdout, "lo0 en0\n");
  assert.equal((await ifconfig(stack, "-l", "-u", "-b")).stdout, "\n");
  const a = await ifconfig(stack, "-a", "-u");
  assert.equal(a.stdout, LO0_TEXT);
});

Deno.test("ifconfig -C lists the cloners", async () => {
  const run = await ifconfig(new FakeStack(), "-C");
  assert.equal(run.stdout, "lo tun tap bridge\n");
  assert.equal(run.code, 0);
  assert.deepEqual(run.requests, [{ op: "clonerList" }]);
});

Deno.test("ifconfig -s interface exits 1 without carrier, 0 with it or without a report", async () => {
  const stack = new FakeStack([lo0(), en0()]);
  assert.equal((await ifconfig(stack, "-s", "en0")).code, 0);
  assert.equal((await ifconfig(stack, "-s", "lo0")).code, 0);
  stack.get("en0").linkState = "no carrier";
  const run = await ifconfig(stack, "-s", "en0");
  assert.equal(run.code, 1);
  assert.equal(run.stdout + run.stderr, "");
});

Deno.test("ifconfig -v prints counters with NetBSD's plurals", async () => {
  const stack = new FakeStack([lo0()]);
  stack.get("lo0").stats = {
    ...zeroStats(),
    ipackets: 1,
    ibytes: 84,
    imcasts: 1,
    ierrors: 2,
    iqdrops: 1,
    noproto: 3,
    opackets: 2,
    obytes: 1,
    oerrors: 1,
    collisions: 2,
  };
  const run = await ifconfig(stack, "-v", "lo0", "inet");
  assert.equal(
    run.stdout,
    "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 33192\n" +
      "\tinput: 1 packet, 84 bytes, 1 multicast, 2 errors, 1 queue drop, 3 unknown protocol\n" +
      "\toutput: 2 packets, 1 byte, 1 error, 2 collisions\n" +
      "\tinet 127.0.0.1 netmask 0xff000000\n",
  );
});

Deno.test("ifconfig -z prints the counters then zeroes them; -h humanizes bytes", async () => {
  const stack = new FakeStack([lo0()]);
  stack.get("lo0").stats = { ...zeroStats(), ipackets: 3, ibytes: 1536, opackets: 3, obytes: 1000 };
  const run = await ifconfig(stack, "-zh", "lo0", "inet");
  assert.equal(
    run.stdout,
    "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 33192\n" +
      "\tinput: 3 packets, 1.5K bytes\n" +
      "\toutput: 3 packets, 1.0K byte\n" +
      "\tinet 127.0.0.1 netmask 0xff000000\n",
  );
  assert.deepEqual(run.requests, [
    { op: "ifList", name: "lo0" },
    { op: "ifZeroStats", name: "lo0" },
  ]);
  const again = await ifconfig(stack, "-v", "lo0", "inet");
  assert.match(again.stdout, /\tinput: 0 packets, 0 bytes\n\toutput: 0 packets, 0 bytes\n/);
});

Deno.test("humanizeNumber() matches humanize_number(3) with a 5-byte buffer", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [999, "999"],
    [1000, "1.0K"],
    [1536, "1.5K"],
    [10239, "10K"],
    [50000, "49K"],
    [1048576, "1.0M"],
    [5 * 1024 ** 3, "5.0G"],
  ];
  for (const [n, text] of cases) assert.equal(humanizeNumber(n), text, `${n}`);
});

Deno.test("ifconfig create and destroy map to ifCreate and ifDestroy", async () => {
  const stack = new FakeStack();
  const create = await ifconfig(stack, "tap0", "create");
  assert.equal(create.code, 0);
  assert.deepEqual(create.requests, [{ op: "ifCreate", name: "tap0" }]);
  const withAddr = await ifconfig(stack, "tun1", "create", "inet", "192.0.2.9", "192.0.2.10", "up");
  assert.equal(
    withAddr.stderr,
    "ifconfig: can't set destination address on non-point-to-point link\n",
  );
  const again = await ifconfig(stack, "tap0", "create");
  assertFails(again, "ifconfig: SIOCIFCREATE: File exists\n");
  const destroy = await ifconfig(stack, "tap0", "destroy");
  assert.equal(destroy.code, 0);
  assert.deepEqual(destroy.requests.slice(1), [{ op: "ifDestroy", name: "tap0" }]);
  assert.equal(stack.ifs.some((i) => i.name === "tap0"), false);
});

Deno.test("ifconfig reports an unknown interface as SIOCGIFFLAGS", async () => {
  assertFails(
    await ifconfig(new FakeStack(), "en9"),
    "ifconfig: SIOCGIFFLAGS en9: No such device or address\n",
  );
  assertFails(
    await ifconfig(new FakeStack(), "en9", "10.0.0.1"),
    "ifconfig: SIOCGIFFLAGS en9: No such device or address\n",
  );
  assertFails(
    await ifconfig(new FakeStack(), "en9", "destroy"),
    "ifconfig: SIOCGIFFLAGS en9: No such device or address\n",
  );
});

Deno.test("ifconfig gives NetBSD's messages for bad parameters", async () => {
  const cases: [string[], string][] = [
    [["en0", "netmask"], "ifconfig: 'netmask' requires argument\n"],
    [["en0", "10.0.0.1", "mtu"], "ifconfig: 'mtu' requires argument\n"],
    [["en0", "tunnel", "192.0.2.1"], "ifconfig: 'tunnel' requires 2 arguments\n"],
    [["en0", "10.0.0.300"], "ifconfig: 10.0.0.300: bad value\n"],
    [["en0", "frobnicate"], "ifconfig: frobnicate: bad value\n"],
    [["en0", "10.0.0.1/33"], "ifconfig: 33: bad value\n"],
    [["en0", "10.0.0.1", "netmask", "255.255.0.x"], "ifconfig: 255.255.0.x: bad value\n"],
    [["en0", "inet6", "2001:db8::g"], "ifconfig: 2001:db8::g: bad value\n"],
    [["en0", "inet6", "fe80::1%en7"], "ifconfig: fe80::1%en7: bad value\n"],
    [["en0", "mtu", "12x"], "ifconfig: 12x: invalid mtu\n"],
    [["en0", "metric", "x"], "ifconfig: x: invalid metric\n"],
    [
      ["en0", "10.0.0.1", "alias", "delete"],
      "ifconfig: Only one use of alias, -alias or delete is valid.\n",
    ],
    [
      ["en0", "10.0.0.1", "10.0.0.2"],
      "ifconfig: can't set destination address on non-point-to-point link\n",
    ],
    [["en0", "eui64"], "ifconfig: eui64 not allowed for the AF\n"],
    [
      ["en0", "inet6", "2001:db8::/64", "eui64"],
      "ifconfig: could not determine link local address\n",
    ],
    [["en0", "inet6", "2001:db8::1", "eui64"], "ifconfig: interface index is already filled\n"],
    [["en0", "pltime", "100"], "ifconfig: pltime not allowed for the AF\n"],
    [["en0", "inet6", "vltime", "x"], "ifconfig: invalid vltime\n"],
  ];
  for (const [args, message] of cases) {
    const stack = new FakeStack();
    const run = await ifconfig(stack, ...args);
    assertFails(run, message);
    // Nothing was changed: the line is read whole before any request is made.
    assert.equal(run.requests.filter((r) => r.op !== "ifList" && r.op !== "info").length, 0);
  }
});

Deno.test("ifconfig refuses parameters it cannot carry out", async () => {
  const cases: [string[], string][] = [
    [["en0", "media", "100baseTX"], "ifconfig: media: not supported\n"],
    [["en0", "mediaopt", "full-duplex"], "ifconfig: mediaopt: not supported\n"],
    [["en0", "up", "tunnel", "192.0.2.1", "192.0.2.2"], "ifconfig: tunnel: not supported\n"],
    [["en0", "vlan", "10", "vlanif", "en1"], "ifconfig: vlan: not supported\n"],
    [["en0", "-tso4"], "ifconfig: -tso4: not supported\n"],
    [["en0", "ssid", "home"], "ifconfig: ssid: not supported\n"],
  ];
  for (const [args, message] of cases) {
    const run = await ifconfig(new FakeStack(), ...args);
    assertFails(run, message);
    assert.equal(run.requests.some((r) => r.op === "ifSet"), false);
  }
});

Deno.test("ifconfig reports failed requests under NetBSD's ioctl names", async () => {
  const stack = new FakeStack();
  assertFails(
    await ifconfig(stack, "en0", "mtu", "20"),
    "ifconfig: SIOCSIFMTU: Invalid argument\n",
  );
  stack.failing.set("addrAdd", new ErrnoError("EEXIST"));
  assertFails(await ifconfig(stack, "en0", "10.0.0.1"), "ifconfig: SIOCAIFADDR: File exists\n");
  stack.failing.set("addrDelete", new ErrnoError("EPERM"));
  assertFails(
    await ifconfig(stack, "en0", "10.0.0.1"),
    "ifconfig: SIOCDIFADDR: Operation not permitted\n",
  );
  stack.failing.set("ifSet", new ErrnoError("EPERM"));
  assertFails(
    await ifconfig(stack, "en0", "up"),
    "ifconfig: SIOCSIFFLAGS: Operation not permitted\n",
  );
  assertFails(
    await ifconfig(stack, "en0", "metric", "1"),
    "ifconfig: SIOCSIFMETRIC: Operation not permitted\n",
  );
  stack.failing.set("ifDestroy", new ErrnoError("EOPNOTSUPP"));
  assertFails(
    await ifconfig(stack, "en0", "destroy"),
    "ifconfig: SIOCIFDESTROY: Operation not supported\n",
  );
  stack.failing.set("ifList", new ErrnoError("ENOMEM"));
  assertFails(await ifconfig(stack, "-a"), "ifconfig: getifaddrs: Not enough memory\n");
  stack.failing.set("ifZeroStats", new ErrnoError("EPERM"));
  stack.failing.delete("ifList");
  assertFails(
    await ifconfig(stack, "-z", "lo0"),
    "ifconfig: SIOCZIFDATA: Operation not permitted\n",
  );
});

Deno.test("ifconfig inet6 on an IPv4-only stack fails as socket(AF_INET6) does", async () => {
  const stack = new FakeStack();
  stack.inet6 = false;
  const message = "ifconfig: socket: Address family not supported by protocol family\n";
  assertFails(await ifconfig(stack, "en0", "inet6", "2001:db8::1"), message);
  assertFails(await ifconfig(stack, "-a", "inet6"), message);
  assertFails(await ifconfig(stack, "lo0", "inet6"), message);
});

Deno.test("ifconfig with no stack answering fails at socket", async () => {
  assertFails(
    await ifconfig(null, "-a"),
    "ifconfig: socket: no stack answers at /x/dev/socket: " +
      "Address family not supported by protocol family\n",
  );
  assertFails(
    await ifconfig(null, "en0", "10.0.0.1"),
    "ifconfig: socket: no stack answers at /x/dev/socket: " +
      "Address family not supported by protocol family\n",
  );
});

Deno.test("ifconfig prints NetBSD's usage for bad command lines", async () => {
  const lines: string[][] = [
    ["-l", "-a"],
    ["-w", "1", "-a"],
    ["-w", "1", "-v"],
    ["-W", "1", "-L"],
    ["-l", "en0"],
    ["-C", "-v"],
    ["-l", "-C"],
    ["-l", "-L"],
    ["-a", "inet", "inet6"],
    ["-a", "ipx"],
    ["-s", "en0", "up"],
  ];
  for (const args of lines) {
    const run = await ifconfig(new FakeStack(), ...args);
    assert.equal(run.code, 1, args.join(" "));
    assert.equal(run.stdout, "");
    assert.ok(run.stderr.startsWith(USAGE_HEAD), args.join(" "));
    assert.ok(run.stderr.endsWith("       ifconfig interface destroy\n"));
  }
  const bad = await ifconfig(new FakeStack(), "-x");
  assert.ok(bad.stderr.startsWith(`ifconfig: unknown option -- x\n${USAGE_HEAD}`));
  assert.equal(bad.code, 1);
  assert.deepEqual(bad.requests, []);
  const long = await ifconfig(new FakeStack(), "averyverylongifname0");
  assertFails(long, "ifconfig: interface name 'averyverylongifname0' too long\n");
});

Deno.test("ifconfig prints capabilities as rx/tx lines when they differ, omits them when empty", async () => {
  const split = en0();
  split.capabilities = { rx: 7, tx: 1 };
  split.enabled = { rx: 1, tx: 1 };
  const empty = en0();
  empty.name = "en1";
  empty.capabilities = { rx: 0, tx: 0 };
  delete empty.media;
  delete empty.linkState;
  empty.metric = 2;
  const run = await ifconfig(new FakeStack([split, empty]), "-a");
  assert.equal(
    run.stdout,
    "en0: flags=8842<BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n" +
      "\tcapabilities rx=7<IP4CSUM,TCP4CSUM,UDP4CSUM>\n" +
      "\tcapabilities tx=1<IP4CSUM>\n" +
      "\tenabled=1<IP4CSUM>\n" +
      "\taddress: 00:11:22:33:44:55\n" +
      "\tmedia: Ethernet autoselect (1000baseT full-duplex)\n" +
      "\tstatus: active\n" +
      "en1: flags=8842<BROADCAST,RUNNING,SIMPLEX,MULTICAST> metric 2 mtu 1500\n" +
      "\taddress: 00:11:22:33:44:55\n",
  );
});

Deno.test("ifconfig trailers prints NetBSD's note and changes nothing", async () => {
  const run = await ifconfig(new FakeStack(), "en0", "trailers");
  assert.equal(run.stdout, "Note: trailers are no longer sent, but always received\n");
  assert.equal(run.code, 0);
  assert.deepEqual(run.requests, [{ op: "ifList", name: "en0" }]);
});

Deno.test("ifconfig linkstr and -linkstr hand the link string to the driver", async () => {
  const stack = new FakeStack();
  const run = await ifconfig(stack, "en0", "linkstr", "/tmp/bus1");
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.requests.slice(1), [{ op: "ifSet", name: "en0", linkstr: "/tmp/bus1" }]);
  const clear = await ifconfig(stack, "en0", "-linkstr");
  assert.deepEqual(clear.requests.slice(1), [{ op: "ifSet", name: "en0", linkstr: "" }]);
  stack.failing.set("ifSet", new ErrnoError("EOPNOTSUPP"));
  assertFails(
    await ifconfig(stack, "en0", "linkstr", "x"),
    "ifconfig: SIOCSLINKSTR: Operation not supported\n",
  );
});

Deno.test("ifconfig with no arguments lists every interface, as -a does", async () => {
  const bare = await ifconfig(new FakeStack());
  const all = await ifconfig(new FakeStack(), "-a");
  assert.equal(bare.code, 0);
  assert.equal(bare.stdout, LO0_TEXT + EN0_HEAD);
  assert.equal(bare.stdout, all.stdout);
  assert.deepEqual(bare.requests, all.requests);
});

Deno.test("ifconfig link ADDR [active], lladdr and -link manage link-layer addresses", async () => {
  const stack = new FakeStack();
  const add = await ifconfig(stack, "en0", "link", "02:00:00:00:00:0a");
  assert.equal(add.code, 0, add.stderr);
  assert.deepEqual(add.requests.slice(1), [
    { op: "lladdrAdd", name: "en0", lladdr: "02:00:00:00:00:0a", active: false },
  ]);
  const active = await ifconfig(stack, "en0", "lladdr", "02:00:00:00:00:0B", "active");
  assert.deepEqual(active.requests.slice(1), [
    { op: "lladdrAdd", name: "en0", lladdr: "02:00:00:00:00:0b", active: true },
  ]);
  const shown = await ifconfig(stack, "en0");
  assert.equal(
    shown.stdout,
    EN0_HEAD.replace("00:11:22:33:44:55", "02:00:00:00:00:0b") +
      "\tlink 02:00:00:00:00:0a\n\tlink 00:11:22:33:44:55\n",
  );
  const del = await ifconfig(stack, "en0", "-link", "02:00:00:00:00:0a");
  assert.deepEqual(del.requests.slice(1), [
    { op: "lladdrDelete", name: "en0", lladdr: "02:00:00:00:00:0a" },
  ]);
  const netbsdDelete = await ifconfig(stack, "en0", "link", "00:11:22:33:44:55", "delete");
  assert.deepEqual(netbsdDelete.requests.slice(1), [
    { op: "lladdrDelete", name: "en0", lladdr: "00:11:22:33:44:55" },
  ]);
  assertFails(
    await ifconfig(stack, "en0", "-link", "02:00:00:00:00:0b"),
    "ifconfig: SIOCDLIFADDR: Resource busy\n",
  );
  assertFails(await ifconfig(stack, "en0", "link", "nonsense"), "ifconfig: nonsense: bad value\n");
  assertFails(await ifconfig(stack, "en0", "active"), "ifconfig: active: bad value\n");
});

Deno.test("ifconfig -w waits until no address is tentative; -W for detached; timed out", async () => {
  const stack = new FakeStack();
  stack.get("en0").addrs.push({
    family: "inet6",
    addr: "2001:db8::1",
    prefixlen: 64,
    flags: ["tentative"],
  });
  let polls = 0;
  const inner = stack.handle;
  stack.handle = (req) => {
    // DAD ends on the third look.
    if (req.op === "ifList" && ++polls === 3) {
      const a = stack.get("en0").addrs.at(-1)!;
      if (a.family === "inet6") a.flags = ["detached"];
    }
    if (req.op === "ifList" && polls === 5) {
      const a = stack.get("en0").addrs.at(-1)!;
      if (a.family === "inet6") a.flags = [];
    }
    return inner(req);
  };
  const run = await ifconfig(stack, "-w", "10", "-W", "10");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "");
  assert.equal(polls, 5);
  const last = stack.get("en0").addrs.at(-1)!;
  if (last.family === "inet6") last.flags = ["tentative"];
  assertFails(await ifconfig(stack, "-w", "1", "en0"), "ifconfig: timed out\n");
  assertFails(await ifconfig(stack, "-w", "x"), "ifconfig: x: not a number\n");
  assertFails(
    await ifconfig(stack, "-w", "1", "en9"),
    "ifconfig: SIOCGIFFLAGS en9: No such device or address\n",
  );
});
