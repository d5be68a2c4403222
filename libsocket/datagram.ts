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
 * Like Deno's, it returns the connection itself (`await listenDatagram(...)`
 * gives the same object). On an embedded stack the socket is bound before it
 * returns, and a bind failure (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`) is
 * thrown there. Through a daemon, setup (connecting, options, bind: one
 * round trip) goes on in the background: every call waits for it, and a
 * setup failure rejects each of them. `conn.ready` resolves once the socket
 * is bound and rejects with the setup error. The one difference left from
 * Deno: until `ready` resolves, `addr` is the requested address, so a port-0
 * request shows port 0; `(await conn.ready).addr` is the bound one.
 *
 * @example Two sockets on an embedded stack
 * ```ts
 * import { Stack } from "../core/stack.ts";
 * import { listenDatagram } from "./datagram.ts";
 * const stack = new Stack({ inet6: false });
 * const a = listenDatagram({ port: 7000, hostname: "127.0.0.1", transport: "udp" }, { stack });
 * const b = listenDatagram({ port: 0, hostname: "127.0.0.1", transport: "udp" }, { stack });
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
  /**
   * The local address (the port chosen when 0 was asked). Through a daemon,
   * the requested address until `ready` resolves.
   */
  readonly addr: UdpAddr;
  /**
   * Resolves to this connection once it is bound (at once on an embedded
   * stack); rejects with the setup error (`EADDRINUSE`, `ENFILE`, no daemon),
   * which every call also reports. Not in `Deno.DatagramConn`: for programs
   * that want to wait for the bind, or need the bound address.
   */
  readonly ready: Promise<DatagramConn>;
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
 * stack `via` chooses (see the module). Returns the connection at once, as
 * `Deno.listenDatagram` does; `await listenDatagram(...)` gives the same
 * connection. On an embedded stack it is bound before this returns, and a
 * bind failure is thrown here; through a daemon, setup goes on in the
 * background and `conn.ready` tells its outcome.
 *
 * @throws {ErrnoError} bad address or port (`EINVAL`); on an embedded stack,
 *   bind failures (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`...).
 */
export function listenDatagram(options: UdpListenOptions, via: StackChoice = {}): DatagramConn {
  if (options.transport !== "udp") {
    throw new TypeError(`Unsupported transport ${options.transport}`);
  }
  const local = endpoint(options.hostname ?? "0.0.0.0", options.port);
  const family = local.addr.family;
  const settings = setupOptions(family, options);
  if (via.stack) {
    const backend = new EmbeddedSocket(via.stack, family);
    try {
      for (const [name, value] of settings) backend.setOptionNow(name, value);
      backend.bindNow(local);
      return new UdpConn(family, udpAddr(backend.localAddressNow()), backend, null);
    } catch (e) {
      backend.close();
      throw e;
    }
  }
  return new UdpConn(
    family,
    udpAddr(local),
    null,
    (adopt) => setupViaDaemon(adopt, via, local, settings),
  );
}

/** The options every new socket gets before it is bound. */
function setupOptions(family: 4 | 6, options: UdpListenOptions): [UdpOption, number][] {
  const settings: [UdpOption, number][] = [["SO_RCVBUF", RCVBUF], ["SO_SNDBUF", SNDBUF]];
  if (options.reuseAddress) settings.push(["SO_REUSEADDR", 1], ["SO_REUSEPORT", 1]);
  settings.push([
    family === 4 ? "IP_MULTICAST_LOOP" : "IPV6_MULTICAST_LOOP",
    options.loopback ? 1 : 0,
  ]);
  return settings;
}

/**
 * Connects to the daemon, sets the options and binds, all pipelined (one
 * round trip after the connection); resolves to the bound address. `adopt`
 * hands the socket to the connection as soon as it exists, so a `close()`
 * meanwhile closes it.
 */
async function setupViaDaemon(
  adopt: (backend: DatagramBackend) => void,
  via: StackChoice,
  local: Endpoint,
  settings: [UdpOption, number][],
): Promise<Endpoint> {
  const backend = await viaDaemon(via, local.addr.family);
  adopt(backend);
  const steps: Promise<unknown>[] = settings.map(([name, value]) => backend.setOption(name, value));
  steps.push(backend.bind(local));
  const named = backend.localAddress();
  const settled = await Promise.allSettled([...steps, named]);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return await named;
}

function viaDaemon(via: StackChoice, family: 4 | 6): Promise<HopSocket> {
  return openViaDaemon(via, family, (path) => HopSocket.open(path, family));
}

/**
 * Opens a hop connection with `connectTo` on the socket file `via` chooses for
 * `family` (the `config` file when this user may, else the public one).
 */
export async function openViaDaemon<T>(
  via: StackChoice,
  family: 4 | 6,
  connectTo: (path: string) => Promise<T>,
): Promise<T> {
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
      return await connectTo(path);
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
  /** The socket once bound (at once on an embedded stack); null until then. */
  #b: DatagramBackend | null;
  /** The socket while it is being set up, so `close` can close it. */
  #pending: DatagramBackend | null = null;
  /** Resolves to the bound socket; rejects with the setup error (always handled). */
  readonly #bound: Promise<DatagramBackend>;
  readonly ready: Promise<DatagramConn>;
  readonly #family: 4 | 6;
  #addr: UdpAddr;
  #closed = false;
  #lastSource = "";
  #lastBytes = new Uint8Array(16);
  #lastFamily = 0;

  /**
   * `backend` when already bound, else `setup` binds one in the background,
   * handing it to `adopt` as soon as it exists (so `close` can close it).
   */
  constructor(
    family: 4 | 6,
    addr: UdpAddr,
    backend: DatagramBackend | null,
    setup: ((adopt: (b: DatagramBackend) => void) => Promise<Endpoint>) | null,
  ) {
    this.#family = family;
    this.#addr = addr;
    this.#b = backend;
    this.#bound = backend !== null ? Promise.resolve(backend) : setup!((b) => this.#adopt(b)).then(
      (named) => {
        const b = this.#pending!;
        this.#pending = null;
        if (this.#closed) throw new ErrnoError("EBADF", "socket closed");
        this.#addr = udpAddr(named);
        this.#b = b;
        return b;
      },
      (e) => {
        this.#pending?.close();
        this.#pending = null;
        throw this.#closed ? new ErrnoError("EBADF", "socket closed") : e;
      },
    );
    this.#bound.catch(() => {}); // reported by `ready` and by each call, never unhandled
    this.ready = this.#bound.then(() => this);
    this.ready.catch(() => {});
  }

  /**
   * The local address: the bound one; through a daemon, the requested one
   * until `ready` resolves (a port-0 request shows port 0 until then).
   */
  get addr(): UdpAddr {
    return this.#addr;
  }

  /** Takes the daemon's socket while it is set up (closing it if `close` came first). */
  #adopt(backend: DatagramBackend): void {
    if (this.#closed) {
      backend.close(); // its pending requests fail with EBADF, failing the setup
      return;
    }
    this.#pending = backend;
  }

  /** The bound socket: at once when bound, else once setup ends (or its error). */
  #socket(): DatagramBackend | Promise<DatagramBackend> {
    return this.#b ?? this.#bound;
  }

  async receive(p?: Uint8Array): Promise<[Uint8Array, UdpAddr]> {
    const from = new Endpoint();
    let data = await (this.#b ?? await this.#bound).receive(from);
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
    await (this.#b ?? await this.#bound).send(p, to);
    return p.length;
  }

  async joinMulticastV4(address: string, networkInterface: string): Promise<MulticastV4Membership> {
    const group = ip(address), ifAddr = ip(networkInterface);
    if (group.family !== 4 || ifAddr.family !== 4) {
      throw new ErrnoError("EINVAL", "joinMulticastV4");
    }
    const b = await this.#socket();
    await b.membership("join", group, 0, ifAddr);
    return {
      leave: () => b.membership("leave", group, 0, ifAddr),
      setLoopback: (on) => b.setOption("IP_MULTICAST_LOOP", on ? 1 : 0),
      setTtl: (ttl) => b.setOption("IP_MULTICAST_TTL", ttl),
    };
  }

  async joinMulticastV6(address: string, networkInterface: number): Promise<MulticastV6Membership> {
    const group = ip(address);
    if (group.family !== 6) throw new ErrnoError("EINVAL", "joinMulticastV6");
    const b = await this.#socket();
    await b.membership("join", group, networkInterface, null);
    return {
      leave: () => b.membership("leave", group, networkInterface, null),
      setLoopback: (on) => b.setOption("IPV6_MULTICAST_LOOP", on ? 1 : 0),
    };
  }

  async connect(addr: UdpAddr | null): Promise<void> {
    const to = addr === null ? null : endpoint(addr.hostname, addr.port);
    await (await this.#socket()).connect(to);
  }

  async setOption(name: UdpOption, value: number | boolean): Promise<void> {
    const n = typeof value === "boolean" ? (value ? 1 : 0) : value;
    await (await this.#socket()).setOption(name, n);
  }

  async getOption(name: UdpOption): Promise<number> {
    return await (await this.#socket()).getOption(name);
  }

  /** Closes the socket; before `ready`, the setup is abandoned (`ready` rejects with EBADF). */
  close(): void {
    if (this.#closed) throw new ErrnoError("EBADF", "close"); // Deno: BadResource
    this.#closed = true;
    this.#b?.close();
    this.#pending?.close();
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
