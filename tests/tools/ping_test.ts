/**
 * ping against a fake stack on a virtual clock: the fake answers each echo
 * request it is asked to send with a crafted IPv4 datagram after a chosen
 * delay, so replies, loss, duplicates, ICMP errors, timeouts and SIGINT are
 * all tested byte for byte without waiting in real time.
 * @module
 */

import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import type { ControlRequest, SocketEvent } from "../../core/control/ops.ts";
import { checksum } from "../../core/wire/checksum.ts";
import { buildEchoRequest4, pingMain } from "../../tools/ping.ts";
import { fromBase64, VirtualClock } from "../../tools/ping_engine.ts";
import { toBase64 } from "../../core/control/base64.ts";
import { type FakeHandler, runFakeTool, type ToolRun } from "../kit/fake_tool.ts";

const PID = 0x4321;
const SOCK = 7;

/** How the fake network treats the request with a given sequence number. */
type Behaviour =
  | { kind: "reply"; delayMs: number; ttl?: number; times?: number }
  | { kind: "silent" }
  | { kind: "error"; delayMs: number; from: string; type: number; code: number };

/** An IPv4 header (20 bytes) in front of `payload`, checksummed. */
function ip4(src: string, dst: string, ttl: number, proto: number, payload: Uint8Array) {
  const out = new Uint8Array(20 + payload.length);
  out.set([0x45, 0, (out.length >> 8) & 255, out.length & 255, 0x12, 0x34, 0, 0, ttl, proto]);
  out.set(src.split(".").map(Number), 12);
  out.set(dst.split(".").map(Number), 16);
  const sum = checksum(out.subarray(0, 20));
  out[10] = sum >> 8;
  out[11] = sum & 255;
  out.set(payload, 20);
  return out;
}

/** The echo reply to a request: the same message with type 0. */
function echoReply(request: Uint8Array): Uint8Array {
  const icmp = request.slice();
  icmp[0] = 0;
  icmp[2] = icmp[3] = 0;
  const sum = checksum(icmp);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 255;
  return icmp;
}

/** An ICMP error quoting the whole offending datagram, as a router sends it. */
function icmpError(type: number, code: number, quoted: Uint8Array): Uint8Array {
  const icmp = new Uint8Array(8 + quoted.length);
  icmp[0] = type;
  icmp[1] = code;
  icmp.set(quoted, 8);
  return icmp;
}

/** A fake stack whose network answers per `behave(seq)`, in virtual time. */
function fakeNet(
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
  if (b.kind === "reply") {
    for (let i = 0; i < (b.times ?? 1); i++) {
      clock.setTimer(() => {
        deliver(dst, ip4(dst, "192.0.2.2", b.ttl ?? 64, 1, echoReply(request)), b.ttl ?? 64);
      }, b.delayMs + i);
    }
  } else if (b.kind === "error") {
    const original = ip4("192.0.2.2", dst, 255, 1, request);
    clock.setTimer(() => {
      const err = icmpError(b.type, b.code, original);
      deliver(b.from, ip4(b.from, "192.0.2.2", 254, 1, err), 254);
    }, b.delayMs);
  }
}

interface PingRunResult extends ToolRun {
  elapsedMs: number;
  sends: Extract<ControlRequest, { op: "sockSendTo" }>[];
}

async function ping(
  args: string[],
  behave: (seq: number) => Behaviour,
  setup: {
    overrides?: Partial<Record<ControlRequest["op"], () => unknown>>;
    interruptAfterMs?: number;
    noStack?: boolean;
  } = {},
): Promise<PingRunResult> {
  const clock = new VirtualClock();
  const start = clock.now();
  const handler = setup.noStack ? null : fakeNet(clock, behave, setup.overrides);
  const run = await runFakeTool(
    "ping",
    (a, ctx) =>
      pingMain(a, ctx, {
        clock,
        pid: PID,
        onInterrupt: (fn) => {
          if (setup.interruptAfterMs === undefined) return () => {};
          const id = clock.setTimer(fn, setup.interruptAfterMs);
          return () => clock.clearTimer(id);
        },
      }),
    args,
    handler,
  );
  const sends = run.requests.filter((r) => r.op === "sockSendTo");
  return { ...run, elapsedMs: clock.now() - start, sends };
}

const replyAfter = (delayMs: number): Behaviour => ({ kind: "reply", delayMs });
const SILENT: Behaviour = { kind: "silent" };

// ---------------------------------------------------------------------------
// Replies and statistics

