/**
 * Runs a tool's main function as a process: real streams, real environment,
 * the real control client, and its result as the exit code.
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { sysctlMain } from "./sysctl.ts";
 * await runTool("sysctl", sysctlMain);
 * ```
 * @module
 */

import { connectStack } from "./client.ts";
import type { ToolContext } from "./tool_context.ts";

/** A tool's main function: arguments and context in, exit code out. */
export type ToolMain = (args: string[], ctx: ToolContext) => Promise<number>;

const encoder = new TextEncoder();

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}

/** Runs `main` with the process's arguments and exits with its code. */
export async function runTool(name: string, main: ToolMain): Promise<never> {
  const env = Deno.env.toObject();
  const ctx: ToolContext = {
    name,
    env,
    stdout: (s) => writeAll(Deno.stdout, s),
    stderr: (s) => writeAll(Deno.stderr, s),
    connect: () => connectStack(env.SOCK ?? ""),
  };
  let code: number;
  try {
    code = await main(Deno.args, ctx);
  } catch (e) {
    ctx.stderr(`${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    code = 1;
  }
  Deno.exit(code);
}
