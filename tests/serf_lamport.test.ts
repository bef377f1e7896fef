import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LamportClock } from "../lib/serf/lamport.ts";

describe("LamportClock", () => {
  it("starts at 0 and increments", () => {
    const c = new LamportClock();
    assert.equal(c.time(), 0);
    assert.equal(c.increment(), 1);
    assert.equal(c.time(), 1);
  });
  it("witness moves to v+1 only when v is not behind (Go's lamport_test)", () => {
    const c = new LamportClock();
    c.increment();
    c.witness(41);
    assert.equal(c.time(), 42);
    c.witness(41);
    assert.equal(c.time(), 42);
    c.witness(30);
    assert.equal(c.time(), 42);
    c.witness(42); // equal to current: Go sets other+1
    assert.equal(c.time(), 43);
  });
});
