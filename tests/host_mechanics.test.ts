/**
 * MemberlistHost mechanics against a scripted fake core on the in-memory
 * network: timer re-arming, output routing, stream bookkeeping, re-entrancy
 * and fault isolation — independent of the real memberlist core.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Scheduler } from "../lib/core/scheduler.ts";
import { MemberlistHost } from "../lib/host/memberlist_host.ts";
import { bindTransport } from "../lib/host/transport.ts";
import type { Memberlist } from "../lib/memberlist/memberlist.ts";
import type { Address, JoinTarget, Output } from "../lib/memberlist/types.ts";
import { MemoryNetwork } from "../lib/runtime/memory.ts";

type Call = [string, ...unknown[]];

/** Records every call; outputs and scheduled work are scripted by the test. */
class FakeCore {
  readonly scheduler = new Scheduler();
  readonly calls: Call[] = [];
  outputs: Output[] = [];
  nextStream = 100;
  onPacket?: (data: Uint8Array, from: Address, now: number) => void;
  onStreamData?: (id: number, chunk: Uint8Array, now: number) => void;
  onAccepted?: (id: number, now: number) => void;
  onConnected?: (id: number, now: number) => void;
  start(now: number) {
    this.calls.push(["start", now]);
  }
  handlePacket(data: Uint8Array, from: Address, now: number) {
    this.calls.push(["packet", new TextDecoder().decode(data), from, now]);
    this.onPacket?.(data, from, now);
  }
  streamAccepted(from: Address, now: number): number {
    const id = this.nextStream++;
    this.calls.push(["accepted", id, from, now]);
    this.onAccepted?.(id, now);
    return id;
  }
  streamConnected(id: number, now: number) {
    this.calls.push(["connected", id, now]);
    this.onConnected?.(id, now);
  }
  streamData(id: number, chunk: Uint8Array, now: number) {
    this.calls.push(["data", id, new TextDecoder().decode(chunk), now]);
    this.onStreamData?.(id, chunk, now);
  }
  streamClosed(id: number, now: number, error?: string) {
    this.calls.push(["closed", id, now, error !== undefined]);
  }
  tick(now: number) {
    this.calls.push(["tick", now]);
    this.scheduler.runDue(now);
  }
  nextDeadline() {
    return this.scheduler.nextDeadline();
  }
  drain(): Output[] {
    const o = this.outputs;
    this.outputs = [];
    return o;
  }
  join(targets: JoinTarget[], now: number, done: (n: number, e: string[]) => void) {
    this.calls.push(["join", targets, now]);
    done(targets.length, []);
  }
  leave(now: number, timeoutMs: number, done: (err?: string) => void) {
    this.calls.push(["leave", now, timeoutMs]);
    done();
  }
  shutdown() {
    this.calls.push(["shutdown"]);
  }
  named(name: string): Call[] {
    return this.calls.filter((c) => c[0] === name);
  }
}

const enc = (s: string) => new TextEncoder().encode(s);

async function pair(seed = 1) {
  const net = new MemoryNetwork({ seed, latencyMs: 1 });
  const make = async (ip: string) => {
    const runtime = net.runtime(ip);
    const core = new FakeCore();
    const host = new MemberlistHost(runtime, await bindTransport(runtime, ip, 7946), core as unknown as Memberlist);
    return { core, host, runtime };
  };
  return { net, a: await make("10.0.0.1"), b: await make("10.0.0.2") };
}

