/**
 * `tun`: a point-to-point IP interface backed by a Linux TUN device
 * (`/dev/net/tun`, IFF_TUN|IFF_NO_PI): raw IPv4/IPv6 packets, no Ethernet
 * header, no link address, no ARP. Its spec says `linkType: "ip"`, so the
 * stack hands it IP packets and reads the IP version from the first nibble of
 * what it receives.
 *
 * Options (after the stack has taken `name=`, `unit=`, `lan=`):
 * - `host=NAME` — the Linux device, attached to if it exists as a TUN device,
 *   created otherwise (gone when the interface is destroyed). Default: the
 *   kernel picks `tunN`.
 * - `mtu=N` — 68..65535, default 1500.
 * - `ring=N` — receive ring slots, default 256.
 *
 * Flags POINTOPOINT, MULTICAST and NOARP; the interface is named `vtun0`... (not
 * `tun0`: QNX's `tunN` is a cloned pseudo-interface). Needs CAP_NET_ADMIN.
 *
 * @example
 * ```sh
 * io-pkt-v6-hc -d tun host=bt1 -ptcpip prefix=/tmp/a   # vtun0 <-> Linux bt1
 * ```
 * @module
 */

import type { DriverHost, DriverModule } from "../core/link/driver.ts";
import { attachTunTap } from "./io/tuntap_driver.ts";

/** The driver. */
export const driver: DriverModule = {
  defaultPrefix: "vtun",
  cloneable: false,
  attach(host: DriverHost, options: string): Promise<void> {
    return attachTunTap("tun", host, options);
  },
};
