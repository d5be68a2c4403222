/**
 * Structure-aware fuzzing, IPv6: valid frames with chains of extension
 * headers (Hop-by-Hop and Destination Options with options of every action,
 * Routing, Fragment, AH), carrying ICMPv6 (echo, errors quoting an inner
 * packet, NS/NA/RS/RA/Redirect with options, MLD), UDP or an unknown
 * protocol, and fragment sets with overlaps, gaps, tiny pieces and
 * duplicates. Fix the checksums after mutating (`fixChecksums`).
 * @module
 */

import { fixChecksums, FrameBuilder, type FuzzRng, mutateFields } from "./fuzz_frames.ts";
import { ethernet, type FuzzTarget } from "./fuzz_gen4.ts";

const HOPOPTS = 0, ROUTING = 43, FRAGMENT = 44, AH = 51, ICMPV6 = 58, NONE = 59, DSTOPTS = 60;

/** A source for a packet to the target: mostly its neighbour. */
function src6(rng: FuzzRng, t: FuzzTarget): Uint8Array {
  const r = rng.int(10);
  return r < 4 ? t.peerLL : r < 8 ? t.peer6 : rng.pick(t.pool.v6);
}

/** A destination: mostly the target's addresses or the all-nodes group. */
function dst6(rng: FuzzRng, t: FuzzTarget): Uint8Array {
  const r = rng.int(10);
  return r < 4 ? t.our6 : r < 6 ? t.ourLL : r < 8 ? t.pool.v6[0] : rng.pick(t.pool.v6);
}

/** The options of a Hop-by-Hop or Destination Options header, padded to a multiple of 8. */
function options6(rng: FuzzRng, f: FrameBuilder, headerStart: number, hbh: boolean): void {
  for (let n = rng.int(4); n > 0; n--) {
    const k = rng.int(8);
    if (k === 0) f.u8(0, "type"); // Pad1
    else if (k === 1) f.u8(1, "type").u8(rng.int(6), "optlen").fill(f.bytes[f.len - 1], rng);
    else if (k === 2 && hbh) f.u8(5, "type").u8(2, "optlen").u16(rng.int(3)); // router alert
    else if (k === 3) f.u8(0xc2, "type").u8(4, "optlen").u32(70000 + rng.int(9999), "len"); // jumbo
    else if (k === 4) f.u8(4, "type").u8(1, "optlen").u8(rng.int(256)); // tunnel limit
    else if (k === 5 || rng.chance(0.5)) f.u8(1, "type").u8(0, "optlen"); // PadN
    else {
      // Unknown: skip, discard, ICMP, ICMP unless multicast (the two top bits).
      const len = rng.int(6);
      f.u8((rng.int(4) << 6) | 0x1e, "type").u8(len, "optlen").fill(len, rng);
    }
  }
  const pad = (8 - ((f.len - headerStart) % 8)) % 8;
  if (pad === 1) f.u8(0);
  else if (pad > 1) f.u8(1).u8(pad - 2).raw(new Uint8Array(pad - 2));
}

/** One extension header of type `type`, naming `next` after it. */
function extHeader(
  rng: FuzzRng,
  t: FuzzTarget,
  f: FrameBuilder,
  type: number,
  next: number,
  plain = false,
): void {
  const at = f.len;
  f.u8(next, "proto");
  if (plain) f.u8(0).u16(0x0104).u32(0); // an empty header: a PadN of 4
  else if (type === HOPOPTS || type === DSTOPTS) {
    f.u8(0, "optlen").u8(1).u8(0); // a PadN of 0 to start: 4 bytes of the 8
    options6(rng, f, at, type === HOPOPTS);
    f.bytes[at + 1] = (f.len - at) / 8 - 1;
  } else if (type === ROUTING) {
    const n = rng.int(3);
    f.u8(2 * n, "optlen").u8(rng.pick([0, 2, 3, 4, 253]), "type");
    f.u8(rng.chance(0.6) ? 0 : rng.int(4), "len").u32(0);
    for (let i = 0; i < n; i++) f.addr6(rng.pick(t.pool.v6));
  } else if (type === FRAGMENT) {
    f.u8(0).u16(rng.chance(0.8) ? 0 : rng.int(0x10000), "frag").u32(rng.int(1 << 30), "word");
  } else {
    f.u8(rng.pick([1, 2, 4]), "optlen").u16(0).u32(rng.int(1 << 30), "word").u32(1, "word");
    while ((f.len - at) < (f.bytes[at + 1] + 2) * 4) f.u8(0);
  }
}

