/**
 * Our agent as a child process, either run from source on the runtime
 * running the tests (`deno run -A cli.ts` / `bun cli.ts`) or as the built
 * executable `dist/serf` (built on first use with `node scripts/build.mjs`).
 *
 * @module
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import process from "node:process";
import { type LineProcess, spawnLines } from "./process.ts";
import { repoPath, scriptArgv } from "./runtime.ts";

let built: string | undefined;

/** Path of `dist/serf`, building it once per test process when missing or older than the sources. */
export function builtBinary(): string {
  if (built) return built;
  const exe = repoPath("dist/serf");
  const stale = !existsSync(exe) || statSync(exe).mtimeMs < newestSource();
  if (stale) {
    const r = spawnSync("node", [repoPath("scripts/build.mjs")], { cwd: repoPath("."), encoding: "utf8" });
    if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
  }
  built = exe;
  return exe;
}

function newestSource(): number {
  let newest = statSync(repoPath("cli.ts")).mtimeMs;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts")) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(repoPath("lib"));
  return newest;
}

/** How to run our `serf`: from source on the test's runtime, or the built executable. */
export type Flavor = "source" | "binary";

/** The argv prefix that runs our `serf` with `args`. */
export function oursArgv(flavor: Flavor, args: string[]): string[] {
  return flavor === "binary" ? [builtBinary(), ...args] : scriptArgv(repoPath("cli.ts"), args);
}

/** A running agent of ours. */
export interface OurAgent {
  readonly proc: LineProcess;
  readonly rpc: string;
  stop(signal?: "SIGKILL" | "SIGINT" | "SIGTERM"): Promise<number | string>;
}

/** Starts `serf agent` of ours with `-node`, `-bind`, `-rpc-addr` and extra flags; waits for "Serf agent running!". */
export async function startOurAgent(
  o: { name: string; bind: string; rpc: string; flavor?: Flavor; extra?: string[] },
): Promise<OurAgent> {
  const proc = spawnLines(oursArgv(o.flavor ?? "source", [
    "agent",
    `-node=${o.name}`,
    `-bind=${o.bind}`,
    `-rpc-addr=${o.rpc}`,
    ...(o.extra ?? []),
  ]));
  await proc.waitLine((l) => l.includes("Serf agent running!"), 20_000, "our agent start");
  return { proc, rpc: o.rpc, stop: (signal = "SIGKILL") => proc.kill(signal) };
}

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a CLI (argv) to completion. */
export function runCli(argv: string[], timeoutMs = 20_000, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout: timeoutMs, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err
        ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1)
        : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
