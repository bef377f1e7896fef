// The Serf state machine against a scripted memberlist: delegates are called
// directly, so each rule of serf.go can be checked in isolation.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Scheduler } from "../lib/core/scheduler.ts";
import { seeded } from "../lib/core/random.ts";
import type { LogLevel } from "../lib/core/log.ts";
import type { Address, JoinTarget, MemberlistConfig, NodeInfo, Output } from "../lib/memberlist/types.ts";
import { defaultLanConfig } from "../lib/memberlist/config.ts";
import { TransmitLimitedQueue } from "../lib/memberlist/queue.ts";
import { SerfCore } from "../lib/serf/core.ts";
import { defaultSerfConfig, type SerfConfig } from "../lib/serf/config.ts";
import {
  decodeJoin,
  decodeLeave,
  decodePushPull,
  decodeQuery,
  decodeQueryResponse,
  encodeConflictResponse,
  encodeJoin,
  encodeLeave,
  encodePushPull,
  encodeQuery,
  encodeQueryResponse,
  encodeRelay,
  encodeUserEvent,
  type QueryMessage,
} from "../lib/serf/messages.ts";
import { encodeTags } from "../lib/serf/tags.ts";
import type { MemberlistCore, SerfEvent } from "../lib/serf/types.ts";
import { Keyring } from "../lib/security/keyring.ts";
import { decodeBase64Std } from "../lib/serf/keymanager.ts";
import { toWireMember } from "../lib/serf/core.ts";
import { MemberEventCoalescer } from "../lib/serf/coalesce.ts";

const te = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const LOCALHOST = new Uint8Array([127, 0, 0, 1]);

/** A memberlist stand-in: records what Serf asks of it and lets tests call the delegates. */
class FakeMemberlist implements MemberlistCore {
  readonly scheduler = new Scheduler();
  keyring?: Keyring;
  readonly sent: { to: Address; msg: Uint8Array }[] = [];
  readonly joins: { targets: JoinTarget[]; done: (n: number, errs: string[]) => void }[] = [];
  readonly leaves: ((err?: string) => void)[] = [];
  readonly updates: ((err?: string) => void)[] = [];
  others: NodeInfo[] = [];
  shutDown = false;
  constructor(readonly config: MemberlistConfig) {
    this.keyring = config.keyring;
  }
  start(): void {
    this.config.events!.notifyJoin(this.localNode());
  }
  handlePacket(): void {}
  streamAccepted(): number {
    return 0;
  }
  streamConnected(): void {}
  streamData(): void {}
  streamClosed(): void {}
  tick(now: number): void {
    this.scheduler.runDue(now);
  }
  nextDeadline(): number | undefined {
    return this.scheduler.nextDeadline();
  }
  drain(): Output[] {
    return [];
  }
  join(targets: JoinTarget[], _now: number, done: (n: number, errs: string[]) => void): void {
    this.joins.push({ targets, done });
  }
  leave(_now: number, _t: number, done: (err?: string) => void): void {
    this.leaves.push(done);
  }
  /** When `pushPullNow` ran. */
  pushPulls: number[] = [];
  pushPullNow(now: number): void {
    this.pushPulls.push(now);
  }
  updateNode(_now: number, _t: number, done: (err?: string) => void): void {
    this.config.delegate!.nodeMeta(512);
    this.updates.push(done);
  }
  shutdown(): void {
    this.shutDown = true;
  }
  sendToAddress(to: Address, msg: Uint8Array): void {
    this.sent.push({ to, msg });
  }
  localNode(): NodeInfo {
    return {
      name: this.config.name,
      addr: LOCALHOST,
      port: 7946,
      meta: this.config.delegate!.nodeMeta(512),
      state: 0,
      vsn: [1, 5, 2, 2, 5, this.config.delegateProtocolVersion],
    };
  }
  members(): NodeInfo[] {
    return [this.localNode(), ...this.others];
  }
  numMembers(): number {
    return 1 + this.others.length;
  }
  healthScore(): number {
    return 0;
  }
  /** Gossip round: hands out up to `limit` bytes of Serf broadcasts. */
  gossip(limit = 1400): Uint8Array[] {
    return this.config.delegate!.getBroadcasts(2, limit);
  }
}

function nodeInfo(name: string, port: number, tags: Record<string, string> = {}): NodeInfo {
  return { name, addr: LOCALHOST, port, meta: encodeTags(tags, 5), state: 0, vsn: [1, 5, 2, 2, 5, 5] };
}

interface Harness {
  serf: SerfCore;
  ml: FakeMemberlist;
  events: SerfEvent[];
  logs: string[];
  tick(to: number): void;
}

function make(over: Partial<SerfConfig> = {}, mlOver: Partial<MemberlistConfig> = {}, seed = 1): Harness {
  const logs: string[] = [];
  const logger = (level: LogLevel, msg: string) => logs.push(`[${level}] ${msg}`);
  const mlConfig = { ...defaultLanConfig("a", seeded(seed), logger), ...mlOver };
  let ml!: FakeMemberlist;
  const serf = new SerfCore(defaultSerfConfig({ nodeName: "a", protocolVersion: 5, ...over }), mlConfig, 0, {
    createMemberlist: (c) => (ml = new FakeMemberlist(c)),
    createQueue: (n, m) => new TransmitLimitedQueue(n, m),
  });
  const events: SerfEvent[] = [];
  serf.onEvent((e) => events.push(e));
  serf.start(0);
  let now = 0;
  const tick = (to: number) => {
    for (;;) {
      const d = serf.nextDeadline();
      if (d === undefined || d > to) break;
      now = Math.max(now, d);
      serf.tick(now);
    }
    now = to;
    serf.tick(to);
  };
  return { serf, ml: ml!, events, logs, tick };
}

const memberEvents = (h: Harness) =>
  h.events.filter((e) => e.type.startsWith("member-")).map((e) =>
    `${e.type} ${(e as { members: { name: string }[] }).members.map((m) => m.name).join(",")}`
  );

