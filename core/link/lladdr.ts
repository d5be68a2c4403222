/**
 * Link-layer addresses of an interface (NetBSD 6's SIOCALIFADDR/SIOCDLIFADDR
 * for AF_LINK, `ifconfig IF link ADDR [active]`): every interface with an
 * Ethernet address keeps a list of them, the one the driver came with first,
 * exactly one of them active. Making another one active switches the address
 * frames go out with and are accepted for, then announces the change as
 * NetBSD's `if_activate_sadl()` does: a gratuitous ARP for each IPv4 address
 * and an unsolicited Neighbor Advertisement for each IPv6 one.
 *
 * The list lives beside the interface (a WeakMap), so {@linkcode NetInterface}
 * is untouched; the active address is `iface.spec.lladdr`, overwritten in
 * place so that every holder of that array (routes, the driver) follows.
 *
 * @example
 * ```ts
 * import { NetInterface } from "./interface.ts";
 * import { addLinkAddress, linkAddresses } from "./lladdr.ts";
 * const iface = new NetInterface({ name: "en0", index: 2, driver: "dummy", flags: 0,
 *   spec: { mtu: 1500, lladdr: new Uint8Array([2, 0, 0, 0, 0, 1]), transmit() {} } });
 * addLinkAddress(iface, "02:00:00:00:00:02", false, () => {});
 * console.log(linkAddresses(iface)); // { active: "02:00:00:00:00:01", inactive: ["02:00:00:00:00:02"] }
 * ```
 * @module
 */

import { ErrnoError } from "../errno.ts";
import { sameMac } from "../wire/ethernet.ts";
import { formatLladdr, type NetInterface, parseLladdr } from "./interface.ts";

/** Most link addresses one interface keeps. */
export const MAX_LINK_ADDRESSES = 16;

/** The addresses of one interface; `list[0]` was the driver's. */
interface LinkList {
  list: Uint8Array[];
}

const lists = new WeakMap<NetInterface, LinkList>();

function listOf(iface: NetInterface): LinkList {
  const active = iface.spec.lladdr;
  if (!active || iface.linkType !== "ethernet") {
    throw new ErrnoError("EOPNOTSUPP", `${iface.name} has no link-layer address`);
  }
  let l = lists.get(iface);
  if (!l) {
    l = { list: [active.slice()] };
    lists.set(iface, l);
  }
  return l;
}

/** The active address and the inactive ones, as ifconfig prints them. */
export function linkAddresses(iface: NetInterface): { active: string; inactive: string[] } | null {
  const active = iface.spec.lladdr;
  if (!active || iface.linkType !== "ethernet") return null;
  const l = lists.get(iface);
  const inactive = (l?.list ?? []).filter((m) => !sameMac(m, 0, active)).map(formatLladdr);
  return { active: formatLladdr(active), inactive };
}

/**
 * Adds `text` to the interface's link addresses (EEXIST-free: adding one it
 * has is not an error); with `active`, makes it the address in use and calls
 * `announce` once the switch is made. EINVAL for a malformed, multicast or
 * zero address, ENOSPC past {@linkcode MAX_LINK_ADDRESSES}.
 */
export function addLinkAddress(
  iface: NetInterface,
  text: string,
  active: boolean,
  announce: (iface: NetInterface) => void,
): void {
  const mac = parseLladdr(text, true);
  if (!mac || (mac[0] & 1) !== 0 || mac.every((b) => b === 0)) {
    throw new ErrnoError("EINVAL", `link address ${text}`);
  }
  const l = listOf(iface);
  if (!l.list.some((m) => sameMac(m, 0, mac))) {
    if (l.list.length >= MAX_LINK_ADDRESSES) throw new ErrnoError("ENOSPC", "link addresses");
    l.list.push(mac);
  }
  if (!active) return;
  const current = iface.spec.lladdr!;
  if (sameMac(current, 0, mac)) return;
  current.set(mac);
  announce(iface);
}

/** Deletes an inactive link address: EBUSY for the active one, EADDRNOTAVAIL for a stranger. */
export function deleteLinkAddress(iface: NetInterface, text: string): void {
  const mac = parseLladdr(text, true);
  if (!mac) throw new ErrnoError("EINVAL", `link address ${text}`);
  const l = listOf(iface);
  if (sameMac(iface.spec.lladdr!, 0, mac)) throw new ErrnoError("EBUSY", `${text} is active`);
  const at = l.list.findIndex((m) => sameMac(m, 0, mac));
  if (at < 0) throw new ErrnoError("EADDRNOTAVAIL", text);
  l.list.splice(at, 1);
}
