/**
 * The real-network adapters: the one for the runtime running this file
 * (picked by detect.ts) and the node:-only one, on 127.0.0.1 with port 0.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { LogLevel } from "../lib/core/log.ts";
import { seeded } from "../lib/core/random.ts";
import { currentRuntime, runtimeName } from "../lib/runtime/detect.ts";
import { dialErrorText, listenError, streamErrorText } from "../lib/runtime/errors.ts";
import { createNodeRuntime } from "../lib/runtime/node.ts";
import type { RuntimeOptions } from "../lib/runtime/options.ts";
import type { Runtime, TcpConn, Timer, UdpSocket } from "../lib/runtime/types.ts";

const HOST = "127.0.0.1";

/** Resolves when `cond()` holds, polling every 5 ms; rejects after `ms`. */
async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port that was free a moment ago (bound on port 0, then closed). */
async function closedUdpPort(rt: Runtime): Promise<number> {
  const s = await rt.bindUdp(HOST, 0, () => {});
  const port = s.port;
  s.close();
  return port;
}

async function closedTcpPort(rt: Runtime): Promise<number> {
  const l = await rt.listenTcp(HOST, 0, (c) => c.destroy());
  const port = l.port;
  l.close();
  await sleep(20);
  return port;
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = seeded(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

const adapters: Array<[string, (o: RuntimeOptions) => Runtime]> = [
  [`current runtime (${runtimeName()})`, currentRuntime],
  ["node adapter", createNodeRuntime],
];

for (const [label, make] of adapters) {
  describe(label, () => {
    const logs: Array<[LogLevel, string]> = [];
    const rt = make({ logger: (level, msg) => logs.push([level, msg]) });
    const cleanup: Array<{ close(): void } | TcpConn> = [];
    const track = <T extends { close(): void } | TcpConn>(x: T): T => (cleanup.push(x), x);

    after(() => {
      for (const x of cleanup) "destroy" in x ? x.destroy() : x.close();
    });

    it("reports its name", () => {
      if (label.startsWith("node")) assert.equal(rt.name, "node");
      else assert.equal(rt.name, runtimeName());
    });

    it("echoes UDP datagrams on 127.0.0.1 port 0", { timeout: 5000 }, async () => {
      const echo: UdpSocket = track(
        await rt.bindUdp(HOST, 0, (data, host, port) => echo.send(data, host, port)),
      );
      const got: Array<{ data: Uint8Array; host: string; port: number }> = [];
      const client = track(await rt.bindUdp(HOST, 0, (data, host, port) => got.push({ data, host, port })));
      assert.ok(echo.port > 0 && client.port > 0 && echo.port !== client.port);
      const big = randomBytes(1400, 1);
      client.send(new Uint8Array([1, 2, 3]), HOST, echo.port);
      client.send(big, HOST, echo.port);
      await waitFor(() => got.length === 2, 3000, "2 echoes");
      const bySize = got.sort((a, b) => a.data.byteLength - b.data.byteLength);
      assert.deepEqual(bySize[0].data, new Uint8Array([1, 2, 3]));
      assert.deepEqual(bySize[1].data, big);
      for (const g of got) {
        assert.equal(g.host, HOST);
        assert.equal(g.port, echo.port);
        assert.equal(g.data.constructor, Uint8Array, "a plain Uint8Array, not a Buffer");
        assert.equal(g.data.buffer.byteLength, g.data.byteLength, "owned: not a view over a bigger buffer");
      }
    });

    it("survives sending to a closed UDP port, and sending after close", { timeout: 5000 }, async () => {
      const dead = await closedUdpPort(rt);
      const got: Uint8Array[] = [];
      const sock = track(await rt.bindUdp(HOST, 0, (d) => got.push(d)));
      for (let i = 0; i < 5; i++) sock.send(new Uint8Array([i]), HOST, dead);
      await sleep(100);
      // Still receiving after the ICMP port-unreachables.
      sock.send(new Uint8Array([42]), HOST, sock.port);
      await waitFor(() => got.length === 1, 3000, "self-sent datagram");
      assert.deepEqual(got[0], new Uint8Array([42]));
      assert.deepEqual(logs.filter(([l]) => l === "ERR" || l === "WARN"), [], "ICMP errors are not reported");
      const other = await rt.bindUdp(HOST, 0, () => {});
      other.close();
      assert.doesNotThrow(() => other.send(new Uint8Array([1]), HOST, sock.port));
      assert.doesNotThrow(() => other.close());
    });

    it("still sends the datagram that follows an ICMP port-unreachable", { timeout: 5000 }, async () => {
      const dead = await closedUdpPort(rt);
      const got: number[] = [];
      const receiver = track(await rt.bindUdp(HOST, 0, (d) => got.push(d[0])));
      const sender = track(await rt.bindUdp(HOST, 0, () => {}));
      for (let i = 0; i < 3; i++) {
        sender.send(new Uint8Array([0]), HOST, dead);
        const until = performance.now() + 5;
        while (performance.now() < until) { /* let the ICMP error come back before the next send */ }
        sender.send(new Uint8Array([i + 1]), HOST, receiver.port);
        await sleep(10);
      }
      await waitFor(() => got.length === 3, 2000, "3 datagrams").catch(() => {});
      assert.deepEqual(got.sort(), [1, 2, 3]);
    });

    it("rejects UDP bind on a port in use with Go's message", async () => {
      const a = track(await rt.bindUdp(HOST, 0, () => {}));
      await assert.rejects(rt.bindUdp(HOST, a.port, () => {}), (err: Error & { code?: string }) => {
        assert.equal(err.message, `listen udp ${HOST}:${a.port}: bind: address already in use`);
        assert.equal(err.code, "EADDRINUSE");
        return true;
      });
    });

    it("rejects TCP listen on a port in use with Go's message", async () => {
      const l = track(await rt.listenTcp(HOST, 0, (c) => c.destroy()));
      await assert.rejects(rt.listenTcp(HOST, l.port, () => {}), (err: Error & { code?: string }) => {
        assert.equal(err.message, `listen tcp ${HOST}:${l.port}: bind: address already in use`);
        assert.equal(err.code, "EADDRINUSE");
        return true;
      });
    });

    it("echoes a 1 MiB TCP payload intact and closes cleanly", { timeout: 10000 }, async () => {
      const serverEvents: string[] = [];
      const listener = track(
        await rt.listenTcp(HOST, 0, (conn) => {
          serverEvents.push(`accept ${conn.remoteHost}`);
          conn.setHandlers({
            onData: (chunk) => conn.write(chunk),
            onClose: (err) => serverEvents.push(`close ${err ?? "ok"}`),
          });
        }),
      );
      const payload = randomBytes(1 << 20, 2);
      const chunks: Uint8Array[] = [];
      let received = 0, connects = 0;
      const closes: Array<string | undefined> = [];
      const conn = track(rt.connectTcp(HOST, listener.port, {
        onConnect: () => connects++,
        onData: (c) => {
          chunks.push(c);
          received += c.byteLength;
        },
        onClose: (err) => closes.push(err),
      }));
      assert.equal(conn.remoteHost, HOST);
      assert.equal(conn.remotePort, listener.port);
      conn.write(payload); // one write, before the connection is even up
      await waitFor(() => received >= payload.byteLength, 8000, "1 MiB echo");
      assert.equal(connects, 1);
      const all = new Uint8Array(received);
      let off = 0;
      for (const c of chunks) {
        all.set(c, off);
        off += c.byteLength;
      }
      assert.equal(received, payload.byteLength);
      assert.ok(all.every((b, i) => b === payload[i]), "echo matches byte for byte");
      conn.end();
      await waitFor(() => closes.length === 1 && serverEvents.length === 2, 3000, "both sides closed");
      assert.deepEqual(closes, [undefined]);
      assert.deepEqual(serverEvents, [`accept ${HOST}`, "close ok"]);
      await sleep(20);
      assert.equal(closes.length, 1, "onClose is called once");
    });

    it("delivers data arriving before setHandlers, and peer destroy as onClose", { timeout: 5000 }, async () => {
      let accepted: TcpConn | undefined;
      const listener = track(await rt.listenTcp(HOST, 0, (c) => (accepted = c)));
      const closes: Array<string | undefined> = [];
      const client = track(rt.connectTcp(HOST, listener.port, { onData() {}, onClose: (e) => closes.push(e) }));
      client.write(new Uint8Array([9, 8, 7]));
      await waitFor(() => accepted !== undefined, 3000, "accept");
      await sleep(50); // the bytes arrive while no handlers are installed
      const got: number[] = [];
      accepted!.setHandlers({ onData: (c) => got.push(...c), onClose() {} });
      await waitFor(() => got.length === 3, 3000, "buffered data");
      assert.deepEqual(got, [9, 8, 7]);
      accepted!.destroy();
      await waitFor(() => closes.length === 1, 3000, "client sees close");
    });

    it("reports a refused connect as onClose(error) without onConnect", { timeout: 5000 }, async () => {
      const port = await closedTcpPort(rt);
      let connected = false;
      const closes: Array<string | undefined> = [];
      rt.connectTcp(HOST, port, { onConnect: () => (connected = true), onData() {}, onClose: (e) => closes.push(e) });
      await waitFor(() => closes.length > 0, 3000, "onClose");
      await sleep(20);
      assert.equal(connected, false);
      assert.deepEqual(closes, [`dial tcp ${HOST}:${port}: connect: connection refused`]);
    });

    it("fires timers after their delay, not cancelled ones", { timeout: 5000 }, async () => {
      const start = rt.now();
      const fired: Array<[string, number]> = [];
      rt.setTimer(30, () => fired.push(["a", rt.now() - start]));
      const cancelled: Timer = rt.setTimer(10, () => fired.push(["cancelled", 0]));
      rt.setTimer(5, () => fired.push(["b", rt.now() - start]));
      cancelled.cancel();
      cancelled.cancel();
      await waitFor(() => fired.length === 2, 3000, "timers");
      await sleep(30);
      assert.deepEqual(fired.map(([n]) => n), ["b", "a"]);
      assert.ok(fired[1][1] >= 29, `30 ms timer fired after ${fired[1][1]} ms`);
      const t1 = rt.now(), t2 = rt.now();
      assert.ok(t2 >= t1, "monotonic");
      const r = rt.random();
      assert.ok(r >= 0 && r < 1);
    });
  });
}

describe("Go error texts", () => {
  it("words socket errors as Go's net package does", () => {
    const inUse = listenError("udp", "::1", 7946, { code: "EADDRINUSE" });
    assert.equal(inUse.message, "listen udp [::1]:7946: bind: address already in use");
    assert.equal(inUse.code, "EADDRINUSE");
    assert.equal(
      dialErrorText("10.0.0.1", 7946, { code: "ECONNREFUSED" }),
      "dial tcp 10.0.0.1:7946: connect: connection refused",
    );
    assert.equal(dialErrorText("10.0.0.1", 7946, { code: "ETIMEDOUT" }), "dial tcp 10.0.0.1:7946: i/o timeout");
    assert.equal(
      dialErrorText("nohost.invalid", 1, { code: "ENOTFOUND" }),
      "dial tcp: lookup nohost.invalid: no such host",
    );
    assert.equal(
      streamErrorText("127.0.0.1:5000", "127.0.0.1:7946", { code: "ECONNRESET", syscall: "read" }),
      "read tcp 127.0.0.1:5000->127.0.0.1:7946: read: connection reset by peer",
    );
    assert.equal(
      streamErrorText("127.0.0.1:5000", "127.0.0.1:7946", { code: "EPIPE", syscall: "write" }),
      "write tcp 127.0.0.1:5000->127.0.0.1:7946: write: broken pipe",
    );
  });
});
