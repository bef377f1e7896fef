/**
 * Simulator benchmark: how long simulated time takes in wall time on the
 * current runtime, with convergence and crash-detection figures next to the
 * values Go's formulas give.
 *
 * Usage: `npx deno run -A scripts/sim_bench.ts [--nodes 1000] [--profile lan] [--seed 1] [--compression]`
 * or `npx bun scripts/sim_bench.ts ...`.
 *
 * Phases: start and converge after staggered joins; crash one node and run
 * until every other node declared it dead; then one more simulated minute.
 *
 * @module
 */
import process from "node:process";
import { type Profile, Simulator } from "../lib/sim/simulator.ts";
import { crashDetectionBoundMs, formulaFigures, joinConvergenceBoundMs } from "../lib/sim/timing.ts";

interface Options {
  nodes: number;
  profile: Profile;
  seed: number;
  compression: boolean;
  staggerMs: number;
}

function parse(argv: string[]): Options {
  const o: Options = { nodes: 1000, profile: "lan", seed: 1, compression: false, staggerMs: 10 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--nodes":
        o.nodes = Number(value());
        break;
      case "--profile":
        o.profile = value() as Profile;
        break;
      case "--seed":
        o.seed = Number(value());
        break;
      case "--stagger":
        o.staggerMs = Number(value());
        break;
      case "--compression":
        o.compression = true;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return o;
}

function line(label: string, fields: Record<string, unknown>): void {
  console.log(`${label.padEnd(22)} ${Object.entries(fields).map(([k, v]) => `${k}=${v}`).join("  ")}`);
}

const runtimeName = (globalThis as { Bun?: unknown }).Bun
  ? "bun"
  : (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : "node";

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const sim = new Simulator({
    nodes: o.nodes,
    seed: o.seed,
    profile: o.profile,
    compression: o.compression,
    joinStaggerMs: o.staggerMs,
  });
  line("sim_bench", {
    runtime: runtimeName,
    nodes: o.nodes,
    profile: o.profile,
    seed: o.seed,
    compression: o.compression,
    joinStaggerMs: o.staggerMs,
  });

  let wall = performance.now();
  await sim.start();
  const cfg = sim.configs[0];
  line("go formulas", formulaFigures(cfg, o.nodes));
  const convergeBound = joinConvergenceBoundMs(cfg, o.nodes, (o.nodes - 1) * o.staggerMs);
  const converged = sim.timeToConverge(convergeBound * 2, 500);
  line("converge", {
    virtualMs: converged ?? `>${convergeBound * 2}`,
    modelBoundMs: convergeBound,
    wallMs: Math.round(performance.now() - wall),
    packets: sim.net.stats.packetsSent,
  });

  const victim = Math.floor(o.nodes / 2);
  const name = `node-${victim}`;
  const seen = new Set<number>();
  let first: number | undefined;
  sim.onEvent((e) => {
    if (e.kind === "leave" && e.node === name) {
      seen.add(e.observer);
      first ??= e.time;
    }
  });
  wall = performance.now();
  const crashAt = sim.now;
  sim.crash(victim);
  const bound = crashDetectionBoundMs(cfg, o.nodes);
  const all = sim.runUntil(() => seen.size >= o.nodes - 1, bound, 100);
  line("crash detection", {
    firstMs: first === undefined ? "-" : first - crashAt,
    allMs: all ? sim.now - crashAt : `>${bound} (${seen.size}/${o.nodes - 1})`,
    boundMs: bound,
    wallMs: Math.round(performance.now() - wall),
  });

  const before = sim.net.stats.packetsSent;
  wall = performance.now();
  sim.advance(60_000);
  const minuteWall = performance.now() - wall;
  line("one simulated minute", {
    wallMs: Math.round(minuteWall),
    speed: `${(60_000 / minuteWall).toFixed(2)}x real time`,
    packets: sim.net.stats.packetsSent - before,
    queuedBroadcasts: sim.cores.reduce((n, c, i) => n + (sim.isCrashed(i) ? 0 : c.numQueuedBroadcasts()), 0),
    converged: sim.converged(),
  });
  line("digest", { digest: sim.digest, events: sim.eventCount });
  await sim.stop();
}

await main();
