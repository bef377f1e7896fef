/**
 * memberlist's envelopes around messages (`net.go:rawSendMsgPacket`,
 * `ingestPacket`, `rawSendMsgStream`, `readStream`, `readRemoteState`):
 *
 * - outgoing packet: LZW `compress` only if strictly smaller → `hasCrc`
 *   header when asked → AES-GCM packet encryption;
 * - incoming packet: decrypt with every key → verify and strip the CRC;
 * - outgoing stream: always `compress` when compression is on → stream
 *   encryption frame;
 * - incoming stream: {@link StreamReader} parses the bytes received so far
 *   and answers "need more", a complete message, or an error.
 *
 * Decompression is capped (10 MiB per packet, 30 MiB per stream) against LZW
 * bombs; everything malformed becomes an error value or a thrown `Error`
 * with memberlist's wording, never a crash.
 *
 * @module
 */
import { lzwCompress, lzwDecompress } from "../codec/lzw.ts";
import { crc32 } from "../codec/crc32.ts";
import { DecodeError, Decoder } from "../codec/msgpack.ts";
import {
  decryptPacket,
  decryptStream,
  type EncryptionVersion,
  encryptPacket,
  encryptStream,
  streamFrameLength,
} from "../security/aesgcm.ts";
import {
  ackFromFields,
  type AckRespMsg,
  asStruct,
  type CompressMsg,
  encodeCompress,
  MessageType,
  pingFromFields,
  type PingMsg,
  type PushNodeState,
  type PushPullHeader,
  readCompress,
  readErr,
  readPushNodeState,
  readPushPullHeader,
  readUserMsgLen,
} from "./messages.ts";

/** The only compression algorithm (`lzwAlgo`). */
export const LZW_ALGO = 0;
/** Decompression cap for one packet (bomb guard). */
export const MAX_PACKET_DECOMPRESSED = 10 * 1024 * 1024;
/** Decompression cap for one stream message (bomb guard). */
export const MAX_STREAM_DECOMPRESSED = 30 * 1024 * 1024;
/** Most bytes buffered for one plaintext stream message (memberlist's maxPushStateBytes). */
export const MAX_STREAM_BYTES = 20 * 1024 * 1024;
/** Most node states accepted in one push/pull. */
export const MAX_PUSH_NODES = 1 << 17;

/** Wraps `msg` in an LZW `compress` message (Go's `compressPayload`). */
export function compressPayload(msg: Uint8Array): Uint8Array {
  return encodeCompress({ algo: LZW_ALGO, buf: lzwCompress(msg) });
}

/** Go's `decompressBuffer`: checks the algorithm and inflates with a size cap. */
export function decompressBuffer(c: CompressMsg, maxOutput: number): Uint8Array {
  if (c.algo !== LZW_ALGO) throw new Error(`Cannot decompress unknown algorithm ${c.algo}`);
  return lzwDecompress(c.buf, maxOutput);
}

/** Go's `decompressPayload`: decodes a `compress` body (after its type byte) and inflates it. */
export function decompressPayload(body: Uint8Array, maxOutput = MAX_PACKET_DECOMPRESSED): Uint8Array {
  return decompressBuffer(readCompress(new Decoder(body, "gossip", 0, true)), maxOutput);
}

/** Prepends `[12][crc32 BE]` to `msg`. */
export function addCrc(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(msg.length + 5);
  out[0] = MessageType.HasCrc;
  new DataView(out.buffer).setUint32(1, crc32(msg));
  out.set(msg, 5);
  return out;
}

/** How an outgoing packet is wrapped. */
export interface PacketOptions {
  /** Try LZW (kept only when strictly smaller). */
  compress: boolean;
  /** Add the CRC header (destination known with PMax ≥ 5). */
  crc: boolean;
  /** Primary key when encryption is enabled. */
  key?: Uint8Array;
  /** Encryption version (1 unless protocol version 1). */
  encryptionVersion?: EncryptionVersion;
}

/** Go's `rawSendMsgPacket` envelope: compress if smaller → CRC → encrypt. */
export function sealPacket(msg: Uint8Array, opts: PacketOptions): Uint8Array {
  let out = msg;
  if (opts.compress) {
    const c = compressPayload(out);
    if (c.length < out.length) out = c;
  }
  if (opts.crc) out = addCrc(out);
  if (opts.key) out = encryptPacket(opts.key, out, undefined, opts.encryptionVersion ?? 1);
  return out;
}

/** Result of opening an incoming packet. */
export type OpenedPacket =
  | { ok: true; msg: Uint8Array }
  | { ok: false; level: "ERR" | "WARN"; error: string };

/**
 * Go's `ingestPacket` envelope: decrypt with `keys` when given (failure drops
 * the packet), then verify and strip a `hasCrc` header.
 */
