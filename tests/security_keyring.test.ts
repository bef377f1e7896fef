import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Keyring } from "../lib/security/keyring.ts";

const key = (fill: number, n = 16): Uint8Array => new Uint8Array(n).fill(fill);
const fills = (ring: Keyring): number[] => ring.getKeys().map((k) => k[0]);

describe("Keyring.validateKey", () => {
  it("accepts 16, 24 and 32 bytes", () => {
    for (const n of [16, 24, 32]) Keyring.validateKey(key(1, n));
  });
  it("rejects other sizes with memberlist's text", () => {
    for (const n of [0, 1, 15, 17, 31, 33, 64]) {
      assert.throws(() => Keyring.validateKey(key(1, n)), { message: "key size must be 16, 24 or 32 bytes" });
    }
  });
});

describe("new Keyring", () => {
  it("puts the primary first, then the other keys in order, without duplicates", () => {
    const ring = new Keyring([key(1), key(2), key(3), key(2)], key(3));
    assert.deepEqual(fills(ring), [3, 1, 2]);
    assert.equal(ring.getPrimaryKey()?.[0], 3);
    assert.equal(ring.size, 3);
  });
  it("adds a primary that is not in the list at position 0", () => {
    assert.deepEqual(fills(new Keyring([key(1), key(2)], key(9))), [9, 1, 2]);
  });
  it("uses the first key as primary when none is given", () => {
    assert.deepEqual(fills(new Keyring([key(5), key(6)])), [5, 6]);
  });
  it("accepts only a primary key", () => {
    assert.deepEqual(fills(new Keyring([], key(7, 32))), [7]);
  });
  it("is empty with no keys", () => {
    const ring = new Keyring([]);
    assert.equal(ring.getPrimaryKey(), undefined);
    assert.deepEqual(ring.getKeys(), []);
  });
  it("rejects an empty primary key and invalid keys", () => {
    assert.throws(() => new Keyring([key(1)], new Uint8Array(0)), { message: "Empty primary key not allowed" });
    assert.throws(() => new Keyring([key(1, 10)]), { message: "key size must be 16, 24 or 32 bytes" });
    assert.throws(() => new Keyring([key(1), key(2, 20)], key(1)), { message: "key size must be 16, 24 or 32 bytes" });
  });
  it("copies keys so later mutation of the caller's array has no effect", () => {
    const k = key(1);
    const ring = new Keyring([k]);
    k[0] = 99;
    assert.equal(ring.getPrimaryKey()?.[0], 1);
  });
});

describe("Keyring operations", () => {
  it("addKey appends, keeps the primary, ignores duplicates, validates", () => {
    const ring = new Keyring([key(1)]);
    ring.addKey(key(2));
    ring.addKey(key(1));
    ring.addKey(key(2));
    assert.deepEqual(fills(ring), [1, 2]);
    assert.throws(() => ring.addKey(key(3, 8)), { message: "key size must be 16, 24 or 32 bytes" });
  });
  it("addKey on an empty ring makes that key primary", () => {
    const ring = new Keyring([]);
    ring.addKey(key(4));
    assert.equal(ring.getPrimaryKey()?.[0], 4);
  });
  it("useKey moves an installed key to the front, keeping the others' order", () => {
    const ring = new Keyring([key(1), key(2), key(3)]);
    ring.useKey(key(3));
    assert.deepEqual(fills(ring), [3, 1, 2]);
    ring.useKey(key(3));
    assert.deepEqual(fills(ring), [3, 1, 2]);
    assert.throws(() => ring.useKey(key(8)), { message: "Requested key is not in the keyring" });
  });
  it("removeKey drops secondary keys, ignores absent ones, refuses the primary", () => {
    const ring = new Keyring([key(1), key(2), key(3)]);
    ring.removeKey(key(2));
    assert.deepEqual(fills(ring), [1, 3]);
    ring.removeKey(key(9));
    assert.deepEqual(fills(ring), [1, 3]);
    assert.throws(() => ring.removeKey(key(1)), { message: "Removing the primary key is not allowed" });
    assert.deepEqual(fills(ring), [1, 3]);
  });
  it("getKeys returns a fresh array", () => {
    const ring = new Keyring([key(1), key(2)]);
    ring.getKeys().pop();
    assert.equal(ring.size, 2);
  });
  it("rotation: add new, use new, remove old", () => {
    const ring = new Keyring([key(1)]);
    ring.addKey(key(2));
    ring.useKey(key(2));
    ring.removeKey(key(1));
    assert.deepEqual(fills(ring), [2]);
  });
});
