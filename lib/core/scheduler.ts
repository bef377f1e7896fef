/**
 * A virtual-time timer queue for the sans-IO cores. The cores never touch
 * real timers: they schedule callbacks here, and the host (real runtime or
 * simulator) asks {@link Scheduler.nextDeadline} when to call
 * {@link Scheduler.runDue} next.
 *
 * @module
 */

/** A handle to a scheduled callback; `cancel()` is idempotent. */
export interface TimerHandle {
  /** Prevents the callback from running if it has not run yet. */
  cancel(): void;
  /** The time (ms, host clock) the callback is due. */
  readonly at: number;
}

interface Entry extends TimerHandle {
  seq: number;
  fn: (now: number) => void;
  cancelled: boolean;
}

/**
 * Min-heap of callbacks ordered by due time, then by insertion order, so a
 * run is deterministic for a given sequence of calls.
 *
 * @example
 * ```ts
 * const s = new Scheduler();
 * s.at(100, (now) => console.log("fired at", now));
 * s.runDue(150); // fired at 150
 * ```
 */
export class Scheduler {
  #heap: Entry[] = [];
  #seq = 0;

  /** Schedules `fn` to run at absolute time `at` (ms). */
  at(at: number, fn: (now: number) => void): TimerHandle {
    const e: Entry = {
      at,
      seq: this.#seq++,
      fn,
      cancelled: false,
      cancel() {
        this.cancelled = true;
      },
    };
    this.#push(e);
    return e;
  }

  /** Earliest due time of a live callback, or undefined when idle. */
  nextDeadline(): number | undefined {
    while (this.#heap.length && this.#heap[0].cancelled) this.#pop();
    return this.#heap.length ? this.#heap[0].at : undefined;
  }

  /** Runs every callback due at or before `now`, including ones they schedule. */
  runDue(now: number): void {
    for (;;) {
      const next = this.nextDeadline();
      if (next === undefined || next > now) return;
      const e = this.#pop()!;
      e.cancelled = true;
      e.fn(now);
    }
  }

  /** Number of live callbacks (for tests and stats). */
  get size(): number {
    return this.#heap.filter((e) => !e.cancelled).length;
  }

  /** Cancels everything. */
  clear(): void {
    for (const e of this.#heap) e.cancelled = true;
    this.#heap = [];
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    if (!h.length) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l], h[m])) m = l;
        if (r < h.length && this.#less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
