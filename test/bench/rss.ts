import { readFileSync } from 'node:fs';

/**
 * Resident memory of another process, from /proc/<pid>/status (Linux only),
 * sampled on a timer so that short peaks are seen, not only the value at the end.
 */

export function readRssBytes(pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

export interface RssSample {
  time: number;
  bytes: number;
}

export class RssSampler {
  readonly #pid: number;
  readonly #samples: RssSample[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(pid: number, options: { intervalMs?: number } = {}) {
    this.#pid = pid;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), options.intervalMs ?? 100);
    this.#timer.unref();
  }

  /** A position in the sample series, for the "since" queries below. */
  mark(): number {
    this.#sample();
    return this.#samples.length;
  }

  /** Highest RSS sampled since `mark` (taking a sample now too). */
  peakSince(mark: number): number {
    this.#sample();
    let peak = 0;
    for (let i = Math.max(0, mark - 1); i < this.#samples.length; i++) peak = Math.max(peak, this.#samples[i].bytes);
    return peak;
  }

  /** Median RSS sampled since `mark`: a steady value, not a GC spike. */
  medianSince(mark: number): number {
    this.#sample();
    const values = this.#samples.slice(Math.max(0, mark - 1)).map((s) => s.bytes).sort((a, b) => a - b);
    return values.length === 0 ? 0 : values[Math.floor(values.length / 2)];
  }

  samplesSince(mark: number): readonly RssSample[] {
    return this.#samples.slice(Math.max(0, mark - 1));
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #sample(): void {
    const bytes = readRssBytes(this.#pid);
    if (bytes !== null) this.#samples.push({ time: Date.now(), bytes });
  }
}
