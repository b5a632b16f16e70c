import type { Profile } from '../../shared/profile.ts';
import { keepStoredSecrets } from './secrets.ts';
import type { ProfileRepository } from './service.ts';

/**
 * Profiles held in memory: the headless dashboard's repository, seeded from
 * --config or --demo. Nothing is persisted, so there is nothing to encrypt;
 * secrets are still never handed out except to the engine (ControlService
 * redacts everything it returns).
 */
export class MemoryProfileRepository implements ProfileRepository {
  readonly #profiles = new Map<string, Profile>();

  constructor(profiles: readonly Profile[] = []) {
    for (const p of profiles) this.#profiles.set(p.id, structuredClone(p));
  }

  async list(): Promise<Profile[]> {
    return [...this.#profiles.values()].map((p) => structuredClone(p));
  }

  async get(id: string): Promise<Profile | undefined> {
    const p = this.#profiles.get(id);
    return p ? structuredClone(p) : undefined;
  }

  async save(input: Profile): Promise<Profile> {
    const merged = keepStoredSecrets(structuredClone(input), this.#profiles.get(input.id));
    this.#profiles.set(merged.id, merged);
    return structuredClone(merged);
  }

  async delete(id: string): Promise<void> {
    this.#profiles.delete(id);
  }
}
