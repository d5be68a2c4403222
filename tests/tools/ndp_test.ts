/**
 * ndp against a fake stack: KAME's table (widths, expiry, state letters,
 * flags), the deleted lines, messages and exit statuses, compared whole.
 * @module
 */

import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import type { NeighborInfo } from "../../core/control/ops.ts";
import { ndpMain, sec2str } from "../../tools/ndp.ts";
import { type FakeHandler, runFakeTool, type ToolRun } from "../kit/fake_tool.ts";

const TABLE: NeighborInfo[] = [
  {
    family: "inet6",
    addr: "fe80::211:22ff:fe33:4455",
    lladdr: "00:11:22:33:44:55",
    ifname: "en0",
    expire: 86399,
    state: "REACHABLE",
    router: true,
  },
  {
    family: "inet6",
    addr: "2001:db8::1",
    lladdr: "00:11:22:33:44:66",
    ifname: "en0",
    expire: 30,
    state: "STALE",
  },
  { family: "inet6", addr: "2001:db8::9", ifname: "en0", expire: 0, state: "INCOMPLETE" },
  {
    family: "inet6",
    addr: "2001:db8::aa",
    lladdr: "02:00:00:00:00:aa",
    ifname: "en1",
    published: true,
  },
];

function stack(errno?: ConstructorParameters<typeof ErrnoError>[0]): FakeHandler {
  return (req) => {
    switch (req.op) {
      case "neighborList":
        return TABLE;
      case "neighborSet":
        if (errno) throw new ErrnoError(errno);
        return { family: "inet6", addr: req.addr, lladdr: req.lladdr, ifname: "en0" };
      case "neighborDelete": {
        if (errno) throw new ErrnoError(errno);
        const n = TABLE.find((e) => e.addr === req.addr);
        if (!n) throw new ErrnoError("ESRCH");
        return n;
      }
      default:
        throw new ErrnoError("ENOSYS");
    }
  };
}

function ndp(args: string[], handler: FakeHandler | null = stack()): Promise<ToolRun> {
  return runFakeTool("ndp", ndpMain, args, handler);
}

const HEADER = "Neighbor                             Linklayer Address  Netif Expire    S Flags\n";

Deno.test("ndp -a: KAME's table, sorted, with expiry, state and flags", async () => {
  const r = await ndp(["-a"]);
  assert.equal(
    r.stdout,
    HEADER +
      "2001:db8::1                          00:11:22:33:44:66    en0 30s       S \n" +
      "2001:db8::9                          (incomplete)         en0 expired   I \n" +
      "2001:db8::aa                         02:00:00:00:00:aa    en1 permanent N p\n" +
      "fe80::211:22ff:fe33:4455%en0         00:11:22:33:44:55    en0 23h59m59s R R\n",
  );
  assert.equal(r.code, 0);
  assert.deepEqual(r.requests, [{ op: "neighborList", family: "inet6" }]);
});

Deno.test("ndp: a long name widens its column and narrows the next ones", async () => {
  const long: NeighborInfo = {
    family: "inet6",
    addr: "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff",
    lladdr: "00:11:22:33:44:55",
    ifname: "en0",
    state: "DELAY",
  };
  const r = await ndp(["-an"], () => [long]);
  assert.equal(
    r.stdout,
    HEADER +
      "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff 00:11:22:33:44:55  en0 permanent D \n",
  );
});

Deno.test("ndp host: the header and the entry; no entry exits 1", async () => {
  const r = await ndp(["fe80::211:22ff:fe33:4455%en0"]);
  assert.equal(
    r.stdout,
    HEADER + "fe80::211:22ff:fe33:4455%en0         00:11:22:33:44:55    en0 23h59m59s R R\n",
  );
  const none = await ndp(["2001:db8::77"]);
  assert.equal(none.stdout, HEADER);
  assert.equal(none.stderr, "ndp: 2001:db8::77 (2001:db8::77) -- no entry\n");
  assert.equal(none.code, 1);
  const bad = await ndp(["host.example"]);
  assert.equal(bad.stderr, "ndp: host.example: hostname nor servname provided, or not known\n");
  assert.equal(bad.code, 0);
});

