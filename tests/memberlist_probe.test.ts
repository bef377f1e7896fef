/**
 * White-box tests of one memberlist core: we play the other nodes by hand,
 * feeding packets and stream events and inspecting the outputs.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Memberlist } from "../lib/memberlist/memberlist.ts";
import { defaultLanConfig } from "../lib/memberlist/config.ts";
import {
  decodeAck,
  decodeAlive,
  decodeIndirectPing,
  decodeNack,
  decodePing,
  decodeSuspect,
  encodeAck,
  encodeAlive,
  encodeDead,
  encodeErr,
  encodeIndirectPing,
  encodeNack,
  encodePing,
  encodePushPull,
  encodeSuspect,
  encodeUserStream,
  MessageType,
} from "../lib/memberlist/messages.ts";
import { decompressPayload, openPacket, sealStream, StreamReader } from "../lib/memberlist/envelope.ts";
import { decodeCompound } from "../lib/codec/compound.ts";
import { seeded } from "../lib/core/random.ts";
import type { Address, MemberlistConfig, NodeInfo, Output } from "../lib/memberlist/types.ts";

const VSN = Uint8Array.of(1, 5, 2, 2, 5, 5);
const ip = (i: number) => `10.0.0.${i}`;
const addrOf = (i: number): Address => ({ ip: ip(i), port: 7946 });

interface Msg {
  type: number;
  body: Uint8Array;
  crc: boolean;
}

/** Opens a packet into its messages (CRC, compression and compounds undone). */
function messages(data: Uint8Array): Msg[] {
  const crc = data[0] === MessageType.HasCrc;
  const opened = openPacket(data);
  assert.ok(opened.ok, "packet opens");
  const out: Msg[] = [];
  const walk = (buf: Uint8Array): void => {
    if (buf[0] === MessageType.Compound) {
      for (const p of decodeCompound(buf.subarray(1)).parts) walk(p);
    } else if (buf[0] === MessageType.Compress) walk(decompressPayload(buf.subarray(1)));
    else out.push({ type: buf[0], body: buf.subarray(1), crc });
  };
  walk(opened.ok ? opened.msg : new Uint8Array(0));
  return out;
}

class One {
  logs: string[] = [];
  timed: [number, string][] = [];
  timedOut: [number, Output][] = [];
  events: string[] = [];
  pings: { node: string; rtt: number; payload: Uint8Array }[] = [];
  outputs: Output[] = [];
  userMsgs: Uint8Array[] = [];
  m: Memberlist;
  config: MemberlistConfig;
  now = 0;
  /** Answer every ping we send with an ack from the pinged node. */
  autoAck = false;

  constructor(tweak?: (c: MemberlistConfig) => void) {
    const c = defaultLanConfig("a", seeded(11), (l, msg) => {
      this.logs.push(`${l} ${msg}`);
      this.timed.push([this.now, `${l} ${msg}`]);
    });
    c.bindAddr = c.advertiseAddr = ip(1);
    c.delegateProtocolMin = 2;
    c.delegateProtocolMax = 5;
    c.delegateProtocolVersion = 5;
    c.events = {
      notifyJoin: (n) => this.events.push(`join ${n.name}`),
      notifyLeave: (n) => this.events.push(`leave ${n.name} ${n.state}`),
      notifyUpdate: (n) => this.events.push(`update ${n.name}`),
    };
    c.ping = {
      ackPayload: () => Uint8Array.of(0xaa),
      notifyPingComplete: (n: NodeInfo, rtt: number, payload: Uint8Array) =>
        this.pings.push({ node: n.name, rtt, payload }),
    };
    c.delegate = {
      nodeMeta: () => new Uint8Array(0),
      notifyMsg: (msg) => this.userMsgs.push(msg),
      getBroadcasts: () => [],
      localState: () => Uint8Array.of(2, 0x80),
      mergeRemoteState: () => {},
    };
    tweak?.(c);
    this.config = c;
    this.m = new Memberlist(c, 0);
    this.m.start(0);
    this.take();
  }

  take(): Output[] {
    const o = this.m.drain();
    this.outputs.push(...o);
    for (const x of o) this.timedOut.push([this.now, x]);
    return o;
  }

  /** Learns node i (name n<i>) by an alive packet from it. */
  learn(i: number, vsn = VSN, inc = 1): void {
    this.packet(
      encodeAlive({ incarnation: inc, node: `n${i}`, addr: Uint8Array.of(10, 0, 0, i), port: 7946, meta: null, vsn }),
      i,
    );
  }

  packet(data: Uint8Array, from: number): Output[] {
    this.m.handlePacket(data, addrOf(from), this.now);
    return this.take();
  }

