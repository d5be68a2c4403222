/**
 * Membership of a shmif bus: an unprivileged shared Ethernet segment between
 * stack instances, in the spirit of NetBSD's shmif(4) (there a shared memory
 * file, here a directory of Unix datagram sockets).
 *
 * Each member binds an AF_UNIX SOCK_DGRAM socket `member.<pid>.<random>` in the
 * bus directory. Sending a frame is one non-blocking `sendto()` to every other
 * member's socket file: the bus is a hub, and each stack's Ethernet input drops
 * unicast frames for other hosts. The member list is cached and re-read at most
 * every {@linkcode SCAN_INTERVAL_MS} (a member that joined since may miss up to
 * that much traffic, as a port coming up on a switch does); a peer whose socket
 * is gone (ENOENT) leaves the list at once, and one whose file remains with no
 * process behind it (ECONNREFUSED) has its stale file removed. A peer whose
 * queue is full (EAGAIN) misses that frame, counted in `drops`.
 *
 * Reception uses the pooled reader Workers and a ring, as every driver does
 * (`fd_reader.ts`), with `recvfrom()` in the Worker.
 *
 * @example Two members of one bus
 * ```ts ignore
 * const a = ShmifMember.join("/tmp/bus1", { onFrame: (f) => console.log(f.length) });
 * const b = ShmifMember.join("/tmp/bus1", { onFrame: () => {} });
 * b.send(new Uint8Array(60)); // a prints 60
 * a.leave();
 * b.leave();
 * ```
 * @module
 */

import { ErrnoError } from "../../core/errno.ts";
import type { ReaderPoolRef } from "../../core/link/driver.ts";
import { FdReader } from "./fd_reader.ts";
import {
  closeQuietly,
  cString,
  E,
  errno,
  errnoName,
  libc,
  SOCK,
  sockaddrUn,
  throwErrno,
} from "./libc.ts";
import { CaptureRing, DEFAULT_CAPTURE_BYTES } from "./shmif_capture_ring.ts";

/** The member list is re-read at most this often. */
export const SCAN_INTERVAL_MS = 200;
/** Member socket files are named `member.<pid>.<8 hex digits>`. */
const MEMBER_RE = /^member\.\d+\.[0-9a-f]{8}$/;

/** How a member is set up. */
export interface ShmifMemberOptions {
  /** Called per received frame on the stack thread; the view is valid only during the call. */
  onFrame: (frame: Uint8Array) => void;
  /** Called once if reception ends by itself (Linux errno). */
  onExit?: (linuxErrno: number) => void;
  /** Largest frame received whole; default 9018. */
  maxFrame?: number;
  /** Receive ring slots; default 256. */
  ring?: number;
  /** Append every frame sent to the bus's capture ring (`<bus>/capture`, `capture.old`). */
  capture?: boolean;
  /** The ring's size in bytes; default 1 MiB. */
  captureBytes?: number;
  /** Where reception problems are told; default console.error. */
  log?: (message: string) => void;
  /** The reader threads (`DriverHost.readerPool`); default one Worker per CPU. */
  pool?: ReaderPoolRef;
}

/** Counters of one member. */
export interface ShmifStats {
  /** Frames sent (once per frame, whatever the member count). */
  sent: number;
  /** Copies not delivered because a peer's queue was full. */
  drops: number;
  /** Stale member files removed. */
  staleRemoved: number;
  /** Frames received that were longer than `maxFrame`, dropped. */
  oversize: number;
  /** Times reception found its ring full (and left frames waiting in the socket). */
  ringFull: number;
}

interface Peer {
  name: string;
  addr: Uint8Array<ArrayBuffer>;
}

const MSG_FLAGS = SOCK.MSG_DONTWAIT | SOCK.MSG_NOSIGNAL;

/** One stack interface's membership of one bus. */
export class ShmifMember {
  /** The bus directory. */
  readonly bus: string;
  /** This member's socket file name inside the bus. */
  readonly name: string;
  /** The member socket; -1 once closed. */
  #fd: number;
  readonly #reader: FdReader;
  /** The capture ring; null when none or once closed. */
  #capture: CaptureRing | null;
  #peers: Peer[] = [];
  #lastScan = -Infinity;
  #left = false;
  readonly #stats = { sent: 0, drops: 0, staleRemoved: 0 };

