import type { ApiVersionRange, CompatibilityMode, HostPort } from '../../shared/profile.ts';
import type { EventKind, EventLevel } from '../../shared/stats.ts';
import { ApiKey, apiName, ErrorCode } from './api-keys.ts';
import type { ApiStatsCollector } from './api-stats.ts';
import { API_VERSIONS_RESPONSE_MAX_VERSION, encodeApiVersionsResponse, type ApiVersionEntry } from './api-versions-response.ts';
import { canDowngrade, DOWNGRADE_TARGET_VERSION, downgradeRequest, upgradeResponse, type Downgrade } from './downgrade.ts';
import { canScanErrorCode, scanErrorCode } from './error-scan.ts';
import { encodeResponseHeader, peekCorrelationId, responseHeaderVersion, SIZE_PREFIX_BYTES } from './headers.ts';
import { LegacyTable, localApiVersions } from './legacy-table.ts';
import { readProduceAcks } from './produce-acks.ts';
import { Reader } from './reader.ts';
import { inspectResponse, INSPECTED_APIS } from './response-rewrite.ts';
import { Writer } from './writer.ts';

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
 *   a timeout, or at once when the tunnel already knows; legacy: always);
 * - on a legacy broker, translates Metadata, Produce and Fetch above v0 down to
 *   v0 and the answers back up (downgrade.ts), for clients that send versions
 *   our ApiVersions answer never listed; closes the connection on any other
 *   request the broker would silently ignore, with a reason, instead of
 *   letting the client hang;
 * - keeps responses in request order: a local answer waits for earlier ones.
 *
 * Frames it does not rewrite cost an 8-byte peek and a Map insert/delete (plus a
 * few bytes read for error codes on classic Produce/Fetch/ListOffsets). A frame it
 * cannot parse passes through unchanged with a warning: the session never breaks
 * a connection that plain forwarding would have kept, and never throws.
 *
 * Compatibility modes:
 * - auto: forward ApiVersions; no answer within `apiVersionsTimeoutMs` means a
 *   legacy broker: answer from the legacy table, mark the tunnel legacy, drop
 *   the broker's late answer. Also concluded at once when the broker answers a
 *   later request first (Kafka answers in order, so it skipped ApiVersions).
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
/** Correlation ids answered locally whose late broker answers we still drop. */
const LATE_DROP_LIMIT = 16;

interface Pending {
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

export class KafkaSession {
  readonly #options: KafkaSessionOptions;
  readonly #table: LegacyTable;
  readonly #localEntries: ApiVersionEntry[];
  readonly #timeoutMs: number;
  readonly #now: () => number;
  /** Requests awaiting an answer, in request order (Map keeps insertion order). */
  readonly #pending = new Map<number, Pending>();
  readonly #dropLate = new Set<number>();
  readonly #said = new Set<string>();
  #nextSeq = 0;
  /** The seq of the oldest request in flight, when requests leave in order (they do, from Kafka). */
  #frontSeq = 0;
  /** Local answers waiting for their turn. */
  #queued = 0;
  #closed = false;