  /** Advances time to `until`, collecting outputs. */
  run(until: number): Output[] {
    const got: Output[] = [];
    for (;;) {
      const d = this.m.nextDeadline();
      if (d === undefined || d > until) break;
      this.now = Math.max(this.now, d);
      this.m.tick(this.now);
      const outs = this.take();
      got.push(...outs);
      if (this.autoAck) this.#ack(outs);
    }
    this.now = until;
    return got;
  }

  #ack(outs: Output[]): void {
    for (const o of outs) {
      if (o.kind !== "packet") continue;
      const m = messages(o.data)[0];
      if (m?.type !== MessageType.Ping) continue;
      this.m.handlePacket(encodeAck({ seqNo: decodePing(m.body).seqNo, payload: null }), o.to, this.now);
      this.take();
    }
  }

  /** Runs until a log line starting with `prefix` appears (after now); returns its time. */
  runUntilLog(prefix: string, limit = 20_000): number {
    const from = this.timed.length;
    const end = this.now + limit;
    while (this.now < end) {
      const hit = this.timed.slice(from).find(([, l]) => l.startsWith(prefix));
      if (hit) return hit[0];
      const d = this.m.nextDeadline();
      if (d === undefined) break;
      this.now = Math.max(this.now, d);
      this.m.tick(this.now);
      this.take();
    }
    throw new Error(`no log ${prefix}`);
  }

  /** Runs until a packet matching `pred` goes out; returns it. */
  runUntilPacket(
    pred: (to: Address, msgs: Msg[]) => boolean,
    limit = 20_000,
  ): { to: Address; msgs: Msg[]; data: Uint8Array } {
    const end = this.now + limit;
    while (this.now < end) {
      const d = this.m.nextDeadline();
      if (d === undefined) break;
      this.now = Math.max(this.now, d);
      this.m.tick(this.now);
      for (const o of this.take()) {
        if (o.kind === "packet") {
          const msgs = messages(o.data);
          if (pred(o.to, msgs)) return { to: o.to, msgs, data: o.data };
        }
      }
    }
    throw new Error("no such packet");
  }
}

const isPingTo = (node?: string) => (_to: Address, msgs: Msg[]) =>
  msgs[0]?.type === MessageType.Ping && (node === undefined || decodePing(msgs[0].body).node === node);

describe("memberlist core: self and pings", () => {
  it("start sets us alive at incarnation 1 and notifies our own join", () => {
    const a = new One();
    assert.equal(a.m.localNode().state, 0);
    assert.equal(a.m.localIncarnation(), 1);
    assert.deepEqual(a.m.localNode().vsn, [1, 5, 2, 2, 5, 5]);
    assert.deepEqual(a.events, ["join a"]);
    assert.equal(a.m.numMembers(), 1);
  });

  it("answers a ping to SourceAddr:SourcePort with the ping delegate's payload", () => {
    const a = new One();
    const out = a.packet(
      encodePing({ seqNo: 77, node: "a", sourceAddr: Uint8Array.of(10, 0, 0, 9), sourcePort: 1234, sourceNode: "z" }),
      5,
    );
    assert.equal(out.length, 1);
    const o = out[0] as Extract<Output, { kind: "packet" }>;
    assert.deepEqual(o.to, { ip: "10.0.0.9", port: 1234 });
    const msgs = messages(o.data);
    assert.equal(msgs[0].crc, false, "sendMsg: no CRC (IP-vs-name lookup quirk)");
    assert.deepEqual(decodeAck(msgs[0].body), { seqNo: 77, payload: Uint8Array.of(0xaa) });
    // no source: reply to the UDP source; wrong node: ignored with a warning
    const back = a.packet(encodePing({ seqNo: 1, node: "" }), 5)[0] as Extract<Output, { kind: "packet" }>;
    assert.deepEqual(back.to, addrOf(5));
    assert.deepEqual(a.packet(encodePing({ seqNo: 2, node: "other" }), 5), []);
    assert.ok(a.logs.includes("WARN memberlist: Got ping for unexpected node 'other' from=10.0.0.5:7946"));
  });

  it("piggybacks broadcasts on acks (sendMsg) but not on sendToAddress", () => {
    const a = new One();
    a.learn(2);
    const ack = a.packet(encodePing({ seqNo: 3, node: "a" }), 2)[0] as Extract<Output, { kind: "packet" }>;
    const msgs = messages(ack.data);
    assert.equal(msgs[0].type, MessageType.AckResp);
    assert.ok(msgs.length > 1, "queued alive broadcasts ride along");
    assert.ok(msgs.slice(1).every((m) => m.type === MessageType.Alive));
    a.m.sendToAddress(addrOf(2), Uint8Array.of(1, 2, 3));
    const [user] = a.take() as Extract<Output, { kind: "packet" }>[];
    assert.deepEqual(user.data, Uint8Array.of(8, 1, 2, 3), "plain user message, no CRC even though n2 has PMax 5");
    assert.equal(a.m.sendBestEffort("n2", Uint8Array.of(4)), true);
    const [best] = a.take() as Extract<Output, { kind: "packet" }>[];
    assert.equal(best.data[0], MessageType.HasCrc, "known node with PMax 5: CRC");
    assert.equal(a.m.sendBestEffort("nobody", Uint8Array.of(4)), false);
  });
});

