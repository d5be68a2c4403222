/**
 * Network namespaces for interop tests, made and removed by the test itself.
 *
 * Safety rules this kit enforces: a namespace name is unique to the test run;
 * a TAP device is moved into the namespace before anything brings it up;
 * addresses come from the documentation ranges only (checked here); every
 * command has a time bound; cleanup runs even when the test fails.
 * @module
 */

/** Why interop tests cannot run here, or `null` when they can. */
export function interopUnavailable(): string | null {
  if (Deno.uid() !== 0) return "not root (CAP_NET_ADMIN needed for TAP devices and namespaces)";
  try {
    Deno.statSync("/dev/net/tun");
  } catch {
    return "no /dev/net/tun";
  }
  for (const tool of ["ip", "ping"]) {
    if (!which(tool)) return `${tool} is not installed`;
  }
  return null;
}

/** Whether a command is on PATH. */
export function which(cmd: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${cmd}`).isFile) return true;
    } catch { /* not here */ }
  }
  return false;
}

const DOC_RANGES = [/^192\.0\.2\./, /^198\.51\.100\./, /^203\.0\.113\./, /^2001:db8:/i, /^fe80:/i];

/** Throws unless `addr` (optionally with /len) is in a documentation range or link-local. */
export function assertDocAddress(addr: string): void {
  if (!DOC_RANGES.some((re) => re.test(addr))) {
    throw new Error(`address ${addr} is outside the documentation ranges`);
  }
}

/** What a command left. */
export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

const decoder = new TextDecoder();

/** Runs a command with a time bound (SIGKILL past it), `env` added to the environment. */
export async function sh(
  cmd: string,
  args: string[],
  timeoutMs = 30_000,
  env: Record<string, string> = {},
): Promise<CmdResult> {
  const child = new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, timeoutMs);
  try {
    const out = await child.output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command and throws with its output when it fails. */
export async function must(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await sh(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

let counter = 0;

/** A network namespace this test made; `close()` removes it and everything in it. */
export class Netns {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** Makes a fresh namespace with its loopback up. */
  static async create(): Promise<Netns> {
    // Test files run side by side in one process: the pid alone does not make a name unique.
    const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
    const name = `iopkt${Deno.pid}n${counter++}r${rand}`;
    await must("ip", ["netns", "add", name]);
    const ns = new Netns(name);
    await ns.run("ip", ["link", "set", "lo", "up"]);
    return ns;
  }

  /** Runs a command inside the namespace (bounded). */
  exec(cmd: string, args: string[], timeoutMs?: number): Promise<CmdResult> {
    return sh("ip", ["netns", "exec", this.name, cmd, ...args], timeoutMs);
  }

  /** Runs a command inside the namespace; throws when it fails. */
  run(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
    return must("ip", ["netns", "exec", this.name, cmd, ...args], timeoutMs);
  }

  /**
   * Moves a (down) device from the root namespace into this one, then gives it
   * `addr` and brings it up here.
   */
  async adopt(dev: string, addrs: string[]): Promise<void> {
    for (const a of addrs) assertDocAddress(a);
    const state = await must("ip", ["-o", "link", "show", dev]);
    if (/[<,]UP[,>]/.test(state)) throw new Error(`${dev} is already up outside the namespace`);
    await must("ip", ["link", "set", dev, "netns", this.name]);
    for (const a of addrs) {
      await this.run("ip", [
        ...(a.includes(":") ? ["-6"] : []),
        "addr",
        "add",
        a,
        "dev",
        dev,
        ...(a.includes(":") ? ["nodad"] : []),
      ]);
    }
    await this.run("ip", ["link", "set", dev, "up"]);
  }

  /** Adds a route inside the namespace (documentation ranges only). */
  async route(dst: string, via: string): Promise<void> {
    if (dst !== "default") assertDocAddress(dst);
    assertDocAddress(via);
    await this.run("ip", [...(via.includes(":") ? ["-6"] : []), "route", "add", dst, "via", via]);
  }

  /** Removes the namespace (and the devices in it). */
  async close(): Promise<void> {
    await sh("ip", ["netns", "del", this.name]);
  }
}

/** Whether a device exists in the root namespace. */
export async function linkExists(dev: string): Promise<boolean> {
  return (await sh("ip", ["link", "show", dev])).code === 0;
}
