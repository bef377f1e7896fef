/**
 * Decoding JSON the way Serf reads config files: `json.NewDecoder(r).Decode(&raw)`
 * into `interface{}`. Only the first value is read (trailing bytes are
 * ignored), numbers become float64, and errors carry Go's texts
 * (`EOF`, `unexpected EOF`, `invalid character 'x' after object key`, ...).
 *
 * @module
 */
import { goQuote } from "./gofmt.ts";

/** A decoded JSON value (objects have a null prototype). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Go's `json.SyntaxError` / `io.EOF` / `io.ErrUnexpectedEOF` text. */
export class GoJsonError extends Error {}

class UnexpectedEof extends Error {}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Go's scanner `quoteChar`. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  const q = goQuote(String.fromCodePoint(c));
  return "'" + q.slice(1, -1) + "'";
}

/** Decodes the first JSON value in `bytes` like Go's `json.Decoder.Decode` into `interface{}`. */
export function decodeGoJson(bytes: Uint8Array): JsonValue {
  const p = new Parser(bytes);
  p.skipWs();
  if (p.pos >= bytes.length) throw new GoJsonError("EOF");
  try {
    const v = p.value("looking for beginning of value");
    p.checkNumbers();
    return v;
  } catch (e) {
    if (e instanceof UnexpectedEof) throw new GoJsonError("unexpected EOF");
    throw e;
  }
}

class Parser {
  pos = 0;
  #badNumber: string | undefined;

  constructor(readonly b: Uint8Array) {}

  skipWs(): void {
    while (this.pos < this.b.length && WS.has(this.b[this.pos])) this.pos++;
  }

  /** The next byte (after whitespace), throwing unexpected EOF at the end. */
  peek(): number {
    this.skipWs();
    if (this.pos >= this.b.length) throw new UnexpectedEof();
    return this.b[this.pos];
  }

  fail(c: number, context: string): never {
    throw new GoJsonError(`invalid character ${quoteChar(c)} ${context}`);
  }

  value(context: string): JsonValue {
    const c = this.peek();
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) return this.literal("true", true);
    if (c === 0x66) return this.literal("false", false);
    if (c === 0x6e) return this.literal("null", null);
    this.fail(c, context);
  }

  object(): JsonValue {
    this.pos++;
    const out: { [key: string]: JsonValue } = Object.create(null);
    let c = this.peek();
    if (c === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (c !== 0x22) this.fail(c, "looking for beginning of object key string");
      const key = this.string();
      c = this.peek();
      if (c !== 0x3a) this.fail(c, "after object key");
      this.pos++;
      out[key] = this.value("looking for beginning of value");
      c = this.peek();
      this.pos++;
      if (c === 0x7d) return out;
      if (c !== 0x2c) this.fail(c, "after object key:value pair");
      c = this.peek();
    }
  }

  array(): JsonValue {
    this.pos++;
    const out: JsonValue[] = [];
    let c = this.peek();
    if (c === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value("looking for beginning of value"));
      c = this.peek();
      this.pos++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.fail(c, "after array element");
    }
  }

  next(): number {
    if (this.pos >= this.b.length) throw new UnexpectedEof();
    return this.b[this.pos++];
  }

  string(): string {
    this.pos++;
    const start = this.pos;
    let simple = true;
    for (;;) {
      const c = this.next();
      if (c === 0x22) break;
      if (c === 0x5c) {
        simple = false;
        const e = this.next();
        if (e === 0x75) {
          for (let i = 0; i < 4; i++) {
            const h = this.next();
            if (!isHex(h)) this.fail(h, "in \\u hexadecimal character escape");
          }
        } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) this.fail(e, "in string escape code");
      } else if (c < 0x20) this.fail(c, "in string literal");
    }
    const raw = this.b.subarray(start, this.pos - 1);
    return simple ? new TextDecoder().decode(raw) : unescape(raw);
  }

  number(): number {
    const start = this.pos;
    const at = () => (this.pos < this.b.length ? this.b[this.pos] : -1);
    const digit = (c: number) => c >= 0x30 && c <= 0x39;
    // At EOF a number simply ends (the Decoder sees the end of input).
    if (at() === 0x2d) {
      this.pos++;
      const c = at();
      if (c < 0) throw new UnexpectedEof();
      if (!digit(c)) this.fail(c, "in numeric literal");
    }
    if (at() === 0x30) this.pos++;
    else while (digit(at())) this.pos++;
    if (at() === 0x2e) {
      this.pos++;
      const c = at();
      if (c < 0) throw new UnexpectedEof();
      if (!digit(c)) this.fail(c, "after decimal point in numeric literal");
      while (digit(at())) this.pos++;
    }
    if (at() === 0x65 || at() === 0x45) {
      this.pos++;
      if (at() === 0x2b || at() === 0x2d) this.pos++;
      const c = at();
      if (c < 0) throw new UnexpectedEof();
      if (!digit(c)) this.fail(c, "in exponent of numeric literal");
      while (digit(at())) this.pos++;
    }
    const text = new TextDecoder().decode(this.b.subarray(start, this.pos));
    const n = Number(text);
    if (!Number.isFinite(n)) this.#badNumber ??= text;
    return n;
  }

  /** Go reports an out-of-range number only after the whole value scanned cleanly. */
  checkNumbers(): void {
    if (this.#badNumber !== undefined) {
      throw new GoJsonError(`json: cannot unmarshal number ${this.#badNumber} into Go value of type float64`);
    }
  }

  literal<T extends JsonValue>(word: string, v: T): T {
    this.pos++;
    for (let i = 1; i < word.length; i++) {
      const c = this.next();
      if (c !== word.charCodeAt(i)) this.fail(c, `in literal ${word} (expecting '${word[i]}')`);
    }
    return v;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Decodes the escapes of a validated string body (lone surrogates become U+FFFD). */
function unescape(raw: Uint8Array): string {
  let out = "";
  let i = 0;
  let chunk = 0;
  const flush = (end: number) => {
    out += new TextDecoder().decode(raw.subarray(chunk, end));
  };
  while (i < raw.length) {
    if (raw[i] !== 0x5c) {
      i++;
      continue;
    }
    flush(i);
    const e = raw[i + 1];
    if (e === 0x75) {
      let cp = parseInt(new TextDecoder().decode(raw.subarray(i + 2, i + 6)), 16);
      i += 6;
      if (cp >= 0xd800 && cp < 0xdc00 && raw[i] === 0x5c && raw[i + 1] === 0x75) {
        const lo = parseInt(new TextDecoder().decode(raw.subarray(i + 2, i + 6)), 16);
        if (lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          i += 6;
        }
      }
      out += cp >= 0xd800 && cp < 0xe000 ? "\ufffd" : String.fromCodePoint(cp);
    } else {
      const map: Record<number, string> = { 0x62: "\b", 0x66: "\f", 0x6e: "\n", 0x72: "\r", 0x74: "\t" };
      out += map[e] ?? String.fromCharCode(e);
      i += 2;
    }
    chunk = i;
  }
  flush(raw.length);
  return out;
}
