/** Small statistics for benchmark rounds; inputs are never modified. */

/** The middle value; the mean of the middle two for an even count. NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Latencies in microseconds, kept as a histogram with 1 µs buckets up to 1 s and
 * one overflow bucket, so millions of samples cost a fixed 8 MB and no sort.
 */
export class LatencyHistogram {
  static readonly LIMIT_US = 1_000_000;
  readonly #buckets = new Uint32Array(LatencyHistogram.LIMIT_US + 1);
  #count = 0;

  get count(): number {
    return this.#count;
  }

  record(microseconds: number): void {
    const bucket = Math.min(LatencyHistogram.LIMIT_US, Math.max(0, Math.round(microseconds)));
    this.#buckets[bucket]++;
    this.#count++;
  }

  /** Nearest-rank percentile in µs; NaN when empty; LIMIT_US stands for "a second or more". */
  percentile(p: number): number {
    if (this.#count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let us = 0; us < this.#buckets.length; us++) {
      seen += this.#buckets[us];
      if (seen >= rank) return us;
    }
    return LatencyHistogram.LIMIT_US;
  }
}
