/**
 * IPv6 fragments (RFC 8200 §4.5): reassembly of datagrams for this node and
 * fragmentation of the ones it originates.
 *
 * Reassembly keeps at most `net.inet6.ip6.maxfragpackets` datagrams (-1: no
 * limit) for 60 s each, in the shared {@linkcode Reassembler} (any overlap
 * drops the datagram, RFC 5722). A non-last fragment whose length is not a
 * multiple of 8, or one reaching past 65535 bytes, gets a Parameter Problem;
 * so does a first fragment without the whole header chain (RFC 7112, code 3).
 * When a datagram times out after its first fragment came, the source gets
 * Time Exceeded code 1 quoting that fragment.
 *
 * @example
 * ```ts ignore
 * frags.input(iface, ip, len, walk, fragView, chainError, linkMcast);
 * fragment6(ctx, pkt, mtu, (frag) => toLink(frag));
 * ```
 * @module
 */

import type { PacketBuffer } from "../buf/packet_pool.ts";
import type { StackContext } from "../stack_context.ts";
import type { NetInterface } from "../link/interface.ts";
import {
  emitFragmentHeader,
  type FragmentView,
  IPPROTO6,
  IPV6_FRAG_HEADER_LEN,
  IPV6_HEADER_LEN,
  type Ipv6ExtError,
  type Ipv6HeaderWalk,
  Ipv6View,
} from "../wire/ipv6.ts";
import { ICMP6_PARAMPROB, ICMP6_TIME_EXCEED, ICMP6_TYPE } from "../wire/icmpv6.ts";
import type { Icmp6Layer } from "./icmp6.ts";
import { Reassembler } from "./reassembly.ts";

/** How long an incomplete datagram is kept (RFC 8200 §4.5: 60 s). */
export const IP6FRAG_TIMEOUT_MS = 60_000;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** The reassembly key: source, destination, identification (fragments only). */
function fragKey(src: Uint8Array, dst: Uint8Array, id: number): string {
  let k = "";
  for (let i = 0; i < 16; i++) k += HEX[src[i]];
  k += "|";
  for (let i = 0; i < 16; i++) k += HEX[dst[i]];
  return `${k}|${id}`;
}

/** Where a reassembled datagram goes: back through local input, as if it had come whole. */
export type Ip6Redeliver = (
  iface: NetInterface,
  ip: Ipv6View,
  length: number,
  linkMcast: boolean,
) => void;

/** IPv6 reassembly of one stack. */
export class Ip6Reassembly {
  readonly reassembler: Reassembler;
  readonly #ctx: StackContext;
  readonly #icmp: Icmp6Layer;
  readonly #redeliver: Ip6Redeliver;
  readonly #view = new Ipv6View();
  #timer = false;

  constructor(ctx: StackContext, icmp: Icmp6Layer, redeliver: Ip6Redeliver) {
    this.#ctx = ctx;
    this.#icmp = icmp;
    this.#redeliver = redeliver;
    this.reassembler = new Reassembler(() => {
      const v = ctx.tunables.ip6.maxfragpackets;
      return v < 0 ? Infinity : v;
    }, IP6FRAG_TIMEOUT_MS);
  }

