/**
 * Structure-aware fuzzing, IPv4: valid Ethernet frames carrying ARP, or IPv4
 * (with and without options) carrying ICMP (echo, timestamp, mask, errors
 * quoting an inner packet, redirect), UDP or an unknown protocol, and
 * fragment sets with overlaps, gaps, tiny pieces and duplicates. Each frame
 * is a {@linkcode FrameBuilder} whose fields the mutator may change; fix the
 * checksums after mutating (`fixChecksums`).
 * @module
 */

import {
  type AddressPool,
  fixChecksums,
  FrameBuilder,
  type FuzzRng,
  mutateFields,
} from "./fuzz_frames.ts";

/** The stack under test and its neighbour, as the generators address them. */
export interface FuzzTarget {
  mac: Uint8Array;
  peerMac: Uint8Array;
  our4: number;
  peer4: number;
  our6: Uint8Array;
  ourLL: Uint8Array;
  peer6: Uint8Array;
  peerLL: Uint8Array;
  /** Addresses the mutator puts in address fields (a small set: caches stay bounded). */
  pool: AddressPool;
}

const BCAST_MAC = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const MCAST4_MAC = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01];
const MCAST6_MAC = [0x33, 0x33, 0x00, 0x00, 0x00, 0x01];

/** An Ethernet header to the target (mostly unicast to it, sometimes a group). */
export function ethernet(rng: FuzzRng, t: FuzzTarget, f: FrameBuilder, type: number): void {
  const r = rng.int(20);
  f.raw(r < 16 ? t.mac : r < 18 ? BCAST_MAC : r === 18 ? MCAST4_MAC : MCAST6_MAC);
  f.raw(t.peerMac);
  f.u16(type, rng.chance(0.02) ? "word" : undefined);
}

/** An ARP request or reply about pool addresses. */
export function arpFrame(rng: FuzzRng, t: FuzzTarget): FrameBuilder {
  const f = new FrameBuilder();
  ethernet(rng, t, f, 0x0806);
  f.u16(1, "code").u16(0x0800, "code").u8(6, "len").u8(4, "len");
  f.u16(rng.pick([1, 1, 2, 2, 3, 4, 8, 9]), "type");
  f.raw(rng.pick([t.peerMac, t.peerMac, t.mac, new Uint8Array(BCAST_MAC), new Uint8Array(6)]));
  f.u32(rng.chance(0.7) ? t.peer4 : rng.pick(t.pool.v4), "addr4");
  f.raw(rng.chance(0.5) ? new Uint8Array(6) : t.mac);
  f.u32(rng.chance(0.7) ? t.our4 : rng.pick(t.pool.v4), "addr4");
  if (rng.chance(0.3)) f.fill(rng.int(20), rng);
  return f;
}

/** IPv4 options, padded to a multiple of 4 and at most 40 bytes. */
function ip4Options(rng: FuzzRng, t: FuzzTarget, f: FrameBuilder): void {
  const start = f.len;
  const room = () => 40 - (f.len - start);
  for (let n = 1 + rng.int(3); n > 0 && room() >= 4; n--) {
    const kind = rng.int(9);
    if (kind === 0) {
      f.u8(1, "type"); // NOP
    } else if (kind <= 2) {
      // Record route, loose or strict source route: addresses after a pointer.
      const k = 1 + rng.int(Math.min(4, (room() - 3) >> 2));
      f.u8(rng.pick([7, 131, 137]), "type").u8(3 + 4 * k, "optlen");
      f.u8(rng.pick([4, 4, 8, 4 + 4 * k, 3, 5]), "len");
      for (let i = 0; i < k; i++) f.u32(rng.chance(0.5) ? 0 : rng.pick(t.pool.v4), "addr4");
    } else if (kind <= 4) {
      // Timestamp: flag 0 (times), 1 (address + time), 3 (prespecified).
      const flag = rng.pick([0, 1, 3, 2]);
      const each = flag === 0 ? 4 : 8;
      const k = Math.max(1, Math.min(2, Math.floor((room() - 4) / each)));
      if (room() < 4 + each) continue;
      f.u8(68, "type").u8(4 + each * k, "optlen").u8(
        rng.pick([5, 5, 9, 4 + each * k + 1, 4]),
        "len",
      );
      f.u8((rng.int(16) << 4) | flag, "word");
      for (let i = 0; i < k * (each / 4); i++) f.u32(rng.int(2) ? t.our4 : 0, "word");
    } else if (kind === 5) {
      f.u8(148, "type").u8(4, "optlen").u16(0); // router alert
    } else if (kind === 6 && room() >= 11) {
      f.u8(130, "type").u8(11, "optlen").fill(9, rng); // security
    } else if (kind === 7) {
      f.u8(0, "type"); // EOL
    } else {
      const len = 2 + rng.int(4);
      f.u8(rng.int(256), "type").u8(len, "optlen").fill(len - 2, rng);
    }
  }
  while ((f.len - start) % 4 !== 0) f.u8(rng.chance(0.5) ? 0 : 1);
}