describe("memberlist core: probing", () => {
  it("pings an alive node and reports the RTT on ack", () => {
    const a = new One();
    a.learn(2);
    const p = a.runUntilPacket(isPingTo("n2"));
    assert.deepEqual(p.to, addrOf(2));
    assert.equal(p.msgs[0].crc, false);
    const ping = decodePing(p.msgs[0].body);
    assert.equal(ping.sourceNode, "a");
    assert.deepEqual(ping.sourceAddr, Uint8Array.of(10, 0, 0, 1));
    assert.equal(ping.sourcePort, 7946);
    a.now += 12;
    a.packet(encodeAck({ seqNo: ping.seqNo, payload: Uint8Array.of(5) }), 2);
    assert.deepEqual(a.pings, [{ node: "n2", rtt: 12, payload: Uint8Array.of(5) }]);
    // a second ack for the same seq is ignored
    a.packet(encodeAck({ seqNo: ping.seqNo, payload: null }), 2);
    assert.equal(a.pings.length, 1);
    a.run(a.now + 1500);
    assert.equal(a.m.healthScore(), 0);
    assert.equal(a.m.members().find((n) => n.name === "n2")?.state, 0);
  });

  it("pings a suspect node with a CRC-framed [ping, suspect] compound (buddy system)", () => {
    const a = new One();
    a.learn(2);
    a.learn(3);
    a.packet(encodeSuspect({ incarnation: 1, node: "n2", from: "n3" }), 3);
    assert.equal(a.m.allNodes().find((n) => n.name === "n2")?.state, 1);
    const p = a.runUntilPacket((to, msgs) => to.ip === ip(2) && msgs[0].type === MessageType.Ping);
    assert.equal(p.data[0], MessageType.HasCrc);
    assert.deepEqual(p.msgs.map((m) => m.type), [MessageType.Ping, MessageType.Suspect]);
    assert.deepEqual(decodeSuspect(p.msgs[1].body), { incarnation: 1, node: "n2", from: "a" });
  });

  it("falls back to indirect pings with nacks and a TCP ping, then suspects", () => {
    const a = new One();
    for (const i of [2, 3, 4]) a.learn(i);
    const p = a.runUntilPacket(isPingTo());
    const target = decodePing(p.msgs[0].body).node;
    const seq = decodePing(p.msgs[0].body).seqNo;
    const start = a.now;
    const out = a.run(start + 500);
    const ind = out.filter((o) =>
      o.kind === "packet" && messages(o.data)[0].type === MessageType.IndirectPing
    ) as Extract<
      Output,
      { kind: "packet" }
    >[];
    assert.equal(ind.length, 2, "IndirectChecks 3 but only 2 other alive peers");
    for (const o of ind) {
      const req = decodeIndirectPing(messages(o.data)[0].body);
      assert.equal(req.seqNo, seq);
      assert.equal(req.node, target);
      assert.equal(req.nack, true, "peers with PMax ≥ 4 are asked for nacks");
      assert.notEqual(o.to.ip, p.to.ip);
    }
    const connect = out.find((o) => o.kind === "connect") as Extract<Output, { kind: "connect" }>;
    assert.deepEqual(connect.to, p.to, "TCP fallback ping to the target");
    assert.ok(a.logs.includes(`DEBUG memberlist: Failed ping: ${target} (timeout reached)`));
    // one peer nacks, the other stays silent
    a.packet(encodeNack({ seqNo: seq }), Number(ind[0].to.ip.split(".")[3]));
    a.run(start + 1000);
    assert.ok(a.logs.includes(`INFO memberlist: Suspect ${target} has failed, no acks received`));
    assert.equal(a.m.allNodes().find((n) => n.name === target)?.state, 1);
    assert.equal(a.m.healthScore(), 1, "expected 2 nacks, got 1");
    assert.ok(
      a.outputs.some((o) => o.kind === "close" && o.stream === connect.stream),
      "TCP attempt closed at the deadline",
    );
  });

  it("counts a successful TCP fallback: 'network may be misconfigured'", () => {
    const a = new One((c) => (c.indirectChecks = 0));
    a.learn(2);
    const p = a.runUntilPacket(isPingTo("n2"));
    const seq = decodePing(p.msgs[0].body).seqNo;
    const out = a.run(a.now + 500);
    const connect = out.find((o) => o.kind === "connect") as Extract<Output, { kind: "connect" }>;
    a.m.streamConnected(connect.stream, a.now);
    const [write] = a.take() as Extract<Output, { kind: "write" }>[];
    const r = new StreamReader().push(write.data);
    assert.equal(r.kind === "message" && r.message.type, 0, "a ping on the stream");
    a.m.streamData(connect.stream, sealStream(encodeAck({ seqNo: seq, payload: null }), { compress: true }), a.now + 5);
    assert.ok(a.take().some((o) => o.kind === "close"));
    a.run(a.now + 600);
    assert.ok(
      a.logs.includes(
        "WARN memberlist: Was able to connect to n2 but other probes failed, network may be misconfigured",
      ),
    );
    assert.equal(a.m.allNodes().find((n) => n.name === "n2")?.state, 0);
    assert.equal(a.m.healthScore(), 0);
  });

  it("does not TCP-ping nodes below protocol 3 or when disabled; no nack for PMax < 4", () => {
    const a = new One();
    a.learn(2, Uint8Array.of(1, 2, 2, 2, 5, 5));
    a.learn(3, Uint8Array.of(1, 3, 2, 2, 5, 5));
    const p = a.runUntilPacket(isPingTo("n2"));
    const out = a.run(a.now + 500);
    assert.equal(out.filter((o) => o.kind === "connect").length, 0);
    const ind = out.find((o) =>
      o.kind === "packet" && messages(o.data)[0].type === MessageType.IndirectPing
    ) as Extract<
      Output,
      { kind: "packet" }
    >;
    assert.equal(decodeIndirectPing(messages(ind.data)[0].body).nack, false);
    assert.ok(p);
    a.run(a.now + 600);
    assert.equal(a.m.healthScore(), 1, "no nacks expected: a failed probe costs 1");
  });

  it("an indirect ack rescues the probe", () => {
    const a = new One();
    a.learn(2);
    a.learn(3);
    const p = a.runUntilPacket(isPingTo());
    const seq = decodePing(p.msgs[0].body).seqNo;
    a.run(a.now + 600);
    a.packet(encodeAck({ seqNo: seq, payload: null }), 3);
    a.run(a.now + 1000);
    assert.ok(!a.logs.some((l) => l.includes("has failed")));
    assert.equal(a.m.healthScore(), 0);
    assert.equal(a.pings.length, 0, "no RTT from indirect acks");
  });

  it("relays as an intermediary: ack forwarding and nack after ProbeTimeout", () => {
    const a = new One();
    const req = {
      seqNo: 900,
      target: Uint8Array.of(10, 0, 0, 2),
      port: 7946,
      node: "n2",
      nack: true,
      sourceAddr: Uint8Array.of(10, 0, 0, 3),
      sourcePort: 7946,
      sourceNode: "n3",
    };
    const [out] = a.packet(encodeIndirectPing(req), 3) as Extract<Output, { kind: "packet" }>[];
    assert.deepEqual(out.to, addrOf(2));
    const ping = decodePing(messages(out.data)[0].body);
    assert.equal(ping.node, "n2");
    assert.notEqual(ping.seqNo, 900);
    a.now += 30;
    const [fwd] = a.packet(encodeAck({ seqNo: ping.seqNo, payload: Uint8Array.of(1) }), 2) as Extract<
      Output,
      { kind: "packet" }
    >[];
    assert.deepEqual(fwd.to, addrOf(3));
    assert.deepEqual(decodeAck(messages(fwd.data)[0].body), { seqNo: 900, payload: null });
    assert.deepEqual(
      a.run(a.now + 1000).filter((o) => o.kind === "packet" && messages(o.data)[0].type === MessageType.NackResp),
      [],
    );
    // second request: no ack → nack after ProbeTimeout (500 ms)
    const t0 = a.now;
    a.packet(encodeIndirectPing({ ...req, seqNo: 901 }), 3);
    const later = a.run(t0 + 499);
    assert.equal(
      later.filter((o) => o.kind === "packet" && messages(o.data)[0].type === MessageType.NackResp).length,
      0,
    );
    const nack = a.run(t0 + 500).find((o) =>
      o.kind === "packet" && messages(o.data)[0].type === MessageType.NackResp
    ) as Extract<
      Output,
      { kind: "packet" }
    >;
    assert.deepEqual(nack.to, addrOf(3));
    assert.deepEqual(decodeNack(messages(nack.data)[0].body), { seqNo: 901 });
  });

  it("awareness scales the probe interval (not the direct ProbeTimeout)", () => {
    const a = new One((c) => (c.indirectChecks = 0, c.disableTcpPings = true, c.suspicionMult = 100));
    a.learn(2);
    a.run(8000);
    const direct = a.timed.filter(([, l]) => l.startsWith("DEBUG memberlist: Failed ping: n2")).map(([t]) => t);
    const failed = a.timed.filter(([, l]) => l.startsWith("INFO memberlist: Suspect n2 has failed")).map(([t]) => t);
    // each probe: the direct wait is ProbeTimeout (500 ms, unscaled), the whole probe ProbeInterval × (score+1)
    const pingTimes = a.timedOut.filter(([, o]) => o.kind === "packet" && isPingTo("n2")(o.to, messages(o.data)))
      .map(([t]) => t);
    assert.deepEqual(
      pingTimes.slice(0, 3),
      direct.slice(0, 3).map((t) => t - 500),
      "direct wait = ProbeTimeout, unscaled",
    );
    const spans = failed.map((t, i) => t - pingTimes[i]);
    // every probe fails: score 0 → 1 → 2; a probe lasts ProbeInterval × (score+1)
    assert.deepEqual(spans, [1000, 2000, 3000]);
    assert.equal(a.m.healthScore(), 3);
  });
});

