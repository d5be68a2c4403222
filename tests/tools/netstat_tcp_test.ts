/**
 * netstat over a real stack's socket list with TCP rows from a fake
 * {@linkcode TcpPcbSource} registered where the TCP side registers itself
 * (`StackCore.tcpPcbSource`): the rows, their order beside UDP, `-A`, and
 * `-v`'s line of figures. Whole outputs are compared.
 * @module
 */

import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { Stack, stackCore } from "../../core/stack.ts";
import { handleRequest } from "../../core/control/dispatch.ts";
import { socketList } from "../../core/control/socket_list.ts";
import {
  TCP_CONN_STATS_NONE,
  type TcpConnStats,
  type TcpPcbInfo,
  type TcpPcbSource,
} from "../../core/control/tcp_pcb_info.ts";
import { Endpoint, IpAddr } from "../../core/net/inet_addr.ts";
import { netstatMain } from "../../tools/netstat.ts";
import { type FakeHandler, runFakeTool, type ToolRun } from "../kit/fake_tool.ts";

function through(stack: Stack): FakeHandler {
  return async (req) => {
    const reply = await handleRequest(stack, req, { privileged: false });
    if (!reply.ok) throw new ErrnoError(reply.errno);
    return reply.result;
  };
}

function netstat(stack: Stack, args: string[]): Promise<ToolRun> {
  return runFakeTool("netstat", netstatMain, args, through(stack));
}

function assertOk(r: ToolRun, stdout: string): void {
  assert.equal(r.stderr, "");
  assert.equal(r.stdout, stdout);
  assert.equal(r.code, 0);
}

function endpoint(addr: string, port: number): Endpoint {
  const e = new Endpoint();
  e.addr.set(IpAddr.parse(addr)!);
  e.port = port;
  return e;
}

function pcb(
  family: 4 | 6,
  local: [string, number],
  remote: [string, number],
  state: string,
  more: Partial<TcpPcbInfo> = {},
): TcpPcbInfo {
  return {
    ...TCP_CONN_STATS_NONE,
    family,
    local: endpoint(...local),
    remote: endpoint(...remote),
    state,
    recvQ: 0,
    sendQ: 0,
    pcb: 0,
    ...more,
  };
}

const BUSY: Partial<TcpConnStats> = {
  cwnd: 14480,
  ssthresh: 65535,
  srttMs: 1.23,
  rttvarMs: 0.6,
  rtoMs: 201.4,
  retransmits: 3,
  sackHoles: 1,
  sndWnd: 65535,
  rcvWnd: 131072,
  mss: 1448,
  congestion: "cubic",
  limit: "cwnd",
};

/** A listener on each family, a busy connection, a TIME_WAIT one, a v4-mapped one. */
function source(): TcpPcbSource {
  return {
    tcpPcbs: () => [
      pcb(6, ["::ffff:192.0.2.1", 8080], ["::ffff:192.0.2.9", 40001], "ESTABLISHED", {
        pcb: 0x15,
        ...TCP_CONN_STATS_NONE,
        cwnd: 14600,
        rtoMs: 1000,
        sndWnd: 65535,
        rcvWnd: 65535,
        mss: 1460,
        congestion: "newreno",
        limit: "app",
      }),
      pcb(4, ["192.0.2.1", 22], ["192.0.2.9", 50123], "ESTABLISHED", {
        recvQ: 10,
        sendQ: 65536,
        pcb: 0x12,
        ...BUSY,
      }),
      pcb(4, ["192.0.2.1", 23], ["192.0.2.9", 50100], "TIME_WAIT", { pcb: 0x11 }),
      pcb(6, ["::", 22], ["::", 0], "LISTEN", { pcb: 0x10 }),
      pcb(4, ["0.0.0.0", 22], ["0.0.0.0", 0], "LISTEN", { pcb: 0xf }),
    ],
  };
}

const HEAD4 = "Proto Recv-Q Send-Q  Local Address          Foreign Address        State      \n";
const HEAD6 = "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)    \n";
const PAD = " ".repeat(12);

function stackWithSockets(): Stack {
  const stack = new Stack({ inet6: true });
  stackCore(stack).tcpPcbSource = source();
  stack.openUdp(4).bind(null, 69);
  return stack;
}

const ROWS4 = "tcp       10  65536  192.0.2.1.22           192.0.2.9.50123        ESTABLISHED\n" +
  "tcp        0      0  192.0.2.1.23           192.0.2.9.50100        TIME_WAIT  \n" +
  "tcp        0      0  *.22                   *.*                    LISTEN     \n" +
  `udp        0      0  *.69                   *.*                   ${PAD}\n`;
const ROWS6 = "tcp6       0      0  ::ffff:192.0.2.1.8080  ::ffff:192.0.2.9.40001 ESTABLISHED\n" +
  "tcp6       0      0  *.22                   *.*                    LISTEN     \n";

