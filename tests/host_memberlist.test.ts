/**
 * MemberlistHost with the real memberlist core on the real runtime
 * (127.0.0.1, port 0): joins through every address form, sees members come
 * and go, leaves gracefully, and frees its port on shutdown.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { bindTransport } from "../lib/host/transport.ts";
import { NodeState } from "../lib/memberlist/types.ts";
import { currentRuntime } from "../lib/runtime/detect.ts";
import { startNode, type TestNode } from "./helpers/node.ts";
import { waitFor } from "./helpers/wait.ts";

describe("MemberlistHost on the real runtime", { timeout: 30_000 }, () => {
  const runtime = currentRuntime({ logger: () => {} });
  const nodes: TestNode[] = [];
  after(async () => {
    for (const n of nodes) await n.stop();
  });

  it("joins by ip:port, name/ip:port and host name, and converges", { timeout: 15_000 }, async () => {
    for (const name of ["h-a", "h-b", "h-c"]) nodes.push(await startNode({ runtime, name, profile: "local" }));
    const [a, b, c] = nodes;
    const r1 = await b.host.join([`127.0.0.1:${a.port}`]);
    assert.deepEqual(r1, { joined: 1, errors: [] });
    const r2 = await c.host.join([`h-a/localhost:${a.port}`, "no-such-host.invalid"]);
    assert.ok(r2.joined >= 1, JSON.stringify(r2));
    assert.match(r2.errors.join("\n"), /Failed to resolve no-such-host\.invalid/);
    await waitFor(() => nodes.every((n) => n.core.members().length === 3), 10_000, "3 members everywhere");
    for (const n of nodes) {
      for (const other of nodes) assert.equal(n.stateOf(other.name), NodeState.Alive, `${n.name} sees ${other.name}`);
    }
    assert.ok(a.events.some(([k, n]) => k === "join" && n === "h-c"), "join events delivered");
  });

  it("reports a join to a closed port as an error", { timeout: 10_000 }, async () => {
    const t = await bindTransport(runtime, "127.0.0.1", 0);
    const closed = t.port;
    t.close();
    const r = await nodes[0].host.join([`127.0.0.1:${closed}`]);
    assert.equal(r.joined, 0);
    assert.match(r.errors[0], /^Failed to join 127\.0\.0\.1: /);
  });

  it("leaves gracefully: the others see it as left", { timeout: 15_000 }, async () => {
    const [a, , c] = nodes;
    await c.host.leave(5_000);
    await waitFor(() => a.stateOf("h-c") === NodeState.Left, 5_000, "h-a sees h-c left");
    assert.ok(a.events.some(([k, n, s]) => k === "leave" && n === "h-c" && s === NodeState.Left));
    const port = c.port;
    await c.stop();
    assert.equal(c.host.openStreams, 0);
    // The port is free again for both protocols (Deno's node:dgram releases it a moment after close()).
    const t = await waitFor(
      () => bindTransport(runtime, "127.0.0.1", port).catch(() => undefined),
      2_000,
      "port free again",
    );
    t.close();
  });
});
