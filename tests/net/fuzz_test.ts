/**
 * Structure-aware fuzzing in virtual time: valid frames of every kind the
 * stack takes (ARP; IPv4 with options, ICMP, UDP, fragments; IPv6 extension
 * header chains, ICMPv6 with Neighbour Discovery, UDP, fragments) have their
 * fields mutated and every checksum recomputed, so the damage reaches the
 * code behind the checksums. Afterwards: nothing threw, the stack still
 * answers ping over both families, its queues, caches and timers stayed
 * within bounds, and the drop counters of the deep layers moved (so this
 * test fails if the fuzzer stops getting past the checksums).
 *
 * Seeds: a fixed list, plus `FUZZ_SEED=<n>` (or `FUZZ_SEED=random`) for one
 * more; a failure names its seed and the frame that broke things.
 */
import assert from "node:assert/strict";
import { Net } from "../kit/netsim.ts";
import { type Stack, stackCore } from "../../core/stack.ts";
import { flattenProtoCounters } from "../../core/stats.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { parseIp4, parseIp6 } from "../../core/net/ip_addr.ts";
import { checksum } from "../../core/wire/checksum.ts";
import { toHex } from "../kit/bytes.ts";
import {
  fixChecksums,
  type FrameBuilder,
  FuzzRng,
  mutateBytes,
  mutateFields,
} from "../kit/fuzz_frames.ts";
import { arpFrame, type FuzzTarget, ip4Fragments, ip4Frame } from "../kit/fuzz_gen4.ts";
import { ip6Fragments, ip6Frame } from "../kit/fuzz_gen6.ts";

/** Fuzz rounds per run (a round is one frame, or one set of fragments). */
const ROUNDS = 3000;
const SEEDS = [1, 2, 3];

function v6(text: string): Uint8Array {
  const a = parseIp6(text);
  if (!a) throw new Error(text);
  return a;
}
function v4(text: string): number {
  const a = parseIp4(text);
  if (a === null) throw new Error(text);
  return a;
}

/** The victim (en0 on the LAN, en1 on a far segment), its neighbour on the LAN, and a host beyond. */
function world(router: boolean) {
  const net = new Net();
  const lan = net.segment(), far = net.segment();
  const victim = net.stack(true), peer = net.stack(true), remote = net.stack(true);
  net.attach(victim, lan, 2);
  net.attach(peer, lan, 1);
  net.attach(victim, far, 3);
  net.attach(remote, far, 4);
  if (router) {
    victim.sysctl.set("net.inet.ip.forwarding", "1");
    victim.sysctl.set("net.inet6.ip6.forwarding", "1");
  } else victim.sysctl.set("net.inet6.ip6.accept_rtadv", "1");
  for (const s of [victim, peer, remote]) s.setFlags("en0", IFF.UP, 0);
  victim.setFlags("en1", IFF.UP, 0);
  const add = (s: Stack, ifname: string, a4: string, a6: string) => {
    s.addAddress(ifname, { family: "inet", addr: a4, netmask: "255.255.255.0" });
    s.addAddress(ifname, { family: "inet6", addr: a6, prefixlen: 64 });
  };
  add(victim, "en0", "192.0.2.2", "2001:db8::2");
  add(peer, "en0", "192.0.2.1", "2001:db8::1");
  add(victim, "en1", "198.51.100.2", "2001:db8:1::2");
  add(remote, "en0", "198.51.100.9", "2001:db8:1::9");
  net.advance(5000); // DAD
  const port = lan.members.find((m) => m.stack === victim)!.port;
  const linkLocal = (s: Stack) =>
    v6(
      s.ifInfo("en0")[0].addrs.find((a) => a.family === "inet6" && a.addr.startsWith("fe80"))!.addr
        .split("%")[0],
    );
  const target: FuzzTarget = {
    mac: new Uint8Array([2, 0, 0, 0, 0, 2]),
    peerMac: new Uint8Array([2, 0, 0, 0, 0, 1]),
    our4: v4("192.0.2.2"),
    peer4: v4("192.0.2.1"),
    our6: v6("2001:db8::2"),
    ourLL: linkLocal(victim),
    peer6: v6("2001:db8::1"),
    peerLL: linkLocal(peer),
    pool: {
      v4: [
        "192.0.2.2",
        "192.0.2.1",
        "192.0.2.7",
        "192.0.2.255",
        "192.0.2.0",
        "255.255.255.255",
        "0.0.0.0",
        "127.0.0.1",
        "224.0.0.1",
        "224.0.0.9",
        "198.51.100.9",
        "198.51.100.255",
        "203.0.113.5",
        "240.0.0.1",
      ].map(v4),
      v6: [
        "ff02::1",
        "2001:db8::2",
        "2001:db8::1",
        "2001:db8::7",
        "fe80::7",
        "ff02::2",
        "ff02::1:ff00:2",
        "ff01::1",
        "ff05::1",
        "ff00::",
        "::",
        "::1",
        "::ffff:192.0.2.1",
        "2001:db8:1::9",
        "2001:db8:1::2",
        "2001:db8:2::1",
        "fe80::1",
      ].map(v6),
    },
  };
  return { net, lan, victim, peer, remote, port, target };
}

