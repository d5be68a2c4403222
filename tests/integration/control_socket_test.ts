/**
 * The control socket under abuse: garbage, truncated and oversized frames, many
 * clients at once, unprivileged clients; the daemon's command line refusing bad input.
 */
import assert from "node:assert/strict";
import { socketPaths } from "../../core/control/paths.ts";
import {
  decodeJson,
  encodeFrame,
  FRAME_KIND,
  FrameDecoder,
  HEADER_LEN,
} from "../../core/control/protocol.ts";
import { connectStack } from "../../tools/client.ts";
import { run, tempPrefix, withDaemons } from "../kit/processes.ts";

/** Sends raw bytes on a fresh connection; returns the replies read until the daemon closes or replies `want` times. */
async function rawExchange(path: string, bytes: Uint8Array, want: number): Promise<unknown[]> {
  const conn = await Deno.connect({ transport: "unix", path });
  const replies: unknown[] = [];
  try {
    await conn.write(bytes);
    const dec = new FrameDecoder();
    const buf = new Uint8Array(65536);
    const deadline = setTimeout(() => conn.close(), 10_000);
    try {
      while (replies.length < want) {
        const n = await conn.read(buf);
        if (n === null) break;
        dec.push(buf.subarray(0, n));
        for (let f = dec.next(); f; f = dec.next()) replies.push(decodeJson(f.payload));
      }
    } finally {
      clearTimeout(deadline);
    }
  } finally {
    try {
      conn.close();
    } catch { /* closed by the timer or the peer */ }
  }
  return replies;
}

function frameWithPayload(payload: Uint8Array, version = 1, kind = 1): Uint8Array {
  const out = new Uint8Array(HEADER_LEN + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, payload.length);
  out[4] = version;
  out[5] = kind;
  dv.setUint32(8, 5);
  out.set(payload, HEADER_LEN);
  return out;
}

Deno.test("garbage, bad JSON, unknown ops, wrong versions and oversized frames get errors; the daemon lives", async () => {
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc");
    const path = socketPaths(a.prefix).config;
    const enc = new TextEncoder();
    assert.deepEqual(await rawExchange(path, frameWithPayload(enc.encode("{nope")), 1), [
      { ok: false, errno: "EBADMSG", message: "malformed request" },
    ]);
    assert.deepEqual(await rawExchange(path, frameWithPayload(enc.encode('{"op":"reboot"}')), 1), [
      { ok: false, errno: "EBADMSG", message: "malformed request" },
    ]);
    assert.deepEqual(await rawExchange(path, frameWithPayload(enc.encode("{}"), 1, 9), 1), [
      { ok: false, errno: "EPROTO" },
    ]);
    assert.deepEqual(await rawExchange(path, frameWithPayload(enc.encode("{}"), 7), 1), [
      { ok: false, errno: "EPROTO" },
    ]);
    const huge = new Uint8Array(HEADER_LEN);
    new DataView(huge.buffer).setUint32(0, 0x7fffffff);
    huge[4] = 1;
    huge[5] = 1;
    assert.deepEqual(await rawExchange(path, huge, 1), [{ ok: false, errno: "EMSGSIZE" }]);
    // Random bytes, then a truncated frame and a hang-up.
    const noise = crypto.getRandomValues(new Uint8Array(4096));
    await rawExchange(path, noise, 1);
    await rawExchange(path, encodeFrame(FRAME_KIND.request, 1, { op: "info" }).subarray(0, 9), 0);
    // A request with fields of the wrong types.
    assert.deepEqual(
      await rawExchange(
        path,
        encodeFrame(FRAME_KIND.request, 3, { op: "ifSet", name: ["lo0"] }),
        1,
      ),
      [{ ok: false, errno: "EINVAL", message: "name: Invalid argument" }],
    );
    assert.ok(a.alive());
    assert.equal((await a.tool("ifconfig", "-l")).stdout, "lo0\n");
  });
});

