/**
 * A scripted TCP peer (gVisor's `transport/tcp/testing/context`, smoltcp's
 * `send!`/`recv!`): one {@linkcode Stack} under test on a virtual Ethernet
 * link whose far end is no stack at all, but the test script. The script
 * builds segments field by field ({@linkcode TcpScript.send}), injects them at
 * virtual times, and asserts what the stack sends back
 * ({@linkcode TcpScript.expect}, {@linkcode TcpScript.expectNone}), advancing
 * virtual time through the stack's own timers (`nextTimeout` / `poll`).
 *
 * The peer answers the stack's ARP requests and Neighbor Solicitations for
 * its address by itself, and IGMP, MLD and router solicitations are set
 * aside, so a script sees only TCP (or, with `see: "ip"`, every other IP
 * packet too: ICMP errors, UDP).
 *
 * Time is in milliseconds, starting at 0 when the context is made. The stack
 * is 192.0.2.1 (or 2001:db8::1, DAD off), the peer 192.0.2.2 (2001:db8::2).
 *
 * @example A handshake, once the engine has landed
 * ```ts
 * const ctx = new TcpScript({ family: 4 });
 * const listener = ctx.stack.openTcp(4);
 * listener.bind("0.0.0.0", 80);
 * listener.listen(8);
 * ctx.send({ flags: "S", seq: 1000, window: 65535, options: { mss: 1460, wscale: 7, sackPermitted: true } });
 * const synAck = ctx.expect(tcp(flags("SA"), ack(1001), mss(1460), wscale(7), sackPermitted()));
 * ctx.send({ flags: "A", seq: 1001, ack: synAck.tcp!.seq + 1, at: 10 });
 * ctx.expectNone(200);
 * ```
 * @module
 */

import { Stack, stackCore } from "../../core/stack.ts";
import { seedStack } from "./link_faults.ts";
import { DEFAULT_STACK_CONFIG, type StackConfig } from "../../core/config.ts";
import { IFF } from "../../core/link/if_flags.ts";
import type { AttachedInterface } from "../../core/link/driver.ts";
import { PacketPool } from "../../core/buf/packet_pool.ts";
import { emitEthernet, ETHER_HEADER_LEN, ETHERTYPE } from "../../core/wire/ethernet.ts";
import { ARP_OP, ArpView, emitArp } from "../../core/wire/arp.ts";
import { emitIpv4Header, IPPROTO, IPV4_HEADER_LEN } from "../../core/wire/ipv4.ts";
import { emitIpv6Header, IPV6_HEADER_LEN } from "../../core/wire/ipv6.ts";
import { fillIcmp6Checksum, ICMP6_TYPE, IPPROTO_ICMPV6 } from "../../core/wire/icmpv6.ts";
import { emitNdLinkAddrOpt, emitNeighborAdvert, ND_NA_FLAG, ND_OPT } from "../../core/wire/ndp.ts";
import { finishChecksum, pseudoSum4, pseudoSum6, sumWords } from "../../core/wire/checksum.ts";
import { writeU16 } from "../../core/wire/bytes.ts";
import { emitTcpHeader, TCP_FLAG, TcpOptions, TcpView } from "../../core/wire/tcp.ts";
import { parseIp4, parseIp6 } from "../../core/net/ip_addr.ts";
import {
  type Checker,
  type DecodedPacket,
  decodeIpPacket,
  formatPacket,
  parseFlags,
  runChecks,
} from "./tcp_check.ts";

PacketPool.checkedByDefault = true; // the stack under test catches double frees and uses after free

/** Options of a {@linkcode TcpScript}. */
export interface ScriptOptions {
  /** The family of the link's addresses and of `send` (default 4). */
  family?: 4 | 6;
  /** `-p tcpip` options of the stack under test. */
  config?: Partial<StackConfig>;
  /** The link's MTU (default 1500). */
  mtu?: number;
  /** What `expect` sees: TCP segments only (default), or every IP packet but ND/MLD/IGMP. */
  see?: "tcp" | "ip";
  /** Seed of the stack's TCP and UDP random draws (ISS, ports; default 1). */
  seed?: number;
  /** Default port of the stack (80) and of the peer (40000) in `send`. */
  stackPort?: number;
  peerPort?: number;
}

