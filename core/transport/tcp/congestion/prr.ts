/**
 * Proportional Rate Reduction (RFC 6937), slow-start reduction bound
 * (PRR-SSRB): how much a sender in fast recovery may send on each ACK, so
 * the data in flight falls smoothly from RecoverFS to ssthresh instead of
 * stopping for half a round trip (RFC 6675) or bursting at the end.
 *
 * While `pipe > ssthresh`, sending is proportional to delivery: over the
 * recovery the sender sends ssthresh/RecoverFS of what was delivered. Once
 * `pipe <= ssthresh` (heavy loss), it may catch up toward ssthresh, at most
 * one segment more than was delivered by this ACK or since sending fell
 * behind, as slow start would.
 *
 * Units are bytes. The proportional part is rounded up to whole segments
 * (RFC 6937's CEIL counts segments; Linux does the same), so a sender that
 * sends whole segments while `sndcnt` allows reproduces the RFC's
 * segment-level behaviour. As Linux and RFC 6937bis do, the first ACK of a
 * recovery always allows one segment, so the fast retransmit goes out.
 *
 * @module
 */

/**
 * PRR's state for one recovery episode of one connection: four numbers,
 * nothing allocated per call. Reuse one instance per connection.
 *
 * @example
 * ```ts
 * const prr = new ProportionalRateReduction();
 * prr.start(20000, 10000, 1000); // 20 segments in flight at loss, ssthresh 10 segments
 * prr.onAck(1000, 16000); // 1000: the fast retransmit
 * prr.onSent(1000);
 * prr.onAck(1000, 16000); // 0: half a segment earned so far
 * prr.onAck(1000, 15000); // 1000: sending at half the rate of delivery
 * ```
 */
export class ProportionalRateReduction {
  #recoverFs = 1;
  #ssthresh = 0;
  #mss = 1;
  #delivered = 0;
  #out = 0;
  #active = false;

  /** Between `start` and `end`. */
  get active(): boolean {
    return this.#active;
  }

  /** prr_delivered: bytes delivered to the receiver since recovery began. */
  get delivered(): number {
    return this.#delivered;
  }

  /** prr_out: bytes sent (new or retransmitted) since recovery began. */
  get out(): number {
    return this.#out;
  }

  /** RecoverFS: the bytes in flight when recovery began. */
  get recoverFs(): number {
    return this.#recoverFs;
  }

  /**
   * Recovery begins. `recoverFs` is the flight at loss (snd_nxt - snd_una),
   * `ssthresh` what the congestion control just set, `mss` the sender MSS.
   */
  start(recoverFs: number, ssthresh: number, mss: number): void {
    this.#mss = Math.max(1, mss);
    this.#recoverFs = Math.max(this.#mss, recoverFs); // never 0: it divides
    this.#ssthresh = ssthresh;
    this.#delivered = 0;
    this.#out = 0;
    this.#active = true;
  }

  /**
   * An ACK in recovery delivered `deliveredBytes` (cumulatively acked plus
   * newly SACKed); `pipe` is RFC 6675's estimate of the bytes in flight after
   * it. Returns sndcnt: the bytes the sender may send now (0 or more). The
   * sender's cwnd for this ACK is `pipe + sndcnt`.
   */
  onAck(deliveredBytes: number, pipe: number): number {
    if (deliveredBytes > 0) this.#delivered += deliveredBytes;
    const mss = this.#mss;
    let sndcnt: number;
    if (pipe > this.#ssthresh) {
      const earned = Math.ceil(this.#delivered * this.#ssthresh / (this.#recoverFs * mss)) * mss;
      sndcnt = earned - this.#out;
    } else {
      const limit = Math.max(this.#delivered - this.#out, deliveredBytes) + mss;
      sndcnt = Math.min(this.#ssthresh - pipe, limit);
    }
    if (this.#out === 0 && sndcnt < mss) sndcnt = mss;
    return sndcnt > 0 ? sndcnt : 0;
  }

  /** The sender sent `bytes` (new data or retransmission) during recovery. */
  onSent(bytes: number): void {
    if (this.#active && bytes > 0) this.#out += bytes;
  }

  /** Recovery is over (or was undone, or a timeout ended it). */
  end(): void {
    this.#active = false;
  }
}
