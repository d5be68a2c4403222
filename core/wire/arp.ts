/**
 * ARP for Ethernet and IPv4 (RFC 826), in the shape of `ethernet.ts`: a
 * reusable view whose `wrap` checks once, accessors in place, and an `emit`
 * that writes into a buffer the caller sized.
 *
 * Only the Ethernet/IPv4 form is accepted (hardware type 1, protocol 0x0800,
 * lengths 6 and 4); anything else is refused as "unsupported" so the stack can
 * count it. Unknown opcodes pass through as numbers.
 *
 * @example Answer a request in place
 * ```ts
 * import { ARP_LEN, ARP_OP, ArpView, emitArp } from "./arp.ts";
 * const pkt = new Uint8Array(ARP_LEN);
 * const me = new Uint8Array([2, 0, 0, 0, 0, 0x0b]);
 * emitArp(pkt, 0, {
 *   op: ARP_OP.REQUEST,
 *   sha: new Uint8Array([2, 0, 0, 0, 0, 0x0a]),
 *   spa: 0xc0000201,
 *   tha: new Uint8Array(6),
 *   tpa: 0xc0000202,
 * });
 * const arp = new ArpView();
 * console.log(arp.wrap(pkt, 0, pkt.length)); // null
 * const asker = arp.spa;
 * arp.setOp(ARP_OP.REPLY);
 * arp.setTha(arp.sha);
 * arp.setTpa(asker);
 * arp.setSha(me);
 * arp.setSpa(0xc0000202);
 * console.log(arp.op === ARP_OP.REPLY, arp.tpa === 0xc0000201); // true true
 * ```
 * @module
 */
import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";

/** ARP opcodes (RFC 826, RFC 903 for RARP); others pass through as numbers. */
export const ARP_OP = {
  REQUEST: 1,
  REPLY: 2,
  REVREQUEST: 3,
  REVREPLY: 4,
  INVREQUEST: 8,
  INVREPLY: 9,
} as const;

/** Printable names of ARP opcodes. */
export const ARP_OP_NAME: Readonly<Record<number, string>> = {
  [ARP_OP.REQUEST]: "request",
  [ARP_OP.REPLY]: "reply",
  [ARP_OP.REVREQUEST]: "reverse request",
  [ARP_OP.REVREPLY]: "reverse reply",
  [ARP_OP.INVREQUEST]: "inverse request",
  [ARP_OP.INVREPLY]: "inverse reply",
};

/** Hardware type for Ethernet (ARPHRD_ETHER). */
export const ARP_HRD_ETHER = 1;
/** Protocol type for IPv4 (an EtherType). */
export const ARP_PRO_IPV4 = 0x0800;
/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_LEN = 28;

const F = Object.freeze({
  HRD: 0,
  PRO: 2,
  HLN: 4,
  PLN: 5,
  OP: 6,
  SHA: 8,
  SPA: 14,
  THA: 18,
  TPA: 24,
});

/** Why an ARP packet was refused. */
export type ArpError = "truncated" | "unsupported";

/** The fields of an Ethernet/IPv4 ARP packet, for `emitArp`. */
export interface ArpRepr {
  /** Opcode (`ARP_OP`). */
  op: number;
  /** Sender hardware address (6 bytes). */
  sha: Uint8Array;
  /** Sender protocol address. */
  spa: number;
  /** Target hardware address (6 bytes). */
  tha: Uint8Array;
  /** Target protocol address. */
  tpa: number;
}

/** A reusable view over an Ethernet/IPv4 ARP packet. */
export class ArpView {
  #b: Uint8Array = new Uint8Array(0);
  #o = 0;
  #len = 0;

