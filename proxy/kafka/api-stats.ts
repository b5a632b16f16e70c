import type { ApiStats, LatencySummary } from '../../shared/stats.ts';
import { apiName } from './api-keys.ts';

/**
 * Per-API counters fed by the Kafka-aware session: one collector per tunnel and
 * one per connection, both fed the same calls. Memory is bounded whatever the
 * traffic: per API a few counters and a ring of the most recent latency samples,
 * and APIs are at most the int16 key space actually seen.
 */

/** Latency samples kept per API; percentiles describe these recent requests. */
export const DEFAULT_LATENCY_SAMPLES = 512;

export interface ResponseRecord {
  bytes: number;
  latencyMs: number;
  /** The response carried a non-zero error code. */
  error: boolean;
  /** Answered by the tunnel itself rather than the broker. */
  local: boolean;
}

class ApiEntry {
  requests = 0;
  responses = 0;
  errors = 0;
  local = 0;
  requestBytes = 0;
  responseBytes = 0;
  readonly #samples: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#samples = new Float64Array(capacity);
  }

  addLatency(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#samples.length;
    if (this.#count < this.#samples.length) this.#count++;
  }

  latency(): LatencySummary {
    if (this.#count === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
    const sorted = this.#samples.slice(0, this.#count).sort();
    // Nearest-rank percentiles: the smallest sample with at least p% of samples at or below it.
    const rank = (p: number) => sorted[Math.min(this.#count - 1, Math.max(0, Math.ceil((p / 100) * this.#count) - 1))];
    return { p50: round(rank(50)), p95: round(rank(95)), p99: round(rank(99)), max: round(sorted[this.#count - 1]) };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export class ApiStatsCollector {
  readonly #apis = new Map<number, ApiEntry>();
  readonly #capacity: number;
  #inFlight = 0;
  #unmatched = 0;

  constructor(options: { latencySamples?: number } = {}) {
    this.#capacity = Math.max(1, options.latencySamples ?? DEFAULT_LATENCY_SAMPLES);
  }

  /** Requests sent (or answered locally) whose response has not come yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Responses whose correlation id matched no request we saw. */
  get unmatchedResponses(): number {
    return this.#unmatched;
  }

  /** A client request; `expectsResponse` is false for Produce with acks=0. */
  request(apiKey: number, bytes: number, options: { expectsResponse: boolean }): void {
    const e = this.#entry(apiKey);
    e.requests++;
    e.requestBytes += bytes;
    if (options.expectsResponse) this.#inFlight++;
  }

  response(apiKey: number, record: ResponseRecord): void {
    const e = this.#entry(apiKey);
    e.responses++;
    e.responseBytes += record.bytes;
    if (record.error) e.errors++;
    if (record.local) e.local++;
    e.addLatency(record.latencyMs);
    if (this.#inFlight > 0) this.#inFlight--;
  }

  /** Requests that will never be answered (connection closed, broker skipped them). */
  abandon(count: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - count);
  }

  unmatched(): void {
    this.#unmatched++;
  }

  /** Plain data for the snapshot, ordered by API key. */
  snapshot(): ApiStats[] {
    return [...this.#apis.entries()]
      .sort(([a], [b]) => a - b)
      .map(([apiKey, e]) => ({
        apiKey,
        name: apiName(apiKey),
        requests: e.requests,
        responses: e.responses,
        errors: e.errors,
        local: e.local,
        requestBytes: e.requestBytes,
        responseBytes: e.responseBytes,
        latencyMs: e.latency(),
      }));
  }

  #entry(apiKey: number): ApiEntry {
    let e = this.#apis.get(apiKey);
    if (!e) {
      e = new ApiEntry(this.#capacity);
      this.#apis.set(apiKey, e);
    }
    return e;
  }
}
