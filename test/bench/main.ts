import { BENCH_USAGE, BenchUsageError, parseBenchArgs, type BenchOptions, type ScenarioName } from './args.ts';
import { cpus, loadavg } from 'node:os';
import type { WatchedProcess } from './cpu-time.ts';
import { formatProfileSummary, readCpuProfile, summarizeProfile } from './cpu-profile.ts';
import { runMemory } from './memory.ts';
import { probeSession } from './probe.ts';
import { RelayProcess } from './relay-process.ts';
import { TARGETS, failedRecord, formatTable, memoryRecord, throughputRecord, type ScenarioRecord } from './report.ts';
import { Responder } from './responder.ts';
import { compare, type LoadShape } from './throughput.ts';
import { TunnelProcess, type ProfileFile } from './tunnel-process.ts';

/**
 * `npm run bench`: the tunnel (the real CLI in its own process) against a direct
 * TCP baseline, in one run, on loopback. See args.ts for the options and
 * report.ts for what each number means. Progress goes to stderr; stdout carries
 * only the result (the table, or JSON lines with --json).
 */

const MiB = 1024 * 1024;

const SHAPES: Record<'small' | 'produce-1m' | 'fetch-1m', LoadShape> = {
  small: { connections: 4, inFlight: 8, requestBytes: 64, responseBytes: 64 },
  'produce-1m': { connections: 2, inFlight: 2, requestBytes: MiB, responseBytes: 64 },
  'fetch-1m': { connections: 2, inFlight: 2, requestBytes: 64, responseBytes: MiB },
};

const TARGET_TEXT: Record<ScenarioName, string> = {
  small: `ratio ≥ ${TARGETS.small.ratio.toFixed(2)}, added p50 ≤ ${TARGETS.small.addedP50us / 1000} ms`,
  'produce-1m': `ratio ≥ ${TARGETS.large.ratio.toFixed(2)}`,
  'fetch-1m': `ratio ≥ ${TARGETS.large.ratio.toFixed(2)}`,
  'kafka-aware': `on/off ≥ ${TARGETS.kafkaAware.ratio.toFixed(2)}`,
  memory: 'see the memory table',
};

