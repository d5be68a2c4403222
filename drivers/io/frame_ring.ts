/**
 * A single-producer single-consumer ring of fixed-size frame slots in a
 * `SharedArrayBuffer`: a reader Worker fills slots (its blocking `read()` writes
 * straight into the slot), the stack thread drains them in batches.
 *
 * Layout: a header of {@linkcode RING_HEADER_WORDS} int32 words, then one int32
 * length per slot, then the slots, each {@linkcode FrameRing.slotSize} bytes
 * (a multiple of 64, so slots start on cache lines). `head` counts frames
 * published, `tail` counts frames consumed; both wrap at 2^32 and the slot
 * count is a power of two, so `counter & (slots - 1)` stays right across the
 * wrap.
 *
 * Wake-ups (no Promise per frame): the consumer drains every frame published
 * when the drain starts, calls its callback with a view per frame, frees the
 * slots, then re-arms with ONE `Atomics.waitAsync` on `head`. The producer calls
 * `Atomics.notify` only when the consumer has said it is waiting, so a busy
 * ring costs no notify at all.
 *
 * A full ring applies backpressure: the producer stops reading that
 * descriptor ({@linkcode FrameRingWriter.waitForSpace} sleeps on `tail`; a
 * reader Worker serving several descriptors uses
 * {@linkcode FrameRingWriter.markFull} and is woken by the consumer's
 * `onSpace`), so frames queue in the kernel and the kernel drops them when its own queue fills (a TAP device
 * counts them as its TX drops; a Unix datagram sender gets EAGAIN). No frame that fits
 * is ever dropped here; {@linkcode FrameRing.stats} counts how often the ring
 * was full.
 *
 * @example A batch through the ring, producer and consumer on one thread
 * ```ts
 * import { FrameRing, FrameRingReader, FrameRingWriter } from "./frame_ring.ts";
 * const ring = FrameRing.create({ slots: 8, maxFrame: 1514 });
 * const w = new FrameRingWriter(ring);
 * for (let i = 0; i < 3; i++) {
 *   w.slot()!.fill(i, 0, 60);
 *   w.publish(60);
 * }
 * const reader = new FrameRingReader(ring, (f) => console.log(f.length, f[0]));
 * reader.drain(); // 60 0, 60 1, 60 2
 * reader.stop();
 * ```
 * @module
 */

/** Header words; indices into {@linkcode FrameRing.ctrl}. */
export const W = {
  /** Frames published (producer writes). */
  HEAD: 0,
  /** Frames consumed (consumer writes). */
  TAIL: 1,
  /** 1 while the consumer waits on HEAD: the producer must notify. Written by the consumer only. */
  CONSUMER_WAITING: 2,
  /** 1 while the producer waits on TAIL for space: the consumer must notify. Producer-written. */
  PRODUCER_WAITING: 3,
  /** Set by the owner: the producer must stop. */
  STOP: 4,
  /** Set by the producer when it has stopped for good (and will not touch its fd again). */
  STOPPED: 5,
  /** Times the producer found the ring full. */
  FULL: 6,
  /** The Linux errno that ended the producer, 0 if it stopped as asked. */
  ERRNO: 7,
  /** Frames dropped for being longer than a slot (known from a datagram read with MSG_TRUNC). */
  OVERSIZE: 8,
  /** A word the consumer waits on to yield one event-loop turn. */
  KICK: 9,
  /** Set by the producer once it runs. */
  READY: 10,
  /** Slot count, for a producer that gets only the buffer. */
  SLOTS: 11,
  /** Slot size in bytes. */
  SLOT_SIZE: 12,
  /** Frames published in total is HEAD; frames dropped by the producer for its own reasons. */
  DROPPED: 13,
} as const;

/** int32 words in the header (64 bytes). */
export const RING_HEADER_WORDS = 16;

/** How a ring is sized. */
export interface FrameRingSize {
  /** Slot count; rounded up to a power of two, at least 2. */
  slots: number;
  /** Largest frame a slot must hold, in bytes. */
  maxFrame: number;
}

/** Counters of one ring. */
export interface FrameRingStats {
  /** Frames published so far (mod 2^32). */
  published: number;
  /** Frames consumed so far (mod 2^32). */
  consumed: number;
  /** Times the producer found the ring full and waited. */
  full: number;
  /** Frames longer than a slot, dropped (a NIC drops what its buffer cannot hold). */
  oversize: number;
  /** Frames the producer dropped. */
  dropped: number;
}

function roundUpPow2(n: number): number {
  let p = 2;
  while (p < n) p *= 2;
  return p;
}

