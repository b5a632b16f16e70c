import type { ApiVersionRange, CompatibilityMode, HostPort } from '../../shared/profile.ts';
import type { EventKind, EventLevel } from '../../shared/stats.ts';
import { ApiKey, apiName } from './api-keys.ts';
import type { ApiStatsCollector } from './api-stats.ts';
import { canDowngrade, DOWNGRADE_TARGET_VERSION, downgradeRequest } from './downgrade.ts';
import { canScanErrorCode, scanErrorCode } from './error-scan.ts';
import { peekCorrelationId, SIZE_PREFIX_BYTES } from './headers.ts';
import { LegacyApiVersions } from './legacy-api-versions.ts';
import { LegacyTable, localApiVersions } from './legacy-table.ts';
import { PendingRequests } from './pending-requests.ts';
import { readProduceAcks } from './produce-acks.ts';
import { deliverResponse } from './response-delivery.ts';
import { INSPECTED_APIS } from './response-rewrite.ts';

/**
 * The Kafka-aware session: one per client connection, socket-free. The bridge
 * hands it every whole frame (size prefix included):
 *
 *   clientFrame(frame) -> 'forward' | 'consumed'   a request; 'consumed' means
 *                         the session answered it (sendToClient) or closed
 *   brokerFrame(frame) -> Buffer | null            a response; what to write to
 *                         the client (maybe rewritten), or null to drop it
 *   clientHead / brokerHead(head, length)          the first bytes of a large
 *                         frame: 'stream' when the header is all the session
 *                         needs (it is accounted for then and passes unchanged),
 *                         'whole' when clientFrame / brokerFrame must see it
 *   inFlight                                       requests awaiting an answer
 *   dispose()                                      clears timers
 *
 * What it does (see DESIGN.md, "Kafka-aware session"):
 * - pairs requests and responses by correlation id for per-API stats; a
 *   Produce with acks=0 expects no response;
 * - rewrites broker addresses in Metadata, FindCoordinator and DescribeCluster
 *   responses to `advertised`, re-encoding only when something changes;
 * - clamps every ApiVersions answer to the versions we parse (not in passthrough);
 * - answers ApiVersions itself for 0.8-era brokers that ignore it (auto: after
 *   a timeout, or at once when the tunnel already knows; legacy: always;
 *   legacy-api-versions.ts);
 * - on a legacy broker, translates Metadata, Produce and Fetch above v0 down to
 *   v0 and the answers back up (downgrade.ts), for clients that send versions
 *   our ApiVersions answer never listed; closes the connection on any other
 *   request the broker would silently ignore, with a reason, instead of
 *   letting the client hang;
 * - keeps responses in request order: a local answer waits for earlier ones
 *   (pending-requests.ts).
 *
 * A response on its way to the client (translated back up, addresses rewritten,
 * error code read) is response-delivery.ts.
 *
 * Frames it does not rewrite cost an 8-byte peek and a Map insert/delete (plus a
 * few bytes read for error codes on classic Produce/Fetch/ListOffsets). A frame it
 * cannot parse passes through unchanged with a warning: the session never breaks
 * a connection that plain forwarding would have kept, and never throws.
 *
 * Compatibility modes:
 * - auto: forward ApiVersions; no answer within `apiVersionsTimeoutMs`, or an
 *   answer to a later request first, means a legacy broker: answer for it and
 *   drop its late answer (legacy-api-versions.ts).
 * - legacy: always answer ApiVersions from the table.
 * - passthrough: never touch ApiVersions (no local answers, no clamping).
 * Address rewriting is independent of the mode: it follows `advertised`.
 */

export interface LegacyState {
  /** True once any connection of the tunnel learned the broker is 0.8-era. */
  known(): boolean;
  mark(): void;
  /** Takes the conclusion back: the broker did answer ApiVersions, only late. */
  clear?(): void;
}

export interface SessionEvent {
  level: EventLevel;
  kind: EventKind;
  message: string;
  code?: string;
}

/** Reports a kind of trouble once per connection: a noisy peer must not flood the log. */
export type ReportOnce = (key: string, level: EventLevel, kind: EventKind, message: string) => void;

