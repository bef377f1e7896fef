/**
 * What the agent must provide to the RPC server (`RpcServer`). The server
 * only speaks the protocol; every action is delegated here.
 *
 * Error convention: a method that throws (or rejects) with an `Error` makes
 * the server answer with that error's `message` verbatim in the response
 * header's `Error` field, exactly like Go's `errToString(err)`.
 *
 * Any method may return a plain value or a promise ({@link MaybePromise}).
 *
 * @module
 */
import type { Coordinate, KeyResponse, MemberEventName, QueryParams, RpcMember } from "./types.ts";

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** A Serf event as delivered to RPC event streams (after coalescing). */
export type RpcEvent = RpcMemberEvent | RpcUserEvent | RpcQueryEvent;

/** member-join / -leave / -failed / -update / -reap with the affected members. */
export interface RpcMemberEvent {
  type: "member";
  event: MemberEventName;
  members: RpcMember[];
}

/** A user event. */
export interface RpcUserEvent {
  type: "user";
  ltime: number;
  name: string;
  payload: Uint8Array | null;
  coalesce: boolean;
}

/**
 * A query addressed to this node. Internal `_serf_*` queries must not be
 * delivered to RPC streams.
 */
export interface RpcQueryEvent {
  type: "query";
  ltime: number;
  name: string;
  payload: Uint8Array | null;
  /** When responses stop being accepted, on the clock of the server's `Runtime.now()` (ms). */
  deadline: number;
  /** Sends our response (Go's `Query.Respond`); throws e.g. "response already sent". */
  respond(payload: Uint8Array | null): MaybePromise<void>;
}

/** Receives the results of a query started through RPC. */
export interface QuerySink {
  /** An ack arrived from `from` (de-duplicated by Serf). */
  ack(from: string): void;
  /** A response arrived from `from` (de-duplicated by Serf). */
  response(from: string, payload: Uint8Array | null): void;
  /** The query deadline passed: no more records. Later calls are ignored. */
  done(): void;
}

/** A key operation. */
export type KeyOp = "install" | "use" | "remove" | "list";

/**
 * The result of a key operation. The body is always sent; `error` (e.g.
 * "2/2 nodes reported failure") goes into the response header. `keys` is
 * only sent for "list".
 */
export interface KeyResult extends Omit<KeyResponse, "keys"> {
  keys?: Record<string, number>;
  error?: string;
}

/** The agent as seen by the RPC server. */
export interface RpcBackend {
  /** Every known member (Go's `serf.Members()`), in any order. */
  members(): MaybePromise<RpcMember[]>;
  /**
   * Joins the given addresses ("host", "host:port", "name/host:port").
   * Resolves with the number of successful contacts and, when something
   * failed, the error text; both are sent (the body even on error).
   */
  join(addrs: string[], replay: boolean): Promise<{ num: number; error?: string }>;
  /** Graceful leave; the response is sent after it settles. */
  leave(): Promise<void>;
  /** Called after the `leave` response was written: the agent shuts down. Errors are logged. */
  shutdown(): MaybePromise<void>;
  /** Force-leaves (and with `prune`, reaps) a node. */
  forceLeave(node: string, prune: boolean): MaybePromise<void>;
  /** The local node's current tags (the server merges `tags` requests onto them). */
  localTags(): Record<string, string>;
  /** Replaces the local tags (Go's `agent.SetTags`: tags file, then broadcast). */
  setTags(tags: Record<string, string>): MaybePromise<void>;
  /** The `stats` map-of-maps (all values strings). */
  stats(): MaybePromise<Record<string, Record<string, string>>>;
  /** The cached coordinate of `node`, or null when unknown. */
  getCoordinate(node: string): MaybePromise<Coordinate | null>;
  /** Broadcasts a user event (size-limit errors are thrown). */
  userEvent(name: string, payload: Uint8Array | null, coalesce: boolean): MaybePromise<void>;
  /**
   * Starts a query. Throw to refuse it (e.g. "query exceeds limit of 1024 bytes").
   * After it settles successfully, report acks/responses to `sink` and call
   * `sink.done()` at the deadline. Calls made before it settles are buffered.
   */
  query(params: QueryParams, sink: QuerySink): MaybePromise<void>;
  /** Runs a key operation across the cluster (`key` is base64; "" for list). */
  keyOperation(op: KeyOp, key: string): MaybePromise<KeyResult>;
  /**
   * Registers an event handler for an RPC stream; returns its unsubscribe.
   * The server filters; the backend sends every user-visible event.
   */
  subscribeEvents(handler: (event: RpcEvent) => void): () => void;
  /**
   * Registers a log handler for `monitor`; returns its unsubscribe. Before
   * returning, the backend replays its ring buffer (Go keeps the last 512
   * lines), oldest first, then forwards each new line. Lines are complete
   * log lines without trailing newline, e.g.
   * `2026/11/26 23:29:51 [INFO] agent: Received event: user-event: x`;
   * the server filters them by level.
   */
  subscribeLogs(handler: (line: string) => void): () => void;
}
