/**
 * `if_up` command entry: waits for interfaces to exist and be configured.
 * @module
 */
import { runTool } from "../tools/run_tool.ts";
import { ifUpMain } from "../tools/if_up.ts";

await runTool("if_up", ifUpMain);
