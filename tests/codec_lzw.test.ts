import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lzwCompress, lzwDecompress, LzwError } from "../lib/codec/lzw.ts";
import { seeded } from "../lib/core/random.ts";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const zeros = (n: number): Uint8Array => new Uint8Array(n);

/** The LCG the Go fixture generator used: x = (x*1103515245 + 12345) mod 2^31, byte = x>>16 & mask. */
function lcg(n: number, seed: number, mask: number): Uint8Array {
  let x = seed;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    out[i] = (x >>> 16) & mask;
  }
  return out;
}

function randomBytes(seed: number, n: number, alphabet = 256): Uint8Array {
  const r = seeded(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * alphabet));
}

/** (input, Go output) pairs from `lzw.NewWriter(w, lzw.LSB, 8)`, Go 1.19. */
const GO_SMALL: { name: string; input: string; output: string }[] = [
  {
    name: "empty",
    input: "",
    output: "000302",
  },
  {
    name: "a",
    input: "61",
    output: "00c30404",
  },
  {
    name: "tobe",
    input: "544f42454f524e4f54544f42454f52544f42454f524e4f5423",
    output: "00a93c1152e48914274fa80824687061c18309470404",
  },
  {
    name: "hello",
    input: "68656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f20" +
      "68656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f20" +
      "68656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f20",
    output: "00d19461c3e60d0881040d222c787020c3850a1d464cd89022c48a0f25629c98d1a2c68b203f8aa41810",
  },
  {
    name: "bytes256",
    input: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f" +
      "303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" +
      "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f" +
      "909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" +
      "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef" +
      "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
    output: "00010410308040010307102450b0804103070f204490308142050b173064d0b08143070f1f40841031824409132750a4" +
      "50b182450b172f60c4903183460d1b3770e4d0b183470f1f3f800411328448112347902451b2844913274fa044913285" +
      "4a152b57b064d1b2854b172f5fc0841133864c193367d0a451b3864d1b376fe0c49133874e1d3b77f0e4d1b3874f1f3f" +
      "7f000512348850214387102552b4885123478f204592348952254b973065d2b48953274f9f408512358a542953a750a5" +
      "52b58a552b57af60c592358b562d5bb770e5d2b58b572f5fbf800513368c583163c7902553b68c593367cfa04593368d" +
      "5a356bd7b065d3b68d5b376fdfc08513378e5c3973e7d0a553b78e5d3b77efe0c593378f5e3d7bf7f0e5d3b78f5f3f7f" +
      "ff0404",
  },
  {
    name: "rand300",
    input: "c67e816b4bfbe2fb54f6bddf7c1ce18701bf31de56720f4767668759aa883c59ea56137bd285a1d83c54552f37ae655b" +
      "da027998cce31a768e5fd9998f1f3f36ee43784d0dfabea6dae4868edc296d4eff56e17020fb8fb1580590c509dc53cd" +
      "aa3b489952d3529d069feab5c206139849b2011eac3288319c52469571368f57f6391d16fa8874f5987c175c41bb6d71" +
      "8e0f7059c7011b2f333d91c01da50d0dab338d7e5e8f3ee66874a63ab1c39311a864c7dbcae060e1f3bf090067a2e325" +
      "a0213187d562c5a84f7e2e096b949fb06da99e5a0b467080b6cf470ca6a52ad8acfba0ebb779247223924880c5a6a785" +
      "b7d78c90e4ab63445266e39c3325f95eaaba73605d4b717ebea98c571971c3ca5ee52a33ac885166a17b7567649a69ef" +
      "6f5642a01d51c502f7bb9245",
    output: "008df909b466c93e71fba8d8ebf58d0f87708702fc8ae1cd8a9c0747ce9839944515221e59d45999b0475aa150d87850" +
      "a9f2e286ab325bb409c88389d9380d761c7dc996e9d1871f36dc0dc1d3a4813e5fa6b49133e4885b8a364efe59090707" +
      "c4be47b1b01480542c01b729cd54ed409249ca34299d0c7c52574b9881099892c80ae081950c443138493152298e8d47" +
      "57ece5e860411f223af530f1b9c025c8ae36711c3d8093e558800d2f66f48804ac43a9060d56cd68e4c7cb231fe6d0d0" +
      "31a523d6b04911509139b64d193830e1e6fd4a00e08ca8712540858871a89a9862a89ef87191600da54fb0daa4f2a465" +
      "811138806c3d3bc2c0542915d858ed03b5ee561e127246484202a898a953856e5d630489dcaa3144a49819c76946897c" +
      "5ea8a2cb1c6074b1441c7ef8920a23576410c730ca78518e0a33b08248146684b2471d6790a1491aefbc618510a07410" +
      "453102dcb38b24450404",
  },
  {
    name: "low200",
    input: "000200020301020201010103020201020102020000030302010003010202010202020003030000000302000102020200" +
      "020101030103010202030002010201000001000002030001000000010200000103010303000001000001020301010103" +
      "010102000000020302010103000201000303000102020301000000030103020203030003000103010203030201020302" +
      "030001030301000102020003030003020303010203030200000003020001010103020001020103030200020100000002" +
      "0002010001030202",
    output: "00010810382080000101120e3868d0e0400003160680e8d0e1c08800322e046051a0c200050f0ef08830e344821c3372" +
      "7c0812e4c8942b0b7e34a8528044901e218e74585065c1853647ee0c1911a14d9b1c234e74a813625083457d0e4c0872" +
      "2ac2a825330e2c59554040",
  },
];