/** The shared memory of one ring and the views both sides use on it. */
export class FrameRing {
  /** The shared memory; send it to the producer Worker. */
  readonly buffer: SharedArrayBuffer;
  /** The header words (see {@linkcode W}). */
  readonly ctrl: Int32Array<SharedArrayBuffer>;
  /** Frame length per slot. */
  readonly lengths: Int32Array<SharedArrayBuffer>;
  /** Slot count, a power of two. */
  readonly slots: number;
  /** Bytes per slot. */
  readonly slotSize: number;
  /** One view per slot, made once: no allocation per frame. */
  readonly slotViews: readonly Uint8Array<SharedArrayBuffer>[];

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.ctrl = new Int32Array(buffer, 0, RING_HEADER_WORDS);
    this.slots = this.ctrl[W.SLOTS];
    this.slotSize = this.ctrl[W.SLOT_SIZE];
    this.lengths = new Int32Array(buffer, RING_HEADER_WORDS * 4, this.slots);
    const base = FrameRing.#dataOffset(this.slots);
    this.slotViews = Array.from(
      { length: this.slots },
      (_, i) => new Uint8Array(buffer, base + i * this.slotSize, this.slotSize),
    );
  }

  static #dataOffset(slots: number): number {
    return Math.ceil((RING_HEADER_WORDS + slots) * 4 / 64) * 64;
  }

  /** Allocates a ring. */
  static create(size: FrameRingSize): FrameRing {
    if (!(size.slots >= 1 && size.slots <= 65536)) throw new RangeError("ring: slots 1..65536");
    if (!(size.maxFrame >= 1 && size.maxFrame <= 262144)) {
      throw new RangeError("ring: maxFrame 1..262144");
    }
    const slots = roundUpPow2(size.slots);
    const slotSize = Math.ceil(size.maxFrame / 64) * 64;
    const buffer = new SharedArrayBuffer(FrameRing.#dataOffset(slots) + slots * slotSize);
    const ctrl = new Int32Array(buffer, 0, RING_HEADER_WORDS);
    ctrl[W.SLOTS] = slots;
    ctrl[W.SLOT_SIZE] = slotSize;
    return new FrameRing(buffer);
  }

  /** The same ring seen from another thread (the Worker gets only the buffer). */
  static attach(buffer: SharedArrayBuffer): FrameRing {
    return new FrameRing(buffer);
  }

  /** Frames published and not yet consumed. */
  get pending(): number {
    return (Atomics.load(this.ctrl, W.HEAD) - Atomics.load(this.ctrl, W.TAIL)) | 0;
  }

  /** The ring's counters. */
  stats(): FrameRingStats {
    const c = this.ctrl;
    return {
      published: Atomics.load(c, W.HEAD) >>> 0,
      consumed: Atomics.load(c, W.TAIL) >>> 0,
      full: Atomics.load(c, W.FULL) >>> 0,
      oversize: Atomics.load(c, W.OVERSIZE) >>> 0,
      dropped: Atomics.load(c, W.DROPPED) >>> 0,
    };
  }
}

/**
 * The producer side: take the next free slot, fill it, publish its length.
 * Used by the reader Worker, and by tests as a fake producer.
 */
export class FrameRingWriter {
  readonly #ring: FrameRing;
  readonly #mask: number;
  #head: number;

  /** @param ring the ring this writer fills; only one writer per ring. */
  constructor(ring: FrameRing) {
    this.#ring = ring;
    this.#mask = ring.slots - 1;
    this.#head = Atomics.load(ring.ctrl, W.HEAD);
  }

