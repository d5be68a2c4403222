/**
 * What `devnp-tap` and `devnp-tun` share: options, opening the Linux device,
 * reception through an {@linkcode FdReader}, transmission by one synchronous
 * `write()` per frame, and a clean detach.
 *
 * @example The TAP driver's attach
 * ```ts ignore
 * export const driver: DriverModule = {
 *   defaultPrefix: "vt",
 *   cloneable: false,
 *   attach: (host, options) => attachTunTap("tap", host, options),
 * };
 * ```
 * @module
 */

import type { AttachedInterface, DriverHost, InterfaceSpec } from "../../core/link/driver.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { FdReader } from "./fd_reader.ts";
import { closeQuietly, errno, errnoName, libc } from "./libc.ts";
import {
  DEFAULT_RING_SLOTS,
  parseDriverOptions,
  parseMacOption,
  parseMtu,
  parseRing,
  randomMac,
} from "./options.ts";
import { openTunTap, type TunTapDevice } from "./tuntap.ts";

/** Options of the TAP and TUN drivers. */
export interface TunTapOptions {
  /** `host=`: the Linux device; undefined lets the kernel pick. */
  host?: string;
  /** `mac=` (TAP only). */
  mac: Uint8Array;
  /** `mtu=`. */
  mtu: number;
  /** `ring=`: receive ring slots. */
  ring: number;
}

/** Largest MTU `ifconfig mtu` may set; the receive slots are sized for it. */
const MAX_MTU_FLOOR = 9000;
/** Ethernet header plus one VLAN tag. */
const ETHER_OVERHEAD = 18;

/** Parses the option string of `-d tap` / `-d tun`. */
export function parseTunTapOptions(kind: "tap" | "tun", options: string): TunTapOptions {
  const out: TunTapOptions = { mac: randomMac(), mtu: 1500, ring: DEFAULT_RING_SLOTS };
  const handlers: Record<string, (v: string | undefined) => void> = {
    host: (v) => {
      out.host = v === "" ? undefined : v;
    },
    mtu: (v) => {
      out.mtu = parseMtu(kind, v);
    },
    ring: (v) => {
      out.ring = parseRing(kind, v);
    },
  };
  if (kind === "tap") handlers.mac = (v) => (out.mac = parseMacOption(kind, v));
  parseDriverOptions(kind, options, handlers);
  return out;
}

/** Failed writes, for the log line on detach (the stack counts them as Oerrs too). */
interface TxErrors {
  count: number;
  last: number;
}

function specFor(
  kind: "tap" | "tun",
  opts: TunTapOptions,
  dev: TunTapDevice,
  errors: TxErrors,
): Omit<InterfaceSpec, "detach"> {
  const maxMtu = Math.max(opts.mtu, MAX_MTU_FLOOR);
  const transmit = (frame: Uint8Array): boolean => {
    if (libc().write(dev.fd, frame, frame.length) >= 0) return true;
    // EIO while the Linux side is down, EAGAIN when its queue is full: the frame is lost, and
    // the stack counts it (Oerrs); the last errno is kept for the log line on detach.
    errors.count++;
    errors.last = errno();
    return false;
  };
  // From an offset in the stack's buffer: one iovec pointing into it, no view per frame.
  const iov = new IoVec();
  const transmitAt = (bytes: Uint8Array, offset: number, length: number): boolean => {
    if (libc().writev(dev.fd, iov.point(bytes, offset, length), 1) >= 0) return true;
    errors.count++;
    errors.last = errno();
    return false;
  };
  if (kind === "tun") {
    return {
      mtu: opts.mtu,
      maxMtu,
      flags: IFF.POINTOPOINT | IFF.MULTICAST | IFF.NOARP,
      reportsLinkState: true,
      linkType: "ip",
      transmit,
      transmitAt,
    };
  }
  return {
    mtu: opts.mtu,
    maxMtu,
    lladdr: opts.mac,
    flags: IFF.BROADCAST | IFF.SIMPLEX | IFF.MULTICAST,
    media: { current: "Ethernet autoselect" },
    reportsLinkState: true,
    linkType: "ethernet",
    transmit,
    transmitAt,
  };
}

