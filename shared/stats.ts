/**
 * Snapshot and event types: what the engine publishes about a tunnel. Plain data
 * (structured-clone and JSON safe) so it crosses IPC and the browser bridge as is.
 */

export type TunnelState = 'stopped' | 'starting' | 'running' | 'stopping' | 'error';

/** Traffic in one direction. Rates are per second over the last sampling window. */
export interface DirectionStats {
  bytes: number;
  frames: number;
  bytesPerSec: number;
  framesPerSec: number;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Per Kafka API numbers, from pairing requests and responses by correlation id. */
export interface ApiStats {
  apiKey: number;
  /** Kafka's name for the API, e.g. "Produce"; "Api 42" when unknown. */
  name: string;
  requests: number;
  responses: number;
  /** Responses whose body carried a non-zero error code. */
  errors: number;
  /** Answered by the tunnel itself (ApiVersions for legacy brokers). */
  local: number;
  requestBytes: number;
  responseBytes: number;
  /** Milliseconds, request sent to response received. */
  latencyMs: LatencySummary;
}

export type ConnectionState = 'connecting' | 'open' | 'closing';

export interface ConnectionSnapshot {
  id: number;
  /** "127.0.0.1:53122" */
  clientAddress: string;
  /** Epoch milliseconds. */
  since: number;
  state: ConnectionState;
  toBroker: { bytes: number; frames: number };
  toClient: { bytes: number; frames: number };
  /** Requests still waiting for a response. */
  inFlight: number;
  /** Per-API numbers for this connection (empty when the tunnel is not Kafka-aware). */
  apis: ApiStats[];
}

export interface TunnelError {
  code: string;
  message: string;
}

export interface TunnelSnapshot {
  id: string;
  state: TunnelState;
  /** Where the tunnel listens, once it does. */
  listen: { host: string; port: number } | null;
  /** The bootstrap address clients should use ("localhost:9092"). */
  bootstrap: string | null;
  /** The address written into Metadata responses. */
  advertised: string | null;
  /** The broker this tunnel dials (secrets never appear in it). */
  brokerUrl: string | null;
  error: TunnelError | null;
  /** Epoch milliseconds of the last start, or null when stopped. */
  startedAt: number | null;
  connections: { active: number; total: number; failed: number };
  toBroker: DirectionStats;
  toClient: DirectionStats;
  apis: ApiStats[];
  connectionList: ConnectionSnapshot[];
  /** True once the tunnel learned the broker ignores ApiVersions (0.8-era). */
  legacyBroker: boolean;
}

export type EventLevel = 'info' | 'warn' | 'error';

export type EventKind =
  | 'tunnel-started'
  | 'tunnel-stopped'
  | 'tunnel-error'
  | 'connection-opened'
  | 'connection-closed'
  | 'broker-retry'
  | 'protocol-error'
  | 'rewrite'
  | 'legacy-fallback'
  | 'unsupported-request'
  | 'parse-warning'
  | 'warning';

export interface TunnelEvent {
  /** Increasing per engine; lets a view de-duplicate and order. */
  seq: number;
  tunnelId: string;
  /** Epoch milliseconds. */
  time: number;
  level: EventLevel;
  kind: EventKind;
  /** A sentence a person understands. */
  message: string;
  connectionId?: number;
  /** Stable machine code for errors, e.g. "FRAME_TOO_LARGE". */
  code?: string;
}

export function emptyDirection(): DirectionStats {
  return { bytes: 0, frames: 0, bytesPerSec: 0, framesPerSec: 0 };
}

export function stoppedSnapshot(id: string): TunnelSnapshot {
  return {
    id,
    state: 'stopped',
    listen: null,
    bootstrap: null,
    advertised: null,
    brokerUrl: null,
    error: null,
    startedAt: null,
    connections: { active: 0, total: 0, failed: 0 },
    toBroker: emptyDirection(),
    toClient: emptyDirection(),
    apis: [],
    connectionList: [],
    legacyBroker: false,
  };
}

/** How far back the throughput chart looks, and so how many 1 Hz samples the host keeps. */
export const THROUGHPUT_HISTORY_SECONDS = 5 * 60;

/**
 * One per-second reading of a tunnel's rates, kept by the host whether or not a
 * dashboard is open, so a window that opens late still draws the last minutes.
 */
export interface ThroughputSample {
  /** Epoch milliseconds on the host's clock. */
  time: number;
  toBrokerBytesPerSec: number;
  toClientBytesPerSec: number;
  toBrokerFramesPerSec: number;
  toClientFramesPerSec: number;
}

export function throughputSample(snapshot: Pick<TunnelSnapshot, 'toBroker' | 'toClient'>, time: number): ThroughputSample {
  return {
    time,
    toBrokerBytesPerSec: snapshot.toBroker.bytesPerSec,
    toClientBytesPerSec: snapshot.toClient.bytesPerSec,
    toBrokerFramesPerSec: snapshot.toBroker.framesPerSec,
    toClientFramesPerSec: snapshot.toClient.framesPerSec,
  };
}
