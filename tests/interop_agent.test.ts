/**
 * Our agent in a mixed cluster with real HashiCorp Serf agents
 * (/usr/bin/serf), driven by the real CLI:
 * - the cluster (2 real + 2 ours) agrees on membership, addresses, tags and statuses;
 * - the real CLI's `members` (text, -detailed, json, filters), `info`, `tags`,
 *   `join`, `force-leave` and `leave` give the same output against our agent as
 *   against a real one;
 * - failures, force-leave and graceful leave show the same on every agent.
 * Runs our agent from source on the test's runtime.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type OurAgent, runCli, startOurAgent } from "./helpers/agent.ts";
import { killAll } from "./helpers/process.ts";
import { SERF_BIN, type SerfAgent, serfSkip, startSerfAgent } from "./helpers/serf.ts";
import { waitFor } from "./helpers/wait.ts";

const skip = serfSkip();
const BASE = 24200;
const addr = (i: number) => `127.0.0.1:${BASE + i}`;
const rpc = (i: number) => `127.0.0.1:${BASE + 100 + i}`;

const real = (...args: string[]) => runCli([SERF_BIN, ...args]);

interface JsonMember {
  name: string;
  addr: string;
  port: number;
  tags: Record<string, string>;
  status: string;
  protocol: { min: number; max: number; version: number };
}

async function membersJson(rpcAddr: string): Promise<JsonMember[]> {
  const r = await real("members", "-format=json", `-rpc-addr=${rpcAddr}`);
  assert.equal(r.code, 0, r.stdout);
  const ms = (JSON.parse(r.stdout) as { members: JsonMember[] | null }).members ?? [];
  return ms.sort((a, b) => a.name.localeCompare(b.name));
}

/** `serf members` text lines with tag order normalised (Go prints map order at random). */
async function membersText(rpcAddr: string, ...flags: string[]): Promise<string[]> {
  const r = await real("members", ...flags, `-rpc-addr=${rpcAddr}`);
  assert.equal(r.code, 0, r.stdout);
  return r.stdout.split("\n").filter((l) => l.trim() !== "").map((l) =>
    l.trim().split(/\s{2,}/).map((col) => col.includes("=") ? col.split(",").sort().join(",") : col).join(" | ")
  ).sort();
}

