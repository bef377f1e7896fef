/**
 * Go's timing formulas (serf-protocol.md §2.4) as an independent oracle for
 * the simulator's tests and benchmark: suspicion timeouts, retransmit
 * limits, push/pull scaling, and the epidemic model of Serf's website
 * convergence simulator. Nothing here is used by the cores themselves.
 *
 * @module
 */
import type { MemberlistConfig } from "../memberlist/types.ts";

/** The timing fields of a memberlist configuration that the formulas need. */
export type TimingConfig = Pick<
  MemberlistConfig,
  | "probeInterval"
  | "probeTimeout"
  | "suspicionMult"
  | "suspicionMaxTimeoutMult"
  | "gossipInterval"
  | "gossipNodes"
  | "retransmitMult"
  | "pushPullInterval"
  | "udpBufferSize"
>;

/**
 * Minimum suspicion timeout (ms): `SuspicionMult × max(1, log10(max(1, n))) × ProbeInterval`,
 * the node scale truncated to 1/1000 as Go's `time.Duration` arithmetic does.
 */
export function suspicionMinMs(c: TimingConfig, n: number): number {
  const scale = Math.trunc(Math.max(1, Math.log10(Math.max(1, n))) * 1000);
  return Math.trunc((c.suspicionMult * scale * c.probeInterval) / 1000);
}

/** Maximum suspicion timeout (ms): `SuspicionMaxTimeoutMult × min`. */
export function suspicionMaxMs(c: TimingConfig, n: number): number {
  return c.suspicionMaxTimeoutMult * suspicionMinMs(c, n);
}

/**
 * The suspicion timer a node starts with (ms): the maximum when it expects
 * confirmations (k = SuspicionMult − 2 ≥ 1 and n − 2 ≥ k), else the minimum.
 */
export function suspicionStartMs(c: TimingConfig, n: number): number {
  const k = c.suspicionMult - 2;
  return k >= 1 && n - 2 >= k ? suspicionMaxMs(c, n) : suspicionMinMs(c, n);
}

/** Transmissions per broadcast: `RetransmitMult × ceil(log10(n + 1))`. */
export function retransmitLimit(c: TimingConfig, n: number): number {
  return c.retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** Push/pull interval (ms) scaled for n nodes (× (ceil(log2 n − log2 32) + 1) above 32). */
export function pushPullIntervalMs(c: TimingConfig, n: number): number {
  if (n <= 32) return c.pushPullInterval;
  return c.pushPullInterval * (Math.ceil(Math.log2(n) - Math.log2(32)) + 1);
}

/**
 * Gossip rounds until the website simulator's logistic model has informed
 * `target` of n nodes (default: all but half a node): infected(x) =
 * n / (1 + (n+1)·e^(−contact·n·x)), contact = (fanout/n)·(1−loss)·0.5.
 */
export function disseminationRounds(n: number, fanout: number, loss = 0, target = n - 0.5): number {
  const rate = fanout * (1 - loss) * 0.5;
  // Solve n / (1 + (n+1) e^(-rate x)) >= target for x.
  const x = Math.log(((n + 1) * target) / (n - target)) / rate;
  return Math.max(1, Math.ceil(x));
}

/** Dissemination time (ms) of one broadcast to everyone: rounds × GossipInterval. */
export function disseminationMs(c: TimingConfig, n: number, loss = 0): number {
  return disseminationRounds(n, c.gossipNodes, loss) * c.gossipInterval;
}

/**
 * Probe intervals within which some live node will have probed a given node
 * with probability ≥ 1 − e^(−intervals): every node probes one peer per
 * interval, so a given node is missed by all n−1 probers in one interval with
 * probability ≈ (1 − 1/(n−1))^(n−1) ≈ 1/e.
 */
export function probeSlackMs(c: TimingConfig, intervals = 10): number {
  return (intervals + 1) * c.probeInterval;
}

/**
 * Upper bound (ms) for every live node to declare a crashed node dead: it is
 * probed and suspected (probe slack), the suspicion reaches everyone (twice
 * the modelled dissemination), and each node's own timer runs at most its
 * maximum.
 */
export function crashDetectionBoundMs(c: TimingConfig, n: number, loss = 0): number {
  return probeSlackMs(c) + 2 * disseminationMs(c, n, loss) + suspicionStartMs(c, n);
}

/**
 * The figures Go's formulas give for a cluster of n, as printed by the
 * simulator tests and benchmark.
 */
export function formulaFigures(c: TimingConfig, n: number, loss = 0): Record<string, number> {
  return {
    suspicionMinMs: suspicionMinMs(c, n),
    suspicionMaxMs: suspicionMaxMs(c, n),
    retransmitLimit: retransmitLimit(c, n),
    pushPullIntervalMs: pushPullIntervalMs(c, n),
    disseminationRounds: disseminationRounds(n, c.gossipNodes, loss),
    disseminationMs: disseminationMs(c, n, loss),
    crashDetectionBoundMs: crashDetectionBoundMs(c, n, loss),
    joinConvergenceBoundMs: joinConvergenceBoundMs(c, n, 0),
  };
}

/** Bytes of one alive message about a node named like `node-123` with Serf-sized meta (≈ the simulator's). */
export const TYPICAL_ALIVE_BYTES = 80;

/**
 * Upper-bound model (ms) for a cluster of n to converge after joins spread
 * over `joinSpanMs`, when n fresh alive messages compete for piggyback space.
 * The logistic model above ignores packet capacity; here each gossip round
 * carries `gossipNodes × floor((UDPBufferSize−2)/(aliveBytes+2))` messages per
 * node, so one full pass over n messages takes n / capacity rounds, and an
 * epidemic needs ≈ log_{1+fanout}(n) passes. Twice that, plus twice the
 * logistic dissemination, after the last join.
 */
export function joinConvergenceBoundMs(
  c: TimingConfig,
  n: number,
  joinSpanMs: number,
  aliveBytes = TYPICAL_ALIVE_BYTES,
): number {
  const perPacket = Math.max(1, Math.floor((c.udpBufferSize - 2) / (aliveBytes + 2)));
  const perRound = c.gossipNodes * perPacket;
  const passRounds = Math.ceil(n / perRound);
  const passes = Math.ceil(Math.log(n) / Math.log(1 + c.gossipNodes));
  return joinSpanMs + 2 * passes * passRounds * c.gossipInterval + 2 * disseminationMs(c, n);
}
