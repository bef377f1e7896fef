// Serf cores on the real memberlist core, wired by an in-test synchronous
// router: packets and stream events travel through one virtual-time queue
// (1 ms latency) and cores are ticked in deadline order.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { seeded } from "../lib/core/random.ts";
import type { LogLevel } from "../lib/core/log.ts";
import { defaultLocalConfig } from "../lib/memberlist/config.ts";
import type { Address, Output } from "../lib/memberlist/types.ts";
import { Serf } from "../lib/serf/serf.ts";
import { defaultSerfConfig, type SerfConfig } from "../lib/serf/config.ts";
import { decodePushPull } from "../lib/serf/messages.ts";
import type { Member, SerfEvent } from "../lib/serf/types.ts";
import { KeyManager, type KeyResponse } from "../lib/serf/keymanager.ts";
import { Keyring } from "../lib/security/keyring.ts";

interface Node {
  name: string;
  addr: Address;
  serf: Serf;
  up: boolean;
  events: SerfEvent[];
  logs: string[];
}

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

const SMALL: Partial<SerfConfig> = {
  protocolVersion: 5,
  reapInterval: 1_000,
  reconnectInterval: 2_000,
  reconnectTimeout: 8_000,
  tombstoneTimeout: 8_000,
  broadcastTimeout: 2_000,
  leavePropagateDelay: 500,
};

class Router {
  now = 0;
  readonly nodes = new Map<string, Node>();
  readonly #byAddr = new Map<string, Node>();
  readonly #pairs = new Map<string, string>();
  #queue: Pending[] = [];
  #seq = 0;

  keys?: Uint8Array[];

  add(name: string, tags: Record<string, string> = {}, over: Partial<SerfConfig> = {}): Node {
    const logs: string[] = [];
    const ip = `10.0.0.${this.nodes.size + 1}`;
    const logger = (l: LogLevel, m: string) => logs.push(`[${l}] ${m}`);
    const ml = { ...defaultLocalConfig(name, seeded(this.nodes.size + 11), logger), bindAddr: ip, advertiseAddr: ip };
    if (this.keys) ml.keyring = new Keyring(this.keys);
    const serf = new Serf(defaultSerfConfig({ ...SMALL, nodeName: name, tags, ...over }), ml, this.now);
    const node: Node = { name, addr: { ip, port: 7946 }, serf, up: true, events: [], logs };
    serf.onEvent((e) => node.events.push(e));
    this.nodes.set(name, node);
    this.#byAddr.set(`${ip}:7946`, node);
    serf.start(this.now);
    this.flush(node);
    return node;
  }

  get(name: string): Node {
    return this.nodes.get(name)!;
  }

  /** Runs `fn(now)` against a node and carries out its outputs. */
  act(name: string, fn: (serf: Serf, now: number) => void): void {
    const n = this.get(name);
    fn(n.serf, this.now);
    this.flush(n);
  }

  join(name: string, ...targets: string[]): number {
    let joined = -1;
    this.act(name, (s, now) => s.join(targets.map((t) => this.get(t).addr), true, now, (n) => (joined = n)));
    this.until(() => joined >= 0, 10_000);
    return joined;
  }

  crash(name: string): void {
    this.get(name).up = false;
  }

