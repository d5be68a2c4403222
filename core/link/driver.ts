/**
 * The contract between drivers and the stack (io-pkt's `iopkt_drvr_entry`).
 *
 * A driver module (`drivers/devnp-NAME.ts`) exports a {@linkcode DriverModule}.
 * The stack takes the generic options (`name=`, `unit=`, `lan=`) first, then
 * calls `attach` with the rest; the driver registers each interface it brings
 * with {@linkcode DriverHost.attachInterface}, giving an {@linkcode InterfaceSpec}:
 * how to transmit, and what it reports (MTU, link address, media, link state).
 *
 * @example A driver that attaches one discard interface
 * ```ts
 * import type { DriverModule } from "./driver.ts";
 * export const driver: DriverModule = {
 *   defaultPrefix: "null",
 *   cloneable: false,
 *   attach(host) {
 *     host.attachInterface({ mtu: 1500, transmit: () => true });
 *   },
 * };
 * ```
 * @module
 */

import type { IfCapabilities } from "../control/ops.ts";

/** What a driver says about one interface it brings. */
export interface InterfaceSpec {
  /**
   * What the link carries: Ethernet frames (the default), bare IP packets (TUN),
   * or loopback (IP packets handed straight back).
   */
  linkType?: "ethernet" | "ip" | "loopback";
  /** Hardware MTU to start with. */
  mtu: number;
  /** Largest MTU `ifconfig mtu` may set; defaults to `mtu`. */
  maxMtu?: number;
  /** 6-byte link-level address, if the link has one. */
  lladdr?: Uint8Array;
  /** IFF_* bits the driver sets (BROADCAST, SIMPLEX, MULTICAST, POINTOPOINT, NOARP...). */
  flags?: number;
  capabilities?: IfCapabilities;
  /** Media words for `ifconfig`, when the driver answers the media ioctl. */
  media?: { current: string; active?: string };
  /** Whether the driver reports link state; the stack then shows `status:`. */
  reportsLinkState?: boolean;
  /**
   * Sends one frame. Called on the stack thread; must not block; the frame is
   * only borrowed for the call. Returns `false` when the frame could not be
   * sent (a write error, a full queue, no carrier): the stack counts it as an
   * output error (`netstat -i` Oerrs) rather than a packet out. Returning
   * nothing (or `true`) means it went out; so does a frame a driver takes and
   * sends later (a delay), whose later failure the driver counts itself.
   */
  transmit(frame: Uint8Array): boolean | void;
  /**
   * Sends the frame at `bytes[offset, offset + length)`, as `transmit` does,
   * for drivers that can write from an offset: the stack then makes no view
   * object per frame. Optional; when present the stack uses it instead of
   * `transmit`. Wrappers that see frames must drop it (they wrap `transmit`).
   */
  transmitAt?(bytes: Uint8Array, offset: number, length: number): boolean | void;
  /** The interface went up or down (`ifconfig up/down`). */
  setUp?(up: boolean): void;
  /** The interface is being destroyed: release what it holds. */
  detach?(): void;
  /** `ifconfig IF linkstr STR`: a driver-specific link string (the shmif bus path). */
  setLinkStr?(linkstr: string): void;
}

/** What the stack gives back for an attached interface. */
export interface AttachedInterface {
  readonly name: string;
  readonly index: number;
  /** Hands a received frame to the stack. */
  receive(frame: Uint8Array): void;
  /**
   * Runs `fn` (which hands over a batch of frames) as one turn of the stack:
   * what the frames cause (TCP's ACKs, wake-ups) is settled once, after the batch.
   */
  batch(fn: () => void): void;
  /** Reports carrier. */
  setLinkActive(active: boolean): void;
}

/**
 * The layer-2 reception threads (io-pkt's `-t N`) that drivers reading file
 * descriptors share. Only a handle here (the core does no I/O): the pool is
 * `drivers/io/reader_pool.ts`.
 */
export interface ReaderPoolRef {
  /** Most threads the pool runs at once. */
  readonly size: number;
}

/** The stack as a driver sees it during `attach`. */
export interface DriverHost {
  /** Registers one interface; the stack names it from the generic options and the driver's prefix. */
  attachInterface(spec: InterfaceSpec): AttachedInterface;
  /** Logs a line to the daemon's log. */
  log(message: string): void;
  /** The daemon's reader threads (`-t`); absent: drivers use a private pool, one thread per CPU. */
  readonly readerPool?: ReaderPoolRef;
}

/** A driver module's export, named `driver`. */
export interface DriverModule {
  /** Interface name prefix when `name=` is not given (`dummy` gives `dummy0`). */
  readonly defaultPrefix: string;
  /** Whether `ifconfig <prefix>N create` can make interfaces of this driver. */
  readonly cloneable: boolean;
  /** Attaches interfaces; rejects (with an ErrnoError) when it cannot. */
  attach(host: DriverHost, options: string): void | Promise<void>;
}
