import { describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from './api-keys.ts';
import { canDowngrade, downgradeRequest, upgradeResponse, type Downgrade } from './downgrade.ts';
import { KafkaDecodeError } from './errors.ts';
import { decodeFetchRequestV0, encodeFetchResponseV0 } from './fetch-v0.ts';
import { decodeRequestHeader, frameReader } from './headers.ts';
import { kafkaJsDecode, kafkaJsRequestFrame } from './kafkajs-oracle.ts';
import { decodeMessageSetV0, encodeMessageSetV0 } from './message-set-v0.ts';
import { decodeMetadataRequest } from './metadata-request.ts';
import { decodeMetadataResponse, encodeMetadataResponse, type MetadataResponse } from './metadata-response.ts';
import { decodeProduceRequestV0, encodeProduceResponseV0 } from './produce-v0.ts';
import { requestFrame, responseFrame } from './test-frames.ts';
import type { Writer } from './writer.ts';

const HEADER = { correlationId: 77, clientId: 'kafka-python-2.0.2' };

/** Reads a translated request: header (must be v0 of the same API, same ids), then the body reader. */
function readDowngraded(frame: Buffer, apiKey: number) {
  const r = frameReader(frame);
  expect(decodeRequestHeader(r)).toEqual({ apiKey, apiVersion: 0, correlationId: HEADER.correlationId, clientId: HEADER.clientId });
  return r;
}

/** A response frame's body (after size and correlation id), as the KafkaJS decoders take it. */
const bodyOf = (frame: Buffer) => frame.subarray(8);

describe('canDowngrade', () => {
  it('translates Metadata v1–v8, Produce v1–v2 and Fetch v1–v3, nothing else', () => {
    const yes = [
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((v) => [ApiKey.Metadata, v]),
      [ApiKey.Produce, 1],
      [ApiKey.Produce, 2],
      [ApiKey.Fetch, 1],
      [ApiKey.Fetch, 3],
    ];
    for (const [key, version] of yes) expect(canDowngrade(key, version), `${key} v${version}`).toBe(true);
    const no = [
      [ApiKey.Metadata, 0],
      [ApiKey.Metadata, 9],
      [ApiKey.Produce, 3],
      [ApiKey.Fetch, 4],
      [ApiKey.ListOffsets, 1],
      [ApiKey.FindCoordinator, 1],
    ];
    for (const [key, version] of no) expect(canDowngrade(key, version), `${key} v${version}`).toBe(false);
  });
});

describe('Produce down to v0', () => {
  const topicData = [
    {
      topic: 'events',
      partitions: [
        { partition: 0, messages: [{ key: 'p0', value: 'python zero', timestamp: 1_700_000_000_000 }] },
        {
          partition: 2,
          messages: [
            { key: 'p2', value: 'python two' },
            { key: null, value: 'no key' },
          ],
        },
      ],
    },
  ];

  it('lowers the format-v1 messages KafkaJS writes for Produce v2 to a v0 request our decoders read', async () => {
    const frame = await kafkaJsRequestFrame('produce', 2, { acks: 1, timeout: 1500, topicData }, HEADER);
    const { frame: out, downgrade, keptMessages } = downgradeRequest(frame);
    // Each of the three messages loses its 8-byte timestamp: KafkaJS did write format v1.
    expect(out.length).toBe(frame.length - 3 * 8);
    expect(downgrade).toEqual({ apiKey: ApiKey.Produce, clientVersion: 2, noTopics: false });
    expect(keptMessages).toBe(0);
    const r = readDowngraded(out, ApiKey.Produce);
    const request = decodeProduceRequestV0(r);
    expect(r.remaining).toBe(0);
    expect(request).toMatchObject({ acks: 1, timeoutMs: 1500 });
    const sets = request.topics[0].partitions.map((p) => {
      const decoded = decodeMessageSetV0(p.messageSet);
      expect(decoded.partialBytes).toBe(0);
      return [p.partition, decoded.messages.map((m) => [m.magic, m.crcValid, m.key?.toString() ?? null, m.value?.toString()])];
    });
    expect(sets).toEqual([
      [0, [[0, true, 'p0', 'python zero']]],
      [
        2,
        [
          [0, true, 'p2', 'python two'],
          [0, true, null, 'no key'],
        ],
      ],
    ]);
  });

  it('changes only the version of a Produce v1 whose messages are already v0', async () => {
    const frame = await kafkaJsRequestFrame('produce', 1, { acks: -1, timeout: 30000, topicData }, HEADER);
    const { frame: out } = downgradeRequest(frame);
    expect(out.length).toBe(frame.length);
    expect(out.readInt16BE(6)).toBe(0);
    expect(Buffer.concat([out.subarray(0, 6), out.subarray(8)])).toEqual(Buffer.concat([frame.subarray(0, 6), frame.subarray(8)]));
  });

  it('counts compressed messages it leaves for the broker to refuse', async () => {
    const { CompressionTypes } = await import('kafkajs');
    const frame = await kafkaJsRequestFrame('produce', 2, { acks: 1, timeout: 1500, compression: CompressionTypes.GZIP, topicData }, HEADER);
    const { frame: out, keptMessages } = downgradeRequest(frame);
    expect(keptMessages).toBe(2);
    const r = readDowngraded(out, ApiKey.Produce);
    const set = decodeProduceRequestV0(r).topics[0].partitions[0].messageSet;
    // One gzip wrapper per partition, still format v1 (magic after offset, size and crc).
    expect(set.readInt8(8 + 4 + 4)).toBe(1);
  });

  it('answers in v1 and v2 what KafkaJS reads: throttle time last, log-append time -1 from v2', async () => {
    const v0 = responseFrame(ApiKey.Produce, 0, 77, (w) =>
      encodeProduceResponseV0(
        {
          topics: [
            {
              topic: 'events',
              partitions: [
                { partition: 0, errorCode: 0, baseOffset: 41n },
                { partition: 2, errorCode: ErrorCode.CorruptMessage, baseOffset: -1n },
              ],
            },
          ],
        },
        w,
      ),
    );
    const v1 = upgradeResponse(v0, { apiKey: ApiKey.Produce, clientVersion: 1, noTopics: false });
    expect(v1.readInt32BE(4)).toBe(77);
    expect(await kafkaJsDecode('produce', 1, bodyOf(v1))).toEqual({
      topics: [
        {
          topicName: 'events',
          partitions: [
            { partition: 0, errorCode: 0, offset: '41' },
            { partition: 2, errorCode: ErrorCode.CorruptMessage, offset: '-1' },
          ],
        },
      ],
      throttleTime: 0,
    });
    const v2 = upgradeResponse(v0, { apiKey: ApiKey.Produce, clientVersion: 2, noTopics: false });
    expect(v2.length).toBe(v1.length + 2 * 8);
    const decoded = (await kafkaJsDecode('produce', 2, bodyOf(v2))) as { topics: { partitions: { offset: string; timestamp: string }[] }[]; throttleTime: number };
    expect(decoded.topics[0].partitions.map((p) => [p.offset, p.timestamp])).toEqual([
      ['41', '-1'],
      ['-1', '-1'],
    ]);
    expect(decoded.throttleTime).toBe(0);
  });

  it('throws KafkaDecodeError on a request it cannot read, and on a response that is not v0', async () => {
    const frame = await kafkaJsRequestFrame('produce', 2, { acks: 1, timeout: 1500, topicData }, HEADER);
    const cut = Buffer.from(frame.subarray(0, frame.length - 3));
    cut.writeInt32BE(cut.length - 4, 0);
    expect(() => downgradeRequest(cut)).toThrow(KafkaDecodeError);
    const trailing = Buffer.concat([frame, Buffer.from([0])]);
    trailing.writeInt32BE(trailing.length - 4, 0);
    expect(() => downgradeRequest(trailing)).toThrow(/unexpected trailing bytes/);
    const garbage = responseFrame(ApiKey.Produce, 0, 1, (w) => w.writeInt32(1).writeInt16(-3));
    expect(() => upgradeResponse(garbage, { apiKey: ApiKey.Produce, clientVersion: 2, noTopics: false })).toThrow(KafkaDecodeError);
  });
});

describe('Fetch down to v0', () => {
  const args = {
    replicaId: -1,
    maxWaitTime: 100,
    minBytes: 1,
    maxBytes: 52428800,
    topics: [{ topic: 'events', partitions: [{ partition: 2, fetchOffset: '9007199254740993', maxBytes: 1048576 }] }],
  };
  const expected = {
    replicaId: -1,
    maxWaitMs: 100,
    minBytes: 1,
    topics: [{ topic: 'events', partitions: [{ partition: 2, fetchOffset: 9007199254740993n, maxBytes: 1048576 }] }],
  };

  it.each([1, 2, 3])('sends Fetch v%i as the v0 request our decoder reads (v3 loses max_bytes)', async (version) => {
    const frame = await kafkaJsRequestFrame('fetch', version, args, HEADER);
    const { frame: out, downgrade } = downgradeRequest(frame);
    expect(downgrade).toEqual({ apiKey: ApiKey.Fetch, clientVersion: version, noTopics: false });
    expect(out.length).toBe(frame.length - (version === 3 ? 4 : 0));
    const r = readDowngraded(out, ApiKey.Fetch);
    expect(decodeFetchRequestV0(r)).toEqual(expected);
    expect(r.remaining).toBe(0);
  });

  it.each([1, 2, 3])('answers Fetch v%i with a throttle time in front of the v0 body, messages intact for KafkaJS', async (version) => {
    const messageSet = encodeMessageSetV0([
      { offset: 5n, key: Buffer.from('p2'), value: Buffer.from('python two') },
      { offset: 6n, key: null, value: Buffer.from('again') },
    ]);
    const v0 = responseFrame(ApiKey.Fetch, 0, 77, (w) =>
      encodeFetchResponseV0(
        {
          topics: [
            {
              topic: 'events',
              partitions: [
                { partition: 2, errorCode: 0, highWatermark: 7n, messageSet },
                { partition: 0, errorCode: ErrorCode.OffsetOutOfRange, highWatermark: 0n, messageSet: Buffer.alloc(0) },
              ],
            },
          ],
        },
        w,
      ),
    );
    const out = upgradeResponse(v0, { apiKey: ApiKey.Fetch, clientVersion: version, noTopics: false });
    expect(out.length).toBe(v0.length + 4);
    const decoded = (await kafkaJsDecode('fetch', version, bodyOf(out))) as {
      throttleTime: number;
      responses: { partitions: { partition: number; errorCode: number; highWatermark: string; messages: { offset: string; key: Buffer | null; value: Buffer }[] }[] }[];
    };
    expect(decoded.throttleTime).toBe(0);
    expect(decoded.responses[0].partitions.map((p) => [p.partition, p.errorCode, p.highWatermark, p.messages.map((m) => [m.offset, m.key?.toString() ?? null, m.value.toString()])])).toEqual([
      [
        2,
        0,
        '7',
        [
          ['5', 'p2', 'python two'],
          ['6', null, 'again'],
        ],
      ],
      [0, ErrorCode.OffsetOutOfRange, '0', []],
    ]);
  });

  it('throws KafkaDecodeError on a Fetch v3 body too short to hold max_bytes', () => {
    const frame = requestFrame(ApiKey.Fetch, 3, 1, (w) => w.writeInt32(-1).writeInt32(100).writeInt32(1));
    expect(() => downgradeRequest(frame)).toThrow(KafkaDecodeError);
  });
});

describe('Metadata down to v0', () => {
  const topics = (w: Writer, names: string[] | null) => w.writeNullableArray(names, (w2, n) => void w2.writeString(n));

  it('asks v0 for all topics when v1 asks with a null array, and for the same topics when named', async () => {
    const all = downgradeRequest(requestFrame(ApiKey.Metadata, 1, HEADER.correlationId, (w) => topics(w, null), HEADER.clientId));
    expect(all.downgrade).toEqual({ apiKey: ApiKey.Metadata, clientVersion: 1, noTopics: false });
    let r = readDowngraded(all.frame, ApiKey.Metadata);
    expect(r.readInt32()).toBe(0);
    expect(r.remaining).toBe(0);

    const named = downgradeRequest(await kafkaJsRequestFrame('metadata', 1, { topics: ['events', 'test-topic'] }, HEADER));
    r = readDowngraded(named.frame, ApiKey.Metadata);
    expect(decodeMetadataRequest(0, r).topics?.map((t) => t.name)).toEqual(['events', 'test-topic']);
  });

  it('asks v0 for all topics when v1 asks for none, and remembers to answer with none', () => {
    const none = downgradeRequest(requestFrame(ApiKey.Metadata, 1, HEADER.correlationId, (w) => topics(w, []), HEADER.clientId));
    expect(none.downgrade.noTopics).toBe(true);
    expect(readDowngraded(none.frame, ApiKey.Metadata).readInt32()).toBe(0);
  });

  it('drops the v4 auto-creation flag and the v8 authorization flags', async () => {
    const v4 = downgradeRequest(await kafkaJsRequestFrame('metadata', 4, { topics: ['events'], allowAutoTopicCreation: false }, HEADER));
    const r = readDowngraded(v4.frame, ApiKey.Metadata);
    expect(decodeMetadataRequest(0, r).topics?.map((t) => t.name)).toEqual(['events']);
    expect(r.remaining).toBe(0);
    const v8 = downgradeRequest(requestFrame(ApiKey.Metadata, 8, HEADER.correlationId, (w) => topics(w, ['a']).writeBoolean(true).writeBoolean(true).writeBoolean(true), HEADER.clientId));
    expect(v8.frame.length).toBe(requestFrame(ApiKey.Metadata, 0, HEADER.correlationId, (w) => topics(w, ['a']), HEADER.clientId).length);
  });

  const broker: MetadataResponse = {
    brokers: [
      { nodeId: 3, host: 'kafka-worker.example.workers.dev', port: 443 },
      { nodeId: 4, host: 'other.example', port: 9092 },
    ],
    topics: [
      { errorCode: 0, name: 'events', partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 3, replicaNodes: [3], isrNodes: [3] }] },
      { errorCode: ErrorCode.UnknownTopicOrPartition, name: 'missing', partitions: [] },
      { errorCode: 0, name: '__consumer_offsets', partitions: [] },
    ],
  };
  const v0 = responseFrame(ApiKey.Metadata, 0, 77, (w) => encodeMetadataResponse(0, broker, w));
  const up = (clientVersion: number, noTopics = false): Downgrade => ({ apiKey: ApiKey.Metadata, clientVersion, noTopics });

  it('answers v1 with rack, controller (the first broker) and is_internal, as KafkaJS reads them', async () => {
    const out = upgradeResponse(v0, up(1));
    expect(out.readInt32BE(4)).toBe(77);
    const decoded = (await kafkaJsDecode('metadata', 1, bodyOf(out))) as {
      brokers: unknown[];
      controllerId: number;
      topicMetadata: { topic: string; topicErrorCode: number; isInternal: boolean; partitionMetadata: unknown[] }[];
    };
    expect(decoded.brokers).toEqual([
      { nodeId: 3, host: 'kafka-worker.example.workers.dev', port: 443, rack: null },
      { nodeId: 4, host: 'other.example', port: 9092, rack: null },
    ]);
    expect(decoded.controllerId).toBe(3);
    expect(decoded.topicMetadata.map((t) => [t.topic, t.topicErrorCode, t.isInternal])).toEqual([
      ['events', 0, false],
      ['missing', ErrorCode.UnknownTopicOrPartition, false],
      ['__consumer_offsets', 0, true],
    ]);
    expect(decoded.topicMetadata[0].partitionMetadata).toEqual([{ partitionErrorCode: 0, partitionId: 0, leader: 3, replicas: [3], isr: [3] }]);
  });

  it.each([2, 3, 4, 5, 6, 7, 8])('answers v%i in a layout our decoder reads to the last byte', (version) => {
    const r = frameReader(upgradeResponse(v0, up(version)));
    r.readInt32();
    const data = decodeMetadataResponse(version, r);
    expect(r.remaining).toBe(0);
    expect(data).toMatchObject({ throttleTimeMs: 0, clusterId: null, controllerId: 3 });
    expect(data.topics.map((t) => t.name)).toEqual(['events', 'missing', '__consumer_offsets']);
    expect(data.topics[0].partitions[0]).toMatchObject({ leaderId: 3, leaderEpoch: -1, offlineReplicas: [] });
  });

  it('answers a v1 request for no topics with no topics, and a broker-less answer with controller -1', async () => {
    const none = (await kafkaJsDecode('metadata', 1, bodyOf(upgradeResponse(v0, up(1, true))))) as { topicMetadata: unknown[] };
    expect(none.topicMetadata).toEqual([]);
    const empty = responseFrame(ApiKey.Metadata, 0, 1, (w) => encodeMetadataResponse(0, { brokers: [], topics: [] }, w));
    const decoded = (await kafkaJsDecode('metadata', 5, bodyOf(upgradeResponse(empty, up(5))))) as { controllerId: number };
    expect(decoded.controllerId).toBe(-1);
  });
});

describe('requests without a translation', () => {
  it('throws KafkaDecodeError rather than guess', () => {
    expect(() => downgradeRequest(requestFrame(ApiKey.Metadata, 9, 1))).toThrow(/has no translation/);
    expect(() => downgradeRequest(requestFrame(ApiKey.ListOffsets, 1, 1))).toThrow(KafkaDecodeError);
    expect(() => downgradeRequest(Buffer.from([0, 0, 0, 2, 0, 3]))).toThrow(KafkaDecodeError);
  });
});
