/**
 * Go `flag` package semantics of lib/cli/flags.ts, plus the Go value parsers
 * it relies on (ParseBool, ParseInt base 0, time.ParseDuration) and the
 * Duration formatter. Expected texts are Go 1.19's.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlagSet, parseGoBool, parseGoInt } from "../lib/cli/flags.ts";
import { formatGoDuration, parseGoDuration } from "../lib/cli/duration.ts";

/** A flag set recording what it prints. */
function flagSet() {
  const printed: string[] = [];
  let usages = 0;
  const fs = new FlagSet({ usage: () => usages++, output: (t) => printed.push(t) });
  return { fs, printed, usages: () => usages };
}

describe("FlagSet: value syntaxes", () => {
  for (const args of [["-node=foo"], ["-node", "foo"], ["--node", "foo"], ["--node=foo"]]) {
    it(`string flag from ${JSON.stringify(args)}`, () => {
      const { fs } = flagSet();
      const node = fs.string("node", "def");
      assert.deepEqual(fs.parse([...args, "rest"]), { ok: true });
      assert.equal(node.value, "foo");
      assert.deepEqual(fs.args(), ["rest"]);
    });
  }

  it("keeps defaults when a flag is absent", () => {
    const { fs } = flagSet();
    const node = fs.string("node", "def");
    const n = fs.int("n", -1);
    const b = fs.bool("b", true);
    const d = fs.duration("d", 1500);
    assert.deepEqual(fs.parse([]), { ok: true });
    assert.deepEqual([node.value, n.value, b.value, d.value], ["def", -1, true, 1500]);
  });

  it("a value may itself start with a dash or be empty", () => {
    const { fs } = flagSet();
    const node = fs.string("node", "x");
    const tag = fs.string("tag", "x");
    assert.ok(fs.parse(["-node", "-weird", "-tag="]).ok);
    assert.equal(node.value, "-weird");
    assert.equal(tag.value, "");
  });

  it("only the first = splits name and value", () => {
    const { fs } = flagSet();
    const tag = fs.string("tag", "");
    assert.ok(fs.parse(["-tag=role=web=x"]).ok);
    assert.equal(tag.value, "role=web=x");
  });

  it("bool flags: -flag and -flag=<bool> only; a following word is not their value", () => {
    const { fs } = flagSet();
    const a = fs.bool("a", false);
    const b = fs.bool("b", true);
    const c = fs.bool("c", false);
    assert.ok(fs.parse(["-a", "--b=false", "-c", "false", "x"]).ok);
    assert.deepEqual([a.value, b.value, c.value], [true, false, true]);
    assert.deepEqual(fs.args(), ["false", "x"]);
  });

  it("bool values accepted as strconv.ParseBool does", () => {
    for (const t of ["1", "t", "T", "TRUE", "true", "True"]) assert.equal(parseGoBool(t), true);
    for (const f of ["0", "f", "F", "FALSE", "false", "False"]) assert.equal(parseGoBool(f), false);
    for (const bad of ["", "yes", "tRUE", "2", " true"]) assert.equal(parseGoBool(bad), undefined);
  });

  it("repeatable slices append, and two flags can share one list", () => {
    const { fs } = flagSet();
    const shared: string[] = [];
    fs.stringSlice("config-file", shared);
    fs.stringSlice("config-dir", shared);
    const tags = fs.stringSlice("tag");
    assert.ok(fs.parse(["-config-file=a", "-tag", "x=1", "--config-dir", "d", "-config-file", "b", "-tag=y=2"]).ok);
    assert.deepEqual(shared, ["a", "d", "b"]);
    assert.deepEqual(tags.value, ["x=1", "y=2"]);
  });

  it("int flags take Go integer literals", () => {
    const { fs } = flagSet();
    const n = fs.int("n", 0);
    for (
      const [text, want] of [["42", 42], ["-7", -7], ["+3", 3], ["0x1f", 31], ["0o17", 15], ["017", 15], ["0b101", 5], [
        "1_000",
        1000,
      ], ["0", 0]] as const
    ) {
      assert.ok(fs.parse([`-n=${text}`]).ok, text);
      assert.equal(n.value, want, text);
    }
  });

  it("duration flags take Go durations, in milliseconds", () => {
    const { fs } = flagSet();
    const d = fs.duration("timeout", 0);
    for (
      const [text, ms] of [["1h30m", 5_400_000], ["500ms", 500], ["1.5s", 1500], ["250us", 0.25], ["0", 0], [
        "-2s",
        -2000,
      ]] as const
    ) {
      assert.ok(fs.parse(["-timeout", text]).ok, text);
      assert.equal(d.value, ms, text);
    }
  });
});

describe("FlagSet: where parsing stops", () => {
  it("at the first non-flag argument", () => {
    const { fs } = flagSet();
    const a = fs.bool("a", false);
    const node = fs.string("node", "");
    assert.ok(fs.parse(["-a", "name", "-node=x"]).ok);
    assert.equal(a.value, true);
    assert.equal(node.value, "");
    assert.deepEqual(fs.args(), ["name", "-node=x"]);
  });

  it("after --, which is consumed", () => {
    const { fs } = flagSet();
    fs.bool("a", false);
    assert.ok(fs.parse(["-a", "--", "-a", "b"]).ok);
    assert.deepEqual(fs.args(), ["-a", "b"]);
  });

  it("at a lone dash, which is kept", () => {
    const { fs } = flagSet();
    assert.ok(fs.parse(["-", "x"]).ok);
    assert.deepEqual(fs.args(), ["-", "x"]);
  });
});

