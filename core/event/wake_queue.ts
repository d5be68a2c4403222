/**
 * Wake-ups deferred until the stack has finished with a packet.
 *
 * While a frame is processed, layers share mutable views of it; a socket
 * callback that ran in the middle (and sent, or closed a socket) could corrupt
 * the packet being processed. So input only copies data into the socket and
 * marks it here; the stack flushes the queue once the outermost call into it
 * (a received frame, a poll, an API send) is done. Each socket is woken at
 * most once per flush however many datagrams it got, and marking allocates
 * nothing.
 *
 * @example
 * ```ts
 * import { type Wakeable, WakeQueue } from "./wake_queue.ts";
 * const q = new WakeQueue();
 * const sock: Wakeable = { wakePending: false, wake: () => console.log("readable") };
 * q.mark(sock);
 * q.mark(sock);   // already pending: one wake-up
 * q.flush();      // readable
 * ```
 * @module
 */

/** Something woken after input: a socket, a raw socket, a test probe. */
export interface Wakeable {
  /** Set while queued; owned by the queue. */
  wakePending: boolean;
  /** Runs once the stack is between packets; may call back into the stack. */
  wake(): void;
}

/** The deferred wake-ups of one stack. */
export class WakeQueue {
  #queue: (Wakeable | null)[] = [];
  #length = 0;
  #flushing = false;

  /** Queues `w` unless it is already queued. */
  mark(w: Wakeable): void {
    if (w.wakePending) return;
    w.wakePending = true;
    this.#queue[this.#length++] = w;
  }

  /** Whether anything waits. */
  get pending(): boolean {
    return this.#length > 0;
  }

  /**
   * Wakes everything queued, including what those wake-ups queue in turn. A
   * flush started from inside a wake-up returns at once: the outer one goes on.
   * Returns how many were woken.
   */
  flush(): number {
    if (this.#flushing) return 0;
    this.#flushing = true;
    let i = 0;
    try {
      while (i < this.#length) {
        const w = this.#queue[i]!;
        this.#queue[i++] = null;
        w.wakePending = false;
        w.wake();
      }
    } finally {
      // A wake-up that threw leaves the rest queued for the next flush.
      const rest = this.#length - i;
      this.#queue.copyWithin(0, i, this.#length);
      this.#queue.fill(null, rest, this.#length);
      this.#length = rest;
      this.#flushing = false;
    }
    return i;
  }
}
