/**
 * AES-GCM (96-bit nonce, 16-byte tag, NIST SP 800-38D) assembled from
 * node:crypto's AES-CTR plus a GHASH written here. Used only for key sizes
 * whose native `aes-*-gcm` cipher the runtime lacks (Deno's node:crypto has
 * no `aes-192-gcm`); the output is identical to a native GCM.
 *
 * @module
 */
import { nodeCrypto } from "../runtime/builtin.ts";

const BLOCK = 16;
const TAG_SIZE = 16;

/** Reduction constants for shifting a GHASH value right by 4 bits (Shoup's method). */
const LAST4 = [
  0x0000,
  0x1c20,
  0x3840,
  0x2460,
  0x7080,
  0x6ca0,
  0x48c0,
  0x54e0,
  0xe100,
  0xfd20,
  0xd940,
  0xc560,
  0x9180,
  0x8da0,
  0xa9c0,
  0xb5e0,
];

type CtrAlgorithm = "aes-128-ctr" | "aes-192-ctr" | "aes-256-ctr";

/** AES-CTR keystream XOR starting at counter block `iv` (128-bit counter). */
function ctr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const alg = `aes-${key.length * 8}-ctr` as CtrAlgorithm;
  const c = nodeCrypto().createCipheriv(alg, key, iv);
  const head = c.update(data);
  const tail = c.final();
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/** GHASH over GF(2^128) with a 16-entry table of multiples of H (4-bit Shoup). */
class Ghash {
  /** Entry i (4 big-endian words at 4*i) = i·H in GCM's bit-reflected order. */
  readonly #table = new Uint32Array(64);
  /** Running value Y as 4 big-endian 32-bit words. */
  readonly #y = new Uint32Array(4);
  /** Scratch block. */
  readonly #x = new Uint8Array(BLOCK);

  constructor(h: Uint8Array) {
    const dv = new DataView(h.buffer, h.byteOffset, BLOCK);
    const t = this.#table;
    let v0 = dv.getUint32(0), v1 = dv.getUint32(4), v2 = dv.getUint32(8), v3 = dv.getUint32(12);
    t.set([v0, v1, v2, v3], 32);
    for (let i = 4; i > 0; i >>= 1) {
      const r = v3 & 1 ? 0xe1000000 : 0;
      v3 = (v3 >>> 1) | (v2 << 31);
      v2 = (v2 >>> 1) | (v1 << 31);
      v1 = (v1 >>> 1) | (v0 << 31);
      v0 = (v0 >>> 1) ^ r;
      t.set([v0, v1, v2, v3], 4 * i);
    }
    for (let i = 2; i <= 8; i *= 2) {
      for (let j = 1; j < i; j++) {
        for (let w = 0; w < 4; w++) t[4 * (i + j) + w] = t[4 * i + w] ^ t[4 * j + w];
      }
    }
  }

  /** Absorbs `data`, zero-padding its last block. */
  update(data: Uint8Array): void {
    const block = new Uint8Array(BLOCK);
    for (let at = 0; at < data.length; at += BLOCK) {
      const end = Math.min(at + BLOCK, data.length);
      if (end - at === BLOCK) this.#absorb(data, at);
      else {
        block.fill(0);
        block.set(data.subarray(at, end));
        this.#absorb(block, 0);
      }
    }
  }

  /** Absorbs the bit lengths block and returns the 16-byte hash. */
  digest(aadLen: number, ctLen: number): Uint8Array {
    const lens = new Uint8Array(BLOCK);
    const dv = new DataView(lens.buffer);
    dv.setUint32(0, Math.floor((aadLen * 8) / 0x100000000));
    dv.setUint32(4, (aadLen * 8) >>> 0);
    dv.setUint32(8, Math.floor((ctLen * 8) / 0x100000000));
    dv.setUint32(12, (ctLen * 8) >>> 0);
    this.#absorb(lens, 0);
    const out = new Uint8Array(BLOCK);
    const o = new DataView(out.buffer);
    for (let w = 0; w < 4; w++) o.setUint32(4 * w, this.#y[w]);
    return out;
  }

  /** Y = (Y xor block) · H. */
  #absorb(src: Uint8Array, at: number): void {
    const y = this.#y;
    const x = this.#x;
    for (let i = 0; i < BLOCK; i++) {
      x[i] = src[at + i] ^ ((y[i >> 2] >>> (24 - 8 * (i & 3))) & 0xff);
    }
    const t = this.#table;
    let k = 4 * (x[15] & 0xf);
    let z0 = t[k], z1 = t[k + 1], z2 = t[k + 2], z3 = t[k + 3];
    for (let i = 15; i >= 0; i--) {
      // Low nibble then high nibble; the low nibble of byte 15 seeded z.
      for (let s = i === 15 ? 1 : 0; s < 2; s++) {
        const rem = z3 & 0xf;
        z3 = (z3 >>> 4) | (z2 << 28);
        z2 = (z2 >>> 4) | (z1 << 28);
        z1 = (z1 >>> 4) | (z0 << 28);
        z0 = (z0 >>> 4) ^ (LAST4[rem] << 16);
        k = 4 * (s === 0 ? x[i] & 0xf : x[i] >> 4);
        z0 ^= t[k];
        z1 ^= t[k + 1];
        z2 ^= t[k + 2];
        z3 ^= t[k + 3];
      }
    }
    y[0] = z0;
    y[1] = z1;
    y[2] = z2;
    y[3] = z3;
  }
}

function counterBlock(nonce: Uint8Array, counter: number): Uint8Array {
  const b = new Uint8Array(BLOCK);
  b.set(nonce);
  new DataView(b.buffer).setUint32(12, counter);
  return b;
}

/** Tag = E(J0) xor GHASH(aad, ct). */
function tagFor(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array {
  const h = ctr(key, new Uint8Array(BLOCK), new Uint8Array(BLOCK));
  const g = new Ghash(h);
  g.update(aad);
  g.update(ct);
  const s = g.digest(aad.length, ct.length);
  const ej0 = ctr(key, counterBlock(nonce, 1), new Uint8Array(BLOCK));
  for (let i = 0; i < BLOCK; i++) s[i] ^= ej0[i];
  return s;
}

/**
 * Seals `plaintext`: returns ciphertext || 16-byte tag.
 *
 * @example
 * ```ts
 * const sealed = gcmSeal(key24, nonce12, plain, new Uint8Array(0));
 * ```
 */
export function gcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  if (nonce.length !== 12) throw new Error("gcm: nonce must be 12 bytes");
  const ct = ctr(key, counterBlock(nonce, 2), plaintext);
  const out = new Uint8Array(ct.length + TAG_SIZE);
  out.set(ct);
  out.set(tagFor(key, nonce, aad, ct), ct.length);
  return out;
}

/**
 * Opens ciphertext || tag; returns undefined when authentication fails.
 *
 * @example
 * ```ts
 * const plain = gcmOpen(key24, nonce12, sealed, aad);
 * ```
 */
export function gcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array | undefined {
  if (nonce.length !== 12 || sealed.length < TAG_SIZE) return undefined;
  const ct = sealed.subarray(0, sealed.length - TAG_SIZE);
  const tag = sealed.subarray(sealed.length - TAG_SIZE);
  const want = tagFor(key, nonce, aad, ct);
  let diff = 0;
  for (let i = 0; i < TAG_SIZE; i++) diff |= want[i] ^ tag[i];
  if (diff !== 0) return undefined;
  return ctr(key, counterBlock(nonce, 2), ct);
}
