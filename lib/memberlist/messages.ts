/**
 * Every memberlist message (`memberlist/net.go` structs) encoded and decoded
 * with go-msgpack's gossip dialect: Go field names, keys sorted byte-wise,
 * `omitempty` only on the Source* fields of ping and indirect ping. Encoders
 * return the message with its type byte; decoders take the bytes after the
 * type byte and throw {@link DecodeError} on malformed input. Like go-msgpack,
 * decoders accept a struct encoded as a map (by name) or an array (by
 * declaration order), and ignore trailing bytes and unknown keys.
 *
 * @module
 */
import { DecodeError, Decoder, type Encoder, withEncoder } from "../codec/msgpack.ts";
import { asMap, bool, bytes, bytesOrNull, type Fields, int, str, uint } from "../codec/fields.ts";
import { readShape, shape } from "../codec/shape.ts";
import { sharedCopy } from "../codec/shared_bytes.ts";

/** memberlist message type bytes (`messageType`). */
export const MessageType = {
  Ping: 0,
  IndirectPing: 1,
  AckResp: 2,
  Suspect: 3,
  Alive: 4,
  Dead: 5,
  PushPull: 6,
  Compound: 7,
  User: 8,
  Compress: 9,
  Encrypt: 10,
  NackResp: 11,
  HasCrc: 12,
  Err: 13,
} as const;

/** Go's `ping`. */
export interface PingMsg {
  seqNo: number;
  node: string;
  sourceAddr?: Uint8Array | null;
  sourcePort?: number;
  sourceNode?: string;
}

/** Go's `indirectPingReq`. */
export interface IndirectPingMsg extends PingMsg {
  target: Uint8Array;
  port: number;
  nack: boolean;
}

/** Go's `ackResp`; `payload` null encodes as nil. */
export interface AckRespMsg {
  seqNo: number;
  payload: Uint8Array | null;
}

/** Go's `nackResp`. */
export interface NackRespMsg {
  seqNo: number;
}

/** Go's `suspect` and `dead` (same fields). */
export interface SuspectMsg {
  incarnation: number;
  node: string;
  from: string;
}

/** Go's `dead`. */
export type DeadMsg = SuspectMsg;

/** Go's `alive`; `meta`/`vsn` null encode as nil. */
export interface AliveMsg {
  incarnation: number;
  node: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array | null;
  vsn: Uint8Array | null;
}

/** Go's `pushPullHeader`. */
export interface PushPullHeader {
  nodes: number;
  userStateLen: number;
  join: boolean;
}

/** Go's `pushNodeState`. */
export interface PushNodeState {
  name: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array | null;
  incarnation: number;
  state: number;
  vsn: Uint8Array | null;
}

/** Go's `compress`. */
export interface CompressMsg {
  algo: number;
  buf: Uint8Array;
}

/** Positional field order of each Go struct (for array-encoded structs). */
const ORDER = {
  ping: ["SeqNo", "Node", "SourceAddr", "SourcePort", "SourceNode"],
  indirect: ["SeqNo", "Target", "Port", "Node", "Nack", "SourceAddr", "SourcePort", "SourceNode"],
  ack: ["SeqNo", "Payload"],
  nack: ["SeqNo"],
  err: ["Error"],
  suspect: ["Incarnation", "Node", "From"],
  alive: ["Incarnation", "Node", "Addr", "Port", "Meta", "Vsn"],
  header: ["Nodes", "UserStateLen", "Join"],
  userHeader: ["UserMsgLen"],
  pushNode: ["Name", "Addr", "Port", "Meta", "Incarnation", "State", "Vsn"],
  compress: ["Algo", "Buf"],
} as const;

/** Encodes `[type]` followed by one msgpack value (`own`: see `withEncoder`). */
export function encodeWithType(
  type: number,
  body: unknown,
  own?: (view: Uint8Array) => Uint8Array,
): Uint8Array {
  return withEncoder("gossip", (e) => e.raw([type]).write(body), own);
}

/**
 * Reads a decoded value as a Go struct: a map, an array (positional), or
 * nil (all zero values).
 */
export function asStruct(v: unknown, order: readonly string[], what: string): Fields {
  if (v === null) return Object.create(null);
  if (Array.isArray(v)) {
    const out: Fields = Object.create(null);
    order.forEach((k, i) => {
      if (i < v.length) out[k] = v[i];
    });
    return out;
  }
  return asMap(v, what);
}

/** Reads one struct value from `d`. */
function readStruct(d: Decoder, order: readonly string[], what: string): Fields {
  return asStruct(d.read(), order, what);
}

/** Byte fields of the result are views into `buf` (see each decoder's note). */
function decodeStruct(buf: Uint8Array, order: readonly string[], what: string): Fields {
  return readStruct(new Decoder(buf, "gossip", 0, true), order, what);
}

/** `omitempty` fields shared by ping and indirect ping. */
function sourceFields(p: PingMsg): Record<string, unknown> {
  return {
    SourceAddr: p.sourceAddr && p.sourceAddr.length ? p.sourceAddr : undefined,
    SourceNode: p.sourceNode ? p.sourceNode : undefined,
    SourcePort: p.sourcePort ? p.sourcePort : undefined,
  };
}

