/**
 * The socket hop's frames: sockaddrs of both families round-trip, the decoder
 * reassembles frames split anywhere and refuses kind 0 and oversized bodies,
 * and the request, reply and error encoders lay bytes out as documented.
 */
import assert from "node:assert/strict";
import { Endpoint, IpAddr } from "../../core/net/inet_addr.ts";
import {
  encodeData,
  encodeError,
  encodeReply,
  encodeRequest,
  HOP_KIND,
  HOP_MAX_BODY,
  HOP_OP,
  HopDecoder,
  hopOption,
  hopOptionNumbers,
  readSockaddr,
  writeHopHeader,
} from "../../core/control/sock_proto.ts";

function ep(text: string, port: number): Endpoint {
  const e = new Endpoint();
  e.addr.set(IpAddr.parse(text)!);
  e.port = port;
  return e;
}

Deno.test("sock_proto: data frames carry both families' sockaddrs byte for byte", () => {
  const v4 = encodeData(ep("192.0.2.7", 53), new Uint8Array([9]));
  assert.deepEqual([...v4], [0x44, 0, 0, 9, 2, 0, 0, 53, 192, 0, 2, 7, 9]);
  const v6 = encodeData(ep("fe80::1%3", 0x1234), new Uint8Array(0));
  assert.deepEqual([...v6.subarray(0, 12)], [0x44, 0, 0, 24, 24, 0, 0x12, 0x34, 0, 0, 0, 3]);
  const back = new Endpoint();
  assert.equal(readSockaddr(v6, 4, v6.length, back), 28);
  assert.equal(back.toString(), "[fe80::1%3]:4660");
  const none = encodeData(null, new Uint8Array([1, 2]));
  assert.deepEqual([...none], [0x44, 0, 0, 6, 0, 0, 0, 0, 1, 2]);
  assert.equal(readSockaddr(none, 4, none.length, back), -2);
  assert.equal(readSockaddr(v6, 4, 20, back), -1, "truncated");
  assert.equal(readSockaddr(new Uint8Array([7, 0, 0, 0]), 0, 4, back), -1, "unknown family");
});

Deno.test("sock_proto: the decoder reassembles frames split at every byte", () => {
  const stream = new Uint8Array([
    ...encodeRequest(HOP_OP.getsockname),
    ...encodeData(ep("2001:db8::1", 7), new Uint8Array(3000).fill(5)),
    ...encodeReply(HOP_OP.bind, 248),
    ...encodeError(1, 240, 77),
  ]);
  for (const step of [1, 3, 7, 1000]) {
    const dec = new HopDecoder(16);
    const kinds: number[] = [];
    const lens: number[] = [];
    for (let i = 0; i < stream.length; i += step) {
      dec.push(stream.subarray(i, i + step));
      while (dec.next()) {
        kinds.push(dec.kind);
        lens.push(dec.end - dec.start);
      }
    }
    assert.deepEqual(kinds, [0x51, 0x44, 0x52, 0x45], `step ${step}`);
    assert.deepEqual(lens, [1, 3024, 4, 8]);
  }
});

Deno.test("sock_proto: kind 0 and bodies over the maximum break the stream", () => {
  const zero = new HopDecoder();
  zero.push(new Uint8Array([0, 0, 0, 1, 9]));
  assert.equal(zero.next(), false);
  assert.equal(zero.error, "EPROTO");
  const huge = new HopDecoder();
  const head = new Uint8Array(4);
  writeHopHeader(head, 0, HOP_KIND.data, HOP_MAX_BODY + 1);
  huge.push(head);
  assert.equal(huge.next(), false);
  assert.equal(huge.error, "EMSGSIZE");
});

Deno.test("sock_proto: error and reply frames, and the option table's NetBSD numbers", () => {
  assert.deepEqual([...encodeError(2, 261, 0)], [0x45, 0, 0, 8, 2, 0, 1, 5, 0, 0, 0, 0]);
  assert.deepEqual([...encodeReply(HOP_OP.connect, 0)], [0x52, 0, 0, 4, 3, 0, 0, 0]);
  assert.deepEqual(hopOptionNumbers("SO_RCVBUF"), hopOption(0xffff, 0x1002));
  assert.equal(hopOption(41, 27)?.option, "IPV6_V6ONLY");
  assert.equal(hopOption(0, 12)?.member, "join");
  assert.equal(hopOption(0, 99), undefined);
});
