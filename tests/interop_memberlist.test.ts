/**
 * Interop with the real agent (/usr/bin/serf, memberlist 0.2.2) at the
 * memberlist level: our bare node (scripts/member-node.ts, run with the same
 * runtime as this test) joins a real agent and is listed `alive` with its
 * address and tags; a real agent joins ours; kill -9 of ours shows as
 * `failed` on the real side within the local profile's window; kill -9 of the
 * real one is reported dead by ours. Fails without the binary when CI=true.
 *
 * Ports: 22100–22199.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { defaultLocalConfig } from "../lib/memberlist/config.ts";
import { probeSlackMs, suspicionMinMs, suspicionStartMs } from "../lib/sim/timing.ts";
import { killAll, type LineProcess, spawnLines } from "./helpers/process.ts";
import { repoPath, scriptArgv } from "./helpers/runtime.ts";
import { type SerfAgent, serfJoin, type SerfMember, serfMembers, serfSkip, startSerfAgent } from "./helpers/serf.ts";
import { waitFor } from "./helpers/wait.ts";

const IP = "127.0.0.1";
const LOCAL = defaultLocalConfig("x", Math.random, () => {});
const skip = serfSkip();
if (skip) console.log(`interop_memberlist: skipped: ${skip}`);

interface NodeEvent {
  event: string;
  node?: string;
  addr?: string;
  state?: string;
  tags?: Record<string, string>;
  port?: number;
  joined?: number;
  errors?: string[];
}

/** Starts scripts/member-node.ts and waits for its "ready" line. */
async function startOurs(
  name: string,
  port: number,
  extra: string[] = [],
): Promise<{ proc: LineProcess; events: () => NodeEvent[] }> {
  const proc = spawnLines(scriptArgv(repoPath("scripts/member-node.ts"), [
    "--name",
    name,
    "--bind",
    `${IP}:${port}`,
    "--profile",
    "local",
    "--tag",
    "role=ts",
    "--tag",
    "impl=serf-ts",
    ...extra,
  ]));
  await proc.waitLine((l) => l.includes('"ready"'), 20_000, `${name} ready`);
  const events = () => proc.stdout.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as NodeEvent);
  return { proc, events };
}

/** The real agent's view of `name`. */
async function realView(rpc: string, name: string): Promise<SerfMember | undefined> {
  return (await serfMembers(rpc)).find((m) => m.name === name);
}

/**
 * Real agent detecting our kill -9 with 2 nodes: a failed probe (≤ probe
 * interval + timeout), then the suspicion timer — with one other node there
 * are no confirmations to wait for, so it starts at the minimum — then
 * Serf's member update (immediate). Probe slack covers when the probe comes;
 * two more probe intervals cover process start-up and the CLI polling.
 */
const FAIL_BOUND_MS = probeSlackMs(LOCAL, 3) + suspicionStartMs(LOCAL, 2) + 2 * LOCAL.probeInterval;

