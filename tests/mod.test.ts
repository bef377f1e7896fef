/**
 * Uses mod.ts the way a user's script would: two embedded agents form a
 * cluster, events arrive on the async iterable, the RPC client drives one of
 * them over its RPC port, and a graceful leave shows as `left`.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type EmbeddedAgent, type MemberEvent, RpcClient, type SerfEvent, startAgent } from "../mod.ts";
import { waitFor } from "./helpers/wait.ts";

describe("mod.ts: embedding", { timeout: 60_000 }, () => {
  const nodes: EmbeddedAgent[] = [];
  after(async () => {
    for (const n of nodes) await n.shutdown();
  });

  it("starts two agents, joins them, streams events, serves RPC, leaves", { timeout: 60_000 }, async () => {
    const a = await startAgent({
      nodeName: "embed-a",
      bind: "127.0.0.1:0",
      profile: "local",
      tags: { role: "web" },
      serveRpc: true,
      rpcAddr: "127.0.0.1:0",
    });
    nodes.push(a);
    const b = await startAgent({ nodeName: "embed-b", bind: "127.0.0.1:0", profile: "local" });
    nodes.push(b);

    const seen: SerfEvent[] = [];
    const reader = (async () => {
      for await (const e of a.events()) {
        seen.push(e);
        const joined = seen.some((x) => x.type === "member-join" && x.members.some((m) => m.name === "embed-b"));
        const hello = seen.some((x) => x.type === "user" && x.name === "hello");
        // Member events are coalesced (3 s / 1 s, as in Serf's agent): the user event may come first.
        if (joined && hello) break;
      }
    })();

    assert.equal(await b.join([`127.0.0.1:${a.port}`]), 1);
    await waitFor(() => a.members().length === 2 && b.members().every((m) => m.status === "alive"), 10_000, "2 alive");
    assert.deepEqual(b.members().find((m) => m.name === "embed-a")?.tags, { role: "web" });

    const client = await RpcClient.connect(`127.0.0.1:${a.rpcPort}`);
    try {
      const members = await client.members();
      assert.deepEqual(members.map((m) => m.name).sort(), ["embed-a", "embed-b"]);
      await client.userEvent("hello", new TextEncoder().encode("world"), false);
    } finally {
      client.close();
    }
    await reader;
    const joins = seen.filter((e): e is MemberEvent => e.type === "member-join").flatMap((e) => e.members);
    assert.ok(joins.some((m) => m.name === "embed-b"), JSON.stringify(seen.map((e) => e.type)));
    const hello = seen.find((e) => e.type === "user");
    assert.ok(hello?.type === "user" && new TextDecoder().decode(hello.payload!) === "world");

    await b.leave();
    await waitFor(() => a.members().find((m) => m.name === "embed-b")?.status === "left", 10_000, "b left");
  });
});
