/**
 * Bad input, in virtual time: malformed frames and packets of every kind are
 * counted and dropped, fragment floods stay within their bounds, and the stack
 * keeps answering ping throughout.
 */
import { stackCore } from "../../core/stack.ts";
import assert from "node:assert/strict";
import { Net } from "../kit/netsim.ts";
import type { Stack } from "../../core/stack.ts";
import type { AttachedInterface } from "../../core/link/driver.ts";
import type { CounterName, IpStats } from "../../core/stats.ts";
import { emitIcmpEcho, ICMP_TYPE } from "../../core/wire/icmp.ts";
import { emitIpv4Header } from "../../core/wire/ipv4.ts";
import { emitEthernet } from "../../core/wire/ethernet.ts";
import { checksum } from "../../core/wire/checksum.ts";
import { mulberry32 } from "../kit/bytes.ts";

const US = new Uint8Array([2, 0, 0, 0, 0, 2]);
const PEER = new Uint8Array([2, 0, 0, 0, 0, 1]);

/** A stack with en0 = 192.0.2.2/24 and a raw port to inject frames into it. */
function victim(): { net: Net; stack: Stack; port: AttachedInterface; sent: Uint8Array[] } {
  const net = new Net();
  const stack = net.stack();
  const sent: Uint8Array[] = [];
  const port = stack.attachInterface("sim", {
    mtu: 1500,
    lladdr: US,
    flags: 0x8802,
    transmit: (f) => {
      sent.push(f.slice());
    },
  }, { prefix: "en" });
  stack.addAddress("en0", { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" });
  stackCore(stack).arp.cache.set(2, 0xc0000201, PEER, { temp: false, pub: false }, 0);
  sent.length = 0;
  return { net, stack, port, sent };
}

/** An Ethernet + IPv4 + ICMP echo request frame from 192.0.2.1. */
function echoFrame(seq: number, opts: { id?: number; ttl?: number } = {}): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + 32);
  emitEthernet(f, 0, US, PEER, 0x0800);
  emitIpv4Header(f, 14, {
    tos: 0,
    totalLength: 60,
    id: opts.id ?? seq,
    df: false,
    mf: false,
    fragOffset: 0,
    ttl: opts.ttl ?? 64,
    protocol: 1,
    src: 0xc0000201,
    dst: 0xc0000202,
  });
  emitIcmpEcho(f, 34, { type: ICMP_TYPE.ECHO, id: 9, seq }, 32);
  return f;
}

/** Whether the stack answered the echo with sequence `seq` among `sent`. */
function answered(sent: Uint8Array[], seq: number): boolean {
  return sent.some((f) =>
    f[12] === 8 && f[13] === 0 && f[34] === 0 && ((f[40] << 8) | f[41]) === seq
  );
}

Deno.test("malformed IPv4 headers are counted under their own ipstat names and dropped", () => {
  const { net, stack, port, sent } = victim();
  const cases: [CounterName<IpStats>, (f: Uint8Array) => Uint8Array][] = [
    ["toosmall", (f) => f.subarray(0, 14 + 12)],
    ["badvers", (f) => (f[14] = 0x65, f)],
    ["badhlen", (f) => (f[14] = 0x44, f)],
    ["badlen", (f) => (f[16] = 0, f[17] = 10, f)],
    ["tooshort", (f) => (f[16] = 0x05, f[17] = 0xdc, f)],
    ["badsum", (f) => (f[24] ^= 0xff, f)],
  ];
  for (const [counter, spoil] of cases) {
    const before = stack.stats.ip[counter];
    port.receive(spoil(echoFrame(1)));
    net.run();
    assert.equal(stack.stats.ip[counter], before + 1, counter);
  }
  assert.equal(sent.length, 0, "nothing answered a malformed packet");
  port.receive(echoFrame(2));
  net.run();
  assert.ok(answered(sent, 2), "still answers ping");
});

