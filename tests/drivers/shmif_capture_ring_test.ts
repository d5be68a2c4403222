/**
 * The shmif capture ring: bounded, two generations, read back in time order
 * by shmif_dumpbus.
 * @module
 */

import assert from "node:assert/strict";
import { CAPTURE_OLD_FILE, CaptureRing } from "../../drivers/io/shmif_capture_ring.ts";
import { CAPTURE_FILE, readCaptureRecords } from "../../drivers/io/shmif_capture.ts";
import { DENO_DUMPBUS_IO, type DumpbusIO, shmifDumpbusMain } from "../../tools/shmif_dumpbus.ts";

function frame(tag: number): Uint8Array {
  const f = new Uint8Array(100);
  f.fill(0xff, 0, 6);
  f[12] = 0x08;
  f[14] = tag & 0xff;
  f[15] = tag >> 8;
  return f;
}

Deno.test("the capture ring keeps the latest traffic within its bound, across two members", () => {
  const bus = Deno.makeTempDirSync({ prefix: "shmif-ring" });
  const limit = 4096;
  const a = CaptureRing.open(bus, limit);
  const b = CaptureRing.open(bus, limit);
  try {
    for (let i = 0; i < 1000; i++) (i % 2 === 0 ? a : b).append(frame(i));
    const size = (name: string) => {
      try {
        return Deno.statSync(`${bus}/${name}`).size;
      } catch {
        return 0;
      }
    };
    const total = size(CAPTURE_FILE) + size(CAPTURE_OLD_FILE);
    // Each member may append up to an eighth of the limit to a generation it has not seen turn over.
    assert.ok(total <= limit + 2 * (limit / 8) + 2 * 112, `ring holds ${total} bytes`);
    assert.ok(size(CAPTURE_OLD_FILE) > 0, "the ring has turned over");
    let out = "";
    const io: DumpbusIO = { ...DENO_DUMPBUS_IO, stdout: (t) => void (out += t) };
    assert.equal(shmifDumpbusMain(["-h", bus], io), 0);
    const frames = Number(/: (\d+) frames/.exec(out)?.[1]);
    assert.ok(frames >= limit / 2 / 112 && frames <= 1000, `${frames} frames`);
    const tags = [CAPTURE_OLD_FILE, CAPTURE_FILE].flatMap((name) =>
      readCaptureRecords(Deno.readFileSync(`${bus}/${name}`)).records
    ).map((r) => r.frame[14] | (r.frame[15] << 8));
    assert.ok(tags.includes(999) && tags.includes(998), "the newest frames are kept");
    assert.ok(!tags.includes(0), "the oldest are gone");
  } finally {
    a.close();
    b.close();
    Deno.removeSync(bus, { recursive: true });
  }
});
