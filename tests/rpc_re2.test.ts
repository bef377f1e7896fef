/**
 * RE2 → JS RegExp translation (members-filtered), checked against a table
 * produced by Go 1.19's regexp package (the serf binary's toolchain):
 * `regexp.Compile("^" + expr + "$")`, then MatchString on each input, or
 * the exact compile error text.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compileRe2, Re2SyntaxError } from "../lib/rpc/re2.ts";
import { filterMembers } from "../lib/rpc/filter.ts";
import type { RpcMember } from "../lib/rpc/types.ts";

type Row = [expr: string, expected: Array<[string, boolean]> | string];

/** Generated with Go: expr, then [input, matches] pairs or Go's error string. */
const GO_TABLE: Row[] = [
  ["", [["", true], ["a", false]]],
  ["web", [["web", true], ["web1", false], ["xweb", false], ["", false]]],
  ["web.*", [["web", true], ["web-1", true], ["we", false], ["web\nx", false], ["web\rx", true]]],
  ["a|b", [["a", true], ["b", true], ["ab", true], ["axb", true], ["xb", true], ["ax", true]]],
  ["(a|b)", [["a", true], ["b", true], ["ab", false]]],
  ["alive|failed", [["alive", true], ["failed", true], ["left", false], ["alivex", true], ["xfailed", true]]],
  ["(?i)WEB", [["web", true], ["Web", true], ["WEB", true], ["wbe", false]]],
  ["a(?i)b|c", [["ab", true], ["aB", true], ["c", true], ["C", true], ["A", false]]],
  ["(?i:a)b", [["Ab", true], ["AB", false], ["ab", true]]],
  ["(?i)a(?-i)b", [["Ab", true], ["AB", false], ["ab", true]]],
  ["x(?i)(a(?-i)b|c)d", [["xAbD", true], ["xABD", false], ["xCD", false], ["XCD", false]]],
  ["a{2,3}", [["a", false], ["aa", true], ["aaa", true], ["aaaa", false]]],
  ["a{,3}", [["a{,3}", true], ["aaa", false]]],
  ["a{2}{3}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`"],
  ["a**", "error parsing regexp: invalid nested repetition operator: `**`"],
  ["a*?", [["", true], ["aaa", true]]],
  ["a*??", "error parsing regexp: invalid nested repetition operator: `*??`"],
  ["*", [["", true], ["*", true]]],
  ["+a", [["a", true], ["+a", false]]],
  ["(*)", "error parsing regexp: missing argument to repetition operator: `*`"],
  ["a|*", "error parsing regexp: missing argument to repetition operator: `*`"],
  ["a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"],
  ["(a{100}){100}", "error parsing regexp: invalid repeat count: `{100}`"],
  ["(a{10}){100}", [["a", false]]],
  ["a{01}", [["a{01}", true], ["a", false]]],
  ["a{2,1}", "error parsing regexp: invalid repeat count: `{2,1}`"],
  ["[[:alpha:]]+", [["abc", true], ["ab1", false], ["\u00c4B", false]]],
  ["[[:^alpha:]]+", [["123", true], ["ab1", false], ["\u00c4", true]]],
  ["(?i)[[:^lower:]]", [["A", false], ["a", false], ["1", true], ["\u017f", false], ["K", false]]],
  ["[[:foo:]]", "error parsing regexp: invalid character class range: `[:foo:]`"],
  ["[]a]", [["]", true], ["a", true], ["b", false]]],
  ["[^]a]", [["]", false], ["a", false], ["b", true], ["\n", true]]],
  ["[a-]", [["a", true], ["-", true], ["b", false]]],
  ["[-a]", [["a", true], ["-", true], ["b", false]]],
  ["[a-c-e]", [["b", true], ["-", true], ["d", false], ["e", true]]],
  ["[z-a]", "error parsing regexp: invalid character class range: `z-a`"],
  ["[a", "error parsing regexp: missing closing ]: `[a$`"],
  ["a)", "error parsing regexp: unexpected ): `^a)$`"],
  ["(a", "error parsing regexp: missing closing ): `^(a$`"],
  ["\\d+\\.\\d+", [["1.2", true], ["12.34", true], ["1x2", false], ["\u0661.\u0662", false]]],
  ["\\s", [[" ", true], ["\t", true], ["\u000b", false], ["\u00a0", false]]],
  ["\\S", [[" ", false], ["x", true], ["\u000b", true], ["\u00a0", true]]],
  ["[\\S]", [[" ", false], ["x", true], ["\u000b", true], ["\u00a0", true]]],
  ["[^\\S]", [[" ", true], ["x", false], ["\u000b", false]]],
  ["\\w+", [["abc_1", true], ["\u00e9", false], ["a-b", false]]],
  ["(?i)\\w", [["\u017f", true], ["K", true], ["a", true]]],
  ["\\W", [["-", true], ["a", false], ["\u017f", true]]],
  ["(?i)\\W", [["-", true], ["a", false], ["\u017f", false], ["K", false]]],
  ["\\pL+", [["abc", true], ["\u00c4", true], ["1", false]]],
  ["\\p{Greek}", [["\u03b1", true], ["a", false]]],
  ["\\p{^Greek}", [["\u03b1", false], ["a", true]]],
  ["\\P{Greek}", [["\u03b1", false], ["a", true]]],
  ["[\\p{Greek}\\d]", [["\u03b1", true], ["1", true], ["a", false]]],
  ["\\p{Foo}", "error parsing regexp: invalid character class range: `\\p{Foo}`"],
  ["\\pX", "error parsing regexp: invalid character class range: `\\pX`"],
  ["\\p{Any}", [["x", true], ["\n", true]]],
  ["(?i)\\p{Lu}", [["a", true], ["A", true], ["1", false]]],
  ["\\q", "error parsing regexp: invalid escape sequence: `\\q`"],
  ["\\1", "error parsing regexp: invalid escape sequence: `\\1`"],
  ["\\12", [["\n", true], ["12", false]]],
  ["\\0", [["\u0000", true]]],
  ["\\x41\\x{42}", [["AB", true]]],
  ["\\x{110000}", "error parsing regexp: invalid escape sequence: `\\x{110000`"],
  ["\\xZ1", "error parsing regexp: invalid escape sequence: `\\xZ1`"],
  ["\\x{}", "error parsing regexp: invalid escape sequence: `\\x{}`"],
  ["a\\", []],
  ["\\!\\-\\#\\ \\_\\:", [["!-# _:", true]]],
  ["\\Qa.b*\\E+", [["a.b*", true], ["a.b**", true], ["aab", false]]],
  ["\\Qa.b", [["a.b", false], ["axb", false]]],
  ["\\Aab\\z", [["ab", true]]],
  ["a\\bb", [["ab", false]]],
  ["a\\b b", [["a b", true]]],
  ["\\C", "error parsing regexp: invalid escape sequence: `\\C`"],
  ["(?P<name>a+)", [["aa", true], ["b", false]]],
  ["(?P<n>a)(?P<n>b)", [["ab", true]]],
  ["(?P<na-me>a)", "error parsing regexp: invalid named capture: `(?P<na-me>`"],
  ["(?<name>a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`"],
  ["(?=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"],
  ["(?!a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?!`"],
  ["(?<=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`"],
  ["(?#c)", "error parsing regexp: invalid or unsupported Perl syntax: `(?#`"],
  ["(?)a", [["a", true]]],
  ["(?-)a", "error parsing regexp: invalid or unsupported Perl syntax: `(?-)`"],
  ["(?i-)a", "error parsing regexp: invalid or unsupported Perl syntax: `(?i-)`"],
  ["(?--i)a", "error parsing regexp: invalid or unsupported Perl syntax: `(?--`"],
  ["(?s).", [["\n", true], ["a", true]]],
  [".", [["\n", false], ["\r", true], ["\u2028", true], ["\u00e9", true], ["\ud83d\ude00", true]]],
  ["(?m)a$\\nb", [["a\nb", true]]],
  ["a$\\nb", [["a\nb", false]]],
  ["(?U)a+", [["aaa", true]]],
  ["(?U)(a+)(a*)", [["aaa", true]]],
  ["a(?s)*", [["", true], ["aaa", true]]],
  ["a(?i)*", [["", true], ["aaa", true], ["AAA", false]]],
  ["a*(?s)*", [["", true], ["aaa", true]]],
  ["[[:word:]-]+", [["a-b_c", true], ["a b", false]]],
  ["[\\d-z]+", [["1-z", true], ["y", false]]],
  ["[a-\\d]", "error parsing regexp: invalid escape sequence: `\\d`"],
  ["[\\n]", [["\n", true]]],
  ["[\\b]", "error parsing regexp: invalid escape sequence: `\\b`"],
  ["}", [["}", true]]],
  ["]", [["]", true]]],
  ["{", [["{", true]]],
  ["a{", [["a{", true]]],
  ["a{1", [["a{1", true]]],
  ["a{1,", [["a{1,", true]]],
  ["\ud83d\ude00+", [["\ud83d\ude00\ud83d\ude00", true], ["x", false]]],
  ["[\ud83d\ude00-\ud83d\ude02]", [["\ud83d\ude01", true], ["x", false]]],
  ["web-[0-9]+", [["web-12", true], ["web-", false], ["web-1a", false]]],
  ["role=.*", [["role=x", true]]],
  ["(a)(b)\\2", "error parsing regexp: invalid escape sequence: `\\2`"],
  ["a||b", [["", true], ["a", true], ["b", true]]],
  ["(|a)b", [["b", true], ["ab", true]]],
  ["()", [["", true], ["a", false]]],
  ["()*", [["", true], ["a", false]]],
  ["[^a]", [["\n", true], ["b", true], ["a", false]]],
  ["(?i)[^a]", [["A", false], ["b", true]]],
  ["(?i)[k]", [["K", true], ["K", true], ["k", true]]],
  ["\\v\\a\\f\\t\\r\\n", [["\u000b\u0007\f\t\r\n", true]]],
  ["[[:alpha:]", "error parsing regexp: missing closing ]: `[[:alpha:]$`"],
  ["[[:alpha]", [["a", true], ["[", true], [":", true]]],
  ["(?i)(?:a|b)+c", [["ABc", true], ["abC", true]]],
  ["x*y+z?", [["yyy", true], ["xyz", true], ["xz", false]]],
];

