import { ErrorCode } from './api-keys.ts';
import type { ApiStatsCollector } from './api-stats.ts';
import type { Downgrade } from './downgrade.ts';
import { SIZE_PREFIX_BYTES } from './headers.ts';

export interface Pending {
  /** Position in request order among tracked requests. */
  seq: number;
  apiKey: number;
  apiVersion: number;
  sentAt: number;
  /** A local answer, held until every earlier request is answered. */
  answer: Buffer | null;
  /** Auto mode's ApiVersions fallback. */
  timer: NodeJS.Timeout | null;
  /** Sent to the broker translated to v0; its answer goes back up to `apiVersion`. */
  downgrade: Downgrade | null;
}

export interface PendingRequestsOptions {
  /** Told of each tracked request's life: sent, answered, abandoned. */
  stats: readonly ApiStatsCollector[];
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Where a local answer goes once its turn comes. */
  sendToClient(frame: Buffer): void;
}

/**
 * A connection's requests awaiting an answer, paired by correlation id and kept
 * in request order. Kafka answers a connection's requests in order, so a local
 * answer waits here until every earlier request has its answer, and a response
 * that skips ahead tells the session which requests the broker passed over.
 */
export class PendingRequests {
  readonly #options: PendingRequestsOptions;
  /** In request order (Map keeps insertion order). */
  readonly #byId = new Map<number, Pending>();
  #nextSeq = 0;
  /** The seq of the oldest request in flight, when requests leave in order (they do, from Kafka). */
  #frontSeq = 0;
  /** Local answers waiting for their turn. */
  #queued = 0;

  constructor(options: PendingRequestsOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Local answers waiting for their turn. */
  get queued(): number {
    return this.#queued;
  }

  get(correlationId: number): Pending | undefined {
    return this.#byId.get(correlationId);
  }

  /** Whether no earlier request is still waiting for its answer. */
  isFront(entry: Pending): boolean {
    return entry.seq === this.#frontSeq;
  }

  /** Request order; taking entries out while iterating is safe. */
  [Symbol.iterator](): MapIterator<[number, Pending]> {
    return this.#byId[Symbol.iterator]();
  }

  oldest(): [number, Pending] | undefined {
    const first = this.#byId.entries().next();
    return first.done ? undefined : first.value;
  }

  track(apiKey: number, apiVersion: number, correlationId: number, bytes: number): Pending {
    const previous = this.#byId.get(correlationId);
    if (previous) {
      // A client reusing an id in flight; the older request can no longer be paired.
      if (previous.timer) clearTimeout(previous.timer);
      if (previous.answer) this.#queued--;
      this.#byId.delete(correlationId);
      for (const s of this.#options.stats) s.abandon(1);
    }
    const pending: Pending = { seq: this.#nextSeq++, apiKey, apiVersion, sentAt: this.#options.now(), answer: null, timer: null, downgrade: null };
    this.#byId.set(correlationId, pending);
    for (const s of this.#options.stats) s.request(apiKey, bytes, { expectsResponse: true });
    return pending;
  }

  /** Holds a local answer for `entry` until its turn (flush). */
  answerLocally(entry: Pending, answer: Buffer): void {
    entry.answer = answer;
    this.#queued++;
  }

  /** Takes a request out of flight: answered, or no longer waited for. */
  take(correlationId: number, entry: Pending): void {
    this.#byId.delete(correlationId);
    this.#frontSeq = entry.seq + 1;
    if (entry.timer) clearTimeout(entry.timer);
  }

  /** Takes a request out of flight that will never be answered. */
  abandon(correlationId: number, entry: Pending): void {
    this.take(correlationId, entry);
    for (const s of this.#options.stats) s.abandon(1);
  }

  /** Takes a request with a local answer out of flight and sends the answer. */
  sendLocal(correlationId: number, entry: Pending): void {
    this.take(correlationId, entry);
    const answer = entry.answer as Buffer;
    this.#queued--;
    // Our answers carry an error only when refusing an ApiVersions version (35).
    const error = answer.readInt16BE(SIZE_PREFIX_BYTES + 4) !== ErrorCode.None;
    for (const s of this.#options.stats) {
      s.response(entry.apiKey, { bytes: answer.length, latencyMs: this.#options.now() - entry.sentAt, error, local: true });
    }
    this.#options.sendToClient(answer);
  }

  /** Sends queued local answers that no earlier request holds back. */
  flush(): void {
    for (const [id, p] of this.#byId) {
      if (!p.answer) return;
      this.sendLocal(id, p);
    }
  }

  /** Stats for the broker's answer to `entry`. */
  recordResponse(entry: Pending, bytes: number, errorCode: number | null): void {
    const record = { bytes, latencyMs: this.#options.now() - entry.sentAt, error: errorCode !== null && errorCode !== 0, local: false };
    for (const s of this.#options.stats) s.response(entry.apiKey, record);
  }

  /** Gives up on everything in flight (the connection closed). */
  clear(): void {
    for (const p of this.#byId.values()) if (p.timer) clearTimeout(p.timer);
    for (const s of this.#options.stats) s.abandon(this.#byId.size);
    this.#byId.clear();
    this.#queued = 0;
  }
}
