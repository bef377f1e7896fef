/**
 * msgpack in the two dialects of hashicorp/go-msgpack 0.5.5 that Serf speaks.
 *
 * - `"gossip"` (memberlist packets and streams, Serf messages, tags): strings
 *   **and** byte arrays use the str family (fixstr, str16, str32; never str8,
 *   never bin). Decoding yields every str/bin value as a `Uint8Array`; use
 *   the helpers in `fields.ts` to read a Go `string` field.
 * - `"rpc"` (the agent's IPC): strings use fixstr/str8/str16/str32 and byte
 *   arrays use bin8/16/32. Decoding yields str as `string`, bin as `Uint8Array`.
 *
 * Value mapping when encoding:
 * - `null`/`undefined` → nil (an object property that is `undefined` is
 *   omitted: that is how callers express Go's `omitempty`);
 * - `boolean` → true/false; integral `number` → smallest int form (positive:
 *   fixint/uint8..uint64; negative: negative fixint/int8..int64);
 *   non-integral `number` (or one beyond the 64-bit ranges) → float64; wrap
 *   in {@link F64} to force float64 for integral values (Go `float64`
 *   fields); `bigint` → uint64/int64 (RangeError beyond 64 bits);
 * - `string` → str; `Uint8Array` → str (gossip) or bin (rpc);
 * - arrays → array; `Map` → map in insertion order; plain objects → map with
 *   keys sorted byte-wise, as go-msgpack does for structs.
 *
 * Decoding: maps become null-prototype objects (keys must be str), integers
 * become `number` (or `bigint` beyond 2^53), floats `number`.
 *
 * @module
 */
import { bytesToText, utf8Text } from "./text.ts";

/** Which go-msgpack handle the bytes belong to. */
export type Dialect = "gossip" | "rpc";

/** Forces float64 encoding of a number (Go `float64` fields such as coordinates). */
export class F64 {
  /** Wraps `value`. */
  constructor(readonly value: number) {}
}

/** Shorthand for `new F64(v)`. */
export const f64 = (v: number): F64 => new F64(v);

/** Thrown for malformed msgpack; `truncated` means more bytes could complete it. */
export class DecodeError extends Error {
  /** Creates the error. */
  constructor(message: string, readonly truncated = false) {
    super(message);
    this.name = "DecodeError";
  }
}

const textEncoder = new TextEncoder();

