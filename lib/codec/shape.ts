/**
 * A fast path for gossip structs in the exact shape Go's memberlist and we
 * write them: a fixmap whose keys come in one known order, each value in
 * one of its usual encodings. Such a struct is read straight into an array
 * of field values (no field map, no key strings); anything else (another
 * key order, a missing or extra field, an unusual encoding, truncation)
 * gives `undefined`, and the caller reads it the general way, which yields
 * the same values for every input this path accepts.
 *
 * @module
 */
import { SHARED_MAX, sharedBytes } from "./shared_bytes.ts";
import { utf8Text } from "./text.ts";

/**
 * How a field is read, matching `fields.ts` on the encodings accepted here:
 * `u32`/`u16` an unsigned int (`uint(m, k, 32 | 16)`), `u8` a positive fixint
 * (`int` of a small value), `str` text from str/bin (`str`), `bytes` a view
 * from str/bin (`bytes`), `bytesOrNull` the same or nil (`bytesOrNull`).
 */
export type FieldKind = "u32" | "u16" | "u8" | "str" | "bytes" | "bytesOrNull";

/** A struct shape: its keys in wire order with how each value is read. */
export interface Shape {
  /** Each key's msgpack fixstr encoding. */
  readonly keys: readonly Uint8Array[];
  readonly kinds: readonly FieldKind[];
}

/**
 * Builds a {@link Shape} from `[key, kind]` pairs in wire order (Go's sorted order).
 *
 * @example
 * ```ts
 * const NACK = shape([["SeqNo", "u32"]]);
 * ```
 */
export function shape(fields: readonly (readonly [string, FieldKind])[]): Shape {
  if (fields.length > 15) throw new Error("shape: fixmap structs only");
  return {
    keys: fields.map(([k]) => {
      if (k.length > 31 || !/^[\x20-\x7e]*$/.test(k)) throw new Error(`shape: key ${k} is not a short ASCII key`);
      return Uint8Array.from([0xa0 | k.length, ...Array.from(k, (c) => c.charCodeAt(0))]);
    }),
    kinds: fields.map(([, kind]) => kind),
  };
}

/** Values read by {@link readShape} and where the struct ended. */
export interface ShapeRead {
  values: unknown[];
  end: number;
}

/**
 * Reads the struct at `buf[offset]` if it has exactly `s`'s shape; byte
 * values are views into `buf`, or shared copies when short (`shared_bytes.ts`):
 * never write to them.
 *
 * @example
 * ```ts
 * const r = readShape(body, 0, NACK); // { values: [seqNo], end } or undefined
 * ```
 */
export function readShape(buf: Uint8Array, offset: number, s: Shape): ShapeRead | undefined {
  const n = s.keys.length;
  if (buf[offset] !== (0x80 | n)) return undefined;
  let at = offset + 1;
  const values = new Array<unknown>(n);
  for (let f = 0; f < n; f++) {
    const key = s.keys[f];
    if (at + key.length > buf.length) return undefined;
    for (let i = 0; i < key.length; i++) if (buf[at + i] !== key[i]) return undefined;
    at += key.length;
    if (at >= buf.length) return undefined;
    const b = buf[at];
    const kind = s.kinds[f];
    if (kind === "u32" || kind === "u16" || kind === "u8") {
      let v: number;
      if (b < 0x80) {
        v = b;
        at += 1;
      } else if (kind === "u8") return undefined;
      else if (b === 0xcc && at + 2 <= buf.length) {
        v = buf[at + 1];
        at += 2;
      } else if (b === 0xcd && at + 3 <= buf.length) {
        v = (buf[at + 1] << 8) | buf[at + 2];
        at += 3;
      } else if (b === 0xce && kind === "u32" && at + 5 <= buf.length) {
        v = ((buf[at + 1] << 24) | (buf[at + 2] << 16) | (buf[at + 3] << 8) | buf[at + 4]) >>> 0;
        at += 5;
      } else return undefined;
      values[f] = v;
      continue;
    }
    if (b === 0xc0) {
      if (kind !== "bytesOrNull") return undefined;
      values[f] = null;
      at += 1;
      continue;
    }
    let len: number, start: number;
    if (b >= 0xa0 && b <= 0xbf) {
      len = b & 0x1f;
      start = at + 1;
    } else if ((b === 0xd9 || b === 0xc4) && at + 2 <= buf.length) {
      len = buf[at + 1];
      start = at + 2;
    } else if ((b === 0xda || b === 0xc5) && at + 3 <= buf.length) {
      len = (buf[at + 1] << 8) | buf[at + 2];
      start = at + 3;
    } else return undefined;
    if (start + len > buf.length) return undefined;
    values[f] = kind === "str"
      ? utf8Text(buf, start, start + len)
      : len <= SHARED_MAX
      ? sharedBytes(buf, start, start + len)
      : buf.subarray(start, start + len);
    at = start + len;
  }
  return { values, end: at };
}
