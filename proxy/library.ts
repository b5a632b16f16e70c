import type { Duplex } from 'node:stream';
import { brokerUrl, describeIssues, profileSchema, type Profile, type ProfileInput } from '../shared/profile.ts';
import { ShimError } from '../shared/errors.ts';
import { Bridge } from './bridge.ts';
import type { BridgeEvent } from './bridge-contract.ts';
import { dial, loadCa } from './dial.ts';
import { createDuplexPair } from './duplex-pair.ts';
import { createSessionInterceptor, legacyFlag } from './kafka-aware.ts';
import type { LegacyState } from './kafka/session.ts';
import { Counter } from './traffic.ts';

/**
 * Kafka over WebSocket in-process: a socket-like Duplex for any Node Kafka client,
 * and a KafkaJS socketFactory — the counterpart of the original Go package's
 * net.Conn and dialers. The same Bridge and Kafka-aware session as the tunnel
 * serve it, so behaviour (framing limits, backpressure, ApiVersions for 0.8-era
 * brokers) is identical; there is just no local port.
 */

export interface KafkaWebSocketOptions {
  /** `host:port` (with `tls`) or a full ws:// / wss:// URL. */
  broker: string;
  tls?: boolean;
  /** Upgrade headers, e.g. { Authorization: 'Bearer …' }. */
  headers?: Record<string, string>;
  /** Path of a PEM CA file to trust. */
  caFile?: string;
  /** Set false only to skip TLS verification on purpose. */
  tlsVerify?: boolean;
  /** Outbound HTTP(S) proxy; default HTTPS_PROXY / NO_PROXY. */
  httpProxy?: string;
  compatibility?: Profile['compatibility'];
  legacyApiVersions?: Profile['legacyApiVersions'];
  connectTimeoutMs?: number;
  connectRetries?: number;
  retryDelayMs?: number;
  keepaliveMs?: number;
  maxFrameBytes?: number;
  /** Off: forward frames without reading Kafka headers. Default on. */
  kafkaAware?: boolean;
  /** Hears connection events (retries, warnings, close reasons). */
  onEvent?: (event: BridgeEvent) => void;
}

/** What `connect` returns: a Duplex with the few net.Socket methods Kafka clients call. */
export type KafkaWebSocket = Duplex & {
  setKeepAlive(enable?: boolean, delay?: number): KafkaWebSocket;
  setNoDelay(noDelay?: boolean): KafkaWebSocket;
  setTimeout(ms: number, callback?: () => void): KafkaWebSocket;
  ref(): KafkaWebSocket;
  unref(): KafkaWebSocket;
};

/** Per broker URL: learned once that it is 0.8-era, later sockets answer ApiVersions at once. */
const legacyBrokers = new Map<string, LegacyState>();

function legacyFor(url: string): LegacyState {
  let flag = legacyBrokers.get(url);
  if (!flag) {
    flag = legacyFlag();
    legacyBrokers.set(url, flag);
  }
  return flag;
}

let nextId = 1;

export function libraryProfile(options: KafkaWebSocketOptions): Profile {
  const input: ProfileInput = {
    id: 'library',
    name: 'library',
    broker: options.broker,
    tls: options.tls,
    listenPort: 0,
    headers: Object.entries(options.headers ?? {}).map(([name, value]) => ({ name, value, secret: true })),
    caFile: options.caFile,
    tlsVerify: options.tlsVerify,
    httpProxy: options.httpProxy,
    compatibility: options.compatibility,
    legacyApiVersions: options.legacyApiVersions,
    connectTimeoutMs: options.connectTimeoutMs,
    connectRetries: options.connectRetries,
    retryDelayMs: options.retryDelayMs,
    keepaliveMs: options.keepaliveMs,
    maxFrameBytes: options.maxFrameBytes,
    kafkaAware: options.kafkaAware,
  };
  const result = profileSchema.safeParse(JSON.parse(JSON.stringify(input)));
  if (!result.success) throw new ShimError('INVALID_ARGUMENT', `Invalid Kafka WebSocket options: ${describeIssues(result.error)}`);
  return result.data;
}

/**
 * Opens a Kafka connection over WebSocket. The stream emits 'connect' once the
 * WebSocket is open (and calls `onConnect`); a broker that cannot be reached
 * destroys it with an error whose `code` says why (BROKER_UNREACHABLE, ...).
 */
export function connect(options: KafkaWebSocketOptions, onConnect?: () => void): KafkaWebSocket {
  const profile = libraryProfile(options);
  const ca = loadCa(profile.caFile);
  const url = brokerUrl(profile);
  const [user, engineSide] = createDuplexPair();
  const socket = user as KafkaWebSocket;
  const bridge = new Bridge({
    id: nextId++,
    client: engineSide,
    connect: (signal, onRetry) =>
      dial(
        {
          url,
          headers: Object.fromEntries(profile.headers.map((h) => [h.name, h.value ?? ''])),
          ca,
          rejectUnauthorized: profile.tlsVerify,
          httpProxy: profile.httpProxy,
          maxPayload: profile.maxFrameBytes + 4,
        },
        { timeoutMs: profile.connectTimeoutMs, attempts: profile.connectRetries, retryDelayMs: profile.retryDelayMs },
        { signal, onRetry },
      ),
    maxFrameBytes: profile.maxFrameBytes,
    keepaliveMs: profile.keepaliveMs,
    traffic: { toBroker: new Counter(), toClient: new Counter() },
    interceptor: profile.kafkaAware ? (hooks) => createSessionInterceptor({ profile, advertised: null, legacy: legacyFor(url), hooks }) : undefined,
  });
  let opened = false;
  bridge.once('open', () => {
    opened = true;
    onConnect?.();
    socket.emit('connect');
  });
  if (options.onEvent) bridge.on('event', options.onEvent);
  bridge.once('close', (reason) => {
    options.onEvent?.({ level: reason.level, kind: 'connection-closed', message: reason.message, code: reason.code });
    // Before the WebSocket opened, the caller needs an error, not a quiet end.
    if (!opened && !socket.destroyed) socket.destroy(new ShimError(reason.code, reason.message));
  });
  const self = () => socket;
  socket.setKeepAlive = self;
  socket.setNoDelay = self;
  socket.setTimeout = self;
  // The bridge holds no handle of its own that keeps the process alive once the stream ends.
  socket.ref = self;
  socket.unref = self;
  return socket;
}

/**
 * A KafkaJS `socketFactory`: every broker KafkaJS asks for is reached through the
 * one WebSocket endpoint given here (the kafka-worker model: one endpoint serves
 * the whole cluster), so `brokers` in the KafkaJS config may be any placeholder.
 */
export function kafkajsSocketFactory(options: KafkaWebSocketOptions): (args: { host: string; port: number; ssl?: unknown; onConnect: () => void }) => KafkaWebSocket {
  libraryProfile(options); // fail fast on bad options, at configuration time
  return ({ onConnect }) => connect(options, onConnect);
}
