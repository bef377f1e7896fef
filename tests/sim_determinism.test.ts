/**
 * The simulator is deterministic: the same seed gives the same run (event
 * digest, event count, network counters, final views), a different seed a
 * different one. Also checks the small API surface (views, crash, partition).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { NodeState } from "../lib/memberlist/types.ts";
import { simNodeIp, simNodeName, Simulator } from "../lib/sim/simulator.ts";

interface RunSummary {
  /** UDP + TCP payload bytes (differ with compression). */
  bytes: number;
  digest: string;
  events: number;
  stats: string;
  views: string;
  convergedAt?: number;
}

/** A scripted 30-node run touching joins, loss, a crash and a partition. */
async function run(seed: number, compression = false): Promise<RunSummary> {
  const sim = new Simulator({ nodes: 30, seed, profile: "local", jitterMs: 3, compression });
  await sim.start();
  const convergedAt = sim.timeToConverge(30_000);
  sim.setLoss(0.05);
  sim.advance(5_000);
  sim.crash(7);
  sim.advance(10_000);
  sim.partition([1, 2, 3], [0, 4, 5, 6]);
  sim.advance(2_000);
  sim.heal();
  sim.setLoss(0);
  sim.advance(30_000);
  const views = [...sim.views()].map(([k, v]) => `${k}:${[...v].map(([n, s]) => `${n}=${s}`).sort().join(",")}`).join(
    ";",
  );
  await sim.stop();
  const { bytes: _bytes, tcpBytes: _tcpBytes, ...counts } = sim.net.stats;
  const bytes = sim.net.stats.bytes + sim.net.stats.tcpBytes;
  return { bytes, digest: sim.digest, events: sim.eventCount, stats: JSON.stringify(counts), views, convergedAt };
}

describe("simulator determinism", { timeout: 60_000 }, () => {
  it("same seed, same run; different seed, different run", { timeout: 60_000 }, async (t) => {
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    t.diagnostic(
      `seed 42: digest ${a.digest}, ${a.events} events, converged at ${a.convergedAt} ms; seed 43: digest ${c.digest}`,
    );
    assert.ok(a.events > 30 * 29, "events were recorded");
    assert.deepEqual(b, a);
    assert.notEqual(c.digest, a.digest);
    assert.notEqual(c.stats, a.stats);
  });

  it("LZW compression changes bytes, never events (why the simulator leaves it off)", { timeout: 60_000 }, async () => {
    const { bytes: zipped, ...on } = await run(42, true);
    const { bytes: plain, ...off } = await run(42, false);
    assert.deepEqual(on, off);
    assert.ok(zipped < plain, `compression was on (${zipped} < ${plain} bytes)`);
  });

  it("tracks views, crashes and node addressing", { timeout: 30_000 }, async () => {
    const sim = new Simulator({ nodes: 5, seed: 1, profile: "local" });
    assert.equal(simNodeIp(0), "10.0.0.1");
    assert.equal(simNodeIp(255), "10.0.1.0");
    await sim.start();
    assert.equal(sim.converged(), false, "not converged before the joins ran");
    assert.ok(sim.timeToConverge(10_000) !== undefined);
    const v = sim.view(0);
    assert.equal(v.size, 5);
    assert.equal(v.get(simNodeName(4)), NodeState.Alive);
    sim.crash(4);
    assert.ok(sim.isCrashed(4));
    assert.deepEqual(sim.liveNodes(), [0, 1, 2, 3]);
    assert.equal(sim.converged(), false, "a crashed node still seen alive is not converged");
    assert.ok(sim.timeToConverge(60_000) !== undefined, "converges once everyone declared it dead");
    // Dead, or already reaped (GossipToTheDeadTime) by the time the last node's timer fired.
    assert.ok([NodeState.Dead, undefined].includes(sim.stateOf(1, 4) as 2 | undefined), `state ${sim.stateOf(1, 4)}`);
    assert.equal(sim.views().size, 4);
    await sim.stop();
  });
});