  constructor(options: KafkaSessionOptions) {
    this.#options = options;
    const table = options.legacyApiVersions ?? undefined;
    this.#table = new LegacyTable(table);
    this.#localEntries = localApiVersions(table);
    this.#timeoutMs = options.apiVersionsTimeoutMs ?? DEFAULT_API_VERSIONS_TIMEOUT_MS;
    this.#now = options.now ?? (() => performance.now());
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
    const mode = this.#options.compatibility;
    if (mode !== 'passthrough') {
      const legacy = mode === 'legacy' || this.#options.legacy.known();
      if (apiKey === ApiKey.ApiVersions) {
        const pending = this.#track(apiKey, apiVersion, correlationId, frame.length, true);
        if (legacy) {
          this.#queue(pending, correlationId);
          this.#flush();
          return 'consumed';
        }
        if (mode === 'auto') {
          pending.timer = setTimeout(() => this.#fallBack(correlationId, 'timeout'), this.#timeoutMs);
          pending.timer.unref?.();
        }
        return 'forward';
      }
      if (legacy && !this.#table.supports(apiKey, apiVersion)) {
        const send = this.#options.sendToBroker;
        if (send && canDowngrade(apiKey, apiVersion) && this.#table.supports(apiKey, DOWNGRADE_TARGET_VERSION)) {
          this.#downgrade(frame, apiKey, apiVersion, correlationId, send);
        } else {
          const message = `${apiName(apiKey)} v${apiVersion} is not supported by this broker (0.8-era); closing so the client does not hang`;
          this.#refuse(apiKey, frame.length, 'KAFKA_UNSUPPORTED_REQUEST', message);
        }
        return 'consumed';
      }
    }
    this.#forwarded(apiKey, apiVersion, correlationId, frame.length, apiKey === ApiKey.Produce ? readProduceAcks(frame) : null);
    return 'forward';
  }

  clientHead(head: Buffer, length: number): 'stream' | 'whole' {
    if (this.#closed || head.length < SIZE_PREFIX_BYTES + 8) return 'whole';
    const apiKey = head.readInt16BE(SIZE_PREFIX_BYTES);
    const apiVersion = head.readInt16BE(SIZE_PREFIX_BYTES + 2);
    const mode = this.#options.compatibility;
    if (mode !== 'passthrough') {
      if (apiKey === ApiKey.ApiVersions) return 'whole';
      const legacy = mode === 'legacy' || this.#options.legacy.known();
      if (legacy && !this.#table.supports(apiKey, apiVersion)) return 'whole';
    }
    const acks = apiKey === ApiKey.Produce ? readProduceAcks(head) : null;
    // acks lies past the head only behind a very long client or transactional id.
    if (apiKey === ApiKey.Produce && acks === null) return 'whole';
    this.#forwarded(apiKey, apiVersion, head.readInt32BE(SIZE_PREFIX_BYTES + 4), length, acks);
    return 'stream';
  }

  brokerHead(head: Buffer, length: number): 'stream' | 'whole' {
    if (this.#closed) return 'stream';
    const correlationId = peekCorrelationId(head);
    if (correlationId === null || this.#dropLate.has(correlationId)) return 'whole';
    const entry = this.#pending.get(correlationId);
    // Anything but an in-order answer that needs no rewriting takes the whole-frame path.
    if (!entry || entry.downgrade || entry.seq !== this.#frontSeq || this.#queued > 0 || INSPECTED_APIS.has(entry.apiKey)) return 'whole';
    const errorCode = scanErrorCode(entry.apiKey, entry.apiVersion, head, SIZE_PREFIX_BYTES + 4, { partial: true });
    if (errorCode === null && canScanErrorCode(entry.apiKey, entry.apiVersion)) return 'whole';
    this.#pending.delete(correlationId);
    this.#frontSeq = entry.seq + 1;
    if (entry.timer) clearTimeout(entry.timer);
    this.#recordResponse(entry, length, errorCode);
    return 'stream';
  }

  /** Accounts for a request that goes to the broker as the client sent it. */
  #forwarded(apiKey: number, apiVersion: number, correlationId: number, bytes: number, produceAcks: number | null): void {
    const expectsResponse = apiKey !== ApiKey.Produce || produceAcks !== 0;
    if (expectsResponse) this.#track(apiKey, apiVersion, correlationId, bytes, true);
    else for (const s of this.#options.stats) s.request(apiKey, bytes, { expectsResponse });
  }

  brokerFrame(frame: Buffer): Buffer | null {
    if (this.#closed) return frame;
    const correlationId = peekCorrelationId(frame);
    if (correlationId === null) {
      this.#once('short', 'warn', 'parse-warning', `Broker sent a ${frame.length}-byte frame, too short for a response; passed through unchanged`);
      return frame;
    }
    if (this.#dropLate.delete(correlationId)) {
      this.#lateApiVersions(frame);
      return null;
    }
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
    if (entry.seq !== this.#frontSeq) this.#settleSkipped(correlationId);
    this.#pending.delete(correlationId);
    this.#frontSeq = entry.seq + 1;
    if (entry.timer) clearTimeout(entry.timer);
    const out = this.#deliverable(entry, frame);
    if (this.#queued === 0) return out;
    // A local answer queued right behind this response must follow it, not precede it.
    this.#options.sendToClient(out);
    this.#flush();
    return null;
  }

  dispose(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) if (p.timer) clearTimeout(p.timer);
    for (const s of this.#options.stats) s.abandon(this.#pending.size);
    this.#pending.clear();
    this.#queued = 0;
    this.#dropLate.clear();
  }

  #track(apiKey: number, apiVersion: number, correlationId: number, bytes: number, expectsResponse: boolean): Pending {
    const previous = this.#pending.get(correlationId);
    if (previous) {
      // A client reusing an id in flight; the older request can no longer be paired.
      if (previous.timer) clearTimeout(previous.timer);
      if (previous.answer) this.#queued--;
      this.#pending.delete(correlationId);
      for (const s of this.#options.stats) s.abandon(1);
    }
    const pending: Pending = { seq: this.#nextSeq++, apiKey, apiVersion, sentAt: this.#now(), answer: null, timer: null, downgrade: null };
    this.#pending.set(correlationId, pending);
    for (const s of this.#options.stats) s.request(apiKey, bytes, { expectsResponse });
    return pending;
  }

  #queue(pending: Pending, correlationId: number): void {
    pending.answer = this.#localAnswer(pending.apiVersion, correlationId);
    this.#queued++;
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
    if (expectsResponse) this.#track(apiKey, apiVersion, correlationId, frame.length, true).downgrade = translated.downgrade;
    else for (const s of this.#options.stats) s.request(apiKey, frame.length, { expectsResponse });
    send(translated.frame);
  }

  /** Auto mode concludes the broker is 0.8-era and answers ApiVersions itself. */
  #fallBack(correlationId: number, why: 'timeout' | 'skipped'): void {
    const entry = this.#pending.get(correlationId);
    if (!entry || entry.answer || this.#closed) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    this.#queue(entry, correlationId);
    this.#dropLate.add(correlationId);
    if (this.#dropLate.size > LATE_DROP_LIMIT) this.#dropLate.delete(this.#dropLate.values().next().value as number);
    this.#options.legacy.mark();
    const cause =
      why === 'timeout'
        ? `Broker did not answer ApiVersions within ${this.#timeoutMs} ms`
        : 'Broker answered a later request but not ApiVersions';
    const apis = this.#localEntries.map((e) => `${apiName(e.apiKey)} v${e.minVersion}–v${e.maxVersion}`).join(', ');
    this.#options.onEvent({
      level: 'info',
      kind: 'legacy-fallback',
      message: `${cause}: treating it as a 0.8-era broker and answering ApiVersions for it (${apis})`,
    });
    if (why === 'timeout') this.#flush();
  }

  /**
   * The broker did answer ApiVersions, after we had answered for it. This
   * connection keeps our answer (the client already acted on it), but a real
   * answer means the broker is not 0.8-era: later connections should not be
   * held to the legacy table.
   */
  #lateApiVersions(frame: Buffer): void {
    const answered = frame.length >= SIZE_PREFIX_BYTES + 6 && frame.readInt16BE(SIZE_PREFIX_BYTES + 4) === ErrorCode.None;
    if (answered && this.#options.compatibility === 'auto') this.#options.legacy.clear?.();
    this.#once(
      'late',
      'warn',
      'legacy-fallback',
      `Broker answered ApiVersions after the ${this.#timeoutMs} ms the tunnel waited; this connection keeps the tunnel's answer${answered ? ', later connections will use the broker\'s' : ''}`,
    );
  }

  /**
   * Kafka answers a connection's requests in order, so requests ahead of the one
   * just answered were skipped by the broker. An ApiVersions among them gets our
   * answer (the broker is 0.8-era); anything else will never be answered.
   */
  /**
   * Kafka answers in order, so a response we cannot match still answers the
   * oldest request: stop waiting for that one. Traffic we cannot pair (not Kafka,
   * or out of step) then never leaves phantom requests "in flight".
   */
  #answerOldest(frame: Buffer): Buffer | null {
    const oldest = this.#pending.entries().next();
    if (oldest.done) return frame;
    const [id, p] = oldest.value;
    if (p.timer) clearTimeout(p.timer);
    this.#pending.delete(id);
    this.#frontSeq = p.seq + 1;
    for (const s of this.#options.stats) s.abandon(1);
    if (this.#queued === 0) return frame;
    this.#options.sendToClient(frame);
    this.#flush();
    return null;
  }

  #settleSkipped(correlationId: number): void {
    for (const [id, p] of this.#pending) {
      if (id === correlationId) return;
      if (!p.answer && p.apiKey === ApiKey.ApiVersions && this.#options.compatibility === 'auto') this.#fallBack(id, 'skipped');
      this.#pending.delete(id);
      this.#frontSeq = p.seq + 1;
      if (p.timer) clearTimeout(p.timer);
      if (p.answer) {
        this.#sendLocal(p);
        continue;
      }
      for (const s of this.#options.stats) s.abandon(1);
      this.#once(
        `skipped:${p.apiKey}`,
        'warn',
        'unsupported-request',
        `Broker did not answer ${apiName(p.apiKey)} v${p.apiVersion} (correlation id ${id}) but answered a later request; the client will wait for that answer until it times out`,
      );
    }
  }

  /** Sends queued local answers that no earlier request holds back. */
  #flush(): void {
    for (const [id, p] of this.#pending) {
      if (!p.answer) return;
      this.#pending.delete(id);
      this.#frontSeq = p.seq + 1;
      this.#sendLocal(p);
    }
  }

  #sendLocal(p: Pending): void {
    const answer = p.answer as Buffer;
    this.#queued--;
    // Our answers carry an error only when refusing an ApiVersions version (35).
    const error = answer.readInt16BE(SIZE_PREFIX_BYTES + 4) !== ErrorCode.None;
    for (const s of this.#options.stats) {
      s.response(p.apiKey, { bytes: answer.length, latencyMs: this.#now() - p.sentAt, error, local: true });
    }
    this.#options.sendToClient(answer);
  }

  /** ApiVersions answered from the table, in the version asked, or refused in v0 form. */
  #localAnswer(apiVersion: number, correlationId: number): Buffer {
    const w = new Writer(128);
    encodeResponseHeader({ correlationId }, w, 0);
    if (apiVersion >= 0 && apiVersion <= API_VERSIONS_RESPONSE_MAX_VERSION) {
      encodeApiVersionsResponse(apiVersion, { errorCode: ErrorCode.None, apiKeys: this.#localEntries }, w);
    } else {
      // Clients read a refusal in the v0 layout and retry with a version we list.
      encodeApiVersionsResponse(0, { errorCode: ErrorCode.UnsupportedVersion, apiKeys: this.#localEntries }, w);
    }
    return w.toFrame();
  }

  /** A translated request's answer, back in the client's version; unchanged (v0) when it cannot be read. */
  #upgrade(entry: Pending, downgrade: Downgrade, frame: Buffer): { frame: Buffer; version: number } {
    try {
      return { frame: upgradeResponse(frame, downgrade), version: entry.apiVersion };
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      this.#once(
        `upgrade:${entry.apiKey}:${entry.apiVersion}`,
        'warn',
        'parse-warning',
        `Could not translate a ${apiName(entry.apiKey)} v${DOWNGRADE_TARGET_VERSION} response back to v${entry.apiVersion} (${detail}); passed through unchanged`,
      );
      return { frame, version: DOWNGRADE_TARGET_VERSION };
    }
  }

  /** Stats for a broker response, and the frame the client gets (maybe translated, maybe rewritten). */
  #deliverable(entry: Pending, received: Buffer): Buffer {
    const { frame, version: apiVersion } = entry.downgrade ? this.#upgrade(entry, entry.downgrade, received) : { frame: received, version: entry.apiVersion };
    let out = frame;
    let errorCode: number | null = null;
    const headerVersion = responseHeaderVersion(entry.apiKey, apiVersion);
    if (INSPECTED_APIS.has(entry.apiKey) && headerVersion !== undefined) {
      try {
        let bodyOffset = SIZE_PREFIX_BYTES + 4;
        if (headerVersion === 1) {
          const r = new Reader(frame, bodyOffset);
          r.readTaggedFields();
          bodyOffset = r.offset;
        }
        const inspection = inspectResponse(entry.apiKey, apiVersion, frame, bodyOffset, {
          advertised: this.#options.advertised,
          clamp: this.#options.compatibility !== 'passthrough',
        });
        out = inspection.frame;
        errorCode = inspection.errorCode;
        if (inspection.replaced && this.#options.advertised) {
          const to = this.#options.advertised;
          this.#once('rewrite', 'info', 'rewrite', `Broker address ${inspection.replaced} is rewritten to ${to.host}:${to.port} so clients come back through the tunnel`);
        }
        if (inspection.clamped) {
          this.#once('clamp', 'info', 'rewrite', 'Broker advertises API versions the tunnel cannot rewrite; the ApiVersions answer was lowered to Metadata v12, FindCoordinator v6, DescribeCluster v1 at most');
        }
      } catch (err) {
        out = frame;
        const detail = err instanceof Error ? err.message : String(err);
        this.#once(
          `parse:${entry.apiKey}:${apiVersion}`,
          'warn',
          'parse-warning',
          `Could not read a ${apiName(entry.apiKey)} v${apiVersion} response (${detail}); passed through unchanged`,
        );
      }
    } else {
      errorCode = scanErrorCode(entry.apiKey, apiVersion, frame, SIZE_PREFIX_BYTES + 4);
    }
    this.#recordResponse(entry, frame.length, errorCode);
    return out;
  }

  #recordResponse(entry: Pending, bytes: number, errorCode: number | null): void {
    const record = { bytes, latencyMs: this.#now() - entry.sentAt, error: errorCode !== null && errorCode !== 0, local: false };
    for (const s of this.#options.stats) s.response(entry.apiKey, record);
  }

  /** One event per kind of trouble per connection: a noisy peer must not flood the log. */
  #once(key: string, level: EventLevel, kind: EventKind, message: string): void {
    if (this.#said.has(key)) return;
    this.#said.add(key);
    this.#options.onEvent({ level, kind, message });
  }
}