/** Byte-wise comparison of two JS strings as UTF-8 (Go's sort order for struct keys). */
function compareBytewise(a: string, b: string): number {
  // For ASCII keys (all Go field names) code-unit order equals byte order.
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A growable msgpack writer. Several values can be written back to back
 * (streams are sequences of msgpack values).
 *
 * @example
 * ```ts
 * const bytes = new Encoder("gossip").write({ SeqNo: 1, Node: "a" }).bytes();
 * ```
 */
export class Encoder {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  /** Creates an encoder for `dialect`. */
  constructor(readonly dialect: Dialect) {}

  /** Size of the current buffer. */
  get capacity(): number {
    return this.#buf.length;
  }

  /** The bytes written so far (a copy-free view). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** Forgets what was written, keeping the buffer (for reuse). */
  reset(): this {
    this.#len = 0;
    return this;
  }

  /** Appends raw bytes (e.g. a message type byte). */
  raw(data: Uint8Array | number[]): this {
    const n = data.length;
    this.#ensure(n);
    if (n <= 16) {
      // A plain loop: for a few bytes it is cheaper than `set`.
      const buf = this.#buf;
      for (let i = 0, at = this.#len; i < n; i++) buf[at + i] = data[i];
    } else this.#buf.set(data, this.#len);
    this.#len += n;
    return this;
  }

  /** Appends one msgpack value. */
  write(value: unknown): this {
    this.#value(value, 0);
    return this;
  }

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #u8(b: number): void {
    this.#ensure(1);
    this.#buf[this.#len++] = b;
  }

  #u16(tag: number, v: number): void {
    this.#ensure(3);
    this.#buf[this.#len] = tag;
    this.#view.setUint16(this.#len + 1, v);
    this.#len += 3;
  }

  #u32(tag: number, v: number): void {
    this.#ensure(5);
    this.#buf[this.#len] = tag;
    this.#view.setUint32(this.#len + 1, v);
    this.#len += 5;
  }

  #value(v: unknown, depth: number): void {
    if (depth > 512) throw new Error("msgpack: value nested too deeply");
    if (v === null || v === undefined) return this.#u8(0xc0);
    switch (typeof v) {
      case "boolean":
        return this.#u8(v ? 0xc3 : 0xc2);
      case "number":
        // Integral doubles beyond the 64-bit ranges (e.g. 1e300) stay floats.
        return Number.isInteger(v) && v < 2 ** 64 && v >= -(2 ** 63) ? this.#int(v) : this.#float(v);
      case "bigint":
        return this.#bigint(v);
      case "string":
        return this.#string(v);
    }
    if (v instanceof F64) return this.#float(v.value);
    if (v instanceof Uint8Array) {
      return this.dialect === "rpc" ? this.#bin(v) : this.#str(v, false);
    }
    if (Array.isArray(v)) {
      this.#header(v.length, 0x90, 0xdc, 0xdd);
      for (const item of v) this.#value(item, depth + 1);
      return;
    }
    if (v instanceof Map) {
      this.#header(v.size, 0x80, 0xde, 0xdf);
      for (const [k, item] of v) {
        this.#value(k, depth + 1);
        this.#value(item, depth + 1);
      }
      return;
    }
    if (typeof v === "object") {
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj);
      // Callers mostly write their keys in Go's order already: check before sorting.
      let count = keys.length > 0 && obj[keys[0]] !== undefined ? 1 : 0;
      let sorted = true;
      for (let i = 1; i < keys.length; i++) {
        if (keys[i - 1] > keys[i]) sorted = false;
        if (obj[keys[i]] !== undefined) count++;
      }
      if (!sorted) keys.sort(compareBytewise);
      this.#header(count, 0x80, 0xde, 0xdf);
      for (let i = 0; i < keys.length; i++) {
        const item = obj[keys[i]];
        if (item === undefined) continue;
        this.#string(keys[i]);
        this.#value(item, depth + 1);
      }
      return;
    }
    throw new Error(`msgpack: cannot encode ${typeof v}`);
  }

  /** A JS string as str: short ASCII ones are written in place, others through TextEncoder. */
  #string(v: string): void {
    const n = v.length;
    if (n < 32) {
      this.#ensure(n + 1);
      const buf = this.#buf;
      const at = this.#len + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
      if (i === n) {
        buf[at - 1] = 0xa0 | n;
        this.#len = at + n;
        return;
      }
    }
    this.#str(textEncoder.encode(v), true);
  }

  #header(n: number, fix: number, t16: number, t32: number): void {
    if (n < 16) this.#u8(fix | n);
    else if (n < 0x10000) this.#u16(t16, n);
    else this.#u32(t32, n);
  }

  #int(v: number): void {
    if (v >= 0) {
      if (v < 128) return this.#u8(v);
      if (v < 0x100) {
        this.#u8(0xcc);
        return this.#u8(v);
      }
      if (v < 0x10000) return this.#u16(0xcd, v);
      if (v < 0x100000000) return this.#u32(0xce, v);
      return this.#bigint(BigInt(v));
    }
    if (v >= -32) return this.#u8(v & 0xff);
    if (v >= -128) {
      this.#u8(0xd0);
      return this.#u8(v & 0xff);
    }
    if (v >= -32768) {
      this.#ensure(3);
      this.#buf[this.#len] = 0xd1;
      this.#view.setInt16(this.#len + 1, v);
      this.#len += 3;
      return;
    }
    if (v >= -2147483648) {
      this.#ensure(5);
      this.#buf[this.#len] = 0xd2;
      this.#view.setInt32(this.#len + 1, v);
      this.#len += 5;
      return;
    }
    this.#bigint(BigInt(v));
  }

  #bigint(v: bigint): void {
    if (v >= 0n && v < 0x100000000n) return this.#int(Number(v));
    if (v < 0n && v >= -2147483648n) return this.#int(Number(v));
    if (v >= 1n << 64n || v < -(1n << 63n)) throw new RangeError(`msgpack: integer ${v} does not fit in 64 bits`);
    this.#ensure(9);
    if (v >= 0n) {
      this.#buf[this.#len] = 0xcf;
      this.#view.setBigUint64(this.#len + 1, v);
    } else {
      this.#buf[this.#len] = 0xd3;
      this.#view.setBigInt64(this.#len + 1, v);
    }
    this.#len += 9;
  }

  #float(v: number): void {
    this.#ensure(9);
    this.#buf[this.#len] = 0xcb;
    this.#view.setFloat64(this.#len + 1, v);
    this.#len += 9;
  }

  /** str family; `isString` selects whether str8 may be used (rpc strings only). */
  #str(bytes: Uint8Array, isString: boolean): void {
    const n = bytes.length;
    if (n < 32) this.#u8(0xa0 | n);
    else if (n < 0x100 && isString && this.dialect === "rpc") {
      this.#u8(0xd9);
      this.#u8(n);
    } else if (n < 0x10000) this.#u16(0xda, n);
    else this.#u32(0xdb, n);
    this.raw(bytes);
  }

  #bin(bytes: Uint8Array): void {
    const n = bytes.length;
    if (n < 0x100) {
      this.#u8(0xc4);
      this.#u8(n);
    } else if (n < 0x10000) this.#u16(0xc5, n);
    else this.#u32(0xc6, n);
    this.raw(bytes);
  }
}

