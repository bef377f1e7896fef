import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ipToString,
  isIpText,
  joinHostPort,
  kRandomNodes,
  parseIp,
  pushPullScale,
  retransmitLimit,
  suspicionTimeout,
} from "../lib/memberlist/util.ts";
import { Awareness } from "../lib/memberlist/awareness.ts";
import { remainingSuspicionTime, Suspicion } from "../lib/memberlist/suspicion.ts";
import { TransmitLimitedQueue } from "../lib/memberlist/queue.ts";
import { buildVsn, defaultLanConfig, defaultLocalConfig, defaultWanConfig } from "../lib/memberlist/config.ts";
import { Scheduler } from "../lib/core/scheduler.ts";
import { type NodeRec, verifyProtocol } from "../lib/memberlist/state.ts";
import { seeded } from "../lib/core/random.ts";
import { silentLogger } from "../lib/core/log.ts";

const b = (s: string) => new TextEncoder().encode(s);

describe("memberlist formulas (values printed by Go's util.go)", () => {
  it("suspicionTimeout", () => {
    // Go: 4s 5.204s 3s 8s 12s 45.54s
    assert.equal(suspicionTimeout(4, 10, 1000), 4000);
    assert.equal(suspicionTimeout(4, 20, 1000), 5204);
    assert.equal(suspicionTimeout(3, 1, 1000), 3000);
    assert.equal(suspicionTimeout(4, 100, 1000), 8000);
    assert.equal(suspicionTimeout(4, 1000, 1000), 12000);
    assert.equal(suspicionTimeout(6, 33, 5000), 45540);
    // LAN N ≤ 10: 4 s .. 24 s
    for (let n = 0; n <= 10; n++) {
      const min = suspicionTimeout(4, n, 1000);
      assert.equal(min, 4000);
      assert.equal(6 * min, 24000);
    }
  });
  it("retransmitLimit", () => {
    // Go: 0 4 4 8 8 12 8
    assert.deepEqual(
      [[4, 0], [4, 1], [4, 9], [4, 10], [4, 99], [4, 100], [2, 1000]].map(([m, n]) => retransmitLimit(m, n)),
      [0, 4, 4, 8, 8, 12, 8],
    );
  });
  it("pushPullScale", () => {
    // Go: 30s 1m0s 1m0s 1m30s 3m0s
    assert.deepEqual([32, 33, 64, 65, 1000].map((n) => pushPullScale(30000, n)), [30000, 60000, 60000, 90000, 180000]);
  });
  it("remainingSuspicionTime", () => {
    // Go: 30s 14s 7.81s 2s 11.381s -13.619s
    assert.equal(remainingSuspicionTime(0, 3, 0, 2000, 30000), 30000);
    assert.equal(remainingSuspicionTime(1, 3, 2000, 2000, 30000), 14000);
    assert.equal(remainingSuspicionTime(2, 3, 0, 2000, 30000), 7810);
    assert.equal(remainingSuspicionTime(3, 3, 0, 2000, 30000), 2000);
    assert.equal(remainingSuspicionTime(1, 2, 0, 4000, 24000), 11381);
    assert.equal(remainingSuspicionTime(1, 2, 25000, 4000, 24000), -13619);
  });
  it("kRandomNodes returns distinct, unfiltered nodes, at most k", () => {
    const nodes = ["a", "b", "c", "d", "e"];
    const r = seeded(3);
    for (let i = 0; i < 50; i++) {
      const got = kRandomNodes(r, 3, nodes, (n) => n === "c");
      assert.ok(got.length <= 3);
      assert.equal(new Set(got).size, got.length);
      assert.ok(!got.includes("c"));
    }
    assert.deepEqual(kRandomNodes(r, 3, nodes, () => true), []);
    assert.deepEqual(kRandomNodes(r, 3, [], undefined), []);
    assert.deepEqual(kRandomNodes(r, 5, ["x"], undefined), ["x"]);
  });
  it("IP text like Go's net.IP.String", () => {
    assert.equal(ipToString(Uint8Array.of(127, 0, 0, 1)), "127.0.0.1");
    assert.equal(ipToString(parseIp("::ffff:10.1.2.3")!), "10.1.2.3");
    assert.equal(ipToString(parseIp("fd00::2")!), "fd00::2");
    assert.equal(ipToString(parseIp("2001:db8:0:0:1:0:0:1")!), "2001:db8::1:0:0:1");
    assert.equal(ipToString(parseIp("::1")!), "::1");
    assert.equal(ipToString(parseIp("1:0:2:3:4:5:6:7")!), "1:0:2:3:4:5:6:7");
    assert.equal(ipToString(Uint8Array.of(1, 2, 3)), "?010203");
    assert.equal(ipToString(new Uint8Array(0)), "<nil>");
    assert.deepEqual(parseIp("10.0.0.1"), Uint8Array.of(10, 0, 0, 1));
    assert.equal(parseIp("10.0.0.256"), undefined);
    assert.equal(parseIp("nope"), undefined);
    assert.equal(parseIp("1::2::3"), undefined);
    assert.equal(parseIp("1:2:3:4:5:6:7:8:9"), undefined);
    assert.equal(joinHostPort("::1", 5), "[::1]:5");
    assert.equal(joinHostPort("1.2.3.4", 5), "1.2.3.4:5");
  });
  it("isIpText accepts exactly what parseIp parses", () => {
    const texts = [
      "10.0.0.1",
      "0.0.0.0",
      "255.255.255.255",
      "10.0.0.256",
      "1.2.3",
      "1.2.3.4.",
      ".1.2.3",
      "1..2.3",
      "01.002.3.4",
      "1.2.3.0004",
      "1.2.3.4 ",
      " 1.2.3.4",
      "1.2.3.-4",
      "a.b.c.d",
      "",
      ".",
      "[1.2.3.4]",
      "[::1]",
      "::1",
      "::ffff:1.2.3.4",
      "fd00::2",
      "1::2::3",
      "nope",
      "1.2.3.4:5",
      "١.2.3.4",
      "1.2.3.4\n",
    ];
    const rnd = seeded(7);
    const alphabet = "0123456789.:[]af ";
    for (let i = 0; i < 2000; i++) {
      let t = "";
      for (let n = Math.floor(rnd() * 16); n > 0; n--) t += alphabet[Math.floor(rnd() * alphabet.length)];
      texts.push(t);
    }
    for (const t of texts) assert.equal(isIpText(t), parseIp(t) !== undefined, JSON.stringify(t));
  });
});