export function openPacket(buf: Uint8Array, keys?: Uint8Array[]): OpenedPacket {
  let msg = buf;
  if (keys && keys.length) {
    try {
      msg = decryptPacket(keys, buf);
    } catch (e) {
      return { ok: false, level: "ERR", error: `Decrypt packet failed: ${errText(e)}` };
    }
  }
  if (msg.length >= 5 && msg[0] === MessageType.HasCrc) {
    const expected = new DataView(msg.buffer, msg.byteOffset + 1, 4).getUint32(0);
    const got = crc32(msg.subarray(5));
    if (got !== expected) {
      return {
        ok: false,
        level: "WARN",
        error: `Got invalid checksum for UDP packet: ${got.toString(16)}, ${expected.toString(16)}`,
      };
    }
    msg = msg.subarray(5);
  }
  return { ok: true, msg };
}

/** How an outgoing stream message is wrapped. */
export interface StreamOptions {
  /** Always wrap in `compress` when true. */
  compress: boolean;
  /** Primary key when encryption is enabled. */
  key?: Uint8Array;
  /** Encryption version (1 unless protocol version 1). */
  encryptionVersion?: EncryptionVersion;
}

/** Go's `rawSendMsgStream` envelope: compress (always) → encrypt. */
export function sealStream(msg: Uint8Array, opts: StreamOptions): Uint8Array {
  let out = opts.compress ? compressPayload(msg) : msg;
  if (opts.key) out = encryptStream(opts.key, out, undefined, opts.encryptionVersion ?? 1);
  return out;
}

/** A complete stream message, by type. Byte fields of node states, pings and acks are views into the received bytes. */
export type StreamMessage =
  | { type: 6; join: boolean; nodes: PushNodeState[]; userState: Uint8Array | null }
  | { type: 0; ping: PingMsg }
  | { type: 2; ack: AckRespMsg }
  | { type: 8; msg: Uint8Array | null }
  | { type: 13; error: string }
  | { type: -1; unknown: number };

/**
 * What {@link StreamReader.push} found: more bytes needed, an error, or a
 * message. `stage` tells envelope errors (Go's `readStream`: decryption,
 * decompression, encryption mismatch — answered with an `err` message by a
 * responder) from body errors (the message itself is malformed).
 */
export type StreamResult =
  | { kind: "more" }
  | { kind: "error"; stage: "envelope" | "body"; error: string; type?: number }
  | { kind: "message"; message: StreamMessage };

/** Thrown inside the reader when the plaintext simply needs more bytes. */
class NeedMore extends Error {}

/**
 * Incremental parser of one inbound stream message. Feed it every chunk;
 * once it returns a message or an error it is done.
 *
 * @example
 * ```ts
 * const r = new StreamReader(keyring?.getKeys());
 * const res = r.push(chunk); // { kind: "more" } until complete
 * ```
 */
export class StreamReader {
  #data = new Uint8Array(256);
  #len = 0;
  #done = false;
  /** Resume point of a plaintext push/pull (parsing is incremental, not quadratic). */
  #progress: PushPullProgress = { offset: 0, nodes: [] };

  /** `keys`: the keyring's keys when encryption is enabled, else undefined/empty. */
  constructor(readonly keys?: Uint8Array[]) {}

  /** Bytes buffered so far. */
  get buffered(): number {
    return this.#len;
  }

  /** The first byte received (the outer message type), if any. */
  get firstByte(): number | undefined {
    return this.#len ? this.#data[0] : undefined;
  }

  /** Appends `chunk` and tries to complete the message. */
  push(chunk: Uint8Array): StreamResult {
    if (this.#done) return { kind: "more" };
    this.#append(chunk);
    const res = this.#parse();
    if (res.kind !== "more") this.#done = true;
    else if (this.#len > MAX_STREAM_BYTES + 5) {
      this.#done = true;
      return { kind: "error", stage: "envelope", error: `Remote node state is larger than limit (${this.#len})` };
    }
    return res;
  }

  /**
   * The stream ended: the error to report for an incomplete message
   * ("EOF" when nothing arrived, as Go's reader says).
   */
  eofError(): string {
    return this.#len === 0 ? "EOF" : "unexpected EOF";
  }

  #append(chunk: Uint8Array): void {
    if (this.#len + chunk.length > this.#data.length) {
      let size = this.#data.length * 2;
      while (size < this.#len + chunk.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#data.subarray(0, this.#len));
      this.#data = next;
    }
    this.#data.set(chunk, this.#len);
    this.#len += chunk.length;
  }

  #parse(): StreamResult {
    const buf = this.#data.subarray(0, this.#len);
    if (buf.length === 0) return { kind: "more" };
    const encrypted = !!this.keys && this.keys.length > 0;
    if (buf[0] === MessageType.Encrypt) {
      if (!encrypted) return envelopeError("Remote state is encrypted and encryption is not configured");
      let plain: Uint8Array;
      try {
        const need = streamFrameLength(buf);
        if (need === undefined || buf.length < need) return { kind: "more" };
        plain = decryptStream(this.keys!, buf);
      } catch (e) {
        return envelopeError(errText(e));
      }
      if (plain.length === 0) return envelopeError("EOF");
      return this.#typed(plain, true);
    }
    if (encrypted) return envelopeError("Encryption is configured but remote state is not encrypted");
    return this.#typed(buf, false);
  }

