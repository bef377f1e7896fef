/**
 * A bounded queue drained asynchronously: the stand-in for Go's buffered
 * channel + sender goroutine behind each event stream and log monitor
 * (`agent/ipc_event_stream.go`, `ipc_log_stream.go`). Items offered while
 * the queue holds `capacity` undelivered items are dropped.
 *
 * @module
 */
import type { Runtime, Timer } from "../runtime/types.ts";

/** Go's per-stream channel size. */
export const STREAM_BUFFER = 512;

/** Delivers items in order on a later tick; drops on overflow. */
export class Pump<T> {
  #queue: T[] = [];
  #head = 0;
  #timer: Timer | null = null;
  #stopped = false;

  /**
   * Creates a pump delivering through `deliver`; `onDrop` is called for each
   * dropped item.
   */
  constructor(
    readonly runtime: Pick<Runtime, "setTimer">,
    readonly capacity: number,
    readonly deliver: (item: T) => void,
    readonly onDrop: (item: T) => void,
  ) {}

  /** Undelivered items. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  /** Queues `item` (or drops it when full); no-op after {@link stop}. */
  offer(item: T): void {
    if (this.#stopped) return;
    if (this.size >= this.capacity) return this.onDrop(item);
    this.#queue.push(item);
    this.#timer ??= this.runtime.setTimer(0, () => this.#drain());
  }

  /** Discards queued items and refuses new ones. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    this.#queue = [];
    this.#head = 0;
  }

  #drain(): void {
    this.#timer = null;
    while (!this.#stopped && this.#head < this.#queue.length) {
      const item = this.#queue[this.#head++];
      this.deliver(item);
    }
    if (!this.#stopped) {
      this.#queue = [];
      this.#head = 0;
    }
  }
}
