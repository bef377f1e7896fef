/**
 * memberlist's AES-GCM encryption (`security.go`, `net.go:encryptLocalState`
 * and `decryptRemoteState`) for UDP packets and TCP stream frames.
 *
 * - Packet: `[vsn][nonce 12][ciphertext || tag 16]`, no additional data.
 * - Stream frame: `[10][len u32 BE][vsn][nonce 12][ciphertext || tag 16]`,
 *   `len` counting everything after the 5-byte header, which is the GCM
 *   additional data.
 * - Version 1 seals the plaintext as is; legacy version 0 seals it
 *   PKCS#7-padded to 16 bytes. Both are accepted on decryption.
 *
 * Errors carry memberlist's texts. Everything is synchronous: node:crypto's
 * native GCM where the runtime has it for the key size, else `gcm.ts`.
 * `node:crypto` is loaded on the first seal or open (see `builtin.ts`), so an
 * agent without encryption never loads it.
 *
 * @module
 */
import { nodeCrypto } from "../runtime/builtin.ts";
import { gcmOpen, gcmSeal } from "./gcm.ts";

/** The `encrypt` message type byte that starts an encrypted stream frame. */
export const ENCRYPT_MSG = 10;

/** Largest `len` accepted in a stream frame header (memberlist's maxPushStateBytes). */
export const MAX_STREAM_STATE_BYTES = 20 * 1024 * 1024;

/** Encryption version byte: 0 = legacy PKCS#7-padded, 1 = unpadded. */
export type EncryptionVersion = 0 | 1;

const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const BLOCK_SIZE = 16;
const HEADER_SIZE = 5;
const NO_AAD = new Uint8Array(0);

/** Largest number of bytes encryption adds: 29 for version 1, 45 for version 0. */
export function encryptOverhead(vsn: EncryptionVersion = 1): number {
  return vsn === 0 ? 45 : 29;
}

/** Size of the encrypted form of `n` plaintext bytes (Go's `encryptedLength`). */
export function encryptedLength(vsn: EncryptionVersion, n: number): number {
  const padding = vsn === 0 ? BLOCK_SIZE - (n % BLOCK_SIZE) : 0;
  return 1 + NONCE_SIZE + n + padding + TAG_SIZE;
}

type GcmAlgorithm = "aes-128-gcm" | "aes-192-gcm" | "aes-256-gcm";

function algorithm(key: Uint8Array): GcmAlgorithm {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new Error(`crypto/aes: invalid key size ${key.length}`);
  }
  return `aes-${key.length * 8}-gcm` as GcmAlgorithm;
}

function pkcs7Pad(data: Uint8Array): Uint8Array {
  const more = BLOCK_SIZE - (data.length % BLOCK_SIZE);
  const out = new Uint8Array(data.length + more);
  out.set(data);
  out.fill(more, data.length);
  return out;
}

function pkcs7Unpad(data: Uint8Array): Uint8Array {
  const n = data.length === 0 ? -1 : data.length - data[data.length - 1];
  if (n < 0) throw new Error("Invalid PKCS7 padding");
  return data.subarray(0, n);
}

const nativeSupport = new Map<GcmAlgorithm, boolean>();

/** Whether node:crypto here implements `alg` (Deno lacks aes-192-gcm). */
function hasNativeGcm(alg: GcmAlgorithm): boolean {
  let ok = nativeSupport.get(alg);
  if (ok === undefined) {
    try {
      nodeCrypto().createCipheriv(alg, new Uint8Array(parseInt(alg.slice(4, 7)) / 8), new Uint8Array(NONCE_SIZE));
      ok = true;
    } catch {
      ok = false;
    }
    nativeSupport.set(alg, ok);
  }
  return ok;
}

function concat(a: Uint8Array, b: Uint8Array, c?: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length + (c?.length ?? 0));
  out.set(a);
  out.set(b, a.length);
  if (c) out.set(c, a.length + b.length);
  return out;
}

/** AES-GCM seal: ciphertext || tag. */
function seal(key: Uint8Array, nonce: Uint8Array, src: Uint8Array, aad: Uint8Array): Uint8Array {
  const alg = algorithm(key);
  if (!hasNativeGcm(alg)) return gcmSeal(key, nonce, src, aad);
  const cipher = nodeCrypto().createCipheriv(alg, key, nonce, { authTagLength: TAG_SIZE });
  cipher.setAAD(aad);
  const ct = cipher.update(src);
  const fin = cipher.final();
  return concat(ct, fin, cipher.getAuthTag());
}

/** AES-GCM open of ciphertext || tag; undefined when the key does not authenticate it. */
function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  let alg: GcmAlgorithm;
  try {
    alg = algorithm(key);
  } catch {
    return undefined;
  }
  if (!hasNativeGcm(alg)) return gcmOpen(key, nonce, sealed, aad);
  try {
    const d = nodeCrypto().createDecipheriv(alg, key, nonce, { authTagLength: TAG_SIZE });
    d.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
    d.setAAD(aad);
    const head = d.update(sealed.subarray(0, sealed.length - TAG_SIZE));
    return concat(head, d.final());
  } catch {
    return undefined;
  }
}

/** Builds `[vsn][nonce][ct||tag]` into `out` at `at`. */
function sealInto(
  vsn: EncryptionVersion,
  key: Uint8Array,
  src: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  out: Uint8Array,
  at: number,
): void {
  out[at] = vsn;
  out.set(nonce, at + 1);
  out.set(seal(key, nonce, src, aad), at + 1 + NONCE_SIZE);
}

