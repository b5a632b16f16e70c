import { decodeApiVersionsRequest, encodeApiVersionsRequest } from '../../proxy/kafka/api-versions-request.ts';
import { decodeApiVersionsResponse, encodeApiVersionsResponse, readApiVersionsResponse } from '../../proxy/kafka/api-versions-response.ts';
import { decodeDescribeClusterRequest, encodeDescribeClusterRequest } from '../../proxy/kafka/describe-cluster-request.ts';
import { decodeDescribeClusterResponse, encodeDescribeClusterResponse } from '../../proxy/kafka/describe-cluster-response.ts';
import { decodeFetchRequestV0, decodeFetchResponseV0, encodeFetchRequestV0, encodeFetchResponseV0 } from '../../proxy/kafka/fetch-v0.ts';
import { decodeFindCoordinatorRequest, encodeFindCoordinatorRequest } from '../../proxy/kafka/find-coordinator-request.ts';
import { decodeFindCoordinatorResponse, encodeFindCoordinatorResponse } from '../../proxy/kafka/find-coordinator-response.ts';
import { decodeRequestHeader, decodeResponseHeader, encodeRequestHeader, encodeResponseHeader } from '../../proxy/kafka/headers.ts';
import { decodeListOffsetsRequestV0, decodeListOffsetsResponseV0, encodeListOffsetsRequestV0, encodeListOffsetsResponseV0 } from '../../proxy/kafka/list-offsets-v0.ts';
import { decodeMessageSetV0, encodeMessageSetV0 } from '../../proxy/kafka/message-set-v0.ts';
import { decodeMetadataRequest, encodeMetadataRequest } from '../../proxy/kafka/metadata-request.ts';
import { decodeMetadataResponse, encodeMetadataResponse, type MetadataResponse } from '../../proxy/kafka/metadata-response.ts';
import { decodeProduceRequestV0, decodeProduceResponseV0, encodeProduceRequestV0, encodeProduceResponseV0 } from '../../proxy/kafka/produce-v0.ts';
import type { Reader } from '../../proxy/kafka/reader.ts';
import { Writer } from '../../proxy/kafka/writer.ts';

/**
 * Every decoder of the codec with the versions it claims, and one valid body
 * per version built with the matching encoder. The fuzz tests feed decoders
 * random bytes and mutations of these bodies: mutating something valid reaches
 * the deep fields that random bytes almost never get past the first length of.
 */

const TAGS = [{ tag: 3, data: Buffer.from([7, 7]) }];
const messageSet = encodeMessageSetV0([
  { key: null, value: Buffer.from('value one') },
  { key: Buffer.from('k'), value: null },
]);

export function metadataSample(): MetadataResponse {
  return {
    throttleTimeMs: 5,
    brokers: [
      { nodeId: 1, host: 'broker-1.example', port: 9092, rack: 'r1', taggedFields: TAGS },
      { nodeId: 2, host: 'broker-2.example', port: 9093, rack: null },
    ],
    clusterId: 'cluster',
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        name: 'orders',
        topicId: Buffer.alloc(16, 9),
        isInternal: false,
        partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 3, replicaNodes: [1, 2], isrNodes: [1], offlineReplicas: [2] }],
        topicAuthorizedOperations: 0,
      },
    ],
    clusterAuthorizedOperations: 0,
    taggedFields: TAGS,
  };
}

export interface CodecCase {
  name: string;
  versions: number[];
  decode(version: number, r: Reader): unknown;
  /** A valid body for `version`. */
  sample(version: number): Buffer;
  /** The decoder checks the version it is given (the versioned messages, not headers or v0-only types). */
  checksVersion?: boolean;
}

const range = (max: number) => [...Array(max + 1).keys()];
const encoded = (write: (w: Writer) => void): Buffer => {
  const w = new Writer();
  write(w);
  return Buffer.from(w.toBuffer());
};

