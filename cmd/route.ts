/**
 * `route` command entry: manipulates and shows the stack's routing tables.
 * @module
 */
import { runTool } from "../tools/run_tool.ts";
import { routeMain } from "../tools/route.ts";

await runTool("route", routeMain);
