/**
 * Side-by-side benchmark of our agent and /usr/bin/serf on 127.0.0.1.
 *
 *   npx bun scripts/bench_agents.ts [--n 10] [--ours dist/serf] [--real /usr/bin/serf]
 *       [--warmup-seconds 10] [--idle-seconds 30] [--rounds 1] [--only ours|real] [--base-port 10000]
 *
 * For each implementation it starts N agents (LAN profile), joins them all to
 * the first one, and measures: time until every agent sees N alive members,
 * time until every survivor marks a kill -9'd agent `failed`, and, per idle
 * agent (median over agents, after a warm-up): RSS, its anonymous part, PSS
 * (from /proc/PID/smaps_rollup: file pages shared between the agents count
 * once), and CPU use. With `--rounds k` the cluster is started k times and the
 * timings are medians (idle use is measured in the first round only). Prints
 * both and the ratio ours/real. Convergence has two modes: gossip alone
 * (about a second at N=50), or, when a node missed a member during the
 * simultaneous joins, a wait for a push/pull (Go's agent: the periodic one,
 * 60 s at N=50; ours re-syncs 1-2 s after its join). So the rounds slower
 * than {@link SLOW_CONVERGE_MS} are counted, and the median of the others
 * is printed too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { RpcClient } from "../lib/rpc/client.ts";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "10" },
    ours: { type: "string", default: "dist/serf" },
    real: { type: "string", default: "/usr/bin/serf" },
    "idle-seconds": { type: "string", default: "30" },
    "warmup-seconds": { type: "string", default: "10" },
    rounds: { type: "string", default: "1" },
    only: { type: "string" },
    "base-port": { type: "string", default: "10000" },
  },
});
const N = Number(values.n);
/** Port layout from --base-port B (default 10000): real agents bind B.., ours B+200..; RPC at +500. */
const OURS_OFFSET = 200;
const RPC_OFFSET = 500;
/** Port distance between rounds (each round uses fresh ports). */
const ROUND_PORTS = 1000;
if (N > OURS_OFFSET) throw new Error(`--n ${N}: at most ${OURS_OFFSET} agents per implementation`);
const IDLE_S = Number(values["idle-seconds"]);
const WARMUP_S = Number(values["warmup-seconds"]);
const ROUNDS = Math.max(1, Number(values.rounds));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Idle {
  rssMiB: number;
  anonMiB: number;
  pssMiB: number;
  cpuPct: number;
}

interface Result extends Idle {
  /** Until every join RPC returned (part of converge). */
  join: number;
  converge: number;
  detect: number;
  /** Rounds whose convergence took longer than SLOW_CONVERGE_MS. */
  slowRounds: number;
  /** Median convergence of the other rounds. */
  fastConverge: number;
  /** Means over the rounds (convergence and detection times are often bimodal: gossip and probe phases). */
  convergeMean: number;
  detectMean: number;
}

/** A convergence slower than this waited for a push/pull (see the module notes). */
const SLOW_CONVERGE_MS = 5000;

