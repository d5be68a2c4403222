/**
 * `tap`: an Ethernet interface backed by a Linux TAP device
 * (`/dev/net/tun`, IFF_TAP|IFF_NO_PI). Frames the Linux side sends arrive
 * through a reader Worker and a shared ring; frames the stack sends are written
 * with one synchronous `write()` each.
 *
 * Options (after the stack has taken `name=`, `unit=`, `lan=`):
 * - `host=NAME` — the Linux device: attached to if it exists as a TAP device
 *   (e.g. made persistent with `ip tuntap add NAME mode tap`), created otherwise
 *   (and gone when the interface is destroyed). Default: the kernel picks `tapN`.
 * - `mac=xx:xx:xx:xx:xx:xx` — this interface's link address (not the Linux
 *   side's); default a random locally administered one.
 * - `mtu=N` — 68..65535, default 1500. `ifconfig mtu` may raise it to 9000 (or to
 *   `mtu=` when larger); the Linux side's MTU is its own to set.
 * - `ring=N` — receive ring slots, default 256.
 *
 * The interface is named `vt0`, `vt1`... unless `name=` says otherwise: `tap`
 * and `tun` are QNX's cloned pseudo-interfaces, and `vt` is what QNX names its
 * virtual-machine NIC (devnp-virtio), the nearest kin of a host-backed NIC.
 * It reports `media: Ethernet autoselect` and `status: active` while the device
 * is open. Needs CAP_NET_ADMIN (root) and `--allow-ffi`.
 *
 * @example
 * ```sh
 * io-pkt-v6-hc -d tap host=bt0,name=en -ptcpip prefix=/tmp/a   # en0 <-> Linux bt0
 * ```
 * @module
 */

import type { DriverHost, DriverModule } from "../core/link/driver.ts";
import { attachTunTap } from "./io/tuntap_driver.ts";

/** The driver. */
export const driver: DriverModule = {
  defaultPrefix: "vt",
  cloneable: false,
  attach(host: DriverHost, options: string): Promise<void> {
    return attachTunTap("tap", host, options);
  },
};
