/**
 * The sans-IO Serf core (`serf/serf/serf.go` and its delegates): the member
 * state machine, intents, Lamport clocks, user events, queries and the
 * background tasks (reaper, reconnect, queue checks), all driven through the
 * memberlist core it owns. Timers run on the memberlist's scheduler.
 *
 * The host drives a Serf exactly like a Memberlist (`handlePacket`,
 * `stream*`, `tick`, `nextDeadline`, `drain`): Serf records `now` and
 * forwards, so its memberlist callbacks know the time. Do not drive
 * `serf.memberlist` directly.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { Random } from "../core/random.ts";
import type { Scheduler, TimerHandle } from "../core/scheduler.ts";
import type {
  Address,
  ConflictDelegate,
  Delegate,
  EventDelegate,
  JoinTarget,
  MemberlistConfig,
  NodeInfo,
  Output,
  PingDelegate,
} from "../memberlist/types.ts";
import { ipToString, joinHostPort } from "../memberlist/util.ts";
import type { Keyring } from "../security/keyring.ts";
import { EventRing, QueryRing, tooOld } from "./buffers.ts";
import { CoalesceStage, MemberEventCoalescer, UserEventCoalescer } from "./coalesce.ts";
import {
  PROTOCOL_VERSION_MAP,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  type SerfConfig,
  USER_EVENT_SANE_LIMIT,
  validateSerfConfig,
} from "./config.ts";
import {
  type Coordinate,
  CoordinateClient,
  decodeCoordinate,
  defaultCoordinateConfig,
  encodePingPayload,
  PING_VERSION,
} from "./coordinate.ts";
import { handleInternalQuery, type InternalQueryHost, isInternalQuery } from "./internal_query.ts";
import { RecentIntents } from "./intents.ts";
import { LamportClock } from "./lamport.ts";
import {
  decodeConflictResponse,
  decodeMessage,
  decodePushPull,
  encodeJoin,
  encodeLeave,
  encodePushPull,
  encodeQuery,
  encodeQueryResponse,
  encodeUserEvent,
  type JoinMessage,
  type LeaveMessage,
  MessageType,
  QUERY_FLAG_ACK,
  QUERY_FLAG_NO_BROADCAST,
  type QueryMessage,
  type QueryResponseMessage,
  type RelayMessage,
  type UserEventMessage,
  type WireMember,
} from "./messages.ts";
import {
  defaultQueryTimeout,
  encodeFilters,
  Query,
  type QueryHost,
  type QueryParams,
  QueryResponse,
  relayResponse,
  shouldProcessQuery,
} from "./query.ts";
import { checkTagsSize, decodeTags, encodeTags, META_MAX_SIZE } from "./tags.ts";
import type {
  BroadcastQueue,
  EventListener,
  Member,
  MemberEventType,
  MemberlistCore,
  SerfDeps,
  SerfEvent,
  SerfState,
} from "./types.ts";
import { MEMBER_STATUS_CODE } from "./types.ts";

/** A member plus Serf's bookkeeping (Go's `memberState`). */
interface MemberState {
  member: Member;
  /** Lamport time of the last intent applied. */
  statusLTime: number;
  /** Host time (ms) it left or failed; 0 otherwise. */
  leaveTime: number;
}

function snapshot(m: Member): Member {
  return { ...m, tags: { ...m.tags } };
}

function versions(m: Member, n: NodeInfo): void {
  [m.protocolMin, m.protocolMax, m.protocolCur, m.delegateMin, m.delegateMax, m.delegateCur] = n.vsn;
}

/** Initial clock values restored from a snapshot (Go: `LastClock` etc.). */
export interface RestoredClocks {
  clock: number;
  eventClock: number;
  queryClock: number;
}

/** The Serf core, parameterised by how memberlist and queues are built (see `Serf`). */
export class SerfCore {
  /** Our configuration (tags change with `setTags`). */
  readonly config: SerfConfig;
  /** The memberlist core Serf runs on. */
  readonly memberlist: MemberlistCore;
  /** memberlist's scheduler, shared by Serf's timers. */
  readonly scheduler: Scheduler;
  /** Our node name. */
  readonly nodeName: string;
  /** The memberlist configuration actually used (with Serf's delegates installed). */
  readonly memberlistConfig: MemberlistConfig;
  /** Set by the agent when a keyring file is configured: persists the keyring after key changes. */
  writeKeyringFile?: (keys: Uint8Array[]) => void;

  readonly #logger: Logger;
  readonly #random: Random;
  readonly #clock = new LamportClock();
  readonly #eventClock = new LamportClock();
  readonly #queryClock = new LamportClock();
  readonly #broadcasts: BroadcastQueue;
  readonly #eventBroadcasts: BroadcastQueue;
  readonly #queryBroadcasts: BroadcastQueue;
  readonly #members = new Map<string, MemberState>();
  #failed: MemberState[] = [];
  #left: MemberState[] = [];
  readonly #intents = new RecentIntents();
  readonly #events: EventRing;
  #eventMinTime = 0;
  #eventJoinIgnore = false;
  readonly #queries: QueryRing;
  #queryMinTime = 0;
  readonly #queryResponses = new Map<number, QueryResponse>();
  #state: SerfState = "alive";
  #now: number;
  readonly #listeners: EventListener[] = [];
  readonly #taps: EventListener[] = [];
  readonly #stages: CoalesceStage[] = [];
  #pipeline: (e: SerfEvent) => void;
  readonly #coord?: CoordinateClient;
  readonly #coordCache = new Map<string, Coordinate>();
  readonly #timers: TimerHandle[] = [];
  #joining = false;
  #resyncPending = false;
  readonly #joinQueue: (() => void)[] = [];

