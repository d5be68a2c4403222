/**
 * `shmif_dumpbus` command entry: shows a shmif bus's captured traffic or
 * writes it as a pcap file. Needs no stack: only the bus directory.
 * @module
 */
import { shmifDumpbusMain } from "../tools/shmif_dumpbus.ts";

Deno.exit(shmifDumpbusMain(Deno.args));
