import type { CompatibilityMode } from '../../shared/profile.ts';
import { apiName, ErrorCode } from './api-keys.ts';
import { API_VERSIONS_RESPONSE_MAX_VERSION, encodeApiVersionsResponse, type ApiVersionEntry } from './api-versions-response.ts';
import { encodeResponseHeader, SIZE_PREFIX_BYTES } from './headers.ts';
import type { Pending, PendingRequests } from './pending-requests.ts';
import type { LegacyState, ReportOnce, SessionEvent } from './session.ts';
import { Writer } from './writer.ts';

/** Correlation ids answered locally whose late broker answers we still drop. */
const LATE_DROP_LIMIT = 16;

export interface LegacyApiVersionsOptions {
  compatibility: CompatibilityMode;
  legacy: LegacyState;
  /** What our answer lists: the legacy table. */
  entries: ApiVersionEntry[];
  /** Auto mode: how long to wait for the broker's answer. */
  timeoutMs: number;
  pending: PendingRequests;
  /** True once the session is closed: a timer firing late answers nothing. */
  closed(): boolean;
  onEvent(event: SessionEvent): void;
  once: ReportOnce;
}

/**
 * ApiVersions answered for a 0.8-era broker, which ignores the request and
 * would leave the client waiting forever. In legacy mode, or once the tunnel
 * knows, the answer comes from the table at once. In auto mode the request is
 * forwarded; no answer within the timeout means a legacy broker: answer from
 * the table, mark the tunnel legacy, drop the broker's late answer. The same
 * is concluded at once when the broker answers a later request first (Kafka
 * answers in order, so it skipped ApiVersions). Local answers wait their turn
 * in PendingRequests.
 */
export class LegacyApiVersions {
  readonly #options: LegacyApiVersionsOptions;
  readonly #dropLate = new Set<number>();

  constructor(options: LegacyApiVersionsOptions) {
    this.#options = options;
  }

  /** Answers from the table; the answer leaves once earlier requests have theirs. */
  answer(entry: Pending, correlationId: number): void {
    this.#options.pending.answerLocally(entry, this.#localAnswer(entry.apiVersion, correlationId));
  }

  /** Auto mode: answers for the broker if it has not answered within the timeout. */
  awaitBroker(entry: Pending, correlationId: number): void {
    entry.timer = setTimeout(() => this.fallBack(correlationId, 'timeout'), this.#options.timeoutMs);
    entry.timer.unref?.();
  }

  /** Auto mode concludes the broker is 0.8-era and answers ApiVersions itself. */
  fallBack(correlationId: number, why: 'timeout' | 'skipped'): void {
    const { pending } = this.#options;
    const entry = pending.get(correlationId);
    if (!entry || entry.answer || this.#options.closed()) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    this.answer(entry, correlationId);
    this.#dropLate.add(correlationId);
    if (this.#dropLate.size > LATE_DROP_LIMIT) this.#dropLate.delete(this.#dropLate.values().next().value as number);
    this.#options.legacy.mark();
    const cause =
      why === 'timeout'
        ? `Broker did not answer ApiVersions within ${this.#options.timeoutMs} ms`
        : 'Broker answered a later request but not ApiVersions';
    const apis = this.#options.entries.map((e) => `${apiName(e.apiKey)} v${e.minVersion}–v${e.maxVersion}`).join(', ');
    this.#options.onEvent({
      level: 'info',
      kind: 'legacy-fallback',
      message: `${cause}: treating it as a 0.8-era broker and answering ApiVersions for it (${apis})`,
    });
    if (why === 'timeout') pending.flush();
  }

  /** Whether a response with this id is the broker's late answer to an ApiVersions we answered. */
  isLate(correlationId: number): boolean {
    return this.#dropLate.has(correlationId);
  }

  /** Takes the broker's late answer, if this is one: the client already has ours, so it is dropped. */
  takeLate(correlationId: number, frame: Buffer): boolean {
    if (!this.#dropLate.delete(correlationId)) return false;
    this.#lateAnswer(frame);
    return true;
  }

  clear(): void {
    this.#dropLate.clear();
  }

  /**
   * The broker did answer ApiVersions, after we had answered for it. This
   * connection keeps our answer (the client already acted on it), but a real
   * answer means the broker is not 0.8-era: later connections should not be
   * held to the legacy table.
   */
  #lateAnswer(frame: Buffer): void {
    const answered = frame.length >= SIZE_PREFIX_BYTES + 6 && frame.readInt16BE(SIZE_PREFIX_BYTES + 4) === ErrorCode.None;
    if (answered && this.#options.compatibility === 'auto') this.#options.legacy.clear?.();
    this.#options.once(
      'late',
      'warn',
      'legacy-fallback',
      `Broker answered ApiVersions after the ${this.#options.timeoutMs} ms the tunnel waited; this connection keeps the tunnel's answer${answered ? ', later connections will use the broker\'s' : ''}`,
    );
  }

  /** ApiVersions answered from the table, in the version asked, or refused in v0 form. */
  #localAnswer(apiVersion: number, correlationId: number): Buffer {
    const w = new Writer(128);
    encodeResponseHeader({ correlationId }, w, 0);
    if (apiVersion >= 0 && apiVersion <= API_VERSIONS_RESPONSE_MAX_VERSION) {
      encodeApiVersionsResponse(apiVersion, { errorCode: ErrorCode.None, apiKeys: this.#options.entries }, w);
    } else {
      // Clients read a refusal in the v0 layout and retry with a version we list.
      encodeApiVersionsResponse(0, { errorCode: ErrorCode.UnsupportedVersion, apiKeys: this.#options.entries }, w);
    }
    return w.toFrame();
  }
}
