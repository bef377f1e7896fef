/**
 * Vivaldi network coordinates (`serf/coordinate`): the estimate each node
 * keeps of its place in a latency space, updated from ping round trips, and
 * the ping-ack payload that carries it (version byte 1 + msgpack map).
 *
 * @module
 */
import { Decoder, Encoder, f64 } from "../codec/msgpack.ts";
import { array, asMap, float } from "../codec/fields.ts";
import type { Random } from "../core/random.ts";

/** Go's `serf.PingVersion`: the first byte of a ping-ack payload. */
export const PING_VERSION = 1;

/** A network coordinate; distances are in seconds. */
export interface Coordinate {
  vec: number[];
  error: number;
  adjustment: number;
  height: number;
}

/** Vivaldi tuning (Go's `coordinate.Config`). */
export interface CoordinateConfig {
  dimensionality: number;
  vivaldiErrorMax: number;
  vivaldiCE: number;
  vivaldiCC: number;
  adjustmentWindowSize: number;
  heightMin: number;
  latencyFilterSize: number;
  gravityRho: number;
}

/** Go's `coordinate.DefaultConfig()`. */
export function defaultCoordinateConfig(): CoordinateConfig {
  return {
    dimensionality: 8,
    vivaldiErrorMax: 1.5,
    vivaldiCE: 0.25,
    vivaldiCC: 0.25,
    adjustmentWindowSize: 20,
    heightMin: 10e-6,
    latencyFilterSize: 3,
    gravityRho: 150,
  };
}

const ZERO_THRESHOLD = 1e-6;

/** A coordinate at the origin with maximal error. */
export function newCoordinate(c: CoordinateConfig): Coordinate {
  return { vec: new Array(c.dimensionality).fill(0), error: c.vivaldiErrorMax, adjustment: 0, height: c.heightMin };
}

function clone(c: Coordinate): Coordinate {
  return { vec: [...c.vec], error: c.error, adjustment: c.adjustment, height: c.height };
}

/** True when every component is finite. */
export function isValidCoordinate(c: Coordinate): boolean {
  return [...c.vec, c.error, c.adjustment, c.height].every(Number.isFinite);
}

function diff(a: number[], b: number[]): number[] {
  return a.map((x, i) => x - b[i]);
}

