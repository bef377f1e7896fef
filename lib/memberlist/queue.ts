/**
 * memberlist's transmit-limited broadcast queue (`queue.go`): messages are
 * handed out fewest-transmissions first, then longest, then newest, and each
 * is dropped after `retransmitMult × ceil(log10(N+1))` transmissions. A named
 * broadcast replaces a queued one of the same name; unnamed ones are unique.
 *
 * @module
 */
import { retransmitLimit } from "./util.ts";

/** Something to gossip. */
export interface Broadcast {
  /** Broadcasts with the same name invalidate each other (memberlist: the node name). */
  name?: string;
  /** The complete message, type byte included. */
  message: Uint8Array;
  /** Called once when the broadcast is dropped: transmitted enough, invalidated, pruned or reset. */
  finished?(): void;
}

interface Item {
  transmits: number;
  id: number;
  b: Broadcast;
}

/** Go's `limitedBroadcast.Less`: fewer transmits, then longer message, then newer id. */
function less(a: Item, b: Item): boolean {
  if (a.transmits !== b.transmits) return a.transmits < b.transmits;
  if (a.b.message.length !== b.b.message.length) return a.b.message.length > b.b.message.length;
  return a.id > b.id;
}

/**
 * Go's `TransmitLimitedQueue`.
 *
 * @example
 * ```ts
 * const q = new TransmitLimitedQueue(() => members.length, 4);
 * q.queueBroadcast({ name: "node1", message: aliveBytes });
 * const msgs = q.getBroadcasts(2, 1398);
 * ```
 */
export class TransmitLimitedQueue {
  /** Kept in `less` order. */
  #items: Item[] = [];
  #byName = new Map<string, Item>();
  #idGen = 0;

  /** `numNodes` sizes the retransmit limit; `retransmitMult` scales it. */
  constructor(readonly numNodes: () => number, readonly retransmitMult: number) {}

  /** Queues `b`; a named broadcast replaces (and finishes) a queued one of the same name. */
  queueBroadcast(b: Broadcast): void {
    this.#idGen = this.#idGen >= Number.MAX_SAFE_INTEGER ? 1 : this.#idGen + 1;
    const item: Item = { transmits: 0, id: this.#idGen, b };
    if (b.name !== undefined && b.name !== "") {
      const old = this.#byName.get(b.name);
      if (old) {
        this.#delete(old);
        old.b.finished?.();
      }
    }
    this.#add(item);
  }

  /**
   * Up to `limit` bytes of broadcasts, counting `overhead` per message;
   * each one returned counts as one transmission.
   */
  getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    const items = this.#items;
    if (items.length === 0) return [];
    const transmitLimit = retransmitLimit(this.retransmitMult, this.numNodes());
    // Go walks the tiers (transmit counts) upwards and takes, again and
    // again, the first message of the tier that fits what is left. Items are
    // sorted by tier, then by length descending, and what is left only
    // shrinks, so that is one pass in order taking every message that fits
    // (skipping, by binary search, the rest of a tier's too-long ones).
    const out: Uint8Array[] = [];
    const taken: number[] = [];
    let used = 0;
    for (let i = 0; i < items.length;) {
      const free = limit - used - overhead;
      if (free <= 0) break;
      const len = items[i].b.message.length;
      if (len > free) {
        i = this.#nextFitting(i, free);
        continue;
      }
      used += overhead + len;
      out.push(items[i].b.message);
      taken.push(i++);
    }
    if (taken.length === 0) return out;
    const picked = this.#removeAt(taken);
    // As in Go: finished ones are dropped, the rest go back one tier up once the walk is over.
    const reinsert: Item[] = [];
    for (const it of picked) {
      if (it.transmits + 1 >= transmitLimit) it.b.finished?.();
      else {
        it.transmits++;
        reinsert.push(it);
      }
    }
    this.#addAll(reinsert);
    return out;
  }

  /** Number of queued broadcasts. */
  numQueued(): number {
    return this.#items.length;
  }

  /** Keeps the `maxRetain` best-ranked broadcasts, finishing the rest. */
  prune(maxRetain: number): void {
    while (this.#items.length > Math.max(0, maxRetain)) {
      const it = this.#items[this.#items.length - 1];
      this.#delete(it);
      it.b.finished?.();
    }
  }

  /** Finishes and drops everything. */
  reset(): void {
    const items = this.#items;
    this.#items = [];
    this.#byName.clear();
    this.#idGen = 0;
    for (const it of items) it.b.finished?.();
  }

  /** The queued messages in transmit order with their transmit counts (for tests). */
  orderedView(): { message: Uint8Array; transmits: number; name?: string }[] {
    return this.#items.map((it) => ({ message: it.b.message, transmits: it.transmits, name: it.b.name }));
  }

  #add(item: Item): void {
    this.#items.splice(this.#lowerBound(item), 0, item);
    if (item.b.name) this.#byName.set(item.b.name, item);
  }

  #delete(item: Item): void {
    const i = this.#indexOf(item);
    if (i >= 0) this.#items.splice(i, 1);
    if (item.b.name && this.#byName.get(item.b.name) === item) this.#byName.delete(item.b.name);
    if (this.#items.length === 0) this.#idGen = 0;
  }

  /**
   * The first position after `i` holding either a message of `i`'s tier no
   * longer than `free` or a message of a later tier (lengths descend within
   * a tier, so that is a binary search).
   */
  #nextFitting(i: number, free: number): number {
    const items = this.#items;
    const tier = items[i].transmits;
    let lo = i + 1, hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const it = items[mid];
      if (it.transmits === tier && it.b.message.length > free) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** {@link #delete} of the items at `positions` (ascending), a run at a time; returns them in order. */
  #removeAt(positions: number[]): Item[] {
    const items = this.#items;
    const gone = positions.map((p) => items[p]);
    for (let end = positions.length; end > 0;) {
      let start = end - 1;
      while (start > 0 && positions[start - 1] === positions[start] - 1) start--;
      items.splice(positions[start], end - start);
      end = start;
    }
    for (const item of gone) {
      if (item.b.name && this.#byName.get(item.b.name) === item) this.#byName.delete(item.b.name);
    }
    if (items.length === 0) this.#idGen = 0;
    return gone;
  }

  /**
   * {@link #add} of `sorted` (strictly ascending in `less` order) one after
   * the other: a single splice when they all fall between the same two
   * queued items (the usual case), else one by one.
   */
  #addAll(sorted: Item[]): void {
    const items = this.#items;
    const n = sorted.length;
    if (n > 1) {
      let ordered = true;
      for (let j = 1; j < n && ordered; j++) ordered = less(sorted[j - 1], sorted[j]);
      const at = this.#lowerBound(sorted[0]);
      if (ordered && (at === items.length || less(sorted[n - 1], items[at]))) {
        items.splice(at, 0, ...sorted);
        for (const it of sorted) if (it.b.name) this.#byName.set(it.b.name, it);
        return;
      }
    }
    for (const it of sorted) this.#add(it);
  }

  /** The first position whose item is not `less` than `item`. */
  #lowerBound(item: Item): number {
    const items = this.#items;
    let lo = 0, hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (less(items[mid], item)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Position of a queued item: binary search in `less` order, a scan when equal keys (ids restarted) hide it. */
  #indexOf(item: Item): number {
    const lo = this.#lowerBound(item);
    return this.#items[lo] === item ? lo : this.#items.indexOf(item);
  }
}