/** Long inputs: Go output length and SHA-256 (inputs regenerated by `lcg`). */
const GO_LONG: { name: string; input: () => Uint8Array; outLen: number; sha256: string }[] = [
  {
    name: "zeros70000",
    input: () => zeros(70000),
    outLen: 438,
    sha256: "2719b2d46a92eef0c5c42036bdc2f3753083e734a0e8675e78f324d4828411de",
  },
  {
    name: "low100000",
    input: () => lcg(100000, 42, 0x03),
    outLen: 29870,
    sha256: "574e70d33372520d69cf41d6d21905d6308e6c4ead8016d4e30cf1822a7d6fb4",
  },
  {
    name: "rand20000",
    input: () => lcg(20000, 9, 0xff),
    outLen: 27348,
    sha256: "c7eb0b08549ccc1af054f140f35467c074d218dda9a4965e6fe81e99c05a07bc",
  },
  {
    name: "text8191",
    input: () => lcg(8191, 3, 0x0f),
    outLen: 5129,
    sha256: "a297930f28a26ba53dcb068a906a11e4a9dcd4c369c58ed13efefea76f5c5cb3",
  },
  {
    name: "rand3935",
    input: () => lcg(3935, 9, 0xff),
    outLen: 5410,
    sha256: "6d3b7fc1fdc6ebdda001f8fe417c0d564c6b7fca2ab13653daa1684b1b65d422",
  },
  {
    name: "rand3934",
    input: () => lcg(3934, 9, 0xff),
    outLen: 5407,
    sha256: "e7dbfc5ffaccb300fea5c3063d1eda778d66acf64894d5586e69ddc6d2abb328",
  },
];

describe("lzwCompress matches Go's compress/lzw byte for byte", () => {
  for (const g of GO_SMALL) {
    it(`${g.name} (${g.input.length / 2} bytes)`, () => {
      assert.equal(hex(lzwCompress(unhex(g.input))), g.output);
    });
  }
  for (const g of GO_LONG) {
    it(`${g.name} (crosses code widths / the 4095 reset)`, () => {
      const out = lzwCompress(g.input());
      assert.equal(out.length, g.outLen);
      assert.equal(sha256(out), g.sha256);
    });
  }
  it("starts with a clear code and ends with EOF", () => {
    // 9-bit codes LSB first: clear (256) = 0 0000 0001 → first byte 00, bit 8 set in byte 2.
    const out = lzwCompress(new Uint8Array([0x41]));
    assert.equal(out[0], 0x00);
    assert.equal(out[1] & 1, 1);
  });
});

