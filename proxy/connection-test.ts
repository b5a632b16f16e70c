import { performance } from 'node:perf_hooks';
import type { ConnectionTestResult } from '../shared/api.ts';
import { ShimError } from '../shared/errors.ts';
import { brokerUrl, headersMissingValues, isWebSocketUrl, type Profile } from '../shared/profile.ts';
import { describeUrl, DialError, dialOnce, loadCa } from './dial.ts';
import type { BrokerLink } from './ws/link.ts';
import { ApiKey, apiName } from './kafka/api-keys.ts';
import { decodeApiVersionsResponse } from './kafka/api-versions-response.ts';
import { decodeResponseHeader, encodeRequestHeader, frameReader, requestHeaderVersion, responseHeaderVersion } from './kafka/headers.ts';
import { encodeMetadataRequest } from './kafka/metadata-request.ts';
import { decodeMetadataResponse, METADATA_RESPONSE_MAX_VERSION } from './kafka/metadata-response.ts';
import { Writer } from './kafka/writer.ts';

/**
 * "Test connection": open the WebSocket the way a tunnel would, then speak just
 * enough Kafka to show the broker is there — ApiVersions v0 (0.8-era brokers
 * stay silent, which is fine) and Metadata for all topics. Reports each step's
 * result, or the stage where it stopped, in words a person can act on.
 */

export interface ConnectionTestOptions {
  headers?: Record<string, string>;
  /** PEM text of extra CAs to trust. */
  ca?: string;
  rejectUnauthorized?: boolean;
  /** Explicit outbound proxy; undefined means HTTPS_PROXY / NO_PROXY. */
  httpProxy?: string;
  /** Limit for the handshake, and again for the Metadata answer. Default 10 s. */
  timeoutMs?: number;
  /** How long to wait for ApiVersions before assuming a 0.8-era broker. Default 1.5 s. */
  apiVersionsWaitMs?: number;
}

type Failure = NonNullable<ConnectionTestResult['failure']>;

const CLIENT_ID = 'kafka-websocket-shim-test';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_API_VERSIONS_WAIT_MS = 1500;
/** Answers bigger than this are not what a metadata test expects. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

class TestFailure extends Error {
  readonly failure: Failure;
  constructor(failure: Failure) {
    super(failure.message);
    this.failure = failure;
  }
}

export async function testConnection(url: string, options: ConnectionTestOptions = {}): Promise<ConnectionTestResult> {
  const result: ConnectionTestResult = {
    ok: false,
    url: describeUrl(url),
    handshakeMs: null,
    failure: null,
    apiVersions: null,
    brokers: [],
    topics: [],
  };
  if (!isWebSocketUrl(url)) {
    result.failure = { stage: 'config', message: `${url} is not a ws:// or wss:// URL` };
    return result;
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let link: BrokerLink | null = null;
  try {
    const started = performance.now();
    link = await open(url, options, timeoutMs);
    result.handshakeMs = Math.round((performance.now() - started) * 10) / 10;
    const exchange = new Exchange(link);
    const apiVersions = await exchange.apiVersions(Math.min(options.apiVersionsWaitMs ?? DEFAULT_API_VERSIONS_WAIT_MS, timeoutMs));
    result.apiVersions = apiVersions;
    const metadata = await exchange.metadata(metadataVersion(apiVersions), timeoutMs);
    result.brokers = metadata.brokers.map(({ nodeId, host, port }) => ({ nodeId, host, port }));
    result.topics = metadata.topics.map((t) => ({ name: t.name ?? '', partitions: t.partitions.length, errorCode: t.errorCode }));
    result.ok = true;
  } catch (err) {
    if (err instanceof TestFailure) result.failure = err.failure;
    else result.failure = { stage: 'protocol', message: err instanceof Error ? err.message : String(err) };
  } finally {
    link?.terminate();
  }
  return result;
}

/** The same test for a profile, with its headers, TLS settings, proxy and timeout. */
export async function testProfileConnection(profile: Profile, options: { apiVersionsWaitMs?: number } = {}): Promise<ConnectionTestResult> {
  const fail = (message: string): ConnectionTestResult => ({
    ok: false,
    url: profile.demoBroker ? 'demo broker' : describeUrl(safeBrokerUrl(profile)),
    handshakeMs: null,
    failure: { stage: 'config', message },
    apiVersions: null,
    brokers: [],
    topics: [],
  });
  if (profile.demoBroker) return fail('The demo broker runs inside the tunnel; start the tunnel to try it');
  const missing = headersMissingValues(profile);
  if (missing.length > 0) return fail(`Header ${missing.join(', ')} has no value; enter it again in the profile`);
  let ca: string | undefined;
  try {
    ca = loadCa(profile.caFile);
  } catch (err) {
    return fail(err instanceof ShimError ? err.message : String(err));
  }
  const headers: Record<string, string> = {};
  for (const h of profile.headers) headers[h.name] = h.value ?? '';
  return testConnection(brokerUrl(profile), {
    headers,
    ca,
    rejectUnauthorized: profile.tlsVerify,
    httpProxy: profile.httpProxy,
    timeoutMs: profile.connectTimeoutMs,
    apiVersionsWaitMs: options.apiVersionsWaitMs,
  });
}

