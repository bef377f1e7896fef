/**
 * The bits of Go's `fmt`/`strconv` text formatting that reach the user:
 * `%q` (strconv.Quote), `%v` of float64, `%#v` of the values the Go RPC
 * client decodes from msgpack (what `serf monitor` prints), `%.Nf`, and
 * `net.IP`/`net.TCPAddr` strings.
 *
 * @module
 */

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/** Go's `strconv.Quote`: double-quoted, escaping what `unicode.IsPrint` rejects. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\\ufffd";
    else if (PRINTABLE.test(ch)) out += ch;
    else out += escapeRune(cp);
  }
  return out + '"';
}

function escapeRune(cp: number): string {
  switch (cp) {
    case 7:
      return "\\a";
    case 8:
      return "\\b";
    case 12:
      return "\\f";
    case 10:
      return "\\n";
    case 13:
      return "\\r";
    case 9:
      return "\\t";
    case 11:
      return "\\v";
  }
  if (cp < 0x20 || cp === 0x7f) return "\\x" + hex(cp, 2);
  if (cp < 0x10000) return "\\u" + hex(cp, 4);
  return "\\U" + hex(cp, 8);
}

/** Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)` with %e from exponent 6 up or below -4). */
export function goFloatV(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (!Number.isFinite(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const [mant, expText] = f.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp);
    return `${mant}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" + e : e}`;
  }
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const dp = exp + 1;
  let body: string;
  if (dp <= 0) body = "0." + "0".repeat(-dp) + digits;
  else if (dp >= digits.length) body = digits + "0".repeat(dp - digits.length);
  else body = digits.slice(0, dp) + "." + digits.slice(dp);
  return (neg ? "-" : "") + body;
}

/**
 * Go's `%.<prec>f`: correctly rounded, ties to even (JS `toFixed` rounds
 * exact ties away from zero).
 */
export function goFixed(f: number, prec: number): string {
  if (!Number.isFinite(f) || Math.abs(f) >= 1e21) return f.toFixed(prec);
  const twice = exactTwiceScaled(Math.abs(f), prec);
  if (twice === undefined || twice % 2n === 0n) return f.toFixed(prec);
  // An exact tie: Go rounds to even.
  const floor = (twice - 1n) / 2n;
  const even = floor % 2n === 0n ? floor : floor + 1n;
  const digits = even.toString().padStart(prec + 1, "0");
  const body = prec === 0 ? digits : digits.slice(0, -prec) + "." + digits.slice(-prec);
  return (f < 0 && even !== 0n ? "-" : "") + body;
}

/** `2 * f * 10^prec` when that is an exact integer, else undefined. */
function exactTwiceScaled(f: number, prec: number): bigint | undefined {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, f);
  const bits = view.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let exp = -1074;
  if (expBits !== 0) {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  const num = mant * 10n ** BigInt(prec);
  const shift = exp + 1;
  if (shift >= 0) return num << BigInt(shift);
  const div = 1n << BigInt(-shift);
  return num % div === 0n ? num / div : undefined;
}

/**
 * Go's `%#v` of a value decoded by go-msgpack into `interface{}` (strings,
 * `[]byte`, int64 for small ints, uint64 from 128 up, bool, nil, slices,
 * `map[interface{}]interface{}`). `top` selects the spelling of a byte slice
 * and of nil, which differ between a direct argument and a nested value.
 */
export function goSharpV(v: unknown, top = true): string {
  if (v === null || v === undefined) return top ? "<nil>" : "interface {}(nil)";
  if (typeof v === "string") return goQuote(v);
  if (typeof v === "boolean") return String(v);
  if (typeof v === "bigint") return v >= 128n ? "0x" + v.toString(16) : v.toString();
  if (typeof v === "number") {
    if (!Number.isInteger(v)) return goFloatV(v);
    return v >= 128 ? "0x" + v.toString(16) : String(v);
  }
  if (v instanceof Uint8Array) {
    const items = Array.from(v, (b) => "0x" + b.toString(16)).join(", ");
    return `${top ? "[]byte" : "[]uint8"}{${items}}`;
  }
  if (Array.isArray(v)) return `[]interface {}{${v.map((x) => goSharpV(x, false)).join(", ")}}`;
  if (typeof v === "object") {
    const rec = v as Record<string, unknown>;
    const keys = Object.keys(rec).sort(compareCodePoints);
    const items = keys.map((k) => `${goQuote(k)}:${goSharpV(rec[k], false)}`).join(", ");
    return `map[interface {}]interface {}{${items}}`;
  }
  return String(v);
}

/** Orders strings as Go does (by UTF-8 bytes, i.e. by code point). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** Go's `net.IP.String()` for a 4- or 16-byte address (IPv4-mapped v6 as dotted quad). */
export function goIpString(ip: Uint8Array): string {
  if (ip.length === 0) return "<nil>";
  if (ip.length === 4) return Array.from(ip).join(".");
  if (ip.length !== 16) return "?" + Array.from(ip, (b) => hex(b, 2)).join("");
  const mapped = ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
  if (mapped) return Array.from(ip.subarray(12)).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip[i] << 8) | ip[i + 1]);
  // Longest run of >= 2 zero groups becomes "::" (first one on ties).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i >= 2 && j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const text = (g: number[]) => g.map((x) => x.toString(16)).join(":");
  if (best < 0) return text(groups);
  return text(groups.slice(0, best)) + "::" + text(groups.slice(best + bestLen));
}

/** Go's `net.TCPAddr{IP, Port}.String()`. */
export function goTcpAddrString(ip: Uint8Array, port: number): string {
  if (ip.length === 0) return `:${port}`;
  const text = goIpString(ip);
  return text.includes(":") ? `[${text}]:${port}` : `${text}:${port}`;
}
