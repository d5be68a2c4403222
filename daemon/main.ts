/**
 * The daemon: `io-pkt-v4-hc` and `io-pkt-v6-hc` both run {@linkcode runDaemon}.
 *
 * Order of work, as io-pkt's: parse the command line; apply the `-p tcpip`
 * options; detach (unless `-f`), returning only once the stack answers; claim
 * the control socket (refusing when a live stack holds it, taking it over from a
 * dead one); load `-d`/`-p` modules in command-line order, each failure logged;
 * serve. SIGTERM and SIGINT shut down in order: stop serving, remove the
 * sockets, detach every interface, exit 0.
 *
 * @example
 * ```ts ignore
 * await runDaemon("io-pkt-v6-hc", Deno.args);
 * ```
 * @module
 */

import { parseTcpipOptions, type StackConfig } from "../core/config.ts";
import { socketPaths } from "../core/control/paths.ts";
import { ErrnoError } from "../core/errno.ts";
import { Stack, stackCore } from "../core/stack.ts";
import { isBuiltinProtocol, parseDaemonArgs, protocolModuleName } from "./args.ts";
import type { DaemonArgs } from "./args.ts";
import { detachAndWait, DETACHED_ENV } from "./detach.ts";
import { DriverManager } from "./drivers.ts";
import { ReaderPool } from "../drivers/io/reader_pool.ts";
import { logFilePath, type LogFn, openLog } from "./log.ts";
import { ControlServer } from "./server.ts";
import { driveTimers, monotonicNow } from "./clock.ts";
import { warmUp } from "./warmup.ts";

/** The two daemons. */
export type DaemonCommand = "io-pkt-v4-hc" | "io-pkt-v6-hc";

function fail(command: string, message: string): never {
  console.error(`${command}: ${message}`);
  Deno.exit(1);
}

/** Applies every `-p tcpip` option list in order; other `-p` modules are loaded later. */
function stackConfig(
  command: DaemonCommand,
  args: DaemonArgs,
): { config: StackConfig; log: string[] } {
  const inet6 = command === "io-pkt-v6-hc";
  const r = parseTcpipOptions(args.tcpipOptions, undefined, { inet6 });
  if (r.errors.length > 0) fail(command, r.errors.join(`\n${command}: `));
  return { config: r.config, log: r.log };
}

function hostname(): string | undefined {
  try {
    return Deno.hostname();
  } catch {
    return undefined;
  }
}

async function loadModules(args: DaemonArgs, drivers: DriverManager, log: LogFn): Promise<void> {
  for (const m of args.modules) {
    if (m.kind === "protocol") {
      if (!isBuiltinProtocol(m.name)) {
        log(
          `Unable to load ${
            protocolModuleName(m.name)
          }: protocol module not available in this stack`,
        );
      }
      continue;
    }
    try {
      await drivers.load(m.name, m.options);
    } catch (e) {
      // Already logged by the driver manager; the stack lives on.
      if (!(e instanceof ErrnoError)) log(`Unable to load ${m.name}: ${e}`);
    }
  }
}

/** `<prefix>/var/run/io-pkt[N].pid`: where scripts find the daemon's process id. */
export function pidFilePath(prefix: string, instance: number): string {
  const name = instance === 0 ? "io-pkt.pid" : `io-pkt${instance}.pid`;
  return `${prefix.replace(/\/+$/, "")}/var/run/${name}`;
}

function writePidFile(path: string, log: LogFn): void {
  try {
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(path, `${Deno.pid}\n`);
  } catch (e) {
    log(`cannot write ${path}: ${e instanceof Error ? e.message : e}`);
  }
}

function onShutdown(stack: Stack, server: ControlServer, pidFile: string, log: LogFn): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    server.close();
    try {
      Deno.removeSync(pidFile);
    } catch { /* already gone */ }
    for (const name of stack.interfaceNames().reverse()) {
      if (name === "lo0") continue;
      try {
        stack.destroyInterface(name);
      } catch (e) {
        log(`${name}: detach failed: ${e instanceof Error ? e.message : e}`);
      }
    }
    log("stopped");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
}

