/**
 * `ping` command entry: sends ICMP echo requests through the stack; SIGINT
 * ends the run with its statistics.
 * @module
 */
import { runTool } from "../tools/run_tool.ts";
import { pingMain } from "../tools/ping.ts";
import { DENO_SIGINT } from "../tools/ping_engine.ts";

await runTool("ping", (args, ctx) => pingMain(args, ctx, { onInterrupt: DENO_SIGINT }));
