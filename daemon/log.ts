/**
 * The daemon's log (io-pkt writes to slogger2; we write lines to a file or stderr).
 *
 * In the foreground (`-f`) lines go to stderr. Detached, they go to the log file:
 * `$IOPKT_LOG` if set, else `<prefix>/var/log/io-pkt.log` (`io-pktN.log` for
 * `-i N`); with the default empty prefix that is `/var/log/io-pkt.log`.
 *
 * @example
 * ```ts ignore
 * const log = openLog({ file: "/tmp/a/var/log/io-pkt.log" });
 * log("tcpip: unrecognized option: \"foo\"");
 * ```
 * @module
 */

/** Writes one line. */
export type LogFn = (line: string) => void;

/** The log file path for a prefix and instance. */
export function logFilePath(
  prefix: string,
  instance: number,
  env = Deno.env.get("IOPKT_LOG"),
): string {
  if (env) return env;
  const name = instance === 0 ? "io-pkt.log" : `io-pkt${instance}.log`;
  return `${prefix.replace(/\/+$/, "")}/var/log/${name}`;
}

function stamp(): string {
  return new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
}

const encoder = new TextEncoder();

/** Opens the log: to `file` (created with its directory) or, without one, to stderr. */
export function openLog(opts: { file?: string; alsoStderr?: boolean }): LogFn {
  let fd: Deno.FsFile | null = null;
  if (opts.file) {
    const dir = opts.file.slice(0, opts.file.lastIndexOf("/"));
    if (dir) Deno.mkdirSync(dir, { recursive: true });
    fd = Deno.openSync(opts.file, { append: true, create: true });
  }
  const tag = `io-pkt[${Deno.pid}]`;
  return (line: string) => {
    const bytes = encoder.encode(`${stamp()} ${tag}: ${line}\n`);
    try {
      if (fd) fd.writeSync(bytes);
      if (!fd || opts.alsoStderr) Deno.stderr.writeSync(bytes);
    } catch {
      // A full disk or closed stderr must not take the stack down.
    }
  };
}