  /**
   * Re-targets the view; `null` on success, else why the packet is refused.
   * Bytes past `ARP_LEN` (Ethernet padding) are ignored.
   */
  wrap(bytes: Uint8Array, offset: number, length: number): ArpError | null {
    this.#b = bytes;
    this.#o = offset;
    this.#len = length;
    if (length < 8) return "truncated";
    if (
      this.hardwareType !== ARP_HRD_ETHER || this.protocolType !== ARP_PRO_IPV4 ||
      this.hlen !== 6 || this.plen !== 4
    ) return "unsupported";
    if (length < ARP_LEN) return "truncated";
    return null;
  }

  /** The bytes this view looks at. */
  get bytes(): Uint8Array {
    return this.#b;
  }

  /** Offset of the packet in `bytes`. */
  get offset(): number {
    return this.#o;
  }

  /** Length given to `wrap` (may include padding). */
  get length(): number {
    return this.#len;
  }

  /** Hardware address space (1 for Ethernet). */
  get hardwareType(): number {
    return readU16(this.#b, this.#o + F.HRD);
  }

  /** Protocol address space (an EtherType; 0x0800 for IPv4). */
  get protocolType(): number {
    return readU16(this.#b, this.#o + F.PRO);
  }

  /** Hardware address length. */
  get hlen(): number {
    return this.#b[this.#o + F.HLN];
  }

  /** Protocol address length. */
  get plen(): number {
    return this.#b[this.#o + F.PLN];
  }

  /** Opcode (`ARP_OP`). */
  get op(): number {
    return readU16(this.#b, this.#o + F.OP);
  }

  /** Sender hardware address (a subarray: no copy). */
  get sha(): Uint8Array {
    return this.#b.subarray(this.#o + F.SHA, this.#o + F.SHA + 6);
  }

  /** Offset of the sender hardware address in `bytes` (for allocation-free compares). */
  get shaOffset(): number {
    return this.#o + F.SHA;
  }

  /** Sender protocol address. */
  get spa(): number {
    return readU32(this.#b, this.#o + F.SPA);
  }

  /** Target hardware address (a subarray: no copy). */
  get tha(): Uint8Array {
    return this.#b.subarray(this.#o + F.THA, this.#o + F.THA + 6);
  }

  /** Offset of the target hardware address in `bytes`. */
  get thaOffset(): number {
    return this.#o + F.THA;
  }

  /** Target protocol address. */
  get tpa(): number {
    return readU32(this.#b, this.#o + F.TPA);
  }

  /** Sets the opcode. */
  setOp(op: number): void {
    writeU16(this.#b, this.#o + F.OP, op);
  }

  /** Sets the sender hardware address (`mac` may overlap the packet). */
  setSha(mac: Uint8Array): void {
    this.#b.set(mac.subarray(0, 6), this.#o + F.SHA);
  }

  /** Sets the sender protocol address. */
  setSpa(addr: number): void {
    writeU32(this.#b, this.#o + F.SPA, addr);
  }

  /** Sets the target hardware address (`mac` may overlap the packet). */
  setTha(mac: Uint8Array): void {
    this.#b.set(mac.subarray(0, 6), this.#o + F.THA);
  }

  /** Sets the target protocol address. */
  setTpa(addr: number): void {
    writeU32(this.#b, this.#o + F.TPA, addr);
  }
}

/** Writes an Ethernet/IPv4 ARP packet (`ARP_LEN` bytes) at `offset`. */
export function emitArp(bytes: Uint8Array, offset: number, arp: ArpRepr): void {
  writeU16(bytes, offset + F.HRD, ARP_HRD_ETHER);
  writeU16(bytes, offset + F.PRO, ARP_PRO_IPV4);
  bytes[offset + F.HLN] = 6;
  bytes[offset + F.PLN] = 4;
  writeU16(bytes, offset + F.OP, arp.op);
  bytes.set(arp.sha.subarray(0, 6), offset + F.SHA);
  writeU32(bytes, offset + F.SPA, arp.spa);
  bytes.set(arp.tha.subarray(0, 6), offset + F.THA);
  writeU32(bytes, offset + F.TPA, arp.tpa);
}
