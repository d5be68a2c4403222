/**
 * Node Information queries answered as KAME's ni6_input answers them, and the
 * raw-send options ping6 uses (IPV6_NEXTHOP, IPV6_USE_MIN_MTU), between
 * stacks on a virtual network.
 */
import assert from "node:assert/strict";
import { Stack } from "../../core/stack.ts";
import { Net } from "../kit/netsim.ts";
import type { RawDatagram } from "../../core/socket/raw.ts";
import { ErrnoError } from "../../core/errno.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { formatIp6, parseIp6 } from "../../core/net/ip_addr.ts";
import { md5 } from "../../core/lib/md5.ts";
import {
  dnsMatch,
  nameToDns,
  NI_NODEADDR_FLAG,
  NI_QTYPE,
  NI_SUBJ,
  nodeInfoGroup,
} from "../../core/net/icmp6_ni.ts";

/** Three hosts on one segment: a (2001:db8::1), b "nodeb" (::2, also ::22 deprecated-free), c (::3). */
function hosts() {
  const net = new Net();
  const seg = net.segment();
  const mk = (hostname: string) => {
    const s = new Stack({ inet6: true, clock: () => net.now, hostname });
    net.stacks.push(s);
    return s;
  };
  const a = mk("nodea"), b = mk("NodeB"), c = mk("nodec.example.org");
  net.attach(a, seg, 1);
  net.attach(b, seg, 2);
  net.attach(c, seg, 3);
  for (const [s, n] of [[a, 1], [b, 2], [c, 3]] as const) {
    s.setFlags("en0", IFF.UP, 0);
    s.addAddress("en0", { family: "inet6", addr: `2001:db8::${n}`, prefixlen: 64 });
  }
  net.advance(2000);
  const got: RawDatagram[] = [];
  const sock = a.openRawSocket("inet6", 58, (d) => got.push(d));
  return { net, seg, a, b, c, got, sock };
}

/** A query as ping6 builds it: type 139, code, qtype, flags, nonce (seq first), subject. */
function query(code: number, qtype: number, flags: number, subject: Uint8Array, seq = 0) {
  const q = new Uint8Array(16 + subject.length);
  q[0] = 139;
  q[1] = code;
  q[4] = qtype >> 8;
  q[5] = qtype & 0xff;
  q[6] = flags >> 8;
  q[7] = flags & 0xff;
  q.set([seq >> 8, seq & 0xff, 1, 2, 3, 4, 5, 6], 8);
  q.set(subject, 16);
  return q;
}

const replies = (got: RawDatagram[]) => got.filter((d) => d.data[0] === 140);
const B = parseIp6("2001:db8::2")!;

Deno.test("nameToDns: KAME's DNS form, two zeros under two dots, old form; dnsMatch truncation", () => {
  assert.deepEqual([...nameToDns("NodeB", false)!], [5, 110, 111, 100, 101, 98, 0, 0]);
  assert.deepEqual([...nameToDns("a.b.c", false)!], [1, 97, 1, 98, 1, 99, 0]);
  assert.deepEqual([...nameToDns("ab", true)!], [2, 97, 98]);
  assert.equal(nameToDns("1host", false), null);
  assert.equal(nameToDns("a..b", false), null);
  assert.equal(nameToDns("host-", false), null);
  assert.equal(nameToDns("", false)!.length, 0);
  const full = nameToDns("node.example.org", false)!;
  assert.ok(dnsMatch(nameToDns("node", false)!, full), "a truncated name matches its prefix");
  assert.ok(!dnsMatch(nameToDns("nodex", false)!, full));
});

