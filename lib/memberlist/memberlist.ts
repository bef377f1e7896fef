/**
 * The sans-IO memberlist core: SWIM failure detection with Lifeguard
 * (awareness, suspicion confirmations, buddy system), gossip, push/pull
 * anti-entropy, join and leave, speaking memberlist 0.2.2's wire protocol.
 *
 * It never touches sockets or clocks: the host feeds it packets, stream
 * events and the time, calls {@link Memberlist.tick} at
 * {@link Memberlist.nextDeadline}, and carries out what
 * {@link Memberlist.drain} returns. Go sources: `memberlist/state.go`,
 * `net.go`, `memberlist.go`.
 *
 * @module
 */
import { Scheduler, type TimerHandle } from "../core/scheduler.ts";
import type { LogLevel } from "../core/log.ts";
import { shuffle } from "../core/random.ts";
import { decodeCompound, GO_SAFE_COMPOUND_PARTS, makeCompound } from "../codec/compound.ts";
import { type EncryptionVersion, encryptOverhead } from "../security/aesgcm.ts";
import type { Keyring } from "../security/keyring.ts";
import { buildVsn, META_MAX_SIZE } from "./config.ts";
import { decompressPayload, errText, MAX_PACKET_DECOMPRESSED, openPacket, sealPacket, sealStream } from "./envelope.ts";
import {
  type AliveMsg,
  type DeadMsg,
  decodeAck,
  decodeAlive,
  decodeDead,
  decodeIndirectPing,
  decodeNack,
  decodePing,
  decodeSuspect,
  encodeAck,
  encodeAlive,
  encodeAliveShared,
  encodeDead,
  encodeIndirectPing,
  encodeNack,
  encodePing,
  encodePushPull,
  encodeSuspect,
  encodeUserPacket,
  MessageType,
  type PingMsg,
  type PushNodeState,
  type SuspectMsg,
} from "./messages.ts";
import { Awareness } from "./awareness.ts";
import { Suspicion } from "./suspicion.ts";
import { TransmitLimitedQueue } from "./queue.ts";
import { logAddr, type StreamEnv, Streams, validAddress } from "./streams.ts";
import { deadOrLeft, fmtBytes, nodeInfo, type NodeRec, verifyProtocol } from "./state.ts";
import { internAddr, internVsn } from "./intern.ts";
import {
  bytesEqual,
  ipToString,
  joinHostPort,
  kRandomNodes,
  parseIp,
  pushPullScale,
  randomOffset,
  suspicionTimeout,
} from "./util.ts";
import {
  type Address,
  type JoinTarget,
  type MemberlistConfig,
  type NodeInfo,
  NodeState,
  type NodeStateType,
  type Output,
} from "./types.ts";

/** Assumed compound header overhead (`compoundHeaderOverhead`). */
const COMPOUND_HEADER_OVERHEAD = 2;
/** Assumed per-part compound overhead (`compoundOverhead`). */
const COMPOUND_OVERHEAD = 2;
/** Overhead of the user message type byte (`userMsgOverhead`). */
const USER_MSG_OVERHEAD = 1;
/** Deepest compound/compress nesting handled in one packet. */
const MAX_NESTING = 8;

interface AckHandler {
  ackFn(payload: Uint8Array | null, at: number): void;
  nackFn?(): void;
  timer: TimerHandle;
}

/** A probe in flight (Go's `probeNode` state between its blocking steps). */
interface Probe {
  node: NodeRec;
  ping: PingMsg;
  sent: number;
  done: boolean;
  indirectStarted: boolean;
  nacks: number;
  expectedNacks: number;
  directTimer?: TimerHandle;
  tcp?: { pending: boolean; didContact: boolean; expire?: () => void };
}

/**
 * The memberlist core. See ARCHITECTURE.md ("Memberlist core") for the
 * contract with hosts.
 *
 * @example
 * ```ts
 * const m = new Memberlist(defaultLanConfig("a", seeded(1), silentLogger), 0);
 * m.start(0);
 * m.join([{ ip: "127.0.0.1", port: 7946 }], 0, (n, errs) => console.log(n, errs));
 * for (const out of m.drain()) host.perform(out);
 * ```
 */
export class Memberlist {
  /** Timers of this core; upper layers may schedule on it too. */
  readonly scheduler: Scheduler = new Scheduler();
  /** The keyring when encryption is configured. */
  readonly keyring?: Keyring;

  readonly #config: MemberlistConfig;
  readonly #awareness: Awareness;
  readonly #broadcasts: TransmitLimitedQueue;
  #nodes: NodeRec[] = [];
  readonly #nodeMap = new Map<string, NodeRec>();
  readonly #nodeTimers = new Map<string, Suspicion>();
  #numNodes = 0;
  #seqNo = 0;
  #incarnation = 0;
  #probeIndex = 0;
  #probing = false;
  #probePending = false;
  readonly #ackHandlers = new Map<number, AckHandler>();
  readonly #streams: Streams = new Streams(this.#streamEnv());
  readonly #timers = new Set<TimerHandle>();
  #outputs: Output[] = [];
  #now: number;
  #started = false;
  #left = false;
  #shutdown = false;
  #leaveNotify?: () => void;
  #advertiseAddr: Uint8Array;
  #advertisePort: number;
  /** The gossip ticker (see {@link #armGossip}); `parked` when no tick is scheduled. */
  readonly #gossipTicker = { first: 0, interval: 0, next: 0, parked: false, noTargets: false, aliveEpoch: 0 };
  /** Counts transitions of nodes to alive (a parked gossip ticker with no targets waits for one). */
  #aliveEpoch = 0;

  /** Creates a core; nothing happens until {@link start}. */
  constructor(config: MemberlistConfig, now: number) {
    if (config.protocolVersion < 1) {
      throw new Error(`Protocol version '${config.protocolVersion}' too low. Must be in range: [1, 5]`);
    }
    if (config.protocolVersion > 5) {
      throw new Error(`Protocol version '${config.protocolVersion}' too high. Must be in range: [1, 5]`);
    }
    this.#config = config;
    this.keyring = config.keyring;
    this.#now = now;
    this.#awareness = new Awareness(config.awarenessMaxMultiplier);
    this.#broadcasts = new TransmitLimitedQueue(() => this.#numNodes, config.retransmitMult);
    [this.#advertiseAddr, this.#advertisePort] = this.#resolveAdvertise();
  }

  /**
   * The address we advertise: advertiseAddr (else bindAddr) and
   * advertisePort (else bindPort), read again at start so a host can fill
   * in a dynamically bound port after construction.
   */
  #resolveAdvertise(): [Uint8Array, number] {
    const c = this.#config;
    const advertise = c.advertiseAddr || c.bindAddr;
    const ip = parseIp(advertise);
    if (!ip) throw new Error(`Failed to get final advertise address: failed to parse advertise address "${advertise}"`);
    return [ip, c.advertisePort || c.bindPort];
  }

