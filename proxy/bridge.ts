import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { ApiStats, ConnectionSnapshot, EventKind, EventLevel } from '../shared/stats.ts';
import { formatBytes } from '../shared/format.ts';
import { underlyingSocket, type DialError } from './dial.ts';
import { FrameError, FrameSplitter, SIZE_PREFIX_BYTES } from './framing.ts';
import { Counter } from './traffic.ts';

/**
 * One client socket <-> one WebSocket to the broker. Each client frame goes out as
 * one binary message (size prefix included); each binary message from the broker
 * is written to the client as is. Memory stays bounded whatever the peers do:
 * a side that cannot keep up pauses the other.
 */

/** Sees every whole frame; the Kafka-aware session implements it. */
export interface FrameInterceptor {
  /** 'consumed': the interceptor answered or refused it; do not forward. */
  clientFrame(frame: Buffer): 'forward' | 'consumed';
  /** The frame to write to the client (maybe rewritten), or null to drop it. */
  brokerFrame(frame: Buffer): Buffer | null;
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
  connect(signal: AbortSignal, onRetry: (err: DialError, attempt: number, delayMs: number) => void): Promise<WebSocket>;
  maxFrameBytes: number;
  /** Ping interval; 0 disables keepalive. A missed pong closes the connection. */
  keepaliveMs: number;
  /** Tunnel-wide counters, updated alongside the connection's own. */
  traffic: TrafficSink;
  interceptor?: (hooks: InterceptorHooks) => FrameInterceptor;
}

/** Bytes the client may send while the WebSocket is still connecting before we stop reading. */
const HOLD_LIMIT_BYTES = 4 * 1024 * 1024;
/** Bytes handed to ws but not yet written to its socket; above this the client is paused. */
const SEND_HIGH_WATER = 4 * 1024 * 1024;
const SEND_LOW_WATER = 1024 * 1024;
/** How long a half-closed client's requests in flight may take to be answered. */
const HALF_CLOSE_WAIT_MS = 30_000;

export class Bridge extends EventEmitter<{ event: [BridgeEvent]; open: []; close: [CloseReason] }> {
  readonly id: number;
  readonly clientAddress: string;
  readonly since = Date.now();
  readonly toBroker = new Counter();
  readonly toClient = new Counter();

  readonly #client: ClientStream;
  readonly #options: BridgeOptions;
  readonly #splitter: FrameSplitter;
  readonly #abort = new AbortController();
  readonly #interceptor: FrameInterceptor | null;
  #ws: WebSocket | null = null;
  #state: 'connecting' | 'open' | 'closing' | 'closed' = 'connecting';
  #held: Buffer[] = [];
  #heldBytes = 0;
  #sendPending = 0;
  #clientPausedBy = new Set<'hold' | 'send'>();
  #brokerPaused = false;
  #clientEnded = false;
  #brokerSocket: Duplex | null = null;
  #clientCorked = false;
  #keepalive: NodeJS.Timeout | null = null;
  /** Half-close: waiting for in-flight answers before closing the WebSocket. */
  #drainTimer: NodeJS.Timeout | null = null;
  #closeRequested = false;
  #alive = true;

