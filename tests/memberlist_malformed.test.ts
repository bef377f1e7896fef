/**
 * Hostile and broken input: every packet and stream is parsed defensively,
 * dropped with memberlist's log wording, and never throws.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Memberlist } from "../lib/memberlist/memberlist.ts";
import { defaultLanConfig } from "../lib/memberlist/config.ts";
import {
  decodeAck,
  encodeAck,
  encodeAlive,
  encodeCompress,
  encodeIndirectPing,
  encodePing,
  encodePushPull,
  encodeSuspect,
  MessageType,
} from "../lib/memberlist/messages.ts";
import { addCrc, compressPayload, sealPacket, sealStream, StreamReader } from "../lib/memberlist/envelope.ts";
import { makeCompound } from "../lib/codec/compound.ts";
import { Encoder } from "../lib/codec/msgpack.ts";
import { lzwCompress } from "../lib/codec/lzw.ts";
import { seeded } from "../lib/core/random.ts";
import { Keyring } from "../lib/security/keyring.ts";
import type { Address, Output } from "../lib/memberlist/types.ts";

const FROM: Address = { ip: "1.2.3.4", port: 5 };
const VSN = Uint8Array.of(1, 5, 2, 2, 5, 5);

function core(keyring?: Keyring) {
  const logs: string[] = [];
  const c = defaultLanConfig("a", seeded(5), (l, m) => logs.push(`${l} ${m}`));
  c.bindAddr = c.advertiseAddr = "10.0.0.1";
  c.keyring = keyring;
  c.delegate = {
    nodeMeta: () => new Uint8Array(0),
    notifyMsg: () => {},
    getBroadcasts: () => [],
    localState: () => new Uint8Array(0),
    mergeRemoteState: () => {},
  };
  const m = new Memberlist(c, 0);
  m.start(0);
  m.drain();
  return { m, logs };
}

/** The core still works: a valid ping gets an ack. */
function stillAlive(m: Memberlist, key?: Uint8Array): void {
  m.handlePacket(sealPacket(encodePing({ seqNo: 4242, node: "a" }), { compress: false, crc: false, key }), FROM, 1);
  const out = m.drain().filter((o) => o.kind === "packet") as Extract<Output, { kind: "packet" }>[];
  assert.equal(out.length, 1, "ack sent");
}

const enc = (v: unknown, type: number) => new Encoder("gossip").raw([type]).write(v).bytes().slice();

