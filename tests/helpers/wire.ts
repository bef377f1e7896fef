/**
 * A small, independent reader/writer of memberlist wire framing for tests:
 * builds raw messages with the gossip msgpack dialect and unwraps packets
 * (CRC, compound, LZW compress) down to their leaf messages.
 *
 * @module
 */
import { decode, encode } from "../../lib/codec/msgpack.ts";
import { crc32 } from "../../lib/codec/crc32.ts";
import { lzwDecompress } from "../../lib/codec/lzw.ts";

/** memberlist message type bytes. */
export const T = {
  ping: 0,
  indirectPing: 1,
  ack: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nack: 11,
  crc: 12,
  err: 13,
} as const;

/** `[type]` followed by the msgpack (gossip dialect) encoding of each body. */
export function msg(type: number, ...bodies: unknown[]): Uint8Array {
  const parts = bodies.map((b) => encode(b, "gossip"));
  const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0));
  out[0] = type;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Concatenates byte arrays. */
export function concat(...xs: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(xs.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of xs) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

/** `[12][crc32 BE][inner]`; pass `crc` to forge a wrong checksum. */
export function withCrc(inner: Uint8Array, crc = crc32(inner)): Uint8Array {
  const out = new Uint8Array(inner.length + 5);
  out[0] = T.crc;
  new DataView(out.buffer).setUint32(1, crc >>> 0);
  out.set(inner, 5);
  return out;
}

/** `[7][count][len BE16]...[parts]`; `count`/`lens` may be forged. */
export function compound(parts: Uint8Array[], count = parts.length, lens = parts.map((p) => p.length)): Uint8Array {
  const head = new Uint8Array(2 + 2 * lens.length);
  head[0] = T.compound;
  head[1] = count & 0xff;
  lens.forEach((l, i) => new DataView(head.buffer).setUint16(2 + 2 * i, l & 0xffff));
  return concat(head, ...parts);
}

/** A UDP ping `{Node, SeqNo}` (no Source* fields: the ack goes to the UDP source). */
export function ping(seqNo: number, node: string): Uint8Array {
  return msg(T.ping, { Node: node, SeqNo: seqNo });
}

/** The body of a message (after its type byte) as a map of fields. */
export function body(m: Uint8Array): Record<string, unknown> {
  return decode(m, "gossip", 1) as Record<string, unknown>;
}

/**
 * Unwraps a packet to its leaf messages: verifies and strips CRC, splits
 * compounds, inflates LZW `compress` messages. Throws on bad framing.
 */
export function unwrapPacket(buf: Uint8Array, depth = 0): Uint8Array[] {
  if (depth > 8) throw new Error("framing nested too deep");
  if (!buf.length) return [];
  switch (buf[0]) {
    case T.crc: {
      const want = new DataView(buf.buffer, buf.byteOffset + 1, 4).getUint32(0);
      const rest = buf.subarray(5);
      if (crc32(rest) !== want) throw new Error("bad crc");
      return unwrapPacket(rest, depth + 1);
    }
    case T.compound: {
      const count = buf[1];
      const out: Uint8Array[] = [];
      let at = 2 + 2 * count;
      for (let i = 0; i < count; i++) {
        const len = (buf[2 + 2 * i] << 8) | buf[3 + 2 * i];
        out.push(...unwrapPacket(buf.subarray(at, at + len), depth + 1));
        at += len;
      }
      return out;
    }
    case T.compress:
      return unwrapPacket(inflate(buf), depth + 1);
    default:
      return [buf];
  }
}

/** Inflates a `[9]{Algo, Buf}` message to the inner message bytes. */
export function inflate(m: Uint8Array): Uint8Array {
  const c = body(m);
  if (c.Algo !== 0) throw new Error(`unknown algo ${c.Algo}`);
  return lzwDecompress(c.Buf as Uint8Array, 1 << 26);
}

/** Decodes a UTF-8 string field (gossip decodes every str as bytes). */
export function text(v: unknown): string {
  return v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v);
}
