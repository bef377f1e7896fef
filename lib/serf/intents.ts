/**
 * Buffered join/leave intents (`serf.go:upsertIntent/recentIntent/reapIntents`):
 * an intent about a node we do not know yet is kept until the node shows
 * up (or the intent expires), one entry per node, newest Lamport time wins.
 *
 * @module
 */

/** Which intent is buffered. */
export type IntentType = "join" | "leave";

interface Intent {
  type: IntentType;
  /** Host time (ms) the intent was recorded, for expiry. */
  wallTime: number;
  ltime: number;
}

/** The per-node intent buffer. */
export class RecentIntents {
  #intents = new Map<string, Intent>();

  /** Records an intent if it is the first for `node` or newer; true when recorded. */
  upsert(node: string, type: IntentType, ltime: number, now: number): boolean {
    const old = this.#intents.get(node);
    if (old && ltime <= old.ltime) return false;
    this.#intents.set(node, { type, wallTime: now, ltime });
    return true;
  }

  /** The Lamport time of a buffered intent of `type` for `node`, if any. */
  get(node: string, type: IntentType): number | undefined {
    const i = this.#intents.get(node);
    return i && i.type === type ? i.ltime : undefined;
  }

  /** Drops intents recorded more than `timeout` ms before `now`. */
  reap(now: number, timeout: number): void {
    for (const [node, i] of this.#intents) if (now - i.wallTime > timeout) this.#intents.delete(node);
  }

  /** Number of buffered intents. */
  get size(): number {
    return this.#intents.size;
  }
}
