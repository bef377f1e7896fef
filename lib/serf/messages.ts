/**
 * Serf's gossip messages (types 0..9, `serf/serf/messages.go`): a type byte
 * followed by a go-msgpack map (gossip dialect, keys sorted as go-msgpack
 * sorts struct fields). Decoders follow go-msgpack: unknown keys are
 * skipped, missing ones give Go zero values, a struct may also arrive as a
 * positional array, trailing bytes are ignored. A malformed body throws
 * `DecodeError`.
 *
 * @module
 */
import { DecodeError, Decoder, Encoder } from "../codec/msgpack.ts";
import {
  array,
  asMap,
  bool,
  bytes,
  bytesOrNull,
  type Fields,
  int,
  str,
  stringMap,
  strings,
  uint,
} from "../codec/fields.ts";

/** Serf message type bytes. */
export const MessageType = {
  Leave: 0,
  Join: 1,
  PushPull: 2,
  UserEvent: 3,
  Query: 4,
  QueryResponse: 5,
  ConflictResponse: 6,
  KeyRequest: 7,
  KeyResponse: 8,
  Relay: 9,
} as const;

/** Query flag: the origin wants an ack from every node that passes the filters. */
export const QUERY_FLAG_ACK = 1;
/** Query flag: receivers must not rebroadcast the query. */
export const QUERY_FLAG_NO_BROADCAST = 2;

/** Query filter type bytes. */
export const FilterType = { Node: 0, Tag: 1 } as const;

/** Leave intent (type 0). */
export interface LeaveMessage {
  ltime: number;
  node: string;
  prune: boolean;
}

/** Join intent (type 1). */
export interface JoinMessage {
  ltime: number;
  node: string;
}

/** One event kept in the event ring (Go `userEvent`). */
export interface BufferedEvent {
  name: string;
  /** `null` is Go's nil slice (encoded as msgpack nil). */
  payload: Uint8Array | null;
}

/** All events seen at one Lamport time (Go `userEvents`). */
export interface EventSlot {
  ltime: number;
  events: BufferedEvent[];
}

/** Serf push/pull state (type 2), carried as memberlist user state. */
export interface PushPullMessage {
  ltime: number;
  statusLTimes: Map<string, number>;
  leftMembers: string[];
  eventLTime: number;
  /** The whole event ring; `null` for empty slots. */
  events: (EventSlot | null)[];
  queryLTime: number;
}

/** User event (type 3). */
export interface UserEventMessage {
  ltime: number;
  name: string;
  payload: Uint8Array | null;
  /** "Can coalesce". */
  cc: boolean;
}

/** Query (type 4). */
export interface QueryMessage {
  ltime: number;
  id: number;
  /** Origin's advertised IP, 4 or 16 bytes. */
  addr: Uint8Array | null;
  port: number;
  sourceNode: string;
  /** Each filter is a type byte + msgpack; `null` is Go's nil. */
  filters: Uint8Array[] | null;
  flags: number;
  relayFactor: number;
  /** Go `time.Duration`: nanoseconds. */
  timeoutNs: number;
  name: string;
  payload: Uint8Array | null;
}

/** Query response or ack (type 5). */
export interface QueryResponseMessage {
  ltime: number;
  id: number;
  from: string;
  flags: number;
  payload: Uint8Array | null;
}

/** The address part of a relay header (Go `net.UDPAddr`). */
export interface RelayDest {
  ip: Uint8Array | null;
  port: number;
  zone: string;
}

/** A relay message (type 9): where to send `inner`, and the inner message (type byte included). */
export interface RelayMessage {
  destAddr: RelayDest;
  destName: string;
  inner: Uint8Array;
}

/** Serf's `Member` struct as it rides in a conflict response (type 6). */
export interface WireMember {
  name: string;
  addr: Uint8Array | null;
  port: number;
  tags: Record<string, string>;
  /** Go MemberStatus: 0 none, 1 alive, 2 leaving, 3 left, 4 failed. */
  status: number;
  protocolMin: number;
  protocolMax: number;
  protocolCur: number;
  delegateMin: number;
  delegateMax: number;
  delegateCur: number;
}

/** Key request payload (type 7 prefix). */
export interface KeyRequestMessage {
  key: Uint8Array | null;
}

/** Key response payload (type 8 prefix). */
export interface KeyResponseMessage {
  result: boolean;
  message: string;
  keys: string[] | null;
  primaryKey: string;
}

/** A tag filter (`filterTag`). */
export interface TagFilter {
  tag: string;
  expr: string;
}

