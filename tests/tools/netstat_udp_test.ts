/**
 * netstat and sysctl over a real stack's UDP sockets: the tools talk to an
 * embedded {@linkcode Stack} through the control dispatcher (handleRequest),
 * as they would to a daemon, with sockets opened in-process through
 * `Stack.openUdp` and traffic played out in virtual time. Whole outputs are
 * compared.
 * @module
 */

import { pair } from "../kit/topologies.ts";
import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { Stack, stackCore } from "../../core/stack.ts";
import { handleRequest } from "../../core/control/dispatch.ts";
import type { UdpHandle } from "../../core/socket/udp_handle.ts";
import { netstatMain } from "../../tools/netstat.ts";
import { sysctlMain } from "../../tools/sysctl.ts";
import type { ToolMain } from "../../tools/run_tool.ts";
import { type FakeHandler, runFakeTool, type ToolRun } from "../kit/fake_tool.ts";

/** Answers each request the way the daemon does: through the dispatcher, over `stack`. */
function through(stack: Stack, privileged = false): FakeHandler {
  return async (req) => {
    const reply = await handleRequest(stack, req, { privileged });
    if (!reply.ok) throw new ErrnoError(reply.errno);
    return reply.result;
  };
}

function run(main: ToolMain, name: string, args: string[], handler: FakeHandler): Promise<ToolRun> {
  return runFakeTool(name, main, args, handler);
}

function assertOk(r: ToolRun, stdout: string): void {
  assert.equal(r.stderr, "");
  assert.equal(r.stdout, stdout);
  assert.equal(r.code, 0);
}

const text = (t: string) => new TextEncoder().encode(t);

const HEAD4 = "Proto Recv-Q Send-Q  Local Address          Foreign Address        State      \n";
const HEAD6 = "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)    \n";
const PAD = " ".repeat(12); // a UDP row's empty state column

/** Sockets of every kind on one v6 stack; returns the ephemeral ports it was given. */
function populate(stack: Stack): { conn4: number; dual: number; handles: UdpHandle[] } {
  stackCore(stack).udp.random = () => 0; // ephemeral ports from anonportmin upwards
  const unbound = stack.openUdp(4);
  const server = stack.openUdp(4);
  server.bind("127.0.0.1", 5353);
  const wild = stack.openUdp(4);
  wild.bind(null, 69);
  const gone = stack.openUdp(4);
  gone.bind(null, 7000);
  gone.close();
  const conn = stack.openUdp(4);
  conn.connect("127.0.0.1", 5353);
  conn.send(text("hello")); // queued at the server: 5 bytes and a 16-byte sockaddr_in
  const lo6 = stack.openUdp(6);
  lo6.bind("::1", 547);
  const link = stack.openUdp(6);
  link.bind("fe80::1%1", 546);
  const dual = stack.openUdp(6);
  dual.connect("127.0.0.1", 5353);
  return {
    conn4: conn.localAddress().port,
    dual: dual.localAddress().port,
    handles: [unbound, server, wild, conn, lo6, link, dual],
  };
}