function safeBrokerUrl(profile: Profile): string {
  try {
    return brokerUrl(profile);
  } catch {
    return profile.broker;
  }
}

async function open(url: string, options: ConnectionTestOptions, timeoutMs: number): Promise<BrokerLink> {
  // dialOnce's own timeout covers the HTTP upgrade; this one also covers a DNS or TCP stall.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    return await dialOnce(
      {
        url,
        headers: options.headers ?? {},
        ca: options.ca,
        rejectUnauthorized: options.rejectUnauthorized ?? true,
        httpProxy: options.httpProxy,
        maxPayload: MAX_ANSWER_BYTES,
      },
      timeoutMs,
      abort.signal,
    );
  } catch (err) {
    if (abort.signal.aborted) {
      throw new TestFailure({ stage: 'timeout', message: `No WebSocket handshake with ${describeUrl(url)} within ${timeoutMs} ms` });
    }
    throw new TestFailure(dialFailure(err));
  } finally {
    clearTimeout(timer);
  }
}

function dialFailure(err: unknown): Failure {
  if (!(err instanceof DialError)) return { stage: 'tcp', message: err instanceof Error ? err.message : String(err) };
  switch (err.code) {
    case 'BROKER_DNS':
      return { stage: 'dns', message: err.message };
    case 'BROKER_TLS':
      return { stage: 'tls', message: err.message };
    case 'BROKER_HANDSHAKE_REJECTED':
      return { stage: 'http', message: err.message, httpStatus: err.status };
    case 'BROKER_TIMEOUT':
      return { stage: 'timeout', message: err.message };
    case 'BROKER_CONFIG':
      return { stage: 'config', message: err.message };
    default:
      return { stage: 'tcp', message: err.message };
  }
}

/** Metadata v0 for a silent (0.8-era) broker, else the newest both sides read (Kafka 4 dropped v0–v3). */
function metadataVersion(apiVersions: ConnectionTestResult['apiVersions']): number {
  const range = apiVersions?.find((a) => a.apiKey === ApiKey.Metadata);
  if (!range) return 0;
  const version = Math.min(range.maxVersion, METADATA_RESPONSE_MAX_VERSION);
  if (version < range.minVersion) {
    throw new TestFailure({
      stage: 'protocol',
      message: `Broker accepts only Metadata v${range.minVersion}–v${range.maxVersion}; the shim reads up to v${METADATA_RESPONSE_MAX_VERSION}`,
    });
  }
  return version;
}

/** Requests over one WebSocket, each answer matched by correlation id. */
class Exchange {
  readonly #link: BrokerLink;
  readonly #waiting = new Map<number, { resolve(frame: Buffer): void; reject(err: TestFailure): void }>();
  #nextId = 1;
  #closed: TestFailure | null = null;

