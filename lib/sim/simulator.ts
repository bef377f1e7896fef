/**
 * The deterministic cluster simulator: many {@link MemberlistHost}s, each
 * with its own sans-IO memberlist core, on one in-memory network with a
 * virtual clock. The same seed gives the same run, event for event.
 *
 * @module
 */
import type { LogLevel } from "../core/log.ts";
import { seeded } from "../core/random.ts";
import { bindTransport } from "../host/transport.ts";
import { MemberlistHost } from "../host/memberlist_host.ts";
import { type Profile, profileDefaults } from "../memberlist/config.ts";
import { Memberlist } from "../memberlist/memberlist.ts";
import { ipToString } from "../memberlist/util.ts";
import type { MemberlistConfig, NodeInfo, NodeStateType } from "../memberlist/types.ts";
import { NodeState } from "../memberlist/types.ts";
import { MemoryNetwork } from "../runtime/memory.ts";

/** memberlist's configuration profiles. */
export type { Profile };

/** Options of a {@link Simulator}. */
export interface SimulatorOptions {
  nodes: number;
  seed: number;
  profile: Profile;
  /** Uniform packet loss in [0, 1) from the start. */
  loss?: number;
  /** One-way latency of every link (ms); the network's default when omitted. */
  latencyMs?: number;
  /** Random extra latency (ms). */
  jitterMs?: number;
  /** Delay between consecutive joins in {@link Simulator.start} (ms). Default 10. */
  joinStaggerMs?: number;
  /**
   * Emulates Serf's reconnector (`serf.go:handleReconnect`): every this many
   * ms each node, with probability failed/alive, joins one random node it
   * considers dead. Off (undefined) by default: plain memberlist never
   * rejoins nodes it declared dead.
   */
  reconnectIntervalMs?: number;
  /**
   * LZW compression of packets and streams (the profiles' default is on).
   * Default off here: the memory network models no MTU or bandwidth, so
   * compression only costs CPU and changes no event — a run has the same
   * digest either way (asserted in tests/sim_determinism.test.ts).
   */
  compression?: boolean;
  /** Adjusts each node's configuration before its core is created. */
  configure?: (config: MemberlistConfig, index: number) => void;
  /** Receives every node's log lines. */
  logger?: (index: number, level: LogLevel, message: string) => void;
}

/** One membership event seen by one node (its `EventDelegate`). */
export interface SimEvent {
  /** Virtual time (ms since the network's epoch). */
  time: number;
  /** Index of the node that saw it. */
  observer: number;
  kind: "join" | "leave" | "update";
  /** The node the event is about. */
  node: string;
  state: NodeStateType;
}

/** A node's view: for each node it knows, that node's state. */
export type View = Map<string, NodeStateType>;

const PORT = 7946;

/** The name of node `i`. */
export function simNodeName(i: number): string {
  return `node-${i}`;
}

/** The IP of node `i` on the simulated network (10.0.0.1, 10.0.0.2, ...). */
export function simNodeIp(i: number): string {
  const n = i + 1;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** The profile's default configuration (Go's `Default{LAN,Local,WAN}Config`). */
export function profileConfig(profile: Profile, name: string, seed: number): MemberlistConfig {
  return profileDefaults(profile, name, seeded(seed), () => {});
}

/**
 * A simulated cluster.
 *
 * @example
 * ```ts
 * const sim = new Simulator({ nodes: 100, seed: 1, profile: "lan" });
 * await sim.start();
 * const ms = sim.timeToConverge(60_000);
 * sim.crash(5);
 * sim.advance(30_000);
 * ```
 */
export class Simulator {
  /** The in-memory network (its clock is the simulation clock). */
  readonly net: MemoryNetwork;
  /** One host per node, by index (filled by {@link start}). */
  readonly hosts: MemberlistHost[] = [];
  /** One core per node, by index (filled by {@link start}). */
  readonly cores: Memberlist[] = [];
  /** Per-node configuration, by index (filled by {@link start}). */
  readonly configs: MemberlistConfig[] = [];
  readonly #opts: SimulatorOptions;
  readonly #crashed = new Set<number>();
  readonly #listeners: ((e: SimEvent) => void)[] = [];
  #digest = 0x811c9dc5;
  #events = 0;
  #startedAt = 0;
  #random: () => number;

