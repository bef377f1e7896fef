/**
 * One shared copy per value of very short byte strings (up to 6 bytes: IPv4
 * addresses, version vectors), so the same address decoded a million times
 * is not a million arrays. Callers must never write to a shared copy; a
 * corrupted entry is noticed (bytes re-checked on every hit) and replaced.
 * The table is dropped when it grows large, which only costs sharing.
 *
 * @module
 */

/** Longest byte string shared. */
export const SHARED_MAX = 6;
const MAX_ENTRIES = 1 << 16;
const table = new Map<number, Uint8Array>();

/**
 * `buf[start, end)` as an owned array: a shared copy when at most
 * {@link SHARED_MAX} bytes long, a fresh copy otherwise. Never write to it.
 *
 * @example
 * ```ts
 * sharedBytes(packet, 5, 9) === sharedBytes(Uint8Array.of(10, 0, 0, 1), 0, 4); // when the bytes are equal
 * ```
 */
export function sharedBytes(buf: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n > SHARED_MAX || n < 0) return buf.slice(start, end);
  // Length and up to six bytes make an exact key below 2^51.
  let key = n;
  for (let i = start; i < end; i++) key = key * 256 + buf[i];
  let out = table.get(key);
  if (out && !sameBytes(out, buf, start)) out = undefined;
  if (!out) {
    if (table.size >= MAX_ENTRIES) table.clear();
    out = buf.slice(start, end);
    table.set(key, out);
  }
  return out;
}

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}
