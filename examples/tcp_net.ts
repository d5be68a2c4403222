/**
 * Which TCP the example programs use: Deno's own (`Deno.connect`/`Deno.listen`)
 * or io-pkt's (`connect`/`listen` from `mod.ts`, with the same signatures).
 * The programs take a {@linkcode TcpNet} as a parameter, so they run today over
 * Deno's networking (tested against Linux's iperf3 and curl) and over an io-pkt
 * stack the day `mod.ts` exports TCP, with nothing but this choice changed.
 *
 * ```ts ignore
 * const net = await chooseNet("deno");
 * const conn = await net.connect({ hostname: "192.0.2.1", port: 5201 });
 * ```
 * @module
 */

/** The part of `Deno.Conn` the programs use. */
export interface TcpConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  readonly localAddr: Deno.Addr;
  readonly remoteAddr: Deno.Addr;
}

/** The part of `Deno.Listener` the programs use. */
export interface TcpListener {
  accept(): Promise<TcpConn>;
  close(): void;
  readonly addr: Deno.Addr;
}

/** `Deno.connect` and `Deno.listen` (TCP), or io-pkt's functions of the same shape. */
export interface TcpNet {
  /** Which one this is, for reports ("deno" or "iopkt"). */
  readonly name: string;
  connect(opts: { hostname: string; port: number }): Promise<TcpConn>;
  listen(opts: { hostname?: string; port: number }): TcpListener;
}

/** Deno's own TCP. */
export const denoNet: TcpNet = {
  name: "deno",
  connect: (opts) => Deno.connect({ ...opts, transport: "tcp" }),
  listen: (opts) => Deno.listen({ ...opts, transport: "tcp" }),
};

/**
 * The TCP named `which`: "deno", or "iopkt" (the `connect`/`listen` of
 * `mod.ts`, reaching the daemon named by `$SOCK` as `listenDatagram` does).
 * Throws when `mod.ts` has no TCP yet.
 */
export async function chooseNet(which: string): Promise<TcpNet> {
  if (which === "deno") return denoNet;
  if (which !== "iopkt") throw new Error(`unknown net ${which} (deno or iopkt)`);
  // Imported by name at run time so this file compiles before mod.ts has TCP.
  const mod = await import("../mod.ts") as Record<string, unknown>;
  const connect = mod.connect, listen = mod.listen;
  if (typeof connect !== "function" || typeof listen !== "function") {
    throw new Error("mod.ts exports no connect/listen (io-pkt TCP) yet");
  }
  return tcpNet("iopkt", connect as TcpConnectFn, listen as TcpListenFn);
}

/** `Deno.connect`'s shape, TCP only. */
export type TcpConnectFn = (
  opts: { hostname: string; port: number; transport: "tcp" },
) => Promise<TcpConn>;
/** `Deno.listen`'s shape, TCP only. */
export type TcpListenFn = (
  opts: { hostname?: string; port: number; transport: "tcp" },
) => TcpListener;

/**
 * A {@linkcode TcpNet} over any connect/listen pair of Deno's shape, e.g.
 * io-pkt's with an embedded stack bound:
 * `tcpNet("iopkt", (o) => connect(o, { stack }), (o) => listen(o, { stack }))`.
 */
export function tcpNet(name: string, connect: TcpConnectFn, listen: TcpListenFn): TcpNet {
  return {
    name,
    connect: (opts) => connect({ ...opts, transport: "tcp" }),
    listen: (opts) => listen({ ...opts, transport: "tcp" }),
  };
}

/**
 * Listens on `hostname`, or when none is given on every address of both
 * families ("::", dual-stack), falling back to "0.0.0.0" where IPv6 is
 * missing (an IPv4-only stack), as iperf3 and most servers do.
 */
export function listenAnyFamily(
  net: TcpNet,
  hostname: string | undefined,
  port: number,
): TcpListener {
  if (hostname !== undefined) return net.listen({ hostname, port });
  try {
    return net.listen({ hostname: "::", port });
  } catch {
    return net.listen({ hostname: "0.0.0.0", port });
  }
}

/** Reads exactly `buf.length` bytes; false when the stream ends first. */
export async function readFull(conn: TcpConn, buf: Uint8Array): Promise<boolean> {
  let off = 0;
  while (off < buf.length) {
    const n = await conn.read(off === 0 ? buf : buf.subarray(off));
    if (n === null) return false;
    off += n;
  }
  return true;
}

/** Writes all of `data`. */
export async function writeAll(conn: TcpConn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(off === 0 ? data : data.subarray(off));
}

/** Takes `--name value` and `--name=value` options and bare flags out of `args`. */
export function parseArgs(
  args: string[],
  flags: readonly string[] = [],
): { opts: Map<string, string>; rest: string[] } {
  const opts = new Map<string, string>(), rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("-") || a === "-") {
      rest.push(a);
      continue;
    }
    const body = a.replace(/^-+/, ""), eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    if (eq >= 0) opts.set(name, body.slice(eq + 1));
    else if (flags.includes(name)) opts.set(name, "");
    else if (i + 1 < args.length) opts.set(name, args[++i]);
    else throw new Error(`option ${a} needs a value`);
  }
  return { opts, rest };
}
