/**
 * Output formats of the Serf CLI: `columnize.SimpleFormat` tables,
 * `json.MarshalIndent(v, "", "  ")` (Go's HTML-safe string escaping, sorted
 * map keys, struct fields in declaration order) and `formatOutput`'s
 * text/json switch with its whitespace trim (`command/output.go`).
 *
 * @module
 */
import { compareCodePoints } from "./gofmt.ts";

/**
 * ryanuber/columnize `SimpleFormat`: each line is split at `|`, cells are
 * trimmed, every column but a line's last is left-aligned to the widest cell
 * (in runes) followed by two spaces; the final newline is dropped.
 */
export function columnize(lines: string[]): string {
  const rows = lines.map((l) => l.split("|").map((c) => c.trim()));
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      const len = runeLength(cell);
      if (widths[i] === undefined || widths[i] < len) widths[i] = len;
    });
  }
  const out = rows.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i] - runeLength(cell)) + "  ")).join(
      "",
    )
  );
  return out.join("\n");
}

function runeLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** A Go map for JSON: encoded with its keys sorted (plain objects keep their order, like structs). */
export class JsonMap {
  /** Wraps `entries`. */
  constructor(readonly entries: Record<string, unknown>) {}
}

/** A Go `string` holding arbitrary bytes (invalid UTF-8 is encoded as `\ufffd`). */
export class JsonBytes {
  /** Wraps `bytes`. */
  constructor(readonly bytes: Uint8Array) {}
}

/** Go's `json.MarshalIndent(v, "", "  ")`. `undefined`/`null` and empty `JsonMap`s of nil are `null`. */
export function marshalIndent(value: unknown): string {
  return encode(value, "");
}

function encode(v: unknown, indent: string): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return jsonString(v);
  if (v instanceof JsonBytes) return jsonString(new TextDecoder().decode(v.bytes), v.bytes);
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (typeof v === "boolean") return String(v);
  const inner = indent + "  ";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return "[\n" + v.map((x) => inner + encode(x, inner)).join(",\n") + "\n" + indent + "]";
  }
  let entries: [string, unknown][];
  if (v instanceof JsonMap) {
    entries = Object.entries(v.entries).sort(([a], [b]) => compareCodePoints(a, b));
  } else {
    entries = Object.entries(v as Record<string, unknown>);
  }
  if (entries.length === 0) return "{}";
  const body = entries.map(([k, x]) => `${inner}${jsonString(k)}: ${encode(x, inner)}`).join(",\n");
  return "{\n" + body + "\n" + indent + "}";
}

const HEX = "0123456789abcdef";

/**
 * Go's JSON string encoding with `escapeHTML` (go1.19): `\"`, `\\`, `\n`,
 * `\r`, `\t`, other control characters and `<`, `>`, `&` as `\u00XX`,
 * U+2028/U+2029 escaped. When `raw` is given, invalid UTF-8 in it becomes `\ufffd`.
 */
export function jsonString(s: string, raw?: Uint8Array): string {
  if (raw) s = decodeMarkingInvalid(raw);
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === INVALID_MARK) out += "\\ufffd";
    else if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&") out += "\\u00" + HEX[c >> 4] + HEX[c & 15];
    else if (c === 0x2028 || c === 0x2029) out += "\\u202" + HEX[c & 15];
    else if (c >= 0xd800 && c <= 0xdfff) out += "\\ufffd";
    else out += ch;
  }
  return out + '"';
}

/** A private-use code point standing for an invalid byte while encoding. */
const INVALID_MARK = 0x10fffe;

/** Decodes UTF-8, replacing each invalid sequence with INVALID_MARK (a real U+FFFD stays literal). */
function decodeMarkingInvalid(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const [cp, size] = decodeRune(bytes, i);
    out += String.fromCodePoint(cp < 0 ? INVALID_MARK : cp);
    i += size;
  }
  return out;
}

/** Go's `utf8.DecodeRune`: [rune, size], rune -1 for an invalid byte (size 1). */
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const c0 = b[i];
  if (c0 < 0x80) return [c0, 1];
  const cont = (k: number) => i + k < b.length && (b[i + k] & 0xc0) === 0x80;
  if (c0 >= 0xc2 && c0 <= 0xdf && cont(1)) return [((c0 & 0x1f) << 6) | (b[i + 1] & 0x3f), 2];
  if (c0 >= 0xe0 && c0 <= 0xef && cont(1) && cont(2)) {
    const cp = ((c0 & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
    if (cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff)) return [cp, 3];
  }
  if (c0 >= 0xf0 && c0 <= 0xf4 && cont(1) && cont(2) && cont(3)) {
    const cp = ((c0 & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
    if (cp >= 0x10000 && cp <= 0x10ffff) return [cp, 4];
  }
  return [-1, 1];
}

/** A value that can be printed in the `text` format. */
export interface TextFormattable {
  /** The text rendering (Go's `String()` method). */
  text(): string;
}

/**
 * `command/output.go:formatOutput`: `json` → MarshalIndent of `json`,
 * `text` → `data.text()`, trimmed; otherwise throws
 * `Invalid output format "<format>"`.
 */
export function formatOutput(data: TextFormattable, json: unknown, format: string): string {
  let out: string;
  if (format === "json") out = marshalIndent(json);
  else if (format === "text") out = data.text();
  else throw new Error(`Invalid output format "${format}"`);
  return goTrimSpace(out);
}

const WS = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const GO_SPACE = new RegExp(`^[${WS}]+|[${WS}]+$`, "g");

/** Go's `strings.TrimSpace` (`unicode.IsSpace`). */
export function goTrimSpace(s: string): string {
  return s.replace(GO_SPACE, "");
}
