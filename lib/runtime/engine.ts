/**
 * JavaScript engine settings for the long-running agent process.
 *
 * On Bun (JavaScriptCore), an agent's work is many small, short bursts:
 * a join, a few hundred gossip messages, then near silence. JSC's
 * optimizing tiers (DFG, and FTL on top of it) spend far more CPU
 * compiling that code than they ever save running it: measured on a
 * 30-agent cluster converging on a 2-core machine, the cluster used 1.49 s
 * of CPU with them and 0.70–0.78 s without, and converged in 0.89 s
 * instead of 0.65–0.69 s; idle use and RSS drop too. The baseline JIT stays on.
 *
 * JSC reads its options from the environment when the process starts, so
 * {@link tuneEngineForAgent} re-executes the process (same PID, same
 * arguments and descriptors) with `BUN_JSC_useDFGJIT=0` unless the variable
 * is already set — set it (to `1` or `0`) to choose yourself.
 *
 * @module
 */
import process from "node:process";

/** The option we set (a value set by the user wins). */
const OPTION = "BUN_JSC_useDFGJIT";
/** Marks the re-executed process, which removes both variables so that event handler scripts do not inherit them. */
const MARK = "SERF_TS_ENGINE_TUNED";

type ExecveProcess = typeof process & {
  execve?: (file: string, args: string[], env: Record<string, string | undefined>) => never;
};

/**
 * On Bun, re-executes this process with the JIT settings suited to an agent
 * (see the module notes); returns without doing anything elsewhere, when
 * already tuned, or when the runtime cannot re-execute.
 *
 * @example
 * ```ts
 * if (process.argv[2] === "agent") tuneEngineForAgent();
 * ```
 */
export function tuneEngineForAgent(): void {
  const bun = (globalThis as { Bun?: { main: string } }).Bun;
  const proc = process as ExecveProcess;
  if (proc.env[MARK] === "1") {
    delete proc.env[MARK];
    delete proc.env[OPTION];
    return;
  }
  if (!bun || typeof proc.execve !== "function" || proc.env[OPTION] !== undefined) return;
  // A compiled executable's argv is ["bun", "/$bunfs/root/<name>", ...args]; `bun cli.ts` has the script at [1].
  const compiled = bun.main.startsWith("/$bunfs/");
  const args = compiled ? proc.argv.slice(2) : [...proc.execArgv, ...proc.argv.slice(1)];
  try {
    proc.execve(proc.execPath, [proc.execPath, ...args], { ...proc.env, [OPTION]: "0", [MARK]: "1" });
  } catch {
    // Could not re-execute: run as is.
  }
}
