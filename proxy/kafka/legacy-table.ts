import type { ApiVersionRange } from '../../shared/profile.ts';
import { ApiKey } from './api-keys.ts';
import { API_VERSIONS_RESPONSE_MAX_VERSION, type ApiVersionEntry } from './api-versions-response.ts';
import { DESCRIBE_CLUSTER_RESPONSE_MAX_VERSION } from './describe-cluster-response.ts';
import { FIND_COORDINATOR_RESPONSE_MAX_VERSION } from './find-coordinator-response.ts';
import { METADATA_RESPONSE_MAX_VERSION } from './metadata-response.ts';

/**
 * What a 0.8-era broker answers (kafka-worker: Produce, Fetch, ListOffsets and
 * Metadata, all v0). Used for our own ApiVersions answer and to refuse, early
 * and loudly, requests such a broker would silently ignore.
 */
export const LEGACY_API_VERSIONS: readonly ApiVersionRange[] = Object.freeze([
  { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 0 },
  { apiKey: ApiKey.Fetch, minVersion: 0, maxVersion: 0 },
  { apiKey: ApiKey.ListOffsets, minVersion: 0, maxVersion: 0 },
  { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 0 },
]);

/**
 * The highest version of each API whose responses the session must parse: the
 * address rewriter's messages, and ApiVersions itself (we answer it). An
 * ApiVersions answer reaching a client never advertises more, so a newer broker
 * cannot make the rewriter meet a version it does not know.
 */
export const PARSED_MAX_VERSIONS: ReadonlyMap<number, number> = new Map([
  [ApiKey.Metadata, METADATA_RESPONSE_MAX_VERSION],
  [ApiKey.FindCoordinator, FIND_COORDINATOR_RESPONSE_MAX_VERSION],
  [ApiKey.DescribeCluster, DESCRIBE_CLUSTER_RESPONSE_MAX_VERSION],
  [ApiKey.ApiVersions, API_VERSIONS_RESPONSE_MAX_VERSION],
]);

/**
 * Lowers max versions to what we parse. An entry whose min version is already
 * above what we parse is dropped: the client then treats the API as missing,
 * which fails clearly, where advertising it would let the rewriter meet an
 * unknown version and hand the client the broker's unreachable address.
 * Returns the same array when nothing changed, so callers can skip re-encoding.
 */
export function clampApiVersions<T extends ApiVersionEntry>(entries: T[]): T[] {
  let changed = false;
  const out: T[] = [];
  for (const e of entries) {
    const max = PARSED_MAX_VERSIONS.get(e.apiKey);
    if (max === undefined || e.maxVersion <= max) {
      out.push(e);
    } else if (e.minVersion <= max) {
      out.push({ ...e, maxVersion: max });
      changed = true;
    } else {
      changed = true;
    }
  }
  return changed ? out : entries;
}

/**
 * The ranges our own ApiVersions answer lists: the profile's table (or the 0.8
 * table), plus ApiVersions v0–v4 unless the table names it, because the tunnel
 * does answer ApiVersions itself. Clamped like any answer.
 */
export function localApiVersions(table: readonly ApiVersionRange[] = LEGACY_API_VERSIONS): ApiVersionEntry[] {
  const entries: ApiVersionEntry[] = table.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }));
  if (!entries.some((e) => e.apiKey === ApiKey.ApiVersions)) {
    entries.push({ apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: API_VERSIONS_RESPONSE_MAX_VERSION });
  }
  return clampApiVersions(entries);
}

/** Looks up whether a legacy broker answers (apiKey, version); ApiVersions is always answered (by us). */
export class LegacyTable {
  readonly #ranges = new Map<number, { min: number; max: number }>();

  constructor(table: readonly ApiVersionRange[] = LEGACY_API_VERSIONS) {
    for (const r of table) this.#ranges.set(r.apiKey, { min: r.minVersion, max: r.maxVersion });
  }

  supports(apiKey: number, apiVersion: number): boolean {
    if (apiKey === ApiKey.ApiVersions) return true;
    const range = this.#ranges.get(apiKey);
    return range !== undefined && apiVersion >= range.min && apiVersion <= range.max;
  }
}
