/**
 * The parameter grammar of `ifconfig interface [af] [address [dest]] [parameters]`:
 * NetBSD 4's command table and its address rules (ifconfig.c 1.181, af_inet.c,
 * af_inet6.c), turned into a plan that the tool then carries out.
 *
 * Parsing is done whole before any request is sent, so a typo late on the
 * line changes nothing (NetBSD applied `up`, `mtu`... while still reading the
 * line). The plan keeps NetBSD's order of effects: flag, MTU and metric
 * changes and `destroy` in command-line order, then the address deletion, then
 * the addition, then bringing the interface up.
 *
 * Address rules, as NetBSD has them:
 * - an IPv4 address without `alias` replaces the primary: the primary is
 *   deleted first (if there is one) and the new address added;
 * - an IPv6 address is only ever added (NetBSD's inet6 never deletes first);
 * - `-alias`/`delete` delete the given address, or without one the IPv4
 *   primary; `alias` only adds; at most one of the three;
 * - after a successful add the interface is brought up unless `down` was given;
 * - an IPv6 address without `prefixlen` or `/len` gets prefix length 64.
 *
 * @example
 * ```ts
 * import { parseParams } from "./ifconfig_params.ts";
 * const ifp = { name: "en0", index: 2, flags: 0x8802, mtu: 1500, metric: 0, driver: "e1000",
 *   stats: { ipackets: 0, ierrors: 0, opackets: 0, oerrors: 0, collisions: 0, ibytes: 0,
 *     obytes: 0, imcasts: 0, omcasts: 0, iqdrops: 0, noproto: 0 }, addrs: [] };
 * const plan = parseParams(["192.0.2.2/24"], "inet", ifp);
 * console.log(plan.addition); // { family: "inet", addr: "192.0.2.2", netmask: "255.255.255.0" }
 * ```
 * @module
 */

import type { AddrSpec, IfInfo, Inet6AddrFlag } from "../core/control/ops.ts";
import { IFF } from "../core/link/if_flags.ts";
import {
  formatIp4,
  formatIp6,
  isLinkLocal6,
  parseIp4,
  parseIp6,
  prefixToMask4,
} from "../core/net/ip_addr.ts";

/**
 * Ends the tool: `text` goes to stderr as it is and `code` is the exit status.
 * Thrown from deep in parsing, caught once in the tool's main function.
 */
export class IfconfigExit extends Error {
  /** Exit status. */
  readonly code: number;
  /** Everything to write to stderr, newline included. */
  readonly text: string;
  /**
   * Makes the exit: `text` for stderr, `code` for the status.
   *
   * @param text the whole stderr text
   * @param code the exit status (1 unless said otherwise)
   */
  constructor(text: string, code = 1) {
    super(text.trimEnd());
    this.name = "IfconfigExit";
    this.text = text;
    this.code = code;
  }
}

/** Throws NetBSD's `errx(1, ...)`: `ifconfig: <message>`. */
export function fail(message: string): never {
  throw new IfconfigExit(`ifconfig: ${message}\n`);
}

/** An address family ifconfig knows by name. */
export type IfconfigFamily = "inet" | "inet6";

/** The families `lookup_af_byname()` finds. */
export function lookupFamily(word: string): IfconfigFamily | null {
  return word === "inet" || word === "inet6" ? word : null;
}

/** One change made while reading the line, in command-line order. */
export type IfconfigStep =
  | { kind: "flags"; set: number; clear: number }
  | { kind: "mtu"; value: number }
  | { kind: "metric"; value: number }
  /** SIOCSLINKSTR: the driver's link string (`""` for `-linkstr`). */
  | { kind: "linkstr"; value: string }
  | { kind: "destroy" }
  | { kind: "note"; text: string }
  /** SIOCALIFADDR/SIOCDLIFADDR of a link-layer address (`link ADDR [active]`, `-link ADDR`). */
  | { kind: "lladdr"; addr: string; op: "add" | "delete"; active: boolean };

/** The address deletion (SIOCDIFADDR) a line asks for. */
export interface AddrDeletion {
  /** The family whose address goes. */
  family: IfconfigFamily;
  /** The address; absent means the interface's primary IPv4 address. */
  addr?: string;
  /** Replacing a primary that does not exist yet is not an error. */
  ignoreMissing: boolean;
}