describe("lzwDecompress reads Go's output", () => {
  for (const g of GO_SMALL) {
    it(g.name, () => assert.equal(hex(lzwDecompress(unhex(g.output))), g.input));
  }
});

describe("lzw round trips", () => {
  it("empty input", () => {
    assert.equal(lzwDecompress(lzwCompress(new Uint8Array(0))).length, 0);
  });
  it("random inputs of many sizes", () => {
    for (const n of [1, 2, 3, 17, 255, 256, 257, 1000, 4093, 4094, 4095, 4096, 9000]) {
      const input = randomBytes(n, n);
      assert.deepEqual(lzwDecompress(lzwCompress(input)), input, `size ${n}`);
    }
  });
  it("repetitive inputs compress well and round trip", () => {
    const text = new TextEncoder().encode("memberlist push/pull ".repeat(500));
    const c = lzwCompress(text);
    assert.ok(c.length < text.length / 5, `compressed to ${c.length}`);
    assert.deepEqual(lzwDecompress(c), text);
  });
  it("long inputs crossing the 4095 dictionary reset several times", () => {
    for (const input of [randomBytes(1, 50_000), randomBytes(2, 200_000, 3), zeros(300_000)]) {
      assert.deepEqual(lzwDecompress(lzwCompress(input)), input);
    }
  });
});

describe("lzwDecompress on malformed input (outcomes checked against Go's reader)", () => {
  const cases: [string, string | RegExp][] = [
    ["", /^unexpected EOF$/],
    ["00", /^unexpected EOF$/],
    ["0003", /^unexpected EOF$/],
    ["00c304", /^unexpected EOF$/], // "a" without its EOF code
    ["61040a04", /^unexpected EOF$/],
    ["005902", /^lzw: invalid code$/], // clear, then 300 > next code
    ["c3030c02", /^lzw: invalid code$/],
    ["000302ffff", ""], // bytes after EOF are ignored
    ["610202", "61"], // no leading clear code is fine
    ["61040604", "616161"], // "a", code == hi (KwKwK), EOF
  ];
  for (const [input, want] of cases) {
    it(`${input || "(empty)"} → ${want}`, () => {
      if (typeof want === "string") {
        assert.equal(hex(lzwDecompress(unhex(input))), want);
      } else {
        assert.throws(() => lzwDecompress(unhex(input)), (e: unknown) => e instanceof LzwError && want.test(e.message));
      }
    });
  }
  it("a truncated real stream fails instead of returning partial data", () => {
    const c = lzwCompress(randomBytes(3, 5000));
    for (const cut of [1, 2, 100, c.length - 1]) {
      assert.throws(() => lzwDecompress(c.subarray(0, cut)), /unexpected EOF/);
    }
  });
  it("random garbage never hangs and either fails cleanly or decodes", () => {
    const r = seeded(99);
    for (let i = 0; i < 300; i++) {
      const junk = Uint8Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256));
      try {
        lzwDecompress(junk, 1 << 16);
      } catch (e) {
        assert.ok(e instanceof LzwError, String(e));
      }
    }
  });
});

describe("lzwDecompress bomb guard", () => {
  const bomb = lzwCompress(zeros(1 << 20));
  it("compresses 1 MiB of zeros to a few KB", () => assert.ok(bomb.length < 4096, `${bomb.length}`));
  it("stops once output would exceed maxOutput", () => {
    assert.throws(
      () => lzwDecompress(bomb, 64 * 1024),
      (e: unknown) => e instanceof LzwError && /exceeds limit/.test(e.message),
    );
  });
  it("allows output of exactly maxOutput", () => {
    assert.equal(lzwDecompress(bomb, 1 << 20).length, 1 << 20);
    assert.throws(() => lzwDecompress(bomb, (1 << 20) - 1), /exceeds limit/);
  });
  it("defaults to a 64 MiB limit", () => {
    assert.equal(lzwDecompress(bomb).length, 1 << 20);
  });
});
