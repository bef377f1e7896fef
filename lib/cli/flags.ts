/**
 * A command-line parser with the semantics of Go's `flag` package
 * (`flag.ContinueOnError`), which every Serf command uses:
 *
 * - `-name=value`, `--name=value`, `-name value`, `--name value`;
 * - bool flags take only `-name` or `-name=<bool>` (`1 t T TRUE true True 0 f F FALSE false False`);
 * - parsing stops at the first non-flag argument, at `-` alone, or after `--`;
 * - `-h`/`-help` (when not defined) print the usage and fail with `help`;
 * - errors are printed (one line, to `output`) in Go's words, then the usage.
 *
 * @example
 * ```ts
 * const fs = new FlagSet({ usage: () => ui.output(help), output: io.stderr });
 * const node = fs.string("node", "");
 * const res = fs.parse(["--node", "foo", "rest"]);
 * // res.ok === true, node.value === "foo", fs.args() -> ["rest"]
 * ```
 *
 * @module
 */
import { goQuote } from "./gofmt.ts";
import { parseGoDuration } from "./duration.ts";

/** A parsed flag's current value (the default until parsed). */
export interface FlagRef<T> {
  value: T;
}

/** What `FlagSet.parse` reports. */
export type FlagParseResult =
  | { ok: true }
  | { ok: false; help: boolean; error: string };

interface FlagDef {
  isBool: boolean;
  /** Sets from text; returns Go's error text on failure. */
  set(text: string): string | undefined;
}

/** Options of a {@link FlagSet}. */
export interface FlagSetOptions {
  /** Prints the command's help (Serf commands print it with `Ui.Output`). */
  usage(): void;
  /** Where error lines go (Go's `FlagSet.Output()`, i.e. stderr). */
  output(text: string): void;
}

const PARSE_ERROR = "parse error";
const RANGE_ERROR = "value out of range";

/** A set of Go-style flags. */
export class FlagSet {
  #defs = new Map<string, FlagDef>();
  #rest: string[] = [];

  /** Creates an empty set. */
  constructor(private readonly opts: FlagSetOptions) {}

  /** Defines a string flag. */
  string(name: string, def: string): FlagRef<string> {
    const ref = { value: def };
    this.#define(name, false, (t) => void (ref.value = t));
    return ref;
  }

  /** Defines a bool flag. */
  bool(name: string, def: boolean): FlagRef<boolean> {
    const ref = { value: def };
    this.#define(name, true, (t) => {
      const b = parseGoBool(t);
      if (b === undefined) return PARSE_ERROR;
      ref.value = b;
    });
    return ref;
  }

  /** Defines an int flag (Go `int`, 64 bits, `strconv.ParseInt(s, 0, 64)` syntax). */
  int(name: string, def: number): FlagRef<number> {
    const ref = { value: def };
    this.#define(name, false, (t) => {
      const n = parseGoInt(t);
      if (typeof n === "string") return n;
      ref.value = Number(n);
    });
    return ref;
  }

  /** Defines a duration flag; the value is in milliseconds (fractional below 1 ms). */
  duration(name: string, defMs: number): FlagRef<number> {
    const ref = { value: defMs };
    this.#define(name, false, (t) => {
      try {
        ref.value = Number(parseGoDuration(t)) / 1e6;
      } catch {
        return PARSE_ERROR;
      }
    });
    return ref;
  }

  /** Defines a repeatable string flag appending to `into` (several flags may share one list). */
  stringSlice(name: string, into: string[] = []): FlagRef<string[]> {
    const ref = { value: into };
    this.#define(name, false, (t) => void ref.value.push(t));
    return ref;
  }

  /** The arguments left after parsing stopped. */
  args(): string[] {
    return this.#rest;
  }

  /** Parses `args`; on failure the error line and the usage have already been printed. */
  parse(args: string[]): FlagParseResult {
    this.#rest = args;
    for (;;) {
      const step = this.#parseOne();
      if (step === true) continue;
      if (step === false) return { ok: true };
      return { ok: false, ...step };
    }
  }

  #define(name: string, isBool: boolean, set: (text: string) => string | undefined | void): void {
    if (this.#defs.has(name)) throw new Error(`flag redefined: ${name}`);
    this.#defs.set(name, { isBool, set: (t) => set(t) ?? undefined });
  }

  #fail(error: string): { help: boolean; error: string } {
    this.opts.output(error + "\n");
    this.opts.usage();
    return { help: false, error };
  }

  /** true: a flag was consumed; false: done; otherwise an error. */
  #parseOne(): boolean | { help: boolean; error: string } {
    const args = this.#rest;
    if (args.length === 0) return false;
    const s = args[0];
    if (s.length < 2 || s[0] !== "-") return false;
    let minuses = 1;
    if (s[1] === "-") {
      minuses = 2;
      if (s.length === 2) {
        this.#rest = args.slice(1);
        return false;
      }
    }
    let name = s.slice(minuses);
    if (name.length === 0 || name[0] === "-" || name[0] === "=") return this.#fail(`bad flag syntax: ${s}`);
    this.#rest = args.slice(1);
    let value: string | undefined;
    const eq = name.indexOf("=", 1);
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const def = this.#defs.get(name);
    if (!def) {
      if (name === "help" || name === "h") {
        this.opts.usage();
        return { help: true, error: "flag: help requested" };
      }
      return this.#fail(`flag provided but not defined: -${name}`);
    }
    if (def.isBool) {
      const err = def.set(value ?? "true");
      if (err !== undefined) {
        return this.#fail(
          value === undefined
            ? `invalid boolean flag ${name}: ${err}`
            : `invalid boolean value ${goQuote(value)} for -${name}: ${err}`,
        );
      }
      return true;
    }
    if (value === undefined) {
      if (this.#rest.length === 0) return this.#fail(`flag needs an argument: -${name}`);
      value = this.#rest[0];
      this.#rest = this.#rest.slice(1);
    }
    const err = def.set(value);
    if (err !== undefined) return this.#fail(`invalid value ${goQuote(value)} for flag -${name}: ${err}`);
    return true;
  }
}

