/**
 * `listenDatagram`: Deno's `Deno.listenDatagram`, through an io-pkt stack.
 *
 * The connection it gives is shaped like `Deno.DatagramConn` (`send`,
 * `receive`, `for await`, `addr`, `close`, `joinMulticastV4/V6`), with
 * addresses `{ transport: "udp", hostname, port }` and failures as
 * `ErrnoError`s (an `Error` whose `code` is an errno name: `EADDRINUSE`,
 * `EACCES`, `EMSGSIZE`, `ECONNREFUSED`...). Which stack carries it:
 * - the daemon whose prefix `sock` names, else `$SOCK`, else the default
 *   stack (`/dev/socket`), one Unix connection per socket (the socket hop);
 * - or a {@linkcode Stack} embedded in the program (`stack`), with no daemon.
 *
 * It returns a Promise where Deno returns the connection itself: binding is
 * a round trip to the daemon, and `addr` (an ephemeral port) is known only
 * after it. `await listenDatagram(...)` reads the same for both.
 *
 * @example Two sockets on an embedded stack
 * ```ts
 * import { Stack } from "../core/stack.ts";
 * import { listenDatagram } from "./datagram.ts";
 * const stack = new Stack({ inet6: false });
 * const a = await listenDatagram({ port: 7000, hostname: "127.0.0.1", transport: "udp" }, { stack });
 * const b = await listenDatagram({ port: 0, hostname: "127.0.0.1", transport: "udp" }, { stack });
 * await b.send(new TextEncoder().encode("hi"), a.addr);
 * const [data, from] = await a.receive();
 * console.log(new TextDecoder().decode(data), from.port === b.addr.port); // hi true
 * a.close();
 * b.close();
 * ```
 * @module
 */

import { ErrnoError } from "../core/errno.ts";
import { Endpoint, IpAddr } from "../core/net/inet_addr.ts";
import { socketPaths } from "../core/control/paths.ts";
import type { Stack } from "../core/stack.ts";
import type { UdpOption } from "../core/socket/udp_socket.ts";
import { StackUnreachableError } from "../tools/client.ts";
import type { DatagramBackend } from "./backend.ts";
import { EmbeddedSocket } from "./embedded.ts";
import { HopSocket } from "./hop_socket.ts";

/** A UDP address, as Deno gives it. */
export interface UdpAddr {
  transport: "udp";
  hostname: string;
  port: number;
}

/** `Deno.listenDatagram`'s options for UDP. */
export interface UdpListenOptions {
  port: number;
  /** Default `0.0.0.0`; an IPv6 literal (`::`, `2001:db8::1`) makes an IPv6 (dual-stack) socket. */
  hostname?: string;
  transport: "udp";
  /** `SO_REUSEADDR` and `SO_REUSEPORT`, as Deno sets them. */
  reuseAddress?: boolean;
  /** Multicast loopback (`IP_MULTICAST_LOOP`); Deno's default is false. */
  loopback?: boolean;
}

/** Which stack carries the socket. */
export interface StackChoice {
  /** The daemon's prefix (as `$SOCK`); default `$SOCK`, else the default stack. */
  sock?: string;
  /** A stack embedded in this program: no daemon. */
  stack?: Stack;
  /**
   * Through a daemon: true, only the privileged `config` socket file (ports
   * below 1024); false, only the public one (`2`, `24`); unset, `config` when
   * the file system lets this user open it, else the public one.
   */
  privileged?: boolean;
}

/** A multicast group joined with `joinMulticastV4`. */
export interface MulticastV4Membership {
  leave(): Promise<void>;
  setLoopback(loopback: boolean): Promise<void>;
  setTtl(ttl: number): Promise<void>;
}

/** A multicast group joined with `joinMulticastV6`. */
export interface MulticastV6Membership {
  leave(): Promise<void>;
  setLoopback(loopback: boolean): Promise<void>;
}

