import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkTagsSize, decodeTags, encodeTags, TAGS_TOO_LARGE } from "../lib/serf/tags.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

describe("serf tags", () => {
  it("protocol >= 3: 0xFF + msgpack map (Go bytes)", () => {
    assert.equal(hex(encodeTags({}, 5)), "ff80");
    assert.equal(hex(encodeTags({ role: "web" }, 3)), "ff81a4726f6c65a3776562");
  });
  it("protocol < 3: the raw role tag only", () => {
    assert.deepEqual(encodeTags({ role: "web", dc: "x" }, 2), new TextEncoder().encode("web"));
    assert.equal(encodeTags({ dc: "x" }, 2).length, 0);
  });
  it("round-trips through decodeTags", () => {
    const tags = { role: "db", dc: "eu-1", "ünïcode": "välue" };
    assert.deepEqual(decodeTags(encodeTags(tags, 5)), tags);
  });
  it("decode quirk: empty or non-magic meta is a bare role", () => {
    assert.deepEqual(decodeTags(new Uint8Array(0)), { role: "" });
    assert.deepEqual(decodeTags(new TextEncoder().encode("lb")), { role: "lb" });
  });
  it("a malformed map reports an error and yields no tags", () => {
    let err: Error | undefined;
    const tags = decodeTags(new Uint8Array([0xff, 0x81, 0xa1, 0x61]), (e) => (err = e));
    assert.deepEqual(tags, {});
    assert.ok(err);
  });
  it("512-byte metadata limit with Go's error text", () => {
    const fits = { k: "x".repeat(512 - 7) }; // ff 81 a1 "k" da 01f9 + 505 bytes
    assert.equal(encodeTags(fits, 5).length, 512);
    checkTagsSize(fits, 5);
    const big = { k: "x".repeat(600) };
    assert.throws(() => checkTagsSize(big, 5), { message: TAGS_TOO_LARGE });
    assert.equal(TAGS_TOO_LARGE, "Encoded length of tags exceeds limit of 512 bytes");
  });
});
