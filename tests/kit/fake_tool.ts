/**
 * A fake ToolContext for tool tests: captures stdout/stderr and answers requests
 * through a handler function, so each tool's grammar and output are tested without
 * a daemon.
 * @module
 */

import { ErrnoError } from "../../core/errno.ts";
import type {
  ControlOp,
  ControlRequest,
  ControlResults,
  SocketEvent,
} from "../../core/control/ops.ts";
import type { ControlClient, RequestOf, ToolContext } from "../../tools/tool_context.ts";
import type { ToolMain } from "../../tools/run_tool.ts";

/** Answers one request, or throws an ErrnoError; `emit` pushes an event to the tool. */
export type FakeHandler = (req: ControlRequest, emit: (event: SocketEvent) => void) => unknown;

/** What a tool run produced. */
export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Every request the tool made, in order. */
  requests: ControlRequest[];
}

/** Runs `main` with `args` against `handler`; `handler` null means no stack answers. */
export async function runFakeTool(
  name: string,
  main: ToolMain,
  args: string[],
  handler: FakeHandler | null,
  env: Record<string, string> = {},
): Promise<ToolRun> {
  const run: ToolRun = { code: -1, stdout: "", stderr: "", requests: [] };
  let onEvent: ((event: SocketEvent) => void) | null = null;
  // Events are delivered after the reply that caused them, as a daemon would.
  const emit = (event: SocketEvent) => queueMicrotask(() => onEvent?.(event));
  const client: ControlClient = {
    call<O extends ControlOp>(req: RequestOf<O>): Promise<ControlResults[O]> {
      run.requests.push(req);
      try {
        return Promise.resolve(handler!(req, emit) as ControlResults[O]);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    onEvent(handler) {
      onEvent = handler;
    },
    close() {},
  };
  const ctx: ToolContext = {
    name,
    env,
    stdout: (s) => {
      run.stdout += s;
    },
    stderr: (s) => {
      run.stderr += s;
    },
    connect: () =>
      handler
        ? Promise.resolve(client)
        : Promise.reject(new ErrnoError("EAFNOSUPPORT", "no stack answers at /x/dev/socket")),
  };
  run.code = await main(args, ctx);
  return run;
}
