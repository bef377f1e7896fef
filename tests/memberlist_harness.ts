/**
 * A tiny deterministic in-test network for memberlist cores: packets and
 * stream events are delivered through one virtual-time event queue (with a
 * fixed latency), cores are ticked in deadline order, and nodes can crash or
 * be partitioned. Test helper only (not a test file itself).
 */
import { Memberlist } from "../lib/memberlist/memberlist.ts";
import { defaultLocalConfig } from "../lib/memberlist/config.ts";
import type { Address, Delegate, MemberlistConfig, NodeInfo, Output } from "../lib/memberlist/types.ts";
import { seeded } from "../lib/core/random.ts";
import type { Keyring } from "../lib/security/keyring.ts";

/** One node of the harness. */
export interface SimNode {
  name: string;
  addr: Address;
  core: Memberlist;
  config: MemberlistConfig;
  up: boolean;
  logs: string[];
  events: string[];
  userMsgs: Uint8Array[];
  /** Packets this node sent (for inspection). */
  sent: { to: Address; data: Uint8Array }[];
}

interface Ev {
  at: number;
  seq: number;
  fn: () => void;
}

/** Options for {@link Cluster.add}. */
export interface AddOptions {
  keyring?: Keyring;
  tweak?: (c: MemberlistConfig) => void;
  delegate?: Partial<Delegate>;
  start?: boolean;
}

/** The simulated cluster. */
export class Cluster {
  now = 0;
  nodes = new Map<string, SimNode>();
  byAddr = new Map<string, SimNode>();
  latency = 1;
  /** node name → partition group; nodes in different groups cannot talk. */
  group = new Map<string, number>();
  /** Optional packet filter: return false to drop. */
  filter?: (from: SimNode, to: SimNode, data: Uint8Array) => boolean;
  #events: Ev[] = [];
  #seq = 0;
  /** "name#id" → peer "name#id". */
  #pairs = new Map<string, string>();
  #seed: number;
  #nextIp = 1;

  constructor(seed = 1) {
    this.#seed = seed;
  }