describe("config profiles", () => {
  it("have Go's defaults (ms)", () => {
    const lan = defaultLanConfig("n", seeded(1), silentLogger);
    assert.equal(lan.bindPort, 7946);
    assert.equal(lan.protocolVersion, 2);
    assert.deepEqual(
      [lan.tcpTimeout, lan.indirectChecks, lan.retransmitMult, lan.suspicionMult, lan.suspicionMaxTimeoutMult],
      [10000, 3, 4, 4, 6],
    );
    assert.deepEqual([lan.pushPullInterval, lan.probeTimeout, lan.probeInterval, lan.gossipNodes, lan.gossipInterval], [
      30000,
      500,
      1000,
      3,
      200,
    ]);
    assert.deepEqual([lan.gossipToTheDeadTime, lan.udpBufferSize, lan.awarenessMaxMultiplier], [30000, 1400, 8]);
    const wan = defaultWanConfig("n", seeded(1), silentLogger);
    assert.deepEqual(
      [wan.tcpTimeout, wan.suspicionMult, wan.pushPullInterval, wan.probeTimeout, wan.probeInterval, wan.gossipNodes],
      [30000, 6, 60000, 3000, 5000, 4],
    );
    assert.deepEqual([wan.gossipInterval, wan.gossipToTheDeadTime], [500, 60000]);
    const local = defaultLocalConfig("n", seeded(1), silentLogger);
    assert.deepEqual(
      [local.tcpTimeout, local.indirectChecks, local.retransmitMult, local.suspicionMult, local.pushPullInterval],
      [1000, 1, 2, 3, 15000],
    );
    assert.deepEqual([local.probeTimeout, local.probeInterval, local.gossipInterval, local.gossipToTheDeadTime], [
      200,
      1000,
      100,
      15000,
    ]);
    lan.delegateProtocolMin = 2;
    lan.delegateProtocolMax = 5;
    lan.delegateProtocolVersion = 4;
    assert.deepEqual(buildVsn(lan), [1, 5, 2, 2, 5, 4]);
  });
});

