/**
 * TCP sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4, serial-number
 * arithmetic of RFC 1982). Sequence numbers are plain numbers kept as uint32
 * (0 ... 0xffffffff); every function takes and returns them in that form and
 * allocates nothing.
 *
 * Comparisons look at the signed 32-bit distance, as BSD's SEQ_LT does: `a` is
 * before `b` when `b` lies less than 2^31 ahead of it. Two numbers exactly 2^31
 * apart are incomparable in RFC 1982; here each is then "before" the other,
 * the same answer BSD gives, and callers never let a window reach 2^31.
 */

/** The number of distinct sequence numbers, 2^32. */
export const SEQ_SPACE = 0x1_0000_0000;

/** `a + n` modulo 2^32, as uint32 (`n` may be negative). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance from `b` to `a` (`a - b`) in [-2^31, 2^31). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `a` is before `b` in sequence space. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** `a` is before or equal to `b` in sequence space. */
export function seqLeq(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** `a` is after `b` in sequence space. */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** `a` is after or equal to `b` in sequence space. */
export function seqGeq(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) >= 0 ? a : b;
}

/** The earlier of two sequence numbers. */
export function seqMin(a: number, b: number): number {
  return ((a - b) | 0) <= 0 ? a : b;
}

/**
 * `start <= seq < start + len` in sequence space: `seq` falls inside the
 * `len` numbers that begin at `start`. Always false when `len` is 0. `len`
 * is at most 2^32 - 1 (a TCP window is far smaller).
 */
export function inWindow(seq: number, start: number, len: number): boolean {
  return ((seq - start) >>> 0) < len;
}

/**
 * RFC 9293 §3.10.7.4 acceptability test for an arriving segment with
 * sequence number `seq` occupying `segLen` numbers (data plus SYN and FIN),
 * against the receive window `rcvNxt`, `rcvWnd`. The table's four cases:
 *
 * | segLen | rcvWnd | acceptable when                                          |
 * | ------ | ------ | -------------------------------------------------------- |
 * | 0      | 0      | seq = rcvNxt                                             |
 * | 0      | > 0    | rcvNxt <= seq < rcvNxt + rcvWnd                          |
 * | > 0    | 0      | never                                                    |
 * | > 0    | > 0    | the first or the last number (seq + segLen - 1) in window |
 */
export function segmentAcceptable(
  seq: number,
  segLen: number,
  rcvNxt: number,
  rcvWnd: number,
): boolean {
  if (segLen === 0) {
    return rcvWnd === 0 ? seq === rcvNxt : inWindow(seq, rcvNxt, rcvWnd);
  }
  if (rcvWnd === 0) return false;
  return inWindow(seq, rcvNxt, rcvWnd) || inWindow((seq + segLen - 1) >>> 0, rcvNxt, rcvWnd);
}