/** Any decoded gossip message, tagged by its type byte. */
export type SerfMessage =
  | { type: 0; msg: LeaveMessage }
  | { type: 1; msg: JoinMessage }
  | { type: 3; msg: UserEventMessage }
  | { type: 4; msg: QueryMessage }
  | { type: 5; msg: QueryResponseMessage }
  | { type: 9; msg: RelayMessage };

// ---- helpers ---------------------------------------------------------------

function frame(type: number, body: unknown): Uint8Array {
  return new Encoder("gossip").raw([type]).write(body).bytes().slice();
}

/** A struct decoded from a map, or from an array in Go declaration order. */
function struct(v: unknown, order: readonly string[], what: string): Fields {
  if (!Array.isArray(v)) return asMap(v, what);
  const out: Fields = Object.create(null);
  order.forEach((k, i) => {
    if (i < v.length) out[k] = v[i];
  });
  return out;
}

function body(buf: Uint8Array, offset: number): unknown {
  if (buf.length <= offset) throw new DecodeError("message: empty body", true);
  return new Decoder(buf, "gossip", offset).read();
}

function bytesList(m: Fields, key: string): Uint8Array[] | null {
  const v = m[key];
  if (v === undefined || v === null) return null;
  return array(m, key).map((x) => bytes({ x }, "x"));
}

function ltimeMap(m: Fields, key: string): Map<string, number> {
  const out = new Map<string, number>();
  const v = m[key];
  if (v === undefined || v === null) return out;
  const src = asMap(v, `field ${key}`);
  for (const k of Object.keys(src)) out.set(k, uint(src, k, 64));
  return out;
}

// ---- intents ---------------------------------------------------------------

/** Encodes a leave intent (type 0). */
export function encodeLeave(m: LeaveMessage): Uint8Array {
  return frame(MessageType.Leave, { LTime: m.ltime, Node: m.node, Prune: m.prune });
}

/** Decodes a leave intent body starting at `offset` (1 skips the type byte). */
export function decodeLeave(buf: Uint8Array, offset = 1): LeaveMessage {
  const m = struct(body(buf, offset), ["LTime", "Node", "Prune"], "leave");
  return { ltime: uint(m, "LTime", 64), node: str(m, "Node"), prune: bool(m, "Prune") };
}

/** Encodes a join intent (type 1). */
export function encodeJoin(m: JoinMessage): Uint8Array {
  return frame(MessageType.Join, { LTime: m.ltime, Node: m.node });
}

/** Decodes a join intent body. */
export function decodeJoin(buf: Uint8Array, offset = 1): JoinMessage {
  const m = struct(body(buf, offset), ["LTime", "Node"], "join");
  return { ltime: uint(m, "LTime", 64), node: str(m, "Node") };
}

// ---- push/pull -------------------------------------------------------------

function encodeSlot(s: EventSlot | null): unknown {
  if (!s) return null;
  return { LTime: s.ltime, Events: s.events.map((e) => ({ Name: e.name, Payload: e.payload })) };
}

function decodeSlot(v: unknown): EventSlot | null {
  if (v === null || v === undefined) return null;
  const m = struct(v, ["LTime", "Events"], "userEvents");
  const events = array(m, "Events").map((e) => {
    const f = struct(e, ["Name", "Payload"], "userEvent");
    return { name: str(f, "Name"), payload: bytesOrNull(f, "Payload") };
  });
  return { ltime: uint(m, "LTime", 64), events };
}

/** Encodes Serf's push/pull state (type 2). */
export function encodePushPull(m: PushPullMessage): Uint8Array {
  return frame(MessageType.PushPull, {
    EventLTime: m.eventLTime,
    Events: m.events.map(encodeSlot),
    LTime: m.ltime,
    LeftMembers: m.leftMembers,
    QueryLTime: m.queryLTime,
    StatusLTimes: m.statusLTimes,
  });
}

/** Decodes Serf's push/pull state body. */
export function decodePushPull(buf: Uint8Array, offset = 1): PushPullMessage {
  const order = ["LTime", "StatusLTimes", "LeftMembers", "EventLTime", "Events", "QueryLTime"];
  const m = struct(body(buf, offset), order, "push/pull");
  return {
    ltime: uint(m, "LTime", 64),
    statusLTimes: ltimeMap(m, "StatusLTimes"),
    leftMembers: strings(m, "LeftMembers"),
    eventLTime: uint(m, "EventLTime", 64),
    events: array(m, "Events").map(decodeSlot),
    queryLTime: uint(m, "QueryLTime", 64),
  };
}

// ---- user events -----------------------------------------------------------

/** Encodes a user event (type 3). */
export function encodeUserEvent(m: UserEventMessage): Uint8Array {
  return frame(MessageType.UserEvent, { LTime: m.ltime, Name: m.name, Payload: m.payload, CC: m.cc });
}

