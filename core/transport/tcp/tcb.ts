/**
 * The TCP control block: everything one connection (or listener) knows,
 * as plain fields the input, output and timer modules read and write
 * (NetBSD's `struct tcpcb` with the parts of `struct socket` TCP needs).
 *
 * Sequence numbers are uint32 numbers compared with `seq.ts`. Byte queues
 * are allocated once a connection carries data ({@linkcode SendBuffer},
 * {@linkcode Reassembly}), and given back when it idles.
 *
 * @module
 */

import type { Errno } from "../../errno.ts";
import type { Wakeable } from "../../event/wake_queue.ts";
import { Endpoint, type IpFamily } from "../../net/inet_addr.ts";
import { RouteOut } from "../../net/route_out.ts";
import type { TimerHandle } from "../../time/timers.ts";
import type { CongestionControl } from "./congestion/congestion.ts";
import { Reassembly } from "./reassembly.ts";
import type { LossState } from "./recovery.ts";
import { RttEstimator } from "./rtt.ts";
import { SendBuffer } from "./send_buffer.ts";
import { TCP_STATE_NAMES, TCPS, type TcpState } from "./state.ts";

/** Event bits a connection reports to its owner after a turn. */
export const TCP_EVENT = {
  /** The handshake completed (connect succeeded). */
  CONNECTED: 1,
  /** Bytes can be read. */
  READABLE: 2,
  /** Room in the send buffer. */
  WRITABLE: 4,
  /** A connection waits in the accept queue. */
  ACCEPTABLE: 8,
  /** The peer closed its side: after the bytes held, `read` reports the end. */
  EOF: 16,
  /** An error is pending (`error`). */
  ERROR: 32,
  /** The connection is gone (closed, reset, timed out). */
  CLOSED: 64,
} as const;

/** What keeps the sender from sending more right now (for netstat's verbose form). */
export type SendLimit = "none" | "app" | "rwnd" | "cwnd" | "zerownd" | "neighbour";

let nextId = 1;

/** One TCP endpoint: a listener, or a connection in any state. */
export class TcpConnection implements Wakeable {
  /** A number telling control blocks apart while they live (netstat -A), increasing with age. */
  readonly id: number = nextId++;
  state: TcpState = TCPS.CLOSED;
  readonly family: IpFamily;
  /** Allowed to bind ports below 1024. */
  readonly privileged: boolean;
  readonly local: Endpoint = new Endpoint();
  readonly remote: Endpoint = new Endpoint();
  /** The route to the peer, cached until the route generation moves. */
  readonly route: RouteOut = new RouteOut();
  /** In the table (bound to a port). */
  bound = false;
  /** Closed by its owner: gone once the protocol is done with it. */
  userClosed = false;
  /** Detached from the stack (freed). */
  dead = false;

  // --- Send sequence space (RFC 9293 §3.3.1)
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  /** Highest sequence number sent (NetBSD's snd_max): snd_nxt moves back on retransmission. */
  sndMax = 0;
  /** The peer's window, in bytes (scaled). */
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** Largest window the peer ever offered (SWS avoidance). */
  maxSndWnd = 0;
  /** The send MSS: payload bytes per segment, options excluded (MSS less the timestamp option). */
  maxSeg = 536;
  /** The peer's MSS option (or the default when it sent none). */
  peerMss = 536;
  /** Our shift for the windows we receive (what we asked the peer to scale by). */
  sndScale = 0;
  /** Our shift for the windows we advertise. */
  rcvScale = 0;

  // --- Receive sequence space
  irs = 0;
  rcvNxt = 0;
  /** Right edge of the last window advertised (never moved left). */
  rcvAdv = 0;
  /** The peer's FIN has arrived (maybe beyond a hole) at `rcvFinSeq`. */
  rcvFinPending = false;
  rcvFinSeq = 0;
  /** The peer's FIN has been taken in order: after the bytes held, the stream ends. */
  rcvFinDone = false;
  /** A duplicate range to report as the first SACK block of the next ACK (D-SACK, RFC 2883). */
  dsackPending = false;
  dsackStart = 0;
  dsackEnd = 0;
  /** The `ack` of the last segment sent (timestamps: ts_recent update rule). */
  lastAckSent = 0;

  // --- Options agreed in the handshake
  sackOk = false;
  tsOk = false;
  wsOk = false;
  /** The peer's last timestamp to echo, and when it was taken (ms). */
  tsRecent = 0;
  tsRecentAge = 0;
  /** Added to our clock in the timestamps we send (RFC 7323 §5.4: per connection). */
  tsOffset = 0;

  // --- Flags
  /** Send an ACK at the next output (no delay). */
  ackNow = false;
  /** Waiting for output at the end of the stack's turn (input's answer, once per batch). */
  outputPending = false;
  /** Segments received since the last ACK sent (ACK every second full segment). */
  unackedSegments = 0;
  /** The application asked for a FIN (shutdown or close). */
  finQueued = false;
  /** Our FIN has been sent (its sequence number is sndMax - 1 once sent). */
  finSent = false;
  /** TCP_NODELAY. */
  noDelay = false;
  /** SO_KEEPALIVE. */
  keepAlive = false;
  /** SO_LINGER in seconds, -1 when off. */
  linger = -1;
  /** SO_REUSEADDR. */
  reuseAddr = false;
  /** IPV6_V6ONLY (IPv6 sockets). */
  v6only = true;
  /** Sending a zero-window probe (persist state). */
  persisting = false;
  /** Consecutive retransmission timeouts without progress. */
  rexmtShift = 0;
  /** Consecutive keepalive probes unanswered. */
  keepProbes = 0;
  /** When anything last arrived (keepalive idle time). */
  lastReceive = 0;
  /** When data was last sent (idle restart of the congestion window). */
  lastSend = 0;

