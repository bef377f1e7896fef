/**
 * Serf's Quick Start, verbatim, on the built executable (dist/serf):
 *
 *   serf agent -node=foo -bind=127.0.0.1:5000 -rpc-addr=127.0.0.1:7373
 *   serf agent -node=bar -bind=127.0.0.1:5001 -rpc-addr=127.0.0.1:7374
 *   serf join 127.0.0.1:5001
 *   serf members            -> both alive
 *   ctrl-C on bar           -> foo shows bar `left`
 *   kill -9 bar instead     -> foo shows bar `failed` within seconds
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { builtBinary, type OurAgent, runCli, startOurAgent } from "./helpers/agent.ts";
import { killAll } from "./helpers/process.ts";
import { waitFor } from "./helpers/wait.ts";

const serf = (...args: string[]) => runCli([builtBinary(), ...args]);

/** `serf members` (default RPC address 127.0.0.1:7373) as name → status. */
async function statuses(): Promise<Record<string, string>> {
  const r = await serf("members");
  assert.equal(r.code, 0, r.stdout);
  const out: Record<string, string> = {};
  for (const line of r.stdout.trim().split("\n")) {
    const [name, , status] = line.trim().split(/\s+/);
    if (name) out[name] = status;
  }
  return out;
}

describe("Quick Start on the built executable", { timeout: 120_000 }, () => {
  after(killAll);
  let bar: OurAgent;
  const startBar = () =>
    startOurAgent({ name: "bar", bind: "127.0.0.1:5001", rpc: "127.0.0.1:7374", flavor: "binary" });

  it("two agents join and both are alive", { timeout: 60_000 }, async () => {
    // foo runs until killAll.
    await startOurAgent({ name: "foo", bind: "127.0.0.1:5000", rpc: "127.0.0.1:7373", flavor: "binary" });
    bar = await startBar();
    const join = await serf("join", "127.0.0.1:5001");
    assert.equal(join.code, 0);
    assert.equal(join.stdout, "Successfully joined cluster by contacting 1 nodes.\n");
    const members = await waitFor(
      async () => {
        const s = await statuses();
        return s.foo === "alive" && s.bar === "alive" ? s : undefined;
      },
      10_000,
      "both alive",
    );
    assert.deepEqual(members, { foo: "alive", bar: "alive" });
    const lines = (await serf("members")).stdout.trim().split("\n");
    assert.ok(lines.some((l) => /^foo\s+127\.0\.0\.1:5000\s+alive\s*$/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => /^bar\s+127\.0\.0\.1:5001\s+alive\s*$/.test(l)), lines.join("\n"));
  });

  it("ctrl-C on bar: it leaves gracefully, exits 0, and foo shows it left", { timeout: 60_000 }, async () => {
    const code = await bar.stop("SIGINT");
    assert.equal(code, 0);
    assert.ok(bar.proc.stdout.includes("==> Caught signal: interrupt"), bar.proc.stdout.join("\n"));
    assert.ok(bar.proc.stdout.includes("==> Gracefully shutting down agent..."));
    await waitFor(async () => (await statuses()).bar === "left", 10_000, "bar left");
  });

  it("kill -9 on bar: foo shows it failed within seconds", { timeout: 60_000 }, async () => {
    bar = await startBar();
    assert.equal((await serf("join", "127.0.0.1:5001")).code, 0);
    await waitFor(async () => (await statuses()).bar === "alive", 10_000, "bar alive again");
    const t0 = Date.now();
    await bar.stop("SIGKILL");
    await waitFor(async () => (await statuses()).bar === "failed", 30_000, "bar failed");
    const took = Date.now() - t0;
    // LAN profile, 2 nodes: probe interval 1 s + suspicion timeout 4 s, plus slack.
    assert.ok(took < 15_000, `detection took ${took} ms`);
    console.log(`# kill -9 detected as failed after ${took} ms`);
  });
});
