import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decode as oracleDecode } from "@msgpack/msgpack";
import {
  decodeConflictResponse,
  decodeJoin,
  decodeKeyRequest,
  decodeKeyResponse,
  decodeLeave,
  decodeMessage,
  decodeNodeFilter,
  decodePushPull,
  decodeQuery,
  decodeQueryResponse,
  decodeRelay,
  decodeTagFilter,
  decodeUserEvent,
  encodeConflictResponse,
  encodeJoin,
  encodeKeyRequest,
  encodeKeyResponse,
  encodeLeave,
  encodeNodeFilter,
  encodePushPull,
  encodeQuery,
  encodeQueryResponse,
  encodeRelay,
  encodeTagFilter,
  encodeUserEvent,
  type EventSlot,
  type QueryMessage,
  type WireMember,
} from "../lib/serf/messages.ts";
import { DecodeError } from "../lib/codec/msgpack.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => Uint8Array.from(s.match(/../g)!.map((x) => parseInt(x, 16)));
const te = (s: string) => new TextEncoder().encode(s);

// Produced by go-msgpack 0.5.5 (the codec in /usr/share/gocode) encoding Serf's own structs.
const GOLDEN = {
  leave: "0083a54c54696d6507a44e6f6465a66e6f64652d62a55072756e65c3",
  join: "0182a54c54696d65cd012ca44e6f6465a161",
  event: "0384a24343c3a54c54696d6501a44e616d65a3657632a75061796c6f6164a27032",
  eventNil: "0384a24343c2a54c54696d65ce00011170a44e616d65a66465706c6f79a75061796c6f6164c0",
  pushPull:
    "0286aa4576656e744c54696d6506a64576656e747394c082a64576656e74739282a44e616d65a178a75061796c6f6164a2010282a44e616d65a179a75061796c6f6164c0a54c54696d6505c0c0a54c54696d6509ab4c6566744d656d6265727390aa51756572794c54696d6502ac5374617475734c54696d657381a16103",
  filterNode: "0092a161a162",
  filterTag: "0182a445787072a45e776562a3546167a4726f6c65",
  query:
    "048ba441646472a47f000001a746696c7465727392a60092a161a162b50182a445787072a45e776562a3546167a4726f6c65a5466c61677301a24944ce075bcd15a54c54696d6503a44e616d65a171a75061796c6f6164a26869a4506f7274cd1f0aab52656c6179466163746f7202aa536f757263654e6f6465a161a754696d656f7574ce3b9aca00",
  queryNil:
    "048ba441646472a47f000001a746696c74657273c0a5466c61677300a2494405a54c54696d6501a44e616d65aa5f736572665f70696e67a75061796c6f6164c0a4506f7274cd1f0aab52656c6179466163746f7200aa536f757263654e6f6465a161a754696d656f7574ce5f5e1000",
  ack: "0585a5466c61677301a446726f6da162a24944ce075bcd15a54c54696d6503a75061796c6f6164c0",
  resp: "0585a5466c61677300a446726f6da162a2494409a54c54696d6503a75061796c6f6164a26f6b",
  relay:
    "0982a8446573744164647283a24950a47f000001a4506f7274cd1f0aa45a6f6e65a0a8446573744e616d65a1610585a5466c61677301a446726f6da162a24944ce075bcd15a54c54696d6503a75061796c6f6164c0",
  conflictNil: "06c0",
  conflict:
    "068ba441646472a47f000001ab44656c656761746543757205ab44656c65676174654d617805ab44656c65676174654d696e02a44e616d65a163a4506f7274cd1f0cab50726f746f636f6c43757202ab50726f746f636f6c4d617805ab50726f746f636f6c4d696e01a653746174757301a45461677381a4726f6c65a3776562",
  keyReq: "0781a34b6579a3010203",
  keyResp: "0884a44b65797391a26b31a74d657373616765a0aa5072696d6172794b6579a26b31a6526573756c74c3",
};

const localhost = new Uint8Array([127, 0, 0, 1]);

