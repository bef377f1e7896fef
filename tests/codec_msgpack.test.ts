import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decode as oracleDecode, encode as oracleEncode } from "@msgpack/msgpack";
import { decode, DecodeError, Decoder, type Dialect, encode, Encoder, f64 } from "../lib/codec/msgpack.ts";
import { asMap, bool, bytes, bytesOrNull, int, str, stringMap, strings, uint } from "../lib/codec/fields.ts";
import { utf8Text } from "../lib/codec/text.ts";
import { sharedBytes, sharedCopy } from "../lib/codec/shared_bytes.ts";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
/** Hex of a msgpack str header + ASCII text, e.g. s("Node") = "a44e6f6465". */
const s = (text: string): string => {
  const n = text.length;
  if (n >= 32) throw new Error("fixstr only");
  return (0xa0 | n).toString(16) + hex(utf8(text));
};
const txt = (text: string): string => hex(utf8(text));
const enc = (v: unknown, d: Dialect = "gossip"): string => hex(encode(v, d));

function expectDecodeError(buf: Uint8Array, dialect: Dialect, truncated: boolean, re?: RegExp): void {
  assert.throws(
    () => decode(buf, dialect),
    (e: unknown) => e instanceof DecodeError && e.truncated === truncated && (re === undefined || re.test(e.message)),
  );
}

describe("golden bytes (serf-protocol.md §6.14)", () => {
  it("UDP ping from node a to node probe", () => {
    const bytes = new Encoder("gossip").raw([0]).write({
      SeqNo: 59,
      Node: "probe",
      SourceAddr: Uint8Array.of(127, 0, 0, 1),
      SourceNode: "a",
      SourcePort: 7946,
    }).bytes();
    assert.equal(
      hex(bytes),
      "00" + "85" + s("Node") + s("probe") + s("SeqNo") + "3b" + s("SourceAddr") + "a47f000001" +
        s("SourceNode") + s("a") + s("SourcePort") + "cd1f0a",
    );
  });
  it("RPC response header", () => {
    assert.equal(enc({ Seq: 0, Error: "" }, "rpc"), "82" + s("Error") + "a0" + s("Seq") + "00");
  });
  it("Vsn byte array", () => {
    assert.equal(enc(Uint8Array.of(1, 5, 2, 2, 5, 5)), "a6010502020505");
  });
  it("ack with a 130-byte coordinate payload uses str16", () => {
    const coord = new Encoder("gossip").raw([1]).write({
      Vec: Array.from({ length: 8 }, () => f64(0)),
      Error: f64(1.5),
      Adjustment: f64(0),
      Height: f64(1e-5),
    }).bytes();
    assert.equal(coord.length, 130);
    const ack = hex(new Encoder("gossip").raw([2]).write({ SeqNo: 42, Payload: coord }).bytes());
    assert.ok(ack.startsWith("02" + "82" + s("Payload") + "da0082" + "0184" + s("Adjustment") + "cb"));
    assert.ok(ack.endsWith(s("SeqNo") + "2a"));
  });
  it("push/pull header and node state", () => {
    const header = new Encoder("gossip").raw([6]).write({ Join: false, Nodes: 3, UserStateLen: 591 }).bytes();
    assert.equal(hex(header), "06" + "83" + s("Join") + "c2" + s("Nodes") + "03" + s("UserStateLen") + "cd024f");
    const meta = Uint8Array.of(0xff, ...encode({ role: "web" }, "gossip"));
    const state = enc({
      Name: "a",
      Addr: Uint8Array.of(127, 0, 0, 1),
      Port: 7946,
      Meta: meta,
      Incarnation: 3,
      State: 0,
      Vsn: Uint8Array.of(1, 5, 2, 2, 5, 5),
    });
    assert.equal(
      state,
      "87" + s("Addr") + "a47f000001" + s("Incarnation") + "03" + s("Meta") + (0xa0 | meta.length).toString(16) +
        hex(meta) + s("Name") + s("a") +
        s("Port") + "cd1f0a" + s("State") + "00" + s("Vsn") + "a6010502020505",
    );
    assert.ok(enc(new Array(512).fill(null)).startsWith("dc0200c0c0"));
  });
  it("compress message and serf user event", () => {
    const buf = new Uint8Array(0xa6);
    assert.ok(
      hex(new Encoder("gossip").raw([9]).write({ Algo: 0, Buf: buf }).bytes())
        .startsWith("09" + "82" + s("Algo") + "00" + s("Buf") + "da00a6"),
    );
    assert.equal(
      enc({ LTime: 1, Name: "ev2", Payload: utf8("p2"), CC: true }),
      "84" + s("CC") + "c3" + s("LTime") + "01" + s("Name") + s("ev2") + s("Payload") + s("p2"),
    );
  });
  it("RPC member: bin8 for addresses, str8 for long strings", () => {
    assert.ok(
      enc({ Addr: Uint8Array.of(127, 0, 0, 1), DelegateCur: 5 }, "rpc")
        .startsWith("82" + s("Addr") + "c4047f000001" + s("DelegateCur") + "05"),
    );
    const msg = "x".repeat(0x62);
    assert.equal(enc(msg, "rpc"), "d962" + txt(msg));
  });
});

