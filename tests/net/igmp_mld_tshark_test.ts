/**
 * The IGMP and MLD messages the stack sends, written to a pcap file from the
 * virtual network and read by tshark, an independent dissector: none
 * malformed, every checksum good, the Router Alert options where they belong.
 * Skipped when tshark is not installed.
 */
import assert from "node:assert/strict";
import { stackCore } from "../../core/stack.ts";
import { IFF } from "../../core/link/if_flags.ts";
import { encodePcapHeader, encodePcapRecord, LINKTYPE } from "../../drivers/wrap/pcap_format.ts";
import { Net } from "../kit/netsim.ts";
import { sh, which } from "../kit/netns.ts";
import { tsharkVerdict } from "../kit/capture.ts";

const MAC = "02:00:00:00:00:01";

/** Every frame in one classic pcap file. */
function pcapOf(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(24 + frames.reduce((n, f) => n + 16 + f.length, 0));
  let at = encodePcapHeader(out, 0, { linktype: LINKTYPE.ETHERNET });
  frames.forEach((f, i) => {
    at = encodePcapRecord(out, at, f, { timestampUs: 1_700_000_000_000_000 + i * 1000 });
  });
  return out;
}

Deno.test("IGMP and MLD messages we send: tshark finds them well formed, sums and options right", {
  ignore: !which("tshark"),
}, async () => {
  const net = new Net();
  const seg = net.segment();
  const a = net.stack(true);
  net.attach(a, seg, 1);
  a.setFlags("en0", IFF.UP, 0);
  a.addAddress("en0", { family: "inet", addr: "192.0.2.1", netmask: "255.255.255.0" });
  net.advance(3000);
  const s4 = a.openUdp(4), s6 = a.openUdp(6);
  s4.joinGroup("239.1.2.3", 2);
  s6.joinGroup("ff15::1234", 2);
  net.run();
  s4.leaveGroup("239.1.2.3", 2);
  s6.leaveGroup("ff15::1234", 2);
  net.run();
  assert.equal(stackCore(a).stats.igmp.snd_reports, 2);
  const file = Deno.makeTempFileSync({ suffix: ".pcap" });
  try {
    Deno.writeFileSync(file, pcapOf(seg.log));
    const verdict = await tsharkVerdict(file, MAC);
    assert.ok(verdict);
    assert.equal(verdict.bad, "", "frames tshark finds malformed or with bad checksums");
    const fields = await sh("tshark", [
      "-r",
      file,
      "-o",
      "ip.check_checksum:TRUE",
      "-Y",
      "igmp || (icmpv6.type >= 130 && icmpv6.type <= 132)",
      "-T",
      "fields",
      "-E",
      "separator=;",
      "-e",
      "igmp.type",
      "-e",
      "igmp.checksum.status",
      "-e",
      "ip.ttl",
      "-e",
      "ip.opt.type",
      "-e",
      "icmpv6.type",
      "-e",
      "icmpv6.checksum.status",
      "-e",
      "ipv6.hlim",
      "-e",
      "ipv6.opt.type",
    ]);
    assert.equal(fields.code, 0, fields.stderr);
    const lines = fields.stdout.trim().split("\n");
    // IGMP: v2 report and Leave, TTL 1, Router Alert (148), checksum good (1).
    assert.deepEqual(lines.filter((l) => l.startsWith("0x")), [
      "0x16;1;1;148;;;;",
      "0x17;1;1;148;;;;",
    ]);
    // MLD: reports (the solicited-node group twice, ff15::1234) and a Done, hop limit 1,
    // behind a Hop-by-Hop header holding Router Alert (0x05) and PadN (0x01).
    const mld = lines.filter((l) => !l.startsWith("0x")).map((l) => l.replace(/^;+/, ""));
    assert.equal(mld.length >= 3, true, mld.join("\n"));
    for (const l of mld) assert.match(l, /^13[12];1;1;0x05,0x01$/);
    assert.equal(mld.filter((l) => l.startsWith("132")).length, 1);
  } finally {
    Deno.removeSync(file);
  }
});
