/**
 * ping6 against a fake stack on a virtual clock: the fake answers echo
 * requests with bare ICMPv6 messages (as a raw ICMPv6 socket delivers them)
 * after a chosen delay; outputs are compared whole.
 * @module
 */

import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import type { ControlRequest, RouteGetInfo, SocketEvent } from "../../core/control/ops.ts";
import { RTF } from "../../core/net/route_flags.ts";
import { fromBase64, VirtualClock } from "../../tools/ping_engine.ts";
import { toBase64 } from "../../core/control/base64.ts";
import { buildEchoRequest6, ping6Main } from "../../tools/ping_inet6.ts";
import { type FakeHandler, runFakeTool, type ToolRun } from "../kit/fake_tool.ts";

const PID = 0x10abc;
const SOCK = 9;

type Behaviour =
  | { kind: "reply"; delayMs: number; hlim?: number; times?: number }
  | { kind: "silent" }
  | { kind: "error"; delayMs: number; from: string; type: number; code: number };

function routeTo(ifaddr: string, ifname = "en0"): RouteGetInfo {
  return {
    route: {
      family: "inet6",
      dst: "2001:db8::",
      prefixlen: 64,
      gateway: "link#2",
      flags: RTF.UP,
      refs: 0,
      use: 0,
      mtu: 0,
      ifname,
    },
    mask: "ffff:ffff:ffff:ffff::",
    ifaddr,
  };
}

/** An IPv6 header (40 bytes) in front of `payload`. */
function ip6Header(src: number[], dst: number[], payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(40 + payload.length);
  out.set([0x60, 0, 0, 0, payload.length >> 8, payload.length & 255, 58, 64]);
  out.set(src, 8);
  out.set(dst, 24);
  out.set(payload, 40);
  return out;
}

function fakeNet6(
  clock: VirtualClock,
  behave: (seq: number) => Behaviour,
  overrides: Partial<Record<ControlRequest["op"], () => unknown>> = {},
): FakeHandler {
  return (req, emit) => {
    const override = overrides[req.op];
    if (override) return override();
    switch (req.op) {
      case "sockOpen":
        return { sock: SOCK };
      case "sockClose":
        return {};
      case "routeGet":
        return routeTo("2001:db8::2");
      case "sockSendTo":
        respond(clock, req.addr, fromBase64(req.data), behave, emit);
        return { sent: fromBase64(req.data).length };
      default:
        throw new ErrnoError("ENOSYS");
    }
  };
}

function respond(
  clock: VirtualClock,
  dst: string,
  request: Uint8Array,
  behave: (seq: number) => Behaviour,
  emit: (e: SocketEvent) => void,
): void {
  const b = behave((request[6] << 8) | request[7]);
  const deliver = (from: string, data: Uint8Array, ttl: number) =>
    emit({ sock: SOCK, from, data: toBase64(data), ttl, ifname: "en0" });
  if (b.kind === "reply" && request[0] === 139) {
    clock.setTimer(() => deliver(dst, niReply(request), b.hlim ?? 64), b.delayMs);
  } else if (b.kind === "reply") {
    const reply = request.slice();
    reply[0] = 129;
    for (let i = 0; i < (b.times ?? 1); i++) {
      clock.setTimer(() => deliver(dst, reply, b.hlim ?? 64), b.delayMs + i);
    }
  } else if (b.kind === "error") {
    const src = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 2];
    const dstb = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
    const quoted = ip6Header(src, dstb, request);
    const err = new Uint8Array(8 + quoted.length);
    err[0] = b.type;
    err[1] = b.code;
    err.set(quoted, 8);
    clock.setTimer(() => deliver(b.from, err, 63), b.delayMs);
  }
}

/** What a KAME responder named "nodeb" with 2001:db8::1 answers to a query. */
function niReply(q: Uint8Array): Uint8Array {
  const qtype = q[5];
  const data = qtype === 1
    ? [0, 0, 0, 15]
    : qtype === 3
    ? [0x7f, 0xff, 0xff, 0xff, 0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]
    : [0, 0, 0, 0, 5, 110, 111, 100, 101, 98, 0, 0];
  const r = new Uint8Array(16 + data.length);
  r.set(q.subarray(0, 16));
  r[0] = 140;
  r[1] = 0;
  if (qtype !== 3) r[6] = r[7] = 0;
  r.set(data, 16);
  return r;
}

interface Ping6Result extends ToolRun {
  elapsedMs: number;
  sends: Extract<ControlRequest, { op: "sockSendTo" }>[];
}