describe("string and byte families", () => {
  it("gossip: fixstr below 32, str16 from 32 to 65535, str32 above; never str8 or bin", () => {
    for (
      const [n, head] of [[0, "a0"], [31, "bf"], [32, "da0020"], [255, "da00ff"], [256, "da0100"], [65535, "daffff"], [
        65536,
        "db00010000",
      ]] as const
    ) {
      assert.ok(enc(new Uint8Array(n)).startsWith(head), `bytes ${n}`);
      assert.ok(enc("y".repeat(n)).startsWith(head), `string ${n}`);
    }
  });
  it("rpc: strings use fixstr/str8/str16/str32, bytes bin8/bin16/bin32", () => {
    for (
      const [n, head] of [[0, "a0"], [31, "bf"], [32, "d920"], [255, "d9ff"], [256, "da0100"], [
        65536,
        "db00010000",
      ]] as const
    ) {
      assert.ok(enc("y".repeat(n), "rpc").startsWith(head), `string ${n}`);
    }
    for (
      const [n, head] of [[0, "c400"], [4, "c404"], [255, "c4ff"], [256, "c50100"], [65536, "c600010000"]] as const
    ) {
      assert.ok(enc(new Uint8Array(n), "rpc").startsWith(head), `bytes ${n}`);
    }
  });
  it("UTF-8 strings count bytes, not characters", () => {
    assert.equal(enc("é"), "a2c3a9");
  });
  it("gossip decodes every str as bytes; rpc decodes str as text and bin as bytes", () => {
    assert.deepEqual(decode(encode("hi", "gossip"), "gossip"), utf8("hi"));
    assert.equal(decode(encode("hi", "rpc"), "rpc"), "hi");
    assert.deepEqual(decode(encode(utf8("hi"), "rpc"), "rpc"), utf8("hi"));
    assert.deepEqual(decode(Uint8Array.of(0xc4, 1, 7), "gossip"), Uint8Array.of(7));
  });
});

