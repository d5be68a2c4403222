/**
 * The bounded capture every shmif bus keeps (NetBSD's bus file holds the
 * segment's recent traffic, so `shmif_dumpbus` works on any bus): each member
 * appends every frame it sends to `<bus>/capture` as one record (one
 * `write()` on an O_APPEND descriptor, so concurrent members' records never
 * interleave), and the file is kept as a two-generation ring. When a member
 * finds `capture` at or past half the limit it renames it to `capture.old`
 * (replacing the previous one) and starts a new `capture`; the others notice
 * the new file (by inode) and reopen. So the bus holds between half and all of
 * the limit of its latest traffic, plus what members append to the old file
 * before they notice (each looks at least every {@linkcode CHECK_BYTES}, or an
 * eighth of the limit if less, of its own records and every {@linkcode CHECK_MS}). `shmif_dumpbus` reads both
 * files and merges them by time.
 *
 * Costs on the stack thread: one `write()` per frame sent, and a `stat()` per
 * check.
 *
 * @example
 * ```ts ignore
 * const ring = CaptureRing.open("/tmp/bus1", 1 << 20);
 * ring.append(frame);
 * ring.close();
 * ```
 * @module
 */

import { ErrnoError } from "../../core/errno.ts";
import { CAPTURE_FILE, CAPTURE_RECORD_HEADER_LEN, encodeCaptureRecord } from "./shmif_capture.ts";

/** The older generation of the ring. */
export const CAPTURE_OLD_FILE = `${CAPTURE_FILE}.old`;
/** The ring's size when the `capture` option gives none: 1 MiB. */
export const DEFAULT_CAPTURE_BYTES = 1 << 20;
/** A member looks at the file after at most this many bytes of its own records... */
export const CHECK_BYTES = 64 * 1024;
/** ...and at most this often. */
export const CHECK_MS = 1000;

/** One member's writer into the bus's capture ring. */
export class CaptureRing {
  readonly #dir: string;
  readonly #limit: number;
  /** Bytes of own records between looks: CHECK_BYTES, or less for a small ring. */
  readonly #checkBytes: number;
  readonly #scratch = new Uint8Array(CAPTURE_RECORD_HEADER_LEN + 65536);
  #file: Deno.FsFile | null;
  #ino: number | null;
  #sinceCheck = 0;
  #lastCheck = performance.now();

  private constructor(dir: string, limit: number, file: Deno.FsFile) {
    this.#dir = dir;
    this.#limit = limit;
    this.#checkBytes = Math.max(1, Math.min(CHECK_BYTES, Math.floor(limit / 8)));
    this.#file = file;
    this.#ino = file.statSync().ino;
  }

  /** Opens (creating) `<dir>/capture` for a ring of `limit` bytes; EACCES/EIO as the file system says. */
  static open(dir: string, limit: number): CaptureRing {
    return new CaptureRing(dir, limit, openAppend(`${dir}/${CAPTURE_FILE}`));
  }

  /** Appends the record of one frame sent now. Never throws: a capture is not worth a lost frame. */
  append(frame: Uint8Array): void {
    const file = this.#file;
    if (!file || frame.length > this.#scratch.length - CAPTURE_RECORD_HEADER_LEN) return;
    const n = encodeCaptureRecord(
      this.#scratch,
      frame,
      performance.timeOrigin + performance.now(),
    );
    try {
      file.writeSync(this.#scratch.subarray(0, n));
    } catch {
      return;
    }
    this.#sinceCheck += n;
    if (this.#sinceCheck >= this.#checkBytes || performance.now() - this.#lastCheck >= CHECK_MS) {
      this.#check();
    }
  }

  /** Closes the member's descriptor; the files stay, so the bus can be dumped afterwards. */
  close(): void {
    const file = this.#file;
    this.#file = null;
    try {
      file?.close();
    } catch {
      // already closed
    }
  }

  /** Reopens when another member rotated; rotates when the file reached half the limit. */
  #check(): void {
    this.#sinceCheck = 0;
    this.#lastCheck = performance.now();
    const path = `${this.#dir}/${CAPTURE_FILE}`;
    try {
      const st = Deno.statSync(path);
      if (st.ino !== this.#ino) return this.#reopen(path);
      if (st.size < this.#limit / 2) return;
      Deno.renameSync(path, `${this.#dir}/${CAPTURE_OLD_FILE}`);
      this.#reopen(path);
    } catch {
      // The file went away (the bus was removed, or a rename raced ours): start a new one.
      this.#reopen(path);
    }
  }

  #reopen(path: string): void {
    this.close();
    try {
      this.#file = openAppend(path);
      this.#ino = this.#file.statSync().ino;
    } catch {
      this.#file = null; // the bus directory is gone: capture stops quietly
    }
  }
}

function openAppend(path: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { append: true, create: true, mode: 0o644 });
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) throw new ErrnoError("EACCES", path);
    throw new ErrnoError("EIO", `${path}: ${e instanceof Error ? e.message : e}`);
  }
}
