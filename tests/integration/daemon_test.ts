/**
 * Integration: real daemons started through bin/ as a user starts them, real tool
 * processes, whole outputs compared.
 */
import assert from "node:assert/strict";
import { run, socketsPresent, tempPrefix, waitFor, withDaemons } from "../kit/processes.ts";

const LO0_V6 = `lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 33192
\tinet 127.0.0.1 netmask 0xff000000
\tinet6 ::1 prefixlen 128
\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x1
`;

Deno.test("two instances run side by side, each configured through its own SOCK", async () => {
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc");
    const b = await start("io-pkt-v4-hc", { args: ["-i1"] });
    assert.deepEqual(await a.tool("ifconfig", "-a"), { code: 0, stdout: LO0_V6, stderr: "" });
    const alias = await b.tool("ifconfig", "lo0", "alias", "127.0.0.2", "netmask", "255.0.0.0");
    assert.deepEqual(alias, { code: 0, stdout: "", stderr: "" });
    assert.deepEqual(await b.tool("ifconfig", "-a"), {
      code: 0,
      stdout: `lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 33192
\tinet 127.0.0.1 netmask 0xff000000
\tinet alias 127.0.0.2 netmask 0xff000000
`,
      stderr: "",
    });
    // The alias went to b only.
    assert.equal((await a.tool("ifconfig", "lo0")).stdout, LO0_V6);
  });
});

Deno.test("sysctl on a live daemon: the do_loopback_cksum trio and a write", async () => {
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc");
    const all = await a.tool("sysctl", "-a");
    assert.equal(all.code, 0);
    assert.deepEqual(all.stdout.split("\n").filter((l) => l.includes("do_loopback_cksum")), [
      "net.inet.ip.do_loopback_cksum = 0",
      "net.inet.tcp.do_loopback_cksum = 0",
      "net.inet.udp.do_loopback_cksum = 0",
    ]);
    assert.deepEqual(await a.tool("sysctl", "-w", "net.inet.ip.forwarding=1"), {
      code: 0,
      stdout: "net.inet.ip.forwarding: 0 -> 1\n",
      stderr: "",
    });
    assert.equal((await a.tool("sysctl", "-n", "net.inet.ip.forwarding")).stdout, "1\n");
  });
});

Deno.test("the forward option sets net.inet.ip.forwarding at start", async () => {
  await withDaemons(async (start) => {
    const b = await start("io-pkt-v4-hc", { tcpip: "forward" });
    assert.equal(
      (await b.tool("sysctl", "net.inet.ip.forwarding")).stdout,
      "net.inet.ip.forwarding = 1\n",
    );
  });
});

Deno.test("netstat -rn and -in show lo0 on a fresh v6 stack", async () => {
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc");
    const rn = await a.tool("netstat", "-rn");
    assert.equal(rn.code, 0, rn.stderr);
    assert.equal(
      rn.stdout,
      `Routing tables

Internet:
Destination        Gateway            Flags    Refs      Use    Mtu  Interface
127.0.0.1          127.0.0.1          UH          0        0  33192  lo0

Internet6:
Destination                        Gateway                        Flags    Refs      Use    Mtu  Interface
::1                                ::1                            UH          0        0  33192  lo0
fe80::%lo0/64                      fe80::1%lo0                    U           0        0  33192  lo0
fe80::1%lo0                        link#1                         UHL         0        0      -  lo0
`,
    );
    const inet = await a.tool("netstat", "-in");
    assert.equal(inet.code, 0, inet.stderr);
    const rows = inet.stdout.split("\n");
    assert.match(
      rows[0],
      /^Name\s+Mtu\s+Network\s+Address\s+Ipkts\s+Ierrs\s+Opkts\s+Oerrs\s+Colls$/,
    );
    assert.match(rows[1], /^lo0\s+33192\s+<Link>/);
    assert.ok(rows.some((r) => /^lo0\s+33192\s+127\/8\s+127\.0\.0\.1\s/.test(r)), inet.stdout);
  });
});

