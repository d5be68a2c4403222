/**
 * The classic libpcap file format, sans I/O: a 24-byte global header, then per
 * frame a 16-byte record header (seconds, microseconds, captured length,
 * original length) and the captured bytes. Written little-endian with magic
 * `0xa1b2c3d4` (microsecond timestamps), version 2.4; read in either byte order.
 *
 * @example Write a one-frame capture into memory and read it back
 * ```ts
 * import { encodePcapHeader, encodePcapRecord, LINKTYPE, readPcap } from "./pcap_format.ts";
 * const frame = new Uint8Array([0x45, 0, 0, 20]);
 * const out = new Uint8Array(24 + 16 + frame.length);
 * encodePcapHeader(out, 0, { linktype: LINKTYPE.RAW });
 * encodePcapRecord(out, 24, frame, { timestampUs: 1_500_000 });
 * const file = readPcap(out);
 * console.log(file.linktype, file.records[0].timestampUs); // 101 1500000
 * ```
 * @module
 */

/** The microsecond-resolution magic number, as written in the file's first four bytes. */
export const PCAP_MAGIC = 0xa1b2c3d4;
/** The nanosecond-resolution magic number (read only). */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** Length of the global file header. */
export const PCAP_HEADER_LEN = 24;
/** Length of each record's header. */
export const PCAP_RECORD_HEADER_LEN = 16;
/** The snapshot length written by default: whole frames up to 64 KiB. */
export const PCAP_DEFAULT_SNAPLEN = 65535;

/** Link-layer header types (tcpdump.org/linktypes.html) the wrappers write. */
export const LINKTYPE = {
  /** DLT_EN10MB: Ethernet II frames. */
  ETHERNET: 1,
  /** LINKTYPE_RAW: bare IPv4 or IPv6 packets, version nibble first (TUN). */
  RAW: 101,
  /** LINKTYPE_IPV4: bare IPv4 packets only. */
  IPV4: 228,
  /** LINKTYPE_IPV6: bare IPv6 packets only. */
  IPV6: 229,
} as const;

/** Options of {@linkcode encodePcapHeader}. */
export interface PcapHeaderOptions {
  /** Link-layer header type of every record (see {@linkcode LINKTYPE}). */
  linktype: number;
  /** Largest captured length a record may have; default {@linkcode PCAP_DEFAULT_SNAPLEN}. */
  snaplen?: number;
}

/**
 * Writes the 24-byte global header at `offset`.
 *
 * @param out the buffer to write into; needs {@linkcode PCAP_HEADER_LEN} bytes from `offset`
 * @param offset where the header starts
 * @param options link type and snapshot length
 * @returns the offset just past the header
 *
 * @example
 * ```ts
 * import { encodePcapHeader, LINKTYPE } from "./pcap_format.ts";
 * const out = new Uint8Array(24);
 * encodePcapHeader(out, 0, { linktype: LINKTYPE.ETHERNET });
 * console.log(out[0].toString(16)); // d4 (little-endian a1b2c3d4)
 * ```
 */
export function encodePcapHeader(
  out: Uint8Array,
  offset: number,
  options: PcapHeaderOptions,
): number {
  const dv = new DataView(out.buffer, out.byteOffset + offset, PCAP_HEADER_LEN);
  dv.setUint32(0, PCAP_MAGIC, true);
  dv.setUint16(4, 2, true); // version 2.4
  dv.setUint16(6, 4, true);
  dv.setInt32(8, 0, true); // thiszone: timestamps are UTC
  dv.setUint32(12, 0, true); // sigfigs: always 0 in practice
  dv.setUint32(16, options.snaplen ?? PCAP_DEFAULT_SNAPLEN, true);
  dv.setUint32(20, options.linktype, true);
  return offset + PCAP_HEADER_LEN;
}

/** Options of {@linkcode encodePcapRecord}. */
export interface PcapRecordOptions {
  /** Capture time in microseconds since the Unix epoch. */
  timestampUs: number;
  /** Bytes of the frame to keep; default {@linkcode PCAP_DEFAULT_SNAPLEN}. */
  snaplen?: number;
}

/**
 * Writes one record (header and captured bytes) at `offset`. A frame longer
 * than the snapshot length is cut; the record keeps its original length.
 *
 * @param out the buffer; needs {@linkcode pcapRecordLength} bytes from `offset`
 * @param offset where the record starts
 * @param frame the frame as it went over the link
 * @param options timestamp and snapshot length
 * @returns the offset just past the record
 *
 * @example
 * ```ts
 * import { encodePcapRecord, pcapRecordLength } from "./pcap_format.ts";
 * const frame = new Uint8Array(100);
 * const out = new Uint8Array(pcapRecordLength(frame.length, 64));
 * console.log(encodePcapRecord(out, 0, frame, { timestampUs: 0, snaplen: 64 })); // 80
 * ```
 */
