/**
 * Public types of the sans-IO memberlist core: addresses, node records,
 * delegates (the hooks Serf plugs into, as in hashicorp/memberlist) and the
 * outputs the host must carry out.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { Random } from "../core/random.ts";

/** A transport address: textual IP ("127.0.0.1", "::1") and port. */
export interface Address {
  ip: string;
  port: number;
}

/** A join target: an address, optionally with the node name expected there ("name/ip:port"). */
export interface JoinTarget extends Address {
  name?: string;
}

/** memberlist node states (wire values). */
export const NodeState = { Alive: 0, Suspect: 1, Dead: 2, Left: 3 } as const;
/** One of {@link NodeState}'s values. */
export type NodeStateType = typeof NodeState[keyof typeof NodeState];

/** A snapshot of a node as memberlist knows it (Go's `memberlist.Node`). */
export interface NodeInfo {
  name: string;
  /** 4 or 16 bytes, as on the wire. */
  addr: Uint8Array;
  port: number;
  meta: Uint8Array;
  state: NodeStateType;
  /** [PMin, PMax, PCur, DMin, DMax, DCur] */
  vsn: number[];
}

/** Go's `memberlist.Delegate`. All calls are synchronous. */
export interface Delegate {
  /** Metadata for our alive messages (Serf: encoded tags); at most `limit` bytes. */
  nodeMeta(limit: number): Uint8Array;
  /** A user message (type 8 payload, without the type byte) arrived. */
  notifyMsg(msg: Uint8Array): void;
  /** Messages to piggyback on gossip; each must be ≤ limit−overhead, total ≤ limit. */
  getBroadcasts(overhead: number, limit: number): Uint8Array[];
  /**
   * Whether {@link getBroadcasts} could return anything now. Optional: a
   * delegate that cannot tell keeps the gossip ticker running every
   * interval, as in Go; one that can lets an idle node skip empty ticks.
   */
  hasBroadcasts?(): boolean;
  /** User state for a push/pull (Serf: type byte 2 + map). */
  localState(join: boolean): Uint8Array;
  /** Remote user state from a push/pull. */
  mergeRemoteState(buf: Uint8Array, join: boolean): void;
}

/** Go's `memberlist.EventDelegate`. */
export interface EventDelegate {
  notifyJoin(node: NodeInfo): void;
  notifyLeave(node: NodeInfo): void;
  notifyUpdate(node: NodeInfo): void;
}

/** Go's `memberlist.ConflictDelegate`. */
export interface ConflictDelegate {
  notifyConflict(existing: NodeInfo, other: NodeInfo): void;
}

/** Go's `memberlist.PingDelegate` (Serf uses it for Vivaldi coordinates). */
export interface PingDelegate {
  ackPayload(): Uint8Array;
  notifyPingComplete(node: NodeInfo, rttMs: number, payload: Uint8Array): void;
}

/**
 * What the host must do, drained with `Memberlist.drain()`.
 * Stream ids are chosen by the core for outbound connections (`connect`) and
 * returned by `streamAccepted` for inbound ones.
 */
export type Output =
  | { kind: "packet"; to: Address; data: Uint8Array }
  | { kind: "connect"; stream: number; to: Address }
  | { kind: "write"; stream: number; data: Uint8Array }
  | { kind: "close"; stream: number };

/** memberlist's configuration (Go's `memberlist.Config`), durations in ms. */
export interface MemberlistConfig {
  name: string;
  /** Where the host bound (informational for the core). */
  bindAddr: string;
  bindPort: number;
  /** The address we advertise to others (IP text) and its port. */
  advertiseAddr: string;
  advertisePort: number;
  protocolVersion: number;
  delegateProtocolVersion: number;
  delegateProtocolMin: number;
  delegateProtocolMax: number;
  tcpTimeout: number;
  indirectChecks: number;
  retransmitMult: number;
  suspicionMult: number;
  suspicionMaxTimeoutMult: number;
  pushPullInterval: number;
  probeTimeout: number;
  probeInterval: number;
  disableTcpPings: boolean;
  awarenessMaxMultiplier: number;
  gossipNodes: number;
  gossipInterval: number;
  gossipToTheDeadTime: number;
  enableCompression: boolean;
  udpBufferSize: number;
  handoffQueueDepth: number;
  deadNodeReclaimTime: number;
  /** Encryption keys; primary first. Empty/undefined = no encryption. */
  keyring?: import("../security/keyring.ts").Keyring;
  delegate?: Delegate;
  events?: EventDelegate;
  conflict?: ConflictDelegate;
  ping?: PingDelegate;
  random: Random;
  logger: Logger;
}