  /** Creates the network; nodes are created by {@link start}. */
  constructor(options: SimulatorOptions) {
    this.#opts = options;
    this.#random = seeded(mix(options.seed, 0x5eed));
    const netOpts: { seed: number; latencyMs?: number; jitterMs?: number } = { seed: options.seed };
    if (options.latencyMs !== undefined) netOpts.latencyMs = options.latencyMs;
    if (options.jitterMs !== undefined) netOpts.jitterMs = options.jitterMs;
    this.net = new MemoryNetwork(netOpts);
    if (options.loss) this.net.setLoss(options.loss);
  }

  /** Number of nodes. */
  get size(): number {
    return this.#opts.nodes;
  }

  /** Current virtual time (ms). */
  get now(): number {
    return this.net.now;
  }

  /** Virtual ms elapsed since {@link start}. */
  get elapsed(): number {
    return this.net.now - this.#startedAt;
  }

  /** Number of membership events so far. */
  get eventCount(): number {
    return this.#events;
  }

  /** A running FNV-1a hash of every event (time, observer, kind, node, state). */
  get digest(): string {
    return (this.#digest >>> 0).toString(16).padStart(8, "0");
  }

  /** Subscribes to every node's membership events. */
  onEvent(listener: (e: SimEvent) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Creates and starts every node, then schedules the joins: node i ≥ 1
   * joins node 0 at i × joinStaggerMs. Call {@link advance} to run them.
   */
  async start(): Promise<void> {
    const o = this.#opts;
    for (let i = 0; i < o.nodes; i++) await this.#createNode(i);
    this.#startedAt = this.net.now;
    for (const h of this.hosts) h.start();
    const stagger = o.joinStaggerMs ?? 10;
    const seed = [{ ip: simNodeIp(0), port: PORT }];
    for (let i = 1; i < o.nodes; i++) {
      const host = this.hosts[i];
      host.runtime.setTimer(i * stagger, () => {
        if (!this.#crashed.has(i)) host.joinTargets(seed);
      });
    }
    if (o.reconnectIntervalMs) this.startReconnector(o.reconnectIntervalMs);
  }

  /** Runs the network for `ms` virtual milliseconds. */
  advance(ms: number): void {
    this.net.advance(ms);
  }

  /** Advances in steps of `stepMs` until `pred()` holds or `maxMs` pass; returns whether it held. */
  runUntil(pred: () => boolean, maxMs: number, stepMs = 100): boolean {
    return this.net.runUntil(pred, maxMs, stepMs);
  }

  /**
   * Advances until {@link converged} (checked every `stepMs`); returns the
   * virtual ms it took from the call, or undefined after `maxMs`.
   */
  timeToConverge(maxMs: number, stepMs = 100): number | undefined {
    const t0 = this.net.now;
    return this.runUntil(() => this.converged(), maxMs, stepMs) ? this.net.now - t0 : undefined;
  }

  /** Crashes node `i`: it vanishes from the network and its host stops, without any goodbye. */
  crash(i: number): void {
    if (this.#crashed.has(i)) return;
    this.#crashed.add(i);
    this.net.crash(simNodeIp(i));
    void this.hosts[i].shutdown();
  }

  /** Whether node `i` was crashed. */
  isCrashed(i: number): boolean {
    return this.#crashed.has(i);
  }

  /** Indices of the nodes not crashed. */
  liveNodes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if (!this.#crashed.has(i)) out.push(i);
    return out;
  }

  /** Cuts every link between the nodes of `a` and those of `b` (indices). */
  partition(a: number[], b: number[]): void {
    this.net.partition(a.map(simNodeIp), b.map(simNodeIp));
  }

  /** Restores every link cut by {@link partition}. */
  heal(): void {
    this.net.heal();
  }

  /** Sets uniform packet loss for every link. */
  setLoss(fraction: number): void {
    this.net.setLoss(fraction);
  }

  /** Node `i`'s view of every node it knows (including itself). */
  view(i: number): View {
    const v: View = new Map();
    this.cores[i].forEachState((name, state) => v.set(name, state));
    return v;
  }

  /** Every live node's view, keyed by node name. */
  views(): Map<string, View> {
    const out = new Map<string, View>();
    for (const i of this.liveNodes()) out.set(simNodeName(i), this.view(i));
    return out;
  }

  /** The state node `observer` holds for node `subject`, or undefined if unknown. */
  stateOf(observer: number, subject: number): NodeStateType | undefined {
    return this.cores[observer].stateOf(simNodeName(subject));
  }

  /**
   * True when every live node sees every live node alive and every crashed
   * node dead, left or not at all.
   */
  converged(): boolean {
    const live = this.liveNodes();
    // Cheap pre-check: each live node counts exactly the live nodes as members.
    for (const i of live) if (this.cores[i].numMembers() !== live.length) return false;
    const liveNames = new Set(live.map(simNodeName));
    for (const i of live) {
      let seen = 0, ok = true;
      this.cores[i].forEachState((name, state) => {
        if (liveNames.has(name)) {
          if (state !== NodeState.Alive) ok = false;
          seen++;
        } else if (state === NodeState.Alive || state === NodeState.Suspect) ok = false;
      });
      if (!ok || seen !== live.length) return false;
    }
    return true;
  }

  /** Counts of states across every live node's view of every other node. */
  stateCounts(): Record<"alive" | "suspect" | "dead" | "left", number> {
    const c = { alive: 0, suspect: 0, dead: 0, left: 0 };
    const names = ["alive", "suspect", "dead", "left"] as const;
    for (const i of this.liveNodes()) {
      const self = simNodeName(i);
      this.cores[i].forEachState((name, state) => {
        if (name !== self) c[names[state]]++;
      });
    }
    return c;
  }

  /**
   * Starts the emulation of Serf's reconnector (see
   * {@link SimulatorOptions.reconnectIntervalMs}) on every live node, each
   * with a random phase.
   */
  startReconnector(interval: number): void {
    for (const i of this.liveNodes()) {
      const host = this.hosts[i];
      const tick = () => {
        if (this.#crashed.has(i)) return;
        this.#reconnect(i);
        host.runtime.setTimer(interval, tick);
      };
      host.runtime.setTimer(Math.floor(this.#random() * interval), tick);
    }
  }

  /** Shuts every host down. */
  async stop(): Promise<void> {
    for (const h of this.hosts) await h.shutdown();
  }

  async #createNode(i: number): Promise<void> {
    const o = this.#opts;
    const name = simNodeName(i);
    const ip = simNodeIp(i);
    const config = profileConfig(o.profile, name, mix(o.seed, i));
    config.bindAddr = ip;
    config.bindPort = PORT;
    config.advertiseAddr = ip;
    config.advertisePort = PORT;
    config.enableCompression = o.compression ?? false;
    if (o.logger) {
      const log = o.logger;
      config.logger = (level, msg) => log(i, level, msg);
    }
    config.events = {
      notifyJoin: (n) => this.#event(i, "join", n),
      notifyLeave: (n) => this.#event(i, "leave", n),
      notifyUpdate: (n) => this.#event(i, "update", n),
    };
    o.configure?.(config, i);
    const runtime = this.net.runtime(ip);
    const transport = await bindTransport(runtime, ip, PORT);
    const core = new Memberlist(config, runtime.now());
    this.configs.push(config);
    this.cores.push(core);
    this.hosts.push(new MemberlistHost(runtime, transport, core));
  }

  #event(observer: number, kind: SimEvent["kind"], n: NodeInfo): void {
    const time = this.net.now;
    this.#events++;
    this.#digest = fnv(this.#digest, `${time}|${observer}|${kind}|${n.name}|${n.state};`);
    if (!this.#listeners.length) return;
    const e: SimEvent = { time, observer, kind, node: n.name, state: n.state };
    for (const l of this.#listeners) l(e);
  }

  /** One round of Serf's reconnector for node i. */
  #reconnect(i: number): void {
    const core = this.cores[i];
    const failed: string[] = [];
    let notLeft = 0;
    core.forEachState((name, state) => {
      if (state === NodeState.Dead) failed.push(name);
      if (state !== NodeState.Left) notLeft++;
    });
    if (!failed.length) return;
    const alive = notLeft - failed.length;
    if (this.#random() > failed.length / Math.max(1, alive)) return;
    const target = core.node(failed[Math.floor(this.#random() * failed.length)])!;
    this.hosts[i].joinTargets([{ ip: ipToString(target.addr), port: target.port, name: target.name }]);
  }
}

/** Mixes two integers into a 32-bit seed. */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 13)) >>> 0;
}

/** FNV-1a over a string's UTF-16 code units, continued from `h`. */
function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
