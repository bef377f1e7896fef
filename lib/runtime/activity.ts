/**
 * How busy this process is: its CPU time sampled over fixed windows. The
 * compiled agent uses it to tune itself to its load (lib/runtime/jit.ts,
 * lib/runtime/trim.ts).
 *
 * @module
 */
import process from "node:process";
import type { Runtime, Timer } from "./types.ts";

/** Tuning of {@link watchActivity}; the CPU hook is for tests. */
export interface ActivityOptions {
  /** Sampling window in ms (default 5 s). */
  windowMs?: number;
  /** CPU share of one core over a window that counts as busy (default 0.05). */
  busyShare?: number;
  /** The process's CPU time so far, in microseconds (default `process.cpuUsage()`). */
  cpuMicros?: () => number;
}

function processCpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Calls `onWindow(busy)` at the end of every `windowMs` window: `busy` when
 * the process used more than `busyShare` of a core during that window. The
 * watch ends when `onWindow` returns false or `stop()` is called.
 *
 * @example
 * ```ts
 * const watch = watchActivity(runtime, (busy) => console.log(busy ? "busy" : "idle"));
 * // ... at shutdown:
 * watch.stop();
 * ```
 */
export function watchActivity(
  clock: Pick<Runtime, "now" | "setTimer">,
  onWindow: (busy: boolean) => boolean | void,
  opts: ActivityOptions = {},
): { stop(): void } {
  const windowMs = opts.windowMs ?? 5000;
  const busyShare = opts.busyShare ?? 0.05;
  const cpuMicros = opts.cpuMicros ?? processCpuMicros;
  let timer: Timer | undefined;
  let stopped = false;
  let since = clock.now();
  let used = cpuMicros();
  const sample = () => {
    const now = clock.now(), cpu = cpuMicros();
    const share = (cpu - used) / 1000 / Math.max(1, now - since);
    since = now;
    used = cpu;
    timer = undefined;
    if (onWindow(share > busyShare) === false || stopped) return;
    timer = clock.setTimer(windowMs, sample);
  };
  timer = clock.setTimer(windowMs, sample);
  return {
    stop() {
      stopped = true;
      timer?.cancel();
      timer = undefined;
    },
  };
}
