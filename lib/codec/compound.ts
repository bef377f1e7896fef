/**
 * memberlist's compound message framing (`util.go:makeCompoundMessage` and
 * `decodeCompoundMessage`): `[7][count u8][len u16 BE]×count[msg]×count`,
 * each part a complete message starting with its own type byte.
 *
 * @module
 */

/** The `compound` message type byte. */
export const COMPOUND_MSG = 7;

/** Most parts one compound can carry (the count is one byte); callers split. */
export const MAX_COMPOUND_PARTS = 255;

/**
 * Most parts a Go peer splits correctly: memberlist 0.2.2 computes the size of
 * the length table in `uint8` arithmetic (`numParts*2`), so it mis-splits
 * compounds of 128 or more parts. Senders talking to Go should stay at or
 * below this.
 */
export const GO_SAFE_COMPOUND_PARTS = 127;

/** Longest part a compound can carry (lengths are uint16). */
export const MAX_COMPOUND_PART_LENGTH = 0xffff;

/** Bytes a compound adds around its parts: type byte, count, 2 per part. */
export function compoundOverhead(parts: number): number {
  return 2 + 2 * parts;
}

/**
 * Frames `msgs` as one compound message (type byte included).
 *
 * @throws {RangeError} for more than 255 parts or a part over 65535 bytes.
 *
 * @example
 * ```ts
 * const packet = makeCompound([ping, suspect]);
 * ```
 */
export function makeCompound(msgs: Uint8Array[]): Uint8Array {
  if (msgs.length > MAX_COMPOUND_PARTS) {
    throw new RangeError(`compound: ${msgs.length} parts exceed the limit of ${MAX_COMPOUND_PARTS}`);
  }
  let size = compoundOverhead(msgs.length);
  for (const m of msgs) {
    if (m.length > MAX_COMPOUND_PART_LENGTH) {
      throw new RangeError(`compound: part of ${m.length} bytes exceeds ${MAX_COMPOUND_PART_LENGTH}`);
    }
    size += m.length;
  }
  const out = new Uint8Array(size);
  out[0] = COMPOUND_MSG;
  out[1] = msgs.length;
  let lenAt = 2;
  let at = compoundOverhead(msgs.length);
  for (const m of msgs) {
    out[lenAt++] = m.length >>> 8;
    out[lenAt++] = m.length & 0xff;
    out.set(m, at);
    at += m.length;
  }
  return out;
}

/** The parts of a compound and how many announced parts were cut off. */
export interface CompoundParts {
  /** Complete parts, as views into the input buffer. */
  parts: Uint8Array[];
  /** Announced parts missing because the buffer ended early (Go logs these). */
  truncated: number;
}

/**
 * Splits a compound message; `buf` starts after the type byte. As in Go, a
 * missing count or a short length table is an error, while a part longer than
 * the bytes left ends decoding and counts it and every later part as
 * truncated. Bytes after the last part are ignored.
 *
 * @throws {Error} `missing compound length byte` / `truncated len slice`.
 *
 * @example
 * ```ts
 * const { parts, truncated } = decodeCompound(packet.subarray(1));
 * ```
 */
export function decodeCompound(buf: Uint8Array): CompoundParts {
  if (buf.length < 1) throw new Error("missing compound length byte");
  const count = buf[0];
  if (buf.length < 1 + 2 * count) throw new Error("truncated len slice");
  const parts: Uint8Array[] = [];
  let at = 1 + 2 * count;
  for (let i = 0; i < count; i++) {
    const len = (buf[1 + 2 * i] << 8) | buf[2 + 2 * i];
    if (buf.length - at < len) return { parts, truncated: count - i };
    parts.push(buf.subarray(at, at + len));
    at += len;
  }
  return { parts, truncated: 0 };
}