  /**
   * One fragment of the datagram `ip` (`len` bytes), whose header walk `w`
   * reached the Fragment header that `f` views; `chainErr` is what the walk
   * found past it (judged again once the datagram is whole).
   */
  input(
    iface: NetInterface,
    ip: Ipv6View,
    len: number,
    w: Ipv6HeaderWalk,
    f: FragmentView,
    chainErr: Ipv6ExtError | null,
    linkMcast: boolean,
  ): void {
    const ctx = this.#ctx, st = ctx.stats.ip6;
    st.fragments++;
    const b = ip.bytes, fo = w.fragOffset;
    const off = f.fragmentOffset, more = f.more;
    const dataStart = fo + IPV6_FRAG_HEADER_LEN, end = ip.offset + len;
    const dlen = end - dataStart;
    let problem = -1, pointer = 0;
    if (more && (dlen === 0 || dlen % 8 !== 0)) {
      problem = ICMP6_PARAMPROB.HEADER;
      pointer = 4; // the Payload Length field
    } else if (off + dlen > 0xffff) {
      problem = ICMP6_PARAMPROB.HEADER;
      pointer = fo + 2 - ip.offset; // the Fragment Offset field
    } else if (off === 0 && chainErr === "truncated" && w.errorOffset > fo) {
      problem = ICMP6_PARAMPROB.FIRSTFRAG; // RFC 7112: the chain must be in the first fragment
    }
    if (problem >= 0) {
      st.fragdropped++;
      this.#icmp.error(
        iface,
        b,
        ip.offset,
        len,
        ICMP6_TYPE.PARAM_PROB,
        problem,
        pointer,
        linkMcast,
      );
      return;
    }
    let first: Uint8Array | null = null;
    if (off === 0) {
      // The arrival interface (for the zone of a timeout error), then the fragment itself.
      first = new Uint8Array(2 + len);
      first[0] = iface.index >> 8;
      first[1] = iface.index & 0xff;
      first.set(b.subarray(ip.offset, end), 2);
    }
    const key = fragKey(ip.src, ip.dst, f.id);
    const r = this.reassembler;
    const done = r.add(key, off, more, b.subarray(dataStart, end), first, ctx.now());
    this.#armTimer();
    if (!done) {
      if (r.lastDrop === "full") st.fragoverflow++;
      if (r.lastDrop !== null) st.fragdropped++;
      return;
    }
    st.reassembled++;
    // The unfragmentable part of the first fragment, its Fragment header taken out.
    const head = done.first.subarray(2);
    let field = 6, next = head[6], at = IPV6_HEADER_LEN;
    while (next !== IPPROTO6.FRAGMENT && at + 2 <= head.length) {
      const hlen = next === IPPROTO6.AH ? (head[at + 1] + 2) * 4 : (head[at + 1] + 1) * 8;
      field = at;
      next = head[at];
      at += hlen;
    }
    const whole = new Uint8Array(at + done.payload.length);
    whole.set(head.subarray(0, at), 0);
    whole[field] = head[at]; // the Fragment header's Next Header
    whole.set(done.payload, at);
    if (whole.length - IPV6_HEADER_LEN > 0xffff) {
      st.fragdropped++;
      return;
    }
    const v = this.#view;
    v.wrap(whole, 0, whole.length);
    v.setPayloadLength(whole.length - IPV6_HEADER_LEN);
    this.#redeliver(iface, v, whole.length, linkMcast);
  }

  /** Drops expired datagrams; Time Exceeded (reassembly) for those whose first fragment came. */
  expire(): void {
    this.reassembler.expire(this.#ctx.now(), (first) => {
      this.#ctx.stats.ip6.fragtimeout++;
      if (!first) return;
      const iface = this.#ctx.interfaceByIndex((first[0] << 8) | first[1]);
      if (!iface) return;
      this.#icmp.error(
        iface,
        first,
        2,
        first.length - 2,
        ICMP6_TYPE.TIME_EXCEEDED,
        ICMP6_TIME_EXCEED.REASSEMBLY,
        0,
        false,
      );
    });
  }

  #armTimer(): void {
    if (this.#timer) return;
    const next = this.reassembler.nextDeadline();
    if (next === null) return;
    this.#timer = true;
    this.#ctx.timers.schedule(next, () => {
      this.#timer = false;
      this.expire();
      this.#armTimer();
    });
  }
}

/**
 * Splits the IPv6 packet in `pkt` into 8-byte aligned pieces of at most `mtu`
 * bytes, each a copy of the fixed header and a Fragment header in front (a
 * locally originated packet has no other extension header, so the fixed
 * header is its unfragmentable part), and hands each to `send` (which frees
 * it). Frees `pkt`. Counts `fragmented`, `ofragments`, or `cantfrag`.
 */
export function fragment6(
  ctx: StackContext,
  pkt: PacketBuffer,
  mtu: number,
  send: (frag: PacketBuffer) => void,
): void {
  const st = ctx.stats.ip6;
  const b = pkt.bytes, start = pkt.start;
  const proto = b[start + 6];
  const payload = pkt.length - IPV6_HEADER_LEN;
  const hlen = IPV6_HEADER_LEN + IPV6_FRAG_HEADER_LEN;
  const chunk = (mtu - hlen) & ~7;
  if (chunk < 8) {
    st.cantfrag++;
    ctx.pool.free(pkt);
    return;
  }
  // RFC 7739: an identification an observer cannot predict.
  const id = (Math.random() * 0x100000000) >>> 0;
  st.fragmented++;
  try {
    for (let off = 0; off < payload; off += chunk) {
      const size = Math.min(chunk, payload - off);
      const frag = ctx.pool.alloc(hlen + size);
      const fb = frag.bytes, fs = frag.start;
      fb.set(b.subarray(start, start + IPV6_HEADER_LEN), fs);
      fb[fs + 6] = IPPROTO6.FRAGMENT;
      const plen = IPV6_FRAG_HEADER_LEN + size;
      fb[fs + 4] = plen >> 8;
      fb[fs + 5] = plen & 0xff;
      emitFragmentHeader(fb, fs + IPV6_HEADER_LEN, proto, off, off + size < payload, id);
      const from = start + IPV6_HEADER_LEN + off;
      fb.set(b.subarray(from, from + size), fs + hlen);
      st.ofragments++;
      send(frag);
    }
  } finally {
    ctx.pool.free(pkt);
  }
}