/** Decodes a user event body. */
export function decodeUserEvent(buf: Uint8Array, offset = 1): UserEventMessage {
  const m = struct(body(buf, offset), ["LTime", "Name", "Payload", "CC"], "user event");
  return {
    ltime: uint(m, "LTime", 64),
    name: str(m, "Name"),
    payload: bytesOrNull(m, "Payload"),
    cc: bool(m, "CC"),
  };
}

// ---- queries ---------------------------------------------------------------

const QUERY_ORDER = [
  "LTime",
  "ID",
  "Addr",
  "Port",
  "SourceNode",
  "Filters",
  "Flags",
  "RelayFactor",
  "Timeout",
  "Name",
  "Payload",
];

/** Encodes a query (type 4). */
export function encodeQuery(m: QueryMessage): Uint8Array {
  return frame(MessageType.Query, {
    LTime: m.ltime,
    ID: m.id,
    Addr: m.addr,
    Port: m.port,
    SourceNode: m.sourceNode,
    Filters: m.filters,
    Flags: m.flags,
    RelayFactor: m.relayFactor,
    Timeout: m.timeoutNs,
    Name: m.name,
    Payload: m.payload,
  });
}

/** Decodes a query body. */
export function decodeQuery(buf: Uint8Array, offset = 1): QueryMessage {
  const m = struct(body(buf, offset), QUERY_ORDER, "query");
  return {
    ltime: uint(m, "LTime", 64),
    id: uint(m, "ID", 32),
    addr: bytesOrNull(m, "Addr"),
    port: uint(m, "Port", 16),
    sourceNode: str(m, "SourceNode"),
    filters: bytesList(m, "Filters"),
    flags: uint(m, "Flags", 32),
    relayFactor: uint(m, "RelayFactor", 8),
    timeoutNs: int(m, "Timeout"),
    name: str(m, "Name"),
    payload: bytesOrNull(m, "Payload"),
  };
}

function queryResponseBody(m: QueryResponseMessage): unknown {
  return { LTime: m.ltime, ID: m.id, From: m.from, Flags: m.flags, Payload: m.payload };
}

/** Encodes a query response or ack (type 5). */
export function encodeQueryResponse(m: QueryResponseMessage): Uint8Array {
  return frame(MessageType.QueryResponse, queryResponseBody(m));
}

/** Decodes a query response body. */
export function decodeQueryResponse(buf: Uint8Array, offset = 1): QueryResponseMessage {
  const m = struct(body(buf, offset), ["LTime", "ID", "From", "Flags", "Payload"], "query response");
  return {
    ltime: uint(m, "LTime", 64),
    id: uint(m, "ID", 32),
    from: str(m, "From"),
    flags: uint(m, "Flags", 32),
    payload: bytesOrNull(m, "Payload"),
  };
}

// ---- relay -----------------------------------------------------------------

/** Wraps a query response in a relay message (type 9) for `destName` at `dest`. */
export function encodeRelay(dest: RelayDest, destName: string, resp: QueryResponseMessage): Uint8Array {
  return new Encoder("gossip")
    .raw([MessageType.Relay])
    .write({ DestAddr: { IP: dest.ip, Port: dest.port, Zone: dest.zone }, DestName: destName })
    .raw([MessageType.QueryResponse])
    .write(queryResponseBody(resp))
    .bytes()
    .slice();
}

/** Decodes a relay message: the header, and the remaining bytes unchanged. */
export function decodeRelay(buf: Uint8Array, offset = 1): RelayMessage {
  if (buf.length <= offset) throw new DecodeError("relay: empty body", true);
  const d = new Decoder(buf, "gossip", offset);
  const h = struct(d.read(), ["DestAddr", "DestName"], "relay header");
  const a = h.DestAddr === undefined || h.DestAddr === null
    ? Object.create(null)
    : struct(h.DestAddr, ["IP", "Port", "Zone"], "relay address");
  return {
    destAddr: { ip: bytesOrNull(a, "IP"), port: int(a, "Port"), zone: str(a, "Zone") },
    destName: str(h, "DestName"),
    inner: buf.slice(d.offset),
  };
}

// ---- query payload prefixes ----------------------------------------------------

/** The fields of Go's `serf.Member` (and of the agent's RPC `Member`), in struct order. */
export const MEMBER_FIELDS = [
  "Name",
  "Addr",
  "Port",
  "Tags",
  "Status",
  "ProtocolMin",
  "ProtocolMax",
  "ProtocolCur",
  "DelegateMin",
  "DelegateMax",
  "DelegateCur",
] as const;