/** Runs a daemon with its command-line arguments. Returns only while detaching; serves forever otherwise. */
export async function runDaemon(command: DaemonCommand, argv: string[]): Promise<void> {
  const parsed = parseDaemonArgs(argv, { cpus: navigator.hardwareConcurrency, progname: command });
  if (!parsed.ok) {
    Deno.stderr.writeSync(new TextEncoder().encode(parsed.message));
    Deno.exit(1);
  }
  const args = parsed.args;
  const { config, log: configLog } = stackConfig(command, args);
  const paths = socketPaths(config.prefix);
  const logFile = logFilePath(config.prefix, args.instance);
  const detachedCopy = Deno.env.get(DETACHED_ENV) === "1";
  if (!args.foreground && !detachedCopy) {
    Deno.exit(
      await detachAndWait({
        command,
        argv,
        prefix: config.prefix,
        logFile,
        verbose: args.verbose > 0,
      }),
    );
  }

  let log: LogFn;
  try {
    log = detachedCopy ? openLog({ file: logFile, alsoStderr: args.verbose > 0 }) : openLog({});
  } catch (e) {
    fail(command, `cannot open log ${logFile}: ${e instanceof Error ? e.message : e}`);
  }
  const stack = new Stack({
    inet6: command === "io-pkt-v6-hc",
    config,
    instance: args.instance,
    pid: Deno.pid,
    hostname: hostname(),
    log,
    clock: monotonicNow,
  });
  const server = new ControlServer(stack, paths, log);
  try {
    await server.claim();
  } catch (e) {
    const msg = e instanceof ErrnoError ? e.message : String(e);
    log(msg);
    fail(command, msg);
  }
  for (const w of [...parsed.warnings, ...configLog]) log(w);
  // io-pkt's -t: the layer-2 threads are the drivers' reader Workers, started as descriptors come.
  log(`layer-2 threads: up to ${args.threads} reader Workers (-t)`);
  const warm = Deno.env.get(NO_WARMUP_ENV) !== "1";
  const pool = new ReaderPool(args.threads, { log, warmUpRounds: warm ? READER_WARMUP_ROUNDS : 0 });
  const drivers = new DriverManager(stack, log, pool);
  await drivers.registerCloners();
  await loadModules(args, drivers, log);
  try {
    server.start();
  } catch (e) {
    const msg = `cannot serve ${paths.dir}: ${e instanceof Error ? e.message : e}`;
    log(msg);
    fail(command, msg);
  }
  const pidFile = pidFilePath(config.prefix, args.instance);
  writePidFile(pidFile, log);
  driveTimers(stack);
  onShutdown(stack, server, pidFile, log);
  log(`${command} ${stack.info().version} ready: ${paths.dir} (mount type ${stack.mountType})`);
  if (warm) startWarmUp(stack, log);
}

/** Set to 1 in the environment: no JIT warm-up at start (see warmup.ts). */
export const NO_WARMUP_ENV = "IOPKT_NO_WARMUP";
/** The warm-up's bound in milliseconds of wall time, when not the default. */
export const WARMUP_MS_ENV = "IOPKT_WARMUP_MS";

/** Frames each reader Worker reads from a scratch socket pair at its start (its own warm-up). */
const READER_WARMUP_ROUNDS = 3000;

/**
 * Runs the JIT warm-up in the background (it yields to the event loop, so the
 * daemon serves meanwhile); logs its cost. Skipped when {@linkcode NO_WARMUP_ENV} is 1.
 */
function startWarmUp(stack: Stack, log: LogFn): void {
  // The pool's free lists start as empty arrays of small integers; code optimised on the scratch
  // stacks' lists (of objects) would be thrown away at this pool's first use. Use it once first.
  const pool = stackCore(stack).pool;
  pool.free(pool.alloc(0));
  pool.free(pool.alloc(stack.config.mclbytes));
  const ms = Number(Deno.env.get(WARMUP_MS_ENV) ?? NaN);
  const budgetMs = Number.isFinite(ms) && ms >= 0 ? ms : undefined;
  warmUp({ inet6: stack.inet6, config: stack.config, budgetMs }).then(
    (r) => log(`JIT warm-up: ${r.frames} frames in ${r.ms.toFixed(0)} ms`),
    (e) => log(`JIT warm-up skipped: ${e instanceof Error ? e.message : e}`),
  );
}
