/**
 * The two seams the profile store stands on. In the app they are electron-store and
 * Electron's safeStorage (electron/store/electron-backing.ts); in tests, a Map or a
 * JSON file and a fake cipher, so the store's logic runs under plain Node.
 */

/** A persistent key/value document, synchronous like electron-store. */
export interface KeyValueBacking {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  delete(key: string): void;
}

/** The subset of Electron's safeStorage the store uses. */
export interface Encryptor {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

/** A backing held in memory: the test double, and a fallback that never persists. */
export class MemoryBacking implements KeyValueBacking {
  readonly data = new Map<string, unknown>();

  get(key: string): unknown {
    // A deep copy, as a JSON file would give: callers cannot mutate what is "on disk".
    const value = this.data.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  set(key: string, value: unknown): void {
    this.data.set(key, structuredClone(value));
  }

  delete(key: string): void {
    this.data.delete(key);
  }
}