/** A member's fields under Go's struct names (for either msgpack dialect; `status` as the caller encodes it). */
export function memberStruct(
  m: Omit<WireMember, "status" | "addr"> & { status: number | string; addr: Uint8Array | null },
): Record<(typeof MEMBER_FIELDS)[number], unknown> {
  return {
    Name: m.name,
    Addr: m.addr,
    Port: m.port,
    Tags: m.tags,
    Status: m.status,
    ProtocolMin: m.protocolMin,
    ProtocolMax: m.protocolMax,
    ProtocolCur: m.protocolCur,
    DelegateMin: m.delegateMin,
    DelegateMax: m.delegateMax,
    DelegateCur: m.delegateCur,
  };
}

/** Encodes a conflict response payload (type 6 + Member, or nil when unknown). */
export function encodeConflictResponse(m: WireMember | null): Uint8Array {
  return frame(MessageType.ConflictResponse, m ? memberStruct(m) : null);
}

/** Decodes a conflict response payload; `null` when the responder did not know the node. */
export function decodeConflictResponse(buf: Uint8Array, offset = 1): WireMember | null {
  const v = body(buf, offset);
  if (v === null) return null;
  const m = struct(v, MEMBER_FIELDS, "member");
  return {
    name: str(m, "Name"),
    addr: bytesOrNull(m, "Addr"),
    port: uint(m, "Port", 16),
    tags: stringMap(m, "Tags"),
    status: int(m, "Status"),
    protocolMin: uint(m, "ProtocolMin", 8),
    protocolMax: uint(m, "ProtocolMax", 8),
    protocolCur: uint(m, "ProtocolCur", 8),
    delegateMin: uint(m, "DelegateMin", 8),
    delegateMax: uint(m, "DelegateMax", 8),
    delegateCur: uint(m, "DelegateCur", 8),
  };
}

/** Encodes a key request payload (type 7). */
export function encodeKeyRequest(m: KeyRequestMessage): Uint8Array {
  return frame(MessageType.KeyRequest, { Key: m.key });
}

/** Decodes a key request payload. */
export function decodeKeyRequest(buf: Uint8Array, offset = 1): KeyRequestMessage {
  return { key: bytesOrNull(struct(body(buf, offset), ["Key"], "key request"), "Key") };
}

/** Encodes a key response payload (type 8). */
export function encodeKeyResponse(m: KeyResponseMessage): Uint8Array {
  return frame(MessageType.KeyResponse, {
    Result: m.result,
    Message: m.message,
    Keys: m.keys,
    PrimaryKey: m.primaryKey,
  });
}

/** Decodes a key response payload. */
export function decodeKeyResponse(buf: Uint8Array, offset = 1): KeyResponseMessage {
  const m = struct(body(buf, offset), ["Result", "Message", "Keys", "PrimaryKey"], "key response");
  const keys = m.Keys === undefined || m.Keys === null ? null : strings(m, "Keys");
  return { result: bool(m, "Result"), message: str(m, "Message"), keys, primaryKey: str(m, "PrimaryKey") };
}

// ---- filters ---------------------------------------------------------------

/** Encodes a node filter (type 0 + array of names). */
export function encodeNodeFilter(names: string[]): Uint8Array {
  return frame(FilterType.Node, names);
}

/** Encodes a tag filter (type 1 + `{Expr, Tag}`). */
export function encodeTagFilter(f: TagFilter): Uint8Array {
  return frame(FilterType.Tag, { Tag: f.tag, Expr: f.expr });
}

/** Decodes a node filter's names. */
export function decodeNodeFilter(buf: Uint8Array): string[] {
  return strings({ v: body(buf, 1) }, "v");
}

/** Decodes a tag filter. */
export function decodeTagFilter(buf: Uint8Array): TagFilter {
  const m = struct(body(buf, 1), ["Tag", "Expr"], "tag filter");
  return { tag: str(m, "Tag"), expr: str(m, "Expr") };
}

// ---- dispatch --------------------------------------------------------------

/**
 * Decodes a gossip message by its type byte. Returns `undefined` for types
 * Serf does not accept as gossip (2, 6, 7, 8: Go logs them as unknown) and
 * unknown ones;
 * throws `DecodeError` for a malformed body.
 */
export function decodeMessage(buf: Uint8Array): SerfMessage | undefined {
  switch (buf[0]) {
    case MessageType.Leave:
      return { type: 0, msg: decodeLeave(buf) };
    case MessageType.Join:
      return { type: 1, msg: decodeJoin(buf) };
    case MessageType.UserEvent:
      return { type: 3, msg: decodeUserEvent(buf) };
    case MessageType.Query:
      return { type: 4, msg: decodeQuery(buf) };
    case MessageType.QueryResponse:
      return { type: 5, msg: decodeQueryResponse(buf) };
    case MessageType.Relay:
      return { type: 9, msg: decodeRelay(buf) };
  }
  return undefined;
}
