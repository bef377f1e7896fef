/**
 * Lifeguard's local health awareness (`memberlist/awareness.go`): a score in
 * [0, max−1] that grows when we miss probes or must refute accusations and
 * shrinks on successful probes; timeouts scale by score+1.
 *
 * @module
 */

/**
 * Go's `awareness`.
 *
 * @example
 * ```ts
 * const a = new Awareness(8);
 * a.applyDelta(2);
 * a.scaleTimeout(1000); // 3000
 * ```
 */
export class Awareness {
  #score = 0;

  /** `max` is AwarenessMaxMultiplier: the score stays below it. */
  constructor(readonly max: number) {}

  /** Adds `delta`, clamped to [0, max−1]. Returns true when the score changed. */
  applyDelta(delta: number): boolean {
    const initial = this.#score;
    let s = initial + delta;
    if (s < 0) s = 0;
    else if (s > this.max - 1) s = this.max - 1;
    this.#score = s;
    return s !== initial;
  }

  /** The current score (0 = healthy). */
  getHealthScore(): number {
    return this.#score;
  }

  /** `timeout × (score + 1)`. */
  scaleTimeout(timeoutMs: number): number {
    return timeoutMs * (this.#score + 1);
  }
}
