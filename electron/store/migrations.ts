import { ShimError } from '../../shared/errors.ts';
import { profileSchema, type ProfileInput } from '../../shared/profile.ts';
import type { KeyValueBacking } from './backing.ts';

/**
 * Versioned changes to what is on disk. Each migration runs once, in order, and the
 * version is written after each one succeeds, so a crash part-way resumes where it
 * stopped. New fields with defaults need no migration: every stored profile is
 * parsed with profileSchema on load, which fills them in. A migration is for a
 * change in shape or meaning, and the version says which ones a file has seen.
 */

export const VERSION_KEY = 'schemaVersion';
export const PROFILES_KEY = 'profiles';
export const SETTINGS_KEY = 'settings';

export interface Migration {
  version: number;
  /** Why it exists, for the log line when it runs. */
  description: string;
  up(backing: KeyValueBacking): void;
}

export const DEMO_PROFILE: ProfileInput = {
  id: 'demo',
  name: 'Demo broker (built-in)',
  // Ignored while demoBroker is on; untick it and this is where `wrangler dev`
  // serves kafka-worker, the broker this app was made for.
  broker: 'localhost:8787',
  demoBroker: true,
  listenPort: 9092,
};

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'First run: add the "Demo broker (built-in)" profile so there is something to start',
    up(backing) {
      if (backing.get(PROFILES_KEY) === undefined) backing.set(PROFILES_KEY, [profileSchema.parse(DEMO_PROFILE)]);
    },
  },
];

export interface MigrationReport {
  from: number;
  to: number;
  applied: string[];
}

export function migrate(backing: KeyValueBacking, migrations: readonly Migration[] = MIGRATIONS): MigrationReport {
  const stored = backing.get(VERSION_KEY);
  const from = typeof stored === 'number' && Number.isInteger(stored) && stored >= 0 ? stored : 0;
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (from > latest) {
    // Writing with an older layout could destroy what the newer version saved.
    throw new ShimError(
      'STORE_TOO_NEW',
      `Your profiles were saved by a newer version of this app (store version ${from}, this one knows up to ${latest}); install the newer version to use them`,
    );
  }
  const applied: string[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= from) continue;
    m.up(backing);
    backing.set(VERSION_KEY, m.version);
    applied.push(m.description);
  }
  return { from, to: Math.max(from, latest), applied };
}
