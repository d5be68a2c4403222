/**
 * `ndp` command entry: shows and changes the stack's IPv6 neighbour cache.
 * @module
 */
import { runTool } from "../tools/run_tool.ts";
import { ndpMain } from "../tools/ndp.ts";

await runTool("ndp", ndpMain);