  /** Adds a node (started unless `start: false`). */
  add(name: string, opts: AddOptions = {}): SimNode {
    const logs: string[] = [];
    const events: string[] = [];
    const userMsgs: Uint8Array[] = [];
    const ip = `10.0.0.${this.#nextIp++}`;
    const config = defaultLocalConfig(name, seeded(this.#seed * 1000 + this.#nextIp), (l, m) => logs.push(`${l} ${m}`));
    config.bindAddr = ip;
    config.advertiseAddr = ip;
    config.bindPort = 7946;
    config.advertisePort = 7946;
    config.keyring = opts.keyring;
    config.delegateProtocolMin = 2;
    config.delegateProtocolMax = 5;
    config.delegateProtocolVersion = 5;
    config.events = {
      notifyJoin: (n: NodeInfo) => events.push(`join ${n.name}`),
      notifyLeave: (n: NodeInfo) => events.push(`leave ${n.name} ${n.state}`),
      notifyUpdate: (n: NodeInfo) => events.push(`update ${n.name}`),
    };
    if (opts.delegate) {
      const d = opts.delegate;
      config.delegate = {
        nodeMeta: d.nodeMeta ?? (() => new Uint8Array(0)),
        notifyMsg: d.notifyMsg ?? ((m) => userMsgs.push(m)),
        getBroadcasts: d.getBroadcasts ?? (() => []),
        localState: d.localState ?? (() => new Uint8Array(0)),
        mergeRemoteState: d.mergeRemoteState ?? (() => {}),
      };
    }
    opts.tweak?.(config);
    const core = new Memberlist(config, this.now);
    const node: SimNode = { name, addr: { ip, port: 7946 }, core, config, up: true, logs, events, userMsgs, sent: [] };
    this.nodes.set(name, node);
    this.byAddr.set(`${ip}:7946`, node);
    if (opts.start !== false) {
      core.start(this.now);
      this.flush(node);
    }
    return node;
  }

  /** The node called `name`. */
  get(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Runs `fn(now)` against a node's core and carries out its outputs. */
  act(name: string, fn: (core: Memberlist, now: number) => void): void {
    const n = this.get(name);
    fn(n.core, this.now);
    this.flush(n);
  }

  /** Joins `name` to `target`s and runs until the join completes (or 30 s pass). */
  join(name: string, ...targets: string[]): { joined?: number; errors?: string[] } {
    const res: { joined?: number; errors?: string[] } = {};
    this.act(name, (core, now) =>
      core.join(targets.map((t) => this.get(t).addr), now, (joined, errors) => {
        res.joined = joined;
        res.errors = errors;
      }));
    this.until(() => res.joined !== undefined, 30_000, 1);
    return res;
  }

  /** Simulates a crash: no more ticks, packets or streams for that node. */
  crash(name: string): void {
    this.get(name).up = false;
  }

  /** Splits the cluster: each array is a group; unlisted nodes are in group 0. */
  partition(...groups: string[][]): void {
    this.group.clear();
    groups.forEach((g, i) => g.forEach((n) => this.group.set(n, i + 1)));
  }

  /** Removes every partition. */
  heal(): void {
    this.group.clear();
  }

  #reachable(a: SimNode, b: SimNode): boolean {
    return a.up && b.up && (this.group.get(a.name) ?? 0) === (this.group.get(b.name) ?? 0);
  }

  #at(delay: number, fn: () => void): void {
    const e = { at: this.now + delay, seq: this.#seq++, fn };
    this.#events.push(e);
  }

  /** Carries out a node's pending outputs. */
  flush(n: SimNode): void {
    for (const out of n.core.drain()) this.#perform(n, out);
  }

  #perform(n: SimNode, out: Output): void {
    if (!n.up) return;
    switch (out.kind) {
      case "packet": {
        n.sent.push({ to: out.to, data: out.data });
        const dst = this.byAddr.get(`${out.to.ip}:${out.to.port}`);
        if (!dst) return;
        this.#at(this.latency, () => {
          if (!this.#reachable(n, dst)) return;
          if (this.filter && !this.filter(n, dst, out.data)) return;
          dst.core.handlePacket(out.data, n.addr, this.now);
          this.flush(dst);
        });
        return;
      }
      case "connect": {
        const dst = this.byAddr.get(`${out.to.ip}:${out.to.port}`);
        this.#at(this.latency, () => {
          if (!n.up) return;
          if (!dst || !dst.up) {
            n.core.streamClosed(
              out.stream,
              this.now,
              `dial tcp ${out.to.ip}:${out.to.port}: connect: connection refused`,
            );
            this.flush(n);
            return;
          }
          if (!this.#reachable(n, dst)) return; // partitioned: the dial just times out
          const peerId = dst.core.streamAccepted({ ip: n.addr.ip, port: 40000 + out.stream }, this.now);
          this.flush(dst);
          this.#pairs.set(`${n.name}#${out.stream}`, `${dst.name}#${peerId}`);
          this.#pairs.set(`${dst.name}#${peerId}`, `${n.name}#${out.stream}`);
          n.core.streamConnected(out.stream, this.now);
          this.flush(n);
        });
        return;
      }
      case "write": {
        const peer = this.#pairs.get(`${n.name}#${out.stream}`);
        if (!peer) return;
        const [pname, pid] = peer.split("#");
        const dst = this.get(pname);
        this.#at(this.latency, () => {
          if (!this.#reachable(n, dst)) return;
          dst.core.streamData(Number(pid), out.data, this.now);
          this.flush(dst);
        });
        return;
      }
      case "close": {
        const key = `${n.name}#${out.stream}`;
        const peer = this.#pairs.get(key);
        this.#pairs.delete(key);
        if (!peer) return;
        this.#pairs.delete(peer);
        const [pname, pid] = peer.split("#");
        const dst = this.get(pname);
        this.#at(this.latency, () => {
          if (!dst.up) return;
          dst.core.streamClosed(Number(pid), this.now);
          this.flush(dst);
        });
        return;
      }
    }
  }

  /** Advances virtual time to `until`, running events and core timers in order. */
  run(until: number): void {
    for (;;) {
      let best: { at: number; run: () => void } | undefined;
      this.#events.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const ev = this.#events[0];
      if (ev) best = { at: ev.at, run: () => (this.#events.shift(), ev.fn()) };
      for (const n of this.nodes.values()) {
        if (!n.up) continue;
        const d = n.core.nextDeadline();
        if (d !== undefined && (!best || d < best.at)) {
          best = { at: d, run: () => (n.core.tick(d), this.flush(n)) };
        }
      }
      if (!best || best.at > until) break;
      this.now = Math.max(this.now, best.at);
      best.run();
    }
    this.now = Math.max(this.now, until);
  }

  /** Runs for `ms` more. */
  step(ms: number): void {
    this.run(this.now + ms);
  }

  /** `viewer`'s state for `node` (undefined if unknown). */
  stateOf(viewer: string, node: string): number | undefined {
    return this.get(viewer).core.allNodes().find((n) => n.name === node)?.state;
  }

  /** Runs until `pred` holds (checked every `every` ms) or `limit` ms pass; returns the time it took or -1. */
  until(pred: () => boolean, limit: number, every = 10): number {
    const start = this.now;
    while (this.now - start <= limit) {
      if (pred()) return this.now - start;
      this.step(every);
    }
    return pred() ? this.now - start : -1;
  }

  /** Every live node sees exactly `names` as members. */
  converged(names: string[]): boolean {
    const want = [...names].sort().join(",");
    for (const name of names) {
      const n = this.get(name);
      if (!n.up) continue;
      const got = n.core.members().map((m) => m.name).sort().join(",");
      if (got !== want) return false;
    }
    return true;
  }
}