  // ---------------------------------------------------------------- host API

  /** Marks ourselves alive (incarnation 1) and starts the probe, gossip and push/pull tickers. */
  start(now: number): void {
    if (this.#started || this.#shutdown) return;
    this.#enter(now);
    this.#started = true;
    [this.#advertiseAddr, this.#advertisePort] = this.#resolveAdvertise();
    if (this.#advertiseAddr.every((b) => b === 0)) {
      this.#log(
        "WARN",
        `Advertising an unspecified address (${ipToString(this.#advertiseAddr)}): peers cannot reach us`,
      );
    }
    this.#setAlive();
    this.#schedule();
  }

  /** An inbound datagram. Never throws. */
  handlePacket(data: Uint8Array, from: Address, now: number): void {
    if (this.#shutdown) return;
    this.#enter(now);
    this.#guard(() => this.#ingestPacket(data, from), from);
  }

  /** An inbound TCP connection was accepted; returns its stream id. */
  streamAccepted(from: Address, now: number): number {
    if (this.#shutdown) {
      const id = this.#streams.allocateId();
      this.#outputs.push({ kind: "close", stream: id });
      return id;
    }
    this.#enter(now);
    return this.#streams.accept(from);
  }

  /** An outbound `connect` succeeded. */
  streamConnected(id: number, now: number): void {
    if (!this.#streams.has(id) || this.#shutdown) return;
    this.#enter(now);
    this.#guard(() => this.#streams.connected(id), this.#streams.remote(id));
  }

  /** Bytes arrived on a stream. Never throws. */
  streamData(id: number, chunk: Uint8Array, now: number): void {
    if (!this.#streams.has(id) || this.#shutdown) return;
    this.#enter(now);
    this.#guard(() => this.#streams.data(id, chunk), this.#streams.remote(id));
  }

  /** A stream ended (peer close, reset, connect failure); `error` when abnormal. */
  streamClosed(id: number, now: number, error?: string): void {
    if (!this.#streams.has(id) || this.#shutdown) return;
    this.#enter(now);
    const remote = this.#streams.remote(id);
    this.#guard(() => this.#streams.closed(id, error), remote);
  }

  /** Runs due timers (`scheduler.runDue(now)`). */
  tick(now: number): void {
    this.#enter(now);
    this.#wakeGossip();
    this.scheduler.runDue(now);
  }

  /** When {@link tick} should be called next. */
  nextDeadline(): number | undefined {
    // Hosts ask after every call into the core (or into Serf): a broadcast the delegate queued meanwhile wakes gossip.
    this.#wakeGossip();
    return this.scheduler.nextDeadline();
  }

  /** Takes the pending outputs. */
  drain(): Output[] {
    this.#wakeGossip();
    const out = this.#outputs;
    this.#outputs = [];
    return out;
  }

  /**
   * Push/pull (Join=true) with each target in turn; `done(joined, errors)`
   * as Go's `Join`: errors are empty when at least one target succeeded.
   */
  join(targets: JoinTarget[], now: number, done: (joined: number, errors: string[]) => void): void {
    this.#enter(now);
    let joined = 0;
    const errors: string[] = [];
    const next = (i: number): void => {
      if (i >= targets.length || this.#shutdown) {
        done(joined, joined > 0 ? [] : errors);
        return;
      }
      const t = targets[i];
      this.#streams.pushPull(t, t.name ?? "", true, (err) => {
        if (err === undefined) joined++;
        else {
          const msg = `Failed to join ${t.ip}: ${err}`;
          errors.push(msg);
          this.#log("DEBUG", msg);
        }
        next(i + 1);
      });
    };
    next(0);
  }

  /**
   * One push/pull with a random alive member now, as the periodic one does
   * (not in Go's API: Serf uses it to re-sync once after a join).
   */
  pushPullNow(now: number): void {
    this.#enter(now);
    if (this.#shutdown) return;
    this.#pushPull(() => {});
  }

  /**
   * Broadcasts our leave (dead about ourselves, From = us) and calls `done`
   * once it was fully retransmitted, or with "timeout waiting for leave
   * broadcast" after `timeoutMs` (0 = no timeout).
   */
  leave(now: number, timeoutMs: number, done: (error?: string) => void): void {
    if (this.#shutdown) {
      done("leave after shutdown");
      return;
    }
    this.#enter(now);
    if (this.#left) {
      done();
      return;
    }
    this.#left = true;
    const me = this.#nodeMap.get(this.#config.name);
    if (!me) {
      this.#log("WARN", "Leave but we're not in the node map.");
      done();
      return;
    }
    const finish = this.#waiter(timeoutMs, "timeout waiting for leave broadcast", done);
    this.#leaveNotify = finish.notify;
    this.#deadNode({ incarnation: me.incarnation, node: me.name, from: me.name });
    if (!this.#anyAlive()) finish.notify();
  }

  /**
   * Re-reads our metadata from the delegate, gossips a new alive message
   * (incarnation + 1) and calls `done` once it was fully retransmitted, or
   * with "timeout waiting for update broadcast".
   */
  updateNode(now: number, timeoutMs: number, done: (error?: string) => void): void {
    if (this.#shutdown) {
      done("memberlist is shut down");
      return;
    }
    this.#enter(now);
    const meta = this.#config.delegate ? this.#config.delegate.nodeMeta(META_MAX_SIZE) : null;
    if (meta && meta.length > META_MAX_SIZE) {
      done("Node meta data provided is longer than the limit");
      return;
    }
    const me = this.#nodeMap.get(this.#config.name);
    const finish = this.#waiter(timeoutMs, "timeout waiting for update broadcast", done);
    const a: AliveMsg = {
      incarnation: this.#nextIncarnation(),
      node: this.#config.name,
      addr: me?.addr ?? this.#advertiseAddr,
      port: me?.port ?? this.#advertisePort,
      meta,
      vsn: Uint8Array.from(buildVsn(this.#config)),
    };
    this.#aliveNode(a, finish.notify, true);
    if (!this.#anyAlive()) finish.notify();
  }

  /** Stops all activity: timers cancelled, streams closed, inputs ignored. */
  shutdown(): void {
    if (this.#shutdown) return;
    this.#shutdown = true;
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    for (const s of this.#nodeTimers.values()) s.cancel();
    this.#nodeTimers.clear();
    for (const h of this.#ackHandlers.values()) h.timer.cancel();
    this.#ackHandlers.clear();
    this.#streams.closeAll();
  }

  /** Sends a user message (type 8) by UDP to an address; no piggybacking. */
  sendToAddress(to: Address, msg: Uint8Array): void {
    if (this.#shutdown) return;
    this.#rawSendPacket(to, null, encodeUserPacket(msg));
  }

  /** Sends a user message (type 8) by UDP to a known node; false if unknown. */
  sendBestEffort(node: string, msg: Uint8Array): boolean {
    const n = this.#nodeMap.get(node);
    if (!n || this.#shutdown) return false;
    this.#rawSendPacket(this.#addrOf(n), n, encodeUserPacket(msg));
    return true;
  }

  /** Sends a user message (type 8) over a new stream to a known node; false if unknown. */
  sendReliable(node: string, msg: Uint8Array, done?: (error?: string) => void): boolean {
    const n = this.#nodeMap.get(node);
    if (!n || this.#shutdown) return false;
    this.#streams.sendUser(this.#addrOf(n), msg, done ?? (() => {}));
    return true;
  }

  /** Our own node. */
  localNode(): NodeInfo {
    const me = this.#nodeMap.get(this.#config.name);
    if (me) return this.#info(me);
    return {
      name: this.#config.name,
      addr: this.#advertiseAddr.slice(),
      port: this.#advertisePort,
      meta: new Uint8Array(0),
      state: NodeState.Alive,
      vsn: buildVsn(this.#config),
    };
  }

  /** Known nodes that are neither dead nor left. */
  members(): NodeInfo[] {
    return this.#nodes.filter((n) => !deadOrLeft(n)).map((n) => this.#info(n));
  }

  /** Every node we still track, in probe order. */
  allNodes(): NodeInfo[] {
    return this.#nodes.map((n) => this.#info(n));
  }

  /** One tracked node (a copy), or undefined. */
  node(name: string): NodeInfo | undefined {
    const n = this.#nodeMap.get(name);
    return n && this.#info(n);
  }

  /** The state we hold for `name`, or undefined when not tracked. */
  stateOf(name: string): NodeStateType | undefined {
    return this.#nodeMap.get(name)?.state;
  }

  /** Calls `fn` with the name and state of every node we track, in {@link allNodes} order, copying nothing. */
  forEachState(fn: (name: string, state: NodeStateType) => void): void {
    for (const n of this.#nodes) fn(n.name, n.state);
  }

  /** Number of nodes neither dead nor left. */
  numMembers(): number {
    let count = 0;
    for (const n of this.#nodes) if (!deadOrLeft(n)) count++;
    return count;
  }

  /** Go's numNodes estimate (every tracked node, dead ones until reaped). */
  estNumNodes(): number {
    return this.#numNodes;
  }

  /** Lifeguard health score (0 = healthy). */
  healthScore(): number {
    return this.#awareness.getHealthScore();
  }

  /** The incarnation we last advertised for ourselves. */
  localIncarnation(): number {
    return this.#nodeMap.get(this.#config.name)?.incarnation ?? 0;
  }

  /** The incarnation we know for `node`, if tracked. */
  incarnationOf(node: string): number | undefined {
    return this.#nodeMap.get(node)?.incarnation;
  }

  /** True once {@link leave} was called. */
  hasLeft(): boolean {
    return this.#left;
  }

  /** True once {@link shutdown} was called. */
  hasShutdown(): boolean {
    return this.#shutdown;
  }

  /** Number of memberlist broadcasts waiting to be gossiped. */
  numQueuedBroadcasts(): number {
    return this.#broadcasts.numQueued();
  }

  /** Number of open streams (for tests and stats). */
  numStreams(): number {
    return this.#streams.size;
  }

  // ---------------------------------------------------------------- plumbing

  #enter(now: number): void {
    if (now > this.#now) this.#now = now;
  }

  #log(level: LogLevel, msg: string): void {
    this.#config.logger(level, `memberlist: ${msg}`);
  }

  /** Runs `fn`, logging anything thrown instead of propagating it. */
  #guard(fn: () => void, from?: Address): void {
    try {
      fn();
    } catch (e) {
      this.#log("ERR", `Unexpected error: ${errText(e)} ${from ? logAddr(from) : ""}`.trimEnd());
    }
  }

  /** Schedules `fn` after `delayMs` on the shared scheduler, cancelled on shutdown. */
  #after(delayMs: number, fn: () => void): TimerHandle {
    const h = this.scheduler.at(this.#now + delayMs, (now) => {
      this.#timers.delete(h);
      if (this.#shutdown) return;
      this.#enter(now);
      this.#guard(fn);
    });
    this.#timers.add(h);
    return {
      at: h.at,
      cancel: () => {
        h.cancel();
        this.#timers.delete(h);
      },
    };
  }

  /** A one-shot completion with an optional timeout error. */
  #waiter(timeoutMs: number, timeoutError: string, done: (error?: string) => void): { notify: () => void } {
    let fired = false;
    const timer = timeoutMs > 0
      ? this.#after(timeoutMs, () => {
        if (fired) return;
        fired = true;
        done(timeoutError);
      })
      : undefined;
    return {
      notify: () => {
        if (fired) return;
        fired = true;
        timer?.cancel();
        done();
      },
    };
  }

  #nextSeqNo(): number {
    this.#seqNo = (this.#seqNo + 1) >>> 0;
    return this.#seqNo;
  }

  #nextIncarnation(): number {
    this.#incarnation = (this.#incarnation + 1) >>> 0;
    return this.#incarnation;
  }

  #skipIncarnation(offset: number): number {
    this.#incarnation = (this.#incarnation + offset) >>> 0;
    return this.#incarnation;
  }

  #encryptionEnabled(): boolean {
    return !!this.keyring && this.keyring.getKeys().length > 0;
  }

  #encryptionVersion(): EncryptionVersion {
    return this.#config.protocolVersion === 1 ? 0 : 1;
  }

  #info(n: NodeRec): NodeInfo {
    return nodeInfo(n);
  }

  #addrOf(n: { addr: Uint8Array; port: number }): Address {
    return { ip: ipToString(n.addr), port: n.port };
  }

  #anyAlive(): boolean {
    return this.#nodes.some((n) => !deadOrLeft(n) && n.name !== this.#config.name);
  }

  // ------------------------------------------------------------- scheduling

  #schedule(): void {
    const c = this.#config;
    const rnd = c.random;
    if (c.probeInterval > 0) {
      this.#ticker(randomOffset(rnd, c.probeInterval), c.probeInterval, () => this.#probeTick());
    }
    if (c.pushPullInterval > 0) {
      this.#after(randomOffset(rnd, c.pushPullInterval), () => this.#pushPullTick());
    }
    if (c.gossipInterval > 0 && c.gossipNodes > 0) {
      const g = this.#gossipTicker;
      g.first = this.#now + randomOffset(rnd, c.gossipInterval);
      g.interval = c.gossipInterval;
      this.#armGossip(0);
    }
  }

  /**
   * The gossip ticker: Go's fixed-rate ticker, except that it parks when a
   * tick would send nothing — nothing queued (memberlist's queue, and the
   * delegate's when it can say so with `hasBroadcasts`), or no node to send
   * to. Go's gossip() then returns without sending either, so skipping those
   * ticks changes nothing on the wire; it spares an idle agent five wake-ups
   * a second. {@link #wakeGossip} resumes the ticker on its original phase.
   */
  #armGossip(k: number): void {
    const g = this.#gossipTicker;
    g.parked = false;
    this.#after(g.first + k * g.interval - this.#now, () => {
      // Like Go's time.Ticker, ticks missed while we were late are dropped.
      const next = Math.max(k + 1, Math.floor((this.#now - g.first) / g.interval) + 1);
      let targets = -1;
      try {
        targets = this.#gossip();
      } finally {
        const noTargets = targets === 0 && !this.#hasGossipTargets();
        if (targets >= 0 && (noTargets || !this.#hasBroadcasts())) {
          Object.assign(g, { parked: true, next, noTargets, aliveEpoch: this.#aliveEpoch });
        } else {
          this.#armGossip(next);
        }
      }
    });
  }

  /** Resumes a parked gossip ticker once there is something to send and someone to send it to. */
  #wakeGossip(): void {
    const g = this.#gossipTicker;
    if (!g.parked || this.#shutdown || !this.#hasBroadcasts()) return;
    if (g.noTargets && g.aliveEpoch === this.#aliveEpoch) return;
    this.#armGossip(Math.max(g.next, Math.ceil((this.#now - g.first) / g.interval)));
  }

  /** Whether a gossip tick may find broadcasts (true when the delegate cannot tell). */
  #hasBroadcasts(): boolean {
    if (this.#broadcasts.numQueued() > 0) return true;
    const d = this.#config.delegate;
    return d !== undefined && (d.hasBroadcasts?.() ?? true);
  }

  /** Whether any node qualifies as a gossip target (the filter of {@link #gossip}). */
  #hasGossipTargets(): boolean {
    return this.#nodes.some((n) => !this.#excludeFromGossip(n));
  }

  /** A fixed-rate ticker after an initial stagger. */
  #ticker(stagger: number, interval: number, fn: () => void): void {
    const first = this.#now + stagger;
    const fire = (k: number): void => {
      this.#after(first + k * interval - this.#now, () => {
        // Like Go's time.Ticker, ticks missed while we were late are dropped.
        const late = Math.floor((this.#now - first) / interval) + 1;
        fire(Math.max(k + 1, late));
        fn();
      });
    };
    fire(0);
  }

  /** A probe tick; like Go's ticker channel, one tick is kept while a probe is running. */
  #probeTick(): void {
    if (this.#probing) {
      this.#probePending = true;
      return;
    }
    this.#probe();
  }

  #pushPullTick(): void {
    const interval = pushPullScale(this.#config.pushPullInterval, this.#numNodes);
    this.#after(interval, () => this.#pushPull(() => this.#pushPullTick()));
  }

  // ----------------------------------------------------------------- probing

  /** Go's `probe`: the next probe-able node in round-robin order. */
  #probe(): void {
    let numCheck = 0;
    for (;;) {
      if (numCheck >= this.#nodes.length) return;
      if (this.#probeIndex >= this.#nodes.length) {
        this.#resetNodes();
        this.#probeIndex = 0;
        numCheck++;
        continue;
      }
      const node = this.#nodes[this.#probeIndex++];
      if (node.name === this.#config.name || deadOrLeft(node)) {
        numCheck++;
        continue;
      }
      this.#probeNode({ ...node, vsn: node.vsn.slice() });
      return;
    }
  }

  /** Go's `resetNodes`: reap dead nodes past GossipToTheDeadTime and reshuffle. */
  #resetNodes(): void {
    const keep: NodeRec[] = [];
    for (const n of this.#nodes) {
      if (n.state === NodeState.Dead && this.#now - n.stateChange > this.#config.gossipToTheDeadTime) {
        this.#nodeMap.delete(n.name);
        this.#nodeTimers.get(n.name)?.cancel();
        this.#nodeTimers.delete(n.name);
      } else keep.push(n);
    }
    this.#nodes = keep;
    this.#numNodes = keep.length;
    shuffle(this.#config.random, this.#nodes);
  }

  /** Go's `probeNode`, as a state machine driven by acks, nacks and timers. */
  #probeNode(node: NodeRec): void {
    const c = this.#config;
    const probeInterval = this.#awareness.scaleTimeout(c.probeInterval);
    const ping: PingMsg = {
      seqNo: this.#nextSeqNo(),
      node: node.name,
      sourceAddr: this.#advertiseAddr,
      sourcePort: this.#advertisePort,
      sourceNode: c.name,
    };
    const p: Probe = { node, ping, sent: this.#now, done: false, indirectStarted: false, nacks: 0, expectedNacks: 0 };
    this.#probing = true;
    this.#setAckHandler(
      ping.seqNo,
      (payload, at) => this.#probeAcked(p, payload, at),
      probeInterval,
      () => {
        if (p.nacks < c.indirectChecks + 1) p.nacks++;
      },
      () => this.#probeTimedOut(p),
    );
    if (node.state === NodeState.Alive) {
      this.#sendMsg(this.#addrOf(node), encodePing(ping));
    } else {
      const suspect = encodeSuspect({ incarnation: node.incarnation, node: node.name, from: c.name });
      this.#rawSendPacket(this.#addrOf(node), node, makeCompound([encodePing(ping), suspect]));
    }
    p.directTimer = this.#after(c.probeTimeout, () => this.#probeIndirect(p, probeInterval));
  }

  #probeAcked(p: Probe, payload: Uint8Array | null, at: number): void {
    if (p.done) return;
    p.directTimer?.cancel();
    if (!p.indirectStarted) {
      // The payload is a view into the packet: the delegate gets its own copy.
      this.#config.ping?.notifyPingComplete(
        this.#info(p.node),
        at - p.sent,
        payload ? payload.slice() : new Uint8Array(0),
      );
    }
    this.#finishProbe(p, -1);
  }