describe("MemberlistHost mechanics (fake core, memory network)", () => {
  it("keeps one timer armed at the core's next deadline and re-arms after each call", async () => {
    const { net, a } = await pair();
    const t0 = net.now;
    a.core.scheduler.at(t0 + 100, (now) => {
      a.core.scheduler.at(now + 50, () => {});
    });
    a.host.start();
    assert.deepEqual(a.core.named("start"), [["start", t0]]);
    net.advance(99);
    assert.equal(a.core.named("tick").length, 0);
    net.advance(1);
    assert.deepEqual(a.core.named("tick"), [["tick", t0 + 100]]);
    net.advance(50);
    assert.deepEqual(a.core.named("tick").map((c) => c[1]), [t0 + 100, t0 + 150]);
    // A deadline moved earlier by an outside call is honoured.
    a.host.act((now) => a.core.scheduler.at(now + 10, () => {}));
    a.host.act((now) => a.core.scheduler.at(now + 500, () => {}));
    net.advance(10);
    assert.deepEqual(a.core.named("tick").map((c) => c[1]), [t0 + 100, t0 + 150, t0 + 160]);
    net.advance(1000);
    assert.equal(a.core.named("tick").length, 4, "idle core: no spurious ticks");
    await a.host.shutdown();
  });

  it("sends packet outputs over UDP and feeds received datagrams to the core", async () => {
    const { net, a, b } = await pair();
    a.host.start();
    b.host.start();
    b.core.onPacket = (data, from) => {
      b.core.outputs.push({ kind: "packet", to: from, data: enc("re:" + new TextDecoder().decode(data)) });
    };
    a.host.act(() => a.core.outputs.push({ kind: "packet", to: { ip: "10.0.0.2", port: 7946 }, data: enc("hi") }));
    net.advance(10);
    assert.deepEqual(b.core.named("packet").map((c) => c.slice(1, 3)), [["hi", { ip: "10.0.0.1", port: 7946 }]]);
    assert.deepEqual(a.core.named("packet").map((c) => c[1]), ["re:hi"]);
    assert.equal(a.host.stats.packetsOut, 1);
    assert.equal(b.host.stats.packetsIn, 1);
  });

  it("carries streams both ways and reports closes the core did not ask for", async () => {
    const { net, a, b } = await pair();
    a.host.start();
    b.host.start();
    b.core.onStreamData = (id, chunk) => {
      b.core.outputs.push({ kind: "write", stream: id, data: enc("ack:" + new TextDecoder().decode(chunk)) });
      b.core.outputs.push({ kind: "close", stream: id });
    };
    a.core.onConnected = (id) => a.core.outputs.push({ kind: "write", stream: id, data: enc("push") });
    a.host.act(() => a.core.outputs.push({ kind: "connect", stream: 7, to: { ip: "10.0.0.2", port: 7946 } }));
    net.advance(50);
    assert.equal(b.core.named("accepted").length, 1);
    const [, bid, from] = b.core.named("accepted")[0];
    assert.equal((from as Address).ip, "10.0.0.1");
    assert.deepEqual(a.core.named("connected").map((c) => c[1]), [7]);
    assert.deepEqual(b.core.named("data").map((c) => [c[1], c[2]]), [[bid, "push"]]);
    assert.deepEqual(a.core.named("data").map((c) => [c[1], c[2]]), [[7, "ack:push"]]);
    // B closed by request: not reported back to B; A sees the peer's close.
    assert.deepEqual(a.core.named("closed").map((c) => c[1]), [7]);
    assert.equal(b.core.named("closed").length, 0);
    net.advance(10_000);
    assert.equal(a.host.openStreams, 0);
    assert.equal(b.host.openStreams, 0);
  });

  it("reports a failed connect as a close with an error", async () => {
    const { net, a } = await pair();
    a.host.start();
    a.host.act(() => a.core.outputs.push({ kind: "connect", stream: 3, to: { ip: "10.9.9.9", port: 7946 } }));
    net.advance(20_000);
    assert.equal(a.core.named("connected").length, 0);
    assert.deepEqual(a.core.named("closed").map((c) => [c[1], c[3]]), [[3, true]]);
    assert.equal(a.host.openStreams, 0);
  });

  it("flushes once at the outermost act when calls nest", async () => {
    const { net, a, b } = await pair();
    a.host.start();
    b.host.start();
    const inner = a.host.act(() => {
      a.core.outputs.push({ kind: "packet", to: { ip: "10.0.0.2", port: 7946 }, data: enc("1") });
      return a.host.act(() => {
        a.core.outputs.push({ kind: "packet", to: { ip: "10.0.0.2", port: 7946 }, data: enc("2") });
        assert.equal(a.host.stats.packetsOut, 0, "nothing flushed inside");
        return 42;
      });
    });
    assert.equal(inner, 42);
    assert.equal(a.host.stats.packetsOut, 2);
    net.advance(10);
    assert.deepEqual(b.core.named("packet").map((c) => c[1]), ["1", "2"]);
  });

  it("survives a core that throws on input and counts it", async () => {
    const { net, a, b } = await pair();
    a.host.start();
    b.host.start();
    let n = 0;
    b.core.onPacket = () => {
      if (n++ === 0) throw new Error("boom");
    };
    for (const s of ["x", "y"]) {
      a.host.act(() => a.core.outputs.push({ kind: "packet", to: { ip: "10.0.0.2", port: 7946 }, data: enc(s) }));
    }
    net.advance(10);
    assert.equal(b.host.stats.coreErrors, 1);
    assert.deepEqual(b.core.named("packet").map((c) => c[1]), ["x", "y"]);
  });

  it("joins literal addresses with our port as default, leaves and shuts down", async () => {
    const { a } = await pair();
    a.host.start();
    const r = await a.host.join(["b/10.0.0.2", "10.0.0.3:1234", "/bad"]);
    assert.equal(r.joined, 2);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0], /empty node name/);
    assert.deepEqual(a.core.named("join")[0][1], [{ ip: "10.0.0.2", port: 7946, name: "b" }, {
      ip: "10.0.0.3",
      port: 1234,
    }]);
    await a.host.leave(1000);
    await a.host.shutdown();
    await a.host.shutdown();
    assert.equal(a.core.named("shutdown").length, 1);
    assert.ok(a.host.closed);
  });
});
