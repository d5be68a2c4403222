import assert from "node:assert/strict";
import {
  asControlReply,
  asControlRequest,
  decodeJson,
  encodeFrame,
  FRAME_KIND,
  FrameDecoder,
  HEADER_LEN,
  MAX_PAYLOAD,
} from "../../core/control/protocol.ts";

Deno.test("encodeFrame then FrameDecoder gives the frame back", () => {
  const bytes = encodeFrame(FRAME_KIND.request, 42, { op: "ifList", name: "lo0" });
  const dec = new FrameDecoder();
  dec.push(bytes);
  const f = dec.next();
  assert.ok(f);
  assert.equal(f.id, 42);
  assert.equal(f.kind, FRAME_KIND.request);
  assert.deepEqual(decodeJson(f.payload), { op: "ifList", name: "lo0" });
  assert.equal(dec.next(), null);
});

Deno.test("FrameDecoder reassembles frames split at every byte", () => {
  const a = encodeFrame(FRAME_KIND.request, 1, { op: "info" });
  const b = encodeFrame(FRAME_KIND.request, 2, { op: "routeList" });
  const all = new Uint8Array([...a, ...b]);
  const dec = new FrameDecoder();
  const ids: number[] = [];
  for (let i = 0; i < all.length; i++) {
    dec.push(all.subarray(i, i + 1));
    for (let f = dec.next(); f; f = dec.next()) ids.push(f.id);
  }
  assert.deepEqual(ids, [1, 2]);
});

Deno.test("FrameDecoder grows for a large frame", () => {
  const big = "x".repeat(200_000);
  const bytes = encodeFrame(FRAME_KIND.reply, 9, { ok: true, result: big });
  const dec = new FrameDecoder();
  for (let i = 0; i < bytes.length; i += 7000) dec.push(bytes.subarray(i, i + 7000));
  const f = dec.next();
  assert.ok(f);
  assert.deepEqual(decodeJson(f.payload), { ok: true, result: big });
});

Deno.test("FrameDecoder refuses another version with EPROTO", () => {
  const bytes = encodeFrame(FRAME_KIND.request, 1, { op: "info" });
  bytes[4] = 99;
  const dec = new FrameDecoder();
  dec.push(bytes);
  assert.equal(dec.next(), null);
  assert.equal(dec.error, "EPROTO");
});

Deno.test("FrameDecoder refuses an oversized length with EMSGSIZE before the payload arrives", () => {
  const header = new Uint8Array(HEADER_LEN);
  new DataView(header.buffer).setUint32(0, MAX_PAYLOAD + 1);
  header[4] = 1;
  header[5] = 1;
  const dec = new FrameDecoder();
  dec.push(header);
  assert.equal(dec.next(), null);
  assert.equal(dec.error, "EMSGSIZE");
});

Deno.test("asControlRequest accepts known ops only", () => {
  assert.deepEqual(asControlRequest({ op: "info" }), { op: "info" });
  assert.equal(asControlRequest({ op: "reboot" }), null);
  assert.equal(asControlRequest({ op: "toString" }), null);
  assert.equal(asControlRequest([]), null);
  assert.equal(asControlRequest(null), null);
  assert.equal(asControlRequest("info"), null);
});

Deno.test("asControlReply checks the reply shape and errno names", () => {
  assert.ok(asControlReply({ ok: true, result: 1 }));
  assert.ok(asControlReply({ ok: false, errno: "ENXIO" }));
  assert.equal(asControlReply({ ok: false, errno: "ENOTANERRNO" }), null);
  assert.equal(asControlReply({ ok: true }), null);
});

Deno.test("decodeJson returns null for invalid UTF-8 or JSON", () => {
  assert.equal(decodeJson(new Uint8Array([0xff, 0xfe])), null);
  assert.equal(decodeJson(new TextEncoder().encode("{nope")), null);
});
