/** A manual clock for timer-driven code: `advance(ms)` runs due timers in order. Test helper only. */
import type { Timer } from "../../lib/runtime/types.ts";

/** The clock returned by {@link fakeClock}. */
export interface FakeClock {
  now(): number;
  setTimer(ms: number, fn: () => void): Timer;
  /** Moves time forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void;
  /** Timers armed and not yet run or cancelled. */
  pending(): number;
}

/** A clock at 0 with no timers. */
export function fakeClock(): FakeClock {
  let now = 0;
  const timers: Array<{ due: number; fn: () => void; live: boolean }> = [];
  return {
    now: () => now,
    setTimer(ms: number, fn: () => void): Timer {
      const t = { due: now + ms, fn, live: true };
      timers.push(t);
      return { cancel: () => void (t.live = false) };
    },
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const next = timers.filter((t) => t.live && t.due <= end).sort((a, b) => a.due - b.due)[0];
        if (!next) break;
        next.live = false;
        now = next.due;
        next.fn();
      }
      now = end;
    },
    pending: () => timers.filter((t) => t.live).length,
  };
}