  // --- Loss recovery
  dupAcks = 0;
  /** In fast recovery (SACK, RACK or three duplicate ACKs), PRR pacing what is sent. */
  inRecovery = false;
  /** Repairing after a retransmission timeout (until the ACK reaches `recover`). */
  rtoRecovery = false;
  /** The scoreboard and RACK-TLP state; made when the connection first sends data. */
  loss: LossState | null = null;
  /** RACK's reorder timer or TLP's probe timer. */
  lossTimer: TimerHandle | null = null;
  lossTimerIsProbe = false;
  /** Recoveries undone because D-SACKs showed them spurious. */
  undos = 0;
  /** snd_max when recovery began (RFC 6582 "recover"). */
  recover = 0;

  // --- Per-socket settings
  /** SO_SNDBUF, SO_RCVBUF. */
  sndBufSize: number;
  rcvBufSize: number;
  /** Set by SO_SNDBUF/SO_RCVBUF: auto-tuning leaves them alone. */
  sndBufFixed = false;
  rcvBufFixed = false;
  /** TCP_KEEPIDLE, TCP_KEEPINTVL (ms), TCP_KEEPCNT; 0 = the sysctl's. */
  keepIdleMs = 0;
  keepIntvlMs = 0;
  keepCnt = 0;
  /** TCP_MAXSEG set by the user (0 = none). */
  userMss = 0;
  /** Auto-tuning of the receive buffer: bytes taken by the reader in the current RTT window. */
  rcvAutoBytes = 0;
  rcvAutoStart = 0;

  // --- Machinery
  readonly send: SendBuffer;
  /** The receive buffer; made once the handshake fixes the initial sequence number. */
  recv: Reassembly | null = null;
  readonly rtt: RttEstimator;
  cc: CongestionControl | null = null;
  /** TCP_CONGESTION: the algorithm chosen for this socket (null: the sysctl's). */
  ccName: string | null = null;
  /** Retransmission or persist timer; keepalive/connect/2MSL timer; delayed-ACK timer. */
  rexmtTimer: TimerHandle | null = null;
  keepTimer: TimerHandle | null = null;
  delackTimer: TimerHandle | null = null;
  /** Retransmitted segments (for netstat's verbose form). */
  retransmits = 0;
  /** What limited the sender at its last output. */
  limit: SendLimit = "none";

  // --- Socket side
  /** The listener this connection came from, until accepted. */
  listener: TcpConnection | null = null;
  /** Listener: connections established and waiting for accept. */
  acceptQueue: TcpConnection[] | null = null;
  /** Listener: connections half-open (SYN_RECEIVED) counted against the backlog. */
  embryonic = 0;
  backlog = 0;
  /** Listener: SYNs dropped because the queue was full. */
  listenOverflows = 0;
  /** The error the owner sees at its next call (SO_ERROR). */
  error: Errno | null = null;
  /** A soft error kept until the connection dies of it (ETIMEDOUT turned into this one). */
  softError: Errno | null = null;
  /** Events accumulated for the owner. */
  events = 0;
  wakePending = false;
  onEvent: ((events: number) => void) | null = null;

  constructor(
    family: IpFamily,
    privileged: boolean,
    sndBuf: number,
    rcvBuf: number,
    rttMinMs: number,
  ) {
    this.family = family;
    this.privileged = privileged;
    this.sndBufSize = sndBuf;
    this.rcvBufSize = rcvBuf;
    this.send = new SendBuffer(sndBuf);
    this.rtt = new RttEstimator({ minRtoMs: rttMinMs });
  }

  /** The state's NetBSD name. */
  get stateName(): string {
    return TCP_STATE_NAMES[this.state];
  }

  /** Bytes sent and not yet acknowledged (the FIN counted as one). */
  get flight(): number {
    return (this.sndMax - this.sndUna) >>> 0;
  }

  /** Bytes the reader can take now. */
  get readable(): number {
    return this.recv === null ? 0 : this.recv.readable;
  }

  /** Makes the receive buffer for a connection whose peer starts at `irs`. */
  openReceiveBuffer(): void {
    this.recv = new Reassembly({
      capacity: this.rcvBufSize,
      initialSeq: this.rcvNxt,
      // Holes in a 4 MiB window at 1 % loss run into the tens; runs are 20 bytes each.
      maxRanges: 256,
    });
  }

  /** Queues events for the owner; delivered after the turn. */
  post(bits: number, wakes: { mark(w: Wakeable): void }): void {
    this.events |= bits;
    if (this.onEvent !== null) wakes.mark(this);
  }

  /** Delivers the accumulated events (WakeQueue). */
  wake(): void {
    const bits = this.events;
    this.events = 0;
    const fn = this.onEvent;
    if (bits !== 0 && fn !== null) fn(bits);
  }
}
