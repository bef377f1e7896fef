import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decode as oracleDecode } from "@msgpack/msgpack";
import {
  asStruct,
  decodeAck,
  decodeAlive,
  decodeDead,
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
  readPushNodeState,
} from "../lib/memberlist/messages.ts";
import {
  addCrc,
  compressPayload,
  decompressPayload,
  MAX_STREAM_BYTES,
  openPacket,
  sealPacket,
  sealStream,
  StreamReader,
  type StreamResult,
} from "../lib/memberlist/envelope.ts";
import { makeCompound } from "../lib/codec/compound.ts";
import { Decoder, Encoder } from "../lib/codec/msgpack.ts";
import { bytes, bytesOrNull, int, str, uint } from "../lib/codec/fields.ts";
import { seeded } from "../lib/core/random.ts";
import { encryptPacket } from "../lib/security/aesgcm.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((x) => parseInt(x, 16)));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const VSN = Uint8Array.of(1, 5, 2, 2, 5, 5);
const KEY = hex("000102030405060708090a0b0c0d0e0f");
const KEY2 = hex("0f0e0d0c0b0a09080706050403020100");

/** Bytes printed by a Go program encoding the same structs with memberlist's encode(). */
const GO = {
  ping:
    "0085a44e6f6465a570726f6265a55365714e6f3baa536f7572636541646472a47f000001aa536f757263654e6f6465a161aa536f75726365506f7274cd1f0a",
  pingbare: "0082a44e6f6465a0a55365714e6f01",
  indirect:
    "0188a44e61636bc3a44e6f6465a162a4506f7274cd1f0aa55365714e6fcd012caa536f7572636541646472a40a000001aa536f757263654e6f6465a161aa536f75726365506f7274cd1f0aa6546172676574a40a000002",
  acknil: "0282a75061796c6f6164c0a55365714e6fce00011170",
  ackpay: "0282a75061796c6f6164a3010203a55365714e6f2a",
  nack: "0b81a55365714e6f05",
  suspect: "0383a446726f6da161ab496e6361726e6174696f6e03a44e6f6465a162",
  dead: "0583a446726f6da162ab496e6361726e6174696f6eceffffffffa44e6f6465a162",
  alive:
    "0486a441646472a47f000001ab496e6361726e6174696f6e01a44d657461a46d657461a44e6f6465a66e6f64652d31a4506f7274cd1f0aa356736ea6010502020505",
  alivenil: "0486a441646472a47f000001ab496e6361726e6174696f6e02a44d657461c0a44e6f6465a178a4506f727401a356736ec0",
  err: "0d81a54572726f72a4626f6f6d",
  compound: "070200020001010203",
  long:
    "0486a441646472a47f000001ab496e6361726e6174696f6e01a44d657461da0078616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263616263a44e6f6465da002b6e6f64652d776974682d612d6c6f6e672d6e616d652d6e6f64652d776974682d612d6c6f6e672d6e616d65a4506f7274cd1f0aa356736ea6010502020505",
  longz:
    "0982a4416c676f00a3427566da00820009182215840c1939a4fe0000106055123763c2c87113864e9a376e02906a52864e186d00f084111391e4c892284faa34c93265cb952e63c29cf9b2a64c9b346fa224e5e40d99322057b8f159a6c59d3474d0b408d3820dc6332d28b6293af4a751a44a993a7503556a195250dec8a1d3ec83825156e6b83115a0800001050a0404",
  pushpull:
    "0683a44a6f696ec3a54e6f64657302ac5573657253746174654c656e0387a441646472a40a000001ab496e6361726e6174696f6e01a44d657461c0a44e616d65a161a4506f7274cd1f0aa5537461746500a356736ea601050202050587a441646472a40a000002ab496e6361726e6174696f6e07a44d657461a0a44e616d65a162a4506f7274cd1f0aa5537461746503a356736ea60105020205050280c0",
  userstream: "0881aa557365724d73674c656e03090909",
};

