/**
 * Incremental reading of an unframed stream of concatenated msgpack values,
 * as the RPC protocol sends them: bytes are pushed as they arrive and whole
 * values are pulled out; a value split across chunks waits for the rest.
 *
 * @module
 */
import { DecodeError, Decoder, type Dialect } from "../codec/msgpack.ts";

/** Default cap on one value (and on bytes buffered while waiting for it). */
export const DEFAULT_MAX_VALUE_BYTES = 1 << 20;

/** Thrown when a value is (or would be) larger than the reader allows. */
export class OversizeError extends Error {
  /** Creates the error for a limit of `limit` bytes. */
  constructor(readonly limit: number) {
    super(`msgpack value exceeds ${limit} bytes`);
    this.name = "OversizeError";
  }
}

/**
 * Buffers chunks and yields complete msgpack values.
 *
 * @example
 * ```ts
 * const r = new ValueReader();
 * r.push(chunk);
 * for (let v = r.next(); v; v = r.next()) handle(v.value);
 * ```
 */
export class ValueReader {
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;

  /** Creates a reader for `dialect`, refusing values above `maxValueBytes`. */
  constructor(readonly dialect: Dialect = "rpc", readonly maxValueBytes = DEFAULT_MAX_VALUE_BYTES) {}

  /** Bytes received but not yet consumed by a complete value. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Appends a received chunk. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#end + chunk.length > this.#buf.length) this.#grow(chunk.length);
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /**
   * The next complete value, or undefined when more bytes are needed.
   * Throws {@link DecodeError} for malformed input and {@link OversizeError}
   * when the pending value exceeds the limit; the stream is unusable after.
   */
  next(): { value: unknown } | undefined {
    if (this.#end === this.#start) return undefined;
    const decoder = new Decoder(this.#buf.subarray(this.#start, this.#end), this.dialect);
    let value: unknown;
    try {
      value = decoder.read();
    } catch (e) {
      if (e instanceof DecodeError && e.truncated) {
        if (this.buffered > this.maxValueBytes) throw new OversizeError(this.maxValueBytes);
        return undefined;
      }
      throw e;
    }
    if (decoder.offset > this.maxValueBytes) throw new OversizeError(this.maxValueBytes);
    this.#start += decoder.offset;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return { value };
  }

  #grow(extra: number): void {
    const live = this.#end - this.#start;
    let size = Math.max(this.#buf.length, 4096);
    while (size < live + extra) size *= 2;
    if (size === this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = live;
  }
}