  constructor(options: BridgeOptions) {
    super();
    this.id = options.id;
    this.#options = options;
    this.#client = options.client;
    this.clientAddress = formatPeer(options.client);
    this.#splitter = new FrameSplitter({ maxFrameBytes: options.maxFrameBytes });
    this.#interceptor =
      options.interceptor?.({
        sendToClient: (frame) => this.#writeToClient(frame),
        sendToBroker: (frame) => this.#sendToBroker(frame),
        close: (reason) => this.#close({ ...reason, level: 'warn' }),
        onEvent: (event) => this.emit('event', event),
      }) ?? null;

    const client = this.#client;
    client.setNoDelay?.(true);
    client.on('data', this.#onClientData);
    client.on('end', this.#onClientEnd);
    client.on('error', (err: NodeJS.ErrnoException) => {
      const reset = err.code === 'ECONNRESET' || err.code === 'EPIPE';
      this.#close({ code: reset ? 'CLIENT_RESET' : 'CLIENT_ERROR', message: this.#clientGoneMessage(reset ? 'reset the connection' : `failed: ${err.message}`), level: 'info' });
    });
    client.on('close', () => this.#close({ code: 'CLIENT_CLOSED', message: this.#clientGoneMessage('disconnected'), level: 'info' }));
    this.#connect();
  }

  get state(): 'connecting' | 'open' | 'closing' | 'closed' {
    return this.#state;
  }

  snapshot(): ConnectionSnapshot {
    return {
      id: this.id,
      clientAddress: this.clientAddress,
      since: this.since,
      state: this.#state === 'closed' ? 'closing' : this.#state,
      toBroker: { bytes: this.toBroker.bytes, frames: this.toBroker.frames },
      toClient: { bytes: this.toClient.bytes, frames: this.toClient.frames },
      inFlight: this.#interceptor?.inFlight ?? 0,
      apis: this.#interceptor?.apis?.() ?? [],
    };
  }

  /** Closes both sides at once (tunnel stop). */
  destroy(reason: { code: string; message: string }): void {
    this.#close({ ...reason, level: 'info' });
  }

  async #connect(): Promise<void> {
    let ws: WebSocket;
    try {
      ws = await this.#options.connect(this.#abort.signal, (err, attempt, delayMs) =>
        this.emit('event', {
          level: 'warn',
          kind: 'broker-retry',
          code: err.code,
          message: `${err.message}; retrying in ${delayMs} ms (try ${attempt + 1})`,
        }),
      );
    } catch (err) {
      const e = err as DialError;
      this.#close({ code: e.code ?? 'BROKER_UNREACHABLE', message: e.message, level: 'error' });
      return;
    }
    if (this.#state !== 'connecting') {
      ws.terminate();
      return;
    }
    this.#ws = ws;
    this.#brokerSocket = underlyingSocket(ws) ?? null;
    this.#state = 'open';
    ws.on('message', this.#onBrokerMessage);
    ws.on('pong', () => (this.#alive = true));
    ws.on('close', (code, reason) => this.#onBrokerClose(code, reason.toString('utf8')));
    ws.on('error', (err: Error & { code?: string }) => {
      // ws stops reading and closes with 1009; the close that follows looks like a drop, so say why now.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.#close({
          code: 'BROKER_FRAME_TOO_LARGE',
          message: `Broker sent a message larger than the ${formatBytes(this.#options.maxFrameBytes)} frame limit; connection closed`,
          level: 'error',
        });
        return;
      }
      this.emit('event', { level: 'warn', kind: 'warning', code: 'BROKER_ERROR', message: `Broker connection error: ${err.message}` });
    });
    this.#startKeepalive();
    this.emit('open');

    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const frame of held) this.#forwardToBroker(frame);
    this.#unpauseClient('hold');
    if (this.#clientEnded) this.#closeWhenAnswered();
  }

  // ---- client -> broker ----

  #onClientData = (chunk: Buffer): void => {
    // Every frame of this chunk leaves in one write to the broker's socket.
    const socket = this.#brokerSocket;
    socket?.cork();
    try {
      this.#splitter.push(chunk, this.#onClientFrame);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.#close({ code: err.code, message: `${err.message}; connection closed`, level: 'error' });
    } finally {
      socket?.uncork();
    }
  };

  #onClientFrame = (frame: Buffer): void => {
    if (this.#state === 'open') {
      this.#forwardToBroker(frame);
      return;
    }
    if (this.#state !== 'connecting') return;
    this.#held.push(frame);
    this.#heldBytes += frame.length;
    if (this.#heldBytes >= HOLD_LIMIT_BYTES) this.#pauseClient('hold');
  };

  #forwardToBroker(frame: Buffer): void {
    if (this.#interceptor && this.#interceptor.clientFrame(frame) === 'consumed') return;
    this.#sendToBroker(frame);
  }

  #sendToBroker(frame: Buffer): void {
    if (this.#state !== 'open' || !this.#ws) return;
    this.toBroker.add(frame.length);
    this.#options.traffic.toBroker.add(frame.length);
    const length = frame.length;
    this.#sendPending += length;
    this.#ws.send(frame, { binary: true, compress: false }, () => {
      this.#sendPending -= length;
      if (this.#sendPending <= SEND_LOW_WATER) this.#unpauseClient('send');
    });
    if (this.#sendPending >= SEND_HIGH_WATER) this.#pauseClient('send');
  }

  #onClientEnd = (): void => {
    this.#clientEnded = true;
    if (this.#state === 'open') {
      this.#closeWhenAnswered();
    } else if (this.#state === 'connecting' && this.#held.length === 0 && this.#splitter.bufferedBytes === 0) {
      // Gone before the broker connection opened, having asked nothing: no need to reach the broker.
      this.#close({ code: 'CLIENT_CLOSED', message: 'Client closed before the broker connection opened', level: 'info' });
    }
  };

  /**
   * A half-close: what the client sent still goes out, and the WebSocket is
   * closed politely once every request in flight has its answer (or after a
   * bounded wait), so a client that writes, shuts down its side and then reads
   * still gets its responses. The client is ended once the broker has closed.
   */
  #closeWhenAnswered(): void {
    const ws = this.#ws;
    if (!ws || this.#closeRequested) return;
    if ((this.#interceptor?.inFlight ?? 0) === 0) {
      this.#closeRequested = true;
      ws.close(1000, 'client closed');
      return;
    }
    if (this.#drainTimer) return;
    this.#drainTimer = setTimeout(() => {
      this.#closeRequested = true;
      ws.close(1000, 'client closed');
    }, HALF_CLOSE_WAIT_MS);
    this.#drainTimer.unref();
  }

  #pauseClient(why: 'hold' | 'send'): void {
    if (this.#clientPausedBy.size === 0) this.#client.pause();
    this.#clientPausedBy.add(why);
  }

  #unpauseClient(why: 'hold' | 'send'): void {
    if (!this.#clientPausedBy.delete(why)) return;
    if (this.#clientPausedBy.size === 0 && this.#state !== 'closed') this.#client.resume();
  }

  // ---- broker -> client ----

  #onBrokerMessage = (data: Buffer, isBinary: boolean): void => {
    this.#alive = true;
    if (!isBinary) {
      this.#close({ code: 'BROKER_TEXT_MESSAGE', message: 'Broker sent a text WebSocket message; Kafka frames must be binary. Connection closed', level: 'error' });
      return;
    }
    if (data.length < SIZE_PREFIX_BYTES || data.readInt32BE(0) !== data.length - SIZE_PREFIX_BYTES) {
      const claimed = data.length >= SIZE_PREFIX_BYTES ? ` whose size prefix says ${data.readInt32BE(0)} bytes` : '';
      this.#close({
        code: 'BROKER_BAD_FRAME',
        message: `Broker sent a ${data.length}-byte message${claimed}; each message must be one whole Kafka frame. Connection closed`,
        level: 'error',
      });
      return;
    }
    const out = this.#interceptor ? this.#interceptor.brokerFrame(data) : data;
    if (out) this.#writeToClient(out);
    if (this.#drainTimer && (this.#interceptor?.inFlight ?? 0) === 0) {
      clearTimeout(this.#drainTimer);
      this.#drainTimer = null;
      this.#closeWhenAnswered();
    }
  };

