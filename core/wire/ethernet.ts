/**
 * Ethernet II frames (and 802.1Q tags). This file is the model for every
 * `core/wire/` module:
 *
 * - Field offsets in one frozen table; accessors read and write in place.
 * - A *view* is reusable: `wrap(bytes, offset, length)` re-targets it and checks
 *   the length once, so a hot path keeps one view per layer and allocates
 *   nothing per packet. After a successful `wrap`, every accessor is in bounds.
 * - `parse` checks untrusted input and says why it refuses (a reason the caller
 *   counts); `emit` writes into a buffer the caller sized and never validates
 *   old contents.
 * - Unknown protocol numbers pass through as numbers; `nameOf` tables serve
 *   printing.
 *
 * @example Parse a frame, then build one
 * ```ts
 * import { EthernetView, ETHERTYPE, ETHER_HEADER_LEN } from "./ethernet.ts";
 * const frame = new Uint8Array(60);
 * const eth = new EthernetView();
 * eth.wrap(frame, 0, frame.length);
 * eth.setDst(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
 * eth.setEtherType(ETHERTYPE.ARP);
 * console.log(eth.etherType === ETHERTYPE.ARP, eth.payloadOffset === ETHER_HEADER_LEN); // true true
 * ```
 * @module
 */

/** EtherType values this stack handles; others pass through as numbers. */
export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
} as const;

/** Printable names of EtherTypes. */
export const ETHERTYPE_NAME: Readonly<Record<number, string>> = {
  [ETHERTYPE.IPV4]: "IPv4",
  [ETHERTYPE.ARP]: "ARP",
  [ETHERTYPE.VLAN]: "802.1Q",
  [ETHERTYPE.IPV6]: "IPv6",
};

/** Header length without a tag. */
export const ETHER_HEADER_LEN = 14;
/** Header length with one 802.1Q tag. */
export const ETHER_VLAN_HEADER_LEN = 18;
/** Smallest frame on the wire without the FCS; shorter frames are padded. */
export const ETHER_MIN_LEN = 60;
/** Address length. */
export const ETHER_ADDR_LEN = 6;

const F = Object.freeze({ DST: 0, SRC: 6, TYPE: 12, TCI: 14, INNER_TYPE: 16 });

/** Why a frame was refused. */
export type EthernetError = "truncated";

/** A reusable view over an Ethernet frame. */
export class EthernetView {
  #b: Uint8Array = new Uint8Array(0);
  #o = 0;
  #len = 0;

  /** Re-targets the view; `null` on success, else why the frame is refused. */
  wrap(bytes: Uint8Array, offset: number, length: number): EthernetError | null {
    this.#b = bytes;
    this.#o = offset;
    this.#len = length;
    if (length < ETHER_HEADER_LEN) return "truncated";
    if (this.outerType === ETHERTYPE.VLAN && length < ETHER_VLAN_HEADER_LEN) return "truncated";
    return null;
  }

  /** The bytes this view looks at. */
  get bytes(): Uint8Array {
    return this.#b;
  }

  /** Offset of the frame in `bytes`. */
  get offset(): number {
    return this.#o;
  }

  /** Length of the frame. */
  get length(): number {
    return this.#len;
  }

  /** Destination address (a subarray: no copy). */
  get dst(): Uint8Array {
    return this.#b.subarray(this.#o + F.DST, this.#o + F.DST + 6);
  }

  /** Source address (a subarray: no copy). */
  get src(): Uint8Array {
    return this.#b.subarray(this.#o + F.SRC, this.#o + F.SRC + 6);
  }

  /** The first EtherType field (0x8100 for a tagged frame). */
  get outerType(): number {
    return (this.#b[this.#o + F.TYPE] << 8) | this.#b[this.#o + F.TYPE + 1];
  }

  /** Whether the frame carries an 802.1Q tag. */
  get tagged(): boolean {
    return this.outerType === ETHERTYPE.VLAN;
  }

  /** The VLAN id of a tagged frame (0 when untagged). */
  get vlanId(): number {
    return this.tagged
      ? ((this.#b[this.#o + F.TCI] << 8) | this.#b[this.#o + F.TCI + 1]) & 0xfff
      : 0;
  }

  /** The EtherType of the payload (inside the tag, for tagged frames). */
  get etherType(): number {
    const at = this.#o + (this.tagged ? F.INNER_TYPE : F.TYPE);
    return (this.#b[at] << 8) | this.#b[at + 1];
  }

  /** Offset of the payload in `bytes`. */
  get payloadOffset(): number {
    return this.#o + (this.tagged ? ETHER_VLAN_HEADER_LEN : ETHER_HEADER_LEN);
  }

  /** Whether the destination is a group (multicast or broadcast) address. */
  get isGroup(): boolean {
    return (this.#b[this.#o] & 1) !== 0;
  }

  /** Sets the destination address. */
  setDst(mac: Uint8Array): void {
    this.#b.set(mac.subarray(0, 6), this.#o + F.DST);
  }

  /** Sets the source address. */
  setSrc(mac: Uint8Array): void {
    this.#b.set(mac.subarray(0, 6), this.#o + F.SRC);
  }

  /** Sets the (outer) EtherType of an untagged frame. */
  setEtherType(type: number): void {
    this.#b[this.#o + F.TYPE] = type >> 8;
    this.#b[this.#o + F.TYPE + 1] = type & 0xff;
  }
}

/** Writes an untagged Ethernet header at `offset`. */
export function emitEthernet(
  bytes: Uint8Array,
  offset: number,
  dst: Uint8Array,
  src: Uint8Array,
  etherType: number,
): void {
  // Six bytes each, in a loop: no view object per frame.
  for (let i = 0; i < 6; i++) {
    bytes[offset + i] = dst[i];
    bytes[offset + 6 + i] = src[i];
  }
  bytes[offset + 12] = etherType >> 8;
  bytes[offset + 13] = etherType & 0xff;
}

/** Whether the 6 bytes at `bytes[at]` are the link address `mac`. */
export function sameMac(bytes: Uint8Array, at: number, mac: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (bytes[at + i] !== mac[i]) return false;
  return true;
}

/** The broadcast address. */
export const ETHER_BROADCAST: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Whether two 6-byte addresses are equal. */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The IPv6 multicast MAC (33:33 + low 32 bits of the group, RFC 2464 §7). */
export function ip6MulticastMac(group: Uint8Array): Uint8Array {
  return new Uint8Array([0x33, 0x33, group[12], group[13], group[14], group[15]]);
}

/** The IPv4 multicast MAC (01:00:5e + low 23 bits, RFC 1112 §6.4). */
export function ip4MulticastMac(group: number): Uint8Array {
  return new Uint8Array([
    0x01,
    0x00,
    0x5e,
    (group >>> 16) & 0x7f,
    (group >>> 8) & 0xff,
    group & 0xff,
  ]);
}
