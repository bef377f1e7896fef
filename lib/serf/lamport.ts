/**
 * Lamport clocks (Go's `serf.LamportClock`): Serf keeps three of them, for
 * member intents, user events and queries.
 *
 * @module
 */

/**
 * A Lamport clock. Values are plain numbers (Go uses uint64; real clusters
 * stay far below 2^53).
 *
 * @example
 * ```ts
 * const c = new LamportClock();
 * c.increment(); // 1
 * c.witness(5);  // time() === 6
 * ```
 */
export class LamportClock {
  #counter = 0;

  /** The current value. */
  time(): number {
    return this.#counter;
  }

  /** Adds one and returns the new value. */
  increment(): number {
    return ++this.#counter;
  }

  /** Moves the clock to `v + 1` unless it is already past `v` (Go: nothing if `v < current`). */
  witness(v: number): void {
    if (v < this.#counter) return;
    this.#counter = v + 1;
  }
}