/** Everything one configuration line asks for. */
export interface IfconfigPlan {
  /** Flag, MTU and metric changes, `destroy` and notes, in command-line order. */
  steps: IfconfigStep[];
  /** The address to delete (SIOCDIFADDR), after the steps. */
  deletion: AddrDeletion | null;
  /** The address to add (SIOCAIFADDR), after the deletion. */
  addition: AddrSpec | null;
  /** Bring the interface up after a successful addition (no `down` on the line). */
  upAfterAdd: boolean;
}

/** C's strtol() on a prefix length: leading digits count, anything else reads as 0. */
function strtolPrefix(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? Number.parseInt(m[1], 10) : 0;
}

/**
 * `strtoul(val, &ep, 10)` followed by NetBSD's `if (!ep || *ep)` check, stored
 * into an int as `ifr_mtu`/`ifr_metric` are: `""` reads as 0, `-1` wraps to -1.
 * Returns null when characters are left over.
 */
function strtoulInt(text: string): number | null {
  if (text === "") return 0;
  const m = /^\s*([+-]?)(\d+)$/.exec(text);
  if (!m) return null;
  let n = BigInt(m[2]);
  // Overflow gives ULONG_MAX, as strtoul does on QNX's 32-bit longs.
  if (n > 0xffffffffn) n = 0xffffffffn;
  if (m[1] === "-") n = (0x100000000n - n) % 0x100000000n;
  return Number(BigInt.asIntN(32, n));
}

/** Which request slot an address is parsed into (NetBSD's ADDR, RIDADDR, DSTADDR). */
type Slot = "addr" | "rid" | "dst";

/** The parser's state: NetBSD's globals of the same names. */
class ParamState {
  readonly steps: IfconfigStep[] = [];
  setaddr = false;
  doalias = 0;
  clearaddr = false;
  ignoreMissing = false;
  newaddr = -1;
  conflicting = 0;
  checkUp = -1;
  explicitPrefix = false;
  addr?: string;
  rid?: string;
  dst?: string;
  /** IPv4 netmask, dotted. */
  netmask?: string;
  /** IPv6 prefix length. */
  prefixlen?: number;
  readonly ia6flags = new Set<Inet6AddrFlag>();
  /** IPv6 lifetimes in seconds (`pltime`, `vltime`); absent is infinite. */
  pltime?: number;
  vltime?: number;

  constructor(readonly family: IfconfigFamily, readonly ifp: IfInfo) {}

  /** in_getprefix()/in6_getprefix(): 0 and the full length both mean a host mask. */
  setPrefix(text: string): void {
    const len = strtolPrefix(text);
    const max = this.family === "inet" ? 32 : 128;
    if (len < 0 || len > max) fail(`${text}: bad value`);
    const bits = len === 0 ? max : len;
    if (this.family === "inet") this.netmask = formatIp4(prefixToMask4(bits));
    else this.prefixlen = bits;
  }

  /** in_getaddr()/in6_getaddr(): only the ADDR slot takes a `/len` suffix. */
  parseAddr(text: string, slot: Slot): string {
    let body = text;
    const slash = text.lastIndexOf("/");
    if (slot === "addr" && slash !== -1) {
      body = text.slice(0, slash);
      this.setPrefix(text.slice(slash + 1));
      if (this.family === "inet6") this.explicitPrefix = true;
    }
    const parsed = this.family === "inet" ? parseInet(body) : this.parseInet6(body);
    return parsed ?? fail(`${body}: bad value`);
  }

  /** IPv6 text with an optional zone naming this interface (by name or index). */
  parseInet6(text: string): string | null {
    const pct = text.indexOf("%");
    if (pct !== -1) {
      const zone = text.slice(pct + 1);
      if (zone !== this.ifp.name && zone !== String(this.ifp.index)) return null;
    }
    const bytes = parseIp6(pct === -1 ? text : text.slice(0, pct));
    return bytes ? formatIp6(bytes) : null;
  }

  /** setifaddr(): the first operand that is not a keyword. */
  address(word: string): void {
    this.setaddr = true;
    if (this.newaddr === -1) this.newaddr = 1;
    // IPv4 replaces the primary; NetBSD's inet6 has no SIOCGIFADDR and only adds.
    if (this.doalias === 0 && this.family === "inet") {
      this.clearaddr = true;
      this.ignoreMissing = true;
    }
    if (this.doalias >= 0) this.addr = this.parseAddr(word, "addr");
    else this.rid = this.parseAddr(word, "rid");
  }

