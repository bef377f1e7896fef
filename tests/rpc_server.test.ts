/**
 * RpcServer against a fake in-memory backend, driven by our RpcClient, by
 * raw sockets (protocol edge cases) and by the real `serf` CLI.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { Socket } from "node:net";
import { decode as mpDecode } from "@msgpack/msgpack";
import { Encoder } from "../lib/codec/msgpack.ts";
import type { LogLevel } from "../lib/core/log.ts";
import { currentRuntime } from "../lib/runtime/detect.ts";
import type { KeyOp, KeyResult, QuerySink, RpcBackend, RpcEvent } from "../lib/rpc/backend.ts";
import { type QueryRecord, RpcClient, RpcError } from "../lib/rpc/client.ts";
import { ValueReader } from "../lib/rpc/reader.ts";
import { RpcServer } from "../lib/rpc/server.ts";
import type { Coordinate, QueryParams, RpcMember } from "../lib/rpc/types.ts";

const SERF = "/usr/bin/serf";
const HAVE_SERF = existsSync(SERF);
const REQUIRE_SERF = process.env.CI === "true";
/** Real-CLI tests skip locally without the binary, but fail in CI. */
const cliSkip = HAVE_SERF || REQUIRE_SERF ? false : "/usr/bin/serf is not installed";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const te = new TextEncoder();

