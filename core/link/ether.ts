/**
 * Ethernet in and out: demultiplexes received frames by EtherType, and frames
 * outgoing packets (prepending the header into the packet's headroom, padding
 * short frames to the 60-byte minimum).
 *
 * @example
 * ```ts ignore
 * ether.input(iface, frame, 0, frame.length);
 * ether.send(iface, pkt, ETHERTYPE.IPV4, nextHopMac);
 * ```
 * @module
 */

import type { PacketBuffer } from "../buf/packet_pool.ts";
import {
  emitEthernet,
  ETHER_HEADER_LEN,
  ETHER_MIN_LEN,
  EthernetView,
  ETHERTYPE,
  sameMac,
} from "../wire/ethernet.ts";
import type { NetInterface } from "./interface.ts";

/** Where Ethernet hands payloads up. */
export interface EtherUpper {
  arpInput(iface: NetInterface, bytes: Uint8Array, offset: number, length: number): void;
  ip4Input(
    iface: NetInterface,
    bytes: Uint8Array,
    offset: number,
    length: number,
    linkBcast: boolean,
  ): void;
  ip6Input?(
    iface: NetInterface,
    bytes: Uint8Array,
    offset: number,
    length: number,
    linkMcast: boolean,
  ): void;
}

const ZERO_MAC = new Uint8Array(6);

/** The Ethernet layer of a stack. */
export class EtherLayer {
  readonly #eth = new EthernetView();
  readonly #upper: EtherUpper;

  constructor(upper: EtherUpper) {
    this.#upper = upper;
  }

  /** One received frame (a view valid only during the call). */
  input(iface: NetInterface, bytes: Uint8Array, offset: number, length: number): void {
    const eth = this.#eth;
    if (eth.wrap(bytes, offset, length) !== null) {
      iface.stats.ierrors++;
      return;
    }
    const mine = iface.spec.lladdr;
    if (eth.isGroup) {
      iface.stats.imcasts++;
    } else if (!mine || !sameMac(bytes, eth.offset, mine)) {
      return; // unicast for another host: not promiscuous, not ours
    }
    if (eth.tagged) {
      // No vlan interfaces yet: a tagged frame has nowhere to go.
      iface.stats.noproto++;
      return;
    }
    const payload = eth.payloadOffset;
    const rest = offset + length - payload;
    switch (eth.etherType) {
      case ETHERTYPE.ARP:
        this.#upper.arpInput(iface, bytes, payload, rest);
        return;
      case ETHERTYPE.IPV4:
        this.#upper.ip4Input(iface, bytes, payload, rest, eth.isGroup);
        return;
      case ETHERTYPE.IPV6:
        if (this.#upper.ip6Input) {
          this.#upper.ip6Input(iface, bytes, payload, rest, eth.isGroup);
          return;
        }
        iface.stats.noproto++;
        return;
      default:
        iface.stats.noproto++;
    }
  }

  /**
   * Prepends an Ethernet header to `pkt` and hands it to the interface; the
   * caller still owns `pkt` afterwards (the driver copied or wrote it out).
   */
  send(iface: NetInterface, pkt: PacketBuffer, etherType: number, dst: Uint8Array): boolean {
    const at = pkt.prepend(ETHER_HEADER_LEN);
    emitEthernet(pkt.bytes, at, dst, iface.spec.lladdr ?? ZERO_MAC, etherType);
    const short = ETHER_MIN_LEN - pkt.length;
    if (short > 0) {
      // Pad with zeros: short frames may otherwise leak old buffer contents.
      pkt.bytes.fill(0, pkt.end, pkt.end + short);
      pkt.end += short;
    }
    return iface.sendPacket(pkt);
  }
}