Deno.test("200 clients at once are all answered, even with threads_max at its floor", async () => {
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc", { tcpip: "threads_max=4,recv_ctxt=4096" });
    const clients = await Promise.all(Array.from({ length: 200 }, () => connectStack(a.prefix)));
    try {
      const results = await Promise.all(clients.map((c) => c.call({ op: "ifList" })));
      assert.equal(results.length, 200);
      assert.ok(results.every((r) => r[0].name === "lo0"));
    } finally {
      for (const c of clients) c.close();
    }
    const tools = await Promise.all(Array.from({ length: 8 }, () => a.tool("ifconfig", "-l")));
    assert.ok(tools.every((t) => t.code === 0 && t.stdout === "lo0\n"));
  });
});

Deno.test("the public socket reads but refuses configuration with EPERM", async () => {
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc");
    const paths = socketPaths(a.prefix);
    assert.equal(Deno.statSync(paths.config).mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(paths.inet).mode! & 0o777, 0o666);
    const req = { op: "sysctlSet", name: "net.inet.ip.ttl", value: "9" };
    assert.deepEqual(await rawExchange(paths.inet, encodeFrame(FRAME_KIND.request, 1, req), 1), [
      { ok: false, errno: "EPERM", message: "sysctlSet: Operation not permitted" },
    ]);
    const read = await rawExchange(
      paths.inet,
      encodeFrame(FRAME_KIND.request, 2, { op: "info" }),
      1,
    );
    assert.equal((read[0] as { ok: boolean }).ok, true);
    assert.equal((await a.tool("sysctl", "-n", "net.inet.ip.ttl")).stdout, "64\n");
  });
});

Deno.test("a user other than root gets EPERM from tools that change configuration", async () => {
  if (Deno.uid() !== 0) {
    console.log("skipped: needs root to run a tool as another user");
    return;
  }
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc");
    Deno.chmodSync(a.prefix, 0o755);
    const denoDir = Deno.makeTempDirSync({ prefix: "iopkt-nobody-" });
    Deno.chownSync(denoDir, 65534, 65534);
    try {
      const asNobody = (cmd: string, ...args: string[]) =>
        new Deno.Command("setpriv", {
          args: ["--reuid=65534", "--regid=65534", "--clear-groups", `bin/${cmd}`, ...args],
          cwd: new URL("../../", import.meta.url).pathname,
          env: { SOCK: a.prefix, DENO_DIR: denoDir, HOME: denoDir },
          stdout: "piped",
          stderr: "piped",
        }).output();
      const dec = new TextDecoder();
      const read = await asNobody("ifconfig", "-l");
      assert.equal(dec.decode(read.stdout), "lo0\n", dec.decode(read.stderr));
      const write = await asNobody("sysctl", "-w", "net.inet.ip.ttl=9");
      assert.equal(write.code, 1);
      assert.equal(dec.decode(write.stderr), "sysctl: net.inet.ip.ttl: Operation not permitted\n");
    } finally {
      Deno.removeSync(denoDir, { recursive: true });
    }
  });
});

Deno.test("the daemon refuses bad command lines with exit 1 and a message", async () => {
  const prefix = tempPrefix();
  try {
    const cases: [string[], RegExp][] = [
      [["-X"], /unknown option -- X/],
      [["-i", "x"], /invalid instance/],
      [["-t", "0"], /./],
      [["-ptcpip", `prefix=${prefix},mclbytes=lots`], /mclbytes/],
      [["-ptcpip", "prefix=relative/path"], /prefix/],
      [["stray"], /unexpected argument/],
    ];
    for (const [args, re] of cases) {
      const r = await run("io-pkt-v6-hc", args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(" "));
    }
  } finally {
    Deno.removeSync(prefix, { recursive: true });
  }
});

Deno.test("a driver that fails to load or attach is logged and the stack lives on", async () => {
  await withDaemons(async (start) => {
    const a = await start("io-pkt-v6-hc", {
      args: ["-d", "nosuch", "-d", "dummy", "mtu=5", "-d", "dummy", "-p", "pf-v4"],
      tcpip: "bogus_option",
    });
    assert.equal((await a.tool("ifconfig", "-l")).stdout, "lo0 dummy0\n");
    const log = Deno.readTextFileSync(`${a.prefix}/var/log/io-pkt.log`);
    assert.match(log, /Unable to load devnp-nosuch\.so: /);
    assert.match(log, /Unable to init devnp-dummy\.so: dummy: bad mtu "5"/);
    assert.match(log, /Unable to load lsm-pf-v4\.so: /);
    assert.match(log, /tcpip: unrecognized option: "bogus_option"/);
  });
});
