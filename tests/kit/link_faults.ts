/**
 * A faulty point-to-point Ethernet link between two full stacks in one
 * process, in virtual time: per direction a bandwidth (serialisation), a
 * propagation delay, a drop-tail queue limit, seeded random loss, reordering
 * (a frame held back by N ms or N frames), duplication, and counters of each.
 * Deterministic given the seed (the stacks' TCP and UDP random draws are
 * seeded from it too); built for bulk TCP (tens of MB at 1 Gbit/s):
 * frames are copied once into a ring per direction (the stack only lends a
 * frame for the `transmit` call) and handed to the receiver from there, with
 * no allocation per frame.
 *
 * The model of one direction ({@linkcode Pipe}), for a frame of L bytes
 * offered at time t:
 * 1. loss: with probability `loss` the frame is dropped on entry (it uses no
 *    bandwidth);
 * 2. queue: the bytes offered and not yet fully serialised (the frame being
 *    sent included) may not exceed `queueBytes`; if they would, the frame is
 *    dropped (drop-tail);
 * 3. serialisation: the frame starts when the line is free (max(t, end of
 *    the previous frame)) and takes ceil(L * 1e9 / rate) ns;
 * 4. propagation: it arrives `delayMs` after its last byte left;
 * 5. at arrival, with probability `reorder` it is held back: delivered
 *    `reorderDelayMs` later, or after `reorderPackets` later frames of the
 *    same direction have arrived (at most one second later), so later frames
 *    overtake it; with probability `duplicate` it is delivered twice.
 * That applies to TCP and UDP frames; the others (ARP, ICMP, ND, IGMP, MLD)
 * only take the delay, so that the stacks' randomly timed control traffic
 * neither shifts the data frames nor draws from the fault stream: a run
 * repeats exactly whatever the stacks draw (`faultsOn: "all"` to change it).
 * Time runs in integer nanoseconds, so the arithmetic is exact; the stacks
 * see milliseconds (`ns / 1e6`).
 *
 * @example A 10 ms RTT, 1 Gbit/s link with 1 % loss one way
 * ```ts
 * const link = new FaultyLink({ seed: 7, both: { rate: 125e6, delayMs: 5 }, ab: { loss: 0.01 } });
 * const rx = link.b.openUdp(4);
 * rx.bind("192.0.2.2", 9);
 * link.a.openUdp(4).sendTo(new Uint8Array(100), "192.0.2.2", 9);
 * link.run(link.now + 20);
 * console.log(link.ab.counters.delivered + link.ab.counters.lost); // 1
 * ```
 * @module
 */

import { Stack, stackCore } from "../../core/stack.ts";
import { DEFAULT_STACK_CONFIG, type StackConfig } from "../../core/config.ts";
import { IFF } from "../../core/link/if_flags.ts";
import type { NetInterface } from "../../core/link/interface.ts";
import type { StackCore } from "../../core/stack_core.ts";
import { PacketPool } from "../../core/buf/packet_pool.ts";
import { mulberry32 } from "./bytes.ts";

PacketPool.checkedByDefault = true; // stacks here catch double frees and uses after free

/** The faults and limits of one direction. Absent fields: a perfect, infinitely fast wire. */
export interface PipeOptions {
  /** Line rate in bytes per second; 0 or absent: no serialisation time. */
  rate?: number;
  /** One-way propagation delay (ms). */
  delayMs?: number;
  /** Drop-tail limit on bytes offered and not yet serialised (absent: unlimited). */
  queueBytes?: number;
  /** Probability that a frame is lost (0 to 1). */
  loss?: number;
  /** Probability that a frame is delivered twice. */
  duplicate?: number;
  /** Probability that a frame is held back so that later ones overtake it. */
  reorder?: number;
  /** How long a held frame waits (ms); used when `reorderPackets` is 0 (default 1 ms). */
  reorderDelayMs?: number;
  /** A held frame waits until this many later frames arrived (0: use `reorderDelayMs`). */
  reorderPackets?: number;
  /**
   * Which frames the queue, the rate and the faults apply to: "transport"
   * (default) only TCP and UDP over IPv4/IPv6; the rest (ARP, ICMP, ND, IGMP,
   * MLD) only takes the delay. Those come at times the stacks draw at
   * random (report delays, reachable times): were they queued, or did they
   * draw from the fault stream, a run would not repeat. "all": every frame.
   */
  faultsOn?: "transport" | "all";
}