function newNonce(nonce?: Uint8Array): Uint8Array {
  if (nonce === undefined) return crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
  if (nonce.length !== NONCE_SIZE) throw new Error(`nonce must be ${NONCE_SIZE} bytes`);
  return nonce;
}

/** Go's `decryptPayload`: checks version and size, then tries every key. */
function decryptPayload(keys: Uint8Array[], msg: Uint8Array, aad: Uint8Array): Uint8Array {
  if (msg.length === 0) throw new Error("Cannot decrypt empty payload");
  const vsn = msg[0];
  if (vsn > 1) throw new Error(`Unsupported encryption version ${vsn}`);
  if (msg.length < encryptedLength(vsn as EncryptionVersion, 0)) {
    throw new Error(`Payload is too small to decrypt: ${msg.length}`);
  }
  for (const key of keys) {
    const plain = open(key, msg.subarray(1, 1 + NONCE_SIZE), msg.subarray(1 + NONCE_SIZE), aad);
    if (plain !== undefined) return vsn === 0 ? pkcs7Unpad(plain) : plain;
  }
  throw new Error("No installed keys could decrypt the message");
}

/**
 * Encrypts a UDP packet: `[vsn][nonce][ciphertext || tag]`.
 *
 * @param nonce 12 bytes; random when omitted (pass one only in tests).
 * @param vsn 1 (default, what Serf uses) or legacy 0 (PKCS#7 padding).
 *
 * @example
 * ```ts
 * const wire = encryptPacket(ring.getPrimaryKey()!, packet);
 * ```
 */
export function encryptPacket(
  key: Uint8Array,
  plaintext: Uint8Array,
  nonce?: Uint8Array,
  vsn: EncryptionVersion = 1,
): Uint8Array {
  const src = vsn === 0 ? pkcs7Pad(plaintext) : plaintext;
  const out = new Uint8Array(encryptedLength(vsn, plaintext.length));
  sealInto(vsn, key, src, newNonce(nonce), NO_AAD, out, 0);
  return out;
}

/**
 * Decrypts a UDP packet with the first key that authenticates it (primary
 * first). Accepts versions 0 and 1.
 *
 * @throws {Error} `Cannot decrypt empty payload`, `Unsupported encryption
 *   version N`, `Payload is too small to decrypt: N`, or `No installed keys
 *   could decrypt the message`.
 *
 * @example
 * ```ts
 * const packet = decryptPacket(ring.getKeys(), datagram);
 * ```
 */
export function decryptPacket(keys: Uint8Array[], buf: Uint8Array): Uint8Array {
  return decryptPayload(keys, buf, NO_AAD);
}

/**
 * Encrypts a whole stream message as one frame
 * `[10][len u32 BE][vsn][nonce][ciphertext || tag]`, authenticating the
 * 5-byte header as additional data.
 *
 * @example
 * ```ts
 * conn.write(encryptStream(ring.getPrimaryKey()!, compressedPushPull));
 * ```
 */
export function encryptStream(
  key: Uint8Array,
  plaintext: Uint8Array,
  nonce?: Uint8Array,
  vsn: EncryptionVersion = 1,
): Uint8Array {
  const len = encryptedLength(vsn, plaintext.length);
  const out = new Uint8Array(HEADER_SIZE + len);
  out[0] = ENCRYPT_MSG;
  new DataView(out.buffer).setUint32(1, len);
  const src = vsn === 0 ? pkcs7Pad(plaintext) : plaintext;
  sealInto(vsn, key, src, newNonce(nonce), out.subarray(0, HEADER_SIZE), out, HEADER_SIZE);
  return out;
}

/**
 * How many bytes the complete encrypted stream frame at the start of `buf`
 * takes (header included), or undefined while fewer than 5 bytes are there.
 *
 * @throws {Error} when `buf` does not start with byte 10, or `Remote node
 *   state is larger than limit (N)` beyond 20 MiB.
 *
 * @example
 * ```ts
 * const need = streamFrameLength(received);
 * if (need !== undefined && received.length >= need) decryptStream(keys, received);
 * ```
 */
export function streamFrameLength(buf: Uint8Array): number | undefined {
  if (buf.length < 1) return undefined;
  if (buf[0] !== ENCRYPT_MSG) throw new Error(`not an encrypted stream frame (type ${buf[0]})`);
  if (buf.length < HEADER_SIZE) return undefined;
  const len = new DataView(buf.buffer, buf.byteOffset, HEADER_SIZE).getUint32(1);
  if (len > MAX_STREAM_STATE_BYTES) throw new Error(`Remote node state is larger than limit (${len})`);
  return HEADER_SIZE + len;
}

/**
 * Decrypts a stream frame; `buf` starts at the type byte 10 and must hold
 * the whole frame (see {@link streamFrameLength}); bytes beyond it are
 * ignored. Returns the plaintext, which starts with the inner message type.
 *
 * @throws {Error} for a wrong type byte, an oversized or incomplete frame,
 *   or any {@link decryptPacket} error.
 *
 * @example
 * ```ts
 * const inner = decryptStream(ring.getKeys(), frame); // inner[0] is 9 or 6
 * ```
 */
export function decryptStream(keys: Uint8Array[], buf: Uint8Array): Uint8Array {
  const need = streamFrameLength(buf);
  if (need === undefined || buf.length < need) {
    throw new Error(`unexpected EOF: encrypted stream frame needs ${need ?? HEADER_SIZE} bytes, have ${buf.length}`);
  }
  return decryptPayload(keys, buf.subarray(HEADER_SIZE, need), buf.subarray(0, HEADER_SIZE));
}
