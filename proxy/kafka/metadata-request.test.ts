import { describe, expect, it } from 'vitest';
import { KafkaDecodeError } from './errors.ts';
import { decodeRequestHeader, frameReader } from './headers.ts';
import { kafkaJsRequestFrame } from './kafkajs-oracle.ts';
import { decodeMetadataRequest, encodeMetadataRequest, METADATA_REQUEST_MAX_VERSION, type MetadataRequest } from './metadata-request.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

const VERSIONS = Array.from({ length: METADATA_REQUEST_MAX_VERSION + 1 }, (_, v) => v);

function roundTrip(version: number, data: MetadataRequest) {
  const bytes = encodeMetadataRequest(version, data, new Writer()).toBuffer();
  const r = new Reader(bytes);
  const decoded = decodeMetadataRequest(version, r);
  expect(r.remaining).toBe(0);
  return decoded;
}

describe('Metadata request', () => {
  it.each(VERSIONS)('round-trips v%i with named topics', (version) => {
    const topicId = Buffer.alloc(16, 7);
    const decoded = roundTrip(version, {
      topics: [{ name: 'orders', topicId, taggedFields: version >= 9 ? [{ tag: 1, data: Buffer.from([5]) }] : [] }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: true,
      includeTopicAuthorizedOperations: true,
    });
    expect(decoded.topics?.map((t) => t.name)).toEqual(['orders']);
    expect(decoded.topics?.[0].topicId).toEqual(version >= 10 ? topicId : Buffer.alloc(16));
    expect(decoded.topics?.[0].taggedFields?.length).toBe(version >= 9 ? 1 : 0);
    // Fields a version lacks fall back to Kafka's defaults.
    expect(decoded.allowAutoTopicCreation).toBe(version >= 4 ? false : true);
    expect(decoded.includeClusterAuthorizedOperations).toBe(version >= 8 && version <= 10);
    expect(decoded.includeTopicAuthorizedOperations).toBe(version >= 8);
  });

  it.each(VERSIONS)('round-trips v%i asking for all topics', (version) => {
    expect(roundTrip(version, { topics: null }).topics).toBeNull();
  });

  it('writes "all topics" as an empty array in v0 and as null from v1', () => {
    expect([...encodeMetadataRequest(0, { topics: null }, new Writer()).toBuffer()]).toEqual([0, 0, 0, 0]);
    expect([...encodeMetadataRequest(1, { topics: null }, new Writer()).toBuffer()]).toEqual([0xff, 0xff, 0xff, 0xff]);
    // v9: compact null array (0), auto-create (1), two authorized-operations flags, no tags.
    expect([...encodeMetadataRequest(9, { topics: null }, new Writer()).toBuffer()]).toEqual([0, 1, 0, 0, 0]);
  });

  it('keeps an empty topic list ("none") from v1 on', () => {
    expect(roundTrip(1, { topics: [] }).topics).toEqual([]);
  });

  it.each([0, 1, 2, 3, 4, 5, 6])('reads the v%i requests KafkaJS writes', async (version) => {
    const frame = await kafkaJsRequestFrame('metadata', version, { topics: ['a', 'bb'], allowAutoTopicCreation: false }, {
      correlationId: 3,
      clientId: 'kjs',
    });
    const r = frameReader(frame);
    decodeRequestHeader(r);
    const decoded = decodeMetadataRequest(version, r);
    expect(r.remaining).toBe(0);
    expect(decoded.topics?.map((t) => t.name)).toEqual(['a', 'bb']);
    if (version >= 4) expect(decoded.allowAutoTopicCreation).toBe(false);
  });

  it('reports truncated input with a coded error', () => {
    const bytes = encodeMetadataRequest(9, { topics: [{ name: 'orders' }] }, new Writer()).toBuffer();
    expect(() => decodeMetadataRequest(9, new Reader(bytes.subarray(0, bytes.length - 3)))).toThrow(KafkaDecodeError);
  });

  it('refuses a version it does not implement', () => {
    expect(() => decodeMetadataRequest(13, new Reader(Buffer.alloc(8)))).toThrow(
      expect.objectContaining({ code: 'KAFKA_UNSUPPORTED_VERSION' }),
    );
  });
});
