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
 *
 * An optional reference side (the bare relay) joins every round as a third
 * measurement, the order rotating (A B R, B R A, R A B, ...) so that no side
 * always goes first; its ratios are taken within the round too.
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
  /** A third side measured in the same rounds, to set the subject against (the bare relay). */
  reference?: Side;
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
  reference?: ReferenceComparison;
}

export interface ReferenceComparison {
  results: LoadResult[];
  /** reference / baseline frames per second, one per round. */
  ratios: number[];
  /** subject / reference frames per second, one per round. */
  subjectRatios: number[];
  median: {
    framesPerSec: number;
    ratio: number;
    subjectRatio: number;
    p50us: number;
    cpu: Record<string, number | null>;
  };
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
  const reference: LoadResult[] = [];
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
  const sides = options.reference ? [options.subject, options.baseline, options.reference] : [options.subject, options.baseline];
  for (let round = 0; round < options.rounds; round++) {
    const order = sides.map((_, i) => sides[(i + round) % sides.length]);
    const results = new Map<Side, LoadResult>();
    for (const [i, side] of order.entries()) {
      if (i > 0) await delay(SETTLE_MS);
      results.set(side, await measure(side));
    }
    await delay(SETTLE_MS);
    const s = results.get(options.subject)!;
    const b = results.get(options.baseline)!;
    subject.push(s);
    baseline.push(b);
    ratios.push(s.framesPerSec / b.framesPerSec);
    if (options.reference) reference.push(results.get(options.reference)!);
    options.log(`  round ${round + 1}/${options.rounds}: ${describeRound(sides, results, options)}`);
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
    reference: reference.length > 0 ? referenceOf(subject, baseline, reference) : undefined,
  };
}

function referenceOf(subject: LoadResult[], baseline: LoadResult[], reference: LoadResult[]): ReferenceComparison {
  const ratios = reference.map((r, i) => r.framesPerSec / baseline[i].framesPerSec);
  const subjectRatios = reference.map((r, i) => subject[i].framesPerSec / r.framesPerSec);
  return {
    results: reference,
    ratios,
    subjectRatios,
    median: {
      framesPerSec: median(reference.map((r) => r.framesPerSec)),
      ratio: median(ratios),
      subjectRatio: median(subjectRatios),
      p50us: median(reference.map((r) => r.p50us)),
      cpu: medianCpu(reference),
    },
  };
}

/**
 * One round on one line: each side's frames/s and p50, the ratio (subject /
 * baseline, as before a reference side existed), the reference's two ratios,
 * and what each process used while each side was measured.
 */
function describeRound(sides: readonly Side[], results: ReadonlyMap<Side, LoadResult>, options: ComparisonOptions): string {
  const fps = (side: Side) => results.get(side)!.framesPerSec;
  const ratio = (of: Side, to: Side) => (fps(of) / fps(to)).toFixed(2);
  const { subject, baseline, reference } = options;
  const ratios = [`ratio ${ratio(subject, baseline)}`];
  if (reference) ratios.push(`${reference.label}/${baseline.label} ${ratio(reference, baseline)}`, `${subject.label}/${reference.label} ${ratio(subject, reference)}`);
  return (
    sides.map((side) => `${side.label} ${fmt(fps(side))} frames/s (p50 ${fmt(results.get(side)!.p50us)} µs)`).join(', ') +
    `, ${ratios.join(', ')}; CPU % of a core: ` +
    sides.map((side) => describeCpu(results.get(side)!.cpu)).join(' | ')
  );
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
