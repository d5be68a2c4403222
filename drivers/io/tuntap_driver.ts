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
  if (kind === "tun") {
    return {
      mtu: opts.mtu,
      maxMtu,
      flags: IFF.POINTOPOINT | IFF.MULTICAST | IFF.NOARP,
      reportsLinkState: true,
      linkType: "ip",
      transmit,
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
