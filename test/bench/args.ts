/** Command-line options of `npm run bench` (after `--`). */

export const SCENARIOS = ['small', 'produce-1m', 'fetch-1m', 'kafka-aware', 'memory'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  scenarios: ScenarioName[];
  durationSec: number;
  rounds: number;
  json: boolean;
  cpuProf: boolean;
  /** Exit with 1 when a target is missed (for CI). */
  check: boolean;
  /** Overrides for every throughput scenario's load shape. */
  connections?: number;
  inFlight?: number;
  requestBytes?: number;
  responseBytes?: number;
  /** How long the broker stops reading in the memory scenario. */
  stallSec: number;
  idleConnections: number;
  /** Another entry point of the CLI to measure (a bundled build, an experiment); default bin/kafka-websocket-proxy.js. */
  cli?: string;
  /** Compare the tunnel with this other CLI build instead of the direct path (A/B of an optimisation). */
  versus?: string;
  /** Also measure a bare TCP relay in small, produce-1m and fetch-1m: the ceiling for any user-space hop. */
  relay: boolean;
  help: boolean;
}

export class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchUsageError';
  }
}

/** bool: present or not. switch: on by default, turned off with --name=false. value: takes one. */
type Flag =
  | { kind: 'bool'; apply: (o: BenchOptions) => void }
  | { kind: 'switch'; apply: (o: BenchOptions, on: boolean) => void }
  | { kind: 'value'; apply: (o: BenchOptions, v: string) => void };

function count(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new BenchUsageError(`--${name} must be a whole number from ${min} to ${max}, not "${v}"`);
    return n;
  };
}

function seconds(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new BenchUsageError(`--${name} must be a number of seconds from ${min} to ${max}, not "${v}"`);
    return n;
  };
}

const FRAME_MIN = 64;
const FRAME_MAX = 64 * 1024 * 1024;

const FLAGS: Record<string, Flag> = {
  scenario: {
    kind: 'value',
    apply: (o, v) => {
      const names = v.split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
      if (names.length === 0 || unknown.length > 0) {
        throw new BenchUsageError(`--scenario takes a comma-separated list of ${SCENARIOS.join(', ')}${unknown.length ? `; "${unknown.join(', ')}" is not one` : ''}`);
      }
      o.scenarios = [...new Set(names as ScenarioName[])];
    },
  },
  duration: { kind: 'value', apply: (o, v) => (o.durationSec = seconds('duration', 0.5, 600)(v)) },
  rounds: { kind: 'value', apply: (o, v) => (o.rounds = count('rounds', 1, 50)(v)) },
  json: { kind: 'bool', apply: (o) => (o.json = true) },
  'cpu-prof': { kind: 'bool', apply: (o) => (o.cpuProf = true) },
  check: { kind: 'bool', apply: (o) => (o.check = true) },
  connections: { kind: 'value', apply: (o, v) => (o.connections = count('connections', 1, 1000)(v)) },
  'in-flight': { kind: 'value', apply: (o, v) => (o.inFlight = count('in-flight', 1, 1000)(v)) },
  'request-bytes': { kind: 'value', apply: (o, v) => (o.requestBytes = count('request-bytes', FRAME_MIN, FRAME_MAX)(v)) },
  'response-bytes': { kind: 'value', apply: (o, v) => (o.responseBytes = count('response-bytes', FRAME_MIN, FRAME_MAX)(v)) },
  stall: { kind: 'value', apply: (o, v) => (o.stallSec = seconds('stall', 1, 120)(v)) },
  'idle-connections': { kind: 'value', apply: (o, v) => (o.idleConnections = count('idle-connections', 1, 5000)(v)) },
  cli: { kind: 'value', apply: (o, v) => (o.cli = v) },
  versus: { kind: 'value', apply: (o, v) => (o.versus = v) },
  relay: { kind: 'switch', apply: (o, on) => (o.relay = on) },
  help: { kind: 'bool', apply: (o) => (o.help = true) },
  h: { kind: 'bool', apply: (o) => (o.help = true) },
};

function onOff(name: string, value: string | undefined): boolean {
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new BenchUsageError(`--${name} takes true or false (--${name}=false), not "${value}"`);
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = {
    scenarios: [...SCENARIOS],
    durationSec: 3,
    rounds: 3,
    json: false,
    cpuProf: false,
    check: false,
    stallSec: 10,
    idleConnections: 500,
    relay: true,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z][a-z-]*)(?:=(.*))?$/s.exec(argv[i]);
    if (!m) throw new BenchUsageError(`Unexpected argument "${argv[i]}"`);
    const flag = FLAGS[m[1]];
    if (!flag) throw new BenchUsageError(`Unknown option --${m[1]}`);
    if (flag.kind === 'bool') {
      if (m[2] !== undefined) throw new BenchUsageError(`--${m[1]} takes no value`);
      flag.apply(options);
      continue;
    }
    if (flag.kind === 'switch') {
      flag.apply(options, onOff(m[1], m[2]));
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new BenchUsageError(`--${m[1]} needs a value`);
      value = argv[++i];
    }
    flag.apply(options, value);
  }
  return options;
}

export const BENCH_USAGE = `npm run bench -- [options]

Measures the tunnel (the real CLI, in its own process) against a direct TCP
baseline in the same run, alternating, over several rounds; reports medians.

  --scenario LIST        some of: ${SCENARIOS.join(', ')} (default: all)
  --duration S           measuring window per measurement, seconds (default 3)
  --rounds N             rounds per scenario, each measuring every side once (default 3)
  --json                 one JSON object per scenario on stdout, instead of the table
  --cpu-prof             profile the tunnel process (node --cpu-prof into test/artifacts/prof)
                         and print its top self-time functions
  --check                exit with status 1 when a target is missed
  --connections N        override every throughput scenario's connections
  --in-flight N          ... requests in flight per connection
  --request-bytes N      ... request frame size (size prefix included)
  --response-bytes N     ... response frame size
  --stall S              how long the broker stops reading in "memory" (default 10)
  --idle-connections N   idle connections in "memory" (default 500)
  --cli PATH             measure another entry point of the CLI (a bundled build, an
                         experiment) instead of bin/kafka-websocket-proxy.js
  --versus PATH          in small, produce-1m and fetch-1m, compare with the CLI at PATH
                         (alternating, same run) instead of the direct path: ratio > 1
                         means the tunnel under test is faster than PATH
  --relay=false          in small, produce-1m and fetch-1m, do not also measure a bare
                         TCP relay (by default it runs in the same rounds; it is the
                         most any user-space hop gets on this machine; not with --versus)
`;
