/**
 * `io-pkt-v4-hc`: the io-pkt networking manager (IPv4 only).
 * @module
 */
import { runDaemon } from "../daemon/main.ts";

await runDaemon("io-pkt-v4-hc", Deno.args);