  /** Builds the core and its memberlist (not started: call `start`). */
  constructor(config: SerfConfig, mlConfig: MemberlistConfig, now: number, deps: SerfDeps) {
    validateSerfConfig(config);
    this.config = { ...config, tags: { ...config.tags } };
    this.nodeName = config.nodeName || mlConfig.name;
    this.config.nodeName = this.nodeName;
    if (encodeTags(this.config.tags, config.protocolVersion).length > META_MAX_SIZE) {
      throw new Error(`Encoded length of tags exceeds limit of ${META_MAX_SIZE} bytes`);
    }
    this.#now = now;
    this.#logger = mlConfig.logger;
    this.#random = mlConfig.random;
    const numNodes = () => this.#members.size;
    this.#broadcasts = deps.createQueue(numNodes, mlConfig.retransmitMult);
    this.#eventBroadcasts = deps.createQueue(numNodes, mlConfig.retransmitMult);
    this.#queryBroadcasts = deps.createQueue(numNodes, mlConfig.retransmitMult);
    this.#events = new EventRing(config.eventBuffer);
    this.#queries = new QueryRing(config.queryBuffer);
    this.#clock.increment();
    this.#eventClock.increment();
    this.#queryClock.increment();
    if (!config.disableCoordinates) {
      this.#coord = new CoordinateClient(defaultCoordinateConfig(), this.#random);
      this.#coordCache.set(this.nodeName, this.#coord.getCoordinate());
    }
    this.memberlistConfig = {
      ...mlConfig,
      name: this.nodeName,
      protocolVersion: PROTOCOL_VERSION_MAP[config.protocolVersion],
      delegateProtocolVersion: config.protocolVersion,
      delegateProtocolMin: PROTOCOL_VERSION_MIN,
      delegateProtocolMax: PROTOCOL_VERSION_MAX,
      delegate: this.#delegate(),
      events: this.#eventDelegate(),
      conflict: this.#conflictDelegate(),
      ping: this.#coord ? this.#pingDelegate() : undefined,
    };
    this.#pipeline = this.#buildPipeline();
    this.memberlist = deps.createMemberlist(this.memberlistConfig, now);
    this.scheduler = this.memberlist.scheduler;
  }

  // ---- lifecycle -----------------------------------------------------------

  /**
   * Restores clocks from a snapshot before `start` (Go: witness the last
   * clocks; events and queries at or below the restored times are ignored).
   */
  restoreClocks(c: RestoredClocks): void {
    this.#clock.witness(c.clock);
    this.#eventClock.witness(c.eventClock);
    this.#queryClock.witness(c.queryClock);
    this.#eventMinTime = c.eventClock + 1;
    this.#queryMinTime = c.queryClock + 1;
  }

  /** Starts memberlist (we join ourselves: a member-join event) and Serf's background tasks. */
  start(now: number): void {
    this.#now = now;
    this.memberlist.start(now);
    this.#every(this.config.reapInterval, (t) => this.#reap(t));
    this.#every(this.config.reconnectInterval, (t) => this.#reconnect(t));
    this.#every(this.config.queueCheckInterval, () => this.#checkQueues());
  }

