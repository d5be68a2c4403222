/**
 * Integration: the tools as NetBSD- and QNX-style scripts run them, against
 * real daemons on unprivileged shmif buses: a bare `ifconfig`, `ifconfig -w`
 * waiting out DAD, a cloned interface's bus dumped with `shmif_dumpbus` and
 * read by tcpdump (its gratuitous ARPs, also after `link ADDR active`), and
 * `route add -reject` with an off-link gateway. Outputs compared whole.
 */
import assert from "node:assert/strict";
import { sh, which } from "../kit/netns.ts";
import { withDaemons } from "../kit/processes.ts";

const LO0 = "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 33192\n" +
  "\tinet 127.0.0.1 netmask 0xff000000\n" +
  "\tinet6 ::1 prefixlen 128\n" +
  "\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x1\n";

/** A bus directory removed afterwards, whatever happens. */
async function withBus(fn: (bus: string) => Promise<void>): Promise<void> {
  const bus = Deno.makeTempDirSync({ prefix: "shmif-bus" });
  try {
    await fn(bus);
  } finally {
    Deno.removeSync(bus, { recursive: true });
  }
}

Deno.test({
  name: "scripts: bare ifconfig lists all; ifconfig -w waits out DAD on a shmif network",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withBus((bus) =>
      withDaemons(async (start) => {
        const d = await start("io-pkt-v6-hc", {
          args: ["-d", "shmif", `bus=${bus},mac=02:00:00:00:0b:01`],
        });
        // Three probes a second apart: DAD takes about three seconds.
        assert.equal((await d.tool("sysctl", "-w", "net.inet6.ip6.dad_count=3")).code, 0);
        assert.equal((await d.tool("ifconfig", "shmif0", "up")).code, 0);
        const add = await d.tool("ifconfig", "shmif0", "inet6", "2001:db8::1");
        assert.equal(add.code, 0, add.stderr);
        const during = await d.tool("ifconfig", "shmif0", "inet6");
        assert.match(during.stdout, /\tinet6 2001:db8::1 prefixlen 64 tentative\n/);
        const wait = await d.tool("ifconfig", "-w", "20");
        assert.deepEqual(wait, { code: 0, stdout: "", stderr: "" });
        const shmif0 = "shmif0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n" +
          "\taddress: 02:00:00:00:0b:01\n" +
          "\tstatus: active\n" +
          "\tinet6 fe80::ff:fe00:b01%shmif0 prefixlen 64 scopeid 0x2\n" +
          "\tinet6 2001:db8::1 prefixlen 64\n";
        assert.deepEqual(await d.tool("ifconfig"), { code: 0, stdout: LO0 + shmif0, stderr: "" });
        assert.deepEqual(await d.tool("ifconfig"), await d.tool("ifconfig", "-a"));
        // A second address runs DAD again, and a short -w runs out.
        assert.equal((await d.tool("ifconfig", "shmif0", "inet6", "2001:db8::2")).code, 0);
        const short = await d.tool("ifconfig", "-w", "1", "shmif0");
        assert.deepEqual(short, { code: 1, stdout: "", stderr: "ifconfig: timed out\n" });
        assert.equal((await d.tool("ifconfig", "-w", "20", "shmif0")).code, 0);
        assert.doesNotMatch((await d.tool("ifconfig", "shmif0")).stdout, /tentative/);
      })
    ),
});