describe("serf core: setup", () => {
  it("installs Serf's versions and delegates into the memberlist config", () => {
    const { ml, serf } = make();
    assert.equal(ml.config.name, "a");
    assert.equal(ml.config.protocolVersion, 2);
    assert.equal(ml.config.delegateProtocolVersion, 5);
    assert.equal(ml.config.delegateProtocolMin, 2);
    assert.equal(ml.config.delegateProtocolMax, 5);
    assert.ok(ml.config.delegate && ml.config.events && ml.config.conflict && ml.config.ping);
    assert.equal(hex(ml.config.delegate.nodeMeta(512)), "ff80");
    assert.equal(serf.state(), "alive");
  });
  it("rejects bad protocol versions and oversized tags with Go's errors", () => {
    assert.throws(() => make({ protocolVersion: 1 }), /Protocol version '1' too low. Must be in range: \[2, 5\]/);
    assert.throws(() => make({ protocolVersion: 6 }), /too high/);
    assert.throws(() => make({ tags: { x: "y".repeat(600) } }), /Encoded length of tags exceeds limit of 512 bytes/);
  });
  it("joining ourselves gives member-join with Go's log line", () => {
    const h = make({ tags: { role: "web" } });
    assert.deepEqual(memberEvents(h), ["member-join a"]);
    assert.ok(h.logs.includes("[INFO] serf: EventMemberJoin: a 127.0.0.1"));
    const me = h.serf.localMember();
    assert.equal(me.status, "alive");
    assert.deepEqual(me.tags, { role: "web" });
    assert.deepEqual(
      [me.protocolMin, me.protocolMax, me.protocolCur, me.delegateMin, me.delegateMax, me.delegateCur],
      [1, 5, 2, 2, 5, 5],
    );
  });
  it("clocks start at 1; stats has Go's keys", () => {
    const { serf } = make();
    assert.deepEqual(serf.clocks(), { clock: 1, eventClock: 1, queryClock: 1 });
    assert.deepEqual(Object.keys(serf.stats()).sort(), [
      "coordinate_resets",
      "encrypted",
      "event_queue",
      "event_time",
      "failed",
      "health_score",
      "intent_queue",
      "left",
      "member_time",
      "members",
      "query_queue",
      "query_time",
    ]);
    assert.equal(serf.stats().members, "1");
    assert.equal(serf.stats().encrypted, "false");
    const noCoord = make({ disableCoordinates: true });
    assert.equal(noCoord.serf.stats().coordinate_resets, undefined);
    assert.equal(noCoord.ml.config.ping, undefined);
  });
});