/** A UDP socket shaped like `Deno.DatagramConn`, plus `connect` and options. */
export interface DatagramConn extends AsyncIterable<[Uint8Array, UdpAddr]> {
  /** The local address (the port chosen when 0 was asked). */
  readonly addr: UdpAddr;
  /** The next datagram and its source; into `p` (truncated to it) when given. */
  receive(p?: Uint8Array): Promise<[Uint8Array, UdpAddr]>;
  /**
   * Sends `p` to `addr` (to the connected peer when `addr` is omitted);
   * resolves to the bytes handed to the stack. A datagram the stack could
   * not send fails a later call: through a daemon, the first after its error
   * frame arrives (a request such as `getOption` is answered after it).
   */
  send(p: Uint8Array, addr?: UdpAddr): Promise<number>;
  joinMulticastV4(address: string, networkInterface: string): Promise<MulticastV4Membership>;
  joinMulticastV6(address: string, networkInterface: number): Promise<MulticastV6Membership>;
  /** Fixes the peer (`connect(2)`: only it is heard, ICMP errors come back); null forgets it. */
  connect(addr: UdpAddr | null): Promise<void>;
  /** `setsockopt(2)` by the core's option names (`SO_RCVBUF`, `IP_TTL`...). */
  setOption(name: UdpOption, value: number | boolean): Promise<void>;
  /** `getsockopt(2)`. */
  getOption(name: UdpOption): Promise<number>;
  close(): void;
  [Symbol.asyncIterator](): AsyncIterableIterator<[Uint8Array, UdpAddr]>;
}

/** Receive and send buffers a socket asks for (Linux's defaults are about this large). */
const RCVBUF = 208 * 1024;
const SNDBUF = 65_536;

/**
 * Opens a UDP socket bound to `options.hostname`:`options.port`, through the
 * stack `via` chooses (see the module).
 */
export async function listenDatagram(
  options: UdpListenOptions,
  via: StackChoice = {},
): Promise<DatagramConn> {
  if (options.transport !== "udp") {
    throw new TypeError(`Unsupported transport ${options.transport}`);
  }
  const local = endpoint(options.hostname ?? "0.0.0.0", options.port);
  const family = local.addr.family;
  const backend = via.stack ? new EmbeddedSocket(via.stack, family) : await viaDaemon(via, family);
  try {
    // Through a daemon these are pipelined: one round trip in all.
    const steps: Promise<void>[] = [
      backend.setOption("SO_RCVBUF", RCVBUF),
      backend.setOption("SO_SNDBUF", SNDBUF),
    ];
    if (options.reuseAddress) {
      steps.push(backend.setOption("SO_REUSEADDR", 1), backend.setOption("SO_REUSEPORT", 1));
    }
    const loop = family === 4 ? "IP_MULTICAST_LOOP" : "IPV6_MULTICAST_LOOP";
    steps.push(backend.setOption(loop, options.loopback ? 1 : 0));
    steps.push(backend.bind(local));
    const named = backend.localAddress();
    const settled = await Promise.allSettled([...steps, named]);
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return new UdpConn(backend, udpAddr(await named));
  } catch (e) {
    backend.close();
    throw e;
  }
}

async function viaDaemon(via: StackChoice, family: 4 | 6): Promise<HopSocket> {
  const paths = socketPaths(via.sock ?? Deno.env.get("SOCK") ?? "");
  const open = family === 4 ? paths.inet : paths.inet6;
  const files = via.privileged === true
    ? [paths.config]
    : via.privileged === false
    ? [open]
    : [paths.config, open];
  let denied = false;
  for (const path of files) {
    try {
      return await HopSocket.open(path, family);
    } catch (e) {
      if (e instanceof Deno.errors.PermissionDenied) {
        denied = true;
        continue;
      }
      if (e instanceof Deno.errors.NotCapable) throw e;
      if (e instanceof Deno.errors.NotFound && family === 6 && path === open) {
        throw new ErrnoError("EAFNOSUPPORT", "socket"); // an IPv4-only stack has no `24`
      }
      break;
    }
  }
  if (denied && via.privileged === true) throw new ErrnoError("EACCES", paths.config);
  throw new StackUnreachableError(paths.dir);
}

class UdpConn implements DatagramConn {
  readonly #b: DatagramBackend;
  readonly addr: UdpAddr;
  #closed = false;
  #lastSource = "";
  #lastBytes = new Uint8Array(16);
  #lastFamily = 0;

