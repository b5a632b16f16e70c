import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { headersMissingValues, profileSchema, redactProfile, type ProfileInput } from '../../shared/profile.ts';
import { MemoryBacking, type Encryptor, type KeyValueBacking } from './backing.ts';
import { DEMO_PROFILE, MIGRATIONS, PROFILES_KEY, VERSION_KEY, migrate, type Migration } from './migrations.ts';
import { ProfileStore, QUARANTINE_KEY } from './profile-store.ts';

/** A JSON file, as electron-store keeps it: what is on disk is what a person could read. */
class JsonFileBacking implements KeyValueBacking {
  constructor(readonly path: string) {}
  #read(): Record<string, unknown> {
    return existsSync(this.path) ? JSON.parse(readFileSync(this.path, 'utf8')) : {};
  }
  get(key: string): unknown {
    return this.#read()[key];
  }
  set(key: string, value: unknown): void {
    writeFileSync(this.path, JSON.stringify({ ...this.#read(), [key]: value }));
  }
  delete(key: string): void {
    const data = this.#read();
    delete data[key];
    writeFileSync(this.path, JSON.stringify(data));
  }
}

/** Reversible but unreadable, bound to a "keychain" so another machine cannot decrypt. */
function fakeEncryptor(options: { available?: boolean; key?: number } = {}): Encryptor & { calls: number } {
  const key = options.key ?? 0x5a;
  const enc = {
    calls: 0,
    isEncryptionAvailable: () => options.available ?? true,
    encryptString(plain: string) {
      enc.calls++;
      return Buffer.concat([Buffer.from([key]), Buffer.from(plain, 'utf8').map((b) => b ^ key)]);
    },
    decryptString(data: Buffer) {
      if (data[0] !== key) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return Buffer.from(data.subarray(1).map((b) => b ^ key)).toString('utf8');
    },
  };
  return enc;
}

const SECRET = 'Bearer very-secret-token';
const input = (overrides: Partial<ProfileInput> = {}) =>
  profileSchema.parse({ id: 'prod', name: 'Prod', broker: 'b.example:443', tls: true, ...overrides });
const withSecret = () =>
  input({ headers: [{ name: 'Authorization', value: SECRET, secret: true }, { name: 'X-Team', value: 'blue' }] });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'profile-store-'));
  dirs.push(dir);
  return join(dir, 'config.json');
}

describe('migrations', () => {
  it('seeds the demo broker profile on first run, once', async () => {
    const backing = new MemoryBacking();
    const store = new ProfileStore({ backing, encryptor: fakeEncryptor() });
    expect(store.migration).toMatchObject({ from: 0, to: 1 });
    expect(await store.list()).toEqual([profileSchema.parse(DEMO_PROFILE)]);
    expect((await store.list())[0]).toMatchObject({ name: 'Demo broker (built-in)', demoBroker: true, listenPort: 9092 });

    await store.delete('demo');
    const reopened = new ProfileStore({ backing, encryptor: fakeEncryptor() });
    expect(reopened.migration.applied).toEqual([]);
    expect(await reopened.list()).toEqual([]);
  });

  it('runs pending migrations in order from the stored version and records each', () => {
    const backing = new MemoryBacking();
    backing.set(VERSION_KEY, 1);
    const ran: number[] = [];
    const steps: Migration[] = [3, 2, 1].map((version) => ({
      version,
      description: `step ${version}`,
      up: () => void ran.push(version),
    }));
    expect(migrate(backing, steps)).toEqual({ from: 1, to: 3, applied: ['step 2', 'step 3'] });
    expect(ran).toEqual([2, 3]);
    expect(backing.get(VERSION_KEY)).toBe(3);
  });

  it('keeps the version of the last migration that succeeded, so a failed one runs again next time', () => {
    const backing = new MemoryBacking();
    const steps: Migration[] = [
      { version: 1, description: 'one', up: () => undefined },
      { version: 2, description: 'two', up: () => { throw new Error('disk full'); } },
    ];
    expect(() => migrate(backing, steps)).toThrow('disk full');
    expect(backing.get(VERSION_KEY)).toBe(1);
  });

  it('refuses a store written by a newer version instead of overwriting it', () => {
    const backing = new MemoryBacking();
    backing.set(VERSION_KEY, MIGRATIONS.length + 5);
    backing.set(PROFILES_KEY, [{ id: 'future', shape: 'unknown' }]);
    expect(() => new ProfileStore({ backing, encryptor: fakeEncryptor() })).toThrow(expect.objectContaining({ code: 'STORE_TOO_NEW' }));
    expect(backing.get(PROFILES_KEY)).toEqual([{ id: 'future', shape: 'unknown' }]);
  });

  it('fills in defaults for settings a stored profile predates', async () => {
    const backing = new MemoryBacking();
    backing.set(VERSION_KEY, 1);
    backing.set(PROFILES_KEY, [{ id: 'old', name: 'Old', broker: 'h:1', headers: [] }]);
    const [p] = await new ProfileStore({ backing, encryptor: fakeEncryptor() }).list();
    expect(p).toMatchObject({ id: 'old', listenHost: '127.0.0.1', listenPort: 9092, keepaliveMs: 30_000, compatibility: 'auto' });
  });

  it('sets an unreadable profile aside, says so without values, and loads the rest', async () => {
    const backing = new MemoryBacking();
    const logs: string[] = [];
    backing.set(VERSION_KEY, 1);
    const broken = { id: 'broken', name: 'Broken', broker: 'not a broker', headers: [{ name: 'X', value: 'plain-value', secret: false }] };
    backing.set(PROFILES_KEY, [broken, input({ id: 'ok' }), 'junk']);
    const store = new ProfileStore({ backing, encryptor: fakeEncryptor(), log: (_l, m) => logs.push(m) });
    expect((await store.list()).map((p) => p.id)).toEqual(['ok']);
    expect(backing.get(QUARANTINE_KEY)).toEqual([broken, 'junk']);
    expect(logs.join('\n')).toMatch(/profile "broken" is not valid \(broker: .*\) and was set aside/);
    expect(logs.join('\n')).not.toContain('plain-value');
  });
});

