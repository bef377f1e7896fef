/**
 * The deterministic simulator at 1000 nodes (LAN profile), one cluster
 * through four phases: convergence after staggered joins, crash detection
 * within the window Go's formulas give, refutation of an injected suspicion,
 * and reconvergence after a healed partition (10 nodes cut off long enough to
 * be declared dead; Serf's reconnector emulated). Bounds come from
 * lib/sim/timing.ts. This is the expensive file of the suite: the bootstrap
 * alone is ~12 million gossip message deliveries.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { NodeState } from "../lib/memberlist/types.ts";
import { simNodeName, Simulator } from "../lib/sim/simulator.ts";
import {
  crashDetectionBoundMs,
  disseminationMs,
  formulaFigures,
  joinConvergenceBoundMs,
  probeSlackMs,
  suspicionMinMs,
  suspicionStartMs,
} from "../lib/sim/timing.ts";
import { countState, figure, LeaveWatch, measureCrash } from "./helpers/sim.ts";
import { msg, T } from "./helpers/wire.ts";

const N = 1000;
const STAGGER = 10;
/** Serf's default ReconnectInterval. */
const RECONNECT_MS = 30_000;

describe(`simulator, ${N} nodes, LAN profile`, { timeout: 900_000 }, () => {
  const sim = new Simulator({ nodes: N, seed: 1000, profile: "lan", joinStaggerMs: STAGGER });
  const watch = new LeaveWatch(sim);
  const log = (s: string) => console.log(s);
  before(async () => {
    await sim.start();
  });

  it("converges after joins", { timeout: 600_000 }, () => {
    const cfg = sim.configs[0];
    // The capacity model is an estimate, not a proof: allow twice its value.
    const model = joinConvergenceBoundMs(cfg, N, (N - 1) * STAGGER);
    const wall = performance.now();
    const ms = sim.timeToConverge(2 * model, 1000);
    log(
      figure(`sim ${N} converge`, {
        virtualMs: ms,
        modelMs: model,
        wallMs: Math.round(performance.now() - wall),
        ...formulaFigures(cfg, N),
      }),
    );
    assert.ok(ms !== undefined, `converged within ${2 * model} ms: ${JSON.stringify(sim.stateCounts())}`);
    assert.deepEqual(sim.stateCounts(), { alive: N * (N - 1), suspect: 0, dead: 0, left: 0 });
    assert.deepEqual(watch.unexpected([]), []);
  });

  it("declares a crashed node dead everywhere within the formula window", { timeout: 300_000 }, () => {
    const cfg = sim.configs[0];
    const bound = crashDetectionBoundMs(cfg, N);
    const wall = performance.now();
    const victim = 500;
    const r = measureCrash(sim, watch, victim, bound);
    log(figure(`sim ${N} crash detection`, {
      firstMs: r.firstDeadMs,
      allMs: r.allDeadMs,
      boundMs: bound,
      suspicionMinMs: suspicionMinMs(cfg, N),
      suspicionMaxMs: suspicionStartMs(cfg, N),
      wallMs: Math.round(performance.now() - wall),
    }));
    assert.equal(r.observers, N - 1);
    assert.ok(r.allDeadMs !== undefined && r.allDeadMs <= bound, `all within ${bound} ms (got ${r.allDeadMs})`);
    assert.ok(r.firstDeadMs! >= suspicionMinMs(cfg, N), "not before the minimum suspicion timeout");
    assert.equal(r.wrongState, 0);
    assert.deepEqual(watch.unexpected([victim]), []);
  });

  it("an injected suspicion is refuted without anyone declared dead", { timeout: 300_000 }, () => {
    const cfg = sim.configs[0];
    const x = 42;
    const inc0 = sim.cores[x].localIncarnation();
    const accusation = msg(T.suspect, {
      From: "accuser",
      Incarnation: sim.cores[0].incarnationOf(simNodeName(x)),
      Node: simNodeName(x),
    });
    for (const i of [3, 333, 777]) {
      sim.hosts[i].act((now) => sim.cores[i].handlePacket(accusation, { ip: "10.255.255.254", port: 7946 }, now));
      assert.equal(sim.stateOf(i, x), NodeState.Suspect);
    }
    const bound = probeSlackMs(cfg) + 2 * disseminationMs(cfg, N);
    // Refuted everywhere = every node accepted x's alive with a higher incarnation (O(1) per node to check).
    const name = simNodeName(x);
    const refuted = sim.runUntil(
      () => sim.liveNodes().every((i) => (sim.cores[i].incarnationOf(name) ?? 0) > inc0),
      bound,
      200,
    );
    const ms = sim.now;
    sim.advance(suspicionStartMs(cfg, N));
    log(
      figure(`sim ${N} injected suspicion`, {
        refuted,
        incarnation: `${inc0}->${sim.cores[x].localIncarnation()}`,
        at: ms,
      }),
    );
    assert.ok(refuted, `refuted everywhere within ${bound} ms`);
    assert.ok(sim.cores[x].localIncarnation() > inc0);
    assert.equal(watch.of(x).size, 0, "nobody declared it dead");
    assert.equal(countState(sim, x, NodeState.Alive), sim.liveNodes().length - 1, "alive in every view");
  });

  it("a healed partition reconverges (with Serf's reconnector)", { timeout: 300_000 }, () => {
    const cfg = sim.configs[0];
    const island = sim.liveNodes().slice(-10);
    const rest = sim.liveNodes().filter((i) => !island.includes(i));
    sim.partition(island, rest);
    const split = sim.runUntil(
      () => island.every((i) => watch.of(i).size >= rest.length),
      crashDetectionBoundMs(cfg, N),
      1000,
    );
    assert.ok(split, "the island was declared dead by the rest");
    sim.heal();
    sim.startReconnector(RECONNECT_MS);
    const bound = 2 * RECONNECT_MS + probeSlackMs(cfg) + 4 * disseminationMs(cfg, N);
    const wall = performance.now();
    const ms = sim.timeToConverge(bound, 1000);
    log(
      figure(`sim ${N} partition heal`, {
        islandSize: island.length,
        reconvergeMs: ms,
        boundMs: bound,
        wallMs: Math.round(performance.now() - wall),
      }),
    );
    assert.ok(ms !== undefined, `reconverged within ${bound} ms: ${JSON.stringify(sim.stateCounts())}`);
  });
});
