import { describe, expect, it } from 'vitest';
import { LatencyHistogram, median, percentile } from './stats.ts';

describe('median and percentile', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('uses the nearest rank and leaves its input alone', () => {
    const values = [5, 1, 4, 2, 3];
    expect(percentile(values, 0)).toBe(1);
    expect(percentile(values, 40)).toBe(2);
    expect(percentile(values, 99)).toBe(5);
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });
});

describe('LatencyHistogram', () => {
  it('gives the same percentiles as sorting, at microsecond resolution', () => {
    const h = new LatencyHistogram();
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 5000);
    for (const v of values) h.record(v);
    expect(h.count).toBe(1000);
    expect(h.percentile(50)).toBe(percentile(values, 50));
    expect(h.percentile(99)).toBe(percentile(values, 99));
  });

  it('puts a second or more into its last bucket and is NaN when empty', () => {
    const h = new LatencyHistogram();
    expect(h.percentile(50)).toBeNaN();
    h.record(5_000_000);
    h.record(-3);
    expect(h.percentile(100)).toBe(LatencyHistogram.LIMIT_US);
    expect(h.percentile(1)).toBe(0);
  });
});
