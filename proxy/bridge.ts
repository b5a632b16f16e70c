import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import type { ConnectionSnapshot, EventLevel } from '../shared/stats.ts';
import { formatBytes } from '../shared/format.ts';
import type { BridgeEvent, BridgeOptions, ClientStream, CloseReason, FrameInterceptor } from './bridge-contract.ts';
import { ClientWriter } from './client-writer.ts';
import type { DialError } from './dial.ts';
import { FrameError, FrameSplitter, SIZE_PREFIX_BYTES, type FrameStream } from './framing.ts';
import { HalfClose } from './half-close.ts';
import { Keepalive } from './keepalive.ts';
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
 *
 * The options, events and interceptor seam are declared in bridge-contract.ts;
 * writing to the client is client-writer.ts, the broker's keepalive keepalive.ts,
 * and waiting out a client's half-close half-close.ts.
 */

/** Bytes the client may send while the WebSocket is still connecting before we stop reading. */
const HOLD_LIMIT_BYTES = 4 * 1024 * 1024;
/** Bytes written toward the broker but not yet taken by the kernel; above this the client is paused. */
const SEND_HIGH_WATER = 4 * 1024 * 1024;

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
  readonly #clientWriter: ClientWriter;
  /** A TCP socket hands us a fresh buffer per read, ours to mask in place; an in-process client's buffers are its own. */
  readonly #ownsClientBuffers: boolean;
  #link: BrokerLink | null = null;
  #state: 'connecting' | 'open' | 'closing' | 'closed' = 'connecting';
  #held: Buffer[] = [];
  #heldBytes = 0;
  #clientPausedBy = new Set<'hold' | 'send'>();
  #clientEnded = false;
  /** Length of the request being streamed to the broker. */
  #streamingToBroker = 0;
  #keepalive: Keepalive | null = null;
  #halfClose: HalfClose | null = null;

  constructor(options: BridgeOptions) {
    super();
    this.id = options.id;
    this.#options = options;
    this.#client = options.client;
    this.clientAddress = formatPeer(options.client);
    this.#splitter = new FrameSplitter({ maxFrameBytes: options.maxFrameBytes });
    this.#ownsClientBuffers = options.client instanceof Socket;
    this.#clientWriter = new ClientWriter({
      client: options.client,
      counters: [this.toClient, options.traffic.toClient],
      closed: () => this.#state === 'closed',
      broker: () => this.#link,
    });
    this.#interceptor =
      options.interceptor?.({
        sendToClient: (frame) => this.#clientWriter.frame(frame),
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
    this.#halfClose = new HalfClose(link, () => this.#interceptor?.inFlight ?? 0);
    link.attach(this.#brokerHandlers);
    this.#startKeepalive(link);
    this.emit('open');

    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const frame of held) this.#forwardToBroker(frame);
    this.#checkSendBacklog();
    this.#unpauseClient('hold');
    if (this.#clientEnded) this.#halfClose.closeWhenAnswered();
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
      this.#countToBroker(this.#streamingToBroker);
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
    this.#countToBroker(frame.length);
    this.#link.send(frame, owned);
  }

  /** One whole frame to the broker, on the connection's counter and the tunnel's. */
  #countToBroker(bytes: number): void {
    this.toBroker.add(bytes);
    this.#options.traffic.toBroker.add(bytes);
  }

  /** A broker that reads slower than the client writes pauses the client until the backlog drains. */
  #checkSendBacklog(): void {
    const link = this.#link;
    if (!link || this.#clientPausedBy.has('send') || link.bufferedBytes < SEND_HIGH_WATER) return;
    this.#pauseClient('send');
    link.onceDrained(() => this.#unpauseClient('send'));
  }

  /** A half-close (half-close.ts); the client is ended once the broker has closed. */
  #onClientEnd = (): void => {
    this.#clientEnded = true;
    if (this.#state === 'open') {
      this.#halfClose?.closeWhenAnswered();
    } else if (this.#state === 'connecting' && this.#held.length === 0 && this.#splitter.bufferedBytes === 0) {
      // Gone before the broker connection opened, having asked nothing: no need to reach the broker.
      this.#close({ code: 'CLIENT_CLOSED', message: 'Client closed before the broker connection opened', level: 'info' });
    }
  };

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
    pong: () => this.#keepalive?.heard(),
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
    this.#keepalive?.heard();
    if (!this.#checkBrokerFrame(data, data.length)) return;
    const out = this.#interceptor ? this.#interceptor.brokerFrame(data) : data;
    if (out) this.#clientWriter.frame(out);
    this.#halfClose?.answered();
  }

  #onBrokerMessageStart(head: Buffer, length: number): 'stream' | 'collect' {
    if (this.#state === 'closed' || !this.#checkBrokerFrame(head, length)) return 'collect';
    const interceptor = this.#interceptor;
    if (interceptor && interceptor.brokerHead?.(head, length) !== 'stream') return 'collect';
    this.#clientWriter.startStream(length);
    return 'stream';
  }

  #onBrokerMessagePart(part: Buffer, last: boolean): void {
    if (this.#state === 'closed') return;
    this.#keepalive?.heard();
    this.#clientWriter.streamPart(part, last);
    if (last) this.#halfClose?.answered();
  }

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

  #startKeepalive(link: BrokerLink): void {
    const intervalMs = this.#options.keepaliveMs;
    if (intervalMs <= 0) return;
    this.#keepalive = new Keepalive(link, {
      intervalMs,
      onTimeout: () =>
        this.#close({ code: 'BROKER_KEEPALIVE_TIMEOUT', message: `Broker did not answer a keepalive ping within ${intervalMs} ms`, level: 'warn' }),
    });
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
    this.#keepalive?.stop();
    this.#halfClose?.stop();
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
