/**
 * The shmif driver: members of one bus (a temporary directory) in one process
 * exchange frames; joining and leaving with linkstr; stale members; the
 * capture file and `shmif_dumpbus`, checked by tshark or tcpdump when
 * installed. Unprivileged: no namespace, no Linux network device.
 */
import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { driver as shmif } from "../../drivers/devnp-shmif.ts";
import { cString, libc, SOCK, sockaddrUn } from "../../drivers/io/libc.ts";
import { SCAN_INTERVAL_MS, ShmifMember } from "../../drivers/io/shmif_bus.ts";
import { readCaptureRecords } from "../../drivers/io/shmif_capture.ts";
import { readPcap } from "../../drivers/wrap/pcap_format.ts";
import { capturesToPcap, type DumpbusIO, shmifDumpbusMain } from "../../tools/shmif_dumpbus.ts";
import { sh, which } from "../kit/netns.ts";
import { FakeHost, type FakeIface, waitUntil } from "./fake_host.ts";

const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

/** An Ethernet frame from `src` to `dst` of EtherType 0x88b5 (local experimental), tagged `tag`. */
function frame(dst: ArrayLike<number>, src: Uint8Array, tag: number): Uint8Array {
  const f = new Uint8Array(60);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  f[14] = tag;
  return f;
}

function tagsOf(iface: FakeIface): number[] {
  return iface.frames.filter((f) => f[12] === 0x88 && f[13] === 0xb5).map((f) => f[14]);
}

/** Attaches `n` shmif interfaces (one host each) with `options`; pushes each host to `into`. */
async function members(into: FakeHost[], n: number, options: (i: number) => string) {
  for (let i = 0; i < n; i++) {
    const host = new FakeHost("shmif");
    into.push(host);
    await shmif.attach(host, options(i));
  }
  return into;
}

/** The member socket files of a bus (the capture ring's files beside them are not members). */
function memberFiles(bus: string): string[] {
  return [...Deno.readDirSync(bus)].map((e) => e.name).filter((n) => n.startsWith("member."))
    .sort();
}