Deno.test("if_up -p finds lo0 and prints nothing", async () => {
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc");
    assert.deepEqual(await a.tool("if_up", "-p", "lo0"), { code: 0, stdout: "", stderr: "" });
    const missing = await a.tool("if_up", "-r", "2", "-m", "10", "en9");
    assert.deepEqual(missing, { code: 7, stdout: "", stderr: "if_up: retries exhausted\n" });
  });
});

Deno.test("dummy0 create and destroy; -d dummy attaches at start", async () => {
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc", {
      args: ["-d", "dummy", "name=en,mac=02:00:00:00:00:07"],
    });
    assert.equal((await a.tool("ifconfig", "-l")).stdout, "lo0 en0\n");
    assert.equal((await a.tool("ifconfig", "-C")).stdout, "lo dummy shmif\n");
    assert.deepEqual(await a.tool("ifconfig", "dummy0", "create"), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assert.equal((await a.tool("ifconfig", "-l")).stdout, "lo0 en0 dummy0\n");
    assert.deepEqual(await a.tool("ifconfig", "dummy0", "destroy"), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assert.equal((await a.tool("ifconfig", "-l")).stdout, "lo0 en0\n");
    assert.deepEqual(await a.tool("ifconfig", "en0", "192.0.2.1/24"), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assert.equal(
      (await a.tool("ifconfig", "en0")).stdout,
      `en0: flags=88c3<UP,BROADCAST,RUNNING,NOARP,SIMPLEX,MULTICAST> mtu 1500
\taddress: 02:00:00:00:00:07
\tinet 192.0.2.1 netmask 0xffffff00 broadcast 192.0.2.255
`,
    );
  });
});

Deno.test("mount -T io-pkt loads a driver into a running stack; a foreign type is refused", async () => {
  await withDaemons(async (start) => {
    const b = await start("io-pkt-v4-hc", { args: ["-i1"] });
    const ok = await b.tool("mount", "-T", "io-pkt1", "-o", "name=vx", "devnp-dummy.so");
    assert.deepEqual(ok, { code: 0, stdout: "", stderr: "" });
    assert.equal((await b.tool("ifconfig", "-l")).stdout, "lo0 vx0\n");
    const wrong = await b.tool("mount", "-T", "io-pkt", "devnp-dummy.so");
    assert.equal(wrong.code, 1);
    assert.equal(
      wrong.stderr,
      "mount: Can't mount devnp-dummy.so (type io-pkt) \nmount: Possible reason: No such file or directory \n",
    );
  });
});

Deno.test("errors: unknown interface, bad address, bad mtu, inet6 on the v4 stack", async () => {
  await withDaemons(async (start) => {
    const b = await start("io-pkt-v4-hc");
    assert.deepEqual(await b.tool("ifconfig", "en7"), {
      code: 1,
      stdout: "",
      stderr: "ifconfig: SIOCGIFFLAGS en7: No such device or address\n",
    });
    const badAddr = await b.tool("ifconfig", "lo0", "300.1.2.3");
    assert.equal(badAddr.code, 1);
    assert.match(badAddr.stderr, /^ifconfig: .*300\.1\.2\.3/);
    const badMtu = await b.tool("ifconfig", "lo0", "mtu", "ten");
    assert.deepEqual(badMtu, { code: 1, stdout: "", stderr: "ifconfig: ten: invalid mtu\n" });
    const v6 = await b.tool("ifconfig", "lo0", "inet6", "2001:db8::1");
    assert.equal(v6.code, 1);
    assert.match(v6.stderr, /Address family not supported by protocol family/);
  });
});

Deno.test("a tool with no stack behind SOCK says which path it tried and exits 1", async () => {
  const prefix = tempPrefix();
  try {
    for (const tool of ["ifconfig", "netstat", "sysctl"]) {
      const r = await run(tool, tool === "sysctl" ? ["-a"] : ["-a"], { SOCK: prefix });
      assert.equal(r.code, 1, tool);
      assert.ok(r.stderr.includes(`${prefix}/dev/socket`), `${tool}: ${r.stderr}`);
    }
  } finally {
    Deno.removeSync(prefix, { recursive: true });
  }
});

