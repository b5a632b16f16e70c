import { describe, expect, it } from 'vitest';
import { ApiKey } from './api-keys.ts';
import { ApiStatsCollector } from './api-stats.ts';

describe('ApiStatsCollector', () => {
  it('counts requests, responses, errors, local answers and bytes per API', () => {
    const c = new ApiStatsCollector();
    c.request(ApiKey.Metadata, 30, { expectsResponse: true });
    c.request(ApiKey.Metadata, 30, { expectsResponse: true });
    c.request(ApiKey.Produce, 500, { expectsResponse: false });
    expect(c.inFlight).toBe(2);
    c.response(ApiKey.Metadata, { bytes: 100, latencyMs: 4, error: false, local: false });
    c.response(ApiKey.Metadata, { bytes: 120, latencyMs: 6, error: true, local: true });
    expect(c.inFlight).toBe(0);
    const [produce, metadata] = c.snapshot();
    expect(produce).toMatchObject({ apiKey: 0, name: 'Produce', requests: 1, responses: 0, requestBytes: 500 });
    expect(metadata).toMatchObject({
      apiKey: 3,
      name: 'Metadata',
      requests: 2,
      responses: 2,
      errors: 1,
      local: 1,
      requestBytes: 60,
      responseBytes: 220,
      latencyMs: { p50: 4, p95: 6, p99: 6, max: 6 },
    });
  });

  it('computes nearest-rank percentiles', () => {
    const c = new ApiStatsCollector();
    for (let ms = 100; ms >= 1; ms--) c.response(ApiKey.Fetch, { bytes: 1, latencyMs: ms, error: false, local: false });
    expect(c.snapshot()[0].latencyMs).toEqual({ p50: 50, p95: 95, p99: 99, max: 100 });
  });

  it('keeps only the most recent latency samples', () => {
    const c = new ApiStatsCollector({ latencySamples: 10 });
    for (let i = 0; i < 10; i++) c.response(ApiKey.Fetch, { bytes: 1, latencyMs: 1000, error: false, local: false });
    for (let i = 0; i < 10; i++) c.response(ApiKey.Fetch, { bytes: 1, latencyMs: 2, error: false, local: false });
    expect(c.snapshot()[0].latencyMs).toEqual({ p50: 2, p95: 2, p99: 2, max: 2 });
    expect(c.snapshot()[0].responses).toBe(20);
  });

  it('reports zero latency before any response, and forgets abandoned requests', () => {
    const c = new ApiStatsCollector();
    c.request(ApiKey.Fetch, 10, { expectsResponse: true });
    expect(c.snapshot()[0].latencyMs).toEqual({ p50: 0, p95: 0, p99: 0, max: 0 });
    c.abandon(5);
    expect(c.inFlight).toBe(0);
    c.unmatched();
    expect(c.unmatchedResponses).toBe(1);
  });
});