describe("maps, ints, floats", () => {
  it("sorts struct keys byte-wise (uppercase first) and omits undefined", () => {
    assert.equal(
      enc({ b: 1, a: 2, SourceAddr: 3, SeqNo: 4, B: 5, skip: undefined, nil: null }),
      "86" + s("B") + "05" + s("SeqNo") + "04" + s("SourceAddr") + "03" + s("a") + "02" + s("b") + "01" + s("nil") +
        "c0",
    );
  });
  it("keeps Map insertion order", () => {
    assert.equal(enc(new Map([["z", 1], ["a", 2]])), "82" + s("z") + "01" + s("a") + "02");
  });
  it("uses the smallest unsigned form for non-negative integers", () => {
    const cases: [number | bigint, string][] = [
      [0, "00"],
      [127, "7f"],
      [128, "cc80"],
      [255, "ccff"],
      [256, "cd0100"],
      [65535, "cdffff"],
      [65536, "ce00010000"],
      [0xffffffff, "ceffffffff"],
      [2 ** 32, "cf0000000100000000"],
      [1e9, "ce3b9aca00"],
      [5n, "05"],
      [2n ** 64n - 1n, "cfffffffffffffffff"],
      [Number.MAX_SAFE_INTEGER, "cf001fffffffffffff"],
    ];
    for (const [v, want] of cases) assert.equal(enc(v), want, String(v));
  });
  it("uses negative fixint and int8..int64 for negatives", () => {
    const cases: [number | bigint, string][] = [
      [-1, "ff"],
      [-32, "e0"],
      [-33, "d0df"],
      [-128, "d080"],
      [-129, "d1ff7f"],
      [-32768, "d18000"],
      [-32769, "d2ffff7fff"],
      [-(2 ** 31), "d280000000"],
      [-(2 ** 31) - 1, "d3ffffffff7fffffff"],
      [-(2n ** 63n), "d38000000000000000"],
    ];
    for (const [v, want] of cases) assert.equal(enc(v), want, String(v));
  });
  it("refuses integers beyond 64 bits", () => {
    assert.throws(() => encode(2n ** 64n, "gossip"), RangeError);
    assert.throws(() => encode(-(2n ** 63n) - 1n, "gossip"), RangeError);
  });
  it("writes integral doubles beyond 64 bits as float64", () => {
    assert.equal(enc(2 ** 64), "cb43f0000000000000");
    assert.equal(enc(-1e300), hex(Uint8Array.of(0xcb, ...new Uint8Array(new Float64Array([-1e300]).buffer).reverse())));
    assert.equal(enc(2 ** 63), "cf8000000000000000");
    assert.equal(enc(-(2 ** 63)), "d38000000000000000");
  });
  it("writes float64 for fractions and for F64-wrapped integers", () => {
    assert.equal(enc(1.5), "cb3ff8000000000000");
    assert.equal(enc(f64(1)), "cb3ff0000000000000");
    assert.equal(enc(f64(0)), "cb0000000000000000");
    assert.equal(enc(-0.25), "cbbfd0000000000000");
  });
  it("decodes float32, uint64 beyond 2^53 as bigint, int64 in range as number", () => {
    assert.equal(decode(Uint8Array.of(0xca, 0x3f, 0xc0, 0, 0), "gossip"), 1.5);
    assert.equal(decode(Uint8Array.of(0xcf, 0, 0x20, 0, 0, 0, 0, 0, 0), "gossip"), 2n ** 53n);
    assert.equal(decode(Uint8Array.of(0xcf, 0, 0, 0, 0, 0, 0, 0, 9), "gossip"), 9);
    assert.equal(decode(Uint8Array.of(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe), "gossip"), -2);
    assert.equal(decode(Uint8Array.of(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), "gossip"), -(2n ** 63n));
  });
});

