import { join } from 'node:path';
import { app, safeStorage } from 'electron';
import Store from 'electron-store';
import { ShimError } from '../../shared/errors.ts';
import type { Encryptor, KeyValueBacking } from './backing.ts';

/**
 * The app's side of the store seams: electron-store for the JSON document and
 * safeStorage (the OS keychain) for secrets. Kept this thin because it cannot run
 * under plain Node; everything with logic lives in profile-store.ts.
 */

export function electronStoreBacking(): KeyValueBacking {
  // A corrupt file must stop the app with an error rather than quietly reset
  // every profile to nothing (electron-store's default).
  let store: Store<Record<string, unknown>>;
  try {
    store = new Store<Record<string, unknown>>({ name: 'profiles', clearInvalidConfig: false });
  } catch (err) {
    const file = join(app.getPath('userData'), 'profiles.json');
    throw new ShimError('STORE_UNREADABLE', `Your profiles file ${file} is damaged and could not be read (${(err as Error).message}). Move it elsewhere to start with a fresh one`, {
      cause: err,
    });
  }
  return {
    get: (key) => store.get(key),
    set: (key, value) => store.set(key, value),
    delete: (key) => store.delete(key),
  };
}

/**
 * safeStorage, except that Linux's "basic_text" backend counts as unavailable: it
 * encrypts with a key written in Chromium's source, which protects nothing.
 * (The sync calls are deprecated in favour of async ones but still supported;
 * the store reads once at start-up and writes on a click, so blocking is brief.)
 */
export function safeStorageEncryptor(platform: NodeJS.Platform = process.platform): Encryptor {
  return {
    isEncryptionAvailable: () =>
      safeStorage.isEncryptionAvailable() && (platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text'),
    encryptString: (plain) => safeStorage.encryptString(plain),
    decryptString: (data) => safeStorage.decryptString(data),
  };
}
