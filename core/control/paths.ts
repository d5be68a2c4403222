/**
 * Where a stack's control sockets live, from its `prefix=` (daemon) or `$SOCK` (client).
 *
 * `<prefix>/dev/socket/` is a directory, as on QNX. Inside it:
 * - `config`: every request; mode 0600 when the daemon runs as root, so the file
 *   system admits root only (how clients are told apart: see the README).
 * - `2` (and `24` on the IPv6 stack): open to all users; configuration changes
 *   are refused with EPERM there unless the daemon itself runs unprivileged.
 *
 * @example
 * ```ts
 * import { socketPaths } from "./paths.ts";
 * console.log(socketPaths("/alt").config); // /alt/dev/socket/config
 * ```
 * @module
 */

/** The paths of one stack's sockets. */
export interface SocketPaths {
  dir: string;
  config: string;
  inet: string;
  inet6: string;
}

/** Socket paths for a prefix (`""` for the default `/dev/socket`). */
export function socketPaths(prefix: string): SocketPaths {
  const p = prefix.replace(/\/+$/, "");
  const dir = `${p}/dev/socket`;
  return { dir, config: `${dir}/config`, inet: `${dir}/2`, inet6: `${dir}/24` };
}
