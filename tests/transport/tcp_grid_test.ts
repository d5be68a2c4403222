/**
 * The throughput grid (tests/kit/tcp_grid.ts) before the TCP engine: the
 * ideal's arithmetic, the snapshot's verdicts, and a whole grid with a
 * stand-in transfer (UDP paced at the line rate) over the faulty link,
 * compared exactly with tests/transport/snapshots/udp_line_rate_grid.txt;
 * then the same grid with the TCP engine's bulk transfer, compared with
 * tcp_bulk_grid.txt (after a change to the engine, look at the differences
 * and accept them with UPDATE_SNAPSHOTS=1 bin/test tests/transport/tcp_grid_test.ts).
 */
import assert from "node:assert/strict";
import {
  checkSnapshot,
  diffTables,
  formatGrid,
  type GridCell,
  idealGoodput,
  runGrid,
  tcpBulk,
} from "../kit/tcp_grid.ts";
import type { FaultyLink } from "../kit/link_faults.ts";

/** The stand-in: 1472-byte datagrams back to back at the line rate; returns the bytes received. */
function udpAtLineRate(link: FaultyLink, seconds: number): number {
  const rx = link.b.openUdp(4);
  rx.bind("192.0.2.2", 5001);
  let bytes = 0;
  rx.onReadable = () => {
    for (let d = rx.receive(); d !== null; d = rx.receive()) bytes += d.length;
  };
  const tx = link.a.openUdp(4);
  const data = new Uint8Array(1472);
  const frameMs = 1514 / link.ab.options.rate * 1000;
  const end = link.now + seconds * 1000;
  for (let t = link.now; t < end; t += frameMs) {
    link.run(t);
    tx.sendTo(data, "192.0.2.2", 5001);
  }
  link.run(end);
  rx.close();
  tx.close();
  return bytes;
}

Deno.test("grid: the ideal is min(rate, buffer / RTT, Mathis), each term where it applies", () => {
  assert.equal(idealGoodput(1.25e6, 65535, 1460, 0, 0.05), 1.25e6, "RTT 0: the line rate");
  assert.equal(idealGoodput(1.25e6, 65535, 1460, 10, 0), 1.25e6);
  assert.equal(idealGoodput(1.25e6, 65535, 1460, 100, 0), 655_350, "the window");
  // 1460 / 0.1 s x 1.22 / sqrt(0.01) = 178 120 bytes/s
  assert.ok(Math.abs(idealGoodput(1.25e6, 65535, 1460, 100, 0.01) - 178_120) < 1e-6);
});

Deno.test("grid: a snapshot is written on request, then any cell beyond the tolerance fails", () => {
  const dir = Deno.makeTempDirSync() + "/";
  try {
    const cells: GridCell[] = [
      { rttMs: 10, loss: 0.01, reorder: 0, bytes: 1, goodput: 4_000_000, ideal: 10_000_000 },
      { rttMs: 10, loss: 0.01, reorder: 0.03, bytes: 1, goodput: 3_000_000, ideal: 10_000_000 },
    ];
    const text = formatGrid(cells, { rate: "10 Mbit/s" });
    assert.equal(
      text.split("\n")[2],
      "             10            1.0            0.0          4.000         10.000           40.0",
    );
    assert.throws(
      () => checkSnapshot("g", text, { dir, update: false }),
      /snapshot .*g\.txt is missing: run with UPDATE_SNAPSHOTS=1/,
    );
    checkSnapshot("g", text, { dir, update: true });
    checkSnapshot("g", text, { dir, update: false });
    cells[1].goodput = 3_010_000;
    const changed = formatGrid(cells, { rate: "10 Mbit/s" });
    assert.throws(
      () => checkSnapshot("g", changed, { dir, update: false }),
      /2 difference\(s\)[^]*rtt 10 ms, loss 1\.0 %, reorder 3\.0 %: goodput_Mbit\/s 3\.010, snapshot 3\.000/,
    );
    checkSnapshot("g", changed, { dir, tolerance: 0.01, update: false });
    assert.deepEqual(
      diffTables(text, formatGrid(cells, { rate: "1 Gbit/s" }), 1).length,
      1,
      "settings lines exact",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("grid: UDP at the line rate over every RTT x loss x reordering matches its snapshot exactly", () => {
  const about = {
    transfer: "UDP 1472-byte datagrams at the line rate",
    rate: "10 Mbit/s",
    seconds: 1,
  };
  const cells = runGrid({ transfer: udpAtLineRate, seconds: 1, rate: 1.25e6, seed: 1 });
  assert.equal(cells.length, 60);
  const at = (rtt: number, loss: number, reorder: number) =>
    cells.find((c) => c.rttMs === rtt && c.loss === loss && c.reorder === reorder)!;
  // No faults, no delay: every datagram but the one on the wire at the end; 1472 of 1514 bytes are payload.
  assert.ok(at(0, 0, 0).goodput > 0.99 * 1e7 * 1472 / 1514, `${at(0, 0, 0).goodput}`);
  assert.ok(at(0, 0.05, 0).goodput < 0.97 * at(0, 0, 0).goodput, "5 % loss shows");
  assert.ok(
    at(300, 0, 0).goodput < 0.86 * at(0, 0, 0).goodput,
    "150 ms still in flight at the end",
  );
  assert.equal(at(10, 0, 0.03).bytes, at(10, 0, 0).bytes, "reordering loses nothing");
  checkSnapshot("udp_line_rate_grid", formatGrid(cells, about));
});

Deno.test("grid: bulk TCP over every RTT x loss x reordering matches its snapshot exactly", () => {
  const buffer = 256 * 1024;
  const about = {
    transfer: "tcpBulk, IPv4, SO_SNDBUF = SO_RCVBUF = 256 KiB, default congestion control",
    rate: "10 Mbit/s",
    seconds: 3,
    queue: "max(BDP, 64 KiB) each way",
    ideal: "min(rate, 256 KiB / RTT, 1448 / RTT x 1.22 / sqrt(p))",
  };
  const cells = runGrid({
    transfer: tcpBulk({ bufferBytes: buffer }),
    seconds: 3,
    rate: 1.25e6,
    bufferBytes: buffer,
    mss: 1448,
    seed: 1,
  });
  assert.equal(cells.length, 60);
  assert.ok(cells.every((c) => c.bytes > 0), "every cell moved data");
  checkSnapshot("tcp_bulk_grid", formatGrid(cells, about));
});