/** What one direction did. */
export interface PipeCounters {
  /** Frames and bytes the sender put on the link. */
  offered: number;
  offeredBytes: number;
  /** Frames (and bytes) handed to the receiver, duplicates included. */
  delivered: number;
  deliveredBytes: number;
  /** Frames dropped by random loss. */
  lost: number;
  /** Frames dropped because the queue was full. */
  queueDrops: number;
  /** Extra copies delivered. */
  duplicated: number;
  /** Frames held back (reordered). */
  reordered: number;
  /** Most bytes waiting for serialisation at once. */
  maxQueueBytes: number;
  /** Frames outside `faultsOn` passed with the delay only (not in the counts above). */
  control: number;
}

function zeroCounters(): PipeCounters {
  return {
    offered: 0,
    offeredBytes: 0,
    delivered: 0,
    deliveredBytes: 0,
    lost: 0,
    queueDrops: 0,
    duplicated: 0,
    reordered: 0,
    maxQueueBytes: 0,
    control: 0,
  };
}

/** Where a pipe hands its frames: `bytes[offset, offset + length)`, borrowed for the call. */
export type FrameSink = (bytes: Uint8Array, offset: number, length: number) => void;

/** A frame held back for reordering: its own buffer, reused. */
interface Held {
  bytes: Uint8Array;
  length: number;
  releaseNs: number;
  /** Later arrivals still to let pass (packet mode). */
  waitFrames: number;
  /** A frame outside `faultsOn`: handed over as is, not counted. */
  control: boolean;
}

/** Longest a frame waits in packet mode when no later frames come. */
const HOLD_MAX_NS = 1_000_000_000;

/** One direction of a link: a FIFO ring of frames in flight, in integer nanoseconds. */
export class Pipe {
  counters: PipeCounters = zeroCounters();
  #opts: Required<PipeOptions> = fill({});
  #random: () => number;
  #slotSize: number;
  #slots = 0;
  #data = new Uint8Array(0);
  #len = new Int32Array(0);
  #finish = new Float64Array(0);
  #arrive = new Float64Array(0);
  /** Oldest frame not yet arrived, oldest not yet serialised, next free slot (monotonic counters). */
  #head = 0;
  #serialHead = 0;
  #tail = 0;
  #queuedBytes = 0;
  #lineFreeNs = 0;
  readonly #held: Held[] = [];
  readonly #spare: Held[] = [];

  /** `maxFrame`: the largest frame offered (bytes); `seed`: this direction's random stream. */
  constructor(opts: PipeOptions, seed: number, maxFrame = 1518) {
    this.#slotSize = (maxFrame + 63) & ~63;
    this.#random = mulberry32(seed);
    this.set(opts);
    this.#grow(1024);
  }

  /** Changes the faults and limits from now on (frames in flight keep their times). */
  set(opts: PipeOptions): void {
    this.#opts = fill(opts);
  }

  /** The current settings. */
  get options(): Readonly<Required<PipeOptions>> {
    return this.#opts;
  }

  /** Frames in flight (queued, on the wire, or held back). */
  get inFlight(): number {
    return this.#tail - this.#head + this.#held.length;
  }

  /** Bytes waiting for serialisation at `nowNs` (the frame being sent included). */
  queuedBytes(nowNs: number): number {
    this.#advanceSerial(nowNs);
    return this.#queuedBytes;
  }

