import type { Duplex } from 'node:stream';
import type { ApiStats, EventKind, EventLevel } from '../shared/stats.ts';
import type { DialError } from './dial.ts';
import type { Counter } from './traffic.ts';
import type { BrokerLink } from './ws/link.ts';

/**
 * What a Bridge and the code around it agree on: how it is built, what it
 * reports, and the seam the Kafka-aware session plugs into. Declared apart from
 * the Bridge so the session side depends on the contract, not the socket work.
 */

/** Sees every whole frame; the Kafka-aware session implements it. */
export interface FrameInterceptor {
  /** 'consumed': the interceptor answered or refused it; do not forward. */
  clientFrame(frame: Buffer): 'forward' | 'consumed';
  /** The frame to write to the client (maybe rewritten), or null to drop it. */
  brokerFrame(frame: Buffer): Buffer | null;
  /**
   * A large request begins with `head` (its first bytes; `length` in all):
   * 'stream' means it is accounted for as clientFrame would and goes on unchanged,
   * 'whole' means the interceptor needs it whole (clientFrame follows). Without
   * this method every frame is gathered.
   */
  clientHead?(head: Buffer, length: number): 'stream' | 'whole';
  /** The same for a large response: 'stream' passes it through unchanged, 'whole' leads to brokerFrame. */
  brokerHead?(head: Buffer, length: number): 'stream' | 'whole';
  /** Requests still waiting for their response. */
  readonly inFlight: number;
  /** Per-API numbers for this connection. */
  apis?(): ApiStats[];
  dispose(): void;
}

export interface InterceptorHooks {
  sendToClient(frame: Buffer): void;
  /** Sends a frame to the broker in place of the client's (a request the interceptor translated and consumed). */
  sendToBroker(frame: Buffer): void;
  close(reason: { code: string; message: string }): void;
  onEvent(event: BridgeEvent): void;
}

export interface BridgeEvent {
  level: EventLevel;
  kind: EventKind;
  message: string;
  code?: string;
}

export interface CloseReason {
  /** Stable code: CLIENT_CLOSED, BROKER_CLOSED, FRAME_TOO_LARGE, BROKER_UNREACHABLE, ... */
  code: string;
  message: string;
  level: EventLevel;
}

export interface TrafficSink {
  toBroker: Counter;
  toClient: Counter;
}

/** A TCP socket, or one end of an in-process pair (the library). */
export type ClientStream = Duplex & { setNoDelay?(noDelay?: boolean): unknown; remoteAddress?: string; remotePort?: number };

export interface BridgeOptions {
  id: number;
  client: ClientStream;
  /** Opens the WebSocket (with the profile's retry policy). */
  connect(signal: AbortSignal, onRetry: (err: DialError, attempt: number, delayMs: number) => void): Promise<BrokerLink>;
  maxFrameBytes: number;
  /** Ping interval; 0 disables keepalive. A missed pong closes the connection. */
  keepaliveMs: number;
  /** Tunnel-wide counters, updated alongside the connection's own. */
  traffic: TrafficSink;
  interceptor?: (hooks: InterceptorHooks) => FrameInterceptor;
}
