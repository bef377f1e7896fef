/**
 * The in-memory network: virtual clock, determinism, latency, loss,
 * partitions, crashes, TCP ordering/refusal, and raw event throughput.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryNetwork } from "../lib/runtime/memory.ts";
import type { Runtime, StreamHandlers, TcpConn, UdpSocket } from "../lib/runtime/types.ts";

const A = "10.0.0.1", B = "10.0.0.2", C = "10.0.0.3";

/** Awaits an already-settled setup promise (memory binds resolve at once). */
async function bind(rt: Runtime, ip: string, port: number, onMessage: (d: Uint8Array, h: string, p: number) => void) {
  return await rt.bindUdp(ip, port, onMessage);
}

/** Records every callback of a stream as text. */
function recorder(net: MemoryNetwork, log: string[], name: string): StreamHandlers {
  return {
    onConnect: () => log.push(`${net.now} ${name} connect`),
    onData: (c) => log.push(`${net.now} ${name} data ${[...c].join(",")}`),
    onClose: (e) => log.push(`${net.now} ${name} close ${e ?? "ok"}`),
  };
}

/** A small gossip-like scenario; returns its trace. */
async function scenario(seed: number): Promise<string[]> {
  const net = new MemoryNetwork({ seed, latencyMs: 2, jitterMs: 3 });
  net.setLoss(0.05);
  const trace: string[] = [];
  const ips = [A, B, C, "10.0.0.4"];
  const socks: UdpSocket[] = [];
  for (const ip of ips) {
    const rt = net.runtime(ip);
    const sock = await bind(rt, ip, 7946, (d, from) => {
      trace.push(`${net.now.toFixed(6)} ${ip}<-${from} ${d[0]}`);
      if (d[0] < 40) sock.send(new Uint8Array([d[0] + 1]), ips[Math.floor(rt.random() * ips.length)], 7946);
    });
    socks.push(sock);
    rt.setTimer(rt.random() * 10, () => trace.push(`${net.now.toFixed(6)} ${ip} timer`));
  }
  socks.forEach((s, i) => s.send(new Uint8Array([0]), ips[(i + 1) % ips.length], 7946));
  const l = await net.runtime(A).listenTcp(
    A,
    8000,
    (c) =>
      c.setHandlers({ onData: (d) => c.write(d), onClose: (e) => trace.push(`${net.now.toFixed(6)} srv close ${e}`) }),
  );
  const cl = net.runtime(B).connectTcp(A, l.port, {
    onConnect: () => trace.push(`${net.now.toFixed(6)} connected`),
    onData: (d) => trace.push(`${net.now.toFixed(6)} echo ${d.length}`),
    onClose: (e) => trace.push(`${net.now.toFixed(6)} cli close ${e}`),
  });
  for (let i = 0; i < 5; i++) cl.write(new Uint8Array(i + 1));
  cl.end();
  net.advance(200);
  trace.push(JSON.stringify(net.stats));
  return trace;
}

