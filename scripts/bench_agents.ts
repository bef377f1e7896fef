/**
 * Side-by-side benchmark of our agent and /usr/bin/serf on 127.0.0.1.
 *
 *   npx bun scripts/bench_agents.ts [--n 10] [--ours dist/serf] [--real /usr/bin/serf] [--idle-seconds 10]
 *
 * For each implementation it starts N agents (LAN profile), joins them all to
 * the first one, and measures: time until every agent sees N alive members,
 * time until every survivor marks a kill -9'd agent `failed`, and the median
 * RSS and CPU use per idle agent. Prints both and the ratio ours/real.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { RpcClient } from "../lib/rpc/client.ts";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "10" },
    ours: { type: "string", default: "dist/serf" },
    real: { type: "string", default: "/usr/bin/serf" },
    "idle-seconds": { type: "string", default: "10" },
    "base-port": { type: "string", default: "26000" },
  },
});
const N = Number(values.n);
const IDLE_S = Number(values["idle-seconds"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  converge: number;
  detect: number;
  rssMiB: number;
  cpuPct: number;
}

function ticks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime (clock ticks)
}

function rssMiB(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
}

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

async function runCluster(label: string, exe: string, basePort: number): Promise<Result> {
  const procs: ChildProcess[] = [];
  const clients: RpcClient[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const p = spawn(exe, [
        "agent",
        `-node=${label}-${i}`,
        `-bind=127.0.0.1:${basePort + i}`,
        `-rpc-addr=127.0.0.1:${basePort + 1000 + i}`,
        "-log-level=err",
      ], { stdio: "ignore" });
      procs.push(p);
    }
    const deadline = Date.now() + 20_000;
    for (let i = 0; i < N; i++) clients.push(await connect(`127.0.0.1:${basePort + 1000 + i}`, deadline));

    const t0 = performance.now();
    await Promise.all(clients.slice(1).map((c) => c.join([`127.0.0.1:${basePort}`], false)));
    const joinMs = performance.now() - t0;
    const converge = joinMs + await waitAll(clients, (ms) => ms.filter((m) => m.status === "alive").length === N);

    // Idle resource use.
    await sleep(2000);
    const before = procs.map((p) => ticks(p.pid!));
    await sleep(IDLE_S * 1000);
    const after = procs.map((p) => ticks(p.pid!));
    const hz = 100;
    const cpu = after.map((a, i) => ((a - before[i]) / hz) / IDLE_S * 100);
    const rss = procs.map((p) => rssMiB(p.pid!));

    // Failure detection.
    const victim = N - 1;
    clients[victim].close();
    procs[victim].kill("SIGKILL");
    const survivors = clients.slice(0, victim);
    const detect = await waitAll(
      survivors,
      (ms) => ms.find((m) => m.name === `${label}-${victim}`)?.status === "failed",
    );
    return { converge, detect, rssMiB: median(rss), cpuPct: median(cpu) };
  } finally {
    for (const c of clients) c.close();
    for (const p of procs) p.kill("SIGKILL");
    await sleep(300);
  }
}

const ours = values.ours!;
const real = values.real!;
if (!existsSync(real)) throw new Error(`${real} not found (apt-get install -y serf)`);
if (!existsSync(ours)) throw new Error(`${ours} not found (node scripts/build.mjs)`);
const basePort = Number(values["base-port"]);
console.log(`N=${N}, idle window ${IDLE_S}s, LAN profile, 127.0.0.1`);
const r = await runCluster("real", real, basePort);
const o = await runCluster("ours", ours, basePort + 100);
const row = (name: string, a: number, b: number, unit: string) =>
  console.log(
    `${name.padEnd(22)} real ${a.toFixed(1).padStart(8)} ${unit.padEnd(4)} ours ${b.toFixed(1).padStart(8)} ${
      unit.padEnd(4)
    } ratio ${(b / a).toFixed(2)}`,
  );
row("converge after joins", r.converge, o.converge, "ms");
row("detect kill -9", r.detect, o.detect, "ms");
row("median RSS per agent", r.rssMiB, o.rssMiB, "MiB");
row("median idle CPU", r.cpuPct, o.cpuPct, "%");
