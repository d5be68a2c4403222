/**
 * One received segment as the TCP input modules see it, parsed once per
 * arrival into a reused object: the header fields, the agreed options, the
 * payload's place in the borrowed buffer, and both endpoints.
 *
 * @module
 */

import type { NetInterface } from "../../link/interface.ts";
import { IpAddr, type IpFamily } from "../../net/inet_addr.ts";
import { TCP_FLAG, TcpOptions } from "../../wire/tcp.ts";

/** A received segment (reused from one arrival to the next). */
export class TcpSegment {
  family: IpFamily = 4;
  readonly src: IpAddr = new IpAddr();
  readonly dst: IpAddr = new IpAddr();
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  /** The window field as sent (unscaled). */
  window = 0;
  /** The options; `optionsOk` false when they were malformed (then ignored). */
  readonly opts: TcpOptions = new TcpOptions();
  optionsOk = true;
  /** The buffer (borrowed for the call), the payload's offset and length. */
  bytes: Uint8Array = new Uint8Array(0);
  dataOffset = 0;
  dataLength = 0;
  /** The interface it came in by. */
  iface: NetInterface | null = null;

  /** Whether a flag (`TCP_FLAG`) is set. */
  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }

  /** The sequence space it occupies: payload, plus one each for SYN and FIN. */
  get seqLength(): number {
    return this.dataLength + (this.flags & TCP_FLAG.SYN ? 1 : 0) +
      (this.flags & TCP_FLAG.FIN ? 1 : 0);
  }
}
