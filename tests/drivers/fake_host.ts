/**
 * A minimal DriverHost for driver tests: it records the interfaces a driver
 * attaches, copies every frame they receive, and lets a test answer frames
 * from inside the receive call (as the stack does).
 * @module
 */

import type {
  AttachedInterface,
  DriverHost,
  InterfaceSpec,
  ReaderPoolRef,
} from "../../core/link/driver.ts";

/** One attached interface as the fake host sees it. */
export class FakeIface implements AttachedInterface {
  readonly name: string;
  readonly index: number;
  readonly spec: InterfaceSpec;
  /** Copies of every frame received. */
  readonly frames: Uint8Array[] = [];
  linkActive: boolean | undefined;
  /** Called with the frame (a view valid only during the call) after it is recorded. */
  onFrame?: (frame: Uint8Array, iface: FakeIface) => void;

  constructor(name: string, index: number, spec: InterfaceSpec) {
    this.name = name;
    this.index = index;
    this.spec = spec;
  }

  /** Records a copy, then calls `onFrame`. */
  receive(frame: Uint8Array): void {
    this.frames.push(frame.slice());
    this.onFrame?.(frame, this);
  }

  /** Batches handed over (the driver runs each through here). */
  batches = 0;

  batch(fn: () => void): void {
    this.batches++;
    fn();
  }

  /** Records carrier. */
  setLinkActive(active: boolean): void {
    this.linkActive = active;
  }
}

/** A DriverHost that names interfaces `<prefix><n>`. */
export class FakeHost implements DriverHost {
  readonly ifaces: FakeIface[] = [];
  readonly logs: string[] = [];
  /** The reader threads handed to drivers, when a test gives some. */
  readonly readerPool?: ReaderPoolRef;
  readonly #prefix: string;

  constructor(prefix: string, readerPool?: ReaderPoolRef) {
    this.#prefix = prefix;
    this.readerPool = readerPool;
  }

  /** Registers an interface. */
  attachInterface(spec: InterfaceSpec): FakeIface {
    const iface = new FakeIface(
      `${this.#prefix}${this.ifaces.length}`,
      this.ifaces.length + 1,
      spec,
    );
    this.ifaces.push(iface);
    return iface;
  }

  /** Records a log line. */
  log(message: string): void {
    this.logs.push(message);
  }

  /** Detaches every interface (as `ifconfig destroy` does); safe to call twice. */
  detachAll(): void {
    for (const i of this.ifaces.splice(0)) i.spec.detach?.();
  }
}

/** Waits until `cond()` holds, checking every 10 ms; throws after `timeoutMs`. */
export async function waitUntil(
  what: string,
  cond: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
