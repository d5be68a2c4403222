/**
 * A tiny responder for driver tests: answers ARP requests and ICMP echo
 * requests for one IPv4 address, on Ethernet frames or bare IP packets. It
 * lets Linux's own `ping` prove both directions of a driver.
 * @module
 */

import { checksum } from "../../core/wire/checksum.ts";

/** Parses dotted IPv4 into 4 bytes. */
export function ip4(text: string): Uint8Array {
  return Uint8Array.from(text.split(".").map(Number));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The ARP reply to a request for `ip` (from `mac`), or null. */
export function arpReply(frame: Uint8Array, ip: Uint8Array, mac: Uint8Array): Uint8Array | null {
  if (frame.length < 42 || frame[12] !== 0x08 || frame[13] !== 0x06) return null;
  if (frame[20] !== 0 || frame[21] !== 1) return null; // not a request
  if (!equal(frame.subarray(38, 42), ip)) return null;
  const out = new Uint8Array(42);
  out.set(frame.subarray(6, 12), 0); // to the requester
  out.set(mac, 6);
  out.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2], 12);
  out.set(mac, 22); // sender: us
  out.set(ip, 28);
  out.set(frame.subarray(22, 32), 32); // target: the requester's MAC and IP
  return out;
}

/** The echo reply to an ICMP echo request to `ip` in `pkt` (a bare IPv4 packet), or null. */
export function echoReply(pkt: Uint8Array, ip: Uint8Array): Uint8Array | null {
  if (pkt.length < 28 || pkt[0] >> 4 !== 4 || pkt[9] !== 1) return null;
  const ihl = (pkt[0] & 15) * 4;
  const total = (pkt[2] << 8) | pkt[3];
  if (!equal(pkt.subarray(16, 20), ip) || pkt[ihl] !== 8 || total > pkt.length) return null;
  const out = pkt.slice(0, total);
  out.set(pkt.subarray(16, 20), 12); // swapping the addresses keeps the header checksum
  out.set(pkt.subarray(12, 16), 16);
  out[ihl] = 0; // echo reply
  out[ihl + 2] = out[ihl + 3] = 0;
  const sum = checksum(out, ihl, total);
  out[ihl + 2] = sum >> 8;
  out[ihl + 3] = sum & 0xff;
  return out;
}

/** The reply to an Ethernet frame (ARP request or echo request to `ip`), or null. */
export function etherReply(frame: Uint8Array, ip: Uint8Array, mac: Uint8Array): Uint8Array | null {
  const arp = arpReply(frame, ip, mac);
  if (arp) return arp;
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) return null;
  const reply = echoReply(frame.subarray(14), ip);
  if (!reply) return null;
  const out = new Uint8Array(14 + reply.length);
  out.set(frame.subarray(6, 12), 0);
  out.set(mac, 6);
  out.set([0x08, 0x00], 12);
  out.set(reply, 14);
  return out;
}