export function encodePcapRecord(
  out: Uint8Array,
  offset: number,
  frame: Uint8Array,
  options: PcapRecordOptions,
): number {
  const caplen = Math.min(frame.length, options.snaplen ?? PCAP_DEFAULT_SNAPLEN);
  const us = Math.max(0, Math.floor(options.timestampUs));
  // Byte stores rather than a DataView: no object per frame on the capture path.
  putU32le(out, offset, Math.floor(us / 1e6));
  putU32le(out, offset + 4, us % 1e6);
  putU32le(out, offset + 8, caplen);
  putU32le(out, offset + 12, frame.length);
  const start = offset + PCAP_RECORD_HEADER_LEN;
  out.set(caplen === frame.length ? frame : frame.subarray(0, caplen), start);
  return start + caplen;
}

function putU32le(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

/**
 * Bytes one record takes in the file.
 *
 * @param frameLength the frame's length on the link
 * @param snaplen the snapshot length; default {@linkcode PCAP_DEFAULT_SNAPLEN}
 * @returns header plus captured bytes
 *
 * @example
 * ```ts
 * import { pcapRecordLength } from "./pcap_format.ts";
 * console.log(pcapRecordLength(60)); // 76
 * ```
 */
export function pcapRecordLength(frameLength: number, snaplen = PCAP_DEFAULT_SNAPLEN): number {
  return PCAP_RECORD_HEADER_LEN + Math.min(frameLength, snaplen);
}

/** One record read back by {@linkcode readPcap}. */
export interface PcapRecord {
  /** Capture time in microseconds since the epoch (nanosecond files are rounded down). */
  timestampUs: number;
  /** Length of the frame on the link; more than `data.length` when it was cut. */
  originalLength: number;
  /** The captured bytes: a view into the input, not a copy. */
  data: Uint8Array;
}

/** A whole capture read back by {@linkcode readPcap}. */
export interface PcapFile {
  /** Link-layer header type of every record. */
  linktype: number;
  /** The snapshot length in the header. */
  snaplen: number;
  /** The records, in file order. */
  records: PcapRecord[];
}

/** Reads magic and byte order; throws when the input is no classic pcap file. */
function readMagic(dv: DataView): { littleEndian: boolean; nanos: boolean } {
  if (dv.byteLength < PCAP_HEADER_LEN) throw new SyntaxError("Pcap file shorter than its header");
  for (const littleEndian of [true, false]) {
    const magic = dv.getUint32(0, littleEndian);
    if (magic === PCAP_MAGIC) return { littleEndian, nanos: false };
    if (magic === PCAP_MAGIC_NS) return { littleEndian, nanos: true };
  }
  throw new SyntaxError("Pcap file has an unknown magic number");
}

/**
 * Parses a classic pcap file (either byte order, micro- or nanosecond
 * timestamps). Record data are views into `bytes`. Meant for tests and tools;
 * the stack never reads captures.
 *
 * @param bytes the whole file
 * @returns link type, snapshot length and the records in file order
 * @throws {SyntaxError} on a bad magic number or a truncated record
 *
 * @example
 * ```ts
 * import { encodePcapHeader, LINKTYPE, readPcap } from "./pcap_format.ts";
 * const out = new Uint8Array(24);
 * encodePcapHeader(out, 0, { linktype: LINKTYPE.ETHERNET });
 * console.log(readPcap(out).records.length); // 0
 * ```
 */
export function readPcap(bytes: Uint8Array): PcapFile {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { littleEndian: le, nanos } = readMagic(dv);
  const file: PcapFile = {
    snaplen: dv.getUint32(16, le),
    linktype: dv.getUint32(20, le),
    records: [],
  };
  let at = PCAP_HEADER_LEN;
  while (at < bytes.length) {
    if (at + PCAP_RECORD_HEADER_LEN > bytes.length) {
      throw new SyntaxError("Pcap record header truncated");
    }
    const sec = dv.getUint32(at, le);
    const frac = dv.getUint32(at + 4, le);
    const caplen = dv.getUint32(at + 8, le);
    const start = at + PCAP_RECORD_HEADER_LEN;
    if (start + caplen > bytes.length) throw new SyntaxError("Pcap record data truncated");
    file.records.push({
      timestampUs: sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac),
      originalLength: dv.getUint32(at + 12, le),
      data: bytes.subarray(start, start + caplen),
    });
    at = start + caplen;
  }
  return file;
}
