import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiKey, ErrorCode } from './api-keys.ts';
import { ApiStatsCollector } from './api-stats.ts';
import { decodeApiVersionsResponse, encodeApiVersionsResponse } from './api-versions-response.ts';
import { frameReader, decodeResponseHeader } from './headers.ts';
import { kafkaJsParse, kafkaJsRequestFrame } from './kafkajs-oracle.ts';
import { encodeFetchResponseV0 } from './fetch-v0.ts';
import { encodeMetadataResponse } from './metadata-response.ts';
import { KafkaSession, type KafkaSessionOptions, type SessionEvent } from './session.ts';
import { requestFrame, responseFrame } from './test-frames.ts';
import type { Writer } from './writer.ts';

/** A session with recording hooks and a hand-driven clock. */
function harness(options: Partial<KafkaSessionOptions> = {}) {
  let clock = 1000;
  let legacyKnown = false;
  const sent: Buffer[] = [];
  const events: SessionEvent[] = [];
  const closed: { code: string; message: string }[] = [];
  const stats = new ApiStatsCollector();
  const session = new KafkaSession({
    compatibility: 'auto',
    advertised: { host: 'localhost', port: 9092 },
    legacy: { known: () => legacyKnown, mark: () => void (legacyKnown = true), clear: () => void (legacyKnown = false) },
    stats: [stats],
    sendToClient: (f) => void sent.push(f),
    onEvent: (e) => void events.push(e),
    close: (r) => void closed.push(r),
    now: () => clock,
    ...options,
  });
  return {
    session,
    sent,
    events,
    closed,
    stats,
    tick: (ms: number) => void (clock += ms),
    isLegacy: () => legacyKnown,
    setLegacy: () => void (legacyKnown = true),
  };
}

const metadataV0Body = (w: Writer) => encodeMetadataResponse(0, { brokers: [{ nodeId: 1, host: 'localhost', port: 9092 }], topics: [] }, w);
const apiVersionsRequest = (version: number, correlationId: number) =>
  requestFrame(ApiKey.ApiVersions, version, correlationId, (w) => {
    if (version >= 3) w.writeCompactString('test').writeCompactString('1').writeTaggedFields();
  });

function correlationIdOf(frame: Buffer): number {
  return decodeResponseHeader(frameReader(frame), 0).correlationId;
}

