/**
 * The command line of `io-pkt-v4-hc` / `io-pkt-v6-hc` (reference §1), parsed
 * without I/O: the daemon prints `message` and exits 1 on failure, and logs
 * `warnings` on success.
 *
 * ```
 * io-pkt-v6-hc [-DefISv] [-d driver [driver_options]]... [-i instance] [-P priority]
 *         [-p protocol [protocol_options]]... [-q interval] [-r priority] [-t threads]
 *         [-U string] [-u string] [-w interval]
 * ```
 * `-d` and `-p` take the next word as their option string when it does not start
 * with `-` (`-p tcpip prefix=/alt`, `-ptcpip prefix=/alt`, `-dvirtio`), may repeat,
 * and keep their command-line order in {@linkcode DaemonArgs.modules}.
 *
 * Our extension: `-f` keeps the daemon in the foreground. io-pkt always
 * detaches (`procmgr_daemon()`); `-f` is for service managers, tests and `deno task start`.
 *
 * Where io-pkt is silent and lenient we are strict: a word left over after the
 * options (io-pkt skips it), a non-numeric `-t`, `-q`, `-r`, `-w` or a malformed
 * `-U` is a usage error.
 *
 * @example `io-pkt-v6-hc -d e1000 name=eth -ptcpip prefix=/alt -ppf-v6`
 * ```ts
 * import { parseDaemonArgs } from "./args.ts";
 * const argv = ["-d", "e1000", "name=eth", "-ptcpip", "prefix=/alt", "-ppf-v6"];
 * const r = parseDaemonArgs(argv, { cpus: 2 });
 * if (r.ok) {
 *   console.log(r.args.modules.map((m) => `${m.kind}:${m.name}:${m.options}`));
 *   // [ "driver:e1000:name=eth", "protocol:tcpip:prefix=/alt", "protocol:pf-v6:" ]
 *   console.log(r.args.tcpipOptions, r.args.threads); // prefix=/alt 2
 * }
 * ```
 * @module
 */

import { getopt, getoptMessage } from "../tools/getopt.ts";
import { parseCInteger } from "../core/config.ts";

/** One `-d` or `-p`, in command-line order. `options` is `""` when none followed. */
export type ModuleSpec =
  | { kind: "driver"; name: string; options: string }
  | { kind: "protocol"; name: string; options: string };

/** The `-U` identity assumed when `qnx.kern.droproot` is written. */
export type DropRootIdentity =
  | { kind: "ids"; uid: number; gid?: number; supplementary: number[] }
  | { kind: "user"; user: string; supplementary: number[] };

/** The 7.1 options whose meaning is not documented; validated and recorded. */
export interface UndocumentedOptions {
  /** `-q interval` */
  q: number | null;
  /** `-r priority` */
  r: number | null;
  /** `-u string` */
  u: string | null;
  /** `-w interval` */
  w: number | null;
}

/** A parsed daemon command line. */
export interface DaemonArgs {
  /** Every `-d` and `-p`, in command-line order (built-in `tcpip` included). */
  modules: ModuleSpec[];
  /**
   * The built-in stack's options: those of the last `-p <name containing tcpip>`
   * that had options, as io-pkt keeps only that one. `""` = defaults.
   */
  tcpipOptions: string;
  /** `-i N`: the instance number (0 by default). */
  instance: number;
  /** The mount type this instance serves: `io-pkt` for 0, `io-pktN` otherwise. */
  mountType: string;
  /** `-P prio`: main-thread priority (21). */
  priority: number;
  /** `-t N`: packet-processing threads, 1..100 (default: the number of CPUs). */
  threads: number;
  /** `-S`: don't install the SIGSEGV handler. */
  noSegvHandler: boolean;
  /** `-D`: dedicated stack-context thread (turned off, with a warning, with one thread). */
  dedicatedStackContext: boolean;
  /** `-I`: don't ask for I/O privileges. */
  noIoPrivilege: boolean;
  /** `-U str` as given (default `99:99,120`). */
  dropRootString: string;
  /** `-U str` parsed. */
  dropRoot: DropRootIdentity;
  /** `-v` count: also print module load errors on the console. */
  verbose: number;
  /** `-e`: pulses instead of signals for interrupt events. */
  pulseEvents: boolean;
  /** `-f` (our extension): stay in the foreground, don't detach. */
  foreground: boolean;
  /** `-q`, `-r`, `-u`, `-w`. */
  undocumented: UndocumentedOptions;
}

