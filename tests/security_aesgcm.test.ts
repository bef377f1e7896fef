import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { gcmOpen, gcmSeal } from "../lib/security/gcm.ts";
import {
  decryptPacket,
  decryptStream,
  ENCRYPT_MSG,
  encryptedLength,
  encryptOverhead,
  encryptPacket,
  encryptStream,
  MAX_STREAM_STATE_BYTES,
  streamFrameLength,
} from "../lib/security/aesgcm.ts";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
/** Key bytes 0x10, 0x11, ... (the Go fixtures' keys). */
const seqKey = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => 0x10 + i);
const key = (fill: number, n = 16): Uint8Array => new Uint8Array(n).fill(fill);

const NONCE = unhex("000102030405060708090a0b");
const PLAIN = text("hello memberlist");

/**
 * Produced with Go 1.19 crypto/aes + crypto/cipher.NewGCM laid out as memberlist's
 * encryptPayload (fixed nonce 00..0b, plaintext "hello memberlist").
 */
const GO = {
  pkt1: {
    16: "01000102030405060708090a0b991078bb2f3d9997df167525a365927803a3a40e0785cec8e644782c39dff4e4",
    24: "01000102030405060708090a0b4309b1a464799d59e0d2722b9f374f6d3080328d6be2c7d4b0c0a3624b511676",
    32: "01000102030405060708090a0bb2d901c85bdb56e4f1b2a1bc813a83e480e5fa0e532273d22cd116cb52879caf",
  } as Record<number, string>,
  /** Legacy version 0 (PKCS#7-padded plaintext), 16-byte key. */
  pkt0: "00000102030405060708090a0b991078bb2f3d9997df167525a3659278ab1b49af771b9be7da1b815542d19c8f0b4f" +
    "f2cbaa75d498cab9eed0c331f7a9",
  /** Stream frame, 16-byte key, header [0a 0000002d] as additional data. */
  stream1: "0a0000002d01000102030405060708090a0b991078bb2f3d9997df167525a3659278edfa21181aec72ed7723daea" +
    "3896cef7",
};

describe("packet encryption matches Go", () => {
  for (const n of [16, 24, 32]) {
    it(`AES-${n * 8} version 1`, () => {
      assert.equal(hex(encryptPacket(seqKey(n), PLAIN, NONCE)), GO.pkt1[n]);
      assert.equal(hex(decryptPacket([seqKey(n)], unhex(GO.pkt1[n]))), hex(PLAIN));
    });
  }
  it("legacy version 0 (PKCS#7 padding) both ways", () => {
    assert.equal(hex(encryptPacket(seqKey(16), PLAIN, NONCE, 0)), GO.pkt0);
    assert.equal(hex(decryptPacket([seqKey(16)], unhex(GO.pkt0))), hex(PLAIN));
  });
  it("stream frame with the header as additional data", () => {
    assert.equal(hex(encryptStream(seqKey(16), PLAIN, NONCE)), GO.stream1);
    assert.equal(hex(decryptStream([seqKey(16)], unhex(GO.stream1))), hex(PLAIN));
  });
});

describe("packet round trips", () => {
  for (const n of [16, 24, 32]) {
    it(`AES-${n * 8}, sizes 0..1400`, () => {
      for (const size of [0, 1, 15, 16, 17, 100, 1400]) {
        const plain = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);
        for (const vsn of [0, 1] as const) {
          const enc = encryptPacket(key(n, n), plain, undefined, vsn);
          assert.equal(enc[0], vsn);
          assert.equal(enc.length, encryptedLength(vsn, size));
          assert.ok(enc.length - size <= encryptOverhead(vsn));
          assert.deepEqual(decryptPacket([key(n, n)], enc), plain);
        }
      }
    });
  }
  it("uses a fresh random nonce each time", () => {
    const a = encryptPacket(key(1), PLAIN);
    const b = encryptPacket(key(1), PLAIN);
    assert.notEqual(hex(a.subarray(1, 13)), hex(b.subarray(1, 13)));
    assert.equal(encryptOverhead(1), 29);
    assert.equal(encryptOverhead(0), 45);
  });
  it("refuses invalid keys and nonces", () => {
    assert.throws(() => encryptPacket(key(1, 10), PLAIN));
    assert.throws(() => encryptPacket(key(1), PLAIN, new Uint8Array(8)));
  });
});

