/**
 * Typed reads of decoded msgpack maps with go-msgpack's acceptance rules:
 * a Go `string` field takes str (or nil), a `[]byte` field takes str, bin, an
 * array of small ints, or nil; integer fields take any integer encoding;
 * bool fields take true/false or 0/1. Missing keys give Go's zero value.
 * A mismatched type throws {@link DecodeError}, which callers treat as a
 * malformed message.
 *
 * @module
 */
import { DecodeError } from "./msgpack.ts";
import { bytesToText } from "./text.ts";

/** A decoded msgpack map. */
export type Fields = Record<string, unknown>;

/** Asserts that a decoded value is a map. */
export function asMap(v: unknown, what = "message"): Fields {
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array) {
    throw new DecodeError(`${what}: expected a map`);
  }
  return v as Fields;
}

/** Reads a Go `string` field. */
export function str(m: Fields, key: string): string {
  const v = m[key];
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return bytesToText(v);
  throw new DecodeError(`field ${key}: expected a string`);
}

/** Reads a Go `[]byte` field (nil → empty array). */
export function bytes(m: Fields, key: string): Uint8Array {
  const v = m[key];
  if (v === undefined || v === null) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") return new TextEncoder().encode(v);
  if (Array.isArray(v) && v.every((x) => typeof x === "number" && x >= 0 && x < 256 && Number.isInteger(x))) {
    return Uint8Array.from(v as number[]);
  }
  throw new DecodeError(`field ${key}: expected bytes`);
}

/** Reads a Go `[]byte` field, keeping nil distinct (returns null). */
export function bytesOrNull(m: Fields, key: string): Uint8Array | null {
  const v = m[key];
  if (v === undefined || v === null) return null;
  return bytes(m, key);
}

/** Reads an unsigned integer field of at most `bits` bits. */
export function uint(m: Fields, key: string, bits: 8 | 16 | 32 | 64 = 32): number {
  const v = m[key];
  if (v === undefined || v === null) return 0;
  if (typeof v === "bigint") {
    if (bits === 64 && v >= 0n) return Number(v);
    throw new DecodeError(`field ${key}: integer out of range`);
  }
  if (typeof v !== "number" || !Number.isInteger(v)) throw new DecodeError(`field ${key}: expected an integer`);
  if (v < 0) throw new DecodeError(`field ${key}: negative value for unsigned field`);
  if (bits < 64 && v >= 2 ** bits) throw new DecodeError(`field ${key}: integer overflow`);
  return v;
}

/** Reads a signed integer field (Go int/int32/int64). */
export function int(m: Fields, key: string): number {
  const v = m[key];
  if (v === undefined || v === null) return 0;
  if (typeof v === "bigint") return Number(v);
  if (typeof v !== "number" || !Number.isInteger(v)) throw new DecodeError(`field ${key}: expected an integer`);
  return v;
}

/** Reads a float field (ints accepted). */
export function float(m: Fields, key: string): number {
  const v = m[key];
  if (v === undefined || v === null) return 0;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  throw new DecodeError(`field ${key}: expected a number`);
}

/** Reads a bool field (0/1 accepted). */
export function bool(m: Fields, key: string): boolean {
  const v = m[key];
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (v === 0 || v === 1) return v === 1;
  throw new DecodeError(`field ${key}: expected a bool`);
}

/** Reads an array field (nil → empty). */
export function array(m: Fields, key: string): unknown[] {
  const v = m[key];
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  throw new DecodeError(`field ${key}: expected an array`);
}

/** Reads a Go `[]string` field. */
export function strings(m: Fields, key: string): string[] {
  return array(m, key).map((x, i) => str({ x }, "x") ?? String(i));
}

/** Reads a Go `map[string]string` field. */
export function stringMap(m: Fields, key: string): Record<string, string> {
  const v = m[key];
  if (v === undefined || v === null) return {};
  const src = asMap(v, `field ${key}`);
  const out: Record<string, string> = {};
  for (const k of Object.keys(src)) {
    // defineProperty keeps a "__proto__" tag key as data instead of a prototype change.
    Object.defineProperty(out, k, { value: str(src, k), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
