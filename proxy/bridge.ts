import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ApiStats, ConnectionSnapshot, EventKind, EventLevel } from '../shared/stats.ts';
import { formatBytes } from '../shared/format.ts';
import type { DialError } from './dial.ts';
import { FrameError, FrameSplitter, SIZE_PREFIX_BYTES, type FrameStream } from './framing.ts';
import { Counter } from './traffic.ts';
import type { BrokerLink, LinkHandlers } from './ws/link.ts';

/**
 * One client socket <-> one WebSocket to the broker. Each client frame goes out as
 * one binary message (size prefix included); each binary message from the broker
 * is written to the client as is. Memory stays bounded whatever the peers do:
 * a side that cannot keep up pauses the other.
 *
 * Large frames are streamed both ways rather than gathered (framing.ts and
 * ws/link.ts): a 1 MiB request leaves for the broker while it is still arriving,
 * and a 1 MiB response reaches the client the same way. The Kafka-aware session
 * sees such a frame's head and decides; frames it must read whole are gathered.
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

/** Bytes the client may send while the WebSocket is still connecting before we stop reading. */
const HOLD_LIMIT_BYTES = 4 * 1024 * 1024;
/** Bytes written toward the broker but not yet taken by the kernel; above this the client is paused. */
const SEND_HIGH_WATER = 4 * 1024 * 1024;
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
  /** A TCP socket hands us a fresh buffer per read, ours to mask in place; an in-process client's buffers are its own. */
  readonly #ownsClientBuffers: boolean;
  #link: BrokerLink | null = null;
  #state: 'connecting' | 'open' | 'closing' | 'closed' = 'connecting';
  #held: Buffer[] = [];
  #heldBytes = 0;
  #clientPausedBy = new Set<'hold' | 'send'>();
  #brokerPaused = false;
  #clientEnded = false;
  #clientCorked = false;
  /** Length of the response being streamed to the client, or -1; other writes wait in #clientQueue. */
  #streamingToClient = -1;
  #clientQueue: Buffer[] = [];
  /** Length of the request being streamed to the broker. */
  #streamingToBroker = 0;
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
    this.#ownsClientBuffers = options.client instanceof Socket;
    this.#interceptor =
      options.interceptor?.({
        sendToClient: (frame) => this.#writeToClient(frame),
        // The session's own translations: fresh buffers, free to mask in place.
        sendToBroker: (frame) => this.#sendToBroker(frame, true),
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
    let link: BrokerLink;
    try {
      link = await this.#options.connect(this.#abort.signal, (err, attempt, delayMs) =>
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
      link.terminate();
      return;
    }
    this.#link = link;
    this.#state = 'open';
    link.attach(this.#brokerHandlers);
    this.#startKeepalive();
    this.emit('open');

    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const frame of held) this.#forwardToBroker(frame);
    this.#checkSendBacklog();
    this.#unpauseClient('hold');
    if (this.#clientEnded) this.#closeWhenAnswered();
  }

  // ---- client -> broker ----

  #onClientData = (chunk: Buffer): void => {
    // Every frame of this chunk leaves in one write to the broker's socket.
    const link = this.#link;
    link?.cork();
    try {
      this.#splitter.push(chunk, this.#onClientFrame, this.#toBrokerStream);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.#close({ code: err.code, message: `${err.message}; connection closed`, level: 'error' });
    } finally {
      link?.uncork();
    }
    this.#checkSendBacklog();
  };

  /** Large requests, piece by piece, once the broker connection is open and the session agrees. */
  #toBrokerStream: FrameStream = {
    start: (head, total) => {
      const link = this.#link;
      if (this.#state !== 'open' || !link) return false;
      const interceptor = this.#interceptor;
      if (interceptor && interceptor.clientHead?.(head, total) !== 'stream') return false;
      this.#streamingToBroker = total;
      link.begin(total);
      return true;
    },
    part: (bytes, last) => {
      this.#link?.part(bytes, this.#ownsClientBuffers);
      if (!last) return;
      this.toBroker.add(this.#streamingToBroker);
      this.#options.traffic.toBroker.add(this.#streamingToBroker);
    },
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

  #sendToBroker(frame: Buffer, owned = this.#ownsClientBuffers): void {
    if (this.#state !== 'open' || !this.#link) return;
    this.toBroker.add(frame.length);
    this.#options.traffic.toBroker.add(frame.length);
    this.#link.send(frame, owned);
  }

  /** A broker that reads slower than the client writes pauses the client until the backlog drains. */
  #checkSendBacklog(): void {
    const link = this.#link;
    if (!link || this.#clientPausedBy.has('send') || link.bufferedBytes < SEND_HIGH_WATER) return;
    this.#pauseClient('send');
    link.onceDrained(() => this.#unpauseClient('send'));
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
    const link = this.#link;
    if (!link || this.#closeRequested) return;
    if ((this.#interceptor?.inFlight ?? 0) === 0) {
      this.#closeRequested = true;
      link.close(1000, 'client closed');
      return;
    }
    if (this.#drainTimer) return;
    this.#drainTimer = setTimeout(() => {
      this.#closeRequested = true;
      link.close(1000, 'client closed');
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

  #brokerHandlers: LinkHandlers = {
    message: (data) => this.#onBrokerMessage(data),
    messageStart: (head, length) => this.#onBrokerMessageStart(head, length),
    messagePart: (part, last) => this.#onBrokerMessagePart(part, last),
    text: () =>
      this.#close({ code: 'BROKER_TEXT_MESSAGE', message: 'Broker sent a text WebSocket message; Kafka frames must be binary. Connection closed', level: 'error' }),
    pong: () => (this.#alive = true),
    error: (err) => {
      // The close that follows would look like a drop, so say why now.
      const message =
        err.code === 'BROKER_FRAME_TOO_LARGE'
          ? `Broker sent a message larger than the ${formatBytes(this.#options.maxFrameBytes)} frame limit; connection closed`
          : `Broker broke the WebSocket protocol (${err.message}); connection closed`;
      this.#close({ code: err.code, message, level: 'error' });
    },
    close: (code, reason) => this.#onBrokerClose(code, reason),
  };

  /** Whether a message of `length` bytes starting with `head` is one whole Kafka frame; closes the connection if not. */
  #checkBrokerFrame(head: Buffer, length: number): boolean {
    if (length >= SIZE_PREFIX_BYTES && head.readInt32BE(0) === length - SIZE_PREFIX_BYTES) return true;
    const claimed = length >= SIZE_PREFIX_BYTES ? ` whose size prefix says ${head.readInt32BE(0)} bytes` : '';
    this.#close({
      code: 'BROKER_BAD_FRAME',
      message: `Broker sent a ${length}-byte message${claimed}; each message must be one whole Kafka frame. Connection closed`,
      level: 'error',
    });
    return false;
  }

  #onBrokerMessage(data: Buffer): void {
    if (this.#state === 'closed') return;
    this.#alive = true;
    if (!this.#checkBrokerFrame(data, data.length)) return;
    const out = this.#interceptor ? this.#interceptor.brokerFrame(data) : data;
    if (out) this.#writeToClient(out);
    this.#answered();
  }

  #onBrokerMessageStart(head: Buffer, length: number): 'stream' | 'collect' {
    if (this.#state === 'closed' || !this.#checkBrokerFrame(head, length)) return 'collect';
    const interceptor = this.#interceptor;
    if (interceptor && interceptor.brokerHead?.(head, length) !== 'stream') return 'collect';
    this.#streamingToClient = length;
    return 'stream';
  }

  #onBrokerMessagePart(part: Buffer, last: boolean): void {
    if (this.#state === 'closed') return;
    this.#alive = true;
    this.#writeClientBytes(part);
    if (!last) return;
    const length = this.#streamingToClient;
    this.#streamingToClient = -1;
    this.toClient.add(length);
    this.#options.traffic.toClient.add(length);
    // What the session wrote meanwhile (local answers) follows the response it waited behind.
    const queued = this.#clientQueue;
    this.#clientQueue = [];
    for (const frame of queued) this.#writeToClient(frame);
    this.#answered();
  }

  /** A response went out: a half-closed client may now be done. */
  #answered(): void {
    if (this.#drainTimer && (this.#interceptor?.inFlight ?? 0) === 0) {
      clearTimeout(this.#drainTimer);
      this.#drainTimer = null;
      this.#closeWhenAnswered();
    }
  }

  #writeToClient(frame: Buffer): void {
    if (this.#state === 'closed' || this.#client.destroyed) return;
    if (this.#streamingToClient >= 0) {
      this.#clientQueue.push(frame);
      return;
    }
    this.toClient.add(frame.length);
    this.#options.traffic.toClient.add(frame.length);
    this.#writeClientBytes(frame);
  }

  #writeClientBytes(bytes: Buffer): void {
    if (this.#state === 'closed' || this.#client.destroyed) return;
    // Responses that arrive in one tick (ws parses many messages per read) go out in one write.
    if (!this.#clientCorked) {
      this.#clientCorked = true;
      this.#client.cork();
      process.nextTick(this.#uncorkClient);
    }
    if (!this.#client.write(bytes) && !this.#brokerPaused && this.#link) {
      const link = this.#link;
      this.#brokerPaused = true;
      link.pause();
      this.#client.once('drain', () => {
        this.#brokerPaused = false;
        if (this.#state !== 'closed') link.resume();
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
      const link = this.#link;
      // A ping cannot interrupt a request being streamed. If the broker takes its bytes as fast
      // as they come (nothing backed up), the wait is the client's: skip this round.
      if (link?.writingMessage && link.bufferedBytes === 0) {
        this.#alive = true;
        return;
      }
      if (!this.#alive) {
        this.#close({ code: 'BROKER_KEEPALIVE_TIMEOUT', message: `Broker did not answer a keepalive ping within ${interval} ms`, level: 'warn' });
        return;
      }
      this.#alive = false;
      this.#link?.ping();
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
    const link = this.#link;
    if (link) {
      link.close(1000, 'client closed');
      // A close handshake the broker never answers must not hold the socket open.
      setTimeout(() => link.terminate(), 2000).unref();
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