describe("serf core: member state machine", () => {
  it("memberlist join/leave: alive → failed, then reaped after ReconnectTimeout", () => {
    const h = make({ reapInterval: 1000, reconnectTimeout: 5000, reconnectInterval: 1e9 });
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947, { role: "db" }));
    assert.equal(h.serf.members().find((m) => m.name === "b")?.status, "alive");
    h.tick(100);
    h.ml.config.events!.notifyLeave(nodeInfo("b", 7947));
    assert.equal(h.serf.members().find((m) => m.name === "b")?.status, "failed");
    assert.ok(h.logs.includes("[INFO] serf: EventMemberFailed: b 127.0.0.1"));
    assert.equal(h.serf.stats().failed, "1");
    h.tick(5000); // 4.9 s after failing: kept
    assert.ok(h.serf.members().some((m) => m.name === "b"));
    h.tick(6000);
    assert.ok(!h.serf.members().some((m) => m.name === "b"));
    assert.ok(h.logs.includes("[INFO] serf: EventMemberReap: b"));
    assert.deepEqual(memberEvents(h), ["member-join a", "member-join b", "member-failed b", "member-reap b"]);
  });

  it("a leave intent before the join is buffered: the member joins as leaving, then leaves", () => {
    const h = make();
    h.ml.config.delegate!.notifyMsg(encodeLeave({ ltime: 5, node: "b", prune: false }));
    assert.equal(h.serf.members().length, 1);
    assert.equal(h.serf.clocks().clock, 6); // witnessed 5
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    assert.equal(h.serf.members().find((m) => m.name === "b")?.status, "leaving");
    h.ml.config.events!.notifyLeave(nodeInfo("b", 7947));
    assert.equal(h.serf.members().find((m) => m.name === "b")?.status, "left");
    assert.ok(h.logs.includes("[INFO] serf: EventMemberLeave: b 127.0.0.1"));
    assert.deepEqual(memberEvents(h), ["member-join a", "member-join b", "member-leave b"]);
    // The new intent was rebroadcast with its original bytes.
    assert.deepEqual(h.ml.gossip().map(hex), [hex(encodeLeave({ ltime: 5, node: "b", prune: false }))]);
  });

  it("buffered intents: newest wins, older ones are not rebroadcast, expiry by RecentIntentTimeout", () => {
    const h = make({ reapInterval: 1000, recentIntentTimeout: 3000 });
    const d = h.ml.config.delegate!;
    d.notifyMsg(encodeJoin({ ltime: 8, node: "c" }));
    d.notifyMsg(encodeLeave({ ltime: 7, node: "c", prune: false })); // older: ignored, not rebroadcast
    assert.deepEqual(h.ml.gossip().map(hex), [hex(encodeJoin({ ltime: 8, node: "c" }))]);
    h.tick(5000); // the reaper drops the buffered join intent
    h.ml.config.events!.notifyJoin(nodeInfo("c", 7948));
    d.notifyMsg(encodeJoin({ ltime: 3, node: "c" })); // statusLTime stayed 0: accepted and rebroadcast
    assert.ok(h.ml.gossip().map(hex).includes(hex(encodeJoin({ ltime: 3, node: "c" }))));
    const h2 = make();
    h2.ml.config.delegate!.notifyMsg(encodeJoin({ ltime: 8, node: "c" }));
    h2.ml.config.events!.notifyJoin(nodeInfo("c", 7948));
    h2.ml.config.delegate!.notifyMsg(encodeJoin({ ltime: 8, node: "c" })); // same LTime as buffered: old
    assert.equal(h2.serf.stats().intent_queue, "1");
  });

  it("join intent moves a leaving member back to alive; stale intents are ignored", () => {
    const h = make();
    const d = h.ml.config.delegate!;
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    d.notifyMsg(encodeLeave({ ltime: 10, node: "b", prune: false }));
    assert.equal(h.serf.members().find((m) => m.name === "b")?.status, "leaving");
    d.notifyMsg(encodeJoin({ ltime: 9, node: "b" }));
    assert.equal(h.serf.members().find((m) => m.name === "b")?.status, "leaving");
    d.notifyMsg(encodeJoin({ ltime: 11, node: "b" }));
    assert.equal(h.serf.members().find((m) => m.name === "b")?.status, "alive");
    assert.equal(h.serf.clocks().clock, 12);
  });

  it("refutes an older leave intent about ourselves with a new join intent", () => {
    const h = make();
    h.ml.config.delegate!.notifyMsg(encodeLeave({ ltime: 20, node: "a", prune: false }));
    assert.ok(h.logs.includes("[DEBUG] serf: Refuting an older leave intent"));
    assert.equal(h.serf.localMember().status, "alive");
    const out = h.ml.gossip();
    assert.equal(out.length, 1); // the refutation only; the leave is not rebroadcast
    assert.deepEqual(decodeJoin(out[0]), { ltime: 21, node: "a" });
    assert.equal(h.serf.clocks().clock, 22);
  });

  it("leave intent for a failed member makes it left (forced); prune reaps it", () => {
    const h = make();
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    h.ml.config.events!.notifyLeave(nodeInfo("b", 7947));
    h.ml.config.delegate!.notifyMsg(encodeLeave({ ltime: 4, node: "b", prune: false }));
    assert.equal(h.serf.members().find((m) => m.name === "b")?.status, "left");
    assert.ok(h.logs.includes("[INFO] serf: EventMemberLeave (forced): b 127.0.0.1"));
    assert.deepEqual(h.serf.stats().left, "1");
    assert.deepEqual(h.serf.stats().failed, "0");
    h.ml.config.delegate!.notifyMsg(encodeLeave({ ltime: 6, node: "b", prune: true }));
    assert.ok(!h.serf.members().some((m) => m.name === "b"));
    assert.ok(h.logs.includes("[INFO] serf: EventMemberReap (forced): b 127.0.0.1"));
    assert.deepEqual(memberEvents(h).slice(2), ["member-failed b", "member-leave b", "member-reap b"]);
    assert.equal(h.serf.stats().left, "0");
  });

  it("prune of a leaving member waits BroadcastTimeout + LeavePropagateDelay", () => {
    const h = make({ broadcastTimeout: 2000, leavePropagateDelay: 500 });
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    h.ml.config.delegate!.notifyMsg(encodeLeave({ ltime: 4, node: "b", prune: true }));
    assert.equal(h.serf.members().find((m) => m.name === "b")?.status, "leaving");
    h.tick(2499);
    assert.ok(h.serf.members().some((m) => m.name === "b"));
    h.tick(2500);
    assert.ok(!h.serf.members().some((m) => m.name === "b"));
    assert.deepEqual(memberEvents(h).slice(-1), ["member-reap b"]);
  });

  it("forceLeave: local transition, broadcast, wait for transmission", () => {
    const h = make();
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    h.ml.config.events!.notifyJoin(nodeInfo("c", 7948));
    h.ml.config.events!.notifyLeave(nodeInfo("c", 7948));
    let result: string | undefined | null = null;
    h.serf.forceLeave("c", false, 0, (err) => (result = err));
    assert.equal(h.serf.members().find((m) => m.name === "c")?.status, "left");
    assert.equal(result, null);
    // retransmit limit with 3 members: 4 × ceil(log10(4)) = 4 transmissions
    for (let i = 0; i < 4; i++) assert.deepEqual(decodeLeave(h.ml.gossip()[0]), { ltime: 1, node: "c", prune: false });
    assert.deepEqual(h.ml.gossip(), []);
    h.tick(1);
    assert.equal(result, undefined);
    // Timing out when nobody gossips:
    let err2: string | undefined;
    h.serf.forceLeave("zz", false, 10, (e) => (err2 = e));
    h.tick(5010);
    assert.equal(err2, "timed out broadcasting node removal");
  });

  it("forceLeave of an unknown node succeeds at once when nobody else is alive", () => {
    const h = make();
    let result: string | undefined | null = null;
    h.serf.forceLeave("ghost", true, 0, (err) => (result = err));
    assert.equal(result, undefined);
  });

  it("memberlist update refreshes tags: member-update", () => {
    const h = make();
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947, { v: "1" }));
    h.ml.config.events!.notifyUpdate(nodeInfo("b", 7947, { v: "2" }));
    assert.deepEqual(h.serf.members().find((m) => m.name === "b")?.tags, { v: "2" });
    assert.ok(h.logs.includes("[INFO] serf: EventMemberUpdate: b"));
    const upd = h.events.find((e) => e.type === "member-update") as { members: { tags: unknown }[] };
    assert.deepEqual(upd.members[0].tags, { v: "2" });
  });

  it("a failed member that comes back is alive again and off the failed list", () => {
    const h = make();
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    h.ml.config.events!.notifyLeave(nodeInfo("b", 7947));
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7950));
    const b = h.serf.members().find((m) => m.name === "b")!;
    assert.equal(b.status, "alive");
    assert.equal(b.port, 7950);
    assert.equal(h.serf.stats().failed, "0");
  });

  it("reconnect: joins a random failed member as name/ip:port", () => {
    const h = make({ reconnectInterval: 1000 });
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    h.ml.config.events!.notifyLeave(nodeInfo("b", 7947));
    // 1 failed of 2 members, 1 alive: probability 1.
    h.tick(1000);
    assert.equal(h.ml.joins.length, 1);
    assert.deepEqual(h.ml.joins[0].targets, [{ ip: "127.0.0.1", port: 7947, name: "b" }]);
    assert.ok(h.logs.includes("[INFO] serf: attempting reconnect to b 127.0.0.1:7947"));
  });

  it("setTags: updates metadata through memberlist; size errors", () => {
    const h = make();
    let result: string | undefined | null = null;
    h.serf.setTags({ role: "lb" }, 0, (e) => (result = e));
    assert.equal(h.ml.updates.length, 1);
    assert.equal(hex(h.ml.config.delegate!.nodeMeta(512)), hex(encodeTags({ role: "lb" }, 5)));
    h.ml.updates[0]("timeout waiting for update broadcast");
    assert.equal(result, "timeout waiting for update broadcast");
    h.serf.setTags({ big: "x".repeat(600) }, 0, (e) => (result = e));
    assert.equal(result, "Encoded length of tags exceeds limit of 512 bytes");
    assert.equal(h.ml.updates.length, 1);
  });
});

