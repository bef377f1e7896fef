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

/**
 * Scratch memory shared by every call (the codec never re-enters): the
 * compressor's hash table and the list of its used slots (cleared after use
 * instead of allocating 64 KiB per packet), the decoder's tables, and the
 * output buffer. An output buffer that grew beyond {@link KEEP_BYTES} is not
 * kept.
 *
 * Both directions are single flat loops over local variables: the compiled
 * agent runs mostly in JavaScriptCore's interpreter, where every method call
 * and field access per byte costs several times the work itself.
 */
const scratch = {
  /** Open-addressed map: entry = (prefix code << 8 | byte) << 12 | code, 0 = empty. */
  table: new Uint32Array(TABLE_SIZE),
  used: new Uint16Array(MAX_CODE + 1),
  prefix: new Uint16Array(1 << MAX_WIDTH),
  suffix: new Uint8Array(1 << MAX_WIDTH),
  /** Length of each code's expansion (1 for the literals, which are never redefined). */
  lengths: new Uint16Array(1 << MAX_WIDTH).fill(1, 0, CLEAR),
  out: new Uint8Array(4096) as Uint8Array,
};
const KEEP_BYTES = 1 << 20;

/** Keeps `buf` as the next output scratch buffer unless it is too big. */
function keepScratch(buf: Uint8Array): void {
  if (buf.length <= KEEP_BYTES) scratch.out = buf;
}

/** An output buffer of at least `size` bytes (the scratch one when big enough). */
function outputBuffer(size: number): Uint8Array {
  return scratch.out.length >= size ? scratch.out : new Uint8Array(size);
}

