/// <reference lib="deno.worker" />
/**
 * A fake producer for ring tests: publishes `count` frames of `size` bytes, each
 * starting with its sequence number (u32, little-endian), waiting when the ring
 * is full, then ends as a reader Worker ends after EOF (STOPPED with errno 0).
 * @module
 */

import { FrameRing, FrameRingWriter, W } from "../../drivers/io/frame_ring.ts";

/** The message that starts it. */
export interface FakeProducerStart {
  ring: SharedArrayBuffer;
  count: number;
  size: number;
}

self.onmessage = (event: MessageEvent<FakeProducerStart>) => {
  const { count, size } = event.data;
  const ring = FrameRing.attach(event.data.ring);
  const c = ring.ctrl;
  const writer = new FrameRingWriter(ring);
  Atomics.store(c, W.READY, 1);
  const deadline = performance.now() + 30_000;
  for (let seq = 0; seq < count && Atomics.load(c, W.STOP) === 0;) {
    const slot = writer.slot();
    if (slot === null) {
      if (performance.now() > deadline) break;
      writer.waitForSpace(100);
      continue;
    }
    slot[0] = seq & 0xff;
    slot[1] = (seq >>> 8) & 0xff;
    slot[2] = (seq >>> 16) & 0xff;
    slot[3] = seq >>> 24;
    writer.publish(size);
    seq++;
  }
  Atomics.store(c, W.STOPPED, 1);
  Atomics.notify(c, W.STOPPED);
  Atomics.notify(c, W.HEAD);
};
