/**
 * The recent-event and recent-query rings Serf de-duplicates with
 * (`serf.go:handleUserEvent/handleQuery`): slot `LTime % size` remembers what
 * was seen at that Lamport time.
 *
 * @module
 */
import type { EventSlot } from "./messages.ts";

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  const x = a ?? new Uint8Array(0), y = b ?? new Uint8Array(0);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** User events by Lamport time; its slots are what push/pull sends as `Events`. */
export class EventRing {
  /** The slots, `null` when empty. */
  readonly slots: (EventSlot | null)[];

  /** Creates a ring of `size` slots (Go: EventBuffer, 512). */
  constructor(readonly size: number) {
    this.slots = new Array(size).fill(null);
  }

  /** Records the event; false if the same (LTime, Name, Payload) was already recorded. */
  record(ltime: number, name: string, payload: Uint8Array | null): boolean {
    const idx = ltime % this.size;
    let slot = this.slots[idx];
    if (slot && slot.ltime === ltime) {
      if (slot.events.some((e) => e.name === name && sameBytes(e.payload, payload))) return false;
    } else {
      slot = { ltime, events: [] };
      this.slots[idx] = slot;
    }
    slot.events.push({ name, payload });
    return true;
  }
}

/** Query ids by Lamport time. */
export class QueryRing {
  #slots: ({ ltime: number; ids: number[] } | null)[];

  /** Creates a ring of `size` slots (Go: QueryBuffer, 512). */
  constructor(readonly size: number) {
    this.#slots = new Array(size).fill(null);
  }

  /** Records query `id`; false if it was already recorded at this LTime. */
  record(ltime: number, id: number): boolean {
    const idx = ltime % this.size;
    let slot = this.#slots[idx];
    if (slot && slot.ltime === ltime) {
      if (slot.ids.includes(id)) return false;
    } else {
      slot = { ltime, ids: [] };
      this.#slots[idx] = slot;
    }
    slot.ids.push(id);
    return true;
  }
}

/** Go's "too old" test: the clock is past `size` and `ltime` is more than `size` behind it. */
export function tooOld(ltime: number, clock: number, size: number): boolean {
  return clock > size && ltime < clock - size;
}