  /** Stops everything (not graceful: call `leave` first). Flushes coalesced events, closes running queries. */
  shutdown(): void {
    if (this.#state === "shutdown") return;
    if (this.#state !== "left") this.#logger("WARN", "serf: Shutdown without a Leave");
    this.#state = "shutdown";
    this.memberlist.shutdown();
    for (const t of this.#timers) t.cancel();
    for (const s of this.#stages) s.flush();
    // Go's query timers keep running and close the collectors; ours were cancelled, so close now.
    const open = [...this.#queryResponses.values()];
    this.#queryResponses.clear();
    for (const q of open) q.close();
  }

  /** The logger Serf writes to (memberlist's). */
  get logger(): Logger {
    return this.#logger;
  }

  /** Serf's lifecycle state. */
  state(): SerfState {
    return this.#state;
  }

  // ---- host-facing surface (same as Memberlist) ----------------------------

  /** Feeds a UDP packet. */
  handlePacket(data: Uint8Array, from: Address, now: number): void {
    this.#now = now;
    this.memberlist.handlePacket(data, from, now);
  }

  /** An inbound TCP connection; returns its stream id. */
  streamAccepted(from: Address, now: number): number {
    this.#now = now;
    return this.memberlist.streamAccepted(from, now);
  }

  /** An outbound connection completed. */
  streamConnected(id: number, now: number): void {
    this.#now = now;
    this.memberlist.streamConnected(id, now);
  }

  /** Stream bytes arrived. */
  streamData(id: number, chunk: Uint8Array, now: number): void {
    this.#now = now;
    this.memberlist.streamData(id, chunk, now);
  }

  /** A stream closed. */
  streamClosed(id: number, now: number, error?: string): void {
    this.#now = now;
    this.memberlist.streamClosed(id, now, error);
  }

  /** Runs due timers (memberlist's and Serf's). */
  tick(now: number): void {
    this.#now = now;
    this.memberlist.tick(now);
  }

  /** When `tick` is next needed. */
  nextDeadline(): number | undefined {
    return this.memberlist.nextDeadline();
  }

  /** Outputs for the host. */
  drain(): Output[] {
    return this.memberlist.drain();
  }

  // ---- events --------------------------------------------------------------

  /** Registers a listener for events after internal queries and coalescing; returns an unsubscribe. */
  onEvent(cb: EventListener): () => void {
    this.#listeners.push(cb);
    return () => this.#listeners.splice(this.#listeners.indexOf(cb) >>> 0, 1);
  }

  /**
   * Registers a listener for the raw event stream (before internal queries are
   * consumed and before coalescing): what Go's snapshotter sees.
   */
  tap(cb: EventListener): () => void {
    this.#taps.push(cb);
    return () => this.#taps.splice(this.#taps.indexOf(cb) >>> 0, 1);
  }

  #emit(e: SerfEvent): void {
    for (const t of [...this.#taps]) t(e);
    this.#pipeline(e);
  }

  #buildPipeline(): (e: SerfEvent) => void {
    const c = this.config;
    let out = (e: SerfEvent) => {
      for (const l of [...this.#listeners]) l(e);
    };
    if (c.coalescePeriod > 0 && c.quiescentPeriod > 0) {
      out = this.#stage(c.coalescePeriod, c.quiescentPeriod, new MemberEventCoalescer(), out);
    }
    if (c.userCoalescePeriod > 0 && c.userQuiescentPeriod > 0) {
      out = this.#stage(c.userCoalescePeriod, c.userQuiescentPeriod, new UserEventCoalescer(), out);
    }
    const next = out;
    return (e) => {
      if (e.type === "query" && isInternalQuery(e.query.name)) {
        handleInternalQuery(this.#internalHost(), e.query, this.#now);
      } else next(e);
    };
  }

  #stage(
    period: number,
    quiescent: number,
    c: MemberEventCoalescer | UserEventCoalescer,
    out: (e: SerfEvent) => void,
  ): (e: SerfEvent) => void {
    // The scheduler is only known once memberlist exists; stages look it up lazily.
    let stage: CoalesceStage | undefined;
    return (e) => {
      if (!stage) {
        stage = new CoalesceStage(this.scheduler, period, quiescent, c, out);
        this.#stages.push(stage);
      }
      stage.push(e, this.#now);
    };
  }

  #memberEvent(type: MemberEventType, m: Member): void {
    this.#emit({ type, members: [snapshot(m)] });
  }

  // ---- queries about the cluster --------------------------------------------

  /** Every known member (alive, leaving, left, failed), including ourselves. */
  members(): Member[] {
    return [...this.#members.values()].map((ms) => snapshot(ms.member));
  }

  /** Our own member record. */
  localMember(): Member {
    const ms = this.#members.get(this.nodeName);
    if (ms) return snapshot(ms.member);
    const n = this.memberlist.localNode();
    const m: Member = {
      name: this.nodeName,
      addr: n.addr,
      port: n.port,
      tags: { ...this.config.tags },
      status: "none",
      protocolMin: 0,
      protocolMax: 0,
      protocolCur: 0,
      delegateMin: 0,
      delegateMax: 0,
      delegateCur: 0,
    };
    versions(m, n);
    return m;
  }

  /** Number of known members, whatever their status (Go's `NumNodes`). */
  numNodes(): number {
    return this.#members.size;
  }

  /** Serf's protocol version. */
  protocolVersion(): number {
    return this.config.protocolVersion;
  }

  /** True when memberlist has a keyring. */
  encryptionEnabled(): boolean {
    return this.memberlist.keyring !== undefined && this.memberlist.keyring !== null;
  }

  /** Current Lamport times: member, event and query clocks. */
  clocks(): RestoredClocks {
    return { clock: this.#clock.time(), eventClock: this.#eventClock.time(), queryClock: this.#queryClock.time() };
  }

  /** Go's `Stats()`. */
  stats(): Record<string, string> {
    const s: Record<string, string> = {
      members: String(this.#members.size),
      failed: String(this.#failed.length),
      left: String(this.#left.length),
      health_score: String(this.memberlist.healthScore()),
      member_time: String(this.#clock.time()),
      event_time: String(this.#eventClock.time()),
      query_time: String(this.#queryClock.time()),
      intent_queue: String(this.#broadcasts.numQueued()),
      event_queue: String(this.#eventBroadcasts.numQueued()),
      query_queue: String(this.#queryBroadcasts.numQueued()),
      encrypted: String(this.encryptionEnabled()),
    };
    if (this.#coord) s.coordinate_resets = String(this.#coord.resets);
    return s;
  }

  /** Our network coordinate; throws `Coordinates are disabled`. */
  getCoordinate(): Coordinate {
    if (!this.#coord) throw new Error("Coordinates are disabled");
    return this.#coord.getCoordinate();
  }

  /** The last coordinate seen for `name` (ours included), if any. */
  getCachedCoordinate(name: string): Coordinate | undefined {
    return this.#coordCache.get(name);
  }

  /** Go's `DefaultQueryTimeout()` in ms. */
  defaultQueryTimeout(): number {
    return defaultQueryTimeout(
      this.memberlistConfig.gossipInterval,
      this.config.queryTimeoutMult,
      this.memberlist.numMembers(),
    );
  }

  // ---- operations ------------------------------------------------------------

  /**
   * Joins through memberlist (push/pull with each target), then broadcasts a
   * join intent if at least one succeeded. With `ignoreOld`, user events older
   * than the remote's event clock are not replayed. Joins run one at a time.
   */
  join(
    targets: JoinTarget[],
    ignoreOld: boolean,
    now: number,
    done: (joined: number, errors: string[]) => void,
  ): void {
    this.#now = now;
    if (this.#state !== "alive") return done(0, ["Serf can't Join after Leave or Shutdown"]);
    const run = () => {
      this.#joining = true;
      this.#eventJoinIgnore = ignoreOld;
      this.memberlist.join(targets, this.#now, (joined, errors) => {
        this.#eventJoinIgnore = false;
        if (joined > 0) {
          this.#broadcastJoin(this.#clock.time());
          this.#scheduleResync();
        }
        this.#joining = false;
        done(joined, errors);
        this.#joinQueue.shift()?.();
      });
    };
    if (this.#joining) this.#joinQueue.push(run);
    else run();
  }

  /** Arms the one push/pull after a join (`joinResyncIntervals`); one at a time. */
  #scheduleResync(): void {
    const intervals = this.config.joinResyncIntervals;
    if (intervals <= 0 || this.#resyncPending) return;
    this.#resyncPending = true;
    const delay = intervals * this.memberlistConfig.gossipInterval * (1 + this.#random());
    this.#after(delay, (now) => {
      this.#resyncPending = false;
      if (this.#state === "alive") this.memberlist.pushPullNow(now);
    });
  }

  /**
   * Go's `handleRejoin` (snapshot replay): memberlist-joins previously known
   * nodes one at a time (skipping ourselves) until one succeeds; no join
   * intent is broadcast. `addr` is the text logged and `target` what is dialled.
   */
  rejoin(
    previous: { name: string; addr: string; target: JoinTarget }[],
    now: number,
    done: (ok: boolean) => void = () => {},
  ): void {
    this.#now = now;
    const todo = previous.filter((p) => p.name !== this.nodeName);
    const next = (i: number): void => {
      if (i >= todo.length) {
        this.#logger("WARN", "serf: Failed to re-join any previously known node");
        return done(false);
      }
      const p = todo[i];
      this.#logger("INFO", `serf: Attempting re-join to previously known node: ${p.name}: ${p.addr}`);
      const target = { ...p.target, name: p.name || undefined };
      this.memberlist.join([target], this.#now, (joined) => {
        if (joined === 0) return next(i + 1);
        this.#logger("INFO", `serf: Re-joined to previously known node: ${p.name}: ${p.addr}`);
        done(true);
      });
    };
    next(0);
  }

  /**
   * Graceful leave: mark ourselves leaving, broadcast a leave intent (waiting
   * up to BroadcastTimeout when others are alive), leave memberlist, wait
   * LeavePropagateDelay, become `left`.
   */
  leave(now: number, done: (error?: string) => void): void {
    this.#now = now;
    if (this.#state === "left") return done();
    if (this.#state === "leaving") return done("Leave already in progress");
    if (this.#state === "shutdown") return done("Leave called after Shutdown");
    this.#state = "leaving";
    const msg: LeaveMessage = { ltime: this.#clock.time(), node: this.nodeName, prune: false };
    this.#clock.increment();
    this.#handleLeaveIntent(msg);
    const leaveMemberlist = () => {
      this.memberlist.leave(this.#now, this.config.broadcastTimeout, (err) => {
        if (err) return done(err);
        this.#after(this.config.leavePropagateDelay, () => {
          if (this.#state !== "shutdown") this.#state = "left";
          done();
        });
      });
    };
    if (!this.#hasAliveMembers()) return leaveMemberlist();
    this.#broadcastAndWait(encodeLeave(msg), "timeout while waiting for graceful leave", (err) => {
      if (err) done(err);
      else leaveMemberlist();
    });
  }

  /**
   * Force-leave (Go's `RemoveFailedNode[Prune]`): a leave intent about
   * another node, applied locally and broadcast (waiting up to BroadcastTimeout).
   */
  forceLeave(node: string, prune: boolean, now: number, done: (error?: string) => void): void {
    this.#now = now;
    const msg: LeaveMessage = { ltime: this.#clock.time(), node, prune };
    this.#clock.increment();
    this.#handleLeaveIntent(msg);
    if (!this.#hasAliveMembers()) return done();
    this.#broadcastAndWait(encodeLeave(msg), "timed out broadcasting node removal", done);
  }

  /** Replaces our tags and gossips them (memberlist update, waiting up to BroadcastTimeout). */
  setTags(tags: Record<string, string>, now: number, done: (error?: string) => void): void {
    this.#now = now;
    try {
      checkTagsSize(tags, this.config.protocolVersion);
    } catch (err) {
      return done((err as Error).message);
    }
    this.config.tags = { ...tags };
    this.memberlist.updateNode(now, this.config.broadcastTimeout, done);
  }

  /**
   * Sends a user event: processed locally first, then gossiped. Throws Go's
   * size-limit errors.
   */
  userEvent(name: string, payload: Uint8Array | null, coalesce: boolean, now: number): void {
    this.#now = now;
    const limit = this.config.userEventSizeLimit;
    const size = new TextEncoder().encode(name).length + (payload?.length ?? 0);
    if (size > limit) throw new Error(`user event exceeds configured limit of ${limit} bytes before encoding`);
    if (size > USER_EVENT_SANE_LIMIT) {
      throw new Error(`user event exceeds sane limit of ${USER_EVENT_SANE_LIMIT} bytes before encoding`);
    }
    const msg: UserEventMessage = { ltime: this.#eventClock.time(), name, payload, cc: coalesce };
    const raw = encodeUserEvent(msg);
    if (raw.length > limit) {
      throw new Error(`encoded user event exceeds configured limit of ${limit} bytes after encoding`);
    }
    if (raw.length > USER_EVENT_SANE_LIMIT) {
      throw new Error(`encoded user event exceeds sane limit of ${USER_EVENT_SANE_LIMIT} bytes before encoding`);
    }
    this.#eventClock.increment();
    this.#handleUserEvent(msg);
    this.#eventBroadcasts.queueBroadcast({ message: raw });
  }

  /**
   * Starts a query: processed locally first (we may ack/respond to
   * ourselves), then gossiped. Returns the collector, closed at the timeout.
   * Throws `Feature not supported` (protocol < 4) and `query exceeds limit of N bytes`.
   */
  query(name: string, payload: Uint8Array | null, params: QueryParams, now: number): QueryResponse {
    this.#now = now;
    if (this.config.protocolVersion < 4) throw new Error("Feature not supported");
    const timeout = params.timeout || this.defaultQueryTimeout();
    const local = this.memberlist.localNode();
    const q: QueryMessage = {
      ltime: this.#queryClock.time(),
      id: Math.floor(this.#random() * 2 ** 31),
      addr: local.addr,
      port: local.port,
      sourceNode: local.name,
      filters: encodeFilters(params),
      flags: params.requestAck ? QUERY_FLAG_ACK : 0,
      relayFactor: params.relayFactor ?? 0,
      timeoutNs: Math.round(timeout * 1e6),
      name,
      payload,
    };
    const raw = encodeQuery(q);
    if (raw.length > this.config.querySizeLimit) {
      throw new Error(`query exceeds limit of ${this.config.querySizeLimit} bytes`);
    }
    const resp = new QueryResponse(q.id, q.ltime, now + timeout, !!params.requestAck);
    this.#queryResponses.set(q.ltime, resp);
    this.#after(timeout, () => {
      if (this.#queryResponses.get(resp.ltime) === resp) this.#queryResponses.delete(resp.ltime);
      resp.close();
    });
    this.#handleQuery(q);
    this.#queryBroadcasts.queueBroadcast({ message: raw });
    return resp;
  }

  // ---- timers ----------------------------------------------------------------

  #after(delay: number, fn: (now: number) => void): TimerHandle {
    const t = this.scheduler.at(this.#now + delay, (now) => {
      this.#now = Math.max(this.#now, now);
      fn(now);
    });
    this.#timers.push(t);
    if (this.#timers.length > 64) this.#pruneTimers();
    return t;
  }

  #pruneTimers(): void {
    const live = this.#timers.filter((t) => t.at >= this.#now);
    this.#timers.length = 0;
    this.#timers.push(...live);
  }

  #every(interval: number, fn: (now: number) => void): void {
    const arm = () =>
      this.#after(interval, (now) => {
        if (this.#state === "shutdown") return;
        fn(now);
        arm();
      });
    arm();
  }

  /** Queues an intent broadcast and reports when it has been fully sent or `timeoutText` after BroadcastTimeout. */
  #broadcastAndWait(raw: Uint8Array, timeoutText: string, done: (error?: string) => void): void {
    let settled = false;
    const settle = (err?: string) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      done(err);
    };
    const timer = this.#after(this.config.broadcastTimeout, () => settle(timeoutText));
    // finished() runs inside memberlist's gossip; continue from a fresh timer callback.
    this.#broadcasts.queueBroadcast({ message: raw, finished: () => this.#after(0, () => settle()) });
  }

  // ---- member state machine ---------------------------------------------------

  #hasAliveMembers(): boolean {
    for (const ms of this.#members.values()) {
      if (ms.member.name !== this.nodeName && ms.member.status === "alive") return true;
    }
    return false;
  }

  #broadcastJoin(ltime: number): void {
    const msg: JoinMessage = { ltime, node: this.nodeName };
    this.#clock.witness(ltime);
    this.#handleJoinIntent(msg);
    this.#broadcasts.queueBroadcast({ message: encodeJoin(msg) });
  }

  #handleNodeJoin(n: NodeInfo): void {
    let ms = this.#members.get(n.name);
    let old: Member["status"] = "none";
    if (!ms) {
      ms = {
        member: {
          name: n.name,
          addr: n.addr,
          port: n.port,
          tags: this.#decodeTags(n.meta),
          status: "alive",
          protocolMin: 0,
          protocolMax: 0,
          protocolCur: 0,
          delegateMin: 0,
          delegateMax: 0,
          delegateCur: 0,
        },
        statusLTime: 0,
        leaveTime: 0,
      };
      const join = this.#intents.get(n.name, "join");
      if (join !== undefined) ms.statusLTime = join;
      const leave = this.#intents.get(n.name, "leave");
      if (leave !== undefined) {
        ms.member.status = "leaving";
        ms.statusLTime = leave;
      }
      this.#members.set(n.name, ms);
    } else {
      old = ms.member.status;
      ms.member.status = "alive";
      ms.leaveTime = 0;
      ms.member.addr = n.addr;
      ms.member.port = n.port;
      ms.member.tags = this.#decodeTags(n.meta);
    }
    versions(ms.member, n);
    if (old === "failed" || old === "left") {
      this.#failed = this.#failed.filter((x) => x.member.name !== n.name);
      this.#left = this.#left.filter((x) => x.member.name !== n.name);
    }
    this.#logger("INFO", `serf: EventMemberJoin: ${n.name} ${ipToString(ms.member.addr)}`);
    this.#memberEvent("member-join", ms.member);
  }

  #handleNodeLeave(n: NodeInfo): void {
    const ms = this.#members.get(n.name);
    if (!ms) return;
    const m = ms.member;
    if (m.status === "leaving") {
      m.status = "left";
      ms.leaveTime = this.#now;
      this.#left.push(ms);
    } else if (m.status === "alive") {
      m.status = "failed";
      ms.leaveTime = this.#now;
      this.#failed.push(ms);
    } else {
      this.#logger("WARN", `serf: Bad state when leave: ${MEMBER_STATUS_CODE[m.status]}`);
      return;
    }
    const left = m.status === "left";
    this.#logger("INFO", `serf: ${left ? "EventMemberLeave" : "EventMemberFailed"}: ${m.name} ${ipToString(m.addr)}`);
    this.#memberEvent(left ? "member-leave" : "member-failed", m);
  }

  #handleNodeUpdate(n: NodeInfo): void {
    const ms = this.#members.get(n.name);
    if (!ms) return;
    ms.member.addr = n.addr;
    ms.member.port = n.port;
    ms.member.tags = this.#decodeTags(n.meta);
    versions(ms.member, n);
    this.#logger("INFO", `serf: EventMemberUpdate: ${n.name}`);
    this.#memberEvent("member-update", ms.member);
  }

  /** Go's `handleNodeLeaveIntent`; true when the intent is new (rebroadcast it). */
  #handleLeaveIntent(msg: LeaveMessage): boolean {
    this.#clock.witness(msg.ltime);
    const ms = this.#members.get(msg.node);
    if (!ms) return this.#intents.upsert(msg.node, "leave", msg.ltime, this.#now);
    if (msg.ltime <= ms.statusLTime) return false;
    if (msg.node === this.nodeName && this.#state === "alive") {
      this.#logger("DEBUG", "serf: Refuting an older leave intent");
      this.#broadcastJoin(this.#clock.time());
      return false;
    }
    ms.statusLTime = msg.ltime;
    const m = ms.member;
    switch (m.status) {
      case "alive":
        m.status = "leaving";
        if (msg.prune) this.#prune(ms);
        return true;
      case "failed":
        m.status = "left";
        this.#failed = this.#failed.filter((x) => x !== ms);
        this.#left.push(ms);
        this.#logger("INFO", `serf: EventMemberLeave (forced): ${m.name} ${ipToString(m.addr)}`);
        this.#memberEvent("member-leave", m);
        if (msg.prune) this.#prune(ms);
        return true;
      case "leaving":
      case "left":
        if (msg.prune) this.#prune(ms);
        return true;
      default:
        return false;
    }
  }

  /**
   * Go's `handlePrune`: erase the member, after BroadcastTimeout +
   * LeavePropagateDelay if it is still leaving. (Go sleeps holding the member
   * lock; we use a timer and skip the erase if the member came back alive.)
   */
  #prune(ms: MemberState): void {
    const erase = () => {
      if (this.#members.get(ms.member.name) !== ms || ms.member.status === "alive") return;
      this.#logger("INFO", `serf: EventMemberReap (forced): ${ms.member.name} ${ipToString(ms.member.addr)}`);
      if (ms.member.status === "leaving" || ms.member.status === "left") {
        this.#left = this.#left.filter((x) => x !== ms);
      }
      this.#erase(ms);
    };
    if (ms.member.status === "leaving") {
      this.#after(this.config.broadcastTimeout + this.config.leavePropagateDelay, erase);
    } else erase();
  }

  /** Go's `handleNodeJoinIntent`; true when new. */
  #handleJoinIntent(msg: JoinMessage): boolean {
    this.#clock.witness(msg.ltime);
    const ms = this.#members.get(msg.node);
    if (!ms) return this.#intents.upsert(msg.node, "join", msg.ltime, this.#now);
    if (msg.ltime <= ms.statusLTime) return false;
    ms.statusLTime = msg.ltime;
    if (ms.member.status === "leaving") ms.member.status = "alive";
    return true;
  }

  #erase(ms: MemberState): void {
    this.#members.delete(ms.member.name);
    this.#coord?.forgetNode(ms.member.name);
    this.#coordCache.delete(ms.member.name);
    this.#memberEvent("member-reap", ms.member);
  }

  #reapList(list: MemberState[], now: number, timeout: number): MemberState[] {
    return list.filter((ms) => {
      if (now - ms.leaveTime <= timeout) return true;
      this.#logger("INFO", `serf: EventMemberReap: ${ms.member.name}`);
      this.#erase(ms);
      return false;
    });
  }

  #reap(now: number): void {
    this.#failed = this.#reapList(this.#failed, now, this.config.reconnectTimeout);
    this.#left = this.#reapList(this.#left, now, this.config.tombstoneTimeout);
    this.#intents.reap(now, this.config.recentIntentTimeout);
  }

  #reconnect(now: number): void {
    const n = this.#failed.length;
    if (n === 0) return;
    const alive = this.#members.size - n - this.#left.length || 1;
    // Go compares float32 values; float64 only differs past the 7th digit.
    if (this.#random() > n / alive) {
      this.#logger("DEBUG", "serf: forgoing reconnect for random throttling");
      return;
    }
    const m = this.#failed[Math.floor(this.#random() * n)].member;
    const ip = ipToString(m.addr);
    this.#logger("INFO", `serf: attempting reconnect to ${m.name} ${joinHostPort(ip, m.port)}`);
    this.memberlist.join([{ ip, port: m.port, name: m.name || undefined }], now, () => {});
  }

  #queueMax(): number {
    if (this.config.minQueueDepth <= 0) return this.config.maxQueueDepth;
    return Math.max(2 * this.#members.size, this.config.minQueueDepth);
  }

  #checkQueues(): void {
    const queues: [string, BroadcastQueue][] = [
      ["Intent", this.#broadcasts],
      ["Event", this.#eventBroadcasts],
      ["Query", this.#queryBroadcasts],
    ];
    for (const [name, q] of queues) {
      const n = q.numQueued();
      if (n >= this.config.queueDepthWarning) this.#logger("WARN", `serf: ${name} queue depth: ${n}`);
      const max = this.#queueMax();
      if (n > max) {
        this.#logger("WARN", `serf: ${name} queue depth (${n}) exceeds limit (${max}), dropping messages!`);
        q.prune(max);
      }
    }
  }

  #decodeTags(meta: Uint8Array): Record<string, string> {
    return decodeTags(meta, (err) => this.#logger("ERR", `serf: Failed to decode tags: ${err.message}`));
  }

  // ---- user events and queries ---------------------------------------------

  /** Go's `handleUserEvent`; true when new. */
  #handleUserEvent(msg: UserEventMessage): boolean {
    this.#eventClock.witness(msg.ltime);
    if (msg.ltime < this.#eventMinTime) return false;
    const cur = this.#eventClock.time();
    if (tooOld(msg.ltime, cur, this.#events.size)) {
      this.#logger("WARN", `serf: received old event ${msg.name} from time ${msg.ltime} (current: ${cur})`);
      return false;
    }
    if (!this.#events.record(msg.ltime, msg.name, msg.payload)) return false;
    this.#emit({ type: "user", ltime: msg.ltime, name: msg.name, payload: msg.payload, coalesce: msg.cc });
    return true;
  }

  /** Go's `handleQuery`; true when it should be rebroadcast. */
  #handleQuery(q: QueryMessage): boolean {
    this.#queryClock.witness(q.ltime);
    if (q.ltime < this.#queryMinTime) return false;
    const cur = this.#queryClock.time();
    if (tooOld(q.ltime, cur, this.config.queryBuffer)) {
      this.#logger("WARN", `serf: received old query ${q.name} from time ${q.ltime} (current: ${cur})`);
      return false;
    }
    if (!this.#queries.record(q.ltime, q.id)) return false;
    const rebroadcast = (q.flags & QUERY_FLAG_NO_BROADCAST) === 0;
    const warn = (msg: string) => this.#logger("WARN", msg);
    if (!shouldProcessQuery(q.filters, this.nodeName, this.config.tags, warn)) return rebroadcast;
    if (q.flags & QUERY_FLAG_ACK) this.#sendAck(q);
    this.#emit({ type: "query", query: new Query(this.#queryHost(), q, this.#now) });
    return rebroadcast;
  }

  #sendAck(q: QueryMessage): void {
    const ack: QueryResponseMessage = {
      ltime: q.ltime,
      id: q.id,
      from: this.nodeName,
      flags: QUERY_FLAG_ACK,
      payload: null,
    };
    this.memberlist.sendToAddress(
      { ip: ipToString(q.addr ?? new Uint8Array(0)), port: q.port },
      encodeQueryResponse(ack),
    );
    try {
      relayResponse(this.#queryHost(), q.relayFactor, { ip: q.addr, port: q.port }, q.sourceNode, ack);
    } catch (err) {
      this.#logger("ERR", `serf: failed to relay ack: ${(err as Error).message}`);
    }
  }

  /** Go's `handleQueryResponse`. */
  #handleQueryResponse(r: QueryResponseMessage): void {
    const q = this.#queryResponses.get(r.ltime);
    if (!q) {
      this.#logger("WARN", `serf: reply for non-running query (LTime: ${r.ltime}, ID: ${r.id}) From: ${r.from}`);
      return;
    }
    if (q.id !== r.id) {
      this.#logger("WARN", `serf: query reply ID mismatch (Local: ${q.id}, Response: ${r.id})`);
      return;
    }
    if (q.finished(this.#now)) return;
    if (r.flags & QUERY_FLAG_ACK) q.addAck(r.from);
    else q.addResponse({ from: r.from, payload: r.payload });
  }

  #handleRelay(r: RelayMessage): void {
    const ip = ipToString(r.destAddr.ip ?? new Uint8Array(0));
    this.#logger("DEBUG", `serf: Relaying response to addr: ${joinHostPort(ip, r.destAddr.port)}`);
    this.memberlist.sendToAddress({ ip, port: r.destAddr.port }, r.inner);
  }

  #queryHost(): QueryHost {
    return {
      nodeName: this.nodeName,
      responseSizeLimit: this.config.queryResponseSizeLimit,
      random: this.#random,
      members: () => this.members(),
      sendToAddress: (to, msg) => this.memberlist.sendToAddress(to, msg),
    };
  }

  #internalHost(): InternalQueryHost {
    return {
      nodeName: this.nodeName,
      logger: this.#logger,
      keyring: (this.memberlist.keyring ?? undefined) as Keyring | undefined,
      hasKeyringFile: this.writeKeyringFile !== undefined,
      writeKeyringFile: this.writeKeyringFile,
      wireMember: (name) => {
        const ms = this.#members.get(name);
        return ms ? toWireMember(ms.member) : null;
      },
    };
  }

  // ---- name conflicts ------------------------------------------------------------

  #handleConflict(existing: NodeInfo, other: NodeInfo): void {
    if (existing.name !== this.nodeName) {
      this.#logger(
        "WARN",
        `serf: Name conflict for '${existing.name}' both ${ipToString(existing.addr)}:${existing.port} and ${
          ipToString(other.addr)
        }:${other.port} are claiming`,
      );
      return;
    }
    const enabled = this.config.enableNameConflictResolution;
    this.#logger(
      "ERR",
      `serf: Node name conflicts with another node at ${
        ipToString(other.addr)
      }:${other.port}. Names must be unique! (Resolution enabled: ${enabled})`,
    );
    if (enabled) this.#after(0, () => this.#resolveConflict());
  }

  /** Go's `resolveNodeConflict`: ask everyone via `_serf_conflict`; shut down when in the minority. */
  #resolveConflict(): void {
    let resp: QueryResponse;
    try {
      resp = this.query("_serf_conflict", new TextEncoder().encode(this.nodeName), {}, this.#now);
    } catch (err) {
      this.#logger("ERR", `serf: Failed to start name resolution query: ${(err as Error).message}`);
      return;
    }
    const local = this.memberlist.localNode();
    let responses = 0, matching = 0;
    resp.onResponse = (r) => {
      const p = r.payload;
      if (!p || p.length < 1 || p[0] !== MessageType.ConflictResponse) {
        this.#logger("ERR", `serf: Invalid conflict query response type: ${p ? `[${p.join(" ")}]` : "[]"}`);
        return;
      }
      let m: WireMember | null;
      try {
        m = decodeConflictResponse(p);
      } catch (err) {
        this.#logger("ERR", `serf: Failed to decode conflict query response: ${(err as Error).message}`);
        return;
      }
      responses++;
      if (m && m.port === local.port && ipToString(m.addr ?? new Uint8Array(0)) === ipToString(local.addr)) matching++;
    };
    resp.onClose = () => {
      const majority = Math.floor(responses / 2) + 1;
      if (matching >= majority) {
        this.#logger("INFO", `serf: majority in name conflict resolution [${matching} / ${responses}]`);
        return;
      }
      this.#logger("WARN", `serf: minority in name conflict resolution, quitting [${matching} / ${responses}]`);
      this.shutdown();
    };
  }

  // ---- memberlist delegates --------------------------------------------------------

  #delegate(): Delegate {
    return {
      nodeMeta: (limit) => {
        const meta = encodeTags(this.config.tags, this.config.protocolVersion);
        if (meta.length > limit) {
          throw new Error(`Node tags '${JSON.stringify(this.config.tags)}' exceeds length limit of ${limit} bytes`);
        }
        return meta;
      },
      notifyMsg: (buf) => this.#notifyMsg(buf),
      getBroadcasts: (overhead, limit) => this.#getBroadcasts(overhead, limit),
      hasBroadcasts: () =>
        this.#broadcasts.numQueued() + this.#queryBroadcasts.numQueued() + this.#eventBroadcasts.numQueued() > 0,
      localState: () => this.#localState(),
      mergeRemoteState: (buf, join) => this.#mergeRemoteState(buf, join),
    };
  }

  #notifyMsg(buf: Uint8Array): void {
    if (buf.length === 0) return;
    let decoded;
    try {
      decoded = decodeMessage(buf);
    } catch (err) {
      const what = ["leave", "join", "", "user event", "query", "query response", "", "", "", "relay header"][buf[0]];
      const text = buf[0] === MessageType.Relay ? "Error decoding relay header" : `Error decoding ${what} message`;
      this.#logger("ERR", `serf: ${text}: ${(err as Error).message}`);
      return;
    }
    if (!decoded) {
      this.#logger("WARN", `serf: Received message of unknown type: ${buf[0]}`);
      return;
    }
    let rebroadcast = false;
    let queue = this.#broadcasts;
    switch (decoded.type) {
      case 0:
        this.#logger("DEBUG", `serf: messageLeaveType: ${decoded.msg.node}`);
        rebroadcast = this.#handleLeaveIntent(decoded.msg);
        break;
      case 1:
        this.#logger("DEBUG", `serf: messageJoinType: ${decoded.msg.node}`);
        rebroadcast = this.#handleJoinIntent(decoded.msg);
        break;
      case 3:
        this.#logger("DEBUG", `serf: messageUserEventType: ${decoded.msg.name}`);
        rebroadcast = this.#handleUserEvent(decoded.msg);
        queue = this.#eventBroadcasts;
        break;
      case 4:
        this.#logger("DEBUG", `serf: messageQueryType: ${decoded.msg.name}`);
        rebroadcast = this.#handleQuery(decoded.msg);
        queue = this.#queryBroadcasts;
        break;
      case 5:
        this.#logger("DEBUG", `serf: messageQueryResponseType: ${decoded.msg.from}`);
        this.#handleQueryResponse(decoded.msg);
        break;
      case 9:
        this.#handleRelay(decoded.msg);
        break;
    }
    if (rebroadcast) queue.queueBroadcast({ message: buf.slice() });
  }

  #getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    const msgs = this.#broadcasts.getBroadcasts(overhead, limit);
    let used = msgs.reduce((s, m) => s + m.length + overhead, 0);
    const queries = this.#queryBroadcasts.getBroadcasts(overhead, limit - used);
    used += queries.reduce((s, m) => s + m.length + overhead, 0);
    const events = this.#eventBroadcasts.getBroadcasts(overhead, limit - used);
    return [...msgs, ...queries, ...events];
  }

  #localState(): Uint8Array {
    const statusLTimes = new Map<string, number>();
    for (const [name, ms] of this.#members) statusLTimes.set(name, ms.statusLTime);
    return encodePushPull({
      ltime: this.#clock.time(),
      statusLTimes,
      leftMembers: this.#left.map((ms) => ms.member.name),
      eventLTime: this.#eventClock.time(),
      events: this.#events.slots,
      queryLTime: this.#queryClock.time(),
    });
  }

  #mergeRemoteState(buf: Uint8Array, join: boolean): void {
    if (buf.length === 0) {
      this.#logger("ERR", "serf: Remote state is zero bytes");
      return;
    }
    if (buf[0] !== MessageType.PushPull) {
      this.#logger("ERR", `serf: Remote state has bad type prefix: ${buf[0]}`);
      return;
    }
    let pp;
    try {
      pp = decodePushPull(buf);
    } catch (err) {
      this.#logger("ERR", `serf: Failed to decode remote state: ${(err as Error).message}`);
      return;
    }
    if (pp.ltime > 0) this.#clock.witness(pp.ltime - 1);
    if (pp.eventLTime > 0) this.#eventClock.witness(pp.eventLTime - 1);
    if (pp.queryLTime > 0) this.#queryClock.witness(pp.queryLTime - 1);
    const left = new Set(pp.leftMembers);
    for (const name of pp.leftMembers) {
      this.#handleLeaveIntent({ ltime: (pp.statusLTimes.get(name) ?? 0) + 1, node: name, prune: false });
    }
    for (const [name, ltime] of pp.statusLTimes) {
      if (!left.has(name)) this.#handleJoinIntent({ ltime, node: name });
    }
    if (join && this.#eventJoinIgnore && pp.eventLTime > this.#eventMinTime) this.#eventMinTime = pp.eventLTime;
    for (const slot of pp.events) {
      if (!slot) continue;
      for (const e of slot.events) {
        this.#handleUserEvent({ ltime: slot.ltime, name: e.name, payload: e.payload, cc: false });
      }
    }
  }

  #eventDelegate(): EventDelegate {
    return {
      notifyJoin: (n) => this.#handleNodeJoin(n),
      notifyLeave: (n) => this.#handleNodeLeave(n),
      notifyUpdate: (n) => this.#handleNodeUpdate(n),
    };
  }

  #conflictDelegate(): ConflictDelegate {
    return { notifyConflict: (existing, other) => this.#handleConflict(existing, other) };
  }

  #pingDelegate(): PingDelegate {
    return {
      ackPayload: () => encodePingPayload(this.#coord!.getCoordinate()),
      notifyPingComplete: (node, rttMs, payload) => this.#pingComplete(node, rttMs, payload),
    };
  }

  #pingComplete(node: NodeInfo, rttMs: number, payload: Uint8Array): void {
    if (!payload || payload.length === 0 || !this.#coord) return;
    if (payload[0] !== PING_VERSION) {
      this.#logger("ERR", `serf: Unsupported ping version: ${payload[0]}`);
      return;
    }
    let coord: Coordinate;
    try {
      coord = decodeCoordinate(payload, 1);
    } catch (err) {
      this.#logger("ERR", `serf: Failed to decode coordinate from ping: ${(err as Error).message}`);
      return;
    }
    try {
      this.#coord.update(node.name, coord, rttMs / 1000);
    } catch (err) {
      this.#logger("TRACE", `serf: Rejected coordinate from ${node.name}: ${(err as Error).message}`);
      return;
    }
    this.#coordCache.set(node.name, coord);
    this.#coordCache.set(this.nodeName, this.#coord.getCoordinate());
  }
}

/** A member as Go's `Member` struct travels in conflict responses. */
export function toWireMember(m: Member): WireMember {
  return {
    name: m.name,
    addr: m.addr,
    port: m.port,
    tags: m.tags,
    status: MEMBER_STATUS_CODE[m.status],
    protocolMin: m.protocolMin,
    protocolMax: m.protocolMax,
    protocolCur: m.protocolCur,
    delegateMin: m.delegateMin,
    delegateMax: m.delegateMax,
    delegateCur: m.delegateCur,
  };
}
