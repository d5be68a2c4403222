/**
 * Interop, UDP: a stack embedded in this test process, on a Linux TAP device
 * moved into a namespace the test made, against Linux's `nc -u` and python3
 * sockets, both families: datagrams both ways (each side starting), 60 000-byte
 * datagrams both ways (fragmented and reassembled on each side), ICMP port
 * unreachable both ways, multicast from Linux to a socket that joined the
 * group, and tshark's verdict (no malformed frame, no bad IP/UDP/ICMP sum)
 * over every frame the stack sent.
 */
import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { Endpoint } from "../../core/net/inet_addr.ts";
import type { UdpHandle } from "../../core/socket/udp_handle.ts";
import { interopUnavailable, which } from "../kit/netns.ts";
import { checkCaptures, tsharkCount } from "../kit/capture.ts";
import { LiveProcess, waitFor } from "../kit/processes.ts";
import { type TapStack, tapStack } from "../kit/tap_stack.ts";

function unavailable(): string | null {
  const why = interopUnavailable();
  if (why) return why;
  for (const tool of ["nc", "python3"]) if (!which(tool)) return `${tool} is not installed`;
  return null;
}

const skip = unavailable();
if (skip) console.log(`interop UDP tests skipped: ${skip}`);

const MAC = "02:00:5e:00:17:02";
const FAMILIES = [
  {
    fam: 4 as const,
    linux: "192.0.2.1",
    ours: "192.0.2.2",
    group: "239.1.2.3",
    other: "239.1.2.4",
  },
  {
    fam: 6 as const,
    linux: "2001:db8::1",
    ours: "2001:db8::2",
    group: "ff12::db8:1",
    other: "ff12::db8:2",
  },
];
const BIG = 60_000;

/**
 * Linux's half of the exchanges that need exact datagram sizes or errors:
 * `big HOST PORT N` sends N bytes of a known pattern on a connected socket and
 * prints the length and SHA-256 of the reply; `refused HOST PORT` prints
 * ECONNREFUSED when the peer answers port unreachable; `mcast PORT LOCAL IFNAME
 * GROUP...` sends "to GROUP" to each group out of the device, in order.
 */
const PY = `
import hashlib, socket, sys
mode = sys.argv[1]
def fam(h): return socket.AF_INET6 if ":" in h else socket.AF_INET
if mode in ("big", "refused"):
    host, port = sys.argv[2], int(sys.argv[3])
    s = socket.socket(fam(host), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.settimeout(10)
    s.connect((host, port))
    if mode == "big":
        n = int(sys.argv[4])
        s.send(bytes((i * 7 + 3) & 255 for i in range(n)))
        r = s.recv(65536)
        print(len(r), hashlib.sha256(r).hexdigest(), flush=True)
    else:
        s.send(b"anyone there?")
        try:
            s.recv(100)
            print("answered", flush=True)
        except ConnectionRefusedError:
            print("ECONNREFUSED", flush=True)
else:
    port, local, ifname = int(sys.argv[2]), sys.argv[3], sys.argv[4]
    for g in sys.argv[5:]:
        s = socket.socket(fam(g), socket.SOCK_DGRAM)
        if fam(g) == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex(ifname))
        else:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(local))
        s.sendto(("to " + g).encode(), (g, port))
        s.close()
`;

const text = (t: string) => new TextEncoder().encode(t);
const decode = (d: Uint8Array) => new TextDecoder().decode(d);

/** `n` bytes of the pattern python's `big` mode sends. */
function linuxPattern(n: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 7 + 3) & 255);
}

async function sha256(d: Uint8Array<ArrayBuffer>): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", d));
  return Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
}

interface Datagram {
  data: Uint8Array;
  from: string;
}

