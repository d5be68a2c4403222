/**
 * The `-p tcpip` option string of io-pkt (reference §2), parsed sans I/O.
 *
 * Options are comma-separated `name` or `name=value` words with no spaces
 * (getsubopt(3) semantics). Numbers are C integers as `strtol(s, NULL, 0)` reads
 * them (`65536`, `0x10000`, `0200000`), but the whole value must be a number:
 * where io-pkt would silently read `4k` as 4, we report an error, and the daemon
 * refuses to start. Clamping and rounding follow io-pkt 6.6's `init_main.c` and
 * are logged when they change a value. An unknown name is logged, as io-pkt logs
 * it, and otherwise ignored.
 *
 * Defaults are io-pkt 6.6's, with one choice made explicit: `recv_ctxt` defaults
 * to 6.6's 135168 bytes (132 KiB) rather than the 7.x documentation's 65536,
 * because the clamping rules we follow (4 KiB..512 KiB, 2 KiB multiples) are
 * 6.6's too and a larger receive context means fewer hops per bulk write.
 *
 * @example Parse the options of `io-pkt-v6-hc -ptcpip stacksize=48000,mclbytes=4096`
 * ```ts
 * import { parseTcpipOptions, sysctlOverrides } from "./config.ts";
 * const { config, log, errors } = parseTcpipOptions("stacksize=48000,mclbytes=4096");
 * console.log(config.mclbytes, log, errors); // 4096 [] []
 * console.log(sysctlOverrides(config)["kern.mbuf.mclbytes"]); // 4096
 * ```
 * @module
 */

/** One `mfib_gid_map` entry: processes whose group is `gid` use routing table `fib`. */
export interface MfibGidMapping {
  gid: number;
  fib: number;
}

/**
 * Every `-p tcpip` option, named in camelCase after the option (`mbuf_cache` →
 * `mbufCache`). Sizes are bytes; priorities are QNX priorities (1..255).
 */