  constructor(backend: DatagramBackend, addr: UdpAddr) {
    this.#b = backend;
    this.addr = addr;
  }

  async receive(p?: Uint8Array): Promise<[Uint8Array, UdpAddr]> {
    const from = new Endpoint();
    let data = await this.#b.receive(from);
    if (p !== undefined) {
      const n = Math.min(p.length, data.length);
      p.set(data.subarray(0, n));
      data = p.subarray(0, n);
    }
    return [data, { transport: "udp", hostname: this.#hostname(from.addr), port: from.port }];
  }

  async send(p: Uint8Array, addr?: UdpAddr): Promise<number> {
    const to = addr === undefined ? null : endpoint(addr.hostname, addr.port);
    const max = to?.addr.family === 4 || this.#family === 4 ? 65_507 : 65_527;
    if (p.length > max) throw new ErrnoError("EMSGSIZE", "sendto");
    await this.#b.send(p, to);
    return p.length;
  }

  async joinMulticastV4(address: string, networkInterface: string): Promise<MulticastV4Membership> {
    const group = ip(address), ifAddr = ip(networkInterface);
    if (group.family !== 4 || ifAddr.family !== 4) {
      throw new ErrnoError("EINVAL", "joinMulticastV4");
    }
    await this.#b.membership("join", group, 0, ifAddr);
    return {
      leave: () => this.#b.membership("leave", group, 0, ifAddr),
      setLoopback: (on) => this.#b.setOption("IP_MULTICAST_LOOP", on ? 1 : 0),
      setTtl: (ttl) => this.#b.setOption("IP_MULTICAST_TTL", ttl),
    };
  }

  async joinMulticastV6(address: string, networkInterface: number): Promise<MulticastV6Membership> {
    const group = ip(address);
    if (group.family !== 6) throw new ErrnoError("EINVAL", "joinMulticastV6");
    await this.#b.membership("join", group, networkInterface, null);
    return {
      leave: () => this.#b.membership("leave", group, networkInterface, null),
      setLoopback: (on) => this.#b.setOption("IPV6_MULTICAST_LOOP", on ? 1 : 0),
    };
  }

  connect(addr: UdpAddr | null): Promise<void> {
    return this.#b.connect(addr === null ? null : endpoint(addr.hostname, addr.port));
  }

  setOption(name: UdpOption, value: number | boolean): Promise<void> {
    return this.#b.setOption(name, typeof value === "boolean" ? (value ? 1 : 0) : value);
  }

  getOption(name: UdpOption): Promise<number> {
    return this.#b.getOption(name);
  }

  close(): void {
    if (this.#closed) throw new ErrnoError("EBADF", "close"); // Deno: BadResource
    this.#closed = true;
    this.#b.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterableIterator<[Uint8Array, UdpAddr]> {
    while (!this.#closed) {
      try {
        yield await this.receive();
      } catch (e) {
        if (this.#closed && e instanceof ErrnoError && e.code === "EBADF") return;
        throw e;
      }
    }
  }

  get #family(): 4 | 6 {
    return this.addr.hostname.includes(":") ? 6 : 4;
  }

  /** The source's text, reused while datagrams keep coming from the same address. */
  #hostname(a: IpAddr): string {
    const b = a.bytes;
    let same = a.family === this.#lastFamily;
    for (let i = 0; same && i < 16; i++) same = b[i] === this.#lastBytes[i];
    if (!same) {
      this.#lastFamily = a.family;
      this.#lastBytes.set(b);
      this.#lastSource = a.toString();
    }
    return this.#lastSource;
  }
}

function ip(text: string): IpAddr {
  const t = text === "localhost" ? "127.0.0.1" : text.replace(/^\[(.*)\]$/, "$1");
  const a = IpAddr.parse(t);
  if (a === null) throw new ErrnoError("EINVAL", `address ${text}`);
  return a;
}

function endpoint(hostname: string, port: number): Endpoint {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ErrnoError("EINVAL", "port");
  const ep = new Endpoint();
  ep.addr.set(ip(hostname));
  ep.port = port;
  return ep;
}

function udpAddr(ep: Endpoint): UdpAddr {
  return { transport: "udp", hostname: ep.addr.toString(), port: ep.port };
}
