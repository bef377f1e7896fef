/**
 * Which JS runtime runs the tests, and how to start a script with the same one.
 *
 * @module
 */
import process from "node:process";

/** "deno" or "bun" (from `process.execPath`), else "node". */
export function testRuntime(): "deno" | "bun" | "node" {
  const exe = process.execPath.split(/[\\/]/).pop() ?? "";
  if (exe.startsWith("deno")) return "deno";
  if (exe.startsWith("bun")) return "bun";
  return "node";
}

/**
 * The argv that runs `script` (a path) with `args` on the runtime running the
 * tests: `deno run -A script ...` or `bun script ...`.
 */
export function scriptArgv(script: string, args: string[] = []): string[] {
  const rt = testRuntime();
  if (rt === "deno") return [process.execPath, "run", "-A", script, ...args];
  if (rt === "bun") return [process.execPath, script, ...args];
  return [process.execPath, "--experimental-strip-types", script, ...args];
}

/** Absolute path of a file relative to the repository root (tests/helpers/../../). */
export function repoPath(rel: string): string {
  const here = new URL("../../", import.meta.url);
  return decodeURIComponent(new URL(rel, here).pathname);
}