Deno.test("netstat -an lists TCP rows from the registered source before UDP, IPv4 then IPv6", async () => {
  const stack = stackWithSockets();
  const r = await netstat(stack, ["-an"]);
  assertOk(
    r,
    "Active Internet connections (including servers)\n" + HEAD4 + ROWS4 +
      "Active Internet6 connections (including servers)\n" + HEAD6 + ROWS6,
  );
  for (const line of r.stdout.split("\n").filter((l) => l !== "" && !l.startsWith("Active"))) {
    assert.equal(line.length, 78, line);
  }
  // -f picks a block; without -a only the titles change.
  assertOk(
    await netstat(stack, ["-n", "-f", "inet"]),
    "Active Internet connections\n" + HEAD4 + ROWS4,
  );
  assertOk(
    await netstat(stack, ["-a", "-n", "-f", "inet6"]),
    "Active Internet6 connections (including servers)\n" + HEAD6 + ROWS6,
  );
});

Deno.test("netstat -An prints each TCP row's PCB number, short states", async () => {
  const stack = stackWithSockets();
  assertOk(
    await netstat(stack, ["-An", "-f", "inet"]),
    "Active Internet connections\n" +
      "PCB      Proto Recv-Q Send-Q Local Address         Foreign Address       State \n" +
      "      12 tcp       10  65536 192.0.2.1.22          192.0.2.9.50123       ESTABL\n" +
      "      11 tcp        0      0 192.0.2.1.23          192.0.2.9.50100       TMWAIT\n" +
      "       f tcp        0      0 *.22                  *.*                   LISTEN\n" +
      "       0 udp        0      0 *.69                  *.*                         \n",
  );
});

Deno.test("netstat -v adds a tab-led line of figures under each TCP row only", async () => {
  const stack = stackWithSockets();
  assertOk(
    await netstat(stack, ["-anv"]),
    "Active Internet connections (including servers)\n" + HEAD4 +
      "tcp       10  65536  192.0.2.1.22           192.0.2.9.50123        ESTABLISHED\n" +
      "\tcwnd 14480 ssthresh 65535 srtt 1.2ms rttvar 0.6ms rto 201ms rexmt 3 holes 1" +
      " sndwnd 65535 rcvwnd 131072 mss 1448 cc cubic limit: cwnd\n" +
      "tcp        0      0  192.0.2.1.23           192.0.2.9.50100        TIME_WAIT  \n" +
      "\tcwnd 0 ssthresh - srtt - rttvar - rto 0.0ms rexmt 0 holes 0" +
      " sndwnd 0 rcvwnd 0 mss 0 cc - limit: -\n" +
      "tcp        0      0  *.22                   *.*                    LISTEN     \n" +
      "\tcwnd 0 ssthresh - srtt - rttvar - rto 0.0ms rexmt 0 holes 0" +
      " sndwnd 0 rcvwnd 0 mss 0 cc - limit: -\n" +
      `udp        0      0  *.69                   *.*                   ${PAD}\n` +
      "Active Internet6 connections (including servers)\n" + HEAD6 +
      "tcp6       0      0  ::ffff:192.0.2.1.8080  ::ffff:192.0.2.9.40001 ESTABLISHED\n" +
      "\tcwnd 14600 ssthresh - srtt - rttvar - rto 1000ms rexmt 0 holes 0" +
      " sndwnd 65535 rcvwnd 65535 mss 1460 cc newreno limit: app\n" +
      "tcp6       0      0  *.22                   *.*                    LISTEN     \n" +
      "\tcwnd 0 ssthresh - srtt - rttvar - rto 0.0ms rexmt 0 holes 0" +
      " sndwnd 0 rcvwnd 0 mss 0 cc - limit: -\n",
  );
});

Deno.test("a stack with no TCP source lists no TCP rows; the source is asked on every listing", () => {
  const stack = new Stack({ inet6: false });
  stack.openUdp(4).bind(null, 69);
  assert.deepEqual(socketList(stackCore(stack)).map((s) => s.proto), ["udp"]);
  let asked = 0;
  stackCore(stack).tcpPcbSource = {
    tcpPcbs: () => {
      asked++;
      return asked === 1 ? [] : [pcb(4, ["0.0.0.0", 80], ["0.0.0.0", 0], "LISTEN")];
    },
  };
  assert.deepEqual(socketList(stackCore(stack)).map((s) => s.proto), ["udp"]);
  const second = socketList(stackCore(stack));
  assert.deepEqual(second.map((s) => [s.proto, s.state, s.localPort]), [
    ["tcp", "LISTEN", 80],
    ["udp", undefined, 69],
  ]);
  assert.deepEqual(second[0].tcp, { ...TCP_CONN_STATS_NONE });
  assert.equal(asked, 2);
});
