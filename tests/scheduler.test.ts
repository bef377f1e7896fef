import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Scheduler } from "../lib/core/scheduler.ts";
import { seeded, shuffle } from "../lib/core/random.ts";

describe("Scheduler", () => {
  it("runs callbacks in due order, ties in insertion order", () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.at(20, () => seen.push("b"));
    s.at(10, () => seen.push("a"));
    s.at(20, () => seen.push("c"));
    assert.equal(s.nextDeadline(), 10);
    s.runDue(15);
    assert.deepEqual(seen, ["a"]);
    s.runDue(20);
    assert.deepEqual(seen, ["a", "b", "c"]);
    assert.equal(s.nextDeadline(), undefined);
  });
  it("skips cancelled callbacks and runs ones scheduled while running", () => {
    const s = new Scheduler();
    const seen: number[] = [];
    const h = s.at(5, () => seen.push(5));
    s.at(6, (now) => s.at(now, () => seen.push(7)));
    h.cancel();
    s.runDue(10);
    assert.deepEqual(seen, [7]);
  });
});

describe("seeded random", () => {
  it("is reproducible", () => {
    const a = seeded(7), b = seeded(7);
    assert.deepEqual([a(), a(), a()], [b(), b(), b()]);
    assert.deepEqual(shuffle(seeded(1), [1, 2, 3, 4, 5]), shuffle(seeded(1), [1, 2, 3, 4, 5]));
  });
});