describe("memberlist messages: golden bytes from Go", () => {
  it("ping (§6.14 sample, byte for byte)", () => {
    const ping = {
      seqNo: 59,
      node: "probe",
      sourceAddr: Uint8Array.of(127, 0, 0, 1),
      sourcePort: 7946,
      sourceNode: "a",
    };
    assert.equal(toHex(encodePing(ping)), GO.ping);
    assert.equal(toHex(encodePing({ seqNo: 1, node: "" })), GO.pingbare, "omitempty Source* fields");
    const back = decodePing(hex(GO.ping).subarray(1));
    assert.deepEqual({ ...back, sourceAddr: Array.from(back.sourceAddr!) }, { ...ping, sourceAddr: [127, 0, 0, 1] });
  });
  it("indirect ping, ack, nack, suspect, dead, alive, err", () => {
    const ind = {
      seqNo: 300,
      target: Uint8Array.of(10, 0, 0, 2),
      port: 7946,
      node: "b",
      nack: true,
      sourceAddr: Uint8Array.of(10, 0, 0, 1),
      sourcePort: 7946,
      sourceNode: "a",
    };
    assert.equal(toHex(encodeIndirectPing(ind)), GO.indirect);
    assert.deepEqual(decodeIndirectPing(hex(GO.indirect).subarray(1)), ind);
    assert.equal(toHex(encodeAck({ seqNo: 70000, payload: null })), GO.acknil);
    assert.equal(toHex(encodeAck({ seqNo: 42, payload: Uint8Array.of(1, 2, 3) })), GO.ackpay);
    assert.deepEqual(decodeAck(hex(GO.ackpay).subarray(1)), { seqNo: 42, payload: Uint8Array.of(1, 2, 3) });
    assert.deepEqual(decodeAck(hex(GO.acknil).subarray(1)), { seqNo: 70000, payload: null });
    assert.equal(toHex(encodeNack({ seqNo: 5 })), GO.nack);
    assert.deepEqual(decodeNack(hex(GO.nack).subarray(1)), { seqNo: 5 });
    assert.equal(toHex(encodeSuspect({ incarnation: 3, node: "b", from: "a" })), GO.suspect);
    assert.deepEqual(decodeSuspect(hex(GO.suspect).subarray(1)), { incarnation: 3, node: "b", from: "a" });
    assert.equal(toHex(encodeDead({ incarnation: 4294967295, node: "b", from: "b" })), GO.dead);
    assert.deepEqual(decodeDead(hex(GO.dead).subarray(1)), { incarnation: 4294967295, node: "b", from: "b" });
    const alive = {
      incarnation: 1,
      node: "node-1",
      addr: Uint8Array.of(127, 0, 0, 1),
      port: 7946,
      meta: new TextEncoder().encode("meta"),
      vsn: VSN,
    };
    assert.equal(toHex(encodeAlive(alive)), GO.alive);
    assert.deepEqual(decodeAlive(hex(GO.alive).subarray(1)), alive);
    const nil = { incarnation: 2, node: "x", addr: Uint8Array.of(127, 0, 0, 1), port: 1, meta: null, vsn: null };
    assert.equal(toHex(encodeAlive(nil)), GO.alivenil);
    assert.deepEqual(decodeAlive(hex(GO.alivenil).subarray(1)), nil);
    assert.equal(toHex(encodeErr("boom")), GO.err);
    assert.equal(toHex(makeCompound([Uint8Array.of(1, 2), Uint8Array.of(3)])), GO.compound);
    assert.equal(toHex(encodeUserStream(Uint8Array.of(9, 9, 9))), GO.userstream);
  });
  it("push/pull payload", () => {
    const nodes = [
      { name: "a", addr: Uint8Array.of(10, 0, 0, 1), port: 7946, meta: null, incarnation: 1, state: 0, vsn: VSN },
      {
        name: "b",
        addr: Uint8Array.of(10, 0, 0, 2),
        port: 7946,
        meta: new Uint8Array(0),
        incarnation: 7,
        state: 3,
        vsn: VSN,
      },
    ];
    const bytes = encodePushPull(true, nodes, Uint8Array.of(2, 0x80, 0xc0));
    assert.equal(toHex(bytes), GO.pushpull);
    const r = new StreamReader().push(bytes);
    assert.equal(r.kind, "message");
    const m = (r as Extract<StreamResult, { kind: "message" }>).message;
    assert.equal(m.type, 6);
    if (m.type !== 6) return;
    assert.equal(m.join, true);
    assert.deepEqual(m.nodes, nodes);
    assert.deepEqual(m.userState, Uint8Array.of(2, 0x80, 0xc0));
  });
  it("an independent msgpack decoder reads our encodings", () => {
    const alive = oracleDecode(
      encodeAlive({
        incarnation: 9,
        node: "n",
        addr: Uint8Array.of(1, 2, 3, 4),
        port: 5,
        meta: Uint8Array.of(0xff),
        vsn: VSN,
      }).subarray(1),
    ) as Record<string, unknown>;
    assert.deepEqual(Object.keys(alive), ["Addr", "Incarnation", "Meta", "Node", "Port", "Vsn"]);
    assert.equal(alive.Incarnation, 9);
    assert.equal(alive.Port, 5);
  });
  it("accepts array-encoded structs and skips unknown keys, like go-msgpack", () => {
    const arr = new Encoder("gossip").write([7, "b", "a"]).bytes();
    assert.deepEqual(decodeSuspect(arr), { incarnation: 7, node: "b", from: "a" });
    const extra = new Encoder("gossip").write({ SeqNo: 3, Zzz: [1, 2], Node: "x" }).bytes();
    assert.equal(decodePing(extra).seqNo, 3);
  });
  it("rejects mistyped fields", () => {
    assert.throws(() => decodePing(new Encoder("gossip").write({ SeqNo: "x" }).bytes()));
    assert.throws(() => decodePing(new Encoder("gossip").write({ SeqNo: -1 }).bytes()));
    assert.throws(() => decodeAlive(new Encoder("gossip").write({ Port: 70000 }).bytes()));
    assert.throws(() => decodeSuspect(new Encoder("gossip").write(5).bytes()));
    assert.throws(() => decodeSuspect(Uint8Array.of(0x83, 0xa4)));
  });
});

