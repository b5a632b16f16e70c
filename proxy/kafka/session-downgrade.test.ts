import { describe, expect, it } from 'vitest';
import type { CompatibilityMode } from '../../shared/profile.ts';
import { ApiKey, ErrorCode } from './api-keys.ts';
import { ApiStatsCollector } from './api-stats.ts';
import { decodeFetchRequestV0, encodeFetchResponseV0 } from './fetch-v0.ts';
import { decodeRequestHeader, frameReader } from './headers.ts';
import { kafkaJsDecode, kafkaJsRequestFrame } from './kafkajs-oracle.ts';
import { encodeMessageSetV0 } from './message-set-v0.ts';
import { encodeMetadataResponse } from './metadata-response.ts';
import { decodeProduceRequestV0, encodeProduceResponseV0 } from './produce-v0.ts';
import { KafkaSession, type KafkaSessionOptions, type SessionEvent } from './session.ts';
import { requestFrame, responseFrame } from './test-frames.ts';

/*
 * The session's side of translation (downgrade.ts holds the codec): which
 * requests it translates, how pairing and stats follow the client's version,
 * and that it never throws or hangs a client when translation fails.
 */

const ADVERTISED = { host: '127.0.0.1', port: 19092 };
const HEADER = { correlationId: 5, clientId: 'kafka-python-2.0.2' };

function harness(options: Partial<KafkaSessionOptions> & { legacyKnown?: boolean; compatibility?: CompatibilityMode } = {}) {
  const toBroker: Buffer[] = [];
  const toClient: Buffer[] = [];
  const events: SessionEvent[] = [];
  const closed: { code: string; message: string }[] = [];
  const stats = new ApiStatsCollector();
  const known = options.legacyKnown ?? false;
  const session = new KafkaSession({
    compatibility: 'legacy',
    advertised: ADVERTISED,
    legacy: { known: () => known, mark: () => {} },
    stats: [stats],
    sendToClient: (f) => void toClient.push(f),
    sendToBroker: (f) => void toBroker.push(f),
    onEvent: (e) => void events.push(e),
    close: (r) => void closed.push(r),
    ...options,
  });
  return { session, toBroker, toClient, events, closed, stats };
}

const produceArgs = (acks: number) => ({
  acks,
  timeout: 1500,
  topicData: [{ topic: 'events', partitions: [{ partition: 2, messages: [{ key: 'p2', value: 'python two' }] }] }],
});

const produceV0Response = (correlationId: number, errorCode = 0) =>
  responseFrame(ApiKey.Produce, 0, correlationId, (w) =>
    encodeProduceResponseV0({ topics: [{ topic: 'events', partitions: [{ partition: 2, errorCode, baseOffset: 12n }] }] }, w),
  );

const metadataV0Response = (correlationId: number) =>
  responseFrame(ApiKey.Metadata, 0, correlationId, (w) =>
    encodeMetadataResponse(0, { brokers: [{ nodeId: 0, host: 'kafka-worker.example.workers.dev', port: 443 }], topics: [] }, w),
  );