/** TCP options for {@linkcode SendSpec}, by name. */
export interface OptionSpec {
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  /** `[tsVal, tsEcr]`. */
  timestamps?: [number, number];
  /** SACK blocks `[left, right]` (up to 4; 3 fit beside timestamps). */
  sack?: [number, number][];
}

/** One segment the peer sends. */
export interface SendSpec {
  /** Letters (`"S"`, `"SA"`, `"FA"`, `"R"`, `"PA"`; see `parseFlags`) or `TCP_FLAG` bits. */
  flags: string | number;
  seq: number;
  /** 0 when absent. */
  ack?: number;
  /** Window field as sent (default 65535). */
  window?: number;
  /** Options by name, a ready `TcpOptions`, or raw option bytes (padded to 4 with EOL). */
  options?: OptionSpec | TcpOptions | Uint8Array;
  /** Payload bytes, text, or a length (bytes `i & 0xff`). */
  payload?: Uint8Array | string | number;
  /** Virtual time to send at (default now; never in the past). */
  at?: number;
  srcPort?: number;
  dstPort?: number;
  urgentPointer?: number;
  /** TTL / hop limit (64). */
  ttl?: number;
  /** Spoil the TCP checksum. */
  badChecksum?: boolean;
}

/** How `expect` may be told to wait. */
export interface ExpectOptions {
  /** Advance virtual time up to this time (ms) until something comes out (default: now only). */
  by?: number;
  /** Allow further packets queued at the same instant (default false: exactly one). */
  more?: boolean;
}

const MAC_STACK = new Uint8Array([2, 0, 0, 0, 0, 1]);
const MAC_PEER = new Uint8Array([2, 0, 0, 0, 0, 2]);
/** Loop bound for time advances and the ARP/ND pump. */
const STEP_LIMIT = 1_000_000;

/** A stack under test and a scripted peer on one virtual link. */
export class TcpScript {
  /** The stack under test. */
  readonly stack: Stack;
  readonly family: 4 | 6;
  /** Addresses of the stack and of the peer, as text. */
  readonly stackAddr: string;
  readonly peerAddr: string;
  readonly stackPort: number;
  readonly peerPort: number;
  readonly stackMac: Uint8Array = MAC_STACK;
  readonly peerMac: Uint8Array = MAC_PEER;
  /** The interface's name in the stack (en0). */
  readonly ifName: string;
  /** Packets the stack sent that `expect` has not taken yet, oldest first. */
  readonly seen: DecodedPacket[] = [];
  /** Packets set aside (not what `see` watches, ND, MLD, IGMP, ARP), for inspection. */
  readonly aside: { at: number; what: string }[] = [];
  /** ARP requests and Neighbor Solicitations the peer answered. */
  resolved = 0;
  /** Every frame the stack sent and every frame injected, in order (`dir` "out" from the stack). */
  readonly log: { at: number; dir: "in" | "out"; frame: Uint8Array }[] = [];

  #now = 0;
  readonly #see: "tcp" | "ip";
  readonly #port: AttachedInterface;
  readonly #pending: Uint8Array[] = [];
  readonly #stackIp4: number;
  readonly #peerIp4: number;
  readonly #stackIp6: Uint8Array;
  readonly #peerIp6: Uint8Array;
  #ipId = 1;
  readonly #arp = new ArpView();