/**
 * Attaches one interface backed by a Linux TAP (Ethernet frames) or TUN (IP
 * packets) device; resolves once its reader Worker runs. Rejects with an
 * ErrnoError when the options are bad or the device cannot be had. `open`
 * gets the device: the daemon's JIT warm-up (`daemon/warmup.ts`) gives a
 * socket pair instead, so that its traffic runs this very code.
 */
export async function attachTunTap(
  kind: "tap" | "tun",
  host: DriverHost,
  options: string,
  open: (kind: "tap" | "tun", name?: string) => TunTapDevice = openTunTap,
): Promise<void> {
  const opts = parseTunTapOptions(kind, options);
  const dev = open(kind, opts.host);
  const errors: TxErrors = { count: 0, last: 0 };
  // Set once the interface exists (reception needs it); read by detach.
  const rx: { reader?: FdReader } = {};
  let iface: AttachedInterface;
  const spec: InterfaceSpec = {
    ...specFor(kind, opts, dev, errors),
    detach() {
      // Reception first: when stop() returns, the reader Worker no longer uses the descriptor.
      rx.reader?.stop();
      const fd = dev.fd;
      dev.fd = -1; // closed once, even if detach came twice
      closeQuietly(fd);
      const lost = errors.count === 0
        ? ""
        : `, ${errors.count} frames lost (${errnoName(errors.last)})`;
      host.log(`${iface.name}: released Linux ${kind} ${dev.name}${lost}`);
    },
  };
  try {
    iface = host.attachInterface(spec);
  } catch (e) {
    closeQuietly(dev.fd);
    dev.fd = -1;
    throw e;
  }
  const maxFrame = (spec.maxMtu ?? spec.mtu) + (kind === "tap" ? ETHER_OVERHEAD : 0);
  rx.reader = new FdReader(dev.fd, {
    slots: opts.ring,
    maxFrame,
    onFrame: (frame) => iface.receive(frame),
    batch: (deliver) => iface.batch(deliver),
    log: (m) => host.log(`${iface.name}: ${m}`),
    pool: host.readerPool,
    onExit: (e) => {
      iface.setLinkActive(false);
      host.log(`${iface.name}: Linux ${kind} ${dev.name} stopped reading (${errnoName(e)})`);
    },
  });
  iface.setLinkActive(true);
  host.log(`${iface.name}: ${dev.created ? "created" : "attached to"} Linux ${kind} ${dev.name}`);
  // Resolve once frames are really read, so a caller's first exchange does not race the Worker.
  if (!await rx.reader.whenReady()) host.log(`${iface.name}: reader Worker slow to start`);
}

/** Base addresses of the buffers the stack sends from (they never move: off-heap stores). */
const baseAddresses = new WeakMap<ArrayBufferLike, number>();

/**
 * One `struct iovec` (64-bit Linux, little-endian: base, then length) for
 * `writev`, re-pointed per frame into the stack's buffer with no allocation.
 */
class IoVec {
  readonly #words = new Uint32Array(4);
  readonly bytes = new Uint8Array(this.#words.buffer);

  /** Points at `bytes[offset, offset + length)`; returns the struct. */
  point(bytes: Uint8Array, offset: number, length: number): Uint8Array {
    const buffer = bytes.buffer;
    let base = baseAddresses.get(buffer);
    if (base === undefined) {
      base = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(new Uint8Array(buffer))));
      baseAddresses.set(buffer, base);
    }
    const address = base + bytes.byteOffset + offset;
    const high = Math.floor(address / 0x100000000);
    this.#words[0] = address - high * 0x100000000;
    this.#words[1] = high;
    this.#words[2] = length;
    this.#words[3] = 0;
    return this.bytes;
  }
}
