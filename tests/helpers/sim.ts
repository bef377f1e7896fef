/**
 * Measurements over a {@link Simulator} run, shared by the simulator tests
 * and the benchmark.
 *
 * @module
 */
import { type SimEvent, simNodeName, type Simulator } from "../../lib/sim/simulator.ts";
import { NodeState } from "../../lib/memberlist/types.ts";

/** When each observer declared a node dead or left (virtual ms), from the simulator's events. */
export class LeaveWatch {
  /** observer index → time of its first leave event, per node name. */
  readonly seen = new Map<string, Map<number, { time: number; state: number }>>();

  /** Subscribes to `sim`'s events. */
  constructor(sim: Simulator) {
    sim.onEvent((e: SimEvent) => {
      if (e.kind !== "leave") return;
      let m = this.seen.get(e.node);
      if (!m) this.seen.set(e.node, m = new Map());
      if (!m.has(e.observer)) m.set(e.observer, { time: e.time, state: e.state });
    });
  }

  /** Observers that declared node `i` dead or left. */
  of(i: number): Map<number, { time: number; state: number }> {
    return this.seen.get(simNodeName(i)) ?? new Map();
  }

  /** Names of every node someone declared dead or left, except those in `expected`. */
  unexpected(expected: number[]): string[] {
    const ok = new Set(expected.map(simNodeName));
    return [...this.seen.keys()].filter((n) => !ok.has(n));
  }
}

/** Result of {@link measureCrash}. */
export interface CrashResult {
  /** Virtual ms from the crash until every live node declared it dead (undefined if not within maxMs). */
  allDeadMs?: number;
  /** Virtual ms until the first node declared it dead. */
  firstDeadMs?: number;
  /** Observers that declared it dead. */
  observers: number;
  /** Observers that declared it `left` instead of dead (must be 0). */
  wrongState: number;
}

/** Crashes node `victim` and runs until every live node declared it dead, or `maxMs`. */
export function measureCrash(sim: Simulator, watch: LeaveWatch, victim: number, maxMs: number): CrashResult {
  const t0 = sim.now;
  sim.crash(victim);
  const need = sim.liveNodes().length;
  sim.runUntil(() => watch.of(victim).size >= need, maxMs, 100);
  const seen = [...watch.of(victim).values()];
  const times = seen.map((s) => s.time - t0);
  return {
    allDeadMs: seen.length >= need ? Math.max(...times) : undefined,
    firstDeadMs: times.length ? Math.min(...times) : undefined,
    observers: seen.length,
    wrongState: seen.filter((s) => s.state !== NodeState.Dead).length,
  };
}

/** How many live nodes currently hold node `subject` in state `state`. */
export function countState(sim: Simulator, subject: number, state: number): number {
  let n = 0;
  for (const i of sim.liveNodes()) if (i !== subject && sim.stateOf(i, subject) === state) n++;
  return n;
}

/** Formats a figure line for logs. */
export function figure(label: string, values: Record<string, unknown>): string {
  return `${label}: ${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(" ")}`;
}