async function until(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function ip4(s: string): Uint8Array {
  return Uint8Array.from(s.split(".").map(Number));
}

function member(name: string, addr: Uint8Array, port: number, tags: Record<string, string>, status: string, dcur = 5) {
  return {
    name,
    addr,
    port,
    tags,
    status,
    protocolMin: 1,
    protocolMax: 5,
    protocolCur: 2,
    delegateMin: 2,
    delegateMax: 5,
    delegateCur: dcur,
  } satisfies RpcMember;
}

const V6 = Uint8Array.from([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
const MEMBERS: RpcMember[] = [
  member("a", ip4("127.0.0.1"), 7946, { role: "web" }, "alive"),
  member("bravo", ip4("127.0.0.1"), 7947, { role: "db" }, "alive"),
  member("c", ip4("10.0.0.3"), 7946, {}, "failed", 4),
  member("v6", V6, 7960, { role: "web-2" }, "left"),
];

const COORDS: Record<string, Coordinate> = {
  a: { vec: [0.001, 0, 0, 0, 0, 0, 0, 0], error: 1.5, adjustment: 0, height: 0.0001 },
  bravo: { vec: [0.002, 0, 0, 0, 0, 0, 0, 0], error: 1.5, adjustment: 0, height: 0.0001 },
};

const LOG_BUFFER = [
  "2026/11/26 23:29:50 [DEBUG] memberlist: hidden debug line",
  "2026/11/26 23:29:51 [INFO] agent: first info line",
  "2026/11/26 23:29:52 [WARN] agent: a warning",
  "2026/11/26 23:29:53 [ERR] agent: an error",
];

/** An in-memory agent recording every call. */
class FakeBackend implements RpcBackend {
  calls: Array<[string, ...unknown[]]> = [];
  tags: Record<string, string> = { role: "web", dc: "x1" };
  eventSubs = new Set<(e: RpcEvent) => void>();
  logSubs = new Set<(l: string) => void>();
  responses: Array<[number, Uint8Array | null]> = [];
  queryPlan = (_p: QueryParams, sink: QuerySink) => {
    setTimeout(() => sink.ack("a"), 20);
    setTimeout(() => sink.ack("bravo"), 60);
    setTimeout(() => sink.response("a", te.encode("resp-from-a\n")), 100);
    setTimeout(() => sink.response("bravo", te.encode("resp-from-b")), 140);
    setTimeout(() => sink.done(), 200);
  };

  members() {
    return MEMBERS;
  }
  join(addrs: string[], replay: boolean) {
    this.calls.push(["join", addrs, replay]);
    const bad = addrs.filter((a) => a.startsWith("bad"));
    const num = addrs.length - bad.length;
    if (bad.length) return Promise.resolve({ num, error: `1 error occurred:\n\t* Failed to join ${bad[0]}: no` });
    return Promise.resolve({ num });
  }
  async leave() {
    this.calls.push(["leave"]);
    await sleep(20);
  }
  shutdown() {
    this.calls.push(["shutdown"]);
  }
  forceLeave(node: string, prune: boolean) {
    this.calls.push(["forceLeave", node, prune]);
    if (node === "err-node") throw new Error("no such member: err-node");
  }
  localTags() {
    return { ...this.tags };
  }
  setTags(tags: Record<string, string>) {
    this.calls.push(["setTags", tags]);
    this.tags = tags;
  }
  stats() {
    return {
      agent: { name: "fake" },
      serf: { members: "4", failed: "1", encrypted: "false" },
      tags: { ...this.tags },
    };
  }
  getCoordinate(node: string) {
    return COORDS[node] ?? null;
  }
  userEvent(name: string, payload: Uint8Array | null, coalesce: boolean) {
    this.calls.push(["userEvent", name, payload, coalesce]);
    if (name === "toolong") throw new Error("user event exceeds configured limit of 512 bytes before encoding");
  }
  query(params: QueryParams, sink: QuerySink) {
    this.calls.push(["query", params]);
    if (params.name.startsWith("_serf_")) throw new Error("Queries cannot contain the '_serf_' prefix");
    this.queryPlan(params, sink);
  }
  keyOperation(op: KeyOp, key: string): KeyResult {
    this.calls.push(["key", op, key]);
    if (op === "list") {
      return { messages: {}, keys: { "a2V5MTIzNDU2Nzg5MDEyMw==": 4 }, numNodes: 4, numErr: 0, numResp: 4 };
    }
    if (op === "install") return { messages: {}, numNodes: 4, numErr: 0, numResp: 4 };
    return {
      messages: { bravo: "No keyring to modify (encryption not enabled)" },
      numNodes: 4,
      numErr: 1,
      numResp: 4,
      error: "1/4 nodes reported failure",
    };
  }
  subscribeEvents(handler: (e: RpcEvent) => void) {
    this.eventSubs.add(handler);
    return () => this.eventSubs.delete(handler);
  }
  subscribeLogs(handler: (l: string) => void) {
    for (const l of LOG_BUFFER) handler(l);
    this.logSubs.add(handler);
    return () => this.logSubs.delete(handler);
  }
  emit(e: RpcEvent) {
    for (const h of this.eventSubs) h(e);
  }
  log(line: string) {
    for (const h of this.logSubs) h(line);
  }
}

/** Decoded maps have a null prototype; make them plain for deepEqual. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

/** A raw RPC connection speaking values, for protocol edge cases. */
class Raw {
  values: unknown[] = [];
  closed = false;
  #reader = new ValueReader();
  private constructor(readonly sock: Socket) {
    sock.on("data", (c: Uint8Array) => {
      this.#reader.push(c);
      for (let v = this.#reader.next(); v; v = this.#reader.next()) this.values.push(plain(v.value));
    });
    sock.on("error", () => {});
    sock.on("close", () => (this.closed = true));
  }
  static connect(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = new Socket();
      s.once("error", reject);
      s.connect(port, "127.0.0.1", () => resolve(new Raw(s)));
    });
  }
  send(...values: unknown[]): void {
    const e = new Encoder("rpc");
    for (const v of values) e.write(v);
    this.sock.write(e.bytes().slice());
  }
  sendBytes(b: Uint8Array): void {
    this.sock.write(b);
  }
  async wait(n: number, ms = 3000): Promise<unknown[]> {
    await until(() => this.values.length >= n, ms, `${n} values (have ${JSON.stringify(this.values)})`);
    return this.values;
  }
  async waitClose(ms = 3000): Promise<void> {
    await until(() => this.closed, ms, "close");
  }
  close(): void {
    this.sock.destroy();
  }
}

const hdr = (seq: number, error = "") => ({ Error: error, Seq: seq });

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI; `until` lets a long-running command be interrupted once stdout satisfies it. */
function serf(args: string[], opts: { until?: (out: string) => boolean; signal?: NodeJS.Signals } = {}): Promise<Run> {
  assert.ok(HAVE_SERF, `${SERF} is required (CI=true)`);
  return new Promise((resolve, reject) => {
    const child = spawn(SERF, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let interrupted = false;
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.stdout.on("data", (d) => {
      stdout += d;
      // process.kill, not child.kill: Deno's polyfill then reports the signal instead of the real exit code.
      if (!interrupted && opts.until?.(stdout)) {
        interrupted = true;
        process.kill(child.pid!, opts.signal ?? "SIGINT");
      }
    });
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe("RpcServer", () => {
  const backend = new FakeBackend();
  const authBackend = new FakeBackend();
  const logs: Array<[LogLevel, string]> = [];
  let server: RpcServer;
  let authServer: RpcServer;
  let addr: string;
  let authAddr: string;
  const clients: RpcClient[] = [];
  const raws: Raw[] = [];
  const connect = async (a = addr, authKey?: string) => {
    const c = await RpcClient.connect(a, { authKey });
    clients.push(c);
    return c;
  };
  const raw = async (port = server.port) => {
    const r = await Raw.connect(port);
    raws.push(r);
    return r;
  };
  const handshaken = async () => {
    const r = await raw();
    r.send({ Command: "handshake", Seq: 1 }, { Version: 1 });
    await r.wait(1);
    return r;
  };

  before(async () => {
    const runtime = currentRuntime();
    server = await RpcServer.listen({
      runtime,
      backend,
      port: 0,
      logger: (l, m) => logs.push([l, m]),
      maxValueBytes: 64 * 1024,
    });
    authServer = await RpcServer.listen({ runtime, backend: authBackend, port: 0, authKey: "secret" });
    addr = server.addr;
    authAddr = authServer.addr;
  });

  after(() => {
    for (const c of clients) c.close();
    for (const r of raws) r.close();
    server.close();
    authServer.close();
  });

  describe("with our client", () => {
    it("lists members with every field", async () => {
      const c = await connect();
      assert.deepEqual(await c.members(), MEMBERS);
    });

    it("filters members with anchored RE2 expressions", async () => {
      const c = await connect();
      const names = async (tags: Record<string, string>, status: string, name: string) =>
        (await c.membersFiltered(tags, status, name)).map((m) => m.name);
      assert.deepEqual(await names({}, "", ""), ["a", "bravo", "c", "v6"]);
      assert.deepEqual(await names({ role: "web" }, "", ""), ["a"]);
      assert.deepEqual(await names({ role: "web.*" }, "", ""), ["a", "v6"]);
      assert.deepEqual(await names({ role: "" }, "", ""), ["c"]); // a missing tag is ""
      assert.deepEqual(await names({}, "alive", ""), ["a", "bravo"]);
      assert.deepEqual(await names({}, "alive|failed", ""), ["a", "bravo", "c"]); // ^alive|failed$
      assert.deepEqual(await names({}, "", "(?i)BRAVO"), ["bravo"]);
      assert.deepEqual(await names({}, "", "[[:alpha:]]"), ["a", "c"]);
      assert.deepEqual(await names({ role: "web.*" }, "left", "v\\d"), ["v6"]);
    });

    it("joins, reporting the count and errors with the count", async () => {
      const c = await connect();
      assert.equal(await c.join(["127.0.0.1:7946", "x/10.0.0.1"], true), 2);
      assert.deepEqual(backend.calls.at(-1), ["join", ["127.0.0.1:7946", "x/10.0.0.1"], true]);
      const err = await c.join(["ok", "bad-host"], false).catch((e) => e);
      assert.ok(err instanceof RpcError);
      assert.equal(err.message, "1 error occurred:\n\t* Failed to join bad-host: no");
      assert.equal(err.num, 1);
    });

    it("force-leaves, with and without prune, passing errors verbatim", async () => {
      const c = await connect();
      await c.forceLeave("c");
      await c.forceLeave("v6", true);
      assert.deepEqual(backend.calls.slice(-2), [["forceLeave", "c", false], ["forceLeave", "v6", true]]);
      await assert.rejects(c.forceLeave("err-node"), { name: "RpcError", message: "no such member: err-node" });
    });

    it("updates tags: current minus deleted, plus set", async () => {
      const c = await connect();
      backend.tags = { role: "web", dc: "x1", old: "1" };
      await c.updateTags({ role: "db", new: "2" }, ["old", "nope"]);
      assert.deepEqual(backend.tags, { role: "db", dc: "x1", new: "2" });
    });

    it("returns stats and coordinates", async () => {
      const c = await connect();
      assert.deepEqual(await c.stats(), backend.stats());
      assert.deepEqual(await c.getCoordinate("a"), COORDS.a);
      assert.equal(await c.getCoordinate("zz"), null);
    });

    it("sends user events and passes size errors verbatim", async () => {
      const c = await connect();
      await c.userEvent("deploy", te.encode("v1"), true);
      await c.userEvent("nopayload", null, false);
      assert.deepEqual(backend.calls.slice(-2), [
        ["userEvent", "deploy", te.encode("v1"), true],
        ["userEvent", "nopayload", null, false],
      ]);
      await assert.rejects(c.userEvent("toolong", null, true), {
        message: "user event exceeds configured limit of 512 bytes before encoding",
      });
    });

    it("streams query acks, responses and done, then resolves", async () => {
      const c = await connect();
      const recs: QueryRecord[] = [];
      await c.query({
        name: "ping-q",
        payload: te.encode("hi"),
        filterNodes: ["a", "bravo"],
        filterTags: { role: "w.*" },
        requestAck: true,
        relayFactor: 3,
        timeoutMs: 1500,
      }, (r) => recs.push(r));
      assert.deepEqual(recs, [
        { type: "ack", from: "a", payload: null },
        { type: "ack", from: "bravo", payload: null },
        { type: "response", from: "a", payload: te.encode("resp-from-a\n") },
        { type: "response", from: "bravo", payload: te.encode("resp-from-b") },
        { type: "done", from: "", payload: null },
      ]);
      assert.deepEqual(backend.calls.at(-1), ["query", {
        name: "ping-q",
        payload: te.encode("hi"),
        filterNodes: ["a", "bravo"],
        filterTags: { role: "w.*" },
        requestAck: true,
        relayFactor: 3,
        timeoutMs: 1500,
      }]);
      await assert.rejects(
        c.query({
          ...({} as QueryParams),
          name: "_serf_x",
          payload: null,
          filterNodes: [],
          filterTags: {},
          requestAck: false,
          relayFactor: 0,
          timeoutMs: 0,
        }, () => {}),
        { message: "Queries cannot contain the '_serf_' prefix" },
      );
    });

    it("delivers records a backend reports before query() settles, after the OK header", async () => {
      const c = await connect();
      const saved = backend.queryPlan;
      backend.queryPlan = (_p, sink) => {
        sink.ack("early");
        sink.done();
        sink.ack("late"); // ignored after done
      };
      const recs: string[] = [];
      await c.query({
        name: "q",
        payload: null,
        filterNodes: [],
        filterTags: {},
        requestAck: true,
        relayFactor: 0,
        timeoutMs: 0,
      }, (r) => recs.push(`${r.type}:${r.from}`));
      backend.queryPlan = saved;
      assert.deepEqual(recs, ["ack:early", "done:"]);
    });

    it("streams filtered events; queries get per-connection IDs usable with respond", async () => {
      const c = await connect();
      const got: Array<Record<string, unknown>> = [];
      const h = await c.stream("member-join,user:deploy,query", (r) => got.push(r));
      const responses: Array<Uint8Array | null> = [];
      const q = (name: string, deadline: number): RpcEvent => ({
        type: "query",
        ltime: 9,
        name,
        payload: te.encode("qp"),
        deadline,
        respond: (p) => {
          responses.push(p);
          if (responses.length > 1) throw new Error("response already sent");
        },
      });
      const now = currentRuntime().now();
      backend.emit({ type: "member", event: "member-join", members: [MEMBERS[0]] });
      backend.emit({ type: "member", event: "member-leave", members: [MEMBERS[1]] }); // filtered out
      backend.emit({ type: "user", ltime: 7, name: "other", payload: null, coalesce: true }); // filtered out
      backend.emit({ type: "user", ltime: 8, name: "deploy", payload: te.encode("v2"), coalesce: false });
      backend.emit(q("ping", now + 5_000));
      backend.emit(q("expired", now - 1));
      await until(() => got.length === 4, 3000, "4 stream records");
      assert.deepEqual(got[0], {
        Event: "member-join",
        Members: [{
          Name: "a",
          Addr: ip4("127.0.0.1"),
          Port: 7946,
          Tags: { role: "web" },
          Status: "alive",
          ProtocolMin: 1,
          ProtocolMax: 5,
          ProtocolCur: 2,
          DelegateMin: 2,
          DelegateMax: 5,
          DelegateCur: 5,
        }],
      });
      assert.deepEqual(got[1], { Event: "user", LTime: 8, Name: "deploy", Payload: te.encode("v2"), Coalesce: false });
      assert.deepEqual(got[2], { Event: "query", ID: 1, LTime: 9, Name: "ping", Payload: te.encode("qp") });
      assert.deepEqual(got[3], { Event: "query", ID: 2, LTime: 9, Name: "expired", Payload: te.encode("qp") });
      await c.respond(1, te.encode("pong"));
      assert.deepEqual(responses, [te.encode("pong")]);
      await assert.rejects(c.respond(1, te.encode("again")), { message: "response already sent" });
      await assert.rejects(c.respond(2, te.encode("late")), { message: "No pending queries matching ID" });
      await assert.rejects(c.respond(99, te.encode("x")), { message: "No pending queries matching ID" });
      await h.stop();
      backend.emit({ type: "user", ltime: 10, name: "deploy", payload: null, coalesce: true });
      await sleep(50);
      assert.equal(got.length, 4);
      await assert.rejects(c.stream("bogus-event", () => {}), { message: "Invalid event filter" });
    });

    it("monitors logs: buffer replay filtered by level, then live lines", async () => {
      const c = await connect();
      const lines: string[] = [];
      const h = await c.monitor("warn", (l) => lines.push(l));
      await until(() => lines.length === 2, 3000, "replayed lines");
      backend.log("2026/11/26 23:30:00 [INFO] agent: live info");
      backend.log("2026/11/26 23:30:01 [ERR] agent: live error");
      backend.log("a line without level");
      await until(() => lines.length === 4, 3000, "live lines");
      assert.deepEqual(lines, [
        LOG_BUFFER[2],
        LOG_BUFFER[3],
        "2026/11/26 23:30:01 [ERR] agent: live error",
        "a line without level",
      ]);
      await assert.rejects(c.monitor("debug", () => {}), { message: "Monitor already exists" });
      await h.stop();
      assert.equal(backend.logSubs.size, 0);
      await assert.rejects(c.monitor("nope", () => {}), { message: "Unknown log level: NOPE" });
    });

    it("runs key operations, keeping the body of failed ones", async () => {
      const c = await connect();
      assert.deepEqual(await c.listKeys(), {
        messages: {},
        keys: { "a2V5MTIzNDU2Nzg5MDEyMw==": 4 },
        numNodes: 4,
        numErr: 0,
        numResp: 4,
      });
      assert.equal((await c.installKey("k1")).numResp, 4);
      const err = await c.useKey("k2").catch((e) => e);
      assert.ok(err instanceof RpcError);
      assert.equal(err.message, "1/4 nodes reported failure");
      assert.deepEqual(err.keyResponse?.messages, { bravo: "No keyring to modify (encryption not enabled)" });
      await assert.rejects(c.removeKey("k3"), { message: "1/4 nodes reported failure" });
      assert.deepEqual(backend.calls.slice(-4).map((x) => x.slice(1)), [
        ["list", ""],
        ["install", "k1"],
        ["use", "k2"],
        ["remove", "k3"],
      ]);
    });

    it("authenticates against an rpc_auth server", async () => {
      const c = await connect(authAddr, "secret");
      assert.equal((await c.members()).length, 4);
      await assert.rejects(RpcClient.connect(authAddr, { authKey: "wrong" }), {
        name: "RpcError",
        message: "Invalid authentication token",
      });
      const noAuth = await connect(authAddr);
      await assert.rejects(noAuth.members(), { message: "Authentication required" });
      // The unconsumed body of a body-carrying request does not desynchronise our client.
      await assert.rejects(noAuth.forceLeave("x"), { message: "Authentication required" });
      await assert.rejects(noAuth.stats(), { message: "Authentication required" });
    });

    it("onClose fires once when the agent drops the connection, never after close()", async () => {
      const c = await connect();
      let drops = 0;
      c.onClose(() => drops++);
      // A bad regexp makes the server close without answering (as Go does): pending calls fail.
      await assert.rejects(c.membersFiltered({}, "", "("), { message: "client closed" });
      await until(() => drops === 1, 2000, "onClose");
      await assert.rejects(c.stats(), { message: "client closed" });
      const c2 = await connect();
      let drops2 = 0;
      c2.onClose(() => drops2++);
      const pending = c2.query(
        { name: "q", payload: null, filterNodes: [], filterTags: {}, requestAck: false, relayFactor: 0, timeoutMs: 0 },
        () => {},
      );
      await sleep(20);
      c2.close();
      await pending; // a query resolves when its connection goes away (Go closes its channels)
      await sleep(20);
      assert.equal(drops2, 0);
      assert.equal(drops, 1);
    });

    it("reports connection failures in Go's words", async () => {
      await assert.rejects(RpcClient.connect("127.0.0.1:1"), {
        message: "dial tcp 127.0.0.1:1: connect: connection refused",
      });
      await assert.rejects(RpcClient.connect("127.0.0.1"), {
        message: "dial tcp: address 127.0.0.1: missing port in address",
      });
    });

    it("serves many clients at once", async () => {
      const cs = await Promise.all(Array.from({ length: 20 }, () => connect()));
      const results = await Promise.all(cs.map((c, i) => (i % 2 ? c.members() : c.stats())));
      assert.equal(results.length, 20);
      assert.equal((results[1] as RpcMember[]).length, 4);
    });

    it("leaves: the response follows the leave, then the backend shuts down", async () => {
      const c = await connect();
      const before = backend.calls.length;
      await c.leave();
      assert.deepEqual(backend.calls.slice(before), [["leave"], ["shutdown"]]);
      assert.ok(logs.some(([l, m]) => l === "INFO" && m === "agent.ipc: Graceful leave triggered"));
    });
  });

  describe("protocol edge cases (raw sockets)", () => {
    it("requires a handshake first: answers, then closes", async () => {
      const r = await raw();
      r.send({ Command: "members", Seq: 7 });
      assert.deepEqual(await r.wait(1), [hdr(7, "Handshake required")]);
      await r.waitClose();
      assert.ok(
        logs.some(([l, m]) => l === "ERR" && m === "agent.ipc: Failed to evaluate request: Handshake required"),
      );
    });

    it("rejects other versions and duplicate handshakes, keeping the connection", async () => {
      const r = await raw();
      r.send({ Command: "handshake", Seq: 1 }, { Version: 2 });
      r.send({ Command: "handshake", Seq: 2 }, { Version: 1 });
      r.send({ Command: "handshake", Seq: 3 }, { Version: 1 });
      r.send({ Command: "stats", Seq: 4 });
      const v = await r.wait(5);
      assert.deepEqual(v.slice(0, 4), [
        hdr(1, "Unsupported IPC version"),
        hdr(2),
        hdr(3, "Handshake already performed"),
        hdr(4),
      ]);
      assert.equal(r.closed, false);
    });

    it("writes exact bytes: str8 strings, bin addresses, sorted struct keys", async () => {
      const r = await handshaken();
      r.send({ Command: "members", Seq: 2 });
      await r.wait(3);
      const bytes = new Encoder("rpc").write(r.values[1]).write(r.values[2]).bytes();
      // Header: 82 a5 "Error" a0 a3 "Seq" 02
      assert.deepEqual([...bytes.subarray(0, 13)], [0x82, 0xa5, 69, 114, 114, 111, 114, 0xa0, 0xa3, 83, 101, 113, 2]);
      const body = r.values[2] as { Members: Array<Record<string, unknown>> };
      assert.deepEqual(Object.keys(body.Members[0]), [
        "Addr",
        "DelegateCur",
        "DelegateMax",
        "DelegateMin",
        "Name",
        "Port",
        "ProtocolCur",
        "ProtocolMax",
        "ProtocolMin",
        "Status",
        "Tags",
      ]);
      assert.ok(body.Members[3].Addr instanceof Uint8Array && (body.Members[3].Addr as Uint8Array).length === 16);
      // An independent decoder agrees.
      const viaOracle = mpDecode(bytes.subarray(13)) as { Members: Array<{ Name: string; Port: number }> };
      assert.deepEqual(viaOracle.Members.map((m) => [m.Name, m.Port]), MEMBERS.map((m) => [m.name, m.port]));
    });

    it("echoes any Seq, including uint64 beyond 2^53 and array-encoded headers", async () => {
      const r = await handshaken();
      r.send({ Command: "stats", Seq: 2n ** 63n + 5n });
      r.send(["stats", 42]);
      await r.wait(5);
      assert.deepEqual(r.values[1], hdr(2n ** 63n + 5n as unknown as number));
      assert.deepEqual(r.values[3], hdr(42));
    });

    it("a header missing fields keeps the previous header's values (Go reuses the struct)", async () => {
      const r = await handshaken();
      r.send({ Command: "get-coordinate", Seq: 2 }, { Node: "zz" });
      r.send({ Seq: 6 }, { Node: "a" }); // Command kept: get-coordinate
      r.send({ Node: "x" }, { Node: "zz" }); // Command and Seq kept
      const v = await r.wait(7);
      const none = { Coord: { Adjustment: 0, Error: 0, Height: 0, Vec: null }, Ok: false };
      assert.deepEqual(v.slice(1), [
        hdr(2),
        none,
        hdr(6),
        { Coord: { Adjustment: 0, Error: 1.5, Height: 0.0001, Vec: COORDS.a.vec }, Ok: true },
        hdr(6),
        none,
      ]);
    });

    it("answers an unknown command, then closes", async () => {
      const r = await handshaken();
      r.send({ Command: "bogus", Seq: 9 });
      assert.deepEqual((await r.wait(2))[1], hdr(9, "Unsupported command"));
      await r.waitClose();
      assert.ok(logs.some(([, m]) => m === "agent.ipc: Failed to evaluate request: command 'bogus' not recognized"));
    });

    it("closes without a response on a bad members-filtered regexp", async () => {
      const r = await handshaken();
      r.send({ Command: "members-filtered", Seq: 2 }, { Name: "(", Status: "", Tags: {} });
      await r.waitClose();
      assert.equal(r.values.length, 1);
      assert.ok(
        logs.some(([, m]) =>
          m ===
            "agent.ipc: Failed to evaluate request: Failed to compile regex: error parsing regexp: missing closing ): `^($`"
        ),
      );
    });

    it("auth: wrong token keeps the connection; unauthenticated bodies are not consumed (Go quirk)", async () => {
      const r = await raw(authServer.port);
      r.send({ Command: "handshake", Seq: 1 }, { Version: 1 });
      r.send({ Command: "stream", Seq: 2 }, { Type: "*" });
      r.send({ Command: "auth", Seq: 3 }, { AuthKey: "bad" });
      r.send({ Command: "auth", Seq: 4 }, { AuthKey: "secret" });
      r.send({ Command: "stats", Seq: 5 });
      await r.wait(7);
      assert.deepEqual(r.values.slice(0, 6), [
        hdr(1),
        hdr(2, "Authentication required"),
        // The stream body {Type} was read as the next header: Command/Seq kept from the previous one.
        hdr(2, "Authentication required"),
        hdr(3, "Invalid authentication token"),
        hdr(4),
        hdr(5),
      ]);
      assert.equal((r.values[6] as Record<string, Record<string, string>>).agent.name, "fake");
    });

    it("closes a connection sending garbage; others keep working", async () => {
      const keep = await connect();
      const r = await handshaken();
      r.sendBytes(Uint8Array.of(0xc1));
      await r.waitClose();
      const r2 = await handshaken();
      r2.sendBytes(Uint8Array.of(0x05)); // not a map: Go cannot decode a header from it
      await r2.waitClose();
      assert.ok(logs.some(([l, m]) => l === "ERR" && m.startsWith("agent.ipc: failed to decode request header: ")));
      assert.equal((await keep.members()).length, 4);
    });

    it("waits for the rest of a truncated frame, and answers once complete", async () => {
      const r = await handshaken();
      const req = new Encoder("rpc").write({ Command: "stats", Seq: 2 }).bytes().slice();
      r.sendBytes(req.subarray(0, 5));
      await sleep(100);
      assert.equal(r.values.length, 1);
      assert.equal(r.closed, false);
      r.sendBytes(req.subarray(5));
      assert.deepEqual((await r.wait(3))[1], hdr(2));
      // A truncated frame followed by EOF closes quietly.
      r.sendBytes(req.subarray(0, 7));
      r.sock.end();
      await r.waitClose();
    });

    it("closes a connection sending an oversize frame; the server keeps serving", async () => {
      const r = await handshaken();
      const big = new Uint8Array(70 * 1024); // maxValueBytes is 64 KiB here
      const frame = new Encoder("rpc").write({ Command: "event", Seq: 2 }).write({ Name: "x", Payload: big }).bytes();
      r.sendBytes(frame.slice());
      await r.waitClose();
      const r2 = await raw();
      r2.sendBytes(Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff)); // a 4 GiB string header
      r2.sendBytes(new Uint8Array(65 * 1024));
      await r2.waitClose();
      const c = await connect();
      assert.equal((await c.stats()).agent.name, "fake");
    });

    it("never interleaves header/body pairs on a busy connection", async () => {
      const r = await handshaken();
      r.send({ Command: "stream", Seq: 2 }, { Type: "*" });
      await r.wait(2);
      for (let i = 0; i < 50; i++) {
        backend.emit({ type: "user", ltime: i, name: "burst", payload: new Uint8Array(300), coalesce: false });
        r.send({ Command: "stats", Seq: 100 + i });
      }
      await r.wait(2 + 200);
      const vals = r.values.slice(2);
      for (let i = 0; i < vals.length; i += 2) {
        const h = vals[i] as { Seq: number; Error: string };
        const body = vals[i + 1] as Record<string, unknown>;
        if (h.Seq === 2) assert.equal(body.Name, "burst");
        else assert.ok(h.Seq >= 100 && "agent" in body, `pair ${i}: ${JSON.stringify(h)}`);
      }
    });

    it("drops stream events beyond 512 queued, with Serf's warning", async () => {
      const r = await handshaken();
      r.send({ Command: "stream", Seq: 2 }, { Type: "user" });
      await r.wait(2);
      for (let i = 0; i < 600; i++) {
        backend.emit({ type: "user", ltime: i, name: "flood", payload: null, coalesce: false });
      }
      await r.wait(2 + 512 * 2);
      await sleep(50);
      assert.equal(r.values.length, 2 + 512 * 2);
      const port = r.sock.localPort as number;
      const warn = `agent.ipc: Dropping event to ipc.client: 127.0.0.1:${port}`;
      assert.equal(logs.filter(([l, m]) => l === "WARN" && m === warn).length, 88);
    });

    it("stream and monitor refuse a duplicate registration", async () => {
      const r = await handshaken();
      r.send({ Command: "stream", Seq: 2 }, { Type: "*" });
      r.send({ Command: "stream", Seq: 2 }, { Type: "*" });
      r.send({ Command: "stop", Seq: 3 }, { Stop: 2 });
      r.send({ Command: "stream", Seq: 2 }, { Type: "" });
      const v = await r.wait(5);
      assert.deepEqual(v.slice(1, 5), [hdr(2), hdr(2, "Stream with given sequence exists"), hdr(3), hdr(2)]);
    });
  });

  describe("with the real serf CLI", { skip: cliSkip }, () => {
    const rpc = () => `-rpc-addr=${addr}`;

    it("members (text)", async () => {
      const r = await serf(["members", rpc()]);
      assert.equal(r.code, 0);
      assert.equal(
        r.stdout,
        [
          "a      127.0.0.1:7946  alive   role=web",
          "bravo  127.0.0.1:7947  alive   role=db",
          "c      10.0.0.3:7946   failed  ",
          "v6     [fd00::2]:7960  left    role=web-2",
          "",
        ].join("\n"),
      );
    });

    it("members -detailed", async () => {
      const r = await serf(["members", "-detailed", rpc(), "-status=alive|failed"]);
      assert.equal(r.code, 0);
      assert.equal(
        r.stdout,
        [
          "a      127.0.0.1:7946  alive   role=web  Protocol Version: 5  Available Protocol Range: [2, 5]",
          "bravo  127.0.0.1:7947  alive   role=db   Protocol Version: 5  Available Protocol Range: [2, 5]",
          "c      10.0.0.3:7946   failed            Protocol Version: 4  Available Protocol Range: [2, 5]",
          "",
        ].join("\n"),
      );
    });

    it("members -format=json with filters", async () => {
      const r = await serf(["members", "-format=json", "-tag", "role=web.*", "-name=v.", rpc()]);
      assert.equal(r.code, 0);
      assert.equal(
        r.stdout,
        `{
  "members": [
    {
      "name": "v6",
      "addr": "[fd00::2]:7960",
      "port": 7960,
      "tags": {
        "role": "web-2"
      },
      "status": "left",
      "protocol": {
        "max": 5,
        "min": 2,
        "version": 5
      }
    }
  ]
}
`,
      );
      const none = await serf(["members", "-format=json", "-status=none", rpc()]);
      assert.equal(none.stdout, '{\n  "members": null\n}\n');
      const bad = await serf(["members", "-name=(", rpc()]);
      assert.equal(bad.code, 1);
      assert.equal(bad.stdout, "Error retrieving members: client closed\n");
    });

    it("join", async () => {
      const ok = await serf(["join", "-replay", rpc(), "10.0.0.1", "10.0.0.2:7946"]);
      assert.equal(ok.stdout, "Successfully joined cluster by contacting 2 nodes.\n");
      assert.equal(ok.code, 0);
      assert.deepEqual(backend.calls.at(-1), ["join", ["10.0.0.1", "10.0.0.2:7946"], true]);
      const bad = await serf(["join", rpc(), "bad-host"]);
      assert.equal(bad.code, 1);
      assert.equal(bad.stdout, "Error joining the cluster: 1 error occurred:\n\t* Failed to join bad-host: no\n");
    });

    it("force-leave", async () => {
      const r = await serf(["force-leave", "-prune", rpc(), "c"]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, "");
      assert.deepEqual(backend.calls.at(-1), ["forceLeave", "c", true]);
      const e = await serf(["force-leave", rpc(), "err-node"]);
      assert.equal(e.code, 1);
      assert.equal(e.stdout, "Error force leaving: no such member: err-node\n");
    });

    it("tags -set/-delete", async () => {
      backend.tags = { role: "web", dc: "x1" };
      const r = await serf(["tags", rpc(), "-set", "role=lb", "-set", "zone=z1", "-delete", "dc"]);
      assert.equal(r.stdout, "Successfully updated agent tags\n");
      assert.equal(r.code, 0);
      assert.deepEqual(backend.tags, { role: "lb", zone: "z1" });
    });

    it("info (text and json)", async () => {
      backend.tags = { role: "web", dc: "x1" };
      const t = await serf(["info", rpc()]);
      assert.equal(t.code, 0);
      assert.equal(
        t.stdout,
        "agent:\n\tname = fake\nserf:\n\tencrypted = false\n\tfailed = 1\n\tmembers = 4\ntags:\n\tdc = x1\n\trole = web\n",
      );
      const j = await serf(["info", "-format=json", rpc()]);
      assert.deepEqual(JSON.parse(j.stdout), backend.stats());
      assert.ok(j.stdout.startsWith('{\n  "agent": {\n    "name": "fake"\n  },'));
    });

    it("event", async () => {
      const r = await serf(["event", rpc(), "deploy", "v42"]);
      assert.equal(r.stdout, "Event 'deploy' dispatched! Coalescing enabled: true\n");
      assert.deepEqual(backend.calls.at(-1), ["userEvent", "deploy", te.encode("v42"), true]);
      const n = await serf(["event", "-coalesce=false", rpc(), "bare"]);
      assert.equal(n.stdout, "Event 'bare' dispatched! Coalescing enabled: false\n");
      assert.deepEqual(backend.calls.at(-1), ["userEvent", "bare", null, false]);
      const e = await serf(["event", rpc(), "toolong"]);
      assert.equal(e.code, 1);
      assert.equal(e.stdout, "Error sending event: user event exceeds configured limit of 512 bytes before encoding\n");
    });

    it("query (text and json)", async () => {
      const r = await serf([
        "query",
        rpc(),
        "-timeout=2s",
        "-node=a",
        "-node=bravo",
        "-tag",
        "role=.*",
        "-relay-factor=2",
        "ping-q",
        "pl",
      ]);
      assert.equal(r.code, 0);
      assert.equal(
        r.stdout,
        "Query 'ping-q' dispatched\nAck from 'a'\nAck from 'bravo'\nResponse from 'a': resp-from-a\nResponse from 'bravo': resp-from-b\nTotal Acks: 2\nTotal Responses: 2\n",
      );
      assert.deepEqual(backend.calls.at(-1), ["query", {
        name: "ping-q",
        payload: te.encode("pl"),
        filterNodes: ["a", "bravo"],
        filterTags: { role: ".*" },
        requestAck: true,
        relayFactor: 2,
        timeoutMs: 2000,
      }]);
      const j = await serf(["query", rpc(), "-format=json", "-no-ack", "ping-q"]);
      assert.equal(j.code, 0);
      assert.equal(
        j.stdout,
        '{\n  "Acks": [\n    "a",\n    "bravo"\n  ],\n  "Responses": {\n    "a": "resp-from-a\\n",\n    "bravo": "resp-from-b"\n  }\n}\n',
      );
      assert.equal((backend.calls.at(-1)![1] as QueryParams).requestAck, false);
      const e = await serf(["query", rpc(), "_serf_x"]);
      assert.equal(e.code, 1);
      assert.equal(e.stdout, "Error sending query: Queries cannot contain the '_serf_' prefix\n");
    });

    it("rtt (get-coordinate + stats)", async () => {
      const r = await serf(["rtt", rpc(), "a", "bravo"]);
      assert.equal(r.stdout, "Estimated a <-> bravo rtt: 1.200 ms\n");
      const m = await serf(["rtt", rpc(), "zz"]);
      assert.equal(m.code, 1);
      assert.equal(m.stdout, 'Could not find a coordinate for node "zz"\n');
    });

    it("keys -list and a failing -use", async () => {
      const l = await serf(["keys", "-list", rpc()]);
      assert.equal(l.code, 0);
      assert.equal(
        l.stdout,
        "==> Asking all members for installed keys...\n==> Keys gathered, listing cluster keys...\n\na2V5MTIzNDU2Nzg5MDEyMw==  [4/4]\n",
      );
      const u = await serf(["keys", "-use=k2", rpc()]);
      assert.equal(u.code, 1);
      assert.equal(
        u.stdout,
        "==> Changing primary key on all members...\nfailed:  bravo  No keyring to modify (encryption not enabled)\n\nError changing primary key: 1/4 nodes reported failure\n",
      );
    });

    it("monitor: buffered and live logs, events; interrupted with SIGINT", async () => {
      const done = serf(["monitor", "-log-level=warn", rpc()], { until: (o) => o.includes("live-after-connect") });
      await until(() => backend.logSubs.size > 0 && backend.eventSubs.size > 0, 5000, "monitor registration");
      backend.emit({ type: "user", ltime: 7, name: "monev", payload: te.encode("mpay"), coalesce: true });
      await sleep(100);
      backend.log("2026/11/26 23:40:00 [INFO] agent: filtered out");
      backend.log("2026/11/26 23:40:01 [WARN] agent: live-after-connect");
      const r = await done;
      assert.equal(r.code, 0);
      const lines = r.stdout.split("\n");
      assert.deepEqual(lines.slice(0, 2), [LOG_BUFFER[2], LOG_BUFFER[3]]);
      const ev = lines.indexOf("Event Info:");
      assert.ok(ev >= 0, r.stdout);
      assert.deepEqual(lines.slice(ev + 1, ev + 6).sort(), [
        "\tCoalesce: true",
        '\tEvent: "user"',
        "\tLTime: 7",
        '\tName: "monev"',
        "\tPayload: []byte{0x6d, 0x70, 0x61, 0x79}",
      ]);
      assert.ok(lines.includes("2026/11/26 23:40:01 [WARN] agent: live-after-connect"));
      assert.ok(!r.stdout.includes("filtered out"));
    });

    it("-rpc-auth right, wrong and missing", async () => {
      const a = `-rpc-addr=${authAddr}`;
      const ok = await serf(["members", a, "-rpc-auth=secret", "-status=alive"]);
      assert.equal(ok.code, 0);
      assert.equal(ok.stdout, "a      127.0.0.1:7946  alive  role=web\nbravo  127.0.0.1:7947  alive  role=db\n");
      const wrong = await serf(["members", a, "-rpc-auth=nope"]);
      assert.equal(wrong.code, 1);
      assert.equal(wrong.stdout, "Error connecting to Serf agent: Invalid authentication token\n");
      const missing = await serf(["tags", a, "-set", "x=y"]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stdout, "Error setting tags: Authentication required\n");
      assert.ok(!authBackend.calls.some(([n]) => n === "setTags"));
    });

    it("leave", async () => {
      const before = backend.calls.length;
      const r = await serf(["leave", rpc()]);
      assert.equal(r.stdout, "Graceful leave complete\n");
      assert.equal(r.code, 0);
      assert.deepEqual(backend.calls.slice(before), [["leave"], ["shutdown"]]);
    });

    it("monitor reports the agent going away (server closed)", async () => {
      const runtime = currentRuntime();
      const b = new FakeBackend();
      const s = await RpcServer.listen({ runtime, backend: b, port: 0 });
      try {
        const done = serf(["monitor", `-rpc-addr=${s.addr}`]);
        await until(() => b.logSubs.size > 0, 5000, "monitor registration");
        s.close();
        const r = await done;
        assert.equal(r.code, 1);
        assert.ok(
          r.stdout.endsWith(
            "\nRemote side ended the monitor! This usually means that the\nremote side has exited or crashed.\n",
          ),
          r.stdout,
        );
      } finally {
        s.close();
      }
    });

    it("connection refused", async () => {
      const r = await serf(["members", "-rpc-addr=127.0.0.1:1"]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "Error connecting to Serf agent: dial tcp 127.0.0.1:1: connect: connection refused\n");
    });
  });
});
