/**
 * JIT warm-up: the daemon runs a burst of synthetic traffic through the code
 * real frames take, so that V8 has optimised it before the first real ping.
 *
 * Why: V8 compiles a function only after it has run often enough. At one ping
 * every 10 ms the stack's input path stays interpreted for hundreds of
 * packets, and the stack's own handling of an echo then costs 200-450 µs
 * rather than a few. Methods of the core's classes share their feedback and
 * optimised code across instances, so traffic through a scratch stack warms
 * the daemon's stack too.
 *
 * The rig: a scratch stack R with two interfaces attached by the TAP driver's
 * own code (`attachTunTap`), each on one end of a datagram socket pair rather
 * than a Linux TAP: frames reach R through a real {@linkcode FdReader} and
 * frame ring (SharedArrayBuffer slots, the consumer woken by
 * `Atomics.waitAsync`), and R transmits with the driver's own `write()`. Two
 * more scratch stacks stand for the hosts on either side: L pings R and, with R
 * forwarding, B; both send UDP to a closed port; neighbour caches are flushed
 * now and then so resolution runs again. Their frames go into R's rings; what R
 * writes is read from the other ends of the socket pairs and handed to them.
 * No Worker, no device, no frame leaves the process. Every await yields to the
 * event loop, so the daemon serves meanwhile; the run is bounded in frames and
 * in time, and everything is dropped at the end.
 *
 * @example
 * ```ts ignore
 * const r = await warmUp({ inet6: true });
 * log(`JIT warm-up: ${r.frames} frames in ${r.ms.toFixed(0)} ms`);
 * ```
 * @module
 */

import { type StackConfig } from "../core/config.ts";
import type { AttachedInterface, DriverHost } from "../core/link/driver.ts";
import { IFF } from "../core/link/if_flags.ts";
import { Stack } from "../core/stack.ts";
import { type FrameRing, FrameRingWriter } from "../drivers/io/frame_ring.ts";
import { closeQuietly, libc, SOCK, throwErrno } from "../drivers/io/libc.ts";
import {
  type ReaderLease,
  type ReaderLeaseOptions,
  ReaderPool,
} from "../drivers/io/reader_pool.ts";
import { attachTunTap } from "../drivers/io/tuntap_driver.ts";
import type { TunTapDevice } from "../drivers/io/tuntap.ts";
import { checksum, finishChecksum, pseudoSum6, sumWords } from "../core/wire/checksum.ts";
import { monotonicNow } from "./clock.ts";

/** How a warm-up runs. */
export interface WarmUpOptions {
  /** IPv6 as well (io-pkt-v6-hc), as the daemon's stack. */
  inet6: boolean;
  /** The daemon's `-p tcpip` options, so the scratch stack is configured alike. */
  config?: StackConfig;
  /** Most rounds of traffic (each a handful of frames through R); default 4000. */
  rounds?: number;
  /** Stop after this many milliseconds of wall time; default 200. */
  budgetMs?: number;
}

/** What a warm-up did. */
export interface WarmUpReport {
  /** Rounds run. */
  rounds: number;
  /** Frames the scratch stack R received. */
  frames: number;
  /** Datagrams the host stacks took in (R's echo replies, the echo requests R forwarded). */
  delivered: number;
  /** Wall time, milliseconds. */
  ms: number;
}

const SOCKET_PAIR_RING = "ring=32";
/** Largest frame read back from a socket pair (R's MTU is 1500; headroom for a VLAN tag). */
const READ_MAX = 2048;
/** Turns a round may take to settle before the next is sent. */
const SETTLE_TURNS = 16;

/**
 * Reader threads that start none: each ring is kept for the warm-up to fill,
 * and the consumer side (the driver's {@linkcode FdReader}) runs unchanged.
 */
class ScratchReaderPool extends ReaderPool {
  /** The ring of each descriptor attached, by descriptor. */
  readonly rings = new Map<number, FrameRing>();

  constructor() {
    super(1);
  }

  override attach(fd: number, ring: FrameRing, opts: ReaderLeaseOptions): ReaderLease {
    this.rings.set(fd, ring);
    opts.onReady();
    return { wake() {}, release: () => this.rings.delete(fd) };
  }
}

