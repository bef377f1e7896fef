/**
 * Types and constants shared by the RPC ("IPC") server and client: command
 * names, the error strings Serf's agent sends verbatim, and the records that
 * travel on the wire (`serf/cmd/serf/command/agent/ipc.go`,
 * `serf/client/const.go`).
 *
 * @module
 */
import { memberStruct } from "../serf/messages.ts";

/** The only IPC protocol version Serf speaks (min = max = 1). */
export const IPC_VERSION = 1;

/** Command names (the `Command` field of a request header). */
export const Command = {
  handshake: "handshake",
  auth: "auth",
  event: "event",
  forceLeave: "force-leave",
  join: "join",
  members: "members",
  membersFiltered: "members-filtered",
  stream: "stream",
  stop: "stop",
  monitor: "monitor",
  leave: "leave",
  installKey: "install-key",
  useKey: "use-key",
  removeKey: "remove-key",
  listKeys: "list-keys",
  tags: "tags",
  query: "query",
  respond: "respond",
  stats: "stats",
  getCoordinate: "get-coordinate",
} as const;

/** Error strings of the IPC layer, exactly as the Go agent sends them. */
export const IpcError = {
  unsupportedCommand: "Unsupported command",
  unsupportedIPCVersion: "Unsupported IPC version",
  duplicateHandshake: "Handshake already performed",
  handshakeRequired: "Handshake required",
  monitorExists: "Monitor already exists",
  invalidFilter: "Invalid event filter",
  streamExists: "Stream with given sequence exists",
  invalidQueryID: "No pending queries matching ID",
  authRequired: "Authentication required",
  invalidAuthToken: "Invalid authentication token",
} as const;

/** A cluster member as the IPC layer reports it (Go's `agent.Member` / `client.Member`). */
export interface RpcMember {
  name: string;
  /** 4 or 16 bytes. */
  addr: Uint8Array;
  port: number;
  tags: Record<string, string>;
  /** "none" | "alive" | "leaving" | "left" | "failed" */
  status: string;
  /** memberlist protocol versions. */
  protocolMin: number;
  protocolMax: number;
  protocolCur: number;
  /** Serf protocol versions. */
  delegateMin: number;
  delegateMax: number;
  delegateCur: number;
}

/** A Vivaldi network coordinate (Go's `coordinate.Coordinate`). */
export interface Coordinate {
  vec: number[];
  error: number;
  adjustment: number;
  height: number;
}

/** Parameters of a query started through RPC. */
export interface QueryParams {
  name: string;
  payload: Uint8Array | null;
  filterNodes: string[];
  /** tag name → RE2 regexp. */
  filterTags: Record<string, string>;
  requestAck: boolean;
  /** 0..255. */
  relayFactor: number;
  /** 0 = the agent's default. */
  timeoutMs: number;
}

/** One record of a query's result stream. */
export interface QueryRecord {
  type: "ack" | "response" | "done";
  /** Sender node ("" for done). */
  from: string;
  payload: Uint8Array | null;
}

/** The result of a key operation (Go's `keyResponse`). */
export interface KeyResponse {
  /** node → message (errors or notices). */
  messages: Record<string, string>;
  /** key → number of nodes holding it (list only). */
  keys: Record<string, number>;
  numNodes: number;
  numErr: number;
  numResp: number;
}

/** Member event names as they appear in stream records. */
export type MemberEventName = "member-join" | "member-leave" | "member-failed" | "member-update" | "member-reap";

/** Encodes a member as Go's `agent.Member` struct for the rpc dialect. */
export function memberToWire(m: RpcMember): Record<string, unknown> {
  return memberStruct(m);
}