Deno.test("bad ICMP checksums and short ICMP are counted; truncated Ethernet and ARP too", () => {
  const { net, stack, port, sent } = victim();
  const f = echoFrame(1);
  f[36] ^= 1;
  port.receive(f);
  const short = echoFrame(1).subarray(0, 14 + 20 + 4);
  short[16] = 0;
  short[17] = 24;
  short[24] = short[25] = 0;
  const sum = checksum(short, 14, 34);
  short[24] = sum >> 8;
  short[25] = sum & 0xff;
  port.receive(short);
  port.receive(new Uint8Array(10));
  const arp = new Uint8Array(14 + 10);
  emitEthernet(arp, 0, US, PEER, 0x0806);
  arp.set([0, 1, 0x08, 0x00, 6, 4, 0, 1], 14); // a valid start, cut short
  port.receive(arp);
  net.run();
  assert.equal(stack.stats.icmp.checksum, 1);
  assert.equal(stack.stats.icmp.tooshort, 1);
  assert.equal(stack.ifInfo("en0")[0].stats.ierrors, 1);
  assert.equal(stack.stats.arp.rcvbadlen, 1);
  assert.equal(sent.length, 0);
});

Deno.test("random bytes in 20 000 frames are all dropped without an exception", () => {
  const { net, stack, port, sent } = victim();
  const rand = mulberry32(42);
  for (let i = 0; i < 20_000; i++) {
    const len = Math.floor(rand() * 1514);
    const f = new Uint8Array(len);
    for (let j = 0; j < len; j++) f[j] = Math.floor(rand() * 256);
    // Half of them get our MAC and a plausible EtherType, to reach the upper layers.
    if (len >= 14 && i % 2 === 0) {
      f.set(US, 0);
      f[12] = i % 4 === 0 ? 0x08 : 0x08;
      f[13] = i % 4 === 0 ? 0x00 : 0x06;
      if (len > 14) f[14] = 0x45;
    }
    port.receive(f);
  }
  net.run();
  assert.ok(stack.stats.ip.total > 1000, "IPv4 saw the frames");
  sent.length = 0;
  port.receive(echoFrame(7));
  net.run();
  assert.ok(answered(sent, 7), "still answers ping");
});

Deno.test("a fragment flood is bounded by maxfragpackets and times out; overlaps drop the datagram", () => {
  const { net, stack, port, sent } = victim();
  const frag = (id: number, off: number, mf: boolean, len = 16) => {
    const f = new Uint8Array(14 + 20 + len);
    emitEthernet(f, 0, US, PEER, 0x0800);
    emitIpv4Header(f, 14, {
      tos: 0,
      totalLength: 20 + len,
      id,
      df: false,
      mf,
      fragOffset: off,
      ttl: 64,
      protocol: 1,
      src: 0xc0000201,
      dst: 0xc0000202,
    });
    return f;
  };
  for (let id = 0; id < 10_000; id++) port.receive(frag(id, 0, true));
  net.run();
  assert.equal(stackCore(stack).ip4.reassembly.size, 200, "net.inet.ip.maxfragpackets");
  assert.equal(stack.stats.ip.fragdropped, 10_000 - 200);
  // Overlap: a second fragment that covers bytes already held.
  port.receive(frag(5, 8, false, 16));
  net.run();
  assert.equal(stackCore(stack).ip4.reassembly.size, 199, "the overlapped datagram is gone");
  assert.equal(stack.stats.ip.badfrags, 1);
  net.advance(31_000);
  assert.equal(stackCore(stack).ip4.reassembly.size, 0, "every partial datagram timed out");
  assert.equal(stack.stats.ip.fragtimeout, 199);
  // Time exceeded (reassembly) goes back for each, within errppslimit.
  const timx = sent.filter((f) => f[12] === 8 && f[34] === 11 && f[35] === 1).length;
  assert.ok(timx > 0 && timx <= 100, `time exceeded sent: ${timx}`);
  sent.length = 0;
  port.receive(echoFrame(8));
  net.run();
  assert.ok(answered(sent, 8), "still answers ping");
});