describe("memberlist: malformed packets", () => {
  it("drops broken messages of every type with Go's log wording", () => {
    const { m, logs } = core();
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(0), "ERR memberlist: UDP packet too short (0 bytes) from=1.2.3.4:5"],
      [Uint8Array.of(0), "ERR memberlist: Failed to decode ping request: "],
      [Uint8Array.of(0, 0x85, 0xa4), "ERR memberlist: Failed to decode ping request: "],
      [enc({ SeqNo: "x" }, 0), "ERR memberlist: Failed to decode ping request: "],
      [enc({ SeqNo: 1, Target: 5 }, 1), "ERR memberlist: Failed to decode indirect ping request: "],
      [enc({ SeqNo: -5 }, 2), "ERR memberlist: Failed to decode ack response: "],
      [enc([], 11).subarray(0, 1), "ERR memberlist: Failed to decode nack response: "],
      [enc({ Incarnation: 1.5 }, 3), "ERR memberlist: Failed to decode suspect message: "],
      [enc({ Port: 1 << 20 }, 4), "ERR memberlist: Failed to decode alive message: "],
      [enc({ Node: 7 }, 5), "ERR memberlist: Failed to decode dead message: "],
      [
        Uint8Array.of(7),
        "ERR memberlist: Failed to decode compound request: missing compound length byte from=1.2.3.4:5",
      ],
      [
        Uint8Array.of(7, 3, 0, 1),
        "ERR memberlist: Failed to decode compound request: truncated len slice from=1.2.3.4:5",
      ],
      [
        Uint8Array.of(7, 2, 0, 1, 0xff, 0xff, 11),
        "WARN memberlist: Compound request had 1 truncated messages from=1.2.3.4:5",
      ],
      [Uint8Array.of(9, 0xc1), "ERR memberlist: Failed to decompress payload: "],
      [
        encodeCompress({ algo: 3, buf: Uint8Array.of(1) }),
        "ERR memberlist: Failed to decompress payload: Cannot decompress unknown algorithm 3",
      ],
      [
        encodeCompress({ algo: 0, buf: Uint8Array.of(0xff, 0xff, 0xff) }),
        "ERR memberlist: Failed to decompress payload: ",
      ],
      [Uint8Array.of(99), "ERR memberlist: msg type (99) not supported from=1.2.3.4:5"],
      [Uint8Array.of(244, 1, 65), "ERR memberlist: msg type (244) not supported from=1.2.3.4:5"],
      [Uint8Array.of(6, 0x80), "ERR memberlist: msg type (6) not supported from=1.2.3.4:5"],
      [Uint8Array.of(7, 1, 0, 0), "ERR memberlist: Failed to handle empty message from=1.2.3.4:5"],
    ];
    for (const [pkt, want] of cases) {
      const before = logs.length;
      assert.doesNotThrow(() => m.handlePacket(pkt, FROM, 1));
      const got = logs.slice(before);
      assert.ok(got.some((l) => l.startsWith(want)), `${Array.from(pkt)} → ${JSON.stringify(got)} (want ${want})`);
      assert.ok(got.every((l) => !l.includes("Unexpected error")), `no internal error for ${Array.from(pkt)}`);
    }
    assert.deepEqual(m.drain(), []);
    assert.equal(m.numMembers(), 1);
    stillAlive(m);
  });

  it("rejects a bad CRC, wrong keys and plaintext on an encrypted node", () => {
    const { m, logs } = core();
    const framed = addCrc(encodePing({ seqNo: 1, node: "a" }));
    framed[3] ^= 0xff;
    m.handlePacket(framed, FROM, 1);
    assert.ok(logs.at(-1)!.startsWith("WARN memberlist: Got invalid checksum for UDP packet: "));
    assert.deepEqual(m.drain(), []);
    const key = new Uint8Array(16).fill(1);
    const e = core(new Keyring([key]));
    e.m.handlePacket(encodePing({ seqNo: 1, node: "a" }), FROM, 1);
    e.m.handlePacket(
      sealPacket(encodePing({ seqNo: 1, node: "a" }), { compress: false, crc: false, key: new Uint8Array(16) }),
      FROM,
      1,
    );
    e.m.handlePacket(Uint8Array.of(7, 1, 2, 3), FROM, 1);
    e.m.handlePacket(Uint8Array.of(1, ...new Uint8Array(40)), FROM, 1);
    assert.deepEqual(e.logs.filter((l) => l.startsWith("ERR memberlist: Decrypt packet failed: ")), [
      "ERR memberlist: Decrypt packet failed: Payload is too small to decrypt: 16 from=1.2.3.4:5",
      "ERR memberlist: Decrypt packet failed: No installed keys could decrypt the message from=1.2.3.4:5",
      "ERR memberlist: Decrypt packet failed: Unsupported encryption version 7 from=1.2.3.4:5",
      "ERR memberlist: Decrypt packet failed: No installed keys could decrypt the message from=1.2.3.4:5",
    ]);
    assert.deepEqual(e.m.drain(), []);
    stillAlive(e.m, key);
  });

  it("survives LZW bombs and deep nesting", () => {
    const { m, logs } = core();
    // 11 MiB of zeros compresses to a small packet: over the 10 MiB cap
    const bomb = compressPayload(new Uint8Array(11 * 1024 * 1024));
    m.handlePacket(bomb, FROM, 1);
    assert.ok(logs.at(-1)!.startsWith("ERR memberlist: Failed to decompress payload: "));
    // many nested compress layers, each within the cap
    let nested = encodePing({ seqNo: 9, node: "a" });
    for (let i = 0; i < 12; i++) nested = encodeCompress({ algo: 0, buf: lzwCompress(nested) });
    m.handlePacket(nested, FROM, 1);
    assert.ok(logs.at(-1)!.startsWith("ERR memberlist: Message nested too deeply"));
    // several bomb parts in one compound share one budget
    const half = compressPayload(new Uint8Array(6 * 1024 * 1024));
    m.handlePacket(makeCompound([half, half]), FROM, 1);
    assert.ok(logs.at(-1)!.startsWith("ERR memberlist: Failed to decompress payload: "));
    stillAlive(m);
  });

  it("ignores alive messages with bad version vectors and nonsense addresses", () => {
    const { m, logs } = core();
    m.handlePacket(
      encodeAlive({
        incarnation: 1,
        node: "x",
        addr: Uint8Array.of(1, 2),
        port: 1,
        meta: null,
        vsn: Uint8Array.of(1, 5),
      }),
      FROM,
      1,
    );
    assert.ok(logs.at(-1)!.includes("because its version vector has 2 bytes"));
    m.handlePacket(
      encodeAlive({
        incarnation: 1,
        node: "x",
        addr: Uint8Array.of(1, 2),
        port: 1,
        meta: null,
        vsn: Uint8Array.of(0, 0, 0, 0, 0, 0),
      }),
      FROM,
      1,
    );
    assert.ok(logs.at(-1)!.includes("protocol version(s) are wrong"));
    // a node with an unusable address can be tracked but sends to it are refused, not thrown
    m.handlePacket(
      encodeAlive({ incarnation: 1, node: "y", addr: Uint8Array.of(1, 2, 3), port: 9, meta: null, vsn: VSN }),
      FROM,
      1,
    );
    assert.doesNotThrow(() => m.sendBestEffort("y", Uint8Array.of(1)));
    assert.ok(logs.at(-1)!.startsWith("ERR memberlist: Failed to send packet: invalid address"));
    m.handlePacket(encodeIndirectPing({ seqNo: 1, target: Uint8Array.of(9), port: 1, node: "q", nack: true }), FROM, 1);
    assert.ok(logs.some((l) => l.startsWith("ERR memberlist: Failed to send packet: invalid address ?09:1")));
    m.handlePacket(
      encodePing({ seqNo: 1, node: "a", sourceAddr: Uint8Array.of(1, 2, 3, 4, 5), sourcePort: 7 }),
      FROM,
      1,
    );
    assert.ok(logs.at(-1)!.startsWith("ERR memberlist: Failed to send packet: invalid address"));
    m.drain();
    stillAlive(m);
  });

  it("fuzz: random and mutated packets never throw", () => {
    const { m } = core();
    const r = seeded(99);
    const valid = [
      encodePing({ seqNo: 1, node: "a", sourceAddr: Uint8Array.of(1, 2, 3, 4), sourcePort: 7946, sourceNode: "z" }),
      encodeAck({ seqNo: 1, payload: Uint8Array.of(1, 2) }),
      encodeSuspect({ incarnation: 1, node: "a", from: "z" }),
      encodeAlive({
        incarnation: 3,
        node: "n",
        addr: Uint8Array.of(10, 0, 0, 9),
        port: 7946,
        meta: Uint8Array.of(1),
        vsn: VSN,
      }),
      encodeIndirectPing({ seqNo: 3, target: Uint8Array.of(10, 0, 0, 9), port: 7946, node: "n", nack: true }),
      makeCompound([encodeSuspect({ incarnation: 1, node: "n", from: "z" }), encodeAck({ seqNo: 1, payload: null })]),
      compressPayload(makeCompound([encodePing({ seqNo: 3, node: "a" }), encodePing({ seqNo: 4, node: "a" })])),
      addCrc(encodeAck({ seqNo: 2, payload: null })),
    ];
    for (let i = 0; i < 4000; i++) {
      let pkt: Uint8Array;
      if (i % 3 === 0) {
        pkt = Uint8Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256));
        if (pkt.length) pkt[0] = Math.floor(r() * 14);
      } else {
        pkt = valid[i % valid.length].slice();
        const flips = 1 + Math.floor(r() * 4);
        for (let f = 0; f < flips; f++) pkt[Math.floor(r() * pkt.length)] = Math.floor(r() * 256);
        if (r() < 0.3) pkt = pkt.subarray(0, Math.floor(r() * pkt.length));
      }
      assert.doesNotThrow(() => m.handlePacket(pkt, FROM, i), `packet ${Array.from(pkt)}`);
      if (i % 100 === 0) {
        m.tick(i);
        m.drain();
      }
    }
    m.drain();
    stillAlive(m);
  });
});

