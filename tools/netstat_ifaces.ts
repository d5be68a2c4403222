/**
 * `netstat -i` and `-I interface`: NetBSD 4's intpr(), one row per address
 * with the link-level (`<Link>`) row first; `-b` swaps the packet counters for
 * byte counters, `-d` adds the input queue's drops, `-v` widens the columns
 * to their text.
 *
 * @example
 * ```ts ignore
 * import { interfaces } from "./netstat_ifaces.ts";
 * const text = await interfaces(opts, client); // "Name  Mtu   Network ..."
 * ```
 * @module
 */

import type { IfAddrInfo, IfInfo, IfStats } from "../core/control/ops.ts";
import { IFF } from "../core/link/if_flags.ts";
import { parseIp4Strict } from "../core/net/ip_addr.ts";
import { call, left, NetstatError, type Options, right } from "./netstat_common.ts";
import { hostName4, hostName6, maskBits, netName4, netName6 } from "./netstat_names.ts";
import type { ControlClient } from "./tool_context.ts";

/**
 * The interface table: every interface, or the one `-I` names.
 *
 * @param o the options (`-I`, `-b`, `-d`, `-n`, `-s`, `-v` matter here)
 * @param client the stack's control connection
 * @returns the text
 * @throws {NetstatError} when `-I` names no interface the stack has
 */
export async function interfaces(o: Options, client: ControlClient): Promise<string> {
  let list = await call(client, { op: "ifList" }, "getifaddrs");
  if (o.iface !== null) {
    list = list.filter((i) => i.name === o.iface);
    if (list.length === 0) throw new NetstatError(`${o.iface}: unknown interface`);
  }
  // NetBSD 4's intpr() leaves the header out under -s.
  let out = o.sflag > 0 ? "" : interfaceHeader(o);
  for (const ifp of list) out += interfaceRows(o, ifp);
  return out;
}

function interfaceHeader(o: Options): string {
  let h = `${left("Name", 5, 5)} ${left("Mtu", 5, 5)} ${left("Network", 13, 13)} ` +
    `${left("Address", 17, 17)} `;
  if (o.bytes) h += `${right("Ibytes", 10)} ${right("Obytes", 10)}`;
  else {
    h += `${right("Ipkts", 8)} ${right("Ierrs", 5)} ${right("Opkts", 8)} ${right("Oerrs", 5)} ` +
      right("Colls", 5);
  }
  return h + (o.drops ? ` ${right("Drops", 5)}` : "") + "\n";
}

/** `%-*.*s `: `-v` widens the column to the text instead of cutting it. */
function ifColumn(o: Options, text: string, width: number): string {
  const w = o.verbose ? Math.max(width, text.length) : width;
  return left(text, w, w) + " ";
}

/** One row per address, the link-level (`<Link>`) row first. */
function interfaceRows(o: Options, ifp: IfInfo): string {
  const name = ifp.name + (ifp.flags & IFF.UP ? "" : "*");
  const head = `${ifColumn(o, name, 5)}${left(String(ifp.mtu), 5)} `;
  const tail = interfaceCounters(o, ifp.stats);
  // A loopback's link address is empty; getnameinfo() prints it as "".
  let out = head + left("<Link>", 13, 13) + " " + ifColumn(o, ifp.lladdr ?? "", 17) + tail;
  for (const a of ifp.addrs) out += head + addressColumns(o, ifp, a) + tail;
  return out;
}

function addressColumns(o: Options, ifp: IfInfo, a: IfAddrInfo): string {
  if (a.family === "inet") {
    const addr = parseIp4Strict(a.addr) ?? 0;
    const mask = parseIp4Strict(a.netmask) ?? 0;
    const net = netName4((addr & mask) >>> 0, maskBits(mask));
    return ifColumn(o, net, 13) + ifColumn(o, hostName4(a.addr, o.nflag), 17);
  }
  // KAME clears the scope of a link-local address unless -v asks for it.
  const zoned = o.verbose && a.scopeid !== undefined ? `${a.addr}%${ifp.name}` : a.addr;
  return ifColumn(o, netName6(zoned, a.prefixlen, o.nflag), 13) +
    ifColumn(o, hostName6(zoned, true), 17);
}

function interfaceCounters(o: Options, st: IfStats): string {
  const counters = o.bytes
    ? `${right(st.ibytes, 10)} ${right(st.obytes, 10)}`
    : `${right(st.ipackets, 8)} ${right(st.ierrors, 5)} ${right(st.opackets, 8)} ` +
      `${right(st.oerrors, 5)} ${right(st.collisions, 5)}`;
  // The drops column: the input queue's, as newer NetBSD's sysctl path prints.
  return counters + (o.drops ? ` ${right(st.iqdrops, 5)}` : "") + "\n";
}