function readSource(m: Fields): Pick<PingMsg, "sourceAddr" | "sourcePort" | "sourceNode"> {
  return {
    sourceAddr: bytesOrNull(m, "SourceAddr"),
    sourcePort: uint(m, "SourcePort", 16),
    sourceNode: str(m, "SourceNode"),
  };
}

/** Encodes a ping (type 0). */
export function encodePing(p: PingMsg): Uint8Array {
  return encodeWithType(MessageType.Ping, { Node: p.node, SeqNo: p.seqNo, ...sourceFields(p) });
}

/** Decodes a ping body. Byte fields are views into `buf`: copy what you keep. */
export function decodePing(buf: Uint8Array): PingMsg {
  return pingFromFields(decodeStruct(buf, ORDER.ping, "ping"));
}

/** Reads a ping from decoded fields. */
export function pingFromFields(m: Fields): PingMsg {
  return { seqNo: uint(m, "SeqNo"), node: str(m, "Node"), ...readSource(m) };
}

/** Encodes an indirect ping request (type 1). */
export function encodeIndirectPing(p: IndirectPingMsg): Uint8Array {
  return encodeWithType(MessageType.IndirectPing, {
    Nack: p.nack,
    Node: p.node,
    Port: p.port,
    SeqNo: p.seqNo,
    ...sourceFields(p),
    Target: p.target,
  });
}

/** Decodes an indirect ping request body. Byte fields are views into `buf`: copy what you keep. */
export function decodeIndirectPing(buf: Uint8Array): IndirectPingMsg {
  const m = decodeStruct(buf, ORDER.indirect, "indirect ping");
  return {
    seqNo: uint(m, "SeqNo"),
    target: bytes(m, "Target"),
    port: uint(m, "Port", 16),
    node: str(m, "Node"),
    nack: bool(m, "Nack"),
    ...readSource(m),
  };
}

/** Encodes an ack (type 2). */
export function encodeAck(a: AckRespMsg): Uint8Array {
  return encodeWithType(MessageType.AckResp, { Payload: a.payload, SeqNo: a.seqNo });
}

/** Decodes an ack body. Byte fields are views into `buf`: copy what you keep. */
export function decodeAck(buf: Uint8Array): AckRespMsg {
  return ackFromFields(decodeStruct(buf, ORDER.ack, "ack"));
}

/** Reads an ack from decoded fields. */
export function ackFromFields(m: Fields): AckRespMsg {
  return { seqNo: uint(m, "SeqNo"), payload: bytesOrNull(m, "Payload") };
}

/** Encodes a nack (type 11). */
export function encodeNack(n: NackRespMsg): Uint8Array {
  return encodeWithType(MessageType.NackResp, { SeqNo: n.seqNo });
}

/** Decodes a nack body. */
export function decodeNack(buf: Uint8Array): NackRespMsg {
  return { seqNo: uint(decodeStruct(buf, ORDER.nack, "nack"), "SeqNo") };
}

/** Encodes a suspect (type 3) or dead (type 5) message. */
export function encodeSuspect(s: SuspectMsg, type: 3 | 5 = MessageType.Suspect): Uint8Array {
  return encodeWithType(type, { Incarnation: s.incarnation, Node: s.node, From: s.from });
}

/** Encodes a dead message (type 5). */
export function encodeDead(d: DeadMsg): Uint8Array {
  return encodeSuspect(d, MessageType.Dead);
}

/** Decodes a suspect or dead body. */
export function decodeSuspect(buf: Uint8Array): SuspectMsg {
  const m = decodeStruct(buf, ORDER.suspect, "suspect");
  return { incarnation: uint(m, "Incarnation"), node: str(m, "Node"), from: str(m, "From") };
}

/** Decodes a dead body. */
export const decodeDead: (buf: Uint8Array) => DeadMsg = decodeSuspect;

/** Encodes an alive message (type 4). */
export function encodeAlive(a: AliveMsg): Uint8Array {
  return encodeWithType(MessageType.Alive, aliveBody(a));
}

/**
 * {@link encodeAlive} for a broadcast: equal messages share one array
 * (`shared_bytes.ts`), never to be written to. Every node of a simulated
 * cluster queues the same alive messages.
 */
export function encodeAliveShared(a: AliveMsg): Uint8Array {
  return encodeWithType(MessageType.Alive, aliveBody(a), sharedCopy);
}

function aliveBody(a: AliveMsg): Record<string, unknown> {
  // Keys in Go's (sorted) order, so the encoder need not sort them.
  return { Addr: a.addr, Incarnation: a.incarnation, Meta: a.meta, Node: a.node, Port: a.port, Vsn: a.vsn };
}

/** Alive as written by Go and by {@link encodeAlive} (read without a field map). */
const ALIVE_SHAPE = shape([
  ["Addr", "bytes"],
  ["Incarnation", "u32"],
  ["Meta", "bytesOrNull"],
  ["Node", "str"],
  ["Port", "u16"],
  ["Vsn", "bytesOrNull"],
]);