describe("interop with the real serf agent (memberlist level)", { skip, timeout: 120_000 }, () => {
  const agents: SerfAgent[] = [];
  after(async () => {
    for (const a of agents) await a.stop();
    await killAll();
  });

  it(
    "our node joins a real agent: listed alive with address and tags; kill -9 shows it failed",
    { timeout: 60_000 },
    async (t) => {
      const real = await startSerfAgent({ name: "real-1", bind: `${IP}:22101`, rpc: `${IP}:22102`, profile: "local" });
      agents.push(real);
      const ours = await startOurs("ts-1", 22103, ["--join", `${IP}:22101`]);
      const joined = await ours.proc.waitLine((l) => l.includes('"joined"'), 10_000, "join result");
      assert.equal((JSON.parse(joined) as NodeEvent).joined, 1, joined);

      const m = await waitFor(
        async () => {
          const v = await realView(real.rpc, "ts-1");
          return v?.status === "alive" ? v : undefined;
        },
        10_000,
        "real agent lists ts-1 alive",
      );
      assert.equal(m.addr, `${IP}:22103`);
      assert.deepEqual(m.tags, { role: "ts", impl: "serf-ts" });
      assert.deepEqual(m.protocol, { min: 2, max: 5, version: 5 });
      await ours.proc.waitLine((l) => l.includes('"join"') && l.includes('"real-1"'), 5_000, "ours sees real-1");
      const realEv = ours.events().find((e) => e.event === "join" && e.node === "real-1")!;
      assert.equal(realEv.addr, `${IP}:22101`);
      assert.equal(realEv.state, "alive");

      const killedAt = Date.now();
      await ours.proc.kill("SIGKILL");
      await waitFor(
        async () => (await realView(real.rpc, "ts-1"))?.status === "failed",
        FAIL_BOUND_MS + 5000,
        "real agent marks ts-1 failed",
      );
      const took = Date.now() - killedAt;
      t.diagnostic(
        `real agent marked our node failed after ${took} ms (bound ${FAIL_BOUND_MS} ms; suspicion min ${
          suspicionMinMs(LOCAL, 2)
        } ms)`,
      );
      assert.ok(took <= FAIL_BOUND_MS, `failed within ${FAIL_BOUND_MS} ms (took ${took})`);
      assert.ok(took >= suspicionMinMs(LOCAL, 2), "not before the suspicion timeout");
      await real.stop();
    },
  );

  it("a real agent joins ours; kill -9 of the real one is reported dead by ours", { timeout: 60_000 }, async (t) => {
    const ours = await startOurs("ts-2", 22111);
    const real = await startSerfAgent({ name: "real-2", bind: `${IP}:22112`, rpc: `${IP}:22113`, profile: "local" });
    agents.push(real);
    const out = await serfJoin(real.rpc, `${IP}:22111`);
    assert.match(out, /Successfully joined cluster by contacting 1 nodes/);
    await ours.proc.waitLine((l) => l.includes('"join"') && l.includes('"real-2"'), 10_000, "ours sees real-2");
    const m = await waitFor(
      async () => {
        const v = await realView(real.rpc, "ts-2");
        return v?.status === "alive" ? v : undefined;
      },
      10_000,
      "real agent lists ts-2 alive",
    );
    assert.equal(m.addr, `${IP}:22111`);
    const realEv = ours.events().find((e) => e.event === "join" && e.node === "real-2")!;
    assert.equal(realEv.addr, `${IP}:22112`);
    assert.equal(realEv.state, "alive");
    // Serf's node meta decodes as tags on our side too (no tags → empty map).
    assert.deepEqual(realEv.tags, {});

    // Both stay healthy for a few probe rounds (acks, gossip and push/pull work both ways).
    ours.proc.send("members");
    await ours.proc.waitLine((l) => l.includes('"members"'), 5_000, "members");
    await new Promise((r) => setTimeout(r, 3 * LOCAL.probeInterval));
    assert.equal((await realView(real.rpc, "ts-2"))?.status, "alive");
    assert.ok(!ours.events().some((e) => e.event === "leave"), "ours declared nobody dead");

    const killedAt = Date.now();
    await real.stop("SIGKILL");
    const line = await ours.proc.waitLine(
      (l) => l.includes('"leave"') && l.includes('"real-2"'),
      FAIL_BOUND_MS + 5000,
      "ours reports real-2 dead",
    );
    const took = Date.now() - killedAt;
    t.diagnostic(`our node declared the real agent dead after ${took} ms (bound ${FAIL_BOUND_MS} ms)`);
    assert.equal((JSON.parse(line) as NodeEvent).state, "dead");
    assert.ok(took <= FAIL_BOUND_MS, `dead within ${FAIL_BOUND_MS} ms (took ${took})`);

    // A graceful stop of ours still exits 0 after its leave broadcast.
    await ours.proc.kill("SIGINT");
    assert.equal(await ours.proc.exited, 0);
    assert.ok(ours.events().some((e) => e.event === "shutdown"));
  });
});