/** A chain of extension header types: usually short, sometimes past any nesting limit. */
function chain(rng: FuzzRng): number[] {
  if (rng.chance(0.03)) return new Array(45 + rng.int(12)).fill(DSTOPTS);
  const out: number[] = [];
  if (rng.chance(0.5)) return out;
  if (rng.chance(0.5)) out.push(HOPOPTS);
  for (let n = rng.int(3); n > 0; n--) {
    out.push(
      rng.pick([DSTOPTS, DSTOPTS, ROUTING, FRAGMENT, AH, rng.chance(0.2) ? HOPOPTS : DSTOPTS]),
    );
  }
  return out;
}

/** Writes the IPv6 header; the payload length is patched by {@linkcode closeIp6}. */
function ip6Header(f: FrameBuilder, next: number, hlim: number, src: Uint8Array, dst: Uint8Array) {
  const at = f.len;
  f.u32(0x60000000, "word").u16(0, "len").u8(next, "proto").u8(hlim, "ttl");
  f.addr6(src).addr6(dst);
  return at;
}

function closeIp6(f: FrameBuilder, at: number): void {
  f.put16(at + 4, f.len - at - 40);
}

/** Neighbour Discovery options. */
function ndOptions(rng: FuzzRng, t: FuzzTarget, f: FrameBuilder): void {
  for (let n = rng.int(4); n > 0; n--) {
    const k = rng.int(9);
    if (k <= 1) f.u8(k + 1, "type").u8(1, "optlen").raw(rng.chance(0.9) ? t.peerMac : t.mac);
    else if (k === 2) {
      // Prefix information: a few prefixes of the documentation range only.
      f.u8(3, "type").u8(4, "optlen").u8(rng.pick([64, 64, 48, 128, 0, 200]), "len");
      f.u8(rng.pick([0xc0, 0x80, 0x40, 0, 0xe0]), "word");
      f.u32(rng.pick([0, 1, 30, 7200, 0xffffffff]), "word");
      f.u32(rng.pick([0, 1, 30, 3600, 0xffffffff]), "word").u32(0);
      const p = new Uint8Array(16);
      p.set([0x20, 0x01, 0x0d, 0xb8, 0, 0x10 + rng.int(4)]);
      if (rng.chance(0.1)) p[0] = 0xfe, p[1] = 0x80;
      f.addr6(p);
    } else if (k === 3) {
      // Redirected header: 6 reserved bytes, then part of a packet.
      const len = 1 + rng.int(3);
      f.u8(4, "type").u8(len, "optlen").raw(new Uint8Array(6)).fill(len * 8 - 8, rng);
    } else if (k === 4) {
      f.u8(5, "type").u8(1, "optlen").u16(0).u32(rng.pick([1280, 1400, 1500, 9000, 100]), "len");
    } else if (k === 5) f.u8(14, "type").u8(1, "optlen").fill(6, rng); // nonce
    else if (k === 6) f.u8(25, "type").u8(3, "optlen").u16(0).u32(60).addr6(t.peer6, undefined);
    else if (k === 7) f.u8(0, "optlen").u8(0, "optlen").fill(6, rng); // a zero length: invalid
    else f.u8(rng.int(256), "type").u8(1, "optlen").fill(6, rng);
  }
}

/** An inner packet for an ICMPv6 error to quote: an IPv6 header and 8 bytes or more. */
function quoted6(rng: FuzzRng, t: FuzzTarget, f: FrameBuilder): void {
  const at = ip6Header(f, rng.pick([ICMPV6, 17, 6, 44, 0]), 64, t.our6, src6(rng, t));
  f.fill(8 + rng.int(32), rng);
  closeIp6(f, at);
  if (rng.chance(0.2)) f.len -= rng.int(f.len - at + 1);
}

