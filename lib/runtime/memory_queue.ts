/**
 * The memory network's event queue: a binary min-heap ordered by (time,
 * insertion sequence), so equal-time events run in the order they were
 * scheduled and a run is reproducible. O(log n) push/pop, lazy cancellation
 * with amortised compaction, no allocation besides the event itself.
 *
 * @module
 */

/** One scheduled event; `fn` is null once it ran or was cancelled. */
export interface QueuedEvent {
  /** Due time (virtual ms). */
  readonly time: number;
  /** Insertion sequence: the tie-breaker. */
  readonly seq: number;
  /** The callback, or null when cancelled or already taken. */
  fn: (() => void) | null;
}

/** Min-heap of {@link QueuedEvent}s. */
export class EventQueue {
  #heap: QueuedEvent[] = [];
  #seq = 0;
  #cancelled = 0;

  /** Live events (scheduled, not run, not cancelled). */
  get size(): number {
    return this.#heap.length - this.#cancelled;
  }

  /** Schedules `fn` at `time`. */
  push(time: number, fn: () => void): QueuedEvent {
    const e: QueuedEvent = { time, seq: this.#seq++, fn };
    const h = this.#heap;
    h.push(e);
    this.#up(h.length - 1);
    return e;
  }

  /** Cancels `e` if it has not run; idempotent. */
  cancel(e: QueuedEvent): void {
    if (e.fn === null) return;
    e.fn = null;
    this.#cancelled++;
    if (this.#cancelled > 1024 && this.#cancelled * 2 > this.#heap.length) this.#compact();
  }

  /** Due time of the earliest live event, or undefined when empty. */
  peekTime(): number | undefined {
    this.#dropCancelledTop();
    return this.#heap.length ? this.#heap[0].time : undefined;
  }

  /** Removes the earliest live event and returns its callback (its `fn` becomes null), or undefined. */
  take(): (() => void) | undefined {
    this.#dropCancelledTop();
    if (!this.#heap.length) return undefined;
    const e = this.#popTop();
    const fn = e.fn!;
    e.fn = null;
    return fn;
  }

  #dropCancelledTop(): void {
    const h = this.#heap;
    while (h.length && h[0].fn === null) {
      this.#popTop();
      this.#cancelled--;
    }
  }

  #popTop(): QueuedEvent {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      this.#down(0);
    }
    return top;
  }

  #up(i: number): void {
    const h = this.#heap;
    const e = h[i];
    const t = e.time, s = e.seq;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const q = h[p];
      if (q.time < t || (q.time === t && q.seq < s)) break;
      h[i] = q;
      i = p;
    }
    h[i] = e;
  }

  #down(i: number): void {
    const h = this.#heap;
    const n = h.length;
    const e = h[i];
    const t = e.time, s = e.seq;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let m = h[c];
      if (c + 1 < n) {
        const r = h[c + 1];
        if (r.time < m.time || (r.time === m.time && r.seq < m.seq)) {
          c++;
          m = r;
        }
      }
      if (t < m.time || (t === m.time && s < m.seq)) break;
      h[i] = m;
      i = c;
    }
    h[i] = e;
  }

  /** Drops cancelled entries and re-heapifies: O(n), run only when most entries are dead. */
  #compact(): void {
    this.#heap = this.#heap.filter((e) => e.fn !== null);
    this.#cancelled = 0;
    for (let i = (this.#heap.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }
}