  /** Handles an optional `compress` layer, then the body. `complete`: no more bytes will come. */
  #typed(buf: Uint8Array, complete: boolean): StreamResult {
    let type = buf[0];
    let body = buf.subarray(1);
    if (type === MessageType.Compress) {
      let c: CompressMsg;
      // Views into the reader's buffer are safe: it is only ever appended to.
      const d = new Decoder(body, "gossip", 0, true);
      try {
        c = readCompress(d);
      } catch (e) {
        if (!complete && e instanceof DecodeError && e.truncated) return { kind: "more" };
        return envelopeError(errText(e));
      }
      let inner: Uint8Array;
      try {
        inner = decompressBuffer(c, MAX_STREAM_DECOMPRESSED);
      } catch (e) {
        return envelopeError(errText(e));
      }
      if (inner.length === 0) return envelopeError("EOF");
      type = inner[0];
      body = inner.subarray(1);
      complete = true;
    }
    try {
      const progress = complete ? { offset: 0, nodes: [] } : this.#progress;
      return { kind: "message", message: readBody(type, body, complete, progress) };
    } catch (e) {
      if (e instanceof NeedMore) return { kind: "more" };
      if (!complete && e instanceof DecodeError && e.truncated) return { kind: "more" };
      return { kind: "error", stage: "body", error: errText(e), type };
    }
  }
}

function envelopeError(error: string): StreamResult {
  return { kind: "error", stage: "envelope", error };
}

/** How far a push/pull has been parsed (resumed when more bytes arrive). */
interface PushPullProgress {
  offset: number;
  header?: PushPullHeader;
  nodes: PushNodeState[];
}

/** Reads the body of a stream message of `type`; throws NeedMore / DecodeError / Error. */
function readBody(type: number, body: Uint8Array, complete: boolean, progress: PushPullProgress): StreamMessage {
  const d = new Decoder(body, "gossip", 0, true);
  switch (type) {
    case MessageType.PushPull:
      return readPushPull(body, complete, progress);
    case MessageType.Ping:
      return { type: 0, ping: pingFromFields(asStruct(d.read(), PING_ORDER, "ping")) };
    case MessageType.AckResp:
      return { type: 2, ack: ackFromFields(asStruct(d.read(), ACK_ORDER, "ack")) };
    case MessageType.User: {
      const len = readUserMsgLen(d);
      if (len <= 0) return { type: 8, msg: null };
      return { type: 8, msg: takeBytes(d, len, complete) };
    }
    case MessageType.Err:
      return { type: 13, error: readErr(d) };
    default:
      return { type: -1, unknown: type };
  }
}

const PING_ORDER = ["SeqNo", "Node", "SourceAddr", "SourcePort", "SourceNode"];
const ACK_ORDER = ["SeqNo", "Payload"];

/** Go's `readRemoteState`, with bounds on the claimed sizes, resumable at node boundaries. */
function readPushPull(body: Uint8Array, complete: boolean, st: PushPullProgress): StreamMessage {
  const d = new Decoder(body, "gossip", st.offset, true);
  if (!st.header) {
    const header = readPushPullHeader(d);
    if (header.nodes < 0) throw new Error(`push/pull header has a negative node count (${header.nodes})`);
    if (header.userStateLen < 0) {
      throw new Error(`push/pull header has a negative user state length (${header.userStateLen})`);
    }
    // Every node state takes at least one byte: a count beyond the bytes left is a lie.
    if (header.nodes > MAX_PUSH_NODES || (complete && header.nodes > d.remaining)) {
      throw new Error(`push/pull claims ${header.nodes} nodes but only ${d.remaining} bytes remain`);
    }
    st.header = header;
    st.offset = d.offset;
  }
  const header = st.header;
  while (st.nodes.length < header.nodes) {
    st.nodes.push(readPushNodeState(d));
    st.offset = d.offset;
  }
  const userState = header.userStateLen > 0 ? takeBytes(d, header.userStateLen, complete) : null;
  return { type: 6, join: header.join, nodes: st.nodes, userState };
}

function takeBytes(d: Decoder, n: number, complete: boolean): Uint8Array {
  if (d.remaining < n) {
    if (!complete) throw new NeedMore();
    throw new Error(d.remaining === 0 ? "EOF" : "unexpected EOF");
  }
  const out = d.buf.slice(d.offset, d.offset + n);
  d.offset += n;
  return out;
}

/** The text of a thrown value. */
export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
