/**
 * Shared copies of the small values every node record holds: an IPv4
 * address and a version vector are the same for a node in every record of
 * every core in the process (a simulator holds N² records). Records keep
 * the shared copy, so it must never be written to. Lookups are exact (by
 * value); the tables are dropped when they grow large, which only costs
 * sharing.
 *
 * @module
 */

import { sharedBytes } from "../codec/shared_bytes.ts";

/** Entries kept before the table is cleared. */
const MAX_ENTRIES = 1 << 16;
const vsns = new Map<number, readonly number[]>();

/**
 * An owned copy of address bytes `ip` (e.g. a view into a packet), shared
 * between callers for IPv4. Never write to the result.
 *
 * @example
 * ```ts
 * internAddr(packet.subarray(5, 9)) === internAddr(Uint8Array.of(10, 0, 0, 1)); // when equal
 * ```
 */
export function internAddr(ip: Uint8Array): Uint8Array {
  return ip.length === 4 ? sharedBytes(ip, 0, 4) : ip.slice();
}

/**
 * The first six bytes of a version vector as a shared array, or six zeros
 * when it has fewer. Never write to the result.
 *
 * @example
 * ```ts
 * internVsn(Uint8Array.of(1, 5, 2, 2, 5, 4)); // [1, 5, 2, 2, 5, 4]
 * ```
 */
export function internVsn(vsn: Uint8Array): readonly number[] {
  if (vsn.length < 6) return ZERO_VSN;
  // Six bytes fit exactly in a double's 53-bit integer range.
  const key = ((vsn[0] << 16) | (vsn[1] << 8) | vsn[2]) * 0x1000000 + ((vsn[3] << 16) | (vsn[4] << 8) | vsn[5]);
  let out = vsns.get(key);
  if (!out) {
    if (vsns.size >= MAX_ENTRIES) vsns.clear();
    out = Object.freeze([vsn[0], vsn[1], vsn[2], vsn[3], vsn[4], vsn[5]]);
    vsns.set(key, out);
  }
  return out;
}

const ZERO_VSN: readonly number[] = Object.freeze([0, 0, 0, 0, 0, 0]);
