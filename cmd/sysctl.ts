/**
 * `sysctl` command entry: reads and writes the stack's sysctl variables.
 * @module
 */
import { runTool } from "../tools/run_tool.ts";
import { sysctlMain } from "../tools/sysctl.ts";

await runTool("sysctl", sysctlMain);
