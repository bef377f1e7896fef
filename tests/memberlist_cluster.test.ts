/**
 * Behaviour of several memberlist cores wired together by the in-test
 * harness (virtual time, 1 ms latency, DefaultLocalConfig timings).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "./memberlist_harness.ts";
import { encodeSuspect } from "../lib/memberlist/messages.ts";
import { openPacket } from "../lib/memberlist/envelope.ts";
import { Keyring } from "../lib/security/keyring.ts";
import { suspicionTimeout } from "../lib/memberlist/util.ts";

const NAMES5 = ["a", "b", "c", "d", "e"];

function cluster(names: string[], seed = 1, opts: Parameters<Cluster["add"]>[1] = {}): Cluster {
  const c = new Cluster(seed);
  for (const n of names) c.add(n, opts);
  for (const n of names.slice(1)) {
    const r = c.join(n, names[0]);
    assert.equal(r.joined, 1, `${n} joined`);
  }
  // gossip is probabilistic (a node may miss a broadcast); push/pull (every 15 s) repairs it
  assert.ok(c.until(() => c.converged(names), 40_000) >= 0, "converged");
  return c;
}

describe("memberlist cluster", () => {
  it("joins and converges", () => {
    const c = cluster(NAMES5);
    const t = c.until(() => c.converged(NAMES5), 10_000);
    assert.ok(t >= 0, "converged");
    for (const n of NAMES5) {
      const core = c.get(n).core;
      assert.equal(core.numMembers(), 5);
      assert.equal(core.estNumNodes(), 5);
      assert.deepEqual(
        c.get(n).events.filter((e) => e.startsWith("join")).length,
        5,
        "a join event per node incl. self",
      );
    }
    c.step(20_000);
    for (const n of NAMES5) {
      assert.ok(!c.get(n).logs.some((l) => l.includes("has failed")), `no false failures on ${n}`);
      assert.equal(c.get(n).core.healthScore(), 0);
    }
  });

  it("detects a crash: suspect, then dead within Lifeguard's window", () => {
    const c = cluster(NAMES5, 2);
    c.until(() => c.converged(NAMES5), 10_000);
    c.step(3_000);
    const crashAt = c.now;
    c.crash("e");
    const others = ["a", "b", "c", "d"];
    // N = 5, DefaultLocalConfig: min = 3 s × max(1, log10 5) = 3 s, max = 6 × min = 18 s, k = 1
    const min = suspicionTimeout(3, 5, 1000), max = 6 * min;
    assert.equal(min, 3000);
    const firstDead = c.until(() => others.some((o) => c.stateOf(o, "e") === 2), 60_000, 5);
    assert.ok(firstDead >= 1000 + min, `not before probe failure + min suspicion (${firstDead})`);
    const allDead = c.until(() => others.every((o) => c.stateOf(o, "e") === 2), 60_000, 5);
    assert.ok(
      allDead >= 0 && c.now - crashAt <= 4 * 1000 + 1000 + max + 1000,
      `dead everywhere in time (${c.now - crashAt})`,
    );
    const logs = others.flatMap((o) => c.get(o).logs);
    assert.ok(logs.includes("INFO memberlist: Suspect e has failed, no acks received"));
    assert.ok(
      logs.some((l) =>
        /^INFO memberlist: Marking e as failed, suspect timeout reached \(\d peer confirmations\)$/.test(l)
      ),
    );
    for (const o of others) {
      assert.ok(c.get(o).events.includes("leave e 2"), `${o} notified of e's failure as dead`);
      assert.equal(c.get(o).core.numMembers(), 4);
    }
    // dead nodes are reaped after GossipToTheDeadTime (15 s)
    c.step(25_000);
    for (const o of others) assert.equal(c.stateOf(o, "e"), undefined, `${o} reaped e`);
  });

  it("refutes a false suspicion with a higher incarnation", () => {
    const c = cluster(NAMES5, 3);
    c.until(() => c.converged(NAMES5), 10_000);
    const inc = c.get("a").core.incarnationOf("b")!;
    assert.equal(inc, 1);
    c.act(
      "a",
      (core, now) => core.handlePacket(encodeSuspect({ incarnation: inc, node: "b", from: "x" }), c.get("c").addr, now),
    );
    assert.equal(c.stateOf("a", "b"), 1, "a suspects b");
    // the accuser hears the refutation at once (the suspect reaches b by gossip or the buddy-system ping)
    assert.ok(c.until(() => c.stateOf("a", "b") === 0 && c.get("a").core.incarnationOf("b") === 2, 3_000, 5) >= 0);
    assert.ok(c.get("b").logs.includes("WARN memberlist: Refuting a suspect message (from: x)"));
    assert.equal(c.get("b").core.localIncarnation(), 2);
    assert.equal(c.get("b").core.healthScore(), 1, "refuting costs awareness");
    // everyone ends up with b alive at incarnation 2 (gossip, or push/pull for a node gossip missed)
    const t = c.until(
      () => NAMES5.every((n) => c.stateOf(n, "b") === 0 && c.get(n).core.incarnationOf("b") === 2),
      40_000,
      10,
    );
    assert.ok(t >= 0, "everyone sees b alive again at incarnation 2");
    assert.ok(!c.get("a").logs.some((l) => l.includes("Marking b as failed")), "the accuser never declares b dead");
  });

  it("a leaving node shows as left (state 3), not failed", () => {
    const c = cluster(NAMES5, 4);
    c.until(() => c.converged(NAMES5), 10_000);
    let result: string | undefined | null = null;
    const start = c.now;
    c.act("c", (core, now) => core.leave(now, 5_000, (err) => (result = err)));
    const t = c.until(() => result !== null, 6_000, 1);
    assert.ok(t >= 0 && c.now - start < 5_000, "leave completed before the timeout");
    assert.equal(result, undefined, "no error");
    assert.ok(c.get("c").core.hasLeft());
    c.until(() => ["a", "b", "d", "e"].every((n) => c.stateOf(n, "c") === 3), 5_000);
    for (const n of ["a", "b", "d", "e"]) {
      assert.equal(c.stateOf(n, "c"), 3);
      assert.ok(c.get(n).events.includes("leave c 3"));
    }
    c.step(30_000);
    for (const n of ["a", "b", "d", "e"]) {
      assert.ok(
        !c.get(n).logs.some((l) => l.includes("Suspect c") || l.includes("Marking c")),
        `${n} never suspected c`,
      );
      assert.equal(c.stateOf(n, "c"), 3, "left nodes are kept (memberlist 0.2.2 only reaps dead ones)");
    }
  });

  it("leave times out when the broadcast cannot go out", () => {
    const c = cluster(["a", "b"], 5);
    c.until(() => c.converged(["a", "b"]), 5_000);
    c.partition(["a"], ["b"]);
    let result: string | undefined | null = null;
    c.act("a", (core, now) => core.leave(now, 50, (err) => (result = err)));
    // a's gossip still runs, so the broadcast is transmitted (into the void) and finishes; a tiny timeout wins
    c.step(60);
    assert.equal(result, "timeout waiting for leave broadcast");
  });

  it("updateNode gossips new meta with incarnation + 1", () => {
    let meta = Uint8Array.of(1);
    const c = new Cluster(6);
    for (const n of ["a", "b", "c"]) c.add(n, { delegate: { nodeMeta: () => meta } });
    c.join("b", "a");
    c.join("c", "a");
    c.until(() => c.converged(["a", "b", "c"]), 5_000);
    meta = Uint8Array.of(2, 3);
    let result: string | undefined | null = null;
    c.act("a", (core, now) => core.updateNode(now, 5_000, (e) => (result = e)));
    c.until(() => result !== null, 5_000, 1);
    assert.equal(result, undefined);
    c.until(() => ["b", "c"].every((n) => c.get(n).events.includes("update a")), 2_000);
    for (const n of ["b", "c"]) {
      assert.deepEqual(c.get(n).core.members().find((m) => m.name === "a")?.meta, Uint8Array.of(2, 3));
      assert.equal(c.get(n).core.incarnationOf("a"), 2);
    }
  });

  it("push/pull merges node and user state (join and periodic)", () => {
    const calls: string[] = [];
    const c = new Cluster(7);
    for (const n of ["a", "b", "c"]) {
      c.add(n, {
        tweak: (cfg) => (cfg.gossipNodes = 0),
        delegate: {
          localState: (join) => new TextEncoder().encode(`${n}:${join}`),
          mergeRemoteState: (buf, join) => calls.push(`${n}<-${new TextDecoder().decode(buf)} ${join}`),
        },
      });
    }
    c.join("b", "a");
    assert.deepEqual(calls.sort(), ["a<-b:true true", "b<-a:true true"]);
    c.join("c", "b");
    // no gossip ticker: a learns c by piggybacked broadcasts or a periodic push/pull (every 15 s)
    const t = c.until(() => c.converged(["a", "b", "c"]), 40_000, 50);
    assert.ok(t >= 0);
    c.step(40_000);
    assert.ok(calls.some((x) => x.endsWith(" false")), "periodic push/pull uses Join=false");
    assert.ok(calls.some((x) => /^.<-.:false false$/.test(x)));
  });

  it("heals a partition after a rejoin", () => {
    const names = ["a", "b", "c", "d", "e", "f"];
    // Dead nodes are kept (not reaped after GossipToTheDeadTime) so that d still holds a's death at the heal.
    const c = cluster(names, 8, { tweak: (cfg) => (cfg.gossipToTheDeadTime = 600_000) });
    c.until(() => c.converged(names), 10_000);
    c.partition(["a", "b", "c"], ["d", "e", "f"]);
    const t = c.until(() => c.converged(["a", "b", "c"]) && c.converged(["d", "e", "f"]), 60_000, 20);
    assert.ok(t >= 0, "each side declares the other dead");
    assert.equal(c.stateOf("a", "d"), 2, "dead");
    assert.equal(c.stateOf("d", "a"), 2);
    c.heal();
    assert.equal(c.join("a", "d").joined, 1, "rejoin (what Serf's reconnect does)");
    const healed = c.until(() => c.converged(names), 120_000, 50);
    assert.ok(healed >= 0, "all six alive everywhere again");
    assert.ok(c.get("a").core.localIncarnation() > 1, "a refuted its death");
  });

  it("with a shared keyring: encrypted traffic, and a wrong key cannot join", () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const ring = () => new Keyring([key]);
    const c = new Cluster(9);
    for (const n of ["a", "b", "c"]) c.add(n, { keyring: ring() });
    c.join("b", "a");
    c.join("c", "a");
    assert.ok(c.until(() => c.converged(["a", "b", "c"]), 5_000) >= 0);
    const sent = c.get("b").sent;
    assert.ok(sent.length > 0);
    for (const p of sent.slice(0, 20)) {
      assert.equal(p.data[0], 1, "encryption version 1");
      assert.equal(openPacket(p.data).ok, true, "opaque without keys (treated as an unknown message)");
      assert.equal(openPacket(p.data, [key]).ok, true);
    }
    const w = c.add("w", { keyring: new Keyring([Uint8Array.from({ length: 16 }, () => 9)]) });
    const r = c.join("w", "a");
    assert.deepEqual(r, {
      joined: 0,
      errors: ["Failed to join 10.0.0.1: No installed keys could decrypt the message"],
    });
    assert.ok(
      c.get("a").logs.some((l) =>
        l.startsWith("ERR memberlist: failed to receive: No installed keys could decrypt the message")
      ),
    );
    const p = c.add("p");
    assert.deepEqual(c.join("p", "a"), {
      joined: 0,
      errors: ["Failed to join 10.0.0.1: Remote state is encrypted and encryption is not configured"],
    });
    c.step(5_000);
    assert.deepEqual(c.get("a").core.members().map((m) => m.name).sort(), ["a", "b", "c"]);
    assert.equal(w.core.numMembers(), 1);
    assert.equal(p.core.numMembers(), 1);
  });

  it("keeps gossip packets within the 1400-byte budget (+5 CRC)", () => {
    const big = Array.from({ length: 40 }, (_, i) => new Uint8Array(200).fill(i));
    for (const encrypted of [false, true]) {
      const key = Uint8Array.from({ length: 32 }, (_, i) => i);
      const c = new Cluster(10);
      for (const n of ["a", "b", "c", "d"]) {
        c.add(n, {
          keyring: encrypted ? new Keyring([key]) : undefined,
          tweak: (cfg) => (cfg.enableCompression = false),
          delegate: {
            getBroadcasts: (overhead, limit) => {
              const out: Uint8Array[] = [];
              let used = 0;
              for (const m of big) {
                if (used + m.length + overhead > limit) break;
                used += m.length + overhead;
                out.push(m);
              }
              return out;
            },
          },
        });
      }
      for (const n of ["b", "c", "d"]) c.join(n, "a");
      c.step(3_000);
      const sizes = [...c.nodes.values()].flatMap((n) => n.sent.map((p) => p.data.length));
      assert.ok(Math.max(...sizes) <= 1405, `max packet ${Math.max(...sizes)}`);
      assert.ok(Math.max(...sizes) > 1300, "packets are filled");
    }
  });
});