describe("Awareness", () => {
  it("clamps to [0, max-1] and scales timeouts", () => {
    const a = new Awareness(8);
    assert.equal(a.scaleTimeout(1000), 1000);
    assert.equal(a.applyDelta(-1), false);
    assert.equal(a.getHealthScore(), 0);
    assert.equal(a.applyDelta(3), true);
    assert.equal(a.scaleTimeout(500), 2000);
    a.applyDelta(100);
    assert.equal(a.getHealthScore(), 7);
    assert.equal(a.scaleTimeout(1000), 8000);
    a.applyDelta(-100);
    assert.equal(a.getHealthScore(), 0);
  });
});

describe("Suspicion", () => {
  it("uses min when no confirmations are expected", () => {
    const s = new Scheduler();
    let fired = -1;
    new Suspicion(s, "a", 0, 3000, 18000, 0, (n) => (fired = n));
    s.runDue(2999);
    assert.equal(fired, -1);
    s.runDue(3000);
    assert.equal(fired, 0);
  });
  it("starts at max and shrinks with confirmations (log scale)", () => {
    const s = new Scheduler();
    let firedAt = -1, count = -1;
    const sus = new Suspicion(s, "a", 3, 2000, 30000, 0, (n) => (count = n));
    assert.equal(sus.deadline, 30000);
    assert.equal(sus.confirm("a", 100), false, "the accuser is not a confirmation");
    assert.equal(sus.confirm("b", 2000), true);
    assert.equal(sus.deadline, 16000, "2000 + remaining 14000");
    assert.equal(sus.confirm("b", 2100), false, "no double counting");
    assert.equal(sus.confirm("c", 3000), true);
    assert.equal(sus.deadline, 7810);
    assert.equal(sus.confirm("d", 4000), true);
    assert.equal(sus.deadline, 4000, "k confirmations: min, already elapsed → fire now");
    assert.equal(sus.confirm("e", 4000), false, "k reached");
    s.runDue(3999);
    assert.equal(count, -1);
    s.runDue(4000);
    firedAt = 4000;
    assert.equal(count, 3);
    assert.equal(firedAt, 4000);
  });
  it("cancel stops the timer", () => {
    const s = new Scheduler();
    let fired = false;
    const sus = new Suspicion(s, "a", 1, 10, 60, 0, () => (fired = true));
    sus.cancel();
    s.runDue(1000);
    assert.equal(fired, false);
  });
});

