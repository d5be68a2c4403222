/**
 * Opening Linux TUN/TAP devices: `open("/dev/net/tun")` and the TUNSETIFF
 * ioctl with IFF_TAP or IFF_TUN, always IFF_NO_PI (frames without the 4-byte
 * packet-information header). The descriptor is non-blocking and close-on-exec.
 *
 * A name that exists as a TUN/TAP device of the same kind is attached to (a
 * persistent device made with `ip tuntap add`); otherwise the kernel creates the
 * device, which vanishes when the descriptor is closed. No name lets the kernel
 * pick `tapN`/`tunN`.
 *
 * @example
 * ```ts ignore
 * const dev = openTunTap("tap", "bt0");
 * console.log(dev.fd, dev.name, dev.created); // 7 "bt0" true
 * ```
 * @module
 */

import { ErrnoError } from "../../core/errno.ts";
import { closeQuietly, cString, errno, errnoName, libc, O } from "./libc.ts";

/** `_IOW('T', 202, int)`. */
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
/** Linux's IFNAMSIZ: 15 characters and the NUL. */
const LINUX_IFNAMSIZ = 16;
/** `sizeof(struct ifreq)` on 64-bit Linux. */
const IFREQ_SIZE = 40;

/** An open TUN/TAP device. */
export interface TunTapDevice {
  /** The descriptor: non-blocking, close-on-exec. Closing it releases the device. */
  fd: number;
  /** The Linux interface name (the kernel's choice when none was asked for). */
  name: string;
  /** Whether the device did not exist before (it then vanishes on close). */
  created: boolean;
}

/** Whether a network device of that name exists in this process's namespace. */
function linuxDeviceExists(name: string): boolean {
  try {
    Deno.statSync(`/sys/class/net/${name}`);
    return true;
  } catch {
    return false;
  }
}

/** Valid Linux interface names: 1..15 bytes, no `/`, whitespace or `:`; `%d` allowed as a template. */
export function isLinuxIfName(name: string): boolean {
  return /^[A-Za-z0-9_.%-]{1,15}$/.test(name) && name !== "." && name !== "..";
}

/**
 * Opens (creating if needed) the TUN or TAP device `name`; throws an
 * ErrnoError (EPERM without CAP_NET_ADMIN, EBUSY when another process holds
 * it, EINVAL when `name` is another kind of device).
 */
export function openTunTap(kind: "tap" | "tun", name?: string): TunTapDevice {
  if (name !== undefined && !isLinuxIfName(name)) {
    throw new ErrnoError("EINVAL", `${kind}: bad host interface name "${name}"`);
  }
  const existed = name !== undefined && !name.includes("%") && linuxDeviceExists(name);
  const fd = libc().open(cString("/dev/net/tun"), O.RDWR | O.NONBLOCK | O.CLOEXEC, 0);
  if (fd < 0) throw new ErrnoError(errnoName(errno()), "open /dev/net/tun");
  const ifr = new Uint8Array(IFREQ_SIZE);
  if (name !== undefined) ifr.set(new TextEncoder().encode(name));
  new DataView(ifr.buffer).setUint16(
    LINUX_IFNAMSIZ,
    (kind === "tap" ? IFF_TAP : IFF_TUN) | IFF_NO_PI,
    true,
  );
  if (libc().ioctl(fd, TUNSETIFF, ifr) < 0) {
    const e = errnoName(errno());
    closeQuietly(fd);
    throw new ErrnoError(e, `TUNSETIFF ${name ?? kind}`);
  }
  const end = ifr.indexOf(0);
  const actual = new TextDecoder().decode(ifr.subarray(0, end < 0 ? LINUX_IFNAMSIZ : end));
  return { fd, name: actual, created: !existed };
}