describe("round trips", () => {
  const value = {
    Name: "node-1",
    Tags: new Map([["role", "web"], ["dc", "east"]]),
    Addr: Uint8Array.of(10, 0, 0, 1),
    Port: 7946,
    Nums: [0, 1, -1, 127, 128, -33, 65536, -40000, 2 ** 40, -(2 ** 40), 1.25],
    Nested: { Deep: [[[{ X: true, Y: false, Z: null }]]] },
    Long: "z".repeat(70000),
    Big: 2n ** 62n,
  };
  it("rpc: strings come back as strings", () => {
    const got = decode(encode(value, "rpc"), "rpc") as Record<string, unknown>;
    assert.equal(got.Name, "node-1");
    assert.deepEqual({ ...(got.Tags as object) }, { role: "web", dc: "east" });
    assert.deepEqual(got.Addr, value.Addr);
    assert.deepEqual(got.Nums, value.Nums);
    assert.equal((got.Long as string).length, 70000);
    assert.equal(got.Big, 2n ** 62n);
    assert.equal(JSON.stringify(got.Nested), JSON.stringify(value.Nested));
  });
  it("gossip: strings come back as bytes, read with fields.ts", () => {
    const got = asMap(decode(encode(value, "gossip"), "gossip"));
    assert.equal(str(got, "Name"), "node-1");
    assert.deepEqual(stringMap(got, "Tags"), { role: "web", dc: "east" });
    assert.deepEqual(bytes(got, "Addr"), value.Addr);
    assert.equal(uint(got, "Port", 16), 7946);
    assert.equal(str(got, "Long").length, 70000);
  });
  it("a Decoder reads values back to back and tracks its offset", () => {
    const buf = new Encoder("gossip").raw([6]).write({ A: 1 }).write([1, 2]).write("x").bytes();
    const d = new Decoder(buf, "gossip", 1);
    assert.equal(int(asMap(d.read()), "A"), 1);
    assert.deepEqual(d.read(), [1, 2]);
    assert.deepEqual(d.read(), utf8("x"));
    assert.equal(d.remaining, 0);
    expectDecodeError(buf.subarray(buf.length), "gossip", true);
  });
});

describe("oracle: @msgpack/msgpack", () => {
  const sample = {
    Str: "hello",
    Long: "l".repeat(300),
    Unicode: "Grüße ✓",
    Ints: [
      0,
      1,
      127,
      128,
      255,
      256,
      65535,
      65536,
      2 ** 32 - 1,
      2 ** 32,
      -1,
      -32,
      -33,
      -128,
      -129,
      -32768,
      -32769,
      -(2 ** 31),
      -(2 ** 31) - 1,
    ],
    Floats: [0.5, -1e300, 3.14],
    Bools: [true, false],
    Nil: null,
    Map: { b: { c: [] }, a: {} },
    Bytes: Uint8Array.of(0, 1, 254, 255),
    Arr16: new Array(20).fill(7),
  };
  it("decodes our rpc output to the same value", () => {
    const got = oracleDecode(encode(sample, "rpc"));
    assert.deepEqual(JSON.parse(JSON.stringify(got, replacer)), JSON.parse(JSON.stringify(sample, replacer)));
    assert.ok((got as Record<string, unknown>).Bytes instanceof Uint8Array);
  });
  it("decodes our gossip output (str as raw bytes) to the same bytes", () => {
    const got = oracleDecode(encode(sample, "gossip"), { rawStrings: true }) as Record<string, unknown>;
    assert.deepEqual(got.Str, utf8("hello"));
    assert.deepEqual(got.Unicode, utf8("Grüße ✓"));
    assert.deepEqual(got.Bytes, sample.Bytes);
    assert.deepEqual(got.Ints, sample.Ints);
    assert.deepEqual(Object.keys(got), Object.keys(sample).sort());
  });
  it("our rpc decoder reads what the oracle encodes", () => {
    const bytes = oracleEncode(sample);
    const got = decode(bytes, "rpc");
    assert.deepEqual(JSON.parse(JSON.stringify(got, replacer)), JSON.parse(JSON.stringify(sample, replacer)));
    const big = oracleEncode({ u: 2n ** 63n, i: -(2n ** 62n) }, { useBigInt64: true });
    assert.deepEqual({ ...(decode(big, "rpc") as object) }, { u: 2n ** 63n, i: -(2n ** 62n) });
  });
  it("both agree on every integer boundary", () => {
    for (let e = 0; e <= 53; e++) {
      for (const v of [2 ** e - 1, 2 ** e, -(2 ** e), -(2 ** e) - 1]) {
        if (!Number.isSafeInteger(v)) continue;
        const ours = encode(v, "rpc");
        assert.equal(oracleDecode(ours, { useBigInt64: false }), v, `ours ${v}`);
        assert.equal(decode(oracleEncode(v), "rpc"), v, `oracle ${v}`);
        assert.ok(ours.length <= oracleEncode(v).length, `smallest form for ${v}`);
      }
    }
  });
});