  #writeToClient(frame: Buffer): void {
    if (this.#state === 'closed' || this.#client.destroyed) return;
    this.toClient.add(frame.length);
    this.#options.traffic.toClient.add(frame.length);
    // Responses that arrive in one tick (ws parses many messages per read) go out in one write.
    if (!this.#clientCorked) {
      this.#clientCorked = true;
      this.#client.cork();
      process.nextTick(this.#uncorkClient);
    }
    if (!this.#client.write(frame) && !this.#brokerPaused && this.#ws) {
      this.#brokerPaused = true;
      this.#ws.pause();
      this.#client.once('drain', () => {
        this.#brokerPaused = false;
        if (this.#state !== 'closed') this.#ws?.resume();
      });
    }
  }

  #uncorkClient = (): void => {
    this.#clientCorked = false;
    this.#client.uncork();
  };

  #onBrokerClose(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    let message: string;
    if (this.#clientEnded) message = `${this.#clientGoneMessage('closed its side')}; broker connection closed`;
    else if (code === 1006) message = 'Broker connection dropped without a WebSocket close';
    else if (code === 1009) message = `Broker sent a message larger than the ${formatBytes(this.#options.maxFrameBytes)} frame limit`;
    else message = `Broker closed the connection (code ${code}${reason ? `: ${reason}` : ''})`;
    const level: EventLevel = this.#clientEnded || code === 1000 ? 'info' : 'warn';
    // Let what the broker already sent reach the client before ending it.
    this.#close({ code: this.#clientEnded ? 'CLIENT_CLOSED' : 'BROKER_CLOSED', message, level }, { graceful: true });
  }

  #startKeepalive(): void {
    const interval = this.#options.keepaliveMs;
    if (interval <= 0) return;
    this.#keepalive = setInterval(() => {
      if (!this.#alive) {
        this.#close({ code: 'BROKER_KEEPALIVE_TIMEOUT', message: `Broker did not answer a keepalive ping within ${interval} ms`, level: 'warn' });
        return;
      }
      this.#alive = false;
      this.#ws?.ping();
    }, interval);
    this.#keepalive.unref();
  }

  #clientGoneMessage(what: string): string {
    const partial = this.#splitter.bufferedBytes;
    if (partial === 0) return `Client ${what}`;
    const expected = this.#splitter.expectedBytes;
    const of = expected >= 0 ? ` of ${expected + SIZE_PREFIX_BYTES}` : '';
    return `Client ${what} in the middle of a frame (${partial}${of} bytes received, frame dropped)`;
  }

  #close(reason: CloseReason, options: { graceful?: boolean } = {}): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#keepalive) clearInterval(this.#keepalive);
    if (this.#drainTimer) clearTimeout(this.#drainTimer);
    this.#abort.abort();
    this.#interceptor?.dispose();
    this.#held = [];
    const ws = this.#ws;
    if (ws) {
      ws.removeAllListeners('message');
      if (ws.readyState === ws.OPEN) ws.close(1000, 'client closed');
      else if (ws.readyState === ws.CONNECTING) ws.terminate();
      // A close handshake the broker never answers must not hold the socket open.
      setTimeout(() => ws.terminate(), 2000).unref();
    }
    // Listeners hear the reason before the client side goes (the library turns it into the stream's error).
    this.emit('close', reason);
    if (options.graceful) {
      this.#client.end();
      // A client that never reads would keep an ended socket (and its buffer) forever.
      setTimeout(() => this.#client.destroy(), 5000).unref();
    } else {
      this.#client.destroy();
    }
  }
}

function formatPeer(socket: ClientStream): string {
  if (socket.remoteAddress === undefined) return 'in-process';
  const address = socket.remoteAddress;
  return address.includes(':') ? `[${address}]:${socket.remotePort}` : `${address}:${socket.remotePort}`;
}