Deno.test("nodeInfoGroup: ff02::2 and the first 4 bytes of MD5(len, lower-case first label)", () => {
  const d = md5(Uint8Array.of(4, ...new TextEncoder().encode("host")));
  const g = nodeInfoGroup("HOST.example.org")!;
  assert.deepEqual([...g.subarray(0, 12)], [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  assert.deepEqual([...g.subarray(12)], [...d.subarray(0, 4)]);
  assert.equal(nodeInfoGroup("x".repeat(64)), null);
});

Deno.test("nodeinfo 0 (QNX's default): queries reach raw sockets, nothing answers", () => {
  const { net, a, b, got, sock } = hosts();
  const seen: RawDatagram[] = [];
  b.openRawSocket("inet6", 58, (d) => seen.push(d));
  assert.equal(b.sysctl.get("net.inet6.icmp6.nodeinfo"), 0);
  a.sendRaw(sock, "2001:db8::2", query(NI_SUBJ.IPV6, NI_QTYPE.FQDN, 0, B), {});
  net.run();
  assert.equal(replies(got).length, 0);
  assert.equal(seen.filter((d) => d.data[0] === 139).length, 1);
});

Deno.test("nodeinfo 1: the node name (hostname, lower case), NOOP, supported qtypes; no addresses", () => {
  const { net, a, b, got, sock } = hosts();
  b.sysctl.set("net.inet6.icmp6.nodeinfo", "1");
  a.sendRaw(sock, "2001:db8::2", query(NI_SUBJ.IPV6, NI_QTYPE.FQDN, 0, B, 7), {});
  a.sendRaw(sock, "2001:db8::2", query(NI_SUBJ.FQDN, NI_QTYPE.NOOP, 0, new Uint8Array(0), 8), {});
  a.sendRaw(
    sock,
    "2001:db8::2",
    query(NI_SUBJ.FQDN, NI_QTYPE.SUPTYPES, 1, new Uint8Array(0), 9),
    {},
  );
  a.sendRaw(sock, "2001:db8::2", query(NI_SUBJ.IPV6, NI_QTYPE.NODEADDR, 0x3e, B, 10), {});
  net.run();
  const r = replies(got);
  assert.equal(r.length, 3, "the addresses query is refused by silence");
  assert.equal(r[0].from, "2001:db8::2");
  // Reply header: type 140, code 0, qtype, flags 0, the query's nonce; TTL 0; the name.
  assert.deepEqual([...r[0].data.subarray(0, 8)], [140, 0, r[0].data[2], r[0].data[3], 0, 2, 0, 0]);
  assert.deepEqual([...r[0].data.subarray(8, 16)], [0, 7, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...r[0].data.subarray(16)], [0, 0, 0, 0, 5, 110, 111, 100, 101, 98, 0, 0]);
  assert.deepEqual([...r[1].data.subarray(4, 8)], [0, 0, 0, 0]);
  assert.equal(r[1].data.length, 16);
  assert.deepEqual([...r[2].data.subarray(4)], [0, 1, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 0, 0, 0, 15]);
  assert.equal(b.stats.icmp6.outhist[140], 3);
});

Deno.test("queries with a wrong subject, to the wrong place, or a name subject that differs: dropped", () => {
  const { net, a, b, got, sock } = hosts();
  b.sysctl.set("net.inet6.icmp6.nodeinfo", "3");
  a.sendRaw(
    sock,
    "2001:db8::2",
    query(NI_SUBJ.IPV6, NI_QTYPE.FQDN, 0, parseIp6("2001:db8::3")!),
    {},
  );
  a.sendRaw(
    sock,
    "2001:db8::2",
    query(NI_SUBJ.FQDN, NI_QTYPE.FQDN, 0, nameToDns("other", false)!),
    {},
  );
  a.sendRaw(
    sock,
    "2001:db8::2",
    query(NI_SUBJ.IPV4, NI_QTYPE.FQDN, 0, Uint8Array.of(192, 0, 2, 1)),
    {},
  );
  a.sendRaw(
    sock,
    "2001:db8::2",
    query(NI_SUBJ.FQDN, NI_QTYPE.FQDN, 0, nameToDns("nodeb", false)!, 4),
    {},
  );
  net.run();
  assert.deepEqual(replies(got).map((d) => d.data[9]), [4], "only the matching name is answered");
});

Deno.test("nodeinfo 3: node addresses of the subject's interface by scope flags, with TTLs", () => {
  const { net, a, b, got, sock } = hosts();
  b.sysctl.set("net.inet6.icmp6.nodeinfo", "3");
  const F = NI_NODEADDR_FLAG;
  a.sendRaw(sock, "2001:db8::2", query(NI_SUBJ.IPV6, NI_QTYPE.NODEADDR, F.GLOBAL, B, 1), {});
  a.sendRaw(
    sock,
    "2001:db8::2",
    query(NI_SUBJ.IPV6, NI_QTYPE.NODEADDR, F.GLOBAL | F.LINKLOCAL, B, 2),
    {},
  );
  a.sendRaw(
    sock,
    "2001:db8::2",
    query(NI_SUBJ.IPV6, NI_QTYPE.NODEADDR, F.ALL | F.LINKLOCAL, B, 3),
    {},
  );
  net.run();
  const r = replies(got);
  const addrs = (d: RawDatagram) => {
    const out: string[] = [];
    for (let i = 16; i + 20 <= d.data.length; i += 20) {
      const ttl = new DataView(d.data.buffer, d.data.byteOffset + i).getUint32(0);
      out.push(`${formatIp6(d.data.subarray(i + 4, i + 20))} ${ttl}`);
    }
    return out;
  };
  assert.deepEqual(addrs(r[0]), ["2001:db8::2 2147483647"]);
  assert.deepEqual(addrs(r[1]), ["fe80::ff:fe00:2 2147483647", "2001:db8::2 2147483647"]);
  // With A, every interface: lo0's ::1 and fe80::1 are link-local scope (KAME's in6_addrscope).
  assert.deepEqual(addrs(r[2]), [
    "::1 2147483647",
    "fe80::1 2147483647",
    "fe80::ff:fe00:2 2147483647",
  ]);
  assert.equal((r[2].data[6] << 8) | r[2].data[7], F.ALL | F.LINKLOCAL, "flags echoed");
});

Deno.test("a query to the node information group of the name is answered (ping6 -N)", () => {
  const { net, a, b, got, sock } = hosts();
  b.sysctl.set("net.inet6.icmp6.nodeinfo", "1");
  const group = nodeInfoGroup("nodeb")!;
  a.sendRaw(sock, `${formatIp6(group)}%en0`, query(NI_SUBJ.IPV6, NI_QTYPE.FQDN, 0, group), {});
  net.run();
  const r = replies(got);
  assert.equal(r.length, 1);
  assert.equal(r[0].from, "fe80::ff:fe00:2%en0", "from a unicast address of the link");
});

Deno.test("IPV6_NEXTHOP: the frame goes to the given neighbour; an off-link one is EHOSTUNREACH", () => {
  const { net, seg, a, sock } = hosts();
  const echo = Uint8Array.of(128, 0, 0, 0, 0, 1, 0, 0);
  a.sendRaw(sock, "2001:db8::3", echo, {});
  a.sendRaw(sock, "2001:db8::3", echo, { nexthop: "2001:db8::2" });
  net.run();
  const toC = seg.log.filter((f) =>
    f[0] === 2 && f[12] === 0x86 && f[20] === 58 && f[54] === 128 &&
    formatIp6(f.subarray(38, 54)) === "2001:db8::3"
  );
  assert.deepEqual(toC.map((f) => f[5]), [3, 2], "first to c's MAC, then to b's");
  assert.throws(
    () => a.sendRaw(sock, "2001:db8::3", echo, { nexthop: "2001:db8:9::1" }),
    (e) => e instanceof ErrnoError && e.code === "EHOSTUNREACH",
  );
  assert.throws(
    () => a.sendRaw(sock, "2001:db8::3", echo, { minMtu: 2 }),
    (e) => e instanceof ErrnoError && e.code === "EINVAL",
  );
});

Deno.test("IPV6_USE_MIN_MTU: 1 fragments at 1280, 0 and -1 use the path MTU for unicast", () => {
  const { net, seg, a, sock } = hosts();
  const big = new Uint8Array(1400);
  big[0] = 128;
  const sizes = (minMtu: number) => {
    seg.log.length = 0;
    a.sendRaw(sock, "2001:db8::2", big, { minMtu });
    net.run();
    // Echo requests to b (whole, or fragments: next header 44), by IP length.
    return seg.log.filter((f) =>
      f[5] === 2 && f[12] === 0x86 && (f[20] === 44 || (f[20] === 58 && f[54] === 128))
    ).map((f) => f.length - 14).sort((x, y) => y - x);
  };
  assert.deepEqual(sizes(1), [1280, 1400 + 40 + 8 - 1232]);
  assert.deepEqual(sizes(0), [1440]);
  assert.deepEqual(sizes(-1), [1440]);
});
