/**
 * if_up against scripted stacks: interfaces that appear or get configured on a
 * given walk, stacks that start late, and the exact messages and exit codes.
 * @module
 */

import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import type {
  ControlOp,
  ControlResults,
  IfAddrInfo,
  IfInfo,
  IfStats,
} from "../../core/control/ops.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { StackUnreachableError } from "../../tools/client.ts";
import { ifUpMain } from "../../tools/if_up.ts";
import type { ControlClient, RequestOf, ToolContext } from "../../tools/tool_context.ts";
import { runFakeTool } from "../kit/fake_tool.ts";

const ZERO_STATS: IfStats = {
  ipackets: 0,
  ierrors: 0,
  opackets: 0,
  oerrors: 0,
  collisions: 0,
  ibytes: 0,
  obytes: 0,
  imcasts: 0,
  omcasts: 0,
  iqdrops: 0,
  noproto: 0,
};

const INET: IfAddrInfo = { family: "inet", addr: "192.0.2.10", netmask: "255.255.255.0" };
const INET6_GLOBAL: IfAddrInfo = {
  family: "inet6",
  addr: "2001:db8::10",
  prefixlen: 64,
  flags: [],
};
const INET6_LL: IfAddrInfo = {
  family: "inet6",
  addr: "fe80::1",
  prefixlen: 64,
  scopeid: 2,
  flags: [],
};

/** An interface; UP with one IPv4 address unless told otherwise. */
function iface(name: string, over: Partial<IfInfo> = {}): IfInfo {
  return {
    name,
    index: 2,
    flags: IFF.UP | IFF.BROADCAST | IFF.RUNNING | IFF.MULTICAST,
    mtu: 1500,
    metric: 0,
    driver: "fake",
    stats: ZERO_STATS,
    addrs: [INET],
    ...over,
  };
}

/** What the scripted stack does on walk `n` (1-based): a list, an error, or no stack. */
type WalkScript = (walk: number) => IfInfo[] | ErrnoError | "down";

/** Everything one scripted run observed. */
interface ScriptedRun {
  code: number;
  stdout: string;
  stderr: string;
  connects: number;
  closes: number;
  sleeps: number[];
}

/** Runs if_up against a stack whose answers change walk by walk. */
async function runScripted(args: string[], script: WalkScript): Promise<ScriptedRun> {
  const run: ScriptedRun = { code: -1, stdout: "", stderr: "", connects: 0, closes: 0, sleeps: [] };
  const client = (walk: number): ControlClient => ({
    call<O extends ControlOp>(req: RequestOf<O>): Promise<ControlResults[O]> {
      assert.equal(req.op, "ifList");
      const answer = script(walk);
      if (answer instanceof ErrnoError) return Promise.reject(answer);
      return Promise.resolve(answer as ControlResults[O]);
    },
    onEvent() {},
    close() {
      run.closes++;
    },
  });
  const ctx: ToolContext = {
    name: "if_up",
    env: {},
    stdout: (s) => void (run.stdout += s),
    stderr: (s) => void (run.stderr += s),
    connect() {
      const walk = ++run.connects;
      if (script(walk) === "down") {
        return Promise.reject(new StackUnreachableError("/x/dev/socket"));
      }
      return Promise.resolve(client(walk));
    },
  };
  run.code = await ifUpMain(args, ctx, {
    sleep: (ms) => {
      run.sleeps.push(ms);
      return Promise.resolve();
    },
  });
  return run;
}

/** The same list on every walk. */
const always = (list: IfInfo[]): WalkScript => () => list;

const noSleep = (args: string[], ctx: ToolContext) =>
  ifUpMain(args, ctx, { sleep: () => Promise.resolve() });

Deno.test("if_up -p waits for the interface to appear", async () => {
  const r = await runScripted(["-p", "wm0"], (walk) => walk < 3 ? [] : [iface("wm0")]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "");
  assert.equal(r.connects, 3);
  assert.deepEqual(r.sleeps, [1000, 1000]);
});

Deno.test("if_up -p is satisfied by a present but unconfigured interface", async () => {
  const r = await runScripted(["-p", "wm0"], always([iface("wm0", { flags: 0, addrs: [] })]));
  assert.equal(r.code, 0);
  assert.equal(r.connects, 1);
});

Deno.test("if_up waits until the interface is configured", async () => {
  const r = await runScripted(["en0"], (walk) => [
    walk < 2
      ? iface("en0", { flags: 0, addrs: [] })
      : walk < 4
      ? iface("en0", { addrs: [] })
      : iface("en0"),
  ]);
  assert.equal(r.code, 0);
  assert.equal(r.connects, 4);
  assert.equal(r.stderr, "");
});