describe("MemoryNetwork basics", () => {
  it("is deterministic: same seed, same trace; other seed, other trace", async () => {
    const t1 = await scenario(42), t2 = await scenario(42), t3 = await scenario(43);
    assert.ok(t1.length > 30, `trace has ${t1.length} lines`);
    assert.deepEqual(t1, t2);
    assert.notDeepEqual(t1, t3);
  });

  it("delivers UDP after the latency, per-link latency in time order", async () => {
    const net = new MemoryNetwork({ seed: 1, latencyMs: 5 });
    const got: string[] = [];
    const a = await bind(net.runtime(A), A, 1000, () => {});
    await bind(net.runtime(B), B, 1000, (d, host, port) => got.push(`${net.now} B ${d[0]} from ${host}:${port}`));
    await bind(net.runtime(C), C, 1000, (d) => got.push(`${net.now} C ${d[0]}`));
    net.setLink(A, C, { latencyMs: 2 });
    net.advance(10); // now = 10
    a.send(new Uint8Array([1]), B, 1000);
    a.send(new Uint8Array([2]), C, 1000);
    a.send(new Uint8Array([3]), B, 1000);
    net.advance(4);
    assert.deepEqual(got, ["12 C 2"]);
    net.advance(1);
    assert.deepEqual(got, ["12 C 2", `15 B 1 from ${A}:1000`, `15 B 3 from ${A}:1000`]);
    assert.equal(net.now, 15);
    net.setLink(A, C, {}); // back to 5 ms
    a.send(new Uint8Array([4]), C, 1000);
    net.advance(4.9);
    assert.equal(got.length, 3);
    net.advance(0.1);
    assert.equal(got.at(-1), "20 C 4");
  });

  it("copies datagrams at send time and hands the receiver a plain Uint8Array", async () => {
    const net = new MemoryNetwork({ seed: 1 });
    const got: Uint8Array[] = [];
    const a = await bind(net.runtime(A), A, 1, () => {});
    await bind(net.runtime(B), B, 1, (d) => got.push(d));
    const buf = new Uint8Array([1, 2, 3]);
    a.send(buf, B, 1);
    buf[0] = 99;
    net.advance(5);
    assert.deepEqual(got, [new Uint8Array([1, 2, 3])]);
    assert.equal(got[0].constructor, Uint8Array);
  });

  it("loses roughly the configured fraction of 10k datagrams, and counts them", async () => {
    const net = new MemoryNetwork({ seed: 7, jitterMs: 2 });
    let got = 0;
    const a = await bind(net.runtime(A), A, 1, () => {});
    await bind(net.runtime(B), B, 1, () => got++);
    net.setLoss(0.3);
    for (let i = 0; i < 10_000; i++) a.send(new Uint8Array(10), B, 1);
    net.advance(10);
    // 3 sigma of Binomial(10000, 0.7) is ~137.
    assert.ok(Math.abs(got - 7000) < 200, `delivered ${got}`);
    assert.equal(net.stats.packetsSent, 10_000);
    assert.equal(net.stats.packetsDelivered, got);
    assert.equal(net.stats.packetsDropped, 10_000 - got);
    assert.equal(net.stats.bytes, 100_000);
    // A per-link loss overrides the global one.
    net.setLink(A, B, { loss: 1 });
    a.send(new Uint8Array(1), B, 1);
    net.advance(10);
    assert.equal(got, net.stats.packetsDelivered);
    assert.equal(net.stats.packetsDropped, 10_001 - got);
  });

  it("rejects port-in-use and foreign addresses with Go's messages; port 0 picks free ports", async () => {
    const net = new MemoryNetwork({ seed: 1 });
    const rt = net.runtime(A);
    assert.equal(net.runtime(A), rt, "same runtime until a crash");
    const tcp = await rt.listenTcp(A, 0, () => {});
    const udp = await rt.bindUdp(A, tcp.port, () => {}); // same number free for UDP
    await assert.rejects(rt.bindUdp(A, udp.port, () => {}), {
      message: `listen udp ${A}:${udp.port}: bind: address already in use`,
      code: "EADDRINUSE",
    });
    await assert.rejects(rt.listenTcp("0.0.0.0", tcp.port, () => {}), {
      message: `listen tcp 0.0.0.0:${tcp.port}: bind: address already in use`,
    });
    await assert.rejects(rt.bindUdp(B, 5, () => {}), {
      message: `listen udp ${B}:5: bind: cannot assign requested address`,
    });
    const other = await rt.bindUdp(A, 0, () => {});
    assert.notEqual(other.port, udp.port);
    udp.close();
    await rt.bindUdp(A, udp.port, () => {}); // free again after close
  });

  it("fires timers on the virtual clock, in order, and honours cancel", () => {
    const net = new MemoryNetwork({ seed: 1 });
    const rt = net.runtime(A);
    const seen: string[] = [];
    rt.setTimer(10, () => seen.push(`a@${rt.now()}`));
    rt.setTimer(10, () => seen.push(`b@${rt.now()}`));
    rt.setTimer(3, () => {
      seen.push(`c@${rt.now()}`);
      rt.setTimer(0, () => seen.push(`d@${rt.now()}`));
    });
    const x = rt.setTimer(5, () => seen.push("cancelled"));
    x.cancel();
    net.advance(9);
    assert.deepEqual(seen, ["c@3", "d@3"]);
    net.advance(1);
    assert.deepEqual(seen, ["c@3", "d@3", "a@10", "b@10"]);
    assert.equal(net.pending, 0);
  });

  it("runUntil stops at the event that makes the predicate true, or gives up at maxMs", () => {
    const net = new MemoryNetwork({ seed: 1 });
    const rt = net.runtime(A);
    let n = 0;
    const tick = () => {
      n++;
      rt.setTimer(7, tick);
    };
    rt.setTimer(7, tick);
    assert.equal(net.runUntil(() => n === 3, 1000), true);
    assert.equal(net.now, 21);
    assert.equal(net.runUntil(() => n === 100, 50), false);
    assert.equal(net.now, 71);
    assert.equal(net.runUntil(() => n >= 12, 1000, 10), true);
    assert.equal(net.now, 91); // checked every 10 ms
    assert.throws(() => {
      rt.setTimer(1, () => net.advance(1));
      net.advance(5);
    }, /from inside an event/);
  });
});