/** An ICMPv6 message; returns the hop limit it wants (255 for ND). */
function icmp6(rng: FuzzRng, t: FuzzTarget, f: FrameBuilder): number {
  const type = rng.pick([
    128,
    128,
    129,
    1,
    2,
    3,
    4,
    133,
    134,
    134,
    135,
    135,
    136,
    136,
    137,
    130,
    131,
    132,
    143,
    139,
    100,
    200,
    255,
  ]);
  const code = rng.chance(0.85)
    ? (type === 1 ? rng.int(8) : type === 4 ? rng.int(4) : 0)
    : rng.int(256);
  f.u8(type, "type").u8(code, "code").u16(0);
  switch (type) {
    case 128:
    case 129:
      f.u16(rng.int(0x10000), "word").u16(rng.int(0x10000), "word").fill(rng.int(64), rng);
      return 64;
    case 1:
    case 2:
    case 3:
    case 4:
      f.u32(type === 2 ? rng.pick([1280, 1000, 1500, 65536]) : rng.int(64), "len");
      quoted6(rng, t, f);
      return 64;
    case 133:
      f.u32(0);
      ndOptions(rng, t, f);
      return 255;
    case 134:
      f.u8(rng.pick([64, 0, 1, 255]), "ttl").u8(rng.int(256), "word");
      f.u16(rng.pick([1800, 0, 65535, 30]), "len").u32(rng.pick([0, 30000, 1]), "len");
      f.u32(rng.pick([0, 1000, 1]), "len");
      ndOptions(rng, t, f);
      return 255;
    case 135:
      f.u32(0).addr6(rng.chance(0.7) ? t.our6 : rng.pick(t.pool.v6));
      ndOptions(rng, t, f);
      return 255;
    case 136:
      f.u32(rng.pick([0x60000000, 0x20000000, 0xe0000000, 0]), "word");
      f.addr6(rng.chance(0.6) ? t.peer6 : rng.pick(t.pool.v6));
      ndOptions(rng, t, f);
      return 255;
    case 137:
      f.u32(0).addr6(rng.chance(0.5) ? t.peerLL : rng.pick(t.pool.v6));
      f.addr6(rng.pick(t.pool.v6));
      ndOptions(rng, t, f);
      return 255;
    case 130:
    case 131:
    case 132:
      f.u16(rng.int(10000), "word").u16(0).addr6(rng.pick(t.pool.v6));
      return 1;
    default:
      f.fill(4 + rng.int(48), rng);
      return 64;
  }
}

/** The upper-layer part: ICMPv6, UDP or another protocol; returns its number and hop limit. */
function upper6(rng: FuzzRng, t: FuzzTarget, f: FrameBuilder): [number, number] {
  const r = rng.int(10);
  if (r < 7) return [ICMPV6, icmp6(rng, t, f)];
  if (r < 9) {
    const u = f.len;
    f.u16(rng.int(0x10000), "word").u16(rng.pick([7, 53, 547, rng.int(0x10000)]), "word");
    f.u16(0, "len").u16(0).fill(rng.int(40), rng);
    f.put16(u + 4, f.len - u);
    return [17, 64];
  }
  f.fill(rng.int(40), rng);
  return [rng.pick([6, NONE, 41, 103, 253, 255]), 64];
}

/** One IPv6 frame: an extension-header chain and an upper layer. */
export function ip6Frame(rng: FuzzRng, t: FuzzTarget): FrameBuilder {
  const f = new FrameBuilder();
  ethernet(rng, t, f, 0x86dd);
  const types = chain(rng);
  const at = ip6Header(f, 0, 64, src6(rng, t), dst6(rng, t));
  // Each header names the next: written first with a placeholder, patched once known.
  let nextField = at + 6;
  for (const type of types) {
    f.bytes[nextField] = type;
    nextField = f.len;
    extHeader(rng, t, f, type, 0, types.length > 40);
  }
  const [proto, hlim] = upper6(rng, t, f);
  f.bytes[nextField] = proto;
  f.bytes[at + 7] = rng.chance(0.9) ? hlim : rng.pick([0, 1, 64, 255]);
  closeIp6(f, at);
  return f;
}