/** Decodes one of our ApiVersions answers: header v0, then the body in `version`. */
function readApiVersions(frame: Buffer, version: number) {
  const r = frameReader(frame);
  const header = decodeResponseHeader(r, 0);
  const body = decodeApiVersionsResponse(version, r);
  expect(r.remaining).toBe(0);
  return { correlationId: header.correlationId, ...body };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('KafkaSession pairing and stats', () => {
  it('pairs a response with its request and records bytes and latency', () => {
    const h = harness();
    const req = requestFrame(ApiKey.Metadata, 0, 7, (w) => w.writeInt32(0));
    expect(h.session.clientFrame(req)).toBe('forward');
    expect(h.session.inFlight).toBe(1);
    expect(h.stats.inFlight).toBe(1);
    h.tick(25);
    const res = responseFrame(ApiKey.Metadata, 0, 7, metadataV0Body);
    // Already pointing at the tunnel: nothing to rewrite, the very same buffer goes on.
    expect(h.session.brokerFrame(res)).toBe(res);
    expect(h.session.inFlight).toBe(0);
    expect(h.stats.snapshot()).toEqual([
      {
        apiKey: ApiKey.Metadata,
        name: 'Metadata',
        requests: 1,
        responses: 1,
        errors: 0,
        local: 0,
        requestBytes: req.length,
        responseBytes: res.length,
        latencyMs: { p50: 25, p95: 25, p99: 25, max: 25 },
      },
    ]);
  });

  it('expects no response to a Produce with acks=0 and waits for one with acks=1', async () => {
    const h = harness();
    const topicData = [{ topic: 't', partitions: [{ partition: 0, messages: [{ value: 'v' }] }] }];
    const fireAndForget = await kafkaJsRequestFrame('produce', 0, { acks: 0, timeout: 100, topicData }, { correlationId: 1, clientId: 'k' });
    const acked = await kafkaJsRequestFrame('produce', 3, { acks: 1, timeout: 100, topicData }, { correlationId: 2, clientId: 'k' });
    expect(h.session.clientFrame(fireAndForget)).toBe('forward');
    expect(h.session.inFlight).toBe(0);
    expect(h.session.clientFrame(acked)).toBe('forward');
    expect(h.session.inFlight).toBe(1);
    expect(h.stats.snapshot()[0]).toMatchObject({ name: 'Produce', requests: 2, responses: 0 });
  });

  it('counts an error carried by a Produce v0 response', () => {
    const h = harness();
    h.session.clientFrame(requestFrame(ApiKey.Produce, 0, 3, (w) => w.writeInt16(1).writeInt32(100).writeInt32(0)));
    const res = responseFrame(ApiKey.Produce, 0, 3, (w) =>
      w.writeArray(['t'], (w2, name) => w2.writeString(name).writeArray([0], (w3) => w3.writeInt32(0).writeInt16(ErrorCode.MessageTooLarge).writeInt64(-1n))),
    );
    expect(h.session.brokerFrame(res)).toBe(res);
    expect(h.stats.snapshot()[0]).toMatchObject({ responses: 1, errors: 1 });
  });

  it('counts a Metadata topic error', () => {
    const h = harness();
    h.session.clientFrame(requestFrame(ApiKey.Metadata, 1, 3, (w) => w.writeInt32(-1)));
    const res = responseFrame(ApiKey.Metadata, 1, 3, (w) =>
      encodeMetadataResponse(1, { brokers: [], topics: [{ errorCode: ErrorCode.UnknownTopicOrPartition, name: 'nope', partitions: [] }] }, w),
    );
    h.session.brokerFrame(res);
    expect(h.stats.snapshot()[0]).toMatchObject({ responses: 1, errors: 1 });
  });

  it('passes a response with an unknown correlation id through, counted and warned once', () => {
    const h = harness();
    const a = responseFrame(ApiKey.Metadata, 0, 99, metadataV0Body);
    const b = responseFrame(ApiKey.Metadata, 0, 100, metadataV0Body);
    expect(h.session.brokerFrame(a)).toBe(a);
    expect(h.session.brokerFrame(b)).toBe(b);
    expect(h.stats.unmatchedResponses).toBe(2);
    expect(h.events.filter((e) => e.kind === 'parse-warning')).toHaveLength(1);
    expect(h.events[0].message).toContain('correlation id 99');
  });

  it('takes a response it cannot match as the answer to the oldest request, so nothing stays in flight for ever', () => {
    const h = harness();
    h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 1, (w) => w.writeInt32(0)));
    h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 2, (w) => w.writeInt32(0)));
    expect(h.session.inFlight).toBe(2);
    const odd = responseFrame(ApiKey.Metadata, 0, 77, metadataV0Body);
    expect(h.session.brokerFrame(odd)).toBe(odd);
    expect(h.session.inFlight).toBe(1);
    expect(h.stats.inFlight).toBe(1);
    // The next answer still pairs with its own request.
    h.session.brokerFrame(responseFrame(ApiKey.Metadata, 0, 2, metadataV0Body));
    expect(h.session.inFlight).toBe(0);
    expect(h.stats.snapshot()[0]).toMatchObject({ requests: 2, responses: 1 });
  });

  it('forwards a frame too short to be a request, and never throws on one from the broker', () => {
    const h = harness();
    expect(h.session.clientFrame(Buffer.from([0, 0, 0, 2, 0, 1]))).toBe('forward');
    const tiny = Buffer.from([0, 0, 0, 1, 0]);
    expect(h.session.brokerFrame(tiny)).toBe(tiny);
    expect(h.events.map((e) => e.kind)).toEqual(['parse-warning']);
  });

  it('warns when the broker skips a request and answers a later one, and stops counting it in flight', () => {
    const h = harness();
    h.session.clientFrame(requestFrame(ApiKey.OffsetFetch, 1, 1, (w) => w.writeString('g').writeInt32(0)));
    h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 2, (w) => w.writeInt32(0)));
    const res = responseFrame(ApiKey.Metadata, 0, 2, metadataV0Body);
    expect(h.session.brokerFrame(res)).toBe(res);
    expect(h.session.inFlight).toBe(0);
    expect(h.stats.inFlight).toBe(0);
    expect(h.events).toEqual([
      expect.objectContaining({ level: 'warn', kind: 'unsupported-request', message: expect.stringContaining('did not answer OffsetFetch v1 (correlation id 1)') }),
    ]);
  });

  it('does not mistake a reused correlation id for a skipped request', () => {
    const h = harness();
    h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 1, (w) => w.writeInt32(0)));
    h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 2, (w) => w.writeInt32(0)));
    h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 1, (w) => w.writeInt32(0)));
    expect(h.session.inFlight).toBe(2);
    expect(h.session.brokerFrame(responseFrame(ApiKey.Metadata, 0, 2, metadataV0Body))).not.toBeNull();
    expect(h.session.brokerFrame(responseFrame(ApiKey.Metadata, 0, 1, metadataV0Body))).not.toBeNull();
    expect(h.events).toEqual([]);
    expect(h.stats.inFlight).toBe(0);
  });

  it('forgets in-flight requests when disposed', () => {
    const h = harness();
    h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 1, (w) => w.writeInt32(0)));
    h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 2, (w) => w.writeInt32(0)));
    expect(h.stats.inFlight).toBe(2);
    h.session.dispose();
    expect(h.session.inFlight).toBe(0);
    expect(h.stats.inFlight).toBe(0);
  });
});

