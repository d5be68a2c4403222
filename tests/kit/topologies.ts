/**
 * Virtual networks many tests share: h1 — r — h2, a host on each side of a
 * router, for either family, and two hosts on one segment, in virtual time
 * (tests/kit/netsim.ts).
 * @module
 */

import { Net, type Segment } from "./netsim.ts";
import { Stack } from "../../core/stack.ts";
import { DEFAULT_STACK_CONFIG, type StackConfig } from "../../core/config.ts";
import { IFF } from "../../core/link/if_flags.ts";

/** What {@linkcode routed4} and {@linkcode routed6} build. */
export interface Routed {
  net: Net;
  left: Segment;
  right: Segment;
  h1: Stack;
  r: Stack;
  h2: Stack;
}

/** Options of the routed topologies. */
export interface RoutedOptions {
  /** The router forwards (default true). */
  forwarding?: boolean;
  /** The MTU of the router's en1, towards h2 (default 1500). */
  rightMtu?: number;
}

/** h1 (192.0.2.10) — r (192.0.2.1 / 198.51.100.1) — h2 (198.51.100.10), default routes via r. */
export function routed4(opts: RoutedOptions = {}): Routed {
  const { net, left, right, h1, r, h2 } = triangle(false);
  h1.addAddress("en0", { family: "inet", addr: "192.0.2.10", netmask: "255.255.255.0" });
  r.addAddress("en0", { family: "inet", addr: "192.0.2.1", netmask: "255.255.255.0" });
  r.addAddress("en1", { family: "inet", addr: "198.51.100.1", netmask: "255.255.255.0" });
  h2.addAddress("en0", { family: "inet", addr: "198.51.100.10", netmask: "255.255.255.0" });
  h1.addRoute({ family: "inet", dst: "default", prefixlen: 0, gateway: "192.0.2.1" });
  h2.addRoute({ family: "inet", dst: "default", prefixlen: 0, gateway: "198.51.100.1" });
  if (opts.forwarding ?? true) r.sysctl.set("net.inet.ip.forwarding", "1");
  if (opts.rightMtu !== undefined) r.setMtu("en1", opts.rightMtu);
  net.run();
  return { net, left, right, h1, r, h2 };
}

/**
 * h1 (2001:db8:1::10) — r (2001:db8:1::1 / 2001:db8:2::1) — h2 (2001:db8:2::10),
 * default routes through the router's link-local addresses, DAD done.
 */
export function routed6(opts: RoutedOptions = {}): Routed {
  const { net, left, right, h1, r, h2 } = triangle(true);
  if (opts.forwarding ?? true) r.sysctl.set("net.inet6.ip6.forwarding", "1");
  for (const [s, ifs] of [[h1, ["en0"]], [r, ["en0", "en1"]], [h2, ["en0"]]] as const) {
    for (const i of ifs) s.setFlags(i, IFF.UP, 0);
  }
  r.setMtu("en1", opts.rightMtu ?? 1500);
  h1.addAddress("en0", { family: "inet6", addr: "2001:db8:1::10", prefixlen: 64 });
  r.addAddress("en0", { family: "inet6", addr: "2001:db8:1::1", prefixlen: 64 });
  r.addAddress("en1", { family: "inet6", addr: "2001:db8:2::1", prefixlen: 64 });
  h2.addAddress("en0", { family: "inet6", addr: "2001:db8:2::10", prefixlen: 64 });
  // Default routes through the router's link-local addresses, with their zones.
  h1.addRoute({ family: "inet6", dst: "default", prefixlen: 0, gateway: "fe80::ff:fe00:2%en0" });
  h2.addRoute({ family: "inet6", dst: "default", prefixlen: 0, gateway: "fe80::ff:fe00:3%en0" });
  net.advance(2000);
  return { net, left, right, h1, r, h2 };
}

function triangle(inet6: boolean) {
  const net = new Net();
  const left = net.segment(), right = net.segment();
  const h1 = net.stack(inet6), r = net.stack(inet6), h2 = net.stack(inet6);
  net.attach(h1, left, 1);
  net.attach(r, left, 2);
  net.attach(r, right, 3);
  net.attach(h2, right, 4);
  return { net, left, right, h1, r, h2 };
}

/**
 * a (192.0.2.1, 2001:db8::1) and b (…2) on one segment, DAD done and the
 * neighbours resolved both ways (a ping each family): a fragment train sent
 * before ARP/ND has an answer would mostly be dropped by the bounded hold
 * queue. `bConfig` changes b's `-p tcpip` options.
 */
export function pair(
  bConfig: Partial<StackConfig> = {},
): { net: Net; seg: Segment; a: Stack; b: Stack } {
  const net = new Net();
  const seg = net.segment();
  const a = net.stack(true);
  const b = new Stack({
    inet6: true,
    clock: () => net.now,
    config: { ...DEFAULT_STACK_CONFIG, ...bConfig },
  });
  net.stacks.push(b);
  net.attach(a, seg, 1);
  net.attach(b, seg, 2);
  for (const [s, n] of [[a, 1], [b, 2]] as const) {
    s.setFlags("en0", IFF.UP, 0);
    s.addAddress("en0", { family: "inet", addr: `192.0.2.${n}`, netmask: "255.255.255.0" });
    s.addAddress("en0", { family: "inet6", addr: `2001:db8::${n}`, prefixlen: 64 });
  }
  net.advance(3000); // DAD
  const raw4 = a.openRawSocket("inet", 1, () => {}), raw6 = a.openRawSocket("inet6", 58, () => {});
  a.sendRaw(raw4, "192.0.2.2", new Uint8Array([8, 0, 0xf7, 0xfe, 0, 1, 0, 0]), {});
  a.sendRaw(raw6, "2001:db8::2", new Uint8Array([128, 0, 0, 0, 0, 1, 0, 1]), {});
  net.run();
  a.closeRawSocket(raw4);
  a.closeRawSocket(raw6);
  return { net, seg, a, b };
}
