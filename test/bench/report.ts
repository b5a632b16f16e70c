import type { MemoryResult } from './memory.ts';
import type { Comparison } from './throughput.ts';

/**
 * What a scenario reports: one flat record (printed as one JSON line with
 * --json) and the human table. Throughput fields are medians over rounds; the
 * ratio is the median of per-round ratios, each round measuring both sides
 * back to back.
 */

export interface ScenarioRecord {
  scenario: string;
  /** What the tunnel side is compared with: the direct TCP path, or the tunnel without its session. */
  baseline: 'direct' | 'tunnel without session' | `tunnel ${string}` | null;
  tunnelFramesPerSec: number | null;
  directFramesPerSec: number | null;
  ratio: number | null;
  /** 10^6 bytes per second, requests and responses together. */
  tunnelMBps: number | null;
  directMBps: number | null;
  /** Round-trip latency through the tunnel, microseconds. */
  p50us: number | null;
  p99us: number | null;
  directP50us: number | null;
  directP99us: number | null;
  addedP50us: number | null;
  /**
   * The bare TCP relay (relay-process.ts), measured in the same rounds: its
   * frames/s, relay / direct and tunnel / relay (medians of per-round ratios).
   * Absent where it did not run (kafka-aware, --versus, --relay=false).
   */
  relayFramesPerSec?: number;
  relayRatio?: number;
  tunnelVsRelay?: number;
  /** Tunnel process RSS: the peak during a throughput scenario, idle RSS for "memory". */
  rssMB: number | null;
  /** Median % of one core used during the measuring windows, per process, on each side. */
  cpu?: { tunnelSide: Record<string, number | null>; baselineSide: Record<string, number | null>; relaySide?: Record<string, number | null> };
  rounds: number;
  roundRatios: number[];
  /** The machine the scenario ran on, and its 1-minute load average at the end. */
  machine?: { cores: number; loadAverage1m: number };
  target: string;
  pass: boolean;
  notes: string[];
  memory?: MemoryResult;
  error?: string;
  /** With --cpu-prof: the top self-time functions of each tunnel process the scenario ran. */
  profiles?: { title: string; file: string; top: { share: number; function: string }[] }[];
}

export const TARGETS = {
  small: { ratio: 0.5, addedP50us: 1000 },
  large: { ratio: 0.6 },
  kafkaAware: { ratio: 0.9 },
  memory: { idleMB: 60, idleConnectionsMB: 50 },
} as const;

const MB = 1e6;

export function throughputRecord(
  scenario: string,
  c: Comparison,
  options: { baseline: ScenarioRecord['baseline']; target: string; pass: (r: ScenarioRecord) => boolean; notes?: string[] },
): ScenarioRecord {
  const m = c.median;
  const record: ScenarioRecord = {
    scenario,
    baseline: options.baseline,
    tunnelFramesPerSec: round(m.subjectFramesPerSec),
    directFramesPerSec: round(m.baselineFramesPerSec),
    ratio: round(m.ratio, 3),
    tunnelMBps: round(m.subjectMBps, 1),
    directMBps: round(m.baselineMBps, 1),
    p50us: round(m.subjectP50us),
    p99us: round(m.subjectP99us),
    directP50us: round(m.baselineP50us),
    directP99us: round(m.baselineP99us),
    addedP50us: round(m.subjectP50us - m.baselineP50us),
    rssMB: c.peakRssBytes === null ? null : round(c.peakRssBytes / MB, 1),
    cpu: { tunnelSide: m.subjectCpu, baselineSide: m.baselineCpu },
    rounds: c.ratios.length,
    roundRatios: c.ratios.map((r) => round(r, 3)),
    target: options.target,
    pass: false,
    notes: options.notes ?? [],
  };
  if (c.reference) {
    record.relayFramesPerSec = round(c.reference.median.framesPerSec);
    record.relayRatio = round(c.reference.median.ratio, 3);
    record.tunnelVsRelay = round(c.reference.median.subjectRatio, 3);
    record.cpu!.relaySide = c.reference.median.cpu;
  }
  record.pass = options.pass(record);
  return record;
}


