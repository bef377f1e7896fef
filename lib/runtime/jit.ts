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

/** `Bun.unsafe.setJITPolicy`, if this runtime has it. */
function bunSetPolicy(): ((scale: number) => void) | undefined {
  const bun = (globalThis as { Bun?: { unsafe?: { setJITPolicy?: (scale: number) => void } } }).Bun;
  const set = bun?.unsafe?.setJITPolicy;
  return typeof set === "function" ? (scale) => set.call(bun!.unsafe, scale) : undefined;
}

/**
 * A listener for `watchActivity` (lib/runtime/activity.ts): sets the JIT
 * policy to 1 (by default `Bun.unsafe.setJITPolicy`) on the first busy
 * window and returns false (done) from then on. Undefined where there is no
 * JIT policy to set.
 *
 * @example
 * ```ts
 * const relax = jitRelaxer();
 * if (relax) watchActivity(runtime, relax); // from lib/runtime/activity.ts
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