/** Decodes an alive body. Byte fields are views into `buf`: copy what you keep. */
export function decodeAlive(buf: Uint8Array): AliveMsg {
  const fast = readShape(buf, 0, ALIVE_SHAPE);
  if (fast) {
    const v = fast.values;
    return {
      incarnation: v[1] as number,
      node: v[3] as string,
      addr: v[0] as Uint8Array,
      port: v[4] as number,
      meta: v[2] as Uint8Array | null,
      vsn: v[5] as Uint8Array | null,
    };
  }
  const m = decodeStruct(buf, ORDER.alive, "alive");
  return {
    incarnation: uint(m, "Incarnation"),
    node: str(m, "Node"),
    addr: bytes(m, "Addr"),
    port: uint(m, "Port", 16),
    meta: bytesOrNull(m, "Meta"),
    vsn: bytesOrNull(m, "Vsn"),
  };
}

/** Encodes an err response (type 13). */
export function encodeErr(error: string): Uint8Array {
  return encodeWithType(MessageType.Err, { Error: error });
}

/** Reads an err response from a decoder. */
export function readErr(d: Decoder): string {
  return str(readStruct(d, ORDER.err, "err"), "Error");
}

/** Encodes a compress wrapper (type 9) around already-compressed bytes. */
export function encodeCompress(c: CompressMsg): Uint8Array {
  return encodeWithType(MessageType.Compress, { Algo: c.algo, Buf: c.buf });
}

/** Reads a compress body from a decoder. */
export function readCompress(d: Decoder): CompressMsg {
  const m = readStruct(d, ORDER.compress, "compress");
  return { algo: uint(m, "Algo", 8), buf: bytes(m, "Buf") };
}

/** Decodes a compress body. */
export function decodeCompress(buf: Uint8Array): CompressMsg {
  return readCompress(new Decoder(buf, "gossip"));
}

/** Encodes a whole push/pull payload: `[6]`, header, node states, raw user state. */
export function encodePushPull(join: boolean, nodes: PushNodeState[], userState: Uint8Array | null): Uint8Array {
  return withEncoder("gossip", (e: Encoder) => {
    e.raw([MessageType.PushPull]);
    e.write({ Join: join, Nodes: nodes.length, UserStateLen: userState?.length ?? 0 });
    for (const n of nodes) {
      e.write({
        Addr: n.addr,
        Incarnation: n.incarnation,
        Meta: n.meta,
        Name: n.name,
        Port: n.port,
        State: n.state,
        Vsn: n.vsn,
      });
    }
    if (userState) e.raw(userState);
  });
}

/** Reads a push/pull header. */
export function readPushPullHeader(d: Decoder): PushPullHeader {
  const m = readStruct(d, ORDER.header, "push/pull header");
  return { nodes: int(m, "Nodes"), userStateLen: int(m, "UserStateLen"), join: bool(m, "Join") };
}

/** A push/pull node state as written by Go and by {@link encodePushPull} (read without a field map). */
const PUSH_NODE_SHAPE = shape([
  ["Addr", "bytes"],
  ["Incarnation", "u32"],
  ["Meta", "bytesOrNull"],
  ["Name", "str"],
  ["Port", "u16"],
  ["State", "u8"],
  ["Vsn", "bytesOrNull"],
]);

/** Reads one push/pull node state (byte fields are views when `d` shares its buffer). */
export function readPushNodeState(d: Decoder): PushNodeState {
  const fast = d.shares ? readShape(d.buf, d.offset, PUSH_NODE_SHAPE) : undefined;
  if (fast) {
    d.offset = fast.end;
    const v = fast.values;
    return {
      name: v[3] as string,
      addr: v[0] as Uint8Array,
      port: v[4] as number,
      meta: v[2] as Uint8Array | null,
      incarnation: v[1] as number,
      state: v[5] as number,
      vsn: v[6] as Uint8Array | null,
    };
  }
  const m = readStruct(d, ORDER.pushNode, "push node state");
  return {
    name: str(m, "Name"),
    addr: bytes(m, "Addr"),
    port: uint(m, "Port", 16),
    meta: bytesOrNull(m, "Meta"),
    incarnation: uint(m, "Incarnation"),
    state: int(m, "State"),
    vsn: bytesOrNull(m, "Vsn"),
  };
}

/** Encodes a stream user message: `[8]`, `{UserMsgLen}`, raw bytes. */
export function encodeUserStream(msg: Uint8Array): Uint8Array {
  return withEncoder("gossip", (e) => e.raw([MessageType.User]).write({ UserMsgLen: msg.length }).raw(msg));
}

/** Reads a stream user message header's length. */
export function readUserMsgLen(d: Decoder): number {
  return int(readStruct(d, ORDER.userHeader, "user msg header"), "UserMsgLen");
}

/** Prefixes `msg` with the user message type byte (8). */
export function encodeUserPacket(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(msg.length + 1);
  out[0] = MessageType.User;
  out.set(msg, 1);
  return out;
}

/** Re-exported for callers that catch decode errors. */
export { DecodeError };