/** What {@linkcode parseDaemonArgs} returns. */
export type DaemonArgsResult =
  | { ok: true; args: DaemonArgs; warnings: string[] }
  | { ok: false; message: string };

/** Options for {@linkcode parseDaemonArgs}. */
export interface ParseDaemonArgsOptions {
  /** Number of CPUs, the default for `-t` (1 if not given). */
  cpus?: number;
  /** Program name for messages (default `io-pkt`). */
  progname?: string;
}

/** io-pkt's getopt spec (`p:P:d:t:vSD` + `i:` + `e`), 7.1's `IU:q:r:u:w:`, and our `f`. */
const SPEC = "p:P:d:t:vSDi:eIU:q:r:u:w:f";
const DEFAULT_PRIORITY = 21;
const MAX_PRIORITY = 255;
const MAX_THREADS = 100;
const DEFAULT_DROPROOT = "99:99,120";

/**
 * The usage text, modelled on io-pkt's use message.
 *
 * @example
 * ```ts
 * import { daemonUsage } from "./args.ts";
 * console.log(daemonUsage("io-pkt-v6-hc").split("\n")[0]);
 * // io-pkt-v6-hc - Networking manager (io-pkt for Deno)
 * ```
 */
export function daemonUsage(progname: string): string {
  const pad = " ".repeat(progname.length);
  return `${progname} - Networking manager (io-pkt for Deno)

Syntax:
${progname} [-DefISv] [-d driver [driver_options]]... [-i instance] [-P priority]
${pad} [-p protocol [protocol_options]]... [-q interval] [-r priority]
${pad} [-t threads] [-U string] [-u string] [-w interval]

Options:
 -d driver [driver_options]
              Load driver and pass it the options (comma-separated, no spaces).
              name=, unit= and lan= are taken by the stack.
 -p protocol [protocol_options]
              Load protocol and pass it the options. tcpip is built in:
              -p tcpip is only needed to give it options (prefix=, forward, ...).
 -P priority  Priority of the main thread (default value: 21).
 -i instance  Stack instance number; mount requests of type io-pktX are served
              where X is the instance, e.g. -i1 -ptcpip prefix=/alt
 -S           Don't register a SIGSEGV handler.
 -t threads   Number of packet processing threads, 1..100 (default: one per CPU).
 -D           Run the stack context in a dedicated thread.
 -I           Don't acquire I/O privileges.
 -U string    User and groups to switch to when qnx.kern.droproot is set:
              uid[:gid[,sup_gid]*] or user_name[,sup_gid]* (default 99:99,120).
 -v           Display driver and protocol loading errors on the console too.
 -e           Use pulses rather than signals for interrupt events.
 -q interval, -r priority, -u string, -w interval
              Accepted for compatibility with io-pkt 7.1.
 -f           Stay in the foreground (io-pkt for Deno extension).
`;
}

/**
 * Whether `-p name` is the built-in stack: any name containing `tcpip`, as io-pkt decides.
 *
 * @example
 * ```ts
 * import { isBuiltinProtocol } from "./args.ts";
 * console.log(isBuiltinProtocol("tcpip"), isBuiltinProtocol("pf-v6")); // true false
 * ```
 */
export function isBuiltinProtocol(name: string): boolean {
  return name.includes("tcpip");
}

/**
 * The DLL io-pkt would load for `-p name`: `lsm-<name>.so`, or `name` itself when
 * it is a path (starts with `/`). For the daemon's `Unable to load <mod>: ...` line.
 *
 * @example
 * ```ts
 * import { protocolModuleName } from "./args.ts";
 * console.log(protocolModuleName("pf-v6")); // lsm-pf-v6.so
 * ```
 */
