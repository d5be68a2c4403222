/**
 * Interop, bad input: from inside a namespace, a Python packet socket throws
 * malformed frames at the stack over its TAP device (random bytes, truncated
 * and lying headers, bad checksums, a fragment flood, overlapping fragments,
 * NDP with a bad hop limit). Each kind is counted and dropped, the stack keeps
 * answering Linux's ping, and its resident memory stays bounded.
 */
import assert from "node:assert/strict";
import { interopUnavailable, linkExists, Netns, which } from "../kit/netns.ts";
import { startDaemon, waitFor } from "../kit/processes.ts";

const skip = interopUnavailable() ?? (which("python3") ? null : "python3 is not installed");
if (skip) console.log(`interop bad-input tests skipped: ${skip}`);

const MAC = "02:00:5e:00:0b:02";

/** Sends the frames; run inside the namespace. Bounded: a fixed count of each kind. */
const SENDER = `
import os, random, socket, struct, sys
dev, our_mac, peer_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', '')), None
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
peer_mac = s.getsockname()[4][:6]
random.seed(7)
def csum(b):
    if len(b) % 2: b += b'\\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
def eth(t, payload): return our_mac + peer_mac + struct.pack('!H', t) + payload
def ip4(payload, proto=1, ident=1, frag=0, tot=None, ihl=5, ver=4, ttl=64, good=True):
    tot = 20 + len(payload) if tot is None else tot
    h = struct.pack('!BBHHHBBH4s4s', (ver << 4) | ihl, 0, tot, ident, frag, ttl, proto, 0,
                    bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
    c = csum(h) if good else 0x1234
    return h[:10] + struct.pack('!H', c) + h[12:] + payload
counts = {}
import time
def send(kind, frame):
    s.send(frame)
    counts[kind] = counts.get(kind, 0) + 1
    # Paced, so the TAP queue (1000 frames) does not overflow before the stack reads.
    if sum(counts.values()) % 200 == 0: time.sleep(0.02)
for _ in range(2000):
    send('random', our_mac + bytes(random.getrandbits(8) for _ in range(random.randint(14, 200))))
echo = struct.pack('!BBHHH', 8, 0, 0, 1, 1) + b'x' * 32
echo = echo[:2] + struct.pack('!H', csum(echo)) + echo[4:]
for _ in range(200):
    send('badsum', eth(0x0800, ip4(echo, good=False)))
    send('tooshort', eth(0x0800, ip4(echo, tot=1500)))
    send('badhlen', eth(0x0800, ip4(echo, ihl=3)))
    send('badvers', eth(0x0800, ip4(echo, ver=6)))
    send('toosmall', eth(0x0800, ip4(echo)[:12]))
# Overlapping pairs first (while the reassembly queue has room), then the flood.
for i in range(100):
    send('overlap', eth(0x0800, ip4(b'B' * 16, ident=30000 + i, frag=0x2000)))
    send('overlap', eth(0x0800, ip4(b'C' * 16, ident=30000 + i, frag=1)))
for i in range(5000):
    send('fragflood', eth(0x0800, ip4(b'A' * 16, ident=10000 + i, frag=0x2000)))
# Neighbour solicitations for our address with hop limit 254 (must be 255).
tgt = bytes.fromhex('20010db8000000000000000000000002')
src6 = bytes.fromhex('20010db8000000000000000000000001')
dst6 = bytes.fromhex('ff0200000000000000000001ff000002')
ns = struct.pack('!BBHI', 135, 0, 0, 0) + tgt + struct.pack('!BB', 1, 1) + peer_mac
ph = src6 + dst6 + struct.pack('!IxxxB', len(ns), 58)
ns = ns[:2] + struct.pack('!H', csum(ph + ns)) + ns[4:]
v6 = struct.pack('!IHBB', 0x60000000, len(ns), 58, 254) + src6 + dst6 + ns
for _ in range(100):
    send('ndhlim', bytes.fromhex('3333ff000002') + peer_mac + b'\\x86\\xdd' + v6)
print(counts)
`;

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1]);
}

Deno.test({
  name: "malformed frames from Linux are counted and dropped; ping still answered; memory bounded",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dev = `ib${Deno.pid % 100000}`;
    const d = await startDaemon("io-pkt-v6-hc", {
      args: ["-d", "tap", `host=${dev},name=en,mac=${MAC}`],
    });
    const ns = await Netns.create();
    const script = Deno.makeTempFileSync({ suffix: ".py" });
    try {
      Deno.writeTextFileSync(script, SENDER);
      await waitFor("the TAP device", () => linkExists(dev));
      await ns.adopt(dev, ["192.0.2.1/24", "2001:db8::1/64"]);
      assert.equal((await d.tool("ifconfig", "en0", "up")).code, 0);
      assert.equal((await d.tool("ifconfig", "en0", "192.0.2.2/24")).code, 0);
      assert.equal((await d.tool("ifconfig", "en0", "inet6", "2001:db8::2")).code, 0);
      const warm = await ns.exec("ping", ["-c", "2", "-i", "0.2", "-W", "2", "192.0.2.2"]);
      assert.equal(warm.code, 0, warm.stdout);
      const rssBefore = rssKiB(d.pid);

      const sent = await ns.exec("python3", [script, dev, MAC], 120_000);
      assert.equal(sent.code, 0, sent.stderr);

      const after = await ns.exec("ping", ["-c", "3", "-i", "0.2", "-W", "2", "192.0.2.2"]);
      assert.equal(after.code, 0, `still answers ping: ${after.stdout}`);
      const after6 = await ns.exec("ping", [
        "-6",
        "-c",
        "2",
        "-i",
        "0.2",
        "-W",
        "2",
        "2001:db8::2",
      ]);
      assert.equal(after6.code, 0, `still answers ping6: ${after6.stdout}`);

      const ip = (await d.tool("netstat", "-s", "-p", "ip")).stdout;
      const count = (re: RegExp) => Number(re.exec(ip)?.[1] ?? -1);
      assert.ok(count(/(\d+) bad header checksums?/) >= 200, ip);
      assert.ok(count(/(\d+) with data size < data length/) >= 200, ip);
      assert.ok(count(/(\d+) with header length < data size/) >= 200, ip);
      assert.ok(count(/(\d+) with incorrect version number/) >= 200, ip);
      assert.ok(count(/(\d+) with size smaller than minimum/) >= 200, ip);
      assert.ok(count(/(\d+) fragments? dropped \(dup or out of space\)/) >= 4000, ip);
      assert.ok(count(/(\d+) malformed fragments? dropped/) >= 100, ip);
      const reass = await d.tool("sysctl", "-n", "net.inet.ip.maxfragpackets");
      assert.equal(reass.stdout, "200\n");
      const icmp6 = (await d.tool("netstat", "-s", "-p", "icmp6")).stdout;
      assert.ok(Number(/(\d+) bad neighbor solicitation messages?/.exec(icmp6)?.[1]) >= 100, icmp6);

      const growthMiB = (rssKiB(d.pid) - rssBefore) / 1024;
      console.log(`daemon RSS growth over the bad-input run: ${growthMiB.toFixed(1)} MiB`);
      // Bounded: the fragment queue holds at most maxfragpackets datagrams.
      assert.ok(growthMiB < 64, `RSS grew ${growthMiB.toFixed(1)} MiB`);
    } finally {
      await d.stop();
      Deno.removeSync(d.prefix, { recursive: true });
      await ns.close();
      Deno.removeSync(script);
    }
  },
});
