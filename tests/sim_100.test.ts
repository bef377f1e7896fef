/**
 * The deterministic simulator at 100 nodes (LAN profile): convergence after
 * joins, crash detection within the window Go's formulas give, refutation of
 * a false suspicion, no false positives under 10% loss for 10 minutes, and
 * reconvergence after a healed partition. Bounds come from lib/sim/timing.ts.
 */
import { describe, it } from "node:test";
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

const N = 100;
const STAGGER = 10;

/** A started, converged 100-node LAN cluster. */
async function cluster(seed: number, log: (s: string) => void) {
  const sim = new Simulator({ nodes: N, seed, profile: "lan", joinStaggerMs: STAGGER });
  const watch = new LeaveWatch(sim);
  const wall = performance.now();
  await sim.start();
  const cfg = sim.configs[0];
  // The capacity model is an estimate, not a proof: allow twice its value.
  const model = joinConvergenceBoundMs(cfg, N, (N - 1) * STAGGER);
  const ms = sim.timeToConverge(2 * model);
  log(
    figure(`sim ${N} converge`, {
      virtualMs: ms,
      modelMs: model,
      wallMs: Math.round(performance.now() - wall),
      ...formulaFigures(cfg, N),
    }),
  );
  assert.ok(ms !== undefined, `${N} nodes converge within ${2 * model} ms`);
  assert.deepEqual(watch.unexpected([]), [], "nobody declared dead during joins");
  return { sim, watch, cfg };
}

