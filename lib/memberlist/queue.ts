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
  /** `message.length`, kept here for the comparisons. */
  len: number;
  name: string | undefined;
  message: Uint8Array;
  /** The broadcast, kept only when it has a `finished` to call (as its method). */
  owner: Broadcast | undefined;
}

/** Go's `limitedBroadcast.Less` within one tier (same transmits): longer message, then newer id. */
function less(a: Item, b: Item): boolean {
  if (a.len !== b.len) return a.len > b.len;
  return a.id > b.id;
}

/**
 * Go's `TransmitLimitedQueue`. Go keeps one B-tree ordered by (transmits,
 * length descending, id descending); here each tier (transmit count) has its
 * own array in (length, id) order, so moving messages between tiers shifts
 * short arrays.
 *
 * @example
 * ```ts
 * const q = new TransmitLimitedQueue(() => members.length, 4);
 * q.queueBroadcast({ name: "node1", message: aliveBytes });
 * const msgs = q.getBroadcasts(2, 1398);
 * ```
 */
export class TransmitLimitedQueue {
  /** Items by transmit count, each tier in `less` order. */
  #tiers: Item[][] = [];
  #count = 0;
  #byName = new Map<string, Item>();
  #idGen = 0;

  /** `numNodes` sizes the retransmit limit; `retransmitMult` scales it. */
  constructor(readonly numNodes: () => number, readonly retransmitMult: number) {}

  /** Queues `b`; a named broadcast replaces (and finishes) a queued one of the same name. */
  queueBroadcast(b: Broadcast): void {
    this.#idGen = this.#idGen >= Number.MAX_SAFE_INTEGER ? 1 : this.#idGen + 1;
    const item: Item = {
      transmits: 0,
      id: this.#idGen,
      len: b.message.length,
      name: b.name,
      message: b.message,
      owner: b.finished ? b : undefined,
    };
    if (b.name !== undefined && b.name !== "") {
      const old = this.#byName.get(b.name);
      if (old) {
        this.#delete(old);
        old.owner?.finished?.();
      }
    }
    this.#add(item);
  }

  /**
   * Up to `limit` bytes of broadcasts, counting `overhead` per message;
   * each one returned counts as one transmission.
   */
  getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    if (this.#count === 0) return [];
    const transmitLimit = retransmitLimit(this.retransmitMult, this.numNodes());
    // Go walks the tiers upwards and takes, again and again, the first
    // message of the tier that fits what is left. Within a tier lengths
    // descend and what is left only shrinks, so that is one pass in order
    // taking every message that fits (skipping, by binary search, the rest
    // of a tier's too-long ones). Taken messages move up a tier only once
    // the walk is over.
    const out: Uint8Array[] = [];
    const taken: Item[] = [];
    let used = 0;
    const positions: number[] = [];
    for (const tier of this.#tiers) {
      if (!tier || tier.length === 0) continue;
      let free = limit - used - overhead;
      for (let i = 0; i < tier.length && free > 0;) {
        const len = tier[i].len;
        if (len > free) {
          i = nextFitting(tier, i, free);
          continue;
        }
        used += overhead + len;
        free = limit - used - overhead;
        out.push(tier[i].message);
        taken.push(tier[i]);
        positions.push(i++);
      }
      if (positions.length) {
        this.#count -= positions.length;
        removeRuns(tier, positions);
        positions.length = 0;
      }
      if (free <= 0) break;
    }
    if (taken.length === 0) return out;
    if (this.#count === 0) this.#idGen = 0;
    // As in Go: finished ones are dropped, the rest go one tier up (keeping
    // their name entries); finished() runs once the queue is consistent again,
    // as Go calls it under the queue's lock.
    const done: Item[] = [];
    for (const it of taken) {
      if (it.transmits + 1 >= transmitLimit) {
        if (it.name && this.#byName.get(it.name) === it) this.#byName.delete(it.name);
        done.push(it);
      } else {
        it.transmits++;
        this.#insert(it);
      }
    }
    for (const it of done) it.owner?.finished?.();
    return out;
  }

  /** Number of queued broadcasts. */
  numQueued(): number {
    return this.#count;
  }

  /** Keeps the `maxRetain` best-ranked broadcasts, finishing the rest. */
  prune(maxRetain: number): void {
    while (this.#count > Math.max(0, maxRetain)) {
      const tiers = this.#tiers;
      let t = tiers.length - 1;
      while (!tiers[t] || tiers[t].length === 0) t--;
      const it = tiers[t][tiers[t].length - 1];
      this.#delete(it);
      it.owner?.finished?.();
    }
  }

  /** Finishes and drops everything. */
  reset(): void {
    const items = this.#ordered();
    this.#tiers = [];
    this.#count = 0;
    this.#byName.clear();
    this.#idGen = 0;
    for (const it of items) it.owner?.finished?.();
  }

  /** The queued messages in transmit order with their transmit counts (for tests). */
  orderedView(): { message: Uint8Array; transmits: number; name?: string }[] {
    return this.#ordered().map((it) => ({ message: it.message, transmits: it.transmits, name: it.name }));
  }

  /** Every item in Go's order. */
  #ordered(): Item[] {
    const out: Item[] = [];
    for (const tier of this.#tiers) if (tier) out.push(...tier);
    return out;
  }

  #add(item: Item): void {
    this.#insert(item);
    if (item.name) this.#byName.set(item.name, item);
  }

  /** Puts `item` in its tier (name entry untouched). */
  #insert(item: Item): void {
    const tier = this.#tiers[item.transmits] ??= [];
    tier.splice(lowerBound(tier, item), 0, item);
    this.#count++;
  }

  #delete(item: Item): void {
    const tier = this.#tiers[item.transmits];
    const i = tier ? indexIn(tier, item) : -1;
    if (i >= 0) {
      tier.splice(i, 1);
      this.#count--;
    }
    if (item.name && this.#byName.get(item.name) === item) this.#byName.delete(item.name);
    if (this.#count === 0) this.#idGen = 0;
  }
}

/** Removes the items at `positions` (ascending) from `tier`, one splice per run of neighbours, last run first. */
function removeRuns(tier: Item[], positions: number[]): void {
  for (let end = positions.length; end > 0;) {
    let start = end - 1;
    while (start > 0 && positions[start - 1] === positions[start] - 1) start--;
    tier.splice(positions[start], end - start);
    end = start;
  }
}

/**
 * The first position after `i` in `tier` whose message is no longer than
 * `free` (lengths descend within a tier, so a binary search), or its length.
 */
function nextFitting(tier: Item[], i: number, free: number): number {
  let lo = i + 1, hi = tier.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tier[mid].len > free) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first position in `tier` whose item is not `less` than `item`. */
function lowerBound(tier: Item[], item: Item): number {
  let lo = 0, hi = tier.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (less(tier[mid], item)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Position of `item` in `tier`: binary search, a scan when equal keys (ids restarted) hide it. */
function indexIn(tier: Item[], item: Item): number {
  const lo = lowerBound(tier, item);
  return tier[lo] === item ? lo : tier.indexOf(item);
}