describe("FlagSet: errors (printed to output, then usage)", () => {
  const cases: [string[], string][] = [
    [["-x"], "flag provided but not defined: -x"],
    [["--nope=1"], "flag provided but not defined: -nope"],
    [["-node"], "flag needs an argument: -node"],
    [["-retry-max=abc"], 'invalid value "abc" for flag -retry-max: parse error'],
    [
      ["-retry-max", "99999999999999999999"],
      'invalid value "99999999999999999999" for flag -retry-max: value out of range',
    ],
    [["-retry-max=1.5"], 'invalid value "1.5" for flag -retry-max: parse error'],
    [["-timeout=5"], 'invalid value "5" for flag -timeout: parse error'],
    [["-timeout", "1d"], 'invalid value "1d" for flag -timeout: parse error'],
    [["-detailed=abc"], 'invalid boolean value "abc" for -detailed: parse error'],
    [["-detailed="], 'invalid boolean value "" for -detailed: parse error'],
    [["---x"], "bad flag syntax: ---x"],
    [["-=x"], "bad flag syntax: -=x"],
    [["--=x"], "bad flag syntax: --=x"],
  ];
  for (const [args, error] of cases) {
    it(`${JSON.stringify(args)} → ${error}`, () => {
      const { fs, printed, usages } = flagSet();
      fs.string("node", "");
      fs.int("retry-max", 0);
      fs.duration("timeout", 0);
      fs.bool("detailed", false);
      assert.deepEqual(fs.parse(args), { ok: false, help: false, error });
      assert.deepEqual(printed, [error + "\n"]);
      assert.equal(usages(), 1);
    });
  }

  it("quotes the offending value like Go's %q", () => {
    const { fs, printed } = flagSet();
    fs.int("n", 0);
    assert.equal(fs.parse(['-n=a"b\\c\n\u00e9\u0001']).ok, false);
    assert.deepEqual(printed, ['invalid value "a\\"b\\\\c\\n\u00e9\\x01" for flag -n: parse error\n']);
  });

  for (const h of ["-h", "-help", "--help", "--h", "-help=1"]) {
    it(`${h} prints only the usage and reports help`, () => {
      const { fs, printed, usages } = flagSet();
      fs.string("node", "");
      const r = fs.parse([h, "-node=x"]);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.help, true);
      assert.deepEqual(printed, []);
      assert.equal(usages(), 1);
    });
  }

  it("a defined -h is an ordinary flag", () => {
    const { fs, usages } = flagSet();
    const h = fs.bool("h", false);
    assert.ok(fs.parse(["-h"]).ok);
    assert.equal(h.value, true);
    assert.equal(usages(), 0);
  });
});

describe("parseGoInt (strconv.ParseInt(s, 0, 64))", () => {
  it("accepts Go literals and rejects malformed ones", () => {
    assert.equal(parseGoInt("9223372036854775807"), 9223372036854775807n);
    assert.equal(parseGoInt("-9223372036854775808"), -9223372036854775808n);
    assert.equal(parseGoInt("9223372036854775808"), "value out of range");
    assert.equal(parseGoInt("0X_1F"), 31n);
    for (const bad of ["", "+", "-", "0x", "08", "1__0", "_1", "1_", "0b2", "1e3", " 1"]) {
      assert.equal(parseGoInt(bad), "parse error", bad);
    }
  });
});

describe("Go durations", () => {
  it("parses like time.ParseDuration", () => {
    const cases: [string, bigint][] = [
      ["1h30m", 5_400_000_000_000n],
      ["1.5h", 5_400_000_000_000n],
      ["-1.5us", -1500n],
      ["1µs", 1000n],
      ["1μs", 1000n],
      [".5s", 500_000_000n],
      ["1.s", 1_000_000_000n],
      ["+0", 0n],
      ["1h1h", 7_200_000_000_000n],
      ["9223372036854775807ns", 9223372036854775807n],
      ["-9223372036854775808ns", -9223372036854775808n],
      ["1.0000000001s", 1_000_000_000n],
    ];
    for (const [text, ns] of cases) assert.equal(parseGoDuration(text), ns, text);
  });

  it("fails with Go's messages", () => {
    const cases: [string, string][] = [
      ["", 'time: invalid duration ""'],
      ["x", 'time: invalid duration "x"'],
      [".s", 'time: invalid duration ".s"'],
      ["1", 'time: missing unit in duration "1"'],
      ["5s5", 'time: missing unit in duration "5s5"'],
      ["1d", 'time: unknown unit "d" in duration "1d"'],
      ["1e3s", 'time: unknown unit "e" in duration "1e3s"'],
      ["9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'],
      ["1é", 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'],
    ];
    for (const [text, msg] of cases) assert.throws(() => parseGoDuration(text), { message: msg }, text);
  });

  it("formats like time.Duration.String", () => {
    const cases: [bigint, string][] = [
      [0n, "0s"],
      [1n, "1ns"],
      [1500n, "1.5µs"],
      [1_500_000n, "1.5ms"],
      [1_000_000_000n, "1s"],
      [5_400_000_000_000n, "1h30m0s"],
      [61_500_000_000n, "1m1.5s"],
      [-2_000_000_000n, "-2s"],
      [9223372036854775807n, "2562047h47m16.854775807s"],
    ];
    for (const [ns, text] of cases) assert.equal(formatGoDuration(ns), text);
  });
});