describe("MemoryNetwork partitions and crashes", () => {
  it("partition blocks UDP both ways (including in flight) until heal", async () => {
    const net = new MemoryNetwork({ seed: 1, latencyMs: 10 });
    const got: string[] = [];
    const socks = new Map<string, UdpSocket>();
    for (const ip of [A, B, C]) {
      socks.set(
        ip,
        await bind(net.runtime(ip), ip, 1, (_d, from) => got.push(`${from}>${ip}`)),
      );
    }
    socks.get(A)!.send(new Uint8Array(1), B, 1); // in flight when the partition starts
    net.advance(5);
    net.partition([A], [B, "10.9.9.9"]);
    socks.get(B)!.send(new Uint8Array(1), A, 1);
    socks.get(A)!.send(new Uint8Array(1), C, 1);
    socks.get(C)!.send(new Uint8Array(1), B, 1);
    net.advance(20);
    assert.deepEqual(got.sort(), [`${A}>${C}`, `${C}>${B}`]);
    net.heal();
    socks.get(B)!.send(new Uint8Array(1), A, 1);
    net.advance(20);
    assert.ok(got.includes(`${B}>${A}`));
  });

  it("partition makes TCP connects time out and breaks open streams", async () => {
    const net = new MemoryNetwork({ seed: 1, latencyMs: 2, connectTimeoutMs: 1000 });
    const log: string[] = [];
    let server: TcpConn | undefined;
    await net.runtime(A).listenTcp(A, 80, (c) => {
      server = c;
      c.setHandlers(recorder(net, log, "srv"));
    });
    const open = net.runtime(B).connectTcp(A, 80, recorder(net, log, "cli"));
    net.advance(10);
    assert.deepEqual(log, ["4 cli connect"]);
    net.partition([A], [B]);
    open.write(new Uint8Array([1])); // eaten by the partition
    net.runtime(B).connectTcp(A, 80, recorder(net, log, "cli2"));
    net.advance(2000);
    assert.deepEqual(log, [
      "4 cli connect",
      `1010 cli2 close dial tcp ${A}:80: i/o timeout`,
      `1012 cli close read tcp ${B}:49152->${A}:80: read: connection timed out`,
      `1012 srv close read tcp ${A}:80->${B}:49152: read: connection timed out`,
    ]);
    assert.ok(server);
    net.heal();
    log.length = 0;
    net.runtime(B).connectTcp(A, 80, recorder(net, log, "cli3"));
    net.advance(10);
    assert.deepEqual(log, ["2014 cli3 connect"]);
  });

  it("crash: sockets and timers vanish silently, peers see close, connects are refused, restart works", async () => {
    const net = new MemoryNetwork({ seed: 1, latencyMs: 1 });
    const log: string[] = [];
    const rtB = net.runtime(B);
    await bind(rtB, B, 1, () => log.push("B got udp"));
    rtB.setTimer(50, () => log.push("B timer"));
    await rtB.listenTcp(B, 80, (c) => c.setHandlers(recorder(net, log, "B-srv")));
    const a = await bind(net.runtime(A), A, 1, () => {});
    net.runtime(A).connectTcp(B, 80, recorder(net, log, "A-cli"));
    net.advance(5);
    assert.deepEqual(log, ["2 A-cli connect"]);
    net.crash(B);
    a.send(new Uint8Array(1), B, 1);
    net.advance(100);
    assert.deepEqual(log, ["2 A-cli connect", "6 A-cli close ok"]);
    net.runtime(A).connectTcp(B, 80, recorder(net, log, "A-cli2"));
    net.advance(10);
    assert.equal(log.at(-1), `107 A-cli2 close dial tcp ${B}:80: connect: connection refused`);
    assert.ok(!log.includes("B timer") && !log.includes("B got udp"));
    // Restart: a fresh runtime at the same IP can bind the same ports.
    const rtB2 = net.runtime(B);
    assert.notEqual(rtB2, rtB);
    await bind(rtB2, B, 1, () => log.push("B2 got udp"));
    a.send(new Uint8Array(1), B, 1);
    net.advance(5);
    assert.equal(log.at(-1), "B2 got udp");
  });

  it("connecting to an IP where no host ever lived times out", () => {
    const net = new MemoryNetwork({ seed: 1, connectTimeoutMs: 300 });
    const log: string[] = [];
    net.runtime(A).connectTcp("10.1.1.1", 80, recorder(net, log, "cli"));
    net.advance(1000);
    assert.deepEqual(log, ["300 cli close dial tcp 10.1.1.1:80: i/o timeout"]);
  });
});

