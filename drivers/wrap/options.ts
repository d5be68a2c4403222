/**
 * Generic driver options that wrap any driver's interfaces in middleware, in
 * the spirit of smoltcp's `phy` wrappers: a pcap writer and a fault injector.
 *
 * The stack takes these out of a driver option string (after `name=`, `unit=`)
 * with {@linkcode splitWrapOptions}; the driver sees the rest. Each interface
 * the driver attaches is then wrapped with {@linkcode wrapInterface}.
 *
 * | option            | meaning                                                          |
 * | ----------------- | ---------------------------------------------------------------- |
 * | `pcap=PATH`       | write both directions to a libpcap file                          |
 * | `drop=P`          | drop a frame with probability P                                  |
 * | `dup=P`           | send a frame twice                                               |
 * | `reorder=P`       | hold a frame and send it after the next one                      |
 * | `corrupt=P`       | flip one random bit of one random byte                           |
 * | `delay=MS`        | add a fixed latency (milliseconds, fractions allowed)            |
 * | `jitter=MS`       | add a further uniform random 0..MS to each delayed frame         |
 * | `fault_seed=N`    | seed of the fault PRNG (0..0xffffffff): the same seed, same run  |
 * | `fault_dir=D`     | `tx`, `rx` or `both` (default): which direction faults apply to  |
 *
 * P is a probability `0`..`1` or a percentage `0%`..`100%`. Option strings are
 * comma-separated, so a pcap path cannot hold a comma.
 *
 * @example `-d tap host=tap7,pcap=/tmp/en0.pcap,drop=1%,fault_seed=7`
 * ```ts
 * import { splitWrapOptions } from "./options.ts";
 * const { wrap, rest } = splitWrapOptions("host=tap7,pcap=/tmp/en0.pcap,drop=1%,fault_seed=7");
 * console.log(rest); // host=tap7
 * console.log(wrap.pcap, wrap.faults?.drop, wrap.faults?.seed); // /tmp/en0.pcap 0.01 7
 * ```
 * @module
 */

import type { InterfaceSpec } from "../../core/link/driver.ts";
import { type FaultInjectorOptions, wrapWithFaults } from "./fault_injector.ts";
import { type PcapWrapOptions, wrapWithPcap } from "./pcap_writer.ts";

/** Which direction faults apply to. */
export type FaultDirection = "tx" | "rx" | "both";

/** The fault injector's settings, as parsed from driver options. */
export interface FaultOptions {
  /** Probability of dropping a frame. */
  drop: number;
  /** Probability of sending a frame twice. */
  dup: number;
  /** Probability of holding a frame back until the next one has passed. */
  reorder: number;
  /** Probability of flipping one bit in a frame. */
  corrupt: number;
  /** Fixed added latency in milliseconds. */
  delayMs: number;
  /** Further uniform random latency 0..jitterMs, added to each delayed frame. */
  jitterMs: number;
  /** PRNG seed; absent means a random one (the injector reports which). */
  seed?: number;
  /** Which direction the faults apply to. */
  dir: FaultDirection;
}

/** The middleware a driver option string asked for. */
export interface WrapOptions {
  /** `pcap=`: capture file path. */
  pcap?: string;
  /** Present when at least one fault has an effect (a rate or a delay above zero). */
  faults?: FaultOptions;
}

/** The result of {@linkcode splitWrapOptions}. */
export interface SplitWrapOptions {
  /** The middleware asked for. */
  wrap: WrapOptions;
  /** The driver's own options, in their original order, comma-separated. */
  rest: string;
  /** The first bad value seen; the attach should fail with EINVAL and log this. */
  error?: string;
}

/** Timers as the wrappers need them; tests pass virtual time. */
export interface Scheduler {
  /** Current time in milliseconds (monotonic; fractions allowed). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a pending call; a handle that already fired is ignored. */
  clearTimeout(handle: unknown): void;
}

/** An interface wrapped in middleware: both directions and a way to release it. */
export interface WrappedInterface {
  /** The spec to attach: its transmit goes through the wrapper; detach also closes it. */
  readonly spec: InterfaceSpec;
  /**
   * Wraps the stack's receive: returns the function to call with each frame the
   * driver received. Frames may reach `deliver` later (delay, reorder), from a timer.
   */
  wrapReceive(deliver: (frame: Uint8Array) => void): (frame: Uint8Array) => void;
  /** Flushes and releases files and timers; idempotent. */
  close(): void;
  /** One line per wrapper saying what it did, for the log on detach. */
  summary(): string[];
}