describe("TransmitLimitedQueue", () => {
  const msg = (s: string) => b(s);
  it("orders by transmits, then length (longest first), then newest", () => {
    const q = new TransmitLimitedQueue(() => 10, 1);
    q.queueBroadcast({ message: msg("aa") });
    q.queueBroadcast({ message: msg("bbbb") });
    q.queueBroadcast({ message: msg("cc") });
    q.queueBroadcast({ message: msg("d") });
    const view = q.orderedView().map((v) => new TextDecoder().decode(v.message));
    assert.deepEqual(view, ["bbbb", "cc", "aa", "d"]);
  });
  it("named broadcasts replace older ones and finish them", () => {
    const q = new TransmitLimitedQueue(() => 10, 1);
    const finished: string[] = [];
    q.queueBroadcast({ name: "x", message: msg("old"), finished: () => finished.push("old") });
    q.queueBroadcast({ name: "y", message: msg("other") });
    q.queueBroadcast({ name: "x", message: msg("new"), finished: () => finished.push("new") });
    assert.equal(q.numQueued(), 2);
    assert.deepEqual(finished, ["old"]);
    q.queueBroadcast({ message: msg("u1") });
    q.queueBroadcast({ message: msg("u1") });
    assert.equal(q.numQueued(), 4, "unnamed broadcasts are unique");
  });
  it("drops a message after retransmitMult*ceil(log10(N+1)) transmissions", () => {
    let n = 9; // limit = 3 * 1
    const q = new TransmitLimitedQueue(() => n, 3);
    let done = 0;
    q.queueBroadcast({ message: msg("hello"), finished: () => done++ });
    for (let i = 0; i < 3; i++) assert.equal(q.getBroadcasts(2, 100).length, 1);
    assert.equal(q.numQueued(), 0);
    assert.equal(done, 1);
    assert.deepEqual(q.getBroadcasts(2, 100), []);
    n = 10; // limit = 6
    q.queueBroadcast({ message: msg("hello") });
    let sends = 0;
    while (q.getBroadcasts(2, 100).length) sends++;
    assert.equal(sends, 6);
  });
  it("respects the byte limit with per-message overhead and fills from lower tiers first", () => {
    const q = new TransmitLimitedQueue(() => 100, 4);
    q.queueBroadcast({ message: new Uint8Array(10) });
    q.queueBroadcast({ message: new Uint8Array(20) });
    q.queueBroadcast({ message: new Uint8Array(30) });
    // limit 40, overhead 2: the 30-byte fits (32), then nothing else fits in 8 (10+2 > 8)
    let got = q.getBroadcasts(2, 40).map((m) => m.length);
    assert.deepEqual(got, [30]);
    // tier 0 has 20 and 10; 20+2 + 10+2 = 34 ≤ 40
    got = q.getBroadcasts(2, 40).map((m) => m.length);
    assert.deepEqual(got, [20, 10]);
    const tiers = q.orderedView().map((v) => v.transmits);
    assert.deepEqual(tiers, [1, 1, 1]);
    assert.deepEqual(q.getBroadcasts(2, 2), [], "no space at all");
    // a message bigger than the whole budget is never sent
    q.queueBroadcast({ message: new Uint8Array(100) });
    assert.ok(q.getBroadcasts(2, 50).every((m) => m.length < 100));
  });
  it("hands out what Go's tier walk hands out, over random operations", () => {
    // Reference: Go's GetBroadcasts over a list kept in `less` order (a
    // direct transcription, O(n) per pick), against the real queue.
    interface Ref {
      transmits: number;
      id: number;
      len: number;
      name?: string;
      tag: string;
    }
    const less = (a: Ref, b: Ref) =>
      a.transmits !== b.transmits ? a.transmits < b.transmits : a.len !== b.len ? a.len > b.len : a.id > b.id;
    for (let seed = 1; seed <= 60; seed++) {
      const rnd = seeded(seed);
      const mult = 1 + Math.floor(rnd() * 4);
      let nodes = 1 + Math.floor(rnd() * 50);
      const q = new TransmitLimitedQueue(() => nodes, mult);
      let ref: Ref[] = [];
      let idGen = 0;
      const gotDone: string[] = [], refDone: string[] = [];
      const insert = (r: Ref) => {
        let i = 0;
        while (i < ref.length && less(ref[i], r)) i++;
        ref.splice(i, 0, r);
      };
      const remove = (r: Ref) => {
        ref.splice(ref.indexOf(r), 1);
        if (ref.length === 0) idGen = 0;
      };
      for (let step = 0; step < 600; step++) {
        const x = rnd();
        if (x < 0.55) {
          const len = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 4 : 80));
          const name = rnd() < 0.7 ? `n${Math.floor(rnd() * 25)}` : undefined;
          const tag = `${seed}/${step}`;
          q.queueBroadcast({ name, message: new Uint8Array(len), finished: () => gotDone.push(tag) });
          const id = ++idGen;
          const old = name ? ref.find((r) => r.name === name) : undefined;
          if (old) {
            remove(old);
            refDone.push(old.tag);
          }
          insert({ transmits: 0, id, len, name, tag });
        } else if (x < 0.92) {
          const overhead = Math.floor(rnd() * 3), limit = Math.floor(rnd() * 600);
          const got = q.getBroadcasts(overhead, limit).map((m) => m.length);
          const want: number[] = [], reinsert: Ref[] = [];
          const transmitLimit = retransmitLimit(mult, nodes);
          let used = 0;
          const maxTr = ref.length ? ref[ref.length - 1].transmits : -1;
          for (let tier = ref.length ? ref[0].transmits : 0; tier <= maxTr;) {
            const free = limit - used - overhead;
            if (free <= 0) break;
            const keep = ref.find((r) => r.transmits === tier && r.len <= free);
            if (!keep) {
              tier++;
              continue;
            }
            used += overhead + keep.len;
            want.push(keep.len);
            remove(keep);
            if (keep.transmits + 1 >= transmitLimit) refDone.push(keep.tag);
            else {
              keep.transmits++;
              reinsert.push(keep);
            }
          }
          reinsert.forEach(insert);
          assert.deepEqual(got, want, `seed ${seed} step ${step}`);
        } else if (x < 0.96) nodes = 1 + Math.floor(rnd() * 200);
        else if (x < 0.99) {
          const keep = Math.floor(rnd() * 10);
          q.prune(keep);
          while (ref.length > keep) {
            const last = ref[ref.length - 1];
            remove(last);
            refDone.push(last.tag);
          }
        } else {
          q.reset();
          refDone.push(...ref.map((r) => r.tag));
          ref = [];
          idGen = 0;
        }
        assert.deepEqual(
          q.orderedView().map((v) => [v.message.length, v.transmits, v.name]),
          ref.map((r) => [r.len, r.transmits, r.name]),
          `seed ${seed} step ${step}: queue order`,
        );
        assert.deepEqual(gotDone, refDone, `seed ${seed} step ${step}: finished`);
      }
    }
  });
  it("prune keeps the best-ranked and reset finishes all", () => {
    const q = new TransmitLimitedQueue(() => 100, 4);
    const fin: number[] = [];
    for (let i = 1; i <= 5; i++) q.queueBroadcast({ message: new Uint8Array(i), finished: () => fin.push(i) });
    q.prune(3);
    assert.deepEqual(fin.sort(), [1, 2]);
    assert.equal(q.numQueued(), 3);
    q.reset();
    assert.equal(q.numQueued(), 0);
    assert.deepEqual(fin.sort(), [1, 2, 3, 4, 5]);
  });
});

