/**
 * The sender's byte queue: what the application wrote and the peer has not
 * acknowledged, from `snd_una` on, in one ring buffer. Bytes are copied in
 * once (at `write`) and copied out into each segment sent or resent; an
 * acknowledgement only moves the head.
 *
 * The ring starts small and doubles as data arrives, up to `limit` (the
 * socket's send buffer, which auto-tuning may raise), so an idle connection
 * holds no more than a few kilobytes.
 *
 * @module
 */

const INITIAL_BYTES = 4096;

/** An unacknowledged-plus-unsent byte queue for one connection. */
export class SendBuffer {
  /** Most bytes held (SO_SNDBUF). */
  limit: number;
  #buf: Uint8Array;
  #head = 0;
  #length = 0;

  /** @param limit the send buffer size in bytes */
  constructor(limit: number) {
    this.limit = limit;
    this.#buf = new Uint8Array(0);
  }

  /** Bytes held (sent and unacknowledged, plus unsent). */
  get length(): number {
    return this.#length;
  }

  /** Room left before `limit`. */
  get space(): number {
    return Math.max(0, this.limit - this.#length);
  }

  /** Bytes of memory the ring holds now. */
  get capacity(): number {
    return this.#buf.length;
  }

  /** Copies up to `space` bytes of `data[from, from+len)` in; returns how many were taken. */
  append(data: Uint8Array, from = 0, len = data.length - from): number {
    const n = Math.min(len, this.space);
    if (n <= 0) return 0;
    this.#reserve(this.#length + n);
    const buf = this.#buf, cap = buf.length;
    const tail = (this.#head + this.#length) % cap;
    const first = Math.min(n, cap - tail);
    buf.set(data.subarray(from, from + first), tail);
    if (first < n) buf.set(data.subarray(from + first, from + n), 0);
    this.#length += n;
    return n;
  }

  /** Drops `n` acknowledged bytes from the front. */
  consume(n: number): void {
    if (n <= 0) return;
    if (n > this.#length) n = this.#length;
    this.#length -= n;
    this.#head = this.#length === 0 ? 0 : (this.#head + n) % this.#buf.length;
  }

  /** Copies `len` bytes starting `offset` bytes after the front into `dst` at `at`. */
  copyOut(offset: number, dst: Uint8Array, at: number, len: number): void {
    const buf = this.#buf, cap = buf.length;
    let from = (this.#head + offset) % cap;
    while (len > 0) {
      const run = Math.min(len, cap - from);
      if (run < 64) {
        for (let i = 0; i < run; i++) dst[at + i] = buf[from + i];
      } else {
        dst.set(buf.subarray(from, from + run), at);
      }
      at += run;
      len -= run;
      from = 0;
    }
  }

  /** Frees the ring when nothing is held (an idle connection keeps no buffer). */
  shrinkIfEmpty(): void {
    if (this.#length === 0 && this.#buf.length > INITIAL_BYTES) {
      this.#buf = new Uint8Array(0);
      this.#head = 0;
    }
  }

  #reserve(need: number): void {
    const old = this.#buf;
    if (need <= old.length) return;
    let cap = Math.max(INITIAL_BYTES, old.length);
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    if (this.#length > 0) {
      const first = Math.min(this.#length, old.length - this.#head);
      next.set(old.subarray(this.#head, this.#head + first), 0);
      if (first < this.#length) next.set(old.subarray(0, this.#length - first), first);
    }
    this.#buf = next;
    this.#head = 0;
  }
}
