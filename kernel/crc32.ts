// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, the zlib/PNG checksum) over bytes, for
// records kept in flash: it catches a torn write (a page cut short or half old, half new) and
// any burst of up to 32 flipped bits. Computed a nibble at a time from a 16-entry table, so no
// 1 KB table sits in RAM and the frozen constant can stay in flash on a preloaded module.

const NIBBLE_TABLE: readonly number[] = Object.freeze([
  0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c, 0xedb88320,
  0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
]);

/**
 * The CRC-32 of bytes[start..end) (the whole array by default), as an unsigned 32-bit number.
 * `previous`, the CRC of the bytes before, continues it: crc32(b, 4, 8, crc32(b, 0, 4)) equals
 * crc32(b, 0, 8).
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, previous = 0): number {
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]!;
    crc = (crc >>> 4) ^ NIBBLE_TABLE[crc & 0x0f]!;
    crc = (crc >>> 4) ^ NIBBLE_TABLE[crc & 0x0f]!;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
