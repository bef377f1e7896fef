#!/usr/bin/env node
/**
 * Runs the test suite under Deno, then under Bun, streaming their output,
 * and ends with one line per runtime and a plain `N passed, N failed` line
 * (the sum over both runtimes). Exits non-zero when either runner fails,
 * or when either counted no tests.
 *
 *   node scripts/test.mjs                              # tests/ under both runtimes
 *   node scripts/test.mjs tests/runtime_memory.test.ts # positional args replace `tests/`
 *   node scripts/test.mjs --fail-fast                  # flags go to both runners as given
 *
 * A flag that takes a value must be written `--flag=value`: any argument not
 * starting with `-` is taken as a test path.
 *
 * Summaries parsed (after stripping ANSI colours):
 *   Deno: `ok | 12 passed (6 steps) | 0 failed (1s)`
 *         `FAILED | 10 passed (3 steps) | 2 failed (1 step) (2s)`
 *         (the `(N steps)` parts and a trailing `| N ignored` are optional)
 *   Bun:  ` 14 pass` and ` 2 fail` on lines of their own
 *         (also ` 1 skip`, ` 1 todo`, `Ran 17 tests across 3 files.`)
 *
 * Counting: we count top-level tests of each runner, i.e. the numbers in
 * front of "passed"/"failed" (Deno) and "pass"/"fail" (Bun). Deno's node:test
 * shim turns each `describe` into a top-level test and each `it` inside it
 * into a step, so Deno's steps are NOT added (a failing step already fails
 * its top-level test); they are shown on the Deno line for information.
 * Bun has no steps: every `it` is a test. The two runners' numbers are
 * therefore in different units, and the sum is a health count, not a
 * number of distinct test cases.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);

const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith("-"));
const flags = args.filter((a) => a.startsWith("-"));
const targets = positional.length ? positional : ["tests/"];

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Runs `cmd args`, echoing stdout/stderr live; resolves with exit code and the combined text. */
function run(cmd, cmdArgs) {
  console.log(`\n$ ${[cmd, ...cmdArgs].join(" ")}`);
  return new Promise((resolve) => {
    let text = "";
    const child = spawn(cmd, cmdArgs, { cwd: root, stdio: ["inherit", "pipe", "pipe"] });
    child.stdout.on("data", (b) => {
      process.stdout.write(b);
      text += b.toString();
    });
    child.stderr.on("data", (b) => {
      process.stderr.write(b);
      text += b.toString();
    });
    child.on("error", (err) => {
      text += `\n${err.message}\n`;
      resolve({ code: 127, text });
    });
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), text }));
  });
}

/** Deno's last `ok | ...` / `FAILED | ...` line. */
function parseDeno(text) {
  const re = /^(ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/gm;
  let m, last;
  while ((m = re.exec(text.replace(ANSI, "")))) last = m;
  if (!last) return undefined;
  return {
    passed: Number(last[2]),
    failed: Number(last[4]),
    note: `${last[3] ?? 0} steps passed, ${last[5] ?? 0} steps failed`,
  };
}

/** Bun's ` N pass` / ` N fail` lines. */
function parseBun(text) {
  const clean = text.replace(ANSI, "");
  const pass = [...clean.matchAll(/^\s*(\d+) pass\s*$/gm)].pop();
  const fail = [...clean.matchAll(/^\s*(\d+) fail\s*$/gm)].pop();
  if (!pass && !fail) return undefined;
  const skip = [...clean.matchAll(/^\s*(\d+) skip\s*$/gm)].pop();
  return {
    passed: Number(pass?.[1] ?? 0),
    failed: Number(fail?.[1] ?? 0),
    note: `${skip?.[1] ?? 0} skipped`,
  };
}

const runners = [
  { name: "deno", cmd: bin("deno"), args: ["test", "-A", ...flags, ...targets], parse: parseDeno },
  // Bun's default per-test timeout is 5 s; raise it so each test's own `{ timeout }` governs.
  { name: "bun", cmd: bin("bun"), args: ["test", "--timeout", "120000", ...flags, ...targets], parse: parseBun },
];

const results = [];
for (const r of runners) {
  const { code, text } = await run(r.cmd, r.args);
  const counts = r.parse(text);
  results.push({ name: r.name, code, counts });
}

let passed = 0, failed = 0, ok = true;
console.log("");
for (const { name, code, counts } of results) {
  if (!counts) {
    console.log(`${name}: no test summary found (exit code ${code})`);
    ok = false;
    continue;
  }
  passed += counts.passed;
  failed += counts.failed;
  const good = code === 0 && counts.failed === 0 && counts.passed + counts.failed > 0;
  if (!good) ok = false;
  console.log(`${name}: ${counts.passed} passed, ${counts.failed} failed (${counts.note}; exit code ${code})`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