  /** setifdstaddr(): a further operand after the address. */
  destination(word: string): void {
    if ((this.ifp.flags & IFF.POINTOPOINT) === 0) {
      fail("can't set destination address on non-point-to-point link");
    }
    this.dst = this.parseAddr(word, "dst");
  }

  /** notealias(): `alias` (1), `-alias` and `delete` (-1). */
  noteAlias(param: number): void {
    // An address already read is the one `-alias` deletes.
    if (this.setaddr && this.doalias === 0 && param < 0) this.rid = this.addr;
    this.doalias = param;
    this.clearaddr = param < 0;
    this.ignoreMissing = false;
    if (param < 0) this.newaddr = 0;
    this.conflicting++;
  }

  /** setia6eui64(): the interface identifier of the link-local address fills the low 64 bits. */
  eui64(): void {
    if (this.family !== "inet6") fail("eui64 not allowed for the AF");
    const bytes = parseIp6(this.addr ?? "::") ?? new Uint8Array(16);
    if (bytes.subarray(8).some((b) => b !== 0)) fail("interface index is already filled");
    const ll = this.ifp.addrs.map((a) => a.family === "inet6" ? parseIp6(a.addr) : null)
      .find((a) => a !== null && isLinkLocal6(a));
    if (!ll) fail("could not determine link local address");
    bytes.set(ll.subarray(8), 8);
    this.addr = formatIp6(bytes);
  }

  /** The plan once every word is read. */
  finish(): IfconfigPlan {
    if (this.conflicting > 1) fail("Only one use of alias, -alias or delete is valid.");
    // "Aggregatable address architecture defines all prefixes are 64."
    if (this.family === "inet6" && !this.explicitPrefix) this.prefixlen = 64;
    return {
      steps: this.steps,
      deletion: this.clearaddr ? this.deletion() : null,
      addition: this.newaddr > 0 && this.addr !== undefined ? this.addition(this.addr) : null,
      upAfterAdd: this.checkUp < 0,
    };
  }

  deletion(): AddrDeletion {
    if (this.family === "inet") {
      return { family: "inet", addr: this.rid, ignoreMissing: this.ignoreMissing };
    }
    // An empty in6_ridreq names the unspecified address, which the stack never has.
    return { family: "inet6", addr: this.rid ?? "::", ignoreMissing: false };
  }

  addition(addr: string): AddrSpec {
    if (this.family === "inet6") {
      const spec: AddrSpec = { family: "inet6", addr, prefixlen: this.prefixlen };
      if (this.dst !== undefined) spec.dst = this.dst;
      if (this.ia6flags.size > 0) spec.flags = [...this.ia6flags];
      if (this.pltime !== undefined) spec.pltime = this.pltime;
      if (this.vltime !== undefined) spec.vltime = this.vltime;
      return spec;
    }
    const spec: AddrSpec = { family: "inet", addr };
    if (this.netmask !== undefined) spec.netmask = this.netmask;
    // in_aliasreq has one slot for both: the destination on point-to-point links, else broadcast.
    if (this.dst !== undefined) {
      if (this.ifp.flags & IFF.POINTOPOINT) spec.dst = this.dst;
      else spec.broadcast = this.dst;
    }
    return spec;
  }
}

/** inet_aton(3) text to dotted quad (gethostbyname() is not consulted: no resolver here). */
function parseInet(text: string): string | null {
  const v = parseIp4(text);
  return v === null ? null : formatIp4(v);
}

/** One keyword of the command table. */
interface Command {
  /** How many following words it takes (NetBSD's NEXTARG, NEXTARG2). */
  args: 0 | 1 | 2;
  run(st: ParamState, args: string[], word: string): void;
}

function flagCommand(set: number, clear: number): Command {
  return {
    args: 0,
    run(st) {
      // `down` also cancels the automatic `up` after an address is added.
      if (clear === IFF.UP) st.checkUp = 0;
      st.steps.push({ kind: "flags", set, clear });
    },
  };
}

function ia6FlagCommand(flag: Inet6AddrFlag, on: boolean): Command {
  return {
    args: 0,
    run(st) {
      // NetBSD keeps these in the inet6 request only; with inet they have no effect there either.
      if (on) st.ia6flags.add(flag);
      else st.ia6flags.delete(flag);
    },
  };
}