async function ping6(
  args: string[],
  behave: (seq: number) => Behaviour,
  setup: {
    overrides?: Partial<Record<ControlRequest["op"], () => unknown>>;
    interruptAfterMs?: number;
  } = {},
): Promise<Ping6Result> {
  const clock = new VirtualClock();
  const start = clock.now();
  const run = await runFakeTool(
    "ping6",
    (a, ctx) =>
      ping6Main(a, ctx, {
        clock,
        pid: PID,
        onInterrupt: (fn) => {
          if (setup.interruptAfterMs === undefined) return () => {};
          const id = clock.setTimer(fn, setup.interruptAfterMs);
          return () => clock.clearTimer(id);
        },
      }),
    args,
    fakeNet6(clock, behave, setup.overrides),
  );
  const sends = run.requests.filter((r) => r.op === "sockSendTo");
  return { ...run, elapsedMs: clock.now() - start, sends };
}

const replyAfter = (delayMs: number): Behaviour => ({ kind: "reply", delayMs });
const SILENT: Behaviour = { kind: "silent" };

Deno.test("ping6 -c 2: KAME's lines with QNX's integer times, exit 0", async () => {
  const r = await ping6(["-c", "2", "2001:db8::1"], (seq) => replyAfter(seq === 0 ? 4 : 2));
  assert.equal(
    r.stdout,
    "PING6(104=40+8+56 bytes) 2001:db8::2 --> 2001:db8::1\n" +
      "64 bytes from 2001:db8::1, icmp_seq=0 hlim=64 time=4 ms\n" +
      "64 bytes from 2001:db8::1, icmp_seq=1 hlim=64 time=2 ms\n" +
      "\n" +
      "--- 2001:db8::1 ping6 statistics ---\n" +
      "2 packets transmitted, 2 packets received, 0.0% packet loss\n" +
      "round-trip min/avg/max = 2/3/4 ms\n",
  );
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  assert.equal(r.elapsedMs, 1002);
});

Deno.test("ping6: the request is KAME's echo with the checksum left to the stack", async () => {
  const r = await ping6(["-c", "1", "2001:db8::1"], () => replyAfter(1));
  assert.deepEqual(r.requests[0], { op: "sockOpen", domain: "inet6", type: "raw", proto: 58 });
  assert.deepEqual(r.requests[1], { op: "routeGet", family: "inet6", dst: "2001:db8::1" });
  const send = r.sends[0];
  assert.equal(send.ttl, undefined);
  const pkt = fromBase64(send.data);
  assert.equal(pkt.length, 64);
  assert.deepEqual([...pkt.subarray(0, 8)], [128, 0, 0, 0, 0x0a, 0xbc, 0, 0]);
  // The fill counts from the ICMPv6 header: byte 16 holds 16.
  for (let i = 16; i < 64; i++) assert.equal(pkt[i], i);
});

Deno.test("ping6: no answer: 100.0% loss after KAME's 10 s wait, exit 1", async () => {
  const r = await ping6(["-c", "2", "2001:db8::9"], () => SILENT);
  assert.equal(
    r.stdout,
    "PING6(104=40+8+56 bytes) 2001:db8::2 --> 2001:db8::9\n" +
      "\n" +
      "--- 2001:db8::9 ping6 statistics ---\n" +
      "2 packets transmitted, 0 packets received, 100.0% packet loss\n",
  );
  assert.equal(r.elapsedMs, 11_000);
  assert.equal(r.code, 1);
});

Deno.test("ping6: after some replies the last wait is twice the longest round trip", async () => {
  const r = await ping6(["-c", "2", "2001:db8::1"], (seq) => seq === 0 ? replyAfter(600) : SILENT);
  assert.match(r.stdout, /2 packets transmitted, 1 packets received, 50\.0% packet loss\n/);
  assert.match(r.stdout, /round-trip min\/avg\/max = 600\/600\/600 ms\n$/);
  assert.equal(r.elapsedMs, 2000);
});

Deno.test("ping6: duplicates and SIGINT", async () => {
  const r = await ping6(
    ["2001:db8::1"],
    () => ({ kind: "reply", delayMs: 3, times: 2 }),
    { interruptAfterMs: 1500 },
  );
  assert.equal(
    r.stdout,
    "PING6(104=40+8+56 bytes) 2001:db8::2 --> 2001:db8::1\n" +
      "64 bytes from 2001:db8::1, icmp_seq=0 hlim=64 time=3 ms\n" +
      "64 bytes from 2001:db8::1, icmp_seq=0 hlim=64 time=4 ms(DUP!)\n" +
      "64 bytes from 2001:db8::1, icmp_seq=1 hlim=64 time=3 ms\n" +
      "64 bytes from 2001:db8::1, icmp_seq=1 hlim=64 time=4 ms(DUP!)\n" +
      "\n" +
      "--- 2001:db8::1 ping6 statistics ---\n" +
      "2 packets transmitted, 2 packets received, +2 duplicates, 0.0% packet loss\n" +
      "round-trip min/avg/max = 3/3/4 ms\n",
  );
  assert.equal(r.elapsedMs, 1500);
});

