/**
 * Serf tags in memberlist node metadata (`serf.go:encodeTags/decodeTags`):
 * protocol ≥ 3 sends `0xFF` + a msgpack map of strings, older protocols the
 * raw `role` tag.
 *
 * @module
 */
import { Decoder, Encoder } from "../codec/msgpack.ts";
import { stringMap } from "../codec/fields.ts";

/** First byte of tag-encoded metadata. */
export const TAG_MAGIC_BYTE = 0xff;

/** memberlist's `MetaMaxSize`. */
export const META_MAX_SIZE = 512;

/** Go's error text when tags do not fit in node metadata. */
export const TAGS_TOO_LARGE = `Encoded length of tags exceeds limit of ${META_MAX_SIZE} bytes`;

/**
 * Encodes tags for node metadata.
 *
 * @example
 * ```ts
 * encodeTags({}, 5); // ff 80
 * encodeTags({ role: "web" }, 2); // "web"
 * ```
 */
export function encodeTags(tags: Record<string, string>, protocolVersion: number): Uint8Array {
  if (protocolVersion < 3) return new TextEncoder().encode(tags.role ?? "");
  return new Encoder("gossip").raw([TAG_MAGIC_BYTE]).write(tags).bytes().slice();
}

/** Throws `Encoded length of tags exceeds limit of 512 bytes` when tags do not fit. */
export function checkTagsSize(tags: Record<string, string>, protocolVersion: number): void {
  if (encodeTags(tags, protocolVersion).length > META_MAX_SIZE) throw new Error(TAGS_TOO_LARGE);
}

/**
 * Decodes node metadata into tags. Metadata that is empty or does not start
 * with the magic byte is a bare role: `{ role: <meta as text> }` (so empty
 * metadata gives `{ role: "" }`, as in Go). A malformed map calls `onError`
 * and yields no tags.
 */
export function decodeTags(meta: Uint8Array, onError?: (err: Error) => void): Record<string, string> {
  if (meta.length === 0 || meta[0] !== TAG_MAGIC_BYTE) {
    return { role: new TextDecoder().decode(meta) };
  }
  try {
    const v = new Decoder(meta, "gossip", 1).read();
    return { ...stringMap({ v }, "v") };
  } catch (err) {
    onError?.(err as Error);
    return {};
  }
}
