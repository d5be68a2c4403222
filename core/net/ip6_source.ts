/**
 * IPv6 source address selection (RFC 6724 §5, simplified) and the scope of an
 * address (RFC 4291), with NetBSD's `ip6s_sources_*` counters.
 *
 * @example
 * ```ts ignore
 * const src = selectSource6(ctx, dst, outIface, zone);
 * ```
 * @module
 */

import type { StackContext } from "../stack_context.ts";
import type { Inet6Addr, NetInterface } from "../link/interface.ts";
import { ip6Equal } from "./ip_addr.ts";

/** Whether an address may be used (as a source, or to accept packets): DAD done, no duplicate. */
export function addrUsable(a: Inet6Addr): boolean {
  return a.flags.length === 0 ||
    (!a.flags.includes("tentative") && !a.flags.includes("duplicated"));
}

/** Whether `a` is `::1`. */
export function isLoopback6(a: Uint8Array): boolean {
  for (let i = 0; i < 15; i++) if (a[i] !== 0) return false;
  return a[15] === 1;
}

/**
 * RFC 4291 scope: a multicast address's own field; 2 link-local; 1 loopback
 * (interface-local); 5 site-local; 14 global.
 */
export function scope6(a: Uint8Array): number {
  if (a[0] === 0xff) return a[1] & 0x0f;
  if (a[0] === 0xfe && (a[1] & 0xc0) === 0x80) return 2;
  if (a[0] === 0xfe && (a[1] & 0xc0) === 0xc0) return 5;
  if (isLoopback6(a)) return 1;
  return 14;
}

/** The number of leading bits `a` and `b` share. */
export function commonPrefix(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return 128;
}

/** >0 when `a` beats `b` by rules 2 (scope), 3 (deprecated) and 5 (interface); 0 on a tie. */
function prefer(
  a: Inet6Addr,
  ai: NetInterface,
  b: Inet6Addr,
  bi: NetInterface,
  dScope: number,
  out: NetInterface,
): number {
  const sa = scope6(a.addr), sb = scope6(b.addr);
  if (sa !== sb) {
    // Rule 2: the smallest scope that still reaches the destination.
    if (sa < sb) return sa < dScope ? -1 : 1;
    return sb < dScope ? 1 : -1;
  }
  const da = a.flags.includes("deprecated"), db = b.flags.includes("deprecated");
  if (da !== db) return da ? -1 : 1;
  if ((ai === out) !== (bi === out)) return ai === out ? 1 : -1;
  return 0;
}

function counted(
  ctx: StackContext,
  a: Inet6Addr,
  iface: NetInterface,
  out: NetInterface,
  dScope: number,
): Uint8Array {
  const st = ctx.stats.ip6;
  const s = scope6(a.addr);
  (iface === out ? st.sources_sameif : st.sources_otherif)[s]++;
  (s === dScope ? st.sources_samescope : st.sources_otherscope)[s]++;
  if (a.flags.includes("deprecated")) st.sources_deprecated[s]++;
  return a.addr;
}

/**
 * The source for a packet to `dst` leaving by `out`: the destination itself
 * when it is ours (rule 1); then an address of adequate scope (link-scope
 * destinations: only the zone's interface, `out` without a zone); not
 * deprecated (none at all with `net.inet6.ip6.use_deprecated=0`); on the
 * outgoing interface; the longest matching prefix (rule 8). Tentative,
 * duplicated and anycast addresses are never chosen. `null` when none fits.
 */
export function selectSource6(
  ctx: StackContext,
  dst: Uint8Array,
  out: NetInterface,
  zone?: number,
): Uint8Array | null {
  const dScope = scope6(dst);
  const useDeprecated = ctx.tunables.ip6.useDeprecated !== 0;
  let best: Inet6Addr | null = null;
  let bestIface: NetInterface = out;
  let bestPrefix = -1;
  const only = dScope <= 2 ? (zone !== undefined ? ctx.interfaceByIndex(zone) : out) : null;
  for (const iface of ctx.interfaces()) {
    if (only && iface !== only && !(dScope === 1 && iface.isLoopback)) continue;
    for (const a of iface.inet6) {
      if (!addrUsable(a) || a.flags.includes("anycast")) continue;
      if (!useDeprecated && a.flags.includes("deprecated")) continue;
      if (ip6Equal(a.addr, dst)) return counted(ctx, a, iface, out, dScope);
      const c = best === null ? 1 : prefer(a, iface, best, bestIface, dScope, out);
      if (c < 0) continue;
      const prefix = commonPrefix(a.addr, dst);
      if (c > 0 || prefix > bestPrefix) {
        best = a;
        bestIface = iface;
        bestPrefix = prefix;
      }
    }
  }
  return best ? counted(ctx, best, bestIface, out, dScope) : null;
}