/** Zeroes the compressor's used hash slots. */
function clearTable(used: Uint16Array, count: number): void {
  const table = scratch.table;
  for (let i = 0; i < count; i++) table[used[i]] = 0;
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
  const n = data.length;
  // At most one 12-bit code per input byte, plus the clear codes (one per
  // 3838 codes), the first clear, the last code and EOF.
  const out = outputBuffer(Math.ceil((n + 4 + n / 3000) * 1.5) + 2);
  const { table, used } = scratch;
  let usedCount = 0;
  // The bit writer (Go's writeLSB): `bits` holds `nBits` (< 8) pending bits.
  let len = 0, bits = CLEAR, nBits = LIT_WIDTH + 1, width = LIT_WIDTH + 1;
  out[len++] = bits & 0xff;
  bits >>>= 8;
  nBits -= 8;
  let hi = EOF, overflow = 1 << (LIT_WIDTH + 1);
  let code = n > 0 ? data[0] : EOF;
  for (let i = 1; i < n; i++) {
    const literal = data[i];
    const key = (code << 8) | literal;
    // Look up prefix `code` + `literal`.
    let h = ((key >>> 12) ^ key) & TABLE_MASK;
    let t = table[h];
    while (t !== 0) {
      if (t >>> 12 === key) break;
      h = (h + 1) & TABLE_MASK;
      t = table[h];
    }
    if (t !== 0) {
      code = t & MAX_CODE;
      continue;
    }
    // Not found: emit `code`, start over from `literal`.
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out[len++] = bits & 0xff;
      bits >>>= 8;
      nBits -= 8;
    }
    if (len >= maxOutput) {
      clearTable(used, usedCount);
      keepScratch(out);
      return null;
    }
    code = literal;
    // Go's incHi, then record the new entry at `h` (the free slot found above).
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi !== MAX_CODE) {
      table[h] = (key * 4096 + hi) >>> 0;
      used[usedCount++] = h;
      continue;
    }
    bits |= CLEAR << nBits;
    nBits += width;
    while (nBits >= 8) {
      out[len++] = bits & 0xff;
      bits >>>= 8;
      nBits -= 8;
    }
    width = LIT_WIDTH + 1;
    hi = EOF;
    overflow = CLEAR << 1;
    clearTable(used, usedCount);
    usedCount = 0;
  }
  clearTable(used, usedCount);
  // Close(): the pending code and its incHi (a wider code or a clear code), then EOF.
  const tail: number[] = [], widths: number[] = [];
  if (n > 0) {
    tail.push(code);
    widths.push(width);
    hi++;
    if (hi === overflow) width++;
    else if (hi === MAX_CODE) {
      tail.push(CLEAR);
      widths.push(width);
      width = LIT_WIDTH + 1;
    }
  }
  tail.push(EOF);
  widths.push(width);
  for (let k = 0; k < tail.length; k++) {
    bits |= tail[k] << nBits;
    nBits += widths[k];
    while (nBits >= 8) {
      out[len++] = bits & 0xff;
      bits >>>= 8;
      nBits -= 8;
    }
  }
  if (nBits > 0) out[len++] = bits & 0xff;
  keepScratch(out);
  return len >= maxOutput ? null : out.slice(0, len);
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
  // Every dictionary entry below `hi` is written by this stream before it is read.
  const { prefix, suffix, lengths } = scratch;
  const srcLen = data.length;
  let out = outputBuffer(Math.min(maxOutput, Math.max(64, srcLen * 4)));
  // Writable bytes: the buffer, but never beyond `maxOutput`.
  let cap = Math.min(out.length, maxOutput);
  let len = 0;
  // The bit reader (Go's readLSB).
  let bits = 0, nBits = 0, pos = 0, width = LIT_WIDTH + 1;
  // Go's decoder state: next code `hi`, width switch point, previous code.
  let hi = EOF, overflow = 1 << (LIT_WIDTH + 1), last = NO_CODE;
  try {
    for (;;) {
      while (nBits < width) {
        if (pos >= srcLen) throw new LzwError("unexpected EOF");
        bits |= data[pos++] << nBits;
        nBits += 8;
      }
      const code = bits & ((1 << width) - 1);
      bits >>>= width;
      nBits -= width;
      let first: number;
      if (code < CLEAR) {
        if (len >= cap) {
          out = grow(out, len, 1, maxOutput);
          cap = Math.min(out.length, maxOutput);
        }
        out[len++] = code;
        first = code;
      } else if (code === CLEAR) {
        width = LIT_WIDTH + 1;
        hi = EOF;
        overflow = 1 << width;
        last = NO_CODE;
        continue;
      } else if (code === EOF) {
        return out.slice(0, len);
      } else if (code <= hi) {
        // Write the expansion of `code` straight into `out`, last byte first;
        // `code == hi` is the previous expansion followed by its own first byte.
        const special = code === hi && last !== NO_CODE;
        let c = special ? last : code;
        const k = special ? lengths[last] + 1 : lengths[code];
        if (len + k > cap) {
          out = grow(out, len, k, maxOutput);
          cap = Math.min(out.length, maxOutput);
        }
        let at = special ? len + k - 2 : len + k - 1;
        while (c >= CLEAR) {
          out[at--] = suffix[c];
          c = prefix[c];
        }
        out[at] = c;
        if (special) out[len + k - 1] = c;
        len += k;
        first = c;
      } else {
        throw new LzwError("lzw: invalid code");
      }
      // Record `last + first` as entry `hi`, then advance like Go's reader.
      if (last !== NO_CODE) {
        suffix[hi] = first;
        prefix[hi] = last;
        lengths[hi] = lengths[last] + 1;
      }
      last = code;
      hi++;
      if (hi >= overflow) {
        if (width === MAX_WIDTH) {
          last = NO_CODE;
          hi--;
        } else {
          width++;
          overflow = 1 << width;
        }
      }
    }
  } finally {
    keepScratch(out);
  }
}

/** A larger copy of `out` with room for `n` more bytes after `len`, failing beyond `limit`. */
function grow(out: Uint8Array, len: number, n: number, limit: number): Uint8Array {
  const need = len + n;
  if (need > limit) throw new LzwError(`lzw: decompressed size exceeds limit of ${limit} bytes`);
  if (need <= out.length) return out;
  let size = Math.max(16, out.length * 2);
  while (size < need) size *= 2;
  const next = new Uint8Array(Math.min(size, Math.max(need, limit)));
  next.set(out.subarray(0, len));
  return next;
}