Deno.test("a second daemon on a live socket refuses to start; the first keeps serving", async () => {
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc");
    const second = await run("io-pkt-v6-hc", ["-ptcpip", `prefix=${a.prefix}`]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /a stack already answers at .*\/dev\/socket\/config/);
    assert.ok(a.alive());
    assert.equal((await a.tool("ifconfig", "-l")).stdout, "lo0\n");
  });
});

Deno.test("after kill -9 the stale socket is taken over by a new daemon", async () => {
  await withDaemons(async (start) => {
    const first = await start("io-pkt-v6-hc");
    await first.stop("SIGKILL");
    assert.ok(socketsPresent(first.prefix), "kill -9 leaves the socket behind");
    const second = await start("io-pkt-v6-hc", { prefix: first.prefix });
    assert.notEqual(second.pid, first.pid);
    assert.equal((await second.tool("ifconfig", "-l")).stdout, "lo0\n");
  });
});

Deno.test("SIGTERM shuts down in order and removes the sockets and the pid file", async () => {
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc", { args: ["-d", "dummy"] });
    assert.equal(Deno.readTextFileSync(`${a.prefix}/var/run/io-pkt.pid`), `${a.pid}\n`);
    Deno.kill(a.pid, "SIGTERM");
    await waitFor("the daemon to exit", () => !a.alive());
    assert.ok(!socketsPresent(a.prefix));
    assert.throws(() => Deno.statSync(`${a.prefix}/var/run/io-pkt.pid`));
    const log = Deno.readTextFileSync(`${a.prefix}/var/log/io-pkt.log`);
    assert.match(log, /SIGTERM: shutting down/);
    assert.match(log, /dummy0: detached/);
    assert.match(log, /stopped/);
  });
});

Deno.test("-d /path/to/driver.ts loads a driver file from outside drivers/", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "iopkt-driver-" });
  const file = `${dir}/my-driver.ts`;
  // A driver needs nothing from this checkout: the contract is structural.
  Deno.writeTextFileSync(
    file,
    `export const driver = {
  defaultPrefix: "mine",
  cloneable: false,
  attach(host, options) {
    host.log("my-driver options: " + options);
    host.attachInterface({ mtu: 1280, transmit() {} });
    host.attachInterface({ mtu: 1280, transmit() {} });
  },
};
`,
  );
  try {
    await withDaemons(async (start) => {
      const a = await start("io-pkt-v6-hc", { args: ["-d", file, "unit=3,speed=fast"] });
      assert.equal((await a.tool("ifconfig", "-l")).stdout, "lo0 mine3 mine0\n");
      const log = Deno.readTextFileSync(`${a.prefix}/var/log/io-pkt.log`);
      assert.match(log, /my-driver options: speed=fast\n/);
      assert.equal((await a.tool("ifconfig", "mine3", "destroy")).code, 0);
      assert.equal((await a.tool("ifconfig", "mine0", "destroy")).code, 0);
      await waitFor(
        "the unload to be logged",
        () =>
          /no interfaces left, unloaded/.test(
            Deno.readTextFileSync(`${a.prefix}/var/log/io-pkt.log`),
          ),
      );
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("SIGINT shuts down in order too; -f keeps the daemon in the foreground", async () => {
  const prefix = tempPrefix();
  const child = new Deno.Command(`${new URL("../../bin/", import.meta.url).pathname}io-pkt-v4-hc`, {
    args: ["-f", "-ptcpip", `prefix=${prefix}`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    await waitFor(
      "the foreground daemon to answer",
      async () => (await run("ifconfig", ["-l"], { SOCK: prefix })).stdout === "lo0\n",
    );
    child.kill("SIGINT");
    const out = await child.output();
    assert.equal(out.code, 0);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.match(stderr, /ready: /);
    assert.match(stderr, /SIGINT: shutting down/);
    assert.ok(!socketsPresent(prefix));
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    Deno.removeSync(prefix, { recursive: true });
  }
});
