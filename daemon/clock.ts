/**
 * Drives the stack's timers with the real clock: one `setTimeout` armed for the
 * stack's earliest deadline, re-armed after each poll and whenever the stack
 * schedules something earlier.
 *
 * @example
 * ```ts ignore
 * const stop = driveTimers(stack);
 * ```
 * @module
 */

import type { Stack } from "../core/stack.ts";

/** Starts driving `stack`'s timers; returns a function that stops it. */
export function driveTimers(stack: Stack): () => void {
  let handle: ReturnType<typeof setTimeout> | null = null;
  let armedFor = Infinity;
  let stopped = false;
  const arm = (deadline: number | null) => {
    if (stopped || deadline === null || deadline >= armedFor) return;
    if (handle !== null) clearTimeout(handle);
    armedFor = deadline;
    handle = setTimeout(fire, Math.max(0, deadline - stack.now()));
  };
  const fire = () => {
    handle = null;
    armedFor = Infinity;
    arm(stack.poll());
  };
  stack.onTimeoutChanged = () => arm(stack.nextTimeout());
  arm(stack.poll());
  return () => {
    stopped = true;
    stack.onTimeoutChanged = null;
    if (handle !== null) clearTimeout(handle);
  };
}

/**
 * The daemon's clock, monotonic milliseconds. One function for the daemon's
 * stack and the JIT warm-up's scratch stacks (`warmup.ts`), so the core's call
 * to its clock sees one target, as it will when real traffic comes.
 */
export function monotonicNow(): number {
  return performance.now();
}
