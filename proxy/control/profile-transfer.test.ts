import { describe, expect, it } from 'vitest';
import { profileSchema } from '../../shared/profile.ts';
import { exportProfiles, parseProfilesJson, planImport } from './profile-transfer.ts';
import { keepStoredSecrets } from './secrets.ts';

const profile = (id: string, headers: { name: string; value?: string; secret?: boolean }[] = []) =>
  profileSchema.parse({ id, name: id, broker: 'b.example:443', headers });

describe('profile export and import', () => {
  it('round-trips every setting, with secret values only when asked for', () => {
    const p = profile('prod', [{ name: 'Authorization', value: 'tok', secret: true }, { name: 'X-A', value: '1' }]);
    const without = parseProfilesJson(exportProfiles([p], { includeSecrets: false }));
    expect(without[0].headers[0]).toEqual({ name: 'Authorization', secret: true });
    expect(without[0]).toEqual({ ...p, headers: [{ name: 'Authorization', secret: true }, p.headers[1]] });
    expect(parseProfilesJson(exportProfiles([p], { includeSecrets: true }))).toEqual([p]);
  });

  it('accepts a bare array, and refuses duplicates and oversized files with IMPORT_FAILED', () => {
    expect(parseProfilesJson(JSON.stringify([{ id: 'a', name: 'A', broker: 'h:1' }]))[0].listenPort).toBe(9092);
    expect(() => parseProfilesJson(JSON.stringify([profile('a'), profile('a')]))).toThrow(expect.objectContaining({ code: 'IMPORT_FAILED' }));
    expect(() => parseProfilesJson(' '.repeat(5 * 1024 * 1024 + 1))).toThrow(expect.objectContaining({ code: 'IMPORT_FAILED' }));
  });

  it('renames clashing ids within the 64-character limit', () => {
    const long = 'x'.repeat(64);
    const plan = planImport([profile('a'), profile('a'), profile(long)], ['a', 'a-2', long]);
    expect(plan.profiles.map((p) => p.id)).toEqual(['a-3', 'a-4', `${'x'.repeat(62)}-2`]);
    expect(plan.renamed).toHaveLength(3);
  });

  it('keeps stored header values for headers sent back without one, matching names case-insensitively', () => {
    const stored = profile('p', [{ name: 'Authorization', value: 'old', secret: true }]);
    const incoming = profileSchema.parse({ ...stored, headers: [{ name: 'authorization', secret: true, valueSet: true }, { name: 'X-New', secret: true }] });
    expect(keepStoredSecrets(incoming, stored).headers).toEqual([
      { name: 'authorization', value: 'old', secret: true },
      { name: 'X-New', secret: true },
    ]);
    const replaced = profileSchema.parse({ ...stored, headers: [{ name: 'Authorization', value: 'new', secret: true }] });
    expect(keepStoredSecrets(replaced, stored).headers[0].value).toBe('new');
  });
});
