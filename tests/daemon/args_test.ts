import assert from "node:assert/strict";
import {
  type DaemonArgs,
  daemonUsage,
  isBuiltinProtocol,
  parseDaemonArgs,
  parseDropRoot,
  protocolModuleName,
} from "../../daemon/args.ts";

/** Parses a command line given as one string (split on spaces) and asserts success. */
function ok(line: string, cpus = 4): { args: DaemonArgs; warnings: string[] } {
  const r = parseDaemonArgs(line === "" ? [] : line.split(" "), { cpus });
  if (!r.ok) assert.fail(`${line}: ${r.message}`);
  return r;
}

/** Parses a command line expected to fail and returns the message. */
function fails(line: string): string {
  const r = parseDaemonArgs(line.split(" "));
  if (r.ok) assert.fail(`${line}: parsed`);
  return r.message;
}

const driver = (name: string, options = "") => ({ kind: "driver", name, options });
const protocol = (name: string, options = "") => ({ kind: "protocol", name, options });

Deno.test("parseDaemonArgs with no arguments gives the defaults", () => {
  const { args, warnings } = ok("", 2);
  assert.deepEqual(warnings, []);
  assert.deepEqual(args, {
    modules: [],
    tcpipOptions: "",
    instance: 0,
    mountType: "io-pkt",
    priority: 21,
    threads: 2,
    noSegvHandler: false,
    dedicatedStackContext: false,
    noIoPrivilege: false,
    dropRootString: "99:99,120",
    dropRoot: { kind: "ids", uid: 99, gid: 99, supplementary: [120] },
    verbose: 0,
    pulseEvents: false,
    foreground: false,
    undocumented: { q: null, r: null, u: null, w: null },
  });
});

Deno.test("parseDaemonArgs: -d e1000 name=eth", () => {
  const { args } = ok("-d e1000 name=eth");
  assert.deepEqual(args.modules, [driver("e1000", "name=eth")]);
  assert.equal(args.tcpipOptions, "");
});

Deno.test("parseDaemonArgs: -dvirtio, no space after -d", () => {
  assert.deepEqual(ok("-dvirtio").args.modules, [driver("virtio")]);
});

Deno.test("parseDaemonArgs: -d asix did=0x772D,vid=0x0B95", () => {
  assert.deepEqual(ok("-d asix did=0x772D,vid=0x0B95").args.modules, [
    driver("asix", "did=0x772D,vid=0x0B95"),
  ]);
});

Deno.test("parseDaemonArgs: -U 33:33 -d e1000 -ptcpip threads_max=300", () => {
  const { args } = ok("-U 33:33 -d e1000 -ptcpip threads_max=300");
  assert.deepEqual(args.dropRoot, { kind: "ids", uid: 33, gid: 33, supplementary: [] });
  assert.equal(args.dropRootString, "33:33");
  assert.deepEqual(args.modules, [driver("e1000"), protocol("tcpip", "threads_max=300")]);
  assert.equal(args.tcpipOptions, "threads_max=300");
});

Deno.test("parseDaemonArgs: -S -ptcpip threads_max=1000 -ppf-v6", () => {
  const { args } = ok("-S -ptcpip threads_max=1000 -ppf-v6");
  assert.equal(args.noSegvHandler, true);
  assert.deepEqual(args.modules, [protocol("tcpip", "threads_max=1000"), protocol("pf-v6")]);
  assert.equal(args.tcpipOptions, "threads_max=1000");
});

Deno.test("parseDaemonArgs: -ptcpip stacksize=48000,mclbytes=4096", () => {
  assert.equal(
    ok("-ptcpip stacksize=48000,mclbytes=4096").args.tcpipOptions,
    "stacksize=48000,mclbytes=4096",
  );
});

Deno.test("parseDaemonArgs: -v -p tcpip ... -ppf-v6 -dvdevpeer peer=...,name=vp -d other", () => {
  const tcpip =
    "stacksize=8192,pagesize=65536,pkt_cache=1024,mbuf_cache=1024,pkt_typed_mem=/ram/dma";
  const { args } = ok(
    `-v -p tcpip ${tcpip} -ppf-v6 -dvdevpeer peer=/dev/vdevpeer/0,name=vp -d other`,
  );
  assert.equal(args.verbose, 1);
  assert.deepEqual(args.modules, [
    protocol("tcpip", tcpip),
    protocol("pf-v6"),
    driver("vdevpeer", "peer=/dev/vdevpeer/0,name=vp"),
    driver("other"),
  ]);
  assert.equal(args.tcpipOptions, tcpip);
});

Deno.test("parseDaemonArgs: -i1 -ptcpip stacksize=8192,prefix=/alt", () => {
  const { args } = ok("-i1 -ptcpip stacksize=8192,prefix=/alt");
  assert.equal(args.instance, 1);
  assert.equal(args.mountType, "io-pkt1");
  assert.equal(args.tcpipOptions, "stacksize=8192,prefix=/alt");
});