Deno.test("netstat -an lists a real stack's UDP sockets: unbound ones too, newest first, Recv-Q in sockaddr bytes", async () => {
  const stack = new Stack({ inet6: true });
  const { conn4, dual } = populate(stack);
  const expected = "Active Internet connections (including servers)\n" + HEAD4 +
    `udp        0      0  127.0.0.1.${conn4}        127.0.0.1.5353        ${PAD}\n` +
    `udp        0      0  *.69                   *.*                   ${PAD}\n` +
    `udp       21      0  127.0.0.1.5353         *.*                   ${PAD}\n` +
    `udp        0      0  *.*                    *.*                   ${PAD}\n` +
    "Active Internet6 connections (including servers)\n" + HEAD6 +
    `udp6       0      0  ::ffff:127.0.0.1.${dual} ::ffff:127.0.0.1.5353 ${PAD}\n` +
    `udp6       0      0  fe80::1%lo0.546        *.*                   ${PAD}\n` +
    `udp6       0      0  ::1.547                *.*                   ${PAD}\n`;
  const r = await run(netstatMain, "netstat", ["-an"], through(stack));
  assertOk(r, expected);
  for (const line of r.stdout.split("\n").filter((l) => l !== "" && !l.startsWith("Active"))) {
    assert.equal(line.length, 78, line);
  }
  assert.deepEqual(r.requests.map((q) => q.op), ["info", "sockList"]);

  // Without -n the loopback addresses are named; -f picks one block.
  const named = await run(netstatMain, "netstat", ["-f", "inet"], through(stack));
  assertOk(
    named,
    "Active Internet connections\n" + HEAD4 +
      `udp        0      0  localhost.${conn4}        localhost.5353        ${PAD}\n` +
      `udp        0      0  *.69                   *.*                   ${PAD}\n` +
      `udp       21      0  localhost.5353         *.*                   ${PAD}\n` +
      `udp        0      0  *.*                    *.*                   ${PAD}\n`,
  );
  // A v4-mapped address is named as its IPv4 address would be.
  assertOk(
    await run(netstatMain, "netstat", ["-a", "-f", "inet6"], through(stack)),
    "Active Internet6 connections (including servers)\n" + HEAD6 +
      `udp6       0      0  localhost.${dual}        localhost.5353        ${PAD}\n` +
      `udp6       0      0  fe80::1%lo0.546        *.*                   ${PAD}\n` +
      `udp6       0      0  localhost.547          *.*                   ${PAD}\n`,
  );
});

Deno.test("netstat -A and -An over a real stack: PCB 0 for UDP, 18- and 21-wide columns", async () => {
  const stack = new Stack({ inet6: true });
  const { conn4, dual } = populate(stack);
  const pcb = "       0 ";
  const a = await run(netstatMain, "netstat", ["-A"], through(stack));
  assertOk(
    a,
    "Active Internet connections\n" +
      "PCB      Proto Recv-Q Send-Q  Local Address      Foreign Address    State      \n" +
      `${pcb}udp        0      0  localhost.${conn4}    localhost.5353    ${PAD}\n` +
      `${pcb}udp        0      0  *.69               *.*               ${PAD}\n` +
      `${pcb}udp       21      0  localhost.5353     *.*               ${PAD}\n` +
      `${pcb}udp        0      0  *.*                *.*               ${PAD}\n` +
      "Active Internet6 connections\n" +
      "PCB      Proto Recv-Q Send-Q  Local Address      Foreign Address    (state)    \n" +
      `${pcb}udp6       0      0  localhost.${dual}    localhost.5353    ${PAD}\n` +
      `${pcb}udp6       0      0  fe80::1%lo0.546    *.*               ${PAD}\n` +
      `${pcb}udp6       0      0  localhost.547      *.*               ${PAD}\n`,
  );
  const an = await run(netstatMain, "netstat", ["-Ana"], through(stack));
  const pad7 = " ".repeat(7);
  assertOk(
    an,
    "Active Internet connections (including servers)\n" +
      "PCB      Proto Recv-Q Send-Q Local Address         Foreign Address       State \n" +
      `${pcb}udp        0      0 127.0.0.1.${conn4}       127.0.0.1.5353       ${pad7}\n` +
      `${pcb}udp        0      0 *.69                  *.*                  ${pad7}\n` +
      `${pcb}udp       21      0 127.0.0.1.5353        *.*                  ${pad7}\n` +
      `${pcb}udp        0      0 *.*                   *.*                  ${pad7}\n` +
      "Active Internet6 connections (including servers)\n" +
      "PCB      Proto Recv-Q Send-Q  Local Address      Foreign Address    (state)\n" +
      `${pcb}udp6       0      0 ::ffff:127.0.${dual} ::ffff:127.0.5353 ${pad7}\n` +
      `${pcb}udp6       0      0 fe80::1%lo0.546    *.*               ${pad7}\n` +
      `${pcb}udp6       0      0 ::1.547            *.*               ${pad7}\n`,
  );
});

Deno.test("sockList forgets a closed socket and follows connect and disconnect", async () => {
  const stack = new Stack({ inet6: false });
  const list = async () => {
    const reply = await handleRequest(stack, { op: "sockList" }, { privileged: false });
    assert.ok(reply.ok);
    return reply.result;
  };
  assert.deepEqual(await list(), []);
  const h = stack.openUdp(4);
  h.bind("127.0.0.1", 4000);
  h.connect("127.0.0.1", 4001);
  assert.deepEqual(await list(), [{
    proto: "udp",
    recvQ: 0,
    sendQ: 0,
    localAddr: "127.0.0.1",
    localPort: 4000,
    foreignAddr: "127.0.0.1",
    foreignPort: 4001,
  }]);
  h.disconnect();
  const [after] = await list() as { foreignAddr: string; foreignPort: number }[];
  assert.deepEqual([after.foreignAddr, after.foreignPort], ["0.0.0.0", 0]);
  h.close();
  assert.deepEqual(await list(), []);
});

