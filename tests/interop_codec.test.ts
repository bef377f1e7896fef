/**
 * LZW and gossip msgpack against the real Go agent: a hand-made, compressed
 * push/pull sent to /usr/bin/serf's memberlist TCP port, and its compressed
 * reply decoded here.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { createSocket } from "node:dgram";
import { DecodeError, Decoder, Encoder } from "../lib/codec/msgpack.ts";
import { array, asMap, bool, bytes, int, str, uint } from "../lib/codec/fields.ts";
import { lzwCompress, lzwDecompress } from "../lib/codec/lzw.ts";

const SERF = process.env.SERF_BIN ?? "/usr/bin/serf";
const HAVE_SERF = existsSync(SERF);
const HOST = "127.0.0.1";
/** This file's share of the codec/security port range 20000-20999. */
const PORT_MIN = 20100, PORT_MAX = 20899;

const MSG_PUSH_PULL = 6, MSG_COMPRESS = 9, MSG_ERR = 13;
const VSN = Uint8Array.of(1, 5, 2, 2, 5, 5);

async function tcpFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

async function udpFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const sock = createSocket("udp4");
    sock.once("error", () => {
      try {
        sock.close();
      } catch { /* already closed */ }
      resolve(false);
    });
    sock.bind(port, HOST, () => sock.close(() => resolve(true)));
  });
}

/** Three consecutive ports (gossip TCP+UDP, RPC, fake node) that are free now. */
async function pickPorts(): Promise<number> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const base = PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN - 3));
    if (await tcpFree(base) && await udpFree(base) && await tcpFree(base + 1) && await tcpFree(base + 2)) return base;
  }
  throw new Error("no free ports in range");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves once `port` accepts TCP connections, polling until `deadline`. */
