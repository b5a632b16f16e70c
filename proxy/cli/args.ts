import { COMPATIBILITY_MODES, parseHostPort, type CompatibilityMode, type HostPort } from '../../shared/profile.ts';

/**
 * Command-line parsing. The original Go proxy used Go's flag package, so every
 * flag works with one dash or two, as `-flag value` or `-flag=value`, and a
 * boolean flag takes an optional `=true|false`.
 */

export interface CliOptions {
  port: number;
  portGiven: boolean;
  broker: string;
  brokerGiven: boolean;
  tls: boolean;
  url?: string;
  listen?: string;
  headers: { name: string; value: string }[];
  ca?: string;
  insecure: boolean;
  httpProxy?: string;
  config?: string;
  compat?: CompatibilityMode;
  kafkaAware: boolean;
  advertise?: string;
  demo: boolean;
  dashboard?: HostPort;
  maxFrameBytes?: number;
  quiet: boolean;
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type FlagKind = 'bool' | 'value';

const FLAGS: Record<string, FlagKind> = {
  port: 'value',
  broker: 'value',
  tls: 'bool',
  url: 'value',
  listen: 'value',
  header: 'value',
  ca: 'value',
  insecure: 'bool',
  proxy: 'value',
  config: 'value',
  compat: 'value',
  'kafka-aware': 'bool',
  advertise: 'value',
  demo: 'bool',
  dashboard: 'value',
  'max-frame-bytes': 'value',
  quiet: 'bool',
  help: 'bool',
  h: 'bool',
  version: 'bool',
};

export const DEFAULT_PORT = 8080;
export const DEFAULT_BROKER = 'localhost:8787';

export function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = {
    port: DEFAULT_PORT,
    portGiven: false,
    broker: DEFAULT_BROKER,
    brokerGiven: false,
    tls: false,
    headers: [],
    insecure: false,
    demo: false,
    kafkaAware: true,
    quiet: false,
    help: false,
    version: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new UsageError(`Unexpected argument "${arg}"`);
    const name = m[1];
    const kind = FLAGS[name];
    if (!kind) throw new UsageError(`Unknown flag -${name}`);
    let value = m[2];
    if (kind === 'bool') {
      apply(options, name, parseBool(name, value ?? 'true'));
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`Flag -${name} needs a value`);
      value = argv[++i];
    }
    apply(options, name, value);
  }
  return options;
}

function parseBool(name: string, value: string): boolean {
  if (/^(1|t|true|TRUE|True)$/.test(value)) return true;
  if (/^(0|f|false|FALSE|False)$/.test(value)) return false;
  throw new UsageError(`Flag -${name} takes true or false, not "${value}"`);
}

function apply(o: CliOptions, name: string, value: string | boolean): void {
  switch (name) {
    case 'port': {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`-port must be a number from 0 to 65535, not "${value}"`);
      o.port = port;
      o.portGiven = true;
      return;
    }
    case 'broker':
      if (!parseHostPort(value as string)) throw new UsageError(`-broker must be host:port, not "${value}"`);
      o.broker = value as string;
      o.brokerGiven = true;
      return;
    case 'tls':
      o.tls = value as boolean;
      return;
    case 'url':
      o.url = value as string;
      return;
    case 'listen':
      o.listen = value as string;
      return;
    case 'header': {
      const text = value as string;
      const colon = text.indexOf(':');
      if (colon <= 0) throw new UsageError(`--header must look like "Name: value", not "${text}"`);
      o.headers.push({ name: text.slice(0, colon).trim(), value: text.slice(colon + 1).trim() });
      return;
    }
    case 'ca':
      o.ca = value as string;
      return;
    case 'insecure':
      o.insecure = value as boolean;
      return;
    case 'proxy':
      o.httpProxy = value as string;
      return;
    case 'config':
      o.config = value as string;
      return;
    case 'compat':
      if (!(COMPATIBILITY_MODES as readonly string[]).includes(value as string)) {
        throw new UsageError(`--compat must be one of ${COMPATIBILITY_MODES.join(', ')}, not "${value}"`);
      }
      o.compat = value as CompatibilityMode;
      return;
    case 'kafka-aware':
      o.kafkaAware = value as boolean;
      return;
    case 'advertise':
      if (!parseHostPort(value as string)) throw new UsageError(`--advertise must be HOST:PORT, not "${value}"`);
      o.advertise = value as string;
      return;
    case 'demo':
      o.demo = value as boolean;
      return;
    case 'dashboard': {
      const hp = parseHostPort(value as string) ?? (/^\d+$/.test(value as string) ? { host: '127.0.0.1', port: Number(value) } : null);
      if (!hp) throw new UsageError(`--dashboard must be HOST:PORT (for example 127.0.0.1:7070), not "${value}"`);
      o.dashboard = hp;
      return;
    }
    case 'max-frame-bytes': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1024) throw new UsageError(`--max-frame-bytes must be a whole number of at least 1024, not "${value}"`);
      o.maxFrameBytes = n;
      return;
    }
    case 'quiet':
      o.quiet = value as boolean;
      return;
    case 'help':
    case 'h':
      o.help = value as boolean;
      return;
    case 'version':
      o.version = value as boolean;
      return;
  }
}

export const USAGE = `kafka-websocket-proxy — Kafka clients to a broker reachable only over WebSocket

Usage:
  kafka-websocket-proxy [-port 8080] [-broker localhost:8787] [-tls] [options]
  kafka-websocket-proxy --url wss://broker.example.com/kafka [options]
  kafka-websocket-proxy --config profiles.json
  kafka-websocket-proxy --demo [-port 9092]
  kafka-websocket-proxy --dashboard 127.0.0.1:7070 [--config FILE | --demo]
  kafka-websocket-proxy demo-broker [--port N] [--listen HOST] [--advertise HOST:PORT] [--topics name:partitions,...]

Point any Kafka client at localhost:PORT. Every Kafka frame travels as one binary
WebSocket message. Flags take one dash or two, and -flag=value works too.

The original proxy's flags:
  -port N              local port to listen on (default 8080; 9092 with --demo)
  -broker HOST:PORT    broker WebSocket endpoint (default localhost:8787)
  -tls                 dial wss:// instead of ws://

More:
  --url URL            full ws:// or wss:// URL, with path and query (instead of -broker)
  --listen HOST        address to listen on (default 127.0.0.1; 0.0.0.0 exposes it to the network)
  --header "N: V"      extra upgrade header, repeatable (Authorization, CF-Access-Client-Id, ...)
  --ca FILE            trust this CA (PEM) for wss://
  --insecure           do not verify the broker's TLS certificate (not recommended)
  --proxy URL          outbound HTTP(S) proxy (default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY)
  --advertise H:P      address written into Metadata responses (default: the listen address)
  --compat MODE        auto (default) | legacy | passthrough: answering ApiVersions for 0.8-era brokers
  --kafka-aware=false  forward frames without reading Kafka headers (no per-API stats,
                       no address rewriting, no ApiVersions answers)
  --max-frame-bytes N  largest Kafka frame accepted (default 104857600)
  --config FILE        run every profile in a JSON profiles file ({"version":1,"profiles":[...]})
  --demo               run the built-in demo broker and a tunnel to it
  --dashboard H:P      serve the web dashboard here (prints a URL with an access token)
  --quiet              log only errors
  --help, --version
`;