/** Lets every member's cached member list see the others. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, SCAN_INTERVAL_MS + 50));
}

Deno.test("shmif: three members; broadcast reaches all others, unicast is delivered as on a hub", async () => {
  const bus = Deno.makeTempDirSync({ prefix: "shmif-bus" });
  const hosts: FakeHost[] = [];
  try {
    await members(hosts, 3, (i) => `bus=${bus},mac=02:00:00:00:00:0${i + 1}`);
    const [a, b, c] = hosts.map((h) => h.ifaces[0]);
    assert.equal(a.linkActive, true);
    assert.equal(a.spec.linkType, "ethernet");
    assert.match(hosts[0].logs[0], /shmif0: joined bus .* as member\.\d+\.[0-9a-f]{8}/);
    await settle();
    a.spec.transmit(frame(BROADCAST, a.spec.lladdr!, 1));
    b.spec.transmit(frame(a.spec.lladdr!, b.spec.lladdr!, 2));
    await waitUntil("frames on the bus", () => tagsOf(a).length >= 1 && tagsOf(c).length >= 2);
    assert.deepEqual(tagsOf(a), [2]);
    assert.deepEqual(tagsOf(b), [1], "no member hears itself");
    assert.deepEqual(tagsOf(c), [1, 2], "a hub: the stack's Ethernet input filters unicast");
    const sockets = memberFiles(bus);
    assert.equal(sockets.length, 3);
    for (const h of hosts) h.detachAll();
    assert.deepEqual(memberFiles(bus), [], "members remove their socket files");
    assert.match(hosts[0].logs.join("\n"), /detached bus .* \(1 frames sent, 0 copies dropped\)/);
  } finally {
    for (const h of hosts) h.detachAll();
    Deno.removeSync(bus, { recursive: true });
  }
});

Deno.test("shmif: cloned without a bus, joined and left with linkstr", async () => {
  const bus = Deno.makeTempDirSync({ prefix: "shmif-bus" });
  const hosts: FakeHost[] = [];
  try {
    await members(hosts, 2, (i) => (i === 0 ? "" : `bus=${bus}`));
    const [a, b] = hosts.map((h) => h.ifaces[0]);
    assert.equal(a.linkActive, false, "no bus, no carrier");
    a.spec.transmit(frame(BROADCAST, a.spec.lladdr!, 9)); // goes nowhere
    assert.throws(
      () => a.spec.setLinkStr!("relative/bus"),
      (e: unknown) => e instanceof ErrnoError && e.code === "EINVAL",
    );
    a.spec.setLinkStr!(bus);
    assert.equal(a.linkActive, true);
    await settle();
    b.spec.transmit(frame(BROADCAST, b.spec.lladdr!, 3));
    await waitUntil("a frame after linkstr", () => tagsOf(a).length === 1);
    a.spec.setLinkStr!("");
    assert.equal(a.linkActive, false);
    assert.equal(memberFiles(bus).length, 1, "only b's socket is left");
  } finally {
    for (const h of hosts) h.detachAll();
    Deno.removeSync(bus, { recursive: true });
  }
});

Deno.test("shmif: a stale member file (no process behind it) is removed on the first send", async () => {
  const bus = Deno.makeTempDirSync({ prefix: "shmif-bus" });
  const host = new FakeHost("shmif");
  try {
    // A socket bound and closed leaves its file behind, as a killed daemon would.
    const stale = `${bus}/member.1.deadbeef`;
    const fd = libc().socket(SOCK.AF_UNIX, SOCK.DGRAM, 0);
    const addr = sockaddrUn(stale);
    assert.equal(libc().bind(fd, addr, addr.length), 0);
    libc().close(fd);
    await shmif.attach(host, `bus=${bus}`);
    host.ifaces[0].spec.transmit(frame(BROADCAST, host.ifaces[0].spec.lladdr!, 1));
    assert.throws(() => Deno.statSync(stale), Deno.errors.NotFound);
  } finally {
    host.detachAll();
    libc().unlink(cString(`${bus}/member.1.deadbeef`));
    Deno.removeSync(bus, { recursive: true });
  }
});

Deno.test("shmif: a datagram longer than a receive slot is dropped and counted", async () => {
  const bus = Deno.makeTempDirSync({ prefix: "shmif-bus" });
  const got: number[] = [];
  const a = ShmifMember.join(bus, { maxFrame: 128, onFrame: (f) => got.push(f.length) });
  const b = ShmifMember.join(bus, { onFrame: () => {} });
  try {
    await a.whenReady();
    b.send(new Uint8Array(200));
    b.send(new Uint8Array(60));
    await waitUntil("the small frame", () => got.length === 1);
    assert.deepEqual(got, [60]);
    assert.equal(a.stats().oversize, 1);
  } finally {
    a.leave();
    b.leave();
    Deno.removeSync(bus, { recursive: true });
  }
});

Deno.test("shmif: bad options and buses fail with the right errno", async () => {
  const file = Deno.makeTempFileSync();
  try {
    const cases: [string, string][] = [
      ["bogus=1", "EINVAL"],
      ["bus=", "EINVAL"],
      ["capture=yes", "EINVAL"],
      ["mtu=40", "EINVAL"],
      [`bus=${file}`, "ENOTDIR"],
      [`bus=/tmp/${"x".repeat(120)}`, "ENAMETOOLONG"],
    ];
    for (const [opts, code] of cases) {
      const host = new FakeHost("shmif");
      await assert.rejects(
        async () => await shmif.attach(host, opts),
        (e: unknown) => e instanceof ErrnoError && e.code === code,
        opts,
      );
      host.detachAll();
    }
  } finally {
    Deno.removeSync(file);
  }
});

function fakeIO(
  files: Map<string, Uint8Array>,
): DumpbusIO & { out: string; err: string; bin: Uint8Array[] } {
  const io = {
    out: "",
    err: "",
    bin: [] as Uint8Array[],
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    stdoutBytes: (b: Uint8Array) => void io.bin.push(b.slice()),
    isDirectory: (p: string) => {
      if (files.has(p)) return false;
      if ([...files.keys()].some((k) => k.startsWith(`${p}/`))) return true;
      throw new Deno.errors.NotFound(`${p}: not found`);
    },
    readFile: (p: string) => {
      const f = files.get(p);
      if (!f) throw new Deno.errors.NotFound(`No such file or directory`);
      return f;
    },
    writeFile: (p: string, b: Uint8Array) => void files.set(p, b.slice()),
  };
  return io;
}

Deno.test("shmif_dumpbus: text lines, -h, -p to a file and to stdout, usage errors", () => {
  const rec = new Uint8Array(12 + 60);
  new DataView(rec.buffer).setUint32(0, 1_700_000_000, true);
  new DataView(rec.buffer).setUint32(4, 42, true);
  new DataView(rec.buffer).setUint32(8, 60, true);
  rec.set(frame(BROADCAST, new Uint8Array([2, 0, 0, 0, 0, 1]), 0), 12);
  const files = new Map([["/bus/capture", rec]]);
  let io = fakeIO(files);
  assert.equal(shmifDumpbusMain(["/bus"], io), 0);
  assert.equal(
    io.out,
    "bus /bus: 1 frames, 60 bytes\n" +
      "frame 0: 1700000000.000042 len 60 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff type 0x88b5\n",
  );
  io = fakeIO(files);
  assert.equal(shmifDumpbusMain(["-h", "/bus"], io), 0);
  assert.equal(io.out, "bus /bus: 1 frames, 60 bytes\n");
  io = fakeIO(files);
  assert.equal(shmifDumpbusMain(["-p", "/out.pcap", "/bus"], io), 0);
  const pcap = readPcap(files.get("/out.pcap")!);
  assert.equal(pcap.linktype, 1);
  assert.equal(pcap.records[0].timestampUs, 1_700_000_000_000_042);
  io = fakeIO(files);
  assert.equal(shmifDumpbusMain(["-p", "-", "/bus/capture"], io), 0);
  assert.deepEqual(io.bin[0], files.get("/out.pcap"));
  io = fakeIO(files);
  assert.equal(shmifDumpbusMain([], io), 1);
  assert.equal(io.err, "usage: shmif_dumpbus [-h] [-p pcapfile] bus\n");
  io = fakeIO(files);
  assert.equal(shmifDumpbusMain(["/nowhere"], io), 1);
  assert.match(io.err, /^shmif_dumpbus: \/nowhere: /);
});

Deno.test("shmif: the capture holds the segment's traffic; shmif_dumpbus -p makes a pcap tshark reads", async () => {
  const bus = Deno.makeTempDirSync({ prefix: "shmif-bus" });
  const hosts: FakeHost[] = [];
  const pcapFile = `${bus}.pcap`;
  try {
    await members(hosts, 2, (i) => `bus=${bus},capture,mac=02:00:00:00:00:0${i + 1}`);
    const [a, b] = hosts.map((h) => h.ifaces[0]);
    await settle();
    for (let i = 0; i < 10; i++) {
      a.spec.transmit(frame(b.spec.lladdr!, a.spec.lladdr!, i));
      b.spec.transmit(frame(a.spec.lladdr!, b.spec.lladdr!, 100 + i));
    }
    await waitUntil("20 frames", () => tagsOf(a).length === 10 && tagsOf(b).length === 10);
    const { records, trailing } = readCaptureRecords(Deno.readFileSync(`${bus}/capture`));
    assert.equal(trailing, 0);
    assert.equal(records.length, 20);
    assert.deepEqual(
      records.map((r) => r.frame[14]).sort((x, y) => x - y),
      [
        ...Array.from({ length: 10 }, (_, i) => i),
        ...Array.from({ length: 10 }, (_, i) => 100 + i),
      ],
    );
    assert.equal(shmifDumpbusMain(["-p", pcapFile, bus]), 0);
    assert.deepEqual(Deno.readFileSync(pcapFile), capturesToPcap(records));
    if (which("tshark")) {
      const r = await sh("tshark", [
        "-r",
        pcapFile,
        "-T",
        "fields",
        "-e",
        "eth.src",
        "-e",
        "eth.type",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines.length, 20);
      assert.ok(lines.every((l) => /^02:00:00:00:00:0[12]\t0x(0000)?88b5$/.test(l)), r.stdout);
    } else if (which("tcpdump")) {
      const r = await sh("tcpdump", ["-n", "-e", "-r", pcapFile]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split("\n").length, 20);
    } else {
      console.log("neither tshark nor tcpdump: the pcap is checked by readPcap only");
    }
  } finally {
    for (const h of hosts) h.detachAll();
    Deno.removeSync(bus, { recursive: true });
    try {
      Deno.removeSync(pcapFile);
    } catch { /* not written */ }
  }
});

Deno.test("shmif: a process whose interfaces are detached exits (no Worker keeps it alive)", async () => {
  const bus = Deno.makeTempDirSync({ prefix: "shmif-bus" });
  try {
    const driverUrl = new URL("../../drivers/devnp-shmif.ts", import.meta.url).href;
    const code = `
      const { driver } = await import(${JSON.stringify(driverUrl)});
      const specs = [];
      const host = {
        attachInterface(spec) {
          specs.push(spec);
          return { name: "shmif0", index: 1, receive() {}, setLinkActive() {} };
        },
        log() {},
      };
      await driver.attach(host, "bus=${bus}");
      await driver.attach(host, "bus=${bus}");
      await new Promise((r) => setTimeout(r, 300));
      for (const s of specs) s.detach();
      console.log("detached");`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", code],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const out = await child.output();
    clearTimeout(timer);
    assert.equal(out.signal, null, "the process had to be killed: something kept it alive");
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout), "detached\n");
  } finally {
    Deno.removeSync(bus, { recursive: true });
  }
});
