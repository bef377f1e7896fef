/**
 * The JIT policy of the compiled agent. scripts/build.mjs starts the Bun
 * executable with JavaScriptCore's tier-up thresholds scaled far up
 * (`--compile-jit-policy`), so the little code an idle agent runs stays in
 * the interpreter: in a 10-node cluster that keeps ~6 MiB of JIT compiler
 * and code pages out of each agent's resident memory and also costs less
 * CPU than compiling would (measured: scripts/build.mjs). Heavy work (large
 * clusters, big push/pulls, busy RPC clients) runs up to ~10x slower in the
 * interpreter, so once the process has been busy, the normal policy is
 * restored for good.
 *
 * Elsewhere (Deno, Node, `bun cli.ts`) the policy is already the normal one
 * and this does nothing visible.
 *
 * @module
 */
import type { Runtime } from "./types.ts";
import { type ActivityOptions, watchActivity } from "./activity.ts";

/** Tuning of {@link relaxJitWhenBusy}; the hooks are for tests. */
export interface JitWatchOptions extends ActivityOptions {
  /** Sets the JIT policy scale (default `Bun.unsafe.setJITPolicy`; none outside Bun). */
  setPolicy?: (scale: number) => void;
}

/** `Bun.unsafe.setJITPolicy`, if this runtime has it. */
function bunSetPolicy(): ((scale: number) => void) | undefined {
  const bun = (globalThis as { Bun?: { unsafe?: { setJITPolicy?: (scale: number) => void } } }).Bun;
  const set = bun?.unsafe?.setJITPolicy;
  return typeof set === "function" ? (scale) => set.call(bun!.unsafe, scale) : undefined;
}

/**
 * Watches the process's CPU use ({@link watchActivity}); the first window
 * with more than `busyShare` of a core sets the JIT policy back to normal
 * (1) and ends the watch. Returns a handle to stop watching earlier.
 *
 * @example
 * ```ts
 * const watch = relaxJitWhenBusy(runtime);
 * // ... at shutdown:
 * watch.stop();
 * ```
 */
export function relaxJitWhenBusy(
  clock: Pick<Runtime, "now" | "setTimer">,
  opts: JitWatchOptions = {},
): { stop(): void } {
  const relax = jitRelaxer(opts.setPolicy);
  if (!relax) return { stop() {} };
  return watchActivity(clock, relax, opts);
}

/**
 * The listener behind {@link relaxJitWhenBusy}, for a shared
 * {@link watchActivity}: sets the JIT policy to 1 on the first busy window
 * and returns false (done) from then on. Undefined where there is no JIT
 * policy to set.
 *
 * @example
 * ```ts
 * const relax = jitRelaxer();
 * if (relax) watchActivity(runtime, relax);
 * ```
 */
export function jitRelaxer(setPolicy = bunSetPolicy()): ((busy: boolean) => boolean) | undefined {
  if (!setPolicy) return undefined;
  let relaxed = false;
  return (busy) => {
    if (busy && !relaxed) {
      relaxed = true;
      setPolicy(1);
    }
    return !relaxed;
  };
}