function replacer(_k: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: Array.from(v) };
  if (typeof v === "bigint") return v.toString() + "n";
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    // Compare maps without regard to prototype or key order.
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
  }
  return v;
}

describe("malformed input", () => {
  it("every strict prefix of a valid message is truncated=true", () => {
    const full = encode({
      Name: "n".repeat(40),
      Addr: new Uint8Array(300),
      Vec: [f64(1), 70000, -40000],
      M: { a: [true] },
    }, "rpc");
    for (let cut = 0; cut < full.length; cut++) {
      for (const dialect of ["rpc", "gossip"] as const) expectDecodeError(full.subarray(0, cut), dialect, true);
    }
  });
  it("huge array, map and str counts fail without allocating", () => {
    expectDecodeError(Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0x00), "gossip", true, /array length/);
    expectDecodeError(Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff, 0x00), "gossip", true, /map length/);
    expectDecodeError(Uint8Array.of(0xdc, 0xff, 0xff, 1, 2, 3), "rpc", true);
    expectDecodeError(Uint8Array.of(0xde, 0x00, 0x03, 0xa1, 0x61, 0x01), "rpc", true);
    expectDecodeError(Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61), "rpc", true);
    expectDecodeError(Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xff, 0x61), "gossip", true);
  });
  it("unsupported type bytes are errors, not truncation", () => {
    for (const b of [0xc1, 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8]) {
      expectDecodeError(
        Uint8Array.of(b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        "gossip",
        false,
        /unsupported type byte/,
      );
    }
  });
  it("non-string map keys and excessive nesting are errors", () => {
    expectDecodeError(Uint8Array.of(0x81, 0x01, 0x01), "gossip", false, /map key/);
    expectDecodeError(new Uint8Array(600).fill(0x91), "gossip", false, /nested too deeply/);
    assert.throws(() => {
      let v: unknown = 1;
      for (let i = 0; i < 600; i++) v = [v];
      encode(v, "gossip");
    }, /nested too deeply/);
  });
  it("a __proto__ key stays an own property", () => {
    const m = decode(Uint8Array.of(0x81, 0xa9, ...utf8("__proto__"), 0x01), "rpc") as Record<string, unknown>;
    assert.equal(Object.getOwnPropertyDescriptor(m, "__proto__")?.value, 1);
  });
});

describe("fields.ts (go-msgpack acceptance rules)", () => {
  const m = asMap(decode(
    encode({
      S: "str",
      B: utf8("raw"),
      L: [1, 2, 255],
      Bad: [1, 256],
      N: -5,
      U: 300,
      One: 1,
      T: true,
      F: 2.5,
      Big: 2n ** 60n,
      Tags: { role: "db", __proto__x: "y" },
      List: ["a", "b"],
    }, "gossip"),
    "gossip",
  ));
  it("strings and bytes", () => {
    assert.equal(str(m, "S"), "str");
    assert.equal(str(m, "Missing"), "");
    assert.deepEqual(bytes(m, "B"), utf8("raw"));
    assert.deepEqual(bytes(m, "L"), Uint8Array.of(1, 2, 255));
    assert.throws(() => bytes(m, "Bad"), DecodeError);
    assert.equal(bytesOrNull(m, "Missing"), null);
    assert.throws(() => str(m, "N"), DecodeError);
    assert.deepEqual(strings(m, "List"), ["a", "b"]);
  });
  it("integers with Go's range checks", () => {
    assert.equal(uint(m, "U", 16), 300);
    assert.throws(() => uint(m, "U", 8), /overflow/);
    assert.throws(() => uint(m, "N"), /negative/);
    assert.equal(int(m, "N"), -5);
    assert.equal(uint(m, "Big", 64), 2 ** 60);
    assert.throws(() => uint(m, "Big", 32), DecodeError);
    assert.throws(() => int(m, "F"), DecodeError);
  });
  it("bools accept true/false and 0/1", () => {
    assert.equal(bool(m, "T"), true);
    assert.equal(bool(m, "One"), true);
    assert.equal(bool(m, "Missing"), false);
    assert.throws(() => bool(m, "U"), DecodeError);
  });
  it("string maps keep every key, including __proto__", () => {
    assert.deepEqual(stringMap(m, "Tags"), { role: "db", __proto__x: "y" });
    const tags = asMap(
      decode(Uint8Array.of(0x81, 0xa4, ...utf8("Tags"), 0x81, 0xa9, ...utf8("__proto__"), 0xa1, 0x78), "gossip"),
    );
    const out = stringMap(tags, "Tags");
    assert.equal(Object.getOwnPropertyDescriptor(out, "__proto__")?.value, "x");
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
  });
});