describe("packet envelope", () => {
  it("compresses exactly like Go and only when strictly smaller", () => {
    assert.equal(toHex(compressPayload(hex(GO.long))), GO.longz);
    assert.deepEqual(decompressPayload(hex(GO.longz).subarray(1)), hex(GO.long));
    const small = hex(GO.nack);
    assert.deepEqual(sealPacket(small, { compress: true, crc: false }), small);
    assert.equal(toHex(sealPacket(hex(GO.long), { compress: true, crc: false })), GO.longz);
  });
  it("adds and verifies the CRC header", () => {
    const framed = sealPacket(hex(GO.suspect), { compress: true, crc: true });
    assert.equal(framed[0], MessageType.HasCrc);
    const opened = openPacket(framed);
    assert.ok(opened.ok);
    assert.deepEqual(opened.ok && opened.msg, hex(GO.suspect));
    // crc32("123456789") check value
    const crc = addCrc(new TextEncoder().encode("123456789"));
    assert.equal(toHex(crc.subarray(0, 5)), "0ccbf43926");
    framed[framed.length - 1] ^= 1;
    const bad = openPacket(framed);
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.error : "", /^Got invalid checksum for UDP packet: [0-9a-f]+, [0-9a-f]+$/);
  });
  it("encrypts with the primary key and decrypts with any key", () => {
    const wire = sealPacket(hex(GO.long), { compress: true, crc: true, key: KEY });
    assert.equal(wire[0], 1, "encryption version 1");
    assert.equal(wire.length, 5 + hex(GO.longz).length + 29);
    const opened = openPacket(wire, [KEY2, KEY]);
    assert.ok(opened.ok);
    assert.deepEqual(opened.ok && opened.msg, hex(GO.longz));
    const wrong = openPacket(wire, [KEY2]);
    assert.deepEqual(wrong, {
      ok: false,
      level: "ERR",
      error: "Decrypt packet failed: No installed keys could decrypt the message",
    });
    const plain = openPacket(hex(GO.nack), [KEY]);
    assert.equal(plain.ok, false, "plaintext is rejected when encryption is on");
  });
  it("caps decompression (LZW bomb)", () => {
    const huge = compressPayload(new Uint8Array(12 * 1024 * 1024));
    assert.ok(huge.length < 100_000);
    assert.throws(() => decompressPayload(huge.subarray(1)));
    assert.equal(decompressPayload(huge.subarray(1), 13 * 1024 * 1024).length, 12 * 1024 * 1024);
    assert.throws(
      () => decompressPayload(new Encoder("gossip").write({ Algo: 1, Buf: Uint8Array.of(1) }).bytes()),
      /unknown algorithm 1/,
    );
  });
});

