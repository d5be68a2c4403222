/**
 * Side-by-side timing of the tools, in one run: `ifconfig -a` through its launcher
 * against a live daemon, beside the floor it stands on (the launcher running an
 * empty Deno program), plus the daemon's resident memory with loopback only.
 * Reports medians and ratios; asserts nothing.
 *
 *   bin/deno run --allow-all bench/tools_bench.ts [runs]
 * @module
 */

import { ROOT, startDaemon } from "../tests/kit/processes.ts";

const runs = Number(Deno.args[0] ?? 21);

async function time(cmd: string, args: string[], env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args, env, stdout: "null", stderr: "piped" }).output();
  const ms = performance.now() - t0;
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : NaN;
}

const empty = Deno.makeTempFileSync({ suffix: ".ts" });
const daemon = await startDaemon("io-pkt-v6-hc");
try {
  const deno = `${ROOT}.tools/node_modules/.bin/deno`;
  const denoBin = (() => {
    try {
      Deno.statSync(deno);
      return deno;
    } catch {
      return "deno";
    }
  })();
  const ours: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so drift in machine speed hits both alike.
    ours.push(await time(`${ROOT}bin/ifconfig`, ["-a"], daemon.env));
    floor.push(await time(denoBin, ["run", "--quiet", "--no-config", empty], {}));
  }
  const a = median(ours), b = median(floor);
  console.log(`runs: ${runs}`);
  console.log(`ifconfig -a (bin/ launcher)     median ${a.toFixed(1)} ms`);
  console.log(`deno run empty.ts (the floor)   median ${b.toFixed(1)} ms`);
  console.log(`ratio ifconfig / floor          ${(a / b).toFixed(2)}`);
  console.log(`daemon RSS, loopback only       ${(rssKiB(daemon.pid) / 1024).toFixed(1)} MiB`);
} finally {
  await daemon.stop();
  Deno.removeSync(daemon.prefix, { recursive: true });
  Deno.removeSync(empty);
}