export interface StackConfig {
  /** `prefix=/path`: prepended to every path the stack registers; `""` = none. */
  prefix: string;
  /** `forward`: IPv4 forwarding (`net.inet.ip.forwarding`). */
  forward: boolean;
  /** `fastforward[=0|1]`: the ipflow fast path, used only while forwarding. */
  fastforward: boolean;
  /** `forward6`: IPv6 forwarding (v6 stack only). */
  forward6: boolean;
  /** `ipsec`: enable IPsec (the PF_KEY socket). */
  ipsec: boolean;
  /** `nocryptodev`: don't register `/dev/crypto`. */
  nocryptodev: boolean;
  /** `pfil_ipsec`: run packet filters before encryption. */
  pfilIpsec: boolean;
  /** `mclbytes=X`: mbuf cluster size, a power of 2 in 2048..min(16384, pagesize). */
  mclbytes: number;
  /** `pagesize=X`: pool allocation quantum, a power of 2 in 4096..16 MiB. */
  pagesize: number;
  /** `bigpage_strict[=n]`: use `pagesize` for every pool. */
  bigpageStrict: boolean;
  /** `mbuf_cache=X`: per-thread cache of freed mbufs. */
  mbufCache: number;
  /** `pkt_cache=X`: per-thread cache of mbuf + cluster pairs. */
  pktCache: number;
  /** `mtag_cache=X`: per-thread cache of small mtags. */
  mtagCache: number;
  /** `cache=0`: turns packet-buffer caching off. */
  cache: boolean;
  /** `pkt_typed_mem=obj`: typed memory object for packet buffers; `null` = none. */
  pktTypedMem: string | null;
  /** `recv_ctxt=X`: receive-context bytes, 4096..524288 in 2048-byte steps. */
  recvCtxt: number;
  /** `reply_ctxt=X`: reply buffer objects per operation, 32..512. */
  replyCtxt: number;
  /** `somaxconn=X`: listen-queue limit, at least 128. */
  somaxconn: number;
  /** `reuseport_unicast`: with SO_REUSEPORT, give unicast UDP to every bound socket. */
  reuseportUnicast: boolean;
  /** `rx_prio=X` (alias `rx_pulse_prio`): receive-thread priority. */
  rxPrio: number;
  /** `timer_pulse_prio=X`: timer-pulse priority. */
  timerPulsePrio: number;
  /** `stacksize=X`: per-thread stack bytes (smaller than the current value: ignored). */
  stacksize: number;
  /** `stackguard`: guard page between thread stacks (stacksize rounded up to a page). */
  stackguard: boolean;
  /** `bigstack[=X]`: stack bytes used while loading drivers. */
  bigstack: number;
  /** `threads_min=X`: minimum functional connections (at least 4). */
  threadsMin: number;
  /** `threads_max=X` (alias `threads`): maximum simultaneous blocking operations (at least 4). */
  threadsMax: number;
  /** `threads_incr=X`: growth step of functional connections (at least 4). */
  threadsIncr: number;
  /** `confstr_monitor`: re-read the host name when it changes. */
  confstrMonitor: boolean;
  /** `random`: use /dev/random. */
  random: boolean;
  /** `num_tap_interface=X`: maximum TAP interfaces. */
  numTapInterface: number;
  /** `num_tun_control_interface=X`: `/dev/tun0..tunX-1` created at start. */
  numTunControlInterface: number;
  /** `mfib_enable`: multiple routing tables. */
  mfibEnable: boolean;
  /** `mfib_gid_map=...`: group-to-FIB map. */
  mfibGidMap: readonly MfibGidMapping[];
  /** `so_txprio_enable`: the SO_TXPRIO socket option. */
  soTxprioEnable: boolean;
  /** `strict_ts`: monotonic 1 ms BPF timestamps. */
  strictTs: boolean;
  /** `enmap=0`: no automatic `enN` aliases. */
  enmap: boolean;
  /** `timertol=X`: timer tolerance in ms (0..1000; 0 = none). */
  timertol: number;
  /** `tickstop_min=X`: undocumented timer knob. */
  tickstopMin: number;
  /** `tickstop_max=X`: undocumented timer knob. */
  tickstopMax: number;
  /** `rgroup_allowed[=gid]`: root-group members get root-only services; `null` = off. */
  rgroupAllowed: number | null;
  /** `gtimerlib=lib`: alternative timer library; `null` = none. */
  gtimerlib: string | null;
  /** `min_fperms=X`: accepted and ignored by io-pkt 6.6 itself; `null` = not given. */
  minFperms: number | null;
  /** `altq`: ALTQ resource manager. */
  altq: boolean;
}

/** io-pkt's defaults (6.6 source; `recv_ctxt` choice explained in the module doc). */
export const DEFAULT_STACK_CONFIG: Readonly<StackConfig> = Object.freeze({
  prefix: "",
  forward: false,
  fastforward: true,
  forward6: false,
  ipsec: false,
  nocryptodev: false,
  pfilIpsec: false,
  mclbytes: 2048,
  pagesize: 128 * 1024,
  bigpageStrict: false,
  mbufCache: 128,
  pktCache: 64,
  mtagCache: 128,
  cache: true,
  pktTypedMem: null,
  recvCtxt: 132 * 1024,
  replyCtxt: 90,
  somaxconn: 128,
  reuseportUnicast: false,
  rxPrio: 21,
  timerPulsePrio: 21,
  stacksize: 4096,
  stackguard: false,
  bigstack: 128 * 1024,
  threadsMin: 15,
  threadsMax: 200,
  threadsIncr: 25,
  confstrMonitor: false,
  random: false,
  numTapInterface: 5,
  numTunControlInterface: 4,
  mfibEnable: false,
  mfibGidMap: Object.freeze([]),
  soTxprioEnable: false,
  strictTs: false,
  enmap: true,
  timertol: 0,
  tickstopMin: 0,
  tickstopMax: 0,
  rgroupAllowed: null,
  gtimerlib: null,
  minFperms: null,
  altq: false,
});

