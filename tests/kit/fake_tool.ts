/**
 * A fake ToolContext for tool tests: captures stdout/stderr and answers requests
 * through a handler function, so each tool's grammar and output are tested without
 * a daemon.
 * @module
 */

import { ErrnoError } from "../../core/errno.ts";
import type { ControlOp, ControlRequest, ControlResults } from "../../core/control/ops.ts";
import type { ControlClient, RequestOf, ToolContext } from "../../tools/tool_context.ts";
import type { ToolMain } from "../../tools/run_tool.ts";

/** Answers one request, or throws an ErrnoError. */
export type FakeHandler = (req: ControlRequest) => unknown;

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
  const client: ControlClient = {
    call<O extends ControlOp>(req: RequestOf<O>): Promise<ControlResults[O]> {
      run.requests.push(req);
      try {
        return Promise.resolve(handler!(req) as ControlResults[O]);
      } catch (e) {
        return Promise.reject(e);
      }
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