describe('KafkaSession ApiVersions in auto mode', () => {
  it('forwards ApiVersions and clamps what the broker advertises', () => {
    const h = harness();
    expect(h.session.clientFrame(apiVersionsRequest(2, 1))).toBe('forward');
    const res = responseFrame(ApiKey.ApiVersions, 2, 1, (w) =>
      encodeApiVersionsResponse(
        2,
        {
          errorCode: 0,
          apiKeys: [
            { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 11 },
            { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 13 },
            { apiKey: ApiKey.DescribeCluster, minVersion: 2, maxVersion: 3 },
          ],
          throttleTimeMs: 0,
        },
        w,
      ),
    );
    const out = h.session.brokerFrame(res);
    expect(out).not.toBe(res);
    const answer = readApiVersions(out as Buffer, 2);
    expect(answer.correlationId).toBe(1);
    expect(answer.apiKeys.map((k) => [k.apiKey, k.maxVersion])).toEqual([
      [ApiKey.Produce, 11],
      [ApiKey.Metadata, 12],
    ]);
    expect(h.isLegacy()).toBe(false);
    expect(h.events.map((e) => e.kind)).toEqual(['rewrite']);
  });

  it('passes an ApiVersions answer within our versions through untouched', () => {
    const h = harness();
    h.session.clientFrame(apiVersionsRequest(3, 1));
    const res = responseFrame(ApiKey.ApiVersions, 3, 1, (w) =>
      encodeApiVersionsResponse(3, { errorCode: 0, apiKeys: [{ apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12 }] }, w),
    );
    expect(h.session.brokerFrame(res)).toBe(res);
  });

  it('answers from the legacy table when the broker stays silent, then drops its late answer', () => {
    vi.useFakeTimers();
    const h = harness({ apiVersionsTimeoutMs: 500 });
    expect(h.session.clientFrame(apiVersionsRequest(3, 1))).toBe('forward');
    vi.advanceTimersByTime(499);
    expect(h.sent).toHaveLength(0);
    h.tick(500);
    vi.advanceTimersByTime(1);
    expect(h.sent).toHaveLength(1);
    const answer = readApiVersions(h.sent[0], 3);
    expect(answer.correlationId).toBe(1);
    expect(answer.errorCode).toBe(0);
    expect(answer.apiKeys.map((k) => k.apiKey)).toEqual([0, 1, 2, 3, 18]);
    expect(h.isLegacy()).toBe(true);
    expect(h.events.map((e) => e.kind)).toEqual(['legacy-fallback']);
    expect(h.stats.snapshot()[0]).toMatchObject({ name: 'ApiVersions', requests: 1, responses: 1, local: 1, latencyMs: { max: 500 } });

    const late = responseFrame(ApiKey.ApiVersions, 3, 1, (w) => encodeApiVersionsResponse(3, { errorCode: 0, apiKeys: [] }, w));
    expect(h.session.brokerFrame(late)).toBeNull();
    expect(h.stats.snapshot()[0].responses).toBe(1);
    // A real answer, however late, shows the broker is not 0.8-era after all.
    expect(h.isLegacy()).toBe(false);
    expect(h.events.at(-1)).toMatchObject({ level: 'warn', kind: 'legacy-fallback', message: expect.stringContaining('answered ApiVersions after the 500 ms') });
  });

  it('answers at once once the tunnel knows the broker is legacy', () => {
    const h = harness();
    h.setLegacy();
    expect(h.session.clientFrame(apiVersionsRequest(0, 5))).toBe('consumed');
    expect(h.sent).toHaveLength(1);
    expect(readApiVersions(h.sent[0], 0).correlationId).toBe(5);
  });

  it('concludes the broker skipped ApiVersions when it answers a later request first', () => {
    const h = harness();
    h.session.clientFrame(apiVersionsRequest(1, 1));
    h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 2, (w) => w.writeInt32(0)));
    const metadata = responseFrame(ApiKey.Metadata, 0, 2, metadataV0Body);
    const out = h.session.brokerFrame(metadata);
    // Our ApiVersions answer went out first, then the Metadata response follows.
    expect(h.sent.map(correlationIdOf)).toEqual([1]);
    expect(out).toBe(metadata);
    expect(h.isLegacy()).toBe(true);
    expect(h.events.some((e) => e.kind === 'legacy-fallback')).toBe(true);
    expect(h.session.inFlight).toBe(0);
  });

  it('stops the timer when disposed', () => {
    vi.useFakeTimers();
    const h = harness({ apiVersionsTimeoutMs: 100 });
    h.session.clientFrame(apiVersionsRequest(0, 1));
    h.session.dispose();
    vi.advanceTimersByTime(1000);
    expect(h.sent).toHaveLength(0);
    expect(h.isLegacy()).toBe(false);
  });
});