describe("memberlist core: gossip", () => {
  it("asks the delegate per target with overhead 3 and the 1398-byte budget, framing as user messages", () => {
    const calls: [number, number][] = [];
    const a = new One((c) => {
      c.delegate!.getBroadcasts = (overhead, limit) => {
        calls.push([overhead, limit]);
        return [Uint8Array.of(0xee, calls.length)];
      };
    });
    for (const i of [2, 3, 4, 5]) a.learn(i);
    // let the memberlist queue drain first (alive messages are retransmitted a few times)
    a.run(a.now + 5000);
    calls.length = 0;
    const out = a.run(a.now + 200).filter((o) => o.kind === "packet") as Extract<Output, { kind: "packet" }>[];
    const gossip = out.filter((o) => messages(o.data).every((m) => m.type === MessageType.User));
    assert.ok(gossip.length >= 1);
    assert.ok(calls.length >= 3, "one delegate call per gossip target");
    assert.ok(calls.every(([o, l]) => o === 3 && l === 1398), JSON.stringify(calls));
    const targets = new Set(gossip.map((o) => o.to.ip));
    assert.equal(targets.size, gossip.length, "distinct targets");
    const m = messages(gossip[0].data)[0];
    assert.equal(m.crc, true, "gossip to known PMax-5 nodes carries a CRC");
    assert.equal(m.body[0], 0xee);
  });

  it("subtracts the encryption overhead from the budget", async () => {
    const { Keyring } = await import("../lib/security/keyring.ts");
    const calls: number[] = [];
    const a = new One((c) => {
      c.keyring = new Keyring([new Uint8Array(16).fill(3)]);
      c.delegate!.getBroadcasts = (_o, limit) => (calls.push(limit), []);
    });
    a.m.handlePacket(
      (await import("../lib/memberlist/envelope.ts")).sealPacket(
        encodeAlive({ incarnation: 1, node: "n2", addr: Uint8Array.of(10, 0, 0, 2), port: 7946, meta: null, vsn: VSN }),
        { compress: false, crc: false, key: new Uint8Array(16).fill(3) },
      ),
      addrOf(2),
      0,
    );
    a.take();
    a.run(3000);
    assert.ok(calls.includes(1400 - 2 - 29));
    assert.ok(calls.every((l) => l <= 1369));
  });

  it("gossips to recently dead nodes only for GossipToTheDeadTime, never to left ones", () => {
    const a = new One((c) => (c.delegate!.getBroadcasts = () => [Uint8Array.of(1)]));
    a.learn(2);
    a.learn(3);
    a.packet(encodeDead({ incarnation: 1, node: "n2", from: "x" }), 3);
    a.packet(encodeDead({ incarnation: 1, node: "n3", from: "n3" }), 3);
    const t0 = a.now;
    const early = a.run(t0 + 20_000).filter((o) => o.kind === "packet") as Extract<Output, { kind: "packet" }>[];
    assert.ok(early.some((o) => o.to.ip === ip(2)), "dead n2 still gets gossip");
    assert.ok(!early.some((o) => o.to.ip === ip(3)), "left n3 gets nothing");
    a.run(t0 + 30_001);
    const late = a.run(t0 + 40_000).filter((o) => o.kind === "packet") as Extract<Output, { kind: "packet" }>[];
    assert.ok(!late.some((o) => o.to.ip === ip(2)), "not after 30 s");
    assert.equal(a.m.allNodes().find((n) => n.name === "n2"), undefined, "and it was reaped on a probe wrap-around");
    assert.equal(a.m.allNodes().find((n) => n.name === "n3")?.state, 3, "left nodes stay (0.2.2 reaps only dead)");
  });

  it("inserts new nodes at random probe positions", () => {
    const a = new One();
    for (let i = 2; i < 30; i++) a.learn(i);
    const order = a.m.allNodes().map((n) => n.name);
    const appended = ["a", ...Array.from({ length: 28 }, (_, i) => `n${i + 2}`)];
    assert.equal(order.length, appended.length);
    assert.notDeepEqual(order, appended);
    assert.deepEqual([...order].sort(), [...appended].sort());
  });
});