function valueCommand(kind: "mtu" | "metric"): Command {
  return {
    args: 1,
    run(st, [val]) {
      const value = strtoulInt(val);
      if (value === null) fail(`${val}: invalid ${kind}`);
      st.steps.push({ kind, value });
    },
  };
}

function lifetimeCommand(): Command {
  return {
    args: 1,
    run(st, [val], word) {
      if (!/^\s*[+-]?(0x[0-9a-f]|\d)/i.test(val)) fail(`invalid ${word}`);
      if (st.family !== "inet6") fail(`${word} not allowed for the AF`);
      // strtol(val, &ep, 0) as NetBSD reads it: the leading number counts.
      const m = /^\s*([+-]?)(0x[0-9a-f]+|0[0-7]*|[1-9]\d*)/i.exec(val)!;
      const n = Number(m[2].startsWith("0") && !/^0x/i.test(m[2]) ? parseInt(m[2], 8) : m[2]);
      const seconds = m[1] === "-" ? -n : n;
      if (seconds < 0 || seconds > 0xffffffff) fail(`invalid ${word}`);
      if (word === "pltime") st.pltime = seconds;
      else st.vltime = seconds;
    },
  };
}

function unsupported(args: 0 | 1 | 2): Command {
  return { args, run: (_st, _args, word) => fail(`${word}: not supported`) };
}

/** `link ADDR` / `lladdr ADDR` (add) and `-link ADDR` (delete): a link-layer address. */
function linkCommand(op: "add" | "delete"): Command {
  return {
    args: 1,
    run(st, [addr]) {
      if (!/^[0-9a-f]{1,2}([:-][0-9a-f]{1,2}){5}$/i.test(addr)) fail(`${addr}: bad value`);
      st.steps.push({ kind: "lladdr", addr: addr.toLowerCase(), op, active: false });
    },
  };
}

/** The `link` step that `active` (or `delete` after `link ADDR`) applies to. */
function lastLink(st: ParamState, word: string): Extract<IfconfigStep, { kind: "lladdr" }> {
  const last = st.steps.at(-1);
  if (last?.kind !== "lladdr" || last.op !== "add") fail(`${word}: bad value`);
  return last;
}

const TRAILERS_NOTE = "Note: trailers are no longer sent, but always received\n";

/** Keywords NetBSD 4 knows that this stack cannot carry out yet, with their argument counts. */
const UNSUPPORTED: ReadonlyArray<readonly [string, 0 | 1 | 2]> = [
  ...["bssid", "chan", "frag", "ssid", "nwid", "nwkey", "powersavesleep", "list"]
    .map((w) => [w, 1] as const),
  ...["-bssid", "-chan", "-frag", "-nwkey", "powersave", "-powersave", "hidessid", "-hidessid"]
    .map((w) => [w, 0] as const),
  ["apbridge", 0],
  ["-apbridge", 0],
  ["ipdst", 1],
  ["preference", 1],
  ...["advbase", "advskew", "pass", "vhid", "state", "carpdev"].map((w) => [w, 1] as const),
  ["-carpdev", 0],
  ...["range", "phase", "snpaoffset", "nsellength"].map((w) => [w, 1] as const),
  ["tunnel", 2],
  ["deletetunnel", 0],
  ["vlan", 1],
  ["vlanif", 1],
  ["-vlanif", 0],
  ...["media", "mediaopt", "-mediaopt", "mode", "instance", "inst"].map((w) => [w, 1] as const),
  ...["ip4csum", "tcp4csum", "udp4csum", "tcp6csum", "udp6csum"].flatMap((c) =>
    [c, `${c}-tx`, `${c}-rx`].flatMap((w) => [[w, 0] as const, [`-${w}`, 0] as const])
  ),
  ...["tso4", "tso6"].flatMap((w) => [[w, 0] as const, [`-${w}`, 0] as const]),
  ["agrport", 1],
  ["-agrport", 1],
];

const COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  ["up", flagCommand(IFF.UP, 0)],
  ["down", flagCommand(0, IFF.UP)],
  ["arp", flagCommand(0, IFF.NOARP)],
  ["-arp", flagCommand(IFF.NOARP, 0)],
  ["debug", flagCommand(IFF.DEBUG, 0)],
  ["-debug", flagCommand(0, IFF.DEBUG)],
  ["link0", flagCommand(IFF.LINK0, 0)],
  ["-link0", flagCommand(0, IFF.LINK0)],
  ["link1", flagCommand(IFF.LINK1, 0)],
  ["-link1", flagCommand(0, IFF.LINK1)],
  ["link2", flagCommand(IFF.LINK2, 0)],
  ["-link2", flagCommand(0, IFF.LINK2)],
  ["trailers", { args: 0, run: (st) => st.steps.push({ kind: "note", text: TRAILERS_NOTE }) }],
  ["-trailers", { args: 0, run: (st) => st.steps.push({ kind: "note", text: TRAILERS_NOTE }) }],
  ["alias", { args: 0, run: (st) => st.noteAlias(1) }],
  ["-alias", { args: 0, run: (st) => st.noteAlias(-1) }],
  ["delete", { args: 0, run: (st) => st.noteAlias(-1) }],
  ["netmask", { args: 1, run: (st, [m]) => setNetmask(st, m) }],
  ["broadcast", { args: 1, run: (st, [a]) => void (st.dst = st.parseAddr(a, "dst")) }],
  ["prefixlen", {
    args: 1,
    run(st, [n]) {
      st.setPrefix(n);
      st.explicitPrefix = true;
    },
  }],
  ["metric", valueCommand("metric")],
  ["mtu", valueCommand("mtu")],
  ["linkstr", { args: 1, run: (st, [val]) => st.steps.push({ kind: "linkstr", value: val }) }],
  ["-linkstr", { args: 0, run: (st) => st.steps.push({ kind: "linkstr", value: "" }) }],
  ["anycast", ia6FlagCommand("anycast", true)],
  ["-anycast", ia6FlagCommand("anycast", false)],
  ["tentative", ia6FlagCommand("tentative", true)],
  ["-tentative", ia6FlagCommand("tentative", false)],
  ["deprecated", ia6FlagCommand("deprecated", true)],
  ["-deprecated", ia6FlagCommand("deprecated", false)],
  ["pltime", lifetimeCommand()],
  ["vltime", lifetimeCommand()],
  ["eui64", { args: 0, run: (st) => st.eui64() }],
  ["destroy", { args: 0, run: (st) => st.steps.push({ kind: "destroy" }) }],
  ["link", linkCommand("add")],
  ["lladdr", linkCommand("add")],
  ["-link", linkCommand("delete")],
  ["active", {
    args: 0,
    run(st, _a, word) {
      lastLink(st, word).active = true;
    },
  }],
  ...UNSUPPORTED.map(([w, n]) => [w, unsupported(n)] as const),
]);

/**
 * `netmask m`: IPv4 in inet_aton(3) form (`255.255.255.0`, `0xffffff00`). For
 * inet6 the mask is read as an address; as in NetBSD, only `prefixlen` or
 * `/len` make a prefix length stick, so it ends as 64 otherwise.
 */
function setNetmask(st: ParamState, text: string): void {
  if (st.family === "inet") {
    st.netmask = parseInet(text) ?? fail(`${text}: bad value`);
    return;
  }
  const mask = parseIp6(text) ?? fail(`${text}: bad value`);
  let len = 0;
  while (len < 128 && (mask[len >> 3] & (0x80 >> (len & 7))) !== 0) len++;
  st.prefixlen = len;
}

/**
 * Reads the parameter words of a configuration line for `family` on `ifp`.
 * Throws {@linkcode IfconfigExit} with NetBSD's message on the first bad word.
 */
export function parseParams(words: string[], family: IfconfigFamily, ifp: IfInfo): IfconfigPlan {
  const st = new ParamState(family, ifp);
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    const last = st.steps.at(-1);
    if ((word === "delete" || word === "-alias") && last?.kind === "lladdr" && !st.setaddr) {
      last.op = "delete"; // NetBSD's `ifconfig IF link ADDR delete`
      continue;
    }
    const cmd = COMMANDS.get(word);
    if (!cmd) {
      if (st.setaddr) st.destination(word);
      else st.address(word);
      continue;
    }
    if (i + cmd.args >= words.length) {
      fail(cmd.args === 2 ? `'${word}' requires 2 arguments` : `'${word}' requires argument`);
    }
    cmd.run(st, words.slice(i + 1, i + 1 + cmd.args), word);
    i += cmd.args;
  }
  return st.finish();
}
