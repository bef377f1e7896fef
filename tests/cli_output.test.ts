/**
 * Output formatting of the CLI (columnize, Go's JSON and `fmt` verbs) and
 * the commands' handling of RPC results that are hard to provoke from a
 * real agent (dropped connections, refusals, key failures), using a fake
 * RPC client. Expected texts were produced with Go 1.19 / the real serf.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { columnize, goTrimSpace, JsonBytes, JsonMap, jsonString, marshalIndent } from "../lib/cli/output.ts";
import { goFixed, goFloatV, goIpString, goQuote, goSharpV, goTcpAddrString } from "../lib/cli/gofmt.ts";
import { main } from "../lib/cli/main.ts";
import type { CliRpcClient, KeyResponse, QueryParams, QueryRecord, RpcMember } from "../lib/cli/rpc.ts";
import { coordinateDistanceNs, rttText } from "../lib/cli/commands/rtt.ts";

describe("columnize (ryanuber/columnize SimpleFormat)", () => {
  it("pads every column but a line's last, by runes, two spaces apart", () => {
    assert.equal(
      columnize(["a|127.0.0.1:7946|alive|role=web", "longer-name|::1|failed|", "é|x"]),
      "a            127.0.0.1:7946  alive   role=web\nlonger-name  ::1             failed  \né            x",
    );
  });
  it("trims cells and returns an empty string for no lines", () => {
    assert.equal(columnize(["  a | b  "]), "a  b");
    assert.equal(columnize([]), "");
  });
});

describe("Go JSON (json.MarshalIndent with two spaces)", () => {
  it("escapes HTML characters, control characters and U+2028/9 like go1.19", () => {
    assert.equal(
      jsonString('<\u2028\b\f\u007f&>"\\\n\r\t\u0001é'),
      '"\\u003c\\u2028\\u0008\\u000c\u007f\\u0026\\u003e\\"\\\\\\n\\r\\t\\u0001é"',
    );
  });
  it("turns invalid UTF-8 of byte strings into \\ufffd, keeping a real U+FFFD", () => {
    const bytes = new Uint8Array([0x61, 0xff, 0xef, 0xbf, 0xbd, 0xc3]);
    assert.equal(marshalIndent(new JsonBytes(bytes)), '"a\\ufffd\ufffd\\ufffd"');
  });
  it("indents, sorts map keys, keeps struct order, writes {} [] and null", () => {
    const doc = { z: 1, a: new JsonMap({ b: "x", a: [] }), n: null, e: new JsonMap({}), l: [1, "s"] };
    assert.equal(
      marshalIndent(doc),
      '{\n  "z": 1,\n  "a": {\n    "a": [],\n    "b": "x"\n  },\n  "n": null,\n  "e": {},\n  "l": [\n    1,\n    "s"\n  ]\n}',
    );
  });
  it("trims like strings.TrimSpace", () => {
    assert.equal(goTrimSpace("\u0085\t x \n\u00a0"), "x");
    assert.equal(goTrimSpace("\ufeffx"), "\ufeffx");
  });
});

describe("Go fmt verbs", () => {
  it("%v of float64", () => {
    const got = [5, 1.5, 123456, 1234567, 1e6, 0.0001, 0.00001, 1e21, 100000, 12345.678, -0.5].map(goFloatV);
    assert.deepEqual(got, [
      "5",
      "1.5",
      "123456",
      "1.234567e+06",
      "1e+06",
      "0.0001",
      "1e-05",
      "1e+21",
      "100000",
      "12345.678",
      "-0.5",
    ]);
  });
  it("%.Nf rounds exact ties to even", () => {
    assert.deepEqual([goFixed(0.0625, 3), goFixed(0.0005, 3), goFixed(0.125, 2), goFixed(2.0005, 3), goFixed(1.5, 0)], [
      "0.062",
      "0.001",
      "0.12",
      "2.001",
      "2",
    ]);
  });
  it("%q", () => {
    assert.equal(goQuote('a\x00\u00a0\u2028é\u{1F600}\x7f"\\'), '"a\\x00\\u00a0\\u2028é\u{1F600}\\x7f\\"\\\\"');
  });
  it("%#v of values decoded from msgpack", () => {
    assert.equal(goSharpV(new Uint8Array([0x71, 0x70])), "[]byte{0x71, 0x70}");
    assert.equal(goSharpV(null), "<nil>");
    assert.equal(goSharpV("user"), '"user"');
    assert.equal(goSharpV(5), "5");
    assert.equal(goSharpV(23512), "0x5bd8");
    assert.equal(
      goSharpV([{ Name: "two", Addr: new Uint8Array([127, 0, 0, 1]), Port: 23512, Tags: {}, X: null, Ok: true }]),
      '[]interface {}{map[interface {}]interface {}{"Addr":[]uint8{0x7f, 0x0, 0x0, 0x1}, "Name":"two", "Ok":true, ' +
        '"Port":0x5bd8, "Tags":map[interface {}]interface {}{}, "X":interface {}(nil)}}',
    );
  });
  it("net.IP and net.TCPAddr strings", () => {
    const v6 = (...g: number[]) => new Uint8Array(g.flatMap((x) => [x >> 8, x & 255]));
    assert.equal(goIpString(v6(0xfd00, 0, 0, 0, 0, 0, 0, 2)), "fd00::2");
    assert.equal(goIpString(v6(1, 0, 0, 1, 0, 0, 0, 1)), "1:0:0:1::1");
    assert.equal(goIpString(v6(1, 0, 2, 0, 3, 0, 4, 0)), "1:0:2:0:3:0:4:0");
    assert.equal(goIpString(v6(0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304)), "1.2.3.4");
    assert.equal(goTcpAddrString(v6(0, 0, 0, 0, 0, 0, 0, 1), 7946), "[::1]:7946");
    assert.equal(goTcpAddrString(new Uint8Array([10, 0, 0, 1]), 1), "10.0.0.1:1");
  });
  it("rtt: Vivaldi distance and its %.3f ms text", () => {
    const a = { vec: [0.001, 0], error: 1, adjustment: 0.0001, height: 0.0002 };
    const b = { vec: [0, 0.002], error: 1, adjustment: -0.0005, height: 0.0001 };
    const ns = coordinateDistanceNs(a, b);
    assert.equal(ns, 2136067);
    assert.equal(rttText(ns), "2.136 ms");
    // Adjustments that would make the distance negative are ignored.
    assert.equal(coordinateDistanceNs({ ...a, adjustment: -1 }, b), 2536067);
  });
});

/** A scripted RPC client; unset operations throw. */
function fakeClient(overrides: Partial<CliRpcClient>): CliRpcClient {
  const missing = () => Promise.reject(new Error("not scripted"));
  return {
    membersFiltered: missing,
    members: missing,
    join: missing,
    leave: missing,
    forceLeave: missing,
    updateTags: missing,
    stats: missing,
    getCoordinate: missing,
    userEvent: missing,
    query: missing,
    monitor: missing,
    stream: missing,
    installKey: missing,
    useKey: missing,
    removeKey: missing,
    listKeys: missing,
    onClose: () => {},
    close: () => {},
    ...overrides,
  };
}