describe("MemoryNetwork TCP", () => {
  it("refuses connects to a closed port after one round trip, without onConnect", () => {
    const net = new MemoryNetwork({ seed: 1, latencyMs: 3 });
    net.runtime(B);
    const log: string[] = [];
    const c = net.runtime(A).connectTcp(B, 7946, recorder(net, log, "cli"));
    c.write(new Uint8Array([1])); // dropped with the refused connection
    net.advance(100);
    assert.deepEqual(log, [`6 cli close dial tcp ${B}:7946: connect: connection refused`]);
    assert.equal(c.remoteHost, B);
    assert.equal(c.remotePort, 7946);
  });

  it("delivers bytes in order per direction despite jitter, then closes both ends on end()", async () => {
    const net = new MemoryNetwork({ seed: 9, latencyMs: 1, jitterMs: 20 });
    const serverGot: number[] = [];
    const log: string[] = [];
    await net.runtime(A).listenTcp(A, 80, (c) => {
      assert.equal(c.remoteHost, B);
      c.setHandlers({
        onData: (d) => {
          serverGot.push(...d);
          c.write(d.map((x) => x + 1));
        },
        onClose: (e) => log.push(`srv close ${e ?? "ok"}`),
      });
      c.write(new Uint8Array([0])); // greeting, before the client has seen connect
    });
    const clientGot: number[] = [];
    let connectedBeforeData = false;
    const c = net.runtime(B).connectTcp(A, 80, {
      onConnect: () => (connectedBeforeData = clientGot.length === 0),
      onData: (d) => clientGot.push(...d),
      onClose: (e) => log.push(`cli close ${e ?? "ok"}`),
    });
    const sent: number[] = [];
    for (let i = 1; i <= 200; i++) {
      c.write(new Uint8Array([i % 250]));
      sent.push(i % 250);
      net.advance(0.3);
    }
    c.end();
    net.advance(1000);
    assert.ok(connectedBeforeData, "onConnect precedes the first byte");
    assert.deepEqual(serverGot, sent);
    assert.deepEqual(clientGot, [0, ...sent.map((x) => x + 1)]);
    assert.deepEqual(log, ["srv close ok", "cli close ok"]);
    assert.equal(net.stats.tcpConnects, 1);
    assert.equal(net.stats.tcpBytes, 401);
  });

  it("destroy closes at once locally (onClose without error) and the peer sees close; unadopted conns are fine", async () => {
    const net = new MemoryNetwork({ seed: 1, latencyMs: 1 });
    const log: string[] = [];
    let n = 0;
    await net.runtime(A).listenTcp(A, 80, (c) => {
      if (n++ === 0) c.setHandlers(recorder(net, log, "srv"));
      else c.destroy(); // never adopted
    });
    const c = net.runtime(B).connectTcp(A, 80, recorder(net, log, "cli"));
    net.advance(5);
    c.write(new Uint8Array([7]));
    c.destroy();
    c.destroy();
    c.write(new Uint8Array([8])); // ignored
    net.advance(5);
    assert.deepEqual(log, ["2 cli connect", "5 cli close ok", "6 srv data 7", "6 srv close ok"]);
    const log2: string[] = [];
    net.runtime(B).connectTcp(A, 80, recorder(net, log2, "cli2"));
    net.advance(10);
    // The server destroyed it on accept (t=11): its FIN follows the SYN-ACK.
    assert.deepEqual(log2, ["12 cli2 connect", "12 cli2 close ok"]);
  });
});

describe("MemoryNetwork throughput", () => {
  it("runs 1M scheduled events", { timeout: 60_000 }, async (t) => {
    const net = new MemoryNetwork({ seed: 3, latencyMs: 1, jitterMs: 1 });
    const n = 100;
    const socks: UdpSocket[] = [];
    const runtimes: Runtime[] = [];
    for (let i = 0; i < n; i++) {
      const ip = `10.1.${i >> 8}.${i & 255}`;
      const rt = net.runtime(ip);
      runtimes.push(rt);
      const sock = await bind(rt, ip, 7946, (d) => {
        const to = Math.floor(rt.random() * n);
        sock.send(d, `10.1.${to >> 8}.${to & 255}`, 7946);
      });
      socks.push(sock);
      const tick = () => rt.setTimer(200, tick);
      rt.setTimer(rt.random() * 200, tick);
    }
    for (const s of socks) for (let k = 0; k < 10; k++) s.send(new Uint8Array(64), `10.1.0.${k}`, 7946);
    const start = performance.now();
    net.runUntil(() => net.stats.events >= 1_000_000, 10_000_000, 1000);
    const ms = performance.now() - start;
    assert.ok(net.stats.events >= 1_000_000, `ran ${net.stats.events} events`);
    assert.ok(net.pending > 0 && net.pending < 10_000, `queue stays small: ${net.pending}`);
    t.diagnostic(
      `${net.stats.events} events in ${ms.toFixed(0)} ms (${
        (net.stats.events / ms * 1000 / 1e6).toFixed(2)
      } M events/s), ` +
        `virtual ${net.now} ms`,
    );
  });
});