Deno.test("if_up does not count an interface that is down, or without a non-zero address", async () => {
  const cases: IfInfo[] = [
    iface("en0", { flags: IFF.BROADCAST }),
    iface("en0", { addrs: [] }),
    iface("en0", { addrs: [{ family: "inet", addr: "0.0.0.0", netmask: "255.0.0.0" }] }),
    iface("en0", { addrs: [INET6_GLOBAL] }),
  ];
  for (const ifp of cases) {
    const r = await runScripted(["en0"], always([ifp]));
    assert.equal(r.code, 7, JSON.stringify(ifp));
    assert.equal(r.stderr, "if_up: retries exhausted\n");
    assert.equal(r.connects, 5);
    assert.deepEqual(r.sleeps, [1000, 1000, 1000, 1000]);
  }
});

Deno.test("if_up waits for any one interface by default, and for all with -a", async () => {
  const list = [iface("en0"), iface("en1", { addrs: [] })];
  const any = await runScripted(["en0", "en1"], always(list));
  assert.equal(any.code, 0);
  const all = await runScripted(["-a", "en0", "en1"], always(list));
  assert.equal(all.code, 7);
  const missing = await runScripted(["-a", "en0", "en2"], always(list));
  assert.equal(missing.code, 7);
  const both = await runScripted(["-a", "-r", "3", "en0", "en1"], (w) =>
    w < 3 ? list : [
      iface("en0"),
      iface("en1"),
    ]);
  assert.equal(both.code, 0);
  assert.equal(both.connects, 3);
});

Deno.test("if_up -r sets the number of walks and -m the interval; no sleep after the last walk", async () => {
  const r = await runScripted(["-r", "3", "-m", "10", "en0"], always([]));
  assert.equal(r.code, 7);
  assert.equal(r.stderr, "if_up: retries exhausted\n");
  assert.equal(r.connects, 3);
  assert.equal(r.closes, 3);
  assert.deepEqual(r.sleeps, [10, 10]);
  const once = await runScripted(["-r1", "en0"], always([]));
  assert.equal(once.connects, 1);
  assert.deepEqual(once.sleeps, []);
});

Deno.test("if_up -r0 still walks once", async () => {
  const r = await runScripted(["-r0", "en0"], always([]));
  assert.equal(r.code, 7);
  assert.equal(r.connects, 1);
});

Deno.test("if_up: the last of -m and -s wins", async () => {
  const s = await runScripted(["-m", "10", "-s", "2", "-r", "2", "en0"], always([]));
  assert.deepEqual(s.sleeps, [2000]);
  const m = await runScripted(["-s", "2", "-m10", "-r", "2", "en0"], always([]));
  assert.deepEqual(m.sleeps, [10]);
});

Deno.test("if_up -m 0 warns and polls every 1000ms", async () => {
  const r = await runScripted(["-m", "0", "-r", "2", "en0"], (w) => w < 2 ? [] : [iface("en0")]);
  assert.equal(r.code, 0);
  assert.equal(
    r.stderr,
    "if_up: must specify a polling interval more than 1ms. Using 1000ms now.\n",
  );
  assert.deepEqual(r.sleeps, [1000]);
  const s0 = await runScripted(["-s", "0", "-r", "2", "en0"], always([]));
  assert.match(
    s0.stderr,
    /^if_up: must specify a polling interval more than 1ms\. Using 1000ms now\.\n/,
  );
  assert.deepEqual(s0.sleeps, [1000]);
});

Deno.test("if_up without an interface exits 2", async () => {
  const r = await runFakeTool("if_up", noSleep, ["-p"], () => []);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "if_up: must specify interface(s).\n");
  assert.equal(r.stdout, "");
  assert.deepEqual(r.requests, []);
});

Deno.test("if_up with a bad option exits 1", async () => {
  const r = await runFakeTool("if_up", noSleep, ["-x", "en0"], () => []);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "if_up: unknown option -- x\n");
  const missing = await runFakeTool("if_up", noSleep, ["en0", "-r"], () => []);
  assert.equal(missing.code, 7, "options after the first operand are operands");
  const noArg = await runFakeTool("if_up", noSleep, ["-r"], () => []);
  assert.equal(noArg.code, 1);
  assert.equal(noArg.stderr, "if_up: option requires an argument -- r\n");
});

