/**
 * `ifconfig` command entry: shows and configures network interfaces.
 * @module
 */
import { runTool } from "../tools/run_tool.ts";
import { ifconfigMain } from "../tools/ifconfig.ts";

await runTool("ifconfig", ifconfigMain);