  /** Offers the frame `bytes[offset, offset + length)` at `nowNs`; copied unless dropped. */
  offer(bytes: Uint8Array, offset: number, length: number, nowNs: number): void {
    const c = this.counters, o = this.#opts;
    if (o.faultsOn === "transport" && !isTransport(bytes, offset, length)) {
      c.control++;
      const h = this.#spareHeld();
      copyInto(h.bytes, bytes, offset, length);
      h.length = length;
      h.releaseNs = nowNs + Math.round(o.delayMs * 1e6);
      h.waitFrames = Infinity;
      h.control = true;
      this.#held.push(h);
      return;
    }
    c.offered++;
    c.offeredBytes += length;
    if (length > this.#slotSize) {
      throw new RangeError(`frame of ${length} bytes exceeds the link's slots`);
    }
    if (o.loss > 0 && this.#random() < o.loss) {
      c.lost++;
      return;
    }
    this.#advanceSerial(nowNs);
    if (this.#queuedBytes + length > o.queueBytes) {
      c.queueDrops++;
      return;
    }
    if (this.#tail - this.#head === this.#slots) this.#grow(this.#slots * 2);
    const slot = this.#tail % this.#slots;
    this.#tail++;
    const at = slot * this.#slotSize;
    if (length <= 64) { for (let i = 0; i < length; i++) this.#data[at + i] = bytes[offset + i]; }
    else this.#data.set(bytes.subarray(offset, offset + length), at);
    this.#len[slot] = length;
    const start = this.#lineFreeNs > nowNs ? this.#lineFreeNs : nowNs;
    const finish = o.rate > 0 ? start + Math.ceil(length * 1e9 / o.rate) : start;
    this.#lineFreeNs = finish;
    this.#finish[slot] = finish;
    this.#arrive[slot] = finish + Math.round(o.delayMs * 1e6);
    this.#queuedBytes += length;
    if (this.#queuedBytes > c.maxQueueBytes) c.maxQueueBytes = this.#queuedBytes;
    this.#advanceSerial(nowNs);
  }

  /** When the next frame arrives (ns), or Infinity. */
  nextDue(): number {
    let due = this.#head < this.#tail ? this.#arrive[this.#head % this.#slots] : Infinity;
    for (const h of this.#held) if (h.releaseNs < due) due = h.releaseNs;
    return due;
  }

  /** Hands every frame due at or before `nowNs` to `sink`, in order; returns how many. */
  deliver(nowNs: number, sink: FrameSink): number {
    let n = 0;
    for (;;) {
      // Held frames due before the next ring frame go first.
      const ringDue = this.#head < this.#tail ? this.#arrive[this.#head % this.#slots] : Infinity;
      const held = this.#dueHeld(ringDue < nowNs ? ringDue : nowNs);
      if (held >= 0) {
        const h = this.#held[held];
        this.#held.splice(held, 1);
        this.#spare.push(h);
        if (h.control) sink(h.bytes, 0, h.length);
        else n += this.#hand(h.bytes, 0, h.length, sink);
        continue;
      }
      if (ringDue > nowNs) return n;
      const slot = this.#head % this.#slots;
      this.#head++;
      if (this.#serialHead < this.#head) {
        this.#queuedBytes -= this.#len[slot];
        this.#serialHead = this.#head;
      }
      const at = slot * this.#slotSize, length = this.#len[slot];
      const o = this.#opts;
      for (const h of this.#held) h.waitFrames--; // Infinity stays Infinity
      if (o.reorder > 0 && this.#random() < o.reorder) {
        this.counters.reordered++;
        this.#hold(at, length, ringDue);
        continue;
      }
      n += this.#hand(this.#data, at, length, sink);
    }
  }

  #hand(bytes: Uint8Array, at: number, length: number, sink: FrameSink): number {
    const c = this.counters;
    const twice = this.#opts.duplicate > 0 && this.#random() < this.#opts.duplicate;
    c.delivered++;
    c.deliveredBytes += length;
    sink(bytes, at, length);
    if (!twice) return 1;
    c.duplicated++;
    c.delivered++;
    c.deliveredBytes += length;
    sink(bytes, at, length);
    return 2;
  }

  #hold(at: number, length: number, arrivedNs: number): void {
    const o = this.#opts;
    const h = this.#spareHeld();
    copyInto(h.bytes, this.#data, at, length);
    h.length = length;
    h.control = false;
    if (o.reorderPackets > 0) {
      h.waitFrames = o.reorderPackets;
      h.releaseNs = arrivedNs +
        (o.reorderDelayMs > 0 ? Math.round(o.reorderDelayMs * 1e6) : HOLD_MAX_NS);
    } else {
      h.waitFrames = Infinity;
      h.releaseNs = arrivedNs + Math.round(o.reorderDelayMs * 1e6);
    }
    this.#held.push(h);
  }

  #spareHeld(): Held {
    return this.#spare.pop() ??
      {
        bytes: new Uint8Array(this.#slotSize),
        length: 0,
        releaseNs: 0,
        waitFrames: 0,
        control: false,
      };
  }

  /** Index of the held frame to release first at `nowNs` (released by time or by frames passed), or -1. */
  #dueHeld(nowNs: number): number {
    let best = -1;
    for (let i = 0; i < this.#held.length; i++) {
      const h = this.#held[i];
      if (h.waitFrames <= 0 || h.releaseNs <= nowNs) {
        if (best < 0 || h.releaseNs < this.#held[best].releaseNs) best = i;
      }
    }
    return best;
  }

  /** Frames whose last byte has left by `nowNs` no longer count as queued. */
  #advanceSerial(nowNs: number): void {
    while (this.#serialHead < this.#tail) {
      const slot = this.#serialHead % this.#slots;
      if (this.#finish[slot] > nowNs) break;
      this.#queuedBytes -= this.#len[slot];
      this.#serialHead++;
    }
    if (this.#serialHead < this.#head) this.#serialHead = this.#head;
  }

  #grow(slots: number): void {
    const data = new Uint8Array(slots * this.#slotSize);
    const len = new Int32Array(slots), finish = new Float64Array(slots);
    const arrive = new Float64Array(slots);
    for (let i = this.#head; i < this.#tail; i++) {
      const from = i % this.#slots, to = i % slots;
      data.set(
        this.#data.subarray(from * this.#slotSize, (from + 1) * this.#slotSize),
        to * this.#slotSize,
      );
      len[to] = this.#len[from];
      finish[to] = this.#finish[from];
      arrive[to] = this.#arrive[from];
    }
    this.#data = data;
    this.#len = len;
    this.#finish = finish;
    this.#arrive = arrive;
    this.#slots = slots;
  }
}

/** Whether an Ethernet frame carries TCP or UDP (or an IPv6 fragment) over IPv4 or IPv6. */
function isTransport(b: Uint8Array, at: number, length: number): boolean {
  if (length < 14 + 20) return false;
  const type = (b[at + 12] << 8) | b[at + 13];
  if (type === 0x0800) {
    const proto = b[at + 14 + 9];
    return proto === 6 || proto === 17;
  }
  if (type === 0x86dd && length >= 14 + 40) {
    const next = b[at + 14 + 6];
    return next === 6 || next === 17 || next === 44;
  }
  return false;
}

function copyInto(to: Uint8Array, from: Uint8Array, at: number, length: number): void {
  if (length <= 64) { for (let i = 0; i < length; i++) to[i] = from[at + i]; }
  else to.set(from.subarray(at, at + length));
}

/** Replaces a stack's replaceable random sources (TCP, UDP) with seeded ones. */
export function seedStack(core: StackCore, seed: number): void {
  core.tcp.protocol.random = mulberry32(seed >>> 0);
  core.udp.random = mulberry32((seed ^ 0x5bd1e995) >>> 0);
}

function fill(o: PipeOptions): Required<PipeOptions> {
  return {
    rate: o.rate ?? 0,
    delayMs: o.delayMs ?? 0,
    queueBytes: o.queueBytes ?? Infinity,
    loss: o.loss ?? 0,
    duplicate: o.duplicate ?? 0,
    reorder: o.reorder ?? 0,
    reorderDelayMs: o.reorderDelayMs ?? (o.reorderPackets ? 0 : 1),
    reorderPackets: o.reorderPackets ?? 0,
    faultsOn: o.faultsOn ?? "transport",
  };
}

/** Options of a {@linkcode FaultyLink}. */
export interface FaultyLinkOptions {
  /** Seed of the random streams (default 1); each direction draws from its own. */
  seed?: number;
  /** Faults of both directions, */
  both?: PipeOptions;
  /** then of a→b and b→a on top. Applied after the set-up (addresses, DAD, neighbours). */
  ab?: PipeOptions;
  ba?: PipeOptions;
  /** `-p tcpip` options of each stack. */
  configA?: Partial<StackConfig>;
  configB?: Partial<StackConfig>;
  /** MTU of both interfaces (default 1500). */
  mtu?: number;
}

/** Loop bound for `run`. */
const STEP_LIMIT = 50_000_000;

/**
 * Two stacks, `a` (192.0.2.1, 2001:db8::1) and `b` (192.0.2.2, 2001:db8::2),
 * on en0 each, joined by two {@linkcode Pipe}s. Made ready: addresses up,
 * DAD done, both neighbour caches filled, counters zero, then the faults on.
 */
export class FaultyLink {
  readonly a: Stack;
  readonly b: Stack;
  /** The a→b and b→a directions. */
  readonly ab: Pipe;
  readonly ba: Pipe;
  /** Frames handed over in either direction since the link was made (set-up included). */
  frames = 0;
  #nowNs = 0;
  readonly #coreA: StackCore;
  readonly #coreB: StackCore;
  readonly #ifA: NetInterface;
  readonly #ifB: NetInterface;
  readonly #toA: FrameSink;
  readonly #toB: FrameSink;

  constructor(opts: FaultyLinkOptions = {}) {
    const seed = opts.seed ?? 1;
    const mtu = opts.mtu ?? 1500;
    const clock = () => this.#nowNs / 1e6;
    this.a = new Stack({
      inet6: true,
      clock,
      config: { ...DEFAULT_STACK_CONFIG, ...opts.configA },
    });
    this.b = new Stack({
      inet6: true,
      clock,
      config: { ...DEFAULT_STACK_CONFIG, ...opts.configB },
    });
    this.ab = new Pipe({}, (seed * 2 + 1) >>> 0, mtu + 18);
    this.ba = new Pipe({}, (seed * 2 + 2) >>> 0, mtu + 18);
    const attach = (s: Stack, mac: number, out: Pipe) =>
      s.attachInterface("sim", {
        mtu,
        lladdr: new Uint8Array([2, 0, 0, 0, 0, mac]),
        flags: IFF.BROADCAST | IFF.SIMPLEX | IFF.MULTICAST,
        transmit: (frame) => out.offer(frame, 0, frame.length, this.#nowNs),
        transmitAt: (bytes, offset, length) => out.offer(bytes, offset, length, this.#nowNs),
      }, { prefix: "en" });
    const portA = attach(this.a, 1, this.ab), portB = attach(this.b, 2, this.ba);
    this.#coreA = stackCore(this.a);
    this.#coreB = stackCore(this.b);
    this.#ifA = this.#coreA.interface(portA.name);
    this.#ifB = this.#coreB.interface(portB.name);
    this.#toA = (bytes, offset, length) => {
      this.frames++;
      this.#coreA.receive(this.#ifA, bytes, offset, length);
    };
    this.#toB = (bytes, offset, length) => {
      this.frames++;
      this.#coreB.receive(this.#ifB, bytes, offset, length);
    };
    // The stacks' own draws (ISS, timestamp offsets, ephemeral ports) from the seed too:
    // a run then repeats exactly even where the engine's behaviour depends on them.
    seedStack(this.#coreA, seed * 4 + 3);
    seedStack(this.#coreB, seed * 4 + 4);
    this.#setUp();
    this.ab.set({ ...opts.both, ...opts.ab });
    this.ba.set({ ...opts.both, ...opts.ba });
  }

  /** Virtual time in ms (what the stacks' clocks read). */
  get now(): number {
    return this.#nowNs / 1e6;
  }

  /** Virtual time in ns. */
  get nowNs(): number {
    return this.#nowNs;
  }

  /** Runs frames and timers up to `untilMs`; time then reads `untilMs`. */
  run(untilMs: number): void {
    this.#run(Math.round(untilMs * 1e6), null);
  }

  /**
   * Runs until `done()` holds (checked after every event) or `limitMs`
   * passes; returns whether it held. Time stays at the event that made it hold.
   */
  runUntil(done: () => boolean, limitMs: number): boolean {
    return this.#run(Math.round(limitMs * 1e6), done);
  }

  #run(untilNs: number, done: (() => boolean) | null): boolean {
    if (untilNs < this.#nowNs) throw new Error("cannot go back in time");
    for (let step = 0; step < STEP_LIMIT; step++) {
      const now = this.#nowNs;
      this.ab.deliver(now, this.#toB);
      this.ba.deliver(now, this.#toA);
      const ta = this.a.nextTimeout(), tb = this.b.nextTimeout();
      if (ta !== null && ta <= now / 1e6) this.a.poll(now / 1e6);
      if (tb !== null && tb <= now / 1e6) this.b.poll(now / 1e6);
      if (done !== null && done()) return true;
      let next = this.ab.nextDue();
      const n2 = this.ba.nextDue();
      if (n2 < next) next = n2;
      const sa = this.#deadlineNs(this.a), sb = this.#deadlineNs(this.b);
      if (sa < next) next = sa;
      if (sb < next) next = sb;
      if (next <= now) continue;
      if (next > untilNs) {
        this.#nowNs = untilNs;
        return false;
      }
      this.#nowNs = next;
    }
    throw new Error("link did not settle (step limit)");
  }

  /** A stack's next deadline in ns, rounded up so that the stack sees it due. */
  #deadlineNs(s: Stack): number {
    const d = s.nextTimeout();
    if (d === null) return Infinity;
    let ns = Math.ceil(d * 1e6);
    if (ns / 1e6 < d) ns++;
    return ns;
  }

  #setUp(): void {
    for (const [s, n] of [[this.a, 1], [this.b, 2]] as const) {
      s.setFlags("en0", IFF.UP, 0);
      s.addAddress("en0", { family: "inet", addr: `192.0.2.${n}`, netmask: "255.255.255.0" });
      s.addAddress("en0", { family: "inet6", addr: `2001:db8::${n}`, prefixlen: 64 });
    }
    this.run(3000); // DAD
    // One datagram each way and family fills both neighbour caches.
    for (
      const [from, to4, to6] of [[this.a, "192.0.2.2", "2001:db8::2"], [
        this.b,
        "192.0.2.1",
        "2001:db8::1",
      ]] as const
    ) {
      const u4 = from.openUdp(4), u6 = from.openUdp(6);
      u4.sendTo(new Uint8Array(1), to4, 9);
      u6.sendTo(new Uint8Array(1), to6, 9);
      this.run(this.now + 10);
      u4.close();
      u6.close();
    }
    this.ab.counters = zeroCounters();
    this.ba.counters = zeroCounters();
  }
}