Deno.test("ping -c 1: the reference's exact output, exit 0", async () => {
  const r = await ping(["-c", "1", "192.0.2.3"], () => replyAfter(4));
  assert.equal(
    r.stdout,
    "PING 192.0.2.3 (192.0.2.3): 56 data bytes\n" +
      "64 bytes from 192.0.2.3: icmp_seq=0 ttl=64 time=4 ms\n" +
      "\n" +
      "----192.0.2.3 PING Statistics----\n" +
      "1 packets transmitted, 1 packets received, 0% packet loss\n" +
      "round-trip min/avg/max = 4/4/4 ms   variance = 0 ms^2\n",
  );
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  // The run ends as soon as the count of replies is in.
  assert.equal(r.elapsedMs, 4);
});

Deno.test("ping: the request is BSD's echo: type 8, pid id, seq, tv32, index fill, checksum", async () => {
  const r = await ping(["-c", "1", "192.0.2.3"], () => replyAfter(1));
  assert.deepEqual(r.requests[0], { op: "sockOpen", domain: "inet", type: "raw", proto: 1 });
  const send = r.sends[0];
  assert.equal(send.addr, "192.0.2.3");
  assert.equal(send.ttl, 255);
  assert.equal(send.src, undefined);
  const pkt = fromBase64(send.data);
  assert.equal(pkt.length, 64);
  assert.deepEqual([...pkt.subarray(0, 2)], [8, 0]);
  assert.equal(checksum(pkt), 0);
  assert.deepEqual([...pkt.subarray(4, 8)], [0x43, 0x21, 0, 0]);
  // Bytes 8..15 are the timestamp; then each data byte holds its own offset.
  for (let i = 8; i < 56; i++) assert.equal(pkt[8 + i], i);
  assert.deepEqual(r.requests.at(-1), { op: "sockClose", sock: SOCK });
});

Deno.test("ping -c 3: one request a second, min/avg/max and the variance", async () => {
  const delays = [4, 6, 11];
  const r = await ping(["-c", "3", "192.0.2.3"], (seq) => replyAfter(delays[seq]));
  assert.equal(
    r.stdout,
    "PING 192.0.2.3 (192.0.2.3): 56 data bytes\n" +
      "64 bytes from 192.0.2.3: icmp_seq=0 ttl=64 time=4 ms\n" +
      "64 bytes from 192.0.2.3: icmp_seq=1 ttl=64 time=6 ms\n" +
      "64 bytes from 192.0.2.3: icmp_seq=2 ttl=64 time=11 ms\n" +
      "\n" +
      "----192.0.2.3 PING Statistics----\n" +
      "3 packets transmitted, 3 packets received, 0% packet loss\n" +
      "round-trip min/avg/max = 4/7/11 ms   variance = 13 ms^2\n",
  );
  assert.equal(r.elapsedMs, 2011);
  assert.deepEqual(r.sends.map((s) => (fromBase64(s.data)[6] << 8) | fromBase64(s.data)[7]), [
    0,
    1,
    2,
  ]);
});

Deno.test("ping: no answer at all: 100% loss, no round-trip line, maxwait, exit 1", async () => {
  const r = await ping(["-c", "2", "192.0.2.9"], () => SILENT);
  assert.equal(
    r.stdout,
    "PING 192.0.2.9 (192.0.2.9): 56 data bytes\n" +
      "\n" +
      "----192.0.2.9 PING Statistics----\n" +
      "2 packets transmitted, 0 packets received, 100% packet loss\n",
  );
  assert.equal(r.code, 1);
  // Second request at 1 s, then NetBSD's default maxwait of 10 s.
  assert.equal(r.elapsedMs, 11_000);
});

Deno.test("ping -w 2: the wait after the last request is maxwait seconds", async () => {
  const r = await ping(["-w", "2", "-c", "1", "192.0.2.9"], () => SILENT);
  assert.equal(r.elapsedMs, 2000);
  assert.equal(r.code, 1);
});

Deno.test("ping: partial loss is truncated to a whole percent", async () => {
  const r = await ping(["-c", "3", "192.0.2.3"], (seq) => seq === 1 ? SILENT : replyAfter(2));
  assert.match(r.stdout, /\n3 packets transmitted, 2 packets received, 33% packet loss\n/);
  assert.match(r.stdout, /round-trip min\/avg\/max = 2\/2\/2 ms {3}variance = 0 ms\^2\n$/);
  assert.equal(r.code, 0);
});