/**
 * An ICMPv6 echo or UDP datagram given whole checksums, then cut into
 * fragments (a Hop-by-Hop header maybe in the unfragmentable part, a
 * Destination Options header maybe in the fragmentable one) by a spoilt plan.
 */
export function ip6Fragments(rng: FuzzRng, t: FuzzTarget, id: number): FrameBuilder[] {
  const whole = new FrameBuilder();
  ethernet(rng, t, whole, 0x86dd);
  const hbh = rng.chance(0.2), dst = rng.chance(0.2);
  const src = rng.chance(0.5) ? t.peer6 : t.peerLL;
  const at = ip6Header(whole, hbh ? HOPOPTS : dst ? DSTOPTS : ICMPV6, 64, src, t.our6);
  const proto = rng.chance(0.8) ? ICMPV6 : 17;
  if (hbh) extHeader(rng, t, whole, HOPOPTS, dst ? DSTOPTS : proto);
  const fragmentable = whole.len;
  if (dst) extHeader(rng, t, whole, DSTOPTS, proto);
  if (!hbh && !dst) whole.bytes[at + 6] = proto;
  if (proto === ICMPV6) whole.u8(128).u8(0).u16(0).u16(0x4242).u16(id & 0xffff);
  else whole.u16(9).u16(9).u16(0).u16(0);
  whole.fill(8 + rng.int(rng.chance(0.2) ? 1400 : 200), rng);
  closeIp6(whole, at);
  if (proto === 17) {
    const u = dst ? fragmentable + (whole.bytes[fragmentable + 1] + 1) * 8 : fragmentable;
    whole.put16(u + 4, whole.len - u);
  }
  const frame = whole.frame();
  fixChecksums(frame);
  // The first fragmentable header's type goes in the Fragment header.
  const lastField = hbh ? at + 40 : at + 6;
  const firstNext = frame[lastField];
  const payload = frame.subarray(fragmentable);
  const out: FrameBuilder[] = [];
  let size = rng.pick([8, 8, 16, 56, 512, 1232, 8 * (1 + rng.int(100))]);
  while (payload.length / size > 40) size *= 2; // at most 40 pieces
  const plan: { off: number; len: number; m: boolean }[] = [];
  for (let off = 0; off < payload.length; off += size) {
    plan.push({ off, len: Math.min(size, payload.length - off), m: off + size < payload.length });
  }
  const spoil = rng.int(8);
  if (spoil === 0) plan.reverse();
  else if (spoil === 1) plan.push({ ...rng.pick(plan) });
  else if (spoil === 2 && plan.length > 1) plan.splice(rng.int(plan.length), 1);
  else if (spoil === 3) plan.push({ off: Math.max(0, rng.pick(plan).off - 8), len: 16, m: true });
  else if (spoil === 4) rng.pick(plan).len += 1 + rng.int(7);
  else if (spoil === 5) plan.push({ off: 65528 - 8 * rng.int(3), len: 24, m: rng.chance(0.5) });
  else if (spoil === 6) plan.unshift({ off: 0, len: 0, m: false }); // atomic, carrying nothing
  for (const p of plan) {
    const f = new FrameBuilder();
    f.raw(frame.subarray(0, fragmentable));
    f.bytes[lastField] = FRAGMENT;
    f.u8(firstNext, "proto").u8(0).u16((p.off & 0xfff8) | (p.m ? 1 : 0), "frag").u32(id, "word");
    const piece = payload.subarray(Math.min(p.off, payload.length), p.off + p.len);
    f.raw(piece);
    if (piece.length < p.len) f.fill(p.len - piece.length, rng);
    f.fields.push({ at: at + 4, size: 2, kind: "len" }, { at: lastField, size: 1, kind: "proto" });
    closeIp6(f, at);
    if (rng.chance(0.05)) mutateFields(rng, f, t.pool, 1);
    out.push(f);
  }
  return out;
}