// ---------------------------------------------------------------------------
// netstat -s after real traffic

Deno.test("netstat -p udp / -p udp6 after real traffic: every counter the core keeps, delivered as NetBSD computes it", async () => {
  const { net, a, b } = pair();
  const r4 = b.openUdp(4);
  r4.setOption("SO_RCVBUF", 1100);
  r4.bind(null, 7777);
  const s4 = a.openUdp(4);
  s4.setOption("SO_BROADCAST", 1);
  s4.sendTo(new Uint8Array(1000), "192.0.2.2", 7777); // delivered
  s4.sendTo(new Uint8Array(1000), "192.0.2.2", 7777); // no room: fullsock
  s4.sendTo(text("x"), "192.0.2.2", 7778); // noport
  s4.sendTo(text("x"), "192.0.2.255", 7779); // noportbcast only
  // Malformed datagrams from a raw socket: a short header, a length past the
  // packet, a wrong checksum.
  const raw = a.openRawSocket("inet", 17, () => {});
  a.sendRaw(raw, "192.0.2.2", new Uint8Array([0x10, 0, 0x1e, 0x61]), {});
  a.sendRaw(raw, "192.0.2.2", new Uint8Array([0x10, 0, 0x1e, 0x61, 0, 100, 0, 0, 1, 2]), {});
  a.sendRaw(raw, "192.0.2.2", new Uint8Array([0x10, 0, 0x1e, 0x61, 0, 9, 0x12, 0x34, 1]), {});
  net.run();
  r4.sendTo(text("back"), "192.0.2.1", s4.localAddress().port); // one datagram output

  const r6 = b.openUdp(6);
  r6.setOption("IPV6_V6ONLY", 1);
  r6.bind(null, 7777);
  const s6 = a.openUdp(6);
  s6.setOption("IPV6_MULTICAST_IF", 2); // en0
  s6.sendTo(text("v6"), "2001:db8::2", 7777); // delivered
  s6.sendTo(text("v6"), "2001:db8::2", 7778); // noport
  s6.sendTo(text("v6"), "ff02::1", 7779); // noportmcast only
  net.run();
  r6.sendTo(text("back"), "2001:db8::1", s6.localAddress().port);
  net.run();

  const udp = await run(netstatMain, "netstat", ["-p", "udp"], through(b));
  assertOk(
    udp,
    "udp:\n" +
      "\t7 datagrams received\n" +
      "\t1 with incomplete header\n" +
      "\t1 with bad data length field\n" +
      "\t1 with bad checksum\n" +
      "\t1 dropped due to no socket\n" +
      "\t1 broadcast/multicast datagram dropped due to no socket\n" +
      "\t1 dropped due to full socket buffers\n" +
      "\t1 delivered\n" +
      "\t3 PCB hash misses\n" +
      "\t1 datagram output\n",
  );
  const udp6 = await run(netstatMain, "netstat", ["-p", "udp6"], through(b));
  assertOk(
    udp6,
    "udp6:\n" +
      "\t3 datagrams received\n" +
      "\t0 with incomplete header\n" +
      "\t0 with bad data length field\n" +
      "\t0 with bad checksum\n" +
      "\t0 with no checksum\n" +
      "\t1 dropped due to no socket\n" +
      "\t1 multicast datagram dropped due to no socket\n" +
      "\t0 dropped due to full socket buffers\n" +
      "\t1 delivered\n" +
      "\t1 datagram output\n",
  );
  // The sender's side: its own broadcast came back to it (nobody took it there either).
  const sender = await run(netstatMain, "netstat", ["-ss", "-p", "udp"], through(a));
  assertOk(
    sender,
    "udp:\n" +
      "\t2 datagrams received\n" +
      "\t1 broadcast/multicast datagram dropped due to no socket\n" +
      "\t1 delivered\n" +
      "\t1 PCB hash miss\n" +
      "\t4 datagrams output\n",
  );
});