const FAULT_KEYS = new Set(["drop", "dup", "reorder", "corrupt", "delay", "jitter"]);
const WRAP_KEYS = new Set(["pcap", "fault_seed", "fault_dir", ...FAULT_KEYS]);
/** setTimeout's largest delay; longer ones fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Parses a fault rate: a probability `0`..`1`, or a percentage `0%`..`100%`.
 *
 * @param text the option's value
 * @returns the probability, or `undefined` when malformed or out of range
 *
 * @example
 * ```ts
 * import { parseProbability } from "./options.ts";
 * console.log(parseProbability("0.25"), parseProbability("5%"), parseProbability("5")); // 0.25 0.05 undefined
 * ```
 */
export function parseProbability(text: string): number | undefined {
  const m = /^(\d+(?:\.\d*)?|\.\d+)(%?)$/.exec(text);
  if (m === null) return undefined;
  const p = m[2] === "%" ? Number(m[1]) / 100 : Number(m[1]);
  return p <= 1 ? p : undefined;
}

function parseMs(text: string): number | undefined {
  if (!/^(\d+(?:\.\d*)?|\.\d+)$/.test(text)) return undefined;
  const ms = Number(text);
  return ms <= MAX_DELAY_MS ? ms : undefined;
}

function parseSeed(text: string): number | undefined {
  if (!/^(\d+|0[xX][0-9a-fA-F]+)$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 0xffffffff ? n : undefined;
}

function emptyFaults(): FaultOptions {
  return { drop: 0, dup: 0, reorder: 0, corrupt: 0, delayMs: 0, jitterMs: 0, dir: "both" };
}

/** Applies one wrap option; returns an error message for a bad value. */
function applyOption(
  wrap: WrapOptions,
  faults: FaultOptions,
  key: string,
  value: string | undefined,
): string | undefined {
  if (value === undefined || value === "") return `${key}: a value is required`;
  switch (key) {
    case "pcap":
      wrap.pcap = value;
      return;
    case "delay":
    case "jitter": {
      const ms = parseMs(value);
      if (ms === undefined) return `${key}: invalid milliseconds "${value}"`;
      if (key === "delay") faults.delayMs = ms;
      else faults.jitterMs = ms;
      return;
    }
    case "fault_seed": {
      const seed = parseSeed(value);
      if (seed === undefined) return `${key}: invalid seed "${value}" (0..0xffffffff)`;
      faults.seed = seed;
      return;
    }
    case "fault_dir":
      if (value !== "tx" && value !== "rx" && value !== "both") {
        return `${key}: invalid direction "${value}" (tx, rx or both)`;
      }
      faults.dir = value;
      return;
  }
  return applyRate(faults, key, value);
}

function applyRate(faults: FaultOptions, key: string, value: string): string | undefined {
  const p = parseProbability(value);
  if (p === undefined) {
    return `${key}: invalid probability "${value}" (0..1, or a percentage like 5%)`;
  }
  if (key === "drop") faults.drop = p;
  else if (key === "dup") faults.dup = p;
  else if (key === "reorder") faults.reorder = p;
  else faults.corrupt = p;
}

/** Whether the injector would change anything; a no-op injector is not installed. */
function hasEffect(f: FaultOptions): boolean {
  return f.drop > 0 || f.dup > 0 || f.reorder > 0 || f.corrupt > 0 || f.delayMs > 0 ||
    f.jitterMs > 0;
}

/**
 * Takes the wrapper options out of a driver option string. The last of each
 * key wins; the first bad value is reported in `error` (parsing goes on, so
 * `rest` is still right).
 *
 * @param options a driver option string, comma-separated
 * @returns what to wrap with, the driver's own options, and any error
 *
 * @example
 * ```ts
 * import { splitWrapOptions } from "./options.ts";
 * console.log(splitWrapOptions("mtu=9000,delay=20,jitter=5,fault_dir=rx").rest); // mtu=9000
 * console.log(splitWrapOptions("drop=5").error);
 * // drop: invalid probability "5" (0..1, or a percentage like 5%)
 * ```
 */
export function splitWrapOptions(options: string): SplitWrapOptions {
  const wrap: WrapOptions = {};
  const faults = emptyFaults();
  const rest: string[] = [];
  let error: string | undefined;
  for (const word of options.split(",")) {
    if (word === "") continue;
    const eq = word.indexOf("=");
    const key = eq < 0 ? word : word.slice(0, eq);
    if (!WRAP_KEYS.has(key)) {
      rest.push(word);
      continue;
    }
    const bad = applyOption(wrap, faults, key, eq < 0 ? undefined : word.slice(eq + 1));
    error ??= bad;
  }
  if (hasEffect(faults)) wrap.faults = faults;
  return { wrap, rest: rest.join(","), ...(error !== undefined && { error }) };
}

/**
 * The capture path for the n-th interface of one driver load: the first gets
 * `path` itself, later ones `name.N.ext`, so two interfaces never share a file.
 *
 * @example
 * ```ts
 * import { pcapPathFor } from "./options.ts";
 * console.log(pcapPathFor("/tmp/cap.pcap", 0), pcapPathFor("/tmp/cap.pcap", 2));
 * // /tmp/cap.pcap /tmp/cap.2.pcap
 * ```
 */
export function pcapPathFor(path: string, ordinal: number): string {
  if (ordinal === 0) return path;
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  return dot > slash + 1
    ? `${path.slice(0, dot)}.${ordinal}${path.slice(dot)}`
    : `${path}.${ordinal}`;
}

/** Dependencies of {@linkcode wrapInterface}; all optional. */
export interface WrapDeps {
  /** Timers for delays and pcap flushes; default the real ones. */
  scheduler?: Scheduler;
  /** Wall clock in epoch milliseconds for pcap timestamps; default `Date.now`-like. */
  clock?: () => number;
  /** Where a wrapper reports trouble (a failed capture write). */
  log?: (message: string) => void;
  /** Pcap details (link type, snaplen, flush policy) beyond the path. */
  pcap?: Omit<PcapWrapOptions, "scheduler" | "clock" | "log">;
  /** Fault injector details (held-frame bounds) beyond the options. */
  faults?: Omit<FaultInjectorOptions, keyof FaultOptions | "scheduler">;
}

function passThrough(spec: InterfaceSpec): WrappedInterface {
  return {
    spec,
    wrapReceive: (deliver) => deliver,
    close() {},
    summary: () => [],
  };
}

/**
 * Wraps one interface spec as `wrap` asks. The pcap writer sits nearest the
 * stack and the fault injector nearest the driver (smoltcp's order), so the
 * capture shows what the stack sent (before tx faults) and what it received
 * (after rx faults). With no middleware asked for, the spec is returned as is.
 *
 * @param spec the driver's spec
 * @param wrap what {@linkcode splitWrapOptions} found
 * @param deps timers, clocks and logging; tests inject virtual ones
 * @returns the wrapped interface
 * @throws {ErrnoError} when the capture file cannot be opened (ENOENT, EACCES...)
 *
 * @example
 * ```ts
 * import { splitWrapOptions, wrapInterface } from "./options.ts";
 * const { wrap } = splitWrapOptions("drop=0.5,fault_seed=1");
 * const sent: number[] = [];
 * const w = wrapInterface({ mtu: 1500, transmit: (f) => sent.push(f.length) }, wrap);
 * for (let i = 0; i < 10; i++) w.spec.transmit(new Uint8Array(60));
 * w.close();
 * console.log(sent.length < 10); // true
 * ```
 */
export function wrapInterface(
  spec: InterfaceSpec,
  wrap: WrapOptions,
  deps: WrapDeps = {},
): WrappedInterface {
  const layers: WrappedInterface[] = [];
  let inner = spec;
  if (wrap.faults) {
    const f = wrapWithFaults(inner, { ...deps.faults, ...wrap.faults }, deps.scheduler);
    layers.push(f);
    inner = f.spec;
  }
  if (wrap.pcap !== undefined) {
    const { scheduler, clock, log } = deps;
    try {
      layers.push(wrapWithPcap(inner, wrap.pcap, { ...deps.pcap, scheduler, clock, log }));
    } catch (e) {
      for (const l of layers) l.close();
      throw e;
    }
  }
  return layers.length === 0 ? passThrough(spec) : compose(layers);
}

/** Chains layers, innermost (nearest the driver) first. */
function compose(layers: WrappedInterface[]): WrappedInterface {
  return {
    spec: layers[layers.length - 1].spec,
    wrapReceive(deliver) {
      // Receive runs driver → innermost → ... → outermost → stack: wrap outermost first.
      let fn = deliver;
      for (let i = layers.length - 1; i >= 0; i--) fn = layers[i].wrapReceive(fn);
      return fn;
    },
    close() {
      for (let i = layers.length - 1; i >= 0; i--) layers[i].close();
    },
    summary: () => layers.flatMap((l) => l.summary()),
  };
}
