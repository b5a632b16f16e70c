import { ShimError } from '../../shared/errors.ts';
import { describeIssues, profileSchema, type HeaderSetting, type Profile } from '../../shared/profile.ts';
import type { ProfileRepository } from '../../proxy/control/service.ts';
import { keepStoredSecrets } from '../../proxy/control/secrets.ts';
import type { Encryptor, KeyValueBacking } from './backing.ts';
import { PROFILES_KEY, SETTINGS_KEY, migrate, type Migration, type MigrationReport } from './migrations.ts';

/**
 * The desktop app's profiles: migrated on open, validated on load, secret header
 * values encrypted at rest with the OS keychain (safeStorage) and decrypted only
 * into memory for the engine. Nothing here logs a header value; log lines name the
 * header and the profile, never what it holds.
 */

/** Headers as written to disk: a secret's value only ever as ciphertext. */
type StoredHeader =
  | { name: string; secret: false; value?: string }
  | { name: string; secret: true; encrypted?: string };

type StoredProfile = Omit<Profile, 'headers'> & { headers: StoredHeader[] };

interface Entry {
  profile: Profile;
  stored: unknown;
}

export const QUARANTINE_KEY = 'unreadableProfiles';

export interface AppSettings {
  /** The "still running in the tray" notice was shown once already. */
  trayHintShown: boolean;
}

const DEFAULT_SETTINGS: AppSettings = { trayHintShown: false };

export type StoreLog = (level: 'info' | 'warn', message: string) => void;

export interface ProfileStoreOptions {
  backing: KeyValueBacking;
  encryptor: Encryptor;
  log?: StoreLog;
  migrations?: readonly Migration[];
}

export class ProfileStore implements ProfileRepository {
  readonly #backing: KeyValueBacking;
  readonly #encryptor: Encryptor;
  readonly #log: StoreLog;
  /**
   * Decrypted profiles beside what is on disk for each, in display order; a save
   * encrypts only the profile it changes. The app is single-instance, so this is
   * the only writer.
   */
  #entries: Entry[] = [];
  readonly migration: MigrationReport;

  constructor(options: ProfileStoreOptions) {
    this.#backing = options.backing;
    this.#encryptor = options.encryptor;
    this.#log = options.log ?? (() => undefined);
    this.migration = migrate(this.#backing, options.migrations);
    for (const description of this.migration.applied) this.#log('info', `Profile store: ${description}`);
    this.#load();
  }

  /** Whether secret values can be saved here (the renderer shows it in app:info). */
  get secretStorage(): boolean {
    return this.#encryptor.isEncryptionAvailable();
  }

  async list(): Promise<Profile[]> {
    return this.#entries.map((e) => structuredClone(e.profile));
  }

  async get(id: string): Promise<Profile | undefined> {
    const e = this.#entries.find((x) => x.profile.id === id);
    return e ? structuredClone(e.profile) : undefined;
  }

  async save(input: Profile): Promise<Profile> {
    const index = this.#entries.findIndex((e) => e.profile.id === input.id);
    const profile = keepStoredSecrets(structuredClone(input), index >= 0 ? this.#entries[index].profile : undefined);
    // Encrypt before touching anything, so a refusal leaves the store as it was.
    const entry = { profile, stored: this.#toStored(profile) };
    const next = [...this.#entries];
    if (index >= 0) next[index] = entry;
    else next.push(entry);
    this.#write(next);
    return structuredClone(profile);
  }

  async delete(id: string): Promise<void> {
    const next = this.#entries.filter((e) => e.profile.id !== id);
    if (next.length !== this.#entries.length) this.#write(next);
  }

  #write(next: Entry[]): void {
    this.#backing.set(PROFILES_KEY, next.map((e) => e.stored));
    this.#entries = next;
  }

  settings(): AppSettings {
    const raw = this.#backing.get(SETTINGS_KEY);
    return { ...DEFAULT_SETTINGS, ...(isRecord(raw) ? (raw as Partial<AppSettings>) : {}) };
  }

  updateSettings(patch: Partial<AppSettings>): AppSettings {
    const next = { ...this.settings(), ...patch };
    this.#backing.set(SETTINGS_KEY, next);
    return next;
  }

  #load(): void {
    const raw = this.#backing.get(PROFILES_KEY);
    const stored = Array.isArray(raw) ? raw : [];
    const good: Entry[] = [];
    const bad: unknown[] = [];
    for (const entry of stored) {
      const profile = this.#fromStored(entry);
      if (profile) good.push({ profile, stored: entry });
      else bad.push(entry);
    }
    if (bad.length > 0) {
      // Kept aside rather than deleted: a later version, or a person, may still recover them.
      const previous = this.#backing.get(QUARANTINE_KEY);
      this.#backing.set(QUARANTINE_KEY, [...(Array.isArray(previous) ? previous : []), ...bad]);
      this.#backing.set(PROFILES_KEY, good.map((e) => e.stored));
    }
    this.#entries = good;
  }

  #fromStored(entry: unknown): Profile | null {
    const label = isRecord(entry) && typeof entry.id === 'string' ? `"${entry.id}"` : '(without an id)';
    if (!isRecord(entry) || !Array.isArray(entry.headers)) {
      this.#log('warn', `Profile store: profile ${label} is unreadable and was set aside`);
      return null;
    }
    const name = typeof entry.name === 'string' ? entry.name : label;
    const headers = entry.headers.map((h: unknown) => this.#headerFromStored(h, name));
    const parsed = profileSchema.safeParse({ ...entry, headers });
    if (!parsed.success) {
      this.#log('warn', `Profile store: profile ${label} is not valid (${describeIssues(parsed.error)}) and was set aside`);
      return null;
    }
    return parsed.data;
  }

  #headerFromStored(h: unknown, profileName: string): unknown {
    if (!isRecord(h) || h.secret !== true) return h;
    const header: HeaderSetting = { name: String(h.name), secret: true };
    if (typeof h.encrypted !== 'string') return header;
    if (!this.#encryptor.isEncryptionAvailable()) {
      this.#log('warn', `Profile store: the value of header ${header.name} in profile ${profileName} is encrypted, but the system keychain is not available; enter it again or unlock the keychain`);
      return header;
    }
    try {
      header.value = this.#encryptor.decryptString(Buffer.from(h.encrypted, 'base64'));
    } catch {
      // Saved by another user or on another computer, or the keychain was reset.
      this.#log('warn', `Profile store: the value of header ${header.name} in profile ${profileName} could not be decrypted; enter it again`);
    }
    return header;
  }

  #toStored(profile: Profile): StoredProfile {
    return {
      ...profile,
      headers: profile.headers.map((h): StoredHeader => {
        if (!h.secret) return h.value === undefined ? { name: h.name, secret: false } : { name: h.name, secret: false, value: h.value };
        if (h.value === undefined) return { name: h.name, secret: true };
        if (!this.#encryptor.isEncryptionAvailable()) {
          throw new ShimError(
            'SECRETS_UNAVAILABLE',
            `The value of header ${h.name} cannot be stored encrypted: this system offers no keychain (on Linux, install and unlock GNOME Keyring or KWallet). Untick "secret" to store it in plain text`,
          );
        }
        return { name: h.name, secret: true, encrypted: this.#encryptor.encryptString(h.value).toString('base64') };
      }),
    };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