  constructor(opts: ScriptOptions = {}) {
    this.family = opts.family ?? 4;
    this.#see = opts.see ?? "tcp";
    this.stackPort = opts.stackPort ?? 80;
    this.peerPort = opts.peerPort ?? 40000;
    const v6 = this.family === 6;
    this.stackAddr = v6 ? "2001:db8::1" : "192.0.2.1";
    this.peerAddr = v6 ? "2001:db8::2" : "192.0.2.2";
    this.#stackIp4 = parseIp4("192.0.2.1")!;
    this.#peerIp4 = parseIp4("192.0.2.2")!;
    this.#stackIp6 = parseIp6("2001:db8::1")!;
    this.#peerIp6 = parseIp6("2001:db8::2")!;
    this.stack = new Stack({
      inet6: v6,
      clock: () => this.#now,
      config: { ...DEFAULT_STACK_CONFIG, ...opts.config },
    });
    this.#port = this.stack.attachInterface("sim", {
      mtu: opts.mtu ?? 1500,
      lladdr: MAC_STACK,
      flags: IFF.BROADCAST | IFF.SIMPLEX | IFF.MULTICAST,
      transmit: (frame) => this.#fromStack(frame),
    }, { prefix: "en" });
    this.ifName = this.#port.name;
    seedStack(stackCore(this.stack), opts.seed ?? 1);
    if (v6) this.stack.sysctl.set("net.inet6.ip6.dad_count", "0");
    this.stack.setFlags(this.ifName, IFF.UP, 0);
    if (v6) {
      this.stack.addAddress(this.ifName, { family: "inet6", addr: "2001:db8::1", prefixlen: 64 });
    } else {
      this.stack.addAddress(this.ifName, {
        family: "inet",
        addr: "192.0.2.1",
        netmask: "255.255.255.0",
      });
    }
    this.#pump();
    // What the interface announced on the way up is no part of any script.
    this.seen.length = 0;
    this.aside.length = 0;
    this.log.length = 0;
  }

  /** The current virtual time (ms). */
  get now(): number {
    return this.#now;
  }

  /** Advances virtual time to `t`, running the stack's timers on the way (what they send queues up). */
  advanceTo(t: number): void {
    if (t < this.#now) throw new Error(`cannot go back in time (now ${this.#now}, asked ${t})`);
    this.#runTo(t, false);
  }

  /** Advances virtual time by `ms`. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /**
   * Sends one TCP segment from the peer to the stack at `spec.at` (default
   * now): Ethernet + IPv4/IPv6 + TCP, checksums right (unless `badChecksum`).
   */
  send(spec: SendSpec): void {
    const opts = spec.options;
    let optBytes = 0;
    let tcpOpts: TcpOptions | null = null;
    if (opts instanceof Uint8Array) optBytes = (opts.length + 3) & ~3;
    else if (opts !== undefined) tcpOpts = opts instanceof TcpOptions ? opts : toTcpOptions(opts);
    const data = payloadBytes(spec.payload);
    // emitTcpHeader tells the options' length once written: size for the most.
    const maxHeader = 60;
    const frame = new Uint8Array(
      ETHER_HEADER_LEN + this.#ipHeaderLen() + maxHeader + data.length,
    );
    const tcpAt = ETHER_HEADER_LEN + this.#ipHeaderLen();
    const headerLen = emitTcpHeader(frame, tcpAt, {
      srcPort: spec.srcPort ?? this.peerPort,
      dstPort: spec.dstPort ?? this.stackPort,
      seq: spec.seq,
      ack: spec.ack ?? 0,
      flags: typeof spec.flags === "string" ? parseFlags(spec.flags) : spec.flags,
      window: spec.window ?? 65535,
      urgentPointer: spec.urgentPointer,
    }, tcpOpts);
    let hlen = headerLen;
    if (opts instanceof Uint8Array) {
      frame.set(opts, tcpAt + 20);
      hlen = 20 + optBytes;
      frame[tcpAt + 12] = (hlen >>> 2) << 4;
    }
    frame.set(data, tcpAt + hlen);
    const tcpLen = hlen + data.length;
    const packet = frame.subarray(0, tcpAt + tcpLen);
    this.#emitIp(packet, IPPROTO.TCP, tcpLen, spec.ttl ?? 64);
    const view = new TcpView();
    view.wrap(packet, tcpAt, tcpLen);
    view.fillChecksum(this.#pseudo(IPPROTO.TCP, tcpLen));
    if (spec.badChecksum) packet[tcpAt + 16] ^= 0x01;
    this.#inject(packet, spec.at);
  }

  /**
   * Sends any IP payload from the peer (a stand-in: UDP, ICMP); `fill`
   * writes its checksum once the IP header is in place, given the bytes,
   * the payload's offset and length, and the pseudo-header sum.
   */
  sendIp(
    protocol: number,
    body: Uint8Array,
    opts: {
      at?: number;
      ttl?: number;
      fill?: (bytes: Uint8Array, at: number, length: number, pseudo: number) => void;
    } = {},
  ): void {
    const at = ETHER_HEADER_LEN + this.#ipHeaderLen();
    const frame = new Uint8Array(at + body.length);
    frame.set(body, at);
    this.#emitIp(frame, protocol, body.length, opts.ttl ?? 64);
    opts.fill?.(frame, at, body.length, this.#pseudo(protocol, body.length));
    this.#inject(frame, opts.at);
  }

  /**
   * Sends an IP packet built by the caller (fragments, odd headers), inside
   * an Ethernet header from the peer to the stack.
   */
  sendPacket(ip: Uint8Array, opts: { at?: number } = {}): void {
    const frame = new Uint8Array(ETHER_HEADER_LEN + ip.length);
    emitEthernet(frame, 0, MAC_STACK, MAC_PEER, ip[0] >> 4 === 6 ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4);
    frame.set(ip, ETHER_HEADER_LEN);
    this.#inject(frame, opts.at);
  }

  /** Sends a UDP datagram from the peer (checksum filled). */
  sendUdp(dstPort: number, data: Uint8Array, opts: { at?: number; srcPort?: number } = {}): void {
    const body = new Uint8Array(8 + data.length);
    writeU16(body, 0, opts.srcPort ?? this.peerPort);
    writeU16(body, 2, dstPort);
    writeU16(body, 4, body.length);
    body.set(data, 8);
    this.sendIp(IPPROTO.UDP, body, {
      at: opts.at,
      fill: (b, off, len, pseudo) => {
        let sum = finishChecksum(sumWords(b, off, off + len, pseudo));
        if (sum === 0) sum = 0xffff;
        writeU16(b, off + 6, sum);
      },
    });
  }

  /**
   * Takes the oldest packet the stack sent and checks it. With `by`, virtual
   * time advances (through the stack's timers) until something comes out or
   * `by` is reached. Unless `more`, exactly one packet must be waiting then.
   * Returns the packet, decoded.
   */
  expect(checker: Checker, opts: ExpectOptions = {}): DecodedPacket {
    const by = opts.by ?? this.#now;
    this.#pump(); // what the program's calls sent may wait on an ARP/ND answer
    if (this.seen.length === 0 && by > this.#now) this.#runTo(by, true);
    const got = this.seen.shift();
    if (got === undefined) {
      throw new Error(
        `expected a ${this.#see === "tcp" ? "segment" : "packet"} by t=${by}, ` +
          `none came${this.#asideText()}`,
      );
    }
    const why = runChecks(got, [checker]);
    if (why !== null) throw new Error(why);
    if (!opts.more && this.seen.length > 0) {
      throw new Error(
        `expected one packet at t=${got.at}, also got: ` +
          this.seen.map(formatPacket).join(" | "),
      );
    }
    return got;
  }

  /**
   * Asserts that nothing waits now and that the stack sends nothing up to
   * `until` (default now); virtual time ends at `until`.
   */
  expectNone(until = this.#now): void {
    this.#pump();
    if (this.seen.length === 0 && until > this.#now) this.#runTo(until, true);
    if (this.seen.length > 0) {
      throw new Error(
        `expected nothing by t=${until}, got: ${this.seen.map(formatPacket).join(" | ")}`,
      );
    }
  }

  // -------------------------------------------------------------------------

  #ipHeaderLen(): number {
    return this.family === 6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN;
  }

  #pseudo(protocol: number, length: number): number {
    return this.family === 6
      ? pseudoSum6(this.#peerIp6, this.#stackIp6, protocol, length)
      : pseudoSum4(this.#peerIp4, this.#stackIp4, protocol, length);
  }

  /** Writes Ethernet and IP headers in front of a body of `length` bytes. */
  #emitIp(frame: Uint8Array, protocol: number, length: number, ttl: number): void {
    const ipAt = ETHER_HEADER_LEN;
    if (this.family === 6) {
      emitEthernet(frame, 0, MAC_STACK, MAC_PEER, ETHERTYPE.IPV6);
      emitIpv6Header(frame, ipAt, this.#peerIp6, this.#stackIp6, protocol, length, ttl);
    } else {
      emitEthernet(frame, 0, MAC_STACK, MAC_PEER, ETHERTYPE.IPV4);
      emitIpv4Header(frame, ipAt, {
        tos: 0,
        totalLength: IPV4_HEADER_LEN + length,
        id: this.#ipId++ & 0xffff,
        df: true,
        mf: false,
        fragOffset: 0,
        ttl,
        protocol,
        src: this.#peerIp4,
        dst: this.#stackIp4,
      });
    }
  }

  #inject(frame: Uint8Array, at?: number): void {
    if (at !== undefined) this.advanceTo(at);
    this.log.push({ at: this.#now, dir: "in", frame });
    this.#port.receive(frame);
    this.#pump();
  }

  /** Runs the stack at the current time and delivers the peer's ARP/ND answers (bounded). */
  #pump(): void {
    this.stack.poll(this.#now);
    for (let i = 0; i < STEP_LIMIT && this.#pending.length > 0; i++) {
      const frame = this.#pending.shift()!;
      this.log.push({ at: this.#now, dir: "in", frame });
      this.#port.receive(frame);
      this.stack.poll(this.#now);
    }
  }

  /** Moves time to `t` through the stack's deadlines; stops early when `stopOnSeen` and a packet came. */
  #runTo(t: number, stopOnSeen: boolean): void {
    for (let i = 0; i < STEP_LIMIT; i++) {
      this.#pump();
      if (stopOnSeen && this.seen.length > 0) return;
      const next = this.stack.nextTimeout();
      if (next === null || next > t) break;
      this.#now = Math.max(this.#now, next);
    }
    this.#now = t;
    this.#pump();
  }

  #fromStack(borrowed: Uint8Array): void {
    const frame = borrowed.slice();
    const at = this.#now;
    this.log.push({ at, dir: "out", frame });
    const type = (frame[12] << 8) | frame[13];
    if (type === ETHERTYPE.ARP) {
      const arp = this.#arp;
      if (
        arp.wrap(frame, ETHER_HEADER_LEN, frame.length - ETHER_HEADER_LEN) === null &&
        arp.op === ARP_OP.REQUEST && arp.tpa === this.#peerIp4
      ) {
        this.#pending.push(this.#arpReply(arp.spa));
        this.resolved++;
      } else {
        this.aside.push({ at, what: "ARP" });
      }
      return;
    }
    if (type !== ETHERTYPE.IPV4 && type !== ETHERTYPE.IPV6) {
      this.aside.push({ at, what: `ethertype 0x${type.toString(16)}` });
      return;
    }
    const p = decodeIpPacket(frame, ETHER_HEADER_LEN, frame.length - ETHER_HEADER_LEN, at);
    if (p === null) {
      this.aside.push({ at, what: "malformed IP" });
      return;
    }
    if (p.family === 6 && p.protocol === IPPROTO_ICMPV6) {
      const icmpType = p.ip[IPV6_HEADER_LEN];
      if (icmpType === ICMP6_TYPE.NEIGHBOR_SOLICIT) {
        const target = p.ip.subarray(IPV6_HEADER_LEN + 8, IPV6_HEADER_LEN + 24);
        if (sameBytes(target, this.#peerIp6)) {
          this.#pending.push(this.#neighborAdvert(p.ip.subarray(8, 24)));
          this.resolved++;
        } else {
          this.aside.push({ at, what: "NS" });
        }
        return;
      }
      if (icmpType >= 130 && icmpType <= 137 || icmpType === ICMP6_TYPE.MLDV2_REPORT) {
        this.aside.push({ at, what: `ICMPv6 type ${icmpType}` });
        return;
      }
    }
    // Hop-by-hop first: MLD; protocol 2: IGMP.
    if ((p.family === 6 && p.protocol === 0) || (p.family === 4 && p.protocol === IPPROTO.IGMP)) {
      this.aside.push({ at, what: formatPacket(p) });
      return;
    }
    if (this.#see === "tcp" && p.tcp === null) {
      this.aside.push({ at, what: formatPacket(p) });
      return;
    }
    this.seen.push(p);
  }

  #arpReply(toIp: number): Uint8Array {
    const frame = new Uint8Array(ETHER_HEADER_LEN + 28);
    emitEthernet(frame, 0, MAC_STACK, MAC_PEER, ETHERTYPE.ARP);
    emitArp(frame, ETHER_HEADER_LEN, {
      op: ARP_OP.REPLY,
      sha: MAC_PEER,
      spa: this.#peerIp4,
      tha: MAC_STACK,
      tpa: toIp,
    });
    return frame;
  }

  /** A solicited Neighbor Advertisement for the peer's address, to `dst` (all-nodes if unspecified). */
  #neighborAdvert(solicitSrc: Uint8Array): Uint8Array {
    const dst = solicitSrc.every((b) => b === 0) ? parseIp6("ff02::1")! : solicitSrc.slice();
    const bodyLen = 24 + 8;
    const frame = new Uint8Array(ETHER_HEADER_LEN + IPV6_HEADER_LEN + bodyLen);
    emitEthernet(frame, 0, MAC_STACK, MAC_PEER, ETHERTYPE.IPV6);
    emitIpv6Header(frame, ETHER_HEADER_LEN, this.#peerIp6, dst, IPPROTO_ICMPV6, bodyLen, 255);
    const at = ETHER_HEADER_LEN + IPV6_HEADER_LEN;
    emitNeighborAdvert(frame, at, ND_NA_FLAG.SOLICITED | ND_NA_FLAG.OVERRIDE, this.#peerIp6);
    emitNdLinkAddrOpt(frame, at + 24, ND_OPT.TARGET_LINKADDR, MAC_PEER);
    fillIcmp6Checksum(frame, at, bodyLen, this.#peerIp6, dst);
    return frame;
  }

  #asideText(): string {
    if (this.aside.length === 0) return "";
    return ` (set aside: ${this.aside.slice(-5).map((a) => `t=${a.at} ${a.what}`).join(" | ")})`;
  }
}

/** `TcpOptions` from names. */
export function toTcpOptions(spec: OptionSpec): TcpOptions {
  const o = new TcpOptions();
  if (spec.mss !== undefined) o.mss = spec.mss;
  if (spec.wscale !== undefined) o.wscale = spec.wscale;
  if (spec.sackPermitted) o.sackPermitted = true;
  if (spec.timestamps) {
    o.timestamp = true;
    o.tsVal = spec.timestamps[0] >>> 0;
    o.tsEcr = spec.timestamps[1] >>> 0;
  }
  if (spec.sack) {
    o.sackCount = spec.sack.length;
    spec.sack.forEach(([l, r], i) => {
      o.sackLeft[i] = l >>> 0;
      o.sackRight[i] = r >>> 0;
    });
  }
  return o;
}

/** The bytes of a `SendSpec.payload`. */
export function payloadBytes(p: Uint8Array | string | number | undefined): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  if (typeof p === "string") return new TextEncoder().encode(p);
  if (typeof p === "number") return Uint8Array.from({ length: p }, (_, i) => i & 0xff);
  return p;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Re-exported so scripts need one import for flag bits. */
export { TCP_FLAG };