describe("packet decryption failures", () => {
  const enc = encryptPacket(key(1), PLAIN, NONCE);
  it("rejects any tampered byte", () => {
    for (let i = 0; i < enc.length; i++) {
      if (i === 0) continue; // the version byte is not authenticated; see below
      const bad = enc.slice();
      bad[i] ^= 0x01;
      assert.throws(
        () => decryptPacket([key(1)], bad),
        { message: "No installed keys could decrypt the message" },
        `byte ${i}`,
      );
    }
  });
  it("tries every key in order and succeeds with a secondary key", () => {
    assert.deepEqual(decryptPacket([key(2), key(3, 32), key(1)], enc), PLAIN);
    assert.throws(() => decryptPacket([key(2), key(3)], enc), {
      message: "No installed keys could decrypt the message",
    });
    assert.throws(() => decryptPacket([], enc), { message: "No installed keys could decrypt the message" });
  });
  it("skips keys of invalid size instead of failing", () => {
    assert.deepEqual(decryptPacket([key(9, 5), key(1)], enc), PLAIN);
  });
  it("checks the version byte and the minimum size", () => {
    assert.throws(() => decryptPacket([key(1)], new Uint8Array(0)), { message: "Cannot decrypt empty payload" });
    const v2 = enc.slice();
    v2[0] = 2;
    assert.throws(() => decryptPacket([key(1)], v2), { message: "Unsupported encryption version 2" });
    assert.throws(() => decryptPacket([key(1)], enc.subarray(0, 28)), {
      message: "Payload is too small to decrypt: 28",
    });
    const v0 = encryptPacket(key(1), new Uint8Array(0), NONCE, 0); // 45 bytes
    assert.equal(v0.length, 45);
    assert.throws(() => decryptPacket([key(1)], v0.subarray(0, 44)), {
      message: "Payload is too small to decrypt: 44",
    });
    assert.equal(decryptPacket([key(1)], v0).length, 0);
  });
  it("the version byte is not authenticated: a v1 packet relabelled v0 gets unpadded", () => {
    // Plaintext ending in 0x02: unpadding as v0 drops its last 2 bytes (Go does the same).
    const plain = Uint8Array.of(...new Uint8Array(20).fill(7), 2);
    const relabel = encryptPacket(key(1), plain, NONCE);
    relabel[0] = 0;
    assert.deepEqual(decryptPacket([key(1)], relabel), plain.subarray(0, plain.length - 2));
    // A pad byte larger than the plaintext (Go panics on this) is an error here.
    const bad = encryptPacket(key(1), new Uint8Array(40).fill(0xff), NONCE);
    bad[0] = 0;
    assert.throws(() => decryptPacket([key(1)], bad), { message: "Invalid PKCS7 padding" });
  });
});

describe("stream frames", () => {
  const frame = encryptStream(key(1), PLAIN, NONCE);
  it("has the [10][len][vsn][nonce][ct||tag] layout", () => {
    assert.equal(frame[0], ENCRYPT_MSG);
    const len = new DataView(frame.buffer, frame.byteOffset).getUint32(1);
    assert.equal(len, 1 + 12 + PLAIN.length + 16);
    assert.equal(frame.length, 5 + len);
    assert.equal(frame[5], 1);
    assert.deepEqual(frame.subarray(6, 18), NONCE);
  });
  it("binds the 5-byte header: changing it breaks decryption", () => {
    // Same ciphertext as a packet, but authenticated with different additional data.
    const asPacket = frame.subarray(5);
    assert.throws(() => decryptPacket([key(1)], asPacket), { message: "No installed keys could decrypt the message" });
    // A longer frame with the same body: the len field differs, so the AAD does too.
    const longer = new Uint8Array(frame.length + 3);
    longer.set(frame);
    new DataView(longer.buffer).setUint32(1, frame.length - 5 + 3);
    longer.set(frame.subarray(frame.length - 16), longer.length - 16); // keep tag at the end
    assert.throws(() => decryptStream([key(1)], longer), /No installed keys/);
  });
  it("rejects tampering, tries all keys, ignores trailing bytes", () => {
    const bad = frame.slice();
    bad[20] ^= 0x80;
    assert.throws(() => decryptStream([key(1)], bad), /No installed keys could decrypt the message/);
    assert.deepEqual(decryptStream([key(7), key(1)], frame), PLAIN);
    const extra = new Uint8Array(frame.length + 4);
    extra.set(frame);
    assert.deepEqual(decryptStream([key(1)], extra), PLAIN);
  });
  it("round trips large payloads and version 0", () => {
    const big = Uint8Array.from({ length: 300_000 }, (_, i) => i % 251);
    assert.deepEqual(decryptStream([key(2, 32)], encryptStream(key(2, 32), big)), big);
    assert.deepEqual(decryptStream([key(2)], encryptStream(key(2), PLAIN, undefined, 0)), PLAIN);
  });
  it("streamFrameLength needs 5 bytes and reports the full frame size", () => {
    assert.equal(streamFrameLength(new Uint8Array(0)), undefined);
    for (let n = 1; n < 5; n++) assert.equal(streamFrameLength(frame.subarray(0, n)), undefined);
    assert.equal(streamFrameLength(frame.subarray(0, 5)), frame.length);
    assert.equal(streamFrameLength(frame), frame.length);
    assert.throws(() => streamFrameLength(Uint8Array.of(9, 0, 0, 0, 1)), /not an encrypted stream frame/);
  });
  it("rejects frames over 20 MiB before reading them", () => {
    const hdr = Uint8Array.of(10, 0, 0, 0, 0);
    new DataView(hdr.buffer).setUint32(1, MAX_STREAM_STATE_BYTES);
    assert.equal(streamFrameLength(hdr), 5 + MAX_STREAM_STATE_BYTES);
    new DataView(hdr.buffer).setUint32(1, MAX_STREAM_STATE_BYTES + 1);
    assert.throws(() => streamFrameLength(hdr), {
      message: `Remote node state is larger than limit (${MAX_STREAM_STATE_BYTES + 1})`,
    });
    assert.throws(() => decryptStream([key(1)], hdr), /larger than limit/);
  });
  it("rejects incomplete frames", () => {
    assert.throws(() => decryptStream([key(1)], frame.subarray(0, frame.length - 1)), /unexpected EOF/);
    assert.throws(() => decryptStream([key(1)], frame.subarray(0, 3)), /unexpected EOF/);
  });
});

