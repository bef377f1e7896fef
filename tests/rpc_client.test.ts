/**
 * RpcClient against REAL agents (/usr/bin/serf): two agents on loopback that
 * our client joins, tags, queries, streams, monitors and makes leave, plus a
 * third agent with rpc_auth. Ports: six consecutive free ones in 23100-23499.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type QueryRecord, RpcClient, RpcError, type StreamHandle } from "../lib/rpc/client.ts";

const SERF = "/usr/bin/serf";
const HAVE_SERF = existsSync(SERF);
const skip = HAVE_SERF || process.env.CI === "true" ? false : "/usr/bin/serf is not installed";

/** Agent ports, picked at random inside our range 23000-23499 so concurrent runs do not collide. */
let REAL = { bind: 0, rpc: 0 };
let SECOND = { bind: 0, rpc: 0 };
let AUTHD = { bind: 0, rpc: 0 };

const te = new TextEncoder();
const td = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => T | Promise<T>, ms: number, what: string): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ host: "127.0.0.1", port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket("udp4");
    sock.once("error", () => {
      sock.close();
      resolve(false);
    });
    sock.bind(port, "127.0.0.1", () => sock.close(() => resolve(true)));
  });
}

/** `n` consecutive ports in 23100-23499 free for TCP and UDP. */
async function pickPorts(n: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 23100 + Math.floor(Math.random() * (400 - n));
    const ports = Array.from({ length: n }, (_, i) => base + i);
    let free = true;
    for (const p of ports) free &&= (await tcpFree(p)) && (await udpFree(p));
    if (free) return ports;
  }
  throw new Error("no free ports in 23100-23499");
}

interface Agent {
  proc: ChildProcess;
  exit: Promise<number | null>;
  output: () => string;
}