async function waitForPort(port: number, timeoutMs: number, agent: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (agent.exitCode !== null) throw new Error(`serf agent exited early with code ${agent.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = createConnection({ host: HOST, port });
      c.once("connect", () => {
        c.destroy();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

/** Sends `data` on a fresh connection and collects everything until the peer closes. */
function exchange(port: number, data: Uint8Array, timeoutMs = 5000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const c = createConnection({ host: HOST, port });
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error("timed out waiting for the agent's reply"));
    }, timeoutMs);
    c.on("connect", () => c.write(data));
    c.on("data", (d: Uint8Array) => chunks.push(new Uint8Array(d)));
    c.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on("close", () => {
      clearTimeout(timer);
      const out = new Uint8Array(chunks.reduce((n, b) => n + b.length, 0));
      let at = 0;
      for (const b of chunks) {
        out.set(b, at);
        at += b.length;
      }
      resolve(out);
    });
  });
}

/** `[9]{Algo: 0, Buf: lzw(inner)}` as memberlist sends streams. */
function compressed(lzw: Uint8Array): Uint8Array {
  return new Encoder("gossip").raw([MSG_COMPRESS]).write({ Algo: 0, Buf: lzw }).bytes().slice();
}

/** Unwraps a `compress` stream message and returns the decompressed inner message. */
function uncompress(reply: Uint8Array): Uint8Array {
  assert.ok(reply.length > 0, "empty reply");
  assert.equal(reply[0], MSG_COMPRESS, `expected a compress message, got type ${reply[0]}`);
  const c = asMap(new Decoder(reply, "gossip", 1).read(), "compress");
  assert.equal(uint(c, "Algo", 8), 0);
  return lzwDecompress(bytes(c, "Buf"));
}

/** `[6]` + header + one alive node state per name, no user state. */
function pushPull(fakePort: number, names = ["fake"]): Uint8Array {
  const e = new Encoder("gossip").raw([MSG_PUSH_PULL]).write({ Join: false, Nodes: names.length, UserStateLen: 0 });
  for (const name of names) {
    e.write({
      Name: name,
      Addr: Uint8Array.of(127, 0, 0, 1),
      Port: fakePort,
      Meta: Uint8Array.of(0xff, 0x80),
      Incarnation: 1,
      State: 0,
      Vsn: VSN,
    });
  }
  return e.bytes().slice();
}

/** Reads the node names of a decompressed push/pull. */
function nodeNames(inner: Uint8Array): string[] {
  assert.equal(inner[0], MSG_PUSH_PULL);
  const d = new Decoder(inner, "gossip", 1);
  const n = int(asMap(d.read()), "Nodes");
  return Array.from({ length: n }, () => str(asMap(d.read()), "Name"));
}

describe("interop with /usr/bin/serf: LZW-compressed push/pull", { timeout: 30_000 }, () => {
  if (!HAVE_SERF) {
    if (process.env.CI === "true") {
      it("requires the serf binary in CI", () => assert.fail(`${SERF} is missing`));
    } else {
      it.skip(`${SERF} is not installed`, () => {});
    }
    return;
  }

  let agent: ChildProcess | undefined;
  let port = 0, fakePort = 0;
  let log = "";

  before(async () => {
    const base = await pickPorts();
    port = base;
    fakePort = base + 2;
    agent = spawn(SERF, [
      "agent",
      "-node=real",
      `-bind=${HOST}:${port}`,
      `-rpc-addr=${HOST}:${base + 1}`,
      "-log-level=debug",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    agent.stdout?.on("data", (d: Uint8Array) => (log += new TextDecoder().decode(d)));
    agent.stderr?.on("data", (d: Uint8Array) => (log += new TextDecoder().decode(d)));
    await waitForPort(port, 10_000, agent);
  });

  after(async () => {
    if (!agent || agent.exitCode !== null) return;
    const exited = new Promise<void>((r) => agent!.once("exit", () => r()));
    agent.kill("SIGKILL");
    await Promise.race([exited, sleep(3000)]);
  });

  it("accepts our compressed push/pull and answers with a compressed one listing node real", async () => {
    const reply = await exchange(port, compressed(lzwCompress(pushPull(fakePort))));
    const inner = uncompress(reply);
    assert.equal(inner[0], MSG_PUSH_PULL, `inner type ${inner[0]}; agent log:\n${log}`);

    const d = new Decoder(inner, "gossip", 1);
    const header = asMap(d.read(), "pushPullHeader");
    assert.equal(bool(header, "Join"), false);
    const n = int(header, "Nodes");
    assert.ok(n >= 1);
    const nodes = Array.from({ length: n }, () => asMap(d.read(), "pushNodeState"));
    const real = nodes.find((s) => str(s, "Name") === "real");
    assert.ok(real, `nodes: ${nodes.map((s) => str(s, "Name")).join(", ")}`);
    assert.deepEqual(bytes(real, "Addr"), Uint8Array.of(127, 0, 0, 1));
    assert.equal(uint(real, "Port", 16), port);
    assert.equal(int(real, "State"), 0);
    assert.deepEqual(bytes(real, "Vsn"), VSN);
    assert.equal(bytes(real, "Meta")[0], 0xff, "serf tags start with the magic byte 255");

    // Serf's user state follows: exactly UserStateLen bytes, a messagePushPull (type 2).
    const userLen = int(header, "UserStateLen");
    assert.equal(inner.length - d.offset, userLen);
    assert.equal(inner[d.offset], 2);
    const user = asMap(new Decoder(inner, "gossip", d.offset + 1).read());
    assert.ok(int(user, "LTime") >= 1);
    assert.ok("real" in asMap(user.StatusLTimes, "StatusLTimes"));
    assert.equal(array(user, "Events").length, 512);
  });

  it("merged our node: the agent logs the fake member joining", async () => {
    const deadline = Date.now() + 5000;
    while (!/EventMemberJoin: fake 127\.0\.0\.1/.test(log) && Date.now() < deadline) await sleep(50);
    assert.match(log, /EventMemberJoin: fake 127\.0\.0\.1/);
  });

  it("rejects a truncated LZW stream with Go's 'unexpected EOF', which we raise too", async () => {
    const lzw = lzwCompress(pushPull(fakePort));
    const cut = lzw.subarray(0, lzw.length - 3);
    assert.throws(() => lzwDecompress(cut), { message: "unexpected EOF" });
    const reply = await exchange(port, compressed(cut));
    const inner = uncompress(reply);
    assert.equal(inner[0], MSG_ERR);
    const err = asMap(new Decoder(inner, "gossip", 1).read(), "errResp");
    assert.equal(str(err, "Error"), "unexpected EOF");
  });

  it("large streams crossing the LZW dictionary reset decode on both sides", async () => {
    // 200 nodes with high-entropy names: over 8 KB of LZW, i.e. well over 4095 codes.
    let x = 7;
    const hexName = () =>
      "big-" +
      Array.from({ length: 64 }, () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 28).toString(16)).join("");
    const names = Array.from({ length: 200 }, hexName);
    const push = pushPull(fakePort, names);
    const lzw = lzwCompress(push);
    assert.ok(lzw.length > 8_000, `${push.length} → ${lzw.length}`);
    // Go must decode our stream (else it would answer with an err message) ...
    assert.deepEqual(nodeNames(uncompress(await exchange(port, compressed(lzw)))).includes("real"), true);
    // ... and the next reply, now listing our 200 nodes, is a long Go LZW stream we must decode.
    const again = await exchange(port, compressed(lzwCompress(pushPull(fakePort))));
    const c = asMap(new Decoder(again, "gossip", 1).read());
    assert.ok(bytes(c, "Buf").length > 8_000, `reply LZW is ${bytes(c, "Buf").length} bytes`);
    const listed = new Set(nodeNames(uncompress(again)));
    for (const name of names) assert.ok(listed.has(name), `missing ${name}`);
  });

  it("our reply parser needs the whole message (sanity check of truncation handling)", async () => {
    const reply = await exchange(port, compressed(lzwCompress(pushPull(fakePort))));
    assert.throws(
      () => new Decoder(reply.subarray(0, reply.length - 1), "gossip", 1).read(),
      (e: unknown) => e instanceof DecodeError && e.truncated,
    );
  });
});