/** A non-blocking datagram socket pair: [the device's end, the wire's end]. */
function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  const type = SOCK.DGRAM | SOCK.NONBLOCK | SOCK.CLOEXEC;
  if (libc().socketpair(SOCK.AF_UNIX, type, 0, new Uint8Array(fds.buffer)) < 0) {
    throwErrno("socketpair");
  }
  return [fds[0], fds[1]];
}

/** One link of the rig: R's interface on a socket pair, and the host stack on its wire end. */
interface Link {
  /** R's ring for this interface, filled by the host's transmit. */
  ring: FrameRing;
  /** Fills R's ring (the host's transmit, and frames made here). */
  writer: FrameRingWriter;
  /** The wire end of the socket pair: what R writes comes out here. */
  wireFd: number;
  /** The host's interface, fed what R wrote. */
  port: AttachedInterface;
}

const MAC_L = new Uint8Array([2, 0, 0x5e, 0, 0, 0x0a]);
const MAC_B = new Uint8Array([2, 0, 0x5e, 0, 0, 0x0b]);
const HOST_FLAGS = IFF.BROADCAST | IFF.SIMPLEX | IFF.MULTICAST;

/** An ICMP (or ICMPv6) echo request of `dataLen` data bytes; ICMPv6's checksum is filled in later. */
function echoRequest(inet6: boolean, dataLen: number, seq: number): Uint8Array {
  const m = new Uint8Array(8 + dataLen);
  m[0] = inet6 ? 128 : 8;
  m[4] = 0x57; // identifier
  m[6] = seq >> 8;
  m[7] = seq & 0xff;
  for (let i = 8; i < m.length; i++) m[i] = i;
  if (!inet6) {
    const c = checksum(m);
    m[2] = c >> 8;
    m[3] = c & 0xff;
  }
  return m;
}

/** 4 or 16 address bytes from text (the documentation addresses used here only). */
function addrBytes(text: string): Uint8Array {
  if (!text.includes(":")) return Uint8Array.from(text.split("."), Number);
  const [head, tail] = text.split("::");
  const words = (part: string) => (part ? part.split(":").map((w) => parseInt(w, 16)) : []);
  const hw = words(head), tw = words(tail ?? "");
  const all = [...hw, ...new Array(8 - hw.length - tw.length).fill(0), ...tw];
  return Uint8Array.from(all.flatMap((w) => [w >> 8, w & 0xff]));
}

/**
 * An Ethernet frame carrying `payload` in IPv4 or IPv6 from `src` to `dst`
 * (protocol `proto`), checksums filled in (ICMP, ICMPv6, the IPv4 header): a
 * frame as Linux would send it, made once and put into R's ring each round.
 */
function ipFrame(
  macs: [Uint8Array, Uint8Array],
  src: string,
  dst: string,
  proto: number,
  payload: Uint8Array,
): Uint8Array {
  const s = addrBytes(src), d = addrBytes(dst);
  const v6 = s.length === 16;
  const hl = v6 ? 40 : 20;
  const f = new Uint8Array(14 + hl + payload.length);
  f.set(macs[0], 0);
  f.set(macs[1], 6);
  const ip = f.subarray(14);
  if (v6) {
    f.set([0x86, 0xdd], 12);
    ip.set([0x60, 0, 0, 0, payload.length >> 8, payload.length & 0xff, proto, 64]);
    ip.set(s, 8);
    ip.set(d, 24);
  } else {
    f.set([0x08, 0x00], 12);
    const len = hl + payload.length;
    ip.set([0x45, 0, len >> 8, len & 0xff, 0, 1, 0, 0, 64, proto, 0, 0]);
    ip.set(s, 12);
    ip.set(d, 16);
    const c = checksum(ip, 0, 20);
    ip[10] = c >> 8;
    ip[11] = c & 0xff;
  }
  const m = ip.subarray(hl);
  m.set(payload);
  if (proto === 58) {
    const c = finishChecksum(sumWords(m, 0, m.length, pseudoSum6(s, d, 58, m.length)));
    m[2] = c >> 8;
    m[3] = c & 0xff;
  }
  return f;
}

/** A UDP datagram to a closed port, checksum 0 (none, allowed over IPv4). */
function udpToClosedPort(dataLen: number): Uint8Array {
  const m = new Uint8Array(8 + dataLen);
  m.set([0xc0, 0x01, 0x82, 0x9a, (8 + dataLen) >> 8, (8 + dataLen) & 0xff, 0, 0]);
  return m;
}