describe("memberlist core: state rules", () => {
  it("refutes suspicion and death of ourselves with a higher incarnation", () => {
    const a = new One();
    a.learn(2);
    a.packet(encodeSuspect({ incarnation: 1, node: "a", from: "n2" }), 2);
    assert.equal(a.m.localIncarnation(), 2);
    assert.ok(a.logs.includes("WARN memberlist: Refuting a suspect message (from: n2)"));
    assert.equal(a.m.healthScore(), 1);
    a.packet(encodeDead({ incarnation: 10, node: "a", from: "n2" }), 2);
    assert.equal(a.m.localIncarnation(), 11);
    assert.ok(a.logs.includes("WARN memberlist: Refuting a dead message (from: n2)"));
    assert.equal(a.m.localNode().state, 0);
    // alive about us with other meta at our incarnation: refute too
    a.packet(
      encodeAlive({
        incarnation: 11,
        node: "a",
        addr: Uint8Array.of(10, 0, 0, 1),
        port: 7946,
        meta: Uint8Array.of(1),
        vsn: VSN,
      }),
      2,
    );
    assert.equal(a.m.localIncarnation(), 12);
    // identical alive: ignored
    a.packet(
      encodeAlive({
        incarnation: 12,
        node: "a",
        addr: Uint8Array.of(10, 0, 0, 1),
        port: 7946,
        meta: new Uint8Array(0),
        vsn: VSN,
      }),
      2,
    );
    assert.equal(a.m.localIncarnation(), 12);
    // the refutation is gossiped
    const g = a.runUntilPacket((_t, msgs) =>
      msgs.some((m) => m.type === MessageType.Alive && decodeAlive(m.body).node === "a")
    );
    assert.ok(g);
  });

  it("applies alive/suspect/dead with incarnation ordering and events", () => {
    const a = new One();
    a.learn(2);
    assert.deepEqual(a.events, ["join a", "join n2"]);
    a.packet(encodeSuspect({ incarnation: 0, node: "n2", from: "x" }), 2);
    assert.equal(a.m.allNodes().find((n) => n.name === "n2")?.state, 0, "old incarnation ignored");
    a.packet(
      encodeAlive({
        incarnation: 1,
        node: "n2",
        addr: Uint8Array.of(10, 0, 0, 2),
        port: 7946,
        meta: Uint8Array.of(7),
        vsn: VSN,
      }),
      2,
    );
    assert.equal(a.events.length, 2, "same incarnation: ignored");
    a.packet(
      encodeAlive({
        incarnation: 2,
        node: "n2",
        addr: Uint8Array.of(10, 0, 0, 2),
        port: 7946,
        meta: Uint8Array.of(7),
        vsn: VSN,
      }),
      2,
    );
    assert.deepEqual(a.events.slice(2), ["update n2"]);
    a.packet(encodeDead({ incarnation: 2, node: "n2", from: "x" }), 3);
    assert.deepEqual(a.events.slice(3), ["leave n2 2"]);
    a.packet(encodeDead({ incarnation: 5, node: "n2", from: "x" }), 3);
    assert.equal(a.events.length, 4, "already dead");
    a.packet(
      encodeAlive({ incarnation: 3, node: "n2", addr: Uint8Array.of(10, 0, 0, 2), port: 7946, meta: null, vsn: VSN }),
      2,
    );
    assert.deepEqual(a.events.slice(4), ["join n2"]);
    a.packet(encodeDead({ incarnation: 3, node: "n2", from: "n2" }), 2);
    assert.deepEqual(a.events.slice(5), ["leave n2 3"], "dead from itself = left");
    assert.equal(a.m.members().length, 1);
    assert.equal(a.m.allNodes().length, 2);
  });

  it("reports address conflicts and allows re-addressing a left node", () => {
    const conflicts: string[] = [];
    const a = new One((
      c,
    ) => (c.conflict = { notifyConflict: (e, o) => conflicts.push(`${e.name} ${o.addr.join(".")}`) }));
    a.learn(2);
    a.packet(
      encodeAlive({ incarnation: 9, node: "n2", addr: Uint8Array.of(10, 0, 0, 99), port: 7946, meta: null, vsn: VSN }),
      99,
    );
    assert.deepEqual(conflicts, ["n2 10.0.0.99"]);
    assert.ok(
      a.logs.some((l) =>
        l.startsWith("ERR memberlist: Conflicting address for n2. Mine: 10.0.0.2:7946 Theirs: 10.0.0.99:7946")
      ),
    );
    a.packet(encodeDead({ incarnation: 1, node: "n2", from: "n2" }), 2);
    a.packet(
      encodeAlive({ incarnation: 1, node: "n2", addr: Uint8Array.of(10, 0, 0, 99), port: 7946, meta: null, vsn: VSN }),
      99,
    );
    assert.deepEqual(a.m.members().find((n) => n.name === "n2")?.addr, Uint8Array.of(10, 0, 0, 99));
    assert.ok(a.logs.some((l) => l.includes("Updating address for left or failed node n2")));
  });

  it("rejects alive messages with broken protocol versions", () => {
    const a = new One();
    a.packet(
      encodeAlive({
        incarnation: 1,
        node: "v",
        addr: Uint8Array.of(10, 0, 0, 5),
        port: 7946,
        meta: null,
        vsn: Uint8Array.of(3, 2, 2, 2, 5, 5),
      }),
      5,
    );
    assert.equal(a.m.allNodes().length, 1);
    assert.ok(a.logs.some((l) => l.includes("because protocol version(s) are wrong")));
  });

  it("suspicion: timeout and confirmations follow Lifeguard", () => {
    // LAN, n = 5 nodes known: min = 4 s, max = 24 s, k = 2
    const a = new One();
    a.autoAck = true;
    for (const i of [2, 3, 4, 5]) a.learn(i);
    const t0 = a.now;
    a.packet(encodeSuspect({ incarnation: 1, node: "n5", from: "n2" }), 2);
    a.now = t0 + 1000;
    // a confirmation from a new peer: re-gossiped, timer at max - log(2)/log(3)*(max-min)
    a.packet(encodeSuspect({ incarnation: 1, node: "n5", from: "n3" }), 3);
    const expected = Math.floor(1000 * (24 - (Math.log(2) / Math.log(3)) * 20));
    a.run(t0 + expected - 1);
    assert.equal(a.m.allNodes().find((n) => n.name === "n5")?.state, 1);
    a.run(t0 + expected);
    assert.equal(a.m.allNodes().find((n) => n.name === "n5")?.state, 2);
    assert.ok(a.logs.includes("INFO memberlist: Marking n5 as failed, suspect timeout reached (1 peer confirmations)"));
  });
});