describe("serf core: join and leave", () => {
  it("join: memberlist join, then a join intent at the current clock", () => {
    const h = make();
    let res: [number, string[]] | undefined;
    h.serf.join([{ ip: "127.0.0.1", port: 7947 }], false, 0, (n, e) => (res = [n, e]));
    assert.equal(h.ml.joins.length, 1);
    h.ml.joins[0].done(1, []);
    assert.deepEqual(res, [1, []]);
    assert.deepEqual(decodeJoin(h.ml.gossip()[0]), { ltime: 1, node: "a" });
    assert.equal(h.serf.clocks().clock, 2);
  });

  it("a successful join is followed by one push/pull 5-10 gossip intervals later", () => {
    const h = make();
    h.serf.join([{ ip: "127.0.0.1", port: 7947 }], false, 0, () => {});
    h.ml.joins[0].done(1, []);
    // A second join before the re-sync ran does not add another.
    h.serf.join([{ ip: "127.0.0.1", port: 7948 }], false, 0, () => {});
    h.ml.joins[1].done(1, []);
    h.tick(999);
    assert.deepEqual(h.ml.pushPulls, [], "not before 5 gossip intervals (LAN: 1 s)");
    h.tick(2000);
    assert.equal(h.ml.pushPulls.length, 1);
    assert.ok(h.ml.pushPulls[0] >= 1000 && h.ml.pushPulls[0] < 2000, String(h.ml.pushPulls[0]));
    h.tick(60_000);
    assert.equal(h.ml.pushPulls.length, 1, "once");
  });

  it("no re-sync after a failed join, after leaving, or with joinResyncIntervals 0 (Go's behaviour)", () => {
    const failed = make();
    failed.serf.join([{ ip: "127.0.0.1", port: 7947 }], false, 0, () => {});
    failed.ml.joins[0].done(0, ["refused"]);
    failed.tick(60_000);
    assert.deepEqual(failed.ml.pushPulls, []);
    const off = make({ joinResyncIntervals: 0 });
    off.serf.join([{ ip: "127.0.0.1", port: 7947 }], false, 0, () => {});
    off.ml.joins[0].done(1, []);
    off.tick(60_000);
    assert.deepEqual(off.ml.pushPulls, []);
    const left = make();
    left.serf.join([{ ip: "127.0.0.1", port: 7947 }], false, 0, () => {});
    left.ml.joins[0].done(1, []);
    left.serf.leave(0, () => {});
    left.tick(60_000);
    assert.deepEqual(left.ml.pushPulls, []);
  });

  it("join with no success broadcasts nothing; joins run one at a time", () => {
    const h = make();
    const seen: number[] = [];
    h.serf.join([{ ip: "127.0.0.1", port: 1 }], false, 0, (n) => seen.push(n));
    h.serf.join([{ ip: "127.0.0.1", port: 2 }], false, 0, (n) => seen.push(n));
    assert.equal(h.ml.joins.length, 1);
    h.ml.joins[0].done(0, ["refused"]);
    assert.equal(h.ml.joins.length, 2);
    assert.deepEqual(h.ml.gossip(), []);
    h.ml.joins[1].done(2, []);
    assert.deepEqual(seen, [0, 2]);
  });

  it("graceful leave alone: no intent broadcast, memberlist leave, left after LeavePropagateDelay", () => {
    const h = make({ leavePropagateDelay: 1000 });
    let result: string | undefined | null = null;
    h.serf.leave(0, (e) => (result = e));
    assert.equal(h.serf.state(), "leaving");
    assert.equal(h.serf.localMember().status, "leaving");
    assert.equal(h.ml.leaves.length, 1);
    h.ml.leaves[0]();
    h.tick(999);
    assert.equal(result, null);
    h.tick(1000);
    assert.equal(result, undefined);
    assert.equal(h.serf.state(), "left");
    let again: string | undefined | null = null;
    h.serf.leave(1000, (e) => (again = e));
    assert.equal(again, undefined);
  });

  it("graceful leave with peers waits for the intent to be sent, or times out", () => {
    const h = make();
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    let result: string | undefined | null = null;
    h.serf.leave(0, (e) => (result = e));
    let second: string | undefined;
    h.serf.leave(0, (e) => (second = e));
    assert.equal(second, "Leave already in progress");
    assert.equal(h.ml.leaves.length, 0);
    // 2 members: limit 4 × ceil(log10(3)) = 4
    for (let i = 0; i < 4; i++) assert.equal(h.ml.gossip().length, 1);
    h.tick(1);
    assert.equal(h.ml.leaves.length, 1);
    h.ml.leaves[0]("timeout waiting for leave broadcast");
    assert.equal(result, "timeout waiting for leave broadcast");

    const t = make({ broadcastTimeout: 2000 });
    t.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    let r2: string | undefined;
    t.serf.leave(0, (e) => (r2 = e));
    t.tick(2000);
    assert.equal(r2, "timeout while waiting for graceful leave");
    assert.equal(t.ml.leaves.length, 0);
  });

  it("shutdown warns without a leave and is idempotent", () => {
    const h = make();
    h.serf.shutdown();
    h.serf.shutdown();
    assert.equal(h.logs.filter((l) => l === "[WARN] serf: Shutdown without a Leave").length, 1);
    assert.ok(h.ml.shutDown);
    assert.equal(h.serf.state(), "shutdown");
    let r: string[] = [];
    h.serf.join([], false, 0, (_n, e) => (r = e));
    assert.deepEqual(r, ["Serf can't Join after Leave or Shutdown"]);
  });
});