describe("serf messages: golden bytes", () => {
  it("user event matches the bytes captured from the real agent (§6.14)", () => {
    const raw = encodeUserEvent({ ltime: 1, name: "ev2", payload: te("p2"), cc: true });
    // 03 then 84 a2 "CC" c3 a5 "LTime" 01 a4 "Name" a3 "ev2" a7 "Payload" a2 "p2"
    assert.equal(hex(raw), GOLDEN.event);
    assert.equal(raw[0], 3);
    assert.deepEqual(decodeUserEvent(raw), { ltime: 1, name: "ev2", payload: te("p2"), cc: true });
  });
  it("user event with nil payload and a large LTime", () => {
    const m = { ltime: 70000, name: "deploy", payload: null, cc: false };
    assert.equal(hex(encodeUserEvent(m)), GOLDEN.eventNil);
    assert.deepEqual(decodeUserEvent(unhex(GOLDEN.eventNil)), m);
  });
  it("leave and join intents", () => {
    const leave = { ltime: 7, node: "node-b", prune: true };
    assert.equal(hex(encodeLeave(leave)), GOLDEN.leave);
    assert.deepEqual(decodeLeave(unhex(GOLDEN.leave)), leave);
    const join = { ltime: 300, node: "a" };
    assert.equal(hex(encodeJoin(join)), GOLDEN.join);
    assert.deepEqual(decodeJoin(unhex(GOLDEN.join)), join);
  });
  it("push/pull with a sparse event ring", () => {
    const events: (EventSlot | null)[] = [
      null,
      {
        ltime: 5,
        events: [{ name: "x", payload: new Uint8Array([1, 2]) }, { name: "y", payload: null }],
      },
      null,
      null,
    ];
    const pp = {
      ltime: 9,
      statusLTimes: new Map([["a", 3]]),
      leftMembers: [],
      eventLTime: 6,
      events,
      queryLTime: 2,
    };
    assert.equal(hex(encodePushPull(pp)), GOLDEN.pushPull);
    assert.deepEqual(decodePushPull(unhex(GOLDEN.pushPull)), pp);
  });
  it("a 512-slot empty ring is dc 0200 + 512 nils", () => {
    const raw = encodePushPull({
      ltime: 1,
      statusLTimes: new Map(),
      leftMembers: [],
      eventLTime: 1,
      events: new Array(512).fill(null),
      queryLTime: 1,
    });
    const at = hex(raw).indexOf(hex(te("Events")));
    assert.ok(at > 0);
    const after = hex(raw).slice(at + 12, at + 12 + 6 + 1024);
    assert.equal(after, "dc0200" + "c0".repeat(512));
  });
  it("filters and query", () => {
    const nf = encodeNodeFilter(["a", "b"]);
    const tf = encodeTagFilter({ tag: "role", expr: "^web" });
    assert.equal(hex(nf), GOLDEN.filterNode);
    assert.equal(hex(tf), GOLDEN.filterTag);
    assert.deepEqual(decodeNodeFilter(nf), ["a", "b"]);
    assert.deepEqual(decodeTagFilter(tf), { tag: "role", expr: "^web" });
    const q: QueryMessage = {
      ltime: 3,
      id: 123456789,
      addr: localhost,
      port: 7946,
      sourceNode: "a",
      filters: [nf, tf],
      flags: 1,
      relayFactor: 2,
      timeoutNs: 1e9,
      name: "q",
      payload: te("hi"),
    };
    assert.equal(hex(encodeQuery(q)), GOLDEN.query);
    assert.deepEqual(decodeQuery(unhex(GOLDEN.query)), q);
    const qn: QueryMessage = {
      ltime: 1,
      id: 5,
      addr: localhost,
      port: 7946,
      sourceNode: "a",
      filters: null,
      flags: 0,
      relayFactor: 0,
      timeoutNs: 1.6e9,
      name: "_serf_ping",
      payload: null,
    };
    assert.equal(hex(encodeQuery(qn)), GOLDEN.queryNil);
    assert.deepEqual(decodeQuery(unhex(GOLDEN.queryNil)), qn);
  });
  it("query responses, acks and relays", () => {
    const ack = { ltime: 3, id: 123456789, from: "b", flags: 1, payload: null };
    assert.equal(hex(encodeQueryResponse(ack)), GOLDEN.ack);
    assert.deepEqual(decodeQueryResponse(unhex(GOLDEN.ack)), ack);
    const resp = { ltime: 3, id: 9, from: "b", flags: 0, payload: te("ok") };
    assert.equal(hex(encodeQueryResponse(resp)), GOLDEN.resp);
    const relay = encodeRelay({ ip: localhost, port: 7946, zone: "" }, "a", ack);
    assert.equal(hex(relay), GOLDEN.relay);
    const r = decodeRelay(relay);
    assert.deepEqual(r.destAddr, { ip: localhost, port: 7946, zone: "" });
    assert.equal(r.destName, "a");
    assert.equal(hex(r.inner), GOLDEN.ack);
  });
  it("conflict and key payloads", () => {
    const m: WireMember = {
      name: "c",
      addr: localhost,
      port: 7948,
      tags: { role: "web" },
      status: 1,
      protocolMin: 1,
      protocolMax: 5,
      protocolCur: 2,
      delegateMin: 2,
      delegateMax: 5,
      delegateCur: 5,
    };
    assert.equal(hex(encodeConflictResponse(m)), GOLDEN.conflict);
    assert.deepEqual(decodeConflictResponse(unhex(GOLDEN.conflict)), m);
    assert.equal(hex(encodeConflictResponse(null)), GOLDEN.conflictNil);
    assert.equal(decodeConflictResponse(unhex(GOLDEN.conflictNil)), null);
    assert.equal(hex(encodeKeyRequest({ key: new Uint8Array([1, 2, 3]) })), GOLDEN.keyReq);
    assert.deepEqual(decodeKeyRequest(unhex(GOLDEN.keyReq)), { key: new Uint8Array([1, 2, 3]) });
    const kr = { result: true, message: "", keys: ["k1"], primaryKey: "k1" };
    assert.equal(hex(encodeKeyResponse(kr)), GOLDEN.keyResp);
    assert.deepEqual(decodeKeyResponse(unhex(GOLDEN.keyResp)), kr);
  });
});

