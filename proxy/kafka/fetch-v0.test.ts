import { describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from './api-keys.ts';
import { KafkaDecodeError } from './errors.ts';
import {
  decodeFetchRequestV0,
  decodeFetchResponseV0,
  encodeFetchRequestV0,
  encodeFetchResponseV0,
  type FetchRequestV0,
  type FetchResponseV0,
} from './fetch-v0.ts';
import { decodeRequestHeader, frameReader } from './headers.ts';
import { kafkaJsDecode, kafkaJsParse, kafkaJsRequestFrame } from './kafkajs-oracle.ts';
import { encodeMessageSetV0 } from './message-set-v0.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

const REQUEST: FetchRequestV0 = {
  replicaId: -1,
  maxWaitMs: 500,
  minBytes: 1,
  topics: [
    {
      topic: 'events',
      partitions: [
        { partition: 0, fetchOffset: 0n, maxBytes: 1048576 },
        { partition: 2, fetchOffset: 9007199254740993n, maxBytes: 10 },
      ],
    },
  ],
};

const MESSAGES = encodeMessageSetV0([
  { offset: 5n, key: Buffer.from('k5'), value: Buffer.from('five') },
  { offset: 6n, key: null, value: Buffer.from('six') },
]);

const RESPONSE: FetchResponseV0 = {
  topics: [
    {
      topic: 'events',
      partitions: [
        { partition: 0, errorCode: ErrorCode.None, highWatermark: 7n, messageSet: MESSAGES },
        { partition: 2, errorCode: ErrorCode.OffsetOutOfRange, highWatermark: 3n, messageSet: Buffer.alloc(0) },
      ],
    },
  ],
};

const encode = <T>(fn: (d: T, w: Writer) => Writer, data: T) => Buffer.from(fn(data, new Writer()).toBuffer());

describe('Fetch v0', () => {
  it('round-trips a request, 64-bit offsets included', () => {
    const r = new Reader(encode(encodeFetchRequestV0, REQUEST));
    expect(decodeFetchRequestV0(r)).toEqual(REQUEST);
    expect(r.remaining).toBe(0);
  });

  it('round-trips a response with a non-zero error code', () => {
    expect(decodeFetchResponseV0(new Reader(encode(encodeFetchResponseV0, RESPONSE)))).toEqual(RESPONSE);
  });

  it('throws KafkaDecodeError on truncated bytes', () => {
    const request = encode(encodeFetchRequestV0, REQUEST);
    const response = encode(encodeFetchResponseV0, RESPONSE);
    for (let cut = 0; cut < request.length; cut++) {
      expect(() => decodeFetchRequestV0(new Reader(request.subarray(0, cut)))).toThrow(KafkaDecodeError);
    }
    for (let cut = 0; cut < response.length; cut++) {
      expect(() => decodeFetchResponseV0(new Reader(response.subarray(0, cut)))).toThrow(KafkaDecodeError);
    }
  });

  it('decodes the request KafkaJS sends', async () => {
    const frame = await kafkaJsRequestFrame(
      'fetch',
      0,
      {
        replicaId: -1,
        maxWaitTime: 250,
        minBytes: 1,
        topics: [{ topic: 'events', partitions: [{ partition: 1, fetchOffset: '12', maxBytes: 2048 }] }],
      },
      { correlationId: 99, clientId: 'oracle' },
    );
    const r = frameReader(frame);
    expect(decodeRequestHeader(r)).toMatchObject({ apiKey: ApiKey.Fetch, apiVersion: 0, correlationId: 99 });
    expect(decodeFetchRequestV0(r)).toEqual({
      replicaId: -1,
      maxWaitMs: 250,
      minBytes: 1,
      topics: [{ topic: 'events', partitions: [{ partition: 1, fetchOffset: 12n, maxBytes: 2048 }] }],
    });
    expect(r.remaining).toBe(0);
  });

  it('encodes a response KafkaJS decodes, messages included, and KafkaJS raises our error code', async () => {
    const decoded = (await kafkaJsDecode('fetch', 0, encode(encodeFetchResponseV0, RESPONSE))) as {
      responses: { topicName: string; partitions: { partition: number; errorCode: number; highWatermark: string; messages: { offset: string; key: Buffer | null; value: Buffer }[] }[] }[];
    };
    const [topic] = decoded.responses;
    expect(topic.topicName).toBe('events');
    expect(topic.partitions.map((p) => [p.partition, p.errorCode, p.highWatermark])).toEqual([
      [0, 0, '7'],
      [2, 1, '3'],
    ]);
    expect(topic.partitions[0].messages.map((m) => [m.offset, m.key?.toString() ?? null, m.value.toString()])).toEqual([
      ['5', 'k5', 'five'],
      ['6', null, 'six'],
    ]);
    await expect(kafkaJsParse('fetch', 0, encode(encodeFetchResponseV0, RESPONSE))).rejects.toMatchObject({
      type: 'OFFSET_OUT_OF_RANGE',
    });
  });

  it('hands KafkaJS a message set ending in a partial message, which it skips', async () => {
    const cut: FetchResponseV0 = {
      topics: [{ topic: 'events', partitions: [{ partition: 0, errorCode: 0, highWatermark: 7n, messageSet: MESSAGES.subarray(0, MESSAGES.length - 4) }] }],
    };
    const decoded = (await kafkaJsDecode('fetch', 0, encode(encodeFetchResponseV0, cut))) as {
      responses: { partitions: { messages: { offset: string }[] }[] }[];
    };
    expect(decoded.responses[0].partitions[0].messages.map((m) => m.offset)).toEqual(['5']);
  });
});
