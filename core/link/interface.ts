/**
 * One network interface: its flags, MTU, addresses and counters.
 *
 * Addresses are kept in their binary forms (IPv4 as a number, IPv6 as 16
 * bytes); text appears only in {@linkcode NetInterface.info}, for the tools.
 *
 * @example
 * ```ts
 * import { NetInterface } from "./interface.ts";
 * import { IFF } from "./if_flags.ts";
 * const lo = new NetInterface({ name: "lo0", index: 1, driver: "lo", flags: IFF.LOOPBACK,
 *   spec: { mtu: 33192, transmit() {} } });
 * console.log(lo.info().name); // lo0
 * ```
 * @module
 */

import type {
  IfInfo,
  IfStats,
  Inet6AddrFlag,
  Inet6AddrInfo,
  InetAddrInfo,
} from "../control/ops.ts";
import type { InterfaceSpec } from "./driver.ts";
import type { PacketBuffer } from "../buf/packet_pool.ts";
import { IFF } from "./if_flags.ts";
import { formatIp4, formatIp6, isLinkLocal6 } from "../net/ip_addr.ts";

/** An IPv4 address of an interface. */
export interface Inet4Addr {
  addr: number;
  mask: number;
  broadcast?: number;
  dst?: number;
}

/** An IPv6 address of an interface. */
export interface Inet6Addr {
  addr: Uint8Array;
  prefixlen: number;
  flags: Inet6AddrFlag[];
  dst?: Uint8Array;
  /** Lifetimes in seconds; undefined is infinite. */
  pltime?: number;
  vltime?: number;
}

/** Zeroed interface counters. */
export function emptyIfStats(): IfStats {
  return {
    ipackets: 0,
    ierrors: 0,
    opackets: 0,
    oerrors: 0,
    collisions: 0,
    ibytes: 0,
    obytes: 0,
    imcasts: 0,
    omcasts: 0,
    iqdrops: 0,
    noproto: 0,
  };
}

/**
 * Parses `xx:xx:xx:xx:xx:xx` (one or two hex digits a part); with `dashes`,
 * `xx-xx-...` too (ifconfig's `link` and route's `-link` take both).
 */