function startAgent(name: string, ports: { bind: number; rpc: number }, extra: string[] = []): Agent {
  assert.ok(HAVE_SERF, `${SERF} is required (CI=true)`);
  const proc = spawn(SERF, [
    "agent",
    `-node=${name}`,
    `-bind=127.0.0.1:${ports.bind}`,
    `-rpc-addr=127.0.0.1:${ports.rpc}`,
    "-profile=local",
    "-log-level=debug",
    ...extra,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
  return { proc, exit, output: () => out };
}

async function connectWhenUp(rpc: number, authKey?: string): Promise<RpcClient> {
  return await until(
    async () => {
      try {
        return await RpcClient.connect(`127.0.0.1:${rpc}`, { authKey });
      } catch {
        return null;
      }
    },
    8000,
    `agent RPC on ${rpc}`,
  );
}

describe("RpcClient against real agents", { skip }, () => {
  const agents: Agent[] = [];
  const clients: RpcClient[] = [];
  let real: RpcClient;
  let second: RpcClient;
  let dir: string;

  const connect = async (rpc: number, authKey?: string) => {
    const c = await connectWhenUp(rpc, authKey);
    clients.push(c);
    return c;
  };

  before(async () => {
    const p = await pickPorts(6);
    REAL = { bind: p[0], rpc: p[1] };
    SECOND = { bind: p[2], rpc: p[3] };
    AUTHD = { bind: p[4], rpc: p[5] };
    dir = mkdtempSync(join(tmpdir(), "serf-rpc-"));
    writeFileSync(join(dir, "auth.json"), JSON.stringify({ rpc_auth: "secret" }));
    agents.push(startAgent("real", REAL, ["-tag", "role=web"]));
    agents.push(startAgent("second", SECOND));
    agents.push(startAgent("authd", AUTHD, [`-config-file=${join(dir, "auth.json")}`]));
    real = await connect(REAL.rpc);
    second = await connect(SECOND.rpc);
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const a of agents) if (a.proc.exitCode === null) a.proc.kill("SIGKILL");
    await Promise.all(agents.map((a) => a.exit));
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists the agent itself with the real field values", async () => {
    const members = await real.members();
    assert.deepEqual(members.map((m) => `${m.name}@${m.port}`), [`real@${REAL.bind}`]);
    assert.deepEqual(members[0], {
      name: "real",
      addr: Uint8Array.from([127, 0, 0, 1]),
      port: REAL.bind,
      tags: { role: "web" },
      status: "alive",
      protocolMin: 1,
      protocolMax: 5,
      protocolCur: 2,
      delegateMin: 2,
      delegateMax: 5,
      delegateCur: 5,
    });
  });

  it("joins the second agent and sees the member-join on a stream", async () => {
    const events: Array<Record<string, unknown>> = [];
    const h = await real.stream("member-join", (r) => events.push(r));
    assert.equal(await real.join([`127.0.0.1:${SECOND.bind}`], false), 1);
    await until(async () => (await real.membersFiltered({}, "alive", "")).length === 2, 5000, "2 alive members");
    assert.deepEqual((await real.membersFiltered({ role: "w.b" }, "", "")).map((m) => m.name), ["real"]);
    assert.deepEqual((await real.membersFiltered({}, "", "sec.*")).map((m) => m.name), ["second"]);
    await until(
      () => events.some((e) => (e.Members as Array<{ Name: string }>).some((m) => m.Name === "second")),
      8000,
      "member-join record",
    );
    const rec = events.find((e) => (e.Members as Array<{ Name: string }>).some((m) => m.Name === "second"))!;
    assert.equal(rec.Event, "member-join");
    const m = (rec.Members as Array<Record<string, unknown>>).find((x) => x.Name === "second")!;
    assert.deepEqual(m.Addr, Uint8Array.from([127, 0, 0, 1]));
    assert.equal(m.Port, SECOND.bind);
    await h.stop();
    await assert.rejects(real.join(["127.0.0.1:1"], false), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.match(e.message, /Failed to join 127\.0\.0\.1/);
      assert.equal(e.num, 0);
      return true;
    });
  });

  it("updates tags and reports them in members and stats", async () => {
    await real.updateTags({ zone: "z1" }, ["role"]);
    const me = (await real.membersFiltered({}, "", "real"))[0];
    assert.deepEqual(me.tags, { zone: "z1" });
    const stats = await real.stats();
    assert.equal(stats.agent.name, "real");
    assert.deepEqual(stats.tags, { zone: "z1" });
    assert.equal(stats.serf.encrypted, "false");
    assert.equal(typeof stats.runtime.version, "string");
    await until(async () => (await second.membersFiltered({ zone: "z1" }, "", "")).length === 1, 5000, "tags gossiped");
  });

  it("reads cached coordinates", async () => {
    const c = await real.getCoordinate("real");
    assert.ok(c);
    assert.equal(c.vec.length, 8);
    assert.ok(c.error > 0);
    assert.equal(await real.getCoordinate("no-such-node"), null);
  });

  it("sends user events, delivered to the other agent's stream", async () => {
    const got: Array<Record<string, unknown>> = [];
    const h = await second.stream("user:ev1", (r) => got.push(r));
    await real.userEvent("ev1", te.encode("payload-1"), false);
    await real.userEvent("other", null, true);
    await until(() => got.length >= 1, 5000, "user event on the second agent");
    assert.equal(got[0].Event, "user");
    assert.equal(got[0].Name, "ev1");
    assert.deepEqual(got[0].Payload, te.encode("payload-1"));
    assert.equal(got[0].Coalesce, false);
    assert.equal(typeof got[0].LTime, "number");
    await h.stop();
    await assert.rejects(real.userEvent("big", new Uint8Array(600), false), {
      name: "RpcError",
      message: "user event exceeds configured limit of 512 bytes before encoding",
    });
  });

  it("queries: the second agent answers through stream + respond", async () => {
    const responder = await connect(SECOND.rpc);
    const h: StreamHandle = await responder.stream("query", (r) => {
      if (r.Name === "q1") {
        void responder.respond(r.ID as number, te.encode(`pong:${td.decode(r.Payload as Uint8Array)}`));
      }
    });
    const recs: QueryRecord[] = [];
    await real.query({
      name: "q1",
      payload: te.encode("ping"),
      filterNodes: [],
      filterTags: {},
      requestAck: true,
      relayFactor: 0,
      timeoutMs: 1500,
    }, (r) => recs.push(r));
    await h.stop();
    const acks = recs.filter((r) => r.type === "ack").map((r) => r.from).sort();
    assert.deepEqual(acks, ["real", "second"]);
    const resp = recs.filter((r) => r.type === "response");
    assert.deepEqual(resp, [{ type: "response", from: "second", payload: te.encode("pong:ping") }]);
    assert.deepEqual(recs.at(-1), { type: "done", from: "", payload: null });
    await assert.rejects(
      real.query({
        name: "_serf_nope",
        payload: null,
        filterNodes: [],
        filterTags: {},
        requestAck: false,
        relayFactor: 0,
        timeoutMs: 0,
      }, () => {}),
      { name: "RpcError", message: "Queries cannot contain the '_serf_' prefix" },
    );
    await assert.rejects(responder.respond(12345, te.encode("x")), { message: "No pending queries matching ID" });
  });

  it("monitors logs: replayed buffer, then live lines", async () => {
    const lines: string[] = [];
    const h = await real.monitor("debug", (l) => lines.push(l));
    await until(
      () => lines.some((l) => l.includes("[INFO] serf: EventMemberJoin: real 127.0.0.1")),
      3000,
      "buffered join line",
    );
    await real.userEvent("mon-ev", null, false);
    await until(() => lines.some((l) => l.includes("Received event: user-event: mon-ev")), 5000, "live line");
    assert.match(lines[0], /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[[A-Z]+\] /);
    await assert.rejects(real.monitor("info", () => {}), { message: "Monitor already exists" });
    await h.stop();
    const errOnly: string[] = [];
    const h2 = await real.monitor("err", (l) => errOnly.push(l));
    await sleep(200);
    assert.ok(errOnly.every((l) => l.includes("[ERR]")), errOnly.join("\n"));
    await h2.stop();
    await assert.rejects(real.monitor("loud", () => {}), { message: "Unknown log level: LOUD" });
  });

  it("reports key operations' per-node messages on failure", async () => {
    const err = await real.listKeys().catch((e) => e);
    assert.ok(err instanceof RpcError);
    assert.equal(err.message, "2/2 nodes reported failure");
    assert.deepEqual(err.keyResponse?.messages, {
      real: "Keyring is empty (encryption not enabled)",
      second: "Keyring is empty (encryption not enabled)",
    });
    assert.equal(err.keyResponse?.numNodes, 2);
  });

  it("leave shuts the second agent down; force-leave prunes it", async () => {
    const closed = new Promise<void>((resolve) => second.onClose(resolve));
    await second.leave();
    await closed;
    assert.equal(await agents[1].exit, 0);
    await until(async () => (await real.membersFiltered({}, "left", "second")).length === 1, 5000, "second left");
    await real.forceLeave("no-such-node");
    await real.forceLeave("second", true);
    await until(async () => (await real.members()).length === 1, 5000, "second pruned");
  });

  it("authenticates against an agent with rpc_auth", async () => {
    const ok = await connect(AUTHD.rpc, "secret");
    assert.equal((await ok.members())[0].name, "authd");
    await assert.rejects(RpcClient.connect(`127.0.0.1:${AUTHD.rpc}`, { authKey: "wrong" }), {
      name: "RpcError",
      message: "Invalid authentication token",
    });
    const none = await connect(AUTHD.rpc);
    await assert.rejects(none.members(), { message: "Authentication required" });
    // The agent leaves this body unread and answers it again as a header; we stay in sync.
    await assert.rejects(none.forceLeave("x"), { message: "Authentication required" });
    await assert.rejects(none.stats(), { message: "Authentication required" });
    await assert.rejects(none.getCoordinate("authd"), { message: "Authentication required" });
  });

  it("fails to dial a closed port with Go's text", async () => {
    await assert.rejects(RpcClient.connect("127.0.0.1:1"), {
      message: "dial tcp 127.0.0.1:1: connect: connection refused",
    });
  });
});