/** Writes an IPv4 header (options maybe) at the end of `f`; returns where it starts. */
function ip4Header(
  rng: FuzzRng,
  t: FuzzTarget,
  f: FrameBuilder,
  proto: number,
  opts: { src?: number; dst?: number; noOptions?: boolean; ttl?: number; frag?: number },
): number {
  const at = f.len;
  f.u8(0x45, "len").u8(rng.chance(0.9) ? 0 : rng.int(256), "word");
  f.u16(0, "len").u16(rng.int(0x10000), "word").u16(opts.frag ?? 0, "frag");
  f.u8(opts.ttl ?? rng.pick([64, 64, 64, 1, 255]), "ttl").u8(proto, "proto").u16(0);
  f.u32(opts.src ?? (rng.chance(0.8) ? t.peer4 : rng.pick(t.pool.v4)), "addr4");
  f.u32(opts.dst ?? (rng.chance(0.7) ? t.our4 : rng.pick(t.pool.v4)), "addr4");
  if (!opts.noOptions && rng.chance(0.25)) {
    ip4Options(rng, t, f);
    f.bytes[at] = 0x40 | ((f.len - at) >> 2);
  }
  return at;
}

/** Sets an IPv4 header's total length to the end of what was built. */
function closeIp4(f: FrameBuilder, at: number): void {
  f.put16(at + 2, f.len - at);
}

/** An inner packet for an ICMP error to quote: an IPv4 header and 8 bytes or more. */
function quoted4(rng: FuzzRng, t: FuzzTarget, f: FrameBuilder): void {
  const at = ip4Header(rng, t, f, rng.pick([1, 6, 17, 17, 50]), {
    src: rng.chance(0.8) ? t.our4 : rng.pick(t.pool.v4),
    dst: rng.chance(0.5) ? t.peer4 : rng.pick(t.pool.v4),
  });
  const proto = f.bytes[at + 9];
  if (proto === 1) f.u8(rng.pick([8, 0, 3, 11]), "type").u8(0, "code").u16(0).u32(rng.int(1 << 30));
  else {f.u16(rng.int(0x10000), "word").u16(rng.int(0x10000), "word").u16(8 + rng.int(100), "len")
      .u16(0);}
  f.u16(1500 + rng.int(100), "len").u16(0, "len"); // the quoted header claims a size
  closeIp4(f, at);
  f.put16(at + 2, rng.chance(0.8) ? 1500 : f.len - at);
  if (rng.chance(0.2)) f.len -= rng.int(f.len - at + 1); // quote cut short
}

/** An ICMP message after an IPv4 header. */
function icmp4(rng: FuzzRng, t: FuzzTarget, f: FrameBuilder): void {
  const type = rng.pick([8, 8, 0, 13, 14, 17, 18, 15, 3, 3, 3, 4, 5, 5, 11, 12, 9, 10, 40, 255]);
  const code = rng.chance(0.8)
    ? (type === 3 ? rng.int(16) : type === 5 ? rng.int(4) : 0)
    : rng.int(256);
  f.u8(type, "type").u8(code, "code").u16(0);
  switch (type) {
    case 8:
    case 0:
    case 15:
      f.u16(rng.int(0x10000), "word").u16(rng.int(0x10000), "word").fill(rng.int(64), rng);
      return;
    case 13:
    case 14:
      f.u16(1, "word").u16(2, "word");
      for (let i = 0; i < 3; i++) f.u32(rng.int(86_400_000), "word");
      if (rng.chance(0.2)) f.len -= 1 + rng.int(12);
      return;
    case 17:
    case 18:
      f.u16(1, "word").u16(2, "word").u32(0xffffff00, "word");
      return;
    case 5:
      f.u32(rng.pick(t.pool.v4), "addr4");
      quoted4(rng, t, f);
      return;
    case 3:
    case 4:
    case 11:
    case 12:
      f.u8(rng.int(64), "len").u8(0).u16(
        code === 4 ? rng.pick([0, 68, 576, 1280, 1492]) : 0,
        "len",
      );
      quoted4(rng, t, f);
      return;
    default:
      f.fill(4 + rng.int(40), rng);
  }
}