Deno.test("parseDaemonArgs: -d tap name=en,host=tap7 -p tcpip prefix=/alt,forward", () => {
  const { args } = ok("-d tap name=en,host=tap7 -p tcpip prefix=/alt,forward");
  assert.deepEqual(args.modules, [
    driver("tap", "name=en,host=tap7"),
    protocol("tcpip", "prefix=/alt,forward"),
  ]);
});

Deno.test("parseDaemonArgs: -f stays in the foreground (deno task start)", () => {
  const { args } = ok("-f -ptcpip prefix=/tmp/io-pkt");
  assert.equal(args.foreground, true);
  assert.equal(args.tcpipOptions, "prefix=/tmp/io-pkt");
});

Deno.test("parseDaemonArgs keeps -d and -p in one list in command-line order", () => {
  const { args } = ok("-p a x=1 -d b -pc -db y=2,z -p tcpip forward");
  assert.deepEqual(args.modules, [
    protocol("a", "x=1"),
    driver("b"),
    protocol("c"),
    driver("b", "y=2,z"),
    protocol("tcpip", "forward"),
  ]);
});

Deno.test("parseDaemonArgs takes the word after -d/-p only if it doesn't start with -", () => {
  const { args } = ok("-p tcpip -d e1000 -S");
  assert.deepEqual(args.modules, [protocol("tcpip"), driver("e1000")]);
  assert.equal(args.noSegvHandler, true);
});

Deno.test("parseDaemonArgs keeps the last tcpip option string, as io-pkt", () => {
  assert.equal(ok("-p tcpip a=1 -p tcpip b=2").args.tcpipOptions, "b=2");
  assert.equal(ok("-p tcpip a=1 -p tcpip").args.tcpipOptions, "a=1");
  // Any name containing tcpip is the built-in stack.
  assert.equal(ok("-p mytcpip4 forward").args.tcpipOptions, "forward");
  assert.equal(ok("-p pf-v4 forward").args.tcpipOptions, "");
});

Deno.test("parseDaemonArgs records the protocol modules we don't have", () => {
  const { args } = ok("-ppf-v4 -ppf-v6 -p qnet -pslip -pautoip -pavb -p /proc/boot/lsm-pf-v6.so");
  assert.deepEqual(args.modules.map((m) => m.name), [
    "pf-v4",
    "pf-v6",
    "qnet",
    "slip",
    "autoip",
    "avb",
    "/proc/boot/lsm-pf-v6.so",
  ]);
  assert.deepEqual(
    args.modules.map((m) => protocolModuleName(m.name)),
    [
      "lsm-pf-v4.so",
      "lsm-pf-v6.so",
      "lsm-qnet.so",
      "lsm-slip.so",
      "lsm-autoip.so",
      "lsm-avb.so",
      "/proc/boot/lsm-pf-v6.so",
    ],
  );
});

Deno.test("isBuiltinProtocol is true for names containing tcpip", () => {
  assert.equal(isBuiltinProtocol("tcpip"), true);
  assert.equal(isBuiltinProtocol("tcpip6"), true);
  assert.equal(isBuiltinProtocol("pf-v6"), false);
  assert.equal(isBuiltinProtocol("qnet"), false);
});

Deno.test("parseDaemonArgs: -i sets the instance and the mount type", () => {
  assert.equal(ok("-i 0").args.mountType, "io-pkt");
  assert.equal(ok("-i2").args.instance, 2);
  assert.equal(ok("-i2").args.mountType, "io-pkt2");
});

Deno.test("parseDaemonArgs: -i must be a number >= 0", () => {
  assert.equal(fails("-i x"), 'io-pkt: invalid instance "x"\n');
  assert.equal(fails("-i -1"), 'io-pkt: invalid instance "-1"\n');
  assert.equal(fails("-i 1x"), 'io-pkt: invalid instance "1x"\n');
  assert.equal(fails("-i 1.5"), 'io-pkt: invalid instance "1.5"\n');
});

Deno.test("parseDaemonArgs: -P out of 1..255 is ignored with a warning", () => {
  assert.equal(ok("-P 10").args.priority, 10);
  assert.equal(ok("-P255").args.priority, 255);
  for (const bad of ["0", "256", "abc", "-5"]) {
    const { args, warnings } = ok(`-P ${bad}`);
    assert.equal(args.priority, 21, bad);
    assert.deepEqual(warnings, [`io-pkt: ignoring invalid value ${bad} for option -P`]);
  }
});

Deno.test("parseDaemonArgs: -t defaults to the CPUs and is clamped to 1..100", () => {
  assert.equal(ok("", 8).args.threads, 8);
  assert.equal(ok("-t 3").args.threads, 3);
  const low = ok("-t 0");
  assert.equal(low.args.threads, 1);
  assert.deepEqual(low.warnings, ["io-pkt: -t 0 adjusted to 1 (1..100)"]);
  const high = ok("-t200");
  assert.equal(high.args.threads, 100);
  assert.deepEqual(high.warnings, ["io-pkt: -t 200 adjusted to 100 (1..100)"]);
  assert.equal(fails("-t x"), 'io-pkt: invalid number of threads "x"\n');
  assert.equal(fails("-t -2"), 'io-pkt: invalid number of threads "-2"\n');
});