describe("serf messages: decoding rules", () => {
  it("the oracle msgpack decoder reads our push/pull", () => {
    const raw = unhex(GOLDEN.pushPull);
    const v = oracleDecode(raw.subarray(1)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ["EventLTime", "Events", "LTime", "LeftMembers", "QueryLTime", "StatusLTimes"]);
  });
  it("skips unknown keys, defaults missing ones, accepts positional arrays", () => {
    // {"Node": "x", "Extra": 1}
    const m = new Uint8Array([1, 0x82, 0xa4, ...te("Node"), 0xa1, ...te("x"), 0xa5, ...te("Extra"), 1]);
    assert.deepEqual(decodeJoin(m), { ltime: 0, node: "x" });
    // [5, "y", true] as a leave
    const arr = new Uint8Array([0, 0x93, 5, 0xa1, ...te("y"), 0xc3]);
    assert.deepEqual(decodeLeave(arr), { ltime: 5, node: "y", prune: true });
  });
  it("rejects malformed bodies with DecodeError", () => {
    assert.throws(() => decodeUserEvent(new Uint8Array([3])), DecodeError);
    assert.throws(() => decodeUserEvent(new Uint8Array([3, 0x81, 0xa5, ...te("LTime"), 0xa1, 0x41])), DecodeError);
    assert.throws(() => decodeJoin(new Uint8Array([1, 0x81, 0xa4, ...te("Node"), 0x05])), DecodeError);
  });
  it("dispatches by type byte; push/pull and payload-only types are not gossip", () => {
    assert.equal(decodeMessage(unhex(GOLDEN.event))?.type, 3);
    assert.equal(decodeMessage(unhex(GOLDEN.relay))?.type, 9);
    assert.equal(decodeMessage(unhex(GOLDEN.pushPull)), undefined);
    assert.equal(decodeMessage(unhex(GOLDEN.keyReq)), undefined);
    assert.equal(decodeMessage(new Uint8Array([42, 0xc0])), undefined);
  });
});
