/**
 * Public types of the Serf core: members, events, and the parts of the
 * memberlist core and its broadcast queue that Serf relies on.
 *
 * @module
 */
import type { Scheduler } from "../core/scheduler.ts";
import type { Address, JoinTarget, MemberlistConfig, NodeInfo, Output } from "../memberlist/types.ts";
import type { Query } from "./query.ts";

/** Serf member status (Go's `MemberStatus` names). */
export type MemberStatus = "none" | "alive" | "leaving" | "left" | "failed";

/** Go's numeric `MemberStatus` values (used on the wire in conflict responses and by the RPC). */
export const MEMBER_STATUS_CODE: Record<MemberStatus, number> = {
  none: 0,
  alive: 1,
  leaving: 2,
  left: 3,
  failed: 4,
};

/** A member of the cluster as Serf knows it (Go's `serf.Member`). */
export interface Member {
  name: string;
  /** 4 or 16 bytes, as memberlist reported it. */
  addr: Uint8Array;
  port: number;
  tags: Record<string, string>;
  status: MemberStatus;
  protocolMin: number;
  protocolMax: number;
  protocolCur: number;
  delegateMin: number;
  delegateMax: number;
  delegateCur: number;
}

/** Serf's own lifecycle (Go's `SerfState`). */
export type SerfState = "alive" | "leaving" | "left" | "shutdown";

/** Member event types. */
export type MemberEventType = "member-join" | "member-leave" | "member-failed" | "member-update" | "member-reap";

/** A membership change (possibly several members once coalesced). */
export interface MemberEvent {
  type: MemberEventType;
  members: Member[];
}

/** A user event as delivered to listeners. */
export interface UserEvent {
  type: "user";
  ltime: number;
  name: string;
  payload: Uint8Array | null;
  coalesce: boolean;
}

/** A query delivered to listeners; answer with `query.respond(...)`. */
export interface QueryEvent {
  type: "query";
  query: Query;
}

/** Anything Serf delivers to `onEvent` listeners. */
export type SerfEvent = MemberEvent | UserEvent | QueryEvent;

/** Something that wants Serf events. */
export type EventListener = (event: SerfEvent) => void;

/** A broadcast in one of Serf's queues. */
export interface QueuedBroadcast {
  name?: string;
  message: Uint8Array;
  finished?(): void;
}

/** The transmit-limited queue API Serf uses (`lib/memberlist/queue.ts`). */
export interface BroadcastQueue {
  queueBroadcast(b: QueuedBroadcast): void;
  getBroadcasts(overhead: number, limit: number): Uint8Array[];
  numQueued(): number;
  prune(maxRetain: number): void;
  reset(): void;
}

/** The memberlist core API Serf uses (see ARCHITECTURE.md, class `Memberlist`). */
export interface MemberlistCore {
  readonly scheduler: Scheduler;
  readonly keyring?: unknown;
  start(now: number): void;
  handlePacket(data: Uint8Array, from: Address, now: number): void;
  streamAccepted(from: Address, now: number): number;
  streamConnected(id: number, now: number): void;
  streamData(id: number, chunk: Uint8Array, now: number): void;
  streamClosed(id: number, now: number, error?: string): void;
  tick(now: number): void;
  nextDeadline(): number | undefined;
  drain(): Output[];
  join(targets: JoinTarget[], now: number, done: (joined: number, errors: string[]) => void): void;
  leave(now: number, timeoutMs: number, done: (error?: string) => void): void;
  /** One push/pull with a random alive member (see `Memberlist.pushPullNow`). */
  pushPullNow(now: number): void;
  updateNode(now: number, timeoutMs: number, done: (error?: string) => void): void;
  shutdown(): void;
  sendToAddress(to: Address, msg: Uint8Array): void;
  localNode(): NodeInfo;
  members(): NodeInfo[];
  numMembers(): number;
  healthScore(): number;
}

/** How a Serf core builds its memberlist and queues (injected so tests can fake them). */
export interface SerfDeps {
  createMemberlist(config: MemberlistConfig, now: number): MemberlistCore;
  createQueue(numNodes: () => number, retransmitMult: number): BroadcastQueue;
}