/**
 * Encodes one value.
 *
 * @example
 * ```ts
 * encode({ Node: "a", SeqNo: 59 }, "gossip"); // 82 a4 "Node" a1 "a" a5 "SeqNo" 3b
 * ```
 */
export function encode(value: unknown, dialect: Dialect): Uint8Array {
  return withEncoder(dialect, (e) => e.write(value));
}

const scratch: Record<Dialect, Encoder | undefined> = { gossip: undefined, rpc: undefined };

/**
 * Runs `fill` on a reset, reused encoder of `dialect` and returns a copy of
 * what it wrote (`own` makes it from a view of the bytes; default: a fresh
 * copy): one allocation per message instead of an encoder's buffers.
 * A nested call (none is expected) gets a fresh encoder.
 *
 * @example
 * ```ts
 * const ping = withEncoder("gossip", (e) => e.raw([0]).write({ SeqNo: 1, Node: "a" }));
 * ```
 */
export function withEncoder(
  dialect: Dialect,
  fill: (e: Encoder) => unknown,
  own: (view: Uint8Array) => Uint8Array = (view) => view.slice(),
): Uint8Array {
  const shared = scratch[dialect];
  const e = shared ? shared.reset() : new Encoder(dialect);
  scratch[dialect] = undefined;
  try {
    fill(e);
    return own(e.bytes());
  } finally {
    // Keep the buffer unless it grew large (a big push/pull): that memory goes back.
    if (e.capacity <= 1 << 16) scratch[dialect] = e;
  }
}

/**
 * A msgpack reader over one buffer; `read()` can be called repeatedly to
 * consume a sequence of values. Throws {@link DecodeError} on malformed
 * input, with `truncated: true` when the buffer simply ends too early.
 *
 * @example
 * ```ts
 * const d = new Decoder(bytes, "gossip", 1); // skip a type byte
 * const body = d.read();
 * ```
 */
export class Decoder {
  #dataView?: DataView;
  readonly #share: boolean;
  /** Current read position. */
  offset: number;

  /**
   * Creates a reader of `buf` from `offset`. With `share`, str/bin values
   * come back as views into `buf` instead of copies: only for a `buf` that is
   * never written to afterwards, by callers that copy whatever they keep.
   */
  constructor(readonly buf: Uint8Array, readonly dialect: Dialect, offset = 0, share = false) {
    this.offset = offset;
    this.#share = share;
  }

  /** Whether str/bin values are views into `buf` (see the constructor). */
  get shares(): boolean {
    return this.#share;
  }

  /** A DataView over `buf`, made on first need (most values never read a float or a wide int). */
  get #view(): DataView {
    return this.#dataView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Bytes not yet consumed. */
  get remaining(): number {
    return this.buf.length - this.offset;
  }

  /** Reads one value. */
  read(): unknown {
    return this.#value(0);
  }

