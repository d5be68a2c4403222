/**
 * `shmif`: an unprivileged shared Ethernet segment between stack instances,
 * after NetBSD's shmif(4) (used there to wire rump kernels together). A bus is
 * a directory; every member binds a Unix datagram socket in it and sends each
 * frame to every other member (see `io/shmif_bus.ts`). No root, no FFI beyond
 * libc, no Linux network device: tests can wire many stacks together anywhere.
 *
 * Options (after the stack has taken `name=`, `unit=`, `lan=`):
 * - `bus=PATH` — the bus directory, an absolute path (made if missing). Optional: without it the
 *   interface is off any bus (`status: no carrier`) until
 *   `ifconfig shmifN linkstr PATH`; `-linkstr` leaves the bus.
 * - `mac=xx:xx:xx:xx:xx:xx` — link address; default a random locally
 *   administered one.
 * - `mtu=N` — 68..65535, default 1500 (`ifconfig mtu` up to 9000).
 * - `ring=N` — receive ring slots, default 256.
 * - `capture[=BYTES]` — the size of the bus's capture ring, which is on by
 *   default (1 MiB): every frame this member sends is appended to
 *   `PATH/capture`, kept to the last BYTES or so (`capture.old` holds the
 *   generation before; see `io/shmif_capture_ring.ts`). `capture=0` turns it
 *   off for this member. `shmif_dumpbus -p out.pcap PATH` turns the ring into
 *   a pcap file, on any bus, also one joined with `ifconfig shmifN linkstr`.
 *
 * Cloneable: `ifconfig shmif0 create` then `ifconfig shmif0 linkstr /tmp/bus1`.
 *
 * @example Two stacks on one segment
 * ```sh
 * io-pkt-v4-hc -d shmif bus=/tmp/bus1,capture -ptcpip prefix=/tmp/a
 * io-pkt-v4-hc -d shmif bus=/tmp/bus1,capture -ptcpip prefix=/tmp/b
 * shmif_dumpbus -p - /tmp/bus1 | tcpdump -r -
 * ```
 * @module
 */

import { ErrnoError } from "../core/errno.ts";
import type { AttachedInterface, DriverHost, DriverModule } from "../core/link/driver.ts";
import { IFF } from "../core/link/if_flags.ts";
import { errnoName } from "./io/libc.ts";
import {
  badOption,
  DEFAULT_RING_SLOTS,
  parseDriverOptions,
  parseMacOption,
  parseMtu,
  parseRing,
  randomMac,
} from "./io/options.ts";
import { ShmifMember } from "./io/shmif_bus.ts";
import { DEFAULT_CAPTURE_BYTES } from "./io/shmif_capture_ring.ts";

/** Parsed options of `-d shmif`. */
export interface ShmifOptions {
  bus?: string;
  mac: Uint8Array;
  mtu: number;
  ring: number;
  /** Capture ring size in bytes; 0 is off. */
  capture: number;
}

const MAX_MTU = 9000;
/** The largest capture ring a member may ask for: 1 GiB. */
const MAX_CAPTURE_BYTES = 1 << 30;
const ETHER_OVERHEAD = 18;

/** Parses the option string of `-d shmif`. */
export function parseShmifOptions(options: string): ShmifOptions {
  const out: ShmifOptions = {
    mac: randomMac(),
    mtu: 1500,
    ring: DEFAULT_RING_SLOTS,
    capture: DEFAULT_CAPTURE_BYTES,
  };
  parseDriverOptions("shmif", options, {
    bus: (v) => {
      if (!v) throw badOption("shmif", "bus", v);
      out.bus = v;
    },
    mac: (v) => (out.mac = parseMacOption("shmif", v)),
    mtu: (v) => (out.mtu = parseMtu("shmif", v)),
    ring: (v) => (out.ring = parseRing("shmif", v)),
    capture: (v) => {
      if (v === undefined) return; // the default size
      if (!/^\d+$/.test(v) || Number(v) > MAX_CAPTURE_BYTES) throw badOption("shmif", "capture", v);
      out.capture = Number(v);
    },
  });
  return out;
}

/** One shmif interface: its options, its current bus membership, its stack handle. */
class ShmifInterface {
  readonly #opts: ShmifOptions;
  readonly #host: DriverHost;
  #iface: AttachedInterface | undefined;
  #member: ShmifMember | null = null;
  /** Frames sent while on no bus. */
  offBus = 0;

  constructor(host: DriverHost, opts: ShmifOptions) {
    this.#host = host;
    this.#opts = opts;
  }

  /** Attaches the interface; resolves once it receives from its bus (if it has one). */
  async attach(): Promise<void> {
    const maxMtu = Math.max(this.#opts.mtu, MAX_MTU);
    this.#iface = this.#host.attachInterface({
      linkType: "ethernet",
      mtu: this.#opts.mtu,
      maxMtu,
      lladdr: this.#opts.mac,
      flags: IFF.BROADCAST | IFF.SIMPLEX | IFF.MULTICAST,
      reportsLinkState: true,
      transmit: (frame) => this.#transmit(frame),
      setLinkStr: (s) => this.setBus(s),
      detach: () => this.#leave("detached"),
    });
    this.#iface.setLinkActive(false);
    if (this.#opts.bus === undefined) return;
    this.setBus(this.#opts.bus);
    if (!await this.#member?.whenReady()) {
      this.#host.log(`${this.#iface.name}: reader slow to start`);
    }
  }

  /** Joins `path` (leaving the current bus only once the new one is joined); `""` leaves. */
  setBus(path: string): void {
    const iface = this.#iface!;
    if (path === "") return this.#leave("left");
    if (!path.startsWith("/")) {
      throw new ErrnoError("EINVAL", `shmif: bus "${path}" is not absolute`);
    }
    const member = ShmifMember.join(path, {
      maxFrame: Math.max(this.#opts.mtu, MAX_MTU) + ETHER_OVERHEAD,
      ring: this.#opts.ring,
      capture: this.#opts.capture > 0,
      captureBytes: this.#opts.capture,
      onFrame: (frame) => iface.receive(frame),
      log: (m) => this.#host.log(`${iface.name}: ${m}`),
      pool: this.#host.readerPool,
      onExit: (e) => {
        iface.setLinkActive(false);
        this.#host.log(`${iface.name}: bus ${path}: reception stopped (${errnoName(e)})`);
      },
    });
    this.#leave("left");
    this.#member = member;
    iface.setLinkActive(true);
    this.#host.log(`${iface.name}: joined bus ${member.bus} as ${member.name}`);
  }

  #transmit(frame: Uint8Array): void {
    if (this.#member) this.#member.send(frame);
    else this.offBus++;
  }

  #leave(how: string): void {
    const m = this.#member;
    if (!m) return;
    this.#member = null;
    m.leave();
    this.#iface?.setLinkActive(false);
    const s = m.stats();
    this.#host.log(
      `${this.#iface?.name}: ${how} bus ${m.bus} (${s.sent} frames sent, ${s.drops} copies dropped)`,
    );
  }
}

/** The driver. */
export const driver: DriverModule = {
  defaultPrefix: "shmif",
  cloneable: true,
  async attach(host: DriverHost, options: string): Promise<void> {
    await new ShmifInterface(host, parseShmifOptions(options)).attach();
  },
};