describe('secrets', () => {
  it('writes a secret header value only as ciphertext, and decrypts it on the next start', async () => {
    const file = tempFile();
    const logs: string[] = [];
    const store = new ProfileStore({ backing: new JsonFileBacking(file), encryptor: fakeEncryptor(), log: (_l, m) => logs.push(m) });
    const saved = await store.save(withSecret());
    expect(saved.headers[0].value).toBe(SECRET);
    const onDisk = readFileSync(file, 'utf8');
    expect(onDisk).not.toContain('very-secret-token');
    expect(onDisk).toContain('"value":"blue"');
    const stored = (JSON.parse(onDisk)[PROFILES_KEY] as { id: string; headers: unknown[] }[]).find((p) => p.id === 'prod');
    expect(stored?.headers[0]).toEqual({ name: 'Authorization', secret: true, encrypted: expect.any(String) });

    const reopened = new ProfileStore({ backing: new JsonFileBacking(file), encryptor: fakeEncryptor() });
    expect((await reopened.get('prod'))?.headers[0].value).toBe(SECRET);
    expect(logs.join('\n')).not.toContain('secret-token');
  });

  it('keeps the stored secret when the dashboard sends the header back redacted, and replaces it when given a new one', async () => {
    const enc = fakeEncryptor();
    const store = new ProfileStore({ backing: new MemoryBacking(), encryptor: enc });
    await store.save(withSecret());
    const redacted = redactProfile((await store.get('prod'))!);
    expect(JSON.stringify(redacted)).not.toContain('secret-token');
    const callsBefore = enc.calls;
    await store.save(profileSchema.parse({ ...redacted, name: 'Production' }));
    expect(await store.get('prod')).toMatchObject({ name: 'Production', headers: [{ name: 'Authorization', value: SECRET }, { value: 'blue' }] });
    // Only the changed profile is encrypted again.
    expect(enc.calls).toBe(callsBefore + 1);
    await store.save(profileSchema.parse({ ...redacted, headers: [{ name: 'Authorization', value: 'new-token', secret: true }] }));
    expect((await store.get('prod'))?.headers).toEqual([{ name: 'Authorization', value: 'new-token', secret: true }]);
  });

  it('refuses to store a secret in clear when there is no keychain, and changes nothing', async () => {
    const backing = new MemoryBacking();
    const store = new ProfileStore({ backing, encryptor: fakeEncryptor({ available: false }) });
    expect(store.secretStorage).toBe(false);
    const before = backing.get(PROFILES_KEY);
    await expect(store.save(withSecret())).rejects.toMatchObject({ code: 'SECRETS_UNAVAILABLE', message: expect.stringContaining('Authorization') });
    expect(backing.get(PROFILES_KEY)).toEqual(before);
    expect(await store.get('prod')).toBeUndefined();
    // Without secrets, saving works as usual.
    await store.save(input({ headers: [{ name: 'X-Team', value: 'blue' }] }));
    expect((await store.get('prod'))?.headers[0].value).toBe('blue');
  });

  it('loads a secret it cannot decrypt as missing, so the tunnel asks for it, and logs no value', async () => {
    const backing = new MemoryBacking();
    await new ProfileStore({ backing, encryptor: fakeEncryptor({ key: 1 }) }).save(withSecret());
    const logs: string[] = [];
    const elsewhere = new ProfileStore({ backing, encryptor: fakeEncryptor({ key: 2 }), log: (_l, m) => logs.push(m) });
    const p = (await elsewhere.get('prod'))!;
    expect(headersMissingValues(p)).toEqual(['Authorization']);
    expect(logs).toEqual([expect.stringContaining('header Authorization in profile Prod could not be decrypted')]);
    expect(logs.join('\n')).not.toContain('secret-token');
  });
});

describe('settings', () => {
  it('remembers the tray hint across restarts', () => {
    const backing = new MemoryBacking();
    expect(new ProfileStore({ backing, encryptor: fakeEncryptor() }).settings().trayHintShown).toBe(false);
    new ProfileStore({ backing, encryptor: fakeEncryptor() }).updateSettings({ trayHintShown: true });
    expect(new ProfileStore({ backing, encryptor: fakeEncryptor() }).settings().trayHintShown).toBe(true);
  });
});
