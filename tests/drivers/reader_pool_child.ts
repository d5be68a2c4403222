/**
 * A process that reads two descriptors through a one-Worker pool, stops both,
 * and ends without calling `Deno.exit`: it exits only if the pool terminated
 * its Worker (a live Worker keeps Deno's event loop alive). Run by
 * `reader_pool_test.ts`; prints `done <workers>` on the way out.
 * @module
 */

import { FdReader } from "../../drivers/io/fd_reader.ts";
import { ReaderPool } from "../../drivers/io/reader_pool.ts";
import { closePair, dgramPair, sendFrame, tagged } from "./socketpair.ts";

const pool = new ReaderPool(1);
const pairs = [dgramPair(), dgramPair()];
const got = [0, 0];
const readers = pairs.map((p, i) =>
  new FdReader(p.readFd, {
    slots: 8,
    maxFrame: 64,
    datagram: true,
    pool,
    onFrame: () => got[i]++,
  })
);
await Promise.all(readers.map((r) => r.whenReady()));
for (const [i, p] of pairs.entries()) await sendFrame(p.sendFd, tagged(i, 0));
const deadline = Date.now() + 10_000;
while ((got[0] < 1 || got[1] < 1) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 5));
}
for (const r of readers) r.stop();
pairs.forEach(closePair);
console.log(`done ${got.join(",")} workers=${pool.workerLoads().length}`);
