/**
 * The timers of a TCP connection (NetBSD's `tcp_timer.c`), on the stack's
 * timer queue with one re-armable handle per kind, made on first use:
 *
 * - retransmission (RFC 6298, backed off per timeout; a SYN or SYN-ACK is
 *   resent the same way) and, sharing its handle, persist (zero-window
 *   probes, backed off between 5 and 60 s as BSD does);
 * - keep: the connection-establishment limit (`keepinit`), keepalive
 *   probes (`keepidle`/`keepintvl`/`keepcnt`, RFC 9293 §3.8.4), the idle
 *   limit of FIN_WAIT_2 after close, and TIME_WAIT's 2·MSL;
 * - delayed ACK (`delack_ticks`).
 *
 * @module
 */

import { TCP_FLAG } from "../../wire/tcp.ts";
import { TCPS } from "./state.ts";
import type { TcpConnection } from "./tcb.ts";
import type { TcpProtocol } from "./tcp.ts";

/** Retransmissions before a connection is given up (NetBSD's TCP_MAXRXTSHIFT). */
export const TCP_MAXRXTSHIFT = 12;
/** SYN retransmissions before connect gives up (Linux's tcp_syn_retries is 6; BSD's keepinit bounds it too). */
export const TCP_SYN_RETRIES = 6;
/** Persist interval bounds (TCPTV_PERSMIN, TCPTV_PERSMAX). */
const PERSIST_MIN_MS = 5_000;
const PERSIST_MAX_MS = 60_000;
/** BSD's tcp_backoff[], the multipliers of successive timeouts. */
const BACKOFF = [1, 2, 4, 8, 16, 32, 64, 64, 64, 64, 64, 64, 64];

/** Arms and serves the timers of every connection of one stack. */
export class TcpTimers {
  readonly #tcp: TcpProtocol;

  constructor(tcp: TcpProtocol) {
    this.#tcp = tcp;
  }

  /** (Re)starts the retransmission timer at the current RTO. */
  startRetransmit(c: TcpConnection, now: number): void {
    c.persisting = false;
    (c.rexmtTimer ??= this.#tcp.ctx.timers.timer(() => this.#retransmitTimeout(c))).arm(
      now + c.rtt.rto,
    );
  }

  /** Stops the retransmission (or persist) timer. */
  stopRetransmit(c: TcpConnection): void {
    c.rexmtTimer?.disarm();
    c.persisting = false;
  }