Deno.test("ping6: link-local destination and source keep their zone", async () => {
  const r = await ping6(["-c", "1", "fe80::1%en0"], () => replyAfter(1), {
    overrides: { routeGet: () => routeTo("fe80::2", "en0") },
  });
  assert.match(r.stdout, /^PING6\(104=40\+8\+56 bytes\) fe80::2%en0 --> fe80::1%en0\n/);
  assert.equal(r.sends[0].addr, "fe80::1%en0");
});

Deno.test("ping6 -S -h -I -s: source, hop limit, interface and size", async () => {
  const r = await ping6(
    ["-S", "2001:db8::5", "-h", "5", "-I", "en1", "-s", "8", "-c", "1", "2001:db8::1"],
    () => replyAfter(1),
  );
  assert.equal(r.requests.some((q) => q.op === "routeGet"), false);
  assert.match(r.stdout, /^PING6\(56=40\+8\+8 bytes\) 2001:db8::5 --> 2001:db8::1\n/);
  assert.match(r.stdout, /\n16 bytes from 2001:db8::1, icmp_seq=0 hlim=64 time=1 ms\n/);
  const send = r.sends[0];
  assert.equal(send.ttl, 5);
  assert.equal(send.src, "2001:db8::5");
  assert.equal(send.ifname, "en1");
});

Deno.test("ping6: no route for the source: UDP connect error, exit 2", async () => {
  const r = await ping6(["-c", "1", "2001:db8::1"], () => SILENT, {
    overrides: {
      routeGet: () => {
        throw new ErrnoError("ENETUNREACH");
      },
    },
  });
  assert.equal(r.stderr, "ping6: UDP connect: Network is unreachable\n");
  assert.equal(r.stdout, "");
  assert.equal(r.code, 2);
});

Deno.test("ping6 -v: ICMPv6 errors with KAME's header dump; silent without -v", async () => {
  const err: Behaviour = {
    kind: "error",
    delayMs: 2,
    from: "2001:db8::ff",
    type: 1,
    code: 3,
  };
  const quiet = await ping6(["-c", "1", "2001:db8::1"], () => err);
  assert.doesNotMatch(quiet.stdout, /Unreachable/);
  const r = await ping6(["-v", "-c", "1", "2001:db8::1"], () => err);
  assert.match(
    r.stdout,
    new RegExp(
      "\n112 bytes from 2001:db8::ff: Destination Host Unreachable\n" +
        "Vr TC  Flow Plen Nxt Hlim\n" +
        " 6 00 00000 0040  3a  64\n" +
        "2001:db8::2->2001:db8::1\n" +
        "ICMP6: type = 128, code = 0\n\n",
    ),
  );
});

Deno.test("ping6: packet too big and time exceeded texts", async () => {
  for (
    const [type, code, text] of [
      [3, 0, "Time to live exceeded"],
      [2, 0, "Packet too big mtu = 0"],
      [4, 1, "Parameter problem: Unknown Nextheader pointer = 0x00"],
    ] as [number, number, string][]
  ) {
    const r = await ping6(
      ["-v", "-c", "1", "2001:db8::1"],
      () => ({ kind: "error", delayMs: 1, from: "2001:db8::ff", type, code }),
    );
    assert.match(r.stdout, new RegExp(`bytes from 2001:db8::ff: ${text}\n`));
  }
});

const USAGE6 = "usage: ping6 [-dfHmnNqtvwW] [-a [aAclsg]] [-b sockbufsiz] [-c count] \n" +
  "\t[-I interface] [-i wait] [-l preload] [-p pattern] [-S sourceaddr]\n" +
  "\t[-s packetsize] [-h hoplimit] [hops...] [-g gateway] host\n";