describe("memberlist: malformed streams", () => {
  function accepted(m: Memberlist) {
    const id = m.streamAccepted(FROM, 0);
    m.drain();
    return id;
  }

  it("rejects absurd push/pull sizes and garbage with Go's wording", () => {
    const { m, logs } = core();
    const cases: [Uint8Array, string][] = [
      [
        new Encoder("gossip").raw([6]).write({ Join: true, Nodes: 3_000_000, UserStateLen: 0 }).bytes().slice(),
        "ERR memberlist: Failed to read remote state: push/pull claims 3000000 nodes",
      ],
      [
        sealStream(new Encoder("gossip").raw([6]).write({ Join: true, Nodes: 500, UserStateLen: 0 }).bytes(), {
          compress: true,
        }),
        "ERR memberlist: Failed to read remote state: push/pull claims 500 nodes",
      ],
      [
        new Encoder("gossip").raw([6]).write({ Join: true, Nodes: -3, UserStateLen: 0 }).bytes().slice(),
        "ERR memberlist: Failed to read remote state: ",
      ],
      [
        new Encoder("gossip").raw([6]).write({ Join: "yes" }).bytes().slice(),
        "ERR memberlist: Failed to read remote state: ",
      ],
      [Uint8Array.of(6, 0xc1), "ERR memberlist: Failed to read remote state: "],
      [Uint8Array.of(0, 0xc1), "ERR memberlist: Failed to decode ping: "],
      [
        Uint8Array.of(8, 0x81, 0xaa, ...new TextEncoder().encode("UserMsgLen"), 0xa1, 0x41),
        "ERR memberlist: Failed to receive user message: ",
      ],
      [
        Uint8Array.of(
          9,
          0x82,
          0xa4,
          ...new TextEncoder().encode("Algo"),
          0x05,
          0xa3,
          ...new TextEncoder().encode("Buf"),
          0xa0,
        ),
        "ERR memberlist: failed to receive: Cannot decompress unknown algorithm 5",
      ],
      [
        Uint8Array.of(13, 0x81, 0xa5, ...new TextEncoder().encode("Error"), 0xa1, 0x78),
        "ERR memberlist: Received invalid msgType (13) from=1.2.3.4:5",
      ],
      [Uint8Array.of(200), "ERR memberlist: Received invalid msgType (200) from=1.2.3.4:5"],
      [
        Uint8Array.of(10, 0, 0, 0, 1, 1),
        "ERR memberlist: failed to receive: Remote state is encrypted and encryption is not configured",
      ],
    ];
    for (const [bytes, want] of cases) {
      const id = accepted(m);
      const before = logs.length;
      assert.doesNotThrow(() => m.streamData(id, bytes, 0));
      const got = logs.slice(before);
      assert.ok(got.some((l) => l.startsWith(want)), `${want} → ${JSON.stringify(got)}`);
      const out = m.drain();
      assert.ok(out.some((o) => o.kind === "close" && o.stream === id), "stream closed");
    }
    assert.equal(m.numMembers(), 1);
    assert.equal(m.numStreams(), 0);
  });

  it("handles stream events for unknown, closed and half-done streams", () => {
    const { m, logs } = core();
    assert.doesNotThrow(() => {
      m.streamData(999, Uint8Array.of(1), 0);
      m.streamConnected(999, 0);
      m.streamClosed(999, 0, "boom");
    });
    const id = accepted(m);
    m.streamData(id, encodePushPull(false, [], null).subarray(0, 3), 0);
    m.streamClosed(id, 0);
    assert.ok(logs.at(-1)!.startsWith("ERR memberlist: failed to receive: unexpected EOF"));
    m.streamData(id, Uint8Array.of(1), 0);
    assert.deepEqual(m.drain(), []);
    const quiet = accepted(m);
    const before = logs.length;
    m.streamClosed(quiet, 0);
    assert.equal(logs.length, before, "EOF before any byte is silent, as in Go");
  });

  it("fuzz: random and mutated stream bytes never throw", () => {
    const { m } = core();
    const r = seeded(7);
    const valid = [
      encodePushPull(true, [{
        name: "n",
        addr: Uint8Array.of(10, 0, 0, 9),
        port: 7946,
        meta: null,
        incarnation: 1,
        state: 0,
        vsn: VSN,
      }], Uint8Array.of(1, 2)),
      sealStream(encodePushPull(false, [], null), { compress: true }),
      encodePing({ seqNo: 1, node: "a" }),
      sealStream(encodeAck({ seqNo: 1, payload: null }), { compress: true }),
    ];
    for (let i = 0; i < 1500; i++) {
      const id = accepted(m);
      const pkt = valid[i % valid.length].slice();
      for (let f = 0; f < 1 + Math.floor(r() * 3); f++) pkt[Math.floor(r() * pkt.length)] = Math.floor(r() * 256);
      let at = 0;
      while (at < pkt.length) {
        const n = 1 + Math.floor(r() * 8);
        assert.doesNotThrow(() => m.streamData(id, pkt.subarray(at, at + n), i));
        at += n;
      }
      m.streamClosed(id, i);
      m.drain();
    }
    m.tick(100_000);
    m.drain();
    assert.equal(m.numStreams(), 0);
    stillAlive(m);
  });

  it("the stream reader never throws either", () => {
    const r = seeded(1);
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256));
      if (bytes.length && r() < 0.5) bytes[0] = [0, 2, 6, 8, 9, 10, 13][Math.floor(r() * 7)];
      const reader = new StreamReader(r() < 0.2 ? [new Uint8Array(16)] : undefined);
      assert.doesNotThrow(() => reader.push(bytes));
    }
    assert.deepEqual(decodeAck(encodeAck({ seqNo: 1, payload: null }).subarray(1)), { seqNo: 1, payload: null });
    assert.equal(MessageType.Err, 13);
  });
});
