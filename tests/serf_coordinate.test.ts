import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  CoordinateClient,
  decodeCoordinate,
  defaultCoordinateConfig,
  distanceNs,
  encodePingPayload,
  newCoordinate,
} from "../lib/serf/coordinate.ts";
import { seeded } from "../lib/core/random.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function close(actual: number, expected: number, what: string): void {
  const tol = Math.max(1e-15, Math.abs(expected) * 1e-13);
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);
}

describe("Vivaldi coordinates", () => {
  it("ping payload of a fresh coordinate matches go-msgpack's bytes", () => {
    const p = encodePingPayload(newCoordinate(defaultCoordinateConfig()));
    assert.equal(
      hex(p),
      "0184aa41646a7573746d656e74cb0000000000000000a54572726f72cb3ff8000000000000a6486569676874cb3ee4f8b588e368f1a356656398" +
        "cb0000000000000000".repeat(8),
    );
    assert.deepEqual(decodeCoordinate(p, 1), newCoordinate(defaultCoordinateConfig()));
  });

  it("updates exactly as serf/coordinate's Client (trace from the Go package)", () => {
    const c = new CoordinateClient(defaultCoordinateConfig(), seeded(1));
    const z = (v: number[]) => [...v, ...new Array(8 - v.length).fill(0)];
    const steps = [
      { name: "b", vec: z([0.01]), error: 1.5, adjustment: 0, height: 1e-5, rtt: 0.010 },
      { name: "c", vec: z([0, 0.02, 0, 0, 0, 0.001]), error: 0.8, adjustment: 0.0001, height: 2e-5, rtt: 0.025 },
      { name: "b", vec: z([0.012, 0, 0.003]), error: 1.2, adjustment: -0.0002, height: 1e-5, rtt: 0.012 },
      { name: "d", vec: z([-0.005, 0.004, 0, 0, 0.002]), error: 0.5, adjustment: 0, height: 3e-5, rtt: 0.007 },
      { name: "b", vec: z([0.011, 0, 0.002]), error: 1.0, adjustment: 0, height: 1e-5, rtt: 0.030 },
    ];
    const expected = [
      {
        vec: z([2.4999999783673717e-06]),
        error: 1.31275,
        adjustment: -4.374999999999605e-07,
        height: 1e-05,
        dist: 10017062,
      },
      {
        vec: z([2.5939670255723065e-06, -0.0007517372948435692, 0, 0, 0, -3.758686474217846e-05]),
        error: 1.1389388740421253,
        adjustment: 0.00010434278558528772,
        height: 1.1127605031566077e-05,
        dist: 21013131,
      },
      {
        vec: z([3.974504999849739e-05, -0.000749409436963438, 9.289778887107694e-06, 0, 0, -3.74704718481719e-05]),
        error: 1.0034853558845045,
        adjustment: 9.503327264505025e-05,
        height: 1.1062180498024391e-05,
        dist: 12267413,
      },
      {
        vec: z([
          -4.158135475675963e-07,
          -0.0007115621779756716,
          9.215749843199713e-06,
          0,
          1.5937656157584833e-05,
          -3.717187451454207e-05,
        ]),
        error: 0.844249727215929,
        adjustment: 9.024718871610724e-05,
        height: 1.0734962149917977e-05,
        dist: 7281690,
      },
      {
        vec: z([
          -7.764954153643756e-05,
          -0.000716558011956588,
          -4.761512145693975e-06,
          0,
          1.6049553454367444e-05,
          -3.7432855943266145e-05,
        ]),
        error: 0.7541847867129053,
        adjustment: 0.00010771398035329093,
        height: 1.088054103495129e-05,
        dist: 11409042,
      },
    ];
    steps.forEach((s, i) => {
      const other = { vec: s.vec, error: s.error, adjustment: s.adjustment, height: s.height };
      const r = c.update(s.name, other, s.rtt);
      const e = expected[i];
      r.vec.forEach((x, j) => close(x, e.vec[j], `step ${i} vec[${j}]`));
      close(r.error, e.error, `step ${i} error`);
      close(r.adjustment, e.adjustment, `step ${i} adjustment`);
      close(r.height, e.height, `step ${i} height`);
      assert.ok(Math.abs(distanceNs(r, other) - e.dist) <= 1, `step ${i} distance`);
    });
  });

  it("rejects bad input with Go's reasons", () => {
    const c = new CoordinateClient(defaultCoordinateConfig(), seeded(1));
    const ok = newCoordinate(defaultCoordinateConfig());
    assert.throws(() => c.update("x", { ...ok, vec: [0, 0] }, 0.01), /dimensions aren't compatible/);
    assert.throws(() => c.update("x", { ...ok, error: NaN }, 0.01), /coordinate is invalid/);
    assert.throws(() => c.update("x", ok, 11), /round trip time not in valid range/);
    assert.throws(() => c.update("x", ok, -1), /round trip time not in valid range/);
  });

  it("coincident coordinates are pushed apart along a random direction", () => {
    const c = new CoordinateClient(defaultCoordinateConfig(), seeded(3));
    const r = c.update("x", newCoordinate(defaultCoordinateConfig()), 0.05);
    assert.ok(r.vec.some((v) => v !== 0));
    assert.equal(c.resets, 0);
  });
});