describe('KafkaSession translating for a legacy broker', () => {
  it('sends a Produce v2 to the broker as v0 and its answer back as v2, counted once as the client sent it', async () => {
    const h = harness();
    const request = await kafkaJsRequestFrame('produce', 2, produceArgs(1), HEADER);
    expect(h.session.clientFrame(request)).toBe('consumed');
    expect(h.toBroker).toHaveLength(1);
    const r = frameReader(h.toBroker[0]);
    expect(decodeRequestHeader(r)).toMatchObject({ apiKey: ApiKey.Produce, apiVersion: 0, correlationId: 5 });
    expect(decodeProduceRequestV0(r).topics[0].partitions[0].messageSet.readInt8(16)).toBe(0);
    expect(h.session.inFlight).toBe(1);

    const answer = h.session.brokerFrame(produceV0Response(5, ErrorCode.CorruptMessage));
    expect(answer).not.toBeNull();
    expect(answer!.readInt32BE(4)).toBe(5);
    const decoded = (await kafkaJsDecode('produce', 2, answer!.subarray(8))) as { topics: { partitions: { errorCode: number; offset: string; timestamp: string }[] }[]; throttleTime: number };
    expect(decoded.topics[0].partitions).toEqual([{ partition: 2, errorCode: ErrorCode.CorruptMessage, offset: '12', timestamp: '-1' }]);
    expect(h.session.inFlight).toBe(0);
    expect(h.stats.snapshot()).toEqual([
      expect.objectContaining({ apiKey: ApiKey.Produce, requests: 1, responses: 1, errors: 1, requestBytes: request.length, responseBytes: answer!.length }),
    ]);
    expect(h.closed).toEqual([]);
  });

  it('expects no answer to a translated Produce with acks=0', async () => {
    const h = harness();
    expect(h.session.clientFrame(await kafkaJsRequestFrame('produce', 2, produceArgs(0), HEADER))).toBe('consumed');
    expect(h.toBroker).toHaveLength(1);
    expect(h.session.inFlight).toBe(0);
    expect(h.stats.snapshot()[0]).toMatchObject({ requests: 1, responses: 0 });
  });

  it('translates Metadata v1 and still rewrites the broker address in the answer', async () => {
    const h = harness();
    expect(h.session.clientFrame(await kafkaJsRequestFrame('metadata', 1, { topics: ['events'] }, HEADER))).toBe('consumed');
    expect(h.toBroker[0].readInt16BE(6)).toBe(0);
    const answer = h.session.brokerFrame(metadataV0Response(5))!;
    const decoded = (await kafkaJsDecode('metadata', 1, answer.subarray(8))) as { brokers: unknown[]; controllerId: number };
    expect(decoded.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: 19092, rack: null }]);
    expect(decoded.controllerId).toBe(0);
    expect(h.events.map((e) => e.kind)).toEqual(['legacy-fallback', 'rewrite']);
  });

  it('translates Fetch v2, keeps request order with untranslated requests, and says so once per connection', async () => {
    const h = harness();
    const fetch = await kafkaJsRequestFrame(
      'fetch',
      2,
      { replicaId: -1, maxWaitTime: 100, minBytes: 1, topics: [{ topic: 'events', partitions: [{ partition: 2, fetchOffset: '0', maxBytes: 1024 }] }] },
      { correlationId: 1, clientId: 'c' },
    );
    expect(h.session.clientFrame(fetch)).toBe('consumed');
    expect(h.session.clientFrame(requestFrame(ApiKey.ListOffsets, 0, 2))).toBe('forward');
    expect(h.session.clientFrame(await kafkaJsRequestFrame('produce', 2, produceArgs(1), { correlationId: 3, clientId: 'c' }))).toBe('consumed');
    const r = frameReader(h.toBroker[0]);
    decodeRequestHeader(r);
    expect(decodeFetchRequestV0(r).topics[0].partitions).toEqual([{ partition: 2, fetchOffset: 0n, maxBytes: 1024 }]);

    const messageSet = encodeMessageSetV0([{ offset: 0n, key: Buffer.from('p2'), value: Buffer.from('python two') }]);
    const fetched = h.session.brokerFrame(
      responseFrame(ApiKey.Fetch, 0, 1, (w) => encodeFetchResponseV0({ topics: [{ topic: 'events', partitions: [{ partition: 2, errorCode: 0, highWatermark: 1n, messageSet }] }] }, w)),
    )!;
    const decoded = (await kafkaJsDecode('fetch', 2, fetched.subarray(8))) as { throttleTime: number; responses: { partitions: { messages: { value: Buffer }[] }[] }[] };
    expect(decoded.throttleTime).toBe(0);
    expect(decoded.responses[0].partitions[0].messages.map((m) => m.value.toString())).toEqual(['python two']);
    const listOffsets = responseFrame(ApiKey.ListOffsets, 0, 2, (w) => w.writeInt32(0));
    expect(h.session.brokerFrame(listOffsets)).toBe(listOffsets);
    expect(h.session.brokerFrame(produceV0Response(3))!.length).toBe(produceV0Response(3).length + 8 + 4);
    expect(h.events).toEqual([
      { level: 'info', kind: 'legacy-fallback', message: expect.stringMatching(/^Translating Fetch v2 to v0 for this 0\.8-era broker/) },
    ]);
  });

  it('translates in auto mode once the tunnel knows the broker is legacy, and forwards before that', async () => {
    const request = await kafkaJsRequestFrame('metadata', 1, { topics: ['events'] }, HEADER);
    const before = harness({ compatibility: 'auto' });
    expect(before.session.clientFrame(request)).toBe('forward');
    const after = harness({ compatibility: 'auto', legacyKnown: true });
    expect(after.session.clientFrame(request)).toBe('consumed');
    expect(after.toBroker).toHaveLength(1);
  });

  it('warns once when compressed format-v1 messages go on untranslated', async () => {
    const { CompressionTypes } = await import('kafkajs');
    const h = harness();
    h.session.clientFrame(await kafkaJsRequestFrame('produce', 2, { ...produceArgs(1), compression: CompressionTypes.GZIP }, HEADER));
    expect(h.toBroker).toHaveLength(1);
    expect(h.events.map((e) => [e.level, e.kind])).toEqual([
      ['info', 'legacy-fallback'],
      ['warn', 'unsupported-request'],
    ]);
    expect(h.events[1].message).toMatch(/compressed messages in format v1.*the broker will refuse them/);
  });
});

