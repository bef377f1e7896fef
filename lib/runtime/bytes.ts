/**
 * Turning received buffers into bytes the callee may keep.
 *
 * @module
 */

/**
 * A plain `Uint8Array` holding exactly `view`'s bytes that nobody else will
 * reuse: zero-copy when `view` already spans its whole buffer (a fresh
 * allocation), a copy otherwise (Deno hands out views over 64 KiB buffers).
 * Never a `Buffer`, whose `slice` would alias instead of copy.
 */
export function ownBytes(view: Uint8Array): Uint8Array {
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) {
    return view.constructor === Uint8Array ? view : new Uint8Array(view.buffer, 0, view.byteLength);
  }
  return new Uint8Array(view);
}

/** Strips the `::ffff:` prefix of an IPv4-mapped IPv6 address (Go prints the IPv4 form). */
export function plainIp(address: string | undefined): string {
  if (!address) return "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
