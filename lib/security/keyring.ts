/**
 * memberlist's keyring (`keyring.go`): an ordered set of AES keys where
 * index 0 is the primary key (used to encrypt, tried first to decrypt).
 * Error texts are memberlist's.
 *
 * @module
 */

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * An ordered list of 16-, 24- or 32-byte keys, primary first.
 *
 * @example
 * ```ts
 * const ring = new Keyring([oldKey, newKey], newKey);
 * ring.useKey(oldKey);
 * ring.getPrimaryKey(); // oldKey
 * ```
 */
export class Keyring {
  #keys: Uint8Array[] = [];

  /**
   * Installs `primary` first, then `keys` (duplicates ignored). Omitting
   * `primary` makes `keys[0]` primary; no keys at all gives an empty ring.
   *
   * @throws {Error} `Empty primary key not allowed` for an empty `primary`,
   *   or {@link Keyring.validateKey}'s error for a bad key.
   */
  constructor(keys: Uint8Array[], primary?: Uint8Array) {
    const first = primary ?? keys[0];
    if (keys.length === 0 && (first === undefined || first.length === 0)) return;
    if (first === undefined || first.length === 0) throw new Error("Empty primary key not allowed");
    this.addKey(first);
    for (const k of keys) this.addKey(k);
  }

  /**
   * Checks a key's length (AES-128, -192 or -256).
   *
   * @throws {Error} `key size must be 16, 24 or 32 bytes`.
   */
  static validateKey(key: Uint8Array): void {
    const n = key.length;
    if (n !== 16 && n !== 24 && n !== 32) throw new Error("key size must be 16, 24 or 32 bytes");
  }

  /** Adds a key for decryption; a no-op if present; the first key becomes primary. */
  addKey(key: Uint8Array): void {
    Keyring.validateKey(key);
    if (this.#indexOf(key) >= 0) return;
    this.#keys.push(key.slice());
  }

  /**
   * Makes an installed key the primary (encrypting) key.
   *
   * @throws {Error} `Requested key is not in the keyring`.
   */
  useKey(key: Uint8Array): void {
    const i = this.#indexOf(key);
    if (i < 0) throw new Error("Requested key is not in the keyring");
    const [k] = this.#keys.splice(i, 1);
    this.#keys.unshift(k);
  }

  /**
   * Removes a key; absent keys are ignored.
   *
   * @throws {Error} `Removing the primary key is not allowed`.
   */
  removeKey(key: Uint8Array): void {
    const i = this.#indexOf(key);
    if (this.#keys.length > 0 && sameKey(key, this.#keys[0])) {
      throw new Error("Removing the primary key is not allowed");
    }
    if (i > 0) this.#keys.splice(i, 1);
  }

  /** The installed keys, primary first (a fresh array; do not mutate the keys). */
  getKeys(): Uint8Array[] {
    return this.#keys.slice();
  }

  /** The primary key, or undefined for an empty keyring. */
  getPrimaryKey(): Uint8Array | undefined {
    return this.#keys[0];
  }

  /** Number of installed keys. */
  get size(): number {
    return this.#keys.length;
  }

  #indexOf(key: Uint8Array): number {
    return this.#keys.findIndex((k) => sameKey(k, key));
  }
}