/** utime + stime of a process, in clock ticks. */
function ticks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** A `kB` field of a /proc file, in MiB. */
function kbField(path: string, name: string): number {
  const m = readFileSync(path, "utf8").match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"));
  return m ? Number(m[1]) / 1024 : NaN;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function connect(rpc: string, deadline: number): Promise<RpcClient> {
  for (;;) {
    try {
      return await RpcClient.connect(rpc, { timeoutMs: 1000 });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(50);
    }
  }
}

async function waitAll(clients: RpcClient[], pred: (members: { name: string; status: string }[]) => boolean) {
  const start = performance.now();
  for (;;) {
    const views = await Promise.all(clients.map((c) => c.members()));
    if (views.every(pred)) return performance.now() - start;
    if (performance.now() - start > 120_000) throw new Error("timed out waiting for the cluster");
    await sleep(20);
  }
}

/** Memory and CPU of idle agents: warm up, then sample CPU over the idle window. */
async function idleUse(procs: ChildProcess[]): Promise<Idle> {
  await sleep(WARMUP_S * 1000);
  const before = procs.map((p) => ticks(p.pid!));
  const t0 = performance.now();
  await sleep(IDLE_S * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const after = procs.map((p) => ticks(p.pid!));
  const hz = 100;
  const cpu = after.map((a, i) => ((a - before[i]) / hz) / seconds * 100);
  const rss = procs.map((p) => kbField(`/proc/${p.pid}/status`, "VmRSS"));
  const anon = procs.map((p) => kbField(`/proc/${p.pid}/status`, "RssAnon"));
  const pss = procs.map((p) => kbField(`/proc/${p.pid}/smaps_rollup`, "Pss"));
  return { rssMiB: median(rss), anonMiB: median(anon), pssMiB: median(pss), cpuPct: median(cpu) };
}

async function runCluster(label: string, exe: string, basePort: number, measureIdle: boolean): Promise<Result> {
  const procs: ChildProcess[] = [];
  const clients: RpcClient[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const p = spawn(exe, [
        "agent",
        `-node=${label}-${i}`,
        `-bind=127.0.0.1:${basePort + i}`,
        `-rpc-addr=127.0.0.1:${basePort + RPC_OFFSET + i}`,
        "-log-level=err",
      ], { stdio: "ignore" });
      procs.push(p);
    }
    const deadline = Date.now() + 20_000;
    for (let i = 0; i < N; i++) clients.push(await connect(`127.0.0.1:${basePort + RPC_OFFSET + i}`, deadline));

    const t0 = performance.now();
    await Promise.all(clients.slice(1).map((c) => c.join([`127.0.0.1:${basePort}`], false)));
    const joinMs = performance.now() - t0;
    const converge = joinMs + await waitAll(clients, (ms) => ms.filter((m) => m.status === "alive").length === N);

    const idle = measureIdle
      ? await idleUse(procs)
      : (await sleep(2000), { rssMiB: NaN, anonMiB: NaN, pssMiB: NaN, cpuPct: NaN });

    // Failure detection.
    const victim = N - 1;
    clients[victim].close();
    procs[victim].kill("SIGKILL");
    const survivors = clients.slice(0, victim);
    const detect = await waitAll(
      survivors,
      (ms) => ms.find((m) => m.name === `${label}-${victim}`)?.status === "failed",
    );
    return {
      join: joinMs,
      converge,
      detect,
      slowRounds: 0,
      fastConverge: NaN,
      convergeMean: NaN,
      detectMean: NaN,
      ...idle,
    };
  } finally {
    for (const c of clients) c.close();
    for (const p of procs) p.kill("SIGKILL");
    await sleep(300);
  }
}

/** `rounds` clusters of one implementation: median timings, idle use from the first. */
async function bench(label: string, exe: string, basePort: number): Promise<Result> {
  const runs: Result[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Fresh ports each round, so nothing of the previous round's killed agents interferes.
    const res = await runCluster(label, exe, basePort + r * ROUND_PORTS, r === 0);
    if (ROUNDS > 1) {
      console.log(
        `  ${label} round ${r + 1}: joins ${res.join.toFixed(0)} ms, converge ${res.converge.toFixed(0)} ms, detect ${
          res.detect.toFixed(0)
        } ms`,
      );
    }
    runs.push(res);
  }
  const fast = runs.map((x) => x.converge).filter((ms) => ms <= SLOW_CONVERGE_MS);
  return {
    ...runs[0],
    join: median(runs.map((x) => x.join)),
    converge: median(runs.map((x) => x.converge)),
    detect: median(runs.map((x) => x.detect)),
    slowRounds: runs.length - fast.length,
    fastConverge: fast.length ? median(fast) : NaN,
    convergeMean: mean(runs.map((x) => x.converge)),
    detectMean: mean(runs.map((x) => x.detect)),
  };
}

const ours = values.ours!;
const real = values.real!;
const only = values.only;
if (only !== "ours" && !existsSync(real)) throw new Error(`${real} not found (apt-get install -y serf)`);
if (only !== "real" && !existsSync(ours)) throw new Error(`${ours} not found (node scripts/build.mjs)`);
const basePort = Number(values["base-port"]);
console.log(
  `N=${N}, warm-up ${WARMUP_S}s, idle window ${IDLE_S}s, ${ROUNDS} round(s), LAN profile, 127.0.0.1`,
);
const none: Result = {
  join: NaN,
  converge: NaN,
  detect: NaN,
  slowRounds: NaN,
  fastConverge: NaN,
  convergeMean: NaN,
  detectMean: NaN,
  rssMiB: NaN,
  anonMiB: NaN,
  pssMiB: NaN,
  cpuPct: NaN,
};
const r = only === "ours" ? none : await bench("real", real, basePort);
const o = only === "real" ? none : await bench("ours", ours, basePort + OURS_OFFSET);
const row = (name: string, a: number, b: number, unit: string, digits = 1) =>
  console.log(
    `${name.padEnd(22)} real ${a.toFixed(digits).padStart(8)} ${unit.padEnd(4)} ours ${b.toFixed(digits).padStart(8)} ${
      unit.padEnd(4)
    } ratio ${(b / a).toFixed(2)}`,
  );
row("join RPCs returned", r.join, o.join, "ms");
row("converge after joins", r.converge, o.converge, "ms");
console.log(
  `  rounds over ${SLOW_CONVERGE_MS / 1000} s         real ${String(r.slowRounds).padStart(8)} of ${ROUNDS}  ours ${
    String(o.slowRounds).padStart(8)
  } of ${ROUNDS}`,
);
row("  median of the others", r.fastConverge, o.fastConverge, "ms");
row("  mean of all rounds", r.convergeMean, o.convergeMean, "ms");
row("detect kill -9", r.detect, o.detect, "ms");
row("  mean of all rounds", r.detectMean, o.detectMean, "ms");
row("median RSS per agent", r.rssMiB, o.rssMiB, "MiB");
row("  of which anonymous", r.anonMiB, o.anonMiB, "MiB");
row("median PSS per agent", r.pssMiB, o.pssMiB, "MiB");
row("median idle CPU", r.cpuPct, o.cpuPct, "%", 2);
