/**
 * mount: io-pkt types go to the stack with QNX's exact failure lines; every
 * other invocation goes to the system mount unchanged.
 * @module
 */

import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import type { ControlRequest } from "../../core/control/ops.ts";
import {
  classifyMountArgs,
  DELEGATED_ENV,
  execSystemMount,
  findSystemMount,
  mountMain,
} from "../../tools/mount.ts";
import type { ToolContext } from "../../tools/tool_context.ts";
import { runFakeTool } from "../kit/fake_tool.ts";

/** mountMain whose system mount only records its arguments and exits with `code`. */
function withSystemMount(calls: string[][], code = 0) {
  return (args: string[], ctx: ToolContext) =>
    mountMain(args, ctx, {
      execSystemMount: (a) => {
        calls.push(a);
        return Promise.resolve(code);
      },
    });
}

/** A stack that accepts every mount. */
const accept = () => ({ interfaces: ["wm0"] });

/** A stack that refuses every mount with `errno`. */
const refuse = (errno: ConstructorParameters<typeof ErrnoError>[0]) => () => {
  throw new ErrnoError(errno, "mount");
};

Deno.test("mount -T io-pkt sends the module and options to the stack", async () => {
  const calls: string[][] = [];
  const r = await runFakeTool(
    "mount",
    withSystemMount(calls),
    ["-T", "io-pkt", "-o", "mac=123456789abc", "/lib/dll/devnp-e1000.so"],
    accept,
  );
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "");
  assert.deepEqual(r.requests, [{
    op: "mount",
    type: "io-pkt",
    module: "/lib/dll/devnp-e1000.so",
    options: "mac=123456789abc",
  }]);
  assert.deepEqual(calls, []);
});

Deno.test("mount -Tio-pkt1 takes the type attached, and no -o means empty options", async () => {
  const r = await runFakeTool("mount", withSystemMount([]), ["-Tio-pkt1", "lsm-pf-v6.so"], accept, {
    SOCK: "/alt",
  });
  assert.equal(r.code, 0);
  assert.deepEqual(r.requests, [{
    op: "mount",
    type: "io-pkt1",
    module: "lsm-pf-v6.so",
    options: "",
  }]);
});

Deno.test("mount -T tcpip is ours too, with -o attached", async () => {
  const r = await runFakeTool(
    "mount",
    withSystemMount([]),
    ["-Ttcpip", "-overbose=0,name=ncm", "devnp-usbdnet.so"],
    accept,
  );
  assert.equal(r.code, 0);
  const req = r.requests[0] as Extract<ControlRequest, { op: "mount" }>;
  assert.equal(req.type, "tcpip");
  assert.equal(req.options, "verbose=0,name=ncm");
});

Deno.test("mount joins several -o lists and ignores a mount point and flags", async () => {
  const r = await runFakeTool(
    "mount",
    withSystemMount([]),
    ["-v", "-T", "io-pkt", "-o", "a=1", "-o", "b", "devnp-x.so", "/ignored"],
    accept,
  );
  assert.equal(r.code, 0);
  assert.deepEqual(r.requests, [{
    op: "mount",
    type: "io-pkt",
    module: "devnp-x.so",
    options: "a=1,b",
  }]);
});

Deno.test("mount prints QNX's two failure lines, each ending in a space", async () => {
  const r = await runFakeTool(
    "mount",
    withSystemMount([]),
    ["-T", "io-pkt2", "devnp-x.so"],
    refuse("ENOENT"),
  );
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    "mount: Can't mount devnp-x.so (type io-pkt2) \n" +
      "mount: Possible reason: No such file or directory \n",
  );
});

Deno.test("mount prints the errno the stack replies with (EPERM for non-root)", async () => {
  const r = await runFakeTool(
    "mount",
    withSystemMount([]),
    ["-Tio-pkt", "lsm-qnet.so"],
    refuse("EPERM"),
  );
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    "mount: Can't mount lsm-qnet.so (type io-pkt) \n" +
      "mount: Possible reason: Operation not permitted \n",
  );
});

Deno.test("mount with no stack answering reports ENOENT, as QNX does for an unserved type", async () => {
  const calls: string[][] = [];
  const r = await runFakeTool("mount", withSystemMount(calls), ["-Tio-pkt", "devnp-x.so"], null);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    "mount: Can't mount devnp-x.so (type io-pkt) \n" +
      "mount: Possible reason: No such file or directory \n",
  );
  assert.deepEqual(calls, []);
});