/**
 * Options accepted for compatibility that change nothing in a user-space stack
 * (thread priorities and stacks, typed memory, IPsec, multiple FIBs, timer
 * knobs...). `pagesize` is here because its one effect, capping `mclbytes`, is
 * applied by {@linkcode parseTcpipOptions} itself. Every other option is used.
 */
export const compatOnlyOptions: readonly string[] = Object.freeze([
  "ipsec",
  "nocryptodev",
  "pfil_ipsec",
  "pagesize",
  "bigpage_strict",
  "mtag_cache",
  "pkt_typed_mem",
  "reply_ctxt",
  "rx_prio",
  "rx_pulse_prio",
  "timer_pulse_prio",
  "stacksize",
  "stackguard",
  "bigstack",
  "confstr_monitor",
  "random",
  "mfib_enable",
  "mfib_gid_map",
  "so_txprio_enable",
  "strict_ts",
  "enmap",
  "timertol",
  "tickstop_min",
  "tickstop_max",
  "rgroup_allowed",
  "gtimerlib",
  "min_fperms",
  "altq",
]);

/** The result of {@linkcode parseTcpipOptions}. */
export interface TcpipOptionsResult {
  /** The configuration: `base` with the options applied. */
  config: StackConfig;
  /** Lines for the daemon's log (adjusted values, unrecognized names, notices). */
  log: string[];
  /** Bad values; the daemon refuses to start when there is any. */
  errors: string[];
  /** The recognized option names, in the order given (aliases as written). */
  options: string[];
}

/** Options for {@linkcode parseTcpipOptions}. */
export interface ParseTcpipOptions {
  /** The v6 stack (default); `forward6` is unrecognized on the v4 stack, as in io-pkt. */
  inet6?: boolean;
}

/** QNX's highest thread priority (SCHED_RR/FIFO), the ceiling for rx/timer priorities. */
const MAX_PRIO = 255;
/** The system page size io-pkt would get from sysconf(_SC_PAGESIZE). */
const SYSTEM_PAGESIZE = 4096;
const INT_MAX = 0x7fffffff;

/**
 * Reads a whole string as C's `strtol(s, NULL, 0)` reads its prefix: optional
 * sign, then `0x` hex, `0` octal or decimal. `undefined` when anything else is
 * in the string or the value does not fit a C `int`.
 *
 * @example
 * ```ts
 * import { parseCInteger } from "./config.ts";
 * console.log(parseCInteger("0x800"), parseCInteger("010"), parseCInteger("4k"));
 * // 2048 8 undefined
 * ```
 */
export function parseCInteger(text: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (m === null) return undefined;
  const digits = m[2];
  const magnitude = /^0[xX]/.test(digits)
    ? parseInt(digits.slice(2), 16)
    : digits.length > 1 && digits[0] === "0"
    ? parseInt(digits.slice(1), 8)
    : parseInt(digits, 10);
  const value = m[1] === "-" ? -magnitude : magnitude;
  return value > INT_MAX || value < -INT_MAX - 1 ? undefined : value;
}

