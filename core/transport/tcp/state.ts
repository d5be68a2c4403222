/**
 * TCP connection states, numbered as NetBSD's `tcp_fsm.h` (so `netstat`
 * and the pcb list speak the same numbers) and named as its `tcpstates[]`.
 *
 * @module
 */

/** The states of RFC 9293 §3.3.2, NetBSD's numbers. */
export const TCPS = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  ESTABLISHED: 4,
  CLOSE_WAIT: 5,
  FIN_WAIT_1: 6,
  CLOSING: 7,
  LAST_ACK: 8,
  FIN_WAIT_2: 9,
  TIME_WAIT: 10,
} as const;

/** A state number. */
export type TcpState = typeof TCPS[keyof typeof TCPS];

/** NetBSD's `tcpstates[]`: the names netstat prints. */
export const TCP_STATE_NAMES: readonly string[] = Object.freeze([
  "CLOSED",
  "LISTEN",
  "SYN_SENT",
  "SYN_RCVD",
  "ESTABLISHED",
  "CLOSE_WAIT",
  "FIN_WAIT_1",
  "CLOSING",
  "LAST_ACK",
  "FIN_WAIT_2",
  "TIME_WAIT",
]);

/** Whether a SYN has been received and acknowledged both ways (NetBSD's TCPS_HAVEESTABLISHED). */
export function haveEstablished(s: TcpState): boolean {
  return s >= TCPS.ESTABLISHED;
}

/** Whether the peer's FIN has been received (NetBSD's TCPS_HAVERCVDFIN). */
export function haveReceivedFin(s: TcpState): boolean {
  return s === TCPS.CLOSE_WAIT || s === TCPS.CLOSING || s === TCPS.LAST_ACK ||
    s === TCPS.TIME_WAIT;
}

/** Whether our FIN has been queued: no more data may be written. */
export function sentFin(s: TcpState): boolean {
  return s >= TCPS.FIN_WAIT_1 && s !== TCPS.CLOSE_WAIT;
}