describe('KafkaSession in legacy mode', () => {
  it.each([0, 1, 2, 3, 4])('answers ApiVersions v%i itself, in the version asked', (version) => {
    const h = harness({ compatibility: 'legacy' });
    expect(h.session.clientFrame(apiVersionsRequest(version, 40 + version))).toBe('consumed');
    const answer = readApiVersions(h.sent[0], version);
    expect(answer.correlationId).toBe(40 + version);
    expect(answer.apiKeys).toContainEqual(expect.objectContaining({ apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 0 }));
  });

  it('answers an ApiVersions version above 4 with UNSUPPORTED_VERSION in the v0 layout', () => {
    const h = harness({ compatibility: 'legacy' });
    h.session.clientFrame(requestFrame(ApiKey.ApiVersions, 7, 9));
    const answer = readApiVersions(h.sent[0], 0);
    expect(answer.errorCode).toBe(ErrorCode.UnsupportedVersion);
    expect(answer.apiKeys).toContainEqual(expect.objectContaining({ apiKey: ApiKey.ApiVersions, maxVersion: 4 }));
    expect(h.stats.snapshot()[0]).toMatchObject({ errors: 1, local: 1 });
  });

  it('gives KafkaJS an answer it accepts', async () => {
    const h = harness({ compatibility: 'legacy' });
    h.session.clientFrame(await kafkaJsRequestFrame('apiVersions', 2, {}, { correlationId: 3, clientId: 'kjs' }));
    const parsed = await kafkaJsParse('apiVersions', 2, h.sent[0].subarray(8));
    expect(parsed.apiVersions).toContainEqual({ apiKey: ApiKey.Fetch, minVersion: 0, maxVersion: 0 });
  });

  it('uses the profile table when one is given', () => {
    const h = harness({ compatibility: 'legacy', legacyApiVersions: [{ apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 1 }] });
    h.session.clientFrame(apiVersionsRequest(0, 1));
    expect(readApiVersions(h.sent[0], 0).apiKeys.map((k) => [k.apiKey, k.maxVersion])).toEqual([
      [ApiKey.Metadata, 1],
      [ApiKey.ApiVersions, 4],
    ]);
    expect(h.session.clientFrame(requestFrame(ApiKey.Metadata, 1, 2, (w) => w.writeInt32(-1)))).toBe('forward');
  });

  it('holds a local answer until earlier requests are answered, keeping request order', () => {
    const h = harness({ compatibility: 'legacy' });
    expect(h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 1, (w) => w.writeInt32(0)))).toBe('forward');
    expect(h.session.clientFrame(apiVersionsRequest(0, 2))).toBe('consumed');
    expect(h.sent).toHaveLength(0);
    const metadata = responseFrame(ApiKey.Metadata, 0, 1, metadataV0Body);
    expect(h.session.brokerFrame(metadata)).toBeNull();
    expect(h.sent.map(correlationIdOf)).toEqual([1, 2]);
    expect(h.sent[0]).toBe(metadata);
    expect(h.session.inFlight).toBe(0);
  });

  it('closes on a request a 0.8 broker would ignore, naming API and version', () => {
    const h = harness({ compatibility: 'legacy' });
    const req = requestFrame(ApiKey.FindCoordinator, 2, 1, (w) => w.writeString('group').writeInt8(0));
    expect(h.session.clientFrame(req)).toBe('consumed');
    const message = 'FindCoordinator v2 is not supported by this broker (0.8-era); closing so the client does not hang';
    expect(h.closed).toEqual([{ code: 'KAFKA_UNSUPPORTED_REQUEST', message }]);
    expect(h.events).toEqual([{ level: 'warn', kind: 'unsupported-request', message, code: 'KAFKA_UNSUPPORTED_REQUEST' }]);
    expect(h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 2))).toBe('consumed');
  });

  it('closes on a known API at a version the table lacks', () => {
    const h = harness({ compatibility: 'legacy' });
    expect(h.session.clientFrame(requestFrame(ApiKey.Fetch, 4, 1))).toBe('consumed');
    expect(h.closed[0].message).toMatch(/^Fetch v4 is not supported/);
  });
});