/** The throughput fields of a record that measured none (memory, or a failed scenario). */
const NO_THROUGHPUT = {
  baseline: null,
  tunnelFramesPerSec: null,
  directFramesPerSec: null,
  ratio: null,
  tunnelMBps: null,
  directMBps: null,
  p50us: null,
  p99us: null,
  directP50us: null,
  directP99us: null,
  addedP50us: null,
} as const;

export function memoryRecord(m: MemoryResult): ScenarioRecord {
  const growthOk = m.stall.growthMB <= m.stall.growthLimitMB;
  const floodBounded = m.flood.secondHalfPeakMB <= m.flood.firstHalfPeakMB + m.stall.growthLimitMB;
  const checks = [
    m.idleMB <= TARGETS.memory.idleMB,
    m.withConnectionsMB - m.idleMB <= TARGETS.memory.idleConnectionsMB,
    m.stall.peakMB <= m.stall.boundMB,
    growthOk,
    floodBounded,
  ];
  return {
    scenario: 'memory',
    ...NO_THROUGHPUT,
    rssMB: round(m.idleMB, 1),
    rounds: 1,
    roundRatios: [],
    target: `idle ≤ ${TARGETS.memory.idleMB} MB, +${m.idleConnections} conns ≤ +${TARGETS.memory.idleConnectionsMB} MB, stall peak ≤ bound, no growth`,
    pass: checks.every(Boolean),
    notes: [],
    memory: roundDeep(m),
  };
}

export function failedRecord(scenario: string, error: Error, target: string): ScenarioRecord {
  return {
    scenario,
    ...NO_THROUGHPUT,
    rssMB: null,
    rounds: 0,
    roundRatios: [],
    target,
    pass: false,
    notes: [],
    error: error.message,
  };
}

export function formatTable(records: readonly ScenarioRecord[]): string {
  const header = ['scenario', 'tunnel fr/s', 'base fr/s', 'ratio', 'relay fr/s', 'relay/base', 't/relay', 'tunnel MB/s', 'base MB/s', 'p50 µs t/b', 'p99 µs t/b', 'RSS MB', 'CPU% t/r/g/o', 'verdict'];
  const rows = records
    .filter((r) => r.scenario !== 'memory')
    .map((r) => [
      r.baseline === 'tunnel without session' ? `${r.scenario} (on/off)` : r.baseline === 'direct' || r.baseline === null ? r.scenario : `${r.scenario} (vs other)`,
      num(r.tunnelFramesPerSec),
      num(r.directFramesPerSec),
      r.ratio === null ? '—' : r.ratio.toFixed(2),
      num(r.relayFramesPerSec ?? null),
      r.relayRatio === undefined ? '—' : r.relayRatio.toFixed(2),
      r.tunnelVsRelay === undefined ? '—' : r.tunnelVsRelay.toFixed(2),
      num(r.tunnelMBps, 1),
      num(r.directMBps, 1),
      `${num(r.p50us)}/${num(r.directP50us)}`,
      `${num(r.p99us)}/${num(r.directP99us)}`,
      num(r.rssMB, 1),
      cpuCell(r),
      verdict(r),
    ]);
  const parts: string[] = [];
  if (rows.length > 0) {
    parts.push(grid([header, ...rows]));
    parts.push('Targets: ' + records.filter((r) => r.scenario !== 'memory').map((r) => `${r.scenario}: ${r.target}`).join('; '));
  }
  if (records.some((r) => r.relayRatio !== undefined)) {
    parts.push(
      'relay: a bare TCP relay in its own Node process (no framing, no WebSocket), measured in the same rounds; ' +
        'what a plain Node user-space hop gets on this machine. relay/base = relay ÷ direct; t/relay = tunnel ÷ relay (1.0: the tunnel costs no more than a bare relay).',
    );
  }
  const cores = records.find((r) => r.machine)?.machine?.cores;
  const others = records.map((r) => r.cpu?.tunnelSide.others).filter((o): o is number => typeof o === 'number');
  if (cores && others.length > 0) {
    const worst = Math.max(...others);
    parts.push(
      `Machine: ${cores} cores. CPU% is of one core, during the tunnel's measuring windows: t tunnel, r responder, g load generator, o every other process. ` +
        (worst >= 20 ? `Other processes took up to ${worst}% of a core, so these ratios are pessimistic.` : 'Other processes were quiet.'),
    );
  }
  const memory = records.find((r) => r.scenario === 'memory');
  if (memory) parts.push(formatMemory(memory));
  for (const r of records) {
    for (const note of r.notes) parts.push(`note (${r.scenario}): ${note}`);
    if (r.error) parts.push(`error (${r.scenario}): ${r.error}`);
  }
  return parts.join('\n\n') + '\n';
}

