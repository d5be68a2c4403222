/**
 * errno names, numbers and messages, as QNX Neutrino's libc spells them.
 *
 * Errors travel as names (`"ENXIO"`) end to end: in control replies, in thrown
 * {@linkcode ErrnoError}s, in the socket library. The numbers are QNX's, for
 * tools that print them and for `mod.ts` users who compare them.
 *
 * @example Raise and describe an errno
 * ```ts
 * import { ErrnoError, strerror } from "./errno.ts";
 * const err = new ErrnoError("ENXIO", "SIOCGIFFLAGS");
 * console.log(err.code, strerror(err.code)); // ENXIO No such device or address
 * ```
 * @module
 */

/** errno name to [QNX number, message]. */
const ERRNO_TABLE = {
  EPERM: [1, "Operation not permitted"],
  ENOENT: [2, "No such file or directory"],
  ESRCH: [3, "No such process"],
  EINTR: [4, "Interrupted function call"],
  EIO: [5, "I/O error"],
  ENXIO: [6, "No such device or address"],
  E2BIG: [7, "Arg list too long"],
  EBADF: [9, "Bad file descriptor"],
  EAGAIN: [11, "Resource temporarily unavailable"],
  ENOMEM: [12, "Not enough memory"],
  EACCES: [13, "Permission denied"],
  EFAULT: [14, "Bad address"],
  EBUSY: [16, "Resource busy"],
  EEXIST: [17, "File exists"],
  ENODEV: [19, "No such device"],
  ENOTDIR: [20, "Not a directory"],
  EINVAL: [22, "Invalid argument"],
  ENFILE: [23, "Too many open files in system"],
  EMFILE: [24, "Too many open files"],
  ENOSPC: [28, "No space left on device"],
  EPIPE: [32, "Broken pipe"],
  EDOM: [33, "Domain error"],
  ERANGE: [34, "Result too large"],
  ENOSYS: [89, "Function not implemented"],
  ENAMETOOLONG: [78, "File name too long"],
  EPROTO: [71, "Protocol error"],
  EBADMSG: [77, "Bad message"],
  EOVERFLOW: [79, "Value too large to be stored in data type"],
  EINPROGRESS: [236, "Operation now in progress"],
  EALREADY: [237, "Operation already in progress"],
  ENOTSOCK: [238, "Socket operation on non-socket"],
  EDESTADDRREQ: [239, "Destination address required"],
  EMSGSIZE: [240, "Message too long"],
  EPROTOTYPE: [241, "Protocol wrong type for socket"],
  ENOPROTOOPT: [242, "Protocol not available"],
  EPROTONOSUPPORT: [243, "Protocol not supported"],
  ESOCKTNOSUPPORT: [244, "Socket type not supported"],
  EOPNOTSUPP: [245, "Operation not supported"],
  EPFNOSUPPORT: [246, "Protocol family not supported"],
  EAFNOSUPPORT: [247, "Address family not supported by protocol family"],
  EADDRINUSE: [248, "Address already in use"],
  EADDRNOTAVAIL: [249, "Can't assign requested address"],
  ENETDOWN: [250, "Network is down"],
  ENETUNREACH: [251, "Network is unreachable"],
  ENETRESET: [252, "Network dropped connection on reset"],
  ECONNABORTED: [253, "Software caused connection abort"],
  ECONNRESET: [254, "Connection reset by peer"],
  ENOBUFS: [255, "No buffer space available"],
  EISCONN: [256, "Socket is already connected"],
  ENOTCONN: [257, "Socket is not connected"],
  ESHUTDOWN: [258, "Can't send after socket shutdown"],
  ETIMEDOUT: [260, "Connection timed out"],
  ECONNREFUSED: [261, "Connection refused"],
  EHOSTDOWN: [264, "Host is down"],
  EHOSTUNREACH: [265, "No route to host"],
} as const satisfies Record<string, readonly [number, string]>;

/** An errno name such as `"EADDRINUSE"`. */
export type Errno = keyof typeof ERRNO_TABLE;

/** Whether `name` is an errno name this suite knows. */
export function isErrno(name: unknown): name is Errno {
  return typeof name === "string" && Object.hasOwn(ERRNO_TABLE, name);
}

/** QNX's message for an errno name, as `strerror(3)` gives it. */
export function strerror(code: Errno): string {
  return ERRNO_TABLE[code][1];
}

/** QNX's number for an errno name. */
export function errnoNumber(code: Errno): number {
  return ERRNO_TABLE[code][0];
}

/** The errno name for a QNX number, or null for a number this suite does not know. */
export function errnoName(n: number): Errno | null {
  for (const [name, [num]] of Object.entries(ERRNO_TABLE)) if (num === n) return name as Errno;
  return null;
}

/**
 * An error that carries an errno name; the one error type that crosses layers.
 *
 * @example
 * ```ts
 * import { ErrnoError } from "./errno.ts";
 * try {
 *   throw new ErrnoError("EADDRINUSE", "bind");
 * } catch (e) {
 *   if (e instanceof ErrnoError) console.log(e.code); // EADDRINUSE
 * }
 * ```
 */
export class ErrnoError extends Error {
  /** The errno name. */
  readonly code: Errno;
  /**
   * @param code the errno name
   * @param context what failed (an ioctl name, an option), prefixed to the message
   */
  constructor(code: Errno, context?: string) {
    super(context ? `${context}: ${strerror(code)}` : strerror(code));
    this.name = "ErrnoError";
    this.code = code;
  }
}