/** Collects what `h` receives; `reply` (when given) answers each datagram. */
function collect(
  h: UdpHandle,
  reply?: (d: Uint8Array, from: Endpoint) => Uint8Array | null,
): Datagram[] {
  const got: Datagram[] = [];
  const from = new Endpoint();
  h.onReadable = () => {
    for (let d = h.receive(from); d !== null; d = h.receive(from)) {
      got.push({ data: d, from: from.toString() });
      const answer = reply?.(d, from);
      if (answer) h.sendTo(answer, from.addr, from.port);
    }
  };
  return got;
}

/** The errno a receive on `h` reports now, or null (nothing pending). */
function pendingError(h: UdpHandle): string | null {
  try {
    h.receive();
    return null;
  } catch (e) {
    if (e instanceof ErrnoError) return e.code;
    throw e;
  }
}

/** Whether a UDP socket on `port` is open inside the rig's namespace. */
async function linuxListening(rig: TapStack, port: number): Promise<boolean> {
  const r = await rig.ns.exec("ss", ["-Hnul", `sport = :${port}`]);
  return r.code === 0 && r.stdout.trim() !== "";
}

function python(rig: TapStack, args: string[]) {
  return rig.ns.exec("python3", ["-c", PY, ...args], 20_000);
}

Deno.test({
  name: "UDP with Linux over TAP: nc both ways, 60 000-byte datagrams, port unreachable, multicast",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const rig = await tapStack({
      dev: `iou${Deno.pid % 100000}a`,
      mac: MAC,
      linux: ["192.0.2.1/24", "2001:db8::1/64"],
      ours4: "192.0.2.2",
      ours6: "2001:db8::2",
      capture: true,
    });
    const sockets: UdpHandle[] = [];
    const procs: LiveProcess[] = [];
    const open = (fam: 4 | 6) => {
      const h = rig.stack.openUdp(fam);
      sockets.push(h);
      return h;
    };
    const spawn = (cmd: string, args: string[]) => {
      const p = LiveProcess.inNs(rig.ns, cmd, args);
      procs.push(p);
      return p;
    };
    try {
      for (const f of FAMILIES) {
        const { fam, linux, ours } = f;
        const v6 = fam === 6 ? ["-6"] : [];
        const shown = (a: string, port: number) => fam === 6 ? `[${a}]:${port}` : `${a}:${port}`;

        await t.step(
          `IPv${fam}: Linux's nc sends to a stack socket and gets its reply`,
          async () => {
            const server = open(fam);
            server.bind(ours, 7000 + fam);
            const got = collect(server, (d) => text(`stack heard: ${decode(d)}`));
            const nc = spawn("nc", [
              ...v6,
              "-u",
              "-s",
              linux,
              "-p",
              `${40000 + fam}`,
              ours,
              `${7000 + fam}`,
            ]);
            await nc.write("hello from linux\n");
            await waitFor("the stack to receive nc's datagram", () => got.length > 0, 10_000);
            assert.equal(decode(got[0].data), "hello from linux\n");
            assert.equal(got[0].from, shown(linux, 40000 + fam));
            await nc.waitOutput(
              "nc to print the stack's reply",
              (o) => o.includes("stack heard: hello"),
            );
            assert.equal(nc.stdout, "stack heard: hello from linux\n");
            await nc.stop();
          },
        );

        await t.step(
          `IPv${fam}: the stack sends first to a listening nc, which answers`,
          async () => {
            const port = 9000 + fam;
            const nc = spawn("nc", [...v6, "-u", "-l", linux, `${port}`]);
            await waitFor("nc to listen", () => linuxListening(rig, port), 10_000);
            const client = open(fam);
            const got = collect(client);
            client.sendTo(text("hello from the stack\n"), linux, port);
            await nc.waitOutput("nc to print the stack's datagram", (o) => o.includes("\n"));
            assert.equal(nc.stdout, "hello from the stack\n");
            await nc.write("linux answers\n");
            await waitFor("the stack to receive nc's answer", () => got.length > 0, 10_000);
            assert.equal(decode(got[0].data), "linux answers\n");
            assert.equal(got[0].from, shown(linux, port));
            await nc.stop();
          },
        );

        await t.step(`IPv${fam}: a ${BIG}-byte datagram each way, fragmented`, async () => {
          const server = open(fam);
          server.setOption("SO_RCVBUF", 131072);
          server.setOption("SO_SNDBUF", 65536);
          server.bind(ours, 8000 + fam);
          const reply = new Uint8Array(BIG).map((_, i) => (i * 13 + 5) & 255);
          const got = collect(server, () => reply);
          const r = await python(rig, ["big", ours, `${8000 + fam}`, `${BIG}`]);
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.equal(got.length, 1);
          assert.deepEqual(got[0].data, linuxPattern(BIG), "Linux's datagram, reassembled by us");
          assert.equal(
            r.stdout.trim(),
            `${BIG} ${await sha256(reply)}`,
            "ours, reassembled by Linux",
          );
        });

        await t.step(`IPv${fam}: port unreachable each way gives ECONNREFUSED`, async () => {
          const r = await python(rig, ["refused", ours, "9"]);
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.equal(r.stdout.trim(), "ECONNREFUSED", "our ICMP error reached Linux's socket");
          const client = open(fam);
          client.connect(linux, 9);
          client.send(text("anyone there?"));
          await waitFor("ECONNREFUSED on the stack's connected socket", () => {
            const err = pendingError(client);
            assert.ok(err === null || err === "ECONNREFUSED", `${err}`);
            return err === "ECONNREFUSED";
          }, 10_000);
        });

        await t.step(
          `IPv${fam}: multicast from Linux reaches a socket that joined the group`,
          async () => {
            const port = 5000 + fam;
            const member = open(fam);
            member.setOption("SO_REUSEPORT", 1);
            member.bind(null, port);
            member.joinGroup(f.group, rig.ifIndex);
            const got = collect(member);
            // The group not joined goes first: once the joined one arrives, the other had its chance.
            const r = await python(rig, ["mcast", `${port}`, linux, rig.dev, f.other, f.group]);
            assert.equal(r.code, 0, r.stdout + r.stderr);
            await waitFor("the group's datagram", () => got.length > 0, 10_000);
            assert.deepEqual(got.map((g) => decode(g.data)), [`to ${f.group}`]);
          },
        );
      }

      await t.step("tshark finds no malformed frame and no bad checksum in ours", async () => {
        for (const h of sockets) h.close();
        await checkCaptures([rig.capture], [MAC], 20);
        if (!rig.capture) return;
        // The capture holds what the test is about: our fragments, both families, and our
        // port unreachables (tshark shows a reassembled datagram on its last fragment).
        const filters = [
          "ip.flags.mf == 1 && ip.proto == 17",
          "ipv6.fraghdr.more == 1 && ipv6.fraghdr.nxt == 17",
          "icmp.type == 3 && icmp.code == 3",
          "icmpv6.type == 1 && icmpv6.code == 4",
        ];
        // A core that sends IGMP and MLD reports (it counts them) reported our joins too.
        const stats = rig.stack.stats;
        if (stats.igmp.snd_reports > 0) {
          filters.push(`igmp.type == 0x16 && igmp.maddr == ${FAMILIES[0].group}`);
        }
        if (stats.icmp6.outhist[131] > 0) {
          filters.push(
            `icmpv6.type == 131 && icmpv6.mld.multicast_address == ${FAMILIES[1].group}`,
          );
        }
        for (const filter of filters) {
          const n = await tsharkCount(rig.capture.file, `eth.src == ${MAC} && ${filter}`);
          if (n === 0) {
            const kept = Deno.makeTempFileSync({ prefix: "udp_tap_test", suffix: ".pcap" });
            Deno.copyFileSync(rig.capture.file, kept);
            assert.fail(`no frame of ours matches ${filter} (capture kept in ${kept})`);
          }
        }
      });
    } finally {
      for (const p of procs) await p.stop();
      for (const h of sockets) h.close();
      await rig.close();
    }
  },
});
