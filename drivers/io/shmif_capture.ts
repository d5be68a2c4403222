/**
 * The shmif bus capture file, `<bus>/capture`: every member started with the
 * `capture` option appends each frame it sends as one record, written with a
 * single `write()` on an O_APPEND descriptor so records of concurrent members
 * never interleave. Since every frame on the segment is sent by some member,
 * the file holds the whole segment's traffic when all members capture.
 *
 * A record is a 12-byte header of three little-endian u32 — seconds,
 * microseconds (wall clock), frame length — then the frame.
 *
 * @example Encode one record and read it back
 * ```ts
 * import { encodeCaptureRecord, readCaptureRecords } from "./shmif_capture.ts";
 * const frame = new Uint8Array(60);
 * const rec = new Uint8Array(12 + 60);
 * encodeCaptureRecord(rec, frame, 1_700_000_000_123.456);
 * const [r] = readCaptureRecords(rec).records;
 * console.log(r.sec, r.usec, r.frame.length); // 1700000000 123456 60
 * ```
 * @module
 */

/** The capture file's name inside the bus directory. */
export const CAPTURE_FILE = "capture";
/** Bytes before each frame. */
export const CAPTURE_RECORD_HEADER_LEN = 12;

/** One record of a capture file. */
export interface CaptureRecord {
  /** Wall-clock seconds. */
  sec: number;
  /** Microseconds within the second. */
  usec: number;
  /** The frame (a view on the file's bytes). */
  frame: Uint8Array;
}

/**
 * Writes the record for `frame` sent at `timeMs` (ms since the epoch, fractional)
 * into `out`; returns the record's length.
 */
export function encodeCaptureRecord(out: Uint8Array, frame: Uint8Array, timeMs: number): number {
  const sec = Math.floor(timeMs / 1000);
  const usec = Math.min(999_999, Math.floor((timeMs - sec * 1000) * 1000));
  const dv = new DataView(out.buffer, out.byteOffset, CAPTURE_RECORD_HEADER_LEN);
  dv.setUint32(0, sec, true);
  dv.setUint32(4, usec, true);
  dv.setUint32(8, frame.length, true);
  out.set(frame, CAPTURE_RECORD_HEADER_LEN);
  return CAPTURE_RECORD_HEADER_LEN + frame.length;
}

/** The records of a capture file; `trailing` counts bytes of a cut-off last record. */
export function readCaptureRecords(
  bytes: Uint8Array,
): { records: CaptureRecord[]; trailing: number } {
  const records: CaptureRecord[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + CAPTURE_RECORD_HEADER_LEN <= bytes.length) {
    const len = dv.getUint32(at + 8, true);
    const start = at + CAPTURE_RECORD_HEADER_LEN;
    if (start + len > bytes.length) break;
    records.push({
      sec: dv.getUint32(at, true),
      usec: dv.getUint32(at + 4, true),
      frame: bytes.subarray(start, start + len),
    });
    at = start + len;
  }
  return { records, trailing: bytes.length - at };
}