  constructor(link: BrokerLink) {
    this.#link = link;
    const notKafka = () => this.#fail(new TestFailure({ stage: 'protocol', message: 'Broker sent a WebSocket message that is not one whole Kafka frame' }));
    link.attach({
      message: (data) => this.#onMessage(data),
      // Answers are small; one that is not is gathered and judged whole.
      messageStart: () => 'collect',
      messagePart: () => {},
      text: notKafka,
      pong: () => {},
      error: (err) => this.#fail(new TestFailure({ stage: 'protocol', message: `WebSocket error: ${err.message}` })),
      close: (code, reason) => {
        const why = reason.length > 0 ? `: ${reason}` : '';
        this.#fail(new TestFailure({ stage: 'protocol', message: `Broker closed the WebSocket (code ${code}${why}) before answering` }));
      },
    });
  }

  /** The broker's API ranges, or null when it stays silent (0.8-era brokers ignore ApiVersions). */
  async apiVersions(waitMs: number): Promise<ConnectionTestResult['apiVersions']> {
    const frame = await this.#request(ApiKey.ApiVersions, 0, () => {}, waitMs);
    if (!frame) return null;
    const r = frameReader(frame);
    decodeResponseHeader(r, 0);
    const data = this.#decode('ApiVersions', () => decodeApiVersionsResponse(0, r));
    return data.apiKeys.map((k) => ({ apiKey: k.apiKey, name: apiName(k.apiKey), minVersion: k.minVersion, maxVersion: k.maxVersion }));
  }

  async metadata(version: number, timeoutMs: number) {
    const frame = await this.#request(ApiKey.Metadata, version, (w) => encodeMetadataRequest(version, { topics: null, allowAutoTopicCreation: false }, w), timeoutMs);
    if (!frame) {
      throw new TestFailure({ stage: 'timeout', message: `Broker did not answer a Metadata v${version} request within ${timeoutMs} ms` });
    }
    const r = frameReader(frame);
    decodeResponseHeader(r, responseHeaderVersion(ApiKey.Metadata, version) ?? 0);
    return this.#decode('Metadata', () => {
      const data = decodeMetadataResponse(version, r);
      if (r.remaining !== 0) throw new Error(`${r.remaining} unexpected bytes after the answer`);
      return data;
    });
  }

  #decode<T>(what: string, decode: () => T): T {
    try {
      return decode();
    } catch (err) {
      throw new TestFailure({ stage: 'protocol', message: `Broker's ${what} answer is not valid Kafka: ${(err as Error).message}` });
    }
  }

  /** Resolves with the answer frame, or null when none came within `waitMs`. */
  #request(apiKey: number, version: number, body: (w: Writer) => void, waitMs: number): Promise<Buffer | null> {
    if (this.#closed) return Promise.reject(this.#closed);
    const correlationId = this.#nextId++;
    const w = new Writer();
    encodeRequestHeader({ apiKey, apiVersion: version, correlationId, clientId: CLIENT_ID, taggedFields: [] }, w, requestHeaderVersion(apiKey, version));
    body(w);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(correlationId);
        resolve(null);
      }, waitMs);
      this.#waiting.set(correlationId, {
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.#link.send(w.toFrame(), true);
    });
  }

  #onMessage(data: Buffer): void {
    if (data.length < 8 || data.readInt32BE(0) !== data.length - 4) {
      this.#fail(new TestFailure({ stage: 'protocol', message: 'Broker sent a WebSocket message that is not one whole Kafka frame' }));
      return;
    }
    const correlationId = data.readInt32BE(4);
    const waiter = this.#waiting.get(correlationId);
    // A late answer to a request we stopped waiting for (ApiVersions) is ignored.
    if (!waiter) return;
    this.#waiting.delete(correlationId);
    waiter.resolve(data);
  }

  #fail(err: TestFailure): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const waiter of this.#waiting.values()) waiter.reject(err);
    this.#waiting.clear();
  }
}
