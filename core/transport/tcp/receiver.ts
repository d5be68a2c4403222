/**
 * The receiver's half of input (RFC 9293 §3.10.7.4 "seventh, process the
 * segment text" and "eighth, check the FIN bit"): bytes into the receive
 * buffer in order or beyond a hole, the ACK policy (every second segment at
 * once, otherwise delayed; at once for anything out of order or filling a
 * hole, RFC 5681 §4.2), the peer's FIN taken in sequence, and receive-buffer
 * auto-tuning.
 *
 * @module
 */

import { TCP_FLAG } from "../../wire/tcp.ts";
import { TCPS } from "./state.ts";
import type { TcpConnection } from "./tcb.ts";
import { TCP_EVENT } from "./tcb.ts";
import type { TcpSegment } from "./segment.ts";
import type { TcpProtocol } from "./tcp.ts";

/** What arriving bytes and FINs do to a connection. */
export class TcpReceiver {
  readonly #tcp: TcpProtocol;

  constructor(tcp: TcpProtocol) {
    this.#tcp = tcp;
  }

  /** Takes the text and FIN of an acceptable segment (ESTABLISHED, FIN_WAIT_1/2, or just established). */
  processData(c: TcpConnection, seg: TcpSegment, now: number): void {
    const tcp = this.#tcp, st = tcp.ctx.stats.tcp;
    const len = seg.dataLength;
    if (len > 0 && !c.rcvFinDone) {
      if (c.recv === null) c.openReceiveBuffer();
      const recv = c.recv!;
      const before = recv.ackSeq;
      // Data held beyond a hole before this segment (runs other than the in-order one).
      const heldBeyond = recv.rangeCount > (recv.readable > 0 ? 1 : 0);
      const added = recv.insertFrom(seg.seq, seg.bytes, seg.dataOffset, len);
      if (recv.lastDuplicate > 0 && c.sackOk) {
        // RFC 2883 §4: the first SACK block of the next ACK names the duplicate bytes.
        c.dsackPending = true;
        c.dsackStart = seg.seq;
        c.dsackEnd = (seg.seq + (added === 0 ? len : recv.lastDuplicate)) >>> 0;
        c.ackNow = true;
      }
      if (added === 0 && recv.lastDropped === 0) {
        st.rcvduppack++;
        st.rcvdupbyte += len;
        c.ackNow = true; // a duplicate: tell the peer where we are (and D-SACK it)
      } else {
        if (recv.lastDuplicate > 0) {
          st.rcvpartduppack++;
          st.rcvpartdupbyte += recv.lastDuplicate;
        }
        if (recv.lastDropped > 0) {
          st.rcvpackafterwin++;
          st.rcvbyteafterwin += recv.lastDropped;
        }
        const after = recv.ackSeq;
        if (after !== before) {
          st.rcvpack++;
          st.rcvbyte += added;
          const inOrder = seg.seq === before;
          c.rcvNxt = after;
          c.post(TCP_EVENT.READABLE, tcp.ctx.wakes);
          this.#autotune(c, after - before, now);
          // RFC 5681 §4.2: at once when out of order or filling a hole (the last one included).
          if (!inOrder || recv.rangeCount > 1 || heldBeyond) c.ackNow = true;
          else if (++c.unackedSegments >= 2 || seg.has(TCP_FLAG.PSH) && tcp.settings.ackOnPush) {
            c.ackNow = true;
          } else tcp.timers.startDelayedAck(c, now);
        } else {
          st.rcvoopack++;
          st.rcvoobyte += added;
          c.ackNow = true;
        }
      }
    }
    if (seg.has(TCP_FLAG.FIN) && !c.rcvFinDone) {
      c.rcvFinPending = true;
      c.rcvFinSeq = (seg.seq + len) >>> 0;
      if (c.rcvFinSeq !== c.rcvNxt) c.ackNow = true;
    }
    if (c.rcvFinPending && !c.rcvFinDone && c.rcvFinSeq === c.rcvNxt) this.#takeFin(c, now);
  }

  /** The FIN is next in sequence: the stream ends here. */
  #takeFin(c: TcpConnection, now: number): void {
    const tcp = this.#tcp;
    c.rcvFinDone = true;
    c.rcvNxt = (c.rcvNxt + 1) >>> 0;
    c.ackNow = true;
    c.post(TCP_EVENT.EOF | TCP_EVENT.READABLE, tcp.ctx.wakes);
    switch (c.state) {
      case TCPS.SYN_RECEIVED:
      case TCPS.ESTABLISHED:
        c.state = TCPS.CLOSE_WAIT;
        break;
      case TCPS.FIN_WAIT_1:
        if (c.finSent && c.sndUna === c.sndMax) tcp.enterTimeWait(c, now);
        else c.state = TCPS.CLOSING;
        break;
      case TCPS.FIN_WAIT_2:
        tcp.enterTimeWait(c, now);
        break;
    }
  }

  /**
   * Receive-buffer auto-tuning (`net.inet.tcp.recvbuf_auto`): when the peer
   * delivered at least half the buffer within one round trip, the buffer
   * doubles (at least `recvbuf_inc` more), up to `recvbuf_max`. NetBSD adds
   * `recvbuf_inc` per round trip; doubling reaches a long fat path's
   * bandwidth-delay product in a few round trips instead of hundreds.
   */
  #autotune(c: TcpConnection, bytes: number, now: number): void {
    const s = this.#tcp.settings;
    if (!s.recvbufAuto || c.rcvBufFixed || c.recv === null) return;
    const rtt = c.rtt.hasSample ? Math.max(c.rtt.srtt, 1) : 200;
    if (now - c.rcvAutoStart > rtt) {
      c.rcvAutoStart = now;
      c.rcvAutoBytes = 0;
    }
    c.rcvAutoBytes += bytes;
    const cap = c.recv.capacity;
    if (c.rcvAutoBytes * 2 >= cap && cap < s.recvbufMax) {
      const next = Math.min(
        s.recvbufMax,
        Math.max(cap * 2, cap + s.recvbufInc),
        (0xffff << c.rcvScale) >>> 0,
      );
      if (next > cap) {
        c.recv.setCapacity(next);
        c.rcvBufSize = next;
        c.rcvAutoBytes = 0;
        c.rcvAutoStart = now;
      }
    }
  }
}
