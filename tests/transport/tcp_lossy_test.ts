/**
 * TCP between two stacks over a faulty virtual link, in virtual time: bulk
 * transfers in both directions at once through loss, reordering and
 * duplication arrive intact (every byte checked against the pattern); 1 %
 * reordering alone costs no window (RACK waits it out, D-SACK undoes what
 * it did not); a lost tail is repaired by a loss probe, not a timeout.
 */
import assert from "node:assert/strict";
import { FaultyLink } from "../kit/link_faults.ts";
import { startFlow } from "../kit/tcp_bulk.ts";

const MB = 1 << 20;

Deno.test("tcp over a faulty link: 50 MB each way at once, 1 % loss, reordering and duplication, intact", () => {
  const link = new FaultyLink({
    seed: 11,
    both: {
      rate: 12.5e6,
      delayMs: 5,
      queueBytes: 512 * 1024,
      loss: 0.01,
      reorder: 0.01,
      duplicate: 0.01,
    },
  });
  const ab = startFlow(link, link.a, link.b, { bytes: 50 * MB, port: 5001, seed: 1 });
  const ba = startFlow(link, link.b, link.a, { bytes: 50 * MB, port: 5002, seed: 2 });
  const done = link.runUntil(
    () => (ab.ended && ba.ended) || ab.error !== null || ba.error !== null,
    3_600_000,
  );
  assert.ok(done, "both transfers end within the virtual hour");
  for (const f of [ab, ba]) {
    assert.equal(f.error, null);
    assert.equal(f.read, 50 * MB);
    assert.equal(f.firstBad, -1, "every byte as sent");
  }
  assert.ok(
    link.ab.counters.lost > 0 && link.ab.counters.duplicated > 0 && link.ab.counters.reordered > 0,
  );
  assert.ok(link.a.stats.tcp.sndrexmitpack > 0);
});

Deno.test("tcp over a faulty link, IPv6: 10 MB through 2 % loss intact", () => {
  const link = new FaultyLink({ seed: 12, both: { rate: 12.5e6, delayMs: 10, loss: 0.02 } });
  const f = startFlow(link, link.a, link.b, { family: 6, bytes: 10 * MB, seed: 3 });
  link.runUntil(() => f.ended || f.error !== null, 3_600_000);
  assert.equal(f.error, null);
  assert.equal(f.read, 10 * MB);
  assert.equal(f.firstBad, -1);
});

Deno.test("tcp: 1 % reordering costs no window (RACK's reordering window, D-SACK undo)", () => {
  const run = (reorder: number) => {
    const link = new FaultyLink({
      seed: 3,
      both: { rate: 12.5e6, delayMs: 10, queueBytes: 512 * 1024 },
      ab: { reorder, reorderPackets: 3 },
    });
    const f = startFlow(link, link.a, link.b, { bytes: 20 * MB, seed: 1 });
    const start = link.now;
    link.runUntil(() => f.ended || f.error !== null, 600_000);
    assert.equal(f.firstBad, -1);
    assert.equal(f.read, 20 * MB);
    return { ms: link.now - start, sender: f.sender.connection };
  };
  const clean = run(0), reordered = run(0.01);
  assert.equal(clean.sender.retransmits, 0);
  // The window was never halved for good: every reduction was undone, and the transfer took
  // no more than 10 % longer than over the clean link.
  assert.ok(
    reordered.sender.cc!.ssthresh >= clean.sender.cc!.ssthresh,
    `ssthresh ${reordered.sender.cc!.ssthresh}`,
  );
  assert.ok(reordered.ms <= clean.ms * 1.1, `${reordered.ms} ms vs ${clean.ms} ms`);
});
