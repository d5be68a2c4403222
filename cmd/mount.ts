/**
 * `mount` command entry: `-T io-pkt[N]` mounts into a stack; anything else runs the system mount.
 * @module
 */
import { runTool } from "../tools/run_tool.ts";
import { mountMain } from "../tools/mount.ts";

await runTool("mount", mountMain);