Deno.test({
  name: "scripts: a cloned interface's bus dumps to pcap; tcpdump reads its gratuitous ARPs",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withBus((bus) =>
      withDaemons(async (start) => {
        const d = await start("io-pkt-v4-hc", {});
        assert.equal((await d.tool("ifconfig", "shmif0", "create")).code, 0);
        assert.equal((await d.tool("ifconfig", "shmif0", "linkstr", bus)).code, 0);
        const first = await d.tool("ifconfig", "shmif0", "link", "02:00:00:00:0c:01", "active");
        assert.equal(first.code, 0, first.stderr);
        assert.equal((await d.tool("ifconfig", "shmif0", "192.0.2.5/24")).code, 0);
        const second = await d.tool("ifconfig", "shmif0", "link", "02:00:00:00:0c:02", "active");
        assert.equal(second.code, 0, second.stderr);
        const show = await d.tool("ifconfig", "shmif0");
        const text = show.stdout.replace(/\tlink (?!02:00:00:00:0c:0)[0-9a-f:]+\n/, "");
        assert.equal(
          text,
          "shmif0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n" +
            "\taddress: 02:00:00:00:0c:02\n" +
            "\tstatus: active\n" +
            "\tinet 192.0.2.5 netmask 0xffffff00 broadcast 192.0.2.255\n" +
            "\tlink 02:00:00:00:0c:01\n",
        );
        const drop = await d.tool("ifconfig", "shmif0", "-link", "02:00:00:00:0c:02");
        assert.deepEqual(drop, {
          code: 1,
          stdout: "",
          stderr: "ifconfig: SIOCDLIFADDR: Resource busy\n",
        });
        const pcap = `${bus}/out.pcap`;
        const dump = await sh(`${Deno.cwd()}/bin/shmif_dumpbus`, ["-p", pcap, bus]);
        assert.equal(dump.code, 0, dump.stderr);
        if (!which("tcpdump")) return;
        const r = await sh("tcpdump", ["-n", "-e", "-t", "-r", pcap, "arp"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(
          r.stdout,
          "02:00:00:00:0c:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 60: " +
            "Request who-has 192.0.2.5 tell 192.0.2.5, length 46\n" +
            "02:00:00:00:0c:02 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 60: " +
            "Request who-has 192.0.2.5 tell 192.0.2.5, length 46\n",
        );
      })
    ),
});

Deno.test("scripts: route add -reject with an off-link gateway; route get and show", async () => {
  await withDaemons(async (start) => {
    const d = await start("io-pkt-v4-hc", { args: ["-d", "dummy", "name=en"] });
    assert.equal((await d.tool("ifconfig", "en0", "192.0.2.1/24")).code, 0);
    const add = await d.tool("route", "add", "-net", "198.51.100.0/24", "203.0.113.1", "-reject");
    assert.deepEqual(add, {
      code: 0,
      stdout: "add net 198.51.100.0/24: gateway 203.0.113.1\n",
      stderr: "",
    });
    const bh = await d.tool("route", "add", "-host", "203.0.113.9", "198.51.100.1", "-blackhole");
    assert.equal(bh.code, 0, bh.stderr);
    assert.deepEqual(await d.tool("route", "-n", "get", "198.51.100.9"), {
      code: 0,
      stdout: "   route to: 198.51.100.9\n" +
        "destination: 198.51.100.0\n" +
        "       mask: 255.255.255.0\n" +
        "    gateway: 203.0.113.1\n" +
        " local addr: 127.0.0.1\n" +
        "  interface: lo0\n" +
        "      flags: <UP,GATEWAY,REJECT,DONE,STATIC>\n" +
        " recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire\n" +
        "       0         0         0         0         0         0         0         0 \n",
      stderr: "",
    });
    assert.deepEqual(await d.tool("route", "-n", "show", "-inet"), {
      code: 0,
      stdout: "Routing table\n" +
        "\n" +
        "Internet:\n" +
        "Destination        Gateway            Flags \n" +
        "127.0.0.1          127.0.0.1          UH     \n" +
        "192.0.2.0/24       link#2             U      \n" +
        "198.51.100.0/24    203.0.113.1        UGR    \n" +
        "203.0.113.9        198.51.100.1       UGH    \n",
      stderr: "",
    });
    const rn = await d.tool("netstat", "-rn", "-f", "inet");
    assert.match(rn.stdout, /\n198\.51\.100\/24 {6}203\.0\.113\.1 {8}UGRS {8}0 +\d+ +- {2}lo0\n/);
    assert.match(rn.stdout, /\n203\.0\.113\.9 {8}198\.51\.100\.1 {7}UGHBS {7}0 +\d+ +- {2}lo0\n/);
    const ping = await d.tool("ping", "-c", "1", "198.51.100.9");
    assert.equal(ping.code, 1);
    assert.equal(ping.stderr, "ping: sendto: No route to host\n");
    // Without -reject the off-link gateway is still refused.
    const plain = await d.tool("route", "add", "-net", "198.51.101.0/24", "203.0.113.1");
    assert.equal(plain.code, 1);
    assert.equal(plain.stderr, "route: writing to routing socket: Network is unreachable\n");
  });
});