  #at(fn: () => void): void {
    this.#queue.push({ at: this.now + 1, seq: this.#seq++, fn });
  }

  flush(n: Node): void {
    for (const out of n.serf.drain()) if (n.up) this.#perform(n, out);
  }

  #perform(n: Node, out: Output): void {
    if (out.kind === "packet") {
      const dst = this.#byAddr.get(`${out.to.ip}:${out.to.port}`);
      if (dst) {
        this.#at(() => {
          if (!dst.up || !n.up) return;
          dst.serf.handlePacket(out.data, n.addr, this.now);
          this.flush(dst);
        });
      }
    } else if (out.kind === "connect") {
      const dst = this.#byAddr.get(`${out.to.ip}:${out.to.port}`);
      this.#at(() => {
        if (!n.up) return;
        if (!dst || !dst.up) {
          n.serf.streamClosed(out.stream, this.now, "connect: connection refused");
          return this.flush(n);
        }
        const id = dst.serf.streamAccepted({ ip: n.addr.ip, port: 40000 + out.stream }, this.now);
        this.flush(dst);
        this.#pairs.set(`${n.name}#${out.stream}`, `${dst.name}#${id}`);
        this.#pairs.set(`${dst.name}#${id}`, `${n.name}#${out.stream}`);
        n.serf.streamConnected(out.stream, this.now);
        this.flush(n);
      });
    } else if (out.kind === "write") {
      const peer = this.#pairs.get(`${n.name}#${out.stream}`);
      if (!peer) return;
      const [pname, pid] = peer.split("#");
      const dst = this.get(pname);
      this.#at(() => {
        if (!dst.up) return;
        dst.serf.streamData(Number(pid), out.data, this.now);
        this.flush(dst);
      });
    } else {
      const key = `${n.name}#${out.stream}`;
      const peer = this.#pairs.get(key);
      this.#pairs.delete(key);
      if (!peer) return;
      this.#pairs.delete(peer);
      const [pname, pid] = peer.split("#");
      const dst = this.get(pname);
      this.#at(() => {
        if (!dst.up) return;
        dst.serf.streamClosed(Number(pid), this.now);
        this.flush(dst);
      });
    }
  }

  run(until: number): void {
    for (;;) {
      this.#queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      let best: { at: number; go: () => void } | undefined;
      const ev = this.#queue[0];
      if (ev) best = { at: ev.at, go: () => (this.#queue.shift(), ev.fn()) };
      for (const n of this.nodes.values()) {
        const d = n.up ? n.serf.nextDeadline() : undefined;
        if (d !== undefined && (!best || d < best.at)) best = { at: d, go: () => (n.serf.tick(d), this.flush(n)) };
      }
      if (!best || best.at > until) break;
      this.now = Math.max(this.now, best.at);
      best.go();
    }
    this.now = Math.max(this.now, until);
  }

  step(ms: number): void {
    this.run(this.now + ms);
  }

  /** Runs until `pred` holds; fails the test after `limit` ms. */
  until(pred: () => boolean, limit: number, what = "condition"): void {
    const start = this.now;
    while (!pred()) {
      assert.ok(this.now - start <= limit, `timed out after ${limit} ms waiting for ${what}`);
      this.step(10);
    }
  }

  /** `viewer`'s record of `name`. */
  member(viewer: string, name: string): Member | undefined {
    return this.get(viewer).serf.members().find((m) => m.name === name);
  }

  /** Every (up) node sees `name` with `status` (or does not know it when status is undefined). */
  allSee(name: string, status: Member["status"] | undefined, viewers?: string[]): boolean {
    const vs = viewers ?? [...this.nodes.values()].filter((n) => n.up && n.name !== name).map((n) => n.name);
    return vs.every((v) => this.member(v, name)?.status === status);
  }
}

function cluster(
  names: string[],
  tags: (n: string) => Record<string, string> = () => ({}),
  keys?: Uint8Array[],
  over: Partial<SerfConfig> = {},
): Router {
  const r = new Router();
  r.keys = keys;
  for (const n of names) r.add(n, tags(n), over);
  for (const n of names.slice(1)) assert.equal(r.join(n, names[0]), 1);
  r.until(
    () => names.every((v) => r.get(v).serf.members().filter((m) => m.status === "alive").length === names.length),
    10_000,
    "convergence",
  );
  return r;
}

const names = (events: SerfEvent[], type: string) =>
  events.filter((e) => e.type === type).flatMap((e) => (e as { members: Member[] }).members.map((m) => m.name));

describe("serf cluster over the memberlist core", () => {
  it("join: every node sees every other alive with its tags; Go's join log", { timeout: 20_000 }, () => {
    const r = cluster(["a", "b", "c", "d", "e"], (n) => ({ role: n === "a" ? "lb" : "web", id: n }));
    for (const v of r.nodes.keys()) {
      for (const n of r.nodes.keys()) {
        const m = r.member(v, n)!;
        assert.equal(m.status, "alive", `${v} sees ${n}`);
        assert.deepEqual(m.tags, { role: n === "a" ? "lb" : "web", id: n });
        assert.deepEqual([m.protocolMin, m.protocolMax, m.protocolCur, m.delegateMin, m.delegateMax, m.delegateCur], [
          1,
          5,
          2,
          2,
          5,
          5,
        ]);
      }
      assert.deepEqual(names(r.get(v).events, "member-join").sort(), ["a", "b", "c", "d", "e"]);
    }
    assert.ok(r.get("a").logs.includes("[INFO] serf: EventMemberJoin: b 10.0.0.2"));
  });

  it(
    "Lamport clocks advance as Go's: join intents carry the clock, push/pull witnesses LTime−1",
    { timeout: 20_000 },
    () => {
      const r = new Router();
      for (const n of ["a", "b", "c"]) r.add(n);
      assert.equal(r.join("b", "a"), 1);
      r.step(2_000);
      // b: push/pull LTime 1 → witness 0 (no change); join intent LTime 1 → clock 2; a witnesses 1 → 2.
      assert.equal(r.get("a").serf.clocks().clock, 2);
      assert.equal(r.get("b").serf.clocks().clock, 2);
      assert.equal(r.join("c", "a"), 1);
      r.step(2_000);
      // c: push/pull LTime 2 → witness 1 → 2; join intent LTime 2 → 3 everywhere.
      for (const n of ["a", "b", "c"]) {
        assert.equal(r.get(n).serf.clocks().clock, 3, n);
        const pp = decodePushPull(r.get(n).serf.memberlistConfig.delegate!.localState(false));
        assert.deepEqual(Object.fromEntries(pp.statusLTimes), { a: 0, b: 1, c: 2 }, n);
      }
      r.act("b", (s, now) => s.userEvent("e1", null, false, now));
      r.step(2_000);
      for (const n of ["a", "b", "c"]) assert.equal(r.get(n).serf.clocks().eventClock, 2, n);
      r.act("c", (s, now) => s.query("q1", null, {}, now));
      r.step(4_000);
      for (const n of ["a", "b", "c"]) assert.equal(r.get(n).serf.clocks().queryClock, 2, n);
    },
  );

  it("user event is delivered exactly once on every node", { timeout: 20_000 }, () => {
    const r = cluster(["a", "b", "c", "d"]);
    r.act("c", (s, now) => s.userEvent("deploy", new TextEncoder().encode("v2"), false, now));
    r.step(5_000);
    for (const n of r.nodes.values()) {
      const ue = n.events.filter((e) => e.type === "user");
      assert.equal(ue.length, 1, n.name);
      assert.deepEqual(ue[0], {
        type: "user",
        ltime: 1,
        name: "deploy",
        payload: new TextEncoder().encode("v2"),
        coalesce: false,
      });
    }
  });

  it("graceful leave: others see left, the node ends left", { timeout: 20_000 }, () => {
    const r = cluster(["a", "b", "c"]);
    let result: string | undefined | null = null;
    r.act("c", (s, now) => s.leave(now, (e) => (result = e)));
    r.until(() => result !== null, 10_000, "leave");
    assert.equal(result, undefined);
    assert.equal(r.get("c").serf.state(), "left");
    r.until(() => r.allSee("c", "left", ["a", "b"]), 5_000, "c left");
    assert.deepEqual(names(r.get("a").events, "member-leave"), ["c"]);
    assert.deepEqual(names(r.get("a").events, "member-failed"), []);
    assert.ok(r.get("a").logs.includes("[INFO] serf: EventMemberLeave: c 10.0.0.3"));
    r.get("c").serf.shutdown();
    r.crash("c");
    // Tombstone: reaped after TombstoneTimeout.
    r.step(10_000);
    assert.ok(r.allSee("c", undefined, ["a", "b"]));
    assert.deepEqual(names(r.get("b").events, "member-reap"), ["c"]);
  });

  it("crash: failed, then reaped after ReconnectTimeout (reconnects fail meanwhile)", { timeout: 20_000 }, () => {
    const r = cluster(["a", "b", "c"]);
    r.crash("c");
    r.until(() => r.allSee("c", "failed", ["a", "b"]), 15_000, "c failed");
    assert.ok(r.get("a").logs.includes("[INFO] serf: EventMemberFailed: c 10.0.0.3"));
    assert.equal(r.get("a").serf.stats().failed, "1");
    r.until(() => r.allSee("c", undefined, ["a", "b"]), 12_000, "c reaped");
    assert.deepEqual(names(r.get("a").events, "member-failed"), ["c"]);
    assert.deepEqual(names(r.get("a").events, "member-reap"), ["c"]);
    assert.ok(
      r.get("a").logs.some((l) => l.startsWith("[INFO] serf: attempting reconnect to c 10.0.0.3:7946")) ||
        r.get("b").logs.some((l) => l.startsWith("[INFO] serf: attempting reconnect to c 10.0.0.3:7946")),
    );
  });

  it("force-leave of a failed node makes it left everywhere; -prune reaps it", { timeout: 20_000 }, () => {
    // Failed members are kept long enough (30 s) for a push/pull (15 s) to carry the leave.
    const r = cluster(["a", "b", "c", "d"], undefined, undefined, {
      reconnectTimeout: 30_000,
      tombstoneTimeout: 30_000,
    });
    r.crash("d");
    r.until(() => r.allSee("d", "failed", ["a", "b", "c"]), 15_000, "d failed");
    let res: string | undefined | null = null;
    r.act("a", (s, now) => s.forceLeave("d", false, now, (e) => (res = e)));
    r.until(() => res !== null, 5_000, "force-leave");
    assert.equal(res, undefined);
    // A broadcast goes out retransmitLimit (here 2) times in all, and one may go to the dead d:
    // a node it misses learns the leave from the next push/pull (15 s in the local profile).
    r.until(() => r.allSee("d", "left", ["a", "b", "c"]), 20_000, "d left");
    assert.ok(r.get("b").logs.includes("[INFO] serf: EventMemberLeave (forced): d 10.0.0.4"));
    r.crash("c");
    r.until(() => r.allSee("c", "failed", ["a", "b"]), 15_000, "c failed");
    res = null;
    r.act("b", (s, now) => s.forceLeave("c", true, now, (e) => (res = e)));
    r.until(() => res !== null, 5_000, "force-leave -prune");
    r.until(() => r.allSee("c", undefined, ["a", "b"]), 5_000, "c pruned");
    assert.deepEqual(names(r.get("a").events, "member-reap"), ["c"]);
    assert.ok(r.get("a").logs.includes("[INFO] serf: EventMemberReap (forced): c 10.0.0.3"));
  });

  it("tags update propagates as member-update", { timeout: 20_000 }, () => {
    const r = cluster(["a", "b", "c"], () => ({ role: "web" }));
    let res: string | undefined | null = null;
    r.act("b", (s, now) => s.setTags({ role: "db", v: "2" }, now, (e) => (res = e)));
    r.until(() => res !== null, 5_000, "setTags");
    assert.equal(res, undefined);
    r.until(() => ["a", "c"].every((v) => r.member(v, "b")?.tags.role === "db"), 5_000, "new tags");
    for (const v of ["a", "c"]) {
      assert.deepEqual(r.member(v, "b")?.tags, { role: "db", v: "2" });
      assert.deepEqual(names(r.get(v).events, "member-update"), ["b"]);
    }
    assert.ok(r.get("a").logs.includes("[INFO] serf: EventMemberUpdate: b"));
  });

  it("a leave intent that arrives before the node is buffered and applied at its join", { timeout: 20_000 }, () => {
    const r = cluster(["a", "b", "c"]);
    // a gossips a leave intent about "d", which nobody knows yet.
    r.act("a", (s, now) => s.forceLeave("d", false, now, () => {}));
    r.step(3_000);
    for (const v of ["a", "b", "c"]) assert.equal(r.member(v, "d"), undefined);
    r.add("d");
    assert.equal(r.join("d", "b"), 1);
    r.step(3_000);
    // Everyone first saw d as leaving (the buffered intent), then its newer join intent made it alive.
    for (const v of ["a", "b", "c"]) {
      const join = r.get(v).events.find((e) => e.type === "member-join" && e.members[0].name === "d") as {
        members: Member[];
      };
      assert.equal(join.members[0].status, "leaving", v);
      assert.equal(r.member(v, "d")?.status, "alive", v);
    }
  });

  it("query: acks and responses from every node reach the origin", { timeout: 20_000 }, () => {
    const r = cluster(["a", "b", "c"], (n) => ({ role: n === "c" ? "db" : "web" }));
    for (const n of r.nodes.values()) {
      n.serf.onEvent((e) => {
        if (e.type === "query") e.query.respond(new TextEncoder().encode(`from ${n.name}`), r.now);
      });
    }
    let closed = false;
    let resp!: ReturnType<Serf["query"]>;
    r.act("a", (s, now) => {
      resp = s.query("who", null, { requestAck: true, timeout: 3_000 }, now);
      resp.onClose = () => (closed = true);
    });
    r.until(() => closed, 5_000, "query close");
    assert.deepEqual([...resp.acks!].sort(), ["a", "b", "c"]);
    assert.deepEqual(resp.responses.map((x) => x.from).sort(), ["a", "b", "c"]);
    // Tag filter: only c answers.
    closed = false;
    r.act("b", (s, now) => {
      resp = s.query("who", null, { filterTags: { role: "^d" }, timeout: 2_000 }, now);
      resp.onClose = () => (closed = true);
    });
    r.until(() => closed, 5_000, "filtered query close");
    assert.deepEqual(resp.responses.map((x) => x.from), ["c"]);
  });

  it("key rotation through the KeyManager on an encrypted cluster", { timeout: 20_000 }, () => {
    const k1 = new Uint8Array(16).fill(1), k2 = new Uint8Array(32).fill(2);
    const b64 = (k: Uint8Array) => btoa(String.fromCharCode(...k));
    const r = cluster(["a", "b", "c"], () => ({}), [k1]);
    assert.equal(r.get("a").serf.stats().encrypted, "true");
    const km = new KeyManager(r.get("b").serf);
    const results: [string, KeyResponse, string | undefined][] = [];
    const cb = (op: string) => (resp: KeyResponse, err?: string) => results.push([op, resp, err]);
    r.act("b", (_s, now) => {
      km.installKey(b64(k2), now, cb("install"));
      km.useKey(b64(k2), now, cb("use")); // queued behind the install
    });
    r.until(() => results.length === 2, 10_000, "install + use");
    r.act("b", (_s, now) => km.removeKey(b64(k1), now, cb("remove")));
    r.until(() => results.length === 3, 10_000, "remove");
    r.act("b", (_s, now) => km.listKeys(now, cb("list")));
    r.until(() => results.length === 4, 10_000, "list");
    for (const [op, resp, err] of results) {
      assert.equal(err, undefined, op);
      assert.equal(resp.numResp, 3, op);
      assert.equal(resp.numErr, 0, op);
    }
    assert.deepEqual(results[3][1].keys, { [b64(k2)]: 3 });
    assert.deepEqual(results[3][1].primaryKeys, { [b64(k2)]: 3 });
    for (const n of ["a", "b", "c"]) {
      assert.deepEqual((r.get(n).serf.memberlist.keyring as Keyring).getKeys(), [k2]);
    }
    // Removing the primary key fails on every node.
    r.act("a", (_s, now) => new KeyManager(r.get("a").serf).removeKey(b64(k2), now, cb("remove primary")));
    r.until(() => results.length === 5, 10_000, "remove primary");
    const [, bad, err] = results[4];
    assert.equal(err, "3/3 nodes reported failure");
    assert.deepEqual(Object.values(bad.messages), new Array(3).fill("Removing the primary key is not allowed"));
    // The cluster still works with the new key.
    r.act("c", (s, now) => s.userEvent("after-rotation", null, false, now));
    r.step(3_000);
    assert.ok(r.get("a").events.some((e) => e.type === "user" && e.name === "after-rotation"));
  });
});
