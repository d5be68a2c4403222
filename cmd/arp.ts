/**
 * `arp` command entry: shows and changes the stack's ARP table.
 * @module
 */
import { runTool } from "../tools/run_tool.ts";
import { arpMain } from "../tools/arp.ts";

await runTool("arp", arpMain);