export function parseLladdr(text: string, dashes = false): Uint8Array | null {
  const parts = text.split(dashes ? /[:-]/ : ":");
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-f]{1,2}$/i.test(p))) return null;
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/** Formats a link-level address as ifconfig prints it. */
export function formatLladdr(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Construction parameters of a {@linkcode NetInterface}. */
export interface NetInterfaceInit {
  name: string;
  index: number;
  driver: string;
  /** Flags the stack adds to the driver's (LOOPBACK for lo). */
  flags: number;
  spec: InterfaceSpec;
}

/** An interface as the stack holds it. */
export class NetInterface {
  readonly name: string;
  readonly index: number;
  readonly driver: string;
  readonly spec: InterfaceSpec;
  flags: number;
  mtu: number;
  metric = 0;
  linkActive = true;
  stats: IfStats = emptyIfStats();
  readonly inet: Inet4Addr[] = [];
  readonly inet6: Inet6Addr[] = [];

  constructor(init: NetInterfaceInit) {
    this.name = init.name;
    this.index = init.index;
    this.driver = init.driver;
    this.spec = init.spec;
    this.flags = (init.spec.flags ?? 0) | init.flags;
    this.mtu = init.spec.mtu;
  }

  /** Whether the interface is a loopback. */
  get isLoopback(): boolean {
    return (this.flags & IFF.LOOPBACK) !== 0;
  }

  /** Whether the interface is administratively up. */
  get isUp(): boolean {
    return (this.flags & IFF.UP) !== 0;
  }

  /** How frames are framed on this link. */
  get linkType(): "ethernet" | "ip" | "loopback" {
    return this.spec.linkType ?? "ethernet";
  }

  /**
   * Hands one frame to the driver, counting it. A down interface, a driver
   * that says the frame was not sent (`transmit` returned false) or one that
   * throws counts an output error; the frame is only borrowed for the call.
   */
  send(frame: Uint8Array): boolean {
    return this.sendAt(frame, 0, frame.length);
  }

  /** Hands a packet buffer's frame to the driver (see {@linkcode NetInterface.sendAt}). */
  sendPacket(pkt: PacketBuffer): boolean {
    // Without transmitAt the driver needs a view: the buffer's own, reused while its shape holds.
    if (this.spec.transmitAt === undefined) return this.#counted(pkt.view(), 0, pkt.length, null);
    return this.#counted(pkt.bytes, pkt.start, pkt.length, this.spec.transmitAt);
  }

  /**
   * Hands the frame at `bytes[offset, offset + length)` to the driver, as
   * {@linkcode NetInterface.send} does, through `transmitAt` when the driver
   * has it (no view object per frame).
   */
  sendAt(bytes: Uint8Array, offset: number, length: number): boolean {
    const at = this.spec.transmitAt;
    if (at !== undefined) return this.#counted(bytes, offset, length, at);
    const whole = offset === 0 && length === bytes.length;
    return this.#counted(whole ? bytes : bytes.subarray(offset, offset + length), 0, length, null);
  }

  /** Transmits (by `at`, or `transmit` on the whole of `bytes`) and counts the outcome. */
  #counted(
    bytes: Uint8Array,
    offset: number,
    length: number,
    at: InterfaceSpec["transmitAt"] | null,
  ): boolean {
    if (!(this.flags & IFF.UP)) {
      this.stats.oerrors++;
      return false;
    }
    try {
      const sent = at ? at.call(this.spec, bytes, offset, length) : this.spec.transmit(bytes);
      if (sent === false) {
        this.stats.oerrors++;
        return false;
      }
    } catch {
      this.stats.oerrors++;
      return false;
    }
    this.stats.opackets++;
    this.stats.obytes += length;
    if (length > 0 && (bytes[offset] & 1) && this.linkType === "ethernet") this.stats.omcasts++;
    return true;
  }

  /** The interface as the tools see it. */
  info(): IfInfo {
    const spec = this.spec;
    const info: IfInfo = {
      name: this.name,
      index: this.index,
      flags: this.flags >>> 0,
      mtu: this.mtu,
      metric: this.metric,
      driver: this.driver,
      stats: { ...this.stats },
      addrs: [
        ...this.inet.map((a) => this.#inetInfo(a)),
        ...this.inet6.map((a) => this.#inet6Info(a)),
      ],
    };
    if (spec.lladdr) info.lladdr = formatLladdr(spec.lladdr);
    if (spec.capabilities) {
      info.capabilities = { ...spec.capabilities };
      info.enabled = { rx: 0, tx: 0 };
    }
    if (spec.media) info.media = { ...spec.media };
    if (spec.reportsLinkState) info.linkState = this.linkActive ? "active" : "no carrier";
    return info;
  }

  #inetInfo(a: Inet4Addr): InetAddrInfo {
    const out: InetAddrInfo = {
      family: "inet",
      addr: formatIp4(a.addr),
      netmask: formatIp4(a.mask),
    };
    if (a.broadcast !== undefined) out.broadcast = formatIp4(a.broadcast);
    if (a.dst !== undefined) out.dst = formatIp4(a.dst);
    return out;
  }

  #inet6Info(a: Inet6Addr): Inet6AddrInfo {
    const out: Inet6AddrInfo = {
      family: "inet6",
      addr: formatIp6(a.addr),
      prefixlen: a.prefixlen,
      flags: [...a.flags],
    };
    if (isLinkLocal6(a.addr)) out.scopeid = this.index;
    if (a.pltime !== undefined) out.pltime = a.pltime;
    if (a.vltime !== undefined) out.vltime = a.vltime;
    if (a.dst) out.dst = formatIp6(a.dst);
    return out;
  }
}