Deno.test("if_up exits 3 when no stack answers on any walk", async () => {
  const r = await runScripted(["-r", "4", "en0"], () => "down");
  assert.equal(r.code, 3);
  assert.equal(r.connects, 4);
  assert.equal(r.closes, 0);
  assert.deepEqual(r.sleeps, [1000, 1000, 1000]);
  assert.equal(
    r.stderr,
    "if_up: socket: Address family not supported by protocol family " +
      "(no stack answers at /x/dev/socket)\n",
  );
});

Deno.test("if_up exits 3 with the kit's unreachable stack too", async () => {
  const r = await runFakeTool("if_up", noSleep, ["-r2", "en0"], null);
  assert.equal(r.code, 3);
  assert.equal(
    r.stderr,
    "if_up: socket: Address family not supported by protocol family " +
      "(no stack answers at /x/dev/socket)\n",
  );
});

Deno.test("if_up finds a stack that starts after 2 failed walks", async () => {
  const r = await runScripted(["-p", "en0"], (w) => w <= 2 ? "down" : [iface("en0")]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  assert.equal(r.connects, 3);
  assert.equal(r.closes, 1);
});

Deno.test("if_up exits 7, not 3, when the stack answered on some walk", async () => {
  const r = await runScripted(["-r", "3", "en0"], (w) => w === 1 ? [] : "down");
  assert.equal(r.code, 7);
  assert.equal(r.stderr, "if_up: retries exhausted\n");
});

Deno.test("if_up exits 4 when the interface list fails", async () => {
  const r = await runScripted(["en0"], () => new ErrnoError("ENOBUFS"));
  assert.equal(r.code, 4);
  assert.equal(r.stderr, "if_up: getifaddrs: No buffer space available\n");
  assert.equal(r.closes, 1);
});

Deno.test("if_up reduces a /path argument to its basename", async () => {
  const r = await runFakeTool("if_up", noSleep, ["-p", "/dev/io-net/en0"], () => [iface("en0")]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
});

Deno.test("if_up -l needs the link to be active", async () => {
  const noCarrier = await runScripted(
    ["-l", "-r2", "en0"],
    always([
      iface("en0", { linkState: "no carrier" }),
    ]),
  );
  assert.equal(noCarrier.code, 7);
  const unknown = await runScripted(["-l", "-r2", "en0"], always([iface("en0")]));
  assert.equal(unknown.code, 7, "no link state reported: -l cannot be satisfied");
  const active = await runScripted(["-l", "en0"], always([iface("en0", { linkState: "active" })]));
  assert.equal(active.code, 0);
  const presentDown = await runScripted(
    ["-lp", "en0"],
    always([
      iface("en0", { flags: 0, addrs: [], linkState: "active" }),
    ]),
  );
  assert.equal(presentDown.code, 0, "-p -l: present with link, configuration not needed");
});

Deno.test("if_up -6 waits for an IPv6 address instead of an IPv4 one", async () => {
  const v4 = await runScripted(["-6", "-r2", "en0"], always([iface("en0")]));
  assert.equal(v4.code, 7);
  const v6 = await runScripted(["-6", "en0"], always([iface("en0", { addrs: [INET6_GLOBAL] })]));
  assert.equal(v6.code, 0);
  const ll = await runScripted(["-6", "en0"], always([iface("en0", { addrs: [INET6_LL] })]));
  assert.equal(ll.code, 0, "a link-local address counts without -i");
  const tentative = await runScripted(
    ["-6", "-r2", "en0"],
    always([
      iface("en0", { addrs: [{ ...INET6_GLOBAL, flags: ["tentative"] }] }),
    ]),
  );
  assert.equal(tentative.code, 7, "an address in DAD is not usable yet");
});

Deno.test("if_up -6 -i ignores link-local addresses", async () => {
  const ll = await runScripted(
    ["-6i", "-r2", "en0"],
    always([iface("en0", { addrs: [INET6_LL] })]),
  );
  assert.equal(ll.code, 7);
  const both = await runScripted(
    ["-6", "-i", "en0"],
    always([
      iface("en0", { addrs: [INET6_LL, INET6_GLOBAL] }),
    ]),
  );
  assert.equal(both.code, 0);
});

Deno.test("if_up -i without -6 is an error", async () => {
  const r = await runFakeTool("if_up", noSleep, ["-i", "en0"], () => []);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "if_up: -i requires -6.\n");
  assert.deepEqual(r.requests, []);
});

Deno.test("if_up asks for the interface list once per walk", async () => {
  const r = await runFakeTool("if_up", noSleep, ["-r3", "en0"], () => []);
  assert.equal(r.code, 7);
  assert.deepEqual(r.requests, [{ op: "ifList" }, { op: "ifList" }, { op: "ifList" }]);
});
