/**
 * The real clock, timers and randomness shared by the Node, Deno and Bun
 * adapters.
 *
 * @module
 */
import type { Runtime, Timer } from "./types.ts";

/** The clock part of a {@link Runtime}. */
export type Clock = Pick<Runtime, "now" | "setTimer" | "random">;

/** setTimeout's largest delay; longer ones fire after 1 ms in every runtime, so we chain. */
const MAX_DELAY = 2 ** 31 - 1;

/** Like `setTimeout`, but exact for delays beyond ~24.8 days and tolerant of NaN/negative. */
function setTimer(ms: number, fn: () => void): Timer {
  const due = performance.now() + (Number.isFinite(ms) && ms > 0 ? ms : 0);
  let handle: ReturnType<typeof setTimeout>;
  const arm = () => {
    const left = due - performance.now();
    if (left > MAX_DELAY) handle = setTimeout(arm, MAX_DELAY);
    else handle = setTimeout(fn, Math.max(0, left));
  };
  arm();
  return { cancel: () => clearTimeout(handle) };
}

/** `performance.now()` (monotonic ms), `setTimeout` timers and `Math.random`. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer,
  random: () => Math.random(),
};