describe("text and shared bytes", () => {
  it("utf8Text reads like TextDecoder, and short ASCII names come back as the same string", () => {
    const td = new TextDecoder();
    const samples = [
      "",
      "Node",
      "node-123",
      "a".repeat(48),
      "a".repeat(49),
      "héllo",
      "\u{1f600}",
      "\ufeffBOM",
      "x\u0000y",
    ];
    const bytes = samples.map((t) => new TextEncoder().encode(t));
    bytes.push(Uint8Array.of(0xff, 0x41), Uint8Array.of(0x41, 0xc3), Uint8Array.of(0xef, 0xbb, 0xbf));
    for (const b of bytes) {
      const padded = Uint8Array.from([9, ...b, 9]);
      assert.equal(utf8Text(padded, 1, 1 + b.length), td.decode(b), JSON.stringify([...b]));
    }
    const a = utf8Text(new TextEncoder().encode("node-7"), 0, 6);
    assert.equal(a, "node-7");
    assert.equal(utf8Text(Uint8Array.from([0, ...new TextEncoder().encode("node-7")]), 1, 7), a);
  });
  it("sharedBytes gives one copy per short value, distinct by length, and survives a corrupted copy", () => {
    const a = sharedBytes(Uint8Array.of(9, 10, 0, 0, 1), 1, 5);
    assert.deepEqual(a, Uint8Array.of(10, 0, 0, 1));
    assert.equal(sharedBytes(Uint8Array.of(10, 0, 0, 1), 0, 4), a, "shared");
    assert.deepEqual(sharedBytes(Uint8Array.of(0, 0), 0, 2), Uint8Array.of(0, 0));
    assert.deepEqual(sharedBytes(Uint8Array.of(0), 0, 1), Uint8Array.of(0));
    assert.deepEqual(sharedBytes(new Uint8Array(0), 0, 0), new Uint8Array(0));
    const long = Uint8Array.of(1, 2, 3, 4, 5, 6, 7);
    const copy = sharedBytes(long, 0, 7);
    assert.deepEqual(copy, long);
    assert.notEqual(copy, sharedBytes(long, 0, 7), "longer values are fresh copies");
    a[0] = 99; // a caller broke the rule
    const again = sharedBytes(Uint8Array.of(10, 0, 0, 1), 0, 4);
    assert.deepEqual(again, Uint8Array.of(10, 0, 0, 1), "a corrupted entry is replaced");
  });
  it("sharedCopy shares equal messages up to 1 KiB, never different ones", () => {
    const msg = Uint8Array.from({ length: 60 }, (_, i) => i);
    const view = Uint8Array.from([7, ...msg, 7]).subarray(1, 61);
    const a = sharedCopy(view);
    assert.deepEqual(a, msg);
    assert.notEqual(a.buffer, view.buffer, "a copy, not the view");
    assert.equal(sharedCopy(msg.slice()), a);
    const other = msg.slice();
    other[59] = 0;
    assert.deepEqual(sharedCopy(other), other);
    assert.notEqual(sharedCopy(other), a);
    const big = new Uint8Array(1025);
    assert.notEqual(sharedCopy(big), sharedCopy(big));
    a[0] = 42; // a caller broke the rule
    assert.deepEqual(sharedCopy(msg), msg, "a corrupted entry is replaced");
  });
});