  #need(n: number): void {
    if (this.offset + n > this.buf.length) {
      throw new DecodeError("msgpack: unexpected end of data", true);
    }
  }

  #byte(): number {
    this.#need(1);
    return this.buf[this.offset++];
  }

  #bytes(n: number): Uint8Array {
    this.#need(n);
    const o = this.offset;
    this.offset += n;
    return this.#share ? this.buf.subarray(o, o + n) : this.buf.slice(o, o + n);
  }

  #len(size: 1 | 2 | 4): number {
    this.#need(size);
    const o = this.offset;
    const b = this.buf;
    this.offset += size;
    if (size === 1) return b[o];
    if (size === 2) return (b[o] << 8) | b[o + 1];
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }

  /** `n` bytes of UTF-8 text, read in place. */
  #text(n: number): string {
    this.#need(n);
    const o = this.offset;
    this.offset += n;
    return utf8Text(this.buf, o, o + n);
  }

  #value(depth: number): unknown {
    if (depth > 512) throw new DecodeError("msgpack: nested too deeply");
    const b = this.#byte();
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return this.#strValue(b & 0x1f);
    if (b >= 0x90 && b <= 0x9f) return this.#array(b & 0x0f, depth);
    if (b >= 0x80 && b <= 0x8f) return this.#map(b & 0x0f, depth);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.#bytes(this.#len(1));
      case 0xc5:
        return this.#bytes(this.#len(2));
      case 0xc6:
        return this.#bytes(this.#len(4));
      case 0xca: {
        this.#need(4);
        const f = this.#view.getFloat32(this.offset);
        this.offset += 4;
        return f;
      }
      case 0xcb: {
        this.#need(8);
        const f = this.#view.getFloat64(this.offset);
        this.offset += 8;
        return f;
      }
      case 0xcc:
        return this.#len(1);
      case 0xcd:
        return this.#len(2);
      case 0xce:
        return this.#len(4);
      case 0xcf: {
        this.#need(8);
        const n = this.#view.getBigUint64(this.offset);
        this.offset += 8;
        return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
      }
      case 0xd0: {
        this.#need(1);
        return this.#view.getInt8(this.offset++);
      }
      case 0xd1: {
        this.#need(2);
        const n = this.#view.getInt16(this.offset);
        this.offset += 2;
        return n;
      }
      case 0xd2: {
        this.#need(4);
        const n = this.#view.getInt32(this.offset);
        this.offset += 4;
        return n;
      }
      case 0xd3: {
        this.#need(8);
        const n = this.#view.getBigInt64(this.offset);
        this.offset += 8;
        return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
      }
      case 0xd9:
        return this.#strValue(this.#len(1));
      case 0xda:
        return this.#strValue(this.#len(2));
      case 0xdb:
        return this.#strValue(this.#len(4));
      case 0xdc:
        return this.#array(this.#len(2), depth);
      case 0xdd:
        return this.#array(this.#len(4), depth);
      case 0xde:
        return this.#map(this.#len(2), depth);
      case 0xdf:
        return this.#map(this.#len(4), depth);
    }
    throw new DecodeError(`msgpack: unsupported type byte 0x${b.toString(16)}`);
  }

  #strValue(n: number): string | Uint8Array {
    return this.dialect === "rpc" ? this.#text(n) : this.#bytes(n);
  }

  #array(n: number, depth: number): unknown[] {
    // Every element takes at least one byte: reject counts the buffer cannot hold.
    if (n > this.remaining) throw new DecodeError("msgpack: array length beyond data", true);
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.#value(depth + 1);
    return out;
  }

  #map(n: number, depth: number): Record<string, unknown> {
    if (n * 2 > this.remaining) throw new DecodeError("msgpack: map length beyond data", true);
    const out: Record<string, unknown> = Object.create(null);
    for (let i = 0; i < n; i++) {
      const key = this.#key(depth);
      out[key] = this.#value(depth + 1);
    }
    return out;
  }

  /** A map key: str keys are read straight into a string, anything else the general way. */
  #key(depth: number): string {
    if (depth < 512 && this.offset < this.buf.length) {
      const b = this.buf[this.offset];
      if (b >= 0xa0 && b <= 0xbf) {
        this.offset++;
        return this.#text(b & 0x1f);
      }
      if (b === 0xd9 || b === 0xda || b === 0xdb) {
        this.offset++;
        return this.#text(this.#len(b === 0xd9 ? 1 : b === 0xda ? 2 : 4));
      }
    }
    const k = this.#value(depth + 1);
    if (typeof k === "string") return k;
    if (k instanceof Uint8Array) return bytesToText(k);
    throw new DecodeError("msgpack: map key is not a string");
  }
}

/**
 * Decodes exactly one value starting at `offset`.
 *
 * @example
 * ```ts
 * const ping = decode(packet, "gossip", 1) as Record<string, unknown>;
 * ```
 */
export function decode(buf: Uint8Array, dialect: Dialect, offset = 0): unknown {
  return new Decoder(buf, dialect, offset).read();
}