Deno.test("ping: a duplicate reply is marked DUP! and counted apart", async () => {
  const r = await ping(
    ["-c", "2", "192.0.2.3"],
    (seq) => seq === 0 ? { kind: "reply", delayMs: 4, times: 2 } : replyAfter(6),
  );
  assert.equal(
    r.stdout,
    "PING 192.0.2.3 (192.0.2.3): 56 data bytes\n" +
      "64 bytes from 192.0.2.3: icmp_seq=0 ttl=64 time=4 ms\n" +
      "64 bytes from 192.0.2.3: icmp_seq=0 DUP! ttl=64 time=5 ms\n" +
      "64 bytes from 192.0.2.3: icmp_seq=1 ttl=64 time=6 ms\n" +
      "\n" +
      "----192.0.2.3 PING Statistics----\n" +
      "2 packets transmitted, 2 packets received, +1 duplicates, 0% packet loss\n" +
      "round-trip min/avg/max = 4/5/6 ms   variance = 1 ms^2\n",
  );
});

Deno.test("ping: SIGINT ends an endless run with the statistics", async () => {
  const r = await ping(["192.0.2.3"], () => replyAfter(3), { interruptAfterMs: 2500 });
  assert.equal(
    r.stdout,
    "PING 192.0.2.3 (192.0.2.3): 56 data bytes\n" +
      "64 bytes from 192.0.2.3: icmp_seq=0 ttl=64 time=3 ms\n" +
      "64 bytes from 192.0.2.3: icmp_seq=1 ttl=64 time=3 ms\n" +
      "64 bytes from 192.0.2.3: icmp_seq=2 ttl=64 time=3 ms\n" +
      "\n" +
      "----192.0.2.3 PING Statistics----\n" +
      "3 packets transmitted, 3 packets received, 0% packet loss\n" +
      "round-trip min/avg/max = 3/3/3 ms   variance = 0 ms^2\n",
  );
  assert.equal(r.elapsedMs, 2500);
  assert.equal(r.code, 0);
});

Deno.test("ping -o: the first reply ends the run", async () => {
  const r = await ping(["-o", "192.0.2.3"], () => replyAfter(5));
  assert.equal(r.sends.length, 1);
  assert.match(r.stdout, /1 packets transmitted, 1 packets received, 0% packet loss\n/);
  assert.equal(r.code, 0);
});

Deno.test("ping -q: only the header and the statistics", async () => {
  const r = await ping(["-q", "-c", "2", "192.0.2.3"], () => replyAfter(4));
  assert.equal(
    r.stdout,
    "PING 192.0.2.3 (192.0.2.3): 56 data bytes\n" +
      "\n" +
      "----192.0.2.3 PING Statistics----\n" +
      "2 packets transmitted, 2 packets received, 0% packet loss\n" +
      "round-trip min/avg/max = 4/4/4 ms   variance = 0 ms^2\n",
  );
});

Deno.test("ping -s 4: too short for a timestamp, so no times at all", async () => {
  const r = await ping(["-s", "4", "-c", "1", "192.0.2.3"], () => replyAfter(4));
  assert.equal(
    r.stdout,
    "PING 192.0.2.3 (192.0.2.3): 4 data bytes\n" +
      "12 bytes from 192.0.2.3: icmp_seq=0 ttl=64\n" +
      "\n" +
      "----192.0.2.3 PING Statistics----\n" +
      "1 packets transmitted, 1 packets received, 0% packet loss\n",
  );
  const pkt = fromBase64(r.sends[0].data);
  assert.deepEqual([...pkt.subarray(8)], [0, 1, 2, 3]);
});

Deno.test("ping -p -T -I -B: pattern, TTL, source address and interface reach the stack", async () => {
  const r = await ping(
    ["-p", "ab", "-T", "7", "-I", "192.0.2.2", "-s", "12", "-c", "1", "192.0.2.3"],
    () => replyAfter(1),
  );
  const send = r.sends[0];
  assert.equal(send.ttl, 7);
  assert.equal(send.src, "192.0.2.2");
  assert.equal(send.ifname, undefined);
  assert.deepEqual([...fromBase64(send.data).subarray(16)], [0xab, 0xab, 0xab, 0xab]);
  const r2 = await ping(["-B", "en0", "-c", "1", "192.0.2.3"], () => replyAfter(1));
  assert.equal(r2.sends[0].ifname, "en0");
  const r3 = await ping(["-I", "en1", "-c", "1", "192.0.2.3"], () => replyAfter(1));
  assert.equal(r3.sends[0].ifname, "en1");
  assert.equal(r3.sends[0].src, undefined);
});

