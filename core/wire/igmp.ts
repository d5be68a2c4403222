/**
 * IGMPv1/v2 messages (RFC 1112, RFC 2236) and the IPv4 Router Alert option
 * (RFC 2113) that IGMPv2 messages carry, in the shape of the other `wire/`
 * modules: constants, a check of a received message, and an emit that writes
 * into a buffer the caller sized.
 *
 * Every IGMPv1/v2 message is 8 bytes: type, Max Resp Time (tenths of a
 * second, queries only; 0 in an IGMPv1 query), checksum over the IGMP
 * message, group address (0 in a general query). An IGMPv3 query (RFC 3376)
 * is longer; its checksum covers all of it, and a v2 host reads its first 8
 * bytes as a v2 query.
 *
 * @example A membership report for 239.1.2.3
 * ```ts
 * import { emitIgmp, IGMP_TYPE, igmpChecksumOk } from "./igmp.ts";
 * const b = new Uint8Array(8);
 * emitIgmp(b, 0, IGMP_TYPE.V2_REPORT, 0, 0xef010203);
 * console.log(b[0].toString(16), igmpChecksumOk(b, 0, 8)); // 16 true
 * ```
 * @module
 */

import { checksum } from "./checksum.ts";
import { readU32, writeU16, writeU32 } from "./bytes.ts";

/** IGMP message types; others pass through as numbers. */
export const IGMP_TYPE = {
  /** Membership Query (v1 when Max Resp Time is 0, else v2; v3 when longer). */
  QUERY: 0x11,
  /** IGMPv1 Membership Report. */
  V1_REPORT: 0x12,
  /** IGMPv2 Membership Report. */
  V2_REPORT: 0x16,
  /** IGMPv2 Leave Group. */
  LEAVE: 0x17,
  /** IGMPv3 Membership Report (RFC 3376). */
  V3_REPORT: 0x22,
} as const;

/** Length of an IGMPv1/v2 message. */
export const IGMP_MINLEN = 8;
/** Max Resp Time is in tenths of a second. */
export const IGMP_TIMER_SCALE_MS = 100;
/** Length of the IPv4 Router Alert option (RFC 2113): type 148, length 4, value 0. */
export const IPOPT_RA_LEN = 4;
/** 224.0.0.1, all systems on this subnet. */
export const INADDR_ALLHOSTS_GROUP = 0xe0000001;
/** 224.0.0.2, all routers on this subnet (where Leave Group goes). */
export const INADDR_ALLRTRS_GROUP = 0xe0000002;

const F = Object.freeze({ TYPE: 0, CODE: 1, SUM: 2, GROUP: 4 });

/** Whether the IGMP message at `bytes[offset, offset + length)` sums to zero. */
export function igmpChecksumOk(bytes: Uint8Array, offset: number, length: number): boolean {
  return checksum(bytes, offset, offset + length) === 0;
}

/** The group address of the IGMP message at `offset` (0 in a general query). */
export function igmpGroup(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset + F.GROUP);
}

/**
 * Writes an 8-byte IGMPv1/v2 message and its checksum; returns 8.
 * `maxResp` is in tenths of a second (queries; 0 otherwise).
 */
export function emitIgmp(
  bytes: Uint8Array,
  offset: number,
  type: number,
  maxResp: number,
  group: number,
): number {
  bytes[offset + F.TYPE] = type;
  bytes[offset + F.CODE] = maxResp;
  bytes[offset + F.SUM] = 0;
  bytes[offset + F.SUM + 1] = 0;
  writeU32(bytes, offset + F.GROUP, group);
  writeU16(bytes, offset + F.SUM, checksum(bytes, offset, offset + IGMP_MINLEN));
  return IGMP_MINLEN;
}

/**
 * Writes the 4-byte IPv4 Router Alert option (RFC 2113: type 148, copied on
 * fragmentation; value 0, "examine this packet"); returns 4.
 */
export function emitIpv4RouterAlert(bytes: Uint8Array, offset: number): number {
  bytes[offset] = 148;
  bytes[offset + 1] = IPOPT_RA_LEN;
  bytes[offset + 2] = 0;
  bytes[offset + 3] = 0;
  return IPOPT_RA_LEN;
}