function formatMemory(r: ScenarioRecord): string {
  const m = r.memory;
  if (!m) return grid([['memory', 'value', 'limit', 'verdict'], ['(did not run)', '—', '—', verdict(r)]]);
  const ok = (b: boolean) => (b ? 'ok' : 'MISSED');
  const f = (n: number) => n.toFixed(1);
  const added = m.withConnectionsMB - m.idleMB;
  const rows = [
    ['memory (tunnel RSS, MB)', 'value', 'limit', 'verdict'],
    ['idle', f(m.idleMB), `${TARGETS.memory.idleMB}`, ok(m.idleMB <= TARGETS.memory.idleMB)],
    [`+${m.idleConnections} idle connections`, `+${f(added)}`, `+${TARGETS.memory.idleConnectionsMB}`, ok(added <= TARGETS.memory.idleConnectionsMB)],
    ['produce-1m under load (median/peak)', `${f(m.stall.loadMB)}/${f(m.stall.loadPeakMB)}`, '—', ''],
    ['peak while the broker stops reading', f(m.stall.peakMB), `${f(m.stall.boundMB)}`, ok(m.stall.peakMB <= m.stall.boundMB)],
    ['after the stall, under load (growth)', `${f(m.stall.afterMB)} (${m.stall.growthMB >= 0 ? '+' : ''}${f(m.stall.growthMB)})`, `+${f(m.stall.growthLimitMB)}`, ok(m.stall.growthMB <= m.stall.growthLimitMB)],
    [
      'flood stall peak, 1st/2nd half',
      `${f(m.flood.firstHalfPeakMB)}/${f(m.flood.secondHalfPeakMB)}`,
      `2nd ≤ 1st+${f(m.stall.growthLimitMB)}`,
      ok(m.flood.secondHalfPeakMB <= m.flood.firstHalfPeakMB + m.stall.growthLimitMB),
    ],
    ['flood: accepted in the second before / during the stall', `${f(m.flood.acceptedBeforeStallMB)} / ${f(m.flood.acceptedDuringStallMB)}`, '—', ''],
    ['flood: after it drained', f(m.flood.afterMB), '—', ''],
  ];
  return grid(rows) + `\nStall bound = idle of that process (${f(m.stall.idleMB)}) + 2 × the request bytes the load can have in flight.`;
}

/** Tunnel / responder / generator / other processes' CPU while the tunnel side was measured. */
function cpuCell(r: ScenarioRecord): string {
  const c = r.cpu?.tunnelSide;
  if (!c) return '—';
  return ['tunnel', 'responder', 'generator', 'others'].map((k) => (c[k] === null || c[k] === undefined ? '?' : String(Math.round(c[k]!)))).join('/');
}

function verdict(r: ScenarioRecord): string {
  if (r.error) return 'ERROR';
  return r.pass ? 'ok' : 'MISSED';
}

function grid(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function num(n: number | null, digits = 0): string {
  if (n === null || Number.isNaN(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function roundDeep<T>(value: T): T {
  if (typeof value === 'number') return round(value, 1) as T;
  if (Array.isArray(value)) return value.map(roundDeep) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v)])) as T;
  return value;
}