export interface KafkaSessionOptions {
  compatibility: CompatibilityMode;
  /** Where clients must come back to; null leaves broker addresses alone. */
  advertised: HostPort | null;
  /** Our ApiVersions answer on a legacy broker; default: the 0.8 table. */
  legacyApiVersions?: readonly ApiVersionRange[];
  /** Auto mode: how long to wait for the broker's ApiVersions answer. */
  apiVersionsTimeoutMs?: number;
  legacy: LegacyState;
  /** Fed the same calls: typically the tunnel's collector and the connection's. */
  stats: readonly ApiStatsCollector[];
  /** Writes a frame to the client now (answers produced outside brokerFrame). */
  sendToClient(frame: Buffer): void;
  /**
   * Writes a frame to the broker in place of the client's (a translated
   * request). Without it requests are never translated, only forwarded or refused.
   */
  sendToBroker?(frame: Buffer): void;
  onEvent(event: SessionEvent): void;
  close(reason: { code: string; message: string }): void;
  /** Milliseconds on a monotonic clock; tests pass their own. */
  now?(): number;
}

export const DEFAULT_API_VERSIONS_TIMEOUT_MS = 2000;

export class KafkaSession {
  readonly #options: KafkaSessionOptions;
  readonly #table: LegacyTable;
  /** Requests awaiting an answer, in request order. */
  readonly #pending: PendingRequests;
  readonly #apiVersions: LegacyApiVersions;
  readonly #said = new Set<string>();
  #closed = false;

