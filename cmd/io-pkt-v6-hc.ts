/**
 * `io-pkt-v6-hc`: the io-pkt networking manager (IPv6 and IPv4).
 * @module
 */
import { runDaemon } from "../daemon/main.ts";

await runDaemon("io-pkt-v6-hc", Deno.args);