describe("serf core: user events", () => {
  it("sending: local delivery first, then gossip with Go's bytes; clock +1", () => {
    const h = make();
    h.serf.userEvent("deploy", te("v1"), true, 0);
    const ue = h.events.filter((e) => e.type === "user");
    assert.deepEqual(ue, [{ type: "user", ltime: 1, name: "deploy", payload: te("v1"), coalesce: true }]);
    assert.deepEqual(h.ml.gossip().map(hex), [
      hex(encodeUserEvent({ ltime: 1, name: "deploy", payload: te("v1"), cc: true })),
    ]);
    assert.equal(h.serf.clocks().eventClock, 2);
    assert.equal(h.serf.stats().event_time, "2");
  });

  it("size limits with Go's error texts", () => {
    const h = make();
    assert.throws(() => h.serf.userEvent("x", new Uint8Array(600), false, 0), {
      message: "user event exceeds configured limit of 512 bytes before encoding",
    });
    assert.throws(() => h.serf.userEvent("x", new Uint8Array(500), false, 0), {
      message: "encoded user event exceeds configured limit of 512 bytes after encoding",
    });
    assert.equal(h.serf.clocks().eventClock, 1);
  });

  it("receiving: delivered once, rebroadcast with the original bytes, witnessed", () => {
    const h = make();
    const raw = encodeUserEvent({ ltime: 9, name: "e", payload: null, cc: false });
    h.ml.config.delegate!.notifyMsg(raw);
    h.ml.config.delegate!.notifyMsg(raw);
    assert.equal(h.events.filter((e) => e.type === "user").length, 1);
    assert.equal(h.serf.clocks().eventClock, 10);
    assert.deepEqual(h.ml.gossip().map(hex), [hex(raw)]);
    // Same LTime, different payload: a distinct event.
    h.ml.config.delegate!.notifyMsg(encodeUserEvent({ ltime: 9, name: "e", payload: te("x"), cc: false }));
    assert.equal(h.events.filter((e) => e.type === "user").length, 2);
  });

  it("drops events older than the ring", () => {
    const h = make({ eventBuffer: 16 });
    h.ml.config.delegate!.notifyMsg(encodeUserEvent({ ltime: 100, name: "new", payload: null, cc: false }));
    h.ml.config.delegate!.notifyMsg(encodeUserEvent({ ltime: 80, name: "old", payload: null, cc: false }));
    assert.deepEqual(h.events.filter((e) => e.type === "user").map((e) => (e as { name: string }).name), ["new"]);
    assert.ok(h.logs.includes("[WARN] serf: received old event old from time 80 (current: 101)"));
  });

  it("coalescing: CC events keep only the newest per name", () => {
    const h = make({ userCoalescePeriod: 3000, userQuiescentPeriod: 1000 });
    const d = h.ml.config.delegate!;
    d.notifyMsg(encodeUserEvent({ ltime: 2, name: "e", payload: te("a"), cc: true }));
    d.notifyMsg(encodeUserEvent({ ltime: 3, name: "e", payload: te("b"), cc: true }));
    d.notifyMsg(encodeUserEvent({ ltime: 1, name: "n", payload: null, cc: false }));
    assert.deepEqual(h.events.filter((e) => e.type === "user").map((e) => (e as { name: string }).name), ["n"]);
    h.tick(1000);
    const names = h.events.filter((e) => e.type === "user").map((e) =>
      `${(e as { name: string }).name}@${(e as { ltime: number }).ltime}`
    );
    assert.deepEqual(names, ["n@1", "e@3"]);
  });
});

describe("serf core: push/pull", () => {
  it("local state: every member's status LTime, left list, the whole 512-slot ring", () => {
    const h = make();
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    h.ml.config.delegate!.notifyMsg(encodeJoin({ ltime: 4, node: "b" }));
    h.serf.userEvent("ev", te("p"), false, 0);
    const raw = h.ml.config.delegate!.localState(false);
    const pp = decodePushPull(raw);
    assert.equal(raw[0], 2);
    assert.equal(pp.ltime, 5);
    assert.deepEqual([...pp.statusLTimes], [["a", 0], ["b", 4]]);
    assert.deepEqual(pp.leftMembers, []);
    assert.equal(pp.events.length, 512);
    assert.deepEqual(pp.events[1], { ltime: 1, events: [{ name: "ev", payload: te("p") }] });
    assert.equal(pp.events.filter((s) => s).length, 1);
    assert.equal(pp.eventLTime, 2);
    assert.equal(pp.queryLTime, 1);
  });

  it("a fresh node's user state has the real agent's shape (dc 0200 + nils)", () => {
    const h = make();
    const raw = h.ml.config.delegate!.localState(true);
    const expected = encodePushPull({
      ltime: 1,
      statusLTimes: new Map([["a", 0]]),
      leftMembers: [],
      eventLTime: 1,
      events: new Array(512).fill(null),
      queryLTime: 1,
    });
    assert.equal(hex(raw), hex(expected));
    assert.ok(hex(raw).includes("dc0200" + "c0".repeat(512)));
  });

  it("merge: witnesses clocks − 1, applies left members and join LTimes, replays events", () => {
    const h = make();
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    h.ml.config.events!.notifyJoin(nodeInfo("c", 7948));
    const events = new Array(512).fill(null);
    events[7] = { ltime: 7, events: [{ name: "old", payload: null }] };
    h.ml.config.delegate!.mergeRemoteState(
      encodePushPull({
        ltime: 30,
        statusLTimes: new Map([["b", 12], ["c", 5]]),
        leftMembers: ["c"],
        eventLTime: 9,
        events,
        queryLTime: 4,
      }),
      false,
    );
    assert.deepEqual(h.serf.clocks(), { clock: 30, eventClock: 9, queryClock: 4 });
    assert.equal(h.serf.members().find((m) => m.name === "c")?.status, "leaving");
    const ue = h.events.filter((e) => e.type === "user");
    assert.deepEqual(ue, [{ type: "user", ltime: 7, name: "old", payload: null, coalesce: false }]);
  });

  it("join with ignoreOld: events older than the remote's event clock are not replayed", () => {
    const h = make();
    h.serf.join([{ ip: "127.0.0.1", port: 7947 }], true, 0, () => {});
    const events = new Array(512).fill(null);
    events[7] = { ltime: 7, events: [{ name: "old", payload: null }] };
    const state = { ltime: 3, statusLTimes: new Map(), leftMembers: [], eventLTime: 9, events, queryLTime: 1 };
    h.ml.config.delegate!.mergeRemoteState(encodePushPull(state), true);
    assert.equal(h.events.filter((e) => e.type === "user").length, 0);
    h.ml.joins[0].done(1, []);
    // After the join, eventMinTime stays 9: older events are still refused, newer accepted.
    h.ml.config.delegate!.notifyMsg(encodeUserEvent({ ltime: 8, name: "late", payload: null, cc: false }));
    h.ml.config.delegate!.notifyMsg(encodeUserEvent({ ltime: 9, name: "new", payload: null, cc: false }));
    assert.deepEqual(h.events.filter((e) => e.type === "user").map((e) => (e as { name: string }).name), ["new"]);
  });

  it("bad remote state is logged, not applied", () => {
    const h = make();
    h.ml.config.delegate!.mergeRemoteState(new Uint8Array(0), false);
    h.ml.config.delegate!.mergeRemoteState(new Uint8Array([3, 0x80]), false);
    h.ml.config.delegate!.mergeRemoteState(new Uint8Array([2, 0x81]), false);
    assert.ok(h.logs.includes("[ERR] serf: Remote state is zero bytes"));
    assert.ok(h.logs.includes("[ERR] serf: Remote state has bad type prefix: 3"));
    assert.ok(h.logs.some((l) => l.startsWith("[ERR] serf: Failed to decode remote state:")));
  });

  it("unknown and malformed gossip is logged", () => {
    const h = make();
    h.ml.config.delegate!.notifyMsg(new Uint8Array([2, 0x80]));
    h.ml.config.delegate!.notifyMsg(new Uint8Array([3, 0x81]));
    assert.ok(h.logs.includes("[WARN] serf: Received message of unknown type: 2"));
    assert.ok(h.logs.some((l) => l.startsWith("[ERR] serf: Error decoding user event message:")));
  });
});