function magnitude(v: number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

function rawDistance(a: Coordinate, b: Coordinate): number {
  return magnitude(diff(a.vec, b.vec)) + a.height + b.height;
}

/** Estimated RTT between two coordinates in seconds (Go's `DistanceTo`, before truncation to ns). */
export function distanceSeconds(a: Coordinate, b: Coordinate): number {
  if (a.vec.length !== b.vec.length) throw new Error("coordinate dimensionality does not match");
  const dist = rawDistance(a, b);
  const adjusted = dist + a.adjustment + b.adjustment;
  return adjusted > 0 ? adjusted : dist;
}

/** Go's `DistanceTo` as a `time.Duration`: whole nanoseconds. */
export function distanceNs(a: Coordinate, b: Coordinate): number {
  return Math.trunc(distanceSeconds(a, b) * 1e9);
}

/** `DistanceTo(...).Seconds()` as Go computes it: truncated to whole nanoseconds first. */
function durationSeconds(a: Coordinate, b: Coordinate): number {
  const ns = distanceNs(a, b);
  return Math.trunc(ns / 1e9) + (ns % 1e9) / 1e9;
}

function unitVectorAt(a: number[], b: number[], random: Random): [number[], number] {
  const d = diff(a, b);
  const mag = magnitude(d);
  if (mag > ZERO_THRESHOLD) return [d.map((x) => x / mag), mag];
  const r = d.map(() => random() - 0.5);
  const rmag = magnitude(r);
  if (rmag > ZERO_THRESHOLD) return [r.map((x) => x / rmag), 0];
  const unit = new Array(a.length).fill(0);
  unit[0] = 1;
  return [unit, 0];
}

function applyForce(
  cfg: CoordinateConfig,
  c: Coordinate,
  force: number,
  other: Coordinate,
  random: Random,
): Coordinate {
  const ret = clone(c);
  const [unit, mag] = unitVectorAt(c.vec, other.vec, random);
  ret.vec = ret.vec.map((x, i) => x + unit[i] * force);
  if (mag > ZERO_THRESHOLD) {
    ret.height = Math.max((ret.height + other.height) * force / mag + ret.height, cfg.heightMin);
  }
  return ret;
}

/**
 * Go's `coordinate.Client`: our coordinate plus the latency filter and
 * adjustment window, updated from each successful direct ping.
 */
export class CoordinateClient {
  #coord: Coordinate;
  #origin: Coordinate;
  #adjIndex = 0;
  #adjSamples: number[];
  #filter = new Map<string, number[]>();
  /** How many times the coordinate went invalid and was reset. */
  resets = 0;

  /** Creates a client at the origin. */
  constructor(readonly config: CoordinateConfig, readonly random: Random) {
    this.#coord = newCoordinate(config);
    this.#origin = newCoordinate(config);
    this.#adjSamples = new Array(config.adjustmentWindowSize).fill(0);
  }

  /** A copy of our coordinate. */
  getCoordinate(): Coordinate {
    return clone(this.#coord);
  }

  /** Drops the latency samples of a node that left. */
  forgetNode(node: string): void {
    this.#filter.delete(node);
  }

  /**
   * Folds in one RTT observation of `node` at `other`; returns our new
   * coordinate or throws Go's error text when the input is rejected.
   */
  update(node: string, other: Coordinate, rttSeconds: number): Coordinate {
    if (other.vec.length !== this.#coord.vec.length) throw new Error("dimensions aren't compatible");
    if (!isValidCoordinate(other)) throw new Error("coordinate is invalid");
    if (!(rttSeconds >= 0 && rttSeconds <= 10)) {
      throw new Error(
        `round trip time not in valid range, duration ${rttSeconds}s is not a positive value less than 10s `,
      );
    }
    const rtt = this.#latencyFilter(node, rttSeconds);
    this.#updateVivaldi(other, rtt);
    this.#updateAdjustment(other, rtt);
    this.#updateGravity();
    if (!isValidCoordinate(this.#coord)) {
      this.resets++;
      this.#coord = newCoordinate(this.config);
    }
    return clone(this.#coord);
  }

  #latencyFilter(node: string, rtt: number): number {
    const samples = [...(this.#filter.get(node) ?? []), rtt];
    if (samples.length > this.config.latencyFilterSize) samples.shift();
    this.#filter.set(node, samples);
    const sorted = [...samples].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  #updateVivaldi(other: Coordinate, rttIn: number): void {
    const cfg = this.config;
    const dist = durationSeconds(this.#coord, other);
    const rtt = Math.max(rttIn, ZERO_THRESHOLD);
    const wrongness = Math.abs(dist - rtt) / rtt;
    const total = Math.max(this.#coord.error + other.error, ZERO_THRESHOLD);
    const weight = this.#coord.error / total;
    const err = cfg.vivaldiCE * weight * wrongness + this.#coord.error * (1 - cfg.vivaldiCE * weight);
    this.#coord.error = Math.min(err, cfg.vivaldiErrorMax);
    const force = cfg.vivaldiCC * weight * (rtt - dist);
    this.#coord = applyForce(cfg, this.#coord, force, other, this.random);
  }

  #updateAdjustment(other: Coordinate, rtt: number): void {
    const size = this.config.adjustmentWindowSize;
    if (size === 0) return;
    this.#adjSamples[this.#adjIndex] = rtt - rawDistance(this.#coord, other);
    this.#adjIndex = (this.#adjIndex + 1) % size;
    this.#coord.adjustment = this.#adjSamples.reduce((s, x) => s + x, 0) / (2 * size);
  }

  #updateGravity(): void {
    const dist = durationSeconds(this.#origin, this.#coord);
    const force = -1 * Math.pow(dist / this.config.gravityRho, 2);
    this.#coord = applyForce(this.config, this.#coord, force, this.#origin, this.random);
  }
}

/** Encodes a coordinate as Go does (a map of float64s). */
export function coordinateBody(c: Coordinate): unknown {
  return { Adjustment: f64(c.adjustment), Error: f64(c.error), Height: f64(c.height), Vec: c.vec.map(f64) };
}

/** The ping-ack payload: `PING_VERSION` + msgpack coordinate. */
export function encodePingPayload(c: Coordinate): Uint8Array {
  return new Encoder("gossip").raw([PING_VERSION]).write(coordinateBody(c)).bytes().slice();
}

/** Decodes a coordinate map (as found after the version byte of a ping payload). */
export function decodeCoordinate(buf: Uint8Array, offset = 0): Coordinate {
  const m = asMap(new Decoder(buf, "gossip", offset).read(), "coordinate");
  return {
    vec: array(m, "Vec").map((x) => float({ x }, "x")),
    error: float(m, "Error"),
    adjustment: float(m, "Adjustment"),
    height: float(m, "Height"),
  };
}
