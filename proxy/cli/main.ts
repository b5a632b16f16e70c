import { readFileSync } from 'node:fs';
import { ShimError } from '../../shared/errors.ts';
import { describeIssues, profileSchema, profilesFileSchema, type Profile } from '../../shared/profile.ts';
import type { TunnelEvent } from '../../shared/stats.ts';
import { createEngine } from '../engine.ts';
import type { TunnelManager } from '../manager.ts';
import { USAGE, UsageError, parseArgs, type CliOptions } from './args.ts';

/** The headless proxy: flags or a profiles file in, tunnels running until a signal. */

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Resolves when the process should shut down (SIGINT/SIGTERM in real use). */
  shutdown: Promise<string>;
}

const DEMO_PORT = 9092;

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  if (argv[0] === 'demo-broker') {
    const { demoBrokerMain } = await import('../demo-broker/cli.ts');
    await demoBrokerMain(argv.slice(1));
    return 0;
  }
  let options: CliOptions;
  let profiles: Profile[];
  try {
    options = parseArgs(argv);
    if (options.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (options.version) {
      io.stdout.write(`kafka-websocket-proxy ${packageVersion()}\n`);
      return 0;
    }
    profiles = buildProfiles(options);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ShimError) {
      io.stderr.write(`kafka-websocket-proxy: ${err.message}\nRun with --help for usage.\n`);
      return 2;
    }
    throw err;
  }

  const log = (line: string) => io.stderr.write(`${timestamp()} ${line}\n`);
  const manager = createEngine();
  manager.on('event', (e: TunnelEvent) => {
    if (options.quiet && e.level === 'info') return;
    const tag = profiles.length > 1 ? `[${e.tunnelId}] ` : '';
    log(`${e.level === 'info' ? '' : `${e.level.toUpperCase()}: `}${tag}${e.message}`);
  });

  const results = await Promise.allSettled(profiles.map((p) => manager.start(p)));
  const started = results.filter((r) => r.status === 'fulfilled').length;
  // With a dashboard, a tunnel that failed can be fixed from the browser; without, there is nothing left to do.
  if (started === 0 && !options.dashboard) {
    io.stderr.write('kafka-websocket-proxy: no tunnel could start.\n');
    return 1;
  }
  for (const p of profiles) {
    const snap = manager.snapshot(p.id);
    if (snap.state !== 'running') continue;
    const label = profiles.length > 1 ? `${p.name}: ` : '';
    io.stdout.write(`${label}Kafka bootstrap address: ${snap.bootstrap}  (tunnel to ${snap.brokerUrl})\n`);
  }
  if (options.demo) {
    const bootstrap = manager.snapshot('demo').bootstrap;
    io.stdout.write(`Try:  kcat -b ${bootstrap} -L\n      echo hello | kcat -b ${bootstrap} -P -t test-topic\n      kcat -b ${bootstrap} -C -t test-topic -o beginning -e\n`);
  }

  let closeDashboard: (() => Promise<void>) | null = null;
  if (options.dashboard) {
    try {
      closeDashboard = await startDashboardFor(manager, profiles, options, io);
    } catch (err) {
      io.stderr.write(`kafka-websocket-proxy: the dashboard did not start: ${(err as Error).message}\n`);
      await manager.stopAll();
      return 1;
    }
  }

  const signal = await io.shutdown;
  log(`${signal}: stopping ${profiles.length === 1 ? 'the tunnel' : 'tunnels'}`);
  await closeDashboard?.();
  await manager.stopAll();
  return 0;
}

export function buildProfiles(options: CliOptions): Profile[] {
  if (options.config) {
    if (options.brokerGiven || options.url || options.demo) {
      throw new UsageError('--config cannot be combined with -broker, --url or --demo; put those in the profiles file');
    }
    return readProfilesFile(options.config);
  }
  if (options.dashboard && !options.brokerGiven && !options.url && !options.demo) {
    return []; // dashboard only: profiles are added from the browser
  }
  const common = {
    listenHost: options.listen ?? '127.0.0.1',
    ...(options.advertise ? { advertise: options.advertise } : {}),
    ...(options.compat ? { compatibility: options.compat } : {}),
    kafkaAware: options.kafkaAware,
    ...(options.maxFrameBytes ? { maxFrameBytes: options.maxFrameBytes } : {}),
  };
  if (options.demo) {
    if (options.brokerGiven || options.url) throw new UsageError('--demo runs its own broker; leave out -broker and --url');
    return [
      parseProfile({ id: 'demo', name: 'Demo broker (built-in)', broker: 'localhost:8787', demoBroker: true, listenPort: options.portGiven ? options.port : DEMO_PORT, ...common }),
    ];
  }
  return [
    parseProfile({
      id: 'default',
      name: 'kafka-websocket-proxy',
      broker: options.url ?? options.broker,
      tls: options.tls,
      listenPort: options.port,
      headers: options.headers.map((h) => ({ ...h, secret: /authorization|secret|token|key/i.test(h.name) })),
      ...(options.ca ? { caFile: options.ca } : {}),
      tlsVerify: !options.insecure,
      ...(options.httpProxy ? { httpProxy: options.httpProxy } : {}),
      ...common,
    }),
  ];
}

function parseProfile(input: unknown): Profile {
  const result = profileSchema.safeParse(input);
  if (!result.success) throw new UsageError(describeIssues(result.error));
  return result.data;
}

export function readProfilesFile(path: string): Profile[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`Cannot read profiles file ${path}: ${(err as Error).message}`);
  }
  const result = profilesFileSchema.safeParse(json);
  if (!result.success) throw new UsageError(`Profiles file ${path} is not valid: ${describeIssues(result.error)}`);
  if (result.data.profiles.length === 0) throw new UsageError(`Profiles file ${path} has no profiles`);
  return result.data.profiles;
}

async function startDashboardFor(manager: TunnelManager, profiles: Profile[], options: CliOptions, io: CliIo): Promise<() => Promise<void>> {
  const { startHeadlessDashboard } = await import('./dashboard.ts');
  const dashboard = await startHeadlessDashboard({
    manager,
    profiles,
    address: options.dashboard!,
    version: packageVersion(),
    log: (line) => io.stderr.write(`${line}\n`),
  });
  io.stdout.write(`Dashboard: ${dashboard.url}\n`);
  return dashboard.close;
}

function timestamp(): string {
  // Go's log package format, as the original proxy printed.
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    shutdown: new Promise((resolve) => {
      const onSignal = (signal: string) => {
        resolve(signal);
        // A second signal means "now".
        process.once(signal as NodeJS.Signals, () => process.exit(130));
      };
      process.once('SIGINT', () => onSignal('SIGINT'));
      process.once('SIGTERM', () => onSignal('SIGTERM'));
    }),
  };
}
