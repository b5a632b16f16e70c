import { describe, expect, it } from 'vitest';
import { ApiKey } from './api-keys.ts';
import { clampApiVersions, LEGACY_API_VERSIONS, LegacyTable, localApiVersions } from './legacy-table.ts';

describe('clampApiVersions', () => {
  it('lowers the versions we rewrite, drops what we cannot parse at all, keeps the rest', () => {
    const entries = [
      { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 11 },
      { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 13 },
      { apiKey: ApiKey.FindCoordinator, minVersion: 0, maxVersion: 6 },
      { apiKey: ApiKey.DescribeCluster, minVersion: 2, maxVersion: 3 },
      { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 5 },
    ];
    expect(clampApiVersions(entries)).toEqual([
      { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 11 },
      { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12 },
      { apiKey: ApiKey.FindCoordinator, minVersion: 0, maxVersion: 6 },
      { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 4 },
    ]);
  });

  it('returns the very same array when nothing changes', () => {
    const entries = [{ apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12 }];
    expect(clampApiVersions(entries)).toBe(entries);
  });
});

describe('localApiVersions', () => {
  it('lists the 0.8 table plus ApiVersions, which the tunnel answers', () => {
    expect(localApiVersions().map((e) => [e.apiKey, e.minVersion, e.maxVersion])).toEqual([
      [ApiKey.Produce, 0, 0],
      [ApiKey.Fetch, 0, 0],
      [ApiKey.ListOffsets, 0, 0],
      [ApiKey.Metadata, 0, 0],
      [ApiKey.ApiVersions, 0, 4],
    ]);
  });

  it('takes a profile table as given, clamped', () => {
    const table = [
      { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 20 },
      { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 2 },
    ];
    expect(localApiVersions(table)).toEqual([
      { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12 },
      { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 2 },
    ]);
  });
});

describe('LegacyTable', () => {
  it('knows what a 0.8 broker answers', () => {
    const t = new LegacyTable(LEGACY_API_VERSIONS);
    expect(t.supports(ApiKey.Produce, 0)).toBe(true);
    expect(t.supports(ApiKey.Produce, 1)).toBe(false);
    expect(t.supports(ApiKey.FindCoordinator, 0)).toBe(false);
    expect(t.supports(ApiKey.ApiVersions, 3)).toBe(true);
  });
});