  constructor(options: KafkaSessionOptions) {
    this.#options = options;
    const table = options.legacyApiVersions ?? undefined;
    this.#table = new LegacyTable(table);
    this.#pending = new PendingRequests({
      stats: options.stats,
      now: options.now ?? (() => performance.now()),
      sendToClient: (frame) => options.sendToClient(frame),
    });
    this.#apiVersions = new LegacyApiVersions({
      compatibility: options.compatibility,
      legacy: options.legacy,
      entries: localApiVersions(table),
      timeoutMs: options.apiVersionsTimeoutMs ?? DEFAULT_API_VERSIONS_TIMEOUT_MS,
      pending: this.#pending,
      closed: () => this.#closed,
      onEvent: (event) => options.onEvent(event),
      once: this.#once,
    });
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  clientFrame(frame: Buffer): 'forward' | 'consumed' {
    if (this.#closed) return 'consumed';
    // Too short to be a request: the broker is the one to judge it.
    if (frame.length < SIZE_PREFIX_BYTES + 8) return 'forward';
    // The hot path: three integers from the header, no objects, no body.
    const apiKey = frame.readInt16BE(SIZE_PREFIX_BYTES);
    const apiVersion = frame.readInt16BE(SIZE_PREFIX_BYTES + 2);
    const correlationId = frame.readInt32BE(SIZE_PREFIX_BYTES + 4);
    if (this.#handlesItself(apiKey, apiVersion)) return this.#handle(frame, apiKey, apiVersion, correlationId);
    this.#forwarded(apiKey, apiVersion, correlationId, frame.length, apiKey === ApiKey.Produce ? readProduceAcks(frame) : null);
    return 'forward';
  }

  clientHead(head: Buffer, length: number): 'stream' | 'whole' {
    if (this.#closed || head.length < SIZE_PREFIX_BYTES + 8) return 'whole';
    const apiKey = head.readInt16BE(SIZE_PREFIX_BYTES);
    const apiVersion = head.readInt16BE(SIZE_PREFIX_BYTES + 2);
    if (this.#handlesItself(apiKey, apiVersion)) return 'whole';
    const acks = apiKey === ApiKey.Produce ? readProduceAcks(head) : null;
    // acks lies past the head only behind a very long client or transactional id.
    if (apiKey === ApiKey.Produce && acks === null) return 'whole';
    this.#forwarded(apiKey, apiVersion, head.readInt32BE(SIZE_PREFIX_BYTES + 4), length, acks);
    return 'stream';
  }

  brokerHead(head: Buffer, length: number): 'stream' | 'whole' {
    if (this.#closed) return 'stream';
    const correlationId = peekCorrelationId(head);
    if (correlationId === null || this.#apiVersions.isLate(correlationId)) return 'whole';
    const entry = this.#pending.get(correlationId);
    // Anything but an in-order answer that needs no rewriting takes the whole-frame path.
    if (!entry || entry.downgrade || !this.#pending.isFront(entry) || this.#pending.queued > 0 || INSPECTED_APIS.has(entry.apiKey)) return 'whole';
    const errorCode = scanErrorCode(entry.apiKey, entry.apiVersion, head, SIZE_PREFIX_BYTES + 4, { partial: true });
    if (errorCode === null && canScanErrorCode(entry.apiKey, entry.apiVersion)) return 'whole';
    this.#pending.take(correlationId, entry);
    this.#pending.recordResponse(entry, length, errorCode);
    return 'stream';
  }

  /** ApiVersions (unless passthrough), and on a legacy broker any request it lacks: the session's own business. */
  #handlesItself(apiKey: number, apiVersion: number): boolean {
    const mode = this.#options.compatibility;
    if (mode === 'passthrough') return false;
    if (apiKey === ApiKey.ApiVersions) return true;
    return this.#legacy() && !this.#table.supports(apiKey, apiVersion);
  }

  #legacy(): boolean {
    return this.#options.compatibility === 'legacy' || this.#options.legacy.known();
  }

  /** Answers ApiVersions (or lets the broker try, in auto), translates what a legacy broker lacks, or refuses it. */
  #handle(frame: Buffer, apiKey: number, apiVersion: number, correlationId: number): 'forward' | 'consumed' {
    if (apiKey === ApiKey.ApiVersions) {
      const pending = this.#pending.track(apiKey, apiVersion, correlationId, frame.length);
      if (this.#legacy()) {
        this.#apiVersions.answer(pending, correlationId);
        this.#pending.flush();
        return 'consumed';
      }
      if (this.#options.compatibility === 'auto') this.#apiVersions.awaitBroker(pending, correlationId);
      return 'forward';
    }
    const send = this.#options.sendToBroker;
    if (send && canDowngrade(apiKey, apiVersion) && this.#table.supports(apiKey, DOWNGRADE_TARGET_VERSION)) {
      this.#downgrade(frame, apiKey, apiVersion, correlationId, send);
    } else {
      const message = `${apiName(apiKey)} v${apiVersion} is not supported by this broker (0.8-era); closing so the client does not hang`;
      this.#refuse(apiKey, frame.length, 'KAFKA_UNSUPPORTED_REQUEST', message);
    }
    return 'consumed';
  }

  /** Accounts for a request that goes to the broker as the client sent it. */
  #forwarded(apiKey: number, apiVersion: number, correlationId: number, bytes: number, produceAcks: number | null): void {
    const expectsResponse = apiKey !== ApiKey.Produce || produceAcks !== 0;
    if (expectsResponse) this.#pending.track(apiKey, apiVersion, correlationId, bytes);
    else for (const s of this.#options.stats) s.request(apiKey, bytes, { expectsResponse });
  }

  brokerFrame(frame: Buffer): Buffer | null {
    if (this.#closed) return frame;
    const correlationId = peekCorrelationId(frame);
    if (correlationId === null) {
      this.#once('short', 'warn', 'parse-warning', `Broker sent a ${frame.length}-byte frame, too short for a response; passed through unchanged`);
      return frame;
    }
    if (this.#apiVersions.takeLate(correlationId, frame)) return null;
    const entry = this.#pending.get(correlationId);
    if (!entry) {
      for (const s of this.#options.stats) s.unmatched();
      this.#once(
        'unmatched',
        'warn',
        'parse-warning',
        `Broker sent a response with correlation id ${correlationId}, which matches no request in flight; passed through unchanged`,
      );
      return this.#answerOldest(frame);
    }
    if (!this.#pending.isFront(entry)) this.#settleSkipped(correlationId);
    this.#pending.take(correlationId, entry);
    const delivery = deliverResponse(entry, frame, this.#options, this.#once);
    this.#pending.recordResponse(entry, delivery.bytes, delivery.errorCode);
    if (this.#pending.queued === 0) return delivery.frame;
    // A local answer queued right behind this response must follow it, not precede it.
    this.#options.sendToClient(delivery.frame);
    this.#pending.flush();
    return null;
  }

  dispose(): void {
    this.#closed = true;
    this.#pending.clear();
    this.#apiVersions.clear();
  }

  /** A request a legacy broker would ignore (or one we could not translate for it): the client would hang, so close. */
  #refuse(apiKey: number, bytes: number, code: string, message: string): void {
    for (const s of this.#options.stats) s.request(apiKey, bytes, { expectsResponse: false });
    this.#options.onEvent({ level: 'warn', kind: 'unsupported-request', message, code });
    this.#closed = true;
    this.#options.close({ code, message });
  }

  /**
   * Sends the broker a v0 translation of a request it would ignore. Stats and
   * pairing follow the client's request, so the answer goes back up to its version.
   */
  #downgrade(frame: Buffer, apiKey: number, apiVersion: number, correlationId: number, send: (frame: Buffer) => void): void {
    let translated;
    try {
      translated = downgradeRequest(frame);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      const message = `Could not translate ${apiName(apiKey)} v${apiVersion} to v${DOWNGRADE_TARGET_VERSION} for this 0.8-era broker (${detail}); closing so the client does not hang`;
      this.#refuse(apiKey, frame.length, 'KAFKA_TRANSLATION_FAILED', message);
      return;
    }
    this.#once(
      'downgrade',
      'info',
      'legacy-fallback',
      `Translating ${apiName(apiKey)} v${apiVersion} to v${DOWNGRADE_TARGET_VERSION} for this 0.8-era broker; the client asked for a version the broker does not speak, and this connection's later requests are translated the same way`,
    );
    if (translated.keptMessages > 0) {
      this.#once(
        'downgrade-kept',
        'warn',
        'unsupported-request',
        `A ${apiName(apiKey)} v${apiVersion} request carried compressed messages in format v1, which a 0.8-era broker cannot store; they went on unchanged and the broker will refuse them (disable compression in the producer)`,
      );
    }
    const expectsResponse = apiKey !== ApiKey.Produce || readProduceAcks(frame) !== 0;
    if (expectsResponse) this.#pending.track(apiKey, apiVersion, correlationId, frame.length).downgrade = translated.downgrade;
    else for (const s of this.#options.stats) s.request(apiKey, frame.length, { expectsResponse });
    send(translated.frame);
  }

  /**
   * Kafka answers in order, so a response we cannot match still answers the
   * oldest request: stop waiting for that one. Traffic we cannot pair (not Kafka,
   * or out of step) then never leaves phantom requests "in flight".
   */
  #answerOldest(frame: Buffer): Buffer | null {
    const oldest = this.#pending.oldest();
    if (!oldest) return frame;
    const [id, p] = oldest;
    this.#pending.abandon(id, p);
    if (this.#pending.queued === 0) return frame;
    this.#options.sendToClient(frame);
    this.#pending.flush();
    return null;
  }

  /**
   * Kafka answers a connection's requests in order, so requests ahead of the one
   * just answered were skipped by the broker. An ApiVersions among them gets our
   * answer (the broker is 0.8-era); anything else will never be answered.
   */
  #settleSkipped(correlationId: number): void {
    for (const [id, p] of this.#pending) {
      if (id === correlationId) return;
      if (!p.answer && p.apiKey === ApiKey.ApiVersions && this.#options.compatibility === 'auto') this.#apiVersions.fallBack(id, 'skipped');
      if (p.answer) {
        this.#pending.sendLocal(id, p);
        continue;
      }
      this.#pending.abandon(id, p);
      this.#once(
        `skipped:${p.apiKey}`,
        'warn',
        'unsupported-request',
        `Broker did not answer ${apiName(p.apiKey)} v${p.apiVersion} (correlation id ${id}) but answered a later request; the client will wait for that answer until it times out`,
      );
    }
  }

  /** One event per kind of trouble per connection: a noisy peer must not flood the log. */
  #once: ReportOnce = (key, level, kind, message) => {
    if (this.#said.has(key)) return;
    this.#said.add(key);
    this.#options.onEvent({ level, kind, message });
  };
}
