import type { WebSocket } from 'ws';

/**
 * One client WebSocket of the demo broker. Requests are handled one at a time
 * in arrival order, as a Kafka broker handles one connection's requests (it
 * stops reading a connection while a request of it is in progress), so
 * responses leave in request order even when a Fetch waits.
 *
 * Memory stays bounded whatever the client does: past MAX_QUEUED_FRAMES
 * waiting requests, or SEND_HIGH_WATER unsent response bytes, the socket stops
 * being read until the backlog drains.
 */

/** What the handler returns: a whole response frame, or null for no response. */
export type HandlerResult = Buffer | null;

export type FrameHandler = (frame: Buffer, connection: BrokerConnection) => HandlerResult | Promise<HandlerResult>;

/** A request that breaks the connection's framing; the connection is closed, never the broker. */
export class MalformedRequestError extends Error {
  readonly code = 'MALFORMED_REQUEST';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedRequestError';
  }
}

const MAX_QUEUED_FRAMES = 64;
const SEND_HIGH_WATER = 4 * 1024 * 1024;

/** RFC 6455 close codes used here. */
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_INVALID_PAYLOAD = 1007;
const CLOSE_GOING_AWAY = 1001;
/** Close reasons are limited to 123 bytes by RFC 6455. */
const MAX_REASON_BYTES = 123;

export interface BrokerConnectionOptions {
  handle: FrameHandler;
  /** Called once when the connection closes for a malformed frame or a text message. */
  onMalformed: (reason: string) => void;
  /** Start paused (the broker is stalled). */
  paused: boolean;
}

export class BrokerConnection {
  readonly #ws: WebSocket;
  readonly #options: BrokerConnectionOptions;
  readonly #queue: Buffer[] = [];
  readonly #closed = new AbortController();
  /** Responses finished while the broker was stalled, sent on resume. */
  readonly #held: Buffer[] = [];
  #busy = false;
  #stalled: boolean;
  #sendBlocked = false;

  constructor(ws: WebSocket, options: BrokerConnectionOptions) {
    this.#ws = ws;
    this.#options = options;
    this.#stalled = options.paused;
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    ws.on('close', () => this.#closed.abort());
    ws.on('error', () => this.#closed.abort());
    this.#applyReadState();
  }

  /** Aborted when the connection is gone: a waiting Fetch gives up on it. */
  get signal(): AbortSignal {
    return this.#closed.signal;
  }

  /** Stall: stop reading and answering until resume(). */
  pause(): void {
    this.#stalled = true;
    this.#applyReadState();
  }

  resume(): void {
    this.#stalled = false;
    for (const frame of this.#held.splice(0)) this.#send(frame);
    this.#applyReadState();
    this.#pump();
  }

  /**
   * Closes with 1001 so the peer learns why, and drops the socket if the close
   * handshake does not finish within `graceMs` (a stalled or vanished peer).
   */
  shutdown(graceMs: number): Promise<void> {
    this.#closed.abort();
    const ws = this.#ws;
    if (ws.readyState === ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => ws.terminate(), graceMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === ws.OPEN) ws.close(CLOSE_GOING_AWAY, 'Demo broker shutting down');
      else if (ws.readyState === ws.CONNECTING) ws.terminate();
    });
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.#closed.signal.aborted) return;
    if (!isBinary) {
      this.#fail(CLOSE_UNSUPPORTED_DATA, 'Text messages are not Kafka frames; send each frame as one binary message');
      return;
    }
    this.#queue.push(data);
    this.#applyReadState();
    this.#pump();
  }

  #pump(): void {
    while (!this.#busy && !this.#stalled && !this.#sendBlocked && this.#queue.length > 0 && !this.#closed.signal.aborted) {
      const frame = this.#queue.shift() as Buffer;
      let result: HandlerResult | Promise<HandlerResult>;
      try {
        result = this.#options.handle(frame, this);
      } catch (err) {
        this.#handlerFailed(err);
        return;
      }
      if (result instanceof Promise) {
        this.#busy = true;
        result.then(
          (response) => {
            this.#busy = false;
            this.#deliver(response);
            this.#applyReadState();
            this.#pump();
          },
          (err: unknown) => {
            this.#busy = false;
            this.#handlerFailed(err);
          },
        );
        return;
      }
      this.#deliver(result);
    }
    this.#applyReadState();
  }

  #deliver(response: HandlerResult): void {
    if (response === null || this.#closed.signal.aborted) return;
    if (this.#stalled) this.#held.push(response);
    else this.#send(response);
  }

  #send(frame: Buffer): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.send(frame, { binary: true }, () => {
      if (this.#sendBlocked && this.#ws.bufferedAmount < SEND_HIGH_WATER / 2) {
        this.#sendBlocked = false;
        this.#applyReadState();
        this.#pump();
      }
    });
    if (this.#ws.bufferedAmount >= SEND_HIGH_WATER) {
      this.#sendBlocked = true;
      this.#applyReadState();
    }
  }

  #handlerFailed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.#fail(CLOSE_INVALID_PAYLOAD, message);
  }

  #fail(code: number, reason: string): void {
    if (this.#closed.signal.aborted) return;
    this.#options.onMalformed(reason);
    this.#queue.length = 0;
    this.#closed.abort();
    this.#ws.close(code, truncateReason(reason));
  }

  /** Reads only while there is room to hold what arrives and nothing stalls the broker. */
  #applyReadState(): void {
    if (this.#closed.signal.aborted) return;
    const hold = this.#stalled || this.#sendBlocked || this.#queue.length >= MAX_QUEUED_FRAMES;
    if (hold && !this.#ws.isPaused) this.#ws.pause();
    else if (!hold && this.#ws.isPaused) this.#ws.resume();
  }
}

function truncateReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= MAX_REASON_BYTES) return reason;
  // Cut on a character boundary: drop a partial UTF-8 sequence at the end.
  return bytes.subarray(0, MAX_REASON_BYTES).toString('utf8').replace(/\uFFFD$/, '');
}