// ---------------------------------------------------------------------------
// sysctl net.inet.udp.*

Deno.test("sysctl net.inet.udp lists the knobs, and a write changes what new sockets get", async () => {
  const stack = new Stack({ inet6: true });
  const root = through(stack, true);
  assertOk(
    await run(sysctlMain, "sysctl", ["net.inet.udp"], root),
    "net.inet.udp.checksum = 1\n" +
      "net.inet.udp.sendspace = 9216\n" +
      "net.inet.udp.recvspace = 41600\n" +
      "net.inet.udp.do_loopback_cksum = 0\n",
  );
  const old = stack.openUdp(4);
  old.bind("127.0.0.1", 5000);
  assertOk(
    await run(sysctlMain, "sysctl", ["-w", "net.inet.udp.recvspace=1100"], root),
    "net.inet.udp.recvspace: 41600 -> 1100\n",
  );
  assertOk(
    await run(sysctlMain, "sysctl", ["-w", "net.inet.udp.sendspace=1000"], root),
    "net.inet.udp.sendspace: 9216 -> 1000\n",
  );
  const fresh = stack.openUdp(4);
  fresh.bind("127.0.0.1", 5001);
  assert.equal(fresh.getOption("SO_RCVBUF"), 1100);
  assert.equal(old.getOption("SO_RCVBUF"), 41600, "an open socket keeps its size");

  const sender = stack.openUdp(4);
  assert.throws(() => sender.sendTo(new Uint8Array(1001), "127.0.0.1", 5001), /too long/);
  for (let i = 0; i < 3; i++) sender.sendTo(new Uint8Array(1000), "127.0.0.1", 5001);
  for (let i = 0; i < 3; i++) sender.sendTo(new Uint8Array(1000), "127.0.0.1", 5000);
  assert.equal(fresh.pending, 1, "1016 bytes fit 1100 once");
  assert.equal(old.pending, 3);
  assert.equal(stack.stats.udp.fullsock, 2);

  // netstat shows the same queues.
  const r = await run(netstatMain, "netstat", ["-an", "-f", "inet"], through(stack));
  assert.match(r.stdout, /\nudp {5}1016 {6}0 {2}127\.0\.0\.1\.5001 /);
  assert.match(r.stdout, /\nudp {5}3048 {6}0 {2}127\.0\.0\.1\.5000 /);

  // A user may read but not write.
  const user = await run(sysctlMain, "sysctl", ["-w", "net.inet.udp.recvspace=1"], through(stack));
  assert.equal(user.code, 1);
  assert.match(user.stderr, /Operation not permitted/);
});

Deno.test("sysctl -w net.inet6.udp6.do_loopback_cksum=1 makes lo0 input check UDP sums (one variable, two names)", async () => {
  const stack = new Stack({ inet6: true });
  const root = through(stack, true);
  const r = stack.openUdp(4);
  r.bind("127.0.0.1", 5002);
  const raw = stack.openRawSocket("inet", 17, () => {});
  // Port 4096 to 5002, length 9, a checksum that is wrong for this datagram.
  const bad = new Uint8Array([0x10, 0, 0x13, 0x8a, 0, 9, 0x12, 0x34, 0x2a]);
  stack.sendRaw(raw, "127.0.0.1", bad, {});
  assert.equal(r.pending, 1, "not checked on loopback by default");
  assertOk(
    await run(sysctlMain, "sysctl", ["-w", "net.inet6.udp6.do_loopback_cksum=1"], root),
    "net.inet6.udp6.do_loopback_cksum: 0 -> 1\n",
  );
  assertOk(
    await run(sysctlMain, "sysctl", ["net.inet.udp.do_loopback_cksum"], root),
    "net.inet.udp.do_loopback_cksum = 1\n",
  );
  stack.sendRaw(raw, "127.0.0.1", bad, {});
  assert.equal(r.pending, 1, "dropped now");
  const s = await run(netstatMain, "netstat", ["-ss", "-p", "udp"], root);
  assertOk(
    s,
    "udp:\n\t2 datagrams received\n\t1 with bad checksum\n\t1 delivered\n\t1 PCB hash miss\n",
  );
});
