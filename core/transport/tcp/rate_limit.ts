/**
 * A packets-per-second limit, as NetBSD's `ppsratecheck(9)`: for the replies
 * an attacker could make the stack send at will, namely RSTs to segments for
 * no connection (`net.inet.tcp.rstppslimit`) and RFC 5961 §7 challenge ACKs
 * (`net.inet.tcp.ackdropppslimit`).
 *
 * The window is one second long and starts with the first event after the
 * previous window ended; within it at most `limit` events are allowed.
 * `limit < 0` allows everything, `limit = 0` nothing. Every call is counted,
 * allowed or not, as NetBSD does, so {@linkcode PpsRateLimit.current} tells
 * how busy the present second is.
 *
 * @example
 * ```ts
 * import { PpsRateLimit } from "./rate_limit.ts";
 * const rst = new PpsRateLimit(2);
 * console.log(rst.allow(0), rst.allow(10), rst.allow(20), rst.allow(1000)); // true true false true
 * ```
 * @module
 */

/** One second, in the core's milliseconds. */
const WINDOW_MS = 1000;

/** A per-second event limit (NetBSD's `ppsratecheck`). */
export class PpsRateLimit {
  /** Events allowed per second: negative for unlimited, 0 for none (a hot sysctl: set it any time). */
  limit: number;
  #windowStart = -Infinity;
  #count = 0;
  /** Events refused so far. */
  refused = 0;

  /** @param limit events per second; negative = unlimited, 0 = none */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** Whether one more event may happen at `now` (ms); counts it either way. */
  allow(now: number): boolean {
    if (now - this.#windowStart >= WINDOW_MS || now < this.#windowStart) {
      // A new second (or a clock that went back: start over rather than block for good).
      this.#windowStart = now;
      this.#count = 0;
    }
    const ok = this.limit < 0 || this.#count < this.limit;
    if (this.#count < 0x7fffffff) this.#count++;
    if (!ok) this.refused++;
    return ok;
  }

  /** Events seen in the current window. */
  get current(): number {
    return this.#count;
  }
}