  /** The next free slot (the whole slot), or null when the ring is full. */
  slot(): Uint8Array<SharedArrayBuffer> | null {
    const ring = this.#ring;
    if (((this.#head - Atomics.load(ring.ctrl, W.TAIL)) | 0) >= ring.slots) return null;
    return ring.slotViews[this.#head & this.#mask];
  }

  /**
   * Publishes the slot last returned by {@linkcode slot} holding `length` bytes,
   * and wakes the consumer if it waits. A length above the slot size (a datagram
   * read with MSG_TRUNC reports its real length) is dropped and counted, not
   * delivered cut: the slot stays free. Returns whether the frame was published.
   */
  publish(length: number): boolean {
    const ring = this.#ring;
    const c = ring.ctrl;
    if (length > ring.slotSize) {
      Atomics.add(c, W.OVERSIZE, 1);
      return false;
    }
    ring.lengths[this.#head & this.#mask] = length;
    this.#head = (this.#head + 1) | 0;
    Atomics.store(c, W.HEAD, this.#head);
    // Dekker pairing with the consumer: it sets CONSUMER_WAITING, then compares HEAD. Only the
    // consumer clears the flag: a producer clearing it could erase a newer wait's flag, and the
    // consumer would sleep forever on a ring that fills up.
    if (Atomics.load(c, W.CONSUMER_WAITING) !== 0) Atomics.notify(c, W.HEAD);
    return true;
  }

  /**
   * Sleeps (blocking: Worker only) until a slot is free, the ring is told to
   * stop, or `timeoutMs` passes. Returns whether a slot is free. Counts the
   * full ring once per call.
   */
  waitForSpace(timeoutMs: number): boolean {
    const c = this.#ring.ctrl;
    Atomics.add(c, W.FULL, 1);
    const deadline = performance.now() + timeoutMs;
    // Announce first, then compare TAIL (in Atomics.wait): a consumer that frees a slot after
    // the comparison sees the flag and notifies. Only this side clears the flag.
    Atomics.store(c, W.PRODUCER_WAITING, 1);
    try {
      while (Atomics.load(c, W.STOP) === 0) {
        const tail = Atomics.load(c, W.TAIL);
        if (((this.#head - tail) | 0) < this.#ring.slots) return true;
        const left = deadline - performance.now();
        if (left <= 0) return false;
        Atomics.wait(c, W.TAIL, tail, left);
      }
      return false;
    } finally {
      Atomics.store(c, W.PRODUCER_WAITING, 0);
    }
  }

  /**
   * Marks the ring full without sleeping (a producer that serves other
   * descriptors meanwhile): counts it, asks the consumer to signal freed space
   * (PRODUCER_WAITING), then looks again. Returns true when the ring is still
   * full; then call {@linkcode spaceAgain} after each wake-up.
   */
  markFull(): boolean {
    const c = this.#ring.ctrl;
    Atomics.add(c, W.FULL, 1);
    // Announce, then compare TAIL: a consumer freeing a slot after the comparison sees the flag.
    Atomics.store(c, W.PRODUCER_WAITING, 1);
    if (this.slot() === null) return true;
    Atomics.store(c, W.PRODUCER_WAITING, 0);
    return false;
  }

  /** After {@linkcode markFull}: whether a slot is free now (and the request to signal is withdrawn). */
  spaceAgain(): boolean {
    if (this.slot() === null) return false;
    Atomics.store(this.#ring.ctrl, W.PRODUCER_WAITING, 0);
    return true;
  }

  /** Counts a frame the producer dropped for its own reasons. */
  countDrop(): void {
    Atomics.add(this.#ring.ctrl, W.DROPPED, 1);
  }
}

/** Called once per frame; the view is valid only during the call. */
export type FrameCallback = (frame: Uint8Array<SharedArrayBuffer>) => void;

/** Options of a {@linkcode FrameRingReader}. */
export interface FrameRingReaderOptions {
  /** Called when the producer stops by itself (a read error); its Linux errno, 0 for EOF. */
  onProducerExit?: (linuxErrno: number) => void;
  /**
   * Frames one event-loop turn may deliver before the reader yields to other
   * work (timers, the control socket); default four times the slot count.
   */
  turnBudget?: number;
  /** Runs each batch's deliveries (the stack's `batch`: one turn for the whole batch). */
  wrap?: (deliver: () => void) => void;
  /** Called once per batch with the number of frames it delivered (for tests and tracing). */
  onBatch?: (frames: number) => void;
  /** Told when a frame callback throws (the frame is lost, reception goes on); default console.error. */
  onError?: (error: unknown) => void;
  /**
   * Called after a batch freed slots while the producer waited for space
   * ({@linkcode FrameRingWriter.markFull}): wakes a producer sleeping in
   * `poll()`, which an `Atomics.notify` cannot reach.
   */
  onSpace?: () => void;
}

/**
 * The consumer side, on the stack thread: drains all published frames in one
 * batch, then waits with one `Atomics.waitAsync`. {@linkcode start} arms it;
 * {@linkcode stop} disarms it (a pending wait is then ignored; it does not keep
 * Deno's event loop alive).
 */
export class FrameRingReader {
  readonly #ring: FrameRing;
  readonly #onFrame: FrameCallback;
  readonly #opts: FrameRingReaderOptions;
  readonly #mask: number;
  readonly #budget: number;
  #tail: number;
  #running = false;
  #exited = false;
  /** Bumped by start/stop, so a wait armed before a stop never resumes a later start. */
  #generation = 0;

  /**
   * @param ring the ring to drain; only one reader per ring
   * @param onFrame called per frame with a view valid only during the call
   */
  constructor(ring: FrameRing, onFrame: FrameCallback, opts: FrameRingReaderOptions = {}) {
    this.#ring = ring;
    this.#onFrame = onFrame;
    this.#opts = opts;
    this.#mask = ring.slots - 1;
    this.#budget = opts.turnBudget ?? ring.slots * 4;
    this.#tail = Atomics.load(ring.ctrl, W.TAIL);
  }

  /** Starts delivering frames: drains what is there, then waits for more. */
  start(): void {
    if (this.#running || this.#exited) return;
    this.#running = true;
    this.#turn(++this.#generation);
  }

  /** Stops delivering; frames left in the ring stay there. */
  stop(): void {
    this.#running = false;
    this.#generation++;
    Atomics.store(this.#ring.ctrl, W.CONSUMER_WAITING, 0);
    // Settle a pending wait now (it resumes nothing: the generation moved on) rather than leave it.
    Atomics.notify(this.#ring.ctrl, W.HEAD);
  }

  /**
   * Delivers every frame published when the call starts, frees their slots,
   * and returns how many it delivered. Frames published meanwhile wait for the
   * next batch, so one batch is at most one ring's worth.
   */
  drain(): number {
    const ring = this.#ring;
    const c = ring.ctrl;
    const head = Atomics.load(c, W.HEAD);
    let tail = this.#tail;
    const n = (head - tail) | 0;
    if (n === 0) return 0;
    try {
      const deliver = () => {
        while (tail !== head) {
          const i = tail & this.#mask;
          tail = (tail + 1) | 0; // first, so a throwing callback still frees its slot
          this.#onFrame(ring.slotViews[i].subarray(0, ring.lengths[i]));
        }
      };
      const wrap = this.#opts.wrap;
      if (wrap) wrap(deliver);
      else deliver();
    } finally {
      // Free the slots even when a callback throws, so the producer never deadlocks.
      this.#tail = tail;
      Atomics.store(c, W.TAIL, tail);
      if (Atomics.load(c, W.PRODUCER_WAITING) !== 0) {
        Atomics.notify(c, W.TAIL);
        this.#opts.onSpace?.();
      }
    }
    this.#opts.onBatch?.(n);
    return n;
  }

  /** One event-loop turn: drain up to the budget, then wait or yield. */
  #turn(generation: number): void {
    if (generation !== this.#generation || !this.#running) return;
    const c = this.#ring.ctrl;
    let delivered = 0;
    for (;;) {
      delivered += this.#drainLogged();
      if (!this.#running) return;
      if (this.#checkProducerExit()) return;
      if (delivered >= this.#budget) return this.#yieldTurn(generation);
      // Dekker pairing with the producer: announce, then compare HEAD in waitAsync.
      Atomics.store(c, W.CONSUMER_WAITING, 1);
      const r = Atomics.waitAsync(c, W.HEAD, this.#tail);
      if (r.async) {
        r.value.then(() => this.#wake(generation));
        return;
      }
      Atomics.store(c, W.CONSUMER_WAITING, 0); // HEAD moved meanwhile: drain again now
    }
  }

  /** A wait on HEAD ended: stop asking the producer for notifies, then take a turn. */
  #wake(generation: number): void {
    if (generation === this.#generation) Atomics.store(this.#ring.ctrl, W.CONSUMER_WAITING, 0);
    this.#turn(generation);
  }

  /** Drains, reporting a throwing callback; returns the frames consumed either way. */
  #drainLogged(): number {
    const before = this.#tail;
    try {
      this.drain();
    } catch (e) {
      // A throwing callback must not end reception; the frame is lost, the ring goes on.
      (this.#opts.onError ?? ((err) => console.error("frame ring: callback threw:", err)))(e);
    }
    return (this.#tail - before) | 0;
  }

  /**
   * Gives timers and I/O one turn: a wait on KICK notified at once resolves as
   * a macrotask (~3 µs here; `setTimeout(0)` is clamped to milliseconds once nested).
   */
  #yieldTurn(generation: number): void {
    const c = this.#ring.ctrl;
    const r = Atomics.waitAsync(c, W.KICK, 0);
    if (r.async) {
      r.value.then(() => this.#turn(generation));
      Atomics.notify(c, W.KICK);
    } else {
      queueMicrotask(() => this.#turn(generation));
    }
  }

  #checkProducerExit(): boolean {
    const c = this.#ring.ctrl;
    if (this.#exited || Atomics.load(c, W.STOPPED) === 0) return false;
    if (Atomics.load(c, W.STOP) !== 0) return false; // asked to stop: not news
    // Deliver what the producer published before it ended, then report once.
    this.#drainLogged();
    this.#exited = true;
    this.#running = false;
    this.#opts.onProducerExit?.(Atomics.load(c, W.ERRNO));
    return true;
  }
}
