/**
 * LZW compression compatible with Go's `compress/lzw` as memberlist uses it
 * (`lzw.NewWriter(w, lzw.LSB, 8)`): LSB-first bit packing, 8-bit literals,
 * clear code 256, EOF code 257, first dictionary code 258, code width 9..12
 * bits growing with Go's "early change", the writer emits a clear code first
 * and again whenever the dictionary reaches code 4095.
 *
 * The compressor reproduces Go's output byte for byte; the decompressor
 * accepts what Go's reader accepts and fails where it fails, with Go's error
 * texts (`unexpected EOF`, `lzw: invalid code`).
 *
 * @module
 */

const LIT_WIDTH = 8;
const CLEAR = 1 << LIT_WIDTH; // 256
const EOF = CLEAR + 1; // 257
const MAX_WIDTH = 12;
const MAX_CODE = (1 << MAX_WIDTH) - 1; // 4095
const TABLE_SIZE = 4 * (1 << MAX_WIDTH);
const TABLE_MASK = TABLE_SIZE - 1;
const NO_CODE = -1;

/** Thrown by {@link lzwDecompress} for malformed or oversized input. */
export class LzwError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "LzwError";
  }
}

/** A growable byte sink with an optional hard size limit, writing into a reusable buffer. */
class ByteSink {
  #buf: Uint8Array;
  length = 0;

  constructor(initial: Uint8Array, readonly limit = Infinity) {
    this.#buf = initial;
  }

