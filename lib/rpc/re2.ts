/**
 * Go (RE2) regular expressions translated to JavaScript `RegExp`s with the
 * same meaning, for `members-filtered` (Go's `regexp.Compile`, Perl flags).
 *
 * The translation parses RE2 syntax the way Go's `regexp/syntax` does and
 * emits an equivalent `u`-mode JS pattern: literals as `\u{..}` escapes,
 * ASCII-only `\s`/`\b`/POSIX classes expanded to code point ranges, `.`
 * excluding only `\n`, `^`/`$` as text anchors (or line anchors under
 * `(?m)`), `(?s)` and `(?U)` applied at translation time, `(?i)` mapped to
 * JS modifier groups `(?i:..)`. Syntax Go rejects is rejected with Go's
 * error text ("error parsing regexp: missing closing ): `^(a$`").
 *
 * Known gaps: negated Unicode classes under `(?i)` are rejected with
 * {@link Re2SyntaxError} rather than mistranslated; Unicode script names
 * follow the JS engine's list (which also accepts short aliases); `\b`
 * under `(?i)` follows JS (it treats U+017F and U+212A as word characters).
 *
 * @module
 */

/** A syntax error, worded like Go's `*syntax.Error`. */
export class Re2SyntaxError extends Error {
  /** Creates the error with Go's error code text and the offending expression. */
  constructor(readonly code: string, readonly expr: string) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
    this.name = "Re2SyntaxError";
  }
}

const E = {
  charRange: "invalid character class range",
  escape: "invalid escape sequence",
  namedCapture: "invalid named capture",
  perlOp: "invalid or unsupported Perl syntax",
  repeatOp: "invalid nested repetition operator",
  repeatSize: "invalid repeat count",
  bracket: "missing closing ]",
  paren: "missing closing )",
  repeatArg: "missing argument to repetition operator",
  trailing: "trailing backslash at end of expression",
  unexpectedParen: "unexpected )",
} as const;

type Ranges = Array<[number, number]>;

const MAX_RUNE = 0x10ffff;
const PERL: Record<string, Ranges> = {
  d: [[0x30, 0x39]],
  s: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]],
  w: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
};
const POSIX: Record<string, Ranges> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};
/** Go's `unicode.Categories` keys. */
const CATEGORIES = new Set(
  "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs".split(" "),
);

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

interface Group {
  saved: Flags;
  /** JS case-insensitivity in force right after the group opened. */
  baseI: boolean;
  /** Modifier groups opened by `(?i)`-style directives inside this group. */
  wraps: number;
  /** Index in the output where the group starts. */
  open: number;
  /** Largest nested counted-repetition product inside (Go's 1000 limit). */
  mult: number;
}

interface Atom {
  start: number;
  end: number;
  quantified: boolean;
  mult: number;
}

/** A code point as a JS `u`-mode pattern fragment, valid in and out of classes. */
function lit(cp: number): string {
  const isWord = (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f;
  return isWord ? String.fromCodePoint(cp) : `\\u{${cp.toString(16)}}`;
}

function rangesToClassBody(r: Ranges): string {
  return r.map(([lo, hi]) => (lo === hi ? lit(lo) : `${lit(lo)}-${lit(hi)}`)).join("");
}

function complement(r: Ranges): Ranges {
  const sorted = [...r].sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
}

/** Adds the case variants Go's folding gives ASCII letters (incl. U+017F ſ and U+212A K). */
function foldAscii(r: Ranges): Ranges {
  const out: Ranges = [...r];
  const has = (c: number) => r.some(([lo, hi]) => c >= lo && c <= hi);
  for (let c = 0x41; c <= 0x5a; c++) {
    if (has(c) || has(c + 32)) out.push([c, c], [c + 32, c + 32]);
  }
  if (has(0x73) || has(0x53)) out.push([0x17f, 0x17f]);
  if (has(0x6b) || has(0x4b)) out.push([0x212a, 0x212a]);
  return out;
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9A-Fa-f]$/.test(c);
}

function isAlnum(c: string): boolean {
  return /^[0-9A-Za-z]$/.test(c);
}