export const CODEC_CASES: CodecCase[] = [
  {
    name: 'Metadata response',
    checksVersion: true,
    versions: range(12),
    decode: decodeMetadataResponse,
    sample: (v) => encoded((w) => encodeMetadataResponse(v, metadataSample(), w)),
  },
  {
    name: 'Metadata request',
    checksVersion: true,
    versions: range(12),
    decode: decodeMetadataRequest,
    sample: (v) =>
      encoded((w) =>
        encodeMetadataRequest(v, { topics: [{ name: 'orders', topicId: Buffer.alloc(16, 1), taggedFields: TAGS }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true, taggedFields: TAGS }, w),
      ),
  },
  {
    name: 'FindCoordinator response',
    checksVersion: true,
    versions: range(6),
    decode: decodeFindCoordinatorResponse,
    sample: (v) =>
      encoded((w) =>
        encodeFindCoordinatorResponse(
          v,
          {
            throttleTimeMs: 1,
            coordinators: [{ key: 'group', nodeId: 1, host: 'broker-1.example', port: 9092, errorCode: 0, errorMessage: v >= 1 ? 'fine' : null, taggedFields: TAGS }],
            taggedFields: TAGS,
          },
          w,
        ),
      ),
  },
  {
    name: 'FindCoordinator request',
    checksVersion: true,
    versions: range(6),
    decode: decodeFindCoordinatorRequest,
    sample: (v) => encoded((w) => encodeFindCoordinatorRequest(v, { keyType: 0, keys: ['group'], taggedFields: TAGS }, w)),
  },
  {
    name: 'DescribeCluster response',
    checksVersion: true,
    versions: range(1),
    decode: decodeDescribeClusterResponse,
    sample: (v) =>
      encoded((w) =>
        encodeDescribeClusterResponse(
          v,
          {
            throttleTimeMs: 0,
            errorCode: 0,
            errorMessage: null,
            endpointType: 1,
            clusterId: 'cluster',
            controllerId: 1,
            brokers: [{ brokerId: 1, host: 'broker-1.example', port: 9092, rack: 'r', taggedFields: TAGS }],
            clusterAuthorizedOperations: 0,
            taggedFields: TAGS,
          },
          w,
        ),
      ),
  },
  {
    name: 'DescribeCluster request',
    checksVersion: true,
    versions: range(1),
    decode: decodeDescribeClusterRequest,
    sample: (v) => encoded((w) => encodeDescribeClusterRequest(v, { includeClusterAuthorizedOperations: true, endpointType: 1, taggedFields: TAGS }, w)),
  },
  {
    name: 'ApiVersions response',
    checksVersion: true,
    versions: range(4),
    decode: decodeApiVersionsResponse,
    sample: (v) =>
      encoded((w) =>
        encodeApiVersionsResponse(v, { errorCode: 0, apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 9 }, { apiKey: 3, minVersion: 0, maxVersion: 12, taggedFields: TAGS }], throttleTimeMs: 0 }, w),
      ),
  },
  {
    name: 'ApiVersions response, either layout',
    versions: range(4),
    decode: (v, r) => readApiVersionsResponse(v, r),
    sample: (v) => encoded((w) => encodeApiVersionsResponse(v, { errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] }, w)),
  },
  {
    name: 'ApiVersions request',
    checksVersion: true,
    versions: range(4),
    decode: decodeApiVersionsRequest,
    sample: (v) => encoded((w) => encodeApiVersionsRequest(v, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1.0', taggedFields: TAGS }, w)),
  },
  {
    name: 'Request header',
    versions: [0, 1, 2],
    decode: (v, r) => decodeRequestHeader(r, v as 0 | 1 | 2),
    sample: (v) => encoded((w) => encodeRequestHeader({ apiKey: 3, apiVersion: 12, correlationId: 42, clientId: 'client', taggedFields: TAGS }, w, v as 0 | 1 | 2)),
  },
  {
    name: 'Request header, version from its API key',
    versions: [0],
    decode: (_v, r) => decodeRequestHeader(r),
    sample: () => encoded((w) => encodeRequestHeader({ apiKey: 3, apiVersion: 12, correlationId: 42, clientId: 'client', taggedFields: TAGS }, w)),
  },
  {
    name: 'Response header',
    versions: [0, 1],
    decode: (v, r) => decodeResponseHeader(r, v as 0 | 1),
    sample: (v) => encoded((w) => encodeResponseHeader({ correlationId: 42, taggedFields: TAGS }, w, v as 0 | 1)),
  },
  {
    name: 'Produce v0 request',
    versions: [0],
    decode: (_v, r) => decodeProduceRequestV0(r),
    sample: () => encoded((w) => encodeProduceRequestV0({ acks: 1, timeoutMs: 1000, topics: [{ topic: 'orders', partitions: [{ partition: 0, messageSet }] }] }, w)),
  },
  {
    name: 'Produce v0 response',
    versions: [0],
    decode: (_v, r) => decodeProduceResponseV0(r),
    sample: () => encoded((w) => encodeProduceResponseV0({ topics: [{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0, baseOffset: 5n }] }] }, w)),
  },
  {
    name: 'Fetch v0 request',
    versions: [0],
    decode: (_v, r) => decodeFetchRequestV0(r),
    sample: () =>
      encoded((w) => encodeFetchRequestV0({ replicaId: -1, maxWaitMs: 100, minBytes: 1, topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: 0n, maxBytes: 1024 }] }] }, w)),
  },
  {
    name: 'Fetch v0 response',
    versions: [0],
    decode: (_v, r) => decodeFetchResponseV0(r),
    sample: () => encoded((w) => encodeFetchResponseV0({ topics: [{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0, highWatermark: 2n, messageSet }] }] }, w)),
  },
  {
    name: 'ListOffsets v0 request',
    versions: [0],
    decode: (_v, r) => decodeListOffsetsRequestV0(r),
    sample: () => encoded((w) => encodeListOffsetsRequestV0({ replicaId: -1, topics: [{ topic: 'orders', partitions: [{ partition: 0, timestamp: -1n, maxNumOffsets: 1 }] }] }, w)),
  },
  {
    name: 'ListOffsets v0 response',
    versions: [0],
    decode: (_v, r) => decodeListOffsetsResponseV0(r),
    sample: () => encoded((w) => encodeListOffsetsResponseV0({ topics: [{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0, offsets: [2n, 0n] }] }] }, w)),
  },
  {
    name: 'Message set v0',
    versions: [0],
    decode: (_v, r) => decodeMessageSetV0(r.buffer.subarray(r.offset)),
    sample: () => Buffer.from(messageSet),
  },
];
