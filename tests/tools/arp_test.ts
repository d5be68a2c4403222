/**
 * arp against a fake stack: NetBSD arp(8)'s lines, its messages and exit
 * statuses, the `-s` and `-f` requests, compared whole.
 * @module
 */

import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import type { NeighborInfo } from "../../core/control/ops.ts";
import { arpMain, parseEther } from "../../tools/arp.ts";
import { type FakeHandler, runFakeTool, type ToolRun } from "../kit/fake_tool.ts";

const TABLE: NeighborInfo[] = [
  { family: "inet", addr: "192.0.2.20", lladdr: "00:aa:bb:cc:dd:ee", ifname: "en0", expire: 1199 },
  { family: "inet", addr: "192.0.2.1", lladdr: "00:11:22:33:44:55", ifname: "en0" },
  { family: "inet", addr: "192.0.2.7", ifname: "en0", expire: 3 },
  {
    family: "inet",
    addr: "192.0.2.100",
    lladdr: "02:00:00:00:00:01",
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
        return { family: "inet", addr: req.addr, lladdr: req.lladdr, ifname: "en0" };
      case "neighborDelete": {
        if (errno) throw new ErrnoError(errno);
        const n = TABLE.find((e) => e.addr === req.addr);
        if (!n) throw new ErrnoError("ESRCH");
        return n;
      }
      case "neighborFlush":
        if (errno) throw new ErrnoError(errno);
        return TABLE;
      default:
        throw new ErrnoError("ENOSYS");
    }
  };
}

function arp(
  args: string[],
  handler: FakeHandler | null = stack(),
  files: Record<string, string> = {},
): Promise<ToolRun> {
  return runFakeTool(
    "arp",
    (a, ctx) =>
      arpMain(a, ctx, {
        readTextFile: (p) =>
          p in files ? Promise.resolve(files[p]) : Promise.reject(new Deno.errors.NotFound(p)),
      }),
    args,
    handler,
  );
}

Deno.test("arp -a: every entry in address order, NetBSD's line format", async () => {
  const r = await arp(["-a"]);
  assert.equal(
    r.stdout,
    "? (192.0.2.1) at 00:11:22:33:44:55 on en0 permanent\n" +
      "? (192.0.2.7) at (incomplete) on en0\n" +
      "? (192.0.2.20) at 00:aa:bb:cc:dd:ee on en0\n" +
      "? (192.0.2.100) at 02:00:00:00:00:01 on en1 permanent published\n",
  );
  assert.equal(r.code, 0);
  assert.deepEqual(r.requests, [{ op: "neighborList", family: "inet" }]);
  const n = await arp(["-an"]);
  assert.equal(n.stdout, r.stdout);
});

Deno.test("arp host: the entry, or `-- no entry` and exit 1", async () => {
  const r = await arp(["192.0.2.20"]);
  assert.equal(r.stdout, "? (192.0.2.20) at 00:aa:bb:cc:dd:ee on en0\n");
  assert.equal(r.code, 0);
  const none = await arp(["-n", "192.0.2.9"]);
  assert.equal(none.stdout, "192.0.2.9 (192.0.2.9) -- no entry\n");
  assert.equal(none.code, 1);
  const bad = await arp(["host.example"]);
  assert.equal(bad.stderr, "arp: host.example: Unknown host\n");
  assert.equal(bad.code, 1);
});

Deno.test("arp -d: deleted lines, or can't locate", async () => {
  const r = await arp(["-d", "192.0.2.20"]);
  assert.equal(r.stdout, "192.0.2.20 (192.0.2.20) deleted\n");
  assert.deepEqual(r.requests, [{ op: "neighborDelete", family: "inet", addr: "192.0.2.20" }]);
  const missing = await arp(["-d", "192.0.2.9"]);
  assert.equal(missing.stderr, "arp: delete: can't locate 192.0.2.9\n");
  assert.equal(missing.code, 1);
  const refused = await arp(["-d", "192.0.2.20"], stack("EPERM"));
  assert.equal(refused.stderr, "arp: writing to routing socket: Operation not permitted\n");
  assert.equal(refused.code, 1);
});