describe(`simulator, ${N} nodes, LAN profile`, { timeout: 170_000 }, () => {
  it("converges after joins, and every view lists every node alive", { timeout: 30_000 }, async (t) => {
    const { sim } = await cluster(1, (s) => t.diagnostic(s));
    const views = sim.views();
    assert.equal(views.size, N);
    for (const [name, view] of views) {
      assert.equal(view.size, N, `${name} knows all nodes`);
      for (const [other, state] of view) assert.equal(state, NodeState.Alive, `${name} sees ${other} alive`);
    }
    const counts = sim.stateCounts();
    assert.deepEqual(counts, { alive: N * (N - 1), suspect: 0, dead: 0, left: 0 });
  });

  it("declares a crashed node dead everywhere within the formula window", { timeout: 30_000 }, async (t) => {
    const { sim, watch, cfg } = await cluster(2, (s) => t.diagnostic(s));
    sim.advance(5_000);
    const bound = crashDetectionBoundMs(cfg, N);
    const victim = 37;
    const r = measureCrash(sim, watch, victim, bound);
    t.diagnostic(
      figure(`sim ${N} crash detection`, {
        firstMs: r.firstDeadMs,
        allMs: r.allDeadMs,
        boundMs: bound,
        suspicionMinMs: suspicionMinMs(cfg, N),
      }),
    );
    assert.equal(r.observers, N - 1, "every live node declared it dead");
    assert.ok(r.allDeadMs !== undefined && r.allDeadMs <= bound, `all within ${bound} ms (got ${r.allDeadMs})`);
    assert.equal(r.wrongState, 0, "declared dead, not left");
    // Nobody can declare it dead before the minimum suspicion timeout has run.
    assert.ok(r.firstDeadMs! >= suspicionMinMs(cfg, N), `not before the minimum suspicion timeout (${r.firstDeadMs})`);
    assert.deepEqual(watch.unexpected([victim]), [], "no healthy node declared dead");
  });

  it("a node isolated for less than the suspicion timeout refutes and stays alive", { timeout: 30_000 }, async (t) => {
    const { sim, watch, cfg } = await cluster(3, (s) => t.diagnostic(s));
    const x = 11;
    const others = sim.liveNodes().filter((i) => i !== x);
    const inc0 = sim.cores[x].localIncarnation();
    const isolation = Math.floor(suspicionMinMs(cfg, N) / 2);
    sim.partition([x], others);
    let maxSuspecting = 0;
    sim.runUntil(
      () => {
        maxSuspecting = Math.max(maxSuspecting, countState(sim, x, NodeState.Suspect));
        return false;
      },
      isolation,
      250,
    );
    sim.heal();
    // x's own accusations of the others were gossiped into the partition and
    // are spent; a node x does not re-probe cannot refute them, so x's timer
    // for it runs to the maximum (no confirmations) and declares it dead, and
    // that node then refutes — memberlist 0.2.2 behaves the same way.
    const bound = probeSlackMs(cfg) + 2 * disseminationMs(cfg, N) + suspicionStartMs(cfg, N);
    const ms = sim.timeToConverge(bound, 250);
    const collateral = watch.unexpected([]);
    t.diagnostic(figure(`sim ${N} isolated node`, {
      isolationMs: isolation,
      maxSuspecting,
      reconvergeMs: ms,
      boundMs: bound,
      incarnation: `${inc0}->${sim.cores[x].localIncarnation()}`,
      accusedByIsolatedAndRefuted: collateral.length,
    }));
    assert.ok(maxSuspecting >= 1, "the isolated node was suspected");
    assert.ok(sim.cores[x].localIncarnation() > inc0, "the node refuted with a higher incarnation");
    assert.equal(watch.of(x).size, 0, "nobody declared the isolated node dead");
    assert.ok(ms !== undefined, `cluster reconverged within ${bound} ms`);
    for (const i of others) assert.equal(sim.stateOf(i, x), NodeState.Alive);
  });

  it("an injected suspicion is refuted without anyone declared dead", { timeout: 30_000 }, async (t) => {
    const { sim, watch, cfg } = await cluster(6, (s) => t.diagnostic(s));
    const x = 42;
    const inc0 = sim.cores[x].localIncarnation();
    const accusation = msg(T.suspect, {
      From: "accuser",
      Incarnation: sim.cores[0].incarnationOf(simNodeName(x)),
      Node: simNodeName(x),
    });
    for (const i of [3, 50, 77]) {
      sim.hosts[i].act((now) => sim.cores[i].handlePacket(accusation, { ip: "10.255.255.254", port: 7946 }, now));
      assert.equal(sim.stateOf(i, x), NodeState.Suspect, "the accusation was taken");
    }
    const bound = 2 * disseminationMs(cfg, N) + probeSlackMs(cfg);
    const ms = sim.timeToConverge(bound, 100);
    sim.advance(suspicionStartMs(cfg, N));
    t.diagnostic(
      figure(`sim ${N} injected suspicion`, {
        refutedAndConvergedMs: ms,
        boundMs: bound,
        incarnation: `${inc0}->${sim.cores[x].localIncarnation()}`,
      }),
    );
    assert.ok(ms !== undefined, `refuted and reconverged within ${bound} ms`);
    assert.ok(sim.cores[x].localIncarnation() > inc0, "refuted with a higher incarnation");
    assert.deepEqual(watch.unexpected([]), [], "nobody declared dead");
    assert.ok(sim.converged());
  });

  it("with 10% packet loss no healthy node is declared dead over 10 minutes", { timeout: 60_000 }, async (t) => {
    const { sim, watch } = await cluster(4, (s) => t.diagnostic(s));
    sim.setLoss(0.1);
    const wall = performance.now();
    let maxSuspect = 0;
    sim.runUntil(
      () => {
        maxSuspect = Math.max(maxSuspect, sim.stateCounts().suspect);
        return false;
      },
      600_000,
      10_000,
    );
    const stats = sim.net.stats;
    t.diagnostic(figure(`sim ${N} 10% loss, 10 min`, {
      wallMs: Math.round(performance.now() - wall),
      dropped: stats.packetsDropped,
      sent: stats.packetsSent,
      maxSuspectViews: maxSuspect,
      healthScoreMax: Math.max(...sim.cores.map((c) => c.healthScore())),
    }));
    assert.ok(stats.packetsDropped / stats.packetsSent > 0.08, "loss was applied");
    assert.deepEqual(watch.unexpected([]), [], "no node declared dead");
    sim.setLoss(0);
    assert.ok(sim.timeToConverge(30_000) !== undefined, "all alive once loss stops");
  });

  it("a healed partition reconverges (with Serf's reconnector)", { timeout: 60_000 }, async (t) => {
    const { sim, watch, cfg } = await cluster(5, (s) => t.diagnostic(s));
    const left = sim.liveNodes().filter((i) => i % 2 === 0);
    const right = sim.liveNodes().filter((i) => i % 2 === 1);
    sim.partition(left, right);
    // Each side needs about a suspicion cycle to declare the other dead.
    const split = sim.runUntil(
      () => {
        for (const i of [0, 1]) if (countState(sim, 1 - i, NodeState.Dead) < left.length - 1) return false;
        return sim.stateCounts().dead === 2 * left.length * right.length;
      },
      crashDetectionBoundMs(cfg, N),
      500,
    );
    assert.ok(split, "each side declared the other dead");
    const reconnect = 30_000; // Serf's default ReconnectInterval
    sim.heal();
    const t0 = sim.now;
    sim.startReconnector(reconnect);
    const bound = 2 * reconnect + probeSlackMs(cfg) + 4 * disseminationMs(cfg, N);
    const ms = sim.timeToConverge(bound, 500);
    t.diagnostic(figure(`sim ${N} partition heal`, { splitAtMs: t0, reconvergeMs: ms, boundMs: bound }));
    assert.ok(ms !== undefined, `reconverged within ${bound} ms: ${JSON.stringify(sim.stateCounts())}`);
    assert.equal(watch.seen.size, N, "every node had been declared dead by the other side");
    assert.ok(
      sim.liveNodes().every((i) => sim.stateOf(0, i) === NodeState.Alive),
      simNodeName(0) + " sees everyone alive",
    );
  });
});
