/**
 * Lifeguard's suspicion timer (`memberlist/suspicion.go`): starts at `max`
 * (or `min` when no confirmations are expected) and shrinks towards `min` as
 * independent peers confirm the suspicion.
 *
 * @module
 */
import type { Scheduler, TimerHandle } from "../core/scheduler.ts";

/**
 * Time left (ms, may be ≤ 0) after `n` of `k` confirmations:
 * `max − log(n+1)/log(k+1)·(max − min)`, floored to whole ms, never below
 * `min`, minus `elapsed`.
 *
 * @example
 * ```ts
 * remainingSuspicionTime(0, 3, 0, 2000, 30000); // 30000
 * remainingSuspicionTime(3, 3, 0, 2000, 30000); // 2000
 * ```
 */
export function remainingSuspicionTime(n: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  const frac = Math.log(n + 1) / Math.log(k + 1);
  const raw = maxMs / 1000 - frac * (maxMs / 1000 - minMs / 1000);
  let timeout = Math.floor(1000 * raw);
  if (timeout < minMs) timeout = minMs;
  return timeout - elapsedMs;
}

/**
 * Go's `suspicion`: one per suspected node.
 *
 * @example
 * ```ts
 * const s = new Suspicion(scheduler, "a", 2, 4000, 24000, now, (c) => markDead(c));
 * s.confirm("b", later); // true: new information, re-gossip it
 * ```
 */
export class Suspicion {
  #n = 0;
  #timer: TimerHandle;
  #fired = false;
  readonly #confirmations = new Set<string>();
  readonly #start: number;

  /**
   * Starts the timer at `now`; `from` (the first accuser) never counts as a
   * confirmation; `onTimeout` receives the number of confirmations.
   */
  constructor(
    readonly scheduler: Scheduler,
    from: string,
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
    now: number,
    readonly onTimeout: (confirmations: number) => void,
  ) {
    this.#confirmations.add(from);
    const timeout = k < 1 ? minMs : maxMs;
    this.#start = now;
    this.#timer = this.#arm(now + timeout);
  }

  /** Confirmations counted so far. */
  get confirmations(): number {
    return this.#n;
  }

  /** When the timer fires (ms). */
  get deadline(): number {
    return this.#timer.at;
  }

  /**
   * A peer also suspects the node. Returns true when this is new information
   * (a new peer while fewer than k confirmed); the timer is then shortened.
   */
  confirm(from: string, now: number): boolean {
    if (this.#n >= this.k) return false;
    if (this.#confirmations.has(from)) return false;
    this.#confirmations.add(from);
    this.#n++;
    const remaining = remainingSuspicionTime(this.#n, this.k, now - this.#start, this.minMs, this.maxMs);
    if (!this.#fired) {
      this.#timer.cancel();
      this.#timer = this.#arm(remaining > 0 ? now + remaining : now);
    }
    return true;
  }

  /** Stops the timer. */
  cancel(): void {
    this.#timer.cancel();
    this.#fired = true;
  }

  #arm(at: number): TimerHandle {
    return this.scheduler.at(at, () => {
      this.#fired = true;
      this.onTimeout(this.#n);
    });
  }
}
