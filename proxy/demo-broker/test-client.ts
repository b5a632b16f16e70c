import { WebSocket } from 'ws';
import { encodeRequestHeader, SIZE_PREFIX_BYTES } from '../kafka/headers.ts';
import { Reader } from '../kafka/reader.ts';
import { Writer } from '../kafka/writer.ts';

/**
 * Test support: the smallest Kafka-over-WebSocket client, for driving the demo
 * broker (or a tunnel's broker side) frame by frame. Responses are matched to
 * requests by correlation id; every frame received is also kept in order.
 */

export interface CloseInfo {
  code: number;
  reason: string;
}

interface Pending {
  resolve: (body: Reader) => void;
  reject: (err: Error) => void;
}

export class TestKafkaClient {
  readonly received: Buffer[] = [];
  /** Resolves when the socket closes, with the peer's close code and reason. */
  readonly closed: Promise<CloseInfo>;
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  #nextCorrelationId = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        const err = new Error(`The connection closed (${code} ${reason.toString()}) before a response arrived`);
        for (const p of this.#pending.values()) p.reject(err);
        this.#pending.clear();
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('message', (data: Buffer) => {
      this.received.push(data);
      const correlationId = data.readInt32BE(SIZE_PREFIX_BYTES);
      const pending = this.#pending.get(correlationId);
      if (!pending) return;
      this.#pending.delete(correlationId);
      pending.resolve(new Reader(data, SIZE_PREFIX_BYTES + 4));
    });
  }

  static connect(url: string): Promise<TestKafkaClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new TestKafkaClient(ws)));
      ws.once('error', reject);
    });
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** The correlation id the next request() will use. */
  get nextCorrelationId(): number {
    return this.#nextCorrelationId;
  }

  /**
   * Sends a request with header v1 (every v0 API uses it). Resolves with a
   * reader positioned at the response body, or at once with null when
   * `expectResponse` is false.
   */
  request(apiKey: number, apiVersion: number, body: (w: Writer) => void, options: { expectResponse?: boolean } = {}): Promise<Reader | null> {
    const correlationId = this.#nextCorrelationId++;
    const w = encodeRequestHeader({ apiKey, apiVersion, correlationId, clientId: 'demo-broker-test' }, new Writer(), 1);
    body(w);
    const frame = w.toFrame();
    if (options.expectResponse === false) {
      this.#ws.send(frame);
      return Promise.resolve(null);
    }
    return new Promise((resolve, reject) => {
      this.#pending.set(correlationId, { resolve, reject });
      this.#ws.send(frame);
    });
  }

  /** Like request(), for callers that know a response comes. */
  async call(apiKey: number, apiVersion: number, body: (w: Writer) => void): Promise<Reader> {
    return (await this.request(apiKey, apiVersion, body)) as Reader;
  }

  sendRaw(data: Buffer | string): void {
    this.#ws.send(data, { binary: typeof data !== 'string' });
  }

  async close(): Promise<void> {
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close();
    await this.closed;
  }
}
