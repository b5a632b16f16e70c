import { ShimError } from '../../shared/errors.ts';
import { PROFILES_FILE_VERSION, describeIssues, profilesFileSchema, type Profile } from '../../shared/profile.ts';
import type { ImportResult } from '../../shared/api.ts';

/**
 * Profile export and import as JSON, in the same shape as the CLI's --config file
 * ({ version, profiles }), so a file exported from the app runs headless as is.
 */

/** Larger than any real set of 256 profiles; stops a stray file from being parsed at all. */
export const MAX_IMPORT_CHARS = 5 * 1024 * 1024;

/**
 * Secret values are left out unless the person asked for them. The secret header
 * itself stays (name, secret: true, no value), so after an import the dashboard
 * shows which values to enter again.
 */
export function exportProfiles(profiles: readonly Profile[], options: { includeSecrets: boolean }): string {
  const out = profiles.map((p) => ({
    ...p,
    headers: p.headers.map((h) => (h.secret && !options.includeSecrets ? { name: h.name, secret: true } : withoutViewFlags(h))),
  }));
  return `${JSON.stringify({ version: PROFILES_FILE_VERSION, profiles: out }, null, 2)}\n`;
}

function withoutViewFlags<T extends { valueSet?: boolean }>(header: T): Omit<T, 'valueSet'> {
  const { valueSet: _ignored, ...rest } = header;
  return rest;
}

/** Validates an export file (or a bare array of profiles); throws IMPORT_FAILED with the reason. */
export function parseProfilesJson(json: string): Profile[] {
  if (json.length > MAX_IMPORT_CHARS) {
    throw new ShimError('IMPORT_FAILED', 'The file is too large to be a profile export (over 5 MB)');
  }
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new ShimError('IMPORT_FAILED', `The file is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const candidate = Array.isArray(data) ? { profiles: data } : data;
  const parsed = profilesFileSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new ShimError('IMPORT_FAILED', `The file is not a valid profile export: ${describeIssues(parsed.error)}`);
  }
  return parsed.data.profiles;
}

const ID_MAX = 64;

/**
 * Gives every incoming profile an id no existing profile uses, so an import never
 * overwrites anything: "prod" becomes "prod-2" (then "-3", ...).
 */
export function planImport(incoming: readonly Profile[], existingIds: Iterable<string>): { profiles: Profile[]; renamed: ImportResult['renamed'] } {
  const taken = new Set(existingIds);
  const renamed: ImportResult['renamed'] = [];
  const profiles = incoming.map((p) => {
    let id = p.id;
    for (let n = 2; taken.has(id); n++) {
      const suffix = `-${n}`;
      id = `${p.id.slice(0, ID_MAX - suffix.length)}${suffix}`;
    }
    taken.add(id);
    if (id !== p.id) renamed.push({ from: p.id, to: id });
    return { ...p, id };
  });
  return { profiles, renamed };
}