/** Echo payload sizes: the default ping, tiny, mid, large; every 32nd round one needing fragments. */
const SIZES = [56, 16, 256, 1024, 1400, 56, 100, 64];
const FRAGMENTED = 3000;

/**
 * Frames a Linux peer sends that the rounds do not: an IPv6 router
 * solicitation to all routers and an MLD report (a v4-only stack drops
 * both), and a unicast frame for another host.
 */
function oddFrames(): Uint8Array[] {
  const rs = new Uint8Array(14 + 40 + 8);
  rs.set([0x33, 0x33, 0, 0, 0, 2, ...MAC_L, 0x86, 0xdd]);
  rs.set([0x60, 0, 0, 0, 0, 8, 58, 255], 14);
  const src = rs.subarray(22, 38), dst = rs.subarray(38, 54);
  src.set([0xfe, 0x80], 0);
  src[15] = 1;
  dst.set([0xff, 0x02], 0);
  dst[15] = 2;
  rs[54] = 133;
  const c = finishChecksum(sumWords(rs, 54, 62, pseudoSum6(src, dst, 58, 8)));
  rs[56] = c >> 8;
  rs[57] = c & 0xff;
  const other = new Uint8Array(60);
  other.set([2, 0, 0x5e, 0, 0, 0x77, ...MAC_L, 0x08, 0x00, 0x45]);
  // An MLDv2 report behind a Hop-by-Hop header (Router Alert), as Linux sends on link-up.
  const mld = new Uint8Array(14 + 40 + 8 + 8);
  mld.set([0x33, 0x33, 0, 0, 0, 0x16, ...MAC_L, 0x86, 0xdd]);
  mld.set([0x60, 0, 0, 0, 0, 16, 0, 1], 14);
  mld.set(src, 22);
  mld.set([0xff, 0x02, ...new Array(13).fill(0), 0x16], 38);
  mld.set([58, 0, 5, 2, 0, 0, 1, 0], 54); // next header ICMPv6; Router Alert (MLD); PadN
  mld[62] = 143;
  const mc = finishChecksum(sumWords(mld, 62, 70, pseudoSum6(src, mld.subarray(38, 54), 58, 8)));
  mld[64] = mc >> 8;
  mld[65] = mc & 0xff;
  return [rs, other, mld];
}

/** Puts `frame` into R's ring as if it came from the wire. */
function inject(link: Link, frame: Uint8Array): void {
  const slot = link.writer.slot();
  if (slot === null) return;
  slot.set(frame);
  link.writer.publish(frame.length);
}