/** Whether `from` gets an echo reply from `to` (the family by the address's form). */
function pings(net: Net, from: Stack, to: string): boolean {
  const inet6 = to.includes(":");
  let answered = false;
  const id = 0x7a7a;
  const sock = from.openRawSocket(inet6 ? "inet6" : "inet", inet6 ? 58 : 1, (d) => {
    const at = inet6 ? 0 : (d.data[0] & 15) * 4;
    const reply = inet6 ? 129 : 0;
    if (d.data[at] === reply && ((d.data[at + 4] << 8) | d.data[at + 5]) === id) answered = true;
  });
  try {
    for (let attempt = 0; attempt < 3 && !answered; attempt++) {
      const msg = new Uint8Array(24);
      msg.set([inet6 ? 128 : 8, 0, 0, 0, id >> 8, id & 0xff, 0, attempt]);
      if (!inet6) {
        const c = checksum(msg);
        msg[2] = c >> 8;
        msg[3] = c & 0xff;
      }
      from.sendRaw(sock, to, msg, {});
      net.advance(1500);
    }
  } finally {
    from.closeRawSocket(sock);
  }
  return answered;
}

/** What the test reads of the stack's insides: kept in one place, as those move. */
function insides(s: Stack) {
  return {
    frags4: stackCore(s).ip4.reassembly.size,
    frags6: stackCore(s).ip6!.frags.reassembler.size,
    timers: stackCore(s).timers.size,
    neighbours4: s.neighborList("inet").length,
    neighbours6: s.neighborList("inet6").length,
  };
}

/** Counters that only move when a frame got past the checksums into the layer behind. */
const DEEP_COUNTERS: [string, string][] = [
  ["ip", "badoptions"],
  ["ip", "fragments"],
  ["ip", "reassembled"],
  ["ip", "badfrags"],
  ["ip", "noproto"],
  ["icmp", "badlen"],
  ["icmp", "tooshort"],
  ["icmp", "oldicmp"],
  ["ip6", "badoptions"],
  ["ip6", "toomanyhdr"],
  ["ip6", "tooshort"],
  ["ip6", "fragments"],
  ["ip6", "fragdropped"],
  ["ip6", "reassembled"],
  ["ip6", "badscope"],
  ["icmp6", "badlen"],
  ["icmp6", "nd_badopt"],
  ["icmp6", "badns"],
  ["icmp6", "badna"],
  ["udp6", "badlen"],
  ["udp6", "noport"],
  ["icmp6", "badra"],
  ["icmp6", "badrs"],
  ["icmp6", "badredirect"],
  ["icmp", "pmtuchg"],
  ["ip", "fragtimeout"],
  ["ip6", "fragtimeout"],
  ["ip6", "notmember"],
  ["arp", "rcvrequest"],
];

function counter(s: Stack, set: string, name: string): number {
  return flattenProtoCounters(s.stats)[set]?.[name] ?? 0;
}