/** One IPv4 frame: ICMP, UDP or another protocol. */
export function ip4Frame(rng: FuzzRng, t: FuzzTarget): FrameBuilder {
  const f = new FrameBuilder();
  ethernet(rng, t, f, 0x0800);
  const r = rng.int(10);
  const proto = r < 6 ? 1 : r < 8 ? 17 : rng.pick([0, 2, 4, 6, 41, 47, 50, 103, 253, 255]);
  const at = ip4Header(rng, t, f, proto, {});
  if (proto === 1) icmp4(rng, t, f);
  else if (proto === 17) {
    const u = f.len;
    f.u16(rng.pick([7, 53, 123, 33434, rng.int(0x10000)]), "word");
    f.u16(rng.pick([7, 53, 123, 33434, rng.int(0x10000)]), "word");
    f.u16(0, "len").u16(0).fill(rng.int(40), rng);
    f.put16(u + 4, f.len - u);
  } else f.fill(rng.int(64), rng);
  closeIp4(f, at);
  return f;
}

/** Byte ranges of a datagram's payload, cut up and then spoilt in one of several ways. */
function fragmentPlan(rng: FuzzRng, total: number): { off: number; len: number; mf: boolean }[] {
  let size = rng.pick([8, 8, 16, 24, 64, 256, 8 * (1 + rng.int(80))]);
  while (total / size > 40) size *= 2; // at most 40 pieces
  const pieces: { off: number; len: number; mf: boolean }[] = [];
  for (let off = 0; off < total; off += size) {
    pieces.push({ off, len: Math.min(size, total - off), mf: off + size < total });
  }
  switch (rng.int(9)) {
    case 0: // reversed
      pieces.reverse();
      break;
    case 1: // a duplicate
      pieces.splice(rng.int(pieces.length + 1), 0, { ...rng.pick(pieces) });
      break;
    case 2: // a gap
      if (pieces.length > 1) pieces.splice(rng.int(pieces.length), 1);
      break;
    case 3: { // an overlap: a piece straddling two others
      const p = rng.pick(pieces);
      pieces.push({ off: Math.max(0, p.off - 8 * rng.int(3)), len: p.len + 8, mf: true });
      break;
    }
    case 4: // a "last" fragment in the middle
      rng.pick(pieces).mf = false;
      break;
    case 5: // an odd length with more to come
      rng.pick(pieces).len += 1 + rng.int(7);
      break;
    case 6: // past the largest datagram
      pieces.push({ off: 65528 - 8 * rng.int(4), len: 16 + 8 * rng.int(4), mf: rng.chance(0.5) });
      break;
    case 7: // shuffled
      for (let i = pieces.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [pieces[i], pieces[j]] = [pieces[j], pieces[i]];
      }
      break;
    default: // in order
  }
  return pieces;
}

/**
 * A datagram (ICMP echo, UDP or unknown) given whole checksums, then cut into
 * fragments by a spoilt plan; each fragment may be mutated a little.
 * `id` is the Identification shared by the pieces.
 */
export function ip4Fragments(rng: FuzzRng, t: FuzzTarget, id: number): FrameBuilder[] {
  const whole = new FrameBuilder();
  ethernet(rng, t, whole, 0x0800);
  const proto = rng.pick([1, 1, 1, 17, 253]);
  const at = ip4Header(rng, t, whole, proto, { dst: rng.chance(0.9) ? t.our4 : undefined });
  if (proto === 1) {
    whole.u8(8).u8(0).u16(0).u16(0x4242).u16(id);
  } else whole.u16(9).u16(9).u16(0).u16(0);
  whole.fill(8 + rng.int(rng.chance(0.2) ? 1400 : 200), rng);
  closeIp4(whole, at);
  if (proto === 17) whole.put16(at + (whole.bytes[at] & 15) * 4 + 4, whole.len - at - 20);
  const frame = whole.frame();
  fixChecksums(frame);
  const hlen = (frame[at] & 15) * 4;
  const payload = frame.subarray(at + hlen);
  const out: FrameBuilder[] = [];
  for (const p of fragmentPlan(rng, payload.length)) {
    const f = new FrameBuilder();
    f.raw(frame.subarray(0, at));
    f.u8(frame[at], "len").u8(frame[at + 1]).u16(0, "len").u16(id, "word");
    f.u16((p.mf ? 0x2000 : 0) | ((p.off >> 3) & 0x1fff), "frag");
    f.u8(frame[at + 8], "ttl").u8(frame[at + 9], "proto").u16(0);
    f.raw(frame.subarray(at + 12, at + hlen));
    const piece = payload.subarray(Math.min(p.off, payload.length), p.off + p.len);
    f.raw(piece);
    if (piece.length < p.len) f.fill(p.len - piece.length, rng);
    f.put16(at + 2, f.len - at);
    if (rng.chance(0.05)) mutateFields(rng, f, t.pool, 1);
    out.push(f);
  }
  return out;
}