describe("software GCM (gcm.ts, used where node:crypto lacks a key size)", () => {
  // NIST GCM spec test cases 4, 10 and 16 (AES-128/192/256), confirmed with Go crypto/cipher.
  const P = unhex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525" +
      "b16aedf5aa0de657ba637b39",
  );
  const A = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const IV = unhex("cafebabefacedbaddecaf888");
  const K = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
  const vectors: [number, string][] = [
    [
      16,
      "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05" +
      "1ba30b396a0aac973d58e0915bc94fbc3221a5db94fae95ae7121a47",
    ],
    [
      24,
      "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f47" +
      "18e2448b2fe324d9ccda27102519498e80f1478f37ba55bd6d27618c",
    ],
    [
      32,
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838" +
      "c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b",
    ],
  ];
  for (const [n, sealed] of vectors) {
    it(`NIST vector, ${n}-byte key`, () => {
      const k = unhex(K.slice(0, 2 * n));
      assert.equal(hex(gcmSeal(k, IV, P, A)), sealed);
      assert.equal(hex(gcmOpen(k, IV, unhex(sealed), A) ?? new Uint8Array(0)), hex(P));
    });
  }
  it("equals native aes-128/256-gcm on random sizes and additional data", () => {
    let x = 12345;
    const rnd = (len: number) =>
      Uint8Array.from({ length: len }, () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24);
    for (const n of [16, 32]) {
      for (const len of [0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4099]) {
        const k = rnd(n), iv = rnd(12), aad = rnd(len % 23), plain = rnd(len);
        const c = createCipheriv(n === 16 ? "aes-128-gcm" : "aes-256-gcm", k, iv);
        c.setAAD(aad);
        const native = hex(Uint8Array.of(...c.update(plain), ...c.final(), ...c.getAuthTag()));
        assert.equal(hex(gcmSeal(k, iv, plain, aad)), native, `key ${n}, len ${len}`);
      }
    }
  });
  it("rejects tampering with ciphertext, tag or additional data", () => {
    const k = key(5, 24);
    const sealed = gcmSeal(k, NONCE, PLAIN, A);
    assert.deepEqual(gcmOpen(k, NONCE, sealed, A), PLAIN);
    for (const i of [0, PLAIN.length - 1, PLAIN.length, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[i] ^= 4;
      assert.equal(gcmOpen(k, NONCE, bad, A), undefined, `byte ${i}`);
    }
    assert.equal(gcmOpen(k, NONCE, sealed, A.subarray(1)), undefined);
    assert.equal(gcmOpen(key(6, 24), NONCE, sealed, A), undefined);
    assert.equal(gcmOpen(k, NONCE, sealed.subarray(0, 15), A), undefined);
  });
  it("handles a 1 MiB stream-sized payload", () => {
    const big = new Uint8Array(1 << 20).fill(0x5a);
    const k = key(8, 24);
    assert.deepEqual(decryptStream([k], encryptStream(k, big)), big);
  });
});