  private constructor(bus: string, name: string, fd: number, opts: ShmifMemberOptions) {
    this.bus = bus;
    this.name = name;
    this.#fd = fd;
    const maxFrame = opts.maxFrame ?? 9018;
    this.#capture = opts.capture
      ? CaptureRing.open(bus, opts.captureBytes ?? DEFAULT_CAPTURE_BYTES)
      : null;
    try {
      this.#reader = new FdReader(fd, {
        slots: opts.ring ?? 256,
        maxFrame,
        datagram: true,
        onFrame: opts.onFrame,
        onExit: opts.onExit,
        log: opts.log,
        pool: opts.pool,
      });
    } catch (e) {
      this.#capture?.close();
      this.#capture = null;
      throw e;
    }
  }

  /**
   * Joins the bus at directory `bus` (made if missing). Throws an ErrnoError
   * (ENOTDIR when `bus` is a file, ENAMETOOLONG when the socket path would not
   * fit in `sun_path`, EACCES...).
   */
  static join(bus: string, opts: ShmifMemberOptions): ShmifMember {
    const dir = bus.length > 1 ? bus.replace(/\/+$/, "") : bus;
    makeBusDir(dir);
    const name = `member.${Deno.pid}.${randomHex()}`;
    const addr = sockaddrUn(`${dir}/${name}`);
    const fd = libc().socket(SOCK.AF_UNIX, SOCK.DGRAM | SOCK.NONBLOCK | SOCK.CLOEXEC, 0);
    if (fd < 0) throwErrno("socket");
    if (libc().bind(fd, addr, addr.length) < 0) {
      const e = errnoName(errno());
      closeQuietly(fd);
      throw new ErrnoError(e, `bind ${dir}/${name}`);
    }
    try {
      const m = new ShmifMember(dir, name, fd, opts);
      m.#scan();
      return m;
    } catch (e) {
      closeQuietly(fd);
      libc().unlink(cString(`${dir}/${name}`));
      throw e;
    }
  }

  /** Waits (bounded) until reception runs; false if it did not start in time. */
  whenReady(): Promise<boolean> {
    return this.#reader.whenReady();
  }

  /** The member's counters. */
  stats(): ShmifStats {
    const rx = this.#reader.ring.stats();
    return { ...this.#stats, oversize: rx.oversize, ringFull: rx.full };
  }

  /** Names of the other members, as last scanned. */
  peers(): string[] {
    return this.#peers.map((p) => p.name);
  }

  /** Sends one frame to every other member (non-blocking; on the stack thread). */
  send(frame: Uint8Array): void {
    if (this.#left) return;
    const now = performance.now();
    if (now - this.#lastScan >= SCAN_INTERVAL_MS) this.#scan(now);
    this.#stats.sent++;
    let gone = false;
    for (const peer of this.#peers) {
      const r = libc().sendto(
        this.#fd,
        frame,
        frame.length,
        MSG_FLAGS,
        peer.addr,
        peer.addr.length,
      );
      if (r >= 0) continue;
      const e = errno();
      if (e === E.ENOENT || e === E.ECONNREFUSED) {
        if (e === E.ECONNREFUSED) this.#removeStale(peer);
        peer.name = "";
        gone = true;
      } else {
        this.#stats.drops++; // EAGAIN/ENOBUFS: that peer's queue is full
      }
    }
    if (gone) this.#peers = this.#peers.filter((p) => p.name !== "");
    this.#capture?.append(frame);
  }

  /**
   * Leaves the bus: stops reception (the reader Worker no longer uses the
   * socket when that returns), then closes the socket, removes its file and
   * closes its capture descriptor (the capture stays). Idempotent: each descriptor is closed once.
   */
  leave(): void {
    if (this.#left) return;
    this.#left = true;
    this.#reader.stop();
    const fd = this.#fd;
    this.#fd = -1;
    closeQuietly(fd);
    libc().unlink(cString(`${this.bus}/${this.name}`));
    this.#capture?.close();
    this.#capture = null;
  }

  #scan(now = performance.now()): void {
    this.#lastScan = now;
    const known = new Map(this.#peers.map((p) => [p.name, p]));
    const peers: Peer[] = [];
    try {
      for (const entry of Deno.readDirSync(this.bus)) {
        if (entry.name === this.name || !MEMBER_RE.test(entry.name)) continue;
        peers.push(known.get(entry.name) ?? this.#peer(entry.name));
      }
    } catch {
      return; // the directory went away: keep the last list; sends will find out
    }
    this.#peers = peers;
  }

  #peer(name: string): Peer {
    return { name, addr: sockaddrUn(`${this.bus}/${name}`) };
  }

  #removeStale(peer: Peer): void {
    if (libc().unlink(cString(`${this.bus}/${peer.name}`)) === 0) this.#stats.staleRemoved++;
  }
}

function makeBusDir(dir: string): void {
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) throw new ErrnoError("ENOTDIR", dir);
    if (e instanceof Deno.errors.PermissionDenied) throw new ErrnoError("EACCES", dir);
    if (e instanceof Deno.errors.NotADirectory) throw new ErrnoError("ENOTDIR", dir);
    throw new ErrnoError("EIO", `${dir}: ${e instanceof Error ? e.message : e}`);
  }
  if (!Deno.statSync(dir).isDirectory) throw new ErrnoError("ENOTDIR", dir);
}

function randomHex(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(4)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}
