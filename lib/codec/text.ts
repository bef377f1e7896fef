/**
 * UTF-8 bytes to JS strings, fast for what fills gossip and RPC messages:
 * short ASCII strings (field names, node names, addresses) are read by hand
 * without allocating a copy of the bytes and interned in a small cache, so a
 * name seen before comes back as the very same string. Everything else goes
 * through `TextDecoder` (replacement characters, BOM removal) exactly as before.
 *
 * @module
 */

/** Longest string taken by the ASCII path. */
const SHORT = 48;
/** Slots of the direct-mapped intern cache (a power of two). */
const CACHE_SIZE = 4096;
const cache: string[] = new Array<string>(CACHE_SIZE).fill("");
const textDecoder = new TextDecoder("utf-8", { fatal: false });

/** Whether `s` (same length assumed) equals the ASCII bytes of `buf` from `at`. */
function sameAscii(s: string, buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[at + i]) return false;
  return true;
}

/**
 * The text of `buf[start, end)` as UTF-8, exactly as a non-fatal
 * `TextDecoder` reads it.
 *
 * @example
 * ```ts
 * utf8Text(Uint8Array.of(0x4e, 0x6f, 0x64, 0x65), 0, 4); // "Node"
 * ```
 */
export function utf8Text(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= SHORT) {
    let h = n;
    let i = start;
    for (; i < end; i++) {
      const c = buf[i];
      if (c >= 0x80) break;
      h = Math.imul(h ^ c, 0x01000193);
    }
    if (i === end) {
      const slot = (h ^ (h >>> 15)) & (CACHE_SIZE - 1);
      const hit = cache[slot];
      if (hit.length === n && sameAscii(hit, buf, start)) return hit;
      const s = String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
      cache[slot] = s;
      return s;
    }
  }
  return textDecoder.decode(buf.subarray(start, end));
}

/** {@link utf8Text} of a whole array. */
export function bytesToText(bytes: Uint8Array): string {
  return utf8Text(bytes, 0, bytes.length);
}