Deno.test("mount -T io-pkt without a module, or with a bad option, prints usage", async () => {
  const none = await runFakeTool("mount", withSystemMount([]), ["-T", "io-pkt"], accept);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, "usage: mount -T io-pkt[N] [-o options] module\n");
  assert.deepEqual(none.requests, []);
  const calls: string[][] = [];
  const bad = await runFakeTool(
    "mount",
    withSystemMount(calls),
    ["-x", "-Tio-pkt", "m.so"],
    accept,
  );
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    "mount: unknown option -- x\nusage: mount -T io-pkt[N] [-o options] module\n",
  );
  assert.deepEqual(calls, []);
});

Deno.test("mount hands every other invocation to the system mount unchanged", async () => {
  const invocations = [
    [],
    ["/dev/sda1", "/mnt"],
    ["-t", "ext4", "-o", "ro", "/dev/sda1", "/mnt"],
    ["-T", "/etc/fstab.alt", "-a"],
    ["-T", "qnx6", "/dev/hd0t179"],
    ["--bind", "/a", "/b"],
    ["-a"],
    ["-o", "remount,rw", "/"],
  ];
  for (const args of invocations) {
    const calls: string[][] = [];
    const r = await runFakeTool("mount", withSystemMount(calls, 32), args, accept);
    assert.equal(r.code, 32, args.join(" "));
    assert.deepEqual(calls, [args]);
    assert.deepEqual(r.requests, []);
    assert.equal(r.stderr, "");
  }
});

Deno.test("mount does not delegate again when the system mount started it", async () => {
  const calls: string[][] = [];
  const r = await runFakeTool("mount", withSystemMount(calls), ["/dev/sda1", "/mnt"], accept, {
    [DELEGATED_ENV]: "1",
  });
  assert.equal(r.code, 1);
  assert.deepEqual(calls, []);
  assert.match(r.stderr, /^mount: IOPKT_MOUNT_DELEGATED is set/);
});

Deno.test("mount reports a missing system mount", async () => {
  const r = await runFakeTool(
    "mount",
    (args, ctx) =>
      mountMain(args, ctx, {
        execSystemMount: () => Promise.reject(new Error("no system mount found")),
      }),
    ["/dev/sda1", "/mnt"],
    accept,
  );
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "mount: no system mount found\n");
});

Deno.test("mount classifies io-pkt types only", () => {
  assert.equal(classifyMountArgs(["-T", "io-pkt", "x.so"]).kind, "iopkt");
  assert.equal(classifyMountArgs(["-T", "io-pkt12", "x.so"]).kind, "iopkt");
  assert.equal(classifyMountArgs(["-T", "io-pktx", "x.so"]).kind, "system");
  assert.equal(classifyMountArgs(["-T", "io-sock", "x.so"]).kind, "system");
  assert.equal(classifyMountArgs(["-t", "io-pkt", "x.so"]).kind, "system");
  assert.equal(classifyMountArgs(["-T", "io-pkt", "x.so", "/mnt", "extra"]).kind, "usage");
});

Deno.test("execSystemMount runs the first existing candidate and returns its exit code", async () => {
  assert.equal(await execSystemMount([], ["/nonexistent/mount", "/bin/true"]), 0);
  assert.equal(await execSystemMount(["-x"], ["/bin/false"]), 1);
  await assert.rejects(
    execSystemMount([], ["/nonexistent/a", "/nonexistent/b"]),
    /no system mount found \(looked for \/nonexistent\/a, \/nonexistent\/b\)/,
  );
  assert.equal(await findSystemMount(["/nonexistent/mount"]), null);
});

Deno.test("execSystemMount passes the arguments and marks the child's environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/mount`;
    const out = `${dir}/out`;
    await Deno.writeTextFile(
      script,
      `#!/bin/sh\nprintf '%s|' "$@" "$${DELEGATED_ENV}" > '${out}'\nexit 5\n`,
    );
    await Deno.chmod(script, 0o755);
    assert.equal(await execSystemMount(["-t", "ext4", "a b", "/mnt"], [script]), 5);
    assert.equal(await Deno.readTextFile(out), "-t|ext4|a b|/mnt|1|");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