describe("serf core: queries", () => {
  function remoteQuery(over: Partial<QueryMessage> = {}): QueryMessage {
    return {
      ltime: 5,
      id: 77,
      addr: LOCALHOST,
      port: 7999,
      sourceNode: "origin",
      filters: null,
      flags: 1,
      relayFactor: 0,
      timeoutNs: 2e9,
      name: "hello",
      payload: te("?"),
      ...over,
    };
  }

  it("received query: witnessed, acked by UDP, delivered, respond() sends to the origin", () => {
    const h = make();
    const raw = encodeQuery(remoteQuery());
    h.ml.config.delegate!.notifyMsg(raw);
    assert.equal(h.serf.clocks().queryClock, 6);
    assert.equal(h.ml.sent.length, 1);
    assert.deepEqual(h.ml.sent[0].to, { ip: "127.0.0.1", port: 7999 });
    assert.deepEqual(decodeQueryResponse(h.ml.sent[0].msg), { ltime: 5, id: 77, from: "a", flags: 1, payload: null });
    assert.deepEqual(h.ml.gossip().map(hex), [hex(raw)]); // rebroadcast
    const q = h.events.find((e) => e.type === "query");
    assert.ok(q && q.type === "query");
    assert.equal(q.query.name, "hello");
    assert.equal(q.query.deadline, 2000);
    q.query.respond(te("hi"), 10);
    assert.deepEqual(
      h.ml.sent[1].msg,
      encodeQueryResponse({ ltime: 5, id: 77, from: "a", flags: 0, payload: te("hi") }),
    );
    assert.throws(() => q.query.respond(te("again"), 11), {
      message: "failed to respond to key query: response already sent",
    });
    // duplicate delivery is ignored
    h.ml.config.delegate!.notifyMsg(raw);
    assert.equal(h.events.filter((e) => e.type === "query").length, 1);
  });

  it("respond() limits: size and deadline", () => {
    const h = make();
    h.ml.config.delegate!.notifyMsg(encodeQuery(remoteQuery({ flags: 0 })));
    const q = h.events.find((e) => e.type === "query")!;
    assert.ok(q.type === "query");
    assert.throws(() => q.query.respond(new Uint8Array(2000), 0), {
      message: "failed to respond to key query: response exceeds limit of 1024 bytes",
    });
    assert.throws(() => q.query.respond(null, 2001), {
      message: "failed to respond to key query: response is past the deadline",
    });
  });

  it("filters: non-matching queries are rebroadcast but neither acked nor delivered", () => {
    const h = make({ tags: { role: "web" } });
    const { encodeNodeFilter, encodeTagFilter } = { encodeNodeFilter: nf, encodeTagFilter: tf };
    function nf(n: string[]) {
      return new Uint8Array([0, 0x90 | n.length, ...n.flatMap((x) => [0xa0 | x.length, ...te(x)])]);
    }
    function tf(tag: string, expr: string) {
      return new Uint8Array([
        1,
        0x82,
        0xa4,
        ...te("Expr"),
        0xa0 | expr.length,
        ...te(expr),
        0xa3,
        ...te("Tag"),
        0xa0 | tag.length,
        ...te(tag),
      ]);
    }
    const d = h.ml.config.delegate!;
    d.notifyMsg(encodeQuery(remoteQuery({ id: 1, filters: [encodeNodeFilter(["x", "y"])] })));
    d.notifyMsg(encodeQuery(remoteQuery({ id: 2, filters: [encodeTagFilter("role", "^db")] })));
    d.notifyMsg(encodeQuery(remoteQuery({ id: 3, filters: [encodeNodeFilter(["a"]), encodeTagFilter("role", "e")] })));
    d.notifyMsg(encodeQuery(remoteQuery({ id: 4, filters: [encodeTagFilter("role", "(")] })));
    assert.deepEqual(h.events.filter((e) => e.type === "query").map((e) => (e as { query: { id: number } }).query.id), [
      3,
    ]);
    assert.equal(h.ml.sent.length, 1);
    assert.equal(h.ml.gossip().length, 4);
    assert.ok(h.logs.some((l) => l.startsWith("[WARN] serf: failed to compile filter regex (():")));
  });

  it("no-broadcast flag suppresses the rebroadcast", () => {
    const h = make();
    h.ml.config.delegate!.notifyMsg(encodeQuery(remoteQuery({ flags: 2 })));
    assert.equal(h.events.filter((e) => e.type === "query").length, 1);
    assert.deepEqual(h.ml.gossip(), []);
  });

  it("origin: local processing, acks and responses collected once each, closed at the timeout", () => {
    const h = make();
    const resp = h.serf.query("q", te("x"), { requestAck: true, timeout: 1000 }, 0);
    assert.equal(h.serf.clocks().queryClock, 2);
    // we processed it ourselves: acked to ourselves
    assert.deepEqual(h.ml.sent[0].to, { ip: "127.0.0.1", port: 7946 });
    h.ml.config.delegate!.notifyMsg(h.ml.sent[0].msg);
    const d = h.ml.config.delegate!;
    d.notifyMsg(encodeQueryResponse({ ltime: 1, id: resp.id, from: "b", flags: 1, payload: null }));
    d.notifyMsg(encodeQueryResponse({ ltime: 1, id: resp.id, from: "b", flags: 1, payload: null }));
    d.notifyMsg(encodeQueryResponse({ ltime: 1, id: resp.id, from: "b", flags: 0, payload: te("r") }));
    d.notifyMsg(encodeQueryResponse({ ltime: 1, id: resp.id, from: "b", flags: 0, payload: te("r2") }));
    d.notifyMsg(encodeQueryResponse({ ltime: 1, id: resp.id + 1, from: "c", flags: 0, payload: null }));
    d.notifyMsg(encodeQueryResponse({ ltime: 9, id: resp.id, from: "c", flags: 0, payload: null }));
    assert.deepEqual(resp.acks, ["a", "b"]);
    assert.deepEqual(resp.responses, [{ from: "b", payload: te("r") }]);
    assert.ok(h.logs.some((l) => l.startsWith("[WARN] serf: query reply ID mismatch")));
    assert.ok(h.logs.includes(`[WARN] serf: reply for non-running query (LTime: 9, ID: ${resp.id}) From: c`));
    let closed = false;
    resp.onClose = () => (closed = true);
    h.tick(999);
    assert.ok(!closed);
    h.tick(1000);
    assert.ok(closed);
    d.notifyMsg(encodeQueryResponse({ ltime: 1, id: resp.id, from: "d", flags: 0, payload: null }));
    assert.equal(resp.responses.length, 1);
  });

  it("query limits and protocol gate", () => {
    assert.throws(() => make({ protocolVersion: 3 }).serf.query("q", null, {}, 0), {
      message: "Feature not supported",
    });
    assert.throws(() => make().serf.query("q", new Uint8Array(1100), {}, 0), {
      message: "query exceeds limit of 1024 bytes",
    });
  });

  it("default timeout is GossipInterval × 16 × ceil(log10(n+1))", () => {
    const h = make();
    assert.equal(h.serf.defaultQueryTimeout(), 3200);
    h.ml.others = Array.from({ length: 8 }, (_, i) => nodeInfo(`n${i}`, 8000 + i));
    assert.equal(h.serf.defaultQueryTimeout(), 3200);
    h.ml.others.push(nodeInfo("n9", 9000)); // 10 members: ceil(log10(11)) = 2
    assert.equal(h.serf.defaultQueryTimeout(), 6400);
  });

  it("relays: a type-9 message is forwarded to its destination unchanged", () => {
    const h = make();
    const inner = encodeQueryResponse({ ltime: 1, id: 2, from: "b", flags: 1, payload: null });
    h.ml.config.delegate!.notifyMsg(
      encodeRelay({ ip: LOCALHOST, port: 8000, zone: "" }, "x", {
        ltime: 1,
        id: 2,
        from: "b",
        flags: 1,
        payload: null,
      }),
    );
    assert.deepEqual(h.ml.sent, [{ to: { ip: "127.0.0.1", port: 8000 }, msg: inner }]);
  });

  it("relay factor: the ack is also relayed through other alive members", () => {
    const h = make();
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    h.ml.config.events!.notifyJoin(nodeInfo("c", 7948));
    h.ml.config.delegate!.notifyMsg(encodeQuery(remoteQuery({ relayFactor: 1 })));
    assert.equal(h.ml.sent.length, 2);
    assert.equal(h.ml.sent[1].msg[0], 9);
    assert.ok([7947, 7948].includes(h.ml.sent[1].to.port));
  });

  it("internal queries are answered inside Serf, never delivered", () => {
    const h = make();
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947, { role: "x" }));
    const d = h.ml.config.delegate!;
    d.notifyMsg(encodeQuery(remoteQuery({ id: 1, name: "_serf_ping", payload: null, flags: 0 })));
    d.notifyMsg(encodeQuery(remoteQuery({ id: 2, name: "_serf_conflict", payload: te("b"), flags: 0 })));
    d.notifyMsg(encodeQuery(remoteQuery({ id: 3, name: "_serf_conflict", payload: te("a"), flags: 0 })));
    d.notifyMsg(encodeQuery(remoteQuery({ id: 4, name: "_serf_list-keys", payload: null, flags: 0 })));
    d.notifyMsg(encodeQuery(remoteQuery({ id: 5, name: "_serf_bogus", payload: null, flags: 0 })));
    assert.equal(h.events.filter((e) => e.type === "query").length, 0);
    assert.equal(h.ml.sent.length, 2);
    const conflict = decodeQueryResponse(h.ml.sent[0].msg);
    const b = h.serf.members().find((m) => m.name === "b")!;
    assert.deepEqual(
      conflict.payload,
      encodeConflictResponse({
        name: "b",
        addr: LOCALHOST,
        port: 7947,
        tags: { role: "x" },
        status: 1,
        protocolMin: b.protocolMin,
        protocolMax: b.protocolMax,
        protocolCur: b.protocolCur,
        delegateMin: b.delegateMin,
        delegateMax: b.delegateMax,
        delegateCur: b.delegateCur,
      }),
    );
    const keys = decodeQueryResponse(h.ml.sent[1].msg).payload!;
    assert.equal(keys[0], 8);
    assert.ok(h.logs.includes("[ERR] serf: Keyring is empty (encryption not enabled)"));
    assert.ok(h.logs.includes("[WARN] serf: Unhandled internal query 'bogus'"));
  });

  it("key queries act on memberlist's keyring", () => {
    const k1 = new Uint8Array(16).fill(1), k2 = new Uint8Array(16).fill(2);
    const h = make({}, { keyring: new Keyring([k1]) });
    let written: Uint8Array[] | undefined;
    h.serf.writeKeyringFile = (keys) => (written = keys);
    const keyReq = (k: Uint8Array) => new Uint8Array([7, 0x81, 0xa3, ...te("Key"), 0xa0 | k.length, ...k]);
    const d = h.ml.config.delegate!;
    d.notifyMsg(encodeQuery(remoteQuery({ id: 1, name: "_serf_install-key", payload: keyReq(k2), flags: 0 })));
    d.notifyMsg(encodeQuery(remoteQuery({ id: 2, name: "_serf_use-key", payload: keyReq(k2), flags: 0 })));
    d.notifyMsg(encodeQuery(remoteQuery({ id: 3, name: "_serf_remove-key", payload: keyReq(k2), flags: 0 })));
    assert.deepEqual(h.ml.keyring!.getKeys(), [k2, k1]);
    assert.deepEqual(written, [k2, k1]);
    assert.equal(h.serf.stats().encrypted, "true");
    const results = h.ml.sent.map((s) => decodeQueryResponse(s.msg).payload!);
    assert.deepEqual(results.map((p) => p[p.length - 1]), [0xc3, 0xc3, 0xc2]); // Result true, true, false
    assert.ok(h.logs.includes("[ERR] serf: Failed to remove key: Removing the primary key is not allowed"));
  });
});

