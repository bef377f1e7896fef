import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { createSocket } from "node:dgram";
import { bindTransport, type Transport } from "../lib/host/transport.ts";
import { currentRuntime } from "../lib/runtime/detect.ts";
import { waitFor } from "./helpers/wait.ts";

describe("bindTransport on the real runtime", () => {
  const runtime = currentRuntime({ logger: () => {} });
  const open: Transport[] = [];
  after(() => {
    for (const t of open) t.close();
  });

  it("binds UDP and TCP on one port picked for both when 0 is asked", { timeout: 10_000 }, async () => {
    const t = await bindTransport(runtime, "127.0.0.1", 0);
    open.push(t);
    assert.ok(t.port > 0);
    assert.equal(t.udp.port, t.port);
    assert.equal(t.tcp.port, t.port);

    const packets: [string, string, number][] = [];
    t.onPacket = (data, host, port) => packets.push([new TextDecoder().decode(data), host, port]);
    const sock = createSocket("udp4");
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    sock.send(new TextEncoder().encode("hello"), t.port, "127.0.0.1");
    await waitFor(() => packets.length === 1, 3000, "datagram");
    assert.equal(packets[0][0], "hello");
    assert.equal(packets[0][1], "127.0.0.1");
    assert.equal(packets[0][2], sock.address().port);
    sock.close();

    const got: string[] = [];
    t.onConnection = (conn) => {
      conn.setHandlers({
        onData: (c) => {
          got.push(new TextDecoder().decode(c));
          conn.write(new TextEncoder().encode("pong"));
          conn.end();
        },
        onClose: () => {},
      });
    };
    const reply = await new Promise<string>((resolve, reject) => {
      const c = connect(t.port, "127.0.0.1", () => c.write("ping"));
      let buf = "";
      c.on("data", (d) => (buf += d.toString()));
      c.on("end", () => {
        c.end();
        resolve(buf);
      });
      c.on("error", reject);
    });
    assert.deepEqual(got, ["ping"]);
    assert.equal(reply, "pong");
  });

  it("drops traffic while no handler is installed and closes idempotently", { timeout: 10_000 }, async () => {
    const t = await bindTransport(runtime, "127.0.0.1", 0);
    const closed = await new Promise<boolean>((resolve) => {
      const c = connect(t.port, "127.0.0.1");
      c.on("close", () => resolve(true));
      c.on("error", () => {});
    });
    assert.ok(closed, "unhandled connection is closed");
    t.close();
    t.close();
  });

  it("rejects when the port is taken", { timeout: 10_000 }, async () => {
    const a = await bindTransport(runtime, "127.0.0.1", 0);
    open.push(a);
    await assert.rejects(bindTransport(runtime, "127.0.0.1", a.port));
  });
});