/** Translates one RE2 pattern; see {@link translateRe2}. */
class Translator {
  readonly #src: string[];
  #pos = 0;
  readonly #out: string[] = [];
  #flags: Flags = { i: false, m: false, s: false, U: false };
  readonly #groups: Group[] = [];
  #atom: Atom | null = null;
  #lastRepeat = "";

  constructor(readonly pattern: string) {
    this.#src = Array.from(pattern);
    this.#groups.push({ saved: { ...this.#flags }, baseI: false, wraps: 0, open: 0, mult: 1 });
  }

  run(): string {
    while (this.#pos < this.#src.length) this.#token();
    if (this.#groups.length !== 1) throw new Re2SyntaxError(E.paren, this.pattern);
    this.#out.push(")".repeat(this.#top().wraps));
    return this.#out.join("");
  }

  #top(): Group {
    return this.#groups[this.#groups.length - 1];
  }

  #rest(from: number): string {
    return this.#src.slice(from).join("");
  }

  #text(from: number, to = this.#pos): string {
    return this.#src.slice(from, to).join("");
  }

  #emitAtom(s: string, mult = 1): void {
    const start = this.#out.length;
    this.#out.push(s);
    this.#atom = { start, end: this.#out.length, quantified: false, mult };
    this.#lastRepeat = "";
    const g = this.#top();
    g.mult = Math.max(g.mult, mult);
  }

  #token(): void {
    const c = this.#src[this.#pos];
    switch (c) {
      case "(":
        return this.#src[this.#pos + 1] === "?" ? this.#perlGroup() : this.#openGroup("(", 1);
      case ")":
        return this.#closeGroup();
      case "|":
        return this.#bar();
      case "^":
        this.#pos++;
        return this.#emitAtom(this.#flags.m ? "(?:(?<![^\\u{a}]))" : "(?:^)");
      case "$":
        this.#pos++;
        return this.#emitAtom(this.#flags.m ? "(?:(?![^\\u{a}]))" : "(?:$)");
      case ".":
        this.#pos++;
        return this.#emitAtom(this.#flags.s ? "[^]" : "[^\\u{a}]");
      case "[":
        return this.#emitAtom(this.#class());
      case "*":
      case "+":
      case "?":
        this.#pos++;
        return this.#repeat(c, c === "*" ? 0 : c === "+" ? 1 : 0, c === "?" ? 1 : -1, false);
      case "{":
        return this.#brace();
      case "\\":
        return this.#escapeToken();
      default:
        this.#pos++;
        return this.#emitAtom(lit(c.codePointAt(0)!));
    }
  }

  #openGroup(js: string, skip: number, newFlags?: Flags): void {
    this.#pos += skip;
    const saved = { ...this.#flags };
    if (newFlags) this.#flags = newFlags;
    this.#groups.push({ saved, baseI: this.#flags.i, wraps: 0, open: this.#out.length, mult: 1 });
    this.#out.push(js);
    this.#atom = null;
    this.#lastRepeat = "";
  }

  #closeGroup(): void {
    if (this.#groups.length === 1) throw new Re2SyntaxError(E.unexpectedParen, this.pattern);
    this.#pos++;
    const g = this.#groups.pop()!;
    this.#out.push(")".repeat(g.wraps) + ")");
    this.#flags = g.saved;
    const start = g.open;
    // The group's parts live at out[start..end); merge them so later splices see one atom.
    const merged = this.#out.splice(start).join("");
    this.#out.push(merged);
    this.#atom = { start, end: start + 1, quantified: false, mult: g.mult };
    this.#lastRepeat = "";
    const parent = this.#top();
    parent.mult = Math.max(parent.mult, g.mult);
  }

  #bar(): void {
    this.#pos++;
    const g = this.#top();
    this.#out.push(")".repeat(g.wraps) + "|");
    g.wraps = 0;
    if (this.#flags.i !== g.baseI) {
      this.#out.push(this.#flags.i ? "(?i:" : "(?-i:");
      g.wraps = 1;
    }
    this.#atom = null;
    this.#lastRepeat = "";
  }

  /** `(?P<name>`, `(?flags)`, `(?flags:`. */
  #perlGroup(): void {
    const start = this.#pos;
    const s = this.#src;
    if (s[start + 2] === "P" && s[start + 3] === "<" && s.length - start > 4) {
      const end = s.indexOf(">", start + 4);
      if (end < 0) throw new Re2SyntaxError(E.namedCapture, this.#rest(start));
      const name = this.#text(start + 4, end);
      if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Re2SyntaxError(E.namedCapture, this.#text(start, end + 1));
      return this.#openGroup("(", end + 1 - start);
    }
    const flags = { ...this.#flags };
    let sign = 1;
    let sawFlag = false;
    let p = start + 2;
    while (p < s.length) {
      const c = s[p++];
      if (c === "i" || c === "m" || c === "s" || c === "U") {
        flags[c] = sign > 0;
        sawFlag = true;
      } else if (c === "-" && sign > 0) {
        sign = -1;
        sawFlag = false;
      } else if ((c === ":" || c === ")") && (sign > 0 || sawFlag)) {
        return c === ":" ? this.#flagGroup(flags, p - start) : this.#setFlags(flags, p - start);
      } else {
        throw new Re2SyntaxError(E.perlOp, this.#text(start, p));
      }
    }
    throw new Re2SyntaxError(E.perlOp, this.#text(start, p));
  }

  #flagGroup(flags: Flags, skip: number): void {
    const js = flags.i === this.#flags.i ? "(?:" : flags.i ? "(?i:" : "(?-i:";
    this.#openGroup(js, skip, flags);
  }

  #setFlags(flags: Flags, skip: number): void {
    this.#pos += skip;
    if (flags.i !== this.#flags.i) {
      this.#out.push(flags.i ? "(?i:" : "(?-i:");
      this.#top().wraps++;
    }
    this.#flags = flags;
    this.#lastRepeat = "";
  }

  #brace(): void {
    const start = this.#pos;
    const m = /^\{(0|[1-9][0-9]*)(,((0|[1-9][0-9]*))?)?\}/.exec(this.#rest(start));
    if (!m) {
      this.#pos++;
      return this.#emitAtom(lit(0x7b));
    }
    const min = m[1].length > 8 ? -1 : Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === undefined ? -1 : m[3].length > 8 ? 1e9 : Number(m[3]);
    this.#pos += Array.from(m[0]).length;
    if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max)) {
      throw new Re2SyntaxError(E.repeatSize, m[0]);
    }
    this.#repeat(m[0], min, max, true);
  }

  /** Applies a repetition operator to the last atom. */
  #repeat(op: string, min: number, max: number, counted: boolean): void {
    let text = op;
    let lazy = this.#flags.U;
    if (this.#src[this.#pos] === "?") {
      this.#pos++;
      text += "?";
      lazy = !lazy;
    }
    if (this.#lastRepeat) throw new Re2SyntaxError(E.repeatOp, this.#lastRepeat + text);
    const atom = this.#atom;
    if (!atom) throw new Re2SyntaxError(E.repeatArg, text);
    let mult = atom.mult;
    if (counted) {
      const m = max === 0 ? 0 : max < 0 ? min : max;
      if ((min >= 2 || max >= 2) && m > 0 && m * atom.mult > 1000) throw new Re2SyntaxError(E.repeatSize, op);
      mult = m === 0 ? 0 : m * atom.mult;
    }
    let body = this.#out.slice(atom.start, atom.end).join("");
    if (atom.quantified) body = `(?:${body})`;
    const quant = op + (lazy ? "?" : "");
    this.#out.splice(atom.start, atom.end - atom.start, body + quant);
    this.#atom = { start: atom.start, end: atom.start + 1, quantified: true, mult };
    this.#lastRepeat = text;
    const g = this.#top();
    g.mult = Math.max(g.mult, mult);
  }

  #escapeToken(): void {
    const start = this.#pos;
    const next = this.#src[start + 1];
    const simple: Record<string, string> = { A: "(?:^)", z: "(?:$)", b: "(?:\\b)", B: "(?:\\B)" };
    if (next !== undefined && simple[next]) {
      this.#pos += 2;
      return this.#emitAtom(simple[next]);
    }
    if (next === "C") throw new Re2SyntaxError(E.escape, "\\C");
    if (next === "Q") return this.#quoted();
    if (next === "p" || next === "P") return this.#emitAtom(this.#unicodeClass(false));
    if (next !== undefined && "dDsSwW".includes(next)) {
      this.#pos += 2;
      const js: Record<string, string> = {
        d: "\\d",
        D: "\\D",
        w: "\\w",
        W: "\\W",
        s: `[${rangesToClassBody(PERL.s)}]`,
        S: `[^${rangesToClassBody(PERL.s)}]`,
      };
      return this.#emitAtom(js[next]);
    }
    this.#emitAtom(lit(this.#escape()));
  }

  #quoted(): void {
    this.#pos += 2;
    this.#lastRepeat = "";
    while (this.#pos < this.#src.length) {
      if (this.#src[this.#pos] === "\\" && this.#src[this.#pos + 1] === "E") {
        this.#pos += 2;
        return;
      }
      this.#emitAtom(lit(this.#src[this.#pos++].codePointAt(0)!));
    }
  }

  /** An ordinary escape (Go's `parseEscape`) → its code point. */
  #escape(): number {
    const start = this.#pos;
    const s = this.#src;
    const c = s[start + 1];
    if (c === undefined) throw new Re2SyntaxError(E.trailing, "");
    this.#pos += 2;
    const bad = () => new Re2SyntaxError(E.escape, this.#text(start));
    const octal = (d: string | undefined) => d !== undefined && d >= "0" && d <= "7";
    if (c >= "1" && c <= "7" && !octal(s[this.#pos])) throw bad();
    if (c >= "0" && c <= "7") {
      let r = c.charCodeAt(0) - 48;
      for (let i = 1; i < 3 && octal(s[this.#pos]); i++) r = r * 8 + s[this.#pos++].charCodeAt(0) - 48;
      return r;
    }
    if (c === "x") return this.#hexEscape(start);
    const named: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
    if (named[c] !== undefined) return named[c];
    if (c.codePointAt(0)! < 0x80 && !isAlnum(c)) return c.charCodeAt(0);
    throw bad();
  }

  #hexEscape(start: number): number {
    const s = this.#src;
    const bad = () => new Re2SyntaxError(E.escape, this.#text(start));
    if (s[this.#pos] === "{") {
      this.#pos++;
      let r = 0;
      let n = 0;
      while (true) {
        const d = s[this.#pos++];
        if (d === undefined) {
          this.#pos--;
          throw bad();
        }
        if (d === "}") break;
        if (!isHex(d) || (r = r * 16 + parseInt(d, 16)) > MAX_RUNE) throw bad();
        n++;
      }
      if (n === 0) throw bad();
      return r;
    }
    const a = s[this.#pos];
    const b = s[this.#pos + 1];
    this.#pos += Math.min(2, s.length - this.#pos);
    if (!isHex(a) || !isHex(b)) throw bad();
    return parseInt(a + b, 16);
  }

  /** `\pL`, `\p{Greek}`, `\PL`, `\p{^Greek}` → a JS property escape (or Any). */
  #unicodeClass(inClass: boolean): string {
    const start = this.#pos;
    const s = this.#src;
    let negate = s[start + 1] === "P";
    let name: string;
    if (s[start + 2] === undefined) throw new Re2SyntaxError(E.charRange, this.#text(start));
    if (s[start + 2] !== "{") {
      name = s[start + 2];
      this.#pos = start + 3;
    } else {
      const end = s.indexOf("}", start + 3);
      if (end < 0) throw new Re2SyntaxError(E.charRange, this.#rest(start));
      name = this.#text(start + 3, end);
      this.#pos = end + 1;
    }
    const seq = this.#text(start);
    if (name.startsWith("^")) {
      negate = !negate;
      name = name.slice(1);
    }
    if (negate && this.#flags.i) throw new Re2SyntaxError(E.charRange, `${seq} under (?i) (not supported by serf-ts)`);
    if (name === "Any") {
      if (inClass) return negate ? "" : `${lit(0)}-${lit(MAX_RUNE)}`;
      return negate ? "[]" : "[^]";
    }
    let js: string;
    if (CATEGORIES.has(name)) js = `${negate ? "\\P" : "\\p"}{${name}}`;
    else if (/^[A-Z][A-Za-z_]*$/.test(name)) js = `${negate ? "\\P" : "\\p"}{Script=${name}}`;
    else throw new Re2SyntaxError(E.charRange, seq);
    try {
      new RegExp(js, "u");
    } catch {
      throw new Re2SyntaxError(E.charRange, seq);
    }
    return js;
  }

  /** A bracketed class (Go's `parseClass`) → a JS class. */
  #class(): string {
    const whole = this.#pos;
    const s = this.#src;
    this.#pos++;
    let negated = false;
    if (s[this.#pos] === "^") {
      negated = true;
      this.#pos++;
    }
    const parts: string[] = [];
    let first = true;
    while (this.#pos >= s.length || s[this.#pos] !== "]" || first) {
      if (this.#pos >= s.length) throw new Re2SyntaxError(E.bracket, this.#rest(whole));
      first = false;
      parts.push(this.#classItem(whole));
    }
    this.#pos++;
    return `[${negated ? "^" : ""}${parts.join("")}]`;
  }

  #classItem(whole: number): string {
    const s = this.#src;
    const p = this.#pos;
    if (s[p] === "[" && s[p + 1] === ":") {
      const close = this.#rest(p + 2).indexOf(":]");
      if (close >= 0) {
        const inner = this.#text(p + 2, p + 2 + Array.from(this.#rest(p + 2).slice(0, close)).length);
        const neg = inner.startsWith("^");
        const table = POSIX[neg ? inner.slice(1) : inner];
        const nameText = `[:${inner}:]`;
        if (!table) throw new Re2SyntaxError(E.charRange, nameText);
        this.#pos = p + Array.from(nameText).length;
        return this.#groupRanges(table, neg);
      }
    }
    if (s[p] === "\\" && (s[p + 1] === "p" || s[p + 1] === "P")) return this.#unicodeClass(true);
    if (s[p] === "\\" && s[p + 1] !== undefined && "dDsSwW".includes(s[p + 1])) {
      this.#pos += 2;
      const c = s[p + 1];
      if (c === "D" || c === "W") return `\\${c}`; // JS matches Go here, folding included
      return this.#groupRanges(PERL[c.toLowerCase()], c === "S");
    }
    const lo = this.#classChar(whole);
    let hi = lo;
    if (s[this.#pos] === "-" && s[this.#pos + 1] !== undefined && s[this.#pos + 1] !== "]") {
      this.#pos++;
      hi = this.#classChar(whole);
      if (hi < lo) throw new Re2SyntaxError(E.charRange, this.#text(p));
    }
    return rangesToClassBody([[lo, hi]]);
  }

  #classChar(whole: number): number {
    const c = this.#src[this.#pos];
    if (c === undefined) throw new Re2SyntaxError(E.bracket, this.#rest(whole));
    if (c === "\\") return this.#escape();
    this.#pos++;
    return c.codePointAt(0)!;
  }

  /** A Perl/POSIX group inside a class; negated ones are spelled out (folded under (?i), as Go does). */
  #groupRanges(table: Ranges, negate: boolean): string {
    if (!negate) return rangesToClassBody(table);
    return rangesToClassBody(complement(this.#flags.i ? foldAscii(table) : table));
  }
}

/**
 * Translates an RE2 pattern to the source of an equivalent JS `u`-mode
 * pattern. Throws {@link Re2SyntaxError} for patterns Go rejects.
 */
export function translateRe2(pattern: string): string {
  return new Translator(pattern).run();
}

/**
 * Compiles an RE2 pattern (Go's `regexp.Compile`) to a JS RegExp.
 *
 * @example
 * ```ts
 * compileRe2("^web-[0-9]+$").test("web-12"); // true
 * ```
 */
export function compileRe2(pattern: string): RegExp {
  const source = translateRe2(pattern);
  try {
    return new RegExp(source, "u");
  } catch (e) {
    throw new Re2SyntaxError(E.perlOp, `${pattern} (${(e as Error).message})`);
  }
}