Deno.test("ping -f: a dot per request, a backspace per reply", async () => {
  const r = await ping(["-f", "-c", "3", "192.0.2.3"], () => replyAfter(4));
  assert.equal(
    r.stdout,
    "PING 192.0.2.3 (192.0.2.3): 56 data bytes\n" +
      ".\b.\b.\b" +
      "\n" +
      "----192.0.2.3 PING Statistics----\n" +
      "3 packets transmitted, 3 packets received, 0% packet loss\n" +
      "round-trip min/avg/max = 4/4/4 ms   variance = 0 ms^2\n",
  );
  // The flood interval is 10 ms.
  assert.equal(r.elapsedMs, 24);
});

Deno.test("ping -l 3: preloaded requests go out back to back", async () => {
  const r = await ping(["-l", "3", "-c", "4", "-q", "192.0.2.3"], () => replyAfter(500));
  assert.equal(r.sends.length, 4);
  assert.equal(r.elapsedMs, 1500);
});

Deno.test("ping -a: a bell on stderr for each new reply", async () => {
  const r = await ping(["-a", "-c", "2", "192.0.2.3"], () => replyAfter(1));
  assert.equal(r.stderr, "\x07\x07");
});

// ---------------------------------------------------------------------------
// ICMP errors

const UNREACH: Behaviour = { kind: "error", delayMs: 2, from: "192.0.2.1", type: 3, code: 1 };

Deno.test("ping: an error quoting our request prints its BSD text line", async () => {
  const r = await ping(["-c", "1", "-w", "1", "192.0.2.3"], () => UNREACH);
  assert.equal(
    r.stdout,
    "PING 192.0.2.3 (192.0.2.3): 56 data bytes\n" +
      "92 bytes from 192.0.2.1: Destination Host Unreachable\n" +
      "\n" +
      "----192.0.2.3 PING Statistics----\n" +
      "1 packets transmitted, 0 packets received, 100% packet loss\n",
  );
  assert.equal(r.code, 1);
});

Deno.test("ping -v: the error is followed by the quoted header dump", async () => {
  const r = await ping(["-v", "-c", "1", "-w", "1", "192.0.2.3"], () => UNREACH);
  assert.match(
    r.stdout,
    new RegExp(
      "92 bytes from 192\\.0\\.2\\.1: Destination Host Unreachable\n" +
        "Vr HL TOS  Len   ID Flg  off TTL Pro  cks      Src      Dst\n" +
        " 4  5  00 0054 1234   0 0000  ff  01 [0-9a-f]{4} 192\\.0\\.2\\.2  192\\.0\\.2\\.3 \n\n",
    ),
  );
});

Deno.test("ping -Q: errors about our requests are not shown", async () => {
  const r = await ping(["-Q", "-c", "1", "-w", "1", "192.0.2.3"], () => UNREACH);
  assert.doesNotMatch(r.stdout, /Unreachable/);
});

Deno.test("ping: other error texts (time exceeded, net unreachable, bad code)", async () => {
  const cases: [number, number, string][] = [
    [11, 0, "Time to live exceeded"],
    [3, 0, "Destination Net Unreachable"],
    [3, 3, "Destination Port Unreachable"],
    [3, 9, "Dest Unreachable, Bad Code: 9"],
    [12, 0, "Parameter problem: pointer = 0x00"],
  ];
  for (const [type, code, text] of cases) {
    const r = await ping(
      ["-c", "1", "-w", "1", "192.0.2.3"],
      () => ({ kind: "error", delayMs: 1, from: "192.0.2.1", type, code }),
    );
    assert.match(
      r.stdout,
      new RegExp(`\n92 bytes from 192\\.0\\.2\\.1: ${text.replace(/[().]/g, "\\$&")}\n`),
    );
  }
});

Deno.test("ping: echo replies for another process's id are ignored", async () => {
  const clock = new VirtualClock();
  const handler: FakeHandler = (req, emit) => {
    if (req.op === "sockOpen") return { sock: SOCK };
    if (req.op === "sockClose") return {};
    if (req.op !== "sockSendTo") throw new ErrnoError("ENOSYS");
    const reply = echoReply(fromBase64(req.data));
    reply[4] ^= 0xff;
    clock.setTimer(() =>
      emit({
        sock: SOCK,
        from: req.addr,
        data: toBase64(ip4(req.addr, "192.0.2.2", 64, 1, reply)),
        ttl: 64,
        ifname: "en0",
      }), 1);
    return { sent: 64 };
  };
  const r = await runFakeTool(
    "ping",
    (a, ctx) => pingMain(a, ctx, { clock, pid: PID }),
    ["-c", "1", "-w", "1", "192.0.2.3"],
    handler,
  );
  assert.match(r.stdout, /1 packets transmitted, 0 packets received, 100% packet loss/);
  assert.equal(r.code, 1);
});