describe('KafkaSession when it cannot translate', () => {
  it('closes with a reason when a request cannot be translated, and sends nothing', () => {
    const h = harness();
    const broken = requestFrame(ApiKey.Produce, 2, 1, (w) => w.writeInt16(1).writeInt32(1500).writeInt32(1).writeString('events').writeInt32(1).writeInt32(0).writeInt32(3).writeRaw(Buffer.from([1, 2, 3])));
    expect(h.session.clientFrame(broken)).toBe('consumed');
    expect(h.toBroker).toEqual([]);
    expect(h.closed).toEqual([{ code: 'KAFKA_TRANSLATION_FAILED', message: expect.stringMatching(/^Could not translate Produce v2 to v0 for this 0\.8-era broker \(.+\); closing so the client does not hang$/) }]);
    expect(h.events[0]).toMatchObject({ level: 'warn', kind: 'unsupported-request', code: 'KAFKA_TRANSLATION_FAILED' });
    expect(h.session.clientFrame(requestFrame(ApiKey.Metadata, 0, 2))).toBe('consumed');
  });

  it('passes an answer it cannot translate back through unchanged, with one warning', async () => {
    const h = harness();
    h.session.clientFrame(await kafkaJsRequestFrame('produce', 2, produceArgs(1), HEADER));
    const garbage = responseFrame(ApiKey.Produce, 0, 5, (w) => w.writeInt32(1).writeInt16(-7));
    expect(h.session.brokerFrame(garbage)).toBe(garbage);
    expect(h.events[1]).toMatchObject({ level: 'warn', kind: 'parse-warning', message: expect.stringMatching(/^Could not translate a Produce v0 response back to v2/) });
    expect(h.session.inFlight).toBe(0);
  });

  it('refuses, as before, a version beyond the translator, an API it does not translate, and any request without a way to the broker', async () => {
    const fetchV4 = harness();
    expect(fetchV4.session.clientFrame(requestFrame(ApiKey.Fetch, 4, 1))).toBe('consumed');
    expect(fetchV4.closed[0]).toMatchObject({ code: 'KAFKA_UNSUPPORTED_REQUEST', message: expect.stringMatching(/^Fetch v4 is not supported/) });

    const listOffsetsV1 = harness();
    listOffsetsV1.session.clientFrame(requestFrame(ApiKey.ListOffsets, 1, 1));
    expect(listOffsetsV1.closed[0].code).toBe('KAFKA_UNSUPPORTED_REQUEST');

    const noHook = harness({ sendToBroker: undefined });
    expect(noHook.session.clientFrame(await kafkaJsRequestFrame('metadata', 1, { topics: ['events'] }, HEADER))).toBe('consumed');
    expect(noHook.closed[0].message).toMatch(/^Metadata v1 is not supported/);
  });

  it('refuses when the profile table does not list v0 of the API', async () => {
    const h = harness({ legacyApiVersions: [{ apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 0 }] });
    h.session.clientFrame(await kafkaJsRequestFrame('metadata', 1, { topics: ['events'] }, HEADER));
    expect(h.toBroker).toEqual([]);
    expect(h.closed[0].code).toBe('KAFKA_UNSUPPORTED_REQUEST');
  });
});