describe("stream envelope and incremental reader", () => {
  const push = encodePushPull(false, [
    {
      name: "a",
      addr: Uint8Array.of(10, 0, 0, 1),
      port: 7946,
      meta: Uint8Array.of(1, 2),
      incarnation: 3,
      state: 0,
      vsn: VSN,
    },
  ], Uint8Array.of(5, 6, 7, 8));

  function feed(r: StreamReader, bytes: Uint8Array, chunk: number): { res: StreamResult; at: number } {
    for (let i = 0; i < bytes.length; i += chunk) {
      const res = r.push(bytes.subarray(i, i + chunk));
      if (res.kind !== "more") return { res, at: i + chunk };
    }
    return { res: { kind: "more" }, at: bytes.length };
  }

  for (
    const [label, opts] of [
      ["plain", { compress: false }],
      ["compressed", { compress: true }],
      ["encrypted", { compress: false, key: KEY }],
      ["compressed+encrypted", { compress: true, key: KEY }],
    ] as const
  ) {
    it(`parses a ${label} push/pull fed one byte at a time, only when complete`, () => {
      const wire = sealStream(push, opts);
      if (opts.compress && !("key" in opts)) assert.equal(wire[0], MessageType.Compress);
      if ("key" in opts) assert.equal(wire[0], MessageType.Encrypt);
      const r = new StreamReader("key" in opts ? [KEY2, KEY] : undefined);
      const { res, at } = feed(r, wire, 1);
      assert.equal(res.kind, "message");
      assert.equal(at, wire.length, "complete exactly at the last byte");
      const m = (res as Extract<StreamResult, { kind: "message" }>).message;
      assert.equal(m.type, 6);
      if (m.type === 6) {
        assert.equal(m.nodes[0].name, "a");
        assert.deepEqual(m.userState, Uint8Array.of(5, 6, 7, 8));
      }
    });
  }
  it("parses a large plaintext push/pull arriving in small chunks (resumable, not quadratic)", () => {
    const nodes = Array.from({ length: 3000 }, (_, i) => ({
      name: `node-${i}`,
      addr: Uint8Array.of(10, 1, i >> 8, i & 255),
      port: 7946,
      meta: new Uint8Array(40).fill(i & 255),
      incarnation: i,
      state: i % 4,
      vsn: VSN,
    }));
    const wire = encodePushPull(true, nodes, new Uint8Array(5000).fill(7));
    const r = new StreamReader();
    const { res, at } = feed(r, wire, 7);
    assert.ok(at >= wire.length);
    assert.equal(res.kind, "message");
    const m = (res as Extract<StreamResult, { kind: "message" }>).message;
    assert.ok(m.type === 6 && m.nodes.length === 3000 && m.userState?.length === 5000);
    if (m.type === 6) assert.deepEqual(m.nodes[2999], nodes[2999]);
  });
  it("reports encryption mismatches as envelope errors", () => {
    const plain = new StreamReader([KEY]).push(sealStream(push, { compress: true }));
    assert.deepEqual(plain, {
      kind: "error",
      stage: "envelope",
      error: "Encryption is configured but remote state is not encrypted",
    });
    const enc = new StreamReader().push(sealStream(push, { compress: true, key: KEY }));
    assert.deepEqual(enc, {
      kind: "error",
      stage: "envelope",
      error: "Remote state is encrypted and encryption is not configured",
    });
    const wrong = new StreamReader([KEY2]).push(sealStream(push, { compress: true, key: KEY }));
    assert.deepEqual(wrong, { kind: "error", stage: "envelope", error: "No installed keys could decrypt the message" });
  });
  it("rejects oversized encrypted frames and absurd node counts", () => {
    const frame = Uint8Array.of(10, 0xff, 0xff, 0xff, 0xff);
    const r = new StreamReader([KEY]).push(frame);
    assert.equal(r.kind, "error");
    assert.match((r as { error: string }).error, /larger than limit/);
    const lie = new Encoder("gossip").raw([6]).write({ Join: false, Nodes: 5_000_000, UserStateLen: 0 }).bytes();
    const res = new StreamReader().push(lie);
    assert.equal(res.kind, "error");
    assert.equal((res as { stage: string }).stage, "body");
    // compressed, hence complete: a count larger than the bytes left is a lie
    const small = new Encoder("gossip").raw([6]).write({ Join: false, Nodes: 1000, UserStateLen: 0 }).bytes();
    const res2 = new StreamReader().push(sealStream(small, { compress: true }));
    assert.equal(res2.kind, "error");
    assert.match((res2 as { error: string }).error, /claims 1000 nodes/);
    const neg = new Encoder("gossip").raw([6]).write({ Join: false, Nodes: -1, UserStateLen: 0 }).bytes();
    assert.equal(new StreamReader().push(neg).kind, "error");
    const short = new Encoder("gossip").raw([6]).write({ Join: false, Nodes: 0, UserStateLen: 50 }).raw([1, 2]).bytes();
    assert.equal(new StreamReader().push(short).kind, "more", "plaintext: wait for the user state");
    const shortZ = new StreamReader().push(sealStream(short, { compress: true }));
    assert.deepEqual(shortZ, { kind: "error", stage: "body", error: "unexpected EOF", type: 6 });
  });
  it("bounds buffered plaintext", () => {
    const r = new StreamReader();
    const hdr = new Encoder("gossip").raw([6]).write({ Join: false, Nodes: 0, UserStateLen: MAX_STREAM_BYTES * 2 })
      .bytes();
    assert.equal(r.push(hdr).kind, "more");
    const res = r.push(new Uint8Array(MAX_STREAM_BYTES + 10));
    assert.equal(res.kind, "error");
  });
  it("parses ping, ack, user, err and unknown types", () => {
    const one = (b: Uint8Array) => {
      const r = new StreamReader().push(b);
      assert.equal(r.kind, "message");
      return (r as Extract<StreamResult, { kind: "message" }>).message;
    };
    assert.deepEqual(one(encodePing({ seqNo: 4, node: "n" })), {
      type: 0,
      ping: { seqNo: 4, node: "n", sourceAddr: null, sourcePort: 0, sourceNode: "" },
    });
    assert.deepEqual(one(encodeAck({ seqNo: 4, payload: null })), { type: 2, ack: { seqNo: 4, payload: null } });
    assert.deepEqual(one(encodeUserStream(Uint8Array.of(1, 2))), { type: 8, msg: Uint8Array.of(1, 2) });
    assert.deepEqual(one(encodeErr("nope")), { type: 13, error: "nope" });
    assert.deepEqual(one(Uint8Array.of(77)), { type: -1, unknown: 77 });
    const partial = new StreamReader();
    assert.equal(partial.push(encodeUserStream(Uint8Array.of(1, 2, 3)).subarray(0, 14)).kind, "more");
    assert.equal(partial.eofError(), "unexpected EOF");
    assert.equal(new StreamReader().eofError(), "EOF");
  });
  it("encryption itself is Go's packet format (oracle-free check of layout)", () => {
    const ct = encryptPacket(KEY, Uint8Array.of(1, 2, 3), new Uint8Array(12));
    assert.equal(ct.length, 1 + 12 + 3 + 16);
    assert.equal(ct[0], 1);
  });
});