/** Largest power of two ≤ `n` (n ≥ 1), as io-pkt's `round_pow2()`. */
function roundDownPow2(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

/** Parsing state shared by the option handlers. */
interface Ctx {
  config: StackConfig;
  log: string[];
  errors: string[];
}

type Handler = (ctx: Ctx, name: string, value: string | undefined) => void;

type KeysOfType<T> = {
  [K in keyof StackConfig]: StackConfig[K] extends T ? (T extends StackConfig[K] ? K : never)
    : never;
}[keyof StackConfig];
type BoolKey = KeysOfType<boolean>;
type NumKey = KeysOfType<number>;

function bad(ctx: Ctx, name: string, why: string): undefined {
  ctx.errors.push(`tcpip: option "${name}": ${why}`);
  return undefined;
}

/** The option's value as a number, or `undefined` after recording why not. */
function numberValue(
  ctx: Ctx,
  name: string,
  value: string | undefined,
  allowNegative = false,
): number | undefined {
  if (value === undefined) return bad(ctx, name, "requires a value");
  const n = parseCInteger(value);
  if (n === undefined) return bad(ctx, name, `invalid number "${value}"`);
  if (n < 0 && !allowNegative) return bad(ctx, name, `${n} is negative`);
  return n;
}

function adjusted(ctx: Ctx, name: string, given: number, final: number, rule: string): void {
  if (given !== final) {
    ctx.log.push(`tcpip: option "${name}": ${given} adjusted to ${final} (${rule})`);
  }
}

/** A switch such as `forward`. A value is ignored, as io-pkt does, but `=0` gets a log line. */
function flag(key: BoolKey): Handler {
  return (ctx, name, value) => {
    if (value !== undefined && parseCInteger(value) === 0) {
      ctx.log.push(`tcpip: option "${name}" takes no value; "=${value}" ignored, option set`);
    }
    ctx.config[key] = true;
  };
}

/** `name=0` turns `key` off, any other number on (`cache=0`, `enmap=0`, `bigpage_strict=1`). */
function onOff(key: BoolKey, valueOptional = false): Handler {
  return (ctx, name, value) => {
    if (value === undefined && valueOptional) {
      ctx.config[key] = true;
      return;
    }
    const n = numberValue(ctx, name, value, true);
    if (n !== undefined) ctx.config[key] = n !== 0;
  };
}

/** A number clamped to `min..max`, then optionally rounded; changes are logged. */
function sized(
  key: NumKey,
  min: number,
  max: number,
  round?: { fn: (n: number) => number; rule: string },
): Handler {
  return (ctx, name, value) => {
    const n = numberValue(ctx, name, value);
    if (n === undefined) return;
    const clamped = Math.min(Math.max(n, min), max);
    const final = round ? round.fn(clamped) : clamped;
    const range = max === INT_MAX ? `min ${min}` : `${min}..${max}`;
    adjusted(ctx, name, n, final, round ? `${range}, ${round.rule}` : range);
    ctx.config[key] = final;
  };
}

/** A thread priority, clamped to 1..255 as io-pkt clamps to 1..max. */
function priority(key: NumKey): Handler {
  return (ctx, name, value) => {
    const n = numberValue(ctx, name, value, true);
    if (n === undefined) return;
    const final = Math.min(Math.max(n, 1), MAX_PRIO);
    adjusted(ctx, name, n, final, `1..${MAX_PRIO}`);
    ctx.config[key] = final;
  };
}

/** A string value such as `pkt_typed_mem=ram/dma`. */
function text(key: "pktTypedMem" | "gtimerlib"): Handler {
  return (ctx, name, value) => {
    if (value === undefined || value === "") bad(ctx, name, "requires a value");
    else ctx.config[key] = value;
  };
}

const setPrefix: Handler = (ctx, name, value) => {
  if (value === undefined) return void bad(ctx, name, "requires a value");
  // `prefix=` (empty) keeps the default paths, as io-pkt does with an empty prefix.
  if (value !== "" && !value.startsWith("/")) {
    return void bad(ctx, name, `"${value}" is not an absolute path`);
  }
  ctx.config.prefix = value;
};

/** `fastforward` alone turns forwarding on; `=N` sets the fast path and, if N ≠ 0, forwarding. */
const setFastforward: Handler = (ctx, name, value) => {
  if (value === undefined) {
    ctx.config.forward = true;
    return;
  }
  const n = numberValue(ctx, name, value, true);
  if (n === undefined) return;
  ctx.config.fastforward = n !== 0;
  if (n !== 0) ctx.config.forward = true;
};

/** threads_min: at least 4, at most the current threads_max (io-pkt's order-dependent rule). */
const setThreadsMin: Handler = (ctx, name, value) => {
  const n = numberValue(ctx, name, value);
  if (n === undefined) return;
  const final = Math.min(Math.max(n, 4), ctx.config.threadsMax);
  adjusted(ctx, name, n, final, `min 4, max threads_max ${ctx.config.threadsMax}`);
  ctx.config.threadsMin = final;
};

/** threads_max / threads: at least 4 and at least the current threads_min. */
const setThreadsMax: Handler = (ctx, name, value) => {
  const n = numberValue(ctx, name, value);
  if (n === undefined) return;
  const final = Math.max(n, 4, ctx.config.threadsMin);
  adjusted(ctx, name, n, final, `min 4, min threads_min ${ctx.config.threadsMin}`);
  ctx.config.threadsMax = final;
};

/** stacksize: values below the current one are ignored, as in io-pkt. */
const setStacksize: Handler = (ctx, name, value) => {
  const n = numberValue(ctx, name, value);
  if (n === undefined) return;
  if (n < ctx.config.stacksize) {
    ctx.log.push(`tcpip: option "${name}": ${n} below ${ctx.config.stacksize}, ignored`);
    return;
  }
  ctx.config.stacksize = n;
};

const setBigstack: Handler = (ctx, name, value) => {
  if (value === undefined) {
    ctx.log.push(`tcpip: bigstack size default ${ctx.config.bigstack}`);
    return;
  }
  const n = numberValue(ctx, name, value);
  if (n !== undefined) ctx.config.bigstack = n;
};

const setTimertol: Handler = (ctx, name, value) => {
  const n = numberValue(ctx, name, value, true);
  if (n === undefined) return;
  if (n < 0 || n > 1000) {
    ctx.log.push(`tcpip: "${name}" option: ${n} ${n < 0 ? "< 0" : "> 1000"}.  Ignoring`);
    return;
  }
  ctx.config.timertol = n;
};

/** tickstop_min / tickstop_max: checked together after all options. */
function tickstop(key: "tickstopMin" | "tickstopMax"): Handler {
  return (ctx, name, value) => {
    const n = numberValue(ctx, name, value, true);
    if (n !== undefined) ctx.config[key] = n;
  };
}

const setRgroupAllowed: Handler = (ctx, name, value) => {
  const gid = value === undefined ? 0 : numberValue(ctx, name, value);
  if (gid === undefined) return;
  ctx.log.push(`tcpip: option ${name}: allowing root-group access`);
  ctx.config.rgroupAllowed = gid;
};

const setMinFperms: Handler = (ctx, name, value) => {
  const n = numberValue(ctx, name, value);
  if (n !== undefined) ctx.config.minFperms = n;
};

const setMfibEnable: Handler = (ctx, name) => {
  ctx.log.push(`tcpip: option ${name}: multi-fib enabled`);
  ctx.config.mfibEnable = true;
};

const setSoTxprio: Handler = (ctx, name) => {
  ctx.log.push(`tcpip: option ${name}: SO_TXPRIO support enabled`);
  ctx.config.soTxprioEnable = true;
};

/** Leading C integer of `token` (`"750_1"` → 750), as strtol reads it. */
function leadingInteger(token: string): number | undefined {
  const m = /^[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(token);
  return m === null ? undefined : parseCInteger(m[0]);
}

/**
 * mfib_gid_map: `;`-separated tokens. Without `=` (7.0's form, the usage text's
 * `750_1;760_2`), each token's leading number is a GID given the FIB of its
 * position: 750 → FIB 0, 760 → FIB 1. With `=` (6.6's other form) tokens are `gid=fib`.
 */
function parseGidMap(ctx: Ctx, name: string, value: string): MfibGidMapping[] | undefined {
  const tokens = value.split(";");
  const out: MfibGidMapping[] = [];
  const byPair = value.includes("=");
  for (const [position, token] of tokens.entries()) {
    const [gidText, fibText] = byPair ? token.split("=", 2) : [token, undefined];
    const gid = byPair ? parseCInteger(gidText) : leadingInteger(gidText);
    const fib = byPair ? parseCInteger(fibText ?? "") : position;
    if (gid === undefined || gid < 0 || fib === undefined || fib < 0) {
      return bad(ctx, name, `bad mapping "${token}"`);
    }
    out.push({ gid, fib });
  }
  return out;
}

const setMfibGidMap: Handler = (ctx, name, value) => {
  if (value === undefined || value === "") return void bad(ctx, name, "requires a value");
  const mappings = parseGidMap(ctx, name, value);
  if (mappings === undefined) return;
  for (const m of mappings) {
    ctx.config.mfibGidMap = ctx.config.mfibGidMap.filter((e) => e.gid !== m.gid).concat(m);
    ctx.log.push(`tcpip: option ${name}: multi-fib gid ${m.gid} mapped to fib #${m.fib}`);
  }
};

const pow2 = { fn: roundDownPow2, rule: "rounded down to a power of 2" };
const steps2k = { fn: (n: number) => n & ~2047, rule: "rounded down to a multiple of 2048" };
const cacheSize = (key: NumKey) => sized(key, 0, INT_MAX);

/** Every option io-pkt 6.6's `tcpip_opts[]` knows, with its handler. */
const HANDLERS: Readonly<Record<string, Handler>> = {
  recv_ctxt: sized("recvCtxt", 4096, 512 * 1024, steps2k),
  somaxconn: sized("somaxconn", 128, INT_MAX),
  threads_min: setThreadsMin,
  threads: setThreadsMax,
  threads_max: setThreadsMax,
  threads_incr: sized("threadsIncr", 4, INT_MAX),
  prefix: setPrefix,
  stacksize: setStacksize,
  forward: flag("forward"),
  fastforward: setFastforward,
  timer_pulse_prio: priority("timerPulsePrio"),
  rx_pulse_prio: priority("rxPrio"),
  rx_prio: priority("rxPrio"),
  random: flag("random"),
  cache: onOff("cache"),
  reuseport_unicast: flag("reuseportUnicast"),
  mbuf_cache: cacheSize("mbufCache"),
  pkt_cache: cacheSize("pktCache"),
  pkt_typed_mem: text("pktTypedMem"),
  pagesize: sized("pagesize", SYSTEM_PAGESIZE, 16 * 1024 * 1024, pow2),
  bigpage_strict: onOff("bigpageStrict", true),
  mclbytes: sized("mclbytes", 2048, 16 * 1024, pow2),
  forward6: flag("forward6"),
  ipsec: flag("ipsec"),
  nocryptodev: flag("nocryptodev"),
  pfil_ipsec: flag("pfilIpsec"),
  confstr_monitor: flag("confstrMonitor"),
  altq: flag("altq"),
  enmap: onOff("enmap"),
  timertol: setTimertol,
  min_fperms: setMinFperms,
  rgroup_allowed: setRgroupAllowed,
  tickstop_min: tickstop("tickstopMin"),
  tickstop_max: tickstop("tickstopMax"),
  mfib_enable: setMfibEnable,
  mfib_gid_map: setMfibGidMap,
  so_txprio_enable: setSoTxprio,
  stackguard: flag("stackguard"),
  gtimerlib: text("gtimerlib"),
  num_tap_interface: sized("numTapInterface", 0, INT_MAX),
  num_tun_control_interface: sized("numTunControlInterface", 0, INT_MAX),
  bigstack: setBigstack,
  strict_ts: flag("strictTs"),
  mtag_cache: cacheSize("mtagCache"),
  reply_ctxt: sized("replyCtxt", 32, 512),
};

/** Every option name `-p tcpip` recognizes (aliases included). */
export const TCPIP_OPTION_NAMES: readonly string[] = Object.freeze(Object.keys(HANDLERS));

/** io-pkt's checks after the option loop: tickstop pair, stackguard, mclbytes ≤ pagesize. */
function finish(ctx: Ctx): void {
  const c = ctx.config;
  if (c.tickstopMin < 0 || c.tickstopMax < 0 || c.tickstopMax < c.tickstopMin) {
    ctx.log.push("tcpip: invalid tickstop combination (ignored)");
    c.tickstopMin = c.tickstopMax = 0;
  }
  if (c.stackguard && c.stacksize % SYSTEM_PAGESIZE !== 0) {
    const old = c.stacksize;
    c.stacksize = (Math.floor(old / SYSTEM_PAGESIZE) + 1) * SYSTEM_PAGESIZE;
    ctx.log.push(
      `tcpip: stackguard enabled and configured stacksize ${old} was not a multiple of ` +
        `pagesize ${SYSTEM_PAGESIZE}, increasing stacksize to ${c.stacksize}`,
    );
  }
  if (c.mclbytes > c.pagesize) {
    ctx.log.push(
      `tcpip: option "mclbytes": ${c.mclbytes} adjusted to ${c.pagesize} (max pagesize)`,
    );
    c.mclbytes = c.pagesize;
  }
}

/**
 * Applies a `-p tcpip` option string to `base` (default {@linkcode DEFAULT_STACK_CONFIG}).
 *
 * @param options comma-separated `name` / `name=value` words, e.g. `"prefix=/alt,forward"`
 * @param base the configuration to start from; not modified
 * @returns the new configuration, log lines, errors, and the recognized names
 *
 * @example Forwarding without the fast path, behind a prefix
 * ```ts
 * import { parseTcpipOptions } from "./config.ts";
 * const r = parseTcpipOptions("prefix=/alt,forward,fastforward=0,somaxconn=16");
 * console.log(r.config.prefix, r.config.forward, r.config.fastforward); // /alt true false
 * console.log(r.log); // [ 'tcpip: option "somaxconn": 16 adjusted to 128 (min 128)' ]
 * ```
 */
export function parseTcpipOptions(
  options: string,
  base: Readonly<StackConfig> = DEFAULT_STACK_CONFIG,
  { inet6 = true }: ParseTcpipOptions = {},
): TcpipOptionsResult {
  const config: StackConfig = { ...base };
  const ctx: Ctx = { config, log: [], errors: [] };
  const seen: string[] = [];
  for (const word of options.split(",")) {
    if (word === "") continue; // getsubopt skips empty words (`a,,b`, a trailing comma)
    const eq = word.indexOf("=");
    const name = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? undefined : word.slice(eq + 1);
    // forward6 exists only in the v6 stack's option table (#ifdef INET6).
    if (!Object.hasOwn(HANDLERS, name) || (name === "forward6" && !inet6)) {
      ctx.log.push(`tcpip: unrecognized option: "${name}"`);
      continue;
    }
    seen.push(name);
    HANDLERS[name](ctx, name, value);
  }
  finish(ctx);
  return { config, log: ctx.log, errors: ctx.errors, options: seen };
}

/** Options for {@linkcode sysctlOverrides}. */
export interface SysctlOverridesOptions {
  /** The v6 stack (default): include `net.inet6.ip6.forwarding`. */
  inet6?: boolean;
}

/**
 * The sysctl values a configuration sets at start. `somaxconn` has no sysctl in
 * io-pkt ("patchable (XXX sysctl)" in uipc_socket.c), so it stays a stack
 * parameter read from the config.
 *
 * @example
 * ```ts
 * import { parseTcpipOptions, sysctlOverrides } from "./config.ts";
 * console.log(sysctlOverrides(parseTcpipOptions("forward").config));
 * // { "net.inet.ip.forwarding": 1, "kern.mbuf.mclbytes": 2048, "net.inet6.ip6.forwarding": 0 }
 * ```
 */
export function sysctlOverrides(
  config: Readonly<StackConfig>,
  { inet6 = true }: SysctlOverridesOptions = {},
): Record<string, number> {
  const out: Record<string, number> = {
    "net.inet.ip.forwarding": config.forward ? 1 : 0,
    "kern.mbuf.mclbytes": config.mclbytes,
  };
  if (inet6) out["net.inet6.ip6.forwarding"] = config.forward6 ? 1 : 0;
  return out;
}