  /** No ack within ProbeTimeout: indirect pings and a TCP fallback ping. */
  #probeIndirect(p: Probe, probeInterval: number): void {
    if (p.done || p.indirectStarted) return;
    p.indirectStarted = true;
    const c = this.#config;
    const node = p.node;
    this.#log("DEBUG", `Failed ping: ${node.name} (timeout reached)`);
    const peers = kRandomNodes(
      c.random,
      c.indirectChecks,
      this.#nodes,
      (n) => n.name === c.name || n.name === node.name || n.state !== NodeState.Alive,
    );
    for (const peer of peers) {
      const nack = peer.vsn[1] >= 4;
      if (nack) p.expectedNacks++;
      this.#sendMsg(
        this.#addrOf(peer),
        encodeIndirectPing({
          seqNo: p.ping.seqNo,
          target: node.addr,
          port: node.port,
          node: node.name,
          nack,
          sourceAddr: this.#advertiseAddr,
          sourcePort: this.#advertisePort,
          sourceNode: c.name,
        }),
      );
    }
    if (!c.disableTcpPings && node.vsn[1] >= 3) {
      const tcp: NonNullable<Probe["tcp"]> = { pending: true, didContact: false };
      p.tcp = tcp;
      tcp.expire = this.#streams.pingAndWaitForAck(this.#addrOf(node), p.ping, p.sent + probeInterval, (ok, err) => {
        tcp.pending = false;
        tcp.didContact = ok;
        if (err !== undefined) this.#log("ERR", `Failed fallback ping: ${err}`);
      });
    }
  }

  /** The probe's ack handler expired (probe interval over): decide. */
  #probeTimedOut(p: Probe): void {
    if (p.done) return;
    p.directTimer?.cancel();
    if (!p.indirectStarted) this.#probeIndirect(p, 0);
    // The TCP deadline equals this moment: settle it first.
    if (p.tcp?.pending) p.tcp.expire?.();
    const node = p.node;
    if (p.tcp?.didContact) {
      this.#log("WARN", `Was able to connect to ${node.name} but other probes failed, network may be misconfigured`);
      this.#finishProbe(p, -1);
      return;
    }
    let delta = 0;
    if (p.expectedNacks > 0) {
      if (p.nacks < p.expectedNacks) delta += p.expectedNacks - p.nacks;
    } else delta += 1;
    this.#finishProbe(p, delta);
    this.#log("INFO", `Suspect ${node.name} has failed, no acks received`);
    this.#suspectNode({ incarnation: node.incarnation, node: node.name, from: this.#config.name });
  }

  #finishProbe(p: Probe, awarenessDelta: number): void {
    p.done = true;
    this.#awareness.applyDelta(awarenessDelta);
    this.#probing = false;
    if (this.#probePending && !this.#shutdown) {
      this.#probePending = false;
      this.#probeTick();
    }
  }

  /** Registers an ack handler for `seq`, reaped after `timeoutMs`. */
  #setAckHandler(
    seq: number,
    ackFn: AckHandler["ackFn"],
    timeoutMs: number,
    nackFn?: () => void,
    onTimeout?: () => void,
  ): void {
    this.#ackHandlers.get(seq)?.timer.cancel();
    const timer = this.#after(timeoutMs, () => {
      if (this.#ackHandlers.get(seq)?.timer === timer) this.#ackHandlers.delete(seq);
      onTimeout?.();
    });
    this.#ackHandlers.set(seq, { ackFn, nackFn, timer });
  }

  #invokeAck(seq: number, payload: Uint8Array | null): void {
    const h = this.#ackHandlers.get(seq);
    if (!h) return;
    this.#ackHandlers.delete(seq);
    h.timer.cancel();
    h.ackFn(payload, this.#now);
  }

  #invokeNack(seq: number): void {
    this.#ackHandlers.get(seq)?.nackFn?.();
  }

  // ------------------------------------------------------------------ gossip

  /**
   * Go's `gossip`: broadcasts to GossipNodes random live or recently dead
   * nodes. Returns the number of targets picked.
   */
  #gossip(): number {
    const c = this.#config;
    const targets = kRandomNodes(c.random, c.gossipNodes, this.#nodes, (n) => this.#excludeFromGossip(n));
    let avail = c.udpBufferSize - COMPOUND_HEADER_OVERHEAD;
    if (this.#encryptionEnabled()) avail -= encryptOverhead(this.#encryptionVersion());
    for (const node of targets) {
      const msgs = this.#getBroadcasts(COMPOUND_OVERHEAD, avail);
      if (msgs.length === 0) break;
      this.#sendMany(this.#addrOf(node), node, msgs);
    }
    return targets.length;
  }

  /** Gossip goes to others that are alive, suspect, or dead for less than GossipToTheDeadTime. */
  #excludeFromGossip(n: NodeRec): boolean {
    if (n.name === this.#config.name) return true;
    if (n.state === NodeState.Alive || n.state === NodeState.Suspect) return false;
    if (n.state === NodeState.Dead) return this.#now - n.stateChange > this.#config.gossipToTheDeadTime;
    return true;
  }

  /** memberlist broadcasts first, then the delegate's (each framed as a user message). */
  #getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    const toSend = this.#broadcasts.getBroadcasts(overhead, limit);
    const d = this.#config.delegate;
    if (d) {
      let used = 0;
      for (const m of toSend) used += m.length + overhead;
      const avail = limit - used;
      if (avail > overhead + USER_MSG_OVERHEAD) {
        for (const m of d.getBroadcasts(overhead + USER_MSG_OVERHEAD, avail)) toSend.push(encodeUserPacket(m));
      }
    }
    return toSend;
  }

  /** One message as is, several as compounds (split to stay Go-safe). */
  #sendMany(to: Address, node: NodeRec | null, msgs: Uint8Array[]): void {
    if (msgs.length === 1) return this.#rawSendPacket(to, node, msgs[0]);
    for (let i = 0; i < msgs.length; i += GO_SAFE_COMPOUND_PARTS) {
      const part = msgs.slice(i, i + GO_SAFE_COMPOUND_PARTS);
      this.#rawSendPacket(to, node, part.length === 1 ? part[0] : makeCompound(part));
    }
  }

  /** Go's `encodeBroadcastNotify` for memberlist messages, named by `name`. */
  #broadcast(name: string, msg: Uint8Array, notify?: () => void): void {
    this.#broadcasts.queueBroadcast({ name, message: msg, finished: notify });
    this.#wakeGossip();
  }

  // ----------------------------------------------------------------- sending

  /** Go's `sendMsg`: piggybacks queued broadcasts on the message. */
  #sendMsg(to: Address, msg: Uint8Array): void {
    if (!validAddress(to)) {
      this.#log("ERR", `Failed to send packet: invalid address ${joinHostPort(to.ip, to.port)}`);
      return;
    }
    let avail = this.#config.udpBufferSize - msg.length - COMPOUND_HEADER_OVERHEAD;
    if (this.#encryptionEnabled()) avail -= encryptOverhead(this.#encryptionVersion());
    const extra = this.#getBroadcasts(COMPOUND_OVERHEAD, avail);
    if (extra.length === 0) return this.#rawSendPacket(to, null, msg);
    this.#sendMany(to, null, [msg, ...extra]);
  }

  /**
   * Go's `rawSendMsgPacket`: compress if smaller, CRC when the destination
   * node is known with PMax ≥ 5 (looked up by IP text when not given, which
   * practically never matches a node name), encrypt.
   */
  #rawSendPacket(to: Address, node: NodeRec | null, msg: Uint8Array): void {
    if (!validAddress(to)) {
      this.#log("ERR", `Failed to send packet: invalid address ${joinHostPort(to.ip, to.port)}`);
      return;
    }
    const dest = node ?? this.#nodeMap.get(to.ip) ?? null;
    const data = sealPacket(msg, {
      compress: this.#config.enableCompression,
      crc: !!dest && dest.vsn[1] >= 5,
      key: this.#encryptionEnabled() ? this.keyring!.getPrimaryKey() : undefined,
      encryptionVersion: this.#encryptionVersion(),
    });
    this.#outputs.push({ kind: "packet", to: { ip: to.ip, port: to.port }, data });
  }

  #streamOptions() {
    return {
      compress: this.#config.enableCompression,
      key: this.#encryptionEnabled() ? this.keyring!.getPrimaryKey() : undefined,
      encryptionVersion: this.#encryptionVersion(),
    };
  }

  // ---------------------------------------------------------------- receiving

  #ingestPacket(buf: Uint8Array, from: Address): void {
    if (buf.length < 1) {
      this.#log("ERR", `UDP packet too short (${buf.length} bytes) ${logAddr(from)}`);
      return;
    }
    const keys = this.#encryptionEnabled() ? this.keyring!.getKeys() : undefined;
    const opened = openPacket(buf, keys);
    if (!opened.ok) {
      this.#log(opened.level, opened.level === "ERR" ? `${opened.error} ${logAddr(from)}` : opened.error);
      return;
    }
    this.#handleCommand(opened.msg, from, 0, { left: MAX_PACKET_DECOMPRESSED });
  }

  /** Go's `handleCommand`, with a nesting limit and a decompression budget. */
  #handleCommand(buf: Uint8Array, from: Address, depth: number, budget: { left: number }): void {
    if (buf.length < 1) {
      this.#log("ERR", `Failed to handle empty message ${logAddr(from)}`);
      return;
    }
    if (depth > MAX_NESTING) {
      this.#log("ERR", `Message nested too deeply ${logAddr(from)}`);
      return;
    }
    const type = buf[0];
    const body = buf.subarray(1);
    switch (type) {
      case MessageType.Compound:
        return this.#handleCompound(body, from, depth, budget);
      case MessageType.Compress:
        return this.#handleCompressed(body, from, depth, budget);
      case MessageType.Ping:
        return this.#decoded("ping request", from, () => decodePing(body), (p) => this.#handlePing(p, from));
      case MessageType.IndirectPing:
        return this.#decoded(
          "indirect ping request",
          from,
          () => decodeIndirectPing(body),
          (p) => this.#handleIndirectPing(p, from),
        );
      case MessageType.AckResp:
        return this.#decoded("ack response", from, () => decodeAck(body), (a) => this.#invokeAck(a.seqNo, a.payload));
      case MessageType.NackResp:
        return this.#decoded("nack response", from, () => decodeNack(body), (n) => this.#invokeNack(n.seqNo));
      case MessageType.Suspect:
        return this.#decoded("suspect message", from, () => decodeSuspect(body), (s) => this.#suspectNode(s));
      case MessageType.Alive:
        return this.#decoded("alive message", from, () => decodeAlive(body), (a) => this.#handleAlive(a));
      case MessageType.Dead:
        return this.#decoded("dead message", from, () => decodeDead(body), (d) => this.#deadNode(d));
      case MessageType.User:
        this.#config.delegate?.notifyMsg(body.slice());
        return;
      default:
        this.#log("ERR", `msg type (${type}) not supported ${logAddr(from)}`);
    }
  }

  /** Decodes with `decode`, logging "Failed to decode <what>: err from=..." on failure. */
  #decoded<T>(what: string, from: Address, decode: () => T, handle: (msg: T) => void): void {
    let msg: T;
    try {
      msg = decode();
    } catch (e) {
      this.#log("ERR", `Failed to decode ${what}: ${errText(e)} ${logAddr(from)}`);
      return;
    }
    handle(msg);
  }

  #handleCompound(body: Uint8Array, from: Address, depth: number, budget: { left: number }): void {
    let parts: Uint8Array[], truncated: number;
    try {
      ({ parts, truncated } = decodeCompound(body));
    } catch (e) {
      this.#log("ERR", `Failed to decode compound request: ${errText(e)} ${logAddr(from)}`);
      return;
    }
    if (truncated > 0) this.#log("WARN", `Compound request had ${truncated} truncated messages ${logAddr(from)}`);
    for (const part of parts) this.#handleCommand(part, from, depth + 1, budget);
  }

  #handleCompressed(body: Uint8Array, from: Address, depth: number, budget: { left: number }): void {
    let payload: Uint8Array;
    try {
      payload = decompressPayload(body, budget.left);
    } catch (e) {
      this.#log("ERR", `Failed to decompress payload: ${errText(e)} ${logAddr(from)}`);
      return;
    }
    budget.left -= payload.length;
    this.#handleCommand(payload, from, depth + 1, budget);
  }

  #handlePing(p: PingMsg, from: Address): void {
    if (p.node !== "" && p.node !== this.#config.name) {
      this.#log("WARN", `Got ping for unexpected node '${p.node}' ${logAddr(from)}`);
      return;
    }
    const payload = this.#config.ping ? this.#config.ping.ackPayload() : null;
    const to = p.sourceAddr && p.sourceAddr.length > 0 && p.sourcePort! > 0
      ? { ip: ipToString(p.sourceAddr), port: p.sourcePort! }
      : from;
    this.#sendMsg(to, encodeAck({ seqNo: p.seqNo, payload }));
  }

  #handleIndirectPing(ind: ReturnType<typeof decodeIndirectPing>, from: Address): void {
    const c = this.#config;
    const port = c.protocolVersion < 2 || ind.port === 0 ? c.bindPort : ind.port;
    const localSeq = this.#nextSeqNo();
    const ping: PingMsg = {
      seqNo: localSeq,
      node: ind.node,
      sourceAddr: this.#advertiseAddr,
      sourcePort: this.#advertisePort,
      sourceNode: c.name,
    };
    const back = ind.sourceAddr && ind.sourceAddr.length > 0 && ind.sourcePort! > 0
      ? { ip: ipToString(ind.sourceAddr), port: ind.sourcePort! }
      : from;
    let nackTimer: TimerHandle | undefined;
    this.#setAckHandler(localSeq, () => {
      nackTimer?.cancel();
      this.#sendMsg(back, encodeAck({ seqNo: ind.seqNo, payload: null }));
    }, c.probeTimeout);
    this.#sendMsg({ ip: ipToString(ind.target), port }, encodePing(ping));
    if (ind.nack) {
      nackTimer = this.#after(c.probeTimeout, () => this.#sendMsg(back, encodeNack({ seqNo: ind.seqNo })));
    }
  }

  #handleAlive(a: AliveMsg): void {
    if (this.#config.protocolVersion < 2 || a.port === 0) a.port = this.#config.bindPort;
    this.#aliveNode(a, undefined, false);
  }

  // ------------------------------------------------------------ state rules

  /** Go's `setAlive`: our own alive message at incarnation 1. */
  #setAlive(): void {
    const meta = this.#config.delegate ? this.#config.delegate.nodeMeta(META_MAX_SIZE) : null;
    if (meta && meta.length > META_MAX_SIZE) throw new Error("Node meta data provided is longer than the limit");
    this.#aliveNode(
      {
        incarnation: this.#nextIncarnation(),
        node: this.#config.name,
        addr: this.#advertiseAddr,
        port: this.#advertisePort,
        meta,
        vsn: Uint8Array.from(buildVsn(this.#config)),
      },
      undefined,
      true,
    );
  }

  /** Go's `refute`: beat the accusation's incarnation and gossip alive. */
  #refute(me: NodeRec, accusedInc: number): void {
    let inc = this.#nextIncarnation();
    if (accusedInc >= inc) inc = this.#skipIncarnation(accusedInc - inc + 1);
    me.incarnation = inc;
    this.#awareness.applyDelta(1);
    const a: AliveMsg = {
      incarnation: inc,
      node: me.name,
      addr: me.addr,
      port: me.port,
      meta: me.meta,
      vsn: Uint8Array.from(me.vsn),
    };
    // [quirk] Go names this broadcast by our address text, not our name.
    this.#broadcast(ipToString(me.addr), encodeAlive(a));
  }

  /** Go's `aliveNode`. */
  #aliveNode(a: AliveMsg, notify: (() => void) | undefined, bootstrap: boolean): void {
    const c = this.#config;
    let state = this.#nodeMap.get(a.node);
    if (this.#left && a.node === c.name) return;
    const vsn = a.vsn ?? new Uint8Array(0);
    const at = (): string => `${ipToString(a.addr)}:${a.port}`;
    if (vsn.length > 0 && vsn.length < 6) {
      this.#log(
        "WARN",
        `Ignoring an alive message for '${a.node}' (${at()}) because its version vector has ${vsn.length} bytes`,
      );
      return;
    }
    if (vsn.length >= 3) {
      const pMin = vsn[0], pMax = vsn[1], pCur = vsn[2];
      if (pMin === 0 || pMax === 0 || pMin > pMax) {
        this.#log(
          "WARN",
          `Ignoring an alive message for '${a.node}' (${at()}) because protocol version(s) are wrong: ${pMin} <= ${pCur} <= ${pMax} should be >0`,
        );
        return;
      }
    }
    let updatesNode = false;
    if (!state) {
      // Decoded byte fields are views into the packet: keep (shared) copies.
      state = {
        name: a.node,
        addr: internAddr(a.addr),
        port: a.port,
        meta: a.meta && a.meta.slice(),
        vsn: internVsn(vsn),
        incarnation: 0,
        state: NodeState.Dead,
        stateChange: 0,
        changeSeq: 0,
      };
      this.#nodeMap.set(a.node, state);
      const n = this.#nodes.length;
      const offset = randomOffset(c.random, n);
      this.#nodes.push(state);
      // A plain swap: destructuring goes through an array iterator on some engines.
      const moved = this.#nodes[offset];
      this.#nodes[offset] = this.#nodes[n];
      this.#nodes[n] = moved;
      this.#numNodes++;
    } else if (!bytesEqual(state.addr, a.addr) || state.port !== a.port) {
      const canReclaim = c.deadNodeReclaimTime > 0 && this.#now - state.stateChange > c.deadNodeReclaimTime;
      const mine = `${ipToString(state.addr)}:${state.port}`;
      if (state.state === NodeState.Left || (state.state === NodeState.Dead && canReclaim)) {
        this.#log("INFO", `Updating address for left or failed node ${state.name} from ${mine} to ${at()}`);
        updatesNode = true;
      } else {
        this.#log(
          "ERR",
          `Conflicting address for ${state.name}. Mine: ${mine} Theirs: ${at()} Old state: ${state.state}`,
        );
        c.conflict?.notifyConflict(this.#info(state), {
          name: a.node,
          addr: a.addr.slice(),
          port: a.port,
          meta: a.meta ? a.meta.slice() : new Uint8Array(0),
          state: NodeState.Alive,
          vsn: Array.from(vsn),
        });
        return;
      }
    }
    const isLocal = state.name === c.name;
    if (a.incarnation <= state.incarnation && !isLocal && !updatesNode) return;
    if (a.incarnation < state.incarnation && isLocal) return;
    this.#clearSuspicion(a.node);
    const oldState = state.state;
    const oldMeta = state.meta;
    if (!bootstrap && isLocal) {
      if (
        a.incarnation === state.incarnation && bytesEqual(a.meta, state.meta) &&
        bytesEqual(vsn, Uint8Array.from(state.vsn))
      ) {
        return;
      }
      this.#refute(state, a.incarnation);
      this.#log(
        "WARN",
        `Refuting an alive message for '${a.node}' (${at()}) meta:(${fmtBytes(a.meta)} VS ${
          fmtBytes(state.meta)
        }), vsn:(${fmtBytes(vsn)} VS ${fmtBytes(Uint8Array.from(state.vsn))})`,
      );
    } else {
      this.#broadcast(a.node, encodeAliveShared(a), notify);
      if (vsn.length > 0) state.vsn = internVsn(vsn);
      state.incarnation = a.incarnation;
      state.meta = a.meta && a.meta.slice();
      state.addr = internAddr(a.addr);
      state.port = a.port;
      if (state.state !== NodeState.Alive) this.#setState(state, NodeState.Alive);
    }
    const ev = c.events;
    if (ev) {
      if (oldState === NodeState.Dead || oldState === NodeState.Left) ev.notifyJoin(this.#info(state));
      else if (!bytesEqual(oldMeta, state.meta)) ev.notifyUpdate(this.#info(state));
    }
  }

  /** Go's `suspectNode`. */
  #suspectNode(s: SuspectMsg): void {
    const c = this.#config;
    const state = this.#nodeMap.get(s.node);
    if (!state) return;
    if (s.incarnation < state.incarnation) return;
    const timer = this.#nodeTimers.get(s.node);
    if (timer) {
      if (timer.confirm(s.from, this.#now)) this.#broadcast(s.node, encodeSuspect(s));
      return;
    }
    if (state.state !== NodeState.Alive) return;
    if (state.name === c.name) {
      this.#refute(state, s.incarnation);
      this.#log("WARN", `Refuting a suspect message (from: ${s.from})`);
      return;
    }
    this.#broadcast(s.node, encodeSuspect(s));
    state.incarnation = s.incarnation;
    this.#setState(state, NodeState.Suspect);
    const changeSeq = state.changeSeq;
    const n = this.#numNodes;
    let k = c.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const min = suspicionTimeout(c.suspicionMult, n, c.probeInterval);
    const max = c.suspicionMaxTimeoutMult * min;
    const fn = (confirmations: number): void => {
      if (this.#shutdown) return;
      const cur = this.#nodeMap.get(s.node);
      if (!cur || cur.state !== NodeState.Suspect || cur.changeSeq !== changeSeq) return;
      this.#nodeTimers.delete(s.node);
      this.#log("INFO", `Marking ${cur.name} as failed, suspect timeout reached (${confirmations} peer confirmations)`);
      this.#deadNode({ incarnation: cur.incarnation, node: cur.name, from: c.name });
    };
    this.#nodeTimers.set(
      s.node,
      new Suspicion(this.scheduler, s.from, k, min, max, this.#now, (n) => this.#guard(() => fn(n))),
    );
  }

  /** Go's `deadNode`; From == Node means the node left. */
  #deadNode(d: DeadMsg): void {
    const c = this.#config;
    const state = this.#nodeMap.get(d.node);
    if (!state) return;
    if (d.incarnation < state.incarnation) return;
    this.#clearSuspicion(d.node);
    if (deadOrLeft(state)) return;
    if (state.name === c.name) {
      if (!this.#left) {
        this.#refute(state, d.incarnation);
        this.#log("WARN", `Refuting a dead message (from: ${d.from})`);
        return;
      }
      this.#broadcast(d.node, encodeDead(d), this.#leaveNotify);
    } else {
      this.#broadcast(d.node, encodeDead(d));
    }
    state.incarnation = d.incarnation;
    this.#setState(state, d.node === d.from ? NodeState.Left : NodeState.Dead);
    c.events?.notifyLeave(this.#info(state));
  }

  #setState(n: NodeRec, s: NodeStateType): void {
    if (s === NodeState.Alive) this.#aliveEpoch++;
    n.state = s;
    n.stateChange = this.#now;
    n.changeSeq++;
  }

  #clearSuspicion(node: string): void {
    const t = this.#nodeTimers.get(node);
    if (!t) return;
    t.cancel();
    this.#nodeTimers.delete(node);
  }

  /** Go's `mergeState`. */
  #mergeState(remote: PushNodeState[]): void {
    for (const r of remote) {
      switch (r.state) {
        case NodeState.Alive:
          this.#aliveNode(
            {
              incarnation: r.incarnation,
              node: r.name,
              addr: r.addr,
              port: r.port,
              meta: r.meta,
              vsn: r.vsn,
            },
            undefined,
            false,
          );
          break;
        case NodeState.Left:
          this.#deadNode({ incarnation: r.incarnation, node: r.name, from: r.name });
          break;
        case NodeState.Dead:
        case NodeState.Suspect:
          this.#suspectNode({ incarnation: r.incarnation, node: r.name, from: this.#config.name });
          break;
      }
    }
  }

  /** Go's `mergeRemoteState`: the error text, or undefined. */
  #mergeRemoteState(join: boolean, nodes: PushNodeState[], userState: Uint8Array | null): string | undefined {
    const err = verifyProtocol(nodes, this.#nodes);
    if (err) return err;
    this.#mergeState(nodes);
    if (userState && this.#config.delegate) this.#config.delegate.mergeRemoteState(userState, join);
    return undefined;
  }

  /** Our push/pull payload (Go's `sendLocalState` before the envelope). */
  #localState(join: boolean): Uint8Array {
    const nodes: PushNodeState[] = this.#nodes.map((n) => ({
      name: n.name,
      addr: n.addr,
      port: n.port,
      meta: n.meta,
      incarnation: n.incarnation,
      state: n.state,
      vsn: Uint8Array.from(n.vsn),
    }));
    const user = this.#config.delegate ? this.#config.delegate.localState(join) : null;
    return encodePushPull(join, nodes, user);
  }

  /** Port 0 (or protocol < 2) means "same as ours", as in Go's `readRemoteState`. */
  #fixPorts(nodes: PushNodeState[]): PushNodeState[] {
    for (const n of nodes) {
      if (this.#config.protocolVersion < 2 || n.port === 0) n.port = this.#config.bindPort;
    }
    return nodes;
  }

  // ----------------------------------------------------------------- streams

  /** Periodic push/pull with one random alive node; `next` runs when it is over. */
  #pushPull(next: () => void): void {
    const c = this.#config;
    const [node] = kRandomNodes(c.random, 1, this.#nodes, (n) => n.name === c.name || n.state !== NodeState.Alive);
    if (!node) return next();
    this.#streams.pushPull(this.#addrOf(node), node.name, false, (err) => {
      if (err !== undefined) this.#log("ERR", `Push/Pull with ${node.name} failed: ${err}`);
      next();
    });
  }

  /** The stream machinery's view of this core. */
  #streamEnv(): StreamEnv {
    return {
      now: () => this.#now,
      after: (ms, fn) => this.#after(ms, fn),
      emit: (out) => this.#outputs.push(out),
      log: (level, msg) => this.#log(level, msg),
      keys: () => (this.#encryptionEnabled() ? this.keyring!.getKeys() : undefined),
      seal: (msg) => sealStream(msg, this.#streamOptions()),
      name: () => this.#config.name,
      tcpTimeout: () => this.#config.tcpTimeout,
      localState: (join) => this.#localState(join),
      mergeRemoteState: (join, nodes, user) => this.#mergeRemoteState(join, this.#fixPorts(nodes), user),
      notifyMsg: (msg) => this.#config.delegate?.notifyMsg(msg),
    };
  }
}