describe("fast path for alive messages and push/pull node states", () => {
  // The general reading (a field map, then Go's typed field rules), as the
  // decoders did before the fixed-shape fast path: every input must give the
  // same values, or the same error.
  const general = {
    alive(body: Uint8Array) {
      const m = asStruct(
        new Decoder(body, "gossip").read(),
        ["Incarnation", "Node", "Addr", "Port", "Meta", "Vsn"],
        "alive",
      );
      return {
        incarnation: uint(m, "Incarnation"),
        node: str(m, "Node"),
        addr: bytes(m, "Addr"),
        port: uint(m, "Port", 16),
        meta: bytesOrNull(m, "Meta"),
        vsn: bytesOrNull(m, "Vsn"),
      };
    },
    node(body: Uint8Array) {
      const d = new Decoder(body, "gossip");
      const m = asStruct(d.read(), ["Name", "Addr", "Port", "Meta", "Incarnation", "State", "Vsn"], "push node state");
      return {
        value: {
          name: str(m, "Name"),
          addr: bytes(m, "Addr"),
          port: uint(m, "Port", 16),
          meta: bytesOrNull(m, "Meta"),
          incarnation: uint(m, "Incarnation"),
          state: int(m, "State"),
          vsn: bytesOrNull(m, "Vsn"),
        },
        end: d.offset,
      };
    },
  };
  const outcome = (f: () => unknown) => {
    try {
      return { ok: f() };
    } catch (e) {
      return { error: `${(e as Error).name}: ${(e as Error).message}` };
    }
  };

  /** A msgpack value in a randomly chosen (valid or odd) encoding. */
  function randomValue(rnd: () => number, kind: "int" | "text" | "bytes"): number[] {
    const odd = rnd() < 0.1 ? Math.floor(rnd() * 8) : -1;
    if (odd === 0) return [0xc0];
    if (odd === 1) return [0xc3];
    if (odd === 2) return [0xff]; // -1
    if (odd === 3) return [0xcf, 0, 0, 0, 1, 0, 0, 0, 0];
    if (odd === 4) return [0xcb, 0x40, 0x09, 0, 0, 0, 0, 0, 0];
    if (odd === 5) return [0x92, 1, 2];
    if (kind === "int" || odd === 6) {
      const int =
        [0, 1, 5, 127, 128, 255, 256, 7946, 65535, 65536, 2 ** 32 - 1][Math.floor(rnd() * (rnd() < 0.8 ? 9 : 11))];
      if (int < 128 && rnd() < 0.7) return [int];
      if (int < 256 && rnd() < 0.7) return [0xcc, int];
      if (int < 65536 && rnd() < 0.7) return [0xcd, int >> 8, int & 0xff];
      return [0xce, (int >>> 24) & 0xff, (int >> 16) & 0xff, (int >> 8) & 0xff, int & 0xff];
    }
    const n = Math.floor(rnd() * (rnd() < 0.8 ? 20 : 300));
    const body = Array.from(
      { length: n },
      () => (rnd() < 0.9 ? 0x61 + Math.floor(rnd() * 26) : Math.floor(rnd() * 256)),
    );
    if (n < 32 && rnd() < 0.6) return [0xa0 | n, ...body];
    const heads = [[0xd9, n & 0xff], [0xda, n >> 8, n & 0xff], [0xdb, 0, 0, n >> 8, n & 0xff], [0xc4, n & 0xff], [
      0xc5,
      n >> 8,
      n & 0xff,
    ]];
    const head = heads[Math.floor(rnd() * heads.length)];
    return [...head, ...(head.length === 2 ? body.slice(0, n & 0xff) : body)];
  }

  function randomStruct(rnd: () => number, fields: [string, "int" | "text" | "bytes"][]): Uint8Array {
    const chosen = fields.filter(() => rnd() < 0.97);
    if (rnd() < 0.1) chosen.reverse();
    if (rnd() < 0.05) chosen.push(["Extra", "int"]);
    const out: number[] = [0x80 | chosen.length];
    for (const [k, kind] of chosen) {
      out.push(0xa0 | k.length, ...Array.from(k, (c) => c.charCodeAt(0)), ...randomValue(rnd, kind));
    }
    let bytes = Uint8Array.from(out);
    const r = rnd();
    if (r < 0.1) bytes = bytes.subarray(0, Math.floor(rnd() * bytes.length));
    else if (r < 0.2) bytes[Math.floor(rnd() * bytes.length)] ^= 1 << Math.floor(rnd() * 8);
    else if (r < 0.25) bytes = Uint8Array.from([...bytes, 0xc0, 0x01]); // trailing bytes
    return bytes;
  }

  it("alive: the same values or the same error as the general reading", () => {
    const rnd = seeded(4242);
    const fields: [string, "int" | "text" | "bytes"][] = [
      ["Addr", "bytes"],
      ["Incarnation", "int"],
      ["Meta", "bytes"],
      ["Node", "text"],
      ["Port", "int"],
      ["Vsn", "bytes"],
    ];
    let values = 0;
    for (let i = 0; i < 6_000; i++) {
      const body = randomStruct(rnd, fields);
      const want = outcome(() => general.alive(body));
      assert.deepEqual(outcome(() => decodeAlive(body)), want, toHex(body));
      if ("ok" in want) values++;
    }
    for (const golden of [GO.alive, GO.alivenil, GO.long]) {
      const body = hex(golden).subarray(1);
      assert.deepEqual(decodeAlive(body), general.alive(body));
    }
    assert.ok(values > 1500, `enough inputs decode (${values})`);
  });

  it("push/pull node states: the same values, end offset or error as the general reading", () => {
    const rnd = seeded(777);
    const fields: [string, "int" | "text" | "bytes"][] = [
      ["Addr", "bytes"],
      ["Incarnation", "int"],
      ["Meta", "bytes"],
      ["Name", "text"],
      ["Port", "int"],
      ["State", "int"],
      ["Vsn", "bytes"],
    ];
    let values = 0;
    for (let i = 0; i < 6_000; i++) {
      const body = randomStruct(rnd, fields);
      const want = outcome(() => general.node(body));
      const got = outcome(() => {
        const d = new Decoder(body, "gossip", 0, true);
        return { value: readPushNodeState(d), end: d.offset };
      });
      assert.deepEqual(got, want, toHex(body));
      if ("ok" in want) values++;
    }
    assert.ok(values > 1500, `enough inputs decode (${values})`);
  });
});
