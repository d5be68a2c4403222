/**
 * UDP input for both families (RFC 768, RFC 8200 §8.1), as NetBSD's
 * `udp_input`/`udp6_input` check it: the header, the length (over IPv4 a
 * UDP length shorter than the IP payload trims it; over IPv6 they must agree),
 * the checksum (optional over IPv4, mandatory over IPv6; skipped on a loopback
 * when `net.inet.udp.do_loopback_cksum` is 0), then the port.
 *
 * There is no socket table yet (it comes with the socket layer), so no port
 * is open: a datagram that passes the checks is counted as `noport` and
 * answered with port unreachable unless it went to a broadcast or multicast
 * address, exactly as a host with no UDP sockets answers.
 *
 * @example
 * ```ts ignore
 * ctx.protocols.register(IPPROTO.UDP, [4, 6], new UdpProtocol(ctx));
 * ```
 * @module
 */

import type { StackContext } from "../stack_context.ts";
import type { NetHeader, TransportProtocol } from "../net/protocols.ts";
import { finishChecksum, sumWords } from "../wire/checksum.ts";

/** The UDP header's length. */
export const UDP_HEADER_LEN = 8;

/** UDP, registered for both families. */
export class UdpProtocol implements TransportProtocol {
  readonly name = "udp";
  readonly #ctx: StackContext;

  constructor(ctx: StackContext) {
    this.#ctx = ctx;
  }

  /** One datagram for this node. */
  input(h: NetHeader): void {
    const ctx = this.#ctx;
    const six = h.family === 6;
    const st = six ? ctx.stats.udp6 : ctx.stats.udp;
    st.ipackets++;
    if (h.length < UDP_HEADER_LEN) {
      st.hdrops++;
      return;
    }
    const b = h.bytes, at = h.offset;
    const ulen = (b[at + 4] << 8) | b[at + 5];
    if (six ? ulen !== h.length : ulen > h.length || ulen < UDP_HEADER_LEN) {
      st.badlen++;
      return;
    }
    const sum = (b[at + 6] << 8) | b[at + 7];
    if (sum === 0 && six) {
      ctx.stats.udp6.nosum++; // RFC 8200 §8.1: a zero UDP checksum is invalid over IPv6
      return;
    }
    const skip = sum === 0 || (h.viaLoopback && ctx.tunables.udp.doLoopbackCksum === 0);
    if (!skip && finishChecksum(sumWords(b, at, at + ulen, h.pseudoSum(ulen))) !== 0) {
      st.badsum++;
      return;
    }
    // No socket table yet: no port is open.
    st.noport++;
    if (h.toGroup) {
      if (six) ctx.stats.udp6.noportmcast++;
      else ctx.stats.udp.noportbcast++;
      return;
    }
    h.layer?.unreachable(h, "port");
  }
}