  /** The buffer written so far (may be replaced by {@link reserve}). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Makes room for `n` more bytes, failing beyond the limit. */
  reserve(n: number): Uint8Array {
    const need = this.length + n;
    if (need > this.limit) {
      throw new LzwError(`lzw: decompressed size exceeds limit of ${this.limit} bytes`);
    }
    if (need > this.#buf.length) {
      let size = Math.max(16, this.#buf.length * 2);
      while (size < need) size *= 2;
      const next = new Uint8Array(Math.min(size, Math.max(need, this.limit)));
      next.set(this.#buf.subarray(0, this.length));
      this.#buf = next;
    }
    return this.#buf;
  }

  push(b: number): void {
    this.reserve(1)[this.length++] = b;
  }

  /** A copy of the bytes written. */
  result(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

/**
 * Scratch memory shared by every call (the codec never re-enters): the
 * compressor's hash table and the list of its used slots (cleared after use
 * instead of allocating 64 KiB per packet), and the output buffers. Buffers
 * that grew beyond {@link KEEP_BYTES} are not kept.
 */
const scratch = {
  table: new Uint32Array(TABLE_SIZE),
  used: new Uint16Array(MAX_CODE + 1),
  usedCount: 0,
  out: new Uint8Array(4096) as Uint8Array,
};
const KEEP_BYTES = 1 << 20;

/** Keeps `buf` as the next output scratch buffer unless it is too big. */
function keepScratch(buf: Uint8Array): void {
  if (buf.length <= KEEP_BYTES) scratch.out = buf;
}

/** Packs variable-width codes LSB first, like Go's `writeLSB`. */
class CodeWriter {
  #bits = 0;
  #nBits = 0;
  readonly out = new ByteSink(scratch.out);
  width = LIT_WIDTH + 1;

  write(code: number): void {
    this.#bits |= code << this.#nBits;
    this.#nBits += this.width;
    while (this.#nBits >= 8) {
      this.out.push(this.#bits & 0xff);
      this.#bits >>>= 8;
      this.#nBits -= 8;
    }
  }

  /** Whether bits are waiting for a final byte. */
  get pendingBits(): boolean {
    return this.#nBits > 0;
  }

  /** Flushes the leftover bits as a final, zero-padded byte and returns a copy of the output. */
  finish(): Uint8Array {
    if (this.#nBits > 0) this.out.push(this.#bits & 0xff);
    keepScratch(this.out.buffer);
    return this.out.result();
  }
}

/** Go's encoder state: next code `hi`, width switch point and the dictionary (in {@link scratch}). */
class EncoderState {
  hi = EOF;
  overflow = 1 << (LIT_WIDTH + 1);
  /** Open-addressed map: entry = (prefix code << 8 | byte) << 12 | code, 0 = empty. */
  readonly table = scratch.table;

  constructor(readonly w: CodeWriter) {}

  /** Finds the code for `prefix + byte`, or NO_CODE. */
  lookup(key: number): number {
    for (let h = hashKey(key);; h = (h + 1) & TABLE_MASK) {
      const t = this.table[h];
      if (t === 0) return NO_CODE;
      if (t >>> 12 === key) return t & MAX_CODE;
    }
  }

  insert(key: number, code: number): void {
    let h = hashKey(key);
    while (this.table[h] !== 0) h = (h + 1) & TABLE_MASK;
    this.table[h] = (key * 4096 + code) >>> 0;
    scratch.used[scratch.usedCount++] = h;
  }

  /** Empties the dictionary by clearing only the slots in use. */
  clear(): void {
    const { table, used } = scratch;
    for (let i = 0; i < scratch.usedCount; i++) table[used[i]] = 0;
    scratch.usedCount = 0;
  }

  /** Go's `incHi`: returns false when the dictionary was just reset. */
  incHi(): boolean {
    this.hi++;
    if (this.hi === this.overflow) {
      this.w.width++;
      this.overflow <<= 1;
    }
    if (this.hi !== MAX_CODE) return true;
    this.w.write(CLEAR);
    this.w.width = LIT_WIDTH + 1;
    this.hi = EOF;
    this.overflow = CLEAR << 1;
    this.clear();
    return false;
  }
}

function hashKey(key: number): number {
  return ((key >>> 12) ^ key) & TABLE_MASK;
}

/**
 * Compresses `data` exactly as Go's `lzw.NewWriter(w, lzw.LSB, 8)` followed
 * by one `Write(data)` and `Close()` (memberlist's `compressPayload`).
 *
 * With `maxOutput`, gives up and returns `null` as soon as the output
 * reaches `maxOutput` bytes (the output only grows, so it could not end up
 * smaller): a sender that keeps the compressed form only when it is smaller
 * skips most of the work on incompressible packets.
 *
 * @example
 * ```ts
 * const buf = lzwCompress(new TextEncoder().encode("hello hello hello"));
 * ```
 */
export function lzwCompress(data: Uint8Array): Uint8Array;
export function lzwCompress(data: Uint8Array, maxOutput: number): Uint8Array | null;
export function lzwCompress(data: Uint8Array, maxOutput = Infinity): Uint8Array | null {
  const w = new CodeWriter();
  w.write(CLEAR);
  if (data.length === 0) {
    w.write(EOF);
    if (w.out.length + (w.pendingBits ? 1 : 0) >= maxOutput) {
      keepScratch(w.out.buffer);
      return null;
    }
    return w.finish();
  }
  const s = new EncoderState(w);
  try {
    let code = data[0];
    for (let i = 1; i < data.length; i++) {
      const literal = data[i];
      const key = (code << 8) | literal;
      const found = s.lookup(key);
      if (found !== NO_CODE) {
        code = found;
        continue;
      }
      w.write(code);
      if (w.out.length >= maxOutput) {
        keepScratch(w.out.buffer);
        return null;
      }
      code = literal;
      if (s.incHi()) s.insert(key, s.hi);
    }
    w.write(code);
    s.incHi();
    w.write(EOF);
    // finish() may add one more byte for the bits still pending.
    if (w.out.length + (w.pendingBits ? 1 : 0) >= maxOutput) {
      keepScratch(w.out.buffer);
      return null;
    }
    return w.finish();
  } finally {
    s.clear();
  }
}

/** Reads variable-width codes LSB first, like Go's `readLSB`. */
class CodeReader {
  #bits = 0;
  #nBits = 0;
  #pos = 0;
  width = LIT_WIDTH + 1;

  constructor(readonly src: Uint8Array) {}

  /** The next code, or NO_CODE when the input ends mid-code. */
  read(): number {
    while (this.#nBits < this.width) {
      if (this.#pos >= this.src.length) return NO_CODE;
      this.#bits |= this.src[this.#pos++] << this.#nBits;
      this.#nBits += 8;
    }
    const code = this.#bits & ((1 << this.width) - 1);
    this.#bits >>>= this.width;
    this.#nBits -= this.width;
    return code;
  }
}

/** The decoder's tables, shared by every call. */
const DICT = {
  prefix: new Uint16Array(1 << MAX_WIDTH),
  suffix: new Uint8Array(1 << MAX_WIDTH),
  scratch: new Uint8Array(1 << MAX_WIDTH),
};

/** Go's decoder dictionary: entry `c` expands to expand(prefix[c]) + suffix[c]. */
class Dictionary {
  // Shared across calls: every entry below `hi` is written before it is read.
  readonly prefix = DICT.prefix;
  readonly suffix = DICT.suffix;
  readonly scratch = DICT.scratch;
  hi = EOF;
  overflow = 1 << (LIT_WIDTH + 1);
  last = NO_CODE;

  /** The first byte of the expansion of `code`. */
  head(code: number): number {
    while (code >= CLEAR) code = this.prefix[code];
    return code;
  }

  /**
   * Appends the expansion of `code` (with Go's `code == hi` special case) to
   * `out` and returns its first byte.
   */
  expand(code: number, out: ByteSink): number {
    const tmp = this.scratch;
    let i = tmp.length;
    let c = code;
    if (code === this.hi && this.last !== NO_CODE) {
      tmp[--i] = this.head(this.last);
      c = this.last;
    }
    while (c >= CLEAR) {
      tmp[--i] = this.suffix[c];
      c = this.prefix[c];
    }
    tmp[--i] = c;
    const n = tmp.length - i;
    const dst = out.reserve(n);
    // A plain loop: expansions are a few bytes, where subarray+set costs more than the copy.
    for (let j = out.length; i < tmp.length; i++, j++) dst[j] = tmp[i];
    out.length += n;
    return c;
  }

  /** Records `last + first` as entry `hi` (when there is a previous code). */
  define(first: number): void {
    if (this.last === NO_CODE) return;
    this.suffix[this.hi] = first;
    this.prefix[this.hi] = this.last;
  }

  /** Advances `hi` after a data code, widening codes like Go's reader. */
  advance(code: number, r: CodeReader): void {
    this.last = code;
    this.hi++;
    if (this.hi < this.overflow) return;
    if (r.width === MAX_WIDTH) {
      this.last = NO_CODE;
      this.hi--;
    } else {
      r.width++;
      this.overflow = 1 << r.width;
    }
  }

  reset(r: CodeReader): void {
    r.width = LIT_WIDTH + 1;
    this.hi = EOF;
    this.overflow = 1 << r.width;
    this.last = NO_CODE;
  }
}

/**
 * Decompresses a Go `compress/lzw` (LSB, 8-bit literals) stream. Bytes after
 * the EOF code are ignored, as in Go.
 *
 * @param maxOutput largest accepted output; exceeding it throws (bomb guard).
 * @throws {LzwError} `unexpected EOF` when the EOF code is missing,
 *   `lzw: invalid code` for a code beyond the dictionary, or the size limit.
 *
 * @example
 * ```ts
 * const plain = lzwDecompress(buf, 1 << 20);
 * ```
 */
export function lzwDecompress(data: Uint8Array, maxOutput = 64 * 1024 * 1024): Uint8Array {
  const r = new CodeReader(data);
  const d = new Dictionary();
  const out = new ByteSink(scratch.out, maxOutput);
  try {
    return inflate(r, d, out);
  } finally {
    keepScratch(out.buffer);
  }
}

function inflate(r: CodeReader, d: Dictionary, out: ByteSink): Uint8Array {
  for (;;) {
    const code = r.read();
    if (code === NO_CODE) throw new LzwError("unexpected EOF");
    if (code < CLEAR) {
      out.push(code);
      d.define(code);
    } else if (code === CLEAR) {
      d.reset(r);
      continue;
    } else if (code === EOF) {
      return out.result();
    } else if (code <= d.hi) {
      d.define(d.expand(code, out));
    } else {
      throw new LzwError("lzw: invalid code");
    }
    d.advance(code, r);
  }
}
