/**
 * The loopback device behind `lo0` (and any `loN` made with `ifconfig loN create`).
 *
 * What is sent on it comes straight back in; the stack hands it over on its
 * next turn rather than re-entering input from inside output.
 *
 * @example
 * ```ts
 * import { loopbackSpec, LOMTU } from "./loopback.ts";
 * const spec = loopbackSpec((frame) => console.log(frame.length));
 * console.log(spec.mtu === LOMTU); // true
 * ```
 * @module
 */

import type { InterfaceSpec } from "./driver.ts";
import { IFF } from "./if_flags.ts";

/** Loopback MTU: 32768 + MHLEN + MLEN as QNX's 32-bit builds print it (reference §5.3). */
export const LOMTU = 33192;

/** An interface spec for a loopback whose frames go to `loop`. */
export function loopbackSpec(loop: (frame: Uint8Array) => void): InterfaceSpec {
  return {
    linkType: "loopback",
    mtu: LOMTU,
    maxMtu: LOMTU,
    flags: IFF.LOOPBACK | IFF.MULTICAST,
    transmit: loop,
  };
}
