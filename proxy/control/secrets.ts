import type { HeaderSetting, Profile } from '../../shared/profile.ts';

/**
 * The renderer never sees secret header values, so a profile it sends back carries
 * secret headers without a value, meaning "keep what is stored". These helpers
 * turn such a profile back into a complete one, for every repository alike.
 */

/**
 * Fills each header that arrives without a value from the stored profile's header
 * of the same name (names compare case-insensitively, as HTTP does), and drops the
 * view-only `valueSet` flag. A header with no stored value stays without one; the
 * tunnel refuses to start with SECRET_MISSING until someone enters it.
 */
export function keepStoredSecrets(input: Profile, stored: Profile | undefined): Profile {
  const previous = new Map<string, HeaderSetting>();
  for (const h of stored?.headers ?? []) previous.set(h.name.toLowerCase(), h);
  return {
    ...input,
    headers: input.headers.map((h) => {
      const value = h.value ?? previous.get(h.name.toLowerCase())?.value;
      const header: HeaderSetting = { name: h.name, secret: h.secret };
      if (value !== undefined) header.value = value;
      return header;
    }),
  };
}

/** True when any header is marked secret and carries a value to protect. */
export function hasSecretValues(profile: Pick<Profile, 'headers'>): boolean {
  return profile.headers.some((h) => h.secret && h.value !== undefined && h.value !== '');
}