async function runWith(args: string[], client: CliRpcClient, interrupt?: (fire: () => void) => void) {
  let stdout = "", stderr = "";
  let connectedTo = "";
  const code = await main(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { SERF_RPC_ADDR: "10.0.0.9:1", SERF_RPC_AUTH: "tok" },
    onInterrupt: (cb) => {
      interrupt?.(cb);
      return () => {};
    },
    connect: (addr, auth) => {
      connectedTo = `${addr} ${auth}`;
      return Promise.resolve(client);
    },
  });
  return { code, stdout, stderr, connectedTo };
}

class RpcError extends Error {
  keyResponse?: KeyResponse;
}

const member = (name: string, tags: Record<string, string>): RpcMember => ({
  name,
  addr: new Uint8Array([127, 0, 0, 1]),
  port: 7946,
  tags,
  status: "alive",
  protocolMin: 1,
  protocolMax: 5,
  protocolCur: 2,
  delegateMin: 2,
  delegateMax: 5,
  delegateCur: 4,
});

describe("commands with a fake RPC client", () => {
  it("use SERF_RPC_ADDR / SERF_RPC_AUTH by default and the flags when given", async () => {
    const client = fakeClient({ membersFiltered: () => Promise.resolve([]) });
    assert.equal((await runWith(["members"], client)).connectedTo, "10.0.0.9:1 tok");
    assert.equal((await runWith(["members", "-rpc-addr=h:2", "-rpc-auth="], client)).connectedTo, "h:2 ");
  });

  it("members passes the filters and prints the detailed table", async () => {
    let seen: unknown[] = [];
    const client = fakeClient({
      membersFiltered: (tags, status, name) => {
        seen = [tags, status, name];
        return Promise.resolve([member("a", { role: "web" }), member("bb", {})]);
      },
    });
    const r = await runWith([
      "members",
      "-detailed",
      "-tag",
      "dc=x.*",
      "-role",
      "web",
      "-status=alive",
      "-name",
      "a|bb",
    ], client);
    assert.deepEqual(seen, [{ dc: "x.*", role: "web" }, "alive", "a|bb"]);
    assert.equal(
      r.stdout,
      "Deprecation warning: 'Role' has been replaced with 'Tags'\n" +
        "a   127.0.0.1:7946  alive  role=web  Protocol Version: 4  Available Protocol Range: [2, 5]\n" +
        "bb  127.0.0.1:7946  alive            Protocol Version: 4  Available Protocol Range: [2, 5]\n",
    );
  });

  it("query streams acks and responses, strips one newline, totals at the end", async () => {
    let params: QueryParams | undefined;
    const client = fakeClient({
      query: (p, on) => {
        params = p;
        on({ type: "ack", from: "a", payload: null });
        on({ type: "response", from: "a", payload: new TextEncoder().encode("hi\n\n") });
        on({ type: "done", from: "", payload: null });
        return Promise.resolve();
      },
    });
    const r = await runWith([
      "query",
      "-node=a",
      "-node",
      "b",
      "-tag",
      "k=v",
      "-timeout=1.5s",
      "-relay-factor=3",
      "q",
      "pay",
    ], client);
    assert.deepEqual(params, {
      name: "q",
      payload: new TextEncoder().encode("pay"),
      filterNodes: ["a", "b"],
      filterTags: { k: "v" },
      requestAck: true,
      relayFactor: 3,
      timeoutMs: 1500,
    });
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      "Query 'q' dispatched\nAck from 'a'\nResponse from 'a': hi\n\nTotal Acks: 1\nTotal Responses: 1\n",
    );
  });

  it("query: a refusal is an error; a dropped connection after records still prints the totals", async () => {
    const refused = fakeClient({ query: () => Promise.reject(new RpcError("query exceeds limit of 1024 bytes")) });
    const r1 = await runWith(["query", "q"], refused);
    assert.deepEqual([r1.code, r1.stdout], [1, "Error sending query: query exceeds limit of 1024 bytes\n"]);
    const dropped = fakeClient({
      query: (_p, on) => {
        on({ type: "ack", from: "a", payload: null } as QueryRecord);
        return Promise.reject(new Error("client closed"));
      },
    });
    const r2 = await runWith(["query", "-format=json", "q"], dropped);
    assert.deepEqual([r2.code, r2.stdout], [0, '{\n  "Acks": [\n    "a"\n  ],\n  "Responses": {}\n}\n']);
  });

  it("query and reachability stop on an interrupt (exit 1)", async () => {
    const hanging = fakeClient({
      query: () => new Promise(() => {}),
      members: () => Promise.resolve([member("a", {})]),
    });
    const q = await runWith(["query", "q"], hanging, (fire) => setTimeout(fire, 10));
    assert.deepEqual([q.code, q.stdout], [1, ""]);
    const r = await runWith(["reachability"], hanging, (fire) => setTimeout(fire, 10));
    assert.deepEqual([r.code, r.stdout], [1, "Total members: 1, live members: 1\nTest interrupted\n"]);
  });

  it("reachability reports missing and unexpected acks", async () => {
    const client = fakeClient({
      members: () => Promise.resolve([member("a", {}), { ...member("b", {}), status: "failed" }, member("c", {})]),
      query: (_p, on) => {
        on({ type: "ack", from: "a", payload: null });
        on({ type: "ack", from: "a", payload: null });
        on({ type: "done", from: "", payload: null });
        return Promise.resolve();
      },
    });
    const r = await runWith(["reachability"], client);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      "Total members: 3, live members: 2\nStarting reachability test...\nDuplicate response from 'a'\n" +
        "Duplicate responses means there is a misconfiguration. Verify that node names are unique.\n" +
        "Successfully contacted all live nodes\n",
    );
  });

  it("monitor prints logs and events, and notices when the agent goes away", async () => {
    let closeCb = () => {};
    const client = fakeClient({
      onClose: (cb) => void (closeCb = cb),
      stream: (_f, on) => {
        setTimeout(() => on({ Event: "user", Payload: new Uint8Array([1]), LTime: 200 }), 1);
        return Promise.resolve({ stop: () => Promise.resolve() });
      },
      monitor: (_l, on) => {
        setTimeout(() => on("2026/01/01 00:00:00 [INFO] agent: hi"), 2);
        setTimeout(() => closeCb(), 10);
        return Promise.resolve({ stop: () => Promise.resolve() });
      },
    });
    const r = await runWith(["monitor"], client);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      'Event Info:\n\tEvent: "user"\n\tPayload: []byte{0x1}\n\tLTime: 0xc8\n' +
        "2026/01/01 00:00:00 [INFO] agent: hi\n\n" +
        "Remote side ended the monitor! This usually means that the\nremote side has exited or crashed.\n",
    );
  });

  it("keys: per-node failures from the error's response body", async () => {
    const err = new RpcError("2/3 nodes reported failure");
    err.keyResponse = { messages: { n1: "boom", node2: "bad key" }, keys: {}, numNodes: 3, numErr: 2, numResp: 3 };
    const r = await runWith(["keys", "-install", "k"], fakeClient({ installKey: () => Promise.reject(err) }));
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      "==> Installing key on all members...\nfailed:  n1     boom\nfailed:  node2  bad key\n\nError installing key: 2/3 nodes reported failure\n",
    );
  });

  it("rtt uses the agent's own name as the second node", async () => {
    const asked: string[] = [];
    const client = fakeClient({
      stats: () => Promise.resolve({ agent: { name: "self" } }),
      getCoordinate: (n) => {
        asked.push(n);
        return Promise.resolve({ vec: [0, 0], error: 0, adjustment: 0, height: 0.0005 });
      },
    });
    const r = await runWith(["rtt", "other"], client);
    assert.deepEqual(asked, ["other", "self"]);
    assert.equal(r.stdout, "Estimated other <-> self rtt: 1.000 ms\n");
  });
});