/** Runs the warm-up; resolves with what it did. Throws only if the rig cannot be built. */
export async function warmUp(opts: WarmUpOptions): Promise<WarmUpReport> {
  const t0 = performance.now();
  const maxRounds = opts.rounds ?? 4000;
  const budgetMs = opts.budgetMs ?? 200;
  const inet6 = opts.inet6;
  const quiet = () => {};
  const pool = new ScratchReaderPool();
  const stackOpts = { inet6, config: opts.config, log: quiet, clock: monotonicNow };
  const r = new Stack({ ...stackOpts, instance: 0, pid: 0, hostname: "warmup" });
  const l = new Stack(stackOpts), b = new Stack(stackOpts);
  for (const s of [r, l, b]) {
    if (inet6) s.sysctl.set("net.inet6.ip6.dad_count", "0");
  }
  r.sysctl.set("net.inet.ip.forwarding", "1");
  if (inet6) r.sysctl.set("net.inet6.ip6.forwarding", "1");

  const wireFds: number[] = [];
  const links: Link[] = [];
  const kick = new Int32Array(new SharedArrayBuffer(4));
  // A pending Atomics.waitAsync does not keep Deno's event loop alive; a timer does.
  const keepAlive = setTimeout(() => {}, budgetMs + 1000);
  try {
    let lastAttached = "";
    const host: DriverHost = {
      attachInterface: (spec) => {
        const a = r.attachInterface("devnp-tap.so", spec, { prefix: "en" });
        lastAttached = a.name;
        return a;
      },
      log: quiet,
      readerPool: pool,
    };
    /** Attaches a link; its interface names on R and on the host stack. */
    const attachLink = async (hostStack: Stack, mac: Uint8Array): Promise<[string, string]> => {
      const [devFd, wireFd] = socketPair();
      wireFds.push(wireFd);
      const open = (): TunTapDevice => ({ fd: devFd, name: "warmup", created: false });
      await attachTunTap("tap", host, `${SOCKET_PAIR_RING}`, open);
      const ring = pool.rings.get(devFd)!;
      const writer = new FrameRingWriter(ring);
      const port = hostStack.attachInterface("warmup", {
        mtu: 1500,
        lladdr: mac,
        flags: HOST_FLAGS,
        transmit: (frame) => {
          const slot = writer.slot();
          if (slot === null) return false;
          slot.set(frame);
          return writer.publish(frame.length);
        },
      }, { prefix: "en" });
      links.push({ ring, writer, wireFd, port });
      return [lastAttached, port.name];
    };
    // What the control path will do to the daemon's own objects (detach closes a device, ifconfig
    // adds and removes addresses and routes) is done once here, before any code is optimised:
    // V8 treats a field as constant until some object of its shape changes it, and code relying
    // on that is thrown away when one does.
    const [rScratch, bScratch] = await attachLink(b, MAC_B);
    r.addAddress(rScratch, { family: "inet", addr: "203.0.113.2", netmask: "255.255.255.0" });
    r.addRoute({ family: "inet", dst: "203.0.113.128", prefixlen: 25, gateway: "203.0.113.1" });
    r.deleteRoute("inet", "203.0.113.128", 25);
    r.deleteAddress(rScratch, "inet", "203.0.113.2");
    r.destroyInterface(rScratch);
    b.destroyInterface(bScratch);
    links.length = 0;
    const [rToL, lPort] = await attachLink(l, MAC_L);
    const [rToB, bPort] = await attachLink(b, MAC_B);

    const addr = (s: Stack, ifname: string, v4: string, v6: string) => {
      s.addAddress(ifname, { family: "inet", addr: v4, netmask: "255.255.255.0" });
      if (inet6) s.addAddress(ifname, { family: "inet6", addr: v6, prefixlen: 64 });
    };
    addr(r, rToL, "192.0.2.2", "2001:db8::2");
    addr(r, rToB, "198.51.100.2", "2001:db8:1::2");
    addr(l, lPort, "192.0.2.1", "2001:db8::1");
    addr(b, bPort, "198.51.100.9", "2001:db8:1::9");
    l.addRoute({ family: "inet", dst: "198.51.100.0", prefixlen: 24, gateway: "192.0.2.2" });
    b.addRoute({ family: "inet", dst: "192.0.2.0", prefixlen: 24, gateway: "198.51.100.2" });
    if (inet6) {
      l.addRoute({ family: "inet6", dst: "2001:db8:1::", prefixlen: 64, gateway: "2001:db8::2" });
      b.addRoute({ family: "inet6", dst: "2001:db8::", prefixlen: 64, gateway: "2001:db8:1::2" });
    }

    // Most traffic is frames made once and put into R's rings as Linux would send them (cheap,
    // so the rounds exercise R rather than the senders); the hosts answer R's resolution, reply
    // to what R forwards them, and take in R's replies.
    const macOf = (name: string) =>
      Uint8Array.from(r.ifInfo(name)[0].lladdr!.split(":"), (x) => parseInt(x, 16));
    const fromL: [Uint8Array, Uint8Array] = [macOf(rToL), MAC_L];
    const fromB: [Uint8Array, Uint8Array] = [macOf(rToB), MAC_B];
    const echo = (macs: [Uint8Array, Uint8Array], src: string, dst: string, v6: boolean) =>
      SIZES.map((n, i) => ipFrame(macs, src, dst, v6 ? 58 : 1, echoRequest(v6, n, i)));
    const lToR4 = echo(fromL, "192.0.2.1", "192.0.2.2", false);
    const lToB4 = echo(fromL, "192.0.2.1", "198.51.100.9", false);
    const bToR4 = echo(fromB, "198.51.100.9", "192.0.2.2", false);
    const lToR6 = echo(fromL, "2001:db8::1", "2001:db8::2", true);
    const lToB6 = echo(fromL, "2001:db8::1", "2001:db8:1::9", true);
    const bToR6 = echo(fromB, "2001:db8:1::9", "2001:db8::2", true);
    const udp = ipFrame(fromL, "192.0.2.1", "192.0.2.2", 17, udpToClosedPort(32));
    // Echoes needing fragments are sent by L's stack, which fragments them.
    const icmpL = l.openRawSocket("inet", 1, quiet);
    const icmp6L = inet6 ? l.openRawSocket("inet6", 58, quiet) : -1;
    const big4 = echoRequest(false, FRAGMENTED, 99), big6 = echoRequest(true, FRAGMENTED, 99);
    const odd = oddFrames();
    const none = {};
    const [toL, toB] = links;
    // For a while, a raw socket on R puts a frame into R's ring while R drains it: the reader then
    // finds HEAD moved when it goes to wait (as when a Worker publishes mid-batch) and drains again.
    let midBatch = false;
    let rawR = r.openRawSocket("inet", 1, () => {
      if (!midBatch) return;
      midBatch = false;
      inject(toL, odd[1]);
    });
    const delivered = () =>
      [l, b].reduce(
        (sum, s) => sum + s.stats.ip.delivered + (inet6 ? s.stats.ip6.delivered : 0),
        0,
      );

    const readBuf = new Uint8Array(READ_MAX);
    /** Hands what R wrote to the hosts; returns how many frames moved. */
    const pumpWires = (): number => {
      let moved = 0;
      for (const link of links) {
        for (let i = 0; i < 64; i++) {
          const n = libc().read(link.wireFd, readBuf, READ_MAX);
          if (n <= 0) break;
          link.port.receive(readBuf.subarray(0, n));
          moved++;
        }
      }
      return moved;
    };
    const pending = () => links.reduce((sum, k) => sum + k.ring.pending, 0);
    /** One event-loop turn: R's frame reader runs (its wait on the ring resolved). */
    const nextTurn = (): Promise<unknown> => {
      const w = Atomics.waitAsync(kick, 0, 0);
      Atomics.notify(kick, 0);
      return w.async ? w.value : Promise.resolve();
    };

    let round = 0;
    for (; round < maxRounds; round++) {
      // The budget is checked every 16 rounds from the 16th: a loaded machine that spent it all on
      // building the stacks still warms up a little (and a test of the bound is not a race).
      if (round > 0 && (round & 15) === 0 && performance.now() - t0 > budgetMs) break;
      const size = round & 7;
      inject(toL, lToR4[size]);
      inject(toL, lToB4[(size + 3) & 7]);
      inject(toB, bToR4[(size + 5) & 7]);
      if (inet6) {
        inject(toL, lToR6[size]);
        inject(toL, lToB6[(size + 3) & 7]);
        inject(toB, bToR6[(size + 5) & 7]);
      }
      if ((round & 3) === 0) inject(toL, udp);
      midBatch = (round & 3) === 1;
      if (round === 30 && rawR >= 0) {
        r.closeRawSocket(rawR); // and the daemon's usual case: no raw socket open
        rawR = -1;
      }
      if ((round & 31) === 7) {
        l.sendRaw(icmpL, "198.51.100.9", big4, none);
        if (inet6) l.sendRaw(icmp6L, "2001:db8:1::9", big6, none);
      }
      if ((round & 15) === 9) { for (const f of odd) inject(toL, f); }
      // The rare events come early (a loaded machine may allow few rounds), then now and then.
      const rare = (round & 127) === 20 || round === 40;
      if (rare) {
        // A frame on a down interface is counted and dropped.
        r.setFlags(rToL, 0, IFF.UP);
        inject(toL, odd[1]);
        await nextTurn();
        r.setFlags(rToL, IFF.UP, 0);
        // Resolution again (ARP, neighbour solicitations), as when Linux's entries go stale.
        for (const s of [l, r, b]) {
          s.neighborFlush("inet");
          if (inet6) s.neighborFlush("inet6");
        }
      }
      for (let turn = 0; turn < SETTLE_TURNS; turn++) {
        await nextTurn();
        if (pumpWires() === 0 && pending() === 0) break;
      }
      if ((round & 63) === 0) { for (const s of [l, r, b]) s.poll(); }
    }
    const frames = r.ifInfo().reduce(
      (sum, i) => sum + (i.name === "lo0" ? 0 : i.stats.ipackets),
      0,
    );
    return { rounds: round, frames, delivered: delivered(), ms: performance.now() - t0 };
  } finally {
    clearTimeout(keepAlive);
    for (const name of r.interfaceNames()) {
      if (name !== "lo0") r.destroyInterface(name); // stops its reader, closes the device end
    }
    for (const fd of wireFds) closeQuietly(fd);
  }
}