Deno.test("arp -d -a: flushes, one deleted line per entry", async () => {
  const r = await arp(["-d", "-a"]);
  assert.equal(
    r.stdout,
    "192.0.2.1 (192.0.2.1) deleted\n" +
      "192.0.2.7 (192.0.2.7) deleted\n" +
      "192.0.2.20 (192.0.2.20) deleted\n" +
      "192.0.2.100 (192.0.2.100) deleted\n",
  );
  assert.deepEqual(r.requests, [{ op: "neighborFlush", family: "inet" }]);
});

Deno.test("arp -s: the request, temp and pub; bad addresses", async () => {
  const r = await arp(["-s", "192.0.2.50", "0:1:2:a:B:ff", "temp", "pub"]);
  assert.equal(r.stdout, "");
  assert.equal(r.code, 0);
  assert.deepEqual(r.requests, [{
    op: "neighborSet",
    family: "inet",
    addr: "192.0.2.50",
    lladdr: "00:01:02:0a:0b:ff",
    temp: true,
    pub: true,
  }]);
  const plain = await arp(["-s", "192.0.2.50", "00:01:02:03:04:05"]);
  assert.deepEqual(plain.requests[0], {
    op: "neighborSet",
    family: "inet",
    addr: "192.0.2.50",
    lladdr: "00:01:02:03:04:05",
    temp: false,
    pub: false,
  });
  const ether = await arp(["-s", "192.0.2.50", "00:01:02"]);
  assert.equal(ether.stderr, "arp: invalid Ethernet address '00:01:02'\n");
  assert.equal(ether.code, 1);
  const refused = await arp(["-s", "192.0.2.50", "00:01:02:03:04:05"], stack("EEXIST"));
  assert.equal(refused.stderr, "arp: writing to routing socket: File exists\n");
  assert.equal(refused.code, 1);
});

Deno.test("arp -f: one set per line; bad lines and failures make the status 1", async () => {
  const file =
    "# static entries\n192.0.2.50 00:01:02:03:04:05\n\n192.0.2.51 00:01:02:03:04:06 pub\n" +
    "192.0.2.52\n";
  const r = await arp(["-f", "/etc/ethers"], stack(), { "/etc/ethers": file });
  assert.deepEqual(r.requests.map((q) => q.op === "neighborSet" ? [q.addr, q.pub] : q.op), [
    ["192.0.2.50", false],
    ["192.0.2.51", true],
  ]);
  assert.equal(r.stderr, "arp: bad line: 192.0.2.52\n");
  assert.equal(r.code, 1);
  const missing = await arp(["-f", "/nope"]);
  assert.equal(missing.stderr, "arp: Cannot open /nope: No such file or directory\n");
  assert.equal(missing.code, 1);
});

Deno.test("arp: usage, no stack, a refused listing", async () => {
  const usage = "Usage: arp [-n] hostname\n" +
    "       arp [-nv] -a\n" +
    "       arp [-v] -d [-a|hostname [proxy]]\n" +
    "       arp -s hostname ether_addr [temp] [pub [proxy]]\n" +
    "       arp -f filename\n";
  for (const args of [[], ["-a", "192.0.2.1"], ["-s", "192.0.2.1"], ["-d", "-s", "x", "y"]]) {
    const r = await arp(args);
    assert.equal(r.stderr, usage, args.join(" "));
    assert.equal(r.code, 1);
  }
  const opt = await arp(["-x"]);
  assert.equal(opt.stderr, "arp: unknown option -- x\n" + usage);
  const none = await arp(["-a"], null);
  assert.equal(none.stderr, "arp: socket: Address family not supported by protocol family\n");
  assert.equal(none.code, 1);
  const enosys = await arp(["-a"], () => {
    throw new ErrnoError("ENOSYS");
  });
  assert.equal(
    enosys.stderr,
    "arp: actual retrieval of routing table: Function not implemented\n",
  );
  assert.equal(enosys.code, 1);
});

Deno.test("parseEther: six 1-2 digit hex bytes, normalized", () => {
  assert.equal(parseEther("0:1:2:3:4:5"), "00:01:02:03:04:05");
  assert.equal(parseEther("AA:bb:CC:dd:EE:ff"), "aa:bb:cc:dd:ee:ff");
  assert.equal(parseEther("00:01:02:03:04"), null);
  assert.equal(parseEther("000:01:02:03:04:05"), null);
});
