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
import process from "node:process";
import type { Runtime, Timer } from "./types.ts";

/** Tuning of {@link relaxJitWhenBusy}; the hooks are for tests. */
export interface JitWatchOptions {
  /** Sampling window in ms (default 5 s). */
  windowMs?: number;
  /** CPU share of one core over a window that counts as busy (default 0.05). */
  busyShare?: number;
  /** The process's CPU time so far, in microseconds (default `process.cpuUsage()`). */
  cpuMicros?: () => number;
  /** Sets the JIT policy scale (default `Bun.unsafe.setJITPolicy`; none outside Bun). */
  setPolicy?: (scale: number) => void;
}

/** `Bun.unsafe.setJITPolicy`, if this runtime has it. */
function bunSetPolicy(): ((scale: number) => void) | undefined {
  const bun = (globalThis as { Bun?: { unsafe?: { setJITPolicy?: (scale: number) => void } } }).Bun;
  const set = bun?.unsafe?.setJITPolicy;
  return typeof set === "function" ? (scale) => set.call(bun!.unsafe, scale) : undefined;
}

function processCpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Samples the process's CPU time every `windowMs`; the first window with
 * more than `busyShare` of a core sets the JIT policy back to normal (1)
 * and ends the watch. Returns a handle to stop watching earlier.
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
  const setPolicy = opts.setPolicy ?? bunSetPolicy();
  if (!setPolicy) return { stop() {} };
  const windowMs = opts.windowMs ?? 5000;
  const busyShare = opts.busyShare ?? 0.05;
  const cpuMicros = opts.cpuMicros ?? processCpuMicros;
  let timer: Timer | undefined;
  let since = clock.now();
  let used = cpuMicros();
  const sample = () => {
    const now = clock.now(), cpu = cpuMicros();
    const share = (cpu - used) / 1000 / Math.max(1, now - since);
    since = now;
    used = cpu;
    if (share > busyShare) {
      timer = undefined;
      setPolicy(1);
      return;
    }
    timer = clock.setTimer(windowMs, sample);
  };
  timer = clock.setTimer(windowMs, sample);
  return {
    stop() {
      timer?.cancel();
      timer = undefined;
    },
  };
}