describe("RE2 translation", () => {
  it("matches exactly what Go matches, for every row of the Go table", () => {
    let checked = 0;
    for (const [expr, expected] of GO_TABLE) {
      if (typeof expected === "string") continue;
      const re = compileRe2(`^${expr}$`);
      for (const [input, match] of expected) {
        assert.equal(re.test(input), match, `${JSON.stringify(expr)} on ${JSON.stringify(input)} (JS: /${re.source}/)`);
        checked++;
      }
    }
    assert.ok(checked > 200);
  });

  it("rejects what Go rejects, with Go's error text", () => {
    for (const [expr, expected] of GO_TABLE) {
      if (typeof expected !== "string") continue;
      assert.throws(() => compileRe2(`^${expr}$`), (e: unknown) => {
        assert.ok(e instanceof Re2SyntaxError);
        assert.equal(e.message, expected);
        return true;
      }, expr);
    }
  });

  it("filters members like Go's filterMembers", () => {
    const m = (name: string, status: string, tags: Record<string, string>) =>
      ({
        name,
        status,
        tags,
        addr: new Uint8Array(4),
        port: 1,
        protocolMin: 1,
        protocolMax: 5,
        protocolCur: 2,
        delegateMin: 2,
        delegateMax: 5,
        delegateCur: 5,
      }) as RpcMember;
    const all = [
      m("web-1", "alive", { role: "web" }),
      m("db-1", "failed", { role: "db", dc: "x" }),
      m("constructor", "left", {}),
    ];
    const names = (tags: Record<string, string>, status: string, name: string) =>
      filterMembers(all, tags, status, name).map((x) => x.name);
    assert.deepEqual(names({}, "", ""), ["web-1", "db-1", "constructor"]);
    assert.deepEqual(names({ dc: "" }, "", ""), ["web-1", "constructor"]);
    assert.deepEqual(names({ constructor: "" }, "", ""), ["web-1", "db-1", "constructor"]);
    assert.deepEqual(names({}, "alive|left", ""), ["web-1", "constructor"]);
    assert.deepEqual(names({}, "", "web-\\d"), ["web-1"]);
    assert.throws(() => names({ role: "[" }, "", ""), {
      message: "Failed to compile regex: error parsing regexp: missing closing ]: `[$`",
    });
  });
});