interface Context {
  options: BenchOptions;
  responder: Responder;
  log: (line: string) => void;
  /** Profiles written by tunnel processes, summarised at the end. */
  profiles: { title: string; profile: ProfileFile }[];
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${BENCH_USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (process.platform !== 'linux') log('bench: tunnel RSS is read from /proc, which this system does not have; memory numbers stay empty.');

  const started = Date.now();
  const responder = await Responder.start();
  const context: Context = { options, responder, log, profiles: [] };
  const records: ScenarioRecord[] = [];
  try {
    for (const scenario of options.scenarios) {
      log(`${scenario}:`);
      let record: ScenarioRecord;
      const profilesBefore = context.profiles.length;
      try {
        record = await runScenario(scenario, context);
      } catch (err) {
        log(`  failed: ${(err as Error).message}`);
        record = failedRecord(scenario, err as Error, TARGET_TEXT[scenario]);
      }
      record.machine = { cores: cpus().length, loadAverage1m: Math.round(loadavg()[0] * 10) / 10 };
      const profiles = context.profiles.slice(profilesBefore);
      if (profiles.length > 0) record.profiles = profiles.map(({ title, profile }) => topOf(title, profile));
      records.push(record);
      if (options.json) process.stdout.write(`${JSON.stringify(record)}\n`);
    }
  } finally {
    await responder.close();
  }

  if (!options.json) process.stdout.write(`\n${formatTable(records)}`);
  for (const { title, profile } of context.profiles) {
    const summary = summarizeProfile(readCpuProfile(profile.path), profile);
    const text = `\n${formatProfileSummary(`CPU profile, ${title}, from listening to stop (${profile.path})`, summary)}\n`;
    if (options.json) process.stderr.write(text);
    else process.stdout.write(text);
  }
  log(`\nbench: ${records.length} scenario(s) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return options.check && records.some((r) => !r.pass) ? 1 : 0;
}

const TOP_FUNCTIONS = 10;

function topOf(title: string, profile: ProfileFile): NonNullable<ScenarioRecord['profiles']>[number] {
  const summary = summarizeProfile(readCpuProfile(profile.path), profile);
  return {
    title,
    file: profile.path,
    top: summary.functions.slice(0, TOP_FUNCTIONS).map((f) => ({ share: Math.round(f.share * 1000) / 1000, function: f.label })),
  };
}

async function runScenario(scenario: ScenarioName, context: Context): Promise<ScenarioRecord> {
  switch (scenario) {
    case 'small':
    case 'produce-1m':
    case 'fetch-1m':
      return runDirectComparison(scenario, context);
    case 'kafka-aware':
      return runSessionComparison(context);
    case 'memory': {
      const result = await runMemory({
        responder: context.responder,
        shape: SHAPES['produce-1m'],
        idleConnections: context.options.idleConnections,
        stallMs: context.options.stallSec * 1000,
        cpuProfile: context.options.cpuProf,
        cli: context.options.cli,
        log: context.log,
        onProfile: (title, profile) => context.profiles.push({ title, profile }),
      });
      return memoryRecord(result);
    }
  }
}

function shapeOf(scenario: keyof typeof SHAPES, options: BenchOptions): LoadShape {
  const base = SHAPES[scenario];
  return {
    connections: options.connections ?? base.connections,
    inFlight: options.inFlight ?? base.inFlight,
    requestBytes: options.requestBytes ?? base.requestBytes,
    responseBytes: options.responseBytes ?? base.responseBytes,
  };
}

function describeShape(s: LoadShape): string {
  const size = (b: number) => (b >= MiB && b % MiB === 0 ? `${b / MiB} MiB` : `${b} B`);
  return `${s.connections} connections × ${s.inFlight} in flight, ${size(s.requestBytes)} requests, ${size(s.responseBytes)} responses`;
}

async function runDirectComparison(scenario: keyof typeof SHAPES, context: Context): Promise<ScenarioRecord> {
  const { options, responder, log } = context;
  const shape = shapeOf(scenario, options);
  const against = options.versus ? `the CLI at ${options.versus}` : 'direct';
  // The relay is a reference for the direct comparison; beside another build it would answer nothing asked.
  const withRelay = options.relay && !options.versus;
  log(`  ${describeShape(shape)}; tunnel vs ${against}${withRelay ? ' and a bare TCP relay' : ''}, ${options.rounds} rounds of ${options.durationSec} s`);
  const tunnel = await TunnelProcess.start({ brokerPort: responder.wsPort, name: scenario, cpuProfile: options.cpuProf, cli: options.cli });
  let other: TunnelProcess | null = null;
  let relay: RelayProcess | null = null;
  try {
    if (options.versus) other = await TunnelProcess.start({ brokerPort: responder.wsPort, name: `${scenario}-versus`, cli: options.versus });
    if (withRelay) relay = await RelayProcess.start({ targetPort: responder.tcpPort });
    const comparison = await compare({
      shape,
      subject: { label: 'tunnel', port: tunnel.port, watch: [{ label: 'tunnel', pid: tunnel.pid }, ...harness(responder)] },
      baseline: other
        ? { label: 'other', port: other.port, watch: [{ label: 'tunnel', pid: other.pid }, ...harness(responder)] }
        : { label: 'direct', port: responder.tcpPort, watch: harness(responder) },
      reference: relay ? { label: 'relay', port: relay.port, watch: [{ label: 'relay', pid: relay.pid }, ...harness(responder)] } : undefined,
      rounds: options.rounds,
      durationMs: options.durationSec * 1000,
      responder,
      rss: tunnel.rss,
      log,
    });
    const pass =
      scenario === 'small'
        ? (r: ScenarioRecord) => r.ratio! >= TARGETS.small.ratio && r.addedP50us! <= TARGETS.small.addedP50us
        : (r: ScenarioRecord) => r.ratio! >= TARGETS.large.ratio;
    return throughputRecord(scenario, comparison, {
      baseline: options.versus ? `tunnel ${options.versus}` : 'direct',
      // Against another build the targets do not apply; the ratio is the answer.
      target: options.versus ? 'ratio > 1: faster than the other build' : TARGET_TEXT[scenario],
      pass: options.versus ? (r) => r.ratio! >= 1 : pass,
      notes: [...tunnelNotes(tunnel), ...(other ? tunnelNotes(other) : [])],
    });
  } finally {
    await stopTunnel(tunnel, scenario, context);
    if (other) await stopTunnel(other, `${scenario} (other build)`, context);
    await relay?.stop();
  }
}

/**
 * `small` through two tunnels in passthrough mode, one with the Kafka-aware
 * session and one without, so the ratio is the session's own cost.
 */
async function runSessionComparison(context: Context): Promise<ScenarioRecord> {
  const { options, responder, log } = context;
  const shape = shapeOf('small', options);
  log(`  ${describeShape(shape)}; session on vs off (--compat passthrough), ${options.rounds} rounds of ${options.durationSec} s`);
  const on = await TunnelProcess.start({ brokerPort: responder.wsPort, name: 'kafka-aware-on', compat: 'passthrough', session: 'on', cpuProfile: options.cpuProf, cli: options.cli });
  let off: TunnelProcess | null = null;
  try {
    off = await TunnelProcess.start({ brokerPort: responder.wsPort, name: 'kafka-aware-off', compat: 'passthrough', session: 'off', cpuProfile: options.cpuProf, cli: options.cli });
    const [onProbe, offProbe] = [await probeSession(on.port), await probeSession(off.port)];
    const notes: string[] = [];
    if (onProbe !== 'on' || offProbe !== 'off') {
      notes.push(
        `the Metadata probe found the session ${onProbe} on the "on" side and ${offProbe} on the "off" side ` +
          '(--kafka-aware=false is how the bench asks for "off"); this ratio does not measure the session',
      );
      log(`  note: ${notes[0]}`);
    }
    const comparison = await compare({
      shape,
      subject: { label: 'session on', port: on.port, watch: [{ label: 'tunnel', pid: on.pid }, ...harness(responder)] },
      baseline: { label: 'session off', port: off.port, watch: [{ label: 'tunnel', pid: off.pid }, ...harness(responder)] },
      rounds: options.rounds,
      durationMs: options.durationSec * 1000,
      responder,
      rss: on.rss,
      log,
    });
    return throughputRecord('kafka-aware', comparison, {
      baseline: 'tunnel without session',
      target: TARGET_TEXT['kafka-aware'],
      pass: (r) => r.ratio! >= TARGETS.kafkaAware.ratio && notes.length === 0,
      notes: [...notes, ...tunnelNotes(on), ...tunnelNotes(off)],
    });
  } finally {
    await stopTunnel(on, 'kafka-aware (session on)', context);
    if (off) await stopTunnel(off, 'kafka-aware (session off)', context);
  }
}

/** The measuring side's own processes, to tell a slow tunnel from a saturated harness. */
function harness(responder: Responder): WatchedProcess[] {
  return [
    { label: 'responder', pid: responder.pid },
    { label: 'generator', pid: process.pid },
  ];
}

/** Warnings and errors the tunnel logged (it runs with --quiet): a healthy run has none. */
function tunnelNotes(tunnel: TunnelProcess): string[] {
  const lines = tunnel.stderr().split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  return [`the ${tunnel.name} tunnel logged ${lines.length} line(s), e.g. "${lines[0].slice(0, 200)}"`];
}

async function stopTunnel(tunnel: TunnelProcess, title: string, context: Context): Promise<void> {
  const profile = await tunnel.stop();
  if (profile) context.profiles.push({ title, profile });
  else if (context.options.cpuProf) context.log(`  no CPU profile from the ${tunnel.name} tunnel (it did not exit cleanly within 15 s)`);
}