// ---------------------------------------------------------------------------
// Errors and the command line

Deno.test("ping: sendto failures are reported and the run goes on", async () => {
  const r = await ping(["-c", "2", "-w", "1", "192.0.2.3"], () => SILENT, {
    overrides: {
      sockSendTo: () => {
        throw new ErrnoError("EHOSTUNREACH");
      },
    },
  });
  assert.equal(r.stderr, "ping: sendto: No route to host\nping: sendto: No route to host\n");
  assert.match(r.stdout, /2 packets transmitted, 0 packets received, 100% packet loss\n$/);
  assert.equal(r.code, 1);
});

Deno.test("ping: no stack, or no raw socket: socket error, exit 2", async () => {
  const none = await ping(["192.0.2.3"], () => SILENT, { noStack: true });
  assert.equal(none.stderr, "ping: socket: Address family not supported by protocol family\n");
  assert.equal(none.code, 2);
  const enosys = await ping(["192.0.2.3"], () => SILENT, {
    overrides: {
      sockOpen: () => {
        throw new ErrnoError("ENOSYS");
      },
    },
  });
  assert.equal(enosys.stderr, "ping: socket: Function not implemented\n");
  assert.equal(enosys.stdout, "");
  assert.equal(enosys.code, 2);
});

const USAGE = "usage: ping [-aDdfLnoPQqRrv] [-B interface] [-c count] [-E policy] [-g gateway]\n" +
  "     [-h host] [-I ifaddr] [-i interval] [-l preload] [-p pattern] [-s packetsize]\n" +
  "     [-t tos] [-T ttl] [-w maxwait] host\n";

Deno.test("ping: usage errors and bad values, exit 2", async () => {
  const cases: [string[], string][] = [
    [[], USAGE],
    [["-z", "192.0.2.3"], "ping: unknown option -- z\n" + USAGE],
    [["-c"], "ping: option requires an argument -- c\n" + USAGE],
    [["192.0.2.3", "192.0.2.4"], USAGE],
    [["-c", "0", "192.0.2.3"], "ping: Bad/invalid number of packets\n"],
    [["-i", "x", "192.0.2.3"], "ping: Bad/invalid interval x\n"],
    [["-s", "70000", "192.0.2.3"], "ping: packet size is too large\n"],
    [["-T", "256", "192.0.2.3"], "ping: ttl out of range\n"],
    [["-w", "0", "192.0.2.3"], "ping: Bad/invalid maxwait time 0\n"],
    [["-p", "xyz", "192.0.2.3"], "ping: patterns must be specified with 1-16 hex digits\n"],
    [["-R", "192.0.2.3"], "ping: -R: not supported\n"],
    [["-t", "10", "192.0.2.3"], "ping: -t: not supported\n"],
    [["host.example"], 'ping: Cannot resolve "host.example" (Unknown host)\n'],
  ];
  for (const [args, stderr] of cases) {
    const r = await ping(args, () => SILENT);
    assert.equal(r.stderr, stderr, args.join(" "));
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.requests.length, 0);
  }
});

Deno.test("ping: -h names the host; localhost and short inet_aton forms resolve", async () => {
  const r = await ping(["-c", "1", "-h", "127.1"], () => replyAfter(0));
  assert.match(r.stdout, /^PING 127\.1 \(127\.0\.0\.1\): 56 data bytes\n/);
  assert.match(r.stdout, /\n----127\.1 PING Statistics----\n/);
  const l = await ping(["-c", "1", "localhost"], () => replyAfter(0));
  assert.match(l.stdout, /^PING localhost \(127\.0\.0\.1\)/);
  assert.equal(l.sends[0].addr, "127.0.0.1");
});

Deno.test("buildEchoRequest4: checksummed echo with the given id and sequence", () => {
  const pkt = buildEchoRequest4(0xbeef, 0x0102, 8, 1_700_000_000_500, null);
  assert.equal(pkt.length, 16);
  assert.deepEqual([...pkt.subarray(4, 8)], [0xbe, 0xef, 0x01, 0x02]);
  assert.equal(checksum(pkt), 0);
  const view = new DataView(pkt.buffer, 8);
  assert.equal(view.getUint32(0), 1_700_000_000);
  assert.equal(view.getUint32(4), 500_000);
});