/** Go's `strconv.ParseBool`. */
export function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

/**
 * Go's `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0o`/`0b`/`0`
 * prefixes, `_` separators. Returns the value or flag's error text
 * (`parse error` / `value out of range`).
 */
export function parseGoInt(s: string): bigint | string {
  if (s === "") return PARSE_ERROR;
  let body = s;
  let neg = false;
  if (body[0] === "+" || body[0] === "-") {
    neg = body[0] === "-";
    body = body.slice(1);
  }
  const un = parseGoUint(body);
  if (typeof un === "string") return un;
  if (!neg && un > (1n << 63n) - 1n) return RANGE_ERROR;
  if (neg && un > 1n << 63n) return RANGE_ERROR;
  return neg ? -un : un;
}

function parseGoUint(s0: string): bigint | string {
  if (s0 === "") return PARSE_ERROR;
  let s = s0;
  let base = 10n;
  if (s[0] === "0") {
    const p = s.length >= 3 ? s[1].toLowerCase() : "";
    if (p === "b" || p === "o" || p === "x") {
      base = p === "b" ? 2n : p === "o" ? 8n : 16n;
      s = s.slice(2);
    } else {
      base = 8n;
      s = s.slice(1);
    }
  }
  let n = 0n;
  let underscores = false;
  for (const c of s) {
    if (c === "_") {
      underscores = true;
      continue;
    }
    const d = digitValue(c);
    if (d === undefined || BigInt(d) >= base) return PARSE_ERROR;
    n = n * base + BigInt(d);
    if (n >= 1n << 64n) return RANGE_ERROR;
  }
  if (underscores && !underscoreOk(s0)) return PARSE_ERROR;
  return n;
}

function digitValue(c: string): number | undefined {
  const lc = c.toLowerCase();
  if (lc >= "0" && lc <= "9") return lc.charCodeAt(0) - 48;
  if (lc >= "a" && lc <= "z" && lc.length === 1) return lc.charCodeAt(0) - 87;
  return undefined;
}

/** Go's `strconv.underscoreOK`: underscores only between digits (or after a base prefix). */
function underscoreOk(s: string): boolean {
  let saw = "^";
  let i = 0;
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && "box".includes(s[1].toLowerCase())) {
    i = 2;
    saw = "0";
    hex = s[1].toLowerCase() === "x";
  }
  for (; i < s.length; i++) {
    const c = s[i];
    const lc = c.toLowerCase();
    if ((c >= "0" && c <= "9") || (hex && lc >= "a" && lc <= "f")) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}