export function protocolModuleName(name: string): string {
  return name.startsWith("/") ? name : `lsm-${name}.so`;
}

/**
 * Parses `-U`: `uid[:gid[,sup_gid]*]` or `user_name[,sup_gid]*`.
 *
 * @example
 * ```ts
 * import { parseDropRoot } from "./args.ts";
 * console.log(parseDropRoot("99:99,120"));
 * // { kind: "ids", uid: 99, gid: 99, supplementary: [ 120 ] }
 * ```
 */
export function parseDropRoot(text: string): DropRootIdentity | undefined {
  const ids = /^(\d+)(?::(\d+)((?:,\d+)*))?$/.exec(text);
  if (ids !== null) {
    const supplementary = groups(ids[3]);
    const uid = Number(ids[1]);
    if (ids[2] === undefined) return { kind: "ids", uid, supplementary };
    return { kind: "ids", uid, gid: Number(ids[2]), supplementary };
  }
  const user = /^([A-Za-z_][A-Za-z0-9_.-]*)((?:,\d+)*)$/.exec(text);
  if (user === null) return undefined;
  return { kind: "user", user: user[1], supplementary: groups(user[2]) };
}

/** `",1,2"` → `[1, 2]`. */
function groups(list: string | undefined): number[] {
  return list ? list.slice(1).split(",").map(Number) : [];
}

/** A decimal number as C's `atoi` would take it whole, else `undefined`. */
function decimal(text: string): number | undefined {
  return /^[+-]?\d{1,10}$/.test(text) ? Number(text) : undefined;
}

/** Mutable parsing state. */
interface State {
  args: DaemonArgs;
  warnings: string[];
  progname: string;
}

/** Applies one option; returns an error message, or `undefined`. */
function apply(st: State, opt: string, arg: string, extra: string | undefined): string | undefined {
  const a = st.args;
  switch (opt) {
    case "d":
      a.modules.push({ kind: "driver", name: arg, options: extra ?? "" });
      return arg === "" ? `${st.progname}: -d: empty driver name\n` : undefined;
    case "p":
      a.modules.push({ kind: "protocol", name: arg, options: extra ?? "" });
      if (isBuiltinProtocol(arg) && extra !== undefined) a.tcpipOptions = extra;
      return arg === "" ? `${st.progname}: -p: empty protocol name\n` : undefined;
    case "P":
      return setPriority(st, arg);
    case "t":
      return setThreads(st, arg);
    case "i":
      return setInstance(st, arg);
    case "U":
      return setDropRoot(st, arg);
    case "q":
    case "w":
      return setUndocumentedNumber(st, opt, arg, 0);
    case "r":
      return setUndocumentedNumber(st, opt, arg, 1);
    case "u":
      a.undocumented.u = arg;
      return undefined;
  }
  return undefined;
}

/** Flags without arguments. */
function applyFlag(a: DaemonArgs, opt: string): void {
  if (opt === "v") a.verbose++;
  else if (opt === "S") a.noSegvHandler = true;
  else if (opt === "D") a.dedicatedStackContext = true;
  else if (opt === "I") a.noIoPrivilege = true;
  else if (opt === "e") a.pulseEvents = true;
  else if (opt === "f") a.foreground = true;
}

/** `-P`: out of 1..255 (or not a number) is ignored with a warning, as io-pkt does. */
function setPriority(st: State, arg: string): undefined {
  const n = decimal(arg);
  if (n === undefined || n < 1 || n > MAX_PRIORITY) {
    st.warnings.push(`${st.progname}: ignoring invalid value ${arg} for option -P`);
    st.args.priority = DEFAULT_PRIORITY;
  } else {
    st.args.priority = n;
  }
  return undefined;
}

