import assert from "node:assert/strict";
import {
  classfulMask4,
  formatIp4,
  formatIp6,
  maskToPrefix4,
  parseIp4,
  parseIp4Strict,
  parseIp6,
  prefixToMask4,
} from "../../core/net/ip_addr.ts";

Deno.test("parseIp4 reads inet_aton forms", () => {
  assert.equal(parseIp4("192.0.2.1"), 0xc0000201);
  assert.equal(parseIp4("127.1"), 0x7f000001);
  assert.equal(parseIp4("0x7f.0.0.1"), 0x7f000001);
  assert.equal(parseIp4("256.0.0.1"), null);
  assert.equal(parseIp4("1.2.3.4.5"), null);
  assert.equal(parseIp4("a.b.c.d"), null);
  assert.equal(parseIp4(""), null);
});

Deno.test("parseIp4Strict accepts dotted quads only", () => {
  assert.equal(parseIp4Strict("203.0.113.7"), 0xcb007107);
  assert.equal(parseIp4Strict("127.1"), null);
  assert.equal(parseIp4Strict("1.2.3.256"), null);
});

Deno.test("masks and prefixes convert both ways", () => {
  assert.equal(formatIp4(prefixToMask4(24)), "255.255.255.0");
  assert.equal(prefixToMask4(0), 0);
  assert.equal(maskToPrefix4(0xffffff00), 24);
  assert.equal(maskToPrefix4(0xffffffff), 32);
  assert.equal(maskToPrefix4(0), 0);
  assert.equal(maskToPrefix4(0xff00ff00), null);
  assert.equal(classfulMask4(parseIp4("10.1.2.3")!), 0xff000000);
  assert.equal(classfulMask4(parseIp4("172.16.0.1")!), 0xffff0000);
  assert.equal(classfulMask4(parseIp4("192.0.2.1")!), 0xffffff00);
});

Deno.test("IPv6 text round-trips in RFC 5952 form", () => {
  const cases: [string, string][] = [
    ["::1", "::1"],
    ["fe80:0:0:0:0:0:0:1", "fe80::1"],
    ["2001:DB8::", "2001:db8::"],
    ["2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
  ];
  for (const [input, out] of cases) assert.equal(formatIp6(parseIp6(input)!), out, input);
});

Deno.test("parseIp6 rejects malformed text", () => {
  for (const bad of [":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "fe80::1%lo0", "g::1", ""]) {
    assert.equal(parseIp6(bad), null, bad);
  }
});