describe("mixed cluster of real and our agents", { skip, timeout: 180_000 }, () => {
  let r1: SerfAgent, r2: SerfAgent;
  let o1: OurAgent, o2: OurAgent;
  const everyone = () => [rpc(0), rpc(1), rpc(2), rpc(3)];

  before(async () => {
    [r1, r2, o1, o2] = await Promise.all([
      startSerfAgent({ name: "real1", bind: addr(0), rpc: rpc(0), extra: ["-tag", "role=db"] }),
      startSerfAgent({ name: "real2", bind: addr(1), rpc: rpc(1), extra: ["-tag", "role=web", "-tag", "dc=a"] }),
      startOurAgent({ name: "ours1", bind: addr(2), rpc: rpc(2), extra: ["-profile=local", "-tag", "role=web"] }),
      startOurAgent({ name: "ours2", bind: addr(3), rpc: rpc(3), extra: ["-profile=local", "-tag=role=cache"] }),
    ]);
  });
  after(killAll);

  it("joins both ways and everyone agrees on membership, addresses and tags", { timeout: 60_000 }, async () => {
    assert.deepEqual(await real("join", `-rpc-addr=${rpc(2)}`, addr(0)), {
      code: 0,
      stdout: "Successfully joined cluster by contacting 1 nodes.\n",
      stderr: "",
    });
    assert.equal((await real("join", `-rpc-addr=${rpc(1)}`, addr(2))).code, 0);
    assert.equal((await real("join", `-rpc-addr=${rpc(3)}`, addr(1))).code, 0);
    const views = await waitFor(
      async () => {
        const vs = await Promise.all(everyone().map(membersJson));
        return vs.every((v) => v.length === 4 && v.every((m) => m.status === "alive")) ? vs : undefined;
      },
      30_000,
      "4 alive members everywhere",
    );
    for (const v of views) assert.deepEqual(v, views[0]);
    const byName = Object.fromEntries(views[0].map((m) => [m.name, m]));
    assert.equal(byName.ours1.addr, addr(2));
    assert.equal(byName.ours2.port, BASE + 3);
    assert.deepEqual(byName.ours1.tags, { role: "web" });
    assert.deepEqual(byName.real2.tags, { role: "web", dc: "a" });
    assert.deepEqual(byName.ours1.protocol, { min: 2, max: 5, version: 5 });
  });

  it("the real CLI prints the same members output against our agent as against a real one", async () => {
    for (
      const flags of [[], ["-detailed"], ["-status=alive"], ["-name=ours.*"], ["-tag", "role=web"], [
        "-tag",
        "role=w.*",
      ]]
    ) {
      assert.deepEqual(await membersText(rpc(2), ...flags), await membersText(rpc(0), ...flags), flags.join(" "));
    }
    const none = await real("members", "-name=nobody", `-rpc-addr=${rpc(2)}`);
    assert.deepEqual(none, await real("members", "-name=nobody", `-rpc-addr=${rpc(0)}`));
    const bad = await real("members", "-status=(", `-rpc-addr=${rpc(2)}`);
    const badReal = await real("members", "-status=(", `-rpc-addr=${rpc(0)}`);
    assert.equal(bad.code, badReal.code);
  });

  it("info has the same sections and serf keys", async () => {
    const ours = JSON.parse((await real("info", "-format=json", `-rpc-addr=${rpc(2)}`)).stdout);
    const theirs = JSON.parse((await real("info", "-format=json", `-rpc-addr=${rpc(0)}`)).stdout);
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
    assert.deepEqual(Object.keys(ours.serf).sort(), Object.keys(theirs.serf).sort());
    assert.deepEqual(Object.keys(ours.runtime).sort(), Object.keys(theirs.runtime).sort());
    assert.equal(ours.agent.name, "ours1");
    assert.deepEqual(ours.tags, { role: "web" });
    assert.equal(ours.serf.members, "4");
    assert.equal(ours.serf.encrypted, "false");
    const text = (await real("info", `-rpc-addr=${rpc(2)}`)).stdout;
    assert.match(text, /^agent:\n\tname = ours1\n/);
  });

  // Gossip alone can miss an agent here: our agents run -profile=local, whose RetransmitMult of 2
  // (Go's value) gives a tag update two transmissions in a 4-node cluster. The push/pull
  // anti-entropy (15 s for ours, 30 s for the real agents) then delivers it, hence 45 s.
  it("tags set and delete through the real CLI propagate to every agent", { timeout: 120_000 }, async () => {
    const set = await real("tags", "-set", "dc=x", "-set", "rack=7", `-rpc-addr=${rpc(2)}`);
    assert.deepEqual(set, { code: 0, stdout: "Successfully updated agent tags\n", stderr: "" });
    await waitFor(
      async () => {
        const vs = await Promise.all(everyone().map(membersJson));
        return vs.every((v) =>
          JSON.stringify(v.find((m) => m.name === "ours1")?.tags) === '{"dc":"x","rack":"7","role":"web"}'
        );
      },
      45_000,
      "ours1 tags everywhere",
    );
    assert.equal((await real("tags", "-delete", "rack", `-rpc-addr=${rpc(2)}`)).code, 0);
    assert.equal((await real("tags", "-set", "zone=b", `-rpc-addr=${rpc(0)}`)).code, 0);
    await waitFor(
      async () => {
        const vs = await Promise.all(everyone().map(membersJson));
        const ok = vs.every((v) =>
          !("rack" in (v.find((m) => m.name === "ours1")?.tags ?? { rack: 1 })) &&
          v.find((m) => m.name === "real1")?.tags.zone === "b"
        );
        if (ok) return true;
        // The views, for the timeout message.
        const view = (v: JsonMember[], n: string) => JSON.stringify(v.find((m) => m.name === n)?.tags);
        throw new Error(vs.map((v, i) => `agent ${i}: ours1 ${view(v, "ours1")} real1 ${view(v, "real1")}`).join("; "));
      },
      45_000,
      "tag delete on ours1 and new tag on real1 everywhere",
    );
  });

  it("kill -9 of our agent: everyone marks it failed; force-leave makes it left", { timeout: 90_000 }, async () => {
    await o2.stop("SIGKILL");
    await waitFor(
      async () => {
        const vs = await Promise.all([rpc(0), rpc(1), rpc(2)].map(membersJson));
        return vs.every((v) => v.find((m) => m.name === "ours2")?.status === "failed");
      },
      45_000,
      "ours2 failed everywhere",
    );
    const fl = await real("force-leave", `-rpc-addr=${rpc(2)}`, "ours2");
    assert.deepEqual(fl, { code: 0, stdout: "", stderr: "" });
    await waitFor(
      async () => {
        const vs = await Promise.all([rpc(0), rpc(1), rpc(2)].map(membersJson));
        return vs.every((v) => v.find((m) => m.name === "ours2")?.status === "left");
      },
      20_000,
      "ours2 left everywhere",
    );
    assert.deepEqual(await real("force-leave", `-rpc-addr=${rpc(2)}`, "nobody"), { code: 0, stdout: "", stderr: "" });
  });

  let real2FailedAt = 0;
  it("kill -9 of a real agent: our agent marks it failed", { timeout: 90_000 }, async () => {
    await r2.stop("SIGKILL");
    await waitFor(
      async () => (await membersJson(rpc(2))).find((m) => m.name === "real2")?.status === "failed",
      60_000,
      "real2 failed on ours1",
    );
    real2FailedAt = Date.now();
  });

  it("serf leave against our agent: graceful, exit 0, left on the real side", { timeout: 60_000 }, async () => {
    // memberlist gossips to dead nodes for GossipToTheDeadTime (15 s in the local profile), and a Serf
    // leave intent goes out RetransmitMult×ceil(log10(n+1)) = 2 times. With real2 and ours2 both dead
    // that recently, both can go to them and real1, the only live peer left, never hears the intent
    // (it then shows ours1 failed, as it would with a Go agent in ours1's place). Let real2's death age.
    await new Promise((r) => setTimeout(r, Math.max(0, real2FailedAt + 16_000 - Date.now())));
    const r = await real("leave", `-rpc-addr=${rpc(2)}`);
    assert.deepEqual(r, { code: 0, stdout: "Graceful leave complete\n", stderr: "" });
    assert.equal(await o1.proc.exited, 0);
    await waitFor(
      async () => (await membersJson(rpc(0))).find((m) => m.name === "ours1")?.status === "left",
      20_000,
      "ours1 left on real1",
    );
    void r1;
  });
});
