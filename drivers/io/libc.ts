/**
 * The few libc calls the drivers need, through Deno FFI, and Linux errno
 * numbers mapped to this suite's errno names.
 *
 * Signatures use `i32`/`u32`/`buffer`/`pointer` only: a JS number passed to a
 * `usize` parameter makes V8 deoptimise, and an `isize`/`usize` result
 * allocates a BigInt per call (DESIGN.md, "Facts measured here"). Results of
 * `ssize_t` functions are declared `i32`: frames and datagrams are far below
 * 2 GiB, and -1 survives the truncation to 32 bits.
 *
 * The library is opened on first use, once per thread (the reader Workers open
 * their own), so importing a driver module costs nothing and needs no FFI
 * permission until an interface is really attached.
 *
 * @example Open, read nothing, close
 * ```ts ignore
 * import { cString, libc, O, throwErrno } from "./libc.ts";
 * const fd = libc().open(cString("/dev/null"), O.RDONLY | O.CLOEXEC, 0);
 * if (fd < 0) throwErrno("open /dev/null");
 * libc().close(fd);
 * ```
 * @module
 */

import { type Errno, ErrnoError } from "../../core/errno.ts";

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // The request is `unsigned long` in glibc but the kernel takes `unsigned int`: u32 is exact.
  ioctl: { parameters: ["i32", "u32", "buffer"], result: "i32" },
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  writev: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "u32", "i32", "buffer", "u32"], result: "i32" },
  recvfrom: { parameters: ["i32", "buffer", "u32", "i32", "pointer", "pointer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  poll: { parameters: ["buffer", "u32", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  unlink: { parameters: ["buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The libc functions, as FFI exposes them. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
let errnoView: Deno.UnsafePointerView | undefined;

/** libc, opened on first use in this thread (isolate). */
export function libc(): Libc {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

/**
 * This thread's `errno`, as a Linux number. Read it right after the failing
 * call: any later FFI call may overwrite it. The location is per thread and
 * fixed for the thread's life, so it is looked up once.
 */
export function errno(): number {
  if (!errnoView) {
    const p = libc().__errno_location();
    if (p === null) return 0;
    errnoView = new Deno.UnsafePointerView(p);
  }
  return errnoView.getInt32(0);
}

/** Linux errno numbers the drivers test for. */
export const E = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOBUFS: 105,
  ECONNREFUSED: 111,
  EBADFD: 77,
} as const;

/** Linux numbers (x86_64/aarch64 generic table) to our names; QNX's numbers differ. */
const LINUX_ERRNO: Readonly<Record<number, Errno>> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  7: "E2BIG",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  19: "ENODEV",
  20: "ENOTDIR",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  28: "ENOSPC",
  32: "EPIPE",
  33: "EDOM",
  34: "ERANGE",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  71: "EPROTO",
  74: "EBADMSG",
  75: "EOVERFLOW",
  77: "EBADF", // EBADFD: a tun fd with no device attached
  88: "ENOTSOCK",
  89: "EDESTADDRREQ",
  90: "EMSGSIZE",
  91: "EPROTOTYPE",
  92: "ENOPROTOOPT",
  93: "EPROTONOSUPPORT",
  94: "ESOCKTNOSUPPORT",
  95: "EOPNOTSUPP",
  96: "EPFNOSUPPORT",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  102: "ENETRESET",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  106: "EISCONN",
  107: "ENOTCONN",
  108: "ESHUTDOWN",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  112: "EHOSTDOWN",
  113: "EHOSTUNREACH",
  114: "EALREADY",
  115: "EINPROGRESS",
};

/** Our errno name for a Linux errno number; `EIO` for one we have no name for. */
export function errnoName(linuxErrno: number): Errno {
  return LINUX_ERRNO[linuxErrno] ?? "EIO";
}

/** Throws an {@linkcode ErrnoError} for the current `errno`, with `context` as its prefix. */
export function throwErrno(context: string): never {
  throw new ErrnoError(errnoName(errno()), context);
}

/** `open(2)` flags (Linux values). */
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  CLOEXEC: 0o2000000,
} as const;

/** Socket constants (Linux values). */
export const SOCK = {
  AF_UNIX: 1,
  DGRAM: 2,
  NONBLOCK: 0o4000,
  CLOEXEC: 0o2000000,
  SOL_SOCKET: 1,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  MSG_DONTWAIT: 0x40,
  MSG_NOSIGNAL: 0x4000,
} as const;

/** `poll(2)` event bits. */
export const POLL = { IN: 0x1, ERR: 0x8, HUP: 0x10, NVAL: 0x20 } as const;

/** `eventfd(2)` flags. */
export const EFD = { NONBLOCK: 0o4000, CLOEXEC: 0o2000000 } as const;

const encoder = new TextEncoder();

/** A NUL-terminated copy of `s`, for `const char *` parameters. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** `sizeof(sun_path)`: a Unix socket path holds at most 107 bytes plus the NUL. */
export const SUN_PATH_MAX = 108;

/**
 * A `struct sockaddr_un` for `path`; its length for bind/sendto is the array's length.
 * Throws ENAMETOOLONG when the path does not fit.
 */
export function sockaddrUn(path: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(path);
  if (bytes.length >= SUN_PATH_MAX) throw new ErrnoError("ENAMETOOLONG", path);
  const out = new Uint8Array(2 + bytes.length + 1);
  out[0] = SOCK.AF_UNIX; // sa_family_t, little-endian u16
  out.set(bytes, 2);
  return out;
}

/**
 * Closes `fd`, ignoring errors: used on cleanup paths where nothing better can
 * be done. A negative `fd` is no descriptor and is skipped, so an owner that
 * sets its field to -1 as it closes (every owner in `drivers/io/` does) can
 * never close a number twice: a second close would hit whatever the process
 * (another Worker, the runtime's own epoll instance) opened under that number
 * meanwhile.
 */
export function closeQuietly(fd: number): void {
  if (fd >= 0) libc().close(fd);
}
