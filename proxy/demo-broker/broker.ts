import { listenError } from '../listen-errors.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { ShimError } from '../../shared/errors.ts';
import { DEFAULT_MAX_FRAME_BYTES, formatHostPort, reachableHost, type HostPort } from '../../shared/profile.ts';
import { ApiKey, apiName } from '../kafka/api-keys.ts';
import { decodeFetchRequestV0, encodeFetchResponseV0, type FetchRequestV0 } from '../kafka/fetch-v0.ts';
import { checkFullyRead } from '../kafka/flexible.ts';
import { decodeRequestHeader, encodeResponseHeader, peekRequestHeader, SIZE_PREFIX_BYTES } from '../kafka/headers.ts';
import { decodeListOffsetsRequestV0, encodeListOffsetsResponseV0 } from '../kafka/list-offsets-v0.ts';
import type { MessageV0 } from '../kafka/message-set-v0.ts';
import { decodeMetadataRequest } from '../kafka/metadata-request.ts';
import { encodeMetadataResponse } from '../kafka/metadata-response.ts';
import { ACKS_NONE, decodeProduceRequestV0, encodeProduceResponseV0 } from '../kafka/produce-v0.ts';
import { Reader } from '../kafka/reader.ts';
import { Writer } from '../kafka/writer.ts';
import { BrokerConnection, MalformedRequestError, type HandlerResult } from './connection.ts';
import { DemoStore, partitionKey, type TopicInfo, type TopicSpec } from './store.ts';

/**
 * The built-in demo broker: an in-memory Kafka 0.8 broker behind a WebSocket
 * server, behaving like kafka-worker. One binary message carries one Kafka frame
 * (size prefix included) each way. It answers Produce, Fetch, ListOffsets and
 * Metadata, all v0, and nothing else: any other API or version, ApiVersions
 * included, gets no response and the connection stays open, which is exactly
 * what the tunnel's compatibility layer has to cope with.
 */

export interface DemoBrokerOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** What Metadata tells clients to connect to; default the broker's own address. */
  advertise?: HostPort;
  /** Default test-topic with 1 partition and events with 3. */
  topics?: TopicSpec[];
  /** Per partition; the oldest messages are dropped past it. Default 10 000. */
  retentionMessages?: number;
  /** Per partition, bytes of stored messages; default 16 MiB. */
  retentionBytes?: number;
  /** Largest single message accepted (Kafka's message.max.bytes); default 1 MB. */
  maxMessageBytes?: number;
  /** Largest frame accepted; a larger one closes that connection. Default 100 MiB. */
  maxFrameBytes?: number;
}

export interface DemoBrokerStats {
  connectionsOpen: number;
  connectionsTotal: number;
  /** Requests received, by API name (answered or not). */
  requests: Record<string, number>;
  /** Requests left unanswered because kafka-worker would ignore them, by "Name vN". */
  ignored: Record<string, number>;
  /** Connections closed for a malformed frame or a text message. */
  malformedClosed: number;
}

export interface DemoBroker {
  readonly host: string;
  readonly port: number;
  /** ws://host:port/ — what a tunnel dials. */
  readonly url: string;
  readonly advertise: HostPort;
  topics(): TopicInfo[];
  /** Adds messages directly, as if produced; returns the first offset given. */
  append(topic: string, partition: number, messages: readonly MessageV0[]): bigint;
  stats(): DemoBrokerStats;
  /** Stalls the broker: every connection stops being read and answered. */
  pause(): void;
  resume(): void;
  /** Closes every connection and frees the port. */
  close(): Promise<void>;
}

export const DEFAULT_DEMO_TOPICS: readonly TopicSpec[] = [
  { name: 'test-topic', partitions: 1 },
  { name: 'events', partitions: 3 },
];

const DEFAULT_RETENTION_MESSAGES = 10_000;
const DEFAULT_RETENTION_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_MESSAGE_BYTES = 1_000_000;
const SHUTDOWN_GRACE_MS = 1000;

/** The APIs and versions kafka-worker answers; everything else is ignored. */
const ANSWERED = new Set<number>([ApiKey.Produce, ApiKey.Fetch, ApiKey.ListOffsets, ApiKey.Metadata]);
const ANSWERED_VERSION = 0;


export async function startDemoBroker(options: DemoBrokerOptions = {}): Promise<DemoBroker> {
  const broker = new DemoBrokerServer(options);
  await broker.listen();
  return broker;
}