Deno.test("ping6: usage errors and bad values, exit 2; NetBSD 4's ping6 has no -X nor -e", async () => {
  const cases: [string[], string][] = [
    [[], USAGE6],
    [["-x", "::1"], "ping6: unknown option -- x\n" + USAGE6],
    [["-X", "5", "::1"], "ping6: unknown option -- X\n" + USAGE6],
    [["-e", "::1"], "ping6: unknown option -- e\n" + USAGE6],
    [["-a", "q", "::1"], USAGE6],
    [["-R", "::1"], "ping6: -R is not supported in this configuration\n"],
    [["-c", "-1", "::1"], "ping6: illegal number of packets -- -1\n"],
    [["-h", "300", "::1"], "ping6: illegal hoplimit 300\n"],
    [
      ["-g", "gw.example", "::1"],
      "ping6: getaddrinfo for the gateway gw.example: hostname nor servname provided, or not known\n",
    ],
    [["2001:db8::3", "2001:db8::1"], "ping6: intermediate hops: not supported\n"],
    [["host.example"], "ping6: hostname nor servname provided, or not known\n"],
  ];
  for (const [args, stderr] of cases) {
    const r = await ping6(args, () => SILENT);
    assert.equal(r.stderr, stderr, args.join(" "));
    assert.equal(r.code, 2);
  }
});

Deno.test("ping6 -w: the node name query and KAME's reply line, no times", async () => {
  const r = await ping6(["-w", "-c", "1", "2001:db8::1"], () => replyAfter(2));
  assert.equal(
    r.stdout,
    "PING6(72=40+8+24 bytes) 2001:db8::2 --> 2001:db8::1\n" +
      "28 bytes from 2001:db8::1: nodeb\n" +
      "\n" +
      "--- 2001:db8::1 ping6 statistics ---\n" +
      "1 packets transmitted, 1 packets received, 0.0% packet loss\n",
  );
  assert.equal(r.code, 0);
  const q = fromBase64(r.sends[0].data);
  assert.deepEqual([...q.subarray(0, 8)], [139, 0, 0, 0, 0, 2, 0, 0]);
  assert.deepEqual([...q.subarray(8, 10)], [0, 0], "the nonce starts with the sequence");
  assert.deepEqual([...q.subarray(16)], [0x20, 1, 0xd, 0xb8, ...new Array(11).fill(0), 1]);
  const v = await ping6(["-v", "-w", "-c", "1", "2001:db8::1"], () => replyAfter(2));
  assert.match(v.stdout, /\n28 bytes from 2001:db8::1: nodeb \(TTL=0:meaningless\)\n/);
});

Deno.test("ping6 -t and -a: supported qtypes and node addresses as KAME prints them", async () => {
  const t = await ping6(["-t", "-c", "1", "2001:db8::1"], () => replyAfter(1));
  assert.match(t.stdout, /^PING6\(56=40\+8\+8 bytes\) /);
  assert.match(t.stdout, /\n20 bytes from 2001:db8::1: NodeInfo Supported Qtypes 0-3\n\n---/);
  const a = await ping6(["-a", "ag", "-c", "1", "2001:db8::1"], () => replyAfter(1));
  assert.match(
    a.stdout,
    /\n36 bytes from 2001:db8::1: \n {2}2001:db8::1\(TTL=2147483647\)\n\n\n---/,
  );
  assert.deepEqual([...fromBase64(a.sends[0].data).subarray(4, 8)], [0, 3, 0, 0x22]);
});

Deno.test("ping6 -g, -m, -N: next hop, minimum MTU choice and the NI group destination", async () => {
  const plain = await ping6(["-c", "1", "2001:db8::1"], () => replyAfter(1));
  assert.equal(plain.sends[0].minmtu, 1, "KAME's default: IPV6_USE_MIN_MTU 1");
  assert.equal(plain.sends[0].nexthop, undefined);
  const g = await ping6(
    ["-g", "2001:db8::fe", "-m", "-c", "1", "2001:db8::1"],
    () => replyAfter(1),
  );
  assert.equal(g.sends[0].nexthop, "2001:db8::fe");
  assert.equal(g.sends[0].minmtu, -1);
  const mm = await ping6(["-mm", "-c", "1", "2001:db8::1"], () => replyAfter(1));
  assert.equal(mm.sends[0].minmtu, 0);
  const n = await ping6(["-N", "-I", "en0", "-c", "1", "nodeb"], () => SILENT);
  assert.equal(n.sends[0].addr, "ff02::2:5319:5203");
  assert.match(n.stdout, /\n--- ff02::2:5319:5203 ping6 statistics ---\n/);
});

Deno.test("buildEchoRequest6: type 128, zero checksum, id and sequence", () => {
  const pkt = buildEchoRequest6(0xabcd, 3, 0, 0, null);
  assert.deepEqual([...pkt], [128, 0, 0, 0, 0xab, 0xcd, 0, 3]);
});
