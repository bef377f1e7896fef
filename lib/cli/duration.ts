/**
 * Go's `time.ParseDuration` and `time.Duration.String`, exact to the
 * nanosecond (bigint) and with Go's error texts.
 *
 * @module
 */

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n, // U+00B5 micro sign
  "μs": 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX = 1n << 63n;
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/** Go's `time.quote` (used in duration errors): bytes outside printable ASCII as `\xNN`. */
function quote(s: string): string {
  let out = '"';
  for (const b of new TextEncoder().encode(s)) {
    if (b >= 0x80 || b < 0x20) out += "\\x" + b.toString(16).padStart(2, "0");
    else {
      const c = String.fromCharCode(b);
      out += c === '"' || c === "\\" ? "\\" + c : c;
    }
  }
  return out + '"';
}

/**
 * Parses a Go duration ("300ms", "-1.5h", "2h45m") into nanoseconds.
 * Throws `time: invalid duration "x"`, `time: missing unit in duration "1"`
 * or `time: unknown unit "d" in duration "1d"` as Go does.
 */
export function parseGoDuration(orig: string): bigint {
  const invalid = () => new Error("time: invalid duration " + quote(orig));
  let s = orig;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") throw invalid();
  let total = 0n;
  while (s !== "") {
    if (!(s[0] === "." || isDigit(s[0]))) throw invalid();
    let i = 0;
    let v = 0n;
    while (isDigit(s[i])) {
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > MAX) throw invalid();
      i++;
    }
    const pre = i > 0;
    s = s.slice(i);
    let frac = 0n;
    let scale = 1n;
    let post = false;
    if (s[0] === ".") {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      while (isDigit(s[j])) {
        if (!overflow) {
          const next = frac * 10n + BigInt(s.charCodeAt(j) - 48);
          if (frac > (MAX - 1n) / 10n || next > MAX) overflow = true;
          else [frac, scale] = [next, scale * 10n];
        }
        j++;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) throw invalid();
    let u = 0;
    while (u < s.length && s[u] !== "." && !isDigit(s[u])) u++;
    if (u === 0) throw new Error("time: missing unit in duration " + quote(orig));
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = UNITS[unitName];
    if (unit === undefined) throw new Error("time: unknown unit " + quote(unitName) + " in duration " + quote(orig));
    if (v > MAX / unit) throw invalid();
    v *= unit;
    if (frac > 0n) {
      // Go uses float64 here: float64(f) * (float64(unit) / scale), truncated.
      v += BigInt(Math.trunc(Number(frac) * (Number(unit) / Number(scale))));
      if (v > MAX) throw invalid();
    }
    total += v;
    if (total > MAX) throw invalid();
  }
  if (neg) return -total;
  if (total > MAX - 1n) throw invalid();
  return total;
}

/** Parses a Go duration into milliseconds (fractional below 1 ms). */
export function parseGoDurationMs(s: string): number {
  return Number(parseGoDuration(s)) / 1e6;
}

/** Go's `time.Duration.String()` for a duration in nanoseconds ("1h2m3.5s", "1.5ms", "0s"). */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    const [unit, div] = u < 1_000n ? ["ns", 1n] : u < 1_000_000n ? ["µs", 1_000n] : ["ms", 1_000_000n];
    out = fraction(u, div) + unit;
  } else {
    const secs = fraction(u % 60_000_000_000n, 1_000_000_000n) + "s";
    u /= 60_000_000_000n;
    if (u === 0n) out = secs;
    else {
      const mins = `${u % 60n}m${secs}`;
      u /= 60n;
      out = u === 0n ? mins : `${u}h${mins}`;
    }
  }
  return (neg ? "-" : "") + out;
}

/** `v / div` with the fractional digits Go prints (trailing zeros trimmed). */
function fraction(v: bigint, div: bigint): string {
  const whole = v / div;
  const rest = v % div;
  if (rest === 0n) return whole.toString();
  const width = div.toString().length - 1;
  return `${whole}.${rest.toString().padStart(width, "0").replace(/0+$/, "")}`;
}

/** Formats milliseconds as Go's `time.Duration.String()` would. */
export function formatGoDurationMs(ms: number): string {
  return formatGoDuration(BigInt(Math.round(ms * 1e6)));
}
