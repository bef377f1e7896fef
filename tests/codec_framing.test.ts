import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { crc32 } from "../lib/codec/crc32.ts";
import {
  COMPOUND_MSG,
  compoundOverhead,
  decodeCompound,
  GO_SAFE_COMPOUND_PARTS,
  makeCompound,
  MAX_COMPOUND_PARTS,
} from "../lib/codec/compound.ts";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const filled = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

describe("crc32 (IEEE, as Go crc32.ChecksumIEEE)", () => {
  it("matches the standard check values", () => {
    assert.equal(crc32(text("123456789")), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
    assert.equal(crc32(text("a")), 0xe8b7be43);
    assert.equal(crc32(text("The quick brown fox jumps over the lazy dog")), 0x414fa339);
    assert.equal(crc32(filled(32, 0)), 0x190a55ad);
  });
  it("agrees with the bytewise definition at every length and offset", () => {
    const table = Array.from({ length: 256 }, (_, i) => {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
      return c >>> 0;
    });
    const slow = (d: Uint8Array) => {
      let c = 0xffffffff;
      for (const b of d) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
      return (c ^ 0xffffffff) >>> 0;
    };
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + (i >> 3) * 7) & 0xff);
    for (let off = 0; off < 9; off++) {
      for (let len = 0; off + len <= data.length; len += len < 40 ? 1 : 37) {
        const view = data.subarray(off, off + len);
        assert.equal(crc32(view), slow(view), `offset ${off} length ${len}`);
      }
    }
  });
  it("returns an unsigned 32-bit number and respects subarray views", () => {
    const buf = text("xx123456789yy");
    assert.equal(crc32(buf.subarray(2, 11)), 0xcbf43926);
    // High-bit values come back unsigned, not as negative int32.
    assert.equal(crc32(filled(32, 0xff)), 4285311755);
    assert.equal(crc32(text("abc")), 0x352441c2);
  });
  it("agrees with a bit-at-a-time CRC on every byte value (the written-out table is right)", () => {
    const slow = (data: Uint8Array) => {
      let c = 0xffffffff;
      for (const b of data) {
        c ^= b;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    for (let b = 0; b < 256; b++) assert.equal(crc32(bytes(b)), slow(bytes(b)), `byte ${b}`);
    const mixed = Uint8Array.from({ length: 4096 }, (_, i) => (i * 167 + (i >> 3)) & 255);
    assert.equal(crc32(mixed), slow(mixed));
  });
  it("detects a single flipped bit", () => {
    const a = text("memberlist gossip packet");
    const b = a.slice();
    b[5] ^= 0x10;
    assert.notEqual(crc32(a), crc32(b));
  });
});

describe("makeCompound", () => {
  it("frames parts as [7][count][u16 BE lengths][parts]", () => {
    const out = makeCompound([bytes(1, 2, 3), new Uint8Array(0), filled(300, 9)]);
    assert.deepEqual(Array.from(out.subarray(0, 8)), [7, 3, 0, 3, 0, 0, 0x01, 0x2c]);
    assert.deepEqual(Array.from(out.subarray(8, 11)), [1, 2, 3]);
    assert.equal(out.length, compoundOverhead(3) + 303);
    assert.ok(out.subarray(11).every((b) => b === 9));
  });
  it("handles zero parts", () => {
    assert.deepEqual(Array.from(makeCompound([])), [COMPOUND_MSG, 0]);
  });
  it("accepts 255 parts and refuses 256", () => {
    const parts = Array.from({ length: MAX_COMPOUND_PARTS }, (_, i) => bytes(i & 0xff));
    const out = makeCompound(parts);
    assert.equal(out[1], 255);
    assert.equal(decodeCompound(out.subarray(1)).parts.length, 255);
    assert.throws(() => makeCompound([...parts, bytes(0)]), RangeError);
    assert.equal(GO_SAFE_COMPOUND_PARTS, 127);
  });
  it("refuses a part longer than 65535 bytes", () => {
    assert.equal(makeCompound([new Uint8Array(0xffff)]).length, 0xffff + 4);
    assert.throws(() => makeCompound([new Uint8Array(0x10000)]), RangeError);
  });
});

describe("decodeCompound (Go's decodeCompoundMessage rules)", () => {
  it("round trips", () => {
    const parts = [bytes(0, 1), bytes(4, 5, 6, 7), new Uint8Array(0), filled(1000, 3)];
    const got = decodeCompound(makeCompound(parts).subarray(1));
    assert.equal(got.truncated, 0);
    assert.deepEqual(got.parts.map((p) => Array.from(p)), parts.map((p) => Array.from(p)));
  });
  it("errors without a count byte", () => {
    assert.throws(() => decodeCompound(new Uint8Array(0)), /^Error: missing compound length byte$/);
  });
  it("errors on a truncated length table", () => {
    assert.throws(() => decodeCompound(bytes(3, 0, 1, 0, 1, 0)), /^Error: truncated len slice$/);
    assert.throws(() => decodeCompound(bytes(1)), /truncated len slice/);
  });
  it("stops at a part longer than the remaining bytes and counts the rest as truncated", () => {
    // 3 parts of 2, 5, 1 bytes but only 2 + 3 bytes of data.
    const got = decodeCompound(bytes(3, 0, 2, 0, 5, 0, 1, 0xa, 0xb, 0xc, 0xd, 0xe));
    assert.deepEqual(got.parts.map((p) => Array.from(p)), [[0xa, 0xb]]);
    assert.equal(got.truncated, 2);
    const none = decodeCompound(bytes(2, 0, 4, 0, 0, 1));
    assert.equal(none.parts.length, 0);
    assert.equal(none.truncated, 2);
  });
  it("ignores bytes after the last part", () => {
    const got = decodeCompound(bytes(1, 0, 1, 0x42, 0x99, 0x99));
    assert.deepEqual(got.parts.map((p) => Array.from(p)), [[0x42]]);
    assert.equal(got.truncated, 0);
  });
  it("decodes a real-shaped gossip compound (alive + serf user event)", () => {
    const alive = bytes(4, 0x80);
    const user = Uint8Array.of(8, 3, 0x84, ...text("x"));
    const compound = makeCompound([alive, user]);
    assert.equal(compound[0], COMPOUND_MSG);
    const { parts } = decodeCompound(compound.subarray(1));
    assert.equal(parts[0][0], 4);
    assert.deepEqual(Array.from(parts[1]), Array.from(user));
  });
});