describe("memberlist core: streams", () => {
  it("answers a TCP ping and a push/pull, and delivers stream user messages", () => {
    const a = new One();
    const id = a.m.streamAccepted(addrOf(9), 0);
    a.m.streamData(id, sealStream(encodePing({ seqNo: 5, node: "a" }), { compress: true }), 0);
    const [w, c] = a.take();
    assert.equal(w.kind, "write");
    const r = new StreamReader().push((w as Extract<Output, { kind: "write" }>).data);
    assert.deepEqual(r.kind === "message" && r.message, { type: 2, ack: { seqNo: 5, payload: null } });
    assert.deepEqual(c, { kind: "close", stream: id });

    const merged: string[] = [];
    const b = new One((
      cfg,
    ) => (cfg.delegate!.mergeRemoteState = (buf, join) => merged.push(`${buf.join(",")} ${join}`)));
    const id2 = b.m.streamAccepted(addrOf(9), 0);
    const push = encodePushPull(true, [
      { name: "n9", addr: Uint8Array.of(10, 0, 0, 9), port: 7946, meta: null, incarnation: 4, state: 0, vsn: VSN },
      { name: "gone", addr: Uint8Array.of(10, 0, 0, 8), port: 0, meta: null, incarnation: 4, state: 3, vsn: VSN },
    ], Uint8Array.of(2, 1));
    b.m.streamData(id2, push.subarray(0, 10), 0);
    assert.deepEqual(b.take(), [], "incomplete: wait");
    b.m.streamData(id2, push.subarray(10), 0);
    const [reply, close] = b.take();
    const rr = new StreamReader().push((reply as Extract<Output, { kind: "write" }>).data);
    assert.ok(rr.kind === "message" && rr.message.type === 6 && rr.message.join === true);
    assert.deepEqual(close, { kind: "close", stream: id2 });
    assert.deepEqual(merged, ["2,1 true"]);
    assert.equal(b.m.members().find((n) => n.name === "n9")?.state, 0);
    assert.equal(b.m.allNodes().find((n) => n.name === "gone"), undefined, "left node unknown to us: ignored");

    const id3 = a.m.streamAccepted(addrOf(9), 0);
    a.m.streamData(id3, encodeUserStream(Uint8Array.of(4, 2)), 0);
    assert.deepEqual(a.userMsgs, [Uint8Array.of(4, 2)]);
  });

  it("answers envelope errors with an err message and times out idle streams", () => {
    const a = new One((c) => (c.enableCompression = false));
    const id = a.m.streamAccepted(addrOf(9), 0);
    a.m.streamData(id, Uint8Array.of(10, 0, 0, 0, 40), 0);
    const [w] = a.take() as Extract<Output, { kind: "write" }>[];
    const r = new StreamReader().push(w.data);
    assert.deepEqual(r.kind === "message" && r.message, {
      type: 13,
      error: "Remote state is encrypted and encryption is not configured",
    });
    assert.ok(
      a.logs.includes(
        "ERR memberlist: failed to receive: Remote state is encrypted and encryption is not configured from=10.0.0.9:7946",
      ),
    );
    const id2 = a.m.streamAccepted(addrOf(9), 0);
    a.m.streamData(id2, Uint8Array.of(6, 0x83), 0);
    assert.deepEqual(a.run(9_999).filter((o) => o.kind === "close"), []);
    assert.deepEqual(
      a.run(10_000).filter((o) => o.kind === "close"),
      [{ kind: "close", stream: id2 }],
      "TCPTimeout 10 s",
    );
    assert.equal(a.m.numStreams(), 0);
  });

  it("limits concurrent inbound push/pulls to 127", () => {
    const a = new One();
    const ids: number[] = [];
    for (let i = 0; i < 128; i++) {
      const id = a.m.streamAccepted(addrOf(9), 0);
      a.m.streamData(id, Uint8Array.of(6), 0);
      ids.push(id);
    }
    const closes = a.take().filter((o) => o.kind === "close");
    assert.deepEqual(closes, [{ kind: "close", stream: ids[127] }]);
    assert.ok(a.logs.includes("ERR memberlist: Too many pending push/pull requests"));
    a.m.streamClosed(ids[0], 0);
    const id = a.m.streamAccepted(addrOf(9), 0);
    a.m.streamData(id, Uint8Array.of(6), 0);
    assert.deepEqual(a.take().filter((o) => o.kind === "close"), [], "a slot was freed");
  });

  it("join reports Go-style errors per target", () => {
    const a = new One();
    let result: [number, string[]] | undefined;
    a.m.join([{ ip: "10.0.0.7", port: 7946 }, { ip: "10.0.0.8", port: 7946 }], 0, (n, e) => (result = [n, e]));
    const [c1] = a.take() as Extract<Output, { kind: "connect" }>[];
    a.m.streamClosed(c1.stream, 1, "dial tcp 10.0.0.7:7946: connect: connection refused");
    const [c2] = a.take() as Extract<Output, { kind: "connect" }>[];
    assert.deepEqual(c2.to, { ip: "10.0.0.8", port: 7946 }, "targets are tried in turn");
    a.m.streamConnected(c2.stream, 2);
    a.take();
    a.m.streamData(c2.stream, sealStream(encodeErr("bad"), { compress: false }), 3);
    assert.deepEqual(result, [0, [
      "Failed to join 10.0.0.7: dial tcp 10.0.0.7:7946: connect: connection refused",
      "Failed to join 10.0.0.8: remote error: bad",
    ]]);
    let timeout: [number, string[]] | undefined;
    a.m.join([{ ip: "10.0.0.7", port: 7946 }], a.now, (n, e) => (timeout = [n, e]));
    a.run(10_100);
    assert.deepEqual(timeout, [0, ["Failed to join 10.0.0.7: dial tcp 10.0.0.7:7946: i/o timeout"]]);
  });
});