interface FetchWaiter {
  request: FetchRequestV0;
  keys: Set<string>;
  done: () => void;
}

class DemoBrokerServer implements DemoBroker {
  readonly #options: DemoBrokerOptions;
  readonly #store: DemoStore;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<BrokerConnection>();
  readonly #waiters = new Set<FetchWaiter>();
  readonly #requests: Record<string, number> = {};
  readonly #ignored: Record<string, number> = {};
  #connectionsTotal = 0;
  #malformedClosed = 0;
  #paused = false;
  #address: HostPort | null = null;
  #advertise: HostPort | null = null;
  #closing: Promise<void> | null = null;

  constructor(options: DemoBrokerOptions) {
    this.#options = options;
    const topics = options.topics ?? DEFAULT_DEMO_TOPICS;
    validateTopics(topics);
    this.#store = new DemoStore({
      topics,
      retentionMessages: positive(options.retentionMessages ?? DEFAULT_RETENTION_MESSAGES, 'retentionMessages'),
      retentionBytes: positive(options.retentionBytes ?? DEFAULT_RETENTION_BYTES, 'retentionBytes'),
      maxMessageBytes: positive(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes'),
    });
    this.#http = createServer(refusePlainHttp);
    const maxFrameBytes = positive(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, 'maxFrameBytes');
    // noServer: listen errors stay on the HTTP server, where listen() reports them.
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes + SIZE_PREFIX_BYTES });
    this.#http.on('upgrade', (req, socket, head) => {
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
    });
    this.#wss.on('connection', (ws) => {
      const connection = new BrokerConnection(ws, {
        handle: (frame, conn) => this.#handle(frame, conn),
        onMalformed: () => this.#malformedClosed++,
        paused: this.#paused,
      });
      this.#connectionsTotal++;
      this.#connections.add(connection);
      ws.on('close', () => this.#connections.delete(connection));
    });
  }

  get host(): string {
    return this.#listening().host;
  }

  get port(): number {
    return this.#listening().port;
  }

  get url(): string {
    return `ws://${formatHostPort(this.#listening())}/`;
  }

  get advertise(): HostPort {
    this.#listening();
    return this.#advertise as HostPort;
  }

  async listen(): Promise<void> {
    const host = this.#options.host ?? '127.0.0.1';
    const port = this.#options.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, host, port));
      this.#http.once('error', onError);
      this.#http.listen(port, host, () => {
        this.#http.off('error', onError);
        resolve();
      });
    });
    const actual = (this.#http.address() as AddressInfo).port;
    this.#address = { host, port: actual };
    this.#advertise = this.#options.advertise ?? { host: reachableHost(host), port: actual };
  }

  topics(): TopicInfo[] {
    return this.#store.topics();
  }

  append(topic: string, partition: number, messages: readonly MessageV0[]): bigint {
    const base = this.#store.append(topic, partition, messages);
    this.#wake([partitionKey(topic, partition)]);
    return base;
  }

  stats(): DemoBrokerStats {
    return {
      connectionsOpen: this.#connections.size,
      connectionsTotal: this.#connectionsTotal,
      requests: { ...this.#requests },
      ignored: { ...this.#ignored },
      malformedClosed: this.#malformedClosed,
    };
  }

  pause(): void {
    this.#paused = true;
    for (const c of this.#connections) c.pause();
  }

  resume(): void {
    this.#paused = false;
    for (const c of this.#connections) c.resume();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    for (const w of [...this.#waiters]) w.done();
    await Promise.all([...this.#connections].map((c) => c.shutdown(SHUTDOWN_GRACE_MS)));
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    if (!this.#http.listening) return;
    await new Promise<void>((resolve) => {
      this.#http.closeAllConnections();
      this.#http.close(() => resolve());
    });
  }

  #listening(): HostPort {
    if (!this.#address) throw new ShimError('INTERNAL', 'The demo broker is not listening yet');
    return this.#address;
  }

  /** One request frame in; a response frame, null for none, or a promise of one (a waiting Fetch). */
  #handle(frame: Buffer, connection: BrokerConnection): HandlerResult | Promise<HandlerResult> {
    const peek = peekRequestHeader(frame);
    if (!peek) throw new MalformedRequestError(`A ${frame.length}-byte frame is too short to be a Kafka request`);
    const size = frame.readInt32BE(0);
    if (size !== frame.length - SIZE_PREFIX_BYTES) {
      throw new MalformedRequestError(`Frame size prefix says ${size} bytes but the message carries ${frame.length - SIZE_PREFIX_BYTES}`);
    }
    const name = apiName(peek.apiKey);
    this.#requests[name] = (this.#requests[name] ?? 0) + 1;
    if (!ANSWERED.has(peek.apiKey) || peek.apiVersion !== ANSWERED_VERSION) {
      const key = `${name} v${peek.apiVersion}`;
      this.#ignored[key] = (this.#ignored[key] ?? 0) + 1;
      return null;
    }
    try {
      return this.#answer(new Reader(frame, SIZE_PREFIX_BYTES), connection);
    } catch (err) {
      throw new MalformedRequestError(`Cannot read this ${name} v0 request: ${(err as Error).message}`, { cause: err });
    }
  }

  #answer(r: Reader, connection: BrokerConnection): HandlerResult | Promise<HandlerResult> {
    const header = decodeRequestHeader(r);
    const respond = (encodeBody: (w: Writer) => void): Buffer => {
      const w = encodeResponseHeader({ correlationId: header.correlationId }, new Writer(), 0);
      encodeBody(w);
      return w.toFrame();
    };
    switch (header.apiKey) {
      case ApiKey.Produce: {
        const request = decodeProduceRequestV0(r);
        checkFullyRead(r, 'Produce request');
        const { response, appended } = this.#store.produce(request);
        this.#wake(appended);
        return request.acks === ACKS_NONE ? null : respond((w) => encodeProduceResponseV0(response, w));
      }
      case ApiKey.Fetch: {
        const request = decodeFetchRequestV0(r);
        checkFullyRead(r, 'Fetch request');
        const answer = () => respond((w) => encodeFetchResponseV0(this.#store.fetch(request), w));
        if (this.#store.fetchReady(request)) return answer();
        return this.#waitForData(request, connection.signal).then(answer);
      }
      case ApiKey.ListOffsets: {
        const request = decodeListOffsetsRequestV0(r);
        checkFullyRead(r, 'ListOffsets request');
        return respond((w) => encodeListOffsetsResponseV0(this.#store.listOffsets(request), w));
      }
      default: {
        const request = decodeMetadataRequest(0, r);
        checkFullyRead(r, 'Metadata request');
        return respond((w) => encodeMetadataResponse(0, this.#store.metadata(request, this.advertise), w));
      }
    }
  }

  /**
   * The Fetch long poll: resolves when a produce makes min_bytes available on
   * the requested partitions, when max_wait_ms passes, or when the connection
   * or the broker goes away.
   */
  #waitForData(request: FetchRequestV0, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const keys = new Set(request.topics.flatMap((t) => t.partitions.map((p) => partitionKey(t.topic, p.partition))));
      const waiter: FetchWaiter = {
        request,
        keys,
        done: () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', waiter.done);
          this.#waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.done, request.maxWaitMs);
      signal.addEventListener('abort', waiter.done);
      this.#waiters.add(waiter);
    });
  }

  #wake(keys: readonly string[]): void {
    if (keys.length === 0 || this.#waiters.size === 0) return;
    for (const w of [...this.#waiters]) {
      if (keys.some((k) => w.keys.has(k)) && this.#store.fetchReady(w.request)) w.done();
    }
  }
}

function refusePlainHttp(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' });
  res.end('This is a Kafka-over-WebSocket demo broker; connect with a WebSocket.\n');
}

function validateTopics(topics: readonly TopicSpec[]): void {
  const seen = new Set<string>();
  for (const t of topics) {
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(t.name)) {
      throw new ShimError('INVALID_ARGUMENT', `"${t.name}" is not a valid topic name (letters, digits, '.', '_' and '-', at most 249)`);
    }
    if (seen.has(t.name)) throw new ShimError('INVALID_ARGUMENT', `Topic "${t.name}" is listed twice`);
    if (!Number.isInteger(t.partitions) || t.partitions < 1 || t.partitions > 10_000) {
      throw new ShimError('INVALID_ARGUMENT', `Topic "${t.name}" needs between 1 and 10000 partitions, not ${t.partitions}`);
    }
    seen.add(t.name);
  }
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new ShimError('INVALID_ARGUMENT', `The demo broker's ${name} must be a whole number above 0, not ${value}`);
  return value;
}
