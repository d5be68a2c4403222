/**
 * `ping6` command entry: sends ICMPv6 echo requests through the stack; SIGINT
 * ends the run with its statistics.
 * @module
 */
import { runTool } from "../tools/run_tool.ts";
import { ping6Main } from "../tools/ping_inet6.ts";
import { DENO_SIGINT } from "../tools/ping_engine.ts";

await runTool("ping6", (args, ctx) => ping6Main(args, ctx, { onInterrupt: DENO_SIGINT }));
