/**
 * The JIT warm-up: its scratch stacks really carry traffic (echoes answered,
 * forwarded, in both families), it keeps to its bounds, and it leaves nothing
 * behind (descriptors).
 */
import assert from "node:assert/strict";
import { warmUp } from "../../daemon/warmup.ts";

Deno.test("warm-up: IPv4 and IPv6 echoes through the scratch stacks", async () => {
  const r = await warmUp({ inet6: true, rounds: 300, budgetMs: 20_000 });
  assert.equal(r.rounds, 300);
  // Each round sends six echoes (three per family): each brings a reply, or a request to B and its reply.
  assert.ok(
    r.delivered >= 300 * 6,
    `only ${r.delivered} datagrams delivered in ${r.rounds} rounds`,
  );
  assert.ok(r.frames >= 300 * 6, `R received only ${r.frames} frames`);
});

Deno.test("warm-up: an IPv4-only stack, stopped by its time bound", async () => {
  const r = await warmUp({ inet6: false, rounds: 1_000_000, budgetMs: 50 });
  assert.ok(r.rounds > 0 && r.rounds < 1_000_000, `${r.rounds} rounds`);
  assert.ok(r.delivered > 0);
});

Deno.test("warm-up: no descriptor left open", async () => {
  // In a process of its own: tests running in parallel here open and close descriptors too.
  const module = new URL("../../daemon/warmup.ts", import.meta.url).href;
  const script = `
    import { warmUp } from "${module}";
    const count = () => [...Deno.readDirSync("/proc/self/fd")].length;
    // A first run lets the runtime open what it opens lazily (compiler threads, caches);
    // a leak shows as descriptors the second run adds.
    await warmUp({ inet6: true, rounds: 50, budgetMs: 20000 });
    const before = count();
    await warmUp({ inet6: true, rounds: 50, budgetMs: 20000 });
    console.log(JSON.stringify({ before, after: count() }));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success);
  const { before, after } = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(after, before);
});
