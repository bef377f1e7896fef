/**
 * The compiled agent's JIT watch (`lib/runtime/jit.ts`): the raised JIT
 * policy of an idle agent is kept, and the first window with more than the
 * busy share of a core restores the normal policy, once.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ActivityOptions, watchActivity } from "../lib/runtime/activity.ts";
import { jitRelaxer } from "../lib/runtime/jit.ts";
import { type FakeClock, fakeClock } from "./helpers/fake_clock.ts";

/** The agent's composition (lib/agent/run.ts): a CPU watch with the JIT relaxer as listener. */
function relaxJitWhenBusy(clock: FakeClock, opts: ActivityOptions & { setPolicy?: (s: number) => void } = {}) {
  const relax = jitRelaxer(opts.setPolicy);
  return relax ? watchActivity(clock, relax, opts) : { stop() {} };
}

describe("relaxJitWhenBusy", () => {
  it("keeps the policy while the process is idle, restores 1 after the first busy window, then stops", () => {
    const clock = fakeClock();
    let cpu = 0; // microseconds
    const calls: number[] = [];
    relaxJitWhenBusy(clock, {
      windowMs: 10_000,
      busyShare: 0.05,
      cpuMicros: () => cpu,
      setPolicy: (s) => calls.push(s),
    });
    for (let i = 0; i < 60; i++) {
      cpu += 30_000; // 30 ms per 10 s window: 0.3% of a core, an idle agent
      clock.advance(10_000);
    }
    assert.deepEqual(calls, []);
    assert.equal(clock.pending(), 1, "still sampling");
    cpu += 800_000; // 0.8 s within the next window: 8%
    clock.advance(10_000);
    assert.deepEqual(calls, [1]);
    assert.equal(clock.pending(), 0, "done for good");
    cpu += 5_000_000;
    clock.advance(100_000);
    assert.deepEqual(calls, [1]);
  });

  it("measures each window on its own (earlier idle time does not dilute a busy window)", () => {
    const clock = fakeClock();
    let cpu = 0;
    const calls: number[] = [];
    relaxJitWhenBusy(clock, { windowMs: 1000, busyShare: 0.5, cpuMicros: () => cpu, setPolicy: (s) => calls.push(s) });
    clock.advance(50_000);
    cpu += 600_000;
    clock.advance(1000);
    assert.deepEqual(calls, [1]);
  });

  it("stop() ends the watch", () => {
    const clock = fakeClock();
    let cpu = 0;
    const calls: number[] = [];
    const w = relaxJitWhenBusy(clock, { windowMs: 1000, cpuMicros: () => cpu, setPolicy: (s) => calls.push(s) });
    w.stop();
    cpu += 10_000_000;
    clock.advance(5000);
    assert.deepEqual(calls, []);
    assert.equal(clock.pending(), 0);
  });

  it("does nothing where the runtime has no JIT policy to set", () => {
    const clock = fakeClock();
    const hasPolicy = typeof (globalThis as { Bun?: { unsafe?: { setJITPolicy?: unknown } } }).Bun?.unsafe
      ?.setJITPolicy === "function";
    relaxJitWhenBusy(clock);
    assert.equal(clock.pending(), hasPolicy ? 1 : 0);
  });
});

describe("jitRelaxer (for a watch shared with other listeners)", () => {
  it("sets the policy to 1 on the first busy window only, then reports itself done", () => {
    const calls: number[] = [];
    const relax = jitRelaxer((s) => calls.push(s))!;
    assert.equal(relax(false), true);
    assert.equal(relax(true), false);
    assert.equal(relax(false), false);
    assert.equal(relax(true), false);
    assert.deepEqual(calls, [1]);
  });
});