  /** Starts probing a zero window, unless a timer already runs. */
  startPersist(c: TcpConnection, now: number): void {
    if (c.rexmtTimer?.armed) return;
    c.persisting = true;
    const base = c.rtt.hasSample ? c.rtt.srtt + 4 * c.rtt.rttvar : 1000;
    const t = Math.min(
      PERSIST_MAX_MS,
      Math.max(PERSIST_MIN_MS, base * BACKOFF[Math.min(c.rexmtShift, 12)]),
    );
    (c.rexmtTimer ??= this.#tcp.ctx.timers.timer(() => this.#retransmitTimeout(c))).arm(now + t);
  }

  /** Schedules the delayed ACK, unless scheduled. */
  startDelayedAck(c: TcpConnection, now: number): void {
    const t = c.delackTimer ??= this.#tcp.ctx.timers.timer(() => this.#delayedAck(c));
    if (!t.armed) t.arm(now + this.#tcp.delayedAckMs());
  }

  /** Cancels the delayed ACK (an ACK just went out). */
  stopDelayedAck(c: TcpConnection): void {
    c.delackTimer?.disarm();
  }

  /** Arms the keep timer `ms` from now. */
  startKeep(c: TcpConnection, now: number, ms: number): void {
    (c.keepTimer ??= this.#tcp.ctx.timers.timer(() => this.#keepTimeout(c))).arm(now + ms);
  }

  /** Arms the keepalive idle timer when SO_KEEPALIVE asks for it, else stops it. */
  restartKeepalive(c: TcpConnection, now: number): void {
    if (c.keepAlive && c.state >= TCPS.ESTABLISHED && c.state <= TCPS.CLOSE_WAIT) {
      this.startKeep(c, now, this.#tcp.keepIdleMs(c));
    } else if (c.state !== TCPS.TIME_WAIT && c.state !== TCPS.FIN_WAIT_2) {
      c.keepTimer?.disarm();
    }
  }

  /** Enters TIME_WAIT for 2·MSL (RFC 9293 §3.10.7.4). */
  startTimeWait(c: TcpConnection, now: number): void {
    this.stopRetransmit(c);
    this.stopDelayedAck(c);
    this.startKeep(c, now, 2 * this.#tcp.mslMs());
  }

  /** Takes every timer of `c` out of the queue. */
  stopAll(c: TcpConnection): void {
    c.rexmtTimer?.disarm();
    c.keepTimer?.disarm();
    c.delackTimer?.disarm();
    c.lossTimer?.disarm();
    c.persisting = false;
  }

  #retransmitTimeout(c: TcpConnection): void {
    const tcp = this.#tcp, now = tcp.ctx.now(), st = tcp.ctx.stats.tcp;
    if (c.dead) return;
    if (c.persisting) {
      st.persisttimeo++;
      c.persisting = false;
      if (c.rexmtShift < TCP_MAXRXTSHIFT) c.rexmtShift++;
      else if (c.sndWnd === 0 && now - c.lastReceive >= tcp.keepIdleMs(c)) {
        // NetBSD's tcp_maxpersistidle: probed to the end of the backoff and silent for as long.
        st.persistdrops++;
        tcp.drop(c, "ETIMEDOUT");
        return;
      }
      if (c.sndWnd === 0 && c.flight > 0) {
        tcp.output.resend(c, c.sndUna, 1, false); // the last probe's byte again, not a new one
      } else {
        tcp.output.output(c, true);
      }
      st.sndprobe++;
      if (c.sndWnd === 0) {
        // A zero-window probe is paced by the persist timer, never the retransmission timer:
        // a peer answering each probe with a zero window is alive, and is not timed out.
        c.rexmtTimer?.disarm();
        c.lossTimer?.disarm();
      }
      this.startPersist(c, now);
      return;
    }
    st.rexmttimeo++;
    const limit = c.state < TCPS.ESTABLISHED ? TCP_SYN_RETRIES : TCP_MAXRXTSHIFT;
    if (++c.rexmtShift > limit) {
      st.timeoutdrop++;
      tcp.drop(c, c.softError ?? "ETIMEDOUT");
      return;
    }
    c.rtt.timedOut();
    if (c.state === TCPS.SYN_SENT || c.state === TCPS.SYN_RECEIVED) {
      tcp.output.sendSyn(c);
      return;
    }
    tcp.recovery.onRetransmitTimeout(c, now);
    if (c.loss === null) {
      // Nothing was ever recorded (a FIN alone, say): resend from snd_una.
      tcp.recovery.state(c);
    }
    tcp.output.output(c);
    if (c.flight > 0) this.startRetransmit(c, now);
  }

  #delayedAck(c: TcpConnection): void {
    if (c.dead) return;
    this.#tcp.ctx.stats.tcp.delack++;
    c.ackNow = true;
    this.#tcp.output.output(c);
  }

  #keepTimeout(c: TcpConnection): void {
    const tcp = this.#tcp, now = tcp.ctx.now(), st = tcp.ctx.stats.tcp;
    if (c.dead) return;
    switch (c.state) {
      case TCPS.TIME_WAIT:
        tcp.close(c);
        return;
      case TCPS.FIN_WAIT_2:
        // Closed by its owner and the peer never finished: give up (BSD's tcp_maxidle).
        tcp.close(c);
        return;
      case TCPS.SYN_SENT:
      case TCPS.SYN_RECEIVED:
        st.keeptimeo++;
        tcp.drop(c, c.softError ?? "ETIMEDOUT");
        return;
    }
    if (!c.keepAlive || c.state > TCPS.CLOSE_WAIT) return;
    st.keeptimeo++;
    const idle = now - c.lastReceive;
    const idleLimit = tcp.keepIdleMs(c);
    if (idle < idleLimit && c.keepProbes === 0) {
      this.startKeep(c, now, idleLimit - idle);
      return;
    }
    if (c.keepProbes >= tcp.keepCount(c)) {
      st.keepdrops++;
      tcp.drop(c, "ETIMEDOUT");
      return;
    }
    // RFC 9293 §3.8.4: a probe is an ACK one byte below snd_una, which the peer must answer.
    st.keepprobe++;
    c.keepProbes++;
    tcp.output.sendControl(c, TCP_FLAG.ACK, (c.sndUna - 1) >>> 0);
    this.startKeep(c, now, tcp.keepIntervalMs(c));
  }
}
