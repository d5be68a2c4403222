/**
 * Base64 for the bytes that travel inside JSON control messages (raw socket
 * datagrams). Only the control plane uses it; bulk socket data will travel in
 * binary frames.
 *
 * @example
 * ```ts
 * import { fromBase64, toBase64 } from "./base64.ts";
 * console.log(fromBase64(toBase64(new Uint8Array([1, 2, 3])))); // Uint8Array(3) [ 1, 2, 3 ]
 * ```
 * @module
 */

/** Base64 text of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  // Chunks keep String.fromCharCode's argument list within engine limits.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/** Bytes of base64 text; `null` when the text is not base64. */
export function fromBase64(text: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
