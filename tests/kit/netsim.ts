/**
 * An in-process network for virtual-time tests: stacks joined by Ethernet
 * segments that queue frames (delivery happens on `run`, never inside a
 * transmit), so a whole exchange plays out deterministically in microseconds.
 * @module
 */

import { Stack } from "../../core/stack.ts";
import { IFF } from "../../core/link/if_flags.ts";
import type { AttachedInterface } from "../../core/link/driver.ts";
import { PacketPool } from "../../core/buf/packet_pool.ts";

PacketPool.checkedByDefault = true; // stacks here catch double frees and uses after free

/** One Ethernet segment: every frame sent by a member reaches every other member. */
export class Segment {
  readonly members: { stack: Stack; port: AttachedInterface }[] = [];
  readonly queue: { from: AttachedInterface; frame: Uint8Array }[] = [];
  /** Every frame put on the wire, for inspection. */
  readonly log: Uint8Array[] = [];
  /** Drop frames for which this returns true (fault injection in tests). */
  drop: (frame: Uint8Array) => boolean = () => false;
}

/** A small virtual internet. */
export class Net {
  now = 0;
  readonly stacks: Stack[] = [];
  readonly segments: Segment[] = [];

  /** A new stack on this net's virtual clock; `log` receives its log lines. */
  stack(inet6 = false, log?: (line: string) => void): Stack {
    const s = new Stack({ inet6, clock: () => this.now, log });
    this.stacks.push(s);
    return s;
  }

  /** A new segment. */
  segment(): Segment {
    const seg = new Segment();
    this.segments.push(seg);
    return seg;
  }

  /** Attaches `stack` to `seg` with an Ethernet interface; returns its name. */
  attach(stack: Stack, seg: Segment, mac: number, name = "en"): string {
    const lladdr = new Uint8Array([2, 0, 0, 0, (mac >> 8) & 0xff, mac & 0xff]);
    const port: AttachedInterface = stack.attachInterface("sim", {
      mtu: 1500,
      lladdr,
      flags: IFF.BROADCAST | IFF.SIMPLEX | IFF.MULTICAST,
      transmit: (frame) => {
        const copy = frame.slice();
        seg.log.push(copy);
        if (!seg.drop(copy)) seg.queue.push({ from: port, frame: copy });
      },
    }, { prefix: name });
    seg.members.push({ stack, port });
    return port.name;
  }

  /** Delivers queued frames and runs due timers until nothing is left to do (bounded). */
  run(): number {
    let moved = 0;
    for (let round = 0; round < 10_000; round++) {
      let busy = false;
      for (const s of this.stacks) {
        const next = s.poll();
        if (next !== null && next <= this.now) busy = true;
      }
      for (const seg of this.segments) {
        const batch = seg.queue.splice(0);
        for (const { from, frame } of batch) {
          for (const m of seg.members) if (m.port !== from) m.port.receive(frame);
          moved++;
          busy = true;
        }
      }
      if (!busy) return moved;
    }
    throw new Error("network did not settle");
  }

  /** Advances virtual time by `ms`, stopping at each deadline of the stacks on the way. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      this.run();
      const pending = this.stacks.map((s) => s.nextTimeout()).filter((d) => d !== null);
      const next = Math.min(...(pending as number[]));
      if (!(next <= end)) break;
      this.now = Math.max(this.now, next);
    }
    this.now = end;
    this.run();
  }
}