describe('KafkaSession in passthrough mode', () => {
  it('never answers or clamps ApiVersions', () => {
    vi.useFakeTimers();
    const h = harness({ compatibility: 'passthrough', apiVersionsTimeoutMs: 10 });
    h.setLegacy();
    expect(h.session.clientFrame(apiVersionsRequest(0, 1))).toBe('forward');
    vi.advanceTimersByTime(1000);
    expect(h.sent).toHaveLength(0);
    const res = responseFrame(ApiKey.ApiVersions, 0, 1, (w) =>
      encodeApiVersionsResponse(0, { errorCode: 0, apiKeys: [{ apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 13 }] }, w),
    );
    expect(h.session.brokerFrame(res)).toBe(res);
    expect(h.session.clientFrame(requestFrame(ApiKey.FindCoordinator, 2, 2))).toBe('forward');
    expect(h.closed).toHaveLength(0);
  });
});

describe('KafkaSession on the head of a large frame', () => {
  const HEAD = 512;
  const produce = (id: number, acks: number, clientId = 'test-client') =>
    requestFrame(ApiKey.Produce, 0, id, (w) => w.writeInt16(acks).writeInt32(100).writeInt32(0).writeBytes(Buffer.alloc(100_000)), clientId);
  const fetchResponse = (id: number, errorCode: number) =>
    responseFrame(ApiKey.Fetch, 0, id, (w) =>
      encodeFetchResponseV0({ topics: [{ topic: 't', partitions: [{ partition: 0, errorCode, highWatermark: 5n, messageSet: Buffer.alloc(200_000) }] }] }, w),
    );
  const fetchRequest = (id: number) => requestFrame(ApiKey.Fetch, 0, id, (w) => w.writeInt32(-1).writeInt32(100).writeInt32(1).writeInt32(0));

  it('streams a Produce from its head and expects its answer, or none with acks=0', () => {
    const h = harness();
    const acked = produce(1, 1);
    expect(h.session.clientHead(acked.subarray(0, HEAD), acked.length)).toBe('stream');
    expect(h.session.inFlight).toBe(1);
    const fireAndForget = produce(2, 0);
    expect(h.session.clientHead(fireAndForget.subarray(0, HEAD), fireAndForget.length)).toBe('stream');
    expect(h.session.inFlight).toBe(1);
    expect(h.stats.snapshot()[0]).toMatchObject({ name: 'Produce', requests: 2, requestBytes: acked.length + fireAndForget.length });
  });

  it('wants the whole Produce when acks lies past the head (a very long client id)', () => {
    const h = harness();
    const frame = produce(1, 1, 'x'.repeat(600));
    expect(h.session.clientHead(frame.subarray(0, HEAD), frame.length)).toBe('whole');
    expect(h.session.inFlight).toBe(0);
  });

  it('wants ApiVersions whole, and on a legacy broker any request it would translate or refuse', () => {
    const h = harness();
    const av = apiVersionsRequest(3, 1);
    expect(h.session.clientHead(av, av.length)).toBe('whole');
    h.setLegacy();
    const metadataV5 = requestFrame(ApiKey.Metadata, 5, 2, (w) => w.writeInt32(0).writeBytes(Buffer.alloc(1000)));
    expect(h.session.clientHead(metadataV5.subarray(0, HEAD), metadataV5.length)).toBe('whole');
    expect(h.session.inFlight).toBe(0);
  });

  it('streams an in-order Fetch answer from its head, counting its size and error', () => {
    const h = harness();
    h.session.clientFrame(fetchRequest(1));
    h.session.clientFrame(fetchRequest(2));
    h.tick(40);
    const ok = fetchResponse(1, 0);
    expect(h.session.brokerHead(ok.subarray(0, HEAD), ok.length)).toBe('stream');
    const failed = fetchResponse(2, ErrorCode.OffsetOutOfRange);
    expect(h.session.brokerHead(failed.subarray(0, HEAD), failed.length)).toBe('stream');
    expect(h.session.inFlight).toBe(0);
    expect(h.stats.snapshot()[0]).toMatchObject({ name: 'Fetch', responses: 2, errors: 1, responseBytes: ok.length + failed.length });
  });

  it('wants whole what it may rewrite, what it cannot pair and what comes out of order', () => {
    const h = harness();
    const metadata = responseFrame(ApiKey.Metadata, 0, 1, metadataV0Body);
    h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 1, (w) => w.writeInt32(0)));
    expect(h.session.brokerHead(metadata, metadata.length)).toBe('whole');
    const stray = fetchResponse(99, 0);
    expect(h.session.brokerHead(stray.subarray(0, HEAD), stray.length)).toBe('whole');
    h.session.clientFrame(fetchRequest(2));
    h.session.clientFrame(fetchRequest(3));
    const second = fetchResponse(3, 0);
    // Request 1 (Metadata) and 2 are still unanswered: the whole-frame path warns about the skip.
    expect(h.session.brokerHead(second.subarray(0, HEAD), second.length)).toBe('whole');
    expect(h.session.inFlight).toBe(3);
  });
});
