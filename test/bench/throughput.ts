import type { WatchedProcess } from './cpu-time.ts';
import { requestFor } from './frames.ts';
import { delay, runLoad, type LoadResult } from './load.ts';
import type { Responder } from './responder.ts';
import type { RssSampler } from './rss.ts';
import { median } from './stats.ts';

/**
 * One throughput comparison: the same closed-loop load through the path under
 * test and through its baseline, alternating A B, B A, ... so that drift on a
 * shared machine (another process waking up, CPU frequency) falls on both sides
 * alike. Each round gives a ratio; the median ratio is the result.
 */

export interface LoadShape {
  connections: number;
  inFlight: number;
  requestBytes: number;
  responseBytes: number;
}

export interface Side {
  label: string;
  port: number;
  /** Processes on this side's path whose CPU use is worth knowing (tunnel, responder, load generator). */
  watch: WatchedProcess[];
}

export interface ComparisonOptions {
  shape: LoadShape;
  subject: Side;
  baseline: Side;
  rounds: number;
  durationMs: number;
  responder: Responder;
  /** The subject's memory, sampled through the comparison. */
  rss?: RssSampler;
  log: (line: string) => void;
}

export interface Comparison {
  subject: LoadResult[];
  baseline: LoadResult[];
  /** subject / baseline frames per second, one per round. */
  ratios: number[];
  median: {
    subjectFramesPerSec: number;
    baselineFramesPerSec: number;
    ratio: number;
    subjectMBps: number;
    baselineMBps: number;
    subjectP50us: number;
    subjectP99us: number;
    baselineP50us: number;
    baselineP99us: number;
    /** Median % of one core per watched process, per side. */
    subjectCpu: Record<string, number | null>;
    baselineCpu: Record<string, number | null>;
  };
  peakRssBytes: number | null;
}

/** Time to open connections (the tunnel dials per connection) and warm the JIT before counting. */
export function warmupFor(durationMs: number): number {
  return Math.min(1000, Math.max(250, durationMs / 4));
}

/** Lets the previous measurement's connections close before the next one starts. */
const SETTLE_MS = 200;

export async function compare(options: ComparisonOptions): Promise<Comparison> {
  const { shape } = options;
  await options.responder.configure(shape.responseBytes);
  const request = requestFor(shape);
  const mark = options.rss?.mark() ?? 0;
  const subject: LoadResult[] = [];
  const baseline: LoadResult[] = [];
  const ratios: number[] = [];
  const measure = (side: Side) =>
    runLoad({
      port: side.port,
      connections: shape.connections,
      inFlight: shape.inFlight,
      request,
      responseBytes: shape.responseBytes,
      warmupMs: warmupFor(options.durationMs),
      durationMs: options.durationMs,
      watch: side.watch,
    });
  for (let round = 0; round < options.rounds; round++) {
    let s: LoadResult;
    let b: LoadResult;
    if (round % 2 === 0) {
      s = await measure(options.subject);
      await delay(SETTLE_MS);
      b = await measure(options.baseline);
    } else {
      b = await measure(options.baseline);
      await delay(SETTLE_MS);
      s = await measure(options.subject);
    }
    await delay(SETTLE_MS);
    subject.push(s);
    baseline.push(b);
    ratios.push(s.framesPerSec / b.framesPerSec);
    options.log(
      `  round ${round + 1}/${options.rounds}: ${options.subject.label} ${fmt(s.framesPerSec)} frames/s (p50 ${fmt(s.p50us)} µs), ` +
        `${options.baseline.label} ${fmt(b.framesPerSec)} frames/s (p50 ${fmt(b.p50us)} µs), ratio ${(s.framesPerSec / b.framesPerSec).toFixed(2)}; ` +
        `CPU % of a core: ${describeCpu(s.cpu)} | ${describeCpu(b.cpu)}`,
    );
  }
  type NumericKey = 'framesPerSec' | 'mbps' | 'p50us' | 'p99us';
  const m = (results: LoadResult[], key: NumericKey) => median(results.map((r) => r[key]));
  return {
    subject,
    baseline,
    ratios,
    median: {
      subjectFramesPerSec: m(subject, 'framesPerSec'),
      baselineFramesPerSec: m(baseline, 'framesPerSec'),
      ratio: median(ratios),
      subjectMBps: m(subject, 'mbps'),
      baselineMBps: m(baseline, 'mbps'),
      subjectP50us: m(subject, 'p50us'),
      subjectP99us: m(subject, 'p99us'),
      baselineP50us: m(baseline, 'p50us'),
      baselineP99us: m(baseline, 'p99us'),
      subjectCpu: medianCpu(subject),
      baselineCpu: medianCpu(baseline),
    },
    peakRssBytes: options.rss ? options.rss.peakSince(mark) : null,
  };
}

function medianCpu(results: LoadResult[]): Record<string, number | null> {
  const labels = new Set(results.flatMap((r) => Object.keys(r.cpu)));
  const out: Record<string, number | null> = {};
  for (const label of labels) {
    const values = results.map((r) => r.cpu[label]).filter((v): v is number => typeof v === 'number');
    out[label] = values.length > 0 ? median(values) : null;
  }
  return out;
}

function describeCpu(cpu: Record<string, number | null>): string {
  return Object.entries(cpu)
    .map(([label, v]) => `${label} ${v ?? '?'}`)
    .join(', ');
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
