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
    if (this.#items.length === 0) return [];
    const transmitLimit = retransmitLimit(this.retransmitMult, this.numNodes());
    const minTr = this.#items[0].transmits;
    const maxTr = this.#items[this.#items.length - 1].transmits;
    const out: Uint8Array[] = [];
    const reinsert: Item[] = [];
    let used = 0;
    for (let tier = minTr; tier <= maxTr;) {
      const free = limit - used - overhead;
      if (free <= 0) break;
      const keep = this.#items.find((it) => it.transmits === tier && it.b.message.length <= free);
      if (!keep) {
        tier++;
        continue;
      }
      used += overhead + keep.b.message.length;
      out.push(keep.b.message);
      this.#delete(keep);
      if (keep.transmits + 1 >= transmitLimit) keep.b.finished?.();
      else {
        keep.transmits++;
        reinsert.push(keep);
      }
    }
    for (const it of reinsert) this.#add(it);
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
    let lo = 0, hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (less(this.#items[mid], item)) lo = mid + 1;
      else hi = mid;
    }
    this.#items.splice(lo, 0, item);
    if (item.b.name) this.#byName.set(item.b.name, item);
  }

  #delete(item: Item): void {
    const i = this.#items.indexOf(item);
    if (i >= 0) this.#items.splice(i, 1);
    if (item.b.name && this.#byName.get(item.b.name) === item) this.#byName.delete(item.b.name);
    if (this.#items.length === 0) this.#idGen = 0;
  }
}