Deno.test("ndp -d: deleted line; a missing entry only warns", async () => {
  const r = await ndp(["-d", "2001:db8::1"]);
  assert.equal(r.stdout, "2001:db8::1 (2001:db8::1) deleted\n");
  assert.deepEqual(r.requests, [{ op: "neighborDelete", family: "inet6", addr: "2001:db8::1" }]);
  const missing = await ndp(["-d", "2001:db8::77"]);
  assert.equal(missing.stderr, "ndp: delete: cannot delete non-NDP entry\n");
  assert.equal(missing.code, 0);
  const refused = await ndp(["-d", "2001:db8::1"], stack("EPERM"));
  assert.equal(refused.stderr, "ndp: writing to routing socket: Operation not permitted\n");
  assert.equal(refused.code, 1);
});

Deno.test("ndp -c: deletes the entries that are not permanent", async () => {
  const r = await ndp(["-c"]);
  assert.equal(
    r.stdout,
    "2001:db8::1 (2001:db8::1) deleted\n" +
      "2001:db8::9 (2001:db8::9) deleted\n" +
      "fe80::211:22ff:fe33:4455%en0 (fe80::211:22ff:fe33:4455%en0) deleted\n",
  );
  assert.deepEqual(
    r.requests.filter((q) => q.op === "neighborDelete").map((q) =>
      q.op === "neighborDelete" ? q.addr : ""
    ),
    ["2001:db8::1", "2001:db8::9", "fe80::211:22ff:fe33:4455"],
  );
});

Deno.test("ndp -s: the request with temp and proxy; errors", async () => {
  const r = await ndp(["-s", "2001:db8::5", "0:11:22:33:44:55", "temp", "proxy"]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.requests, [{
    op: "neighborSet",
    family: "inet6",
    addr: "2001:db8::5",
    lladdr: "00:11:22:33:44:55",
    temp: true,
    pub: true,
  }]);
  const ether = await ndp(["-s", "2001:db8::5", "zz"]);
  assert.equal(ether.stderr, "ndp: invalid Ethernet address 'zz'\n");
  assert.equal(ether.code, 1);
  const refused = await ndp(["-s", "2001:db8::5", "0:11:22:33:44:55"], stack("EEXIST"));
  assert.equal(refused.stderr, "ndp: writing to routing socket: File exists\n");
  assert.equal(refused.code, 1);
});

Deno.test("ndp: usage, unsupported modes, no stack", async () => {
  const usage = "Usage: ndp [-nt] hostname\n" +
    "       ndp [-nt] -a | -c | -p | -r | -H | -P | -R\n" +
    "       ndp [-nt] -A wait\n" +
    "       ndp [-nt] -d hostname\n" +
    "       ndp [-nt] -f filename\n" +
    "       ndp [-nt] -i interface [flags...]\n" +
    "       ndp [-nt] -s nodename etheraddr [temp] [proxy]\n";
  for (const args of [[], ["-a", "x"], ["-a", "-c"], ["-s", "2001:db8::5"]]) {
    const r = await ndp(args);
    assert.equal(r.stderr, usage, args.join(" "));
    assert.equal(r.code, 1);
  }
  const p = await ndp(["-p"]);
  assert.equal(p.stderr, "ndp: -p: not supported\n");
  assert.equal(p.code, 1);
  const none = await ndp(["-a"], null);
  assert.equal(none.stderr, "ndp: socket: Address family not supported by protocol family\n");
  const enosys = await ndp(["-a"], () => {
    throw new ErrnoError("ENOSYS");
  });
  assert.equal(enosys.stderr, "ndp: sysctl(PF_ROUTE, NET_RT_FLAGS): Function not implemented\n");
  assert.equal(enosys.code, 1);
});

Deno.test("sec2str: KAME's d/h/m/s form", () => {
  assert.equal(sec2str(0), "0s");
  assert.equal(sec2str(59), "59s");
  assert.equal(sec2str(60), "1m0s");
  assert.equal(sec2str(3600), "1h0m0s");
  assert.equal(sec2str(90061), "1d1h1m1s");
  assert.equal(sec2str(86399), "23h59m59s");
});
