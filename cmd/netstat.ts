/**
 * `netstat` command entry: sockets, routing tables, interfaces and protocol statistics.
 * @module
 */
import { runTool } from "../tools/run_tool.ts";
import { netstatMain } from "../tools/netstat.ts";

await runTool("netstat", netstatMain);