describe("serf core: coalescing and coordinates", () => {
  it("member events coalesce within the window", () => {
    const h = make({ coalescePeriod: 3000, quiescentPeriod: 1000 });
    h.tick(2000); // flush our own join
    h.ml.config.events!.notifyJoin(nodeInfo("b", 7947));
    h.ml.config.events!.notifyJoin(nodeInfo("c", 7948));
    h.ml.config.events!.notifyLeave(nodeInfo("c", 7948));
    assert.deepEqual(memberEvents(h), ["member-join a"]);
    h.tick(3000);
    assert.deepEqual(memberEvents(h), ["member-join a", "member-join b", "member-failed c"]);
  });

  it("ack payload carries our coordinate; ping completion updates the cache", () => {
    const h = make();
    const ack = h.ml.config.ping!.ackPayload();
    assert.equal(ack[0], 1);
    assert.equal(ack.length, 1 + 129);
    const peer = make({ nodeName: "b" }, { name: "b" }, 2);
    h.ml.config.ping!.notifyPingComplete(nodeInfo("b", 7947), 12, peer.ml.config.ping!.ackPayload());
    assert.ok(h.serf.getCachedCoordinate("b"));
    assert.notDeepEqual(h.serf.getCoordinate().vec, new Array(8).fill(0));
    h.ml.config.ping!.notifyPingComplete(nodeInfo("b", 7947), 12, new Uint8Array([2, 0x80]));
    assert.ok(h.logs.includes("[ERR] serf: Unsupported ping version: 2"));
  });

  it("name conflicts: a warning for others; for us a _serf_conflict vote, shutdown when outvoted", () => {
    for (const votes of [[7946, 7946], [7946, 9999, 9999]]) {
      const h = make({}, {}, 5);
      const c = h.ml.config.conflict!;
      c.notifyConflict(nodeInfo("x", 1), nodeInfo("x", 2));
      assert.ok(h.logs.includes("[WARN] serf: Name conflict for 'x' both 127.0.0.1:1 and 127.0.0.1:2 are claiming"));
      c.notifyConflict(h.ml.localNode(), nodeInfo("a", 9999));
      assert.ok(h.logs.includes(
        "[ERR] serf: Node name conflicts with another node at 127.0.0.1:9999. Names must be unique! (Resolution enabled: true)",
      ));
      h.tick(1);
      assert.equal(h.serf.clocks().queryClock, 2); // the query went out (and we did not answer ourselves)
      assert.equal(h.ml.sent.length, 0);
      const q = h.ml.gossip().find((m) => m[0] === 4)!;
      const { id, name } = decodeQuery(q);
      assert.equal(name, "_serf_conflict");
      const me = h.serf.localMember();
      votes.forEach((port, i) => {
        const payload = encodeConflictResponse(toWireMember({ ...me, port }));
        h.ml.config.delegate!.notifyMsg(encodeQueryResponse({ ltime: 1, id, from: `n${i}`, flags: 0, payload }));
      });
      h.tick(10_000);
      const won = votes.filter((p) => p === 7946).length >= Math.floor(votes.length / 2) + 1;
      assert.equal(h.serf.state(), won ? "alive" : "shutdown");
      const line = won
        ? "[INFO] serf: majority in name conflict resolution [2 / 2]"
        : "[WARN] serf: minority in name conflict resolution, quitting [1 / 3]";
      assert.ok(h.logs.includes(line), line);
    }
  });

  it("Go-compatible base64 for key operations", () => {
    assert.deepEqual(decodeBase64Std("AQID"), new Uint8Array([1, 2, 3]));
    assert.deepEqual(decodeBase64Std("AQI="), new Uint8Array([1, 2]));
    assert.deepEqual(decodeBase64Std(""), new Uint8Array(0));
    assert.throws(() => decodeBase64Std("AQ*D"), { message: "illegal base64 data at input byte 2" });
  });

  it("member coalescer quirk: Go never clears its latest map, so updates repeat at later flushes", () => {
    const c = new MemberEventCoalescer();
    const m = (name: string) => ({ ...make().serf.localMember(), name });
    const out: string[] = [];
    const emit = (e: SerfEvent) =>
      out.push(`${e.type}:${(e as { members: { name: string }[] }).members.map((x) => x.name)}`);
    c.coalesce({ type: "member-join", members: [m("x")] });
    c.coalesce({ type: "member-update", members: [m("y")] });
    c.flush(emit);
    c.coalesce({ type: "member-join", members: [m("z")] });
    c.flush(emit);
    assert.deepEqual(out, ["member-join:x", "member-update:y", "member-update:y", "member-join:z"]);
  });

  it("rejoin tries previously known nodes in turn, skipping ourselves", () => {
    const h = make();
    let ok: boolean | undefined;
    const prev = [
      { name: "a", addr: "127.0.0.1:7946", target: { ip: "127.0.0.1", port: 7946 } },
      { name: "b", addr: "127.0.0.1:7947", target: { ip: "127.0.0.1", port: 7947 } },
      { name: "c", addr: "127.0.0.1:7948", target: { ip: "127.0.0.1", port: 7948 } },
    ];
    h.serf.rejoin(prev, 0, (r) => (ok = r));
    assert.deepEqual(h.ml.joins[0].targets, [{ ip: "127.0.0.1", port: 7947, name: "b" }]);
    h.ml.joins[0].done(0, ["refused"]);
    h.ml.joins[1].done(1, []);
    assert.equal(ok, true);
    assert.deepEqual(h.ml.gossip(), []); // no join intent
    assert.ok(h.logs.includes("[INFO] serf: Re-joined to previously known node: c: 127.0.0.1:7948"));
  });
});
