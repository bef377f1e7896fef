/**
 * One shared copy per value of very short byte strings (up to 6 bytes: IPv4
 * addresses, version vectors) and of messages (up to 1 KiB: the same alive
 * message is queued by every node of a simulated cluster), so the same
 * bytes held a million times are not a million arrays. Callers must never
 * write to a shared copy; a corrupted entry is noticed (bytes re-checked on
 * every hit) and replaced. Tables are dropped when they grow large, which
 * only costs sharing.
 *
 * @module
 */

/** Longest byte string {@link sharedBytes} shares. */
export const SHARED_MAX = 6;
/** Longest message {@link sharedCopy} shares. */
const MESSAGE_MAX = 1024;
const MAX_ENTRIES = 1 << 16;
/**
 * By length; keys stay small integers (cheap to hash): the last three bytes
 * key the inner map, the bytes before them (if any) the outer one.
 */
const tables = Array.from({ length: SHARED_MAX + 1 }, () => new Map<number, Map<number, Uint8Array>>());
let entries = 0;
const messages = new Map<number, Uint8Array>();

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
  const split = Math.max(start, end - 3);
  let hi = 0, lo = 0;
  for (let i = start; i < split; i++) hi = (hi << 8) | buf[i];
  for (let i = split; i < end; i++) lo = (lo << 8) | buf[i];
  const outer = tables[n];
  let inner = outer.get(hi);
  let out = inner?.get(lo);
  if (out && sameBytes(out, buf, start)) return out;
  if (entries >= MAX_ENTRIES) {
    for (const t of tables) t.clear();
    entries = 0;
    inner = undefined;
  }
  if (!inner) outer.set(hi, inner = new Map());
  out = buf.slice(start, end);
  if (!inner.has(lo)) entries++;
  inner.set(lo, out);
  return out;
}

/**
 * An owned copy of `view`'s bytes, shared with earlier callers that passed
 * equal bytes (longer than 1 KiB: a fresh copy). Never write to it.
 *
 * @example
 * ```ts
 * const a = sharedCopy(encoder.bytes()); // the same array for the same bytes later
 * ```
 */
export function sharedCopy(view: Uint8Array): Uint8Array {
  const n = view.length;
  if (n > MESSAGE_MAX) return view.slice();
  let h = 0x811c9dc5 ^ n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ view[i], 0x01000193);
  h >>>= 0;
  const hit = messages.get(h);
  if (hit && hit.length === n && sameBytes(hit, view, 0)) return hit;
  if (messages.size >= MAX_ENTRIES) messages.clear();
  const out = view.slice();
  messages.set(h, out);
  return out;
}

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}
