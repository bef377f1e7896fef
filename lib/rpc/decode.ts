/**
 * Reading decoded rpc-dialect msgpack values into request/response structs
 * with go-msgpack's rules (`RawToString: true`): a struct may arrive as a
 * map (unknown keys skipped, missing keys keep their value) or as an array
 * (positional, declaration order); nil means the zero struct; a Go `string`
 * takes str or nil (bin is an error); `[]byte` takes bin, str or nil.
 * Mismatches throw {@link DecodeError}.
 *
 * @module
 */
import { DecodeError } from "../codec/msgpack.ts";
import type { Fields } from "../codec/fields.ts";

/** A uint64 as decoded: a number, or a bigint above 2^53. */
export type U64 = number | bigint;

/**
 * Views `v` as a struct with the given field names (declaration order, for
 * array-encoded structs).
 */
export function struct(v: unknown, fields: readonly string[], what: string): Fields {
  if (v === null || v === undefined) return Object.create(null);
  if (Array.isArray(v)) {
    const out: Fields = Object.create(null);
    fields.forEach((f, i) => {
      if (i < v.length) out[f] = v[i];
    });
    return out;
  }
  if (typeof v === "object" && !(v instanceof Uint8Array)) return v as Fields;
  throw new DecodeError(`${what}: cannot decode ${describe(v)} into a struct`);
}

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return "bytes";
  return typeof v;
}

/** Whether the struct has the key (so a missing key can keep a previous value). */
export function has(m: Fields, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key);
}

/** A Go `string` field (str or nil). */
export function goString(m: Fields, key: string): string {
  return asString(m[key], key);
}

function asString(v: unknown, key: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  throw new DecodeError(`field ${key}: cannot decode ${describe(v)} into a string`);
}

/** A Go `[]byte` field; nil stays null. */
export function goBytes(m: Fields, key: string): Uint8Array | null {
  const v = m[key];
  if (v === undefined || v === null) return null;
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") return new TextEncoder().encode(v);
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0 && x < 256)) return Uint8Array.from(v);
  throw new DecodeError(`field ${key}: cannot decode ${describe(v)} into bytes`);
}

/** A Go `bool` field (true/false, 0/1 or nil). */
export function goBool(m: Fields, key: string): boolean {
  const v = m[key];
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (v === 0 || v === 1) return v === 1;
  throw new DecodeError(`field ${key}: cannot decode ${describe(v)} into a bool`);
}

/** A signed integer field limited to `bits`. */
export function goInt(m: Fields, key: string, bits: 8 | 16 | 32 | 64 = 64): number {
  const v = m[key];
  if (v === undefined || v === null) return 0;
  const n = typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined;
  if (n === undefined) throw new DecodeError(`field ${key}: cannot decode ${describe(v)} into an integer`);
  const lim = 1n << BigInt(bits - 1);
  if (n < -lim || n >= lim) throw new DecodeError(`field ${key}: integer overflow`);
  return Number(n);
}

/** An unsigned integer field limited to `bits`; uint64 keeps full precision as bigint when needed. */
export function goUint(m: Fields, key: string, bits: 8 | 16 | 32 | 64 = 64): U64 {
  const v = m[key];
  if (v === undefined || v === null) return 0;
  if (typeof v === "bigint") {
    if (v < 0n || v >= 1n << BigInt(bits)) throw new DecodeError(`field ${key}: integer overflow`);
    return v;
  }
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new DecodeError(`field ${key}: cannot decode ${describe(v)} into an unsigned integer`);
  }
  if (v < 0) throw new DecodeError(`field ${key}: negative value for an unsigned integer`);
  if (bits < 64 && v >= 2 ** bits) throw new DecodeError(`field ${key}: integer overflow`);
  return v;
}

/** A Go float64 field (ints accepted). */
export function goFloat(m: Fields, key: string): number {
  const v = m[key];
  if (v === undefined || v === null) return 0;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  throw new DecodeError(`field ${key}: cannot decode ${describe(v)} into a float`);
}

/** A Go `[]string` field (nil → []). */
export function goStrings(m: Fields, key: string): string[] {
  const v = m[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new DecodeError(`field ${key}: cannot decode ${describe(v)} into a slice`);
  return v.map((x) => asString(x, key));
}

/** A Go `[]float64` field (nil → []). */
export function goFloats(m: Fields, key: string): number[] {
  const v = m[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new DecodeError(`field ${key}: cannot decode ${describe(v)} into a slice`);
  return v.map((x) => goFloat({ x } as Fields, "x"));
}

/** A Go `map[string]string` field (nil → {}). */
export function goStringMap(m: Fields, key: string): Record<string, string> {
  return mapOf(m, key, (x) => asString(x, key));
}

/** A Go `map[string]int` field (nil → {}). */
export function goIntMap(m: Fields, key: string): Record<string, number> {
  return mapOf(m, key, (x) => goInt({ x } as Fields, "x"));
}

function mapOf<T>(m: Fields, key: string, conv: (x: unknown) => T): Record<string, T> {
  const v = m[key];
  const out: Record<string, T> = {};
  if (v === undefined || v === null) return out;
  if (typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array) {
    throw new DecodeError(`field ${key}: cannot decode ${describe(v)} into a map`);
  }
  for (const [k, x] of Object.entries(v as Fields)) out[k] = conv(x);
  return out;
}

/** Whether a decoded value has exactly the shape of a response header `{Seq, Error}`. */
export function isResponseHeader(v: unknown): v is Fields {
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array) return false;
  const keys = Object.keys(v);
  return keys.length === 2 && has(v as Fields, "Seq") && has(v as Fields, "Error");
}