/** `-t`: a number, clamped to 1..100 (io-pkt clamps silently; we warn). */
function setThreads(st: State, arg: string): string | undefined {
  const n = parseCInteger(arg);
  if (n === undefined || n < 0) return `${st.progname}: invalid number of threads "${arg}"\n`;
  const final = Math.min(Math.max(n, 1), MAX_THREADS);
  if (final !== n) st.warnings.push(`${st.progname}: -t ${n} adjusted to ${final} (1..100)`);
  st.args.threads = final;
  return undefined;
}

/** `-i`: a whole decimal number ≥ 0 (io-pkt: strtoul base 10, rest must be empty). */
function setInstance(st: State, arg: string): string | undefined {
  if (!/^\d{1,9}$/.test(arg)) return `${st.progname}: invalid instance "${arg}"\n`;
  st.args.instance = Number(arg);
  st.args.mountType = st.args.instance === 0 ? "io-pkt" : `io-pkt${st.args.instance}`;
  return undefined;
}

function setDropRoot(st: State, arg: string): string | undefined {
  const id = parseDropRoot(arg);
  if (id === undefined) return `${st.progname}: invalid -U string "${arg}"\n`;
  st.args.dropRoot = id;
  st.args.dropRootString = arg;
  return undefined;
}

function setUndocumentedNumber(
  st: State,
  opt: "q" | "r" | "w",
  arg: string,
  min: number,
): string | undefined {
  const n = parseCInteger(arg);
  const max = opt === "r" ? MAX_PRIORITY : Number.MAX_SAFE_INTEGER;
  if (n === undefined || n < min || n > max) {
    return `${st.progname}: invalid ${
      opt === "r" ? "priority" : "interval"
    } "${arg}" for option -${opt}\n`;
  }
  st.args.undocumented[opt] = n;
  return undefined;
}

function defaults(cpus: number): DaemonArgs {
  return {
    modules: [],
    tcpipOptions: "",
    instance: 0,
    mountType: "io-pkt",
    priority: DEFAULT_PRIORITY,
    threads: Math.max(1, Math.floor(cpus)),
    noSegvHandler: false,
    dedicatedStackContext: false,
    noIoPrivilege: false,
    dropRootString: DEFAULT_DROPROOT,
    dropRoot: { kind: "ids", uid: 99, gid: 99, supplementary: [120] },
    verbose: 0,
    pulseEvents: false,
    foreground: false,
    undocumented: { q: null, r: null, u: null, w: null },
  };
}

/**
 * Parses the daemon's arguments (without the program name).
 *
 * @param argv the arguments, e.g. `Deno.args`
 * @param options `cpus` (the `-t` default) and `progname` (for messages)
 * @returns the arguments and warnings to log, or the message for stderr (ends with a
 *   newline; usage errors include the usage text) after which the daemon exits 1
 *
 * @example A bad instance
 * ```ts
 * import { parseDaemonArgs } from "./args.ts";
 * const r = parseDaemonArgs(["-i", "x"]);
 * if (!r.ok) console.log(r.message); // io-pkt: invalid instance "x"
 * ```
 */
export function parseDaemonArgs(
  argv: string[],
  { cpus = 1, progname = "io-pkt" }: ParseDaemonArgsOptions = {},
): DaemonArgsResult {
  const r = getopt(argv, SPEC, { trailingWord: "dp" });
  if (!r.ok) return { ok: false, message: getoptMessage(progname, r) + daemonUsage(progname) };
  if (r.operands.length > 0) {
    const message = `${progname}: unexpected argument "${r.operands[0]}"\n`;
    return { ok: false, message: message + daemonUsage(progname) };
  }
  const st: State = { args: defaults(cpus), warnings: [], progname };
  for (const { opt, arg, extra } of r.opts) {
    if (arg === undefined) applyFlag(st.args, opt);
    else {
      const error = apply(st, opt, arg, extra);
      if (error !== undefined) return { ok: false, message: error };
    }
  }
  if (st.args.dedicatedStackContext && st.args.threads === 1) {
    st.warnings.push(
      "Cannot have dedicated stack context core with only 1 core or thread : (-D option, -t option)",
    );
    st.args.dedicatedStackContext = false;
  }
  return { ok: true, args: st.args, warnings: st.warnings };
}