describe("verifyProtocol", () => {
  const local = (name: string, vsn: number[], state = 0): NodeRec => ({
    name,
    addr: Uint8Array.of(1, 2, 3, 4),
    port: 1,
    meta: null,
    vsn,
    incarnation: 1,
    state: state as 0,
    stateChange: 0,
    changeSeq: 0,
  });
  const remote = (name: string, vsn: number[] | null, state = 0) => ({
    name,
    addr: Uint8Array.of(1, 2, 3, 4),
    port: 1,
    meta: null,
    incarnation: 1,
    state,
    vsn: vsn ? Uint8Array.from(vsn) : null,
  });
  it("accepts compatible ranges", () => {
    assert.equal(verifyProtocol([remote("b", [1, 5, 2, 2, 5, 5])], [local("a", [1, 5, 2, 2, 5, 4])]), undefined);
  });
  it("reports Go's texts", () => {
    assert.equal(
      verifyProtocol([remote("b", [1, 5, 1, 2, 5, 5])], [local("a", [2, 5, 2, 2, 5, 5])]),
      "Node 'b' protocol version (1) is incompatible: [2, 5]",
    );
    assert.equal(
      verifyProtocol([remote("b", [1, 5, 2, 2, 5, 5])], [local("a", [1, 5, 2, 3, 4, 3])]),
      "Node 'b' delegate protocol version (5) is incompatible: [3, 4]",
    );
    // remote nodes without versions count as version 0
    assert.equal(
      verifyProtocol([remote("b", null)], [local("a", [1, 5, 2, 2, 5, 5])]),
      "Node 'b' protocol version (0) is incompatible: [1, 5]",
    );
    // dead nodes do not narrow the range but are still checked
    assert.equal(
      verifyProtocol([remote("b", [3, 5, 3, 2, 5, 5], 2)], [local("a", [1, 5, 2, 2, 5, 5])]),
      undefined,
    );
    assert.equal(
      verifyProtocol([], [local("a", [1, 5, 2, 2, 5, 5]), local("z", [1, 5, 1, 2, 5, 9], 2)]),
      "Node 'z' delegate protocol version (9) is incompatible: [2, 5]",
    );
    assert.match(verifyProtocol([remote("b", [1, 5])], [])!, /version vector of 2 bytes/);
  });
});
