/**
 * `dummy`: a discard interface, like Linux's dummy. Frames sent on it are
 * counted and dropped; nothing is ever received.
 *
 * Options (after the stack has taken `name=`, `unit=`, `lan=`):
 * - `mac=xx:xx:xx:xx:xx:xx` (or 12 hex digits) — link address; default a random
 *   locally administered one.
 * - `mtu=N` — 68..65535, default 1500.
 *
 * Load with `-d dummy`, `mount -T io-pkt devnp-dummy.so`, or `ifconfig dummy0 create`.
 *
 * @example
 * ```sh
 * io-pkt-v6-hc -d dummy mac=02:00:00:00:00:01,mtu=9000 -ptcpip prefix=/tmp/a
 * ```
 * @module
 */

import { ErrnoError } from "../core/errno.ts";
import type { DriverHost, DriverModule } from "../core/link/driver.ts";
import { IFF } from "../core/link/if_flags.ts";
import { parseMac, randomMac } from "./io/options.ts";

/** Parses `mac=` in either colon or bare-hex form (shared with the other drivers). */
export { parseMac };

interface DummyOptions {
  mac: Uint8Array;
  mtu: number;
}

function parseOptions(options: string, host: DriverHost): DummyOptions {
  const out: DummyOptions = { mac: randomMac(), mtu: 1500 };
  for (const item of options.split(",").filter((s) => s !== "")) {
    const eq = item.indexOf("=");
    const key = eq === -1 ? item : item.slice(0, eq);
    const value = eq === -1 ? "" : item.slice(eq + 1);
    if (key === "mac") {
      const mac = parseMac(value);
      if (!mac) throw new ErrnoError("EINVAL", `dummy: bad mac "${value}"`);
      out.mac = mac;
    } else if (key === "mtu") {
      const mtu = Number(value);
      if (!/^\d+$/.test(value) || mtu < 68 || mtu > 65535) {
        throw new ErrnoError("EINVAL", `dummy: bad mtu "${value}"`);
      }
      out.mtu = mtu;
    } else {
      host.log(`dummy: unknown option "${key}"`);
      throw new ErrnoError("EINVAL", `dummy: unknown option "${key}"`);
    }
  }
  return out;
}

/** The driver. */
export const driver: DriverModule = {
  defaultPrefix: "dummy",
  cloneable: true,
  attach(host: DriverHost, options: string): void {
    const opts = parseOptions(options, host);
    let discardedFrames = 0;
    let discardedBytes = 0;
    const iface = host.attachInterface({
      mtu: opts.mtu,
      maxMtu: 65535,
      lladdr: opts.mac,
      flags: IFF.BROADCAST | IFF.NOARP | IFF.SIMPLEX | IFF.MULTICAST,
      transmit(frame: Uint8Array): boolean {
        discardedFrames++;
        discardedBytes += frame.length;
        return true; // a discard interface sends every frame, nowhere
      },
      detach() {
        host.log(`${iface.name}: discarded ${discardedFrames} frames, ${discardedBytes} bytes`);
      },
    });
  },
};