/** One fuzz run; throws with the seed and the offending frame when the stack throws. */
function fuzzRun(seed: number, router: boolean): Map<string, number> {
  const w = world(router);
  const { net, victim, port, target } = w;
  const rng = new FuzzRng(seed);
  let frag4 = 1, frag6 = 1;
  let maxTimers = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const r = rng.int(100);
    let frames: FrameBuilder[];
    if (r < 6) frames = [arpFrame(rng, target)];
    else if (r < 36) frames = [ip4Frame(rng, target)];
    else if (r < 44) frames = ip4Fragments(rng, target, rng.chance(0.3) ? rng.int(3) : frag4++);
    else if (r < 90) frames = [ip6Frame(rng, target)];
    else frames = ip6Fragments(rng, target, rng.chance(0.3) ? rng.int(3) : frag6++);
    for (const f of frames) {
      if (frames.length === 1 && rng.chance(0.7)) mutateFields(rng, f, target.pool);
      if (rng.chance(0.04)) mutateBytes(rng, f);
      const frame = f.frame();
      fixChecksums(frame);
      try {
        port.receive(frame);
        if (round % 8 === 0) net.run();
      } catch (e) {
        throw new Error(
          `fuzz seed ${seed} (${router ? "router" : "host"}) round ${round}: ${e}\nframe ${
            toHex(frame)
          }`,
          { cause: e },
        );
      }
    }
    try {
      if (rng.chance(0.01)) net.advance(rng.int(5000));
    } catch (e) {
      throw new Error(`fuzz seed ${seed} round ${round}: timers threw ${e}`, { cause: e });
    }
    if (round % 64 === 0) maxTimers = Math.max(maxTimers, insides(victim).timers);
  }
  net.run();
  const during = insides(victim);
  const ctx = `seed ${seed} ${router ? "router" : "host"}`;
  assert.ok(during.frags4 <= victim.sysctl.int("net.inet.ip.maxfragpackets"), ctx);
  assert.ok(during.frags6 <= victim.sysctl.int("net.inet6.ip6.maxfragpackets"), ctx);
  // The fuzzer draws on a few addresses only: a cache larger than that grew without bound.
  assert.ok(
    during.neighbours4 <= target.pool.v4.length + 2,
    `${ctx}: ${during.neighbours4} ARP entries`,
  );
  assert.ok(
    during.neighbours6 <= target.pool.v6.length + 4,
    `${ctx}: ${during.neighbours6} ND entries`,
  );
  // A timer leaked per packet would hold thousands by now; a few dozen is the norm.
  assert.ok(maxTimers < ROUNDS / 4, `${ctx}: ${maxTimers} timers held`);
  // Long after, everything learnt from the fuzz has expired.
  net.advance(3 * 24 * 3600 * 1000);
  const after = insides(victim);
  assert.equal(after.frags4, 0, ctx);
  assert.equal(after.frags6, 0, ctx);
  assert.ok(after.timers < 64, `${ctx}: ${after.timers} timers left a quiet day later`);
  // Checksums were right: nearly nothing failed them.
  // (a few fail where overlapping fragments carried different bytes)
  assert.ok(counter(victim, "ip", "badsum") < counter(victim, "ip", "total") / 50, ctx);
  assert.ok(counter(victim, "icmp", "checksum") < counter(victim, "ip", "delivered") / 20, ctx);
  assert.ok(counter(victim, "icmp6", "checksum") < counter(victim, "ip6", "delivered") / 20, ctx);
  // Poisoned neighbour entries are fair game for a fuzzer; with fresh caches, ping works.
  for (const s of [w.victim, w.peer]) {
    s.neighborFlush("inet");
    s.neighborFlush("inet6");
  }
  assert.ok(pings(net, w.peer, "192.0.2.2"), `${ctx}: ping`);
  assert.ok(pings(net, w.peer, "2001:db8::2"), `${ctx}: ping6`);
  const seen = new Map<string, number>();
  for (const [set, name] of DEEP_COUNTERS) seen.set(`${set}.${name}`, counter(victim, set, name));
  return seen;
}

function seeds(): number[] {
  const extra = Deno.env.get("FUZZ_SEED");
  if (!extra) return SEEDS;
  const seed = extra === "random" ? crypto.getRandomValues(new Uint32Array(1))[0] : Number(extra);
  console.log(`FUZZ_SEED=${seed}`);
  return [...SEEDS, seed];
}

Deno.test("fuzzed frames reach past the checksums, throw nothing, and leave the stack answering", () => {
  const totals = new Map<string, number>();
  for (const seed of seeds()) {
    for (const router of [false, true]) {
      for (const [k, v] of fuzzRun(seed, router)) totals.set(k, (totals.get(k) ?? 0) + v);
    }
  }
  const silent = [...totals].filter(([, v]) => v === 0).map(([k]) => k);
  assert.deepEqual(silent, [], "counters the fuzz never moved");
});

Deno.test("forwarding to a neighbour that never answered ARP drops with host unreachable (found by the fuzzer)", () => {
  const { net, victim, port, target } = world(true);
  // From the LAN neighbour to 192.0.2.7, on the same LAN, where nobody answers ARP.
  const frame = () => {
    const f = new Uint8Array(14 + 28);
    f.set(target.mac, 0);
    f.set(target.peerMac, 6);
    f.set([8, 0, 0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 7, 8], 12);
    fixChecksums(f);
    return f;
  };
  port.receive(frame());
  net.advance(10_000); // resolution gives up after 5 tries: the entry is down for a while
  const before = counter(victim, "icmp", "error");
  port.receive(frame()); // threw EHOSTDOWN out of the stack before
  net.run();
  assert.ok(counter(victim, "ip", "cantforward") > 0);
  assert.equal(counter(victim, "icmp", "error"), before + 1, "host unreachable sent");
});