Deno.test("parseDaemonArgs: -D is dropped, with a warning, when there is one thread", () => {
  const one = ok("-D -t 1");
  assert.equal(one.args.dedicatedStackContext, false);
  assert.deepEqual(one.warnings, [
    "Cannot have dedicated stack context core with only 1 core or thread : (-D option, -t option)",
  ]);
  assert.equal(ok("-D", 1).args.dedicatedStackContext, false);
  assert.equal(ok("-D -t 2").args.dedicatedStackContext, true);
});

Deno.test("parseDaemonArgs takes the flags, clustered or not", () => {
  const { args } = ok("-vSDIef -v");
  assert.equal(args.verbose, 2);
  assert.equal(args.noSegvHandler, true);
  assert.equal(args.dedicatedStackContext, true);
  assert.equal(args.noIoPrivilege, true);
  assert.equal(args.pulseEvents, true);
  assert.equal(args.foreground, true);
});

Deno.test("parseDaemonArgs: -U takes uid[:gid[,sup]*] and user[,sup]*", () => {
  const cases: [string, unknown][] = [
    ["99:99,120", { kind: "ids", uid: 99, gid: 99, supplementary: [120] }],
    ["33", { kind: "ids", uid: 33, supplementary: [] }],
    ["33:44,1,2", { kind: "ids", uid: 33, gid: 44, supplementary: [1, 2] }],
    ["nobody", { kind: "user", user: "nobody", supplementary: [] }],
    ["www-data,5,6", { kind: "user", user: "www-data", supplementary: [5, 6] }],
  ];
  for (const [text, want] of cases) {
    assert.deepEqual(ok(`-U ${text}`).args.dropRoot, want, text);
    assert.deepEqual(parseDropRoot(text), want, text);
  }
});

Deno.test("parseDaemonArgs rejects a malformed -U", () => {
  for (const bad of ["33,120", ":", "a:b", "1:2,", "1:", "user,x", "-x"]) {
    assert.equal(parseDropRoot(bad), undefined, bad);
  }
  assert.equal(fails("-U 33,120"), 'io-pkt: invalid -U string "33,120"\n');
});

Deno.test("parseDaemonArgs validates and records -q, -r, -u and -w", () => {
  const { args } = ok("-q 10 -r 30 -u someone -w0x20");
  assert.deepEqual(args.undocumented, { q: 10, r: 30, u: "someone", w: 32 });
  assert.equal(fails("-q x"), 'io-pkt: invalid interval "x" for option -q\n');
  assert.equal(fails("-w -1"), 'io-pkt: invalid interval "-1" for option -w\n');
  assert.equal(fails("-r 0"), 'io-pkt: invalid priority "0" for option -r\n');
  assert.equal(fails("-r 300"), 'io-pkt: invalid priority "300" for option -r\n');
});

Deno.test("parseDaemonArgs: an unknown option gives the usage message", () => {
  const message = fails("-z");
  assert.ok(message.startsWith("io-pkt: unknown option -- z\n"), message);
  assert.ok(message.includes(daemonUsage("io-pkt")));
  const named = parseDaemonArgs(["-x"], { progname: "io-pkt-v6-hc" });
  assert.ok(!named.ok && named.message.startsWith("io-pkt-v6-hc: unknown option -- x\n"));
});

Deno.test("parseDaemonArgs: a missing argument gives the usage message", () => {
  const message = fails("-S -d");
  assert.ok(message.startsWith("io-pkt: option requires an argument -- d\n"), message);
  assert.ok(message.endsWith(daemonUsage("io-pkt")));
});

Deno.test("parseDaemonArgs: a word left over is a usage error", () => {
  assert.ok(fails("foo").startsWith('io-pkt: unexpected argument "foo"\n'));
  assert.ok(fails("-d e1000 name=eth extra").startsWith('io-pkt: unexpected argument "extra"\n'));
  assert.ok(fails("-S -- x").startsWith('io-pkt: unexpected argument "x"\n'));
  assert.ok(fails("-S -- x").includes("Syntax:"));
});

Deno.test("parseDaemonArgs rejects empty module names", () => {
  assert.equal(parseDaemonArgs(["-d", ""]).ok, false);
  assert.equal(parseDaemonArgs(["-p", ""]).ok, false);
});

Deno.test("daemonUsage lists every option", () => {
  const usage = daemonUsage("io-pkt-v4-hc");
  assert.ok(usage.startsWith("io-pkt-v4-hc - Networking manager"));
  for (
    const opt of [
      "-d",
      "-p",
      "-P",
      "-i",
      "-S",
      "-t",
      "-D",
      "-I",
      "-U",
      "-v",
      "-e",
      "-q",
      "-r",
      "-u",
      "-w",
      "-f",
    ]
  ) {
    assert.ok(usage.includes(`${opt} `), opt);
  }
});

Deno.test("protocolModuleName names the lsm DLL, or keeps a path", () => {
  assert.equal(protocolModuleName("qnet"), "lsm-qnet.so");
  assert.equal(protocolModuleName("/lib/dll/lsm-pf-v4.so"), "/lib/dll/lsm-pf-v4.so");
});
