/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum Go's
 * `crc32.ChecksumIEEE` computes and memberlist puts in `hasCrc` packets.
 *
 * @module
 */

const TABLE = makeTable(0xedb88320);

function makeTable(poly: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
}

/**
 * Returns the IEEE CRC-32 of `data` as an unsigned 32-bit number.
 *
 * @example
 * ```ts
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
