import { describe, expect, it } from 'vitest';
import { ErrorCode } from './api-keys.ts';
import { KafkaDecodeError } from './errors.ts';
import { kafkaJsDecode, kafkaJsParse } from './kafkajs-oracle.ts';
import {
  decodeMetadataResponse,
  encodeMetadataResponse,
  METADATA_RESPONSE_MAX_VERSION,
  metadataErrorCode,
  type MetadataResponse,
} from './metadata-response.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

const VERSIONS = Array.from({ length: METADATA_RESPONSE_MAX_VERSION + 1 }, (_, v) => v);

/** A response using every field; `forVersion` strips what a version cannot carry. */
function sample(): MetadataResponse {
  return {
    throttleTimeMs: 15,
    brokers: [
      { nodeId: 1, host: 'b1.example', port: 9092, rack: 'r1', taggedFields: [] },
      { nodeId: 2, host: 'b2.example', port: 9093, rack: null, taggedFields: [{ tag: 4, data: Buffer.from([9]) }] },
    ],
    clusterId: 'cluster-x',
    controllerId: 2,
    topics: [
      {
        errorCode: 0,
        name: 'orders',
        topicId: Buffer.alloc(16, 3),
        isInternal: true,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: 4,
            replicaNodes: [1, 2],
            isrNodes: [1],
            offlineReplicas: [2],
            taggedFields: [],
          },
          {
            errorCode: ErrorCode.LeaderNotAvailable,
            partitionIndex: 1,
            leaderId: -1,
            leaderEpoch: 5,
            replicaNodes: [],
            isrNodes: [],
            offlineReplicas: [],
            taggedFields: [],
          },
        ],
        topicAuthorizedOperations: 248,
        taggedFields: [],
      },
      {
        errorCode: ErrorCode.UnknownTopicOrPartition,
        name: 'missing',
        topicId: Buffer.alloc(16),
        isInternal: false,
        partitions: [],
        topicAuthorizedOperations: -2147483648,
        taggedFields: [],
      },
    ],
    clusterAuthorizedOperations: 7,
    taggedFields: [{ tag: 0, data: Buffer.from('extra') }],
  };
}

function forVersion(v: number, d: MetadataResponse): MetadataResponse {
  const flex = v >= 9;
  const tags = <T extends { taggedFields?: unknown }>(x: T): T => (flex ? x : { ...x, taggedFields: [] });
  return tags({
    throttleTimeMs: v >= 3 ? d.throttleTimeMs : 0,
    brokers: d.brokers.map((b) => tags({ ...b, rack: v >= 1 ? b.rack : null })),
    clusterId: v >= 2 ? d.clusterId : null,
    controllerId: v >= 1 ? d.controllerId : -1,
    topics: d.topics.map((t) =>
      tags({
        ...t,
        topicId: v >= 10 ? t.topicId : Buffer.alloc(16),
        isInternal: v >= 1 ? t.isInternal : false,
        topicAuthorizedOperations: v >= 8 ? t.topicAuthorizedOperations : -2147483648,
        partitions: t.partitions.map((p) =>
          tags({ ...p, leaderEpoch: v >= 7 ? p.leaderEpoch : -1, offlineReplicas: v >= 5 ? p.offlineReplicas : [] }),
        ),
      }),
    ),
    clusterAuthorizedOperations: v >= 8 && v <= 10 ? d.clusterAuthorizedOperations : -2147483648,
    taggedFields: d.taggedFields,
  });
}

function encode(version: number, data: MetadataResponse): Buffer {
  return encodeMetadataResponse(version, data, new Writer()).toBuffer();
}

describe('Metadata response', () => {
  it.each(VERSIONS)('round-trips v%i, keeping what the version carries', (version) => {
    const r = new Reader(encode(version, sample()));
    const decoded = decodeMetadataResponse(version, r);
    expect(r.remaining).toBe(0);
    expect(decoded).toEqual(forVersion(version, sample()));
  });

  it.each(VERSIONS)('re-encodes v%i byte for byte', (version) => {
    const bytes = encode(version, sample());
    expect(encode(version, decodeMetadataResponse(version, new Reader(bytes)))).toEqual(bytes);
  });

  it('finds the first error code among topics and partitions', () => {
    const data = sample();
    expect(metadataErrorCode(data)).toBe(ErrorCode.LeaderNotAvailable);
    expect(metadataErrorCode({ brokers: [], topics: [] })).toBe(0);
  });

  it.each([0, 1, 2, 3, 4, 5, 6])('is decoded by KafkaJS v%i to the same values', async (version) => {
    const data = sample();
    const kjs = await kafkaJsDecode('metadata', version, encode(version, data));
    const brokers = kjs.brokers as { nodeId: number; host: string; port: number; rack?: string | null }[];
    expect(brokers.map((b) => [b.nodeId, b.host, b.port])).toEqual([
      [1, 'b1.example', 9092],
      [2, 'b2.example', 9093],
    ]);
    if (version >= 1) expect(brokers.map((b) => b.rack)).toEqual(['r1', null]);
    if (version >= 1) expect(kjs.controllerId).toBe(2);
    if (version >= 2) expect(kjs.clusterId).toBe('cluster-x');
    const topics = kjs.topicMetadata as { topicErrorCode: number; topic: string; partitionMetadata: Record<string, unknown>[] }[];
    expect(topics.map((t) => [t.topicErrorCode, t.topic])).toEqual([
      [0, 'orders'],
      [ErrorCode.UnknownTopicOrPartition, 'missing'],
    ]);
    expect(topics[0].partitionMetadata[0]).toMatchObject({ partitionErrorCode: 0, partitionId: 0, leader: 1, replicas: [1, 2], isr: [1] });
    if (version >= 5) expect(topics[0].partitionMetadata[0].offlineReplicas).toEqual([2]);
    expect(topics[0].partitionMetadata[1].partitionErrorCode).toBe(ErrorCode.LeaderNotAvailable);
  });

  it('carries error codes KafkaJS turns into errors', async () => {
    const data: MetadataResponse = { brokers: [], topics: [{ errorCode: ErrorCode.UnknownTopicOrPartition, name: 'x', partitions: [] }] };
    await expect(kafkaJsParse('metadata', 0, encode(0, data))).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    const ok: MetadataResponse = { brokers: [{ nodeId: 0, host: 'h', port: 1 }], topics: [] };
    await expect(kafkaJsParse('metadata', 0, encode(0, ok))).resolves.toMatchObject({ brokers: [{ host: 'h' }] });
  });

  it.each([0, 9, 12])('reports truncated v%i input with a coded error at every cut', (version) => {
    const bytes = encode(version, sample());
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodeMetadataResponse(version, new Reader(bytes.subarray(0, cut)))).toThrow(KafkaDecodeError);
    }
  });
});
